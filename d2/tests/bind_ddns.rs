//! d2 end to end: NCRs sent over UDP exactly as Kea sends them, a real PostgreSQL
//! queue, TSIG-signed RFC 2136 updates to a private BIND 9, results read back with dig.

use tern_testkit::bind as common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use common::{ddns_zones, key, Named};
use tern_d2::{D2Handle, D2Options, D2Service};
use tern_dnsmsg::tsig::{Algorithm, TsigKey};
use tern_ncr::{ChangeType, ConflictResolutionMode as Mode, Dhcid, Fqdn, NameChangeRequest};
use tern_store::ncr_queue::{self, NcrRecord, NcrState};
use tern_store::testing::{self, TestDb};

fn d2_config(named_port: u16, d2_port: u16, key: Option<&TsigKey>) -> tern_config::DhcpDdns {
    let (keys, key_name) = match key {
        Some(k) => (
            serde_json::json!([{
                "name": k.name.to_string(),
                "algorithm": k.algorithm.kea_name(),
                "digest-bits": k.digest_bits,
                "secret": common::base64(&k.secret),
            }]),
            k.name.to_string(),
        ),
        None => (serde_json::json!([]), String::new()),
    };
    let domain = |name: &str| {
        serde_json::json!({
            "name": name,
            "key-name": key_name,
            "dns-servers": [{ "ip-address": "127.0.0.1", "port": named_port }]
        })
    };
    let config = serde_json::json!({ "DhcpDdns": {
        "ip-address": "127.0.0.1",
        "port": d2_port,
        "dns-server-timeout": 300,
        "tsig-keys": keys,
        "forward-ddns": { "ddns-domains": [domain("example.com.")] },
        "reverse-ddns": { "ddns-domains": [
            domain("2.0.192.in-addr.arpa."),
            domain("8.b.d.0.1.0.0.2.ip6.arpa.")
        ] }
    }});
    tern_config::parse_str(&config.to_string(), "d2-test.json")
        .expect("valid DhcpDdns")
        .ddns
        .expect("DhcpDdns section")
}

