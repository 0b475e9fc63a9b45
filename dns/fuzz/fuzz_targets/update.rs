//! Any bytes as an RFC 2136 UPDATE, judged against a small zone by the pure part of the
//! update path (prerequisites, prescan, plan, policy) with a key that may change anything
//! and with a DHCP key: a verdict or a refusal, never a panic; a plan never touches the
//! apex's SOA or empties its NS RRset, and never puts a CNAME beside other data.
#![no_main]

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};
use libfuzzer_sys::fuzz_target;
use tern_dns::policy::{Grant, UpdateRule, ZonePolicy};
use tern_dns::update::{evaluate, section};
use tern_dns::update::state::{Managed, Rec, State};
use tern_dns::zone::SoaFields;
use tern_dnsmsg::content;

fn name(s: &str) -> Name {
    s.parse().expect("name")
}

fn rec(n: &str, t: &str, text: &str, m: Managed) -> Rec {
    let t = content::record_type(t).expect("type");
    Rec::new(name(n), 300, content::parse(t, text).expect("content"), m)
}

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::from_vec(data) else {
        return;
    };
    let origin = name("example.com.");
    let soa = SoaFields {
        ttl: 3600,
        mname: "ns.example.com.".into(),
        rname: "hostmaster.example.com.".into(),
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: 300,
    };
    let rows = vec![
        rec("example.com.", "NS", "ns.example.com.", Managed::Admin),
        rec("ns.example.com.", "A", "192.0.2.53", Managed::Admin),
        rec("host.example.com.", "A", "192.0.2.1", Managed::Dhcp),
        rec("host.example.com.", "DHCID", "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=", Managed::Dhcp),
        rec("www.example.com.", "CNAME", "host.example.com.", Managed::Admin),
    ];
    let Ok(state) = State::new(origin.clone(), 7, soa, rows) else {
        return;
    };
    let admin = name("admin.");
    let dhcp = name("dhcp.");
    let policy = ZonePolicy {
        update: vec![
            UpdateRule { key: admin.clone(), grant: Grant::ZoneSub, types: vec![RecordType::ANY] },
            UpdateRule { key: dhcp.clone(), grant: Grant::ZoneSub, types: Vec::new() },
        ],
        dhcp_keys: vec![dhcp.clone()],
        ..ZonePolicy::default()
    };
    for key in [&admin, &dhcp] {
        let in_zone = |n: &Name| origin.zone_of(n);
        let Ok(plan) = evaluate(&msg, &state, &policy, key, in_zone) else {
            continue;
        };
        assert!(
            plan.delete.iter().chain(&plan.add).all(|r| r.rtype != RecordType::SOA),
            "the SOA changes only through the plan's SOA: {plan:?}"
        );
        if key == &dhcp {
            assert!(
                plan.delete.iter().all(|d| !state.records.iter().any(|r| r.name.eq_ignore_root(&d.name)
                    && r.rtype == d.rtype
                    && r.content == d.content
                    && r.managed_by == Managed::Admin)),
                "a DHCP key deletes no administrator's record: {plan:?}"
            );
        }
        let mut after: Vec<&Rec> = state
            .records
            .iter()
            .filter(|r| {
                !plan.delete.iter().any(|d| {
                    d.name.eq_ignore_root(&r.name) && d.rtype == r.rtype && d.content == r.content
                })
            })
            .collect();
        after.extend(&plan.add);
        assert!(
            after.iter().any(|r| r.rtype == RecordType::NS && r.name.eq_ignore_root(&origin)),
            "the apex keeps an NS record: {plan:?}"
        );
        for r in after.iter().filter(|r| r.rtype == RecordType::CNAME) {
            assert!(
                !after.iter().any(|o| o.name.eq_ignore_root(&r.name)
                    && !matches!(o.rtype, RecordType::CNAME | RecordType::RRSIG | RecordType::NSEC)),
                "a CNAME stands alone at {}: {plan:?}",
                r.name
            );
        }
    }
    // A batch writes its updates' net change: the message applied twice in a row, one
    // after the other, must leave the zone as the net of its two plans applied at once.
    let in_zone = |n: &Name| origin.zone_of(n);
    let Ok(first) = evaluate(&msg, &state, &policy, &admin, in_zone) else {
        return;
    };
    let mut one_by_one = state.clone();
    section::advance(&mut one_by_one, &first);
    let Ok(second) = evaluate(&msg, &one_by_one, &policy, &admin, in_zone) else {
        return;
    };
    section::advance(&mut one_by_one, &second);
    let mut at_once = state.clone();
    section::advance(&mut at_once, &section::net([&first, &second]));
    let rows = |z: &State| {
        let mut v: Vec<String> = z
            .records
            .iter()
            .map(|r| format!("{} {} {} {}", r.name.to_ascii().to_ascii_lowercase(), r.ttl, r.rtype, r.content))
            .collect();
        v.sort();
        v
    };
    assert_eq!(rows(&at_once), rows(&one_by_one), "net of {first:?} and {second:?}");
});
