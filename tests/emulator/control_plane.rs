//! Control-plane conformance: every AppConfig resource operation, its errors and its pagination,
//! through `aws-sdk-appconfig` over HTTP, plus the emulator-only `/_emulator/` endpoints.

use std::{
    collections::{BTreeMap, HashMap},
    fmt::Debug,
    time::Duration,
};

use appconfig_operator::emulator::{AlarmState, EmulatorConfig, Fault, Quotas, Settings};
use aws_sdk_appconfig::{
    error::{ProvideErrorMetadata, SdkError},
    operation::{
        create_application::CreateApplicationError,
        create_configuration_profile::CreateConfigurationProfileError,
        create_deployment_strategy::CreateDeploymentStrategyError,
        create_environment::CreateEnvironmentError,
        create_hosted_configuration_version::CreateHostedConfigurationVersionError,
        delete_application::DeleteApplicationError,
        delete_configuration_profile::DeleteConfigurationProfileError,
        delete_environment::DeleteEnvironmentError,
        delete_hosted_configuration_version::DeleteHostedConfigurationVersionError,
        get_application::GetApplicationError,
        get_configuration_profile::GetConfigurationProfileError,
        get_deployment::GetDeploymentError,
        get_deployment_strategy::GetDeploymentStrategyError,
        get_environment::GetEnvironmentError,
        get_hosted_configuration_version::GetHostedConfigurationVersionError,
        list_applications::{ListApplicationsError, ListApplicationsOutput},
        list_configuration_profiles::{
            ListConfigurationProfilesError, ListConfigurationProfilesOutput,
        },
        list_deployment_strategies::{
            ListDeploymentStrategiesError, ListDeploymentStrategiesOutput,
        },
        list_deployments::{ListDeploymentsError, ListDeploymentsOutput},
        list_environments::{ListEnvironmentsError, ListEnvironmentsOutput},
        list_hosted_configuration_versions::{
            ListHostedConfigurationVersionsError, ListHostedConfigurationVersionsOutput,
        },
        list_tags_for_resource::ListTagsForResourceError,
        tag_resource::TagResourceError,
    },
    primitives::Blob,
    types::{
        BytesMeasure, DeploymentStrategy, GrowthType, Monitor, ReplicateTo, Validator,
        ValidatorType,
    },
};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::harness::{Fixture, Harness};

const PAGE: i32 = 2;
const ARN_PREFIX: &str = "arn:aws:appconfig:us-east-1:123456789012";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/appconfig-reader";

// ---------------------------------------------------------------------------------------------
// Helpers

/// The modeled error a call failed with, after checking its kind and that its message
/// mentions `named`.
#[track_caller]
fn failure<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E>>,
    is_kind: fn(&E) -> bool,
    named: &str,
) -> E {
    let error = match result {
        Err(SdkError::ServiceError(context)) => context.into_err(),
        other => panic!("expected a service error, got {other:?}"),
    };
    assert!(is_kind(&error), "unexpected error kind: {error:?}");
    let message = error.message().unwrap_or_default();
    assert!(
        message.contains(named),
        "{message:?} does not mention {named:?}"
    );
    error
}

/// The error code and HTTP status of a failed call, for errors the model does not declare.
#[track_caller]
fn code_and_status<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E>>,
) -> (String, u16) {
    let error = result.expect_err("the call fails");
    let status = error
        .raw_response()
        .expect("the emulator answered")
        .status()
        .as_u16();
    (error.code().unwrap_or_default().to_owned(), status)
}

fn is_generated_id(id: &str) -> bool {
    id.len() == 7
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

async fn application(h: &Harness, name: &str) -> String {
    let created = h.appconfig.create_application().name(name).send().await;
    created.unwrap().id.unwrap()
}

async fn environment(h: &Harness, application: &str, name: &str) -> String {
    let created = h
        .appconfig
        .create_environment()
        .application_id(application)
        .name(name)
        .send()
        .await;
    created.unwrap().id.unwrap()
}

/// A hosted profile of type `kind` (the default, AWS.Freeform, when `None`).
async fn profile(h: &Harness, application: &str, name: &str, kind: Option<&str>) -> String {
    let created = h
        .appconfig
        .create_configuration_profile()
        .application_id(application)
        .name(name)
        .location_uri("hosted")
        .set_type(kind.map(str::to_owned))
        .send()
        .await;
    created.unwrap().id.unwrap()
}

/// A LINEAR strategy of `minutes` in 10% steps (one 100% step when 0) without bake time.
async fn strategy(h: &Harness, name: &str, minutes: i32) -> String {
    let created = h
        .appconfig
        .create_deployment_strategy()
        .name(name)
        .deployment_duration_in_minutes(minutes)
        .growth_factor(if minutes == 0 { 100.0 } else { 10.0 })
        .send()
        .await;
    created.unwrap().id.unwrap()
}

fn monitor(alarm: &str, role: Option<&str>) -> Monitor {
    Monitor::builder()
        .alarm_arn(alarm)
        .set_alarm_role_arn(role.map(str::to_owned))
        .build()
        .unwrap()
}

/// The tags ListTagsForResource reports for `arn`.
async fn tags(h: &Harness, arn: &str) -> HashMap<String, String> {
    let listed = h
        .appconfig
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await;
    listed.unwrap().tags.unwrap_or_default()
}

fn tag_map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A harness whose quotas allow two applications, one environment and one profile per
/// application, one custom strategy and 16-byte hosted configurations.
async fn small_quotas() -> Harness {
    let quotas = Quotas {
        applications: 2,
        environments_per_application: 1,
        profiles_per_application: 1,
        deployment_strategies: 1,
        hosted_configuration_bytes: 16,
    };
    Harness::with(EmulatorConfig {
        settings: Settings {
            quotas,
            ..Settings::default()
        },
        ..EmulatorConfig::default()
    })
    .await
}

async fn emulated_now(h: &Harness) -> Timestamp {
    let (status, body) = h.admin("GET", "clock", None).await;
    assert_eq!(status, 200, "{body}");
    body["now"]
        .as_str()
        .expect("now is a string")
        .parse()
        .unwrap()
}

/// A fault answering `status` with error `code`; `count` or `ratio` say how many calls fail.
fn fault(
    operation: &str,
    (status, code): (u16, &str),
    count: Option<u32>,
    ratio: Option<f64>,
) -> Fault {
    Fault {
        operation: operation.into(),
        status,
        code: code.into(),
        count,
        ratio,
    }
}

const INTERNAL: (u16, &str) = (500, "InternalServerException");

/// Adds `fault` through `POST /_emulator/faults`.
async fn post_fault(h: &Harness, fault: Fault) {
    let mut body =
        json!({"operation": fault.operation, "status": fault.status, "code": fault.code});
    if let Some(count) = fault.count {
        body["count"] = count.into();
    }
    if let Some(ratio) = fault.ratio {
        body["ratio"] = ratio.into();
    }
    let (status, answer) = h.admin("POST", "faults", Some(body)).await;
    assert_eq!(status, 204, "{answer}");
}

// ---------------------------------------------------------------------------------------------
// Pagination

/// A List operation's page: the keys of its items in order, and its NextToken.
trait Listing {
    fn keys(&self) -> Vec<String>;
    fn token(&self) -> Option<&str>;
}

macro_rules! listing {
    ($($output:ty => |$item:ident| $key:expr;)*) => {$(
        impl Listing for $output {
            fn keys(&self) -> Vec<String> {
                self.items().iter().map(|$item| $key).collect()
            }
            fn token(&self) -> Option<&str> {
                self.next_token()
            }
        }
    )*};
}

listing! {
    ListApplicationsOutput => |a| a.id().unwrap().to_owned();
    ListEnvironmentsOutput => |e| e.id().unwrap().to_owned();
    ListConfigurationProfilesOutput => |p| p.id().unwrap().to_owned();
    ListHostedConfigurationVersionsOutput => |v| v.version_number.to_string();
    ListDeploymentStrategiesOutput => |s| s.id().unwrap().to_owned();
    ListDeploymentsOutput => |d| d.deployment_number.to_string();
}

/// A page of at most [`PAGE`] items, full whenever it has a NextToken.
fn checked_page<O: Listing>(page: &O) -> Vec<String> {
    let keys = page.keys();
    match page.token() {
        Some(token) => {
            assert_eq!(keys.len(), PAGE as usize, "a page with a token is full");
            assert!(!token.is_empty(), "NextToken is never empty");
        }
        None => assert!(keys.len() <= PAGE as usize, "{keys:?}"),
    }
    keys
}

/// Every key, following NextToken by hand from page to page.
async fn walk<O: Listing>(mut list: impl AsyncFnMut(Option<String>) -> O) -> Vec<String> {
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = list(token).await;
        keys.extend(checked_page(&page));
        match page.token() {
            Some(next) => token = Some(next.to_owned()),
            None => return keys,
        }
    }
}

