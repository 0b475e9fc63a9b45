//! A generic RFC 2136 UPDATE of whole RRsets, for callers that edit a zone directly (the
//! API's PowerDNS-compatible zone editing) rather than per NCR: every change of one
//! request goes in one message, so the server applies all of them or none (§3.4).

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use crate::client::{self, ExchangeError};
use crate::transaction::messages::new_update;
use crate::tsig::TsigKey;

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
        let mut r = Record::update0(name.clone(), 0, RecordType::CNAME);
        r.dns_class = DNSClass::NONE;
        m.add_answer(r);
    }
    for c in changes {
        let (name, rtype) = match c {
            RrsetChange::Replace { name, rtype, .. } | RrsetChange::Delete { name, rtype } => {
                (name, *rtype)
            }
        };
        let mut delete = Record::update0(name.clone(), 0, rtype);
        delete.dns_class = DNSClass::ANY;
        m.add_authority(delete);
        if let RrsetChange::Replace { ttl, records, .. } = c {
            for data in records {
                m.add_authority(Record::from_rdata(name.clone(), *ttl, data.clone()));
            }
        }
    }
    m
}

/// Sends [`rrset_update`] to `server` (signed with `key` if given) and returns the
/// answer's RCODE once the answer checks out.
pub async fn send_rrset_update(
    server: SocketAddr,
    zone: &Name,
    changes: &[RrsetChange],
    no_cname_at: &[Name],
    key: Option<&TsigKey>,
    timeout: Duration,
) -> Result<ResponseCode, ExchangeError> {
    let m = rrset_update(zone, changes, no_cname_at);
    client::exchange(server, &m, key, timeout).await
}
