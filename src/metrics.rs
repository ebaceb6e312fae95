//! The operator's Prometheus metrics, served in the OpenMetrics text format on `/metrics`.
//!
//! One [`Metrics`] handle (cheap to clone) holds every family. Controllers name themselves in
//! the `controller` label ([`APPCONFIGDEPLOYMENT`]), AWS calls name their `service`
//! ([`APPCONFIG`]), so several controllers and AWS services share the same families.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::{Registry, Unit},
};

use crate::aws::error::{AwsError, ErrorKind};

/// The `controller` label of the AppConfigDeployment controller.
pub const APPCONFIGDEPLOYMENT: &str = "appconfigdeployment";
/// The `service` label of AppConfig control-plane calls.
pub const APPCONFIG: &str = "appconfig";
/// The `controller` label of the AppConfigSync controller.
pub const APPCONFIGSYNC: &str = "appconfigsync";
/// The `service` label of AppConfig Data calls.
pub const APPCONFIGDATA: &str = "appconfigdata";
/// The `service` label of STS calls (AssumeRoleWithWebIdentity, for resources that act as a
/// ServiceAccount).
pub const STS: &str = "sts";

/// Every `outcome` of `appconfig_operator_aws_calls_total`: `success`, or what the error means
/// ([`ErrorKind`]), with throttling (`throttled`) told apart from the other transient errors.
pub const AWS_CALL_OUTCOMES: [&str; 8] = [
    "success",
    "transient",
    "throttled",
    "not_found",
    "access_denied",
    "invalid_request",
    "invalid_content",
    "conflict",
];

/// Every `result` of `appconfig_operator_reconciles_total`.
pub const RECONCILE_RESULTS: [&str; 2] = ["success", "error"];

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Where one resource stands, as its Ready condition says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyState {
    /// `True`, `False` or `Unknown` (also for a resource without a Ready condition yet).
    pub status: String,
    /// The Ready condition's reason; `NotReconciled` for a resource without one.
    pub reason: String,
}

