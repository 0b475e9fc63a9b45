//! The running d2.
//!
//! * **Intake**: one UDP socket on DhcpDdns `ip-address:port` takes Kea's NCR
//!   datagrams (2-byte length + JSON); each valid NCR is written to the store's
//!   queue (`tern.ncr_queue`) before anything else happens; d2 never replies.
//!   A receiver drains the socket into memory while a writer queues what has
//!   arrived meanwhile in one durable statement (up to [`INTAKE_BATCH`]), so a
//!   burst waits in d2 during a commit instead of overflowing the socket buffer.
//! * **Worker**: claims due NCRs (woken by intake or LISTEN `tern_ncr`, else by a
//!   poll), a batch ahead of its free slots, and runs up to `max_in_flight`
//!   transactions at once; the claim guarantees one per FQDN; a stop gives back what
//!   was claimed but not started. Each transaction drives the pure [`Transaction`]
//!   machine with [`client::exchange_with`] (sockets reused per server). Outcomes
//!   go back to the queue in batches, with the next claim, over a bookkeeping
//!   connection that commits asynchronously ([`ncr_queue::Bookkeeping`]): done,
//!   conflict, failed (with the reason), or pending again with exponential
//!   backoff when no server of a domain answered — an outage delays DNS, it never
//!   drops an update.
//! * **Upkeep**: renews the lease on the rows this d2 holds, takes back rows whose
//!   holder stopped renewing (killed process, other appliance), and deletes
//!   finished rows after the retention time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::Name;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tern_config::{DdnsDomain, DhcpDdns, TsigSecret};
use tern_ncr::{ChangeType, NameChangeRequest};
use tern_store::ncr_queue::{self, Finish, NcrOutcome, NcrSource, QueuedNcr};
use tern_store::Store;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, error, info, warn};

use tern_dnsmsg::client::{self, ExchangeError, SocketPool};
use tern_dnsmsg::tsig::{Secret, TsigKey};

use crate::domains::match_domain;
use crate::stats::{D2Stats, ExchangeResult};
use crate::transaction::messages::UpdateParams;
use crate::transaction::{Action, Direction, Event, Outcome, Transaction, Zone};

