//! RFC 2136 UPDATE as nsupdate sees it, into the store: every TSIG algorithm, refused
//! signatures (wrong key, wrong secret, stale time), update-policy grants, the §3.2
//! prerequisites, all or nothing, and DHCP keys leaving an administrator's records alone.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::{dig, flat, serve, status, Served};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use tern_dns::policy::{Grant, Policies, UpdateRule, ZonePolicy};
use tern_dns::zone::Zone;
use tern_dnsmsg::tsig::{self, Algorithm, Origin, TsigError, TsigKey};
use tern_store::testing::{fresh_db, TestDb};
use tern_store::zone::{self as zones, ManagedBy, NewRecord, NewZone, SerialRule, Soa, ZoneKind};

const ORIGIN: &str = "example.com.";
/// The secret of every test key, and its base64 for nsupdate.
const SECRET: &[u8] = b"tern-update-test-secret-32bytes!";
const SECRET_B64: &str = "dGVybi11cGRhdGUtdGVzdC1zZWNyZXQtMzJieXRlcyE=";
const WRONG_B64: &str = "YS13cm9uZy1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXQ=";

fn n(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn key(name: &str, algorithm: Algorithm) -> TsigKey {
    TsigKey::new(n(name), algorithm, SECRET.to_vec(), 0).unwrap()
}

fn rule(key: &str, grant: Grant, types: &[RecordType]) -> UpdateRule {
    UpdateRule {
        key: n(key),
        grant,
        types: types.to_vec(),
    }
}

/// nsupdate's name for an algorithm (`-y alg:name:secret`): Kea's, in lower case.
fn nsupdate_alg(a: Algorithm) -> String {
    a.kea_name().to_ascii_lowercase()
}

/// A zone in a fresh store, served from memory with the store behind its updates.
struct Env {
    db: TestDb,
    served: Served,
    zone_id: i64,
}

fn soa() -> Soa {
    Clone::clone(&common::soa())
}

fn row(name: &str, rtype: &str, content: &str, managed_by: ManagedBy) -> NewRecord {
    NewRecord {
        name: name.into(),
        rtype: rtype.into(),
        ttl: 300,
        content: content.into(),
        managed_by,
    }
}

/// The in-memory copy of the store's zone (what the lead's sync does in the product).
async fn load(db: &TestDb, id: i64) -> Zone {
    let (z, records) = zones::snapshot(db.pool(), id).await.unwrap().unwrap();
    let fields = z.soa.clone();
    let rows = records
        .iter()
        .map(|r| (r.name.as_str(), r.rtype.as_str(), r.ttl, r.content.as_str()));
    Zone::build(z.id, &z.name, z.serial, fields, rows)
        .unwrap()
        .0
}

async fn setup(policy: ZonePolicy, keys: Vec<TsigKey>, extra: Vec<NewRecord>) -> Env {
    let db = fresh_db().await;
    let mut records = vec![
        row(ORIGIN, "NS", "ns.example.com.", ManagedBy::Admin),
        row("ns.example.com.", "A", "127.0.0.1", ManagedBy::Admin),
        row("static.example.com.", "A", "192.0.2.1", ManagedBy::Admin),
    ];
    records.extend(extra);
    let z = zones::create(
        db.pool(),
        &NewZone {
            name: ORIGIN.into(),
            kind: ZoneKind::Native,
            soa_edit_api: SerialRule::Increase,
            account: String::new(),
            soa: soa(),
            serial: Some(100),
            records,
        },
    )
    .await
    .unwrap();
    let zone = load(&db, z.id).await;
    let pool = db.pool().clone();
    let served = serve(vec![zone], |h| {
        h.store = Some(pool);
        h.keys = keys;
        h.policies = Policies::new([(n(ORIGIN), policy)]);
    })
    .await;
    Env {
        db,
        served,
        zone_id: z.id,
    }
}

impl Env {
    /// The zone's rows as `name type content managed_by`, sorted.
    async fn rows(&self) -> Vec<String> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT name, type, content, managed_by FROM tern.dns_record WHERE zone_id = $1",
        )
        .bind(self.zone_id)
        .fetch_all(self.db.pool())
        .await
        .unwrap();
        let mut out: Vec<String> = rows
            .into_iter()
            .map(|(a, b, c, d)| format!("{a} {b} {c} {d}"))
            .collect();
        out.sort();
        out
    }

    async fn serial(&self) -> u32 {
        zones::get_by_id(self.db.pool(), self.zone_id)
            .await
            .unwrap()
            .unwrap()
            .serial
    }

    /// Serves what the store now holds.
    async fn reload(&self) {
        self.served
            .handler
            .catalog
            .insert(load(&self.db, self.zone_id).await);
    }

    /// Runs nsupdate with `commands` (without `server` and `send`), signed with
    /// `alg:name:secret` when given; its stdout and stderr.
    async fn nsupdate(&self, key: Option<(&str, &str, &str)>, commands: &str) -> String {
        nsupdate(self.served.addr, &[], key, commands).await
    }

    /// nsupdate signed with the test secret by `name` using HMAC-SHA256.
    async fn update(&self, name: &str, commands: &str) -> String {
        self.nsupdate(Some(("hmac-sha256", name, SECRET_B64)), commands)
            .await
    }
}

