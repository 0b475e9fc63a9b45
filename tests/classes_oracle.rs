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
//!
//! `kea_s_class_examples_match_kea_2_2` does the same on Kea 2.2's own classification
//! examples, read from config/tests/fixtures/kea-2.2/kea4 (Kea's JSON with comments):
//! classify.json, classify2.json, vendor-specific.json and vivso.json, each run by its
//! own pair of servers in a namespace of its own, all four at once. Of each only what
//! ties it to a machine changes: the interfaces (the loopback), the lease database,
//! the addresses (192.0.X.Y becomes 127.0.X.Y; a pool of one address grows to 50, one
//! per client), the subnets' `interface` (`lo`) and the loggers (stdout, into the work
//! directory); every class, option and option definition stays as written. Clients,
//! relayed into each subnet of the example (from 127.0.X.251 for Kea, .252 for tern,
//! client `i` asking for 127.0.X.(100 + `i`) so pool guards, not allocators, pick the
//! pool): for classify*.json option 60 around `substring(option[60].hex,0,6) ==
//! 'Aastra'` (absent, 'Aastra6731i', 'Aastra', 'Aastr', 'aastra6731i', 'MSFT 5.0') ×
//! option 55 and 61 (a phone's, none) × option 82 (with, without), plus the
//! `special_snowflake` MAC and its neighbour, the hosts reserved with class VoIP or
//! (classify2.json) in the UNKNOWN/KNOWN subnet, and transaction id 0 (`broken`); for
//! vendor-specific.json option 60 around `VENDOR_CLASS_339` ('339', '339\0', '3390',
//! '33', 'Siemens 339', absent) × option 55 (asking for 43, not asking, none); for
//! vivso.json option 60 ('339', '3390', absent) × option 55 (asking for 125, not, none)
//! × option 125 sent (none, enterprise 339, 4491). Compared as above; one table of all
//! examples' differences.

mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use common::kea4::{
    enter_netns, hex, kea_json, option, packet, pg_lease_db, ready, receive, receive_batch, Kea,
    Reply,
};
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

/// An option's value as text: lifetimes in seconds, addresses dotted, options 43 and 82
/// as their sub-options, 125 as its enterprises' sub-options, printable strings quoted,
/// the rest in hex.
fn show_option(code: u8, v: &[u8]) -> String {
    let printable = |b: &[u8]| !b.is_empty() && b.iter().all(|c| (0x20..0x7f).contains(c));
    match code {
        51 | 58 | 59 if v.len() == 4 => u32::from_be_bytes(v.try_into().unwrap()).to_string(),
        1 | 3 | 6 | 28 | 54 if v.len().is_multiple_of(4) && !v.is_empty() => v
            .chunks(4)
            .map(|a| Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string())
            .collect::<Vec<_>>()
            .join(","),
        43 | 82 => suboptions(v, code == 82),
        // Per enterprise number (4 octets, then a length), its sub-options.
        125 => {
            let mut out = Vec::new();
            let mut i = 0;
            while i < v.len() {
                let (Some(e), Some(&len)) = (v.get(i..i + 4), v.get(i + 4)) else {
                    out.push(format!("<truncated {}>", hex(&v[i..])));
                    break;
                };
                let e = u32::from_be_bytes(e.try_into().unwrap());
                let Some(d) = v.get(i + 5..i + 5 + usize::from(len)) else {
                    out.push(format!("enterprise {e}: <overrun {}>", hex(&v[i + 5..])));
                    break;
                };
                out.push(format!("enterprise {e}: {}", suboptions(d, false)));
                i += 5 + usize::from(len);
            }
            out.join("; ")
        }
        _ if printable(v) => format!("'{}'", String::from_utf8_lossy(v)),
        _ => format!("[{}]", hex(v)),
    }
}

/// Sub-options (code, length, value) as `code:[hex]`, or `code:'text'` if `text` and
/// printable.
fn suboptions(v: &[u8], text: bool) -> String {
    let printable = |b: &[u8]| !b.is_empty() && b.iter().all(|c| (0x20..0x7f).contains(c));
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
        out.push(if printable(d) && text {
            format!("{c}:'{}'", String::from_utf8_lossy(d))
        } else {
            format!("{c}:[{}]", hex(d))
        });
        i += 2 + len;
    }
    out.join(" ")
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

