//! Deployments through the SDK: the §7.3 schedules, conflicts, StopDeployment and revert, alarm
//! rollbacks, Environment.State and ListDeployments.

use std::time::{Duration, Instant};

use appconfig_operator::emulator::{EmulatorConfig, EnvironmentStateStyle, Settings, StepSchedule};
use aws_sdk_appconfig::{
    Client,
    error::SdkError,
    operation::{
        get_deployment::GetDeploymentOutput,
        start_deployment::{
            StartDeploymentError, StartDeploymentOutput, builders::StartDeploymentFluentBuilder,
        },
        stop_deployment::{StopDeploymentError, StopDeploymentOutput},
    },
    primitives::DateTime,
    types::{DeploymentEvent, GrowthType},
};
use serde_json::json;

use crate::harness::{Fixture, Harness};

pub const V1: &str = r#"{"version":1}"#;
pub const V2: &str = r#"{"version":2}"#;
pub const ALL_AT_ONCE: &str = "AppConfig.AllAtOnce";
/// 50% at 0:30, 100% and baking at 1:00, complete at 2:00.
pub const LINEAR_50: &str = "AppConfig.Linear50PercentEvery30Seconds";
const CANARY: &str = "AppConfig.Canary10Percent20Minutes";
pub const ALARM: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors";
const ACCOUNT_ID: &str = "123456789012";

/// An emulator whose clock moves only when the test advances it: a time scale this small turns
/// any wall-clock time into zero emulated nanoseconds.
pub async fn still_with(settings: Settings) -> Harness {
    Harness::with(EmulatorConfig {
        time_scale: f64::MIN_POSITIVE,
        settings,
        ..EmulatorConfig::default()
    })
    .await
}

pub async fn still() -> Harness {
    still_with(Settings::default()).await
}

/// `"m:ss"` after a deployment started, as the §7.3 tables write it.
pub fn at(mmss: &str) -> Duration {
    let (minutes, seconds) = mmss.split_once(':').expect("m:ss");
    let seconds: u64 = seconds.parse().expect("seconds");
    Duration::from_secs(minutes.parse::<u64>().expect("minutes") * 60 + seconds)
}

pub fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}

/// One entry of a deployment's EventLog, its time as an offset from StartedAt.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: String,
    pub by: String,
    pub text: String,
    pub after: Duration,
}

impl Event {
    fn new(kind: &str, by: &str, text: &str, after: Duration) -> Self {
        Self {
            kind: kind.into(),
            by: by.into(),
            text: text.into(),
            after,
        }
    }

    fn read(event: &DeploymentEvent, started: &DateTime) -> Self {
        Self::new(
            event.event_type().expect("EventType").as_str(),
            event.triggered_by().expect("TriggeredBy").as_str(),
            event.description().expect("Description"),
            since(started, event.occurred_at().expect("OccurredAt")),
        )
    }
}

fn since(start: &DateTime, at: &DateTime) -> Duration {
    let nanos = i128::from(at.secs() - start.secs()) * 1_000_000_000
        + i128::from(at.subsec_nanos())
        - i128::from(start.subsec_nanos());
    Duration::from_nanos(u64::try_from(nanos).expect("not before StartedAt"))
}

/// What these tests read of a `Deployment`, whichever operation answered it.
#[derive(Debug)]
pub struct Deployment {
    pub number: i32,
    pub state: String,
    pub percentage: f32,
    pub configuration_version: Option<String>,
    pub version_label: Option<String>,
    pub completed_after: Option<Duration>,
    /// Newest first, as on the wire.
    pub events: Vec<Event>,
}

macro_rules! deployment_from {
    ($($output:ty),+) => {$(
        impl From<$output> for Deployment {
            fn from(output: $output) -> Self {
                let started = output.started_at.expect("StartedAt");
                Self {
                    number: output.deployment_number,
                    state: output.state.expect("State").as_str().to_owned(),
                    percentage: output.percentage_complete.expect("PercentageComplete"),
                    configuration_version: output.configuration_version,
                    version_label: output.version_label,
                    completed_after: output.completed_at.map(|at| since(&started, &at)),
                    events: output
                        .event_log
                        .unwrap_or_default()
                        .iter()
                        .map(|event| Event::read(event, &started))
                        .collect(),
                }
            }
        }
    )+};
}

