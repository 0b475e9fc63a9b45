//! Arbitrary bytes as a datagram on the server socket, through the whole pure path the
//! engine runs (parse, subnet selection, the DHCPREQUEST decisions of
//! `tern_dhcp::request` with the lease row the first byte picks, reservation, reply
//! options, client classes and flex-option actions, encoding): never a panic, every reply is a well-formed BOOTREPLY of at least
//! 300 octets, and a DHCPREQUEST for an address another client holds is never ACKed.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tern_dhcp::decide::{plan_offline, Ingress};
use tern_dhcp::request::Row;
use tern_dhcp::ServerConfig;

static CONFIG: LazyLock<ServerConfig> = LazyLock::new(|| {
    // Classes and flex-option actions so that every datagram is classified too.
    let text = r#"{"Dhcp4": {
        "client-classes": [
          {"name": "pxe", "test": "substring(option[60].hex,0,9) == 'PXEClient' or option[93].exists",
           "next-server": "192.0.2.100", "boot-file-name": "x.efi",
           "option-data": [{"name": "tftp-server-name", "data": "192.0.2.100"}]},
          {"name": "relayed", "test": "relay4[1].exists and member('pxe') or pkt4.giaddr == 10.9.9.9"},
          {"name": "known", "test": "member('KNOWN') and split(option[12].hex, '.', 1) == 'printer'"},
          {"name": "odd", "test": "int16totext(substring(option[61].hex, 0, 2)) == '1' sor option[82].option[2].exists"},
          {"name": "DROP", "test": "option[12].text == 'drop-me'"}
        ],
        "hooks-libraries": [{"library": "libdhcp_flex_option.so", "parameters": {"options": [
          {"code": 93, "add": "option[93].hex", "client-class": "pxe"},
          {"name": "host-name", "supersede": "lcase(option[12].hex)"},
          {"code": 3, "remove": "member('relayed')"},
          {"name": "domain-name", "add": "ifelse(member('known'), 'known.example', '')", "csv-format": true}
        ]}}],
        "option-data": [{"name": "domain-name-servers", "data": "192.0.2.53"},
                        {"name": "domain-search", "data": "example.org, example.net"}],
        "subnet4": [
          {"id": 1, "subnet": "192.0.2.0/24", "interface": "eth0",
           "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}],
           "option-data": [{"name": "routers", "data": "192.0.2.1"}],
           "reservations": [{"hw-address": "aa:bb:cc:00:00:09", "ip-address": "192.0.2.99",
                             "hostname": "printer"}]},
          {"id": 2, "subnet": "198.51.100.0/24", "relay": {"ip-addresses": ["10.9.9.9"]},
           "calculate-tee-times": true,
           "pools": [{"pool": "198.51.100.10 - 198.51.100.20"}]}
        ]}}"#;
    let c = tern_config::parse_str(text, "fuzz.json").expect("valid config");
    ServerConfig::from_config(c.dhcp4.as_ref().expect("Dhcp4")).expect("servable")
});

/// The DHCP message type (option 53) of an encoded reply (tern writes it first).
fn message_type(reply: &[u8]) -> Option<u8> {
    (reply.get(240..242)? == [53, 1]).then(|| reply.get(242).copied())?
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, packet)) = data.split_first() else {
        return;
    };
    let row = match sel % 3 {
        0 => Row::Free,
        1 => Row::Mine,
        _ => Row::Others,
    };
    let ingress = Ingress {
        iface: "eth0".into(),
        addr: [192, 0, 2, 1].into(),
    };
    if let Some(reply) = plan_offline(&CONFIG, packet, &ingress, row) {
        assert!(reply.len() >= 300);
        assert_eq!(reply[0], 2, "BOOTREPLY");
        assert_eq!(&reply[236..240], &[99, 130, 83, 99]);
        assert_eq!(&reply[4..8], &packet[4..8], "same xid");
        // A DHCPACK (5) with a yiaddr grants a lease (only a DHCPREQUEST gets one).
        let granted = message_type(&reply) == Some(5) && reply[16..20] != [0, 0, 0, 0];
        assert!(
            !(granted && row == Row::Others),
            "another client's address granted"
        );
    }
});
