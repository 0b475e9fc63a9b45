//! `tern check`: Kea's own example configs and the seeds' configs are accepted as Kea
//! accepts them, broken files are rejected with file:line:column, and nothing crashes.

mod common;

use std::path::{Path, PathBuf};

use common::run;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tests/fixtures")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(json_files(&path));
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "conf")
        ) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Kea's D2 examples whose `key-name` names a key the file never defines; Kea itself
/// refuses them (kea-dhcp-ddns -t, 2.2).
const REFUSED_BY_KEA: &[&str] = &[
    "kea-2.2/ddns/all-keys.json",
    "kea-2.2/ddns/all-keys-netconf.json",
    "kea-3/ddns/all-keys-netconf.json",
];

#[test]
fn check_accepts_keas_examples_and_the_seed_configs() {
    let mut checked = 0;
    for sub in ["kea-2.2", "kea-3", "seeds"] {
        for file in json_files(&fixtures().join(sub)) {
            let rel = file.strip_prefix(fixtures()).unwrap().to_string_lossy();
            let (status, stdout, stderr) = run(&["check", "-c", file.to_str().unwrap()]);
            assert!(status.code().is_some(), "{rel}: tern check died: {status}");
            let broken = rel.contains("broken");
            if broken || REFUSED_BY_KEA.contains(&rel.as_ref()) {
                assert_eq!(
                    status.code(),
                    Some(1),
                    "{rel} must be refused:\n{stdout}{stderr}"
                );
                assert!(
                    stderr.contains(&format!("{}:", file.display())),
                    "{rel}: error must name the file with a position:\n{stderr}"
                );
            } else {
                assert_eq!(status.code(), Some(0), "{rel} refused:\n{stderr}");
                assert!(stdout.contains("configuration valid"), "{rel}: {stdout}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 120, "only {checked} configs found");
}

#[test]
fn broken_seed_config_is_rejected_at_the_extra_brace() {
    let file = fixtures().join("seeds/003-4.2.1-broken-kea-dhcp6.conf");
    let (status, _, stderr) = run(&["check", "-c", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1));
    // kea-dhcp6 -t reports the same token: "kea-dhcp6.conf:33.9-17: syntax error".
    let expected = format!("{}:33:9: syntax error", file.display());
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn invalid_pool_names_file_line_column_and_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tern.json");
    std::fs::write(
        &file,
        r#"{
  "Dhcp6": {
    "subnet6": [
      { "id": 1, "subnet": "fd00::/64",
        "pools": [ { "pool": "fd00::1-fd00::" } ] }
    ]
  }
}"#,
    )
    .unwrap();
    let (status, _, stderr) = run(&["check", "-c", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1));
    assert!(
        stderr.contains(&format!(
            "{}:5:30: Dhcp6.subnet6[0].pools[0].pool: \"fd00::1-fd00::\" is not a valid range",
            file.display()
        )),
        "{stderr}"
    );
}

#[test]
fn unsupported_parts_are_named_and_strict_refuses_them() {
    let file = fixtures().join("kea-2.2/kea4/hooks-radius.json");
    let (status, _, stderr) = run(&["check", "-c", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("libdhcp_radius"))
        .unwrap_or_else(|| panic!("radius hook not named:\n{stderr}"));
    assert!(line.starts_with("WARN "), "{line}");
    let (status, _, stderr) = run(&["check", "--strict", "-c", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1), "{stderr}");
}

#[test]
fn dhcp6_is_served_not_named_as_not_served() {
    let file = fixtures().join("kea-2.2/kea6/simple.json");
    let (status, stdout, stderr) = run(&["check", "-c", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("sections Dhcp6"), "{stdout}");
    assert!(!stderr.contains("not served by this build"), "{stderr}");
}

#[test]
fn native_hooks_are_accepted_as_built_in() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kea-dhcp4.conf");
    std::fs::write(
        &file,
        r#"{ "Dhcp4": {
  # Kea's lease_cmds hook: tern answers these commands itself.
  "hooks-libraries": [ { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so" } ],
  "subnet4": [ { "id": 1, "subnet": "192.0.2.0/24" } ]
} }"#,
    )
    .unwrap();
    let (status, stdout, stderr) = run(&["check", "-c", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("lease_cmds"))
        .unwrap_or_else(|| panic!("lease_cmds not mentioned:\n{stderr}"));
    assert!(line.starts_with("INFO "), "{line}");
    assert!(line.contains(":3:"), "position missing: {line}");
    assert!(stdout.contains("sections Dhcp4"), "{stdout}");
}

#[test]
fn missing_file_is_a_clear_error() {
    let (status, _, stderr) = run(&["check", "-c", "/nonexistent/tern.json"]);
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("/nonexistent/tern.json"), "{stderr}");
}

#[test]
fn version_prints_the_crate_version() {
    let (status, stdout, _) = run(&["version"]);
    assert!(status.success());
    assert_eq!(stdout.trim(), format!("tern {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn dns_zone_policy_is_checked_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("example.com.zone"),
        "$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n  NS ns1\nns1 A 192.0.2.53\n",
    )
    .unwrap();
    let file = dir.path().join("tern.json");
    let good = r#"{ "Dns": {
  "tsig-keys": [ { "name": "xfr", "algorithm": "HMAC-SHA256", "secret": "c2VjcmV0" } ],
  "zones": [ { "name": "example.com.", "file": "example.com.zone",
    "allow-update": [ { "key": "xfr", "grant": "name", "name": "www.example.com.", "types": ["A"] } ],
    "allow-transfer": [ { "key": "xfr" }, { "ip-address": "127.0.0.0/8" } ],
    "notify": [ { "ip-address": "127.0.0.1", "port": 5400, "key-name": "xfr" } ] } ]
} }"#;
    std::fs::write(&file, good).unwrap();
    let (status, stdout, stderr) = run(&["check", "-c", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("configuration valid"), "{stdout}");

    let bad = good
        .replace("\"key\": \"xfr\" }", "\"key\": \"nope\" }")
        .replace("example.com.zone\"", "gone.zone\"");
    std::fs::write(&file, bad).unwrap();
    let (status, _, stderr) = run(&["check", "-c", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    let f = file.display();
    for line in [
        format!(
            "{f}:3:48: Dns.zones[0].file: cannot read zone file \"{}\": No such file or directory (os error 2)",
            dir.path().join("gone.zone").display()
        ),
        format!("{f}:5:34: Dns.zones[0].allow-transfer[0].key: TSIG key \"nope\" is not defined in Dns.tsig-keys or DhcpDdns.tsig-keys"),
    ] {
        assert!(stderr.contains(&line), "missing {line:?} in:\n{stderr}");
    }

    // A zone file that does not read is named with its own line and column.
    std::fs::write(
        dir.path().join("example.com.zone"),
        "$TTL 300\nwww A 192.0.2.1\n",
    )
    .unwrap();
    std::fs::write(&file, good).unwrap();
    let (status, _, stderr) = run(&["check", "-c", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    let zone = dir.path().join("example.com.zone");
    assert!(
        stderr.contains(&format!("{}:", zone.display()))
            && stderr.contains("no SOA record at the zone apex"),
        "{stderr}"
    );
}

/// The README's first command runs `tern serve -c examples/tern.json`: the example must
/// be valid, without a warning, and name every service it shows.
#[test]
fn the_readme_example_is_valid_without_warnings() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tern.json");
    let (status, stdout, stderr) = run(&["check", "--strict", "-c", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("sections Dhcp4, Dhcp6, Api, Dns, DhcpDdns; 0 warning(s)"),
        "{stdout}"
    );
}
