//! A database that the real `kea-admin db-init pgsql` created (Kea 2.2 on Debian:
//! schema 13.0), with rows written as Kea 2.2 writes them, is brought forward by
//! tern's migrations without losing a row, and Kea's own triggers, functions and
//! kea-admin commands keep working.

mod common;

use common::{find_kea_admin, kea_admin};
use serde_json::Value;
use tern_store::testing::{self, TestDb};
use tern_store::KeaSchemaVersion;

/// Rows as Kea 2.2 writes them: only the columns schema 13.0 has.
const KEA22_ROWS: &str = r#"
INSERT INTO lease4 (address, hwaddr, client_id, valid_lifetime, expire, subnet_id,
                    fqdn_fwd, fqdn_rev, hostname, state, user_context)
VALUES (3221225994, '\x525400aa0001', '\x01525400aa0001', 3600, '2026-04-08 08:46:15+00', 1,
        true, true, 'alpha.example.com.', 0, NULL),
       (3221225995, '\x525400aa0002', NULL, 7200, '2026-04-08 09:00:00+00', 1,
        false, false, '', 1, '{ "ISC": { "relay-agent-info": { "sub-options": "0x0104AABBCCDD" } } }');

INSERT INTO lease6 (address, duid, valid_lifetime, expire, subnet_id, pref_lifetime,
                    lease_type, iaid, prefix_len, fqdn_fwd, fqdn_rev, hostname, state,
                    hwaddr, hwtype, hwaddr_source, user_context)
VALUES ('2001:db8:1::10', '\x000100012a2b2c2d525400aa0003', 4000, '2026-04-08 10:00:00+00', 2,
        3000, 0, 11, 128, true, true, 'gamma.example.com.', 0, '\x525400aa0003', 1, 4, NULL),
       ('2001:db8:8:100::', '\x000100012a2b2c2d525400aa0004', 4000, '2026-04-08 10:05:00+00', 2,
        3000, 2, 12, 56, false, false, '', 0, '\x525400aa0004', 1, 4, '{ "note": "pd" }');

INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id, ipv4_address,
                   hostname, dhcp4_client_classes, dhcp4_next_server, dhcp4_boot_file_name)
VALUES ('\x080027f25ce2', 0, 1, 2887058842, 'srv-jenkins-01', 'servers', 3221225985, 'pxelinux.0');

INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp6_subnet_id, hostname, user_context)
VALUES ('\x000100012a2b2c2d525400aa0005', 1, 2, 'delta', '{ "rack": 4 }');

INSERT INTO ipv6_reservations (address, prefix_len, type, dhcp6_iaid, host_id)
SELECT '2001:db8:1::100', 128, 0, NULL, host_id FROM hosts WHERE hostname = 'delta';
INSERT INTO ipv6_reservations (address, prefix_len, type, dhcp6_iaid, host_id)
SELECT '2001:db8:9::', 48, 2, 5, host_id FROM hosts WHERE hostname = 'delta';

INSERT INTO dhcp4_options (code, value, formatted_value, space, persistent, host_id, scope_id)
SELECT 6, '\xc0000235', '192.0.2.53', 'dhcp4', false, host_id, 3 FROM hosts WHERE hostname = 'srv-jenkins-01';
INSERT INTO dhcp6_options (code, value, formatted_value, space, persistent, host_id, scope_id)
SELECT 23, NULL, '2001:db8::53', 'dhcp6', true, host_id, 3 FROM hosts WHERE hostname = 'delta';
"#;

const SNAPSHOT_TABLES: &[&str] = &[
    "lease4",
    "lease6",
    "hosts",
    "ipv6_reservations",
    "dhcp4_options",
    "dhcp6_options",
];

/// Columns tern adds to a schema 13.0 database.
const NEW_COLUMNS: &[&str] = &[
    "relay_id",
    "remote_id",
    "pool_id",
    "excluded_prefix",
    "excluded_prefix_len",
    "cancelled",
    "client_classes",
];

/// Every row of `table` as JSON, ordered, without the columns tern adds.
async fn snapshot(db: &TestDb, table: &str) -> Vec<Value> {
    let rows: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t)::text FROM {table} t ORDER BY to_jsonb(t)::text"
    ))
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            let mut v: Value = serde_json::from_str(r).unwrap();
            for c in NEW_COLUMNS {
                v.as_object_mut().unwrap().remove(*c);
            }
            v
        })
        .collect()
}

