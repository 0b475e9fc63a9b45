//! The PowerDNS-compatible zones API (the subset DNS tools use: lego, octodns,
//! external-dns, terraform's powerdns provider): `GET /api`, `/api/v1/servers[/localhost]`,
//! zones listed, read (with rrsets) and PATCHed by RRset, `PUT …/notify`; errors as
//! `{"error": "…"}` with PowerDNS's statuses.
//!
//! Two kinds of zones: those of tern's own zone server ([`local`], in the store: created,
//! read, changed and deleted there), and those of the `DhcpDdns` section held by another
//! server ([`zones`]: reads are a TSIG-signed AXFR, a PATCH is one TSIG-signed RFC 2136
//! UPDATE, all of its RRsets or none; tern cannot create or delete zones there). A zone in
//! the store is served as tern's own, also when DhcpDdns names it (the one-box setup,
//! where d2 updates tern's own server). `POST zones` creates zones of tern's own server.

pub use tern_dnsmsg::content;
mod error;
pub mod local;
pub mod zones;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Extension, Json, Router};
use hickory_proto::rr::{Name, Record, RecordType};
use serde_json::{json, Value};
use tern_dnsmsg::update::{rrset_of, RrsetChange};

use crate::AppState;
pub use error::PdnsError;
use zones::{RemoteZone, Zones};

/// The version reported as the server's: PowerDNS's own number first, because tools
/// parse it (octodns reads the leading `major.minor.patch` to pick its API dialect).
pub const PDNS_VERSION: &str = "4.9.0";

/// The zones of the configuration running when the request arrived.
struct Shared(Arc<Zones>);

impl axum::extract::FromRequestParts<AppState> for Shared {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        _: &mut axum::http::request::Parts,
        st: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Shared(st.ctx.running().zones.clone()))
    }
}

/// The routes, serving the zones of `state`'s configuration.
pub fn router(state: &AppState) -> Router<AppState> {
    let version = format!("{PDNS_VERSION}-tern-{}", state.ctx.version);
    Router::new()
        .route("/api", get(api_versions))
        .route("/api/v1/servers", get(servers))
        .route("/api/v1/servers/{server_id}", get(server))
        .route(
            "/api/v1/servers/{server_id}/zones",
            get(list_zones).post(create_zone),
        )
        .route(
            "/api/v1/servers/{server_id}/zones/{zone_id}",
            get(get_zone).patch(patch_zone).delete(delete_zone),
        )
        .route(
            "/api/v1/servers/{server_id}/zones/{zone_id}/notify",
            put(notify),
        )
        .route(
            "/api/v1/servers/{server_id}/zones/{zone_id}/export",
            get(export_zone),
        )
        .layer(Extension(Version(version)))
}

#[derive(Clone)]
struct Version(String);

async fn api_versions() -> Json<Value> {
    Json(json!([{ "url": "/api/v1", "version": 1 }]))
}

fn server_object(version: &str) -> Value {
    json!({
        "type": "Server",
        "id": "localhost",
        "daemon_type": "authoritative",
        "version": version,
        "url": "/api/v1/servers/localhost",
        "config_url": "/api/v1/servers/localhost/config{/config_setting}",
        "zones_url": "/api/v1/servers/localhost/zones{/zone}",
    })
}

async fn servers(Extension(Version(v)): Extension<Version>) -> Json<Value> {
    Json(json!([server_object(&v)]))
}

/// Only `localhost` exists, as in PowerDNS.
fn check_server(id: &str) -> Result<(), PdnsError> {
    if id == "localhost" {
        Ok(())
    } else {
        Err(PdnsError::NotFound(format!("Not Found: no server '{id}'")))
    }
}

async fn server(
    Path(id): Path<String>,
    Extension(Version(v)): Extension<Version>,
) -> Result<Json<Value>, PdnsError> {
    check_server(&id)?;
    Ok(Json(server_object(&v)))
}

