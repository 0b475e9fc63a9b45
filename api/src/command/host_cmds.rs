//! Kea's host_cmds: reservation-* over `hosts` (DHCPv4) and `hosts` +
//! `ipv6_reservations` (DHCPv6).

use serde_json::{json, Map, Value};
use tern_store::{host, Host6Filter, HostFilter};

use super::answer::{db_answer, result, Answer, DbExt, Outcome};
use crate::error::{classify, DbFault};
use crate::kea::{hosts, hosts6, parse_hex, Args};
use crate::AppState;

/// DHCPv6 reservations: the command goes to `dhcp6`, or the reservation has IPv6 parts.
pub(super) fn wants_v6(service: Option<&str>, args: &Args<'_>) -> bool {
    service == Some("dhcp6")
        || service.is_none()
            && args
                .get("reservation")
                .and_then(Value::as_object)
                .is_some_and(|r| r.contains_key("ip-addresses") || r.contains_key("prefixes"))
}

pub(super) async fn dispatch6(st: &AppState, command: &str, args: &Args<'_>) -> Outcome {
    let pool = st.ctx.store.pool();
    let key = |args: &Args<'_>| -> Result<Host6Filter, Answer> {
        let sid = args.req_int("subnet-id", 0, u32::MAX as i64)?;
        let mut f = Host6Filter {
            subnet_id: Some(sid),
            ..Default::default()
        };
        if let Some(a) = args.str("ip-address")? {
            f.address =
                Some(a.parse().map_err(|_| {
                    Answer::err(format!("'ip-address': '{a}' is not an IPv6 address"))
                })?);
        } else if args.has("identifier-type") || args.has("identifier") {
            let t = hosts::identifier_code(args.req_str("identifier-type")?)?;
            f.identifier = Some((t, parse_hex("identifier", args.req_str("identifier")?)?));
        } else {
            return Err(Answer::err(
                "Either 'ip-address' or 'identifier-type' and 'identifier' must be specified.",
            ));
        }
        Ok(f)
    };
    let list = |rows: Vec<tern_store::Host>, family: &str| {
        let code = if rows.is_empty() {
            result::EMPTY
        } else {
            result::SUCCESS
        };
        Answer::new(code, format!("{} {family}host(s) found.", rows.len())).with(json!({
            "hosts": rows.iter().map(hosts6::to_kea).collect::<Vec<_>>()
        }))
    };
    match command {
        "reservation-add" => {
            let h = hosts6::parse_new(reservation_arg(args)?, st.ctx.running().dhcp6.as_deref())?;
            host::insert6(pool, &h).await.map_err(write_answer)?;
            Ok(Answer::ok("Host added."))
        }
        "reservation-get" => {
            let rows = host::select6(pool, &key(args)?).await.db()?;
            match rows.first() {
                Some(h) => Ok(Answer::ok("Host found.").with(hosts6::to_kea(h))),
                None => Err(Answer::new(result::EMPTY, "Host not found.")),
            }
        }
        "reservation-del" => {
            if host::delete6(pool, &key(args)?).await.db()? > 0 {
                Ok(Answer::ok("Host deleted."))
            } else {
                Err(Answer::new(result::EMPTY, "Host not deleted (not found)."))
            }
        }
        "reservation-get-all" => {
            let sid = args.req_int("subnet-id", 0, u32::MAX as i64)?;
            let rows = host::select6(
                pool,
                &Host6Filter {
                    subnet_id: Some(sid),
                    ..Default::default()
                },
            )
            .await
            .db()?;
            Ok(list(rows, "IPv6 "))
        }
        "reservation-get-by-hostname" => {
            let rows = host::select6(
                pool,
                &Host6Filter {
                    hostname: Some(args.req_str("hostname")?.to_string()),
                    subnet_id: args.int("subnet-id", 0, u32::MAX as i64)?,
                    ..Default::default()
                },
            )
            .await
            .db()?;
            Ok(list(rows, "IPv6 "))
        }
        "reservation-get-by-id" => {
            let t = hosts::identifier_code(args.req_str("identifier-type")?)?;
            let id = parse_hex("identifier", args.req_str("identifier")?)?;
            let rows = host::select6(
                pool,
                &Host6Filter {
                    identifier: Some((t, id)),
                    ..Default::default()
                },
            )
            .await
            .db()?;
            Ok(list(rows, ""))
        }
        "reservation-get-page" => {
            let limit = args.req_int("limit", 0, u32::MAX as i64)?;
            if limit == 0 {
                return Err(Answer::err(
                    "page size of the retrieved hosts must not be 0",
                ));
            }
            let rows = host::select6(
                pool,
                &Host6Filter {
                    subnet_id: args.int("subnet-id", 0, u32::MAX as i64)?,
                    after: args.int("from", 0, i32::MAX as i64)?.map(|f| f as i32),
                    limit: Some(limit),
                    ..Default::default()
                },
            )
            .await
            .db()?;
            let code = if rows.is_empty() {
                result::EMPTY
            } else {
                result::SUCCESS
            };
            let mut arguments = json!({
                "count": rows.len(),
                "hosts": rows.iter().map(hosts6::to_kea).collect::<Vec<_>>(),
            });
            if let Some(last) = rows.last() {
                arguments["next"] = json!({ "from": last.host_id, "source-index": 1 });
            }
            Ok(Answer::new(code, format!("{} IPv6 host(s) found.", rows.len())).with(arguments))
        }
        other => Err(Answer::new(
            result::UNSUPPORTED,
            format!("'{other}' command not supported."),
        )),
    }
}