/// How one client's exchange with tern differs from its exchange with Kea: (message,
/// field, Kea's value, tern's value), nothing when they agree.
fn compare(k: &Seen, t: &Seen) -> Vec<[String; 4]> {
    let mut out = Vec::new();
    if k.failed != t.failed {
        out.push([
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
                out.push([msg.into(), name.clone(), kv.into(), tv.into()]);
            }
        }
    }
    out
}

/// Panics with every difference (client, message, field, Kea's, tern's) as one table,
/// then the same grouped over clients, if there is any.
fn fail_on_differences(diffs: &[[String; 5]], compared: usize) {
    if diffs.is_empty() {
        return;
    }
    let mut table = String::from("client | message | field | Kea 2.2 | tern\n");
    for [case, msg, what, k, t] in diffs {
        table.push_str(&format!("{case} | {msg} | {what} | {k} | {t}\n"));
    }
    // The same difference over many clients, counted once.
    let mut grouped: BTreeMap<(&str, &str, &str, &str), usize> = BTreeMap::new();
    for [_, msg, what, k, t] in diffs {
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
        let case = clients[i].label(net);
        for [msg, what, kv, tv] in compare(k, &tern_seen[key]) {
            diffs.push([case.clone(), msg, what, kv, tv]);
        }
    }
    let compared = kea_seen.len();
    eprintln!(
        "classes_oracle: {compared} clients compared in {:?}",
        started.elapsed()
    );
    fail_on_differences(&diffs, compared);
    drop(ns);
}

// ---------------------------------------------------------------------------------------
// Kea 2.2's own classification examples (`kea_s_class_examples_match_kea_2_2`).

/// Kea 2.2's example configurations, as the project keeps them (unchanged, for the
/// config crate's tests).
const KEA_EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/config/tests/fixtures/kea-2.2/kea4"
);
/// How long a relay waits for the OFFERs to its burst of DISCOVERs (one per client).
const WAVE: Duration = Duration::from_secs(2);

/// What a phone asks for: the vendor options (43, 125) and boot servers among them.
const PHONE_PRL: &[u8] = &[1, 3, 6, 12, 15, 28, 42, 43, 66, 67, 125, 150];
/// What a desktop asks for: neither 43 nor 125.
const PLAIN_PRL: &[u8] = &[1, 3, 6, 12, 15, 28, 51, 58, 59];

/// A client of the examples' matrix.
#[derive(Debug, Clone)]
struct ExClient {
    /// Its chaddr; `None`: one of its own in each network it is relayed into.
    mac: Option<[u8; 6]>,
    /// Option 60.
    vendor: Option<&'static [u8]>,
    /// Option 55.
    prl: Option<&'static [u8]>,
    /// Option 61 (type 1, the MAC).
    client_id: bool,
    /// Transaction id 0 in both its messages (the examples' `broken` class).
    xid_zero: bool,
    /// The relay adds option 82 (circuit id "circuit-A").
    circuit: bool,
    /// Further options as sent (code, value).
    extra: &'static [(u8, &'static [u8])],
    /// What it is there for, if anything but the matrix.
    note: &'static str,
}

const BASE: ExClient = ExClient {
    mac: None,
    vendor: None,
    prl: Some(PHONE_PRL),
    client_id: true,
    xid_zero: false,
    circuit: false,
    extra: &[],
    note: "",
};

impl ExClient {
    fn mac_in(&self, example: usize, relay: usize, index: usize) -> [u8; 6] {
        self.mac
            .unwrap_or([0x02, 0xe0 | example as u8, relay as u8, index as u8, 0, 1])
    }

