//! Kea's NameChangeRequest: what the DHCP server asks d2 to do in DNS.
//!
//! # JSON
//!
//! One JSON object per request, with these keys (Kea `src/lib/dhcp_ddns/ncr_msg.cc`):
//!
//! | key | value |
//! | --- | --- |
//! | `change-type` | `0` add, `1` remove |
//! | `forward-change`, `reverse-change` | booleans; at least one true |
//! | `fqdn` | the name, non-empty |
//! | `ip-address` | IPv4 or IPv6 address text |
//! | `dhcid` | hex of the DHCID RDATA, non-empty |
//! | `lease-expires-on` | `"YYYYMMDDHHmmSS"` UTC: required by Kea up to 3.1.5, gone from 3.1.6 |
//! | `lease-length` | 0 to 2^32-1: the TTL d2 gives the records |
//! | `conflict-resolution-mode` | one of the four mode strings (Kea 2.5.0 and later) |
//! | `use-conflict-resolution` | boolean (before 2.5.0): true = check-with-dhcid, false = no-check-with-dhcid |
//!
//! Reading follows Kea: unknown keys are ignored; a duplicate key keeps its last value;
//! `conflict-resolution-mode` wins over `use-conflict-resolution` (which is then not even
//! looked at); with neither the mode is check-with-dhcid. `lease-expires-on` is optional
//! (Kea 3.1.6+ senders leave it out) but, when present, must be a valid time as Kea up to
//! 3.1.5 requires.
//!
//! # What [`NameChangeRequest::to_json`] writes, and why
//!
//! Every key, in Kea's order, with `lease-expires-on` *and* both conflict-resolution keys:
//!
//! ```text
//! {"change-type":0,"forward-change":true,"reverse-change":true,"fqdn":"myhost.example.com.",
//!  "ip-address":"192.0.2.10","dhcid":"0002…","lease-expires-on":"20240101120000",
//!  "lease-length":1200,"use-conflict-resolution":true,"conflict-resolution-mode":"check-with-dhcid"}
//! ```
//! (one line on the wire). Checked against Kea's `NameChangeRequest::fromJSON` at each tag:
//! - Kea 2.2.0 (what Debian ships) to 2.4.x requires `lease-expires-on` (a missing key is
//!   an error) and reads `use-conflict-resolution`, defaulting to true; it only looks keys
//!   up, so `conflict-resolution-mode` is ignored there.
//! - Kea 2.5.0 to 3.1.5 still requires `lease-expires-on`; `conflict-resolution-mode`,
//!   when present, is used and `use-conflict-resolution` is not read.
//! - Kea 3.1.6 and later no longer read `lease-expires-on` (an extra key, ignored) and use
//!   `conflict-resolution-mode` as above.
//!
//! So one text serves every d2 from 2.2 on. Kea 2.2 knows only two modes; for it
//! `use-conflict-resolution` carries the nearest one: true for check-with-dhcid and
//! check-exists-with-dhcid (both refuse to overwrite a name someone else holds), false for
//! the two no-check modes. A request without an expiry time writes `"19700101000000"`,
//! which is what Kea itself writes for a request whose expiry was never set (its default
//! is 0); reading that value gives back "no expiry time", so texts round-trip exactly.
//! No d2 version uses `lease-expires-on` for anything: the TTL comes from `lease-length`.
//!
//! # Datagrams
//!
//! Over UDP each datagram carries one request: a 2-octet big-endian length, then that many
//! octets of JSON text. Kea's listener reads into a 4096-octet buffer, so a datagram is at
//! most 4096 octets, prefix included. d2 never replies.

use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use serde_json::{Map, Value};

use crate::dhcid::{Dhcid, DhcidError};
use crate::fqdn::{Fqdn, FqdnError};
use crate::reverse::reverse_name;

/// The largest NCR datagram, length prefix included: Kea's receive buffer.
pub const MAX_DATAGRAM_LEN: usize = 4096;

/// What `lease-expires-on` says for "no expiry time": Kea's rendering of time 0.
pub const NO_EXPIRY_TEXT: &str = "19700101000000";

