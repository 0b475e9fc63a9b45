//! A zone transfer (AXFR, RFC 5936) over TCP, TSIG-signed when a key is given: how a
//! caller outside the DNS server reads a whole zone (the API's view of a zone BIND holds).
//! Every message of the answer is checked (ID, QR, RCODE) and, with a key, its TSIG
//! verified as RFC 8945 §5.3.1 prescribes for multi-message answers; the last message
//! must end with the SOA the first began with.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::tsig::{self, TsigKey};

/// Why a transfer gave no zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AxfrError {
    /// No connection or no complete answer within the timeout.
    #[error("timeout after {0} ms")]
    Timeout(u128),
    /// The connection failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// The server answered with an error RCODE (REFUSED: transfers not allowed, NOTAUTH:
    /// not authoritative or the key was rejected).
    #[error("the server answered {0}")]
    Rcode(ResponseCode),
    /// The server rejected our TSIG (its answer carries a TSIG error).
    #[error("server rejected the TSIG: {0}")]
    KeyRejected(String),
    /// An answer that is corrupt, not ours, or whose TSIG does not verify.
    #[error("invalid response: {0}")]
    Invalid(String),
}

/// Transfers `zone` from `server`; the records in the server's order, the closing SOA
/// left out. `timeout` bounds the whole transfer.
pub async fn axfr(
    server: SocketAddr,
    zone: &Name,
    key: Option<&TsigKey>,
    timeout: Duration,
) -> Result<Vec<Record>, AxfrError> {
    let mut query = Message::query();
    query.add_query(Query::query(zone.clone(), RecordType::AXFR));
    let mut records: Vec<Record> = Vec::new();
    let mut first = true;
    exchange_tcp(server, &query, key, timeout, |message, last_signed| {
        if message.metadata.response_code != ResponseCode::NoError {
            return Err(AxfrError::Rcode(message.metadata.response_code));
        }
        for r in message.answers {
            if records.is_empty() && r.record_type() != RecordType::SOA {
                return Err(AxfrError::Invalid(
                    "the transfer does not begin with SOA".into(),
                ));
            }
            // The SOA again closes the transfer (RFC 5936 §2.2).
            if !records.is_empty() && r.record_type() == RecordType::SOA {
                // RFC 8945 §5.3.1: the last message must be signed.
                if !last_signed {
                    return Err(AxfrError::Invalid("the last message is unsigned".into()));
                }
                return Ok(true);
            }
            records.push(r);
        }
        if first && records.is_empty() {
            return Err(AxfrError::Invalid("an empty first answer".into()));
        }
        first = false;
        Ok(false)
    })
    .await?;
    Ok(records)
}

/// Sends `query` (signed with `key` if given) over TCP and hands each answer message, its
/// ID, QR bit and TSIG checked, to `on_message` until it returns true. The second argument
/// says whether the message was signed (always with a key, RFC 8945 §5.3.1 allowing
/// unsigned ones in between; without a key, true). `timeout` bounds the whole exchange.
pub async fn exchange_tcp(
    server: SocketAddr,
    query: &Message,
    key: Option<&TsigKey>,
    timeout: Duration,
    on_message: impl FnMut(Message, bool) -> Result<bool, AxfrError>,
) -> Result<(), AxfrError> {
    let deadline = Instant::now() + timeout;
    tokio::time::timeout_at(deadline.into(), session(server, query, key, on_message))
        .await
        .map_err(|_| AxfrError::Timeout(timeout.as_millis()))?
}

async fn session(
    server: SocketAddr,
    query: &Message,
    key: Option<&TsigKey>,
    mut on_message: impl FnMut(Message, bool) -> Result<bool, AxfrError>,
) -> Result<(), AxfrError> {
    let io = |e: std::io::Error| AxfrError::Io(e.to_string());
    let id = query.metadata.id;
    let wire = query
        .to_vec()
        .map_err(|e| AxfrError::Invalid(format!("cannot encode the query: {e}")))?;
    let (wire, mut prior_mac) = match key {
        Some(k) => {
            let s = tsig::sign_request(&wire, k, tsig::unix_now(), tsig::DEFAULT_FUDGE)
                .map_err(|e| AxfrError::Invalid(format!("cannot sign: {e}")))?;
            (s.wire, s.mac)
        }
        None => (wire, Vec::new()),
    };
    let mut stream = TcpStream::connect(server).await.map_err(io)?;
    let len = u16::try_from(wire.len())
        .map_err(|_| AxfrError::Invalid("the message is longer than 65535 bytes".into()))?;
    stream
        .write_all(&[&len.to_be_bytes()[..], &wire].concat())
        .await
        .map_err(io)?;

    let mut unsigned_since: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.map_err(io)?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut buf).await.map_err(io)?;
        if buf.len() < 12 || u16::from_be_bytes([buf[0], buf[1]]) != id {
            return Err(AxfrError::Invalid("an answer with another ID".into()));
        }
        let parse = |b: &[u8]| Message::from_vec(b).map_err(|e| AxfrError::Invalid(e.to_string()));
        let (message, signed) = match key {
            None => (parse(&buf)?, true),
            Some(k) if first => {
                let v = tsig::verify_response(&buf, k, &prior_mac, tsig::unix_now())
                    .map_err(tsig_error)?;
                prior_mac = v.mac;
                (v.message, true)
            }
            Some(k) => {
                let now = tsig::unix_now();
                match tsig::verify_subsequent(&buf, &unsigned_since, k, &prior_mac, now)
                    .map_err(tsig_error)?
                {
                    Some(v) => {
                        prior_mac = v.mac;
                        unsigned_since.clear();
                        (v.message, true)
                    }
                    None => {
                        unsigned_since.extend_from_slice(&buf);
                        (parse(&buf)?, false)
                    }
                }
            }
        };
        if message.metadata.message_type != MessageType::Response {
            return Err(AxfrError::Invalid("QR bit not set".into()));
        }
        first = false;
        if on_message(message, signed)? {
            return Ok(());
        }
    }
}

fn tsig_error(e: tsig::TsigError) -> AxfrError {
    use tsig::{Origin, TsigError as E};
    match e {
        E::BadSig {
            origin: Origin::Peer,
            ..
        }
        | E::BadKey {
            origin: Origin::Peer,
            ..
        }
        | E::BadTime {
            origin: Origin::Peer,
            ..
        }
        | E::BadTrunc {
            origin: Origin::Peer,
            ..
        }
        | E::PeerError { .. } => AxfrError::KeyRejected(e.to_string()),
        // An unsigned error answer (REFUSED, NOTAUTH) is the server's refusal, not a forgery.
        E::Unsigned { rcode } if rcode != ResponseCode::NoError => AxfrError::Rcode(rcode),
        e => AxfrError::Invalid(e.to_string()),
    }
}

/// The SOA serial of a transfer's records (the first record), if it is one.
pub fn serial(records: &[Record]) -> Option<u32> {
    match records.first().map(|r| &r.data) {
        Some(RData::SOA(soa)) => Some(soa.serial),
        _ => None,
    }
}
