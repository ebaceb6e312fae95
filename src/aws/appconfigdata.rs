//! The AppConfig Data calls an AppConfigSync makes: StartConfigurationSession and
//! GetLatestConfiguration. Every call's outcome is known here, in [`AppConfigData::start_session`]
//! and [`AppConfigData::latest`], and nowhere else.

use aws_sdk_appconfigdata::{
    Client,
    error::SdkError,
    operation::get_latest_configuration::GetLatestConfigurationError,
    types::{BadRequestDetails, InvalidParameterProblem},
};
use bytes::Bytes;

use super::{
    caller::{Caller, Counted},
    error::{AwsError, ErrorKind},
};

/// What a session is opened for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionRequest {
    pub application: String,
    pub environment: String,
    pub profile: String,
    pub minimum_poll_interval_seconds: u32,
}

/// One GetLatestConfiguration answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    /// Empty when the session already received the configuration AppConfig serves.
    pub content: Bytes,
    pub content_type: Option<String>,
    pub version_label: Option<String>,
    /// The token for the next call, which may be used once.
    pub next_token: String,
    /// AppConfig's minimum wait before the next call.
    pub next_poll_interval_seconds: u32,
}

/// Why GetLatestConfiguration failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PollError {
    /// The token expired or AppConfig no longer accepts it: only a new session helps.
    #[error("{0}")]
    TokenRejected(AwsError),
    /// Asked sooner than NextPollIntervalInSeconds allows; the token stays valid.
    #[error("{0}")]
    TooEarly(AwsError),
    #[error("{0}")]
    Failed(AwsError),
}

impl PollError {
    fn aws(&self) -> &AwsError {
        match self {
            Self::TokenRejected(aws) | Self::TooEarly(aws) | Self::Failed(aws) => aws,
        }
    }
}

impl Counted for PollError {
    fn aws_error(&self) -> &AwsError {
        self.aws()
    }
}

/// AppConfig Data in one region.
#[derive(Debug, Clone)]
pub struct AppConfigData {
    client: Client,
    /// Shares its rate limit with the region's AppConfig client.
    caller: Caller,
}

impl AppConfigData {
    pub fn new(client: Client, caller: Caller) -> Self {
        Self { client, caller }
    }

    /// Opens a configuration session; its initial token.
    pub async fn start_session(&self, request: &SessionRequest) -> Result<String, AwsError> {
        let minimum = i32::try_from(request.minimum_poll_interval_seconds).unwrap_or(i32::MAX);
        let attempt = || async {
            self.client
                .start_configuration_session()
                .application_identifier(&request.application)
                .environment_identifier(&request.environment)
                .configuration_profile_identifier(&request.profile)
                .required_minimum_poll_interval_in_seconds(minimum)
                .send()
                .await
                .map_err(|e| AwsError::new("StartConfigurationSession", e))
        };
        self.caller
            .call("StartConfigurationSession", attempt)
            .await?
            .initial_configuration_token
            .ok_or_else(|| {
                AwsError::incomplete("StartConfigurationSession", "InitialConfigurationToken")
            })
    }

    /// Reads the configuration with `token`, which is spent whatever the answer.
    pub async fn latest(&self, token: &str) -> Result<Latest, PollError> {
        let attempt = || async {
            self.client
                .get_latest_configuration()
                .configuration_token(token)
                .send()
                .await
                .map_err(classify_poll_error)
        };
        // A call refused for its credentials did not spend the token: it goes again as is.
        let output = self.caller.call(OPERATION, attempt).await?;
        let next_token = output
            .next_poll_configuration_token
            .clone()
            .ok_or_else(|| {
                PollError::Failed(AwsError::incomplete(
                    "GetLatestConfiguration",
                    "NextPollConfigurationToken",
                ))
            })?;
        Ok(Latest {
            content: output
                .configuration
                .map(|blob| Bytes::from(blob.into_inner()))
                .unwrap_or_default(),
            content_type: output.content_type,
            version_label: output.version_label.filter(|l| !l.is_empty()),
            next_token,
            next_poll_interval_seconds: u32::try_from(output.next_poll_interval_in_seconds)
                .unwrap_or(0),
        })
    }
}

const OPERATION: &str = "GetLatestConfiguration";

fn classify_poll_error(
    error: SdkError<GetLatestConfigurationError, aws_sdk_appconfigdata::config::http::HttpResponse>,
) -> PollError {
    let problem = match &error {
        SdkError::ServiceError(service) => match service.err() {
            GetLatestConfigurationError::BadRequestException(bad) => Some(token_problem(
                bad.details(),
                bad.message().unwrap_or_default(),
            )),
            _ => None,
        },
        _ => None,
    };
    let mut aws = AwsError::new(OPERATION, error);
    match problem {
        Some(TokenProblem::Rejected) => PollError::TokenRejected(aws),
        // The service counts from its own clock; the token stays valid, so waiting is enough.
        Some(TokenProblem::TooEarly) => {
            aws.kind = ErrorKind::Transient;
            PollError::TooEarly(aws)
        }
        Some(TokenProblem::None) | None => PollError::Failed(aws),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum TokenProblem {
    Rejected,
    TooEarly,
    None,
}

/// What a BadRequestException says about the token: its Details when AppConfig sends them, else
/// its message ("Token not valid", "Token expired", "Request too early").
fn token_problem(details: Option<&BadRequestDetails>, message: &str) -> TokenProblem {
    let problems = details
        .and_then(|d| d.as_invalid_parameters().ok())
        .into_iter()
        .flat_map(|parameters| parameters.values())
        .filter_map(|detail| detail.problem());
    for problem in problems {
        return match problem {
            InvalidParameterProblem::PollIntervalNotSatisfied => TokenProblem::TooEarly,
            InvalidParameterProblem::Corrupted | InvalidParameterProblem::Expired => {
                TokenProblem::Rejected
            }
            _ => continue,
        };
    }
    let message = message.to_ascii_lowercase();
    if message.contains("too early") {
        TokenProblem::TooEarly
    } else if message.contains("token") {
        TokenProblem::Rejected
    } else {
        TokenProblem::None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_appconfigdata::types::InvalidParameterDetail;

    use super::*;

    fn details(problem: InvalidParameterProblem) -> BadRequestDetails {
        BadRequestDetails::InvalidParameters(HashMap::from([(
            "ConfigurationToken".to_owned(),
            InvalidParameterDetail::builder().problem(problem).build(),
        )]))
    }

    #[test]
    fn details_say_whether_the_token_is_spent_or_early() {
        assert_eq!(
            token_problem(Some(&details(InvalidParameterProblem::Expired)), ""),
            TokenProblem::Rejected
        );
        assert_eq!(
            token_problem(Some(&details(InvalidParameterProblem::Corrupted)), ""),
            TokenProblem::Rejected
        );
        assert_eq!(
            token_problem(
                Some(&details(InvalidParameterProblem::PollIntervalNotSatisfied)),
                ""
            ),
            TokenProblem::TooEarly
        );
    }

    #[test]
    fn without_details_the_message_decides() {
        assert_eq!(
            token_problem(None, "Token not valid"),
            TokenProblem::Rejected
        );
        assert_eq!(
            token_problem(None, "Request too early"),
            TokenProblem::TooEarly
        );
        assert_eq!(
            token_problem(None, "Invalid application identifier"),
            TokenProblem::None
        );
    }
}
