//! The zones of tern's own zone server (`tern.dns_zone`): created, read, changed and
//! deleted in the store, where the zone server (every appliance on the database) picks each
//! change up at once. PowerDNS's shapes: the zone object, rrsets with the SOA first, kinds
//! written as PowerDNS writes them, its statuses and error texts where tools look at them.

use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, RecordType};
use serde_json::{json, Value};
use tern_dnsmsg::update::RrsetChange;
use tern_dnsmsg::zonefile;
use tern_store::zone::{
    self, ManagedBy, NewRecord, NewZone, Record, SerialRule, Soa, Zone, ZoneKind, ZoneTx,
};
use tern_store::Store;

use super::error::PdnsError;
use super::zones::zone_id;
use tern_dnsmsg::content;

/// PowerDNS's `default-soa-content`, used when a new zone names no SOA.
const DEFAULT_MNAME: &str = "a.misconfigured.dns.server.invalid.";
const DEFAULT_SOA: (u32, u32, u32, u32, u32) = (3600, 10800, 3600, 604800, 3600);

fn internal(e: tern_store::Error) -> PdnsError {
    match e {
        tern_store::Error::ZoneExists(name) => {
            PdnsError::Conflict(format!("Domain '{name}' already exists"))
        }
        e => PdnsError::Internal(format!("the store failed: {e}")),
    }
}

/// The zone of tern's own server a path's id names, if there is one.
pub async fn find(store: &Store, id: &str) -> Result<Option<Zone>, PdnsError> {
    zone::get(store.pool(), &id.replace("=2F", "/"))
        .await
        .map_err(internal)
}

/// Every zone of tern's own server.
pub async fn list(store: &Store) -> Result<Vec<Zone>, PdnsError> {
    zone::list(store.pool()).await.map_err(internal)
}

fn origin(z: &Zone) -> Name {
    let mut n = Name::from_ascii(&z.name).unwrap_or_else(|_| Name::root());
    n.set_fqdn(true);
    n
}

/// The zone object without rrsets.
pub fn zone_object(z: &Zone) -> Value {
    let id = zone_id(&origin(z));
    json!({
        "id": id,
        "name": z.name,
        "type": "Zone",
        "url": format!("/api/v1/servers/localhost/zones/{id}"),
        "kind": z.kind.as_str(),
        "serial": z.serial,
        "notified_serial": z.serial,
        "edited_serial": z.serial,
        "masters": [],
        "dnssec": false,
        "nsec3param": "",
        "nsec3narrow": false,
        "presigned": false,
        "api_rectify": false,
        "soa_edit": "",
        "soa_edit_api": z.soa_edit_api.as_str(),
        "account": z.account,
        "last_check": 0,
    })
}

fn soa_content(z: &Zone) -> String {
    format!(
        "{} {} {} {} {} {} {}",
        z.soa.mname, z.soa.rname, z.serial, z.soa.refresh, z.soa.retry, z.soa.expire, z.soa.minimum
    )
}

/// The zone object with its rrsets (the SOA first), read in one consistent snapshot.
pub async fn zone_with_rrsets(store: &Store, z: &Zone) -> Result<Value, PdnsError> {
    let (z, records) = zone::snapshot(store.pool(), z.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| PdnsError::NotFound(format!("Could not find domain '{}'", z.name)))?;
    let mut out = zone_object(&z);
    out["rrsets"] = Value::Array(rrsets(&z, &records));
    Ok(out)
}

/// The rrsets of a snapshot: SOA, then by name and type as the store orders them.
pub fn rrsets(z: &Zone, records: &[Record]) -> Vec<Value> {
    let mut out = vec![json!({
        "name": z.name, "type": "SOA", "ttl": z.soa.ttl, "comments": [],
        "records": [{ "content": soa_content(z), "disabled": false }],
    })];
    let mut last: Option<(String, String)> = None;
    for r in records {
        let key = (r.name.to_ascii_lowercase(), r.rtype.clone());
        if last.as_ref() != Some(&key) {
            out.push(
                json!({ "name": key.0, "type": key.1, "ttl": r.ttl, "records": [],
                             "comments": [] }),
            );
            last = Some(key);
        }
        if let Some(list) = out.last_mut().and_then(|s| s["records"].as_array_mut()) {
            list.push(json!({ "content": r.content, "disabled": false }));
        }
    }
    out
}

