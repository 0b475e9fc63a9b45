//! The DDNS queue as a REST resource: every NameChangeRequest with where it stands
//! and why, so "why has this host no DNS name?" has an answer. Read-only: the queue
//! is written by the DHCP engine, by Kea servers over UDP and by lease deletions.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | /api/v1/ddns/ncrs | list, newest first (`state`, `fqdn`, `ip-address`, `before`, `limit`) |
//! | GET | /api/v1/ddns/ncrs/{id} | one queued request |

use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tern_store::ncr_queue::{self, NcrQuery, NcrRecord, NcrState};

use super::input::{Params, QueryArgs};
use super::openapi::{common_errors, ok, page_size, query_with, Part};
use crate::error::ApiError;
use crate::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ddns/ncrs", get(list))
        .route("/api/v1/ddns/ncrs/{id}", get(get_one))
}

/// The paths and schemas of the OpenAPI document.
pub fn openapi() -> Part {
    let mut list_ncrs = json!({
        "summary": "The DDNS queue: NameChangeRequests, newest first",
        "description": "Every DNS change the DHCP engine, a Kea server (over UDP) or a lease deletion asked for, with its state and the reason of its last failure: why a host has no DNS name.",
        "operationId": "listNcrs",
        "parameters": [
            query_with("state", "Only this state", json!({ "type": "string", "enum": STATES })),
            query_with("fqdn", "Only this name (case and the trailing dot do not matter)", json!({ "type": "string" })),
            query_with("ip-address", "Only this address (IPv4 or IPv6)", json!({ "type": "string" })),
            query_with("before", "The `next` of the previous page (an id)", json!({ "type": "integer", "minimum": 1 })),
            page_size(),
        ],
        "responses": { "200": ok("A page of queued requests", "NcrPage") }
    });
    common_errors(&mut list_ncrs, &[]);
    let mut get_ncr = json!({ "summary": "One queued NameChangeRequest", "operationId": "getNcr",
        "parameters": [{ "name": "id", "in": "path", "required": true, "description": "Queue id",
                         "schema": { "type": "integer", "minimum": 1 } }],
        "responses": { "200": ok("The request", "Ncr") } });
    common_errors(&mut get_ncr, &[("404", "No such request")]);

    Part::new(
        json!({
            "/api/v1/ddns/ncrs": { "get": list_ncrs },
            "/api/v1/ddns/ncrs/{id}": { "get": get_ncr }
        }),
        json!({
            "Ncr": { "type": "object", "required": ["id", "received-at", "change-type", "fqdn", "ip-address", "attempts", "next-attempt-at"], "properties": {
                "id": { "type": "integer" },
                "received-at": { "type": "string", "format": "date-time" },
                "source": { "type": ["string", "null"], "enum": ["udp", "dhcp4", "dhcp6", "api", null] },
                "change-type": { "type": "string", "enum": ["add", "remove"] },
                "fqdn": { "type": "string" },
                "ip-address": { "type": "string" },
                "state": { "type": ["string", "null"], "enum": ["pending", "in_progress", "done", "failed", "conflict", null] },
                "attempts": { "type": "integer" },
                "next-attempt-at": { "type": "string", "format": "date-time" },
                "last-error": { "type": ["string", "null"], "description": "Why the last attempt failed, or why the request was refused" },
                "finished-at": { "type": ["string", "null"], "format": "date-time" },
                "ncr": { "description": "The request in Kea's NCR JSON" }
            } },
            "NcrPage": { "type": "object", "properties": {
                "items": { "type": "array", "items": { "$ref": "#/components/schemas/Ncr" } },
                "next": { "type": ["integer", "null"], "description": "Pass as `before` for the next page" }
            } }
        }),
    )
}

/// The states a row can be in, as the `state` filter takes them.
pub const STATES: &[&str] = &["pending", "in_progress", "done", "failed", "conflict"];

fn state(s: &str) -> Result<NcrState, ApiError> {
    [
        NcrState::Pending,
        NcrState::InProgress,
        NcrState::Done,
        NcrState::Failed,
        NcrState::Conflict,
    ]
    .into_iter()
    .find(|v| v.as_str() == s)
    .ok_or_else(|| {
        ApiError::bad(
            "state",
            format!("'{s}' is not a queue state ({})", STATES.join(", ")),
        )
    })
}

/// One row as the API shows it: the request (Kea's NCR JSON) and its bookkeeping.
fn row(r: &NcrRecord) -> Value {
    json!({
        "id": r.id,
        "received-at": r.received_at.to_rfc3339(),
        "source": r.source.map(|s| s.as_str()),
        "change-type": if r.change_type == 0 { "add" } else { "remove" },
        "fqdn": r.fqdn,
        "ip-address": r.ip_address.to_string(),
        "state": r.state.map(|s| s.as_str()),
        "attempts": r.attempts,
        "next-attempt-at": r.next_attempt_at.to_rfc3339(),
        "last-error": r.last_error,
        "finished-at": r.finished_at.map(|t| t.to_rfc3339()),
        "ncr": serde_json::from_str::<Value>(&r.ncr_json).unwrap_or(Value::Null),
    })
}

/// `GET /api/v1/ddns/ncrs`: newest first, filtered by state, name or address.
async fn list(State(st): State<AppState>, q: Params) -> Result<Json<Value>, ApiError> {
    let q = QueryArgs::new(q, &["state", "fqdn", "ip-address", "before", "limit"])?;
    let limit = q.limit()?;
    let ip_address = q
        .str("ip-address")
        .map(|s| {
            s.parse::<IpAddr>()
                .map_err(|_| ApiError::bad("ip-address", format!("'{s}' is not an IP address")))
        })
        .transpose()?;
    let query = NcrQuery {
        state: q.str("state").map(state).transpose()?,
        fqdn: q.str("fqdn").map(str::to_string),
        ip_address,
        before: q.int("before", 1, i64::MAX)?,
        limit,
    };
    let rows = ncr_queue::search(st.ctx.store.pool(), &query).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(Json(json!({
        "items": rows.iter().map(row).collect::<Vec<_>>(),
        "next": next,
    })))
}

/// `GET /api/v1/ddns/ncrs/{id}`.
async fn get_one(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: i64 = id
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::bad("id", format!("'{id}' is not a queue id")))?;
    match ncr_queue::get(st.ctx.store.pool(), id).await? {
        Some(r) => Ok(Json(row(&r))),
        None => Err(ApiError::NotFound(format!("no queued request {id}"))),
    }
}
