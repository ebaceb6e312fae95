//! CreateApplication, GetApplication, ListApplications, DeleteApplication.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{State, environments::Environment, new_id, profiles::Profile};
use crate::emulator::{error::ApiError, page::PageRequest, validate::Checks};

#[derive(Debug)]
pub(super) struct Application {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub sequence: u64,
    pub environments: IndexMap<String, Environment>,
    pub profiles: IndexMap<String, Profile>,
}

impl Application {
    fn body(&self) -> Value {
        json!({"Id": self.id, "Name": self.name, "Description": self.description})
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateApplicationInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl State {
    pub fn create_application(&mut self, input: CreateApplicationInput) -> Result<Value, ApiError> {
        let mut checks = Checks::new();
        if let Some(name) = checks.required("name", &input.name) {
            checks.length("name", name, 1, 64);
        }
        checks.optional_length("description", &input.description, 0, 1024);
        let tags = input.tags.unwrap_or_default();
        checks.tags("tags", &tags);
        checks.finish()?;
        if self.applications.len() >= self.settings.quotas.applications {
            return Err(ApiError::quota_exceeded(format!(
                "The number of applications is limited to {}",
                self.settings.quotas.applications
            )));
        }
        let id = new_id(&mut self.rng, |id| self.applications.contains_key(id));
        let application = Application {
            id: id.clone(),
            name: input.name.unwrap_or_default(),
            description: input.description,
            tags,
            sequence: self.next_sequence(),
            environments: IndexMap::new(),
            profiles: IndexMap::new(),
        };
        let body = application.body();
        self.applications.insert(id, application);
        Ok(body)
    }

    pub fn get_application(&self, id: &str) -> Result<Value, ApiError> {
        Ok(self.application(id)?.body())
    }

    pub fn list_applications(&self, page: &PageRequest) -> Result<Value, ApiError> {
        let items = self.applications.values().map(|a| (a.sequence, a.body()));
        page.json(items)
    }

    /// Deletes the application with its environments, profiles and hosted versions. The model
    /// declares no ConflictException for this operation, so nothing blocks it.
    pub fn delete_application(&mut self, id: &str) -> Result<(), ApiError> {
        self.application(id)?;
        self.applications.shift_remove(id);
        self.sessions
            .retain(|_, session| session.application_id != id);
        Ok(())
    }
}
