//! The IAM side of tenancy scenarios, set up as a platform team does it: the cluster's OIDC
//! issuer registered with (the emulator's) IAM, one role per team trusting a ServiceAccount and
//! allowed its own application, and the ServiceAccount annotated with the role.

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::{Value, json};

use crate::{
    cluster::Cluster,
    http_get,
    world::{Target, World},
};

/// The account the emulator's ARNs name.
pub const ACCOUNT: &str = "123456789012";

pub fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// The subject of `service_account`'s tokens, as trust policies name it.
pub fn subject(cluster: &Cluster, service_account: &str) -> String {
    format!(
        "system:serviceaccount:{}:{service_account}",
        cluster.namespace
    )
}

/// Registers the cluster's service account issuer as an OIDC provider of the emulator's IAM,
/// from what the API server publishes (as `eksctl utils associate-iam-oidc-provider` does).
pub async fn trust_cluster(world: &World, cluster: &Cluster) {
    let discovery = read(cluster, "/.well-known/openid-configuration").await;
    let jwks = read(cluster, "/openid/v1/jwks").await;
    let issuer = discovery["issuer"]
        .as_str()
        .expect("the discovery document names the issuer");
    admin(
        world,
        "/_emulator/iam/oidc",
        &json!({"issuer": issuer, "jwks": jwks}),
    )
    .await;
}

/// Defines (or replaces) role `name`: assumable with a token of the cluster's issuer whose
/// subject is one of `subjects`, and allowed what `policy` allows.
pub async fn define_role(
    world: &World,
    cluster: &Cluster,
    name: &str,
    subjects: &[String],
    policy: Value,
) {
    let discovery = read(cluster, "/.well-known/openid-configuration").await;
    admin(
        world,
        "/_emulator/iam/roles",
        &json!({
            "roleArn": role_arn(name),
            "trust": {
                "issuer": discovery["issuer"],
                "audience": "sts.amazonaws.com",
                "subjects": subjects,
            },
            "policy": policy,
        }),
    )
    .await;
}

/// Defines (or replaces) role `team`, trusting ServiceAccount `team` and allowed what `policy`
/// allows: a team's role.
pub async fn team_role(world: &World, cluster: &Cluster, team: &str, policy: Value) {
    define_role(world, cluster, team, &[subject(cluster, team)], policy).await;
}

/// What a team's role is allowed: reading AppConfig everywhere (to find IDs by name), and
/// deploying and reading configuration in its own application only.
pub fn team_policy(application_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["appconfig:Get*", "appconfig:List*"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "appconfig:StartDeployment",
                    "appconfig:StopDeployment",
                    "appconfig:TagResource",
                    "appconfig:CreateHostedConfigurationVersion",
                    "appconfig:StartConfigurationSession",
                    "appconfig:GetLatestConfiguration",
                ],
                "Resource": [
                    format!("arn:aws:appconfig:*:{ACCOUNT}:application/{application_id}"),
                    format!("arn:aws:appconfig:*:{ACCOUNT}:application/{application_id}/*"),
                    format!("arn:aws:appconfig:*:{ACCOUNT}:deploymentstrategy/*"),
                ],
            },
        ],
    })
}

/// Two teams, each with an application `shop-a` / `shop-b` (environment `production`, profile
/// `flags`) and a ServiceAccount `team-a` / `team-b` annotated with role `team-a` / `team-b`,
/// which trusts that ServiceAccount and may deploy and read its own application only.
pub async fn two_teams(cluster: &Cluster, world: &World) -> (Target, Target) {
    trust_cluster(world, cluster).await;
    let a = world.target("shop-a", "production", "flags", &[]).await;
    let b = world.target("shop-b", "production", "flags", &[]).await;
    for (team, target) in [("team-a", &a), ("team-b", &b)] {
        team_role(world, cluster, team, team_policy(&target.application)).await;
        service_account(cluster, team, Some(&role_arn(team))).await;
    }
    (a, b)
}

/// Creates or updates ServiceAccount `name`, annotated with `role_arn` (none: no annotation).
pub async fn service_account(cluster: &Cluster, name: &str, role_arn: Option<&str>) {
    let annotations = match role_arn {
        Some(arn) => json!({"eks.amazonaws.com/role-arn": arn}),
        None => json!({}),
    };
    Api::<ServiceAccount>::namespaced(cluster.client.clone(), &cluster.namespace)
        .patch(
            name,
            &PatchParams::apply("scenario-user").force(),
            &Patch::Apply(json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": name, "annotations": annotations},
            })),
        )
        .await
        .expect("the ServiceAccount is applied");
}

pub async fn delete_service_account(cluster: &Cluster, name: &str) {
    Api::<ServiceAccount>::namespaced(cluster.client.clone(), &cluster.namespace)
        .delete(name, &Default::default())
        .await
        .expect("the ServiceAccount is deleted");
}

async fn read(cluster: &Cluster, path: &str) -> Value {
    let request = http::Request::get(path).body(Vec::new()).unwrap();
    let text = cluster
        .client
        .request_text(request)
        .await
        .unwrap_or_else(|e| panic!("the API server serves {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is JSON: {e}: {text}"))
}

async fn admin(world: &World, path: &str, body: &Value) {
    let reply = http_get::post_json(world.emulator.address(), path, body).await;
    assert!(
        reply.status < 300,
        "the emulator refused {path}: {} {}",
        reply.status,
        reply.body
    );
}
