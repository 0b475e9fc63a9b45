//! The DHCPv4 server's runtime configuration, resolved once from the validated
//! `Dhcp4` section: inheritance (global → shared network → subnet → pool → host)
//! applied, options encoded, defaults filled in as Kea fills them.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipnetwork::Ipv4Network;
use tern_config::{
    BootFields, ClassGuard, Dhcp4, FlexOption, IdentifierType, OptionData, Reservation, Timers,
};
use tern_expr::Expr;
use tern_store::AddressRange;
use thiserror::Error;
use tracing::warn;

use crate::ddns::DdnsConfig;
use crate::options::{Definitions, OptionError, DHCP4};

/// Option 125, vendor-identifying vendor-specific information (RFC 3925).
pub const VIVSO: u8 = 125;

/// Kea's default `valid-lifetime` (seconds).
pub const DEFAULT_VALID_LIFETIME: u32 = 7200;
/// Kea's default `decline-probation-period` (seconds).
pub const DEFAULT_DECLINE_PROBATION: u32 = 86400;
/// Kea's default `t1-percent`.
pub const DEFAULT_T1_PERCENT: f64 = 0.5;
/// Kea's default `t2-percent`.
pub const DEFAULT_T2_PERCENT: f64 = 0.875;

/// A configuration the server cannot run with.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// An option's value cannot be encoded.
    #[error("{at}: {source}")]
    Option {
        /// Where (file:line:col).
        at: String,
        /// Why.
        source: OptionError,
    },
}

/// Encoded options of one scope: code → value. Later scopes override earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionSet {
    /// code → (value, always-send).
    pub map: BTreeMap<u8, (Vec<u8>, bool)>,
}

impl OptionSet {
    /// Encodes `option-data` entries with the definitions in force. Entries of other
    /// spaces become sub-options of the entry of this scope whose option encapsulates
    /// their space (a custom `option-def` with `encapsulate`, or option 43 for
    /// `vendor-encapsulated-options-space`). `never-send` entries remove the option.
    pub fn from_config(items: &[OptionData], defs: &Definitions) -> Result<OptionSet, ConfigError> {
        let mut set = OptionSet::default();
        set.merge_config(items, defs)?;
        Ok(set)
    }

    fn merge_config(
        &mut self,
        items: &[OptionData],
        defs: &Definitions,
    ) -> Result<(), ConfigError> {
        let encode = |o: &OptionData| -> Result<Option<(u8, Vec<u8>)>, ConfigError> {
            match defs.encode_entry(&o.space, o.name.as_deref(), o.code, &o.data, o.csv_format) {
                Ok(x) => Ok(Some(x)),
                // Options without a usable definition are left out, as the
                // configuration check said.
                Err(e @ (OptionError::UnknownName(_) | OptionError::NoDefinition(_))) => {
                    warn!(
                        "DHCP4_OPTION_NOT_SENT {}: {e} in space \"{}\"; the option is not sent",
                        o.location, o.space
                    );
                    Ok(None)
                }
                Err(source) => Err(ConfigError::Option {
                    at: o.location.to_string(),
                    source,
                }),
            }
        };
        // Sub-options first, by space, in the order given.
        let mut subs: BTreeMap<&str, Vec<(u8, Vec<u8>)>> = BTreeMap::new();
        for o in items.iter().filter(|o| o.space != DHCP4 && !o.never_send) {
            if let Some(x) = encode(o)? {
                subs.entry(o.space.as_str()).or_default().push(x);
            }
        }
        let mut used: Vec<String> = Vec::new();
        for o in items.iter().filter(|o| o.space == DHCP4) {
            let Some((code, mut value)) = encode(o)? else {
                continue;
            };
            if o.never_send {
                self.map.remove(&code);
                continue;
            }
            if code == VIVSO && value.len() == 4 {
                // RFC 3925 §4: enterprise number, data length, then the sub-options of
                // space `vendor-<enterprise>`.
                let enterprise = u32::from_be_bytes([value[0], value[1], value[2], value[3]]);
                let space = format!("vendor-{enterprise}");
                let mut data = Vec::new();
                for (c, v) in subs.get(space.as_str()).into_iter().flatten() {
                    data.push(*c);
                    data.push(v.len().min(255) as u8);
                    data.extend(&v[..v.len().min(255)]);
                }
                if data.len() <= 255 {
                    value.push(data.len() as u8);
                    value.extend(data);
                }
                used.push(space);
            } else if let Some(space) = defs.encapsulated(DHCP4, code) {
                if let Some((key, list)) = subs.get_key_value(space.as_str()) {
                    for (c, v) in list {
                        value.push(*c);
                        value.push(v.len().min(255) as u8);
                        value.extend(&v[..v.len().min(255)]);
                    }
                    used.push(key.to_string());
                }
            }
            self.map.insert(code, (value, o.always_send));
        }
        for space in subs.keys().filter(|s| !used.iter().any(|u| u == *s)) {
            warn!(
                "DHCP4_OPTION_SPACE_UNSUPPORTED options of space \"{space}\" are not sent: no option of the same scope encapsulates that space"
            );
        }
        Ok(())
    }

