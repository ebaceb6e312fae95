//! Day-2 requests by annotation: stop a rollout, retry after it, revert a completed deployment;
//! requests that cannot apply are answered, and none is handled twice.

use appconfig_operator::api::v1alpha1::{AppConfigDeployment, HandledRequest};

use super::{condition, ready, scenario, served, spec, stalled_message, state};
use crate::{
    cluster::Cluster,
    operator::Operator,
    world::{Target, World},
};

const STOP: &str = "appconfig.operators.dev/stop-requested-at";
const REVERT: &str = "appconfig.operators.dev/revert-requested-at";
const RETRY: &str = "appconfig.operators.dev/retry-requested-at";

/// What the status records of the request `kind` ("stop", "revert", "retry").
fn handled<'a>(o: &'a AppConfigDeployment, kind: &str) -> Option<&'a HandledRequest> {
    let requests = o.status.as_ref()?.last_handled_requests.as_ref()?;
    match kind {
        "stop" => requests.stop.as_ref(),
        "revert" => requests.revert.as_ref(),
        _ => requests.retry.as_ref(),
    }
}

fn handled_value<'a>(o: &'a AppConfigDeployment, kind: &str) -> Option<&'a str> {
    handled(o, kind).map(|h| h.value.as_str())
}

/// Sets the `kind` request of resource `flags` to `value` and waits until it is answered; the
/// resource then, and the answer.
async fn request(
    cluster: &Cluster,
    kind: &str,
    value: &str,
) -> (AppConfigDeployment, HandledRequest) {
    let annotation = format!("appconfig.operators.dev/{kind}-requested-at");
    cluster.annotate("flags", &annotation, value).await;
    let o = cluster
        .wait_for("flags", &format!("the {kind} request answered"), |o| {
            handled_value(o, kind) == Some(value)
        })
        .await;
    let answer = handled(&o, kind).cloned().expect("an answer");
    (o, answer)
}

/// The environment's deployments, newest first, as (number, state).
async fn deployments(world: &World, t: &Target) -> Vec<(i32, String)> {
    world
        .deployments(t)
        .await
        .into_iter()
        .map(|(number, _, _, state)| (number, state.as_str().to_owned()))
        .collect()
}

/// How many Events of `reason` the resource has.
async fn events_of(cluster: &Cluster, name: &str, reason: &str) -> usize {
    let reasons = cluster.event_reasons(name).await;
    reasons.iter().filter(|r| *r == reason).count()
}

scenario!(a_stopped_rollout_stays_stopped_until_a_retry_deploys_it_again);
async fn a_stopped_rollout_stays_stopped_until_a_retry_deploys_it_again(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("two-steps", 2, 50.0, 2).await;
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "two-steps")).await;
    cluster
        .wait_for("flags", "deploying", |o| state(o) == Some("DEPLOYING"))
        .await;

    cluster
        .annotate("flags", STOP, "2026-12-02T02:00:00Z")
        .await;
    let o = cluster
        .wait_for("flags", "stalled after the stop", |o| {
            ready(o) == Some(("False", "RolledBack"))
        })
        .await;
    let message = stalled_message(condition(&o, "Stalled"));
    assert!(
        message.contains("on request") && message.contains(STOP),
        "{message}"
    );
    let stop = handled(&o, "stop").expect("the stop is recorded");
    assert_eq!(
        (stop.value.as_str(), stop.applied, stop.deployment_number),
        ("2026-12-02T02:00:00Z", true, Some(1))
    );
    assert_eq!(deployments(world, &t).await, [(1, "ROLLED_BACK".into())]);
    assert_eq!(events_of(cluster, "flags", "StoppedOnRequest").await, 1);

    cluster
        .annotate("flags", RETRY, "2026-12-02T02:10:00Z")
        .await;
    cluster
        .wait_for("flags", "deploying again", |o| {
            state(o) == Some("DEPLOYING") && handled_value(o, "retry").is_some()
        })
        .await;
    // Nothing started between the stop and the retry: the retry's is the second deployment.
    assert_eq!(
        deployments(world, &t).await,
        [(2, "DEPLOYING".into()), (1, "ROLLED_BACK".into())]
    );
    world.advance(240);
    let o = cluster
        .wait_for("flags", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;
    assert_eq!(served(&o), Some(v1.as_str()));
    assert_eq!(world.calls("StartDeployment"), 2);
    assert_eq!(world.calls("StopDeployment"), 1);
    assert_eq!(events_of(cluster, "flags", "RetryingOnRequest").await, 1);
    operator.stop().await;
}

