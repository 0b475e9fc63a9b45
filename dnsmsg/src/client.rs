//! One RFC 2136 UPDATE exchange over UDP: a fresh ID per request, a fresh socket
//! or one reused from a [`SocketPool`], TSIG when the server has a key, and the
//! answer checked (ID, QR, opcode, TSIG) before its RCODE is believed.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use tokio::net::UdpSocket;

use crate::tsig::{self, Origin, TsigError, TsigKey};

/// Why an exchange gave no RCODE to act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// No answer within the timeout.
    #[error("timeout after {0} ms")]
    Timeout(u128),
    /// The socket failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// An answer that is corrupt, not ours, or whose TSIG does not verify.
    #[error("invalid response: {0}")]
    Invalid(String),
    /// The server rejected our TSIG (BADSIG, BADKEY, BADTIME, BADTRUNC).
    #[error("server rejected the TSIG: {0}")]
    KeyRejected(String),
}

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A message ID hard to guess from outside: a counter mixed with the clock through
/// the standard library's randomly keyed hasher.
fn new_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(NEXT_ID.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() as u16
}

/// Connected UDP sockets per server, reused from one exchange to the next: opening,
/// connecting, registering and closing a socket for every UPDATE costs more than
/// the UPDATE's own I/O at a few thousand per second. A socket goes back only after
/// an exchange that got its answer (a timed-out one may still get a late answer;
/// answers with another ID are skipped anyway). Belongs to one tokio runtime.
#[derive(Debug, Default)]
pub struct SocketPool {
    free: Mutex<HashMap<SocketAddr, Vec<UdpSocket>>>,
}

/// Sockets kept per server: about the transactions in flight.
const POOL_PER_SERVER: usize = 64;

impl SocketPool {
    fn take(&self, server: SocketAddr) -> Option<UdpSocket> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.get_mut(&server).and_then(Vec::pop)
    }

    fn give(&self, server: SocketAddr, socket: UdpSocket) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let list = free.entry(server).or_default();
        if list.len() < POOL_PER_SERVER {
            list.push(socket);
        }
    }
}

/// Sends `message` (its ID is replaced) to `server`, signed with `key` if given, and
/// returns the answer's RCODE once the answer checks out. Uses a new socket.
pub async fn exchange(
    server: SocketAddr,
    message: &Message,
    key: Option<&TsigKey>,
    timeout: Duration,
) -> Result<ResponseCode, ExchangeError> {
    exchange_with(None, server, message, key, timeout).await
}

/// [`exchange`] on a socket from `pool` (a new one when it has none for `server`).
pub async fn exchange_with(
    pool: Option<&SocketPool>,
    server: SocketAddr,
    message: &Message,
    key: Option<&TsigKey>,
    timeout: Duration,
) -> Result<ResponseCode, ExchangeError> {
    let mut message = message.clone();
    let id = new_id();
    message.metadata.id = id;
    let wire = message
        .to_vec()
        .map_err(|e| ExchangeError::Invalid(format!("cannot encode the request: {e}")))?;
    let (wire, mac) = match key {
        Some(k) => {
            let signed = tsig::sign_request(&wire, k, tsig::unix_now(), tsig::DEFAULT_FUDGE)
                .map_err(|e| ExchangeError::Invalid(format!("cannot sign: {e}")))?;
            (signed.wire, Some(signed.mac))
        }
        None => (wire, None),
    };
    let io = |e: std::io::Error| ExchangeError::Io(e.to_string());
    let socket = match pool.and_then(|p| p.take(server)) {
        Some(s) => s,
        None => {
            let local: IpAddr = match server {
                SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
                SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
            };
            let socket = UdpSocket::bind((local, 0)).await.map_err(io)?;
            socket.connect(server).await.map_err(io)?;
            socket
        }
    };
    socket.send(&wire).await.map_err(io)?;
    let deadline = Instant::now() + timeout;
    // Capacity, not a zeroed length: zeroing 64 KiB per exchange was the largest
    // single item in d2's CPU profile under a burst; recv_buf writes only what arrives.
    let mut buf: Vec<u8> = Vec::with_capacity(65535);
    loop {
        buf.clear();
        let left = deadline.saturating_duration_since(Instant::now());
        let n = match tokio::time::timeout(left, socket.recv_buf(&mut buf)).await {
            Err(_) => return Err(ExchangeError::Timeout(timeout.as_millis())),
            Ok(Err(e)) => return Err(io(e)),
            Ok(Ok(n)) => n,
        };
        let answer = &buf[..n];
        // A stray datagram (another ID, or a late answer to an earlier exchange on
        // this socket) is not our answer: keep waiting.
        if n < 12 || u16::from_be_bytes([answer[0], answer[1]]) != id {
            continue;
        }
        let result = check_answer(answer, key, mac.as_deref());
        if let Some(p) = pool {
            p.give(server, socket);
        }
        return result;
    }
}

fn check_answer(
    answer: &[u8],
    key: Option<&TsigKey>,
    request_mac: Option<&[u8]>,
) -> Result<ResponseCode, ExchangeError> {
    let message = match (key, request_mac) {
        (Some(k), Some(mac)) => match tsig::verify_response(answer, k, mac, tsig::unix_now()) {
            Ok(v) => v.message,
            Err(
                e @ (TsigError::BadSig {
                    origin: Origin::Peer,
                    ..
                }
                | TsigError::BadKey {
                    origin: Origin::Peer,
                    ..
                }
                | TsigError::BadTime {
                    origin: Origin::Peer,
                    ..
                }
                | TsigError::BadTrunc {
                    origin: Origin::Peer,
                    ..
                }
                | TsigError::PeerError { .. }),
            ) => return Err(ExchangeError::KeyRejected(e.to_string())),
            Err(e) => return Err(ExchangeError::Invalid(e.to_string())),
        },
        _ => Message::from_vec(answer).map_err(|e| ExchangeError::Invalid(e.to_string()))?,
    };
    if message.metadata.message_type != MessageType::Response {
        return Err(ExchangeError::Invalid("QR bit not set".into()));
    }
    if message.metadata.op_code != OpCode::Update {
        return Err(ExchangeError::Invalid(format!(
            "opcode {:?} in the answer to an UPDATE",
            message.metadata.op_code
        )));
    }
    Ok(message.metadata.response_code)
}
