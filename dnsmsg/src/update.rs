//! RFC 2136 UPDATE messages: the empty message and the record forms of its sections
//! ([`new_update`], [`rr_empty`], [`rr_with`]; d2's RFC 4703 builders are made of them), and
//! a generic UPDATE of whole RRsets for callers that edit a zone directly (the API's
//! PowerDNS-compatible zone editing): every change of one request goes in one message, so
//! the server applies all of them or none (§3.4).
//!
//! hickory's `Message` carries an UPDATE's sections under its query names: zone =
//! `queries`, prerequisite = `answers`, update = `authorities` (§2.2).

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use crate::axfr::{self, AxfrError};
use crate::client::{self, ExchangeError};
use crate::tsig::TsigKey;

/// An empty UPDATE for `zone` (zone section: zone IN SOA, §2.3), ID 0 (the sender sets it).
pub fn new_update(zone: &Name) -> Message {
    let mut msg = Message::new(0, MessageType::Query, OpCode::Update);
    let mut q = Query::query(zone.clone(), RecordType::SOA);
    q.set_query_class(DNSClass::IN);
    msg.add_query(q);
    msg
}

/// A record without RDATA, TTL 0: the form of the "RRset exists / does not exist" and
/// "name is / is not in use" prerequisites and of the RRset deletions (§2.4, §2.5.2-3).
pub fn rr_empty(name: &Name, class: DNSClass, rtype: RecordType) -> Record {
    let mut r = Record::update0(name.clone(), 0, rtype);
    r.dns_class = class;
    r
}

/// A record with RDATA in `class`: an added RR (IN, §2.5.1), a value-dependent
/// prerequisite (IN, TTL 0, §2.4.2) or one RR deleted (NONE, TTL 0, §2.5.4).
pub fn rr_with(name: &Name, class: DNSClass, ttl: u32, data: RData) -> Record {
    let mut r = Record::from_rdata(name.clone(), ttl, data);
    r.dns_class = class;
    r
}

/// One RRset change.
#[derive(Debug, Clone, PartialEq)]
pub enum RrsetChange {
    /// Delete the RRset `name` `rtype`, then add `records` with `ttl` (§2.5.2, §2.5.1).
    Replace {
        /// Owner name (absolute).
        name: Name,
        /// Type.
        rtype: RecordType,
        /// TTL of every record.
        ttl: u32,
        /// The new RDATAs.
        records: Vec<RData>,
    },
    /// Add `records`, then delete each of `old` not among them (§2.5.1, §2.5.4): the
    /// replacement for an RRset the server will not delete whole, the apex NS (§3.4.2.4);
    /// adding first keeps the server from refusing to delete its last NS record.
    Swap {
        /// Owner name (absolute).
        name: Name,
        /// Type.
        rtype: RecordType,
        /// TTL of every record.
        ttl: u32,
        /// The new RDATAs.
        records: Vec<RData>,
        /// The RDATAs there now.
        old: Vec<RData>,
    },
    /// Delete the RRset `name` `rtype` (§2.5.2).
    Delete {
        /// Owner name (absolute).
        name: Name,
        /// Type.
        rtype: RecordType,
    },
}

/// The UPDATE for `zone` applying `changes` in order. Each of `no_cname_at` becomes the
/// prerequisite "no CNAME RRset there" (§2.4.3), so that adding other data beside a CNAME
/// is refused with YXRRSET instead of silently ignored (RFC 2136 §3.4.2.2).
pub fn rrset_update(zone: &Name, changes: &[RrsetChange], no_cname_at: &[Name]) -> Message {
    let mut m = new_update(zone);
    for name in no_cname_at {
        m.add_answer(rr_empty(name, DNSClass::NONE, RecordType::CNAME));
    }
    let add = |m: &mut Message, name: &Name, ttl: u32, records: &[RData]| {
        for data in records {
            m.add_authority(rr_with(name, DNSClass::IN, ttl, data.clone()));
        }
    };
    for c in changes {
        match c {
            RrsetChange::Replace {
                name,
                rtype,
                ttl,
                records,
            } => {
                m.add_authority(rr_empty(name, DNSClass::ANY, *rtype));
                add(&mut m, name, *ttl, records);
            }
            RrsetChange::Delete { name, rtype } => {
                m.add_authority(rr_empty(name, DNSClass::ANY, *rtype));
            }
            RrsetChange::Swap {
                name,
                ttl,
                records,
                old,
                ..
            } => {
                add(&mut m, name, *ttl, records);
                for data in old.iter().filter(|d| !records.contains(d)) {
                    m.add_authority(rr_with(name, DNSClass::NONE, 0, data.clone()));
                }
            }
        }
    }
    m
}

/// The change's owner name and type.
pub fn rrset_of(c: &RrsetChange) -> (&Name, RecordType) {
    match c {
        RrsetChange::Replace { name, rtype, .. }
        | RrsetChange::Swap { name, rtype, .. }
        | RrsetChange::Delete { name, rtype } => (name, *rtype),
    }
}

/// Why an UPDATE got no RCODE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// The changes do not fit in one DNS message (64 KB).
    #[error("the changes do not fit in one DNS message (65535 bytes)")]
    TooLarge,
    /// The exchange failed.
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}

/// Largest UPDATE sent over UDP: the DNS flag day's safe datagram size; a larger one goes
/// over TCP (RFC 2136 §6 allows either), since a datagram above 64 KB cannot be sent and
/// one above the path MTU may be lost in fragments.
pub const UDP_MAX: usize = 1232;

/// Sends [`rrset_update`] to `server` (signed with `key` if given) and returns the
/// answer's RCODE once the answer checks out: over UDP with [`client::exchange`], over TCP when
/// the message is larger than [`UDP_MAX`].
pub async fn send_rrset_update(
    server: SocketAddr,
    zone: &Name,
    changes: &[RrsetChange],
    no_cname_at: &[Name],
    key: Option<&TsigKey>,
    timeout: Duration,
) -> Result<ResponseCode, UpdateError> {
    let mut m = rrset_update(zone, changes, no_cname_at);
    let wire = m
        .to_vec()
        .map_err(|e| ExchangeError::Invalid(format!("cannot encode the request: {e}")))?;
    // hickory drops the records that do not fit and sets TC instead of failing.
    if wire[2] & 0x02 != 0 {
        return Err(UpdateError::TooLarge);
    }
    if wire.len() <= UDP_MAX {
        return Ok(client::exchange(server, &m, key, timeout).await?);
    }
    // A fresh random ID (hickory's, as for a query).
    m.metadata.id = Message::query().metadata.id;
    let mut rcode = ResponseCode::ServFail;
    let answered = axfr::exchange_tcp(server, &m, key, timeout, |answer, _| {
        if answer.metadata.op_code != OpCode::Update {
            return Err(AxfrError::Invalid(format!(
                "opcode {:?} in the answer to an UPDATE",
                answer.metadata.op_code
            )));
        }
        rcode = answer.metadata.response_code;
        Ok(true)
    })
    .await;
    let failed = match answered {
        Ok(()) => return Ok(rcode),
        // Not produced by the closure above; an unsigned error answer to a signed request.
        Err(AxfrError::Rcode(rc)) => return Ok(rc),
        Err(AxfrError::Timeout(ms)) => ExchangeError::Timeout(ms),
        Err(AxfrError::Io(e)) => ExchangeError::Io(e),
        Err(AxfrError::KeyRejected(e)) => ExchangeError::KeyRejected(e),
        Err(AxfrError::Invalid(e)) => ExchangeError::Invalid(e),
    };
    Err(failed.into())
}
