//! Group commit: per zone, updates that arrive while a batch commits wait for the next one.

use std::collections::HashMap;
use std::sync::Mutex;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::Name;
use tokio::sync::mpsc;

use super::state::Refusal;

/// What became of one update: the serial after its commit and how many changes it made,
/// or why it was not applied.
pub type Outcome = Result<(u32, usize), Refusal>;

/// An update waiting for its zone's next batch.
pub struct Job {
    pub(super) msg: Message,
    pub(super) key: Name,
}

/// Per zone, the updates waiting while a batch is being committed (group commit). The
/// request that finds no batch running leads: it takes everything queued (its own update
/// among it), runs the batch, hands every outcome over, and passes the lead on to the
/// oldest update queued meanwhile, so no request waits for more than its own batch and the
/// one before it.
#[derive(Default)]
pub struct Queues {
    zones: Mutex<HashMap<Name, Queue>>,
}

impl std::fmt::Debug for Queues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queues")
    }
}

#[derive(Default)]
struct Queue {
    waiting: Vec<(Job, mpsc::Sender<Wake>)>,
    running: bool,
}

/// What a queued update is woken with.
enum Wake {
    Done(Outcome),
    Lead,
}

/// Updates taken into one batch at most (one transaction stays short).
const BATCH_MAX: usize = 256;

impl Queues {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Name, Queue>> {
        self.zones.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job` for the zone `origin` and waits for its outcome, running batches with
    /// `run` while it leads.
    pub(super) async fn run<F, Fut>(&self, origin: &Name, job: Job, run: F) -> Outcome
    where
        F: Fn(Vec<Job>) -> Fut,
        Fut: std::future::Future<Output = Vec<Outcome>>,
    {
        let (tx, mut rx) = mpsc::channel(2);
        let lead = {
            let mut zones = self.lock();
            let q = zones.entry(origin.clone()).or_default();
            q.waiting.push((job, tx));
            !std::mem::replace(&mut q.running, true)
        };
        if !lead {
            match rx.recv().await {
                Some(Wake::Done(outcome)) => return outcome,
                Some(Wake::Lead) => {}
                None => return Err(Refusal::new(ResponseCode::ServFail, "the batch was lost")),
            }
        }
        // Leading: the queue holds this request's update (nobody else takes from it). The
        // lead passes on when this scope ends, even if the request is dropped midway.
        let lead = Lead {
            queues: self,
            origin,
        };
        let taken: Vec<_> = {
            let mut zones = self.lock();
            let q = zones.entry(origin.clone()).or_default();
            let n = q.waiting.len().min(BATCH_MAX);
            q.waiting.drain(..n).collect()
        };
        let (jobs, senders): (Vec<Job>, Vec<_>) = taken.into_iter().unzip();
        let outcomes = run(jobs).await;
        for (s, o) in senders.iter().zip(outcomes) {
            // A request whose client went away: its outcome stands all the same.
            let _ = s.try_send(Wake::Done(o));
        }
        drop(lead);
        match rx.recv().await {
            Some(Wake::Done(outcome)) => outcome,
            _ => Err(Refusal::new(ResponseCode::ServFail, "the batch was lost")),
        }
    }

    /// Hands the zone's lead to the oldest update waiting (one whose request is gone is
    /// dropped unapplied), or ends the zone's queue.
    fn pass(&self, origin: &Name) {
        let mut zones = self.lock();
        let Some(q) = zones.get_mut(origin) else {
            return;
        };
        while let Some((_, next)) = q.waiting.first() {
            if next.try_send(Wake::Lead).is_ok() {
                return;
            }
            q.waiting.remove(0);
        }
        zones.remove(origin);
    }
}

/// The lead of a zone's queue, passed on when dropped.
struct Lead<'a> {
    queues: &'a Queues,
    origin: &'a Name,
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        self.queues.pass(self.origin);
    }
}
