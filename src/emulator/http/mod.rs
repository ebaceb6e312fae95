//! The HTTP face of the emulator: AWS operations on their restJson1 paths, emulator-only
//! endpoints under `/_emulator/`, one log line per request.

mod admin;
mod aws;
mod route;

use std::{sync::Arc, time::Instant};

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

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest("/_emulator", admin::router())
        .fallback(aws::handle)
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .layer(middleware::from_fn(log_request))
        .with_state(shared)
}

async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let operation = response
        .extensions()
        .get::<OperationName>()
        .map_or("emulator", |name| name.0);
    tracing::info!(
        operation,
        %method,
        path,
        status = response.status().as_u16(),
        duration_us = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}
