//! The DHCPv6 server's runtime configuration, resolved once from the validated `Dhcp6`
//! section: inheritance (global → shared network → subnet → pool) applied, options
//! encoded, defaults filled in as Kea 2.2 and 3.x fill them.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use ipnetwork::Ipv6Network;
use tern_config::option_defs::{by_code6, by_name6};
use tern_config::{Dhcp6, IdentifierType, OptionData, Reservation, Timers};
use tracing::warn;

use crate::config::ConfigError;
use crate::ddns::DdnsConfig;
use crate::options::{encode, parse_hex, OptionError};

/// Kea's default `valid-lifetime` for DHCPv6 (seconds).
pub const DEFAULT_VALID_LIFETIME: u32 = 7200;
/// Kea's default `t1-percent` for DHCPv6.
pub const DEFAULT_T1_PERCENT: f64 = 0.5;
/// Kea's default `t2-percent` for DHCPv6.
pub const DEFAULT_T2_PERCENT: f64 = 0.8;
/// Kea's default `decline-probation-period` (seconds).
pub const DEFAULT_DECLINE_PROBATION: u32 = 86400;

/// The standard option space.
pub const DHCP6: &str = "dhcp6";

/// Encoded options of one scope: code → (value, always-send). Later scopes override
/// earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionSet6 {
    /// code → (value, always-send).
    pub map: BTreeMap<u16, (Vec<u8>, bool)>,
}

impl OptionSet6 {
    /// Encodes the `dhcp6` entries of `option-data` with Kea's standard definitions
    /// (by name or code; an unknown code with `csv-format: false` is sent as its hex).
    /// `never-send` entries remove the option; entries of other spaces are warned
    /// about and left out (vendor spaces come with client classes, issue 20).
    pub fn from_config(items: &[OptionData]) -> Result<OptionSet6, ConfigError> {
        let mut set = OptionSet6::default();
        for o in items {
            if o.space != DHCP6 {
                warn!(
                    "DHCP6_OPTION_SPACE_UNSUPPORTED {}: options of space \"{}\" are not sent yet",
                    o.location, o.space
                );
                continue;
            }
            match encode_entry(o) {
                Ok((code, value)) if o.never_send => {
                    let _ = value;
                    set.map.remove(&code);
                }
                Ok((code, value)) => {
                    set.map.insert(code, (value, o.always_send));
                }
                Err(e @ (OptionError::UnknownName(_) | OptionError::NoDefinition(_))) => warn!(
                    "DHCP6_OPTION_NOT_SENT {}: {e} in space \"{DHCP6}\"; the option is not sent",
                    o.location
                ),
                Err(source) => {
                    return Err(ConfigError::Option {
                        at: o.location.to_string(),
                        source,
                    })
                }
            }
        }
        Ok(set)
    }

    /// This set with `over` laid on top.
    pub fn overlay(&self, over: &OptionSet6) -> OptionSet6 {
        let mut m = self.map.clone();
        for (k, v) in &over.map {
            m.insert(*k, v.clone());
        }
        OptionSet6 { map: m }
    }
}

/// One `option-data` entry of space `dhcp6`: (code, value bytes).
fn encode_entry(o: &OptionData) -> Result<(u16, Vec<u8>), OptionError> {
    let def = match (o.name.as_deref(), o.code) {
        (Some(n), code) => {
            let d = by_name6(n).ok_or_else(|| OptionError::UnknownName(n.to_string()))?;
            if let Some(c) = code.filter(|c| *c != d.code) {
                return Err(OptionError::BadValue {
                    name: n.to_string(),
                    code: 0,
                    why: format!("option {n} has code {}, not {c}", d.code),
                });
            }
            Some(d)
        }
        (None, Some(c)) => by_code6(c),
        (None, None) => return Err(OptionError::BadCode(0)),
    };
    let code = def.map(|d| d.code).or(o.code).unwrap_or(0);
    if code == 0 {
        return Err(OptionError::BadCode(0));
    }
    let label = || o.name.clone().unwrap_or_else(|| code.to_string());
    let bad = |why: String| OptionError::BadValue {
        name: label(),
        code: 0,
        why,
    };
    if !o.csv_format {
        return Ok((code, parse_hex(&o.data).map_err(bad)?));
    }
    let Some(def) = def else {
        return Err(OptionError::NoDefinition(code));
    };
    Ok((code, encode(def.kind, &o.data).map_err(bad)?))
}

