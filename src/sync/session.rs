//! What the operator remembers of each AppConfigSync between polls, in memory: its
//! configuration session and token, and when it may poll next. Lost on restart by design: a
//! new session returns the whole configuration, which is compared with the target before
//! anything is written.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::aws::appconfigdata::SessionRequest;

/// A session in AppConfig Data and the one token that may be used next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub region: String,
    pub request: SessionRequest,
    token: String,
}

impl Session {
    pub fn new(region: String, request: SessionRequest, token: String) -> Self {
        Self {
            region,
            request,
            token,
        }
    }

    /// The token, which leaves the session: it can be used once only.
    pub fn take_token(self) -> String {
        self.token
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
}

/// Every AppConfigSync's state, by namespace/name; an entry of an earlier object of the same
/// name (another UID) is discarded.
#[derive(Clone, Default)]
pub struct Sessions {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

impl Sessions {
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
            },
        );
    }

    /// Forgets `key`: its object is gone.
    pub fn forget(&self, key: &str) {
        self.entries.lock().expect("never poisoned").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SessionRequest {
        SessionRequest {
            application: "a".into(),
            environment: "e".into(),
            profile: "p".into(),
            minimum_poll_interval_seconds: 60,
        }
    }

    #[test]
    fn a_token_is_handed_out_once() {
        let s = Sessions::default();
        let session = Session::new("r".into(), request(), "t1".into());
        s.schedule("ns/a", "u1", 1, Some(session), Duration::ZERO);
        let taken = s.take("ns/a", "u1").expect("the session");
        assert_eq!(taken.take_token(), "t1");
        assert!(
            s.take("ns/a", "u1").is_none(),
            "the token left with the first take"
        );
    }

    #[test]
    fn waits_hold_for_the_same_object_and_generation_only() {
        let s = Sessions::default();
        s.schedule("ns/a", "u1", 1, None, Duration::from_secs(60));
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
}