deployment_from!(
    StartDeploymentOutput,
    GetDeploymentOutput,
    StopDeploymentOutput
);

pub fn start_request(
    client: &Client,
    f: &Fixture,
    version: &str,
    strategy: &str,
) -> StartDeploymentFluentBuilder {
    client
        .start_deployment()
        .application_id(&f.application)
        .environment_id(&f.environment)
        .configuration_profile_id(&f.profile)
        .configuration_version(version)
        .deployment_strategy_id(strategy)
}

pub async fn send(
    request: StartDeploymentFluentBuilder,
) -> Result<Deployment, StartDeploymentError> {
    request
        .send()
        .await
        .map(Deployment::from)
        .map_err(SdkError::into_service_error)
}

pub async fn start(
    h: &Harness,
    f: &Fixture,
    version: &str,
    strategy: &str,
) -> Result<Deployment, StartDeploymentError> {
    send(start_request(&h.appconfig, f, version, strategy)).await
}

pub async fn get(h: &Harness, f: &Fixture, number: i32) -> Deployment {
    h.deployment(f, number).await.into()
}

pub async fn stop(
    h: &Harness,
    f: &Fixture,
    number: i32,
    allow_revert: bool,
) -> Result<Deployment, StopDeploymentError> {
    h.appconfig
        .stop_deployment()
        .application_id(&f.application)
        .environment_id(&f.environment)
        .deployment_number(number)
        .set_allow_revert(allow_revert.then_some(true))
        .send()
        .await
        .map(Deployment::from)
        .map_err(SdkError::into_service_error)
}

/// Deploys `version` with AllAtOnce and lets it complete.
pub async fn complete(h: &Harness, f: &Fixture, version: &str) -> Deployment {
    let number = start(h, f, version, ALL_AT_ONCE).await.unwrap().number;
    h.advance(at("10:00"));
    let done = get(h, f, number).await;
    assert_eq!(done.state, "COMPLETE");
    done
}

pub async fn create_strategy(
    h: &Harness,
    duration_minutes: i32,
    growth_type: GrowthType,
    growth_factor: f32,
    bake_minutes: i32,
) -> String {
    h.appconfig
        .create_deployment_strategy()
        .name("custom")
        .deployment_duration_in_minutes(duration_minutes)
        .growth_type(growth_type)
        .growth_factor(growth_factor)
        .final_bake_time_in_minutes(bake_minutes)
        .send()
        .await
        .unwrap()
        .id
        .unwrap()
}

