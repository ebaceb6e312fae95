//! IAM and STS through the official SDKs: web identity tokens exchanged for credentials, and
//! calls signed with them allowed or refused by the role's current policy.

use aws_sdk_appconfig::{config::Credentials, error::ProvideErrorMetadata};
use serde_json::{Value, json};

use crate::{
    clients,
    harness::{Fixture, Harness},
    oidc::{Issuer, KUBERNETES_ISSUER},
};

const ROLE_A: &str = "arn:aws:iam::123456789012:role/team-a";
const SUBJECT_A: &str = "system:serviceaccount:team-a:deployer";
const AUDIENCE: &str = "sts.amazonaws.com";
const ARN_PREFIX: &str = "arn:aws:appconfig:us-east-1:123456789012";

/// An emulator with the test issuer registered as an OIDC provider.
struct Tenancy {
    harness: Harness,
    issuer: Issuer,
    sts: aws_sdk_sts::Client,
}

/// STS without credentials: AssumeRoleWithWebIdentity is unsigned.
fn sts_client(endpoint_url: &str) -> aws_sdk_sts::Client {
    use aws_sdk_sts::config::{BehaviorVersion, Region, retry::RetryConfig};
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint_url)
            .retry_config(RetryConfig::disabled())
            .build(),
    )
}

fn wall_now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn application_arn(application: &str) -> String {
    format!("{ARN_PREFIX}:application/{application}")
}

fn allow(actions: Value, resources: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]})
}

impl Tenancy {
    async fn start() -> Self {
        let harness = Harness::start().await;
        let issuer = Issuer::new(KUBERNETES_ISSUER);
        let (status, body) = harness
            .admin(
                "POST",
                "iam/oidc",
                Some(json!({"issuer": issuer.url(), "jwks": issuer.jwks()})),
            )
            .await;
        assert_eq!(status, 204, "{body}");
        let sts = sts_client(&harness.emulator.endpoint_url());
        Self {
            harness,
            issuer,
            sts,
        }
    }

    async fn define_role(&self, arn: &str, subject: &str, policy: Value) {
        let (status, body) = self
            .harness
            .admin(
                "POST",
                "iam/roles",
                Some(json!({
                    "roleArn": arn,
                    "trust": {"issuer": self.issuer.url(), "audience": AUDIENCE, "subjects": [subject]},
                    "policy": policy,
                })),
            )
            .await;
        assert_eq!(status, 204, "{body}");
    }

    /// A fresh service account token of `team-a:deployer` for STS's audience.
    fn token(&self) -> String {
        self.token_with(|_| {})
    }

    fn token_with(&self, change: impl FnOnce(&mut Value)) -> String {
        let mut claims = self.issuer.service_account_claims(
            "team-a",
            "deployer",
            "uid-1",
            &[AUDIENCE.to_owned()],
            wall_now(),
            600,
        );
        change(&mut claims);
        self.issuer.sign(&claims)
    }

    async fn assume(
        &self,
        role: &str,
        token: &str,
    ) -> Result<
        aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityOutput,
        (String, String),
    > {
        self.sts
            .assume_role_with_web_identity()
            .role_arn(role)
            .role_session_name("deployer")
            .web_identity_token(token)
            .send()
            .await
            .map_err(|e| {
                (
                    e.code().unwrap_or_default().to_owned(),
                    e.message().unwrap_or_default().to_owned(),
                )
            })
    }

    /// Credentials of a session of `role` (trusting team-a's deployer).
    async fn credentials(&self, role: &str) -> Credentials {
        let issued = self
            .assume(role, &self.token())
            .await
            .expect("STS issues credentials");
        let c = issued.credentials.expect("credentials");
        Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            None,
            "sts",
        )
    }

    async fn appconfig_as(&self, role: &str) -> aws_sdk_appconfig::Client {
        clients::appconfig_as(
            &self.harness.emulator.endpoint_url(),
            self.credentials(role).await,
        )
    }

    async fn fixture(&self) -> Fixture {
        self.harness.fixture(&[], r#"{"a":1}"#).await
    }
}

