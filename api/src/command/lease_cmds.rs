//! Kea's lease_cmds: lease4-* and lease6-* over `lease4` and `lease6`.

use serde_json::{json, Value};
use tern_store::{lease4, lease6, Lease6Filter, LeaseFilter};

use super::answer::{db_answer, result, Answer, DbExt, Outcome};
use crate::error::{classify, DbFault};
use crate::kea::{leases, leases6, parse_hex, Args};
use crate::AppState;

pub(super) async fn lease4_add(st: &AppState, args: &Args<'_>) -> Outcome {
    let l = leases::parse_new(args, st.ctx.running().dhcp4.as_deref())?;
    match lease4::insert(st.ctx.store.pool(), &l).await {
        Ok(()) => Ok(Answer::ok(format!(
            "Lease for address {}, subnet-id {} added.",
            l.address, l.subnet_id
        ))),
        Err(e) => match classify(&e) {
            // Kea's lease4-add on a taken address fails as an error (1), not a conflict.
            DbFault::Conflict(_) => Err(Answer::err("IPv4 lease already exists.")),
            _ => Err(db_answer(e)),
        },
    }
}

pub(super) async fn lease4_update(st: &AppState, args: &Args<'_>) -> Outcome {
    let l = leases::parse_new(args, st.ctx.running().dhcp4.as_deref())?;
    let force = args.bool("force-create")?.unwrap_or(false);
    if lease4::update(st.ctx.store.pool(), &l, force).await.db()? {
        Ok(Answer::ok("IPv4 lease updated."))
    } else {
        Err(Answer::err(format!(
            "failed to update the lease with address {} - no such lease",
            l.address
        )))
    }
}

/// `ip-address`, or `identifier-type` + `identifier` + `subnet-id`.
pub(super) async fn find_one(
    st: &AppState,
    args: &Args<'_>,
) -> Result<Option<tern_store::Lease4>, Answer> {
    let pool = st.ctx.store.pool();
    if let Some(a) = args.v4("ip-address")? {
        let f = LeaseFilter {
            address: Some(a),
            ..Default::default()
        };
        return Ok(lease4::select(pool, &f).await.db()?.into_iter().next());
    }
    if !args.has("identifier-type") && !args.has("identifier") {
        return Err(Answer::err(
            "'ip-address' or 'identifier-type', 'identifier' and 'subnet-id' must be given",
        ));
    }
    let kind = args.req_str("identifier-type")?;
    let id = parse_hex("identifier", args.req_str("identifier")?)?;
    let sid = args.req_int("subnet-id", 0, u32::MAX as i64)?;
    let f = leases::identifier_filter(kind, id, sid)?;
    Ok(lease4::select(pool, &f).await.db()?.into_iter().next())
}

pub(super) async fn lease4_get(st: &AppState, args: &Args<'_>) -> Outcome {
    match find_one(st, args).await? {
        Some(l) => Ok(Answer::ok("IPv4 lease found.").with(leases::to_kea(&l))),
        None => Err(Answer::new(result::EMPTY, "Lease not found.")),
    }
}

pub(super) async fn lease_list(st: &AppState, f: LeaseFilter) -> Outcome {
    let rows = lease4::select(st.ctx.store.pool(), &f).await.db()?;
    let code = if rows.is_empty() {
        result::EMPTY
    } else {
        result::SUCCESS
    };
    Ok(
        Answer::new(code, format!("{} IPv4 lease(s) found.", rows.len()))
            .with(json!({ "leases": leases::to_kea_list(&rows) })),
    )
}

pub(super) fn subnets_arg(args: &Args<'_>) -> Result<Option<Vec<i64>>, Answer> {
    match args.get("subnets") {
        None => Ok(None),
        Some(Value::Array(a)) => {
            let mut v = Vec::new();
            for s in a {
                match s.as_i64() {
                    Some(n) if (0..=u32::MAX as i64).contains(&n) => v.push(n),
                    _ => {
                        return Err(Answer::err(
                            "'subnets' must be a list of subnet identifiers",
                        ))
                    }
                }
            }
            Ok(Some(v))
        }
        Some(_) => Err(Answer::err("'subnets' parameter must be a list")),
    }
}

pub(super) async fn lease4_get_all(st: &AppState, args: &Args<'_>) -> Outcome {
    let subnets = subnets_arg(args)?;
    lease_list(
        st,
        LeaseFilter {
            subnets,
            ..Default::default()
        },
    )
    .await
}

