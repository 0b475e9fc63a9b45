//! One DNS message in, its answer(s) out: parsing, EDNS, TSIG, opcode dispatch.
//!
//! Plain queries take the synchronous path ([`Handler::answer_fast`]), which the UDP
//! threads run inline; everything else (signed messages, UPDATE, zone transfers, NOTIFY)
//! goes through [`Handler::handle`] on the tokio runtime.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};
use tern_dnsmsg::tsig::{self, TsigError, TsigKey, VerifiedRequest};
use tracing::{debug, info};

use sqlx::PgPool;

use crate::catalog::Catalog;
use crate::fast;
use crate::lookup::{self, Entry};
use crate::notify::Notifier;
use crate::policy::Policies;
use crate::stats::Stats;
use crate::zone::Zone;

/// The UDP payload size tern answers with by default (DNS flag day 2020: 1232 bytes keeps
/// answers below the IPv6 minimum MTU; BIND and Knot use it too).
pub const DEFAULT_UDP_PAYLOAD: u16 = 1232;
/// Without EDNS a UDP answer is at most 512 bytes (RFC 1035 §4.2.1).
const PLAIN_UDP: usize = 512;
const HEADER_LEN: usize = 12;

/// How the message came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: answers are cut to the client's payload size (TC set when they do not fit).
    Udp,
    /// TCP: up to 65,535 bytes per message, several messages for a zone transfer.
    Tcp,
}

/// A parsed request, its TSIG checked.
#[derive(Debug)]
pub struct Request<'a> {
    /// As received.
    pub wire: &'a [u8],
    /// Decoded, without its TSIG record (see [`tsig_key_name`]).
    pub message: Message,
    /// Who sent it.
    pub src: SocketAddr,
    /// How.
    pub transport: Transport,
    /// The key that signed it, when it was signed and the signature verified.
    pub tsig: Option<VerifiedRequest<'a>>,
}

/// What the zone server knows to answer with.
#[derive(Debug)]
pub struct Handler {
    /// The zones.
    pub catalog: Arc<Catalog>,
    /// TSIG keys accepted on requests (RFC 8945).
    pub keys: Vec<TsigKey>,
    /// UDP payload size offered and honoured (EDNS).
    pub udp_payload: u16,
    /// Counters.
    pub stats: Arc<Stats>,
    /// Per-zone update, transfer and notify policy.
    pub policies: Policies,
    /// The store (updates are applied there; IXFR reads its journal). `None` in tests that
    /// serve zones from memory only.
    pub store: Option<PgPool>,
    /// Sends NOTIFY when a zone changes.
    pub notifier: Notifier,
    /// UPDATEs waiting for their zone's next group commit.
    pub update_queues: crate::update::queue::Queues,
}

/// What [`Handler::triage`] made of a message.
#[derive(Debug)]
pub enum Triage {
    /// Answered (or dropped: no message).
    Done(Reply),
    /// Decoded, for [`Handler::handle_message`].
    Full(Message),
}

/// Buffers kept across plain queries by one thread.
#[derive(Debug, Default)]
pub struct Scratch {
    key: Vec<u8>,
    /// The answer.
    pub out: Vec<u8>,
}

/// Answers to one request: none (dropped), one, or several (a zone transfer over TCP).
pub type Reply = Vec<Vec<u8>>;

impl Handler {
    /// A handler over `catalog` with default settings.
    pub fn new(catalog: Arc<Catalog>, keys: Vec<TsigKey>) -> Handler {
        Handler {
            catalog,
            keys,
            udp_payload: DEFAULT_UDP_PAYLOAD,
            stats: Arc::new(Stats::default()),
            policies: Policies::default(),
            store: None,
            notifier: Notifier::default(),
            update_queues: Default::default(),
        }
    }

    /// The answer to an unsigned QUERY (not a transfer), or to something that must be
    /// refused at once (junk, a response); `None` when the message needs [`Handler::handle`].
    pub fn answer_fast(&self, wire: &[u8], transport: Transport) -> Option<Reply> {
        match self.triage(wire, transport, false) {
            Triage::Done(reply) => Some(reply),
            Triage::Full(_) => None,
        }
    }

