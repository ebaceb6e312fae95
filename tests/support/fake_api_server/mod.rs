//! An in-process fake Kubernetes API server for tests: a `kube::Client` whose requests are served
//! from memory, with enough of the API server's behaviour (resourceVersions, watches, the status
//! subresource, server-side apply, finalizers) for `kube::runtime` controllers to run against it.
//!
//! Storage is generic: any `/api/v1/...` or `/apis/<group>/<version>/...` resource path is
//! accepted without discovery. Custom resources (groups with a dot outside `*.k8s.io`) have a
//! status subresource and a `metadata.generation`.
//!
//! Clients made with `client_with` are authorized as RBAC does (`rbac.rs`), a server-side apply
//! that creates as a create too, and their owner references are admitted as the
//! OwnerReferencesPermissionEnforcement plugin admits them (`owner_admission.rs`).
//!
//! Deleting an object garbage-collects its dependents shortly afterwards (owner references,
//! background propagation, as the controller manager does); ConfigMaps and Secrets are validated
//! as the API server validates them.
//!
//! ServiceAccounts have the TokenRequest subresource (`token.rs`): tokens signed by the
//! server's issuer, which publishes its discovery document and JWKS (`issuer_discovery.rs`).

mod apply;
mod core_validation;
mod error;
mod fields;
mod gc;
mod http;
mod issuer_discovery;
mod list;
mod metadata_only;
#[path = "../oidc.rs"]
mod oidc;
mod owner_admission;
mod patch;
mod rbac;
mod resource;
mod route;
mod select;
mod serve;

// Each test crate uses the part of the handle it needs.
#[allow(unused_imports)]
pub use rbac::{Access, Grants};
pub use serve::kubeconfig;
pub use token::IssuedToken;
mod store;
mod token;
mod watch;
mod write;

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU8, AtomicUsize, Ordering},
    },
};

use serde_json::Value;

use self::{
    error::ApiError,
    oidc::{Issuer, KUBERNETES_ISSUER},
    route::{Route, Verb},
    store::{ObjectKey, Store},
};

/// One client's connection to the server, which a test can cut, stall and restore; clones
/// share it.
#[derive(Clone, Debug, Default)]
pub struct Link {
    state: Arc<AtomicU8>,
    stalled: Arc<AtomicUsize>,
}

const LINK_UP: u8 = 0;
const LINK_CUT: u8 = 1;
const LINK_STALLED: u8 = 2;

// Each test crate uses the part of the handle it needs.
#[allow(dead_code)]
impl Link {
    /// Every request fails at once with 503.
    pub fn cut(&self) {
        self.state.store(LINK_CUT, Ordering::SeqCst);
    }

    /// Every request hangs, unanswered: an API server behind a dropped route.
    pub fn stall(&self) {
        self.state.store(LINK_STALLED, Ordering::SeqCst);
    }

    pub fn restore(&self) {
        self.state.store(LINK_UP, Ordering::SeqCst);
    }

    /// Requests left hanging so far.
    pub fn stalled_requests(&self) -> usize {
        self.stalled.load(Ordering::SeqCst)
    }

    fn state(&self) -> u8 {
        self.state.load(Ordering::SeqCst)
    }
}

/// The fake server; clones share its state.
#[derive(Clone, Default)]
pub struct FakeApiServer {
    shared: Arc<Shared>,
}

/// A successful mutating request.
// Each test crate reads the fields it needs.
#[allow(dead_code)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteRecord {
    /// "create", "update", "patch" or "delete".
    pub verb: String,
    pub plural: String,
    pub namespace: Option<String>,
    pub name: String,
    pub subresource: Option<String>,
    /// The `fieldManager` query parameter, when the client sent one.
    pub field_manager: Option<String>,
    /// The content type of a patch.
    pub patch_type: Option<String>,
}

/// Which requests an injected failure answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestMatcher {
    /// "get", "list", "watch", "create", "update", "patch" or "delete".
    pub verb: &'static str,
    pub plural: &'static str,
    pub subresource: Option<&'static str>,
}

#[derive(Default)]
struct Shared {
    store: Mutex<Store>,
    writes: Mutex<Vec<WriteRecord>>,
    /// Read requests (get, list, watch) that reached the store, by verb and plural, answered
    /// or not.
    reads: Mutex<HashMap<(&'static str, String), usize>>,
    failures: Mutex<Vec<Failure>>,
    tokens: Mutex<Vec<IssuedToken>>,
    /// Made on first use: an RSA key takes a while to generate, and most fakes never sign.
    issuer: OnceLock<Issuer>,
}

struct Failure {
    matcher: RequestMatcher,
    /// Matching requests let through before the failures begin.
    skip: usize,
    status: u16,
    reason: String,
    remaining: usize,
}

// Each test crate uses the part of the handle it needs.
#[allow(dead_code)]
impl FakeApiServer {
    pub fn new() -> Self {
        Self::default()
    }

    /// A client for this server, with "default" as its default namespace, allowed everything
    /// (a cluster admin's).
    pub fn client(&self) -> kube::Client {
        self.client_for(None)
    }

    /// A client whose requests are authorized against `grants`, as a service account's are:
    /// anything they do not grant is refused with 403 Forbidden.
    pub fn client_with(&self, grants: Grants) -> kube::Client {
        self.client_for(Some(grants))
    }

