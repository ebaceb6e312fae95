//! RBAC authorization as the API server does it: a request is allowed when a rule of a
//! ClusterRole, or of a Role in the request's namespace, grants its verb on its resource
//! (subresources named `<plural>/<subresource>`) in its API group, and names it when the rule
//! lists resourceNames (a list or watch is named by a `metadata.name=` field selector, as the
//! API server names it). Anything else is 403 Forbidden, worded as the API server words it,
//! and recorded: a test fails on a refusal the code under test only logged.

use std::sync::{Arc, Mutex};

use k8s_openapi::api::rbac::v1::PolicyRule;
use serde_json::json;

use super::{
    error::ApiError,
    route::{Query, Route, Verb},
};

/// What one subject is granted; clones share the record of what it used and was refused.
#[derive(Clone, Debug)]
pub struct Grants {
    user: String,
    /// ClusterRoles bound cluster-wide: every namespace, and cluster-scoped resources.
    cluster: Vec<PolicyRule>,
    /// Roles, by the namespace they live (and grant) in.
    namespaced: Vec<(String, Vec<PolicyRule>)>,
    used: Arc<Mutex<Vec<Access>>>,
    refused: Arc<Mutex<Vec<Access>>>,
}

/// One request, as RBAC sees it.
// Each test crate reads the fields it needs.
#[allow(dead_code)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub group: String,
    /// `<plural>` or `<plural>/<subresource>`; for a URL that names no resource, its path.
    pub resource: String,
    pub verb: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

// Each test crate uses the part of the handle it needs.
#[allow(dead_code)]
impl Grants {
    /// Nothing granted to `user` (named in refusals, as `system:serviceaccount:<ns>:<name>`).
    pub fn new(user: &str) -> Self {
        Self {
            user: user.to_string(),
            cluster: Vec::new(),
            namespaced: Vec::new(),
            used: Arc::default(),
            refused: Arc::default(),
        }
    }

    /// Grants `rules` everywhere, as a ClusterRole with a ClusterRoleBinding does.
    pub fn cluster_role(mut self, rules: Vec<PolicyRule>) -> Self {
        self.cluster.extend(rules);
        self
    }

    /// Grants `rules` in `namespace` only, as a Role with a RoleBinding does.
    pub fn role(mut self, namespace: &str, rules: Vec<PolicyRule>) -> Self {
        self.namespaced.push((namespace.to_string(), rules));
        self
    }

    /// Every request allowed so far, in order.
    pub fn used(&self) -> Vec<Access> {
        self.used.lock().expect("grants lock").clone()
    }

    /// Every request refused so far, in order.
    pub fn refused(&self) -> Vec<Access> {
        self.refused.lock().expect("grants lock").clone()
    }

