//! Client names as Kea 2.2 stores and answers them, with Debian's real kea-dhcp4 as the
//! oracle: for every combination of `dhcp-ddns.enable-updates`, `ddns-send-updates`,
//! `ddns-replace-client-name`, `ddns-qualifying-suffix`, reservations (none, without a
//! host name, with one) and what the client sends (option 12, option 81 with various
//! flags and names, both, neither), tern's lease4 row (hostname, fqdn_fwd, fqdn_rev) and
//! its OFFER's and ACK's options 12 and 81 must equal Kea's on the same Dhcp4 section.
//!
//! Layout: one private network namespace with only `lo` (127.0.0.1-4). Two configs (the
//! global `enable-updates` on and off), each served by one kea-dhcp4 (memfile) and one
//! tern (a fresh database of the store crate's test cluster, over its Unix socket). Each
//! config has 16 subnets, one per combination of the subnet-level knobs, and in each
//! subnet every client kind runs one DISCOVER/OFFER/REQUEST/ACK relayed from an address
//! of the subnet (giaddr; replies come back to giaddr:67). The same MACs go to Kea and to
//! tern. A name generated from the address (`myhost-127-16-1-4`) is compared with the
//! address written as `<its address>`: the two servers choose addresses differently.
//! Every difference is printed as one table, then the test fails. Needs root (the
//! namespace, port 67) and kea-dhcp4; under `CI=true` their absence fails the test.

mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use common::kea4::{enter_netns, hex, option, packet, pg_lease_db, ready, receive, Kea};
use common::{Netns, Tern};
use serde_json::{json, Value};

const START: Duration = Duration::from_secs(60);
/// How long one reply is waited for, and all exchanges of one server at most.
const REPLY: Duration = Duration::from_secs(2);
const ALL_EXCHANGES: Duration = Duration::from_secs(180);

const REPLACE: [&str; 4] = ["never", "always", "when-present", "when-not-present"];
const SUFFIX: &str = "example.com";

/// The subnet-level knobs of subnet `s` (0..16).
struct SubnetKnobs {
    send_updates: bool,
    replace: &'static str,
    suffix: bool,
}

fn subnet_knobs(s: u8) -> SubnetKnobs {
    SubnetKnobs {
        send_updates: s & 1 == 0,
        replace: REPLACE[usize::from((s >> 1) & 3)],
        suffix: s & 8 != 0,
    }
}

const SUBNETS: u8 = 16;

/// Subnet `s` is 127.(16+s).0.0/16.
fn subnet_octet(s: u8) -> u8 {
    16 + s
}

/// What a client sends about its name.
struct ClientKind {
    label: &'static str,
    /// Option 12's value.
    opt12: Option<&'static [u8]>,
    /// Option 81's value (flags, two RCODEs, name).
    opt81: Option<&'static [u8]>,
}

const CLIENTS: [ClientKind; 12] = [
    ClientKind {
        label: "nothing",
        opt12: None,
        opt81: None,
    },
    ClientKind {
        label: "12 'Laptop'",
        opt12: Some(b"Laptop"),
        opt81: None,
    },
    ClientKind {
        label: "12 'pc.lan'",
        opt12: Some(b"pc.lan"),
        opt81: None,
    },
    ClientKind {
        label: "12 'pc.lan.'",
        opt12: Some(b"pc.lan."),
        opt81: None,
    },
    ClientKind {
        label: "12 'my_host'",
        opt12: Some(b"my_host"),
        opt81: None,
    },
    ClientKind {
        label: "81 E|S 'host81'",
        opt81: Some(b"\x05\0\0\x06host81"),
        opt12: None,
    },
    ClientKind {
        label: "81 E|S 'Host81.other.org.'",
        opt81: Some(b"\x05\0\0\x06Host81\x05other\x03org\0"),
        opt12: None,
    },
    ClientKind {
        label: "81 E 'cup' (client updates)",
        opt81: Some(b"\x04\0\0\x03cup"),
        opt12: None,
    },
    ClientKind {
        label: "81 E|N 'nup' (no updates)",
        opt81: Some(b"\x0c\0\0\x03nup"),
        opt12: None,
    },
    ClientKind {
        label: "81 E|S empty name",
        opt81: Some(b"\x05\0\0"),
        opt12: None,
    },
    ClientKind {
        label: "81 S ascii 'asc81'",
        opt81: Some(b"\x01\0\0asc81"),
        opt12: None,
    },
    ClientKind {
        label: "12 'both12' + 81 E|S 'both81'",
        opt12: Some(b"both12"),
        opt81: Some(b"\x05\0\0\x06both81"),
    },
];

/// Reservation kinds: none, one without a host name, three with one.
const RESERVATIONS: [&str; 5] = [
    "none",
    "no hostname (an option)",
    "'rsv-N'",
    "'Rsv-N.Lab'",
    "'abs-N.example.org.'",
];

