//! Kea's JSON and argument parsing for the lease and host commands: the JSON shapes Kea
//! gives leases and reservations, and the checks (with Kea's messages) of what a caller
//! asks to write, against the validated configuration the engines run
//! (`tern_config::Dhcp4`/`Dhcp6`, its option definitions and identifier types). The
//! rows themselves are read and written by `tern_store` (`lease4`, `lease6`, `host`);
//! the DHCP engine sees every change at once (and the `tern_hosts` triggers announce
//! host changes).

pub mod hosts;
pub mod hosts6;
pub mod leases;
pub mod leases6;

use std::net::Ipv4Addr;

use serde_json::{Map, Value};

/// A bad input value, named by its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field (`ip-address`, `subnet-id`, ...).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// A new error for `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}': {}", self.field, self.message)
    }
}

/// Bytes as Kea writes identifiers: lower-case hex pairs joined by colons.
pub fn hex_colon(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Parses an identifier as Kea accepts them: hex pairs separated by `:`, `-`, `.` or
/// nothing (single digits allowed between separators), or a quoted string `'text'`.
pub fn parse_hex(field: &str, s: &str) -> Result<Vec<u8>, FieldError> {
    let t = s.trim();
    if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') {
        let inner = &t[1..t.len() - 1];
        if inner.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        return Ok(inner.as_bytes().to_vec());
    }
    let bad = || {
        FieldError::new(
            field,
            format!("'{s}' is not a valid hexadecimal identifier"),
        )
    };
    // Checked after the prefix, so "0x" alone is not an empty identifier.
    let t = t.strip_prefix("0x").unwrap_or(t);
    if t.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    // from_str_radix alone would take a sign: "+0:+1".
    if !t
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'-' | b'.'))
    {
        return Err(bad());
    }
    let mut out = Vec::new();
    if t.contains([':', '-', '.']) {
        for part in t.split([':', '-', '.']) {
            if part.is_empty() || part.len() > 2 {
                return Err(bad());
            }
            out.push(u8::from_str_radix(part, 16).map_err(|_| bad())?);
        }
    } else {
        if !t.len().is_multiple_of(2) {
            return Err(bad());
        }
        for i in (0..t.len()).step_by(2) {
            out.push(u8::from_str_radix(t.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?);
        }
    }
    Ok(out)
}

/// Typed access to a command's `arguments` map, with errors naming the parameter.
pub struct Args<'a>(pub &'a Map<String, Value>);

impl<'a> Args<'a> {
    /// The raw value.
    pub fn get(&self, k: &str) -> Option<&'a Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }

    /// True when present (and not null).
    pub fn has(&self, k: &str) -> bool {
        self.get(k).is_some()
    }

    /// A mandatory parameter.
    pub fn req(&self, k: &str) -> Result<&'a Value, FieldError> {
        self.get(k)
            .ok_or_else(|| FieldError::new(k, "mandatory parameter missing"))
    }

    /// An optional string.
    pub fn str(&self, k: &str) -> Result<Option<&'a str>, FieldError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(FieldError::new(k, "must be a string")),
        }
    }

    /// A mandatory string.
    pub fn req_str(&self, k: &str) -> Result<&'a str, FieldError> {
        self.str(k)?
            .ok_or_else(|| FieldError::new(k, "mandatory parameter missing"))
    }

    /// An optional integer within `[min, max]`.
    pub fn int(&self, k: &str, min: i64, max: i64) -> Result<Option<i64>, FieldError> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                Some(n) => Err(FieldError::new(
                    k,
                    format!("{n} is out of range ({min} to {max})"),
                )),
                None => Err(FieldError::new(k, "must be an integer")),
            },
        }
    }

    /// A mandatory integer within `[min, max]`.
    pub fn req_int(&self, k: &str, min: i64, max: i64) -> Result<i64, FieldError> {
        self.int(k, min, max)?
            .ok_or_else(|| FieldError::new(k, "mandatory parameter missing"))
    }

    /// An optional boolean.
    pub fn bool(&self, k: &str) -> Result<Option<bool>, FieldError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(FieldError::new(k, "must be true or false")),
        }
    }

    /// An optional IPv4 address.
    pub fn v4(&self, k: &str) -> Result<Option<Ipv4Addr>, FieldError> {
        match self.str(k)? {
            None => Ok(None),
            Some(s) => s
                .parse::<Ipv4Addr>()
                .map(Some)
                .map_err(|_| FieldError::new(k, format!("'{s}' is not an IPv4 address"))),
        }
    }

    /// A mandatory IPv4 address.
    pub fn req_v4(&self, k: &str) -> Result<Ipv4Addr, FieldError> {
        self.v4(k)?
            .ok_or_else(|| FieldError::new(k, "mandatory parameter missing"))
    }

    /// An optional map (`user-context`).
    pub fn map(&self, k: &str) -> Result<Option<&'a Map<String, Value>>, FieldError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(FieldError::new(k, "must be a map")),
        }
    }
}

