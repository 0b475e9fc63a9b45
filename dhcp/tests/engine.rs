//! The engine against a real PostgreSQL, without sockets: requests in, replies and
//! rows out. Covers what the client tools cannot easily show: relayed clients (giaddr,
//! option 82), DNS names and their NCRs written with the lease, two engines sharing
//! one database.

use std::net::Ipv4Addr;
use std::sync::Arc;

use tern_dhcp::decide::{Destination, Ingress};
use tern_dhcp::{
    CommitSettings, Engine, Outcome, ReplyKind, Request, RequestKind, ServerConfig, Stats,
};
use tern_store::testing;

const CONFIG: &str = r#"{"Dhcp4": {
    "valid-lifetime": 3600,
    "dhcp-ddns": {"enable-updates": true},
    "ddns-qualifying-suffix": "example.com",
    "subnet4": [
      {"id": 1, "subnet": "192.0.2.0/24", "interface": "eth0",
       "pools": [{"pool": "192.0.2.10 - 192.0.2.13"}]},
      {"id": 2, "subnet": "198.51.100.0/24", "relay": {"ip-addresses": ["10.9.9.9"]},
       "ddns-send-updates": false,
       "option-data": [{"name": "routers", "data": "198.51.100.1"}],
       "pools": [{"pool": "198.51.100.10 - 198.51.100.20"}]}
    ]}}"#;

async fn engine(store: tern_store::Store) -> Engine {
    engine_with(CONFIG, store).await
}

async fn engine_with(text: &str, store: tern_store::Store) -> Engine {
    let c = tern_config::parse_str(text, "engine.json").unwrap();
    let cfg = ServerConfig::from_config(c.dhcp4.as_ref().unwrap()).unwrap();
    Engine::start(
        Arc::new(cfg),
        store,
        Arc::new(Stats::default()),
        CommitSettings::default(),
    )
    .await
    .unwrap()
}

fn ingress() -> Ingress {
    Ingress {
        iface: "eth0".into(),
        addr: Ipv4Addr::new(192, 0, 2, 1),
    }
}

fn req(kind: RequestKind, mac: u8) -> Request {
    Request {
        prl: vec![1, 3],
        ..Request::new(kind, u32::from(mac), vec![2, 0, 0, 0, 0, mac])
    }
}

async fn respond(e: &Engine, r: &Request) -> (tern_dhcp::Reply, Destination) {
    match e.dispatch(r, &ingress()).await.unwrap() {
        Outcome::Respond(reply, dest) => (reply, dest),
        Outcome::NoResponse => panic!("no response to {:?}", r.kind),
    }
}

/// DISCOVER then REQUEST (SELECTING); returns the ACK.
async fn obtain(e: &Engine, mut r: Request) -> tern_dhcp::Reply {
    r.kind = RequestKind::Discover;
    let (offer, _) = respond(e, &r).await;
    assert_eq!(offer.kind, ReplyKind::Offer);
    if r.client_fqdn.is_some() && r.giaddr.is_unspecified() {
        assert!(
            offer.options.iter().any(|o| o.0 == 81),
            "option 81 in the offer"
        );
    }
    r.kind = RequestKind::Request;
    r.requested_ip = Some(offer.yiaddr);
    r.server_id = Some(Ipv4Addr::new(192, 0, 2, 1));
    let (ack, _) = respond(e, &r).await;
    assert_eq!(ack.kind, ReplyKind::Ack);
    assert_eq!(ack.yiaddr, offer.yiaddr);
    ack
}

