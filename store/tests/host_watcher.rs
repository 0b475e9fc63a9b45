//! Host reservations written by plain SQL reach a HostWatcher.

use std::time::Duration;

use tern_store::{testing, HostChange, HostEvent, HostOp, HostTable, HostWatcher};

const JENKINS_MAC: [u8; 6] = [0x08, 0x00, 0x27, 0xf2, 0x5c, 0xe2];

async fn next(watcher: &mut HostWatcher) -> HostEvent {
    tokio::time::timeout(Duration::from_secs(2), watcher.recv())
        .await
        .expect("no host event within 2 s")
        .expect("watcher stopped")
}

async fn expect_quiet(watcher: &mut HostWatcher) {
    if let Ok(event) = tokio::time::timeout(Duration::from_millis(300), watcher.recv()).await {
        panic!("unexpected event {event:?}");
    }
}

fn change(event: HostEvent) -> HostChange {
    match event {
        HostEvent::Changed(c) => c,
        other => panic!("expected a change, got {other:?}"),
    }
}

#[tokio::test]
async fn plain_sql_insert_and_delete_are_announced() {
    let db = testing::fresh_db().await;
    let mut watcher = db.store().watch_hosts().await.unwrap();

    sqlx::raw_sql("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, ipv4_address, hostname, dhcp4_subnet_id) VALUES (decode('080027f25ce2','hex'), 0, 2887058842, 'srv-jenkins-01', 1);")
        .execute(db.pool())
        .await
        .unwrap();
    let host_id: i32 = sqlx::query_scalar("SELECT host_id FROM hosts")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(
        next(&mut watcher).await,
        HostEvent::Changed(HostChange {
            op: HostOp::Insert,
            table: HostTable::Hosts,
            host_id,
            identifier: JENKINS_MAC.to_vec(),
            identifier_type: 0,
            dhcp4_subnet_id: Some(1),
            dhcp6_subnet_id: None,
        })
    );

    sqlx::raw_sql("DELETE FROM hosts WHERE dhcp_identifier = decode('080027f25ce2','hex');")
        .execute(db.pool())
        .await
        .unwrap();
    let deleted = change(next(&mut watcher).await);
    assert_eq!(
        (deleted.op, deleted.host_id, deleted.identifier),
        (HostOp::Delete, host_id, JENKINS_MAC.to_vec())
    );
    expect_quiet(&mut watcher).await;
}

#[tokio::test]
async fn parts_updates_moves_rollbacks_and_truncate() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let mut watcher = db.store().watch_hosts().await.unwrap();

    let host_id: i32 = sqlx::query_scalar(
        "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp6_subnet_id, hostname)
         VALUES (decode('000100012a2b2c2d0a0b0c0d0e0f', 'hex'), 1, 7, 'v6') RETURNING host_id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(change(next(&mut watcher).await).op, HostOp::Insert);

    // An IPv6 reservation and a host option are updates of their host.
    sqlx::query("INSERT INTO ipv6_reservations (address, host_id) VALUES ('2001:db8::7', $1)")
        .bind(host_id)
        .execute(pool)
        .await
        .unwrap();
    let c = change(next(&mut watcher).await);
    assert_eq!(
        (
            c.op,
            c.table,
            c.host_id,
            c.identifier_type,
            c.dhcp6_subnet_id
        ),
        (
            HostOp::Update,
            HostTable::Ipv6Reservations,
            host_id,
            1,
            Some(7)
        )
    );
    sqlx::query("INSERT INTO dhcp6_options (code, formatted_value, space, scope_id, host_id) VALUES (23, '2001:db8::53', 'dhcp6', 3, $1)")
        .bind(host_id)
        .execute(pool)
        .await
        .unwrap();
    let c = change(next(&mut watcher).await);
    assert_eq!((c.op, c.table), (HostOp::Update, HostTable::Dhcp6Options));

    // Options that belong to no host are not reservations.
    sqlx::query(
        "INSERT INTO dhcp4_options (code, formatted_value, scope_id) VALUES (6, '192.0.2.53', 0)",
    )
    .execute(pool)
    .await
    .unwrap();
    expect_quiet(&mut watcher).await;

    // Moving to another subnet: the old key goes, the new one comes.
    sqlx::query("UPDATE hosts SET dhcp6_subnet_id = 8 WHERE host_id = $1")
        .bind(host_id)
        .execute(pool)
        .await
        .unwrap();
    let gone = change(next(&mut watcher).await);
    let came = change(next(&mut watcher).await);
    assert_eq!((gone.op, gone.dhcp6_subnet_id), (HostOp::Delete, Some(7)));
    assert_eq!((came.op, came.dhcp6_subnet_id), (HostOp::Insert, Some(8)));

    sqlx::query("UPDATE hosts SET hostname = 'renamed' WHERE host_id = $1")
        .bind(host_id)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(change(next(&mut watcher).await).op, HostOp::Update);

    // Nothing is announced for a transaction that rolls back.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("DELETE FROM hosts WHERE host_id = $1")
        .bind(host_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    expect_quiet(&mut watcher).await;

    sqlx::raw_sql("TRUNCATE hosts CASCADE")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(next(&mut watcher).await, HostEvent::Resync);
}

#[tokio::test]
async fn watcher_reconnects_and_asks_for_resync() {
    let db = testing::fresh_db().await;
    let mut watcher = db.store().watch_hosts().await.unwrap();

    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'tern-host-watcher' AND datname = current_database()",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(killed, [true]);

    let event = tokio::time::timeout(Duration::from_secs(10), watcher.recv())
        .await
        .expect("no resync after the connection was killed")
        .unwrap();
    assert_eq!(event, HostEvent::Resync);

    sqlx::raw_sql("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id) VALUES (decode('080027f25ce2','hex'), 0, 1)")
        .execute(db.pool())
        .await
        .unwrap();
    let c = change(next(&mut watcher).await);
    assert_eq!((c.op, c.identifier), (HostOp::Insert, JENKINS_MAC.to_vec()));
}