fn refusal<E: ProvideErrorMetadata>(error: E) -> (String, String) {
    (
        error.code().unwrap_or_default().to_owned(),
        error.message().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn credentials_from_sts_sign_allowed_calls_and_expire_in_emulated_time() {
    let tenancy = Tenancy::start().await;
    let fixture = tenancy.fixture().await;
    tenancy
        .define_role(
            ROLE_A,
            SUBJECT_A,
            allow(
                json!("appconfig:GetApplication"),
                json!(application_arn(&fixture.application)),
            ),
        )
        .await;
    // Ten emulated days ahead of the wall clock: the token is still checked against wall time,
    // and the credentials' expiration is reported in emulated time.
    tenancy
        .harness
        .advance(std::time::Duration::from_secs(10 * 86400));
    let emulated_now = tenancy.harness.emulator.control().now();

    let issued = tenancy.assume(ROLE_A, &tenancy.token()).await.unwrap();
    let user = issued.assumed_role_user.unwrap();
    assert_eq!(
        user.arn,
        "arn:aws:sts::123456789012:assumed-role/team-a/deployer"
    );
    assert!(
        user.assumed_role_id.ends_with(":deployer"),
        "{}",
        user.assumed_role_id
    );
    assert_eq!(
        issued.subject_from_web_identity_token.as_deref(),
        Some(SUBJECT_A)
    );
    assert_eq!(issued.audience.as_deref(), Some(AUDIENCE));
    let credentials = issued.credentials.unwrap();
    let key = &credentials.access_key_id;
    assert!(
        key.len() == 20
            && key.starts_with("ASIA")
            && key[4..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        "{key}"
    );
    let lifetime = credentials.expiration.secs() - emulated_now.as_second();
    assert!(
        (3600..=3605).contains(&lifetime),
        "expires {lifetime}s after emulated now"
    );

    let client = clients::appconfig_as(
        &tenancy.harness.emulator.endpoint_url(),
        Credentials::new(
            key,
            credentials.secret_access_key,
            Some(credentials.session_token),
            None,
            "sts",
        ),
    );
    let application = client
        .get_application()
        .application_id(&fixture.application)
        .send()
        .await
        .unwrap();
    assert_eq!(
        application.id.as_deref(),
        Some(fixture.application.as_str())
    );

    tenancy
        .harness
        .advance(std::time::Duration::from_secs(3601));
    let error = client
        .get_application()
        .application_id(&fixture.application)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refusal(error),
        (
            "ExpiredTokenException".into(),
            "The security token included in the request is expired".into()
        )
    );
}

#[tokio::test]
async fn sts_refuses_tokens_and_parameters_with_aws_codes_and_messages() {
    let tenancy = Tenancy::start().await;
    tenancy
        .define_role(ROLE_A, SUBJECT_A, allow(json!("appconfig:*"), json!("*")))
        .await;
    let invalid = "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.";
    let now = wall_now();

    let stranger = Issuer::new("https://oidc.example.com");
    let unknown_issuer = stranger.sign(&stranger.service_account_claims(
        "team-a",
        "deployer",
        "u",
        &[AUDIENCE.into()],
        now,
        600,
    ));
    assert_eq!(
        tenancy.assume(ROLE_A, &unknown_issuer).await.unwrap_err(),
        (
            "InvalidIdentityToken".into(),
            "No OpenIDConnect provider found in your account for https://oidc.example.com".into()
        )
    );

    // The registered issuer's header (so its key ID) over a signature by another key.
    let token = tenancy.token();
    let impostor = Issuer::new(KUBERNETES_ISSUER).sign(&tenancy.issuer.service_account_claims(
        "team-a",
        "deployer",
        "uid-1",
        &[AUDIENCE.into()],
        now,
        600,
    ));
    let forged = format!(
        "{}.{}",
        token.rsplit_once('.').unwrap().0,
        impostor.rsplit_once('.').unwrap().1
    );
    assert_eq!(
        tenancy.assume(ROLE_A, &forged).await.unwrap_err(),
        ("InvalidIdentityToken".into(), invalid.into())
    );

    let wrong_audience = tenancy.token_with(|c| c["aud"] = json!(["vault"]));
    assert_eq!(
        tenancy.assume(ROLE_A, &wrong_audience).await.unwrap_err(),
        (
            "InvalidIdentityToken".into(),
            "Incorrect token audience".into()
        )
    );

    let expired = tenancy.token_with(|c| c["exp"] = json!(now - 10));
    let (code, message) = tenancy.assume(ROLE_A, &expired).await.unwrap_err();
    assert_eq!(code, "ExpiredTokenException");
    let expected_tail = format!(" must be before the expiration date/time {}", now - 10);
    assert!(
        message.starts_with("Token expired: current date/time ")
            && message.ends_with(&expected_tail),
        "{message}"
    );

    let not_yet = tenancy.token_with(|c| c["nbf"] = json!(now + 600));
    assert_eq!(
        tenancy.assume(ROLE_A, &not_yet).await.unwrap_err(),
        ("InvalidIdentityToken".into(), invalid.into())
    );

    let denied = (
        "AccessDenied".to_owned(),
        "Not authorized to perform sts:AssumeRoleWithWebIdentity".to_owned(),
    );
    let other_subject =
        tenancy.token_with(|c| c["sub"] = json!("system:serviceaccount:team-b:deployer"));
    assert_eq!(
        tenancy.assume(ROLE_A, &other_subject).await.unwrap_err(),
        denied
    );
    assert_eq!(
        tenancy
            .assume("arn:aws:iam::123456789012:role/nobody", &tenancy.token())
            .await
            .unwrap_err(),
        denied
    );

    let bad_name = tenancy
        .sts
        .assume_role_with_web_identity()
        .role_arn(ROLE_A)
        .role_session_name("team-a/deployer")
        .web_identity_token(tenancy.token())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refusal(bad_name),
        ("ValidationError".into(), r"1 validation error detected: Value 'team-a/deployer' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*".into())
    );
    for (duration, message) in [
        (
            899,
            "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
        ),
        (
            3601,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ),
    ] {
        let error = tenancy
            .sts
            .assume_role_with_web_identity()
            .role_arn(ROLE_A)
            .role_session_name("deployer")
            .web_identity_token(tenancy.token())
            .duration_seconds(duration)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            refusal(error),
            ("ValidationError".into(), message.into()),
            "{duration}"
        );
    }
    // Every one of them was an STS call received.
    let (_, calls) = tenancy.harness.admin("GET", "calls", None).await;
    assert_eq!(calls["AssumeRoleWithWebIdentity"], 10);
}

