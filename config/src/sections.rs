//! The typed `Dhcp4` and `Dhcp6` sections: what the DHCP engines will serve.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::{Ipv4Network, Ipv6Network};

use crate::classes::{read_classes, read_flex_options, ClientClass, FlexOption};
use crate::common::{parse_addr, parse_prefix, Cx, Family, Map, Prefix};
use crate::dhcp::{
    assign_missing_ids, read_control_sockets, read_database, read_dhcp_ddns, read_hooks,
    read_identifier_list, read_interfaces, read_option_defs, read_options, read_pools, read_relay,
    read_reservations, read_subnet_id, BootFields, ControlSocket, DatabaseConfig, DdnsParams,
    DhcpDdnsClient, HookLibrary, IdentifierType, InterfacesConfig, OptionData, OptionDefData, Pool,
    Reservation, ReservationFlags, SubnetRegistry, Timers,
};
use crate::diag::{excerpt, Location};
use crate::guard::ClassGuard;
use crate::jsonc::Node;

/// The `Dhcp4` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Dhcp4 {
    /// `interfaces-config`.
    pub interfaces: InterfacesConfig,
    /// Global lifetimes and timers.
    pub timers: Timers,
    /// Global `ddns-*` parameters.
    pub ddns: DdnsParams,
    /// Global reservation lookup flags.
    pub reservation_flags: ReservationFlags,
    /// `match-client-id`.
    pub match_client_id: Option<bool>,
    /// `authoritative`.
    pub authoritative: Option<bool>,
    /// Global boot fields.
    pub boot: BootFields,
    /// `host-reservation-identifiers`.
    pub host_reservation_identifiers: Vec<IdentifierType>,
    /// Global options.
    pub option_data: Vec<OptionData>,
    /// Custom option definitions (`option-def`).
    pub option_defs: Vec<OptionDefData>,
    /// `client-classes`, in order (a class may test membership of earlier ones).
    pub client_classes: Vec<ClientClass>,
    /// The flex-option hook's actions (built in).
    pub flex_options: Vec<FlexOption>,
    /// Global reservations.
    pub reservations: Vec<Reservation>,
    /// Every subnet, top-level ones first, then those of shared networks.
    pub subnets: Vec<Subnet4>,
    /// Shared networks (their subnets are in `subnets`, naming the network).
    pub shared_networks: Vec<SharedNetwork>,
    /// `hooks-libraries`.
    pub hooks: Vec<HookLibrary>,
    /// `dhcp-ddns`.
    pub dhcp_ddns: DhcpDdnsClient,
    /// `lease-database`, as written.
    pub lease_database: Option<DatabaseConfig>,
    /// `hosts-database` and `hosts-databases`, as written.
    pub hosts_databases: Vec<DatabaseConfig>,
    /// `control-socket` / `control-sockets` (not opened by tern).
    pub control_sockets: Vec<ControlSocket>,
    /// The whole section as read, for what is not typed yet.
    pub raw: Node,
}

/// The `Dhcp6` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Dhcp6 {
    /// `interfaces-config`.
    pub interfaces: InterfacesConfig,
    /// Global lifetimes and timers.
    pub timers: Timers,
    /// Global `ddns-*` parameters.
    pub ddns: DdnsParams,
    /// Global reservation lookup flags.
    pub reservation_flags: ReservationFlags,
    /// `host-reservation-identifiers`.
    pub host_reservation_identifiers: Vec<IdentifierType>,
    /// Global options.
    pub option_data: Vec<OptionData>,
    /// `client-classes`, in order.
    pub client_classes: Vec<ClientClass>,
    /// Global reservations.
    pub reservations: Vec<Reservation>,
    /// Every subnet, top-level ones first, then those of shared networks.
    pub subnets: Vec<Subnet6>,
    /// Shared networks (their subnets are in `subnets`, naming the network).
    pub shared_networks: Vec<SharedNetwork>,
    /// `hooks-libraries`.
    pub hooks: Vec<HookLibrary>,
    /// `dhcp-ddns`.
    pub dhcp_ddns: DhcpDdnsClient,
    /// `lease-database`, as written.
    pub lease_database: Option<DatabaseConfig>,
    /// `hosts-database` and `hosts-databases`, as written.
    pub hosts_databases: Vec<DatabaseConfig>,
    /// `control-socket` / `control-sockets` (not opened by tern).
    pub control_sockets: Vec<ControlSocket>,
    /// The whole section as read, for what is not typed yet.
    pub raw: Node,
}

