//! The fake Kubernetes API server, exercised through `kube::Api` and `kube::runtime` as the
//! operator's tests use it.

#[path = "../support/fake_api_server/mod.rs"]
mod fake_api_server;
mod rbac;
mod tokens;

mod dependents;
mod metadata;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use appconfig_operator::api::v1alpha1::{
    AppConfigDeployment, AppConfigDeploymentSpec, AppConfigDeploymentStatus,
};
use fake_api_server::{FakeApiServer, RequestMatcher, WriteRecord};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::{
    core::v1::{ConfigMap, Namespace},
    events::v1::Event as K8sEvent,
};
use kube::{
    Api, Resource, ResourceExt,
    api::{
        DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams, WatchEvent,
        WatchParams,
    },
    runtime::{
        Controller,
        controller::Action,
        events::{Event, EventType, Recorder, Reporter},
        watcher,
    },
};
use serde_json::{Value, json};

const NS: &str = "team";
const ACD_PREFIX: &str = "apis/appconfig.operators.dev/v1alpha1";
const ACD_PLURAL: &str = "appconfigdeployments";

fn deployment(name: &str, version: &str) -> AppConfigDeployment {
    let mut deployment = AppConfigDeployment::new(
        name,
        AppConfigDeploymentSpec::new("shop", "prod", "flags", version, "AppConfig.AllAtOnce"),
    );
    deployment.metadata.namespace = Some(NS.into());
    deployment
}

fn config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("key".to_string(), "value".to_string())])),
        ..ConfigMap::default()
    }
}

fn deployments(fake: &FakeApiServer) -> Api<AppConfigDeployment> {
    Api::namespaced(fake.client(), NS)
}

