//! lease6 for the DHCPv6 engine against a real PostgreSQL: rows as Kea fills them
//! (read back by plain SQL), the ownership rule of a commit, release and decline as
//! Kea does them, reclamation, Kea's lease6_stat triggers following along, two
//! servers on one database never leasing an address twice, and the shared server DUID.

mod common;

use std::collections::HashSet;
use std::net::Ipv6Addr;
use std::sync::Arc;

use sqlx::{PgPool, Row};
use tern_store::lease6::{self, ClientKey, LeaseType, NewLease6};
use tern_store::server_id::{dhcp6_server_duid, set_dhcp6_server_duid};
use tern_store::{testing, Error, Lease6, LeaseState, Store};
use tokio::sync::Barrier;

/// An IAID with the top bit set: Kea stores it as -153561729.
const IAID: u32 = 4_141_405_567;
const DUID_A: &[u8] = &[
    0, 1, 0, 1, 0x2a, 0x2b, 0x2c, 0x2d, 0x52, 0x54, 0, 0xaa, 0, 1,
];
const DUID_B: &[u8] = &[0, 3, 0, 1, 0x52, 0x54, 0, 0xbb, 0, 2];
const DUID_C: &[u8] = &[0, 3, 0, 1, 0x52, 0x54, 0, 0xcc, 0, 3];

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn na(duid: &[u8], iaid: u32, address: &str) -> NewLease6 {
    NewLease6 {
        address: ip(address),
        duid: duid.to_vec(),
        iaid,
        lease_type: LeaseType::Na,
        prefix_len: 128,
        valid_lifetime: 7200,
        pref_lifetime: 4500,
        subnet_id: 1,
        fqdn_fwd: false,
        fqdn_rev: false,
        hostname: None,
        hwaddr: None,
        hwtype: None,
        hwaddr_source: None,
        pool_id: 0,
    }
}

fn pd(duid: &[u8], iaid: u32, prefix: &str, len: u8) -> NewLease6 {
    NewLease6 {
        lease_type: LeaseType::Pd,
        prefix_len: len,
        ..na(duid, iaid, prefix)
    }
}

/// A `lease6` row as `SELECT … FROM lease6` shows it.
#[derive(Debug, Clone, PartialEq)]
struct Row6 {
    address: String,
    masklen: i32,
    duid: Option<Vec<u8>>,
    valid: i64,
    pref: i64,
    lease_type: i16,
    iaid: i32,
    prefix_len: i16,
    fwd: bool,
    rev: bool,
    hostname: Option<String>,
    hwaddr: Option<Vec<u8>>,
    hwtype: Option<i16>,
    source: Option<i16>,
    state: i64,
    subnet_id: i64,
    pool_id: i64,
    user_context: Option<String>,
    /// `expire - now()` in seconds.
    secs_left: f64,
}

async fn row(pool: &PgPool, address: &str) -> Option<Row6> {
    let r = sqlx::query(
        "SELECT host(address) AS a, masklen(address) AS m, duid, valid_lifetime, pref_lifetime, \
                lease_type, iaid, prefix_len, fqdn_fwd, fqdn_rev, hostname, hwaddr, hwtype, \
                hwaddr_source, state, subnet_id, pool_id, user_context, \
                extract(epoch FROM expire - now())::float8 AS secs_left \
           FROM lease6 WHERE address = $1::inet",
    )
    .bind(address)
    .fetch_optional(pool)
    .await
    .unwrap()?;
    Some(Row6 {
        address: r.get("a"),
        masklen: r.get("m"),
        duid: r.get("duid"),
        valid: r.get("valid_lifetime"),
        pref: r.get("pref_lifetime"),
        lease_type: r.get("lease_type"),
        iaid: r.get("iaid"),
        prefix_len: r.get("prefix_len"),
        fwd: r.get("fqdn_fwd"),
        rev: r.get("fqdn_rev"),
        hostname: r.get("hostname"),
        hwaddr: r.get("hwaddr"),
        hwtype: r.get("hwtype"),
        source: r.get("hwaddr_source"),
        state: r.get("state"),
        subnet_id: r.get("subnet_id"),
        pool_id: r.get("pool_id"),
        user_context: r.get("user_context"),
        secs_left: r.get("secs_left"),
    })
}

async fn must_row(pool: &PgPool, address: &str) -> Row6 {
    row(pool, address)
        .await
        .unwrap_or_else(|| panic!("no lease6 row on {address}"))
}

/// Moves a row's `expire` by plain SQL (`interval` e.g. `'-2 hours'`).
async fn set_expire(pool: &PgPool, address: &str, interval: &str) {
    sqlx::query("UPDATE lease6 SET expire = now() + $2::interval WHERE address = $1::inet")
        .bind(address)
        .bind(interval)
        .execute(pool)
        .await
        .unwrap();
}

fn near(secs_left: f64, want: f64) -> bool {
    (secs_left - want).abs() < 10.0
}

fn addrs(leases: &[tern_store::Lease6]) -> Vec<Ipv6Addr> {
    leases.iter().map(|l| l.address).collect()
}

