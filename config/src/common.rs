//! Helpers for turning raw maps into typed values: a reader that knows its key path, the
//! collector of errors and diagnostics, and the address/prefix/range parsers.

use std::fmt::Display;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::diag::{excerpt, join_index, join_key, Diagnostic, Location, Severity};
use crate::error::Finding;
use crate::jsonc::{Node, Object};

/// Where errors and diagnostics of the typed pass go.
#[derive(Default)]
pub(crate) struct Cx {
    pub errors: Vec<Finding>,
    pub diags: Vec<Diagnostic>,
}

impl Cx {
    pub fn error(&mut self, location: &Location, path: &str, message: impl Into<String>) {
        self.errors.push(Finding {
            location: location.clone(),
            path: path.to_string(),
            message: message.into(),
        });
    }

    pub fn note(
        &mut self,
        severity: Severity,
        location: &Location,
        path: &str,
        message: impl Into<String>,
    ) {
        self.diags.push(Diagnostic {
            severity,
            location: location.clone(),
            path: path.to_string(),
            message: message.into(),
        });
    }

    pub fn warn(&mut self, location: &Location, path: &str, message: impl Into<String>) {
        self.note(Severity::Warning, location, path, message);
    }

    pub fn info(&mut self, location: &Location, path: &str, message: impl Into<String>) {
        self.note(Severity::Info, location, path, message);
    }
}

/// A map being read, with its key path. Getters return `None` for values of the wrong type:
/// the schema pass has already reported those.
#[derive(Clone)]
pub(crate) struct Map<'a> {
    pub obj: &'a Object,
    pub node: &'a Node,
    pub path: String,
}

impl<'a> Map<'a> {
    pub fn new(node: &'a Node, path: impl Into<String>) -> Option<Self> {
        node.as_object().map(|obj| Self {
            obj,
            node,
            path: path.into(),
        })
    }

    pub fn location(&self) -> &'a Location {
        &self.node.location
    }

    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.obj.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.obj.contains_key(key)
    }

    pub fn path_of(&self, key: &str) -> String {
        join_key(&self.path, key)
    }

    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Node::as_str)
    }

    /// A string, or `None` when absent or empty.
    pub fn non_empty_str(&self, key: &str) -> Option<&'a str> {
        self.str(key).filter(|s| !s.is_empty())
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Node::as_bool)
    }

    pub fn f64(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Node::as_f64)
    }

    /// An integer within `min..=max`; out of range is an error.
    pub fn int_in(&self, cx: &mut Cx, key: &str, min: i64, max: i64) -> Option<i64> {
        let node = self.get(key)?;
        let v = node.as_i64()?;
        if v < min || v > max {
            cx.error(
                &node.location,
                &self.path_of(key),
                format!("{v} is out of range ({min} to {max})"),
            );
            return None;
        }
        Some(v)
    }

    pub fn u32(&self, cx: &mut Cx, key: &str) -> Option<u32> {
        self.int_in(cx, key, 0, u32::MAX.into()).map(|v| v as u32)
    }

    pub fn u16(&self, cx: &mut Cx, key: &str) -> Option<u16> {
        self.int_in(cx, key, 0, u16::MAX.into()).map(|v| v as u16)
    }

    /// A port: 1 to 65535.
    pub fn port(&self, cx: &mut Cx, key: &str) -> Option<u16> {
        self.int_in(cx, key, 1, u16::MAX.into()).map(|v| v as u16)
    }

    /// The map under `key`.
    pub fn map(&self, key: &str) -> Option<Map<'a>> {
        Map::new(self.get(key)?, self.path_of(key))
    }

    /// The items of a list, each with its path.
    pub fn items(&self, key: &str) -> Vec<(&'a Node, String)> {
        let base = self.path_of(key);
        self.get(key)
            .and_then(Node::as_array)
            .map(|items| {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, node)| (node, join_index(&base, i)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The maps of a list of maps (items of other types were reported by the schema pass).
    pub fn maps(&self, key: &str) -> Vec<Map<'a>> {
        self.items(key)
            .into_iter()
            .filter_map(|(node, path)| Map::new(node, path))
            .collect()
    }

    /// The strings of a list of strings, each with its node.
    pub fn strs(&self, key: &str) -> Vec<(&'a Node, &'a str, String)> {
        self.items(key)
            .into_iter()
            .filter_map(|(node, path)| node.as_str().map(|s| (node, s, path)))
            .collect()
    }

    /// A required string; a missing one is an error at the map (as Kea reports it).
    pub fn required_str(&self, cx: &mut Cx, key: &str) -> Option<&'a str> {
        match self.get(key) {
            Some(node) => node.as_str(),
            None => {
                cx.error(
                    self.location(),
                    &self.path,
                    format!("missing parameter \"{key}\""),
                );
                None
            }
        }
    }

    /// Reads a string key with `parse`; a parse failure is an error at the value.
    pub fn parsed<T>(
        &self,
        cx: &mut Cx,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let node = self.get(key)?;
        let s = node.as_str()?;
        match parse(s) {
            Ok(v) => Some(v),
            Err(msg) => {
                cx.error(&node.location, &self.path_of(key), msg);
                None
            }
        }
    }

    /// Reads a case-insensitive enumeration (the schema has checked the spelling).
    pub fn choice<T: Copy>(&self, key: &str, table: &[(&str, T)]) -> Option<T> {
        let s = self.str(key)?;
        table
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|(_, v)| *v)
    }
}

