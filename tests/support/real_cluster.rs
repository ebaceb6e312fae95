//! The real Kubernetes API server `KUBECONFIG` points at, for the `#[ignore]`d cluster tests:
//! the operator's CRDs installed from `crds/` as users install them, and a namespace per test.

use std::{fs, path::Path, time::Duration};

use k8s_openapi::{
    api::core::v1::Namespace,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, PostParams},
    runtime::wait::{await_condition, conditions},
};
use serde_json::json;

const FIELD_MANAGER: &str = "appconfig-operator-tests";

/// A client for the cluster, with `crds/` applied and a fresh namespace named `prefix…`.
pub async fn connect(prefix: &str) -> (Client, String) {
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "cluster tests need a cluster: set KUBECONFIG"
    );
    let client = Client::try_default()
        .await
        .expect("a client for the KUBECONFIG cluster");
    install_crds(&client).await;
    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"generateName": prefix}})).unwrap();
    let namespace = Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .expect("a test namespace")
        .name_any();
    (client, namespace)
}

pub async fn delete_namespace(client: Client, namespace: &str) {
    Api::<Namespace>::all(client)
        .delete(namespace, &DeleteParams::default())
        .await
        .expect("the test namespace is deleted");
}

async fn install_crds(client: &Client) {
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let crd: CustomResourceDefinition =
            serde_saphyr::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let name = crd.name_any();
        api.patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("the API server refuses {}: {e}", path.display()));
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(api.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .unwrap_or_else(|_| panic!("{name} is not Established after 30 s"))
        .unwrap();
    }
}
