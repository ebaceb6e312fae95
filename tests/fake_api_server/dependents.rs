//! Garbage collection of dependents and the API server's ConfigMap and Secret validation.

use std::time::Duration;

use k8s_openapi::api::{
    core::v1::{ConfigMap, Secret},
    rbac::v1::ClusterRole,
};
use kube::{
    Api, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};

use crate::{NS, api_error, fake_api_server::FakeApiServer};

fn owned_config_map(name: &str, owners: &[&ConfigMap]) -> ConfigMap {
    let references: Vec<Value> = owners
        .iter()
        .map(|o| {
            json!({"apiVersion": "v1", "kind": "ConfigMap", "name": o.name_any(), "uid": o.uid(), "controller": false})
        })
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": NS, "ownerReferences": references},
    }))
    .unwrap()
}

async fn create(api: &Api<ConfigMap>, object: &ConfigMap) -> ConfigMap {
    api.create(&PostParams::default(), object).await.unwrap()
}

/// Waits until `check` holds of the stored ConfigMap `name`: the garbage collector works after
/// the DELETE call returns, as the controller manager's does.
async fn collected(api: &Api<ConfigMap>, name: &str, check: impl Fn(Option<&ConfigMap>) -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while !check(api.get_opt(name).await.unwrap().as_ref()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{name} was not collected");
}

#[tokio::test]
async fn deleting_an_owner_deletes_its_dependents_and_only_theirs() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), NS);
    let owner = create(&api, &owned_config_map("owner", &[])).await;
    let other = create(&api, &owned_config_map("other", &[])).await;
    create(&api, &owned_config_map("child", &[&owner])).await;
    create(
        &api,
        &owned_config_map("grandchild", &[&api.get("child").await.unwrap()]),
    )
    .await;
    create(&api, &owned_config_map("shared", &[&owner, &other])).await;
    create(&api, &owned_config_map("unrelated", &[&other])).await;

    api.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    assert!(api.get_opt("owner").await.unwrap().is_none());
    assert!(
        api.get_opt("child").await.unwrap().is_some(),
        "dependents are collected after the DELETE returns, not within it"
    );
    for gone in ["child", "grandchild"] {
        collected(&api, gone, |o| o.is_none()).await;
    }
    collected(&api, "shared", |o| {
        o.is_some_and(|o| o.owner_references().len() == 1)
    })
    .await;
    let shared = api.get("shared").await.unwrap();
    let owners: Vec<String> = shared
        .owner_references()
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(owners, ["other"], "only the dangling reference is dropped");
    assert!(api.get_opt("unrelated").await.unwrap().is_some());
}

#[tokio::test]
async fn a_dependent_with_a_finalizer_waits_for_it() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), NS);
    let owner = create(&api, &owned_config_map("owner", &[])).await;
    let mut child = owned_config_map("child", &[&owner]);
    child.metadata.finalizers = Some(vec!["example.com/keep".into()]);
    create(&api, &child).await;
    api.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    collected(&api, "child", |o| {
        o.is_some_and(|o| o.metadata.deletion_timestamp.is_some())
    })
    .await;
}

#[tokio::test]
async fn a_cluster_scoped_owner_takes_its_dependents_in_every_namespace() {
    let fake = FakeApiServer::new();
    let roles: Api<ClusterRole> = Api::all(fake.client());
    let owner = roles
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "owner"}})).unwrap(),
        )
        .await
        .unwrap();
    let reference = json!([{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "name": "owner", "uid": owner.uid()}]);
    let mut apis = Vec::new();
    for namespace in ["one", "two"] {
        let api: Api<ConfigMap> = Api::namespaced(fake.client(), namespace);
        let child = serde_json::from_value(
            json!({"metadata": {"name": "child", "ownerReferences": reference}}),
        )
        .unwrap();
        create(&api, &child).await;
        apis.push(api);
    }
    roles
        .delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    for api in &apis {
        collected(api, "child", |o| o.is_none()).await;
    }
}

fn apply_config_map(data: Value) -> Patch<Value> {
    let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}});
    object
        .as_object_mut()
        .unwrap()
        .extend(data.as_object().unwrap().clone());
    Patch::Apply(object)
}

#[tokio::test]
async fn config_maps_are_refused_as_the_api_server_refuses_them() {
    let fake = FakeApiServer::new();
    let api: Api<ConfigMap> = Api::namespaced(fake.client(), NS);
    let params = PatchParams::apply("test");
    let too_large = "x".repeat(1024 * 1024 + 1);
    for (data, message) in [
        (
            json!({"data": {"config.json": too_large}}),
            "ConfigMap \"cm\" is invalid: []: Too long: must have at most 1048576 bytes",
        ),
        (
            json!({"data": {"k": "a"}, "binaryData": {"k": "YQ=="}}),
            "ConfigMap \"cm\" is invalid: data[k]: Invalid value: \"k\": duplicate of key present in binaryData",
        ),
        (
            json!({"data": {"bad key": "a"}}),
            "ConfigMap \"cm\" is invalid: data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters",
        ),
        (
            json!({"data": {"..data": "a"}}),
            "ConfigMap \"cm\" is invalid: data[..data]: Invalid value: \"..data\": must not start with '..'",
        ),
        (
            json!({"binaryData": {"..": "YQ=="}}),
            "ConfigMap \"cm\" is invalid: binaryData[..]: Invalid value: \"..\": must not be '..'",
        ),
    ] {
        let status = api_error(api.patch("cm", &params, &apply_config_map(data)).await);
        assert_eq!(status.code, 422);
        assert!(status.message.starts_with(message), "{}", status.message);
    }
    assert!(api.get_opt("cm").await.unwrap().is_none(), "nothing stored");
    let at_limit = "x".repeat(1024 * 1024);
    api.patch(
        "cm",
        &params,
        &apply_config_map(json!({"data": {"k": at_limit}})),
    )
    .await
    .expect("1 MiB exactly is allowed");
    api.patch(
        "cm",
        &params,
        &apply_config_map(json!({"data": {".env..local": "a"}})),
    )
    .await
    .expect("one leading dot, and dots inside, are allowed");
}

#[tokio::test]
async fn secret_data_must_be_base64_and_fit_in_one_mebibyte() {
    let fake = FakeApiServer::new();
    let api: Api<Secret> = Api::namespaced(fake.client(), NS);
    let params = PatchParams::apply("test");
    let secret = |data: Value| {
        Patch::Apply(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data}),
        )
    };
    let status = api_error(
        api.patch("s", &params, &secret(json!({"k": "not base64!"})))
            .await,
    );
    assert_eq!(status.code, 400);
    assert!(
        status.message.contains("illegal base64 data"),
        "{}",
        status.message
    );

    let large = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        vec![0u8; 1024 * 1024 + 1],
    );
    let status = api_error(api.patch("s", &params, &secret(json!({"k": large}))).await);
    assert_eq!(status.code, 422);
    assert_eq!(
        status.message,
        "Secret \"s\" is invalid: data: Too long: must have at most 1048576 bytes"
    );
    api.patch("s", &params, &secret(json!({"k": "aGk="})))
        .await
        .expect("base64 data is stored");
}
