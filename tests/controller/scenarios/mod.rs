//! Each scenario is one `async fn(&Cluster, &World)`; `scenario!` turns it into a test on the
//! fake API server and an ignored test on the `KUBECONFIG` cluster, with the same body.

mod content;
mod deletion;
mod environment;
mod faults;
mod order;
mod requests;
mod resolution;
mod restart;
mod rollback;
mod rollout;
mod suspend;
pub mod sync;
mod tenancy;

use appconfig_operator::api::v1alpha1::{AppConfigDeployment, AppConfigDeploymentSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::world::Target;

macro_rules! scenario {
    ($name:ident) => {
        scenario!($name, World::start);
    };
    // A scenario whose emulator is built by `$world` (an `async fn() -> World`).
    ($name:ident, $world:path) => {
        mod $name {
            use crate::{
                cluster::{Backend, Cluster},
                world::World,
            };

            async fn run(backend: Backend) {
                let cluster = Cluster::connect(backend).await;
                let world = $world().await;
                super::$name(&cluster, &world).await;
                cluster.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_fake_api_server() {
                run(Backend::Fake).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs a Kubernetes cluster: set KUBECONFIG and pass --ignored"]
            async fn on_cluster() {
                run(Backend::Real).await;
            }
        }
    };
}
pub(crate) use scenario;

/// A spec for `target`'s profile at `version` with `strategy`, everything else defaulted.
pub fn spec(t: &Target, version: &str, strategy: &str) -> AppConfigDeploymentSpec {
    AppConfigDeploymentSpec::new(
        &t.application,
        &t.environment,
        &t.profile,
        version,
        strategy,
    )
}

pub fn condition<'a>(o: &'a AppConfigDeployment, type_: &str) -> Option<&'a Condition> {
    o.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// Whether the status describes the current generation, as `kubectl wait` requires.
pub fn current(o: &AppConfigDeployment) -> bool {
    let generation = o.metadata.generation;
    o.status.as_ref().and_then(|s| s.observed_generation) == generation
        && ["Ready", "Reconciling", "Stalled"]
            .iter()
            .all(|t| condition(o, t).is_some_and(|c| c.observed_generation == generation))
}

/// The Ready condition's (status, reason), when the status is current.
/// The message of a Stalled condition that must be true (of either kind).
pub fn stalled_message(stalled: Option<&Condition>) -> String {
    let stalled = stalled.expect("a Stalled condition");
    assert_eq!(stalled.status, "True", "{stalled:?}");
    stalled.message.clone()
}

pub fn ready(o: &AppConfigDeployment) -> Option<(&str, &str)> {
    current(o)
        .then(|| condition(o, "Ready"))
        .flatten()
        .map(|c| (c.status.as_str(), c.reason.as_str()))
}

/// (Ready, Reconciling, Stalled) statuses, when current.
pub fn flags(o: &AppConfigDeployment) -> Option<(&str, &str, &str)> {
    if !current(o) {
        return None;
    }
    let s = |t| condition(o, t).map(|c| c.status.as_str()).unwrap_or("");
    Some((s("Ready"), s("Reconciling"), s("Stalled")))
}

pub fn state(o: &AppConfigDeployment) -> Option<&str> {
    o.status.as_ref()?.state.as_deref()
}

pub fn served(o: &AppConfigDeployment) -> Option<&str> {
    o.status.as_ref()?.served_version.as_deref()
}

pub fn deployment_number(o: &AppConfigDeployment) -> Option<i32> {
    o.status.as_ref()?.deployment_number
}

/// The status shows the IDs of `t` and of the strategy `strategy_id`.
pub fn assert_resolved(o: &AppConfigDeployment, t: &Target, strategy_id: &str) {
    let status = o.status.as_ref().expect("a status");
    let ids = [
        status.application_id.as_deref(),
        status.environment_id.as_deref(),
        status.configuration_profile_id.as_deref(),
        status.deployment_strategy_id.as_deref(),
    ];
    let expected = [
        t.application.as_str(),
        t.environment.as_str(),
        t.profile.as_str(),
        strategy_id,
    ];
    assert_eq!(ids, expected.map(Some));
}
