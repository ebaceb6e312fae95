//! Names or IDs in the spec, resolved to IDs and cached: a value that is an existing ID is that
//! ID; otherwise it is looked up by name, and a name shared by several resources is an error.
//!
//! What is not found is not cached, so it is found once it exists; but a list fetched moments
//! ago answers again for a while, so that many resources naming something missing (applied
//! before it was created) share one List call instead of making one each.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::aws::{
    AppConfig,
    error::AwsError,
    model::{Named, Strategy},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Application,
    Environment,
    ConfigurationProfile,
    DeploymentStrategy,
    /// A hosted configuration version, by number or label.
    ConfigurationVersion,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Self::Application => "application",
            Self::Environment => "environment",
            Self::ConfigurationProfile => "configuration profile",
            Self::DeploymentStrategy => "deployment strategy",
            Self::ConfigurationVersion => "hosted configuration version",
        }
    }

    fn field(self) -> &'static str {
        match self {
            Self::Application => "spec.application",
            Self::Environment => "spec.environment",
            Self::ConfigurationProfile => "spec.configurationProfile",
            Self::DeploymentStrategy => "spec.deploymentStrategy",
            Self::ConfigurationVersion => "spec.configurationVersion",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    #[error("{} '{value}' ({}) does not exist{}", kind.label(), kind.field(), within(*kind, parent))]
    NotFound {
        kind: Kind,
        value: String,
        parent: Option<String>,
    },
    #[error("{} name '{value}' ({}) is ambiguous{}: it names {}; use an ID", kind.label(), kind.field(), within(*kind, parent), ids.join(", "))]
    Ambiguous {
        kind: Kind,
        value: String,
        parent: Option<String>,
        ids: Vec<String>,
    },
    #[error(transparent)]
    Aws(#[from] AwsError),
}

fn within(kind: Kind, parent: &Option<String>) -> String {
    let container = match kind {
        Kind::ConfigurationVersion => "configuration profile",
        _ => "application",
    };
    parent
        .as_ref()
        .map(|p| format!(" in {container} {p}"))
        .unwrap_or_default()
}

/// The application, environment, profile and strategy a resource's spec names.
#[derive(Debug, Clone, PartialEq)]
pub struct Names {
    pub application: String,
    pub environment: String,
    pub profile: String,
    pub strategy: String,
    /// What the strategy does, when a listing of strategies said it.
    pub strategy_shape: Option<Strategy>,
}

/// The IDs a resource's spec names, and the version it declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Ids {
    pub application: String,
    pub environment: String,
    pub profile: String,
    pub strategy: String,
    /// The declared version first, then its other names: a hosted version's number and label.
    pub versions: Vec<String>,
    /// The declared version, when it is a hosted one.
    pub hosted: Option<HostedVersion>,
    /// What the strategy does, when a listing of strategies said it.
    pub strategy_shape: Option<Strategy>,
    /// SHA-256 of the content the declared version was made from (spec.content or
    /// spec.contentFrom).
    pub content_sha256: Option<String>,
}

impl Ids {
    /// `declared` is the version as the spec names it (for content: the hosted version's
    /// number); `hosted` what it is in the hosted store.
    pub fn new(
        names: Names,
        declared: String,
        hosted: Option<HostedVersion>,
        content_sha256: Option<String>,
    ) -> Self {
        let mut versions = vec![declared];
        // Versions made from content are known by number only: one label may name several of
        // them (spec.versionLabel stays when the content changes).
        if let Some(h) = hosted.as_ref().filter(|_| content_sha256.is_none()) {
            versions.extend([h.number.to_string()].into_iter().chain(h.label.clone()));
            versions.dedup();
            versions.retain(|n| !n.is_empty());
        }
        Self {
            application: names.application,
            environment: names.environment,
            profile: names.profile,
            strategy: names.strategy,
            versions,
            hosted,
            strategy_shape: names.strategy_shape,
            content_sha256,
        }
    }

    /// The version the resource converges on, as StartDeployment takes it.
    pub fn declared(&self) -> &str {
        &self.versions[0]
    }
}

/// A hosted configuration version's number and label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedVersion {
    pub number: i32,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    region: String,
    kind: Kind,
    parent: Option<String>,
    value: String,
}

