//! The operator's one HTTP listener: `/healthz`, `/readyz` and `/metrics`.

pub mod readiness;

use std::{future::Future, io, net::SocketAddr};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use tokio::net::TcpListener;

use crate::metrics::{self, Metrics};

pub use readiness::{CacheSync, Readiness};

#[derive(Clone)]
struct Served {
    metrics: Metrics,
    readiness: Readiness,
}

/// The listener, bound before anything else starts so that a taken port fails the start.
pub struct Server {
    listener: TcpListener,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address} (--http-addr): {source}")]
pub struct BindError {
    address: SocketAddr,
    #[source]
    source: io::Error,
}

impl Server {
    pub async fn bind(address: SocketAddr) -> Result<Self, BindError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| BindError { address, source })?;
        Ok(Self { listener })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(
        self,
        metrics: Metrics,
        readiness: Readiness,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let app = Router::new()
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics_text))
            .with_state(Served { metrics, readiness });
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// The process is up and serving; nothing else is checked, so that a lost API server or AWS
/// never gets the pod restarted (that would not fix them).
async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(served): State<Served>) -> impl IntoResponse {
    let answer = served.readiness.answer();
    let code = if answer.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, format!("{}\n", answer.reason))
}

async fn metrics_text(State(served): State<Served>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        served.metrics.encode(),
    )
}