/// One IA's leases, by [`lease6::probe`] (the engine's batched lookup) with one key.
async fn find_by_client(
    conn: &mut sqlx::PgConnection,
    subnet_ids: &[u32],
    duid: &[u8],
    iaid: u32,
    ty: LeaseType,
) -> Vec<Lease6> {
    let key = ClientKey {
        subnet_ids: subnet_ids.to_vec(),
        duid: duid.to_vec(),
        iaid,
        ty,
    };
    let (mut found, taken) = lease6::probe(conn, &[key], &[]).await.unwrap();
    assert!(taken.is_empty(), "no candidates asked about");
    found.pop().unwrap()
}

#[tokio::test]
async fn commit_many_writes_addresses_and_prefixes_as_kea_does() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.unwrap();
    let address = NewLease6 {
        hostname: Some("host-a.example.com.".into()),
        fqdn_fwd: true,
        fqdn_rev: true,
        hwaddr: Some(vec![0x52, 0x54, 0, 0xaa, 0, 1]),
        hwtype: Some(1),
        hwaddr_source: Some(2),
        pool_id: 3,
        ..na(DUID_A, IAID, "2001:db8:1::10")
    };
    let prefix = NewLease6 {
        hwaddr: Some(vec![0x52, 0x54, 0, 0xaa, 0, 1]),
        hwtype: Some(1),
        hwaddr_source: Some(4),
        pool_id: 7,
        subnet_id: 1,
        ..pd(DUID_A, IAID, "2001:db8:8:100::", 56)
    };
    assert!(lease6::commit_many(&mut conn, &[])
        .await
        .unwrap()
        .is_empty());
    let written = lease6::commit_many(&mut conn, &[prefix.clone(), address.clone()])
        .await
        .unwrap();
    assert_eq!(
        addrs(&written),
        [ip("2001:db8:1::10"), ip("2001:db8:8:100::")],
        "address order"
    );
    let w = &written[0];
    assert_eq!(
        (w.iaid, w.lease_type, w.prefix_len, w.state),
        (IAID, LeaseType::Na, 128, LeaseState::Default)
    );
    assert_eq!(
        (w.hwtype, w.hwaddr_source, w.pool_id),
        (Some(1), Some(2), 3)
    );
    assert_eq!(
        lease6::get(pool, ip("2001:db8:1::10"))
            .await
            .unwrap()
            .as_ref(),
        Some(w)
    );

    let r = must_row(pool, "2001:db8:1::10").await;
    assert_eq!(
        (r.address.as_str(), r.masklen, r.lease_type, r.prefix_len),
        ("2001:db8:1::10", 128, 0, 128)
    );
    assert_eq!(r.iaid, -153_561_729, "the IAID's bits as a signed integer");
    assert_eq!(r.duid.as_deref(), Some(DUID_A));
    assert_eq!(
        (r.valid, r.pref, r.state, r.subnet_id, r.pool_id),
        (7200, 4500, 0, 1, 3)
    );
    assert!(near(r.secs_left, 7200.0), "expire = now + valid: {r:?}");
    assert_eq!(
        (r.fwd, r.rev, r.hostname.as_deref()),
        (true, true, Some("host-a.example.com."))
    );
    assert_eq!(
        (r.hwaddr.as_deref(), r.hwtype, r.source),
        (Some(&[0x52, 0x54, 0, 0xaa, 0, 1][..]), Some(1), Some(2))
    );
    assert_eq!(r.user_context, None);

    // The prefix is stored as itself (host form, /128), its length in prefix_len.
    let r = must_row(pool, "2001:db8:8:100::").await;
    assert_eq!(
        (r.address.as_str(), r.masklen, r.lease_type, r.prefix_len),
        ("2001:db8:8:100::", 128, 2, 56)
    );
    assert_eq!(
        (r.iaid, r.source, r.pool_id, r.state),
        (-153_561_729, Some(4), 7, 0)
    );
    assert!(near(r.secs_left, 7200.0));

    // The one-lease form: a new client gets a free address, not the taken one.
    let b = lease6::commit(&mut conn, &na(DUID_B, 1, "2001:db8:1::11"))
        .await
        .unwrap()
        .expect("free");
    assert_eq!((b.iaid, b.duid.as_deref()), (1, Some(DUID_B)));
    assert!(lease6::commit(&mut conn, &na(DUID_B, 1, "2001:db8:1::10"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        must_row(pool, "2001:db8:1::10").await.duid.as_deref(),
        Some(DUID_A)
    );

    // A MAC source beyond the smallint column is refused before any SQL.
    let too_big = NewLease6 {
        hwaddr_source: Some(40_000),
        ..na(DUID_B, 1, "2001:db8:1::12")
    };
    assert!(matches!(
        lease6::commit(&mut conn, &too_big).await,
        Err(Error::OutOfRange {
            column: "hwaddr_source",
            ..
        })
    ));
}

#[tokio::test]
async fn a_batch_takes_free_own_and_expired_addresses_and_skips_anothers() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.unwrap();
    let a = |last: &str| na(DUID_A, IAID, &format!("2001:db8:1::{last}"));
    // B holds ::20; A holds ::21; C held ::23 (expired); C declined ::24 (probation
    // running) and ::25 (probation over); C released ::26; A's other IA holds ::27.
    for l in [
        na(DUID_B, 1, "2001:db8:1::20"),
        a("21"),
        na(DUID_C, 3, "2001:db8:1::23"),
        na(DUID_C, 3, "2001:db8:1::24"),
        na(DUID_C, 3, "2001:db8:1::25"),
        na(DUID_C, 3, "2001:db8:1::26"),
        na(DUID_A, 1, "2001:db8:1::27"),
    ] {
        lease6::commit(&mut conn, &l).await.unwrap().unwrap();
    }
    set_expire(pool, "2001:db8:1::23", "-1 second").await;
    for (last, probation) in [("24", 3600), ("25", 3600)] {
        lease6::decline(
            &mut conn,
            ip(&format!("2001:db8:1::{last}")),
            DUID_C,
            3,
            probation,
        )
        .await
        .unwrap()
        .unwrap();
    }
    set_expire(pool, "2001:db8:1::25", "-1 second").await;
    lease6::release(&mut conn, ip("2001:db8:1::26"), LeaseType::Na, DUID_C, 3)
        .await
        .unwrap()
        .unwrap();

    let renewal = NewLease6 {
        hostname: Some("a-renewed.example.com.".into()),
        valid_lifetime: 9000,
        ..a("21")
    };
    let written = lease6::commit_many(
        &mut conn,
        &[
            a("20"),
            renewal,
            a("22"),
            a("23"),
            na(DUID_C, 3, "2001:db8:1::24"),
            a("25"),
            a("26"),
            na(DUID_A, 2, "2001:db8:1::27"),
            NewLease6 {
                hostname: Some("second-ask".into()),
                ..a("22")
            },
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        addrs(&written),
        ["21", "22", "23", "25", "26"].map(|l| ip(&format!("2001:db8:1::{l}"))),
    );

    // B's ::20 stays B's.
    assert_eq!(
        must_row(pool, "2001:db8:1::20").await.duid.as_deref(),
        Some(DUID_B)
    );
    // A's own lease is extended: new lifetime and expire, new host name.
    let r = must_row(pool, "2001:db8:1::21").await;
    assert_eq!(
        (r.valid, r.state, r.hostname.as_deref()),
        (9000, 0, Some("a-renewed.example.com."))
    );
    assert!(near(r.secs_left, 9000.0), "{r:?}");
    // The first lease asking for ::22 got it, the repeat was left out.
    assert_eq!(must_row(pool, "2001:db8:1::22").await.hostname, None);
    // Expired, declined past probation and released rows changed hands, now state 0.
    for last in ["23", "25", "26"] {
        let r = must_row(pool, &format!("2001:db8:1::{last}")).await;
        assert_eq!(
            (r.duid.as_deref(), r.iaid, r.state),
            (Some(DUID_A), -153_561_729, 0),
            "::{last}"
        );
        assert!(near(r.secs_left, 7200.0));
    }
    // The declined ::24 is held through its probation, even for its former client.
    let r = must_row(pool, "2001:db8:1::24").await;
    assert_eq!((r.state, r.duid.as_deref()), (1, Some(&[0u8, 0, 0][..])));
    // Another IA of the same client is another owner.
    assert_eq!(must_row(pool, "2001:db8:1::27").await.iaid, 1);

    // An address lease does not take over a prefix lease of the same IA numbers.
    lease6::commit(&mut conn, &pd(DUID_A, IAID, "2001:db8:9::", 64))
        .await
        .unwrap()
        .unwrap();
    assert!(
        lease6::commit(&mut conn, &na(DUID_A, IAID, "2001:db8:9::"))
            .await
            .unwrap()
            .is_none(),
        "an IA_NA may not take the IA_PD's row"
    );
}

#[tokio::test]
async fn the_probe_answers_each_ia_newest_first_and_the_taken_candidates() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.unwrap();
    // A's IA_NA IAID: ::10 in subnet 1, ::11 in subnet 2 (released, so expired now);
    // A's IA_PD of the same IAID; A's IA_NA 2; B's IA_NA of the same IAID.
    lease6::commit(&mut conn, &na(DUID_A, IAID, "2001:db8:1::10"))
        .await
        .unwrap()
        .unwrap();
    lease6::commit(
        &mut conn,
        &NewLease6 {
            subnet_id: 2,
            ..na(DUID_A, IAID, "2001:db8:2::11")
        },
    )
    .await
    .unwrap()
    .unwrap();
    lease6::release(&mut conn, ip("2001:db8:2::11"), LeaseType::Na, DUID_A, IAID)
        .await
        .unwrap()
        .unwrap();
    lease6::commit(&mut conn, &pd(DUID_A, IAID, "2001:db8:8:100::", 56))
        .await
        .unwrap()
        .unwrap();
    lease6::commit(&mut conn, &na(DUID_A, 2, "2001:db8:1::12"))
        .await
        .unwrap()
        .unwrap();
    lease6::commit(&mut conn, &na(DUID_B, IAID, "2001:db8:1::13"))
        .await
        .unwrap()
        .unwrap();

    let found = find_by_client(&mut conn, &[1, 2], DUID_A, IAID, LeaseType::Na).await;
    assert_eq!(addrs(&found), [ip("2001:db8:1::10"), ip("2001:db8:2::11")]);
    assert_eq!(found[1].state, LeaseState::Released, "any state");
    assert!(found[0].expire > found[1].expire, "newest expire first");
    let found = find_by_client(&mut conn, &[1], DUID_A, IAID, LeaseType::Na).await;
    assert_eq!(addrs(&found), [ip("2001:db8:1::10")]);
    let found = find_by_client(&mut conn, &[1, 2], DUID_A, IAID, LeaseType::Pd).await;
    assert_eq!(
        found
            .iter()
            .map(|l| (l.address, l.prefix_len))
            .collect::<Vec<_>>(),
        [(ip("2001:db8:8:100::"), 56)]
    );
    assert!(find_by_client(&mut conn, &[3], DUID_A, IAID, LeaseType::Na)
        .await
        .is_empty());

    let key = |subnet_ids: &[u32], duid: &[u8], iaid: u32, ty: LeaseType| ClientKey {
        subnet_ids: subnet_ids.to_vec(),
        duid: duid.to_vec(),
        iaid,
        ty,
    };
    let (many, taken) = lease6::probe(
        &mut conn,
        &[
            key(&[1, 2], DUID_A, IAID, LeaseType::Na),
            key(&[1], DUID_B, IAID, LeaseType::Na),
            key(&[1, 2], DUID_C, IAID, LeaseType::Na),
            key(&[1], DUID_A, IAID, LeaseType::Pd),
            key(&[], DUID_A, 2, LeaseType::Na),
            key(&[2, 1], DUID_A, 2, LeaseType::Na),
        ],
        // Active, released (expired), and never leased.
        &[
            ip("2001:db8:1::10"),
            ip("2001:db8:2::11"),
            ip("2001:db8:1::99"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        taken,
        [ip("2001:db8:1::10")].into_iter().collect(),
        "only the unexpired lease's address is taken"
    );
    let got: Vec<Vec<Ipv6Addr>> = many.iter().map(|v| addrs(v)).collect();
    assert_eq!(
        got,
        vec![
            vec![ip("2001:db8:1::10"), ip("2001:db8:2::11")],
            vec![ip("2001:db8:1::13")],
            vec![],
            vec![ip("2001:db8:8:100::")],
            vec![],
            vec![ip("2001:db8:1::12")],
        ]
    );
    let (none, taken) = lease6::probe(&mut conn, &[], &[]).await.unwrap();
    assert!(none.is_empty() && taken.is_empty());
}

#[tokio::test]
async fn first_unleased_skips_active_and_declined_rows() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.unwrap();
    for last in ["30", "31", "32", "33", "34"] {
        lease6::commit(&mut conn, &na(DUID_A, IAID, &format!("2001:db8:1::{last}")))
            .await
            .unwrap()
            .unwrap();
    }
    lease6::commit(&mut conn, &pd(DUID_A, IAID, "2001:db8:8:100::", 56))
        .await
        .unwrap()
        .unwrap();
    // ::30 active, ::31 declined (probation running), ::32 released, ::33 reclaimed,
    // ::34 expired, ::35 never leased.
    lease6::decline(&mut conn, ip("2001:db8:1::31"), DUID_A, IAID, 86400)
        .await
        .unwrap()
        .unwrap();
    lease6::release(&mut conn, ip("2001:db8:1::32"), LeaseType::Na, DUID_A, IAID)
        .await
        .unwrap()
        .unwrap();
    set_expire(pool, "2001:db8:1::33", "-1 hour").await;
    assert_eq!(
        addrs(&lease6::reclaim_expired(&mut conn, &[1], 10).await.unwrap()),
        [ip("2001:db8:1::33")]
    );
    set_expire(pool, "2001:db8:1::34", "-1 second").await;

    let c = |lasts: &[&str]| -> Vec<Ipv6Addr> {
        lasts
            .iter()
            .map(|l| ip(&format!("2001:db8:1::{l}")))
            .collect()
    };
    let first = |cands: Vec<Ipv6Addr>| {
        let pool = pool.clone();
        async move {
            let mut conn = pool.acquire().await.unwrap();
            lease6::first_unleased(&mut conn, &cands).await.unwrap()
        }
    };
    assert_eq!(first(c(&["30", "31", "32"])).await, Some(2));
    assert_eq!(first(c(&["31", "33"])).await, Some(1));
    assert_eq!(first(c(&["30", "34"])).await, Some(1));
    assert_eq!(first(c(&["30", "31", "35"])).await, Some(2));
    assert_eq!(first(c(&["30", "31"])).await, None);
    assert_eq!(first(vec![]).await, None);
    // A delegated prefix is looked up by its first address.
    assert_eq!(
        first(vec![ip("2001:db8:8:100::"), ip("2001:db8:8:200::")]).await,
        Some(1)
    );
}

#[tokio::test]
async fn release_keeps_the_lease_for_its_client() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.unwrap();
    let address = NewLease6 {
        hostname: Some("host-a.example.com.".into()),
        fqdn_fwd: true,
        fqdn_rev: true,
        ..na(DUID_A, IAID, "2001:db8:1::40")
    };
    lease6::commit(&mut conn, &address).await.unwrap().unwrap();
    lease6::commit(&mut conn, &pd(DUID_A, IAID, "2001:db8:8:100::", 56))
        .await
        .unwrap()
        .unwrap();
    let a40 = ip("2001:db8:1::40");

    // Not this IA's: another IAID, another DUID, the other lease type.
    for (ty, duid, iaid) in [
        (LeaseType::Na, DUID_A, 1),
        (LeaseType::Na, DUID_B, IAID),
        (LeaseType::Pd, DUID_A, IAID),
    ] {
        assert!(lease6::release(&mut conn, a40, ty, duid, iaid)
            .await
            .unwrap()
            .is_none());
    }
    assert_eq!(must_row(pool, "2001:db8:1::40").await.state, 0);

    let before = lease6::release(&mut conn, a40, LeaseType::Na, DUID_A, IAID)
        .await
        .unwrap()
        .expect("A's lease");
    assert_eq!(
        (
            before.state,
            before.valid_lifetime,
            before.fqdn_fwd,
            before.fqdn_rev
        ),
        (LeaseState::Default, 7200, true, true),
        "the row as it was"
    );
    let r = must_row(pool, "2001:db8:1::40").await;
    assert_eq!(
        (r.state, r.valid, r.pref, r.fwd, r.rev),
        (3, 0, 0, false, false)
    );
    assert!(
        r.secs_left <= 0.0 && r.secs_left > -10.0,
        "expired now: {r:?}"
    );
    assert_eq!(
        (r.duid.as_deref(), r.iaid, r.hostname.as_deref()),
        (Some(DUID_A), -153_561_729, Some("host-a.example.com.")),
        "kept for the client (lease affinity)"
    );
    assert!(
        lease6::release(&mut conn, a40, LeaseType::Na, DUID_A, IAID)
            .await
            .unwrap()
            .is_none(),
        "released already"
    );
    // A prefix is released the same way.
    let before = lease6::release(
        &mut conn,
        ip("2001:db8:8:100::"),
        LeaseType::Pd,
        DUID_A,
        IAID,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(before.prefix_len, 56);
    let r = must_row(pool, "2001:db8:8:100::").await;
    assert_eq!((r.state, r.valid, r.pref, r.lease_type), (3, 0, 0, 2));

    // The client comes back: its lookup finds the released lease, its commit revives it.
    let found = find_by_client(&mut conn, &[1], DUID_A, IAID, LeaseType::Na).await;
    assert_eq!(addrs(&found), [a40]);
    let back = lease6::commit(&mut conn, &address).await.unwrap().unwrap();
    assert_eq!(back.state, LeaseState::Default);
    let r = must_row(pool, "2001:db8:1::40").await;
    assert_eq!((r.state, r.valid, r.pref), (0, 7200, 4500));
}

#[tokio::test]
async fn decline_empties_the_address_for_its_probation() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.unwrap();
    let address = NewLease6 {
        hostname: Some("host-a.example.com.".into()),
        fqdn_fwd: true,
        fqdn_rev: true,
        hwaddr: Some(vec![0x52, 0x54, 0, 0xaa, 0, 1]),
        hwtype: Some(1),
        hwaddr_source: Some(4),
        pool_id: 5,
        ..na(DUID_A, IAID, "2001:db8:1::50")
    };
    lease6::commit(&mut conn, &address).await.unwrap().unwrap();
    let a50 = ip("2001:db8:1::50");
    assert!(lease6::decline(&mut conn, a50, DUID_B, IAID, 86400)
        .await
        .unwrap()
        .is_none());
    assert!(lease6::decline(&mut conn, a50, DUID_A, 7, 86400)
        .await
        .unwrap()
        .is_none());

    let before = lease6::decline(&mut conn, a50, DUID_A, IAID, 86400)
        .await
        .unwrap()
        .expect("A's address");
    assert_eq!(before.state, LeaseState::Default);
    assert_eq!(before.duid.as_deref(), Some(DUID_A));
    assert_eq!(before.hostname.as_deref(), Some("host-a.example.com."));
    assert_eq!((before.hwtype, before.hwaddr_source), (Some(1), Some(4)));

    let r = must_row(pool, "2001:db8:1::50").await;
    assert_eq!(r.state, 1);
    assert_eq!(
        r.duid.as_deref(),
        Some(&[0u8, 0, 0][..]),
        "Kea's empty DUID"
    );
    assert_eq!(
        (r.hwaddr.clone(), r.hwtype, r.source, r.hostname.clone()),
        (None, None, None, None)
    );
    assert_eq!((r.fwd, r.rev, r.pref, r.valid), (false, false, 0, 86400));
    assert!(
        near(r.secs_left, 86400.0),
        "expire = now + probation: {r:?}"
    );
    assert_eq!(
        (r.lease_type, r.prefix_len, r.subnet_id, r.pool_id),
        (0, 128, 1, 5)
    );

    assert!(
        lease6::decline(&mut conn, a50, DUID_A, IAID, 86400)
            .await
            .unwrap()
            .is_none(),
        "declined already"
    );
    assert!(
        lease6::commit(&mut conn, &address).await.unwrap().is_none(),
        "held through the probation, even from its former client"
    );

    // A delegated prefix is never declined.
    lease6::commit(&mut conn, &pd(DUID_A, IAID, "2001:db8:8:100::", 56))
        .await
        .unwrap()
        .unwrap();
    assert!(
        lease6::decline(&mut conn, ip("2001:db8:8:100::"), DUID_A, IAID, 86400)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(must_row(pool, "2001:db8:8:100::").await.state, 0);
}

#[tokio::test]
async fn reclaim_expired_then_flush_as_for_lease4() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.unwrap();
    let named = |last: &str| NewLease6 {
        hostname: Some(format!("h{last}.example.com.")),
        fqdn_fwd: true,
        fqdn_rev: true,
        ..na(DUID_A, IAID, &format!("2001:db8:1::{last}"))
    };
    for l in [
        named("60"),
        named("61"),
        named("62"),
        named("63"),
        pd(DUID_A, IAID, "2001:db8:8:100::", 56),
        NewLease6 {
            subnet_id: 2,
            ..named("64")
        },
    ] {
        lease6::commit(&mut conn, &l).await.unwrap().unwrap();
    }
    // ::60 active; the prefix expired 3 h ago, ::61 2.5 h ago; ::62 declined, its
    // probation over 2 h ago; ::63 released; ::64 expired in subnet 2.
    lease6::decline(&mut conn, ip("2001:db8:1::62"), DUID_A, IAID, 60)
        .await
        .unwrap()
        .unwrap();
    lease6::release(&mut conn, ip("2001:db8:1::63"), LeaseType::Na, DUID_A, IAID)
        .await
        .unwrap()
        .unwrap();
    set_expire(pool, "2001:db8:8:100::", "-3 hours").await;
    set_expire(pool, "2001:db8:1::61", "-150 minutes").await;
    set_expire(pool, "2001:db8:1::62", "-2 hours").await;
    set_expire(pool, "2001:db8:1::64", "-2 hours").await;

    // Another server holds ::61 locked: it is skipped, not waited for.
    let mut other = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM lease6 WHERE address = '2001:db8:1::61' FOR UPDATE")
        .execute(&mut *other)
        .await
        .unwrap();
    let got = lease6::reclaim_expired(&mut conn, &[1], 10).await.unwrap();
    assert_eq!(addrs(&got), [ip("2001:db8:8:100::"), ip("2001:db8:1::62")]);
    assert_eq!(
        got.iter().map(|l| l.state).collect::<Vec<_>>(),
        [LeaseState::Default, LeaseState::Declined],
        "the rows as they were"
    );
    other.rollback().await.unwrap();
    for a in ["2001:db8:8:100::", "2001:db8:1::62"] {
        assert_eq!(must_row(pool, a).await.state, 2, "{a}");
    }

    let got = lease6::reclaim_expired(&mut conn, &[1], 1).await.unwrap();
    assert_eq!(addrs(&got), [ip("2001:db8:1::61")]);
    assert_eq!(
        (got[0].state, got[0].fqdn_fwd, got[0].fqdn_rev),
        (LeaseState::Default, true, true)
    );
    let r = must_row(pool, "2001:db8:1::61").await;
    assert_eq!(
        (r.state, r.fwd, r.rev, r.hostname.as_deref()),
        (2, false, false, Some("h61.example.com."))
    );
    assert!(lease6::reclaim_expired(&mut conn, &[1], 10)
        .await
        .unwrap()
        .is_empty());
    // Active, released and other subnets' rows are left alone.
    assert_eq!(must_row(pool, "2001:db8:1::60").await.state, 0);
    assert_eq!(must_row(pool, "2001:db8:1::63").await.state, 3);
    assert_eq!(must_row(pool, "2001:db8:1::64").await.state, 0);

    // Held for an hour: the three reclaimed rows (expired 2 h ago and more) go, the
    // release of a moment ago stays; other subnets are not touched.
    assert_eq!(
        lease6::flush_reclaimed(&mut conn, &[2], 3600)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        lease6::flush_reclaimed(&mut conn, &[1], 3600)
            .await
            .unwrap(),
        3
    );
    for a in ["2001:db8:8:100::", "2001:db8:1::61", "2001:db8:1::62"] {
        assert!(row(pool, a).await.is_none(), "{a}");
    }
    assert!(row(pool, "2001:db8:1::63").await.is_some());
    set_expire(pool, "2001:db8:1::63", "-2 hours").await;
    assert_eq!(
        lease6::flush_reclaimed(&mut conn, &[1], 3600)
            .await
            .unwrap(),
        1
    );
    assert!(row(pool, "2001:db8:1::60").await.is_some());
}

