//! The running DHCPv6 service: the server DUID from the store, a receive loop per
//! socket, a task per packet (bounded), reclamation, clean shutdown.

use std::net::{Ipv6Addr, SocketAddrV6};
use std::sync::Arc;
use std::time::Duration;

use tern_store::{lease6, LeaseType, Store};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::service::Error;
use crate::v6::config::Config6;
use crate::v6::decide::Ingress6;
use crate::v6::engine::{Engine6, Ports6};
use crate::v6::net::{self, Listener6};
use crate::v6::stats::{bump, Stats6, SubnetStats6};

/// Packets processed at once; beyond this they are dropped (`pkt6-queue-full`,
/// `pkt6-receive-drop`). perfdhcp and real networks send in bursts: 256 rides out a
/// burst of a few milliseconds at thousands of exchanges per second, while a packet
/// still waits at most a few batches.
const MAX_IN_FLIGHT: usize = 256;

/// Seconds from the Unix epoch to 2000-01-01 (RFC 8415 §11.2's DUID-LLT epoch).
const DUID_EPOCH: u64 = 946_684_800;

impl Ports6 {
    /// The defaults with `TERN_DHCP6_SERVER_PORT` / `TERN_DHCP6_CLIENT_PORT`.
    pub fn from_env() -> Result<Ports6, Error> {
        let var = |name: &str, default: u16| -> Result<u16, Error> {
            match std::env::var(name) {
                Ok(v) if !v.is_empty() => v
                    .parse()
                    .map_err(|_| Error::Port(format!("{name}={v} is not a UDP port"))),
                _ => Ok(default),
            }
        };
        Ok(Ports6 {
            server: var("TERN_DHCP6_SERVER_PORT", 547)?,
            client: var("TERN_DHCP6_CLIENT_PORT", 546)?,
        })
    }
}

/// The DHCPv6 service.
pub struct Dhcp6Service;

/// A running service.
pub struct Dhcp6Handle {
    engine: Engine6,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    in_flight: Arc<Semaphore>,
    listening: Vec<String>,
}

impl Dhcp6Service {
    /// Resolves the configuration, opens the sockets `interfaces-config` names and
    /// starts serving, counting into `stats` (a reconfiguration hands them over).
    pub async fn start(
        config: &tern_config::Dhcp6,
        store: Store,
        stats: Arc<Stats6>,
    ) -> Result<Dhcp6Handle, Error> {
        let cfg = Config6::from_config(config)?;
        let ports = Ports6::from_env()?;
        let listeners = net::open(&cfg.interfaces, ports.server)?;
        Self::start_with(cfg, store, listeners, ports, stats).await
    }

    /// Starts serving on sockets opened by the caller (e.g. inside another network
    /// namespace).
    pub async fn start_with(
        cfg: Config6,
        store: Store,
        listeners: Vec<Listener6>,
        ports: Ports6,
        stats: Arc<Stats6>,
    ) -> Result<Dhcp6Handle, Error> {
        let duid = server_duid(&cfg, &store, &listeners).await?;
        info!(
            "DHCP6_SERVERID_LOADED server DUID {}",
            duid.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        );
        stats.clear_subnets();
        {
            let mut conn = store
                .pool()
                .acquire()
                .await
                .map_err(tern_store::Error::from)?;
            for s in &cfg.subnets {
                let (nas, declined) = lease6::count_active(&mut conn, s.id, LeaseType::Na).await?;
                let (pds, _) = lease6::count_active(&mut conn, s.id, LeaseType::Pd).await?;
                stats.set_subnet(
                    s.id,
                    SubnetStats6 {
                        total_nas: i64::try_from(s.total_addresses()).unwrap_or(i64::MAX),
                        assigned_nas: nas as i64,
                        total_pds: i64::try_from(s.total_prefixes()).unwrap_or(i64::MAX),
                        assigned_pds: pds as i64,
                        declined: declined as i64,
                        ..SubnetStats6::default()
                    },
                );
            }
        }
        if listeners.is_empty() {
            warn!("DHCP6_NO_SOCKETS_OPEN no interface to listen on: the DHCPv6 server will not receive anything");
        }
        let (interval, batch) = (cfg.reclaim_interval, cfg.max_reclaim_leases.max(1));
        let engine = Engine6::start(Arc::new(cfg), store, stats, duid, ports).await?;
        let (stop, stop_rx) = watch::channel(false);
        let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut tasks = Vec::new();
        let mut listening = Vec::new();
        for l in listeners {
            listening.push(l.iface.clone());
            let fd = Arc::new(UdpSocket::from_std(l.socket)?);
            tasks.push(tokio::spawn(receive_loop(
                fd,
                l.iface,
                l.index,
                engine.clone(),
                stop_rx.clone(),
                in_flight.clone(),
            )));
        }
        // With reclamation off, the loop only recounts (as v4's, every 30 s).
        let every = if interval > 0 { interval } else { 30 };
        tasks.push(tokio::spawn(upkeep_loop(
            engine.clone(),
            Duration::from_secs(every.into()),
            interval > 0,
            batch,
            stop_rx.clone(),
        )));
        info!(
            "DHCP6_STARTED DHCPv6 server started on {} interface(s), server port {}",
            listening.len(),
            ports.server
        );
        Ok(Dhcp6Handle {
            engine,
            stop,
            tasks,
            in_flight,
            listening,
        })
    }
}

