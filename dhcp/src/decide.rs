//! Pure decisions, no I/O: which subnet serves a client, what state a DHCPREQUEST
//! comes from, which reservation applies, which timers and options go into a reply,
//! and where the reply is sent. The engine calls these around its store queries;
//! tests and the fuzz target call them directly.

use std::net::Ipv4Addr;

use crate::config::{ClassDef, Host, LeaseTimes, OptionSet, Pool, ServerConfig, Subnet};
use crate::packet::{Reply, ReplyKind, Request};
use crate::request::{self, request_state, Facts, Refusal, Row, Verdict};

pub use crate::packet::Ingress;

/// Picks the subnet for a request, as Kea does for DHCPv4:
/// 1. relayed (giaddr set): the subnet listing giaddr in `relay.ip-addresses`, else the
///    subnet containing giaddr;
/// 2. option 118 (subnet selection, RFC 3011) when sent: the subnet containing it;
/// 3. a client with an address (ciaddr set: renewing, rebinding, informing): the subnet
///    containing ciaddr;
/// 4. otherwise the subnet bound to the ingress `interface`, else the subnet containing
///    the server's address on that interface.
///
/// Only subnets whose class guards (theirs and their network's) admit the packet's
/// classes are candidates.
pub fn select_subnet<'c>(
    cfg: &'c ServerConfig,
    req: &Request,
    ingress: &Ingress,
) -> Option<&'c Subnet> {
    let admitted = || cfg.subnets.iter().filter(|s| s.admits(&req.classes));
    let containing = |a: Ipv4Addr| admitted().find(|s| s.prefix.contains(a));
    if !req.giaddr.is_unspecified() {
        return admitted()
            .find(|s| s.relays.contains(&req.giaddr))
            .or_else(|| containing(req.giaddr));
    }
    if let Some(sel) = req.subnet_selection {
        return containing(sel);
    }
    if !req.ciaddr.is_unspecified() {
        if let Some(s) = containing(req.ciaddr) {
            return Some(s);
        }
    }
    admitted()
        .find(|s| s.interface.as_deref() == Some(ingress.iface.as_str()))
        .or_else(|| containing(ingress.addr))
}

/// The lease times for a client of `subnet` in these classes: the first class with a
/// `valid-lifetime` replaces the subnet's (with its own min and max), as Kea does.
pub fn times_for(subnet: &Subnet, classes: &[&ClassDef]) -> LeaseTimes {
    let mut t = subnet.times;
    // Kea's bootp hook: a BOOTP client's lease never expires (RFC 951 has no lease).
    if classes.iter().any(|c| c.name == "BOOTP") {
        return LeaseTimes {
            valid: u32::MAX,
            min_valid: Some(u32::MAX),
            max_valid: Some(u32::MAX),
            renew: None,
            rebind: None,
            calculate: false,
            ..t
        };
    }
    if let Some((valid, min, max)) = classes.iter().find_map(|c| c.valid) {
        t.valid = valid;
        t.min_valid = min;
        t.max_valid = max;
    }
    t
}

/// Valid lifetime, T1 and T2 for a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Valid lifetime (option 51).
    pub valid: u32,
    /// T1 (option 58), when sent.
    pub t1: Option<u32>,
    /// T2 (option 59), when sent.
    pub t2: Option<u32>,
}

/// Kea's rules: `renew-timer`/`rebind-timer` when set; otherwise, with
/// `calculate-tee-times`, T1 = valid × t1-percent and T2 = valid × t2-percent. T2 is
/// sent only when below the lifetime, T1 only when below T2 (or the lifetime).
pub fn lifetimes(t: &LeaseTimes) -> Lifetimes {
    lifetimes_for(t, None)
}