#[tokio::test]
async fn a_call_no_statement_allows_is_refused_with_aws_message_and_runs_nothing() {
    let tenancy = Tenancy::start().await;
    let fixture = tenancy.fixture().await;
    let environment = format!(
        "{}/environment/{}",
        application_arn(&fixture.application),
        fixture.environment
    );
    tenancy
        .define_role(
            ROLE_A,
            SUBJECT_A,
            allow(json!(["appconfig:Get*", "appconfig:List*"]), json!("*")),
        )
        .await;
    let client = tenancy.appconfig_as(ROLE_A).await;
    let refused_start = async || {
        client
            .start_deployment()
            .application_id(&fixture.application)
            .environment_id(&fixture.environment)
            .configuration_profile_id(&fixture.profile)
            .configuration_version("1")
            .deployment_strategy_id("AppConfig.AllAtOnce")
            .send()
            .await
            .unwrap_err()
    };

    let error = refused_start().await;
    let profile = format!(
        "{}/configurationprofile/{}",
        application_arn(&fixture.application),
        fixture.profile
    );
    assert_eq!(
        refusal(error),
        (
            "AccessDeniedException".into(),
            format!(
                "User: arn:aws:sts::123456789012:assumed-role/team-a/deployer is not authorized to perform: appconfig:StartDeployment on resource: {profile} because no identity-based policy allows the appconfig:StartDeployment action"
            )
        )
    );
    let deployments = client
        .list_deployments()
        .application_id(&fixture.application)
        .environment_id(&fixture.environment)
        .send()
        .await
        .unwrap();
    assert!(deployments.items().is_empty(), "{deployments:?}");
    let (_, calls) = tenancy.harness.admin("GET", "calls", None).await;
    assert_eq!(
        calls["StartDeployment"], 1,
        "the refused call was received: {calls}"
    );

    // With the profile and strategy allowed, the environment is the resource still refused.
    tenancy
        .define_role(
            ROLE_A,
            SUBJECT_A,
            json!({"Statement": [
                {"Effect": "Allow", "Action": "appconfig:StartDeployment", "Resource": [profile, format!("{ARN_PREFIX}:deploymentstrategy/*")]},
            ]}),
        )
        .await;
    let error = refused_start().await;
    assert!(
        refusal(error)
            .1
            .contains(&format!("on resource: {environment} because"))
    );
}