/// Lifetimes and timers in force for a subnet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Times6 {
    /// `valid-lifetime`.
    pub valid: u32,
    /// `min-valid-lifetime` (the default when not set).
    pub min_valid: u32,
    /// `max-valid-lifetime` (the default when not set).
    pub max_valid: u32,
    /// `preferred-lifetime`.
    pub preferred: u32,
    /// `min-preferred-lifetime`.
    pub min_preferred: u32,
    /// `max-preferred-lifetime`.
    pub max_preferred: u32,
    /// Explicit T1.
    pub renew: Option<u32>,
    /// Explicit T2.
    pub rebind: Option<u32>,
    /// `calculate-tee-times` (true by default in DHCPv6).
    pub calculate: bool,
    /// `t1-percent`.
    pub t1_percent: f64,
    /// `t2-percent`.
    pub t2_percent: f64,
}

impl Times6 {
    /// Resolves from the innermost scope outwards. A preferred lifetime that is unset
    /// or above the valid lifetime is 0.625 × valid (Kea's default: 4500 s for 7200).
    pub fn resolve(scopes: &[&Timers]) -> Times6 {
        fn first<T: Copy>(scopes: &[&Timers], f: impl Fn(&Timers) -> Option<T>) -> Option<T> {
            scopes.iter().find_map(|t| f(t))
        }
        let valid = first(scopes, |t| t.valid_lifetime).unwrap_or(DEFAULT_VALID_LIFETIME);
        let preferred = first(scopes, |t| t.preferred_lifetime)
            .filter(|p| *p <= valid)
            .unwrap_or_else(|| (f64::from(valid) * 0.625).round() as u32);
        Times6 {
            valid,
            min_valid: first(scopes, |t| t.min_valid_lifetime).unwrap_or(valid),
            max_valid: first(scopes, |t| t.max_valid_lifetime).unwrap_or(valid),
            preferred,
            min_preferred: first(scopes, |t| t.min_preferred_lifetime).unwrap_or(preferred),
            max_preferred: first(scopes, |t| t.max_preferred_lifetime).unwrap_or(preferred),
            renew: first(scopes, |t| t.renew_timer),
            rebind: first(scopes, |t| t.rebind_timer),
            calculate: first(scopes, |t| t.calculate_tee_times).unwrap_or(true),
            t1_percent: first(scopes, |t| t.t1_percent).unwrap_or(DEFAULT_T1_PERCENT),
            t2_percent: first(scopes, |t| t.t2_percent).unwrap_or(DEFAULT_T2_PERCENT),
        }
    }
}

/// An address pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool6 {
    /// First address.
    pub first: Ipv6Addr,
    /// Last address.
    pub last: Ipv6Addr,
    /// `pool-id` (0 when not set).
    pub pool_id: u32,
    /// Pool options.
    pub options: OptionSet6,
    /// DDNS parameters in force for its addresses.
    pub ddns: DdnsConfig,
}

impl Pool6 {
    /// Number of addresses.
    pub fn size(&self) -> u128 {
        u128::from(self.last) - u128::from(self.first) + 1
    }

    /// Whether `a` is in it.
    pub fn contains(&self, a: Ipv6Addr) -> bool {
        (self.first..=self.last).contains(&a)
    }
}

/// A prefix delegation pool.
#[derive(Debug, Clone, PartialEq)]
pub struct PdPool6 {
    /// The pool's prefix.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub prefix_len: u8,
    /// Length of each delegated prefix.
    pub delegated_len: u8,
    /// RFC 6603 excluded prefix.
    pub excluded: Option<(Ipv6Addr, u8)>,
    /// `pool-id`.
    pub pool_id: u32,
    /// Pool options.
    pub options: OptionSet6,
}

impl PdPool6 {
    /// Number of delegated prefixes (saturating at `u128::MAX` for a /0 of /128s).
    pub fn size(&self) -> u128 {
        let bits = u32::from(self.delegated_len - self.prefix_len);
        1u128.checked_shl(bits).unwrap_or(u128::MAX)
    }