/// Resolved IDs shared by every resource; an entry is dropped when AWS says the ID is gone.
#[derive(Clone)]
pub struct Resolver {
    cache: Arc<Mutex<HashMap<Key, String>>>,
    /// Whether a profile (by region and ID) uses AppConfig's hosted store.
    hosted: Arc<Mutex<HashMap<(String, String), bool>>>,
    /// What each strategy (by region and ID) does.
    strategies: Arc<Mutex<HashMap<(String, String), Strategy>>>,
    /// A declared version, by (region, application, profile, declared): `None` when it is no
    /// hosted version (another store's version is known only as written).
    versions: Arc<Mutex<HashMap<Key, Option<HostedVersion>>>>,
    /// Lists fetched lately (by region, kind and parent), which answer misses again for a while.
    lists: Recent<Key, Arc<Vec<Named>>>,
    /// Hosted versions found missing lately.
    missing_versions: Recent<Key, ()>,
    /// One lookup per list at a time: resources that miss the cache together (at start-up)
    /// wait for the first lookup instead of repeating it.
    lookups: Arc<Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Resolver {
    /// A resolver that answers a miss from a list fetched less than `reuse_lists_for` ago.
    pub fn new(reuse_lists_for: Duration) -> Self {
        Self {
            cache: Arc::default(),
            hosted: Arc::default(),
            strategies: Arc::default(),
            versions: Arc::default(),
            lists: Recent::new(reuse_lists_for),
            missing_versions: Recent::new(reuse_lists_for),
            lookups: Arc::default(),
        }
    }

    /// The application, environment, profile and strategy the spec names.
    pub async fn names(
        &self,
        aws: &AppConfig,
        region: &str,
        spec: &crate::api::v1alpha1::AppConfigDeploymentSpec,
    ) -> Result<Names, ResolveError> {
        let application = self
            .one(aws, region, Kind::Application, None, &spec.application)
            .await?;
        let parent = Some(application.as_str());
        let environment = self
            .one(aws, region, Kind::Environment, parent, &spec.environment)
            .await?;
        let profile = self
            .one(
                aws,
                region,
                Kind::ConfigurationProfile,
                parent,
                &spec.configuration_profile,
            )
            .await?;
        let strategy = self
            .one(
                aws,
                region,
                Kind::DeploymentStrategy,
                None,
                &spec.deployment_strategy,
            )
            .await?;
        let strategy_shape = self
            .strategies
            .lock()
            .expect("never poisoned")
            .get(&(region.to_owned(), strategy.clone()))
            .cloned();
        Ok(Names {
            application,
            environment,
            profile,
            strategy,
            strategy_shape,
        })
    }

    /// The hosted version `declared` names, by number or label; `None` for a profile of
    /// another store, whose versions are known only as written.
    pub async fn version(
        &self,
        aws: &AppConfig,
        region: &str,
        names: &Names,
        declared: &str,
    ) -> Result<Option<HostedVersion>, ResolveError> {
        let (application, profile) = (names.application.as_str(), names.profile.as_str());
        let key = key(
            region,
            Kind::ConfigurationVersion,
            Some(format!("{application}/{profile}")),
            declared,
        );
        let cached = || {
            self.versions
                .lock()
                .expect("never poisoned")
                .get(&key)
                .cloned()
        };
        let missing = || ResolveError::NotFound {
            kind: Kind::ConfigurationVersion,
            value: declared.to_owned(),
            parent: Some(profile.to_owned()),
        };
        if let Some(version) = cached() {
            return Ok(version);
        }
        let _turn = self.turn(key.clone()).await;
        if let Some(version) = cached() {
            return Ok(version);
        }
        if self.missing_versions.get(&key).is_some() {
            return Err(missing());
        }
        let hosted_key = (region.to_owned(), profile.to_owned());
        let known = self
            .hosted
            .lock()
            .expect("never poisoned")
            .get(&hosted_key)
            .copied();
        let hosted = match known {
            Some(hosted) => hosted,
            None => self
                .profiles(aws, region, application)
                .await?
                .iter()
                .any(|p| p.id == profile && p.location_uri.as_deref() == Some("hosted")),
        };
        let version = if hosted {
            let Some((number, label)) = aws.hosted_version(application, profile, declared).await?
            else {
                self.missing_versions.put(key, ());
                return Err(missing());
            };
            Some(HostedVersion { number, label })
        } else {
            None
        };
        self.versions
            .lock()
            .expect("never poisoned")
            .insert(key, version.clone());
        Ok(version)
    }

    /// The application's profiles, noting which use the hosted store.
    async fn profiles(
        &self,
        aws: &AppConfig,
        region: &str,
        application: &str,
    ) -> Result<Vec<Named>, AwsError> {
        let profiles = aws.list_configuration_profiles(application).await?;
        let mut hosted = self.hosted.lock().expect("never poisoned");
        for p in &profiles {
            hosted.insert(
                (region.to_owned(), p.id.clone()),
                p.location_uri.as_deref() == Some("hosted"),
            );
        }
        Ok(profiles)
    }

    /// Seeds the cache with the IDs a status shows for the spec they were resolved from, so a
    /// restart does not list every application again; `ids` are the application, environment,
    /// profile and strategy IDs, in that order. Entries already cached stay.
    pub fn remember(
        &self,
        region: &str,
        spec: &crate::api::v1alpha1::AppConfigDeploymentSpec,
        ids: [&str; 4],
    ) {
        let [application, environment, profile, strategy] = ids;
        let mut cache = self.cache.lock().expect("the cache is never poisoned");
        let app = Some(application.to_owned());
        for (kind, parent, value, id) in [
            (Kind::Application, None, &spec.application, application),
            (
                Kind::Environment,
                app.clone(),
                &spec.environment,
                environment,
            ),
            (
                Kind::ConfigurationProfile,
                app,
                &spec.configuration_profile,
                profile,
            ),
            (
                Kind::DeploymentStrategy,
                None,
                &spec.deployment_strategy,
                strategy,
            ),
        ] {
            // What a lookup found since stays: a NotFound may have replaced a dead ID.
            cache
                .entry(key(region, kind, parent, value))
                .or_insert_with(|| id.to_owned());
        }
    }

    /// Forgets what a spec resolved to, after AWS said one of its IDs does not exist.
    pub fn forget(&self, region: &str, spec: &crate::api::v1alpha1::AppConfigDeploymentSpec) {
        let values = [
            &spec.application,
            &spec.environment,
            &spec.configuration_profile,
            &spec.deployment_strategy,
        ];
        self.cache
            .lock()
            .expect("the cache is never poisoned")
            .retain(|k, _| !(k.region == region && values.contains(&&k.value)));
        self.versions
            .lock()
            .expect("never poisoned")
            .retain(|k, _| {
                !(k.region == region && Some(&k.value) == spec.configuration_version.as_ref())
            });
        // A recent list may still hold the ID that is gone.
        self.lists.retain(|k| k.region != region);
    }

    async fn one(
        &self,
        aws: &AppConfig,
        region: &str,
        kind: Kind,
        parent: Option<&str>,
        value: &str,
    ) -> Result<String, ResolveError> {
        let key = key(region, kind, parent.map(str::to_owned), value);
        let cached = || {
            self.cache
                .lock()
                .expect("never poisoned")
                .get(&key)
                .cloned()
        };
        if let Some(id) = cached() {
            return Ok(id);
        }
        let list = self::key(region, kind, parent.map(str::to_owned), "");
        let _turn = self.turn(list.clone()).await;
        if let Some(id) = cached() {
            return Ok(id);
        }
        // Not in the cache, so not in the last list either: a recent one answers the same.
        if let Some(candidates) = self.lists.get(&list) {
            return pick(&candidates, kind, parent, value);
        }
        let candidates = match (kind, parent) {
            (Kind::Application, _) => aws.list_applications().await?,
            (Kind::Environment, Some(app)) => aws.list_environments(app).await?,
            (Kind::ConfigurationProfile, Some(app)) => self.profiles(aws, region, app).await?,
            (Kind::DeploymentStrategy, _) => aws.list_deployment_strategies().await?,
            (Kind::Environment | Kind::ConfigurationProfile | Kind::ConfigurationVersion, _) => {
                Vec::new()
            }
        };
        self.remember_list(region, kind, parent, &candidates);
        let found = pick(&candidates, kind, parent, value);
        self.lists.put(list, Arc::new(candidates));
        found
    }

    /// Every ID of a list, and every name it holds once: the other resources of the same
    /// application find theirs without listing again.
    fn remember_list(&self, region: &str, kind: Kind, parent: Option<&str>, list: &[Named]) {
        let mut strategies = self.strategies.lock().expect("never poisoned");
        for c in list {
            if let Some(strategy) = &c.strategy {
                strategies.insert((region.to_owned(), c.id.clone()), strategy.clone());
            }
        }
        let mut cache = self.cache.lock().expect("never poisoned");
        for c in list {
            let parent = parent.map(str::to_owned);
            cache.insert(key(region, kind, parent.clone(), &c.id), c.id.clone());
            if list.iter().filter(|other| other.name == c.name).count() == 1 {
                cache.insert(key(region, kind, parent, &c.name), c.id.clone());
            }
        }
    }

    /// Waits for the lookup of `list` others may be making.
    async fn turn(&self, list: Key) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = Arc::clone(
            self.lookups
                .lock()
                .expect("never poisoned")
                .entry(list)
                .or_default(),
        );
        lock.lock_owned().await
    }
}

