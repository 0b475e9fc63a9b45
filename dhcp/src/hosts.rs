//! The DHCPv4 reservations of the `hosts` table, held in memory.
//!
//! Asking the table on every packet cost two or three queries per exchange, more than
//! the lease itself. The cache is loaded at start and kept current by the table's
//! notifications ([`tern_store::HostWatcher`]): a row written by the REST API, Kea's
//! host_cmds or plain SQL reaches the cache a few milliseconds after its transaction
//! commits. When notifications may have been missed (the listening connection was
//! re-established, a table was truncated) the whole cache is reloaded.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, PoisonError, RwLock, RwLockWriteGuard};

use tern_store::{host, HostEvent, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::config::{Host, OptionSet};
use crate::options::{by_code, encode};
use crate::packet::hex;

type Identifier = (i16, Vec<u8>);

#[derive(Default, Clone)]
struct Index {
    /// host_id → (subnet id, host).
    by_id: HashMap<i32, (u32, Arc<Host>)>,
    /// (subnet id, identifier) → host_id.
    by_identifier: HashMap<(u32, Identifier), i32>,
    /// (subnet id, reserved address) → host_ids.
    by_address: HashMap<(u32, Ipv4Addr), Vec<i32>>,
}

impl Index {
    fn insert(&mut self, id: i32, subnet: u32, host: Host) {
        self.remove(id);
        self.by_identifier
            .insert((subnet, host.identifier.clone()), id);
        if let Some(a) = host.address {
            self.by_address.entry((subnet, a)).or_default().push(id);
        }
        self.by_id.insert(id, (subnet, Arc::new(host)));
    }

    fn remove(&mut self, id: i32) {
        let Some((subnet, host)) = self.by_id.remove(&id) else {
            return;
        };
        let key = (subnet, host.identifier.clone());
        if self.by_identifier.get(&key) == Some(&id) {
            self.by_identifier.remove(&key);
        }
        if let Some(a) = host.address {
            if let Some(ids) = self.by_address.get_mut(&(subnet, a)) {
                ids.retain(|i| *i != id);
                if ids.is_empty() {
                    self.by_address.remove(&(subnet, a));
                }
            }
        }
    }
}

/// The hosts table's DHCPv4 reservations, by subnet (0: global), identifier and address.
///
/// Lookups take a snapshot (an `Arc` cloned under the read lock) and search it
/// unlocked; updates change the index in place under the write lock, copying it only
/// when a lookup holds the snapshot at that moment. Nothing here panics on a poisoned
/// lock: one panic while updating must not make every later packet panic.
#[derive(Default)]
pub struct HostCache {
    index: RwLock<Arc<Index>>,
}

impl HostCache {
    /// The index as it is now.
    fn snapshot(&self) -> Arc<Index> {
        self.index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The write lock, and false when an earlier update panicked halfway (the index may
    /// then miss or keep stale entries; lookups never panic on it).
    fn write(&self) -> (RwLockWriteGuard<'_, Arc<Index>>, bool) {
        match self.index.write() {
            Ok(g) => (g, true),
            Err(poisoned) => {
                self.index.clear_poison();
                (poisoned.into_inner(), false)
            }
        }
    }

    /// Applies `change` to the index; false as [`HostCache::write`] (the caller reloads).
    fn update(&self, change: impl FnOnce(&mut Index)) -> bool {
        let (mut index, intact) = self.write();
        change(Arc::make_mut(&mut index));
        intact
    }

    /// The reservation in `subnet_id` for the first of `ids` (in the configured
    /// identifier order) that has one.
    pub fn find(&self, subnet_id: u32, ids: &[Identifier]) -> Option<Arc<Host>> {
        let index = self.snapshot();
        ids.iter().find_map(|id| {
            let host_id = index.by_identifier.get(&(subnet_id, id.clone()))?;
            index.by_id.get(host_id).map(|(_, h)| h.clone())
        })
    }

    /// Whether `address` is reserved in `subnet_id` for a client with none of `ids`.
    pub fn reserved_for_other(
        &self,
        subnet_id: u32,
        address: Ipv4Addr,
        ids: &[Identifier],
    ) -> bool {
        let index = self.snapshot();
        index
            .by_address
            .get(&(subnet_id, address))
            .is_some_and(|hosts| {
                hosts.iter().any(|h| {
                    index
                        .by_id
                        .get(h)
                        .is_some_and(|(_, host)| !ids.contains(&host.identifier))
                })
            })
    }

    /// Whether `address` is reserved for anyone in `subnet_id`.
    pub fn is_reserved(&self, subnet_id: u32, address: Ipv4Addr) -> bool {
        self.snapshot()
            .by_address
            .contains_key(&(subnet_id, address))
    }

    /// Number of reservations held.
    pub fn len(&self) -> usize {
        self.snapshot().by_id.len()
    }

    /// Whether no reservation is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces everything with the table's current rows.
    pub async fn reload(&self, store: &Store) -> tern_store::Result<usize> {
        let mut conn = store.pool().acquire().await?;
        let rows = host::all4(&mut conn).await?;
        let mut index = Index::default();
        for h in rows {
            let (id, subnet) = (h.host_id, h.dhcp4_subnet_id.unwrap_or(0));
            index.insert(id, subnet, host_from_store(h));
        }
        let n = index.by_id.len();
        // Swapped whole: a lookup sees the old index or the new one.
        *self.write().0 = Arc::new(index);
        Ok(n)
    }

    /// Re-reads one reservation (gone, or no longer a DHCPv4 one: dropped).
    pub async fn refresh(&self, store: &Store, host_id: i32) -> tern_store::Result<()> {
        let mut conn = store.pool().acquire().await?;
        let row = host::by_id4(&mut conn, host_id).await?;
        let host = row.map(|h| (h.dhcp4_subnet_id.unwrap_or(0), host_from_store(h)));
        let intact = self.update(|index| match host {
            Some((subnet, host)) => index.insert(host_id, subnet, host),
            None => index.remove(host_id),
        });
        if !intact {
            warn!("DHCP4_HOSTS_UPDATE_FAILED an earlier update of the reservations failed halfway; reloading all");
            self.reload(store).await?;
        }
        Ok(())
    }

    /// Loads the table and keeps the cache current until `stop` turns true. The
    /// watcher listens before the first load, so no change falls in between.
    pub async fn start(
        store: Store,
        mut stop: watch::Receiver<bool>,
    ) -> tern_store::Result<(Arc<HostCache>, JoinHandle<()>)> {
        let mut watcher = store.watch_hosts().await?;
        let cache = Arc::new(HostCache::default());
        let n = cache.reload(&store).await?;
        info!("DHCP4_HOSTS_LOADED {n} reservation(s) loaded from the hosts table");
        let task_cache = cache.clone();
        let task = tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    _ = stop.changed() => return,
                    e = watcher.recv() => match e {
                        Some(e) => e,
                        None => {
                            warn!("DHCP4_HOSTS_WATCH_STOPPED host change notifications stopped; reservations may go stale");
                            return;
                        }
                    },
                };
                let result = match &event {
                    HostEvent::Resync => task_cache.reload(&store).await.map(|n| {
                        info!(
                            "DHCP4_HOSTS_LOADED {n} reservation(s) reloaded from the hosts table"
                        );
                    }),
                    HostEvent::Changed(c) => task_cache.refresh(&store, c.host_id).await,
                };
                match result {
                    Ok(()) => debug!("DHCP4_HOSTS_UPDATED {event}"),
                    Err(e) => {
                        // A reload later repairs whatever this one missed.
                        warn!("DHCP4_HOSTS_UPDATE_FAILED applying '{event}': {e}; reloading all");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                        if let Err(e) = task_cache.reload(&store).await {
                            warn!("DHCP4_HOSTS_UPDATE_FAILED reloading reservations: {e}");
                        }
                    }
                }
            }
        });
        Ok((cache, task))
    }
}

