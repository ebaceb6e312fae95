//! Injected failures (`POST /_emulator/faults`): the next N calls of an operation, or a share of
//! them, answer with a chosen error instead of being served.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// An operation name such as `StartDeployment`, or `*` for every AWS operation.
    pub operation: String,
    /// HTTP status of the injected answer.
    pub status: u16,
    /// Error code clients see (`ThrottlingException`, `InternalServerException`, ...).
    pub code: String,
    /// Fail this many calls, then stop.
    #[serde(default)]
    pub count: Option<u32>,
    /// Fail this share (0..=1) of calls until the faults are cleared.
    #[serde(default)]
    pub ratio: Option<f64>,
}

/// The answer a matching call gets.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectedFailure {
    pub status: u16,
    pub code: String,
}

#[derive(Debug, Default)]
pub struct Faults {
    active: Vec<Fault>,
}

impl Fault {
    pub fn validate(&self) -> Result<(), String> {
        if self.operation.is_empty() {
            return Err("operation must name an AWS operation or be \"*\"".into());
        }
        if !(400..=599).contains(&self.status) {
            return Err(format!(
                "status must be an HTTP error status (400-599), got {}",
                self.status
            ));
        }
        if self.code.is_empty() {
            return Err("code must name the error, for example ThrottlingException".into());
        }
        match (self.count, self.ratio) {
            (Some(0), None) => Err("count must be at least 1".into()),
            (Some(_), None) => Ok(()),
            (None, Some(ratio)) if ratio > 0.0 && ratio <= 1.0 => Ok(()),
            (None, Some(ratio)) => Err(format!("ratio must be in (0, 1], got {ratio}")),
            _ => Err("give exactly one of count and ratio".into()),
        }
    }
}

impl Faults {
    pub fn add(&mut self, fault: Fault) -> Result<(), String> {
        fault.validate()?;
        self.active.push(fault);
        Ok(())
    }

    pub fn clear(&mut self) {
        self.active.clear();
    }

    /// Whether this call of `operation` fails; `roll` draws a number in [0, 1) for ratio faults.
    pub fn take(&mut self, operation: &str, roll: impl FnOnce() -> f64) -> Option<InjectedFailure> {
        let index = self
            .active
            .iter()
            .position(|f| f.operation == operation || f.operation == "*")?;
        let fault = &mut self.active[index];
        let failure = InjectedFailure {
            status: fault.status,
            code: fault.code.clone(),
        };
        match (&mut fault.count, fault.ratio) {
            (Some(count), _) => {
                *count -= 1;
                if *count == 0 {
                    self.active.remove(index);
                }
                Some(failure)
            }
            (None, Some(ratio)) => (roll() < ratio).then_some(failure),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(operation: &str, count: Option<u32>, ratio: Option<f64>) -> Fault {
        Fault {
            operation: operation.into(),
            status: 429,
            code: "ThrottlingException".into(),
            count,
            ratio,
        }
    }

    #[test]
    fn count_faults_fail_exactly_n_calls_of_their_operation() {
        let mut faults = Faults::default();
        faults.add(fault("StartDeployment", Some(2), None)).unwrap();
        assert!(faults.take("GetDeployment", || 0.0).is_none());
        assert!(faults.take("StartDeployment", || 0.0).is_some());
        assert!(faults.take("StartDeployment", || 0.0).is_some());
        assert!(faults.take("StartDeployment", || 0.0).is_none());
    }

    #[test]
    fn ratio_faults_follow_the_roll_until_cleared() {
        let mut faults = Faults::default();
        faults.add(fault("*", None, Some(0.3))).unwrap();
        assert!(faults.take("ListDeployments", || 0.29).is_some());
        assert!(faults.take("ListDeployments", || 0.31).is_none());
        faults.clear();
        assert!(faults.take("ListDeployments", || 0.0).is_none());
    }

    #[test]
    fn invalid_faults_are_refused_with_the_reason() {
        let mut faults = Faults::default();
        let both = faults.add(fault("*", Some(1), Some(0.5))).unwrap_err();
        assert!(both.contains("exactly one"), "{both}");
        assert!(
            faults
                .add(fault("*", None, Some(1.5)))
                .unwrap_err()
                .contains("ratio")
        );
        assert!(
            faults
                .add(fault("*", Some(0), None))
                .unwrap_err()
                .contains("count")
        );
        let mut ok_status = fault("*", Some(1), None);
        ok_status.status = 200;
        assert!(faults.add(ok_status).unwrap_err().contains("status"));
    }
}
