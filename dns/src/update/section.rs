//! The update section (RFC 2136 §3.4): the prescan (§3.4.1) and what the records mean
//! (§3.4.2), worked out on the records at the touched names into a [`Plan`] — the rows to
//! delete and to add, and the new SOA. Pure.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use tern_dnsmsg::content;

use super::prereq::is_empty;
use super::state::{serial_gt, Managed, Rec, Refusal, State};
use crate::zone::SoaFields;

/// Meta-types, never data (RFC 6895 §3.1: OPT, TKEY, TSIG, IXFR, AXFR, MAILB, MAILA).
fn is_meta(t: RecordType) -> bool {
    matches!(u16::from(t), 41 | 249..=254)
}

/// Types that may stand beside a CNAME (RFC 4035 §2.5).
fn beside_cname(t: RecordType) -> bool {
    matches!(
        t,
        RecordType::CNAME | RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3
    )
}

/// The prescan (§3.4.1.3): every name in the zone, every class and type one the update
/// section may hold.
pub fn prescan(updates: &[Record], in_zone: impl Fn(&Name) -> bool) -> Result<(), Refusal> {
    for rr in updates {
        let t = rr.record_type();
        let bad = |what: &str| {
            Err(Refusal::new(
                ResponseCode::FormErr,
                format!("update {} {} {t}: {what}", rr.name, rr.dns_class),
            ))
        };
        if !in_zone(&rr.name) {
            return Err(Refusal::new(
                ResponseCode::NotZone,
                format!("update {} {t}: the name is outside the zone", rr.name),
            ));
        }
        if is_meta(t) {
            return bad("a meta-type");
        }
        match rr.dns_class {
            DNSClass::IN if t == RecordType::ANY => return bad("type ANY cannot be added"),
            DNSClass::IN | DNSClass::NONE if is_empty(rr) => return bad("RDATA is empty"),
            // RFC 2181 §8: a TTL is at most 2^31 - 1.
            DNSClass::IN if rr.ttl > i32::MAX as u32 => return bad("TTL above 2147483647"),
            DNSClass::IN => {}
            DNSClass::ANY if rr.ttl != 0 || !is_empty(rr) => {
                return bad("a deletion needs TTL 0 and no RDATA")
            }
            DNSClass::ANY => {}
            DNSClass::NONE if rr.ttl != 0 || t == RecordType::ANY => {
                return bad("deleting one record needs TTL 0 and a type")
            }
            DNSClass::NONE => {}
            _ => return bad("the class is not the zone's, ANY or NONE"),
        }
    }
    Ok(())
}

/// What an update does to the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Rows to delete (as stored: owner, type, content).
    pub delete: Vec<Rec>,
    /// Rows to add (after the deletions).
    pub add: Vec<Rec>,
    /// The new SOA and serial (§3.4.2.2: an SOA with a greater serial replaces it).
    pub soa: Option<(SoaFields, u32)>,
}

impl Plan {
    /// How many changes (a changed TTL counts as a deletion and an addition).
    pub fn len(&self) -> usize {
        self.delete.len() + self.add.len() + usize::from(self.soa.is_some())
    }

    /// Nothing changes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The RRsets the plan changes, `(owner, type)`, each once.
    pub fn touched(&self, origin: &Name) -> Vec<(Name, RecordType)> {
        let mut out: Vec<(Name, RecordType)> = Vec::new();
        let soa = self.soa.as_ref().map(|_| (origin.clone(), RecordType::SOA));
        let rows = self
            .delete
            .iter()
            .chain(&self.add)
            .map(|r| (r.name.clone(), r.rtype));
        for (name, t) in rows.chain(soa) {
            if !out.iter().any(|(n, u)| *u == t && n.eq_ignore_root(&name)) {
                out.push((name, t));
            }
        }
        out
    }
}

