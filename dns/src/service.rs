//! The running zone server: zones loaded from the store, kept current, answered on the
//! configured addresses.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tern_dnsmsg::tsig::TsigKey;
use tern_dnsmsg::zonefile;
use tern_store::Store;
use tokio::task::JoinHandle;
use tracing::info;

use crate::catalog::Catalog;
use crate::handler::Handler;
use hickory_proto::rr::{Name, RecordType};

use crate::policy::{Grant, NotifyTarget, Policies, TransferRule, UpdateRule, ZonePolicy};
use crate::server::{self, BindError, Listeners, TcpSettings};
use crate::stats::Stats;
use crate::sync::{self, SyncError};

/// Where tern answers when `Dns` names no address: loopback on 5353, an unprivileged port
/// (53 needs root or CAP_NET_BIND_SERVICE).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5353";

/// What the zone server is started with.
#[derive(Debug, Clone)]
pub struct DnsSettings {
    /// Addresses to answer on (UDP and TCP).
    pub listen: Vec<SocketAddr>,
    /// UDP sockets (and threads) per address.
    pub udp_threads: usize,
    /// TCP limits.
    pub tcp: TcpSettings,
    /// TSIG keys accepted.
    pub keys: Vec<TsigKey>,
    /// Per-zone policy.
    pub policies: Policies,
    /// Zones to create from a zone file when the store does not hold them yet.
    pub seeds: Vec<(String, PathBuf)>,
}

/// The zone server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Loading the zones failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Listening for zone changes failed.
    #[error("cannot listen for zone changes: {0}")]
    Watch(tern_store::Error),
    /// A socket could not be bound.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// A zone file to seed a zone from cannot be read.
    #[error("zone {zone}: {errors}")]
    ZoneFile {
        /// The zone.
        zone: String,
        /// Every error, `file:line:col: message`.
        errors: zonefile::ZoneFileErrors,
    },
    /// The seeded zone could not be written.
    #[error("zone {zone}: cannot be created in the store: {source}")]
    Seed {
        /// The zone.
        zone: String,
        /// Why.
        source: tern_store::Error,
    },
}

/// The running zone server.
#[derive(Debug)]
pub struct DnsHandle {
    /// Its request handling (catalog, statistics).
    pub handler: Arc<Handler>,
    listeners: Listeners,
    follower: JoinHandle<()>,
    pruner: JoinHandle<()>,
}

impl DnsHandle {
    /// The addresses answered on.
    pub fn bound(&self) -> &[SocketAddr] {
        &self.listeners.bound
    }

    /// Stops answering and following the store.
    pub async fn shutdown(self) {
        self.follower.abort();
        self.pruner.abort();
        self.listeners.stop().await;
        info!("DNS_STOPPED zone server stopped");
    }
}

/// Loads every zone of `store`, then answers on `settings.listen`, following the store's
/// changes. `stats` carries over a restart.
pub async fn start(
    settings: DnsSettings,
    store: Store,
    stats: Arc<Stats>,
) -> Result<DnsHandle, StartError> {
    let catalog = Arc::new(Catalog::new());
    let mut handler = Handler::new(catalog, settings.keys);
    handler.notifier = crate::notify::Notifier::start(settings.policies.clone(), stats.clone());
    handler.stats = stats;
    handler.policies = settings.policies;
    handler.store = Some(store.pool().clone());
    let handler = Arc::new(handler);
    seed(&store, &settings.seeds).await?;
    // Listen first, load second: a change committed in between is not missed.
    let watcher = store.watch_zones().await.map_err(StartError::Watch)?;
    sync::load_all(&handler, store.pool()).await?;
    let listeners = server::listen(
        handler.clone(),
        &settings.listen,
        settings.udp_threads,
        settings.tcp,
    )
    .await?;
    let pruner = tokio::spawn(crate::journal::prune_loop(
        handler.clone(),
        store.pool().clone(),
        crate::journal::KEEP_VERSIONS,
        crate::journal::EVERY,
    ));
    let follower = tokio::spawn(sync::follow(handler.clone(), store, watcher));
    Ok(DnsHandle {
        handler,
        listeners,
        follower,
        pruner,
    })
}

/// Creates each zone of `seeds` the store does not hold yet from its zone file (the first
/// start on a new database); a zone the store holds is left as it is, the store being the
/// truth from then on. Several appliances starting at once: the store refuses the second
/// creation, which is then taken as done.
async fn seed(store: &Store, seeds: &[(String, PathBuf)]) -> Result<(), StartError> {
    use tern_store::zone as sz;
    for (zone, path) in seeds {
        if sz::get(store.pool(), zone)
            .await
            .map_err(|source| StartError::Seed {
                zone: zone.clone(),
                source,
            })?
            .is_some()
        {
            continue;
        }
        let file = zonefile::read(path, zone).map_err(|errors| StartError::ZoneFile {
            zone: zone.clone(),
            errors,
        })?;
        let new = sz::NewZone {
            name: zone.clone(),
            kind: sz::ZoneKind::Native,
            soa_edit_api: sz::SerialRule::Default,
            account: String::new(),
            soa: sz::Soa {
                ttl: file.soa.ttl,
                mname: file.soa.mname.clone(),
                rname: file.soa.rname.clone(),
                refresh: file.soa.refresh,
                retry: file.soa.retry,
                expire: file.soa.expire,
                minimum: file.soa.minimum,
            },
            serial: Some(file.soa.serial).filter(|s| *s > 0),
            records: file
                .records
                .into_iter()
                .map(|r| sz::NewRecord {
                    name: r.name,
                    rtype: r.rtype,
                    ttl: r.ttl,
                    content: r.content,
                    managed_by: sz::ManagedBy::Admin,
                })
                .collect(),
        };
        match sz::create(store.pool(), &new).await {
            Ok(z) => info!(
                "DNS_ZONE_IMPORTED zone {} created from {} (serial {}, {} records)",
                z.name,
                path.display(),
                z.serial,
                new.records.len()
            ),
            Err(tern_store::Error::ZoneExists(_)) => {}
            Err(source) => {
                return Err(StartError::Seed {
                    zone: zone.clone(),
                    source,
                })
            }
        }
    }
    Ok(())
}

