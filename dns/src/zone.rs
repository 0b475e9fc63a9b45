//! The in-memory copy of one zone, the only thing the query path reads.
//!
//! Nodes live in a persistent hash map (`imbl`): applying a change yields a new [`Zone`]
//! that shares every untouched node with the old one, so keeping a 1M-record zone current
//! costs O(changes) per version, and queries running on the previous snapshot are never
//! disturbed. Empty non-terminals are nodes too (with no RRsets), so "name exists" is one
//! lookup (RFC 4592 §2.2.2: an empty non-terminal exists and blocks wildcard matching).

use std::sync::Arc;

use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;
use tern_dnsmsg::content;

use crate::fast::AnswerCache;

/// One RRset: every record of one owner name and type. The owner is kept as written
/// (case preserved); lookups compare case-insensitively.
#[derive(Debug, Clone, PartialEq)]
pub struct RrSet {
    /// Owner name.
    pub name: Name,
    /// Type.
    pub rtype: RecordType,
    /// TTL, one for the set (RFC 2181 §5.2).
    pub ttl: u32,
    /// The records' data, in insertion order, without duplicates.
    pub rdatas: Vec<RData>,
}

impl RrSet {
    /// The set as hickory records with owner `owner` (the query's name for a wildcard
    /// answer) and `ttl`.
    pub fn records(&self, owner: &Name, ttl: u32) -> impl Iterator<Item = Record> + '_ {
        let owner = owner.clone();
        self.rdatas
            .iter()
            .map(move |d| Record::from_rdata(owner.clone(), ttl, d.clone()))
    }
}

/// One owner name's RRsets, and how many child nodes hang below it.
#[derive(Debug, Clone, Default)]
pub struct Node {
    // Shared, not owned: a version's change copies the map's path to the node, and with it
    // every node beside it (up to 32); a reference count each instead of a Vec each.
    rrsets: Arc<[Arc<RrSet>]>,
    /// Not kept at the apex, which is never pruned (every new name below it would change
    /// it: a second path copied per change).
    children: u32,
}

impl Node {
    /// The RRset of `rtype` at this name.
    pub fn get(&self, rtype: RecordType) -> Option<&Arc<RrSet>> {
        self.rrsets.iter().find(|s| s.rtype == rtype)
    }

    /// Every RRset at this name, in the order they were first added.
    pub fn rrsets(&self) -> &[Arc<RrSet>] {
        &self.rrsets
    }

    /// No data here (an empty non-terminal).
    pub fn is_empty(&self) -> bool {
        self.rrsets.is_empty()
    }
}

/// The SOA fields the store keeps beside the zone (the serial is separate).
pub type SoaFields = tern_store::zone::Soa;

/// A record that could not be taken into the zone (a row written by hand, say); the zone is
/// served without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Owner as stored.
    pub name: String,
    /// Type as stored.
    pub rtype: String,
    /// Why.
    pub reason: String,
}

/// A journal operation on the in-memory copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The record leaves.
    Delete,
    /// The record comes.
    Add,
}

/// Names changed since the kept answers were made, at most; then they start afresh.
const MAX_CHANGED: usize = 100_000;

/// The nodes of a zone, by owner name.
type Nodes = imbl::GenericHashMap<
    Name,
    Node,
    foldhash::fast::RandomState,
    imbl::shared_ptr::DefaultSharedPtr,
>;

/// One zone, ready to answer from.
#[derive(Debug, Clone)]
pub struct Zone {
    id: i64,
    origin: Name,
    serial: u32,
    soa: Arc<RrSet>,
    soa_fields: SoaFields,
    nodes: Nodes,
    records: usize,
    /// Answers computed from this version or an earlier one (see [`Zone::answer_valid`]).
    answers: Arc<AnswerCache>,
    /// This version's number among the versions sharing `answers` (0 for a version built
    /// whole).
    generation: u64,
    /// The version that last changed an NS RRset: a new or removed delegation can turn any
    /// name's answer into a referral.
    ns_generation: u64,
    /// The lower-cased wire names changed since `answers` was made, with the version that
    /// last changed each.
    changed: imbl::GenericHashMap<
        Arc<[u8]>,
        u64,
        foldhash::fast::RandomState,
        imbl::shared_ptr::DefaultSharedPtr,
    >,
    /// The origin in lower-cased wire form, the fast path's key.
    origin_wire: Arc<[u8]>,
}

