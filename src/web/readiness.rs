//! What `/readyz` answers: whether this replica has done what it must before it counts as ready.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

/// This replica's readiness; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
enum State {
    /// Nothing decided yet: neither leading nor known to be a standby.
    #[default]
    Starting,
    /// Still without a lease, because the last attempt to read or write it failed (why).
    LeaseUnreachable(String),
    /// Another replica holds the lease. A standby is ready: it has no cache to fill until it
    /// leads, and a rolling update must not wait for a lease the old replicas hold.
    Standby,
    /// Reconciling: ready once every controller's watch cache has synced, by controller.
    Leading(BTreeMap<&'static str, bool>),
}

/// Whether `/readyz` answers 200, and why, for its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub ready: bool,
    pub reason: String,
}

impl Readiness {
    pub fn answer(&self) -> Answer {
        let state = self.state.lock().expect("never poisoned");
        match &*state {
            State::Starting => Answer {
                ready: false,
                reason: "starting".to_owned(),
            },
            State::LeaseUnreachable(why) => Answer {
                ready: false,
                reason: format!("waiting for the lease: {why}"),
            },
            State::Standby => Answer {
                ready: true,
                reason: "standby: another replica holds the lease".to_owned(),
            },
            State::Leading(controllers) => {
                let pending: Vec<&str> = controllers
                    .iter()
                    .filter(|(_, synced)| !**synced)
                    .map(|(name, _)| *name)
                    .collect();
                if controllers.is_empty() {
                    Answer {
                        ready: false,
                        reason: "starting the controllers".to_owned(),
                    }
                } else if pending.is_empty() {
                    Answer {
                        ready: true,
                        reason: "ok".to_owned(),
                    }
                } else {
                    Answer {
                        ready: false,
                        reason: format!("waiting for the watch caches of: {}", pending.join(", ")),
                    }
                }
            }
        }
    }

    /// A replica not yet leading nor standing by failed to reach its lease: `/readyz` says
    /// `why` instead of just "starting". A standby stays ready (it had reached the lease).
    pub fn lease_unreachable(&self, why: String) {
        let mut state = self.state.lock().expect("never poisoned");
        if matches!(*state, State::Starting | State::LeaseUnreachable(_)) {
            *state = State::LeaseUnreachable(why);
        }
    }

    pub fn standby(&self) {
        *self.state.lock().expect("never poisoned") = State::Standby;
    }

    /// Starts a leadership term (or the only one, without leader election): not ready until
    /// the controllers [`expect`](Self::expect)ed for it have synced.
    pub fn lead(&self) {
        *self.state.lock().expect("never poisoned") = State::Leading(BTreeMap::new());
    }

    /// A controller of the current term, not synced yet, and how it reports when it is.
    pub fn expect(&self, controller: &'static str) -> CacheSync {
        if let State::Leading(controllers) = &mut *self.state.lock().expect("never poisoned") {
            controllers.insert(controller, false);
        }
        CacheSync {
            readiness: self.clone(),
            controller,
        }
    }
}

/// How one controller reports its watch cache synced.
#[derive(Debug, Clone)]
pub struct CacheSync {
    readiness: Readiness,
    controller: &'static str,
}

impl CacheSync {
    /// A report that no `/readyz` reads: for a controller run on its own.
    pub fn unobserved(controller: &'static str) -> Self {
        Readiness::default().expect(controller)
    }

    pub fn synced(&self) {
        if let State::Leading(controllers) =
            &mut *self.readiness.state.lock().expect("never poisoned")
            && let Some(synced) = controllers.get_mut(self.controller)
        {
            *synced = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leader_is_ready_once_every_controller_synced() {
        let readiness = Readiness::default();
        assert!(!readiness.answer().ready);
        readiness.lead();
        assert!(!readiness.answer().ready);
        let syncs = [readiness.expect("first"), readiness.expect("second")];
        syncs[0].synced();
        let answer = readiness.answer();
        assert!(!answer.ready);
        assert_eq!(answer.reason, "waiting for the watch caches of: second");
        syncs[1].synced();
        assert!(readiness.answer().ready);
    }

    #[test]
    fn a_replica_that_cannot_reach_its_lease_says_why() {
        let readiness = Readiness::default();
        readiness.lease_unreachable("403 Forbidden".to_owned());
        assert_eq!(
            readiness.answer(),
            Answer {
                ready: false,
                reason: "waiting for the lease: 403 Forbidden".to_owned()
            }
        );
        readiness.standby();
        readiness.lease_unreachable("timed out".to_owned());
        assert!(readiness.answer().ready);
    }

    #[test]
    fn a_standby_is_ready_and_a_new_term_starts_unsynced() {
        let readiness = Readiness::default();
        readiness.lead();
        readiness.expect("first").synced();
        readiness.standby();
        assert!(readiness.answer().ready);
        readiness.lead();
        let _first = readiness.expect("first");
        assert!(!readiness.answer().ready);
    }
}