pub async fn alarm(h: &Harness, arn: &str, state: &str) {
    let (status, body) = h
        .admin(
            "POST",
            "alarms",
            Some(json!({"alarmArn": arn, "state": state})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

fn started() -> Event {
    Event::new(
        "DEPLOYMENT_STARTED",
        "USER",
        "Deployment started",
        Duration::ZERO,
    )
}

/// A strategy's timetable as the §7.3 tables write it.
struct Schedule {
    mode: StepSchedule,
    steps: Vec<(Duration, f32)>,
    bake: Duration,
    complete: Duration,
}

impl Schedule {
    /// A documented-mode schedule; `steps` like `"50%@0:30 100%@1:00"`.
    fn new(steps: &str, bake: &str, complete: &str) -> Self {
        let step = |step: &str| {
            let (percent, due) = step.split_once("%@").expect("P%@m:ss");
            (at(due), percent.parse().expect("a percentage"))
        };
        Self {
            mode: StepSchedule::Documented,
            steps: steps.split_whitespace().map(step).collect(),
            bake: at(bake),
            complete: at(complete),
        }
    }

    fn observed(steps: &str, bake: &str, complete: &str) -> Self {
        Self {
            mode: StepSchedule::Observed,
            ..Self::new(steps, bake, complete)
        }
    }

    fn expected_at(&self, t: Duration) -> (&'static str, f32) {
        if t >= self.complete {
            ("COMPLETE", 100.0)
        } else if t >= self.bake {
            ("BAKING", 100.0)
        } else {
            let reached = self.steps.iter().rfind(|(due, _)| *due <= t);
            ("DEPLOYING", reached.map_or(0.0, |(_, p)| *p))
        }
    }

    /// Every due time, the millisecond before it, and a day after completion.
    fn checkpoints(&self) -> Vec<Duration> {
        let due = self
            .steps
            .iter()
            .map(|(t, _)| *t)
            .chain([self.bake, self.complete]);
        let mut points: Vec<Duration> = due
            .flat_map(|t| [t.saturating_sub(Duration::from_millis(1)), t])
            .chain([self.complete + hours(24)])
            .collect();
        points.sort();
        points.dedup();
        points
    }

    fn event_log(&self) -> Vec<Event> {
        let mut log = vec![started()];
        log.extend(self.steps.iter().map(|(t, p)| {
            let text = format!("Configuration available to {p:.2}% of clients");
            Event::new("PERCENTAGE_UPDATED", "APPCONFIG", &text, *t)
        }));
        log.push(Event::new(
            "BAKE_TIME_STARTED",
            "APPCONFIG",
            "Deployment bake time started",
            self.bake,
        ));
        log.push(Event::new(
            "DEPLOYMENT_COMPLETED",
            "APPCONFIG",
            "Deployment completed",
            self.complete,
        ));
        log.reverse();
        log
    }
}

enum Strategy {
    Predefined(&'static str),
    /// Duration, growth type, growth factor and bake time.
    Custom(i32, GrowthType, f32, i32),
}

/// Deploys with `strategy` on a still emulator in the schedule's mode, checks state and
/// percentage at and just before every due time, then the final EventLog. Returns the completed
/// deployment.
async fn follows(strategy: Strategy, schedule: Schedule) -> Deployment {
    let h = still_with(Settings {
        step_schedule: schedule.mode,
        ..Settings::default()
    })
    .await;
    let strategy = match strategy {
        Strategy::Predefined(id) => id.to_owned(),
        Strategy::Custom(duration, growth_type, factor, bake) => {
            create_strategy(&h, duration, growth_type, factor, bake).await
        }
    };
    let f = h.fixture(&[], V1).await;
    let begun = start(&h, &f, "1", &strategy).await.unwrap();
    assert_eq!((begun.state.as_str(), begun.percentage), ("DEPLOYING", 0.0));
    assert_eq!(begun.events, [started()]);
    assert_eq!(begun.completed_after, None);

    let mut clock = Duration::ZERO;
    for t in schedule.checkpoints() {
        h.advance(t - clock);
        clock = t;
        let d = get(&h, &f, begun.number).await;
        assert_eq!(
            (d.state.as_str(), d.percentage),
            schedule.expected_at(t),
            "at {t:?}"
        );
        let completed = (t >= schedule.complete).then_some(schedule.complete);
        assert_eq!(d.completed_after, completed, "at {t:?}");
    }
    let done = get(&h, &f, begun.number).await;
    assert_eq!(done.events, schedule.event_log());
    done
}

#[tokio::test]
async fn all_at_once_bakes_at_once_and_completes_after_ten_minutes() {
    let schedule = Schedule::new("100%@0:00", "0:00", "10:00");
    let done = follows(Strategy::Predefined(ALL_AT_ONCE), schedule).await;
    let kinds: Vec<&str> = done.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "DEPLOYMENT_COMPLETED",
            "BAKE_TIME_STARTED",
            "PERCENTAGE_UPDATED",
            "DEPLOYMENT_STARTED"
        ]
    );
}

/// One test per worked schedule of §7.3: strategy, then steps, bake start and completion.
macro_rules! schedules {
    ($($(#[$doc:meta])* $name:ident: $strategy:expr, $schedule:expr;)+) => {$(
        $(#[$doc])*
        #[tokio::test]
        async fn $name() {
            follows($strategy, $schedule).await;
        }
    )+};
}

schedules! {
    linear_50_percent_every_30_seconds:
        Strategy::Predefined(LINEAR_50),
        Schedule::new("50%@0:30 100%@1:00", "1:00", "2:00");
    canary_10_percent_20_minutes:
        Strategy::Predefined(CANARY),
        Schedule::new("10%@4:00 20%@8:00 40%@12:00 80%@16:00 100%@20:00", "20:00", "30:00");
    linear_20_percent_every_6_minutes:
        Strategy::Predefined("AppConfig.Linear20PercentEvery6Minutes"),
        Schedule::new("20%@6:00 40%@12:00 60%@18:00 80%@24:00 100%@30:00", "30:00", "60:00");
    /// The capture example (D15 L25 B0): baking and completion coincide.
    custom_linear_without_bake_time:
        Strategy::Custom(15, GrowthType::Linear, 25.0, 0),
        Schedule::new("25%@3:45 50%@7:30 75%@11:15 100%@15:00", "15:00", "15:00");
    /// The D/(N+1) schedule of the real event log: 100% one interval before baking starts.
    observed_step_schedule_reproduces_the_capture:
        Strategy::Custom(15, GrowthType::Linear, 25.0, 0),
        Schedule::observed("25%@3:00 50%@6:00 75%@9:00 100%@12:00", "15:00", "15:00");
    observed_canary:
        Strategy::Predefined(CANARY),
        Schedule::observed("10%@3:20 20%@6:40 40%@10:00 80%@13:20 100%@16:40", "20:00", "30:00");
}

#[tokio::test]
async fn custom_exponential() {
    let steps = "12.5%@7:30 25%@15:00 50%@22:30 100%@30:00";
    let exponential = Strategy::Custom(30, GrowthType::Exponential, 12.5, 5);
    let done = follows(exponential, Schedule::new(steps, "30:00", "35:00")).await;
    let texts: Vec<&str> = done.events[2..6].iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Configuration available to 100.00% of clients",
            "Configuration available to 50.00% of clients",
            "Configuration available to 25.00% of clients",
            "Configuration available to 12.50% of clients",
        ]
    );
}

/// At 600x the two emulated minutes of Linear50PercentEvery30Seconds pass in 0.2 s of wall time.
#[tokio::test]
async fn with_a_time_scale_deployments_progress_with_wall_time() {
    let h = Harness::with(EmulatorConfig {
        time_scale: 600.0,
        ..EmulatorConfig::default()
    })
    .await;
    let f = h.fixture(&[], V1).await;
    let number = start(&h, &f, "1", LINEAR_50).await.unwrap().number;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut percentages = Vec::new();
    let done = loop {
        let d = get(&h, &f, number).await;
        percentages.push(d.percentage);
        if d.state == "COMPLETE" {
            break d;
        }
        assert!(Instant::now() < deadline, "still {d:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(percentages.is_sorted(), "{percentages:?}");
    assert_eq!(done.completed_after, Some(at("2:00")));
}

fn is_conflict(error: &StartDeploymentError) -> bool {
    matches!(error, StartDeploymentError::ConflictException(_))
}

#[tokio::test]
async fn a_second_deployment_conflicts_until_the_first_ends() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    h.version(&f, V2, None).await;
    let first = start(&h, &f, "1", LINEAR_50).await.unwrap();

    let deploying = start(&h, &f, "2", ALL_AT_ONCE).await.unwrap_err();
    assert!(is_conflict(&deploying), "{deploying:?}");
    h.advance(at("1:30"));
    assert_eq!(get(&h, &f, first.number).await.state, "BAKING");
    let baking = start(&h, &f, "2", ALL_AT_ONCE).await.unwrap_err();
    assert!(is_conflict(&baking), "{baking:?}");

    h.advance(at("0:30"));
    let second = start(&h, &f, "2", ALL_AT_ONCE).await.unwrap();
    assert_eq!(second.number, first.number + 1);
}

/// "You can only deploy one configuration at a time to an Environment", but environments are
/// independent.
#[tokio::test]
async fn the_lock_is_per_environment_whatever_the_profile() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    start(&h, &f, "1", LINEAR_50).await.unwrap();

    let profile = h.appconfig.create_configuration_profile();
    let other_profile = Fixture {
        profile: profile
            .application_id(&f.application)
            .name("other")
            .location_uri("hosted")
            .send()
            .await
            .unwrap()
            .id
            .unwrap(),
        ..f.clone()
    };
    h.version(&other_profile, V2, None).await;
    let refused = start(&h, &other_profile, "1", LINEAR_50).await.unwrap_err();
    assert!(is_conflict(&refused), "{refused:?}");

    let environment = h.appconfig.create_environment();
    let other_environment = Fixture {
        environment: environment
            .application_id(&f.application)
            .name("other")
            .send()
            .await
            .unwrap()
            .id
            .unwrap(),
        ..f.clone()
    };
    let accepted = start(&h, &other_environment, "1", LINEAR_50).await.unwrap();
    assert_eq!(accepted.number, 1);
}

#[tokio::test]
async fn latest_deployment_number_must_match_the_environment() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    let with_latest =
        |latest| start_request(&h.appconfig, &f, "1", ALL_AT_ONCE).latest_deployment_number(latest);

    let ahead = send(with_latest(1)).await.unwrap_err();
    assert!(is_conflict(&ahead), "{ahead:?}");
    assert_eq!(send(with_latest(0)).await.unwrap().number, 1);
    h.advance(at("10:00"));
    let stale = send(with_latest(0)).await.unwrap_err();
    assert!(is_conflict(&stale), "{stale:?}");
    assert_eq!(send(with_latest(1)).await.unwrap().number, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_starts_on_a_free_environment_let_exactly_one_through() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    let racers =
        (0..20).map(|_| tokio::spawn(send(start_request(&h.appconfig, &f, "1", LINEAR_50))));
    let results: Vec<_> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let accepted = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(is_conflict))
        .count();
    assert_eq!((accepted, conflicts), (1, 19), "{results:?}");
    assert_eq!(list(&h, &f).await.len(), 1);
}

#[tokio::test]
async fn stopping_a_deploying_deployment_rolls_it_back_for_good() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    let number = start(&h, &f, "1", LINEAR_50).await.unwrap().number;
    h.advance(at("0:30"));

    let answer = stop(&h, &f, number, false).await.unwrap();
    assert_eq!(answer.state, "ROLLED_BACK");
    h.advance(hours(1));
    let stopped = get(&h, &f, number).await;
    assert_eq!(stopped.state, "ROLLED_BACK");
    let [completed, rollback, reached, ..] = stopped.events.as_slice() else {
        panic!("{stopped:?}")
    };
    assert_eq!(
        (completed.kind.as_str(), completed.after),
        ("ROLLBACK_COMPLETED", at("0:30"))
    );
    assert_eq!(
        (rollback.kind.as_str(), rollback.by.as_str(), rollback.after),
        ("ROLLBACK_STARTED", "USER", at("0:30"))
    );
    assert!(rollback.text.contains(ACCOUNT_ID), "{rollback:?}");
    assert_eq!(reached.text, "Configuration available to 50.00% of clients");
    assert_eq!(stopped.events.len(), 4, "no step after the rollback");

    for allow_revert in [false, true] {
        let again = stop(&h, &f, number, allow_revert).await.unwrap_err();
        assert!(again.is_bad_request_exception(), "{again:?}");
    }
}

