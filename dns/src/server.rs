//! The zone server's sockets.
//!
//! UDP: per address, one socket per worker thread, all bound with SO_REUSEPORT so the kernel
//! spreads datagrams over them; each thread answers plain queries inline (no task per
//! datagram) and hands anything needing the store or TSIG to the tokio runtime.
//! TCP (RFC 7766): one task per connection; each message on it is answered in a task of its
//! own, so pipelined queries are answered as they finish, out of order (§6.2.1.1); an idle
//! connection is closed after [`TcpSettings::idle_timeout`] and at most
//! [`TcpSettings::max_connections`] are open at once.
//!
//! hickory-server's `Server` is not used: it spawns a task per UDP datagram and answers a
//! TCP connection's messages strictly in order.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use crate::handler::{Handler, Scratch, Transport, Triage};

/// TCP limits.
#[derive(Debug, Clone, Copy)]
pub struct TcpSettings {
    /// A connection with no complete message for this long is closed (Knot's default).
    pub idle_timeout: Duration,
    /// Connections open at once; more wait in the kernel's backlog.
    pub max_connections: usize,
}

impl Default for TcpSettings {
    fn default() -> Self {
        TcpSettings {
            idle_timeout: Duration::from_secs(10),
            max_connections: 10_000,
        }
    }
}

/// The running sockets; dropping it does not stop them, [`Listeners::stop`] does.
#[derive(Debug)]
pub struct Listeners {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    tcp: JoinSet<()>,
    /// The addresses bound (a port 0 in the settings resolved).
    pub bound: Vec<SocketAddr>,
}

/// The socket errors that stop a start: which address, what happened.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr} ({proto}): {source}")]
pub struct BindError {
    /// The address.
    pub addr: SocketAddr,
    /// udp or tcp.
    pub proto: &'static str,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// Binds every address (UDP with `udp_threads` sockets each, and TCP on the same port) and
/// starts serving with `handler`. Must run inside a tokio runtime.
pub async fn listen(
    handler: Arc<Handler>,
    addrs: &[SocketAddr],
    udp_threads: usize,
    tcp: TcpSettings,
) -> Result<Listeners, BindError> {
    let stop = Arc::new(AtomicBool::new(false));
    let rt = tokio::runtime::Handle::current();
    let mut threads = Vec::new();
    let mut tcp_tasks = JoinSet::new();
    let mut bound = Vec::new();
    let slots = Arc::new(Semaphore::new(tcp.max_connections));
    for &addr in addrs {
        let (addr, sockets, listener) = bind(addr, udp_threads.max(1))?;
        for (i, s) in sockets.into_iter().enumerate() {
            let (h, st, rt) = (handler.clone(), stop.clone(), rt.clone());
            let t = std::thread::Builder::new()
                .name(format!("dns-udp-{i}"))
                .spawn(move || udp_loop(s, h, st, rt))
                .map_err(|source| BindError {
                    addr,
                    proto: "udp",
                    source,
                })?;
            threads.push(t);
        }
        tcp_tasks.spawn(accept_loop(listener, handler.clone(), slots.clone(), tcp));
        info!("DNS_LISTENING answering on {addr} (udp: {udp_threads} sockets, tcp)");
        bound.push(addr);
    }
    Ok(Listeners {
        stop,
        threads,
        tcp: tcp_tasks,
        bound,
    })
}

/// The UDP sockets and the TCP listener of one address. With port 0, the UDP sockets take
/// the port the first one got and TCP the same; when that port is taken for TCP (another
/// process's connection may hold it), another port is tried.
fn bind(
    requested: SocketAddr,
    udp_threads: usize,
) -> Result<(SocketAddr, Vec<UdpSocket>, TcpListener), BindError> {
    let mut attempts = 0;
    loop {
        let mut addr = requested;
        let mut sockets = Vec::new();
        for _ in 0..udp_threads {
            let s = udp_socket(addr).map_err(|source| BindError {
                addr,
                proto: "udp",
                source,
            })?;
            addr = s.local_addr().map_err(|source| BindError {
                addr,
                proto: "udp",
                source,
            })?;
            sockets.push(s);
        }
        match tcp_listener(addr) {
            Ok(listener) => return Ok((addr, sockets, listener)),
            Err(e)
                if requested.port() == 0
                    && e.kind() == std::io::ErrorKind::AddrInUse
                    && attempts < 16 =>
            {
                attempts += 1;
            }
            Err(source) => {
                return Err(BindError {
                    addr,
                    proto: "tcp",
                    source,
                })
            }
        }
    }
}

impl Listeners {
    /// Closes every socket and waits for the UDP threads.
    pub async fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.tcp.shutdown().await;
        let threads = std::mem::take(&mut self.threads);
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}

fn udp_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_port(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    // Bursts queue in the kernel rather than being dropped while a thread is busy.
    let _ = s.set_recv_buffer_size(4 << 20);
    s.bind(&addr.into())?;
    // The thread wakes this often to see whether it should stop.
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    Ok(s.into())
}

fn tcp_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.bind(&addr.into())?;
    s.listen(1024)?;
    s.set_nonblocking(true)?;
    TcpListener::from_std(s.into())
}

