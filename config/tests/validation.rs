//! Behaviour of the public API on small configs: syntax, keywords, semantic checks,
//! diagnostics and the store resolution.

use std::net::{IpAddr, Ipv4Addr};

use tern_config::{
    parse_str, ConfigError, IdentifierType, Section, Severity, StoreConfig, TsigAlgorithm,
    TsigSecret,
};

fn ok(text: &str) -> tern_config::Config {
    match parse_str(text, "tern.json") {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

fn err(text: &str) -> ConfigError {
    match parse_str(text, "tern.json") {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// The error's lines (one per finding).
fn lines(e: &ConfigError) -> Vec<String> {
    e.to_string().lines().map(str::to_string).collect()
}

#[test]
fn comments_of_every_kind_are_accepted() {
    let c = ok(r#"# shell comment
// C++ comment
{
    /* C comment
       over lines */
    "Dhcp4": { # trailing
        "valid-lifetime": 4000 // more
    }
}"#);
    assert_eq!(c.dhcp4.unwrap().timers.valid_lifetime, Some(4000));
}

#[test]
fn trailing_comma_is_a_warning_with_position() {
    let c = ok("{\"Dhcp4\": {\"valid-lifetime\": 4000,\n}}");
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.message.contains("extraneous comma"))
        .expect("a trailing-comma warning");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!((d.location.line, d.location.column), (1, 34));
    assert_eq!(d.path, "Dhcp4");
}

#[test]
fn duplicate_key_warns_and_the_later_value_wins() {
    let c = ok(r#"{"Dhcp4": {"valid-lifetime": 1000, "valid-lifetime": 2000}}"#);
    assert_eq!(c.dhcp4.unwrap().timers.valid_lifetime, Some(2000));
    assert!(c
        .diagnostics
        .iter()
        .any(|d| d.message.contains("duplicate key \"valid-lifetime\"")));
}

#[test]
fn include_directive_reads_relative_files_and_positions_name_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("subnets.json"),
        "// the subnets\n{ \"subnet\": \"192.0.2.0/24\", \"id\": 7,\n  \"pools\": [ { \"pool\": \"192.0.2.20 - 192.0.2.10\" } ] }\n",
    )
    .unwrap();
    let main = dir.path().join("tern.json");
    std::fs::write(
        &main,
        "{ \"Dhcp4\": { \"subnet4\": [ <?include \"subnets.json\"?> ] } }\n",
    )
    .unwrap();
    let e = tern_config::load(&main).unwrap_err();
    let loc = e.location().unwrap();
    assert!(loc.file.ends_with("subnets.json"), "{e}");
    assert_eq!((loc.line, loc.column), (3, 24));

    std::fs::write(
        dir.path().join("subnets.json"),
        "{ \"subnet\": \"192.0.2.0/24\", \"id\": 7 }",
    )
    .unwrap();
    let c = tern_config::load(&main).unwrap();
    let s = &c.dhcp4.unwrap().subnets[0];
    assert_eq!(s.id, 7);
    assert!(s.location.file.ends_with("subnets.json"));
}

#[test]
fn invalid_pool_range_names_file_line_column_and_path() {
    let text = "{\n  \"Dhcp6\": {\n    \"subnet6\": [ {\n      \"subnet\": \"fd00::/64\", \"id\": 1,\n      \"pools\": [ { \"pool\": \"fd00::1-fd00::\" } ]\n    } ]\n  }\n}\n";
    let e = err(text);
    assert_eq!(
        e.to_string(),
        "tern.json:5:28: Dhcp6.subnet6[0].pools[0].pool: \"fd00::1-fd00::\" is not a valid range"
    );
    assert!(matches!(e, ConfigError::Invalid { .. }));
}

#[test]
fn pools_outside_the_subnet_or_overlapping_are_errors() {
    let e = err(
        r#"{"Dhcp4": {"subnet4": [{"subnet": "10.0.0.0/24", "id": 1, "pools": [
        {"pool": "10.0.1.1-10.0.1.5"}, {"pool": "10.0.0.1 - 10.0.0.50"}, {"pool": "10.0.0.40-10.0.0.60"},
        {"pool": "10.0.0.5"}]}]}}"#,
    );
    let l = lines(&e);
    assert_eq!(l.len(), 3, "{e}");
    assert!(l[0].contains("pools[0].pool: pool 10.0.1.1-10.0.1.5 is not inside subnet 10.0.0.0/24"));
    assert!(
        l[1].contains("pools[2].pool: pool 10.0.0.40-10.0.0.60 overlaps pool 10.0.0.1-10.0.0.50")
    );
    assert!(l[2].contains("pools[3].pool: \"10.0.0.5\" is not a valid range"));
}

#[test]
fn unknown_keyword_is_an_error_like_keas() {
    let e = err(r#"{"Dhcp6": {"subnet6": [{"subnet": "2001:db8::/64", "id": 1, "foo": 2}]}}"#);
    assert_eq!(
        e.to_string(),
        "tern.json:1:61: Dhcp6.subnet6[0].foo: got unexpected keyword \"foo\" in subnet6 map"
    );
}

#[test]
fn wrong_value_type_is_an_error() {
    let e = err(r#"{"Dhcp4": {"authoritative": "true"}}"#);
    assert_eq!(
        e.to_string(),
        "tern.json:1:29: Dhcp4.authoritative: expected a boolean (true or false), found string \"true\""
    );
}

#[test]
fn duplicate_subnet_id_is_an_error() {
    let e = err(r#"{"Dhcp4": {"subnet4": [
        {"subnet": "10.0.0.0/24", "id": 1},
        {"subnet": "10.0.1.0/24", "id": 1}]}}"#);
    assert_eq!(
        e.to_string(),
        "tern.json:3:41: Dhcp4.subnet4[1].id: subnet id 1 is already used by the subnet at 2:41"
    );
}

