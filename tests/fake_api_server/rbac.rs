//! The RBAC authorizer: Roles grant in their namespace only, ClusterRoles everywhere;
//! subresources, verbs and resourceNames are each checked; refusals are the API server's 403.

use http_body_util::BodyExt;
use k8s_openapi::{
    api::{
        authentication::v1::{TokenRequest, TokenRequestSpec},
        coordination::v1::Lease,
        core::v1::{ConfigMap, Namespace, ServiceAccount},
        rbac::v1::PolicyRule,
    },
    apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube::{
    Api,
    api::{ListParams, ObjectMeta, Patch, PatchParams, PostParams, WatchParams},
};
use serde_json::{Value, json};

use crate::{
    ACD_PLURAL, ACD_PREFIX, NS, api_error, config_map, deployment,
    fake_api_server::{Access, FakeApiServer, Grants},
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

fn applied_config_map(name: &str, owner: Option<Value>) -> Patch<Value> {
    let mut object = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS},
        "data": {"key": "value"},
    });
    if let Some(owner) = owner {
        object["metadata"]["ownerReferences"] = json!([owner]);
    }
    Patch::Apply(object)
}

/// What RBAC was asked, as (group, resource, verb, name).
fn asked(accesses: Vec<Access>) -> Vec<(String, String, String, Option<String>)> {
    accesses
        .into_iter()
        .map(|a| (a.group, a.resource, a.verb, a.name))
        .collect()
}

fn check(
    group: &str,
    resource: &str,
    verb: &str,
    name: &str,
) -> (String, String, String, Option<String>) {
    (
        group.into(),
        resource.into(),
        verb.into(),
        Some(name.into()),
    )
}