fn udp_loop(
    socket: UdpSocket,
    handler: Arc<Handler>,
    stop: Arc<AtomicBool>,
    rt: tokio::runtime::Handle,
) {
    let socket = Arc::new(socket);
    let mut buf = vec![0u8; 65535];
    let mut scratch = Scratch::default();
    while !stop.load(Ordering::Relaxed) {
        let (len, src) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // ICMP errors surface here (a client gone): nothing to do but go on.
                debug!("DNS_UDP_RECV_ERROR {e}");
                continue;
            }
        };
        let wire = &buf[..len];
        if handler
            .answer_plain(wire, Transport::Udp, &mut scratch)
            .is_some()
        {
            if let Err(e) = socket.send_to(&scratch.out, src) {
                debug!("DNS_UDP_SEND_ERROR to {src}: {e}");
            }
            continue;
        }
        // Tried as a plain query above: decoded once more here at most, and handed on.
        match handler.triage(wire, Transport::Udp, true) {
            Triage::Done(reply) => send_all(&socket, &reply, src),
            Triage::Full(message) => {
                let (h, s, wire) = (handler.clone(), socket.clone(), wire.to_vec());
                rt.spawn(async move {
                    let reply = h.handle_message(&wire, message, src, Transport::Udp).await;
                    send_all(&s, &reply, src);
                });
            }
        }
    }
}

fn send_all(socket: &UdpSocket, reply: &[Vec<u8>], to: SocketAddr) {
    for m in reply {
        if let Err(e) = socket.send_to(m, to) {
            debug!("DNS_UDP_SEND_ERROR to {to}: {e}");
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    handler: Arc<Handler>,
    slots: Arc<Semaphore>,
    settings: TcpSettings,
) {
    let mut conns = JoinSet::new();
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors, say: wait a moment rather than spin.
                warn!("DNS_TCP_ACCEPT_ERROR {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let h = handler.clone();
        conns.spawn(async move {
            connection(stream, peer, h, settings.idle_timeout).await;
            drop(permit);
        });
        // Reap finished connections so the set does not grow.
        while conns.try_join_next().is_some() {}
    }
}

async fn connection(stream: TcpStream, peer: SocketAddr, handler: Arc<Handler>, idle: Duration) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let Ok(len) = u16::try_from(m.len()) else {
                continue;
            };
            let mut framed = Vec::with_capacity(m.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(&m);
            if wr.write_all(&framed).await.is_err() {
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(idle, rd.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            // EOF, reset or idle: the connection ends once the answers in flight are out.
            _ => break,
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        match tokio::time::timeout(idle, rd.read_exact(&mut msg)).await {
            Ok(Ok(_)) => {}
            _ => break,
        }
        let (h, tx) = (handler.clone(), tx.clone());
        tokio::spawn(async move {
            for m in h.handle(&msg, peer, Transport::Tcp).await {
                if tx.send(m).await.is_err() {
                    return;
                }
            }
        });
    }
    drop(tx);
    let _ = writer.await;
}