#[test]
fn subnet_ids_must_be_positive_and_prefixes_unique() {
    let e = err(r#"{"Dhcp4": {"subnet4": [
        {"subnet": "10.0.0.0/24", "id": -3},
        {"subnet": "10.0.1.0/24", "id": 2},
        {"subnet": "10.0.1.0/24", "id": 3},
        {"subnet": "10.0.2.0/33", "id": 4}]}}"#);
    let l = lines(&e);
    assert_eq!(l.len(), 3, "{e}");
    assert!(l[0].ends_with("Dhcp4.subnet4[0].id: subnet id -3 is out of range (1 to 4294967294)"));
    assert!(l[1].contains("Dhcp4.subnet4[2].subnet: subnet 10.0.1.0/24 is already defined at 3:20"));
    assert!(l[2].contains("prefix length \"33\" is out of range"));
}

#[test]
fn missing_subnet_ids_are_assigned_with_a_warning() {
    let c = ok(r#"{"Dhcp4": {
        "subnet4": [{"subnet": "10.0.0.0/24"}, {"subnet": "10.0.1.0/24", "id": 1}],
        "shared-networks": [{"name": "net", "subnet4": [{"subnet": "10.0.2.0/24"}]}]}}"#);
    let d = c.dhcp4.unwrap();
    let ids: Vec<(String, u32)> = d
        .subnets
        .iter()
        .map(|s| (s.prefix.to_string(), s.id))
        .collect();
    // Kea numbered shared networks' subnets first; explicit ids are skipped.
    assert_eq!(
        ids,
        [
            ("10.0.0.0/24".to_string(), 3),
            ("10.0.1.0/24".to_string(), 1),
            ("10.0.2.0/24".to_string(), 2)
        ]
    );
    assert_eq!(d.subnets[2].shared_network.as_deref(), Some("net"));
    assert_eq!(
        c.diagnostics
            .iter()
            .filter(|d| d.message.starts_with("no subnet \"id\""))
            .count(),
        2
    );
}

#[test]
fn lifetimes_must_be_ordered() {
    let e = err(
        r#"{"Dhcp4": {"valid-lifetime": 100, "min-valid-lifetime": 200, "max-valid-lifetime": 50}}"#,
    );
    let l = lines(&e);
    assert_eq!(l.len(), 3, "{e}");
    assert!(l
        .iter()
        .any(|l| l
            .contains("min-valid-lifetime (200) is greater than (default) valid-lifetime (100)")));
    assert!(
        l.iter()
            .any(|l| l
                .contains("max-valid-lifetime (50) is less than (default) valid-lifetime (100)"))
    );
}

#[test]
fn reservations_are_checked() {
    let e = err(
        r#"{"Dhcp4": {"subnet4": [{"subnet": "10.0.0.0/24", "id": 1, "reservations": [
        {"hw-address": "aa:bb:cc:dd:ee:ff", "duid": "01:02", "ip-address": "10.0.0.5"},
        {"ip-address": "10.0.0.6"},
        {"hw-address": "aa:bb:cc:dd:ee:01", "ip-address": "10.0.9.5"},
        {"hw-address": "aa:bb:cc:dd:ee:fg", "ip-address": "10.0.0.7"},
        {"hw-address": "aa:bb:cc:dd:ee:02", "ip-address": "10.0.0.8"},
        {"hw-address": "aa:bb:cc:dd:ee:02", "ip-address": "10.0.0.9"},
        {"hw-address": "aa:bb:cc:dd:ee:03", "ip-address": "10.0.0.8"}]}]}}"#,
    );
    let l = lines(&e);
    assert_eq!(l.len(), 6, "{e}");
    assert!(l[0].contains("\"hw-address\" and \"duid\" are mutually exclusive"));
    assert!(l[1].contains("one of the supported identifiers must be specified"));
    assert!(l[2].contains("reserved address 10.0.9.5 is not within the IPv4 subnet 10.0.0.0/24"));
    assert!(l[3].contains("invalid host identifier \"aa:bb:cc:dd:ee:fg\""));
    assert!(l[4].contains("a reservation for hw-address \"aa:bb:cc:dd:ee:02\" already exists"));
    assert!(l[5].contains("address 10.0.0.8 is already reserved"));
}

#[test]
fn typed_subnet_reservations_and_options() {
    let c = ok(r#"{"Dhcp4": {
        "option-data": [{"name": "domain-name-servers", "data": "192.0.2.1, 192.0.2.2"}],
        "subnet4": [{"subnet": "192.0.2.0/24", "id": 10, "interface": "eth0",
            "relay": {"ip-addresses": ["192.0.2.254"]},
            "valid-lifetime": 600, "renew-timer": 200, "rebind-timer": 400,
            "pools": [{"pool": "192.0.2.100-192.0.2.199"}, {"pool": "192.0.2.64/27"}],
            "option-data": [{"code": 3, "data": "192.0.2.1", "always-send": true}],
            "reservations": [{"hw-address": "08:00:27:f2:5c:e2", "ip-address": "192.0.2.10",
                              "hostname": "srv-jenkins-01",
                              "option-data": [{"name": "domain-name", "data": "example.org"}]}],
            "ddns-qualifying-suffix": "example.org.", "ddns-send-updates": true}]}}"#);
    let d = c.dhcp4.unwrap();
    assert_eq!(
        d.option_data[0].name.as_deref(),
        Some("domain-name-servers")
    );
    assert_eq!(d.option_data[0].space, "dhcp4");
    assert!(d.option_data[0].csv_format);
    let s = &d.subnets[0];
    assert_eq!(s.id, 10);
    assert_eq!(s.prefix.to_string(), "192.0.2.0/24");
    assert_eq!(s.interface.as_deref(), Some("eth0"));
    assert_eq!(
        s.relay_addresses,
        [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 254))]
    );
    assert_eq!(
        (
            s.timers.valid_lifetime,
            s.timers.renew_timer,
            s.timers.rebind_timer
        ),
        (Some(600), Some(200), Some(400))
    );
    assert_eq!(s.pools.len(), 2);
    assert_eq!(s.pools[1].first, Ipv4Addr::new(192, 0, 2, 64));
    assert_eq!(s.pools[1].last, Ipv4Addr::new(192, 0, 2, 95));
    assert_eq!(s.option_data[0].code, Some(3));
    assert!(s.option_data[0].always_send);
    let r = &s.reservations[0];
    assert_eq!(r.identifier.kind, IdentifierType::HwAddress);
    assert_eq!(r.identifier.kind.kea_code(), 0);
    assert_eq!(r.identifier.value, [0x08, 0x00, 0x27, 0xf2, 0x5c, 0xe2]);
    assert_eq!(r.ip_addresses, [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))]);
    assert_eq!(r.hostname.as_deref(), Some("srv-jenkins-01"));
    assert_eq!(r.option_data[0].data, "example.org");
    assert_eq!(s.ddns.qualifying_suffix.as_deref(), Some("example.org."));
    assert_eq!(s.ddns.send_updates, Some(true));
}

