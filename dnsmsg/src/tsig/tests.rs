//! Golden values come from dnspython 2.3 (`dns.tsig.sign`) over the same bytes, with the
//! HMAC-SHA256 request MAC also recomputed with Python's `hmac` module by hand.

use super::*;
use hickory_proto::op::{MessageType, OpCode, Query};
use hickory_proto::rr::rdata::A;

const T: u64 = 1_700_000_000;
const KEY_NAME: &str = "tsig-key.example.";

/// UPDATE example.com: add host.example.com 300 A 192.0.2.10, ID 0x1234.
const REQUEST_HEX: &str = "123428000001000000010000076578616d706c6503636f6d000006000104686f7374\
                           c00c000100010000012c0004c000020a";
/// Its NOERROR answer, zone section echoed.
const RESPONSE_HEX: &str = "1234a8000001000000000000076578616d706c6503636f6d0000060001";

/// (algorithm, request MAC at T, response MAC at T+1 over that request MAC).
const GOLDEN: [(Algorithm, &str, &str); 6] = [
    (
        Algorithm::HmacMd5,
        "78eefd3207099a6f65c3bf1195f7cd58",
        "f48e91447f80060f943360ac10e2333b",
    ),
    (
        Algorithm::HmacSha1,
        "41be9858d0e0368ade231475166e548dd3709fa2",
        "c4c8b79e762dddaeae7059d626e44483a99785e9",
    ),
    (
        Algorithm::HmacSha224,
        "df68497d3d6fad1540700ae535d6c0cfd499b65afed257bb2a4eacbf",
        "9775cbb3bab800d123e54d0f4e07d97a4548ef2867fd20d1d4329a4d",
    ),
    (
        Algorithm::HmacSha256,
        "9529576d5bf8bafaf94bc17b768795cea9c0f788af0391cf2e38dd6ca2dbd7f0",
        "9dd4b5cb055c4e023054a5e2d03831e02e3cc6917d46fec74da5849b82d61f7e",
    ),
    (
        Algorithm::HmacSha384,
        "6ad0ac6c075144a0604c89921091d6916f9c72c696a68f5555b4c2a9212eb0f5\
         95755e4be70b200b630cee4cb12774ee",
        "d5abd06b06851a4b8baa964656acb2781fa126952638d5ca448b1b8463e9f7e4\
         fd8f071fcc85b433e5573cd49a13652c",
    ),
    (
        Algorithm::HmacSha512,
        "1b2829989cb089b687f4da4759062836ea13d2b199d3a56acb4dce3da9013d47\
         003edec9393c2ba45cab10eb4f300b2c6452b90399dde54869e27881e2b10fa9",
        "fef2373396e974920e9a38abc9154ac29d3015469891a742aa02c41c3492a966\
         f74f0bd18c16000326f0269e25d979e986e64b5fbe34eb9c0e1b8afa0d5d726e",
    ),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn key(algorithm: Algorithm, digest_bits: u16) -> TsigKey {
    TsigKey::new(
        Name::from_ascii(KEY_NAME).unwrap(),
        algorithm,
        (1..=32).collect(),
        digest_bits,
    )
    .unwrap()
}

/// The least truncation Kea accepts for the algorithm.
fn min_bits(algorithm: Algorithm) -> u16 {
    (algorithm.min_mac_len() * 8) as u16
}

fn request() -> Vec<u8> {
    unhex(REQUEST_HEX)
}

fn response() -> Vec<u8> {
    unhex(RESPONSE_HEX)
}

fn response_with_rcode(rcode: u8) -> Vec<u8> {
    let mut r = response();
    r[3] = (r[3] & 0xf0) | rcode;
    r
}

const NOTAUTH: ResponseCode = ResponseCode::NotAuth;

#[test]
fn golden_messages_are_what_hickory_builds() {
    let mut msg = Message::new(0x1234, MessageType::Query, OpCode::Update);
    msg.add_query(Query::query(
        Name::from_ascii("example.com.").unwrap(),
        RecordType::SOA,
    ));
    msg.add_authority(Record::from_rdata(
        Name::from_ascii("host.example.com.").unwrap(),
        300,
        RData::A(A::new(192, 0, 2, 10)),
    ));
    assert_eq!(hex(&msg.to_vec().unwrap()), REQUEST_HEX);

    let mut msg = Message::new(0x1234, MessageType::Response, OpCode::Update);
    msg.add_query(Query::query(
        Name::from_ascii("example.com.").unwrap(),
        RecordType::SOA,
    ));
    assert_eq!(hex(&msg.to_vec().unwrap()), RESPONSE_HEX);
}

#[test]
fn request_mac_matches_dnspython_for_every_algorithm() {
    for (algorithm, request_mac, _) in GOLDEN {
        let signed = sign_request(&request(), &key(algorithm, 0), T, DEFAULT_FUDGE).unwrap();
        assert_eq!(hex(&signed.mac), request_mac, "{algorithm}");
        assert_eq!(signed.mac.len(), algorithm.output_len());
    }
}

#[test]
fn signed_request_wire_matches_dnspython() {
    // Whole record layout: owner, type, class ANY, TTL 0, RDATA with a lower-case algorithm
    // name (also for HMAC-MD5), MAC size, MAC, original ID, error, other len; ARCOUNT 1.
    let md5 = "123428000001000000010001076578616d706c6503636f6d000006000104686f7374c00c00010001\
               0000012c0004c000020a08747369672d6b6579076578616d706c650000fa00ff00000000003a0868\
               6d61632d6d6435077369672d616c670372656703696e740000006553f100012c001078eefd320709\
               9a6f65c3bf1195f7cd58123400000000";
    let sha256 = "123428000001000000010001076578616d706c6503636f6d000006000104686f7374c00c00010001\
                  0000012c0004c000020a08747369672d6b6579076578616d706c650000fa00ff00000000003d0b68\
                  6d61632d7368613235360000006553f100012c00209529576d5bf8bafaf94bc17b768795cea9c0f7\
                  88af0391cf2e38dd6ca2dbd7f0123400000000";
    for (algorithm, golden) in [(Algorithm::HmacMd5, md5), (Algorithm::HmacSha256, sha256)] {
        let signed = sign_request(&request(), &key(algorithm, 0), T, DEFAULT_FUDGE).unwrap();
        assert_eq!(hex(&signed.wire), golden, "{algorithm}");
    }
}

#[test]
fn key_name_is_lowercased_for_the_mac() {
    let mut mixed = key(Algorithm::HmacSha256, 0);
    mixed.name = Name::from_ascii("TSIG-Key.Example.").unwrap();
    let signed = sign_request(&request(), &mixed, T, DEFAULT_FUDGE).unwrap();
    assert_eq!(hex(&signed.mac), GOLDEN[3].1);
}

#[test]
fn truncated_mac_is_the_leading_bytes() {
    for (algorithm, request_mac, _) in GOLDEN {
        let bits = min_bits(algorithm);
        let k = key(algorithm, bits);
        let signed = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap();
        let len = usize::from(bits / 8);
        assert_eq!(hex(&signed.mac), request_mac[..2 * len], "{algorithm}");
        // MAC Size in the record says the same: it sits before MAC, Original ID, Error, Other Len.
        let w = &signed.wire;
        let mac_size_at = w.len() - 6 - len - 2;
        assert_eq!(
            usize::from(u16::from_be_bytes([w[mac_size_at], w[mac_size_at + 1]])),
            len
        );
        // The server side accepts it with the same policy.
        verify_request(w, std::slice::from_ref(&k), T).unwrap();
    }
}

#[test]
fn response_mac_matches_dnspython() {
    for (algorithm, request_mac, response_mac) in GOLDEN {
        let k = key(algorithm, 0);
        let signed = sign_response(
            &response(),
            &k,
            &unhex(request_mac),
            T + 1,
            DEFAULT_FUDGE,
            0,
            &[],
        )
        .unwrap();
        assert_eq!(hex(&signed.mac), response_mac, "{algorithm}");
        let verified = verify_response(&signed.wire, &k, &unhex(request_mac), T + 1).unwrap();
        assert_eq!(verified.rcode(), ResponseCode::NoError);
        assert_eq!(verified.time_signed, T + 1);
        assert_eq!(verified.mac, unhex(response_mac));
        assert_eq!(verified.message.queries.len(), 1);
        assert!(verified.message.additionals.is_empty());
    }
}

#[test]
fn response_to_truncated_request_covers_the_truncated_mac() {
    // RFC 8945 §5.2.2.1: the request MAC in the response's digest is the one sent.
    let k = key(Algorithm::HmacSha256, 128);
    let request = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap();
    assert_eq!(request.mac.len(), 16);
    let full = key(Algorithm::HmacSha256, 0);
    let signed = sign_response(
        &response(),
        &full,
        &request.mac,
        T + 1,
        DEFAULT_FUDGE,
        0,
        &[],
    )
    .unwrap();
    assert_eq!(
        hex(&signed.mac),
        "012ec572d17565d833b4898071c8835facaffe1c10e7c66330d8261c4a856dd5"
    );
}

#[test]
fn round_trip_every_algorithm_full_and_truncated() {
    for algorithm in Algorithm::ALL {
        for bits in [0, min_bits(algorithm)] {
            let k = key(algorithm, bits);
            // The server picks the key by name among several.
            let mut decoy = key(Algorithm::HmacSha1, 0);
            decoy.name = Name::from_ascii("other.example.").unwrap();
            let keys = [decoy, k.clone()];

            let req = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap();
            let verified = verify_request(&req.wire, &keys, T + 10).unwrap();
            assert_eq!(verified.key, &k);
            assert_eq!(verified.mac, req.mac);
            assert_eq!(verified.original_id, 0x1234);
            assert_eq!(verified.time_signed, T);
            assert_eq!(verified.unsigned_len, request().len());

            let resp = sign_response(
                &response(),
                &k,
                &verified.mac,
                T + 11,
                DEFAULT_FUDGE,
                0,
                &[],
            )
            .unwrap();
            let answer = verify_response(&resp.wire, &k, &req.mac, T + 12).unwrap();
            assert_eq!(answer.message.metadata.id, 0x1234);
            assert_eq!(answer.message.metadata.message_type, MessageType::Response);
        }
    }
}

#[test]
fn original_id_is_restored_before_verifying() {
    // A forwarder may change the ID; the MAC covers the original one (RFC 8945 §4.3.1).
    let k = key(Algorithm::HmacSha256, 0);
    let mut req = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap().wire;
    req[0..2].copy_from_slice(&0xbeefu16.to_be_bytes());
    let verified = verify_request(&req, std::slice::from_ref(&k), T).unwrap();
    assert_eq!(verified.original_id, 0x1234);
}

#[test]
fn any_corrupt_byte_fails_and_a_data_byte_is_badsig() {
    let k = key(Algorithm::HmacSha256, 0);
    let keys = [k.clone()];
    let signed = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap().wire;
    // ID bytes are replaced by Original ID before the MAC check, so they may change freely.
    for i in 2..signed.len() {
        let mut bad = signed.clone();
        bad[i] ^= 0x01;
        assert!(
            verify_request(&bad, &keys, T).is_err(),
            "byte {i} flipped but verified"
        );
    }
    // The last byte of the A record's address.
    let mut bad = signed.clone();
    bad[request().len() - 1] ^= 0x01;
    assert_eq!(
        verify_request(&bad, &keys, T).unwrap_err(),
        TsigError::BadSig {
            origin: Origin::Local,
            rcode: ResponseCode::NoError
        }
    );

    let req_mac = unhex(GOLDEN[3].1);
    let resp = sign_response(&response(), &k, &req_mac, T, DEFAULT_FUDGE, 0, &[]).unwrap();
    for i in 2..resp.wire.len() {
        let mut bad = resp.wire.clone();
        bad[i] ^= 0x80;
        assert!(
            verify_response(&bad, &k, &req_mac, T).is_err(),
            "byte {i} flipped but verified"
        );
    }
    // A response to another request (other request MAC) fails too.
    let mut other_mac = req_mac.clone();
    other_mac[0] ^= 1;
    assert!(matches!(
        verify_response(&resp.wire, &k, &other_mac, T),
        Err(TsigError::BadSig {
            origin: Origin::Local,
            ..
        })
    ));
}

#[test]
fn wrong_key_name_is_badkey() {
    let k = key(Algorithm::HmacSha256, 0);
    let mut other = k.clone();
    other.name = Name::from_ascii("other-key.example.").unwrap();

    let req = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap();
    assert_eq!(
        verify_request(&req.wire, std::slice::from_ref(&other), T).unwrap_err(),
        TsigError::BadKey {
            origin: Origin::Local,
            rcode: ResponseCode::NoError
        }
    );
    // A response signed with another key's name.
    let resp = sign_response(&response(), &other, &req.mac, T, DEFAULT_FUDGE, 0, &[]).unwrap();
    assert_eq!(
        verify_response(&resp.wire, &k, &req.mac, T).unwrap_err(),
        TsigError::BadKey {
            origin: Origin::Local,
            rcode: ResponseCode::NoError
        }
    );
    // Key names compare without regard to case.
    let mut upper = k.clone();
    upper.name = Name::from_ascii("TSIG-KEY.EXAMPLE.").unwrap();
    verify_request(&req.wire, std::slice::from_ref(&upper), T).unwrap();
}

#[test]
fn other_algorithm_is_a_mismatch() {
    let k = key(Algorithm::HmacSha256, 0);
    let req = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap();
    let mut sha1 = k.clone();
    sha1.algorithm = Algorithm::HmacSha1;
    let err = verify_request(&req.wire, std::slice::from_ref(&sha1), T).unwrap_err();
    assert_eq!(
        err,
        TsigError::AlgorithmMismatch {
            expected: Algorithm::HmacSha1,
            found: Name::from_ascii("hmac-sha256").unwrap(),
            rcode: ResponseCode::NoError
        }
    );
    let resp = sign_response(&response(), &k, &req.mac, T, DEFAULT_FUDGE, 0, &[]).unwrap();
    assert!(matches!(
        verify_response(&resp.wire, &sha1, &req.mac, T),
        Err(TsigError::AlgorithmMismatch {
            expected: Algorithm::HmacSha1,
            ..
        })
    ));
}

#[test]
fn time_outside_fudge_is_badtime() {
    let k = key(Algorithm::HmacSha256, 0);
    let keys = [k.clone()];
    let req = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap();
    verify_request(&req.wire, &keys, T + 300).unwrap();
    verify_request(&req.wire, &keys, T - 300).unwrap();
    for now in [T + 301, T - 301, T + 3600] {
        assert_eq!(
            verify_request(&req.wire, &keys, now).unwrap_err(),
            TsigError::BadTime {
                origin: Origin::Local,
                rcode: ResponseCode::NoError,
                time_signed: T,
                fudge: 300,
                now,
                peer_time: None
            }
        );
    }
    let resp = sign_response(&response(), &k, &req.mac, T, 10, 0, &[]).unwrap();
    verify_response(&resp.wire, &k, &req.mac, T + 10).unwrap();
    assert!(matches!(
        verify_response(&resp.wire, &k, &req.mac, T + 11),
        Err(TsigError::BadTime {
            origin: Origin::Local,
            fudge: 10,
            ..
        })
    ));
}

#[test]
fn unsigned_answer_is_reported_with_its_rcode() {
    let k = key(Algorithm::HmacSha256, 0);
    let mac = unhex(GOLDEN[3].1);
    assert_eq!(
        verify_response(&response_with_rcode(9), &k, &mac, T).unwrap_err(),
        TsigError::Unsigned { rcode: NOTAUTH }
    );
    assert_eq!(
        verify_response(&response(), &k, &mac, T).unwrap_err(),
        TsigError::Unsigned {
            rcode: ResponseCode::NoError
        }
    );
    assert_eq!(
        verify_request(&request(), std::slice::from_ref(&k), T).unwrap_err(),
        TsigError::Unsigned {
            rcode: ResponseCode::NoError
        }
    );
}

#[test]
fn server_badsig_and_badkey_come_back_unsigned() {
    let k = key(Algorithm::HmacSha256, 0);
    let mac = unhex(GOLDEN[3].1);
    for (error, expected) in [
        (
            code::BADSIG,
            TsigError::BadSig {
                origin: Origin::Peer,
                rcode: NOTAUTH,
            },
        ),
        (
            code::BADKEY,
            TsigError::BadKey {
                origin: Origin::Peer,
                rcode: NOTAUTH,
            },
        ),
    ] {
        let resp = sign_response(
            &response_with_rcode(9),
            &k,
            &mac,
            T,
            DEFAULT_FUDGE,
            error,
            &[],
        )
        .unwrap();
        assert!(resp.mac.is_empty(), "RFC 8945 §5.3.2: no MAC on {error}");
        assert_eq!(
            verify_response(&resp.wire, &k, &mac, T).unwrap_err(),
            expected
        );
    }
    // BADTIME must be signed (RFC 8945 §5.2.3): without a MAC it is not the server's word.
    let vars = Variables {
        time_signed: T,
        fudge: DEFAULT_FUDGE,
        error: code::BADTIME,
        other: &[],
    };
    let unsigned_badtime = append_tsig(&response_with_rcode(9), &k, &vars, Vec::new(), 0x1234)
        .unwrap()
        .wire;
    assert_eq!(
        verify_response(&unsigned_badtime, &k, &mac, T).unwrap_err(),
        TsigError::BadSig {
            origin: Origin::Local,
            rcode: NOTAUTH
        }
    );
    // An empty MAC that claims no error proves nothing.
    let mut bogus = sign_response(&response(), &k, &mac, T, DEFAULT_FUDGE, code::BADSIG, &[])
        .unwrap()
        .wire;
    let len = bogus.len();
    bogus[len - 4..len - 2].copy_from_slice(&0u16.to_be_bytes()); // Error field
    assert_eq!(
        verify_response(&bogus, &k, &mac, T).unwrap_err(),
        TsigError::BadSig {
            origin: Origin::Local,
            rcode: ResponseCode::NoError
        }
    );
}

#[test]
fn server_badtime_is_signed_and_verified() {
    // RFC 8945 §5.2.3: the request's Time Signed and Fudge, the server's clock in Other Data.
    let k = key(Algorithm::HmacSha256, 0);
    let mac = unhex(GOLDEN[3].1);
    let server_now = T + 3600;
    let other = [
        &0u16.to_be_bytes()[..],
        &(server_now as u32).to_be_bytes()[..],
    ]
    .concat();
    let resp = sign_response(
        &response_with_rcode(9),
        &k,
        &mac,
        T,
        DEFAULT_FUDGE,
        code::BADTIME,
        &other,
    )
    .unwrap();
    // Same bytes dnspython signs (its response has rcode NOERROR, so compare against that).
    let golden = sign_response(
        &response(),
        &k,
        &mac,
        T,
        DEFAULT_FUDGE,
        code::BADTIME,
        &other,
    )
    .unwrap();
    assert_eq!(
        hex(&golden.mac),
        "3d3ab244289d94d940a3657f3bce7449f59d0ab4f161f2f436adead01d542c9a"
    );
    // Verified even though our clock is far from the echoed Time Signed.
    assert_eq!(
        verify_response(&resp.wire, &k, &mac, server_now).unwrap_err(),
        TsigError::BadTime {
            origin: Origin::Peer,
            rcode: NOTAUTH,
            time_signed: T,
            fudge: DEFAULT_FUDGE,
            now: server_now,
            peer_time: Some(server_now)
        }
    );
    // A forged BADTIME (bad MAC) is a local BADSIG, not the server's word.
    let mut forged = resp.wire.clone();
    let at = forged.len() - 6 - 6 - 1; // a MAC byte
    forged[at] ^= 1;
    assert_eq!(
        verify_response(&forged, &k, &mac, server_now).unwrap_err(),
        TsigError::BadSig {
            origin: Origin::Local,
            rcode: NOTAUTH
        }
    );
}

#[test]
fn server_badtrunc_and_other_errors() {
    let k = key(Algorithm::HmacSha256, 0);
    let mac = unhex(GOLDEN[3].1);
    let resp = sign_response(
        &response_with_rcode(9),
        &k,
        &mac[..16],
        T,
        DEFAULT_FUDGE,
        code::BADTRUNC,
        &[],
    )
    .unwrap();
    assert_eq!(
        verify_response(&resp.wire, &k, &mac[..16], T).unwrap_err(),
        TsigError::BadTrunc {
            origin: Origin::Peer,
            rcode: NOTAUTH,
            mac_len: 16
        }
    );
    let resp = sign_response(&response_with_rcode(9), &k, &mac, T, DEFAULT_FUDGE, 21, &[]).unwrap();
    assert_eq!(
        verify_response(&resp.wire, &k, &mac, T).unwrap_err(),
        TsigError::PeerError {
            code: 21,
            rcode: NOTAUTH
        }
    );
}

/// A response signed with `mac` put in the record as is.
fn response_with_mac(k: &TsigKey, mac: Vec<u8>) -> Vec<u8> {
    let vars = Variables {
        time_signed: T,
        fudge: DEFAULT_FUDGE,
        error: 0,
        other: &[],
    };
    append_tsig(&response(), k, &vars, mac, 0x1234)
        .unwrap()
        .wire
}

#[test]
fn mac_length_rules() {
    let full = key(Algorithm::HmacSha256, 0);
    let truncating = key(Algorithm::HmacSha256, 128);
    let req_mac = unhex(GOLDEN[3].1);
    let good = sign_response(&response(), &full, &req_mac, T, DEFAULT_FUDGE, 0, &[]).unwrap();

    // A truncated MAC that verifies but is shorter than the key's policy: BADTRUNC (§5.2.4).
    let short = response_with_mac(&full, good.mac[..16].to_vec());
    assert_eq!(
        verify_response(&short, &full, &req_mac, T).unwrap_err(),
        TsigError::BadTrunc {
            origin: Origin::Local,
            rcode: ResponseCode::NoError,
            mac_len: 16
        }
    );
    // The truncating key accepts it, and the full MAC as well.
    verify_response(&short, &truncating, &req_mac, T).unwrap();
    verify_response(&good.wire, &truncating, &req_mac, T).unwrap();

    // Below the RFC floor (16 bytes for SHA-256) or above the hash: FORMERR (§5.2.2.1).
    let too_short = response_with_mac(&full, good.mac[..15].to_vec());
    assert_eq!(
        verify_response(&too_short, &truncating, &req_mac, T).unwrap_err(),
        TsigError::Malformed(Malformed::MacTooShort {
            algorithm: Algorithm::HmacSha256,
            len: 15,
            min: 16
        })
    );
    let too_long = response_with_mac(&full, [good.mac.clone(), vec![0]].concat());
    assert_eq!(
        verify_response(&too_long, &full, &req_mac, T).unwrap_err(),
        TsigError::Malformed(Malformed::MacTooLong {
            algorithm: Algorithm::HmacSha256,
            len: 33,
            max: 32
        })
    );
    // MD5's floor is 10 bytes, not half its 16.
    assert_eq!(Algorithm::HmacMd5.min_mac_len(), 10);
    assert_eq!(Algorithm::HmacSha1.min_mac_len(), 10);
    assert_eq!(Algorithm::HmacSha512.min_mac_len(), 32);
}

#[test]
fn digest_bits_follow_kea() {
    // What Kea 2.2's kea-dhcp-ddns -t accepts and rejects.
    let name = Name::from_ascii(KEY_NAME).unwrap();
    let new = |a, bits| TsigKey::new(name.clone(), a, vec![1; 16], bits);
    for (algorithm, ok, too_small) in [
        (Algorithm::HmacMd5, [0, 80, 128], [72, 8]),
        (Algorithm::HmacSha1, [0, 80, 160], [72, 64]),
        (Algorithm::HmacSha224, [0, 112, 224], [104, 80]),
        (Algorithm::HmacSha256, [0, 128, 256], [120, 80]),
        (Algorithm::HmacSha384, [0, 192, 384], [184, 128]),
        (Algorithm::HmacSha512, [0, 256, 512], [248, 128]),
    ] {
        for bits in ok {
            let k = new(algorithm, bits).unwrap();
            let expected = if bits == 0 {
                algorithm.output_len()
            } else {
                usize::from(bits / 8)
            };
            assert_eq!(k.mac_len(), expected, "{algorithm} {bits}");
        }
        for bits in too_small {
            assert!(
                matches!(
                    new(algorithm, bits),
                    Err(KeyError::DigestBitsTooSmall { .. })
                ),
                "{algorithm} {bits}"
            );
        }
    }
    assert_eq!(
        new(Algorithm::HmacSha256, 129).unwrap_err(),
        KeyError::DigestBitsNotMultipleOf8(129)
    );
    // Kea takes a value above the hash length and then sends the whole MAC.
    assert_eq!(new(Algorithm::HmacSha256, 264).unwrap().mac_len(), 32);
    // Fields set by hand outside the rules fall back to the full MAC, as Kea does.
    let mut k = new(Algorithm::HmacSha256, 0).unwrap();
    k.digest_bits = 8;
    assert_eq!(k.mac_len(), 32);
    // A relative key name is made absolute.
    let k = TsigKey::new(
        Name::from_ascii("key.example").unwrap(),
        Algorithm::HmacSha1,
        vec![],
        0,
    )
    .unwrap();
    assert!(k.name.is_fqdn());
}

#[test]
fn algorithm_names() {
    assert_eq!(
        Algorithm::from_kea_name("HMAC-SHA256"),
        Ok(Algorithm::HmacSha256)
    );
    assert_eq!(Algorithm::from_kea_name("hmac-md5"), Ok(Algorithm::HmacMd5));
    assert_eq!(
        Algorithm::from_kea_name("Hmac-Sha512"),
        Ok(Algorithm::HmacSha512)
    );
    assert_eq!(
        Algorithm::from_kea_name("HMAC-SHA256-128"),
        Err(KeyError::UnknownAlgorithm("HMAC-SHA256-128".into()))
    );
    for a in Algorithm::ALL {
        assert_eq!(Algorithm::from_kea_name(a.kea_name()), Ok(a));
        assert_eq!(Algorithm::from_wire_name(&a.wire_name()), Some(a));
        assert_eq!(a.wire_name().to_ascii(), a.wire_name_str());
    }
    assert_eq!(
        Algorithm::from_wire_name(&Name::from_ascii("HMAC-MD5.SIG-ALG.REG.INT").unwrap()),
        Some(Algorithm::HmacMd5)
    );
    assert_eq!(
        Algorithm::from_wire_name(&Name::from_ascii("gss-tsig.").unwrap()),
        None
    );
}

#[test]
fn debug_does_not_print_the_secret() {
    let mut k = key(Algorithm::HmacSha256, 0);
    k.secret = b"very-secret-bytes".to_vec();
    let shown = format!("{k:?}");
    assert!(!shown.contains("very"), "{shown}");
    assert!(shown.contains("<17 bytes>"), "{shown}");
}

#[test]
fn misplaced_tsig_and_trailing_bytes_are_malformed() {
    let k = key(Algorithm::HmacSha256, 0);
    let keys = [k.clone()];
    let signed = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap().wire;

    // A record after the TSIG record (RFC 8945 §5.2).
    let mut after = signed.clone();
    after[11] += 1;
    after.extend_from_slice(&unhex("0000010001000000000004c0000201"));
    assert_eq!(
        verify_request(&after, &keys, T).unwrap_err(),
        TsigError::Malformed(Malformed::MisplacedTsig)
    );
    // The TSIG record counted in the authority section instead.
    let mut in_authority = signed.clone();
    in_authority[9] += 1;
    in_authority[11] -= 1;
    assert_eq!(
        verify_request(&in_authority, &keys, T).unwrap_err(),
        TsigError::Malformed(Malformed::MisplacedTsig)
    );
    // Bytes the MAC does not cover.
    let mut trailing = signed.clone();
    trailing.push(0);
    assert_eq!(
        verify_request(&trailing, &keys, T).unwrap_err(),
        TsigError::Malformed(Malformed::TrailingBytes(1))
    );
    // Class other than ANY.
    let mut class = signed.clone();
    let class_at = request().len() + KEY_NAME.len() + 1 + 2;
    class[class_at..class_at + 2].copy_from_slice(&1u16.to_be_bytes());
    assert_eq!(
        verify_request(&class, &keys, T).unwrap_err(),
        TsigError::Malformed(Malformed::TsigClassOrTtl { class: 1, ttl: 0 })
    );
}

#[test]
fn signing_checks_its_input() {
    let k = key(Algorithm::HmacSha256, 0);
    assert_eq!(
        sign_request(&[0; 11], &k, T, DEFAULT_FUDGE).unwrap_err(),
        TsigError::Malformed(Malformed::ShortHeader(11))
    );
    assert_eq!(
        sign_request(&request(), &k, 1 << 48, DEFAULT_FUDGE).unwrap_err(),
        TsigError::TimeOutOfRange(1 << 48)
    );
    let mut full = request();
    full[10..12].copy_from_slice(&u16::MAX.to_be_bytes());
    assert_eq!(
        sign_request(&full, &k, T, DEFAULT_FUDGE).unwrap_err(),
        TsigError::Malformed(Malformed::ArcountFull)
    );
    // The largest 48-bit time is fine and round-trips.
    let max = (1 << 48) - 1;
    let signed = sign_request(&request(), &k, max, DEFAULT_FUDGE).unwrap();
    assert_eq!(
        verify_request(&signed.wire, std::slice::from_ref(&k), max)
            .unwrap()
            .time_signed,
        max
    );
}

#[test]
fn every_truncated_prefix_is_an_error() {
    let k = key(Algorithm::HmacSha256, 0);
    let req_mac = unhex(GOLDEN[3].1);
    let resp = sign_response(&response(), &k, &req_mac, T, DEFAULT_FUDGE, 0, &[])
        .unwrap()
        .wire;
    verify_response(&resp, &k, &req_mac, T).unwrap();
    for len in 0..resp.len() {
        let result = verify_response(&resp[..len], &k, &req_mac, T);
        assert!(result.is_err(), "prefix of {len} bytes verified");
    }
    let req = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap().wire;
    for len in 0..req.len() {
        assert!(verify_request(&req[..len], std::slice::from_ref(&k), T).is_err());
    }
}

#[test]
fn random_mutations_never_panic() {
    // A small deterministic fuzz run for every test run; dnsmsg/fuzz does the real thing.
    let k = key(Algorithm::HmacSha256, 0);
    let keys = [k.clone()];
    let req_mac = unhex(GOLDEN[3].1);
    let seeds = [
        sign_response(&response(), &k, &req_mac, T, DEFAULT_FUDGE, 0, &[])
            .unwrap()
            .wire,
        sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap().wire,
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..20_000 {
        let mut msg = seeds[round % 2].clone();
        for _ in 0..=(next() % 4) {
            let at = (next() as usize) % msg.len().max(1);
            match next() % 4 {
                0 if !msg.is_empty() => msg[at] = next() as u8,
                1 => msg.insert(at.min(msg.len()), next() as u8),
                2 if !msg.is_empty() => {
                    msg.remove(at);
                }
                _ => msg.truncate(at),
            }
        }
        let _ = verify_response(&msg, &k, &req_mac, T);
        let _ = verify_request(&msg, &keys, T);
    }
}

#[test]
fn errors_read_well() {
    let e = TsigError::BadTime {
        origin: Origin::Peer,
        rcode: NOTAUTH,
        time_signed: T,
        fudge: 300,
        now: T + 5,
        peer_time: Some(T + 3600),
    };
    assert_eq!(
        e.to_string(),
        "peer reports BADTIME: time signed 1700000000 ± 300 s, local clock 1700000005, \
         peer clock 1700003600 (RCODE NOTAUTH)"
    );
    assert_eq!(
        TsigError::Unsigned { rcode: NOTAUTH }.to_string(),
        "message is not signed: no TSIG record (RCODE NOTAUTH)"
    );
}

#[test]
fn a_kea_entry_becomes_a_key_with_its_secret_file_read_once() {
    let k = TsigKey::from_kea("k.example", "hmac-sha224", 112, Secret::Bytes(&[1, 2, 3])).unwrap();
    assert_eq!(k.name.to_string(), "k.example.");
    assert_eq!((k.algorithm, k.mac_len()), (Algorithm::HmacSha224, 14));
    assert_eq!(k.secret, [1, 2, 3]);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.secret");
    std::fs::write(&path, "AAECAwQFBgcICQ==\n").unwrap();
    let k = TsigKey::from_kea("f.", "HMAC-SHA512", 0, Secret::File(&path)).unwrap();
    assert_eq!(k.secret, (0u8..10).collect::<Vec<_>>());

    std::fs::write(&path, "not base64!").unwrap();
    let e = TsigKey::from_kea("f.", "HMAC-SHA512", 0, Secret::File(&path)).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{} is not base64: ", path.display())),
        "{e}"
    );
    std::fs::remove_file(&path).unwrap();
    let e = TsigKey::from_kea("f.", "HMAC-SHA512", 0, Secret::File(&path)).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("cannot read {}: ", path.display())),
        "{e}"
    );
    let e = TsigKey::from_kea("f.", "HMAC-SHA3", 0, Secret::Bytes(&[1])).unwrap_err();
    assert_eq!(e, KeyError::UnknownAlgorithm("HMAC-SHA3".into()));
    let e = TsigKey::from_kea("f.", "HMAC-MD5", 1 << 16, Secret::Bytes(&[1])).unwrap_err();
    assert!(matches!(e, KeyError::DigestBitsOutOfRange(_)), "{e}");
}

