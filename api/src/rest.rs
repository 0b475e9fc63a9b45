//! The REST API under `/api/v1`: host reservations and leases in Kea's tables, in Kea's
//! JSON shapes (a reservation also carries its row `id`). Lists page by keyset: pass the
//! answer's `next` back as `after`.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | /api/v1/reservations | list (`subnet-id`, `hostname`, `hw-address`, `client-id`, `ip-address`, `limit`, `after`) |
//! | POST | /api/v1/reservations | create (body: Kea's reservation map) |
//! | GET, PUT, DELETE | /api/v1/reservations/{id} | one reservation |
//! | GET | /api/v1/reservations/by-hw-address/{mac} | by hardware address |
//! | GET | /api/v1/reservations/by-client-id/{id} | by client identifier |
//! | GET | /api/v1/leases | list (`subnet-id`, `hw-address`, `client-id`, `hostname`, `state`, `limit`, `after`) |
//! | POST | /api/v1/leases | create (body: Kea's lease4-add arguments) |
//! | GET, PUT, DELETE | /api/v1/leases/{ip} | one lease |
//! | GET | /api/v1/leases/by-hw-address/{mac} | by hardware address |
//! | GET | /api/v1/leases/by-hostname/{name} | by host name |
//! | GET | /api/v1/openapi.json | this API described |

use std::collections::HashMap;
use std::net::Ipv4Addr;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::kea::{hosts, leases, parse_hex};
use crate::AppState;
use tern_store::{host, lease4, HostFilter, LeaseFilter};

/// Every REST route as `(method, path)`, in OpenAPI's path syntax. The router below and
/// the OpenAPI document are both checked against this list by the tests.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/reservations"),
    ("POST", "/api/v1/reservations"),
    ("GET", "/api/v1/reservations/{id}"),
    ("PUT", "/api/v1/reservations/{id}"),
    ("DELETE", "/api/v1/reservations/{id}"),
    ("GET", "/api/v1/reservations/by-hw-address/{hw_address}"),
    ("GET", "/api/v1/reservations/by-client-id/{client_id}"),
    ("GET", "/api/v1/leases"),
    ("POST", "/api/v1/leases"),
    ("GET", "/api/v1/leases/{ip_address}"),
    ("PUT", "/api/v1/leases/{ip_address}"),
    ("DELETE", "/api/v1/leases/{ip_address}"),
    ("GET", "/api/v1/leases/by-hw-address/{hw_address}"),
    ("GET", "/api/v1/leases/by-hostname/{hostname}"),
    ("GET", "/api/v1/ddns/ncrs"),
    ("GET", "/api/v1/ddns/ncrs/{id}"),
    // The PowerDNS zones API (crate::pdns).
    ("GET", "/api"),
    ("GET", "/api/v1/servers"),
    ("GET", "/api/v1/servers/{server_id}"),
    ("GET", "/api/v1/servers/{server_id}/zones"),
    ("POST", "/api/v1/servers/{server_id}/zones"),
    ("GET", "/api/v1/servers/{server_id}/zones/{zone_id}"),
    ("PATCH", "/api/v1/servers/{server_id}/zones/{zone_id}"),
    ("DELETE", "/api/v1/servers/{server_id}/zones/{zone_id}"),
    ("PUT", "/api/v1/servers/{server_id}/zones/{zone_id}/notify"),
];

/// Page size when none is asked for, and the largest allowed.
pub const DEFAULT_LIMIT: i64 = 100;
/// The largest page.
pub const MAX_LIMIT: i64 = 1000;