/// A reservation from the hosts table in the engine's form; option values stored as
/// text (Kea's `formatted_value`) are encoded by the standard definitions.
fn host_from_store(h: tern_store::Host) -> Host {
    let mut options = OptionSet::default();
    for o in &h.options4 {
        if o.space.as_deref().is_some_and(|s| s != "dhcp4") {
            continue;
        }
        let value = match (&o.value, &o.formatted_value) {
            (Some(v), _) if !v.is_empty() => Some(v.clone()),
            (_, Some(text)) => by_code(o.code).and_then(|d| encode(d.kind, text).ok()),
            _ => None,
        };
        match value {
            Some(v) => {
                options.map.insert(o.code, (v, o.persistent));
            }
            None => warn!(
                "DHCP4_HOST_OPTION_INVALID host {} (identifier {}): option {} cannot be encoded; ignored",
                h.host_id,
                hex(&h.identifier),
                o.code
            ),
        }
    }
    Host {
        identifier: (h.identifier_type, h.identifier),
        address: h.ipv4_address,
        hostname: h.hostname,
        options,
        boot: tern_config::BootFields {
            next_server: h.next_server,
            server_hostname: h.server_hostname,
            boot_file_name: h.boot_file_name,
        },
        // Kea keeps them comma-separated.
        classes: h
            .dhcp4_client_classes
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(mac: u8, address: Option<[u8; 4]>) -> Host {
        Host {
            identifier: (0, vec![2, 0, 0, 0, 0, mac]),
            address: address.map(Ipv4Addr::from),
            hostname: None,
            options: OptionSet::default(),
            boot: Default::default(),
            classes: Vec::new(),
        }
    }

    #[test]
    fn lookups_follow_inserts_moves_and_removals() {
        let cache = HostCache::default();
        cache.update(|ix| {
            ix.insert(1, 1, host(1, Some([10, 0, 0, 5])));
            ix.insert(2, 0, host(2, None));
        });
        let me = vec![(0, vec![2, 0, 0, 0, 0, 1])];
        let other = vec![(0, vec![2, 0, 0, 0, 0, 9])];
        assert!(cache.find(1, &me).is_some());
        assert!(cache.find(2, &me).is_none(), "another subnet");
        assert!(cache.find(0, &[(0, vec![2, 0, 0, 0, 0, 2])]).is_some());
        let a = Ipv4Addr::new(10, 0, 0, 5);
        assert!(!cache.reserved_for_other(1, a, &me));
        assert!(cache.reserved_for_other(1, a, &other));
        assert!(cache.is_reserved(1, a));
        // The same host_id now reserves another address: the old one is free.
        cache.update(|ix| ix.insert(1, 1, host(1, Some([10, 0, 0, 6]))));
        assert!(!cache.is_reserved(1, a));
        assert!(cache.is_reserved(1, Ipv4Addr::new(10, 0, 0, 6)));
        cache.update(|ix| ix.remove(1));
        assert!(cache.find(1, &me).is_none());
        assert!(!cache.is_reserved(1, Ipv4Addr::new(10, 0, 0, 6)));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_panic_while_updating_does_not_break_later_lookups() {
        let cache = Arc::new(HostCache::default());
        assert!(cache.update(|ix| ix.insert(1, 1, host(1, Some([10, 0, 0, 5])))));
        let me = vec![(0, vec![2, 0, 0, 0, 0, 1])];
        let a = Ipv4Addr::new(10, 0, 0, 5);
        let c = cache.clone();
        let panicked = std::thread::spawn(move || {
            c.update(|ix| {
                ix.remove(1);
                panic!("a bug while updating");
            })
        })
        .join();
        assert!(panicked.is_err());
        // Every lookup still answers (from whatever the update left).
        let _ = cache.find(1, &me);
        let _ = cache.reserved_for_other(1, a, &me);
        let _ = cache.is_reserved(1, a);
        let _ = cache.len();
        // The next update goes through, and says the index needs a reload.
        assert!(!cache.update(|ix| ix.insert(1, 1, host(1, Some([10, 0, 0, 5])))));
        assert!(cache.find(1, &me).is_some());
        assert!(cache.is_reserved(1, a));
        assert!(cache.update(|ix| ix.remove(1)), "intact again");
    }

    #[test]
    fn a_snapshot_taken_before_an_update_is_unchanged_by_it() {
        let cache = HostCache::default();
        cache.update(|ix| ix.insert(1, 1, host(1, Some([10, 0, 0, 5]))));
        let before = cache.snapshot();
        cache.update(|ix| ix.remove(1));
        assert_eq!(before.by_id.len(), 1);
        assert!(cache.is_empty());
    }
}
