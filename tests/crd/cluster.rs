//! The same checks against the real API server `KUBECONFIG` points at:
//! `KUBECONFIG=~/.kube/config cargo test --test crd -- --ignored`.
//!
//! Each test installs `crds/` with server-side apply (as `kubectl apply --server-side -f crds/`
//! does), works in a namespace of its own, and deletes that namespace at the end.

use std::collections::BTreeMap;

use appconfig_operator::api::v1alpha1::{AppConfigDeployment, AppConfigSync};
use kube::{
    Api, Client, ResourceExt,
    api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};

use crate::{
    cases,
    columns::{COLUMNS, WIDE_COLUMNS, cell_text, expected_cells},
    real_cluster, samples, sync_cases,
};

struct Cluster {
    client: Client,
    namespace: String,
}

impl Cluster {
    async fn connect() -> Self {
        let (client, namespace) = real_cluster::connect("appconfig-operator-crd-test-").await;
        Self { client, namespace }
    }

    fn resources(&self) -> Api<DynamicObject> {
        let resource = ApiResource::erase::<AppConfigDeployment>(&());
        Api::namespaced_with(self.client.clone(), &self.namespace, &resource)
    }

    fn syncs(&self) -> Api<DynamicObject> {
        let resource = ApiResource::erase::<AppConfigSync>(&());
        Api::namespaced_with(self.client.clone(), &self.namespace, &resource)
    }

    async fn delete(self) {
        real_cluster::delete_namespace(self.client, &self.namespace).await;
    }
}

fn as_dynamic(object: &Value) -> DynamicObject {
    serde_json::from_value(object.clone()).expect("a case object has metadata")
}

#[tokio::test]
#[ignore = "needs a Kubernetes cluster: set KUBECONFIG and pass --ignored"]
async fn cluster_sync_admission_refuses_bad_objects_naming_the_field() {
    let cluster = Cluster::connect().await;
    let api = cluster.syncs();
    let dry_run = PostParams {
        dry_run: true,
        field_manager: None,
    };
    let mut results = Vec::new();
    for case in sync_cases::all() {
        let result = match api.create(&dry_run, &as_dynamic(&case.object)).await {
            Ok(stored) => Ok(serde_json::to_value(stored).unwrap()),
            Err(kube::Error::Api(status)) => Err(status.message),
            Err(other) => panic!("{}: {other}", case.name),
        };
        results.push((case, result));
    }
    cluster.delete().await;
    cases::assert_all(results);
}

#[tokio::test]
#[ignore = "needs a Kubernetes cluster: set KUBECONFIG and pass --ignored"]
async fn cluster_admission_refuses_bad_objects_naming_the_field() {
    let cluster = Cluster::connect().await;
    let api = cluster.resources();
    let dry_run = PostParams {
        dry_run: true,
        field_manager: None,
    };
    let mut results = Vec::new();
    for case in cases::all() {
        let result = match api.create(&dry_run, &as_dynamic(&case.object)).await {
            Ok(stored) => Ok(serde_json::to_value(stored).unwrap()),
            Err(kube::Error::Api(status)) => Err(status.message),
            Err(other) => panic!("{}: {other}", case.name),
        };
        results.push((case, result));
    }
    cluster.delete().await;
    cases::assert_all(results);
}

#[tokio::test]
#[ignore = "needs a Kubernetes cluster: set KUBECONFIG and pass --ignored"]
async fn cluster_lists_the_contracts_columns() {
    let cluster = Cluster::connect().await;
    let api = cluster.resources();
    let object = api
        .create(
            &PostParams::default(),
            &as_dynamic(&samples::contract_example()),
        )
        .await
        .unwrap();
    api.patch_status(
        &object.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({"status": samples::deployed_status()})),
    )
    .await
    .unwrap();

    let request = http::Request::get(format!(
        "/apis/appconfig.operators.dev/v1alpha1/namespaces/{}/appconfigdeployments?includeObject=None",
        cluster.namespace
    ))
    .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
    .body(Vec::new())
    .unwrap();
    let table: Value = cluster.client.request(request).await.unwrap();
    cluster.delete().await;

    let names: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let expected_names: Vec<&str> = ["Name"]
        .into_iter()
        .chain(COLUMNS)
        .chain(WIDE_COLUMNS)
        .collect();
    assert_eq!(names, expected_names);

    let cells: BTreeMap<&str, String> = names
        .iter()
        .copied()
        .zip(
            table["rows"][0]["cells"]
                .as_array()
                .unwrap()
                .iter()
                .map(cell_text),
        )
        .collect();
    for (column, wanted) in expected_cells() {
        assert_eq!(cells[column], wanted, "column {column}");
    }
}

#[tokio::test]
#[ignore = "needs a Kubernetes cluster: set KUBECONFIG and pass --ignored"]
async fn cluster_explains_every_spec_field() {
    let cluster = Cluster::connect().await;
    let request = http::Request::get("/openapi/v3/apis/appconfig.operators.dev/v1alpha1")
        .body(Vec::new())
        .unwrap();
    let document: Value = cluster.client.request(request).await.unwrap();
    cluster.delete().await;

    let schema = document["components"]["schemas"]
        .as_object()
        .unwrap()
        .values()
        .find(|schema| {
            schema["x-kubernetes-group-version-kind"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|gvk| gvk["kind"] == "AppConfigDeployment")
        })
        .expect("the API server publishes the AppConfigDeployment schema");
    let published = schema["properties"]["spec"]["properties"]
        .as_object()
        .unwrap();
    let crd = crate::offline_api_server::openapi_schema(&crate::appconfig_deployment_crd());
    for field in crd["properties"]["spec"]["properties"]
        .as_object()
        .unwrap()
        .keys()
    {
        let description = published.get(field).and_then(|f| f["description"].as_str());
        assert!(
            description.is_some_and(|d| !d.is_empty()),
            "kubectl explain shows no description for spec.{field}"
        );
    }
}
