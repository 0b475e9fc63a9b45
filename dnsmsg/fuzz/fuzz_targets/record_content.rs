//! PowerDNS record content as clients send it (`"content"` of an rrset's record): parsing
//! never panics, and for the types whose text tern reads or writes itself (and the plain
//! ones), what parses is written back as content that parses to the same record, so a
//! tool reading its own change back (octodns, terraform) sees no difference. CAA, NAPTR,
//! SVCB and the like are parsed and written by hickory as they are: only "no panic".
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_dnsmsg::content;

/// The types DNS tools write through the zones API.
const TYPES: &[&str] = &[
    "A",
    "AAAA",
    "CNAME",
    "TXT",
    "MX",
    "SRV",
    "PTR",
    "NS",
    "CAA",
    "SOA",
    "SSHFP",
    "TLSA",
    "HINFO",
    "NAPTR",
    "DNAME",
    "SVCB",
    "HTTPS",
    "OPENPGPKEY",
    "TYPE65280",
];

/// Types checked for the round trip.
const ROUND_TRIP: &[&str] = &[
    "A", "AAAA", "CNAME", "TXT", "MX", "SRV", "PTR", "NS", "HINFO", "SSHFP", "TLSA",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let name = TYPES[usize::from(pick) % TYPES.len()];
    let Some(rtype) = content::record_type(name) else {
        return;
    };
    // The library's parsers may panic on odd text; `content::parse` turns that into an
    // error (a 422), which needs libFuzzer's aborting hook out of the way.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            // Ours are reported (and then abort, by the harness); the library's are caught.
            if !info
                .location()
                .is_some_and(|l| l.file().contains("hickory"))
            {
                eprintln!("{info}");
            }
        }))
    });
    let Ok(data) = content::parse(rtype, text) else {
        return;
    };
    let written = content::render(&data);
    // Names are written by hickory in Unicode form and without escapes: the round trip is
    // asked of the ASCII text DNS tools send (IDNs as punycode), escapes only inside
    // character-strings, which tern writes itself.
    let plain = text
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'\\');
    if !ROUND_TRIP.contains(&name) || !(plain || matches!(name, "TXT" | "HINFO")) {
        return;
    }
    let again = content::parse(rtype, &written).unwrap_or_else(|e| {
        panic!("{rtype} {text:?} was written as {written:?}, which does not parse: {e}")
    });
    assert_eq!(again, data, "{rtype} {text:?} was written as {written:?}");
});
