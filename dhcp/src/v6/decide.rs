//! Pure DHCPv6 decisions: which messages are served (RFC 8415 §16, Kea's sanity
//! checks), which subnet a client is on (Kea's selection rules), lifetimes and T1/T2,
//! the reply's options and its relay wrapping (RFC 8415 §19.3). No I/O: the engine
//! gathers the facts, these functions decide, and each is tested on its own.

use std::net::{Ipv6Addr, SocketAddrV6};

use crate::v6::config::{Config6, Host6, OptionSet6, Subnet6, Times6, UnicastPolicy};
use crate::v6::wire::{code, find, msg, Ia, IaAddr, IaPrefix, Message, Opt, Packet, Relay};

/// Where a datagram came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress6 {
    /// The interface it arrived on.
    pub iface: String,
    /// Its source address and port.
    pub src: SocketAddrV6,
    /// Whether it was sent to a multicast address (All_DHCP_Relay_Agents_and_Servers).
    pub multicast: bool,
}

/// Why a message gets no answer (each counted and logged by the engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// Breaks RFC 8415 §16 (missing or repeated identifiers, a bad DUID):
    /// `pkt6-rfc-violation`.
    RfcViolation(&'static str),
    /// Names another server's DUID: `pkt6-not-for-us`.
    NotForUs,
    /// Sent by unicast where the policy wants multicast.
    Unicast,
    /// A message type a server does not take (ADVERTISE, REPLY, …).
    Unsupported,
}

/// Kea's DUID length bounds (RFC 8415 §11.1: at most 128 octets of DUID after the
/// 2-octet type, hence 130).
const DUID_MIN: usize = 3;
const DUID_MAX: usize = 130;

/// Screens a client message: identifiers as RFC 8415 §16 wants them per type, the
/// server DUID ours, unicast as the policy allows.
pub fn screen(
    m: &Message,
    relayed: bool,
    multicast: bool,
    our_duid: &[u8],
    policy: UnicastPolicy,
) -> Result<(), Drop> {
    let clients = m.count(code::CLIENTID);
    let servers = m.count(code::SERVERID);
    match m.msg_type {
        msg::SOLICIT | msg::REBIND | msg::CONFIRM => {
            if clients != 1 {
                return Err(Drop::RfcViolation(
                    "exactly one client identifier is required",
                ));
            }
            if servers != 0 {
                return Err(Drop::RfcViolation("a server identifier is not allowed"));
            }
        }
        msg::REQUEST | msg::RENEW | msg::RELEASE | msg::DECLINE => {
            if clients != 1 {
                return Err(Drop::RfcViolation(
                    "exactly one client identifier is required",
                ));
            }
            if servers != 1 {
                return Err(Drop::RfcViolation(
                    "exactly one server identifier is required",
                ));
            }
        }
        msg::INFORMATION_REQUEST => {
            if clients > 1 || servers > 1 {
                return Err(Drop::RfcViolation(
                    "at most one client and one server identifier",
                ));
            }
        }
        _ => return Err(Drop::Unsupported),
    }
    if let Some(d) = m.client_id() {
        if !(DUID_MIN..=DUID_MAX).contains(&d.len()) {
            return Err(Drop::RfcViolation(
                "client DUID length must be 3 to 130 octets",
            ));
        }
    }
    if let Some(s) = m.server_id() {
        if s != our_duid {
            return Err(Drop::NotForUs);
        }
    }
    if !relayed && !multicast {
        let allowed = match policy {
            UnicastPolicy::Rfc9915 => false,
            UnicastPolicy::Kea30 => matches!(
                m.msg_type,
                msg::REQUEST | msg::RENEW | msg::RELEASE | msg::DECLINE
            ),
        };
        if !allowed {
            return Err(Drop::Unicast);
        }
    }
    Ok(())
}