fn fast_options() -> D2Options {
    D2Options {
        max_in_flight: std::env::var("MAX_IN_FLIGHT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(32),
        poll_interval: Duration::from_millis(200),
        backoff_min: Duration::from_millis(500),
        backoff_max: Duration::from_secs(2),
        ..D2Options::default()
    }
}

struct Env {
    named: Named,
    db: TestDb,
    d2: Option<D2Handle>,
    d2_addr: SocketAddr,
}

impl Env {
    async fn start(key: Option<TsigKey>) -> Env {
        Self::start_with(key.clone(), key).await
    }

    /// BIND knows `bind_key`; d2 signs with `d2_key`.
    async fn start_with(bind_key: Option<TsigKey>, d2_key: Option<TsigKey>) -> Env {
        let named = Named::start(&ddns_zones(), bind_key.as_slice());
        let db = testing::fresh_db().await;
        let config = d2_config(named.port(), common::free_port(), d2_key.as_ref());
        let d2 = D2Service::start_with(&config, db.store().clone(), fast_options())
            .await
            .expect("d2 starts");
        let d2_addr = d2.local_addr();
        Env {
            named,
            db,
            d2: Some(d2),
            d2_addr,
        }
    }

    /// Sends the NCR as Kea does: one UDP datagram, no answer expected.
    fn send(&self, ncr: &NameChangeRequest) {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.send_to(&ncr.to_datagram().unwrap(), self.d2_addr)
            .unwrap();
    }

    /// Waits until every queued NCR has finished; returns the rows.
    async fn settle(&self, expect_rows: usize) -> Vec<NcrRecord> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let rows = ncr_queue::list(self.db.pool(), None, 0, 10_000)
                .await
                .unwrap();
            if rows.len() >= expect_rows && rows.iter().all(|r| r.finished_at.is_some()) {
                return rows;
            }
            if Instant::now() > deadline {
                let mut states = std::collections::BTreeMap::new();
                for r in &rows {
                    *states.entry(format!("{:?}", r.state)).or_insert(0) += 1;
                }
                let unfinished: Vec<_> = rows
                    .iter()
                    .filter(|r| r.finished_at.is_none())
                    .take(3)
                    .collect();
                panic!(
                    "NCRs not finished in 30 s: {} rows, by state {states:?}; e.g. {unfinished:#?}\n{}",
                    rows.len(),
                    self.named.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends one NCR and waits for its outcome.
    async fn run(&self, ncr: &NameChangeRequest) -> NcrRecord {
        let before = ncr_queue::list(self.db.pool(), None, 0, 10_000)
            .await
            .unwrap()
            .len();
        self.send(ncr);
        self.settle(before + 1).await.pop().unwrap()
    }

    fn d2(&self) -> &D2Handle {
        self.d2.as_ref().unwrap()
    }

    async fn stop(mut self) {
        if let Some(d2) = self.d2.take() {
            d2.shutdown().await;
        }
    }
}

fn dhcid(client: u8, fqdn: &str) -> Dhcid {
    Dhcid::from_duid(
        &[0, 1, 0, 1, client, 2, 3, 4, 5, 6],
        &Fqdn::new(fqdn).unwrap(),
    )
    .unwrap()
}

fn ncr(change: ChangeType, fqdn: &str, ip: &str, client: u8, mode: Mode) -> NameChangeRequest {
    NameChangeRequest {
        change_type: change,
        forward_change: true,
        reverse_change: true,
        fqdn: Fqdn::new(fqdn).unwrap(),
        ip_address: ip.parse::<IpAddr>().unwrap(),
        dhcid: dhcid(client, fqdn),
        lease_expires_on: None,
        lease_length: 1200,
        conflict_resolution_mode: mode,
    }
}

fn sha256() -> TsigKey {
    key("d2-key.", Algorithm::HmacSha256, 0, 7)
}

fn assert_done(rec: &NcrRecord) {
    assert_eq!(rec.state, Some(NcrState::Done), "{rec:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_and_remove_v4_signed() {
    let env = Env::start(Some(sha256())).await;
    let add = ncr(
        ChangeType::Add,
        "h1.example.com.",
        "192.0.2.10",
        1,
        Mode::CheckWithDhcid,
    );
    assert_done(&env.run(&add).await);
    assert_eq!(env.named.dig("h1.example.com.", "A"), ["192.0.2.10"]);
    let dhcid_rr = env.named.dig("h1.example.com.", "DHCID");
    assert_eq!(dhcid_rr.len(), 1);
    assert_eq!(dhcid_rr[0].replace(' ', ""), add.dhcid.to_base64());
    assert_eq!(
        env.named.dig("10.2.0.192.in-addr.arpa.", "PTR"),
        ["h1.example.com."]
    );
    // TTL = lease-length.
    let ttl = std::process::Command::new("dig")
        .args([
            "+noall",
            "+answer",
            "-p",
            &env.named.port().to_string(),
            "@127.0.0.1",
        ])
        .args(["h1.example.com.", "A"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&ttl.stdout).contains("1200"),
        "{ttl:?}"
    );

    // The same add again: the name is ours (YXDOMAIN, then replace with our DHCID).
    assert_done(&env.run(&add).await);
    assert_eq!(env.named.dig("h1.example.com.", "A"), ["192.0.2.10"]);

    let remove = NameChangeRequest {
        change_type: ChangeType::Remove,
        ..add.clone()
    };
    assert_done(&env.run(&remove).await);
    assert!(env.named.dig("h1.example.com.", "A").is_empty());
    assert!(env.named.dig("h1.example.com.", "DHCID").is_empty());
    assert!(env.named.dig("10.2.0.192.in-addr.arpa.", "PTR").is_empty());

    let stats = env.d2().stats();
    assert_eq!(stats.get("ncr-received"), Some(3));
    assert_eq!(stats.get("update-unsigned"), Some(0));
    let sent = stats.get("update-sent").unwrap();
    assert!(sent >= 6, "{:?}", stats.snapshot());
    assert_eq!(stats.get("update-signed"), Some(sent));
    assert_eq!(stats.get("update-success"), Some(sent));
    assert_eq!(stats.get("key[d2-key.].update-sent"), Some(sent));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_and_remove_v6_unsigned() {
    let env = Env::start(None).await;
    let add = ncr(
        ChangeType::Add,
        "v6.example.com.",
        "2001:db8::7",
        2,
        Mode::CheckWithDhcid,
    );
    assert_done(&env.run(&add).await);
    assert_eq!(env.named.dig("v6.example.com.", "AAAA"), ["2001:db8::7"]);
    let rev = "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.";
    assert_eq!(env.named.dig(rev, "PTR"), ["v6.example.com."]);
    let remove = NameChangeRequest {
        change_type: ChangeType::Remove,
        ..add
    };
    assert_done(&env.run(&remove).await);
    assert!(env.named.dig("v6.example.com.", "AAAA").is_empty());
    assert!(env.named.dig(rev, "PTR").is_empty());
    assert_eq!(env.d2().stats().get("update-signed"), Some(0));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_ncrs_and_unmatched_names() {
    let env = Env::start(None).await;
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.send_to(b"\x00\x05{nope", env.d2_addr).unwrap();
    s.send_to(b"garbage", env.d2_addr).unwrap();
    let stray = ncr(
        ChangeType::Add,
        "h.example.net.",
        "192.0.2.11",
        3,
        Mode::CheckWithDhcid,
    );
    let rec = env.run(&stray).await;
    assert_eq!(rec.state, Some(NcrState::Failed));
    assert!(
        rec.last_error
            .as_deref()
            .unwrap()
            .contains("DHCP_DDNS_NO_FWD_MATCH_ERROR"),
        "{rec:?}"
    );
    let stats = env.d2().stats();
    assert_eq!(stats.get("ncr-invalid"), Some(2));
    assert_eq!(stats.get("ncr-received"), Some(1));
    assert_eq!(stats.get("update-sent"), Some(0));
    env.stop().await;
}

/// Client 1 holds `name`; client 2 (another DHCID, another address) asks with `mode`.
async fn second_client(env: &Env, name: &str, mode: Mode) -> NcrRecord {
    let first = ncr(ChangeType::Add, name, "192.0.2.21", 1, Mode::CheckWithDhcid);
    assert_done(&env.run(&first).await);
    let second = ncr(ChangeType::Add, name, "192.0.2.22", 2, mode);
    env.run(&second).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_resolution_modes_against_another_client() {
    let env = Env::start(Some(sha256())).await;

    let rec = second_client(&env, "c1.example.com.", Mode::CheckWithDhcid).await;
    assert_eq!(rec.state, Some(NcrState::Conflict), "{rec:?}");
    assert_eq!(env.named.dig("c1.example.com.", "A"), ["192.0.2.21"]);
    assert_eq!(
        env.named.dig("c1.example.com.", "DHCID")[0].replace(' ', ""),
        dhcid(1, "c1.example.com.").to_base64()
    );
    // Reverse skipped after the failed forward step.
    assert!(env.named.dig("22.2.0.192.in-addr.arpa.", "PTR").is_empty());

    let rec = second_client(&env, "c2.example.com.", Mode::NoCheckWithDhcid).await;
    assert_done(&rec);
    assert_eq!(env.named.dig("c2.example.com.", "A"), ["192.0.2.22"]);
    assert_eq!(
        env.named.dig("c2.example.com.", "DHCID")[0].replace(' ', ""),
        dhcid(2, "c2.example.com.").to_base64()
    );
    assert_eq!(
        env.named.dig("22.2.0.192.in-addr.arpa.", "PTR"),
        ["c2.example.com."]
    );

    let rec = second_client(&env, "c3.example.com.", Mode::CheckExistsWithDhcid).await;
    assert_done(&rec);
    assert_eq!(env.named.dig("c3.example.com.", "A"), ["192.0.2.22"]);
    assert_eq!(
        env.named.dig("c3.example.com.", "DHCID")[0].replace(' ', ""),
        dhcid(2, "c3.example.com.").to_base64()
    );

    let rec = second_client(&env, "c4.example.com.", Mode::NoCheckWithoutDhcid).await;
    assert_done(&rec);
    assert_eq!(env.named.dig("c4.example.com.", "A"), ["192.0.2.22"]);
    // No DHCID written by this mode: client 1's is left as it was.
    assert_eq!(
        env.named.dig("c4.example.com.", "DHCID")[0].replace(' ', ""),
        dhcid(1, "c4.example.com.").to_base64()
    );
    // On a fresh name, no DHCID at all.
    let fresh = ncr(
        ChangeType::Add,
        "c5.example.com.",
        "192.0.2.25",
        5,
        Mode::NoCheckWithoutDhcid,
    );
    assert_done(&env.run(&fresh).await);
    assert_eq!(env.named.dig("c5.example.com.", "A"), ["192.0.2.25"]);
    assert!(env.named.dig("c5.example.com.", "DHCID").is_empty());
    assert!(env
        .named
        .dig("25.2.0.192.in-addr.arpa.", "DHCID")
        .is_empty());
    assert_eq!(
        env.named.dig("25.2.0.192.in-addr.arpa.", "PTR"),
        ["c5.example.com."]
    );

    // Client 2 removing client 1's name under check-with-dhcid leaves it alone.
    let remove = ncr(
        ChangeType::Remove,
        "c1.example.com.",
        "192.0.2.21",
        2,
        Mode::CheckWithDhcid,
    );
    env.run(&remove).await;
    assert_eq!(env.named.dig("c1.example.com.", "A"), ["192.0.2.21"]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_resolution_modes_against_a_static_entry() {
    let env = Env::start(Some(sha256())).await;
    let name = "static.example.com.";
    for mode in [Mode::CheckWithDhcid, Mode::CheckExistsWithDhcid] {
        let rec = env
            .run(&ncr(ChangeType::Add, name, "192.0.2.30", 3, mode))
            .await;
        assert_eq!(rec.state, Some(NcrState::Conflict), "{mode}: {rec:?}");
        assert_eq!(env.named.dig(name, "A"), ["192.0.2.200"], "{mode}");
        assert!(env.named.dig(name, "DHCID").is_empty(), "{mode}");
    }
    let rec = env
        .run(&ncr(
            ChangeType::Add,
            name,
            "192.0.2.30",
            3,
            Mode::NoCheckWithDhcid,
        ))
        .await;
    assert_done(&rec);
    assert_eq!(env.named.dig(name, "A"), ["192.0.2.30"]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_key_works_end_to_end() {
    let keys = [
        key("md5.", Algorithm::HmacMd5, 0, 1),
        key("sha512.", Algorithm::HmacSha512, 0, 2),
        key("sha256-128.", Algorithm::HmacSha256, 128, 3),
        key("sha1.", Algorithm::HmacSha1, 0, 4),
    ];
    for (i, k) in keys.into_iter().enumerate() {
        let env = Env::start(Some(k.clone())).await;
        let name = format!("k{i}.example.com.");
        let ip = format!("192.0.2.{}", 40 + i);
        let rec = env
            .run(&ncr(ChangeType::Add, &name, &ip, 4, Mode::CheckWithDhcid))
            .await;
        assert_done(&rec);
        assert_eq!(
            env.named.dig(&name, "A"),
            std::slice::from_ref(&ip),
            "{k:?}"
        );
        let stats = env.d2().stats();
        assert_eq!(stats.get(&format!("key[{}].update-sent", k.name)), Some(2));
        assert_eq!(
            stats.get(&format!("key[{}].update-success", k.name)),
            Some(2)
        );
        env.stop().await;
    }
}

/// BIND refuses our key three ways; each fails the NCR with BIND's reason in
/// `last_error` (not retried: a refusal does not heal) and leaves DNS untouched. A
/// stale clock (BADTIME) is shown against BIND in dnsmsg/tests/tsig_bind.rs, where the time signed
/// can be chosen; here d2 signs with the real clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_bind_refuses_fails_with_the_reason_and_changes_nothing() {
    let good = sha256();
    let mut wrong_secret = good.clone();
    wrong_secret.secret[0] ^= 0xff;
    let unknown_name = key("nobody.tern.test.", Algorithm::HmacSha256, 0, 9);
    // BIND's key wants the whole MAC; d2 sends 128 of its 256 bits.
    let mut truncating = good.clone();
    truncating.digest_bits = 128;
    let cases = [
        (wrong_secret, "BADSIG"),
        (unknown_name, "BADKEY"),
        (truncating, "BADTRUNC"),
    ];
    for (i, (d2_key, reason)) in cases.into_iter().enumerate() {
        let env = Env::start_with(Some(good.clone()), Some(d2_key)).await;
        let name = format!("bad{i}.example.com.");
        let ip = format!("192.0.2.{}", 50 + i);
        let rec = env
            .run(&ncr(ChangeType::Add, &name, &ip, 5, Mode::CheckWithDhcid))
            .await;
        assert_eq!(rec.state, Some(NcrState::Failed), "{reason}: {rec:?}");
        assert!(
            rec.last_error.as_deref().unwrap_or("").contains(reason),
            "{reason}: {rec:?}"
        );
        assert!(env.named.dig(&name, "A").is_empty(), "{reason}");
        assert!(
            env.named
                .dig(&format!("{}.2.0.192.in-addr.arpa.", 50 + i), "PTR")
                .is_empty(),
            "{reason}"
        );
        env.stop().await;
    }
}

/// BIND stopped for a minute while NCRs keep arriving (one every 1.2 s): every one is
/// queued and retried, and all are in DNS once BIND is back (the test counts them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_while_bind_is_down() {
    let mut env = Env::start(Some(sha256())).await;
    env.named.stop();
    let down = Instant::now();
    const N: usize = 50;
    const OUTAGE: Duration = Duration::from_secs(60);
    for i in 0..N {
        env.send(&ncr(
            ChangeType::Add,
            &format!("out{i}.example.com."),
            &format!("192.0.2.{}", 100 + i),
            i as u8,
            Mode::CheckWithDhcid,
        ));
        tokio::time::sleep(OUTAGE / N as u32).await;
    }
    assert!(down.elapsed() >= OUTAGE);
    // Wait (bounded) until every NCR is queued and at least one attempt has failed.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let rows = loop {
        let rows = ncr_queue::list(env.db.pool(), None, 0, 1000).await.unwrap();
        let failed_once = rows
            .iter()
            .any(|r| r.attempts >= 1 && r.last_error.is_some());
        if (rows.len() == N && failed_once) || std::time::Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(rows.len(), N);
    assert!(
        rows.iter()
            .all(|r| matches!(r.state, Some(NcrState::Pending | NcrState::InProgress))),
        "{rows:#?}"
    );
    assert!(rows
        .iter()
        .any(|r| r.attempts >= 1 && r.last_error.is_some()));
    env.named.restart();
    let rows = env.settle(N).await;
    assert!(
        rows.iter().all(|r| r.state == Some(NcrState::Done)),
        "{rows:#?}"
    );
    let present = (0..N)
        .filter(|i| {
            env.named.dig(&format!("out{i}.example.com."), "A") == [format!("192.0.2.{}", 100 + i)]
        })
        .count();
    assert_eq!(present, N);
    // A stopped server on loopback answers with ICMP port unreachable: I/O errors.
    let stats = env.d2().stats();
    assert!(stats.get("update-timeout").unwrap() + stats.get("update-error").unwrap() > 0);
    env.stop().await;
}

/// An unpaced burst of 10,000 NCRs while BIND is down: every one is in the queue
/// (pending, to be retried) within a bounded time, none dropped by the kernel or d2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_10000_ncrs_with_bind_down_all_reach_the_queue() {
    let mut env = Env::start(Some(sha256())).await;
    env.named.stop();
    const N: usize = 10_000;
    let grams: Vec<Vec<u8>> = (0..N)
        .map(|i| {
            ncr(
                ChangeType::Add,
                &format!("burst{i}.example.com."),
                &format!("192.0.2.{}", i % 250 + 1),
                (i % 250) as u8,
                Mode::CheckWithDhcid,
            )
            .to_datagram()
            .unwrap()
        })
        .collect();
    // Unpaced needs a socket buffer that holds the burst (root gets one of 32 MB);
    // without root the sender yields now and then, as the kernel limit demands.
    let paced = env.d2().receive_buffer() < 16 << 20;
    if paced {
        eprintln!(
            "receive buffer only {} bytes (not root?): the burst is paced",
            env.d2().receive_buffer()
        );
    }
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    for (i, g) in grams.iter().enumerate() {
        s.send_to(g, env.d2_addr).unwrap();
        if paced && i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let sent = start.elapsed();
    let deadline = Instant::now() + Duration::from_secs(60);
    let queued = loop {
        let states = ncr_queue::count_by_state(env.db.pool()).await.unwrap();
        let queued: i64 = states.iter().map(|(_, n)| n).sum();
        if queued as usize >= N || Instant::now() > deadline {
            break queued;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stats = env.d2().stats();
    assert_eq!(
        queued as usize,
        N,
        "{queued} of {N} NCRs queued ({} received) within 60 s of a burst sent in {sent:?}",
        stats.get("ncr-received").unwrap_or(0)
    );
    assert_eq!(stats.get("ncr-received"), Some(N as u64));
    let done = ncr_queue::list(env.db.pool(), Some(NcrState::Done), 0, 10)
        .await
        .unwrap();
    assert!(done.is_empty(), "BIND is down, nothing can be done");
    eprintln!(
        "{N} NCRs sent in {sent:?}, all queued after {:?}",
        start.elapsed()
    );
    env.stop().await;
}

/// A backlog already in the queue is worked off batch after batch, never waiting for
/// the poll (an hour here) between batches: only the start and finished work wake d2.
/// Queues `n` adds `<prefix><i>.example.com.` (as tern's DHCP engine does), before any d2 runs.
async fn queue_adds(db: &TestDb, prefix: &str, n: usize) {
    let batch: Vec<_> = (0..n)
        .map(|i| {
            ncr(
                ChangeType::Add,
                &format!("{prefix}{i}.example.com."),
                &format!("192.0.2.{}", i % 250 + 1),
                (i % 250) as u8,
                Mode::CheckWithDhcid,
            )
        })
        .collect();
    let mut conn = db.pool().acquire().await.unwrap();
    ncr_queue::enqueue_batch(&mut conn, &batch, ncr_queue::NcrSource::Dhcp4)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_drains_without_waiting_for_the_poll() {
    let named = Named::start(&ddns_zones(), &[sha256()]);
    let db = testing::fresh_db().await;
    const N: usize = 300;
    queue_adds(&db, "backlog", N).await;
    let config = d2_config(named.port(), common::free_port(), Some(&sha256()));
    let options = D2Options {
        max_in_flight: 8,
        poll_interval: Duration::from_secs(3600),
        ..fast_options()
    };
    let d2 = D2Service::start_with(&config, db.store().clone(), options)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = ncr_queue::list(db.pool(), Some(NcrState::Done), 0, 10_000)
            .await
            .unwrap()
            .len();
        if done == N {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{done} of {N} done after 60 s: d2 waited for its poll"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d2.shutdown().await;
}

/// A d2 claims a batch ahead of its free slots; stopping it gives those back at once,
/// so the next d2 does not wait for the claim lease (an hour here) to run out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_gives_back_what_was_claimed_ahead() {
    let named = Named::start(&ddns_zones(), &[sha256()]);
    let db = testing::fresh_db().await;
    const N: usize = 300;
    queue_adds(&db, "ahead", N).await;
    let config = d2_config(named.port(), common::free_port(), Some(&sha256()));
    let options = || D2Options {
        max_in_flight: 8,
        claim_lease: Duration::from_secs(3600),
        ..fast_options()
    };
    let done = || async {
        ncr_queue::list(db.pool(), Some(NcrState::Done), 0, 10_000)
            .await
            .unwrap()
            .len()
    };
    let d2 = D2Service::start_with(&config, db.store().clone(), options())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while done().await < 20 {
        assert!(Instant::now() < deadline, "d2 did not start working");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    d2.shutdown().await;
    let held = ncr_queue::list(db.pool(), Some(NcrState::InProgress), 0, 10_000)
        .await
        .unwrap();
    assert!(held.is_empty(), "still claimed after the stop: {held:#?}");
    let before = done().await;
    assert!(
        before < N,
        "all {N} finished before the stop; nothing was tested"
    );

    // A second d2 finishes everything without the claim lease running out.
    let d2 = D2Service::start_with(&config, db.store().clone(), options())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = done().await;
        if n == N {
            break;
        }
        assert!(Instant::now() < deadline, "{n} of {N} done after 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d2.shutdown().await;
    let a = named.dig("ahead299.example.com.", "A");
    assert_eq!(a, vec!["192.0.2.50".to_string()], "{}", named.log());
}

/// NCRs arriving one a millisecond are queued in group commits at most every
/// `intake_gather` (10 ms), not one fsync each: rows of one commit share `received_at`
/// (the transaction's time), so 300 NCRs over ~300 ms make about 30 commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_commits_in_groups_under_a_steady_stream() {
    let env = Env::start(Some(sha256())).await;
    const N: usize = 300;
    let addr = env.d2_addr;
    let sent = tokio::task::spawn_blocking(move || {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let start = Instant::now();
        for i in 0..N {
            let n = ncr(
                ChangeType::Add,
                &format!("stream{i}.example.com."),
                &format!("192.0.2.{}", i % 250 + 1),
                (i % 250) as u8,
                Mode::CheckWithDhcid,
            );
            s.send_to(&n.to_datagram().unwrap(), addr).unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        start.elapsed()
    })
    .await
    .unwrap();
    let rows = env.settle(N).await;
    assert_eq!(rows.len(), N);
    let commits: std::collections::BTreeSet<_> = rows.iter().map(|r| r.received_at).collect();
    // Without the gathering each NCR (or two) was its own commit (188 seen).
    let most = sent.as_millis() as usize / 10 + 10;
    assert!(
        commits.len() <= most,
        "{} commits for {N} NCRs sent over {sent:?} (at most {most} expected)",
        commits.len()
    );
    env.stop().await;
}

/// Kills the child d2 (by its PID) when dropped.
struct ChildD2(std::process::Child);

impl Drop for ChildD2 {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child_d2(named_port: u16, db_url: &str) -> ChildD2 {
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["d2_child_process", "--exact", "--ignored", "--nocapture"])
        .env("TERN_D2_CHILD_NAMED_PORT", named_port.to_string())
        .env("TERN_D2_CHILD_DB_URL", db_url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn the child d2");
    ChildD2(child)
}

/// Not a test on its own: the d2 process that `kill_minus_9_mid_way_loses_nothing`
/// starts and kills.
#[tokio::test]
#[ignore = "child process of kill_minus_9_mid_way_loses_nothing"]
async fn d2_child_process() {
    let (Ok(port), Ok(url)) = (
        std::env::var("TERN_D2_CHILD_NAMED_PORT"),
        std::env::var("TERN_D2_CHILD_DB_URL"),
    ) else {
        return;
    };
    let settings = tern_store::ConnectSettings::from_url(&url).unwrap();
    let store = tern_store::Store::connect(&settings).await.unwrap();
    let config = d2_config(port.parse().unwrap(), common::free_port(), Some(&sha256()));
    let options = D2Options {
        max_in_flight: 1,
        claim_lease: Duration::from_secs(1),
        ..fast_options()
    };
    let _d2 = D2Service::start_with(&config, store, options)
        .await
        .unwrap();
    // Runs until killed.
    tokio::time::sleep(Duration::from_secs(120)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_minus_9_mid_way_loses_nothing() {
    let named = Named::start(&ddns_zones(), &[sha256()]);
    let db = testing::fresh_db().await;
    const N: usize = 50;
    // Queued as tern's DHCP engine queues them: straight into the store.
    let batch: Vec<_> = (0..N)
        .map(|i| {
            ncr(
                ChangeType::Add,
                &format!("kill{i}.example.com."),
                &format!("192.0.2.{}", 100 + i),
                i as u8,
                Mode::CheckWithDhcid,
            )
        })
        .collect();
    let mut conn = db.pool().acquire().await.unwrap();
    ncr_queue::enqueue_batch(&mut conn, &batch, ncr_queue::NcrSource::Dhcp4)
        .await
        .unwrap();
    drop(conn);

    let done = |pool: sqlx::PgPool| async move {
        ncr_queue::list(&pool, Some(NcrState::Done), 0, 1000)
            .await
            .unwrap()
            .len()
    };
    let mut first = spawn_child_d2(named.port(), &db.url());
    let deadline = Instant::now() + Duration::from_secs(30);
    while done(db.pool().clone()).await < 5 {
        assert!(Instant::now() < deadline, "the first d2 did nothing");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.0.kill().unwrap(); // SIGKILL
    first.0.wait().unwrap();
    let at_kill = done(db.pool().clone()).await;
    assert!(at_kill < N, "the first d2 finished before it was killed");

    let _second = spawn_child_d2(named.port(), &db.url());
    let deadline = Instant::now() + Duration::from_secs(60);
    while done(db.pool().clone()).await < N {
        assert!(
            Instant::now() < deadline,
            "not all NCRs done after the restart: {:#?}",
            ncr_queue::list(db.pool(), None, 0, 1000).await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let present = (0..N)
        .filter(|i| {
            named.dig(&format!("kill{i}.example.com."), "A") == [format!("192.0.2.{}", 100 + i)]
        })
        .count();
    assert_eq!(present, N, "killed after {at_kill} done");
}

/// A rough figure, not a benchmark (see bench/): N NCRs sent at once over UDP, time
/// until all are done. `cargo test -p tern-d2 --test bind_ddns -- --ignored burst --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "timing figure, run by hand"]
async fn burst_throughput() {
    let env = Env::start(Some(sha256())).await;
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let start = Instant::now();
    for i in 0..n {
        env.send(&ncr(
            ChangeType::Add,
            &format!("b{i}.example.com."),
            &format!("192.0.2.{}", i % 250 + 1),
            (i % 250) as u8,
            Mode::CheckWithDhcid,
        ));
        if i % 200 == 199 {
            // Stay below the socket's receive buffer.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let sent = start.elapsed();
    let stats = env.d2().stats();
    let pool = env.db.pool().clone();
    let probe = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let states = ncr_queue::count_by_state(&pool).await.unwrap();
            eprintln!(
                "{:?} sent {:?} ok {:?} timeout {:?} err {:?} {states:?}",
                start.elapsed(),
                stats.get("update-sent"),
                stats.get("update-success"),
                stats.get("update-timeout"),
                stats.get("update-error")
            );
        }
    });
    let rows = env.settle(n).await;
    probe.abort();
    let took = start.elapsed();
    let done = rows
        .iter()
        .filter(|r| r.state == Some(NcrState::Done))
        .count();
    eprintln!(
        "{n} NCRs sent in {sent:?}, {done} done in {took:?}: {:.0} NCR/s",
        n as f64 / took.as_secs_f64()
    );
    assert_eq!(rows.len(), n);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_to_the_next_server_and_fails_on_a_refusal() {
    let named = Named::start(&ddns_zones(), &[]);
    let db = testing::fresh_db().await;
    let dead = common::free_port();
    let servers = serde_json::json!([
        { "ip-address": "127.0.0.1", "port": dead },
        { "ip-address": "127.0.0.1", "port": named.port() }
    ]);
    let config = serde_json::json!({ "DhcpDdns": {
        "ip-address": "127.0.0.1", "port": common::free_port(), "dns-server-timeout": 200,
        "forward-ddns": { "ddns-domains": [
            { "name": "example.com.", "dns-servers": servers },
            // BIND is not authoritative for this zone: it refuses the update.
            { "name": "elsewhere.test.", "dns-servers": [{ "ip-address": "127.0.0.1", "port": named.port() }] }
        ] },
        "reverse-ddns": { "ddns-domains": [
            { "name": "2.0.192.in-addr.arpa.", "dns-servers": servers } ] }
    }});
    let config = tern_config::parse_str(&config.to_string(), "d2.json")
        .unwrap()
        .ddns
        .unwrap();
    let d2 = D2Service::start_with(&config, db.store().clone(), fast_options())
        .await
        .unwrap();
    let env = Env {
        named,
        db,
        d2_addr: d2.local_addr(),
        d2: Some(d2),
    };
    let rec = env
        .run(&ncr(
            ChangeType::Add,
            "fo.example.com.",
            "192.0.2.80",
            8,
            Mode::CheckWithDhcid,
        ))
        .await;
    assert_done(&rec);
    assert_eq!(env.named.dig("fo.example.com.", "A"), ["192.0.2.80"]);
    assert_eq!(
        env.named.dig("80.2.0.192.in-addr.arpa.", "PTR"),
        ["fo.example.com."]
    );
    let stats = env.d2().stats();
    // 3 tries on the dead server per direction, then the live one.
    assert_eq!(stats.get("update-error"), Some(6), "{:?}", stats.snapshot());
    assert_eq!(stats.get("update-success"), Some(2));

    let rec = env
        .run(&ncr(
            ChangeType::Add,
            "h.elsewhere.test.",
            "192.0.2.81",
            8,
            Mode::CheckWithDhcid,
        ))
        .await;
    assert_eq!(rec.state, Some(NcrState::Failed), "{rec:?}");
    let why = rec.last_error.unwrap();
    assert!(why.contains("DHCP_DDNS_FORWARD_ADD_REJECTED"), "{why}");
    assert!(
        why.contains("answered NOTAUTH") || why.contains("answered REFUSED"),
        "{why}"
    );
    assert!(
        env.named.dig("81.2.0.192.in-addr.arpa.", "PTR").is_empty(),
        "reverse skipped"
    );
    env.stop().await;
}