/// `from` ("start" or an address of the family) and a non-zero `limit` of a
/// lease*-get-page command.
fn page_args<A: std::str::FromStr>(
    args: &Args<'_>,
    family: &str,
) -> Result<(Option<A>, i64), Answer> {
    let from = match args.req("from")? {
        Value::String(s) if s == "start" => None,
        Value::String(s) => Some(s.parse::<A>().map_err(|_| {
            Answer::err(format!(
                "'from' parameter value {s} is neither 'start' nor a valid {family} address"
            ))
        })?),
        _ => return Err(Answer::err("'from' parameter must be a string")),
    };
    let limit = args.req_int("limit", 0, u32::MAX as i64)?;
    if limit == 0 {
        return Err(Answer::err(
            "page size of the retrieved leases must not be 0",
        ));
    }
    Ok((from, limit))
}

/// A lease*-get-page answer: empty (3) or success, with Kea's text and the count.
fn page_answer(family: &str, count: usize, leases: Value) -> Answer {
    let code = if count == 0 {
        result::EMPTY
    } else {
        result::SUCCESS
    };
    Answer::new(code, format!("{count} {family} lease(s) found."))
        .with(json!({ "leases": leases, "count": count }))
}

pub(super) async fn lease4_get_page(st: &AppState, args: &Args<'_>) -> Outcome {
    let (from, limit) = page_args::<std::net::Ipv4Addr>(args, "IPv4")?;
    let rows = lease4::select(
        st.ctx.store.pool(),
        &LeaseFilter {
            after: from,
            limit: Some(limit),
            ..Default::default()
        },
    )
    .await
    .db()?;
    Ok(page_answer("IPv4", rows.len(), leases::to_kea_list(&rows)))
}

pub(super) async fn lease4_del(st: &AppState, args: &Args<'_>) -> Outcome {
    let addr = match args.v4("ip-address")? {
        Some(a) => Some(a),
        None => find_one(st, args).await?.map(|l| l.address),
    };
    let Some(addr) = addr else {
        return Err(Answer::new(result::EMPTY, "IPv4 lease not found."));
    };
    // Kea's "update-ddns" (default false): queue the removal of the lease's DNS entries.
    let update_ddns = args.bool("update-ddns")?.unwrap_or(false);
    let running = st.ctx.running();
    let dhcp4 = running.dhcp4.as_deref().filter(|_| update_ddns);
    let (found, _) = lease4::delete_queueing_removal(
        st.ctx.store.pool(),
        addr,
        |old| dhcp4.and_then(|d| leases::removal_ncr(d, old)),
        tern_store::NcrSource::Api,
    )
    .await
    .db()?;
    if found {
        Ok(Answer::ok("IPv4 lease deleted."))
    } else {
        Err(Answer::new(result::EMPTY, "IPv4 lease not found."))
    }
}

pub(super) async fn lease4_wipe(st: &AppState, args: &Args<'_>) -> Outcome {
    let sid = args
        .int("subnet-id", 0, u32::MAX as i64)?
        .filter(|s| *s != 0);
    let per = lease4::wipe(st.ctx.store.pool(), sid).await.db()?;
    Ok(wipe_answer(sid, &per, "IPv4"))
}

pub(super) fn wipe_answer(sid: Option<i64>, per: &[(i64, i64)], family: &str) -> Answer {
    let total: i64 = per.iter().map(|(_, n)| n).sum();
    let ids: Vec<String> = match sid {
        Some(s) => vec![s.to_string()],
        None => per.iter().map(|(s, _)| s.to_string()).collect(),
    };
    let text = format!(
        "Deleted {total} {family} lease(s) from subnet(s) {}",
        ids.join(" ")
    );
    let code = if total == 0 {
        result::EMPTY
    } else {
        result::SUCCESS
    };
    Answer::new(code, text.trim_end().to_string())
}

pub(super) fn parse_v6(args: &Args<'_>, k: &str) -> Result<Option<std::net::Ipv6Addr>, Answer> {
    match args.str(k)? {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| Answer::err(format!("'{k}': '{s}' is not an IPv6 address"))),
    }
}