    /// The `n`th delegated prefix.
    pub fn nth(&self, n: u128) -> Ipv6Addr {
        let shift = 128 - u32::from(self.delegated_len);
        let offset = n.checked_shl(shift).unwrap_or(0);
        Ipv6Addr::from(u128::from(self.prefix) | offset)
    }

    /// Whether the delegated prefix `p`/`len` comes from this pool.
    pub fn holds(&self, p: Ipv6Addr, len: u8) -> bool {
        len == self.delegated_len && in_prefix(p, self.prefix, self.prefix_len)
    }
}

/// Whether `a` is in `prefix`/`len`.
pub fn in_prefix(a: Ipv6Addr, prefix: Ipv6Addr, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    };
    u128::from(a) & mask == u128::from(prefix) & mask
}

/// A reservation, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host6 {
    /// (Kea identifier type code, bytes): 0 hw-address, 1 duid, 4 flex-id.
    pub identifier: (i16, Vec<u8>),
    /// Reserved addresses.
    pub addresses: Vec<Ipv6Addr>,
    /// Reserved prefixes.
    pub prefixes: Vec<(Ipv6Addr, u8)>,
    /// Reserved host name.
    pub hostname: Option<String>,
    /// Host options.
    pub options: OptionSet6,
}

impl Host6 {
    fn from_config(r: &Reservation) -> Result<Host6, ConfigError> {
        Ok(Host6 {
            identifier: (
                i16::from(r.identifier.kind.kea_code()),
                r.identifier.value.clone(),
            ),
            addresses: r
                .ip_addresses
                .iter()
                .filter_map(|a| match a {
                    IpAddr::V6(a) => Some(*a),
                    IpAddr::V4(_) => None,
                })
                .collect(),
            prefixes: r.prefixes.clone(),
            hostname: r.hostname.clone(),
            options: OptionSet6::from_config(&r.option_data)?,
        })
    }
}

/// One subnet, everything inherited resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet6 {
    /// Subnet id.
    pub id: u32,
    /// Prefix.
    pub prefix: Ipv6Network,
    /// Address pools.
    pub pools: Vec<Pool6>,
    /// Prefix delegation pools.
    pub pd_pools: Vec<PdPool6>,
    /// Options (global, shared network and subnet merged).
    pub options: OptionSet6,
    /// Relay addresses selecting it (`relay.ip-addresses`).
    pub relays: Vec<Ipv6Addr>,
    /// Interface it is attached to.
    pub interface: Option<String>,
    /// `interface-id` a relay names it by.
    pub interface_id: Option<Vec<u8>>,
    /// `rapid-commit` (default false).
    pub rapid_commit: bool,
    /// Lifetimes and timers.
    pub times: Times6,
    /// Reservations of this subnet.
    pub hosts: Vec<Host6>,
    /// The shared network holding it.
    pub shared_network: Option<String>,
    /// DDNS parameters for addresses outside the pools (reservations).
    pub ddns: DdnsConfig,
}

impl Subnet6 {
    /// The DDNS parameters for an address: its pool's, else the subnet's.
    pub fn ddns_for(&self, a: Ipv6Addr) -> &DdnsConfig {
        self.pool_of(a).map_or(&self.ddns, |p| &p.ddns)
    }

    /// The address pool holding `a`.
    pub fn pool_of(&self, a: Ipv6Addr) -> Option<&Pool6> {
        self.pools.iter().find(|p| p.contains(a))
    }

    /// The prefix pool `p`/`len` comes from.
    pub fn pd_pool_of(&self, p: Ipv6Addr, len: u8) -> Option<&PdPool6> {
        self.pd_pools.iter().find(|pool| pool.holds(p, len))
    }

    /// Addresses in the pools (saturating).
    pub fn total_addresses(&self) -> u128 {
        self.pools
            .iter()
            .fold(0u128, |n, p| n.saturating_add(p.size()))
    }

    /// Delegable prefixes in the pd-pools (saturating).
    pub fn total_prefixes(&self) -> u128 {
        self.pd_pools
            .iter()
            .fold(0u128, |n, p| n.saturating_add(p.size()))
    }

    /// Addresses reserved in this subnet by the configuration.
    pub fn reserved_addresses(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        self.hosts.iter().flat_map(|h| h.addresses.iter().copied())
    }
}

