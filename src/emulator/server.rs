//! Starting and stopping the emulator's HTTP server.

use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use super::{
    clock::Clock,
    control::{Control, Shared},
    http::{self, RequestLog},
    state::{Settings, State},
};

#[derive(Debug, Clone, PartialEq)]
pub struct EmulatorConfig {
    /// Where to listen; port 0 picks a free one (the default, for in-process use).
    pub listen: SocketAddr,
    /// Emulated seconds per wall-clock second.
    pub time_scale: f64,
    pub settings: Settings,
    /// The level of the one log line per request.
    pub request_log: RequestLog,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            time_scale: 1.0,
            settings: Settings::default(),
            request_log: RequestLog::default(),
        }
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Emulator {
    address: SocketAddr,
    control: Control,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<io::Result<()>>>,
}

impl Emulator {
    /// Binds the listener and serves in the background.
    pub async fn start(config: EmulatorConfig) -> io::Result<Self> {
        if !(config.time_scale.is_finite() && config.time_scale > 0.0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "time scale must be a positive number, got {}",
                    config.time_scale
                ),
            ));
        }
        let listener = TcpListener::bind(config.listen).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::new(
            State::new(config.settings),
            Clock::new(config.time_scale),
        ));
        let (stop, stopped) = oneshot::channel::<()>();
        let router = http::router(Arc::clone(&shared), config.request_log);
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    // A dropped sender stops the server too.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self {
            address,
            control: Control::from(shared),
            stop: Some(stop),
            server: Some(server),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The URL to give SDKs as their endpoint (`http://127.0.0.1:PORT`).
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Stops accepting connections and waits for requests in flight to finish.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}
