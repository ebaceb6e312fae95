//! The fake over plain HTTP/1.1 on 127.0.0.1, for an operator running as its own process (a
//! kubeconfig whose `cluster.server` is `http://127.0.0.1:PORT`). Requests reach the same
//! handler as [`FakeApiServer::client`]'s; watch responses stream as chunked bodies.

use std::{convert::Infallible, io, net::SocketAddr, sync::Arc};

use http::Request;
use http_body_util::BodyExt;
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::{FakeApiServer, Shared, http::serve as handle};

// Each test crate uses the part of the handle it needs.
#[allow(dead_code)]
impl FakeApiServer {
    /// Listens on a free port of 127.0.0.1 until the runtime shuts down; answers its address.
    pub async fn serve(&self) -> io::Result<SocketAddr> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        tokio::spawn(accept(listener, self.shared.clone()));
        Ok(address)
    }
}

/// A kubeconfig for a fake served at `address`: plain HTTP, no credentials.
pub fn kubeconfig(address: SocketAddr) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: http://{address}
users:
- name: anonymous
  user: {{}}
contexts:
- name: fake
  context:
    cluster: fake
    user: anonymous
current-context: fake
"
    )
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        // An accept error (out of file descriptors, say) concerns one connection, not the server.
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        let service = service_fn(move |request| {
            let shared = shared.clone();
            async move { Ok::<_, Infallible>(handle(&shared, None, into_kube(request).await).await) }
        });
        tokio::spawn(async move {
            // A client hanging up mid-watch ends its connection; nothing to report.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The request with its body read, as the in-process client would have sent it.
async fn into_kube(request: Request<Incoming>) -> Request<kube::client::Body> {
    let (parts, body) = request.into_parts();
    // A body cut short reaches the handler empty, which refuses it as it would any bad body.
    let bytes = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    Request::from_parts(parts, bytes.into())
}
