//! DHCPv4 option definitions and Kea's text form of option values.
//!
//! `option-data` names an option by `name` or `code`; the table [`STANDARD`] maps
//! Kea's names of the standard DHCPv4 options (RFC 2132 and later) to a code and a
//! value type. `data` is Kea's CSV text form (`"192.0.2.1, 192.0.2.2"`,
//! `"example.org"`, `"true"`, `"0x1F"`) or, with `csv-format: false`, hex.
//! [`encode`] turns it into the option's wire bytes (without code and length).

use std::net::Ipv4Addr;

use thiserror::Error;

// The standard table is configuration data shared with the API (which names options
// in reservations): it lives in tern-config.
pub use tern_config::option_defs::{by_code, by_name, OptionDef, OptionType, STANDARD};

use OptionType as T;

/// Why an option value cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OptionError {
    /// No such option name.
    #[error("unknown option name \"{0}\"")]
    UnknownName(String),
    /// Name and code disagree.
    #[error("option name \"{name}\" has code {expected}, not {given}")]
    CodeMismatch {
        /// The name given.
        name: String,
        /// Its code.
        expected: u8,
        /// The code given.
        given: u16,
    },
    /// A code without a definition needs hex data.
    #[error("option code {0} has no standard definition: give its data as hex with \"csv-format\": false")]
    NoDefinition(u16),
    /// A code outside 1..=254.
    #[error("option code {0} is not a DHCPv4 option code")]
    BadCode(u16),
    /// The text does not parse as the option's type.
    #[error("option {name} ({code}): {why}")]
    BadValue {
        /// Option name or code.
        name: String,
        /// Code.
        code: u8,
        /// What is wrong.
        why: String,
    },
}

/// Encodes one `option-data` entry of the `dhcp4` space with the standard
/// definitions only: returns (code, value bytes).
pub fn encode_entry(
    name: Option<&str>,
    code: Option<u16>,
    data: &str,
    csv_format: bool,
) -> Result<(u8, Vec<u8>), OptionError> {
    Definitions::default().encode_entry(DHCP4, name, code, data, csv_format)
}

/// The standard option space.
pub const DHCP4: &str = "dhcp4";

/// The space Kea's standard option 43 (vendor-encapsulated-options) carries.
pub const VENDOR_ENCAPSULATED_SPACE: &str = "vendor-encapsulated-options-space";

/// A value's layout, as `option-def` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    /// One value.
    One(OptionType),
    /// Zero or more values of one type (`"array": true`).
    Array(OptionType),
    /// Fields of the given types, in order (`"type": "record"`).
    Record(Vec<OptionType>),
}

/// A custom option (`option-def`), resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomDef {
    /// Its name.
    pub name: String,
    /// Its code in `space`.
    pub code: u8,
    /// Its option space.
    pub space: String,
    /// Its value's layout.
    pub kind: ValueKind,
    /// The space whose options it carries after its own value, if any.
    pub encapsulate: Option<String>,
}

/// The option definitions in force: Kea's standard ones (space `dhcp4`) and the
/// configuration's `option-def` entries, which come first (as in Kea, a custom
/// definition may redefine a standard code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Definitions {
    custom: Vec<CustomDef>,
}

fn scalar(kea: &str) -> Option<OptionType> {
    Some(match kea {
        "empty" => T::Empty,
        "binary" => T::Binary,
        "boolean" => T::Bool,
        "int8" => T::I8,
        "int16" => T::I16,
        "int32" => T::I32,
        "uint8" => T::U8,
        "uint16" => T::U16,
        "uint32" => T::U32,
        "ipv4-address" => T::Ipv4,
        "ipv6-address" => T::Ipv6,
        "string" => T::Text,
        "fqdn" => T::Fqdn,
        _ => return None,
    })
}

impl Definitions {
    /// The configuration's definitions (entries the configuration check warned about
    /// are not here: they were left out when the file was read).
    pub fn from_config(defs: &[tern_config::OptionDefData]) -> Definitions {
        let custom = defs
            .iter()
            .filter_map(|d| {
                let kind = if d.kind == "record" {
                    ValueKind::Record(
                        d.record_types
                            .iter()
                            .map(|t| scalar(t))
                            .collect::<Option<Vec<_>>>()?,
                    )
                } else if d.array {
                    ValueKind::Array(scalar(&d.kind)?)
                } else {
                    ValueKind::One(scalar(&d.kind)?)
                };
                Some(CustomDef {
                    name: d.name.clone(),
                    code: d.code,
                    space: d.space.clone(),
                    kind,
                    encapsulate: Some(d.encapsulate.clone()).filter(|e| !e.is_empty()),
                })
            })
            .collect();
        Definitions { custom }
    }

