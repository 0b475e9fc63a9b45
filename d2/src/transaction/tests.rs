//! The machine without sockets: put it in a state, feed one event, check the next
//! state and the exact sections of the UPDATE it builds (as Kea's nc_*_unittests).

use super::*;
use hickory_proto::op::OpCode;
use hickory_proto::rr::{Name, RData, Record};

const DHCID_HEX: &str = "0102030405";

fn params(ip: &str) -> UpdateParams {
    let ip: std::net::IpAddr = ip.parse().unwrap();
    UpdateParams {
        fqdn: Name::from_ascii("myhost.example.com.").unwrap(),
        reverse: Name::from_ascii(tern_ncr::reverse_name(ip)).unwrap(),
        ip,
        dhcid: vec![1, 2, 3, 4, 5],
        ttl: 1200,
    }
}

fn zones(servers: usize) -> (Option<Zone>, Option<Zone>) {
    (
        Some(Zone {
            name: Name::from_ascii("example.com.").unwrap(),
            servers,
        }),
        Some(Zone {
            name: Name::from_ascii("2.0.192.in-addr.arpa.").unwrap(),
            servers,
        }),
    )
}

fn tx(change: ChangeType, mode: ConflictResolutionMode) -> Transaction {
    let (f, r) = zones(2);
    Transaction::new(change, mode, params("192.0.2.10"), f, r)
}

fn rr(r: &Record) -> String {
    let data = match &r.data {
        RData::Update0(_) => String::new(),
        RData::Unknown { rdata, .. } => {
            let bytes = &rdata.anything;
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
        other => other.to_string(),
    };
    format!(
        "{} {} {} {} {}",
        r.name,
        r.dns_class,
        r.record_type(),
        r.ttl,
        data
    )
    .trim_end()
    .to_owned()
}

/// zone, prerequisites, updates.
type Sections = (String, Vec<String>, Vec<String>);

/// The sections; checked again after a wire round trip.
fn sections(m: &Message) -> Sections {
    assert_eq!(m.metadata.op_code, OpCode::Update);
    assert_eq!(m.queries.len(), 1);
    let q = &m.queries[0];
    let zone = format!("{} {} {}", q.name(), q.query_class(), q.query_type());
    let out = (
        zone,
        m.answers.iter().map(rr).collect::<Vec<_>>(),
        m.authorities.iter().map(rr).collect::<Vec<_>>(),
    );
    let back = Message::from_vec(&m.to_vec().unwrap()).unwrap();
    assert_eq!(back.answers.iter().map(rr).collect::<Vec<_>>(), out.1);
    assert_eq!(back.authorities.iter().map(rr).collect::<Vec<_>>(), out.2);
    assert!(back.additionals.is_empty());
    out
}

fn sent(a: &Action) -> (Direction, usize, u32, Sections) {
    match a {
        Action::Send {
            direction,
            server,
            try_no,
            message,
        } => (*direction, *server, *try_no, sections(message)),
        other => panic!("expected a send, got {other:?}"),
    }
}

fn fin(a: Action) -> Outcome {
    match a {
        Action::Finish(o) => o,
        other => panic!("expected the end, got {other:?}"),
    }
}

const FWD_ZONE: &str = "example.com. IN SOA";
const REV_ZONE: &str = "2.0.192.in-addr.arpa. IN SOA";
const NAME: &str = "myhost.example.com.";
const REV: &str = "10.2.0.192.in-addr.arpa.";

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn dhcid_rr(class: &str, ttl: u32) -> String {
    format!("{NAME} {class} Unknown {ttl} {DHCID_HEX}")
}

#[test]
fn dhcid_rr_type_is_49() {
    assert_eq!(u16::from(messages::dhcid_type()), 49);
}

#[test]
fn check_with_dhcid_add_then_reverse() {
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::CheckWithDhcid);
    let (d, srv, n, (zone, pre, upd)) = sent(&t.step(Event::Start));
    assert_eq!((d, srv, n), (Direction::Forward, 0, 1));
    assert_eq!(t.state(), State::FwdAdd);
    assert_eq!(zone, FWD_ZONE);
    assert_eq!(pre, s(&[&format!("{NAME} NONE ANY 0")]));
    assert_eq!(
        upd,
        vec![format!("{NAME} IN A 1200 192.0.2.10"), dhcid_rr("IN", 1200)]
    );
    let (d, srv, _, (zone, pre, upd)) = sent(&t.step(Event::Response(ResponseCode::NoError)));
    assert_eq!((d, srv), (Direction::Reverse, 0));
    assert_eq!(t.state(), State::RevReplace);
    assert_eq!(zone, REV_ZONE);
    assert!(pre.is_empty());
    assert_eq!(
        upd,
        vec![
            format!("{REV} ANY PTR 0"),
            format!("{REV} ANY Unknown 0"),
            format!("{REV} IN PTR 1200 {NAME}"),
            format!("{REV} IN Unknown 1200 {DHCID_HEX}"),
        ]
    );
    assert_eq!(
        fin(t.step(Event::Response(ResponseCode::NoError))),
        Outcome::Done
    );
    assert_eq!(t.state(), State::Finished);
}

