//! Zone transfers out as real clients and secondaries see them: dig and kdig AXFR/IXFR with
//! TSIG, refusals, NOTIFY timing against a socket standing in for a secondary, and BIND 9 and
//! Knot as secondaries of tern.

mod common;

use std::net::SocketAddr;

use std::process::Command;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use common::{ask, serve, soa, zone};
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use tern_dns::handler::Handler;
use tern_dns::notify::Notifier;
use tern_dns::policy::{NotifyTarget, Policies, TransferRule, ZonePolicy};
use tern_dns::zone::{Op, Zone};
use tern_dnsmsg::tsig::{self, Algorithm, TsigKey};
use tern_store::zone as store_zone;
use tern_testkit::bind::{base64, free_port};
use tern_testkit::dig::{number_after, record_lines};
use tern_testkit::secondary::{secondaries_present, Secondary};

const ORIGIN: &str = "example.com.";

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn xfr_key() -> TsigKey {
    tern_testkit::bind::key("xfr.", Algorithm::HmacSha256, 0, 5)
}

fn other_key() -> TsigKey {
    tern_testkit::bind::key("other.", Algorithm::HmacSha256, 0, 9)
}

/// dig's and kdig's `-y` argument for `k`.
fn y(k: &TsigKey) -> String {
    format!("hmac-sha256:{}:{}", k.name, base64(&k.secret))
}

fn policy(transfer: Vec<TransferRule>) -> ZonePolicy {
    ZonePolicy {
        transfer,
        ..ZonePolicy::default()
    }
}

/// example.com with apex NS, the name server's address and `n` more A records.
fn big_zone(serial: u32, n: usize) -> Zone {
    let mut rows: Vec<(String, &str, u32, String)> = vec![
        (ORIGIN.into(), "NS", 3600, "ns.example.com.".into()),
        ("ns.example.com.".into(), "A", 3600, "127.0.0.1".into()),
    ];
    rows.extend((0..n).map(|i| {
        (
            format!("host-{i}.example.com."),
            "A",
            300,
            format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
        )
    }));
    let rows: Vec<_> = rows
        .iter()
        .map(|(o, t, ttl, c)| (o.as_str(), *t, *ttl, c.as_str()))
        .collect();
    zone(1, ORIGIN, serial, &rows)
}

/// Runs `tool` (dig, kdig) against `addr`: stdout and stderr together.
fn run(tool: &str, addr: SocketAddr, args: &[&str]) -> String {
    let out = Command::new(tool)
        .arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string()])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axfr_bigger_than_one_message_is_signed_throughout_for_dig_and_kdig() {
    const N: usize = 20_000;
    let s = serve(vec![big_zone(7, N)], |h| {
        h.keys = vec![xfr_key()];
        h.policies = Policies::new([(name(ORIGIN), policy(vec![TransferRule::Key(name("xfr."))]))]);
    })
    .await;
    let addr = s.addr;
    let (dig, kdig) = blocking(move || {
        let k = y(&xfr_key());
        (
            run("dig", addr, &["+tcp", "+time=10", "-y", &k, ORIGIN, "AXFR"]),
            run("kdig", addr, &["+time=10", "-y", &k, ORIGIN, "AXFR"]),
        )
    })
    .await;
    let total = N + 4; // SOA, NS, ns A, the hosts, SOA
    for (tool, out, records, messages) in [
        (
            "dig",
            &dig,
            number_after(&dig, "XFR size:"),
            number_after(&dig, "(messages"),
        ),
        (
            "kdig",
            &kdig,
            number_after(&kdig, "messages,"),
            number_after(&kdig, "B ("),
        ),
    ] {
        assert!(
            !out.contains("failed") && !out.contains("WARNING") && !out.contains(";; ERROR"),
            "{tool}: {}",
            &out[out.len().saturating_sub(2000)..]
        );
        let lines = record_lines(out);
        assert_eq!(lines.len(), total, "{tool}");
        assert_eq!(records, Some(total), "{tool}");
        assert!(messages.unwrap() > 5, "{tool}: {messages:?} messages");
        let soa = "example.com. 3600 IN SOA ns.example.com. hostmaster.example.com. 7 ";
        assert!(lines[0].starts_with(soa), "{tool}: {}", lines[0]);
        assert_eq!(lines[0], lines[total - 1], "{tool}");
        assert_eq!(
            lines.iter().filter(|l| l.contains(" SOA ")).count(),
            2,
            "{tool}"
        );
        assert!(lines
            .iter()
            .any(|l| l == "host-19999.example.com. 300 IN A 10.0.78.31"));
    }
    // kdig checks each message's TSIG: a TSIG record per message.
    let kdig_messages = number_after(&kdig, "B (").unwrap();
    assert_eq!(
        kdig.matches("TSIG").count(),
        kdig_messages,
        "one TSIG per message (kdig prints them):\n{}",
        &kdig[kdig.len().saturating_sub(3000)..]
    );
    assert_eq!(s.handler.stats.transfers.load(Relaxed), 2);
    s.stop().await;
}

