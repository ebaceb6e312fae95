//! The Argo CD health check in `argocd/appconfig.operators.dev/_/`, run under PUC Lua 5.1 the way
//! Argo CD runs it: in the sandbox argocd-cm overrides get (base, package, table and
//! `require("os")` with `time`/`date` only) and with every library open (built-in checks),
//! against the cases in `health_test.yaml` (Argo CD's own test format), with Argo CD's handling of
//! the returned table.

#[path = "support/argocd_lua.rs"]
mod argocd_lua;

use std::path::{Path, PathBuf};

use argocd_lua::{EVERY_LIBRARIES, GROUP, Libraries, actions_snippet, indented, object, read};
use mlua::LuaSerdeExt;
use serde::Deserialize;
use serde_json::{Value, json};

/// Every kind of the group; the one script serves them all.
const KINDS: [&str; 2] = ["AppConfigDeployment", "AppConfigSync"];
/// The health statuses Argo CD accepts from a script (`isValidHealthStatusCode`).
const VALID_STATUSES: [&str; 6] = [
    "Healthy",
    "Progressing",
    "Degraded",
    "Suspended",
    "Missing",
    "Unknown",
];
/// Every Ready reason an AppConfigDeployment reports (the contract's conditions table), and
/// every one an AppConfigSync reports: each has a case of its kind.
const DEPLOYMENT_REASONS: [&str; 13] = [
    "Deployed",
    "Deploying",
    "Baking",
    "Validating",
    "Superseding",
    "WaitingForEnvironment",
    "RetryingAwsError",
    "RolledBack",
    "Reverted",
    "NotFound",
    "AccessDenied",
    "InvalidRequest",
    "Suspended",
];
const SYNC_REASONS: [&str; 9] = [
    "Synced",
    "RetryingAwsError",
    "WaitingForGarbageCollection",
    "TargetConflict",
    "TooLarge",
    "TargetRejected",
    "NotFound",
    "AccessDenied",
    "InvalidRequest",
];

/// Argo CD's `HealthStatus`: an absent message is the empty string.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
struct Health {
    #[serde(default)]
    status: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    health_status: Health,
    input_path: String,
}

#[derive(Debug, Deserialize)]
struct Cases {
    tests: Vec<Case>,
}

fn check_dir() -> PathBuf {
    argocd_lua::group_dir("_")
}

fn script() -> String {
    read(&check_dir().join("health.lua"))
}

fn cases() -> Vec<Case> {
    let text = read(&check_dir().join("health_test.yaml"));
    serde_saphyr::from_str::<Cases>(&text)
        .expect("health_test.yaml is in Argo CD's test format")
        .tests
}

/// Runs `script` on `obj` and reads the result as Argo CD's `ExecuteHealthLua` does.
fn run(script: &str, obj: &Value, libraries: Libraries) -> mlua::Result<Health> {
    let (lua, returned) = argocd_lua::eval(script, obj, libraries)?;
    let table = match returned {
        mlua::Value::Nil => return Ok(Health::default()),
        mlua::Value::Table(table) => table,
        other => {
            return Err(mlua::Error::runtime(format!(
                "expect table output from health Lua script, not {}",
                other.type_name()
            )));
        }
    };
    let health: Health = lua.from_value(mlua::Value::Table(table))?;
    if !health.status.is_empty() && !VALID_STATUSES.contains(&health.status.as_str()) {
        return Ok(Health {
            status: "Unknown".into(),
            message: "Lua returned an invalid health status".into(),
        });
    }
    Ok(health)
}

