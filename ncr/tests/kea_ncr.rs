//! NameChangeRequest JSON, datagrams and log text against Kea's own messages
//! (src/lib/dhcp_ddns/tests/ncr_unittests.cc at Kea-2.2.0 and at 3.3's development head).

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use tern_ncr::{
    ChangeType, ConflictResolutionMode, Dhcid, Fqdn, KeaTextStyle, NameChangeRequest, NcrError,
    MAX_DATAGRAM_LEN,
};

/// Kea 2.2's "Valid Add": with lease-expires-on and use-conflict-resolution.
const KEA_2_2_VALID_ADD: &str = "{ \"change-type\" : 0 ,  \"forward-change\" : true ,  \
     \"reverse-change\" : false ,  \"fqdn\" : \"walah.walah.com\" ,  \
     \"ip-address\" : \"192.168.2.1\" ,  \"dhcid\" : \"010203040A7F8E3D\" ,  \
     \"lease-expires-on\" : \"20130121132405\" ,  \"lease-length\" : 1300,  \
     \"use-conflict-resolution\": true}";

/// Kea 3.1.6+'s basicJsonTest text: no lease-expires-on, conflict-resolution-mode.
const KEA_3_BASIC: &str = "{\"change-type\":1,\"forward-change\":true,\"reverse-change\":false,\
     \"fqdn\":\"walah.walah.com.\",\"ip-address\":\"192.168.2.1\",\"dhcid\":\"010203040A7F8E3D\",\
     \"lease-length\":1300,\"conflict-resolution-mode\":\"check-with-dhcid\"}";

fn myhost_ncr() -> NameChangeRequest {
    let fqdn = Fqdn::new("myhost.example.com.").unwrap();
    NameChangeRequest {
        change_type: ChangeType::Add,
        forward_change: true,
        reverse_change: true,
        dhcid: Dhcid::from_duid(&[0, 1, 2, 3, 4, 5, 6], &fqdn).unwrap(),
        fqdn,
        ip_address: "192.0.2.10".parse().unwrap(),
        lease_expires_on: Some(Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap()),
        lease_length: 1200,
        conflict_resolution_mode: ConflictResolutionMode::CheckWithDhcid,
    }
}

/// A valid Kea 3.x request as a JSON object, to change one key at a time.
fn base() -> Value {
    serde_json::from_str(KEA_3_BASIC).unwrap()
}

fn with(key: &str, value: Value) -> String {
    let mut v = base();
    v[key] = value;
    v.to_string()
}

fn without(key: &str) -> String {
    let mut v = base();
    v.as_object_mut().unwrap().remove(key);
    v.to_string()
}

fn error_of(text: &str) -> String {
    NameChangeRequest::from_json(text).unwrap_err().to_string()
}

#[test]
fn kea_2_2_valid_add() {
    let ncr = NameChangeRequest::from_json(KEA_2_2_VALID_ADD).unwrap();
    assert_eq!(ncr.change_type, ChangeType::Add);
    assert!(ncr.forward_change);
    assert!(!ncr.reverse_change);
    assert_eq!(ncr.fqdn.as_str(), "walah.walah.com.");
    assert_eq!(
        ncr.ip_address,
        "192.168.2.1".parse::<std::net::IpAddr>().unwrap()
    );
    assert_eq!(ncr.dhcid.as_rdata(), &[1, 2, 3, 4, 0x0a, 0x7f, 0x8e, 0x3d]);
    assert_eq!(
        ncr.lease_expires_on,
        Some(Utc.with_ymd_and_hms(2013, 1, 21, 13, 24, 5).unwrap())
    );
    assert_eq!(ncr.lease_length, 1300);
    assert_eq!(
        ncr.conflict_resolution_mode,
        ConflictResolutionMode::CheckWithDhcid
    );
}

