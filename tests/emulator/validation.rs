//! Content validation through the SDK: feature-flag documents when a hosted version is created,
//! JSON_SCHEMA validators when a deployment starts, refusals parsed into `BadRequestException`
//! with `InvalidConfiguration` details.

use aws_sdk_appconfig::{
    error::SdkError,
    operation::{
        create_hosted_configuration_version::CreateHostedConfigurationVersionError,
        start_deployment::StartDeploymentError,
    },
    primitives::Blob,
    types::{
        BadRequestDetails, BadRequestReason, Validator, ValidatorType, error::BadRequestException,
    },
};

use crate::{
    deployments::{ALL_AT_ONCE, start, still},
    harness::{Fixture, Harness},
};

const FEATURE_FLAGS: &str = "AWS.AppConfig.FeatureFlags";

/// The schema of AWS's AppConfig workshop: both settings required, one a boolean.
const SCHEMA: &str = r#"{
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "properties": {
        "boolEnableLimitResults": {"type": "boolean"},
        "intResultLimit": {"type": "number"}
    },
    "minProperties": 2,
    "required": ["intResultLimit", "boolEnableLimitResults"]
}"#;

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:check";

fn validator(kind: ValidatorType, content: &str) -> Validator {
    Validator::builder()
        .r#type(kind)
        .content(content)
        .build()
        .unwrap()
}

/// An application, an environment and a hosted profile of `kind` with `validators`, without
/// versions.
async fn fixture(h: &Harness, kind: Option<&str>, validators: Vec<Validator>) -> Fixture {
    let c = &h.appconfig;
    let application = c.create_application().name("app").send().await.unwrap();
    let application = application.id.unwrap();
    let environment = c
        .create_environment()
        .application_id(&application)
        .name("env")
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let profile = c
        .create_configuration_profile()
        .application_id(&application)
        .name("profile")
        .location_uri("hosted")
        .set_type(kind.map(str::to_owned))
        .set_validators(Some(validators))
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    Fixture {
        application,
        environment,
        profile,
    }
}

async fn create_version(
    h: &Harness,
    f: &Fixture,
    content: &[u8],
) -> Result<i32, CreateHostedConfigurationVersionError> {
    h.appconfig
        .create_hosted_configuration_version()
        .application_id(&f.application)
        .configuration_profile_id(&f.profile)
        .content_type("application/json")
        .content(Blob::new(content))
        .send()
        .await
        .map(|created| created.version_number)
        .map_err(SdkError::into_service_error)
}

async fn stored(h: &Harness, f: &Fixture, version: i32) -> Vec<u8> {
    let got = h
        .appconfig
        .get_hosted_configuration_version()
        .application_id(&f.application)
        .configuration_profile_id(&f.profile)
        .version_number(version)
        .send()
        .await
        .unwrap();
    // The SDK reads an empty payload as no content.
    got.content.map(Blob::into_inner).unwrap_or_default()
}

async fn version_count(h: &Harness, f: &Fixture) -> usize {
    let listed = h
        .appconfig
        .list_hosted_configuration_versions()
        .application_id(&f.application)
        .configuration_profile_id(&f.profile)
        .send()
        .await
        .unwrap();
    listed.items().len()
}

async fn deployment_numbers(h: &Harness, f: &Fixture) -> Vec<i32> {
    let listed = h
        .appconfig
        .list_deployments()
        .application_id(&f.application)
        .environment_id(&f.environment)
        .send()
        .await
        .unwrap();
    listed
        .items()
        .iter()
        .map(|d| d.deployment_number())
        .collect()
}

/// A refusal's details as (Location, Type, Constraint, Value), after checking it is an
/// `InvalidConfiguration` bad request.
#[track_caller]
fn details(error: &BadRequestException) -> Vec<(String, String, String, Option<String>)> {
    assert_eq!(
        error.reason(),
        Some(&BadRequestReason::InvalidConfiguration),
        "{error:?}"
    );
    let Some(BadRequestDetails::InvalidConfiguration(details)) = error.details() else {
        panic!("no InvalidConfiguration details: {error:?}");
    };
    details
        .iter()
        .map(|d| {
            assert!(!d.reason().unwrap_or_default().is_empty(), "{d:?}");
            (
                d.location().unwrap().to_owned(),
                d.r#type().unwrap().to_owned(),
                d.constraint().unwrap().to_owned(),
                d.value().map(str::to_owned),
            )
        })
        .collect()
}