#[tokio::test]
async fn an_explicit_deny_beats_a_wildcard_allow() {
    let tenancy = Tenancy::start().await;
    let fixture = tenancy.fixture().await;
    let application = application_arn(&fixture.application);
    tenancy
        .define_role(
            ROLE_A,
            SUBJECT_A,
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "appconfig:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "appconfig:Delete*", "Resource": format!("{application}*")},
            ]}),
        )
        .await;
    let client = tenancy.appconfig_as(ROLE_A).await;
    client
        .get_application()
        .application_id(&fixture.application)
        .send()
        .await
        .unwrap();
    let error = client
        .delete_application()
        .application_id(&fixture.application)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refusal(error),
        (
            "AccessDeniedException".into(),
            format!(
                "User: arn:aws:sts::123456789012:assumed-role/team-a/deployer is not authorized to perform: appconfig:DeleteApplication on resource: {application} with an explicit deny in an identity-based policy"
            )
        )
    );
    tenancy
        .harness
        .appconfig
        .get_application()
        .application_id(&fixture.application)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn roles_are_confined_to_their_tenants_applications_by_resource_wildcards() {
    let tenancy = Tenancy::start().await;
    let ours = tenancy.fixture().await;
    let theirs = tenancy.fixture().await;
    tenancy
        .define_role(
            ROLE_A,
            SUBJECT_A,
            allow(
                json!("appconfig:Get*"),
                json!(format!("{ARN_PREFIX}:application/{}*", ours.application)),
            ),
        )
        .await;
    let client = tenancy.appconfig_as(ROLE_A).await;
    client
        .get_environment()
        .application_id(&ours.application)
        .environment_id(&ours.environment)
        .send()
        .await
        .unwrap();
    let error = client
        .get_environment()
        .application_id(&theirs.application)
        .environment_id(&theirs.environment)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(error).0, "AccessDeniedException");
    // Get* does not reach List*.
    let error = client.list_applications().send().await.unwrap_err();
    assert!(
        refusal(error)
            .1
            .contains("appconfig:ListApplications on resource: * because")
    );
}

#[tokio::test]
async fn a_replaced_policy_applies_to_sessions_issued_before() {
    let tenancy = Tenancy::start().await;
    let fixture = tenancy.fixture().await;
    tenancy
        .define_role(
            ROLE_A,
            SUBJECT_A,
            allow(json!("appconfig:GetApplication"), json!("*")),
        )
        .await;
    let client = tenancy.appconfig_as(ROLE_A).await;
    client
        .get_application()
        .application_id(&fixture.application)
        .send()
        .await
        .unwrap();

    tenancy
        .define_role(
            ROLE_A,
            SUBJECT_A,
            allow(json!("appconfig:ListApplications"), json!("*")),
        )
        .await;
    let error = client
        .get_application()
        .application_id(&fixture.application)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(error).0, "AccessDeniedException");
    client.list_applications().send().await.unwrap();
}

