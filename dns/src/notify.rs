//! NOTIFY out (RFC 1996) to each zone's secondaries after a change.
//!
//! [`Notifier::start`] runs one task that hears of every new version; for each zone it sends
//! at once (Knot's notify-delay 0: the 100 ms budget from commit to NOTIFY leaves no room
//! for BIND's 5 s) a NOTIFY to every target of the zone's policy, and repeats it with
//! backoff until the target answers (RFC 1996 §3.6). A newer version of a zone replaces the
//! older one's pending retries: the secondary only needs to hear of the newest.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tern_dnsmsg::tsig;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::policy::{NotifyTarget, Policies};
use crate::stats::Stats;
use crate::zone::Zone;

/// How many times a NOTIFY is sent before giving up (RFC 1996 §3.6 suggests 5 over UDP).
pub const TRIES: u32 = 5;
/// The wait for the first answer; doubled after each unanswered try (1+2+4+8+16 s).
pub const FIRST_WAIT: Duration = Duration::from_secs(1);

/// Told of every new version of a zone the server installs. The default one does nothing
/// (tests serving zones from memory, servers without `notify`).
#[derive(Debug, Default)]
pub struct Notifier {
    tx: Option<mpsc::UnboundedSender<Arc<Zone>>>,
}

impl Notifier {
    /// Starts the sending task on the current tokio runtime. `policies` give each zone's
    /// targets and keys; `stats` counts the NOTIFY messages sent.
    pub fn start(policies: Policies, stats: Arc<Stats>) -> Notifier {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(rx, policies, stats));
        Notifier { tx: Some(tx) }
    }

    /// A new version of `zone` is being served.
    pub fn zone_changed(&self, zone: &Arc<Zone>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(zone.clone());
        }
    }
}

async fn run(mut rx: mpsc::UnboundedReceiver<Arc<Zone>>, policies: Policies, stats: Arc<Stats>) {
    let mut pending: HashMap<Name, Vec<JoinHandle<()>>> = HashMap::new();
    while let Some(zone) = rx.recv().await {
        let targets = &policies.get(zone.origin()).notify;
        if targets.is_empty() {
            continue;
        }
        if let Some(older) = pending.remove(zone.origin()) {
            // Superseded: the older version's retries stop.
            older.iter().for_each(JoinHandle::abort);
        }
        let tasks = targets
            .iter()
            .map(|t| tokio::spawn(notify(zone.clone(), t.clone(), stats.clone())))
            .collect();
        pending.insert(zone.origin().clone(), tasks);
        pending.retain(|_, tasks| tasks.iter().any(|t| !t.is_finished()));
    }
    pending.values().flatten().for_each(JoinHandle::abort);
}

/// How one target took the NOTIFY.
#[derive(Debug)]
enum Outcome {
    Answered(ResponseCode),
    BadAnswer(String),
    NoAnswer,
}

/// Sends `zone`'s NOTIFY to `target` until answered or [`TRIES`] are spent, and logs how
/// it ended.
async fn notify(zone: Arc<Zone>, target: NotifyTarget, stats: Arc<Stats>) {
    let (origin, serial, to) = (zone.origin(), zone.serial(), target.addr);
    let outcome = match exchange(&zone, &target, &stats).await {
        Ok(o) => o,
        Err(e) => Outcome::BadAnswer(format!("socket: {e}")),
    };
    match outcome {
        Outcome::Answered(ResponseCode::NoError) => {
            info!("DNS_NOTIFY_SENT zone {origin} serial {serial} to {to}: answered NOERROR")
        }
        Outcome::Answered(rcode) => warn!(
            "DNS_NOTIFY_FAILED zone {origin} serial {serial} to {to}: answered {}",
            tern_dnsmsg::rcode::mnemonic_or_number(rcode)
        ),
        Outcome::BadAnswer(why) => {
            warn!("DNS_NOTIFY_FAILED zone {origin} serial {serial} to {to}: {why}")
        }
        Outcome::NoAnswer => warn!(
            "DNS_NOTIFY_FAILED zone {origin} serial {serial} to {to}: no answer after {TRIES} tries"
        ),
    }
}