#[track_caller]
fn version_refused(error: CreateHostedConfigurationVersionError) -> BadRequestException {
    match error {
        CreateHostedConfigurationVersionError::BadRequestException(refused) => refused,
        other => panic!("expected BadRequestException, got {other:?}"),
    }
}

#[track_caller]
fn start_refused(error: StartDeploymentError) -> BadRequestException {
    match error {
        StartDeploymentError::BadRequestException(refused) => refused,
        other => panic!("expected BadRequestException, got {other:?}"),
    }
}

fn row(
    location: &str,
    kind: &str,
    constraint: &str,
    value: Option<&str>,
) -> (String, String, String, Option<String>) {
    (
        location.into(),
        kind.into(),
        constraint.into(),
        value.map(str::to_owned),
    )
}

#[tokio::test]
async fn valid_feature_flag_documents_are_stored_unchanged() {
    let h = Harness::start().await;
    let f = fixture(&h, Some(FEATURE_FLAGS), vec![]).await;
    let minimal = br#"{"version": "1"}"#;
    let full = br#"{
  "flags": {
    "checkout": {
      "name": "New checkout",
      "attributes": {
        "limit": {"constraints": {"type": "number", "minimum": 1, "maximum": 10}},
        "region": {"constraints": {"type": "string", "enum": ["eu", "us"], "required": true}}
      }
    }
  },
  "values": {"checkout": {"enabled": true, "limit": 5, "region": "eu"}},
  "version": "1"
}"#;
    for (i, content) in [&minimal[..], &full[..]].into_iter().enumerate() {
        let number = create_version(&h, &f, content).await.unwrap();
        assert_eq!(number, i32::try_from(i).unwrap() + 1);
        assert_eq!(stored(&h, &f, number).await, content);
    }
}