    /// Sorts a message out once: answered here (a plain query, junk, a response), or
    /// decoded for [`Handler::handle_message`]. `plain_tried`: the caller already tried
    /// [`Handler::answer_plain`] on it.
    pub fn triage(&self, wire: &[u8], transport: Transport, plain_tried: bool) -> Triage {
        if !plain_tried {
            if let Some(reply) = self.answer_cached(wire, transport) {
                return Triage::Done(reply);
            }
        }
        let Some(header) = wire.get(..HEADER_LEN) else {
            self.stats.dropped();
            return Triage::Done(Vec::new()); // not even a header: nothing to answer to
        };
        if header[2] & 0x80 != 0 {
            // QR set: a response is never answered (RFC 1035 §4.1.1), that way no loop.
            self.stats.dropped();
            return Triage::Done(Vec::new());
        }
        let message = match Message::from_vec(wire) {
            Ok(m) => m,
            Err(e) => {
                debug!("DNS_FORMERR malformed message: {e}");
                return Triage::Done(vec![self.raw_error(header, ResponseCode::FormErr)]);
            }
        };
        if tsig_key_name(&message).is_some()
            || message.metadata.op_code != OpCode::Query
            || message
                .queries
                .first()
                .is_some_and(|q| matches!(q.query_type(), RecordType::AXFR | RecordType::IXFR))
        {
            return Triage::Full(message);
        }
        Triage::Done(vec![self.query(&message, transport)])
    }

    /// A plain question of a zone we serve: the answer kept in the zone's current version,
    /// or computed and kept there (see [`crate::fast`]).
    fn answer_cached(&self, wire: &[u8], transport: Transport) -> Option<Reply> {
        let mut scratch = Scratch::default();
        self.answer_plain(wire, transport, &mut scratch)?;
        Some(vec![scratch.out])
    }

    /// [`Handler::answer_cached`] into buffers the caller keeps (a UDP thread answers
    /// without allocating when the answer is kept): the answer is `scratch.out`.
    pub fn answer_plain(
        &self,
        wire: &[u8],
        transport: Transport,
        scratch: &mut Scratch,
    ) -> Option<()> {
        let q = fast::question(wire)?;
        if q.edns.is_some_and(|(_, _, version)| version != 0) {
            return None; // BADVERS, answered by the full path
        }
        let limit = self.limit_of(q.edns.map(|(size, _, _)| size), transport);
        fast::key_into(&mut scratch.key, &q, limit);
        let zone = self.catalog.find_wire(&scratch.key[..q.qname.len()])?;
        let qname = &scratch.key[..q.qname.len()];
        if let Some((rcode, qtype)) =
            zone.answers()
                .answer_into(&scratch.key, wire, q.qname.len(), &mut scratch.out, |c| {
                    zone.answer_valid(qname, c.generation, c.standalone)
                })
        {
            self.stats.query(qtype);
            self.stats.rcode(rcode);
            return Some(());
        }
        let message = Message::from_vec(wire).ok()?;
        let [question] = message.queries.as_slice() else {
            return None;
        };
        self.stats.query(question.query_type());
        let (resp, standalone) = self.answer_in(&zone, &message, question, transport);
        let rcode = resp.metadata.response_code;
        self.stats.rcode(rcode);
        scratch.out = self.encode(resp, limit);
        let truncated = scratch.out.get(2).is_some_and(|b| b & 0x02 != 0);
        zone.answers().keep(
            scratch.key.clone(),
            fast::Cached {
                wire: scratch.out.clone().into_boxed_slice(),
                rcode,
                qtype: question.query_type(),
                generation: zone.generation(),
                standalone: standalone && !truncated,
            },
        );
        Some(())
    }

    fn query(&self, message: &Message, transport: Transport) -> Vec<u8> {
        let resp = self.query_message(message, transport);
        self.encode(resp, self.limit(message, transport))
    }

