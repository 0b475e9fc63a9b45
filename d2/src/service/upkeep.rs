//! Upkeep, every third of the claim lease: renews the lease on the rows this d2 holds,
//! takes back rows whose holder stopped renewing (killed process, other appliance), and
//! deletes finished rows after the retention time.

use std::sync::Arc;
use std::time::Duration;

use tern_store::ncr_queue;
use tokio::sync::Notify;
use tracing::{info, warn};

use super::runtime::Runtime;

/// Lease renewal, stale claims taken back, old outcomes deleted.
pub(super) async fn run(rt: Arc<Runtime>, wake: Arc<Notify>) {
    let every = (rt.options.claim_lease / 3).max(Duration::from_millis(100));
    let mut tick = tokio::time::interval(every);
    let mut last_purge: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        let ids: Vec<i64> = { rt.in_flight().iter().copied().collect() };
        if let Err(e) = ncr_queue::heartbeat(&rt.pool, &rt.worker, &ids).await {
            warn!("DHCP_DDNS_QUEUE_HEARTBEAT_ERROR cannot renew claims: {e}");
        }
        match ncr_queue::reclaim_stale(&rt.pool, rt.options.claim_lease).await {
            Ok(0) => {}
            Ok(n) => {
                info!("DHCP_DDNS_QUEUE_RECLAIMED {n} NCR(s) whose d2 stopped renewing its claim are queued again");
                wake.notify_one();
            }
            Err(e) => warn!("DHCP_DDNS_QUEUE_RECLAIM_ERROR {e}"),
        }
        if last_purge.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
            last_purge = Some(tokio::time::Instant::now());
            match ncr_queue::purge_finished(&rt.pool, rt.options.retention).await {
                Ok(0) => {}
                Ok(n) => info!("DHCP_DDNS_QUEUE_PURGED {n} finished NCR(s) past retention deleted"),
                Err(e) => warn!("DHCP_DDNS_QUEUE_PURGE_ERROR {e}"),
            }
        }
    }
}
