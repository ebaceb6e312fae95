//! The target's life: written on the first sync with the served content, annotations and
//! owner; binary content and Secrets; removed with its sync or when the spec names another.

use std::collections::BTreeMap;

use appconfig_operator::{
    api::v1alpha1::TargetKind,
    sync::{SHA256_ANNOTATION, VERSION_LABEL_ANNOTATION},
};
use kube::ResourceExt;

use super::{
    annotation, apply, config_maps, delete, deploy, ready, secrets, setup, sha256, sync_spec,
    syncs, text, wait_config_map, wait_sync, wait_synced, wait_until,
};
use crate::{
    cluster::Cluster,
    fake_api_server::RequestMatcher,
    scenarios::scenario,
    world::{Target, World},
};

const FLAGS: &str = r#"{"checkout":{"enabled":true}}"#;

/// A new application's profile serving FLAGS (JSON, no label).
async fn flags_served(world: &World) -> Target {
    let (t, instant) = setup(world).await;
    deploy(
        world,
        &t,
        &instant,
        FLAGS.as_bytes(),
        "application/json",
        None,
    )
    .await;
    t
}

scenario!(
    first_sync_writes_the_served_content_with_annotations_and_owner,
    World::start_fast
);
async fn first_sync_writes_the_served_content_with_annotations_and_owner(
    cluster: &Cluster,
    world: &World,
) {
    let (t, instant) = setup(world).await;
    deploy(
        world,
        &t,
        &instant,
        FLAGS.as_bytes(),
        "application/json",
        Some("v1.4.0"),
    )
    .await;
    let operator = crate::operator::Operator::start(cluster, world).await;
    let mut spec = sync_spec(&t, 15);
    spec.target.labels = Some(BTreeMap::from([
        ("team".to_owned(), "checkout".to_owned()),
        ("app.kubernetes.io/instance".to_owned(), "shop".to_owned()),
    ]));
    spec.target.annotations = Some(BTreeMap::from([
        ("owner".to_owned(), "payments".to_owned()),
        ("argocd.argoproj.io/sync-wave".to_owned(), "1".to_owned()),
    ]));
    let sync = apply(cluster, "checkout-flags", &spec).await;

    let o = wait_synced(cluster, "checkout-flags", "Synced").await;
    let status = o.status.clone().unwrap();
    assert_eq!(status.version_label.as_deref(), Some("v1.4.0"));
    assert_eq!(status.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        status.sha256.as_deref(),
        Some(sha256(FLAGS.as_bytes()).as_str())
    );
    assert_eq!(status.size, Some(FLAGS.len() as i64));
    assert_eq!(
        status.target.as_ref().map(|t| t.description.as_str()),
        Some("ConfigMap/checkout-flags")
    );
    assert!(status.last_sync_time.is_some() && status.last_change_time.is_some());

    let cm = config_maps(cluster)
        .get("checkout-flags")
        .await
        .expect("the target exists");
    assert_eq!(
        text(&cm, "config.json").as_deref(),
        Some(FLAGS),
        "keyed by content type"
    );
    assert_eq!(
        annotation(&cm, VERSION_LABEL_ANNOTATION).as_deref(),
        Some("v1.4.0")
    );
    assert_eq!(
        annotation(&cm, SHA256_ANNOTATION),
        Some(sha256(FLAGS.as_bytes()))
    );
    assert_eq!(
        cm.labels().get("team").map(String::as_str),
        Some("checkout")
    );
    assert_eq!(annotation(&cm, "owner").as_deref(), Some("payments"));
    assert!(
        !cm.labels().contains_key("app.kubernetes.io/instance")
            && annotation(&cm, "argocd.argoproj.io/sync-wave").is_none(),
        "Argo CD's tracking metadata is never copied: {:?}",
        cm.metadata
    );
    let owner = &cm.owner_references()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), Some(&owner.uid)),
        (
            "AppConfigSync",
            "checkout-flags",
            sync.metadata.uid.as_ref()
        )
    );
    assert_eq!(owner.controller, Some(true));

    let events = cluster.event_reasons("checkout-flags").await;
    assert_eq!(events, ["ConfigurationUpdated"]);
    operator.stop().await;
}