/// A zone could not be built at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    /// The zone's name is not a domain name.
    #[error("zone name {0:?} is not a domain name")]
    BadOrigin(String),
    /// The SOA's names do not parse.
    #[error("zone {zone}: SOA {field} {value:?} is not a domain name")]
    BadSoa {
        /// Zone.
        zone: String,
        /// mname or rname.
        field: &'static str,
        /// As stored.
        value: String,
    },
}

fn absolute(s: &str) -> Option<Name> {
    let mut n = Name::from_ascii(s).ok()?;
    n.set_fqdn(true);
    Some(n)
}

impl Zone {
    /// An empty zone: the SOA only (the apex node exists).
    pub fn new(id: i64, origin: &str, serial: u32, soa: SoaFields) -> Result<Zone, ZoneError> {
        let origin = absolute(origin).ok_or_else(|| ZoneError::BadOrigin(origin.to_owned()))?;
        let soa_rrset = soa_rrset(&origin, serial, &soa)?;
        let mut nodes = Nodes::default();
        nodes.insert(origin.clone(), Node::default());
        let origin_wire = origin
            .to_lowercase()
            .to_bytes()
            .map_err(|_| ZoneError::BadOrigin(origin.to_string()))?;
        Ok(Zone {
            id,
            origin,
            serial,
            soa: Arc::new(soa_rrset),
            soa_fields: soa,
            nodes,
            records: 0,
            answers: Arc::default(),
            generation: 0,
            ns_generation: 0,
            changed: Default::default(),
            origin_wire: origin_wire.into(),
        })
    }

    /// A zone from its rows: `records` are (owner, type, ttl, content) as the store holds
    /// them. Rows that do not parse, or lie outside the zone, are left out and returned.
    pub fn build<'a>(
        id: i64,
        origin: &str,
        serial: u32,
        soa: SoaFields,
        records: impl IntoIterator<Item = (&'a str, &'a str, u32, &'a str)>,
    ) -> Result<(Zone, Vec<Rejected>), ZoneError> {
        let mut zone = Zone::new(id, origin, serial, soa)?;
        let mut rejected = Vec::new();
        for (name, rtype, ttl, text) in records {
            if let Err(reason) = zone.change(Op::Add, name, rtype, ttl, text, false) {
                rejected.push(Rejected {
                    name: name.to_owned(),
                    rtype: rtype.to_owned(),
                    reason,
                });
            }
        }
        Ok((zone, rejected))
    }

    /// The next version: `changes` (journal entries in order, (op, owner, type, ttl,
    /// content)) applied, and the SOA as the store now has it.
    pub fn apply<'a>(
        &self,
        serial: u32,
        soa: SoaFields,
        changes: impl IntoIterator<Item = (Op, &'a str, &'a str, u32, &'a str)>,
    ) -> Result<(Zone, Vec<Rejected>), ZoneError> {
        let mut next = self.clone();
        next.generation += 1;
        if next.changed.len() > MAX_CHANGED {
            // Too long a history to check against: start the kept answers afresh.
            next.answers = Arc::default();
            next.changed = Default::default();
            next.ns_generation = next.generation;
        }
        next.soa = Arc::new(soa_rrset(&self.origin, serial, &soa)?);
        next.soa_fields = soa;
        next.serial = serial;
        let mut rejected = Vec::new();
        for (op, name, rtype, ttl, text) in changes {
            if let Err(reason) = next.change(op, name, rtype, ttl, text, true) {
                rejected.push(Rejected {
                    name: name.to_owned(),
                    rtype: rtype.to_owned(),
                    reason,
                });
            }
        }
        Ok((next, rejected))
    }