/// `zone` as `plan` leaves it, for the next update of a batch to be judged on.
pub fn advance(zone: &mut State, plan: &Plan) {
    for d in &plan.delete {
        if let Some(i) = zone
            .records
            .iter()
            .position(|r| r.at(&d.name, d.rtype) && r.content == d.content)
        {
            zone.records.remove(i);
        }
    }
    zone.records.extend(plan.add.iter().cloned());
    if let Some((fields, serial)) = &plan.soa {
        zone.serial = *serial;
        zone.soa = fields.clone();
        if let Ok(data) = super::state::soa_rdata(*serial, fields) {
            zone.records.retain(|r| r.rtype != RecordType::SOA);
            zone.records.insert(
                0,
                Rec::new(zone.origin.clone(), fields.ttl, data, Managed::Admin),
            );
        }
    }
}

/// The net effect of plans applied one after the other, as one plan: what a batch writes
/// in one statement per kind (deletions, then additions) instead of one per update. A row
/// added and deleted again within the batch is not written at all; a row deleted and added
/// again (a TTL change) stays a deletion and an addition; the last SOA counts.
pub fn net<'a>(plans: impl IntoIterator<Item = &'a Plan>) -> Plan {
    use std::collections::BTreeMap;
    type Key = (String, u16, String);
    let key = |r: &Rec| {
        (
            r.name.to_ascii().to_ascii_lowercase(),
            u16::from(r.rtype),
            r.content.clone(),
        )
    };
    let mut delete: BTreeMap<Key, Rec> = BTreeMap::new();
    let mut add: BTreeMap<Key, Rec> = BTreeMap::new();
    let mut soa = None;
    for p in plans {
        for d in &p.delete {
            let k = key(d);
            if add.remove(&k).is_none() {
                delete.entry(k).or_insert_with(|| d.clone());
            }
        }
        for a in &p.add {
            add.insert(key(a), a.clone());
        }
        if p.soa.is_some() {
            soa.clone_from(&p.soa);
        }
    }
    Plan {
        delete: delete.into_values().collect(),
        add: add.into_values().collect(),
        soa,
    }
}

/// Whether two records hold the same data.
fn same(a: &Rec, b: &Rec) -> bool {
    match (&a.data, &b.data) {
        (Some(x), Some(y)) => x == y,
        _ => a.content == b.content,
    }
}

/// One record being worked on, and the index in the state it came from.
type Work = (Rec, Option<usize>);

/// The update section applied in order (§3.4.2) to the records at the touched names, as a
/// plan. Records added get `managed_by`. An update's records must have passed [`prescan`].
pub fn plan(zone: &State, updates: &[Record], managed_by: Managed) -> Result<Plan, Refusal> {
    let origin = &zone.origin;
    let mut work: Vec<Work> = zone
        .records
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, r)| (r, Some(i)))
        .collect();
    let mut serial = zone.serial;
    let mut soa = None;
    for rr in updates {
        let t = rr.record_type();
        let apex = rr.name.eq_ignore_root(origin);
        match rr.dns_class {
            // §3.4.2.3: delete every RRset at the name; at the apex the SOA and NS stay.
            DNSClass::ANY if t == RecordType::ANY => work.retain(|(r, _)| {
                !r.name.eq_ignore_root(&rr.name)
                    || (apex && matches!(r.rtype, RecordType::SOA | RecordType::NS))
            }),
            // §3.4.2.3: delete an RRset, but never the apex's SOA or NS.
            DNSClass::ANY => {
                if !(apex && matches!(t, RecordType::SOA | RecordType::NS)) {
                    work.retain(|(r, _)| !r.at(&rr.name, t));
                }
            }
            // §3.4.2.4: delete one record; the SOA never, the apex's last NS never.
            DNSClass::NONE => {
                if t == RecordType::SOA {
                    continue;
                }
                let last_ns = apex
                    && t == RecordType::NS
                    && work.iter().filter(|(r, _)| r.at(origin, t)).count() <= 1;
                if !last_ns {
                    work.retain(|(r, _)| !(r.at(&rr.name, t) && r.same_data(&rr.data)));
                }
            }
            _ if t == RecordType::SOA => {
                // §3.4.2.2: an SOA at the apex with a greater serial replaces the SOA; any
                // other is ignored.
                let RData::SOA(new) = &rr.data else { continue };
                if apex && serial_gt(new.serial, serial) {
                    serial = new.serial;
                    soa = Some((soa_fields(rr.ttl, new), new.serial));
                }
            }
            _ => add(&mut work, rr, managed_by)?,
        }
    }
    Ok(diff(zone, work, soa))
}

