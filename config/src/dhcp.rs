//! Typed pieces both DHCP sections share: timers, DDNS parameters, options, reservations,
//! pools, hooks, interfaces, the DDNS client settings and databases.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::common::{parse_addr, parse_ip, parse_pool, parse_prefix, Cx, Family, Map};
use crate::diag::{excerpt, Location};
use crate::jsonc::Node;
use crate::policy;
use crate::schema::{CONFLICT_MODES, REPLACE_CLIENT_NAME};

/// Lease lifetimes and renewal timers of one scope (global, shared network, subnet).
/// `None` means "inherit from the enclosing scope" (and Kea's default at the top).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timers {
    /// `valid-lifetime`, seconds.
    pub valid_lifetime: Option<u32>,
    /// `min-valid-lifetime`.
    pub min_valid_lifetime: Option<u32>,
    /// `max-valid-lifetime`.
    pub max_valid_lifetime: Option<u32>,
    /// `preferred-lifetime` (DHCPv6 only).
    pub preferred_lifetime: Option<u32>,
    /// `min-preferred-lifetime` (DHCPv6 only).
    pub min_preferred_lifetime: Option<u32>,
    /// `max-preferred-lifetime` (DHCPv6 only).
    pub max_preferred_lifetime: Option<u32>,
    /// `renew-timer` (T1), seconds.
    pub renew_timer: Option<u32>,
    /// `rebind-timer` (T2), seconds.
    pub rebind_timer: Option<u32>,
    /// `calculate-tee-times`.
    pub calculate_tee_times: Option<bool>,
    /// `t1-percent`.
    pub t1_percent: Option<f64>,
    /// `t2-percent`.
    pub t2_percent: Option<f64>,
}

impl Timers {
    pub(crate) fn read(m: &Map<'_>, cx: &mut Cx) -> Self {
        let t = Timers {
            valid_lifetime: m.u32(cx, "valid-lifetime"),
            min_valid_lifetime: m.u32(cx, "min-valid-lifetime"),
            max_valid_lifetime: m.u32(cx, "max-valid-lifetime"),
            preferred_lifetime: m.u32(cx, "preferred-lifetime"),
            min_preferred_lifetime: m.u32(cx, "min-preferred-lifetime"),
            max_preferred_lifetime: m.u32(cx, "max-preferred-lifetime"),
            renew_timer: m.u32(cx, "renew-timer"),
            rebind_timer: m.u32(cx, "rebind-timer"),
            calculate_tee_times: m.bool("calculate-tee-times"),
            t1_percent: m.f64("t1-percent"),
            t2_percent: m.f64("t2-percent"),
        };
        triplet(
            m,
            cx,
            "valid-lifetime",
            t.min_valid_lifetime,
            t.valid_lifetime,
            t.max_valid_lifetime,
        );
        triplet(
            m,
            cx,
            "preferred-lifetime",
            t.min_preferred_lifetime,
            t.preferred_lifetime,
            t.max_preferred_lifetime,
        );
        if let (Some(renew), Some(rebind)) = (t.renew_timer, t.rebind_timer) {
            if renew > rebind {
                let loc = &m.get("renew-timer").expect("read above").location;
                cx.warn(
                    loc,
                    &m.path_of("renew-timer"),
                    format!("renew-timer ({renew}) is greater than rebind-timer ({rebind}); clients will not be sent T1"),
                );
            }
        }
        for key in ["t1-percent", "t2-percent"] {
            if let Some(v) = m.f64(key) {
                if !(v > 0.0 && v < 1.0) {
                    let loc = &m.get(key).expect("read above").location;
                    cx.error(
                        loc,
                        &m.path_of(key),
                        format!("{v} is invalid: it must be greater than 0.0 and less than 1.0"),
                    );
                }
            }
        }
        if let (Some(t1), Some(t2)) = (t.t1_percent, t.t2_percent) {
            if t1 >= t2 {
                let loc = &m.get("t1-percent").expect("read above").location;
                cx.error(
                    loc,
                    &m.path_of("t1-percent"),
                    format!("{t1} is invalid: it must be less than t2-percent ({t2})"),
                );
            }
        }
        t
    }
}

/// Kea's rule: min <= default <= max for the values given at one level.
fn triplet(
    m: &Map<'_>,
    cx: &mut Cx,
    name: &str,
    min: Option<u32>,
    default: Option<u32>,
    max: Option<u32>,
) {
    let min_key = format!("min-{name}");
    let max_key = format!("max-{name}");
    let at = |key: &str| m.get(key).map(|n| n.location.clone());
    if let (Some(lo), Some(hi)) = (min, max) {
        if lo > hi {
            if let Some(loc) = at(&min_key) {
                cx.error(
                    &loc,
                    &m.path_of(&min_key),
                    format!("the value of {min_key} ({lo}) is greater than {max_key} ({hi})"),
                );
            }
        }
    }
    if let (Some(lo), Some(d)) = (min, default) {
        if lo > d {
            if let Some(loc) = at(&min_key) {
                cx.error(
                    &loc,
                    &m.path_of(&min_key),
                    format!("the value of {min_key} ({lo}) is greater than (default) {name} ({d})"),
                );
            }
        }
    }
    if let (Some(d), Some(hi)) = (default, max) {
        if d > hi {
            if let Some(loc) = at(&max_key) {
                cx.error(
                    &loc,
                    &m.path_of(&max_key),
                    format!("the value of {max_key} ({hi}) is less than (default) {name} ({d})"),
                );
            }
        }
    }
}

/// `ddns-replace-client-name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaceClientName {
    /// Use the client's name.
    Never,
    /// Always generate a name.
    Always,
    /// Replace a name the client sent; do not generate one otherwise.
    WhenPresent,
    /// Generate a name when the client sent none.
    WhenNotPresent,
}

/// How D2 resolves DNS conflicts (RFC 4703), as carried in NCRs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictResolutionMode {
    /// `check-with-dhcid` (Kea's default).
    CheckWithDhcid,
    /// `no-check-with-dhcid`.
    NoCheckWithDhcid,
    /// `check-exists-with-dhcid`.
    CheckExistsWithDhcid,
    /// `no-check-without-dhcid`.
    NoCheckWithoutDhcid,
}

