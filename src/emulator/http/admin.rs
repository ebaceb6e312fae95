//! The emulator-only endpoints under `/_emulator/`: clock, alarms, faults, call counts, sessions,
//! the data plane's poll interval, IAM (OIDC providers and roles), reset.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use bytes::Bytes;
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::json;

use crate::emulator::{
    clock::format_timestamp,
    control::{Control, Shared},
    faults::Fault,
    iam::RoleDefinition,
    state::AlarmState,
};

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/reset", post(reset))
        .route("/clock", get(clock).post(advance_clock))
        .route("/alarms", post(set_alarm))
        .route("/faults", post(add_fault).delete(clear_faults))
        .route("/calls", get(calls))
        .route("/sessions", delete(end_sessions))
        .route("/next-poll-interval", post(set_next_poll_interval))
        .route("/iam/oidc", post(register_oidc_provider))
        .route("/iam/roles", post(define_role))
}

/// A refused admin request: 400 with `{"message": ...}`.
struct Refused(String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({"message": self.0}))).into_response()
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Refused> {
    serde_json::from_slice(body).map_err(|e| Refused(format!("invalid request body: {e}")))
}

async fn reset(State(shared): State<Arc<Shared>>) -> StatusCode {
    Control::from(shared).reset();
    StatusCode::NO_CONTENT
}

async fn end_sessions(State(shared): State<Arc<Shared>>) -> StatusCode {
    Control::from(shared).end_sessions();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NextPollInterval {
    seconds: Option<u32>,
}

async fn set_next_poll_interval(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<StatusCode, Refused> {
    let NextPollInterval { seconds } = parse(&body)?;
    Control::from(shared).set_next_poll_interval(seconds);
    Ok(StatusCode::NO_CONTENT)
}

async fn clock(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!({"now": format_timestamp(Control::from(shared).now())}))
}

/// The farthest the clock may be moved: timestamps stay representable (jiff's range ends with
/// year 9999) while the clock keeps running for centuries.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AdvanceClock {
    advance_seconds: f64,
}

async fn advance_clock(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Refused> {
    let AdvanceClock { advance_seconds } = parse(&body)?;
    let by = Duration::try_from_secs_f64(advance_seconds).map_err(|_| {
        Refused(format!(
            "advanceSeconds must be a non-negative number of seconds, got {advance_seconds}"
        ))
    })?;
    let now = Control::from(shared).advance(by).map_err(|e| {
        Refused(format!(
            "advanceSeconds {advance_seconds} is too large: {e}"
        ))
    })?;
    Ok(Json(json!({"now": format_timestamp(now)})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SetAlarm {
    alarm_arn: String,
    state: AlarmState,
}

async fn set_alarm(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<StatusCode, Refused> {
    let SetAlarm { alarm_arn, state } = parse(&body)?;
    if alarm_arn.is_empty() {
        return Err(Refused("alarmArn must not be empty".into()));
    }
    Control::from(shared).set_alarm(&alarm_arn, state);
    Ok(StatusCode::NO_CONTENT)
}

async fn add_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<StatusCode, Refused> {
    let fault: Fault = parse(&body)?;
    Control::from(shared).inject_fault(fault).map_err(Refused)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    Control::from(shared).clear_faults();
    StatusCode::NO_CONTENT
}

async fn calls(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!(Control::from(shared).calls()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OidcProvider {
    issuer: String,
    jwks: serde_json::Value,
}

async fn register_oidc_provider(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<StatusCode, Refused> {
    let OidcProvider { issuer, jwks } = parse(&body)?;
    Control::from(shared)
        .register_oidc_provider(&issuer, jwks)
        .map_err(Refused)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn define_role(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<StatusCode, Refused> {
    let role: RoleDefinition = parse(&body)?;
    Control::from(shared).define_role(role).map_err(Refused)?;
    Ok(StatusCode::NO_CONTENT)
}
