//! Where a request goes: the resource, namespace, name and subresource in its URL path, its verb
//! and its query parameters.

use std::collections::HashMap;

use http::Method;

use super::{resource::ResourceType, store::ObjectKey};

pub(super) struct Route {
    pub resource: ResourceType,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Watch => "watch",
            Self::Create => "create",
            Self::Update => "update",
            Self::Patch => "patch",
            Self::Delete => "delete",
        }
    }

    pub fn is_write(self) -> bool {
        matches!(
            self,
            Self::Create | Self::Update | Self::Patch | Self::Delete
        )
    }
}

impl Route {
    pub fn parse(path: &str) -> Option<Self> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (prefix, rest) = match segments.as_slice() {
            ["api", version, rest @ ..] => (format!("api/{version}"), rest),
            ["apis", group, version, rest @ ..] => (format!("apis/{group}/{version}"), rest),
            _ => return None,
        };
        let core = prefix.starts_with("api/");
        let (namespace, plural, tail) = match rest {
            // A namespace's own subresources share their shape with a namespaced collection.
            ["namespaces", _, "status" | "finalize"] if core => {
                (None, "namespaces", rest.get(1..)?)
            }
            ["namespaces", namespace, plural, tail @ ..] => {
                (Some(namespace.to_string()), *plural, tail)
            }
            [plural, tail @ ..] => (None, *plural, tail),
            [] => return None,
        };
        let (name, subresource) = match tail {
            [] => (None, None),
            [name] => (Some(name.to_string()), None),
            [name, subresource] => (Some(name.to_string()), Some(subresource.to_string())),
            _ => return None,
        };
        Some(Self {
            resource: ResourceType::new(&prefix, plural),
            namespace,
            name,
            subresource,
        })
    }

    pub fn verb(&self, method: &Method, query: &Query) -> Option<Verb> {
        let verb = match (method.as_str(), self.name.is_some()) {
            ("GET", true) => Verb::Get,
            ("GET", false) if query.flag("watch") => Verb::Watch,
            ("GET", false) => Verb::List,
            ("POST", false) => Verb::Create,
            // A subresource such as a service account's token is created under its object.
            ("POST", true) if self.subresource.is_some() => Verb::Create,
            ("PUT", true) => Verb::Update,
            ("PATCH", true) => Verb::Patch,
            ("DELETE", true) => Verb::Delete,
            _ => return None,
        };
        Some(verb)
    }

    pub fn key(&self, name: &str) -> ObjectKey {
        ObjectKey {
            resource: self.resource.clone(),
            namespace: self.namespace.clone().unwrap_or_default(),
            name: name.to_string(),
        }
    }
}

pub(super) struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(query: Option<&str>) -> Self {
        let pairs = form_urlencoded::parse(query.unwrap_or_default().as_bytes());
        Self(pairs.into_owned().collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}