/// The latest expiry Kea can write: the end of year 9999.
const LAST_EXPIRY_TEXT: &str = "99991231235959";

/// Longest JSON value quoted in an error message; longer ones are cut.
const MAX_SHOWN_VALUE: usize = 80;

/// Whether a request adds or removes DNS data (`change-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeType {
    /// 0: add the name's address (and DHCID), and the PTR.
    Add,
    /// 1: remove them.
    Remove,
}

impl ChangeType {
    /// The `change-type` number: 0 or 1.
    pub fn code(self) -> u8 {
        match self {
            Self::Add => 0,
            Self::Remove => 1,
        }
    }

    /// Kea's enum name, as its logs show it: `CHG_ADD` or `CHG_REMOVE`.
    pub fn kea_name(self) -> &'static str {
        match self {
            Self::Add => "CHG_ADD",
            Self::Remove => "CHG_REMOVE",
        }
    }
}

/// How d2 guards against overwriting names other clients hold (RFC 4703 and Kea's
/// `ddns-conflict-resolution-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConflictResolutionMode {
    /// `check-with-dhcid`: RFC 4703 — update only a name whose DHCID is the client's.
    #[default]
    CheckWithDhcid,
    /// `no-check-with-dhcid`: overwrite whatever is there, and write a DHCID.
    NoCheckWithDhcid,
    /// `check-exists-with-dhcid`: update a name that has any DHCID (never a static entry).
    CheckExistsWithDhcid,
    /// `no-check-without-dhcid`: overwrite whatever is there, write no DHCID.
    NoCheckWithoutDhcid,
}

impl ConflictResolutionMode {
    /// All modes, in Kea's order.
    pub const ALL: [Self; 4] = [
        Self::CheckWithDhcid,
        Self::NoCheckWithDhcid,
        Self::CheckExistsWithDhcid,
        Self::NoCheckWithoutDhcid,
    ];

    /// Kea's name for the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CheckWithDhcid => "check-with-dhcid",
            Self::NoCheckWithDhcid => "no-check-with-dhcid",
            Self::CheckExistsWithDhcid => "check-exists-with-dhcid",
            Self::NoCheckWithoutDhcid => "no-check-without-dhcid",
        }
    }

    /// The mode a pre-2.5 `use-conflict-resolution` flag stands for.
    pub fn from_use_conflict_resolution(flag: bool) -> Self {
        if flag {
            Self::CheckWithDhcid
        } else {
            Self::NoCheckWithDhcid
        }
    }

    /// The nearest pre-2.5 `use-conflict-resolution` flag: true for the two checking modes.
    pub fn use_conflict_resolution(self) -> bool {
        matches!(self, Self::CheckWithDhcid | Self::CheckExistsWithDhcid)
    }
}

impl fmt::Display for ConflictResolutionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is not one of the four conflict resolution mode names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a conflict resolution mode (check-with-dhcid, no-check-with-dhcid, \
     check-exists-with-dhcid, no-check-without-dhcid)"
)]
pub struct UnknownConflictResolutionMode(pub String);

impl FromStr for ConflictResolutionMode {
    type Err = UnknownConflictResolutionMode;

    /// Exact, case-sensitive match of Kea's names, as Kea does.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownConflictResolutionMode(s.to_owned()))
    }
}

/// Which Kea version's rendering [`NameChangeRequest::to_text_as`] copies. Kea logs an NCR
/// in several messages (DHCP_DDNS_ADD_SUCCEEDED, DHCPSRV_QUEUE_NCR, …) with the same text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeaTextStyle {
    /// Kea 2.2 to 2.4: `Lease Expires On`, `Lease Length`, `Conflict Resolution: yes|no`.
    Kea2_2,
    /// Kea 2.5.0 to 3.1.5: `Lease Expires On`, `Lease Length`, `Conflict Resolution Mode`.
    Kea2_5,
    /// Kea 3.1.6 and 3.1.7: no expiry line; `Lease Length`, `Conflict Resolution Mode`.
    Kea3_1_6,
    /// Kea 3.1.8 and later (3.2, 3.3): `TTL`, `Conflict Resolution Mode`.
    #[default]
    Kea3_1_8,
}

