//! Holds PromQL expressions to what an operator exports: each parses as Prometheus parses it
//! (promql-parser), and names only series the operator's `/metrics` serves, labels those series
//! carry, and label values the operator produces.

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::{
    label::{MatchOp, Matcher},
    parser::{self, Expr, LabelModifier, VectorSelector},
};

/// The labels Prometheus gives every series of a target scraped through the chart's
/// ServiceMonitor (the Prometheus Operator's endpoints discovery): the operator does not export
/// them, so their values are the scrape's, and any value is allowed in a matcher.
pub const TARGET_LABELS: [&str; 4] = ["job", "namespace", "pod", "instance"];

/// What may be named: the series of one `/metrics` text (sample names, as Prometheus stores them,
/// with the label names their samples carry), and for each label the values the operator
/// produces.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    pub series: BTreeMap<String, BTreeSet<String>>,
    pub values: BTreeMap<String, BTreeSet<String>>,
}

impl Vocabulary {
    /// The series of an OpenMetrics text, every sample line read.
    pub fn exported(text: &str) -> Self {
        let mut series: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, labels) = sample(line);
            series
                .entry(name)
                .or_default()
                .extend(labels.into_iter().map(|(label, _)| label));
        }
        Self {
            series,
            values: BTreeMap::new(),
        }
    }

    /// Allows `values` in matchers on `label`.
    pub fn allow<'a>(&mut self, label: &str, values: impl IntoIterator<Item = &'a str>) {
        self.values
            .entry(label.to_owned())
            .or_default()
            .extend(values.into_iter().map(str::to_owned));
    }
}

/// One sample line's name and labels (`name{a="x",b="y"} 1`).
fn sample(line: &str) -> (String, Vec<(String, String)>) {
    let (series, _value) = line
        .rsplit_once(' ')
        .unwrap_or_else(|| panic!("a sample without a value: {line}"));
    let Some((name, labels)) = series.split_once('{') else {
        return (series.to_owned(), Vec::new());
    };
    let mut rest = labels
        .strip_suffix('}')
        .unwrap_or_else(|| panic!("labels without a closing brace: {line}"));
    let mut pairs = Vec::new();
    while !rest.is_empty() {
        let (label, after) = rest
            .split_once("=\"")
            .unwrap_or_else(|| panic!("a label without a quoted value: {line}"));
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => panic!("an escape at the end: {line}"),
                },
                Some((_, c)) => value.push(c),
                None => panic!("an unterminated label value: {line}"),
            }
        };
        pairs.push((label.to_owned(), value));
        rest = after[end + 1..].trim_start_matches(',');
    }
    (name.to_owned(), pairs)
}

/// The checks of one expression.
pub struct Check<'a> {
    vocabulary: &'a Vocabulary,
    /// Matchers every selector must have (label, value), to stay on one operator's series.
    required: &'a [(&'a str, &'a str)],
    problems: Vec<String>,
}

impl<'a> Check<'a> {
    pub fn new(vocabulary: &'a Vocabulary, required: &'a [(&'a str, &'a str)]) -> Self {
        Self {
            vocabulary,
            required,
            problems: Vec::new(),
        }
    }

    /// Parses and checks `text`; answers the labels its result carries (empty if it does not
    /// parse).
    pub fn expression(&mut self, text: &str) -> BTreeSet<String> {
        match parser::parse(text) {
            Ok(expr) => self.expr(&expr),
            Err(e) => {
                self.problems.push(format!("does not parse: {e}"));
                BTreeSet::new()
            }
        }
    }

    /// Checks that `labels` (of a legend or an alert's text) are among `available`.
    pub fn uses(&mut self, what: &str, labels: &BTreeSet<String>, available: &BTreeSet<String>) {
        for label in labels.difference(available) {
            self.problems.push(format!(
                "{what} names {label}, which the result has no label of"
            ));
        }
    }

    pub fn problems(self) -> Vec<String> {
        self.problems
    }