#[test]
fn check_with_dhcid_add_yxdomain_goes_to_replace() {
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::CheckWithDhcid);
    t.set_state(State::FwdAdd, 1, 1);
    let (d, srv, n, (zone, pre, upd)) = sent(&t.step(Event::Response(ResponseCode::YXDomain)));
    assert_eq!((d, srv, n), (Direction::Forward, 1, 1), "same server");
    assert_eq!(t.state(), State::FwdReplace);
    assert_eq!(zone, FWD_ZONE);
    assert_eq!(pre, vec![format!("{NAME} ANY ANY 0"), dhcid_rr("IN", 0)]);
    assert_eq!(
        upd,
        vec![
            format!("{NAME} ANY A 0"),
            format!("{NAME} IN A 1200 192.0.2.10")
        ]
    );
    // The DHCID is someone else's: conflict, reverse skipped.
    match fin(t.step(Event::Response(ResponseCode::NXRRSet))) {
        Outcome::Conflict(why) => assert!(
            why.to_string().contains("DHCID is not the client's"),
            "{why}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn replace_nxdomain_goes_back_to_add_and_other_rcodes_fail() {
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::CheckWithDhcid);
    t.set_state(State::FwdReplace, 0, 1);
    sent(&t.step(Event::Response(ResponseCode::NXDomain)));
    assert_eq!(t.state(), State::FwdAdd);
    match fin(t.step(Event::Response(ResponseCode::Refused))) {
        Outcome::Failed(why) => {
            assert!(
                why.to_string()
                    .starts_with("DHCP_DDNS_FORWARD_ADD_REJECTED"),
                "{why}"
            );
            assert!(
                why.to_string().ends_with("server answered REFUSED"),
                "{why}"
            );
        }
        other => panic!("{other:?}"),
    }
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::CheckWithDhcid);
    t.set_state(State::FwdReplace, 0, 1);
    assert!(matches!(
        fin(t.step(Event::Response(ResponseCode::ServFail))),
        Outcome::Failed(_)
    ));
}

#[test]
fn add_replace_bouncing_is_bounded() {
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::CheckWithDhcid);
    t.step(Event::Start);
    let mut sends = 0;
    loop {
        let rcode = if t.state() == State::FwdAdd {
            ResponseCode::YXDomain
        } else {
            ResponseCode::NXDomain
        };
        match t.step(Event::Response(rcode)) {
            Action::Send { .. } => sends += 1,
            Action::Finish(o) => {
                assert!(matches!(o, Outcome::Failed(_)));
                break;
            }
        }
        assert!(sends < 20);
    }
}