/// [`lifetimes`] with the client's wish (option 51): honoured within
/// `min-valid-lifetime`..`max-valid-lifetime` (each defaulting to `valid-lifetime`,
/// so without them the configured lifetime is given), as Kea does.
pub fn lifetimes_for(t: &LeaseTimes, hint: Option<u32>) -> Lifetimes {
    let valid = match hint {
        Some(h) => {
            let lo = t.min_valid.unwrap_or(t.valid);
            let hi = t.max_valid.unwrap_or(t.valid).max(lo);
            h.clamp(lo, hi)
        }
        None => t.valid,
    };
    let (mut t1, mut t2) = (t.renew, t.rebind);
    if t.calculate {
        if t1.is_none() {
            // Rounded, as Kea does.
            t1 = Some((f64::from(valid) * t.t1_percent).round() as u32);
        }
        if t2.is_none() {
            t2 = Some((f64::from(valid) * t.t2_percent).round() as u32);
        }
    }
    let t2 = t2.filter(|t2| *t2 < valid);
    let t1 = t1.filter(|t1| *t1 < t2.unwrap_or(valid));
    Lifetimes { valid, t1, t2 }
}

/// The identifiers a client can be recognised by, in the configured order (Kea's
/// `host-reservation-identifiers`): hw-address = chaddr, client-id = option 61,
/// duid = the DUID inside an RFC 4361 client id (type 255), circuit-id = option 82
/// sub-option 1.
pub fn client_identifiers(req: &Request, order: &[i16]) -> Vec<(i16, Vec<u8>)> {
    let mut out = Vec::new();
    for t in order {
        let v = match t {
            0 if !req.chaddr.is_empty() => Some(req.chaddr.clone()),
            1 => req
                .client_id
                .as_ref()
                .filter(|c| c.len() > 5 && c[0] == 255)
                .map(|c| c[5..].to_vec()),
            2 => req.circuit_id.clone(),
            3 => req.client_id.clone(),
            _ => None,
        };
        if let Some(v) = v {
            out.push((*t, v));
        }
    }
    out
}

/// The configuration's reservation for these identifiers: the subnet's, then (with
/// `reservations-global`) the global ones.
pub fn config_host<'c>(
    cfg: &'c ServerConfig,
    subnet: &'c Subnet,
    ids: &[(i16, Vec<u8>)],
) -> Option<&'c Host> {
    let find = |hosts: &'c [Host]| {
        ids.iter()
            .find_map(|id| hosts.iter().find(|h| &h.identifier == id))
    };
    let mode = subnet.reservations_mode;
    (if mode.in_subnet {
        find(&subnet.hosts)
    } else {
        None
    })
    .or_else(|| {
        if mode.global {
            find(&cfg.global_hosts)
        } else {
            None
        }
    })
}

/// The subnet a DHCPREQUEST for `address` is served in: the subnet of `selected`'s
/// shared network containing the address, else `selected` itself (and the address is
/// on the wrong network).
pub fn serving_subnet<'c>(
    cfg: &'c ServerConfig,
    selected: &'c Subnet,
    address: Ipv4Addr,
) -> &'c Subnet {
    cfg.network_of(selected)
        .into_iter()
        .find(|s| s.prefix.contains(address))
        .unwrap_or(selected)
}

/// Whether the configuration reserves `a` in `subnet` for a client with none of `ids`.
pub fn config_reserved_for_other(subnet: &Subnet, a: Ipv4Addr, ids: &[(i16, Vec<u8>)]) -> bool {
    subnet
        .hosts
        .iter()
        .any(|h| h.address == Some(a) && !ids.contains(&h.identifier))
}

