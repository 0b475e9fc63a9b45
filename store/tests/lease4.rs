//! lease4 allocation against a real PostgreSQL: never an address in use, declined or
//! reserved for someone else; two allocators on one database never lease an address
//! twice.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use tern_store::lease4::{self, AddressRange, LeaseState, NewLease4, Owner};
use tern_store::{host, testing, Store};

fn lease(mac: &[u8], subnet_id: u32) -> NewLease4 {
    NewLease4 {
        address: Ipv4Addr::UNSPECIFIED,
        hwaddr: mac.to_vec(),
        client_id: None,
        valid_lifetime: 3600,
        subnet_id,
        fqdn_fwd: false,
        fqdn_rev: false,
        hostname: None,
        pool_id: 0,
    }
}

fn owner(mac: &[u8]) -> Owner<'_> {
    Owner {
        hwaddr: mac,
        client_id: None,
    }
}

fn range(first: Ipv4Addr, last: Ipv4Addr) -> AddressRange {
    AddressRange {
        first,
        last,
        pool_id: 0,
    }
}

#[tokio::test]
async fn allocation_skips_used_declined_and_reserved_addresses() {
    let db = testing::fresh_db().await;
    let mut conn = db.pool().acquire().await.unwrap();
    let pool = [range(
        Ipv4Addr::new(10, 0, 0, 10),
        Ipv4Addr::new(10, 0, 0, 14),
    )];
    let a = [0xaa, 0, 0, 0, 0, 1];
    let b = [0xbb, 0, 0, 0, 0, 2];
    let c = [0xcc, 0, 0, 0, 0, 3];
    let d = [0xdd, 0, 0, 0, 0, 4];

    // .10 in use by A.
    let mut l = lease(&a, 1);
    l.address = Ipv4Addr::new(10, 0, 0, 10);
    assert!(lease4::commit(&mut conn, &l, owner(&a))
        .await
        .unwrap()
        .is_some());
    // .11 declined (A took it, then declined it).
    l.address = Ipv4Addr::new(10, 0, 0, 11);
    lease4::commit(&mut conn, &l, owner(&a))
        .await
        .unwrap()
        .unwrap();
    let before = lease4::decline(&mut conn, l.address, owner(&a), 86400)
        .await
        .unwrap();
    assert!(before.is_some());
    let declined = lease4::get(&mut *conn, l.address).await.unwrap().unwrap();
    assert_eq!(declined.state, LeaseState::Declined);
    assert_eq!(declined.hwaddr.as_deref(), Some(&[][..]));
    // .12 reserved for D by plain SQL, .13 reserved in the configuration.
    sqlx::query("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, ipv4_address, dhcp4_subnet_id) VALUES ($1, 0, $2, 1)")
        .bind(&d[..])
        .bind(i64::from(u32::from(Ipv4Addr::new(10, 0, 0, 12))))
        .execute(db.pool())
        .await
        .unwrap();
    let excluded = [Ipv4Addr::new(10, 0, 0, 13)];

    for offset in 0..5 {
        let got = lease4::find_free(&mut conn, 1, &pool, offset, &excluded)
            .await
            .unwrap();
        assert_eq!(
            got.map(|g| g.0),
            Some(Ipv4Addr::new(10, 0, 0, 14)),
            "offset {offset}"
        );
    }
    let got = lease4::allocate(&mut conn, &lease(&b, 1), owner(&b), &pool, 3, &excluded)
        .await
        .unwrap()
        .expect("one address is free");
    assert_eq!(got.address, Ipv4Addr::new(10, 0, 0, 14));
    assert_eq!(got.hwaddr.as_deref(), Some(&b[..]));
    assert_eq!(got.state, LeaseState::Default);
    assert_eq!(got.valid_lifetime, 3600);
    // Exhausted now.
    assert!(
        lease4::allocate(&mut conn, &lease(&c, 1), owner(&c), &pool, 0, &excluded)
            .await
            .unwrap()
            .is_none()
    );
    // C cannot take B's address either.
    let mut steal = lease(&c, 1);
    steal.address = got.address;
    assert!(lease4::commit(&mut conn, &steal, owner(&c))
        .await
        .unwrap()
        .is_none());
    assert!(!lease4::is_available(&mut conn, got.address, owner(&c))
        .await
        .unwrap());
    assert!(lease4::is_available(&mut conn, got.address, owner(&b))
        .await
        .unwrap());
    // The reservation is visible to the engine.
    let host = host::find4(&mut conn, 1, &[(0, d.to_vec())])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(host.ipv4_address, Some(Ipv4Addr::new(10, 0, 0, 12)));
    assert_eq!(
        host::reserved_for4(&mut conn, 1, Ipv4Addr::new(10, 0, 0, 12))
            .await
            .unwrap(),
        vec![(0, d.to_vec())]
    );

    // A's lease on .10 expires: C may have it now; the declined .11 stays out.
    sqlx::query("UPDATE lease4 SET expire = now() - interval '1 second' WHERE address = $1")
        .bind(i64::from(u32::from(Ipv4Addr::new(10, 0, 0, 10))))
        .execute(db.pool())
        .await
        .unwrap();
    let got = lease4::allocate(&mut conn, &lease(&c, 1), owner(&c), &pool, 0, &excluded)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.address, Ipv4Addr::new(10, 0, 0, 10));

    // Release keeps the row for B, marked released and expired.
    let released = lease4::release(&mut conn, Ipv4Addr::new(10, 0, 0, 14), owner(&b))
        .await
        .unwrap();
    assert!(released.is_some());
    let row = lease4::get(&mut *conn, Ipv4Addr::new(10, 0, 0, 14))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, LeaseState::Released);
    assert_eq!(row.valid_lifetime, 0);
    let back = lease4::find_by_owner(&mut conn, 1, owner(&b))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.address, Ipv4Addr::new(10, 0, 0, 14));
    // Someone else's release is refused.
    assert!(
        lease4::release(&mut conn, Ipv4Addr::new(10, 0, 0, 10), owner(&b))
            .await
            .unwrap()
            .is_none()
    );
    let (assigned, declined) = lease4::count_active(&mut conn, 1).await.unwrap();
    assert_eq!((assigned, declined), (1, 1));

    // Reclaim: C's lease expires; reclaimed rows older than the hold time go.
    sqlx::query("UPDATE lease4 SET expire = now() - interval '2 hours' WHERE address = $1")
        .bind(i64::from(u32::from(Ipv4Addr::new(10, 0, 0, 10))))
        .execute(db.pool())
        .await
        .unwrap();
    let gone = lease4::reclaim_expired(&mut conn, &[1], 10).await.unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].address, Ipv4Addr::new(10, 0, 0, 10));
    let row = lease4::get(&mut *conn, gone[0].address)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, LeaseState::ExpiredReclaimed);
    assert!(lease4::reclaim_expired(&mut conn, &[1], 10)
        .await
        .unwrap()
        .is_empty());
    // Held for an hour: the reclaimed .10 (expired 2 h ago) goes, the released .14
    // (just now) stays; other subnets are not touched.
    assert_eq!(
        lease4::flush_reclaimed(&mut conn, &[2], 3600)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        lease4::flush_reclaimed(&mut conn, &[1], 3600)
            .await
            .unwrap(),
        1
    );
    assert!(lease4::get(&mut *conn, Ipv4Addr::new(10, 0, 0, 10))
        .await
        .unwrap()
        .is_none());
    assert!(lease4::get(&mut *conn, Ipv4Addr::new(10, 0, 0, 14))
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn two_allocators_on_one_database_never_share_an_address() {
    let db = testing::fresh_db().await;
    let settings = db.connect_settings().clone().with_max_connections(20);
    let one = Store::connect(&settings).await.unwrap();
    let two = Store::connect(&settings).await.unwrap();
    // 512 addresses for 400 clients: both allocators compete for most of them.
    let pool = [range(
        Ipv4Addr::new(10, 1, 0, 0),
        Ipv4Addr::new(10, 1, 1, 255),
    )];
    let mut tasks = Vec::new();
    for (n, store) in [one.clone(), two.clone()].into_iter().enumerate() {
        for i in 0..200u32 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mac = [2, n as u8, 0, (i >> 8) as u8, i as u8, 0];
                let mut conn = store.pool().acquire().await.unwrap();
                // A deliberately poor spread (few offsets), so that races happen.
                let offset = u64::from(i % 8);
                lease4::allocate(&mut conn, &lease(&mac, 1), owner(&mac), &pool, offset, &[])
                    .await
                    .unwrap()
                    .expect("the pool is big enough")
                    .address
            }));
        }
    }
    let mut seen = HashSet::new();
    for t in tasks {
        assert!(
            seen.insert(t.await.unwrap()),
            "an address was handed out twice"
        );
    }
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT address) FROM lease4")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!((rows, distinct), (400, 400));
    let owners: i64 = sqlx::query_scalar("SELECT count(DISTINCT hwaddr) FROM lease4")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(owners, 400);
    one.close().await;
    two.close().await;
}

