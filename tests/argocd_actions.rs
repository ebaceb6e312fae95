//! The Argo CD resource actions of an AppConfigDeployment in
//! `argocd/appconfig.operators.dev/AppConfigDeployment/actions/`, run under PUC Lua 5.1 the way
//! Argo CD runs them: in its sandbox (base, package, table and `require("os")` with `time`/`date`
//! only, what the API server gives every action and discovery script) and with every library open
//! (how Argo CD's own tests run discovery), against the cases in `action_test.yaml` (Argo CD's own
//! test format), with Argo CD's handling of the returned tables.

#[path = "support/argocd_lua.rs"]
mod argocd_lua;

use std::fs;

use argocd_lua::{ACTIONS, EVERY_LIBRARIES, GROUP, Libraries, actions_dir, object, read};
use jiff::Timestamp;
use mlua::LuaSerdeExt;
use serde::Deserialize;
use serde_json::Value;

/// What an expected output holds where the action writes the time it ran: the value Argo CD's
/// own tests normalise such annotations to. The time itself is checked apart.
const PLACEHOLDER: &str = "0001-01-01T00:00:00Z";
const STATES: [&str; 7] = [
    "VALIDATING",
    "DEPLOYING",
    "BAKING",
    "ROLLING_BACK",
    "COMPLETE",
    "ROLLED_BACK",
    "REVERTED",
];

