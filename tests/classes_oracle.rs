//! Client classification as Kea 2.2 does it, with Debian's real kea-dhcp4 as the oracle:
//! PXE clients of every kind get, in their OFFER and ACK, the same fixed fields (siaddr,
//! sname, file) and the same options, with the same values, from tern as from Kea on the
//! same Dhcp4 section.
//!
//! The section holds seed 003 §4.15's classes, both of its configurations merged (the
//! flex-option hook left out): iPXEboot / UEFIboot / BIOSboot / Netboot (next-server,
//! options 66, 67 and 60) and VENDOR_CLASS_PXEClient (option 43 encapsulating the PXE
//! space, a class-level option-def, with the seed's sub-options). Classes of our own
//! add: a reservation's class (`reserved-class`: boot file, server host name, lifetime,
//! options), `member('KNOWN')` and `member('UNKNOWN')` tests, the relay's circuit id
//! (`relay4[1].hex`), `substring(option[60].hex,0,9)`, an `option[60].text` class with a
//! `valid-lifetime` (1001: below subnet 1's `rebind-timer`, so no T2 there; odd, for the
//! calculated T1 and T2 of subnet 2), `only-if-required` classes required by the subnet
//! (one with a test, one without: Kea 2.2 assigns a required class only when its test
//! passes, so never one without a test) and by a pool, and one required by nobody;
//! class options against global, shared-network, subnet, pool and host options of the
//! same codes; class guards on pools (circuit-A / not circuit-A) and on the subnets of a
//! shared network selected by its relay address (Netboot / not Netboot).
//!
//! Clients: option 93 (0x0000, 0x0007, 0x0009, absent) × option 175 (present, absent) ×
//! option 60 ("PXEClient", "PXEClient:Arch:00007:UNDI:003016", "MSFT 5.0", absent) ×
//! reservation (with, without) × option 82 circuit id "circuit-A" (with, without), each
//! relayed into both networks (subnet 1 and the shared network): 256 clients, each one
//! DISCOVER/OFFER/REQUEST/ACK, asking in option 55 what a PXE ROM asks. Compared: siaddr,
//! sname, file, the set of option codes, every option's value but 54's (the server
//! identifiers differ), and where the address is (which /24: each pool is one; the
//! servers allocate differently within a pool).
//!
//! Layout as tests/hostname_oracle.rs: one private network namespace with only `lo`;
//! kea-dhcp4 (memfile, not persisted) on 127.0.0.1, tern (a fresh database of the store
//! crate's test cluster) on 127.0.0.2; the relay for Kea is 127.x.0.1, for tern 127.x.0.2
//! (replies come back to giaddr:67). Every difference is printed as one table, then the
//! test fails. Needs root (the namespace, port 67) and kea-dhcp4; under `CI=true` their
//! absence fails the test. `CLASSES_ORACLE_DUMP=1` prints every reply of both servers.

mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use common::kea4::{enter_netns, hex, option, packet, pg_lease_db, ready, receive, Kea, Reply};
use common::{Netns, Tern};
use serde_json::{json, Value};

const START: Duration = Duration::from_secs(60);
/// How long one reply is waited for, and all exchanges of one server at most.
const REPLY: Duration = Duration::from_secs(1);
const ALL_EXCHANGES: Duration = Duration::from_secs(40);

/// What a PXE ROM (and iPXE) asks for in option 55.
const PRL: &[u8] = &[
    1, 3, 6, 12, 15, 28, 43, 60, 66, 67, 93, 97, 128, 129, 130, 131, 132, 133, 134, 135, 175,
];

/// Option 93 (client system architecture): absent, BIOS, EFI x86-64, EFI x86-64 (9).
const ARCH: [Option<[u8; 2]>; 4] = [None, Some([0, 0]), Some([0, 7]), Some([0, 9])];
/// Option 60.
const VENDOR: [Option<&str>; 4] = [
    None,
    Some("PXEClient"),
    Some("PXEClient:Arch:00007:UNDI:003016"),
    Some("MSFT 5.0"),
];
/// Option 175 as iPXE sends it (encapsulated iPXE feature flags).
const IPXE: &[u8] = &[0x13, 0x01, 0x01, 0x11, 0x01, 0x01];
const CIRCUIT: &[u8] = b"circuit-A";