/// A starting point in the pools for this client, so that concurrent allocators
/// (and servers) start their search in different places, and a client starts in the
/// same place every time.
pub fn start_offset(req: &Request) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let id = req.client_id.as_deref().unwrap_or(&req.chaddr);
    for b in id {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// The options Kea sends whether asked or not, when configured: routers,
/// domain-name-servers, domain-name.
const ALWAYS: [u8; 3] = [3, 6, 15];

/// What a reply carries besides the message type.
pub struct ReplyPlan<'a> {
    /// The request.
    pub req: &'a Request,
    /// OFFER, ACK or NAK.
    pub kind: ReplyKind,
    /// The server identifier.
    pub server_id: Ipv4Addr,
    /// The subnet (None for a NAK outside any subnet).
    pub subnet: Option<&'a Subnet>,
    /// The pool the address is from.
    pub pool: Option<&'a Pool>,
    /// The client's reservation.
    pub host: Option<&'a Host>,
    /// The address (yiaddr); unspecified for NAK and INFORM.
    pub yiaddr: Ipv4Addr,
    /// Lease timers (None for NAK and INFORM).
    pub lifetimes: Option<Lifetimes>,
    /// Host name to send in option 12.
    pub hostname: Option<&'a str>,
    /// DHCPNAK text (option 56).
    pub message: Option<&'a str>,
    /// Option 81 for the reply (RFC 4702).
    pub client_fqdn: Option<&'a [u8]>,
    /// Send option 61 back (RFC 6842).
    pub echo_client_id: bool,
    /// Global options.
    pub global: &'a OptionSet,
    /// The packet's classes' definitions, in the order it joined them.
    pub classes: &'a [&'a ClassDef],
}

/// Builds the reply: options in Kea's order (server identifier, lease time, T1, T2,
/// subnet mask, then routers/DNS/domain name, then what the client asked for in
/// option 55, then `always-send` options, relay agent information echoed last),
/// values taken from the most specific scope, in Kea's precedence: host, pool, subnet,
/// shared network, the classes (the first joined first), global. Boot fields: host,
/// then the first class setting each, then the subnet (with what it inherits).
pub fn build_reply(p: &ReplyPlan<'_>) -> Reply {
    let req = p.req;
    let mut options: Vec<(u8, Vec<u8>)> = vec![(54, p.server_id.octets().to_vec())];
    let mut siaddr = Ipv4Addr::UNSPECIFIED;
    let (mut sname, mut file) = (None, None);
    if p.kind != ReplyKind::Nak {
        if let Some(l) = p.lifetimes {
            options.push((51, l.valid.to_be_bytes().to_vec()));
            if let Some(t1) = l.t1 {
                options.push((58, t1.to_be_bytes().to_vec()));
            }
            if let Some(t2) = l.t2 {
                options.push((59, t2.to_be_bytes().to_vec()));
            }
        }
        let mut set = p.global.clone();
        for c in p.classes.iter().rev() {
            set = set.overlay(&c.options);
        }
        if let Some(s) = p.subnet {
            set = set.overlay(&s.options);
            // Subnet mask from the prefix unless configured (RFC 2131 §3.3 asks for it).
            set.map
                .entry(1)
                .or_insert_with(|| (s.prefix.mask().octets().to_vec(), false));
        }
        if let Some(pool) = p.pool {
            set = set.overlay(&pool.options);
        }
        if let Some(h) = p.host {
            set = set.overlay(&h.options);
        }
        if let Some(name) = p.hostname {
            set.map.insert(12, (name.as_bytes().to_vec(), true));
        }
        let mut sent = vec![54u8, 51, 58, 59, 53, 61, 81, 82];
        let mut push = |code: u8, options: &mut Vec<(u8, Vec<u8>)>| {
            if sent.contains(&code) {
                return;
            }
            if let Some((v, _)) = set.map.get(&code) {
                options.push((code, v.clone()));
                sent.push(code);
            }
        };
        push(1, &mut options);
        for c in ALWAYS {
            push(c, &mut options);
        }
        for c in &req.prl {
            push(*c, &mut options);
        }
        // Kea sends its vendor-identifying options to a client that sent its own for
        // the same vendor (appendRequestedVendorOptions), asked or not.
        let vivso = crate::config::VIVSO;
        if let (Some(theirs), Some((ours, _))) = (req.option(vivso), set.map.get(&vivso)) {
            if ours.len() >= 4 && sent_enterprises(&theirs).any(|e| *e == ours[..4]) {
                push(vivso, &mut options);
            }
        }
        let always: Vec<u8> = set
            .map
            .iter()
            .filter(|(_, (_, always))| *always)
            .map(|(c, _)| *c)
            .collect();
        for c in always {
            push(c, &mut options);
        }
        let boots: Vec<&tern_config::BootFields> = p
            .host
            .map(|h| &h.boot)
            .into_iter()
            .chain(p.classes.iter().map(|c| &c.boot))
            .chain(p.subnet.map(|s| &s.boot))
            .collect();
        siaddr = boots
            .iter()
            .find_map(|b| b.next_server)
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        sname = boots.iter().find_map(|b| b.server_hostname.clone());
        file = boots.iter().find_map(|b| b.boot_file_name.clone());
        if let Some(f) = p.client_fqdn {
            options.push((81, f.to_vec()));
        }
    } else if let Some(m) = p.message {
        options.push((56, m.as_bytes().to_vec()));
    }
    // RFC 6842 (Kea's `echo-client-id`, default true): the client identifier goes back.
    if p.echo_client_id {
        if let Some(c) = &req.client_id {
            options.push((61, c.clone()));
        }
    }
    // RFC 3046 §2.2: the relay agent information goes back as it came.
    if let Some(r) = &req.relay_info {
        options.push((82, r.clone()));
    }
    let relayed = !req.giaddr.is_unspecified();
    Reply {
        bootp: req.in_class("BOOTP"),
        kind: p.kind,
        xid: req.xid,
        htype: req.htype,
        chaddr: req.chaddr.clone(),
        // RFC 2131 §4.3.2: a NAK through a relay asks it to broadcast.
        broadcast: req.broadcast || (p.kind == ReplyKind::Nak && relayed),
        ciaddr: if p.kind == ReplyKind::Nak {
            Ipv4Addr::UNSPECIFIED
        } else {
            req.ciaddr
        },
        yiaddr: p.yiaddr,
        siaddr,
        giaddr: req.giaddr,
        sname,
        file,
        options,
    }
}