fn reserved_name(kind: usize, client: usize) -> Option<String> {
    match kind {
        2 => Some(format!("rsv-{client}")),
        3 => Some(format!("Rsv-{client}.Lab")),
        4 => Some(format!("abs-{client}.example.org.")),
        _ => None,
    }
}

/// The MAC of a client of config `cfg` in subnet `s`.
fn mac(cfg: u8, s: u8, client: usize, resv: usize) -> [u8; 6] {
    [2, cfg, s, client as u8, resv as u8, 0]
}

/// The Dhcp4 section both servers run (only the interface and lease database differ).
fn dhcp4(cfg: u8, enable_updates: bool, iface: &str, lease_db: Value) -> Value {
    let subnets: Vec<Value> = (0..SUBNETS)
        .map(|s| {
            let k = subnet_knobs(s);
            let o = subnet_octet(s);
            let mut reservations = Vec::new();
            for c in 0..CLIENTS.len() {
                for r in 1..RESERVATIONS.len() {
                    let mut h = json!({ "hw-address": hex(&mac(cfg, s, c, r)) });
                    match reserved_name(r, c) {
                        Some(n) => h["hostname"] = json!(n),
                        // Kea wants something reserved: an option, then.
                        None => {
                            h["option-data"] =
                                json!([{ "name": "domain-name-servers", "data": "127.0.0.53" }])
                        }
                    }
                    reservations.push(h);
                }
            }
            let mut sub = json!({
                "id": u32::from(s) + 1,
                "subnet": format!("127.{o}.0.0/16"),
                "pools": [ { "pool": format!("127.{o}.1.0 - 127.{o}.1.255") } ],
                "ddns-send-updates": k.send_updates,
                "ddns-replace-client-name": k.replace,
                "reservations": reservations,
            });
            if k.suffix {
                sub["ddns-qualifying-suffix"] = json!(SUFFIX);
            }
            sub
        })
        .collect();
    json!({ "Dhcp4": {
        "interfaces-config": { "interfaces": [ iface ], "dhcp-socket-type": "udp" },
        "lease-database": lease_db,
        "valid-lifetime": 3600, "renew-timer": 900, "rebind-timer": 1800,
        // Nothing listens there: Kea's NCRs are lost, tern's stay queued.
        "dhcp-ddns": { "enable-updates": enable_updates,
                       "server-ip": "127.0.0.1", "server-port": 53001 },
        "subnet4": subnets,
        "loggers": [ { "name": "kea-dhcp4", "severity": "INFO",
                       "output_options": [ { "output": "stdout" } ] } ]
    }})
}

/// What one server did for one client.
#[derive(Debug, Clone, Default, PartialEq)]
struct Seen {
    offer12: Option<String>,
    offer81: Option<String>,
    ack12: Option<String>,
    ack81: Option<String>,
    /// "no OFFER" / "no ACK" when the exchange broke off.
    failed: Option<String>,
    /// lease4: hostname, fqdn_fwd, fqdn_rev.
    lease: Option<(String, bool, bool)>,
    /// The address offered (not compared: the servers allocate differently).
    yiaddr: Option<Ipv4Addr>,
}

impl Seen {
    /// `what` as text to compare, a name generated from the client's own address
    /// (`myhost-127-16-1-4`) written as `myhost-<its address>`.
    fn show<T: std::fmt::Debug>(&self, what: &T) -> String {
        let text = format!("{what:?}");
        match self.yiaddr {
            Some(a) => text.replace(
                &format!("-{}", a.to_string().replace('.', "-")),
                "-<its address>",
            ),
            None => text,
        }
    }
}

/// Option 81 as text: flags in hex, then the name (wire form decoded, `.` at the end
/// when it is fully qualified). The RCODEs are left out: Kea 2.2 echoes the client's
/// (0, 0 here), tern sends 255, 255 as RFC 4702 §2.2 says a server should; clients
/// ignore them.
fn show81(v: &[u8]) -> String {
    let Some((&flags, rest)) = v.split_first() else {
        return "(empty)".into();
    };
    let name = rest.get(2..).unwrap_or_default();
    let text = if flags & 0x04 != 0 {
        let mut out = String::new();
        let mut i = 0;
        while i < name.len() {
            let len = usize::from(name[i]);
            if len == 0 {
                out.push('.');
                break;
            }
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&String::from_utf8_lossy(
                name.get(i + 1..i + 1 + len).unwrap_or_default(),
            ));
            i += 1 + len;
        }
        out
    } else {
        String::from_utf8_lossy(name).into_owned()
    };
    format!("{flags:02x} '{text}'")
}