/// The two networks the clients are relayed into: (label, second octet).
const NETS: [(&str, u8); 2] = [("subnet 1", 16), ("pxe-net (shared, by relay address)", 17)];

#[derive(Debug, Clone, Copy)]
struct Client {
    arch: usize,
    ipxe: bool,
    vendor: usize,
    known: bool,
    circuit: bool,
}

impl Client {
    fn all() -> Vec<Client> {
        let mut out = Vec::new();
        for arch in 0..ARCH.len() {
            for ipxe in [false, true] {
                for vendor in 0..VENDOR.len() {
                    for known in [false, true] {
                        for circuit in [false, true] {
                            out.push(Client {
                                arch,
                                ipxe,
                                vendor,
                                known,
                                circuit,
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// Its MAC in network `net`.
    fn mac(&self, net: usize) -> [u8; 6] {
        [
            2,
            net as u8 + 1,
            self.arch as u8,
            u8::from(self.ipxe),
            self.vendor as u8,
            u8::from(self.known) << 4 | u8::from(self.circuit),
        ]
    }

    fn label(&self, net: usize) -> String {
        format!(
            "{} | 93={} 175={} 60={} {} {}",
            NETS[net].0,
            ARCH[self.arch].map_or("-".into(), |a| format!("{:02x}{:02x}", a[0], a[1])),
            if self.ipxe { "yes" } else { "-" },
            VENDOR[self.vendor].map_or("-".into(), |v| format!("'{v}'")),
            if self.known { "reserved" } else { "unknown" },
            if self.circuit { "circuit-A" } else { "no-82" },
        )
    }

    /// Its options but 53 (and, in a REQUEST, 50 and 54), in a PXE ROM's order.
    fn options(&self, net: usize) -> Vec<u8> {
        let mut o = Vec::new();
        o.extend(option(55, PRL));
        let mut id = vec![1];
        id.extend(self.mac(net));
        o.extend(option(61, &id));
        if let Some(a) = ARCH[self.arch] {
            o.extend(option(93, &a));
            // The machine's UUID (type 0, then 16 octets).
            let mut guid = vec![0u8; 17];
            guid[1..7].copy_from_slice(&self.mac(net));
            o.extend(option(97, &guid));
        }
        if let Some(v) = VENDOR[self.vendor] {
            o.extend(option(60, v.as_bytes()));
        }
        if self.ipxe {
            o.extend(option(175, IPXE));
        }
        // Added by the relay: last.
        if self.circuit {
            let mut sub = vec![1, CIRCUIT.len() as u8];
            sub.extend(CIRCUIT);
            o.extend(option(82, &sub));
        }
        o
    }
}

fn raw(code: u16, data: &str) -> Value {
    json!({ "code": code, "csv-format": false, "data": data })
}

/// The Dhcp4 section both servers run (only the interface and lease database differ).
fn dhcp4(iface: &str, lease_db: Value) -> Value {
    let known: Vec<Client> = Client::all().into_iter().filter(|c| c.known).collect();
    let resv = |net: usize, extra: Value| -> Vec<Value> {
        known
            .iter()
            .map(|c| {
                let mut h = json!({
                    "hw-address": hex(&c.mac(net)),
                    "client-classes": [ "reserved-class" ],
                });
                for (k, v) in extra.as_object().unwrap() {
                    h[k] = v.clone();
                }
                h
            })
            .collect()
    };
    json!({ "Dhcp4": {
        "interfaces-config": { "interfaces": [ iface ], "dhcp-socket-type": "udp" },
        "lease-database": lease_db,
        "valid-lifetime": 3600,
        // Seed 003 §4.15 (advanced): the PXE space.
        "option-def": [
            { "space": "PXE", "name": "discovery-control", "code": 6, "type": "uint8" },
            { "space": "PXE", "name": "boot-server", "code": 8,
              "record-types": "uint8, uint8, uint8, ipv4-address", "type": "record" },
            { "space": "PXE", "name": "boot-menu", "code": 9,
              "record-types": "uint16, uint8, string", "type": "record" },
            { "space": "PXE", "name": "menu-prompt", "code": 10,
              "record-types": "uint8, string", "type": "record" },
            { "space": "PXE", "name": "boot-item", "code": 71,
              "record-types": "uint8, uint8, uint8", "type": "record" },
            { "space": "PXE", "name": "end", "type": "empty", "code": 255 }
        ],
        // Below every class (classes beat global options).
        "option-data": [
            { "name": "domain-name", "data": "global.example" },
            { "name": "domain-name-servers", "data": "127.0.0.53" },
            { "name": "boot-file-name", "data": "global.efi" }
        ],
        "client-classes": [
            // Seed 003 §4.15 (simple).
            { "name": "iPXEboot", "test": "option[175].exists" },
            { "name": "UEFIboot", "test": "option[93].hex == 0x0007 and not option[175].exists" },
            { "name": "BIOSboot", "test": "option[93].hex == 0x0000 and not option[175].exists" },
            { "name": "Netboot", "next-server": "192.0.2.100",
              "option-data": [
                  { "always-send": false, "code": 66, "data": "192.0.2.100",
                    "name": "tftp-server-name" },
                  { "code": 67, "data": "ipxe.efi", "name": "boot-file-name" },
                  { "data": "PXEClient", "name": "vendor-class-identifier" }
              ],
              "test": "member('UEFIboot') or member('BIOSboot') or member('iPXEboot')" },
            { "name": "not-netboot", "test": "not member('Netboot')" },
            // Seed 003 §4.15 (advanced).
            { "name": "VENDOR_CLASS_PXEClient",
              "option-def": [ { "name": "vendor-encapsulated-options", "code": 43,
                                "type": "empty", "encapsulate": "PXE" } ],
              "option-data": [
                  { "space": "dhcp4", "name": "vendor-encapsulated-options",
                    "always-send": true },
                  { "space": "PXE", "name": "discovery-control", "code": 6, "data": "7" },
                  { "space": "PXE", "name": "boot-server", "code": 8,
                    "data": "255, 241, 01, 192.0.2.1" },
                  { "space": "PXE", "name": "boot-menu", "code": 9,
                    "data": "255, 241, 28, PXE Boot Menu (static)" },
                  { "space": "PXE", "name": "menu-prompt", "code": 10, "data": "0, OSD" },
                  { "space": "PXE", "name": "boot-item", "code": 71, "data": "0,0,0" },
                  { "space": "PXE", "name": "end", "code": 255 }
              ] },
            // Ours.
            { "name": "pxe-prefix", "test": "substring(option[60].hex,0,9) == 'PXEClient'",
              "server-hostname": "pxe-sname",
              "option-data": [ raw(128, "C0000264") ] },
            { "name": "circuit-A", "test": "relay4[1].hex == 'circuit-A'",
              "boot-file-name": "circuit.file",
              "option-data": [ { "name": "domain-name", "data": "circuit.example" } ] },
            { "name": "not-circuit-A", "test": "not member('circuit-A')" },
            { "name": "msft", "test": "option[60].text == 'MSFT 5.0'", "valid-lifetime": 1001 },
            { "name": "known-clients", "test": "member('KNOWN')",
              "option-data": [ { "name": "domain-name-servers", "data": "127.0.0.7" } ] },
            { "name": "unknown-vendor", "test": "member('UNKNOWN') and option[60].exists",
              "next-server": "192.0.2.200",
              "option-data": [ raw(129, "554E4B") ] },
            { "name": "reserved-class", "boot-file-name": "reserved.efi",
              "server-hostname": "reserved-sname", "valid-lifetime": 2001,
              "option-data": [ raw(130, "525356"),
                               { "name": "domain-name", "data": "reserved.example" } ] },
            { "name": "req-class", "only-if-required": true, "test": "not member('Netboot')",
              "option-data": [
                  { "name": "domain-name", "data": "required.example" },
                  { "name": "domain-name-servers", "data": "127.0.0.99" }
              ] },
            { "name": "pool-req", "only-if-required": true, "test": "member('ALL')",
              "option-data": [ raw(131, "504F4F4C") ] },
            // Required, without a test.
            { "name": "req-notest", "only-if-required": true,
              "option-data": [ raw(133, "4E4F54455354") ] },
            { "name": "never-required", "only-if-required": true,
              "option-data": [ raw(132, "4E4556") ] }
        ],
        "subnet4": [ {
            "id": 1, "subnet": "127.16.0.0/16",
            "renew-timer": 900, "rebind-timer": 1800,
            "option-data": [ { "name": "routers", "data": "127.16.0.1" } ],
            "require-client-classes": [ "req-class", "req-notest" ],
            "pools": [
                { "pool": "127.16.1.0 - 127.16.1.255", "client-class": "circuit-A",
                  "require-client-classes": [ "pool-req" ] },
                { "pool": "127.16.2.0 - 127.16.2.255", "client-class": "not-circuit-A",
                  "option-data": [ { "name": "broadcast-address", "data": "127.16.255.255" },
                                   raw(129, "504F4F4C32") ] }
            ],
            "reservations": resv(0, json!({}))
        } ],
        "shared-networks": [ {
            "name": "pxe-net",
            "relay": { "ip-addresses": [ "127.17.0.1", "127.17.0.2" ] },
            "option-data": [ { "name": "domain-name", "data": "shared.example" } ],
            "subnet4": [
                { "id": 2, "subnet": "127.17.0.0/16", "client-class": "Netboot",
                  "calculate-tee-times": true,
                  "next-server": "10.0.0.2", "boot-file-name": "subnet2.file",
                  "server-hostname": "subnet2-sname",
                  "option-data": [
                      { "name": "tftp-server-name", "data": "10.0.0.66" },
                      { "name": "domain-name-servers", "data": "127.17.0.53" }
                  ],
                  "pools": [ { "pool": "127.17.1.0 - 127.17.1.255" } ],
                  "reservations": resv(1, json!({
                      "next-server": "192.0.2.77",
                      "option-data": [ { "name": "boot-file-name", "data": "host.efi" } ]
                  })) },
                { "id": 3, "subnet": "127.18.0.0/16", "client-class": "not-netboot",
                  "pools": [ { "pool": "127.18.1.0 - 127.18.1.255" } ],
                  "reservations": resv(1, json!({})) }
            ]
        } ],
        "loggers": [ { "name": "kea-dhcp4", "severity": "INFO",
                       "output_options": [ { "output": "stdout" } ] } ]
    }})
}

/// What one server did for one client.
#[derive(Debug, Clone, Default)]
struct Seen {
    offer: Option<Reply>,
    ack: Option<Reply>,
    /// "no OFFER" / "no ACK" / "not run" when the exchange broke off.
    failed: Option<String>,
}

/// An option's value as text: lifetimes in seconds, addresses dotted, option 43 and 82
/// as their sub-options, printable strings quoted, the rest in hex.
fn show_option(code: u8, v: &[u8]) -> String {
    let printable = |b: &[u8]| !b.is_empty() && b.iter().all(|c| (0x20..0x7f).contains(c));
    match code {
        51 | 58 | 59 if v.len() == 4 => u32::from_be_bytes(v.try_into().unwrap()).to_string(),
        1 | 3 | 6 | 28 | 54 if v.len().is_multiple_of(4) && !v.is_empty() => v
            .chunks(4)
            .map(|a| Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string())
            .collect::<Vec<_>>()
            .join(","),
        43 | 82 => {
            let mut out = Vec::new();
            let mut i = 0;
            while i < v.len() {
                let c = v[i];
                let Some(&len) = v.get(i + 1) else {
                    out.push(format!("{c}:<truncated>"));
                    break;
                };
                let len = usize::from(len);
                let Some(d) = v.get(i + 2..i + 2 + len) else {
                    out.push(format!("{c}:<overrun {}>", hex(&v[i..])));
                    break;
                };
                out.push(if printable(d) && code == 82 {
                    format!("{c}:'{}'", String::from_utf8_lossy(d))
                } else {
                    format!("{c}:[{}]", hex(d))
                });
                i += 2 + len;
            }
            out.join(" ")
        }
        _ if printable(v) => format!("'{}'", String::from_utf8_lossy(v)),
        _ => format!("[{}]", hex(v)),
    }
}

/// The fields of a reply compared: where the address is (its /24), siaddr, sname,
/// file, the set of option codes and each option's value but 54's.
fn fields(r: &Reply) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    let [a, b, c, _] = r.yiaddr.octets();
    f.insert("address in".into(), format!("{a}.{b}.{c}.0/24"));
    f.insert("siaddr".into(), r.siaddr.to_string());
    f.insert(
        "sname".into(),
        format!("'{}'", String::from_utf8_lossy(&r.sname)),
    );
    f.insert(
        "file".into(),
        format!("'{}'", String::from_utf8_lossy(&r.file)),
    );
    f.insert(
        "option codes".into(),
        r.options
            .keys()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    for (&code, v) in &r.options {
        if code != 54 {
            f.insert(format!("option {code:3}"), show_option(code, v));
        }
    }
    f
}

/// One DORA of `client` with the server at `server`, relayed from `giaddr`.
fn dora(
    sock: &UdpSocket,
    server: Ipv4Addr,
    giaddr: Ipv4Addr,
    client: &Client,
    net: usize,
    xid: u32,
) -> Seen {
    let chaddr = client.mac(net);
    let opts = client.options(net);
    let mut seen = Seen::default();
    let to = (server, 67);
    sock.send_to(&packet(1, xid, giaddr, chaddr, &opts), to)
        .unwrap();
    let Some(offer) = receive(sock, xid, 2, REPLY) else {
        seen.failed = Some("no OFFER".into());
        return seen;
    };
    let mut req = option(50, &offer.yiaddr.octets());
    req.extend(option(
        54,
        offer.options.get(&54).map_or(&[][..], Vec::as_slice),
    ));
    req.extend(opts);
    seen.offer = Some(offer);
    sock.send_to(&packet(3, xid + 1, giaddr, chaddr, &req), to)
        .unwrap();
    match receive(sock, xid + 1, 5, REPLY) {
        Some(ack) => seen.ack = Some(ack),
        None => seen.failed = Some("no ACK".into()),
    }
    seen
}

/// Runs every client in both networks against the server at 127.0.0.`host`, relayed
/// from 127.x.0.`host`; keyed by (network, client index).
fn run_clients(ns: &str, host: u8) -> BTreeMap<(usize, usize), Seen> {
    enter_netns(ns);
    let server = Ipv4Addr::new(127, 0, 0, host);
    let deadline = Instant::now() + ALL_EXCHANGES;
    let mut out = BTreeMap::new();
    let mut xid = u32::from(host) << 24;
    for (net, &(_, octet)) in NETS.iter().enumerate() {
        let giaddr = Ipv4Addr::new(127, octet, 0, host);
        let sock = UdpSocket::bind((giaddr, 67)).expect("bind the relay's port 67");
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        for (i, c) in Client::all().iter().enumerate() {
            let seen = if Instant::now() < deadline {
                xid += 2;
                dora(&sock, server, giaddr, c, net, xid)
            } else {
                Seen {
                    failed: Some("not run: out of time".into()),
                    ..Seen::default()
                }
            };
            out.insert((net, i), seen);
        }
    }
    out
}

/// Checks that Kea's answers show what the configuration is there to exercise (else the
/// comparison would prove little); panics naming what is missing.
fn check_oracle(kea: &BTreeMap<(usize, usize), Seen>) {
    let acks: Vec<(usize, &Reply)> = kea
        .iter()
        .filter_map(|(&(net, _), s)| s.ack.as_ref().map(|a| (net, a)))
        .collect();
    let any = |p: &dyn Fn(usize, &Reply) -> bool| acks.iter().any(|&(n, r)| p(n, r));
    let opt = |r: &Reply, c: u8| r.options.get(&c).cloned();
    let checks: Vec<(&str, bool)> = vec![
        (
            "option 43 (VENDOR_CLASS_PXEClient)",
            any(&|_, r| opt(r, 43).is_some()),
        ),
        ("no option 43 for some", any(&|_, r| opt(r, 43).is_none())),
        (
            "siaddr 192.0.2.100 (Netboot)",
            any(&|_, r| r.siaddr == Ipv4Addr::new(192, 0, 2, 100)),
        ),
        (
            "siaddr 192.0.2.200 (unknown-vendor)",
            any(&|_, r| r.siaddr == Ipv4Addr::new(192, 0, 2, 200)),
        ),
        (
            "siaddr 192.0.2.77 (host)",
            any(&|_, r| r.siaddr == Ipv4Addr::new(192, 0, 2, 77)),
        ),
        (
            "option 67 'ipxe.efi' (Netboot)",
            any(&|_, r| opt(r, 67).as_deref() == Some(b"ipxe.efi")),
        ),
        (
            "option 67 'global.efi'",
            any(&|_, r| opt(r, 67).as_deref() == Some(b"global.efi")),
        ),
        (
            "option 60 'PXEClient' (Netboot)",
            any(&|_, r| opt(r, 60).as_deref() == Some(b"PXEClient")),
        ),
        (
            "file 'circuit.file'",
            any(&|_, r| r.file == b"circuit.file"),
        ),
        (
            "file 'reserved.efi'",
            any(&|_, r| r.file == b"reserved.efi"),
        ),
        ("sname 'pxe-sname'", any(&|_, r| r.sname == b"pxe-sname")),
        (
            "option 51 = 1001 (msft)",
            any(&|_, r| opt(r, 51).as_deref() == Some(&1001u32.to_be_bytes())),
        ),
        (
            "option 128 (pxe-prefix)",
            any(&|_, r| opt(r, 128).is_some()),
        ),
        (
            "option 130 (reserved-class)",
            any(&|_, r| opt(r, 130).is_some()),
        ),
        ("option 131 (pool-req)", any(&|_, r| opt(r, 131).is_some())),
        (
            "domain 'required.example' (req-class)",
            any(&|_, r| opt(r, 15).as_deref() == Some(b"required.example")),
        ),
        (
            "dns 127.0.0.7 (known-clients)",
            any(&|_, r| opt(r, 6).as_deref() == Some(&[127, 0, 0, 7])),
        ),
        (
            "pool 127.16.1.0/24 (circuit-A)",
            any(&|_, r| r.yiaddr.octets()[..3] == [127, 16, 1]),
        ),
        (
            "pool 127.16.2.0/24 (not-circuit-A)",
            any(&|_, r| r.yiaddr.octets()[..3] == [127, 16, 2]),
        ),
        (
            "subnet 2 (Netboot)",
            any(&|_, r| r.yiaddr.octets()[1] == 17),
        ),
        (
            "subnet 3 (not-netboot)",
            any(&|_, r| r.yiaddr.octets()[1] == 18),
        ),
        (
            "never option 132 (never-required)",
            !any(&|_, r| opt(r, 132).is_some()),
        ),
    ];
    let missing: Vec<&str> = checks.iter().filter(|c| !c.1).map(|c| c.0).collect();
    assert!(
        missing.is_empty(),
        "Kea's answers do not exercise what the test is for, the test is wrong: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pxe_and_vendor_classes_match_kea_2_2() {
    if !ready("classes_oracle") {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let ns = Netns::new(&format!("tern-cl-{}", std::process::id()), &["127.0.0.2"]);

    let kdir = dir.path().join("kea");
    std::fs::create_dir(&kdir).unwrap();
    let conf = dhcp4(
        "lo/127.0.0.1",
        json!({ "type": "memfile", "persist": false, "lfc-interval": 0 }),
    );
    let path = kdir.join("kea-dhcp4.conf");
    std::fs::write(&path, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
    let mut kea = Kea::start_in_netns(ns.name(), &kdir, &path);

    let db = tern_store::testing::fresh_db().await;
    let conf = dhcp4("lo/127.0.0.2", pg_lease_db(&db).await);
    let path = dir.path().join("tern.json");
    std::fs::write(&path, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
    let data = dir.path().join("data");
    let mut tern = Tern::start_in_netns(
        ns.name(),
        &[
            "serve",
            "-c",
            path.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &dir.path().join("tern.log"),
    );
    kea.wait_for("DHCP4_STARTED", START);
    tern.wait_for("TERN_READY", START);
    eprintln!(
        "classes_oracle: servers ready after {:?}",
        started.elapsed()
    );

    // Both servers at once, each from its own relay addresses.
    let ns_name = ns.name().to_owned();
    let (kea_seen, tern_seen) = std::thread::scope(|sc| {
        let k = sc.spawn(|| run_clients(&ns_name, 1));
        let t = sc.spawn(|| run_clients(&ns_name, 2));
        (k.join().unwrap(), t.join().unwrap())
    });
    eprintln!(
        "classes_oracle: exchanges done after {:?}",
        started.elapsed()
    );
    kea.stop();
    tern.stop(Duration::from_secs(30));

    if std::env::var_os("CLASSES_ORACLE_DUMP").is_some() {
        let clients = Client::all();
        for (key, k) in &kea_seen {
            let t = &tern_seen[key];
            eprintln!("== {}", clients[key.1].label(key.0));
            for (who, s) in [("Kea", k), ("tern", t)] {
                for (msg, r) in [("OFFER", &s.offer), ("ACK", &s.ack)] {
                    if let Some(r) = r {
                        eprintln!("  {who} {msg}: {:?}", fields(r));
                    }
                }
                if let Some(f) = &s.failed {
                    eprintln!("  {who}: {f}");
                }
            }
        }
    }
    for s in kea_seen.values() {
        assert!(
            s.failed.is_none(),
            "Kea failed an exchange ({:?}), the oracle is broken:\n{}",
            s.failed,
            kea.log()
        );
    }
    check_oracle(&kea_seen);

    let clients = Client::all();
    let mut diffs: Vec<[String; 5]> = Vec::new();
    for (key, k) in &kea_seen {
        let (net, i) = *key;
        let t = &tern_seen[key];
        let case = clients[i].label(net);
        if k.failed != t.failed {
            diffs.push([
                case.clone(),
                "-".into(),
                "exchange".into(),
                k.failed.clone().unwrap_or("done".into()),
                t.failed.clone().unwrap_or("done".into()),
            ]);
        }
        for (msg, kr, tr) in [("OFFER", &k.offer, &t.offer), ("ACK", &k.ack, &t.ack)] {
            let (Some(kr), Some(tr)) = (kr, tr) else {
                continue;
            };
            let (kf, tf) = (fields(kr), fields(tr));
            let mut names: Vec<&String> = kf.keys().chain(tf.keys()).collect();
            names.sort();
            names.dedup();
            for name in names {
                let kv = kf.get(name).map_or("(absent)", String::as_str);
                let tv = tf.get(name).map_or("(absent)", String::as_str);
                if kv != tv {
                    diffs.push([case.clone(), msg.into(), name.clone(), kv.into(), tv.into()]);
                }
            }
        }
    }
    let compared = kea_seen.len();
    eprintln!(
        "classes_oracle: {compared} clients compared in {:?}",
        started.elapsed()
    );
    if !diffs.is_empty() {
        let mut table = String::from("client | message | field | Kea 2.2 | tern\n");
        for [case, msg, what, k, t] in &diffs {
            table.push_str(&format!("{case} | {msg} | {what} | {k} | {t}\n"));
        }
        // The same difference over many clients, counted once.
        let mut grouped: BTreeMap<(&str, &str, &str, &str), usize> = BTreeMap::new();
        for [_, msg, what, k, t] in &diffs {
            *grouped.entry((msg, what, k, t)).or_default() += 1;
        }
        let mut summary = String::from("clients | message | field | Kea 2.2 | tern\n");
        for ((msg, what, k, t), n) in grouped {
            summary.push_str(&format!("{n} | {msg} | {what} | {k} | {t}\n"));
        }
        panic!(
            "{} differences from Kea 2.2 in {compared} clients:\n{table}\nin short:\n{summary}",
            diffs.len()
        );
    }
    drop(ns);
}