#[tokio::test]
async fn names_and_ncrs_are_written_with_the_lease() {
    let db = testing::fresh_db().await;
    let e = engine(db.store().clone()).await;
    let mut r = req(RequestKind::Discover, 1);
    r.hostname = Some("laptop".into());
    // RFC 4702 option 81, ASCII, S set, partial name.
    r.client_fqdn = Some(b"\x01\0\0laptop".to_vec());
    let ack = obtain(&e, r.clone()).await;
    let fqdn = ack
        .options
        .iter()
        .find(|o| o.0 == 81)
        .expect("option 81 answered");
    assert_eq!(fqdn.1, b"\x01\xff\xfflaptop.example.com.".to_vec());
    let (hostname, fwd, rev): (String, bool, bool) =
        sqlx::query_as("SELECT hostname, fqdn_fwd, fqdn_rev FROM lease4 WHERE address = $1")
            .bind(i64::from(u32::from(ack.yiaddr)))
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        (hostname.as_str(), fwd, rev),
        ("laptop.example.com.", true, true)
    );
    let rows: Vec<(i16, String, String)> = sqlx::query_as(
        "SELECT change_type, fqdn, host(ip_address) FROM tern.ncr_queue ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![(0, "laptop.example.com.".to_string(), ack.yiaddr.to_string())]
    );

    // Renewing with the same name adds nothing.
    let mut renew = r.clone();
    renew.kind = RequestKind::Request;
    renew.ciaddr = ack.yiaddr;
    let (again, dest) = respond(&e, &renew).await;
    assert_eq!(again.kind, ReplyKind::Ack);
    assert_eq!(dest, Destination::Unicast(ack.yiaddr));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM tern.ncr_queue")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);

    // Release: the remove NCR is queued with the release.
    let mut rel = req(RequestKind::Release, 1);
    rel.ciaddr = ack.yiaddr;
    assert_eq!(
        e.dispatch(&rel, &ingress()).await.unwrap(),
        Outcome::NoResponse
    );
    let last: (i16, String) =
        sqlx::query_as("SELECT change_type, fqdn FROM tern.ncr_queue ORDER BY id DESC LIMIT 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(last, (1, "laptop.example.com.".to_string()));

    // Expiry: another client's lease runs out; reclamation queues its removal.
    let mut other = req(RequestKind::Discover, 3);
    other.hostname = Some("desk".into());
    let ack = obtain(&e, other).await;
    assert!(
        ack.options.contains(&(12, b"desk.example.com".to_vec())),
        "option 12 answered with the qualified name"
    );
    assert_eq!(e.reclaim(100).await.unwrap(), 0, "nothing expired yet");
    sqlx::query("UPDATE lease4 SET expire = now() - interval '1 second' WHERE address = $1")
        .bind(i64::from(u32::from(ack.yiaddr)))
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(e.reclaim(100).await.unwrap(), 1);
    assert_eq!(e.stats().get("reclaimed-leases"), Some(1));
    let state: i64 = sqlx::query_scalar("SELECT state FROM lease4 WHERE address = $1")
        .bind(i64::from(u32::from(ack.yiaddr)))
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(state, 2);
    let last: (i16, String) =
        sqlx::query_as("SELECT change_type, fqdn FROM tern.ncr_queue ORDER BY id DESC LIMIT 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(last, (1, "desk.example.com.".to_string()));
}

#[tokio::test]
async fn relayed_clients_get_the_relays_subnet_and_option_82_back() {
    let db = testing::fresh_db().await;
    let e = engine(db.store().clone()).await;
    let mut r = req(RequestKind::Discover, 2);
    r.giaddr = Ipv4Addr::new(10, 9, 9, 9);
    r.hops = 1;
    r.relay_info = Some(b"\x01\x05port7".to_vec());
    r.circuit_id = Some(b"port7".to_vec());
    let (offer, dest) = respond(&e, &r).await;
    assert_eq!(dest, Destination::Relay(Ipv4Addr::new(10, 9, 9, 9)));
    assert_eq!(offer.giaddr, r.giaddr);
    assert!(offer.yiaddr.octets()[..3] == [198, 51, 100]);
    let codes: Vec<u8> = offer.options.iter().map(|o| o.0).collect();
    assert_eq!(codes.last(), Some(&82), "option 82 last: {codes:?}");
    assert!(offer.options.contains(&(82, b"\x01\x05port7".to_vec())));
    assert!(offer.options.contains(&(3, vec![198, 51, 100, 1])));
    // A REQUEST for an address of another subnet through this relay: NAK, broadcast bit.
    let mut bad = r.clone();
    bad.kind = RequestKind::Request;
    bad.requested_ip = Some(Ipv4Addr::new(192, 0, 2, 10));
    bad.server_id = Some(Ipv4Addr::new(192, 0, 2, 1));
    let (nak, dest) = respond(&e, &bad).await;
    assert_eq!(nak.kind, ReplyKind::Nak);
    assert!(nak.broadcast);
    assert_eq!(dest, Destination::Relay(r.giaddr));
    // DDNS is off in that subnet: no NCR.
    let mut ok = r.clone();
    ok.hostname = Some("relayed".into());
    obtain(&e, ok).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM tern.ncr_queue")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn two_engines_on_one_database_share_a_small_pool_safely() {
    let db = testing::fresh_db().await;
    let settings = db.connect_settings().clone();
    let one = engine(tern_store::Store::connect(&settings).await.unwrap()).await;
    let two = engine(tern_store::Store::connect(&settings).await.unwrap()).await;
    // Four addresses, eight clients at once across two servers: four get leases,
    // the others NAKs or nothing, never a shared address.
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let e = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move {
            let mut r = req(RequestKind::Discover, 10 + i);
            let offer = match e.dispatch(&r, &ingress()).await.unwrap() {
                Outcome::Respond(o, _) => o,
                Outcome::NoResponse => return None,
            };
            r.kind = RequestKind::Request;
            r.requested_ip = Some(offer.yiaddr);
            r.server_id = Some(Ipv4Addr::new(192, 0, 2, 1));
            match e.dispatch(&r, &ingress()).await.unwrap() {
                Outcome::Respond(a, _) if a.kind == ReplyKind::Ack => Some(a.yiaddr),
                _ => None,
            }
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        if let Some(a) = t.await.unwrap() {
            got.push(a);
        }
    }
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        got.len(),
        "an address was acknowledged twice: {got:?}"
    );
    assert!(got.len() <= 4);
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT hwaddr) FROM lease4 WHERE state = 0")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(rows, got.len() as i64);
    assert_eq!(distinct, rows);
}

