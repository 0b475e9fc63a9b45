//! DHCPv6 host reservations against tern's engine, in network namespaces (see
//! `common6`): a client reserved by DUID and one reserved by hardware address get their
//! address, prefix, name and options from the configuration; a reservation inserted by
//! plain SQL into Kea's `hosts`, `ipv6_reservations` and `dhcp6_options` tables is
//! served at the next packet, without a restart. Needs root and iproute2.

mod common6;

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use common6::*;
use tern_dhcp::v6::wire::{code, msg, ClientFqdn, Ia, IaPrefix, Message, Opt};
use tern_dhcp::v6::Config6;
use tern_store::testing;

const BY_DUID_MAC: &str = "02:00:00:00:77:01";
const BY_HW_MAC: &str = "02:00:00:00:88:01";
const BY_SQL_MAC: &str = "02:00:00:00:99:01";

const CONFIG: &str = r#"{"Dhcp6": {
    "interfaces-config": {"interfaces": ["IFACE"]},
    "option-data": [{"name": "dns-servers", "data": "2001:db8:1::53"}],
    "ddns-qualifying-suffix": "example.com",
    "subnet6": [
      {"id": 1, "subnet": "2001:db8:1::/64", "interface": "IFACE",
       "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}],
       "pd-pools": [{"prefix": "2001:db8:8::", "prefix-len": 48, "delegated-len": 56}],
       "reservations": [
         {"duid": "00:03:00:01:02:00:00:00:77:01", "ip-addresses": ["2001:db8:1::77"],
          "prefixes": ["2001:db8:9:7700::/56"], "hostname": "by-duid",
          "option-data": [{"name": "dns-servers", "data": "2001:db8:77::53"}]},
         {"hw-address": "02:00:00:00:88:01", "ip-addresses": ["2001:db8:1::88"],
          "hostname": "by-hw"}
       ]}
    ]
}}"#;

fn ia_pd(iaid: u32) -> Opt {
    Opt::IaPd(Ia {
        iaid,
        t1: 0,
        t2: 0,
        options: Vec::new(),
    })
}

fn the_prefix(m: &Message) -> Option<&IaPrefix> {
    match m.opt(code::IA_PD) {
        Some(Opt::IaPd(ia)) => ia.options.iter().find_map(|o| match o {
            Opt::IaPrefix(p) => Some(p),
            _ => None,
        }),
        _ => None,
    }
}

fn dns_servers(m: &Message) -> Vec<Ipv6Addr> {
    match m.opt(code::DNS_SERVERS) {
        Some(Opt::Other { data, .. }) => data
            .chunks(16)
            .filter_map(|c| <[u8; 16]>::try_from(c).ok().map(Ipv6Addr::from))
            .collect(),
        _ => Vec::new(),
    }
}

fn fqdn_text(m: &Message) -> Option<String> {
    match m.opt(code::CLIENT_FQDN) {
        Some(Opt::ClientFqdn(f)) => f.text().map(|(t, _)| t),
        _ => None,
    }
}

/// SOLICIT with an IA_NA (and an IA_PD when `pd`), ORO 23, and a partial FQDN the
/// reservation's name replaces; then REQUEST what was offered. Returns the REPLY.
async fn solicit_request(c: &RawClient, duid: &[u8], ours: &[u8], xid: u32, pd: bool) -> Message {
    let mut opts = vec![
        Opt::ClientId(duid.to_vec()),
        Opt::ElapsedTime(0),
        Opt::Oro(vec![code::DNS_SERVERS]),
        Opt::ClientFqdn(ClientFqdn::from_text(ClientFqdn::S, "whatever", false)),
        ia_na(1, &[]),
    ];
    if pd {
        opts.push(ia_pd(2));
    }
    let adv = c.exchange(message(msg::SOLICIT, xid, opts.clone())).await;
    assert_eq!(adv.msg_type, msg::ADVERTISE);
    let mut req = opts;
    req.retain(|o| !matches!(o, Opt::IaNa(_) | Opt::IaPd(_)));
    req.push(Opt::ServerId(ours.to_vec()));
    for o in &adv.options {
        if matches!(o, Opt::IaNa(_) | Opt::IaPd(_)) {
            req.push(o.clone());
        }
    }
    c.exchange(message(msg::REQUEST, xid + 1, req)).await
}

