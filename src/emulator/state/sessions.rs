//! The AppConfig Data API: StartConfigurationSession and GetLatestConfiguration.
//!
//! Tokens are single use and valid for 24 hours; each one names its session and issue time, and
//! only the session's newest token is accepted.

use std::hash::{DefaultHasher, Hash, Hasher};

use base64::{Engine, engine::general_purpose::STANDARD};
use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{State, deployments::newest_for_profile};
use crate::emulator::{
    error::{ApiError, ErrorKind},
    validate::Checks,
};

const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_hours(24);
/// `Next-Poll-Interval-In-Seconds` when the session set no minimum (user guide example).
const DEFAULT_POLL_INTERVAL_SECONDS: u32 = 60;

#[derive(Debug)]
pub(super) struct Session {
    pub application_id: String,
    pub environment_id: String,
    pub profile_id: String,
    minimum_poll_interval: Option<u32>,
    token: String,
    token_issued_at: Timestamp,
    last_poll: Option<Timestamp>,
    /// The hosted version number this session last received.
    last_served: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartSessionInput {
    pub application_identifier: Option<String>,
    pub environment_identifier: Option<String>,
    pub configuration_profile_identifier: Option<String>,
    pub required_minimum_poll_interval_in_seconds: Option<i64>,
}

/// One GetLatestConfiguration answer.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestConfiguration {
    /// Empty when the session already has the version it would be served.
    pub content: Bytes,
    pub content_type: String,
    /// Only with content, and only when the version has a label.
    pub version_label: Option<String>,
    pub next_token: String,
    pub next_poll_interval_seconds: u32,
}

impl State {
    pub fn start_configuration_session(
        &mut self,
        input: StartSessionInput,
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let mut checks = Checks::new();
        for (field, value) in [
            ("applicationIdentifier", &input.application_identifier),
            ("environmentIdentifier", &input.environment_identifier),
            (
                "configurationProfileIdentifier",
                &input.configuration_profile_identifier,
            ),
        ] {
            if let Some(value) = checks.required(field, value) {
                checks.length(field, value, 1, 128);
            }
        }
        if let Some(seconds) = input.required_minimum_poll_interval_in_seconds {
            checks.range(
                "requiredMinimumPollIntervalInSeconds",
                seconds as f64,
                15.0,
                86400.0,
            );
        }
        checks.finish()?;

        // Each identifier is an ID or, failing that, a name within its parent.
        let application = input.application_identifier.as_deref().unwrap_or_default();
        let application = self
            .applications
            .values()
            .find(|a| a.id == application)
            .or_else(|| self.applications.values().find(|a| a.name == application))
            .ok_or_else(|| data_not_found("Application", application))?;
        let environment = input.environment_identifier.as_deref().unwrap_or_default();
        let environment = application
            .environments
            .get(environment)
            .or_else(|| {
                application
                    .environments
                    .values()
                    .find(|e| e.name == environment)
            })
            .ok_or_else(|| data_not_found("Environment", environment))?;
        let profile = input
            .configuration_profile_identifier
            .as_deref()
            .unwrap_or_default();
        let profile = application
            .profiles
            .get(profile)
            .or_else(|| application.profiles.values().find(|p| p.name == profile))
            .ok_or_else(|| data_not_found("ConfigurationProfile", profile))?;

        let id: String = (0..16).map(|_| self.rng.alphanumeric()).collect();
        let token = new_token(&mut self.rng, &id, now);
        let session = Session {
            application_id: application.id.clone(),
            environment_id: environment.id.clone(),
            profile_id: profile.id.clone(),
            minimum_poll_interval: input
                .required_minimum_poll_interval_in_seconds
                .map(|s| s as u32),
            token: token.clone(),
            token_issued_at: now,
            last_poll: None,
            last_served: None,
        };
        self.sessions.insert(id, session);
        Ok(json!({"InitialConfigurationToken": token}))
    }

    /// Answers NextPollIntervalInSeconds of at least `seconds` from now on (`None`: the
    /// session's minimum, or 60, as before).
    pub fn set_next_poll_interval(&mut self, seconds: Option<u32>) {
        self.next_poll_interval = seconds;
    }

    /// Forgets every configuration session, as if the service had lost them: every token
    /// issued so far is refused as not valid.
    pub fn end_sessions(&mut self) {
        self.sessions.clear();
    }

    /// The application, environment and profile IDs of the session `token` belongs to, if it
    /// names one; the token is not consumed.
    pub fn session_target(&self, token: &str) -> Option<(String, String, String)> {
        let session = self.sessions.get(&token_session(token)?)?;
        Some((
            session.application_id.clone(),
            session.environment_id.clone(),
            session.profile_id.clone(),
        ))
    }

