//! The emulator's state core: every AppConfig resource, the deployments and the data-plane
//! sessions, with one method per AWS operation. Pure: no I/O, no clock of its own (operations
//! that depend on time take `now`), so timing rules are testable without a server.

mod applications;
mod deployments;
mod environments;
mod profiles;
mod sessions;
mod strategies;
mod tags;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::Deserialize;

use super::{error::ApiError, schedule::StepSchedule};

pub use applications::CreateApplicationInput;
pub use deployments::StartDeploymentInput;
pub use environments::{CreateEnvironmentInput, Monitor};
pub use profiles::{CreateConfigurationProfileInput, CreateHostedVersionInput, HostedVersion};
pub use sessions::{LatestConfiguration, StartSessionInput};
pub use strategies::CreateDeploymentStrategyInput;

use applications::Application;
use sessions::Session;
use strategies::Strategy;

/// How Environment.State is spelled on the wire. The model's enum says `READY_FOR_DEPLOYMENT`,
/// every real capture shows `ReadyForDeployment` (and the SDK waiters expect that), so CamelCase
/// is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvironmentStateStyle {
    #[default]
    Camel,
    Screaming,
}

/// Resource-count and size quotas (AWS defaults; `ServiceQuotaExceededException` beyond them).
#[derive(Debug, Clone, PartialEq)]
pub struct Quotas {
    pub applications: usize,
    pub environments_per_application: usize,
    pub profiles_per_application: usize,
    /// Custom strategies; the predefined ones do not count.
    pub deployment_strategies: usize,
    /// Largest hosted configuration version, in bytes (AWS's commonly cited 2 MB, UNCONFIRMED).
    pub hosted_configuration_bytes: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            applications: 100,
            environments_per_application: 20,
            profiles_per_application: 100,
            deployment_strategies: 20,
            hosted_configuration_bytes: 2 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub region: String,
    pub account_id: String,
    pub environment_state_style: EnvironmentStateStyle,
    pub step_schedule: StepSchedule,
    pub quotas: Quotas,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            environment_state_style: EnvironmentStateStyle::default(),
            step_schedule: StepSchedule::default(),
            quotas: Quotas::default(),
        }
    }
}

/// A CloudWatch alarm's state, as set through the emulator's alarm hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Alarm,
    Ok,
}

#[derive(Debug)]
pub struct State {
    settings: Settings,
    applications: IndexMap<String, Application>,
    strategies: IndexMap<String, Strategy>,
    predefined: Vec<Strategy>,
    /// Alarms currently in ALARM, with the time they entered it.
    alarms: HashMap<String, Timestamp>,
    sessions: HashMap<String, Session>,
    /// NextPollIntervalInSeconds when AppConfig asks clients to wait longer than their session's
    /// minimum (AWS: "This duration may vary over the course of the session").
    next_poll_interval: Option<u32>,
    rng: fastrand::Rng,
    /// Creation order of everything listable, so pages stay stable across inserts and deletes.
    sequence: u64,
}

impl State {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            applications: IndexMap::new(),
            strategies: IndexMap::new(),
            predefined: strategies::predefined(),
            alarms: HashMap::new(),
            sessions: HashMap::new(),
            next_poll_interval: None,
            rng: fastrand::Rng::new(),
            sequence: 0,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Forgets every resource, deployment, session and alarm; the predefined strategies stay.
    pub fn reset(&mut self) {
        *self = Self::new(self.settings.clone());
    }

    fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    fn application(&self, id: &str) -> Result<&Application, ApiError> {
        self.applications
            .get(id)
            .ok_or_else(|| not_found("Application", id))
    }

    fn application_mut(&mut self, id: &str) -> Result<&mut Application, ApiError> {
        self.applications
            .get_mut(id)
            .ok_or_else(|| not_found("Application", id))
    }
}

/// A fresh 7-character `[a-z0-9]` ID, like the ones AWS generates, not yet `taken`.
fn new_id(rng: &mut fastrand::Rng, taken: impl Fn(&str) -> bool) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    loop {
        let id: String = (0..7)
            .map(|_| char::from(ALPHABET[rng.usize(..ALPHABET.len())]))
            .collect();
        if !taken(&id) {
            return id;
        }
    }
}

fn not_found(kind: &str, id: &str) -> ApiError {
    ApiError::not_found(kind, format!("{kind} with Id {id} could not be found."))
}