async fn exchange(zone: &Zone, target: &NotifyTarget, stats: &Stats) -> std::io::Result<Outcome> {
    let local: SocketAddr = if target.addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(target.addr).await?;
    let id = message_id();
    let wire = notify_message(zone, id);
    let (wire, mac) = match &target.key {
        Some(k) => match tsig::sign_request(&wire, k, tsig::unix_now(), tsig::DEFAULT_FUDGE) {
            Ok(s) => (s.wire, s.mac),
            Err(e) => return Ok(Outcome::BadAnswer(format!("cannot sign: {e}"))),
        },
        None => (wire, Vec::new()),
    };
    let mut wait = FIRST_WAIT;
    let mut buf = vec![0u8; 4096];
    for _ in 0..TRIES {
        socket.send(&wire).await?;
        stats.notifies.fetch_add(1, Relaxed);
        let deadline = tokio::time::Instant::now() + wait;
        // Datagrams that are not the answer (another ID, junk) are skipped until the wait ends.
        while let Ok(received) = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            let Ok(n) = received else {
                break; // ICMP port unreachable, say: count it as no answer this time
            };
            if let Some(outcome) = read_answer(&buf[..n], id, target, &mac) {
                return Ok(outcome);
            }
        }
        wait *= 2;
    }
    Ok(Outcome::NoAnswer)
}

/// The outcome an answer gives, `None` when the datagram is not the answer to ours.
fn read_answer(wire: &[u8], id: u16, target: &NotifyTarget, mac: &[u8]) -> Option<Outcome> {
    let message = Message::from_vec(wire).ok()?;
    if message.metadata.id != id
        || message.metadata.message_type != MessageType::Response
        || message.metadata.op_code != OpCode::Notify
    {
        return None;
    }
    let Some(key) = &target.key else {
        return Some(Outcome::Answered(message.metadata.response_code));
    };
    Some(
        match tsig::verify_response(wire, key, mac, tsig::unix_now()) {
            Ok(v) => Outcome::Answered(v.rcode()),
            Err(e) => Outcome::BadAnswer(format!("answer's TSIG: {e}")),
        },
    )
}

/// The NOTIFY of `zone` (RFC 1996 §3.7): opcode NOTIFY, AA, the question `origin IN SOA`,
/// and the SOA in the answer section (§3.7: a hint the secondary may use).
pub fn notify_message(zone: &Zone, id: u16) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Query, OpCode::Notify);
    m.metadata.authoritative = true;
    m.add_query(Query::query(zone.origin().clone(), RecordType::SOA));
    let soa = zone.soa();
    m.answers = soa.records(&soa.name, soa.ttl).collect();
    m.to_vec().unwrap_or_default()
}

/// An ID hard to guess from outside (RFC 5452 §9.2 asks that of queries): the std hasher's
/// random keys over a counter.
fn message_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Relaxed));
    h.finish() as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::tests::zone;

    #[test]
    fn the_notify_carries_the_soa_and_aa() {
        let z = zone(&[]);
        let m = Message::from_vec(&notify_message(&z, 7)).unwrap();
        assert_eq!(m.metadata.op_code, OpCode::Notify);
        assert!(m.metadata.authoritative);
        assert_eq!(m.queries[0].query_type(), RecordType::SOA);
        assert_eq!(m.queries[0].name(), z.origin());
        assert_eq!(m.answers.len(), 1);
        assert_eq!(m.answers[0].record_type(), RecordType::SOA);
    }

    #[test]
    fn only_our_answer_counts() {
        let z = zone(&[]);
        let target = NotifyTarget {
            addr: "127.0.0.1:53".parse().unwrap(),
            key: None,
        };
        let mut answer = Message::from_vec(&notify_message(&z, 7)).unwrap();
        answer.metadata.message_type = MessageType::Response;
        answer.metadata.response_code = ResponseCode::NotAuth;
        let wire = answer.to_vec().unwrap();
        assert!(read_answer(&wire, 8, &target, &[]).is_none(), "another ID");
        assert!(matches!(
            read_answer(&wire, 7, &target, &[]),
            Some(Outcome::Answered(ResponseCode::NotAuth))
        ));
        assert!(
            read_answer(&notify_message(&z, 7), 7, &target, &[]).is_none(),
            "a query"
        );
    }
}