/// A DHCPv4 subnet.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet4 {
    /// Subnet id (assigned when the file has none, with a warning).
    pub id: u32,
    /// The prefix.
    pub prefix: Ipv4Network,
    /// Dynamic pools.
    pub pools: Vec<Pool<Ipv4Addr>>,
    /// Reservations.
    pub reservations: Vec<Reservation>,
    /// Subnet options.
    pub option_data: Vec<OptionData>,
    /// Relay addresses that select this subnet.
    pub relay_addresses: Vec<IpAddr>,
    /// Directly attached interface.
    pub interface: Option<String>,
    /// Lifetimes and timers set here.
    pub timers: Timers,
    /// `ddns-*` parameters set here.
    pub ddns: DdnsParams,
    /// Reservation lookup flags set here.
    pub reservation_flags: ReservationFlags,
    /// `match-client-id`.
    pub match_client_id: Option<bool>,
    /// `authoritative`.
    pub authoritative: Option<bool>,
    /// Boot fields set here.
    pub boot: BootFields,
    /// The subnet's client classes.
    pub classes: ClassGuard,
    /// The shared network holding it.
    pub shared_network: Option<String>,
    /// Where it is.
    pub location: Location,
}

/// A DHCPv6 subnet.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet6 {
    /// Subnet id (assigned when the file has none, with a warning).
    pub id: u32,
    /// The prefix.
    pub prefix: Ipv6Network,
    /// Address pools (IA_NA).
    pub pools: Vec<Pool<Ipv6Addr>>,
    /// Prefix delegation pools (IA_PD).
    pub pd_pools: Vec<PdPool>,
    /// Reservations.
    pub reservations: Vec<Reservation>,
    /// Subnet options.
    pub option_data: Vec<OptionData>,
    /// Relay addresses that select this subnet.
    pub relay_addresses: Vec<IpAddr>,
    /// Directly attached interface.
    pub interface: Option<String>,
    /// `interface-id`: the relay's interface-id option (18) that selects it.
    pub interface_id: Option<String>,
    /// `rapid-commit`.
    pub rapid_commit: Option<bool>,
    /// Lifetimes and timers set here.
    pub timers: Timers,
    /// `ddns-*` parameters set here.
    pub ddns: DdnsParams,
    /// Reservation lookup flags set here.
    pub reservation_flags: ReservationFlags,
    /// The subnet's client classes.
    pub classes: ClassGuard,
    /// The shared network holding it.
    pub shared_network: Option<String>,
    /// Where it is.
    pub location: Location,
}

impl Dhcp4 {
    /// The subnet with this id.
    pub fn subnet(&self, id: u32) -> Option<&Subnet4> {
        self.subnets.iter().find(|s| s.id == id)
    }

    /// The first subnet (in file order) whose prefix holds `a`.
    pub fn subnet_holding(&self, a: Ipv4Addr) -> Option<&Subnet4> {
        self.subnets.iter().find(|s| s.prefix.contains(a))
    }

    /// The shared network holding `s`, if any.
    pub fn network_of(&self, s: &Subnet4) -> Option<&SharedNetwork> {
        let name = s.shared_network.as_ref()?;
        self.shared_networks.iter().find(|n| &n.name == name)
    }

    /// The timers in force for `s`, innermost first: the subnet, its shared network,
    /// the global level (Kea's inheritance; the first scope setting a timer wins).
    pub fn timer_scopes<'a>(&'a self, s: &'a Subnet4) -> Vec<&'a Timers> {
        let mut out = vec![&s.timers];
        out.extend(self.network_of(s).map(|n| &n.timers));
        out.push(&self.timers);
        out
    }

    /// The `ddns-*` scopes of `s`, innermost first: the subnet, its shared network, the
    /// global level.
    pub fn ddns_scopes<'a>(&'a self, s: &'a Subnet4) -> Vec<&'a DdnsParams> {
        let mut out = vec![&s.ddns];
        out.extend(self.network_of(s).map(|n| &n.ddns));
        out.push(&self.ddns);
        out
    }

    /// The `ddns-*` parameters in force for address `a` of subnet `s`: those of the pool
    /// holding it, else the subnet's, shared network's, global ones, merged.
    pub fn ddns_for(&self, s: &Subnet4, a: Ipv4Addr) -> DdnsParams {
        let mut scopes = self.ddns_scopes(s);
        let v = u32::from(a);
        if let Some(p) = s
            .pools
            .iter()
            .find(|p| (u32::from(p.first)..=u32::from(p.last)).contains(&v))
        {
            scopes.insert(0, &p.ddns);
        }
        DdnsParams::merged(&scopes)
    }
}

