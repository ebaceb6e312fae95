//! Metadata-only reads, as `Api<PartialObjectMeta<K>>` makes them: the objects' metadata without
//! their content, for lists, gets and watches.

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, ResourceExt,
    api::{ListParams, PostParams},
    core::PartialObjectMeta,
    runtime::{WatchStreamExt, watcher},
};

use super::{NS, config_map, fake_api_server::FakeApiServer, next};

#[tokio::test]
async fn lists_gets_and_watches_carry_metadata_only() {
    let fake = FakeApiServer::new();
    let maps: Api<ConfigMap> = Api::namespaced(fake.client(), NS);
    maps.create(&PostParams::default(), &config_map("a", &[("app", "web")]))
        .await
        .unwrap();
    let metadata: Api<PartialObjectMeta<ConfigMap>> = Api::namespaced(fake.client(), NS);

    let listed = metadata.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].name_any(), "a");
    assert_eq!(listed.items[0].labels()["app"], "web");
    let got = metadata.get("a").await.unwrap();
    assert!(got.resource_version().is_some());

    // The raw answers hold no data: that is what spares a watcher of many objects their content.
    let raw = fake
        .client()
        .request_text(
            http::Request::get(format!("/api/v1/namespaces/{NS}/configmaps"))
                .header(
                    "Accept",
                    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
                )
                .body(Vec::new())
                .unwrap(),
        )
        .await
        .unwrap();
    let raw: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(raw["kind"], "PartialObjectMetadataList");
    assert_eq!(raw["items"][0]["kind"], "PartialObjectMetadata");
    assert!(raw["items"][0].get("data").is_none(), "{raw}");

    let mut events = watcher(metadata, watcher::Config::default())
        .applied_objects()
        .boxed();
    assert_eq!(next(&mut events).await.unwrap().name_any(), "a");
    maps.create(&PostParams::default(), &config_map("b", &[]))
        .await
        .unwrap();
    let b = next(&mut events).await.unwrap();
    assert_eq!(b.name_any(), "b");
    assert_eq!(
        b.types.as_ref().map(|t| t.kind.as_str()),
        Some("PartialObjectMetadata")
    );
}
