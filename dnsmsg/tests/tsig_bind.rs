//! TSIG against the real thing: signed RFC 2136 updates to a private BIND 9 `named`.
//!
//! Each test starts its own `named -g` on a free loopback port with every file in a temp
//! directory, one key per algorithm (full and truncated MACs) allowed to update `example.com`.
//! BIND comes from Debian's `bind9` package (`scripts/setup-debian.sh test` installs it);
//! without it these tests fail, they do not skip.

use tern_testkit::bind as common;

use std::time::Duration;

use common::{exchange, key, ZoneSpec};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tern_dnsmsg::tsig::{
    sign_request, unix_now, verify_response, Algorithm, Origin, TsigError, TsigKey, DEFAULT_FUDGE,
};

const ZONE: &str = "example.com.";

/// The shared private `named` with example.com only.
struct Named(common::Named);

impl Named {
    /// Starts named with `keys` allowed to update example.com and waits until it answers.
    fn start(keys: &[TsigKey]) -> Named {
        Named(common::Named::start(
            &[ZoneSpec {
                name: "example.com",
                records: "ns IN A 127.0.0.1\n",
            }],
            keys,
        ))
    }

    /// Sends a signed update and returns the raw answer.
    fn send(&self, wire: &[u8]) -> Vec<u8> {
        exchange(self.0.addr, wire, Duration::from_secs(5)).expect("no answer from named")
    }

    /// The A records `dig` sees at `name`.
    fn dig_a(&self, name: &str) -> Vec<String> {
        self.0.dig(name, "A")
    }
}

/// An UPDATE for example.com adding `host 300 IN A addr` (RFC 2136 §2.5.1, no prerequisites).
fn add_a(id: u16, host: &str, addr: [u8; 4]) -> Vec<u8> {
    let mut msg = Message::new(id, MessageType::Query, OpCode::Update);
    msg.add_query(Query::query(
        Name::from_ascii(ZONE).unwrap(),
        RecordType::SOA,
    ));
    msg.add_authority(Record::from_rdata(
        Name::from_ascii(host).unwrap(),
        300,
        RData::A(A::new(addr[0], addr[1], addr[2], addr[3])),
    ));
    msg.to_vec().unwrap()
}

/// The key per algorithm, full and truncated to the least Kea allows.
fn all_keys() -> Vec<TsigKey> {
    let mut keys = Vec::new();
    for (i, algorithm) in Algorithm::ALL.into_iter().enumerate() {
        let alg = algorithm.kea_name().to_ascii_lowercase();
        let bits = (algorithm.min_mac_len() * 8) as u16;
        keys.push(key(&format!("{alg}.tern.test."), algorithm, 0, i as u8));
        keys.push(key(
            &format!("{alg}-{bits}.tern.test."),
            algorithm,
            bits,
            100 + i as u8,
        ));
    }
    keys
}

#[test]
fn bind_accepts_signed_updates_for_every_algorithm_and_truncation() {
    let keys = all_keys();
    let named = Named::start(&keys);
    for (i, key) in keys.iter().enumerate() {
        let host = format!("h{i}.example.com.");
        let addr = [192, 0, 2, 10 + i as u8];
        let request = sign_request(
            &add_a(100 + i as u16, &host, addr),
            key,
            unix_now(),
            DEFAULT_FUDGE,
        )
        .unwrap();
        assert_eq!(request.mac.len(), key.mac_len());
        let answer = named.send(&request.wire);
        let verified = verify_response(&answer, key, &request.mac, unix_now())
            .unwrap_or_else(|e| panic!("{} ({} bits): {e}", key.algorithm, key.digest_bits));
        assert_eq!(verified.rcode(), ResponseCode::NoError, "{key:?}");
        assert_eq!(verified.message.metadata.id, 100 + i as u16);
        // BIND truncates its answer's MAC as the key says.
        assert_eq!(verified.mac.len(), key.mac_len(), "{key:?}");
        assert_eq!(
            named.dig_a(&host),
            [format!("192.0.2.{}", 10 + i)],
            "{key:?}"
        );
    }
}

