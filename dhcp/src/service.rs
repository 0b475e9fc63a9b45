//! The running DHCPv4 service: a receive loop per socket, a task per packet (bounded),
//! clean shutdown.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use tern_store::{lease4, Store};
use thiserror::Error;
use tokio::net::UdpSocket;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::config::{ConfigError, ServerConfig};
use crate::decide::{Destination, Ingress};
use crate::engine::Engine;
use crate::net::{self, Listener};
use crate::stats::{bump, Stats, SubnetStats};

/// Packets processed at once; beyond this, packets are dropped (`pkt4-receive-drop`)
/// rather than queued without bound. 256 rides out perfdhcp's (and a network's) bursts
/// at thousands of exchanges per second, while waiting stays a few batches short (64
/// dropped 16 % at 8000 DORA/s offered where 256 drops 5 %: bench/README.md).
const MAX_IN_FLIGHT: usize = 256;

/// Why the service cannot start.
#[derive(Debug, Error)]
pub enum Error {
    /// The configuration cannot be served.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Sockets.
    #[error("DHCPv4 sockets: {0}")]
    Io(#[from] io::Error),
    /// The store.
    #[error(transparent)]
    Store(#[from] tern_store::Error),
    /// A port override is not a port.
    #[error("{0}")]
    Port(String),
}

/// UDP ports: 67 and 68 unless overridden with the environment variables
/// `TERN_DHCP4_SERVER_PORT` and `TERN_DHCP4_CLIENT_PORT` (for tests and benchmarks,
/// as Kea's `-p` and `-P`; Kea files stay unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// Where the server listens and relays are answered.
    pub server: u16,
    /// Where clients are answered.
    pub client: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            server: 67,
            client: 68,
        }
    }
}

impl Ports {
    /// The defaults with the environment's overrides.
    pub fn from_env() -> Result<Ports, Error> {
        let var = |name: &str, default: u16| -> Result<u16, Error> {
            match std::env::var(name) {
                Ok(v) if !v.is_empty() => v
                    .parse()
                    .map_err(|_| Error::Port(format!("{name}={v} is not a UDP port"))),
                _ => Ok(default),
            }
        };
        Ok(Ports {
            server: var("TERN_DHCP4_SERVER_PORT", 67)?,
            client: var("TERN_DHCP4_CLIENT_PORT", 68)?,
        })
    }
}

/// The DHCPv4 service.
pub struct Dhcp4Service;

/// A running service.
pub struct Dhcp4Handle {
    engine: Engine,
    stats: Arc<Stats>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    in_flight: Arc<Semaphore>,
    listening: Vec<(String, Ipv4Addr)>,
}

impl Dhcp4Service {
    /// Resolves the configuration, opens the sockets `interfaces-config` names and
    /// starts serving.
    pub async fn start(config: &tern_config::Dhcp4, store: Store) -> Result<Dhcp4Handle, Error> {
        Self::start_counting(config, store, Arc::default()).await
    }

    /// As [`Dhcp4Service::start`], counting into `stats`: a reconfiguration hands over
    /// the previous server's, so the `pkt4-*` counters go on (per-subnet statistics
    /// start again from the new subnets, as Kea's do).
    pub async fn start_counting(
        config: &tern_config::Dhcp4,
        store: Store,
        stats: Arc<Stats>,
    ) -> Result<Dhcp4Handle, Error> {
        let cfg = ServerConfig::from_config(config)?;
        let ports = Ports::from_env()?;
        let listeners = net::open(&cfg.interfaces, ports.server)?;
        Self::launch(cfg, store, listeners, ports, stats).await
    }

    /// Starts serving on sockets opened by the caller (e.g. inside another network
    /// namespace).
    pub async fn start_with(
        cfg: ServerConfig,
        store: Store,
        listeners: Vec<Listener>,
        ports: Ports,
    ) -> Result<Dhcp4Handle, Error> {
        Self::launch(cfg, store, listeners, ports, Arc::default()).await
    }