#[test]
fn kea_2_2_other_valid_messages() {
    // Valid Remove; valid Add with an IPv6 address; no use-conflict-resolution.
    let remove = KEA_2_2_VALID_ADD.replace("\"change-type\" : 0", "\"change-type\" : 1");
    let ncr = NameChangeRequest::from_json(&remove).unwrap();
    assert_eq!(ncr.change_type, ChangeType::Remove);

    let v6 = KEA_2_2_VALID_ADD.replace("192.168.2.1", "fe80::2acf:e9ff:fe12:e56f");
    let ncr = NameChangeRequest::from_json(&v6).unwrap();
    assert_eq!(ncr.ip_address.to_string(), "fe80::2acf:e9ff:fe12:e56f");
    assert_eq!(
        ncr.reverse_name(),
        "f.6.5.e.2.1.e.f.f.f.9.e.f.c.a.2.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa."
    );

    let no_flag = KEA_2_2_VALID_ADD.replace(",  \"use-conflict-resolution\": true", "");
    assert!(!no_flag.contains("use-conflict-resolution"));
    let ncr = NameChangeRequest::from_json(&no_flag).unwrap();
    assert_eq!(
        ncr.conflict_resolution_mode,
        ConflictResolutionMode::CheckWithDhcid
    );
}

#[test]
fn kea_3_basic_without_lease_expires_on() {
    let ncr = NameChangeRequest::from_json(KEA_3_BASIC).unwrap();
    assert_eq!(ncr.change_type, ChangeType::Remove);
    assert_eq!(ncr.lease_expires_on, None);
    assert_eq!(ncr.request_id(), "010203040A7F8E3D");
    assert_eq!(
        ncr.to_json(),
        "{\"change-type\":1,\"forward-change\":true,\"reverse-change\":false,\
         \"fqdn\":\"walah.walah.com.\",\"ip-address\":\"192.168.2.1\",\
         \"dhcid\":\"010203040A7F8E3D\",\"lease-expires-on\":\"19700101000000\",\
         \"lease-length\":1300,\"use-conflict-resolution\":true,\
         \"conflict-resolution-mode\":\"check-with-dhcid\"}"
    );
    assert_eq!(NameChangeRequest::from_json(&ncr.to_json()).unwrap(), ncr);
}

#[test]
fn unknown_keys_are_ignored() {
    // Kea's toFromBufferTestWithExtra.
    let extra = with("extra", json!("19700101000000"));
    assert_eq!(
        NameChangeRequest::from_json(&extra).unwrap(),
        NameChangeRequest::from_json(KEA_3_BASIC).unwrap()
    );
}

#[test]
fn use_conflict_resolution_maps_to_the_two_old_modes() {
    let mut v = base();
    v.as_object_mut()
        .unwrap()
        .remove("conflict-resolution-mode");
    v["use-conflict-resolution"] = json!(false);
    let ncr = NameChangeRequest::from_json(&v.to_string()).unwrap();
    assert_eq!(
        ncr.conflict_resolution_mode,
        ConflictResolutionMode::NoCheckWithDhcid
    );
    v["use-conflict-resolution"] = json!(true);
    let ncr = NameChangeRequest::from_json(&v.to_string()).unwrap();
    assert_eq!(
        ncr.conflict_resolution_mode,
        ConflictResolutionMode::CheckWithDhcid
    );
}

#[test]
fn conflict_resolution_mode_wins_over_the_old_flag() {
    for mode in ConflictResolutionMode::ALL {
        let mut v = base();
        v["conflict-resolution-mode"] = json!(mode.as_str());
        // Kea does not even look at the flag then, so a bad flag does not matter.
        for flag in [json!(true), json!(false), json!("bogus")] {
            v["use-conflict-resolution"] = flag;
            let ncr = NameChangeRequest::from_json(&v.to_string()).unwrap();
            assert_eq!(ncr.conflict_resolution_mode, mode);
        }
    }
}

#[test]
fn missing_conflict_keys_default_to_check_with_dhcid() {
    let ncr = NameChangeRequest::from_json(&without("conflict-resolution-mode")).unwrap();
    assert_eq!(
        ncr.conflict_resolution_mode,
        ConflictResolutionMode::CheckWithDhcid
    );
}

