//! The running d2, one module per job:
//!
//! * `intake`: the UDP receiver and the queue writer (every valid NCR is in the
//!   store's queue before anything else happens), and LISTEN for NCRs queued by others.
//! * `scheduler`: which claimed NCR runs when (slots, one per FQDN, claim-ahead,
//!   batched recording, backoff), pure; `worker` drives it with the store's
//!   bookkeeping round trips and the running transactions.
//! * `driver`: one NCR's RFC 4703 transaction over the DNS exchange, and its outcome
//!   and log lines.
//! * `upkeep`: claim renewal (heartbeat), stale claims taken back, old rows purged.
//! * `keys`: TSIG keys and domains from `DhcpDdns`, checked at start.
//!
//! [`D2Service`] wires them on one shared `runtime::Runtime`.

mod driver;
mod error;
mod intake;
mod keys;
mod options;
mod runtime;
mod scheduler;
mod upkeep;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tern_config::DhcpDdns;
use tern_store::Store;
use tokio::net::UdpSocket;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use self::error::D2Error;
pub use self::intake::INTAKE_BATCH;
pub use self::options::D2Options;
use self::runtime::Runtime;
use crate::stats::D2Stats;

/// Starts d2.
pub struct D2Service;

/// A running d2.
pub struct D2Handle {
    stats: Arc<D2Stats>,
    local_addr: SocketAddr,
    receive_buffer: usize,
    stop: watch::Sender<bool>,
    intake: JoinHandle<()>,
    worker: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
}

impl D2Service {
    /// Starts d2 on `config` with default [`D2Options`].
    pub async fn start(config: &DhcpDdns, store: Store) -> Result<D2Handle, D2Error> {
        Self::start_with(config, store, D2Options::from_env()).await
    }

    /// Checks what [`D2Service::start`] would refuse (keys, secret files, domains)
    /// without binding anything: a reconfiguration checks before it stops the running d2.
    pub fn validate(config: &DhcpDdns) -> Result<(), D2Error> {
        keys::resolve(config).map(|_| ())
    }

    /// Starts d2: binds the NCR socket, then runs intake, worker and upkeep tasks.
    pub async fn start_with(
        config: &DhcpDdns,
        store: Store,
        options: D2Options,
    ) -> Result<D2Handle, D2Error> {
        let domains = keys::resolve(config)?;
        let addr = SocketAddr::new(config.ip_address, config.port);
        if !config.ip_address.is_loopback() {
            warn!("DHCP_DDNS_NOT_ON_LOOPBACK NCRs are taken on {addr}, not a loopback address: anyone who can reach it can ask for DNS changes");
        }
        let socket = UdpSocket::bind(addr)
            .await
            .map_err(|source| D2Error::Bind { addr, source })?;
        let local_addr = socket.local_addr().unwrap_or(addr);
        let rcvbuf = intake::enlarge_receive_buffer(&socket);
        let rt = Arc::new(Runtime::new(
            domains,
            Duration::from_millis(u64::from(config.dns_server_timeout)),
            &store,
            options,
        ));
        let stats = rt.stats.clone();
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let intake = tokio::spawn(intake::run(
            rt.clone(),
            socket,
            stopped.clone(),
            wake.clone(),
        ));
        let background = vec![
            tokio::spawn(intake::listen(rt.clone(), wake.clone())),
            tokio::spawn(upkeep::run(rt.clone(), wake.clone())),
        ];
        let worker = tokio::spawn(worker::run(rt.clone(), stopped, wake));
        info!(
            "DHCP_DDNS_STARTED d2 listening for NCRs on {local_addr} (UDP, receive buffer {} KiB), worker {}, {} forward and {} reverse domains",
            rcvbuf / 1024,
            rt.worker,
            rt.forward.len(),
            rt.reverse.len()
        );
        Ok(D2Handle {
            stats,
            local_addr,
            receive_buffer: rcvbuf,
            stop,
            intake,
            worker,
            background,
        })
    }
}

impl D2Handle {
    /// The statistics.
    pub fn stats(&self) -> Arc<D2Stats> {
        self.stats.clone()
    }

    /// Where NCRs are received.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The NCR socket's receive buffer in bytes, as the kernel reports it.
    pub fn receive_buffer(&self) -> usize {
        self.receive_buffer
    }

    /// Stops taking NCRs, lets running transactions finish, leaves the rest queued.
    pub async fn shutdown(self) {
        info!("DHCP_DDNS_QUEUE_MGR_STOPPING d2 stopping: finishing running transactions");
        let _ = self.stop.send(true);
        let _ = self.intake.await;
        let _ = self.worker.await;
        for t in self.background {
            t.abort();
            let _ = t.await;
        }
        info!("DHCP_DDNS_QUEUE_MGR_STOPPED d2 stopped");
    }
}