    /// The definition of an option of `space` named `name` or numbered `code`.
    fn find(&self, space: &str, name: Option<&str>, code: Option<u8>) -> Option<CustomDef> {
        let matches = |n: &str, c: u8| match (name, code) {
            (Some(x), _) => x == n,
            (None, Some(x)) => x == c,
            (None, None) => false,
        };
        if let Some(d) = self
            .custom
            .iter()
            .find(|d| d.space == space && matches(&d.name, d.code))
        {
            return Some(d.clone());
        }
        if space != DHCP4 {
            return None;
        }
        STANDARD
            .iter()
            .find(|d| matches(d.name, d.code))
            .map(|d| CustomDef {
                name: d.name.to_string(),
                code: d.code,
                space: DHCP4.to_string(),
                kind: ValueKind::One(d.kind),
                encapsulate: (d.code == 43).then(|| VENDOR_ENCAPSULATED_SPACE.to_string()),
            })
    }

    /// The space that option `code` of `space` encapsulates, if any.
    pub fn encapsulated(&self, space: &str, code: u8) -> Option<String> {
        self.find(space, None, Some(code))?.encapsulate
    }

    /// Encodes one `option-data` entry of `space`: returns (code, value bytes).
    pub fn encode_entry(
        &self,
        space: &str,
        name: Option<&str>,
        code: Option<u16>,
        data: &str,
        csv_format: bool,
    ) -> Result<(u8, Vec<u8>), OptionError> {
        let max = if space == DHCP4 { 254 } else { 255 };
        if let Some(c) = code {
            if c == 0 || c > max {
                return Err(OptionError::BadCode(c));
            }
        }
        let def = match name {
            Some(n) => {
                let d = self
                    .find(space, Some(n), None)
                    .ok_or_else(|| OptionError::UnknownName(n.to_string()))?;
                if let Some(c) = code.filter(|c| *c != u16::from(d.code)) {
                    return Err(OptionError::CodeMismatch {
                        name: n.to_string(),
                        expected: d.code,
                        given: c,
                    });
                }
                Some(d)
            }
            None => self.find(space, None, code.map(|c| c as u8)),
        };
        let code = match (&def, code) {
            (Some(d), _) => d.code,
            (None, Some(c)) => c as u8,
            (None, None) => return Err(OptionError::BadCode(0)),
        };
        let label = || name.map_or_else(|| code.to_string(), str::to_string);
        if !csv_format {
            let bytes = parse_hex(data).map_err(|why| OptionError::BadValue {
                name: label(),
                code,
                why,
            })?;
            return Ok((code, bytes));
        }
        let Some(def) = def else {
            return Err(OptionError::NoDefinition(u16::from(code)));
        };
        let bytes = encode_value(&def.kind, data).map_err(|why| OptionError::BadValue {
            name: def.name.clone(),
            code,
            why,
        })?;
        Ok((code, bytes))
    }
}

/// Encodes Kea's CSV text for a value of this layout.
pub fn encode_value(kind: &ValueKind, data: &str) -> Result<Vec<u8>, String> {
    match kind {
        ValueKind::One(t) => encode(*t, data),
        ValueKind::Array(t) => {
            let mut out = Vec::new();
            for item in split_csv(data) {
                out.extend(encode(*t, &item.replace(',', "\\,"))?);
            }
            Ok(out)
        }
        ValueKind::Record(fields) => {
            let items = split_csv(data);
            if items.len() < fields.len() {
                return Err(format!(
                    "a record of {} fields needs {} values, got {}",
                    fields.len(),
                    fields.len(),
                    items.len()
                ));
            }
            // Values past the record's fields are left out, as Kea 2.2 does (a trailing
            // text field takes its own value only).
            let mut out = Vec::new();
            for (t, item) in fields.iter().zip(&items) {
                out.extend(encode(*t, &item.replace(',', "\\,"))?);
            }
            Ok(out)
        }
    }
}

