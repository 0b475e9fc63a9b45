//! The zone server's tables: zones, records, the journal and the serial, written
//! through tern_store::zone and by plain SQL.

use std::time::Duration;

use tern_store::testing::{self, TestDb};
use tern_store::zone::{
    self, JournalEntry, JournalOp, ManagedBy, NewRecord, NewZone, SerialRule, Soa, Zone, ZoneEvent,
    ZoneKind, ZoneTx, ZoneWatcher,
};
use tern_store::Error;

fn soa() -> Soa {
    Soa {
        ttl: 3600,
        mname: "ns1.example.com.".into(),
        rname: "hostmaster.example.com.".into(),
        refresh: 10800,
        retry: 3600,
        expire: 604800,
        minimum: 300,
    }
}

fn rec(name: &str, rtype: &str, content: &str) -> NewRecord {
    NewRecord {
        name: name.into(),
        rtype: rtype.into(),
        ttl: 300,
        content: content.into(),
        managed_by: ManagedBy::Admin,
    }
}

fn new_zone(name: &str, rule: SerialRule, serial: Option<u32>) -> NewZone {
    NewZone {
        name: name.into(),
        kind: ZoneKind::Native,
        soa_edit_api: rule,
        account: String::new(),
        soa: soa(),
        serial,
        records: vec![
            rec(&format!("{name}."), "NS", "ns1.example.com."),
            rec(&format!("www.{name}."), "A", "192.0.2.1"),
        ],
    }
}

/// Today's YYYYMMDD01 (UTC).
fn today01() -> u32 {
    chrono::Utc::now()
        .format("%Y%m%d")
        .to_string()
        .parse::<u32>()
        .unwrap()
        * 100
        + 1
}

fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

/// A fresh database holding one zone made by [`new_zone`].
async fn with_zone(name: &str, rule: SerialRule, serial: Option<u32>) -> (TestDb, Zone) {
    let db = testing::fresh_db().await;
    let z = create_zone(&db, name, rule, serial).await;
    (db, z)
}

async fn create_zone(db: &TestDb, name: &str, rule: SerialRule, serial: Option<u32>) -> Zone {
    zone::create(db.pool(), &new_zone(name, rule, serial))
        .await
        .unwrap()
}

async fn serial_of(db: &TestDb, name: &str) -> u32 {
    zone::get(db.pool(), name).await.unwrap().unwrap().serial
}

/// One transaction adding one A record; the serial after it.
async fn add_one(db: &TestDb, zone: &str, name: &str, addr: &str) -> u32 {
    let mut tx = ZoneTx::begin(db.pool(), zone).await.unwrap().unwrap();
    assert_eq!(tx.add(&[rec(name, "A", addr)]).await.unwrap(), 1);
    tx.commit().await.unwrap()
}

async fn journal(db: &TestDb, z: &Zone, since: u32) -> Vec<(u32, char, String, String)> {
    zone::journal_since(db.pool(), z.id, since)
        .await
        .unwrap()
        .expect("the journal covers this serial")
        .into_iter()
        .map(|e: JournalEntry| {
            let op = match e.op {
                JournalOp::Delete => '-',
                JournalOp::Add => '+',
            };
            (e.serial, op, e.name, e.content)
        })
        .collect()
}

fn j(serial: u32, op: char, name: &str, content: &str) -> (u32, char, String, String) {
    (serial, op, name.to_owned(), content.to_owned())
}

async fn next_event(w: &mut ZoneWatcher) -> ZoneEvent {
    tokio::time::timeout(Duration::from_secs(5), w.recv())
        .await
        .expect("no zone event within 5 s")
        .unwrap()
}

/// A record written by plain SQL.
async fn raw_insert(db: &TestDb, zone_id: i64, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tern.dns_record (zone_id, name, type, ttl, content)
         VALUES ($1, $2, 'A', 60, '192.0.2.7')",
    )
    .bind(zone_id)
    .bind(name)
    .execute(db.pool())
    .await
    .map(drop)
}

