//! Failures answered as Kubernetes `Status` objects, worded as the API server words them.

use serde_json::{Value, json};

use super::resource::ResourceType;

#[derive(Debug)]
pub(super) struct ApiError {
    pub code: u16,
    reason: String,
    message: String,
    details: Option<Value>,
}

impl ApiError {
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    fn about(self, resource: &ResourceType, name: &str) -> Self {
        let mut details = json!({"kind": resource.plural});
        // As the API server omits an empty name (an invalid object that has none yet).
        if !name.is_empty() {
            details["name"] = json!(name);
        }
        // The API server leaves the core group's empty name out.
        if !resource.group().is_empty() {
            details["group"] = json!(resource.group());
        }
        self.with_details(details)
    }

    pub fn not_found(resource: &ResourceType, name: &str) -> Self {
        let message = format!("{} \"{name}\" not found", resource.qualified());
        Self::new(404, "NotFound", message).about(resource, name)
    }

    /// A URL that names no resource the fake serves (a non-resource path or an unknown subresource).
    pub fn no_such_path() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// A method the URL's resource or subresource does not take.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    pub fn already_exists(resource: &ResourceType, name: &str) -> Self {
        let message = format!("{} \"{name}\" already exists", resource.qualified());
        Self::new(409, "AlreadyExists", message).about(resource, name)
    }

    pub fn conflict(resource: &ResourceType, name: &str, why: &str) -> Self {
        let message = format!(
            "Operation cannot be fulfilled on {} \"{name}\": {why}",
            resource.qualified()
        );
        Self::new(409, "Conflict", message).about(resource, name)
    }

    pub fn modified(resource: &ResourceType, name: &str) -> Self {
        Self::conflict(
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 for an object that fails validation; `field_error` reads like `metadata.x: Forbidden: ...`.
    pub fn invalid(resource: &ResourceType, kind: &str, name: &str, field_error: &str) -> Self {
        let message = format!(
            "{} \"{name}\" is invalid: {field_error}",
            resource.qualified_kind(kind)
        );
        Self::new(422, "Invalid", message).about(resource, name)
    }

    pub fn forbidden(resource: &ResourceType, name: &str, why: &str) -> Self {
        let message = format!("{} \"{name}\" is forbidden: {why}", resource.qualified());
        Self::new(403, "Forbidden", message).about(resource, name)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn to_json(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}