    /// A client as `client_with` makes, whose requests fail or hang while `link` is cut or
    /// stalled: one replica losing the API server while the others keep it.
    pub fn client_over(&self, grants: Option<Grants>, link: Link) -> kube::Client {
        self.client_through(grants, Some(link))
    }

    fn client_for(&self, grants: Option<Grants>) -> kube::Client {
        self.client_through(grants, None)
    }

    fn client_through(&self, grants: Option<Grants>, link: Option<Link>) -> kube::Client {
        let shared = self.shared.clone();
        let service = tower::service_fn(move |request| {
            let shared = shared.clone();
            let grants = grants.clone();
            let state = link.as_ref().map_or(LINK_UP, Link::state);
            if state == LINK_STALLED
                && let Some(link) = &link
            {
                link.stalled.fetch_add(1, Ordering::SeqCst);
            }
            async move {
                match state {
                    LINK_CUT => Ok::<_, Infallible>(http::unavailable()),
                    LINK_STALLED => std::future::pending().await,
                    _ => Ok(http::serve(&shared, grants.as_ref(), request).await),
                }
            }
        });
        kube::Client::new(service, "default")
    }

    /// Every successful mutating request so far, in the order they were committed.
    pub fn writes(&self) -> Vec<WriteRecord> {
        self.shared.writes.lock().expect("write log lock").clone()
    }

    pub fn count_writes(&self, verb: &str, plural: &str, subresource: Option<&str>) -> usize {
        let writes = self.shared.writes.lock().expect("write log lock");
        writes
            .iter()
            .filter(|w| {
                w.verb == verb && w.plural == plural && w.subresource.as_deref() == subresource
            })
            .count()
    }

    /// How many `verb` ("get", "list" or "watch") requests for `plural` reached the store,
    /// found or not: what reading costs the API server.
    pub fn count_reads(&self, verb: &str, plural: &str) -> usize {
        let reads = self.shared.reads.lock().expect("read log lock");
        reads
            .iter()
            .filter(|((v, p), _)| *v == verb && p == plural)
            .map(|(_, count)| count)
            .sum()
    }

    /// Every token issued through the TokenRequest API so far, in order.
    pub fn token_requests(&self) -> Vec<IssuedToken> {
        self.shared.tokens.lock().expect("token log lock").clone()
    }

    /// The stored object; `api_path_prefix` is `api/v1` or `apis/<group>/<version>`.
    pub fn get(
        &self,
        api_path_prefix: &str,
        namespace: Option<&str>,
        plural: &str,
        name: &str,
    ) -> Option<Value> {
        let key = ObjectKey {
            resource: resource::ResourceType::new(api_path_prefix.trim_matches('/'), plural),
            namespace: namespace.unwrap_or_default().to_string(),
            name: name.to_string(),
        };
        let store = self.shared.store.lock().expect("store lock");
        store.get(&key).map(|stored| stored.object.clone())
    }

    /// Answers the next `count` matching requests with a `Status` of this code and reason,
    /// before they reach the store.
    pub fn fail_next(&self, matcher: RequestMatcher, status: u16, reason: &str, count: usize) {
        self.fail_after(matcher, 0, status, reason, count);
    }

    /// Lets `skip` matching requests through, then fails the next `count` as `fail_next` does:
    /// to fail the second of two writes a client makes in a row.
    pub fn fail_after(
        &self,
        matcher: RequestMatcher,
        skip: usize,
        status: u16,
        reason: &str,
        count: usize,
    ) {
        let failure = Failure {
            matcher,
            skip,
            status,
            reason: reason.to_string(),
            remaining: count,
        };
        self.shared
            .failures
            .lock()
            .expect("failures lock")
            .push(failure);
    }

    /// Ends every open watch and forgets the watch history, as an API server restart does:
    /// watches resumed from an earlier resourceVersion get 410 Gone, so clients list again.
    pub fn restart(&self) {
        self.shared.store.lock().expect("store lock").restart();
    }
}

impl Shared {
    /// Named as a real API server names its issuer by default.
    fn issuer(&self) -> &Issuer {
        self.issuer.get_or_init(|| Issuer::new(KUBERNETES_ISSUER))
    }

    fn log_read(&self, verb: Verb, route: &Route) {
        let mut reads = self.reads.lock().expect("read log lock");
        *reads
            .entry((verb.as_str(), route.resource.plural.clone()))
            .or_default() += 1;
    }

    fn injected_failure(&self, verb: Verb, route: &Route) -> Option<ApiError> {
        let mut failures = self.failures.lock().expect("failures lock");
        let failure = failures.iter_mut().find(|f| {
            f.remaining > 0
                && f.matcher.verb == verb.as_str()
                && f.matcher.plural == route.resource.plural
                && f.matcher.subresource == route.subresource.as_deref()
        })?;
        if failure.skip > 0 {
            failure.skip -= 1;
            return None;
        }
        failure.remaining -= 1;
        let message = format!(
            "injected failure: {} {}",
            verb.as_str(),
            route.resource.plural
        );
        Some(ApiError::new(failure.status, &failure.reason, message))
    }
}
