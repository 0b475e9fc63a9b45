//! Command-channel arguments as clients send them: the checks of `lease4-add` and
//! `reservation-add` answer every JSON map with a value or a field error, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tern_api::kea::{hosts, leases, Args};

/// The running configuration the arguments are checked against, validated once.
fn config() -> &'static tern_config::Config {
    static CONFIG: OnceLock<tern_config::Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let text = json!({ "Dhcp4": { "valid-lifetime": 4000, "subnet4": [
            { "id": 1, "subnet": "192.0.2.0/24", "valid-lifetime": 600 },
            { "id": 2, "subnet": "10.0.0.0/8" } ] } })
        .to_string();
        tern_config::parse_str(&text, "fuzz.json").expect("a valid configuration")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let dhcp4 = config().dhcp4.as_ref();
    let _ = leases::parse_new(&Args(&map), dhcp4);
    let _ = leases::parse_new(&Args(&map), None);
    let _ = hosts::parse_new(&map, dhcp4);
    let _ = hosts::parse_new(&map, None);
});