#[tokio::test]
async fn stopping_a_baking_deployment_rolls_it_back() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    let number = start(&h, &f, "1", ALL_AT_ONCE).await.unwrap().number;
    h.advance(at("5:00"));
    assert_eq!(get(&h, &f, number).await.state, "BAKING");
    stop(&h, &f, number, true).await.unwrap();
    let stopped = get(&h, &f, number).await;
    assert_eq!(stopped.state, "ROLLED_BACK");
    assert_eq!(stopped.events[1].kind, "ROLLBACK_STARTED");
    assert_eq!(stopped.completed_after, None);
}

#[tokio::test]
async fn a_completed_deployment_reverts_only_when_asked_within_72_hours() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    let first = complete(&h, &f, "1").await.number;
    let refused = stop(&h, &f, first, false).await.unwrap_err();
    assert!(refused.is_bad_request_exception(), "{refused:?}");
    assert_eq!(get(&h, &f, first).await.state, "COMPLETE");

    h.advance(hours(72));
    assert_eq!(stop(&h, &f, first, true).await.unwrap().state, "REVERTED");
    let reverted = get(&h, &f, first).await;
    assert_eq!(reverted.state, "REVERTED");
    assert_eq!(
        (reverted.events[0].kind.as_str(), reverted.events[0].after),
        ("REVERT_COMPLETED", at("10:00") + hours(72))
    );
    let again = stop(&h, &f, first, true).await.unwrap_err();
    assert!(again.is_bad_request_exception(), "{again:?}");

    let second = complete(&h, &f, "1").await.number;
    h.advance(hours(72) + Duration::from_millis(1));
    let too_late = stop(&h, &f, second, true).await.unwrap_err();
    assert!(too_late.is_bad_request_exception(), "{too_late:?}");
    assert_eq!(get(&h, &f, second).await.state, "COMPLETE");
}

