//! The RBAC authorizer: Roles grant in their namespace only, ClusterRoles everywhere;
//! subresources, verbs and resourceNames are each checked; refusals are the API server's 403.

use http_body_util::BodyExt;
use k8s_openapi::api::{coordination::v1::Lease, core::v1::Namespace, rbac::v1::PolicyRule};
use kube::{
    Api,
    api::{ListParams, ObjectMeta, Patch, PatchParams, PostParams, WatchParams},
};
use serde_json::{Value, json};

use crate::{
    ACD_PLURAL, ACD_PREFIX, NS, api_error, deployment,
    fake_api_server::{FakeApiServer, Grants},
};
use appconfig_operator::api::v1alpha1::AppConfigDeployment;

const USER: &str = "system:serviceaccount:team:operator";

fn rule(group: &str, resource: &str, verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.to_owned()]),
        resources: Some(vec![resource.to_owned()]),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        ..PolicyRule::default()
    }
}

fn lease(name: &str) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        spec: None,
    }
}

/// A fake holding one AppConfigDeployment "a" in the team namespace, made by the admin.
async fn fake_with_deployment() -> FakeApiServer {
    let fake = FakeApiServer::new();
    Api::<AppConfigDeployment>::namespaced(fake.client(), NS)
        .create(&PostParams::default(), &deployment("a", "1"))
        .await
        .unwrap();
    fake
}

#[tokio::test]
async fn a_role_grants_in_its_namespace_only() {
    let fake = fake_with_deployment().await;
    let grants = Grants::new(USER).role(
        NS,
        vec![rule("appconfig.operators.dev", ACD_PLURAL, &["list"])],
    );
    let client = fake.client_with(grants.clone());
    let listed = Api::<AppConfigDeployment>::namespaced(client.clone(), NS)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);

    let elsewhere = Api::<AppConfigDeployment>::namespaced(client.clone(), "other")
        .list(&ListParams::default())
        .await;
    let status = api_error(elsewhere);
    assert_eq!(status.code, 403);
    assert_eq!(status.reason, "Forbidden");
    assert_eq!(
        status.message,
        format!(
            "appconfigdeployments.appconfig.operators.dev is forbidden: User \"{USER}\" cannot list resource \"appconfigdeployments\" in API group \"appconfig.operators.dev\" in the namespace \"other\""
        )
    );
    let everywhere = Api::<AppConfigDeployment>::all(client.clone())
        .list(&ListParams::default())
        .await;
    assert_eq!(
        api_error(everywhere).message,
        format!(
            "appconfigdeployments.appconfig.operators.dev is forbidden: User \"{USER}\" cannot list resource \"appconfigdeployments\" in API group \"appconfig.operators.dev\" at the cluster scope"
        )
    );
    // A watch is its own verb.
    let watch = Api::<AppConfigDeployment>::namespaced(client, NS)
        .watch(&kube::api::WatchParams::default(), "0")
        .await;
    assert_eq!(api_error(watch.map(|_| ())).code, 403);

    let used = grants.used();
    assert_eq!(used.len(), 1, "{used:?}");
    assert_eq!(
        (used[0].verb.as_str(), used[0].namespace.as_deref()),
        ("list", Some(NS))
    );
    // Refusals are recorded too, so a test can fail on one the client only logged.
    let refused: Vec<_> = grants
        .refused()
        .into_iter()
        .map(|a| (a.verb, a.namespace))
        .collect();
    assert_eq!(
        refused,
        vec![
            ("list".to_owned(), Some("other".to_owned())),
            ("list".to_owned(), None),
            ("watch".to_owned(), Some(NS.to_owned())),
        ]
    );
}

#[tokio::test]
async fn a_cluster_role_grants_everywhere_and_cluster_scoped_resources() {
    let fake = fake_with_deployment().await;
    Api::<Namespace>::all(fake.client())
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: ObjectMeta {
                    name: Some(NS.to_owned()),
                    ..ObjectMeta::default()
                },
                ..Namespace::default()
            },
        )
        .await
        .unwrap();
    let grants = Grants::new(USER).cluster_role(vec![
        rule("appconfig.operators.dev", "*", &["list"]),
        rule("", "namespaces", &["get"]),
    ]);
    let client = fake.client_with(grants);
    let all = Api::<AppConfigDeployment>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    Api::<Namespace>::all(client).get(NS).await.unwrap();
}

