//! When each resource is next due. The controller is woken by every watch event, including the
//! one its own status write causes; a resource still exactly as the operator left it (same
//! resourceVersion) is not reconciled again before it is due, so a status write never costs a
//! second round of AppConfig calls.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

struct Entry {
    resource_version: String,
    due: Instant,
}

#[derive(Clone, Default)]
pub struct Schedule {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

impl Schedule {
    /// How long until `key` is due, if it has not changed since it was scheduled.
    pub fn wait(&self, key: &str, resource_version: Option<&str>) -> Option<Duration> {
        let entries = self.entries.lock().expect("never poisoned");
        let entry = entries.get(key)?;
        if Some(entry.resource_version.as_str()) != resource_version {
            return None;
        }
        entry
            .due
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// `key`, now at `resource_version`, is due again in `after`.
    pub fn set(&self, key: &str, resource_version: Option<String>, after: Duration) {
        let mut entries = self.entries.lock().expect("never poisoned");
        match resource_version {
            Some(resource_version) => {
                entries.insert(
                    key.to_owned(),
                    Entry {
                        resource_version,
                        due: Instant::now() + after,
                    },
                );
            }
            None => {
                entries.remove(key);
            }
        }
    }

    pub fn forget(&self, key: &str) {
        self.entries.lock().expect("never poisoned").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_resource_waits_until_due_and_a_changed_one_does_not() {
        let s = Schedule::default();
        assert_eq!(s.wait("ns/a", Some("5")), None, "never scheduled");
        s.set("ns/a", Some("5".into()), Duration::from_secs(60));
        let wait = s.wait("ns/a", Some("5")).expect("not due yet");
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        assert_eq!(s.wait("ns/a", Some("6")), None, "changed since");
        s.set("ns/a", Some("6".into()), Duration::ZERO);
        assert_eq!(s.wait("ns/a", Some("6")), None, "due now");
        s.forget("ns/a");
        s.set("ns/b", Some("1".into()), Duration::from_secs(60));
        assert!(s.wait("ns/b", Some("1")).is_some());
        s.set("ns/b", None, Duration::from_secs(60));
        assert_eq!(s.wait("ns/b", Some("1")), None);
    }
}
