//! RFC 2136 UPDATE: the zone section, the prerequisites (§3.2), the update policy (§3.3,
//! BIND's `update-policy` grants) and the update section (§3.4), worked out by pure
//! functions on the records at the names the update touches, read and changed in one store
//! transaction that holds the zone's lock ([`tern_store::zone::ZoneTx`]); the answer goes
//! out after the commit, so a NOERROR is durable. The in-memory copy follows from the
//! store's notification, like every other change.

pub mod grant;
pub mod prereq;
pub mod queue;
pub mod section;
pub mod state;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name};
use tern_store::zone::{ManagedBy, NewRecord, ZoneKind, ZoneTx};

use tracing::{debug, info, warn};

use crate::handler::{Handler, Reply, Request};
use crate::policy::ZonePolicy;
use crate::zone::{Op, SoaFields};
use queue::{Job, Outcome};
use section::Plan;
use state::{type_text, Managed, Rec, Refusal, State};

/// Answers an UPDATE: NOERROR once the change is committed, else the RCODE RFC 2136 gives
/// the first reason it cannot be applied (nothing of it is).
pub async fn handle(h: &Handler, req: &Request<'_>) -> Reply {
    let zone = req
        .message
        .queries
        .first()
        .map(|q| q.name().to_string())
        .unwrap_or_default();
    let key = req
        .tsig
        .as_ref()
        .map_or_else(|| "(unsigned)".to_owned(), |v| v.key.name.to_string());
    let key_name = req.tsig.as_ref().map(|v| &v.key.name);
    let rcode = match apply(h, &req.message, key_name).await {
        Ok((serial, changes)) => {
            info!(
                "DNS_UPDATE_APPLIED zone {zone} serial {serial} by key {key} ({changes} changes)"
            );
            h.stats.updates_applied.fetch_add(1, Relaxed);
            ResponseCode::NoError
        }
        Err(r) => {
            let rc = tern_dnsmsg::rcode::mnemonic_or_number(r.rcode);
            if r.rcode == ResponseCode::ServFail {
                warn!(
                    "DNS_UPDATE_FAILED zone {zone} from {} by key {key}: {rc} {}",
                    req.src, r.reason
                );
            } else {
                info!(
                    "DNS_UPDATE_REFUSED zone {zone} from {} by key {key}: {rc} {}",
                    req.src, r.reason
                );
            }
            h.stats.updates_refused.fetch_add(1, Relaxed);
            r.rcode
        }
    };
    h.stats.rcode(rcode);
    // RFC 2136 §3.8: the header and the zone section echoed, nothing else.
    vec![h.finish(req, h.error_response(&req.message, rcode))]
}

fn store_error(e: tern_store::Error) -> Refusal {
    Refusal::new(ResponseCode::ServFail, format!("store: {e}"))
}

/// Applies the UPDATE `msg`, signed by `key` (verified by the caller; `None`: unsigned),
/// in the store and commits it: the serial after it and how many changes it made. A caller
/// inside tern (d2 writing into a zone of this server) may use it without the network.
pub async fn apply(
    h: &Handler,
    msg: &Message,
    key: Option<&Name>,
) -> Result<(u32, usize), Refusal> {
    let (zname, class) = prereq::zone_section(msg)?;
    // §3.1.2: tern holds IN zones only, and only the apex names a zone.
    let served = h
        .catalog
        .get(&zname)
        .filter(|_| class == DNSClass::IN)
        .ok_or_else(|| {
            Refusal::new(
                ResponseCode::NotAuth,
                format!("zone {zname} {class} is not served here"),
            )
        })?;
    let origin = served.origin().clone();
    let Some(pool) = &h.store else {
        return Err(Refusal::new(
            ResponseCode::NotImp,
            "no store to apply updates in",
        ));
    };
    let policy = h.policies.get(&origin);
    // Refused before the zone is read, so that prerequisites tell nothing to a stranger
    // (BIND checks allow-update as early).
    let Some(key) = key else {
        return Err(Refusal::new(
            ResponseCode::Refused,
            "unsigned updates are refused",
        ));
    };
    if !grant::key_has_rules(&policy.update, key) {
        return Err(Refusal::new(
            ResponseCode::Refused,
            format!("no allow-update rule of the zone names key {key}"),
        ));
    }
    let job = Job {
        msg: msg.clone(),
        key: key.clone(),
    };
    let in_zone = |n: &Name| h.catalog.find(n).is_some_and(|c| c.origin() == &origin);
    h.update_queues
        .run(&origin, job, |jobs| {
            batch(h, pool, &origin, policy, jobs, &in_zone)
        })
        .await
}