#[tokio::test]
async fn after_a_reset_issued_keys_are_unrecognized_and_other_credentials_still_pass() {
    let tenancy = Tenancy::start().await;
    tenancy
        .define_role(ROLE_A, SUBJECT_A, allow(json!("appconfig:*"), json!("*")))
        .await;
    let client = tenancy.appconfig_as(ROLE_A).await;
    client.list_applications().send().await.unwrap();

    let (status, _) = tenancy.harness.admin("POST", "reset", None).await;
    assert_eq!(status, 204);
    let error = client.list_applications().send().await.unwrap_err();
    assert_eq!(
        refusal(error),
        (
            "UnrecognizedClientException".into(),
            "The security token included in the request is invalid.".into()
        )
    );
    // And the provider went with it.
    assert_eq!(
        tenancy
            .assume(ROLE_A, &tenancy.token())
            .await
            .unwrap_err()
            .1,
        format!("No OpenIDConnect provider found in your account for {KUBERNETES_ISSUER}")
    );

    let url = tenancy.harness.emulator.endpoint_url();
    for key in ["placeholder", "AKIAIOSFODNN7EXAMPLE"] {
        let other =
            clients::appconfig_as(&url, Credentials::new(key, "secret", None, None, "test"));
        other
            .create_application()
            .name("still-allowed")
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_session_token_that_is_not_the_sessions_is_unrecognized() {
    let tenancy = Tenancy::start().await;
    tenancy
        .define_role(ROLE_A, SUBJECT_A, allow(json!("appconfig:*"), json!("*")))
        .await;
    let genuine = tenancy.credentials(ROLE_A).await;
    let borrowed = Credentials::new(
        genuine.access_key_id(),
        genuine.secret_access_key(),
        Some("another-token".into()),
        None,
        "sts",
    );
    let client = clients::appconfig_as(&tenancy.harness.emulator.endpoint_url(), borrowed);
    let error = client.list_applications().send().await.unwrap_err();
    assert_eq!(refusal(error).0, "UnrecognizedClientException");
}

#[tokio::test]
async fn appconfig_data_is_authorized_on_the_configuration_arn() {
    let tenancy = Tenancy::start().await;
    let fixture = tenancy.fixture().await;
    tenancy
        .harness
        .deploy(&fixture, "1", "AppConfig.AllAtOnce")
        .await;
    let configuration = format!(
        "{}/environment/{}/configuration/{}",
        application_arn(&fixture.application),
        fixture.environment,
        fixture.profile
    );
    tenancy
        .define_role(
            ROLE_A,
            SUBJECT_A,
            allow(
                json!([
                    "appconfig:StartConfigurationSession",
                    "appconfig:GetLatestConfiguration"
                ]),
                json!(configuration),
            ),
        )
        .await;
    let data = clients::data_as(
        &tenancy.harness.emulator.endpoint_url(),
        tenancy.credentials(ROLE_A).await,
    );
    let token = data
        .start_configuration_session()
        .application_identifier(&fixture.application)
        .environment_identifier(&fixture.environment)
        .configuration_profile_identifier(&fixture.profile)
        .send()
        .await
        .unwrap()
        .initial_configuration_token
        .unwrap();
    let latest = data
        .get_latest_configuration()
        .configuration_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(latest.configuration.unwrap().into_inner(), br#"{"a":1}"#);

    let error = data
        .start_configuration_session()
        .application_identifier(&fixture.application)
        .environment_identifier("otherenv")
        .configuration_profile_identifier(&fixture.profile)
        .send()
        .await
        .unwrap_err();
    let other = configuration.replace(&fixture.environment, "otherenv");
    assert_eq!(
        refusal(error).1,
        format!(
            "User: arn:aws:sts::123456789012:assumed-role/team-a/deployer is not authorized to perform: appconfig:StartConfigurationSession on resource: {other} because no identity-based policy allows the appconfig:StartConfigurationSession action"
        )
    );
}

#[tokio::test]
async fn registrations_with_bad_bodies_are_refused_naming_the_field() {
    let tenancy = Tenancy::start().await;
    let role = |policy: Value, arn: &str| {
        json!({
            "roleArn": arn,
            "trust": {"issuer": KUBERNETES_ISSUER, "audience": AUDIENCE, "subjects": [SUBJECT_A]},
            "policy": policy,
        })
    };
    let conditional = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]});
    let (status, body) = tenancy
        .harness
        .admin("POST", "iam/roles", Some(role(conditional, ROLE_A)))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("policy.Statement[0].Condition is not evaluated by the emulator"),
        "{body}"
    );

    let (status, body) = tenancy
        .harness
        .admin(
            "POST",
            "iam/roles",
            Some(role(allow(json!("*"), json!("*")), "team-a")),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("roleArn must look like"),
        "{body}"
    );

    let (status, body) = tenancy
        .harness
        .admin(
            "POST",
            "iam/oidc",
            Some(json!({"issuer": KUBERNETES_ISSUER, "jwks": {"keys": "none"}})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("jwks must be a JSON Web Key Set"),
        "{body}"
    );

    let (status, body) = tenancy
        .harness
        .admin("POST", "iam/oidc", Some(json!({"jwks": {"keys": []}})))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("missing field `issuer`"),
        "{body}"
    );
}
