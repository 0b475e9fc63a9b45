//! Keeps each zone's journal bounded: every few minutes, the versions older than the newest
//! [`KEEP_VERSIONS`] are dropped (BIND bounds its `.jnl` files the same way, by
//! `max-journal-size`). IXFR from a serial older than what is left falls back to AXFR
//! (RFC 1995 §4), so nothing a secondary needs is lost, only made larger.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tracing::{debug, warn};

use crate::handler::Handler;

/// Versions of a zone whose changes stay in the journal for IXFR.
pub const KEEP_VERSIONS: u32 = 10_000;

/// How often the journals are pruned.
pub const EVERY: Duration = Duration::from_secs(300);

/// Prunes every served zone's journal every `every`, keeping `keep` versions; runs until
/// aborted. Several appliances on one store may all do it: pruning is idempotent.
pub async fn prune_loop(handler: Arc<Handler>, pool: PgPool, keep: u32, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        for zone in handler.catalog.zones() {
            match tern_store::zone::prune_journal(&pool, zone.id(), keep).await {
                Ok(()) => debug!(
                    "DNS_JOURNAL_PRUNED zone {}: changes of all but the newest {keep} versions dropped",
                    zone.origin()
                ),
                // A zone deleted meanwhile has no journal left to prune.
                Err(tern_store::Error::ZoneNotFound(_)) => {}
                Err(e) => warn!("DNS_JOURNAL_PRUNE_FAILED zone {}: {e}", zone.origin()),
            }
        }
    }
}