fn zone_object(z: &RemoteZone, serial: u32) -> Value {
    json!({
        "id": z.id,
        "name": z.name.to_ascii(),
        "type": "Zone",
        "url": format!("/api/v1/servers/localhost/zones/{}", z.id),
        // Another server is the primary; tern edits it as a client, as PowerDNS's
        // "Native" zones are edited without replication by PowerDNS itself.
        "kind": "Native",
        "serial": serial,
        "notified_serial": serial,
        "edited_serial": serial,
        "masters": [],
        "dnssec": false,
        "account": "",
    })
}

async fn list_zones(
    State(st): State<AppState>,
    Path(server_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    Shared(zones): Shared,
) -> Result<Json<Value>, PdnsError> {
    check_server(&server_id)?;
    let wanted = match q.get("zone") {
        Some(z) => Some(absolute(z).map_err(PdnsError::Unprocessable)?),
        None => None,
    };
    let own = local::list(&st.ctx.store).await?;
    let is_own = |n: &Name| own.iter().any(|z| z.name == n.to_ascii());
    let mut list: Vec<Value> = own
        .iter()
        .filter(|z| wanted.as_ref().is_none_or(|w| w.to_ascii() == z.name))
        .map(local::zone_object)
        .collect();
    list.extend(
        zones
            .zones
            .iter()
            .filter(|z| !is_own(&z.name))
            .filter(|z| wanted.as_ref().is_none_or(|w| *w == z.name))
            // The serial would cost a transfer per zone; GET of the zone has it.
            .map(|z| zone_object(z, 0)),
    );
    Ok(Json(Value::Array(list)))
}

async fn create_zone(
    State(st): State<AppState>,
    Path(server_id): Path<String>,
    Shared(zones): Shared,
    body: Bytes,
) -> Result<Response, PdnsError> {
    check_server(&server_id)?;
    let v = json_body(&body)?;
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| PdnsError::Unprocessable("Domain name is missing".into()))?;
    if zones.find(name).is_ok() && local::find(&st.ctx.store, name).await?.is_none() {
        return Err(PdnsError::Conflict(format!(
            "Domain '{name}' already exists"
        )));
    }
    let created = local::create(&st.ctx.store, &v, |apex, list| {
        list.iter()
            .map(|r| parse_rrset(apex, Holder::Own, r))
            .collect()
    })
    .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn delete_zone(
    State(st): State<AppState>,
    Path((server_id, zone_id)): Path<(String, String)>,
    Shared(zones): Shared,
) -> Result<Response, PdnsError> {
    check_server(&server_id)?;
    if let Some(own) = local::find(&st.ctx.store, &zone_id).await? {
        local::delete(&st.ctx.store, &own).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let z = zones.find(&zone_id)?;
    Err(PdnsError::Unprocessable(format!(
        "tern cannot delete zone '{}': it is held by another DNS server; remove it there and \
         from DhcpDdns",
        z.id
    )))
}

async fn notify(
    State(st): State<AppState>,
    Path((server_id, zone_id)): Path<(String, String)>,
    Shared(zones): Shared,
) -> Result<Json<Value>, PdnsError> {
    check_server(&server_id)?;
    // tern's own zone server sends NOTIFY after every change by itself.
    if local::find(&st.ctx.store, &zone_id).await?.is_none() {
        zones.find(&zone_id)?;
    }
    // The primary sends NOTIFY to its secondaries itself after each UPDATE.
    Ok(Json(json!({ "result": "Notification queued" })))
}

async fn export_zone(
    State(st): State<AppState>,
    Path((server_id, zone_id)): Path<(String, String)>,
) -> Result<Response, PdnsError> {
    check_server(&server_id)?;
    let own = local::find(&st.ctx.store, &zone_id)
        .await?
        .ok_or_else(|| PdnsError::NotFound(format!("Could not find domain '{zone_id}'")))?;
    let text = local::export(&st.ctx.store, &own).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain")], text).into_response())
}

async fn get_zone(
    State(st): State<AppState>,
    Path((server_id, zone_id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    Shared(zones): Shared,
) -> Result<Json<Value>, PdnsError> {
    check_server(&server_id)?;
    let (mut out, sets) = match local::find(&st.ctx.store, &zone_id).await? {
        Some(own) => {
            let mut full = local::zone_with_rrsets(&st.ctx.store, &own).await?;
            let sets = full["rrsets"].take();
            (full, sets.as_array().cloned().unwrap_or_default())
        }
        None => {
            let z = zones.find(&zone_id)?;
            let records = zones.transfer(z).await?;
            (
                zone_object(z, tern_dnsmsg::axfr::serial(&records).unwrap_or(0)),
                rrsets(&records),
            )
        }
    };
    if let Value::Object(m) = &mut out {
        m.remove("rrsets");
    }
    if q.get("rrsets").map(String::as_str) == Some("false") {
        return Ok(Json(out));
    }
    let only_name = match q.get("rrset_name") {
        Some(n) => Some(absolute(n).map_err(PdnsError::Unprocessable)?),
        None => None,
    };
    let only_type = q.get("rrset_type").map(|t| t.to_ascii_uppercase());
    let rrsets: Vec<Value> = sets
        .into_iter()
        .filter(|r| only_name.as_ref().is_none_or(|n| r["name"] == n.to_ascii()))
        .filter(|r| only_type.as_ref().is_none_or(|t| r["type"] == *t))
        .collect();
    out["rrsets"] = Value::Array(rrsets);
    Ok(Json(out))
}

/// Records grouped into RRsets (owner name and type), in the transfer's order.
fn rrsets(records: &[Record]) -> Vec<Value> {
    let mut order: Vec<(Name, RecordType)> = Vec::new();
    let mut sets: HashMap<(Name, RecordType), Value> = HashMap::new();
    for r in records {
        let key = (r.name.to_lowercase(), r.record_type());
        let set = sets.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            // ASCII (punycode) as PowerDNS keeps names: the Unicode form would read back
            // as a different name to the tool that wrote it.
            json!({ "name": key.0.to_ascii(), "type": key.1.to_string(), "ttl": r.ttl,
                    "records": [], "comments": [] })
        });
        if let Some(list) = set["records"].as_array_mut() {
            list.push(json!({ "content": content::render(&r.data), "disabled": false }));
        }
    }
    order.into_iter().filter_map(|k| sets.remove(&k)).collect()
}

fn json_body(body: &Bytes) -> Result<Value, PdnsError> {
    serde_json::from_slice(body).map_err(|e| PdnsError::BadRequest(format!("Invalid JSON: {e}")))
}

fn absolute(text: &str) -> Result<Name, String> {
    let mut n = Name::from_ascii(text).map_err(|e| format!("'{text}' is not a name: {e}"))?;
    n.set_fqdn(true);
    Ok(n.to_lowercase())
}

async fn patch_zone(
    State(st): State<AppState>,
    Path((server_id, zone_id)): Path<(String, String)>,
    Shared(zones): Shared,
    body: Bytes,
) -> Result<StatusCode, PdnsError> {
    check_server(&server_id)?;
    let own = local::find(&st.ctx.store, &zone_id).await?;
    let v = json_body(&body)?;
    let list = v
        .get("rrsets")
        .and_then(Value::as_array)
        .ok_or_else(|| PdnsError::Unprocessable("No rrsets given in the request".into()))?;
    if let Some(own) = own {
        let apex = absolute(&own.name).map_err(PdnsError::Unprocessable)?;
        let changes = list
            .iter()
            .map(|r| parse_rrset(&apex, Holder::Own, r))
            .collect::<Result<Vec<_>, _>>()?;
        cname_rules(&changes)?;
        local::patch(&st.ctx.store, &own, &changes).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    let z = zones.find(&zone_id)?;
    let mut changes = list
        .iter()
        .map(|r| parse_rrset(&z.name, Holder::Elsewhere, r))
        .collect::<Result<Vec<_>, _>>()?;
    let no_cname_at = cname_rules(&changes)?;
    let apex_ns = |c: &RrsetChange| rrset_of(c) == (&z.name, RecordType::NS);
    if let Some(c) = changes.iter().find(|c| apex_ns(c)) {
        if matches!(c, RrsetChange::Delete { .. }) {
            return Err(PdnsError::Unprocessable(format!(
                "RRset {} IN NS: the zone's own NS RRset cannot be deleted",
                z.name
            )));
        }
    }
    let replaces_cname = changes.iter().any(|c| {
        matches!(
            c,
            RrsetChange::Replace {
                rtype: RecordType::CNAME,
                ..
            }
        )
    });
    // What RFC 2136 cannot express without knowing the zone's data: read it first (a
    // change made between this read and the UPDATE goes unnoticed).
    if replaces_cname || changes.iter().any(apex_ns) {
        let current = zones.transfer(z).await?;
        check_cname_alone(&current, &changes)?;
        for c in changes.iter_mut().filter(|c| apex_ns(c)) {
            if let RrsetChange::Replace {
                name,
                rtype,
                ttl,
                records,
            } = c.clone()
            {
                let old = current
                    .iter()
                    .filter(|r| r.name.to_lowercase() == name && r.record_type() == rtype)
                    .map(|r| r.data.clone())
                    .collect();
                *c = RrsetChange::Swap {
                    name,
                    rtype,
                    ttl,
                    records,
                    old,
                };
            }
        }
    }
    zones.update(z, &changes, &no_cname_at).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who holds the zone a change is for: what cannot be kept differs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// tern's own zone server.
    Own,
    /// Another DNS server (DhcpDdns).
    Elsewhere,
}

impl Holder {
    fn where_(self) -> &'static str {
        match self {
            Holder::Own => "tern's zone server",
            Holder::Elsewhere => "a zone held by another DNS server",
        }
    }
}

/// One element of `rrsets` as a change for the zone at `apex`, checked as PowerDNS checks
/// it.
fn parse_rrset(apex: &Name, holder: Holder, r: &Value) -> Result<RrsetChange, PdnsError> {
    let bad = PdnsError::Unprocessable;
    let field = |k: &str| r.get(k).filter(|v| !v.is_null());
    let name_text = field("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("RRset without a name".into()))?;
    let type_text = field("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("RRset {name_text}: no type")))?;
    let what = format!("RRset {name_text} IN {type_text}");
    if type_text.eq_ignore_ascii_case("ALIAS") {
        // PowerDNS answers an ALIAS by resolving its target (with `resolver` and
        // `expand-alias` set; without them it answers NODATA). tern's zone server does no
        // recursion: storing the record would answer nothing for the name, so it is
        // refused as PowerDNS refuses what it cannot serve.
        return Err(bad(format!(
            "{what}: ALIAS records are not supported: tern's zone server does not resolve \
             (use A/AAAA records, or a CNAME below the zone apex)"
        )));
    }
    let rtype =
        content::record_type(type_text).ok_or_else(|| bad(format!("{what}: unknown type")))?;
    let name = absolute(name_text).map_err(|e| bad(format!("{what}: {e}")))?;
    if !apex.zone_of(&name) {
        return Err(bad(format!("{what}: Name is out of zone")));
    }
    if field("comments")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty())
    {
        return Err(bad(format!(
            "{what}: comments cannot be kept in {}",
            holder.where_()
        )));
    }
    let changetype = field("changetype")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_uppercase();
    let records = match field("records") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(bad(format!("{what}: records is not a list"))),
    };
    match changetype.as_str() {
        "DELETE" => {
            if rtype == RecordType::SOA {
                return Err(bad(format!("{what}: the SOA cannot be deleted")));
            }
            Ok(RrsetChange::Delete { name, rtype })
        }
        // PowerDNS: REPLACE without records deletes the RRset.
        "REPLACE" if records.is_empty() => Ok(RrsetChange::Delete { name, rtype }),
        "REPLACE" => {
            let ttl = field("ttl")
                .and_then(Value::as_u64)
                .and_then(|t| u32::try_from(t).ok())
                .filter(|t| *t <= i32::MAX as u32)
                .ok_or_else(|| bad(format!("{what}: a TTL (0 to 2147483647) is required")))?;
            let mut data = Vec::with_capacity(records.len());
            for rec in &records {
                let text = rec
                    .get("content")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("{what}: a record without content")))?;
                if rec.get("disabled").and_then(Value::as_bool) == Some(true) {
                    return Err(bad(format!(
                        "Record {name_text}/{type_text} '{text}': disabled records cannot be kept in {}",
                        holder.where_()
                    )));
                }
                let d = content::parse(rtype, text)
                    .map_err(|e| bad(format!("Record {name_text}/{type_text} '{text}': {e}")))?;
                if !data.contains(&d) {
                    data.push(d);
                }
            }
            if rtype == RecordType::CNAME && data.len() > 1 {
                return Err(bad(format!("{what}: only one CNAME record is allowed")));
            }
            Ok(RrsetChange::Replace {
                name,
                rtype,
                ttl,
                records: data,
            })
        }
        other => Err(bad(format!(
            "{what}: changetype '{other}' is not REPLACE or DELETE"
        ))),
    }
}

