//! The worker: claims due NCRs (woken by intake or LISTEN `tern_ncr`, else by a poll)
//! and runs their transactions ([`super::driver`]) as the [`Scheduler`] decides;
//! outcomes go back to the queue in batches, with the next claim, over a bookkeeping
//! connection that commits asynchronously ([`ncr_queue::Bookkeeping`]): done, conflict,
//! failed (with the reason), or pending again with exponential backoff when no server
//! of a domain answered (an outage delays DNS, it never drops an update).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use tern_store::ncr_queue::{self, Finish, QueuedNcr};
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{error, info, warn};

use super::driver;
use super::runtime::Runtime;
use super::scheduler::Scheduler;

/// One bookkeeping round trip running beside the worker: the results it records
/// (kept to retry them if it fails), how many NCRs it claims, and its answer.
type Trip = JoinHandle<(
    Vec<(i64, Finish)>,
    i64,
    tern_store::Result<ncr_queue::FinishAndClaim>,
)>;

/// Claims and runs transactions until stopped; then lets the running ones finish and
/// gives back what it claimed but had not started.
///
/// The round trip that records results and claims runs beside the loop, so a finished
/// transaction's slot is refilled from the NCRs claimed ahead at once: BIND is kept as
/// busy as `max_in_flight` allows.
pub(super) async fn run(rt: Arc<Runtime>, mut stopped: watch::Receiver<bool>, wake: Arc<Notify>) {
    let mut plan: Scheduler<QueuedNcr> =
        Scheduler::new(rt.options.max_in_flight, rt.options.record_batch);
    let mut running: JoinSet<(i64, Finish)> = JoinSet::new();
    // Task id -> queue id, for a task that panics.
    let mut tasks: HashMap<tokio::task::Id, i64> = HashMap::new();
    let mut trip: Option<Trip> = None;
    let collect = |r: Result<(tokio::task::Id, (i64, Finish)), tokio::task::JoinError>,
                   tasks: &mut HashMap<tokio::task::Id, i64>,
                   plan: &mut Scheduler<QueuedNcr>| match r {
        Ok((task, (id, result))) => {
            tasks.remove(&task);
            plan.finished(id, result);
        }
        Err(e) => {
            // A panicked transaction: its claim is no longer renewed, so the row is
            // taken back after the claim lease and tried again.
            if let Some(id) = tasks.remove(&e.id()) {
                plan.lost(id);
                rt.in_flight().remove(&id);
                error!("DHCP_DDNS_TRANSACTION_PANIC queue id {id}: {e}; queued again after the claim lease");
            }
        }
    };
    loop {
        if !plan.is_stopping() && *stopped.borrow() {
            if plan.running() > 0 {
                info!(
                    "DHCP_DDNS_CLEARED_FOR_SHUTDOWN waiting for {} running transaction(s)",
                    plan.running()
                );
            }
            plan.stop();
        }
        while let Some(r) = running.try_join_next_with_id() {
            collect(r, &mut tasks, &mut plan);
        }
        while let Some(q) = plan.start() {
            let rt = rt.clone();
            let id = q.id;
            let handle = running.spawn(async move { (id, driver::run(&rt, q).await) });
            tasks.insert(handle.id(), id);
        }
        if plan.is_done() {
            break;
        }
        if let Some(next) = plan.next_trip(Instant::now()) {
            let rt = rt.clone();
            trip = Some(tokio::spawn(async move {
                let r = rt
                    .bookkeeping
                    .finish_and_claim(&next.batch, next.limit, &rt.worker)
                    .await;
                (next.batch, next.limit, r)
            }));
        }
        let stopping = plan.is_stopping();
        let wake_at = plan.wake_at();
        // Wait for news: a new NCR, a finished transaction (its slot to refill, its
        // result to record), the round trip's answer, a batch or retry falling due, a stop.
        tokio::select! {
            _ = stopped.changed(), if !stopping => {}
            _ = wake.notified(), if !stopping => plan.due(),
            Some(r) = running.join_next_with_id(), if !running.is_empty() => {
                collect(r, &mut tasks, &mut plan);
            }
            done = async { trip.as_mut().expect("guarded").await }, if trip.is_some() => {
                trip = None;
                match done {
                    Ok((batch, limit, Ok(r))) => {
                        forget(&rt, batch, &r.recorded);
                        rt.in_flight().extend(r.claimed.iter().map(|q| q.id));
                        plan.answered(limit, r.claimed, r.successor_waiting);
                    }
                    Ok((batch, limit, Err(e))) => {
                        let n = batch.len();
                        let failed = plan.trip_failed(batch, limit, Instant::now());
                        warn!("DHCP_DDNS_QUEUE_CLAIM_ERROR cannot record {n} result(s) and claim NCRs (try {}): {e}", failed.tries);
                        let mut set = rt.in_flight();
                        for id in failed.given_up {
                            set.remove(&id);
                            error!("DHCP_DDNS_QUEUE_UPDATE_ERROR cannot record the outcome of queue id {id}: {e}");
                        }
                    }
                    Err(e) => {
                        // The round trip panicked: its results are lost to us.
                        error!("DHCP_DDNS_QUEUE_CLAIM_ERROR bookkeeping task failed: {e}");
                        plan.trip_lost(Instant::now());
                    }
                }
            }
            _ = tokio::time::sleep_until(wake_at.unwrap_or_else(Instant::now).into()), if wake_at.is_some() => {}
            _ = tokio::time::sleep(rt.options.poll_interval), if !stopping => plan.due(),
            // Stopping with nothing running and nothing to record: the top ends the loop.
            else => {}
        }
    }
}

/// Drops recorded (or lost) ids from the heartbeat's set; warns about lost claims.
fn forget(rt: &Runtime, finished: Vec<(i64, Finish)>, recorded: &[i64]) {
    let recorded: HashSet<i64> = recorded.iter().copied().collect();
    let mut set = rt.in_flight();
    for (id, _) in finished {
        set.remove(&id);
        if !recorded.contains(&id) {
            warn!("DHCP_DDNS_QUEUE_LOST_CLAIM queue id {id} was taken back before its outcome was recorded");
        }
    }
}