    /// The response to a QUERY, before encoding.
    pub fn query_message(&self, message: &Message, transport: Transport) -> Message {
        if let Some(edns) = &message.edns {
            if edns.version() > 0 {
                // RFC 6891 §6.1.3: only version 0 exists.
                self.stats.rcode(ResponseCode::BADVERS);
                return self.error_response(message, ResponseCode::BADVERS);
            }
        }
        let [q] = message.queries.as_slice() else {
            // RFC 9619: exactly one question.
            self.stats.rcode(ResponseCode::FormErr);
            return self.error_response(message, ResponseCode::FormErr);
        };
        self.stats.query(q.query_type());
        if q.query_class() != DNSClass::IN && q.query_class() != DNSClass::ANY {
            self.stats.rcode(ResponseCode::Refused);
            return self.error_response(message, ResponseCode::Refused);
        }
        let Some(zone) = self.catalog.find(q.name()) else {
            // Not ours, and no recursion (RA stays clear).
            self.stats.rcode(ResponseCode::Refused);
            return self.error_response(message, ResponseCode::Refused);
        };
        let (resp, _) = self.answer_in(&zone, message, q, transport);
        self.stats.rcode(resp.metadata.response_code);
        resp
    }

    /// The answer to question `q` of `message` from `zone`, and whether it is standalone:
    /// the name's own RRset of the asked type and nothing else (no CNAME, wildcard, negative,
    /// referral or additional records; not the SOA, which changes with every version), so
    /// that a later version may answer it the same while that name is unchanged.
    fn answer_in(
        &self,
        zone: &Zone,
        message: &Message,
        q: &Query,
        transport: Transport,
    ) -> (Message, bool) {
        let qtype = q.query_type();
        let a = lookup::answer(zone, q.name(), qtype, transport == Transport::Tcp);
        let standalone = a.rcode == ResponseCode::NoError
            && a.authoritative
            && !a.synthesized
            && !matches!(qtype, RecordType::SOA | RecordType::ANY)
            && !a.answer.is_empty()
            && a.answer.iter().all(|e| e.set.rtype == qtype)
            && a.authority.is_empty()
            && a.additional.is_empty();
        let mut resp = self.response_to(message);
        resp.metadata.authoritative = a.authoritative;
        resp.metadata.response_code = a.rcode;
        resp.answers = records(&a.answer);
        resp.authorities = records(&a.authority);
        resp.additionals = records(&a.additional);
        (resp, standalone)
    }

    /// The largest answer `message` may get over `transport` (RFC 6891 §6.2.5: the
    /// client's size, within ours, never below 512).
    pub fn limit(&self, message: &Message, transport: Transport) -> usize {
        self.limit_of(message.edns.as_ref().map(Edns::max_payload), transport)
    }

    fn limit_of(&self, payload: Option<u16>, transport: Transport) -> usize {
        match (transport, payload) {
            (Transport::Tcp, _) => usize::from(u16::MAX),
            (Transport::Udp, None) => PLAIN_UDP,
            (Transport::Udp, Some(size)) => usize::from(size.min(self.udp_payload)).max(PLAIN_UDP),
        }
    }

    /// A response shell: ID, opcode, RD and CD copied, the question echoed as sent, and an
    /// OPT record when the request had one (DO echoed, RFC 3225 §3).
    pub fn response_to(&self, message: &Message) -> Message {
        let mut resp = Message::new(
            message.metadata.id,
            MessageType::Response,
            message.metadata.op_code,
        );
        resp.metadata.recursion_desired = message.metadata.recursion_desired;
        resp.metadata.checking_disabled = message.metadata.checking_disabled;
        resp.queries = message.queries.clone();
        if let Some(edns) = &message.edns {
            let mut e = Edns::new();
            e.set_max_payload(self.udp_payload);
            e.set_dnssec_ok(edns.flags().dnssec_ok);
            resp.set_edns(e);
        }
        resp
    }

    /// A response with `rcode` and no records.
    pub fn error_response(&self, message: &Message, rcode: ResponseCode) -> Message {
        let mut resp = self.response_to(message);
        resp.metadata.response_code = rcode;
        resp
    }

    /// Encodes `resp` within `limit` bytes: additional records go first, then everything
    /// with TC set (RFC 2181 §9: TC only when the required data does not fit).
    pub fn encode(&self, mut resp: Message, limit: usize) -> Vec<u8> {
        let mut wire = to_wire(&resp);
        if wire.len() <= limit {
            return wire;
        }
        resp.additionals.clear();
        wire = to_wire(&resp);
        if wire.len() <= limit {
            return wire;
        }
        resp.answers.clear();
        resp.authorities.clear();
        resp.metadata.truncation = true;
        self.stats.truncated();
        to_wire(&resp)
    }