fn link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// The subnet a client is on (Kea's cfg_subnets6 rules). Direct: the subnet whose
/// `interface` is the receiving interface, else the one holding the source address
/// (a link-local source holds none). Relayed: the innermost relay's interface-id
/// against `interface-id`; else the first global link-address from the innermost relay
/// outwards, against `relay.ip-addresses`, then against the prefixes.
pub fn select_subnet<'c>(
    cfg: &'c Config6,
    pkt: &Packet,
    ingress: &Ingress6,
) -> Option<&'c Subnet6> {
    let relays = pkt.relays();
    if let Some(inner) = relays.last() {
        if let Some(Opt::InterfaceId(id)) = find(&inner.options, code::INTERFACE_ID) {
            if let Some(s) = cfg
                .subnets
                .iter()
                .find(|s| s.interface_id.as_deref() == Some(id.as_slice()))
            {
                return Some(s);
            }
        }
        let link = relays
            .iter()
            .rev()
            .map(|r| r.link_addr)
            .find(|a| !a.is_unspecified() && !link_local(a))?;
        return cfg
            .subnets
            .iter()
            .find(|s| s.relays.contains(&link))
            .or_else(|| cfg.subnets.iter().find(|s| s.prefix.contains(link)));
    }
    if let Some(s) = cfg
        .subnets
        .iter()
        .find(|s| s.interface.as_deref() == Some(ingress.iface.as_str()))
    {
        return Some(s);
    }
    let src = *ingress.src.ip();
    if link_local(&src) || src.is_unspecified() {
        return None;
    }
    cfg.subnets.iter().find(|s| s.prefix.contains(src))
}

/// Preferred and valid lifetime of one lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Preferred lifetime.
    pub preferred: u32,
    /// Valid lifetime.
    pub valid: u32,
}

/// The lifetimes of a lease: the client's hints (from its IAADDR/IAPREFIX) when inside
/// the configured min/max, clamped to them otherwise, the configured values without a
/// hint; the preferred lifetime never above the valid one.
pub fn lifetimes(t: &Times6, hint: Option<(u32, u32)>) -> Lifetimes {
    let pick = |h: u32, default: u32, min: u32, max: u32| {
        if h == 0 {
            default
        } else {
            h.clamp(min.min(max), max.max(min))
        }
    };
    let (hp, hv) = hint.unwrap_or((0, 0));
    let valid = pick(hv, t.valid, t.min_valid, t.max_valid);
    let preferred = pick(hp, t.preferred, t.min_preferred, t.max_preferred).min(valid);
    Lifetimes { preferred, valid }
}

/// T1 and T2 for an IA whose shortest preferred lifetime is `preferred` (Kea's
/// setTeeTimes): explicit `renew-timer`/`rebind-timer` win, else with
/// `calculate-tee-times` the percentages of `preferred`, rounded; T1 not below T2 is 0.
pub fn tee_times(t: &Times6, preferred: u32) -> (u32, u32) {
    let pct = |p: f64| (p * f64::from(preferred)).round() as u32;
    let t2 = t
        .rebind
        .unwrap_or(if t.calculate { pct(t.t2_percent) } else { 0 });
    let t1 = t
        .renew
        .unwrap_or(if t.calculate { pct(t.t1_percent) } else { 0 });
    (if t1 < t2 { t1 } else { 0 }, t2)
}

/// Whether the client asked for rapid commit and the subnet allows it (RFC 8415
/// §18.3.1, Kea's per-subnet `rapid-commit`).
pub fn rapid_commit(m: &Message, subnet: Option<&Subnet6>) -> bool {
    m.msg_type == msg::SOLICIT
        && m.opt(code::RAPID_COMMIT).is_some()
        && subnet.is_some_and(|s| s.rapid_commit)
}

