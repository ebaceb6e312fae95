//! /healthz, /readyz and /metrics over HTTP, from the operator's listener, with real values
//! after a rollout.

use std::time::Duration;

use appconfig_operator::metrics::CONTENT_TYPE;

use crate::{
    cluster::{Backend, Cluster, PATIENCE},
    fake_api_server::RequestMatcher,
    http_get::{Reply, get},
    operator::Operator,
    scenarios::{ready, spec},
    world::World,
};

/// Checks the OpenMetrics text format line by line: descriptors, samples whose family was
/// described, and the final `# EOF`.
fn assert_openmetrics(text: &str) {
    assert!(text.ends_with("# EOF\n"), "no final # EOF: {text}");
    let mut families: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line == "# EOF" {
            continue;
        }
        if let Some(descriptor) = line.strip_prefix("# ") {
            let mut parts = descriptor.splitn(3, ' ');
            let keyword = parts.next().unwrap_or_default();
            assert!(
                ["TYPE", "HELP", "UNIT"].contains(&keyword),
                "unknown descriptor: {line}"
            );
            families.push(parts.next().expect("a family name"));
            continue;
        }
        let (name_and_labels, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("a sample without a value: {line}"));
        assert!(value.parse::<f64>().is_ok(), "not a number: {line}");
        let name = name_and_labels.split('{').next().unwrap_or_default();
        assert!(
            families.iter().any(|family| name.starts_with(family)),
            "a sample of no described family: {line}"
        );
    }
}

pub async fn wait_for_reply(
    operator: &Operator,
    path: &str,
    check: impl Fn(&Reply) -> bool,
) -> Reply {
    let mut last = None;
    let found = tokio::time::timeout(PATIENCE, async {
        loop {
            let reply = get(operator.address, path).await;
            if check(&reply) {
                return reply;
            }
            last = Some((reply.status, reply.body));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("{path}: last reply {last:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_describe_a_rollout() {
    let cluster = Cluster::connect(Backend::Fake).await;
    let world = World::start().await;
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("instant", 0, 100.0, 0).await;
    let operator = Operator::start(&cluster, &world).await;

    let health = get(operator.address, "/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let readiness = wait_for_reply(&operator, "/readyz", |r| r.status == 200).await;
    assert_eq!(readiness.body, "ok\n");
    assert_eq!(get(operator.address, "/metricz").await.status, 404);

    cluster.apply("flags", &spec(&t, &v1, "instant")).await;
    let o = cluster
        .wait_for("flags", "Ready", |o| {
            ready(o).is_some_and(|(s, _)| s == "True")
        })
        .await;
    let (_, reason) = ready(&o).unwrap();
    let resource = format!(
        r#"appconfig_operator_resources{{controller="appconfigdeployment",ready="True",reason="{reason}"}} 1"#
    );
    // The resources gauge counts the watch cache, which sees the status a moment later.
    let metrics = wait_for_reply(&operator, "/metrics", |r| r.body.contains(&resource)).await;
    assert_eq!(metrics.status, 200);
    assert_eq!(metrics.content_type, CONTENT_TYPE);
    assert_openmetrics(&metrics.body);
    for sample in [
        r#"appconfig_operator_deployments_started_total{controller="appconfigdeployment"} 1"#,
        r#"appconfig_operator_aws_calls_total{service="appconfig",operation="StartDeployment",outcome="success"} 1"#,
        "appconfig_operator_leader 1",
    ] {
        assert!(
            metrics.body.lines().any(|line| line == sample),
            "no `{sample}` in {}",
            metrics.body
        );
    }
    assert!(
        metrics
            .body
            .contains(r#"appconfig_operator_reconciles_total{controller="appconfigdeployment",result="success"}"#),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains(
            r#"appconfig_operator_reconcile_duration_seconds_bucket{le="+Inf",controller="appconfigdeployment"}"#
        ) || metrics.body.contains(
            r#"appconfig_operator_reconcile_duration_seconds_bucket{controller="appconfigdeployment",le="+Inf"}"#
        ),
        "{}",
        metrics.body
    );

    // A deleted resource leaves the gauge at once, not at the next reconcile.
    cluster.delete("flags").await;
    cluster.wait_gone("flags").await;
    wait_for_reply(&operator, "/metrics", |r| {
        !r.body.contains("appconfig_operator_resources{")
    })
    .await;
    operator.stop().await;
}

/// A SIGTERM while the watch caches are still filling (an API server slow to list, say) stops
/// the operator at once: no reconcile has started, and nothing waits for a listing that a
/// stopped watch never delivers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_before_the_watch_caches_sync_ends_the_operator_at_once() {
    let cluster = Cluster::connect(Backend::Fake).await;
    let world = World::start().await;
    let fake = cluster.fake.as_ref().expect("the fake API server");
    // The start-up check lists once; every listing after it fails, so the cache never fills.
    let lists = RequestMatcher {
        verb: "list",
        plural: "appconfigsyncs",
        subresource: None,
    };
    fake.fail_after(lists, 1, 500, "InternalError", usize::MAX);
    let operator = Operator::start(&cluster, &world).await;
    let waiting = wait_for_reply(&operator, "/readyz", |r| r.status == 503).await;
    assert!(waiting.body.contains("appconfigsync"), "{}", waiting.body);
    // Stopped within the scenario's patience, or this fails.
    operator.stop().await;
}