/// The members both families' lease JSON ends with, in Kea's order: subnet, pool,
/// DNS flags, host name, state.
pub(crate) fn lease_tail_json(
    m: &mut Map<String, Value>,
    subnet_id: u32,
    pool_id: u32,
    dns: (bool, bool),
    hostname: Option<&str>,
    state: tern_store::LeaseState,
) {
    m.insert("subnet-id".into(), subnet_id.into());
    m.insert("pool-id".into(), pool_id.into());
    m.insert("fqdn-fwd".into(), dns.0.into());
    m.insert("fqdn-rev".into(), dns.1.into());
    m.insert("hostname".into(), hostname.unwrap_or_default().into());
    m.insert("state".into(), state.code().into());
}

/// Kea's `user-context` of a row: the JSON it holds (text that is not JSON as a string).
pub(crate) fn user_context_json(m: &mut Map<String, Value>, text: Option<&str>) {
    if let Some(uc) = text {
        let v = serde_json::from_str(uc).unwrap_or_else(|_| Value::String(uc.to_string()));
        m.insert("user-context".into(), v);
    }
}

/// A `user-context` argument as the row keeps it (JSON text).
pub(crate) fn user_context_arg(args: &Args<'_>) -> Result<Option<String>, FieldError> {
    Ok(args
        .map("user-context")?
        .map(|m| Value::Object(m.clone()).to_string()))
}

/// Kea's `client-classes` list from a row's comma-separated classes.
pub(crate) fn classes_json(classes: Option<&str>) -> Value {
    Value::Array(
        classes
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| Value::String(c.to_string()))
            .collect(),
    )
}

/// A `client-classes` argument as a row keeps it: class names joined by commas (none
/// when empty), at most 255 characters in all.
pub(crate) fn classes_arg(names: &[&str]) -> Result<Option<String>, FieldError> {
    if names.iter().any(|c| c.is_empty() || c.contains(',')) {
        return Err(FieldError::new(
            "client-classes",
            "must be a list of non-empty class names without commas",
        ));
    }
    let joined = names.join(",");
    if joined.len() > 255 {
        return Err(FieldError::new(
            "client-classes",
            "longer than 255 characters in all",
        ));
    }
    Ok((!joined.is_empty()).then_some(joined))
}

/// A list-of-strings argument (absent: empty).
pub(crate) fn strings<'a>(args: &Args<'a>, k: &str) -> Result<Vec<&'a str>, FieldError> {
    match args.get(k) {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| FieldError::new(k, "must be a list of strings"))
            })
            .collect(),
        Some(_) => Err(FieldError::new(k, "must be a list")),
    }
}

/// An `expire` argument (seconds since the epoch), else now + `valid` seconds.
pub(crate) fn expire_arg(
    args: &Args<'_>,
    valid: u32,
) -> Result<chrono::DateTime<chrono::Utc>, FieldError> {
    use chrono::TimeZone;
    match args.int("expire", 0, i64::from(u32::MAX) * 2)? {
        Some(e) => chrono::Utc
            .timestamp_opt(e, 0)
            .single()
            .ok_or_else(|| FieldError::new("expire", "not a valid time")),
        None => Ok(chrono::Utc::now() + chrono::Duration::seconds(i64::from(valid))),
    }
}

/// What the lease and reservation checks need of a family's validated section
/// (`Dhcp4` or `Dhcp6`).
pub(crate) trait Family {
    /// Its subnet type.
    type Subnet;
    /// Its address type.
    type Addr: Copy + std::fmt::Display;
    /// `IPv4` or `IPv6`, as Kea's messages name the family.
    const NAME: &'static str;
    /// The configured subnets.
    fn subnet_list(&self) -> Vec<&Self::Subnet>;
    /// A subnet's id.
    fn id_of(s: &Self::Subnet) -> u32;
    /// A subnet's prefix, as Kea's messages show it.
    fn prefix_of(s: &Self::Subnet) -> String;
    /// Whether a subnet's prefix holds `a`.
    fn holds(s: &Self::Subnet, a: Self::Addr) -> bool;
    /// The timers in force for a subnet, innermost first.
    fn scopes<'a>(&'a self, s: &'a Self::Subnet) -> Vec<&'a tern_config::Timers>;
    /// The global timers.
    fn global(&self) -> &tern_config::Timers;
}

