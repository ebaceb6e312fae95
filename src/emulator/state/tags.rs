//! TagResource, UntagResource, ListTagsForResource, addressed by ARN:
//! `arn:<partition>:appconfig:<region>:<account>:application/<id>[/environment/<id>[/deployment/<n>]]`,
//! `.../application/<id>/configurationprofile/<id>` and `.../deploymentstrategy/<id>`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::State;
use crate::emulator::{error::ApiError, validate::Checks};

impl State {
    pub fn tag_resource(
        &mut self,
        arn: &str,
        tags: Option<BTreeMap<String, String>>,
    ) -> Result<(), ApiError> {
        let mut checks = Checks::new();
        if let Some(tags) = checks.required("tags", &tags) {
            checks.tags("tags", tags);
        }
        checks.finish()?;
        let existing = self.tags_mut(arn)?;
        let mut merged = existing.clone();
        merged.extend(tags.unwrap_or_default());
        if merged.len() > 50 {
            return Err(ApiError::bad_request(format!(
                "Resource {arn} would have {} tags; at most 50 are allowed",
                merged.len()
            )));
        }
        *existing = merged;
        Ok(())
    }

    pub fn untag_resource(&mut self, arn: &str, keys: &[String]) -> Result<(), ApiError> {
        let mut checks = Checks::new();
        checks.count("tagKeys", keys.len(), 1, 50);
        for key in keys {
            checks.length("tagKeys.member", key, 1, 128);
        }
        checks.finish()?;
        let tags = self.tags_mut(arn)?;
        for key in keys {
            tags.remove(key);
        }
        Ok(())
    }

    pub fn list_tags_for_resource(&mut self, arn: &str) -> Result<Value, ApiError> {
        Ok(json!({"Tags": self.tags_mut(arn)?}))
    }

    fn tags_mut(&mut self, arn: &str) -> Result<&mut BTreeMap<String, String>, ApiError> {
        let resource = self.resource_path(arn)?;
        let parts: Vec<&str> = resource.split('/').collect();
        let missing =
            || ApiError::not_found("Resource", format!("Resource {arn} could not be found."));
        match parts.as_slice() {
            ["deploymentstrategy", id] => self
                .strategies
                .get_mut(*id)
                .map(|s| &mut s.tags)
                .ok_or_else(missing),
            ["application", app] => self
                .applications
                .get_mut(*app)
                .map(|a| &mut a.tags)
                .ok_or_else(missing),
            ["application", app, "environment", env] => self
                .applications
                .get_mut(*app)
                .and_then(|a| a.environments.get_mut(*env))
                .map(|e| &mut e.tags)
                .ok_or_else(missing),
            ["application", app, "configurationprofile", profile] => self
                .applications
                .get_mut(*app)
                .and_then(|a| a.profiles.get_mut(*profile))
                .map(|p| &mut p.tags)
                .ok_or_else(missing),
            ["application", app, "environment", env, "deployment", number] => {
                let index = number
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .ok_or_else(missing)?;
                self.applications
                    .get_mut(*app)
                    .and_then(|a| a.environments.get_mut(*env))
                    .and_then(|e| e.deployments.get_mut(index))
                    .map(|d| &mut d.plan.tags)
                    .ok_or_else(missing)
            }
            _ => Err(ApiError::bad_request(format!(
                "{arn} is not an AppConfig resource ARN"
            ))),
        }
    }

    /// The resource part of an ARN of this emulator's region and account.
    fn resource_path<'a>(&self, arn: &'a str) -> Result<&'a str, ApiError> {
        let invalid = || ApiError::bad_request(format!("{arn} is not an AppConfig resource ARN"));
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, _partition, service, region, account, resource] = fields.as_slice() else {
            return Err(invalid());
        };
        if *prefix != "arn" || *service != "appconfig" {
            return Err(invalid());
        }
        if *region != self.settings.region || *account != self.settings.account_id {
            return Err(ApiError::not_found(
                "Resource",
                format!(
                    "Resource {arn} could not be found: this endpoint serves region {} and account {}.",
                    self.settings.region, self.settings.account_id
                ),
            ));
        }
        Ok(resource)
    }
}