/// The `ddns-*` parameters of one scope (global, shared network, subnet, pool); `None`
/// inherits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DdnsParams {
    /// `ddns-send-updates`.
    pub send_updates: Option<bool>,
    /// `ddns-override-no-update`.
    pub override_no_update: Option<bool>,
    /// `ddns-override-client-update`.
    pub override_client_update: Option<bool>,
    /// `ddns-replace-client-name`.
    pub replace_client_name: Option<ReplaceClientName>,
    /// `ddns-generated-prefix`.
    pub generated_prefix: Option<String>,
    /// `ddns-qualifying-suffix`.
    pub qualifying_suffix: Option<String>,
    /// `ddns-update-on-renew`.
    pub update_on_renew: Option<bool>,
    /// `ddns-conflict-resolution-mode`, or the older `ddns-use-conflict-resolution`.
    pub conflict_resolution_mode: Option<ConflictResolutionMode>,
    /// `ddns-ttl-percent`.
    pub ttl_percent: Option<f64>,
    /// `ddns-ttl`, seconds.
    pub ttl: Option<u32>,
    /// `ddns-ttl-min`.
    pub ttl_min: Option<u32>,
    /// `ddns-ttl-max`.
    pub ttl_max: Option<u32>,
    /// `hostname-char-set` (a regular expression).
    pub hostname_char_set: Option<String>,
    /// `hostname-char-replacement`.
    pub hostname_char_replacement: Option<String>,
}

const REPLACE_TABLE: [(&str, ReplaceClientName); 4] = [
    ("never", ReplaceClientName::Never),
    ("always", ReplaceClientName::Always),
    ("when-present", ReplaceClientName::WhenPresent),
    ("when-not-present", ReplaceClientName::WhenNotPresent),
];

const MODE_TABLE: [(&str, ConflictResolutionMode); 4] = [
    ("check-with-dhcid", ConflictResolutionMode::CheckWithDhcid),
    (
        "no-check-with-dhcid",
        ConflictResolutionMode::NoCheckWithDhcid,
    ),
    (
        "check-exists-with-dhcid",
        ConflictResolutionMode::CheckExistsWithDhcid,
    ),
    (
        "no-check-without-dhcid",
        ConflictResolutionMode::NoCheckWithoutDhcid,
    ),
];

// The schema's spellings and the tables above must agree.
const _: () = assert!(REPLACE_CLIENT_NAME.len() == REPLACE_TABLE.len());
const _: () = assert!(CONFLICT_MODES.len() == MODE_TABLE.len());

impl DdnsParams {
    pub(crate) fn read(m: &Map<'_>, cx: &mut Cx) -> Self {
        let mode = m
            .choice("ddns-conflict-resolution-mode", &MODE_TABLE)
            .or_else(|| {
                m.bool("ddns-use-conflict-resolution").map(|b| {
                    if b {
                        ConflictResolutionMode::CheckWithDhcid
                    } else {
                        ConflictResolutionMode::NoCheckWithDhcid
                    }
                })
            });
        let p = DdnsParams {
            send_updates: m.bool("ddns-send-updates"),
            override_no_update: m.bool("ddns-override-no-update"),
            override_client_update: m.bool("ddns-override-client-update"),
            replace_client_name: m.choice("ddns-replace-client-name", &REPLACE_TABLE),
            generated_prefix: m.str("ddns-generated-prefix").map(str::to_string),
            qualifying_suffix: m.str("ddns-qualifying-suffix").map(str::to_string),
            update_on_renew: m.bool("ddns-update-on-renew"),
            conflict_resolution_mode: mode,
            ttl_percent: m.f64("ddns-ttl-percent"),
            ttl: m.u32(cx, "ddns-ttl"),
            ttl_min: m.u32(cx, "ddns-ttl-min"),
            ttl_max: m.u32(cx, "ddns-ttl-max"),
            hostname_char_set: m.parsed(cx, "hostname-char-set", char_set),
            hostname_char_replacement: m.str("hostname-char-replacement").map(str::to_string),
        };
        if p.ttl.is_some() {
            for other in ["ddns-ttl-percent", "ddns-ttl-min", "ddns-ttl-max"] {
                if let Some(n) = m.get(other) {
                    cx.error(
                        &n.location,
                        &m.path_of(other),
                        "cannot be used together with ddns-ttl",
                    );
                }
            }
        }
        if let (Some(lo), Some(hi)) = (p.ttl_min, p.ttl_max) {
            if lo > hi {
                let n = m.get("ddns-ttl-min").expect("read above");
                cx.error(
                    &n.location,
                    &m.path_of("ddns-ttl-min"),
                    format!("ddns-ttl-min ({lo}) is greater than ddns-ttl-max ({hi})"),
                );
            }
        }
        if let Some(v) = p.ttl_percent {
            if v < 0.0 {
                let n = m.get("ddns-ttl-percent").expect("read above");
                cx.error(
                    &n.location,
                    &m.path_of("ddns-ttl-percent"),
                    format!("{v} is negative"),
                );
            }
        }
        p
    }
}

impl DdnsParams {
    /// The parameters in force where `scopes` apply, innermost first (pool, subnet,
    /// shared network, global): each one from the first scope that sets it, `None` when
    /// none does (Kea's default then applies).
    pub fn merged(scopes: &[&DdnsParams]) -> DdnsParams {
        fn first<T: Clone>(s: &[&DdnsParams], f: impl Fn(&DdnsParams) -> &Option<T>) -> Option<T> {
            s.iter().find_map(|p| f(p).clone())
        }
        DdnsParams {
            send_updates: first(scopes, |p| &p.send_updates),
            override_no_update: first(scopes, |p| &p.override_no_update),
            override_client_update: first(scopes, |p| &p.override_client_update),
            replace_client_name: first(scopes, |p| &p.replace_client_name),
            generated_prefix: first(scopes, |p| &p.generated_prefix),
            qualifying_suffix: first(scopes, |p| &p.qualifying_suffix),
            update_on_renew: first(scopes, |p| &p.update_on_renew),
            conflict_resolution_mode: first(scopes, |p| &p.conflict_resolution_mode),
            ttl_percent: first(scopes, |p| &p.ttl_percent),
            ttl: first(scopes, |p| &p.ttl),
            ttl_min: first(scopes, |p| &p.ttl_min),
            ttl_max: first(scopes, |p| &p.ttl_max),
            hostname_char_set: first(scopes, |p| &p.hostname_char_set),
            hostname_char_replacement: first(scopes, |p| &p.hostname_char_replacement),
        }
    }
}

