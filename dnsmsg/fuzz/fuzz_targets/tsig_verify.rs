//! Arbitrary bytes as the answer to a signed request: `verify_response` (and the server
//! side's `verify_request`) must return an error or a verified message, never panic.
#![no_main]

use hickory_proto::rr::Name;
use libfuzzer_sys::fuzz_target;
use tern_dnsmsg::tsig::{sign_response, verify_request, verify_response, Algorithm, TsigKey};

const TIME: u64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the key, so every algorithm and a truncating key get exercised.
    let Some((&pick, message)) = data.split_first() else {
        return;
    };
    let algorithm = Algorithm::ALL[usize::from(pick) % Algorithm::ALL.len()];
    let digest_bits = if pick & 0x80 != 0 {
        (algorithm.min_mac_len() * 8) as u16
    } else {
        0
    };
    let key = TsigKey::new(
        Name::from_ascii("tsig-key.example.").unwrap(),
        algorithm,
        (1..=32).collect(),
        digest_bits,
    )
    .unwrap();
    let request_mac = vec![0x5a; key.mac_len()];
    let _ = verify_response(message, &key, &request_mac, TIME);
    let _ = verify_request(message, std::slice::from_ref(&key), TIME);

    // A random MAC almost never verifies; signing the bytes first reaches what follows the MAC
    // check (TSIG error handling, time and truncation checks, hickory decoding the message).
    if pick & 0x40 != 0 {
        let error = u16::from(pick & 0x1f);
        if let Ok(signed) = sign_response(message, &key, &request_mac, TIME, 300, error, &[]) {
            let _ = verify_response(&signed.wire, &key, &request_mac, TIME);
        }
    }
});