/// The REST routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route(
            "/api/v1/reservations",
            get(list_reservations).post(create_reservation),
        )
        .route(
            "/api/v1/reservations/{id}",
            get(get_reservation)
                .put(update_reservation)
                .delete(delete_reservation),
        )
        .route(
            "/api/v1/reservations/by-hw-address/{hw_address}",
            get(reservations_by_hw),
        )
        .route(
            "/api/v1/reservations/by-client-id/{client_id}",
            get(reservations_by_client_id),
        )
        .route("/api/v1/leases", get(list_leases).post(create_lease))
        .route(
            "/api/v1/leases/{ip_address}",
            get(get_lease).put(update_lease).delete(delete_lease),
        )
        .route(
            "/api/v1/leases/by-hw-address/{hw_address}",
            get(leases_by_hw),
        )
        .route(
            "/api/v1/leases/by-hostname/{hostname}",
            get(leases_by_hostname),
        )
        .route("/api/v1/ddns/ncrs", get(crate::ddns::list))
        .route("/api/v1/ddns/ncrs/{id}", get(crate::ddns::get))
        .method_not_allowed_fallback(method_not_allowed)
}

/// Answer for paths no route serves.
pub async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let body = json!({
        "error": "method-not-allowed",
        "message": format!("{method} is not allowed on {}", uri.path()),
    });
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

pub(crate) type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

/// Query parameters, each known one taken once; an unknown one is a 400 naming it.
pub(crate) struct QueryArgs(HashMap<String, String>);

impl QueryArgs {
    pub(crate) fn new(q: Params, known: &[&str]) -> Result<Self, ApiError> {
        let Query(m) = q.map_err(|e| ApiError::bad("query", e.body_text()))?;
        if let Some(k) = m.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::bad(
                k.clone(),
                format!("unknown query parameter (known: {})", known.join(", ")),
            ));
        }
        Ok(Self(m))
    }

    pub(crate) fn str(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    pub(crate) fn int(&self, k: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::bad(
                    k,
                    format!("'{s}' is not an integer from {min} to {max}"),
                )),
            },
        }
    }

    fn v4(&self, k: &str) -> Result<Option<Ipv4Addr>, ApiError> {
        self.str(k)
            .map(|s| {
                s.parse()
                    .map_err(|_| ApiError::bad(k, format!("'{s}' is not an IPv4 address")))
            })
            .transpose()
    }

    fn hex(&self, k: &str) -> Result<Option<Vec<u8>>, ApiError> {
        Ok(self.str(k).map(|s| parse_hex(k, s)).transpose()?)
    }

    pub(crate) fn limit(&self) -> Result<i64, ApiError> {
        Ok(self.int("limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT))
    }
}

fn parse_body(body: &Bytes) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad("body", "must be a JSON object")),
        Err(e) => Err(ApiError::bad("body", format!("not valid JSON: {e}"))),
    }
}

fn host_id(s: &str) -> Result<i32, ApiError> {
    s.parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::bad("id", format!("'{s}' is not a reservation id")))
}

fn ip_path(s: &str) -> Result<Ipv4Addr, ApiError> {
    s.parse()
        .map_err(|_| ApiError::bad("ip-address", format!("'{s}' is not an IPv4 address")))
}

fn write_error(e: tern_store::Error) -> ApiError {
    match e {
        tern_store::Error::AddressReserved { address, subnet_id } => ApiError::Conflict(format!(
            "address {address} is already reserved in subnet {subnet_id}"
        )),
        e => e.into(),
    }
}

/// tern's JSON for a reservation, its options named by the running `Dhcp4`.
fn host_json(st: &AppState, h: &tern_store::Host) -> Value {
    hosts::to_rest(h, st.ctx.running().dhcp4.as_deref())
}

fn host_page(st: &AppState, rows: Vec<tern_store::Host>, limit: i64) -> Json<Value> {
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.host_id))
        .flatten();
    Json(json!({
        "items": rows.iter().map(|h| host_json(st, h)).collect::<Vec<_>>(),
        "next": next,
    }))
}

fn lease_page(rows: Vec<tern_store::Lease4>, limit: i64) -> Json<Value> {
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.address.to_string()))
        .flatten();
    Json(json!({ "items": leases::to_kea_list(&rows), "next": next }))
}