/// `reservations-global`, `reservations-in-subnet`, `reservations-out-of-pool` (or Kea 2.2's
/// `reservation-mode`, translated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReservationFlags {
    /// Look up global reservations.
    pub global: Option<bool>,
    /// Look up in-subnet reservations.
    pub in_subnet: Option<bool>,
    /// Reserved addresses are all outside the pools.
    pub out_of_pool: Option<bool>,
}

impl ReservationFlags {
    pub(crate) fn read(m: &Map<'_>) -> Self {
        let mut f = ReservationFlags {
            global: m.bool("reservations-global"),
            in_subnet: m.bool("reservations-in-subnet"),
            out_of_pool: m.bool("reservations-out-of-pool"),
        };
        // Kea 2.2's older single knob; the explicit flags win when both are given.
        let mode = m.str("reservation-mode").map(str::to_ascii_lowercase);
        let (g, s, o) = match mode.as_deref() {
            Some("disabled") => (false, false, false),
            Some("out-of-pool") => (false, true, true),
            Some("global") => (true, false, false),
            Some("all") => (false, true, false),
            _ => return f,
        };
        f.global.get_or_insert(g);
        f.in_subnet.get_or_insert(s);
        f.out_of_pool.get_or_insert(o);
        f
    }
}

/// DHCPv4 boot fields (`next-server`, `server-hostname`, `boot-file-name`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootFields {
    /// `next-server` (siaddr).
    pub next_server: Option<Ipv4Addr>,
    /// `server-hostname` (sname).
    pub server_hostname: Option<String>,
    /// `boot-file-name` (file).
    pub boot_file_name: Option<String>,
}

impl BootFields {
    pub(crate) fn read(m: &Map<'_>, cx: &mut Cx) -> Self {
        let b = BootFields {
            next_server: m.parsed(cx, "next-server", parse_addr::<Ipv4Addr>),
            server_hostname: m.str("server-hostname").map(str::to_string),
            boot_file_name: m.str("boot-file-name").map(str::to_string),
        };
        // The header fields are 64 and 128 bytes, NUL-terminated.
        for (key, max) in [("server-hostname", 63), ("boot-file-name", 127)] {
            if let Some(n) = m.get(key) {
                if n.as_str().is_some_and(|s| s.len() > max) {
                    cx.error(
                        &n.location,
                        &m.path_of(key),
                        format!("longer than {max} bytes"),
                    );
                }
            }
        }
        b
    }
}

/// One `option-data` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionData {
    /// Option name (`routers`, `domain-name-servers`, ...).
    pub name: Option<String>,
    /// Option code.
    pub code: Option<u16>,
    /// Option space (`dhcp4`, `dhcp6`, a vendor space).
    pub space: String,
    /// The value, as written.
    pub data: String,
    /// Whether `data` is comma-separated text (true) or hex (false).
    pub csv_format: bool,
    /// Send even when the client did not ask.
    pub always_send: bool,
    /// Never send (Kea 2.4+).
    pub never_send: bool,
    /// Where the entry is.
    pub location: Location,
}

/// One `option-def` entry (DHCPv4): a custom option's name, code, space and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDefData {
    /// Its name, used by `option-data`.
    pub name: String,
    /// Its code in `space`.
    pub code: u8,
    /// The option space (`dhcp4` or a custom space such as `PXE`).
    pub space: String,
    /// Kea's type name (`string`, `uint8`, `ipv4-address`, `record`, ...).
    pub kind: String,
    /// The value is an array of `kind`.
    pub array: bool,
    /// For `record`: the field types, in order.
    pub record_types: Vec<String>,
    /// The space whose options this one carries (empty: none).
    pub encapsulate: String,
    /// Where the entry is.
    pub location: Location,
}

/// Kea's option-def types tern encodes.
pub const OPTION_DEF_TYPES: &[&str] = &[
    "empty",
    "binary",
    "boolean",
    "int8",
    "int16",
    "int32",
    "uint8",
    "uint16",
    "uint32",
    "ipv4-address",
    "string",
    "fqdn",
    "record",
];

/// `hostname-char-set` is a regular expression (Kea compiles it at load time, and so
/// does tern: a bad one is an error where it is written).
fn char_set(s: &str) -> Result<String, String> {
    regex::Regex::new(s).map(|_| s.to_string()).map_err(|e| {
        // regex's message draws the pattern over several lines; its last line says why.
        let text = e.to_string();
        let why = text
            .lines()
            .last()
            .unwrap_or("")
            .trim_start_matches("error: ");
        format!("invalid hostname-char-set \"{s}\": {why}")
    })
}

pub(crate) fn read_option_defs(m: &Map<'_>, cx: &mut Cx) -> Vec<OptionDefData> {
    let mut out: Vec<OptionDefData> = Vec::new();
    for d in m.maps("option-def") {
        let (Some(name), Some(code_node)) = (d.required_str(cx, "name"), d.get("code")) else {
            if d.get("code").is_none() {
                cx.error(d.location(), &d.path, "missing parameter \"code\"");
            }
            continue;
        };
        let space = d.str("space").unwrap_or("dhcp4").to_string();
        let code = code_node.as_i64().unwrap_or(-1);
        // 255 is END in the dhcp4 space only; a custom space may use it.
        let valid = (1..=254).contains(&code) || (space != "dhcp4" && code == 255);
        if !valid {
            cx.error(
                &code_node.location,
                &d.path_of("code"),
                format!("invalid option code {code}: must be 1 to 254"),
            );
            continue;
        }
        let kind = d.str("type").unwrap_or("").to_string();
        if !OPTION_DEF_TYPES.contains(&kind.as_str()) {
            let at = d.get("type").map_or(d.location(), |n| &n.location);
            cx.warn(
                at,
                &d.path_of("type"),
                format!("option type \"{kind}\" is not encoded by tern ({} are): option \"{name}\" is not sent", OPTION_DEF_TYPES.join(", ")),
            );
            continue;
        }
        let record_types: Vec<String> = d
            .str("record-types")
            .unwrap_or("")
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if kind == "record" {
            if let Some(bad) = record_types.iter().find(|t| {
                !OPTION_DEF_TYPES.contains(&t.as_str()) || matches!(t.as_str(), "record" | "empty")
            }) {
                cx.warn(
                    d.location(),
                    &d.path_of("record-types"),
                    format!("record field type \"{bad}\" is not encoded by tern: option \"{name}\" is not sent"),
                );
                continue;
            }
            if record_types.is_empty() {
                cx.warn(
                    d.location(),
                    &d.path_of("record-types"),
                    format!("a record without \"record-types\": option \"{name}\" is not sent"),
                );
                continue;
            }
        }
        if out
            .iter()
            .any(|o| o.space == space && (o.code as i64 == code || o.name == name))
        {
            cx.error(
                d.location(),
                &d.path,
                format!("option definition \"{name}\" (code {code}) is defined twice in space \"{space}\""),
            );
            continue;
        }
        out.push(OptionDefData {
            name: name.to_string(),
            code: code as u8,
            space,
            kind,
            array: d.bool("array").unwrap_or(false),
            record_types,
            encapsulate: d.str("encapsulate").unwrap_or("").to_string(),
            location: d.location().clone(),
        });
    }
    out
}

