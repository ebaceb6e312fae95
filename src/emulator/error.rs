//! AWS errors, shaped the way restJson1 clients parse them: the `x-amzn-ErrorType` header and a
//! JSON body with `__type`, `Message` and the exception's own members.

use std::fmt;

use serde_json::{Map, Value};

/// The exceptions AppConfig and AppConfig Data declare, and the common ones AWS answers for
/// authentication and authorization, with their HTTP status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    ServiceQuotaExceeded,
    ResourceNotFound,
    Conflict,
    PayloadTooLarge,
    Throttling,
    InternalServer,
    /// Signed by a caller whose policy does not allow the call.
    AccessDenied,
    /// Signed with emulated-STS credentials past their expiration.
    ExpiredToken,
    /// Signed with an `ASIA` key this emulator's STS did not issue (or issued before a reset).
    UnrecognizedClient,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::ServiceQuotaExceeded => 402,
            Self::ResourceNotFound => 404,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::Throttling => 429,
            Self::InternalServer => 500,
            Self::AccessDenied | Self::ExpiredToken | Self::UnrecognizedClient => 403,
        }
    }

    /// The shape name clients match on.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::BadRequest => "BadRequestException",
            Self::ServiceQuotaExceeded => "ServiceQuotaExceededException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::Conflict => "ConflictException",
            Self::PayloadTooLarge => "PayloadTooLargeException",
            Self::Throttling => "ThrottlingException",
            Self::InternalServer => "InternalServerException",
            Self::AccessDenied => "AccessDeniedException",
            Self::ExpiredToken => "ExpiredTokenException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
        }
    }
}

/// An error answer of an AWS operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    /// Members of the exception shape besides `Message` (`ResourceName`, `Reason`, ...).
    pub members: Map<String, Value>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            members: Map::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    /// A control-plane 404; `resource_name` is the kind of resource that was not found.
    pub fn not_found(resource_name: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceNotFound, message).with("ResourceName", resource_name)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    pub fn quota_exceeded(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ServiceQuotaExceeded, message)
    }

    pub fn with(mut self, member: &str, value: impl Into<Value>) -> Self {
        self.members.insert(member.to_owned(), value.into());
        self
    }

    /// The JSON body: `{"__type": ..., "Message": ..., members...}`.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("__type".into(), self.kind.type_name().into());
        body.insert("Message".into(), self.message.clone().into());
        body.extend(self.members.clone());
        Value::Object(body)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.type_name(), self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_carries_type_message_and_members() {
        let error = ApiError::not_found("Application", "Application abc1234 not found");
        assert_eq!(error.kind.status(), 404);
        assert_eq!(
            error.body(),
            serde_json::json!({
                "__type": "ResourceNotFoundException",
                "Message": "Application abc1234 not found",
                "ResourceName": "Application",
            })
        );
    }
}