/// nsupdate with `extra` arguments (`-v`: TCP) against `addr`.
async fn nsupdate(
    addr: SocketAddr,
    extra: &[&str],
    key: Option<(&str, &str, &str)>,
    commands: &str,
) -> String {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new("nsupdate");
    cmd.args(["-t", "5", "-u", "2", "-r", "1"]).args(extra);
    if let Some((alg, name, secret)) = key {
        cmd.args(["-y", &format!("{alg}:{name}:{secret}")]);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("nsupdate (install bind9-dnsutils)");
    let script = format!(
        "server {} {}\nzone {ORIGIN}\n{commands}\nsend\n",
        addr.ip(),
        addr.port()
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("nsupdate finishes")
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        assert!(!text.contains("failed"), "{text}");
        "NOERROR".into()
    } else {
        text
    }
}

/// The RCODE nsupdate reported: NOERROR on success, else the word after "update failed: ".
fn rcode(out: &str) -> &str {
    if out == "NOERROR" {
        return "NOERROR";
    }
    out.split("update failed: ")
        .nth(1)
        .map(|s| s.split_whitespace().next().unwrap_or(""))
        .unwrap_or(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tsig_algorithm_adds_and_deletes_into_the_store() {
    let keys: Vec<TsigKey> = Algorithm::ALL
        .iter()
        .map(|a| key(&format!("k-{}.", nsupdate_alg(*a)), *a))
        .collect();
    let policy = ZonePolicy {
        update: keys
            .iter()
            .map(|k| rule(&k.name.to_string(), Grant::ZoneSub, &[]))
            .collect(),
        ..ZonePolicy::default()
    };
    let env = setup(policy, keys, vec![]).await;
    let before = env.rows().await;
    for a in Algorithm::ALL {
        let alg = &*nsupdate_alg(a);
        let host = format!("{alg}.example.com.");
        let signer = (alg, &*format!("k-{alg}."), SECRET_B64);
        let out = env
            .nsupdate(
                Some(signer),
                &format!("update add {host} 60 A 192.0.2.7\nupdate add {host} 60 TXT \"by {alg}\""),
            )
            .await;
        assert_eq!(rcode(&out), "NOERROR", "{alg}: {out}");
        let rows = env.rows().await;
        assert!(
            rows.contains(&format!("{host} A 192.0.2.7 admin")),
            "{alg}: {rows:?}"
        );
        assert!(
            rows.contains(&format!("{host} TXT \"by {alg}\" admin")),
            "{alg}: {rows:?}"
        );
        env.reload().await;
        let answer = flat(&dig(env.served.addr, &[&host, "A"]));
        assert!(
            answer.contains(&format!("{host} 60 IN A 192.0.2.7")),
            "{answer}"
        );

        let out = env
            .nsupdate(Some(signer), &format!("update delete {host} A"))
            .await;
        assert_eq!(rcode(&out), "NOERROR", "{alg}: {out}");
        let rows = env.rows().await;
        assert!(
            !rows.iter().any(|r| r.starts_with(&format!("{host} A"))),
            "{alg}: {rows:?}"
        );
        let out = env
            .nsupdate(Some(signer), &format!("update delete {host}"))
            .await;
        assert_eq!(rcode(&out), "NOERROR", "{alg}: {out}");
    }
    assert_eq!(env.rows().await, before);
    let stats = &env.served.handler.stats;
    assert_eq!(stats.updates_applied.load(Relaxed), 18);
    assert_eq!(stats.updates_refused.load(Relaxed), 0);
    env.served.stop().await;
}

/// Sends `wire` over UDP to `addr` and returns the answer.
async fn exchange(addr: SocketAddr, wire: &[u8]) -> Vec<u8> {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(wire, addr).await.unwrap();
    let mut buf = vec![0; 4096];
    let (len, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    buf.truncate(len);
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_wrong_secret_and_stale_time_change_nothing() {
    let k = key("ddns.", Algorithm::HmacSha256);
    let policy = ZonePolicy {
        update: vec![rule("ddns.", Grant::ZoneSub, &[])],
        ..ZonePolicy::default()
    };
    let env = setup(policy, vec![k.clone()], vec![]).await;
    let before = (env.rows().await, env.serial().await);
    let add = "update add new.example.com. 60 A 192.0.2.9";

    let out = env
        .nsupdate(Some(("hmac-sha256", "nobody.", SECRET_B64)), add)
        .await;
    assert_eq!(rcode(&out), "NOTAUTH(BADKEY)", "{out}");
    let out = env
        .nsupdate(Some(("hmac-sha256", "ddns.", WRONG_B64)), add)
        .await;
    assert_eq!(rcode(&out), "NOTAUTH(BADSIG)", "{out}");
    // The right key under another algorithm is not the key (RFC 8945 §5.2.1: BADKEY).
    let out = env
        .nsupdate(Some(("hmac-sha512", "ddns.", SECRET_B64)), add)
        .await;
    assert_eq!(rcode(&out), "NOTAUTH(BADKEY)", "{out}");

    // Signed an hour ago: BADTIME, signed by the server, its clock in Other Data.
    let mut m = tern_dnsmsg::update::new_update(&n(ORIGIN));
    m.metadata.id = 4711;
    m.add_authority(tern_dnsmsg::update::rr_with(
        &n("new.example.com."),
        DNSClass::IN,
        60,
        tern_dnsmsg::content::parse(RecordType::A, "192.0.2.9").unwrap(),
    ));
    let now = tsig::unix_now();
    let signed = tsig::sign_request(&m.to_vec().unwrap(), &k, now - 3600, 300).unwrap();
    let answer = exchange(env.served.addr, &signed.wire).await;
    let header = Message::from_vec(&answer).unwrap();
    assert_eq!(header.metadata.response_code, ResponseCode::NotAuth);
    match tsig::verify_response(&answer, &k, &signed.mac, now) {
        Err(TsigError::BadTime {
            origin: Origin::Peer,
            time_signed,
            peer_time: Some(server),
            ..
        }) => {
            assert_eq!(time_signed, now - 3600, "the request's time echoed");
            assert!(
                server.abs_diff(now) < 60,
                "server clock {server}, ours {now}"
            );
        }
        other => panic!("expected a signed BADTIME, got {other:?}"),
    }
    // The same request signed now goes through: the refusals above were for the TSIG only.
    let fresh = tsig::sign_request(&m.to_vec().unwrap(), &k, now, 300).unwrap();
    let answer = exchange(env.served.addr, &fresh.wire).await;
    let v = tsig::verify_response(&answer, &k, &fresh.mac, now).unwrap();
    assert_eq!(v.rcode(), ResponseCode::NoError);
    let after = env.rows().await;
    assert!(after.contains(&"new.example.com. A 192.0.2.9 admin".to_owned()));
    assert_eq!(after.len(), before.0.len() + 1, "nothing else changed");

    let stats = &env.served.handler.stats;
    assert_eq!(stats.tsig_refused_total(), 4);
    assert_eq!(stats.updates_refused.load(Relaxed), 4);
    env.served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_policy_grants_as_bind_does() {
    use RecordType::*;
    let names = [
        "zs.",
        "acme.",
        "lab.",
        "host1.example.com.",
        "dyn.",
        "other.",
    ];
    let keys = names
        .iter()
        .map(|k| key(k, Algorithm::HmacSha256))
        .collect();
    let policy = ZonePolicy {
        update: vec![
            rule("zs.", Grant::ZoneSub, &[A, TXT]),
            rule(
                "acme.",
                Grant::Name(n("_acme-challenge.example.com.")),
                &[TXT],
            ),
            rule("lab.", Grant::Subdomain(n("lab.example.com.")), &[]),
            rule("host1.example.com.", Grant::SelfSub, &[A, AAAA]),
            rule("dyn.", Grant::Wildcard(n("*.dyn.example.com.")), &[A]),
        ],
        ..ZonePolicy::default()
    };
    let env = setup(policy, keys, vec![]).await;
    let cases = [
        ("zs.", "update add a.example.com. 60 A 192.0.2.1", "NOERROR"),
        ("zs.", "update add a.example.com. 60 TXT \"t\"", "NOERROR"),
        (
            "zs.",
            "update add a.example.com. 60 AAAA 2001:db8::1",
            "REFUSED",
        ),
        (
            "zs.",
            "update add example.com. 60 NS ns2.example.com.",
            "REFUSED",
        ),
        (
            "acme.",
            "update add _acme-challenge.example.com. 60 TXT \"token\"",
            "NOERROR",
        ),
        (
            "acme.",
            "update add x._acme-challenge.example.com. 60 TXT \"token\"",
            "REFUSED",
        ),
        (
            "acme.",
            "update add _acme-challenge.example.com. 60 HINFO \"pc\" \"os\"",
            "REFUSED",
        ),
        (
            "lab.",
            "update add lab.example.com. 60 MX 10 mx.example.com.",
            "NOERROR",
        ),
        (
            "lab.",
            "update add a.b.lab.example.com. 60 A 192.0.2.2",
            "NOERROR",
        ),
        (
            "lab.",
            "update add lab2.example.com. 60 A 192.0.2.2",
            "REFUSED",
        ),
        (
            "lab.",
            "update add lab.example.com. 60 NS ns.lab.example.com.",
            "REFUSED",
        ),
        (
            "host1.example.com.",
            "update add host1.example.com. 60 A 192.0.2.3",
            "NOERROR",
        ),
        (
            "host1.example.com.",
            "update add v6.host1.example.com. 60 AAAA 2001:db8::3",
            "NOERROR",
        ),
        (
            "host1.example.com.",
            "update add host2.example.com. 60 A 192.0.2.3",
            "REFUSED",
        ),
        (
            "dyn.",
            "update add pc1.dyn.example.com. 60 A 192.0.2.4",
            "NOERROR",
        ),
        (
            "dyn.",
            "update add dyn.example.com. 60 A 192.0.2.4",
            "REFUSED",
        ),
        (
            "dyn.",
            "update add pc1.dyn.example.com. 60 TXT \"no\"",
            "REFUSED",
        ),
        (
            "other.",
            "update add a.example.com. 60 A 192.0.2.5",
            "REFUSED",
        ),
    ];
    for (signer, commands, want) in cases {
        let before = env.rows().await;
        let out = env.update(signer, commands).await;
        assert_eq!(rcode(&out), want, "{signer} {commands}: {out}");
        let after = env.rows().await;
        assert_eq!(
            after.len() - before.len(),
            usize::from(want == "NOERROR"),
            "{signer} {commands}"
        );
    }
    let before = env.rows().await;
    let out = env
        .nsupdate(None, "update add u.example.com. 60 A 192.0.2.6")
        .await;
    assert_eq!(rcode(&out), "REFUSED", "unsigned: {out}");
    assert_eq!(env.rows().await, before);
    env.served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prerequisites_as_rfc_2136_section_3_2_gives_them() {
    let policy = ZonePolicy {
        update: vec![rule("admin.", Grant::ZoneSub, &[])],
        ..ZonePolicy::default()
    };
    let env = setup(policy, vec![key("admin.", Algorithm::HmacSha256)], vec![]).await;
    let st = "static.example.com.";
    let cases = [
        (format!("prereq yxdomain {st}"), "NOERROR"),
        ("prereq yxdomain free.example.com.".to_owned(), "NXDOMAIN"),
        ("prereq nxdomain free.example.com.".to_owned(), "NOERROR"),
        (format!("prereq nxdomain {st}"), "YXDOMAIN"),
        (format!("prereq yxrrset {st} A"), "NOERROR"),
        (format!("prereq yxrrset {st} AAAA"), "NXRRSET"),
        (format!("prereq nxrrset {st} AAAA"), "NOERROR"),
        (format!("prereq nxrrset {st} A"), "YXRRSET"),
        (format!("prereq yxrrset {st} A 192.0.2.1"), "NOERROR"),
        (format!("prereq yxrrset {st} A 192.0.2.99"), "NXRRSET"),
    ];
    for (i, (prereq, want)) in cases.iter().enumerate() {
        let before = env.rows().await;
        let commands = format!("{prereq}\nupdate add p{i}.example.com. 60 TXT \"case {i}\"");
        let out = env.update("admin.", &commands).await;
        assert_eq!(rcode(&out), *want, "{prereq}: {out}");
        let added = env.rows().await.len() - before.len();
        assert_eq!(added, usize::from(*want == "NOERROR"), "{prereq}");
    }
    env.served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_or_nothing() {
    use RecordType::*;
    let policy = ZonePolicy {
        update: vec![rule("ddns.", Grant::ZoneSub, &[A, TXT])],
        ..ZonePolicy::default()
    };
    let env = setup(policy, vec![key("ddns.", Algorithm::HmacSha256)], vec![]).await;
    let (rows, serial) = (env.rows().await, env.serial().await);
    // Records that would go through, then one the key may not write.
    let out = env
        .update(
            "ddns.",
            "update delete static.example.com. A\nupdate add one.example.com. 60 A 192.0.2.1\nupdate add two.example.com. 60 AAAA 2001:db8::2",
        )
        .await;
    assert_eq!(rcode(&out), "REFUSED", "{out}");
    // Good records after a failing prerequisite.
    let out = env
        .update(
            "ddns.",
            "prereq yxrrset static.example.com. A\nprereq nxdomain static.example.com.\nupdate delete static.example.com. A\nupdate add one.example.com. 60 A 192.0.2.1",
        )
        .await;
    assert_eq!(rcode(&out), "YXDOMAIN", "{out}");
    assert_eq!((env.rows().await, env.serial().await), (rows, serial));
    env.served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dhcp_key_leaves_an_administrators_records_alone() {
    use RecordType::*;
    let ddns = vec![rule("ddns.", Grant::ZoneSub, &[A, TXT])];
    let policy = ZonePolicy {
        update: ddns.clone(),
        dhcp_keys: vec![n("ddns.")],
        ..ZonePolicy::default()
    };
    let env = setup(
        policy,
        vec![key("ddns.", Algorithm::HmacSha256)],
        vec![row(
            "lease.example.com.",
            "A",
            "192.0.2.50",
            ManagedBy::Dhcp,
        )],
    )
    .await;
    let before = env.rows().await;
    for commands in [
        "update delete static.example.com. A\nupdate add static.example.com. 60 A 192.0.2.200",
        "update delete static.example.com.",
        "update add static.example.com. 300 A 192.0.2.201",
    ] {
        let out = env.update("ddns.", commands).await;
        assert_eq!(rcode(&out), "REFUSED", "{commands}: {out}");
        assert_eq!(env.rows().await, before, "{commands}");
    }
    // DHCP's own records it may replace, and what it writes is DHCP's.
    let out = env
        .update(
            "ddns.",
            "update delete lease.example.com. A\nupdate add lease.example.com. 60 A 192.0.2.51\nupdate add new.example.com. 60 A 192.0.2.52",
        )
        .await;
    assert_eq!(rcode(&out), "NOERROR", "{out}");
    let rows = env.rows().await;
    assert!(
        rows.contains(&"lease.example.com. A 192.0.2.51 dhcp".to_owned()),
        "{rows:?}"
    );
    assert!(
        rows.contains(&"new.example.com. A 192.0.2.52 dhcp".to_owned()),
        "{rows:?}"
    );
    assert!(
        rows.contains(&"static.example.com. A 192.0.2.1 admin".to_owned()),
        "{rows:?}"
    );
    env.reload().await;
    assert_eq!(
        status(&dig(env.served.addr, &["new.example.com.", "A"])),
        "NOERROR"
    );
    env.served.stop().await;

    // With ddns-overwrite-static the zone lets DHCP take the name over.
    let policy = ZonePolicy {
        update: ddns,
        dhcp_keys: vec![n("ddns.")],
        overwrite_static: true,
        ..ZonePolicy::default()
    };
    let env = setup(policy, vec![key("ddns.", Algorithm::HmacSha256)], vec![]).await;
    let out = env
        .update(
            "ddns.",
            "update delete static.example.com. A\nupdate add static.example.com. 60 A 192.0.2.200",
        )
        .await;
    assert_eq!(rcode(&out), "NOERROR", "{out}");
    assert!(env
        .rows()
        .await
        .contains(&"static.example.com. A 192.0.2.200 dhcp".to_owned()));
    env.served.stop().await;
}

/// Sends the UPDATE `m` signed with `k` over UDP and returns the verified answer's RCODE.
async fn send_signed(addr: SocketAddr, k: &TsigKey, m: &Message) -> ResponseCode {
    let signed = tsig::sign_request(&m.to_vec().unwrap(), k, tsig::unix_now(), 300).unwrap();
    let answer = exchange(addr, &signed.wire).await;
    tsig::verify_response(&answer, k, &signed.mac, tsig::unix_now())
        .unwrap()
        .rcode()
}

/// An UPDATE adding `name` TXT `text`, with the prerequisite that `name` is not in use.
fn claim(name: &str, text: &str) -> Message {
    use tern_dnsmsg::update::{new_update, rr_empty, rr_with};
    let mut m = new_update(&n(ORIGIN));
    m.metadata.id = rand_id();
    m.add_answer(rr_empty(&n(name), DNSClass::NONE, RecordType::ANY));
    m.add_authority(rr_with(
        &n(name),
        DNSClass::IN,
        60,
        tern_dnsmsg::content::parse(RecordType::TXT, text).unwrap(),
    ));
    m
}

fn rand_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish() as u16
}

/// Concurrent updates of one zone share commits, yet each is judged on what the ones
/// before it left: of 40 racing to claim one name exactly one wins, and 200 adds of
/// distinct names all land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_are_serialised_in_shared_commits() {
    let k = key("ddns.", Algorithm::HmacSha256);
    let policy = ZonePolicy {
        update: vec![rule("ddns.", Grant::ZoneSub, &[])],
        ..ZonePolicy::default()
    };
    let env = setup(policy, vec![k.clone()], vec![]).await;
    let addr = env.served.addr;
    // Hold the zone's lock, so that one update waits in its transaction while the racers
    // queue up behind it: they then share the next batch.
    let mut hold = env.db.pool().begin().await.unwrap();
    sqlx::query("SELECT 1 FROM tern.dns_zone WHERE id = $1 FOR UPDATE")
        .bind(env.zone_id)
        .execute(&mut *hold)
        .await
        .unwrap();
    let first = {
        let k = k.clone();
        tokio::spawn(
            async move { send_signed(addr, &k, &claim("first.example.com.", "\"1\"")).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let race: Vec<_> = (0..40)
        .map(|i| {
            let k = k.clone();
            tokio::spawn(async move {
                send_signed(addr, &k, &claim("lock.example.com.", &format!("\"{i}\""))).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    hold.commit().await.unwrap();
    assert_eq!(first.await.unwrap(), ResponseCode::NoError);
    let mut rcodes = Vec::new();
    for t in race {
        rcodes.push(t.await.unwrap());
    }
    let won = rcodes
        .iter()
        .filter(|r| **r == ResponseCode::NoError)
        .count();
    let lost = rcodes
        .iter()
        .filter(|r| **r == ResponseCode::YXDomain)
        .count();
    assert_eq!((won, lost), (1, 39), "{rcodes:?}");
    let rows = env.rows().await;
    assert_eq!(
        rows.iter()
            .filter(|r| r.starts_with("lock.example.com. TXT"))
            .count(),
        1,
        "{rows:?}"
    );

    let serial = env.serial().await;
    let adds: Vec<_> = (0..200)
        .map(|i| {
            let k = k.clone();
            let name = format!("h{i}.example.com.");
            tokio::spawn(async move { send_signed(addr, &k, &claim(&name, "\"x\"")).await })
        })
        .collect();
    for t in adds {
        assert_eq!(t.await.unwrap(), ResponseCode::NoError);
    }
    let rows = env.rows().await;
    assert_eq!(
        rows.iter()
            .filter(|r| r.ends_with("TXT \"x\" admin"))
            .count(),
        200
    );
    let commits = env.serial().await - serial;
    assert!((1..=200).contains(&commits), "{commits} commits");
    eprintln!("200 concurrent updates in {commits} commits");
    assert_eq!(env.served.handler.stats.updates_applied.load(Relaxed), 202);
    env.served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_soa_moves_only_forward_and_the_apex_keeps_its_ns() {
    use RecordType::*;
    let policy = ZonePolicy {
        update: vec![
            rule("admin.", Grant::ZoneSub, &[ANY]),
            rule("plain.", Grant::ZoneSub, &[]),
        ],
        ..ZonePolicy::default()
    };
    let keys = vec![
        key("admin.", Algorithm::HmacSha256),
        key("plain.", Algorithm::HmacSha256),
    ];
    let env = setup(policy, keys, vec![]).await;
    let soa = |serial: u32| {
        format!("update add example.com. 1800 SOA ns.example.com. admin.example.com. {serial} 7200 900 1209600 60")
    };
    // Not granted without a rule naming SOA (types left out mean all but SOA and NS).
    assert_eq!(rcode(&env.update("plain.", &soa(5000)).await), "REFUSED");
    assert_eq!(
        rcode(&env.update("plain.", "update delete example.com. NS").await),
        "REFUSED"
    );
    let out = env.update("admin.", &soa(5000)).await;
    assert_eq!(rcode(&out), "NOERROR", "{out}");
    let z = zones::get_by_id(env.db.pool(), env.zone_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (z.serial, z.soa.rname.as_str(), z.soa.minimum, z.soa.ttl),
        (5000, "admin.example.com.", 60, 1800)
    );
    // A lower serial is ignored (RFC 2136 §3.4.2.2): NOERROR, nothing changes.
    let out = env.update("admin.", &soa(4000)).await;
    assert_eq!(rcode(&out), "NOERROR", "{out}");
    assert_eq!(env.serial().await, 5000);
    // The apex's NS RRset is never deleted, nor its last NS record.
    let before = env.rows().await;
    for commands in [
        "update delete example.com. NS",
        "update delete example.com. NS ns.example.com.",
        "update delete example.com.",
    ] {
        let out = env.update("admin.", commands).await;
        assert_eq!(rcode(&out), "NOERROR", "{commands}: {out}");
        assert_eq!(env.rows().await, before, "{commands}");
    }
    env.reload().await;
    let answer = flat(&dig(env.served.addr, &["example.com.", "SOA"]));
    assert!(
        answer.contains("ns.example.com. admin.example.com. 5000 7200 900 1209600 60"),
        "{answer}"
    );
    env.served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zones_not_served_names_outside_and_updates_over_tcp() {
    let policy = ZonePolicy {
        update: vec![rule("admin.", Grant::ZoneSub, &[])],
        ..ZonePolicy::default()
    };
    let env = setup(policy, vec![key("admin.", Algorithm::HmacSha256)], vec![]).await;
    let before = env.rows().await;
    // §3.1: only the apex of a zone served here names a zone.
    for zone in ["sub.example.com.", "example.org."] {
        let out = env
            .update(
                "admin.",
                &format!("zone {zone}\nupdate add x.{zone} 60 A 192.0.2.1"),
            )
            .await;
        assert_eq!(rcode(&out), "NOTAUTH", "{zone}: {out}");
    }
    // §3.4.1.3: a name outside the zone.
    let out = env
        .update("admin.", "update add x.example.org. 60 A 192.0.2.1")
        .await;
    assert_eq!(rcode(&out), "NOTZONE", "{out}");
    assert_eq!(env.rows().await, before);
    // Over TCP (RFC 2136 §6 allows either), signed and answered signed.
    let signer = Some(("hmac-sha256", "admin.", SECRET_B64));
    let out = nsupdate(
        env.served.addr,
        &["-v"],
        signer,
        "update add tcp.example.com. 60 A 192.0.2.8",
    )
    .await;
    assert_eq!(rcode(&out), "NOERROR", "{out}");
    assert!(env
        .rows()
        .await
        .contains(&"tcp.example.com. A 192.0.2.8 admin".to_owned()));
    env.served.stop().await;
}

/// A NOERROR is read-your-writes: the change answers at once, with no notification from
/// the store (this harness runs no follower), version after version.
#[tokio::test]
async fn an_update_answers_as_soon_as_it_is_acknowledged() {
    let policy = ZonePolicy {
        update: vec![rule("admin.", Grant::ZoneSub, &[])],
        ..ZonePolicy::default()
    };
    let env = setup(policy, vec![key("admin.", Algorithm::HmacSha256)], vec![]).await;
    for (i, commands) in [
        "update add now.example.com. 60 A 192.0.2.70",
        "update delete now.example.com. A\nupdate add now.example.com. 60 A 192.0.2.71",
        "update add now.example.com. 60 TXT \"third\"",
    ]
    .iter()
    .enumerate()
    {
        let out = env.update("admin.", commands).await;
        assert_eq!(rcode(&out), "NOERROR", "{out}");
        let (serial,): (i64,) = sqlx::query_as("SELECT serial FROM tern.dns_zone WHERE id = $1")
            .bind(env.zone_id)
            .fetch_one(env.db.pool())
            .await
            .unwrap();
        let soa = flat(&dig(env.served.addr, &[ORIGIN, "SOA"]));
        assert!(
            soa.contains(&format!(" {serial} ")),
            "{i}: store {serial}, served {soa}"
        );
        let a = flat(&dig(env.served.addr, &["now.example.com.", "A"]));
        let want = if i == 0 { "192.0.2.70" } else { "192.0.2.71" };
        assert!(
            a.contains(&format!("now.example.com. 60 IN A {want}")),
            "{i}: {a}"
        );
        assert!(
            !a.contains(if i == 0 { "192.0.2.71" } else { "192.0.2.70" }),
            "{i}: {a}"
        );
    }
    let txt = flat(&dig(env.served.addr, &["now.example.com.", "TXT"]));
    assert!(txt.contains("\"third\""), "{txt}");
    env.served.stop().await;
}

/// The journal keeps the newest versions only: the pruning task drops the older ones'
/// changes (IXFR from before them falls back to AXFR, tested in xfr.rs).
#[tokio::test]
async fn the_journal_is_pruned_to_the_newest_versions() {
    let policy = ZonePolicy {
        update: vec![rule("admin.", Grant::ZoneSub, &[])],
        ..ZonePolicy::default()
    };
    let env = setup(policy, vec![key("admin.", Algorithm::HmacSha256)], vec![]).await;
    for i in 0..4 {
        let out = env
            .update(
                "admin.",
                &format!("update add v{i}.example.com. 60 A 192.0.2.{i}"),
            )
            .await;
        assert_eq!(rcode(&out), "NOERROR", "{out}");
    }
    let versions = || async {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(DISTINCT serial) FROM tern.dns_journal WHERE zone_id = $1",
        )
        .bind(env.zone_id)
        .fetch_one(env.db.pool())
        .await
        .unwrap();
        n
    };
    assert!(versions().await >= 4, "every update is journaled");
    let pruner = tokio::spawn(tern_dns::journal::prune_loop(
        env.served.handler.clone(),
        env.db.pool().clone(),
        2,
        Duration::from_millis(20),
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while versions().await > 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pruner.abort();
    assert_eq!(versions().await, 2);
    // The newest change is still there for IXFR, the oldest is gone.
    let contents: Vec<(String,)> =
        sqlx::query_as("SELECT content FROM tern.dns_journal WHERE zone_id = $1")
            .bind(env.zone_id)
            .fetch_all(env.db.pool())
            .await
            .unwrap();
    let contents: Vec<&str> = contents.iter().map(|(c,)| c.as_str()).collect();
    assert!(contents.contains(&"192.0.2.3"), "{contents:?}");
    assert!(!contents.contains(&"192.0.2.0"), "{contents:?}");
    env.served.stop().await;
}