/// An address family: what differs between DHCPv4 and DHCPv6 ranges and prefixes.
pub trait Family: Copy + Ord + Display + FromStr + std::fmt::Debug {
    /// Address bits: 32 or 128.
    const BITS: u8;
    /// "IPv4" or "IPv6".
    const NAME: &'static str;
    /// The address as a number.
    fn to_u128(self) -> u128;
    /// The address of a number (truncated to the family's width).
    fn from_u128(v: u128) -> Self;
}

impl Family for Ipv4Addr {
    const BITS: u8 = 32;
    const NAME: &'static str = "IPv4";
    fn to_u128(self) -> u128 {
        u32::from(self).into()
    }
    fn from_u128(v: u128) -> Self {
        Ipv4Addr::from(v as u32)
    }
}

impl Family for Ipv6Addr {
    const BITS: u8 = 128;
    const NAME: &'static str = "IPv6";
    fn to_u128(self) -> u128 {
        u128::from(self)
    }
    fn from_u128(v: u128) -> Self {
        Ipv6Addr::from(v)
    }
}

/// Parses an address of family `A`, with a message naming the family.
pub(crate) fn parse_addr<A: Family>(s: &str) -> Result<A, String> {
    s.trim()
        .parse::<A>()
        .map_err(|_| format!("\"{}\" is not an {} address", excerpt(s), A::NAME))
}

/// Parses an address of either family.
pub(crate) fn parse_ip(s: &str) -> Result<IpAddr, String> {
    s.trim()
        .parse::<IpAddr>()
        .map_err(|_| format!("\"{}\" is not an IP address", excerpt(s)))
}

/// A prefix: the network address (host bits cleared) and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prefix<A> {
    pub addr: A,
    pub len: u8,
    /// Whether the text had host bits set (Kea accepts that and ignores them).
    pub had_host_bits: bool,
}

impl<A: Family> Prefix<A> {
    pub fn first(&self) -> u128 {
        self.addr.to_u128()
    }

    pub fn last(&self) -> u128 {
        self.first() | host_mask(A::BITS, self.len)
    }
}

fn host_mask(bits: u8, len: u8) -> u128 {
    let host_bits = u32::from(bits - len);
    if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    }
}

/// Parses `address/length`.
pub(crate) fn parse_prefix<A: Family>(s: &str) -> Result<Prefix<A>, String> {
    let Some((addr, len)) = s.split_once('/') else {
        return Err(format!(
            "\"{}\" is not a prefix (expected address/length)",
            excerpt(s)
        ));
    };
    let addr: A = parse_addr(addr)?;
    let len: u8 = match len.trim().parse::<u8>() {
        Ok(l) if l <= A::BITS => l,
        _ => {
            return Err(format!(
                "\"{}\": prefix length \"{}\" is out of range (0 to {})",
                excerpt(s),
                excerpt(len),
                A::BITS
            ))
        }
    };
    let raw = addr.to_u128();
    let net = raw & !host_mask(A::BITS, len) & family_mask::<A>();
    Ok(Prefix {
        addr: A::from_u128(net),
        len,
        had_host_bits: net != raw,
    })
}

fn family_mask<A: Family>() -> u128 {
    host_mask(A::BITS, 0)
}

/// Parses a pool: `first - last` (spaces optional) or `prefix/length`.
/// `Err(None)` means "not a valid range" with no more to say.
pub(crate) fn parse_pool<A: Family>(s: &str) -> Result<(A, A), Option<String>> {
    if s.contains('/') {
        let p = parse_prefix::<A>(s).map_err(Some)?;
        return Ok((A::from_u128(p.first()), A::from_u128(p.last())));
    }
    let Some((a, b)) = s.split_once('-') else {
        return Err(Some(
            "expected \"first - last\" or \"prefix/length\"".to_string(),
        ));
    };
    let first: A = parse_addr(a).map_err(Some)?;
    let last: A = parse_addr(b).map_err(Some)?;
    if first > last {
        return Err(None);
    }
    Ok((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p = parse_prefix::<Ipv4Addr>("10.0.0.1/8").unwrap();
        assert_eq!(p.addr, Ipv4Addr::new(10, 0, 0, 0));
        assert!(p.had_host_bits);
        assert_eq!(
            Ipv4Addr::from_u128(p.last()),
            Ipv4Addr::new(10, 255, 255, 255)
        );
        let p = parse_prefix::<Ipv4Addr>("0.0.0.0/0").unwrap();
        assert_eq!(p.last(), u32::MAX.into());
        let p = parse_prefix::<Ipv6Addr>("::/0").unwrap();
        assert_eq!(p.last(), u128::MAX);
        assert!(parse_prefix::<Ipv4Addr>("10.0.0.0/33").is_err());
        assert!(parse_prefix::<Ipv4Addr>("10.0.0.0").is_err());
        assert!(parse_prefix::<Ipv6Addr>("10.0.0.0/8").is_err());
    }

    #[test]
    fn pools() {
        let (a, b) = parse_pool::<Ipv4Addr>("192.0.2.1 - 192.0.2.10").unwrap();
        assert_eq!(
            (a, b),
            ("192.0.2.1".parse().unwrap(), "192.0.2.10".parse().unwrap())
        );
        let (a, b) = parse_pool::<Ipv6Addr>("2001:db8::/126").unwrap();
        assert_eq!(b.to_u128() - a.to_u128(), 3);
        assert_eq!(parse_pool::<Ipv6Addr>("fd00::1-fd00::"), Err(None));
        assert!(matches!(parse_pool::<Ipv4Addr>("10.0.0.5"), Err(Some(_))));
        assert!(matches!(
            parse_pool::<Ipv4Addr>("10.0.0.5-10.0.0.x"),
            Err(Some(_))
        ));
    }
}
