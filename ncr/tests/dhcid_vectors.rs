//! Golden DHCID vectors: Kea's unit tests (src/lib/dhcp_ddns/tests/ncr_unittests.cc, which
//! hash into the name myhost.example.com.) and the examples of RFC 4701 §3.6.

use tern_ncr::{Dhcid, DhcidError, Fqdn};

fn myhost() -> Fqdn {
    Fqdn::new("myhost.example.com.").unwrap()
}

const DUID_0_TO_6: [u8; 7] = [0, 1, 2, 3, 4, 5, 6];

#[test]
fn kea_duid() {
    let d = Dhcid::from_duid(&DUID_0_TO_6, &myhost()).unwrap();
    assert_eq!(
        d.to_hex(),
        "0002012191B7B21AF97E0E656DF887C5E2DEF30E7758A207EDF4CCB2DE8CA37066021C"
    );
    assert_eq!(
        d.to_base64(),
        "AAIBIZG3shr5fg5lbfiHxeLe8w53WKIH7fTMst6Mo3BmAhw="
    );
}

#[test]
fn kea_client_id() {
    let d = Dhcid::from_client_id(&DUID_0_TO_6, &myhost()).unwrap();
    assert_eq!(
        d.to_hex(),
        "0001012191B7B21AF97E0E656DF887C5E2DEF30E7758A207EDF4CCB2DE8CA37066021C"
    );
}

#[test]
fn kea_hwaddr() {
    let d = Dhcid::from_hwaddr(1, &DUID_0_TO_6, &myhost()).unwrap();
    assert_eq!(
        d.to_hex(),
        "0000012247F6DC4423C3E8627434A9D6868609D88948F78018B215EDCAA30C0C135035"
    );
}

#[test]
fn kea_min_and_max_duids() {
    // Kea 2.2's DUID limits are 1..=128 octets, later Kea's 3..=130; all are vectors.
    let cases: [(usize, &str); 4] = [
        (
            1,
            "000201F89004F73E60CAEDFF514E11CB91D1F45C8F0A55D4BC4C688484A819F8EA4074",
        ),
        (
            3,
            "000201202F813E7D9C88BADA41250F2A66297742BB9B3EB37C0981D4A905745A30BDD3",
        ),
        (
            128,
            "00020137D8FBDC0585B44DFA03FAD2E36C6159737D545A12EFB40B0D88D110A5748234",
        ),
        (
            130,
            "0002015B9022851B4015AD78187BB9BDB987708C5EEA74140B28095ED36FE1EAFEE3F6",
        ),
    ];
    for (len, hex) in cases {
        let duid = vec![1u8; len];
        let d = Dhcid::from_duid(&duid, &myhost()).unwrap();
        assert_eq!(d.to_hex(), hex, "DUID of {len} octets");
    }
}

#[test]
fn kea_rfc4361_client_id_carries_a_duid() {
    // 0xFF, IAID 5d e2 6c 15, DUID 00 02 00 00 ab 11 9a 57 20 95 71 61 bd d0.
    let client_id = [
        0xff, 0x5d, 0xe2, 0x6c, 0x15, 0x00, 0x02, 0x00, 0x00, 0xab, 0x11, 0x9a, 0x57, 0x20, 0x95,
        0x71, 0x61, 0xbd, 0xd0,
    ];
    let d = Dhcid::from_client_id(&client_id, &myhost()).unwrap();
    assert_eq!(
        d.to_hex(),
        "000201A250D060B9352AE68E5014B78D251C30EFB0D5F64E48303B2BC56E6938F129E7"
    );
    // The same DHCID as the DUID alone over DHCPv6.
    assert_eq!(d, Dhcid::from_duid(&client_id[5..], &myhost()).unwrap());
    // Kea refuses 136 octets (a 131-octet DUID) and 5 octets (no DUID).
    let mut long = client_id.to_vec();
    long.resize(136, 0);
    assert_eq!(
        Dhcid::from_client_id(&long, &myhost()),
        Err(DhcidError::EmbeddedDuidLength { duid_len: 131 })
    );
    assert_eq!(
        Dhcid::from_client_id(&client_id[..5], &myhost()),
        Err(DhcidError::EmbeddedDuidLength { duid_len: 0 })
    );
}

#[test]
fn rfc4701_example_1_dhcpv6_duid() {
    let duid = [
        0x00, 0x01, 0x00, 0x06, 0x41, 0x2d, 0xf1, 0x66, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
    ];
    let fqdn = Fqdn::new("chi6.example.com").unwrap();
    let d = Dhcid::from_duid(&duid, &fqdn).unwrap();
    assert_eq!(
        d.to_base64(),
        "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="
    );
    assert_eq!(
        d.to_hex(),
        "000201636FC0B8271C82825BB1AC5C41CF5351AA69B4FEBD94E8F17CDB95000DA48C40"
    );
}

#[test]
fn rfc4701_example_2_dhcpv4_client_id() {
    let client_id = [0x01, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c];
    let fqdn = Fqdn::new("chi.example.com").unwrap();
    let d = Dhcid::from_client_id(&client_id, &fqdn).unwrap();
    assert_eq!(
        d.to_base64(),
        "AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No="
    );
    assert_eq!(
        d.to_hex(),
        "0001013920FE5D1DCEB3FD0BA3379756A70D73B17009F41D58BDDBFCD6A2503956D8DA"
    );
}

#[test]
fn rfc4701_example_3_hardware_address() {
    let fqdn = Fqdn::new("client.example.com").unwrap();
    let d = Dhcid::from_hwaddr(1, &[0x01, 0x02, 0x03, 0x04, 0x05, 0x06], &fqdn).unwrap();
    assert_eq!(
        d.to_base64(),
        "AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY="
    );
    assert_eq!(
        d.to_hex(),
        "000001C4B9A5B249651343158DDE7BCC77169841F7A4243A572B5C283FFFEDEB3F75E6"
    );
}

#[test]
fn hex_round_trip_of_a_real_dhcid() {
    let d = Dhcid::from_duid(&DUID_0_TO_6, &myhost()).unwrap();
    let lower = d.to_hex().to_ascii_lowercase();
    assert_eq!(Dhcid::from_hex(&lower).unwrap(), d);
    assert_eq!(Dhcid::from_hex(&d.to_hex()).unwrap(), d);
}
