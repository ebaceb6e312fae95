//! IAM identity-based policy documents: parsed strictly (anything the emulator would not
//! evaluate is refused, so a policy never looks stricter than it is) and evaluated as IAM does
//! for one principal: an explicit deny wins, then an allow, and nothing allowed is denied.

use serde_json::{Map, Value};

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    effect: Effect,
    actions: Matcher,
    resources: Matcher,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

/// `Action`/`Resource` (the listed patterns match) or `NotAction`/`NotResource` (everything
/// but the listed patterns matches).
#[derive(Debug, Clone, PartialEq)]
struct Matcher {
    patterns: Vec<String>,
    negated: bool,
}

/// The outcome of evaluating a request against a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No statement allows the request.
    ImplicitDeny,
    /// A `Deny` statement matches the request.
    ExplicitDeny,
}

/// Statement elements IAM knows that the emulator does not evaluate.
const UNEVALUATED: &[&str] = &["Condition", "Principal", "NotPrincipal"];

impl Policy {
    /// Parses a policy document; errors name the element and why it is refused.
    pub fn parse(document: &Value) -> Result<Self, String> {
        let document = document
            .as_object()
            .ok_or("policy must be a JSON object (an IAM policy document)")?;
        for key in document.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(format!(
                    "policy.{key} is not an element of a policy document"
                ));
            }
        }
        if let Some(version) = document.get("Version")
            && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
        {
            return Err(format!(
                "policy.Version must be \"2012-10-17\" or \"2008-10-17\", got {version}"
            ));
        }
        let statements = match document.get("Statement") {
            Some(Value::Array(statements)) => statements.iter().collect(),
            Some(statement @ Value::Object(_)) => vec![statement],
            Some(other) => {
                return Err(format!(
                    "policy.Statement must be an object or a list of objects, got {other}"
                ));
            }
            None => return Err("policy.Statement is required".into()),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, statement)| {
                Statement::parse(&format!("policy.Statement[{index}]"), statement)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { statements })
    }

    /// The decision for `action` (`service:Name`) on the resource `arn`.
    pub fn evaluate(&self, action: &str, arn: &str) -> Decision {
        let matching = self
            .statements
            .iter()
            .filter(|s| s.actions.matches(action, true) && s.resources.matches(arn, false));
        let mut decision = Decision::ImplicitDeny;
        for statement in matching {
            match statement.effect {
                Effect::Deny => return Decision::ExplicitDeny,
                Effect::Allow => decision = Decision::Allow,
            }
        }
        decision
    }
}

impl Statement {
    fn parse(path: &str, statement: &Value) -> Result<Self, String> {
        let statement = statement
            .as_object()
            .ok_or_else(|| format!("{path} must be an object"))?;
        for key in statement.keys() {
            if UNEVALUATED.contains(&key.as_str()) {
                return Err(format!(
                    "{path}.{key} is not evaluated by the emulator (identity-based policies with Action and Resource only); remove it"
                ));
            }
            if !matches!(
                key.as_str(),
                "Sid" | "Effect" | "Action" | "NotAction" | "Resource" | "NotResource"
            ) {
                return Err(format!(
                    "{path}.{key} is not an element of a policy statement"
                ));
            }
        }
        let effect = match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            _ => return Err(format!("{path}.Effect must be \"Allow\" or \"Deny\"")),
        };
        Ok(Self {
            effect,
            actions: Matcher::parse(path, statement, "Action", "NotAction")?,
            resources: Matcher::parse(path, statement, "Resource", "NotResource")?,
        })
    }
}

impl Matcher {
    fn parse(
        path: &str,
        statement: &Map<String, Value>,
        element: &str,
        negated: &str,
    ) -> Result<Self, String> {
        let (name, value, negated) = match (statement.get(element), statement.get(negated)) {
            (Some(value), None) => (element, value, false),
            (None, Some(value)) => (negated, value, true),
            _ => {
                return Err(format!(
                    "{path} must have exactly one of {element} and {negated}"
                ));
            }
        };
        let patterns = match value {
            Value::String(pattern) => vec![pattern.clone()],
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("{path}.{name} must list strings only"))?,
            _ => {
                return Err(format!(
                    "{path}.{name} must be a string or a non-empty list of strings"
                ));
            }
        };
        Ok(Self { patterns, negated })
    }

    fn matches(&self, value: &str, ignore_case: bool) -> bool {
        let listed = self.patterns.iter().any(|pattern| {
            if ignore_case {
                wildcard_match(&pattern.to_ascii_lowercase(), &value.to_ascii_lowercase())
            } else {
                wildcard_match(pattern, value)
            }
        });
        listed != self.negated
    }
}

