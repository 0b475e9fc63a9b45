//! Any UTF-8 text through the whole pipeline (parse, keyword check, typed validation) must give
//! a config or an error, never a panic or a hang.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tern_config::parse_str(text, "fuzz.json");
    }
});
