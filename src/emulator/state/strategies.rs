//! Deployment strategies: the four predefined `AppConfig.*` ones and custom ones.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{State, new_id, not_found};
use crate::emulator::{error::ApiError, page::PageRequest, schedule::GrowthType, validate::Checks};

#[derive(Debug, Clone)]
pub(super) struct Strategy {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub duration_minutes: u32,
    pub growth_type: GrowthType,
    pub growth_factor: f64,
    pub bake_minutes: u32,
    pub replicate_to: String,
    pub tags: BTreeMap<String, String>,
    pub sequence: u64,
}

impl Strategy {
    fn body(&self) -> Value {
        json!({
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "DeploymentDurationInMinutes": self.duration_minutes,
            "GrowthType": self.growth_type.as_str(),
            "GrowthFactor": self.growth_factor,
            "FinalBakeTimeInMinutes": self.bake_minutes,
            "ReplicateTo": self.replicate_to,
        })
    }
}

/// The predefined strategies, in the order ListDeploymentStrategies shows them (after the
/// custom ones). The fourth one's description is UNCONFIRMED.
pub(super) fn predefined() -> Vec<Strategy> {
    let strategy =
        |name: &str, description: &str, duration, growth_type, growth_factor, bake| Strategy {
            id: name.to_owned(),
            name: name.to_owned(),
            description: Some(description.to_owned()),
            duration_minutes: duration,
            growth_type,
            growth_factor,
            bake_minutes: bake,
            replicate_to: "NONE".into(),
            tags: BTreeMap::new(),
            sequence: 0,
        };
    vec![
        strategy(
            "AppConfig.AllAtOnce",
            "Quick",
            0,
            GrowthType::Linear,
            100.0,
            10,
        ),
        strategy(
            "AppConfig.Linear50PercentEvery30Seconds",
            "Test/Demo",
            1,
            GrowthType::Linear,
            50.0,
            1,
        ),
        strategy(
            "AppConfig.Canary10Percent20Minutes",
            "AWS Recommended",
            20,
            GrowthType::Exponential,
            10.0,
            10,
        ),
        strategy(
            "AppConfig.Linear20PercentEvery6Minutes",
            "AWS Recommended",
            30,
            GrowthType::Linear,
            20.0,
            30,
        ),
    ]
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateDeploymentStrategyInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub deployment_duration_in_minutes: Option<i64>,
    pub final_bake_time_in_minutes: Option<i64>,
    pub growth_factor: Option<f64>,
    pub growth_type: Option<String>,
    pub replicate_to: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl State {
    pub fn create_deployment_strategy(
        &mut self,
        input: CreateDeploymentStrategyInput,
    ) -> Result<Value, ApiError> {
        let mut checks = Checks::new();
        if let Some(name) = checks.required("name", &input.name) {
            checks.length("name", name, 1, 64);
        }
        checks.optional_length("description", &input.description, 0, 1024);
        if let Some(d) = checks.required(
            "deploymentDurationInMinutes",
            &input.deployment_duration_in_minutes,
        ) {
            checks.range("deploymentDurationInMinutes", *d as f64, 0.0, 1440.0);
        }
        if let Some(b) = input.final_bake_time_in_minutes {
            checks.range("finalBakeTimeInMinutes", b as f64, 0.0, 1440.0);
        }
        if let Some(g) = checks.required("growthFactor", &input.growth_factor) {
            checks.range("growthFactor", *g, 1.0, 100.0);
        }
        // Defaults as AWS's CreateDeploymentStrategy example shows them; ReplicateTo's is UNCONFIRMED.
        let growth_type = input.growth_type.as_deref().unwrap_or("LINEAR");
        checks.one_of("growthType", growth_type, &["LINEAR", "EXPONENTIAL"]);
        let replicate_to = input.replicate_to.as_deref().unwrap_or("NONE");
        checks.one_of("replicateTo", replicate_to, &["NONE", "SSM_DOCUMENT"]);
        let tags = input.tags.clone().unwrap_or_default();
        checks.tags("tags", &tags);
        checks.finish()?;

        let limit = self.settings.quotas.deployment_strategies;
        if self.strategies.len() >= limit {
            return Err(ApiError::quota_exceeded(format!(
                "The number of deployment strategies is limited to {limit}"
            )));
        }
        let id = new_id(&mut self.rng, |id| self.strategies.contains_key(id));
        let strategy = Strategy {
            id: id.clone(),
            name: input.name.unwrap_or_default(),
            description: input.description,
            duration_minutes: input.deployment_duration_in_minutes.unwrap_or_default() as u32,
            growth_type: GrowthType::parse(growth_type).expect("validated"),
            growth_factor: input.growth_factor.unwrap_or_default(),
            bake_minutes: input.final_bake_time_in_minutes.unwrap_or(0) as u32,
            replicate_to: replicate_to.to_owned(),
            tags,
            sequence: self.next_sequence(),
        };
        let body = strategy.body();
        self.strategies.insert(id, strategy);
        Ok(body)
    }

    pub fn get_deployment_strategy(&self, id: &str) -> Result<Value, ApiError> {
        Ok(self.strategy(id)?.body())
    }

    /// Custom strategies in creation order, then the predefined ones.
    pub fn list_deployment_strategies(&self, page: &PageRequest) -> Result<Value, ApiError> {
        const PREDEFINED_KEYS: u64 = 1 << 63;
        let custom = self.strategies.values().map(|s| (s.sequence, s.body()));
        let predefined = self
            .predefined
            .iter()
            .zip(PREDEFINED_KEYS..)
            .map(|(s, key)| (key, s.body()));
        page.json(custom.chain(predefined))
    }

    pub(super) fn strategy(&self, id: &str) -> Result<&Strategy, ApiError> {
        self.strategies
            .get(id)
            .or_else(|| self.predefined.iter().find(|s| s.id == id))
            .ok_or_else(|| not_found("DeploymentStrategy", id))
    }
}
