//! The transaction driver: runs one claimed NCR's RFC 4703 state machine
//! ([`Transaction`]) over [`client::exchange_with`] (sockets reused per server) and turns
//! its [`Outcome`] into what the queue records, with the log lines.

use hickory_proto::rr::Name;
use tern_dnsmsg::client::{self, ExchangeError};
use tern_ncr::{ChangeType, NameChangeRequest};
use tern_store::ncr_queue::{Finish, NcrOutcome, QueuedNcr};
use tracing::{debug, error, info, warn};

use super::keys::Domain;
use super::runtime::Runtime;
use super::scheduler::backoff;
use crate::domains::match_domain;
use crate::stats::ExchangeResult;
use crate::transaction::messages::UpdateParams;
use crate::transaction::{Action, Direction, Event, Outcome, Reason, Transaction, Zone};

/// Runs one claimed NCR to its outcome (the worker records it).
pub(super) async fn run(rt: &Runtime, q: QueuedNcr) -> Finish {
    let ncr = &q.ncr;
    let outcome = transact(rt, ncr).await;
    match outcome {
        Outcome::Done => {
            match ncr.change_type {
                ChangeType::Add => info!(
                    "DHCP_DDNS_ADD_SUCCEEDED request {} (queue id {}): added {} {} (forward {}, reverse {})",
                    ncr.request_id(), q.id, ncr.fqdn, ncr.ip_address, ncr.forward_change, ncr.reverse_change
                ),
                ChangeType::Remove => info!(
                    "DHCP_DDNS_REMOVE_SUCCEEDED request {} (queue id {}): removed {} {} (forward {}, reverse {})",
                    ncr.request_id(), q.id, ncr.fqdn, ncr.ip_address, ncr.forward_change, ncr.reverse_change
                ),
            }
            Finish::Outcome(NcrOutcome::Done)
        }
        // Two lines, as before the reasons were typed: the reason (id first) with the
        // request, then Kea's ADD/REMOVE_FAILED line.
        Outcome::Conflict(reason) => {
            warn!("{}", ended(&q, &reason));
            failed_line(ncr, q.id, &reason);
            Finish::Outcome(NcrOutcome::Conflict(reason.to_string()))
        }
        Outcome::Failed(reason) => {
            error!("{}", ended(&q, &reason));
            failed_line(ncr, q.id, &reason);
            Finish::Outcome(NcrOutcome::Failed(reason.to_string()))
        }
        Outcome::Unreachable(reason) => {
            let wait = backoff(&rt.options, q.attempts);
            warn!(
                "DHCP_DDNS_UPDATE_DEFERRED request {} (queue id {}) for {}: {reason}; stays queued, next try in {} s (attempt {})",
                ncr.request_id(), q.id, ncr.fqdn, wait.as_secs_f64(), q.attempts
            );
            Finish::RetryAfter {
                reason: reason.to_string(),
                after: wait,
            }
        }
    }
}

/// The reason, then which request it ended.
fn ended(q: &QueuedNcr, reason: &Reason) -> String {
    format!(
        "{}; request {} (queue id {}) for {}",
        reason.logged(),
        q.ncr.request_id(),
        q.id,
        q.ncr.fqdn
    )
}

fn failed_line(ncr: &NameChangeRequest, id: i64, reason: &Reason) {
    let what = match ncr.change_type {
        ChangeType::Add => "DHCP_DDNS_ADD_FAILED",
        ChangeType::Remove => "DHCP_DDNS_REMOVE_FAILED",
    };
    error!(
        "{what} request {} (queue id {id}) for {} {} failed: {reason}",
        ncr.request_id(),
        ncr.fqdn,
        ncr.ip_address
    );
}

