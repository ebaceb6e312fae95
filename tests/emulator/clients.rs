//! Official SDK clients pointed at an emulator, with fixed test credentials (or given ones) and
//! no retries so every call reaches the emulator exactly once.

use aws_sdk_appconfig::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};

fn credentials() -> Credentials {
    Credentials::new("AKIDEXAMPLE", "secret", None, None, "test")
}

pub fn appconfig(endpoint_url: &str) -> aws_sdk_appconfig::Client {
    appconfig_as(endpoint_url, credentials())
}

pub fn data(endpoint_url: &str) -> aws_sdk_appconfigdata::Client {
    data_as(endpoint_url, credentials())
}

pub fn appconfig_as(endpoint_url: &str, credentials: Credentials) -> aws_sdk_appconfig::Client {
    aws_sdk_appconfig::Client::from_conf(
        aws_sdk_appconfig::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint_url)
            .credentials_provider(credentials)
            .retry_config(RetryConfig::disabled())
            .build(),
    )
}

pub fn data_as(endpoint_url: &str, credentials: Credentials) -> aws_sdk_appconfigdata::Client {
    use aws_sdk_appconfigdata::config::{BehaviorVersion, Region, retry::RetryConfig};
    aws_sdk_appconfigdata::Client::from_conf(
        aws_sdk_appconfigdata::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint_url)
            .credentials_provider(credentials)
            .retry_config(RetryConfig::disabled())
            .build(),
    )
}
