//! When each resource is next due. The controller is woken by every watch event, including the
//! one its own status write causes; a resource still exactly as the operator left it (same
//! resourceVersion) is not reconciled again before it is due, so a status write never costs a
//! second round of AppConfig calls. Something else it reads (a ConfigMap of content) marks it
//! touched, which makes it due at once.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

struct Entry {
    resource_version: String,
    /// The touches counted when the reconcile that scheduled it began.
    touches: u64,
    due: Instant,
}

/// How long past due an entry is kept: a resource still there has been reconciled by then.
const GONE_AFTER: Duration = Duration::from_secs(3600);

/// Entries below which the schedule is not pruned.
const MIN_PRUNE: usize = 512;

#[derive(Clone)]
pub struct Schedule {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    touches: Arc<Mutex<HashMap<String, u64>>>,
    /// How many entries there were after the last pruning: the next comes at twice as many.
    pruned_at: Arc<AtomicUsize>,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            entries: Arc::default(),
            touches: Arc::default(),
            pruned_at: Arc::new(AtomicUsize::new(MIN_PRUNE)),
        }
    }
}

impl Schedule {
    /// How long until `key` is due, if neither it nor what it reads changed since it was
    /// scheduled.
    pub fn wait(&self, key: &str, resource_version: Option<&str>) -> Option<Duration> {
        let touches = self.touches(key);
        let entries = self.entries.lock().expect("never poisoned");
        let entry = entries.get(key)?;
        if Some(entry.resource_version.as_str()) != resource_version || entry.touches != touches {
            return None;
        }
        entry
            .due
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// How often `key` was touched: read when a reconcile begins, and passed to [`Self::set`],
    /// so that a touch during the reconcile still makes it due.
    pub fn touches(&self, key: &str) -> u64 {
        let touches = self.touches.lock().expect("never poisoned");
        touches.get(key).copied().unwrap_or_default()
    }

    /// Something `key` reads changed.
    pub fn touch(&self, key: &str) {
        let mut touches = self.touches.lock().expect("never poisoned");
        *touches.entry(key.to_owned()).or_default() += 1;
    }

    /// `key`, now at `resource_version` and seen `touches` times touched, is due again in
    /// `after`.
    pub fn set(&self, key: &str, resource_version: Option<String>, touches: u64, after: Duration) {
        let mut entries = self.entries.lock().expect("never poisoned");
        if entries.len() >= self.pruned_at.load(Ordering::Relaxed) * 2 {
            self.prune(&mut entries);
        }
        match resource_version {
            Some(resource_version) => {
                entries.insert(
                    key.to_owned(),
                    Entry {
                        resource_version,
                        touches,
                        due: Instant::now() + after,
                    },
                );
            }
            None => {
                entries.remove(key);
            }
        }
    }

    /// Drops what is kept of resources that are gone: a live resource is scheduled again when
    /// it comes due, so an entry long past due belongs to a deleted one (most are deleted
    /// without a last reconcile, when they carry no finalizer).
    fn prune(&self, entries: &mut HashMap<String, Entry>) {
        let now = Instant::now();
        entries.retain(|_, entry| entry.due + GONE_AFTER > now);
        self.touches
            .lock()
            .expect("never poisoned")
            .retain(|key, _| entries.contains_key(key));
        self.pruned_at
            .store(entries.len().max(MIN_PRUNE), Ordering::Relaxed);
    }

    pub fn forget(&self, key: &str) {
        self.entries.lock().expect("never poisoned").remove(key);
        self.touches.lock().expect("never poisoned").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_resource_waits_until_due_and_a_changed_one_does_not() {
        let s = Schedule::default();
        assert_eq!(s.wait("ns/a", Some("5")), None, "never scheduled");
        s.set("ns/a", Some("5".into()), 0, Duration::from_secs(60));
        let wait = s.wait("ns/a", Some("5")).expect("not due yet");
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        assert_eq!(s.wait("ns/a", Some("6")), None, "changed since");
        s.set("ns/a", Some("6".into()), 0, Duration::ZERO);
        assert_eq!(s.wait("ns/a", Some("6")), None, "due now");
        s.forget("ns/a");
        s.set("ns/b", Some("1".into()), 0, Duration::from_secs(60));
        assert!(s.wait("ns/b", Some("1")).is_some());
        s.set("ns/b", None, 0, Duration::from_secs(60));
        assert_eq!(s.wait("ns/b", Some("1")), None);
    }

    #[test]
    fn a_touch_makes_a_resource_due_even_during_its_reconcile() {
        let s = Schedule::default();
        let seen = s.touches("ns/a");
        s.touch("ns/a");
        // The reconcile that began before the touch schedules the resource.
        s.set("ns/a", Some("5".into()), seen, Duration::from_secs(60));
        assert_eq!(s.wait("ns/a", Some("5")), None, "touched since it began");
        s.set(
            "ns/a",
            Some("5".into()),
            s.touches("ns/a"),
            Duration::from_secs(60),
        );
        assert!(s.wait("ns/a", Some("5")).is_some(), "no touch since");
    }
}
