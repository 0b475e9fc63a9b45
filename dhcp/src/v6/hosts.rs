//! The DHCPv6 reservations of the `hosts` table (`dhcp6_subnet_id` set, addresses and
//! prefixes in `ipv6_reservations`), held in memory as DHCPv4's are: loaded at start
//! and reloaded when the table's notifications say it changed, so a row written by
//! plain SQL, the API or Kea's host_cmds applies at the next packet without a query per
//! packet. A change reloads the v6 reservations whole: simple, and cheap for the tables
//! of thousands of hosts this is made for (DHCPv4's cache updates by `host_id`).

use std::collections::HashMap;
use std::net::Ipv6Addr;
use std::sync::{Arc, PoisonError, RwLock};

use tern_store::{host, Reservation6Kind, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use tern_config::option_defs::by_code6;

use crate::options::encode;
use crate::v6::config::{Host6, OptionSet6};

type Identifier = (i16, Vec<u8>);

/// The reservations by (subnet id or 0 for global, identifier), and who holds each
/// reserved address or prefix start.
#[derive(Default)]
struct Index {
    by_identifier: HashMap<(u32, Identifier), Arc<Host6>>,
    by_address: HashMap<(u32, Ipv6Addr), Vec<Identifier>>,
}

/// A host's `dhcp6_options` in the engine's form: the binary value as it is, else the
/// text (Kea's `formatted_value`) encoded by the standard definitions; options of other
/// spaces, or that cannot be encoded, are left out with a warning.
fn host_options(h: &tern_store::Host) -> OptionSet6 {
    let mut set = OptionSet6::default();
    for o in &h.options6 {
        if o.space.as_deref().is_some_and(|s| s != "dhcp6") {
            continue;
        }
        let value = match (&o.value, &o.formatted_value) {
            (Some(v), _) if !v.is_empty() => Some(v.clone()),
            (_, Some(text)) => by_code6(o.code).and_then(|d| encode(d.kind, text).ok()),
            _ => None,
        };
        match value {
            Some(v) => {
                set.map.insert(o.code, (v, o.persistent));
            }
            None => warn!(
                "DHCP6_HOST_OPTION_INVALID host {}: option {} cannot be encoded; ignored",
                h.host_id, o.code
            ),
        }
    }
    set
}

/// The reservations, swapped whole on a reload.
#[derive(Default)]
pub struct HostCache6 {
    index: RwLock<Arc<Index>>,
}

impl HostCache6 {
    /// The reservation in `subnet_id` for the first of `ids` that has one.
    pub fn find(&self, subnet_id: u32, ids: &[Identifier]) -> Option<Arc<Host6>> {
        let index = self
            .index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        ids.iter()
            .find_map(|id| index.by_identifier.get(&(subnet_id, id.clone())).cloned())
    }

    /// Whether an address or prefix of `subnet_id` is reserved for a host not among
    /// `ids`.
    pub fn reserved_for_other(&self, subnet_id: u32, a: Ipv6Addr, ids: &[Identifier]) -> bool {
        let index = self
            .index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        index
            .by_address
            .get(&(subnet_id, a))
            .is_some_and(|holders| holders.iter().any(|h| !ids.contains(h)))
    }

    /// How many reservations are held.
    pub fn len(&self) -> usize {
        self.index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_identifier
            .len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces everything with the table's current DHCPv6 rows.
    pub async fn reload(&self, store: &Store) -> tern_store::Result<usize> {
        let rows = host::select6(store.pool(), &host::Host6Filter::default()).await?;
        let mut index = Index::default();
        for h in rows {
            let subnet = h.dhcp6_subnet_id.unwrap_or(0);
            let host = Host6 {
                identifier: (h.identifier_type, h.identifier.clone()),
                addresses: h
                    .reservations6
                    .iter()
                    .filter(|r| r.kind == Reservation6Kind::Address)
                    .map(|r| r.address)
                    .collect(),
                prefixes: h
                    .reservations6
                    .iter()
                    .filter(|r| r.kind == Reservation6Kind::Prefix)
                    .map(|r| (r.address, r.prefix_len))
                    .collect(),
                hostname: h.hostname.clone(),
                options: host_options(&h),
            };
            for a in host
                .addresses
                .iter()
                .chain(host.prefixes.iter().map(|p| &p.0))
            {
                index
                    .by_address
                    .entry((subnet, *a))
                    .or_default()
                    .push(host.identifier.clone());
            }
            index
                .by_identifier
                .insert((subnet, host.identifier.clone()), Arc::new(host));
        }
        let n = index.by_identifier.len();
        *self.index.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(index);
        Ok(n)
    }

    /// Loads the table and keeps the cache current until `stop` turns true; the
    /// watcher listens before the first load, so no change falls in between.
    pub async fn start(
        store: Store,
        mut stop: watch::Receiver<bool>,
    ) -> tern_store::Result<(Arc<HostCache6>, JoinHandle<()>)> {
        let mut watcher = store.watch_hosts().await?;
        let cache = Arc::new(HostCache6::default());
        let n = cache.reload(&store).await?;
        info!("DHCP6_HOSTS_LOADED {n} DHCPv6 reservation(s) loaded from the hosts table");
        let c = cache.clone();
        let task = tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    _ = stop.changed() => return,
                    e = watcher.recv() => match e {
                        Some(e) => e,
                        None => {
                            warn!("DHCP6_HOSTS_WATCH_STOPPED host change notifications stopped; reservations may go stale");
                            return;
                        }
                    },
                };
                // Every change (and a resync) reloads the v6 reservations whole.
                match c.reload(&store).await {
                    Ok(n) => debug!("DHCP6_HOSTS_UPDATED {event}: {n} DHCPv6 reservation(s)"),
                    Err(e) => warn!("DHCP6_HOSTS_UPDATE_FAILED applying '{event}': {e}"),
                }
            }
        });
        Ok((cache, task))
    }
}
