//! Real DHCPv6 clients (ISC dhclient -6, dhcpcd) and a hand-made client and relay
//! against tern's DHCPv6 engine, each test in network namespaces of its own: the
//! server's end of a veth pair in one namespace (2001:db8:1::1/64), the client's end in
//! another, so nothing touches the host's interfaces. Duplicate address detection is
//! off in both namespaces before the veth is made (a tentative link-local makes
//! dhclient -6 fail to bind). The server's sockets are opened inside its namespace from
//! a thread that entered it with setns(2); the service runs on the test's runtime.
//! That setup, the raw client and the lease6 rows are `common6`'s (shared with
//! `oracle6.rs`).
//!
//! Clients never touch files outside the test's temporary directory: dhclient gets its
//! own configuration, lease, PID file and script; dhcpcd runs in a private mount
//! namespace where /var/lib/dhcpcd and /run are the test's directories, with its own
//! configuration and script (so no hook writes resolv.conf). Client processes are
//! started in process groups of their own and killed by that id when done or when a
//! test panics; namespaces are deleted in Drop.
//!
//! Needs root, iproute2, util-linux (unshare, mount), isc-dhcp-client and
//! dhcpcd-base. A missing client program skips its test outside CI and fails it under
//! `CI=true`.

mod common6;

use std::collections::BTreeMap;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common6::*;
use tern_dhcp::v6::wire::{code, msg, status, Opt, Packet, Relay};
use tern_dhcp::v6::Config6;
use tern_store::testing::{self, TestDb};

const RELAY_ADDR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);

/// The server's configuration; `IFACE` is replaced by the server's veth, `RAPID` by
/// the rapid-commit setting of subnet 1.
const CONFIG: &str = r#"{"Dhcp6": {
    "interfaces-config": {"interfaces": ["IFACE"]},
    "option-data": [{"name": "dns-servers", "data": "2001:db8:1::53"}],
    "subnet6": [
      {"id": 1, "subnet": "2001:db8:1::/64", "interface": "IFACE", "rapid-commit": RAPID,
       "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}],
       "pd-pools": [{"prefix": "2001:db8:8::", "prefix-len": 48, "delegated-len": 56}]},
      {"id": 2, "subnet": "2001:db8:2::/64",
       "pools": [{"pool": "2001:db8:2::100 - 2001:db8:2::1ff"}]}
    ]
}}"#;

const POOL1: (Ipv6Addr, Ipv6Addr) = (
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x100),
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x1ff),
);
const POOL2: (Ipv6Addr, Ipv6Addr) = (
    Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0x100),
    Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0x1ff),
);

/// Whether `p`/`len` is a /56 of the pd-pool 2001:db8:8::/48.
fn in_pd_pool(p: Ipv6Addr, len: u8) -> bool {
    let s = p.segments();
    len == 56 && s[..3] == [0x2001, 0xdb8, 8] && s[3] & 0xff == 0 && s[4..] == [0; 4]
}

/// tern on [`CONFIG`] with subnet 1's rapid commit `rapid`, on a fresh database.
async fn start(ns: &Netns, rapid: bool) -> Server {
    start_on(ns, testing::fresh_db().await, rapid).await
}

async fn start_on(ns: &Netns, db: TestDb, rapid: bool) -> Server {
    let text = CONFIG
        .replace("IFACE", &ns.server_if)
        .replace("RAPID", if rapid { "true" } else { "false" });
    let config = tern_config::parse_str(&text, "clients6.json").unwrap();
    let cfg = Config6::from_config(config.dhcp6.as_ref().unwrap()).unwrap();
    Server::start_on(ns, db, cfg).await
}

/// Stops `server` and starts another on the same database.
async fn restart(server: Server, ns: &Netns, rapid: bool) -> Server {
    let db = server.into_db().await;
    start_on(ns, db, rapid).await
}

// ---------------------------------------------------------------------------------
// Client scripts: each call appends a line "----" and then the whole environment.

const ENV_SCRIPT: &str = r#"#!/bin/sh
{ echo "----"; env; } >> "$OUT"
exit 0
"#;

/// One script call's environment.
type Env = BTreeMap<String, String>;

