//! AppConfigSync at scale: 1,000 syncs of one profile, each writing a ConfigMap of its own,
//! reconciled by the AppConfigSync controller in the bench process against the AppConfig
//! emulator (its clock 20 times faster than wall time, the controller's seconds as short) and the
//! in-process fake Kubernetes API server. Prints the time until all are Ready, the AppConfig Data
//! calls and Kubernetes writes per sync per poll interval once settled, how long a new
//! deployment takes to reach every target, the runtime's tasks, and how a restart spreads the
//! first polls, each next to its target.
//!
//! `cargo bench --bench sync`. Environment overrides for quick runs:
//! - `BENCH_SYNCS`: syncs, default 1000;
//! - `BENCH_INTERVAL_SECONDS`: their `pollIntervalSeconds` (emulated), default 60;
//! - `BENCH_WINDOW_INTERVALS`: poll intervals the settled calls are counted over, default 5.

// The bench talks to the fake in-process only, not over HTTP.
#[allow(dead_code, unused_imports)]
#[path = "../tests/support/fake_api_server/mod.rs"]
mod fake_api_server;
#[allow(dead_code)] // The benchmark arranges AppConfig with part of the scenarios' world.
#[path = "../tests/controller/world.rs"]
mod world;

#[path = "support/report.rs"]
mod report;

use std::{
    env, fs,
    time::{Duration, Instant},
};

use appconfig_operator::{
    api::v1alpha1::{AppConfigSync, AppConfigSyncSpec},
    aws::Rate,
    metrics::{self, Metrics},
    sync,
    tenancy::Tenancy,
    web::CacheSync,
};
use fake_api_server::FakeApiServer;
use futures::{FutureExt, future::join_all};
use kube::{
    Api,
    api::{ListParams, PostParams},
};
use report::{note, row};
use tokio::{runtime::Handle, sync::oneshot};
use world::{SYNC_TIME_SCALE, Target, World};

const NAMESPACE: &str = "bench";
const READY_TARGET: Duration = Duration::from_secs(60);

struct Settings {
    syncs: usize,
    interval: u32,
    window_intervals: u32,
}

