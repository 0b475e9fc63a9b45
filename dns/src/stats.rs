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

impl Stats {
    /// Every counter under a statistic name in Kea's style, for the command channel's
    /// `statistic-get-all` and `/metrics` (`dns-queries.type[A]` becomes
    /// `tern_dns_queries_type{type="A"}`).
    pub fn snapshot(&self) -> Vec<(String, i64)> {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let mut out: Vec<(String, i64)> = self
            .queries_by_type()
            .into_iter()
            .map(|(t, v)| (format!("dns-queries.type[{t}]"), n(v)))
            .collect();
        out.extend(
            self.answers_by_rcode()
                .into_iter()
                .map(|(r, v)| (format!("dns-responses.rcode[{r}]"), n(v))),
        );
        out.extend([
            ("dns-dropped".to_string(), n(self.dropped_total())),
            ("dns-truncated".to_string(), n(self.truncated_total())),
            ("dns-tsig-refused".to_string(), n(self.tsig_refused_total())),
            (
                "dns-updates-applied".to_string(),
                n(self.updates_applied.load(Relaxed)),
            ),
            (
                "dns-updates-refused".to_string(),
                n(self.updates_refused.load(Relaxed)),
            ),
            ("dns-transfers".to_string(), n(self.transfers.load(Relaxed))),
            ("dns-notifies".to_string(), n(self.notifies.load(Relaxed))),
        ]);
        out
    }
}
