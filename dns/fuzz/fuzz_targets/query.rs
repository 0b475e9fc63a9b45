//! Any bytes as a DNS message to the zone server: answered or dropped, never a panic; an
//! answer is always a well-formed response to the message's ID. Covers the fast path (plain
//! questions, kept answers), the full path (EDNS, TSIG checks with a known key, transfers,
//! NOTIFY) and UPDATE's parsing and planning (without a store, nothing is applied).
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use hickory_proto::op::{Message, MessageType};
use libfuzzer_sys::fuzz_target;
use tern_dns::catalog::Catalog;
use tern_dns::handler::{Handler, Transport};
use tern_dns::zone::{SoaFields, Zone};
use tern_dnsmsg::tsig::{Algorithm, TsigKey};

static HANDLER: LazyLock<Handler> = LazyLock::new(|| {
    let soa = SoaFields {
        ttl: 3600,
        mname: "ns.example.com.".into(),
        rname: "hostmaster.example.com.".into(),
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: 300,
    };
    let rows = [
        ("example.com.", "NS", 3600, "ns.example.com."),
        ("ns.example.com.", "A", 3600, "192.0.2.53"),
        ("www.example.com.", "CNAME", 300, "host.example.com."),
        ("host.example.com.", "A", 300, "192.0.2.1"),
        ("host.example.com.", "AAAA", 300, "2001:db8::1"),
        ("*.wild.example.com.", "TXT", 60, "\"w\""),
        ("sub.example.com.", "NS", 3600, "ns.sub.example.com."),
        ("ns.sub.example.com.", "A", 3600, "192.0.2.54"),
        ("example.com.", "MX", 3600, "10 host.example.com."),
    ];
    let (zone, _) = Zone::build(1, "example.com.", 1, soa, rows).expect("zone");
    let catalog = Arc::new(Catalog::new());
    catalog.insert(zone);
    let key = TsigKey::new(
        "k.".parse().expect("name"),
        Algorithm::HmacSha256,
        vec![7; 32],
        0,
    )
    .expect("key");
    Handler::new(catalog, vec![key])
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
});

fn check(input: &[u8], reply: &[Vec<u8>]) {
    for m in reply {
        let answer = Message::from_vec(m).expect("an answer tern sent must parse");
        assert_eq!(answer.metadata.message_type, MessageType::Response);
        assert_eq!(&m[..2], &input[..2], "the ID is echoed");
    }
}

fuzz_target!(|data: &[u8]| {
    let (transport, bytes) = match data.split_first() {
        Some((t, rest)) if t & 1 == 1 => (Transport::Tcp, rest),
        Some((_, rest)) => (Transport::Udp, rest),
        None => return,
    };
    let src: SocketAddr = "127.0.0.1:5300".parse().expect("address");
    let h = &*HANDLER;
    if let Some(reply) = h.answer_fast(bytes, transport) {
        check(bytes, &reply);
    }
    let reply = RUNTIME.block_on(h.handle(bytes, src, transport));
    check(bytes, &reply);
});
