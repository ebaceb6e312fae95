//! The chart's RBAC rules (`charts/appconfig-operator/files/rbac-rules.yaml`), granted as the
//! chart grants them: the operator under test runs with exactly these, on the fake API server
//! and, as the chart's ServiceAccount, on a real cluster.

use k8s_openapi::api::{
    core::v1::ServiceAccount,
    rbac::v1::{PolicyRule, Role, RoleBinding},
};
use kube::{
    Api, Client,
    api::{Patch, PatchParams},
};
use serde::Deserialize;
use serde_json::json;

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
    /// Granted with `watched` when the chart's `tenancy.enabled` is on, as the tests run it.
    pub tenancy: Vec<PolicyRule>,
    pub leader_election: LeaderElectionRules,
}

impl ChartRules {
    /// What the chart grants in the watched namespaces with tenancy on.
    fn watched_with_tenancy(&self) -> Vec<PolicyRule> {
        self.watched.iter().chain(&self.tenancy).cloned().collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaderElectionRules {
    pub lease: Vec<PolicyRule>,
    pub create: Vec<PolicyRule>,
}

pub fn chart_rules() -> ChartRules {
    serde_saphyr::from_str(RULES)
        .expect("rbac-rules.yaml has `watched`, `tenancy` and `leaderElection`")
}

/// Where the chart grants the `watched` rules.
#[derive(Clone, Copy)]
pub enum Watched {
    /// A Role in the one watched namespace (`watchNamespace`, `--namespace`).
    Namespace,
    /// A ClusterRole: every namespace.
    Cluster,
}

/// What the chart grants an operator whose lease is in `namespace`, watching that namespace or
/// every one, with tenancy on: the watched resources, ServiceAccounts' tokens, the lease by name,
/// and creating it.
pub fn operator_grants(namespace: &str, watched: Watched) -> Grants {
    let rules = chart_rules();
    let in_watched = rules.watched_with_tenancy();
    let lease = rules
        .leader_election
        .lease
        .into_iter()
        .map(|rule| PolicyRule {
            resource_names: Some(vec![LEASE.to_owned()]),
            ..rule
        })
        .collect();
    let grants = Grants::new(&format!(
        "system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"
    ));
    let grants = match watched {
        Watched::Namespace => grants.role(namespace, in_watched),
        Watched::Cluster => grants.cluster_role(in_watched),
    };
    grants
        .role(namespace, lease)
        .role(namespace, rules.leader_election.create)
}

/// Every (API group, resource, verb) the rules grant.
pub fn granted(rules: &ChartRules) -> Vec<(String, String, String)> {
    let all = rules
        .watched
        .iter()
        .chain(&rules.tenancy)
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

/// A client for the `KUBECONFIG` cluster that acts as the chart's ServiceAccount in `namespace`,
/// granted there exactly what the chart grants with `watchNamespace`, tenancy and leader election, so
/// the real API server enforces the chart's rules on the operator under test. The test's own
/// user must be allowed to impersonate (cluster-admin is).
pub async fn impersonating_service_account(admin: &Client, namespace: &str) -> Client {
    let rules = chart_rules();
    let in_watched = rules.watched_with_tenancy();
    let lease: Vec<PolicyRule> = rules
        .leader_election
        .lease
        .into_iter()
        .map(|rule| PolicyRule {
            resource_names: Some(vec![LEASE.to_owned()]),
            ..rule
        })
        .chain(rules.leader_election.create)
        .collect();
    let apply = PatchParams::apply("appconfig-operator-tests").force();
    Api::<ServiceAccount>::namespaced(admin.clone(), namespace)
        .patch(
            SERVICE_ACCOUNT,
            &apply,
            &Patch::Apply(json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": SERVICE_ACCOUNT},
            })),
        )
        .await
        .expect("the chart's ServiceAccount");
    for (name, rules) in [
        (SERVICE_ACCOUNT.to_owned(), in_watched),
        (format!("{SERVICE_ACCOUNT}-leader-election"), lease),
    ] {
        Api::<Role>::namespaced(admin.clone(), namespace)
            .patch(
                &name,
                &apply,
                &Patch::Apply(json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": {"name": name},
                    "rules": rules,
                })),
            )
            .await
            .expect("the chart's Role");
        Api::<RoleBinding>::namespaced(admin.clone(), namespace)
            .patch(
                &name,
                &apply,
                &Patch::Apply(json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": name},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                    "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": namespace}],
                })),
            )
            .await
            .expect("the chart's RoleBinding");
    }
    let mut config = kube::Config::infer()
        .await
        .expect("a configuration for the KUBECONFIG cluster");
    config.auth_info.impersonate = Some(format!(
        "system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"
    ));
    Client::try_from(config).expect("an impersonating client")
}