#[test]
fn bind_rejects_a_wrong_secret_with_badsig() {
    let good = key("sha256.tern.test.", Algorithm::HmacSha256, 0, 1);
    let named = Named::start(std::slice::from_ref(&good));
    let mut wrong = good.clone();
    wrong.secret[0] ^= 0xff;
    let request = sign_request(
        &add_a(7, "badsig.example.com.", [192, 0, 2, 99]),
        &wrong,
        unix_now(),
        DEFAULT_FUDGE,
    )
    .unwrap();
    let answer = named.send(&request.wire);
    assert_eq!(
        verify_response(&answer, &wrong, &request.mac, unix_now()).unwrap_err(),
        TsigError::BadSig {
            origin: Origin::Peer,
            rcode: ResponseCode::NotAuth
        }
    );
    assert!(named.dig_a("badsig.example.com.").is_empty());
}

#[test]
fn bind_rejects_an_unknown_key_with_badkey() {
    let known = key("sha256.tern.test.", Algorithm::HmacSha256, 0, 1);
    let named = Named::start(std::slice::from_ref(&known));
    let unknown = key("nobody.tern.test.", Algorithm::HmacSha256, 0, 1);
    let request = sign_request(
        &add_a(8, "badkey.example.com.", [192, 0, 2, 98]),
        &unknown,
        unix_now(),
        DEFAULT_FUDGE,
    )
    .unwrap();
    let answer = named.send(&request.wire);
    assert_eq!(
        verify_response(&answer, &unknown, &request.mac, unix_now()).unwrap_err(),
        TsigError::BadKey {
            origin: Origin::Peer,
            rcode: ResponseCode::NotAuth
        }
    );
    assert!(named.dig_a("badkey.example.com.").is_empty());
}

#[test]
fn bind_answers_a_stale_time_with_a_signed_badtime() {
    let key = key("sha512.tern.test.", Algorithm::HmacSha512, 0, 3);
    let named = Named::start(std::slice::from_ref(&key));
    let stale = unix_now() - 3600;
    let request = sign_request(
        &add_a(9, "badtime.example.com.", [192, 0, 2, 97]),
        &key,
        stale,
        DEFAULT_FUDGE,
    )
    .unwrap();
    let answer = named.send(&request.wire);
    let now = unix_now();
    match verify_response(&answer, &key, &request.mac, now).unwrap_err() {
        TsigError::BadTime {
            origin: Origin::Peer,
            rcode: ResponseCode::NotAuth,
            time_signed,
            fudge: DEFAULT_FUDGE,
            peer_time: Some(peer_time),
            ..
        } => {
            assert_eq!(time_signed, stale, "BIND echoes our Time Signed");
            assert!(
                peer_time.abs_diff(now) <= 5,
                "BIND's clock {peer_time}, ours {now}"
            );
        }
        other => panic!("expected a verified BADTIME from BIND, got {other}"),
    }
    assert!(named.dig_a("badtime.example.com.").is_empty());
}

#[test]
fn bind_answers_an_overtruncated_mac_with_badtrunc() {
    // BIND's key wants the full MAC; we send 128 bits of it.
    let full = key("sha256.tern.test.", Algorithm::HmacSha256, 0, 4);
    let named = Named::start(std::slice::from_ref(&full));
    let mut truncating = full.clone();
    truncating.digest_bits = 128;
    let request = sign_request(
        &add_a(10, "badtrunc.example.com.", [192, 0, 2, 96]),
        &truncating,
        unix_now(),
        DEFAULT_FUDGE,
    )
    .unwrap();
    assert_eq!(request.mac.len(), 16);
    let answer = named.send(&request.wire);
    assert_eq!(
        verify_response(&answer, &truncating, &request.mac, unix_now()).unwrap_err(),
        TsigError::BadTrunc {
            origin: Origin::Peer,
            rcode: ResponseCode::NotAuth,
            mac_len: 16
        }
    );
    assert!(named.dig_a("badtrunc.example.com.").is_empty());
}