/// Every key of the pages the SDK paginator fetched.
fn flatten<O: Listing, E: Debug>(pages: Result<Vec<O>, E>) -> Vec<String> {
    let pages = pages.expect("the paginator gets every page");
    assert!(pages.len() > 1, "the listing spans several pages");
    assert!(pages.last().unwrap().token().is_none());
    pages.iter().flat_map(checked_page).collect()
}

/// Lists with pages of two, by hand and with the SDK paginator, expecting exactly `expected`
/// in that order; then checks a made-up NextToken is refused.
macro_rules! assert_paginates {
    ($expected:expr, $list:expr, $is_bad_request:path) => {{
        let expected: Vec<String> = $expected;
        let walked = walk(async |token| {
            $list
                .max_results(PAGE)
                .set_next_token(token)
                .send()
                .await
                .unwrap()
        })
        .await;
        assert_eq!(walked, expected, "walking NextToken by hand");
        let paginated = flatten(
            $list
                .max_results(PAGE)
                .into_paginator()
                .send()
                .try_collect()
                .await,
        );
        assert_eq!(paginated, expected, "the SDK paginator");
        failure(
            $list.next_token("garbage").send().await,
            $is_bad_request,
            "next token",
        );
    }};
}

// ---------------------------------------------------------------------------------------------
// CRUD round trips

#[tokio::test]
async fn applications_round_trip() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let created = c
        .create_application()
        .name("payments")
        .description("Payment service flags")
        .send()
        .await
        .unwrap();
    let id = created.id().unwrap().to_owned();
    assert!(is_generated_id(&id), "{id}");
    assert_eq!(created.name(), Some("payments"));
    assert_eq!(created.description(), Some("Payment service flags"));

    let get = || c.get_application().application_id(&id).send();
    let delete = || c.delete_application().application_id(&id).send();
    let got = get().await.unwrap();
    assert_eq!(
        (got.id(), got.name(), got.description()),
        (
            Some(id.as_str()),
            Some("payments"),
            Some("Payment service flags")
        )
    );
    let other = application(&h, "search").await;
    let listed = c.list_applications().send().await.unwrap();
    let names: Vec<_> = listed.items().iter().map(|a| (a.id(), a.name())).collect();
    assert_eq!(
        names,
        [
            (Some(id.as_str()), Some("payments")),
            (Some(other.as_str()), Some("search"))
        ]
    );
    assert!(listed.next_token().is_none());

    delete().await.unwrap();
    failure(
        get().await,
        GetApplicationError::is_resource_not_found_exception,
        &id,
    );
    failure(
        delete().await,
        DeleteApplicationError::is_resource_not_found_exception,
        &id,
    );
    let left = c.list_applications().send().await.unwrap();
    assert_eq!(left.items().len(), 1);
    assert_eq!(left.items()[0].id(), Some(other.as_str()));
}

#[tokio::test]
async fn environments_round_trip_with_monitors() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let app = application(&h, "app").await;
    let monitors = vec![
        monitor(
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors",
            None,
        ),
        monitor(
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:latency",
            Some(ROLE_ARN),
        ),
    ];
    let created = c
        .create_environment()
        .application_id(&app)
        .name("prod")
        .description("Production")
        .set_monitors(Some(monitors.clone()))
        .send()
        .await
        .unwrap();
    let id = created.id().unwrap().to_owned();
    assert!(is_generated_id(&id), "{id}");
    assert_eq!(created.application_id(), Some(app.as_str()));
    assert_eq!(created.state().unwrap().as_str(), "ReadyForDeployment");
    assert_eq!(created.monitors(), monitors.as_slice());

    let get = || {
        c.get_environment()
            .application_id(&app)
            .environment_id(&id)
            .send()
    };
    let got = get().await.unwrap();
    assert_eq!(got.name(), Some("prod"));
    assert_eq!(got.description(), Some("Production"));
    assert_eq!(got.state().unwrap().as_str(), "ReadyForDeployment");
    assert_eq!(got.monitors(), monitors.as_slice());

    let staging = environment(&h, &app, "staging").await;
    let listed = c
        .list_environments()
        .application_id(&app)
        .send()
        .await
        .unwrap();
    let items: Vec<_> = listed
        .items()
        .iter()
        .map(|e| (e.id().unwrap(), e.name().unwrap(), e.monitors().len()))
        .collect();
    assert_eq!(
        items,
        [(id.as_str(), "prod", 2), (staging.as_str(), "staging", 0)]
    );
    assert!(
        listed
            .items()
            .iter()
            .all(|e| e.state().unwrap().as_str() == "ReadyForDeployment")
    );

    c.delete_environment()
        .application_id(&app)
        .environment_id(&id)
        .send()
        .await
        .unwrap();
    failure(
        get().await,
        GetEnvironmentError::is_resource_not_found_exception,
        &id,
    );
    let left = c.list_environments().application_id(&app).send().await;
    assert_eq!(left.unwrap().items().len(), 1);
}

