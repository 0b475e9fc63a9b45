//! SQL against Kea's own tables (`lease4`, `hosts`) and the JSON shapes Kea gives them in
//! its commands. Kea's PostgreSQL schema is public and fixed, so the API reads and writes
//! it directly; the DHCP engine sees every change at once (and the `tern_hosts` triggers
//! announce host changes).

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

impl From<FieldError> for crate::error::ApiError {
    fn from(e: FieldError) -> Self {
        crate::error::ApiError::bad(e.field, e.message)
    }
}

/// How a database error relates to the caller's input.
pub enum DbFault {
    /// A unique constraint said no.
    Conflict(String),
    /// The value does not fit the schema (too long, out of range, unknown reference).
    Invalid(String),
    /// Anything else: ours to log.
    Other,
}

/// Sorts a database error into the caller's fault or ours.
pub fn classify(e: &sqlx::Error) -> DbFault {
    let Some(db) = e.as_database_error() else {
        return DbFault::Other;
    };
    let code = db.code().map(|c| c.to_string()).unwrap_or_default();
    let constraint = db.constraint().unwrap_or("").to_string();
    match code.as_str() {
        "23505" => DbFault::Conflict(match constraint.as_str() {
            "lease4_pkey" => "a lease for this address already exists".to_string(),
            "key_dhcp4_identifier_subnet_id" => {
                "a reservation for this identifier already exists in this subnet".to_string()
            }
            "" => "an object with these keys already exists".to_string(),
            c => format!("already exists (unique constraint {c})"),
        }),
        "23503" => DbFault::Invalid(format!(
            "refers to something that does not exist ({})",
            if constraint.is_empty() {
                db.message()
            } else {
                &constraint
            }
        )),
        c if c.starts_with("22") => DbFault::Invalid(db.message().to_string()),
        "23514" | "23502" => DbFault::Invalid(db.message().to_string()),
        _ => DbFault::Other,
    }
}

/// An IPv4 address as Kea stores it (bigint holding the unsigned 32-bit value).
pub fn v4_to_db(a: Ipv4Addr) -> i64 {
    i64::from(u32::from(a))
}

/// The address back from Kea's bigint.
pub fn v4_from_db(v: i64) -> Ipv4Addr {
    Ipv4Addr::from(v as u32)
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

/// The subnet of a Dhcp4 configuration holding `addr`: `(id, valid-lifetime)`.
pub fn subnet4_for(config: &Value, addr: Ipv4Addr) -> Option<(i64, Option<i64>)> {
    subnets4(config).into_iter().find_map(|s| {
        if !prefix4_holds(s.get("subnet")?.as_str()?, addr) {
            return None;
        }
        let id = s.get("id")?.as_i64()?;
        Some((id, s.get("valid-lifetime").and_then(Value::as_i64)))
    })
}

/// Whether `prefix` ("192.0.2.0/24") holds `addr`; false when it does not parse.
pub fn prefix4_holds(prefix: &str, addr: Ipv4Addr) -> bool {
    let Some((net, len)) = prefix.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(len)) = (net.parse::<Ipv4Addr>(), len.parse::<u32>()) else {
        return false;
    };
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - len.min(32))
    };
    u32::from(net) & mask == u32::from(addr) & mask
}

/// Every `subnet4` of the configuration (top level and inside shared networks).
pub fn subnets4(config: &Value) -> Vec<&Map<String, Value>> {
    let mut out = Vec::new();
    let Some(d4) = config.get("Dhcp4") else {
        return out;
    };
    let mut lists = vec![d4.get("subnet4")];
    if let Some(Value::Array(nets)) = d4.get("shared-networks") {
        lists.extend(nets.iter().map(|n| n.get("subnet4")));
    }
    for list in lists.into_iter().flatten() {
        if let Value::Array(a) = list {
            out.extend(a.iter().filter_map(Value::as_object));
        }
    }
    out
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

    #[test]
    fn subnet_lookup() {
        let c = serde_json::json!({"Dhcp4": {"subnet4": [{"id": 2, "subnet": "192.0.2.0/24", "valid-lifetime": 600}],
            "shared-networks": [{"subnet4": [{"id": 7, "subnet": "10.0.0.0/8"}]}]}});
        assert_eq!(
            subnet4_for(&c, "192.0.2.1".parse().unwrap()),
            Some((2, Some(600)))
        );
        assert_eq!(
            subnet4_for(&c, "10.1.2.3".parse().unwrap()),
            Some((7, None))
        );
        assert_eq!(subnet4_for(&c, "172.16.0.1".parse().unwrap()), None);
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
        let c = json!({"Dhcp4": {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24"}]},
            "Dhcp6": {"subnet6": [{"id": 66, "subnet": "2001:db8::/64"}]}});
        let v4 = |id: i64, ip: &str| {
            super::hosts::parse_new(
                &map(json!({"subnet-id": id, "hw-address": "01:02:03:04:05:06", "ip-address": ip})),
                &c,
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
                &c,
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
        let none = json!({});
        assert!(super::hosts::parse_new(
            &map(json!({"subnet-id": 9, "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.3.9"})),
            &none
        )
        .is_ok());
    }
}