#[tokio::test]
async fn count_active_counts_assigned_and_declined_by_type() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut conn = pool.acquire().await.unwrap();
    for l in [
        na(DUID_A, 1, "2001:db8:1::70"),
        na(DUID_A, 2, "2001:db8:1::71"),
        na(DUID_A, 3, "2001:db8:1::72"),
        na(DUID_A, 4, "2001:db8:1::73"),
        na(DUID_A, 5, "2001:db8:1::74"),
        pd(DUID_A, 1, "2001:db8:8:100::", 56),
        pd(DUID_A, 2, "2001:db8:8:200::", 56),
        NewLease6 {
            subnet_id: 2,
            ..na(DUID_A, 6, "2001:db8:2::75")
        },
    ] {
        lease6::commit(&mut conn, &l).await.unwrap().unwrap();
    }
    // ::71 expired, not reclaimed yet (still assigned, as Kea counts it); ::72
    // declined; ::73 released; ::74 reclaimed.
    set_expire(pool, "2001:db8:1::71", "-1 hour").await;
    lease6::decline(&mut conn, ip("2001:db8:1::72"), DUID_A, 3, 86400)
        .await
        .unwrap()
        .unwrap();
    lease6::release(&mut conn, ip("2001:db8:1::73"), LeaseType::Na, DUID_A, 4)
        .await
        .unwrap()
        .unwrap();
    sqlx::query("UPDATE lease6 SET state = 2 WHERE address = '2001:db8:1::74'")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        lease6::count_active(&mut conn, 1, LeaseType::Na)
            .await
            .unwrap(),
        (2, 1)
    );
    assert_eq!(
        lease6::count_active(&mut conn, 1, LeaseType::Pd)
            .await
            .unwrap(),
        (2, 0)
    );
    assert_eq!(
        lease6::count_active(&mut conn, 2, LeaseType::Na)
            .await
            .unwrap(),
        (1, 0)
    );
    assert_eq!(
        lease6::count_active(&mut conn, 3, LeaseType::Na)
            .await
            .unwrap(),
        (0, 0)
    );
}