fn api_error(result: Result<impl std::fmt::Debug, kube::Error>) -> Box<kube::core::Status> {
    match result {
        Err(kube::Error::Api(status)) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn apply_status(manager: &str, force: bool) -> PatchParams {
    let params = PatchParams::apply(manager);
    if force { params.force() } else { params }
}

fn acd_config(body: Value) -> Patch<Value> {
    let mut config =
        json!({"apiVersion": "appconfig.operators.dev/v1alpha1", "kind": "AppConfigDeployment"});
    json_patch::merge(&mut config, &body);
    Patch::Apply(config)
}

fn stored_status(fake: &FakeApiServer, name: &str) -> Value {
    fake.get(ACD_PREFIX, Some(NS), ACD_PLURAL, name)
        .expect("stored")["status"]
        .clone()
}

/// The next item of a stream, failing the test instead of hanging when the fake stays silent.
async fn next<T>(stream: &mut (impl futures::Stream<Item = T> + Unpin)) -> T {
    let item = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
    item.expect("an item within 5 s")
        .expect("the stream goes on")
}

async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn creates_gets_and_lists_with_selectors_and_pages() {
    let fake = FakeApiServer::new();
    let client = fake.client();
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    for (name, labels) in [
        ("a", &[("app", "web"), ("tier", "front")][..]),
        ("b", &[("app", "web")][..]),
        ("c", &[("app", "db")][..]),
    ] {
        let created = maps
            .create(&PostParams::default(), &config_map(name, labels))
            .await
            .unwrap();
        assert_eq!(created.metadata.namespace.as_deref(), Some(NS));
        assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    }
    let other: Api<ConfigMap> = Api::namespaced(client.clone(), "other");
    other
        .create(&PostParams::default(), &config_map("d", &[]))
        .await
        .unwrap();

    let a = maps.get("a").await.unwrap();
    assert_eq!(a.data.unwrap()["key"], "value");
    let duplicate = api_error(
        maps.create(&PostParams::default(), &config_map("a", &[]))
            .await,
    );
    assert_eq!(
        (duplicate.code, duplicate.reason.as_str()),
        (409, "AlreadyExists")
    );
    assert_eq!(duplicate.message, r#"configmaps "a" already exists"#);
    let missing = api_error(maps.get("nope").await);
    assert_eq!(
        (missing.code, missing.message.as_str()),
        (404, r#"configmaps "nope" not found"#)
    );
    let missing = api_error(deployments(&fake).get("nope").await);
    assert_eq!(
        missing.message,
        r#"appconfigdeployments.appconfig.operators.dev "nope" not found"#
    );

    let names = |list: kube::core::ObjectList<ConfigMap>| {
        list.items
            .iter()
            .map(ResourceExt::name_any)
            .collect::<Vec<_>>()
    };
    let select = |labels: &str| ListParams::default().labels(labels);
    assert_eq!(
        names(maps.list(&select("app=web")).await.unwrap()),
        ["a", "b"]
    );
    assert_eq!(names(maps.list(&select("app!=web")).await.unwrap()), ["c"]);
    assert_eq!(names(maps.list(&select("tier")).await.unwrap()), ["a"]);
    assert_eq!(
        names(maps.list(&select("!tier,app in (web,db)")).await.unwrap()),
        ["b", "c"]
    );
    let by_name = ListParams::default().fields("metadata.name=b");
    assert_eq!(names(maps.list(&by_name).await.unwrap()), ["b"]);
    let all: Api<ConfigMap> = Api::all(client.clone());
    assert_eq!(
        names(all.list(&ListParams::default()).await.unwrap()),
        ["d", "a", "b", "c"]
    );
    let by_namespace = ListParams::default().fields("metadata.namespace=other");
    assert_eq!(names(all.list(&by_namespace).await.unwrap()), ["d"]);

    let first = maps.list(&ListParams::default().limit(2)).await.unwrap();
    let rv = first.metadata.resource_version.clone().unwrap();
    assert_eq!(first.metadata.remaining_item_count, Some(1));
    let token = first.metadata.continue_.clone().expect("a continue token");
    // A page taken after a write still shows the list as it was when the first page was read.
    maps.create(&PostParams::default(), &config_map("e", &[]))
        .await
        .unwrap();
    let second = maps
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(
        second.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );
    assert!(second.metadata.continue_.is_none());
    assert_eq!([names(first), names(second)].concat(), ["a", "b", "c"]);

    let generated = ConfigMap {
        metadata: ObjectMeta {
            generate_name: Some("gen-".into()),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    };
    let generated = maps
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    assert!(generated.name_any().starts_with("gen-") && generated.name_any().len() == 9);
}

#[tokio::test]
async fn generation_counts_spec_changes_only() {
    let fake = FakeApiServer::new();
    let api = deployments(&fake);
    let mut object = deployment("demo", "1");
    object.status = Some(AppConfigDeploymentStatus {
        state: Some("DEPLOYING".into()),
        ..AppConfigDeploymentStatus::default()
    });
    let created = api.create(&PostParams::default(), &object).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(
        created.status, None,
        "create drops status when there is a status subresource"
    );

    let labelled = api
        .patch(
            "demo",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(1));
    assert_ne!(
        labelled.metadata.resource_version,
        created.metadata.resource_version
    );
    let status = json!({"status": {"state": "BAKING"}});
    let with_status = api
        .patch_status("demo", &PatchParams::default(), &Patch::Merge(status))
        .await
        .unwrap();
    assert_eq!(with_status.metadata.generation, Some(1));
    let respec = json!({"spec": {"configurationVersion": "2"}});
    let respecced = api
        .patch("demo", &PatchParams::default(), &Patch::Merge(respec))
        .await
        .unwrap();
    assert_eq!(respecced.metadata.generation, Some(2));

    let unchanged = api
        .patch(
            "demo",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"configurationVersion": "2"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        unchanged.metadata.resource_version, respecced.metadata.resource_version,
        "a write that changes nothing keeps the resourceVersion"
    );
}

#[tokio::test]
async fn status_subresource_is_isolated_both_ways() {
    let fake = FakeApiServer::new();
    let api = deployments(&fake);
    api.create(&PostParams::default(), &deployment("demo", "1"))
        .await
        .unwrap();
    let status = json!({"status": {"state": "DEPLOYING"}});
    api.patch_status("demo", &PatchParams::default(), &Patch::Merge(status))
        .await
        .unwrap();

    let mut current = api.get("demo").await.unwrap();
    current.spec.configuration_version = Some("2".into());
    current.status.as_mut().unwrap().state = Some("COMPLETE".into());
    let replaced = api
        .replace("demo", &PostParams::default(), &current)
        .await
        .unwrap();
    assert_eq!(replaced.spec.configuration_version.as_deref(), Some("2"));
    assert_eq!(replaced.status.unwrap().state.as_deref(), Some("DEPLOYING"));

    let mut current = api.get("demo").await.unwrap();
    current.spec.configuration_version = Some("3".into());
    current.status.as_mut().unwrap().state = Some("BAKING".into());
    let replaced = api
        .replace_status("demo", &PostParams::default(), &current)
        .await
        .unwrap();
    assert_eq!(replaced.spec.configuration_version.as_deref(), Some("2"));
    assert_eq!(replaced.status.unwrap().state.as_deref(), Some("BAKING"));
    assert_eq!(replaced.metadata.generation, Some(2));
}

#[tokio::test]
async fn replace_needs_the_current_resource_version() {
    let fake = FakeApiServer::new();
    let api = deployments(&fake);
    api.create(&PostParams::default(), &deployment("demo", "1"))
        .await
        .unwrap();
    let stale = api.get("demo").await.unwrap();
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
    )
    .await
    .unwrap();

    let conflict = api_error(api.replace("demo", &PostParams::default(), &stale).await);
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        conflict.message,
        "Operation cannot be fulfilled on appconfigdeployments.appconfig.operators.dev \"demo\": \
         the object has been modified; please apply your changes to the latest version and try again"
    );
    let mut unversioned = stale.clone();
    unversioned.metadata.resource_version = None;
    let invalid = api_error(
        api.replace("demo", &PostParams::default(), &unversioned)
            .await,
    );
    assert_eq!((invalid.code, invalid.reason.as_str()), (422, "Invalid"));

    let stale_patch = json!({"metadata": {"resourceVersion": stale.resource_version()}, "spec": {"suspend": true}});
    let conflict = api_error(
        api.patch("demo", &PatchParams::default(), &Patch::Merge(stale_patch))
            .await,
    );
    assert_eq!(conflict.code, 409);

    let mut fresh = api.get("demo").await.unwrap();
    fresh.spec.configuration_version = Some("2".into());
    let replaced = api
        .replace("demo", &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert_eq!(replaced.spec.configuration_version.as_deref(), Some("2"));
}

#[tokio::test]
async fn apply_on_status_owns_exactly_the_applied_fields() {
    let fake = FakeApiServer::new();
    let api = deployments(&fake);
    api.create(&PostParams::default(), &deployment("demo", "1"))
        .await
        .unwrap();
    let ready = json!({"type": "Ready", "status": "False", "reason": "Deploying", "message": "",
        "lastTransitionTime": "2026-01-01T00:00:00Z"});
    let first = acd_config(
        json!({"status": {"observedGeneration": 1, "state": "DEPLOYING", "conditions": [ready]}}),
    );
    api.patch_status("demo", &apply_status("operator", true), &first)
        .await
        .unwrap();
    assert_eq!(stored_status(&fake, "demo")["state"], "DEPLOYING");

    let second = acd_config(json!({"status": {"state": "COMPLETE"}}));
    let applied = api
        .patch_status("demo", &apply_status("operator", true), &second)
        .await
        .unwrap();
    assert_eq!(stored_status(&fake, "demo"), json!({"state": "COMPLETE"}));
    let entry = applied
        .managed_fields()
        .iter()
        .find(|entry| entry.manager.as_deref() == Some("operator"))
        .expect("the applier's entry");
    assert_eq!(
        (entry.operation.as_deref(), entry.subresource.as_deref()),
        (Some("Apply"), Some("status"))
    );
    assert_eq!(
        entry.fields_v1.as_ref().unwrap().0,
        json!({"f:status": {"f:state": {}}})
    );

    let without_manager = api_error(
        api.patch_status("demo", &PatchParams::default(), &second)
            .await,
    );
    assert_eq!(without_manager.code, 400);
}

#[tokio::test]
async fn apply_conflicts_unless_forced() {
    let fake = FakeApiServer::new();
    let api = deployments(&fake);
    let spec = |version: &str| {
        acd_config(json!({"metadata": {"name": "demo"}, "spec": {
        "application": "shop", "environment": "prod", "configurationProfile": "flags",
        "deploymentStrategy": "AppConfig.AllAtOnce", "configurationVersion": version}}))
    };
    let created = api
        .patch("demo", &apply_status("alice", false), &spec("1"))
        .await
        .unwrap();
    assert_eq!(
        created.metadata.generation,
        Some(1),
        "apply creates a missing object"
    );
    // Applying the same values shares ownership without conflict.
    api.patch("demo", &apply_status("bob", false), &spec("1"))
        .await
        .unwrap();

    let just_version =
        |version: &str| acd_config(json!({"spec": {"configurationVersion": version}}));
    api.patch("demo", &apply_status("carol", false), &just_version("1"))
        .await
        .unwrap();
    let conflict = api_error(
        api.patch("demo", &apply_status("carol", false), &just_version("2"))
            .await,
    );
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        conflict.message,
        "Apply failed with 2 conflicts: conflicts with \"alice\":\n- .spec.configurationVersion\n\
         conflicts with \"bob\":\n- .spec.configurationVersion"
    );
    let forced = api
        .patch("demo", &apply_status("carol", true), &just_version("2"))
        .await
        .unwrap();
    assert_eq!(forced.spec.configuration_version.as_deref(), Some("2"));

    let conflict = api_error(
        api.patch("demo", &apply_status("alice", false), &spec("1"))
            .await,
    );
    assert_eq!(
        conflict.message,
        "Apply failed with 1 conflict: conflict with \"carol\": .spec.configurationVersion"
    );
    // Alice no longer owns the version, so dropping her other fields keeps it.
    let mut still_owned = spec("2");
    if let Patch::Apply(config) = &mut still_owned {
        config["spec"]
            .as_object_mut()
            .unwrap()
            .remove("configurationVersion");
    }
    api.patch("demo", &apply_status("alice", false), &still_owned)
        .await
        .unwrap();
    let kept = api.get("demo").await.unwrap();
    assert_eq!(kept.spec.configuration_version.as_deref(), Some("2"));
}

#[tokio::test]
async fn json_patch_tests_a_missing_path_against_null() {
    let fake = FakeApiServer::new();
    let api = deployments(&fake);
    api.create(&PostParams::default(), &deployment("demo", "1"))
        .await
        .unwrap();
    let add_first: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/finalizers", "value": null},
        {"op": "add", "path": "/metadata/finalizers", "value": ["example.dev/cleanup"]},
    ]))
    .unwrap();
    let patched = api
        .patch(
            "demo",
            &PatchParams::default(),
            &Patch::Json::<()>(add_first.clone()),
        )
        .await
        .unwrap();
    assert_eq!(patched.finalizers(), ["example.dev/cleanup"]);
    let failed = api_error(
        api.patch(
            "demo",
            &PatchParams::default(),
            &Patch::Json::<()>(add_first),
        )
        .await,
    );
    assert_eq!((failed.code, failed.reason.as_str()), (422, "Invalid"));
}

