//! Arbitrary bytes through the DHCPv6 codec (`v6::wire`): never a panic, and whatever
//! decodes comes back whole:
//! * `decode(encode(p)) == p`;
//! * `encode(p)` is the input byte for byte, except in the two cases the module names:
//!   a relay-message option that was not its relay's last option is encoded last
//!   (checked here against the input with those options moved, by a walker of its own),
//!   and a status message that is not UTF-8 is read lossily (then only the first
//!   property is checked);
//! * what `encode` writes is a fixed point: it decodes and encodes to itself;
//! * `relays()` and `client()` agree with the nesting, at most 32 relays;
//! * a client FQDN's text, when it reads, is made back into the same name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_dhcp::v6::wire::{ClientFqdn, Opt, Packet, MAX_RELAY_HOPS};

const RELAY_MSG: u16 = 9;

/// `buf`, a datagram `Packet::decode` accepted, with each relay's relay-message
/// option moved after the relay's other options (RFC 8415 §9 layout: 34-byte header,
/// then options of code, length, data).
fn relay_msg_last(buf: &[u8]) -> Vec<u8> {
    if buf[0] != 12 && buf[0] != 13 {
        return buf.to_vec();
    }
    let mut out = buf[..34].to_vec();
    let mut inner = None;
    let mut i = 34;
    while i < buf.len() {
        let code = u16::from_be_bytes([buf[i], buf[i + 1]]);
        let len = usize::from(u16::from_be_bytes([buf[i + 2], buf[i + 3]]));
        let end = i + 4 + len;
        if code == RELAY_MSG {
            inner = Some(relay_msg_last(&buf[i + 4..end]));
        } else {
            out.extend_from_slice(&buf[i..end]);
        }
        i = end;
    }
    let inner = inner.expect("a decoded relay has its relay message");
    out.extend_from_slice(&RELAY_MSG.to_be_bytes());
    out.extend_from_slice(&(inner.len() as u16).to_be_bytes());
    out.extend_from_slice(&inner);
    out
}

/// A status message with a replacement character somewhere in `opts`.
fn lossy(opts: &[Opt]) -> bool {
    opts.iter().any(|o| match o {
        Opt::Status { message, .. } => message.contains('\u{fffd}'),
        Opt::IaNa(ia) | Opt::IaPd(ia) => lossy(&ia.options),
        Opt::IaTa { options, .. } => lossy(options),
        Opt::IaAddr(a) => lossy(&a.options),
        Opt::IaPrefix(p) => lossy(&p.options),
        _ => false,
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(p) = Packet::decode(data) else {
        return;
    };
    let wire = p.encode();
    assert_eq!(
        Packet::decode(&wire).as_ref(),
        Ok(&p),
        "decode(encode(p)) != p"
    );
    assert_eq!(
        Packet::decode(&wire).unwrap().encode(),
        wire,
        "no fixed point"
    );

    let relays = p.relays();
    assert!(relays.len() <= MAX_RELAY_HOPS);
    let innermost = relays.last().map_or(&p, |r| &*r.inner);
    assert_eq!(Packet::Client(p.client().clone()), *innermost);

    let lossy = lossy(&p.client().options) || relays.iter().any(|r| lossy(&r.options));
    if !lossy {
        assert_eq!(wire, relay_msg_last(data), "encode is not byte-exact");
    }

    for o in &p.client().options {
        let Opt::ClientFqdn(f) = o else { continue };
        let Some((text, full)) = f.text() else {
            continue;
        };
        // Text and labels are one to one when no label holds a dot or bad UTF-8
        // (a length byte of 46 is a dot too: such names are skipped, no matter).
        if std::str::from_utf8(&f.name).is_ok() && !f.name.contains(&b'.') {
            assert_eq!(ClientFqdn::from_text(f.flags, &text, full), *f);
        }
    }
});