    fn change(
        &mut self,
        op: Op,
        name: &str,
        rtype: &str,
        ttl: u32,
        text: &str,
        // Whether kept answers may exist that the change must outdate: not while a zone is
        // built (a 1M-record load would also keep a 1M-entry map for nothing).
        track: bool,
    ) -> Result<(), String> {
        let owner = absolute(name).ok_or_else(|| format!("{name:?} is not a domain name"))?;
        if !self.origin.zone_of(&owner) {
            return Err(format!("{owner} is not in zone {}", self.origin));
        }
        let t = content::record_type(rtype).ok_or_else(|| format!("unknown type {rtype:?}"))?;
        if t == RecordType::SOA {
            return Err("the SOA is kept with the zone, not as a record".into());
        }
        let data = content::parse(t, text)?;
        if track {
            if let Ok(wire) = owner.to_lowercase().to_bytes() {
                self.changed.insert(wire.into(), self.generation);
            }
        }
        if t == RecordType::NS {
            self.ns_generation = self.generation;
        }
        match op {
            Op::Add => self.add(owner, t, ttl, data),
            Op::Delete => self.remove(&owner, t, &data),
        }
        Ok(())
    }

    fn add(&mut self, owner: Name, rtype: RecordType, ttl: u32, data: RData) {
        if !self.nodes.contains_key(&owner) {
            self.insert_node(&owner);
        }
        let node = self.nodes.get_mut(&owner).expect("inserted above");
        let mut sets = node.rrsets.to_vec();
        match sets.iter_mut().find(|s| s.rtype == rtype) {
            Some(set) if set.rdatas.contains(&data) => {
                // The TTL of the set follows the newest record (RFC 2136 §3.4.2.2 treats
                // a duplicate as a TTL change).
                if set.ttl == ttl {
                    return;
                }
                Arc::make_mut(set).ttl = ttl;
            }
            Some(set) => {
                let set = Arc::make_mut(set);
                set.ttl = ttl;
                set.rdatas.push(data);
                self.records += 1;
            }
            None => {
                sets.push(Arc::new(RrSet {
                    name: owner,
                    rtype,
                    ttl,
                    rdatas: vec![data],
                }));
                self.records += 1;
            }
        }
        node.rrsets = sets.into();
    }

    fn remove(&mut self, owner: &Name, rtype: RecordType, data: &RData) {
        let Some(node) = self.nodes.get_mut(owner) else {
            return;
        };
        let Some(i) = node.rrsets.iter().position(|s| s.rtype == rtype) else {
            return;
        };
        let Some(j) = node.rrsets[i].rdatas.iter().position(|d| d == data) else {
            return;
        };
        self.records -= 1;
        let mut sets = node.rrsets.to_vec();
        if sets[i].rdatas.len() == 1 {
            sets.remove(i);
        } else {
            Arc::make_mut(&mut sets[i]).rdatas.remove(j);
        }
        node.rrsets = sets.into();
        if node.rrsets.is_empty() && node.children == 0 {
            self.prune(owner);
        }
    }

    /// Inserts an empty node and every missing ancestor up to the apex.
    fn insert_node(&mut self, owner: &Name) {
        self.nodes.insert(owner.clone(), Node::default());
        let mut name = owner.base_name();
        // The apex always exists, so this ends there at the latest.
        while name != self.origin {
            match self.nodes.get_mut(&name) {
                Some(parent) => {
                    parent.children += 1;
                    return;
                }
                None => {
                    let n = Node {
                        rrsets: Arc::default(),
                        children: 1,
                    };
                    self.nodes.insert(name.clone(), n);
                    name = name.base_name();
                }
            }
        }
    }

    /// Removes an empty childless node and the empty non-terminals left above it.
    fn prune(&mut self, owner: &Name) {
        let mut name = owner.clone();
        while name != self.origin {
            self.nodes.remove(&name);
            name = name.base_name();
            if name == self.origin {
                return;
            }
            let Some(parent) = self.nodes.get_mut(&name) else {
                return;
            };
            parent.children -= 1;
            if !(parent.rrsets.is_empty() && parent.children == 0) {
                return;
            }
        }
    }

