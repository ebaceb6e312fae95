//! The CustomResourceDefinitions users install: committed files in step with the code, a schema
//! the API server accepts, admission that refuses bad objects naming the field, and the columns
//! `kubectl get` prints.
//!
//! Offline tests reproduce the API server's admission from the CRD itself. The `#[ignore]`d
//! tests in `cluster` run the same cases against the real API server `KUBECONFIG` points at.

use appconfig_operator::api::crds;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

mod admission;
mod cases;
mod cluster;
mod columns;
mod drift;
mod offline_api_server;
#[path = "../support/real_cluster.rs"]
mod real_cluster;
mod samples;
mod schema;
mod sync_cases;
mod sync_columns;

/// The AppConfigSync CRD as users install it.
fn appconfig_sync_crd() -> CustomResourceDefinition {
    crds::all()
        .into_iter()
        .find(|crd| crd.spec.names.kind == "AppConfigSync")
        .expect("the operator serves AppConfigSync")
}

/// The AppConfigDeployment CRD as users install it.
fn appconfig_deployment_crd() -> CustomResourceDefinition {
    crds::all()
        .into_iter()
        .find(|crd| crd.spec.names.kind == "AppConfigDeployment")
        .expect("the operator serves AppConfigDeployment")
}
