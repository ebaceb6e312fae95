//! Configuration profiles and their hosted configuration versions.

use std::{collections::BTreeMap, sync::Arc};

use bytes::Bytes;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{State, deployments::newest_for_profile, new_id, not_found};
use crate::emulator::{
    content::{feature_flags, json_schema},
    error::{ApiError, ErrorKind},
    page::PageRequest,
    validate::{self, Checks},
};

/// The location of configurations kept in AppConfig's own store, the only kind the emulator
/// can deploy.
pub const HOSTED: &str = "hosted";

/// The profile type whose hosted versions must be feature-flag documents.
const FEATURE_FLAGS: &str = "AWS.AppConfig.FeatureFlags";

const JSON_SCHEMA: &str = "JSON_SCHEMA";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidatorSpec {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub content: Option<String>,
}

#[derive(Debug)]
pub(super) struct Profile {
    pub id: String,
    pub application_id: String,
    pub name: String,
    pub description: Option<String>,
    pub location_uri: String,
    pub retrieval_role_arn: Option<String>,
    pub validators: Vec<ValidatorSpec>,
    pub profile_type: String,
    pub kms_key_identifier: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub sequence: u64,
    pub versions: BTreeMap<i32, Arc<HostedVersion>>,
    /// Version numbers are never reused, even after a delete.
    pub last_version_number: i32,
}

/// One immutable hosted configuration version; deployments keep it alive after a delete.
#[derive(Debug, PartialEq)]
pub struct HostedVersion {
    pub application_id: String,
    pub profile_id: String,
    pub number: i32,
    pub description: Option<String>,
    pub content: Bytes,
    pub content_type: String,
    pub label: Option<String>,
}

impl HostedVersion {
    fn summary(&self) -> Value {
        json!({
            "ApplicationId": self.application_id,
            "ConfigurationProfileId": self.profile_id,
            "VersionNumber": self.number,
            "Description": self.description,
            "ContentType": self.content_type,
            "VersionLabel": self.label,
        })
    }
}

impl Profile {
    fn body(&self) -> Value {
        json!({
            "ApplicationId": self.application_id,
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "LocationUri": self.location_uri,
            "RetrievalRoleArn": self.retrieval_role_arn,
            "Validators": self.validators,
            "Type": self.profile_type,
            "KmsKeyIdentifier": self.kms_key_identifier,
        })
    }

    fn summary(&self) -> Value {
        let validator_types: Vec<&Option<String>> =
            self.validators.iter().map(|v| &v.kind).collect();
        json!({
            "ApplicationId": self.application_id,
            "Id": self.id,
            "Name": self.name,
            "LocationUri": self.location_uri,
            "ValidatorTypes": validator_types,
            "Type": self.profile_type,
        })
    }

    /// `ConfigurationVersion` of StartDeployment: a version number, else a version label
    /// (labels always contain a non-digit, so the two never collide).
    pub fn resolve_version(&self, version: &str) -> Result<Arc<HostedVersion>, ApiError> {
        if self.location_uri != HOSTED {
            return Err(ApiError::bad_request(format!(
                "Configuration profile {} stores its configuration at {}; the emulator deploys hosted configurations only",
                self.id, self.location_uri
            )));
        }
        let found = match version.parse::<i32>() {
            Ok(number) => self.versions.get(&number),
            Err(_) => self
                .versions
                .values()
                .rev()
                .find(|v| v.label.as_deref() == Some(version)),
        };
        // UNCONFIRMED error type for an unknown version; 404 names what is missing.
        found
            .cloned()
            .ok_or_else(|| self.version_not_found(version))
    }