fn run_every_case(libraries: Libraries) {
    let script = script();
    let cases = cases();
    assert!(!cases.is_empty());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let obj = object(&check_dir(), &case.input_path);
            match run(&script, &obj, libraries) {
                Ok(health) if health == case.health_status => None,
                Ok(health) => Some(format!(
                    "{}: expected {:?}, got {:?}",
                    case.input_path, case.health_status, health
                )),
                Err(e) => Some(format!("{}: the script failed: {e}", case.input_path)),
            }
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed in {libraries:?} mode:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_case_passes_in_argo_cd_sandbox() {
    run_every_case(Libraries::Sandbox);
}

#[test]
fn every_case_passes_with_open_libraries() {
    run_every_case(Libraries::Open);
}

#[test]
fn the_sandbox_has_no_string_library_and_no_global_os() {
    let obj = json!({"metadata": {"name": "x"}});
    let uses_string = "return { status = string.upper('healthy') }";
    let uses_string_method = "return { status = ('Healthy'):sub(1) }";
    for script in [uses_string, uses_string_method] {
        assert!(
            run(script, &obj, Libraries::Sandbox).is_err(),
            "{script} ran in the sandbox"
        );
    }
    assert_eq!(
        run(uses_string_method, &obj, Libraries::Open)
            .unwrap()
            .status,
        "Healthy"
    );
    let uses_math = "return { status = 'Healthy', message = tostring(math.floor(1.5)) }";
    assert!(run(uses_math, &obj, Libraries::Sandbox).is_err());
    // Argo CD's safe os (time and date only) is a module to require, not a global.
    let uses_os_time = "return { status = 'Healthy', message = type(os.time()) }";
    assert!(run(uses_os_time, &obj, Libraries::Sandbox).is_err());
    let requires_os = "local os = require('os')
        return { status = 'Healthy', message = type(os.time()) .. ' ' .. type(os.date) .. ' ' .. type(os.getenv) }";
    assert_eq!(
        run(requires_os, &obj, Libraries::Sandbox).unwrap().message,
        "number function nil"
    );
}

#[test]
fn results_are_read_as_argo_cd_reads_them() {
    let obj = json!({"metadata": {"name": "x"}});
    for libraries in EVERY_LIBRARIES {
        assert_eq!(
            run("return { status = 'Fine' }", &obj, libraries).unwrap(),
            Health {
                status: "Unknown".into(),
                message: "Lua returned an invalid health status".into()
            }
        );
        assert_eq!(
            run("return nil", &obj, libraries).unwrap(),
            Health::default()
        );
        assert_eq!(
            run("return {}", &obj, libraries).unwrap(),
            Health::default()
        );
        assert!(run("return 'Healthy'", &obj, libraries).is_err());
    }
}

#[test]
fn null_fields_are_absent_and_numbers_compare() {
    let obj = json!({
        "apiVersion": format!("{GROUP}/v1alpha1"),
        "kind": "AppConfigDeployment",
        "metadata": {"name": "x", "namespace": "shop", "generation": 2},
        "spec": {"suspend": null},
        "status": null,
    });
    let health = run(&script(), &obj, Libraries::Sandbox).unwrap();
    assert_eq!(health.status, "Progressing");
    assert_eq!(
        health.message,
        "Waiting for the operator to report a status"
    );
}

#[test]
fn the_cases_cover_every_row_of_the_conditions_table() {
    for (kind, expected) in [
        ("AppConfigDeployment", &DEPLOYMENT_REASONS[..]),
        ("AppConfigSync", &SYNC_REASONS[..]),
    ] {
        let reasons: Vec<String> = cases()
            .iter()
            .map(|case| object(&check_dir(), &case.input_path))
            .filter(|obj| obj["kind"] == kind)
            .flat_map(|obj| {
                obj["status"]["conditions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|condition| condition["type"] == "Ready")
            .filter_map(|condition| condition["reason"].as_str().map(str::to_owned))
            .collect();
        for reason in expected {
            assert!(
                reasons.iter().any(|r| r == reason),
                "no {kind} health case has a Ready condition with reason {reason}"
            );
        }
    }
}

#[test]
fn every_test_object_is_a_full_object_and_is_used() {
    let cases = cases();
    let paths: Vec<&str> = cases.iter().map(|case| case.input_path.as_str()).collect();
    argocd_lua::assert_full_objects_all_used(&check_dir(), "health_test.yaml", &paths, &KINDS);
    for kind in KINDS {
        assert!(
            paths
                .iter()
                .any(|path| object(&check_dir(), path)["kind"] == kind),
            "no case for {kind}"
        );
    }
}

/// The three ways users register the check, as the README shows them: one copy of the script,
/// shared by both kinds through a YAML anchor.
fn registration_snippets(script: &str) -> [(&'static str, String); 3] {
    let [first, second] = KINDS;
    let key = |kind: &str| format!("resource.customizations.health.{GROUP}_{kind}");
    [
        (
            "argocd-cm",
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n  \
                 labels:\n    app.kubernetes.io/part-of: argocd\ndata:\n  {}: &appconfig-health |\n{}\n  {}: *appconfig-health\n",
                key(first),
                indented(script, 4),
                key(second)
            ),
        ),
        (
            "argocd-operator",
            format!(
                "apiVersion: argoproj.io/v1beta1\nkind: ArgoCD\nmetadata:\n  name: argocd\n  namespace: argocd\n\
                 spec:\n  resourceHealthChecks:\n    - group: {GROUP}\n      kind: {first}\n      check: &appconfig-health |\n{}\n    \
                 - group: {GROUP}\n      kind: {second}\n      check: *appconfig-health\n",
                indented(script, 8)
            ),
        ),
        (
            "argo-helm",
            format!(
                "configs:\n  cm:\n    {}: &appconfig-health |\n{}\n    {}: *appconfig-health\n",
                key(first),
                indented(script, 6),
                key(second)
            ),
        ),
    ]
}

#[test]
fn the_readme_registers_the_shipped_scripts() {
    let readme = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"));
    let script = script();
    let actions = ("argocd-cm actions", actions_snippet());
    for (form, snippet) in registration_snippets(&script).into_iter().chain([actions]) {
        let block = format!("```yaml\n{snippet}```\n");
        assert!(
            readme.contains(&block),
            "the README's {form} snippet is not the shipped Lua; replace it with:\n{block}"
        );
    }
}

#[test]
fn the_snippets_are_yaml_that_holds_the_script_for_both_kinds() {
    let script = script();
    let [argocd_cm, argocd_operator, argo_helm] = registration_snippets(&script);
    let cm: Value = serde_saphyr::from_str(&argocd_cm.1).unwrap();
    let helm: Value = serde_saphyr::from_str(&argo_helm.1).unwrap();
    let operator: Value = serde_saphyr::from_str(&argocd_operator.1).unwrap();
    for kind in KINDS {
        let key = format!("resource.customizations.health.{GROUP}_{kind}");
        assert_eq!(cm["data"][&key], script.as_str(), "argocd-cm {key}");
        assert_eq!(
            helm["configs"]["cm"][&key],
            script.as_str(),
            "argo-helm {key}"
        );
        let check = operator["spec"]["resourceHealthChecks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == kind && c["group"] == GROUP)
            .unwrap_or_else(|| panic!("argocd-operator has no check for {kind}"));
        assert_eq!(check["check"], script.as_str());
    }
}