    /// This set with `over` laid on top.
    pub fn overlay(&self, over: &OptionSet) -> OptionSet {
        let mut m = self.map.clone();
        for (k, v) in &over.map {
            m.insert(*k, v.clone());
        }
        OptionSet { map: m }
    }

    /// Sets one option.
    pub fn set(&mut self, code: u8, value: Vec<u8>) {
        self.map.insert(code, (value, false));
    }
}

/// Lease lifetime and timers in force for a subnet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeaseTimes {
    /// Valid lifetime.
    pub valid: u32,
    /// `min-valid-lifetime`.
    pub min_valid: Option<u32>,
    /// `max-valid-lifetime`.
    pub max_valid: Option<u32>,
    /// Explicit T1.
    pub renew: Option<u32>,
    /// Explicit T2.
    pub rebind: Option<u32>,
    /// Compute T1/T2 from percentages when not explicit.
    pub calculate: bool,
    /// T1 percentage.
    pub t1_percent: f64,
    /// T2 percentage.
    pub t2_percent: f64,
}

impl LeaseTimes {
    /// Resolves the timers from the most specific scope outwards (`scopes[0]` is the
    /// innermost).
    pub fn resolve(scopes: &[&Timers]) -> LeaseTimes {
        fn first<T: Copy>(scopes: &[&Timers], f: impl Fn(&Timers) -> Option<T>) -> Option<T> {
            scopes.iter().find_map(|t| f(t))
        }
        LeaseTimes {
            valid: first(scopes, |t| t.valid_lifetime).unwrap_or(DEFAULT_VALID_LIFETIME),
            min_valid: first(scopes, |t| t.min_valid_lifetime),
            max_valid: first(scopes, |t| t.max_valid_lifetime),
            renew: first(scopes, |t| t.renew_timer),
            rebind: first(scopes, |t| t.rebind_timer),
            calculate: first(scopes, |t| t.calculate_tee_times).unwrap_or(false),
            t1_percent: first(scopes, |t| t.t1_percent).unwrap_or(DEFAULT_T1_PERCENT),
            t2_percent: first(scopes, |t| t.t2_percent).unwrap_or(DEFAULT_T2_PERCENT),
        }
    }
}

/// A reservation from the configuration (or the hosts table), resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// (Kea identifier type code, bytes).
    pub identifier: (i16, Vec<u8>),
    /// Reserved address.
    pub address: Option<Ipv4Addr>,
    /// Reserved host name.
    pub hostname: Option<String>,
    /// Host options.
    pub options: OptionSet,
    /// Boot fields.
    pub boot: BootFields,
    /// Classes the reservation puts the client in (`client-classes`).
    pub classes: Vec<String>,
}

impl Host {
    fn from_config(r: &Reservation, defs: &Definitions) -> Result<Host, ConfigError> {
        Ok(Host {
            identifier: (
                i16::from(r.identifier.kind.kea_code()),
                r.identifier.value.clone(),
            ),
            address: r.ip_addresses.iter().find_map(|a| match a {
                IpAddr::V4(a) => Some(*a),
                IpAddr::V6(_) => None,
            }),
            hostname: r.hostname.clone(),
            options: OptionSet::from_config(&r.option_data, defs)?,
            boot: r.boot.clone(),
            classes: r.client_classes.clone(),
        })
    }
}

