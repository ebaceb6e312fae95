//! What the HTTP layer and in-process users share: the state core behind one lock, the clock,
//! the fault rules and the call counts.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use jiff::Timestamp;

use super::{
    clock::Clock,
    faults::{Fault, Faults, InjectedFailure},
    iam::{Iam, RoleDefinition},
    state::{AlarmState, State},
};

#[derive(Debug)]
pub struct Shared {
    // One lock for all state: every operation sees and leaves a consistent world, and two
    // StartDeployment calls can never both find an environment free.
    state: Mutex<State>,
    clock: Clock,
    faults: Mutex<Faults>,
    calls: Mutex<BTreeMap<&'static str, u64>>,
    // Apart from the AppConfig state: IAM changes and STS calls never wait on a deployment.
    iam: Mutex<Iam>,
}

impl Shared {
    pub fn new(state: State, clock: Clock) -> Self {
        Self {
            state: Mutex::new(state),
            clock,
            faults: Mutex::default(),
            calls: Mutex::default(),
            iam: Mutex::default(),
        }
    }

    /// The state, and the time to evaluate it at, read under the lock so that requests see
    /// time move forward in the order they are served.
    pub fn lock_state(&self) -> (MutexGuard<'_, State>, Timestamp) {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = self.clock.now();
        (state, now)
    }

    /// Counts a call of `operation`, refused ones included: AWS received them.
    pub fn count_call(&self, operation: &'static str) {
        *lock(&self.calls).entry(operation).or_default() += 1;
    }

    /// Whether an injected fault fails this call of `operation`.
    pub fn take_fault(&self, operation: &'static str) -> Option<InjectedFailure> {
        lock(&self.faults).take(operation, fastrand::f64)
    }

    pub fn lock_iam(&self) -> MutexGuard<'_, Iam> {
        lock(&self.iam)
    }

    /// The emulated time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Controls a running emulator from the same process; the `/_emulator/` endpoints do the same
/// over HTTP.
#[derive(Debug, Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl From<Arc<Shared>> for Control {
    fn from(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl Control {
    /// The emulated time.
    pub fn now(&self) -> Timestamp {
        self.shared.clock.now()
    }

    /// Moves emulated time forward; deployments catch up on their next read. Refuses (and
    /// changes nothing) past the year 9000.
    pub fn advance(&self, by: Duration) -> Result<Timestamp, String> {
        let _state = self.shared.lock_state();
        self.shared.clock.advance(by)
    }

    /// Sets a CloudWatch alarm's state; an ALARM rolls back in-progress or baking deployments
    /// of every environment that lists it in its Monitors.
    pub fn set_alarm(&self, alarm_arn: &str, state: AlarmState) {
        let (mut guard, now) = self.shared.lock_state();
        guard.set_alarm(alarm_arn, state, now);
    }

    /// Ends every AppConfig Data session: the tokens clients hold are refused from now on.
    pub fn end_sessions(&self) {
        let (mut state, _) = self.shared.lock_state();
        state.end_sessions();
    }

    /// Makes AppConfig Data answer NextPollIntervalInSeconds of at least `seconds` (`None`:
    /// back to the session's minimum). Only the session's minimum is enforced.
    pub fn set_next_poll_interval(&self, seconds: Option<u32>) {
        let (mut state, _) = self.shared.lock_state();
        state.set_next_poll_interval(seconds);
    }

    pub fn inject_fault(&self, fault: Fault) -> Result<(), String> {
        lock(&self.shared.faults).add(fault)
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Registers (or replaces) the OIDC provider for `issuer` with its JSON Web Key Set.
    pub fn register_oidc_provider(
        &self,
        issuer: &str,
        jwks: serde_json::Value,
    ) -> Result<(), String> {
        self.shared.lock_iam().register_provider(issuer, jwks)
    }

    /// Defines (or replaces) a role: its trust and its identity-based policy, effective for the
    /// next call, including calls with sessions issued before.
    pub fn define_role(&self, role: RoleDefinition) -> Result<(), String> {
        self.shared.lock_iam().define_role(role)
    }

    /// Calls received per AWS operation since the last reset, failed ones included.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.calls)
            .iter()
            .map(|(operation, count)| ((*operation).to_owned(), *count))
            .collect()
    }

    /// Forgets every resource, deployment, session, alarm, fault and call count, and every
    /// OIDC provider, role and STS session. The predefined strategies stay, and the clock keeps
    /// its time.
    pub fn reset(&self) {
        let (mut state, _) = self.shared.lock_state();
        state.reset();
        self.shared.lock_iam().reset();
        lock(&self.shared.faults).clear();
        lock(&self.shared.calls).clear();
    }
}