async fn sql(db: &TestDb, sql: &str) {
    sqlx::raw_sql(sql).execute(db.pool()).await.unwrap();
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

#[tokio::test]
async fn create_get_list_delete() {
    let (db, z) = with_zone("Example.COM", SerialRule::Default, None).await;
    let pool = db.pool();
    assert_eq!(z.name, "example.com.");
    assert_eq!((z.serial, z.journal_start), (today01(), today01()));
    assert_eq!(z.soa, soa());
    // An imported serial is kept as it is.
    let y = create_zone(&db, "b.test", SerialRule::Increase, Some(42)).await;
    assert_eq!(
        (y.serial, y.journal_start, y.name.as_str()),
        (42, 42, "b.test.")
    );

    assert_eq!(
        zone::get(pool, "EXAMPLE.com").await.unwrap(),
        Some(z.clone())
    );
    assert_eq!(
        zone::get(pool, "example.com.").await.unwrap(),
        Some(z.clone())
    );
    assert_eq!(zone::get_by_id(pool, z.id).await.unwrap(), Some(z.clone()));
    assert_eq!(zone::get(pool, "example.org").await.unwrap(), None);
    let names: Vec<String> = zone::list(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|z| z.name)
        .collect();
    assert_eq!(names, ["b.test.", "example.com."]);

    let again = zone::create(pool, &new_zone("EXAMPLE.com", SerialRule::Default, None)).await;
    assert!(
        matches!(&again, Err(Error::ZoneExists(n)) if n == "example.com."),
        "{again:?}"
    );
    let outside = NewZone {
        records: vec![rec("www.example.org.", "A", "192.0.2.1")],
        ..new_zone("c.test", SerialRule::Default, None)
    };
    assert!(matches!(
        zone::create(pool, &outside).await,
        Err(Error::OutOfZone { .. })
    ));

    let (_, records) = zone::snapshot(pool, z.id).await.unwrap().unwrap();
    let rows: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| (r.name.as_str(), r.rtype.as_str(), r.content.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("Example.COM.", "NS", "ns1.example.com."),
            ("www.Example.COM.", "A", "192.0.2.1")
        ]
    );
    // A new zone's records are not history: no journal rows.
    assert_eq!(count(&db, "SELECT count(*) FROM tern.dns_journal").await, 0);

    assert!(zone::delete(pool, "EXAMPLE.COM").await.unwrap());
    assert!(!zone::delete(pool, "example.com").await.unwrap());
    assert_eq!(zone::get(pool, "example.com").await.unwrap(), None);
    assert_eq!(count(&db, "SELECT count(*) FROM tern.dns_record").await, 2);
}

#[tokio::test]
async fn serial_rules() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    // DEFAULT: from a low serial to today's YYYYMMDD01, then +1.
    create_zone(&db, "d.test", SerialRule::Default, Some(5)).await;
    assert_eq!(
        add_one(&db, "d.test", "a.d.test.", "192.0.2.1").await,
        today01()
    );
    assert_eq!(
        add_one(&db, "d.test", "b.d.test.", "192.0.2.2").await,
        today01() + 1
    );
    // DEFAULT above today's date: +1.
    create_zone(&db, "f.test", SerialRule::Default, Some(4_000_000_000)).await;
    assert_eq!(
        add_one(&db, "f.test", "a.f.test.", "192.0.2.1").await,
        4_000_000_001
    );
    // INCREASE.
    create_zone(&db, "i.test", SerialRule::Increase, Some(7)).await;
    assert_eq!(add_one(&db, "i.test", "a.i.test.", "192.0.2.1").await, 8);
    assert_eq!(add_one(&db, "i.test", "b.i.test.", "192.0.2.2").await, 9);
    let i = create_zone(&db, "i2.test", SerialRule::Increase, None).await;
    assert_eq!(i.serial, 1);
    // EPOCH: the unix time, then +1 while that is not higher.
    let before = unix_now();
    create_zone(&db, "e.test", SerialRule::Epoch, Some(7)).await;
    let e1 = add_one(&db, "e.test", "a.e.test.", "192.0.2.1").await;
    assert!(e1 >= before && e1 <= unix_now(), "{e1} not now ({before})");
    let e2 = add_one(&db, "e.test", "b.e.test.", "192.0.2.2").await;
    assert!(e2 > e1 && e2 <= unix_now().max(e1 + 1), "{e2} after {e1}");
    // At the top of the 32-bit range the serial cannot move on.
    create_zone(&db, "top.test", SerialRule::Increase, Some(u32::MAX)).await;
    let mut tx = ZoneTx::begin(pool, "top.test").await.unwrap().unwrap();
    tx.add(&[rec("a.top.test.", "A", "192.0.2.1")])
        .await
        .unwrap();
    let r = tx.commit().await;
    assert!(
        matches!(&r, Err(Error::ZoneRule(m)) if m.contains("4294967295")),
        "{r:?}"
    );
}