/// Encodes Kea's CSV text `data` as a value of type `kind`.
pub fn encode(kind: OptionType, data: &str) -> Result<Vec<u8>, String> {
    let items = || split_csv(data);
    let one = || -> Result<String, String> {
        let v = items();
        match v.as_slice() {
            [x] => Ok(x.clone()),
            [] => Err("a value is required".into()),
            _ => Err(format!("one value expected, got {}", v.len())),
        }
    };
    let mut out = Vec::new();
    match kind {
        T::Ipv4 => out.extend(parse_ipv4(&one()?)?.octets()),
        T::Ipv4List => {
            let v = items();
            if v.is_empty() {
                return Err("at least one address is required".into());
            }
            for s in v {
                out.extend(parse_ipv4(&s)?.octets());
            }
        }
        T::Text => {
            // A text option is the whole string (Kea: "\," for a literal comma).
            let s = data.replace("\\,", ",");
            if s.is_empty() {
                return Err("text must not be empty".into());
            }
            out.extend(s.as_bytes());
        }
        T::Fqdn => out.extend(encode_name(&one()?)?),
        T::FqdnList => {
            let v = items();
            if v.is_empty() {
                return Err("at least one name is required".into());
            }
            for s in v {
                out.extend(encode_name(&s)?);
            }
        }
        T::U8 => out.push(parse_uint(&one()?, u64::from(u8::MAX))? as u8),
        T::U16 => out.extend((parse_uint(&one()?, u64::from(u16::MAX))? as u16).to_be_bytes()),
        T::U32 => out.extend((parse_uint(&one()?, u64::from(u32::MAX))? as u32).to_be_bytes()),
        T::I8 => out.extend(parse_int::<i8>(&one()?, "8")?.to_be_bytes()),
        T::I16 => out.extend(parse_int::<i16>(&one()?, "16")?.to_be_bytes()),
        T::I32 => out.extend(parse_int::<i32>(&one()?, "32")?.to_be_bytes()),
        T::Bool => out.push(u8::from(parse_bool(&one()?)?)),
        T::U8List => {
            for s in items() {
                out.push(parse_uint(&s, u64::from(u8::MAX))? as u8);
            }
        }
        T::U16List => {
            for s in items() {
                out.extend((parse_uint(&s, u64::from(u16::MAX))? as u16).to_be_bytes());
            }
        }
        T::Binary => out = parse_hex(data)?,
        T::ClasslessRoutes => {
            for s in items() {
                let (net, gw) = s
                    .split_once(" - ")
                    .ok_or_else(|| format!("\"{s}\": expected \"prefix/len - router\""))?;
                let (addr, len) = net
                    .trim()
                    .split_once('/')
                    .ok_or_else(|| format!("\"{net}\": expected prefix/len"))?;
                let addr = parse_ipv4(addr)?;
                let len: u8 = len
                    .parse()
                    .ok()
                    .filter(|l| *l <= 32)
                    .ok_or_else(|| format!("\"{len}\" is not a prefix length"))?;
                let gw = parse_ipv4(gw)?;
                out.push(len);
                out.extend(&addr.octets()[..usize::from(len).div_ceil(8)]);
                out.extend(gw.octets());
            }
        }
        T::Ipv6 => out.extend(parse_ipv6(&one()?)?.octets()),
        T::Ipv6List => {
            let v = items();
            if v.is_empty() {
                return Err("at least one address is required".into());
            }
            for s in v {
                out.extend(parse_ipv6(&s)?.octets());
            }
        }
        T::TupleList => {
            for s in items() {
                let n = u16::try_from(s.len()).map_err(|_| format!("\"{s}\" is too long"))?;
                out.extend(n.to_be_bytes());
                out.extend(s.as_bytes());
            }
        }
        T::Empty => {
            if !data.trim().is_empty() {
                return Err("this option carries no value".into());
            }
        }
    }
    Ok(out)
}

/// Splits Kea's CSV text: commas separate values, `\,` is a literal comma, blanks
/// around values are dropped.
fn split_csv(data: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = data.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                cur.push(',');
                chars.next();
            }
            ',' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    let out: Vec<String> = out.into_iter().map(|s| s.trim().to_string()).collect();
    if out.len() == 1 && out[0].is_empty() {
        return Vec::new();
    }
    out
}

fn parse_ipv4(s: &str) -> Result<Ipv4Addr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("\"{}\" is not an IPv4 address", s.trim()))
}

fn parse_ipv6(s: &str) -> Result<std::net::Ipv6Addr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("\"{}\" is not an IPv6 address", s.trim()))
}

fn parse_uint(s: &str, max: u64) -> Result<u64, String> {
    let t = s.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    }
    .map_err(|_| format!("\"{t}\" is not a number"))?;
    if v > max {
        return Err(format!("{v} is greater than {max}"));
    }
    Ok(v)
}

fn parse_int<I: std::str::FromStr>(s: &str, bits: &str) -> Result<I, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("\"{}\" is not a signed {bits}-bit number", s.trim()))
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(format!("\"{other}\" is not a boolean (true or false)")),
    }
}