/// Where reservations are looked up (Kea's `reservations-*` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationModes {
    /// Global reservations.
    pub global: bool,
    /// Subnet reservations.
    pub in_subnet: bool,
    /// Reserved addresses are all outside the pools (skip in-pool checks).
    pub out_of_pool: bool,
}

/// A pool, with its options.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    /// The range.
    pub range: AddressRange,
    /// Pool options.
    pub options: OptionSet,
    /// DDNS parameters in force for its addresses.
    pub ddns: DdnsConfig,
    /// Who may get its addresses, and its additional classes.
    pub guard: ClassGuard,
}

impl Pool {
    /// Whether a packet in `classes` may get addresses from this pool.
    pub fn admits(&self, classes: &[String]) -> bool {
        self.guard.admits(classes)
    }
}

/// A client class, resolved.
#[derive(Debug, Clone)]
pub struct ClassDef {
    /// Its name.
    pub name: String,
    /// Its test (none: joined only by reservation or by rule).
    pub test: Option<Arc<Expr>>,
    /// Evaluated only when a subnet, network or pool requires it.
    pub additional: bool,
    /// Its test reads KNOWN or UNKNOWN (directly or through another class): evaluated
    /// after the reservation lookup, as Kea does.
    pub depends_on_known: bool,
    /// Its options (sub-options of its spaces folded in).
    pub options: OptionSet,
    /// Its boot fields.
    pub boot: BootFields,
    /// Its `valid-lifetime` with `min-`/`max-`, replacing the subnet's when set.
    pub valid: Option<(u32, Option<u32>, Option<u32>)>,
}

impl PartialEq for ClassDef {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name
            && self.additional == o.additional
            && self.options == o.options
            && self.boot == o.boot
            && self.valid == o.valid
    }
}

/// One subnet, everything inherited resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    /// Subnet id.
    pub id: u32,
    /// Prefix.
    pub prefix: Ipv4Network,
    /// Pools.
    pub pools: Vec<Pool>,
    /// Options of the shared network and the subnet merged (global options and those of
    /// classes come below them: see [`crate::decide::build_reply`]).
    pub options: OptionSet,
    /// Relay addresses selecting it.
    pub relays: Vec<Ipv4Addr>,
    /// Interface it is attached to.
    pub interface: Option<String>,
    /// Timers.
    pub times: LeaseTimes,
    /// `match-client-id` (default true).
    pub match_client_id: bool,
    /// `authoritative` (default false).
    pub authoritative: bool,
    /// Reservation lookup modes.
    pub reservations_mode: ReservationModes,
    /// Reservations of this subnet.
    pub hosts: Vec<Host>,
    /// Boot fields (global, shared network and subnet merged).
    pub boot: BootFields,
    /// DDNS parameters for addresses outside the pools (reservations).
    pub ddns: DdnsConfig,
    /// The shared network holding it.
    pub shared_network: Option<String>,
    /// Its network's class guard, then its own: a client must pass both.
    pub guards: Vec<ClassGuard>,
}

impl Subnet {
    /// Whether a packet in `classes` may be served here.
    pub fn admits(&self, classes: &[String]) -> bool {
        self.guards.iter().all(|g| g.admits(classes))
    }

