//! The query fast path: a plain question read straight off the wire, and answers kept per
//! zone version.
//!
//! Most queries are one question, class IN, maybe an OPT record, nothing else. For those
//! the key (lower-cased name, type, EDNS presence, DO, version, the size limit) fully
//! decides the answer bytes but for the ID, the RD and CD bits and the question's letter
//! case, which are patched in. Answers are kept with the zone, marked with the version
//! they were computed from; a later version uses one only when nothing it depends on has
//! changed since ([`Zone::answer_valid`](crate::zone::Zone::answer_valid)), so a kept
//! answer is never older than the data served (unlike a TTL-bound packet cache such as
//! PowerDNS's), and a zone taking thousands of updates a second keeps its answers for the
//! names the updates do not touch.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::LazyLock;
use std::sync::RwLock;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

/// Answers kept per zone version at most (then new ones are not kept).
const MAX_ENTRIES: usize = 1 << 18;
const SHARDS: usize = 16;

/// A question as the fast path reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question<'a> {
    /// The name in wire form as sent (with its final zero byte).
    pub qname: &'a [u8],
    /// QTYPE.
    pub qtype: u16,
    /// The OPT record's payload size, DO bit and version, when there is one.
    pub edns: Option<(u16, bool, u8)>,
}

/// Reads `wire` as a plain query: QR clear, opcode QUERY, one question of class IN without
/// compression, no answer or authority records, at most an OPT record (its options
/// ignored: tern answers none of them, RFC 6891 §6.1.2). `None` for anything else.
pub fn question(wire: &[u8]) -> Option<Question<'_>> {
    let header = wire.get(..12)?;
    if header[2] & 0xf8 != 0 {
        return None; // QR or an opcode other than QUERY
    }
    if header[4..10] != [0, 1, 0, 0, 0, 0] || header[10] != 0 || header[11] > 1 {
        return None;
    }
    let mut i = 12;
    loop {
        let len = usize::from(*wire.get(i)?);
        if len == 0 {
            i += 1;
            break;
        }
        if len > 63 {
            return None; // compression or an extended label type
        }
        i += 1 + len;
        if i - 12 > 254 {
            return None;
        }
    }
    let qname = &wire[12..i];
    let fixed = wire.get(i..i + 4)?;
    let qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    if fixed[2..4] != [0, 1] || matches!(qtype, 251 | 252 | 41 | 250) {
        return None; // class other than IN; IXFR, AXFR, OPT, TSIG
    }
    i += 4;
    let edns = if header[11] == 1 {
        // Root owner, type OPT, then class = payload size, TTL = ext-RCODE, version, flags.
        let opt = wire.get(i..i + 11)?;
        if opt[0] != 0 || opt[1..3] != [0, 41] {
            return None;
        }
        let rdlen = usize::from(u16::from_be_bytes([opt[9], opt[10]]));
        if wire.len() != i + 11 + rdlen {
            return None;
        }
        Some((
            u16::from_be_bytes([opt[3], opt[4]]),
            opt[7] & 0x80 != 0,
            opt[6],
        ))
    } else {
        if wire.len() != i {
            return None;
        }
        None
    };
    Some(Question { qname, qtype, edns })
}

/// Writes into `k` the key of an answer: the lower-cased name (its first `qname.len()`
/// bytes, also the zones' key), then everything but ID, RD, CD and letter case that shapes
/// the answer.
pub fn key_into(k: &mut Vec<u8>, q: &Question<'_>, limit: usize) {
    k.clear();
    k.extend(q.qname.iter().map(u8::to_ascii_lowercase));
    k.extend_from_slice(&q.qtype.to_be_bytes());
    match q.edns {
        None => k.push(0),
        Some((_, dnssec_ok, version)) => {
            k.push(1 + u8::from(dnssec_ok));
            k.push(version);
        }
    }
    k.extend_from_slice(&(limit.min(usize::from(u16::MAX)) as u16).to_be_bytes());
}

/// One kept answer.
#[derive(Debug)]
pub struct Cached {
    /// The response as first sent.
    pub wire: Box<[u8]>,
    /// Its RCODE (for the counters).
    pub rcode: ResponseCode,
    /// The question's type (for the counters).
    pub qtype: RecordType,
    /// The zone version it was made from.
    pub generation: u64,
    /// Only the name's own RRset of the asked type (see
    /// [`Zone::answer_valid`](crate::zone::Zone::answer_valid)).
    pub standalone: bool,
}

/// Answers of one zone version.
#[derive(Debug, Default)]
pub struct AnswerCache {
    shards: [RwLock<HashMap<Vec<u8>, Cached, foldhash::fast::RandomState>>; SHARDS],
}

