//! Watch requests: a stream of newline-delimited watch events, replayed from the history and
//! then followed live, ending at `timeoutSeconds`.

use std::{convert::Infallible, sync::Arc, time::Duration};

use bytes::Bytes;
use futures::StreamExt;
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::{
    error::ApiError,
    metadata_only,
    resource::ResourceType,
    route::{Query, Route},
    select::Selector,
    store::{Change, ChangeKind, Store},
};

pub(super) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The API server's watch timeout when the client sets none (its minimum request timeout).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// How far behind its write a watch delivers a change, at most, in milliseconds. A real API
/// server's watch runs through etcd and its watch cache, so a client sees its own write in the
/// response at once and on the watch a little later (more under load), and reads a stale copy
/// from its cache meanwhile; a fake that delivered at once would hide what that breaks.
const WATCH_LAG_MS: u64 = 20;

/// Starts a watch (of objects' metadata only, when `metadata_only`); must run inside the Tokio
/// runtime, which carries the stream.
pub(super) fn start(
    store: &Store,
    route: &Route,
    query: &Query,
    metadata_only: bool,
) -> Result<Body, ApiError> {
    let filter = Filter {
        resource: route.resource.clone(),
        namespace: route.namespace.clone(),
        selector: Selector::parse(query.get("labelSelector"), query.get("fieldSelector"))?,
        metadata_only,
    };
    let from = match query.get("resourceVersion").unwrap_or_default() {
        "" | "0" => None,
        rv => Some(rv.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!(
                "resourceVersion: Invalid value: {rv:?}: must be an integer"
            ))
        })?),
    };
    let (replay, changes) = match store.watch_from(from.unwrap_or(store.resource_version())) {
        Ok(started) => started,
        // The API server reports an expired resourceVersion inside a successful watch response.
        Err(gone) => return Ok(Full::new(event_line("ERROR", &gone.to_json())).boxed_unsync()),
    };
    let kind = store.kind(&route.resource).unwrap_or_default().to_string();
    let mut lines = Vec::new();
    if from.is_none() && query.get("sendInitialEvents") != Some("false") {
        let existing = store.list(&route.resource, route.namespace.as_deref());
        lines.extend(
            existing
                .filter(|o| filter.selector.matches(o))
                .map(|o| filter.event("ADDED", o)),
        );
        if query.flag("sendInitialEvents") {
            lines.push(bookmark(
                &route.resource,
                &kind,
                store.resource_version(),
                true,
            ));
        }
    }
    lines.extend(replay.iter().filter_map(|change| filter.line(change)));
    let (sender, receiver) = mpsc::channel(16);
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|seconds| seconds.parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let pump = Pump {
        filter,
        sender,
        bookmark_kind: query.flag("allowWatchBookmarks").then_some(kind),
        seen: store.resource_version(),
    };
    tokio::spawn(pump.run(lines, changes, timeout));
    let frames = ReceiverStream::new(receiver).map(|line| Ok(Frame::data(line)));
    Ok(StreamBody::new(frames).boxed_unsync())
}

struct Filter {
    resource: ResourceType,
    namespace: Option<String>,
    selector: Selector,
    metadata_only: bool,
}

impl Filter {
    fn event(&self, event: &str, object: &Value) -> Bytes {
        match self.metadata_only {
            true => event_line(event, &metadata_only::object(object)),
            false => event_line(event, object),
        }
    }

    /// The event this watch sees for a change, if any: with a selector, an object that starts or
    /// stops matching is ADDED or DELETED, as the API server's watch cache reports it.
    fn line(&self, change: &Change) -> Option<Bytes> {
        let key = &change.key;
        if key.resource != self.resource
            || self
                .namespace
                .as_ref()
                .is_some_and(|ns| *ns != key.namespace)
        {
            return None;
        }
        let matches_now = self.selector.matches(&change.object);
        let matched_before = change
            .previous
            .as_ref()
            .is_some_and(|p| self.selector.matches(p));
        let event = match (change.kind, matched_before, matches_now) {
            (ChangeKind::Added, _, true) | (ChangeKind::Modified, false, true) => "ADDED",
            (ChangeKind::Modified, true, true) => "MODIFIED",
            (ChangeKind::Deleted, _, true) | (ChangeKind::Modified, true, false) => "DELETED",
            _ => return None,
        };
        Some(self.event(event, &change.object))
    }
}

struct Pump {
    filter: Filter,
    sender: mpsc::Sender<Bytes>,
    /// The kind to name in bookmarks, when the client allows them.
    bookmark_kind: Option<String>,
    /// The resourceVersion this watch has seen every change up to, delivered or filtered out.
    seen: u64,
}

impl Pump {
    async fn run(
        mut self,
        lines: Vec<Bytes>,
        mut changes: broadcast::Receiver<Arc<Change>>,
        timeout: Duration,
    ) {
        for line in lines {
            if self.sender.send(line).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        // Each change is delivered a random lag after it was made, in order.
        let mut due = tokio::time::Instant::now();
        loop {
            let line = tokio::select! {
                () = &mut deadline => {
                    if let Some(kind) = &self.bookmark_kind {
                        let line = bookmark(&self.filter.resource, kind, self.seen, false);
                        let _ = self.sender.send(line).await;
                    }
                    return;
                }
                () = self.sender.closed() => return,
                change = changes.recv() => match change {
                    Ok(change) => {
                        self.seen = change.resource_version;
                        let Some(line) = self.filter.line(&change) else {
                            continue;
                        };
                        let lag = Duration::from_millis(fastrand::u64(1..=WATCH_LAG_MS));
                        due = due.max(change.at + lag);
                        tokio::time::sleep_until(due).await;
                        line
                    }
                    // A watch that fell too far behind, or whose server restarted, ends; the
                    // client resumes from the last resourceVersion it saw.
                    Err(_) => return,
                },
            };
            if self.sender.send(line).await.is_err() {
                return;
            }
        }
    }
}

fn bookmark(
    resource: &ResourceType,
    kind: &str,
    resource_version: u64,
    initial_events_end: bool,
) -> Bytes {
    let mut metadata = json!({"resourceVersion": resource_version.to_string()});
    if initial_events_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let object = json!({"apiVersion": resource.api_version(), "kind": kind, "metadata": metadata});
    event_line("BOOKMARK", &object)
}

fn event_line(event: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": event, "object": object}))
        .expect("JSON values serialize");
    line.push(b'\n');
    Bytes::from(line)
}
