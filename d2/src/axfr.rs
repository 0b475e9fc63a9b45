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
    let deadline = Instant::now() + timeout;
    let timed_out = || AxfrError::Timeout(timeout.as_millis());
    tokio::time::timeout_at(deadline.into(), transfer(server, zone, key))
        .await
        .map_err(|_| timed_out())?
}

async fn transfer(
    server: SocketAddr,
    zone: &Name,
    key: Option<&TsigKey>,
) -> Result<Vec<Record>, AxfrError> {
    let io = |e: std::io::Error| AxfrError::Io(e.to_string());
    let mut query = Message::query();
    query.add_query(Query::query(zone.clone(), RecordType::AXFR));
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
    let len = u16::try_from(wire.len()).map_err(|_| AxfrError::Invalid("query too long".into()))?;
    stream
        .write_all(&[&len.to_be_bytes()[..], &wire].concat())
        .await
        .map_err(io)?;

    let mut records: Vec<Record> = Vec::new();
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
        let message = match key {
            None => Message::from_vec(&buf).map_err(|e| AxfrError::Invalid(e.to_string()))?,
            Some(k) if first => {
                let v = tsig::verify_response(&buf, k, &prior_mac, tsig::unix_now())
                    .map_err(tsig_error)?;
                prior_mac = v.mac;
                v.message
            }
            Some(k) => {
                match tsig::verify_subsequent(
                    &buf,
                    &unsigned_since,
                    k,
                    &prior_mac,
                    tsig::unix_now(),
                )
                .map_err(tsig_error)?
                {
                    Some(v) => {
                        prior_mac = v.mac;
                        unsigned_since.clear();
                        v.message
                    }
                    None => {
                        unsigned_since.extend_from_slice(&buf);
                        Message::from_vec(&buf).map_err(|e| AxfrError::Invalid(e.to_string()))?
                    }
                }
            }
        };
        if message.metadata.message_type != MessageType::Response {
            return Err(AxfrError::Invalid("QR bit not set".into()));
        }
        if message.metadata.response_code != ResponseCode::NoError {
            return Err(AxfrError::Rcode(message.metadata.response_code));
        }
        for r in message.answers {
            if first && records.is_empty() && r.record_type() != RecordType::SOA {
                return Err(AxfrError::Invalid(
                    "the transfer does not begin with SOA".into(),
                ));
            }
            // The SOA again closes the transfer (RFC 5936 §2.2).
            if !records.is_empty() && r.record_type() == RecordType::SOA {
                // RFC 8945 §5.3.1: the last message must be signed.
                if key.is_some() && !unsigned_since.is_empty() {
                    return Err(AxfrError::Invalid("the last message is unsigned".into()));
                }
                return Ok(records);
            }
            records.push(r);
        }
        if first && records.is_empty() {
            return Err(AxfrError::Invalid("an empty first answer".into()));
        }
        first = false;
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