#[test]
fn check_exists_replace_needs_some_dhcid() {
    let mut t = tx(
        ChangeType::Add,
        ConflictResolutionMode::CheckExistsWithDhcid,
    );
    let (_, _, _, (_, pre, _)) = sent(&t.step(Event::Start));
    assert_eq!(pre, vec![format!("{NAME} NONE ANY 0")]);
    let (_, _, _, (_, pre, upd)) = sent(&t.step(Event::Response(ResponseCode::YXDomain)));
    assert_eq!(pre, vec![format!("{NAME} ANY Unknown 0")]);
    assert_eq!(
        upd,
        vec![
            format!("{NAME} ANY A 0"),
            format!("{NAME} ANY Unknown 0"),
            format!("{NAME} IN A 1200 192.0.2.10"),
            dhcid_rr("IN", 1200),
        ]
    );
    match fin(t.step(Event::Response(ResponseCode::NXRRSet))) {
        Outcome::Conflict(why) => assert!(why.to_string().contains("static"), "{why}"),
        other => panic!("{other:?}"),
    }
    // Accepted: reverse follows.
    let mut t = tx(
        ChangeType::Add,
        ConflictResolutionMode::CheckExistsWithDhcid,
    );
    t.set_state(State::FwdReplace, 0, 1);
    sent(&t.step(Event::Response(ResponseCode::NoError)));
    assert_eq!(t.state(), State::RevReplace);
}

#[test]
fn no_check_with_dhcid_add() {
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::NoCheckWithDhcid);
    let (_, _, _, (zone, pre, upd)) = sent(&t.step(Event::Start));
    assert_eq!(t.state(), State::FwdReplace);
    assert_eq!(zone, FWD_ZONE);
    assert!(pre.is_empty());
    assert_eq!(
        upd,
        vec![
            format!("{NAME} ANY A 0"),
            format!("{NAME} ANY Unknown 0"),
            format!("{NAME} IN A 1200 192.0.2.10"),
            dhcid_rr("IN", 1200),
        ]
    );
    // No conflict handling without checks: NXRRSET is just a failure.
    let mut t2 = t.clone();
    assert!(matches!(
        fin(t2.step(Event::Response(ResponseCode::NXRRSet))),
        Outcome::Failed(_)
    ));
    let (_, _, _, (_, _, upd)) = sent(&t.step(Event::Response(ResponseCode::NoError)));
    assert_eq!(upd.len(), 4, "reverse with DHCID");
}

#[test]
fn no_check_without_dhcid_writes_no_dhcid() {
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::NoCheckWithoutDhcid);
    let (_, _, _, (_, pre, upd)) = sent(&t.step(Event::Start));
    assert!(pre.is_empty());
    assert_eq!(
        upd,
        vec![
            format!("{NAME} ANY A 0"),
            format!("{NAME} IN A 1200 192.0.2.10")
        ]
    );
    let (_, _, _, (_, pre, upd)) = sent(&t.step(Event::Response(ResponseCode::NoError)));
    assert!(pre.is_empty());
    assert_eq!(
        upd,
        vec![
            format!("{REV} ANY PTR 0"),
            format!("{REV} IN PTR 1200 {NAME}")
        ]
    );
}

#[test]
fn check_with_dhcid_remove_in_two_steps_then_reverse() {
    let mut t = tx(ChangeType::Remove, ConflictResolutionMode::CheckWithDhcid);
    let (_, _, _, (zone, pre, upd)) = sent(&t.step(Event::Start));
    assert_eq!(t.state(), State::FwdRemoveAddrs);
    assert_eq!(zone, FWD_ZONE);
    assert_eq!(pre, vec![dhcid_rr("IN", 0)]);
    assert_eq!(upd, vec![format!("{NAME} NONE A 0 192.0.2.10")]);
    // NXRRSET (not ours or already gone) still goes on to step 2.
    let (_, _, _, (_, pre, upd)) = sent(&t.step(Event::Response(ResponseCode::NXRRSet)));
    assert_eq!(t.state(), State::FwdRemoveRrs);
    assert_eq!(
        pre,
        vec![
            dhcid_rr("IN", 0),
            format!("{NAME} NONE A 0"),
            format!("{NAME} NONE AAAA 0"),
        ]
    );
    assert_eq!(upd, vec![format!("{NAME} ANY ANY 0")]);
    // YXRRSET: another address is still there; the step counts as done.
    let (d, _, _, (zone, pre, upd)) = sent(&t.step(Event::Response(ResponseCode::YXRRSet)));
    assert_eq!(d, Direction::Reverse);
    assert_eq!(t.state(), State::RevRemove);
    assert_eq!(zone, REV_ZONE);
    assert_eq!(pre, vec![format!("{REV} IN PTR 0 {NAME}")]);
    assert_eq!(upd, vec![format!("{REV} ANY ANY 0")]);
    assert_eq!(
        fin(t.step(Event::Response(ResponseCode::NXRRSet))),
        Outcome::Done
    );
}

