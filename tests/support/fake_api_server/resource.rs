//! What the fake knows about a resource type from its URL alone: how the API server names it in
//! messages, and the strategy differences between resource types that clients can observe.

/// A resource type: the API path prefix (`api/v1` or `apis/<group>/<version>`) and its plural.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct ResourceType {
    pub prefix: String,
    pub plural: String,
}

/// Built-in resources with a status subresource, by group and plural, and whether their strategy
/// maintains `metadata.generation`.
const BUILTIN_WITH_STATUS: &[(&str, &str, bool)] = &[
    ("", "namespaces", false),
    ("", "nodes", false),
    ("", "pods", false),
    ("", "services", false),
    ("", "persistentvolumeclaims", false),
    ("apps", "deployments", true),
    ("apps", "statefulsets", true),
    ("apps", "replicasets", true),
    ("apps", "daemonsets", true),
    ("batch", "jobs", true),
    ("batch", "cronjobs", true),
];

impl ResourceType {
    pub fn new(prefix: &str, plural: &str) -> Self {
        Self {
            prefix: prefix.to_string(),
            plural: plural.to_string(),
        }
    }

    pub fn namespaces() -> Self {
        Self::new("api/v1", "namespaces")
    }

    /// The API group; empty for the core group.
    pub fn group(&self) -> &str {
        self.prefix
            .strip_prefix("apis/")
            .and_then(|group_version| group_version.split('/').next())
            .unwrap_or_default()
    }

    pub fn api_version(&self) -> &str {
        self.prefix
            .strip_prefix("apis/")
            .or_else(|| self.prefix.strip_prefix("api/"))
            .unwrap_or(&self.prefix)
    }

    /// `<plural>.<group>`, or `<plural>` in the core group, as error messages name a resource.
    pub fn qualified(&self) -> String {
        qualify(&self.plural, self.group())
    }

    /// `<Kind>.<group>`, or `<Kind>` in the core group, as validation errors name a resource.
    pub fn qualified_kind(&self, kind: &str) -> String {
        qualify(kind, self.group())
    }

    /// CRD groups must contain a dot, and Kubernetes reserves `*.k8s.io` and `*.kubernetes.io`
    /// for its own APIs, so the group alone tells custom resources apart.
    pub fn is_custom(&self) -> bool {
        let group = self.group();
        group.contains('.') && !group.ends_with("k8s.io") && !group.ends_with("kubernetes.io")
    }

    pub fn is_namespace(&self) -> bool {
        *self == Self::namespaces()
    }

    pub fn has_status(&self) -> bool {
        self.is_custom() || self.builtin_with_status().is_some()
    }

    pub fn tracks_generation(&self) -> bool {
        self.is_custom() || self.builtin_with_status() == Some(true)
    }

    /// Custom resources must name the resourceVersion they replace; built-ins may overwrite.
    pub fn allows_unconditional_update(&self) -> bool {
        !self.is_custom()
    }

    pub fn supports_strategic_merge(&self) -> bool {
        !self.is_custom()
    }

    fn builtin_with_status(&self) -> Option<bool> {
        BUILTIN_WITH_STATUS
            .iter()
            .find(|(group, plural, _)| *group == self.group() && *plural == self.plural)
            .map(|&(_, _, generation)| generation)
    }
}

fn qualify(name: &str, group: &str) -> String {
    if group.is_empty() {
        name.to_string()
    } else {
        format!("{name}.{group}")
    }
}
