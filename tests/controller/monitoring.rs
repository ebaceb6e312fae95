//! The chart's Grafana dashboard (`files/dashboards/appconfig-operator.json`) and alerts
//! (`files/alerts.yaml`, the PrometheusRule's), the files the chart renders, hold to what a
//! running operator exports on `/metrics`: every expression parses as PromQL and names only
//! series it serves, labels they carry and label values the operator produces.

use std::collections::{BTreeMap, BTreeSet};

use appconfig_operator::{aws::Rate, emulator::Fault, metrics};
use serde::Deserialize;
use serde_json::Value;

use crate::{
    cluster::{Backend, Cluster},
    endpoints::wait_for_reply,
    fake_api_server::RequestMatcher,
    operator::Operator,
    promql::{Check, TARGET_LABELS, Vocabulary, referenced_labels},
    scenarios::{ready, spec},
    world::World,
};

const DASHBOARD: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/charts/appconfig-operator/files/dashboards/appconfig-operator.json"
));
const ALERTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/charts/appconfig-operator/files/alerts.yaml"
));
const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));

/// What the chart puts for SELECTOR in the alerts of release `rel` in namespace `ops` with the
/// ServiceMonitor on (tests/chart/test_render.py renders the same).
const SELECTOR: &str = r#"job="rel-appconfig-operator-metrics",namespace="ops""#;
const SELECTED: [(&str, &str); 2] = [
    ("job", "rel-appconfig-operator-metrics"),
    ("namespace", "ops"),
];
/// The dashboard's own matchers: its variables.
const DASHBOARD_SELECTED: [(&str, &str); 2] = [("namespace", "$namespace"), ("job", "$job")];