#[tokio::test]
async fn a_batch_writes_free_and_own_addresses_and_skips_anothers() {
    let db = testing::fresh_db().await;
    let mut conn = db.pool().acquire().await.unwrap();
    let (a, b, c) = (
        [0xaa, 0, 0, 0, 0, 1],
        [0xbb, 0, 0, 0, 0, 2],
        [0xcc, 0, 0, 0, 0, 3],
    );
    let at = |mac: &[u8], last: u8| NewLease4 {
        address: Ipv4Addr::new(10, 0, 0, last),
        ..lease(mac, 1)
    };
    // B holds .20; A held .21 before.
    lease4::commit(&mut conn, &at(&b, 20), owner(&b))
        .await
        .unwrap()
        .unwrap();
    lease4::commit(&mut conn, &at(&a, 21), owner(&a))
        .await
        .unwrap()
        .unwrap();
    let mut renewal = at(&a, 21);
    renewal.hostname = Some("a-renewed".into());
    let written = lease4::commit_many(&mut conn, &[at(&c, 20), renewal, at(&c, 22)])
        .await
        .unwrap();
    let got: HashSet<Ipv4Addr> = written.iter().map(|l| l.address).collect();
    assert_eq!(
        got,
        HashSet::from([Ipv4Addr::new(10, 0, 0, 21), Ipv4Addr::new(10, 0, 0, 22)]),
        "B's .20 is not C's to take"
    );
    let held = lease4::get(&mut *conn, Ipv4Addr::new(10, 0, 0, 20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.hwaddr.as_deref(), Some(&b[..]));
    let renewed = lease4::get(&mut *conn, Ipv4Addr::new(10, 0, 0, 21))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renewed.hostname.as_deref(), Some("a-renewed"));
    // One round trip tells a returning client's lease and whether a candidate is free.
    let (own, free) =
        lease4::find_by_owner_or_probe(&mut conn, 1, owner(&a), Ipv4Addr::new(10, 0, 0, 20))
            .await
            .unwrap();
    assert_eq!(own.map(|l| l.address), Some(Ipv4Addr::new(10, 0, 0, 21)));
    assert!(!free, ".20 is B's");
    let (own, free) = lease4::find_by_owner_or_probe(
        &mut conn,
        1,
        owner(&[0xee, 0, 0, 0, 0, 9]),
        Ipv4Addr::new(10, 0, 0, 30),
    )
    .await
    .unwrap();
    assert!(own.is_none());
    assert!(free);
    // The batched form answers each probe as the single one does, in order.
    let many = lease4::find_by_owner_or_probe_many(
        &mut conn,
        &[
            lease4::Probe {
                subnet_id: 1,
                hwaddr: a.to_vec(),
                client_id: None,
                candidate: Ipv4Addr::new(10, 0, 0, 20),
            },
            lease4::Probe {
                subnet_id: 1,
                hwaddr: vec![0xee, 0, 0, 0, 0, 9],
                client_id: Some(vec![1, 2, 3]),
                candidate: Ipv4Addr::new(10, 0, 0, 30),
            },
            lease4::Probe {
                subnet_id: 2,
                hwaddr: a.to_vec(),
                client_id: None,
                candidate: Ipv4Addr::new(10, 0, 0, 21),
            },
        ],
    )
    .await
    .unwrap();
    let got: Vec<(Option<Ipv4Addr>, bool)> = many
        .iter()
        .map(|(l, f)| (l.as_ref().map(|l| l.address), *f))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some(Ipv4Addr::new(10, 0, 0, 21)), false),
            (None, true),
            (None, false),
        ]
    );
    let cands = [20, 21, 23].map(|l| Ipv4Addr::new(10, 0, 0, l));
    assert_eq!(
        lease4::first_unleased(&mut conn, &cands).await.unwrap(),
        Some(2)
    );
}