    /// The store's id of the zone.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The zone's apex name.
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// The serial served.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// The SOA RRset (one record).
    pub fn soa(&self) -> &Arc<RrSet> {
        &self.soa
    }

    /// The SOA's fields as the store has them.
    pub fn soa_fields(&self) -> &SoaFields {
        &self.soa_fields
    }

    /// The TTL of a negative answer's SOA: the smaller of the SOA's TTL and MINIMUM
    /// (RFC 2308 §3).
    pub fn negative_ttl(&self) -> u32 {
        self.soa_fields.ttl.min(self.soa_fields.minimum)
    }

    /// The node at `name`, if the name exists (data or an empty non-terminal).
    pub fn node(&self, name: &Name) -> Option<&Node> {
        self.nodes.get(name)
    }

    /// The RRset of `rtype` at `name`.
    pub fn rrset(&self, name: &Name, rtype: RecordType) -> Option<&Arc<RrSet>> {
        if rtype == RecordType::SOA && *name == self.origin {
            return Some(&self.soa);
        }
        self.nodes.get(name).and_then(|n| n.get(rtype))
    }

    /// How many records (the SOA not counted).
    pub fn len(&self) -> usize {
        self.records
    }

    /// Only the SOA.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Every RRset but the SOA, apex first then in no particular order (AXFR needs the SOA
    /// first and last, nothing more: RFC 5936 §2.2).
    pub fn rrsets(&self) -> impl Iterator<Item = &Arc<RrSet>> {
        let apex = self.nodes.get(&self.origin).into_iter();
        let rest = self
            .nodes
            .iter()
            .filter(|(name, _)| **name != self.origin)
            .map(|(_, node)| node);
        apex.chain(rest).flat_map(|n| n.rrsets.iter())
    }

    /// The answers kept for this zone (from this version or earlier ones).
    pub fn answers(&self) -> &AnswerCache {
        &self.answers
    }

    /// This version's number among those sharing the kept answers.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether a kept answer for the lower-cased wire name `qname` still holds in this
    /// version: it was made from this version, or it is `standalone` (the name's own RRset
    /// of the asked type and nothing else) and neither the name nor any NS RRset changed
    /// since it was made. Anything else — negative answers, CNAME chains, wildcards,
    /// additional records, the SOA — holds only for the version it came from.
    pub fn answer_valid(&self, qname: &[u8], generation: u64, standalone: bool) -> bool {
        generation == self.generation
            || (standalone
                && generation >= self.ns_generation
                && self.changed.get(qname).is_none_or(|g| *g <= generation))
    }

    /// The origin in lower-cased wire form.
    pub fn origin_wire(&self) -> &[u8] {
        &self.origin_wire
    }

    /// How many names exist (with data or as empty non-terminals).
    pub fn names(&self) -> usize {
        self.nodes.len()
    }
}

