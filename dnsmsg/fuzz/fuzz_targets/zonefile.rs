//! Zone file text as an administrator (or a PowerDNS client's zone text) hands it in: the
//! reader never panics, and what it reads, exported, reads back as the same zone.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tern_dnsmsg::zonefile::{self, ZoneFile};

fn no_includes(_: &Path) -> std::io::Result<String> {
    Err(std::io::ErrorKind::NotFound.into())
}

fn sorted(z: &ZoneFile) -> Vec<(String, String, u32, String)> {
    let mut r: Vec<_> = z
        .records
        .iter()
        .map(|r| {
            (
                r.name.to_ascii_lowercase(),
                r.rtype.clone(),
                r.ttl,
                r.content.clone(),
            )
        })
        .collect();
    r.sort();
    r
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The record parsers of hickory may panic on odd text; tern_dnsmsg::content::parse
    // turns that into an error, which needs libFuzzer's aborting hook out of the way for
    // panics inside hickory only.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            if !info
                .location()
                .is_some_and(|l| l.file().contains("hickory"))
            {
                eprintln!("{info}");
                std::process::abort();
            }
        }))
    });
    let file = Path::new("fuzz.zone");
    let Ok(zone) = zonefile::parse(text, file, "example.com.", &no_includes) else {
        return;
    };
    let written = zonefile::export(&zone.origin, &zone.soa, &zone.records);
    let again = zonefile::parse(&written, file, "example.com.", &no_includes).unwrap_or_else(|e| {
        panic!("{text:?} was exported as\n{written}\nwhich does not read: {e}")
    });
    assert_eq!(again.soa, zone.soa, "{text:?} exported as\n{written}");
    assert_eq!(
        sorted(&again),
        sorted(&zone),
        "{text:?} exported as\n{written}"
    );
});