/// Why a text or datagram is not a valid NameChangeRequest. Each names the field and the
/// reason, for d2's "invalid NCR" log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NcrError {
    /// The text is not JSON.
    #[error("ncr: malformed JSON: {0}")]
    MalformedJson(String),
    /// The JSON is not an object.
    #[error("ncr: expected a JSON object, got {0}")]
    NotAnObject(&'static str),
    /// A required key is absent.
    #[error("ncr: {0:?} is missing")]
    Missing(&'static str),
    /// A value of the wrong JSON type.
    #[error("ncr: {field:?}: {value} is not {expected}")]
    WrongType {
        /// The key.
        field: &'static str,
        /// The value as JSON, possibly cut short.
        value: String,
        /// What it should be: "a boolean", "a string", "an integer".
        expected: &'static str,
    },
    /// `change-type` is an integer other than 0 or 1.
    #[error("ncr: \"change-type\": {0} is not 0 (add) or 1 (remove)")]
    ChangeType(String),
    /// `fqdn` is not a domain name.
    #[error("ncr: \"fqdn\": {value} is not a domain name: {source}")]
    Fqdn {
        /// The value as JSON.
        value: String,
        /// Why.
        source: FqdnError,
    },
    /// `ip-address` is not an address.
    #[error("ncr: \"ip-address\": {0} is not an IP address")]
    IpAddress(String),
    /// `dhcid` is not hex or is empty.
    #[error("ncr: \"dhcid\": {value} is not a DHCID: {source}")]
    Dhcid {
        /// The value as JSON.
        value: String,
        /// Why.
        source: DhcidError,
    },
    /// `lease-expires-on` is not a time Kea would accept.
    #[error("ncr: \"lease-expires-on\": {value} is not a UTC time as YYYYMMDDHHmmSS: {reason}")]
    LeaseExpiresOn {
        /// The value as JSON.
        value: String,
        /// Why.
        reason: String,
    },
    /// `lease-length` is an integer outside 0..=4294967295.
    #[error("ncr: \"lease-length\": {0} is out of range 0..=4294967295")]
    LeaseLength(String),
    /// `conflict-resolution-mode` is not one of the four names.
    #[error(
        "ncr: \"conflict-resolution-mode\": {0} is not one of \"check-with-dhcid\", \
         \"no-check-with-dhcid\", \"check-exists-with-dhcid\", \"no-check-without-dhcid\""
    )]
    ConflictResolutionMode(String),
    /// Neither direction is asked for.
    #[error("ncr: \"forward-change\" and \"reverse-change\" are both false")]
    NoDirection,
    /// A datagram too short to hold the length prefix.
    #[error("ncr datagram: {0} octets is too short for the 2-octet length prefix")]
    DatagramTooShort(usize),
    /// The length prefix does not match what follows it.
    #[error("ncr datagram: the length prefix says {declared} octets but {actual} follow")]
    DatagramLength {
        /// The prefix's value.
        declared: usize,
        /// Octets after the prefix.
        actual: usize,
    },
    /// A datagram over 4096 octets.
    #[error("ncr datagram: {0} octets is more than the 4096-octet maximum")]
    DatagramTooLarge(usize),
    /// The JSON text is not UTF-8.
    #[error("ncr datagram: the JSON text is not UTF-8 (invalid octet at offset {0})")]
    NotUtf8(usize),
}