/// Checks the PATCH on its own (one change per RRset, no CNAME beside other data it
/// adds) and returns the names where a CNAME must not exist already: where other data is
/// added and the PATCH does not remove a CNAME.
fn cname_rules(changes: &[RrsetChange]) -> Result<Vec<Name>, PdnsError> {
    let mut seen = std::collections::HashSet::new();
    for c in changes {
        let (n, t) = rrset_of(c);
        if !seen.insert((n.clone(), t)) {
            return Err(PdnsError::Unprocessable(format!(
                "Duplicate RRset {n} IN {t} in the request"
            )));
        }
    }
    let adds = |n: &Name, cname: bool| {
        changes.iter().any(|c| {
            matches!(c, RrsetChange::Replace { name, rtype, .. }
                if name == n && (*rtype == RecordType::CNAME) == cname)
        })
    };
    let mut no_cname_at = Vec::new();
    for c in changes {
        let RrsetChange::Replace { name, rtype, .. } = c else {
            continue;
        };
        if *rtype == RecordType::CNAME {
            continue;
        }
        if adds(name, true) {
            return Err(PdnsError::Conflict(format!(
                "RRset {name} IN CNAME: Conflicts with another RRset (a CNAME cannot be beside other data)"
            )));
        }
        let cname_removed = changes
            .iter()
            .any(|c| rrset_of(c) == (name, RecordType::CNAME));
        if !cname_removed && !no_cname_at.contains(name) {
            no_cname_at.push(name.clone());
        }
    }
    Ok(no_cname_at)
}

/// A CNAME REPLACE needs its name free of other data, which RFC 2136 prerequisites
/// cannot say while the CNAME itself may exist: checked against the zone's `records`.
fn check_cname_alone(records: &[Record], changes: &[RrsetChange]) -> Result<(), PdnsError> {
    for c in changes {
        let RrsetChange::Replace {
            name,
            rtype: RecordType::CNAME,
            ..
        } = c
        else {
            continue;
        };
        let other = records.iter().find(|r| {
            let t = r.record_type();
            r.name.to_lowercase() == *name
                && t != RecordType::CNAME
                && !t.is_dnssec()
                && !changes
                    .iter()
                    .any(|d| matches!(d, RrsetChange::Delete { .. }) && rrset_of(d) == (name, t))
        });
        if let Some(r) = other {
            return Err(PdnsError::Conflict(format!(
                "RRset {name} IN CNAME: Conflicts with pre-existing RRset {name} IN {}",
                r.record_type()
            )));
        }
    }
    Ok(())
}
