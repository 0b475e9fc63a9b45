//! What one running d2 shares between its tasks (intake, worker, transactions, upkeep).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sqlx::PgPool;
use tern_dnsmsg::client::SocketPool;
use tern_store::{ncr_queue, Store};

use super::keys::Domain;
use super::options::D2Options;
use crate::stats::D2Stats;

/// One running d2's shared state.
pub(super) struct Runtime {
    /// The `forward-ddns` domains.
    pub(super) forward: Vec<Domain>,
    /// The `reverse-ddns` domains.
    pub(super) reverse: Vec<Domain>,
    /// `dns-server-timeout`: how long one UPDATE waits for its answer.
    pub(super) timeout: Duration,
    pub(super) stats: Arc<D2Stats>,
    /// The store's pool (LISTEN, upkeep).
    pub(super) pool: PgPool,
    pub(super) options: D2Options,
    /// This d2's `claimed_by`.
    pub(super) worker: String,
    /// Queue ids claimed here whose result is not recorded yet (running, or
    /// finished and waiting for the next batch): the only claims the heartbeat renews.
    in_flight: Mutex<HashSet<i64>>,
    /// UDP sockets to DNS servers, reused across exchanges.
    pub(super) sockets: SocketPool,
    /// Connections for recording results and claiming (asynchronous commits).
    pub(super) bookkeeping: ncr_queue::Bookkeeping,
    /// Intake's own connection (durable commits), and its backend's PID: intake
    /// wakes the worker itself, so the notification its INSERT causes is skipped
    /// rather than costing a second, empty claim.
    pub(super) intake_pool: PgPool,
    pub(super) intake_pid: Arc<AtomicU32>,
}

impl Runtime {
    /// The runtime of a d2 starting on these (forward, reverse) domains: counters and
    /// worker id from `options` (or fresh), the bookkeeping connections and intake's own
    /// connection (opened on first use).
    pub(super) fn new(
        (forward, reverse): (Vec<Domain>, Vec<Domain>),
        timeout: Duration,
        store: &Store,
        options: D2Options,
    ) -> Runtime {
        let intake_pid = Arc::new(AtomicU32::new(0));
        let pid = intake_pid.clone();
        let intake_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                let pid = pid.clone();
                Box::pin(async move {
                    let p: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                        .fetch_one(conn)
                        .await?;
                    pid.store(p as u32, Ordering::Relaxed);
                    Ok(())
                })
            })
            .connect_lazy_with((*store.pool().connect_options()).clone());
        Runtime {
            forward,
            reverse,
            timeout,
            stats: options.stats.clone().unwrap_or_default(),
            pool: store.pool().clone(),
            worker: options.worker_id.clone().unwrap_or_else(default_worker_id),
            options,
            in_flight: Default::default(),
            sockets: SocketPool::default(),
            bookkeeping: ncr_queue::Bookkeeping::new(store.pool(), 2),
            intake_pool,
            intake_pid,
        }
    }

    /// The ids held (claimed and not yet recorded).
    pub(super) fn in_flight(&self) -> MutexGuard<'_, HashSet<i64>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `claimed_by` when the options give none: host:pid:nonce.
fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "d2".to_owned());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{host}:{}:{nonce:08x}", std::process::id())
}