#[tokio::test]
async fn one_serial_per_transaction() {
    let (db, z) = with_zone("one.test", SerialRule::Increase, Some(100)).await;
    let pool = db.pool();
    let mut tx = ZoneTx::begin(pool, "ONE.test").await.unwrap().unwrap();
    assert_eq!(tx.zone().serial, 100);
    let batch: Vec<NewRecord> = (1..=20)
        .map(|i| rec(&format!("h{i}.one.test."), "A", &format!("192.0.2.{i}")))
        .collect();
    assert_eq!(tx.add(&batch).await.unwrap(), 20);
    // Duplicates (any owner case) are ignored.
    assert_eq!(
        tx.add(&[rec("H1.ONE.TEST.", "a", "192.0.2.1")])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        tx.delete_records(&[("H2.one.test.".into(), "a".into(), "192.0.2.2".into())])
            .await
            .unwrap(),
        1
    );
    assert_eq!(tx.delete_rrset("H3.one.test.", "a").await.unwrap(), 1);
    assert_eq!(tx.delete_name("h4.one.test.").await.unwrap(), 1);
    assert!(tx.name_in_use("h5.ONE.test.").await.unwrap());
    assert!(!tx.name_in_use("h4.one.test.").await.unwrap());
    tx.replace_rrset(
        "www.one.test.",
        "A",
        &[rec("www.one.test.", "A", "192.0.2.99")],
    )
    .await
    .unwrap();
    let changed = Soa {
        refresh: 999,
        ..soa()
    };
    tx.set_soa(&changed, None).await.unwrap();
    assert_eq!(tx.commit().await.unwrap(), 101);

    // Plain SQL: three statements in one transaction, one serial.
    sqlx::raw_sql(
        "BEGIN;
         INSERT INTO tern.dns_record (zone_id, name, type, ttl, content)
              SELECT id, 'x.one.test.', 'TXT', 60, '\"x\"' FROM tern.dns_zone WHERE name = 'one.test.';
         DELETE FROM tern.dns_record WHERE name = 'h6.one.test.';
         UPDATE tern.dns_zone SET retry = 61 WHERE name = 'one.test.';
         COMMIT;",
    )
    .execute(pool)
    .await
    .unwrap();
    let z2 = zone::get(pool, "one.test").await.unwrap().unwrap();
    assert_eq!((z2.serial, z2.soa.refresh, z2.soa.retry), (102, 999, 61));
    let serials: Vec<u32> = zone::journal_since(pool, z.id, 100)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|e| e.serial)
        .collect();
    assert_eq!(serials.len(), 20 + 3 + 2 + 2);
    assert!(serials[..25].iter().all(|s| *s == 101), "{serials:?}");
    assert_eq!(serials[25..], [102, 102]);

    // A transaction that changes nothing keeps the serial.
    let mut tx = ZoneTx::begin(pool, "one.test").await.unwrap().unwrap();
    assert_eq!(
        tx.add(&[rec("h1.one.test.", "A", "192.0.2.1")])
            .await
            .unwrap(),
        0
    );
    tx.set_soa(&z2.soa, None).await.unwrap();
    assert_eq!(tx.commit().await.unwrap(), 102);
    // Nor does a rolled-back one move it.
    let mut tx = ZoneTx::begin(pool, "one.test").await.unwrap().unwrap();
    tx.add(&[rec("r.one.test.", "A", "192.0.2.1")])
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        add_one(&db, "one.test", "s.one.test.", "192.0.2.1").await,
        103
    );
}

