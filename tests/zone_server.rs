//! `tern serve`'s zone server with the real tools: nsupdate with every TSIG algorithm and
//! the refusals RFC 8945 §5.2 gives, update-policy grants and RFC 2136 §3.2 prerequisites,
//! AXFR of a zone larger than one message by dig and kdig, BIND 9 and Knot as secondaries
//! converging by IXFR across a restart of tern, the counters over the command channel and
//! `/metrics`, and malformed messages over UDP and TCP.
//!
//! Each test runs `tern serve` as a child process on free 127.0.0.1 ports, on a database of
//! its own (`tern_store::testing::fresh_db`), with zones seeded from zone files written in
//! its temp dir; processes are stopped by PID (Drop guards, also on panic). Needs bind9,
//! bind9-dnsutils (dig, nsupdate), knot and knot-dnsutils (kdig), curl; under `CI=true` a
//! missing one fails the test.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Tern;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{rdata, DNSClass, Name, RData, RecordType};
use serde_json::Value;
use tern_dnsmsg::tsig::{self, Algorithm, Origin, TsigError, TsigKey};
use tern_testkit::bind::{base64, bind_algorithm, free_port, key};
use tern_testkit::dig::{number_after, record_lines};
use tern_testkit::secondary::{secondaries_present, Secondary};

const ZONE: &str = "example.com.";
const START: Duration = Duration::from_secs(60);
/// How long a committed change may take to be served (the target is 50 ms).
const SERVED: Duration = Duration::from_secs(5);
const TOOLS: [&str; 4] = [
    "/usr/bin/dig",
    "/usr/bin/nsupdate",
    "/usr/bin/kdig",
    "/usr/bin/curl",
];

/// Whether the client tools are installed (a failure under `CI=true` if not).
fn tools_present(test: &str) -> bool {
    let missing: Vec<_> = TOOLS.iter().filter(|p| !Path::new(p).exists()).collect();
    if missing.is_empty() {
        return true;
    }
    tern_testkit::peer_missing(
        test,
        &format!("{missing:?} not installed (bind9-dnsutils, knot-dnsutils, curl)"),
    );
    false
}

/// `alg:name:secret` as dig's, kdig's and nsupdate's `-y` take it (BIND's truncated form
/// `hmac-sha256-128` when the key is truncated).
fn y(k: &TsigKey) -> String {
    format!("{}:{}:{}", bind_algorithm(k), k.name, base64(&k.secret))
}

/// A `tsig-keys` entry for `k`.
fn key_json(k: &TsigKey) -> String {
    format!(
        r#"{{ "name": "{}", "algorithm": "{}", "secret": "{}", "digest-bits": {} }}"#,
        k.name,
        k.algorithm.kea_name(),
        base64(&k.secret),
        k.digest_bits
    )
}

/// A zone file: SOA (serial 1), apex NS, the name server's address, then `body`.
fn zone_file(origin: &str, body: &str) -> String {
    format!(
        "$ORIGIN {origin}\n$TTL 300\n\
         @ 3600 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 604800 300\n\
         @ 3600 IN NS ns.example.com.\n{body}"
    )
}

/// One `tern serve` on a database of its own, restartable on the same store.
struct Rig {
    dir: tempfile::TempDir,
    db: tern_store::testing::TestDb,
    /// Where the zone server answers (UDP and TCP).
    dns: SocketAddr,
    api: u16,
    conf: PathBuf,
    tern: Option<Tern>,
    runs: u32,
}