    fn label(&self) -> String {
        let text = |b: &[u8]| {
            b.iter()
                .flat_map(|&c| std::ascii::escape_default(c))
                .map(char::from)
                .collect::<String>()
        };
        let mut out = vec![
            self.mac
                .map_or("mac=own".into(), |m| format!("mac={}", hex(&m))),
            self.vendor
                .map_or("60=-".into(), |v| format!("60='{}'", text(v))),
            match self.prl {
                Some(PHONE_PRL) => "55=phone".into(),
                Some(PLAIN_PRL) => "55=plain".into(),
                Some(p) => format!("55={p:?}"),
                None => "55=-".into(),
            },
            if self.client_id { "61" } else { "61=-" }.into(),
        ];
        if self.xid_zero {
            out.push("xid=0".into());
        }
        if self.circuit {
            out.push("82=circuit-A".into());
        }
        for (code, v) in self.extra {
            out.push(format!("{code}=[{}]", hex(v)));
        }
        if !self.note.is_empty() {
            out.push(format!("({})", self.note));
        }
        out.join(" ")
    }

    /// Its options but 53 (and, in a REQUEST, 50 and 54).
    fn options(&self, mac: [u8; 6]) -> Vec<u8> {
        let mut o = Vec::new();
        if let Some(p) = self.prl {
            o.extend(option(55, p));
        }
        if self.client_id {
            let mut id = vec![1];
            id.extend(mac);
            o.extend(option(61, &id));
        }
        if let Some(v) = self.vendor {
            o.extend(option(60, v));
        }
        for (code, v) in self.extra {
            o.extend(option(*code, v));
        }
        if self.circuit {
            let mut sub = vec![1, CIRCUIT.len() as u8];
            sub.extend(CIRCUIT);
            o.extend(option(82, &sub));
        }
        o
    }
}

/// Every combination of option 60 × option 55 (a client without one sends no option 61
/// either) × option 82 × further options.
fn matrix(
    vendors: &[Option<&'static [u8]>],
    prls: &[Option<&'static [u8]>],
    circuits: &[bool],
    extras: &[&'static [(u8, &'static [u8])]],
) -> Vec<ExClient> {
    let mut out = Vec::new();
    for &vendor in vendors {
        for &prl in prls {
            for &circuit in circuits {
                for &extra in extras {
                    out.push(ExClient {
                        vendor,
                        prl,
                        client_id: prl.is_some(),
                        circuit,
                        extra,
                        ..BASE
                    });
                }
            }
        }
    }
    out
}

/// Each (relay, client) to what happened.
type Outcome = BTreeMap<(usize, usize), Seen>;

/// One of Kea's example files and the clients run against it.
struct Example {
    file: &'static str,
    /// The networks clients are relayed into: (label, X of the example's 192.0.X.0,
    /// re-addressed to 127.0.X.0; the relay is 127.0.X.251 for Kea, .252 for tern).
    relays: &'static [(&'static str, u8)],
    clients: Vec<ExClient>,
    /// What Kea's answers must show for the comparison to prove something.
    checks: fn(&Example, &Outcome) -> Vec<(&'static str, bool)>,
}

impl Example {
    /// What client `mac` (a fixed one) got in relay `relay`'s network.
    fn seen<'a>(&self, o: &'a Outcome, relay: usize, mac: [u8; 6]) -> &'a Seen {
        let i = self
            .clients
            .iter()
            .position(|c| c.mac == Some(mac))
            .expect("a client of the example");
        &o[&(relay, i)]
    }
}

/// Whether some ACK (in relay `relay`'s network, or any) satisfies `p`.
fn any_ack(o: &Outcome, relay: Option<usize>, p: impl Fn(&Reply) -> bool) -> bool {
    o.iter()
        .filter(|((r, _), _)| relay.is_none_or(|x| x == *r))
        .filter_map(|(_, s)| s.ack.as_ref())
        .any(p)
}

fn in_24(r: &Reply, x: u8) -> bool {
    r.yiaddr.octets()[..3] == [127, 0, x]
}

fn sub_option(v: &[u8], code: u8) -> Option<&[u8]> {
    let mut i = 0;
    while i + 1 < v.len() {
        let len = usize::from(v[i + 1]);
        let d = v.get(i + 2..i + 2 + len)?;
        if v[i] == code {
            return Some(d);
        }
        i += 2 + len;
    }
    None
}

