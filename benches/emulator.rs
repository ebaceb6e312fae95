//! Emulator throughput: requests per second and p50/p99 latency of GetDeployment and
//! ListDeployments through the official SDK, with 1,000 deployments in one environment.
//!
//! `cargo bench --bench emulator` (BENCH_SECONDS sets the time per operation, default 5;
//! BENCH_CLIENTS the number of concurrent clients, default 8).

#[path = "../tests/emulator/clients.rs"]
mod clients;
#[allow(dead_code)] // The benchmark needs only part of the test harness.
#[path = "../tests/emulator/harness.rs"]
mod harness;

use std::{
    env,
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use harness::Harness;

const DEPLOYMENTS: i32 = 1_000;

struct Target {
    client: aws_sdk_appconfig::Client,
    application: String,
    environment: String,
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let clients = env_number("BENCH_CLIENTS", 8);
    let harness = Harness::start().await;
    let target = Arc::new(populate(&harness).await);
    println!(
        "emulator: {DEPLOYMENTS} deployments in one environment, {clients} concurrent SDK clients, {seconds}s per operation, {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10}",
        "operation", "requests", "req/s", "p50", "p99"
    );
    let duration = Duration::from_secs(seconds);
    measure(
        "GetDeployment",
        &target,
        clients,
        duration,
        |t: Arc<Target>, i| async move {
            let number = 1 + (i % DEPLOYMENTS as u64) as i32;
            t.client
                .get_deployment()
                .application_id(&t.application)
                .environment_id(&t.environment)
                .deployment_number(number)
                .send()
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        },
    )
    .await;
    measure(
        "ListDeployments",
        &target,
        clients,
        duration,
        |t: Arc<Target>, _| async move {
            t.client
                .list_deployments()
                .application_id(&t.application)
                .environment_id(&t.environment)
                .max_results(50)
                .send()
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        },
    )
    .await;
    harness
        .emulator
        .shutdown()
        .await
        .expect("the emulator stops");
}

fn env_number(name: &str, default: u64) -> u64 {
    env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An environment with `DEPLOYMENTS` completed deployments (a zero-duration, zero-bake
/// strategy completes each one by the time the next starts).
async fn populate(h: &Harness) -> Target {
    let fixture = h.fixture(&[], r#"{"bench":true}"#).await;
    let strategy = h
        .appconfig
        .create_deployment_strategy()
        .name("instant")
        .deployment_duration_in_minutes(0)
        .final_bake_time_in_minutes(0)
        .growth_factor(100.0)
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    for _ in 0..DEPLOYMENTS {
        h.deploy(&fixture, "1", &strategy).await;
    }
    Target {
        client: h.appconfig.clone(),
        application: fixture.application,
        environment: fixture.environment,
    }
}

async fn measure<F, Fut>(
    name: &'static str,
    target: &Arc<Target>,
    clients: u64,
    duration: Duration,
    call: F,
) where
    F: Fn(Arc<Target>, u64) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let target = Arc::clone(target);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = worker;
                while started.elapsed() < duration {
                    let sent = Instant::now();
                    call(Arc::clone(&target), i)
                        .await
                        .unwrap_or_else(|e| panic!("{name} failed: {e}"));
                    latencies.push(sent.elapsed());
                    i += clients;
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("a benchmark client panicked"));
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!(
        "{name:<16} {:>10} {:>10.0} {:>10.2?} {:>10.2?}",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(0.50),
        percentile(0.99)
    );
}
