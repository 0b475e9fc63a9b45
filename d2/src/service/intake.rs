//! NCR intake: one UDP socket on DhcpDdns `ip-address:port` takes Kea's NCR datagrams
//! (2-byte length + JSON); each valid NCR is written to the store's queue
//! (`tern.ncr_queue`) before anything else happens; d2 never replies. A receiver drains
//! the socket into memory while a writer queues what has arrived meanwhile in one
//! durable statement (up to [`INTAKE_BATCH`]), so a burst waits in d2 during a commit
//! instead of overflowing the socket buffer. NCRs queued by others (the DHCP engine's
//! outbox, another appliance) are announced by the store's notifications ([`listen`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tern_ncr::NameChangeRequest;
use tern_store::ncr_queue::{self, NcrSource};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch, Notify};
use tracing::{debug, error, warn};

use super::runtime::Runtime;
use crate::stats::D2Stats;

/// NCRs queued by one intake statement at most.
pub const INTAKE_BATCH: usize = 1024;
/// NCRs received but not yet queued, at most: beyond this the receiver waits and
/// the socket buffer takes the rest.
const INTAKE_BACKLOG: usize = 65536;

/// A burst of NCRs must wait in the kernel, not be dropped there, until the
/// receiver takes it: ask for a large receive buffer (root may exceed
/// `net.core.rmem_max` with SO_RCVBUFFORCE; others get what the limit allows).
/// 10,000 NCRs of ~400 bytes take ~13 MB of kernel memory (skb overhead included).
/// Returns the size obtained (as the kernel reports it).
pub(super) fn enlarge_receive_buffer(socket: &UdpSocket) -> usize {
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

/// Receives NCR datagrams and queues them: the receiver runs on its own task and
/// hands parsed NCRs to the writer, which queues all that arrived during its last
/// commit in one statement. Returns after a stop once every received NCR is queued.
pub(super) async fn run(
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
                    .fetch_add(ids.len() as u64, Ordering::Relaxed);
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
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
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
pub(super) async fn listen(rt: Arc<Runtime>, wake: Arc<Notify>) {
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
                            Ok(n) if n.process_id() == rt.intake_pid.load(Ordering::Relaxed) => {}
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