    /// Runs the profile's validators on `version`, as StartDeployment does. LAMBDA validators
    /// cannot run in the emulator: deployments go ahead as though they passed.
    pub fn validate(&self, version: &HostedVersion) -> Result<(), ApiError> {
        let schemas = self
            .validators
            .iter()
            .filter(|v| v.kind.as_deref() == Some(JSON_SCHEMA))
            .filter_map(|v| v.content.as_deref());
        json_schema::validate(
            &format!(
                "Configuration version {} of configuration profile {}",
                version.number, self.id
            ),
            schemas,
            &version.content,
        )
    }

    fn version_not_found(&self, version: &str) -> ApiError {
        ApiError::not_found(
            "HostedConfigurationVersion",
            format!(
                "Hosted configuration version {version} could not be found for configuration profile {}.",
                self.id
            ),
        )
    }

    fn version(&self, number: &str) -> Result<&Arc<HostedVersion>, ApiError> {
        let parsed: i32 = number.parse().map_err(|_| {
            ApiError::bad_request(format!("Version number '{number}' is not an integer"))
        })?;
        self.versions
            .get(&parsed)
            .ok_or_else(|| self.version_not_found(number))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateConfigurationProfileInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub location_uri: Option<String>,
    pub retrieval_role_arn: Option<String>,
    pub validators: Option<Vec<ValidatorSpec>>,
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(rename = "Type")]
    pub profile_type: Option<String>,
    pub kms_key_identifier: Option<String>,
}

/// CreateHostedConfigurationVersion: the raw body plus what travels in headers.
#[derive(Debug, Default)]
pub struct CreateHostedVersionInput {
    pub content: Bytes,
    pub content_type: Option<String>,
    pub description: Option<String>,
    pub version_label: Option<String>,
    /// The `Latest-Version-Number` header, unparsed.
    pub latest_version_number: Option<String>,
}

impl State {
    pub fn create_configuration_profile(
        &mut self,
        application_id: &str,
        input: CreateConfigurationProfileInput,
    ) -> Result<Value, ApiError> {
        let mut checks = Checks::new();
        if let Some(name) = checks.required("name", &input.name) {
            checks.length("name", name, 1, 128);
        }
        checks.optional_length("description", &input.description, 0, 1024);
        if let Some(uri) = checks.required("locationUri", &input.location_uri) {
            checks.length("locationUri", uri, 1, 2048);
        }
        if let Some(role) = &input.retrieval_role_arn {
            checks.length("retrievalRoleArn", role, 20, 2048);
            checks.pattern(
                "retrievalRoleArn",
                role,
                validate::is_role_arn(role),
                validate::ROLE_ARN_PATTERN,
            );
        }
        let validators = input.validators.unwrap_or_default();
        checks.count("validators", validators.len(), 0, 2);
        for (i, validator) in validators.iter().enumerate() {
            let field = format!("validators.{}.member", i + 1);
            if let Some(kind) = checks.required(&format!("{field}.type"), &validator.kind) {
                checks.one_of(&format!("{field}.type"), kind, &[JSON_SCHEMA, "LAMBDA"]);
            }
            if let Some(content) = checks.required(&format!("{field}.content"), &validator.content)
            {
                checks.length(&format!("{field}.content"), content, 0, 32768);
            }
        }
        if let Some(kind) = &input.profile_type {
            checks.pattern(
                "type",
                kind,
                validate::is_profile_type(kind),
                validate::PROFILE_TYPE_PATTERN,
            );
        }
        checks.optional_length("kmsKeyIdentifier", &input.kms_key_identifier, 1, 2048);
        let tags = input.tags.unwrap_or_default();
        checks.tags("tags", &tags);
        checks.finish()?;

        self.application(application_id)?;
        let limit = self.settings.quotas.profiles_per_application;
        let id = new_id(&mut self.rng, |id| {
            self.applications
                .values()
                .any(|a| a.profiles.contains_key(id))
        });
        let sequence = self.next_sequence();
        let application = self.application_mut(application_id)?;
        if application.profiles.len() >= limit {
            return Err(ApiError::quota_exceeded(format!(
                "The number of configuration profiles per application is limited to {limit}"
            )));
        }
        let profile = Profile {
            id: id.clone(),
            application_id: application_id.to_owned(),
            name: input.name.unwrap_or_default(),
            description: input.description,
            location_uri: input.location_uri.unwrap_or_default(),
            retrieval_role_arn: input.retrieval_role_arn,
            validators,
            // UNCONFIRMED default, universally assumed.
            profile_type: input.profile_type.unwrap_or_else(|| "AWS.Freeform".into()),
            kms_key_identifier: input.kms_key_identifier,
            tags,
            sequence,
            versions: BTreeMap::new(),
            last_version_number: 0,
        };
        let body = profile.body();
        application.profiles.insert(id, profile);
        Ok(body)
    }

