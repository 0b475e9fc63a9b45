//! Zone transfers out: AXFR (RFC 5936) and IXFR (RFC 1995), behind `allow-transfer`.
//!
//! An answer is a stream of messages, each filled with as many records as fit in 64 KiB and
//! each TSIG-signed when the request was (RFC 8945 §5.3.1: later MACs chain on the prior
//! one; BIND accepts gaps of up to 100 unsigned messages, but Knot and miekg/dns clients
//! want every message signed, so every one is). IXFR is condensed from the store's journal
//! into one difference sequence: the net change from the client's serial to ours.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use tern_dnsmsg::content;
use tern_dnsmsg::tsig::{self, TsigKey};
use tracing::{debug, info, warn};

use crate::handler::{Handler, Reply, Request, Transport};
use crate::policy::TransferRule;
use crate::zone::{Op, Zone};

/// Answers an AXFR or IXFR query.
pub async fn handle(h: &Handler, req: &Request<'_>) -> Reply {
    let [q] = req.message.queries.as_slice() else {
        return refuse(h, req, ResponseCode::FormErr);
    };
    let kind = q.query_type();
    h.stats.query(kind);
    if kind == RecordType::AXFR && req.transport == Transport::Udp {
        // RFC 5936 §4.2: AXFR is TCP only. BIND answers FORMERR ("attempted AXFR over
        // UDP"), and so does tern.
        debug!("DNS_XFR_FORMERR AXFR over UDP from {}", req.src);
        return refuse(h, req, ResponseCode::FormErr);
    }
    let Some(zone) = h.catalog.get(q.name()) else {
        // BIND and Knot answer NOTAUTH for a zone they do not serve (kdig against both).
        return refuse(h, req, ResponseCode::NotAuth);
    };
    let key = req.tsig.as_ref().map(|v| &v.key.name);
    if !allowed(&h.policies.get(zone.origin()).transfer, key, req.src.ip()) {
        let by = key.map(|k| format!(" key {k}")).unwrap_or_default();
        info!(
            "DNS_XFR_REFUSED {kind} of zone {} to {}{by}: not allowed by allow-transfer",
            zone.origin(),
            req.src
        );
        return refuse(h, req, ResponseCode::Refused);
    }
    let (records, how) = if kind == RecordType::AXFR {
        (axfr_records(&zone), "AXFR")
    } else {
        match client_serial(&req.message, zone.origin()) {
            Some(serial) => ixfr(h, &zone, serial).await,
            // RFC 1995 §3: the authority section carries the client's SOA.
            None => return refuse(h, req, ResponseCode::FormErr),
        }
    };
    let (messages, count) = if req.transport == Transport::Udp {
        udp_answer(h, req, &zone, records)
    } else {
        let count = records.len();
        (stream(h, req, records), count)
    };
    h.stats.rcode(ResponseCode::NoError);
    h.stats.transfers.fetch_add(1, Relaxed);
    info!(
        "DNS_XFR_OUT zone {} serial {} to {} ({how}, {} records, {} messages)",
        zone.origin(),
        zone.serial(),
        req.src,
        count,
        messages.len()
    );
    messages
}

fn refuse(h: &Handler, req: &Request<'_>, rcode: ResponseCode) -> Reply {
    h.stats.rcode(rcode);
    vec![h.finish(req, h.error_response(&req.message, rcode))]
}

/// Whether `allow-transfer` lets a request signed with `key` (verified) from `src` have
/// the zone: any rule matching is enough; no rules, no transfers.
pub fn allowed(rules: &[TransferRule], key: Option<&Name>, src: IpAddr) -> bool {
    rules.iter().any(|r| match r {
        TransferRule::Key(k) => key.is_some_and(|key| key.eq_ignore_root(k)),
        TransferRule::Network(net, len) => in_network(src, *net, *len),
    })
}