fn soa_rrset(origin: &Name, serial: u32, soa: &SoaFields) -> Result<RrSet, ZoneError> {
    let name = |field: &'static str, value: &str| {
        absolute(value).ok_or_else(|| ZoneError::BadSoa {
            zone: origin.to_string(),
            field,
            value: value.to_owned(),
        })
    };
    let clamp = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    let data = SOA::new(
        name("mname", &soa.mname)?,
        name("rname", &soa.rname)?,
        serial,
        clamp(soa.refresh),
        clamp(soa.retry),
        clamp(soa.expire),
        soa.minimum,
    );
    Ok(RrSet {
        name: origin.clone(),
        rtype: RecordType::SOA,
        ttl: soa.ttl,
        rdatas: vec![RData::SOA(data)],
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn soa() -> SoaFields {
        SoaFields {
            ttl: 3600,
            mname: "ns.example.com.".into(),
            rname: "hostmaster.example.com.".into(),
            refresh: 3600,
            retry: 600,
            expire: 604800,
            minimum: 300,
        }
    }

    pub(crate) fn zone(records: &[(&str, &str, u32, &str)]) -> Zone {
        let (z, rejected) =
            Zone::build(1, "example.com.", 7, soa(), records.iter().copied()).unwrap();
        assert!(rejected.is_empty(), "{rejected:?}");
        z
    }

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn empty_non_terminals_exist_and_go_with_their_last_child() {
        let z = zone(&[("a.b.c.example.com.", "A", 60, "192.0.2.1")]);
        assert!(z.node(&n("b.c.example.com.")).unwrap().is_empty());
        assert!(z.node(&n("c.example.com.")).is_some());
        assert_eq!(z.names(), 4);
        let (z2, rej) = z
            .apply(
                8,
                soa(),
                [(Op::Delete, "a.b.c.example.com.", "A", 60, "192.0.2.1")],
            )
            .unwrap();
        assert!(rej.is_empty());
        assert_eq!(z2.names(), 1, "only the apex is left");
        // The old snapshot is untouched.
        assert_eq!(z.names(), 4);
        assert_eq!(z2.serial(), 8);
    }

    #[test]
    fn the_apex_stays_when_its_children_and_records_go() {
        let z = zone(&[
            ("example.com.", "MX", 60, "10 mail.example.com."),
            ("mail.example.com.", "A", 60, "192.0.2.1"),
        ]);
        let (z2, _) = z
            .apply(
                8,
                soa(),
                [
                    (Op::Delete, "mail.example.com.", "A", 60, "192.0.2.1"),
                    (Op::Delete, "example.com.", "MX", 60, "10 mail.example.com."),
                ],
            )
            .unwrap();
        assert_eq!((z2.names(), z2.len()), (1, 0));
        assert!(z2.node(&n("example.com.")).unwrap().is_empty());
        // A name added again below the apex is there; the old versions still hold theirs.
        let (z3, _) = z2
            .apply(
                9,
                soa(),
                [(Op::Add, "mail.example.com.", "A", 60, "192.0.2.2")],
            )
            .unwrap();
        assert_eq!(z3.names(), 2);
        let old = z.rrset(&n("mail.example.com."), RecordType::A).unwrap();
        assert_eq!(old.rdatas.len(), 1);
        assert!(z.rrset(&n("example.com."), RecordType::MX).is_some());
        assert!(z2.node(&n("mail.example.com.")).is_none());
    }

    #[test]
    fn a_sibling_keeps_the_shared_ancestor() {
        let z = zone(&[
            ("x.c.example.com.", "A", 60, "192.0.2.1"),
            ("y.c.example.com.", "A", 60, "192.0.2.2"),
        ]);
        let (z, _) = z
            .apply(
                8,
                soa(),
                [(Op::Delete, "x.c.example.com.", "A", 60, "192.0.2.1")],
            )
            .unwrap();
        assert!(z.node(&n("c.example.com.")).is_some());
        assert!(z.node(&n("x.c.example.com.")).is_none());
    }

    #[test]
    fn case_is_kept_and_ignored_in_lookups() {
        let z = zone(&[("Printer.Example.COM.", "A", 60, "192.0.2.10")]);
        let set = z.rrset(&n("printer.example.com."), RecordType::A).unwrap();
        assert_eq!(set.name.to_string(), "Printer.Example.COM.");
    }

    #[test]
    fn duplicates_are_one_record_and_the_ttl_follows_the_last() {
        let z = zone(&[
            ("a.example.com.", "A", 60, "192.0.2.1"),
            ("a.example.com.", "A", 120, "192.0.2.1"),
        ]);
        let set = z.rrset(&n("a.example.com."), RecordType::A).unwrap();
        assert_eq!((set.rdatas.len(), set.ttl, z.len()), (1, 120, 1));
    }

    #[test]
    fn bad_rows_are_left_out_and_named() {
        let (z, rejected) = Zone::build(
            1,
            "example.com.",
            1,
            soa(),
            [
                ("a.example.com.", "A", 60, "not-an-address"),
                ("a.example.org.", "A", 60, "192.0.2.1"),
                ("b.example.com.", "A", 60, "192.0.2.1"),
            ],
        )
        .unwrap();
        assert_eq!(z.len(), 1);
        assert_eq!(rejected.len(), 2);
        assert!(rejected[1].reason.contains("not in zone"), "{rejected:?}");
    }
}