#[tokio::test]
async fn a_server_side_apply_that_creates_is_authorized_as_a_create_too() {
    let fake = FakeApiServer::new();
    let patch_only = Grants::new(USER).role(NS, vec![rule("", "configmaps", &["patch"])]);
    let maps = Api::<ConfigMap>::namespaced(fake.client_with(patch_only.clone()), NS);
    let apply = PatchParams::apply("operator");
    let refused = api_error(
        maps.patch("flags", &apply, &applied_config_map("flags", None))
            .await,
    );
    assert_eq!((refused.code, refused.reason.as_str()), (403, "Forbidden"));
    // The API server checks the create once the patch is allowed, and words the refusal with
    // RBAC's reason, which is empty.
    assert_eq!(refused.message, r#"configmaps "flags" is forbidden: "#);
    assert_eq!(
        refused
            .details
            .as_ref()
            .map(|d| (d.name.as_str(), d.kind.as_str())),
        Some(("flags", "configmaps"))
    );
    assert!(
        fake.get("api/v1", Some(NS), "configmaps", "flags")
            .is_none()
    );
    assert_eq!(
        asked(patch_only.refused()),
        [check("", "configmaps", "create", "flags")]
    );

    let may_create = Grants::new(USER).role(NS, vec![rule("", "configmaps", &["patch", "create"])]);
    let maps = Api::<ConfigMap>::namespaced(fake.client_with(may_create.clone()), NS);
    maps.patch("flags", &apply, &applied_config_map("flags", None))
        .await
        .unwrap();
    assert_eq!(
        asked(may_create.used()),
        [
            check("", "configmaps", "patch", "flags"),
            check("", "configmaps", "create", "flags"),
        ]
    );
    // Applying to an object that exists is a patch only.
    let mut changed = applied_config_map("flags", None);
    if let Patch::Apply(object) = &mut changed {
        object["data"]["key"] = json!("changed");
    }
    Api::<ConfigMap>::namespaced(fake.client_with(patch_only.clone()), NS)
        .patch("flags", &apply, &changed)
        .await
        .unwrap();
    assert_eq!(
        patch_only.refused().len(),
        1,
        "only the first apply was refused"
    );
    let stored = fake.get("api/v1", Some(NS), "configmaps", "flags").unwrap();
    assert_eq!(stored["data"]["key"], "changed");
}

#[tokio::test]
async fn blocking_an_owners_deletion_needs_update_on_its_finalizers() {
    let fake = fake_with_deployment().await;
    let owner_uid = fake.get(ACD_PREFIX, Some(NS), ACD_PLURAL, "a").unwrap()["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = |block: bool| {
        json!({
            "apiVersion": "appconfig.operators.dev/v1alpha1",
            "kind": "AppConfigDeployment",
            "name": "a",
            "uid": owner_uid,
            "controller": true,
            "blockOwnerDeletion": block,
        })
    };
    let writer = rule("", "configmaps", &["create", "patch", "delete"]);
    let grants = Grants::new(USER).role(NS, vec![writer.clone()]);
    let maps = Api::<ConfigMap>::namespaced(fake.client_with(grants.clone()), NS);
    let apply = PatchParams::apply("operator");

    let refused = api_error(
        maps.patch("c", &apply, &applied_config_map("c", Some(owner(true))))
            .await,
    );
    assert_eq!((refused.code, refused.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        refused.message,
        r#"configmaps "c" is forbidden: cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: , <nil>"#
    );
    assert!(fake.get("api/v1", Some(NS), "configmaps", "c").is_none());
    let finalizers = check(
        "appconfig.operators.dev",
        "appconfigdeployments/finalizers",
        "update",
        "a",
    );
    assert_eq!(asked(grants.refused()), std::slice::from_ref(&finalizers));
    assert_eq!(
        grants.refused()[0].namespace.as_deref(),
        Some(NS),
        "in the owner's namespace"
    );

    // A reference that does not block needs nothing more, and neither does keeping one that
    // already blocked; making it block does.
    maps.patch("c", &apply, &applied_config_map("c", Some(owner(false))))
        .await
        .unwrap();
    let refused = api_error(
        maps.patch("c", &apply, &applied_config_map("c", Some(owner(true))))
            .await,
    );
    assert_eq!(refused.code, 403);
    assert_eq!(grants.refused().len(), 2);

    let may_block = Grants::new(USER).role(
        NS,
        vec![
            writer,
            PolicyRule {
                resource_names: Some(vec!["a".to_owned()]),
                ..rule(
                    "appconfig.operators.dev",
                    "appconfigdeployments/finalizers",
                    &["update"],
                )
            },
        ],
    );
    Api::<ConfigMap>::namespaced(fake.client_with(may_block.clone()), NS)
        .patch("c", &apply, &applied_config_map("c", Some(owner(true))))
        .await
        .unwrap();
    assert!(asked(may_block.used()).contains(&finalizers));
    let mut relabelled = applied_config_map("c", Some(owner(true)));
    if let Patch::Apply(object) = &mut relabelled {
        object["metadata"]["labels"] = json!({"team": "shop"});
    }
    maps.patch("c", &apply, &relabelled).await.unwrap();
    assert_eq!(grants.refused().len(), 2, "the reference blocked already");
    let stored = fake.get("api/v1", Some(NS), "configmaps", "c").unwrap();
    assert_eq!(
        stored["metadata"]["ownerReferences"][0]["blockOwnerDeletion"],
        true
    );
}

#[tokio::test]
async fn an_owner_not_found_is_named_by_its_kinds_plural() {
    let fake = FakeApiServer::new();
    let grants = Grants::new(USER).role(NS, vec![rule("", "configmaps", &["create"])]);
    let maps = Api::<ConfigMap>::namespaced(fake.client_with(grants.clone()), NS);
    let mut map = config_map("c", &[]);
    map.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "example.com/v1".to_owned(),
        kind: "Widget".to_owned(),
        name: "w".to_owned(),
        uid: "not-stored".to_owned(),
        block_owner_deletion: Some(true),
        controller: None,
    }]);
    let refused = api_error(maps.create(&PostParams::default(), &map).await);
    assert_eq!(refused.code, 403);
    assert_eq!(
        asked(grants.refused()),
        [check("example.com", "widgets/finalizers", "update", "w")]
    );
    // Without blockOwnerDeletion, the plugin asks nothing.
    map.metadata.owner_references.as_mut().unwrap()[0].block_owner_deletion = None;
    maps.create(&PostParams::default(), &map).await.unwrap();
    assert_eq!(grants.refused().len(), 1);
}

