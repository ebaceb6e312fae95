//! One hosted configuration version per distinct content of a profile, whoever asks.
//!
//! The operator marks the versions it creates: their Description is `MARK` followed by the
//! content's SHA-256. A version holds a resource's content when its mark, Content-Type and
//! VersionLabel match, which ListHostedConfigurationVersions tells without downloading any
//! content. Creation passes the newest version number seen as `LatestVersionNumber`, so that two
//! operators racing for the same content cannot both create it: the loser's create is refused
//! with a ConflictException, and it lists again and finds the winner's version.
//!
//! What is known of a profile's versions is shared by every identity in the operator (the
//! ServiceAccounts resources act as), and so is the turn to create one: it is keyed by the
//! profile's IDs, which each resource resolved as itself, and read by the hash of content the
//! resource holds itself, so it tells no identity anything about AWS that its own calls would
//! not. Every AWS call is still made as the resource's own identity.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::source::Content;
use crate::{
    aws::{
        AppConfig,
        appconfig::NewHostedVersion,
        error::{AwsError, ErrorKind},
        model::HostedVersionSummary,
    },
    controller::resolve::HostedVersion,
};

/// The start of the Description of every hosted version the operator creates.
pub const MARK: &str = "appconfig-operator content sha256:";

/// Creates refused with a ConflictException, each followed by a listing that did not find the
/// content, before the operator gives up until the resync: more means the lock cannot be met
/// (AppConfig counting a deleted newest version, say, or refusing a repeated VersionLabel),
/// not a race.
const CONFLICTS: usize = 3;

/// What identifies a version made from content: its hash, Content-Type and label.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Mark {
    sha256: String,
    content_type: String,
    label: Option<String>,
}

impl Mark {
    fn of(content: &Content) -> Self {
        Self {
            sha256: content.sha256.clone(),
            content_type: content.content_type.clone(),
            label: content.label.clone(),
        }
    }

    /// The mark of a listed version, if the operator created it.
    fn read(version: &HostedVersionSummary) -> Option<Self> {
        let sha256 = version.description.as_deref()?.strip_prefix(MARK)?;
        let is_sha256 = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        is_sha256.then(|| Self {
            sha256: sha256.to_ascii_lowercase(),
            content_type: version.content_type.clone().unwrap_or_default(),
            label: version.label.clone(),
        })
    }
}

/// What the operator knows of one profile's versions.
#[derive(Debug, Default)]
struct Index {
    /// Whether `versions` and `latest` come from a listing (else they are unknown).
    listed: bool,
    /// The newest version number of the profile.
    latest: i32,
    versions: HashMap<Mark, HostedVersion>,
    /// Content AppConfig refused, and when: not sent again before the resync interval passed
    /// (the profile or its validators may have been fixed by then), never in a loop.
    refused: HashMap<Mark, (Instant, AwsError)>,
}

impl Index {
    fn load(&mut self, listed: &[HostedVersionSummary]) {
        self.versions.clear();
        let mut listed: Vec<&HostedVersionSummary> = listed.iter().collect();
        // Of several versions with the same content, the oldest serves.
        listed.sort_by_key(|v| v.number);
        for version in &listed {
            if let Some(mark) = Mark::read(version) {
                self.versions.entry(mark).or_insert_with(|| hosted(version));
            }
        }
        self.latest = listed.last().map_or(0, |v| v.number);
        self.listed = true;
    }
}

/// A profile, as (region, application ID, profile ID).
type ProfileKey = (String, String, String);

/// Hosted versions made from content, per profile.
#[derive(Clone)]
pub struct HostedVersions {
    profiles: Arc<Mutex<HashMap<ProfileKey, Arc<tokio::sync::Mutex<Index>>>>>,
    /// How long a refusal answers for the same content.
    refusals_last: Duration,
}

impl HostedVersions {
    pub fn new(refusals_last: Duration) -> Self {
        Self {
            profiles: Arc::default(),
            refusals_last,
        }
    }

