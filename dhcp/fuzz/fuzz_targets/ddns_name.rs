//! Arbitrary option 81 (Client FQDN) and option 12 (Host Name) bytes, and a reserved
//! host name, through the name path that produces NameChangeRequests
//! (`ddns::decide_name`, then `ddns::ncr`), under every `ddns-replace-client-name` mode
//! and override flag: never a panic, and the decision is consistent:
//! * a lease FQDN is absolute and a valid DNS name;
//! * the server updates DNS only with a name, and then the NCR builds and validates;
//! * the reply's option 81 (only when the client sent a readable one) carries the same
//!   name, fully qualified, with flags that match what the server does.
//!
//! Input: byte 0 chooses the configuration (bits 0-1 replace mode, 2 override-no-update,
//! 3 override-client-update, 4 qualifying suffix, 5 a reservation's name, 6 a client id,
//! 7 an option 12); byte 1 the `hostname-char-set` (Kea's default, empty = none, or a
//! replacement character); byte 2 is option 81's length (255 = no option 81); then
//! option 81, then option 12 (first half) and the reserved name (second half).
#![no_main]

use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;
use tern_config::{DdnsParams, ReplaceClientName};
use tern_dhcp::ddns::{decide_name, ncr, ClientFqdn, DdnsConfig};
use tern_dhcp::Request;
use tern_ncr::{ChangeType, Fqdn};

const FLAG_S: u8 = 0x01;
const FLAG_E: u8 = 0x04;
const FLAG_N: u8 = 0x08;

/// A minimal DHCPREQUEST (chaddr 02:00:00:00:00:01), parsed as the server parses one.
fn base_request() -> Request {
    let mut p = vec![0u8; 240];
    p[0] = 1; // BOOTREQUEST
    p[1] = 1; // Ethernet
    p[2] = 6;
    p[4..8].copy_from_slice(&[1, 2, 3, 4]);
    p[28..34].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    p[236..240].copy_from_slice(&[99, 130, 83, 99]);
    p.extend_from_slice(&[53, 1, 3, 255]);
    p.resize(300, 0);
    Request::parse(&p).expect("a valid DHCPREQUEST")
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Some((&charset, rest)) = rest.split_first() else {
        return;
    };
    let Some((&len81, rest)) = rest.split_first() else {
        return;
    };
    let (opt81, rest) = if len81 == 255 {
        (None, rest)
    } else {
        let n = usize::from(len81).min(rest.len());
        (Some(&rest[..n]), &rest[n..])
    };
    let (opt12, reserved) = rest.split_at(rest.len() / 2);

    let replace = match sel & 3 {
        0 => ReplaceClientName::Never,
        1 => ReplaceClientName::Always,
        2 => ReplaceClientName::WhenPresent,
        _ => ReplaceClientName::WhenNotPresent,
    };
    let params = DdnsParams {
        override_no_update: Some(sel & 4 != 0),
        override_client_update: Some(sel & 8 != 0),
        replace_client_name: Some(replace),
        qualifying_suffix: (sel & 16 != 0).then(|| "Example.COM.".to_string()),
        hostname_char_set: match charset % 3 {
            0 => None,
            1 => Some(String::new()),
            _ => Some("[^a-z0-9-]".to_string()),
        },
        hostname_char_replacement: (charset % 3 == 2).then(|| "x".to_string()),
        ..DdnsParams::default()
    };
    let cfg = DdnsConfig::resolve(true, &[&params]);

    let mut req = base_request();
    req.client_fqdn = opt81.map(<[u8]>::to_vec);
    req.hostname =
        (sel & 128 != 0 && !opt12.is_empty()).then(|| String::from_utf8_lossy(opt12).into_owned());
    if sel & 64 != 0 {
        req.client_id = Some(vec![1, 2, 0, 0, 0, 0, 1]);
    }
    let reserved = (sel & 32 != 0).then(|| String::from_utf8_lossy(reserved).into_owned());
    let addr = Ipv4Addr::new(192, 0, 2, 10);

    let d = decide_name(&cfg, &req, reserved.as_deref(), addr);

    let Some(fqdn) = &d.fqdn else {
        assert!(!d.fwd && !d.rev, "DNS updates without a name: {d:?}");
        assert!(d.reply_fqdn.is_none(), "reply FQDN without a name: {d:?}");
        return;
    };
    assert!(
        fqdn.ends_with('.') && fqdn.len() > 1,
        "not absolute: {fqdn:?}"
    );
    assert!(Fqdn::new(fqdn).is_ok(), "not a DNS name: {fqdn:?}");

    if d.fwd || d.rev {
        let n = ncr(
            ChangeType::Add,
            &cfg,
            fqdn,
            d.fwd,
            d.rev,
            addr,
            req.client_id.as_deref(),
            req.htype,
            &req.chaddr,
            3600,
        )
        .unwrap_or_else(|| panic!("no NCR for {fqdn:?} ({d:?})"));
        if let Err(e) = n.validate() {
            panic!("invalid NCR for {fqdn:?}: {e}");
        }
    }

    // N and S both set is no valid request (RFC 4702 §2.1): ignored, as Kea does.
    let sent81 = req
        .client_fqdn
        .as_deref()
        .and_then(ClientFqdn::parse)
        .filter(|c| c.flags & (FLAG_N | FLAG_S) != FLAG_N | FLAG_S);
    match (&sent81, &d.reply_fqdn) {
        (None, None) => {}
        (None, Some(r)) => panic!("option 81 in the reply, none readable sent: {r:?}"),
        (Some(_), None) => panic!("option 81 sent, none in the reply: {d:?}"),
        (Some(sent), Some(r)) => {
            assert!(
                r.len() >= 3 && r[1..3] == [255, 255],
                "reply option 81 {r:?}"
            );
            let flags = r[0];
            assert_eq!(flags & FLAG_E, sent.flags & FLAG_E, "E flag not echoed");
            if flags & FLAG_N != 0 {
                assert!(!d.fwd && !d.rev && flags & FLAG_S == 0, "N set, yet {d:?}");
            }
            assert_eq!(
                flags & FLAG_S != 0,
                d.fwd,
                "S flag vs forward update: {d:?}"
            );
            // The reply names the lease's name: the same DNS wire form (E), the same
            // text (ASCII).
            let lease_name = Fqdn::new(fqdn).expect("checked above");
            let expected = if flags & FLAG_E != 0 {
                lease_name.wire()
            } else {
                fqdn.as_bytes()
            };
            assert_eq!(
                &r[3..],
                expected,
                "the reply names another name than the lease ({d:?})"
            );
        }
    }
});
