//! The zone server's counters: queries by type, answers by RCODE, and what was dropped,
//! truncated or refused. Lock-free; read by the API's `/metrics` and statistic commands.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

/// Query types counted one by one; the rest count as "other".
pub const QTYPES: [RecordType; 12] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::PTR,
    RecordType::CNAME,
    RecordType::MX,
    RecordType::TXT,
    RecordType::NS,
    RecordType::SOA,
    RecordType::SRV,
    RecordType::ANY,
    RecordType::AXFR,
    RecordType::IXFR,
];

/// RCODEs counted one by one (RFC 6895 §2.3 names); the rest count as "other".
pub const RCODES: [ResponseCode; 7] = [
    ResponseCode::NoError,
    ResponseCode::FormErr,
    ResponseCode::ServFail,
    ResponseCode::NXDomain,
    ResponseCode::NotImp,
    ResponseCode::Refused,
    ResponseCode::NotAuth,
];

/// Counters since start.
#[derive(Debug, Default)]
pub struct Stats {
    qtype: [AtomicU64; QTYPES.len() + 1],
    rcode: [AtomicU64; RCODES.len() + 1],
    dropped: AtomicU64,
    truncated: AtomicU64,
    tsig_refused: AtomicU64,
    /// RFC 2136 updates applied.
    pub updates_applied: AtomicU64,
    /// RFC 2136 updates refused (policy, prerequisites, TSIG).
    pub updates_refused: AtomicU64,
    /// Zone transfers sent (AXFR and IXFR).
    pub transfers: AtomicU64,
    /// NOTIFY messages sent.
    pub notifies: AtomicU64,
}

impl Stats {
    pub(crate) fn query(&self, t: RecordType) {
        let i = QTYPES.iter().position(|q| *q == t).unwrap_or(QTYPES.len());
        self.qtype[i].fetch_add(1, Relaxed);
    }

    pub(crate) fn rcode(&self, r: ResponseCode) {
        let i = RCODES.iter().position(|q| *q == r).unwrap_or(RCODES.len());
        self.rcode[i].fetch_add(1, Relaxed);
    }

    pub(crate) fn dropped(&self) {
        self.dropped.fetch_add(1, Relaxed);
    }

    pub(crate) fn truncated(&self) {
        self.truncated.fetch_add(1, Relaxed);
    }

    pub(crate) fn tsig_refused(&self) {
        self.tsig_refused.fetch_add(1, Relaxed);
    }

    /// Queries by type name (`A`, ..., `other`).
    pub fn queries_by_type(&self) -> Vec<(String, u64)> {
        let names = QTYPES.iter().map(|t| t.to_string()).chain(["other".into()]);
        names
            .zip(self.qtype.iter().map(|c| c.load(Relaxed)))
            .collect()
    }

    /// Answers by RCODE mnemonic (`NOERROR`, ..., `other`).
    pub fn answers_by_rcode(&self) -> Vec<(String, u64)> {
        let names = RCODES
            .iter()
            .map(|r| tern_dnsmsg::rcode::mnemonic_or_number(*r))
            .chain(["other".into()]);
        names
            .zip(self.rcode.iter().map(|c| c.load(Relaxed)))
            .collect()
    }

    /// Messages dropped unanswered (responses, fragments of headers).
    pub fn dropped_total(&self) -> u64 {
        self.dropped.load(Relaxed)
    }

    /// UDP answers sent truncated (TC).
    pub fn truncated_total(&self) -> u64 {
        self.truncated.load(Relaxed)
    }

    /// Requests refused for their TSIG.
    pub fn tsig_refused_total(&self) -> u64 {
        self.tsig_refused.load(Relaxed)
    }
}