    fn expr(&mut self, expr: &Expr) -> BTreeSet<String> {
        match expr {
            Expr::VectorSelector(vs) => self.selector(vs),
            Expr::MatrixSelector(ms) => self.selector(&ms.vs),
            Expr::Aggregate(aggregate) => {
                let inner = self.expr(&aggregate.expr);
                if let Some(param) = &aggregate.param {
                    self.expr(param);
                }
                match &aggregate.modifier {
                    Some(LabelModifier::Include(by)) => {
                        let by = self.grouping("by", &by.labels, &inner);
                        by.into_iter().collect()
                    }
                    Some(LabelModifier::Exclude(without)) => {
                        let without = self.grouping("without", &without.labels, &inner);
                        inner.difference(&without).cloned().collect()
                    }
                    None if ["topk", "bottomk", "limitk"]
                        .contains(&aggregate.op.to_string().as_str()) =>
                    {
                        inner
                    }
                    None => BTreeSet::new(),
                }
            }
            Expr::Binary(binary) => {
                let lhs = self.expr(&binary.lhs);
                let rhs = self.expr(&binary.rhs);
                let both: BTreeSet<String> = lhs.union(&rhs).cloned().collect();
                if let Some(modifier) = &binary.modifier {
                    if let Some(matching) = &modifier.matching {
                        self.grouping("on/ignoring", &matching.labels().labels, &both);
                    }
                    if let Some(extra) = modifier.card.labels() {
                        self.grouping("group_left/group_right", &extra.labels, &both);
                    }
                }
                match binary.op.to_string().as_str() {
                    "or" => both,
                    _ if matches!(*binary.lhs, Expr::NumberLiteral(_)) => rhs,
                    _ => lhs,
                }
            }
            Expr::Call(call) => {
                let mut labels = BTreeSet::new();
                for arg in &call.args.args {
                    labels.extend(self.expr(arg));
                }
                match call.func.name {
                    "histogram_quantile" => {
                        if !labels.remove("le") {
                            self.problems
                                .push("histogram_quantile over series without le".to_owned());
                        }
                        labels
                    }
                    "vector" | "time" | "scalar" => BTreeSet::new(),
                    "label_replace" | "label_join" => {
                        self.problems.push(format!(
                            "{} makes labels this check cannot follow",
                            call.func.name
                        ));
                        labels
                    }
                    _ => labels,
                }
            }
            Expr::Paren(paren) => self.expr(&paren.expr),
            Expr::Unary(unary) => self.expr(&unary.expr),
            Expr::Subquery(subquery) => self.expr(&subquery.expr),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => BTreeSet::new(),
            Expr::Extension(_) => {
                self.problems
                    .push("an extension the parser never makes".to_owned());
                BTreeSet::new()
            }
        }
    }

    /// Labels named in `by`, `without`, `on`, ...: each must be on the operand's series.
    fn grouping(
        &mut self,
        clause: &str,
        labels: &[String],
        available: &BTreeSet<String>,
    ) -> BTreeSet<String> {
        for label in labels {
            if !available.contains(label) {
                self.problems.push(format!(
                    "{clause} ({label}): no such label on the series it groups ({available:?})"
                ));
            }
        }
        labels.iter().cloned().collect()
    }

    /// A selector: an exported series, labels it carries, values the operator produces, and
    /// the required matchers.
    fn selector(&mut self, vs: &VectorSelector) -> BTreeSet<String> {
        let by_matcher = vs
            .matchers
            .matchers
            .iter()
            .find(|m| m.name == "__name__" && m.op == MatchOp::Equal)
            .map(|m| m.value.clone());
        if !vs.matchers.or_matchers.is_empty() {
            self.problems
                .push(format!("{vs}: `or` inside a selector is not checked"));
        }
        let Some(name) = vs.name.clone().or(by_matcher) else {
            self.problems
                .push(format!("{vs}: a selector must name its metric"));
            return BTreeSet::new();
        };
        let Some(exported) = self.vocabulary.series.get(&name) else {
            self.problems
                .push(format!("{name}: the operator exports no such series"));
            return BTreeSet::new();
        };
        let mut labels = exported.clone();
        labels.extend(TARGET_LABELS.map(str::to_owned));
        for matcher in vs.matchers.matchers.iter().filter(|m| m.name != "__name__") {
            if !labels.contains(&matcher.name) {
                self.problems.push(format!(
                    "{name}{{{matcher}}}: {name} has no label {}",
                    matcher.name
                ));
                continue;
            }
            self.value(&name, matcher);
        }
        for (label, value) in self.required {
            let present = vs
                .matchers
                .matchers
                .iter()
                .any(|m| m.name == *label && m.op == MatchOp::Equal && m.value == *value);
            if !present {
                self.problems
                    .push(format!("{vs}: no {label}=\"{value}\" matcher"));
            }
        }
        labels
    }

    /// A matcher's value must be one the operator produces: each alternative of a regular
    /// expression too, which may only be a plain alternation.
    fn value(&mut self, name: &str, matcher: &Matcher) {
        if TARGET_LABELS.contains(&matcher.name.as_str()) {
            return;
        }
        let Some(known) = self.vocabulary.values.get(&matcher.name) else {
            self.problems.push(format!(
                "{name}{{{matcher}}}: the values of {} are not known to this check",
                matcher.name
            ));
            return;
        };
        let alternatives: Vec<&str> = match matcher.op {
            MatchOp::Equal | MatchOp::NotEqual => vec![matcher.value.as_str()],
            MatchOp::Re(_) | MatchOp::NotRe(_) => matcher.value.split('|').collect(),
        };
        for value in alternatives {
            let plain = !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !plain {
                self.problems.push(format!(
                    "{name}{{{matcher}}}: `{value}` is not a plain value"
                ));
            } else if !known.contains(value) {
                self.problems.push(format!(
                    "{name}{{{matcher}}}: the operator gives {} no value `{value}` (it gives {known:?})",
                    matcher.name
                ));
            }
        }
    }
}

/// The label names a Grafana legend (`{{label}}`) or a Prometheus alert text
/// (`{{ $labels.label }}`) refers to.
pub fn referenced_labels(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut labels = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .unwrap_or_else(|| panic!("an unclosed {{{{ in {text}"));
        let inside = after[..end].trim();
        if let Some(label) = inside.strip_prefix(prefix) {
            let label = label.split_whitespace().next().unwrap_or_default();
            labels.insert(label.to_owned());
        }
        rest = &after[end + 2..];
    }
    labels
}