pub(crate) fn read_options(m: &Map<'_>, cx: &mut Cx, v6: bool) -> Vec<OptionData> {
    m.maps("option-data")
        .iter()
        .filter_map(|o| read_option(o, cx, v6))
        .collect()
}

fn read_option(o: &Map<'_>, cx: &mut Cx, v6: bool) -> Option<OptionData> {
    let default_space = if v6 { "dhcp6" } else { "dhcp4" };
    let space = o.str("space").unwrap_or(default_space).to_string();
    let name = o.str("name").map(str::to_string);
    let code = match o.get("code") {
        Some(node) => {
            let max: i64 = if v6 { 65535 } else { 255 };
            let code = node.as_i64()?;
            let path = o.path_of("code");
            if code < 0 || code > max {
                cx.error(
                    &node.location,
                    &path,
                    format!("invalid option code {code}: must be 1 to {max}"),
                );
                return None;
            }
            if code == 0 {
                let what = if v6 { "reserved" } else { "reserved for PAD" };
                cx.error(
                    &node.location,
                    &path,
                    format!("invalid option code 0: {what}"),
                );
                return None;
            }
            if !v6 && space == "dhcp4" && code == 255 {
                cx.error(
                    &node.location,
                    &path,
                    "invalid option code 255: reserved for END",
                );
                return None;
            }
            Some(code as u16)
        }
        None => None,
    };
    if name.is_none() && code.is_none() {
        cx.error(
            o.location(),
            &o.path,
            "option data requires one of \"code\" or \"name\"",
        );
        return None;
    }
    if let Some(n) = &name {
        if n.is_empty() {
            let node = o.get("name").expect("read above");
            cx.error(
                &node.location,
                &o.path_of("name"),
                "option name must not be empty",
            );
        }
    }
    Some(OptionData {
        name,
        code,
        space,
        data: o.str("data").unwrap_or_default().to_string(),
        csv_format: o.bool("csv-format").unwrap_or(true),
        always_send: o.bool("always-send").unwrap_or(false),
        never_send: o.bool("never-send").unwrap_or(false),
        location: o.location().clone(),
    })
}

/// The kind of client identifier a reservation matches (numbers as in Kea's `hosts` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentifierType {
    /// `hw-address` (0).
    HwAddress,
    /// `duid` (1).
    Duid,
    /// `circuit-id` (2).
    CircuitId,
    /// `client-id` (3).
    ClientId,
    /// `flex-id` (4).
    FlexId,
}

impl IdentifierType {
    /// The config key.
    pub fn key(self) -> &'static str {
        match self {
            IdentifierType::HwAddress => "hw-address",
            IdentifierType::Duid => "duid",
            IdentifierType::CircuitId => "circuit-id",
            IdentifierType::ClientId => "client-id",
            IdentifierType::FlexId => "flex-id",
        }
    }

    /// `dhcp_identifier_type` in Kea's `hosts` table.
    pub fn kea_code(self) -> u8 {
        match self {
            IdentifierType::HwAddress => 0,
            IdentifierType::Duid => 1,
            IdentifierType::CircuitId => 2,
            IdentifierType::ClientId => 3,
            IdentifierType::FlexId => 4,
        }
    }

    /// The longest identifier of this type a reservation may have, in bytes: a
    /// hardware address is at most 20 (Kea's `HWAddr::MAX_HWADDR_LEN`), the others 255.
    pub fn max_len(self) -> usize {
        match self {
            IdentifierType::HwAddress => 20,
            _ => 255,
        }
    }

    /// Every type, in the order of their codes.
    pub const ALL: [IdentifierType; 5] = [
        IdentifierType::HwAddress,
        IdentifierType::Duid,
        IdentifierType::CircuitId,
        IdentifierType::ClientId,
        IdentifierType::FlexId,
    ];

    /// The type named by a config key.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.key() == key)
    }

    /// The type with this `dhcp_identifier_type` code.
    pub fn from_code(code: i16) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| i16::from(t.kea_code()) == code)
    }
}

/// A reservation's identifier: its type and bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostIdentifier {
    /// Which identifier.
    pub kind: IdentifierType,
    /// Its bytes.
    pub value: Vec<u8>,
}

/// Parses Kea's identifier text: hex (`01:02:03`, `01-02-03`, `01 02 03`, `010203`,
/// `0x010203`) or quoted text (`'text'`).
pub(crate) fn parse_identifier(s: &str) -> Option<Vec<u8>> {
    let t = s.trim();
    if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') {
        let inner = &t[1..t.len() - 1];
        return (!inner.is_empty()).then(|| inner.as_bytes().to_vec());
    }
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if t.is_empty() {
        return None;
    }
    let hex = |g: &str| u8::from_str_radix(g, 16).ok();
    if t.contains([':', '-', ' ']) {
        t.split([':', '-', ' '])
            .map(|g| {
                if (1..=2).contains(&g.len()) {
                    hex(g)
                } else {
                    None
                }
            })
            .collect()
    } else {
        if t.len() % 2 == 1 || !t.is_ascii() {
            return None;
        }
        (0..t.len()).step_by(2).map(|i| hex(&t[i..i + 2])).collect()
    }
}

