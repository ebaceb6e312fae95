//! `AppConfigSync`: a ConfigMap or Secret kept equal to the configuration AWS AppConfig serves for
//! one application, environment and configuration profile.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// The poll interval when the spec names none.
pub const DEFAULT_POLL_INTERVAL_SECONDS: u32 = 60;

/// Keeps a ConfigMap or Secret equal to what AWS AppConfig serves.
// Each printcolumn(...) repeats the keys name, type_ and json_path, which the lint reads as
// duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[kube(
    group = "appconfig.operators.dev",
    version = "v1alpha1",
    kind = "AppConfigSync",
    namespaced,
    status = "AppConfigSyncStatus",
    derive = "PartialEq",
    shortname = "acs",
    category = "appconfig",
    doc = "AppConfigSync keeps a ConfigMap or Secret in its namespace equal to the configuration \
           AWS AppConfig serves for one application, environment and configuration profile, read \
           through the AppConfig Data API. Workloads read that object and need no AWS credentials, \
           SDK or sidecar.",
    printcolumn(
        name = "Target",
        type_ = "string",
        json_path = ".status.target.description",
        description = "The ConfigMap or Secret written, as kind/name"
    ),
    printcolumn(
        name = "Version",
        type_ = "string",
        json_path = ".status.versionLabel",
        description = "Version label of the configuration in the target"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#,
        description = "Whether the target holds the served configuration"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].reason"#,
        description = "Why the resource is or is not ready"
    ),
    printcolumn(
        name = "Last Sync",
        type_ = "date",
        json_path = ".status.lastSyncTime",
        description = "When a successful read of AppConfig last changed the status (not a heartbeat)"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Application",
        type_ = "string",
        json_path = ".spec.application",
        priority = 1
    ),
    printcolumn(
        name = "Environment",
        type_ = "string",
        json_path = ".spec.environment",
        priority = 1
    ),
    printcolumn(
        name = "Profile",
        type_ = "string",
        json_path = ".spec.configurationProfile",
        priority = 1
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].message"#,
        priority = 1
    )
)]
#[serde(rename_all = "camelCase")]
pub struct AppConfigSyncSpec {
    /// Name or ID of the AppConfig application.
    #[schemars(length(min = 1, max = 128))]
    pub application: String,

    /// Name or ID of the environment, within the application.
    #[schemars(length(min = 1, max = 128))]
    pub environment: String,

    /// Name or ID of the configuration profile, within the application.
    #[schemars(length(min = 1, max = 128))]
    pub configuration_profile: String,

    /// Seconds between two reads of AppConfig (15 to 86400), sent to AppConfig as
    /// RequiredMinimumPollIntervalInSeconds. The operator never reads sooner than AppConfig's
    /// NextPollIntervalInSeconds either.
    #[serde(default = "default_poll_interval")]
    #[schemars(range(min = 15, max = 86400))]
    pub poll_interval_seconds: u32,

    /// AWS region of the AppConfig application. Default: the operator's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), regex(pattern = r"^[a-z]+(-[a-z]+)*-[0-9]+$"))]
    pub region: Option<String>,

    /// ServiceAccount of this namespace whose IAM role (its eks.amazonaws.com/role-arn
    /// annotation) the operator assumes for every AWS call of this resource, with a token of the
    /// ServiceAccount (audience sts.amazonaws.com). Default: the operator's
    /// --default-service-account if set, else the operator's own credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub service_account_name: Option<String>,

    /// The ConfigMap or Secret to write.
    #[serde(default)]
    pub target: SyncTarget,
}

fn default_poll_interval() -> u32 {
    DEFAULT_POLL_INTERVAL_SECONDS
}

impl AppConfigSyncSpec {
    /// A spec for one profile with every optional field at its default.
    pub fn new(
        application: impl Into<String>,
        environment: impl Into<String>,
        configuration_profile: impl Into<String>,
    ) -> Self {
        Self {
            application: application.into(),
            environment: environment.into(),
            configuration_profile: configuration_profile.into(),
            poll_interval_seconds: DEFAULT_POLL_INTERVAL_SECONDS,
            region: None,
            service_account_name: None,
            target: SyncTarget::default(),
        }
    }
}

/// The object the configuration is written to, in the AppConfigSync's namespace.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyncTarget {
    /// ConfigMap (default) or Secret.
    #[serde(default)]
    pub kind: TargetKind,

    /// Name of the ConfigMap or Secret. Default: the AppConfigSync's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "target_name_schema")]
    pub name: Option<String>,

    /// Key the configuration is stored under. Default by content type: config.json
    /// (application/json), config.yaml (application/x-yaml, application/yaml, text/yaml),
    /// config.txt (text/plain), otherwise config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "target_key_schema")]
    pub key: Option<String>,

    /// Labels put on the target (app.kubernetes.io/instance is never copied: Argo CD tracks
    /// applications by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,

    /// Annotations put on the target (argocd.argoproj.io/* and appconfig.operators.dev/* are
    /// never copied: Argo CD and the operator own them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

// Variants carry no doc comments on purpose: documented variants make schemars emit a `oneOf`
// instead of the plain `enum` the API server reports as "supported values".
/// The kind of object an AppConfigSync writes.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TargetKind {
    #[default]
    ConfigMap,
    Secret,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigMap => "ConfigMap",
            Self::Secret => "Secret",
        }
    }
}

/// The observed state of the sync. Written by the operator only.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AppConfigSyncStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// The object the operator wrote: removed when the spec names another one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<WrittenTarget>,

    /// Version label of the configuration in the target, when its version has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_label: Option<String>,

    /// Content type AppConfig served the configuration with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,

    /// SHA-256 of the configuration in the target, hexadecimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,

    /// Size of the configuration in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,

    /// When a successful read of AppConfig last changed the status (new content, or a recovery
    /// from an error). Not a heartbeat: polls that change nothing write nothing, so an old time
    /// with Ready=True means the target has held the served configuration since then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<Time>,

    /// When the configuration in the target last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_change_time: Option<Time>,

    /// Ready, Reconciling and Stalled, following the Kubernetes API conventions (kstatus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Option<Vec<Condition>>,
}

/// The ConfigMap or Secret an AppConfigSync wrote.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WrittenTarget {
    /// ConfigMap or Secret.
    pub kind: TargetKind,
    /// Name of the object, in the AppConfigSync's namespace.
    pub name: String,
    /// kind/name, as kubectl shows it.
    pub description: String,
}

impl WrittenTarget {
    pub fn new(kind: TargetKind, name: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            description: format!("{}/{name}", kind.as_str()),
            kind,
            name,
        }
    }
}

fn target_name_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "nullable": true,
        "maxLength": 253,
        "x-kubernetes-validations": [{
            "rule": r"self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",
            "message": "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
        }],
    })
}

fn target_key_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "nullable": true,
        "maxLength": 253,
        "x-kubernetes-validations": [{
            "rule": r"self.matches('^[-._a-zA-Z0-9]+$') && self != '.' && !self.startsWith('..')",
            "message": "must be a valid config-map key: letters, digits, '-', '_' and '.', not '.' and not starting with '..'",
        }],
    })
}