#[test]
fn remove_step_rejections_fail_and_skip_reverse() {
    let mut t = tx(ChangeType::Remove, ConflictResolutionMode::CheckWithDhcid);
    t.set_state(State::FwdRemoveAddrs, 0, 1);
    match fin(t.step(Event::Response(ResponseCode::Refused))) {
        Outcome::Failed(why) => {
            assert!(
                why.to_string()
                    .starts_with("DHCP_DDNS_FORWARD_REMOVE_ADDRS_REJECTED"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
    let mut t = tx(ChangeType::Remove, ConflictResolutionMode::CheckWithDhcid);
    t.set_state(State::FwdRemoveRrs, 0, 1);
    assert!(matches!(
        fin(t.step(Event::Response(ResponseCode::NotAuth))),
        Outcome::Failed(_)
    ));
    let mut t = tx(ChangeType::Remove, ConflictResolutionMode::CheckWithDhcid);
    t.set_state(State::RevRemove, 0, 1);
    assert!(matches!(
        fin(t.step(Event::Response(ResponseCode::ServFail))),
        Outcome::Failed(_)
    ));
}

#[test]
fn check_exists_remove() {
    let mut t = tx(
        ChangeType::Remove,
        ConflictResolutionMode::CheckExistsWithDhcid,
    );
    let (_, _, _, (_, pre, upd)) = sent(&t.step(Event::Start));
    assert_eq!(pre, vec![format!("{NAME} ANY Unknown 0")]);
    assert_eq!(upd, vec![format!("{NAME} NONE A 0 192.0.2.10")]);
    let (_, _, _, (_, pre, upd)) = sent(&t.step(Event::Response(ResponseCode::NoError)));
    assert_eq!(
        pre,
        vec![format!("{NAME} NONE A 0"), format!("{NAME} NONE AAAA 0")]
    );
    assert_eq!(upd, vec![format!("{NAME} ANY Unknown 0")]);
    let (_, _, _, (_, pre, _)) = sent(&t.step(Event::Response(ResponseCode::NoError)));
    assert_eq!(pre, vec![format!("{REV} IN PTR 0 {NAME}")]);
}

#[test]
fn no_check_removes() {
    let mut t = tx(ChangeType::Remove, ConflictResolutionMode::NoCheckWithDhcid);
    let (_, _, _, (_, pre, upd)) = sent(&t.step(Event::Start));
    assert_eq!(t.state(), State::FwdRemoveRrs);
    assert!(pre.is_empty());
    assert_eq!(
        upd,
        vec![format!("{NAME} ANY A 0"), format!("{NAME} ANY Unknown 0")]
    );
    let (_, _, _, (_, pre, upd)) = sent(&t.step(Event::Response(ResponseCode::NoError)));
    assert!(pre.is_empty());
    assert_eq!(
        upd,
        vec![format!("{REV} ANY PTR 0"), format!("{REV} ANY Unknown 0")]
    );
    let mut t = tx(
        ChangeType::Remove,
        ConflictResolutionMode::NoCheckWithoutDhcid,
    );
    let (_, _, _, (_, _, upd)) = sent(&t.step(Event::Start));
    assert_eq!(upd, vec![format!("{NAME} ANY A 0")]);
    let (_, _, _, (_, _, upd)) = sent(&t.step(Event::Response(ResponseCode::NoError)));
    assert_eq!(upd, vec![format!("{REV} ANY PTR 0")]);
    // Without checks, YXRRSET is not expected: a failure.
    let mut t = tx(
        ChangeType::Remove,
        ConflictResolutionMode::NoCheckWithoutDhcid,
    );
    t.set_state(State::FwdRemoveRrs, 0, 1);
    assert!(matches!(
        fin(t.step(Event::Response(ResponseCode::YXRRSet))),
        Outcome::Failed(_)
    ));
}

#[test]
fn aaaa_and_ip6_arpa() {
    let (f, _) = zones(1);
    let rev = Some(Zone {
        name: Name::from_ascii("8.b.d.0.1.0.0.2.ip6.arpa.").unwrap(),
        servers: 1,
    });
    let mut t = Transaction::new(
        ChangeType::Add,
        ConflictResolutionMode::CheckWithDhcid,
        params("2001:db8::5"),
        f,
        rev,
    );
    let (_, _, _, (_, _, upd)) = sent(&t.step(Event::Start));
    assert_eq!(upd[0], format!("{NAME} IN AAAA 1200 2001:db8::5"));
    let (_, _, _, (zone, _, upd)) = sent(&t.step(Event::Response(ResponseCode::NoError)));
    assert_eq!(zone, "8.b.d.0.1.0.0.2.ip6.arpa. IN SOA");
    let rev = "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.";
    assert_eq!(upd[2], format!("{rev} IN PTR 1200 {NAME}"));
}

#[test]
fn forward_only_and_reverse_only() {
    let (f, r) = zones(1);
    let mut t = Transaction::new(
        ChangeType::Add,
        ConflictResolutionMode::CheckWithDhcid,
        params("192.0.2.10"),
        f,
        None,
    );
    t.step(Event::Start);
    assert_eq!(
        fin(t.step(Event::Response(ResponseCode::NoError))),
        Outcome::Done
    );
    let mut t = Transaction::new(
        ChangeType::Remove,
        ConflictResolutionMode::CheckWithDhcid,
        params("192.0.2.10"),
        None,
        r,
    );
    let (d, _, _, _) = sent(&t.step(Event::Start));
    assert_eq!(d, Direction::Reverse);
    assert_eq!(t.state(), State::RevRemove);
}

#[test]
fn three_tries_per_server_then_next_server_from_the_first_step() {
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::CheckWithDhcid);
    t.step(Event::Start);
    // Into the replace step on server 0, then silence.
    sent(&t.step(Event::Response(ResponseCode::YXDomain)));
    assert_eq!(t.state(), State::FwdReplace);
    let (_, srv, n, _) = sent(&t.step(Event::NoAnswer("timeout".into())));
    assert_eq!((srv, n), (0, 2));
    let (_, srv, n, _) = sent(&t.step(Event::NoAnswer("timeout".into())));
    assert_eq!((srv, n), (0, 3));
    let (_, srv, n, _) = sent(&t.step(Event::NoAnswer("bad TSIG".into())));
    assert_eq!((srv, n), (1, 1));
    assert_eq!(t.state(), State::FwdAdd, "restarts at the first step");
    for _ in 0..2 {
        sent(&t.step(Event::NoAnswer("timeout".into())));
    }
    match fin(t.step(Event::NoAnswer("timeout".into()))) {
        Outcome::Unreachable(why) => {
            assert!(
                why.to_string()
                    .starts_with("DHCP_DDNS_FORWARD_ADD_IO_ERROR"),
                "{why}"
            );
            assert!(why.to_string().contains("timeout"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_key_refusal_fails_at_once() {
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::CheckWithDhcid);
    t.step(Event::Start);
    match fin(t.step(Event::Refused("NOTAUTH (BADSIG)".into()))) {
        Outcome::Failed(why) => assert!(why.to_string().contains("BADSIG"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unexpected_events_are_errors() {
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::CheckWithDhcid);
    assert!(matches!(
        fin(t.step(Event::Response(ResponseCode::NoError))),
        Outcome::Failed(_)
    ));
    let mut t = tx(ChangeType::Add, ConflictResolutionMode::CheckWithDhcid);
    t.step(Event::Start);
    assert!(matches!(fin(t.step(Event::Start)), Outcome::Failed(_)));
    assert!(matches!(
        fin(t.step(Event::Response(ResponseCode::NoError))),
        Outcome::Failed(_)
    ));
}