/// §3.4.2.2 for one added record: CNAME and other data never share a name (the later
/// record is ignored; a CNAME replaces a CNAME), a duplicate only sets the TTL, and the
/// RRset takes the new record's TTL, as BIND does (RFC 2181 §5.2: one TTL per RRset).
fn add(work: &mut Vec<Work>, rr: &Record, managed_by: Managed) -> Result<(), Refusal> {
    let t = rr.record_type();
    storable(t, &rr.data).map_err(|why| {
        Refusal::new(
            ResponseCode::Refused,
            format!("update {} {t}: {why}", rr.name),
        )
    })?;
    let mut at_name = work.iter().filter(|(r, _)| r.name.eq_ignore_root(&rr.name));
    if t == RecordType::CNAME {
        if at_name.any(|(r, _)| !beside_cname(r.rtype)) {
            return Ok(());
        }
        work.retain(|(r, _)| !r.at(&rr.name, RecordType::CNAME));
    } else if !beside_cname(t) && at_name.any(|(r, _)| r.rtype == RecordType::CNAME) {
        return Ok(());
    }
    for (r, _) in work.iter_mut().filter(|(r, _)| r.at(&rr.name, t)) {
        r.ttl = rr.ttl;
    }
    if !work
        .iter()
        .any(|(r, _)| r.at(&rr.name, t) && r.same_data(&rr.data))
    {
        work.push((
            Rec::new(rr.name.clone(), rr.ttl, rr.data.clone(), managed_by),
            None,
        ));
    }
    Ok(())
}

/// A record the store and the in-memory zone can hold: a type the content format knows,
/// and content that reads back as the same data.
fn storable(t: RecordType, data: &RData) -> Result<(), String> {
    if content::record_type(&content::type_name(t)).is_none() {
        return Err(format!("type {t} cannot be stored"));
    }
    let text = content::render(data);
    match content::parse(t, &text) {
        Ok(back) if back == *data => Ok(()),
        _ => Err(format!("content {text:?} does not read back as sent")),
    }
}

fn soa_fields(ttl: u32, soa: &hickory_proto::rr::rdata::SOA) -> SoaFields {
    let secs = |v: i32| u32::try_from(v).unwrap_or(0);
    SoaFields {
        ttl,
        mname: soa.mname.to_ascii(),
        rname: soa.rname.to_ascii(),
        refresh: secs(soa.refresh),
        retry: secs(soa.retry),
        expire: secs(soa.expire),
        minimum: soa.minimum,
    }
}