    pub fn get_configuration_profile(
        &self,
        application_id: &str,
        profile_id: &str,
    ) -> Result<Value, ApiError> {
        Ok(self.profile(application_id, profile_id)?.body())
    }

    pub fn list_configuration_profiles(
        &self,
        application_id: &str,
        profile_type: Option<&str>,
        page: &PageRequest,
    ) -> Result<Value, ApiError> {
        if let Some(kind) = profile_type {
            let mut checks = Checks::new();
            checks.pattern(
                "type",
                kind,
                validate::is_profile_type(kind),
                validate::PROFILE_TYPE_PATTERN,
            );
            checks.finish()?;
        }
        let items = self
            .application(application_id)?
            .profiles
            .values()
            .filter(|p| profile_type.is_none_or(|t| p.profile_type == t))
            .map(|p| (p.sequence, p.summary()));
        page.json(items)
    }

    /// Refused while one of its deployments is in progress, or while it has hosted versions.
    pub fn delete_configuration_profile(
        &mut self,
        application_id: &str,
        profile_id: &str,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        self.profile(application_id, profile_id)?;
        let environment_ids: Vec<String> = self
            .application(application_id)?
            .environments
            .keys()
            .cloned()
            .collect();
        for environment_id in &environment_ids {
            let environment = self.advanced_environment(application_id, environment_id, now)?;
            if let Some(deployment) =
                newest_for_profile(environment, profile_id).filter(|d| d.state.in_progress())
            {
                return Err(ApiError::conflict(format!(
                    "Configuration profile {profile_id} cannot be deleted while deployment number {} is in progress in environment {environment_id}",
                    deployment.number
                )));
            }
        }
        if !self
            .profile(application_id, profile_id)?
            .versions
            .is_empty()
        {
            // AWS's own answer: hosted versions must be deleted first.
            return Err(ApiError::bad_request(format!(
                "Cannot delete configuration profile {profile_id} because there are still hosted configuration versions existing under it."
            )));
        }
        self.application_mut(application_id)?
            .profiles
            .shift_remove(profile_id);
        self.sessions
            .retain(|_, session| session.profile_id != profile_id);
        Ok(())
    }

