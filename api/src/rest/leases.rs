//! `/api/v1/leases`: DHCPv4 leases in Kea's `lease4` table, in Kea's lease JSON. A lease
//! deleted here takes its DNS entries with it (the removal is queued for d2).
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | /api/v1/leases | list (`subnet-id`, `hw-address`, `client-id`, `hostname`, `state`, `limit`, `after`) |
//! | POST | /api/v1/leases | create (body: Kea's lease4-add arguments) |
//! | GET, PUT, DELETE | /api/v1/leases/{ip} | one lease |
//! | GET | /api/v1/leases/by-hw-address/{mac} | by hardware address |
//! | GET | /api/v1/leases/by-hostname/{name} | by host name |

use std::net::Ipv4Addr;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::input::{parse_body, Params, QueryArgs, MAX_LIMIT};
use super::openapi::{
    body, common_errors, nullable_optionals, ok, page_size, path_param, query, query_with, Part,
    HEX_ID,
};
use crate::error::ApiError;
use crate::kea::{leases, parse_hex};
use crate::AppState;
use tern_store::{lease4, LeaseFilter};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
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
}

/// The paths and schemas of the OpenAPI document.
pub fn openapi() -> Part {
    let mut list_leases = json!({
        "summary": "List DHCPv4 leases",
        "operationId": "listLeases",
        "parameters": [
            query("subnet-id", "Only this subnet"),
            query("hw-address", "Only this hardware address"),
            query("client-id", "Only this client identifier"),
            query("hostname", "Only this host name (case-insensitive)"),
            query("state", "Only this state (0 default, 1 declined, 2 expired-reclaimed, 3 released, 4 registered)"),
            page_size(),
            query_with(
                "after",
                "The `next` of the previous page (an address)",
                json!({ "type": "string", "format": "ipv4" }),
            ),
        ],
        "responses": { "200": ok("A page of leases", "LeasePage") }
    });
    common_errors(&mut list_leases, &[]);
    let mut create_lease = json!({
        "summary": "Create a lease (as lease4-add)", "operationId": "createLease",
        "requestBody": body("Lease"),
        "responses": { "201": ok("Created", "Lease") } });
    common_errors(
        &mut create_lease,
        &[("409", "A lease for this address already exists")],
    );
    let ip = path_param("ip_address", "IPv4 address");
    let mut put_lease = json!({ "summary": "Replace a lease (as lease4-update)", "operationId": "updateLease", "parameters": [ip.clone()],
        "requestBody": body("Lease"),
        "responses": { "200": ok("The lease as stored", "Lease") } });
    common_errors(&mut put_lease, &[("404", "No lease for this address")]);
    let mut get_lease = json!({ "summary": "One lease", "operationId": "getLease", "parameters": [ip.clone()],
        "responses": { "200": ok("The lease", "Lease") } });
    common_errors(&mut get_lease, &[("404", "No lease for this address")]);
    let mut del_lease = json!({ "summary": "Delete a lease", "operationId": "deleteLease", "parameters": [ip],
        "description": "The lease's DNS entries (if the DHCP engine made any) are removed too: the removal is queued in the same transaction as the delete, and d2 carries it out (see /api/v1/ddns/ncrs).",
        "responses": { "204": { "description": "Deleted" } } });
    common_errors(&mut del_lease, &[("404", "No lease for this address")]);
    let mut lease_hw = json!({ "summary": "Leases of a hardware address", "operationId": "leasesByHwAddress",
        "parameters": [path_param("hw_address", "Hardware address")],
        "responses": { "200": ok("Leases", "LeasePage") } });
    common_errors(&mut lease_hw, &[]);
    let mut lease_host = json!({ "summary": "Leases of a host name", "operationId": "leasesByHostname",
        "parameters": [path_param("hostname", "Host name (case-insensitive)")],
        "responses": { "200": ok("Leases", "LeasePage") } });
    common_errors(&mut lease_host, &[]);
    let mut schemas = json!({
        "Lease": { "type": "object", "required": ["ip-address", "hw-address"], "description": "Kea's lease JSON. On input subnet-id is found from the address when omitted (it must be a configured subnet holding the address when Dhcp4 has subnets); expire (epoch seconds) may replace cltt.", "properties": {
            "expire": { "type": "integer", "writeOnly": true },
            "ip-address": { "type": "string", "format": "ipv4" }, "hw-address": { "type": "string", "pattern": HEX_ID }, "client-id": { "type": "string", "pattern": HEX_ID },
            "valid-lft": { "type": "integer", "minimum": 0, "maximum": 4294967295_u64 }, "cltt": { "type": "integer" }, "subnet-id": { "type": "integer", "minimum": 0, "maximum": 4294967295_u64 },
            "pool-id": { "type": "integer" }, "fqdn-fwd": { "type": "boolean" }, "fqdn-rev": { "type": "boolean" },
            "hostname": { "type": "string", "maxLength": 255 }, "state": { "type": "integer", "minimum": 0, "maximum": 4 }, "user-context": { "type": "object" }
        } },
        "LeasePage": { "type": "object", "properties": {
            "items": { "type": "array", "items": { "$ref": "#/components/schemas/Lease" } },
            "next": { "type": ["string", "null"], "description": "Pass as `after` for the next page" }
        } },
    });
    nullable_optionals(&mut schemas["Lease"]);
    Part::new(
        json!({
            "/api/v1/leases": { "get": list_leases, "post": create_lease },
            "/api/v1/leases/{ip_address}": { "get": get_lease, "put": put_lease, "delete": del_lease },
            "/api/v1/leases/by-hw-address/{hw_address}": { "get": lease_hw },
            "/api/v1/leases/by-hostname/{hostname}": { "get": lease_host },
        }),
        schemas,
    )
}

fn ip_path(s: &str) -> Result<Ipv4Addr, ApiError> {
    s.parse()
        .map_err(|_| ApiError::bad("ip-address", format!("'{s}' is not an IPv4 address")))
}

fn lease_page(rows: Vec<tern_store::Lease4>, limit: i64) -> Json<Value> {
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.address.to_string()))
        .flatten();
    Json(json!({ "items": leases::to_kea_list(&rows), "next": next }))
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
