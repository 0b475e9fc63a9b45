//! The zone server as dig and kdig see it: authoritative semantics, EDNS, truncation and
//! TCP, refusals and junk.

mod common;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use common::{dig, flags, flat, serve, status, zone};
use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};

fn example() -> Vec<tern_dns::zone::Zone> {
    let mut rows: Vec<(String, String, u32, String)> = vec![
        (
            "example.com.".into(),
            "NS".into(),
            3600,
            "ns.example.com.".into(),
        ),
        (
            "ns.example.com.".into(),
            "A".into(),
            3600,
            "127.0.0.1".into(),
        ),
        (
            "Printer.example.com.".into(),
            "A".into(),
            300,
            "192.0.2.10".into(),
        ),
        (
            "www.example.com.".into(),
            "CNAME".into(),
            300,
            "printer.example.com.".into(),
        ),
        (
            "*.lab.example.com.".into(),
            "A".into(),
            60,
            "192.0.2.99".into(),
        ),
        (
            "sub.example.com.".into(),
            "NS".into(),
            3600,
            "ns1.sub.example.com.".into(),
        ),
        (
            "ns1.sub.example.com.".into(),
            "A".into(),
            3600,
            "192.0.2.53".into(),
        ),
    ];
    // 100 TXT records at one name: too big for 1232 bytes of UDP.
    for i in 0..100 {
        rows.push((
            "big.example.com.".into(),
            "TXT".into(),
            60,
            format!("\"record number {i:03} of the big set\""),
        ));
    }
    let refs: Vec<(&str, &str, u32, &str)> = rows
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), *c, d.as_str()))
        .collect();
    vec![
        zone(1, "example.com.", 2026120701, &refs),
        zone(
            2,
            "2.0.192.in-addr.arpa.",
            1,
            &[(
                "10.2.0.192.in-addr.arpa.",
                "PTR",
                300,
                "printer.example.com.",
            )],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_authoritative_with_the_soa_on_negatives() {
    let s = serve(example(), |_| {}).await;
    let a = s.addr;
    let out = tokio::task::spawn_blocking(move || {
        let pos = dig(a, &["printer.example.com", "A"]);
        let nx = dig(a, &["nope.example.com", "A"]);
        let nodata = dig(a, &["printer.example.com", "MX"]);
        let ptr = dig(a, &["-x", "192.0.2.10"]);
        let cname = dig(a, &["www.example.com", "A"]);
        let wild = dig(a, &["x.lab.example.com", "A"]);
        let referral = dig(a, &["host.sub.example.com", "A"]);
        let other = dig(a, &["example.org", "A"]);
        (pos, nx, nodata, ptr, cname, wild, referral, other)
    })
    .await
    .unwrap();
    let (pos, nx, nodata, ptr, cname, wild, referral, other) = out;
    let (pos, nx, nodata, ptr, cname, wild, referral, other) = (
        flat(&pos),
        flat(&nx),
        flat(&nodata),
        flat(&ptr),
        flat(&cname),
        flat(&wild),
        flat(&referral),
        flat(&other),
    );
    assert_eq!(status(&pos), "NOERROR", "{pos}");
    assert!(flags(&pos).contains("aa"), "{pos}");
    assert!(!flags(&pos).contains("ra"), "no recursion offered: {pos}");
    assert!(
        pos.contains("Printer.example.com. 300 IN A 192.0.2.10"),
        "case kept: {pos}"
    );
    assert_eq!(status(&nx), "NXDOMAIN", "{nx}");
    assert!(nx.contains("AUTHORITY SECTION:\nexample.com. 300 IN SOA ns.example.com. hostmaster.example.com. 2026120701"), "{nx}");
    assert_eq!(status(&nodata), "NOERROR");
    assert!(
        nodata.contains("ANSWER: 0") && nodata.contains("IN SOA"),
        "{nodata}"
    );
    assert!(ptr.contains("PTR printer.example.com."), "{ptr}");
    assert!(
        cname.contains("CNAME printer.example.com.") && cname.contains("192.0.2.10"),
        "{cname}"
    );
    assert!(
        wild.contains("x.lab.example.com. 60 IN A 192.0.2.99"),
        "{wild}"
    );
    assert!(!flags(&referral).contains("aa"), "{referral}");
    assert!(
        referral.contains("AUTHORITY SECTION:\nsub.example.com.")
            && referral.contains("ns1.sub.example.com. 3600 IN A 192.0.2.53"),
        "{referral}"
    );
    assert_eq!(status(&other), "REFUSED", "{other}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_answers_truncate_over_udp_and_come_whole_over_tcp() {
    let s = serve(example(), |_| {}).await;
    let a = s.addr;
    let (udp, tcp, plain, kdig) = tokio::task::spawn_blocking(move || {
        (
            dig(a, &["+ignore", "big.example.com", "TXT"]),
            dig(a, &["+tcp", "big.example.com", "TXT"]),
            dig(a, &["+noedns", "+ignore", "big.example.com", "TXT"]),
            common::ask("kdig", a, &["+tcp", "big.example.com", "TXT"]),
        )
    })
    .await
    .unwrap();
    assert!(flags(&udp).contains("tc"), "{udp}");
    assert!(udp.contains("udp: 1232"), "our EDNS payload size: {udp}");
    assert!(flags(&plain).contains("tc"), "{plain}");
    assert!(tcp.contains("ANSWER: 100"), "{tcp}");
    assert!(kdig.contains("ANSWER: 100"), "{kdig}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edns_version_and_do_bit() {
    let s = serve(example(), |_| {}).await;
    let a = s.addr;
    let (badvers, dnssec) = tokio::task::spawn_blocking(move || {
        (
            dig(a, &["+edns=1", "+noednsneg", "printer.example.com", "A"]),
            dig(a, &["+dnssec", "printer.example.com", "A"]),
        )
    })
    .await
    .unwrap();
    assert_eq!(status(&badvers), "BADVERS", "{badvers}");
    assert!(dnssec.contains("flags: do;"), "DO echoed: {dnssec}");
    s.stop().await;
}

fn query(id: u16, name: &str, t: RecordType) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.queries
        .push(Query::query(Name::from_ascii(name).unwrap(), t));
    m.to_vec().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_gets_formerr_and_the_server_keeps_answering() {
    let s = serve(example(), |_| {}).await;
    let a = s.addr;
    let (junk, short, response, after) = tokio::task::spawn_blocking(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut buf = [0u8; 4096];
        // A header announcing a question that is not there.
        sock.send_to(&[0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff], a)
            .unwrap();
        let n = sock.recv(&mut buf).unwrap();
        let junk = buf[..n].to_vec();
        // Less than a header: nothing comes back.
        sock.send_to(&[1, 2, 3], a).unwrap();
        let short = sock.recv(&mut buf).is_err();
        // A response (QR set) is never answered.
        let mut resp = query(7, "printer.example.com.", RecordType::A);
        resp[2] |= 0x80;
        sock.send_to(&resp, a).unwrap();
        let response = sock.recv(&mut buf).is_err();
        let after = dig(a, &["printer.example.com", "A"]);
        (junk, short, response, after)
    })
    .await
    .unwrap();
    assert_eq!(&junk[..2], &[0xab, 0xcd], "ID echoed");
    assert_eq!(junk[3] & 0x0f, 1, "FORMERR");
    assert!(junk[2] & 0x80 != 0, "QR set");
    assert!(short, "a fragment of a header is dropped");
    assert!(response, "a response is dropped");
    assert_eq!(status(&after), "NOERROR");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_tcp_queries_are_all_answered_on_one_connection() {
    let s = serve(example(), |_| {}).await;
    let a = s.addr;
    let ids = tokio::task::spawn_blocking(move || {
        let mut c = TcpStream::connect(a).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut out = Vec::new();
        for id in 1..=20u16 {
            let name = if id % 2 == 0 {
                "big.example.com."
            } else {
                "printer.example.com."
            };
            let t = if id % 2 == 0 {
                RecordType::TXT
            } else {
                RecordType::A
            };
            let q = query(id, name, t);
            out.extend_from_slice(&(q.len() as u16).to_be_bytes());
            out.extend_from_slice(&q);
        }
        c.write_all(&out).unwrap();
        let mut ids = Vec::new();
        for _ in 0..20 {
            let mut len = [0u8; 2];
            c.read_exact(&mut len).unwrap();
            let mut m = vec![0u8; u16::from_be_bytes(len) as usize];
            c.read_exact(&mut m).unwrap();
            ids.push(Message::from_vec(&m).unwrap().metadata.id);
        }
        ids
    })
    .await
    .unwrap();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        (1..=20).collect::<Vec<u16>>(),
        "every query answered once"
    );
    s.stop().await;
}

fn exchange(sock: &UdpSocket, to: std::net::SocketAddr, wire: &[u8]) -> Message {
    sock.send_to(wire, to).unwrap();
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).unwrap();
    Message::from_vec(&buf[..n]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_answer_takes_each_query_s_id_case_and_flags_and_a_new_version_drops_it() {
    let s = serve(example(), |_| {}).await;
    let a = s.addr;
    let handler = s.handler.clone();
    let (first, second, after) = tokio::task::spawn_blocking(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let first = exchange(&sock, a, &query(1, "printer.example.com.", RecordType::A));
        let mut q2 = query(2, "PRINTER.Example.Com.", RecordType::A);
        q2[2] |= 0x01; // RD
        let second = exchange(&sock, a, &q2);
        // A new version of the zone: the printer moved.
        let zone = handler
            .catalog
            .find(&Name::from_ascii("example.com.").unwrap())
            .unwrap();
        let (next, _) = zone
            .apply(
                zone.serial() + 1,
                common::soa(),
                [
                    (
                        tern_dns::zone::Op::Delete,
                        "Printer.example.com.",
                        "A",
                        300,
                        "192.0.2.10",
                    ),
                    (
                        tern_dns::zone::Op::Add,
                        "Printer.example.com.",
                        "A",
                        300,
                        "192.0.2.11",
                    ),
                ],
            )
            .unwrap();
        handler.catalog.insert(next);
        let after = exchange(&sock, a, &query(3, "printer.example.com.", RecordType::A));
        (first, second, after)
    })
    .await
    .unwrap();
    assert_eq!(first.metadata.id, 1);
    assert_eq!(second.metadata.id, 2);
    assert!(second.metadata.recursion_desired && !first.metadata.recursion_desired);
    assert_eq!(second.queries[0].name().to_string(), "PRINTER.Example.Com.");
    assert_eq!(first.answers, second.answers, "the same data");
    assert_eq!(
        after.answers[0].data.to_string(),
        "192.0.2.11",
        "no stale answer"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_answers_never_outlive_the_data_they_came_from() {
    use tern_dns::zone::Op;
    let s = serve(example(), |_| {}).await;
    let a = s.addr;
    let handler = s.handler.clone();
    let next = move |changes: &[(Op, &str, &str, u32, &str)]| {
        let zone = handler
            .catalog
            .find(&Name::from_ascii("example.com.").unwrap())
            .unwrap();
        let (z, rejected) = zone
            .apply(zone.serial() + 1, common::soa(), changes.iter().copied())
            .unwrap();
        assert!(rejected.is_empty(), "{rejected:?}");
        handler.catalog.insert(z);
    };
    let out = tokio::task::spawn_blocking(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let ask = |id, name: &str, t| exchange(&sock, a, &query(id, name, t));
        // Kept: an NXDOMAIN, a plain A, and an A behind a CNAME.
        let seen = [
            ask(1, "new.example.com.", RecordType::A)
                .metadata
                .response_code,
            ask(2, "ns.example.com.", RecordType::A)
                .metadata
                .response_code,
        ];
        let _ = ask(3, "www.example.com.", RecordType::A);
        // The name appears, the printer moves (www points to it), and ns.example.com. is
        // delegated away below a new cut at example.com.'s child... of another name.
        next(&[
            (Op::Add, "new.example.com.", "A", 300, "192.0.2.50"),
            (Op::Delete, "Printer.example.com.", "A", 300, "192.0.2.10"),
            (Op::Add, "Printer.example.com.", "A", 300, "192.0.2.11"),
        ]);
        let new = ask(4, "new.example.com.", RecordType::A);
        let www = ask(5, "www.example.com.", RecordType::A);
        let ns = ask(6, "ns.example.com.", RecordType::A);
        // A delegation above a name whose answer is kept: the answer becomes a referral.
        next(&[(Op::Add, "h.deleg.example.com.", "A", 300, "192.0.2.60")]);
        let before = ask(7, "h.deleg.example.com.", RecordType::A);
        assert_eq!(before.answers.len(), 1, "{before:?}");
        next(&[(Op::Add, "deleg.example.com.", "NS", 300, "ns9.example.net.")]);
        let cut = ask(8, "h.deleg.example.com.", RecordType::A);
        (seen, new, www, ns, cut)
    })
    .await
    .unwrap();
    let (seen, new, www, ns, cut) = out;
    assert_eq!(seen[0], hickory_proto::op::ResponseCode::NXDomain);
    assert_eq!(new.answers.len(), 1, "the new name answers: {new:?}");
    assert_eq!(
        www.answers.last().unwrap().data.to_string(),
        "192.0.2.11",
        "the CNAME's target moved: {www:?}"
    );
    assert_eq!(
        ns.answers[0].data.to_string(),
        "127.0.0.1",
        "unchanged: {ns:?}"
    );
    assert!(
        cut.answers.is_empty() && !cut.metadata.authoritative,
        "now below a zone cut: {cut:?}"
    );
    s.stop().await;
}