impl Dhcp6 {
    /// The subnet with this id.
    pub fn subnet(&self, id: u32) -> Option<&Subnet6> {
        self.subnets.iter().find(|s| s.id == id)
    }

    /// The first subnet (in file order) whose prefix holds `a`.
    pub fn subnet_holding(&self, a: Ipv6Addr) -> Option<&Subnet6> {
        self.subnets.iter().find(|s| s.prefix.contains(a))
    }

    /// The timers in force for `s`, innermost first: the subnet, its shared network,
    /// the global level.
    pub fn timer_scopes<'a>(&'a self, s: &'a Subnet6) -> Vec<&'a Timers> {
        let mut out = vec![&s.timers];
        out.extend(
            s.shared_network
                .as_ref()
                .and_then(|name| self.shared_networks.iter().find(|n| &n.name == name))
                .map(|n| &n.timers),
        );
        out.push(&self.timers);
        out
    }
}

/// A prefix delegation pool.
#[derive(Debug, Clone, PartialEq)]
pub struct PdPool {
    /// The pool's prefix.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub prefix_len: u8,
    /// Length of each delegated prefix.
    pub delegated_len: u8,
    /// RFC 6603 excluded prefix and its length.
    pub excluded: Option<(Ipv6Addr, u8)>,
    /// `pool-id`, 0 when not set.
    pub pool_id: u32,
    /// Pool options.
    pub option_data: Vec<OptionData>,
    /// Where it is.
    pub location: Location,
}

/// A shared network's own parameters (inherited by its subnets).
#[derive(Debug, Clone, PartialEq)]
pub struct SharedNetwork {
    /// Its name.
    pub name: String,
    /// Directly attached interface.
    pub interface: Option<String>,
    /// Relay addresses.
    pub relay_addresses: Vec<IpAddr>,
    /// Options.
    pub option_data: Vec<OptionData>,
    /// Lifetimes and timers.
    pub timers: Timers,
    /// `ddns-*` parameters.
    pub ddns: DdnsParams,
    /// Reservation lookup flags.
    pub reservation_flags: ReservationFlags,
    /// The network's client classes.
    pub classes: ClassGuard,
    /// Where it is.
    pub location: Location,
}

/// What both families read for a subnet.
struct SubnetBase<A> {
    id: Option<u32>,
    /// The id was given but is invalid (already reported): do not assign one.
    bad_id: bool,
    prefix: Prefix<A>,
    pools: Vec<Pool<A>>,
    reservations: Vec<Reservation>,
    option_data: Vec<OptionData>,
    relay_addresses: Vec<IpAddr>,
    interface: Option<String>,
    timers: Timers,
    ddns: DdnsParams,
    reservation_flags: ReservationFlags,
    classes: ClassGuard,
    location: Location,
    path: String,
}

fn read_subnet<A: Family + Into<IpAddr>>(
    s: &Map<'_>,
    cx: &mut Cx,
    reg: &mut SubnetRegistry,
    unique_addresses: bool,
) -> Option<SubnetBase<A>> {
    let v6 = A::BITS == 128;
    let id = read_subnet_id(s, cx, reg);
    let text = s.required_str(cx, "subnet")?;
    let node = s.get("subnet").expect("read above");
    let path = s.path_of("subnet");
    let prefix = match parse_prefix::<A>(text) {
        Ok(p) => p,
        Err(msg) => {
            cx.error(&node.location, &path, msg);
            return None;
        }
    };
    let shown = format!("{}/{}", prefix.addr, prefix.len);
    if prefix.had_host_bits {
        cx.warn(
            &node.location,
            &path,
            format!("\"{}\" has host bits set; read as {shown}", excerpt(text)),
        );
    }
    reg.claim_prefix(cx, (prefix.first(), prefix.len), &shown, node, &path);
    let bounds = (prefix.first(), prefix.last(), shown.as_str());
    let base = SubnetBase {
        id: id.ok().flatten(),
        bad_id: id.is_err(),
        prefix,
        pools: read_pools::<A>(s, cx, bounds),
        reservations: read_reservations::<A>(s, cx, Some(bounds), unique_addresses),
        option_data: read_options(s, cx, v6),
        relay_addresses: read_relay::<A>(s, cx),
        interface: s.non_empty_str("interface").map(str::to_string),
        timers: Timers::read(s, cx),
        ddns: DdnsParams::read(s, cx),
        reservation_flags: ReservationFlags::read(s),
        classes: ClassGuard::read(s),
        location: s.location().clone(),
        path: s.path.clone(),
    };
    Some(base)
}

