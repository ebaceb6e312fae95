//! AppConfig failing 30% of calls with throttling or 500s: still converges, no duplicate.

use appconfig_operator::emulator::Fault;

use super::{condition, flags, ready, scenario, spec, state};
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

scenario!(access_denied_and_invalid_requests_stall_until_a_resync_finds_them_fixed);
async fn access_denied_and_invalid_requests_stall_until_a_resync_finds_them_fixed(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("instant", 0, 100.0, 0).await;
    let control = world.emulator.control();
    let operator = Operator::start(cluster, world).await;

    for (operation, status, code, reason) in [
        (
            "ListDeployments",
            403,
            "AccessDeniedException",
            "AccessDenied",
        ),
        (
            "StartDeployment",
            400,
            "BadRequestException",
            "InvalidRequest",
        ),
    ] {
        control.clear_faults();
        control
            .inject_fault(Fault {
                operation: operation.into(),
                status,
                code: code.into(),
                count: None,
                ratio: Some(1.0),
            })
            .expect("the fault is valid");
        // An environment of its own, so each case starts from nothing deployed.
        let name = reason.to_lowercase();
        let mut target = t.clone();
        target.environment = world.environment(&t.application, &name, &[]).await;
        cluster.apply(&name, &spec(&target, &v1, "instant")).await;
        let o = cluster
            .wait_for(&name, reason, |o| ready(o) == Some(("False", reason)))
            .await;
        assert_eq!(flags(&o), Some(("False", "False", "True")), "{reason}");
        let message = &condition(&o, "Stalled").unwrap().message;
        assert!(
            message.starts_with(&format!("AppConfig {operation} failed: {code}")),
            "{reason}: {message}"
        );

        // Stalled is not a retry loop. An invalid request waits for the resync (2 s here); an
        // access denial is rechecked, but less and less often (0.1 s doubling, jittered).
        let calls = world.calls(operation);
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let most = if reason == "AccessDenied" { 5 } else { 1 };
        assert!(
            world.calls(operation) <= calls + most,
            "{reason}: {operation} retried {} times in 1.5 s",
            world.calls(operation) - calls
        );

        // Fixed in AWS (the role gets its permission, say): a recheck or the resync recovers it.
        control.clear_faults();
        cluster
            .wait_for(&name, "recovered", |o| {
                ready(o) == Some(("True", "Deployed"))
            })
            .await;
    }
    operator.stop().await;
}