/// One DORA of a client with the server at `server`, relayed from `giaddr`.
fn dora(
    sock: &UdpSocket,
    server: Ipv4Addr,
    giaddr: Ipv4Addr,
    chaddr: [u8; 6],
    kind: &ClientKind,
    xid: u32,
) -> Seen {
    let mut name_opts = Vec::new();
    if let Some(v) = kind.opt12 {
        name_opts.extend(option(12, v));
    }
    if let Some(v) = kind.opt81 {
        name_opts.extend(option(81, v));
    }
    let mut seen = Seen::default();
    let to = (server, 67);
    sock.send_to(&packet(1, xid, giaddr, chaddr, &name_opts), to)
        .unwrap();
    let Some(offer) = receive(sock, xid, 2, REPLY) else {
        seen.failed = Some("no OFFER".into());
        return seen;
    };
    let yiaddr = offer.yiaddr;
    let offer = offer.options;
    seen.yiaddr = Some(yiaddr);
    seen.offer12 = offer
        .get(&12)
        .map(|v| String::from_utf8_lossy(v).into_owned());
    seen.offer81 = offer.get(&81).map(|v| show81(v));
    let mut opts = option(50, &yiaddr.octets());
    opts.extend(option(54, offer.get(&54).map_or(&[][..], Vec::as_slice)));
    opts.extend(name_opts);
    sock.send_to(&packet(3, xid + 1, giaddr, chaddr, &opts), to)
        .unwrap();
    let Some(ack) = receive(sock, xid + 1, 5, REPLY) else {
        seen.failed = Some("no ACK".into());
        return seen;
    };
    let ack = ack.options;
    seen.ack12 = ack
        .get(&12)
        .map(|v| String::from_utf8_lossy(v).into_owned());
    seen.ack81 = ack.get(&81).map(|v| show81(v));
    seen
}

/// Runs every client of config `cfg` against the server at `server`, relayed from
/// 127.(16+s).0.`relay_host`; keyed by (subnet, client kind, reservation kind).
fn run_clients(
    ns: &str,
    cfg: u8,
    server: Ipv4Addr,
    relay_host: u8,
) -> BTreeMap<(u8, usize, usize), Seen> {
    enter_netns(ns);
    let deadline = Instant::now() + ALL_EXCHANGES;
    let mut out = BTreeMap::new();
    let mut xid = u32::from(cfg) << 24 | u32::from(relay_host) << 20;
    for s in 0..SUBNETS {
        let giaddr = Ipv4Addr::new(127, subnet_octet(s), 0, relay_host);
        let sock = UdpSocket::bind((giaddr, 67)).expect("bind the relay's port 67");
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        for (c, kind) in CLIENTS.iter().enumerate() {
            for r in 0..RESERVATIONS.len() {
                let seen = if Instant::now() < deadline {
                    xid += 2;
                    dora(&sock, server, giaddr, mac(cfg, s, c, r), kind, xid)
                } else {
                    Seen {
                        failed: Some("not run: out of time".into()),
                        ..Seen::default()
                    }
                };
                out.insert((s, c, r), seen);
            }
        }
    }
    out
}

/// Kea's memfile: the last row of each hwaddr (rows are appended on every change).
fn kea_leases(csv: &Path) -> BTreeMap<String, (String, bool, bool)> {
    let text = std::fs::read_to_string(csv).unwrap_or_default();
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1) {
        // address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,...
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 10 {
            continue;
        }
        let host = f[8].replace("&#x2c", ",");
        out.insert(f[1].to_owned(), (host, f[6] == "1", f[7] == "1"));
    }
    out
}

/// A lease4 row: hwaddr, hostname, fqdn_fwd, fqdn_rev.
type LeaseRow = (Option<Vec<u8>>, Option<String>, bool, bool);

