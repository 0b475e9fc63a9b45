//! Who may change what: BIND's `update-policy` grants (`zonesub`, `name`, `subdomain`,
//! `selfsub`, `wildcard`, each with types), and the rule that DHCP's keys leave an
//! administrator's records alone. Pure.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};

use super::section::Plan;
use super::state::{Managed, Refusal, State};
use crate::policy::{Grant, UpdateRule, ZonePolicy};

/// Types no update may write: the zone is not signed by tern, so DNSSEC's chain records
/// would be lies (BIND: "NSEC and NSEC3 can never be updated").
const NEVER: [RecordType; 2] = [RecordType::NSEC, RecordType::NSEC3];

/// Whether `types` covers `t` (BIND 9 ARM, `update-policy`): no types means every type but
/// SOA, NS and the DNSSEC records; `ANY` means every type but NSEC and NSEC3; otherwise the
/// types named.
pub fn type_granted(types: &[RecordType], t: RecordType) -> bool {
    if NEVER.contains(&t) {
        return false;
    }
    if types.is_empty() {
        return !matches!(t, RecordType::SOA | RecordType::NS | RecordType::RRSIG);
    }
    types.contains(&RecordType::ANY) || types.contains(&t)
}

fn labels(n: &Name) -> usize {
    // `num_labels` leaves out a leading `*`; a wildcard's labels all count here.
    n.iter().count()
}

/// Whether the grant covers the owner `name` in the zone at `origin`, for an update signed
/// with `key`.
pub fn name_granted(grant: &Grant, key: &Name, origin: &Name, name: &Name) -> bool {
    match grant {
        Grant::ZoneSub => origin.zone_of(name),
        Grant::Name(n) => n.eq_ignore_root(name),
        Grant::Subdomain(n) => n.zone_of(name),
        Grant::SelfSub => key.zone_of(name),
        // `*.example.com.` stands for one or more labels below example.com. (BIND's
        // dns_name_matcheswildcard), never for example.com. itself.
        Grant::Wildcard(w) if w.is_wildcard() => {
            let base = w.base_name();
            labels(name) > labels(&base) && base.zone_of(name)
        }
        Grant::Wildcard(w) => w.eq_ignore_root(name),
    }
}

/// Whether some rule lets `key` change `rtype` at `name` (RFC 2136 §3.3; rules only grant,
/// so the first that matches decides).
pub fn allowed(
    rules: &[UpdateRule],
    key: &Name,
    origin: &Name,
    name: &Name,
    rtype: RecordType,
) -> bool {
    rules.iter().any(|r| {
        r.key.eq_ignore_root(key)
            && name_granted(&r.grant, key, origin, name)
            && type_granted(&r.types, rtype)
    })
}

/// Whether any rule names `key` at all: an update signed by another key (or unsigned) is
/// refused before the zone is read, as BIND refuses one its `allow-update` does not match.
pub fn key_has_rules(rules: &[UpdateRule], key: &Name) -> bool {
    rules.iter().any(|r| r.key.eq_ignore_root(key))
}

/// Whether `key` is one of the zone's DHCP keys (what it writes is DHCP's).
pub fn is_dhcp_key(policy: &ZonePolicy, key: &Name) -> bool {
    policy.dhcp_keys.iter().any(|k| k.eq_ignore_root(key))
}

