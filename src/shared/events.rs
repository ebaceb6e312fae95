//! Kubernetes Events about a resource, for every controller. Each Event's name is derived from what it reports, so
//! reporting the same thing twice (after a restart, or from a second replica) is refused by the
//! API server as AlreadyExists instead of showing twice.

use jiff::Timestamp;
use k8s_openapi::{
    api::{core::v1::ObjectReference, events::v1::Event},
    apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta},
};
use kube::{Api, Client, Resource, ResourceExt, api::PostParams};

pub const REPORTER: &str = "appconfig-operator";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Normal,
    Warning,
}

/// One Event to publish; `identity` is what makes it unique for its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub severity: Severity,
    pub reason: String,
    pub action: &'static str,
    pub note: String,
    pub identity: String,
}

#[derive(Clone)]
pub struct Publisher {
    client: Client,
    instance: String,
}

impl Publisher {
    pub fn new(client: Client, instance: String) -> Self {
        Self { client, instance }
    }

    /// Publishes `notice` about `resource`; a refusal is logged, not retried: an Event informs,
    /// and the status says the same.
    pub async fn publish_or_warn<K: Resource<DynamicType = ()>>(
        &self,
        resource: &K,
        notice: &Notice,
    ) {
        if let Err(e) = self.publish(resource, notice).await {
            tracing::warn!(
                resource = %format!("{}/{}", resource.namespace().unwrap_or_default(), resource.name_any()),
                reason = %notice.reason,
                error = %e,
                "cannot publish a Kubernetes Event; check the operator's RBAC for events.k8s.io events"
            );
        }
    }

    /// Publishes `notice` about `resource` unless it was published before.
    pub async fn publish<K: Resource<DynamicType = ()>>(
        &self,
        resource: &K,
        notice: &Notice,
    ) -> Result<(), kube::Error> {
        let namespace = resource.namespace().unwrap_or_default();
        let uid = resource.uid().unwrap_or_default();
        let name = format!(
            "{}.{:016x}",
            truncate(&resource.name_any(), 200),
            fnv1a(&format!("{uid}/{}", notice.identity))
        );
        let regarding: ObjectReference = resource.object_ref(&());
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(Timestamp::now())),
            action: Some(notice.action.to_owned()),
            reason: Some(notice.reason.clone()),
            note: Some(truncate(&notice.note, 1024).to_owned()),
            regarding: Some(regarding),
            reporting_controller: Some(format!("appconfig.operators.dev/{REPORTER}")),
            reporting_instance: Some(truncate(&self.instance, 128).to_owned()),
            type_: Some(
                match notice.severity {
                    Severity::Normal => "Normal",
                    Severity::Warning => "Warning",
                }
                .to_owned(),
            ),
            ..Event::default()
        };
        let events: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        match events.create(&PostParams::default(), &event).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A hash that stays the same across builds and platforms, unlike std's.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_distinct() {
        assert_eq!(fnv1a("a"), fnv1a("a"));
        assert_ne!(fnv1a("log/1/x"), fnv1a("log/2/x"));
        assert_eq!(truncate("héllo", 2), "h");
    }
}