#[test]
fn duplicate_key_keeps_the_last_value() {
    let text = KEA_3_BASIC.replace(
        "\"lease-length\":1300",
        "\"lease-length\":1300,\"lease-length\":77",
    );
    assert_eq!(
        NameChangeRequest::from_json(&text).unwrap().lease_length,
        77
    );
}

#[test]
fn fqdn_case_is_kept_and_compared_case_insensitively() {
    let upper = NameChangeRequest::from_json(&with("fqdn", json!("WALAH.Walah.COM"))).unwrap();
    assert_eq!(upper.fqdn.as_str(), "WALAH.Walah.COM.");
    assert!(upper.to_json().contains("\"fqdn\":\"WALAH.Walah.COM.\""));
    assert_eq!(upper, NameChangeRequest::from_json(KEA_3_BASIC).unwrap());
}

#[test]
fn lease_length_bounds() {
    let max = NameChangeRequest::from_json(&with("lease-length", json!(4294967295u64))).unwrap();
    assert_eq!(max.lease_length, u32::MAX);
    let zero = NameChangeRequest::from_json(&with("lease-length", json!(0))).unwrap();
    assert_eq!(zero.lease_length, 0);
}

// ---- invalid messages: each gives its own error ----

#[test]
fn kea_invalid_messages() {
    // Kea's invalid_msgs, in its order, each with the error tern gives.
    let cases: Vec<(String, &str)> = vec![
        (
            with("change-type", json!(7)),
            "ncr: \"change-type\": 7 is not 0 (add) or 1 (remove)",
        ),
        (
            with("forward-change", json!("bogus")),
            "ncr: \"forward-change\": \"bogus\" is not a boolean",
        ),
        (
            with("reverse-change", json!(500)),
            "ncr: \"reverse-change\": 500 is not a boolean",
        ),
        (
            with("forward-change", json!(false)),
            "ncr: \"forward-change\" and \"reverse-change\" are both false",
        ),
        (
            with("fqdn", json!("")),
            "ncr: \"fqdn\": \"\" is not a domain name: the name is empty",
        ),
        (
            with("fqdn", json!(".bad_name")),
            "ncr: \"fqdn\": \".bad_name\" is not a domain name: empty label at offset 0",
        ),
        (
            with("ip-address", json!("xxxxxx")),
            "ncr: \"ip-address\": \"xxxxxx\" is not an IP address",
        ),
        (
            with("dhcid", json!("")),
            "ncr: \"dhcid\": \"\" is not a DHCID: it is empty",
        ),
        (
            with("dhcid", json!("010203040A7F8E3")),
            "ncr: \"dhcid\": \"010203040A7F8E3\" is not a DHCID: 15 hex digits is an odd number",
        ),
        (
            with("dhcid", json!("THIS IS BOGUS!!!")),
            "ncr: \"dhcid\": \"THIS IS BOGUS!!!\" is not a DHCID: 'T' at offset 0 is not a hex \
             digit",
        ),
        (
            with("lease-length", json!("BOGUS")),
            "ncr: \"lease-length\": \"BOGUS\" is not an integer",
        ),
        (
            with("conflict-resolution-mode", json!("bogus")),
            "ncr: \"conflict-resolution-mode\": \"bogus\" is not one of \"check-with-dhcid\", \
             \"no-check-with-dhcid\", \"check-exists-with-dhcid\", \"no-check-without-dhcid\"",
        ),
    ];
    for (text, expected) in &cases {
        assert_eq!(&error_of(text), expected, "{text}");
    }

    // Invalid use-conflict-resolution (only read when there is no mode).
    let mut v = base();
    v.as_object_mut()
        .unwrap()
        .remove("conflict-resolution-mode");
    v["use-conflict-resolution"] = json!("bogus");
    assert_eq!(
        error_of(&v.to_string()),
        "ncr: \"use-conflict-resolution\": \"bogus\" is not a boolean"
    );
}

#[test]
fn the_brief_s_ip_address_example() {
    assert_eq!(
        error_of(&with("ip-address", json!("300.1.2.3"))),
        "ncr: \"ip-address\": \"300.1.2.3\" is not an IP address"
    );
    assert_eq!(
        error_of(&with("ip-address", json!(3232236033u32))),
        "ncr: \"ip-address\": 3232236033 is not a string"
    );
}