#[tokio::test]
async fn configuration_profiles_round_trip_and_filter_by_type() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let app = application(&h, "app").await;
    let validators = vec![
        Validator::builder()
            .r#type(ValidatorType::JsonSchema)
            .content(r#"{"type":"object"}"#)
            .build()
            .unwrap(),
        Validator::builder()
            .r#type(ValidatorType::Lambda)
            .content("arn:aws:lambda:us-east-1:123456789012:function:check")
            .build()
            .unwrap(),
    ];
    let flags = c
        .create_configuration_profile()
        .application_id(&app)
        .name("flags")
        .description("Feature flags")
        .location_uri("hosted")
        .retrieval_role_arn(ROLE_ARN)
        .r#type("AWS.AppConfig.FeatureFlags")
        .set_validators(Some(validators.clone()))
        .send()
        .await
        .unwrap();
    let flags_id = flags.id().unwrap().to_owned();
    assert!(is_generated_id(&flags_id), "{flags_id}");
    let freeform = profile(&h, &app, "settings", None).await;

    let get = |id: &str| {
        c.get_configuration_profile()
            .application_id(&app)
            .configuration_profile_id(id)
            .send()
    };
    let delete = || {
        c.delete_configuration_profile()
            .application_id(&app)
            .configuration_profile_id(&flags_id)
            .send()
    };
    let got = get(&flags_id).await.unwrap();
    assert_eq!(got.application_id(), Some(app.as_str()));
    assert_eq!(got.name(), Some("flags"));
    assert_eq!(got.description(), Some("Feature flags"));
    assert_eq!(got.location_uri(), Some("hosted"));
    assert_eq!(got.retrieval_role_arn(), Some(ROLE_ARN));
    assert_eq!(got.r#type(), Some("AWS.AppConfig.FeatureFlags"));
    assert_eq!(got.validators(), validators.as_slice());
    let default_type = get(&freeform).await.unwrap();
    assert_eq!(default_type.r#type(), Some("AWS.Freeform"));
    assert!(default_type.validators().is_empty());

    let listed = c
        .list_configuration_profiles()
        .application_id(&app)
        .send()
        .await
        .unwrap();
    let summaries: Vec<_> = listed
        .items()
        .iter()
        .map(|p| {
            (
                p.id().unwrap(),
                p.name().unwrap(),
                p.r#type().unwrap(),
                p.location_uri().unwrap(),
                p.validator_types().to_vec(),
            )
        })
        .collect();
    assert_eq!(
        summaries,
        [
            (
                flags_id.as_str(),
                "flags",
                "AWS.AppConfig.FeatureFlags",
                "hosted",
                vec![ValidatorType::JsonSchema, ValidatorType::Lambda]
            ),
            (
                freeform.as_str(),
                "settings",
                "AWS.Freeform",
                "hosted",
                vec![]
            ),
        ]
    );
    for (kind, expected) in [
        ("AWS.AppConfig.FeatureFlags", vec![flags_id.clone()]),
        ("AWS.Freeform", vec![freeform.clone()]),
        ("AWS.Other", vec![]),
    ] {
        let filtered = c
            .list_configuration_profiles()
            .application_id(&app)
            .r#type(kind)
            .send()
            .await
            .unwrap();
        let ids: Vec<_> = filtered.items().iter().map(|p| p.id().unwrap()).collect();
        assert_eq!(ids, expected, "type {kind}");
    }

    delete().await.unwrap();
    failure(
        get(&flags_id).await,
        GetConfigurationProfileError::is_resource_not_found_exception,
        &flags_id,
    );
    failure(
        delete().await,
        DeleteConfigurationProfileError::is_resource_not_found_exception,
        &flags_id,
    );
}

#[tokio::test]
async fn hosted_versions_round_trip_content_and_headers() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let app = application(&h, "app").await;
    let prof = profile(&h, &app, "settings", None).await;
    let created = c
        .create_hosted_configuration_version()
        .application_id(&app)
        .configuration_profile_id(&prof)
        .content(Blob::new("retries: 3\n"))
        .content_type("application/x-yaml")
        .description("First cut")
        .version_label("v1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(created.version_number, 1);
    assert_eq!(created.application_id(), Some(app.as_str()));
    assert_eq!(created.configuration_profile_id(), Some(prof.as_str()));
    assert_eq!(created.content().unwrap().as_ref(), b"retries: 3\n");
    assert_eq!(created.content_type(), Some("application/x-yaml"));
    assert_eq!(created.description(), Some("First cut"));
    assert_eq!(created.version_label(), Some("v1.0"));

    let got = c
        .get_hosted_configuration_version()
        .application_id(&app)
        .configuration_profile_id(&prof)
        .version_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.version_number, 1);
    assert_eq!(got.content().unwrap().as_ref(), b"retries: 3\n");
    assert_eq!(got.content_type(), Some("application/x-yaml"));
    assert_eq!(got.description(), Some("First cut"));
    assert_eq!(got.version_label(), Some("v1.0"));

    let unlabelled = c
        .create_hosted_configuration_version()
        .application_id(&app)
        .configuration_profile_id(&prof)
        .content(Blob::new(vec![0u8, 159, 255]))
        .content_type("application/octet-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(unlabelled.version_number, 2);
    assert_eq!(unlabelled.content().unwrap().as_ref(), [0u8, 159, 255]);
    assert_eq!(unlabelled.description(), None);
    assert_eq!(unlabelled.version_label(), None);

    let listed = c
        .list_hosted_configuration_versions()
        .application_id(&app)
        .configuration_profile_id(&prof)
        .send()
        .await
        .unwrap();
    let summaries: Vec<_> = listed
        .items()
        .iter()
        .map(|v| {
            (
                v.version_number,
                v.application_id().unwrap(),
                v.configuration_profile_id().unwrap(),
                v.content_type().unwrap(),
                v.description(),
                v.version_label(),
            )
        })
        .collect();
    assert_eq!(
        summaries,
        [
            (
                2,
                app.as_str(),
                prof.as_str(),
                "application/octet-stream",
                None,
                None
            ),
            (
                1,
                app.as_str(),
                prof.as_str(),
                "application/x-yaml",
                Some("First cut"),
                Some("v1.0")
            ),
        ]
    );
}

/// The version numbers ListHostedConfigurationVersions reports, optionally filtered by label.
async fn version_numbers(h: &Harness, f: &Fixture, label: Option<&str>) -> Vec<i32> {
    let listed = h
        .appconfig
        .list_hosted_configuration_versions()
        .application_id(&f.application)
        .configuration_profile_id(&f.profile)
        .set_version_label(label.map(str::to_owned))
        .send()
        .await
        .unwrap();
    listed.items().iter().map(|v| v.version_number).collect()
}

#[tokio::test]
async fn hosted_version_numbers_are_never_reused_and_labels_filter() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let f = h.fixture(&[], "{}").await;
    assert_eq!(h.version(&f, "{}", Some("v1.1")).await, 2);
    assert_eq!(h.version(&f, "{}", Some("v2.0")).await, 3);
    let delete = || {
        c.delete_hosted_configuration_version()
            .application_id(&f.application)
            .configuration_profile_id(&f.profile)
            .version_number(3)
            .send()
    };
    delete().await.unwrap();
    failure(
        delete().await,
        DeleteHostedConfigurationVersionError::is_resource_not_found_exception,
        "version 3",
    );
    assert_eq!(h.version(&f, "{}", Some("v1.2")).await, 4);
    assert_eq!(h.version(&f, "{}", Some("beta")).await, 5);

    assert_eq!(version_numbers(&h, &f, None).await, [5, 4, 2, 1]);
    assert_eq!(version_numbers(&h, &f, Some("v1.1")).await, [2]);
    assert_eq!(version_numbers(&h, &f, Some("v1*")).await, [4, 2]);
    assert_eq!(version_numbers(&h, &f, Some("v*")).await, [4, 2]);
    assert_eq!(version_numbers(&h, &f, Some("*")).await, [5, 4, 2]);
    assert_eq!(version_numbers(&h, &f, Some("v1")).await, Vec::<i32>::new());
    assert_eq!(
        version_numbers(&h, &f, Some("v2.0")).await,
        Vec::<i32>::new()
    );
}

/// Id, name, description, duration, growth type, growth factor, bake time, replication.
type StrategyRow<'a> = (&'a str, &'a str, &'a str, i32, &'a str, f32, i32, &'a str);

fn strategy_row(s: &DeploymentStrategy) -> StrategyRow<'_> {
    (
        s.id().unwrap(),
        s.name().unwrap(),
        s.description().unwrap_or_default(),
        s.deployment_duration_in_minutes,
        s.growth_type().unwrap().as_str(),
        s.growth_factor.unwrap(),
        s.final_bake_time_in_minutes,
        s.replicate_to().unwrap().as_str(),
    )
}

