//! Group commit of DHCPREQUESTs: the lease writes of many requests share one
//! transaction, so a busy server pays one lock query, one write, one NCR insert and one
//! WAL flush per batch instead of per client. Every lease is still committed before its
//! DHCPACK leaves; only the waiting is shared.
//!
//! A request arrives here decided as far as it can be without its address's row (a
//! [`Job`]); the rest ([`settle`]) needs the row, which the batch reads locked. Batches
//! form by themselves: a worker takes every job queued while the previous batch was
//! committing, up to the batch size. Two jobs for one address never share a batch (the
//! second waits for the first's result, as it would in separate transactions).

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tern_ncr::NameChangeRequest;
use tern_store::ncr_queue::{self, NcrSource};
use tern_store::{lease4, Lease4, LeaseState, NewLease4, Owner, Store};
use tokio::task::JoinHandle;
use tracing::debug;

use crate::batch::{Answer, Batcher};
use crate::config::ServerConfig;
use crate::ddns::NameDecision;
use crate::engine::{lease_ncrs, removal, EngineError};

/// A DHCPREQUEST's lease write, decided up to the state of its address's row.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The lease to write if the request is granted.
    pub new: NewLease4,
    /// The client's name and what is done about it.
    pub name: NameDecision,
    /// The client's hardware type (for the DHCID of its NCRs).
    pub htype: u8,
    /// The request is an INIT-REBOOT (only the client's own lease may be confirmed).
    pub init_reboot: bool,
    /// The subnet is `authoritative` (a NAK rather than silence for an unknown lease).
    pub authoritative: bool,
    /// Refused when the row is the client's own (reserved since for another client).
    pub refused_if_mine: bool,
    /// Refused when the row is not the client's (not in a pool, or reserved for another).
    pub refused_if_not_mine: bool,
}

/// Why a request gets a NAK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// INIT-REBOOT for an address the client holds no lease on (authoritative server).
    UnknownLease,
    /// The address is not one this client may have.
    NotAvailable,
    /// Another client holds the address.
    InUse,
}

/// What became of a [`Job`].
#[derive(Debug, Clone)]
pub(crate) enum Verdict {
    /// INIT-REBOOT for an address the client holds no lease on; not authoritative.
    Silent,
    /// Refused.
    Nak(Refusal),
    /// Written and committed, with the NCRs queued in the same transaction.
    Granted(Box<Grant>),
}

/// A lease written for a [`Job`].
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// The row as written.
    pub lease: Lease4,
    /// The row before, whoever's.
    pub existing: Option<Lease4>,
    /// The row before was this client's.
    pub mine: bool,
    /// The NCRs queued.
    pub ncrs: Vec<NameChangeRequest>,
}

/// What [`settle`] decides once the row is known.
enum Step {
    Done(Verdict),
    Write(Vec<NameChangeRequest>),
}

fn owner(new: &NewLease4) -> Owner<'_> {
    Owner {
        hwaddr: &new.hwaddr,
        client_id: new.client_id.as_deref(),
    }
}

/// The rest of RFC 2131 §4.3.2 for one request, given the row on its address.
fn settle(cfg: &ServerConfig, job: &Job, existing: Option<&Lease4>) -> Step {
    let mine = existing.is_some_and(|l| owner(&job.new).owns(l));
    if job.init_reboot && !mine {
        return Step::Done(if job.authoritative {
            Verdict::Nak(Refusal::UnknownLease)
        } else {
            Verdict::Silent
        });
    }
    if (mine && job.refused_if_mine) || (!mine && job.refused_if_not_mine) {
        return Step::Done(Verdict::Nak(Refusal::NotAvailable));
    }
    let Some(subnet) = cfg.subnet(job.new.subnet_id) else {
        return Step::Done(Verdict::Nak(Refusal::NotAvailable));
    };
    let new = &job.new;
    let mut ncrs = Vec::new();
    // Another client's lease that expired but was not reclaimed yet is reclaimed here,
    // as Kea does before reusing an address: its name leaves DNS too.
    if let Some(l) = existing.filter(|l| !mine && l.state == LeaseState::Default) {
        ncrs.extend(removal(subnet, l));
    }
    ncrs.extend(lease_ncrs(
        subnet.ddns_for(new.address),
        job.htype,
        &new.hwaddr,
        existing.filter(|_| mine),
        &job.name,
        new.address,
        new.valid_lifetime,
        new.client_id.as_deref(),
    ));
    Step::Write(ncrs)
}

type Reply = Answer<Verdict>;