    /// The classes the network and the subnet require (evaluated last).
    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.guards
            .iter()
            .flat_map(|g| g.additional.iter().map(String::as_str))
    }

    /// The pool holding `a`, if a packet in `classes` may use it.
    pub fn pool_for(&self, a: Ipv4Addr, classes: &[String]) -> Option<&Pool> {
        self.in_pool(a).filter(|p| p.admits(classes))
    }

    /// The ranges of the pools a packet in `classes` may use.
    pub fn ranges_for(&self, classes: &[String]) -> Vec<AddressRange> {
        self.pools
            .iter()
            .filter(|p| p.admits(classes))
            .map(|p| p.range)
            .collect()
    }

    /// Whether `a` is in one of the pools.
    pub fn in_pool(&self, a: Ipv4Addr) -> Option<&Pool> {
        let v = u32::from(a);
        self.pools
            .iter()
            .find(|p| (u32::from(p.range.first)..=u32::from(p.range.last)).contains(&v))
    }

    /// The pool ranges.
    pub fn ranges(&self) -> Vec<AddressRange> {
        self.pools.iter().map(|p| p.range).collect()
    }

    /// Addresses reserved in this subnet by the configuration.
    pub fn reserved_addresses(&self) -> Vec<Ipv4Addr> {
        self.hosts.iter().filter_map(|h| h.address).collect()
    }

    /// The DDNS parameters for an address: its pool's, else the subnet's.
    pub fn ddns_for(&self, a: Ipv4Addr) -> &DdnsConfig {
        self.in_pool(a).map_or(&self.ddns, |p| &p.ddns)
    }

    /// Number of addresses in the pools.
    pub fn total_addresses(&self) -> u64 {
        self.pools.iter().map(|p| p.range.size()).sum()
    }
}

/// The whole DHCPv4 server configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Subnets, in the order of the file.
    pub subnets: Vec<Subnet>,
    /// Global reservations.
    pub global_hosts: Vec<Host>,
    /// `decline-probation-period`.
    pub decline_probation: u32,
    /// Host identifiers to look reservations up by, in order.
    pub identifiers: Vec<i16>,
    /// Interfaces to listen on.
    pub interfaces: tern_config::InterfacesConfig,
    /// `expired-leases-processing.reclaim-timer-wait-time` (seconds, default 10;
    /// 0 turns reclamation off).
    pub reclaim_interval: u32,
    /// `expired-leases-processing.max-reclaim-leases` (default 100).
    pub max_reclaim_leases: u32,
    /// `expired-leases-processing.hold-reclaimed-time` (seconds, default 3600): how
    /// long reclaimed and released leases are kept before they are deleted.
    pub hold_reclaimed_time: u32,
    /// `echo-client-id` (default true).
    pub echo_client_id: bool,
    /// Global options.
    pub global_options: OptionSet,
    /// Client classes, in the order of the file.
    pub classes: Vec<ClassDef>,
    /// The flex-option hook's actions, by option code (Kea processes them so).
    pub flex: Vec<FlexOption>,
    /// The option definitions in force (for flex-option values given as text).
    pub defs: Definitions,
    /// The bootp hook is configured: BOOTREQUESTs are answered (built in).
    pub bootp: bool,
}

fn merge_boot(scopes: &[&BootFields]) -> BootFields {
    BootFields {
        next_server: scopes.iter().find_map(|b| b.next_server),
        server_hostname: scopes.iter().find_map(|b| b.server_hostname.clone()),
        boot_file_name: scopes.iter().find_map(|b| b.boot_file_name.clone()),
    }
}