/// One host reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// How the client is recognised.
    pub identifier: HostIdentifier,
    /// Reserved addresses (DHCPv4: at most one).
    pub ip_addresses: Vec<IpAddr>,
    /// Reserved delegated prefixes (DHCPv6), as (prefix, length).
    pub prefixes: Vec<(Ipv6Addr, u8)>,
    /// Reserved host name.
    pub hostname: Option<String>,
    /// Options for this host.
    pub option_data: Vec<OptionData>,
    /// Classes the host is put in.
    pub client_classes: Vec<String>,
    /// DHCPv4 boot fields.
    pub boot: BootFields,
    /// Where the reservation is.
    pub location: Location,
}

/// Reads the `reservations` of a scope; `subnet` bounds the addresses (None: global).
pub(crate) fn read_reservations<A: Family + Into<IpAddr>>(
    m: &Map<'_>,
    cx: &mut Cx,
    subnet: Option<(u128, u128, &str)>,
    unique_addresses: bool,
) -> Vec<Reservation> {
    let v6 = A::BITS == 128;
    let mut out: Vec<Reservation> = Vec::new();
    let mut by_id: HashMap<HostIdentifier, Location> = HashMap::new();
    let mut by_addr: HashMap<IpAddr, Location> = HashMap::new();
    for r in m.maps("reservations") {
        let mut ids = Vec::new();
        for t in IdentifierType::ALL {
            if r.has(t.key()) {
                ids.push(t);
            }
        }
        let kind = match ids.as_slice() {
            [one] => *one,
            [] => {
                cx.error(r.location(), &r.path, "one of the supported identifiers must be specified for a host reservation: hw-address, duid, circuit-id, client-id, flex-id");
                continue;
            }
            [a, b, ..] => {
                cx.error(
                    r.location(),
                    &r.path,
                    format!("\"{}\" and \"{}\" are mutually exclusive", a.key(), b.key()),
                );
                continue;
            }
        };
        let id_node = r.get(kind.key()).expect("found above");
        let Some(text) = id_node.as_str() else {
            continue;
        };
        let Some(value) = parse_identifier(text) else {
            cx.error(
                &id_node.location,
                &r.path_of(kind.key()),
                format!("invalid host identifier \"{}\"", excerpt(text)),
            );
            continue;
        };
        let max = kind.max_len();
        if value.len() > max {
            cx.error(
                &id_node.location,
                &r.path_of(kind.key()),
                format!("identifier longer than {max} bytes"),
            );
            continue;
        }
        let identifier = HostIdentifier { kind, value };
        if let Some(prev) = by_id.get(&identifier) {
            cx.error(
                &id_node.location,
                &r.path_of(kind.key()),
                format!(
                    "a reservation for {} \"{}\" already exists at {}:{}",
                    kind.key(),
                    excerpt(text),
                    prev.line,
                    prev.column
                ),
            );
            continue;
        }
        by_id.insert(identifier.clone(), id_node.location.clone());

        let mut ips = Vec::new();
        let addr_items: Vec<(&Node, &str, String)> = if v6 {
            r.strs("ip-addresses")
        } else {
            r.get("ip-address")
                .and_then(|n| n.as_str().map(|s| (n, s, r.path_of("ip-address"))))
                .into_iter()
                .collect()
        };
        for (node, s, path) in addr_items {
            match parse_addr::<A>(s) {
                Ok(a) => {
                    if let Some((first, last, prefix)) = subnet {
                        let v = a.to_u128();
                        if v < first || v > last {
                            cx.error(
                                &node.location,
                                &path,
                                format!(
                                    "reserved address {a} is not within the {} subnet {prefix}",
                                    A::NAME
                                ),
                            );
                            continue;
                        }
                    }
                    let ip: IpAddr = a.into();
                    if unique_addresses {
                        if let Some(prev) = by_addr.get(&ip) {
                            cx.error(
                                &node.location,
                                &path,
                                format!(
                                    "address {ip} is already reserved at {}:{}",
                                    prev.line, prev.column
                                ),
                            );
                            continue;
                        }
                        by_addr.insert(ip, node.location.clone());
                    }
                    ips.push(ip);
                }
                Err(msg) => cx.error(&node.location, &path, msg),
            }
        }
        let mut prefixes = Vec::new();
        for (node, s, path) in r.strs("prefixes") {
            match parse_prefix::<Ipv6Addr>(s) {
                Ok(p) => prefixes.push((p.addr, p.len)),
                Err(msg) => cx.error(&node.location, &path, msg),
            }
        }
        if let Some(node) = r.get("hostname") {
            if let Some(h) = node.as_str() {
                if let Err(msg) = check_hostname(h) {
                    cx.error(&node.location, &r.path_of("hostname"), msg);
                }
            }
        }
        out.push(Reservation {
            identifier,
            ip_addresses: ips,
            prefixes,
            hostname: r.non_empty_str("hostname").map(str::to_string),
            option_data: read_options(&r, cx, v6),
            client_classes: r
                .strs("client-classes")
                .into_iter()
                .map(|(_, s, _)| s.to_string())
                .collect(),
            boot: if v6 {
                BootFields::default()
            } else {
                BootFields::read(&r, cx)
            },
            location: r.location().clone(),
        });
    }
    out
}

/// A host name or FQDN: labels of 1-63 characters, 253 in all.
pub(crate) fn check_hostname(h: &str) -> Result<(), String> {
    let name = h.strip_suffix('.').unwrap_or(h);
    if name.is_empty() {
        return Ok(());
    }
    if name.len() > 253 {
        return Err(format!("\"{}\" is longer than 253 characters", excerpt(h)));
    }
    if name.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Err(format!(
            "\"{}\" is not a valid host name (empty label or label over 63 characters)",
            excerpt(h)
        ));
    }
    Ok(())
}

/// An address pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool<A> {
    /// First address.
    pub first: A,
    /// Last address (inclusive).
    pub last: A,
    /// `pool-id` (statistics grouping), 0 when not set.
    pub pool_id: u32,
    /// Pool-level options.
    pub option_data: Vec<OptionData>,
    /// Pool-level DDNS parameters.
    pub ddns: DdnsParams,
    /// The pool's client classes.
    pub classes: crate::guard::ClassGuard,
    /// Where the pool is.
    pub location: Location,
}