/// Argo CD's `ResourceAction` (without `params`, which these actions have none of).
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResourceAction {
    name: String,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    icon_class: String,
    #[serde(default)]
    display_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DiscoveryTest {
    input_path: String,
    result: Vec<ResourceAction>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ActionTest {
    action: String,
    input_path: String,
    expected_output_path: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ActionTests {
    discovery_tests: Vec<DiscoveryTest>,
    action_tests: Vec<ActionTest>,
}

/// Argo CD's `ResourceActions`, the value of `resource.customizations.actions.<group_kind>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceActions {
    #[serde(rename = "discovery.lua")]
    discovery_lua: String,
    definitions: Vec<ResourceActionDefinition>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceActionDefinition {
    name: String,
    #[serde(rename = "action.lua")]
    action_lua: String,
}

fn tests() -> ActionTests {
    serde_saphyr::from_str(&read(&actions_dir().join("action_test.yaml")))
        .expect("action_test.yaml is in Argo CD's test format")
}

fn discovery_script() -> String {
    read(&actions_dir().join("discovery.lua"))
}

fn action_script(action: &str) -> String {
    read(&actions_dir().join(action).join("action.lua"))
}

fn annotation(action: &str) -> String {
    format!("{GROUP}/{action}-requested-at")
}

/// `value` with every number a float: Lua 5.1 has no integers, and Argo CD compares objects
/// regardless of how a number is written.
fn floats(value: Value) -> Value {
    match value {
        Value::Number(n) => n.as_f64().map_or(Value::Number(n), Value::from),
        Value::Array(items) => Value::Array(items.into_iter().map(floats).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, value)| (key, floats(value)))
                .collect(),
        ),
        other => other,
    }
}

/// Runs `script` on `obj` and returns the table it returns, as JSON.
fn run(script: &str, obj: &Value, libraries: Libraries) -> Result<Value, String> {
    let (lua, returned) = argocd_lua::eval(script, obj, libraries).map_err(|e| e.to_string())?;
    if !returned.is_table() {
        return Err(format!(
            "expect table output from Lua script, not {}",
            returned.type_name()
        ));
    }
    lua.from_value(returned).map_err(|e| e.to_string())
}

fn text(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// Runs `discovery.lua` and reads its table as Argo CD's `ExecuteResourceActionDiscovery` does
/// (an empty table is no action, an empty entry an enabled action), sorted by name.
fn discover(
    script: &str,
    obj: &Value,
    libraries: Libraries,
) -> Result<Vec<ResourceAction>, String> {
    let mut actions = match run(script, obj, libraries)? {
        Value::Array(items) if items.is_empty() => Vec::new(),
        Value::Object(entries) => entries
            .into_iter()
            .map(|(name, entry)| match entry {
                Value::Object(fields) => Ok(ResourceAction {
                    disabled: fields.get("disabled").and_then(Value::as_bool) == Some(true),
                    icon_class: text(fields.get("iconClass")),
                    display_name: text(fields.get("displayName")),
                    name,
                }),
                Value::Array(items) if items.is_empty() => Ok(ResourceAction {
                    name,
                    ..ResourceAction::default()
                }),
                other => Err(format!("action {name} is {other}, not a table")),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(format!(
                "discovery returned {other}, not a table of actions"
            ));
        }
    };
    actions.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(actions)
}

/// Runs an action script on `case`'s input and checks what it returns against the expected
/// output: the annotation of the action must hold the time it ran (a second of slack before it), in RFC 3339 UTC to the second,
/// where the expected output holds the placeholder; everything else must be equal.
fn check_action(script: &str, case: &ActionTest, libraries: Libraries) -> Result<(), String> {
    let dir = actions_dir();
    let input = object(&dir, &case.input_path);
    let expected = floats(object(&dir, &case.expected_output_path));
    let key = annotation(&case.action);
    if expected["metadata"]["annotations"][&key] != PLACEHOLDER {
        return Err(format!(
            "{} must hold {key}: '{PLACEHOLDER}'",
            case.expected_output_path
        ));
    }
    // A second of slack before: Lua's os.date reads the C library's coarse clock, which may
    // still show the previous second for a few milliseconds after it turned.
    let not_before = Timestamp::from_second(Timestamp::now().as_second() - 1).unwrap();
    let mut actual = match run(script, &input, libraries)? {
        obj @ Value::Object(_) => floats(obj),
        other => return Err(format!("the action returned {other}, not the object")),
    };
    let not_after = Timestamp::now();
    let set = actual["metadata"]["annotations"][&key]
        .as_str()
        .ok_or_else(|| format!("{key} is not set"))?;
    let at: Timestamp = set
        .parse()
        .map_err(|e| format!("{key}: {set} is not an RFC 3339 time: {e}"))?;
    if at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string() != set {
        return Err(format!(
            "{key}: {set} is not RFC 3339 UTC to the second (YYYY-MM-DDTHH:MM:SSZ)"
        ));
    }
    if at < not_before || at > not_after {
        return Err(format!(
            "{key}: {set} is not the time the action ran ({not_before} to {not_after})"
        ));
    }
    actual["metadata"]["annotations"][&key] = PLACEHOLDER.into();
    if actual != expected {
        return Err(format!(
            "the object differs from {}:\n{}",
            case.expected_output_path,
            serde_json::to_string_pretty(&actual).unwrap()
        ));
    }
    Ok(())
}

fn assert_no_failures(failures: Vec<String>, count: usize, what: &str) {
    assert!(
        failures.is_empty(),
        "{} of {count} {what} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_discovery_case_passes() {
    let script = discovery_script();
    let cases = tests().discovery_tests;
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for libraries in EVERY_LIBRARIES {
        for case in &cases {
            let mut expected = case.result.clone();
            expected.sort_by(|a, b| a.name.cmp(&b.name));
            let obj = object(&actions_dir(), &case.input_path);
            match discover(&script, &obj, libraries) {
                Ok(actions) if actions == expected => {}
                Ok(actions) => failures.push(format!(
                    "{} ({libraries:?}): expected {expected:?}, got {actions:?}",
                    case.input_path
                )),
                Err(e) => failures.push(format!(
                    "{} ({libraries:?}): discovery failed: {e}",
                    case.input_path
                )),
            }
        }
    }
    assert_no_failures(failures, 2 * cases.len(), "discovery runs");
}

#[test]
fn every_action_case_passes() {
    let cases = tests().action_tests;
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for libraries in EVERY_LIBRARIES {
        for case in &cases {
            if let Err(e) = check_action(&action_script(&case.action), case, libraries) {
                failures.push(format!(
                    "{} on {} ({libraries:?}): {e}",
                    case.action, case.input_path
                ));
            }
        }
    }
    assert_no_failures(failures, 2 * cases.len(), "action runs");
}

#[test]
fn every_action_is_defined_listed_offered_and_tested() {
    let mut defined: Vec<String> = fs::read_dir(actions_dir())
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir() && entry.file_name() != "testdata")
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    defined.sort();
    let mut expected: Vec<&str> = ACTIONS.to_vec();
    expected.sort();
    assert_eq!(defined, expected, "the directories of actions/");
    let tests = tests();
    for action in ACTIONS {
        assert!(
            actions_dir().join(action).join("action.lua").is_file(),
            "{action}/action.lua"
        );
        for case in &tests.discovery_tests {
            assert!(
                case.result.iter().any(|a| a.name == action),
                "{}: {action} is not listed",
                case.input_path
            );
        }
        for disabled in [false, true] {
            assert!(
                tests.discovery_tests.iter().any(|case| case
                    .result
                    .iter()
                    .any(|a| a.name == action && a.disabled == disabled)),
                "no discovery case has {action} with disabled: {disabled}"
            );
        }
        assert!(
            tests.action_tests.iter().any(|case| case.action == action),
            "no action test runs {action}"
        );
    }
}

#[test]
fn the_discovery_cases_cover_every_state_suspension_and_no_status() {
    let inputs: Vec<Value> = tests()
        .discovery_tests
        .iter()
        .map(|case| object(&actions_dir(), &case.input_path))
        .collect();
    for state in STATES {
        assert!(
            inputs.iter().any(|obj| obj["status"]["state"] == state),
            "no discovery case is in state {state}"
        );
    }
    assert!(inputs.iter().any(|obj| obj["spec"]["suspend"] == true));
    assert!(inputs.iter().any(|obj| obj["status"].is_null()));
}

#[test]
fn every_test_object_is_a_full_object_and_is_used() {
    let tests = tests();
    let paths: Vec<&str> = tests
        .discovery_tests
        .iter()
        .map(|case| case.input_path.as_str())
        .chain(
            tests
                .action_tests
                .iter()
                .flat_map(|case| [case.input_path.as_str(), case.expected_output_path.as_str()]),
        )
        .collect();
    argocd_lua::assert_full_objects_all_used(
        &actions_dir(),
        "action_test.yaml",
        &paths,
        &["AppConfigDeployment"],
    );
}

/// The check of an action's output fails when the annotation is missing, malformed, not UTC,
/// not the time now, or when other annotations are lost; and in the sandbox when the script uses
/// a global `os`.
#[test]
fn the_action_check_fails_for_a_wrong_annotation() {
    let shipped = action_script("stop");
    let cases = tests().action_tests;
    let case = cases
        .iter()
        .find(|case| case.action == "stop" && case.input_path == "testdata/deploying.yaml")
        .expect("the stop case on deploying.yaml");
    let date = "os.date(\"!%Y-%m-%dT%H:%M:%SZ\")";
    let require = "local os = require(\"os\")\n";
    assert!(shipped.contains(date) && shipped.contains(require));
    for libraries in EVERY_LIBRARIES {
        assert_eq!(check_action(&shipped, case, libraries), Ok(()));
    }
    let wrong = [
        ("return obj".to_owned(), "is not set"),
        (
            shipped.replace(date, "os.date(\"!%Y-%m-%d %H:%M:%S\")"),
            "is not an RFC 3339 time",
        ),
        (
            shipped.replace(date, "os.date(\"!%Y-%m-%dT%H:%M:%S+00:00\")"),
            "is not RFC 3339 UTC to the second",
        ),
        (
            shipped.replace(date, "\"2026-11-21T10:00:00Z\""),
            "is not the time the action ran",
        ),
        (
            shipped.replace(
                "obj.metadata.annotations[",
                "obj.metadata.annotations = {}\nobj.metadata.annotations[",
            ),
            "the object differs",
        ),
    ];
    for (script, error) in &wrong {
        for libraries in EVERY_LIBRARIES {
            let result = check_action(script, case, libraries);
            assert!(
                result.as_ref().is_err_and(|e| e.contains(error)),
                "{libraries:?}: expected an error with {error:?}, got {result:?} from\n{script}"
            );
        }
    }
    let global_os = shipped.replace(require, "");
    assert!(check_action(&global_os, case, Libraries::Sandbox).is_err());
    assert_eq!(check_action(&global_os, case, Libraries::Open), Ok(()));
}

#[test]
fn the_readme_snippet_is_what_argo_cd_reads() {
    let snippet: Value = serde_saphyr::from_str(&argocd_lua::actions_snippet()).unwrap();
    let key = format!("resource.customizations.actions.{GROUP}_AppConfigDeployment");
    let value = snippet["data"][&key]
        .as_str()
        .unwrap_or_else(|| panic!("argocd-cm has no {key}"));
    let actions: ResourceActions = serde_saphyr::from_str(value).unwrap();
    assert_eq!(actions.discovery_lua, discovery_script());
    let names: Vec<&str> = actions
        .definitions
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ACTIONS);
    for definition in &actions.definitions {
        assert_eq!(
            definition.action_lua,
            action_script(&definition.name),
            "{}",
            definition.name
        );
    }
}
