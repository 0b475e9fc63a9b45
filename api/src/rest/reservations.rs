//! `/api/v1/reservations`: DHCPv4 host reservations in Kea's `hosts` table, in Kea's
//! reservation JSON with the row's `id`.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | /api/v1/reservations | list (`subnet-id`, `hostname`, `hw-address`, `client-id`, `ip-address`, `limit`, `after`) |
//! | POST | /api/v1/reservations | create (body: Kea's reservation map) |
//! | GET, PUT, DELETE | /api/v1/reservations/{id} | one reservation |
//! | GET | /api/v1/reservations/by-hw-address/{mac} | by hardware address |
//! | GET | /api/v1/reservations/by-client-id/{id} | by client identifier |

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::input::{parse_body, Params, QueryArgs, MAX_LIMIT};
use super::openapi::{
    body, common_errors, nullable_optionals, ok, page_size, path_param, query, Part, HEX_ID,
};
use crate::error::ApiError;
use crate::kea::{hosts, parse_hex};
use crate::AppState;
use tern_store::{host, HostFilter};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
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
}

/// The paths and schemas of the OpenAPI document.
pub fn openapi() -> Part {
    let mut list_res = json!({
        "summary": "List host reservations (DHCPv4)",
        "operationId": "listReservations",
        "parameters": [
            query("subnet-id", "Only this subnet"),
            query("hostname", "Only this host name (case-insensitive)"),
            query("hw-address", "Only this hardware address"),
            query("client-id", "Only this client identifier"),
            query("ip-address", "Only this reserved address"),
            page_size(),
            query("after", "The `next` of the previous page"),
        ],
        "responses": { "200": ok("A page of reservations", "ReservationPage") }
    });
    common_errors(&mut list_res, &[]);
    let mut create_res = json!({
        "summary": "Create a host reservation",
        "operationId": "createReservation",
        "requestBody": body("Reservation"),
        "responses": { "201": ok("Created", "Reservation") }
    });
    common_errors(
        &mut create_res,
        &[(
            "409",
            "The identifier or address is already reserved in the subnet",
        )],
    );
    let id = path_param("id", "Reservation id (hosts.host_id)");
    let mut get_res = json!({ "summary": "One reservation", "operationId": "getReservation", "parameters": [id.clone()],
        "responses": { "200": ok("The reservation", "Reservation") } });
    common_errors(&mut get_res, &[("404", "No such reservation")]);
    let mut put_res = json!({ "summary": "Replace a reservation", "operationId": "updateReservation", "parameters": [id.clone()],
        "requestBody": body("Reservation"),
        "responses": { "200": ok("The reservation as stored", "Reservation") } });
    common_errors(
        &mut put_res,
        &[
            ("404", "No such reservation"),
            (
                "409",
                "The identifier or address is already reserved in the subnet",
            ),
        ],
    );
    let mut del_res = json!({ "summary": "Delete a reservation", "operationId": "deleteReservation", "parameters": [id],
        "responses": { "204": { "description": "Deleted" } } });
    common_errors(&mut del_res, &[("404", "No such reservation")]);
    let mut res_hw = json!({ "summary": "Reservations of a hardware address", "operationId": "reservationsByHwAddress",
        "parameters": [path_param("hw_address", "Hardware address, e.g. 1a:1b:1c:1d:1e:1f")],
        "responses": { "200": ok("Reservations", "ReservationPage") } });
    common_errors(&mut res_hw, &[]);
    let mut res_cid = json!({ "summary": "Reservations of a client identifier", "operationId": "reservationsByClientId",
        "parameters": [path_param("client_id", "Client identifier in hex")],
        "responses": { "200": ok("Reservations", "ReservationPage") } });
    common_errors(&mut res_cid, &[]);
    let one_identifier: Vec<Value> = crate::kea::hosts::identifier_names()
        .iter()
        // Present and not null: a null identifier counts as absent, as for every field.
        .map(|k| json!({ "required": [k], "properties": { *k: { "type": "string" } } }))
        .collect();
    let mut schemas = json!({
        "Reservation": { "type": "object", "required": ["subnet-id"], "description": "Kea's reservation map with exactly one identifier (hw-address, duid, circuit-id, client-id, flex-id).",
            "oneOf": one_identifier,
            "properties": {
            "id": { "type": "integer", "readOnly": true },
            "subnet-id": { "type": "integer", "minimum": 0, "maximum": 4294967295_u64, "description": "0 = global" },
            "hw-address": { "type": "string", "pattern": HEX_ID }, "client-id": { "type": "string", "pattern": HEX_ID }, "duid": { "type": "string", "pattern": HEX_ID },
            "circuit-id": { "type": "string", "pattern": HEX_ID }, "flex-id": { "type": "string", "pattern": HEX_ID },
            "ip-address": { "type": "string", "format": "ipv4" }, "hostname": { "type": "string", "maxLength": 255 },
            "client-classes": { "type": "array", "items": { "type": "string" } },
            "next-server": { "type": "string", "format": "ipv4" }, "server-hostname": { "type": "string", "maxLength": 64 }, "boot-file-name": { "type": "string", "maxLength": 128 },
            "option-data": { "type": "array", "items": { "type": "object", "properties": {
                "code": { "type": "integer" }, "name": { "type": "string" }, "space": { "type": "string", "default": "dhcp4" },
                "data": { "type": "string" }, "always-send": { "type": "boolean" }, "csv-format": { "type": "boolean" }
            } } },
            "user-context": { "type": "object" }
        } },
        "ReservationPage": { "type": "object", "properties": {
            "items": { "type": "array", "items": { "$ref": "#/components/schemas/Reservation" } },
            "next": { "type": ["integer", "null"], "description": "Pass as `after` for the next page" }
        } },
    });
    nullable_optionals(&mut schemas["Reservation"]);
    Part::new(
        json!({
            "/api/v1/reservations": { "get": list_res, "post": create_res },
            "/api/v1/reservations/{id}": { "get": get_res, "put": put_res, "delete": del_res },
            "/api/v1/reservations/by-hw-address/{hw_address}": { "get": res_hw },
            "/api/v1/reservations/by-client-id/{client_id}": { "get": res_cid },
        }),
        schemas,
    )
}

fn host_id(s: &str) -> Result<i32, ApiError> {
    s.parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::bad("id", format!("'{s}' is not a reservation id")))
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