/// What kdig reports as the server's error (`REFUSED`, ...), or `ok`.
fn kdig_status(out: &str) -> String {
    out.split("server replied with error '")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .unwrap_or("ok")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_are_refused_without_the_key_or_from_elsewhere() {
    let zones = vec![
        zone(1, ORIGIN, 7, &[("a.example.com.", "A", 60, "192.0.2.1")]),
        zone(
            2,
            "near.example.",
            7,
            &[("a.near.example.", "A", 60, "192.0.2.1")],
        ),
        zone(
            3,
            "far.example.",
            7,
            &[("a.far.example.", "A", 60, "192.0.2.1")],
        ),
        zone(4, "none.example.", 7, &[]),
    ];
    let s = serve(zones, |h| {
        h.keys = vec![xfr_key(), other_key()];
        h.policies = Policies::new([
            (name(ORIGIN), policy(vec![TransferRule::Key(name("xfr."))])),
            (
                name("near.example."),
                policy(vec![TransferRule::Network("127.0.0.0".parse().unwrap(), 8)]),
            ),
            (
                name("far.example."),
                policy(vec![TransferRule::Network("10.0.0.0".parse().unwrap(), 8)]),
            ),
        ]);
    })
    .await;
    let addr = s.addr;
    let outs = blocking(move || {
        let xfr = y(&xfr_key());
        let other = y(&other_key());
        let kdig = |args: &[&str]| kdig_status(&run("kdig", addr, args));
        [
            kdig(&["-y", &xfr, ORIGIN, "AXFR"]),
            kdig(&[ORIGIN, "AXFR"]),
            kdig(&["-y", &other, ORIGIN, "AXFR"]),
            kdig(&["near.example.", "AXFR"]),
            kdig(&["far.example.", "AXFR"]),
            kdig(&["-y", &xfr, "far.example.", "AXFR"]),
            kdig(&["-y", &xfr, "none.example.", "AXFR"]),
            kdig(&["-y", &xfr, "example.org.", "AXFR"]),
            // RFC 5936 §4.2: not over UDP (FORMERR, as BIND; Knot says NOTIMP).
            kdig(&["+notcp", "-y", &xfr, ORIGIN, "AXFR"]),
            kdig(&["+tcp", ORIGIN, "IXFR=1"]),
        ]
    })
    .await;
    assert_eq!(
        outs,
        [
            "ok", "REFUSED", "REFUSED", "ok", "REFUSED", "REFUSED", "REFUSED", "NOTAUTH",
            "FORMERR", "REFUSED"
        ]
    );
    assert_eq!(s.handler.stats.transfers.load(Relaxed), 2);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ixfr_without_a_journal_is_a_single_soa_or_the_whole_zone() {
    let s = serve(vec![big_zone(7, 500)], |h| {
        h.keys = vec![xfr_key()];
        h.policies = Policies::new([(name(ORIGIN), policy(vec![TransferRule::Key(name("xfr."))]))]);
    })
    .await;
    let addr = s.addr;
    let [current, ahead, old_tcp, old_udp] = blocking(move || {
        let k = y(&xfr_key());
        let dig = |args: &[&str]| {
            let mut all = vec!["+time=5", "-y", &k, ORIGIN];
            all.extend_from_slice(args);
            record_lines(&ask("dig", addr, &all))
        };
        [
            dig(&["+tcp", "IXFR=7"]),
            dig(&["+tcp", "IXFR=9"]),
            dig(&["+tcp", "IXFR=6"]),
            // Over UDP the whole zone does not fit: the SOA alone (RFC 1995 §2).
            dig(&["+notcp", "IXFR=6"]),
        ]
    })
    .await;
    let soa =
        "example.com. 3600 IN SOA ns.example.com. hostmaster.example.com. 7 3600 600 604800 300";
    assert_eq!(current, [soa]);
    assert_eq!(ahead, [soa]);
    assert_eq!(old_udp, [soa]);
    // No store to read history from: AXFR-style (RFC 1995 §4).
    assert_eq!(old_tcp.len(), 504);
    assert_eq!((old_tcp[0].as_str(), old_tcp[503].as_str()), (soa, soa));
    s.stop().await;
}

/// Installs the next version of `origin` (`serial`, with `changes`) and tells the notifier.
fn change(h: &Handler, origin: &str, serial: u32, changes: &[(Op, &str, &str, u32, &str)]) {
    let z = h.catalog.get(&name(origin)).unwrap();
    let (next, rejected) = z.apply(serial, soa(), changes.iter().copied()).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    h.catalog.insert(next);
    h.notifier
        .zone_changed(&h.catalog.get(&name(origin)).unwrap());
}

/// A NOTIFY received, its TSIG verified with `k`.
struct Received {
    message: Message,
    mac: Vec<u8>,
    from: SocketAddr,
}

async fn receive(sock: &tokio::net::UdpSocket, k: &TsigKey, wait: Duration) -> Option<Received> {
    let mut buf = vec![0u8; 4096];
    let (n, from) = tokio::time::timeout(wait, sock.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    let v = tsig::verify_request(&buf[..n], std::slice::from_ref(k), tsig::unix_now())
        .expect("the NOTIFY is signed with the target's key");
    Some(Received {
        message: Message::from_vec(&buf[..n]).unwrap(),
        mac: v.mac,
        from,
    })
}

fn notified_serial(m: &Message) -> u32 {
    assert_eq!(m.metadata.op_code, OpCode::Notify);
    assert!(m.metadata.authoritative);
    assert_eq!(m.queries[0].query_type(), RecordType::SOA);
    assert_eq!(m.queries[0].name(), &name(ORIGIN));
    match &m.answers[0].data {
        RData::SOA(soa) => soa.serial,
        other => panic!("answer {other:?}"),
    }
}

async fn answer(sock: &tokio::net::UdpSocket, k: &TsigKey, r: &Received) {
    let mut resp = Message::new(r.message.metadata.id, MessageType::Response, OpCode::Notify);
    resp.metadata.authoritative = true;
    resp.metadata.response_code = ResponseCode::NoError;
    resp.queries = r.message.queries.clone();
    let wire = resp.to_vec().unwrap();
    let signed = tsig::sign_response(
        &wire,
        k,
        &r.mac,
        tsig::unix_now(),
        tsig::DEFAULT_FUDGE,
        0,
        &[],
    )
    .unwrap();
    sock.send_to(&signed.wire, r.from).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_arrives_within_100_ms_signed_retried_until_answered_and_superseded() {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let k = xfr_key();
    let target = NotifyTarget {
        addr: sock.local_addr().unwrap(),
        key: Some(k.clone()),
    };
    let policies = Policies::new([(
        name(ORIGIN),
        ZonePolicy {
            notify: vec![target],
            ..ZonePolicy::default()
        },
    )]);
    let s = serve(vec![zone(1, ORIGIN, 7, &[])], |h| {
        h.notifier = Notifier::start(policies.clone(), h.stats.clone());
        h.policies = policies;
    })
    .await;
    let h = s.handler.clone();

    let t0 = Instant::now();
    change(
        &h,
        ORIGIN,
        8,
        &[(Op::Add, "new.example.com.", "A", 60, "192.0.2.8")],
    );
    let first = receive(&sock, &k, Duration::from_secs(1))
        .await
        .expect("a NOTIFY");
    let took = t0.elapsed();
    assert!(took < Duration::from_millis(100), "NOTIFY after {took:?}");
    assert_eq!(notified_serial(&first.message), 8);

    // Unanswered: sent again (after about a second), then no more once answered.
    let again = receive(&sock, &k, Duration::from_secs(3))
        .await
        .expect("a retry");
    let gap = t0.elapsed() - took;
    assert!(gap > Duration::from_millis(800), "retry after {gap:?}");
    assert_eq!(notified_serial(&again.message), 8);
    answer(&sock, &k, &again).await;
    assert!(
        receive(&sock, &k, Duration::from_millis(2500))
            .await
            .is_none(),
        "sent again after the answer"
    );
    assert_eq!(h.stats.notifies.load(Relaxed), 2);

    // Two versions in a row: the older one's retries stop.
    change(
        &h,
        ORIGIN,
        9,
        &[(Op::Add, "n9.example.com.", "A", 60, "192.0.2.9")],
    );
    change(
        &h,
        ORIGIN,
        10,
        &[(Op::Add, "n10.example.com.", "A", 60, "192.0.2.10")],
    );
    let mut serials = Vec::new();
    let deadline = Instant::now() + Duration::from_millis(1800);
    while let Some(r) = receive(
        &sock,
        &k,
        deadline.saturating_duration_since(Instant::now()),
    )
    .await
    {
        let serial = notified_serial(&r.message);
        if serial == 10 {
            answer(&sock, &k, &r).await;
        }
        serials.push(serial);
    }
    assert_eq!(
        serials.iter().filter(|s| **s == 10).count(),
        1,
        "{serials:?}"
    );
    assert!(
        serials.iter().filter(|s| **s == 9).count() <= 1,
        "{serials:?}"
    );
    s.stop().await;
}

// ---- BIND 9 and Knot as secondaries of tern ----

/// tern serving `zones` to BIND and Knot: transfers allowed with `k`, NOTIFY to both.
async fn serve_with_secondaries(
    zones: Vec<Zone>,
    k: &TsigKey,
    configure: impl FnOnce(&mut Handler),
) -> (common::Served, Secondary, Secondary) {
    // tern's NOTIFY targets are the secondaries' ports, taken before anything starts.
    let (bind_port, knot_port) = (free_port(), free_port());
    let targets = [bind_port, knot_port].map(|port| NotifyTarget {
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        key: Some(k.clone()),
    });
    let policies = Policies::new([(
        name(ORIGIN),
        ZonePolicy {
            transfer: vec![TransferRule::Key(k.name.clone())],
            notify: targets.to_vec(),
            ..ZonePolicy::default()
        },
    )]);
    let s = serve(zones, |h| {
        h.keys = vec![k.clone()];
        h.notifier = Notifier::start(policies.clone(), h.stats.clone());
        h.policies = policies;
        configure(h);
    })
    .await;
    let bind = Secondary::bind(s.addr, "example.com", k, bind_port);
    let knot = Secondary::knot(s.addr, "example.com", k, knot_port);
    (s, bind, knot)
}

/// Both secondaries, each waited for (in a blocking thread) until it answers `want`.
async fn wait_both(
    peers: (Secondary, Secondary),
    qname: &'static str,
    qtype: &'static str,
    want: &'static str,
) -> (Secondary, Secondary) {
    blocking(move || {
        let (mut bind, mut knot) = peers;
        bind.wait_for(qname, qtype, want, Duration::from_secs(20));
        knot.wait_for(qname, qtype, want, Duration::from_secs(20));
        (bind, knot)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_and_knot_follow_tern_by_notify() {
    if !secondaries_present("bind_and_knot_follow_tern_by_notify") {
        return;
    }
    let k = xfr_key();
    let (s, bind, knot) = serve_with_secondaries(vec![big_zone(7, 10)], &k, |_| {}).await;
    let peers = wait_both((bind, knot), "host-3.example.com.", "A", "10.0.0.3").await;
    let t0 = Instant::now();
    change(
        &s.handler,
        ORIGIN,
        8,
        &[
            (Op::Add, "new.example.com.", "A", 60, "192.0.2.8"),
            (Op::Delete, "host-3.example.com.", "A", 300, "10.0.0.3"),
        ],
    );
    let (bind, knot) = wait_both(peers, "new.example.com.", "A", "192.0.2.8").await;
    eprintln!("both served the change {:?} after it", t0.elapsed());
    let (gone, _bind, _knot) = blocking(move || {
        let q = |p: &Secondary| p.short("host-3.example.com.", "A");
        ([q(&bind), q(&knot)], bind, knot)
    })
    .await;
    assert_eq!(gone, ["", ""], "the deleted record is gone");
    s.stop().await;
}

// ---- with the store: IXFR from the journal ----

fn op(o: store_zone::JournalOp) -> Op {
    match o {
        store_zone::JournalOp::Delete => Op::Delete,
        store_zone::JournalOp::Add => Op::Add,
    }
}

fn new_record(name: &str, rtype: &str, ttl: u32, content: &str) -> store_zone::NewRecord {
    store_zone::NewRecord {
        name: name.into(),
        rtype: rtype.into(),
        ttl,
        content: content.into(),
        managed_by: store_zone::ManagedBy::Admin,
    }
}

/// example.com in the store (serial 7, INCREASE) with NS, ns A and `n` hosts, and the
/// in-memory copy the server answers from, loaded as the lead's sync loads it.
async fn stored_zone(pool: &sqlx::PgPool, n: usize) -> Zone {
    let mut records = vec![
        new_record(ORIGIN, "NS", 3600, "ns.example.com."),
        new_record("ns.example.com.", "A", 3600, "127.0.0.1"),
    ];
    records.extend((0..n).map(|i| {
        new_record(
            &format!("host-{i}.example.com."),
            "A",
            300,
            &format!("10.0.0.{i}"),
        )
    }));
    let s = soa();
    let created = store_zone::create(
        pool,
        &store_zone::NewZone {
            name: ORIGIN.into(),
            kind: store_zone::ZoneKind::Master,
            soa_edit_api: store_zone::SerialRule::Increase,
            account: String::new(),
            soa: store_zone::Soa {
                ttl: s.ttl,
                mname: s.mname,
                rname: s.rname,
                refresh: s.refresh,
                retry: s.retry,
                expire: s.expire,
                minimum: s.minimum,
            },
            serial: Some(7),
            records,
        },
    )
    .await
    .unwrap();
    let (z, rows) = store_zone::snapshot(pool, created.id)
        .await
        .unwrap()
        .unwrap();
    let (zone, rejected) = Zone::build(
        z.id,
        &z.name,
        z.serial,
        Clone::clone(&z.soa),
        rows.iter()
            .map(|r| (r.name.as_str(), r.rtype.as_str(), r.ttl, r.content.as_str())),
    )
    .unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    zone
}

/// One ZoneTx adding `add` then deleting `delete` (owner, type, content); then the new
/// version is built from the journal, installed and announced. Returns the new serial.
async fn commit_and_install(
    h: &Handler,
    pool: &sqlx::PgPool,
    add: &[(&str, &str, u32, &str)],
    delete: &[(&str, &str, &str)],
) -> u32 {
    let mut tx = store_zone::ZoneTx::begin(pool, ORIGIN)
        .await
        .unwrap()
        .unwrap();
    let add: Vec<_> = add
        .iter()
        .map(|(n, t, ttl, c)| new_record(n, t, *ttl, c))
        .collect();
    tx.add(&add).await.unwrap();
    let delete: Vec<_> = delete
        .iter()
        .map(|(n, t, c)| (n.to_string(), t.to_string(), c.to_string()))
        .collect();
    tx.delete_records(&delete).await.unwrap();
    let serial = tx.commit().await.unwrap();
    let current = h.catalog.get(&name(ORIGIN)).unwrap();
    let entries = store_zone::journal_since(pool, current.id(), current.serial())
        .await
        .unwrap()
        .unwrap();
    let row = store_zone::get_by_id(pool, current.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.serial, serial);
    let (next, rejected) = current
        .apply(
            serial,
            Clone::clone(&row.soa),
            entries.iter().map(|e| {
                (
                    op(e.op),
                    e.name.as_str(),
                    e.rtype.as_str(),
                    e.ttl,
                    e.content.as_str(),
                )
            }),
        )
        .unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    h.catalog.insert(next);
    h.notifier
        .zone_changed(&h.catalog.get(&name(ORIGIN)).unwrap());
    serial
}

/// The IXFR dig receives from `addr` for a client at `serial`, over TCP or UDP.
async fn dig_ixfr(addr: SocketAddr, serial: u32, tcp: bool) -> Vec<String> {
    blocking(move || {
        let k = y(&xfr_key());
        let ixfr = format!("IXFR={serial}");
        let transport = if tcp { "+tcp" } else { "+notcp" };
        record_lines(&ask(
            "dig",
            addr,
            &[transport, "+time=5", "-y", &k, ORIGIN, &ixfr],
        ))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_and_knot_converge_by_ixfr_from_the_journal() {
    if !secondaries_present("bind_and_knot_converge_by_ixfr_from_the_journal") {
        return;
    }
    let db = tern_store::testing::fresh_db().await;
    let pool = db.pool().clone();
    let zone = stored_zone(&pool, 10).await;
    let first = zone.serial();
    let k = xfr_key();
    let store = pool.clone();
    let (s, bind, knot) =
        serve_with_secondaries(vec![zone], &k, move |h| h.store = Some(store)).await;
    let peers = wait_both((bind, knot), "host-3.example.com.", "A", "10.0.0.3").await;

    let second = commit_and_install(
        &s.handler,
        &pool,
        &[("new.example.com.", "A", 60, "192.0.2.8")],
        &[("host-3.example.com.", "A", "10.0.0.3")],
    )
    .await;
    let peers = wait_both(peers, "new.example.com.", "A", "192.0.2.8").await;
    // Added and removed in one version, and another record: the condensed difference
    // carries only the net change (Knot refuses an IXFR deleting what it does not have).
    let third = commit_and_install(
        &s.handler,
        &pool,
        &[
            ("tmp.example.com.", "TXT", 60, "\"gone again\""),
            ("second.example.com.", "AAAA", 60, "2001:db8::2"),
        ],
        &[("tmp.example.com.", "TXT", "\"gone again\"")],
    )
    .await;
    let (bind, knot) = wait_both(peers, "second.example.com.", "AAAA", "2001:db8::2").await;

    let soa_at = |serial: u32| {
        format!("example.com. 3600 IN SOA ns.example.com. hostmaster.example.com. {serial} 3600 600 604800 300")
    };
    let newest = soa_at(third);
    let condensed = dig_ixfr(s.addr, first, true).await;
    assert_eq!(
        condensed,
        [
            newest.clone(),
            soa_at(first),
            "host-3.example.com. 300 IN A 10.0.0.3".into(),
            newest.clone(),
            "new.example.com. 60 IN A 192.0.2.8".into(),
            "second.example.com. 60 IN AAAA 2001:db8::2".into(),
            newest.clone(),
        ]
    );
    // Over UDP too, since it fits (RFC 1995 §2).
    assert_eq!(dig_ixfr(s.addr, first, false).await, condensed);
    assert_eq!(
        dig_ixfr(s.addr, third, true).await,
        std::slice::from_ref(&newest)
    );

    // Knot logs each transfer's kind: one AXFR (the first), then an IXFR per version,
    // none of them AXFR-style.
    let knot_log = knot.log();
    let remote = format!("incoming, remote {}@{}", s.addr.ip(), s.addr.port());
    assert_eq!(
        knot_log
            .matches(&format!("AXFR, {remote}, started"))
            .count(),
        1,
        "{knot_log}"
    );
    assert_eq!(
        knot_log
            .matches(&format!("IXFR, {remote}, finished"))
            .count(),
        2,
        "{knot_log}"
    );
    assert!(!knot_log.contains("AXFR-style"), "{knot_log}");
    for (from, to) in [(first, second), (second, third)] {
        assert!(
            knot_log.contains(&format!("serial {from} -> {to}")),
            "{knot_log}"
        );
    }
    // BIND says how many records each transfer held: the zone's 14 (SOA twice, NS, ns A,
    // ten hosts) the first time, then only the differences (four SOAs and the net change),
    // applied through its journal (an AXFR replaces the zone without one).
    let bind_log = bind.log();
    for (records, serial) in [(14, first), (6, second), (5, third)] {
        let done = format!("Transfer completed: 1 messages, {records} records,");
        assert!(
            bind_log
                .lines()
                .any(|l| l.contains(&done) && l.ends_with(&format!("(serial {serial})"))),
            "no {records}-record transfer of serial {serial}:\n{bind_log}"
        );
    }
    assert!(
        bind.dir.path().join("example.com.db.jnl").exists(),
        "no journal: BIND did not take an IXFR\n{bind_log}"
    );

    // History pruned: AXFR-style.
    store_zone::prune_journal(&pool, s.handler.catalog.get(&name(ORIGIN)).unwrap().id(), 1)
        .await
        .unwrap();
    let all = dig_ixfr(s.addr, first, true).await;
    assert_eq!(all.len(), 2 + 2 + 10 + 1, "{all:?}");
    assert_eq!((&all[0], &all[all.len() - 1]), (&newest, &newest));
    s.stop().await;
}