/// [`Family`] for a section type, its subnet type and address type.
macro_rules! family {
    ($section:ty, $subnet:ty, $addr:ty, $name:literal) => {
        impl Family for $section {
            type Subnet = $subnet;
            type Addr = $addr;
            const NAME: &'static str = $name;
            fn subnet_list(&self) -> Vec<&Self::Subnet> {
                self.subnets.iter().collect()
            }
            fn id_of(s: &Self::Subnet) -> u32 {
                s.id
            }
            fn prefix_of(s: &Self::Subnet) -> String {
                s.prefix.to_string()
            }
            fn holds(s: &Self::Subnet, a: $addr) -> bool {
                s.prefix.contains(a)
            }
            fn scopes<'a>(&'a self, s: &'a Self::Subnet) -> Vec<&'a tern_config::Timers> {
                self.timer_scopes(s)
            }
            fn global(&self) -> &tern_config::Timers {
                &self.timers
            }
        }
    };
}

family!(tern_config::Dhcp4, tern_config::Subnet4, Ipv4Addr, "IPv4");
family!(
    tern_config::Dhcp6,
    tern_config::Subnet6,
    std::net::Ipv6Addr,
    "IPv6"
);

/// The subnet with this id, else a `subnet-id` error saying `missing`.
fn subnet_by_id<F: Family>(
    subnets: Vec<&F::Subnet>,
    id: u32,
    missing: impl FnOnce() -> String,
) -> Result<&F::Subnet, FieldError> {
    subnets
        .into_iter()
        .find(|s| F::id_of(s) == id)
        .ok_or_else(|| FieldError::new("subnet-id", missing()))
}

/// The subnet a lease argument belongs to, checked as Kea's lease_cmds check it: the
/// one `subnet-id` names, which must be configured and hold the address (unless
/// `anywhere`: a delegated prefix lies outside its subnet by design), else the first
/// holding the address. `Ok(None)` for a `subnet-id` when no subnets are configured
/// (nothing to check against).
pub(crate) fn lease_subnet<F: Family>(
    config: Option<&F>,
    given: Option<u32>,
    address: F::Addr,
    anywhere: bool,
) -> Result<Option<&F::Subnet>, FieldError> {
    let subnets = config.map(F::subnet_list).unwrap_or_default();
    let family = F::NAME;
    match given {
        Some(_) if subnets.is_empty() => Ok(None),
        Some(id) => {
            let s = subnet_by_id::<F>(subnets, id, || {
                format!("Invalid subnet-id: No {family} subnet with subnet-id={id} currently configured.")
            })?;
            if !anywhere && !F::holds(s, address) {
                return Err(FieldError::new(
                    "ip-address",
                    format!(
                        "The address {address} does not belong to subnet {}, subnet-id={id}",
                        F::prefix_of(s)
                    ),
                ));
            }
            Ok(Some(s))
        }
        None => subnets
            .into_iter()
            .find(|s| F::holds(s, address))
            .map(Some)
            .ok_or_else(|| {
                FieldError::new(
                    "subnet-id",
                    format!("subnet-id not specified and no configured subnet holds {address}"),
                )
            }),
    }
}

/// The timers in force for a lease in `subnet` (the global ones without a subnet).
pub(crate) fn lease_timers<'a, F: Family>(
    config: Option<&'a F>,
    subnet: Option<&'a F::Subnet>,
) -> Vec<&'a tern_config::Timers> {
    match (config, subnet) {
        (Some(c), Some(s)) => c.scopes(s),
        (Some(c), None) => vec![c.global()],
        (None, _) => Vec::new(),
    }
}

/// The configured subnet a reservation names, checked as Kea's host_cmds check it:
/// `None` for the global id 0 or when no subnets are configured; an id not
/// configured is refused, and so is a reserved address outside the subnet.
pub(crate) fn reservation_subnet<'a, F: Family>(
    config: Option<&'a F>,
    id: u32,
    addresses: &[F::Addr],
    field: &str,
) -> Result<Option<&'a F::Subnet>, FieldError> {
    let subnets = config.map(F::subnet_list).unwrap_or_default();
    if id == 0 || subnets.is_empty() {
        return Ok(None);
    }
    let family = F::NAME;
    let s = subnet_by_id::<F>(subnets, id, || {
        format!("{family} subnet with ID of '{id}' is not configured")
    })?;
    match addresses.iter().find(|a| !F::holds(s, **a)) {
        Some(a) => Err(FieldError::new(
            field,
            format!(
                "specified reservation '{a}' is not matching the {family} subnet prefix '{}'",
                F::prefix_of(s)
            ),
        )),
        None => Ok(Some(s)),
    }
}

