//! AppConfig Data through the SDK: sessions, tokens, poll intervals, and which version each
//! session is served while a deployment rolls out, rolls back or is reverted.

use std::time::Duration;

use aws_sdk_appconfig::types::GrowthType;
use aws_sdk_appconfigdata::{
    error::SdkError,
    operation::{
        get_latest_configuration::{GetLatestConfigurationError, GetLatestConfigurationOutput},
        start_configuration_session::StartConfigurationSessionError,
    },
    types::ResourceType,
};
use futures::future::join_all;
use serde_json::json;

use crate::{
    deployments::{
        ALARM, V1, V2, alarm, at, complete, create_strategy, get, hours, start, still, stop,
    },
    harness::{Fixture, Harness},
};

async fn open(
    h: &Harness,
    [application, environment, profile]: [&str; 3],
    minimum_poll_interval: Option<i32>,
) -> Result<String, StartConfigurationSessionError> {
    h.data
        .start_configuration_session()
        .application_identifier(application)
        .environment_identifier(environment)
        .configuration_profile_identifier(profile)
        .set_required_minimum_poll_interval_in_seconds(minimum_poll_interval)
        .send()
        .await
        .map(|session| session.initial_configuration_token.expect("a token"))
        .map_err(SdkError::into_service_error)
}

fn ids(f: &Fixture) -> [&str; 3] {
    [&f.application, &f.environment, &f.profile]
}

async fn session(h: &Harness, f: &Fixture) -> String {
    open(h, ids(f), None).await.unwrap()
}

async fn poll(
    h: &Harness,
    token: &str,
) -> Result<GetLatestConfigurationOutput, GetLatestConfigurationError> {
    h.data
        .get_latest_configuration()
        .configuration_token(token)
        .send()
        .await
        .map_err(SdkError::into_service_error)
}

fn content(output: &GetLatestConfigurationOutput) -> &[u8] {
    output.configuration().map_or(&[], |blob| blob.as_ref())
}

fn next_token(output: &GetLatestConfigurationOutput) -> String {
    output
        .next_poll_configuration_token()
        .expect("Next-Poll-Configuration-Token")
        .to_owned()
}

fn assert_bad_request(error: &GetLatestConfigurationError) {
    assert!(
        matches!(error, GetLatestConfigurationError::BadRequestException(_)),
        "{error:?}"
    );
}

/// A still emulator whose fixture has version 1 deployed.
async fn serving_v1() -> (Harness, Fixture) {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    complete(&h, &f, "1").await;
    (h, f)
}

#[tokio::test]
async fn sessions_start_by_ids_or_by_names() {
    let (h, f) = serving_v1().await;
    for identifiers in [ids(&f), ["app", "env", "profile"]] {
        let token = open(&h, identifiers, None).await.unwrap();
        assert!(!token.is_empty());
        assert_eq!(content(&poll(&h, &token).await.unwrap()), V1.as_bytes());
    }
}

#[tokio::test]
async fn sessions_for_unknown_resources_are_not_found() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    for (missing, resource_type) in [
        (0, ResourceType::Application),
        (1, ResourceType::Environment),
        (2, ResourceType::ConfigurationProfile),
    ] {
        let mut identifiers = ids(&f);
        identifiers[missing] = "missing";
        let error = open(&h, identifiers, None).await.unwrap_err();
        let StartConfigurationSessionError::ResourceNotFoundException(error) = error else {
            panic!("{error:?}")
        };
        assert_eq!(error.resource_type(), Some(&resource_type));
    }
}

#[tokio::test]
async fn minimum_poll_intervals_must_be_15_seconds_to_a_day() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    for seconds in [10, 86_401] {
        let error = open(&h, ids(&f), Some(seconds)).await.unwrap_err();
        assert!(
            matches!(
                error,
                StartConfigurationSessionError::BadRequestException(_)
            ),
            "{seconds}: {error:?}"
        );
    }
    for seconds in [15, 86_400] {
        open(&h, ids(&f), Some(seconds)).await.unwrap();
    }
}

#[tokio::test]
async fn the_first_poll_serves_the_configuration_then_only_changes() {
    let (h, f) = serving_v1().await;
    h.version(&f, V2, Some("blue")).await;
    complete(&h, &f, "2").await;
    let token = session(&h, &f).await;

    let first = poll(&h, &token).await.unwrap();
    assert_eq!(content(&first), V2.as_bytes());
    assert_eq!(first.content_type(), Some("application/json"));
    assert_eq!(first.version_label(), Some("blue"));
    assert_eq!(first.next_poll_interval_in_seconds(), 60);
    assert_ne!(next_token(&first), token);

    let unchanged = poll(&h, &next_token(&first)).await.unwrap();
    assert_eq!(content(&unchanged), b"");
    assert_eq!(unchanged.version_label(), None);
    assert_ne!(next_token(&unchanged), next_token(&first));

    let slow = open(&h, ids(&f), Some(300)).await.unwrap();
    let answer = poll(&h, &slow).await.unwrap();
    assert_eq!(answer.next_poll_interval_in_seconds(), 300);
}

