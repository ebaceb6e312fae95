//! What the Argo CD tests share: the scripts and test files in `argocd/`, a PUC Lua 5.1
//! interpreter with the libraries Argo CD opens (`util/lua`'s `runLua`), objects handed to
//! scripts as Argo CD hands them, and the README's snippet that registers the actions.

use std::{
    fs,
    path::{Path, PathBuf},
};

use mlua::{Lua, LuaOptions, LuaSerdeExt, StdLib, serde::SerializeOptions};
use serde_json::Value;

pub const GROUP: &str = "appconfig.operators.dev";
/// The actions of an AppConfigDeployment, in the order the README defines them.
pub const ACTIONS: [&str; 3] = ["stop", "revert", "retry"];

/// `argocd/appconfig.operators.dev/<name>`: `_` holds the health check of every kind (Argo CD
/// reads `_` as `*` for health checks only), `AppConfigDeployment` that kind's actions.
pub fn group_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("argocd")
        .join(GROUP)
        .join(name)
}

pub fn actions_dir() -> PathBuf {
    group_dir("AppConfigDeployment").join("actions")
}

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The YAML file `path` names in `dir` (a test file's `inputPath` or `expectedOutputPath`).
pub fn object(dir: &Path, path: &str) -> Value {
    serde_saphyr::from_str(&read(&dir.join(path)))
        .unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

#[derive(Debug, Clone, Copy)]
pub enum Libraries {
    /// What Argo CD gives every action and action discovery, and health checks from `argocd-cm`
    /// unless `useOpenLibs` is set: base, package and table. Its safe `os` (`time` and `date`
    /// only) is reached through `require("os")` alone: `OpenSafeOs` registers its functions as
    /// the module `table`, which is loaded already, so no global `os` exists.
    Sandbox,
    /// What Argo CD's built-in health checks get, and its own tests of action discovery.
    Open,
}

pub const EVERY_LIBRARIES: [Libraries; 2] = [Libraries::Sandbox, Libraries::Open];

pub fn interpreter(libraries: Libraries) -> Lua {
    match libraries {
        Libraries::Open => Lua::new(),
        Libraries::Sandbox => {
            // The base library is always open.
            let lua = Lua::new_with(
                StdLib::PACKAGE | StdLib::TABLE | StdLib::OS,
                LuaOptions::default(),
            )
            .expect("a sandboxed Lua state");
            lua.load(
                "local time, date = os.time, os.date
                 os = nil
                 package.loaded.os = nil
                 package.preload.os = function() return { time = time, date = date } end",
            )
            .exec()
            .expect("os is reduced to require(\"os\").time and .date");
            lua
        }
    }
}

/// Runs `script` with the global `obj` set to `obj` and returns what it returns, with the
/// interpreter that holds it.
pub fn eval(script: &str, obj: &Value, libraries: Libraries) -> mlua::Result<(Lua, mlua::Value)> {
    let lua = interpreter(libraries);
    // As Argo CD decodes objects: JSON null is nil, arrays are 1-based tables, numbers are floats.
    let options = SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false)
        .set_array_metatable(false);
    lua.globals().set("obj", lua.to_value_with(obj, options)?)?;
    let returned = lua.load(script).eval()?;
    Ok((lua, returned))
}

/// Every object in `paths` (relative to `dir`) is a full object of one of `kinds`, and every file
/// in `dir/testdata` is one of `paths`.
pub fn assert_full_objects_all_used(dir: &Path, test_file: &str, paths: &[&str], kinds: &[&str]) {
    for path in paths {
        let obj = object(dir, path);
        assert_eq!(obj["apiVersion"], format!("{GROUP}/v1alpha1"), "{path}");
        let kind = obj["kind"].as_str().unwrap_or_default();
        assert!(kinds.contains(&kind), "{path}: kind {kind}");
        for field in [
            "name",
            "namespace",
            "uid",
            "generation",
            "creationTimestamp",
        ] {
            assert!(
                !obj["metadata"][field].is_null(),
                "{path}: metadata.{field} is missing"
            );
        }
    }
    for entry in fs::read_dir(dir.join("testdata")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let path = format!("testdata/{name}");
        assert!(
            paths.contains(&path.as_str()),
            "{path} is not used by {test_file}"
        );
    }
}

/// `text` with every non-empty line indented by `spaces`.
pub fn indented(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `argocd-cm` the README shows to register the actions: `discovery.lua` and one definition
/// per action, each script as shipped.
pub fn actions_snippet() -> String {
    let dir = actions_dir();
    let definitions: String = ACTIONS
        .iter()
        .map(|name| {
            let script = read(&dir.join(name).join("action.lua"));
            format!(
                "      - name: {name}\n        action.lua: |\n{}\n",
                indented(&script, 10)
            )
        })
        .collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n  \
         labels:\n    app.kubernetes.io/part-of: argocd\ndata:\n  \
         resource.customizations.actions.{GROUP}_AppConfigDeployment: |\n    discovery.lua: |\n{}\n    \
         definitions:\n{definitions}",
        indented(&read(&dir.join("discovery.lua")), 6)
    )
}
