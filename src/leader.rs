//! Leader election on a `coordination.k8s.io/v1` Lease, so that of several replicas exactly one
//! reconciles.
//!
//! The protocol is client-go's: the holder renews `renewTime` every retry period; another
//! replica takes the lease once it has seen the same record, unchanged, for the lease duration
//! (measured on its own clock, so clock skew between nodes does not matter), or at once when
//! the holder released it. Every write is an update guarded by the resourceVersion read just
//! before, so of two replicas racing for the lease exactly one wins.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::MicroTime,
};
use kube::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};

/// Which lease, who this replica is, and how fast the lease changes hands.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub name: String,
    pub namespace: String,
    /// The holder identity this replica writes: unique to the process ([`unique_identity`]),
    /// or two replicas would both renew the one lease.
    pub identity: String,
    /// How long a lease nobody renews stays with its holder.
    pub duration: Duration,
    /// How often the leader renews and a standby tries to take over.
    pub retry_period: Duration,
}

impl LeaseSettings {
    /// How long a leader keeps reconciling without a successful renewal, counted from the start
    /// of its last successful attempt: two thirds of the lease duration, a hard limit.
    pub fn renew_deadline(&self) -> Duration {
        self.duration.mul_f64(2.0 / 3.0)
    }

    /// Refuses settings under which a leader could not renew in time, or might still reconcile
    /// when a standby takes over.
    pub fn check(&self) -> Result<(), String> {
        if self.duration < Duration::from_secs(1) {
            return Err("--lease-duration must be at least 1s".to_owned());
        }
        // A standby takes over no sooner than the lease duration after the leader's last
        // renewal; the leader stops at the renew deadline. The retry period left between them
        // covers tearing the controllers down.
        if self.retry_period + self.renew_deadline() >= self.duration {
            return Err(format!(
                "--lease-retry-period ({}) must be shorter than a third of --lease-duration ({}), so a leader that cannot renew stops well before a standby takes over",
                humantime::format_duration(self.retry_period),
                humantime::format_duration(self.duration)
            ));
        }
        Ok(())
    }
}

/// `instance` with a suffix drawn afresh by every process, as client-go does: replicas given
/// the same `--instance` (or none) still hold the lease under distinct identities.
pub fn unique_identity(instance: &str) -> String {
    let suffix: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{instance}_{suffix}")
}

/// What one attempt on the lease found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// This replica holds the lease now.
    Held,
    /// Another replica holds it, and it has not expired.
    HeldElsewhere,
    /// Another write got in between the read and the write: try again.
    Raced,
}

/// The lease record as this replica last saw it, and when it first saw it so.
struct Observed {
    holder: Option<String>,
    renew_time: Option<MicroTime>,
    since: Instant,
}

/// One replica's side of the election.
pub struct Elector {
    api: Api<Lease>,
    settings: LeaseSettings,
    observed: Option<Observed>,
    /// Whether the last attempt left this replica holding the lease: re-taking a lease that
    /// still names this replica after a lapse starts a new term all the same.
    leading: bool,
}

impl Elector {
    pub fn new(client: Client, settings: LeaseSettings) -> Self {
        Self {
            api: Api::namespaced(client, &settings.namespace),
            settings,
            observed: None,
            leading: false,
        }
    }

    pub fn settings(&self) -> &LeaseSettings {
        &self.settings
    }

    /// Renews the lease when this replica holds it, takes it when it is free or expired.
    pub async fn try_acquire_or_renew(&mut self) -> Result<Attempt, kube::Error> {
        let attempt = self.attempt().await;
        self.leading = matches!(attempt, Ok(Attempt::Held))
            || (self.leading && matches!(attempt, Ok(Attempt::Raced) | Err(_)));
        attempt
    }

    /// This replica stopped reconciling without a word from the lease (its renew deadline
    /// passed): holding the lease again starts a new term.
    pub fn step_down(&mut self) {
        self.leading = false;
    }