#[tokio::test]
async fn tokens_are_single_use_and_must_be_genuine() {
    let (h, f) = serving_v1().await;
    let token = session(&h, &f).await;
    let next = next_token(&poll(&h, &token).await.unwrap());

    assert_bad_request(&poll(&h, &token).await.unwrap_err());
    assert_bad_request(&poll(&h, "not-a-token").await.unwrap_err());
    poll(&h, &next).await.unwrap();
}

#[tokio::test]
async fn ending_the_sessions_over_http_invalidates_every_token() {
    let (h, f) = serving_v1().await;
    let token = session(&h, &f).await;
    let (status, _) = h.admin("DELETE", "sessions", None).await;
    assert_eq!(status, 204);
    let refused = poll(&h, &token).await.unwrap_err();
    assert_bad_request(&refused);
    assert_eq!(refused.meta().message(), Some("Token not valid"));
    // A new session works as before.
    let fresh = session(&h, &f).await;
    assert_eq!(content(&poll(&h, &fresh).await.unwrap()), V1.as_bytes());
}

#[tokio::test]
async fn appconfig_can_ask_for_longer_poll_intervals_over_http() {
    let (h, f) = serving_v1().await;
    let token = open(&h, ids(&f), Some(15)).await.unwrap();
    let (status, _) = h
        .admin("POST", "next-poll-interval", Some(json!({"seconds": 120})))
        .await;
    assert_eq!(status, 204);
    let answer = poll(&h, &token).await.unwrap();
    assert_eq!(answer.next_poll_interval_in_seconds(), 120);
    // Only the session's minimum is enforced.
    h.advance(Duration::from_secs(15));
    let answer = poll(&h, &next_token(&answer)).await.unwrap();
    let (status, _) = h
        .admin("POST", "next-poll-interval", Some(json!({"seconds": null})))
        .await;
    assert_eq!(status, 204);
    h.advance(Duration::from_secs(15));
    let answer = poll(&h, &next_token(&answer)).await.unwrap();
    assert_eq!(answer.next_poll_interval_in_seconds(), 15);
    let (status, body) = h
        .admin("POST", "next-poll-interval", Some(json!({"seconds": -1})))
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn tokens_expire_after_24_hours() {
    let (h, f) = serving_v1().await;
    let (early, late) = (session(&h, &f).await, session(&h, &f).await);
    h.advance(hours(24) - Duration::from_millis(1));
    poll(&h, &early).await.unwrap();
    h.advance(Duration::from_millis(1));
    assert_bad_request(&poll(&h, &late).await.unwrap_err());
}

#[tokio::test]
async fn polling_before_the_minimum_interval_is_too_early_and_keeps_the_token() {
    let (h, f) = serving_v1().await;
    let token = open(&h, ids(&f), Some(15)).await.unwrap();
    let next = next_token(&poll(&h, &token).await.unwrap());

    h.advance(Duration::from_millis(14_999));
    let early = poll(&h, &next).await.unwrap_err();
    assert_bad_request(&early);
    assert_eq!(early.meta().message(), Some("Request too early"));
    h.advance(Duration::from_millis(1));
    let answer = poll(&h, &next).await.unwrap();
    assert_eq!(answer.next_poll_interval_in_seconds(), 15);
}

#[tokio::test]
async fn nothing_deployed_is_not_found() {
    let h = still().await;
    let f = h.fixture(&[], V1).await;
    let error = poll(&h, &session(&h, &f).await).await.unwrap_err();
    assert!(
        matches!(
            error,
            GetLatestConfigurationError::ResourceNotFoundException(_)
        ),
        "{error:?}"
    );
}

/// Many sessions of one fixture, each with the configuration it last received.
struct Fleet {
    tokens: Vec<String>,
    holding: Vec<Vec<u8>>,
}

impl Fleet {
    /// Opens `size` sessions and polls each once.
    async fn open(h: &Harness, f: &Fixture, size: usize) -> Self {
        let tokens = join_all((0..size).map(|_| session(h, f))).await;
        let mut fleet = Self {
            tokens,
            holding: vec![Vec::new(); size],
        };
        fleet.poll(h).await;
        fleet
    }

    /// Polls every session once; returns how many received new bytes.
    async fn poll(&mut self, h: &Harness) -> usize {
        let answers = join_all(self.tokens.iter().map(|token| poll(h, token))).await;
        let mut changed = 0;
        for (i, answer) in answers.into_iter().enumerate() {
            let answer = answer.unwrap();
            self.tokens[i] = next_token(&answer);
            if !content(&answer).is_empty() {
                assert_ne!(content(&answer), self.holding[i], "resent unchanged bytes");
                self.holding[i] = content(&answer).to_vec();
                changed += 1;
            }
        }
        changed
    }

    fn holding(&self, content: &str) -> Vec<bool> {
        self.holding
            .iter()
            .map(|held| held == content.as_bytes())
            .collect()
    }

    fn count(&self, content: &str) -> usize {
        self.holding(content).into_iter().filter(|h| *h).count()
    }
}

const FLEET: usize = 200;

/// Version 1 complete, version 2 created, [`FLEET`] sessions holding version 1, and a custom
/// strategy stepping 20% every two minutes (D10 L20 B5).
async fn rollout_setup(h: &Harness, monitors: &[&str]) -> (Fixture, Fleet, String) {
    let f = h.fixture(monitors, V1).await;
    complete(h, &f, "1").await;
    h.version(&f, V2, None).await;
    let fleet = Fleet::open(h, &f, FLEET).await;
    assert_eq!(fleet.count(V1), FLEET);
    let linear = create_strategy(h, 10, GrowthType::Linear, 20.0, 5).await;
    (f, fleet, linear)
}

#[tokio::test]
async fn sessions_move_to_the_new_version_as_the_rollout_grows() {
    let h = still().await;
    let (f, mut fleet, linear) = rollout_setup(&h, &[]).await;
    let number = start(&h, &f, "2", &linear).await.unwrap().number;
    assert_eq!(fleet.poll(&h).await, 0);
    h.advance(at("2:00") - Duration::from_millis(1));
    assert_eq!(fleet.poll(&h).await, 0, "before the first step");

    let mut before = fleet.holding(V2);
    h.advance(Duration::from_millis(1));
    for percent in [20.0, 40.0, 60.0, 80.0] {
        assert_eq!(get(&h, &f, number).await.percentage, percent);
        fleet.poll(&h).await;
        let now = fleet.holding(V2);
        assert!(
            before.iter().zip(&now).all(|(was, is)| !was || *is),
            "a session lost the new version at {percent}%"
        );
        let share = 100.0 * fleet.count(V2) as f32 / FLEET as f32;
        assert!((share - percent).abs() <= 25.0, "{share}% at {percent}%");
        before = now;
        h.advance(at("2:00"));
    }
    assert_eq!(get(&h, &f, number).await.state, "BAKING");
    fleet.poll(&h).await;
    assert_eq!(fleet.count(V2), FLEET);
    h.advance(at("5:00"));
    assert_eq!(get(&h, &f, number).await.state, "COMPLETE");
    assert_eq!(fleet.poll(&h).await, 0);
}

enum Rollback {
    Alarm,
    Stop,
}

async fn a_rollback_returns_every_session_to_the_old_version(rollback: Rollback) {
    let h = still().await;
    let (f, mut fleet, linear) = rollout_setup(&h, &[ALARM]).await;
    let number = start(&h, &f, "2", &linear).await.unwrap().number;
    h.advance(at("4:00"));
    fleet.poll(&h).await;
    let on_new = fleet.count(V2);
    assert!(on_new > 0 && on_new < FLEET, "{on_new} sessions at 40%");

    match rollback {
        Rollback::Alarm => alarm(&h, ALARM, "ALARM").await,
        Rollback::Stop => {
            stop(&h, &f, number, false).await.unwrap();
        }
    }
    assert_eq!(get(&h, &f, number).await.state, "ROLLED_BACK");
    assert_eq!(fleet.poll(&h).await, on_new);
    assert_eq!(fleet.count(V1), FLEET);
}

#[tokio::test]
async fn an_alarm_rollback_returns_every_session_to_the_old_version() {
    a_rollback_returns_every_session_to_the_old_version(Rollback::Alarm).await;
}

#[tokio::test]
async fn a_stop_returns_every_session_to_the_old_version() {
    a_rollback_returns_every_session_to_the_old_version(Rollback::Stop).await;
}

#[tokio::test]
async fn a_revert_returns_every_session_to_the_previous_version() {
    let h = still().await;
    let (f, mut fleet, _) = rollout_setup(&h, &[]).await;
    let number = complete(&h, &f, "2").await.number;
    assert_eq!(fleet.poll(&h).await, FLEET);
    stop(&h, &f, number, true).await.unwrap();
    assert_eq!(fleet.poll(&h).await, FLEET);
    assert_eq!(fleet.count(V1), FLEET);
}