#[tokio::test]
async fn plain_sql_is_journaled_bumps_and_notifies() {
    let (db, z) = with_zone("raw.test", SerialRule::Increase, Some(10)).await;
    let pool = db.pool();
    let mut watcher = db.store().watch_zones().await.unwrap();
    let changed = |serial| ZoneEvent::Changed {
        zone_id: z.id,
        serial,
    };
    raw_insert(&db, z.id, "Printer.raw.test.").await.unwrap();
    assert_eq!(next_event(&mut watcher).await, changed(11));
    sql(
        &db,
        "UPDATE tern.dns_record SET ttl = 120 WHERE name = 'Printer.raw.test.'",
    )
    .await;
    // Not visible in DNS: no journal row, no new serial.
    sql(
        &db,
        "UPDATE tern.dns_record SET managed_by = 'dhcp' WHERE name = 'Printer.raw.test.'",
    )
    .await;
    sql(
        &db,
        "DELETE FROM tern.dns_record WHERE lower(name) = 'printer.raw.test.'",
    )
    .await;
    assert_eq!(next_event(&mut watcher).await, changed(12));
    assert_eq!(next_event(&mut watcher).await, changed(13));
    assert_eq!(serial_of(&db, "raw.test").await, 13);
    assert_eq!(
        journal(&db, &z, 10).await,
        [
            j(11, '+', "Printer.raw.test.", "192.0.2.7"),
            j(12, '-', "Printer.raw.test.", "192.0.2.7"),
            j(12, '+', "Printer.raw.test.", "192.0.2.7"),
            j(13, '-', "Printer.raw.test.", "192.0.2.7"),
        ]
    );
    let ttls: Vec<u32> = zone::journal_since(pool, z.id, 11)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|e| e.ttl)
        .collect();
    assert_eq!(ttls, [60, 120, 120]);

    // Plain SQL cannot put a record outside the zone, nor bypass the journal.
    let out = raw_insert(&db, z.id, "www.example.org.").await.unwrap_err();
    assert!(
        out.to_string().contains("is not in zone raw.test."),
        "{out}"
    );
    let trunc = sqlx::raw_sql("TRUNCATE tern.dns_record")
        .execute(pool)
        .await
        .unwrap_err();
    assert!(trunc.to_string().contains("use DELETE"), "{trunc}");
    assert_eq!(serial_of(&db, "raw.test").await, 13);
}