/// A request from the DHCP server to d2: add or remove the DNS data of one lease.
///
/// Kea's `status` field is d2's bookkeeping and never on the wire, so it is not here.
/// Equality compares `fqdn` case-insensitively (see [`Fqdn`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameChangeRequest {
    /// Add or remove.
    pub change_type: ChangeType,
    /// Update the forward zone (address records and DHCID at the name).
    pub forward_change: bool,
    /// Update the reverse zone (PTR and DHCID at the address's reverse name).
    pub reverse_change: bool,
    /// The client's name.
    pub fqdn: Fqdn,
    /// The leased address.
    pub ip_address: IpAddr,
    /// The DHCID of the client and name.
    pub dhcid: Dhcid,
    /// When the lease expires, whole seconds, UTC. `None` when the sender did not say
    /// (Kea 3.1.6+). `Some` of 1970-01-01T00:00:00 is the same as `None` on the wire.
    pub lease_expires_on: Option<DateTime<Utc>>,
    /// The TTL d2 gives the records it adds, in seconds.
    pub lease_length: u32,
    /// How d2 treats a name someone else holds.
    pub conflict_resolution_mode: ConflictResolutionMode,
}

impl NameChangeRequest {
    /// Checks what the field types cannot: at least one direction is asked for.
    /// (The name and DHCID are non-empty by construction.)
    pub fn validate(&self) -> Result<(), NcrError> {
        if !self.forward_change && !self.reverse_change {
            return Err(NcrError::NoDirection);
        }
        Ok(())
    }

    /// Kea's request id: the DHCID in hex, as its d2 log lines show it.
    pub fn request_id(&self) -> String {
        self.dhcid.to_hex()
    }

    /// The reverse-mapping name of the address (`….in-addr.arpa.` or `….ip6.arpa.`).
    pub fn reverse_name(&self) -> String {
        reverse_name(self.ip_address)
    }

    /// Reads a request from its JSON text, with Kea's rules (see the module docs), and
    /// validates it.
    pub fn from_json(text: &str) -> Result<Self, NcrError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| NcrError::MalformedJson(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(NcrError::NotAnObject(json_kind(&value)));
        };
        // Fields in Kea's order, so a request with several faults reports the one Kea would.
        let change_type = match integer(required(&map, "change-type")?, "change-type")? {
            0 => ChangeType::Add,
            1 => ChangeType::Remove,
            _ => return Err(NcrError::ChangeType(shown(&map["change-type"]))),
        };
        let forward_change = boolean(required(&map, "forward-change")?, "forward-change")?;
        let reverse_change = boolean(required(&map, "reverse-change")?, "reverse-change")?;

        let fqdn_value = required(&map, "fqdn")?;
        let fqdn = Fqdn::new(string(fqdn_value, "fqdn")?).map_err(|source| NcrError::Fqdn {
            value: shown(fqdn_value),
            source,
        })?;

        let ip_value = required(&map, "ip-address")?;
        let ip_address = string(ip_value, "ip-address")?
            .parse::<IpAddr>()
            .map_err(|_| NcrError::IpAddress(shown(ip_value)))?;

        let dhcid_value = required(&map, "dhcid")?;
        let dhcid =
            Dhcid::from_hex(string(dhcid_value, "dhcid")?).map_err(|source| NcrError::Dhcid {
                value: shown(dhcid_value),
                source,
            })?;

        let lease_expires_on = match map.get("lease-expires-on") {
            None => None,
            Some(v) => parse_expiry(string(v, "lease-expires-on")?).map_err(|reason| {
                NcrError::LeaseExpiresOn {
                    value: shown(v),
                    reason,
                }
            })?,
        };

        let length_value = required(&map, "lease-length")?;
        let lease_length = u32::try_from(integer(length_value, "lease-length")?)
            .map_err(|_| NcrError::LeaseLength(shown(length_value)))?;

        let conflict_resolution_mode = match (
            map.get("conflict-resolution-mode"),
            map.get("use-conflict-resolution"),
        ) {
            (Some(mode), _) => string(mode, "conflict-resolution-mode")?
                .parse()
                .map_err(|_| NcrError::ConflictResolutionMode(shown(mode)))?,
            (None, Some(flag)) => ConflictResolutionMode::from_use_conflict_resolution(boolean(
                flag,
                "use-conflict-resolution",
            )?),
            (None, None) => ConflictResolutionMode::default(),
        };

