//! What the operator remembers of each AppConfigSync between polls, in memory: its
//! configuration session and token, when it may poll next, and a status the API server has not
//! taken yet. Lost on restart by design: a new session returns the whole configuration, which is
//! compared with the target before anything is written.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{api::v1alpha1::AppConfigSyncStatus, aws::appconfigdata::SessionRequest};

/// What the configuration a session last delivered led to. AppConfig answers a poll with nothing
/// while the configuration stays the same, so an empty answer means the same verdict again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The target holds it.
    Written,
    /// It cannot be written (too large, or refused by the API server) at this generation.
    Stalled {
        generation: i64,
        reason: &'static str,
        message: String,
    },
}

/// A session in AppConfig Data and the one token that may be used next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The region and identity that opened it (`tenancy::Access::scope`).
    pub scope: String,
    pub request: SessionRequest,
    token: String,
    /// AppConfig's minimum wait before the token may be used.
    pub next_poll: Duration,
    pub verdict: Verdict,
}

impl Session {
    pub fn new(
        scope: String,
        request: SessionRequest,
        token: String,
        next_poll: Duration,
        verdict: Verdict,
    ) -> Self {
        Self {
            scope,
            request,
            token,
            next_poll,
            verdict,
        }
    }

    /// The token to use next; a used token is replaced through `new`, never reused.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// One AppConfigSync's state.
#[derive(Debug)]
struct Entry {
    uid: String,
    generation: i64,
    /// Not before this may AppConfig be asked again.
    due: Instant,
    session: Option<Session>,
    /// A status computed at `generation` that a write did not store (the object had changed).
    pending: Option<AppConfigSyncStatus>,
}

/// Every AppConfigSync's state, by namespace/name; an entry of an earlier object of the same
/// name (another UID) is discarded.
#[derive(Clone, Default)]
pub struct Sessions {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

impl Sessions {
    /// Whether this process has scheduled `key` as object `uid`.
    pub fn knows(&self, key: &str, uid: &str) -> bool {
        let entries = self.entries.lock().expect("never poisoned");
        entries.get(key).is_some_and(|e| e.uid == uid)
    }

    /// How long `key` must still wait, when the object is the one scheduled (same UID) and
    /// unchanged (same generation) and it is not due yet. A changed spec is acted on at once.
    pub fn wait(&self, key: &str, uid: &str, generation: i64) -> Option<Duration> {
        let entries = self.entries.lock().expect("never poisoned");
        let entry = entries.get(key)?;
        if entry.uid != uid || entry.generation != generation {
            return None;
        }
        entry
            .due
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// Takes the session of `key` for one poll, if it still is for `uid`.
    pub fn take(&self, key: &str, uid: &str) -> Option<Session> {
        let mut entries = self.entries.lock().expect("never poisoned");
        let entry = entries.get_mut(key).filter(|e| e.uid == uid)?;
        entry.session.take()
    }

    /// Records that `key` (object `uid` at `generation`) may poll again in `after`, with
    /// `session` for that poll (`None`: a new session then).
    pub fn schedule(
        &self,
        key: &str,
        uid: &str,
        generation: i64,
        session: Option<Session>,
        after: Duration,
    ) {
        let mut entries = self.entries.lock().expect("never poisoned");
        entries.insert(
            key.to_owned(),
            Entry {
                uid: uid.to_owned(),
                generation,
                due: Instant::now() + after,
                session,
                pending: None,
            },
        );
    }

    /// Keeps `status` to be written without polling again; dropped by the next `schedule`.
    pub fn keep_pending(&self, key: &str, uid: &str, status: AppConfigSyncStatus) {
        let mut entries = self.entries.lock().expect("never poisoned");
        if let Some(entry) = entries.get_mut(key).filter(|e| e.uid == uid) {
            entry.pending = Some(status);
        }
    }

    /// Takes the status kept for `key`, if it was computed for this object at this generation.
    pub fn take_pending(
        &self,
        key: &str,
        uid: &str,
        generation: i64,
    ) -> Option<AppConfigSyncStatus> {
        let mut entries = self.entries.lock().expect("never poisoned");
        let entry = entries
            .get_mut(key)
            .filter(|e| e.uid == uid && e.generation == generation)?;
        entry.pending.take()
    }

    /// Takes the status kept for `key` at any generation of this object: after a spec change it
    /// is still the newest record of what was written (the target above all).
    pub fn take_pending_of_any_generation(
        &self,
        key: &str,
        uid: &str,
    ) -> Option<AppConfigSyncStatus> {
        let mut entries = self.entries.lock().expect("never poisoned");
        entries
            .get_mut(key)
            .filter(|e| e.uid == uid)?
            .pending
            .take()
    }

    /// Forgets `key`: its object is gone.
    pub fn forget(&self, key: &str) {
        self.entries.lock().expect("never poisoned").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(token: &str) -> Session {
        let request = SessionRequest {
            application: "a".into(),
            environment: "e".into(),
            profile: "p".into(),
            minimum_poll_interval_seconds: 60,
        };
        Session::new(
            "r".into(),
            request,
            token.into(),
            Duration::from_secs(60),
            Verdict::Written,
        )
    }

    #[test]
    fn a_session_is_handed_out_once() {
        let s = Sessions::default();
        s.schedule("ns/a", "u1", 1, Some(session("t1")), Duration::ZERO);
        let taken = s.take("ns/a", "u1").expect("the session");
        assert_eq!(taken.token(), "t1");
        assert!(
            s.take("ns/a", "u1").is_none(),
            "the session left with the first take"
        );
    }

    #[test]
    fn waits_hold_for_the_same_object_and_generation_only() {
        let s = Sessions::default();
        assert!(!s.knows("ns/a", "u1"), "never scheduled");
        s.schedule("ns/a", "u1", 1, None, Duration::from_secs(60));
        assert!(s.knows("ns/a", "u1"));
        assert!(!s.knows("ns/a", "u2"), "another object of that name");
        assert!(s.wait("ns/a", "u1", 1).is_some());
        assert!(s.wait("ns/a", "u1", 2).is_none(), "the spec changed");
        assert!(
            s.wait("ns/a", "u2", 1).is_none(),
            "another object of that name"
        );
        assert!(s.take("ns/a", "u2").is_none());
        s.forget("ns/a");
        assert!(s.wait("ns/a", "u1", 1).is_none(), "forgotten");
    }

    #[test]
    fn a_pending_status_is_for_its_object_and_generation_until_the_next_poll() {
        let s = Sessions::default();
        let status = AppConfigSyncStatus {
            observed_generation: Some(1),
            ..Default::default()
        };
        s.schedule("ns/a", "u1", 1, None, Duration::from_secs(60));
        s.keep_pending("ns/a", "u1", status.clone());
        assert_eq!(s.take_pending("ns/a", "u1", 2), None, "the spec changed");
        assert_eq!(s.take_pending("ns/a", "u2", 1), None, "another object");
        assert_eq!(s.take_pending("ns/a", "u1", 1), Some(status.clone()));
        assert_eq!(s.take_pending("ns/a", "u1", 1), None, "taken once");
        s.keep_pending("ns/a", "u1", status);
        s.schedule("ns/a", "u1", 1, None, Duration::from_secs(60));
        assert_eq!(s.take_pending("ns/a", "u1", 1), None, "a new poll decides");
    }
}
