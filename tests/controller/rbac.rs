//! The chart's RBAC rules (`charts/appconfig-operator/files/rbac-rules.yaml`), granted as the
//! chart grants them: the operator under test runs with exactly these on the fake API server.

use k8s_openapi::api::rbac::v1::PolicyRule;
use serde::Deserialize;

use crate::fake_api_server::Grants;

const RULES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/charts/appconfig-operator/files/rbac-rules.yaml"
));

/// The service account the chart creates, as refusals name it.
pub const SERVICE_ACCOUNT: &str = "appconfig-operator";

/// The lease scenarios elect a leader with (the `--lease-name` default).
pub const LEASE: &str = "appconfig-operator";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartRules {
    pub watched: Vec<PolicyRule>,
    pub leader_election: LeaderElectionRules,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaderElectionRules {
    pub lease: Vec<PolicyRule>,
    pub create: Vec<PolicyRule>,
}

pub fn chart_rules() -> ChartRules {
    serde_saphyr::from_str(RULES).expect("rbac-rules.yaml has `watched` and `leaderElection`")
}

/// What the chart grants an operator watching `namespace` with its lease there too: a Role for
/// the watched resources, a Role for the lease by name, and a Role to create it.
pub fn operator_grants(namespace: &str) -> Grants {
    let rules = chart_rules();
    let lease = rules
        .leader_election
        .lease
        .into_iter()
        .map(|rule| PolicyRule {
            resource_names: Some(vec![LEASE.to_owned()]),
            ..rule
        })
        .collect();
    Grants::new(&format!(
        "system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"
    ))
    .role(namespace, rules.watched)
    .role(namespace, lease)
    .role(namespace, rules.leader_election.create)
}

/// Every (API group, resource, verb) the rules grant.
pub fn granted(rules: &ChartRules) -> Vec<(String, String, String)> {
    let all = rules
        .watched
        .iter()
        .chain(&rules.leader_election.lease)
        .chain(&rules.leader_election.create);
    let mut granted = Vec::new();
    for rule in all {
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                for verb in &rule.verbs {
                    granted.push((group.clone(), resource.clone(), verb.clone()));
                }
            }
        }
    }
    granted
}
