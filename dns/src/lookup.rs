//! The authoritative answer to one question from one zone: pure, no I/O.
//!
//! RFC 1034 §4.3.2's algorithm for a zone we are authoritative for: walk down from the apex;
//! a zone cut on the way gives a referral (NS in authority, glue in additional, AA clear);
//! the name found answers its data, or NODATA with the SOA; a CNAME is followed inside the
//! zone (RFC 1034 §3.6.2, at most [`MAX_CHAIN`] links); a missing name is matched by the
//! source of synthesis `*.<closest encloser>` (RFC 4592 §3.3), else NXDOMAIN with the SOA
//! (RFC 2308 §2.1, the SOA's TTL capped by MINIMUM, §3). ANY over UDP gets one RRset
//! (RFC 8482 §4.1); over TCP all of them.

use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};

use crate::zone::{Node, RrSet, Zone};

/// CNAME links followed inside one zone before the answer stops (BIND follows 16, Knot 5;
/// a loop ends here too).
pub const MAX_CHAIN: usize = 8;

/// One RRset in a section, with the owner it is given (the query name for a wildcard
/// answer) and its TTL there.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Owner name to write.
    pub owner: Name,
    /// The data.
    pub set: Arc<RrSet>,
    /// TTL to write.
    pub ttl: u32,
}

impl Entry {
    fn of(set: &Arc<RrSet>) -> Entry {
        Entry {
            owner: set.name.clone(),
            set: set.clone(),
            ttl: set.ttl,
        }
    }
}

/// What goes into the response.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// NOERROR or NXDOMAIN.
    pub rcode: ResponseCode,
    /// AA: clear on a referral.
    pub authoritative: bool,
    /// Answer section.
    pub answer: Vec<Entry>,
    /// Authority section.
    pub authority: Vec<Entry>,
    /// Additional section (glue, addresses of MX/SRV/NS targets).
    pub additional: Vec<Entry>,
    /// Some answer was synthesised from a wildcard (RFC 4592).
    pub synthesized: bool,
}

enum Found<'z> {
    /// The name's node, and the owner the answer takes (a wildcard answer takes the query
    /// name).
    Node(&'z Node, Option<Name>),
    /// A zone cut at or above the name.
    Cut(&'z Arc<RrSet>),
    /// No such name.
    Nx,
    /// Outside the zone (a CNAME target elsewhere).
    Outside,
}

fn find<'z>(zone: &'z Zone, name: &Name, qtype: RecordType) -> Found<'z> {
    let origin = zone.origin();
    if !origin.zone_of(name) {
        return Found::Outside;
    }
    let top = usize::from(origin.num_labels());
    let bottom = usize::from(name.num_labels());
    for depth in top + 1..=bottom {
        let here = name.trim_to(depth);
        match zone.node(&here) {
            None => {
                // `here`'s parent is the closest encloser (RFC 4592 §3.3.1).
                let encloser = name.trim_to(depth - 1);
                return match encloser.prepend_label("*").ok() {
                    Some(wild) => match zone.node(&wild) {
                        Some(node) => Found::Node(node, Some(name.clone())),
                        None => Found::Nx,
                    },
                    None => Found::Nx,
                };
            }
            Some(node) => {
                // A DS record lives on the parent side of the cut (RFC 4035 §3.1.4.1).
                let parent_side = depth == bottom && qtype == RecordType::DS;
                if let (Some(ns), false) = (node.get(RecordType::NS), parent_side) {
                    return Found::Cut(ns);
                }
            }
        }
    }
    match zone.node(name) {
        Some(node) => Found::Node(node, None),
        None => Found::Nx,
    }
}