#[tokio::test]
async fn journal_since_answers_only_what_it_knows() {
    let (db, z) = with_zone("j.test", SerialRule::Increase, Some(1)).await;
    let pool = db.pool();
    assert_eq!(add_one(&db, "j.test", "a.j.test.", "192.0.2.1").await, 2);
    let mut tx = ZoneTx::begin(pool, "j.test").await.unwrap().unwrap();
    tx.delete_records(&[("a.j.test.".into(), "A".into(), "192.0.2.1".into())])
        .await
        .unwrap();
    tx.add(&[rec("b.j.test.", "A", "192.0.2.2")]).await.unwrap();
    // An explicit higher serial is kept as set.
    tx.set_soa(&soa(), Some(10)).await.unwrap();
    assert_eq!(tx.commit().await.unwrap(), 10);
    // An SOA-only change is a version too.
    let mut tx = ZoneTx::begin(pool, "j.test").await.unwrap().unwrap();
    let changed = Soa {
        minimum: 60,
        ..soa()
    };
    tx.set_soa(&changed, None).await.unwrap();
    assert_eq!(tx.commit().await.unwrap(), 11);

    assert_eq!(
        journal(&db, &z, 1).await,
        [
            j(2, '+', "a.j.test.", "192.0.2.1"),
            j(10, '-', "a.j.test.", "192.0.2.1"),
            j(10, '+', "b.j.test.", "192.0.2.2"),
        ]
    );
    assert_eq!(journal(&db, &z, 2).await.len(), 2);
    assert_eq!(journal(&db, &z, 10).await, []);
    assert_eq!(journal(&db, &z, 11).await, []);
    let (at, _) = zone::changes_since(pool, z.id, 10).await.unwrap().unwrap();
    assert_eq!((at.serial, at.soa.minimum), (11, 60));
    // Older than journal_start, never held (skipped by the explicit serial), or
    // newer than the zone: the journal cannot say.
    for s in [0, 5, 9, 12] {
        assert_eq!(
            zone::journal_since(pool, z.id, s).await.unwrap(),
            None,
            "{s}"
        );
    }
    assert_eq!(zone::journal_since(pool, 999_999, 1).await.unwrap(), None);
}

#[tokio::test]
async fn a_lower_serial_is_refused() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    create_zone(&db, "low.test", SerialRule::Increase, Some(50)).await;
    let mut tx = ZoneTx::begin(pool, "low.test").await.unwrap().unwrap();
    let r = tx.set_soa(&soa(), Some(49)).await;
    assert!(
        matches!(
            r,
            Err(Error::SerialBackwards {
                current: 50,
                requested: 49,
                ..
            })
        ),
        "{r:?}"
    );
    drop(tx);
    let raw = sqlx::query("UPDATE tern.dns_zone SET serial = 3 WHERE name = 'low.test.'")
        .execute(pool)
        .await
        .unwrap_err();
    assert!(
        raw.to_string().contains("cannot go back from 50 to 3"),
        "{raw}"
    );
    // The same serial is no change of serial: the rule moves it.
    let mut tx = ZoneTx::begin(pool, "low.test").await.unwrap().unwrap();
    let changed = Soa { retry: 1, ..soa() };
    tx.set_soa(&changed, Some(50)).await.unwrap();
    assert_eq!(tx.commit().await.unwrap(), 51);
    assert_eq!(serial_of(&db, "low.test").await, 51);
}

#[tokio::test]
async fn concurrent_writers_get_distinct_serials() {
    let (db, z) = with_zone("c.test", SerialRule::Increase, Some(1)).await;
    let pool = db.pool();

    // Through ZoneTx: the second waits for the first's lock.
    let mut first = ZoneTx::begin(pool, "c.test").await.unwrap().unwrap();
    first
        .add(&[rec("a.c.test.", "A", "192.0.2.1")])
        .await
        .unwrap();
    let second = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut tx = ZoneTx::begin(&pool, "c.test").await.unwrap().unwrap();
            let seen = tx.zone().serial;
            tx.add(&[rec("b.c.test.", "A", "192.0.2.2")]).await.unwrap();
            (seen, tx.commit().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!second.is_finished(), "the second writer did not wait");
    assert_eq!(first.commit().await.unwrap(), 2);
    assert_eq!(second.await.unwrap(), (2, 3));

    // Plain SQL on two connections: the zone row's lock orders them too.
    let insert = move |name: &str| {
        format!(
            "INSERT INTO tern.dns_record (zone_id, name, type, ttl, content) VALUES ({}, '{name}', 'A', 60, '192.0.2.9')",
            z.id
        )
    };
    let mut a = pool.begin().await.unwrap();
    sqlx::query(&insert("x.c.test."))
        .execute(&mut *a)
        .await
        .unwrap();
    let late = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut b = pool.begin().await.unwrap();
            sqlx::query(&insert("y.c.test."))
                .execute(&mut *b)
                .await
                .unwrap();
            b.commit().await.unwrap();
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!late.is_finished(), "the second transaction did not wait");
    sqlx::query(&insert("x2.c.test."))
        .execute(&mut *a)
        .await
        .unwrap();
    a.commit().await.unwrap();
    late.await.unwrap();
    assert_eq!(
        journal(&db, &z, 1).await,
        [
            j(2, '+', "a.c.test.", "192.0.2.1"),
            j(3, '+', "b.c.test.", "192.0.2.2"),
            j(4, '+', "x.c.test.", "192.0.2.9"),
            j(4, '+', "x2.c.test.", "192.0.2.9"),
            j(5, '+', "y.c.test.", "192.0.2.9"),
        ]
    );
}