    async fn attempt(&mut self) -> Result<Attempt, kube::Error> {
        let now = MicroTime(Timestamp::now());
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.settings.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.settings.identity.clone()),
                    lease_duration_seconds: Some(self.duration_seconds()),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return won(self.api.create(&PostParams::default(), &lease).await);
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        let expired = self.observe(holder.clone(), spec.renew_time.clone(), spec);
        match holder {
            Some(holder) if holder == self.settings.identity && self.leading => {}
            Some(holder) if holder != self.settings.identity && !expired => {
                return Ok(Attempt::HeldElsewhere);
            }
            _ => {
                spec.holder_identity = Some(self.settings.identity.clone());
                spec.acquire_time = Some(now.clone());
                spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            }
        }
        spec.lease_duration_seconds = Some(self.duration_seconds());
        spec.renew_time = Some(now);
        // The resourceVersion read above makes the update fail if anyone wrote in between.
        won(self
            .api
            .replace(&self.settings.name, &PostParams::default(), &lease)
            .await)
    }

    /// Gives the lease up, if this replica holds it, so that a standby takes over at once
    /// instead of after the lease duration.
    pub async fn release(&mut self) -> Result<(), kube::Error> {
        self.leading = false;
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else {
            return Ok(());
        };
        let Some(spec) = lease.spec.as_mut() else {
            return Ok(());
        };
        if spec.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        self.api
            .replace(&self.settings.name, &PostParams::default(), &lease)
            .await?;
        Ok(())
    }

    /// Notes the record seen; answers whether it has stayed unchanged for its lease duration.
    fn observe(
        &mut self,
        holder: Option<String>,
        renew_time: Option<MicroTime>,
        spec: &LeaseSpec,
    ) -> bool {
        let unchanged = self
            .observed
            .as_ref()
            .is_some_and(|o| o.holder == holder && o.renew_time == renew_time);
        if !unchanged {
            self.observed = Some(Observed {
                holder,
                renew_time,
                since: Instant::now(),
            });
        }
        let duration = spec
            .lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map_or(self.settings.duration, Duration::from_secs);
        self.observed
            .as_ref()
            .is_some_and(|o| o.since.elapsed() >= duration)
    }

    fn duration_seconds(&self) -> i32 {
        let seconds = self.settings.duration.as_secs_f64().ceil();
        i32::try_from(seconds as i64).unwrap_or(i32::MAX)
    }
}

/// A write that lost a race (another replica wrote first) is not an error.
fn won<T>(result: Result<T, kube::Error>) -> Result<Attempt, kube::Error> {
    match result {
        Ok(_) => Ok(Attempt::Held),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::Raced),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(duration: &str, retry_period: &str) -> LeaseSettings {
        LeaseSettings {
            name: "appconfig-operator".to_owned(),
            namespace: "ops".to_owned(),
            identity: "operator-0".to_owned(),
            duration: humantime::parse_duration(duration).unwrap(),
            retry_period: humantime::parse_duration(retry_period).unwrap(),
        }
    }

    #[test]
    fn the_defaults_leave_a_leader_time_to_renew() {
        let defaults = settings("15s", "2s");
        assert_eq!(defaults.check(), Ok(()));
        assert_eq!(defaults.renew_deadline(), Duration::from_secs(10));
    }

    #[test]
    fn settings_a_leader_could_not_renew_under_are_refused_naming_the_flags() {
        assert_eq!(
            settings("500ms", "100ms").check(),
            Err("--lease-duration must be at least 1s".to_owned())
        );
        let error = settings("3s", "1s").check().unwrap_err();
        assert!(error.contains("--lease-retry-period (1s)"), "{error}");
        assert!(error.contains("--lease-duration (3s)"), "{error}");
        // Renewals in time, but a leader failing them could still reconcile one retry period
        // past its deadline: too close to a standby's takeover.
        assert!(settings("15s", "9s").check().is_err());
        assert!(settings("15s", "5s").check().is_err());
        assert_eq!(settings("15s", "4900ms").check(), Ok(()));
    }

    #[test]
    fn identities_are_unique_per_process_even_for_one_instance_name() {
        let first = unique_identity("appconfig-operator");
        let second = unique_identity("appconfig-operator");
        assert!(first.starts_with("appconfig-operator_"), "{first}");
        assert_eq!(first.len(), "appconfig-operator_".len() + 8, "{first}");
        assert_ne!(first, second);
    }
}