/// Reads and checks the pools of a subnet spanning `first..=last` (as numbers).
pub(crate) fn read_pools<A: Family>(
    m: &Map<'_>,
    cx: &mut Cx,
    subnet: (u128, u128, &str),
) -> Vec<Pool<A>> {
    let v6 = A::BITS == 128;
    let mut pools: Vec<Pool<A>> = Vec::new();
    for p in m.maps("pools") {
        let Some(node) = p.get("pool") else {
            cx.error(p.location(), &p.path, "missing parameter \"pool\"");
            continue;
        };
        let Some(text) = node.as_str() else { continue };
        let path = p.path_of("pool");
        let (first, last) = match parse_pool::<A>(text) {
            Ok(r) => r,
            Err(None) => {
                cx.error(
                    &node.location,
                    &path,
                    format!("\"{}\" is not a valid range", excerpt(text)),
                );
                continue;
            }
            Err(Some(why)) => {
                cx.error(
                    &node.location,
                    &path,
                    format!("\"{}\" is not a valid range: {why}", excerpt(text)),
                );
                continue;
            }
        };
        let (lo, hi) = (first.to_u128(), last.to_u128());
        if lo < subnet.0 || hi > subnet.1 {
            cx.error(
                &node.location,
                &path,
                format!("pool {first}-{last} is not inside subnet {}", subnet.2),
            );
            continue;
        }
        if let Some(other) = pools
            .iter()
            .find(|o| lo <= o.last.to_u128() && o.first.to_u128() <= hi)
        {
            cx.error(
                &node.location,
                &path,
                format!(
                    "pool {first}-{last} overlaps pool {}-{} at {}:{}",
                    other.first, other.last, other.location.line, other.location.column
                ),
            );
            continue;
        }
        pools.push(Pool {
            first,
            last,
            pool_id: p.u32(cx, "pool-id").unwrap_or(0),
            option_data: read_options(&p, cx, v6),
            ddns: DdnsParams::read(&p, cx),
            classes: crate::guard::ClassGuard::read(&p),
            location: p.location().clone(),
        });
    }
    pools
}

/// Subnet ids and prefixes must be unique within a family.
pub(crate) struct SubnetRegistry {
    ids: HashMap<u32, Location>,
    prefixes: HashMap<(u128, u8), Location>,
}

impl SubnetRegistry {
    pub fn new() -> Self {
        Self {
            ids: HashMap::new(),
            prefixes: HashMap::new(),
        }
    }

    /// Records an explicit id; false (with an error) if taken.
    pub fn claim_id(&mut self, cx: &mut Cx, id: u32, node: &Node, path: &str) -> bool {
        if let Some(prev) = self.ids.get(&id) {
            cx.error(
                &node.location,
                path,
                format!(
                    "subnet id {id} is already used by the subnet at {}:{}",
                    prev.line, prev.column
                ),
            );
            return false;
        }
        self.ids.insert(id, node.location.clone());
        true
    }

    pub fn is_taken(&self, id: u32) -> bool {
        self.ids.contains_key(&id)
    }

    pub fn claim_prefix(
        &mut self,
        cx: &mut Cx,
        key: (u128, u8),
        shown: &str,
        node: &Node,
        path: &str,
    ) {
        if let Some(prev) = self.prefixes.get(&key) {
            cx.error(
                &node.location,
                path,
                format!(
                    "subnet {shown} is already defined at {}:{}",
                    prev.line, prev.column
                ),
            );
        } else {
            self.prefixes.insert(key, node.location.clone());
        }
    }
}

/// Reads a subnet's `id` (1 to 4294967294). Missing or 0 means "assign one" (Kea 2.x).
pub(crate) fn read_subnet_id(
    m: &Map<'_>,
    cx: &mut Cx,
    reg: &mut SubnetRegistry,
) -> Result<Option<u32>, ()> {
    let Some(node) = m.get("id") else {
        return Ok(None);
    };
    let Some(v) = node.as_i64() else {
        return Err(());
    };
    let path = m.path_of("id");
    if v == 0 {
        return Ok(None);
    }
    if !(1..=4_294_967_294).contains(&v) {
        cx.error(
            &node.location,
            &path,
            format!("subnet id {v} is out of range (1 to 4294967294)"),
        );
        return Err(());
    }
    if !reg.claim_id(cx, v as u32, node, &path) {
        return Err(());
    }
    Ok(Some(v as u32))
}

/// Ids for subnets that have none: Kea 2.x numbered them in parse order, shared networks'
/// subnets first. We do the same, skipping ids taken explicitly, and say so, since leases are
/// stored by subnet id.
pub(crate) fn assign_missing_ids(
    cx: &mut Cx,
    reg: &SubnetRegistry,
    pending: Vec<(usize, Location, String)>,
    mut set: impl FnMut(usize, u32),
) {
    let mut next = 1u32;
    let mut taken: std::collections::HashSet<u32> = std::collections::HashSet::new();
    for (index, location, path) in pending {
        while reg.is_taken(next) || taken.contains(&next) {
            next += 1;
        }
        taken.insert(next);
        set(index, next);
        cx.warn(&location, &path, format!("no subnet \"id\": assigned {next}; leases are stored by subnet id, so set it explicitly to keep it stable"));
        next += 1;
    }
}

/// One `hooks-libraries` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct HookLibrary {
    /// The library path as written.
    pub library: String,
    /// Its `parameters`, as read.
    pub parameters: Option<Node>,
    /// Where the entry is.
    pub location: Location,
}

pub(crate) fn read_hooks(m: &Map<'_>, cx: &mut Cx) -> Vec<HookLibrary> {
    let mut out = Vec::new();
    for h in m.maps("hooks-libraries") {
        let Some(lib) = h.required_str(cx, "library") else {
            continue;
        };
        let lib_node = h.get("library").expect("read above");
        if lib.trim().is_empty() {
            cx.error(
                &lib_node.location,
                &h.path_of("library"),
                "library path must not be empty",
            );
            continue;
        }
        let stem = policy::hook_stem(lib);
        if let policy::Treatment::Note(sev, msg) | policy::Treatment::NoteAndDescend(sev, msg) =
            policy::treatment(&format!("hook:{stem}"))
        {
            cx.note(
                sev,
                &lib_node.location,
                &h.path_of("library"),
                format!("{stem}: {msg}"),
            );
        }
        if let Some(member) = h.obj.member("parameters") {
            if let policy::Treatment::Note(sev, msg) | policy::Treatment::NoteAndDescend(sev, msg) =
                policy::treatment(&format!("hook:{stem}.parameters"))
            {
                cx.note(sev, &member.key_location, &h.path_of("parameters"), msg);
            }
        }
        out.push(HookLibrary {
            library: lib.to_string(),
            parameters: h.get("parameters").cloned(),
            location: h.location().clone(),
        });
    }
    out
}