#[test]
fn subsequent_messages_chain_their_macs() {
    // RFC 8945 §5.3.1: each later message's MAC covers the previous MAC; a message moved
    // out of order, or signed against the wrong prior MAC, fails.
    for algorithm in Algorithm::ALL {
        for bits in [0, min_bits(algorithm)] {
            let k = key(algorithm, bits);
            let req = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap();
            let first = sign_response(&response(), &k, &req.mac, T, DEFAULT_FUDGE, 0, &[]).unwrap();
            let second =
                sign_subsequent(&response(), &k, &first.mac, T + 1, DEFAULT_FUDGE).unwrap();
            let third =
                sign_subsequent(&response(), &k, &second.mac, T + 2, DEFAULT_FUDGE).unwrap();
            assert_eq!(second.mac.len(), k.mac_len());
            let v = verify_subsequent(&second.wire, &[], &k, &first.mac, T + 2)
                .unwrap()
                .expect("signed");
            assert_eq!(v.mac, second.mac);
            assert_eq!(v.time_signed, T + 1);
            let v = verify_subsequent(&third.wire, &[], &k, &v.mac, T + 2)
                .unwrap()
                .expect("signed");
            assert_eq!(v.mac, third.mac);
            assert!(matches!(
                verify_subsequent(&third.wire, &[], &k, &first.mac, T + 2),
                Err(TsigError::BadSig { .. })
            ));
            // The first message is not a subsequent one: its MAC covers all the variables.
            assert!(verify_subsequent(&first.wire, &[], &k, &req.mac, T).is_err());
        }
    }
}

