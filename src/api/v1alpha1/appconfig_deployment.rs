//! `AppConfigDeployment`: the version of one AppConfig configuration profile that must be served
//! in one environment, and the live state of the rollout that gets it there.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::api::OPERATOR_PREFIX;

/// AWS allows 50 tags on a deployment; the operator adds two of its own
/// (`appconfig.operators.dev/resource` and `appconfig.operators.dev/generation`).
const MAX_USER_TAGS: u32 = 50 - 2;

/// The version of an AWS AppConfig configuration profile that must be served in an environment.
// Each printcolumn(...) repeats the keys name, type_ and json_path, which the lint reads as
// duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[kube(
    group = "appconfig.operators.dev",
    version = "v1alpha1",
    kind = "AppConfigDeployment",
    namespaced,
    status = "AppConfigDeploymentStatus",
    derive = "PartialEq",
    shortname = "acd",
    category = "appconfig",
    doc = "AppConfigDeployment declares which configuration version AWS AppConfig must serve for one \
           application, environment and configuration profile. The operator starts, tracks and stops \
           AppConfig deployments until that version is served, and reports the rollout in status.",
    printcolumn(
        name = "Desired",
        type_ = "string",
        json_path = ".status.desiredVersion",
        description = "The configuration version that must be served: spec.configurationVersion, or the hosted version the content became"
    ),
    printcolumn(
        name = "Served",
        type_ = "string",
        json_path = ".status.servedVersion",
        description = "The configuration version AppConfig serves now"
    ),
    printcolumn(
        name = "State",
        type_ = "string",
        json_path = ".status.state",
        description = "State of the tracked AppConfig deployment"
    ),
    printcolumn(
        name = "Percent",
        type_ = "number",
        json_path = ".status.percentageComplete",
        description = "Share of clients the tracked deployment has reached"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#,
        description = "Whether the desired version is served"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].reason"#,
        description = "Why the resource is or is not ready"
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
        name = "Content",
        type_ = "string",
        json_path = ".status.contentSha256",
        description = "SHA-256 of the declared content (spec.content or spec.contentFrom)",
        priority = 1
    ),
    printcolumn(
        name = "Deployment",
        type_ = "integer",
        json_path = ".status.deploymentNumber",
        description = "Number of the tracked AppConfig deployment",
        priority = 1
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].message"#,
        priority = 1
    ),
    selectable = ".spec.application",
    selectable = ".spec.environment",
    selectable = ".spec.configurationProfile"
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "[has(self.configurationVersion), has(self.content), has(self.contentFrom)].filter(x, x).size() == 1",
        "message": "exactly one of spec.configurationVersion, spec.content and spec.contentFrom must be set",
    },
    {
        "rule": "!has(self.configurationVersion) || (!has(self.contentType) && !has(self.versionLabel))",
        "message": "spec.contentType and spec.versionLabel describe spec.content or spec.contentFrom; with spec.configurationVersion the version already exists",
    },
]))]
pub struct AppConfigDeploymentSpec {
    /// Name or ID of the AppConfig application. A value that is an existing application ID is
    /// used as the ID; otherwise it is looked up by name.
    #[schemars(length(min = 1, max = 128))]
    pub application: String,

    /// Name or ID of the environment, within the application.
    #[schemars(length(min = 1, max = 128))]
    pub environment: String,

    /// Name or ID of the configuration profile, within the application.
    #[schemars(length(min = 1, max = 128))]
    pub configuration_profile: String,

    /// The configuration version that must be served: a hosted configuration version number
    /// ("7"), a hosted version label ("v1.4.0"), or the version of an S3, SSM or other source.
    /// Exactly one of configurationVersion, content and contentFrom is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub configuration_version: Option<String>,

    /// The configuration itself, for a hosted configuration profile: the operator makes it a
    /// hosted configuration version (one per distinct content, content type and label) and
    /// deploys that version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,

    /// Where the configuration is read from: a key of a ConfigMap in this namespace (data or
    /// binaryData). An edit of the ConfigMap deploys the new content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_from: Option<ContentFrom>,

    /// Content-Type of the hosted versions made from content or contentFrom. Default:
    /// application/json.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub content_type: Option<String>,

    /// VersionLabel of the hosted versions made from content or contentFrom (1 to 64
    /// characters, not only digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r".*[^0-9].*"))]
    pub version_label: Option<String>,

