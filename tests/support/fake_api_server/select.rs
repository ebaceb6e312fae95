//! Label and field selectors, as list and watch requests carry them.

use serde_json::Value;

use super::error::ApiError;

#[derive(Default)]
pub(super) struct Selector {
    requirements: Vec<Requirement>,
}

struct Requirement {
    source: Source,
    key: String,
    operator: Operator,
    values: Vec<String>,
}

enum Source {
    Label,
    /// A dotted path into the object, such as `metadata.name` or `spec.application`.
    Field,
}

enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Selector {
    pub fn parse(labels: Option<&str>, fields: Option<&str>) -> Result<Self, ApiError> {
        let labels = terms(labels.unwrap_or_default()).map(label_requirement);
        let fields = terms(fields.unwrap_or_default()).map(field_requirement);
        Ok(Self {
            requirements: labels.chain(fields).collect::<Result<_, _>>()?,
        })
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|r| r.matches(object))
    }
}

impl Requirement {
    fn new(
        source: Source,
        key: &str,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Self, ApiError> {
        let valid = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
        if !valid {
            return Err(ApiError::bad_request(format!(
                "unable to parse requirement: invalid key {key:?}"
            )));
        }
        Ok(Self {
            source,
            key: key.to_string(),
            operator,
            values,
        })
    }

    fn matches(&self, object: &Value) -> bool {
        let value = match self.source {
            Source::Label => object["metadata"]["labels"]
                .get(&self.key)
                .and_then(Value::as_str)
                .map(str::to_string),
            Source::Field => Some(field_value(object, &self.key)),
        };
        match (&self.operator, value) {
            (Operator::Exists, value) => value.is_some(),
            (Operator::DoesNotExist, value) => value.is_none(),
            (Operator::In, value) => value.is_some_and(|v| self.values.contains(&v)),
            // As in Kubernetes, `!=` and `notin` also select objects without the label.
            (Operator::NotIn, value) => value.is_none_or(|v| !self.values.contains(&v)),
        }
    }
}

/// The API server compares a missing field as the empty string.
fn field_value(object: &Value, path: &str) -> String {
    match path
        .split('.')
        .try_fold(object, |value, key| value.get(key))
    {
        Some(Value::String(text)) => text.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Splits on the commas that separate requirements, not those inside `in (a,b)` value sets.
fn terms(selector: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0usize;
    selector
        .split(move |c| {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            c == ',' && depth == 0
        })
        .map(str::trim)
        .filter(|term| !term.is_empty())
}

fn label_requirement(term: &str) -> Result<Requirement, ApiError> {
    if let Some(key) = term.strip_prefix('!') {
        return Requirement::new(Source::Label, key.trim(), Operator::DoesNotExist, vec![]);
    }
    if let (Some(open), Some(inner)) = (term.find('('), term.strip_suffix(')')) {
        let (key, operator) = match term[..open]
            .split_whitespace()
            .collect::<Vec<_>>()
            .as_slice()
        {
            [key, "in"] => (*key, Operator::In),
            [key, "notin"] => (*key, Operator::NotIn),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unable to parse requirement: {term:?}"
                )));
            }
        };
        let values = inner[open + 1..]
            .split(',')
            .map(|v| v.trim().to_string())
            .collect();
        return Requirement::new(Source::Label, key, operator, values);
    }
    match equality(term) {
        Some((key, operator, value)) => Requirement::new(Source::Label, key, operator, vec![value]),
        None => Requirement::new(Source::Label, term, Operator::Exists, vec![]),
    }
}

fn field_requirement(term: &str) -> Result<Requirement, ApiError> {
    let (key, operator, value) = equality(term).ok_or_else(|| {
        ApiError::bad_request(format!(
            "invalid selector: '{term}'; can't understand '{term}'"
        ))
    })?;
    Requirement::new(Source::Field, key, operator, vec![value])
}

fn equality(term: &str) -> Option<(&str, Operator, String)> {
    [
        ("!=", Operator::NotIn),
        ("==", Operator::In),
        ("=", Operator::In),
    ]
    .into_iter()
    .find_map(|(token, operator)| {
        let (key, value) = term.split_once(token)?;
        Some((key.trim(), operator, value.trim().to_string()))
    })
}