/// The rows to delete and add to get from the state to `work`; a record deleted and added
/// back unchanged is neither.
fn diff(zone: &State, work: Vec<Work>, soa: Option<(SoaFields, u32)>) -> Plan {
    let mut kept = vec![false; zone.records.len()];
    let mut delete = Vec::new();
    let mut add = Vec::new();
    for (r, from) in work {
        match from {
            Some(i) => {
                kept[i] = true;
                if r.ttl != zone.records[i].ttl {
                    delete.push(zone.records[i].clone());
                    add.push(r);
                }
            }
            None => add.push(r),
        }
    }
    for (i, r) in zone.records.iter().enumerate() {
        if !kept[i] && r.rtype != RecordType::SOA {
            delete.push(r.clone());
        }
    }
    add.retain(|a| {
        let back = delete
            .iter()
            .position(|d| d.at(&a.name, a.rtype) && d.ttl == a.ttl && same(d, a));
        match back {
            Some(j) => {
                delete.remove(j);
                false
            }
            None => true,
        }
    });
    Plan { delete, add, soa }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::update::prereq::tests::state;
    use tern_dnsmsg::update::{rr_empty, rr_with};
    use DNSClass::{ANY, IN, NONE};
    use RecordType as T;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn rr(name: &str, class: DNSClass, ttl: u32, t: T, text: &str) -> Record {
        rr_with(&n(name), class, ttl, content::parse(t, text).unwrap())
    }

    fn example() -> State {
        state(&[
            ("example.com.", "NS", "ns1.example.com."),
            ("example.com.", "NS", "ns2.example.com."),
            ("example.com.", "MX", "10 mx.example.com."),
            ("host.example.com.", "A", "192.0.2.1"),
            ("host.example.com.", "TXT", "\"hello\""),
            ("www.example.com.", "CNAME", "host.example.com."),
        ])
    }

    /// The batch's net plan leaves the zone as its updates one by one do, and writes no
    /// row that is added and deleted again within it.
    #[test]
    fn net_plan_equals_the_updates_one_after_the_other() {
        let updates = [
            vec![rr("new.example.com.", IN, 300, T::A, "192.0.2.9")],
            vec![rr("new.example.com.", NONE, 0, T::A, "192.0.2.9")],
            vec![rr("host.example.com.", NONE, 0, T::A, "192.0.2.1")],
            vec![rr("host.example.com.", IN, 60, T::A, "192.0.2.1")],
            vec![rr("other.example.com.", IN, 300, T::AAAA, "2001:db8::1")],
            vec![rr_empty(&n("host.example.com."), ANY, T::TXT)],
        ];
        let mut one_by_one = example();
        let mut plans = Vec::new();
        for u in &updates {
            let p = plan(&one_by_one, u, Managed::Admin).unwrap();
            advance(&mut one_by_one, &p);
            plans.push(p);
        }
        let net = net(&plans);
        let mut at_once = example();
        advance(&mut at_once, &net);
        let rows = |z: &State| {
            let mut v: Vec<String> = z
                .records
                .iter()
                .map(|r| format!("{} {} {} {}", r.name, r.ttl, r.rtype, r.content))
                .collect();
            v.sort();
            v
        };
        assert_eq!(rows(&at_once), rows(&one_by_one));
        assert_eq!(
            lines(&net),
            [
                "+ host.example.com. 60 A 192.0.2.1",
                "+ other.example.com. 300 AAAA 2001:db8::1",
                "- host.example.com. A 192.0.2.1",
                "- host.example.com. TXT \"hello\"",
            ]
        );
    }

    /// The plan as "- name type content" and "+ name ttl type content" lines, sorted.
    fn lines(p: &Plan) -> Vec<String> {
        let mut out: Vec<String> = p
            .delete
            .iter()
            .map(|r| format!("- {} {} {}", r.name, r.rtype, r.content))
            .chain(
                p.add
                    .iter()
                    .map(|r| format!("+ {} {} {} {}", r.name, r.ttl, r.rtype, r.content)),
            )
            .collect();
        out.sort();
        out
    }

    fn run(updates: &[Record]) -> Vec<String> {
        let z = example();
        prescan(updates, |name| n("example.com.").zone_of(name)).unwrap();
        lines(&plan(&z, updates, Managed::Admin).unwrap())
    }

    #[test]
    fn adds_and_the_four_kinds_of_delete() {
        assert_eq!(
            run(&[rr("new.example.com.", IN, 60, T::A, "192.0.2.9")]),
            ["+ new.example.com. 60 A 192.0.2.9"]
        );
        assert_eq!(
            run(&[rr_empty(&n("host.example.com."), ANY, T::A)]),
            ["- host.example.com. A 192.0.2.1"]
        );
        assert_eq!(
            run(&[rr_empty(&n("host.example.com."), ANY, T::ANY)]),
            [
                "- host.example.com. A 192.0.2.1",
                "- host.example.com. TXT \"hello\""
            ]
        );
        assert_eq!(
            run(&[rr("host.example.com.", NONE, 0, T::A, "192.0.2.1")]),
            ["- host.example.com. A 192.0.2.1"]
        );
        // Deleting what is not there changes nothing.
        assert!(run(&[rr("host.example.com.", NONE, 0, T::A, "192.0.2.7")]).is_empty());
    }

    #[test]
    fn updates_apply_in_order() {
        // Replace: delete the RRset, add the new one.
        assert_eq!(
            run(&[
                rr_empty(&n("host.example.com."), ANY, T::A),
                rr("host.example.com.", IN, 300, T::A, "192.0.2.2"),
            ]),
            [
                "+ host.example.com. 300 A 192.0.2.2",
                "- host.example.com. A 192.0.2.1"
            ]
        );
        // Added then deleted: nothing.
        assert!(run(&[
            rr("x.example.com.", IN, 60, T::A, "192.0.2.9"),
            rr_empty(&n("x.example.com."), ANY, T::ANY),
        ])
        .is_empty());
        // Deleted and added back as it was: nothing.
        assert!(run(&[
            rr_empty(&n("host.example.com."), ANY, T::A),
            rr("host.example.com.", IN, 300, T::A, "192.0.2.1"),
        ])
        .is_empty());
    }

    #[test]
    fn duplicates_set_the_ttl_of_the_whole_rrset() {
        assert!(run(&[rr("host.example.com.", IN, 300, T::A, "192.0.2.1")]).is_empty());
        assert_eq!(
            run(&[rr("HOST.example.com.", IN, 60, T::A, "192.0.2.5")]),
            [
                "+ HOST.example.com. 60 A 192.0.2.5",
                "+ host.example.com. 60 A 192.0.2.1",
                "- host.example.com. A 192.0.2.1"
            ]
        );
    }

    #[test]
    fn cname_and_other_data_never_share_a_name() {
        // Other data at a CNAME: ignored.
        assert!(run(&[rr("www.example.com.", IN, 60, T::A, "192.0.2.9")]).is_empty());
        // A CNAME where other data is: ignored (the apex has its SOA and NS).
        assert!(run(&[rr("host.example.com.", IN, 60, T::CNAME, "x.example.net.")]).is_empty());
        assert!(run(&[rr("example.com.", IN, 60, T::CNAME, "x.example.net.")]).is_empty());
        // A CNAME replaces a CNAME.
        assert_eq!(
            run(&[rr("www.example.com.", IN, 300, T::CNAME, "x.example.net.")]),
            [
                "+ www.example.com. 300 CNAME x.example.net.",
                "- www.example.com. CNAME host.example.com."
            ]
        );
        // Once the CNAME is gone, other data may come.
        assert_eq!(
            run(&[
                rr_empty(&n("www.example.com."), ANY, T::CNAME),
                rr("www.example.com.", IN, 60, T::A, "192.0.2.9"),
            ]),
            [
                "+ www.example.com. 60 A 192.0.2.9",
                "- www.example.com. CNAME host.example.com."
            ]
        );
    }

    #[test]
    fn the_apex_keeps_its_soa_and_ns() {
        let apex = n("example.com.");
        assert!(run(&[rr_empty(&apex, ANY, T::NS)]).is_empty());
        assert!(run(&[rr_empty(&apex, ANY, T::SOA)]).is_empty());
        assert_eq!(
            run(&[rr_empty(&apex, ANY, T::ANY)]),
            ["- example.com. MX 10 mx.example.com."]
        );
        // One NS may go, never the last.
        assert_eq!(
            run(&[
                rr("example.com.", NONE, 0, T::NS, "ns1.example.com."),
                rr("example.com.", NONE, 0, T::NS, "ns2.example.com."),
            ]),
            ["- example.com. NS ns1.example.com."]
        );
        // Add first, then delete the old ones: a swap (what the API sends).
        assert_eq!(
            run(&[
                rr("example.com.", IN, 300, T::NS, "ns3.example.com."),
                rr("example.com.", NONE, 0, T::NS, "ns1.example.com."),
                rr("example.com.", NONE, 0, T::NS, "ns2.example.com."),
            ]),
            [
                "+ example.com. 300 NS ns3.example.com.",
                "- example.com. NS ns1.example.com.",
                "- example.com. NS ns2.example.com."
            ]
        );
        // NS below the apex (a delegation) goes like any RRset.
        let z = state(&[("sub.example.com.", "NS", "ns.sub.example.com.")]);
        let p = plan(
            &z,
            &[rr_empty(&n("sub.example.com."), ANY, T::NS)],
            Managed::Admin,
        )
        .unwrap();
        assert_eq!(p.delete.len(), 1);
    }

    #[test]
    fn an_soa_with_a_greater_serial_replaces_the_soa() {
        let z = example(); // serial 7
        let soa = |serial| {
            rr(
                "example.com.",
                IN,
                900,
                T::SOA,
                &format!("ns.example.com. admin.example.com. {serial} 1 2 3 4"),
            )
        };
        let p = plan(&z, &[soa(8)], Managed::Admin).unwrap();
        let (fields, serial) = p.soa.clone().unwrap();
        assert_eq!(
            (serial, fields.ttl, fields.rname.as_str(), fields.minimum),
            (8, 900, "admin.example.com.", 4)
        );
        assert_eq!(p.len(), 1);
        assert!(
            plan(&z, &[soa(7)], Managed::Admin).unwrap().is_empty(),
            "equal: ignored"
        );
        assert!(
            plan(&z, &[soa(6)], Managed::Admin).unwrap().is_empty(),
            "lower: ignored"
        );
        let off_apex = rr(
            "host.example.com.",
            IN,
            900,
            T::SOA,
            "ns.example.com. admin.example.com. 9 1 2 3 4",
        );
        assert!(plan(&z, &[off_apex], Managed::Admin).unwrap().is_empty());
        // Deleting the SOA one record at a time is ignored too.
        let del = rr(
            "example.com.",
            NONE,
            0,
            T::SOA,
            "ns.example.com. hostmaster.example.com. 7 3600 600 604800 300",
        );
        assert!(plan(&z, &[del], Managed::Admin).unwrap().is_empty());
    }

    #[test]
    fn the_prescan_refuses_what_rfc_2136_calls_formerr_or_notzone() {
        let host = n("host.example.com.");
        let cases: Vec<(&str, Record, ResponseCode)> = vec![
            (
                "outside",
                rr("host.example.org.", IN, 60, T::A, "192.0.2.1"),
                ResponseCode::NotZone,
            ),
            (
                "add ANY",
                rr_empty(&host, IN, T::ANY),
                ResponseCode::FormErr,
            ),
            (
                "TTL with the top bit set",
                rr("host.example.com.", IN, 1 << 31, T::A, "192.0.2.1"),
                ResponseCode::FormErr,
            ),
            (
                "add without RDATA",
                rr_empty(&host, IN, T::A),
                ResponseCode::FormErr,
            ),
            ("AXFR", rr_empty(&host, ANY, T::AXFR), ResponseCode::FormErr),
            (
                "MAILA",
                rr_empty(&host, ANY, T::Unknown(254)),
                ResponseCode::FormErr,
            ),
            (
                "delete with TTL",
                rr_with(&host, ANY, 60, RData::Update0(T::A)),
                ResponseCode::FormErr,
            ),
            (
                "delete with RDATA",
                rr("host.example.com.", ANY, 0, T::A, "192.0.2.1"),
                ResponseCode::FormErr,
            ),
            (
                "delete one ANY",
                rr_empty(&host, NONE, T::ANY),
                ResponseCode::FormErr,
            ),
            (
                "delete one with TTL",
                rr("host.example.com.", NONE, 60, T::A, "192.0.2.1"),
                ResponseCode::FormErr,
            ),
            (
                "class CH",
                rr("host.example.com.", DNSClass::CH, 60, T::A, "192.0.2.1"),
                ResponseCode::FormErr,
            ),
        ];
        for (what, r, want) in cases {
            let got = prescan(&[r], |name| n("example.com.").zone_of(name))
                .unwrap_err()
                .rcode;
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn added_records_are_managed_by_the_signer_and_kept_ones_keep_theirs() {
        let z = example();
        let p = plan(
            &z,
            &[rr("host.example.com.", IN, 60, T::A, "192.0.2.5")],
            Managed::Dhcp,
        )
        .unwrap();
        let by = |ip: &str| p.add.iter().find(|r| r.content == ip).unwrap().managed_by;
        assert_eq!(by("192.0.2.5"), Managed::Dhcp);
        assert_eq!(by("192.0.2.1"), Managed::Admin, "only its TTL changed");
    }
}
