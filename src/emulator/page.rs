//! Pagination shared by every List operation: `max_results` (1..50, default 50) and an opaque
//! `next_token` that remembers where the previous page stopped, so items created or deleted
//! between calls neither repeat nor shift the next page.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Serialize;

use super::{error::ApiError, validate::Checks};

const DEFAULT_PAGE_SIZE: usize = 50;

/// The paging parameters of a List call, as they came in the query string.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub max_results: Option<String>,
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl PageRequest {
    /// One page of `items`, which must come in listing order with strictly increasing keys.
    pub fn page<T>(&self, items: impl IntoIterator<Item = (u64, T)>) -> Result<Page<T>, ApiError> {
        let (size, after) = self.parse()?;
        let mut items = items
            .into_iter()
            .skip_while(|(key, _)| after.is_some_and(|after| *key <= after));
        let mut page = Vec::with_capacity(size.min(DEFAULT_PAGE_SIZE));
        let mut last_key = None;
        for (key, item) in items.by_ref().take(size) {
            last_key = Some(key);
            page.push(item);
        }
        let next_token = match (items.next(), last_key) {
            (Some(_), Some(key)) => Some(encode(key)),
            _ => None,
        };
        Ok(Page {
            items: page,
            next_token,
        })
    }

    /// [`Self::page`] rendered as the `{"Items": [...], "NextToken": ...}` body.
    pub fn json<T: Serialize>(
        &self,
        items: impl IntoIterator<Item = (u64, T)>,
    ) -> Result<serde_json::Value, ApiError> {
        Ok(serde_json::to_value(self.page(items)?).expect("a page serializes"))
    }

    fn parse(&self) -> Result<(usize, Option<u64>), ApiError> {
        let mut checks = Checks::new();
        let size = match &self.max_results {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) => {
                    checks.range("maxResults", n as f64, 1.0, 50.0);
                    n.clamp(1, 50) as usize
                }
                Err(_) => {
                    return Err(ApiError::bad_request(format!(
                        "max_results must be an integer, got '{raw}'"
                    )));
                }
            },
        };
        if let Some(token) = &self.next_token {
            checks.length("nextToken", token, 1, 2048);
        }
        checks.finish()?;
        let after = match &self.next_token {
            None => None,
            Some(token) => Some(decode(token).ok_or_else(|| {
                ApiError::bad_request(format!("The next token '{token}' is not valid"))
            })?),
        };
        Ok((size, after))
    }
}

fn encode(key: u64) -> String {
    STANDARD.encode(format!("after:{key}"))
}

fn decode(token: &str) -> Option<u64> {
    let raw = STANDARD.decode(token).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix("after:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(max: Option<&str>, token: Option<String>) -> PageRequest {
        PageRequest {
            max_results: max.map(str::to_owned),
            next_token: token,
        }
    }

    #[test]
    fn walks_all_items_without_repeats() {
        let items: Vec<(u64, u64)> = (1..=7).map(|k| (k * 10, k)).collect();
        let mut seen = Vec::new();
        let mut token = None;
        loop {
            let page = request(Some("3"), token).page(items.clone()).unwrap();
            seen.extend(page.items);
            match page.next_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, [1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn last_full_page_has_no_token() {
        let items: Vec<(u64, u64)> = (1..=4).map(|k| (k, k)).collect();
        let first = request(Some("2"), None).page(items.clone()).unwrap();
        let second = request(Some("2"), first.next_token).page(items).unwrap();
        assert_eq!(second.items, [3, 4]);
        assert!(second.next_token.is_none());
    }

    #[test]
    fn default_page_is_fifty() {
        let items: Vec<(u64, u64)> = (1..=120).map(|k| (k, k)).collect();
        assert_eq!(request(None, None).page(items).unwrap().items.len(), 50);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let none = Vec::<(u64, u64)>::new();
        for max in ["0", "51", "ten"] {
            let error = request(Some(max), None).page(none.clone()).unwrap_err();
            assert_eq!(error.kind.status(), 400, "{max}");
        }
        let error = request(None, Some("garbage!".into()))
            .page(none)
            .unwrap_err();
        assert!(error.message.contains("next token"), "{}", error.message);
    }
}