/// A control socket as configured (Kea's `control-socket` / `control-sockets`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlSocket {
    /// `unix`, `http` or `https`.
    pub socket_type: String,
    /// Unix socket path.
    pub socket_name: Option<String>,
    /// HTTP address.
    pub socket_address: Option<String>,
    /// HTTP port.
    pub socket_port: Option<u16>,
    /// Where it is.
    pub location: Location,
}

pub(crate) fn read_control_sockets(m: &Map<'_>, cx: &mut Cx) -> Vec<ControlSocket> {
    let mut maps: Vec<Map<'_>> = m.map("control-socket").into_iter().collect();
    maps.extend(m.maps("control-sockets"));
    maps.iter()
        .map(|s| {
            let socket_type = s.str("socket-type").unwrap_or("unix").to_ascii_lowercase();
            if socket_type == "unix" && !s.has("socket-name") {
                cx.error(s.location(), &s.path, "missing parameter \"socket-name\"");
            }
            if let Some(node) = s.get("socket-address") {
                if let Some(a) = node.as_str() {
                    if let Err(msg) = parse_ip(a) {
                        cx.error(&node.location, &s.path_of("socket-address"), msg);
                    }
                }
            }
            ControlSocket {
                socket_type,
                socket_name: s.str("socket-name").map(str::to_string),
                socket_address: s.str("socket-address").map(str::to_string),
                socket_port: s.port(cx, "socket-port"),
                location: s.location().clone(),
            }
        })
        .collect()
}

/// One entry of `interfaces-config.interfaces`: `eth0`, `eth0/192.0.2.1`, or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceSpec {
    /// Interface name, or `*` for all.
    pub name: String,
    /// The one address to use on it, when given.
    pub address: Option<IpAddr>,
}

/// `interfaces-config`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfacesConfig {
    /// The interfaces to listen on.
    pub interfaces: Vec<InterfaceSpec>,
}

pub(crate) fn read_interfaces<A: Family + Into<IpAddr>>(
    m: &Map<'_>,
    cx: &mut Cx,
) -> InterfacesConfig {
    let Some(ic) = m.map("interfaces-config") else {
        return InterfacesConfig::default();
    };
    let mut interfaces = Vec::new();
    for (node, s, path) in ic.strs("interfaces") {
        let (name, addr) = match s.split_once('/') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        if name.is_empty() {
            cx.error(
                &node.location,
                &path,
                format!("\"{}\": interface name is empty", excerpt(s)),
            );
            continue;
        }
        let address = match addr {
            Some(a) => match parse_addr::<A>(a) {
                Ok(a) => Some(a.into()),
                Err(msg) => {
                    cx.error(&node.location, &path, msg);
                    continue;
                }
            },
            None => None,
        };
        interfaces.push(InterfaceSpec {
            name: name.to_string(),
            address,
        });
    }
    InterfacesConfig { interfaces }
}

/// NCR transport between the DHCP servers and D2. Only UDP exists (Kea never did TCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NcrProtocol {
    /// UDP.
    Udp,
}

/// NCR encoding. Only JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NcrFormat {
    /// Kea's JSON.
    Json,
}

/// Reads `ncr-protocol`; TCP is refused as Kea refuses it.
pub(crate) fn read_ncr_protocol(m: &Map<'_>, cx: &mut Cx) -> NcrProtocol {
    if let Some(node) = m.get("ncr-protocol") {
        if node.as_str().is_some_and(|s| s.eq_ignore_ascii_case("TCP")) {
            cx.error(
                &node.location,
                &m.path_of("ncr-protocol"),
                "ncr-protocol TCP is not supported (as in Kea): use UDP",
            );
        }
    }
    NcrProtocol::Udp
}

/// The DHCP server's link to D2 (`dhcp-ddns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpDdnsClient {
    /// `enable-updates` (default false).
    pub enable_updates: bool,
    /// Where D2 listens (default 127.0.0.1).
    pub server_ip: IpAddr,
    /// D2's port (default 53001).
    pub server_port: u16,
    /// Source address for NCRs (default: any address of the server's family).
    pub sender_ip: IpAddr,
    /// Source port (default 0: any).
    pub sender_port: u16,
    /// `max-queue-size` (default 1024).
    pub max_queue_size: u32,
    /// Always UDP.
    pub ncr_protocol: NcrProtocol,
    /// Always JSON.
    pub ncr_format: NcrFormat,
}

impl Default for DhcpDdnsClient {
    fn default() -> Self {
        Self {
            enable_updates: false,
            server_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            server_port: 53001,
            sender_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            sender_port: 0,
            max_queue_size: 1024,
            ncr_protocol: NcrProtocol::Udp,
            ncr_format: NcrFormat::Json,
        }
    }
}

