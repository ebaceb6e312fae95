//! The state core without a server: timing rules evaluated at chosen instants.

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::*;
use crate::emulator::error::ErrorKind;

const T0: &str = "2026-01-01T00:00:00Z";

fn at(minutes: f64) -> Timestamp {
    let start: Timestamp = T0.parse().unwrap();
    start + SignedDuration::from_secs_f64(minutes * 60.0)
}

struct World {
    state: State,
    application: String,
    environment: String,
    profile: String,
}

fn id(value: &Value) -> String {
    value["Id"].as_str().unwrap().to_owned()
}

fn world(monitors: Vec<Monitor>) -> World {
    let mut state = State::new(Settings::default());
    let application = id(&state
        .create_application(CreateApplicationInput {
            name: Some("app".into()),
            ..Default::default()
        })
        .unwrap());
    let environment = id(&state
        .create_environment(
            &application,
            CreateEnvironmentInput {
                name: Some("env".into()),
                monitors: Some(monitors),
                ..Default::default()
            },
        )
        .unwrap());
    let profile = id(&state
        .create_configuration_profile(
            &application,
            CreateConfigurationProfileInput {
                name: Some("profile".into()),
                location_uri: Some("hosted".into()),
                ..Default::default()
            },
        )
        .unwrap());
    let mut world = World {
        state,
        application,
        environment,
        profile,
    };
    world.add_version("v1");
    world.add_version("v2");
    world
}

impl World {
    fn add_version(&mut self, content: &str) {
        self.state
            .create_hosted_configuration_version(
                &self.application,
                &self.profile,
                CreateHostedVersionInput {
                    content: Bytes::from(content.to_owned()),
                    content_type: Some("text/plain".into()),
                    ..Default::default()
                },
            )
            .unwrap();
    }

    fn start(&mut self, version: &str, strategy: &str, now: Timestamp) -> Result<Value, ApiError> {
        self.state.start_deployment(
            &self.application,
            &self.environment,
            StartDeploymentInput {
                deployment_strategy_id: Some(strategy.into()),
                configuration_profile_id: Some(self.profile.clone()),
                configuration_version: Some(version.into()),
                ..Default::default()
            },
            now,
        )
    }

    fn get(&mut self, number: i32, now: Timestamp) -> Value {
        self.state
            .get_deployment(
                &self.application,
                &self.environment,
                &number.to_string(),
                now,
            )
            .unwrap()
    }

    fn state_and_percent(&mut self, number: i32, now: Timestamp) -> (String, f64) {
        let deployment = self.get(number, now);
        (
            deployment["State"].as_str().unwrap().to_owned(),
            deployment["PercentageComplete"].as_f64().unwrap(),
        )
    }
}

#[test]
fn canary_strategy_follows_its_timetable() {
    let mut w = world(vec![]);
    let started = w
        .start("1", "AppConfig.Canary10Percent20Minutes", at(0.0))
        .unwrap();
    assert_eq!(started["State"], "DEPLOYING");
    assert_eq!(started["PercentageComplete"], 0.0);
    let expectations = [
        (3.99, "DEPLOYING", 0.0),
        (4.0, "DEPLOYING", 10.0),
        (8.0, "DEPLOYING", 20.0),
        (12.5, "DEPLOYING", 40.0),
        (16.0, "DEPLOYING", 80.0),
        (19.99, "DEPLOYING", 80.0),
        (20.0, "BAKING", 100.0),
        (29.99, "BAKING", 100.0),
        (30.0, "COMPLETE", 100.0),
    ];
    for (minute, state, percent) in expectations {
        assert_eq!(
            w.state_and_percent(1, at(minute)),
            (state.to_owned(), percent),
            "at minute {minute}"
        );
    }
}

#[test]
fn a_late_read_replays_every_transition_at_its_own_time() {
    let mut w = world(vec![]);
    w.start("1", "AppConfig.Linear20PercentEvery6Minutes", at(0.0))
        .unwrap();
    let done = w.get(1, at(500.0));
    assert_eq!(done["CompletedAt"], "2026-01-01T01:00:00.000Z");
    let log: Vec<(&str, &str)> = done["EventLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["EventType"].as_str().unwrap(),
                e["OccurredAt"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        log,
        [
            ("DEPLOYMENT_COMPLETED", "2026-01-01T01:00:00.000Z"),
            ("BAKE_TIME_STARTED", "2026-01-01T00:30:00.000Z"),
            ("PERCENTAGE_UPDATED", "2026-01-01T00:30:00.000Z"),
            ("PERCENTAGE_UPDATED", "2026-01-01T00:24:00.000Z"),
            ("PERCENTAGE_UPDATED", "2026-01-01T00:18:00.000Z"),
            ("PERCENTAGE_UPDATED", "2026-01-01T00:12:00.000Z"),
            ("PERCENTAGE_UPDATED", "2026-01-01T00:06:00.000Z"),
            ("DEPLOYMENT_STARTED", "2026-01-01T00:00:00.000Z"),
        ]
    );
}

#[test]
fn one_deployment_at_a_time_per_environment() {
    let mut w = world(vec![]);
    w.start("1", "AppConfig.AllAtOnce", at(0.0)).unwrap();
    let refused = w.start("2", "AppConfig.AllAtOnce", at(5.0)).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Conflict);
    assert!(
        refused.message.contains("Deployment number 1"),
        "{}",
        refused.message
    );
    let second = w.start("2", "AppConfig.AllAtOnce", at(10.0)).unwrap();
    assert_eq!(second["DeploymentNumber"], 2);
}