/// The enterprise numbers of a client's option 125 (RFC 3925 §4: enterprise, length,
/// data, repeated).
fn sent_enterprises(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut i = 0;
    std::iter::from_fn(move || {
        let e = v.get(i..i + 4)?;
        let n = usize::from(*v.get(i + 4)?);
        i += 5 + n;
        Some(e)
    })
}

/// Where a reply goes (RFC 2131 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// To the relay's server port.
    Relay(Ipv4Addr),
    /// To the client's address, client port.
    Unicast(Ipv4Addr),
    /// To 255.255.255.255, client port, on the ingress interface.
    Broadcast,
}

/// RFC 2131 §4.1: relayed → the relay; NAK → broadcast; ciaddr set → unicast to it;
/// broadcast flag → broadcast. Otherwise the RFC wants a unicast to yiaddr at chaddr,
/// which needs a raw socket or an ARP entry (the client has no address yet to answer
/// ARP): tern broadcasts instead, which every client accepts.
pub fn destination(req: &Request, kind: ReplyKind) -> Destination {
    if !req.giaddr.is_unspecified() {
        Destination::Relay(req.giaddr)
    } else if kind == ReplyKind::Nak {
        Destination::Broadcast
    } else if !req.ciaddr.is_unspecified() {
        Destination::Unicast(req.ciaddr)
    } else {
        Destination::Broadcast
    }
}