async fn list_reservations(State(st): State<AppState>, q: Params) -> Result<Json<Value>, ApiError> {
    let q = QueryArgs::new(
        q,
        &[
            "subnet-id",
            "hostname",
            "hw-address",
            "client-id",
            "ip-address",
            "limit",
            "after",
        ],
    )?;
    let identifier = match (q.hex("hw-address")?, q.hex("client-id")?) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(
                "client-id",
                "give hw-address or client-id, not both",
            ))
        }
        (Some(h), None) => Some((0, h)),
        (None, Some(c)) => Some((3, c)),
        (None, None) => None,
    };
    let limit = q.limit()?;
    let f = HostFilter {
        subnet_id: q.int("subnet-id", 0, u32::MAX as i64)?,
        hostname: q.str("hostname").map(str::to_string),
        identifier,
        ipv4_address: q.v4("ip-address")?,
        after: q.int("after", 0, i32::MAX as i64)?.map(|a| a as i32),
        limit: Some(limit),
        ..Default::default()
    };
    let rows = host::select(st.ctx.store.pool(), &f).await?;
    Ok(host_page(&st, rows, limit))
}

async fn create_reservation(State(st): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let mut m = parse_body(&body)?;
    m.remove("id");
    let h = hosts::parse_new(&m, st.ctx.running().dhcp4.as_deref())?;
    let row = host::insert4(st.ctx.store.pool(), &h)
        .await
        .map_err(write_error)?;
    let location = format!("/api/v1/reservations/{}", row.host_id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(host_json(&st, &row)),
    )
        .into_response())
}