#[tokio::test]
async fn an_admin_may_block_any_owners_deletion() {
    let fake = fake_with_deployment().await;
    let maps = Api::<ConfigMap>::namespaced(fake.client(), NS);
    let owner = json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "name": "w",
        "uid": "not-stored",
        "blockOwnerDeletion": true,
    });
    maps.patch(
        "c",
        &PatchParams::apply("admin"),
        &applied_config_map("c", Some(owner)),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn changing_owner_references_needs_delete_on_the_object() {
    let fake = FakeApiServer::new();
    Api::<ConfigMap>::namespaced(fake.client(), NS)
        .create(&PostParams::default(), &config_map("c", &[]))
        .await
        .unwrap();
    let grants = Grants::new(USER).role(NS, vec![rule("", "configmaps", &["patch"])]);
    let maps = Api::<ConfigMap>::namespaced(fake.client_with(grants.clone()), NS);
    let owner = json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "name": "w",
        "uid": "not-stored",
    });
    let adopt = Patch::Merge(json!({"metadata": {"ownerReferences": [owner]}}));
    let refused = api_error(maps.patch("c", &PatchParams::default(), &adopt).await);
    assert_eq!((refused.code, refused.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        refused.message,
        r#"configmaps "c" is forbidden: cannot set an ownerRef on a resource you can't delete: , <nil>"#
    );
    assert_eq!(
        asked(grants.refused()),
        [check("", "configmaps", "delete", "c")]
    );
    let stored = fake.get("api/v1", Some(NS), "configmaps", "c").unwrap();
    assert!(stored["metadata"]["ownerReferences"].is_null(), "{stored}");
    // Other changes leave the references alone and need nothing more.
    let relabel = Patch::Merge(json!({"metadata": {"labels": {"team": "shop"}}}));
    maps.patch("c", &PatchParams::default(), &relabel)
        .await
        .unwrap();
    assert_eq!(grants.refused().len(), 1);
}

#[tokio::test]
async fn a_token_request_is_a_create_on_the_token_subresource() {
    let fake = FakeApiServer::new();
    let account = ServiceAccount {
        metadata: ObjectMeta {
            name: Some("deployer".to_owned()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    };
    Api::<ServiceAccount>::namespaced(fake.client(), NS)
        .create(&PostParams::default(), &account)
        .await
        .unwrap();
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec!["sts.amazonaws.com".to_owned()],
            ..TokenRequestSpec::default()
        },
        ..TokenRequest::default()
    };
    let ask = |rules: Vec<PolicyRule>| {
        let client = fake.client_with(Grants::new(USER).role(NS, rules));
        let request = request.clone();
        async move {
            Api::<ServiceAccount>::namespaced(client, NS)
                .create_token_request("deployer", &PostParams::default(), &request)
                .await
        }
    };
    // Every verb on the accounts themselves grants none of their subresources.
    let refused = api_error(ask(vec![rule("", "serviceaccounts", &["*"])]).await);
    assert_eq!(
        (refused.code, refused.message),
        (
            403,
            format!(
                "serviceaccounts \"deployer\" is forbidden: User \"{USER}\" cannot create resource \"serviceaccounts/token\" in API group \"\" in the namespace \"{NS}\""
            )
        )
    );
    let only_get = api_error(ask(vec![rule("", "serviceaccounts/token", &["get"])]).await);
    assert_eq!(only_get.code, 403);
    ask(vec![rule("", "serviceaccounts/token", &["create"])])
        .await
        .unwrap();
    assert_eq!(fake.token_requests().len(), 1, "refusals issue no token");
}

#[tokio::test]
async fn every_service_account_may_read_the_issuer_discovery_documents() {
    let fake = FakeApiServer::new();
    let grants = Grants::new(USER);
    let client = fake.client_with(grants.clone());
    let paths = ["/.well-known/openid-configuration", "/openid/v1/jwks"];
    for path in paths {
        let (code, _) = raw_get(&client, path).await;
        assert_eq!(code, 200, "{path}");
    }
    let read = paths.map(|path| Access {
        group: String::new(),
        resource: path.to_owned(),
        verb: "get".to_owned(),
        namespace: None,
        name: None,
    });
    assert_eq!(grants.used(), read);
    assert_eq!(grants.refused(), []);
}