const SNOWFLAKE: [u8; 6] = [1, 2, 3, 4, 5, 6];
const VOIP_RESERVED: [u8; 6] = [0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f];
/// Option 60 around classify*.json's `substring(option[60].hex,0,6) == 'Aastra'`.
const AASTRA: [Option<&[u8]>; 6] = [
    None,
    Some(b"Aastra6731i"),
    Some(b"Aastra"),
    Some(b"Aastr"),
    Some(b"aastra6731i"),
    Some(b"MSFT 5.0"),
];
/// Option 125 as a client sends it: enterprise 339 (the examples' vendor) or 4491
/// (CableLabs), no sub-options.
const VIVSO_339: &[u8] = &[0, 0, 0x01, 0x53, 0];
const VIVSO_4491: &[u8] = &[0, 0, 0x11, 0x8b, 0];

/// The checks classify.json and classify2.json share.
fn voip_checks(ex: &Example, o: &Outcome) -> Vec<(&'static str, bool)> {
    let voip = |r: &Reply| {
        r.siaddr == Ipv4Addr::new(192, 0, 2, 254) && r.sname == b"hal9000" && r.file == b"/dev/null"
    };
    vec![
        (
            "VoIP's siaddr 192.0.2.254, sname hal9000, file /dev/null",
            any_ack(o, None, voip),
        ),
        (
            "served in 192.0.2.0/24 (VoIP only)",
            any_ack(o, Some(0), |_| true),
        ),
        (
            "dropped in 192.0.2.0/24 (VoIP only)",
            o.iter()
                .any(|((r, _), s)| *r == 0 && s.failed.as_deref() == Some("no OFFER")),
        ),
        (
            "no VoIP fields for some in 192.0.3.0/24",
            any_ack(o, Some(1), |r| !voip(r)),
        ),
        (
            "VoIP by reservation for 1a:1b:1c:1d:1e:1f in 192.0.3.0/24",
            ex.seen(o, 1, VOIP_RESERVED).ack.as_ref().is_some_and(voip),
        ),
        ("VoIP pool 192.0.4.x", any_ack(o, Some(2), |r| in_24(r, 4))),
        ("open pool 192.0.5.x", any_ack(o, Some(2), |r| in_24(r, 5))),
    ]
}