/// Picks the domains and runs the machine against the servers.
async fn transact(rt: &Runtime, ncr: &NameChangeRequest) -> Outcome {
    let reverse_name = ncr.reverse_name();
    let mut fwd = None;
    if ncr.forward_change {
        if rt.forward.is_empty() {
            debug!(
                "DHCP_DDNS_FWD_REQUEST_IGNORED no forward-ddns domains: forward change for {} skipped",
                ncr.fqdn
            );
        } else {
            let names: Vec<&str> = rt.forward.iter().map(|d| d.name.as_str()).collect();
            match match_domain(&names, ncr.fqdn.as_str()) {
                Some(i) => fwd = Some(&rt.forward[i]),
                None => {
                    error!(
                        "DHCP_DDNS_NO_FWD_MATCH_ERROR no forward domain matches {}",
                        ncr.fqdn
                    );
                    return Outcome::Failed(Reason::NoForwardMatch {
                        fqdn: ncr.fqdn.to_string(),
                    });
                }
            }
        }
    }
    let mut rev = None;
    if ncr.reverse_change {
        if rt.reverse.is_empty() {
            debug!(
                "DHCP_DDNS_REV_REQUEST_IGNORED no reverse-ddns domains: reverse change for {} skipped",
                ncr.ip_address
            );
        } else {
            let names: Vec<&str> = rt.reverse.iter().map(|d| d.name.as_str()).collect();
            match match_domain(&names, &reverse_name) {
                Some(i) => rev = Some(&rt.reverse[i]),
                None => {
                    error!("DHCP_DDNS_NO_REV_MATCH_ERROR no reverse domain matches {reverse_name}");
                    return Outcome::Failed(Reason::NoReverseMatch { name: reverse_name });
                }
            }
        }
    }
    if fwd.is_none() && rev.is_none() {
        warn!(
            "DHCP_DDNS_NO_MATCH no domain to update for {} {}",
            ncr.fqdn, ncr.ip_address
        );
        return Outcome::Failed(Reason::NoMatch {
            fqdn: ncr.fqdn.to_string(),
            ip: ncr.ip_address,
        });
    }
    let names = (
        Name::from_ascii(ncr.fqdn.as_str()),
        Name::from_ascii(&reverse_name),
    );
    let (Ok(mut fqdn), Ok(mut reverse)) = names else {
        return Outcome::Failed(Reason::NotADnsName {
            fqdn: ncr.fqdn.to_string(),
        });
    };
    fqdn.set_fqdn(true);
    reverse.set_fqdn(true);
    let params = UpdateParams {
        fqdn,
        reverse,
        ip: ncr.ip_address,
        dhcid: ncr.dhcid.as_rdata().to_vec(),
        ttl: ncr.lease_length,
    };
    let zone = |d: Option<&Domain>| {
        d.filter(|d| !d.servers.is_empty()).map(|d| Zone {
            name: d.zone.clone(),
            servers: d.servers.len(),
        })
    };
    let mut tx = Transaction::new(
        ncr.change_type,
        ncr.conflict_resolution_mode,
        params,
        zone(fwd),
        zone(rev),
    );
    let mut action = tx.step(Event::Start);
    loop {
        let (direction, server, try_no, message) = match action {
            Action::Finish(outcome) => return outcome,
            Action::Send {
                direction,
                server,
                try_no,
                message,
            } => (direction, server, try_no, message),
        };
        let domain = match direction {
            Direction::Forward => fwd,
            Direction::Reverse => rev,
        }
        .expect("the machine sends only to a direction it has a zone for");
        let srv = &domain.servers[server];
        let key_name = srv.key.as_ref().and(srv.key_name.as_deref());
        rt.stats.sent(key_name);
        debug!(
            "DHCP_DDNS_UPDATE_REQUEST_SENT {:?} for {} to {} (try {try_no}, zone {})",
            tx.state(),
            ncr.fqdn,
            srv.addr,
            domain.zone
        );
        let result = client::exchange_with(
            Some(&rt.sockets),
            srv.addr,
            &message,
            srv.key.as_deref(),
            rt.timeout,
        )
        .await;
        let event = match result {
            Ok(rcode) => {
                rt.stats.result(key_name, ExchangeResult::Success);
                debug!(
                    "DHCP_DDNS_UPDATE_RESPONSE_RECEIVED {:?} for {} from {}: {}",
                    tx.state(),
                    ncr.fqdn,
                    srv.addr,
                    tern_dnsmsg::rcode::name(rcode)
                );
                Event::Response(rcode)
            }
            Err(e) => {
                let r = if matches!(e, ExchangeError::Timeout(_)) {
                    ExchangeResult::Timeout
                } else {
                    ExchangeResult::Error
                };
                rt.stats.result(key_name, r);
                // Per try at debug level: during an outage the DEFERRED line (which
                // carries this id and the last error) is what operators need, once.
                debug!(
                    "{} request {} for {} to {} (try {try_no}): {e}",
                    tx.state().io_error_id(),
                    ncr.request_id(),
                    ncr.fqdn,
                    srv.addr
                );
                match e {
                    ExchangeError::KeyRejected(reason) => Event::Refused(reason),
                    other => Event::NoAnswer(format!("{}: {other}", srv.addr)),
                }
            }
        };
        action = tx.step(event);
    }
}
