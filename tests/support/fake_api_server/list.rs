//! List requests: selectors, and `limit`/`continue` pagination over a consistent snapshot.

use serde_json::{Value, json};

use super::{
    error::ApiError,
    route::{Query, Route},
    select::Selector,
    store::Store,
};

pub(super) fn list(store: &mut Store, route: &Route, query: &Query) -> Result<Value, ApiError> {
    let (resource_version, mut items) = match query
        .get("continue")
        .filter(|token| !token.is_empty())
    {
        // Later pages come from the snapshot taken by the first, as etcd serves them at its revision.
        Some(token) => store.take_page(token).ok_or_else(|| {
            ApiError::expired(
                "The provided continue parameter is too old to display a consistent list result. \
                 You can start a new list without the continue parameter.",
            )
        })?,
        None => {
            let selector = Selector::parse(query.get("labelSelector"), query.get("fieldSelector"))?;
            let items = store
                .list(&route.resource, route.namespace.as_deref())
                .filter(|object| selector.matches(object))
                .cloned()
                .collect();
            (store.resource_version(), items)
        }
    };
    let mut metadata = json!({"resourceVersion": resource_version.to_string()});
    let limit = query
        .get("limit")
        .and_then(|limit| limit.parse::<usize>().ok());
    if let Some(limit) = limit.filter(|&limit| limit > 0 && limit < items.len()) {
        let rest = items.split_off(limit);
        metadata["remainingItemCount"] = json!(rest.len());
        metadata["continue"] = json!(store.save_page(resource_version, rest));
    }
    let kind = store
        .kind(&route.resource)
        .map_or_else(|| "List".to_string(), |kind| format!("{kind}List"));
    Ok(json!({
        "apiVersion": route.resource.api_version(),
        "kind": kind,
        "metadata": metadata,
        "items": items,
    }))
}