/// The updates of one zone that arrived while the previous batch was being committed,
/// judged one after the other on the records as the earlier ones left them and written in
/// one transaction (group commit: the zone's lock and the commit are paid once per batch,
/// not per update). Each update is still all or nothing: one refused changes nothing, the
/// others go on; a store error fails the whole batch, and then none is applied.
async fn batch(
    h: &Handler,
    pool: &sqlx::PgPool,
    origin: &Name,
    policy: &ZonePolicy,
    jobs: Vec<Job>,
    in_zone: &impl Fn(&Name) -> bool,
) -> Vec<Outcome> {
    let failed = |r: Refusal| jobs.iter().map(|_| Err(r.clone())).collect();
    let started = Instant::now();
    let mut tx = match ZoneTx::begin(pool, &origin.to_ascii()).await {
        Ok(Some(tx)) => tx,
        Ok(None) => {
            return failed(Refusal::new(
                ResponseCode::NotAuth,
                format!("zone {origin} is not in the store"),
            ))
        }
        Err(e) => return failed(store_error(e)),
    };
    if tx.zone().kind == ZoneKind::Slave {
        return failed(Refusal::new(
            ResponseCode::Refused,
            "the zone is a secondary (kind Slave)",
        ));
    }
    let mut names: Vec<String> = jobs.iter().flat_map(|j| touched_names(&j.msg)).collect();
    names.sort();
    names.dedup();
    let locked = Instant::now();
    let rows = match tx.records_at(&names).await {
        Ok(rows) => rows,
        Err(e) => return failed(store_error(e)),
    };
    let recs = rows
        .iter()
        .filter_map(|r| Rec::from_row(&r.name, &r.rtype, r.ttl, &r.content, managed(r.managed_by)))
        .collect();
    let z = tx.zone();
    let current = z.serial;
    let mut state = match State::new(origin.clone(), current, z.soa.clone(), recs) {
        Ok(s) => s,
        Err(r) => return failed(r),
    };
    let read = Instant::now();
    let mut plans: Vec<Result<Plan, Refusal>> = Vec::with_capacity(jobs.len());
    for job in &jobs {
        let plan = evaluate(&job.msg, &state, policy, &job.key, in_zone)
            .and_then(|p| no_serial_backwards(p, current));
        if let Ok(p) = &plan {
            section::advance(&mut state, p);
        }
        plans.push(plan);
    }
    let planned = Instant::now();
    // One statement per kind of change for the whole batch, however many updates it holds.
    let net = Rows::of(&section::net(plans.iter().flatten()));
    if let Err(r) = write(&mut tx, &net).await {
        return failed(r);
    }
    let (zone_id, soa) = (tx.zone().id, tx.zone().soa.clone());
    let written = Instant::now();
    let serial = match tx.commit().await {
        Ok(serial) => serial,
        Err(e) => return failed(store_error(e)),
    };
    let committed = Instant::now();
    if serial != current {
        // Served before the answers go out: a client that reads after its NOERROR sees its
        // change (the store's notification would bring it a little later).
        crate::sync::install_committed(h, zone_id, current, serial, soa, &net.journal());
    }
    let us = |from: Instant, to: Instant| to.duration_since(from).as_micros();
    debug!(
        "DNS_UPDATE_BATCH zone {origin} serial {serial}: {} updates, {} rows; locked in {} us, read in {} us, planned in {} us, written in {} us, committed in {} us, served in {} us",
        jobs.len(),
        net.gone.len() + net.add.len() + usize::from(net.soa.is_some()),
        us(started, locked),
        us(locked, read),
        us(read, planned),
        us(planned, written),
        us(written, committed),
        us(committed, Instant::now())
    );
    plans
        .into_iter()
        .map(|p| p.map(|p| (serial, p.len())))
        .collect()
}

