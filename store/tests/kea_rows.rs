//! The API's reads and writes of Kea's tables against a real PostgreSQL: leases
//! (lease4, lease6) and host reservations (hosts with dhcp4_options and
//! ipv6_reservations) written whole, read back by filter as Kea's columns hold them, and
//! one address reserved for one host per subnet.

use std::net::{Ipv4Addr, Ipv6Addr};

use chrono::{TimeZone, Utc};
use tern_store::{
    host, lease4, lease6, testing, Error, Host, Host6Filter, HostFilter, HostOption, Lease4,
    Lease6, Lease6Filter, LeaseFilter, LeaseState, LeaseType, NcrSource, Reservation6,
    Reservation6Kind,
};

fn lease4_row(address: Ipv4Addr, subnet_id: u32) -> Lease4 {
    Lease4 {
        address,
        hwaddr: Some(vec![1, 2, 3, 4, 5, 6]),
        client_id: Some(vec![1, 1, 2, 3, 4, 5, 6]),
        valid_lifetime: 3600,
        expire: Utc.timestamp_opt(2_000_003_600, 0).unwrap(),
        subnet_id,
        fqdn_fwd: true,
        fqdn_rev: false,
        hostname: Some("pc.example.com".into()),
        state: LeaseState::Default,
        user_context: Some(r#"{"a":1}"#.into()),
        pool_id: 0,
    }
}

#[tokio::test]
async fn lease4_rows_written_whole_and_read_by_filter() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let a = lease4_row(Ipv4Addr::new(192, 0, 2, 200), 2);
    lease4::insert(pool, &a).await.unwrap();
    lease4::insert(pool, &lease4_row(Ipv4Addr::new(192, 0, 2, 201), 3))
        .await
        .unwrap();
    // Kea's bigint for the address.
    let (num, hostname): (i64, String) =
        sqlx::query_as("SELECT address, hostname FROM lease4 WHERE subnet_id = 2")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((num, hostname.as_str()), (3_221_226_184, "pc.example.com"));
    assert_eq!(lease4::get(pool, a.address).await.unwrap(), Some(a.clone()));
    // A second lease on the address is the database's unique violation.
    assert!(matches!(
        lease4::insert(pool, &a).await,
        Err(Error::Database(_))
    ));
    let by = |f: LeaseFilter| async move { lease4::select(pool, &f).await.unwrap() };
    let in_2 = by(LeaseFilter {
        subnets: Some(vec![2]),
        ..Default::default()
    })
    .await;
    assert_eq!(in_2, vec![a.clone()]);
    let named = by(LeaseFilter {
        hostname: Some("PC.example.COM".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(named.len(), 2, "host names match case-insensitively");
    let after = by(LeaseFilter {
        after: Some(a.address),
        limit: Some(5),
        ..Default::default()
    })
    .await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].address, Ipv4Addr::new(192, 0, 2, 201));

    // update keeps the row's pool_id; a missing lease is created only when forced.
    sqlx::query("UPDATE lease4 SET pool_id = 9 WHERE subnet_id = 2")
        .execute(pool)
        .await
        .unwrap();
    let mut changed = a.clone();
    changed.valid_lifetime = 60;
    assert!(lease4::update(pool, &changed, false).await.unwrap());
    let row = lease4::get(pool, a.address).await.unwrap().unwrap();
    assert_eq!((row.valid_lifetime, row.pool_id), (60, 9));
    let absent = lease4_row(Ipv4Addr::new(192, 0, 2, 9), 2);
    assert!(!lease4::update(pool, &absent, false).await.unwrap());
    assert!(lease4::update(pool, &absent, true).await.unwrap());

    // A delete queues the removal made from the deleted row, in its transaction.
    let (found, id) = lease4::delete_queueing_removal(
        pool,
        a.address,
        |old| {
            assert_eq!(old.address, a.address);
            None
        },
        NcrSource::Api,
    )
    .await
    .unwrap();
    assert!(found && id.is_none());
    let (found, _) = lease4::delete_queueing_removal(pool, a.address, |_| None, NcrSource::Api)
        .await
        .unwrap();
    assert!(!found, "already gone");
    assert_eq!(
        lease4::wipe(pool, Some(2)).await.unwrap(),
        vec![(2, 1)],
        "only the forced one was left in subnet 2"
    );
}

fn lease6_row(address: &str, lease_type: LeaseType, prefix_len: u8) -> Lease6 {
    Lease6 {
        address: address.parse().unwrap(),
        duid: Some(vec![0, 1, 2, 3]),
        valid_lifetime: 4000,
        expire: Utc.timestamp_opt(2_000_004_000, 0).unwrap(),
        subnet_id: 66,
        pref_lifetime: 3000,
        lease_type,
        iaid: u32::MAX,
        prefix_len,
        fqdn_fwd: false,
        fqdn_rev: true,
        hostname: None,
        state: LeaseState::Declined,
        hwaddr: Some(vec![0x52, 0x54, 0, 0xaa, 0, 3]),
        hwtype: Some(1),
        hwaddr_source: Some(4),
        user_context: None,
        pool_id: 0,
    }
}

#[tokio::test]
async fn lease6_rows_round_trip_addresses_prefixes_and_iaids() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let na = lease6_row("2001:db8::10", LeaseType::Na, 128);
    let pd = lease6_row("2001:db8:ff00::", LeaseType::Pd, 56);
    lease6::insert(pool, &na).await.unwrap();
    lease6::insert(pool, &pd).await.unwrap();
    // Kea's columns: an inet, the IAID's unsigned value as a signed int, the type code.
    let (text, iaid, kind): (String, i32, i16) =
        sqlx::query_as("SELECT host(address), iaid, lease_type FROM lease6 WHERE prefix_len = 56")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((text.as_str(), iaid, kind), ("2001:db8:ff00::", -1, 2));
    let (hwtype, source): (Option<i16>, Option<i16>) =
        sqlx::query_as("SELECT hwtype, hwaddr_source FROM lease6 WHERE prefix_len = 56")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((hwtype, source), (Some(1), Some(4)));
    let all = lease6::select(pool, &Lease6Filter::default())
        .await
        .unwrap();
    assert_eq!(all, vec![na.clone(), pd.clone()], "in address order");
    let pds = lease6::select(
        pool,
        &Lease6Filter {
            lease_type: Some(LeaseType::Pd.code()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(pds, vec![pd.clone()]);
    let mut changed = na.clone();
    changed.pref_lifetime = 10;
    assert!(lease6::update(pool, &changed, false).await.unwrap());
    assert!(lease6::delete(pool, na.address).await.unwrap());
    assert!(!lease6::delete(pool, na.address).await.unwrap());
    assert_eq!(lease6::wipe(pool, None).await.unwrap(), vec![(66, 1)]);
}

fn host4(mac: u8, address: Option<Ipv4Addr>) -> Host {
    Host {
        identifier_type: 0,
        identifier: vec![mac, 2, 3, 4, 5, 6],
        dhcp4_subnet_id: Some(1),
        ipv4_address: address,
        hostname: Some("printer".into()),
        dhcp4_client_classes: Some("a,b".into()),
        next_server: Some(Ipv4Addr::new(192, 0, 2, 1)),
        boot_file_name: Some("boot.bin".into()),
        options4: vec![HostOption {
            code: 6,
            value: None,
            formatted_value: Some("192.0.2.53".into()),
            space: Some("dhcp4".into()),
            persistent: true,
        }],
        ..Host::default()
    }
}

#[tokio::test]
async fn host_rows_with_options_and_unique_addresses() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let ip = Ipv4Addr::new(192, 0, 2, 77);
    let written = host::insert4(pool, &host4(1, Some(ip))).await.unwrap();
    assert!(written.host_id > 0);
    // The address is one host's per subnet: a second reservation of it is refused.
    match host::insert4(pool, &host4(2, Some(ip))).await {
        Err(Error::AddressReserved { address, subnet_id }) => {
            assert_eq!((address.as_str(), subnet_id), ("192.0.2.77", 1))
        }
        other => panic!("expected AddressReserved, got {other:?}"),
    }
    let read = host::select(
        pool,
        &HostFilter {
            ipv4_address: Some(ip),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        read,
        vec![written.clone()],
        "read back as written, options too"
    );
    // The engine's lookups see the same row.
    let mut conn = pool.acquire().await.unwrap();
    assert_eq!(
        host::find4(&mut conn, 1, &[(3, vec![9]), (0, vec![1, 2, 3, 4, 5, 6])])
            .await
            .unwrap(),
        Some(written.clone())
    );
    assert_eq!(host::all4(&mut conn).await.unwrap(), vec![written.clone()]);
    assert_eq!(
        host::reserved_for4(&mut conn, 1, ip).await.unwrap(),
        vec![(0, vec![1, 2, 3, 4, 5, 6])]
    );
    // Replacing keeps the id and replaces the options; its own address is no conflict.
    let mut next = host4(1, Some(ip));
    next.options4.clear();
    next.hostname = None;
    let replaced = host::replace4(pool, written.host_id, &next)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replaced.host_id, written.host_id);
    assert!(replaced.options4.is_empty() && replaced.hostname.is_none());
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM dhcp4_options")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    // No such host (and an address nobody holds).
    assert!(host::replace4(pool, 999_999, &host4(3, None))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        host::delete(
            pool,
            &HostFilter {
                host_id: Some(written.host_id),
                ..Default::default()
            }
        )
        .await
        .unwrap(),
        1
    );
}

#[tokio::test]
async fn dhcp6_hosts_with_addresses_and_prefixes() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let a: Ipv6Addr = "2001:db8::cafe".parse().unwrap();
    let h = Host {
        identifier_type: 1,
        identifier: vec![0, 1, 2, 3],
        dhcp6_subnet_id: Some(66),
        hostname: Some("v6".into()),
        reservations6: vec![
            Reservation6 {
                address: a,
                prefix_len: 128,
                kind: Reservation6Kind::Address,
            },
            Reservation6 {
                address: "2001:db8:ff::".parse().unwrap(),
                prefix_len: 48,
                kind: Reservation6Kind::Prefix,
            },
        ],
        ..Host::default()
    };
    let id = host::insert6(pool, &h).await.unwrap();
    let rows = host::select6(
        pool,
        &Host6Filter {
            address: Some(a),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![Host {
            host_id: id,
            ..h.clone()
        }]
    );
    // DHCPv4 reads leave DHCPv6-only hosts out.
    assert!(host::select(pool, &HostFilter::default())
        .await
        .unwrap()
        .is_empty());
    let other = Host {
        identifier: vec![9, 9],
        ..h.clone()
    };
    match host::insert6(pool, &other).await {
        Err(Error::AddressReserved { address, subnet_id }) => {
            assert_eq!((address.as_str(), subnet_id), ("2001:db8::cafe", 66))
        }
        other => panic!("expected AddressReserved, got {other:?}"),
    }
    assert_eq!(
        host::delete6(
            pool,
            &Host6Filter {
                subnet_id: Some(66),
                ..Default::default()
            }
        )
        .await
        .unwrap(),
        1
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ipv6_reservations")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "the reservations went with the host");
}