/// `server-id` (Kea's keys): which DUID the server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdConfig {
    /// `type`: LLT (default), EN or LL.
    pub kind: String,
    /// `identifier` (hex): the link-layer address or the enterprise's identifier.
    pub identifier: Option<Vec<u8>>,
    /// `htype` (default 1, Ethernet).
    pub htype: u16,
    /// `time` (DUID-LLT).
    pub time: Option<u32>,
    /// `enterprise-id` (default 2495, ISC).
    pub enterprise_id: u32,
    /// `persist` (default true).
    pub persist: bool,
}

impl Default for ServerIdConfig {
    fn default() -> Self {
        ServerIdConfig {
            kind: "LLT".into(),
            identifier: None,
            htype: 1,
            time: None,
            enterprise_id: 2495,
            persist: true,
        }
    }
}

impl ServerIdConfig {
    /// Whether the file fixes the whole DUID (type plus identifier): then it is used
    /// as given and replaces the stored one.
    pub fn explicit(&self) -> bool {
        self.identifier.is_some()
    }

    /// The DUID these keys describe, with `mac` and `now` (seconds since
    /// 2000-01-01, RFC 8415 §11.2) where the file gives none.
    pub fn duid(&self, mac: &[u8], now: u32) -> Vec<u8> {
        let id = self.identifier.clone().unwrap_or_else(|| mac.to_vec());
        let mut out = Vec::new();
        match self.kind.as_str() {
            "EN" => {
                out.extend(2u16.to_be_bytes());
                out.extend(self.enterprise_id.to_be_bytes());
                out.extend(id);
            }
            "LL" => {
                out.extend(3u16.to_be_bytes());
                out.extend(self.htype.to_be_bytes());
                out.extend(id);
            }
            _ => {
                out.extend(1u16.to_be_bytes());
                out.extend(self.htype.to_be_bytes());
                out.extend(self.time.unwrap_or(now).to_be_bytes());
                out.extend(id);
            }
        }
        out
    }
}

/// How non-relayed unicast is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnicastPolicy {
    /// Kea 3.0 (RFC 8415): REQUEST, RENEW, RELEASE and DECLINE may come by unicast;
    /// SOLICIT, CONFIRM, REBIND and INFORMATION-REQUEST by unicast are dropped.
    #[default]
    Kea30,
    /// RFC 9915 (Kea ≥ 3.1.9): every non-relayed unicast message is dropped.
    Rfc9915,
}

/// The whole DHCPv6 server configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config6 {
    /// Subnets, in the order of the file.
    pub subnets: Vec<Subnet6>,
    /// Global options (INFORMATION-REQUEST without a subnet gets these).
    pub global_options: OptionSet6,
    /// Global reservations.
    pub global_hosts: Vec<Host6>,
    /// Host identifiers to look reservations up by, in order (Kea type codes).
    pub identifiers: Vec<i16>,
    /// Interfaces to listen on.
    pub interfaces: tern_config::InterfacesConfig,
    /// `server-id`.
    pub server_id: ServerIdConfig,
    /// `decline-probation-period`.
    pub decline_probation: u32,
    /// `expired-leases-processing.reclaim-timer-wait-time` (seconds, default 10).
    pub reclaim_interval: u32,
    /// `expired-leases-processing.max-reclaim-leases` (default 100).
    pub max_reclaim_leases: u32,
    /// `expired-leases-processing.hold-reclaimed-time` (seconds, default 3600).
    pub hold_reclaimed_time: u32,
    /// Non-relayed unicast.
    pub unicast: UnicastPolicy,
}

fn raw_u32(node: &tern_config::jsonc::Node, key: &str) -> Option<u32> {
    node.as_object()
        .and_then(|o| o.get(key))
        .and_then(|n| n.as_i64())
        .and_then(|v| u32::try_from(v).ok())
}