fn kind(v: Option<&Value>) -> Result<ZoneKind, PdnsError> {
    let text = v.and_then(Value::as_str).unwrap_or("Native");
    match text.to_ascii_uppercase().as_str() {
        "NATIVE" => Ok(ZoneKind::Native),
        "MASTER" | "PRIMARY" => Ok(ZoneKind::Master),
        "SLAVE" | "SECONDARY" => Err(PdnsError::Unprocessable(
            "tern's zone server does not transfer zones in (kind Slave): it is the primary of the zones it serves".into(),
        )),
        // PowerDNS reads anything else as Native.
        _ => Ok(ZoneKind::Native),
    }
}

fn serial_rule(v: Option<&Value>) -> Result<SerialRule, PdnsError> {
    match v
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase()
        .as_str()
    {
        "" | "DEFAULT" => Ok(SerialRule::Default),
        "INCREASE" => Ok(SerialRule::Increase),
        "EPOCH" => Ok(SerialRule::Epoch),
        other => Err(PdnsError::Unprocessable(format!(
            "soa_edit_api '{other}' is not DEFAULT, INCREASE or EPOCH"
        ))),
    }
}

fn soa_from(data: &SOA, ttl: u32) -> (Soa, u32) {
    let clamp = |v: i32| u32::try_from(v).unwrap_or(0);
    (
        Soa {
            ttl,
            mname: data.mname.to_ascii(),
            rname: data.rname.to_ascii(),
            refresh: clamp(data.refresh),
            retry: clamp(data.retry),
            expire: clamp(data.expire),
            minimum: data.minimum,
        },
        data.serial,
    )
}

fn new_records(name: &Name, rtype: RecordType, ttl: u32, data: &[RData]) -> Vec<NewRecord> {
    data.iter()
        .map(|d| NewRecord {
            name: name.to_ascii(),
            rtype: rtype.to_string(),
            ttl,
            content: content::render(d),
            managed_by: ManagedBy::Admin,
        })
        .collect()
}