/// Reads `dhcp-ddns`; the Kea 2.x spellings of global ddns-* parameters it may hold are
/// copied into `globals` where those are unset.
pub(crate) fn read_dhcp_ddns(m: &Map<'_>, cx: &mut Cx, globals: &mut DdnsParams) -> DhcpDdnsClient {
    let mut c = DhcpDdnsClient::default();
    let Some(d) = m.map("dhcp-ddns") else {
        return c;
    };
    c.enable_updates = d.bool("enable-updates").unwrap_or(false);
    if let Some(ip) = d.parsed(cx, "server-ip", parse_ip) {
        c.server_ip = ip;
    }
    c.server_port = d.port(cx, "server-port").unwrap_or(53001);
    c.sender_ip = match d.parsed(cx, "sender-ip", parse_ip) {
        Some(ip) => ip,
        None if c.server_ip.is_ipv6() => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    c.sender_port = d.u16(cx, "sender-port").unwrap_or(0);
    c.max_queue_size = d.u32(cx, "max-queue-size").unwrap_or(1024);
    c.ncr_protocol = read_ncr_protocol(&d, cx);
    if c.server_ip.is_ipv4() != c.sender_ip.is_ipv4() {
        let node = d
            .get("sender-ip")
            .or_else(|| d.get("server-ip"))
            .map_or(d.location(), |n| &n.location);
        cx.error(
            node,
            &d.path,
            format!(
                "server-ip {} and sender-ip {} are of different address families",
                c.server_ip, c.sender_ip
            ),
        );
    }
    if c.server_ip == c.sender_ip && c.server_port == c.sender_port {
        cx.error(
            d.location(),
            &d.path,
            "server-ip/server-port and sender-ip/sender-port must differ",
        );
    }
    // Kea 2.x accepted the global ddns-* parameters here, without the prefix.
    let old = DdnsParams {
        override_no_update: d.bool("override-no-update"),
        override_client_update: d.bool("override-client-update"),
        replace_client_name: d.choice("replace-client-name", &REPLACE_TABLE),
        generated_prefix: d.str("generated-prefix").map(str::to_string),
        qualifying_suffix: d.str("qualifying-suffix").map(str::to_string),
        hostname_char_set: d.parsed(cx, "hostname-char-set", char_set),
        hostname_char_replacement: d.str("hostname-char-replacement").map(str::to_string),
        ..DdnsParams::default()
    };
    fill(&mut globals.override_no_update, old.override_no_update);
    fill(
        &mut globals.override_client_update,
        old.override_client_update,
    );
    fill(&mut globals.replace_client_name, old.replace_client_name);
    fill(&mut globals.generated_prefix, old.generated_prefix);
    fill(&mut globals.qualifying_suffix, old.qualifying_suffix);
    fill(&mut globals.hostname_char_set, old.hostname_char_set);
    fill(
        &mut globals.hostname_char_replacement,
        old.hostname_char_replacement,
    );
    c
}

fn fill<T>(slot: &mut Option<T>, v: Option<T>) {
    if slot.is_none() {
        *slot = v;
    }
}

/// Database backend type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbType {
    /// Kea's CSV lease file.
    Memfile,
    /// MySQL (not supported by tern).
    Mysql,
    /// PostgreSQL.
    Postgresql,
}

/// A `lease-database` / `hosts-database(s)` entry as written (the store resolution decides).
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseConfig {
    /// Backend type.
    pub db_type: DbType,
    /// The map as read, for the store resolution.
    pub raw: Node,
    /// Where it is.
    pub location: Location,
    /// Its key path.
    pub path: String,
}

pub(crate) fn read_database(d: &Map<'_>, cx: &mut Cx) -> Option<DatabaseConfig> {
    let db_type = match d.get("type") {
        None => {
            cx.error(d.location(), &d.path, "missing parameter \"type\"");
            return None;
        }
        Some(_) => d.choice(
            "type",
            &[
                ("memfile", DbType::Memfile),
                ("mysql", DbType::Mysql),
                ("postgresql", DbType::Postgresql),
            ],
        )?,
    };
    if db_type != DbType::Memfile && !d.has("name") {
        cx.error(d.location(), &d.path, "missing parameter \"name\"");
    }
    d.port(cx, "port");
    for key in [
        "connect-timeout",
        "read-timeout",
        "write-timeout",
        "tcp-user-timeout",
        "max-reconnect-tries",
        "reconnect-wait-time",
        "lfc-interval",
        "max-row-errors",
    ] {
        d.u32(cx, key);
    }
    Some(DatabaseConfig {
        db_type,
        raw: d.node.clone(),
        location: d.location().clone(),
        path: d.path.clone(),
    })
}

/// Reads the host reservation identifier list (which identifiers to look reservations up by).
pub(crate) fn read_identifier_list(m: &Map<'_>, cx: &mut Cx, v6: bool) -> Vec<IdentifierType> {
    let mut out = Vec::new();
    for (node, s, path) in m.strs("host-reservation-identifiers") {
        match IdentifierType::from_key(s) {
            Some(t) if v6 && matches!(t, IdentifierType::CircuitId | IdentifierType::ClientId) => {
                cx.error(
                    &node.location,
                    &path,
                    format!("\"{s}\" is not a DHCPv6 host identifier"),
                );
            }
            Some(t) => out.push(t),
            None => cx.error(
                &node.location,
                &path,
                format!("unsupported host identifier \"{}\"", excerpt(s)),
            ),
        }
    }
    out
}

/// Relay addresses of a subnet or shared network (`relay.ip-addresses`, or Kea 2.2's
/// `relay.ip-address`).
pub(crate) fn read_relay<A: Family + Into<IpAddr>>(m: &Map<'_>, cx: &mut Cx) -> Vec<IpAddr> {
    let Some(r) = m.map("relay") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut items = r.strs("ip-addresses");
    if let Some(n) = r.get("ip-address") {
        if let Some(s) = n.as_str() {
            items.push((n, s, r.path_of("ip-address")));
        }
    }
    if r.has("ip-address") && r.has("ip-addresses") {
        cx.error(
            r.location(),
            &r.path,
            "\"ip-address\" and \"ip-addresses\" are mutually exclusive",
        );
    }
    for (node, s, path) in items {
        match parse_addr::<A>(s) {
            Ok(a) => out.push(a.into()),
            Err(msg) => cx.error(&node.location, &path, msg),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(parse_identifier("01:02:0a"), Some(vec![1, 2, 10]));
        assert_eq!(parse_identifier("1:2:a"), Some(vec![1, 2, 10]));
        assert_eq!(parse_identifier("01-02-0A"), Some(vec![1, 2, 10]));
        assert_eq!(parse_identifier("01 02 0a"), Some(vec![1, 2, 10]));
        assert_eq!(parse_identifier("0x01020a"), Some(vec![1, 2, 10]));
        assert_eq!(parse_identifier("01020a"), Some(vec![1, 2, 10]));
        assert_eq!(parse_identifier("'abc'"), Some(b"abc".to_vec()));
        assert_eq!(parse_identifier("aa:bb:cc:dd:ee:fg"), None);
        assert_eq!(parse_identifier("123"), None);
        assert_eq!(parse_identifier(""), None);
        assert_eq!(parse_identifier("01::02"), None);
    }
}