/// §6 of the reference.
const PREDEFINED: [StrategyRow<'static>; 4] = [
    (
        "AppConfig.AllAtOnce",
        "AppConfig.AllAtOnce",
        "Quick",
        0,
        "LINEAR",
        100.0,
        10,
        "NONE",
    ),
    (
        "AppConfig.Linear50PercentEvery30Seconds",
        "AppConfig.Linear50PercentEvery30Seconds",
        "Test/Demo",
        1,
        "LINEAR",
        50.0,
        1,
        "NONE",
    ),
    (
        "AppConfig.Canary10Percent20Minutes",
        "AppConfig.Canary10Percent20Minutes",
        "AWS Recommended",
        20,
        "EXPONENTIAL",
        10.0,
        10,
        "NONE",
    ),
    (
        "AppConfig.Linear20PercentEvery6Minutes",
        "AppConfig.Linear20PercentEvery6Minutes",
        "AWS Recommended",
        30,
        "LINEAR",
        20.0,
        30,
        "NONE",
    ),
];

#[tokio::test]
async fn deployment_strategies_default_round_trip_and_list_after_custom_ones() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let minimal = c
        .create_deployment_strategy()
        .name("minimal")
        .deployment_duration_in_minutes(15)
        .growth_factor(25.0)
        .send()
        .await
        .unwrap();
    let minimal_id = minimal.id().unwrap().to_owned();
    assert!(is_generated_id(&minimal_id), "{minimal_id}");
    assert_eq!(minimal.growth_type(), Some(&GrowthType::Linear));
    assert_eq!(minimal.final_bake_time_in_minutes, 0);
    assert_eq!(minimal.replicate_to(), Some(&ReplicateTo::None));

    let full = c
        .create_deployment_strategy()
        .name("full")
        .description("Exponential with bake")
        .deployment_duration_in_minutes(40)
        .final_bake_time_in_minutes(5)
        .growth_factor(12.5)
        .growth_type(GrowthType::Exponential)
        .replicate_to(ReplicateTo::SsmDocument)
        .send()
        .await
        .unwrap();
    let full_id = full.id().unwrap().to_owned();
    let got = c
        .get_deployment_strategy()
        .deployment_strategy_id(&full_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            got.id(),
            got.name(),
            got.description(),
            got.deployment_duration_in_minutes,
            got.growth_type(),
            got.growth_factor,
            got.final_bake_time_in_minutes,
            got.replicate_to()
        ),
        (
            Some(full_id.as_str()),
            Some("full"),
            Some("Exponential with bake"),
            40,
            Some(&GrowthType::Exponential),
            Some(12.5),
            5,
            Some(&ReplicateTo::SsmDocument)
        )
    );

    let listed = c.list_deployment_strategies().send().await.unwrap();
    let rows: Vec<_> = listed.items().iter().map(strategy_row).collect();
    let mut expected = vec![
        (
            minimal_id.as_str(),
            "minimal",
            "",
            15,
            "LINEAR",
            25.0,
            0,
            "NONE",
        ),
        (
            full_id.as_str(),
            "full",
            "Exponential with bake",
            40,
            "EXPONENTIAL",
            12.5,
            5,
            "SSM_DOCUMENT",
        ),
    ];
    expected.extend(PREDEFINED);
    assert_eq!(rows, expected);

    let canary = c
        .get_deployment_strategy()
        .deployment_strategy_id("AppConfig.Canary10Percent20Minutes")
        .send()
        .await
        .unwrap();
    assert_eq!(canary.growth_type(), Some(&GrowthType::Exponential));
    assert_eq!(canary.deployment_duration_in_minutes, 20);
    assert_eq!(canary.final_bake_time_in_minutes, 10);
}

// ---------------------------------------------------------------------------------------------
// Tags

/// Tags `arn`, reads the tags back, removes one and reads again.
async fn assert_taggable(h: &Harness, arn: &str) {
    let before = tags(h, arn).await;
    h.appconfig
        .tag_resource()
        .resource_arn(arn)
        .tags("team", "core")
        .tags("tier", "1")
        .send()
        .await
        .unwrap_or_else(|e| panic!("tagging {arn}: {e:?}"));
    let mut expected = before.clone();
    expected.extend(tag_map(&[("team", "core"), ("tier", "1")]));
    assert_eq!(tags(h, arn).await, expected, "{arn}");
    h.appconfig
        .untag_resource()
        .resource_arn(arn)
        .tag_keys("tier")
        .send()
        .await
        .unwrap();
    expected.remove("tier");
    assert_eq!(tags(h, arn).await, expected, "{arn}");
}

#[tokio::test]
async fn every_resource_kind_is_tagged_by_arn() {
    let h = Harness::start().await;
    let f = h.fixture(&[], "{}").await;
    let custom = strategy(&h, "instant", 0).await;
    let number = h.deploy(&f, "1", &custom).await;
    let application = format!("{ARN_PREFIX}:application/{}", f.application);
    for arn in [
        application.clone(),
        format!("{application}/environment/{}", f.environment),
        format!("{application}/configurationprofile/{}", f.profile),
        format!(
            "{application}/environment/{}/deployment/{number}",
            f.environment
        ),
        format!("{ARN_PREFIX}:deploymentstrategy/{custom}"),
    ] {
        assert!(tags(&h, &arn).await.is_empty(), "{arn}");
        assert_taggable(&h, &arn).await;
    }
}

#[tokio::test]
async fn tags_given_at_creation_are_listed() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let app = c
        .create_application()
        .name("app")
        .tags("owner", "payments")
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let env = c
        .create_environment()
        .application_id(&app)
        .name("env")
        .tags("stage", "prod")
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let strategy = c
        .create_deployment_strategy()
        .name("slow")
        .deployment_duration_in_minutes(10)
        .growth_factor(10.0)
        .tags("speed", "slow")
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let application = format!("{ARN_PREFIX}:application/{app}");
    assert_eq!(
        tags(&h, &application).await,
        tag_map(&[("owner", "payments")])
    );
    assert_eq!(
        tags(&h, &format!("{application}/environment/{env}")).await,
        tag_map(&[("stage", "prod")])
    );
    let strategy_arn = format!("{ARN_PREFIX}:deploymentstrategy/{strategy}");
    assert_eq!(tags(&h, &strategy_arn).await, tag_map(&[("speed", "slow")]));
    assert_taggable(&h, &application).await;
}

#[tokio::test]
async fn tagging_unknown_or_foreign_resources_fails() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let missing = format!("{ARN_PREFIX}:application/zzzz999");
    failure(
        c.list_tags_for_resource()
            .resource_arn(&missing)
            .send()
            .await,
        ListTagsForResourceError::is_resource_not_found_exception,
        &missing,
    );
    failure(
        c.tag_resource()
            .resource_arn(&missing)
            .tags("a", "b")
            .send()
            .await,
        TagResourceError::is_resource_not_found_exception,
        &missing,
    );
    let app = application(&h, "app").await;
    let other_region = format!("arn:aws:appconfig:eu-west-1:123456789012:application/{app}");
    failure(
        c.list_tags_for_resource()
            .resource_arn(&other_region)
            .send()
            .await,
        ListTagsForResourceError::is_resource_not_found_exception,
        "us-east-1",
    );
    failure(
        c.list_tags_for_resource()
            .resource_arn("arn:aws:s3:::bucket")
            .send()
            .await,
        ListTagsForResourceError::is_bad_request_exception,
        "arn:aws:s3:::bucket",
    );
}

// ---------------------------------------------------------------------------------------------
// Errors