async fn tern_leases(pool: &sqlx::PgPool) -> BTreeMap<String, (String, bool, bool)> {
    let rows: Vec<LeaseRow> =
        sqlx::query_as("SELECT hwaddr, hostname, fqdn_fwd, fqdn_rev FROM lease4")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(hw, h, f, r)| (hex(&hw.unwrap_or_default()), (h.unwrap_or_default(), f, r)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn lease_hostnames_and_name_options_match_kea_2_2() {
    if !ready("hostname_oracle") {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let ns = Netns::new(
        &format!("tern-hn-{}", std::process::id()),
        &["127.0.0.2", "127.0.0.3", "127.0.0.4"],
    );
    // Config 0: enable-updates on; config 1: off. Servers: Kea at .1/.2, tern at .3/.4.
    let configs = [(0u8, true), (1u8, false)];
    let mut keas = Vec::new();
    let mut terns = Vec::new();
    let mut dbs = Vec::new();
    for &(cfg, enable) in &configs {
        let kdir = dir.path().join(format!("kea-{cfg}"));
        std::fs::create_dir(&kdir).unwrap();
        let csv = kdir.join("leases4.csv");
        let conf = dhcp4(
            cfg,
            enable,
            &format!("lo/127.0.0.{}", 1 + cfg),
            json!({ "type": "memfile", "persist": true, "lfc-interval": 0, "name": csv }),
        );
        let path = kdir.join("kea-dhcp4.conf");
        std::fs::write(&path, conf.to_string()).unwrap();
        keas.push((Kea::start_in_netns(ns.name(), &kdir, &path), csv));

        let db = tern_store::testing::fresh_db().await;
        let conf = dhcp4(
            cfg,
            enable,
            &format!("lo/127.0.0.{}", 3 + cfg),
            pg_lease_db(&db).await,
        );
        let path = dir.path().join(format!("tern-{cfg}.json"));
        std::fs::write(&path, conf.to_string()).unwrap();
        let data = dir.path().join(format!("data-{cfg}"));
        let tern = Tern::start_in_netns(
            ns.name(),
            &[
                "serve",
                "-c",
                path.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ],
            &dir.path().join(format!("tern-{cfg}.log")),
        );
        terns.push(tern);
        dbs.push(db);
    }
    for (kea, _) in &mut keas {
        kea.wait_for("DHCP4_STARTED", START);
    }
    for tern in &mut terns {
        tern.wait_for("TERN_READY", START);
    }
    eprintln!(
        "hostname_oracle: servers ready after {:?}",
        started.elapsed()
    );

    // All four servers at once, each from its own relay address.
    let ns_name = ns.name().to_owned();
    let results: Vec<BTreeMap<(u8, usize, usize), Seen>> = std::thread::scope(|sc| {
        let handles: Vec<_> = [(0u8, 1u8), (0, 3), (1, 2), (1, 4)]
            .into_iter()
            .map(|(cfg, host)| {
                let ns = ns_name.clone();
                sc.spawn(move || run_clients(&ns, cfg, Ipv4Addr::new(127, 0, 0, host), host))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    eprintln!(
        "hostname_oracle: exchanges done after {:?}",
        started.elapsed()
    );
    let mut results = results.into_iter();
    let mut diffs: Vec<[String; 4]> = Vec::new();
    let mut compared = 0;
    for (i, &(cfg, enable)) in configs.iter().enumerate() {
        let (kea, csv) = &mut keas[i];
        kea.stop();
        let kea_rows = kea_leases(csv);
        let tern_rows = tern_leases(dbs[i].pool()).await;
        let mut kea_seen = results.next().unwrap();
        let mut tern_seen = results.next().unwrap();
        for (key, k) in &mut kea_seen {
            let (s, c, r) = *key;
            let m = hex(&mac(cfg, s, c, r));
            k.lease = kea_rows.get(&m).cloned();
            let t = tern_seen.get_mut(key).unwrap();
            t.lease = tern_rows.get(&m).cloned();
            assert!(
                k.failed.is_none(),
                "Kea failed an exchange ({:?}), the oracle is broken:\n{}",
                k.failed,
                kea.log()
            );
            compared += 1;
            let kn = subnet_knobs(s);
            let case = format!(
                "updates={} send={} replace={} suffix={} | resv {} | {}",
                if enable { "on" } else { "off" },
                kn.send_updates,
                kn.replace,
                if kn.suffix { "yes" } else { "no" },
                RESERVATIONS[r],
                CLIENTS[c].label,
            );
            let fields: [(&str, String, String); 6] = [
                ("failed", k.show(&k.failed), t.show(&t.failed)),
                ("lease", k.show(&k.lease), t.show(&t.lease)),
                ("offer 12", k.show(&k.offer12), t.show(&t.offer12)),
                ("offer 81", k.show(&k.offer81), t.show(&t.offer81)),
                ("ack 12", k.show(&k.ack12), t.show(&t.ack12)),
                ("ack 81", k.show(&k.ack81), t.show(&t.ack81)),
            ];
            for (what, kv, tv) in fields {
                if kv != tv {
                    diffs.push([case.clone(), what.to_owned(), kv, tv]);
                }
            }
        }
    }
    for t in &mut terns {
        t.stop(Duration::from_secs(30));
    }
    eprintln!(
        "hostname_oracle: {compared} clients compared in {:?}",
        started.elapsed()
    );
    if !diffs.is_empty() {
        let mut table = String::from("case | field | Kea 2.2 | tern\n");
        for [case, what, k, t] in &diffs {
            table.push_str(&format!("{case} | {what} | {k} | {t}\n"));
        }
        panic!(
            "{} differences from Kea 2.2 in {compared} clients:\n{table}",
            diffs.len()
        );
    }
    drop(ns);
}