    /// Encodes `resp` and signs it when `req` was signed (RFC 8945 §5.3).
    pub fn finish(&self, req: &Request<'_>, resp: Message) -> Vec<u8> {
        let limit = self.limit(&req.message, req.transport);
        let Some(v) = &req.tsig else {
            return self.encode(resp, limit);
        };
        // Room for the TSIG record: name, fixed fields, MAC, other data.
        let room = v.key.name.len() + v.key.algorithm.wire_name_str().len() + 64 + v.key.mac_len();
        let wire = self.encode(resp, limit.saturating_sub(room).max(PLAIN_UDP));
        match tsig::sign_response(
            &wire,
            v.key,
            &v.mac,
            tsig::unix_now(),
            tsig::DEFAULT_FUDGE,
            0,
            &[],
        ) {
            Ok(signed) => signed.wire,
            Err(_) => wire,
        }
    }

    /// The answer to a request whose TSIG failed (RFC 8945 §5.2): NOTAUTH with a TSIG record
    /// carrying the error — unsigned for BADKEY and BADSIG (§5.3.2), signed for BADTIME
    /// and BADTRUNC —; FORMERR without one for a malformed record. Nothing it asked for is
    /// done; the reason is logged.
    pub(crate) fn tsig_refusal(
        &self,
        wire: &[u8],
        message: &Message,
        src: SocketAddr,
        e: &TsigError,
    ) -> Vec<u8> {
        let key = tsig_key_name(message)
            .map(Name::to_string)
            .unwrap_or_default();
        info!(
            "DNS_TSIG_REFUSED {:?} from {src} signed with key {key} refused: {e}",
            message.metadata.op_code
        );
        self.stats.tsig_refused();
        if message.metadata.op_code == OpCode::Update {
            self.stats.updates_refused.fetch_add(1, Relaxed);
        }
        let rcode = match e {
            TsigError::Malformed(_) => ResponseCode::FormErr,
            _ => ResponseCode::NotAuth,
        };
        let mut resp = self.error_response(message, rcode);
        resp.signature = None;
        let unsigned = self.encode(resp, PLAIN_UDP);
        match tsig::sign_error_response(wire, &unsigned, &self.keys, e, tsig::unix_now()) {
            Ok(Some(signed)) => signed.wire,
            Ok(None) => unsigned,
            Err(err) => {
                debug!("DNS_TSIG_ERROR_UNSIGNED cannot add the TSIG error record: {err}");
                unsigned
            }
        }
    }

    /// FORMERR (or another RCODE) for a message hickory cannot decode: the header echoed,
    /// no sections (RFC 1035 §4.1.1).
    fn raw_error(&self, header: &[u8], rcode: ResponseCode) -> Vec<u8> {
        self.stats.rcode(rcode);
        let mut out = header[..4].to_vec();
        out[2] = 0x80 | (header[2] & 0x79); // QR, opcode and RD kept
        out[3] = rcode.low();
        out.extend_from_slice(&[0; 8]);
        out
    }
}

/// The key name of a signed message's TSIG record. hickory lifts the record into
/// `Message::signature` only when built with its DNSSEC features, which tern is not; without
/// them it stays among the additional records ([`tsig::verify_request`] then checks that it
/// is the last one, RFC 8945 §5.2).
pub fn tsig_key_name(message: &Message) -> Option<&Name> {
    message
        .additionals
        .iter()
        .find(|r| r.record_type() == RecordType::TSIG)
        .map(|r| &r.name)
        .or_else(|| message.signature().map(|s| &s.name))
}

fn records(entries: &[Entry]) -> Vec<Record> {
    entries
        .iter()
        .flat_map(|e| e.set.records(&e.owner, e.ttl))
        .collect()
}

fn to_wire(resp: &Message) -> Vec<u8> {
    resp.to_vec().unwrap_or_else(|e| {
        // Data that cannot be encoded (a name grown too long): SERVFAIL rather than nothing.
        debug!("DNS_ENCODE_FAILED {e}");
        let mut fail = Message::new(
            resp.metadata.id,
            MessageType::Response,
            resp.metadata.op_code,
        );
        fail.metadata.response_code = ResponseCode::ServFail;
        fail.queries = resp.queries.clone();
        fail.to_vec().unwrap_or_default()
    })
}