#[test]
fn dhcp6_pd_pools_and_reservations() {
    let c = ok(
        r#"{"Dhcp6": {"preferred-lifetime": 3000, "valid-lifetime": 4000,
        "subnet6": [{"subnet": "2001:db8:1::/64", "id": 1, "rapid-commit": true,
            "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}],
            "pd-pools": [{"prefix": "2001:db8:8::", "prefix-len": 48, "delegated-len": 56,
                          "excluded-prefix": "2001:db8:8::", "excluded-prefix-len": 64}],
            "reservations": [{"duid": "00:01:00:01:23:a0:2f:4b", "ip-addresses": ["2001:db8:1::42"],
                              "prefixes": ["2001:db8:9::/56"]}]}]}}"#,
    );
    let d = c.dhcp6.unwrap();
    assert_eq!(d.timers.preferred_lifetime, Some(3000));
    let s = &d.subnets[0];
    assert_eq!(s.rapid_commit, Some(true));
    assert_eq!(s.pd_pools[0].prefix_len, 48);
    assert_eq!(s.pd_pools[0].delegated_len, 56);
    assert_eq!(s.pd_pools[0].excluded.unwrap().1, 64);
    assert_eq!(s.reservations[0].identifier.kind, IdentifierType::Duid);
    assert_eq!(s.reservations[0].prefixes[0].1, 56);

    let e = err(
        r#"{"Dhcp6": {"subnet6": [{"subnet": "2001:db8:1::/64", "id": 1,
        "pd-pools": [{"prefix": "2001:db8:8::", "prefix-len": 56, "delegated-len": 48}]}]}}"#,
    );
    assert!(
        e.to_string()
            .contains("delegated length (48) must be longer than or equal to prefix length (56)"),
        "{e}"
    );
}

#[test]
fn ddns_typed_with_defaults() {
    let c = ok(r#"{"DhcpDdns": {
        "tsig-keys": [{"name": "kea-ddns", "algorithm": "hmac-sha256", "secret": "aGVsbG8gd29ybGQ="},
                      {"name": "k2", "algorithm": "HMAC-SHA512", "digest-bits": 256, "secret-file": "/etc/kea/k2"}],
        "forward-ddns": {"ddns-domains": [{"name": "example.com.", "key-name": "kea-ddns",
            "dns-servers": [{"ip-address": "192.0.2.53"}, {"ip-address": "2001:db8::53", "port": 5353, "key-name": "K2"}]}]},
        "reverse-ddns": {"ddns-domains": [{"name": "2.0.192.in-addr.arpa.", "dns-servers": [{"ip-address": "192.0.2.53"}]}]}}}"#);
    let d = c.ddns.unwrap();
    assert_eq!(d.ip_address, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(d.port, 53001);
    assert_eq!(d.dns_server_timeout, 500);
    assert_eq!(d.tsig_keys[0].algorithm, TsigAlgorithm::HmacSha256);
    assert_eq!(
        d.tsig_keys[0].secret,
        TsigSecret::Bytes(b"hello world".to_vec())
    );
    assert_eq!(d.tsig_keys[1].digest_bits, 256);
    assert!(matches!(d.tsig_keys[1].secret, TsigSecret::File(_)));
    let dom = &d.forward_ddns[0];
    assert_eq!(dom.dns_servers[0].port, 53);
    assert_eq!(dom.dns_servers[0].effective_key(dom), Some("kea-ddns"));
    assert_eq!(dom.dns_servers[1].effective_key(dom), Some("K2"));
    assert_eq!(d.key("k2").unwrap().name, "k2");
    assert_eq!(d.reverse_ddns[0].key_name, None);
    assert!(!format!("{:?}", d.tsig_keys[0]).contains("104")); // the secret is not printed
    assert_eq!(c.store, StoreConfig::Embedded);
}

#[test]
fn bad_tsig_algorithm_is_an_error() {
    let e = err(
        r#"{"DhcpDdns": {"tsig-keys": [{"name": "k", "algorithm": "HMAC-SHA3", "secret": "aGVsbG8="}]}}"#,
    );
    assert_eq!(
        e.to_string(),
        "tern.json:1:56: DhcpDdns.tsig-keys[0].algorithm: unknown TSIG key algorithm \"HMAC-SHA3\": use one of HMAC-MD5, HMAC-SHA1, HMAC-SHA224, HMAC-SHA256, HMAC-SHA384, HMAC-SHA512"
    );
}

#[test]
fn tsig_key_checks() {
    let e = err(r#"{"DhcpDdns": {"tsig-keys": [
        {"name": "a", "algorithm": "hmac-sha256", "secret": "aGVsbG8"},
        {"name": "b", "algorithm": "hmac-sha256", "secret": "aGVsbG8=", "digest-bits": 100},
        {"name": "c", "algorithm": "hmac-sha256", "secret": "aGVsbG8=", "digest-bits": 120},
        {"name": "d", "algorithm": "hmac-md5", "secret": ""},
        {"name": "f", "algorithm": "hmac-md5", "secret": "aGVsbG8="},
        {"name": "F.", "algorithm": "hmac-md5", "secret": "aGVsbG8="},
        {"name": "e", "algorithm": "hmac-md5"}]}}"#);
    let l = lines(&e);
    assert_eq!(l.len(), 6, "{e}");
    assert!(l[0].contains("not valid base64"));
    assert!(l[1].contains("positive multiple of eight"));
    assert!(l[2].contains("digest-bits 120 is too small for HMAC-SHA256: at least 128"));
    assert!(l[3].contains("secret cannot be blank"));
    assert!(l[4].contains("duplicate TSIG key name \"F.\""));
    assert!(l[5].contains("missing parameter \"secret\""));
}