scenario!(a_reverted_deployment_stays_reverted_and_requests_that_cannot_apply_say_why);
async fn a_reverted_deployment_stays_reverted_and_requests_that_cannot_apply_say_why(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, r#"{"v":1}"#, None).await;
    let v2 = world.version(&t, &t.profile, r#"{"v":2}"#, None).await;
    world.strategy("instant", 0, 100.0, 0).await;
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "instant")).await;
    cluster
        .wait_for("flags", "serving v1", |o| served(o) == Some(v1.as_str()))
        .await;
    // Nothing to stop or retry on a Ready resource.
    cluster.annotate("flags", STOP, "a").await;
    cluster.annotate("flags", RETRY, "b").await;
    let o = cluster
        .wait_for("flags", "both answered", |o| {
            handled_value(o, "stop") == Some("a") && handled_value(o, "retry") == Some("b")
        })
        .await;
    for kind in ["stop", "retry"] {
        let answer = handled(&o, kind).unwrap();
        assert!(!answer.applied, "{answer:?}");
        assert!(answer.message.contains("cannot apply"), "{answer:?}");
    }
    assert_eq!(ready(&o), Some(("True", "Deployed")));
    assert_eq!(events_of(cluster, "flags", "RequestNotApplicable").await, 2);

    cluster.apply("flags", &spec(&t, &v2, "instant")).await;
    cluster
        .wait_for("flags", "serving v2", |o| {
            served(o) == Some(v2.as_str()) && ready(o) == Some(("True", "Deployed"))
        })
        .await;
    cluster.annotate("flags", REVERT, "c").await;
    let o = cluster
        .wait_for("flags", "stalled after the revert", |o| {
            ready(o) == Some(("False", "Reverted"))
        })
        .await;
    let message = stalled_message(condition(&o, "Stalled"));
    assert!(
        message.contains("on request") && message.contains(REVERT),
        "{message}"
    );
    assert_eq!(
        deployments(world, &t).await,
        [(2, "REVERTED".into()), (1, "COMPLETE".into())]
    );
    assert_eq!(served(&o), Some(v1.as_str()), "AppConfig serves v1 again");
    assert_eq!(events_of(cluster, "flags", "RevertedOnRequest").await, 1);

    // Suspended: every request is answered, none acts.
    let suspended = appconfig_operator::api::v1alpha1::AppConfigDeploymentSpec {
        suspend: true,
        ..spec(&t, &v2, "instant")
    };
    cluster.apply("flags", &suspended).await;
    let (_, answer) = request(cluster, "retry", "d").await;
    assert!(
        !answer.applied && answer.message.contains("suspended"),
        "{answer:?}"
    );
    assert_eq!(
        world.calls("StartDeployment"),
        2,
        "nothing was deployed again"
    );
    operator.stop().await;
}

scenario!(a_request_is_not_handled_again_by_a_restarted_operator);
async fn a_request_is_not_handled_again_by_a_restarted_operator(cluster: &Cluster, world: &World) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("two-steps", 2, 50.0, 2).await;
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "two-steps")).await;
    cluster
        .wait_for("flags", "deploying", |o| state(o) == Some("DEPLOYING"))
        .await;
    cluster.annotate("flags", STOP, "once").await;
    cluster
        .wait_for("flags", "stalled after the stop", |o| {
            ready(o) == Some(("False", "RolledBack"))
        })
        .await;
    operator.kill().await;

    // The new operator handles the retry, and sees the stop it must not repeat: repeated, it
    // would stop the retry's deployment.
    let operator = Operator::start(cluster, world).await;
    cluster.annotate("flags", RETRY, "then-retry").await;
    cluster
        .wait_for("flags", "deploying again", |o| {
            state(o) == Some("DEPLOYING") && handled_value(o, "retry") == Some("then-retry")
        })
        .await;
    world.advance(240);
    cluster
        .wait_for("flags", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;
    assert_eq!(world.calls("StopDeployment"), 1);
    assert_eq!(events_of(cluster, "flags", "StoppedOnRequest").await, 1);
    operator.stop().await;
}

scenario!(a_request_on_a_resource_another_profile_blocks_does_not_touch_that_deployment);
async fn a_request_on_a_resource_another_profile_blocks_does_not_touch_that_deployment(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let other = world.profile(&t.application, "limits").await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    let other_v1 = world.version(&t, &other, "{}", None).await;
    let slow = world.strategy("slow", 10, 50.0, 0).await;
    world.deploy_by_hand(&t, &other, &other_v1, &slow).await;
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "slow")).await;
    cluster
        .wait_for("flags", "waiting", |o| {
            ready(o) == Some(("False", "WaitingForEnvironment"))
        })
        .await;
    let (o, answer) = request(cluster, "stop", "blocked").await;
    assert!(
        !answer.applied && answer.message.contains("nothing is in progress to stop"),
        "{answer:?}"
    );
    assert_eq!(ready(&o), Some(("False", "WaitingForEnvironment")));
    assert_eq!(world.calls("StopDeployment"), 0);
    assert_eq!(deployments(world, &t).await, [(1, "DEPLOYING".into())]);
    operator.stop().await;
}

scenario!(a_revert_past_appconfigs_window_is_answered_with_its_refusal);
async fn a_revert_past_appconfigs_window_is_answered_with_its_refusal(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, r#"{"v":1}"#, None).await;
    let v2 = world.version(&t, &t.profile, r#"{"v":2}"#, None).await;
    world.strategy("instant", 0, 100.0, 0).await;
    let operator = Operator::start(cluster, world).await;
    for version in [&v1, &v2] {
        cluster.apply("flags", &spec(&t, version, "instant")).await;
        cluster
            .wait_for("flags", "serving it", |o| {
                served(o) == Some(version.as_str()) && ready(o) == Some(("True", "Deployed"))
            })
            .await;
    }
    // AppConfig reverts a deployment only within 72 hours of its completion.
    world.advance(73 * 3600);
    let (o, answer) = request(cluster, "revert", "too-late").await;
    assert!(
        !answer.applied && answer.message.contains("72 hours"),
        "AppConfig's refusal is the answer: {answer:?}"
    );
    assert_eq!(ready(&o), Some(("True", "Deployed")));
    assert_eq!(
        deployments(world, &t).await,
        [(2, "COMPLETE".into()), (1, "COMPLETE".into())]
    );
    assert_eq!(events_of(cluster, "flags", "RequestNotApplicable").await, 1);
    operator.stop().await;
}