/// `POST zones` for tern's own server: the new zone, with its rrsets, for the 201.
pub async fn create(
    store: &Store,
    body: &Value,
    parse_rrsets: impl Fn(&Name, &[Value]) -> Result<Vec<RrsetChange>, PdnsError>,
) -> Result<Value, PdnsError> {
    let bad = PdnsError::Unprocessable;
    let name_text = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Domain name is missing".into()))?;
    if name_text.is_empty() {
        return Err(bad("Unable to parse DNS Name '': empty".into()));
    }
    let mut apex = Name::from_ascii(name_text)
        .map_err(|e| bad(format!("Unable to parse DNS Name '{name_text}': {e}")))?;
    apex.set_fqdn(true);
    let apex = apex.to_lowercase();
    let kind = kind(body.get("kind"))?;
    let soa_edit_api = serial_rule(body.get("soa_edit_api"))?;
    let account = body
        .get("account")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let nameservers: Vec<String> = body
        .get("nameservers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let rrsets = body.get("rrsets").and_then(Value::as_array);
    let text = body.get("zone").and_then(Value::as_str);
    if rrsets.is_some_and(|r| !r.is_empty()) && text.is_some() {
        return Err(bad("You cannot give rrsets AND zone data as text".into()));
    }
    let mut soa: Option<(Soa, u32)> = None;
    let mut records = Vec::new();
    if let Some(text) = text {
        // Text from a client may not make the server read its own files.
        let no_include = |_: &std::path::Path| -> std::io::Result<String> {
            Err(std::io::Error::other(
                "$INCLUDE is not accepted in zone text sent over the API",
            ))
        };
        let file = zonefile::parse(
            text,
            std::path::Path::new("zone"),
            &apex.to_ascii(),
            &no_include,
        )
        .map_err(|e| bad(format!("Error parsing zone data: {e}")))?;
        soa = Some((
            Soa {
                ttl: file.soa.ttl,
                mname: file.soa.mname.clone(),
                rname: file.soa.rname.clone(),
                refresh: file.soa.refresh,
                retry: file.soa.retry,
                expire: file.soa.expire,
                minimum: file.soa.minimum,
            },
            file.soa.serial,
        ));
        records.extend(file.records.into_iter().map(|r| NewRecord {
            name: r.name,
            rtype: r.rtype,
            ttl: r.ttl,
            content: r.content,
            managed_by: ManagedBy::Admin,
        }));
    }
    for change in parse_rrsets(&apex, rrsets.map(Vec::as_slice).unwrap_or_default())? {
        let RrsetChange::Replace {
            name,
            rtype,
            ttl,
            records: data,
        } = change
        else {
            continue;
        };
        if rtype == RecordType::SOA {
            if let Some(RData::SOA(s)) = data.first() {
                soa = Some(soa_from(s, ttl));
            }
            continue;
        }
        if rtype == RecordType::NS && name == apex && !nameservers.is_empty() {
            return Err(bad(
                "Nameservers list MUST NOT be mixed with zone-level NS in rrsets".into(),
            ));
        }
        records.extend(new_records(&name, rtype, ttl, &data));
    }
    for ns in &nameservers {
        let mut n = Name::from_ascii(ns)
            .map_err(|e| bad(format!("Nameserver '{ns}' is not a name: {e}")))?;
        n.set_fqdn(true);
        records.push(NewRecord {
            name: apex.to_ascii(),
            rtype: "NS".into(),
            ttl: 3600,
            content: n.to_ascii(),
            managed_by: ManagedBy::Admin,
        });
    }
    let (soa, soa_serial) = soa.unwrap_or_else(|| {
        let (ttl, refresh, retry, expire, minimum) = DEFAULT_SOA;
        (
            Soa {
                ttl,
                mname: nameservers
                    .first()
                    .cloned()
                    .unwrap_or_else(|| DEFAULT_MNAME.into()),
                rname: format!("hostmaster.{}", apex.to_ascii()).replace("..", "."),
                refresh,
                retry,
                expire,
                minimum,
            },
            0,
        )
    });
    let serial = body
        .get("serial")
        .and_then(Value::as_u64)
        .and_then(|s| u32::try_from(s).ok())
        .filter(|s| *s > 0)
        .or((soa_serial > 0).then_some(soa_serial));
    let created = zone::create(
        store.pool(),
        &NewZone {
            name: apex.to_ascii(),
            kind,
            soa_edit_api,
            account,
            soa,
            serial,
            records,
        },
    )
    .await
    .map_err(internal)?;
    zone_with_rrsets(store, &created).await
}

/// `DELETE zone`.
pub async fn delete(store: &Store, z: &Zone) -> Result<(), PdnsError> {
    zone::delete(store.pool(), &z.name)
        .await
        .map_err(internal)?;
    Ok(())
}

/// `PATCH zone`: every change in one transaction, or none.
pub async fn patch(store: &Store, z: &Zone, changes: &[RrsetChange]) -> Result<(), PdnsError> {
    let apex = origin(z);
    let mut tx = ZoneTx::begin(store.pool(), &z.name)
        .await
        .map_err(internal)?
        .ok_or_else(|| PdnsError::NotFound(format!("Could not find domain '{}'", z.name)))?;
    check_cnames(&mut tx, changes).await?;
    for c in changes {
        match c {
            RrsetChange::Delete { name, rtype } => {
                if *rtype == RecordType::SOA {
                    return Err(PdnsError::Unprocessable(format!(
                        "RRset {name} IN SOA: the SOA cannot be deleted"
                    )));
                }
                if *rtype == RecordType::NS && *name == apex {
                    return Err(PdnsError::Unprocessable(format!(
                        "RRset {name} IN NS: the zone's own NS RRset cannot be deleted"
                    )));
                }
                tx.delete_rrset(&name.to_ascii(), &rtype.to_string())
                    .await
                    .map_err(internal)?;
            }
            RrsetChange::Replace {
                name,
                rtype,
                ttl,
                records,
            }
            | RrsetChange::Swap {
                name,
                rtype,
                ttl,
                records,
                ..
            } => {
                if *rtype == RecordType::SOA {
                    let Some(RData::SOA(s)) = records.first() else {
                        continue;
                    };
                    let (soa, serial) = soa_from(s, *ttl);
                    // A serial the client sets is kept when it moves forward; the store's
                    // rule bumps it otherwise.
                    let serial = (serial > tx.zone().serial).then_some(serial);
                    tx.set_soa(&soa, serial).await.map_err(internal)?;
                    continue;
                }
                let rows = new_records(name, *rtype, *ttl, records);
                tx.replace_rrset(&name.to_ascii(), &rtype.to_string(), &rows)
                    .await
                    .map_err(internal)?;
            }
        }
    }
    tx.commit().await.map_err(internal)?;
    Ok(())
}

/// RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME stands alone at its name. Checked against
/// the zone's data inside the transaction, with the PATCH's own deletions applied.
async fn check_cnames(tx: &mut ZoneTx, changes: &[RrsetChange]) -> Result<(), PdnsError> {
    let names: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            RrsetChange::Replace { name, .. } | RrsetChange::Swap { name, .. } => {
                Some(name.to_ascii())
            }
            RrsetChange::Delete { .. } => None,
        })
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let existing = tx.records_at(&names).await.map_err(internal)?;
    let deleted = |name: &str, t: &str| {
        changes.iter().any(|c| {
            let (n, rt) = tern_dnsmsg::update::rrset_of(c);
            n.to_ascii().eq_ignore_ascii_case(name) && rt.to_string() == t
        })
    };
    for c in changes {
        let (RrsetChange::Replace { name, rtype, .. } | RrsetChange::Swap { name, rtype, .. }) = c
        else {
            continue;
        };
        let here = name.to_ascii();
        let clash = existing.iter().find(|r| {
            r.name.eq_ignore_ascii_case(&here)
                && (r.rtype == "CNAME") != (*rtype == RecordType::CNAME)
                && !deleted(&r.name, &r.rtype)
        });
        if let Some(r) = clash {
            return Err(PdnsError::Conflict(format!(
                "RRset {here} IN {rtype}: Conflicts with pre-existing RRset {} IN {}",
                r.name, r.rtype
            )));
        }
    }
    Ok(())
}

/// `GET zones/{id}/export`: the zone as a BIND zone file.
pub async fn export(store: &Store, z: &Zone) -> Result<String, PdnsError> {
    let (z, records) = zone::snapshot(store.pool(), z.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| PdnsError::NotFound(format!("Could not find domain '{}'", z.name)))?;
    let soa = zonefile::ZoneFileSoa {
        ttl: z.soa.ttl,
        mname: z.soa.mname.clone(),
        rname: z.soa.rname.clone(),
        serial: z.serial,
        refresh: z.soa.refresh,
        retry: z.soa.retry,
        expire: z.soa.expire,
        minimum: z.soa.minimum,
    };
    let rows: Vec<zonefile::ZoneFileRecord> = records
        .into_iter()
        .map(|r| zonefile::ZoneFileRecord {
            name: r.name,
            rtype: r.rtype,
            ttl: r.ttl,
            content: r.content,
        })
        .collect();
    Ok(zonefile::export(&z.name, &soa, &rows))
}