/// Answers `qname`/`qtype` from `zone` (`qname` inside it). `full_any`: answer ANY with every
/// RRset (TCP) rather than one.
pub fn answer(zone: &Zone, qname: &Name, qtype: RecordType, full_any: bool) -> Answer {
    let mut out = Answer {
        rcode: ResponseCode::NoError,
        authoritative: true,
        answer: Vec::new(),
        authority: Vec::new(),
        additional: Vec::new(),
        synthesized: false,
    };
    let mut name = qname.clone();
    for _ in 0..=MAX_CHAIN {
        match find(zone, &name, qtype) {
            Found::Outside => return out,
            Found::Nx => {
                // RFC 6604 §3: the RCODE speaks of the last name in the chain.
                out.rcode = ResponseCode::NXDomain;
                negative(zone, &mut out);
                return out;
            }
            Found::Cut(ns) => {
                out.authoritative = !out.answer.is_empty();
                out.authority.push(Entry::of(ns));
                for d in &ns.rdatas {
                    if let RData::NS(target) = d {
                        addresses(zone, &target.0, &mut out.additional);
                    }
                }
                return out;
            }
            Found::Node(node, wildcard) => {
                out.synthesized |= wildcard.is_some();
                let owner = |set: &Arc<RrSet>| Entry {
                    owner: wildcard.clone().unwrap_or_else(|| set.name.clone()),
                    set: set.clone(),
                    ttl: set.ttl,
                };
                if name == *zone.origin() && (qtype == RecordType::SOA || qtype == RecordType::ANY)
                {
                    out.answer.push(Entry::of(zone.soa()));
                    if qtype == RecordType::SOA || !full_any {
                        return out;
                    }
                }
                if qtype == RecordType::ANY {
                    let sets = node.rrsets();
                    let take = if full_any { sets.len() } else { 1 };
                    out.answer.extend(sets.iter().take(take).map(owner));
                    if out.answer.is_empty() {
                        negative(zone, &mut out);
                    }
                    return out;
                }
                if let Some(set) = node.get(qtype) {
                    out.answer.push(owner(set));
                    for d in &set.rdatas {
                        if let Some(target) = target_of(d) {
                            addresses(zone, target, &mut out.additional);
                        }
                    }
                    return out;
                }
                match node.get(RecordType::CNAME) {
                    Some(cname) => {
                        out.answer.push(owner(cname));
                        let Some(RData::CNAME(target)) = cname.rdatas.first() else {
                            return out;
                        };
                        if out.answer.iter().filter(|e| e.owner == target.0).count() > 0 {
                            return out; // a loop
                        }
                        name = target.0.clone();
                    }
                    None => {
                        negative(zone, &mut out);
                        return out;
                    }
                }
            }
        }
    }
    out
}

/// NXDOMAIN or NODATA: the SOA in authority with the negative TTL.
fn negative(zone: &Zone, out: &mut Answer) {
    out.authority.push(Entry {
        owner: zone.origin().clone(),
        set: zone.soa().clone(),
        ttl: zone.negative_ttl(),
    });
}

/// The name whose addresses help the client (RFC 1035 §3.3.9 MX, RFC 2782 SRV, §3.3.11 NS).
fn target_of(d: &RData) -> Option<&Name> {
    match d {
        RData::MX(mx) => Some(&mx.exchange),
        RData::SRV(srv) => Some(&srv.target),
        RData::NS(ns) => Some(&ns.0),
        _ => None,
    }
}