impl ReadyState {
    pub fn not_reconciled() -> Self {
        Self {
            status: "Unknown".to_owned(),
            reason: "NotReconciled".to_owned(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ControllerLabels {
    controller: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconcileLabels {
    controller: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AwsCallLabels {
    service: &'static str,
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceLabels {
    controller: &'static str,
    ready: String,
    reason: String,
}

type ResourceSource = Box<dyn Fn() -> Vec<ReadyState> + Send + Sync>;

/// Every metric of the operator; clones share them.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    reconciles: Family<ReconcileLabels, Counter>,
    reconcile_duration: Family<ControllerLabels, Histogram, fn() -> Histogram>,
    aws_calls: Family<AwsCallLabels, Counter>,
    rate_limit_waits: Family<ServiceLabels, Counter>,
    rate_limit_wait_seconds: Family<ServiceLabels, Counter<f64, AtomicU64>>,
    resources: Family<ResourceLabels, Gauge>,
    deployments_started: Family<ControllerLabels, Counter>,
    deployments_stopped: Family<ControllerLabels, Counter>,
    leader: Gauge,
    /// The watch caches of the running controllers, read at every scrape: the resources gauge
    /// is recounted from what exists, so a resource that changes reason or is deleted can never
    /// leave a stale count behind.
    resource_sources: Mutex<BTreeMap<u64, (&'static str, ResourceSource)>>,
    next_source: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn reconcile_histogram() -> Histogram {
    // 5 ms to about 40 s: a reconcile is a few AWS calls and a status write.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("appconfig_operator");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles finished, by controller and result (success or error)",
            reconciles.clone(),
        );
        let reconcile_duration =
            Family::<ControllerLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                reconcile_histogram,
            );
        registry.register_with_unit(
            "reconcile_duration",
            "How long reconciles take, by controller",
            Unit::Seconds,
            reconcile_duration.clone(),
        );
        let aws_calls = Family::<AwsCallLabels, Counter>::default();
        registry.register(
            "aws_calls",
            format!(
                "AWS API calls, by service, operation and outcome ({})",
                AWS_CALL_OUTCOMES.join(", ")
            ),
            aws_calls.clone(),
        );
        let rate_limit_waits = Family::<ServiceLabels, Counter>::default();
        registry.register(
            "aws_rate_limit_waits",
            "AWS calls that waited for the client-side rate limit (--aws-qps), by service",
            rate_limit_waits.clone(),
        );
        let rate_limit_wait_seconds = Family::<ServiceLabels, Counter<f64, AtomicU64>>::default();
        registry.register_with_unit(
            "aws_rate_limit_wait",
            "Time AWS calls spent waiting for the client-side rate limit (--aws-qps), by service",
            Unit::Seconds,
            rate_limit_wait_seconds.clone(),
        );
        let resources = Family::<ResourceLabels, Gauge>::default();
        registry.register(
            "resources",
            "Resources this replica reconciles, by controller and their Ready condition's status and reason",
            resources.clone(),
        );
        let deployments_started = Family::<ControllerLabels, Counter>::default();
        registry.register(
            "deployments_started",
            "AppConfig deployments the operator started, by controller",
            deployments_started.clone(),
        );
        let deployments_stopped = Family::<ControllerLabels, Counter>::default();
        registry.register(
            "deployments_stopped",
            "AppConfig deployments the operator stopped (rolled back), by controller",
            deployments_stopped.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica reconciles (it holds the lease, or leader election is off), else 0",
            leader.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                reconciles,
                reconcile_duration,
                aws_calls,
                rate_limit_waits,
                rate_limit_wait_seconds,
                resources,
                deployments_started,
                deployments_stopped,
                leader,
                resource_sources: Mutex::default(),
                next_source: AtomicU64::default(),
            }),
        }
    }
}

impl Metrics {
    /// Runs one reconcile, counting it by result and timing it.
    pub async fn reconcile<T, E>(
        &self,
        controller: &'static str,
        reconcile: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let result = reconcile.await;
        let [success, error] = RECONCILE_RESULTS;
        let labels = ReconcileLabels {
            controller,
            result: if result.is_ok() { success } else { error },
        };
        self.inner.reconciles.get_or_create(&labels).inc();
        self.inner
            .reconcile_duration
            .get_or_create(&ControllerLabels { controller })
            .observe(started.elapsed().as_secs_f64());
        result
    }

    /// Counts one AWS call by its outcome.
    pub fn aws_call<T>(
        &self,
        service: &'static str,
        operation: &'static str,
        result: &Result<T, AwsError>,
    ) {
        let labels = AwsCallLabels {
            service,
            operation,
            outcome: outcome(result),
        };
        self.inner.aws_calls.get_or_create(&labels).inc();
    }

    /// Counts one AWS call held back by the client-side rate limit for `waited`.
    pub fn aws_rate_limited(&self, service: &'static str, waited: Duration) {
        let labels = ServiceLabels { service };
        self.inner.rate_limit_waits.get_or_create(&labels).inc();
        self.inner
            .rate_limit_wait_seconds
            .get_or_create(&labels)
            .inc_by(waited.as_secs_f64());
    }

    pub fn deployment_started(&self, controller: &'static str) {
        let labels = ControllerLabels { controller };
        self.inner.deployments_started.get_or_create(&labels).inc();
    }

    pub fn deployment_stopped(&self, controller: &'static str) {
        let labels = ControllerLabels { controller };
        self.inner.deployments_stopped.get_or_create(&labels).inc();
    }

    pub fn set_leader(&self, leading: bool) {
        self.inner.leader.set(i64::from(leading));
    }

    /// Counts `controller`'s resources from `source` (its watch cache) at every scrape, until
    /// the returned guard is dropped (the controller stopped: a standby reports no resources).
    pub fn track_resources(
        &self,
        controller: &'static str,
        source: impl Fn() -> Vec<ReadyState> + Send + Sync + 'static,
    ) -> ResourceTracking {
        let id = self.inner.next_source.fetch_add(1, Ordering::Relaxed);
        self.inner
            .resource_sources
            .lock()
            .expect("never poisoned")
            .insert(id, (controller, Box::new(source)));
        ResourceTracking {
            metrics: self.clone(),
            id,
        }
    }

    /// Every metric in the OpenMetrics text format, ending with `# EOF`.
    pub fn encode(&self) -> String {
        let sources = self.inner.resource_sources.lock().expect("never poisoned");
        // Recounted under the sources' lock, so concurrent scrapes cannot interleave.
        self.inner.resources.clear();
        for (controller, source) in sources.values() {
            for state in source() {
                let labels = ResourceLabels {
                    controller,
                    ready: state.status,
                    reason: state.reason,
                };
                self.inner.resources.get_or_create(&labels).inc();
            }
        }
        let mut text = String::new();
        encode(&mut text, &self.inner.registry).expect("writing to a String cannot fail");
        text
    }
}

/// One of [`AWS_CALL_OUTCOMES`]. A call AWS throttled is `throttled`, not `transient`, so that
/// throttling shows on its own: the SDK retried it and AWS throttled every attempt.
fn outcome<T>(result: &Result<T, AwsError>) -> &'static str {
    match result {
        Ok(_) => "success",
        Err(e) => match e.kind {
            ErrorKind::Transient if e.is_throttling() => "throttled",
            ErrorKind::Transient => "transient",
            ErrorKind::NotFound => "not_found",
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::InvalidContent => "invalid_content",
            ErrorKind::Conflict => "conflict",
        },
    }
}

/// Keeps a controller's resources counted; dropping it stops counting them.
#[must_use = "the resources are counted only while the guard lives"]
pub struct ResourceTracking {
    metrics: Metrics,
    id: u64,
}

impl Drop for ResourceTracking {
    fn drop(&mut self) {
        self.metrics
            .inner
            .resource_sources
            .lock()
            .expect("never poisoned")
            .remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: &str, reason: &str) -> ReadyState {
        ReadyState {
            status: status.to_owned(),
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn resources_are_recounted_at_every_scrape_and_forgotten_with_their_controller() {
        let metrics = Metrics::default();
        let current = Arc::new(Mutex::new(vec![
            state("True", "Deployed"),
            state("True", "Deployed"),
            state("False", "Deploying"),
        ]));
        let source = current.clone();
        let tracking =
            metrics.track_resources(APPCONFIGDEPLOYMENT, move || source.lock().unwrap().clone());
        let text = metrics.encode();
        assert!(text.contains(r#"appconfig_operator_resources{controller="appconfigdeployment",ready="True",reason="Deployed"} 2"#), "{text}");
        assert!(text.contains(r#"appconfig_operator_resources{controller="appconfigdeployment",ready="False",reason="Deploying"} 1"#), "{text}");

        // One moves from Deploying to Deployed, another is deleted.
        *current.lock().unwrap() = vec![state("True", "Deployed"), state("True", "Deployed")];
        let text = metrics.encode();
        assert!(text.contains(r#"reason="Deployed"} 2"#), "{text}");
        assert!(!text.contains("Deploying"), "{text}");

        drop(tracking);
        let text = metrics.encode();
        assert!(!text.contains("appconfig_operator_resources{"), "{text}");
    }

    #[test]
    fn aws_calls_are_counted_by_outcome() {
        let metrics = Metrics::default();
        metrics.aws_call::<()>(APPCONFIG, "StartDeployment", &Ok(()));
        let conflict = AwsError {
            kind: ErrorKind::Conflict,
            operation: "StartDeployment",
            code: "ConflictException".to_owned(),
            message: "taken".to_owned(),
        };
        metrics.aws_call::<()>(APPCONFIG, "StartDeployment", &Err(conflict));
        let text = metrics.encode();
        assert!(text.contains(r#"appconfig_operator_aws_calls_total{service="appconfig",operation="StartDeployment",outcome="success"} 1"#), "{text}");
        assert!(text.contains(r#"appconfig_operator_aws_calls_total{service="appconfig",operation="StartDeployment",outcome="conflict"} 1"#), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    fn error(kind: ErrorKind, code: &str) -> Result<(), AwsError> {
        Err(AwsError {
            kind,
            operation: "GetDeployment",
            code: code.to_owned(),
            message: "refused".to_owned(),
        })
    }

    #[test]
    fn every_outcome_is_listed_and_throttling_is_told_apart_from_other_transient_errors() {
        let cases = [
            (Ok(()), "success"),
            (
                error(ErrorKind::Transient, "InternalServerException"),
                "transient",
            ),
            (error(ErrorKind::Transient, "RequestFailed"), "transient"),
            (
                error(ErrorKind::Transient, "ThrottlingException"),
                "throttled",
            ),
            (
                error(ErrorKind::Transient, "TooManyRequestsException"),
                "throttled",
            ),
            (error(ErrorKind::Transient, "Throttling"), "throttled"),
            (
                error(ErrorKind::NotFound, "ResourceNotFoundException"),
                "not_found",
            ),
            (
                error(ErrorKind::AccessDenied, "AccessDeniedException"),
                "access_denied",
            ),
            (
                error(ErrorKind::InvalidRequest, "BadRequestException"),
                "invalid_request",
            ),
            (
                error(ErrorKind::InvalidContent, "BadRequestException"),
                "invalid_content",
            ),
            (error(ErrorKind::Conflict, "ConflictException"), "conflict"),
        ];
        let mut seen = Vec::new();
        for (result, expected) in &cases {
            assert_eq!(outcome(result), *expected, "{result:?}");
            seen.push(*expected);
        }
        // The list holds every outcome and nothing else, and the help text names them all.
        seen.sort_unstable();
        seen.dedup();
        let mut listed = AWS_CALL_OUTCOMES.to_vec();
        listed.sort_unstable();
        assert_eq!(seen, listed);
        let metrics = Metrics::default();
        metrics.aws_call(
            APPCONFIG,
            "GetDeployment",
            &error(ErrorKind::Transient, "ThrottlingException"),
        );
        let text = metrics.encode();
        assert!(
            text.contains(&format!("({})", AWS_CALL_OUTCOMES.join(", "))),
            "{text}"
        );
        assert!(text.contains(r#"appconfig_operator_aws_calls_total{service="appconfig",operation="GetDeployment",outcome="throttled"} 1"#), "{text}");
    }

    #[tokio::test]
    async fn reconciles_are_counted_by_result_and_timed() {
        let metrics = Metrics::default();
        let _ = metrics
            .reconcile(APPCONFIGDEPLOYMENT, async { Ok::<_, ()>(()) })
            .await;
        let _ = metrics
            .reconcile(APPCONFIGDEPLOYMENT, async { Err::<(), _>(()) })
            .await;
        let text = metrics.encode();
        assert!(text.contains(r#"appconfig_operator_reconciles_total{controller="appconfigdeployment",result="success"} 1"#), "{text}");
        assert!(text.contains(r#"appconfig_operator_reconciles_total{controller="appconfigdeployment",result="error"} 1"#), "{text}");
        assert!(text.contains(r#"appconfig_operator_reconcile_duration_seconds_count{controller="appconfigdeployment"} 2"#), "{text}");
    }
}