#[tokio::test]
async fn watcher_sees_created_changed_deleted_and_resyncs() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut w = db.store().watch_zones().await.unwrap();
    let z = create_zone(&db, "w.test", SerialRule::Increase, Some(1)).await;
    assert_eq!(
        next_event(&mut w).await,
        ZoneEvent::Created { zone_id: z.id }
    );
    add_one(&db, "w.test", "a.w.test.", "192.0.2.1").await;
    assert_eq!(
        next_event(&mut w).await,
        ZoneEvent::Changed {
            zone_id: z.id,
            serial: 2
        }
    );
    assert!(zone::delete(pool, "w.test").await.unwrap());
    assert_eq!(
        next_event(&mut w).await,
        ZoneEvent::Deleted { zone_id: z.id }
    );

    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'tern-zone-watcher' AND datname = current_database()",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(killed, [true]);
    let event = tokio::time::timeout(Duration::from_secs(10), w.recv())
        .await
        .expect("no resync after the connection was killed")
        .unwrap();
    assert_eq!(event, ZoneEvent::Resync);
    let z = create_zone(&db, "w2.test", SerialRule::Increase, Some(1)).await;
    assert_eq!(
        next_event(&mut w).await,
        ZoneEvent::Created { zone_id: z.id }
    );
}

#[tokio::test]
async fn snapshot_is_one_version() {
    let (db, z) = with_zone("s.test", SerialRule::Increase, Some(1)).await;
    let pool = db.pool();
    // An open transaction is not seen.
    let mut open = ZoneTx::begin(pool, "s.test").await.unwrap().unwrap();
    open.add(&[rec("open.s.test.", "A", "192.0.2.1")])
        .await
        .unwrap();
    let (zs, records) = zone::snapshot(pool, z.id).await.unwrap().unwrap();
    assert_eq!((zs.serial, records.len()), (1, 2));
    open.commit().await.unwrap();

    // Each write adds one record and one serial: every snapshot taken meanwhile
    // holds exactly serial - 2 + 2 records.
    let writer = {
        let pool = pool.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                let mut tx = ZoneTx::begin(&pool, "s.test").await.unwrap().unwrap();
                tx.add(&[rec(&format!("h{i}.s.test."), "A", "192.0.2.2")])
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        })
    };
    let mut seen = std::collections::BTreeSet::new();
    while !writer.is_finished() {
        let (zs, records) = zone::snapshot(pool, z.id).await.unwrap().unwrap();
        assert_eq!(
            records.len() as u32,
            zs.serial + 1,
            "at serial {}",
            zs.serial
        );
        seen.insert(zs.serial);
    }
    writer.await.unwrap();
    let (zs, records) = zone::snapshot(pool, z.id).await.unwrap().unwrap();
    assert_eq!((zs.serial, records.len()), (42, 43));
    assert!(seen.len() > 1, "the snapshots saw only {seen:?}");
    assert_eq!(zone::snapshot(pool, 999_999).await.unwrap(), None);
}