async fn one_host(st: &AppState, id: i32) -> Result<tern_store::Host, ApiError> {
    host::select(
        st.ctx.store.pool(),
        &HostFilter {
            host_id: Some(id),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .next()
    .ok_or_else(|| ApiError::NotFound(format!("no reservation {id}")))
}

async fn get_reservation(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = host_id(&id)?;
    Ok(Json(host_json(&st, &one_host(&st, id).await?)))
}

async fn update_reservation(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = host_id(&id)?;
    let mut m = parse_body(&body)?;
    match m.remove("id") {
        Some(v) if v.as_i64() != Some(i64::from(id)) => {
            return Err(ApiError::bad("id", "differs from the id in the path"))
        }
        _ => {}
    }
    let h = hosts::parse_new(&m, st.ctx.running().dhcp4.as_deref())?;
    match host::replace4(st.ctx.store.pool(), id, &h)
        .await
        .map_err(write_error)?
    {
        Some(row) => Ok(Json(host_json(&st, &row))),
        None => Err(ApiError::NotFound(format!("no reservation {id}"))),
    }
}

async fn delete_reservation(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = host_id(&id)?;
    let n = host::delete(
        st.ctx.store.pool(),
        &HostFilter {
            host_id: Some(id),
            ..Default::default()
        },
    )
    .await?;
    if n == 0 {
        return Err(ApiError::NotFound(format!("no reservation {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn hosts_by_identifier(
    st: &AppState,
    t: i16,
    field: &str,
    v: &str,
) -> Result<Json<Value>, ApiError> {
    let id = parse_hex(field, v)?;
    let rows = host::select(
        st.ctx.store.pool(),
        &HostFilter {
            identifier: Some((t, id)),
            limit: Some(MAX_LIMIT),
            ..Default::default()
        },
    )
    .await?;
    Ok(host_page(st, rows, MAX_LIMIT + 1))
}

async fn reservations_by_hw(
    State(st): State<AppState>,
    Path(v): Path<String>,
) -> Result<Json<Value>, ApiError> {
    hosts_by_identifier(&st, 0, "hw-address", &v).await
}

async fn reservations_by_client_id(
    State(st): State<AppState>,
    Path(v): Path<String>,
) -> Result<Json<Value>, ApiError> {
    hosts_by_identifier(&st, 3, "client-id", &v).await
}

async fn list_leases(State(st): State<AppState>, q: Params) -> Result<Json<Value>, ApiError> {
    let q = QueryArgs::new(
        q,
        &[
            "subnet-id",
            "hw-address",
            "client-id",
            "hostname",
            "state",
            "limit",
            "after",
        ],
    )?;
    let limit = q.limit()?;
    let f = LeaseFilter {
        subnets: q.int("subnet-id", 0, u32::MAX as i64)?.map(|s| vec![s]),
        hwaddr: q.hex("hw-address")?,
        client_id: q.hex("client-id")?,
        hostname: q.str("hostname").map(str::to_string),
        state: q.int("state", 0, 4)?,
        after: q.v4("after")?,
        limit: Some(limit),
        address: None,
    };
    Ok(lease_page(
        lease4::select(st.ctx.store.pool(), &f).await?,
        limit,
    ))
}

async fn create_lease(State(st): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let m = parse_body(&body)?;
    let l = leases::parse_new(&crate::kea::Args(&m), st.ctx.running().dhcp4.as_deref())?;
    lease4::insert(st.ctx.store.pool(), &l).await?;
    let row = lease4::get(st.ctx.store.pool(), l.address)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("lease {} vanished after insert", l.address))
        })?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/leases/{}", l.address))],
        Json(leases::to_kea(&row)),
    )
        .into_response())
}

async fn update_lease(
    State(st): State<AppState>,
    Path(ip): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let a = ip_path(&ip)?;
    let mut m = parse_body(&body)?;
    match m.get("ip-address") {
        None => {
            m.insert("ip-address".into(), a.to_string().into());
        }
        Some(v) if v.as_str() == Some(a.to_string().as_str()) => {}
        Some(_) => {
            return Err(ApiError::bad(
                "ip-address",
                "differs from the address in the path",
            ))
        }
    }
    let l = leases::parse_new(&crate::kea::Args(&m), st.ctx.running().dhcp4.as_deref())?;
    if !lease4::update(st.ctx.store.pool(), &l, false).await? {
        return Err(ApiError::NotFound(format!("no lease for {a}")));
    }
    match lease4::get(st.ctx.store.pool(), a).await? {
        Some(row) => Ok(Json(leases::to_kea(&row))),
        None => Err(ApiError::NotFound(format!("no lease for {a}"))),
    }
}

async fn get_lease(
    State(st): State<AppState>,
    Path(ip): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let a = ip_path(&ip)?;
    match lease4::get(st.ctx.store.pool(), a).await? {
        Some(l) => Ok(Json(leases::to_kea(&l))),
        None => Err(ApiError::NotFound(format!("no lease for {a}"))),
    }
}

async fn delete_lease(
    State(st): State<AppState>,
    Path(ip): Path<String>,
) -> Result<StatusCode, ApiError> {
    let a = ip_path(&ip)?;
    // The lease's DNS entries leave with it, through the NCR queue (d2 removes them).
    let running = st.ctx.running();
    let (found, _) = lease4::delete_queueing_removal(
        st.ctx.store.pool(),
        a,
        |old| {
            running
                .dhcp4
                .as_deref()
                .and_then(|d| leases::removal_ncr(d, old))
        },
        tern_store::NcrSource::Api,
    )
    .await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no lease for {a}")))
    }
}

async fn leases_by_hw(
    State(st): State<AppState>,
    Path(v): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let hw = parse_hex("hw-address", &v)?;
    let rows = lease4::select(
        st.ctx.store.pool(),
        &LeaseFilter {
            hwaddr: Some(hw),
            limit: Some(MAX_LIMIT),
            ..Default::default()
        },
    )
    .await?;
    Ok(lease_page(rows, MAX_LIMIT + 1))
}

async fn leases_by_hostname(
    State(st): State<AppState>,
    Path(v): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rows = lease4::select(
        st.ctx.store.pool(),
        &LeaseFilter {
            hostname: Some(v),
            limit: Some(MAX_LIMIT),
            ..Default::default()
        },
    )
    .await?;
    Ok(lease_page(rows, MAX_LIMIT + 1))
}