/// What Grafana puts for its built-in variables before a query reaches Prometheus.
const GRAFANA_BUILT_INS: [(&str, &str); 3] = [
    ("$__rate_interval", "1m"),
    ("$__interval", "15s"),
    ("$__range", "6h"),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Alerts {
    alerts: Vec<Alert>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Alert {
    alert: String,
    expr: String,
    #[serde(rename = "for")]
    for_: String,
    /// The chart value that replaces `for`, if one does.
    #[serde(default, rename = "forValue")]
    for_value: Option<String>,
    severity: String,
    runbook: String,
    summary: String,
    description: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_alerts_name_only_what_the_operator_exports() {
    let text = scrape_after_every_outcome_the_alerts_watch().await;
    let vocabulary = vocabulary(&text);
    // The operator's series carry none of the labels a scrape adds, or a scrape's label could
    // stand in for one the operator must export.
    for (name, labels) in &vocabulary.series {
        for label in TARGET_LABELS {
            assert!(!labels.contains(label), "{name} carries {label}");
        }
    }

    let mut problems = Vec::new();
    problems.extend(check_alerts(&vocabulary, ALERTS));
    problems.extend(check_dashboard(&vocabulary, DASHBOARD));
    assert!(problems.is_empty(), "{problems:#?}\n/metrics:\n{text}");

    // A typo anywhere fails: in a metric, a label, a label value, a grouping or a legend.
    let alert_typos = [
        ("appconfig_operator_leader{", "appconfig_operator_leaders{"),
        ("reconciles_total{SELECTOR,", "reconcile_total{SELECTOR,"),
        ("outcome=\"access_denied\"", "outcome=\"access_denid\""),
        ("outcome=\"throttled\"", "outcome=\"throttling\""),
        ("result=\"error\"", "results=\"error\""),
        ("RolledBack|Reverted", "RolledBack|Reversed"),
        ("=\"appconfigdeployment\"", "=\"appconfigdeployments\""),
        (
            "by (namespace, job, service)",
            "by (namespace, job, services)",
        ),
        ("{{ $labels.reason }}", "{{ $labels.reasons }}"),
        ("{SELECTOR,\n      ready", "{ready"),
    ];
    assert_typos_fail("alerts.yaml", ALERTS, &alert_typos, |text| {
        check_alerts(&vocabulary, text)
    });
    let dashboard_typos = [
        (
            "appconfig_operator_resources{",
            "appconfig_operator_resource{",
        ),
        ("sum by (ready, reason)", "sum by (ready, reasons)"),
        ("=\\\"appconfigsync\\\"", "=\\\"sync\\\""),
        ("\"{{pod}}\"", "\"{{pods}}\""),
        ("(controller, le)", "(controller)"),
        ("$__rate_interval]", "$__rate_intervall]"),
    ];
    assert_typos_fail("the dashboard", DASHBOARD, &dashboard_typos, |text| {
        check_dashboard(&vocabulary, text)
    });
}

/// Each `(right, wrong)`: `text` holds `right`, and with `wrong` in its place `check` finds a
/// problem.
fn assert_typos_fail(
    file: &str,
    text: &str,
    typos: &[(&str, &str)],
    check: impl Fn(&str) -> Vec<String>,
) {
    for (right, wrong) in typos {
        assert!(text.contains(right), "no `{right}` in {file}");
        let broken = text.replacen(right, wrong, 1);
        assert!(
            !check(&broken).is_empty(),
            "{file}: `{right}` written `{wrong}` passed"
        );
    }
}

/// Runs the operator until its `/metrics` shows every family and label the dashboard and alerts
/// use, and the label values they match on where a scenario can bring them about: a rollout, a
/// deployment started by hand and stopped, AWS throttling every attempt of a call, AWS denying
/// access, a missing environment, a failed status write, and calls held by the rate limit.
async fn scrape_after_every_outcome_the_alerts_watch() -> String {
    let cluster = Cluster::connect(Backend::Fake).await;
    let world = World::start().await;
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, r#"{"v":1}"#, None).await;
    let v2 = world.version(&t, &t.profile, r#"{"v":2}"#, None).await;
    world.strategy("instant", 0, 100.0, 0).await;
    let slow = world.strategy("slow", 10, 10.0, 0).await;
    // Every call after the first waits for the rate limit a moment.
    let rate = Rate {
        per_second: 50.0,
        burst: 1,
    };
    let mut staging = t.clone();
    staging.environment = world.environment(&t.application, "staging", &[]).await;
    let mut nowhere = t.clone();
    nowhere.environment = "nowhere".into();
    let operator = Operator::start_rated(&cluster, &world, rate).await;
    let control = world.emulator.control();

    cluster.apply("flags", &spec(&t, &v1, "instant")).await;
    cluster
        .wait_for("flags", "Deployed", |o| {
            ready(o) == Some(("True", "Deployed"))
        })
        .await;
    // Drift: the operator stops a deployment someone started by hand.
    world.deploy_by_hand(&t, &t.profile, &v2, &slow).await;
    let stopped =
        r#"appconfig_operator_deployments_stopped_total{controller="appconfigdeployment"} 1"#;
    wait_for_reply(&operator, "/metrics", |r| r.body.contains(stopped)).await;

    // AWS throttles every attempt of every call (the settled resource's resyncs) for a while.
    control
        .inject_fault(Fault {
            operation: "*".into(),
            status: 429,
            code: "ThrottlingException".into(),
            count: None,
            ratio: Some(1.0),
        })
        .expect("the fault is valid");
    wait_for_reply(&operator, "/metrics", |r| {
        r.body.contains(r#"outcome="throttled"} "#)
    })
    .await;
    control.clear_faults();

    // AWS denies the start of another environment's rollout; an environment that does not
    // exist; a status write the API server refuses.
    control
        .inject_fault(Fault {
            operation: "StartDeployment".into(),
            status: 403,
            code: "AccessDeniedException".into(),
            count: None,
            ratio: Some(1.0),
        })
        .expect("the fault is valid");
    cluster
        .apply("denied", &spec(&staging, &v1, "instant"))
        .await;
    let fake = cluster.fake.as_ref().expect("the fake API server");
    let status_writes = RequestMatcher {
        verb: "patch",
        plural: "appconfigdeployments",
        subresource: Some("status"),
    };
    fake.fail_next(status_writes, 500, "InternalError", 1);
    cluster
        .apply("missing", &spec(&nowhere, &v1, "instant"))
        .await;
    cluster
        .wait_for("denied", "AccessDenied", |o| {
            ready(o) == Some(("False", "AccessDenied"))
        })
        .await;
    cluster
        .wait_for("missing", "NotFound", |o| {
            ready(o) == Some(("False", "NotFound"))
        })
        .await;

    let expected = [
        r#"outcome="access_denied"} "#,
        r#"result="error"} "#,
        r#"ready="False",reason="AccessDenied"} 1"#,
        r#"ready="False",reason="NotFound"} 1"#,
        r#"appconfig_operator_aws_rate_limit_waits_total{service="appconfig"} "#,
        "appconfig_operator_leader 1",
    ];
    let scrape = wait_for_reply(&operator, "/metrics", |r| {
        expected.iter().all(|sample| r.body.contains(sample))
    })
    .await;
    control.clear_faults();
    operator.stop().await;
    cluster.cleanup().await;
    scrape.body
}

/// The series of `text`, and the values the operator gives each label matchers may use.
fn vocabulary(text: &str) -> Vocabulary {
    let mut vocabulary = Vocabulary::exported(text);
    vocabulary.allow(
        "controller",
        [metrics::APPCONFIGDEPLOYMENT, metrics::APPCONFIGSYNC],
    );
    vocabulary.allow(
        "service",
        [metrics::APPCONFIG, metrics::APPCONFIGDATA, metrics::STS],
    );
    vocabulary.allow("outcome", metrics::AWS_CALL_OUTCOMES);
    vocabulary.allow("result", metrics::RECONCILE_RESULTS);
    // A condition's status (`Unknown` also before a resource's first status).
    vocabulary.allow("ready", ["True", "False", "Unknown"]);
    let not_reconciled = metrics::ReadyState::not_reconciled().reason;
    let conditions = readme_conditions();
    vocabulary.allow(
        "reason",
        conditions
            .keys()
            .map(String::as_str)
            .chain([not_reconciled.as_str()]),
    );
    vocabulary
}

/// Every Ready reason in the README's Conditions tables (both resources'), and whether it is a
/// Stalled one.
fn readme_conditions() -> BTreeMap<String, bool> {
    let mut reasons = BTreeMap::new();
    let mut columns: Option<(usize, usize)> = None;
    for line in README.lines() {
        let Some(row) = line.strip_prefix('|') else {
            columns = None;
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        if let (Some(stalled), Some(reason)) = (
            cells.iter().position(|c| *c == "Stalled"),
            cells.iter().position(|c| *c == "reason"),
        ) {
            columns = Some((stalled, reason));
            continue;
        }
        let Some((stalled, reason)) = columns else {
            continue;
        };
        if cells[0].starts_with("---") {
            continue;
        }
        for (i, name) in cells[reason].split('`').enumerate() {
            if i % 2 == 1 {
                reasons.insert(name.to_owned(), cells[stalled] == "True");
            }
        }
    }
    assert!(
        reasons.get("RolledBack") == Some(&true) && reasons.get("Synced") == Some(&false),
        "the README's Conditions tables were not found: {reasons:?}"
    );
    reasons
}

/// The problems of the alerts in `text` (alerts.yaml).
fn check_alerts(vocabulary: &Vocabulary, text: &str) -> Vec<String> {
    let alerts: Alerts = match serde_saphyr::from_str(text) {
        Ok(alerts) => alerts,
        Err(e) => return vec![format!("alerts.yaml: {e}")],
    };
    let mut problems = Vec::new();
    let mut stall_reasons = Vec::new();
    for alert in &alerts.alerts {
        let expr = alert.expr.replace("SELECTOR", SELECTOR);
        let mut check = Check::new(vocabulary, &SELECTED);
        let labels = check.expression(&expr);
        for text in [&alert.summary, &alert.description] {
            check.uses(
                "the summary or description",
                &referenced_labels(text, "$labels."),
                &labels,
            );
        }
        problems.extend(
            check
                .problems()
                .into_iter()
                .map(|p| format!("{}: {p}", alert.alert)),
        );
        if !["critical", "warning"].contains(&alert.severity.as_str()) {
            problems.push(format!("{}: severity {}", alert.alert, alert.severity));
        }
        if !is_duration(&alert.for_) {
            problems.push(format!("{}: `for: {}`", alert.alert, alert.for_));
        }
        if alert
            .for_value
            .as_deref()
            .is_some_and(|v| v != "stalledFor")
        {
            problems.push(format!("{}: forValue names no chart value", alert.alert));
        }
        if alert.runbook != alert.alert.to_lowercase() {
            problems.push(format!(
                "{}: the runbook is the alert's own README heading",
                alert.alert
            ));
        }
        if let Some(reasons) = reason_matcher(&expr) {
            stall_reasons.extend(reasons);
        }
    }
    // Between them, the alerts on resources watch every Stalled reason, each once.
    let stalled: Vec<String> = readme_conditions()
        .into_iter()
        .filter_map(|(reason, stalled)| stalled.then_some(reason))
        .collect();
    let watched: BTreeSet<String> = stall_reasons.iter().cloned().collect();
    if watched.len() != stall_reasons.len() || watched.into_iter().collect::<Vec<_>>() != stalled {
        problems.push(format!(
            "the alerts watch the reasons {stall_reasons:?}, the README's Stalled reasons are {stalled:?}"
        ));
    }
    problems
}

/// The reasons a `reason=~"A|B"` matcher of `expr` names, if it has one.
fn reason_matcher(expr: &str) -> Option<Vec<String>> {
    let (_, after) = expr.split_once("reason=~\"")?;
    let (alternatives, _) = after.split_once('"')?;
    Some(alternatives.split('|').map(str::to_owned).collect())
}

/// The problems of the dashboard in `text`: its panels' queries and legends, and its variables.
fn check_dashboard(vocabulary: &Vocabulary, text: &str) -> Vec<String> {
    let dashboard: Value = match serde_json::from_str(text) {
        Ok(dashboard) => dashboard,
        Err(e) => return vec![format!("the dashboard is not JSON: {e}")],
    };
    let mut problems = Vec::new();
    let variables: BTreeMap<String, &Value> = dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| (v["name"].as_str().unwrap_or_default().to_owned(), v))
        .collect();
    for name in ["datasource", "namespace", "job"] {
        if !variables.contains_key(name) {
            problems.push(format!("no ${name} variable"));
        }
    }
    let datasource = serde_json::json!({"type": "prometheus", "uid": "${datasource}"});
    for (name, variable) in &variables {
        if variable["type"] != "query" {
            continue;
        }
        if variable["datasource"] != datasource {
            problems.push(format!("variable {name}: not on the $datasource variable"));
        }
        let query = variable["query"]["query"].as_str().unwrap_or_default();
        let mut check = Check::new(vocabulary, &[]);
        match label_values(query) {
            Some((selector, label)) => {
                let labels = check.expression(selector);
                check.uses("label_values", &BTreeSet::from([label.to_owned()]), &labels);
            }
            None => problems.push(format!("variable {name}: `{query}` is not label_values")),
        }
        problems.extend(
            check
                .problems()
                .into_iter()
                .map(|p| format!("variable {name}: {p}")),
        );
    }

    let mut panels: Vec<&Value> = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        panels.push(panel);
        panels.extend(panel["panels"].as_array().into_iter().flatten());
    }
    let mut queries = 0;
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        let title = panel["title"].as_str().unwrap_or_default();
        let targets = panel["targets"].as_array().cloned().unwrap_or_default();
        if targets.is_empty() || panel["datasource"] != datasource {
            problems.push(format!(
                "{title}: no query, or not on the $datasource variable"
            ));
        }
        for target in &targets {
            queries += 1;
            if target["datasource"] != datasource {
                problems.push(format!("{title}: a query not on the $datasource variable"));
            }
            let mut expr = target["expr"].as_str().unwrap_or_default().to_owned();
            for (variable, value) in GRAFANA_BUILT_INS {
                expr = expr.replace(variable, value);
            }
            let mut check = Check::new(vocabulary, &DASHBOARD_SELECTED);
            for variable in dashboard_variables(&expr) {
                if !variables.contains_key(&variable) {
                    problems.push(format!("{title}: no variable ${variable}"));
                }
            }
            let labels = check.expression(&expr);
            let legend = target["legendFormat"].as_str().unwrap_or_default();
            check.uses("the legend", &referenced_labels(legend, ""), &labels);
            problems.extend(
                check
                    .problems()
                    .into_iter()
                    .map(|p| format!("{title}: {p}")),
            );
        }
    }
    if queries == 0 {
        problems.push("the dashboard has no query".to_owned());
    }
    problems
}

/// `label_values(selector, label)`, as Grafana's Prometheus variables query.
fn label_values(query: &str) -> Option<(&str, &str)> {
    let inner = query.strip_prefix("label_values(")?.strip_suffix(')')?;
    let (selector, label) = inner.rsplit_once(',')?;
    Some((selector.trim(), label.trim()))
}

/// The dashboard variables `$name` or `${name}` in a query.
fn dashboard_variables(expr: &str) -> Vec<String> {
    expr.split('$')
        .skip(1)
        .map(|after| {
            after
                .trim_start_matches('{')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// Whether `text` is a Prometheus duration (`5m`, `1h30m`).
fn is_duration(text: &str) -> bool {
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let after = &rest[digits..];
        let Some(unit) = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|unit| after.starts_with(unit))
        else {
            return false;
        };
        if digits == 0 {
            return false;
        }
        rest = &after[unit.len()..];
    }
    !text.is_empty()
}