#[test]
fn missing_key_reference_is_an_error() {
    let e = err(r#"{"DhcpDdns": {"forward-ddns": {"ddns-domains": [
        {"name": "example.com.", "key-name": "nokey", "dns-servers": [{"ip-address": "192.0.2.1"}]}]}}}"#);
    assert_eq!(
        e.to_string(),
        "tern.json:2:46: DhcpDdns.forward-ddns.ddns-domains[0].key-name: TSIG key \"nokey\" is not defined in tsig-keys"
    );
}

#[test]
fn d2_checks_like_keas() {
    let e = err(
        r#"{"DhcpDdns": {"ip-address": "0.0.0.0", "port": 0, "dns-server-timeout": 0,
        "ncr-protocol": "TCP", "ncr-format": "XML",
        "forward-ddns": {"ddns-domains": [
            {"name": "a.", "dns-servers": []},
            {"name": "b.", "dns-servers": [{"ip-address": "192.0.2.1", "hostname": "ns.b."}]},
            {"name": "A.", "dns-servers": [{"ip-address": "192.0.2.x"}]}]}}}"#,
    );
    let l = lines(&e);
    assert_eq!(l.len(), 8, "{e}");
    let all = l.join("\n");
    for needle in [
        "IP address cannot be \"0.0.0.0\"",
        "port: 0 is out of range (1 to 65535)",
        "dns-server-timeout: 0 is out of range",
        "ncr-protocol TCP is not supported",
        "\"XML\" is not one of JSON",
        "at least one DNS server is required",
        "hostname is not supported",
        "duplicate domain \"A.\"",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
}

#[test]
fn diagnostics_name_unsupported_hooks_and_client_classes_with_positions() {
    let c = ok(r#"{"Dhcp4": {
    "hooks-libraries": [
        {"library": "/usr/lib/kea/hooks/libdhcp_lease_cmds.so"},
        {"library": "/usr/lib/kea/hooks/libdhcp_radius.so", "parameters": {"x": 1}},
        {"library": "/opt/lib/my_own.so"}
    ],
    "client-classes": [{"name": "phones", "test": "substring(option[60].hex,0,6) == 'Aastra'"}],
    "subnet4": [{"subnet": "10.0.0.0/8", "id": 1, "client-class": "phones"}]
}}"#);
    let find = |path: &str| {
        c.diagnostics
            .iter()
            .find(|d| d.path == path)
            .unwrap_or_else(|| panic!("no diagnostic for {path}: {:#?}", c.diagnostics))
    };
    let lease = find("Dhcp4.hooks-libraries[0].library");
    assert_eq!(lease.severity, Severity::Info);
    assert!(lease.message.contains("built in"));
    let radius = find("Dhcp4.hooks-libraries[1].library");
    assert_eq!(radius.severity, Severity::Warning);
    assert_eq!((radius.location.line, radius.location.column), (4, 21));
    assert_eq!(
        radius.to_string(),
        "tern.json:4:21: Dhcp4.hooks-libraries[1].library: libdhcp_radius: not served: RADIUS authorization and accounting"
    );
    assert_eq!(
        find("Dhcp4.hooks-libraries[2].library").severity,
        Severity::Warning
    );
    // DHCPv4 classes are served: nothing to say about them.
    assert!(
        !c.diagnostics
            .iter()
            .any(|d| d.path.starts_with("Dhcp4.client-classes")
                || d.path == "Dhcp4.subnet4[0].client-class"),
        "{:#?}",
        c.diagnostics
    );
    let d6 = ok(r#"{"Dhcp6": {
    "client-classes": [{"name": "phones", "test": "substring(option[16].hex,0,6) == 'Aastra'"}],
    "subnet6": [{"subnet": "2001:db8::/64", "id": 1, "client-class": "phones"}]
}}"#);
    let find6 = |path: &str| {
        d6.diagnostics
            .iter()
            .find(|d| d.path == path)
            .unwrap_or_else(|| panic!("no diagnostic for {path}: {:#?}", d6.diagnostics))
    };
    let test = find6("Dhcp6.client-classes[0].test");
    assert_eq!(test.severity, Severity::Warning);
    assert_eq!((test.location.line, test.location.column), (2, 43));
    let restriction = find6("Dhcp6.subnet6[0].client-class");
    assert_eq!(restriction.severity, Severity::Warning);
    assert_eq!(restriction.location.line, 3);
}

#[test]
fn ha_hook_is_built_in_but_its_parameters_are_not_used() {
    let c = ok(
        r#"{"Dhcp4": {"hooks-libraries": [{"library": "libdhcp_ha.so",
        "parameters": {"high-availability": [{"this-server-name": "a", "mode": "hot-standby", "peers": []}]}}]}}"#,
    );
    let sev: Vec<(Severity, &str)> = c
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.path.as_str()))
        .collect();
    assert!(sev.contains(&(Severity::Info, "Dhcp4.hooks-libraries[0].library")));
    assert!(sev.contains(&(Severity::Warning, "Dhcp4.hooks-libraries[0].parameters")));
}