/// Whether `ip` lies in `net`/`len` (an IPv4 client over an IPv6 socket counts as IPv4).
fn in_network(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => prefix_eq(&a.octets(), &n.octets(), len),
        (IpAddr::V6(a), IpAddr::V6(n)) => prefix_eq(&a.octets(), &n.octets(), len),
        _ => false,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let bits = usize::from(len).min(a.len() * 8);
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// The serial of the SOA the IXFR request carries for `origin` (RFC 1995 §3).
fn client_serial(message: &Message, origin: &Name) -> Option<u32> {
    message.authorities.iter().find_map(|r| match &r.data {
        RData::SOA(soa) if r.name == *origin => Some(soa.serial),
        _ => None,
    })
}

/// RFC 1982 §3.2: `a` is newer than `b`.
pub fn serial_gt(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 1 << 31
}

/// The zone's SOA record, with `serial` in place of its own.
fn soa_record(zone: &Zone, serial: u32) -> Record {
    let set = zone.soa();
    let mut rdata = set.rdatas[0].clone();
    if let RData::SOA(soa) = &mut rdata {
        soa.serial = serial;
    }
    Record::from_rdata(set.name.clone(), set.ttl, rdata)
}

/// The whole zone, SOA first and last (RFC 5936 §2.2).
fn axfr_records(zone: &Zone) -> Vec<Record> {
    let soa = soa_record(zone, zone.serial());
    let mut out = Vec::with_capacity(zone.len() + 2);
    out.push(soa.clone());
    for set in zone.rrsets() {
        out.extend(set.records(&set.name, set.ttl));
    }
    out.push(soa);
    out
}

/// The IXFR answer to a client at `serial` (RFC 1995 §4), and how it was made.
async fn ixfr(h: &Handler, zone: &Zone, serial: u32) -> (Vec<Record>, &'static str) {
    if !serial_gt(zone.serial(), serial) {
        // Up to date (or ahead of us): our SOA alone.
        return (vec![soa_record(zone, zone.serial())], "IXFR, up to date");
    }
    let Some(pool) = &h.store else {
        return (axfr_records(zone), "IXFR as AXFR, no journal");
    };
    let entries = match journal(pool, zone.id(), serial).await {
        Ok(Some(e)) => e,
        Ok(None) => return (axfr_records(zone), "IXFR as AXFR, history gone"),
        Err(e) => {
            warn!(
                "DNS_XFR_JOURNAL_ERROR zone {}: {e}; answering AXFR-style",
                zone.origin()
            );
            return (axfr_records(zone), "IXFR as AXFR, journal unreadable");
        }
    };
    let changes = entries
        .iter()
        .map(|(serial, op, name, rtype, ttl, content)| {
            (
                *serial,
                *op,
                name.as_str(),
                rtype.as_str(),
                *ttl,
                content.as_str(),
            )
        });
    match condense(zone.serial(), changes) {
        // BIND's max-ixfr-ratio (100 %): a difference bigger than the zone goes as the zone.
        Ok((deleted, added)) if deleted.len() + added.len() > zone.len() + 1 => (
            axfr_records(zone),
            "IXFR as AXFR, difference outgrows the zone",
        ),
        Ok((deleted, added)) => (difference(zone, serial, deleted, added), "IXFR"),
        Err(e) => {
            warn!(
                "DNS_XFR_JOURNAL_ERROR zone {}: {e}; answering AXFR-style",
                zone.origin()
            );
            (axfr_records(zone), "IXFR as AXFR, journal unreadable")
        }
    }
}

/// A journal entry: (serial, op, owner, type, ttl, content).
type Change = (u32, Op, String, String, u32, String);

/// The store's journal of zone `id` after `serial`; `None` when it no longer reaches back
/// that far (or `serial` is no version the zone had).
async fn journal(
    pool: &sqlx::PgPool,
    id: i64,
    serial: u32,
) -> Result<Option<Vec<Change>>, tern_store::Error> {
    use tern_store::zone::{journal_since, JournalOp};
    let entries = journal_since(pool, id, serial).await?;
    Ok(entries.map(|v| {
        v.into_iter()
            .map(|e| {
                let op = match e.op {
                    JournalOp::Delete => Op::Delete,
                    JournalOp::Add => Op::Add,
                };
                (e.serial, op, e.name, e.rtype, e.ttl, e.content)
            })
            .collect()
    }))
}

/// One condensed difference sequence (RFC 1995 §4): newest SOA, the client's SOA, the
/// deletions, newest SOA, the additions, newest SOA.
fn difference(zone: &Zone, from: u32, deleted: Vec<Record>, added: Vec<Record>) -> Vec<Record> {
    let newest = soa_record(zone, zone.serial());
    let mut out = Vec::with_capacity(deleted.len() + added.len() + 4);
    out.push(newest.clone());
    out.push(soa_record(zone, from));
    out.extend(deleted);
    out.push(newest.clone());
    out.extend(added);
    out.push(newest);
    out
}

/// The net change of journal entries `(serial, op, owner, type, ttl, content)` (in journal
/// order) up to serial `upto` (entries of later versions, which the store may already hold
/// while we serve `upto`, are left out): (deletions, additions). Records are compared as
/// parsed data with case-insensitive names, not as text, so `- A 192.0.2.1` and a later
/// `+ A 192.0.2.1` cancel whatever spelling each used; a TTL change stays a deletion and an
/// addition.
pub fn condense<'a>(
    upto: u32,
    entries: impl IntoIterator<Item = (u32, Op, &'a str, &'a str, u32, &'a str)>,
) -> Result<(Vec<Record>, Vec<Record>), String> {
    // +1 added, -1 deleted, 0 netted out; the Vec keeps first-seen order.
    let mut order: Vec<(Record, i8)> = Vec::new();
    let mut index: HashMap<(Name, RecordType, u32, RData), usize> = HashMap::new();
    for (serial, op, name, rtype, ttl, text) in entries {
        if serial_gt(serial, upto) {
            break;
        }
        let mut owner = Name::from_ascii(name).map_err(|e| format!("{name:?}: {e}"))?;
        owner.set_fqdn(true);
        let t = content::record_type(rtype).ok_or_else(|| format!("unknown type {rtype:?}"))?;
        let data = content::parse(t, text).map_err(|e| format!("{name} {rtype} {text:?}: {e}"))?;
        let step: i8 = if op == Op::Add { 1 } else { -1 };
        let key = (owner.clone(), t, ttl, data.clone());
        match index.get(&key) {
            Some(&i) => order[i].1 = (order[i].1 + step).clamp(-1, 1),
            None => {
                index.insert(key, order.len());
                order.push((Record::from_rdata(owner, ttl, data), step));
            }
        }
    }
    let (mut deleted, mut added) = (Vec::new(), Vec::new());
    for (r, net) in order {
        match net {
            -1 => deleted.push(r),
            1 => added.push(r),
            _ => {}
        }
    }
    Ok((deleted, added))
}

/// Bytes a signature takes at the end of a message (owner, fixed fields, MAC, other data).
fn tsig_room(key: &TsigKey) -> usize {
    key.name.len() + key.algorithm.wire_name_str().len() + 64 + key.mac_len()
}

/// Over UDP an IXFR answer goes whole in one message, or as our SOA alone when it does not
/// fit (RFC 1995 §2: the client then asks over TCP). Returns it and how many records it holds.
fn udp_answer(h: &Handler, req: &Request<'_>, zone: &Zone, records: Vec<Record>) -> (Reply, usize) {
    let room = req.tsig.as_ref().map_or(0, |v| tsig_room(v.key));
    let limit = h.limit(&req.message, Transport::Udp).saturating_sub(room);
    let mut resp = h.response_to(&req.message);
    resp.metadata.authoritative = true;
    resp.answers = records;
    if resp.to_vec().map_or(true, |w| w.len() > limit) {
        resp.answers = vec![soa_record(zone, zone.serial())];
    }
    let count = resp.answers.len();
    (vec![h.finish(req, resp)], count)
}

/// The records as TCP messages of at most 64 KiB each, question in the first only
/// (RFC 5936 §2.2), every message signed when the request was.
///
/// Each record is encoded once, straight into its message: when one does not fit, the
/// encoder steps back over it (its compression pointers with it) and it opens the next
/// message.
fn stream(h: &Handler, req: &Request<'_>, records: Vec<Record>) -> Reply {
    let signer = req.tsig.as_ref();
    let budget = usize::from(u16::MAX) - signer.map_or(0, |v| tsig_room(v.key)) - 64;
    let mut first = h.response_to(&req.message);
    first.metadata.authoritative = true;
    // OPT goes last, after the answers: encoded apart and appended to every message.
    let opt = first.edns.take().map(|e| {
        let mut b = Vec::new();
        let _ = Record::from(&e).emit(&mut BinEncoder::new(&mut b));
        b
    });
    let mut later = first.clone();
    later.queries.clear();
    let budget = budget - opt.as_ref().map_or(0, Vec::len);
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut records = records.into_iter().peekable();
    let mut shell = &first;
    while records.peek().is_some() || out.is_empty() {
        let mut buf = Vec::with_capacity(usize::from(u16::MAX));
        let mut count: u16 = 0;
        {
            let mut enc = BinEncoder::new(&mut buf);
            if shell.emit(&mut enc).is_err() {
                break;
            }
            while let Some(r) = records.peek() {
                let mark = enc.offset();
                let fits = r.emit(&mut enc).is_ok() && enc.offset() <= budget;
                if !fits {
                    enc.set_offset(mark);
                    enc.trim();
                    if count == 0 {
                        // A record that fits no message at all: left out rather than
                        // looping (RFC 5936 §2.2 has no way to send it).
                        warn!(
                            "DNS_XFR_RECORD_TOO_BIG {} {} left out of the transfer",
                            r.name,
                            r.record_type()
                        );
                        records.next();
                        continue;
                    }
                    break;
                }
                count += 1;
                records.next();
            }
        }
        buf[6..8].copy_from_slice(&count.to_be_bytes());
        if let Some(opt) = &opt {
            buf.extend_from_slice(opt);
            buf[10..12].copy_from_slice(&1u16.to_be_bytes());
        }
        out.push(buf);
        shell = &later;
    }
    let now = tsig::unix_now();
    let mut prior: Option<Vec<u8>> = None;
    out.into_iter()
        .map(|wire| {
            let Some(v) = signer else {
                return wire;
            };
            let signed = match &prior {
                None => tsig::sign_response(&wire, v.key, &v.mac, now, tsig::DEFAULT_FUDGE, 0, &[]),
                Some(mac) => tsig::sign_subsequent(&wire, v.key, mac, now, tsig::DEFAULT_FUDGE),
            };
            match signed {
                Ok(s) => {
                    prior = Some(s.mac);
                    s.wire
                }
                Err(_) => wire,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn allow_transfer_by_key_or_network_and_nothing_without_rules() {
        let rules = [
            TransferRule::Key(n("xfr.")),
            TransferRule::Network("10.1.0.0".parse().unwrap(), 16),
            TransferRule::Network("2001:db8::".parse().unwrap(), 33),
        ];
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(allowed(&rules, Some(&n("XFR")), lo));
        assert!(!allowed(&rules, Some(&n("other.")), lo));
        assert!(!allowed(&rules, None, lo));
        assert!(allowed(&rules, None, "10.1.255.3".parse().unwrap()));
        assert!(!allowed(&rules, None, "10.2.0.1".parse().unwrap()));
        assert!(allowed(&rules, None, "::ffff:10.1.0.9".parse().unwrap()));
        assert!(allowed(&rules, None, "2001:db8:7fff::1".parse().unwrap()));
        assert!(!allowed(&rules, None, "2001:db8:8000::1".parse().unwrap()));
        assert!(!allowed(&[], Some(&n("xfr.")), lo));
        let any = [TransferRule::Network("0.0.0.0".parse().unwrap(), 0)];
        assert!(allowed(&any, None, "192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn a_big_zone_streams_in_full_messages_each_signed_on_the_prior_mac() {
        use hickory_proto::op::{MessageType, OpCode, Query};
        use std::sync::Arc;
        use tern_dnsmsg::tsig::Algorithm;

        let rows: Vec<(String, String)> = (0..5000)
            .map(|i| (format!("h{i}.example.com."), format!("\"{i:0>200}\"")))
            .collect();
        let z = crate::zone::tests::zone(
            &rows
                .iter()
                .map(|(n, t)| (n.as_str(), "TXT", 60, t.as_str()))
                .collect::<Vec<_>>(),
        );
        let key = TsigKey::new(n("xfr."), Algorithm::HmacSha256, vec![7; 32], 0).unwrap();
        let h = Handler::new(Arc::new(crate::catalog::Catalog::new()), vec![key.clone()]);
        let mut q = Message::new(42, MessageType::Query, OpCode::Query);
        q.add_query(Query::query(n("example.com."), RecordType::AXFR));
        let now = tsig::unix_now();
        let signed = tsig::sign_request(&q.to_vec().unwrap(), &key, now, 300).unwrap();
        let req = Request {
            wire: &signed.wire,
            message: q,
            src: "127.0.0.1:5300".parse().unwrap(),
            transport: Transport::Tcp,
            tsig: Some(tsig::verify_request(&signed.wire, &h.keys, now).unwrap()),
        };
        let messages = stream(&h, &req, axfr_records(&z));
        assert!(messages.len() > 10, "{} messages", messages.len());
        let first = tsig::verify_response(&messages[0], &key, &signed.mac, now).unwrap();
        assert_eq!(first.message.queries.len(), 1);
        let (mut prior, mut records) = (first.mac, first.message.answers.len());
        for (i, m) in messages.iter().enumerate().skip(1) {
            assert!(m.len() <= 65535, "{} bytes", m.len());
            if i + 1 < messages.len() {
                // Full but the last: each holds most of what 64 KiB can.
                assert!(m.len() > 50_000, "message {i}: {} bytes", m.len());
            }
            let v = tsig::verify_subsequent(m, &[], &key, &prior, now)
                .unwrap()
                .unwrap();
            assert!(v.message.queries.is_empty());
            prior = v.mac;
            records += v.message.answers.len();
        }
        assert_eq!(records, 5002);
    }

    #[test]
    fn serials_compare_as_rfc_1982_says() {
        assert!(serial_gt(2, 1));
        assert!(!serial_gt(1, 1));
        assert!(serial_gt(1, u32::MAX));
        assert!(!serial_gt(u32::MAX, 1));
    }

    #[test]
    fn condensed_change_is_the_net_one_compared_as_data() {
        let j = [
            (8, Op::Add, "a.example.com.", "A", 60, "192.0.2.1"),
            (8, Op::Delete, "b.example.com.", "A", 60, "192.0.2.2"),
            // Added and removed again (another spelling of the name): nets out.
            (9, Op::Add, "tmp.example.com.", "AAAA", 60, "2001:db8::1"),
            (
                9,
                Op::Delete,
                "TMP.example.com.",
                "AAAA",
                60,
                "2001:db8:0::1",
            ),
            // Deleted and put back: nothing.
            (9, Op::Add, "b.example.com.", "A", 60, "192.0.2.2"),
            // A TTL change: a deletion and an addition.
            (9, Op::Delete, "c.example.com.", "TXT", 60, "\"x\""),
            (9, Op::Add, "c.example.com.", "TXT", 120, "\"x\""),
            // A version newer than the one served is not sent.
            (10, Op::Add, "later.example.com.", "A", 60, "192.0.2.9"),
        ];
        let (del, add) = condense(9, j).unwrap();
        let show = |v: &[Record]| v.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        assert_eq!(show(&del), ["c.example.com. 60 IN TXT x"]);
        assert_eq!(
            show(&add),
            [
                "a.example.com. 60 IN A 192.0.2.1",
                "c.example.com. 120 IN TXT x"
            ]
        );
        assert!(condense(9, [(9, Op::Add, "a.example.com.", "A", 60, "nope")]).is_err());
    }
}