#[tokio::test]
async fn unknown_resources_are_not_found_and_named() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let f = h.fixture(&[], "{}").await;
    let missing = "zzzz999";
    let error = failure(
        c.get_application().application_id(missing).send().await,
        GetApplicationError::is_resource_not_found_exception,
        "Application with Id zzzz999",
    );
    let GetApplicationError::ResourceNotFoundException(error) = error else {
        unreachable!()
    };
    assert_eq!(error.resource_name(), Some("Application"));
    failure(
        c.create_environment()
            .application_id(missing)
            .name("env")
            .send()
            .await,
        CreateEnvironmentError::is_resource_not_found_exception,
        "Application with Id zzzz999",
    );
    failure(
        c.list_configuration_profiles()
            .application_id(missing)
            .send()
            .await,
        ListConfigurationProfilesError::is_resource_not_found_exception,
        "Application with Id zzzz999",
    );
    failure(
        c.get_environment()
            .application_id(&f.application)
            .environment_id(missing)
            .send()
            .await,
        GetEnvironmentError::is_resource_not_found_exception,
        "Environment with Id zzzz999",
    );
    failure(
        c.get_configuration_profile()
            .application_id(&f.application)
            .configuration_profile_id(missing)
            .send()
            .await,
        GetConfigurationProfileError::is_resource_not_found_exception,
        "ConfigurationProfile with Id zzzz999",
    );
    failure(
        c.create_hosted_configuration_version()
            .application_id(&f.application)
            .configuration_profile_id(missing)
            .content_type("application/json")
            .content(Blob::new("{}"))
            .send()
            .await,
        CreateHostedConfigurationVersionError::is_resource_not_found_exception,
        "ConfigurationProfile with Id zzzz999",
    );
    failure(
        c.get_hosted_configuration_version()
            .application_id(&f.application)
            .configuration_profile_id(&f.profile)
            .version_number(99)
            .send()
            .await,
        GetHostedConfigurationVersionError::is_resource_not_found_exception,
        "version 99",
    );
    for strategy in [missing, "AppConfig.NoSuchStrategy"] {
        failure(
            c.get_deployment_strategy()
                .deployment_strategy_id(strategy)
                .send()
                .await,
            GetDeploymentStrategyError::is_resource_not_found_exception,
            &format!("DeploymentStrategy with Id {strategy}"),
        );
    }
    failure(
        c.get_deployment()
            .application_id(&f.application)
            .environment_id(&f.environment)
            .deployment_number(7)
            .send()
            .await,
        GetDeploymentError::is_resource_not_found_exception,
        "Deployment number 7",
    );
}

#[tokio::test]
async fn resources_are_looked_up_under_their_own_application() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let f = h.fixture(&[], "{}").await;
    let other = application(&h, "other").await;
    let named = format!("Environment with Id {}", f.environment);
    let get_environment = |application: &str| {
        c.get_environment()
            .application_id(application)
            .environment_id(&f.environment)
            .send()
    };
    failure(
        get_environment(&other).await,
        GetEnvironmentError::is_resource_not_found_exception,
        &named,
    );
    failure(
        c.list_deployments()
            .application_id(&other)
            .environment_id(&f.environment)
            .send()
            .await,
        ListDeploymentsError::is_resource_not_found_exception,
        &named,
    );
    failure(
        c.get_configuration_profile()
            .application_id(&other)
            .configuration_profile_id(&f.profile)
            .send()
            .await,
        GetConfigurationProfileError::is_resource_not_found_exception,
        &f.profile,
    );
    assert!(get_environment(&f.application).await.is_ok());
}

#[tokio::test]
async fn names_and_descriptions_are_validated() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let long = |n: usize| "x".repeat(n);
    for (name, member) in [(String::new(), "'name'"), (long(65), "'name'")] {
        failure(
            c.create_application().name(&name).send().await,
            CreateApplicationError::is_bad_request_exception,
            member,
        );
    }
    failure(
        c.create_application().send().await,
        CreateApplicationError::is_bad_request_exception,
        "'name' failed to satisfy constraint: Member must not be null",
    );
    failure(
        c.create_application()
            .name("app")
            .description(long(1025))
            .send()
            .await,
        CreateApplicationError::is_bad_request_exception,
        "'description'",
    );
    let too_many_tags: HashMap<String, String> =
        (0..51).map(|i| (format!("k{i}"), String::new())).collect();
    failure(
        c.create_application()
            .name("app")
            .set_tags(Some(too_many_tags))
            .send()
            .await,
        CreateApplicationError::is_bad_request_exception,
        "'tags'",
    );
    let app = c
        .create_application()
        .name(long(64))
        .description(long(1024))
        .send()
        .await
        .expect("the longest name and description are accepted")
        .id
        .unwrap();

    failure(
        c.create_environment()
            .application_id(&app)
            .name("")
            .send()
            .await,
        CreateEnvironmentError::is_bad_request_exception,
        "'name'",
    );
    failure(
        c.create_configuration_profile()
            .application_id(&app)
            .name(long(129))
            .location_uri("hosted")
            .send()
            .await,
        CreateConfigurationProfileError::is_bad_request_exception,
        "'name'",
    );
    profile(&h, &app, &long(128), None).await;
    failure(
        c.create_configuration_profile()
            .application_id(&app)
            .name("p")
            .location_uri("hosted")
            .retrieval_role_arn("arn:aws:iam::123:role/reader")
            .send()
            .await,
        CreateConfigurationProfileError::is_bad_request_exception,
        "'retrievalRoleArn'",
    );
    failure(
        c.create_deployment_strategy()
            .name("")
            .deployment_duration_in_minutes(1)
            .growth_factor(10.0)
            .send()
            .await,
        CreateDeploymentStrategyError::is_bad_request_exception,
        "'name'",
    );
}