/// Answers kept for a while: each expires `ttl` after it was put.
#[derive(Clone)]
struct Recent<K, V> {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<K, (Instant, V)>>>,
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }

    fn get(&self, key: &K) -> Option<V> {
        let mut entries = self.entries.lock().expect("never poisoned");
        match entries.get(key) {
            Some((at, value)) if at.elapsed() < self.ttl => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    fn put(&self, key: K, value: V) {
        let mut entries = self.entries.lock().expect("never poisoned");
        // Expired entries go when new ones come, so that the map stays as small as what is
        // current.
        entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
        entries.insert(key, (Instant::now(), value));
    }

    fn retain(&self, keep: impl Fn(&K) -> bool) {
        self.entries
            .lock()
            .expect("never poisoned")
            .retain(|k, _| keep(k));
    }
}

fn key(region: &str, kind: Kind, parent: Option<String>, value: &str) -> Key {
    Key {
        region: region.to_owned(),
        kind,
        parent,
        value: value.to_owned(),
    }
}

fn pick(
    candidates: &[Named],
    kind: Kind,
    parent: Option<&str>,
    value: &str,
) -> Result<String, ResolveError> {
    if candidates.iter().any(|c| c.id == value) {
        return Ok(value.to_owned());
    }
    let ids: Vec<String> = candidates
        .iter()
        .filter(|c| c.name == value)
        .map(|c| c.id.clone())
        .collect();
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(ResolveError::NotFound {
            kind,
            value: value.to_owned(),
            parent: parent.map(str::to_owned),
        }),
        _ => Err(ResolveError::Ambiguous {
            kind,
            value: value.to_owned(),
            parent: parent.map(str::to_owned),
            ids,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(id: &str, name: &str) -> Named {
        Named {
            id: id.into(),
            name: name.into(),
            location_uri: None,
            strategy: None,
        }
    }

    #[test]
    fn recent_answers_expire() {
        let recent = Recent::new(Duration::from_millis(50));
        recent.put("apps", 1);
        assert_eq!(recent.get(&"apps"), Some(1));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(recent.get(&"apps"), None, "expired");
        recent.put("envs", 2);
        recent.retain(|k| *k != "envs");
        assert_eq!(recent.get(&"envs"), None, "dropped");
    }

    #[test]
    fn an_id_wins_over_a_name() {
        let list = [named("abc1234", "checkout"), named("def5678", "abc1234")];
        assert_eq!(
            pick(&list, Kind::Application, None, "abc1234").unwrap(),
            "abc1234"
        );
        assert_eq!(
            pick(&list, Kind::Application, None, "checkout").unwrap(),
            "abc1234"
        );
    }

    #[test]
    fn missing_and_ambiguous_names_say_which_field_and_parent() {
        let list = [named("e1", "prod"), named("e2", "prod")];
        let missing = pick(&list, Kind::Environment, Some("app1"), "staging").unwrap_err();
        assert_eq!(
            missing.to_string(),
            "environment 'staging' (spec.environment) does not exist in application app1"
        );
        let ambiguous = pick(&list, Kind::Environment, Some("app1"), "prod").unwrap_err();
        assert_eq!(
            ambiguous.to_string(),
            "environment name 'prod' (spec.environment) is ambiguous in application app1: it names e1, e2; use an ID"
        );
    }
}