/// The client's hardware address and where it came from (Kea's `hwaddr_source` bits:
/// 2 DUID, 4 IPv6 link-local, 8 RFC 6939 option), in the order Kea's default
/// `mac-sources` ("any") tries them (`Pkt::getMAC`, checked against kea-dhcp6 2.2 by
/// `tests/oracle6.rs`): the innermost relay's client link-layer address option (RFC
/// 6939), then a DUID-LLT or DUID-LL, then an EUI-64 link-local address (the source,
/// or the innermost relay's peer address when relayed) whose interface id has the
/// universal bit set and the group bit clear (a MAC-derived one).
pub fn hardware_address(pkt: &Packet, src: &Ipv6Addr) -> Option<(u16, Vec<u8>, u32)> {
    let relays = pkt.relays();
    if let Some(Opt::ClientLinkLayer { htype, addr }) = relays
        .last()
        .and_then(|r| find(&r.options, code::CLIENT_LINKLAYER_ADDR))
    {
        return Some((*htype, addr.clone(), 8));
    }
    if let Some(d) = pkt.client().client_id() {
        let ty = d.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let ht = d.get(2..4).map(|b| u16::from_be_bytes([b[0], b[1]]));
        match (ty, ht) {
            (Some(1), Some(h)) if d.len() > 8 => return Some((h, d[8..].to_vec(), 2)),
            (Some(3), Some(h)) if d.len() > 4 => return Some((h, d[4..].to_vec(), 2)),
            _ => {}
        }
    }
    let peer = relays.last().map_or(*src, |r| r.peer_addr);
    let o = peer.octets();
    if link_local(&peer) && o[11] == 0xff && o[12] == 0xfe && o[8] & 3 == 2 {
        return Some((1, vec![o[8] ^ 0x02, o[9], o[10], o[13], o[14], o[15]], 4));
    }
    None
}

/// The client's identifiers for reservation lookups, in the configured order: Kea
/// codes 0 (hw-address) and 1 (duid).
pub fn client_identifiers(pkt: &Packet, src: &Ipv6Addr, order: &[i16]) -> Vec<(i16, Vec<u8>)> {
    let mut out = Vec::new();
    for t in order {
        match t {
            0 => {
                if let Some((_, mac, _)) = hardware_address(pkt, src) {
                    out.push((0, mac));
                }
            }
            1 => {
                if let Some(d) = pkt.client().client_id() {
                    out.push((1, d.to_vec()));
                }
            }
            _ => {}
        }
    }
    out
}

/// The configuration's reservation for these identifiers: the subnet's, else the
/// global ones (Kea's default `reservations-in-subnet`; global ones when none there).
pub fn config_host<'c>(
    cfg: &'c Config6,
    subnet: &'c Subnet6,
    ids: &[(i16, Vec<u8>)],
) -> Option<&'c Host6> {
    let matches = |h: &&Host6| ids.contains(&h.identifier);
    subnet
        .hosts
        .iter()
        .find(matches)
        .or_else(|| cfg.global_hosts.iter().find(matches))
}

/// The hashed start of a client's pool search: concurrent allocators (threads, tern
/// servers on one database) start in different places for different clients, and one
/// client starts at the same place each time.
pub fn start_offset(duid: &[u8], iaid: u32, salt: u8) -> u128 {
    // FNV-1a, 64 bits, doubled: no dependency, spreads well enough for a start point.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in duid.iter().chain(&iaid.to_be_bytes()).chain(&[salt]) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let lo = h;
    let hi = h.rotate_left(29).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (u128::from(hi) << 64) | u128::from(lo)
}

/// The outcome of one IA in a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaOutcome {
    /// IA_NA (false) or IA_PD (true).
    pub pd: bool,
    /// IAID.
    pub iaid: u32,
    /// Bindings: (address or prefix, prefix length, lifetimes). Lifetimes 0/0 tell the
    /// client to stop using one (RFC 8415 §18.3.4).
    pub bindings: Vec<(Ipv6Addr, u8, Lifetimes)>,
    /// A status inside the IA (NoAddrsAvail, NoPrefixAvail, NoBinding, Success …).
    pub status: Option<(u16, String)>,
}