scenario!(
    non_utf8_content_goes_to_binary_data_and_secrets_work,
    World::start_fast
);
async fn non_utf8_content_goes_to_binary_data_and_secrets_work(cluster: &Cluster, world: &World) {
    let (t, instant) = setup(world).await;
    let bytes: Vec<u8> = vec![0xff, 0xfe, 0x00, 0x80, b'a'];
    deploy(
        world,
        &t,
        &instant,
        &bytes,
        "application/octet-stream",
        None,
    )
    .await;
    let operator = crate::operator::Operator::start(cluster, world).await;
    apply(cluster, "blob", &sync_spec(&t, 15)).await;
    let mut secret_spec = sync_spec(&t, 15);
    secret_spec.target.kind = TargetKind::Secret;
    secret_spec.target.key = Some("payload.bin".to_owned());
    apply(cluster, "secret-blob", &secret_spec).await;

    for name in ["blob", "secret-blob"] {
        wait_synced(cluster, name, "Synced").await;
    }
    let cm = config_maps(cluster).get("blob").await.unwrap();
    assert_eq!(cm.data, None, "nothing in data: {:?}", cm.data);
    let binary = cm.binary_data.as_ref().and_then(|d| d.get("config"));
    assert_eq!(binary.map(|b| b.0.clone()), Some(bytes.clone()));
    assert_eq!(annotation(&cm, SHA256_ANNOTATION), Some(sha256(&bytes)));

    let secret = secrets(cluster).get("secret-blob").await.unwrap();
    let stored = secret.data.as_ref().and_then(|d| d.get("payload.bin"));
    assert_eq!(stored.map(|b| b.0.clone()), Some(bytes));
    assert!(
        config_maps(cluster)
            .get_opt("secret-blob")
            .await
            .unwrap()
            .is_none(),
        "a Secret target is not also a ConfigMap"
    );
    operator.stop().await;
}

scenario!(
    a_target_renamed_before_its_first_status_was_stored_is_still_removed,
    World::start_fast
);
async fn a_target_renamed_before_its_first_status_was_stored_is_still_removed(
    cluster: &Cluster,
    world: &World,
) {
    let t = flags_served(world).await;
    let operator = crate::operator::Operator::start(cluster, world).await;
    // The status naming the first target is refused as stale for a while, as when the spec
    // changes right after the target is written (on a real cluster the rename below races it).
    if let Some(fake) = &cluster.fake {
        let status_patch = RequestMatcher {
            verb: "patch",
            plural: "appconfigsyncs",
            subresource: Some("status"),
        };
        fake.fail_next(status_patch, 409, "Conflict", 20);
    }
    let mut spec = sync_spec(&t, 15);
    apply(cluster, "flags", &spec).await;
    wait_config_map(cluster, "flags", "written", |cm| cm.is_some()).await;
    spec.target.name = Some("flags-renamed".to_owned());
    apply(cluster, "flags", &spec).await;
    wait_config_map(cluster, "flags-renamed", "written", |cm| cm.is_some()).await;
    wait_config_map(cluster, "flags", "removed after the rename", |cm| {
        cm.is_none()
    })
    .await;
    let o = wait_synced(cluster, "flags", "Synced to the new name").await;
    assert_eq!(
        o.status.unwrap().target.map(|t| t.name),
        Some("flags-renamed".to_owned())
    );
    operator.stop().await;
}

scenario!(
    deleting_the_sync_or_renaming_its_target_removes_the_old_target,
    World::start_fast
);
async fn deleting_the_sync_or_renaming_its_target_removes_the_old_target(
    cluster: &Cluster,
    world: &World,
) {
    let t = flags_served(world).await;
    let operator = crate::operator::Operator::start(cluster, world).await;
    let mut spec = sync_spec(&t, 15);
    apply(cluster, "flags", &spec).await;
    wait_config_map(cluster, "flags", "written", |cm| cm.is_some()).await;

    spec.target.name = Some("flags-renamed".to_owned());
    apply(cluster, "flags", &spec).await;
    let o = wait_synced(cluster, "flags", "Synced to the new name").await;
    assert_eq!(
        o.status.unwrap().target.map(|t| t.name),
        Some("flags-renamed".to_owned())
    );
    let renamed = config_maps(cluster).get("flags-renamed").await.unwrap();
    assert_eq!(text(&renamed, "config.json").as_deref(), Some(FLAGS));
    wait_config_map(cluster, "flags", "removed after the rename", |cm| {
        cm.is_none()
    })
    .await;

    delete(&syncs(cluster), "flags").await;
    // The garbage collector follows the owner reference (asynchronously on a real cluster).
    wait_config_map(cluster, "flags-renamed", "deleted with its sync", |cm| {
        cm.is_none()
    })
    .await;
    wait_until(
        "the sync gone",
        async || syncs(cluster).get_opt("flags").await.unwrap(),
        Option::is_none,
    )
    .await;
    operator.stop().await;
}

