//! RFC 2136 UPDATE messages for the RFC 4703 steps (pure builders), made of
//! `tern_dnsmsg::update`'s empty message and record forms.
//!
//! Every builder returns a message with ID 0; the sender sets the ID.
//! Record forms (RFC 2136):
//!
//! | meaning                        | class | type | TTL | RDATA | RFC 2136 |
//! |--------------------------------|-------|------|-----|-------|----------|
//! | prereq: name is in use         | ANY   | ANY  | 0   | none  | §2.4.4   |
//! | prereq: name is not in use     | NONE  | ANY  | 0   | none  | §2.4.5   |
//! | prereq: RRset exists           | ANY   | T    | 0   | none  | §2.4.1   |
//! | prereq: RRset does not exist   | NONE  | T    | 0   | none  | §2.4.3   |
//! | prereq: RRset exists (value)   | IN    | T    | 0   | rr    | §2.4.2   |
//! | update: add RR                 | IN    | T    | ttl | rr    | §2.5.1   |
//! | update: delete an RRset        | ANY   | T    | 0   | none  | §2.5.2   |
//! | update: delete all RRsets      | ANY   | ANY  | 0   | none  | §2.5.3   |
//! | update: delete one RR          | NONE  | T    | 0   | rr    | §2.5.4   |

use std::net::IpAddr;

use hickory_proto::op::Message;
use hickory_proto::rr::rdata::{NULL, PTR};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use tern_dnsmsg::update::{new_update, rr_empty as empty, rr_with as with_data};

/// DHCID's RR type code (RFC 4701 §3); hickory has no DHCID type of its own.
pub const DHCID_TYPE: u16 = 49;

/// The DHCID RR type.
pub fn dhcid_type() -> RecordType {
    RecordType::from(DHCID_TYPE)
}

/// What the builders need to know about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateParams {
    /// The client's name.
    pub fqdn: Name,
    /// The address's reverse name.
    pub reverse: Name,
    /// The leased address.
    pub ip: IpAddr,
    /// DHCID RDATA (RFC 4701).
    pub dhcid: Vec<u8>,
    /// TTL of the records added (the NCR's lease-length).
    pub ttl: u32,
}

impl UpdateParams {
    /// A or AAAA, by the address family.
    pub fn addr_type(&self) -> RecordType {
        match self.ip {
            IpAddr::V4(_) => RecordType::A,
            IpAddr::V6(_) => RecordType::AAAA,
        }
    }

    fn addr_rdata(&self) -> RData {
        match self.ip {
            IpAddr::V4(a) => RData::A(a.into()),
            IpAddr::V6(a) => RData::AAAA(a.into()),
        }
    }

    fn dhcid_rdata(&self) -> RData {
        RData::Unknown {
            code: dhcid_type(),
            rdata: NULL::with(self.dhcid.clone()),
        }
    }

    fn ptr_rdata(&self) -> RData {
        RData::PTR(PTR(self.fqdn.clone()))
    }
}

/// Forward add (RFC 4703 §5.3.1; check-with-dhcid and check-exists-with-dhcid):
/// the name must not be in use; add the address and the DHCID.
pub fn fwd_add(zone: &Name, p: &UpdateParams) -> Message {
    let mut m = new_update(zone);
    // RFC 2136 §2.4.5: name is not in use.
    m.add_answer(empty(&p.fqdn, DNSClass::NONE, RecordType::ANY));
    // RFC 2136 §2.5.1: add to an RRset.
    m.add_authority(with_data(&p.fqdn, DNSClass::IN, p.ttl, p.addr_rdata()));
    m.add_authority(with_data(&p.fqdn, DNSClass::IN, p.ttl, p.dhcid_rdata()));
    m
}

/// Forward replace, check-with-dhcid (RFC 4703 §5.3.2): the name is in use and holds
/// our DHCID; replace the address RRset.
pub fn fwd_replace_check_dhcid(zone: &Name, p: &UpdateParams) -> Message {
    let mut m = new_update(zone);
    // RFC 2136 §2.4.4: name is in use.
    m.add_answer(empty(&p.fqdn, DNSClass::ANY, RecordType::ANY));
    // RFC 2136 §2.4.2: RRset exists (value dependent): our DHCID.
    m.add_answer(with_data(&p.fqdn, DNSClass::IN, 0, p.dhcid_rdata()));
    // RFC 2136 §2.5.2: delete the address RRset; §2.5.1: add ours.
    m.add_authority(empty(&p.fqdn, DNSClass::ANY, p.addr_type()));
    m.add_authority(with_data(&p.fqdn, DNSClass::IN, p.ttl, p.addr_rdata()));
    m
}

/// Forward replace, check-exists-with-dhcid: some DHCID is at the name (so it is no
/// static entry); replace the address and DHCID RRsets.
pub fn fwd_replace_check_exists(zone: &Name, p: &UpdateParams) -> Message {
    let mut m = new_update(zone);
    // RFC 2136 §2.4.1: RRset exists (value independent): a DHCID.
    m.add_answer(empty(&p.fqdn, DNSClass::ANY, dhcid_type()));
    // RFC 2136 §2.5.2: delete RRsets; §2.5.1: add.
    m.add_authority(empty(&p.fqdn, DNSClass::ANY, p.addr_type()));
    m.add_authority(empty(&p.fqdn, DNSClass::ANY, dhcid_type()));
    m.add_authority(with_data(&p.fqdn, DNSClass::IN, p.ttl, p.addr_rdata()));
    m.add_authority(with_data(&p.fqdn, DNSClass::IN, p.ttl, p.dhcid_rdata()));
    m
}

