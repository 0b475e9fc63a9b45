//! The complete configurations found in the seed documents (tests/fixtures/seeds; placeholders
//! filled as noted in each file or below).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use tern_config::{ConfigError, Severity, StoreConfig};

fn seed(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/seeds")
        .join(name)
}

fn load(name: &str) -> tern_config::Config {
    tern_config::load(&seed(name)).unwrap_or_else(|e| panic!("{name}:\n{e}"))
}

/// Seed 003 section 4.2.1: one `}` too many closes Dhcp6 before "loggers". Kea 3.0 says
/// `kea-dhcp6.conf:33.9-17: syntax error, unexpected constant string, expecting "," or }` and
/// Kea 2.2 says the same; tern reports the same token.
#[test]
fn broken_dhcp6_example_fails_at_the_stranded_key() {
    let e = tern_config::load(&seed("003-4.2.1-broken-kea-dhcp6.conf")).unwrap_err();
    let ConfigError::Syntax { location, message } = &e else {
        panic!("{e:?}")
    };
    assert_eq!((location.line, location.column), (33, 9));
    assert!(location.file.ends_with("003-4.2.1-broken-kea-dhcp6.conf"));
    assert!(message.contains("\"loggers\""), "{message}");
    assert!(message.contains("'}' too many"), "{message}");
}

/// The fixed version (`]},` replaced by `],`; the interface address placeholder filled).
#[test]
fn fixed_dhcp6_example() {
    let c = load("003-4.2.1-fixed-kea-dhcp6.conf");
    let d = c.dhcp6.unwrap();
    assert_eq!(
        d.subnets.iter().map(|s| s.id).collect::<Vec<_>>(),
        [1000, 2000]
    );
    assert_eq!(d.subnets[0].pools[0].first.to_string(), "fd00:100::1");
    assert_eq!(d.subnets[0].pools[0].last.to_string(), "fd00:100::ffff");
    assert_eq!(c.loggers[0].outputs[0].output, "/var/log/kea/kea-dhcp6.log");
    assert_eq!(c.store, StoreConfig::Embedded);
}

#[test]
fn ddns_examples_of_section_4_8() {
    let c = load("003-4.8.2-kea-dhcp-ddns.conf");
    let d = c.ddns.unwrap();
    assert_eq!(d.dns_server_timeout, 100);
    assert_eq!(d.forward_ddns[0].name, "example.com.");
    assert_eq!(d.forward_ddns[0].key_name, None);
    assert_eq!(
        d.forward_ddns[0].dns_servers[0].ip_address,
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    );
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);

    let c = load("003-4.8.3-tsig-kea-dhcp-ddns.conf");
    let d = c.ddns.unwrap();
    assert_eq!(d.tsig_keys[0].name, "kea-ddns");
    assert_eq!(d.forward_ddns[0].key_name.as_deref(), Some("kea-ddns"));

    let c = load("003-4.8.4-reverse-kea-dhcp-ddns.conf");
    let d = c.ddns.unwrap();
    assert_eq!(
        d.reverse_ddns[0].name,
        "0.0.0.0.0.0.0.0.0.0.1.0.0.0.d.f.ip6.arpa."
    );
}

/// Seed 004: the HA templates (Kea 3.x: HTTP control sockets in the server).
#[test]
fn ha_templates() {
    for name in [
        "004-home-server1-kea-dhcp4.conf",
        "004-home-server2-kea-dhcp4.conf",
        "004-secure-ha-server1-kea-dhcp4.conf",
        "004-secure-ha-server2-kea-dhcp4.conf",
    ] {
        let c = load(name);
        let d = c.dhcp4.as_ref().unwrap();
        let s = &d.subnets[0];
        assert_eq!(s.prefix.to_string(), "192.168.1.0/24", "{name}");
        assert_eq!(s.pools[0].first, Ipv4Addr::new(192, 168, 1, 100));
        assert_eq!(s.pools[0].last, Ipv4Addr::new(192, 168, 1, 199));
        assert_eq!(d.timers.valid_lifetime, Some(43200));
        assert_eq!(c.store, StoreConfig::Embedded);
        let ha = c
            .diagnostics
            .iter()
            .find(|x| x.path.ends_with(".parameters"))
            .unwrap_or_else(|| panic!("{name}: HA parameters not named"));
        assert_eq!(ha.severity, Severity::Warning);
        assert!(c
            .diagnostics
            .iter()
            .any(|x| x.message.contains("built in") && x.message.starts_with("libdhcp_ha")));
    }
    let c = load("004-home-server1-kea-dhcp4.conf");
    let s = &c.dhcp4.as_ref().unwrap().subnets[0];
    assert!(!s.reservations.is_empty());
    assert!(s
        .option_data
        .iter()
        .any(|o| o.name.as_deref() == Some("routers")));
}

/// Seed 000: Kea on PostgreSQL; the lease database becomes tern's store, and the hosts
/// database is the same one.
#[test]
fn postgresql_lease_database_becomes_the_store() {
    let c = load("000-postgresql-kea-dhcp4.conf");
    let StoreConfig::Postgres(pg) = &c.store else {
        panic!("{:?}", c.store)
    };
    assert_eq!(pg.host, "postgresql.devops-db.internal");
    assert_eq!(pg.port, 5432);
    assert_eq!(pg.name, "kea_db");
    assert_eq!(pg.user.as_deref(), Some("kea"));
    assert_eq!(c.warnings().count(), 0, "{:?}", c.diagnostics);
}

/// Seed 003 section 4.15, both PXE configurations: every class and its expression read.
#[test]
fn pxe_configurations_of_section_4_15() {
    let c = load("003-4.15-pxe-simple-kea-dhcp4.conf");
    let d = c.dhcp4.as_ref().expect("Dhcp4");
    let names: Vec<&str> = d.client_classes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["iPXEboot", "UEFIboot", "BIOSboot", "Netboot"]);
    let netboot = &d.client_classes[3];
    assert_eq!(
        netboot.test.as_ref().unwrap().members().collect::<Vec<_>>(),
        ["UEFIboot", "BIOSboot", "iPXEboot"]
    );
    assert_eq!(
        netboot.boot.next_server,
        Some(Ipv4Addr::new(192, 0, 2, 100))
    );
    assert_eq!(netboot.option_data.len(), 3);

    let c = load("003-4.15-pxe-advanced-kea-dhcp4.conf");
    let d = c.dhcp4.as_ref().expect("Dhcp4");
    let pxe = &d.client_classes[0];
    assert_eq!(pxe.name, "VENDOR_CLASS_PXEClient");
    assert!(pxe.test.is_none(), "a built-in class, joined by option 60");
    assert_eq!(pxe.option_defs.len(), 1);
    assert_eq!(pxe.option_defs[0].encapsulate, "PXE");
    assert_eq!(pxe.option_data.len(), 7);
}