/// Hex as Kea takes it: optional `0x`, digits optionally separated by `:`, ` ` or `-`
/// (each group one or two digits).
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let bad = || format!("\"{}\" is not valid hex", s.trim());
    if t.contains([':', ' ', '-']) {
        return t
            .split([':', ' ', '-'])
            .filter(|g| !g.is_empty())
            .map(|g| {
                if g.len() <= 2 {
                    u8::from_str_radix(g, 16).map_err(|_| bad())
                } else {
                    Err(bad())
                }
            })
            .collect();
    }
    if !t.is_ascii() {
        return Err(bad());
    }
    // An odd number of digits gets a leading zero, as Kea does.
    let padded = if t.len() % 2 == 1 {
        format!("0{t}")
    } else {
        t.to_string()
    };
    (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

/// A domain name in DNS wire form, uncompressed, ending with the root label.
pub fn encode_name(name: &str) -> Result<Vec<u8>, String> {
    let n = name.trim().trim_end_matches('.');
    let mut out = Vec::new();
    if !n.is_empty() {
        for label in n.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(format!("\"{name}\" is not a valid domain name"));
            }
            out.push(label.len() as u8);
            out.extend(label.as_bytes());
        }
    }
    out.push(0);
    if out.len() > 255 {
        return Err(format!("\"{name}\" is longer than 255 bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            encode_entry(Some("routers"), None, "192.0.2.1", true).unwrap(),
            (3, vec![192, 0, 2, 1])
        );
        assert_eq!(
            encode_entry(
                Some("domain-name-servers"),
                None,
                "192.0.2.53, 198.51.100.53",
                true
            )
            .unwrap(),
            (6, vec![192, 0, 2, 53, 198, 51, 100, 53])
        );
        assert!(encode_entry(Some("routers"), None, "192.0.2.300", true).is_err());
        assert!(encode_entry(Some("subnet-mask"), None, "255.0.0.0, 255.0.0.0", true).is_err());
    }

    #[test]
    fn text_and_names() {
        assert_eq!(
            encode_entry(Some("domain-name"), None, "example.org", true).unwrap(),
            (15, b"example.org".to_vec())
        );
        assert_eq!(
            encode_entry(Some("domain-search"), None, "a.org, b.c", true).unwrap(),
            (
                119,
                vec![1, b'a', 3, b'o', b'r', b'g', 0, 1, b'b', 1, b'c', 0]
            )
        );
        assert_eq!(
            encode_entry(Some("boot-file-name"), None, "pxelinux.0", true).unwrap(),
            (67, b"pxelinux.0".to_vec())
        );
        assert_eq!(encode(OptionType::Text, "a\\,b").unwrap(), b"a,b".to_vec());
    }

    #[test]
    fn numbers_and_flags() {
        assert_eq!(
            encode_entry(Some("interface-mtu"), None, "1500", true).unwrap(),
            (26, vec![0x05, 0xdc])
        );
        assert_eq!(
            encode_entry(Some("default-ip-ttl"), None, "0x40", true).unwrap(),
            (23, vec![0x40])
        );
        assert!(encode_entry(Some("default-ip-ttl"), None, "256", true).is_err());
        assert_eq!(
            encode_entry(Some("time-offset"), None, "-3600", true).unwrap(),
            (2, (-3600i32).to_be_bytes().to_vec())
        );
        assert_eq!(
            encode_entry(Some("ip-forwarding"), None, "true", true).unwrap(),
            (19, vec![1])
        );
        assert!(encode_entry(Some("ip-forwarding"), None, "yes", true).is_err());
    }

    #[test]
    fn by_code_and_hex() {
        assert_eq!(
            encode_entry(None, Some(3), "10.0.0.1", true).unwrap(),
            (3, vec![10, 0, 0, 1])
        );
        assert_eq!(
            encode_entry(None, Some(224), "01:02:0a", false).unwrap(),
            (224, vec![1, 2, 10])
        );
        assert_eq!(
            encode_entry(Some("vendor-encapsulated-options"), None, "0x0102", false).unwrap(),
            (43, vec![1, 2])
        );
        assert!(matches!(
            encode_entry(None, Some(224), "x", true),
            Err(OptionError::NoDefinition(224))
        ));
        assert!(matches!(
            encode_entry(Some("routers"), Some(4), "10.0.0.1", true),
            Err(OptionError::CodeMismatch { .. })
        ));
        assert!(encode_entry(Some("no-such-option"), None, "1", true).is_err());
        assert_eq!(parse_hex("abc").unwrap(), vec![0x0a, 0xbc]);
        assert!(parse_hex("zz").is_err());
    }

    #[test]
    fn classless_routes() {
        assert_eq!(
            encode_entry(
                Some("classless-static-route"),
                None,
                "10.0.0.0/8 - 192.0.2.1, 0.0.0.0/0 - 192.0.2.254",
                true
            )
            .unwrap(),
            (121, vec![8, 10, 192, 0, 2, 1, 0, 192, 0, 2, 254])
        );
    }

    #[test]
    fn table_is_consistent() {
        for (i, a) in STANDARD.iter().enumerate() {
            for b in &STANDARD[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.code, b.code, "{} and {}", a.name, b.name);
            }
        }
    }
}
