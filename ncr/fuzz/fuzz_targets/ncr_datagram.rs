//! Arbitrary bytes as an NCR datagram: parsing never panics, and whatever parses is
//! written back as a datagram that parses to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_ncr::{NameChangeRequest, NcrError};

fuzz_target!(|data: &[u8]| {
    let Ok(ncr) = NameChangeRequest::from_datagram(data) else {
        return;
    };
    match ncr.to_datagram() {
        Ok(datagram) => {
            let again = NameChangeRequest::from_datagram(&datagram)
                .unwrap_or_else(|e| panic!("tern's own datagram does not parse: {e}"));
            assert_eq!(again, ncr);
            // Writing is stable: the same request gives the same octets.
            assert_eq!(again.to_datagram().as_deref(), Ok(datagram.as_slice()));
        }
        // tern writes every key, so a request that arrived near 4096 octets without the
        // optional ones can come out longer than a datagram may be.
        Err(NcrError::DatagramTooLarge(_)) => {}
        Err(e) => panic!("a request that parsed does not encode: {e}"),
    }
    // The log rendering must not panic either.
    let _ = ncr.to_text();
});