/// RFC 2136 §3.3 for a whole update signed with `key`: every record of the update section
/// names an RRset a rule grants (BIND checks each, even one that turns out to change
/// nothing); a deletion of every RRset at a name (type ANY) needs a grant for each type it
/// removes (BIND's `ssu_checkall`), which the plan's changed RRsets cover. A DHCP key may
/// not change an RRset holding an administrator's record unless the zone allows it.
pub fn authorize(
    policy: &ZonePolicy,
    key: &Name,
    updates: &[Record],
    zone: &State,
    plan: &Plan,
) -> Result<(), Refusal> {
    let origin = &zone.origin;
    let asked = updates
        .iter()
        .filter(|rr| rr.record_type() != RecordType::ANY)
        .map(|rr| (rr.name.clone(), rr.record_type()));
    let touched = plan.touched(origin);
    for (name, t) in asked.chain(touched.iter().cloned()) {
        if !allowed(&policy.update, key, origin, &name, t) {
            return Err(Refusal::new(
                ResponseCode::Refused,
                format!("key {key} may not update {name} {t}"),
            ));
        }
    }
    if is_dhcp_key(policy, key) && !policy.overwrite_static {
        for (name, t) in &touched {
            if zone.rrset(name, *t).any(|r| r.managed_by == Managed::Admin) {
                return Err(Refusal::new(
                    ResponseCode::Refused,
                    format!(
                        "{name} {t} holds a record an administrator put there; DHCP key {key} may not change it (ddns-overwrite-static is off)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn rule(key: &str, grant: Grant, types: &[RecordType]) -> UpdateRule {
        UpdateRule {
            key: n(key),
            grant,
            types: types.to_vec(),
        }
    }

    #[test]
    fn grants_match_names_as_bind_does() {
        use RecordType::*;
        let origin = n("example.com.");
        let key = n("host1.example.com.");
        // (grant, name, expected)
        let cases = [
            (Grant::ZoneSub, "example.com.", true),
            (Grant::ZoneSub, "a.b.Example.COM.", true),
            (Grant::ZoneSub, "example.org.", false),
            (
                Grant::Name(n("_acme-challenge.example.com.")),
                "_ACME-challenge.example.com.",
                true,
            ),
            (
                Grant::Name(n("_acme-challenge.example.com.")),
                "x._acme-challenge.example.com.",
                false,
            ),
            (
                Grant::Subdomain(n("lab.example.com.")),
                "lab.example.com.",
                true,
            ),
            (
                Grant::Subdomain(n("lab.example.com.")),
                "a.b.lab.example.com.",
                true,
            ),
            (
                Grant::Subdomain(n("lab.example.com.")),
                "xlab.example.com.",
                false,
            ),
            (Grant::SelfSub, "host1.example.com.", true),
            (Grant::SelfSub, "www.host1.example.com.", true),
            (Grant::SelfSub, "host2.example.com.", false),
            (
                Grant::Wildcard(n("*.dyn.example.com.")),
                "a.dyn.example.com.",
                true,
            ),
            (
                Grant::Wildcard(n("*.dyn.example.com.")),
                "a.b.dyn.example.com.",
                true,
            ),
            (
                Grant::Wildcard(n("*.dyn.example.com.")),
                "dyn.example.com.",
                false,
            ),
            (
                Grant::Wildcard(n("*.dyn.example.com.")),
                "a.example.com.",
                false,
            ),
        ];
        for (grant, name, want) in cases {
            assert_eq!(
                name_granted(&grant, &key, &origin, &n(name)),
                want,
                "{grant:?} {name}"
            );
        }
        let _ = (A, AAAA);
    }

    #[test]
    fn types_none_means_all_but_soa_ns_and_dnssec_any_means_all_but_nsec() {
        use RecordType::*;
        assert!(type_granted(&[], A) && type_granted(&[], TXT) && type_granted(&[], CNAME));
        for t in [SOA, NS, RRSIG, NSEC, NSEC3] {
            assert!(!type_granted(&[], t), "{t}");
        }
        assert!(type_granted(&[ANY], SOA) && type_granted(&[ANY], NS));
        assert!(!type_granted(&[ANY], NSEC3));
        assert!(type_granted(&[A, AAAA], AAAA) && !type_granted(&[A, AAAA], TXT));
        assert!(type_granted(&[NS], NS));
    }

    #[test]
    fn a_rule_is_for_its_key_only() {
        let rules = [
            rule("ddns.", Grant::ZoneSub, &[RecordType::A]),
            rule(
                "acme.",
                Grant::Name(n("_acme-challenge.example.com.")),
                &[RecordType::TXT],
            ),
        ];
        let origin = n("example.com.");
        let acme = n("_acme-challenge.example.com.");
        assert!(allowed(
            &rules,
            &n("acme."),
            &origin,
            &acme,
            RecordType::TXT
        ));
        assert!(!allowed(&rules, &n("acme."), &origin, &acme, RecordType::A));
        assert!(allowed(&rules, &n("DDNS."), &origin, &acme, RecordType::A));
        assert!(!allowed(
            &rules,
            &n("other."),
            &origin,
            &acme,
            RecordType::A
        ));
        assert!(key_has_rules(&rules, &n("acme")));
        assert!(!key_has_rules(&rules, &n("other.")));
    }

    #[test]
    fn authorize_checks_every_record_every_removed_type_and_admin_records() {
        use crate::update::section::plan;
        use crate::update::state::Rec;
        use hickory_proto::rr::DNSClass;
        use tern_dnsmsg::update::{rr_empty, rr_with};
        let mut rows = vec![
            Rec::from_row("static.example.com.", "A", 300, "192.0.2.1", Managed::Admin).unwrap(),
            Rec::from_row("static.example.com.", "TXT", 300, "\"x\"", Managed::Admin).unwrap(),
        ];
        rows.push(Rec::from_row("dyn.example.com.", "A", 300, "192.0.2.2", Managed::Dhcp).unwrap());
        let z = State::new(n("example.com."), 7, crate::zone::tests::soa(), rows).unwrap();
        let policy = ZonePolicy {
            update: vec![
                rule("ddns.", Grant::ZoneSub, &[RecordType::A, RecordType::AAAA]),
                rule("admin.", Grant::ZoneSub, &[]),
            ],
            dhcp_keys: vec![n("ddns.")],
            ..ZonePolicy::default()
        };
        let a = |name: &str, ip: &str| {
            rr_with(
                &n(name),
                DNSClass::IN,
                60,
                tern_dnsmsg::content::parse(RecordType::A, ip).unwrap(),
            )
        };
        let run = |policy: &ZonePolicy, key: &str, updates: &[Record]| {
            let managed = if is_dhcp_key(policy, &n(key)) {
                Managed::Dhcp
            } else {
                Managed::Admin
            };
            let p = plan(&z, updates, managed).unwrap();
            authorize(policy, &n(key), updates, &z, &p)
                .err()
                .map(|r| r.rcode)
        };
        let refused = Some(ResponseCode::Refused);
        assert_eq!(
            run(&policy, "ddns.", &[a("new.example.com.", "192.0.2.9")]),
            None
        );
        assert_eq!(
            run(&policy, "ddns.", &[a("dyn.example.com.", "192.0.2.9")]),
            None
        );
        // A DHCP key leaves an administrator's RRset alone, adding or deleting.
        assert_eq!(
            run(&policy, "ddns.", &[a("static.example.com.", "192.0.2.9")]),
            refused
        );
        let del = rr_empty(&n("static.example.com."), DNSClass::ANY, RecordType::A);
        assert_eq!(run(&policy, "ddns.", std::slice::from_ref(&del)), refused);
        // ... unless the zone says so.
        let overwrite = ZonePolicy {
            overwrite_static: true,
            ..policy.clone()
        };
        assert_eq!(run(&overwrite, "ddns.", std::slice::from_ref(&del)), None);
        // An administrator's key may.
        assert_eq!(run(&policy, "admin.", &[del]), None);
        // Deleting every RRset at a name needs every type there granted (TXT is not).
        let all = rr_empty(&n("static.example.com."), DNSClass::ANY, RecordType::ANY);
        assert_eq!(
            run(&overwrite, "ddns.", std::slice::from_ref(&all)),
            refused
        );
        assert_eq!(run(&policy, "admin.", &[all]), None);
        // A type not granted, even when it would change nothing.
        let txt = rr_empty(&n("nothing.example.com."), DNSClass::ANY, RecordType::TXT);
        assert_eq!(run(&policy, "ddns.", &[txt]), refused);
    }
}