impl Config6 {
    /// Resolves the validated `Dhcp6` section.
    pub fn from_config(c: &Dhcp6) -> Result<Config6, ConfigError> {
        let global_options = OptionSet6::from_config(&c.option_data)?;
        let mut subnets = Vec::new();
        for s in &c.subnets {
            let net = s
                .shared_network
                .as_ref()
                .and_then(|name| c.shared_networks.iter().find(|n| &n.name == name));
            let mut options = global_options.clone();
            let mut relays: Vec<IpAddr> = s.relay_addresses.clone();
            let mut interface = s.interface.clone();
            if let Some(n) = net {
                options = options.overlay(&OptionSet6::from_config(&n.option_data)?);
                if relays.is_empty() {
                    relays = n.relay_addresses.clone();
                }
                if interface.is_none() {
                    interface = n.interface.clone();
                }
            }
            options = options.overlay(&OptionSet6::from_config(&s.option_data)?);
            let enable = c.dhcp_ddns.enable_updates;
            let mut ddns_scopes = vec![&s.ddns];
            ddns_scopes.extend(net.map(|n| &n.ddns));
            ddns_scopes.push(&c.ddns);
            let pools = s
                .pools
                .iter()
                .map(|p| {
                    Ok(Pool6 {
                        first: p.first,
                        last: p.last,
                        pool_id: p.pool_id,
                        options: OptionSet6::from_config(&p.option_data)?,
                        ddns: DdnsConfig::resolve(
                            enable,
                            &[&[&p.ddns][..], &ddns_scopes[..]].concat(),
                        ),
                    })
                })
                .collect::<Result<Vec<_>, ConfigError>>()?;
            let pd_pools = s
                .pd_pools
                .iter()
                .map(|p| {
                    Ok(PdPool6 {
                        prefix: p.prefix,
                        prefix_len: p.prefix_len,
                        delegated_len: p.delegated_len,
                        excluded: p.excluded,
                        pool_id: p.pool_id,
                        options: OptionSet6::from_config(&p.option_data)?,
                    })
                })
                .collect::<Result<Vec<_>, ConfigError>>()?;
            let hosts = s
                .reservations
                .iter()
                .map(Host6::from_config)
                .collect::<Result<Vec<_>, _>>()?;
            subnets.push(Subnet6 {
                id: s.id,
                prefix: s.prefix,
                pools,
                pd_pools,
                options,
                relays: relays
                    .into_iter()
                    .filter_map(|a| match a {
                        IpAddr::V6(a) => Some(a),
                        IpAddr::V4(_) => None,
                    })
                    .collect(),
                interface,
                interface_id: s.interface_id.as_ref().map(|t| t.as_bytes().to_vec()),
                rapid_commit: s.rapid_commit.unwrap_or(false),
                times: Times6::resolve(&c.timer_scopes(s)),
                hosts,
                shared_network: s.shared_network.clone(),
                ddns: DdnsConfig::resolve(enable, &ddns_scopes),
            });
        }
        let global_hosts = c
            .reservations
            .iter()
            .map(Host6::from_config)
            .collect::<Result<Vec<_>, _>>()?;
        let identifiers = if c.host_reservation_identifiers.is_empty() {
            // Kea's default list for DHCPv6.
            vec![IdentifierType::HwAddress, IdentifierType::Duid]
        } else {
            c.host_reservation_identifiers.clone()
        };
        let raw = &c.raw;
        let elp = raw
            .as_object()
            .and_then(|o| o.get("expired-leases-processing"))
            .cloned();
        let elp_u32 = |key: &str, default: u32| {
            elp.as_ref()
                .and_then(|n| raw_u32(n, key))
                .unwrap_or(default)
        };
        let server_id = raw
            .as_object()
            .and_then(|o| o.get("server-id"))
            .map(|n| {
                let get = |k: &str| n.as_object().and_then(|o| o.get(k));
                let d = ServerIdConfig::default();
                ServerIdConfig {
                    kind: get("type")
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                        .unwrap_or(d.kind),
                    identifier: get("identifier")
                        .and_then(|v| v.as_str())
                        .filter(|t| !t.is_empty())
                        .and_then(|t| parse_hex(t).ok()),
                    htype: get("htype")
                        .and_then(|v| v.as_i64())
                        .and_then(|v| u16::try_from(v).ok())
                        .unwrap_or(d.htype),
                    time: get("time")
                        .and_then(|v| v.as_i64())
                        .and_then(|v| u32::try_from(v).ok()),
                    enterprise_id: get("enterprise-id")
                        .and_then(|v| v.as_i64())
                        .and_then(|v| u32::try_from(v).ok())
                        .unwrap_or(d.enterprise_id),
                    persist: get("persist").and_then(|v| v.as_bool()).unwrap_or(true),
                }
            })
            .unwrap_or_default();
        let unicast = match std::env::var("TERN_DHCP6_UNICAST").ok().as_deref() {
            Some("rfc9915") => UnicastPolicy::Rfc9915,
            _ => UnicastPolicy::Kea30,
        };
        Ok(Config6 {
            subnets,
            global_options,
            global_hosts,
            identifiers: identifiers
                .into_iter()
                .map(|t| i16::from(t.kea_code()))
                .collect(),
            interfaces: c.interfaces.clone(),
            server_id,
            decline_probation: raw_u32(raw, "decline-probation-period")
                .unwrap_or(DEFAULT_DECLINE_PROBATION),
            reclaim_interval: elp_u32("reclaim-timer-wait-time", 10),
            max_reclaim_leases: elp_u32("max-reclaim-leases", 100),
            hold_reclaimed_time: elp_u32("hold-reclaimed-time", 3600),
            unicast,
        })
    }