    /// A refused call leaves the token usable (UNCONFIRMED; the safer choice for clients).
    pub fn get_latest_configuration(
        &mut self,
        token: Option<&str>,
        now: Timestamp,
    ) -> Result<LatestConfiguration, ApiError> {
        let token = token.unwrap_or_default();
        let mut checks = Checks::new();
        checks.length("configurationToken", token, 1, 8192);
        checks.finish()?;
        let session_id =
            token_session(token).ok_or_else(|| token_problem("Token not valid", "Corrupted"))?;
        let session = self
            .sessions
            .get(&session_id)
            .ok_or_else(|| token_problem("Token not valid", "Corrupted"))?;
        if session.token != token {
            // Already used (or forged): tokens are single use.
            return Err(token_problem("Token not valid", "Corrupted"));
        }
        if now.duration_since(session.token_issued_at) >= TOKEN_LIFETIME {
            return Err(token_problem("Token expired", "Expired"));
        }
        // The minimum applies only when the session asked for one (UNCONFIRMED: AWS may also
        // enforce a default), measured from the previous successful poll.
        if let (Some(minimum), Some(last)) = (session.minimum_poll_interval, session.last_poll)
            && now < last + SignedDuration::from_secs(i64::from(minimum))
        {
            return Err(token_problem(
                "Request too early",
                "PollIntervalNotSatisfied",
            ));
        }
        let (application_id, environment_id, profile_id) = (
            session.application_id.clone(),
            session.environment_id.clone(),
            session.profile_id.clone(),
        );
        let environment = self.advanced_environment(&application_id, &environment_id, now)?;
        let served = newest_for_profile(environment, &profile_id).and_then(|deployment| {
            deployment
                .served(Some(rollout_bucket(&session_id, deployment.number)))
                .cloned()
        });
        // UNCONFIRMED: with nothing deployed AWS's ResourceType enum suggests a 404 "Deployment".
        let served = served.ok_or_else(|| {
            ApiError::new(
                ErrorKind::ResourceNotFound,
                format!(
                    "No configuration of profile {profile_id} has been deployed to environment {environment_id}."
                ),
            )
            .with("ResourceType", "Deployment")
        })?;

        let next_token = new_token(&mut self.rng, &session_id, now);
        let session = self
            .sessions
            .get_mut(&session_id)
            .expect("session looked up above");
        let unchanged = session.last_served == Some(served.number);
        session.token = next_token.clone();
        session.token_issued_at = now;
        session.last_poll = Some(now);
        session.last_served = Some(served.number);
        Ok(LatestConfiguration {
            content: if unchanged {
                Bytes::new()
            } else {
                served.content.clone()
            },
            content_type: served.content_type.clone(),
            version_label: if unchanged {
                None
            } else {
                served.label.clone()
            },
            next_token,
            next_poll_interval_seconds: session
                .minimum_poll_interval
                .unwrap_or(DEFAULT_POLL_INTERVAL_SECONDS)
                .max(self.next_poll_interval.unwrap_or(0)),
        })
    }
}

/// The session's rollout bucket (0..=99) for one deployment: stable within the deployment, as
/// AWS describes ("The behavior will be stable within a deployment").
pub fn rollout_bucket(session_id: &str, deployment_number: i32) -> u8 {
    let mut hasher = DefaultHasher::new();
    (session_id, deployment_number).hash(&mut hasher);
    (hasher.finish() % 100) as u8
}

fn new_token(rng: &mut fastrand::Rng, session_id: &str, now: Timestamp) -> String {
    let nonce: String = (0..24).map(|_| rng.alphanumeric()).collect();
    STANDARD.encode(format!("{session_id}:{}:{nonce}", now.as_millisecond()))
}

fn token_session(token: &str) -> Option<String> {
    let raw = STANDARD.decode(token).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (session, _) = text.split_once(':')?;
    Some(session.to_owned())
}

fn token_problem(message: &str, problem: &str) -> ApiError {
    ApiError::bad_request(message)
        .with("Reason", "InvalidParameters")
        .with(
            "Details",
            json!({"InvalidParameters": {"ConfigurationToken": {"Problem": problem}}}),
        )
}

fn data_not_found(resource_type: &str, identifier: &str) -> ApiError {
    ApiError::new(
        ErrorKind::ResourceNotFound,
        format!("{resource_type} {identifier} could not be found."),
    )
    .with("ResourceType", resource_type)
}