pub(super) async fn lease6_add(st: &AppState, args: &Args<'_>) -> Outcome {
    let l = leases6::parse_new(args, st.ctx.running().dhcp6.as_deref())?;
    match lease6::insert(st.ctx.store.pool(), &l).await {
        Ok(()) => {
            let what = if l.lease_type == tern_store::LeaseType::Pd {
                format!("prefix {}/{}", l.address, l.prefix_len)
            } else {
                format!("address {}", l.address)
            };
            Ok(Answer::ok(format!(
                "Lease for {what}, subnet-id {} added.",
                l.subnet_id
            )))
        }
        Err(e) => match classify(&e) {
            DbFault::Conflict(_) => Err(Answer::err("IPv6 lease already exists.")),
            _ => Err(db_answer(e)),
        },
    }
}

pub(super) async fn lease6_update(st: &AppState, args: &Args<'_>) -> Outcome {
    let l = leases6::parse_new(args, st.ctx.running().dhcp6.as_deref())?;
    let force = args.bool("force-create")?.unwrap_or(false);
    if lease6::update(st.ctx.store.pool(), &l, force).await.db()? {
        Ok(Answer::ok("IPv6 lease updated."))
    } else {
        Err(Answer::err(format!(
            "failed to update the lease with address {} - no such lease",
            l.address
        )))
    }
}

/// `ip-address` (+ `type`), or `identifier-type: duid` + `identifier` + `iaid` + `subnet-id`.
pub(super) async fn find_one6(
    st: &AppState,
    args: &Args<'_>,
) -> Result<Option<tern_store::Lease6>, Answer> {
    let lease_type = leases6::parse_type(args)?.map(tern_store::LeaseType::code);
    let mut f = Lease6Filter {
        lease_type,
        limit: Some(1),
        ..Default::default()
    };
    if let Some(a) = parse_v6(args, "ip-address")? {
        f.address = Some(a);
    } else if args.has("identifier-type") || args.has("identifier") {
        let kind = args.req_str("identifier-type")?;
        if kind != "duid" {
            return Err(Answer::err(format!(
                "'identifier-type': '{kind}' is not supported for IPv6 leases (use duid)"
            )));
        }
        f.duid = Some(parse_hex("identifier", args.req_str("identifier")?)?);
        f.iaid = Some(args.req_int("iaid", 0, u32::MAX as i64)? as u32 as i32);
        f.subnets = Some(vec![args.req_int("subnet-id", 0, u32::MAX as i64)?]);
    } else {
        return Err(Answer::err(
            "'ip-address' or 'identifier-type', 'identifier', 'iaid' and 'subnet-id' must be given",
        ));
    }
    Ok(lease6::select(st.ctx.store.pool(), &f)
        .await
        .db()?
        .into_iter()
        .next())
}

pub(super) async fn lease6_get(st: &AppState, args: &Args<'_>) -> Outcome {
    match find_one6(st, args).await? {
        Some(l) => Ok(Answer::ok("IPv6 lease found.").with(leases6::to_kea(&l))),
        None => Err(Answer::new(result::EMPTY, "Lease not found.")),
    }
}

pub(super) async fn lease6_list(st: &AppState, f: Lease6Filter) -> Outcome {
    let rows = lease6::select(st.ctx.store.pool(), &f).await.db()?;
    let code = if rows.is_empty() {
        result::EMPTY
    } else {
        result::SUCCESS
    };
    Ok(
        Answer::new(code, format!("{} IPv6 lease(s) found.", rows.len()))
            .with(json!({ "leases": leases6::to_kea_list(&rows) })),
    )
}

pub(super) async fn lease6_get_page(st: &AppState, args: &Args<'_>) -> Outcome {
    let (from, limit) = page_args::<std::net::Ipv6Addr>(args, "IPv6")?;
    let rows = lease6::select(
        st.ctx.store.pool(),
        &Lease6Filter {
            after: from,
            limit: Some(limit),
            ..Default::default()
        },
    )
    .await
    .db()?;
    Ok(page_answer("IPv6", rows.len(), leases6::to_kea_list(&rows)))
}

pub(super) async fn lease6_del(st: &AppState, args: &Args<'_>) -> Outcome {
    let Some(l) = find_one6(st, args).await? else {
        return Err(Answer::new(result::EMPTY, "IPv6 lease not found."));
    };
    if lease6::delete(st.ctx.store.pool(), l.address).await.db()? {
        Ok(Answer::ok("IPv6 lease deleted."))
    } else {
        Err(Answer::new(result::EMPTY, "IPv6 lease not found."))
    }
}
