//! Serves the AWS operations: counts the call, applies injected faults, runs the operation on
//! the state core and writes the restJson1 answer.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header},
    response::Response,
};
use bytes::Bytes;
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};

use super::{
    OperationName, authorize,
    route::{Operation, route},
};
use crate::emulator::{
    control::Shared,
    error::ApiError,
    faults::InjectedFailure,
    page::PageRequest,
    state::{CreateHostedVersionInput, HostedVersion, LatestConfiguration},
};

pub async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(operation) = route(&method, uri.path()) else {
        return unknown_operation(&method, &uri);
    };
    let name = operation.name();
    shared.count_call(name);
    let query = Query::parse(uri.query());
    // Authorization comes first: a refused call runs nothing, and no fault is spent on it.
    let mut response = match authorize::check(&shared, &operation, &headers, &query, &body) {
        Err(error) => error_response(&error),
        Ok(()) => match shared.take_fault(name) {
            Some(failure) => injected(&failure),
            None => serve(&shared, operation, &headers, query, body)
                .unwrap_or_else(|error| error_response(&error)),
        },
    };
    response.extensions_mut().insert(OperationName(name));
    set_header(response.headers_mut(), "x-amzn-requestid", &request_id());
    response
}

/// A UUID-shaped request ID, as AWS sends in `x-amzn-RequestId`.
pub fn request_id() -> String {
    let hex = |n: usize| (0..n).map(|_| fastrand::digit(16)).collect::<String>();
    format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
}

fn serve(
    shared: &Shared,
    operation: Operation,
    headers: &HeaderMap,
    query: Query,
    body: Bytes,
) -> Result<Response, ApiError> {
    use Operation::*;
    let (mut state, now) = shared.lock_state();
    let page = query.page();
    Ok(match operation {
        CreateApplication => json(
            StatusCode::CREATED,
            state.create_application(parse(&body)?)?,
        ),
        ListApplications => json(StatusCode::OK, state.list_applications(&page)?),
        GetApplication { application } => {
            json(StatusCode::OK, state.get_application(&application)?)
        }
        DeleteApplication { application } => {
            state.delete_application(&application)?;
            no_content()
        }
        CreateEnvironment { application } => json(
            StatusCode::CREATED,
            state.create_environment(&application, parse(&body)?)?,
        ),
        ListEnvironments { application } => json(
            StatusCode::OK,
            state.list_environments(&application, &page, now)?,
        ),
        GetEnvironment {
            application,
            environment,
        } => json(
            StatusCode::OK,
            state.get_environment(&application, &environment, now)?,
        ),
        DeleteEnvironment {
            application,
            environment,
        } => {
            state.delete_environment(&application, &environment, now)?;
            no_content()
        }
        CreateConfigurationProfile { application } => json(
            StatusCode::CREATED,
            state.create_configuration_profile(&application, parse(&body)?)?,
        ),
        ListConfigurationProfiles { application } => json(
            StatusCode::OK,
            state.list_configuration_profiles(&application, query.first("type"), &page)?,
        ),
        GetConfigurationProfile {
            application,
            profile,
        } => json(
            StatusCode::OK,
            state.get_configuration_profile(&application, &profile)?,
        ),
        DeleteConfigurationProfile {
            application,
            profile,
        } => {
            state.delete_configuration_profile(&application, &profile, now)?;
            no_content()
        }
        CreateHostedConfigurationVersion {
            application,
            profile,
        } => {
            let input = CreateHostedVersionInput {
                content: body,
                content_type: text_header(headers, "content-type"),
                description: text_header(headers, "description"),
                version_label: text_header(headers, "versionlabel"),
                latest_version_number: text_header(headers, "latest-version-number"),
            };
            hosted_version(
                StatusCode::CREATED,
                &state.create_hosted_configuration_version(&application, &profile, input)?,
            )
        }
        ListHostedConfigurationVersions {
            application,
            profile,
        } => json(
            StatusCode::OK,
            state.list_hosted_configuration_versions(
                &application,
                &profile,
                query.first("version_label"),
                &page,
            )?,
        ),
        GetHostedConfigurationVersion {
            application,
            profile,
            version,
        } => hosted_version(
            StatusCode::OK,
            &state.get_hosted_configuration_version(&application, &profile, &version)?,
        ),
        DeleteHostedConfigurationVersion {
            application,
            profile,
            version,
        } => {
            state.delete_hosted_configuration_version(&application, &profile, &version)?;
            no_content()
        }
        CreateDeploymentStrategy => json(
            StatusCode::CREATED,
            state.create_deployment_strategy(parse(&body)?)?,
        ),
        ListDeploymentStrategies => json(StatusCode::OK, state.list_deployment_strategies(&page)?),
        GetDeploymentStrategy { strategy } => {
            json(StatusCode::OK, state.get_deployment_strategy(&strategy)?)
        }
        StartDeployment {
            application,
            environment,
        } => json(
            StatusCode::CREATED,
            state.start_deployment(&application, &environment, parse(&body)?, now)?,
        ),
        ListDeployments {
            application,
            environment,
        } => json(
            StatusCode::OK,
            state.list_deployments(&application, &environment, &page, now)?,
        ),
        GetDeployment {
            application,
            environment,
            deployment,
        } => json(
            StatusCode::OK,
            state.get_deployment(&application, &environment, &deployment, now)?,
        ),
        StopDeployment {
            application,
            environment,
            deployment,
        } => {
            let allow_revert = allow_revert(headers)?;
            json(
                StatusCode::ACCEPTED,
                state.stop_deployment(
                    &application,
                    &environment,
                    &deployment,
                    allow_revert,
                    now,
                )?,
            )
        }
        TagResource { arn } => {
            let input: TagInput = parse(&body)?;
            state.tag_resource(&arn, input.tags)?;
            no_content()
        }
        UntagResource { arn } => {
            state.untag_resource(&arn, &query.all("tagKeys"))?;
            no_content()
        }
        ListTagsForResource { arn } => json(StatusCode::OK, state.list_tags_for_resource(&arn)?),
        StartConfigurationSession => json(
            StatusCode::CREATED,
            state.start_configuration_session(parse(&body)?, now)?,
        ),
        GetLatestConfiguration => latest_configuration(
            state.get_latest_configuration(query.first("configuration_token"), now)?,
        ),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    tags: Option<std::collections::BTreeMap<String, String>>,
}

/// A JSON request body; an empty body is `{}`, as the SDKs treat it.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if path == "." {
            ApiError::bad_request(format!("The request body is not valid JSON: {inner}"))
        } else {
            ApiError::bad_request(format!("Invalid value for '{path}': {inner}"))
        }
    })
}