#[test]
fn every_required_key_is_required() {
    for key in [
        "change-type",
        "forward-change",
        "reverse-change",
        "fqdn",
        "ip-address",
        "dhcid",
        "lease-length",
    ] {
        assert_eq!(
            NameChangeRequest::from_json(&without(key)),
            Err(NcrError::Missing(key)),
            "{key}"
        );
        assert_eq!(
            error_of(&without(key)),
            format!("ncr: \"{key}\" is missing")
        );
    }
}

#[test]
fn wrong_types() {
    let cases = [
        (
            with("change-type", json!("0")),
            "ncr: \"change-type\": \"0\" is not an integer",
        ),
        (
            with("change-type", json!(0.0)),
            "ncr: \"change-type\": 0.0 is not an integer",
        ),
        (
            with("fqdn", json!(null)),
            "ncr: \"fqdn\": null is not a string",
        ),
        (
            with("dhcid", json!([1, 2])),
            "ncr: \"dhcid\": [1,2] is not a string",
        ),
        (
            with("lease-expires-on", json!(20130121132405u64)),
            "ncr: \"lease-expires-on\": 20130121132405 is not a string",
        ),
        (
            with("lease-length", json!(1300.5)),
            "ncr: \"lease-length\": 1300.5 is not an integer",
        ),
        (
            with("conflict-resolution-mode", json!(true)),
            "ncr: \"conflict-resolution-mode\": true is not a string",
        ),
    ];
    for (text, expected) in &cases {
        assert_eq!(&error_of(text), expected, "{text}");
    }
}

#[test]
fn out_of_range_values() {
    assert_eq!(
        error_of(&with("change-type", json!(-1))),
        "ncr: \"change-type\": -1 is not 0 (add) or 1 (remove)"
    );
    assert_eq!(
        error_of(&with("lease-length", json!(4294967296u64))),
        "ncr: \"lease-length\": 4294967296 is out of range 0..=4294967295"
    );
    assert_eq!(
        error_of(&with("lease-length", json!(-1))),
        "ncr: \"lease-length\": -1 is out of range 0..=4294967295"
    );
    assert_eq!(
        error_of(&with("lease-expires-on", json!("20130132132405"))),
        "ncr: \"lease-expires-on\": \"20130132132405\" is not a UTC time as YYYYMMDDHHmmSS: \
         day 32 is not in month 1 of 2013"
    );
    assert_eq!(
        error_of(&with("lease-expires-on", json!("2013-01-21"))),
        "ncr: \"lease-expires-on\": \"2013-01-21\" is not a UTC time as YYYYMMDDHHmmSS: \
         it must be exactly 14 digits"
    );
    let long_label = format!("{}.example.", "a".repeat(64));
    assert!(error_of(&with("fqdn", json!(long_label))).starts_with("ncr: \"fqdn\": \"aaaa"));
    assert!(error_of(&with("fqdn", json!(long_label)))
        .ends_with("is not a domain name: label \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is 64 bytes long, more than 63"));
}

#[test]
fn not_json_or_not_an_object() {
    assert!(matches!(
        NameChangeRequest::from_json("{\"change-type\":"),
        Err(NcrError::MalformedJson(_))
    ));
    assert!(error_of("not json").starts_with("ncr: malformed JSON: expected ident"));
    assert_eq!(
        error_of("[1,2,3]"),
        "ncr: expected a JSON object, got an array"
    );
    assert_eq!(
        error_of("\"x\""),
        "ncr: expected a JSON object, got a string"
    );
}

// ---- output ----

#[test]
fn to_json_exact_text() {
    assert_eq!(
        myhost_ncr().to_json(),
        "{\"change-type\":0,\"forward-change\":true,\"reverse-change\":true,\
         \"fqdn\":\"myhost.example.com.\",\"ip-address\":\"192.0.2.10\",\
         \"dhcid\":\"0002012191B7B21AF97E0E656DF887C5E2DEF30E7758A207EDF4CCB2DE8CA37066021C\",\
         \"lease-expires-on\":\"20240101120000\",\"lease-length\":1200,\
         \"use-conflict-resolution\":true,\"conflict-resolution-mode\":\"check-with-dhcid\"}"
    );
}