#[tokio::test]
async fn kea_admin_database_is_brought_forward_in_place() {
    let Some(kea_admin_path) = find_kea_admin() else {
        tern_testkit::peer_missing(
            "kea_admin_database_is_brought_forward_in_place",
            "kea-admin is not installed (apt-get install kea-admin)",
        );
        return;
    };
    let db = testing::empty_db().await;
    let out = kea_admin(&kea_admin_path, &db, &["db-init", "pgsql"]);
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));

    let store = db.store();
    let kea_version = store
        .status()
        .await
        .unwrap()
        .kea_schema_version
        .expect("schema_version");
    assert!(
        kea_version
            < KeaSchemaVersion {
                major: 34,
                minor: 0
            },
        "{kea_version}"
    );

    sqlx::raw_sql(KEA22_ROWS).execute(db.pool()).await.unwrap();
    let mut before = Vec::new();
    for t in SNAPSHOT_TABLES {
        let rows = snapshot(&db, t).await;
        assert!(!rows.is_empty(), "{t} has no rows");
        before.push(rows);
    }
    let triggers_before: Vec<String> =
        sqlx::query_scalar("SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1")
            .fetch_all(db.pool())
            .await
            .unwrap();

    let report = store.migrate().await.unwrap();
    assert_eq!(report.kea_schema_before, Some(kea_version));
    assert_eq!(report.applied.len(), tern_store::migrate::MIGRATIONS.len());

    // Kea's schema_version row is left alone.
    let status = store.status().await.unwrap();
    assert_eq!(status.kea_schema_version, Some(kea_version));
    assert!(status.pending.is_empty());

    // Same rows, same values; the tables now have Kea 3.x's shape.
    for (t, rows) in SNAPSHOT_TABLES.iter().zip(&before) {
        assert_eq!(&snapshot(&db, t).await, rows, "rows of {t} changed");
    }
    common::assert_kea_columns(db.pool()).await;
    common::assert_kea_indexes(db.pool()).await;
    let defaults: (i64, Option<Vec<u8>>, i64, String, bool) = sqlx::query_as(
        "SELECT l4.pool_id, l4.relay_id, l6.pool_id, o.client_classes, o.cancelled
           FROM lease4 l4, lease6 l6, dhcp4_options o
          WHERE l4.address = 3221225994 AND l6.address = '2001:db8:1::10'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(defaults, (0, None, 0, "[  ]".to_owned(), false));

    // Kea's triggers are all still there (tern only adds its own).
    let triggers_after: Vec<String> = sqlx::query_scalar(
        "SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal AND tgname NOT LIKE 'tern_%' ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(triggers_after, triggers_before);

    // Writes in the new shape work, and Kea's statistics triggers still count.
    sqlx::raw_sql(
        r#"
        INSERT INTO lease4 (address, hwaddr, valid_lifetime, expire, subnet_id, state, relay_id, remote_id, pool_id)
        VALUES (3221226000, '\x525400aa0009', 3600, now(), 99, 0, '\x0a0b', '\x0c0d', 3);
        UPDATE lease4 SET state = 1, valid_lifetime = 60 WHERE address = 3221226000;
        INSERT INTO lease6 (address, duid, valid_lifetime, expire, subnet_id, pref_lifetime, lease_type, iaid, prefix_len, state, pool_id)
        VALUES ('2001:db8:1::99', '\x0001', 3600, now(), 98, 1800, 0, 1, 128, 0, 2);
        UPDATE lease6 SET hostname = 'x.example.', state = 1 WHERE address = '2001:db8:1::99';
        "#,
    )
    .execute(db.pool())
    .await
    .unwrap();
    let stat4: Option<i64> =
        sqlx::query_scalar("SELECT leases FROM lease4_stat WHERE subnet_id = 99 AND state = 1")
            .fetch_optional(db.pool())
            .await
            .unwrap();
    assert_eq!(stat4, Some(1), "Kea's lease4_stat trigger did not count");
    let stat6: Option<i64> = sqlx::query_scalar(
        "SELECT leases FROM lease6_stat WHERE subnet_id = 98 AND lease_type = 0 AND state = 1",
    )
    .fetch_optional(db.pool())
    .await
    .unwrap();
    assert_eq!(stat6, Some(1), "Kea's lease6_stat trigger did not count");
    sqlx::raw_sql(
        "DELETE FROM lease4 WHERE address = 3221226000;
         DELETE FROM lease6 WHERE address = '2001:db8:1::99';",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let stat4: i64 =
        sqlx::query_scalar("SELECT leases FROM lease4_stat WHERE subnet_id = 99 AND state = 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(stat4, 0);

    // Reservations: the seed's SQL, an IPv6 reservation, an option, a delete.
    sqlx::raw_sql(
        r#"
        INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, ipv4_address, hostname, dhcp4_subnet_id)
        VALUES (decode('080027dcf271','hex'), 0, 2887058853, 'srv-redis-01', 1);
        INSERT INTO ipv6_reservations (address, host_id, excluded_prefix, excluded_prefix_len)
        SELECT '2001:db8:a::', host_id, '2001:db8:a:1::', 64 FROM hosts WHERE hostname = 'delta';
        INSERT INTO dhcp4_options (code, formatted_value, space, host_id, scope_id, cancelled)
        SELECT 15, 'example.com', 'dhcp4', host_id, 3, false FROM hosts WHERE hostname = 'srv-redis-01';
        DELETE FROM hosts WHERE dhcp_identifier = decode('080027f25ce2','hex');
        "#,
    )
    .execute(db.pool())
    .await
    .unwrap();
    let hosts: i64 = sqlx::query_scalar("SELECT count(*) FROM hosts")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(hosts, 2);

    // kea-admin itself still works on the database.
    let out = kea_admin(&kea_admin_path, &db, &["db-version", "pgsql"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&kea_version.to_string()),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    kea_admin(&kea_admin_path, &db, &["stats-recount", "pgsql"]);

    // lease-dump and lease-upload go through Kea's SQL functions, which had to
    // follow lease6.address from varchar to inet.
    let dir = tempfile::tempdir().unwrap();
    // kea-admin's lease-upload stages the file as /tmp/<file name>.tmp: keep the name unique.
    let dump = dir.path().join(format!("{}-lease6.csv", db.name()));
    kea_admin(
        &kea_admin_path,
        &db,
        &["lease-dump", "pgsql", "-6", "-o", dump.to_str().unwrap()],
    );
    let csv = std::fs::read_to_string(&dump).unwrap();
    assert!(csv.starts_with("address,duid,"), "{csv}");
    assert!(
        csv.contains("\n2001:db8:1::10,00:01:00:01:2a:2b:2c:2d:52:54:00:aa:00:03,"),
        "{csv}"
    );
    assert!(csv.contains("\n2001:db8:8:100::,"), "{csv}");

    let dump4 = dir.path().join("lease4.csv");
    kea_admin(
        &kea_admin_path,
        &db,
        &["lease-dump", "pgsql", "-4", "-o", dump4.to_str().unwrap()],
    );
    assert!(std::fs::read_to_string(&dump4)
        .unwrap()
        .contains("192.0.2.10,"));

    // (The CSV round trip turns NULL byte strings into empty ones, as in Kea:
    // compare the columns it carries faithfully.)
    let core = "SELECT address::text, duid, valid_lifetime, expire::text, subnet_id, pref_lifetime,
                       lease_type, iaid, prefix_len, state, hostname FROM lease6 ORDER BY address";
    type Core = (
        String,
        Vec<u8>,
        i64,
        String,
        i64,
        i64,
        i16,
        i32,
        i16,
        i64,
        String,
    );
    let lease6_before: Vec<Core> = sqlx::query_as(core).fetch_all(db.pool()).await.unwrap();
    sqlx::raw_sql("DELETE FROM lease6")
        .execute(db.pool())
        .await
        .unwrap();
    kea_admin(
        &kea_admin_path,
        &db,
        &["lease-upload", "pgsql", "-6", "-i", dump.to_str().unwrap()],
    );
    let _ = std::fs::remove_file(format!("/tmp/{}-lease6.csv.tmp", db.name()));
    let lease6_after: Vec<Core> = sqlx::query_as(core).fetch_all(db.pool()).await.unwrap();
    assert_eq!(lease6_after, lease6_before);
}
