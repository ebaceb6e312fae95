//! kube and the AWS SDK share one rustls crypto provider (aws-lc-rs). With a second provider
//! compiled in, building a kube client panics at run time ("Could not automatically determine the
//! process-level CryptoProvider"), so this builds both clients in one process and sends an HTTPS
//! request through each.

use std::net::TcpListener;

use aws_config::{BehaviorVersion, retry::RetryConfig};
use aws_sdk_appconfig::error::SdkError;

/// A loopback port nothing listens on: a request gets as far as connecting, and fails there.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn kube_and_aws_clients_share_one_tls_stack() {
    let url = format!("https://127.0.0.1:{}", closed_port());

    let config = kube::Config::new(url.parse().unwrap());
    let kube = kube::Client::try_from(config).expect("a kube client");
    let error = kube.apiserver_version().await.expect_err("nothing listens");
    assert!(
        !matches!(error, kube::Error::Api(_)),
        "the request cannot have reached a server: {error}"
    );

    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region("us-east-1")
        .endpoint_url(&url)
        .test_credentials()
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let appconfig = aws_sdk_appconfig::Client::new(&sdk);
    let error = appconfig
        .list_applications()
        .send()
        .await
        .expect_err("nothing listens");
    assert!(matches!(error, SdkError::DispatchFailure(_)), "{error:?}");
}