#[test]
fn every_key_not_acted_on_is_named() {
    let c = ok(
        r#"{"Dhcp4": {"echo-client-id": true, "multi-threading": {"enable-multi-threading": true},
        "dhcp-queue-control": {"enable-queue": false}, "config-control": {"config-fetch-wait-time": 20},
        "shared-networks": [], "dhcp4o6-port": 6767, "valid-lifetime": 10}}"#,
    );
    let named: Vec<(&str, Severity)> = c
        .diagnostics
        .iter()
        .map(|d| (d.path.as_str(), d.severity))
        .collect();
    assert_eq!(
        named,
        [
            // No lease-database: the embedded store (named at the section key).
            ("Dhcp4.lease-database", Severity::Info),
            ("Dhcp4.multi-threading", Severity::Info),
            ("Dhcp4.dhcp-queue-control", Severity::Info),
            ("Dhcp4.config-control", Severity::Warning),
            // (shared networks are served: not named)
            ("Dhcp4.dhcp4o6-port", Severity::Warning),
        ]
    );
}

#[test]
fn control_agent_and_netconf_are_accepted_with_a_warning() {
    let c = ok(
        r#"{"Dhcp4": {}, "Control-agent": {"http-host": "127.0.0.1", "whatever": [1]}, "Netconf": {}}"#,
    );
    let w: Vec<&str> = c.warnings().map(|d| d.path.as_str()).collect();
    assert_eq!(w, ["Control-agent", "Netconf"]);
    assert_eq!(c.sections(), ["Dhcp4", "Control-agent", "Netconf"]);
}

#[test]
fn a_file_with_no_known_section_is_empty() {
    assert!(matches!(err("{}"), ConfigError::Empty { .. }));
    assert!(matches!(
        err(r#"{"Logging": {"loggers": []}}"#),
        ConfigError::Empty { .. }
    ));
    let e = err(r#"{"Dhcp5": {}}"#);
    assert!(matches!(e, ConfigError::Syntax { .. }));
    assert!(
        e.to_string()
            .contains("unknown top-level section \"Dhcp5\""),
        "{e}"
    );
}

#[test]
fn store_section_wins() {
    let c = ok(
        r#"{"Store": {"type": "postgresql", "host": "db.example", "name": "tern", "user": "tern", "password": "s3cret"},
        "Dhcp4": {"lease-database": {"type": "postgresql", "name": "kea", "host": "other"}}}"#,
    );
    match &c.store {
        StoreConfig::Postgres(pg) => {
            assert_eq!(
                (pg.host.as_str(), pg.port, pg.name.as_str()),
                ("db.example", 5432, "tern")
            );
            assert_eq!(pg.max_connections, 16);
            assert!(!format!("{pg:?}").contains("s3cret"));
        }
        other => panic!("{other:?}"),
    }
    assert!(c
        .diagnostics
        .iter()
        .any(|d| d.path == "Dhcp4.lease-database" && d.message.contains("Store section")));
    let c = ok(r#"{"Store": {"type": "embedded"}}"#);
    assert_eq!(c.store, StoreConfig::Embedded);
    assert_eq!(c.sections(), ["Store"]);
}

#[test]
fn kea_lease_database_postgresql_becomes_the_store() {
    let c = ok(
        r#"{"Dhcp4": {"lease-database": {"type": "postgresql", "name": "kea", "host": "db", "port": 5433,
            "user": "kea", "password": "pw", "connect-timeout": 10, "max-reconnect-tries": 3, "cipher-list": "AES"},
        "hosts-database": {"type": "postgresql", "name": "hosts", "host": "db"}},
      "Dhcp6": {"lease-database": {"type": "postgresql", "name": "kea6", "host": "db"}}}"#,
    );
    let StoreConfig::Postgres(pg) = &c.store else {
        panic!("{:?}", c.store)
    };
    assert_eq!(
        (pg.host.as_str(), pg.port, pg.name.as_str()),
        ("db", 5433, "kea")
    );
    assert_eq!(pg.user.as_deref(), Some("kea"));
    assert_eq!(pg.connect_timeout, Some(10));
    let by_path = |p: &str| {
        c.diagnostics
            .iter()
            .find(|d| d.path == p)
            .map(|d| (d.severity, d.message.clone()))
    };
    assert_eq!(
        by_path("Dhcp4.lease-database.max-reconnect-tries")
            .unwrap()
            .0,
        Severity::Info
    );
    assert_eq!(
        by_path("Dhcp4.lease-database.cipher-list").unwrap().0,
        Severity::Warning
    );
    let (sev, msg) = by_path("Dhcp4.hosts-database").unwrap();
    assert_eq!(sev, Severity::Warning);
    assert!(msg.contains("one store"), "{msg}");
    let (sev, msg) = by_path("Dhcp6.lease-database").unwrap();
    assert_eq!(sev, Severity::Warning);
    assert!(msg.contains("one store"), "{msg}");
}

#[test]
fn memfile_and_mysql_mean_the_embedded_store() {
    let c = ok(r#"{"Dhcp4": {"lease-database": {"type": "memfile", "lfc-interval": 3600}}}"#);
    assert_eq!(c.store, StoreConfig::Embedded);
    let d = &c.diagnostics[0];
    assert_eq!(d.severity, Severity::Info);
    assert!(
        d.message
            .contains("embedded PostgreSQL instead of the CSV file"),
        "{d}"
    );
    let c = ok(r#"{"Dhcp6": {"lease-database": {"type": "mysql", "name": "kea"}}}"#);
    assert_eq!(c.store, StoreConfig::Embedded);
    assert_eq!(c.diagnostics[0].severity, Severity::Warning);
    assert!(c.diagnostics[0].message.contains("MySQL is not supported"));
    let e = err(r#"{"Dhcp4": {"lease-database": {"type": "postgresql"}}}"#);
    assert!(e.to_string().contains("missing parameter \"name\""), "{e}");
}

#[test]
fn loggers_from_every_section_in_both_spellings() {
    let c = ok(r#"{
    "Dhcp4": {"loggers": [{"name": "kea-dhcp4", "severity": "debug", "debuglevel": 55,
        "output_options": [{"output": "/var/log/kea4.log", "maxsize": 2048000, "maxver": 4, "flush": false}]}]},
    "DhcpDdns": {"loggers": [{"name": "kea-dhcp-ddns", "output-options": [{"output": "syslog:d2", "pattern": "%m"}]}]},
    "Logging": {"loggers": [{"name": "kea-ctrl-agent"}]}}"#);
    assert_eq!(c.loggers.len(), 3);
    let l = &c.loggers[0];
    assert_eq!(
        (
            l.section,
            l.name.as_str(),
            l.severity.as_str(),
            l.debuglevel
        ),
        (Section::Dhcp4, "kea-dhcp4", "DEBUG", 55)
    );
    assert_eq!(
        (
            l.outputs[0].maxsize,
            l.outputs[0].maxver,
            l.outputs[0].flush
        ),
        (2048000, 4, false)
    );
    assert_eq!(
        c.loggers[1].outputs[0].destination(),
        tern_config::LogDestination::Syslog(Some("d2".into()))
    );
    assert_eq!(c.loggers[1].severity, "INFO");
    assert_eq!(c.loggers[2].section, Section::Logging);
    assert_eq!(c.loggers[2].outputs[0].output, "stdout");

    let e = err(
        r#"{"Dhcp4": {"loggers": [{"name": "kea-dhcp4", "severity": "LOUD", "debuglevel": 100},
        {"name": "x", "output_options": [], "output-options": []}]}}"#,
    );
    let l = lines(&e);
    assert_eq!(l.len(), 2, "{e}");
    assert!(l[0].contains("\"LOUD\" is not a severity"));
    assert!(l[1].contains("two spellings of one key"));
}