/// The request's query string, decoded.
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(query: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn page(&self) -> PageRequest {
        PageRequest {
            max_results: self.first("max_results").map(str::to_owned),
            next_token: self.first("next_token").map(str::to_owned),
        }
    }
}

fn text_header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

fn allow_revert(headers: &HeaderMap) -> Result<bool, ApiError> {
    match text_header(headers, "allow-revert") {
        None => Ok(false),
        Some(value) if value.eq_ignore_ascii_case("true") => Ok(true),
        Some(value) if value.eq_ignore_ascii_case("false") => Ok(false),
        Some(value) => Err(ApiError::bad_request(format!(
            "Allow-Revert must be true or false, got '{value}'"
        ))),
    }
}

fn json(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a valid response")
}

fn no_content() -> Response {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .expect("a valid response")
}

/// Hosted versions travel as the raw content, their metadata in headers.
fn hosted_version(status: StatusCode, version: &Arc<HostedVersion>) -> Response {
    let mut response = Response::builder()
        .status(status)
        .body(Body::from(version.content.clone()))
        .expect("a valid response");
    let headers = response.headers_mut();
    set_header(headers, "application-id", &version.application_id);
    set_header(headers, "configuration-profile-id", &version.profile_id);
    set_header(headers, "version-number", &version.number.to_string());
    set_header(headers, "content-type", &version.content_type);
    if let Some(description) = &version.description {
        set_header(headers, "description", description);
    }
    if let Some(label) = &version.label {
        set_header(headers, "versionlabel", label);
    }
    response
}

fn latest_configuration(latest: LatestConfiguration) -> Response {
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .body(Body::from(latest.content))
        .expect("a valid response");
    let headers = response.headers_mut();
    set_header(headers, "next-poll-configuration-token", &latest.next_token);
    set_header(
        headers,
        "next-poll-interval-in-seconds",
        &latest.next_poll_interval_seconds.to_string(),
    );
    set_header(headers, "content-type", &latest.content_type);
    if let Some(label) = &latest.version_label {
        set_header(headers, "version-label", label);
    }
    response
}

fn set_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    // Values came in through headers or validated JSON; bytes a header cannot carry are dropped
    // rather than failing the whole answer.
    if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

pub fn error_response(error: &ApiError) -> Response {
    let mut response = json(
        StatusCode::from_u16(error.kind.status()).expect("AWS statuses are valid"),
        error.body(),
    );
    set_header(
        response.headers_mut(),
        "x-amzn-errortype",
        error.kind.type_name(),
    );
    response
}

fn injected(failure: &InjectedFailure) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json(
        status,
        json!({"__type": failure.code, "Message": "Injected by the emulator's fault rules"}),
    );
    set_header(response.headers_mut(), "x-amzn-errortype", &failure.code);
    response
}

fn unknown_operation(method: &Method, uri: &Uri) -> Response {
    let mut response = json(
        StatusCode::NOT_FOUND,
        json!({
            "__type": "UnknownOperationException",
            "Message": format!(
                "The AppConfig emulator does not implement {method} {}; the README lists the operations it emulates",
                uri.path()
            ),
        }),
    );
    set_header(
        response.headers_mut(),
        "x-amzn-errortype",
        "UnknownOperationException",
    );
    response
}
