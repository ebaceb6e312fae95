//! The admission cases, run against the offline API server.

use crate::{
    appconfig_deployment_crd, appconfig_sync_crd, cases, offline_api_server::OfflineApiServer,
    sync_cases,
};

#[test]
fn admission_refuses_bad_objects_naming_the_field() {
    let server = OfflineApiServer::new(&appconfig_deployment_crd());
    let results = cases::all()
        .into_iter()
        .map(|case| {
            let result = server.create(&case.object);
            (case, result)
        })
        .collect();
    cases::assert_all(results);
}

#[test]
fn sync_admission_refuses_bad_objects_naming_the_field() {
    let server = OfflineApiServer::new(&appconfig_sync_crd());
    let results = sync_cases::all()
        .into_iter()
        .map(|case| {
            let result = server.create(&case.object);
            (case, result)
        })
        .collect();
    cases::assert_all(results);
}

#[test]
fn readme_sync_example_is_admitted() {
    let readme = include_str!("../../README.md");
    let example = readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains("kind: AppConfigSync"))
        .expect("the README shows an AppConfigSync in a yaml block");
    let object: serde_json::Value = serde_saphyr::from_str(example).unwrap();
    let server = OfflineApiServer::new(&appconfig_sync_crd());
    if let Err(message) = server.create(&object) {
        panic!("the README's AppConfigSync example is refused: {message}");
    }
}

#[test]
fn readme_example_is_admitted() {
    let readme = include_str!("../../README.md");
    let example = readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains("kind: AppConfigDeployment"))
        .expect("the README shows an AppConfigDeployment in a yaml block");
    let object: serde_json::Value = serde_saphyr::from_str(example).unwrap();
    let server = OfflineApiServer::new(&appconfig_deployment_crd());
    if let Err(message) = server.create(&object) {
        panic!("the README's example is refused: {message}");
    }
}