impl ServerConfig {
    /// Resolves the validated `Dhcp4` section.
    pub fn from_config(c: &Dhcp4) -> Result<ServerConfig, ConfigError> {
        let defs = Definitions::from_config(&c.option_defs);
        let global_options = OptionSet::from_config(&c.option_data, &defs)?;
        let classes = resolve_classes(c)?;
        let mut subnets = Vec::new();
        for s in &c.subnets {
            let net = c.network_of(s);
            let mut options = OptionSet::default();
            let mut guards = Vec::new();
            // Inherited as the API resolves them too (tern_config::Dhcp4's scopes).
            let timer_scopes = c.timer_scopes(s);
            let ddns_scopes = c.ddns_scopes(s);
            let mut relays: Vec<IpAddr> = s.relay_addresses.clone();
            let mut interface = s.interface.clone();
            let mut flags = vec![s.reservation_flags];
            if let Some(n) = net {
                guards.push(n.classes.clone());
                options = options.overlay(&OptionSet::from_config(&n.option_data, &defs)?);
                if relays.is_empty() {
                    relays = n.relay_addresses.clone();
                }
                if interface.is_none() {
                    interface = n.interface.clone();
                }
                flags.push(n.reservation_flags);
            }
            let enable = c.dhcp_ddns.enable_updates;
            flags.push(c.reservation_flags);
            options = options.overlay(&OptionSet::from_config(&s.option_data, &defs)?);
            let mut pools = Vec::new();
            for p in &s.pools {
                pools.push(Pool {
                    range: AddressRange {
                        first: p.first,
                        last: p.last,
                        pool_id: p.pool_id,
                    },
                    options: OptionSet::from_config(&p.option_data, &defs)?,
                    ddns: DdnsConfig::resolve(enable, &[&[&p.ddns][..], &ddns_scopes[..]].concat()),
                    guard: p.classes.clone(),
                });
            }
            let hosts = s
                .reservations
                .iter()
                .map(|r| Host::from_config(r, &defs))
                .collect::<Result<Vec<_>, _>>()?;
            subnets.push(Subnet {
                id: s.id,
                prefix: s.prefix,
                pools,
                options,
                relays: relays
                    .into_iter()
                    .filter_map(|a| match a {
                        IpAddr::V4(a) => Some(a),
                        IpAddr::V6(_) => None,
                    })
                    .collect(),
                interface,
                times: LeaseTimes::resolve(&timer_scopes),
                match_client_id: s.match_client_id.or(c.match_client_id).unwrap_or(true),
                authoritative: s.authoritative.or(c.authoritative).unwrap_or(false),
                reservations_mode: ReservationModes {
                    global: flags.iter().find_map(|f| f.global).unwrap_or(false),
                    in_subnet: flags.iter().find_map(|f| f.in_subnet).unwrap_or(true),
                    out_of_pool: flags.iter().find_map(|f| f.out_of_pool).unwrap_or(false),
                },
                hosts,
                boot: merge_boot(&[&s.boot, &c.boot]),
                ddns: DdnsConfig::resolve(enable, &ddns_scopes),
                shared_network: s.shared_network.clone(),
                guards: {
                    guards.push(s.classes.clone());
                    guards
                },
            });
        }
        let global_hosts = c
            .reservations
            .iter()
            .map(|r| Host::from_config(r, &defs))
            .collect::<Result<Vec<_>, _>>()?;
        let decline_probation = c
            .raw
            .as_object()
            .and_then(|o| o.get("decline-probation-period"))
            .and_then(|n| n.as_i64())
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(DEFAULT_DECLINE_PROBATION);
        let identifiers = if c.host_reservation_identifiers.is_empty() {
            // Kea's default list for DHCPv4.
            vec![
                IdentifierType::HwAddress,
                IdentifierType::Duid,
                IdentifierType::CircuitId,
                IdentifierType::ClientId,
            ]
        } else {
            c.host_reservation_identifiers.clone()
        };
        let elp = c
            .raw
            .as_object()
            .and_then(|o| o.get("expired-leases-processing"))
            .and_then(|n| n.as_object());
        let elp_u32 = |key: &str, default: u32| {
            elp.and_then(|o| o.get(key))
                .and_then(|n| n.as_i64())
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(default)
        };
        let echo_client_id = c
            .raw
            .as_object()
            .and_then(|o| o.get("echo-client-id"))
            .and_then(|n| n.as_bool())
            .unwrap_or(true);
        let mut flex = c.flex_options.clone();
        flex.sort_by_key(|f| f.code);
        let bootp = c
            .hooks
            .iter()
            .any(|h| tern_config::policy::hook_stem(&h.library) == "libdhcp_bootp");
        Ok(ServerConfig {
            bootp,
            flex,
            defs,
            global_options,
            classes,
            echo_client_id,
            reclaim_interval: elp_u32("reclaim-timer-wait-time", 10),
            max_reclaim_leases: elp_u32("max-reclaim-leases", 100),
            hold_reclaimed_time: elp_u32("hold-reclaimed-time", 3600),
            subnets,
            global_hosts,
            decline_probation,
            identifiers: identifiers
                .into_iter()
                .map(|t| i16::from(t.kea_code()))
                .collect(),
            interfaces: c.interfaces.clone(),
        })
    }