#[tokio::test]
async fn environment_monitors_are_limited_to_five() {
    let h = Harness::start().await;
    let app = application(&h, "app").await;
    let arns: Vec<String> = (1..=6)
        .map(|i| format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a{i}"))
        .collect();
    let create = |count: usize| {
        h.appconfig
            .create_environment()
            .application_id(&app)
            .name("env")
            .set_monitors(Some(
                arns[..count].iter().map(|a| monitor(a, None)).collect(),
            ))
            .send()
    };
    failure(
        create(6).await,
        CreateEnvironmentError::is_bad_request_exception,
        "'monitors'",
    );
    assert_eq!(create(5).await.unwrap().monitors().len(), 5);
    failure(
        h.appconfig
            .create_environment()
            .application_id(&app)
            .name("env")
            .monitors(monitor("arn:alarm", Some("not-a-role-arn-at-all")))
            .send()
            .await,
        CreateEnvironmentError::is_bad_request_exception,
        "alarmRoleArn",
    );
}

#[tokio::test]
async fn deployment_strategy_numbers_and_enums_are_validated() {
    let h = Harness::start().await;
    let create = |duration: i32, factor: f32, growth: GrowthType| {
        h.appconfig
            .create_deployment_strategy()
            .name("s")
            .deployment_duration_in_minutes(duration)
            .growth_factor(factor)
            .growth_type(growth)
            .send()
    };
    for (duration, factor, growth, member) in [
        (10, 0.5, GrowthType::Linear, "'growthFactor'"),
        (10, 100.5, GrowthType::Linear, "'growthFactor'"),
        (
            1441,
            10.0,
            GrowthType::Linear,
            "'deploymentDurationInMinutes'",
        ),
        (
            -1,
            10.0,
            GrowthType::Linear,
            "'deploymentDurationInMinutes'",
        ),
        (10, 10.0, GrowthType::from("SIDEWAYS"), "'growthType'"),
    ] {
        failure(
            create(duration, factor, growth).await,
            CreateDeploymentStrategyError::is_bad_request_exception,
            member,
        );
    }
    for (duration, factor) in [(0, 1.0), (1440, 100.0)] {
        let accepted = create(duration, factor, GrowthType::Exponential).await;
        assert!(accepted.is_ok(), "{duration} minutes, {factor}%");
    }
    failure(
        h.appconfig
            .create_deployment_strategy()
            .name("s")
            .deployment_duration_in_minutes(10)
            .growth_factor(10.0)
            .final_bake_time_in_minutes(1441)
            .send()
            .await,
        CreateDeploymentStrategyError::is_bad_request_exception,
        "'finalBakeTimeInMinutes'",
    );
    let error = failure(
        h.appconfig
            .create_deployment_strategy()
            .name("s")
            .send()
            .await,
        CreateDeploymentStrategyError::is_bad_request_exception,
        "2 validation errors",
    );
    let message = error.message().unwrap();
    assert!(
        message.contains("'deploymentDurationInMinutes'") && message.contains("'growthFactor'"),
        "{message}"
    );
}

#[tokio::test]
async fn hosted_version_labels_and_page_sizes_are_validated() {
    let h = Harness::start().await;
    let f = h.fixture(&[], "{}").await;
    failure(
        h.appconfig
            .create_hosted_configuration_version()
            .application_id(&f.application)
            .configuration_profile_id(&f.profile)
            .content_type("application/json")
            .version_label("123")
            .content(Blob::new("{}"))
            .send()
            .await,
        CreateHostedConfigurationVersionError::is_bad_request_exception,
        "'versionLabel'",
    );
    assert_eq!(h.version(&f, "{}", Some("123a")).await, 2);
    for size in [0, 51] {
        failure(
            h.appconfig
                .list_applications()
                .max_results(size)
                .send()
                .await,
            ListApplicationsError::is_bad_request_exception,
            "'maxResults'",
        );
        failure(
            h.appconfig
                .list_deployments()
                .application_id(&f.application)
                .environment_id(&f.environment)
                .max_results(size)
                .send()
                .await,
            ListDeploymentsError::is_bad_request_exception,
            "'maxResults'",
        );
    }
    let fifty = h.appconfig.list_applications().max_results(50).send().await;
    assert_eq!(fifty.unwrap().items().len(), 1);
}

#[tokio::test]
async fn profiles_and_hosted_version_headers_are_validated() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let f = h.fixture(&[], "{}").await;
    let validator = Validator::builder()
        .r#type(ValidatorType::JsonSchema)
        .content("{}")
        .build()
        .unwrap();
    failure(
        c.create_configuration_profile()
            .application_id(&f.application)
            .name("p")
            .location_uri("hosted")
            .set_validators(Some(vec![validator; 3]))
            .send()
            .await,
        CreateConfigurationProfileError::is_bad_request_exception,
        "'validators'",
    );
    failure(
        c.create_configuration_profile()
            .application_id(&f.application)
            .name("p")
            .send()
            .await,
        CreateConfigurationProfileError::is_bad_request_exception,
        "'locationUri'",
    );
    failure(
        c.list_configuration_profiles()
            .application_id(&f.application)
            .r#type("1Freeform")
            .send()
            .await,
        ListConfigurationProfilesError::is_bad_request_exception,
        "'type'",
    );
    let create = |description: String, label: String| {
        c.create_hosted_configuration_version()
            .application_id(&f.application)
            .configuration_profile_id(&f.profile)
            .content_type("application/json")
            .description(description)
            .version_label(label)
            .content(Blob::new("{}"))
            .send()
    };
    failure(
        create("d".repeat(1025), "v".into()).await,
        CreateHostedConfigurationVersionError::is_bad_request_exception,
        "'description'",
    );
    failure(
        create("d".into(), "v".repeat(65)).await,
        CreateHostedConfigurationVersionError::is_bad_request_exception,
        "'versionLabel'",
    );
    let longest = create("d".repeat(1024), "v".repeat(64)).await.unwrap();
    assert_eq!(longest.version_label().map(str::len), Some(64));
    failure(
        c.list_hosted_configuration_versions()
            .application_id(&f.application)
            .configuration_profile_id(&f.profile)
            .version_label("v".repeat(65))
            .send()
            .await,
        ListHostedConfigurationVersionsError::is_bad_request_exception,
        "'versionLabel'",
    );
}

#[tokio::test]
async fn only_hosted_profiles_take_hosted_versions() {
    let h = Harness::start().await;
    let app = application(&h, "app").await;
    let parameter = h
        .appconfig
        .create_configuration_profile()
        .application_id(&app)
        .name("from-ssm")
        .location_uri("ssm-parameter://flags")
        .retrieval_role_arn(ROLE_ARN)
        .send()
        .await
        .unwrap();
    assert_eq!(parameter.location_uri(), Some("ssm-parameter://flags"));
    let profile = parameter.id.unwrap();
    failure(
        h.appconfig
            .create_hosted_configuration_version()
            .application_id(&app)
            .configuration_profile_id(&profile)
            .content_type("application/json")
            .content(Blob::new("{}"))
            .send()
            .await,
        CreateHostedConfigurationVersionError::is_bad_request_exception,
        "ssm-parameter://flags",
    );
}

/// Creates the next hosted version of the fixture's profile with `content`, under the
/// `Latest-Version-Number` lock when given.
async fn create_version(
    h: &Harness,
    f: &Fixture,
    content: &str,
    latest: Option<i32>,
) -> Result<i32, CreateHostedConfigurationVersionError> {
    h.appconfig
        .create_hosted_configuration_version()
        .application_id(&f.application)
        .configuration_profile_id(&f.profile)
        .content_type("application/json")
        .set_latest_version_number(latest)
        .content(Blob::new(content.as_bytes()))
        .send()
        .await
        .map(|created| created.version_number)
        .map_err(SdkError::into_service_error)
}

#[tokio::test]
async fn latest_version_number_mismatch_conflicts() {
    let h = Harness::start().await;
    let f = h.fixture(&[], "{}").await;
    for stale in [0, 2] {
        let error = create_version(&h, &f, "{}", Some(stale)).await.unwrap_err();
        assert!(error.is_conflict_exception(), "{error:?}");
        let message = error.message().unwrap();
        assert!(message.contains(&f.profile), "{message}");
    }
    assert_eq!(create_version(&h, &f, "{}", Some(1)).await.unwrap(), 2);
    assert_eq!(create_version(&h, &f, "{}", None).await.unwrap(), 3);
}

#[tokio::test]
async fn quotas_refuse_with_service_quota_exceeded() {
    let h = small_quotas().await;
    let c = &h.appconfig;
    let f = h.fixture(&[], "{}").await;
    let second = application(&h, "second").await;
    failure(
        c.create_application().name("third").send().await,
        CreateApplicationError::is_service_quota_exceeded_exception,
        "applications is limited to 2",
    );
    c.delete_application()
        .application_id(&second)
        .send()
        .await
        .unwrap();
    application(&h, "third").await;

    failure(
        c.create_environment()
            .application_id(&f.application)
            .name("second")
            .send()
            .await,
        CreateEnvironmentError::is_service_quota_exceeded_exception,
        "environments per application is limited to 1",
    );
    failure(
        c.create_configuration_profile()
            .application_id(&f.application)
            .name("second")
            .location_uri("hosted")
            .send()
            .await,
        CreateConfigurationProfileError::is_service_quota_exceeded_exception,
        "configuration profiles per application is limited to 1",
    );
    strategy(&h, "first", 10).await;
    failure(
        c.create_deployment_strategy()
            .name("second")
            .deployment_duration_in_minutes(10)
            .growth_factor(10.0)
            .send()
            .await,
        CreateDeploymentStrategyError::is_service_quota_exceeded_exception,
        "deployment strategies is limited to 1",
    );
}