#[tokio::test]
async fn stopping_an_unknown_deployment_is_not_found() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    complete(&h, &f, "1").await;
    let missing = stop(&h, &f, 2, false).await.unwrap_err();
    assert!(
        matches!(missing, StopDeploymentError::ResourceNotFoundException(_)),
        "{missing:?}"
    );
}

/// Checks that an alarm on [`ALARM`] rolled the deployment back at `when`.
fn assert_rolled_back_by_alarm(d: &Deployment, when: Duration) {
    assert_eq!(d.state, "ROLLED_BACK");
    let [completed, rollback, ..] = d.events.as_slice() else {
        panic!("{d:?}")
    };
    assert_eq!(completed.kind, "ROLLBACK_COMPLETED");
    assert_eq!(
        (rollback.kind.as_str(), rollback.by.as_str(), rollback.after),
        ("ROLLBACK_STARTED", "CLOUDWATCH_ALARM", when)
    );
    assert!(rollback.text.contains(ALARM), "{rollback:?}");
}

#[tokio::test]
async fn an_alarm_rolls_back_a_deploying_deployment_and_after_ok_deployments_complete() {
    let h = still().await;
    let f = h.fixture(&[ALARM], V1).await;
    let number = start(&h, &f, "1", LINEAR_50).await.unwrap().number;
    h.advance(at("0:45"));
    alarm(&h, ALARM, "ALARM").await;
    h.advance(hours(1));
    assert_rolled_back_by_alarm(&get(&h, &f, number).await, at("0:45"));

    alarm(&h, ALARM, "OK").await;
    let next = start(&h, &f, "1", LINEAR_50).await.unwrap().number;
    h.advance(at("2:00"));
    assert_eq!(get(&h, &f, next).await.state, "COMPLETE");
}