    /// The class of that name.
    pub fn class(&self, name: &str) -> Option<&ClassDef> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// `s` followed by the other subnets of its shared network, in file order.
    pub fn network_of<'a>(&'a self, s: &'a Subnet) -> Vec<&'a Subnet> {
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
    pub fn subnet(&self, id: u32) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.id == id)
    }
}

/// The classes of `c`, their options encoded with the global definitions and their own.
fn resolve_classes(c: &Dhcp4) -> Result<Vec<ClassDef>, ConfigError> {
    let mut out: Vec<ClassDef> = Vec::new();
    for k in &c.client_classes {
        let mut defs = c.option_defs.clone();
        defs.extend(k.option_defs.iter().cloned());
        let defs = Definitions::from_config(&defs);
        // KNOWN and UNKNOWN are set after the reservation lookup; so is whatever
        // depends on a class that depends on them.
        let depends_on_known = k.test.as_ref().is_some_and(|t| {
            t.members().any(|m| {
                m == "KNOWN"
                    || m == "UNKNOWN"
                    || out.iter().any(|o| o.name == m && o.depends_on_known)
            })
        });
        out.push(ClassDef {
            name: k.name.clone(),
            test: k.test.clone(),
            additional: k.additional,
            depends_on_known,
            options: OptionSet::from_config(&k.option_data, &defs)?,
            boot: k.boot.clone(),
            valid: k
                .valid_lifetime
                .map(|v| (v, k.min_valid_lifetime, k.max_valid_lifetime)),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ServerConfig, ConfigError> {
        let c = tern_config::parse_str(text, "t.json").expect("valid config");
        ServerConfig::from_config(c.dhcp4.as_ref().expect("Dhcp4"))
    }

    #[test]
    fn defined_options_are_sent_undefined_skipped_bad_values_refused() {
        let cfg = load(
            r#"{"Dhcp4": {"option-def": [{"name": "my-opt", "code": 224, "type": "string"}],
               "option-data": [{"name": "my-opt", "data": "x"},
                               {"code": 225, "data": "y"},
                               {"name": "routers", "data": "10.0.0.1"}],
               "subnet4": [{"id": 1, "subnet": "10.0.0.0/8"}]}}"#,
        )
        .unwrap();
        // Global options stay apart from the subnet's (classes rank between them).
        assert!(cfg.subnets[0].options.map.is_empty());
        let keys: Vec<u8> = cfg.global_options.map.keys().copied().collect();
        assert_eq!(keys, vec![3, 224], "225 has no definition");
        assert_eq!(cfg.global_options.map[&224].0, b"x".to_vec());
        let err = load(
            r#"{"Dhcp4": {"option-data": [{"name": "routers", "data": "not-an-address"}],
               "subnet4": [{"id": 1, "subnet": "10.0.0.0/8"}]}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("t.json:1:"), "{err}");
    }

    #[test]
    fn defaults_and_inheritance() {
        let cfg = load(
            r#"{"Dhcp4": {"renew-timer": 100, "decline-probation-period": 60,
               "expired-leases-processing": {"reclaim-timer-wait-time": 5, "hold-reclaimed-time": 0},
               "shared-networks": [{"name": "n", "valid-lifetime": 900, "subnet4": [
                 {"id": 7, "subnet": "10.0.0.0/24", "match-client-id": false}]}]}}"#,
        )
        .unwrap();
        let s = &cfg.subnets[0];
        assert_eq!(s.times.valid, 900);
        assert_eq!(s.times.renew, Some(100));
        assert!(!s.match_client_id);
        assert!(!s.authoritative);
        assert_eq!(s.shared_network.as_deref(), Some("n"));
        assert_eq!(cfg.decline_probation, 60);
        assert_eq!((cfg.reclaim_interval, cfg.hold_reclaimed_time), (5, 0));
        assert_eq!(cfg.identifiers, vec![0, 1, 2, 3]);
        assert!(cfg.echo_client_id);
    }
}