#[tokio::test]
async fn oversized_hosted_content_is_too_large() {
    let h = small_quotas().await;
    let f = h.fixture(&[], "{}").await;
    assert_eq!(
        create_version(&h, &f, &"x".repeat(16), None).await.unwrap(),
        2
    );
    let error = create_version(&h, &f, &"x".repeat(17), None)
        .await
        .unwrap_err();
    let CreateHostedConfigurationVersionError::PayloadTooLargeException(error) = error else {
        panic!("expected PayloadTooLargeException, got {error:?}");
    };
    assert!(error.message().unwrap().contains("17 bytes"), "{error:?}");
    assert_eq!(error.measure(), Some(&BytesMeasure::Kilobytes));
    assert_eq!(error.limit, 16.0 / 1024.0);
    assert_eq!(error.size, 17.0 / 1024.0);
    assert_eq!(version_numbers(&h, &f, None).await, [2, 1]);
}

#[tokio::test]
async fn environments_and_profiles_in_use_cannot_be_deleted() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let f = h.fixture(&[], "{}").await;
    let hour = strategy(&h, "hour", 60).await;
    let number = h.deploy(&f, "1", &hour).await;
    let delete_environment = || {
        c.delete_environment()
            .application_id(&f.application)
            .environment_id(&f.environment)
            .send()
    };
    let delete_profile = || {
        c.delete_configuration_profile()
            .application_id(&f.application)
            .configuration_profile_id(&f.profile)
            .send()
    };
    let in_progress = format!("deployment number {number} is in progress");
    failure(
        delete_environment().await,
        DeleteEnvironmentError::is_conflict_exception,
        &in_progress,
    );
    failure(
        delete_profile().await,
        DeleteConfigurationProfileError::is_conflict_exception,
        &in_progress,
    );
    h.advance(Duration::from_secs(3600));
    assert_eq!(
        h.deployment(&f, number).await.state().unwrap().as_str(),
        "COMPLETE"
    );
    delete_environment()
        .await
        .expect("a finished deployment no longer blocks the delete");
    failure(
        delete_profile().await,
        DeleteConfigurationProfileError::is_bad_request_exception,
        "still hosted configuration versions",
    );
    c.delete_hosted_configuration_version()
        .application_id(&f.application)
        .configuration_profile_id(&f.profile)
        .version_number(1)
        .send()
        .await
        .unwrap();
    delete_profile().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Pagination of every List operation

#[tokio::test]
async fn list_applications_paginates() {
    let h = Harness::start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(application(&h, &format!("app{i}")).await);
    }
    assert_paginates!(
        ids,
        h.appconfig.list_applications(),
        ListApplicationsError::is_bad_request_exception
    );
}

#[tokio::test]
async fn list_environments_paginates() {
    let h = Harness::start().await;
    let app = application(&h, "app").await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(environment(&h, &app, &format!("env{i}")).await);
    }
    assert_paginates!(
        ids,
        h.appconfig.list_environments().application_id(&app),
        ListEnvironmentsError::is_bad_request_exception
    );
}

#[tokio::test]
async fn list_configuration_profiles_paginates() {
    let h = Harness::start().await;
    let app = application(&h, "app").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let kind = (i % 2 == 0).then_some("AWS.AppConfig.FeatureFlags");
        ids.push(profile(&h, &app, &format!("p{i}"), kind).await);
    }
    assert_paginates!(
        ids.clone(),
        h.appconfig
            .list_configuration_profiles()
            .application_id(&app),
        ListConfigurationProfilesError::is_bad_request_exception
    );
    let flags = vec![ids[0].clone(), ids[2].clone(), ids[4].clone()];
    assert_paginates!(
        flags,
        h.appconfig
            .list_configuration_profiles()
            .application_id(&app)
            .r#type("AWS.AppConfig.FeatureFlags"),
        ListConfigurationProfilesError::is_bad_request_exception
    );
}

#[tokio::test]
async fn list_hosted_configuration_versions_paginates_newest_first() {
    let h = Harness::start().await;
    let f = h.fixture(&[], "{}").await;
    for i in 2..=5 {
        h.version(&f, "{}", Some(&format!("v{i}"))).await;
    }
    assert_paginates!(
        ["5", "4", "3", "2", "1"].map(String::from).to_vec(),
        h.appconfig
            .list_hosted_configuration_versions()
            .application_id(&f.application)
            .configuration_profile_id(&f.profile),
        ListHostedConfigurationVersionsError::is_bad_request_exception
    );
    assert_paginates!(
        ["5", "4", "3", "2"].map(String::from).to_vec(),
        h.appconfig
            .list_hosted_configuration_versions()
            .application_id(&f.application)
            .configuration_profile_id(&f.profile)
            .version_label("v*"),
        ListHostedConfigurationVersionsError::is_bad_request_exception
    );
}

#[tokio::test]
async fn list_deployment_strategies_paginates_custom_then_predefined() {
    let h = Harness::start().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(strategy(&h, &format!("s{i}"), 10).await);
    }
    ids.extend(PREDEFINED.map(|row| row.0.to_owned()));
    assert_paginates!(
        ids,
        h.appconfig.list_deployment_strategies(),
        ListDeploymentStrategiesError::is_bad_request_exception
    );
}

#[tokio::test]
async fn list_deployments_paginates_newest_first() {
    let h = Harness::start().await;
    let f = h.fixture(&[], "{}").await;
    let instant = strategy(&h, "instant", 0).await;
    for expected in 1..=4 {
        assert_eq!(h.deploy(&f, "1", &instant).await, expected);
    }
    assert_paginates!(
        ["4", "3", "2", "1"].map(String::from).to_vec(),
        h.appconfig
            .list_deployments()
            .application_id(&f.application)
            .environment_id(&f.environment),
        ListDeploymentsError::is_bad_request_exception
    );
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_when_items_change_between_calls() {
    let h = Harness::start().await;
    let c = &h.appconfig;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(application(&h, &format!("app{i}")).await);
    }
    let first = c.list_applications().max_results(2).send().await.unwrap();
    assert_eq!(first.keys(), ids[..2]);
    for gone in [&ids[0], &ids[2]] {
        c.delete_application()
            .application_id(gone)
            .send()
            .await
            .unwrap();
    }
    let added = application(&h, "late").await;
    let second = c
        .list_applications()
        .max_results(2)
        .set_next_token(first.next_token.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(second.keys(), [ids[3].clone(), ids[4].clone()]);
    let third = c
        .list_applications()
        .max_results(2)
        .set_next_token(second.next_token.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(third.keys(), [added]);
    assert!(third.next_token().is_none());
}

// ---------------------------------------------------------------------------------------------
// Emulator-only endpoints

#[tokio::test]
async fn clock_reads_and_advances() {
    let h = Harness::start().await;
    let before = emulated_now(&h).await;
    let (status, body) = h
        .admin("POST", "clock", Some(json!({"advanceSeconds": 60})))
        .await;
    assert_eq!(status, 200, "{body}");
    let answered: Timestamp = body["now"].as_str().unwrap().parse().unwrap();
    assert!(answered.duration_since(before) >= SignedDuration::from_secs(60));
    let after = emulated_now(&h).await;
    assert!(after >= answered);
    assert!(after.duration_since(before) < SignedDuration::from_secs(120));

    let (status, body) = h
        .admin("POST", "clock", Some(json!({"advanceSeconds": -5})))
        .await;
    assert_eq!(status, 400);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("advanceSeconds"), "{message}");
    let (status, body) = h.admin("POST", "clock", Some(json!({"seconds": 5}))).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("advanceSeconds"));
    assert!(emulated_now(&h).await.duration_since(before) < SignedDuration::from_secs(120));
}

