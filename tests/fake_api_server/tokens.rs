//! ServiceAccounts, their TokenRequest subresource, and the issuer's discovery document and
//! JWKS: tokens a verifier that reads only what the API server publishes accepts, with the
//! claims, defaults and errors of a real API server.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, jwk::JwkSet};
use k8s_openapi::api::{
    authentication::v1::{TokenRequest, TokenRequestSpec},
    core::v1::ServiceAccount,
};
use kube::{
    Api,
    api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};

use crate::{
    NS, api_error,
    fake_api_server::{FakeApiServer, IssuedToken, RequestMatcher},
};

const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const STS: &str = "sts.amazonaws.com";

fn service_account(name: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    }
}

/// A fake holding the ServiceAccount "deployer" in the team namespace; answers its uid.
async fn fake_with_account() -> (FakeApiServer, String) {
    let fake = FakeApiServer::new();
    let created = Api::<ServiceAccount>::namespaced(fake.client(), NS)
        .create(&PostParams::default(), &service_account("deployer"))
        .await
        .unwrap();
    (
        fake,
        created.metadata.uid.expect("a created object has a uid"),
    )
}

fn token_request(audiences: &[&str], expiration_seconds: Option<i64>) -> TokenRequest {
    TokenRequest {
        spec: TokenRequestSpec {
            audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
            expiration_seconds,
            ..TokenRequestSpec::default()
        },
        ..TokenRequest::default()
    }
}

/// POSTs `body` to the token subresource as-is, answering the raw JSON the server sent.
async fn post_token(client: &kube::Client, name: &str, body: Value) -> Result<Value, kube::Error> {
    let path = format!("/api/v1/namespaces/{NS}/serviceaccounts/{name}/token");
    post(client, &path, body).await
}

async fn post(client: &kube::Client, path: &str, body: Value) -> Result<Value, kube::Error> {
    let request = http::Request::post(path)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
    client.request(request).await
}

async fn get_text(client: &kube::Client, path: &str) -> String {
    client
        .request_text(http::Request::get(path).body(vec![]).unwrap())
        .await
        .unwrap()
}

/// The claims of `token`, verified only with what the server publishes: the JWKS its
/// discovery document points at, and the issuer it names.
async fn verify(client: &kube::Client, token: &str, audience: &str) -> Value {
    let discovery: Value =
        serde_json::from_str(&get_text(client, "/.well-known/openid-configuration").await).unwrap();
    let jwks_uri: http::Uri = discovery["jwks_uri"].as_str().unwrap().parse().unwrap();
    let jwks: JwkSet = serde_json::from_str(&get_text(client, jwks_uri.path()).await).unwrap();
    let key = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[discovery["issuer"].as_str().unwrap()]);
    validation.set_required_spec_claims(&["exp", "nbf", "iat", "aud", "iss", "sub"]);
    decode::<Value>(token, &key, &validation).unwrap().claims
}

