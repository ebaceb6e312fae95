//! STS on the emulator's port: `AssumeRoleWithWebIdentity` in the AWS query protocol (a form
//! POSTed to `/`, answered in XML). Unsigned, as in AWS. The form carries the web identity
//! token, so neither it nor the answer's secrets are ever logged.

use std::{collections::HashMap, sync::Arc};

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::Response,
};
use bytes::Bytes;

use super::{OperationName, aws};
use crate::emulator::{
    clock::format_timestamp,
    control::Shared,
    iam::{
        IssuedCredentials,
        sts::{AssumeRoleRequest, StsError},
    },
};

const OPERATION: &str = "AssumeRoleWithWebIdentity";

/// `POST /`: STS when the body is a form naming an action, else the AWS fallback (which
/// answers that no such operation is emulated).
pub async fn handle(
    state: State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let params: HashMap<String, String> = if is_form {
        form_urlencoded::parse(&body).into_owned().collect()
    } else {
        HashMap::new()
    };
    let Some(action) = params.get("Action") else {
        return aws::handle(state, method, uri, headers, body).await;
    };
    let request_id = aws::request_id();
    if action != OPERATION {
        let error = StsError {
            status: 400,
            code: "InvalidAction",
            message: format!("The emulator's STS serves {OPERATION} only, not {action}"),
        };
        return failure(&error, &request_id);
    }
    state.count_call(OPERATION);
    let mut response = match assume_role(&state, &params) {
        Ok(credentials) => success(&credentials, &request_id),
        Err(error) => failure(&error, &request_id),
    };
    response.extensions_mut().insert(OperationName(OPERATION));
    response
}

fn assume_role(
    shared: &Shared,
    params: &HashMap<String, String>,
) -> Result<IssuedCredentials, StsError> {
    let request = AssumeRoleRequest::parse(params)?;
    let wall_now = jiff::Timestamp::now().as_second();
    shared
        .lock_iam()
        .assume_role(&request, wall_now, shared.now())
}

fn success(credentials: &IssuedCredentials, request_id: &str) -> Response {
    let body = format!(
        concat!(
            r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">"#,
            "<AssumeRoleWithWebIdentityResult>",
            "<SubjectFromWebIdentityToken>{subject}</SubjectFromWebIdentityToken>",
            "<Audience>{audience}</Audience>",
            "<AssumedRoleUser><Arn>{arn}</Arn><AssumedRoleId>{role_id}</AssumedRoleId></AssumedRoleUser>",
            "<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>",
            "<SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>",
            "<Provider>{provider}</Provider>",
            "</AssumeRoleWithWebIdentityResult>",
            "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>",
            "</AssumeRoleWithWebIdentityResponse>"
        ),
        subject = escape(&credentials.subject),
        audience = escape(&credentials.audience),
        arn = escape(&credentials.assumed_role_arn),
        role_id = escape(&credentials.assumed_role_id),
        key = credentials.access_key_id,
        secret = credentials.secret_access_key,
        token = credentials.session_token,
        expiration = format_timestamp(credentials.expiration),
        provider = escape(&credentials.provider),
        request_id = request_id,
    );
    xml(StatusCode::OK, body, request_id)
}

fn failure(error: &StsError, request_id: &str) -> Response {
    let body = format!(
        concat!(
            r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">"#,
            "<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>",
            "<RequestId>{request_id}</RequestId></ErrorResponse>"
        ),
        code = error.code,
        message = escape(&error.message),
        request_id = request_id,
    );
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    xml(status, body, request_id)
}

fn xml(status: StatusCode, body: String, request_id: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/xml")
        .header("x-amzn-requestid", request_id)
        .body(Body::from(body))
        .expect("a valid response")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}