/// The first of `scopes` (innermost first) setting a timer, else Kea's `default`.
pub(crate) fn timer(
    scopes: &[&tern_config::Timers],
    f: impl Fn(&tern_config::Timers) -> Option<u32>,
    default: u32,
) -> u32 {
    scopes.iter().find_map(|t| f(t)).unwrap_or(default)
}

/// The state of a lease argument (`state`, 0 to 4).
pub(crate) fn state_arg(args: &Args<'_>) -> Result<tern_store::LeaseState, FieldError> {
    Ok(tern_store::LeaseState::from_code(
        args.int("state", 0, 4)?.unwrap_or(0),
    ))
}

/// A `hostname` argument as a lease row keeps it (empty when absent), at most 255.
pub(crate) fn lease_hostname_arg(args: &Args<'_>) -> Result<String, FieldError> {
    let hostname = args.str("hostname")?.unwrap_or("").to_string();
    if hostname.len() > 255 {
        return Err(FieldError::new("hostname", "longer than 255 characters"));
    }
    Ok(hostname)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        assert_eq!(
            parse_hex("x", "1a:1b:1c:1d:1e:1f").unwrap(),
            vec![0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f]
        );
        assert_eq!(
            parse_hex("x", "08-00-27-f2-5c-e2").unwrap(),
            parse_hex("x", "080027F25CE2").unwrap()
        );
        assert_eq!(parse_hex("x", "'abc'").unwrap(), b"abc".to_vec());
        assert!(parse_hex("x", "zz:11").is_err());
        assert!(parse_hex("x", "abc").is_err());
        assert!(parse_hex("x", "+0.0").is_err());
        assert!(parse_hex("x", "+0+1").is_err());
        // "0x" alone would otherwise store an empty identifier.
        assert_eq!(
            parse_hex("hw-address", "0x").unwrap_err().to_string(),
            parse_hex("hw-address", "").unwrap_err().to_string()
        );
        assert_eq!(hex_colon(&[1, 0xab]), "01:ab");
    }
}

#[cfg(test)]
mod reservation_subnet_tests {
    use serde_json::{json, Map, Value};

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn reservations_must_lie_in_a_configured_subnet() {
        let c = tern_config::parse_str(
            &json!({"Dhcp4": {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24"}]},
            "Dhcp6": {"subnet6": [{"id": 66, "subnet": "2001:db8::/64"}]}})
            .to_string(),
            "t.json",
        )
        .unwrap();
        let v4 = |id: i64, ip: &str| {
            super::hosts::parse_new(
                &map(json!({"subnet-id": id, "hw-address": "01:02:03:04:05:06", "ip-address": ip})),
                c.dhcp4.as_ref(),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        };
        assert_eq!(v4(1, "192.0.2.9"), Ok(()));
        assert_eq!(
            v4(0, "203.0.113.9"),
            Ok(()),
            "global reservations are not checked"
        );
        assert_eq!(
            v4(9, "192.0.2.9"),
            Err("'subnet-id': IPv4 subnet with ID of '9' is not configured".into())
        );
        assert_eq!(
            v4(1, "192.0.3.9"),
            Err("'ip-address': specified reservation '192.0.3.9' is not matching the IPv4 subnet prefix '192.0.2.0/24'".into())
        );
        let v6 = |id: i64, ip: &str| {
            super::hosts6::parse_new(
                &map(
                    json!({"subnet-id": id, "duid": "01:02:03", "ip-addresses": [ip],
                    "prefixes": ["2001:db8:ffff::/48"]}),
                ),
                c.dhcp6.as_ref(),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        };
        assert_eq!(v6(66, "2001:db8::5"), Ok(()), "prefixes may lie outside");
        assert_eq!(
            v6(67, "2001:db8::5"),
            Err("'subnet-id': IPv6 subnet with ID of '67' is not configured".into())
        );
        assert_eq!(
            v6(66, "2001:db9::5"),
            Err("'ip-addresses': specified reservation '2001:db9::5' is not matching the IPv6 subnet prefix '2001:db8::/64'".into())
        );
        // Without subnets of the family (an API-only tern) nothing is refused.
        assert!(super::hosts::parse_new(
            &map(json!({"subnet-id": 9, "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.3.9"})),
            None
        )
        .is_ok());
    }
}