/// What Kea 2.2's `NameChangeRequest::fromJSON` demands: every one of these keys, of these
/// types; `use-conflict-resolution`, when present, a boolean. It ignores other keys.
fn kea_2_2_would_accept(text: &str) -> bool {
    let v: Value = serde_json::from_str(text).unwrap();
    let required_ok = v["change-type"].is_i64()
        && v["forward-change"].is_boolean()
        && v["reverse-change"].is_boolean()
        && v["fqdn"].is_string()
        && v["ip-address"].is_string()
        && v["dhcid"].is_string()
        && v["lease-expires-on"]
            .as_str()
            .is_some_and(|s| s.len() == 14)
        && v["lease-length"].is_i64();
    let flag_ok = v
        .get("use-conflict-resolution")
        .is_none_or(Value::is_boolean);
    required_ok && flag_ok
}

/// Kea 3.1.6+: no lease-expires-on needed; conflict-resolution-mode, when present, is read
/// and must be one of the four names.
fn kea_3_would_accept(text: &str) -> bool {
    let v: Value = serde_json::from_str(text).unwrap();
    let mode_ok = v.get("conflict-resolution-mode").is_none_or(|m| {
        m.as_str()
            .is_some_and(|s| s.parse::<ConflictResolutionMode>().is_ok())
    });
    v["change-type"].is_i64()
        && v["forward-change"].is_boolean()
        && v["reverse-change"].is_boolean()
        && v["fqdn"].is_string()
        && v["ip-address"].is_string()
        && v["dhcid"].is_string()
        && v["lease-length"].is_i64()
        && mode_ok
}

#[test]
fn output_suits_kea_2_2_and_3() {
    for mode in ConflictResolutionMode::ALL {
        for expiry in [None, myhost_ncr().lease_expires_on] {
            let ncr = NameChangeRequest {
                conflict_resolution_mode: mode,
                lease_expires_on: expiry,
                ..myhost_ncr()
            };
            let text = ncr.to_json();
            assert!(kea_2_2_would_accept(&text), "{text}");
            assert!(kea_3_would_accept(&text), "{text}");
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["conflict-resolution-mode"], json!(mode.as_str()));
            assert_eq!(
                v["use-conflict-resolution"],
                json!(mode.use_conflict_resolution())
            );
            assert_eq!(NameChangeRequest::from_json(&text).unwrap(), ncr);
        }
    }
    // The checkers can fail: Kea 3.1.6's own text lacks what Kea 2.2 requires.
    assert!(!kea_2_2_would_accept(KEA_3_BASIC));
    assert!(kea_3_would_accept(KEA_3_BASIC));
}