#[tokio::test]
async fn clock_refuses_to_leave_the_representable_range() {
    let h = Harness::start().await;
    let before = emulated_now(&h).await;
    for seconds in [1e12, 1e19, 1e30] {
        let (status, body) = h
            .admin("POST", "clock", Some(json!({"advanceSeconds": seconds})))
            .await;
        assert_eq!(status, 400, "{seconds}: {body}");
        assert!(body["message"].as_str().unwrap().contains("advanceSeconds"));
    }
    assert!(emulated_now(&h).await.duration_since(before) < SignedDuration::from_secs(60));
    assert!(h.appconfig.list_applications().send().await.is_ok());
}

#[tokio::test]
async fn count_faults_fail_exactly_that_many_calls_of_their_operation() {
    let h = Harness::start().await;
    let app = application(&h, "app").await;
    post_fault(
        &h,
        fault(
            "GetApplication",
            (429, "ThrottlingException"),
            Some(2),
            None,
        ),
    )
    .await;
    let get = || h.appconfig.get_application().application_id(&app).send();
    for _ in 0..2 {
        assert!(h.appconfig.list_applications().send().await.is_ok());
        assert_eq!(
            code_and_status(get().await),
            ("ThrottlingException".to_owned(), 429)
        );
    }
    assert_eq!(get().await.unwrap().id(), Some(app.as_str()));
}

#[tokio::test]
async fn wildcard_faults_match_every_operation_until_cleared() {
    let h = Harness::start().await;
    post_fault(&h, fault("*", INTERNAL, None, Some(1.0))).await;
    failure(
        h.appconfig.create_application().name("app").send().await,
        CreateApplicationError::is_internal_server_exception,
        "Injected",
    );
    failure(
        h.appconfig.list_deployment_strategies().send().await,
        ListDeploymentStrategiesError::is_internal_server_exception,
        "Injected",
    );
    let (status, _) = h.admin("DELETE", "faults", None).await;
    assert_eq!(status, 204);
    application(&h, "app").await;
}

#[tokio::test]
async fn invalid_faults_are_refused() {
    let h = Harness::start().await;
    for (body, reason) in [
        (
            json!({"operation": "*", "status": 500, "code": "X", "count": 1, "ratio": 0.5}),
            "exactly one",
        ),
        (
            json!({"operation": "*", "status": 200, "code": "X", "count": 1}),
            "status",
        ),
        (json!({"operation": "*", "status": 500}), "code"),
    ] {
        let (status, answer) = h.admin("POST", "faults", Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(reason), "{message}");
    }
    assert!(h.appconfig.list_applications().send().await.is_ok());
}

#[tokio::test]
async fn calls_are_counted_per_operation_including_failures() {
    let h = Harness::start().await;
    let (_, calls) = h.admin("GET", "calls", None).await;
    assert_eq!(calls, json!({}));
    application(&h, "a").await;
    application(&h, "b").await;
    let missing = h
        .appconfig
        .get_application()
        .application_id("zzzz999")
        .send()
        .await;
    assert!(missing.is_err());
    post_fault(
        &h,
        fault(
            "ListApplications",
            (503, "ServiceUnavailable"),
            Some(1),
            None,
        ),
    )
    .await;
    assert!(h.appconfig.list_applications().send().await.is_err());
    let (status, calls) = h.admin("GET", "calls", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        calls,
        json!({"CreateApplication": 2, "GetApplication": 1, "ListApplications": 1})
    );
}

#[tokio::test]
async fn reset_forgets_resources_faults_and_calls_but_keeps_predefined_strategies() {
    let h = Harness::start().await;
    let f = h.fixture(&[], "{}").await;
    strategy(&h, "custom", 10).await;
    post_fault(&h, fault("ListApplications", INTERNAL, Some(5), None)).await;
    let before = emulated_now(&h).await;
    let (status, _) = h.admin("POST", "reset", None).await;
    assert_eq!(status, 204);

    let listed = h.appconfig.list_applications().send().await.unwrap();
    assert!(listed.items().is_empty());
    failure(
        h.appconfig
            .get_application()
            .application_id(&f.application)
            .send()
            .await,
        GetApplicationError::is_resource_not_found_exception,
        &f.application,
    );
    let strategies = h.appconfig.list_deployment_strategies().send().await;
    let ids = strategies.unwrap().keys();
    assert_eq!(ids, PREDEFINED.map(|row| row.0));
    let (_, calls) = h.admin("GET", "calls", None).await;
    assert_eq!(
        calls,
        json!({"ListApplications": 1, "GetApplication": 1, "ListDeploymentStrategies": 1})
    );
    assert!(emulated_now(&h).await >= before, "the clock keeps its time");
}

#[tokio::test]
async fn in_process_control_matches_the_http_endpoints() {
    let h = Harness::start().await;
    let control = h.emulator.control();
    let before = control.now();
    let after = control.advance(Duration::from_secs(90)).unwrap();
    assert!(after.duration_since(before) >= SignedDuration::from_secs(90));
    assert!(emulated_now(&h).await >= after);

    let invalid = control.inject_fault(fault("*", INTERNAL, Some(1), Some(0.5)));
    assert!(invalid.unwrap_err().contains("exactly one"));
    control
        .inject_fault(fault("ListApplications", INTERNAL, Some(1), None))
        .unwrap();
    failure(
        h.appconfig.list_applications().send().await,
        ListApplicationsError::is_internal_server_exception,
        "Injected",
    );
    assert!(h.appconfig.list_applications().send().await.is_ok());
    control
        .inject_fault(fault("*", INTERNAL, None, Some(1.0)))
        .unwrap();
    assert!(h.appconfig.list_applications().send().await.is_err());
    control.clear_faults();
    application(&h, "app").await;
    assert_eq!(
        control.calls(),
        BTreeMap::from([
            ("CreateApplication".to_owned(), 1),
            ("ListApplications".to_owned(), 3)
        ])
    );

    control.reset();
    assert!(control.calls().is_empty());
    let listed = h.appconfig.list_applications().send().await.unwrap();
    assert!(listed.items().is_empty());
}

#[tokio::test]
async fn in_process_alarm_rolls_back_a_watching_environment() {
    let h = Harness::start().await;
    let alarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors";
    let f = h.fixture(&[alarm], "{}").await;
    let hour = strategy(&h, "hour", 60).await;
    let number = h.deploy(&f, "1", &hour).await;
    h.emulator.control().set_alarm(alarm, AlarmState::Alarm);
    let deployment = h.deployment(&f, number).await;
    assert_eq!(deployment.state().unwrap().as_str(), "ROLLED_BACK");
    let environment = h
        .appconfig
        .get_environment()
        .application_id(&f.application)
        .environment_id(&f.environment)
        .send()
        .await
        .unwrap();
    assert_eq!(environment.state().unwrap().as_str(), "RolledBack");
}

#[tokio::test]
async fn unknown_routes_answer_not_found_with_a_message() {
    let h = Harness::start().await;
    let (code, status) = code_and_status(
        h.appconfig
            .delete_deployment_strategy()
            .deployment_strategy_id("abcd123")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("UnknownOperationException", 404));
    let unknown = h
        .appconfig
        .get_extension()
        .extension_identifier("ext")
        .send()
        .await
        .expect_err("extensions are not emulated");
    assert!(
        unknown.message().unwrap().contains("/extensions/ext"),
        "{unknown:?}"
    );
    let (status, body) = h.admin("GET", "nothing-here", None).await;
    assert_eq!(status, 404, "{body}");
    let message = body["Message"].as_str().unwrap();
    assert!(message.contains("/_emulator/nothing-here"), "{message}");
}