fn examples() -> Vec<Example> {
    let voip_specials = |more: Vec<ExClient>| {
        let mut v = matrix(&AASTRA, &[Some(PHONE_PRL), None], &[false, true], &[&[]]);
        v.push(ExClient {
            mac: Some(VOIP_RESERVED),
            note: "reserved with class VoIP in 192.0.3.0/24",
            ..BASE
        });
        v.push(ExClient {
            vendor: Some(b"Aastra6731i"),
            client_id: false,
            xid_zero: true,
            note: "broken",
            ..BASE
        });
        v.push(ExClient {
            prl: Some(PLAIN_PRL),
            xid_zero: true,
            note: "broken",
            ..BASE
        });
        v.extend(more);
        v
    };
    let reserved = |mac: [u8; 6], vendor, prl: Option<&'static [u8]>, circuit| ExClient {
        mac: Some(mac),
        vendor,
        prl,
        client_id: prl.is_some(),
        circuit,
        note: "reserved in 192.0.8.0/23",
        ..BASE
    };
    vec![
        Example {
            file: "classify.json",
            relays: &[
                ("192.0.2.0/24 (VoIP)", 2),
                ("192.0.3.0/24", 3),
                ("192.0.4.0/23", 4),
            ],
            clients: voip_specials(vec![
                ExClient {
                    mac: Some(SNOWFLAKE),
                    prl: Some(PLAIN_PRL),
                    note: "special_snowflake",
                    ..BASE
                },
                ExClient {
                    mac: Some([1, 2, 3, 4, 5, 7]),
                    prl: Some(PLAIN_PRL),
                    note: "not special_snowflake",
                    ..BASE
                },
            ]),
            checks: |ex, o| {
                let mut c = voip_checks(ex, o);
                let dns = |s: &Seen| s.ack.as_ref().and_then(|a| a.options.get(&6).cloned());
                c.push((
                    "DNS 127.0.0.1 for 01:02:03:04:05:06 (special_snowflake)",
                    dns(ex.seen(o, 1, SNOWFLAKE)) == Some(vec![127, 0, 0, 1]),
                ));
                c.push((
                    "no DNS for 01:02:03:04:05:07",
                    ex.seen(o, 1, [1, 2, 3, 4, 5, 7]).ack.is_some()
                        && dns(ex.seen(o, 1, [1, 2, 3, 4, 5, 7])).is_none(),
                ));
                c
            },
        },
        Example {
            file: "classify2.json",
            relays: &[
                ("192.0.2.0/24 (VoIP)", 2),
                ("192.0.3.0/24 (second_subnet)", 3),
                ("192.0.4.0/23", 4),
                ("192.0.8.0/23 (UNKNOWN/KNOWN)", 8),
            ],
            clients: voip_specials(vec![
                reserved(
                    [0, 0, 0, 0x11, 0x22, 0x33],
                    Some(b"Aastra6731i"),
                    Some(PHONE_PRL),
                    false,
                ),
                reserved([0, 0, 0, 0x44, 0x55, 0x66], None, Some(PHONE_PRL), false),
                reserved(
                    [0, 0, 0, 0x77, 0x88, 0x99],
                    Some(b"MSFT 5.0"),
                    Some(PLAIN_PRL),
                    true,
                ),
                reserved([0, 0, 0, 0xaa, 0xbb, 0xcc], Some(b"Aastra"), None, false),
            ]),
            checks: |ex, o| {
                let mut c = voip_checks(ex, o);
                let dns = |r: &Reply| r.options.get(&6).map(Vec::as_slice) == Some(&[127, 0, 0, 1]);
                c.push((
                    "DNS 127.0.0.1 (second_subnet) for all in 192.0.3.0/24",
                    any_ack(o, Some(1), |_| true) && !any_ack(o, Some(1), |r| !dns(r)),
                ));
                c.push((
                    "no DNS in 192.0.4.0/23",
                    !any_ack(o, Some(2), |r| r.options.contains_key(&6)),
                ));
                c.push((
                    "UNKNOWN pool 192.0.8.x",
                    any_ack(o, Some(3), |r| in_24(r, 8)),
                ));
                c.push(("KNOWN pool 192.0.9.x", any_ack(o, Some(3), |r| in_24(r, 9))));
                c
            },
        },
        Example {
            file: "vendor-specific.json",
            relays: &[("192.0.2.0/24", 2)],
            clients: {
                let mut v = matrix(
                    &[
                        None,
                        Some(b"339"),
                        Some(b"339\0"),
                        Some(b"3390"),
                        Some(b"33"),
                        Some(b"Siemens 339"),
                    ],
                    &[Some(PHONE_PRL), Some(PLAIN_PRL), None],
                    &[false],
                    &[&[]],
                );
                v.push(ExClient {
                    vendor: Some(b"339"),
                    circuit: true,
                    ..BASE
                });
                v
            },
            checks: |_, o| {
                let o43 = |r: &Reply| {
                    r.options.get(&43).is_some_and(|v| {
                        sub_option(v, 2) == Some(&[0, 0, 0, 123])
                            && sub_option(v, 3) == Some(b"sdlp://192.0.2.11:18443")
                    })
                };
                vec![
                    ("option 43 with vlanid 123 and dls", any_ack(o, None, o43)),
                    (
                        "no option 43 for some",
                        any_ack(o, None, |r| !r.options.contains_key(&43)),
                    ),
                ]
            },
        },
        Example {
            file: "vivso.json",
            relays: &[("192.0.2.0/24", 2)],
            clients: matrix(
                &[None, Some(b"339"), Some(b"3390")],
                &[Some(PHONE_PRL), Some(PLAIN_PRL), None],
                &[false],
                &[&[], &[(125, VIVSO_339)], &[(125, VIVSO_4491)]],
            ),
            checks: |_, o| {
                vec![
                    (
                        "option 125",
                        any_ack(o, None, |r| r.options.contains_key(&125)),
                    ),
                    (
                        "no option 125 for some",
                        any_ack(o, None, |r| !r.options.contains_key(&125)),
                    ),
                ]
            },
        },
    ]
}