    /// Name or ID of the deployment strategy. The predefined strategies work by name, as in AWS
    /// (for example AppConfig.Linear50PercentEvery30Seconds or AppConfig.AllAtOnce).
    #[schemars(length(min = 1, max = 128))]
    pub deployment_strategy: String,

    /// Description passed to StartDeployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,

    /// KMS key (ID, alias or ARN) passed to StartDeployment, used to encrypt the configuration
    /// data for this deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    pub kms_key_identifier: Option<String>,

    /// Parameters for AppConfig extensions, passed to StartDeployment (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "dynamic_extension_parameters_schema")]
    pub dynamic_extension_parameters: Option<BTreeMap<String, String>>,

    /// Tags put on every deployment the operator starts (at most 48: AWS allows 50 and the
    /// operator adds appconfig.operators.dev/resource and appconfig.operators.dev/generation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tags_schema")]
    pub tags: Option<BTreeMap<String, String>>,

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

    /// Observe and report only: while true the operator neither starts nor stops deployments.
    #[serde(default)]
    pub suspend: bool,

    /// What deleting this resource does to an in-progress deployment that it started. Retain
    /// (default) leaves AppConfig alone; Stop stops the deployment, which rolls it back.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

impl AppConfigDeploymentSpec {
    /// A spec with the five required fields and every optional one unset (defaults: not
    /// suspended, `deletionPolicy: Retain`).
    pub fn new(
        application: impl Into<String>,
        environment: impl Into<String>,
        configuration_profile: impl Into<String>,
        configuration_version: impl Into<String>,
        deployment_strategy: impl Into<String>,
    ) -> Self {
        Self {
            application: application.into(),
            environment: environment.into(),
            configuration_profile: configuration_profile.into(),
            configuration_version: Some(configuration_version.into()),
            content: None,
            content_from: None,
            content_type: None,
            version_label: None,
            deployment_strategy: deployment_strategy.into(),
            description: None,
            kms_key_identifier: None,
            dynamic_extension_parameters: None,
            tags: None,
            region: None,
            service_account_name: None,
            suspend: false,
            deletion_policy: DeletionPolicy::Retain,
        }
    }
}

/// The content type of hosted versions whose spec names none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// What a resource declares must be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared<'a> {
    /// An existing version, by number, label or another store's version.
    Version(&'a str),
    /// Configuration content, which becomes a hosted version.
    Content(ContentSource<'a>),
}

/// Where declared content is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentSource<'a> {
    /// spec.content.
    Inline(&'a str),
    /// spec.contentFrom.configMapKeyRef.
    ConfigMap(&'a ConfigMapKeyRef),
}

impl AppConfigDeploymentSpec {
    /// What the spec declares; `None` when it sets none of the three fields (which the API
    /// server refuses at admission). With several, configurationVersion wins, then content.
    pub fn declared(&self) -> Option<Declared<'_>> {
        match (
            &self.configuration_version,
            &self.content,
            &self.content_from,
        ) {
            (Some(version), _, _) => Some(Declared::Version(version)),
            (None, Some(content), _) => Some(Declared::Content(ContentSource::Inline(content))),
            (None, None, Some(from)) => Some(Declared::Content(ContentSource::ConfigMap(
                &from.config_map_key_ref,
            ))),
            (None, None, None) => None,
        }
    }

    /// The Content-Type of the hosted versions made from this spec's content.
    pub fn content_type(&self) -> &str {
        self.content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE)
    }
}

/// Where configuration content comes from.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContentFrom {
    /// A key of a ConfigMap in the resource's namespace.
    pub config_map_key_ref: ConfigMapKeyRef,
}

/// A key of a ConfigMap in the resource's namespace.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapKeyRef {
    /// Name of the ConfigMap.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub name: String,

    /// The key, in data or binaryData.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

// Variants carry no doc comments on purpose: documented variants make schemars emit a `oneOf`
// instead of the plain `enum` the API server reports as "supported values".
/// What deleting an AppConfigDeployment does to an in-progress deployment that it started.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeletionPolicy {
    #[default]
    Retain,
    Stop,
}

