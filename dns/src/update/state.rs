//! The records an UPDATE is judged against: every record at the names its prerequisite and
//! update sections touch, read in the update's transaction, and the zone's SOA. Pure.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, RecordType};
use tern_dnsmsg::content;

use crate::zone::SoaFields;

/// Who put a record in the zone (`tern.dns_record.managed_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Managed {
    /// An administrator (the API, a zone file, an update signed by a non-DHCP key).
    Admin,
    /// DHCP's DDNS (an update signed by one of the zone's DHCP keys).
    Dhcp,
}

/// One record.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    /// Owner, absolute, case as stored or as sent.
    pub name: Name,
    /// Type.
    pub rtype: RecordType,
    /// TTL.
    pub ttl: u32,
    /// The data; `None` for a row whose content tern cannot read (written by SQL), which
    /// then compares by its text.
    pub data: Option<RData>,
    /// Content in presentation format, as stored (what a delete must name).
    pub content: String,
    /// Who put it there.
    pub managed_by: Managed,
}

impl Rec {
    /// A record from a row of the store; `None` when the owner or type cannot be read (such
    /// a row cannot take part in RRset semantics, and the in-memory zone leaves it out too).
    pub fn from_row(
        name: &str,
        rtype: &str,
        ttl: u32,
        text: &str,
        managed_by: Managed,
    ) -> Option<Rec> {
        let name = absolute(name)?;
        let rtype = type_of(rtype)?;
        let data = content::parse(rtype, text).ok();
        Some(Rec {
            name,
            rtype,
            ttl,
            data,
            content: text.to_owned(),
            managed_by,
        })
    }

    /// A record from an update's RR: content rendered as the store keeps it.
    pub fn new(name: Name, ttl: u32, data: RData, managed_by: Managed) -> Rec {
        Rec {
            rtype: data.record_type(),
            content: content::render(&data),
            name,
            ttl,
            data: Some(data),
            managed_by,
        }
    }

    /// Same owner (ignoring case) and type.
    pub fn at(&self, name: &Name, rtype: RecordType) -> bool {
        self.rtype == rtype && self.name.eq_ignore_root(name)
    }

    /// Same data (names inside compared without case, RFC 4343).
    pub fn same_data(&self, data: &RData) -> bool {
        match &self.data {
            Some(d) => d == data,
            None => self.content == content::render(data),
        }
    }
}

/// Why an update is not applied: the RCODE answered and the reason logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Answered.
    pub rcode: ResponseCode,
    /// Logged.
    pub reason: String,
}

impl Refusal {
    /// A refusal with `rcode`.
    pub fn new(rcode: ResponseCode, reason: impl Into<String>) -> Refusal {
        Refusal {
            rcode,
            reason: reason.into(),
        }
    }
}

/// The zone as far as the update sees it.
#[derive(Debug, Clone)]
pub struct State {
    /// The zone's apex.
    pub origin: Name,
    /// The serial before the update.
    pub serial: u32,
    /// The SOA's fields before the update.
    pub soa: SoaFields,
    /// The records at the touched names, the SOA among them (at the apex, as a record of
    /// type SOA, so that the prerequisites see it as RFC 2136 §2.4 means).
    pub records: Vec<Rec>,
}

impl State {
    /// The state from the zone's SOA and the rows at the touched names.
    pub fn new(
        origin: Name,
        serial: u32,
        soa: SoaFields,
        rows: Vec<Rec>,
    ) -> Result<State, Refusal> {
        let soa_rec = Rec::new(
            origin.clone(),
            soa.ttl,
            soa_rdata(serial, &soa)?,
            Managed::Admin,
        );
        let mut records = vec![soa_rec];
        // A SOA row written by SQL is not the zone's SOA (the zone row holds it).
        records.extend(rows.into_iter().filter(|r| r.rtype != RecordType::SOA));
        Ok(State {
            origin,
            serial,
            soa,
            records,
        })
    }

    /// Some record exists at `name` (RFC 2136 §2.4.4; an empty non-terminal is not in use).
    pub fn name_in_use(&self, name: &Name) -> bool {
        self.records.iter().any(|r| r.name.eq_ignore_root(name))
    }

    /// The RRset `name` `rtype`.
    pub fn rrset<'a>(
        &'a self,
        name: &'a Name,
        rtype: RecordType,
    ) -> impl Iterator<Item = &'a Rec> + 'a {
        self.records.iter().filter(move |r| r.at(name, rtype))
    }
}

/// The SOA as RDATA.
pub fn soa_rdata(serial: u32, soa: &SoaFields) -> Result<RData, Refusal> {
    let name = |s: &str| {
        absolute(s).ok_or_else(|| {
            Refusal::new(
                ResponseCode::ServFail,
                format!("the zone's SOA has {s:?}, not a domain name"),
            )
        })
    };
    let clamp = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    Ok(RData::SOA(SOA::new(
        name(&soa.mname)?,
        name(&soa.rname)?,
        serial,
        clamp(soa.refresh),
        clamp(soa.retry),
        clamp(soa.expire),
        soa.minimum,
    )))
}

/// A type as the store writes it (`A`, `DHCID`, `TYPE65534`, RFC 3597 §5).
pub fn type_of(text: &str) -> Option<RecordType> {
    content::record_type(text)
}

/// The store's text for a type: its mnemonic, `DHCID`, or `TYPEnnn` for one hickory has no
/// name for.
pub fn type_text(t: RecordType) -> String {
    content::type_name(t)
}

/// `s` as an absolute name.
pub fn absolute(s: &str) -> Option<Name> {
    let mut n = Name::from_ascii(s).ok()?;
    n.set_fqdn(true);
    Some(n)
}

/// RFC 1982 serial arithmetic: `a` is greater than `b`.
pub fn serial_gt(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < (1 << 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_as_rfc_1982_says() {
        assert!(serial_gt(2, 1));
        assert!(!serial_gt(1, 1));
        assert!(!serial_gt(1, 2));
        assert!(serial_gt(0, u32::MAX), "wraps");
        assert!(serial_gt(5, u32::MAX - 5));
        assert!(!serial_gt(1 << 31, 0), "undefined: not greater");
    }

    #[test]
    fn types_read_and_write_as_the_store_spells_them() {
        assert_eq!(type_of("a"), Some(RecordType::A));
        assert_eq!(type_of("TYPE49"), Some(RecordType::Unknown(49)));
        assert_eq!(type_of("TYPE1"), Some(RecordType::A));
        assert_eq!(type_text(RecordType::Unknown(65534)), "TYPE65534");
        assert_eq!(type_text(RecordType::AAAA), "AAAA");
        assert_eq!(type_of("NOPE"), None);
    }
}