#[tokio::test]
async fn a_full_subnet_overflows_into_its_shared_network() {
    let db = testing::fresh_db().await;
    let e = engine_with(
        r#"{"Dhcp4": {"shared-networks": [{"name": "floor1", "interface": "eth0",
            "subnet4": [
              {"id": 10, "subnet": "192.0.2.0/24", "pools": [{"pool": "192.0.2.10 - 192.0.2.10"}]},
              {"id": 11, "subnet": "203.0.113.0/24", "pools": [{"pool": "203.0.113.10 - 203.0.113.10"}]}
            ]}]}}"#,
        db.store().clone(),
    ).await;
    let a = obtain(&e, req(RequestKind::Discover, 21)).await;
    let b = obtain(&e, req(RequestKind::Discover, 22)).await;
    let mut got = vec![a.yiaddr, b.yiaddr];
    got.sort();
    assert_eq!(
        got,
        vec![Ipv4Addr::new(192, 0, 2, 10), Ipv4Addr::new(203, 0, 113, 10)]
    );
    // Full: a third client gets nothing.
    let r = req(RequestKind::Discover, 23);
    assert_eq!(
        e.dispatch(&r, &ingress()).await.unwrap(),
        Outcome::NoResponse
    );
    assert_eq!(e.stats().get("v4-allocation-fail"), Some(1));
    let subnets: Vec<i64> = sqlx::query_scalar("SELECT subnet_id FROM lease4 ORDER BY subnet_id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(subnets, vec![10, 11]);
}