/// The whole pure path for one datagram, with `row` standing for the lease table's
/// row on the requested address ([`Row::Others`]: another client's unexpired lease):
/// parse, select the subnet, tell the DHCPREQUEST state and decide it with
/// [`crate::request`], find the configured reservation, build and encode the reply (an
/// OFFER/ACK of the reserved or first pool address, a NAK, or nothing). The fuzz target
/// and the mutation test drive this; it must never panic.
pub fn plan_offline(
    cfg: &ServerConfig,
    buf: &[u8],
    ingress: &Ingress,
    row: Row,
) -> Option<Vec<u8>> {
    use crate::classify;
    use crate::packet::RequestKind;
    let mut req = Request::parse(buf).ok()?;
    classify::on_arrival(cfg, &mut req, ingress);
    let selected = select_subnet(cfg, &req, ingress)?;
    let ids = client_identifiers(&req, &cfg.identifiers);
    let found = config_host(cfg, selected, &ids).map(|h| classify::Reserved {
        host: h,
        global: !selected.hosts.contains(h),
    });
    classify::after_host_lookup(cfg, &mut req, ingress, found, selected);
    if classify::dropped(&req) {
        return None;
    }
    let first = selected.pools.first().map(|p| p.range.first);
    let (kind, subnet, yiaddr, message) = match req.kind {
        RequestKind::Discover => {
            let host = config_host(cfg, selected, &ids);
            let a = host.and_then(|h| h.address).or(first)?;
            (ReplyKind::Offer, selected, a, None)
        }
        RequestKind::Request => {
            let state = request::screen(request_state(&req, false), ingress.addr).ok()?;
            let address = state.address();
            let subnet = serving_subnet(cfg, selected, address);
            let host = config_host(cfg, subnet, &ids);
            let facts = Facts::new(
                state,
                subnet,
                host.and_then(|h| h.address),
                config_reserved_for_other(subnet, address, &ids),
            );
            let verdict = match request::check(&facts) {
                Err(r) => Verdict::Refuse(r),
                Ok(()) => match request::settle(&facts, row) {
                    Verdict::Ack if row == Row::Others => Verdict::Refuse(request::LOST_WRITE),
                    v => v,
                },
            };
            match verdict {
                Verdict::Ack => (ReplyKind::Ack, subnet, address, None),
                Verdict::Refuse(Refusal::Nak(r)) => (
                    ReplyKind::Nak,
                    subnet,
                    Ipv4Addr::UNSPECIFIED,
                    Some(r.message()),
                ),
                Verdict::Refuse(Refusal::Silence(_)) => return None,
            }
        }
        RequestKind::Inform => (ReplyKind::Ack, selected, Ipv4Addr::UNSPECIFIED, None),
        _ => return None,
    };
    let host = (kind != ReplyKind::Nak)
        .then(|| config_host(cfg, subnet, &ids))
        .flatten();
    let lease_classes = classify::defs(cfg, &req);
    let times = times_for(subnet, &lease_classes);
    let found = host.map(|h| classify::Reserved {
        host: h,
        global: !subnet.hosts.contains(h),
    });
    classify::after_allocation(
        cfg,
        &mut req,
        ingress,
        subnet,
        subnet.in_pool(yiaddr),
        found,
    );
    let classes = classify::defs(cfg, &req);
    let reply = build_reply(&ReplyPlan {
        req: &req,
        kind,
        server_id: ingress.addr,
        subnet: Some(subnet),
        pool: subnet.in_pool(yiaddr),
        host,
        yiaddr,
        lifetimes: (kind != ReplyKind::Nak && !yiaddr.is_unspecified()).then(|| lifetimes(&times)),
        hostname: host.and_then(|h| h.hostname.as_deref()),
        message,
        client_fqdn: None,
        echo_client_id: true,
        global: &cfg.global_options,
        classes: &classes,
    });
    let mut reply = reply;
    classify::flex(cfg, &mut reply, &req, ingress);
    let _ = destination(&req, kind);
    Some(reply.encode())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::packet::tests::request;
    use crate::packet::RequestKind;

    pub(crate) fn config(text: &str) -> ServerConfig {
        let c = tern_config::parse_str(text, "test.json").expect("valid config");
        ServerConfig::from_config(c.dhcp4.as_ref().expect("Dhcp4")).unwrap()
    }

    const TWO_SUBNETS: &str = r#"{"Dhcp4": {
        "valid-lifetime": 4000,
        "option-data": [{"name": "domain-name-servers", "data": "192.0.2.53"}],
        "subnet4": [
          {"id": 1, "subnet": "192.0.2.0/24", "interface": "veth0",
           "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}],
           "option-data": [{"name": "routers", "data": "192.0.2.1"}],
           "reservations": [{"hw-address": "aa:bb:cc:00:00:09", "ip-address": "192.0.2.99",
                             "hostname": "printer",
                             "option-data": [{"name": "domain-name", "data": "printers.example"}]}]},
          {"id": 2, "subnet": "198.51.100.0/24", "relay": {"ip-addresses": ["10.9.9.9"]},
           "renew-timer": 100, "rebind-timer": 200, "valid-lifetime": 300,
           "pools": [{"pool": "198.51.100.10 - 198.51.100.20"}]},
          {"id": 3, "subnet": "203.0.113.0/24", "calculate-tee-times": true,
           "pools": [{"pool": "203.0.113.10 - 203.0.113.20"}]}
        ]}}"#;

    fn ingress(iface: &str, addr: [u8; 4]) -> Ingress {
        Ingress {
            iface: iface.into(),
            addr: addr.into(),
        }
    }

    #[test]
    fn subnet_selection() {
        let cfg = config(TWO_SUBNETS);
        let mut r = request(RequestKind::Discover);
        // By interface name.
        assert_eq!(
            select_subnet(&cfg, &r, &ingress("veth0", [10, 0, 0, 1]))
                .unwrap()
                .id,
            1
        );
        // By the interface's address.
        assert_eq!(
            select_subnet(&cfg, &r, &ingress("eth7", [203, 0, 113, 1]))
                .unwrap()
                .id,
            3
        );
        assert!(select_subnet(&cfg, &r, &ingress("eth7", [10, 0, 0, 1])).is_none());
        // By relay address listed in relay.ip-addresses, then by giaddr's subnet.
        r.giaddr = Ipv4Addr::new(10, 9, 9, 9);
        assert_eq!(
            select_subnet(&cfg, &r, &ingress("veth0", [192, 0, 2, 1]))
                .unwrap()
                .id,
            2
        );
        r.giaddr = Ipv4Addr::new(203, 0, 113, 254);
        assert_eq!(
            select_subnet(&cfg, &r, &ingress("veth0", [192, 0, 2, 1]))
                .unwrap()
                .id,
            3
        );
        r.giaddr = Ipv4Addr::new(10, 1, 1, 1);
        assert!(select_subnet(&cfg, &r, &ingress("veth0", [192, 0, 2, 1])).is_none());
        // By ciaddr.
        let mut r = request(RequestKind::Request);
        r.ciaddr = Ipv4Addr::new(198, 51, 100, 15);
        assert_eq!(
            select_subnet(&cfg, &r, &ingress("veth0", [192, 0, 2, 1]))
                .unwrap()
                .id,
            2
        );
    }

    #[test]
    fn timers() {
        let cfg = config(TWO_SUBNETS);
        let l = lifetimes(&cfg.subnet(1).unwrap().times);
        assert_eq!(
            l,
            Lifetimes {
                valid: 4000,
                t1: None,
                t2: None
            }
        );
        let l = lifetimes(&cfg.subnet(2).unwrap().times);
        assert_eq!(
            l,
            Lifetimes {
                valid: 300,
                t1: Some(100),
                t2: Some(200)
            }
        );
        let l = lifetimes(&cfg.subnet(3).unwrap().times);
        assert_eq!(
            l,
            Lifetimes {
                valid: 4000,
                t1: Some(2000),
                t2: Some(3500)
            }
        );
        // T2 not below the lifetime is not sent, T1 above T2 neither.
        let mut t = cfg.subnet(2).unwrap().times;
        t.rebind = Some(300);
        t.renew = Some(250);
        assert_eq!(
            lifetimes(&t),
            Lifetimes {
                valid: 300,
                t1: Some(250),
                t2: None
            }
        );
        t.rebind = Some(200);
        assert_eq!(
            lifetimes(&t),
            Lifetimes {
                valid: 300,
                t1: None,
                t2: Some(200)
            }
        );
    }

    #[test]
    fn reply_options_follow_scopes_and_prl() {
        let cfg = config(TWO_SUBNETS);
        let s = cfg.subnet(1).unwrap();
        let mut r = request(RequestKind::Discover);
        r.chaddr = vec![0xaa, 0xbb, 0xcc, 0, 0, 9];
        r.prl = vec![15, 42, 1];
        r.relay_info = Some(vec![1, 2, b'c', b'1']);
        let ids = client_identifiers(&r, &cfg.identifiers);
        let host = config_host(&cfg, s, &ids).expect("reserved");
        assert_eq!(host.address, Some(Ipv4Addr::new(192, 0, 2, 99)));
        let reply = build_reply(&ReplyPlan {
            req: &r,
            kind: ReplyKind::Offer,
            server_id: Ipv4Addr::new(192, 0, 2, 1),
            subnet: Some(s),
            pool: None,
            host: Some(host),
            yiaddr: Ipv4Addr::new(192, 0, 2, 99),
            lifetimes: Some(lifetimes(&s.times)),
            hostname: host.hostname.as_deref(),
            message: None,
            client_fqdn: None,
            echo_client_id: true,
            global: &cfg.global_options,
            classes: &[],
        });
        let codes: Vec<u8> = reply.options.iter().map(|o| o.0).collect();
        assert_eq!(codes, vec![54, 51, 1, 3, 6, 15, 12, 82]);
        let get = |c| reply.options.iter().find(|o| o.0 == c).unwrap().1.clone();
        assert_eq!(get(1), vec![255, 255, 255, 0]);
        assert_eq!(get(3), vec![192, 0, 2, 1]);
        assert_eq!(get(6), vec![192, 0, 2, 53]);
        assert_eq!(get(15), b"printers.example".to_vec());
        assert_eq!(get(12), b"printer".to_vec());
        assert_eq!(get(82), vec![1, 2, b'c', b'1']);
        assert_eq!(reply.yiaddr, Ipv4Addr::new(192, 0, 2, 99));
    }

    #[test]
    fn naks() {
        let cfg = config(TWO_SUBNETS);
        let mut r = request(RequestKind::Request);
        r.giaddr = Ipv4Addr::new(10, 9, 9, 9);
        r.requested_ip = Some(Ipv4Addr::new(192, 0, 2, 50));
        let nak = build_reply(&ReplyPlan {
            req: &r,
            kind: ReplyKind::Nak,
            server_id: Ipv4Addr::new(192, 0, 2, 1),
            subnet: cfg.subnet(2),
            pool: None,
            host: None,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            lifetimes: None,
            hostname: None,
            message: Some("address not available"),
            client_fqdn: None,
            echo_client_id: true,
            global: &cfg.global_options,
            classes: &[],
        });
        let codes: Vec<u8> = nak.options.iter().map(|o| o.0).collect();
        assert_eq!(codes, vec![54, 56]);
        assert!(nak.broadcast, "a NAK through a relay asks for broadcast");
        assert_eq!(
            destination(&r, ReplyKind::Nak),
            Destination::Relay(r.giaddr)
        );
        let mut r = request(RequestKind::Request);
        r.ciaddr = Ipv4Addr::new(192, 0, 2, 10);
        assert_eq!(destination(&r, ReplyKind::Nak), Destination::Broadcast);
        assert_eq!(
            destination(&r, ReplyKind::Ack),
            Destination::Unicast(Ipv4Addr::new(192, 0, 2, 10))
        );
    }

    #[test]
    fn identifiers_in_configured_order() {
        let mut r = request(RequestKind::Discover);
        r.client_id = Some(vec![255, 0, 0, 0, 1, 0, 1, 2]);
        r.circuit_id = Some(b"port1".to_vec());
        let ids = client_identifiers(&r, &[3, 0, 1, 2]);
        assert_eq!(
            ids,
            vec![
                (3, vec![255, 0, 0, 0, 1, 0, 1, 2]),
                (0, r.chaddr.clone()),
                (1, vec![0, 1, 2]),
                (2, b"port1".to_vec()),
            ]
        );
        assert_eq!(start_offset(&r), start_offset(&r.clone()));
    }

    #[test]
    fn mutated_packets_never_panic() {
        let cfg = config(TWO_SUBNETS);
        let ing = ingress("veth0", [192, 0, 2, 1]);
        let base = crate::packet::tests::discover();
        assert!(plan_offline(&cfg, &base, &ing, Row::Free).is_some());
        // xorshift: reproducible pseudo-random mutations of a real DISCOVER.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let mut p = base.clone();
            for _ in 0..(next() % 8 + 1) {
                let i = (next() as usize) % p.len();
                p[i] = next() as u8;
            }
            if next() % 4 == 0 {
                let cut = (next() as usize) % p.len();
                p.truncate(cut.max(240));
            }
            if p.len() > 242 && p[240] == 53 && next() % 2 == 0 {
                // Other message types: REQUEST, INFORM, server messages...
                p[242] = (next() % 10) as u8;
            }
            let row = [Row::Free, Row::Mine, Row::Others][(next() % 3) as usize];
            if let Some(reply) = plan_offline(&cfg, &p, &ing, row) {
                let ack = reply[240..243] == [53, 1, 5] && reply[16..20] != [0, 0, 0, 0];
                assert!(
                    !(ack && row == Row::Others),
                    "another client's address granted"
                );
            }
        }
    }

    #[test]
    fn boot_fields_and_client_id_echo() {
        let cfg = config(
            r#"{"Dhcp4": {"next-server": "192.0.2.5", "boot-file-name": "pxelinux.0",
            "subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "server-hostname": "tftp1",
              "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}],
              "reservations": [{"client-id": "01:aa:bb:cc:00:00:01", "boot-file-name": "special.efi"}]}]}}"#,
        );
        let s = cfg.subnet(1).unwrap();
        let mut r = request(RequestKind::Discover);
        r.client_id = Some(vec![1, 0xaa, 0xbb, 0xcc, 0, 0, 1]);
        let ids = client_identifiers(&r, &cfg.identifiers);
        let host = config_host(&cfg, s, &ids).expect("reserved by client-id");
        let reply = build_reply(&ReplyPlan {
            req: &r,
            kind: ReplyKind::Offer,
            server_id: Ipv4Addr::new(192, 0, 2, 1),
            subnet: Some(s),
            pool: s.in_pool(Ipv4Addr::new(192, 0, 2, 10)),
            host: Some(host),
            yiaddr: Ipv4Addr::new(192, 0, 2, 10),
            lifetimes: Some(lifetimes(&s.times)),
            hostname: None,
            message: None,
            client_fqdn: None,
            echo_client_id: true,
            global: &cfg.global_options,
            classes: &[],
        });
        assert_eq!(reply.siaddr, Ipv4Addr::new(192, 0, 2, 5));
        assert_eq!(reply.sname.as_deref(), Some("tftp1"));
        assert_eq!(reply.file.as_deref(), Some("special.efi"));
        assert!(reply
            .options
            .contains(&(61, vec![1, 0xaa, 0xbb, 0xcc, 0, 0, 1])));
        assert!(reply
            .options
            .contains(&(51, 7200u32.to_be_bytes().to_vec())));
    }
}