impl IaOutcome {
    /// The IA's option, T1/T2 computed from its shortest non-zero preferred lifetime.
    pub fn to_opt(
        &self,
        times: Option<&Times6>,
        prefix_exclude: &dyn Fn(Ipv6Addr, u8) -> Option<Vec<u8>>,
    ) -> Opt {
        let shortest = self
            .bindings
            .iter()
            .map(|b| b.2.preferred)
            .filter(|p| *p > 0)
            .min();
        let (t1, t2) = match (times, shortest) {
            (Some(t), Some(p)) => tee_times(t, p),
            _ => (0, 0),
        };
        let mut options: Vec<Opt> = self
            .bindings
            .iter()
            .map(|(a, len, l)| {
                if self.pd {
                    Opt::IaPrefix(IaPrefix {
                        preferred: l.preferred,
                        valid: l.valid,
                        prefix_len: *len,
                        prefix: *a,
                        options: prefix_exclude(*a, *len)
                            .map(|data| Opt::Other {
                                code: code::PD_EXCLUDE,
                                data,
                            })
                            .into_iter()
                            .collect(),
                    })
                } else {
                    Opt::IaAddr(IaAddr {
                        addr: *a,
                        preferred: l.preferred,
                        valid: l.valid,
                        options: Vec::new(),
                    })
                }
            })
            .collect();
        if let Some((c, m)) = &self.status {
            options.push(Opt::Status {
                code: *c,
                message: m.clone(),
            });
        }
        let ia = Ia {
            iaid: self.iaid,
            t1,
            t2,
            options,
        };
        if self.pd {
            Opt::IaPd(ia)
        } else {
            Opt::IaNa(ia)
        }
    }
}

/// RFC 6603 §4.2's OPTION_PD_EXCLUDE data for `excluded`/`elen` inside a delegated
/// prefix of length `dlen`: the excluded length, then the bits after `dlen`.
pub fn pd_exclude_data(excluded: Ipv6Addr, elen: u8, dlen: u8) -> Option<Vec<u8>> {
    if elen <= dlen || elen > 128 {
        return None;
    }
    let bits = u32::from(elen - dlen);
    let n = bits.div_ceil(8) as usize;
    // The subnet id bits: those between dlen and elen, left-aligned in n bytes.
    let v = u128::from(excluded) << dlen;
    let bytes = v.to_be_bytes();
    let mut out = vec![elen];
    out.extend(&bytes[..n]);
    // Bits past elen - dlen are zero (RFC 6603 §4.2).
    let spare = (n as u32) * 8 - bits;
    if spare > 0 {
        let last = out.len() - 1;
        out[last] &= 0xffu8 << spare;
    }
    Some(out)
}

/// The options a reply carries from the configuration: those the client's ORO asks
/// for and those marked always-send, innermost scope first (host, pool, subnet with
/// its shared network and the global ones merged into it).
pub fn requested_options(m: &Message, scopes: &[&OptionSet6]) -> Vec<Opt> {
    let oro: Vec<u16> = match m.opt(code::ORO) {
        Some(Opt::Oro(v)) => v.clone(),
        _ => Vec::new(),
    };
    let mut merged = OptionSet6::default();
    for s in scopes.iter().rev() {
        merged = merged.overlay(s);
    }
    merged
        .map
        .iter()
        .filter(|(c, (_, always))| *always || oro.contains(c))
        .map(|(c, (v, _))| Opt::Other {
            code: *c,
            data: v.clone(),
        })
        .collect()
}

/// A reply's options in Kea's order (by option code; Kea keeps them in a map keyed by
/// code), IAs in the order of the request.
pub fn sort_options(opts: &mut [Opt]) {
    opts.sort_by_key(Opt::code);
}

/// The client's message type's answer: ADVERTISE for a SOLICIT without rapid commit,
/// REPLY otherwise.
pub fn reply_type(m: &Message, rapid: bool) -> u8 {
    if m.msg_type == msg::SOLICIT && !rapid {
        msg::ADVERTISE
    } else {
        msg::REPLY
    }
}

/// Where a reply goes: to the relay that sent the request (at RFC 8357's source port
/// when the outermost relay asked for it, else 547), or to the client at `client_port`.
pub fn destination(
    request: &Packet,
    ingress: &Ingress6,
    client_port: u16,
    server_port: u16,
) -> SocketAddrV6 {
    let src = ingress.src;
    match request {
        Packet::Relay(r) => {
            let port = if find(&r.options, code::RELAY_SOURCE_PORT).is_some() {
                src.port()
            } else {
                server_port
            };
            SocketAddrV6::new(*src.ip(), port, 0, src.scope_id())
        }
        Packet::Client(_) => SocketAddrV6::new(*src.ip(), client_port, 0, src.scope_id()),
    }
}