#[tokio::test]
async fn an_alarm_rolls_back_a_baking_deployment() {
    let h = still().await;
    let f = h.fixture(&[ALARM], V1).await;
    let number = start(&h, &f, "1", LINEAR_50).await.unwrap().number;
    h.advance(at("1:30"));
    assert_eq!(get(&h, &f, number).await.state, "BAKING");
    alarm(&h, ALARM, "ALARM").await;
    assert_rolled_back_by_alarm(&get(&h, &f, number).await, at("1:30"));
}

#[tokio::test]
async fn an_alarm_after_completion_changes_nothing() {
    let h = still().await;
    let f = h.fixture(&[ALARM], V1).await;
    let done = complete(&h, &f, "1").await;
    alarm(&h, ALARM, "ALARM").await;
    h.advance(hours(1));
    let after = get(&h, &f, done.number).await;
    assert_eq!(after.state, "COMPLETE");
    assert_eq!(after.events, done.events);
}

#[tokio::test]
async fn an_alarm_the_environment_does_not_monitor_changes_nothing() {
    let h = still().await;
    let f = h.fixture(&[ALARM], V1).await;
    let number = start(&h, &f, "1", LINEAR_50).await.unwrap().number;
    h.advance(at("0:45"));
    alarm(
        &h,
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:elsewhere",
        "ALARM",
    )
    .await;
    h.advance(at("1:15"));
    let done = get(&h, &f, number).await;
    assert_eq!(done.state, "COMPLETE");
    assert!(done.events.iter().all(|e| e.kind != "ROLLBACK_STARTED"));
}

async fn environment_state(h: &Harness, f: &Fixture) -> String {
    h.appconfig
        .get_environment()
        .application_id(&f.application)
        .environment_id(&f.environment)
        .send()
        .await
        .unwrap()
        .state
        .expect("State")
        .as_str()
        .to_owned()
}