/// Settles and commits `jobs` (distinct addresses) in one transaction.
async fn commit_round(
    cfg: &ServerConfig,
    store: &Store,
    jobs: &[Job],
) -> Result<Vec<Verdict>, EngineError> {
    let mut tx = store.pool().begin().await?;
    let addresses: Vec<Ipv4Addr> = jobs.iter().map(|j| j.new.address).collect();
    let rows: HashMap<Ipv4Addr, Lease4> = lease4::get_many_for_update(&mut tx, &addresses)
        .await?
        .into_iter()
        .map(|l| (l.address, l))
        .collect();
    let steps: Vec<Step> = jobs
        .iter()
        .map(|j| settle(cfg, j, rows.get(&j.new.address)))
        .collect();
    let writes: Vec<NewLease4> = jobs
        .iter()
        .zip(&steps)
        .filter(|(_, s)| matches!(s, Step::Write(_)))
        .map(|(j, _)| j.new.clone())
        .collect();
    let mut written: HashMap<Ipv4Addr, Lease4> = lease4::commit_many(&mut tx, &writes)
        .await?
        .into_iter()
        .map(|l| (l.address, l))
        .collect();
    let mut verdicts = Vec::with_capacity(jobs.len());
    let mut queued = Vec::new();
    for (job, step) in jobs.iter().zip(steps) {
        verdicts.push(match step {
            Step::Done(v) => v,
            Step::Write(ncrs) => match written.remove(&job.new.address) {
                // Another server took the address after the rows were read.
                None => Verdict::Nak(Refusal::InUse),
                Some(lease) => {
                    let existing = rows.get(&job.new.address).cloned();
                    let mine = existing.as_ref().is_some_and(|l| owner(&job.new).owns(l));
                    queued.extend(ncrs.iter().cloned());
                    Verdict::Granted(Box::new(Grant {
                        lease,
                        existing,
                        mine,
                        ncrs,
                    }))
                }
            },
        });
    }
    // The DNS changes these leases cause go into the same transaction (outbox).
    ncr_queue::enqueue_batch(&mut tx, &queued, NcrSource::Dhcp4).await?;
    // Durable before any of the ACKs leaves.
    tx.commit().await?;
    Ok(verdicts)
}

/// Commits a batch: jobs for an address already in the round wait for the next round.
async fn commit_batch(
    cfg: &ServerConfig,
    store: &Store,
    analyzer: &Arc<Analyzer>,
    mut batch: Vec<(Job, Reply)>,
) {
    while !batch.is_empty() {
        let mut seen = HashSet::new();
        let (round, later): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|(j, _)| seen.insert(j.new.address));
        batch = later;
        let jobs: Vec<Job> = round.iter().map(|(j, _)| j.clone()).collect();
        match commit_round(cfg, store, &jobs).await {
            Ok(verdicts) => {
                analyzer.wrote(verdicts.len(), store);
                for ((_, reply), v) in round.into_iter().zip(verdicts) {
                    let _ = reply.send(Ok(v));
                }
            }
            Err(e) => {
                let e = Arc::new(e);
                for (_, reply) in round {
                    let _ = reply.send(Err(EngineError::Batch(e.clone())));
                }
            }
        }
    }
}

/// Keeps the lease table's statistics up with its growth: PostgreSQL plans made while
/// the table was nearly empty scan it whole, and stay cached until the next ANALYZE,
/// which autovacuum may run only a minute later. After 256 writes, then after every
/// doubling (at most every 65,536 writes), an `ANALYZE lease4` runs in the background.
#[derive(Default)]
struct Analyzer {
    writes: AtomicU64,
    next: AtomicU64,
    running: AtomicBool,
}

impl Analyzer {
    fn wrote(self: &Arc<Self>, n: usize, store: &Store) {
        let total = self.writes.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        let next = self.next.load(Ordering::Relaxed).max(256);
        if total < next || self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        self.next
            .store(total + total.clamp(256, 65_536), Ordering::Relaxed);
        let (me, store) = (self.clone(), store.clone());
        tokio::spawn(async move {
            let result = match store.pool().acquire().await {
                Ok(mut conn) => lease4::analyze(&mut conn).await,
                Err(e) => Err(e.into()),
            };
            if let Err(e) = result {
                debug!("DHCP4_LEASE_ANALYZE_FAILED ANALYZE lease4: {e}");
            }
            me.running.store(false, Ordering::Release);
        });
    }
}

/// The commit workers' queue.
pub(crate) type Committer = Batcher<Job, Verdict>;

/// Starts `workers` tasks committing up to `max_batch` jobs per transaction (1: every
/// request in its own transaction).
pub(crate) fn start(
    cfg: Arc<ServerConfig>,
    store: Store,
    max_batch: usize,
    workers: usize,
) -> (Committer, Vec<JoinHandle<()>>) {
    let analyzer = Arc::new(Analyzer::default());
    Batcher::start(max_batch, workers, move |batch| {
        let (cfg, store, analyzer) = (cfg.clone(), store.clone(), analyzer.clone());
        async move { commit_batch(&cfg, &store, &analyzer, batch).await }
    })
}