async fn server(ns: &Netns) -> Server {
    let text = CONFIG.replace("IFACE", &ns.server_if);
    let config = tern_config::parse_str(&text, "reservations6.json").unwrap();
    let cfg = Config6::from_config(config.dhcp6.as_ref().unwrap()).unwrap();
    Server::start_on(ns, testing::fresh_db().await, cfg).await
}

#[tokio::test]
async fn reserved_by_duid_gets_address_prefix_name_and_options() {
    let ns = Netns::new(BY_DUID_MAC);
    let s = server(&ns).await;
    let c = RawClient::new(&ns, 546);
    let reply = solicit_request(&c, &duid_ll(BY_DUID_MAC), &s.duid(), 0x700, true).await;
    let addrs = ia_addrs(the_ia_na(&reply));
    assert_eq!(addrs[0].addr, "2001:db8:1::77".parse::<Ipv6Addr>().unwrap());
    let p = the_prefix(&reply).expect("a prefix");
    assert_eq!(
        (p.prefix, p.prefix_len),
        ("2001:db8:9:7700::".parse().unwrap(), 56),
        "the reserved prefix, though outside the pd-pool"
    );
    assert_eq!(
        dns_servers(&reply),
        ["2001:db8:77::53".parse::<Ipv6Addr>().unwrap()],
        "the host's option wins over the global one"
    );
    assert_eq!(fqdn_text(&reply).as_deref(), Some("by-duid.example.com"));
    let row = s.row_when(addrs[0].addr, |r| r.state == 0).await;
    assert_eq!(row.hostname.as_deref(), Some("by-duid.example.com."));
    s.stop().await;
}

#[tokio::test]
async fn reserved_by_hardware_address_gets_its_address_and_name() {
    let ns = Netns::new(BY_HW_MAC);
    let s = server(&ns).await;
    let c = RawClient::new(&ns, 546);
    // Its DUID-LL carries the MAC (Kea's mac-sources: the DUID).
    let reply = solicit_request(&c, &duid_ll(BY_HW_MAC), &s.duid(), 0x800, false).await;
    let addrs = ia_addrs(the_ia_na(&reply));
    assert_eq!(addrs[0].addr, "2001:db8:1::88".parse::<Ipv6Addr>().unwrap());
    assert_eq!(fqdn_text(&reply).as_deref(), Some("by-hw.example.com"));
    // No host option: the global one.
    assert_eq!(
        dns_servers(&reply),
        ["2001:db8:1::53".parse::<Ipv6Addr>().unwrap()]
    );
    s.stop().await;
}

#[tokio::test]
async fn a_reservation_inserted_by_sql_is_served_at_the_next_packet() {
    let ns = Netns::new(BY_SQL_MAC);
    let s = server(&ns).await;
    let c = RawClient::new(&ns, 546);
    let duid = duid_ll(BY_SQL_MAC);
    let reserved: Ipv6Addr = "2001:db8:1::99".parse().unwrap();
    // Before the reservation: a pool address.
    let before = solicit_request(&c, &duid, &s.duid(), 0x900, false).await;
    assert_ne!(ia_addrs(the_ia_na(&before))[0].addr, reserved);

    // Kea's tables, by plain SQL, in one transaction (as kea-admin or a script would).
    let mut tx = s.db.pool().begin().await.unwrap();
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp6_subnet_id, hostname) \
         VALUES ($1, 1, 1, 'from-sql') RETURNING host_id",
    )
    .bind(&duid)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO ipv6_reservations (address, prefix_len, type, host_id) \
         VALUES ('2001:db8:1::99', 128, 0, $1)",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO dhcp6_options (code, formatted_value, space, persistent, host_id, scope_id) \
         VALUES (23, '2001:db8:99::53', 'dhcp6', false, $1, 3)",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // The next exchanges get it (the cache follows the table's notification within
    // milliseconds; a few tries cover a loaded machine).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut xid = 0x910;
    let reply = loop {
        let r = solicit_request(&c, &duid, &s.duid(), xid, false).await;
        if ia_addrs(the_ia_na(&r))[0].addr == reserved {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "the SQL reservation was not served within 10 s: {r:?}"
        );
        xid += 2;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(fqdn_text(&reply).as_deref(), Some("from-sql.example.com"));
    assert_eq!(
        dns_servers(&reply),
        ["2001:db8:99::53".parse::<Ipv6Addr>().unwrap()],
        "the option from dhcp6_options"
    );
    let row = s.row_when(reserved, |r| r.state == 0).await;
    assert_eq!(row.hostname.as_deref(), Some("from-sql.example.com."));
    s.stop().await;
}