fn script(ns: &Netns, name: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let out = ns.path(&format!("{name}.out"));
    let p = ns.path(name);
    std::fs::write(
        &p,
        ENV_SCRIPT.replace("\"$OUT\"", &format!("\"{}\"", out.display())),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    (p, out)
}

fn events(out: &str) -> Vec<Env> {
    let mut all = Vec::new();
    for block in out.split("----\n").filter(|b| !b.trim().is_empty()) {
        let env: Env = block
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.push(env);
    }
    all
}

fn reasons(out: &str) -> Vec<String> {
    events(out)
        .iter()
        .filter_map(|e| e.get("reason").cloned())
        .collect()
}

/// Waits (at most `secs`) until the script's output has a call with `reason`;
/// returns its environment, or `None` when the client exited or time ran out.
async fn wait_event(out: &Path, reason: &str, p: &mut Proc, secs: u64) -> Option<Env> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let found = events(&read(out))
            .into_iter()
            .find(|e| e.get("reason").map(String::as_str) == Some(reason));
        if found.is_some() {
            return found;
        }
        if p.exited() || Instant::now() >= deadline {
            return events(&read(out))
                .into_iter()
                .find(|e| e.get("reason").map(String::as_str) == Some(reason));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------
// ISC dhclient -6

struct Dhclient {
    conf: PathBuf,
    script: PathBuf,
    out: PathBuf,
}

impl Dhclient {
    /// A dhclient setup with `conf` as its dhclient.conf (never /etc/dhcp's).
    fn new(ns: &Netns, conf: &str) -> Dhclient {
        let cf = ns.path("dhclient6.conf");
        std::fs::write(&cf, conf).unwrap();
        let (script, out) = script(ns, "dhclient6-script");
        Dhclient {
            conf: cf,
            script,
            out,
        }
    }

    /// `dhclient -6 <flags> ...` with its own conf, script, lease file `lease` and PID
    /// file `<name>.pid`.
    fn spawn(&self, ns: &Netns, name: &str, lease: &str, flags: &[&str]) -> Proc {
        let mut args: Vec<String> = vec!["dhclient".into(), "-6".into()];
        args.extend(flags.iter().map(|s| s.to_string()));
        for (flag, path) in [
            ("-cf", self.conf.clone()),
            ("-lf", ns.path(lease)),
            ("-pf", ns.path(&format!("{name}.pid"))),
            ("-sf", self.script.clone()),
        ] {
            args.push(flag.into());
            args.push(path.display().to_string());
        }
        args.push("-v".into());
        args.push(ns.client_if.clone());
        ns.spawn(name, &args)
    }

    fn log(&self) -> String {
        read(&self.out)
    }
}

/// The IAIDs of the `ia-na` / `ia-pd` entries of a dhclient lease file.
fn lease_file_iaids(text: &str, kind: &str) -> Vec<u32> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(&format!("{kind} ")))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter_map(|hex| {
            let b: Vec<u8> = hex
                .split(':')
                .filter_map(|x| u8::from_str_radix(x, 16).ok())
                .collect();
            (b.len() == 4).then(|| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        })
        .collect()
}

fn dhclient_missing(test: &str) -> bool {
    !have(test, "dhclient", "isc-dhcp-client")
}

#[tokio::test]
async fn dhclient_gets_an_address_and_releases_it() {
    const TEST: &str = "dhclient_gets_an_address_and_releases_it";
    if dhclient_missing(TEST) {
        return;
    }
    let mac = "02:00:00:00:61:01";
    let ns = Netns::new(mac);
    let server = start(&ns, false).await;
    let dc = Dhclient::new(&ns, "");

    let mut p = dc.spawn(&ns, "dhclient-bind", "dhclient6.leases", &["-1", "-d"]);
    let bound = wait_event(&dc.out, "BOUND6", &mut p, 20).await;
    let bound = bound.unwrap_or_else(|| {
        panic!(
            "dhclient -6 got no address; script calls {:?}\n{}\n{}",
            reasons(&dc.log()),
            p.output(),
            dc.log()
        )
    });
    p.stop();
    let addr: Ipv6Addr = bound["new_ip6_address"].parse().unwrap();
    assert!(in_pool(addr, POOL1), "{addr} is not from the pool");
    assert_eq!(
        bound.get("new_dhcp6_name_servers").map(String::as_str),
        Some("2001:db8:1::53"),
        "dns-servers from the config: {bound:?}"
    );
    let iaid_text = mac_bytes(mac)[2..]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    assert_eq!(bound.get("new_iaid"), Some(&iaid_text), "{bound:?}");
    let leases = read(&ns.path("dhclient6.leases"));
    let iaids = lease_file_iaids(&leases, "ia-na");
    assert_eq!(iaids, vec![mac_iaid(mac)], "{leases}");
    assert!(leases.contains("renew 2250;"), "T1: {leases}");
    assert!(leases.contains("rebind 3600;"), "T2: {leases}");
    assert!(leases.contains("preferred-life 4500;"), "{leases}");
    assert!(leases.contains("max-life 7200;"), "{leases}");

    let row = server.row_when(addr, |r| r.state == 0).await;
    assert_eq!(row.lease_type, 0);
    assert_eq!(row.prefix_len, 128);
    assert_eq!(row.iaid, mac_iaid(mac) as i32);
    assert_eq!(row.subnet_id, 1);
    assert_eq!((row.valid, row.preferred), (7200, 4500));
    assert!((7190..=7200).contains(&row.left), "expire: {row:?}");
    // Under Kea's default mac-sources dhclient's DUID-LLT gives the MAC (source 2, DUID).
    assert_eq!(row.hwaddr_source, Some(2));
    assert_eq!(row.hwaddr.as_deref(), Some(&mac_bytes(mac)[..]));
    assert_eq!(server.rows().await.len(), 1);
    assert!(server.stat("pkt6-solicit-received") >= 1);
    assert!(server.stat("pkt6-advertise-sent") >= 1);
    assert_eq!(server.stat("pkt6-request-received"), 1);
    assert_eq!(server.stat("pkt6-reply-sent"), 1);
    assert_eq!(server.stat("subnet[1].assigned-nas"), 1);
    assert_eq!(server.stat("subnet[1].total-nas"), 256);

    // Release: the row stays, released (state 3) with lifetime 0.
    let mut r = dc.spawn(&ns, "dhclient-release", "dhclient6.leases", &["-r"]);
    let status = r.wait(15).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "dhclient -6 -r: {status:?}\n{}",
        r.output()
    );
    let row = server.row_when(addr, |r| r.state == 3).await;
    assert_eq!(row.valid, 0, "{row:?}");
    assert!(row.left <= 0, "{row:?}");
    assert_eq!(server.stat("pkt6-release-received"), 1);
    assert_eq!(server.stat("pkt6-reply-sent"), 2);
    assert_eq!(server.stat("subnet[1].assigned-nas"), 0);
    // Kea's cumulative counts stay: one address was assigned, ever.
    assert_eq!(server.stat("subnet[1].cumulative-assigned-nas"), 1);
    assert_eq!(server.stat("cumulative-assigned-nas"), 1);
    server.stop().await;
}