/// A plan as the store's rows: what the transaction writes, and (the same rows) what the
/// in-memory copy applies after the commit.
struct Rows {
    /// (owner, type, content) of each row deleted.
    gone: Vec<(String, String, String)>,
    add: Vec<NewRecord>,
    soa: Option<(SoaFields, u32)>,
}

impl Rows {
    fn of(plan: &Plan) -> Rows {
        Rows {
            gone: plan
                .delete
                .iter()
                .map(|d| (d.name.to_ascii(), type_text(d.rtype), d.content.clone()))
                .collect(),
            add: plan
                .add
                .iter()
                .map(|r| NewRecord {
                    name: r.name.to_ascii(),
                    rtype: type_text(r.rtype),
                    ttl: r.ttl,
                    content: r.content.clone(),
                    managed_by: match r.managed_by {
                        Managed::Admin => ManagedBy::Admin,
                        Managed::Dhcp => ManagedBy::Dhcp,
                    },
                })
                .collect(),
            soa: plan.soa.clone(),
        }
    }

    /// The rows as the journal holds them: deletions, then additions (a deletion's TTL
    /// does not matter to the in-memory copy).
    fn journal(&self) -> Vec<(Op, &str, &str, u32, &str)> {
        let gone = self
            .gone
            .iter()
            .map(|(n, t, c)| (Op::Delete, n.as_str(), t.as_str(), 0, c.as_str()));
        let add = self.add.iter().map(|r| {
            (
                Op::Add,
                r.name.as_str(),
                r.rtype.as_str(),
                r.ttl,
                r.content.as_str(),
            )
        });
        gone.chain(add).collect()
    }
}

/// Every owner name of the prerequisite and update sections, lower case, each once.
fn touched_names(msg: &Message) -> Vec<String> {
    let mut names: Vec<String> = msg
        .answers
        .iter()
        .chain(&msg.authorities)
        .map(|rr| rr.name.to_ascii().to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn managed(m: ManagedBy) -> Managed {
    match m {
        ManagedBy::Admin => Managed::Admin,
        ManagedBy::Dhcp => Managed::Dhcp,
    }
}

/// `plan`, unless its SOA serial is below the zone's: RFC 1982 lets a serial wrap, the
/// store's never goes backwards.
fn no_serial_backwards(plan: Plan, current: u32) -> Result<Plan, Refusal> {
    match &plan.soa {
        Some((_, serial)) if *serial < current => Err(Refusal::new(
            ResponseCode::Refused,
            format!(
                "SOA serial {serial} wraps around {current}; the store's serial never goes back"
            ),
        )),
        _ => Ok(plan),
    }
}

/// The rows' changes in the transaction: deletions, then additions, then the SOA.
async fn write(tx: &mut ZoneTx, rows: &Rows) -> Result<(), Refusal> {
    tx.delete_records(&rows.gone).await.map_err(store_error)?;
    if !rows.add.is_empty() {
        tx.add(&rows.add).await.map_err(store_error)?;
    }
    if let Some((f, serial)) = &rows.soa {
        tx.set_soa(f, Some(*serial)).await.map_err(store_error)?;
    }
    Ok(())
}

/// Everything but the store: the prerequisites against `zone` (§3.2), the prescan (§3.4.1),
/// the plan (§3.4.2) and the policy (§3.3) for an update of the zone `zone.origin` signed
/// with `key`, in RFC 2136's order. `in_zone` says whether a name belongs to the zone.
pub fn evaluate(
    msg: &Message,
    zone: &State,
    policy: &ZonePolicy,
    key: &Name,
    in_zone: impl Fn(&Name) -> bool,
) -> Result<Plan, Refusal> {
    prereq::check(&msg.answers, zone, &in_zone)?;
    section::prescan(&msg.authorities, &in_zone)?;
    let managed_by = if grant::is_dhcp_key(policy, key) {
        Managed::Dhcp
    } else {
        Managed::Admin
    };
    let plan = section::plan(zone, &msg.authorities, managed_by)?;
    grant::authorize(policy, key, &msg.authorities, zone, &plan)?;
    Ok(plan)
}