/// Picks the shard; its own seed, so the shard says nothing of the map's hashing.
static SHARD_SEED: LazyLock<foldhash::fast::RandomState> = LazyLock::new(Default::default);

fn shard_of(key: &[u8]) -> usize {
    (SHARD_SEED.hash_one(key) as usize) % SHARDS
}

impl AnswerCache {
    /// The answer kept under `key`, made the answer to `query`: `out` gets the bytes with
    /// the query's ID, RD and CD bits and question name; returns the counters' values.
    pub fn answer_into(
        &self,
        key: &[u8],
        query: &[u8],
        qname_len: usize,
        out: &mut Vec<u8>,
        valid: impl Fn(&Cached) -> bool,
    ) -> Option<(ResponseCode, RecordType)> {
        let shard = self.shards[shard_of(key)]
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let c = shard.get(key).filter(|c| valid(c))?;
        out.clear();
        out.extend_from_slice(&c.wire);
        patch(out, query, qname_len);
        Some((c.rcode, c.qtype))
    }

    /// Keeps `answer` under `key` (replacing an older one); a full shard starts afresh.
    pub fn keep(&self, key: Vec<u8>, answer: Cached) {
        let mut shard = self.shards[shard_of(&key)]
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if shard.len() >= MAX_ENTRIES / SHARDS && !shard.contains_key(&key) {
            shard.clear();
        }
        shard.insert(key, answer);
    }
}

/// Copies the query's ID, RD and CD bits and question name (its letter case) into
/// `response` (whose question is the same name, so the same length).
fn patch(response: &mut [u8], query: &[u8], qname_len: usize) {
    response[..2].copy_from_slice(&query[..2]);
    response[2] = (response[2] & !0x01) | (query[2] & 0x01);
    response[3] = (response[3] & !0x10) | (query[3] & 0x10);
    let q = 12..12 + qname_len;
    if response.len() >= q.end {
        response[q.clone()].copy_from_slice(&query[q]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
    use hickory_proto::rr::Name;

    fn query(name: &str, t: RecordType, edns: bool) -> Vec<u8> {
        let mut m = Message::new(0x1234, MessageType::Query, OpCode::Query);
        m.queries
            .push(Query::query(Name::from_ascii(name).unwrap(), t));
        if edns {
            let mut e = Edns::new();
            e.set_max_payload(4096);
            e.set_dnssec_ok(true);
            m.set_edns(e);
        }
        m.to_vec().unwrap()
    }

    #[test]
    fn plain_questions_are_read() {
        let w = query("Printer.example.com.", RecordType::A, false);
        let q = question(&w).unwrap();
        assert_eq!(q.qtype, 1);
        assert_eq!(q.qname.len(), 21);
        assert_eq!(q.edns, None);
        let w = query("a.example.com.", RecordType::AAAA, true);
        assert_eq!(question(&w).unwrap().edns, Some((4096, true, 0)));
    }

    #[test]
    fn anything_else_takes_the_full_path() {
        let axfr = query("example.com.", RecordType::AXFR, false);
        assert!(question(&axfr).is_none());
        let mut response = query("example.com.", RecordType::A, false);
        response[2] |= 0x80;
        assert!(question(&response).is_none());
        let mut trailing = query("example.com.", RecordType::A, false);
        trailing.push(0);
        assert!(question(&trailing).is_none());
        let short = query("example.com.", RecordType::A, false);
        assert!(question(&short[..short.len() - 1]).is_none());
        let mut update = query("example.com.", RecordType::SOA, false);
        update[2] = 5 << 3;
        assert!(question(&update).is_none());
    }

    #[test]
    fn keys_ignore_case_and_separate_what_shapes_the_answer() {
        let a = query("Printer.Example.com.", RecordType::A, false);
        let b = query("printer.example.com.", RecordType::A, false);
        let (qa, qb) = (question(&a).unwrap(), question(&b).unwrap());
        let key = |q: &Question<'_>, limit| {
            let mut k = Vec::new();
            key_into(&mut k, q, limit);
            k
        };
        assert_eq!(key(&qa, 512), key(&qb, 512));
        assert_eq!(
            &key(&qa, 512)[..qa.qname.len()],
            b"\x07printer\x07example\x03com\x00"
        );
        assert_ne!(key(&qa, 512), key(&qa, 1232));
        let e = query("printer.example.com.", RecordType::A, true);
        let qe = question(&e).unwrap();
        assert_ne!(key(&qe, 512), key(&qb, 512));
    }
}