#[tokio::test]
async fn replace_rrset_journals_only_changes() {
    let (db, z) = with_zone("r.test", SerialRule::Increase, Some(1)).await;
    let pool = db.pool();
    let rrset = |contents: &[&str], ttl| -> Vec<NewRecord> {
        contents
            .iter()
            .map(|c| NewRecord {
                ttl,
                ..rec("mx.r.test.", "TXT", c)
            })
            .collect()
    };
    let replace = |records: Vec<NewRecord>| {
        let pool = pool.clone();
        async move {
            let mut tx = ZoneTx::begin(&pool, "r.test").await.unwrap().unwrap();
            tx.replace_rrset("MX.r.test.", "txt", &records)
                .await
                .unwrap();
            tx.commit().await.unwrap()
        }
    };
    assert_eq!(replace(rrset(&["\"1\"", "\"2\""], 60)).await, 2);
    assert_eq!(replace(rrset(&["\"2\"", "\"3\""], 60)).await, 3);
    assert_eq!(
        journal(&db, &z, 2).await,
        [
            j(3, '-', "mx.r.test.", "\"1\""),
            j(3, '+', "mx.r.test.", "\"3\"")
        ]
    );
    // The same RRset again: nothing written, the serial stays.
    assert_eq!(replace(rrset(&["\"3\"", "\"2\""], 60)).await, 3);
    // A new TTL: each record out and in again.
    assert_eq!(replace(rrset(&["\"2\"", "\"3\""], 90)).await, 4);
    let e = zone::journal_since(pool, z.id, 3).await.unwrap().unwrap();
    assert_eq!(e.len(), 4);
    assert!(e[2..].iter().all(|e| e.op == JournalOp::Add && e.ttl == 90));
    // Empty: the RRset goes.
    assert_eq!(replace(vec![]).await, 5);
    let (_, records) = zone::snapshot(pool, z.id).await.unwrap().unwrap();
    assert!(records.iter().all(|r| r.rtype != "TXT"));
    // Records of another RRset are refused.
    let mut tx = ZoneTx::begin(pool, "r.test").await.unwrap().unwrap();
    let r = tx
        .replace_rrset("mx.r.test.", "TXT", &[rec("other.r.test.", "TXT", "\"x\"")])
        .await;
    assert!(matches!(r, Err(Error::InvalidRecord { .. })), "{r:?}");
}

#[tokio::test]
async fn prune_journal_moves_journal_start() {
    let (db, z) = with_zone("p.test", SerialRule::Increase, Some(1)).await;
    let pool = db.pool();
    for i in 0..5 {
        add_one(&db, "p.test", &format!("h{i}.p.test."), "192.0.2.1").await;
    }
    // Versions 2..=6; keep the last 2: IXFR from 4 and 5 (and 6) only.
    zone::prune_journal(pool, z.id, 2).await.unwrap();
    let zp = zone::get_by_id(pool, z.id).await.unwrap().unwrap();
    assert_eq!((zp.serial, zp.journal_start), (6, 4));
    assert_eq!(zone::journal_since(pool, z.id, 3).await.unwrap(), None);
    assert_eq!(
        journal(&db, &z, 4).await,
        [
            j(5, '+', "h3.p.test.", "192.0.2.1"),
            j(6, '+', "h4.p.test.", "192.0.2.1")
        ]
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM tern.dns_journal WHERE serial <= 4"
        )
        .await,
        0
    );
    // Keeping more than there is changes nothing.
    let start_after = |keep| async move {
        zone::prune_journal(pool, z.id, keep).await.unwrap();
        let zp = zone::get_by_id(pool, z.id).await.unwrap().unwrap();
        zp.journal_start
    };
    assert_eq!(start_after(10).await, 4);
    assert_eq!(start_after(0).await, 6);
    assert_eq!(journal(&db, &z, 6).await, []);
    assert_eq!(count(&db, "SELECT count(*) FROM tern.dns_journal").await, 0);
    assert!(matches!(
        zone::prune_journal(pool, 999_999, 1).await,
        Err(Error::ZoneNotFound(_))
    ));
}