#[test]
fn dns_and_api_sections() {
    let dir = tempfile::tempdir().unwrap();
    let zone_file = dir.path().join("rev.zone");
    std::fs::write(&zone_file, "").unwrap();
    let c = ok(&r#"{"Dns": {"listen-on": ["127.0.0.1:5353", "::1", {"ip-address": "192.0.2.1", "port": 53}],
                  "zones": ["example.com", {"name": "2.0.192.in-addr.arpa.", "file": "ZONE"}]},
        "Api": {"port": 8080, "cert-file": "c.pem", "key-file": "k.pem", "trust-anchor": "ca.pem",
                "authentication": {"type": "basic", "clients": [{"user": "admin", "password": "1234"}]},
                "api-keys": ["tok1", {"name": "ci", "key-file": "/etc/tern/ci.key"}]}}"#
            .replace("ZONE", zone_file.to_str().unwrap()),
    );
    let dns = c.dns.unwrap();
    assert_eq!(
        dns.listen_on
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        ["127.0.0.1:5353", "[::1]:53", "192.0.2.1:53"]
    );
    assert_eq!(dns.zones[0].name, "example.com.");
    assert_eq!(dns.zones[1].file.as_deref(), Some(zone_file.as_path()));
    let api = c.api.unwrap();
    assert_eq!(api.port, 8080);
    assert_eq!(api.ip_address, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert!(api.tls.as_ref().unwrap().cert_required);
    assert_eq!(
        api.authentication.unwrap().clients[0].user.as_deref(),
        Some("admin")
    );
    assert_eq!(api.api_keys.len(), 2);

    let e = err(r#"{"Dns": {"listen-on": ["nowhere"], "zones": ["a.", "A"]},
        "Api": {"cert-file": "c.pem", "api-keys": [""], "bogus": 1}}"#);
    let l = lines(&e);
    assert_eq!(l.len(), 5, "{e}");
}

#[test]
fn several_problems_are_all_reported_each_on_its_line() {
    let e = err(
        r#"{"Dhcp4": {"foo": 1, "subnet4": [{"subnet": "10.0.0.0/24", "id": 1, "pools": [{"pool": "10.0.0.9-10.0.0.1"}]}]},
        "DhcpDdns": {"port": "53001"}}"#,
    );
    assert!(matches!(e, ConfigError::Several(_)));
    let f = e.findings();
    assert_eq!(f.len(), 3);
    for (line, finding) in e.to_string().lines().zip(&f) {
        assert!(line.starts_with(&format!(
            "tern.json:{}:{}: ",
            finding.location.line, finding.location.column
        )));
    }
}

#[test]
fn interfaces_config_addresses_are_checked() {
    let c = ok(
        r#"{"Dhcp6": {"interfaces-config": {"interfaces": ["eth0/2001:db8:100::1", "eth1", "*"]}}}"#,
    );
    let i = &c.dhcp6.unwrap().interfaces.interfaces;
    assert_eq!(i.len(), 3);
    assert!(i[0].address.is_some());
    let e = err(r#"{"Dhcp6": {"interfaces-config": {"interfaces": ["eth0/2001:db8:100::zzzz"]}}}"#);
    assert!(
        e.to_string()
            .contains("\"2001:db8:100::zzzz\" is not an IPv6 address"),
        "{e}"
    );
}

#[test]
fn dhcp_ddns_client_settings() {
    let c = ok(
        r#"{"Dhcp4": {"dhcp-ddns": {"enable-updates": true, "qualifying-suffix": "old.example."}}}"#,
    );
    let d = c.dhcp4.unwrap();
    assert!(d.dhcp_ddns.enable_updates);
    assert_eq!(d.dhcp_ddns.server_port, 53001);
    // Kea 2.x's old spelling becomes the global parameter.
    assert_eq!(d.ddns.qualifying_suffix.as_deref(), Some("old.example."));
    let e = err(
        r#"{"Dhcp6": {"dhcp-ddns": {"ncr-protocol": "TCP", "server-ip": "::1", "sender-ip": "0.0.0.0"}}}"#,
    );
    let l = lines(&e);
    assert_eq!(l.len(), 2, "{e}");
}

#[test]
fn a_bad_hostname_char_set_and_bad_option_defs_are_named_where_written() {
    let e = err("{\"Dhcp4\": {\n  \"hostname-char-set\": \"[a-z\"\n}}");
    let l = lines(&e);
    assert_eq!(l.len(), 1, "{l:?}");
    assert!(
        l[0].starts_with("tern.json:2:24: Dhcp4.hostname-char-set: invalid hostname-char-set"),
        "{l:?}"
    );
    let e = err(r#"{"Dhcp4": {"option-def": [
        {"name": "a", "code": 230, "type": "string"},
        {"name": "b", "code": 230, "type": "uint8"},
        {"name": "c", "code": 255, "type": "uint8"}]}}"#);
    let text = e.to_string();
    assert!(text.contains("defined twice"), "{text}");
    assert!(text.contains("invalid option code 255"), "{text}");
    // A type tern does not encode is a warning naming the option, not an error.
    let c = ok(r#"{"Dhcp4": {"option-def": [
        {"name": "t", "code": 231, "type": "tuple"},
        {"name": "m", "code": 232, "type": "uint16", "array": true}]}}"#);
    let d = c.dhcp4.as_ref().unwrap();
    assert_eq!(d.option_defs.len(), 1);
    assert!(d.option_defs[0].array);
    assert!(c
        .diagnostics
        .iter()
        .any(|x| x.message.contains("\"tuple\"") && x.message.contains("\"t\"")));
}