fn read_shared_network<A: Family + Into<IpAddr>>(
    n: &Map<'_>,
    cx: &mut Cx,
) -> Option<SharedNetwork> {
    let name = n.required_str(cx, "name")?;
    if name.is_empty() {
        let node = n.get("name").expect("read above");
        cx.error(
            &node.location,
            &n.path_of("name"),
            "shared network name must not be empty",
        );
    }
    Some(SharedNetwork {
        name: name.to_string(),
        interface: n.non_empty_str("interface").map(str::to_string),
        relay_addresses: read_relay::<A>(n, cx),
        option_data: read_options(n, cx, A::BITS == 128),
        timers: Timers::read(n, cx),
        ddns: DdnsParams::read(n, cx),
        reservation_flags: ReservationFlags::read(n),
        classes: ClassGuard::read(n),
        location: n.location().clone(),
    })
}

/// Reads the subnets of a section in Kea's order (shared networks' subnets first, which is
/// the order Kea numbered id-less subnets in), calling `build` for each.
fn read_all_subnets<A, T>(
    sec: &Map<'_>,
    cx: &mut Cx,
    key: &str,
    unique_addresses: bool,
    mut build: impl FnMut(&Map<'_>, &mut Cx, SubnetBase<A>, Option<&str>) -> T,
    set_id: impl Fn(&mut T, u32),
) -> (Vec<T>, Vec<SharedNetwork>)
where
    A: Family + Into<IpAddr>,
{
    let mut reg = SubnetRegistry::new();
    let mut networks = Vec::new();
    let mut names: Vec<(String, Location)> = Vec::new();
    let mut in_networks: Vec<T> = Vec::new();
    let mut pending: Vec<(bool, usize, Location, String)> = Vec::new();
    for n in sec.maps("shared-networks") {
        let Some(net) = read_shared_network::<A>(&n, cx) else {
            continue;
        };
        if let Some((_, prev)) = names.iter().find(|(name, _)| *name == net.name) {
            let node = n.get("name").expect("read above");
            cx.error(
                &node.location,
                &n.path_of("name"),
                format!(
                    "shared network \"{}\" is already defined at {}:{}",
                    excerpt(&net.name),
                    prev.line,
                    prev.column
                ),
            );
        }
        names.push((net.name.clone(), net.location.clone()));
        for s in n.maps(key) {
            if let Some(base) = read_subnet::<A>(&s, cx, &mut reg, unique_addresses) {
                if base.id.is_none() && !base.bad_id {
                    pending.push((
                        true,
                        in_networks.len(),
                        base.location.clone(),
                        base.path.clone(),
                    ));
                }
                let t = build(&s, cx, base, Some(&net.name));
                in_networks.push(t);
            }
        }
        networks.push(net);
    }
    let mut top: Vec<T> = Vec::new();
    for s in sec.maps(key) {
        if let Some(base) = read_subnet::<A>(&s, cx, &mut reg, unique_addresses) {
            if base.id.is_none() && !base.bad_id {
                pending.push((false, top.len(), base.location.clone(), base.path.clone()));
            }
            let t = build(&s, cx, base, None);
            top.push(t);
        }
    }
    let order: Vec<(usize, Location, String)> = pending
        .iter()
        .enumerate()
        .map(|(i, (_, _, loc, path))| (i, loc.clone(), path.clone()))
        .collect();
    let mut assigned: Vec<u32> = vec![0; pending.len()];
    assign_missing_ids(cx, &reg, order, |i, id| assigned[i] = id);
    for ((in_net, index, _, _), id) in pending.iter().zip(assigned) {
        let list = if *in_net { &mut in_networks } else { &mut top };
        set_id(&mut list[*index], id);
    }
    top.extend(in_networks);
    (top, networks)
}

fn read_databases(sec: &Map<'_>, cx: &mut Cx) -> (Option<DatabaseConfig>, Vec<DatabaseConfig>) {
    let lease = sec
        .map("lease-database")
        .and_then(|d| read_database(&d, cx));
    let mut hosts: Vec<DatabaseConfig> = sec
        .map("hosts-database")
        .and_then(|d| read_database(&d, cx))
        .into_iter()
        .collect();
    if sec.has("hosts-database") && sec.has("hosts-databases") {
        cx.error(
            sec.location(),
            &sec.path,
            "\"hosts-database\" and \"hosts-databases\" are mutually exclusive",
        );
    }
    for d in sec.maps("hosts-databases") {
        hosts.extend(read_database(&d, cx));
    }
    (lease, hosts)
}

pub(crate) fn read_dhcp4(node: &Node, cx: &mut Cx) -> Option<Dhcp4> {
    let sec = Map::new(node, "Dhcp4")?;
    let unique = sec.bool("ip-reservations-unique").unwrap_or(true);
    let (subnets, shared_networks) = read_all_subnets::<Ipv4Addr, Subnet4>(
        &sec,
        cx,
        "subnet4",
        unique,
        |s, cx, b, net| Subnet4 {
            id: b.id.unwrap_or(0),
            prefix: Ipv4Network::new(b.prefix.addr, b.prefix.len).expect("length checked"),
            pools: b.pools,
            reservations: b.reservations,
            option_data: b.option_data,
            relay_addresses: b.relay_addresses,
            interface: b.interface,
            timers: b.timers,
            ddns: b.ddns,
            reservation_flags: b.reservation_flags,
            match_client_id: s.bool("match-client-id"),
            authoritative: s.bool("authoritative"),
            boot: BootFields::read(s, cx),
            classes: b.classes,
            shared_network: net.map(str::to_string),
            location: b.location,
        },
        |s, id| s.id = id,
    );
    let mut ddns = DdnsParams::read(&sec, cx);
    let dhcp_ddns = read_dhcp_ddns(&sec, cx, &mut ddns);
    let (lease_database, hosts_databases) = read_databases(&sec, cx);
    let option_defs = read_option_defs(&sec, cx);
    let client_classes = read_classes(&sec, cx, false, &option_defs);
    Some(Dhcp4 {
        interfaces: read_interfaces::<Ipv4Addr>(&sec, cx),
        timers: Timers::read(&sec, cx),
        ddns,
        reservation_flags: ReservationFlags::read(&sec),
        match_client_id: sec.bool("match-client-id"),
        authoritative: sec.bool("authoritative"),
        boot: BootFields::read(&sec, cx),
        host_reservation_identifiers: read_identifier_list(&sec, cx, false),
        option_data: read_options(&sec, cx, false),
        flex_options: read_flex_options(&sec, cx, false, &option_defs),
        option_defs,
        client_classes,
        reservations: read_reservations::<Ipv4Addr>(&sec, cx, None, unique),
        subnets,
        shared_networks,
        hooks: read_hooks(&sec, cx),
        dhcp_ddns,
        lease_database,
        hosts_databases,
        control_sockets: read_control_sockets(&sec, cx),
        raw: node.clone(),
    })
}

pub(crate) fn read_dhcp6(node: &Node, cx: &mut Cx) -> Option<Dhcp6> {
    let sec = Map::new(node, "Dhcp6")?;
    let unique = sec.bool("ip-reservations-unique").unwrap_or(true);
    let (subnets, shared_networks) = read_all_subnets::<Ipv6Addr, Subnet6>(
        &sec,
        cx,
        "subnet6",
        unique,
        |s, cx, b, net| Subnet6 {
            id: b.id.unwrap_or(0),
            prefix: Ipv6Network::new(b.prefix.addr, b.prefix.len).expect("length checked"),
            pools: b.pools,
            pd_pools: read_pd_pools(s, cx),
            reservations: b.reservations,
            option_data: b.option_data,
            relay_addresses: b.relay_addresses,
            interface: b.interface,
            interface_id: s.non_empty_str("interface-id").map(str::to_string),
            rapid_commit: s.bool("rapid-commit"),
            timers: b.timers,
            ddns: b.ddns,
            reservation_flags: b.reservation_flags,
            classes: b.classes,
            shared_network: net.map(str::to_string),
            location: b.location,
        },
        |s, id| s.id = id,
    );
    let mut ddns = DdnsParams::read(&sec, cx);
    let dhcp_ddns = read_dhcp_ddns(&sec, cx, &mut ddns);
    let (lease_database, hosts_databases) = read_databases(&sec, cx);
    Some(Dhcp6 {
        interfaces: read_interfaces::<Ipv6Addr>(&sec, cx),
        timers: Timers::read(&sec, cx),
        ddns,
        reservation_flags: ReservationFlags::read(&sec),
        host_reservation_identifiers: read_identifier_list(&sec, cx, true),
        option_data: read_options(&sec, cx, true),
        client_classes: read_classes(&sec, cx, true, &[]),
        reservations: read_reservations::<Ipv6Addr>(&sec, cx, None, unique),
        subnets,
        shared_networks,
        hooks: read_hooks(&sec, cx),
        dhcp_ddns,
        lease_database,
        hosts_databases,
        control_sockets: read_control_sockets(&sec, cx),
        raw: node.clone(),
    })
}

fn read_pd_pools(s: &Map<'_>, cx: &mut Cx) -> Vec<PdPool> {
    let mut out: Vec<PdPool> = Vec::new();
    for p in s.maps("pd-pools") {
        let Some(text) = p.required_str(cx, "prefix") else {
            continue;
        };
        let node = p.get("prefix").expect("read above");
        let prefix: Ipv6Addr = match parse_addr(text) {
            Ok(a) => a,
            Err(msg) => {
                cx.error(&node.location, &p.path_of("prefix"), msg);
                continue;
            }
        };
        let (Some(plen), Some(dlen)) = (
            required_len(&p, cx, "prefix-len"),
            required_len(&p, cx, "delegated-len"),
        ) else {
            continue;
        };
        if dlen < plen {
            let n = p.get("delegated-len").expect("read above");
            cx.error(&n.location, &p.path_of("delegated-len"), format!("delegated length ({dlen}) must be longer than or equal to prefix length ({plen})"));
            continue;
        }
        let mask = |len: u8| {
            if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            }
        };
        let first = u128::from(prefix) & mask(plen);
        let last = first | !mask(plen);
        let excluded = match (p.get("excluded-prefix"), p.get("excluded-prefix-len")) {
            (None, None) => None,
            (Some(en), Some(_)) => {
                let Some(eaddr) = en.as_str().and_then(|t| parse_addr::<Ipv6Addr>(t).ok()) else {
                    cx.error(
                        &en.location,
                        &p.path_of("excluded-prefix"),
                        format!("{} is not an IPv6 address", en.describe()),
                    );
                    continue;
                };
                let Some(elen) = required_len(&p, cx, "excluded-prefix-len") else {
                    continue;
                };
                if elen <= dlen {
                    let n = p.get("excluded-prefix-len").expect("read above");
                    cx.error(&n.location, &p.path_of("excluded-prefix-len"), format!("excluded prefix length ({elen}) must be longer than the delegated length ({dlen})"));
                    continue;
                }
                if u128::from(eaddr) & mask(dlen) != first & mask(dlen) {
                    cx.error(&en.location, &p.path_of("excluded-prefix"), format!("excluded prefix {eaddr}/{elen} must have the same first {dlen} bits as the delegated prefix {}/{dlen}", Ipv6Addr::from(first)));
                    continue;
                }
                Some((eaddr, elen))
            }
            _ => {
                cx.error(
                    p.location(),
                    &p.path,
                    "\"excluded-prefix\" and \"excluded-prefix-len\" go together",
                );
                continue;
            }
        };
        if let Some(other) = out.iter().find(|o| {
            let of = u128::from(o.prefix);
            let ol = of | !mask(o.prefix_len);
            first <= ol && of <= last
        }) {
            cx.error(
                &node.location,
                &p.path_of("prefix"),
                format!(
                    "pd-pool {}/{plen} overlaps pd-pool {}/{} at {}:{}",
                    Ipv6Addr::from(first),
                    other.prefix,
                    other.prefix_len,
                    other.location.line,
                    other.location.column
                ),
            );
            continue;
        }
        out.push(PdPool {
            prefix: Ipv6Addr::from(first),
            prefix_len: plen,
            delegated_len: dlen,
            excluded,
            pool_id: p.u32(cx, "pool-id").unwrap_or(0),
            option_data: read_options(&p, cx, true),
            location: p.location().clone(),
        });
    }
    out
}

fn required_len(p: &Map<'_>, cx: &mut Cx, key: &str) -> Option<u8> {
    if !p.has(key) {
        cx.error(
            p.location(),
            &p.path,
            format!("missing parameter \"{key}\""),
        );
        return None;
    }
    p.int_in(cx, key, 1, 128).map(|v| v as u8)
}