/// A and AAAA of `target` when this zone holds them.
fn addresses(zone: &Zone, target: &Name, additional: &mut Vec<Entry>) {
    if !zone.origin().zone_of(target) {
        return;
    }
    if let Some(node) = zone.node(target) {
        for t in [RecordType::A, RecordType::AAAA] {
            if let Some(set) = node.get(t) {
                if !additional.iter().any(|e| Arc::ptr_eq(&e.set, set)) {
                    additional.push(Entry::of(set));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::tests::zone;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn example() -> Zone {
        zone(&[
            ("example.com.", "NS", 3600, "ns.example.com."),
            ("example.com.", "MX", 3600, "10 mail.example.com."),
            ("ns.example.com.", "A", 3600, "192.0.2.53"),
            ("mail.example.com.", "A", 3600, "192.0.2.25"),
            ("www.example.com.", "CNAME", 300, "web.example.com."),
            ("web.example.com.", "A", 300, "192.0.2.80"),
            ("web.example.com.", "AAAA", 300, "2001:db8::80"),
            ("out.example.com.", "CNAME", 300, "www.example.org."),
            ("gone.example.com.", "CNAME", 300, "missing.example.com."),
            ("loop1.example.com.", "CNAME", 300, "loop2.example.com."),
            ("loop2.example.com.", "CNAME", 300, "loop1.example.com."),
            ("*.wild.example.com.", "TXT", 60, "\"wild\""),
            ("host.wild.example.com.", "A", 60, "192.0.2.9"),
            ("a.ent.example.com.", "A", 60, "192.0.2.7"),
            ("sub.example.com.", "NS", 3600, "ns1.sub.example.com."),
            ("ns1.sub.example.com.", "A", 3600, "192.0.2.54"),
        ])
    }

    fn types(es: &[Entry]) -> Vec<String> {
        es.iter()
            .map(|e| format!("{} {}", e.owner, e.set.rtype))
            .collect()
    }

    #[test]
    fn positive_answer_with_mx_target_address() {
        let a = answer(&example(), &n("example.com."), RecordType::MX, false);
        assert_eq!((a.rcode, a.authoritative), (ResponseCode::NoError, true));
        assert_eq!(types(&a.answer), ["example.com. MX"]);
        assert_eq!(types(&a.additional), ["mail.example.com. A"]);
        assert!(a.authority.is_empty());
    }

    #[test]
    fn nodata_and_nxdomain_carry_the_soa_with_the_negative_ttl() {
        let z = example();
        let a = answer(&z, &n("web.example.com."), RecordType::TXT, false);
        assert_eq!((a.rcode, a.answer.len()), (ResponseCode::NoError, 0));
        assert_eq!(types(&a.authority), ["example.com. SOA"]);
        assert_eq!(a.authority[0].ttl, 300, "min(SOA TTL 3600, MINIMUM 300)");
        let a = answer(&z, &n("nope.example.com."), RecordType::A, false);
        assert_eq!(a.rcode, ResponseCode::NXDomain);
        assert_eq!(types(&a.authority), ["example.com. SOA"]);
    }

    #[test]
    fn an_empty_non_terminal_is_nodata_not_nxdomain() {
        let a = answer(&example(), &n("ent.example.com."), RecordType::A, false);
        assert_eq!((a.rcode, a.answer.len()), (ResponseCode::NoError, 0));
        assert_eq!(types(&a.authority), ["example.com. SOA"]);
    }

    #[test]
    fn cname_chains_are_followed_inside_the_zone() {
        let z = example();
        let a = answer(&z, &n("www.example.com."), RecordType::A, false);
        assert_eq!(
            types(&a.answer),
            ["www.example.com. CNAME", "web.example.com. A"]
        );
        let a = answer(&z, &n("www.example.com."), RecordType::CNAME, false);
        assert_eq!(types(&a.answer), ["www.example.com. CNAME"]);
        let a = answer(&z, &n("out.example.com."), RecordType::A, false);
        assert_eq!(
            (types(&a.answer), a.rcode),
            (
                vec!["out.example.com. CNAME".to_string()],
                ResponseCode::NoError
            )
        );
        let a = answer(&z, &n("gone.example.com."), RecordType::A, false);
        assert_eq!(
            a.rcode,
            ResponseCode::NXDomain,
            "RFC 6604: the last name's RCODE"
        );
        assert_eq!(types(&a.answer), ["gone.example.com. CNAME"]);
        let a = answer(&z, &n("loop1.example.com."), RecordType::A, false);
        assert_eq!(a.answer.len(), 2, "a loop stops: {:?}", types(&a.answer));
    }

    #[test]
    fn wildcards_synthesise_for_missing_names_only() {
        let z = example();
        let a = answer(&z, &n("Any.Wild.example.com."), RecordType::TXT, false);
        assert_eq!(types(&a.answer), ["Any.Wild.example.com. TXT"]);
        let a = answer(&z, &n("deep.any.wild.example.com."), RecordType::TXT, false);
        assert_eq!(types(&a.answer), ["deep.any.wild.example.com. TXT"]);
        // An existing name is not matched by the wildcard (RFC 4592 §2.2.1).
        let a = answer(&z, &n("host.wild.example.com."), RecordType::TXT, false);
        assert!(a.answer.is_empty());
        // Wildcard NODATA: the wildcard exists but not that type.
        let a = answer(&z, &n("x.wild.example.com."), RecordType::A, false);
        assert_eq!((a.rcode, a.answer.len()), (ResponseCode::NoError, 0));
        // An empty non-terminal blocks the wildcard above it (RFC 4592 §2.2.2).
        let a = answer(&z, &n("x.ent.example.com."), RecordType::A, false);
        assert_eq!(a.rcode, ResponseCode::NXDomain);
    }

    #[test]
    fn delegations_refer_with_glue_and_ds_is_answered_here() {
        let z = example();
        let a = answer(&z, &n("www.sub.example.com."), RecordType::A, false);
        assert!(!a.authoritative);
        assert!(a.answer.is_empty());
        assert_eq!(types(&a.authority), ["sub.example.com. NS"]);
        assert_eq!(types(&a.additional), ["ns1.sub.example.com. A"]);
        // DS belongs to the parent side: answered here (NODATA without one), not referred.
        let a = answer(&z, &n("sub.example.com."), RecordType::DS, false);
        assert!(a.authoritative);
        assert_eq!(types(&a.authority), ["example.com. SOA"]);
    }

    #[test]
    fn any_is_one_rrset_over_udp_and_all_over_tcp() {
        let z = example();
        let udp = answer(&z, &n("web.example.com."), RecordType::ANY, false);
        assert_eq!(udp.answer.len(), 1);
        let tcp = answer(&z, &n("web.example.com."), RecordType::ANY, true);
        assert_eq!(
            types(&tcp.answer),
            ["web.example.com. A", "web.example.com. AAAA"]
        );
        let apex = answer(&z, &n("example.com."), RecordType::ANY, true);
        assert_eq!(apex.answer[0].set.rtype, RecordType::SOA);
        assert_eq!(apex.answer.len(), 3);
    }

    #[test]
    fn soa_at_the_apex() {
        let a = answer(&example(), &n("EXAMPLE.com."), RecordType::SOA, false);
        assert_eq!(types(&a.answer), ["example.com. SOA"]);
    }
}
