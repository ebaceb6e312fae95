//! Leader election: two replicas against one API server, one reconciles; a killed leader is
//! replaced after the lease duration; a leader that cannot renew stops before a standby takes
//! over; a replica that loses the lease stops calling AWS at once; a stopped leader hands the
//! lease over at once.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use appconfig_operator::metrics::Metrics;
use jiff::Timestamp;
use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::MicroTime,
};
use kube::{
    Api,
    api::{ObjectMeta, PostParams},
};

use crate::{
    cluster::{Backend, Cluster, PATIENCE},
    http_get::get,
    operator::{LEASE_RETRY_PERIOD, Operator, elected},
    rbac::LEASE,
    scenarios::{ready, scenario, served, spec, state},
    world::World,
};

/// The longest a standby may take to take over a lease nobody renews: it must see the record
/// unchanged for the lease duration, having first seen it within a retry period, and checks
/// every retry period; the rest is room for a busy machine.
fn takeover_bound(lease_duration: Duration) -> Duration {
    lease_duration + 2 * LEASE_RETRY_PERIOD + Duration::from_secs(5)
}

async fn wait_until(what: &str, check: impl Fn() -> bool) {
    let reached = tokio::time::timeout(PATIENCE, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(reached.is_ok(), "not {what} after {PATIENCE:?}");
}

async fn lease(cluster: &Cluster) -> LeaseSpec {
    let leases: Api<Lease> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    leases
        .get(LEASE)
        .await
        .expect("the lease exists")
        .spec
        .expect("the lease has a spec")
}

async fn holder(cluster: &Cluster) -> Option<String> {
    lease(cluster).await.holder_identity
}

fn leading(metrics: &Metrics) -> bool {
    metrics
        .encode()
        .lines()
        .any(|line| line == "appconfig_operator_leader 1")
}

/// Waits until `operator` stands by, as its readiness says.
/// Replica "replica-a" leading and "replica-b" standing by, on a lease of `lease_duration`.
async fn leader_and_standby(
    cluster: &Cluster,
    world: &World,
    lease_duration: Duration,
) -> (Operator, Operator) {
    let a = Operator::launch(
        cluster,
        world,
        elected(cluster, "replica-a", lease_duration),
    )
    .await;
    wait_until("replica-a leading", || a.leads()).await;
    let b = Operator::launch(
        cluster,
        world,
        elected(cluster, "replica-b", lease_duration),
    )
    .await;
    wait_standby(&b).await;
    (a, b)
}

async fn wait_standby(operator: &Operator) {
    let standing_by = tokio::time::timeout(PATIENCE, async {
        loop {
            let reply = get(operator.address, "/readyz").await;
            if reply.status == 200 && reply.body.starts_with("standby") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(standing_by.is_ok(), "not standing by after {PATIENCE:?}");
}

fn aws_calls_counted(operator: &Operator) -> bool {
    operator
        .metrics
        .encode()
        .contains("appconfig_operator_aws_calls_total{")
}

// On a real cluster too: two replicas as the chart's ServiceAccount, one lease, one failover.
scenario!(one_replica_reconciles_and_another_takes_over_when_it_dies);
async fn one_replica_reconciles_and_another_takes_over_when_it_dies(
    cluster: &Cluster,
    world: &World,
) {
    const LEASE_DURATION: Duration = Duration::from_secs(3);
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    let v2 = world.version(&t, &t.profile, r#"{"v":2}"#, None).await;
    world.strategy("instant", 0, 100.0, 0).await;

    let (a, b) = leader_and_standby(cluster, world, LEASE_DURATION).await;

    cluster.apply("flags", &spec(&t, &v1, "instant")).await;
    cluster
        .wait_for("flags", "serving v1", |o| {
            ready(o).is_some_and(|(s, _)| s == "True") && served(o) == Some(v1.as_str())
        })
        .await;
    assert_eq!(world.calls("StartDeployment"), 1);
    assert!(!b.leads());
    assert!(!aws_calls_counted(&b), "{}", b.metrics.encode());
    let first_term = lease(cluster).await;
    assert_eq!(first_term.holder_identity.as_deref(), Some("replica-a"));
    assert_eq!(first_term.lease_transitions, Some(0));
    assert!(first_term.acquire_time.is_some(), "{first_term:?}");
    // The leader renews: renewTime moves, acquireTime stays.
    let renewed = tokio::time::timeout(PATIENCE, async {
        loop {
            let now = lease(cluster).await;
            if now.renew_time != first_term.renew_time {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the leader renews the lease");
    assert_eq!(renewed.acquire_time, first_term.acquire_time);
    assert_eq!(renewed.lease_transitions, Some(0));

    // Killed: the lease is not released, so it must expire first.
    let (a_metrics, a_address) = (a.metrics.clone(), a.address);
    a.kill().await;
    let killed = Instant::now();
    let a_calls = aws_call_samples(&a_metrics);
    assert!(
        tokio::net::TcpStream::connect(a_address).await.is_err(),
        "a killed replica still serves HTTP"
    );
    cluster.apply("flags", &spec(&t, &v2, "instant")).await;
    wait_until("replica-b leading", || b.leads()).await;
    let took = killed.elapsed();
    assert!(
        took < takeover_bound(LEASE_DURATION),
        "replica-b took over {took:?} after the leader died, lease duration {LEASE_DURATION:?}"
    );
    cluster
        .wait_for("flags", "serving v2", |o| {
            ready(o).is_some_and(|(s, _)| s == "True") && served(o) == Some(v2.as_str())
        })
        .await;
    assert_eq!(world.calls("StartDeployment"), 2);
    assert!(
        b.metrics.encode().contains(
            r#"appconfig_operator_deployments_started_total{controller="appconfigdeployment"} 1"#
        ),
        "{}",
        b.metrics.encode()
    );
    let second_term = lease(cluster).await;
    assert_eq!(second_term.holder_identity.as_deref(), Some("replica-b"));
    assert_eq!(second_term.lease_transitions, Some(1));
    assert!(
        second_term.acquire_time.as_ref().map(|t| t.0)
            > first_term.acquire_time.as_ref().map(|t| t.0),
        "{second_term:?}"
    );
    assert_eq!(
        aws_call_samples(&a_metrics),
        a_calls,
        "the killed replica kept calling AWS"
    );
    b.stop().await;
}

fn aws_call_samples(metrics: &appconfig_operator::metrics::Metrics) -> Vec<String> {
    metrics
        .encode()
        .lines()
        .filter(|line| line.starts_with("appconfig_operator_aws_calls_total{"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_lease_is_taken_stops_calling_aws_at_once() {
    let cluster = Cluster::connect(Backend::Fake).await;
    let world = World::start().await;
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("slow", 10, 10.0, 0).await;
    let a = Operator::launch(
        &cluster,
        &world,
        elected(&cluster, "replica-a", Duration::from_secs(3)),
    )
    .await;
    wait_until("replica-a leading", || a.leads()).await;
    cluster.apply("flags", &spec(&t, &v1, "slow")).await;
    cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    // The leader polls the deployment in progress several times a second.
    let polls = world.calls("GetDeployment");
    wait_until("polling", || world.calls("GetDeployment") > polls).await;

    // Another holder writes the lease, as a replica that took it over would.
    let leases: Api<Lease> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let mut lease = leases.get(LEASE).await.unwrap();
    let spec = lease.spec.as_mut().unwrap();
    spec.holder_identity = Some("intruder".to_owned());
    spec.renew_time = Some(MicroTime(Timestamp::now()));
    spec.lease_duration_seconds = Some(3600);
    leases
        .replace(LEASE, &PostParams::default(), &lease)
        .await
        .unwrap();

    wait_until("replica-a standing by", || !a.leads()).await;
    let calls = world.all_calls();
    let writes = cluster.fake.as_ref().unwrap().writes().len();
    // Ten poll intervals: a leader would have called AppConfig and written status in them.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        world.all_calls(),
        calls,
        "AppConfig was called after the lease was lost"
    );
    assert_eq!(
        cluster.fake.as_ref().unwrap().writes().len(),
        writes,
        "the API server was written to after the lease was lost: {:?}",
        cluster.fake.as_ref().unwrap().writes().last()
    );
    wait_standby(&a).await;
    assert_eq!(holder(&cluster).await.as_deref(), Some("intruder"));
    a.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_leader_releases_the_lease_and_a_standby_takes_over_at_once() {
    // Far longer than the test waits: only a released lease changes hands in time.
    const LEASE_DURATION: Duration = Duration::from_secs(300);
    let cluster = Cluster::connect(Backend::Fake).await;
    let world = World::start().await;
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("instant", 0, 100.0, 0).await;
    let (a, b) = leader_and_standby(&cluster, &world, LEASE_DURATION).await;

    a.stop().await;
    wait_until("replica-b leading", || b.leads()).await;
    assert_eq!(holder(&cluster).await.as_deref(), Some("replica-b"));
    // The new leader's controllers start fresh and reconcile.
    cluster.apply("flags", &spec(&t, &v1, "instant")).await;
    cluster
        .wait_for("flags", "Ready", |o| {
            ready(o).is_some_and(|(s, _)| s == "True")
        })
        .await;
    assert_eq!(world.calls("StartDeployment"), 1);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_cannot_renew_stops_before_a_standby_takes_over() {
    const LEASE_DURATION: Duration = Duration::from_secs(3);
    let cluster = Cluster::connect(Backend::Fake).await;
    let world = World::start().await;
    let (a, b) = leader_and_standby(&cluster, &world, LEASE_DURATION).await;

    // Both leader gauges, sampled until the takeover is over.
    let both_led = Arc::new(AtomicUsize::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn({
        let (a_metrics, b_metrics) = (a.metrics.clone(), b.metrics.clone());
        let (both_led, sampling) = (both_led.clone(), sampling.clone());
        async move {
            while sampling.load(Ordering::SeqCst) {
                if leading(&a_metrics) && leading(&b_metrics) {
                    both_led.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    // Replica A alone loses the API server: its renewals fail, B's reads still succeed.
    a.link.as_ref().expect("a fake API server").cut();
    let cut = Instant::now();
    wait_until("replica-a standing down", || !a.leads()).await;
    let stood_down = cut.elapsed();
    wait_until("replica-b leading", || b.leads()).await;
    let took = cut.elapsed();
    sampling.store(false, Ordering::SeqCst);
    sampler.await.unwrap();

    assert_eq!(
        both_led.load(Ordering::SeqCst),
        0,
        "both replicas reported leading at once"
    );
    assert!(
        stood_down < took,
        "A stood down {stood_down:?} after the cut, B led {took:?}"
    );
    assert!(
        took >= LEASE_DURATION - LEASE_RETRY_PERIOD,
        "replica-b took over {took:?} after the cut, before the lease could expire"
    );
    assert!(took < takeover_bound(LEASE_DURATION), "took {took:?}");
    let spec = lease(&cluster).await;
    assert_eq!(spec.holder_identity.as_deref(), Some("replica-b"));
    assert_eq!(spec.lease_transitions, Some(1));
    a.link.as_ref().unwrap().restore();
    wait_standby(&a).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_retaking_its_own_lapsed_lease_starts_a_new_term() {
    const LEASE_DURATION: Duration = Duration::from_secs(3);
    let cluster = Cluster::connect(Backend::Fake).await;
    let world = World::start().await;
    let a = Operator::launch(
        &cluster,
        &world,
        elected(&cluster, "replica-a", LEASE_DURATION),
    )
    .await;
    wait_until("replica-a leading", || a.leads()).await;
    let first_term = lease(&cluster).await;
    let link = a.link.clone().expect("a fake API server");
    link.cut();
    wait_until("replica-a standing down", || !a.leads()).await;
    link.restore();
    wait_until("replica-a leading again", || a.leads()).await;

    let second_term = lease(&cluster).await;
    assert_eq!(second_term.holder_identity.as_deref(), Some("replica-a"));
    assert_eq!(second_term.lease_transitions, Some(1), "{second_term:?}");
    assert!(
        second_term.acquire_time.as_ref().map(|t| t.0)
            > first_term.acquire_time.as_ref().map(|t| t.0),
        "acquireTime kept from the first term: {second_term:?}"
    );
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_left_by_a_dead_holder_is_taken_after_the_lease_duration_not_before() {
    const LEASE_DURATION: Duration = Duration::from_secs(3);
    let cluster = Cluster::connect(Backend::Fake).await;
    let world = World::start().await;
    let leases: Api<Lease> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let left = Lease {
        metadata: ObjectMeta {
            name: Some(LEASE.to_owned()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("appconfig-operator_dead0000".to_owned()),
            lease_duration_seconds: Some(LEASE_DURATION.as_secs().try_into().unwrap()),
            acquire_time: Some(MicroTime(Timestamp::now())),
            renew_time: Some(MicroTime(Timestamp::now())),
            lease_transitions: Some(4),
            ..LeaseSpec::default()
        }),
    };
    leases.create(&PostParams::default(), &left).await.unwrap();

    let started = Instant::now();
    let a = Operator::launch(
        &cluster,
        &world,
        elected(&cluster, "replica-a", LEASE_DURATION),
    )
    .await;
    wait_standby(&a).await;
    wait_until("replica-a leading", || a.leads()).await;
    let took = started.elapsed();
    // Measured on replica A's own clock, from its first sight of the record: never sooner.
    assert!(
        took >= LEASE_DURATION,
        "took the lease {took:?} after starting"
    );
    assert!(took < takeover_bound(LEASE_DURATION), "took {took:?}");
    let spec = lease(&cluster).await;
    assert_eq!(spec.holder_identity.as_deref(), Some("replica-a"));
    assert_eq!(spec.lease_transitions, Some(5));
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_stops_promptly_when_the_api_server_does_not_answer() {
    // Far longer than the test waits: the term cannot end on its own meanwhile.
    const LEASE_DURATION: Duration = Duration::from_secs(300);
    let cluster = Cluster::connect(Backend::Fake).await;
    let world = World::start().await;
    let (a, b) = leader_and_standby(&cluster, &world, LEASE_DURATION).await;
    // A standby's attempt on the lease gets no answer: the stop must not wait for one.
    let b_link = b.link.clone().expect("a fake API server");
    b_link.stall();
    wait_until("replica-b's next attempt hanging", || {
        b_link.stalled_requests() > 0
    })
    .await;
    b.stop().await;
    a.link.as_ref().expect("a fake API server").stall();
    // Releasing the lease gets no answer: the stop must not wait for one
    // (`stop` fails past its own bound, far below a client's read timeout).
    a.stop().await;
    // Unreleased, the lease still names the stopped replica until it expires.
    assert_eq!(holder(&cluster).await.as_deref(), Some("replica-a"));
}