        let ncr = Self {
            change_type,
            forward_change,
            reverse_change,
            fqdn,
            ip_address,
            dhcid,
            lease_expires_on,
            lease_length,
            conflict_resolution_mode,
        };
        ncr.validate()?;
        Ok(ncr)
    }

    /// The request as one line of JSON that every Kea d2 from 2.2 on accepts (see the
    /// module docs for the choice of keys). Does not validate: see [`Self::to_datagram`].
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(320 + self.dhcid.as_rdata().len() * 2);
        // Infallible: writing to a String.
        let _ = write!(
            out,
            "{{\"change-type\":{},\"forward-change\":{},\"reverse-change\":{},\"fqdn\":{},\
             \"ip-address\":\"{}\",\"dhcid\":\"{}\",\"lease-expires-on\":\"{}\",\
             \"lease-length\":{},\"use-conflict-resolution\":{},\
             \"conflict-resolution-mode\":\"{}\"}}",
            self.change_type.code(),
            self.forward_change,
            self.reverse_change,
            Value::String(self.fqdn.as_str().to_owned()),
            self.ip_address,
            self.dhcid.to_hex(),
            format_expiry(self.lease_expires_on),
            self.lease_length,
            self.conflict_resolution_mode.use_conflict_resolution(),
            self.conflict_resolution_mode.as_str(),
        );
        out
    }

    /// Reads one UDP datagram: the 2-octet big-endian length, then exactly that many octets
    /// of UTF-8 JSON; 4096 octets at most in all.
    pub fn from_datagram(datagram: &[u8]) -> Result<Self, NcrError> {
        if datagram.len() > MAX_DATAGRAM_LEN {
            return Err(NcrError::DatagramTooLarge(datagram.len()));
        }
        let Some((prefix, json)) = datagram.split_first_chunk::<2>() else {
            return Err(NcrError::DatagramTooShort(datagram.len()));
        };
        let declared = usize::from(u16::from_be_bytes(*prefix));
        if declared != json.len() {
            return Err(NcrError::DatagramLength {
                declared,
                actual: json.len(),
            });
        }
        let text = std::str::from_utf8(json).map_err(|e| NcrError::NotUtf8(e.valid_up_to()))?;
        Self::from_json(text)
    }

    /// Validates the request and frames its JSON as one UDP datagram.
    pub fn to_datagram(&self) -> Result<Vec<u8>, NcrError> {
        self.validate()?;
        let json = self.to_json();
        let total = json.len() + 2;
        if total > MAX_DATAGRAM_LEN {
            return Err(NcrError::DatagramTooLarge(total));
        }
        let mut datagram = Vec::with_capacity(total);
        // Fits: the total was checked against 4096 just above.
        datagram.extend_from_slice(&(json.len() as u16).to_be_bytes());
        datagram.extend_from_slice(json.as_bytes());
        Ok(datagram)
    }

    /// Kea's multi-line rendering, as the newest Kea logs it ([`KeaTextStyle::Kea3_1_8`]).
    pub fn to_text(&self) -> String {
        self.to_text_as(KeaTextStyle::default())
    }

    /// Kea's multi-line rendering in the given version's style, every line ending in '\n':
    ///
    /// ```text
    /// Type: 0 (CHG_ADD)
    /// Forward Change: yes
    /// Reverse Change: no
    /// FQDN: [myhost.example.com.]
    /// IP Address: [192.0.2.10]
    /// DHCID: [0002012191B7…]
    /// TTL: 1200
    /// Conflict Resolution Mode: check-with-dhcid
    /// ```
    pub fn to_text_as(&self, style: KeaTextStyle) -> String {
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut out = String::with_capacity(256);
        // Infallible: writing to a String.
        let _ = write!(
            out,
            "Type: {} ({})\nForward Change: {}\nReverse Change: {}\nFQDN: [{}]\n\
             IP Address: [{}]\nDHCID: [{}]\n",
            self.change_type.code(),
            self.change_type.kea_name(),
            yes_no(self.forward_change),
            yes_no(self.reverse_change),
            self.fqdn,
            self.ip_address,
            self.dhcid,
        );
        let expiry = format_expiry(self.lease_expires_on);
        let mode = self.conflict_resolution_mode;
        let _ = match style {
            KeaTextStyle::Kea2_2 => write!(
                out,
                "Lease Expires On: {expiry}\nLease Length: {}\nConflict Resolution: {}\n",
                self.lease_length,
                yes_no(mode.use_conflict_resolution()),
            ),
            KeaTextStyle::Kea2_5 => write!(
                out,
                "Lease Expires On: {expiry}\nLease Length: {}\nConflict Resolution Mode: {mode}\n",
                self.lease_length,
            ),
            KeaTextStyle::Kea3_1_6 => write!(
                out,
                "Lease Length: {}\nConflict Resolution Mode: {mode}\n",
                self.lease_length,
            ),
            KeaTextStyle::Kea3_1_8 => write!(
                out,
                "TTL: {}\nConflict Resolution Mode: {mode}\n",
                self.lease_length,
            ),
        };
        out
    }
}

