//! AppConfig failing 30% of calls with throttling or 500s: still converges, no duplicate.

use appconfig_operator::emulator::Fault;

use super::{condition, ready, scenario, spec, state};
use crate::{cluster::Cluster, operator::Operator, world::World};

scenario!(throttling_and_server_errors_are_retried_to_convergence);
async fn throttling_and_server_errors_are_retried_to_convergence(cluster: &Cluster, world: &World) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("two-steps", 2, 50.0, 1).await;
    let fail = |status: u16, code: &str| {
        let control = world.emulator.control();
        control.clear_faults();
        control
            .inject_fault(Fault {
                operation: "*".into(),
                status,
                code: code.into(),
                count: None,
                ratio: Some(0.3),
            })
            .expect("the fault is valid");
    };
    // Throttling while the rollout starts, server errors while it progresses.
    fail(429, "ThrottlingException");
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "two-steps")).await;
    cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    fail(500, "InternalServerException");
    for _ in 0..4 {
        world.advance(60);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let o = cluster
        .wait_for("flags", "Ready despite the faults", |o| {
            ready(o) == Some(("True", "Deployed"))
        })
        .await;
    assert_eq!(condition(&o, "Stalled").unwrap().status, "False");
    world.emulator.control().clear_faults();
    let deployments = world.deployments(&t).await;
    assert_eq!(
        deployments.len(),
        1,
        "no duplicate deployment: {deployments:?}"
    );
    operator.stop().await;
}
