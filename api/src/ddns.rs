//! The DDNS queue as a REST resource: every NameChangeRequest with where it stands
//! and why, so "why has this host no DNS name?" has an answer. Read-only: the queue
//! is written by the DHCP engine, by Kea servers over UDP and by lease deletions.

use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use tern_store::ncr_queue::{self, NcrQuery, NcrRecord, NcrState};

use crate::error::ApiError;
use crate::rest::{Params, QueryArgs};
use crate::AppState;

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
pub async fn list(State(st): State<AppState>, q: Params) -> Result<Json<Value>, ApiError> {
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
pub async fn get(
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