#[tokio::test]
async fn invalid_feature_flag_documents_are_bad_requests_naming_each_violation() {
    let h = Harness::start().await;
    let f = fixture(&h, Some(FEATURE_FLAGS), vec![]).await;
    let document = br#"{
        "version": "1",
        "flags": {
            "beta": {"name": "Beta", "attributes": {"limit": {"constraints": {"type": "number", "maximum": 5}}}},
            "Bad Key": {"name": "Bad"}
        },
        "values": {"beta": {"enabled": "yes", "limit": 9}, "ghost": {"enabled": true}}
    }"#;
    let error = version_refused(create_version(&h, &f, document).await.unwrap_err());
    let message = error.message().unwrap();
    assert!(
        message.starts_with("The content is not a valid AWS.AppConfig.FeatureFlags document: "),
        "{message}"
    );
    let mut found = details(&error);
    found.sort();
    assert_eq!(
        found,
        [
            row(
                "#/flags/Bad Key",
                "Syntactic",
                r"pattern: ^[a-z][a-zA-Z\d_-]{0,63}$",
                Some(r#""Bad Key""#),
            ),
            row(
                "#/values/beta/enabled",
                "Syntactic",
                "type: boolean",
                Some(r#""yes""#)
            ),
            row(
                "#/values/beta/limit",
                "Semantic",
                "constraints.maximum: 5",
                Some("9")
            ),
            row(
                "#/values/ghost",
                "Semantic",
                "declared: #/flags",
                Some(r#""ghost""#)
            ),
        ]
    );
    assert_eq!(
        version_count(&h, &f).await,
        0,
        "a refused version is not created"
    );

    let missing = version_refused(
        create_version(&h, &f, br#"{"flags": {}}"#)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        details(&missing),
        [row("#/version", "Syntactic", "required: version", None)]
    );
}

#[tokio::test]
async fn feature_flag_content_that_is_not_json_is_malformed() {
    let h = Harness::start().await;
    let f = fixture(&h, Some(FEATURE_FLAGS), vec![]).await;
    let error = version_refused(create_version(&h, &f, b"beta: on").await.unwrap_err());
    assert!(
        error.message().unwrap().starts_with(
            "Error invoking extension AppConfig Feature Flags Helper: Malformed 'Content' provided"
        ),
        "{error:?}"
    );
    assert_eq!(
        details(&error),
        [row("#", "Syntactic", "JSON syntax", Some("beta: on"))]
    );
}

#[tokio::test]
async fn freeform_profiles_take_any_content() {
    let h = Harness::start().await;
    let f = fixture(&h, None, vec![]).await;
    for content in [
        &b"beta: on"[..],
        br#"{"flags": 1}"#,
        &[0xff, 0x00, 0x80],
        b"",
    ] {
        let number = create_version(&h, &f, content).await.unwrap();
        assert_eq!(stored(&h, &f, number).await, content);
    }
}

#[tokio::test]
async fn json_schema_validators_decide_whether_a_deployment_starts() {
    let h = still().await;
    let f = fixture(&h, None, vec![validator(ValidatorType::JsonSchema, SCHEMA)]).await;
    let wrong = create_version(&h, &f, br#"{"boolEnableLimitResults": "yes"}"#)
        .await
        .unwrap();
    let not_json = create_version(&h, &f, b"intResultLimit = 5").await.unwrap();
    let right = br#"{"boolEnableLimitResults": true, "intResultLimit": 5}"#;
    let right = create_version(&h, &f, right).await.unwrap();

    let error = start_refused(
        start(&h, &f, &wrong.to_string(), ALL_AT_ONCE)
            .await
            .unwrap_err(),
    );
    let message = error.message().unwrap();
    assert!(
        message.starts_with(&format!(
            "Configuration version {wrong} of configuration profile {} failed JSON Schema validation: ",
            f.profile
        )),
        "{message}"
    );
    let mut found = details(&error);
    found.sort();
    assert_eq!(
        found,
        [
            row(
                "#",
                "Syntactic",
                "#/minProperties",
                Some(r#"{"boolEnableLimitResults":"yes"}"#)
            ),
            row(
                "#",
                "Syntactic",
                "#/required",
                Some(r#"{"boolEnableLimitResults":"yes"}"#)
            ),
            row(
                "#/boolEnableLimitResults",
                "Syntactic",
                "#/properties/boolEnableLimitResults/type",
                Some(r#""yes""#),
            ),
        ]
    );

    let error = start_refused(
        start(&h, &f, &not_json.to_string(), ALL_AT_ONCE)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        details(&error),
        [row(
            "#",
            "Syntactic",
            "JSON syntax",
            Some("intResultLimit = 5")
        )]
    );
    assert!(deployment_numbers(&h, &f).await.is_empty());

    let started = start(&h, &f, &right.to_string(), ALL_AT_ONCE)
        .await
        .unwrap();
    assert_eq!(
        started.number, 1,
        "refused starts take no deployment number"
    );
    assert_eq!(deployment_numbers(&h, &f).await, [1]);
}

#[tokio::test]
async fn a_validator_that_is_not_a_json_schema_refuses_the_deployment() {
    let h = still().await;
    let f = fixture(
        &h,
        None,
        vec![validator(ValidatorType::JsonSchema, "{\"type\": 5}")],
    )
    .await;
    let version = create_version(&h, &f, b"{}").await.unwrap();
    let error = start_refused(
        start(&h, &f, &version.to_string(), ALL_AT_ONCE)
            .await
            .unwrap_err(),
    );
    let message = error.message().unwrap();
    assert!(
        message.contains("JSON_SCHEMA validator 1 is not a valid JSON Schema (draft 4)"),
        "{message}"
    );
    assert!(error.details().is_none());
    assert!(deployment_numbers(&h, &f).await.is_empty());
}

#[tokio::test]
async fn lambda_validators_are_not_run() {
    let h = still().await;
    let f = fixture(&h, None, vec![validator(ValidatorType::Lambda, LAMBDA)]).await;
    let version = create_version(&h, &f, b"not json").await.unwrap();
    let started = start(&h, &f, &version.to_string(), ALL_AT_ONCE)
        .await
        .unwrap();
    assert_eq!(started.state, "DEPLOYING");
}