/// The server DUID: `server-id` as the file gives it when it names an identifier
/// (stored, replacing the previous one), else the one in the store (made once from the
/// first interface's hardware address and the time, as Kea's DUID-LLT), shared by
/// every tern on the database so any of them can answer a RENEW.
async fn server_duid(
    cfg: &Config6,
    store: &Store,
    listeners: &[Listener6],
) -> Result<Vec<u8>, Error> {
    let mac = listeners
        .iter()
        .find_map(|l| net::hardware_address(&l.iface))
        .unwrap_or_else(|| {
            // No hardware address at hand: a random, locally administered one.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
                .to_be_bytes();
            vec![0x02, t[11], t[12], t[13], t[14], t[15]]
        });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs().saturating_sub(DUID_EPOCH))
        .unwrap_or(0) as u32;
    let proposal = cfg.server_id.duid(&mac, now);
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(tern_store::Error::from)?;
    if cfg.server_id.explicit() {
        tern_store::server_id::set_dhcp6_server_duid(&mut conn, &proposal).await?;
        return Ok(proposal);
    }
    Ok(tern_store::server_id::dhcp6_server_duid(&mut conn, &proposal).await?)
}

impl Dhcp6Handle {
    /// The statistics, live.
    pub fn stats(&self) -> Arc<Stats6> {
        self.engine.stats().clone()
    }

    /// The server's DUID.
    pub fn duid(&self) -> Vec<u8> {
        self.engine.duid().to_vec()
    }

    /// Interfaces listened on.
    pub fn listening(&self) -> &[String] {
        &self.listening
    }

    /// Stops receiving and waits for the packets in progress.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        let _ = self.in_flight.acquire_many(MAX_IN_FLIGHT as u32).await;
        self.engine.stop().await;
        info!("DHCP6_SHUTDOWN DHCPv6 server stopped");
    }
}

/// Every `every`: reclaims expired leases (when on), deletes old reclaimed ones, and
/// recounts the gauges from the table.
async fn upkeep_loop(
    engine: Engine6,
    every: Duration,
    reclaim: bool,
    batch: u32,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(every) => {}
        }
        if reclaim {
            if let Err(e) = engine.flush_reclaimed().await {
                warn!(
                    "ALLOC_ENGINE_V6_RECLAIMED_LEASES_DELETE_FAILED deleting reclaimed leases: {e}"
                );
            }
            loop {
                match engine.reclaim(batch).await {
                    Ok(n) if n == batch as usize => continue,
                    Ok(_) => break,
                    Err(e) => {
                        warn!("ALLOC_ENGINE_V6_LEASES_RECLAMATION_FAILED reclaiming expired leases: {e}");
                        break;
                    }
                }
            }
        }
        if let Err(e) = engine.recount().await {
            debug!("DHCP6_RECOUNT_FAILED recounting assigned leases: {e}");
        }
    }
}

async fn receive_loop(
    fd: Arc<UdpSocket>,
    iface: String,
    index: u32,
    engine: Engine6,
    mut stop: watch::Receiver<bool>,
    in_flight: Arc<Semaphore>,
) {
    let mut buf = vec![0u8; 65536];
    loop {
        let env = tokio::select! {
            _ = stop.changed() => return,
            r = fd.async_io(Interest::READABLE, || net::recv(&*fd, &mut buf)) => match r {
                Ok(env) => env,
                Err(e) => {
                    warn!("DHCP6_BUFFER_RECEIVE_FAIL error on interface {iface}: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let stats = engine.stats().clone();
        bump(&stats.received);
        // Under load, new conversations (SOLICITs) yield to the ones under way: a
        // SOLICIT whose REQUEST would be dropped later is wasted work.
        if in_flight.available_permits() < MAX_IN_FLIGHT / 4
            && buf.first() == Some(&crate::v6::wire::msg::SOLICIT)
        {
            bump(&stats.queue_full);
            bump(&stats.receive_drop);
            continue;
        }
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            bump(&stats.queue_full);
            bump(&stats.receive_drop);
            debug!(
                "DHCP6_PACKET_QUEUE_FULL dropping a packet from {}: too many in progress",
                env.src
            );
            continue;
        };
        let data = buf[..env.len].to_vec();
        let ingress = Ingress6 {
            iface: iface.clone(),
            src: env.src,
            multicast: env.dst.is_multicast(),
        };
        let (engine, fd) = (engine.clone(), fd.clone());
        tokio::spawn(async move {
            let _permit = permit;
            if let Some((bytes, to)) = engine.handle(&data, &ingress).await {
                // Link-local destinations need the interface as their scope.
                let to = if is_link_local(to.ip()) && to.scope_id() == 0 {
                    SocketAddrV6::new(*to.ip(), to.port(), 0, index)
                } else {
                    to
                };
                if let Err(e) = fd.send_to(&bytes, to).await {
                    warn!(
                        "DHCP6_PACKET_SEND_FAIL failed to send a response to {to} on {}: {e}",
                        ingress.iface
                    );
                }
            }
        });
    }
}

fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}