/// The value of a key Kea requires.
fn required<'a>(map: &'a Map<String, Value>, field: &'static str) -> Result<&'a Value, NcrError> {
    map.get(field).ok_or(NcrError::Missing(field))
}

fn wrong_type(value: &Value, field: &'static str, expected: &'static str) -> NcrError {
    NcrError::WrongType {
        field,
        value: shown(value),
        expected,
    }
}

fn boolean(value: &Value, field: &'static str) -> Result<bool, NcrError> {
    value
        .as_bool()
        .ok_or_else(|| wrong_type(value, field, "a boolean"))
}

fn string<'a>(value: &'a Value, field: &'static str) -> Result<&'a str, NcrError> {
    value
        .as_str()
        .ok_or_else(|| wrong_type(value, field, "a string"))
}

/// A JSON integer (no fraction, no exponent), as Kea's `intValue` wants.
fn integer(value: &Value, field: &'static str) -> Result<i128, NcrError> {
    value
        .as_i64()
        .map(i128::from)
        .or_else(|| value.as_u64().map(i128::from))
        .ok_or_else(|| wrong_type(value, field, "an integer"))
}

/// The JSON type of a value, for messages.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value as JSON text for an error message, cut to a readable length.
fn shown(value: &Value) -> String {
    let mut text = value.to_string();
    if text.len() > MAX_SHOWN_VALUE {
        let mut cut = MAX_SHOWN_VALUE;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Parses `lease-expires-on` as Kea's `timeFromText64` does: exactly 14 digits
/// YYYYMMDDHHmmSS, year 1970 to 9999, a real day of the month, hour 0-23, minute 0-59,
/// second 0-60 (60 is a leap second and counts as the next minute's 0).
/// Time 0 (`19700101000000`) is "no expiry time".
fn parse_expiry(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("it must be exactly 14 digits".to_owned());
    }
    let field = |from: usize, to: usize| -> u32 {
        text.as_bytes()[from..to]
            .iter()
            .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (field(0, 4), field(4, 6), field(6, 8));
    let (hour, minute, second) = (field(8, 10), field(10, 12), field(12, 14));
    let in_range = |name: &str, v: u32, lo: u32, hi: u32| {
        if (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(format!("{name} {v} is not in {lo}..={hi}"))
        }
    };
    in_range("year", year, 1970, 9999)?;
    in_range("month", month, 1, 12)?;
    in_range("hour", hour, 0, 23)?;
    in_range("minute", minute, 0, 59)?;
    in_range("second", second, 0, 60)?;
    // The year is at most 9999, so it fits an i32.
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or_else(|| format!("day {day} is not in month {month} of {year}"))?;
    let secs = date.and_time(NaiveTime::MIN).and_utc().timestamp()
        + i64::from(hour * 3600 + minute * 60 + second);
    if secs == 0 {
        return Ok(None);
    }
    DateTime::from_timestamp(secs, 0)
        .map(Some)
        .ok_or_else(|| "it is out of range".to_owned())
}

/// Renders an expiry time as Kea writes it, clamped to Kea's range: no time, or one before
/// 1970, is time 0; one after 9999 is the last second of 9999. Fractions of a second drop.
fn format_expiry(expiry: Option<DateTime<Utc>>) -> String {
    match expiry {
        None => NO_EXPIRY_TEXT.to_owned(),
        Some(t) if t.timestamp() <= 0 => NO_EXPIRY_TEXT.to_owned(),
        Some(t) if t.year() > 9999 => LAST_EXPIRY_TEXT.to_owned(),
        Some(t) => format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            // chrono shows a leap second as second 59 with extra nanoseconds.
            t.second()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn expiry_parses_like_kea() {
        let t = parse_expiry("20130121132405").unwrap().unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2013, 1, 21, 13, 24, 5).unwrap());
        assert_eq!(parse_expiry("19700101000000"), Ok(None));
        // Leap second: the next minute's 0.
        assert_eq!(
            parse_expiry("20161231235960").unwrap().unwrap(),
            Utc.with_ymd_and_hms(2017, 1, 1, 0, 0, 0).unwrap()
        );
        // 29 February only in a leap year.
        assert!(parse_expiry("20240229000000").unwrap().is_some());
        assert_eq!(
            parse_expiry("20230229000000"),
            Err("day 29 is not in month 2 of 2023".to_owned())
        );
        assert_eq!(
            parse_expiry("19691231235959"),
            Err("year 1969 is not in 1970..=9999".to_owned())
        );
        assert_eq!(
            parse_expiry("20131321132405"),
            Err("month 13 is not in 1..=12".to_owned())
        );
        assert_eq!(
            parse_expiry("20130121242405"),
            Err("hour 24 is not in 0..=23".to_owned())
        );
        assert_eq!(
            parse_expiry("20130121136005"),
            Err("minute 60 is not in 0..=59".to_owned())
        );
        assert_eq!(
            parse_expiry("20130121132461"),
            Err("second 61 is not in 0..=60".to_owned())
        );
        for bad in [
            "2013012113240",
            "201301211324050",
            "2013-01-21T13:24",
            "+0130121132405",
        ] {
            assert_eq!(
                parse_expiry(bad),
                Err("it must be exactly 14 digits".to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn expiry_formats_like_kea() {
        let t = Utc.with_ymd_and_hms(2013, 1, 21, 13, 24, 5).unwrap();
        assert_eq!(format_expiry(Some(t)), "20130121132405");
        assert_eq!(format_expiry(None), "19700101000000");
        let before = Utc.with_ymd_and_hms(1960, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(format_expiry(Some(before)), "19700101000000");
        let after = Utc.with_ymd_and_hms(12000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(format_expiry(Some(after)), "99991231235959");
        let fraction = t + chrono::Duration::milliseconds(999);
        assert_eq!(format_expiry(Some(fraction)), "20130121132405");
    }

    #[test]
    fn shown_values_are_cut() {
        let long = Value::String("x".repeat(200));
        let text = shown(&long);
        assert_eq!(text.chars().count(), MAX_SHOWN_VALUE + 1);
        assert!(text.ends_with('…'));
        // Cutting never splits a character.
        let wide = Value::String("é".repeat(100));
        assert!(shown(&wide).ends_with('…'));
        assert_eq!(shown(&Value::Bool(true)), "true");
    }

    #[test]
    fn conflict_resolution_mode_names() {
        for mode in ConflictResolutionMode::ALL {
            assert_eq!(mode.as_str().parse::<ConflictResolutionMode>(), Ok(mode));
            assert_eq!(mode.to_string(), mode.as_str());
        }
        assert_eq!(
            "Check-With-DHCID".parse::<ConflictResolutionMode>(),
            Err(UnknownConflictResolutionMode("Check-With-DHCID".to_owned()))
        );
        assert_eq!(
            ConflictResolutionMode::default(),
            ConflictResolutionMode::CheckWithDhcid
        );
        assert!(ConflictResolutionMode::CheckWithDhcid.use_conflict_resolution());
        assert!(ConflictResolutionMode::CheckExistsWithDhcid.use_conflict_resolution());
        assert!(!ConflictResolutionMode::NoCheckWithDhcid.use_conflict_resolution());
        assert!(!ConflictResolutionMode::NoCheckWithoutDhcid.use_conflict_resolution());
    }
}
