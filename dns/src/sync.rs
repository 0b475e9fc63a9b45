//! Keeps the in-memory copies current with the store.
//!
//! At start every zone in `tern.dns_zone` is loaded (one consistent snapshot each). Then
//! the follower listens on `tern_dns`: a `changed <id> <serial>` notification (sent at
//! commit by the store's trigger, whoever wrote — tern, another appliance, plain SQL) makes
//! it read the journal entries since the serial it serves and install the next version,
//! built from the current one in O(changes); a zone created or deleted is added or
//! dropped; after a lost connection everything is loaded again. Queries never wait for
//! any of this: they keep reading the previous version until the new one is swapped in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tern_store::zone::{self as store_zone, JournalOp, ZoneEvent, ZoneWatcher};
use tern_store::Store;
use tracing::{debug, info, warn};

use crate::handler::Handler;
use crate::zone::{Op, SoaFields, Zone, ZoneError};

/// A zone could not be read from the store.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The store failed.
    #[error("reading zones from the store: {0}")]
    Store(#[from] tern_store::Error),
    /// The zone's own fields are unusable.
    #[error(transparent)]
    Zone(#[from] ZoneError),
}

fn soa_of(z: &store_zone::Zone) -> SoaFields {
    z.soa.clone()
}

/// Reads zone `id` whole from the store; `None` if it is gone.
pub async fn load(pool: &PgPool, id: i64) -> Result<Option<Zone>, SyncError> {
    let started = Instant::now();
    let Some((row, records)) = store_zone::snapshot(pool, id).await? else {
        return Ok(None);
    };
    let read = started.elapsed();
    let (zone, rejected) = Zone::build(
        row.id,
        &row.name,
        row.serial,
        soa_of(&row),
        records
            .iter()
            .map(|r| (r.name.as_str(), r.rtype.as_str(), r.ttl, r.content.as_str())),
    )?;
    for r in &rejected {
        warn!(
            "DNS_RECORD_SKIPPED zone {}: {} {} not served: {}",
            row.name, r.name, r.rtype, r.reason
        );
    }
    info!(
        "DNS_ZONE_LOADED zone {} serial {} ({} records) loaded: read from the store in {} ms, built in {} ms",
        zone.origin(),
        zone.serial(),
        zone.len(),
        read.as_millis(),
        (started.elapsed() - read).as_millis()
    );
    Ok(Some(zone))
}

/// Loads every zone of the store into the handler's catalog (replacing what it served).
pub async fn load_all(handler: &Handler, pool: &PgPool) -> Result<usize, SyncError> {
    let started = Instant::now();
    let mut zones = Vec::new();
    for z in store_zone::list(pool).await? {
        if let Some(zone) = load(pool, z.id).await? {
            zones.push(zone);
        }
    }
    let n = zones.len();
    handler.catalog.replace_all(zones);
    // The rows read from the store are freed by now; hand the memory back to the system
    // (glibc keeps freed blocks otherwise, and a 1M-record load leaves hundreds of MB).
    // SAFETY: malloc_trim only returns free memory; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
    info!(
        "DNS_ZONES_LOADED {n} zones loaded in {} ms",
        started.elapsed().as_millis()
    );
    Ok(n)
}

/// Brings zone `id` to what the store holds now: by its journal when the version served is
/// still covered, else whole.
pub async fn refresh(handler: &Handler, pool: &PgPool, id: i64) -> Result<(), SyncError> {
    let Some(current) = handler.catalog.by_id(id) else {
        return install_whole(handler, pool, id).await;
    };
    // One consistent read: the zone's row and the journal since the version served.
    let Some((row, entries)) = store_zone::changes_since(pool, id, current.serial()).await? else {
        // The zone is gone, or the journal no longer reaches back that far.
        return install_whole(handler, pool, id).await;
    };
    if row.serial == current.serial() && soa_of(&row) == *current.soa_fields() {
        return Ok(()); // a notification for a version we already serve
    }
    let changes = entries
        .iter()
        .map(|e| {
            let op = match e.op {
                JournalOp::Delete => Op::Delete,
                JournalOp::Add => Op::Add,
            };
            (
                op,
                e.name.as_str(),
                e.rtype.as_str(),
                e.ttl,
                e.content.as_str(),
            )
        })
        .collect::<Vec<_>>();
    Ok(advance(
        handler,
        &current,
        row.serial,
        soa_of(&row),
        &changes,
    )?)
}

/// Installs the next version of `current`: `changes` (journal rows in order) applied, at
/// `serial` with `soa`.
fn advance(
    handler: &Handler,
    current: &Zone,
    serial: u32,
    soa: SoaFields,
    changes: &[(Op, &str, &str, u32, &str)],
) -> Result<(), ZoneError> {
    let (next, rejected) = current.apply(serial, soa, changes.iter().copied())?;
    for r in &rejected {
        debug!(
            "DNS_RECORD_SKIPPED zone {}: {} {} not served: {}",
            current.origin(),
            r.name,
            r.rtype,
            r.reason
        );
    }
    install(handler, next, changes.len());
    Ok(())
}

async fn install_whole(handler: &Handler, pool: &PgPool, id: i64) -> Result<(), SyncError> {
    match load(pool, id).await? {
        Some(zone) => {
            let n = zone.len();
            install(handler, zone, n);
        }
        None => drop_zone(handler, id),
    }
    Ok(())
}

/// Serves the version a commit of this server made, without waiting for the store's
/// notification: `changes` (deletions, then additions, as the journal has them) applied to
/// the version `before` the commit was made on. When that is not the version served (the
/// notification of an earlier change is still on its way), nothing is done here: the
/// notification brings this version too.
pub fn install_committed<'a>(
    handler: &Handler,
    zone_id: i64,
    before: u32,
    serial: u32,
    soa: SoaFields,
    changes: &[(Op, &'a str, &'a str, u32, &'a str)],
) {
    let Some(current) = handler.catalog.by_id(zone_id) else {
        return;
    };
    if current.serial() != before {
        return;
    }
    if let Err(e) = advance(handler, &current, serial, soa, changes) {
        warn!("DNS_SYNC_FAILED zone {}: {e}", current.origin());
    }
}

/// Serves `zone` unless as new a version is served already (an update of this server
/// installed it at commit).
fn install(handler: &Handler, zone: Zone, changes: usize) {
    let (origin, serial) = (zone.origin().clone(), zone.serial());
    if !handler.catalog.insert_newer(zone) {
        return;
    }
    info!(
        "DNS_ZONE_SERVING zone {} serial {} now served ({changes} changes)",
        origin, serial
    );
    if let Some(z) = handler.catalog.get(&origin) {
        handler.notifier.zone_changed(&z);
    }
}

fn drop_zone(handler: &Handler, id: i64) {
    if let Some(origin) = handler.catalog.remove(id) {
        info!("DNS_ZONE_REMOVED zone {origin} no longer served");
    }
}

/// Follows the store's zone notifications until the task is dropped. `watcher` is one
/// opened before the zones were first loaded (so nothing committed in between is missed);
/// a new one is opened, and everything reloaded, whenever the connection is lost.
pub async fn follow(handler: Arc<Handler>, store: Store, watcher: ZoneWatcher) {
    let pool = store.pool().clone();
    let mut first = Some(watcher);
    loop {
        let mut watcher = match first.take() {
            Some(w) => w,
            None => match store.watch_zones().await {
                Ok(w) => {
                    // Whatever changed while we were not listening is picked up here.
                    if let Err(e) = load_all(&handler, &pool).await {
                        warn!("DNS_SYNC_FAILED {e}");
                    }
                    w
                }
                Err(e) => {
                    warn!("DNS_SYNC_FAILED cannot listen for zone changes: {e}; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        loop {
            let event = match watcher.recv().await {
                Ok(ev) => ev,
                Err(e) => {
                    warn!("DNS_SYNC_FAILED zone notifications lost: {e}; reconnecting");
                    break;
                }
            };
            let result = match event {
                // A version already served (this server's own update, installed at its
                // commit) needs no read of the store.
                ZoneEvent::Changed { zone_id, serial }
                    if handler
                        .catalog
                        .by_id(zone_id)
                        .is_some_and(|z| z.serial() >= serial) =>
                {
                    Ok(())
                }
                ZoneEvent::Changed { zone_id, .. } | ZoneEvent::Created { zone_id } => {
                    refresh(&handler, &pool, zone_id).await
                }
                ZoneEvent::Deleted { zone_id } => {
                    drop_zone(&handler, zone_id);
                    Ok(())
                }
                ZoneEvent::Resync => load_all(&handler, &pool).await.map(|_| ()),
            };
            if let Err(e) = result {
                warn!("DNS_SYNC_FAILED {e}");
            }
        }
    }
}