/// Wraps `reply` in one RELAY-REPL per relay of `request` (RFC 8415 §19.3): hop count,
/// link and peer address copied, and the interface-id and relay-source-port options
/// echoed (RFC 8415 §21.18, RFC 8357 §5.2).
pub fn wrap(request: &Packet, reply: Message) -> Packet {
    match request {
        Packet::Client(_) => Packet::Client(reply),
        Packet::Relay(r) => {
            let inner = wrap(&r.inner, reply);
            let options = r
                .options
                .iter()
                .filter(|o| matches!(o.code(), code::INTERFACE_ID | code::RELAY_SOURCE_PORT))
                .cloned()
                .collect();
            Packet::Relay(Relay {
                msg_type: msg::RELAY_REPL,
                hop_count: r.hop_count,
                link_addr: r.link_addr,
                peer_addr: r.peer_addr,
                options,
                inner: Box::new(inner),
            })
        }
    }
}

/// A status option.
pub fn status_opt(code: u16, message: &str) -> Opt {
    Opt::Status {
        code,
        message: message.to_string(),
    }
}

/// Kea's texts for the statuses it puts in IAs.
pub mod text {
    /// IA_NA without an address.
    pub const NO_ADDRS: &str = "Sorry, no address could be allocated.";
    /// IA_PD without a prefix.
    pub const NO_PREFIX: &str = "Sorry, no prefixes could be allocated.";
    /// No subnet for the client.
    pub const NO_SUBNET: &str = "Server could not select subnet for this client";
    /// RELEASE of something not the client's.
    pub const RELEASE_NO_BINDING: &str =
        "Sorry, no known leases for this duid/iaid, can't release.";
    /// RELEASE done.
    pub const RELEASED: &str = "Lease released. Thank you, please come again.";
    /// RELEASE summary.
    pub const RELEASE_SUMMARY: &str = "Summary status for all processed IA_NAs";
    /// DECLINE of something not the client's.
    pub const DECLINE_NO_BINDING: &str = "Server does not know about such an address.";
    /// DECLINE done.
    pub const DECLINED: &str = "Lease declined. Hopefully the next one will be better.";
    /// CONFIRM: on link.
    pub const ON_LINK: &str = "All addresses are on-link";
    /// CONFIRM: an address not on the link (Kea names the first one).
    pub fn not_on_link(a: std::net::Ipv6Addr) -> String {
        format!("Address {a} is not on link.")
    }
    /// CONFIRM without a subnet.
    pub const NO_SUBNET_SELECTED: &str = "No subnet selected";
    /// RENEW/REBIND of an IA the server has no binding for and cannot serve.
    pub const NO_BINDING: &str = "Sorry, no known leases for this duid/iaid.";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(valid: u32) -> Times6 {
        Times6::resolve(&[&tern_config::Timers {
            valid_lifetime: Some(valid),
            ..Default::default()
        }])
    }

    #[test]
    fn tee_times_follow_kea() {
        let t = times(7200);
        assert_eq!(
            lifetimes(&t, None),
            Lifetimes {
                preferred: 4500,
                valid: 7200
            }
        );
        assert_eq!(tee_times(&t, 4500), (2250, 3600));
        let mut explicit = t;
        explicit.renew = Some(4000);
        explicit.rebind = Some(3000);
        assert_eq!(
            tee_times(&explicit, 4500),
            (0, 3000),
            "T1 above T2 becomes 0"
        );
        let mut off = t;
        off.calculate = false;
        assert_eq!(tee_times(&off, 4500), (0, 0));
    }

    #[test]
    fn hints_inside_bounds_are_honoured() {
        let mut t = times(7200);
        t.min_valid = 3600;
        t.max_valid = 10000;
        assert_eq!(lifetimes(&t, Some((0, 5000))).valid, 5000);
        assert_eq!(lifetimes(&t, Some((0, 99999))).valid, 10000);
        assert_eq!(lifetimes(&t, Some((0, 10))).valid, 3600);
        // No bounds configured: the hint is ignored.
        assert_eq!(lifetimes(&times(7200), Some((100, 200))).valid, 7200);
    }