#[tokio::test]
async fn dhclient_gets_a_prefix() {
    const TEST: &str = "dhclient_gets_a_prefix";
    if dhclient_missing(TEST) {
        return;
    }
    let mac = "02:00:00:00:62:01";
    let ns = Netns::new(mac);
    let server = start(&ns, false).await;
    let dc = Dhclient::new(&ns, "");

    // -P: a prefix only.
    let mut p = dc.spawn(&ns, "dhclient-pd", "pd.leases", &["-P", "-1", "-d"]);
    let bound = wait_event(&dc.out, "BOUND6", &mut p, 20)
        .await
        .unwrap_or_else(|| panic!("dhclient -6 -P got no prefix\n{}\n{}", p.output(), dc.log()));
    p.stop();
    let text = bound
        .get("new_ip6_prefix")
        .unwrap_or_else(|| panic!("no new_ip6_prefix: {bound:?}"));
    let (prefix, len) = text.split_once('/').unwrap();
    let (prefix, len): (Ipv6Addr, u8) = (prefix.parse().unwrap(), len.parse().unwrap());
    assert!(in_pd_pool(prefix, len), "{text} is not from the pd-pool");
    assert!(!bound.contains_key("new_ip6_address"), "{bound:?}");
    let row = server.row_when(prefix, |r| r.state == 0).await;
    assert_eq!(row.lease_type, 2);
    assert_eq!(row.prefix_len, 56);
    assert_eq!(row.iaid, mac_iaid(mac) as i32);
    assert_eq!((row.valid, row.preferred), (7200, 4500));
    assert_eq!(server.rows().await.len(), 1, "no address asked for");
    assert_eq!(server.stat("subnet[1].assigned-pds"), 1);
    assert_eq!(server.stat("subnet[1].total-pds"), 256);

    // The prefix released (dhclient needs -P again to name it).
    let mut r = dc.spawn(&ns, "dhclient-pd-release", "pd.leases", &["-P", "-r"]);
    let status = r.wait(15).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "dhclient -6 -P -r: {status:?}\n{}",
        r.output()
    );
    let row = server.row_when(prefix, |r| r.state == 3).await;
    assert_eq!(row.valid, 0);
    assert_eq!(server.stat("subnet[1].assigned-pds"), 0);

    // -N -P: an address and a prefix (dhclient calls its script once per IA).
    let before = dc.log().len();
    let mut p = dc.spawn(
        &ns,
        "dhclient-both",
        "both.leases",
        &["-N", "-P", "-1", "-d"],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let (addr, prefix) = loop {
        let log = dc.log();
        let bound: Vec<Env> = events(&log[before..])
            .into_iter()
            .filter(|e| e.get("reason").map(String::as_str) == Some("BOUND6"))
            .collect();
        let addr = bound.iter().find_map(|e| e.get("new_ip6_address").cloned());
        let prefix = bound.iter().find_map(|e| e.get("new_ip6_prefix").cloned());
        if let (Some(a), Some(p)) = (&addr, &prefix) {
            break (a.clone(), p.clone());
        }
        if p.exited() || Instant::now() >= deadline {
            panic!(
                "dhclient -6 -N -P did not get both (address {addr:?}, prefix {prefix:?})\n{}\n{log}",
                p.output()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    p.stop();
    let addr: Ipv6Addr = addr.parse().unwrap();
    assert!(in_pool(addr, POOL1), "{addr}");
    let (p2, l2) = prefix.split_once('/').unwrap();
    let (p2, l2): (Ipv6Addr, u8) = (p2.parse().unwrap(), l2.parse().unwrap());
    assert!(in_pd_pool(p2, l2), "{p2}/{l2}");
    let na = server.row_when(addr, |r| r.state == 0).await;
    assert_eq!((na.lease_type, na.prefix_len), (0, 128));
    let pd = server.row_when(p2, |r| r.state == 0).await;
    assert_eq!((pd.lease_type, pd.prefix_len), (2, 56));
    assert_eq!(na.duid, pd.duid, "one client");
    server.stop().await;
}

#[tokio::test]
async fn rapid_commit_takes_two_messages() {
    const TEST: &str = "rapid_commit_takes_two_messages";
    if dhclient_missing(TEST) {
        return;
    }
    let mac = "02:00:00:00:63:01";
    let ns = Netns::new(mac);
    let server = start(&ns, true).await;
    let dc = Dhclient::new(&ns, "send dhcp6.rapid-commit;\n");

    let mut p = dc.spawn(&ns, "dhclient-rapid", "rapid.leases", &["-1", "-d"]);
    let bound = wait_event(&dc.out, "BOUND6", &mut p, 20)
        .await
        .unwrap_or_else(|| panic!("no rapid commit binding\n{}\n{}", p.output(), dc.log()));
    p.stop();
    let addr: Ipv6Addr = bound["new_ip6_address"].parse().unwrap();
    assert!(in_pool(addr, POOL1));
    server.row_when(addr, |r| r.state == 0).await;
    assert_eq!(server.stat("pkt6-solicit-received"), 1);
    assert_eq!(server.stat("pkt6-request-received"), 0);
    assert_eq!(server.stat("pkt6-advertise-sent"), 0);
    assert_eq!(server.stat("pkt6-reply-sent"), 1);

    // Without rapid-commit in the subnet the same client (same DUID, from its lease
    // file; a fresh lease file so that it solicits) goes through ADVERTISE and REQUEST,
    // and gets its lease back.
    let server = restart(server, &ns, false).await;
    let leases = read(&ns.path("rapid.leases"));
    let duid_line = leases
        .lines()
        .find(|l| l.starts_with("default-duid"))
        .unwrap_or_else(|| panic!("no default-duid in\n{leases}"));
    std::fs::write(ns.path("plain.leases"), format!("{duid_line}\n")).unwrap();
    let before = dc.log().len();
    let mut p = dc.spawn(&ns, "dhclient-plain", "plain.leases", &["-1", "-d"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let bound = loop {
        let log = dc.log();
        let e = events(&log[before..])
            .into_iter()
            .find(|e| e.get("reason").map(String::as_str) == Some("BOUND6"));
        if e.is_some() || p.exited() || Instant::now() >= deadline {
            break e;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let bound = bound.unwrap_or_else(|| panic!("no binding\n{}\n{}", p.output(), dc.log()));
    p.stop();
    assert_eq!(bound["new_ip6_address"].parse::<Ipv6Addr>().unwrap(), addr);
    assert_eq!(server.stat("pkt6-solicit-received"), 1);
    assert_eq!(server.stat("pkt6-advertise-sent"), 1);
    assert_eq!(server.stat("pkt6-request-received"), 1);
    assert_eq!(server.stat("pkt6-reply-sent"), 1);
    assert_eq!(server.rows().await.len(), 1);
    server.stop().await;
}

// ---------------------------------------------------------------------------------
// A hand-made client (and relay) with tern's own wire types (common6's RawClient).

#[tokio::test]
async fn raw_client_renew_rebind_decline_confirm_and_information_request() {
    let mac = "02:00:00:00:64:01";
    let ns = Netns::new(mac);
    let server = start(&ns, false).await;
    let c = RawClient::new(&ns, 546);
    let duid = duid_ll(mac);
    let iaid = 0x6401;
    let ours = server.duid();
    let cid = || Opt::ClientId(duid.clone());

    // Malformed datagrams: no answer, counted, and the server goes on.
    let overrun = vec![msg::SOLICIT, 0, 0, 1, 0, 1, 0, 14, 0, 3];
    let header_cut = vec![msg::SOLICIT, 0, 0, 2, 0, 8];
    let mut inner_overrun = vec![msg::SOLICIT, 0, 0, 3];
    inner_overrun.extend([0, 1, 0, duid.len() as u8]);
    inner_overrun.extend(&duid);
    inner_overrun.extend([0, 3, 0, 16, 0, 0, 0x64, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    inner_overrun.extend([0, 5, 0, 24]);
    for bad in [&overrun, &header_cut, &inner_overrun] {
        c.multicast(bad).await;
    }
    assert!(
        c.recv_any(Duration::from_secs(1)).await.is_none(),
        "a malformed message was answered"
    );
    assert_eq!(server.stat("pkt6-parse-failed"), 3);

    // SOLICIT → ADVERTISE: an address, Kea's default lifetimes and T1/T2.
    let adv = c
        .exchange(message(
            msg::SOLICIT,
            0x10,
            vec![cid(), Opt::ElapsedTime(0), ia_na(iaid, &[])],
        ))
        .await;
    assert_eq!(adv.msg_type, msg::ADVERTISE);
    assert_eq!(adv.client_id(), Some(&duid[..]));
    assert_eq!(adv.server_id(), Some(&ours[..]));
    let ia = the_ia_na(&adv);
    assert_eq!((ia.iaid, ia.t1, ia.t2), (iaid, 2250, 3600), "{ia:?}");
    let offered = ia_addrs(ia);
    assert_eq!(offered.len(), 1, "{ia:?}");
    let addr = offered[0].addr;
    assert!(in_pool(addr, POOL1), "{addr}");
    assert_eq!((offered[0].preferred, offered[0].valid), (4500, 7200));
    assert!(
        server.rows().await.is_empty(),
        "an ADVERTISE writes nothing"
    );

    // REQUEST → REPLY: the lease is written.
    let reply = c
        .exchange(message(
            msg::REQUEST,
            0x11,
            vec![
                cid(),
                Opt::ServerId(ours.clone()),
                Opt::ElapsedTime(0),
                ia_na(iaid, &[addr]),
            ],
        ))
        .await;
    assert_eq!(reply.msg_type, msg::REPLY);
    let ia = the_ia_na(&reply);
    assert_eq!((ia.t1, ia.t2), (2250, 3600));
    let got = ia_addrs(ia);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].addr, got[0].preferred, got[0].valid),
        (addr, 4500, 7200)
    );
    let row = server.row_when(addr, |r| r.state == 0).await;
    assert_eq!(
        (row.lease_type, row.prefix_len, row.iaid),
        (0, 128, iaid as i32)
    );
    assert_eq!(row.duid.as_deref(), Some(&duid[..]));
    assert_eq!((row.valid, row.preferred), (7200, 4500));
    let first_left = row.left;

    // RENEW → the same address, extended.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = c
        .exchange(message(
            msg::RENEW,
            0x12,
            vec![cid(), Opt::ServerId(ours.clone()), ia_na(iaid, &[addr])],
        ))
        .await;
    assert_eq!(reply.msg_type, msg::REPLY);
    let got = ia_addrs(the_ia_na(&reply));
    assert_eq!(got.len(), 1, "{reply:?}");
    assert_eq!(got[0].addr, addr);
    // Kea 3's lease cache may hand back the remaining lifetime (a second less).
    assert!((7198..=7200).contains(&got[0].valid), "{reply:?}");
    let row = server.row(addr).await.unwrap();
    assert_eq!((row.state, row.valid), (0, 7200));
    assert!(row.left >= first_left - 1, "{row:?}");

    // RENEW naming an address it does not have as well: that one comes back with
    // lifetimes 0/0 (RFC 8415 §18.3.4), its own is extended.
    let foreign: Ipv6Addr = "2001:db8:1::5".parse().unwrap();
    let reply = c
        .exchange(message(
            msg::RENEW,
            0x13,
            vec![
                cid(),
                Opt::ServerId(ours.clone()),
                ia_na(iaid, &[addr, foreign]),
            ],
        ))
        .await;
    let got = ia_addrs(the_ia_na(&reply));
    let own = got.iter().find(|a| a.addr == addr).expect("own address");
    assert!(own.valid > 0 && own.preferred > 0, "{reply:?}");
    let other = got
        .iter()
        .find(|a| a.addr == foreign)
        .unwrap_or_else(|| panic!("{foreign} not answered: {reply:?}"));
    assert_eq!((other.preferred, other.valid), (0, 0), "{reply:?}");
    assert!(server.row(foreign).await.is_none());

    // REBIND (no server identifier) → the same address.
    let reply = c
        .exchange(message(
            msg::REBIND,
            0x14,
            vec![cid(), ia_na(iaid, &[addr])],
        ))
        .await;
    assert_eq!(reply.msg_type, msg::REPLY);
    let got = ia_addrs(the_ia_na(&reply));
    assert_eq!(got.len(), 1, "{reply:?}");
    assert_eq!(got[0].addr, addr);
    assert!(got[0].valid > 0);

    // A REQUEST naming another server: not answered, counted.
    c.send(message(
        msg::REQUEST,
        0x15,
        vec![
            cid(),
            Opt::ServerId(vec![0, 3, 0, 1, 2, 0, 0, 0, 0x99, 0x99]),
            ia_na(iaid, &[addr]),
        ],
    ))
    .await;
    assert!(
        c.recv_any(Duration::from_secs(1)).await.is_none(),
        "answered a REQUEST for another server"
    );
    assert_eq!(server.stat("pkt6-not-for-us"), 1);

    // CONFIRM: its own address is on-link; one outside the subnet is not.
    let reply = c
        .exchange(message(
            msg::CONFIRM,
            0x16,
            vec![cid(), ia_na(iaid, &[addr])],
        ))
        .await;
    assert_eq!(reply.msg_type, msg::REPLY);
    assert_eq!(
        status_of(&reply.options),
        Some(status::SUCCESS),
        "{reply:?}"
    );
    let away: Ipv6Addr = "2001:db8:99::1".parse().unwrap();
    let reply = c
        .exchange(message(
            msg::CONFIRM,
            0x17,
            vec![cid(), ia_na(iaid, &[away])],
        ))
        .await;
    assert_eq!(reply.msg_type, msg::REPLY);
    assert_eq!(
        status_of(&reply.options),
        Some(status::NOT_ON_LINK),
        "{reply:?}"
    );
    assert!(reply.opt(code::IA_NA).is_none(), "{reply:?}");

    // INFORMATION-REQUEST asking for option 23: the configured DNS servers, no IA.
    let reply = c
        .exchange(message(
            msg::INFORMATION_REQUEST,
            0x18,
            vec![
                cid(),
                Opt::Oro(vec![code::DNS_SERVERS]),
                Opt::ElapsedTime(0),
            ],
        ))
        .await;
    assert_eq!(reply.msg_type, msg::REPLY);
    assert_eq!(reply.server_id(), Some(&ours[..]));
    let dns: Ipv6Addr = "2001:db8:1::53".parse().unwrap();
    match reply.opt(code::DNS_SERVERS) {
        Some(Opt::Other { data, .. }) => assert_eq!(data[..], dns.octets()[..]),
        other => panic!("no dns-servers option: {other:?} in {reply:?}"),
    }
    assert!(reply.opt(code::IA_NA).is_none());

    // DECLINE: Success in the IA; the lease held for the probation period, its
    // owner forgotten.
    let reply = c
        .exchange(message(
            msg::DECLINE,
            0x19,
            vec![cid(), Opt::ServerId(ours.clone()), ia_na(iaid, &[addr])],
        ))
        .await;
    assert_eq!(reply.msg_type, msg::REPLY);
    assert_eq!(
        status_of(&the_ia_na(&reply).options),
        Some(status::SUCCESS),
        "{reply:?}"
    );
    let row = server.row_when(addr, |r| r.state == 1).await;
    assert_eq!(row.duid.as_deref(), Some(&[0u8, 0, 0][..]), "{row:?}");
    assert_eq!(row.valid, 86400, "{row:?}");
    assert_eq!(row.preferred, 0, "{row:?}");
    assert!(row.hwaddr.as_ref().is_none_or(|h| h.is_empty()), "{row:?}");
    assert!(row.left > 86000, "{row:?}");
    assert_eq!(server.stat("pkt6-decline-received"), 1);
    assert_eq!(server.stat("subnet[1].declined-addresses"), 1);
    assert_eq!(server.stat("declined-addresses"), 1);

    // The client asking again gets another address.
    let adv = c
        .exchange(message(msg::SOLICIT, 0x1a, vec![cid(), ia_na(iaid, &[])]))
        .await;
    let again = ia_addrs(the_ia_na(&adv))
        .first()
        .map(|a| a.addr)
        .expect("an address");
    assert_ne!(again, addr);
    assert!(in_pool(again, POOL1));
    server.stop().await;
}

/// A RELAY-FORW around `inner`.
fn relay_forw(hop: u8, link: Ipv6Addr, peer: Ipv6Addr, options: Vec<Opt>, inner: Packet) -> Packet {
    Packet::Relay(Relay {
        msg_type: msg::RELAY_FORW,
        hop_count: hop,
        link_addr: link,
        peer_addr: peer,
        options,
        inner: Box::new(inner),
    })
}

fn relay_parts(p: &Packet) -> (&Relay, &Packet) {
    match p {
        Packet::Relay(r) => (r, &r.inner),
        Packet::Client(m) => panic!("not a relay message: {m:?}"),
    }
}

#[tokio::test]
async fn relayed_messages_are_answered_to_the_relay() {
    let mac = "02:00:00:00:65:01";
    let ns = Netns::new(mac);
    ns.add_client_address(&format!("{RELAY_ADDR}/64"));
    let server = start(&ns, false).await;
    let client_ll: Ipv6Addr = "fe80::ff:fe00:6501".parse().unwrap();
    let ldra_ll: Ipv6Addr = "fe80::1".parse().unwrap();
    let relay_link: Ipv6Addr = "2001:db8:2::1".parse().unwrap();
    let duid = duid_ll(mac);

    // A lightweight relay (link-address ::, interface-id) behind a layer-3 relay on
    // 2001:db8:2::1 (RFC 6221), the outer one sending from 2001:db8:1::2:547.
    let forw = |xid: u32, outer_opts: Vec<Opt>| {
        let solicit = message(
            msg::SOLICIT,
            xid,
            vec![
                Opt::ClientId(duid.clone()),
                Opt::ElapsedTime(0),
                ia_na(7, &[]),
            ],
        );
        let ldra = relay_forw(
            0,
            Ipv6Addr::UNSPECIFIED,
            client_ll,
            vec![Opt::InterfaceId(b"port-7".to_vec())],
            Packet::Client(solicit),
        );
        relay_forw(1, relay_link, ldra_ll, outer_opts, ldra)
    };
    let relay = RawClient::new(&ns, 547);
    let to_server = SocketAddrV6::new(SERVER_ADDR, 547, 0, 0);
    let sent = forw(0x21, vec![Opt::InterfaceId(b"eth2".to_vec())]);
    relay
        .socket
        .send_to(&sent.encode(), to_server)
        .await
        .unwrap();
    let (answer, from) = relay
        .recv_any(Duration::from_secs(2))
        .await
        .expect("the relay gets an answer on port 547");
    assert_eq!(*from.ip(), SERVER_ADDR);
    assert_eq!(from.port(), 547);
    let (outer, mid) = relay_parts(&answer);
    assert_eq!(outer.msg_type, msg::RELAY_REPL);
    assert_eq!(
        (outer.hop_count, outer.link_addr, outer.peer_addr),
        (1, relay_link, ldra_ll)
    );
    assert_eq!(
        outer.options,
        vec![Opt::InterfaceId(b"eth2".to_vec())],
        "interface-id echoed"
    );
    let (inner, adv) = relay_parts(mid);
    assert_eq!(inner.msg_type, msg::RELAY_REPL);
    assert_eq!(
        (inner.hop_count, inner.link_addr, inner.peer_addr),
        (0, Ipv6Addr::UNSPECIFIED, client_ll)
    );
    assert_eq!(inner.options, vec![Opt::InterfaceId(b"port-7".to_vec())]);
    let Packet::Client(adv) = adv else {
        panic!("no client message inside: {adv:?}")
    };
    assert_eq!((adv.msg_type, adv.xid), (msg::ADVERTISE, 0x21));
    let got = ia_addrs(the_ia_na(adv));
    assert_eq!(got.len(), 1, "{adv:?}");
    assert!(
        in_pool(got[0].addr, POOL2),
        "{} is not from 2001:db8:2::/64's pool (selected by the relay's link-address)",
        got[0].addr
    );

    // RFC 8357: a relay on another port asks for its answers there.
    let relay2 = RawClient::new(&ns, 40000);
    let sent = forw(
        0x22,
        vec![Opt::InterfaceId(b"eth2".to_vec()), Opt::RelaySourcePort(0)],
    );
    relay2
        .socket
        .send_to(&sent.encode(), to_server)
        .await
        .unwrap();
    let (answer, _) = relay2
        .recv_any(Duration::from_secs(2))
        .await
        .expect("the relay gets an answer on port 40000");
    let (outer, mid) = relay_parts(&answer);
    assert_eq!(outer.msg_type, msg::RELAY_REPL);
    assert!(
        outer.options.contains(&Opt::InterfaceId(b"eth2".to_vec())),
        "{outer:?}"
    );
    assert!(
        outer.opt_count(code::RELAY_SOURCE_PORT) == 1,
        "relay-source-port echoed: {outer:?}"
    );
    let (_, adv) = relay_parts(mid);
    let Packet::Client(adv) = adv else {
        panic!("{adv:?}")
    };
    assert_eq!((adv.msg_type, adv.xid), (msg::ADVERTISE, 0x22));
    assert!(
        relay.recv_any(Duration::from_millis(300)).await.is_none(),
        "nothing goes to port 547 when the relay asked for its own port"
    );
    assert_eq!(server.stat("pkt6-solicit-received"), 2);
    assert_eq!(server.stat("pkt6-advertise-sent"), 2);
    server.stop().await;
}

trait OptCount {
    fn opt_count(&self, code: u16) -> usize;
}

impl OptCount for Relay {
    fn opt_count(&self, code: u16) -> usize {
        self.options.iter().filter(|o| o.code() == code).count()
    }
}

// ---------------------------------------------------------------------------------
// dhcpcd

const DHCPCD_CONF: &str = "# tern test: DHCPv6 only, no router solicitation\n\
noipv6rs\n\
ipv6only\n\
nohook resolv.conf\n\
ia_na 1\n";

#[tokio::test]
async fn dhcpcd_gets_an_address() {
    const TEST: &str = "dhcpcd_gets_an_address";
    if !have(TEST, "dhcpcd", "dhcpcd-base")
        || !have(TEST, "unshare", "util-linux")
        || !have(TEST, "mount", "mount")
    {
        return;
    }
    let mac = "02:00:00:00:66:01";
    let ns = Netns::new(mac);
    let server = start(&ns, false).await;
    let conf = ns.path("dhcpcd.conf");
    std::fs::write(&conf, DHCPCD_CONF).unwrap();
    let (sc, out) = script(&ns, "dhcpcd-script");
    let (db, rundir) = (ns.path("dhcpcd-db"), ns.path("dhcpcd-run"));
    std::fs::create_dir(&db).unwrap();
    std::fs::create_dir(&rundir).unwrap();
    // A private mount namespace: dhcpcd's DUID, leases, PID file and control socket
    // go to the test's directory, never to the host's /var/lib/dhcpcd or /run.
    let inner = format!(
        "mount --bind '{}' /var/lib/dhcpcd && mount --bind '{}' /run && \
         exec dhcpcd -f '{}' -c '{}' -6 -1 -B -t 20 {}",
        db.display(),
        rundir.display(),
        conf.display(),
        sc.display(),
        ns.client_if
    );
    let args: Vec<String> = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &inner,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut p = ns.spawn("dhcpcd", &args);
    let bound = wait_event(&out, "BOUND6", &mut p, 25).await;
    let bound = bound.unwrap_or_else(|| {
        panic!(
            "dhcpcd got no address; script calls {:?}\n{}\n{}",
            reasons(&read(&out)),
            p.output(),
            read(&out)
        )
    });
    let addr: Ipv6Addr = bound
        .iter()
        .find(|(k, _)| k.starts_with("new_dhcp6_ia_na") && k.ends_with("ia_addr1"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or_else(|| panic!("no IA_NA address in {bound:?}"));
    assert!(in_pool(addr, POOL1), "{addr}");
    let row = server.row_when(addr, |r| r.state == 0).await;
    p.stop();
    // What dhcpcd hands its script: Kea's default lifetimes and T1/T2.
    for (key, want) in [
        ("new_dhcp6_ia_na1_iaid", "00000001"),
        ("new_dhcp6_ia_na1_t1", "2250"),
        ("new_dhcp6_ia_na1_t2", "3600"),
        ("new_dhcp6_ia_na1_ia_addr1_pltime", "4500"),
        ("new_dhcp6_ia_na1_ia_addr1_vltime", "7200"),
    ] {
        assert_eq!(
            bound.get(key).map(String::as_str),
            Some(want),
            "{key}: {bound:?}"
        );
    }
    assert_eq!((row.lease_type, row.prefix_len, row.iaid), (0, 128, 1));
    assert_eq!((row.valid, row.preferred), (7200, 4500));
    assert_eq!(row.hwaddr.as_deref(), Some(&mac_bytes(mac)[..]));
    // dhcpcd's DUID is the one it stored in the test's directory.
    let stored = read(&db.join("duid"));
    let hex: String = row
        .duid
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    assert_eq!(stored.trim(), hex, "DUID file vs lease row");
    assert!(server.stat("pkt6-request-received") >= 1);
    server.stop().await;
}

/// Beyond Kea (whose RENEW naming another server's DUID is dropped, so after a failover
/// clients wait for T2 and REBIND): every tern on one database answers with the DUID
/// kept in the store, so the server that takes over answers the client's RENEW at once
/// and extends its lease.
#[tokio::test]
async fn a_server_taking_over_the_database_answers_the_renew() {
    let mac = "02:00:00:00:65:01";
    let ns = Netns::new(mac);
    let first = start(&ns, false).await;
    let c = RawClient::new(&ns, 546);
    let duid = duid_ll(mac);
    let iaid = 0x6501;
    let ours = first.duid();
    let adv = c
        .exchange(message(
            msg::SOLICIT,
            0x30,
            vec![Opt::ClientId(duid.clone()), ia_na(iaid, &[])],
        ))
        .await;
    let addr = ia_addrs(the_ia_na(&adv))[0].addr;
    let reply = c
        .exchange(message(
            msg::REQUEST,
            0x31,
            vec![
                Opt::ClientId(duid.clone()),
                Opt::ServerId(ours.clone()),
                ia_na(iaid, &[addr]),
            ],
        ))
        .await;
    assert_eq!(ia_addrs(the_ia_na(&reply))[0].addr, addr);

    // The first server goes away; another starts on the same database.
    let second = restart(first, &ns, false).await;
    assert_eq!(second.duid(), ours, "the server DUID comes from the store");
    let renewed = c
        .exchange(message(
            msg::RENEW,
            0x32,
            vec![
                Opt::ClientId(duid.clone()),
                Opt::ServerId(ours.clone()),
                ia_na(iaid, &[addr]),
            ],
        ))
        .await;
    assert_eq!(renewed.msg_type, msg::REPLY);
    let got = ia_addrs(the_ia_na(&renewed));
    assert_eq!((got[0].addr, got[0].valid), (addr, 7200));
    assert_eq!(second.stat("pkt6-not-for-us"), 0);
    assert_eq!(second.stat("pkt6-renew-received"), 1);
    let row = second.row_when(addr, |r| r.state == 0).await;
    assert_eq!(row.duid.as_deref(), Some(&duid[..]));
    second.stop().await;
}

/// A shared network (Kea: a subnet selected brings its whole network): when the first
/// subnet's pool is full, a client gets an address from another subnet of the network.
#[tokio::test]
async fn a_full_subnet_overflows_into_its_shared_network() {
    let ns = Netns::new("02:00:00:00:66:01");
    let text = r#"{"Dhcp6": {
        "interfaces-config": {"interfaces": ["IFACE"]},
        "shared-networks": [{"name": "floor1", "interface": "IFACE", "subnet6": [
          {"id": 1, "subnet": "2001:db8:1::/64",
           "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::100"}]},
          {"id": 2, "subnet": "2001:db8:2::/64",
           "pools": [{"pool": "2001:db8:2::100 - 2001:db8:2::1ff"}]}]}]
    }}"#
    .replace("IFACE", &ns.server_if);
    let config = tern_config::parse_str(&text, "shared6.json").unwrap();
    let cfg = Config6::from_config(config.dhcp6.as_ref().unwrap()).unwrap();
    let server = Server::start_on(&ns, testing::fresh_db().await, cfg).await;
    let c = RawClient::new(&ns, 546);
    let ours = server.duid();
    let mut got = Vec::new();
    for (i, mac) in ["02:00:00:00:66:01", "02:00:00:00:66:02"]
        .iter()
        .enumerate()
    {
        let duid = duid_ll(mac);
        let xid = 0x40 + 2 * i as u32;
        let adv = c
            .exchange(message(
                msg::SOLICIT,
                xid,
                vec![Opt::ClientId(duid.clone()), ia_na(1, &[])],
            ))
            .await;
        let addr = ia_addrs(the_ia_na(&adv))[0].addr;
        let reply = c
            .exchange(message(
                msg::REQUEST,
                xid + 1,
                vec![
                    Opt::ClientId(duid),
                    Opt::ServerId(ours.clone()),
                    ia_na(1, &[addr]),
                ],
            ))
            .await;
        got.push(ia_addrs(the_ia_na(&reply))[0].addr);
    }
    got.sort();
    assert_eq!(got[0], "2001:db8:1::100".parse::<Ipv6Addr>().unwrap());
    assert!(in_pool(got[1], POOL2), "{got:?}");
    let row = server.row_when(got[1], |r| r.state == 0).await;
    assert_eq!(row.subnet_id, 2);
    server.stop().await;
}