    async fn launch(
        cfg: ServerConfig,
        store: Store,
        listeners: Vec<Listener>,
        ports: Ports,
        stats: Arc<Stats>,
    ) -> Result<Dhcp4Handle, Error> {
        stats.clear_subnets();
        {
            let mut conn = store
                .pool()
                .acquire()
                .await
                .map_err(tern_store::Error::from)?;
            for s in &cfg.subnets {
                let (assigned, declined) = lease4::count_active(&mut conn, s.id).await?;
                stats.set_subnet(
                    s.id,
                    SubnetStats {
                        total_addresses: s.total_addresses() as i64,
                        assigned_addresses: assigned as i64,
                        declined_addresses: declined as i64,
                        reclaimed_leases: 0,
                        reclaimed_declined: 0,
                    },
                );
            }
        }
        if listeners.is_empty() {
            warn!("DHCP4_NO_SOCKETS_OPEN no interface to listen on: the DHCPv4 server will not receive anything");
        }
        let (interval, batch) = (cfg.reclaim_interval, cfg.max_reclaim_leases.max(1));
        let engine = Engine::start(
            Arc::new(cfg),
            store,
            stats.clone(),
            crate::engine::CommitSettings::from_env(),
        )
        .await?;
        let (stop, stop_rx) = watch::channel(false);
        let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut tasks = Vec::new();
        let mut listening = Vec::new();
        for l in listeners {
            listening.push((l.iface.clone(), l.addr));
            let socket = Arc::new(UdpSocket::from_std(l.socket)?);
            let ingress = Ingress {
                iface: l.iface,
                addr: l.addr,
            };
            tasks.push(tokio::spawn(receive_loop(
                socket,
                ingress,
                engine.clone(),
                ports,
                stop_rx.clone(),
                in_flight.clone(),
            )));
        }
        tasks.push(tokio::spawn(recount_loop(engine.clone(), stop_rx.clone())));
        if interval > 0 {
            tasks.push(tokio::spawn(reclaim_loop(
                engine.clone(),
                Duration::from_secs(interval.into()),
                batch,
                stop_rx.clone(),
            )));
        }
        info!(
            "DHCP4_STARTED DHCPv4 server started on {} interface(s), server port {}",
            listening.len(),
            ports.server
        );
        Ok(Dhcp4Handle {
            engine: engine.clone(),
            stats,
            stop,
            tasks,
            in_flight,
            listening,
        })
    }
}

impl Dhcp4Handle {
    /// The statistics, live.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// (interface, address) pairs listened on.
    pub fn listening(&self) -> &[(String, Ipv4Addr)] {
        &self.listening
    }

    /// Stops receiving and waits for the packets in progress.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        // Every permit back means every packet task has finished.
        let _ = self.in_flight.acquire_many(MAX_IN_FLIGHT as u32).await;
        self.engine.stop().await;
        info!("DHCP4_SHUTDOWN DHCPv4 server stopped");
    }
}

/// Reclaims expired leases every `every`, in batches of `batch`.
async fn reclaim_loop(
    engine: Engine,
    every: Duration,
    batch: u32,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = engine.flush_reclaimed().await {
            warn!("ALLOC_ENGINE_V4_RECLAIMED_LEASES_DELETE_FAILED deleting reclaimed leases: {e}");
        }
        loop {
            match engine.reclaim(batch).await {
                Ok(n) if n == batch as usize => continue,
                Ok(_) => break,
                Err(e) => {
                    warn!(
                        "ALLOC_ENGINE_V4_LEASES_RECLAMATION_FAILED reclaiming expired leases: {e}"
                    );
                    break;
                }
            }
        }
    }
}

/// How often the address gauges are recounted from the lease table.
const RECOUNT_EVERY: Duration = Duration::from_secs(30);

/// Recounts the address gauges every [`RECOUNT_EVERY`]: what other writers of the
/// lease table did (another appliance, the API, SQL) shows within that time.
async fn recount_loop(engine: Engine, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(RECOUNT_EVERY) => {}
        }
        if let Err(e) = engine.recount().await {
            debug!("DHCP4_RECOUNT_FAILED recounting assigned addresses: {e}");
        }
    }
}

/// Whether a datagram carries option 53 = DHCPDISCOVER (a quick look, no decoding).
fn is_discover(buf: &[u8]) -> bool {
    let mut i = 240;
    while i + 1 < buf.len() {
        match buf[i] {
            0 => i += 1,
            255 => return false,
            53 => return buf.get(i + 2) == Some(&1),
            _ => i += 2 + usize::from(buf[i + 1]),
        }
    }
    false
}