    #[test]
    fn pd_exclude_wire_form() {
        // RFC 6603 §4.2: 2001:db8:0:1::/64 excluded from 2001:db8::/48 → length 64,
        // 16 bits of subnet id 0x0001.
        let d = pd_exclude_data("2001:db8:0:1::".parse().unwrap(), 64, 48).unwrap();
        assert_eq!(d, vec![64, 0x00, 0x01]);
        // 4 bits: /60 excluded from /56, subnet id 0xf → 1 byte 0xf0.
        let d = pd_exclude_data("2001:db8:0:f0::".parse().unwrap(), 60, 56).unwrap();
        assert_eq!(d, vec![60, 0xf0]);
        assert_eq!(pd_exclude_data(Ipv6Addr::UNSPECIFIED, 48, 48), None);
    }

    fn solicit(opts: Vec<Opt>) -> Message {
        Message {
            msg_type: msg::SOLICIT,
            xid: 1,
            options: opts,
        }
    }

    #[test]
    fn screening_as_rfc_8415_section_16() {
        let duid = vec![0, 1, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        let ours = vec![0, 2, 0, 0, 9, 191, 1];
        let ok = solicit(vec![Opt::ClientId(duid.clone())]);
        assert_eq!(
            screen(&ok, false, true, &ours, UnicastPolicy::Kea30),
            Ok(())
        );
        assert_eq!(
            screen(&ok, false, false, &ours, UnicastPolicy::Kea30),
            Err(Drop::Unicast)
        );
        assert_eq!(
            screen(&ok, true, false, &ours, UnicastPolicy::Kea30),
            Ok(())
        );
        let none = solicit(vec![]);
        assert!(matches!(
            screen(&none, false, true, &ours, UnicastPolicy::Kea30),
            Err(Drop::RfcViolation(_))
        ));
        let short = solicit(vec![Opt::ClientId(vec![0, 1])]);
        assert!(matches!(
            screen(&short, false, true, &ours, UnicastPolicy::Kea30),
            Err(Drop::RfcViolation(_))
        ));
        let mut req = Message {
            msg_type: msg::REQUEST,
            xid: 2,
            options: vec![Opt::ClientId(duid.clone()), Opt::ServerId(vec![9, 9, 9])],
        };
        assert_eq!(
            screen(&req, false, true, &ours, UnicastPolicy::Kea30),
            Err(Drop::NotForUs)
        );
        req.options[1] = Opt::ServerId(ours.clone());
        assert_eq!(
            screen(&req, false, false, &ours, UnicastPolicy::Kea30),
            Ok(())
        );
        assert_eq!(
            screen(&req, false, false, &ours, UnicastPolicy::Rfc9915),
            Err(Drop::Unicast)
        );
        let adv = Message {
            msg_type: msg::ADVERTISE,
            xid: 3,
            options: vec![],
        };
        assert_eq!(
            screen(&adv, false, true, &ours, UnicastPolicy::Kea30),
            Err(Drop::Unsupported)
        );
    }

    #[test]
    fn mac_from_the_duid_then_a_universal_eui64_link_local() {
        let llt = vec![0, 1, 0, 1, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
        let p = Packet::Client(solicit(vec![Opt::ClientId(llt)]));
        let ll: Ipv6Addr = "fe80::200:5eff:fe00:5301".parse().unwrap();
        assert_eq!(
            hardware_address(&p, &ll),
            Some((1, vec![0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff], 2)),
            "the DUID before the link-local address"
        );
        let en = Packet::Client(solicit(vec![Opt::ClientId(vec![0, 2, 0, 0, 9, 191, 1, 2])]));
        assert_eq!(
            hardware_address(&en, &ll),
            Some((1, vec![0x00, 0x00, 0x5e, 0x00, 0x53, 0x01], 4))
        );
        // A locally administered MAC (02:…) makes an interface id without the
        // universal bit: Kea does not take it.
        let local: Ipv6Addr = "fe80::ff:fe00:7001".parse().unwrap();
        assert_eq!(hardware_address(&en, &local), None);
    }
}