    /// `s` followed by the other subnets of its shared network, in file order.
    pub fn network_of<'a>(&'a self, s: &'a Subnet6) -> Vec<&'a Subnet6> {
        let mut out = vec![s];
        if let Some(n) = &s.shared_network {
            out.extend(
                self.subnets
                    .iter()
                    .filter(|o| o.id != s.id && o.shared_network.as_ref() == Some(n)),
            );
        }
        out
    }

    /// The subnet with this id.
    pub fn subnet(&self, id: u32) -> Option<&Subnet6> {
        self.subnets.iter().find(|s| s.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config6 {
        let c = tern_config::parse_str(text, "t.json").expect("valid");
        Config6::from_config(c.dhcp6.as_ref().expect("Dhcp6")).expect("servable")
    }

    #[test]
    fn kea_defaults_for_lifetimes_and_timers() {
        let c = config(
            r#"{"Dhcp6": {"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64",
                "pools": [{"pool": "2001:db8:1::10 - 2001:db8:1::20"}]}]}}"#,
        );
        let t = c.subnets[0].times;
        assert_eq!((t.valid, t.preferred), (7200, 4500));
        assert!(t.calculate);
        assert_eq!((t.t1_percent, t.t2_percent), (0.5, 0.8));
        assert_eq!(c.decline_probation, 86400);
        assert!(!c.subnets[0].rapid_commit);
        assert_eq!(c.identifiers, vec![0, 1]);
    }

    #[test]
    fn options_by_name_and_code_and_pd_pool_sizes() {
        let c = config(
            r#"{"Dhcp6": {
                "option-data": [{"name": "dns-servers", "data": "2001:db8::53, 2001:db8::54"},
                                {"code": 24, "data": "example.org"}],
                "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "rapid-commit": true,
                  "interface-id": "ethx",
                  "option-data": [{"name": "sntp-servers", "data": "2001:db8::123"}],
                  "pd-pools": [{"prefix": "2001:db8:8::", "prefix-len": 56, "delegated-len": 64}]}]}}"#,
        );
        let s = &c.subnets[0];
        assert_eq!(s.options.map[&23].0.len(), 32);
        assert_eq!(s.options.map[&24].0, b"\x07example\x03org\x00".to_vec());
        assert_eq!(s.options.map[&31].0.len(), 16);
        assert!(s.rapid_commit);
        assert_eq!(s.interface_id.as_deref(), Some(&b"ethx"[..]));
        let p = &s.pd_pools[0];
        assert_eq!(p.size(), 256);
        assert_eq!(p.nth(1), "2001:db8:8:1::".parse::<Ipv6Addr>().unwrap());
        assert!(p.holds("2001:db8:8:ff::".parse().unwrap(), 64));
        assert!(!p.holds("2001:db8:9::".parse().unwrap(), 64));
    }

    #[test]
    fn server_id_keys() {
        let c = config(
            r#"{"Dhcp6": {"server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "0102"}}}"#,
        );
        assert!(c.server_id.explicit());
        assert_eq!(c.server_id.duid(&[], 0), vec![0, 2, 0, 0, 0x09, 0xbf, 1, 2]);
        let d = ServerIdConfig::default();
        assert_eq!(
            d.duid(&[2, 0, 0, 0, 0, 1], 7),
            vec![0, 1, 0, 1, 0, 0, 0, 7, 2, 0, 0, 0, 0, 1]
        );
    }
}