#[tokio::test]
async fn delete_waits_for_finalizers() {
    let fake = FakeApiServer::new();
    let api = deployments(&fake);
    let mut object = deployment("demo", "1");
    object.metadata.finalizers = Some(vec!["example.dev/cleanup".into()]);
    let created = api.create(&PostParams::default(), &object).await.unwrap();
    let params = WatchParams::default().timeout(5);
    let mut events = api
        .watch(&params, &created.resource_version().unwrap())
        .await
        .unwrap()
        .boxed();

    let deleting = api
        .delete("demo", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("the object");
    assert!(deleting.metadata.deletion_timestamp.is_some());
    assert!(api.get("demo").await.is_ok());
    let add = json!({"metadata": {"finalizers": ["example.dev/cleanup", "example.dev/other"]}});
    let refused = api_error(
        api.patch("demo", &PatchParams::default(), &Patch::Merge(add))
            .await,
    );
    assert_eq!(refused.code, 422);
    assert!(
        refused
            .message
            .contains("no new finalizers can be added if the object is being deleted")
    );

    let remove: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/finalizers/0", "value": "example.dev/cleanup"},
        {"op": "remove", "path": "/metadata/finalizers/0"},
    ]))
    .unwrap();
    api.patch("demo", &PatchParams::default(), &Patch::Json::<()>(remove))
        .await
        .unwrap();
    assert_eq!(api_error(api.get("demo").await).code, 404);

    let mut seen = Vec::new();
    loop {
        let event = next(&mut events).await.unwrap();
        match event {
            WatchEvent::Modified(o) => {
                seen.push(("MODIFIED", o.metadata.deletion_timestamp.is_some()))
            }
            WatchEvent::Deleted(o) => {
                seen.push(("DELETED", o.finalizers().is_empty()));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, [("MODIFIED", true), ("DELETED", true)]);
}

#[tokio::test]
async fn deleting_a_namespace_deletes_its_content() {
    let fake = FakeApiServer::new();
    let client = fake.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(NS.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    maps.create(&PostParams::default(), &config_map("plain", &[]))
        .await
        .unwrap();
    let api = deployments(&fake);
    let mut guarded = deployment("guarded", "1");
    guarded.metadata.finalizers = Some(vec!["example.dev/cleanup".into()]);
    api.create(&PostParams::default(), &guarded).await.unwrap();

    namespaces
        .delete(NS, &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(api_error(maps.get("plain").await).code, 404);
    assert!(
        api.get("guarded")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_some()
    );
    let terminating = namespaces.get(NS).await.unwrap();
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    let refused = api_error(
        maps.create(&PostParams::default(), &config_map("late", &[]))
            .await,
    );
    assert_eq!((refused.code, refused.reason.as_str()), (403, "Forbidden"));

    let release = json!({"metadata": {"finalizers": null}});
    api.patch("guarded", &PatchParams::default(), &Patch::Merge(release))
        .await
        .unwrap();
    assert_eq!(api_error(api.get("guarded").await).code, 404);
    assert_eq!(api_error(namespaces.get(NS).await).code, 404);
}

fn describe(event: watcher::Event<ConfigMap>) -> String {
    let data = |o: &ConfigMap| {
        o.data
            .as_ref()
            .map(|d| d["key"].clone())
            .unwrap_or_default()
    };
    match event {
        watcher::Event::Init => "Init".into(),
        watcher::Event::InitApply(o) => format!("InitApply {}", o.name_any()),
        watcher::Event::InitDone => "InitDone".into(),
        watcher::Event::Apply(o) => format!("Apply {} {}", o.name_any(), data(&o)),
        watcher::Event::Delete(o) => format!("Delete {}", o.name_any()),
    }
}

#[tokio::test]
async fn watcher_sees_changes_in_order() {
    let fake = FakeApiServer::new();
    let maps: Api<ConfigMap> = Api::namespaced(fake.client(), NS);
    maps.create(&PostParams::default(), &config_map("old", &[]))
        .await
        .unwrap();
    let mut events = watcher(maps.clone(), watcher::Config::default()).boxed();
    for expected in ["Init", "InitApply old", "InitDone"] {
        assert_eq!(describe(next(&mut events).await.unwrap()), expected);
    }
    maps.create(&PostParams::default(), &config_map("new", &[]))
        .await
        .unwrap();
    let change = json!({"data": {"key": "changed"}});
    maps.patch("new", &PatchParams::default(), &Patch::Merge(change))
        .await
        .unwrap();
    maps.delete("new", &DeleteParams::default()).await.unwrap();
    for expected in ["Apply new value", "Apply new changed", "Delete new"] {
        assert_eq!(describe(next(&mut events).await.unwrap()), expected);
    }
}

#[tokio::test]
async fn watcher_lists_again_after_its_resource_version_expires() {
    let fake = FakeApiServer::new();
    let client = fake.client();
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    maps.create(&PostParams::default(), &config_map("a", &[]))
        .await
        .unwrap();
    let mut events = watcher(maps.clone(), watcher::Config::default()).boxed();
    for expected in ["Init", "InitApply a", "InitDone"] {
        assert_eq!(describe(next(&mut events).await.unwrap()), expected);
    }
    // Changes this watch does not see move the resourceVersion past the one it resumes from.
    let elsewhere: Api<ConfigMap> = Api::namespaced(client, "other");
    elsewhere
        .create(&PostParams::default(), &config_map("x", &[]))
        .await
        .unwrap();
    fake.restart();

    match next(&mut events).await {
        Err(watcher::Error::WatchError(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"))
        }
        other => panic!("expected 410 Gone, got {other:?}"),
    }
    for expected in ["Init", "InitApply a", "InitDone"] {
        assert_eq!(describe(next(&mut events).await.unwrap()), expected);
    }
    maps.create(&PostParams::default(), &config_map("b", &[]))
        .await
        .unwrap();
    assert_eq!(describe(next(&mut events).await.unwrap()), "Apply b value");
}

#[tokio::test]
async fn watch_follows_selectors_and_ends_with_a_bookmark() {
    let fake = FakeApiServer::new();
    let maps: Api<ConfigMap> = Api::namespaced(fake.client(), NS);
    let list = maps.list(&ListParams::default()).await.unwrap();
    let params = WatchParams::default().labels("app=web").timeout(1);
    let stream = maps
        .watch(&params, &list.metadata.resource_version.unwrap())
        .await
        .unwrap();
    maps.create(&PostParams::default(), &config_map("a", &[("app", "db")]))
        .await
        .unwrap();
    let relabel = |app: &str| Patch::Merge(json!({"metadata": {"labels": {"app": app}}}));
    maps.patch("a", &PatchParams::default(), &relabel("web"))
        .await
        .unwrap();
    maps.patch("a", &PatchParams::default(), &relabel("db"))
        .await
        .unwrap();
    let last = maps
        .create(&PostParams::default(), &config_map("b", &[("app", "db")]))
        .await
        .unwrap();

    let collected = tokio::time::timeout(Duration::from_secs(5), stream.try_collect::<Vec<_>>());
    let events = collected
        .await
        .expect("the watch ends at its timeout")
        .unwrap();
    let seen: Vec<String> = events
        .into_iter()
        .map(|event| match event {
            WatchEvent::Added(o) => format!("ADDED {}", o.name_any()),
            WatchEvent::Deleted(o) => format!("DELETED {}", o.name_any()),
            WatchEvent::Bookmark(b) => format!("BOOKMARK {}", b.metadata.resource_version),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let bookmark = format!("BOOKMARK {}", last.resource_version().unwrap());
    assert_eq!(seen, ["ADDED a", "DELETED a", bookmark.as_str()]);
}

#[tokio::test]
async fn serves_clients_of_other_processes_over_http() {
    let fake = FakeApiServer::new();
    let address = fake.serve().await.expect("the fake listens");
    // Through a kubeconfig, as an operator process started with KUBECONFIG reads it.
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&fake_api_server::kubeconfig(address))
        .expect("the kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("the kubeconfig is usable");
    let client = kube::Client::try_from(config).expect("a client");
    let maps: Api<ConfigMap> = Api::namespaced(client, NS);
    let mut events = watcher(maps.clone(), watcher::Config::default()).boxed();
    for expected in ["Init", "InitDone"] {
        assert_eq!(describe(next(&mut events).await.unwrap()), expected);
    }

    maps.create(&PostParams::default(), &config_map("a", &[]))
        .await
        .unwrap();
    let read = maps.get("a").await.unwrap();
    assert_eq!(read.data.unwrap()["key"], "value");
    // The open watch streams the change as it happens, from the store the in-process client sees.
    assert_eq!(describe(next(&mut events).await.unwrap()), "Apply a value");
    assert!(fake.get("api/v1", Some(NS), "configmaps", "a").is_some());
}

async fn reconcile(
    object: Arc<AppConfigDeployment>,
    api: Arc<Api<AppConfigDeployment>>,
) -> Result<Action, kube::Error> {
    let status = acd_config(json!({"status": {
        "observedGeneration": object.metadata.generation,
        "configurationVersion": object.spec.configuration_version,
    }}));
    api.patch_status(
        &object.name_any(),
        &apply_status("reconciler", true),
        &status,
    )
    .await?;
    Ok(Action::await_change())
}

fn retry(_: Arc<AppConfigDeployment>, _: &kube::Error, _: Arc<Api<AppConfigDeployment>>) -> Action {
    Action::requeue(Duration::from_millis(50))
}

#[tokio::test]
async fn controller_reconciles_and_follows_spec_changes() {
    let fake = FakeApiServer::new();
    let api = deployments(&fake);
    api.create(&PostParams::default(), &deployment("demo", "1"))
        .await
        .unwrap();
    let controller = Controller::new(api.clone(), watcher::Config::default())
        .run(reconcile, retry, Arc::new(api.clone()))
        .for_each(|_| async {});
    let controller = tokio::spawn(controller);

    eventually("the first reconcile", || {
        stored_status(&fake, "demo")["observedGeneration"] == 1
    })
    .await;
    let respec = json!({"spec": {"configurationVersion": "2"}});
    api.patch("demo", &PatchParams::default(), &Patch::Merge(respec))
        .await
        .unwrap();
    eventually("the reconcile of generation 2", || {
        stored_status(&fake, "demo")
            == json!({"observedGeneration": 2, "configurationVersion": "2"})
    })
    .await;
    // Re-applying an unchanged status is not a change, so the controller settles.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status_writes = fake.count_writes("patch", ACD_PLURAL, Some("status"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.count_writes("patch", ACD_PLURAL, Some("status")),
        status_writes
    );
    controller.abort();
}

#[tokio::test]
async fn recorder_folds_a_repeated_event_into_a_series() {
    let fake = FakeApiServer::new();
    let client = fake.client();
    let object = deployments(&fake)
        .create(&PostParams::default(), &deployment("demo", "1"))
        .await
        .unwrap();
    let reporter = Reporter {
        controller: "appconfig-operator".into(),
        instance: None,
    };
    let recorder = Recorder::new(client.clone(), reporter);
    let event = Event {
        type_: EventType::Normal,
        reason: "DeploymentStarted".into(),
        note: Some("started deployment 1".into()),
        action: "StartDeployment".into(),
        secondary: None,
    };
    for _ in 0..2 {
        recorder
            .publish(&event, &object.object_ref(&()))
            .await
            .unwrap();
    }
    let events: Api<K8sEvent> = Api::namespaced(client, NS);
    let stored = events.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].series.as_ref().map(|series| series.count),
        Some(2)
    );
    assert_eq!(
        stored[0].regarding.as_ref().unwrap().name.as_deref(),
        Some("demo")
    );
    assert_eq!(
        (
            fake.count_writes("create", "events", None),
            fake.count_writes("patch", "events", None)
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn injected_failures_answer_before_the_store() {
    let fake = FakeApiServer::new();
    let maps: Api<ConfigMap> = Api::namespaced(fake.client(), NS);
    maps.create(&PostParams::default(), &config_map("a", &[]))
        .await
        .unwrap();
    let matcher = |verb| RequestMatcher {
        verb,
        plural: "configmaps",
        subresource: None,
    };
    fake.fail_next(matcher("get"), 503, "ServiceUnavailable", 1);
    fake.fail_next(matcher("delete"), 500, "InternalError", 1);
    let unavailable = api_error(maps.get("a").await);
    assert_eq!(
        (unavailable.code, unavailable.reason.as_str()),
        (503, "ServiceUnavailable")
    );
    assert!(maps.get("a").await.is_ok(), "the failure is used up");
    assert_eq!(
        api_error(maps.delete("a", &DeleteParams::default()).await).code,
        500
    );
    assert!(
        maps.get("a").await.is_ok(),
        "a failed delete leaves the object"
    );
    assert_eq!(fake.count_writes("delete", "configmaps", None), 0);
}

#[tokio::test]
async fn writes_are_logged_with_manager_and_subresource() {
    let fake = FakeApiServer::new();
    let api = deployments(&fake);
    api.create(&PostParams::default(), &deployment("demo", "1"))
        .await
        .unwrap();
    let status = acd_config(json!({"status": {"state": "DEPLOYING"}}));
    api.patch_status("demo", &apply_status("operator", true), &status)
        .await
        .unwrap();
    let strategic = Patch::Strategic(json!({"spec": {"suspend": true}}));
    let refused = api_error(api.patch("demo", &PatchParams::default(), &strategic).await);
    assert_eq!(
        refused.code, 415,
        "custom resources take no strategic merge patch"
    );
    api.delete("demo", &DeleteParams::default()).await.unwrap();

    let record = |verb: &str,
                  subresource: Option<&str>,
                  field_manager: Option<&str>,
                  patch_type: Option<&str>| WriteRecord {
        verb: verb.into(),
        plural: ACD_PLURAL.into(),
        namespace: Some(NS.into()),
        name: "demo".into(),
        subresource: subresource.map(Into::into),
        field_manager: field_manager.map(Into::into),
        patch_type: patch_type.map(Into::into),
    };
    assert_eq!(
        fake.writes(),
        [
            record("create", None, None, None),
            record(
                "patch",
                Some("status"),
                Some("operator"),
                Some("application/apply-patch+yaml")
            ),
            record("delete", None, None, None),
        ]
    );
}