    /// The hosted version of `profile` (in `region`) that holds `content`, created if there is
    /// none.
    pub async fn version_for(
        &self,
        aws: &AppConfig,
        region: &str,
        application: &str,
        profile: &str,
        content: &Content,
    ) -> Result<HostedVersion, AwsError> {
        let index = self.index(region, application, profile);
        // Resources of one profile take turns: the second finds what the first created.
        let mut index = index.lock().await;
        let mark = Mark::of(content);
        let refusals_last = self.refusals_last;
        index
            .refused
            .retain(|_, (at, _)| at.elapsed() < refusals_last);
        if let Some((_, refusal)) = index.refused.get(&mark) {
            return Err(refusal.clone());
        }
        let mut conflicts = 0;
        loop {
            if let Some(version) = index.versions.get(&mark) {
                return Ok(version.clone());
            }
            if !index.listed {
                let listed = aws.list_hosted_versions(application, profile).await?;
                index.load(&listed);
                continue;
            }
            if conflicts == CONFLICTS {
                return Err(stuck(profile, index.latest));
            }
            let request = NewHostedVersion {
                content: content.bytes.clone(),
                content_type: content.content_type.clone(),
                description: format!("{MARK}{}", content.sha256),
                label: content.label.clone(),
                latest_version_number: index.latest,
            };
            match aws
                .create_hosted_version(application, profile, &request)
                .await
            {
                Ok(created) => {
                    index.latest = index.latest.max(created.number);
                    index.versions.insert(mark.clone(), hosted(&created));
                }
                // Someone created a version since the listing: it may be this content.
                Err(e) if e.kind == ErrorKind::Conflict => {
                    conflicts += 1;
                    index.listed = false;
                }
                Err(e) if e.kind == ErrorKind::InvalidContent => {
                    index.refused.insert(mark, (Instant::now(), e.clone()));
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Forgets what is known of a profile's versions (one was deleted, say), in every region:
    /// the next request lists them again.
    pub fn forget(&self, application: &str, profile: &str) {
        self.profiles
            .lock()
            .expect("never poisoned")
            .retain(|(_, a, p), _| !(a == application && p == profile));
    }

    fn index(
        &self,
        region: &str,
        application: &str,
        profile: &str,
    ) -> Arc<tokio::sync::Mutex<Index>> {
        let key = (
            region.to_owned(),
            application.to_owned(),
            profile.to_owned(),
        );
        Arc::clone(
            self.profiles
                .lock()
                .expect("never poisoned")
                .entry(key)
                .or_default(),
        )
    }
}

/// The answer when every create conflicted: a request AppConfig keeps refusing, which waits for
/// the resync (or a change) rather than being retried at once.
fn stuck(profile: &str, latest: i32) -> AwsError {
    AwsError {
        kind: ErrorKind::InvalidRequest,
        operation: "CreateHostedConfigurationVersion",
        code: "ConflictException".into(),
        message: format!(
            "AppConfig refused {CONFLICTS} creates of a version of configuration profile {profile} with a ConflictException, though no version of this content appeared; the newest version listed is {latest}. A deleted newest version, or a VersionLabel AppConfig will not repeat (spec.versionLabel), can cause this"
        ),
    }
}

fn hosted(version: &HostedVersionSummary) -> HostedVersion {
    HostedVersion {
        number: version.number,
        label: version.label.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn listed(number: i32, description: Option<&str>, label: Option<&str>) -> HostedVersionSummary {
        HostedVersionSummary {
            number,
            description: description.map(str::to_owned),
            content_type: Some("application/json".into()),
            label: label.map(str::to_owned),
        }
    }

    fn mark(label: Option<&str>) -> Mark {
        Mark {
            sha256: SHA.into(),
            content_type: "application/json".into(),
            label: label.map(str::to_owned),
        }
    }

    #[test]
    fn only_the_operators_mark_with_a_whole_hash_is_read() {
        let marked = format!("{MARK}{SHA}");
        assert_eq!(
            Mark::read(&listed(1, Some(&marked), None)),
            Some(mark(None))
        );
        assert_eq!(Mark::read(&listed(1, Some("made by hand"), None)), None);
        assert_eq!(Mark::read(&listed(1, None, None)), None);
        let short = format!("{MARK}{}", &SHA[..63]);
        assert_eq!(Mark::read(&listed(1, Some(&short), None)), None);
        let not_hex = format!("{MARK}{}", "z".repeat(64));
        assert_eq!(Mark::read(&listed(1, Some(&not_hex), None)), None);
    }

    #[test]
    fn a_listing_keeps_the_oldest_version_of_each_content_and_the_newest_number() {
        let marked = format!("{MARK}{SHA}");
        let mut index = Index::default();
        index.load(&[
            listed(9, Some("made by hand"), None),
            listed(7, Some(&marked), None),
            listed(4, Some(&marked), None),
            listed(5, Some(&marked), Some("v2")),
        ]);
        assert!(index.listed);
        assert_eq!(index.latest, 9, "unmarked versions count for the lock");
        assert_eq!(index.versions[&mark(None)].number, 4);
        assert_eq!(index.versions[&mark(Some("v2"))].number, 5);
        assert_eq!(index.versions.len(), 2);
    }
}