/// The zone server's settings from the validated configuration: `Dns`'s addresses, its
/// keys together with `DhcpDdns`'s (a one-box configuration names d2's key once; `Dns`'s
/// win on a name defined in both), and each zone's policy.
pub fn settings(
    dns: &tern_config::DnsConfig,
    ddns: Option<&tern_config::DhcpDdns>,
) -> Result<DnsSettings, String> {
    let listen = if dns.listen_on.is_empty() {
        vec![DEFAULT_LISTEN.parse().expect("a socket address")]
    } else {
        dns.listen_on.clone()
    };
    let mut keys: Vec<TsigKey> = Vec::new();
    let d2_keys = ddns.map(|d| d.tsig_keys.as_slice()).unwrap_or_default();
    for k in dns.tsig_keys.iter().chain(d2_keys) {
        let key = key(k)?;
        if !keys.iter().any(|have| have.name == key.name) {
            keys.push(key);
        }
    }
    let mut zones = Vec::new();
    let mut seeds = Vec::new();
    for z in &dns.zones {
        let origin = name(&z.name)?;
        zones.push((origin.clone(), policy(z, &origin, &keys, ddns)?));
        if let Some(f) = &z.file {
            seeds.push((z.name.clone(), f.clone()));
        }
    }
    Ok(DnsSettings {
        listen,
        udp_threads: default_udp_threads(),
        tcp: TcpSettings::default(),
        keys,
        policies: Policies::new(zones),
        seeds,
    })
}

fn name(text: &str) -> Result<Name, String> {
    let mut n =
        Name::from_ascii(text).map_err(|e| format!("{text:?} is not a domain name: {e}"))?;
    n.set_fqdn(true);
    Ok(n)
}

/// One zone's policy, its key names resolved.
fn policy(
    z: &tern_config::ZoneConfig,
    origin: &Name,
    keys: &[TsigKey],
    ddns: Option<&tern_config::DhcpDdns>,
) -> Result<ZonePolicy, String> {
    use tern_config::{Grant as G, TransferAcl, UpdateTypes};
    let mut update = Vec::new();
    for g in &z.allow_update {
        let grant = match &g.grant {
            G::Zonesub => Grant::ZoneSub,
            G::Name(n) => Grant::Name(name(n)?),
            G::Subdomain(n) => Grant::Subdomain(name(n)?),
            G::Selfsub => Grant::SelfSub,
            G::Wildcard(n) => Grant::Wildcard(name(n)?),
        };
        let types = match &g.types {
            UpdateTypes::Default => Vec::new(),
            UpdateTypes::Any => vec![RecordType::ANY],
            UpdateTypes::Only(list) => list
                .iter()
                .map(|t| {
                    tern_dnsmsg::content::record_type(t).ok_or_else(|| format!("unknown type {t}"))
                })
                .collect::<Result<_, _>>()?,
        };
        update.push(UpdateRule {
            key: name(&g.key)?,
            grant,
            types,
        });
    }
    let transfer = z
        .allow_transfer
        .iter()
        .map(|t| match t {
            TransferAcl::Key(k) => name(k).map(TransferRule::Key),
            TransferAcl::Network(net) => Ok(TransferRule::Network(net.ip(), net.prefix())),
        })
        .collect::<Result<_, _>>()?;
    let find_key = |n: &str| -> Result<TsigKey, String> {
        let wanted = name(n)?;
        keys.iter()
            .find(|k| k.name == wanted)
            .cloned()
            .ok_or_else(|| format!("zone {origin}: no TSIG key {n}"))
    };
    let notify = z
        .notify
        .iter()
        .map(|t| {
            Ok(NotifyTarget {
                addr: t.address,
                key: t.key_name.as_deref().map(find_key).transpose()?,
            })
        })
        .collect::<Result<_, String>>()?;
    // The keys d2 signs this zone's updates with: what they write belongs to DHCP.
    let mut dhcp_keys = Vec::new();
    if let Some(d) = ddns {
        for dom in d.forward_ddns.iter().chain(&d.reverse_ddns) {
            if name(&dom.name).is_ok_and(|n| n == *origin) {
                for s in &dom.dns_servers {
                    if let Some(k) = s.effective_key(dom) {
                        let k = name(k)?;
                        if !dhcp_keys.contains(&k) {
                            dhcp_keys.push(k);
                        }
                    }
                }
            }
        }
    }
    Ok(ZonePolicy {
        update,
        transfer,
        notify,
        dhcp_keys,
        overwrite_static: z.ddns_overwrite_static,
    })
}
/// One UDP socket per core: the kernel spreads the queries over them.
fn default_udp_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn key(k: &tern_config::TsigKey) -> Result<TsigKey, String> {
    use tern_dnsmsg::tsig::Secret;
    let secret = match &k.secret {
        tern_config::TsigSecret::Bytes(b) => Secret::Bytes(b),
        tern_config::TsigSecret::File(p) => Secret::File(p),
    };
    TsigKey::from_kea(&k.name, k.algorithm.name(), k.digest_bits, secret)
        .map_err(|e| format!("TSIG key {}: {e}", k.name))
}
