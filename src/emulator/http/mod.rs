//! The HTTP face of the emulator: AWS operations on their restJson1 paths, STS's query
//! protocol on `/`, emulator-only endpoints under `/_emulator/`, one log line per request (at
//! the level the caller chose; paths only, never bodies, which carry tokens).

mod admin;
mod authorize;
mod aws;
mod permissions;
mod route;
mod sts;

use std::{sync::Arc, time::Instant};

use tracing::Level;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    middleware::{self, Next},
    response::Response,
};

use super::control::Shared;

/// The AWS operation a response answered, for the request log.
#[derive(Debug, Clone, Copy)]
struct OperationName(&'static str);

/// Larger than any accepted hosted configuration, so oversized ones get AWS's 413 answer
/// rather than a bare transport error.
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

pub fn router(shared: Arc<Shared>, request_log: RequestLog) -> Router {
    Router::new()
        .nest("/_emulator", admin::router())
        .route("/", axum::routing::post(sts::handle))
        .fallback(aws::handle)
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .layer(middleware::from_fn(move |request, next| {
            log_request(request, next, request_log)
        }))
        .with_state(shared)
}

/// The level of the request log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RequestLog {
    /// Shown by default: someone running the emulator by hand wants to see the calls their
    /// tools make.
    #[default]
    Info,
    /// Shown only when asked for (`--log-level appconfig_operator::emulator=debug`): inside the
    /// operator they would drown its own log.
    Debug,
}

async fn log_request(request: Request, next: Next, level: RequestLog) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let operation = response
        .extensions()
        .get::<OperationName>()
        .map_or("emulator", |name| name.0);
    let status = response.status().as_u16();
    let duration_us = started.elapsed().as_micros() as u64;
    // `event!` takes its level as a constant.
    macro_rules! log {
        ($level:expr) => {
            tracing::event!($level, operation, %method, path, status, duration_us, "request")
        };
    }
    match level {
        RequestLog::Info => log!(Level::INFO),
        RequestLog::Debug => log!(Level::DEBUG),
    }
    response
}