/// Packets dropped because too many are in progress are counted in
/// `pkt4-receive-drop`; operators also get one warning per interval, not one per packet,
/// so a sustained overload is visible at the default log level without flooding it. The
/// first drop after a quiet interval is reported at once; the drops after it are summed
/// and reported when the interval ends ([`OverloadWarning::flush`]), so a burst that
/// stops is still counted in full.
#[derive(Default)]
struct OverloadWarning {
    since_last: u64,
    last: Option<std::time::Instant>,
}

impl OverloadWarning {
    const INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

    fn dropped(&mut self) {
        self.since_last += 1;
        if self.last.is_none_or(|t| t.elapsed() >= Self::INTERVAL) {
            self.report();
        }
    }

    /// Called every [`Self::INTERVAL`]: reports the drops not reported yet.
    fn flush(&mut self) {
        if self.since_last > 0 {
            self.report();
        }
    }

    fn report(&mut self) {
        warn!(
            "DHCP4_PACKET_QUEUE_FULL dropped {} packet(s) since the last report: more requests than the store commits (see pkt4-receive-drop)",
            self.since_last
        );
        self.since_last = 0;
        self.last = Some(std::time::Instant::now());
    }
}

async fn receive_loop(
    socket: Arc<UdpSocket>,
    ingress: Ingress,
    engine: Engine,
    ports: Ports,
    mut stop: watch::Receiver<bool>,
    in_flight: Arc<Semaphore>,
) {
    let ingress = Arc::new(ingress);
    let mut overload = OverloadWarning::default();
    let mut report = tokio::time::interval(OverloadWarning::INTERVAL);
    report.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = tokio::select! {
            _ = stop.changed() => {
                overload.flush();
                return;
            }
            _ = report.tick() => {
                overload.flush();
                continue;
            }
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    warn!("DHCP4_BUFFER_RECEIVE_FAIL error on interface {}: {e}", ingress.iface);
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        bump(&engine.stats().received);
        // Under load, new conversations (DISCOVERs) yield to the ones under way: a
        // DISCOVER whose REQUEST would be dropped later is wasted work.
        if in_flight.available_permits() < MAX_IN_FLIGHT / 4 && is_discover(&buf[..n]) {
            bump(&engine.stats().receive_drop);
            overload.dropped();
            continue;
        }
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            bump(&engine.stats().receive_drop);
            overload.dropped();
            debug!("DHCP4_PACKET_QUEUE_FULL dropping a packet from {from}: too many in progress");
            continue;
        };
        let data = buf[..n].to_vec();
        let (engine, socket, ingress) = (engine.clone(), socket.clone(), ingress.clone());
        // A panic in one packet's task ends that task only.
        tokio::spawn(async move {
            let _permit = permit;
            debug!(
                "DHCP4_BUFFER_RECEIVED received {n} bytes from {from} on interface {}",
                ingress.iface
            );
            if let Some((bytes, dest)) = engine.handle(&data, &ingress).await {
                let to = match dest {
                    Destination::Relay(a) => SocketAddrV4::new(a, ports.server),
                    Destination::Unicast(a) => SocketAddrV4::new(a, ports.client),
                    Destination::Broadcast => SocketAddrV4::new(Ipv4Addr::BROADCAST, ports.client),
                };
                if let Err(e) = socket.send_to(&bytes, to).await {
                    warn!(
                        "DHCP4_PACKET_SEND_FAIL failed to send a response to {to} on {}: {e}",
                        ingress.iface
                    );
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_are_recognised_without_decoding() {
        let mut p = vec![0u8; 240];
        p.extend([0, 12, 2, b'h', b'i', 53, 1, 1, 255]);
        assert!(is_discover(&p));
        p[247] = 3;
        assert!(!is_discover(&p));
        assert!(!is_discover(&p[..245]));
        assert!(!is_discover(&[0u8; 10]));
        let mut truncated = vec![0u8; 240];
        truncated.extend([12, 200]);
        assert!(!is_discover(&truncated));
    }

    #[test]
    fn ports_default_to_67_and_68() {
        assert_eq!(
            Ports::default(),
            Ports {
                server: 67,
                client: 68
            }
        );
    }
}