pub(super) fn reservation_arg<'a>(args: &Args<'a>) -> Result<&'a Map<String, Value>, Answer> {
    match args.get("reservation") {
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(Answer::err("'reservation' must be a map")),
        None => Err(Answer::err("missing parameter 'reservation'")),
    }
}

pub(super) fn write_answer(e: tern_store::Error) -> Answer {
    if let tern_store::Error::AddressReserved { address, subnet_id } = &e {
        // Kea's text; an IPv4 reservation names what is reserved.
        let what = if address.contains(':') {
            ""
        } else {
            "address "
        };
        return Answer::err(format!(
            "Database duplicate entry error: {what}{address} is already reserved in subnet {subnet_id}"
        ));
    }
    match classify(&e) {
        DbFault::Conflict(m) => Answer::err(format!("Database duplicate entry error: {m}")),
        _ => db_answer(e),
    }
}

pub(super) async fn reservation_add(st: &AppState, args: &Args<'_>) -> Outcome {
    let h = hosts::parse_new(reservation_arg(args)?, st.ctx.running().dhcp4.as_deref())?;
    host::insert4(st.ctx.store.pool(), &h)
        .await
        .map_err(write_answer)?;
    Ok(Answer::ok("Host added."))
}

pub(super) async fn reservation_update(st: &AppState, args: &Args<'_>) -> Outcome {
    let h = hosts::parse_new(reservation_arg(args)?, st.ctx.running().dhcp4.as_deref())?;
    let pool = st.ctx.store.pool();
    let existing = host::select(
        pool,
        &HostFilter {
            subnet_id: h.dhcp4_subnet_id.map(i64::from),
            identifier: Some((h.identifier_type, h.identifier.clone())),
            ..Default::default()
        },
    )
    .await
    .db()?;
    let Some(row) = existing.first() else {
        return Err(Answer::err("Host not updated (not found)."));
    };
    host::replace4(pool, row.host_id, &h)
        .await
        .map_err(write_answer)?;
    Ok(Answer::ok("Host updated."))
}

/// `subnet-id` + (`ip-address` | `identifier-type` + `identifier`).
pub(super) fn host_key(args: &Args<'_>) -> Result<HostFilter, Answer> {
    let sid = args.req_int("subnet-id", 0, u32::MAX as i64)?;
    let mut f = HostFilter {
        subnet_id: Some(sid),
        ..Default::default()
    };
    if let Some(a) = args.v4("ip-address")? {
        f.ipv4_address = Some(a);
    } else if args.has("identifier-type") || args.has("identifier") {
        let t = hosts::identifier_code(args.req_str("identifier-type")?)?;
        let id = parse_hex("identifier", args.req_str("identifier")?)?;
        f.identifier = Some((t, id));
    } else {
        return Err(Answer::err(
            "Either 'ip-address' or 'identifier-type' and 'identifier' must be specified.",
        ));
    }
    Ok(f)
}

pub(super) async fn reservation_get(st: &AppState, args: &Args<'_>) -> Outcome {
    let f = host_key(args)?;
    let rows = host::select(st.ctx.store.pool(), &f).await.db()?;
    match rows.first() {
        Some(h) => {
            let running = st.ctx.running();
            Ok(Answer::ok("Host found.").with(hosts::to_kea(h, running.dhcp4.as_deref())))
        }
        None => Err(Answer::new(result::EMPTY, "Host not found.")),
    }
}

pub(super) async fn reservation_del(st: &AppState, args: &Args<'_>) -> Outcome {
    let f = host_key(args)?;
    let n = host::delete(st.ctx.store.pool(), &f).await.db()?;
    if n > 0 {
        Ok(Answer::ok("Host deleted."))
    } else {
        Err(Answer::new(result::EMPTY, "Host not deleted (not found)."))
    }
}

pub(super) async fn host_list(st: &AppState, f: HostFilter, family: &str) -> Outcome {
    let rows = host::select(st.ctx.store.pool(), &f).await.db()?;
    let running = st.ctx.running();
    let d4 = running.dhcp4.as_deref();
    let code = if rows.is_empty() {
        result::EMPTY
    } else {
        result::SUCCESS
    };
    Ok(
        Answer::new(code, format!("{} {family}host(s) found.", rows.len())).with(json!({
            "hosts": rows.iter().map(|h| hosts::to_kea(h, d4)).collect::<Vec<_>>()
        })),
    )
}

pub(super) async fn reservation_get_page(st: &AppState, args: &Args<'_>) -> Outcome {
    let sid = args.int("subnet-id", 0, u32::MAX as i64)?;
    let limit = args.req_int("limit", 0, u32::MAX as i64)?;
    if limit == 0 {
        return Err(Answer::err(
            "page size of the retrieved hosts must not be 0",
        ));
    }
    let from = args.int("from", 0, i32::MAX as i64)?.map(|f| f as i32);
    let rows = host::select(
        st.ctx.store.pool(),
        &HostFilter {
            subnet_id: sid,
            after: from,
            limit: Some(limit),
            ..Default::default()
        },
    )
    .await
    .db()?;
    let code = if rows.is_empty() {
        result::EMPTY
    } else {
        result::SUCCESS
    };
    let running = st.ctx.running();
    let list: Vec<Value> = rows
        .iter()
        .map(|h| hosts::to_kea(h, running.dhcp4.as_deref()))
        .collect();
    let mut arguments = json!({ "count": rows.len(), "hosts": list });
    if let Some(last) = rows.last() {
        arguments["next"] = json!({ "from": last.host_id, "source-index": 1 });
    }
    Ok(Answer::new(code, format!("{} IPv4 host(s) found.", rows.len())).with(arguments))
}