/// `ex.file`'s Dhcp4 section with what ties it to a machine replaced: interfaces (the
/// namespace's loopback, `iface`), the lease database (`lease_db`), subnets and pools
/// (192.0.X.Y becomes 127.0.X.Y; a pool of one address grows to 50, one per client),
/// the subnets' `interface` (`lo`) and the loggers (stdout, which goes to the work
/// directory). Classes, options and option definitions stay as written.
fn localize(ex: &Example, iface: &str, lease_db: Value) -> Value {
    let path = format!("{KEA_EXAMPLES}/{}", ex.file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut root = kea_json(&text);
    let d = root["Dhcp4"].as_object_mut().expect("a Dhcp4 section");
    let readdress = |v: &mut Value| {
        let s = v.as_str().expect("an address string");
        assert!(
            s.trim_start().starts_with("192.0."),
            "{}: {s} is not in 192.0.0.0/16",
            ex.file
        );
        *v = Value::from(s.replace("192.0.", "127.0."));
    };
    let mut subnets: Vec<&mut Value> = Vec::new();
    let (mut plain, mut shared) = (None, None);
    for (k, v) in d.iter_mut() {
        match k.as_str() {
            "subnet4" => plain = Some(v),
            "shared-networks" => shared = Some(v),
            _ => {}
        }
    }
    subnets.extend(
        plain
            .into_iter()
            .flat_map(|v| v.as_array_mut().unwrap().iter_mut()),
    );
    for n in shared
        .into_iter()
        .flat_map(|v| v.as_array_mut().unwrap().iter_mut())
    {
        if let Some(s) = n.get_mut("subnet4") {
            subnets.extend(s.as_array_mut().unwrap().iter_mut());
        }
    }
    for s in subnets {
        readdress(&mut s["subnet"]);
        if s.get("interface").is_some() {
            s["interface"] = json!("lo");
        }
        for p in s
            .get_mut("pools")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            readdress(&mut p["pool"]);
            let range = p["pool"].as_str().unwrap().to_owned();
            if let Some((a, b)) = range.split_once('-') {
                if a.trim() == b.trim() {
                    let a: Ipv4Addr = a.trim().parse().unwrap();
                    let b = Ipv4Addr::from(u32::from(a) + 49);
                    p["pool"] = json!(format!("{a} - {b}"));
                }
            }
        }
        for h in s
            .get_mut("reservations")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if h.get("ip-address").is_some() {
                readdress(&mut h["ip-address"]);
            }
        }
    }
    d.insert(
        "interfaces-config".into(),
        json!({ "interfaces": [ iface ], "dhcp-socket-type": "udp" }),
    );
    d.insert("lease-database".into(), lease_db);
    d.insert(
        "loggers".into(),
        json!([ { "name": "kea-dhcp4", "severity": "INFO",
                  "output_options": [ { "output": "stdout" } ] } ]),
    );
    root
}