/// A `Dns` section using every zone policy key, with its files next to the config.
const DNS_POLICY: &str = r#"{
  "DhcpDdns": {
    "tsig-keys": [ { "name": "tern-ddns", "algorithm": "HMAC-SHA256", "secret": "c2VjcmV0" } ]
  },
  "Dns": {
    "tsig-keys": [ { "name": "acme", "algorithm": "hmac-sha512", "secret": "c2VjcmV0" },
                   { "name": "xfr", "algorithm": "HMAC-SHA1", "digest-bits": 80, "secret": "c2VjcmV0" } ],
    "zones": [ {
      "name": "Example.COM",
      "file": "zones/example.com.zone",
      "allow-update": [
        { "key": "tern-ddns", "grant": "zonesub", "types": ["A", "aaaa", "DHCID", "PTR", "TXT"] },
        { "key": "acme", "grant": "name", "name": "_acme-challenge.example.com.", "types": ["TXT"] },
        { "key": "ACME.", "grant": "subdomain", "name": "dyn.example.com.", "types": ["ANY"] },
        { "key": "xfr", "grant": "wildcard", "name": "*.hosts.example.com." },
        { "key": "xfr", "grant": "SelfSub", "types": ["TYPE65534"] } ],
      "allow-transfer": [ { "key": "xfr" }, { "ip-address": "127.0.0.1" }, { "ip-address": "2001:db8::/32" } ],
      "notify": [ { "ip-address": "127.0.0.1", "port": 5400, "key-name": "xfr" }, { "ip-address": "::1" } ],
      "ddns-overwrite-static": true
    }, "2.0.192.in-addr.arpa." ]
  }
}"#;

#[test]
fn dns_zone_policy_is_typed() {
    use tern_config::{Grant, TransferAcl, UpdateTypes};
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("zones")).unwrap();
    std::fs::write(dir.path().join("zones/example.com.zone"), "").unwrap();
    let file = dir.path().join("tern.json");
    std::fs::write(&file, DNS_POLICY).unwrap();
    let c = tern_config::load(&file).unwrap_or_else(|e| panic!("{e}"));
    let dns = c.dns.as_ref().unwrap();
    assert_eq!(dns.tsig_keys.len(), 2);
    let z = &dns.zones[0];
    assert_eq!(z.name, "example.com.");
    // A relative zone file is the config directory's.
    assert_eq!(
        z.file.as_deref(),
        Some(dir.path().join("zones/example.com.zone").as_path())
    );
    let u = &z.allow_update;
    assert_eq!(u.len(), 5);
    assert_eq!(u[0].key, "tern-ddns");
    assert_eq!(u[0].grant, Grant::Zonesub);
    assert_eq!(
        u[0].types,
        UpdateTypes::Only(
            ["A", "AAAA", "DHCID", "PTR", "TXT"]
                .map(String::from)
                .to_vec()
        )
    );
    assert_eq!(
        u[1].grant,
        Grant::Name("_acme-challenge.example.com.".into())
    );
    assert_eq!(u[2].grant, Grant::Subdomain("dyn.example.com.".into()));
    assert_eq!(u[2].types, UpdateTypes::Any);
    assert_eq!(u[3].grant, Grant::Wildcard("*.hosts.example.com.".into()));
    assert_eq!(u[3].types, UpdateTypes::Default);
    assert_eq!(u[4].grant, Grant::Selfsub);
    assert_eq!(u[4].grant.rule(), "selfsub");
    assert_eq!(
        z.allow_transfer,
        [
            TransferAcl::Key("xfr".into()),
            TransferAcl::Network("127.0.0.1/32".parse().unwrap()),
            TransferAcl::Network("2001:db8::/32".parse().unwrap()),
        ]
    );
    assert_eq!(z.notify[0].address.to_string(), "127.0.0.1:5400");
    assert_eq!(z.notify[0].key_name.as_deref(), Some("xfr"));
    assert_eq!(z.notify[1].address.to_string(), "[::1]:53");
    assert_eq!(z.notify[1].key_name, None);
    assert!(z.ddns_overwrite_static);
    let plain = &dns.zones[1];
    assert!(!plain.ddns_overwrite_static);
    assert!(plain.allow_update.is_empty() && plain.file.is_none());
    // Keys: the Dns section's first, then DhcpDdns's.
    assert_eq!(
        c.dns_tsig_key("tern-ddns.").unwrap().algorithm,
        TsigAlgorithm::HmacSha256
    );
    assert_eq!(
        c.dns_tsig_key("ACME").unwrap().algorithm,
        TsigAlgorithm::HmacSha512
    );
    assert!(c.dns_tsig_key("nope").is_none());
}