scenario!(
    an_edited_or_deleted_target_is_repaired_at_the_next_poll,
    World::start_fast
);
async fn an_edited_or_deleted_target_is_repaired_at_the_next_poll(
    cluster: &Cluster,
    world: &World,
) {
    let t = flags_served(world).await;
    let operator = crate::operator::Operator::start(cluster, world).await;
    apply(cluster, "flags", &sync_spec(&t, 15)).await;
    wait_config_map(cluster, "flags", "written", |cm| cm.is_some()).await;

    // Someone edits the content by hand: the next poll puts the served content back.
    let edit = serde_json::json!({"data": {"config.json": "{}"}});
    config_maps(cluster)
        .patch(
            "flags",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(edit),
        )
        .await
        .unwrap();
    wait_config_map(cluster, "flags", "repaired after an edit", |cm| {
        cm.and_then(|cm| text(cm, "config.json")).as_deref() == Some(FLAGS)
    })
    .await;

    // Someone deletes it: the next poll writes it again.
    delete(&config_maps(cluster), "flags").await;
    wait_config_map(cluster, "flags", "recreated after a deletion", |cm| {
        cm.and_then(|cm| text(cm, "config.json")).as_deref() == Some(FLAGS)
    })
    .await;
    assert_eq!(
        cluster.event_reasons("flags").await,
        ["ConfigurationUpdated"],
        "a repair is no new configuration"
    );
    operator.stop().await;
}

scenario!(
    a_sync_deleted_and_created_again_waits_for_the_old_target_to_go,
    World::start_fast
);
async fn a_sync_deleted_and_created_again_waits_for_the_old_target_to_go(
    cluster: &Cluster,
    world: &World,
) {
    let t = flags_served(world).await;
    let operator = crate::operator::Operator::start(cluster, world).await;
    // An hour between polls: a stall would outlast the test's patience.
    let spec = sync_spec(&t, 3600);
    apply(cluster, "flags", &spec).await;
    wait_config_map(cluster, "flags", "written", |cm| cm.is_some()).await;

    // Created again at once: the old target is still there until the garbage collector runs.
    delete(&syncs(cluster), "flags").await;
    let again = apply(cluster, "flags", &spec).await;
    let uid = again.uid().unwrap();
    wait_synced(cluster, "flags", "Synced").await;
    let cm = config_maps(cluster).get("flags").await.unwrap();
    assert_eq!(cm.owner_references()[0].uid, uid, "written by the new sync");
    assert_eq!(text(&cm, "config.json").as_deref(), Some(FLAGS));
    assert!(
        !cluster
            .event_reasons("flags")
            .await
            .contains(&"SyncFailed".to_owned()),
        "waiting for the garbage collector is no failure"
    );
    operator.stop().await;
}

scenario!(
    changing_the_labels_the_key_or_the_kind_moves_the_content,
    World::start_fast
);
async fn changing_the_labels_the_key_or_the_kind_moves_the_content(
    cluster: &Cluster,
    world: &World,
) {
    let t = flags_served(world).await;
    let operator = crate::operator::Operator::start(cluster, world).await;
    let mut spec = sync_spec(&t, 15);
    spec.target.labels = Some([("team".to_owned(), "checkout".to_owned())].into());
    apply(cluster, "flags", &spec).await;
    wait_config_map(cluster, "flags", "written with the label", |cm| {
        cm.is_some_and(|cm| text(cm, "config.json").is_some() && cm.labels().contains_key("team"))
    })
    .await;

    // A label the spec no longer names leaves the target.
    spec.target.labels = None;
    apply(cluster, "flags", &spec).await;
    wait_config_map(cluster, "flags", "without the label", |cm| {
        cm.is_some_and(|cm| !cm.labels().contains_key("team"))
    })
    .await;

    // Another key: the content moves, the old key goes (server-side apply drops what the
    // operator no longer applies).
    spec.target.key = Some("flags.json".to_owned());
    apply(cluster, "flags", &spec).await;
    let cm = wait_config_map(cluster, "flags", "under the new key only", |cm| {
        cm.is_some_and(|cm| {
            cm.data.as_ref().is_some_and(|d| {
                d.keys().collect::<Vec<_>>() == ["flags.json"] && d["flags.json"] == FLAGS
            })
        })
    })
    .await
    .unwrap();
    assert_eq!(
        annotation(&cm, SHA256_ANNOTATION),
        Some(sha256(FLAGS.as_bytes()))
    );

    // Another kind: a Secret of the same name holds it, and the ConfigMap goes.
    spec.target.kind = TargetKind::Secret;
    apply(cluster, "flags", &spec).await;
    let o = wait_sync(cluster, "flags", "Synced to the Secret", |o| {
        ready(o) == Some(("True", "Synced"))
            && o.status.as_ref().unwrap().target.as_ref().map(|t| t.kind)
                == Some(TargetKind::Secret)
    })
    .await;
    assert_eq!(o.status.unwrap().target.unwrap().name, "flags");
    let secret = secrets(cluster).get("flags").await.unwrap();
    let stored = secret.data.unwrap()["flags.json"].0.clone();
    assert_eq!(stored, FLAGS.as_bytes());
    wait_config_map(cluster, "flags", "the ConfigMap removed", |cm| cm.is_none()).await;
    operator.stop().await;
}