#[tokio::test]
async fn a_subresource_needs_its_own_grant() {
    let fake = fake_with_deployment().await;
    let grants = Grants::new(USER).role(
        NS,
        vec![rule("appconfig.operators.dev", ACD_PLURAL, &["patch"])],
    );
    let api = Api::<AppConfigDeployment>::namespaced(fake.client_with(grants), NS);
    let labels = Patch::Merge(json!({"metadata": {"labels": {"team": "shop"}}}));
    api.patch("a", &PatchParams::default(), &labels)
        .await
        .unwrap();
    let status = Patch::Merge(json!({"status": {"servedVersion": "1"}}));
    let refused = api_error(
        api.patch_status("a", &PatchParams::default(), &status)
            .await,
    );
    assert_eq!(
        refused.message,
        format!(
            "appconfigdeployments.appconfig.operators.dev \"a\" is forbidden: User \"{USER}\" cannot patch resource \"appconfigdeployments/status\" in API group \"appconfig.operators.dev\" in the namespace \"{NS}\""
        )
    );
    // Refused before anything is stored.
    let stored = fake.get(ACD_PREFIX, Some(NS), ACD_PLURAL, "a").unwrap();
    assert!(
        stored
            .get("status")
            .is_none_or(|s| s["servedVersion"].is_null()),
        "{stored}"
    );
}

#[tokio::test]
async fn resource_names_restrict_a_grant_to_the_named_objects() {
    let fake = FakeApiServer::new();
    let admin: Api<Lease> = Api::namespaced(fake.client(), NS);
    let grants = Grants::new(USER).role(
        NS,
        vec![PolicyRule {
            resource_names: Some(vec!["mine".to_owned()]),
            ..rule("coordination.k8s.io", "leases", &["get", "create"])
        }],
    );
    let leases: Api<Lease> = Api::namespaced(fake.client_with(grants), NS);
    // A name cannot allow a create, not even of the one object named: refused before the
    // fake could say it does not exist yet.
    let create = leases.create(&PostParams::default(), &lease("mine")).await;
    assert_eq!(api_error(create).code, 403);
    for name in ["mine", "theirs"] {
        admin
            .create(&PostParams::default(), &lease(name))
            .await
            .unwrap();
    }
    leases.get("mine").await.unwrap();
    let refused = api_error(leases.get("theirs").await);
    assert_eq!(refused.code, 403);
    assert_eq!(
        refused
            .details
            .as_ref()
            .map(|d| (d.name.as_str(), d.group.as_str(), d.kind.as_str())),
        Some(("theirs", "coordination.k8s.io", "leases"))
    );
    // The admin client is not restricted.
    admin.get("theirs").await.unwrap();
}

#[tokio::test]
async fn a_list_or_watch_naming_one_object_by_field_selector_is_authorized_as_that_name() {
    let fake = FakeApiServer::new();
    let admin: Api<Lease> = Api::namespaced(fake.client(), NS);
    for name in ["mine", "theirs"] {
        admin
            .create(&PostParams::default(), &lease(name))
            .await
            .unwrap();
    }
    let grants = Grants::new(USER).role(
        NS,
        vec![PolicyRule {
            resource_names: Some(vec!["mine".to_owned()]),
            ..rule("coordination.k8s.io", "leases", &["list", "watch"])
        }],
    );
    let leases: Api<Lease> = Api::namespaced(fake.client_with(grants), NS);
    let mine = leases
        .list(&ListParams::default().fields("metadata.name=mine"))
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 1);
    let _events = leases
        .watch(&WatchParams::default().fields("metadata.name==mine"), "0")
        .await
        .unwrap();
    let theirs = leases
        .list(&ListParams::default().fields("metadata.name=theirs"))
        .await;
    assert_eq!(api_error(theirs).code, 403);
    assert_eq!(
        api_error(leases.list(&ListParams::default()).await).code,
        403
    );
}

/// The raw reply to a GET, for what `kube::core::Status` cannot tell apart (an absent field
/// from an empty one).
async fn raw_get(client: &kube::Client, path: &str) -> (u16, Value) {
    let request = http::Request::get(path)
        .body(kube::client::Body::empty())
        .unwrap();
    let response = client.send(request).await.unwrap();
    let code = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (code, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn refusals_in_the_core_group_leave_the_group_out_as_the_api_server_does() {
    let fake = FakeApiServer::new();
    let client = fake.client_with(Grants::new(USER));
    let (code, status) = raw_get(&client, &format!("/api/v1/namespaces/{NS}/secrets/s")).await;
    assert_eq!(code, 403);
    assert_eq!(status["details"], json!({"name": "s", "kind": "secrets"}));
    let (code, status) = raw_get(
        &fake.client(),
        &format!("/api/v1/namespaces/{NS}/secrets/s"),
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(status["details"], json!({"name": "s", "kind": "secrets"}));
}

#[tokio::test]
async fn a_path_naming_no_resource_is_refused_before_it_is_found_missing() {
    let fake = FakeApiServer::new();
    let grants = Grants::new(USER);
    let (code, status) = raw_get(&fake.client_with(grants.clone()), "/no/such/path").await;
    assert_eq!(code, 403);
    assert_eq!(
        status["message"],
        format!("forbidden: User \"{USER}\" cannot get path \"/no/such/path\"")
    );
    assert_eq!(grants.refused().len(), 1);
    // An admin is allowed every path, and learns it does not exist.
    assert_eq!(raw_get(&fake.client(), "/no/such/path").await.0, 404);
}