#[test]
fn dns_zone_policy_errors_are_all_reported_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tern.json");
    std::fs::write(
        &file,
        r#"{ "Dns": {
  "tsig-keys": [ { "name": "k", "algorithm": "HMAC-SHA3", "secret": "c2VjcmV0" },
                 { "name": "good", "algorithm": "HMAC-MD5", "secret": "c2VjcmV0" } ],
  "zones": [ { "name": "example.com.", "file": "missing.zone",
    "allow-update": [
      { "key": "nokey", "grant": "zonesub" },
      { "key": "good", "grant": "name", "types": ["A"] },
      { "key": "good", "grant": "subdomain", "name": "other.org.", "types": ["A"] },
      { "key": "good", "grant": "name", "name": "www.example.com", "types": ["A"] },
      { "key": "good", "grant": "zonesub", "name": "example.com.", "types": ["A"] },
      { "key": "good", "grant": "wildcard", "name": "dyn.example.com.", "types": ["A"] },
      { "key": "good", "grant": "zonesub", "types": ["A", "BOGUS"] },
      { "key": "good", "grant": "everything", "types": [] },
      { "grant": "selfsub" } ],
    "allow-transfer": [ { "key": "nokey" }, { "ip-address": "10.0.0.1/8" },
                        { "ip-address": "nowhere" }, { "key": "good", "ip-address": "::1" }, {} ],
    "notify": [ { "port": 53 }, { "ip-address": "127.0.0.1", "port": 0, "key-name": "gone" } ],
    "ddns-overwrite-static": "yes" } ]
} }"#,
    )
    .unwrap();
    let e = tern_config::load(&file).expect_err("refused");
    let f = file.display();
    let expected = [
        format!("{f}:2:46: Dns.tsig-keys[0].algorithm: unknown TSIG key algorithm \"HMAC-SHA3\": use one of HMAC-MD5, HMAC-SHA1, HMAC-SHA224, HMAC-SHA256, HMAC-SHA384, HMAC-SHA512"),
        format!("{f}:4:48: Dns.zones[0].file: cannot read zone file \"{}\": No such file or directory (os error 2)", dir.path().join("missing.zone").display()),
        format!("{f}:6:16: Dns.zones[0].allow-update[0].key: TSIG key \"nokey\" is not defined in Dns.tsig-keys or DhcpDdns.tsig-keys"),
        format!("{f}:7:7: Dns.zones[0].allow-update[1]: missing parameter \"name\" (grant name needs one)"),
        format!("{f}:8:54: Dns.zones[0].allow-update[2].name: \"other.org.\" is not inside the zone example.com."),
        format!("{f}:9:49: Dns.zones[0].allow-update[3].name: \"www.example.com\" is not absolute (add a trailing dot)"),
        format!("{f}:10:52: Dns.zones[0].allow-update[4].name: grant zonesub takes no \"name\""),
        format!("{f}:11:53: Dns.zones[0].allow-update[5].name: a wildcard grant's name starts with \"*.\": \"dyn.example.com.\""),
        format!("{f}:12:59: Dns.zones[0].allow-update[6].types[1]: \"BOGUS\" is not a record type"),
        format!("{f}:13:33: Dns.zones[0].allow-update[7].grant: \"everything\" is not one of zonesub, name, subdomain, selfsub, wildcard"),
        format!("{f}:14:7: Dns.zones[0].allow-update[8]: missing parameter \"key\""),
        format!("{f}:15:34: Dns.zones[0].allow-transfer[0].key: TSIG key \"nokey\" is not defined in Dns.tsig-keys or DhcpDdns.tsig-keys"),
        format!("{f}:15:61: Dns.zones[0].allow-transfer[1].ip-address: \"10.0.0.1/8\" has host bits set: did you mean 10.0.0.0/8?"),
        format!("{f}:16:41: Dns.zones[0].allow-transfer[2].ip-address: \"nowhere\" is not an IP address"),
        format!("{f}:16:54: Dns.zones[0].allow-transfer[3]: give \"key\" or \"ip-address\", not both (list them as two entries)"),
        format!("{f}:16:94: Dns.zones[0].allow-transfer[4]: missing parameter \"key\" (or \"ip-address\")"),
        format!("{f}:17:17: Dns.zones[0].notify[0]: missing parameter \"ip-address\""),
        format!("{f}:17:70: Dns.zones[0].notify[1].port: 0 is out of range (1 to 65535)"),
        format!("{f}:17:85: Dns.zones[0].notify[1].key-name: TSIG key \"gone\" is not defined in Dns.tsig-keys or DhcpDdns.tsig-keys"),
        format!("{f}:18:30: Dns.zones[0].ddns-overwrite-static: expected a boolean (true or false), found string \"yes\""),
    ];
    let got = lines(&e);
    assert_eq!(got, expected, "{e}");
}

/// A class test that does not parse is refused where it is written: the file position of
/// the offending token, and the expression with Kea's line.column of it.
#[test]
fn a_bad_class_expression_is_an_error_at_its_token() {
    let text = r#"{"Dhcp4": {"client-classes": [
  {"name": "ok", "test": "option[60].exists"},
  {"name": "a", "test": "option[93].hx == 0x0007"},
  {"name": "b", "test": "member('nope')"},
  {"name": "c", "test": "relay6[0].option[1].exists"},
  {"name": "d", "test": "member('ok') and option[vendor-class-identifier].text == 'PXE'"},
  {"name": "e", "test": "option[vendor-class-identifier].text =="}
]}}"#;
    let e = err(text);
    let l = lines(&e);
    assert_eq!(l.len(), 4, "{l:#?}");
    // The test's string opens at column 25 of line 3: `hx` (column 12 of the
    // expression, no keyword and no option name) is at column 37 of the file, as Kea's
    // scanner sees it.
    assert_eq!(
        l[0],
        "tern.json:3:37: Dhcp4.client-classes[1].test: expression [option[93].hx == 0x0007]: 1.12: Invalid character: h"
    );
    assert!(l[1].starts_with("tern.json:4:33: "), "{}", l[1]);
    assert!(
        l[1].ends_with("1.8-13: Not defined client class 'nope'"),
        "{}",
        l[1]
    );
    assert!(
        l[2].ends_with("1.8: Nest level invalid for DHCPv4 packets"),
        "{}",
        l[2]
    );
    assert!(
        l[3].ends_with("1.40: syntax error, unexpected end of file"),
        "{}",
        l[3]
    );
}