/// The observed state of the rollout. Written by the operator only.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AppConfigDeploymentStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Resolved ID of spec.application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,

    /// Resolved ID of spec.environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,

    /// Resolved ID of spec.configurationProfile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_profile_id: Option<String>,

    /// Resolved ID of spec.deploymentStrategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_strategy_id: Option<String>,

    /// Number of the tracked deployment: the one this resource started or adopted most recently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_number: Option<i32>,

    /// The metadata.generation the tracked deployment was started or adopted for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_generation: Option<i64>,

    /// Configuration version of the tracked deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_version: Option<String>,

    /// The version the operator converges on: spec.configurationVersion as written, or the
    /// number of the hosted version that spec.content or spec.contentFrom became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_version: Option<String>,

    /// SHA-256 (hex) of the content of spec.content or spec.contentFrom, as last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_sha256: Option<String>,

    /// Version label of the tracked deployment, when its hosted version has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_label: Option<String>,

    /// AppConfig state of the tracked deployment: VALIDATING, DEPLOYING, BAKING, COMPLETE,
    /// ROLLING_BACK, ROLLED_BACK or REVERTED. A state AWS adds later is shown as AWS reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,

    /// Percentage of clients the tracked deployment has reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage_complete: Option<f64>,

    /// When the tracked deployment started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,

    /// When the tracked deployment completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Time>,

    /// Growth type of the strategy applied to the tracked deployment: LINEAR or EXPONENTIAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub growth_type: Option<String>,

    /// Growth factor (percent) of the strategy applied to the tracked deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub growth_factor: Option<f64>,

    /// Deployment duration of the strategy applied to the tracked deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_duration_in_minutes: Option<i32>,

    /// Final bake time of the strategy applied to the tracked deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_bake_time_in_minutes: Option<i32>,

    /// The tracked deployment's most recent AppConfig event log entries, newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_log: Option<Vec<EventLogEntry>>,

    /// The configuration version AppConfig serves for this profile in this environment now: that
    /// of the newest COMPLETE deployment. Named as spec.configurationVersion names it when it is
    /// the declared version (by number or label); otherwise by its label if it has one, else its
    /// number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_version: Option<String>,

    /// The last value of each day-2 request annotation (appconfig.operators.dev/stop-requested-at,
    /// revert-requested-at, retry-requested-at) the operator handled, and what it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_requests: Option<HandledRequests>,

    /// Ready, Reconciling and Stalled, following the Kubernetes API conventions (kstatus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Option<Vec<Condition>>,
}

/// The last handled value of each request annotation.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HandledRequests {
    /// appconfig.operators.dev/stop-requested-at: stop the tracked in-progress deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<HandledRequest>,

    /// appconfig.operators.dev/revert-requested-at: revert the served deployment the resource
    /// started or adopted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert: Option<HandledRequest>,

    /// appconfig.operators.dev/retry-requested-at: deploy the declared version again after a
    /// rollback or revert of the current generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<HandledRequest>,
}

/// One handled request.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HandledRequest {
    /// The annotation's value when it was handled.
    pub value: String,

    /// Whether the request applied (false: it could not, and message says why).
    pub applied: bool,

    /// The deployment it acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_number: Option<i32>,

    /// What the operator did, or why it could not.
    pub message: String,
}

/// One entry of an AppConfig deployment's event log.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventLogEntry {
    /// PERCENTAGE_UPDATED, ROLLBACK_STARTED, ROLLBACK_COMPLETED, BAKE_TIME_STARTED,
    /// DEPLOYMENT_STARTED, DEPLOYMENT_COMPLETED or REVERT_COMPLETED.
    pub event_type: String,

    /// Who triggered the event: USER, APPCONFIG, CLOUDWATCH_ALARM or INTERNAL_ERROR.
    pub triggered_by: String,

    /// AppConfig's description of the event.
    pub description: String,

    /// When the event occurred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<Time>,
}

fn dynamic_extension_parameters_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "nullable": true,
        "maxProperties": 10,
        "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 2048},
    })
}

// CEL rules on map keys stay cheap for the API server's cost estimator: `size` is constant and
// `startsWith` is priced by its literal prefix, bounded by maxProperties elements.
fn tags_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "nullable": true,
        "maxProperties": MAX_USER_TAGS,
        "additionalProperties": {"type": "string", "maxLength": 256},
        "x-kubernetes-validations": [
            {
                "rule": "self.all(k, size(k) >= 1 && size(k) <= 128)",
                "message": "tag keys must be 1 to 128 characters long",
            },
            {
                "rule": "self.all(k, !k.startsWith('aws:'))",
                "message": "tag keys must not start with 'aws:', which AWS reserves",
            },
            {
                "rule": format!("self.all(k, !k.startsWith('{OPERATOR_PREFIX}'))"),
                "message": format!(
                    "tag keys must not start with '{OPERATOR_PREFIX}', which the operator reserves for its own tags"
                ),
            },
        ],
    })
}