#[test]
fn fqdn_is_escaped_in_json() {
    let ncr = NameChangeRequest {
        fqdn: Fqdn::new(r#"we\"ird\\name.example."#).unwrap(),
        ..myhost_ncr()
    };
    let text = ncr.to_json();
    assert!(
        text.contains(r#""fqdn":"we\\\"ird\\\\name.example.""#),
        "{text}"
    );
    assert_eq!(NameChangeRequest::from_json(&text).unwrap(), ncr);
}

#[test]
fn json_round_trips_ipv6_and_every_mode() {
    for (i, mode) in ConflictResolutionMode::ALL.into_iter().enumerate() {
        let ncr = NameChangeRequest {
            change_type: if i % 2 == 0 {
                ChangeType::Add
            } else {
                ChangeType::Remove
            },
            forward_change: i != 1,
            reverse_change: i != 2,
            ip_address: "2001:db8::1:0:0:10".parse().unwrap(),
            lease_length: u32::MAX - i as u32,
            conflict_resolution_mode: mode,
            ..myhost_ncr()
        };
        let text = ncr.to_json();
        assert!(text.contains("\"ip-address\":\"2001:db8::1:0:0:10\""));
        assert_eq!(NameChangeRequest::from_json(&text).unwrap(), ncr);
    }
}

#[test]
fn zero_expiry_is_no_expiry() {
    let ncr = NameChangeRequest {
        lease_expires_on: None,
        ..myhost_ncr()
    };
    assert!(ncr
        .to_json()
        .contains("\"lease-expires-on\":\"19700101000000\""));
    let parsed =
        NameChangeRequest::from_json(&with("lease-expires-on", json!("19700101000000"))).unwrap();
    assert_eq!(parsed.lease_expires_on, None);
}

// ---- datagrams ----

#[test]
fn datagram_round_trip() {
    let ncr = myhost_ncr();
    let datagram = ncr.to_datagram().unwrap();
    let json = ncr.to_json();
    assert_eq!(&datagram[..2], &(json.len() as u16).to_be_bytes());
    assert_eq!(&datagram[2..], json.as_bytes());
    assert_eq!(NameChangeRequest::from_datagram(&datagram).unwrap(), ncr);
}

#[test]
fn kea_3_datagram_is_read() {
    let mut datagram = (KEA_3_BASIC.len() as u16).to_be_bytes().to_vec();
    datagram.extend_from_slice(KEA_3_BASIC.as_bytes());
    let ncr = NameChangeRequest::from_datagram(&datagram).unwrap();
    assert_eq!(ncr, NameChangeRequest::from_json(KEA_3_BASIC).unwrap());
    let again = NameChangeRequest::from_datagram(&ncr.to_datagram().unwrap()).unwrap();
    assert_eq!(again, ncr);
}

fn frame(declared: usize, body: &[u8]) -> Vec<u8> {
    let mut d = (declared as u16).to_be_bytes().to_vec();
    d.extend_from_slice(body);
    d
}

#[test]
fn datagram_errors() {
    let body = KEA_3_BASIC.as_bytes();
    assert_eq!(
        NameChangeRequest::from_datagram(&[]),
        Err(NcrError::DatagramTooShort(0))
    );
    assert_eq!(
        NameChangeRequest::from_datagram(&[0]),
        Err(NcrError::DatagramTooShort(1))
    );
    assert_eq!(
        NameChangeRequest::from_datagram(&frame(body.len() + 1, body)),
        Err(NcrError::DatagramLength {
            declared: body.len() + 1,
            actual: body.len()
        })
    );
    assert_eq!(
        NameChangeRequest::from_datagram(&frame(body.len() - 1, body))
            .unwrap_err()
            .to_string(),
        format!(
            "ncr datagram: the length prefix says {} octets but {} follow",
            body.len() - 1,
            body.len()
        )
    );
    let mut not_utf8 = body.to_vec();
    not_utf8[10] = 0xff;
    assert_eq!(
        NameChangeRequest::from_datagram(&frame(not_utf8.len(), &not_utf8)),
        Err(NcrError::NotUtf8(10))
    );
    assert_eq!(
        NameChangeRequest::from_datagram(&frame(0, &[])),
        Err(NcrError::MalformedJson(
            "EOF while parsing a value at line 1 column 0".to_owned()
        ))
    );
}

#[test]
fn datagram_size_limit_is_4096_in_all() {
    // Pad the JSON with spaces to exactly 4094 octets: a 4096-octet datagram is read.
    let pad = MAX_DATAGRAM_LEN - 2 - KEA_3_BASIC.len();
    let exact = format!("{KEA_3_BASIC}{}", " ".repeat(pad));
    let datagram = frame(exact.len(), exact.as_bytes());
    assert_eq!(datagram.len(), MAX_DATAGRAM_LEN);
    assert!(NameChangeRequest::from_datagram(&datagram).is_ok());
    // One octet more is refused.
    let over = format!("{exact} ");
    let datagram = frame(over.len(), over.as_bytes());
    assert_eq!(
        NameChangeRequest::from_datagram(&datagram),
        Err(NcrError::DatagramTooLarge(4097))
    );
}

#[test]
fn to_datagram_refuses_what_d2_would() {
    let nowhere = NameChangeRequest {
        forward_change: false,
        reverse_change: false,
        ..myhost_ncr()
    };
    assert_eq!(nowhere.to_datagram(), Err(NcrError::NoDirection));
    assert_eq!(nowhere.validate(), Err(NcrError::NoDirection));

    let huge = NameChangeRequest {
        dhcid: Dhcid::from_rdata(vec![0xab; 2100]).unwrap(),
        ..myhost_ncr()
    };
    let json_len = huge.to_json().len();
    assert_eq!(
        huge.to_datagram(),
        Err(NcrError::DatagramTooLarge(json_len + 2))
    );
}

#[test]
fn mangled_datagrams_never_panic_and_what_parses_round_trips() {
    let good = myhost_ncr().to_datagram().unwrap();
    let mut parsed = 0;
    let mut check = |bytes: &[u8]| {
        if let Ok(ncr) = NameChangeRequest::from_datagram(bytes) {
            parsed += 1;
            let again = NameChangeRequest::from_datagram(&ncr.to_datagram().unwrap()).unwrap();
            assert_eq!(again, ncr);
        }
    };
    for cut in 0..good.len() {
        check(&good[..cut]);
    }
    for i in 0..good.len() {
        for byte in [0x00, b'0', b'1', b'"', b'.', b'f', b'{', 0x7f, 0xc3] {
            let mut bad = good.clone();
            bad[i] = byte;
            check(&bad);
        }
    }
    // Some mutations (a digit in the DHCID or the time) still parse; the check ran.
    assert!(parsed > 10, "only {parsed} mutated datagrams parsed");
}

// ---- Kea's log text ----

#[test]
fn to_text_in_each_kea_style() {
    let ncr = NameChangeRequest {
        reverse_change: false,
        ..myhost_ncr()
    };
    let head = "Type: 0 (CHG_ADD)\n\
                Forward Change: yes\n\
                Reverse Change: no\n\
                FQDN: [myhost.example.com.]\n\
                IP Address: [192.0.2.10]\n\
                DHCID: [0002012191B7B21AF97E0E656DF887C5E2DEF30E7758A207EDF4CCB2DE8CA37066021C]\n";
    assert_eq!(
        ncr.to_text_as(KeaTextStyle::Kea2_2),
        format!(
            "{head}Lease Expires On: 20240101120000\nLease Length: 1200\n\
             Conflict Resolution: yes\n"
        )
    );
    assert_eq!(
        ncr.to_text_as(KeaTextStyle::Kea2_5),
        format!(
            "{head}Lease Expires On: 20240101120000\nLease Length: 1200\n\
             Conflict Resolution Mode: check-with-dhcid\n"
        )
    );
    assert_eq!(
        ncr.to_text_as(KeaTextStyle::Kea3_1_6),
        format!("{head}Lease Length: 1200\nConflict Resolution Mode: check-with-dhcid\n")
    );
    assert_eq!(
        ncr.to_text_as(KeaTextStyle::Kea3_1_8),
        format!("{head}TTL: 1200\nConflict Resolution Mode: check-with-dhcid\n")
    );
    assert_eq!(ncr.to_text(), ncr.to_text_as(KeaTextStyle::Kea3_1_8));
}

#[test]
fn to_text_remove_no_check_and_no_expiry() {
    let ncr = NameChangeRequest {
        change_type: ChangeType::Remove,
        conflict_resolution_mode: ConflictResolutionMode::NoCheckWithoutDhcid,
        lease_expires_on: None,
        ip_address: "2001:db8::10".parse().unwrap(),
        ..myhost_ncr()
    };
    let text = ncr.to_text_as(KeaTextStyle::Kea2_2);
    assert!(text.starts_with("Type: 1 (CHG_REMOVE)\n"), "{text}");
    assert!(text.contains("IP Address: [2001:db8::10]\n"), "{text}");
    assert!(
        text.contains("Lease Expires On: 19700101000000\n"),
        "{text}"
    );
    assert!(text.ends_with("Conflict Resolution: no\n"), "{text}");
    assert!(ncr
        .to_text()
        .ends_with("Conflict Resolution Mode: no-check-without-dhcid\n"));
}
