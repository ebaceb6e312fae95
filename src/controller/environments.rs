//! Each environment's deployments, read with ListDeployments and shared by every resource of
//! that environment, so settled resources of one environment cost one call per resync.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::aws::{
    AppConfig,
    error::AwsError,
    model::{DeploymentSummary, served},
};

/// How many pages of history are read, at most, looking for a profile's served deployment.
const MAX_PAGES: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvironmentKey {
    pub region: String,
    pub application: String,
    pub environment: String,
}

impl EnvironmentKey {
    /// The environment `ids` name, as seen from `scope`.
    pub fn of(scope: &str, ids: &super::resolve::Ids) -> Self {
        Self {
            region: scope.to_owned(),
            application: ids.application.clone(),
            environment: ids.environment.clone(),
        }
    }
}

struct Listing {
    read_at: Instant,
    deployments: Arc<Vec<DeploymentSummary>>,
    /// Nothing more would be read for any profile: the history ended, or [`MAX_PAGES`] did.
    exhausted: bool,
}

#[derive(Clone, Default)]
pub struct Environments {
    listings: Arc<Mutex<HashMap<EnvironmentKey, Listing>>>,
    /// A deployment's profile never changes, so what GetDeployment said is kept.
    profiles: Arc<Mutex<HashMap<(EnvironmentKey, i32), String>>>,
}

impl Environments {
    /// The environment's deployments, newest first, each with its profile. A listing younger
    /// than `max_age` is reused; `None` reads AppConfig now.
    pub async fn deployments(
        &self,
        aws: &AppConfig,
        key: &EnvironmentKey,
        profile_id: &str,
        max_age: Option<Duration>,
    ) -> Result<Arc<Vec<DeploymentSummary>>, AwsError> {
        if let Some(max_age) = max_age {
            let listings = self.listings.lock().expect("never poisoned");
            if let Some(l) = listings.get(key)
                && l.read_at.elapsed() < max_age
                && (l.exhausted || served(&l.deployments, profile_id).is_some())
            {
                return Ok(Arc::clone(&l.deployments));
            }
        }
        let read_at = Instant::now();
        let (mut deployments, mut next_token) = aws
            .list_deployments(&key.application, &key.environment, None)
            .await?;
        self.fill_profiles(aws, key, &mut deployments).await?;
        let mut pages = 1;
        while next_token.is_some()
            && served(&deployments, profile_id).is_none()
            && pages < MAX_PAGES
        {
            let (mut more, next) = aws
                .list_deployments(&key.application, &key.environment, next_token.take())
                .await?;
            self.fill_profiles(aws, key, &mut more).await?;
            deployments.extend(more);
            next_token = next;
            pages += 1;
        }
        let deployments = Arc::new(deployments);
        self.listings.lock().expect("never poisoned").insert(
            key.clone(),
            Listing {
                read_at,
                deployments: Arc::clone(&deployments),
                exhausted: next_token.is_none() || pages == MAX_PAGES,
            },
        );
        Ok(deployments)
    }

    /// Drops the listing after a write to the environment, so nobody reuses what it changed.
    pub fn invalidate(&self, key: &EnvironmentKey) {
        self.listings.lock().expect("never poisoned").remove(key);
    }

    /// ListDeployments may not name each deployment's profile; GetDeployment does.
    async fn fill_profiles(
        &self,
        aws: &AppConfig,
        key: &EnvironmentKey,
        deployments: &mut [DeploymentSummary],
    ) -> Result<(), AwsError> {
        for d in deployments.iter_mut().filter(|d| d.profile_id.is_none()) {
            let known = self
                .profiles
                .lock()
                .expect("never poisoned")
                .get(&(key.clone(), d.number))
                .cloned();
            let profile = match known {
                Some(p) => p,
                None => {
                    let detail = aws
                        .get_deployment(&key.application, &key.environment, d.number)
                        .await?;
                    let p = detail.summary.profile_id.unwrap_or_default();
                    self.profiles
                        .lock()
                        .expect("never poisoned")
                        .insert((key.clone(), d.number), p.clone());
                    p
                }
            };
            d.profile_id = Some(profile);
        }
        Ok(())
    }
}