/// Forward replace without checks (no-check-with-dhcid, or no-check-without-dhcid when
/// `with_dhcid` is false): no prerequisite; replace the address (and DHCID) RRsets.
pub fn fwd_replace_no_check(zone: &Name, p: &UpdateParams, with_dhcid: bool) -> Message {
    let mut m = new_update(zone);
    // RFC 2136 §2.5.2: delete RRsets.
    m.add_authority(empty(&p.fqdn, DNSClass::ANY, p.addr_type()));
    if with_dhcid {
        m.add_authority(empty(&p.fqdn, DNSClass::ANY, dhcid_type()));
    }
    // RFC 2136 §2.5.1: add.
    m.add_authority(with_data(&p.fqdn, DNSClass::IN, p.ttl, p.addr_rdata()));
    if with_dhcid {
        m.add_authority(with_data(&p.fqdn, DNSClass::IN, p.ttl, p.dhcid_rdata()));
    }
    m
}

/// Reverse replace (RFC 4703 §5.4; no prerequisite): the PTR (and DHCID) RRsets at
/// the reverse name become ours.
pub fn rev_replace(zone: &Name, p: &UpdateParams, with_dhcid: bool) -> Message {
    let mut m = new_update(zone);
    // RFC 2136 §2.5.2: delete RRsets.
    m.add_authority(empty(&p.reverse, DNSClass::ANY, RecordType::PTR));
    if with_dhcid {
        m.add_authority(empty(&p.reverse, DNSClass::ANY, dhcid_type()));
    }
    // RFC 2136 §2.5.1: add.
    m.add_authority(with_data(&p.reverse, DNSClass::IN, p.ttl, p.ptr_rdata()));
    if with_dhcid {
        m.add_authority(with_data(&p.reverse, DNSClass::IN, p.ttl, p.dhcid_rdata()));
    }
    m
}

/// Forward remove, step 1 (RFC 4703 §5.5): while the name holds our DHCID
/// (check-with-dhcid) or any DHCID (check-exists-with-dhcid), delete our address.
pub fn fwd_remove_addr(zone: &Name, p: &UpdateParams, own_dhcid: bool) -> Message {
    let mut m = new_update(zone);
    if own_dhcid {
        // RFC 2136 §2.4.2: RRset exists (value dependent).
        m.add_answer(with_data(&p.fqdn, DNSClass::IN, 0, p.dhcid_rdata()));
    } else {
        // RFC 2136 §2.4.1: RRset exists (value independent).
        m.add_answer(empty(&p.fqdn, DNSClass::ANY, dhcid_type()));
    }
    // RFC 2136 §2.5.4: delete an RR from an RRset.
    m.add_authority(with_data(&p.fqdn, DNSClass::NONE, 0, p.addr_rdata()));
    m
}

/// Forward remove, step 2 (RFC 4703 §5.5): when no address is left, delete the rest.
/// check-with-dhcid: our DHCID must still be there, and every RRset at the name goes;
/// check-exists-with-dhcid: only the DHCID RRset goes.
pub fn fwd_remove_rrs(zone: &Name, p: &UpdateParams, own_dhcid: bool) -> Message {
    let mut m = new_update(zone);
    if own_dhcid {
        // RFC 2136 §2.4.2: RRset exists (value dependent).
        m.add_answer(with_data(&p.fqdn, DNSClass::IN, 0, p.dhcid_rdata()));
    }
    // RFC 2136 §2.4.3: RRset does not exist, for A and AAAA.
    m.add_answer(empty(&p.fqdn, DNSClass::NONE, RecordType::A));
    m.add_answer(empty(&p.fqdn, DNSClass::NONE, RecordType::AAAA));
    if own_dhcid {
        // RFC 2136 §2.5.3: delete all RRsets from a name.
        m.add_authority(empty(&p.fqdn, DNSClass::ANY, RecordType::ANY));
    } else {
        // RFC 2136 §2.5.2: delete an RRset.
        m.add_authority(empty(&p.fqdn, DNSClass::ANY, dhcid_type()));
    }
    m
}

/// Forward remove without checks: delete the address (and DHCID) RRsets.
pub fn fwd_remove_no_check(zone: &Name, p: &UpdateParams, with_dhcid: bool) -> Message {
    let mut m = new_update(zone);
    // RFC 2136 §2.5.2: delete an RRset.
    m.add_authority(empty(&p.fqdn, DNSClass::ANY, p.addr_type()));
    if with_dhcid {
        m.add_authority(empty(&p.fqdn, DNSClass::ANY, dhcid_type()));
    }
    m
}

/// Reverse remove, checked (RFC 4703 §5.5): while the PTR names the client, delete
/// everything at the reverse name.
pub fn rev_remove_checked(zone: &Name, p: &UpdateParams) -> Message {
    let mut m = new_update(zone);
    // RFC 2136 §2.4.2: RRset exists (value dependent): our PTR.
    m.add_answer(with_data(&p.reverse, DNSClass::IN, 0, p.ptr_rdata()));
    // RFC 2136 §2.5.3: delete all RRsets from a name.
    m.add_authority(empty(&p.reverse, DNSClass::ANY, RecordType::ANY));
    m
}

/// Reverse remove without checks: delete the PTR (and DHCID) RRsets.
pub fn rev_remove_no_check(zone: &Name, p: &UpdateParams, with_dhcid: bool) -> Message {
    let mut m = new_update(zone);
    // RFC 2136 §2.5.2: delete an RRset.
    m.add_authority(empty(&p.reverse, DNSClass::ANY, RecordType::PTR));
    if with_dhcid {
        m.add_authority(empty(&p.reverse, DNSClass::ANY, dhcid_type()));
    }
    m
}