impl Rig {
    /// Writes the zone files `files` (name, text) and a configuration with the `Dns`
    /// section's `keys` and `zones` (JSON text, the files named relative to the config),
    /// then starts tern.
    async fn start(keys: &[TsigKey], zones: &str, files: &[(&str, String)]) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let db = tern_store::testing::fresh_db().await;
        let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let api = free_port();
        let keys: Vec<String> = keys.iter().map(key_json).collect();
        let conf = format!(
            r#"{{
  {store},
  "Api": {{ "ip-address": "127.0.0.1", "port": {api} }},
  "Dns": {{
    "listen-on": [ {{ "ip-address": "127.0.0.1", "port": {port} }} ],
    "tsig-keys": [ {keys} ],
    "zones": [ {zones} ],
    "loggers": [ {{ "name": "tern-dns", "output_options": [ {{ "output": "stdout" }} ],
                   "severity": "DEBUG" }},
                 {{ "name": "tern", "output_options": [ {{ "output": "stdout" }} ],
                   "severity": "INFO" }} ]
  }}
}}"#,
            store = common::store_section(&db),
            port = dns.port(),
            keys = keys.join(",\n      "),
        );
        let path = dir.path().join("tern.json");
        std::fs::write(&path, conf).unwrap();
        let mut rig = Rig {
            dir,
            db,
            dns,
            api,
            conf: path,
            tern: None,
            runs: 0,
        };
        rig.run();
        rig
    }

    /// Starts tern (again) and waits until it answers the SOA of example.com.
    fn run(&mut self) {
        self.runs += 1;
        let log = self.dir.path().join(format!("tern-{}.log", self.runs));
        let mut tern = Tern::start(
            &[
                "serve",
                "-c",
                self.conf.to_str().unwrap(),
                "--data-dir",
                self.dir.path().join("data").to_str().unwrap(),
            ],
            &log,
        );
        tern.wait_for("TERN_READY", START);
        tern.wait_for("DNS_LISTENING", START);
        self.tern = Some(tern);
        let deadline = Instant::now() + START;
        while self.serial(ZONE).is_none() {
            assert!(Instant::now() < deadline, "no SOA:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops tern with SIGTERM; it must exit cleanly.
    fn stop(&mut self) {
        let mut tern = self.tern.take().expect("running");
        let status = tern.stop(Duration::from_secs(30));
        assert!(
            status.is_some_and(|s| s.success()),
            "tern did not stop cleanly ({status:?}):\n{}",
            tern.log()
        );
    }

    /// What the running tern logged.
    fn log(&self) -> String {
        self.tern.as_ref().map(Tern::log).unwrap_or_default()
    }

    /// `dig @tern ARGS` (stdout and stderr).
    fn dig(&self, args: &[&str]) -> String {
        tool("dig", self.dns, &[&["+time=3", "+tries=1"], args].concat())
    }

    /// `dig +short NAME TYPE`, one answer per line, sorted.
    fn short(&self, name: &str, rtype: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .dig(&["+short", "+norec", name, rtype])
            .lines()
            .filter(|l| !l.starts_with(';'))
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    }

    /// The SOA serial tern answers for `zone`.
    fn serial(&self, zone: &str) -> Option<u32> {
        self.short(zone, "SOA")
            .first()?
            .split(' ')
            .nth(2)?
            .parse()
            .ok()
    }

    /// The serial in the store, and how many records sit at `name` there.
    async fn stored(&self, zone: &str, name: &str) -> (u32, i64) {
        let serial: i64 = sqlx::query_scalar("SELECT serial FROM tern.dns_zone WHERE name = $1")
            .bind(zone)
            .fetch_one(self.db.pool())
            .await
            .unwrap();
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM tern.dns_record WHERE lower(name) = $1")
                .bind(name.to_ascii_lowercase())
                .fetch_one(self.db.pool())
                .await
                .unwrap();
        (serial as u32, n)
    }

    /// Waits until tern answers exactly `want` for `name` `rtype`.
    fn wait_answer(&self, name: &str, rtype: &str, want: &[&str]) {
        let deadline = Instant::now() + SERVED;
        loop {
            let got = self.short(name, rtype);
            if got == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} {rtype}: {got:?}, not {want:?} after {SERVED:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// nsupdate against tern with key `k` (none: unsigned) and the update `lines`: its exit
    /// status and what it printed.
    fn nsupdate(&self, k: Option<&TsigKey>, lines: &str) -> (bool, String) {
        self.nsupdate_over(false, k, lines)
    }

    /// [`Rig::nsupdate`] over TCP (`-v`) when `tcp`.
    fn nsupdate_over(&self, tcp: bool, k: Option<&TsigKey>, lines: &str) -> (bool, String) {
        let script = format!(
            "server {} {}\nzone {ZONE}\n{lines}\nsend\n",
            self.dns.ip(),
            self.dns.port()
        );
        let mut cmd = Command::new("timeout");
        cmd.args(["20", "nsupdate", "-t", "5", "-u", "5"]);
        if tcp {
            cmd.arg("-v");
        }
        if let Some(k) = k {
            cmd.args(["-y", &y(k)]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nsupdate (apt-get install bind9-dnsutils)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }

    /// A Kea command over the command channel: its answer (the first, for a list).
    fn command(&self, cmd: &str) -> Value {
        let out = Command::new("curl")
            .args([
                "-s",
                "-m",
                "10",
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
            ])
            .args(["-d", &format!(r#"{{"command": "{cmd}"}}"#)])
            .arg(format!("http://127.0.0.1:{}/", self.api))
            .output()
            .expect("curl");
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{cmd}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        match v {
            Value::Array(mut a) => a.remove(0),
            v => v,
        }
    }

    /// `GET /metrics`.
    fn metrics(&self) -> String {
        let out = Command::new("curl")
            .args(["-s", "-m", "10"])
            .arg(format!("http://127.0.0.1:{}/metrics", self.api))
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(mut t) = self.tern.take() {
            t.stop(Duration::from_secs(20));
            if std::thread::panicking() {
                let log = t.log();
                let tail: Vec<&str> = log.lines().rev().take(80).collect();
                eprintln!("--- tern log (last 80 lines) ---");
                for l in tail.iter().rev() {
                    eprintln!("{l}");
                }
            }
        }
    }
}

/// Runs `name` (dig, kdig) against `addr`: stdout and stderr together.
fn tool(name: &str, addr: SocketAddr, args: &[&str]) -> String {
    let out = Command::new("timeout")
        .args(["60", name])
        .arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string()])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The RCODE nsupdate reports (`update failed: NOTAUTH(BADKEY)` → `NOTAUTH(BADKEY)`), or
/// `NOERROR` when it succeeded.
fn nsupdate_rcode((ok, out): &(bool, String)) -> String {
    if *ok {
        return "NOERROR".into();
    }
    out.split("update failed: ")
        .nth(1)
        .map(|r| r.split_whitespace().next().unwrap_or("").to_owned())
        .unwrap_or_else(|| format!("(no rcode: {out})"))
}

/// Names of the six algorithms as keys: `hmac-md5.`, ...
fn all_keys() -> Vec<TsigKey> {
    Algorithm::ALL
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let name = format!("{}.", a.kea_name().to_ascii_lowercase());
            key(&name, *a, 0, i as u8 + 1)
        })
        .collect()
}

fn grant_all(keys: &[TsigKey]) -> String {
    keys.iter()
        .map(|k| {
            format!(
                r#"{{ "key": "{}", "grant": "zonesub", "types": ["ANY"] }}"#,
                k.name
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A stale-time UPDATE: signed with `k` an hour ago (nsupdate cannot fake its clock), sent
/// over UDP; the answer.
fn stale_update(addr: SocketAddr, k: &TsigKey, name: &str) -> (Vec<u8>, Vec<u8>) {
    let mut msg = tern_dnsmsg::update::new_update(&Name::from_ascii(ZONE).unwrap());
    msg.metadata.id = 0x5e1f;
    msg.authorities.push(tern_dnsmsg::update::rr_with(
        &Name::from_ascii(name).unwrap(),
        DNSClass::IN,
        60,
        RData::A(rdata::A::new(192, 0, 2, 66)),
    ));
    let signed = tsig::sign_request(
        &msg.to_vec().unwrap(),
        k,
        tsig::unix_now() - 3600,
        tsig::DEFAULT_FUDGE,
    )
    .unwrap();
    let answer = tern_testkit::bind::exchange(addr, &signed.wire, Duration::from_secs(5))
        .expect("an answer to the stale update");
    (answer, signed.mac)
}

fn rcode_of(wire: &[u8]) -> ResponseCode {
    ResponseCode::from(0, wire[3] & 0x0f)
}

// ---- 1. nsupdate with every TSIG algorithm; wrong key, secret, time; unsigned ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nsupdate_with_every_tsig_algorithm_and_each_refusal() {
    if !tools_present("nsupdate_with_every_tsig_algorithm_and_each_refusal") {
        return;
    }
    let mut keys = all_keys();
    // Truncated to 128 bits (RFC 8945 §5.2.2.1): nsupdate names it hmac-sha256-128.
    let trunc = key("trunc.", Algorithm::HmacSha256, 128, 40);
    keys.push(trunc.clone());
    let zones = format!(
        r#"{{ "name": "{ZONE}", "file": "example.com.zone", "allow-update": [ {} ] }}"#,
        grant_all(&keys)
    );
    let file = zone_file(ZONE, "ns IN A 127.0.0.1\nstatic IN A 192.0.2.200\n");
    let rig = Rig::start(&keys, &zones, &[("example.com.zone", file)]).await;

    let mut last = rig.serial(ZONE).unwrap();
    for (i, k) in keys.iter().enumerate() {
        let owner = format!(
            "by-{}.example.com.",
            k.name.to_ascii().trim_end_matches('.')
        );
        let addr = format!("192.0.2.{}", 10 + i);
        // Every other one over TCP.
        let update = format!("update add {owner} 60 A {addr}");
        let out = rig.nsupdate_over(i % 2 == 1, Some(k), &update);
        assert_eq!(nsupdate_rcode(&out), "NOERROR", "{}: {}", y(k), out.1);
        rig.wait_answer(&owner, "A", &[&addr]);
        let serial = rig.serial(ZONE).unwrap();
        assert!(serial > last, "{}: serial {serial} after {last}", k.name);
        last = serial;
    }
    let applied = rig.log().matches("DNS_UPDATE_APPLIED").count();
    assert_eq!(applied, keys.len(), "{}", rig.log());

    // Refusals: nothing applied, the serial stays, the log names the reason.
    let sha256 = keys
        .iter()
        .find(|k| k.algorithm == Algorithm::HmacSha256 && k.digest_bits == 0)
        .unwrap()
        .clone();
    let unknown = key("nobody.", Algorithm::HmacSha256, 0, 77);
    let wrong_secret = TsigKey {
        secret: key("x.", Algorithm::HmacSha256, 0, 78).secret,
        ..sha256.clone()
    };
    let cases: [(&str, Option<&TsigKey>, &str, &str); 3] = [
        (
            "wrong key name",
            Some(&unknown),
            "NOTAUTH(BADKEY)",
            "BADKEY",
        ),
        (
            "wrong secret",
            Some(&wrong_secret),
            "NOTAUTH(BADSIG)",
            "BADSIG",
        ),
        ("unsigned", None, "REFUSED", "unsigned updates are refused"),
    ];
    for (what, k, rcode, reason) in cases {
        let owner = format!("{}.example.com.", what.replace(' ', "-"));
        let before = rig.log();
        let out = rig.nsupdate(k, &format!("update add {owner} 60 A 192.0.2.99"));
        assert_eq!(nsupdate_rcode(&out), rcode, "{what}: {}", out.1);
        assert_eq!(rig.stored(ZONE, &owner).await, (last, 0), "{what}: applied");
        let log = rig.log();
        let new = &log[before.len()..];
        assert!(
            new.lines().any(|l| (l.contains("DNS_TSIG_REFUSED")
                || l.contains("DNS_UPDATE_REFUSED"))
                && l.contains(reason)),
            "{what}: no reason {reason:?} in the log:\n{new}"
        );
    }
    // Stale time: BADTIME, answered signed (RFC 8945 §5.2.3), which the signer verifies.
    let before = rig.log();
    let (answer, mac) = stale_update(rig.dns, &sha256, "stale.example.com.");
    assert_eq!(rcode_of(&answer), ResponseCode::NotAuth);
    match tsig::verify_response(&answer, &sha256, &mac, tsig::unix_now()) {
        Err(TsigError::BadTime {
            origin: Origin::Peer,
            ..
        }) => {}
        other => panic!("stale update: {other:?}"),
    }
    assert_eq!(rig.stored(ZONE, "stale.example.com.").await, (last, 0));
    let log = rig.log();
    assert!(
        log[before.len()..]
            .lines()
            .any(|l| l.contains("DNS_TSIG_REFUSED") && l.contains("BADTIME")),
        "{}",
        &log[before.len()..]
    );
    // And dig agrees: none of them answers, the serial did not move.
    std::thread::sleep(Duration::from_millis(300));
    for owner in ["wrong-key-name", "wrong-secret", "unsigned", "stale"] {
        assert!(rig.short(&format!("{owner}.example.com."), "A").is_empty());
    }
    assert_eq!(rig.serial(ZONE), Some(last));
    assert_eq!(rig.log().matches("DNS_UPDATE_APPLIED").count(), applied);
    let stats = rig.command("statistic-get-all");
    let stat = |name: &str| stats["arguments"][name][0][0].as_i64();
    assert_eq!(
        stat("dns-updates-applied"),
        Some(keys.len() as i64),
        "{stats}"
    );
    assert_eq!(stat("dns-tsig-refused"), Some(3), "{stats}");
    assert_eq!(stat("dns-updates-refused"), Some(4), "{stats}");
}

// ---- 2. update-policy and prerequisites through nsupdate ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_policy_and_prerequisites_through_nsupdate() {
    if !tools_present("update_policy_and_prerequisites_through_nsupdate") {
        return;
    }
    let alg = Algorithm::HmacSha256;
    let by_name = key("www-key.", alg, 0, 1);
    let by_sub = key("dyn-key.", alg, 0, 2);
    let by_zone = key("txt-key.", alg, 0, 3);
    let by_self = key("host1.example.com.", alg, 0, 4);
    let admin = key("admin.", alg, 0, 5);
    let keys = [
        by_name.clone(),
        by_sub.clone(),
        by_zone.clone(),
        by_self.clone(),
        admin.clone(),
    ];
    let zones = format!(
        r#"{{ "name": "{ZONE}", "file": "example.com.zone", "allow-update": [
        {{ "key": "www-key.", "grant": "name", "name": "www.example.com.", "types": ["A"] }},
        {{ "key": "dyn-key.", "grant": "subdomain", "name": "dyn.example.com.", "types": ["A", "TXT"] }},
        {{ "key": "txt-key.", "grant": "zonesub", "types": ["TXT"] }},
        {{ "key": "host1.example.com.", "grant": "selfsub", "types": ["A", "AAAA"] }},
        {{ "key": "admin.", "grant": "zonesub", "types": ["ANY"] }} ] }}"#
    );
    let file = zone_file(ZONE, "ns IN A 127.0.0.1\nstatic IN A 192.0.2.200\n");
    let rig = Rig::start(&keys, &zones, &[("example.com.zone", file)]).await;

    // (key, update, RCODE, the RRset afterwards: owner, type, answer)
    type Case<'a> = (&'a TsigKey, &'a str, &'a str, (&'a str, &'a str, &'a str));
    let grants: [Case; 12] = [
        (
            &by_name,
            "update add www.example.com. 60 A 192.0.2.1",
            "NOERROR",
            ("www", "A", "192.0.2.1"),
        ),
        (
            &by_name,
            "update add www.example.com. 60 TXT \"no\"",
            "REFUSED",
            ("www", "TXT", ""),
        ),
        (
            &by_name,
            "update add mail.example.com. 60 A 192.0.2.2",
            "REFUSED",
            ("mail", "A", ""),
        ),
        (
            &by_sub,
            "update add dyn.example.com. 60 A 192.0.2.3",
            "NOERROR",
            ("dyn", "A", "192.0.2.3"),
        ),
        (
            &by_sub,
            "update add a.b.dyn.example.com. 60 TXT \"deep\"",
            "NOERROR",
            ("a.b.dyn", "TXT", "\"deep\""),
        ),
        (
            &by_sub,
            "update add a.dyn.example.com. 60 AAAA 2001:db8::1",
            "REFUSED",
            ("a.dyn", "AAAA", ""),
        ),
        (
            &by_sub,
            "update add dynx.example.com. 60 A 192.0.2.4",
            "REFUSED",
            ("dynx", "A", ""),
        ),
        (
            &by_zone,
            "update add t.example.com. 60 TXT \"any name\"",
            "NOERROR",
            ("t", "TXT", "\"any name\""),
        ),
        (
            &by_zone,
            "update add t.example.com. 60 A 192.0.2.5",
            "REFUSED",
            ("t", "A", ""),
        ),
        (
            &by_self,
            "update add host1.example.com. 60 A 192.0.2.6",
            "NOERROR",
            ("host1", "A", "192.0.2.6"),
        ),
        (
            &by_self,
            "update add v6.host1.example.com. 60 AAAA 2001:db8::6",
            "NOERROR",
            ("v6.host1", "AAAA", "2001:db8::6"),
        ),
        (
            &by_self,
            "update add host2.example.com. 60 A 192.0.2.7",
            "REFUSED",
            ("host2", "A", ""),
        ),
    ];
    // RFC 2136 §3.2: each failing prerequisite gives its RCODE and nothing of the update
    // is applied; the ones that hold let it through.
    let add = |owner: &str| format!("update add {owner}.example.com. 60 TXT \"p\"");
    let prereqs = [
        ("prereq yxdomain nothere.example.com.", "p1", "NXDOMAIN"),
        ("prereq nxdomain static.example.com.", "p2", "YXDOMAIN"),
        ("prereq yxrrset static.example.com. AAAA", "p3", "NXRRSET"),
        ("prereq nxrrset static.example.com. A", "p4", "YXRRSET"),
        (
            "prereq yxrrset static.example.com. A 192.0.2.99",
            "p5",
            "NXRRSET",
        ),
        (
            "prereq yxrrset static.example.com. IN A 192.0.2.200",
            "p6",
            "NOERROR",
        ),
        (
            "prereq nxdomain p7.example.com.\nprereq yxdomain static.example.com.",
            "p7",
            "NOERROR",
        ),
        (
            "prereq nxrrset static.example.com. TXT\nprereq yxrrset static.example.com. A",
            "p8",
            "NOERROR",
        ),
    ];
    let mut failures = Vec::new();
    let mut check = |what: &str, got: String, want: &str| {
        if got != want {
            failures.push(format!("{what}: {got}, expected {want}"));
        }
    };
    for (k, update, want, (owner, rtype, after)) in grants {
        let before = rig.stored(ZONE, &format!("{owner}.example.com.")).await;
        let got = nsupdate_rcode(&rig.nsupdate(Some(k), update));
        check(&format!("{} {update}", k.name), got, want);
        let name = format!("{owner}.example.com.");
        let expected: Vec<&str> = [after].into_iter().filter(|a| !a.is_empty()).collect();
        rig.wait_answer(&name, rtype, &expected);
        if want != "NOERROR" {
            assert_eq!(rig.stored(ZONE, &name).await, before, "{update}: applied");
        }
    }
    for (prereq, owner, want) in prereqs {
        let serial = rig.serial(ZONE).unwrap();
        let lines = format!("{prereq}\n{}", add(owner));
        let got = nsupdate_rcode(&rig.nsupdate(Some(&admin), &lines));
        check(&lines, got, want);
        let name = format!("{owner}.example.com.");
        if want == "NOERROR" {
            rig.wait_answer(&name, "TXT", &["\"p\""]);
        } else {
            assert_eq!(
                rig.stored(ZONE, &name).await,
                (serial, 0),
                "{lines}: applied"
            );
            assert!(rig.short(&name, "TXT").is_empty());
        }
    }
    assert!(failures.is_empty(), "{failures:#?}\n{}", rig.log());
    let log = rig.log();
    assert!(
        log.contains("DNS_UPDATE_REFUSED") && log.contains("may not update"),
        "{log}"
    );
}

// ---- 3. AXFR of a zone larger than one message ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axfr_of_a_big_zone_by_dig_and_kdig_and_refusals() {
    if !tools_present("axfr_of_a_big_zone_by_dig_and_kdig_and_refusals") {
        return;
    }
    const N: usize = 5000;
    let xfr = key("xfr.", Algorithm::HmacSha256, 0, 21);
    let other = key("other.", Algorithm::HmacSha512, 0, 22);
    let mut body = String::from("ns IN A 127.0.0.1\nstatic IN A 192.0.2.200\n");
    for i in 0..N {
        body.push_str(&format!("host-{i} IN A 10.0.{}.{}\n", i >> 8, i & 255));
    }
    body.push_str("txt 60 IN TXT \"a long text record to check content\" \"second string\"\n");
    let records = 3 + 1 + N + 1; // SOA, NS, ns A, static A, hosts, TXT
    let zones = format!(
        r#"{{ "name": "{ZONE}", "file": "example.com.zone", "allow-transfer": [ {{ "key": "xfr." }} ] }},
        {{ "name": "by-address.example.", "file": "by-address.zone",
          "allow-transfer": [ {{ "ip-address": "127.0.0.2" }} ] }}"#
    );
    let rig = Rig::start(
        &[xfr.clone(), other.clone()],
        &zones,
        &[
            ("example.com.zone", zone_file(ZONE, &body)),
            (
                "by-address.zone",
                zone_file("by-address.example.", "a IN A 192.0.2.1\n"),
            ),
        ],
    )
    .await;
    let serial = rig.serial(ZONE).unwrap();

    let dig = rig.dig(&["+tcp", "+time=20", "-y", &y(&xfr), ZONE, "AXFR"]);
    let kdig = tool("kdig", rig.dns, &["+time=20", "-y", &y(&xfr), ZONE, "AXFR"]);
    let soa = format!("example.com. 3600 IN SOA ns.example.com. hostmaster.example.com. {serial} 3600 600 604800 300");
    for (name, out, count, messages, bytes) in [
        (
            "dig",
            &dig,
            number_after(&dig, "XFR size:"),
            number_after(&dig, "(messages"),
            number_after(&dig, "bytes"),
        ),
        (
            "kdig",
            &kdig,
            number_after(&kdig, "messages,"),
            number_after(&kdig, "B ("),
            number_after(&kdig, "Received"),
        ),
    ] {
        let tail = &out[out.len().saturating_sub(1500)..];
        assert!(
            !out.contains("failed") && !out.contains("WARNING") && !out.contains(";; ERROR"),
            "{name}: {tail}"
        );
        let lines = record_lines(out);
        assert_eq!(
            lines.len(),
            records + 1,
            "{name}: SOA twice and every record: {tail}"
        );
        assert_eq!(count, Some(records + 1), "{name}: {tail}");
        assert!(
            messages.unwrap_or(0) > 1,
            "{name}: {messages:?} messages: {tail}"
        );
        assert!(
            bytes.unwrap_or(0) > 65_535,
            "{name}: {bytes:?} bytes: {tail}"
        );
        assert_eq!((&lines[0], &lines[records]), (&soa, &soa), "{name}");
        for want in [
            "host-0.example.com. 300 IN A 10.0.0.0",
            "host-4999.example.com. 300 IN A 10.0.19.135",
            "static.example.com. 300 IN A 192.0.2.200",
            "txt.example.com. 60 IN TXT \"a long text record to check content\" \"second string\"",
            "example.com. 3600 IN NS ns.example.com.",
        ] {
            assert!(lines.iter().any(|l| l == want), "{name}: no {want:?}");
        }
        let hosts = lines.iter().filter(|l| l.starts_with("host-")).count();
        assert_eq!(hosts, N, "{name}");
    }
    // kdig checks each message's TSIG and prints one per message.
    assert_eq!(
        kdig.lines()
            .filter(|l| l.split_whitespace().nth(3) == Some("TSIG"))
            .count(),
        number_after(&kdig, "B (").unwrap(),
        "one TSIG per message"
    );

    // Refused: no key, a key not in allow-transfer, a wrong secret, a wrong address.
    let wrong_secret = TsigKey {
        secret: other.secret.clone(),
        ..xfr.clone()
    };
    let by_addr = "by-address.example.";
    let refused = [
        ("unsigned", rig.dig(&["+tcp", ZONE, "AXFR"]), "REFUSED"),
        (
            "other key",
            rig.dig(&["+tcp", "-y", &y(&other), ZONE, "AXFR"]),
            "REFUSED",
        ),
        (
            "wrong secret",
            rig.dig(&["+tcp", "-y", &y(&wrong_secret), ZONE, "AXFR"]),
            "NOTAUTH",
        ),
        (
            "from 127.0.0.1",
            rig.dig(&["+tcp", by_addr, "AXFR"]),
            "REFUSED",
        ),
        (
            "kdig, other key",
            tool("kdig", rig.dns, &["-y", &y(&other), ZONE, "AXFR"]),
            "REFUSED",
        ),
    ];
    for (what, out, rcode) in &refused {
        assert!(record_lines(out).is_empty(), "{what}: records came:\n{out}");
        assert!(
            out.contains(rcode) || out.contains("failed"),
            "{what}: {out}"
        );
    }
    // dig prints the RCODE of a refused transfer as "; Transfer failed."; the log says why.
    let log = rig.log();
    assert!(log.matches("DNS_XFR_REFUSED").count() >= 4, "{log}");
    assert!(
        log.contains("DNS_TSIG_REFUSED") && log.contains("BADSIG"),
        "{log}"
    );
    // From the address allow-transfer names, it goes.
    let ok = rig.dig(&["+tcp", "-b", "127.0.0.2", by_addr, "AXFR"]);
    assert_eq!(record_lines(&ok).len(), 4, "SOA, NS, a, SOA: {ok}");
    let outs = log.matches("DNS_XFR_OUT").count();
    assert_eq!(outs, 2, "dig's and kdig's: {log}");
}

// ---- 4 + 5. BIND 9 and Knot as secondaries across a restart; the counters ----

/// The serials BIND logged "Transfer completed" for, with the record count of each.
fn bind_transfers(log: &str) -> Vec<(u32, usize)> {
    log.lines()
        .filter(|l| l.contains("Transfer completed:"))
        .filter_map(|l| {
            let records = number_after(l, "messages,")?;
            let serial = number_after(l, "(serial")? as u32;
            Some((serial, records))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_and_knot_follow_by_ixfr_across_a_restart() {
    let test = "bind_and_knot_follow_by_ixfr_across_a_restart";
    if !tools_present(test) || !secondaries_present(test) {
        return;
    }
    let xfr = key("xfr.", Algorithm::HmacSha256, 0, 31);
    let upd = key("upd.", Algorithm::HmacSha384, 0, 32);
    let (bind_port, knot_port) = (free_port(), free_port());
    let zones = format!(
        r#"{{ "name": "{ZONE}", "file": "example.com.zone",
          "allow-update": [ {{ "key": "upd.", "grant": "zonesub", "types": ["ANY"] }} ],
          "allow-transfer": [ {{ "key": "xfr." }} ],
          "notify": [ {{ "ip-address": "127.0.0.1", "port": {bind_port}, "key-name": "xfr." }},
                      {{ "ip-address": "127.0.0.1", "port": {knot_port}, "key-name": "xfr." }} ] }}"#
    );
    let mut body = String::from("ns IN A 127.0.0.1\nstatic IN A 192.0.2.200\n");
    for i in 0..20 {
        body.push_str(&format!("host-{i} IN A 10.0.0.{i}\n"));
    }
    let zone_records = 2 + 2 + 20 + 1; // SOA twice, NS, ns, static, hosts
    let mut rig = Rig::start(
        &[xfr.clone(), upd.clone()],
        &zones,
        &[("example.com.zone", zone_file(ZONE, &body))],
    )
    .await;
    let first = rig.serial(ZONE).unwrap();
    let mut bind = Secondary::bind(rig.dns, "example.com", &xfr, bind_port);
    let mut knot = Secondary::knot(rig.dns, "example.com", &xfr, knot_port);
    for s in [&mut bind, &mut knot] {
        s.wait_for(
            "static.example.com.",
            "A",
            "192.0.2.200",
            Duration::from_secs(30),
        );
    }

    // An update: NOTIFY, then IXFR (4 SOAs and the one record added).
    let update = |rig: &Rig, owner: &str, addr: &str| {
        let out = rig.nsupdate(Some(&upd), &format!("update add {owner} 60 A {addr}"));
        assert_eq!(nsupdate_rcode(&out), "NOERROR", "{}", out.1);
        rig.wait_answer(owner, "A", &[addr]);
        rig.serial(ZONE).unwrap()
    };
    let second = update(&rig, "new1.example.com.", "192.0.2.11");
    assert!(second > first);
    for s in [&mut bind, &mut knot] {
        s.wait_for(
            "new1.example.com.",
            "A",
            "192.0.2.11",
            Duration::from_secs(10),
        );
    }

    // Restart tern on the same store; the secondaries stay.
    rig.stop();
    rig.run();
    assert_eq!(
        rig.serial(ZONE),
        Some(second),
        "the serial survived the restart"
    );
    let third = update(&rig, "new2.example.com.", "192.0.2.12");
    assert!(third > second, "serial went from {second} to {third}");
    for s in [&mut bind, &mut knot] {
        s.wait_for(
            "new2.example.com.",
            "A",
            "192.0.2.12",
            Duration::from_secs(10),
        );
    }
    let fourth = update(&rig, "new3.example.com.", "192.0.2.13");
    for s in [&mut bind, &mut knot] {
        s.wait_for(
            "new3.example.com.",
            "A",
            "192.0.2.13",
            Duration::from_secs(10),
        );
        s.wait_for(ZONE, "SOA", &format!(" {fourth} "), Duration::from_secs(10));
    }

    // Knot: one AXFR (the first), an IXFR for each later version, none AXFR-style.
    let knot_log = knot.log();
    let remote = format!("incoming, remote {}@{}", rig.dns.ip(), rig.dns.port());
    assert_eq!(
        knot_log
            .matches(&format!("AXFR, {remote}, started"))
            .count(),
        1,
        "{knot_log}"
    );
    assert!(!knot_log.contains("AXFR-style"), "{knot_log}");
    let ixfrs = knot_log
        .matches(&format!("IXFR, {remote}, finished"))
        .count();
    assert_eq!(ixfrs, 3, "{knot_log}");
    for (from, to) in [(first, second), (second, third), (third, fourth)] {
        let step = format!("serial {from} -> {to}");
        assert!(knot_log.contains(&step), "Knot: no {step}:\n{knot_log}");
    }
    // BIND: the whole zone once, then transfers of 5 records each (old and new SOA around
    // the one addition), applied through its journal.
    let bind_log = bind.log();
    let transfers = bind_transfers(&bind_log);
    let serials: Vec<u32> = transfers.iter().map(|t| t.0).collect();
    assert!(serials.windows(2).all(|w| w[0] < w[1]), "{transfers:?}");
    assert_eq!(
        transfers.first(),
        Some(&(first, zone_records)),
        "{bind_log}"
    );
    for serial in [second, third, fourth] {
        assert!(
            transfers.contains(&(serial, 5)),
            "BIND: no incremental transfer of {serial}: {transfers:?}\n{bind_log}"
        );
    }
    assert!(!bind_log.contains("< ours"), "{bind_log}");
    assert!(bind.dir.path().join("example.com.db.jnl").exists());

    // tern after the restart: IXFR out only, NOTIFY answered by both.
    let log = rig.log();
    let outs: Vec<&str> = log.lines().filter(|l| l.contains("DNS_XFR_OUT")).collect();
    assert!(outs.len() >= 4, "{log}");
    assert!(outs.iter().all(|l| l.contains("(IXFR")), "{outs:#?}");
    for port in [bind_port, knot_port] {
        let sent = format!("serial {fourth} to 127.0.0.1:{port}: answered NOERROR");
        assert!(
            log.lines()
                .any(|l| l.contains("DNS_NOTIFY_SENT") && l.contains(&sent)),
            "{log}"
        );
    }
    assert!(log.contains("DNS_UPDATE_APPLIED"), "{log}");

    // The counters of this run, over the command channel and in /metrics.
    rig.short("nothere.example.com.", "A"); // NXDOMAIN
    rig.short("example.org.", "A"); // REFUSED
    rig.short("static.example.com.", "TXT"); // NODATA
    let all = rig.command("statistic-get-all");
    assert_eq!(all["result"], 0, "{all}");
    let stat = |name: &str| -> i64 {
        all["arguments"][name][0][0]
            .as_i64()
            .unwrap_or_else(|| panic!("no {name} in {all}"))
    };
    for name in [
        "dns-queries.type[A]",
        "dns-queries.type[SOA]",
        "dns-queries.type[TXT]",
        "dns-queries.type[IXFR]",
        "dns-responses.rcode[NOERROR]",
        "dns-responses.rcode[NXDOMAIN]",
        "dns-responses.rcode[REFUSED]",
        "dns-transfers",
        "dns-notifies",
    ] {
        assert!(stat(name) > 0, "{name}: {all}");
    }
    assert_eq!(stat("dns-updates-applied"), 2, "{all}");
    assert!(stat("dns-notifies") >= 4, "{all}");
    assert!(stat("dns-transfers") >= 4, "{all}");
    let metrics = rig.metrics();
    let metric = |line: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {line} in /metrics:\n{metrics}"))
    };
    for line in [
        "tern_dns_queries_type{type=\"A\"}",
        "tern_dns_queries_type{type=\"IXFR\"}",
        "tern_dns_responses_rcode{rcode=\"NOERROR\"}",
        "tern_dns_responses_rcode{rcode=\"NXDOMAIN\"}",
        "tern_dns_transfers",
        "tern_dns_notifies",
    ] {
        assert!(metric(line) > 0, "{line}:\n{metrics}");
    }
    assert_eq!(metric("tern_dns_updates_applied"), 2, "{metrics}");
}

// ---- 6. Bad input over UDP and TCP ----

/// Sends `wire` over UDP; the answer, or `None` when nothing came within half a second.
fn udp(addr: SocketAddr, wire: &[u8]) -> Option<Vec<u8>> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s.send_to(wire, addr).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = s.recv_from(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

/// Sends `wire` over TCP with its length prefix (or `raw` bytes as they are); the first
/// answer, or `None` when the server closed or said nothing within a second.
fn tcp(addr: SocketAddr, wire: &[u8], framed: bool) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    if framed {
        s.write_all(&(wire.len() as u16).to_be_bytes()).unwrap();
    }
    s.write_all(wire).unwrap();
    if !framed {
        let _ = s.shutdown(std::net::Shutdown::Write);
    }
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut buf).ok()?;
    Some(buf)
}

fn message(op: OpCode, queries: &[(&str, RecordType)]) -> Message {
    let mut m = Message::new(0x4242, MessageType::Query, op);
    for (n, t) in queries {
        let mut q = Query::query(Name::from_ascii(n).unwrap(), *t);
        q.set_query_class(DNSClass::IN);
        m.add_query(q);
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_get_the_rfc_answers_and_tern_keeps_answering() {
    if !tools_present("malformed_messages_get_the_rfc_answers_and_tern_keeps_answering") {
        return;
    }
    let k = key("k.", Algorithm::HmacSha256, 0, 51);
    let zones = format!(
        r#"{{ "name": "{ZONE}", "file": "example.com.zone",
          "allow-update": [ {{ "key": "k.", "grant": "zonesub", "types": ["ANY"] }} ] }}"#
    );
    let file = zone_file(ZONE, "ns IN A 127.0.0.1\nstatic IN A 192.0.2.200\n");
    let rig = Rig::start(
        std::slice::from_ref(&k),
        &zones,
        &[("example.com.zone", file)],
    )
    .await;
    let serial = rig.serial(ZONE).unwrap();
    let wire = |m: Message| m.to_vec().unwrap();

    let mut response = message(OpCode::Query, &[("static.example.com.", RecordType::A)]);
    response.metadata.message_type = MessageType::Response;
    let two_zones = message(
        OpCode::Update,
        &[(ZONE, RecordType::SOA), ("example.net.", RecordType::SOA)],
    );
    let garbage: Vec<u8> = [0x42, 0x42, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]
        .into_iter()
        .chain([0x3f, 0xff, 0xc0, 0xff, 0x13, 0x37])
        .collect();
    let mut status = message(OpCode::Query, &[("static.example.com.", RecordType::A)]);
    status.metadata.op_code = OpCode::Status;
    // A signed UPDATE with a record after its TSIG (RFC 8945 §5.2: FORMERR, not applied).
    let mut update = tern_dnsmsg::update::new_update(&Name::from_ascii(ZONE).unwrap());
    update.metadata.id = 0x4242;
    update.authorities.push(tern_dnsmsg::update::rr_with(
        &Name::from_ascii("after-tsig.example.com.").unwrap(),
        DNSClass::IN,
        60,
        RData::A(rdata::A::new(192, 0, 2, 9)),
    ));
    let signed = tsig::sign_request(&wire(update), &k, tsig::unix_now(), 300).unwrap();
    let mut tsig_not_last = signed.wire;
    tsig_not_last[11] += 1; // ARCOUNT
    tsig_not_last.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 9]);
    let notify = message(OpCode::Notify, &[(ZONE, RecordType::SOA)]);
    // (what, message, the RCODE expected; None: dropped)
    let cases: Vec<(&str, Vec<u8>, Option<ResponseCode>)> = vec![
        ("TSIG not last", tsig_not_last, Some(ResponseCode::FormErr)),
        (
            "query, no question",
            wire(message(OpCode::Query, &[])),
            Some(ResponseCode::FormErr),
        ),
        // tern is the primary: a NOTIFY has nothing to trigger.
        ("NOTIFY", wire(notify), Some(ResponseCode::NotImp)),
        ("truncated header", vec![0x42, 0x42, 0x01, 0x00, 0x00], None),
        ("a response", wire(response), None),
        (
            "garbage after the header",
            garbage,
            Some(ResponseCode::FormErr),
        ),
        (
            "UPDATE, two zones",
            wire(two_zones),
            Some(ResponseCode::FormErr),
        ),
        (
            "UPDATE, zone type A",
            wire(message(OpCode::Update, &[(ZONE, RecordType::A)])),
            Some(ResponseCode::FormErr),
        ),
        (
            "UPDATE, zone not served",
            wire(message(
                OpCode::Update,
                &[("example.net.", RecordType::SOA)],
            )),
            Some(ResponseCode::NotAuth),
        ),
        (
            "UPDATE, no zone",
            wire(message(OpCode::Update, &[])),
            Some(ResponseCode::FormErr),
        ),
        ("STATUS", wire(status), Some(ResponseCode::NotImp)),
        (
            "query, two questions",
            wire(message(
                OpCode::Query,
                &[(ZONE, RecordType::A), (ZONE, RecordType::NS)],
            )),
            Some(ResponseCode::FormErr),
        ),
        (
            "query, zone not served",
            wire(message(OpCode::Query, &[("example.org.", RecordType::A)])),
            Some(ResponseCode::Refused),
        ),
        (
            "AXFR over UDP",
            wire(message(OpCode::Query, &[(ZONE, RecordType::AXFR)])),
            Some(ResponseCode::FormErr),
        ),
    ];
    let mut wrong = Vec::new();
    for (what, msg, want) in &cases {
        for (transport, got) in [("UDP", udp(rig.dns, msg)), ("TCP", tcp(rig.dns, msg, true))] {
            if *what == "AXFR over UDP" && transport == "TCP" {
                continue; // a real transfer over TCP (refused: no allow-transfer)
            }
            let got_rcode = got.as_deref().filter(|w| w.len() >= 12).map(rcode_of);
            let id_ok = got
                .as_deref()
                .is_none_or(|w| w[..2] == [0x42, 0x42] && w[2] & 0x80 != 0);
            if got_rcode != *want || !id_ok {
                wrong.push(format!("{transport} {what}: {got:?}, expected {want:?}"));
            }
        }
    }
    // TCP framing: a length prefix promising more than comes, then EOF; a lone byte.
    assert_eq!(tcp(rig.dns, &[0x01, 0x00, 0x42, 0x42, 0x01], false), None);
    assert_eq!(tcp(rig.dns, &[0x00], false), None);
    assert!(wrong.is_empty(), "{wrong:#?}");

    // Still answering, over UDP and TCP, and nothing changed.
    assert_eq!(rig.short("static.example.com.", "A"), ["192.0.2.200"]);
    let over_tcp = rig.dig(&["+tcp", "+short", "static.example.com.", "A"]);
    assert_eq!(over_tcp.trim(), "192.0.2.200");
    assert_eq!(rig.serial(ZONE), Some(serial));
    assert!(rig.short("after-tsig.example.com.", "A").is_empty());
    let dropped = rig.command("statistic-get-all")["arguments"]["dns-dropped"][0][0]
        .as_i64()
        .unwrap();
    assert!(dropped >= 4, "dropped: {dropped}");
}