#[tokio::test]
async fn inform_gets_configuration_without_a_lease() {
    let db = testing::fresh_db().await;
    let e = engine(db.store().clone()).await;
    let mut r = req(RequestKind::Inform, 31);
    r.ciaddr = Ipv4Addr::new(192, 0, 2, 200);
    let (ack, dest) = respond(&e, &r).await;
    assert_eq!(ack.kind, ReplyKind::Ack);
    assert_eq!(ack.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(ack.ciaddr, r.ciaddr);
    assert_eq!(dest, Destination::Unicast(r.ciaddr));
    assert!(ack.options.iter().all(|o| o.0 != 51), "no lease time");
    assert!(ack.options.contains(&(1, vec![255, 255, 255, 0])));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM lease4")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_renewal_is_refused_once_the_address_is_reserved_for_another_client() {
    let db = testing::fresh_db().await;
    let e = engine(db.store().clone()).await;
    let ack = obtain(&e, req(RequestKind::Discover, 41)).await;
    let mut renew = req(RequestKind::Request, 41);
    renew.ciaddr = ack.yiaddr;
    assert_eq!(respond(&e, &renew).await.0.kind, ReplyKind::Ack);
    // An operator reserves the address for another machine, by plain SQL.
    sqlx::query("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, ipv4_address, dhcp4_subnet_id) VALUES ($1, 0, $2, 1)")
        .bind(&[2u8, 0, 0, 0, 0, 99][..])
        .bind(i64::from(u32::from(ack.yiaddr)))
        .execute(db.pool())
        .await
        .unwrap();
    // The row reaches the engine by notification, within milliseconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !e.hosts().is_reserved(1, ack.yiaddr) {
        assert!(
            std::time::Instant::now() < deadline,
            "reservation never reached the engine"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (nak, _) = respond(&e, &renew).await;
    assert_eq!(nak.kind, ReplyKind::Nak);
    // Starting over, the first client is offered another address.
    let (offer, _) = respond(&e, &req(RequestKind::Discover, 41)).await;
    assert_ne!(offer.yiaddr, ack.yiaddr);
}

#[tokio::test]
async fn reusing_an_expired_unreclaimed_lease_removes_the_old_name_first() {
    let db = testing::fresh_db().await;
    let e = engine(db.store().clone()).await;
    let mut first = req(RequestKind::Discover, 7);
    first.hostname = Some("old".into());
    let ack = obtain(&e, first).await;
    let address = ack.yiaddr;
    assert_eq!(e.stats().get("subnet[1].assigned-addresses"), Some(1));
    // The lease runs out, and another client asks for the address before the
    // reclamation timer has run.
    sqlx::query("UPDATE lease4 SET expire = now() - interval '1 second' WHERE address = $1")
        .bind(i64::from(u32::from(address)))
        .execute(db.pool())
        .await
        .unwrap();
    let mut second = req(RequestKind::Request, 8);
    second.hostname = Some("new".into());
    second.requested_ip = Some(address);
    second.server_id = Some(Ipv4Addr::new(192, 0, 2, 1));
    let (reply, _) = respond(&e, &second).await;
    assert_eq!(reply.kind, ReplyKind::Ack);
    assert_eq!(reply.yiaddr, address);
    let rows: Vec<(i16, String)> =
        sqlx::query_as("SELECT change_type, fqdn FROM tern.ncr_queue ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![
            (0, "old.example.com.".to_string()),
            (1, "old.example.com.".to_string()),
            (0, "new.example.com.".to_string()),
        ]
    );
    // One address, one lease: the old one is not counted twice.
    assert_eq!(e.stats().get("subnet[1].assigned-addresses"), Some(1));
}

#[tokio::test]
async fn custom_option_definitions_are_sent_with_their_sub_options() {
    let db = testing::fresh_db().await;
    // The seed's custom option (section 4.14) and a vendor space carried in option 43.
    let e = engine_with(
        r#"{"Dhcp4": {
            "option-def": [
              {"name": "my-message", "code": 234, "type": "string", "array": false,
               "record-types": "", "space": "dhcp4", "encapsulate": ""},
              {"name": "vendor-opts", "code": 43, "type": "empty", "encapsulate": "PXE"},
              {"space": "PXE", "name": "discovery-control", "code": 6, "type": "uint8"},
              {"space": "PXE", "name": "boot-server", "code": 8, "type": "record",
               "record-types": "uint8, uint8, uint8, ipv4-address"},
              {"space": "PXE", "name": "boot-menu", "code": 9, "type": "record",
               "record-types": "uint16, uint8, string"},
              {"name": "ntp-list", "code": 235, "type": "ipv4-address", "array": true}
            ],
            "option-data": [
              {"name": "my-message", "space": "dhcp4", "csv-format": true, "data": "Hello World"},
              {"name": "vendor-opts", "always-send": true},
              {"space": "PXE", "name": "discovery-control", "data": "7"},
              {"space": "PXE", "name": "boot-server", "data": "255, 241, 01, 192.0.2.1"},
              {"space": "PXE", "name": "boot-menu", "data": "65535, 28, PXE Boot Menu, static"},
              {"name": "ntp-list", "data": "192.0.2.7, 192.0.2.8"}
            ],
            "subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "interface": "eth0",
                         "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}]}]}}"#,
        db.store().clone(),
    )
    .await;
    let mut r = req(RequestKind::Discover, 5);
    r.prl = vec![1, 3, 234, 235];
    let (offer, _) = respond(&e, &r).await;
    let opt = |code: u8| {
        offer
            .options
            .iter()
            .find(|o| o.0 == code)
            .map(|o| o.1.clone())
    };
    assert_eq!(opt(234).as_deref(), Some(&b"Hello World"[..]));
    assert_eq!(opt(235), Some(vec![192, 0, 2, 7, 192, 0, 2, 8]));
    let mut pxe = vec![6, 1, 7, 8, 7, 255, 241, 1, 192, 0, 2, 1, 9];
    // Values past the record's fields are left out, as Kea 2.2 does (compared with Kea
    // by tests/classes_oracle.rs): the menu's text stops at its comma.
    let menu = b"PXE Boot Menu";
    pxe.push((3 + menu.len()) as u8);
    pxe.extend([0xff, 0xff, 28]);
    pxe.extend(menu);
    assert_eq!(
        opt(43),
        Some(pxe),
        "always-send option 43 carries the PXE space"
    );
}

#[tokio::test]
async fn a_declined_address_returns_to_the_pool_when_its_probation_ends() {
    let db = testing::fresh_db().await;
    let e = engine_with(
        r#"{"Dhcp4": {"decline-probation-period": 1,
            "subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "interface": "eth0",
                         "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}]}]}}"#,
        db.store().clone(),
    )
    .await;
    let ack = obtain(&e, req(RequestKind::Discover, 9)).await;
    let mut decline = req(RequestKind::Decline, 9);
    decline.requested_ip = Some(ack.yiaddr);
    decline.server_id = Some(Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(
        e.dispatch(&decline, &ingress()).await.unwrap(),
        Outcome::NoResponse
    );
    assert_eq!(e.stats().get("subnet[1].declined-addresses"), Some(1));
    assert_eq!(e.stats().get("subnet[1].assigned-addresses"), Some(0));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(e.reclaim(100).await.unwrap(), 1);
    assert_eq!(e.stats().get("subnet[1].declined-addresses"), Some(0));
    assert_eq!(e.stats().get("reclaimed-declined-addresses"), Some(1));
    assert_eq!(e.stats().get("subnet[1].assigned-addresses"), Some(0));
    let row: i64 = sqlx::query_scalar("SELECT state FROM lease4 WHERE address = $1")
        .bind(i64::from(u32::from(ack.yiaddr)))
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(row, 2, "expired-reclaimed, as Kea leaves it");
}

#[tokio::test]
async fn gauges_follow_leases_written_by_others() {
    let db = testing::fresh_db().await;
    let e = engine(db.store().clone()).await;
    obtain(&e, req(RequestKind::Discover, 3)).await;
    assert_eq!(e.stats().get("subnet[1].assigned-addresses"), Some(1));
    // Another appliance (or the API, or SQL) grants a lease in the same subnet.
    sqlx::query(
        "INSERT INTO lease4 (address, hwaddr, valid_lifetime, expire, subnet_id, state) \
         VALUES (3221225995, '\\x020000000063', 3600, now() + interval '1 hour', 1, 0)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    e.recount().await.unwrap();
    assert_eq!(e.stats().get("subnet[1].assigned-addresses"), Some(2));
}

/// Kea's bootp hook, built in: a BOOTREQUEST (no option 53) gets a lease that never
/// expires and a BOOTREPLY without the DHCP-only options; without the hook it is dropped.
#[tokio::test]
async fn bootp_clients_get_a_lease_that_never_expires_with_the_bootp_hook() {
    let db = testing::fresh_db().await;
    let text = r#"{"Dhcp4": {
        "hooks-libraries": [{"library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_bootp.so"}],
        "client-classes": [{"name": "BOOTP", "boot-file-name": "bootp.img"}],
        "subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "interface": "eth0",
                     "option-data": [{"name": "routers", "data": "192.0.2.1"}],
                     "pools": [{"pool": "192.0.2.10 - 192.0.2.13"}]}]}}"#;
    let e = engine_with(text, db.store().clone()).await;
    let r = req(RequestKind::Bootp, 0x61);
    let (reply, _) = respond(&e, &r).await;
    assert!(reply.bootp);
    assert!(
        (10..=13).contains(&reply.yiaddr.octets()[3]),
        "{:?}",
        reply.yiaddr
    );
    assert_eq!(
        reply.file.as_deref(),
        Some("bootp.img"),
        "the BOOTP class's file"
    );
    let wire = reply.encode();
    assert_eq!(wire.len(), 300, "padded to BOOTP's 300 bytes");
    let codes: Vec<u8> = {
        let mut i = 240;
        let mut v = Vec::new();
        while i < wire.len() && wire[i] != 255 {
            v.push(wire[i]);
            i += 2 + usize::from(wire[i + 1]);
        }
        v
    };
    assert_eq!(codes, vec![1, 3], "mask and routers only: {codes:?}");
    let (valid,): (i64,) = sqlx::query_as("SELECT valid_lifetime FROM lease4 WHERE address = $1")
        .bind(i64::from(u32::from(reply.yiaddr)))
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(valid, i64::from(u32::MAX), "infinite, as Kea stores it");

    // Without the hook: no answer.
    let db2 = testing::fresh_db().await;
    let e2 = engine(db2.store().clone()).await;
    assert!(matches!(
        e2.dispatch(&req(RequestKind::Bootp, 0x62), &ingress())
            .await
            .unwrap(),
        Outcome::NoResponse
    ));
}