/// `lease6_stat.leases` for (subnet, type, state); 0 when there is no row.
async fn stat(pool: &PgPool, subnet: i64, ty: i16, state: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT COALESCE((SELECT leases FROM lease6_stat \
                           WHERE subnet_id = $1 AND lease_type = $2 AND state = $3), 0)",
    )
    .bind(subnet)
    .bind(ty)
    .bind(state)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Subnet 9's address counts by [`lease6::count_active`] and Kea's `lease6_stat`
/// (addresses assigned, addresses declined), and its assigned prefixes.
async fn counts(conn: &mut sqlx::PgConnection, pool: &PgPool) -> ((u64, u64), i64, i64, i64) {
    (
        lease6::count_active(conn, 9, LeaseType::Na).await.unwrap(),
        stat(pool, 9, 0, 0).await,
        stat(pool, 9, 0, 1).await,
        stat(pool, 9, 2, 0).await,
    )
}

#[tokio::test]
async fn kea_lease6_stat_follows_commit_release_decline_and_reclaim() {
    let Some(kea_admin) = common::find_kea_admin() else {
        tern_testkit::peer_missing(
            "kea_lease6_stat_follows_commit_release_decline_and_reclaim",
            "kea-admin is not installed (apt-get install kea-admin)",
        );
        return;
    };
    // Kea's statistics triggers exist where Kea created the schema; tern's migrations
    // keep them.
    let db = testing::empty_db().await;
    common::kea_admin(&kea_admin, &db, &["db-init", "pgsql"]);
    db.store().migrate().await.unwrap();
    let pool = db.pool();
    let pool_stat: bool = sqlx::query_scalar("SELECT to_regclass('lease6_pool_stat') IS NOT NULL")
        .fetch_one(pool)
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let in9 = |l: NewLease6| NewLease6 {
        subnet_id: 9,
        pool_id: 4,
        ..l
    };

    let written = lease6::commit_many(
        &mut conn,
        &[
            in9(na(DUID_A, 1, "2001:db8:9::1")),
            in9(na(DUID_A, 2, "2001:db8:9::2")),
            in9(pd(DUID_A, 1, "2001:db8:99:100::", 56)),
        ],
    )
    .await
    .unwrap();
    assert_eq!(written.len(), 3);
    assert_eq!(counts(&mut conn, pool).await, ((2, 0), 2, 0, 1));
    if pool_stat {
        let n: i64 = sqlx::query_scalar(
            "SELECT leases FROM lease6_pool_stat WHERE subnet_id = 9 AND pool_id = 4 \
               AND lease_type = 0 AND state = 0",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(n, 2);
    }
    // A renewal changes nothing.
    lease6::commit(&mut conn, &in9(na(DUID_A, 1, "2001:db8:9::1")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counts(&mut conn, pool).await, ((2, 0), 2, 0, 1));

    lease6::release(&mut conn, ip("2001:db8:9::1"), LeaseType::Na, DUID_A, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counts(&mut conn, pool).await, ((1, 0), 1, 0, 1));
    lease6::decline(&mut conn, ip("2001:db8:9::2"), DUID_A, 2, 86400)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counts(&mut conn, pool).await, ((0, 1), 0, 1, 1));
    lease6::release(&mut conn, ip("2001:db8:99:100::"), LeaseType::Pd, DUID_A, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counts(&mut conn, pool).await, ((0, 1), 0, 1, 0));

    // Probation over: reclaimed, no longer counted.
    set_expire(pool, "2001:db8:9::2", "-1 second").await;
    let got = lease6::reclaim_expired(&mut conn, &[9], 10).await.unwrap();
    assert_eq!(addrs(&got), [ip("2001:db8:9::2")]);
    assert_eq!(counts(&mut conn, pool).await, ((0, 0), 0, 0, 0));
    // The released address goes back to its client: counted again.
    lease6::commit(&mut conn, &in9(na(DUID_A, 1, "2001:db8:9::1")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counts(&mut conn, pool).await, ((1, 0), 1, 0, 0));
}

#[tokio::test]
async fn two_servers_racing_on_the_same_candidates_never_share_one() {
    let db = testing::fresh_db().await;
    let settings = db.connect_settings().clone().with_max_connections(2);
    let servers = [
        Store::connect(&settings).await.unwrap(),
        Store::connect(&settings).await.unwrap(),
    ];
    const ROUNDS: u16 = 60;
    for round in 0..ROUNDS {
        let cands: Vec<Ipv6Addr> = (1..=8u16)
            .map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0x100, round, 0, 0, 0, i))
            .collect();
        let barrier = Arc::new(Barrier::new(2));
        let mut tasks = Vec::new();
        for (n, store) in servers.iter().enumerate() {
            let store = store.clone();
            let barrier = barrier.clone();
            // Opposite orders: the store writes in address order, so no deadlock.
            let mut mine = cands.clone();
            if n == 1 {
                mine.reverse();
            }
            tasks.push(tokio::spawn(async move {
                let duid = vec![
                    0,
                    3,
                    0,
                    1,
                    n as u8,
                    0,
                    0,
                    0,
                    (round >> 8) as u8,
                    round as u8,
                ];
                let leases: Vec<NewLease6> = mine
                    .iter()
                    .map(|a| NewLease6 {
                        address: *a,
                        ..na(&duid, round.into(), "::")
                    })
                    .collect();
                let mut conn = store.pool().acquire().await.unwrap();
                barrier.wait().await;
                // Every other round the first server keeps its transaction open a
                // moment after writing, so the second one must wait for it and then
                // find the rows taken.
                if n == 0 && round % 2 == 1 {
                    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
                    let won = lease6::commit_many(&mut tx, &leases).await.unwrap();
                    sqlx::query("SELECT pg_sleep(0.02)")
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    (duid, won)
                } else {
                    let won = lease6::commit_many(&mut conn, &leases).await.unwrap();
                    (duid, won)
                }
            }));
        }
        let mut winner_of = std::collections::HashMap::new();
        for t in tasks {
            let (duid, won) = t.await.unwrap();
            for l in won {
                assert_eq!(l.duid.as_deref(), Some(&duid[..]));
                assert!(
                    winner_of.insert(l.address, duid.clone()).is_none(),
                    "round {round}: {} went to both servers",
                    l.address
                );
            }
        }
        assert_eq!(
            winner_of.keys().copied().collect::<HashSet<_>>(),
            cands.iter().copied().collect::<HashSet<_>>(),
            "round {round}: every candidate went to one of them"
        );
        for (a, duid) in &winner_of {
            let r = must_row(db.pool(), &a.to_string()).await;
            assert_eq!(r.duid.as_ref(), Some(duid), "round {round}: {a}");
        }
    }
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT address) FROM lease6")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        (rows, distinct),
        (i64::from(ROUNDS) * 8, i64::from(ROUNDS) * 8)
    );
    for s in servers {
        s.close().await;
    }
}