fn env_number(name: &str, default: usize) -> usize {
    env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let settings = Settings {
        syncs: env_number("BENCH_SYNCS", 1_000).max(1),
        interval: env_number("BENCH_INTERVAL_SECONDS", 60).clamp(15, 86_400) as u32,
        window_intervals: env_number("BENCH_WINDOW_INTERVALS", 5).max(1) as u32,
    };
    let world = World::start_fast().await;
    let t = world.target("shop", "production", "flags", &[]).await;
    let strategy = world.strategy("bench-instant", 0, 100.0, 0).await;
    deploy(&world, &t, &strategy, r#"{"version":1}"#).await;

    let fake = FakeApiServer::new();
    let controller = Running::start(&fake, &world).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_tasks = Handle::current().metrics().num_alive_tasks();
    print_header(&settings);

    let api: Api<AppConfigSync> = Api::namespaced(fake.client(), NAMESPACE);
    let interval = world.second * settings.interval;
    let started = Instant::now();
    for chunk in (0..settings.syncs).collect::<Vec<_>>().chunks(100) {
        join_all(
            chunk
                .iter()
                .map(|&i| create(&api, &t, i, settings.interval)),
        )
        .await;
    }
    let all_ready = wait_all(&api, settings.syncs, ready).await;
    let elapsed = started.elapsed();
    row(
        &format!("creation of {} syncs to all Ready", settings.syncs),
        &format!("{:.2} s", elapsed.as_secs_f64()),
        &format!("< {} s", READY_TARGET.as_secs()),
        Some(all_ready && elapsed < READY_TARGET),
    );

    // Settled: one GetLatestConfiguration per sync per interval, nothing written.
    let calls = |op: &str| world.calls(op);
    let (polls, sessions) = (
        calls("GetLatestConfiguration"),
        calls("StartConfigurationSession"),
    );
    let writes = fake.writes().len();
    let window_started = Instant::now();
    tokio::time::sleep(interval * settings.window_intervals).await;
    let window = window_started.elapsed().as_secs_f64() / interval.as_secs_f64();
    let per_sync =
        (calls("GetLatestConfiguration") - polls) as f64 / settings.syncs as f64 / window;
    row(
        "settled: GetLatestConfiguration per sync per interval",
        &format!("{per_sync:.3}"),
        "<= 1",
        Some(per_sync <= 1.0),
    );
    let new_sessions = calls("StartConfigurationSession") - sessions;
    row(
        "settled: new sessions",
        &new_sessions.to_string(),
        "0",
        Some(new_sessions == 0),
    );
    let settled_writes = fake.writes().len() - writes;
    row(
        "settled: Kubernetes writes (targets, status)",
        &settled_writes.to_string(),
        "0",
        Some(settled_writes == 0),
    );
    let tasks = Handle::current().metrics().num_alive_tasks();
    row(
        "runtime tasks: with the syncs minus before them",
        &(tasks as i64 - idle_tasks as i64).to_string(),
        "< 50",
        Some(tasks < idle_tasks + 50),
    );

    // A new deployment reaches every target within about one poll interval.
    let changed = Instant::now();
    deploy(&world, &t, &strategy, r#"{"version":2}"#).await;
    let updated = wait_targets(&fake, settings.syncs, r#"{"version":2}"#).await;
    let took = changed.elapsed();
    row(
        "new deployment → every target, in poll intervals",
        &format!("{:.2}", took.as_secs_f64() / interval.as_secs_f64()),
        "< 1.5",
        Some(updated && took < interval.mul_f64(1.5)),
    );
    if let Some((rss, peak)) = memory_kib() {
        note(&format!(
            "bench process (controller, emulator and fake API server together): RSS {:.1} MiB, peak {:.1} MiB",
            rss as f64 / 1024.0,
            peak as f64 / 1024.0
        ));
    }
    note(&format!(
        "AppConfig Data calls in all: {} StartConfigurationSession, {} GetLatestConfiguration",
        calls("StartConfigurationSession"),
        calls("GetLatestConfiguration")
    ));

    // A restart: every first poll is spread over the interval, never a burst.
    controller.stop().await;
    let sessions = calls("StartConfigurationSession");
    let controller = Running::start(&fake, &world).await;
    let tenth = interval / 10;
    let mut counts = vec![sessions];
    for _ in 0..11 {
        tokio::time::sleep(tenth).await;
        counts.push(calls("StartConfigurationSession"));
    }
    let burst = counts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let share = burst as f64 / settings.syncs as f64;
    row(
        "restart: most syncs polling in one tenth of an interval",
        &format!("{share:.3}"),
        "< 0.2",
        Some(share < 0.2),
    );
    let resumed = (counts[counts.len() - 1] - sessions) as f64 / settings.syncs as f64;
    row(
        "restart: new sessions per sync in 1.1 intervals",
        &format!("{resumed:.3}"),
        "<= 1",
        Some(resumed <= 1.0),
    );
    controller.stop().await;
    world.emulator.shutdown().await.expect("the emulator stops");
}

/// The AppConfigSync controller running in the bench process.
struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), sync::Error>>,
}

impl Running {
    async fn start(fake: &FakeApiServer, world: &World) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let config = sync::Config {
            namespace: Some(NAMESPACE.to_owned()),
            second: world.second,
            ..sync::Config::default()
        };
        let metrics = Metrics::default();
        // Unlimited: the emulator's clock runs 20 times faster than the wall clock the limit
        // counts in, so a limit here would not be the limit users run with.
        let aws = world
            .operator_clients(metrics.clone(), Rate::UNLIMITED)
            .await;
        let task = tokio::spawn(sync::run(
            fake.client(),
            Tenancy::new(fake.client(), aws, None, world.second * 15),
            config,
            metrics,
            CacheSync::unobserved(metrics::APPCONFIGSYNC),
            stopped.map(|_| ()),
        ));
        Self { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("the controller task ends")
            .expect("the controller runs");
    }
}

async fn deploy(world: &World, t: &Target, strategy: &str, content: &str) {
    let version = world
        .hosted(t, content.as_bytes(), "application/json", None)
        .await;
    world
        .deploy_by_hand(t, &t.profile, &version, strategy)
        .await;
}

async fn create(api: &Api<AppConfigSync>, t: &Target, index: usize, interval: u32) {
    let mut spec = AppConfigSyncSpec::new(&t.application, &t.environment, &t.profile);
    spec.poll_interval_seconds = interval;
    let sync = AppConfigSync::new(&format!("sync-{index:04}"), spec);
    api.create(&PostParams::default(), &sync)
        .await
        .expect("the sync is created");
}

fn ready(sync: &AppConfigSync) -> bool {
    sync.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.type_ == "Ready" && c.status == "True" && c.reason == "Synced")
        })
}

async fn wait_all(
    api: &Api<AppConfigSync>,
    count: usize,
    check: impl Fn(&AppConfigSync) -> bool,
) -> bool {
    let deadline = Instant::now() + READY_TARGET * 2;
    while Instant::now() < deadline {
        let list = api.list(&ListParams::default()).await.expect("syncs list");
        if list.items.iter().filter(|s| check(s)).count() == count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn wait_targets(fake: &FakeApiServer, count: usize, content: &str) -> bool {
    let deadline = Instant::now() + READY_TARGET * 2;
    while Instant::now() < deadline {
        let updated = (0..count)
            .filter(|i| {
                fake.get(
                    "api/v1",
                    Some(NAMESPACE),
                    "configmaps",
                    &format!("sync-{i:04}"),
                )
                .is_some_and(|cm| cm["data"]["config.json"] == content)
            })
            .count();
        if updated == count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn memory_kib() -> Option<(u64, u64)> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn print_header(settings: &Settings) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "sync: {} AppConfigSyncs of one profile, pollIntervalSeconds {} (emulated; the emulator runs {SYNC_TIME_SCALE}x wall time), controller, emulator and fake API server in the bench process; {cpus} CPUs",
        settings.syncs, settings.interval,
    );
    println!("{:<52} {:>12} {:>10}  result", "figure", "value", "target");
}
