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
use std::sync::Arc;

use tern_ncr::NameChangeRequest;
use tern_store::ncr_queue::{self, NcrSource};
use tern_store::{lease4, Lease4, LeaseState, NewLease4, Owner, Store};
use tokio::task::JoinHandle;

use crate::analyze::{Analyzer, Table};
use crate::batch::{Answer, Batcher};
use crate::config::ServerConfig;
use crate::ddns::{lease_ncrs, removal, NameDecision};
use crate::error::EngineError;
use crate::request::{self, Facts, NakReason, Refusal, Row, Verdict};

/// A DHCPREQUEST's lease write, decided up to the state of its address's row.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The lease to write if the request is granted.
    pub new: NewLease4,
    /// The client's name and what is done about it.
    pub name: NameDecision,
    /// The client's hardware type (for the DHCID of its NCRs).
    pub htype: u8,
    /// What the configuration and reservations say; [`request::settle`] decides the
    /// rest with the row.
    pub facts: Facts,
}

/// What became of a [`Job`].
#[derive(Debug, Clone)]
pub(crate) enum Committed {
    /// Not granted: a DHCPNAK or silence.
    Refused(Refusal),
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
    Done(Refusal),
    Write(Vec<NameChangeRequest>),
}

fn owner(new: &NewLease4) -> Owner<'_> {
    Owner {
        hwaddr: &new.hwaddr,
        client_id: new.client_id.as_deref(),
    }
}

/// The row on a job's address as [`request::settle`] sees it.
fn row(job: &Job, existing: Option<&Lease4>) -> Row {
    match existing {
        None => Row::Free,
        Some(l) if owner(&job.new).owns(l) => Row::Mine,
        Some(_) => Row::Others,
    }
}

/// One request given the row on its address: [`request::settle`], then the NCRs a
/// granted lease causes.
fn settle(cfg: &ServerConfig, job: &Job, existing: Option<&Lease4>) -> Step {
    let mine = row(job, existing) == Row::Mine;
    if let Verdict::Refuse(r) = request::settle(&job.facts, row(job, existing)) {
        return Step::Done(r);
    }
    // The job's subnet comes from this configuration: always found.
    let Some(subnet) = cfg.subnet(job.new.subnet_id) else {
        return Step::Done(Refusal::Nak(NakReason::NotAvailable));
    };
    let new = &job.new;
    let mut ncrs = Vec::new();
    // Another client's lease that expired but was not reclaimed yet is reclaimed here,
    // as Kea does before reusing an address: its name leaves DNS too.
    if let Some(l) = existing.filter(|l| !mine && l.state == LeaseState::Default) {
        ncrs.extend(removal(subnet.ddns_for(l.address), l));
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

type Reply = Answer<Committed>;

/// Settles and commits `jobs` (distinct addresses) in one transaction.
async fn commit_round(
    cfg: &ServerConfig,
    store: &Store,
    jobs: &[Job],
) -> Result<Vec<Committed>, EngineError> {
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
            Step::Done(r) => Committed::Refused(r),
            Step::Write(ncrs) => match written.remove(&job.new.address) {
                // Another client's unexpired lease kept the address (or another server
                // took it after the rows were read).
                None => Committed::Refused(request::LOST_WRITE),
                Some(lease) => {
                    let existing = rows.get(&job.new.address).cloned();
                    let mine = row(job, existing.as_ref()) == Row::Mine;
                    queued.extend(ncrs.iter().cloned());
                    Committed::Granted(Box::new(Grant {
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

/// The commit workers' queue.
pub(crate) type Committer = Batcher<Job, Committed>;

/// Starts `workers` tasks committing up to `max_batch` jobs per transaction (1: every
/// request in its own transaction).
pub(crate) fn start(
    cfg: Arc<ServerConfig>,
    store: Store,
    max_batch: usize,
    workers: usize,
) -> (Committer, Vec<JoinHandle<()>>) {
    let analyzer = Arc::new(Analyzer::new(Table::Lease4));
    Batcher::start(max_batch, workers, move |batch| {
        let (cfg, store, analyzer) = (cfg.clone(), store.clone(), analyzer.clone());
        async move { commit_batch(&cfg, &store, &analyzer, batch).await }
    })
}