#[tokio::test]
async fn the_server_duid_is_stored_once_and_shared() {
    let db = testing::fresh_db().await;
    let settings = db.connect_settings().clone().with_max_connections(1);
    // Six servers start at once, each with a DUID of its own making.
    let barrier = Arc::new(Barrier::new(6));
    let mut tasks = Vec::new();
    for n in 0..6u8 {
        let settings = settings.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let store = Store::connect(&settings).await.unwrap();
            let mut conn = store.pool().acquire().await.unwrap();
            let proposal = vec![0, 1, 0, 1, 0x30, 0x31, 0x32, 0x33, 2, 0, 0, 0, 0, n];
            barrier.wait().await;
            let got = dhcp6_server_duid(&mut conn, &proposal).await.unwrap();
            drop(conn);
            store.close().await;
            (proposal, got)
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let stored = results[0].1.clone();
    assert!(results.iter().all(|(_, got)| *got == stored), "{results:?}");
    assert!(
        results.iter().any(|(p, _)| *p == stored),
        "one proposal won"
    );
    let pool = db.pool();
    let (rows, in_table): (i64, Vec<u8>) =
        sqlx::query_as("SELECT count(*) OVER (), duid FROM tern.dhcp6_server_id")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((rows, &in_table), (1, &stored));

    // A restart proposes another one and keeps the stored one.
    let mut conn = pool.acquire().await.unwrap();
    assert_eq!(
        dhcp6_server_duid(&mut conn, &[0, 3, 0, 1, 9, 9, 9, 9, 9, 9])
            .await
            .unwrap(),
        stored
    );

    // An explicit server-id replaces it; setting the same again keeps its time.
    let configured = [0, 2, 0, 0, 0x09, 0xbf, 0xaa, 0xbb];
    set_dhcp6_server_duid(&mut conn, &configured).await.unwrap();
    assert_eq!(
        dhcp6_server_duid(&mut conn, &stored).await.unwrap(),
        configured
    );
    let created = || async {
        sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "SELECT created FROM tern.dhcp6_server_id",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    };
    let first = created().await;
    set_dhcp6_server_duid(&mut conn, &configured).await.unwrap();
    assert_eq!(created().await, first);

    // What cannot be a DUID is refused, by tern and by the table.
    for bad in [&[][..], &[0, 1], &[0, 0, 0], &[7; 131]] {
        assert!(matches!(
            set_dhcp6_server_duid(&mut conn, bad).await,
            Err(Error::InvalidDuid(_))
        ));
        assert!(matches!(
            dhcp6_server_duid(&mut conn, bad).await,
            Err(Error::InvalidDuid(_))
        ));
    }
    for sql in [
        "INSERT INTO tern.dhcp6_server_id (id, duid) VALUES (2, '\\x000300010a0b')",
        "UPDATE tern.dhcp6_server_id SET duid = '\\x0001'",
    ] {
        let err = sqlx::query(sql).execute(pool).await.unwrap_err();
        assert_eq!(
            err.as_database_error().and_then(|e| e.code()).as_deref(),
            Some("23514"),
            "{sql}: {err}"
        );
    }
    assert_eq!(
        dhcp6_server_duid(&mut conn, &stored).await.unwrap(),
        configured
    );
}