/// Runs example `e`'s clients against the server at 127.0.0.`host`, network by network
/// from relay 127.0.X.(250 + `host`), client `i` asking for 127.0.X.(100 + `i`): a
/// burst of DISCOVERs, then one DORA after the other for the clients answered. (Not
/// DORAs in a burst: there the servers' allocators would decide, not their classes.)
fn run_example(ns: &str, e: usize, ex: &Example, host: u8) -> Outcome {
    enter_netns(ns);
    let server = (Ipv4Addr::new(127, 0, 0, host), 67);
    let mut out = Outcome::new();
    let mut xid = u32::from(host) << 24 | (e as u32) << 16;
    for (r, &(_, octet)) in ex.relays.iter().enumerate() {
        let giaddr = Ipv4Addr::new(127, 0, octet, 250 + host);
        let sock = UdpSocket::bind((giaddr, 67)).expect("bind the relay's port 67");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let keys: Vec<(u32, [u8; 6])> = ex
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| {
                xid += 1;
                (if c.xid_zero { 0 } else { xid }, c.mac_in(e, r, i))
            })
            .collect();
        // Each asks for an address of its own in the network's first /24 (so a pool's
        // guard, not the allocator, decides which pool it gets).
        let hints: Vec<Ipv4Addr> = (0..ex.clients.len())
            .map(|i| Ipv4Addr::new(127, 0, octet, 100 + i as u8))
            .collect();
        // First a burst of DISCOVERs, only to learn which clients the server answers at
        // all: then the clients it drops cost one wait together.
        for (i, c) in ex.clients.iter().enumerate() {
            assert!(!keys[..i].contains(&keys[i]), "two clients {:?}", keys[i]);
            let (x, mac) = keys[i];
            let mut opts = option(50, &hints[i].octets());
            opts.extend(c.options(mac));
            sock.send_to(&packet(1, x, giaddr, mac, &opts), server)
                .unwrap();
        }
        let probe = receive_batch(&sock, &keys, &[2], WAVE);
        if std::env::var_os("CLASSES_ORACLE_DUMP").is_some() {
            for (i, k) in keys.iter().enumerate() {
                let offered = probe.get(k).map(|o| o.yiaddr);
                eprintln!(
                    "{} 127.0.0.{host} {r} {i}: burst OFFER {offered:?}",
                    ex.file
                );
            }
        }
        for (i, c) in ex.clients.iter().enumerate() {
            let seen = if probe.contains_key(&keys[i]) {
                dora_one(
                    &sock,
                    server,
                    giaddr,
                    keys[i],
                    &c.options(keys[i].1),
                    hints[i],
                )
            } else {
                Seen {
                    failed: Some("no OFFER".into()),
                    ..Seen::default()
                }
            };
            out.insert((r, i), seen);
        }
    }
    out
}