    /// How many handles share this record, clients included: 1 once every client made from
    /// it is gone.
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.used)
    }

    /// A URL that names no resource: the API server authorizes it as a non-resource URL, which
    /// no rule the tests grant covers, so it is refused before anything else is said about it.
    pub(super) fn refuse_path(&self, method: &http::Method, path: &str) -> ApiError {
        let verb = method.as_str().to_ascii_lowercase();
        let message = format!(
            "forbidden: User \"{}\" cannot {verb} path \"{path}\"",
            self.user
        );
        self.refused.lock().expect("grants lock").push(Access {
            group: String::new(),
            resource: path.to_owned(),
            verb,
            namespace: None,
            name: None,
        });
        ApiError::new(403, "Forbidden", message).with_details(json!({}))
    }

    /// The issuer's discovery document and keys: the API server's default ClusterRoleBinding
    /// `system:service-account-issuer-discovery` lets every service account read them, whatever
    /// else it is granted.
    pub(super) fn allow_issuer_discovery(&self, path: &str) {
        self.used.lock().expect("grants lock").push(Access {
            group: String::new(),
            resource: path.to_owned(),
            verb: "get".to_owned(),
            namespace: None,
            name: None,
        });
    }

    /// Allows the request, recording it, or refuses it with the API server's 403, recording
    /// that too.
    pub(super) fn authorize(
        &self,
        verb: Verb,
        route: &Route,
        query: &Query,
    ) -> Result<(), ApiError> {
        let named_by_selector = match verb {
            Verb::List | Verb::Watch => query.get("fieldSelector").and_then(exact_name),
            _ => None,
        };
        let access = access(verb, route, route.name.clone().or(named_by_selector));
        if self.allows(access.clone()) {
            Ok(())
        } else {
            Err(self.forbidden(&access, route))
        }
    }

    /// A server-side apply that creates its object is authorized as a create too, once the
    /// patch is allowed: the API server's refusal names no user and gives RBAC's empty reason.
    pub(super) fn authorize_create_on_apply(
        &self,
        route: &Route,
        name: &str,
    ) -> Result<(), ApiError> {
        if self.allows(access(Verb::Create, route, Some(name.to_owned()))) {
            Ok(())
        } else {
            Err(ApiError::forbidden(&route.resource, name, ""))
        }
    }

    /// Whether `access` is granted; recorded as used or refused, as every check is, whether
    /// the request asks for it or admission does.
    pub(super) fn allows(&self, access: Access) -> bool {
        let in_namespace = self
            .namespaced
            .iter()
            .filter(|(namespace, _)| Some(namespace) == access.namespace.as_ref())
            .flat_map(|(_, rules)| rules);
        let allowed = self
            .cluster
            .iter()
            .chain(in_namespace)
            .any(|rule| grants(rule, &access));
        let record = if allowed { &self.used } else { &self.refused };
        record.lock().expect("grants lock").push(access);
        allowed
    }

    fn forbidden(&self, access: &Access, route: &Route) -> ApiError {
        let subject = match &access.name {
            Some(name) => format!("{} \"{name}\"", route.resource.qualified()),
            None => route.resource.qualified(),
        };
        let scope = match &access.namespace {
            Some(namespace) => format!("in the namespace \"{namespace}\""),
            None => "at the cluster scope".to_string(),
        };
        let message = format!(
            "{subject} is forbidden: User \"{}\" cannot {} resource \"{}\" in API group \"{}\" {scope}",
            self.user, access.verb, access.resource, access.group
        );
        let mut details = json!({"kind": route.resource.plural});
        // The API server leaves the core group's empty name out.
        if !access.group.is_empty() {
            details["group"] = json!(access.group);
        }
        if let Some(name) = &access.name {
            details["name"] = json!(name);
        }
        ApiError::new(403, "Forbidden", message).with_details(details)
    }
}

fn access(verb: Verb, route: &Route, name: Option<String>) -> Access {
    Access {
        group: route.resource.group().to_string(),
        resource: match &route.subresource {
            Some(sub) => format!("{}/{sub}", route.resource.plural),
            None => route.resource.plural.clone(),
        },
        verb: verb.as_str().to_string(),
        namespace: route.namespace.clone(),
        name,
    }
}

fn grants(rule: &PolicyRule, access: &Access) -> bool {
    let any = |values: &[String], wanted: &str| values.iter().any(|v| v == "*" || v == wanted);
    let groups = rule.api_groups.as_deref().unwrap_or_default();
    let resources = rule.resources.as_deref().unwrap_or_default();
    let names = rule.resource_names.as_deref().unwrap_or_default();
    // `*/status` grants the status of every resource.
    let resource_granted = resources.iter().any(|r| {
        r == "*"
            || *r == access.resource
            || access
                .resource
                .split_once('/')
                .is_some_and(|(_, sub)| r.strip_prefix("*/") == Some(sub))
    });
    any(groups, &access.group)
        && resource_granted
        && any(&rule.verbs, &access.verb)
        && (names.is_empty()
            || access
                .name
                .as_ref()
                .is_some_and(|name| names.contains(name)))
}

/// The name a field selector requires exactly (`metadata.name=x`, `metadata.name==x`), which the
/// API server authorizes a list or watch as, so that `resourceNames` rules can allow it.
fn exact_name(selector: &str) -> Option<String> {
    selector.split(',').find_map(|requirement| {
        let value = requirement.trim().strip_prefix("metadata.name")?;
        let value = value
            .strip_prefix("==")
            .or_else(|| value.strip_prefix('='))?;
        Some(value.to_owned())
    })
}
