//! One HTTP request in, one response out: routing, injected failures, the write log, and
//! Kubernetes `Status` bodies for errors.

use std::sync::Arc;

use http::{Request, Response, header};
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use super::{
    Shared, WriteRecord,
    error::ApiError,
    gc, issuer_discovery, list, metadata_only,
    patch::PatchType,
    rbac::Grants,
    resource::ResourceType,
    route::{Query, Route, Verb},
    token,
    watch::{self, Body},
    write::{self, Writer},
};

pub(super) async fn serve(
    shared: &Arc<Shared>,
    grants: Option<&Grants>,
    request: Request<kube::client::Body>,
) -> Response<Body> {
    let response = match respond(shared, grants, request).await {
        Ok(response) => response,
        Err(error) => json_response(error.code, &error.to_json()),
    };
    gc::collect_later(shared);
    response
}

async fn respond(
    shared: &Shared,
    grants: Option<&Grants>,
    request: Request<kube::client::Body>,
) -> Result<Response<Body>, ApiError> {
    let (parts, body) = request.into_parts();
    let query = Query::parse(parts.uri.query());
    if parts.method == http::Method::GET
        && let Some((content_type, document)) =
            issuer_discovery::document(shared.issuer(), &parts.uri, &parts.headers)
    {
        if let Some(grants) = grants {
            grants.allow_issuer_discovery(parts.uri.path());
        }
        return Ok(document_response(content_type, &document));
    }
    let Some(route) = Route::parse(parts.uri.path()) else {
        return Err(match grants {
            Some(grants) => grants.refuse_path(&parts.method, parts.uri.path()),
            None => ApiError::no_such_path(),
        });
    };
    let verb = route
        .verb(&parts.method, &query)
        .ok_or_else(ApiError::method_not_allowed)?;
    // The API server authorizes before it looks at the request any further.
    if let Some(grants) = grants {
        grants.authorize(verb, &route, &query)?;
    }
    if let Some(injected) = shared.injected_failure(verb, &route) {
        return Err(injected);
    }
    check_subresource(&route, verb)?;
    if verb.is_write() && query.get("dryRun").is_some() {
        return Err(ApiError::bad_request(
            "the fake API server does not implement dryRun",
        ));
    }
    let body = body
        .collect_bytes()
        .await
        .map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
    let content_type = header_value(&parts.headers, header::CONTENT_TYPE);
    // Like the API server, name an unnamed writer after its user agent's product.
    let user_agent = header_value(&parts.headers, header::USER_AGENT);
    let agent = user_agent
        .split('/')
        .next()
        .filter(|agent| !agent.is_empty());
    let field_manager = query.get("fieldManager");
    let writer = Writer {
        manager: field_manager.or(agent).unwrap_or("unknown"),
        field_manager,
        force: query.flag("force"),
        grants,
    };
    let name = route.name.as_deref().unwrap_or_default();
    let metadata_only = metadata_only::requested(&parts.headers);
    if !verb.is_write() {
        shared.log_read(verb, &route);
    }

    let mut store = shared.store.lock().expect("store lock");
    let (code, object) = match verb {
        Verb::Get => {
            let stored = store.get(&route.key(name));
            let stored = stored.ok_or_else(|| ApiError::not_found(&route.resource, name))?;
            match metadata_only {
                true => (200, metadata_only::object(&stored.object)),
                false => (200, stored.object.clone()),
            }
        }
        Verb::List => {
            let list = list::list(&mut store, &route, &query)?;
            match metadata_only {
                true => (200, metadata_only::list(&list)),
                false => (200, list),
            }
        }
        Verb::Watch => {
            let stream = watch::start(&store, &route, &query, metadata_only)?;
            return Ok(response(200, stream));
        }
        // The one subresource a create reaches (`check_subresource`): a service account's token.
        Verb::Create if route.subresource.is_some() => {
            let (answer, issued) =
                token::create(&store, shared.issuer(), &route, name, json_body(&body)?)?;
            // Logged under the store lock, as writes are, so both logs agree on the order.
            shared.tokens.lock().expect("token log lock").push(issued);
            (201, answer)
        }
        Verb::Create => (
            201,
            write::create(&mut store, &route, json_body(&body)?, &writer)?,
        ),
        Verb::Update => (
            200,
            write::update(&mut store, &route, name, json_body(&body)?, &writer)?,
        ),
        Verb::Patch => {
            let patch_type = PatchType::from_content_type(content_type).ok_or_else(|| {
                ApiError::new(
                    415,
                    "UnsupportedMediaType",
                    format!("unsupported patch content type {content_type:?}"),
                )
            })?;
            let (object, created) =
                write::patch(&mut store, &route, name, patch_type, &body, &writer)?;
            (if created { 201 } else { 200 }, object)
        }
        Verb::Delete => {
            let options = if body.is_empty() {
                Value::Null
            } else {
                json_body(&body)?
            };
            (200, write::delete(&mut store, &route, name, &options)?)
        }
    };
    if verb.is_write() {
        // Logged under the store lock, so the log has the order the writes were committed in.
        let record = WriteRecord {
            verb: verb.as_str().to_string(),
            plural: route.resource.plural.clone(),
            namespace: route.namespace.clone(),
            name: object["metadata"]["name"]
                .as_str()
                .unwrap_or(name)
                .to_string(),
            subresource: route.subresource.clone(),
            field_manager: field_manager.map(str::to_string),
            patch_type: (verb == Verb::Patch).then(|| content_type.to_string()),
        };
        shared.writes.lock().expect("write log lock").push(record);
    }
    Ok(json_response(code, &object))
}

/// The subresources the fake serves, with the verbs the API server takes on them: 404 for any
/// other, 405 for another verb.
fn check_subresource(route: &Route, verb: Verb) -> Result<(), ApiError> {
    let takes = match route.subresource.as_deref() {
        None => return Ok(()),
        Some("status") if route.resource.has_status() => {
            matches!(verb, Verb::Get | Verb::Update | Verb::Patch)
        }
        Some("token") if route.resource == ResourceType::new("api/v1", "serviceaccounts") => {
            verb == Verb::Create
        }
        Some(_) => return Err(ApiError::no_such_path()),
    };
    if takes {
        Ok(())
    } else {
        Err(ApiError::method_not_allowed())
    }
}

fn header_value(headers: &http::HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not JSON: {e}")))
}

/// What a client whose link to the server is cut gets: the API server's answer when it cannot
/// serve at all.
pub(super) fn unavailable() -> Response<Body> {
    let error = ApiError::new(
        503,
        "ServiceUnavailable",
        "the server is currently unable to handle the request",
    );
    json_response(error.code, &error.to_json())
}

fn json_response(code: u16, value: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(value).expect("JSON values serialize");
    response(code, Full::new(bytes.into()).boxed_unsync())
}

fn response(code: u16, body: Body) -> Response<Body> {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .expect("status codes come from the Kubernetes API")
}

/// The issuer's documents, which the API server lets caches keep for an hour.
fn document_response(content_type: &str, value: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(value).expect("JSON values serialize");
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(Full::new(bytes.into()).boxed_unsync())
        .expect("the headers are valid")
}