#[test]
fn an_alarm_that_fired_before_a_step_wins_over_it() {
    let arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors";
    let mut w = world(vec![Monitor {
        alarm_arn: Some(arn.into()),
        alarm_role_arn: None,
    }]);
    w.start("1", "AppConfig.Canary10Percent20Minutes", at(0.0))
        .unwrap();
    w.state.set_alarm(arn, AlarmState::Alarm, at(5.0));
    let rolled_back = w.get(1, at(60.0));
    assert_eq!(rolled_back["State"], "ROLLED_BACK");
    assert_eq!(rolled_back["PercentageComplete"], 10.0);
    let started = &rolled_back["EventLog"][1];
    assert_eq!(started["EventType"], "ROLLBACK_STARTED");
    assert_eq!(started["TriggeredBy"], "CLOUDWATCH_ALARM");
    assert_eq!(started["OccurredAt"], "2026-01-01T00:05:00.000Z");
    assert!(started["Description"].as_str().unwrap().contains(arn));
}

#[test]
fn revert_is_allowed_for_72_hours() {
    let mut w = world(vec![]);
    w.start("1", "AppConfig.AllAtOnce", at(0.0)).unwrap();
    let stop = |w: &mut World, minute: f64| {
        w.state
            .stop_deployment(&w.application, &w.environment, "1", true, at(minute))
    };
    let too_late = stop(&mut w, 10.0 + 72.0 * 60.0 + 1.0).unwrap_err();
    assert_eq!(too_late.kind, ErrorKind::BadRequest);
    assert!(
        too_late.message.contains("72 hours"),
        "{}",
        too_late.message
    );

    let mut w = world(vec![]);
    w.start("1", "AppConfig.AllAtOnce", at(0.0)).unwrap();
    assert_eq!(
        stop(&mut w, 10.0 + 72.0 * 60.0).unwrap()["State"],
        "REVERTED"
    );
}

#[test]
fn data_plane_serves_the_previous_version_until_a_session_is_in_the_rollout() {
    let mut w = world(vec![]);
    w.start("1", "AppConfig.AllAtOnce", at(0.0)).unwrap();
    w.get(1, at(10.0));
    let token = w
        .state
        .start_configuration_session(
            StartSessionInput {
                application_identifier: Some("app".into()),
                environment_identifier: Some("env".into()),
                configuration_profile_identifier: Some("profile".into()),
                required_minimum_poll_interval_in_seconds: None,
            },
            at(11.0),
        )
        .unwrap()["InitialConfigurationToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = w
        .state
        .get_latest_configuration(Some(&token), at(11.0))
        .unwrap();
    assert_eq!(first.content, "v1");
    let reused = w
        .state
        .get_latest_configuration(Some(&token), at(12.0))
        .unwrap_err();
    assert_eq!(reused.message, "Token not valid");

    w.start("2", "AppConfig.Linear50PercentEvery30Seconds", at(20.0))
        .unwrap();
    let mut token = first.next_token;
    let mut seen = Vec::new();
    for minute in [20.1, 20.6, 21.0, 21.5] {
        let answer = w
            .state
            .get_latest_configuration(Some(&token), at(minute))
            .unwrap();
        seen.push(String::from_utf8(answer.content.to_vec()).unwrap());
        token = answer.next_token;
    }
    // Before the first step the session keeps v1 (an empty answer: nothing new). It gets v2 at
    // the 50% step if its bucket is in the first half, else when baking starts; never twice.
    assert_eq!(seen[0], "", "{seen:?}");
    assert_eq!(
        seen[1..3].iter().filter(|c| *c == "v2").count(),
        1,
        "{seen:?}"
    );
    assert_eq!(
        seen[1..3].iter().filter(|c| c.is_empty()).count(),
        1,
        "{seen:?}"
    );
    assert_eq!(seen[3], "", "{seen:?}");
}
