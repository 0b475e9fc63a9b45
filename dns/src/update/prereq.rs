//! The zone section (RFC 2136 §3.1) and the prerequisite section (§3.2) of an UPDATE. Pure.

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::state::{Refusal, State};

/// The zone an UPDATE names (§3.1.1): exactly one zone RR, of type SOA. Whether tern serves
/// it (else NOTAUTH) is for the caller to find out.
pub fn zone_section(msg: &Message) -> Result<(Name, DNSClass), Refusal> {
    let [zone] = msg.queries.as_slice() else {
        return Err(Refusal::new(
            ResponseCode::FormErr,
            format!(
                "the zone section holds {} records, not 1",
                msg.queries.len()
            ),
        ));
    };
    if zone.query_type() != RecordType::SOA {
        return Err(Refusal::new(
            ResponseCode::FormErr,
            format!("the zone section's type is {}, not SOA", zone.query_type()),
        ));
    }
    Ok((zone.name().clone(), zone.query_class()))
}

/// Whether an RR carries no RDATA (RDLENGTH 0).
pub fn is_empty(rr: &Record) -> bool {
    matches!(rr.data, RData::Update0(_))
}

/// Checks the prerequisites against the zone as it is before the update (§3.2.5, in the
/// RFC's order: the first failure decides). `in_zone` says whether a name belongs to the
/// zone (not to another zone, a child, tern also serves).
pub fn check(
    prereqs: &[Record],
    zone: &State,
    in_zone: impl Fn(&Name) -> bool,
) -> Result<(), Refusal> {
    let fail = |rcode, rr: &Record, what: &str| {
        Err(Refusal::new(
            rcode,
            format!(
                "prerequisite {} {} {}: {what}",
                rr.name,
                rr.dns_class,
                rr.record_type()
            ),
        ))
    };
    // §3.2.3: value-dependent prerequisites are gathered into RRsets, compared at the end.
    let mut wanted: Vec<(&Name, RecordType, Vec<&RData>)> = Vec::new();
    for rr in prereqs {
        let rtype = rr.record_type();
        if rr.ttl != 0 {
            return fail(ResponseCode::FormErr, rr, "TTL is not 0");
        }
        if !in_zone(&rr.name) {
            return fail(ResponseCode::NotZone, rr, "the name is outside the zone");
        }
        match rr.dns_class {
            DNSClass::ANY | DNSClass::NONE if !is_empty(rr) => {
                return fail(ResponseCode::FormErr, rr, "RDATA is not empty");
            }
            DNSClass::ANY if rtype == RecordType::ANY => {
                if !zone.name_in_use(&rr.name) {
                    return fail(ResponseCode::NXDomain, rr, "the name is not in use");
                }
            }
            DNSClass::ANY => {
                if zone.rrset(&rr.name, rtype).next().is_none() {
                    return fail(ResponseCode::NXRRSet, rr, "the RRset does not exist");
                }
            }
            DNSClass::NONE if rtype == RecordType::ANY => {
                if zone.name_in_use(&rr.name) {
                    return fail(ResponseCode::YXDomain, rr, "the name is in use");
                }
            }
            DNSClass::NONE => {
                if zone.rrset(&rr.name, rtype).next().is_some() {
                    return fail(ResponseCode::YXRRSet, rr, "the RRset exists");
                }
            }
            DNSClass::IN if !is_empty(rr) => {
                match wanted
                    .iter_mut()
                    .find(|(n, t, _)| *t == rtype && n.eq_ignore_root(&rr.name))
                {
                    Some((_, _, set)) => set.push(&rr.data),
                    None => wanted.push((&rr.name, rtype, vec![&rr.data])),
                }
            }
            DNSClass::IN => return fail(ResponseCode::FormErr, rr, "RDATA is empty"),
            _ => {
                return fail(
                    ResponseCode::FormErr,
                    rr,
                    "the class is not the zone's, ANY or NONE",
                )
            }
        }
    }
    for (name, rtype, set) in wanted {
        // The same set: every record asked for is there and nothing else (TTLs aside).
        let have: Vec<_> = zone.rrset(name, rtype).collect();
        let equal = have.iter().all(|r| set.iter().any(|d| r.same_data(d)))
            && set.iter().all(|d| have.iter().any(|r| r.same_data(d)));
        if have.is_empty() || !equal {
            return Err(Refusal::new(
                ResponseCode::NXRRSet,
                format!("prerequisite {name} {rtype}: the RRset differs from the one required"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::update::state::{Managed, Rec};
    use hickory_proto::op::{MessageType, OpCode, Query};
    use tern_dnsmsg::content;
    use tern_dnsmsg::update::{rr_empty, rr_with};

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    pub(crate) fn state(rows: &[(&str, &str, &str)]) -> State {
        let rows = rows
            .iter()
            .map(|(name, t, c)| Rec::from_row(name, t, 300, c, Managed::Admin).unwrap())
            .collect();
        State::new(n("example.com."), 7, crate::zone::tests::soa(), rows).unwrap()
    }

    fn data(t: RecordType, s: &str) -> RData {
        content::parse(t, s).unwrap()
    }

    fn in_example(name: &Name) -> bool {
        n("example.com.").zone_of(name)
    }

    #[test]
    fn the_zone_section_is_one_soa() {
        let mut m = Message::new(1, MessageType::Query, OpCode::Update);
        assert_eq!(zone_section(&m).unwrap_err().rcode, ResponseCode::FormErr);
        m.add_query(Query::query(n("example.com."), RecordType::A));
        assert_eq!(zone_section(&m).unwrap_err().rcode, ResponseCode::FormErr);
        m.queries[0].set_query_type(RecordType::SOA);
        assert_eq!(zone_section(&m).unwrap(), (n("example.com."), DNSClass::IN));
        m.add_query(Query::query(n("example.org."), RecordType::SOA));
        assert_eq!(zone_section(&m).unwrap_err().rcode, ResponseCode::FormErr);
    }

    /// Every row of RFC 2136 §3.2.5's table, met and not met, and the FORMERR/NOTZONE cases.
    #[test]
    fn prerequisites_as_rfc_2136_tabulates_them() {
        use DNSClass::{ANY, IN, NONE};
        use RecordType as T;
        let z = state(&[
            ("host.example.com.", "A", "192.0.2.1"),
            ("host.example.com.", "A", "192.0.2.2"),
            ("Mail.example.com.", "MX", "10 mx.example.com."),
            ("a.b.example.com.", "TXT", "\"x\""),
        ]);
        let host = n("HOST.example.com.");
        let free = n("free.example.com.");
        let ent = n("b.example.com."); // an empty non-terminal: not in use
        let a = |s| rr_with(&host, IN, 0, data(T::A, s));
        let ok = ResponseCode::NoError;
        let cases: Vec<(&str, Vec<Record>, ResponseCode)> = vec![
            ("name in use", vec![rr_empty(&host, ANY, T::ANY)], ok),
            (
                "name in use (apex, SOA only)",
                vec![rr_empty(&n("example.com."), ANY, T::ANY)],
                ok,
            ),
            (
                "name in use, not",
                vec![rr_empty(&free, ANY, T::ANY)],
                ResponseCode::NXDomain,
            ),
            (
                "name in use, ENT",
                vec![rr_empty(&ent, ANY, T::ANY)],
                ResponseCode::NXDomain,
            ),
            ("rrset exists", vec![rr_empty(&host, ANY, T::A)], ok),
            (
                "rrset exists, not",
                vec![rr_empty(&host, ANY, T::AAAA)],
                ResponseCode::NXRRSet,
            ),
            ("name not in use", vec![rr_empty(&free, NONE, T::ANY)], ok),
            (
                "name not in use, ENT",
                vec![rr_empty(&ent, NONE, T::ANY)],
                ok,
            ),
            (
                "name not in use, is",
                vec![rr_empty(&host, NONE, T::ANY)],
                ResponseCode::YXDomain,
            ),
            (
                "rrset does not exist",
                vec![rr_empty(&host, NONE, T::AAAA)],
                ok,
            ),
            (
                "rrset does not exist, does",
                vec![rr_empty(&host, NONE, T::A)],
                ResponseCode::YXRRSet,
            ),
            ("value dependent", vec![a("192.0.2.2"), a("192.0.2.1")], ok),
            (
                "value dependent, names without case",
                vec![rr_with(
                    &n("mail.example.com."),
                    IN,
                    0,
                    data(T::MX, "10 MX.Example.com."),
                )],
                ok,
            ),
            (
                "value dependent, subset",
                vec![a("192.0.2.1")],
                ResponseCode::NXRRSet,
            ),
            (
                "value dependent, superset",
                vec![a("192.0.2.1"), a("192.0.2.2"), a("192.0.2.3")],
                ResponseCode::NXRRSet,
            ),
            (
                "value dependent, absent",
                vec![rr_with(&free, IN, 0, data(T::A, "192.0.2.1"))],
                ResponseCode::NXRRSet,
            ),
            (
                "the first failure decides",
                vec![rr_empty(&host, NONE, T::A), rr_empty(&free, ANY, T::ANY)],
                ResponseCode::YXRRSet,
            ),
            (
                "TTL not 0",
                vec![rr_with(&host, IN, 60, data(T::A, "192.0.2.1"))],
                ResponseCode::FormErr,
            ),
            (
                "ANY with RDATA",
                vec![rr_with(&host, ANY, 0, data(T::A, "192.0.2.1"))],
                ResponseCode::FormErr,
            ),
            (
                "NONE with RDATA",
                vec![rr_with(&host, NONE, 0, data(T::A, "192.0.2.1"))],
                ResponseCode::FormErr,
            ),
            (
                "zone class without RDATA",
                vec![rr_empty(&host, IN, T::A)],
                ResponseCode::FormErr,
            ),
            (
                "another class",
                vec![rr_empty(&host, DNSClass::CH, T::A)],
                ResponseCode::FormErr,
            ),
            (
                "outside the zone",
                vec![rr_empty(&n("example.org."), ANY, T::ANY)],
                ResponseCode::NotZone,
            ),
        ];
        for (what, prereqs, want) in cases {
            let got = check(&prereqs, &z, in_example)
                .err()
                .map_or(ok, |r| r.rcode);
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn the_soa_is_a_value_dependent_prerequisite_too() {
        let z = state(&[]);
        let soa = crate::update::state::soa_rdata(7, &z.soa).unwrap();
        let rr = rr_with(&n("example.com."), DNSClass::IN, 0, soa);
        assert!(check(&[rr], &z, in_example).is_ok());
        let other = crate::update::state::soa_rdata(8, &z.soa).unwrap();
        let rr = rr_with(&n("example.com."), DNSClass::IN, 0, other);
        assert_eq!(
            check(&[rr], &z, in_example).unwrap_err().rcode,
            ResponseCode::NXRRSet
        );
    }
}
