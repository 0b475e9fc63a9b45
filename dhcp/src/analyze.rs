//! Keeps a lease table's statistics up with its growth: PostgreSQL plans made while the
//! table was nearly empty scan it whole, and stay cached (sqlx prepares every statement)
//! until the next ANALYZE, which autovacuum may run only a minute later. After 256
//! writes, then after every doubling (at most every 65,536 writes), an `ANALYZE` of the
//! table runs in the background.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tern_store::{lease4, lease6, Store};
use tracing::debug;

/// Which lease table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    /// `lease4`.
    Lease4,
    /// `lease6`.
    Lease6,
}

/// Counts writes and analyzes the table when it has grown enough.
pub(crate) struct Analyzer {
    table: Table,
    writes: AtomicU64,
    next: AtomicU64,
    running: AtomicBool,
}

impl Analyzer {
    pub(crate) fn new(table: Table) -> Analyzer {
        Analyzer {
            table,
            writes: AtomicU64::new(0),
            next: AtomicU64::new(0),
            running: AtomicBool::new(false),
        }
    }

    /// `n` rows were written.
    pub(crate) fn wrote(self: &Arc<Self>, n: usize, store: &Store) {
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
                Ok(mut conn) => match me.table {
                    Table::Lease4 => lease4::analyze(&mut conn).await,
                    Table::Lease6 => lease6::analyze(&mut conn).await,
                },
                Err(e) => Err(e.into()),
            };
            if let Err(e) = result {
                debug!("DHCP_LEASE_ANALYZE_FAILED ANALYZE {:?}: {e}", me.table);
            }
            me.running.store(false, Ordering::Release);
        });
    }
}