/// Walks an environment through every state; `names` spell ready, deploying, rolled back and
/// reverted.
async fn environment_states_follow_deployments(h: Harness, names: [&str; 4]) {
    let [ready, deploying, rolled_back, reverted] = names;
    let f = h.fixture(&[], V1).await;
    assert_eq!(environment_state(&h, &f).await, ready);
    start(&h, &f, "1", LINEAR_50).await.unwrap();
    assert_eq!(environment_state(&h, &f).await, deploying);
    h.advance(at("1:30"));
    assert_eq!(environment_state(&h, &f).await, deploying, "while baking");
    h.advance(at("0:30"));
    assert_eq!(environment_state(&h, &f).await, ready);

    let number = start(&h, &f, "1", LINEAR_50).await.unwrap().number;
    stop(&h, &f, number, false).await.unwrap();
    assert_eq!(environment_state(&h, &f).await, rolled_back);

    let number = complete(&h, &f, "1").await.number;
    assert_eq!(environment_state(&h, &f).await, ready);
    stop(&h, &f, number, true).await.unwrap();
    assert_eq!(environment_state(&h, &f).await, reverted);
}

#[tokio::test]
async fn environment_state_is_camel_case_by_default() {
    environment_states_follow_deployments(
        still().await,
        ["ReadyForDeployment", "Deploying", "RolledBack", "Reverted"],
    )
    .await;
}

#[tokio::test]
async fn environment_state_can_be_screaming_case() {
    let h = still_with(Settings {
        environment_state_style: EnvironmentStateStyle::Screaming,
        ..Settings::default()
    })
    .await;
    environment_states_follow_deployments(
        h,
        [
            "READY_FOR_DEPLOYMENT",
            "DEPLOYING",
            "ROLLED_BACK",
            "REVERTED",
        ],
    )
    .await;
}

async fn list(h: &Harness, f: &Fixture) -> Vec<aws_sdk_appconfig::types::DeploymentSummary> {
    h.appconfig
        .list_deployments()
        .application_id(&f.application)
        .environment_id(&f.environment)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}

#[tokio::test]
async fn list_deployments_newest_first_and_deploying_by_label() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    h.version(&f, V2, Some("release-2")).await;
    complete(&h, &f, "1").await;

    let by_label = start(&h, &f, "release-2", LINEAR_50).await.unwrap();
    assert_eq!(by_label.configuration_version.as_deref(), Some("release-2"));
    assert_eq!(by_label.version_label.as_deref(), Some("release-2"));
    stop(&h, &f, by_label.number, false).await.unwrap();
    let fetched = get(&h, &f, by_label.number).await;
    assert_eq!(fetched.version_label.as_deref(), Some("release-2"));
    start(&h, &f, "2", ALL_AT_ONCE).await.unwrap();
    h.advance(at("1:00"));

    let rows: Vec<_> = list(&h, &f)
        .await
        .iter()
        .map(|d| {
            assert_eq!(d.configuration_profile_id(), Some(f.profile.as_str()));
            (
                d.deployment_number(),
                d.state().unwrap().as_str().to_owned(),
                d.configuration_version().unwrap().to_owned(),
                d.version_label().map(str::to_owned),
            )
        })
        .collect();
    let label = Some("release-2".to_owned());
    assert_eq!(
        rows,
        [
            (3, "BAKING".into(), "2".into(), label.clone()),
            (2, "ROLLED_BACK".into(), "release-2".into(), label),
            (1, "COMPLETE".into(), "1".into(), None),
        ]
    );
}

#[tokio::test]
async fn unknown_versions_and_strategies_are_not_found() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    for (version, strategy) in [
        ("2", ALL_AT_ONCE),
        ("no-such-label", ALL_AT_ONCE),
        ("1", "abc1234"),
        ("1", "AppConfig.NoSuchStrategy"),
    ] {
        let error = start(&h, &f, version, strategy).await.unwrap_err();
        assert!(
            matches!(error, StartDeploymentError::ResourceNotFoundException(_)),
            "{version} {strategy}: {error:?}"
        );
    }
    assert!(list(&h, &f).await.is_empty());
}