/// Why d2 could not start.
#[derive(Debug, thiserror::Error)]
pub enum D2Error {
    /// The NCR socket could not be opened.
    #[error("DHCP_DDNS_QUEUE_MGR_START_ERROR cannot listen for NCRs on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A TSIG key could not be used.
    #[error("TSIG key {name}: {reason}")]
    Key {
        /// Key name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A domain name is not a DNS name.
    #[error("ddns-domain {name}: {reason}")]
    Domain {
        /// Domain name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Knobs that Kea's configuration does not have.
#[derive(Debug, Clone)]
pub struct D2Options {
    /// Transactions running at once (at most one per FQDN). 32: a record batch more
    /// are claimed ahead, so a finished slot is refilled at once and every slot is busy;
    /// more outstanding UPDATEs only queue at BIND and slow it (bench/README.md,
    /// `d2_rounds.sh` 2026-12-05: median 85 % of BIND's ceiling with 32, 69 % with 64).
    pub max_in_flight: usize,
    /// Results recorded, and NCRs claimed, per queue round trip (0: half of
    /// `max_in_flight`, 16 by default). Half, not a quarter: fewer round trips leave
    /// BIND more of the shared CPU (bench/README.md, `d2_bracket.sh` 2026-12-06:
    /// median 96 % of BIND's ceiling with 16, 91 % with 8, 8 alternating rounds each).
    pub record_batch: usize,
    /// Durable intake commits start at most this often; NCRs arriving meanwhile wait
    /// and go in the next one. Each commit is an fsync, on the disk where BIND fsyncs
    /// its journal once per UPDATE: at 1,000 NCR/s, committing whatever had arrived
    /// (2-3 NCRs) added ~400 fsyncs/s to BIND's 2,000 and slowed it. 10 ms: at most
    /// 100 a second, at most 10 ms more latency, none for an NCR arriving alone.
    pub intake_gather: Duration,
    /// Queue poll when no notification comes.
    pub poll_interval: Duration,
    /// How long a claimed row stays ours without renewal; after that another d2
    /// (or this one after a restart) takes it back.
    pub claim_lease: Duration,
    /// First retry delay when no server answered; doubles per attempt.
    pub backoff_min: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Finished rows are deleted after this long.
    pub retention: Duration,
    /// Identity of this d2 in `claimed_by` (default host:pid:nonce).
    pub worker_id: Option<String>,
    /// Counters to keep counting in (a reconfiguration keeps Kea's statistics going);
    /// fresh ones when `None`.
    pub stats: Option<Arc<D2Stats>>,
}

impl Default for D2Options {
    fn default() -> Self {
        D2Options {
            max_in_flight: 32,
            record_batch: 0,
            intake_gather: Duration::from_millis(10),
            poll_interval: Duration::from_secs(1),
            claim_lease: Duration::from_secs(30),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            retention: Duration::from_secs(7 * 86400),
            worker_id: None,
            stats: None,
        }
    }
}

impl D2Options {
    /// The defaults, with the tuning and benchmark knobs `TERN_D2_MAX_IN_FLIGHT` (how
    /// many transactions run at once), `TERN_D2_RECORD_BATCH` (results and claims per
    /// round trip) and `TERN_D2_INTAKE_GATHER_MS` (0: commit what has arrived at once)
    /// when set.
    pub fn from_env() -> Self {
        let mut o = D2Options::default();
        let knob = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        if let Some(n) = knob("TERN_D2_MAX_IN_FLIGHT").filter(|n| *n > 0) {
            o.max_in_flight = n as usize;
        }
        if let Some(n) = knob("TERN_D2_RECORD_BATCH") {
            o.record_batch = n as usize;
        }
        if let Some(ms) = knob("TERN_D2_INTAKE_GATHER_MS") {
            o.intake_gather = Duration::from_millis(ms);
        }
        o
    }
}

/// One DNS server as d2 uses it.
#[derive(Debug, Clone)]
struct Server {
    addr: SocketAddr,
    key: Option<Arc<TsigKey>>,
    key_name: Option<String>,
}

/// One ddns-domain with its servers resolved.
#[derive(Debug, Clone)]
struct Domain {
    name: String,
    zone: Name,
    servers: Vec<Server>,
}

struct Runtime {
    forward: Vec<Domain>,
    reverse: Vec<Domain>,
    timeout: Duration,
    stats: Arc<D2Stats>,
    pool: PgPool,
    options: D2Options,
    worker: String,
    /// Queue ids claimed here whose result is not recorded yet (running, or
    /// finished and waiting for the next batch): the only claims the heartbeat renews.
    in_flight: std::sync::Mutex<std::collections::HashSet<i64>>,
    /// UDP sockets to DNS servers, reused across exchanges.
    sockets: SocketPool,
    /// Connections for recording results and claiming (asynchronous commits).
    bookkeeping: ncr_queue::Bookkeeping,
    /// Intake's own connection (durable commits), and its backend's PID: intake
    /// wakes the worker itself, so the notification its INSERT causes is skipped
    /// rather than costing a second, empty claim.
    intake_pool: PgPool,
    intake_pid: Arc<std::sync::atomic::AtomicU32>,
}

impl Runtime {
    fn in_flight(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<i64>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// NCRs queued by one intake statement at most.
pub const INTAKE_BATCH: usize = 1024;
/// NCRs received but not yet queued, at most: beyond this the receiver waits and
/// the socket buffer takes the rest.
const INTAKE_BACKLOG: usize = 65536;

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
        let keys = load_keys(config)?;
        resolve_domains(&config.forward_ddns, &keys)?;
        resolve_domains(&config.reverse_ddns, &keys)?;
        Ok(())
    }

    /// Starts d2: binds the NCR socket, then runs intake, worker and upkeep tasks.
    pub async fn start_with(
        config: &DhcpDdns,
        store: Store,
        options: D2Options,
    ) -> Result<D2Handle, D2Error> {
        let keys = load_keys(config)?;
        let forward = resolve_domains(&config.forward_ddns, &keys)?;
        let reverse = resolve_domains(&config.reverse_ddns, &keys)?;
        let addr = SocketAddr::new(config.ip_address, config.port);
        if !config.ip_address.is_loopback() {
            warn!("DHCP_DDNS_NOT_ON_LOOPBACK NCRs are taken on {addr}, not a loopback address: anyone who can reach it can ask for DNS changes");
        }
        let socket = UdpSocket::bind(addr)
            .await
            .map_err(|source| D2Error::Bind { addr, source })?;
        let local_addr = socket.local_addr().unwrap_or(addr);
        let rcvbuf = enlarge_receive_buffer(&socket);
        let worker = options.worker_id.clone().unwrap_or_else(default_worker_id);
        let stats = options.stats.clone().unwrap_or_default();
        let intake_pid = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let pid = intake_pid.clone();
        let intake_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                let pid = pid.clone();
                Box::pin(async move {
                    let p: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                        .fetch_one(conn)
                        .await?;
                    pid.store(p as u32, std::sync::atomic::Ordering::Relaxed);
                    Ok(())
                })
            })
            .connect_lazy_with((*store.pool().connect_options()).clone());
        let rt = Arc::new(Runtime {
            forward,
            reverse,
            timeout: Duration::from_millis(u64::from(config.dns_server_timeout)),
            stats: stats.clone(),
            pool: store.pool().clone(),
            options,
            worker,
            in_flight: Default::default(),
            sockets: SocketPool::default(),
            bookkeeping: ncr_queue::Bookkeeping::new(store.pool(), 2),
            intake_pool,
            intake_pid,
        });
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let intake = tokio::spawn(intake(rt.clone(), socket, stopped.clone(), wake.clone()));
        let background = vec![
            tokio::spawn(listen(rt.clone(), wake.clone())),
            tokio::spawn(upkeep(rt.clone(), wake.clone())),
        ];
        let worker = tokio::spawn(work(rt.clone(), stopped, wake));
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

/// A burst of NCRs must wait in the kernel, not be dropped there, until the
/// receiver takes it: ask for a large receive buffer (root may exceed
/// `net.core.rmem_max` with SO_RCVBUFFORCE; others get what the limit allows).
/// 10,000 NCRs of ~400 bytes take ~13 MB of kernel memory (skb overhead included).
/// Returns the size obtained (as the kernel reports it).
fn enlarge_receive_buffer(socket: &UdpSocket) -> usize {
    use std::os::fd::AsRawFd;
    const WANTED: libc::c_int = 32 << 20;
    let fd = socket.as_raw_fd();
    let set = |option: libc::c_int| {
        // SAFETY: setsockopt on a socket we own, with a pointer to a live c_int and its size.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                option,
                (&WANTED as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        }
    };
    if set(libc::SO_RCVBUFFORCE) != 0 && set(libc::SO_RCVBUF) != 0 {
        debug!(
            "DHCP_DDNS_QUEUE_MGR_RECV_BUFFER cannot enlarge the NCR socket's receive buffer: {}",
            std::io::Error::last_os_error()
        );
    }
    let mut got: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt on a socket we own, into a live c_int with its size.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut got as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    let got = if rc == 0 { got.max(0) as usize } else { 0 };
    if got < WANTED as usize {
        warn!(
            "DHCP_DDNS_QUEUE_MGR_RECV_BUFFER the NCR socket's receive buffer is {} KiB (asked for {} KiB; raise net.core.rmem_max or run as root): a burst of NCRs larger than that may be dropped by the kernel",
            got / 1024,
            WANTED / 1024
        );
    }
    got
}

fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "d2".to_owned());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{host}:{}:{nonce:08x}", std::process::id())
}

fn load_keys(config: &DhcpDdns) -> Result<Vec<(String, Arc<TsigKey>)>, D2Error> {
    let mut out = Vec::new();
    for k in &config.tsig_keys {
        let secret = match &k.secret {
            TsigSecret::Bytes(b) => Secret::Bytes(b),
            TsigSecret::File(p) => Secret::File(p),
        };
        let key =
            TsigKey::from_kea(&k.name, k.algorithm.name(), k.digest_bits, secret).map_err(|e| {
                D2Error::Key {
                    name: k.name.clone(),
                    reason: e.to_string(),
                }
            })?;
        out.push((k.name.clone(), Arc::new(key)));
    }
    Ok(out)
}

fn resolve_domains(
    domains: &[DdnsDomain],
    keys: &[(String, Arc<TsigKey>)],
) -> Result<Vec<Domain>, D2Error> {
    let find = |name: &str| {
        keys.iter()
            .find(|(n, _)| {
                n.trim_end_matches('.')
                    .eq_ignore_ascii_case(name.trim_end_matches('.'))
            })
            .map(|(_, k)| k.clone())
    };
    domains
        .iter()
        .map(|d| {
            let zone_text = if d.name.trim() == "*" { "." } else { &d.name };
            let mut zone = Name::from_ascii(zone_text).map_err(|e| D2Error::Domain {
                name: d.name.clone(),
                reason: e.to_string(),
            })?;
            zone.set_fqdn(true);
            let servers = d
                .dns_servers
                .iter()
                .map(|s| {
                    let key_name = s.effective_key(d).map(str::to_owned);
                    Server {
                        addr: SocketAddr::new(s.ip_address, s.port),
                        key: key_name.as_deref().and_then(find),
                        key_name,
                    }
                })
                .collect();
            Ok(Domain {
                name: d.name.clone(),
                zone,
                servers,
            })
        })
        .collect()
}

/// Receives NCR datagrams and queues them: the receiver runs on its own task and
/// hands parsed NCRs to the writer, which queues all that arrived during its last
/// commit in one statement. Returns after a stop once every received NCR is queued.
async fn intake(
    rt: Arc<Runtime>,
    socket: UdpSocket,
    stopped: watch::Receiver<bool>,
    wake: Arc<Notify>,
) {
    let (tx, mut rx) = mpsc::channel::<NameChangeRequest>(INTAKE_BACKLOG);
    let receiver = tokio::spawn(receive(rt.clone(), socket, stopped, tx));
    let mut batch: Vec<NameChangeRequest> = Vec::with_capacity(INTAKE_BATCH);
    let gather = rt.options.intake_gather;
    let mut last_commit: Option<tokio::time::Instant> = None;
    // Ends when the receiver has stopped and everything it sent is queued.
    while rx.recv_many(&mut batch, INTAKE_BATCH).await > 0 {
        // Group commit: not sooner than `gather` after the last one began; what
        // arrives meanwhile joins this batch.
        if let Some(due) = last_commit.map(|t| t + gather) {
            if due > tokio::time::Instant::now() && batch.len() < INTAKE_BATCH {
                tokio::time::sleep_until(due).await;
                while batch.len() < INTAKE_BATCH {
                    match rx.try_recv() {
                        Ok(ncr) => batch.push(ncr),
                        Err(_) => break,
                    }
                }
            }
        }
        last_commit = Some(tokio::time::Instant::now());
        queue_batch(&rt, &batch).await;
        batch.clear();
        wake.notify_one();
    }
    let _ = receiver.await;
}

/// Takes NCR datagrams off the socket until stopped.
async fn receive(
    rt: Arc<Runtime>,
    socket: UdpSocket,
    mut stopped: watch::Receiver<bool>,
    tx: mpsc::Sender<NameChangeRequest>,
) {
    let mut buf = vec![0u8; 65536];
    loop {
        let r = tokio::select! {
            _ = stopped.changed() => return,
            r = socket.recv_from(&mut buf) => r,
        };
        match r {
            Ok((n, from)) => match NameChangeRequest::from_datagram(&buf[..n]) {
                Ok(ncr) => {
                    debug!(
                        "DHCP_DDNS_QUEUE_MGR_QUEUE_RECEIVE NCR from {from} for {} ({})",
                        ncr.fqdn,
                        ncr.change_type.kea_name()
                    );
                    if tx.send(ncr).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    D2Stats::inc(&rt.stats.ncr_invalid);
                    warn!("DHCP_DDNS_INVALID_NCR dropped an invalid NCR from {from}: {e}");
                }
            },
            Err(e) => {
                D2Stats::inc(&rt.stats.ncr_error);
                error!("DHCP_DDNS_QUEUE_MGR_RECV_ERROR receiving an NCR failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Queues received NCRs; retries while the database is away (the datagrams are
/// already taken from the socket, so this is where they must not be lost).
async fn queue_batch(rt: &Runtime, batch: &[NameChangeRequest]) {
    let mut delay = Duration::from_millis(100);
    for attempt in 1.. {
        let result = async {
            let mut conn = rt.intake_pool.acquire().await?;
            ncr_queue::enqueue_batch(&mut conn, batch, NcrSource::Udp).await
        }
        .await;
        match result {
            Ok(ids) => {
                rt.stats
                    .ncr_received
                    .fetch_add(ids.len() as u64, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            Err(e) if attempt < 5 => {
                warn!("DHCP_DDNS_QUEUE_MGR_QUEUE_FULL cannot queue {} NCR(s) yet (try {attempt}): {e}", batch.len());
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                rt.stats
                    .ncr_error
                    .fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
                for ncr in batch {
                    error!(
                        "DHCP_DDNS_REQUEST_DROPPED NCR for {} ({}) dropped: cannot queue it: {e}",
                        ncr.fqdn,
                        ncr.change_type.kea_name()
                    );
                }
                return;
            }
        }
    }
}

/// LISTEN tern_ncr: every notification but our own intake's wakes the worker.
async fn listen(rt: Arc<Runtime>, wake: Arc<Notify>) {
    loop {
        match PgListener::connect_with(&rt.pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(tern_store::NCR_CHANNEL).await {
                    warn!(
                        "DHCP_DDNS_QUEUE_LISTEN_ERROR LISTEN {}: {e}",
                        tern_store::NCR_CHANNEL
                    );
                } else {
                    loop {
                        match listener.recv().await {
                            Ok(n)
                                if n.process_id()
                                    == rt.intake_pid.load(std::sync::atomic::Ordering::Relaxed) => {
                            }
                            Ok(_) => wake.notify_one(),
                            Err(e) => {
                                warn!("DHCP_DDNS_QUEUE_LISTEN_ERROR notifications lost ({e}); polling until they are back");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => warn!("DHCP_DDNS_QUEUE_LISTEN_ERROR cannot LISTEN: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Lease renewal, stale claims taken back, old outcomes deleted.
async fn upkeep(rt: Arc<Runtime>, wake: Arc<Notify>) {
    let every = (rt.options.claim_lease / 3).max(Duration::from_millis(100));
    let mut tick = tokio::time::interval(every);
    let mut last_purge: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        let ids: Vec<i64> = {
            let set = rt.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            set.iter().copied().collect()
        };
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

/// One bookkeeping round trip running beside the worker: the results it records
/// (kept to retry them if it fails), how many NCRs it claims, and its answer.
type Trip = JoinHandle<(
    Vec<(i64, Finish)>,
    i64,
    tern_store::Result<ncr_queue::FinishAndClaim>,
)>;

/// Claims and runs transactions until stopped; then lets the running ones finish and
/// gives back what it claimed but had not started.
///
/// Results are recorded in batches (`record_batch`, or whatever
/// finished within 20 ms), together with the next claim: one round trip serves many
/// NCRs. That round trip runs beside the loop, and claims run a batch ahead of the
/// free slots (claimed NCRs wait in `ready`), so a finished transaction's slot is
/// refilled at once instead of after a batch and a round trip: BIND is kept as busy as
/// `max_in_flight` allows. Claims happen when something may be due: an announced NCR,
/// a poll, a full last claim, or a finished NCR whose FQDN has a later request waiting.
async fn work(rt: Arc<Runtime>, mut stopped: watch::Receiver<bool>, wake: Arc<Notify>) {
    type Tasks = std::collections::HashMap<tokio::task::Id, i64>;
    let mut running: JoinSet<(i64, Finish)> = JoinSet::new();
    let mut tasks: Tasks = Default::default();
    let mut ready: std::collections::VecDeque<QueuedNcr> = Default::default();
    let mut finished: Vec<(i64, Finish)> = Vec::new();
    let mut trip: Option<Trip> = None;
    let max = rt.options.max_in_flight.max(1);
    // Claim and record in batches: a round trip per finished transaction would make
    // the queue, not DNS, the limit under load.
    let refill = match rt.options.record_batch {
        0 => (max / 2).max(1),
        n => n.min(max),
    };
    // NCRs held at most: every slot, and a batch claimed ahead.
    let hold = max + refill;
    // Something may be due (new NCRs announced, a poll, a full claim last time).
    let mut maybe_due = true;
    // When the oldest result waiting for a batch must be recorded anyway.
    let mut flush_at: Option<tokio::time::Instant> = None;
    // After a failed round trip, the next waits until then.
    let mut hold_off: Option<tokio::time::Instant> = None;
    let mut record_failures = 0u32;
    let mut stopping = false;
    let collect = |r: Result<(tokio::task::Id, (i64, Finish)), tokio::task::JoinError>,
                   tasks: &mut Tasks,
                   finished: &mut Vec<(i64, Finish)>| match r {
        Ok((task, result)) => {
            tasks.remove(&task);
            finished.push(result);
        }
        Err(e) => {
            // A panicked transaction: its claim is no longer renewed, so the row is
            // taken back after the claim lease and tried again.
            if let Some(id) = tasks.remove(&e.id()) {
                rt.in_flight().remove(&id);
                error!("DHCP_DDNS_TRANSACTION_PANIC queue id {id}: {e}; queued again after the claim lease");
            }
        }
    };
    loop {
        if !stopping && *stopped.borrow() {
            stopping = true;
            if !running.is_empty() {
                info!(
                    "DHCP_DDNS_CLEARED_FOR_SHUTDOWN waiting for {} running transaction(s)",
                    running.len()
                );
            }
        }
        while let Some(r) = running.try_join_next_with_id() {
            collect(r, &mut tasks, &mut finished);
        }
        if stopping {
            // Claimed ahead but not started: back to the queue, due at once, so the
            // next d2 need not wait for the claim lease to run out.
            finished.extend(ready.drain(..).map(|q| {
                (
                    q.id,
                    Finish::RetryAfter {
                        reason: "d2 stopped before sending it; queued again".into(),
                        after: Duration::ZERO,
                    },
                )
            }));
        } else {
            while running.len() < max {
                let Some(q) = ready.pop_front() else { break };
                let rt = rt.clone();
                let id = q.id;
                let handle = running.spawn(async move { (id, run(&rt, q).await) });
                tasks.insert(handle.id(), id);
            }
        }
        if stopping && running.is_empty() && finished.is_empty() && trip.is_none() {
            break;
        }
        // Results wait for a batch (or 20 ms): recording them early gains nothing
        // for DNS, and one round trip per NCR is what the queue cannot afford.
        if finished.is_empty() {
            flush_at = None;
        } else if flush_at.is_none() {
            flush_at = Some(tokio::time::Instant::now() + Duration::from_millis(20));
        }
        let now = tokio::time::Instant::now();
        if trip.is_none() && hold_off.is_none_or(|t| t <= now) {
            hold_off = None;
            let room = hold.saturating_sub(running.len() + ready.len());
            let claim = !stopping && maybe_due && room >= refill;
            let flush = flush_at.is_some_and(|t| t <= now);
            let record = !finished.is_empty() && (flush || finished.len() >= refill || stopping);
            if claim || record {
                let limit = if claim { room as i64 } else { 0 };
                if claim {
                    // This claim takes everything due so far; news from now on
                    // (a wake, a poll) asks for another.
                    maybe_due = false;
                }
                let batch = std::mem::take(&mut finished);
                flush_at = None;
                let rt = rt.clone();
                trip = Some(tokio::spawn(async move {
                    let r = rt
                        .bookkeeping
                        .finish_and_claim(&batch, limit, &rt.worker)
                        .await;
                    (batch, limit, r)
                }));
            }
        }
        // Wait for news: a new NCR, a finished transaction (its slot to refill, its
        // result to record), the round trip's answer, a retry falling due, a stop.
        tokio::select! {
            _ = stopped.changed(), if !stopping => {}
            _ = wake.notified(), if !stopping => maybe_due = true,
            Some(r) = running.join_next_with_id(), if !running.is_empty() => {
                collect(r, &mut tasks, &mut finished);
            }
            done = async { trip.as_mut().expect("guarded").await }, if trip.is_some() => {
                trip = None;
                match done {
                    Ok((batch, limit, Ok(r))) => {
                        record_failures = 0;
                        forget(&rt, batch, &r.recorded);
                        // A full claim: more may be waiting; a finished FQDN's next
                        // request is due now too.
                        if limit > 0 && r.claimed.len() as i64 == limit {
                            maybe_due = true;
                        }
                        maybe_due |= r.successor_waiting;
                        let mut set = rt.in_flight();
                        for q in r.claimed {
                            set.insert(q.id);
                            ready.push_back(q);
                        }
                    }
                    Ok((mut batch, limit, Err(e))) => {
                        record_failures += 1;
                        warn!("DHCP_DDNS_QUEUE_CLAIM_ERROR cannot record {} result(s) and claim NCRs (try {record_failures}): {e}", batch.len());
                        if limit > 0 {
                            maybe_due = true;
                        }
                        if record_failures >= 5 {
                            // The rows stay in_progress, no longer renewed, so once
                            // their lease runs out they are queued again.
                            let mut set = rt.in_flight();
                            for (id, _) in batch.drain(..) {
                                set.remove(&id);
                                error!("DHCP_DDNS_QUEUE_UPDATE_ERROR cannot record the outcome of queue id {id}: {e}");
                            }
                            record_failures = 0;
                        }
                        batch.append(&mut finished);
                        finished = batch;
                        hold_off = Some(tokio::time::Instant::now() + Duration::from_millis(100));
                    }
                    Err(e) => {
                        // The round trip panicked: its results are lost to us; the
                        // rows run out of lease and are queued again.
                        error!("DHCP_DDNS_QUEUE_CLAIM_ERROR bookkeeping task failed: {e}");
                        maybe_due = true;
                        hold_off = Some(tokio::time::Instant::now() + Duration::from_millis(100));
                    }
                }
            }
            _ = tokio::time::sleep_until(flush_at.unwrap_or_else(tokio::time::Instant::now)), if flush_at.is_some() && trip.is_none() => {}
            _ = tokio::time::sleep_until(hold_off.unwrap_or_else(tokio::time::Instant::now)), if hold_off.is_some() && trip.is_none() => {}
            _ = tokio::time::sleep(rt.options.poll_interval), if !stopping => maybe_due = true,
            // Stopping with nothing running and nothing to record: the top ends the loop.
            else => {}
        }
    }
}

/// Drops recorded (or lost) ids from the heartbeat's set; warns about lost claims.
fn forget(rt: &Runtime, finished: Vec<(i64, Finish)>, recorded: &[i64]) {
    let recorded: std::collections::HashSet<i64> = recorded.iter().copied().collect();
    let mut set = rt.in_flight();
    for (id, _) in finished {
        set.remove(&id);
        if !recorded.contains(&id) {
            warn!("DHCP_DDNS_QUEUE_LOST_CLAIM queue id {id} was taken back before its outcome was recorded");
        }
    }
}

fn backoff(options: &D2Options, attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 16) as u32 - 1;
    options
        .backoff_min
        .saturating_mul(1 << exp)
        .min(options.backoff_max)
}

/// Runs one claimed NCR to its outcome (the worker records it).
async fn run(rt: &Runtime, q: QueuedNcr) -> Finish {
    let ncr = &q.ncr;
    let outcome = transact(rt, ncr).await;
    match outcome {
        Outcome::Done => {
            match ncr.change_type {
                ChangeType::Add => info!(
                    "DHCP_DDNS_ADD_SUCCEEDED request {} (queue id {}): added {} {} (forward {}, reverse {})",
                    ncr.request_id(), q.id, ncr.fqdn, ncr.ip_address, ncr.forward_change, ncr.reverse_change
                ),
                ChangeType::Remove => info!(
                    "DHCP_DDNS_REMOVE_SUCCEEDED request {} (queue id {}): removed {} {} (forward {}, reverse {})",
                    ncr.request_id(), q.id, ncr.fqdn, ncr.ip_address, ncr.forward_change, ncr.reverse_change
                ),
            }
            Finish::Outcome(NcrOutcome::Done)
        }
        Outcome::Conflict(reason) => {
            warn!(
                "{reason}; request {} (queue id {}) for {}",
                ncr.request_id(),
                q.id,
                ncr.fqdn
            );
            failed_line(ncr, q.id, &reason);
            Finish::Outcome(NcrOutcome::Conflict(reason))
        }
        Outcome::Failed(reason) => {
            error!(
                "{reason}; request {} (queue id {}) for {}",
                ncr.request_id(),
                q.id,
                ncr.fqdn
            );
            failed_line(ncr, q.id, &reason);
            Finish::Outcome(NcrOutcome::Failed(reason))
        }
        Outcome::Unreachable(reason) => {
            let wait = backoff(&rt.options, q.attempts);
            warn!(
                "DHCP_DDNS_UPDATE_DEFERRED request {} (queue id {}) for {}: {reason}; stays queued, next try in {} s (attempt {})",
                ncr.request_id(), q.id, ncr.fqdn, wait.as_secs_f64(), q.attempts
            );
            Finish::RetryAfter {
                reason,
                after: wait,
            }
        }
    }
}

fn failed_line(ncr: &NameChangeRequest, id: i64, reason: &str) {
    let what = match ncr.change_type {
        ChangeType::Add => "DHCP_DDNS_ADD_FAILED",
        ChangeType::Remove => "DHCP_DDNS_REMOVE_FAILED",
    };
    error!(
        "{what} request {} (queue id {id}) for {} {} failed: {reason}",
        ncr.request_id(),
        ncr.fqdn,
        ncr.ip_address
    );
}

/// Picks the domains and runs the machine against the servers.
async fn transact(rt: &Runtime, ncr: &NameChangeRequest) -> Outcome {
    let reverse_name = ncr.reverse_name();
    let mut fwd = None;
    if ncr.forward_change {
        if rt.forward.is_empty() {
            debug!(
                "DHCP_DDNS_FWD_REQUEST_IGNORED no forward-ddns domains: forward change for {} skipped",
                ncr.fqdn
            );
        } else {
            let names: Vec<&str> = rt.forward.iter().map(|d| d.name.as_str()).collect();
            match match_domain(&names, ncr.fqdn.as_str()) {
                Some(i) => fwd = Some(&rt.forward[i]),
                None => {
                    error!(
                        "DHCP_DDNS_NO_FWD_MATCH_ERROR no forward domain matches {}",
                        ncr.fqdn
                    );
                    return Outcome::Failed(format!(
                        "DHCP_DDNS_NO_FWD_MATCH_ERROR no forward-ddns domain matches {}",
                        ncr.fqdn
                    ));
                }
            }
        }
    }
    let mut rev = None;
    if ncr.reverse_change {
        if rt.reverse.is_empty() {
            debug!(
                "DHCP_DDNS_REV_REQUEST_IGNORED no reverse-ddns domains: reverse change for {} skipped",
                ncr.ip_address
            );
        } else {
            let names: Vec<&str> = rt.reverse.iter().map(|d| d.name.as_str()).collect();
            match match_domain(&names, &reverse_name) {
                Some(i) => rev = Some(&rt.reverse[i]),
                None => {
                    error!("DHCP_DDNS_NO_REV_MATCH_ERROR no reverse domain matches {reverse_name}");
                    return Outcome::Failed(format!(
                        "DHCP_DDNS_NO_REV_MATCH_ERROR no reverse-ddns domain matches {reverse_name}"
                    ));
                }
            }
        }
    }
    if fwd.is_none() && rev.is_none() {
        warn!(
            "DHCP_DDNS_NO_MATCH no domain to update for {} {}",
            ncr.fqdn, ncr.ip_address
        );
        return Outcome::Failed(format!(
            "DHCP_DDNS_NO_MATCH no forward or reverse domain to update for {} {}",
            ncr.fqdn, ncr.ip_address
        ));
    }
    let names = (
        Name::from_ascii(ncr.fqdn.as_str()),
        Name::from_ascii(&reverse_name),
    );
    let (Ok(mut fqdn), Ok(mut reverse)) = names else {
        return Outcome::Failed(format!("{} is not a DNS name", ncr.fqdn));
    };
    fqdn.set_fqdn(true);
    reverse.set_fqdn(true);
    let params = UpdateParams {
        fqdn,
        reverse,
        ip: ncr.ip_address,
        dhcid: ncr.dhcid.as_rdata().to_vec(),
        ttl: ncr.lease_length,
    };
    let zone = |d: Option<&Domain>| {
        d.filter(|d| !d.servers.is_empty()).map(|d| Zone {
            name: d.zone.clone(),
            servers: d.servers.len(),
        })
    };
    let mut tx = Transaction::new(
        ncr.change_type,
        ncr.conflict_resolution_mode,
        params,
        zone(fwd),
        zone(rev),
    );
    let mut action = tx.step(Event::Start);
    loop {
        let (direction, server, try_no, message) = match action {
            Action::Finish(outcome) => return outcome,
            Action::Send {
                direction,
                server,
                try_no,
                message,
            } => (direction, server, try_no, message),
        };
        let domain = match direction {
            Direction::Forward => fwd,
            Direction::Reverse => rev,
        }
        .expect("the machine sends only to a direction it has a zone for");
        let srv = &domain.servers[server];
        let key_name = srv.key.as_ref().and(srv.key_name.as_deref());
        rt.stats.sent(key_name);
        debug!(
            "DHCP_DDNS_UPDATE_REQUEST_SENT {:?} for {} to {} (try {try_no}, zone {})",
            tx.state(),
            ncr.fqdn,
            srv.addr,
            domain.zone
        );
        let result = client::exchange_with(
            Some(&rt.sockets),
            srv.addr,
            &message,
            srv.key.as_deref(),
            rt.timeout,
        )
        .await;
        let event = match result {
            Ok(rcode) => {
                rt.stats.result(key_name, ExchangeResult::Success);
                debug!(
                    "DHCP_DDNS_UPDATE_RESPONSE_RECEIVED {:?} for {} from {}: {}",
                    tx.state(),
                    ncr.fqdn,
                    srv.addr,
                    tern_dnsmsg::rcode::name(rcode)
                );
                Event::Response(rcode)
            }
            Err(e) => {
                let r = if matches!(e, ExchangeError::Timeout(_)) {
                    ExchangeResult::Timeout
                } else {
                    ExchangeResult::Error
                };
                rt.stats.result(key_name, r);
                // Per try at debug level: during an outage the DEFERRED line (which
                // carries this id and the last error) is what operators need, once.
                debug!(
                    "{} request {} for {} to {} (try {try_no}): {e}",
                    tx.state().io_error_id(),
                    ncr.request_id(),
                    ncr.fqdn,
                    srv.addr
                );
                match e {
                    ExchangeError::KeyRejected(reason) => Event::Refused(reason),
                    other => Event::NoAnswer(format!("{}: {other}", srv.addr)),
                }
            }
        };
        action = tx.step(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_dnsmsg::tsig::Algorithm;

    fn config(text: &str) -> DhcpDdns {
        tern_config::parse_str(text, "t.json")
            .unwrap()
            .ddns
            .unwrap()
    }

    #[test]
    fn servers_sign_with_their_own_key_else_the_domains() {
        let c = config(
            r#"{ "DhcpDdns": {
                "tsig-keys": [
                    { "name": "dom.", "algorithm": "HMAC-SHA256", "secret": "AAECAwQFBgcICQ==" },
                    { "name": "srv.", "algorithm": "hmac-md5", "digest-bits": 80, "secret": "AAECAwQFBgcICQ==" } ],
                "forward-ddns": { "ddns-domains": [ { "name": "example.com.", "key-name": "dom.",
                    "dns-servers": [ { "ip-address": "192.0.2.1" },
                                     { "ip-address": "192.0.2.2", "port": 5353, "key-name": "srv." } ] },
                    { "name": "*", "dns-servers": [ { "ip-address": "192.0.2.3" } ] } ] } } }"#,
        );
        let keys = load_keys(&c).unwrap();
        let d = resolve_domains(&c.forward_ddns, &keys).unwrap();
        assert_eq!(d[0].zone.to_string(), "example.com.");
        let s = &d[0].servers;
        assert_eq!(s[0].addr, "192.0.2.1:53".parse().unwrap());
        assert_eq!(s[0].key_name.as_deref(), Some("dom."));
        assert_eq!(s[0].key.as_ref().unwrap().algorithm, Algorithm::HmacSha256);
        assert_eq!(s[1].addr, "192.0.2.2:5353".parse().unwrap());
        let k = s[1].key.as_ref().unwrap();
        assert_eq!((k.algorithm, k.mac_len()), (Algorithm::HmacMd5, 10));
        assert_eq!(d[1].zone.to_string(), ".");
        assert!(d[1].servers[0].key.is_none());
    }

    #[test]
    fn a_secret_file_is_read_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.secret");
        std::fs::write(&path, "AAECAwQFBgcICQ==\n").unwrap();
        let c = config(&format!(
            r#"{{ "DhcpDdns": {{ "tsig-keys": [ {{ "name": "f.", "algorithm": "HMAC-SHA512",
                "secret-file": "{}" }} ] }} }}"#,
            path.display()
        ));
        let keys = load_keys(&c).unwrap();
        assert_eq!(keys[0].1.secret, (0u8..10).collect::<Vec<_>>());
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(load_keys(&c), Err(D2Error::Key { .. })));
    }

    #[test]
    fn backoff_doubles_from_one_second_to_a_minute() {
        let o = D2Options::default();
        let secs: Vec<u64> = (1..=9).map(|a| backoff(&o, a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(&o, 1000).as_secs(), 60);
    }
}
