//! What the operator needs to know about AppConfig deployments, independent of the SDK's types,
//! so that the decision logic can be tested without an SDK or a server.

use jiff::Timestamp;

/// An AppConfig deployment state. States AWS adds later are kept as AWS spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentState {
    Validating,
    Deploying,
    Baking,
    Complete,
    RollingBack,
    RolledBack,
    Reverted,
    Other(String),
}

impl DeploymentState {
    pub fn parse(value: &str) -> Self {
        match value {
            "VALIDATING" => Self::Validating,
            "DEPLOYING" => Self::Deploying,
            "BAKING" => Self::Baking,
            "COMPLETE" => Self::Complete,
            "ROLLING_BACK" => Self::RollingBack,
            "ROLLED_BACK" => Self::RolledBack,
            "REVERTED" => Self::Reverted,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Validating => "VALIDATING",
            Self::Deploying => "DEPLOYING",
            Self::Baking => "BAKING",
            Self::Complete => "COMPLETE",
            Self::RollingBack => "ROLLING_BACK",
            Self::RolledBack => "ROLLED_BACK",
            Self::Reverted => "REVERTED",
            Self::Other(other) => other,
        }
    }

    /// AppConfig runs one deployment per environment; while one of these holds, no other starts.
    /// An unknown state counts as in progress: waiting is safe, starting over it is not.
    pub fn is_in_progress(&self) -> bool {
        matches!(
            self,
            Self::Validating | Self::Deploying | Self::Baking | Self::RollingBack | Self::Other(_)
        )
    }
}

impl std::fmt::Display for DeploymentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a ListDeployments answer.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentSummary {
    pub number: i32,
    /// Filled from GetDeployment when ListDeployments does not say it.
    pub profile_id: Option<String>,
    pub version: String,
    pub version_label: Option<String>,
    pub state: DeploymentState,
    pub percentage_complete: f64,
}

impl DeploymentSummary {
    /// Whether this deployment carries one of `versions`: the declared version and, for a
    /// hosted version, its other name (number or label).
    pub fn carries(&self, versions: &[String]) -> bool {
        versions
            .iter()
            .any(|v| self.version == *v || self.version_label.as_deref() == Some(v.as_str()))
    }

    /// The version as people name it: the label when there is one.
    pub fn version_name(&self) -> &str {
        self.version_label.as_deref().unwrap_or(&self.version)
    }
}

/// The deployment whose version AppConfig serves for `profile_id`: its newest COMPLETE one,
/// in a listing ordered newest first.
pub fn served<'a>(
    deployments: &'a [DeploymentSummary],
    profile_id: &str,
) -> Option<&'a DeploymentSummary> {
    deployments.iter().find(|d| {
        d.profile_id.as_deref() == Some(profile_id) && d.state == DeploymentState::Complete
    })
}

/// A deployment as GetDeployment or StartDeployment describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub summary: DeploymentSummary,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    /// The strategy as applied to this deployment.
    pub strategy: Strategy,
    /// Newest first, as AppConfig lists it.
    pub event_log: Vec<DeploymentEvent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentEvent {
    pub event_type: String,
    pub triggered_by: String,
    pub description: String,
    pub occurred_at: Option<Timestamp>,
}

/// How a deployment strategy rolls a configuration out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Strategy {
    pub growth_type: Option<String>,
    pub growth_factor: Option<f64>,
    pub deployment_duration_in_minutes: i32,
    pub final_bake_time_in_minutes: i32,
}

/// An application, environment, configuration profile or deployment strategy, as its List call
/// names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub id: String,
    pub name: String,
    /// Where a configuration profile's data lives (`hosted` for AppConfig's own store).
    pub location_uri: Option<String>,
    /// What a deployment strategy does.
    pub strategy: Option<Strategy>,
}

/// A hosted configuration version as ListHostedConfigurationVersions and
/// CreateHostedConfigurationVersion describe it (without its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedVersionSummary {
    pub number: i32,
    pub description: Option<String>,
    pub content_type: Option<String>,
    pub label: Option<String>,
}

/// AWS rounds percentages to hundredths in its event texts; the SDK hands them over as f32,
/// whose widening to f64 would show noise digits (33.33 → 33.330001831…).
pub fn percentage(value: f32) -> f64 {
    (f64::from(value) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_unknown_ones_pass_through() {
        for s in [
            "VALIDATING",
            "DEPLOYING",
            "BAKING",
            "COMPLETE",
            "ROLLING_BACK",
            "ROLLED_BACK",
            "REVERTED",
            "PAUSED",
        ] {
            assert_eq!(DeploymentState::parse(s).as_str(), s);
        }
        assert!(DeploymentState::parse("PAUSED").is_in_progress());
        assert!(!DeploymentState::Complete.is_in_progress());
        assert!(DeploymentState::RollingBack.is_in_progress());
    }

    #[test]
    fn percentages_lose_float_noise() {
        assert_eq!(percentage(33.33), 33.33);
        assert_eq!(percentage(50.0), 50.0);
    }

    #[test]
    fn a_deployment_carries_its_number_and_its_label() {
        let d = DeploymentSummary {
            number: 1,
            profile_id: None,
            version: "7".into(),
            version_label: Some("v1.4.0".into()),
            state: DeploymentState::Complete,
            percentage_complete: 100.0,
        };
        assert!(d.carries(&["7".into()]));
        assert!(d.carries(&["v1.4.0".into()]));
        assert!(!d.carries(&["8".into()]));
        assert!(d.carries(&["8".into(), "7".into()]));
        assert_eq!(d.version_name(), "v1.4.0");
    }
}