#[test]
fn a_server_answers_each_failed_request_as_rfc_8945_says() {
    let k = key(Algorithm::HmacSha256, 0);
    let signed = sign_request(&request(), &k, T, DEFAULT_FUDGE).unwrap();
    let answer = |keys: &[TsigKey], now: u64| {
        let e = verify_request(&signed.wire, keys, now).unwrap_err();
        let resp = sign_error_response(&signed.wire, &response_with_rcode(9), keys, &e, now)
            .unwrap()
            .expect("a TSIG record");
        (e, resp)
    };
    // BADKEY: unsigned, naming the request's key (which the server does not know).
    let other = TsigKey::new(
        Name::from_ascii("other.").unwrap(),
        Algorithm::HmacSha256,
        k.secret.clone(),
        0,
    )
    .unwrap();
    let (_, resp) = answer(std::slice::from_ref(&other), T);
    assert!(resp.mac.is_empty());
    assert_eq!(
        verify_response(&resp.wire, &k, &signed.mac, T).unwrap_err(),
        TsigError::BadKey {
            origin: Origin::Peer,
            rcode: NOTAUTH
        }
    );
    // BADSIG: the right name, another secret.
    let wrong = TsigKey::new(k.name.clone(), k.algorithm, vec![7; 32], 0).unwrap();
    let (_, resp) = answer(std::slice::from_ref(&wrong), T);
    assert!(resp.mac.is_empty());
    assert_eq!(
        verify_response(&resp.wire, &k, &signed.mac, T).unwrap_err(),
        TsigError::BadSig {
            origin: Origin::Peer,
            rcode: NOTAUTH
        }
    );
    // BADTIME: signed over the request's MAC, the request's time echoed, ours in Other Data.
    let later = T + 3600;
    let (_, resp) = answer(std::slice::from_ref(&k), later);
    assert_eq!(
        verify_response(&resp.wire, &k, &signed.mac, T).unwrap_err(),
        TsigError::BadTime {
            origin: Origin::Peer,
            rcode: NOTAUTH,
            time_signed: T,
            fudge: DEFAULT_FUDGE,
            now: T,
            peer_time: Some(later)
        }
    );
    // A malformed request gets no TSIG record at all.
    let e = TsigError::Malformed(Malformed::MisplacedTsig);
    assert_eq!(
        sign_error_response(&signed.wire, &response(), &[k], &e, T).unwrap(),
        None
    );
}