/// One DORA, relayed from `giaddr`, of the client `key` (xid, chaddr) sending `opts` and
/// asking for `hint` in its DISCOVER. Apart from an xid of 0, it uses a fresh xid.
fn dora_one(
    sock: &UdpSocket,
    server: (Ipv4Addr, u16),
    giaddr: Ipv4Addr,
    (xid, mac): (u32, [u8; 6]),
    opts: &[u8],
    hint: Ipv4Addr,
) -> Seen {
    let key = (if xid == 0 { 0 } else { xid | 0x8000 }, mac);
    let mut discover = option(50, &hint.octets());
    discover.extend(opts);
    sock.send_to(&packet(1, key.0, giaddr, mac, &discover), server)
        .unwrap();
    let Some(offer) = receive_batch(sock, &[key], &[2], REPLY).remove(&key) else {
        return Seen {
            failed: Some("no OFFER".into()),
            ..Seen::default()
        };
    };
    let mut req = option(50, &offer.yiaddr.octets());
    req.extend(option(
        54,
        offer.options.get(&54).map_or(&[][..], Vec::as_slice),
    ));
    req.extend(opts);
    sock.send_to(&packet(3, key.0, giaddr, mac, &req), server)
        .unwrap();
    let ack = receive_batch(sock, &[key], &[5, 6], REPLY).remove(&key);
    let failed = match &ack {
        None => Some("no ACK".to_owned()),
        Some(a) if a.options.get(&53).map(Vec::as_slice) == Some(&[6]) => Some("NAK".to_owned()),
        Some(_) => None,
    };
    Seen {
        offer: Some(offer),
        ack,
        failed,
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// One example's two servers, in a namespace of its own (dropped in this order:
/// processes by PID, the database, then the namespace).
struct ExampleRun {
    kea: Kea,
    tern: Tern,
    _db: tern_store::testing::TestDb,
    ns: Netns,
}

#[tokio::test(flavor = "multi_thread")]
async fn kea_s_class_examples_match_kea_2_2() {
    if !ready("classes_oracle") {
        return;
    }
    let started = Instant::now();
    let examples = examples();
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for (e, ex) in examples.iter().enumerate() {
        let ns = Netns::new(
            &format!("tern-cx{e}-{}", std::process::id()),
            &["127.0.0.2"],
        );
        let edir = dir.path().join(ex.file.trim_end_matches(".json"));
        let kdir = edir.join("kea");
        std::fs::create_dir_all(&kdir).unwrap();
        let conf = localize(
            ex,
            "lo/127.0.0.1",
            json!({ "type": "memfile", "persist": false, "lfc-interval": 0 }),
        );
        let path = kdir.join("kea-dhcp4.conf");
        std::fs::write(&path, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
        let kea = Kea::start_in_netns(ns.name(), &kdir, &path);

        let db = tern_store::testing::fresh_db().await;
        let conf = localize(ex, "lo/127.0.0.2", pg_lease_db(&db).await);
        let path = edir.join("tern.json");
        std::fs::write(&path, serde_json::to_string_pretty(&conf).unwrap()).unwrap();
        let data = edir.join("data");
        let tern = Tern::start_in_netns(
            ns.name(),
            &[
                "serve",
                "-c",
                path.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ],
            &edir.join("tern.log"),
        );
        runs.push(ExampleRun {
            kea,
            tern,
            _db: db,
            ns,
        });
    }
    for run in &mut runs {
        run.kea.wait_for("DHCP4_STARTED", START);
        run.tern.wait_for("TERN_READY", START);
    }
    eprintln!(
        "classes_oracle examples: servers ready after {:?}",
        started.elapsed()
    );

    // Every example at once, each server from its own relay addresses.
    let seen: Vec<(Outcome, Outcome)> = std::thread::scope(|sc| {
        let handles: Vec<_> = examples
            .iter()
            .zip(&runs)
            .enumerate()
            .map(|(e, (ex, run))| {
                let ns = run.ns.name();
                (
                    sc.spawn(move || run_example(ns, e, ex, 1)),
                    sc.spawn(move || run_example(ns, e, ex, 2)),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(k, t)| (k.join().unwrap(), t.join().unwrap()))
            .collect()
    });
    eprintln!(
        "classes_oracle examples: exchanges done after {:?}",
        started.elapsed()
    );
    for run in &mut runs {
        run.kea.stop();
        run.tern.stop(Duration::from_secs(30));
    }

    let dump = std::env::var_os("CLASSES_ORACLE_DUMP").is_some();
    let mut diffs: Vec<[String; 5]> = Vec::new();
    let mut compared = 0;
    for ((ex, run), (kea_seen, tern_seen)) in examples.iter().zip(&runs).zip(&seen) {
        let case = |&(r, i): &(usize, usize)| {
            format!(
                "{} | {} | {}",
                ex.file,
                ex.relays[r].0,
                ex.clients[i].label()
            )
        };
        if dump {
            for (key, k) in kea_seen {
                eprintln!("== {}", case(key));
                for (who, s) in [("Kea", k), ("tern", &tern_seen[key])] {
                    for (msg, r) in [("OFFER", &s.offer), ("ACK", &s.ack)] {
                        if let Some(r) = r {
                            eprintln!("  {who} {msg} {}: {:?}", r.yiaddr, fields(r));
                        }
                    }
                    if let Some(f) = &s.failed {
                        eprintln!("  {who}: {f}");
                    }
                }
            }
        }
        let missing: Vec<&str> = (ex.checks)(ex, kea_seen)
            .into_iter()
            .filter(|c| !c.1)
            .map(|c| c.0)
            .collect();
        assert!(
            missing.is_empty(),
            "{}: Kea's answers do not show what the clients are there to exercise, the \
             test is wrong: {missing:?}\nthe end of Kea's log:\n{}",
            ex.file,
            tail(&run.kea.log(), 40)
        );
        for (key, k) in kea_seen {
            for [msg, what, kv, tv] in compare(k, &tern_seen[key]) {
                diffs.push([case(key), msg, what, kv, tv]);
            }
        }
        compared += kea_seen.len();
    }
    eprintln!(
        "classes_oracle examples: {compared} clients compared in {:?}",
        started.elapsed()
    );
    fail_on_differences(&diffs, compared);
}