    pub fn create_hosted_configuration_version(
        &mut self,
        application_id: &str,
        profile_id: &str,
        input: CreateHostedVersionInput,
    ) -> Result<Arc<HostedVersion>, ApiError> {
        let mut checks = Checks::new();
        if let Some(content_type) = checks.required("contentType", &input.content_type) {
            checks.length("contentType", content_type, 1, 255);
        }
        checks.optional_length("description", &input.description, 0, 1024);
        if let Some(label) = &input.version_label {
            checks.length("versionLabel", label, 1, 64);
            checks.pattern(
                "versionLabel",
                label,
                validate::is_version_label(label),
                validate::VERSION_LABEL_PATTERN,
            );
        }
        checks.finish()?;
        let latest_expected = match &input.latest_version_number {
            None => None,
            Some(raw) => Some(raw.trim().parse::<i32>().map_err(|_| {
                ApiError::bad_request(format!("Latest-Version-Number '{raw}' is not an integer"))
            })?),
        };
        let limit = self.settings.quotas.hosted_configuration_bytes;
        let profile = self.profile_mut(application_id, profile_id)?;
        if profile.location_uri != HOSTED {
            return Err(ApiError::bad_request(format!(
                "Configuration profile {profile_id} does not use the hosted configuration store (its LocationUri is {})",
                profile.location_uri
            )));
        }
        if input.content.len() > limit {
            return Err(ApiError::new(
                ErrorKind::PayloadTooLarge,
                format!(
                    "The configuration is {} bytes; hosted configurations are limited to {limit} bytes",
                    input.content.len()
                ),
            )
            .with("Measure", "KILOBYTES")
            .with("Limit", limit as f64 / 1024.0)
            .with("Size", input.content.len() as f64 / 1024.0));
        }
        if profile.profile_type == FEATURE_FLAGS {
            feature_flags::check(&input.content)?;
        }
        // UNCONFIRMED: the lock compares with the newest existing version (0 when none).
        let latest = profile.versions.keys().next_back().copied().unwrap_or(0);
        if let Some(expected) = latest_expected
            && expected != latest
        {
            return Err(ApiError::conflict(format!(
                "The latest version of configuration profile {profile_id} is {latest}, not {expected}"
            )));
        }
        profile.last_version_number += 1;
        let version = Arc::new(HostedVersion {
            application_id: application_id.to_owned(),
            profile_id: profile_id.to_owned(),
            number: profile.last_version_number,
            description: input.description,
            content: input.content,
            content_type: input.content_type.unwrap_or_default(),
            label: input.version_label,
        });
        profile
            .versions
            .insert(version.number, Arc::clone(&version));
        Ok(version)
    }

    pub fn get_hosted_configuration_version(
        &self,
        application_id: &str,
        profile_id: &str,
        number: &str,
    ) -> Result<Arc<HostedVersion>, ApiError> {
        Ok(Arc::clone(
            self.profile(application_id, profile_id)?.version(number)?,
        ))
    }

    /// Newest first. `version_label` filters by exact label, or by prefix when it ends in `*`.
    pub fn list_hosted_configuration_versions(
        &self,
        application_id: &str,
        profile_id: &str,
        version_label: Option<&str>,
        page: &PageRequest,
    ) -> Result<Value, ApiError> {
        if let Some(label) = version_label {
            let mut checks = Checks::new();
            checks.length("versionLabel", label, 1, 64);
            checks.finish()?;
        }
        let matches = |label: Option<&str>| match version_label {
            None => true,
            Some(filter) => label.is_some_and(|label| match filter.strip_suffix('*') {
                Some(prefix) => label.starts_with(prefix),
                None => label == filter,
            }),
        };
        let items = self
            .profile(application_id, profile_id)?
            .versions
            .values()
            .rev()
            .filter(|v| matches(v.label.as_deref()))
            .map(|v| (u64::from(i32::MAX.abs_diff(v.number)), v.summary()));
        page.json(items)
    }

    pub fn delete_hosted_configuration_version(
        &mut self,
        application_id: &str,
        profile_id: &str,
        number: &str,
    ) -> Result<(), ApiError> {
        let number = self
            .profile(application_id, profile_id)?
            .version(number)?
            .number;
        self.profile_mut(application_id, profile_id)?
            .versions
            .remove(&number);
        Ok(())
    }

    pub(super) fn profile(
        &self,
        application_id: &str,
        profile_id: &str,
    ) -> Result<&Profile, ApiError> {
        self.application(application_id)?
            .profiles
            .get(profile_id)
            .ok_or_else(|| not_found("ConfigurationProfile", profile_id))
    }

    fn profile_mut(
        &mut self,
        application_id: &str,
        profile_id: &str,
    ) -> Result<&mut Profile, ApiError> {
        self.application_mut(application_id)?
            .profiles
            .get_mut(profile_id)
            .ok_or_else(|| not_found("ConfigurationProfile", profile_id))
    }
}