/// IAM's wildcards: `*` any run of characters (including none, and across `/` and `:`), `?`
/// exactly one character.
fn wildcard_match(pattern: &str, value: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let value: Vec<char> = value.chars().collect();
    // Greedy matching with backtracking to the last `*`: linear enough for ARNs.
    let (mut p, mut v) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == value[v]) {
            p += 1;
            v += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, v));
            p += 1;
        } else if let Some((star_p, star_v)) = star {
            p = star_p + 1;
            v = star_v + 1;
            star = Some((star_p, star_v + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const APP: &str = "arn:aws:appconfig:us-east-1:123456789012:application/abc1234";

    fn policy(statement: Value) -> Policy {
        Policy::parse(&json!({"Version": "2012-10-17", "Statement": statement})).unwrap()
    }

    #[test]
    fn nothing_allowed_is_denied() {
        let policy = policy(json!([]));
        assert_eq!(
            policy.evaluate("appconfig:GetApplication", APP),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn an_explicit_deny_beats_an_allow_whatever_the_order() {
        let policy = policy(json!([
            {"Effect": "Deny", "Action": "appconfig:GetApplication", "Resource": APP},
            {"Effect": "Allow", "Action": "appconfig:*", "Resource": "*"},
        ]));
        assert_eq!(
            policy.evaluate("appconfig:GetApplication", APP),
            Decision::ExplicitDeny
        );
        assert_eq!(
            policy.evaluate("appconfig:ListEnvironments", APP),
            Decision::Allow
        );
    }

    #[test]
    fn a_single_statement_object_is_accepted() {
        let policy = policy(
            json!({"Effect": "Allow", "Action": "appconfig:GetApplication", "Resource": APP}),
        );
        assert_eq!(
            policy.evaluate("appconfig:GetApplication", APP),
            Decision::Allow
        );
    }

    #[test]
    fn actions_match_without_case_and_with_wildcards() {
        let policy =
            policy(json!({"Effect": "Allow", "Action": ["APPCONFIG:get*"], "Resource": "*"}));
        assert_eq!(
            policy.evaluate("appconfig:GetDeployment", APP),
            Decision::Allow
        );
        assert_eq!(
            policy.evaluate("appconfig:StartDeployment", APP),
            Decision::ImplicitDeny
        );
        assert_eq!(
            policy.evaluate("appconfigdata:GetLatestConfiguration", APP),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn resources_match_with_case_and_with_both_wildcards() {
        let policy = policy(json!({
            "Effect": "Allow",
            "Action": "appconfig:GetApplication",
            "Resource": "arn:aws:appconfig:us-east-1:123456789012:application/abc123?",
        }));
        assert_eq!(
            policy.evaluate("appconfig:GetApplication", APP),
            Decision::Allow
        );
        let upper = APP.replace("abc1234", "ABC1234");
        assert_eq!(
            policy.evaluate("appconfig:GetApplication", &upper),
            Decision::ImplicitDeny
        );
        let longer = format!("{APP}5");
        assert_eq!(
            policy.evaluate("appconfig:GetApplication", &longer),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn a_star_spans_path_segments() {
        let policy = policy(json!({
            "Effect": "Allow",
            "Action": "appconfig:GetDeployment",
            "Resource": "arn:aws:appconfig:*:*:application/abc1234*",
        }));
        let deployment = format!("{APP}/environment/e1/deployment/3");
        assert_eq!(
            policy.evaluate("appconfig:GetDeployment", &deployment),
            Decision::Allow
        );
    }

    #[test]
    fn not_action_and_not_resource_match_everything_else() {
        let policy = policy(json!([
            {"Effect": "Allow", "NotAction": "appconfig:Delete*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "NotResource": [APP]},
        ]));
        assert_eq!(
            policy.evaluate("appconfig:GetApplication", APP),
            Decision::Allow
        );
        assert_eq!(
            policy.evaluate("appconfig:DeleteApplication", APP),
            Decision::ImplicitDeny
        );
        let other = APP.replace("abc1234", "xyz9876");
        assert_eq!(
            policy.evaluate("appconfig:GetApplication", &other),
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn wildcards_backtrack() {
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(wildcard_match("a*c", "abcbc"));
        assert!(!wildcard_match("a*c", "abcb"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("?", ""));
    }

    #[test]
    fn elements_the_emulator_does_not_evaluate_are_refused_by_name() {
        let error = Policy::parse(&json!({"Statement": [{
            "Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
        }]}))
        .unwrap_err();
        assert!(
            error.starts_with("policy.Statement[0].Condition is not evaluated"),
            "{error}"
        );
        let error = Policy::parse(&json!({"Statement": {
            "Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*",
        }}))
        .unwrap_err();
        assert!(
            error.starts_with("policy.Statement[0].Principal is not evaluated"),
            "{error}"
        );
    }

    #[test]
    fn malformed_statements_are_refused_naming_the_element() {
        for (statement, expected) in [
            (
                json!({"Effect": "Permit", "Action": "*", "Resource": "*"}),
                "policy.Statement[0].Effect",
            ),
            (
                json!({"Effect": "Allow", "Resource": "*"}),
                "exactly one of Action and NotAction",
            ),
            (
                json!({"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}),
                "exactly one of Action and NotAction",
            ),
            (
                json!({"Effect": "Allow", "Action": [], "Resource": "*"}),
                "policy.Statement[0].Action must be",
            ),
            (
                json!({"Effect": "Allow", "Action": "*", "Resource": [1]}),
                "policy.Statement[0].Resource must list strings",
            ),
            (
                json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Extra": 1}),
                "policy.Statement[0].Extra is not an element",
            ),
        ] {
            let error = Policy::parse(&json!({"Statement": [statement]})).unwrap_err();
            assert!(
                error.contains(expected),
                "{error} should contain {expected}"
            );
        }
        let error = Policy::parse(&json!({"Version": "2020-01-01", "Statement": []})).unwrap_err();
        assert!(error.starts_with("policy.Version"), "{error}");
        assert_eq!(
            Policy::parse(&json!({})).unwrap_err(),
            "policy.Statement is required"
        );
    }
}