#[tokio::test]
async fn service_accounts_are_stored_like_any_object() {
    let (fake, uid) = fake_with_account().await;
    let accounts: Api<ServiceAccount> = Api::namespaced(fake.client(), NS);
    let patch = Patch::Merge(
        json!({"metadata": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/r"}}}),
    );
    let patched = accounts
        .patch("deployer", &PatchParams::default(), &patch)
        .await
        .unwrap();
    assert_eq!(patched.metadata.uid.as_deref(), Some(uid.as_str()));
    let listed = accounts.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(listed.items[0].metadata.annotations.is_some());
    accounts
        .delete("deployer", &DeleteParams::default())
        .await
        .unwrap();
    let gone = api_error(accounts.get("deployer").await);
    assert_eq!(
        (gone.code, gone.message.as_str()),
        (404, "serviceaccounts \"deployer\" not found")
    );
}

#[tokio::test]
async fn a_service_account_name_must_be_a_dns_subdomain() {
    let fake = FakeApiServer::new();
    let accounts: Api<ServiceAccount> = Api::namespaced(fake.client(), NS);
    let rule = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    for name in ["Deployer", "deployer_1", "-deployer", "deployer.", "a..b"] {
        let invalid = api_error(
            accounts
                .create(&PostParams::default(), &service_account(name))
                .await,
        );
        assert_eq!(
            (invalid.code, invalid.message),
            (
                422,
                format!(
                    "ServiceAccount \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": {rule}"
                )
            )
        );
    }
    let long = "a".repeat(254);
    let invalid = api_error(
        accounts
            .create(&PostParams::default(), &service_account(&long))
            .await,
    );
    assert_eq!(
        invalid.message,
        format!(
            "ServiceAccount \"{long}\" is invalid: metadata.name: Invalid value: \"{long}\": must be no more than 253 characters"
        )
    );
    for name in ["a", "deployer-1", "team.deployer", &"a".repeat(253)] {
        accounts
            .create(&PostParams::default(), &service_account(name))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_token_verifies_against_the_served_jwks_with_a_real_api_servers_claims() {
    let (fake, uid) = fake_with_account().await;
    let client = fake.client();
    let before = jiff::Timestamp::now().as_second();
    let answer = Api::<ServiceAccount>::namespaced(client.clone(), NS)
        .create_token_request(
            "deployer",
            &PostParams::default(),
            &token_request(&[STS], Some(3600)),
        )
        .await
        .unwrap();
    let status = answer.status.expect("the token is in the status");

    let claims = verify(&client, &status.token, STS).await;
    assert_eq!(claims["sub"], "system:serviceaccount:team:deployer");
    assert_eq!(claims["aud"], json!([STS]));
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(
        claims["kubernetes.io"],
        json!({"namespace": NS, "serviceaccount": {"name": "deployer", "uid": uid}})
    );
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 3600);
    assert_eq!(claims["nbf"], iat);
    assert!(iat >= before && iat <= jiff::Timestamp::now().as_second());
    assert!(claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()));
    let mut members: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    members.sort_unstable();
    assert_eq!(
        members,
        [
            "aud",
            "exp",
            "iat",
            "iss",
            "jti",
            "kubernetes.io",
            "nbf",
            "sub"
        ]
    );
    // The status says when the token expires, as its `exp` does.
    assert_eq!(status.expiration_timestamp.0.as_second(), exp);
    assert_eq!(
        fake.token_requests(),
        [IssuedToken {
            namespace: NS.into(),
            service_account: "deployer".into(),
            audiences: vec![STS.into()],
            expiration_seconds: 3600,
            token: status.token,
        }]
    );
}

#[tokio::test]
async fn an_empty_request_gets_the_issuer_as_audience_and_an_hour() {
    let (fake, _) = fake_with_account().await;
    let client = fake.client();
    let answer = post_token(
        &client,
        "deployer",
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}),
    )
    .await
    .unwrap();
    assert_eq!(answer["kind"], "TokenRequest");
    assert_eq!(answer["apiVersion"], "authentication.k8s.io/v1");
    assert_eq!(answer["metadata"]["name"], "deployer");
    assert_eq!(answer["metadata"]["namespace"], NS);
    let created: jiff::Timestamp = answer["metadata"]["creationTimestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        answer["spec"],
        json!({"audiences": [ISSUER], "expirationSeconds": 3600, "boundObjectRef": null})
    );
    let expires: jiff::Timestamp = answer["status"]["expirationTimestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(expires.as_second() - created.as_second(), 3600);
    let claims = verify(&client, answer["status"]["token"].as_str().unwrap(), ISSUER).await;
    assert_eq!(claims["aud"], json!([ISSUER]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    // Null audiences are none, as the API server decodes them.
    let null = post_token(&client, "deployer", json!({"spec": {"audiences": null}}))
        .await
        .unwrap();
    assert_eq!(null["spec"]["audiences"], json!([ISSUER]));
}

#[tokio::test]
async fn a_token_for_a_missing_service_account_is_not_found() {
    let fake = FakeApiServer::new();
    let accounts: Api<ServiceAccount> = Api::namespaced(fake.client(), NS);
    let missing = api_error(
        accounts
            .create_token_request(
                "ghost",
                &PostParams::default(),
                &token_request(&[STS], None),
            )
            .await,
    );
    assert_eq!(
        (
            missing.code,
            missing.reason.as_str(),
            missing.message.as_str()
        ),
        (404, "NotFound", "serviceaccounts \"ghost\" not found")
    );
    assert_eq!(fake.token_requests(), []);
    assert_eq!(
        fake.count_writes("create", "serviceaccounts", Some("token")),
        0
    );
}

#[tokio::test]
async fn an_expiration_outside_the_api_servers_limits_is_invalid() {
    let (fake, _) = fake_with_account().await;
    let accounts: Api<ServiceAccount> = Api::namespaced(fake.client(), NS);
    for (seconds, why) in [
        (300, "may not specify a duration less than 10 minutes"),
        (
            (1 << 32) + 1,
            "may not specify a duration larger than 2^32 seconds",
        ),
    ] {
        let invalid = api_error(
            accounts
                .create_token_request(
                    "deployer",
                    &PostParams::default(),
                    &token_request(&[STS], Some(seconds)),
                )
                .await,
        );
        assert_eq!(
            (invalid.code, invalid.reason.as_str(), invalid.message),
            (
                422,
                "Invalid",
                format!(
                    "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: {seconds}: {why}"
                )
            )
        );
    }
    // The limits themselves are allowed.
    for seconds in [600, 1 << 32] {
        accounts
            .create_token_request(
                "deployer",
                &PostParams::default(),
                &token_request(&[STS], Some(seconds)),
            )
            .await
            .unwrap();
    }
    assert_eq!(fake.token_requests().len(), 2);
}

#[tokio::test]
async fn a_request_naming_another_object_is_refused() {
    let (fake, uid) = fake_with_account().await;
    let client = fake.client();
    let other_name =
        api_error(post_token(&client, "deployer", json!({"metadata": {"name": "other"}})).await);
    assert_eq!(
        (other_name.code, other_name.message.as_str()),
        (
            422,
            "TokenRequest.authentication.k8s.io \"deployer\" is invalid: metadata.name: Invalid value: \"other\": must match the service account name if specified"
        )
    );
    let other_uid =
        api_error(post_token(&client, "deployer", json!({"metadata": {"uid": "0000"}})).await);
    assert_eq!(
        (other_uid.code, other_uid.message),
        (
            409,
            format!(
                "Operation cannot be fulfilled on TokenRequest.authentication.k8s.io \"deployer\": the UID in the token request (0000) does not match the UID of the service account ({uid})"
            )
        )
    );
    // Its own uid is a precondition met, and the answer keeps it.
    let answer = post_token(&client, "deployer", json!({"metadata": {"uid": uid}}))
        .await
        .unwrap();
    assert_eq!(answer["metadata"]["uid"], json!(uid));
}

#[tokio::test]
async fn discovery_points_at_the_jwks_on_the_servers_own_address() {
    let fake = FakeApiServer::new();
    let address = fake.serve().await.unwrap();
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&crate::fake_api_server::kubeconfig(address)).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let remote = kube::Client::try_from(config).unwrap();
    let discovery: Value =
        serde_json::from_str(&get_text(&remote, "/.well-known/openid-configuration").await)
            .unwrap();
    assert_eq!(
        discovery,
        json!({
            "issuer": ISSUER,
            "jwks_uri": format!("https://{address}/openid/v1/jwks"),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })
    );
    let jwks = remote
        .send(
            http::Request::get("/openid/v1/jwks")
                .body(kube::client::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    assert_eq!(
        jwks.headers()[http::header::CONTENT_TYPE],
        "application/jwk-set+json"
    );

    // In-process clients reach no address: the issuer's host, which in-cluster clients reach
    // the API server by, stands in.
    let local: Value =
        serde_json::from_str(&get_text(&fake.client(), "/.well-known/openid-configuration").await)
            .unwrap();
    assert_eq!(
        local["jwks_uri"],
        "https://kubernetes.default.svc.cluster.local/openid/v1/jwks"
    );
}

#[tokio::test]
async fn token_requests_fail_as_injected_and_are_logged_as_creates() {
    let (fake, _) = fake_with_account().await;
    let accounts: Api<ServiceAccount> = Api::namespaced(fake.client(), NS);
    let matcher = RequestMatcher {
        verb: "create",
        plural: "serviceaccounts",
        subresource: Some("token"),
    };
    fake.fail_after(matcher, 1, 500, "InternalError", 1);
    let request = token_request(&[STS], None);
    let params = PostParams::default();
    let create = || accounts.create_token_request("deployer", &params, &request);
    create().await.unwrap();
    assert_eq!(api_error(create().await).code, 500);
    create().await.unwrap();
    assert_eq!(fake.token_requests().len(), 2);
    assert_eq!(
        fake.count_writes("create", "serviceaccounts", Some("token")),
        2
    );
    // Issuing a token stores nothing: the account is as it was created.
    assert_eq!(fake.count_writes("create", "serviceaccounts", None), 1);
    let tokens = fake.token_requests();
    assert_ne!(
        tokens[0].token, tokens[1].token,
        "each token has its own jti"
    );
}

#[tokio::test]
async fn the_token_subresource_takes_only_create() {
    let (fake, _) = fake_with_account().await;
    let client = fake.client();
    let get = client
        .request_text(
            http::Request::get(format!(
                "/api/v1/namespaces/{NS}/serviceaccounts/deployer/token"
            ))
            .body(vec![])
            .unwrap(),
        )
        .await;
    assert_eq!(api_error(get).code, 405);
    let path = format!("/api/v1/namespaces/{NS}/serviceaccounts/deployer/status");
    let status = post(&client, &path, json!({})).await;
    assert_eq!(
        api_error(status).code,
        404,
        "service accounts have no status"
    );
}
