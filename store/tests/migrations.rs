//! Fresh databases get Kea's core tables in Kea 3.x's shape; migrating is
//! idempotent and safe to run concurrently.

mod common;

use tern_store::migrate::MIGRATIONS;
use tern_store::{testing, KeaSchemaVersion, Store};

#[tokio::test]
async fn fresh_schema_has_kea_columns_and_types() {
    let db = testing::fresh_db().await;
    common::assert_kea_columns(db.pool()).await;
}

#[tokio::test]
async fn fresh_schema_has_kea_indexes_and_keys() {
    let db = testing::fresh_db().await;
    common::assert_kea_indexes(db.pool()).await;

    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, conname::text FROM pg_constraint
          WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'f')
          ORDER BY 1, 2",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let keys: Vec<String> = keys.into_iter().map(|(t, c)| format!("{t}.{c}")).collect();
    assert_eq!(
        keys,
        [
            "dhcp4_options.dhcp4_options_pkey",
            "dhcp4_options.fk_dhcp4_option_scode",
            "dhcp4_options.fk_options_host1",
            "dhcp6_options.dhcp6_options_pkey",
            "dhcp6_options.fk_dhcp6_option_scode",
            "dhcp6_options.fk_options_host10",
            "dhcp_option_scope.dhcp_option_scope_pkey",
            "host_identifier_type.host_identifier_type_pkey",
            "hosts.fk_host_identifier_type",
            "hosts.hosts_pkey",
            "ipv6_reservations.fk_ipv6_reservations_host",
            "ipv6_reservations.ipv6_reservations_pkey",
            "lease4.fk_lease4_state",
            "lease4.lease4_pkey",
            "lease6.fk_lease6_state",
            "lease6.fk_lease6_type",
            "lease6.lease6_pkey",
            "lease6_types.lease6_types_pkey",
            "lease_hwaddr_source.lease_hwaddr_source_pkey",
            "lease_state.lease_state_pkey",
            "schema_version.schema_version_pkey",
        ]
    );

    // One reservation per identifier and subnet.
    let insert = "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id)
                  VALUES (decode('0a0b0c0d0e0f', 'hex'), 0, 1)";
    sqlx::query(insert).execute(db.pool()).await.unwrap();
    let err = sqlx::query(insert).execute(db.pool()).await.unwrap_err();
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("key_dhcp4_identifier_subnet_id")
    );
}

#[tokio::test]
async fn fresh_schema_has_kea_lookup_rows_and_version() {
    let db = testing::fresh_db().await;
    let pool = db.pool();
    let states: Vec<(i64, String)> =
        sqlx::query_as("SELECT state, name::text FROM lease_state ORDER BY state")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        states,
        [
            (0, "default".to_owned()),
            (1, "declined".to_owned()),
            (2, "expired-reclaimed".to_owned()),
            (3, "released".to_owned()),
            (4, "registered".to_owned()),
        ]
    );
    let types: Vec<String> =
        sqlx::query_scalar("SELECT name::text FROM lease6_types ORDER BY lease_type")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(types, ["IA_NA", "IA_PD"]);
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT name::text FROM host_identifier_type ORDER BY type")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        ids,
        ["hw-address", "duid", "circuit-id", "client-id", "flex-id"]
    );
    let scopes: Vec<String> =
        sqlx::query_scalar("SELECT scope_name::text FROM dhcp_option_scope ORDER BY scope_id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        scopes,
        [
            "global",
            "subnet",
            "client-class",
            "host",
            "shared-network",
            "pool",
            "pd-pool"
        ]
    );
    let sources: i64 = sqlx::query_scalar("SELECT count(*) FROM lease_hwaddr_source")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(sources, 9);

    let status = db.store().status().await.unwrap();
    assert_eq!(
        status.kea_schema_version,
        Some(KeaSchemaVersion {
            major: 34,
            minor: 0
        })
    );
}

#[tokio::test]
async fn tern_schema_holds_only_tern_tables() {
    let db = testing::fresh_db().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'tern' ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "dhcp6_server_id",
            "dns_journal",
            "dns_record",
            "dns_zone",
            "ncr_queue",
            "schema_migrations"
        ]
    );
}

#[tokio::test]
async fn migrating_a_migrated_database_is_a_noop() {
    let db = testing::fresh_db().await;
    let store = db.store();
    let before: Vec<(i32, String)> =
        sqlx::query_as("SELECT version, name FROM tern.schema_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(before.len(), MIGRATIONS.len());

    let report = store.migrate().await.unwrap();
    assert!(report.is_noop(), "{report:?}");
    assert_eq!(report.already_applied, MIGRATIONS.len());

    let after: Vec<(i32, String)> =
        sqlx::query_as("SELECT version, name FROM tern.schema_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(before, after);

    let status = store.status().await.unwrap();
    assert!(status.pending.is_empty());
    assert!(status.unknown.is_empty());
    assert_eq!(status.applied.len(), MIGRATIONS.len());
    assert!(
        status
            .server_version
            .chars()
            .next()
            .unwrap()
            .is_ascii_digit(),
        "{}",
        status.server_version
    );
}

#[tokio::test]
async fn empty_database_is_migrated_in_order_then_left_alone() {
    let db = testing::empty_db().await;
    let store = db.store();

    let status = store.status().await.unwrap();
    assert!(status.applied.is_empty());
    assert_eq!(status.pending.len(), MIGRATIONS.len());
    assert_eq!(status.kea_schema_version, None);

    let report = store.migrate().await.unwrap();
    assert_eq!(report.kea_schema_before, None);
    assert_eq!(
        report.applied.iter().map(|m| m.version).collect::<Vec<_>>(),
        MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>()
    );
    common::assert_kea_columns(store.pool()).await;

    let again = store.migrate().await.unwrap();
    assert!(again.is_noop());
    assert_eq!(
        again.kea_schema_before,
        Some(KeaSchemaVersion {
            major: 34,
            minor: 0
        })
    );
    let status = store.status().await.unwrap();
    assert!(status.pending.is_empty());
    assert_eq!(
        status
            .applied
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        MIGRATIONS.iter().map(|m| m.name).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn concurrent_migrations_apply_each_migration_once() {
    let db = testing::empty_db().await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let settings = db.connect_settings().clone();
        tasks.push(tokio::spawn(async move {
            let store = Store::connect(&settings).await.unwrap();
            let report = store.migrate().await.unwrap();
            store.close().await;
            report
        }));
    }
    let mut applied = 0;
    for t in tasks {
        let report = t.await.unwrap();
        applied += report.applied.len();
        assert_eq!(
            report.applied.len() + report.already_applied,
            MIGRATIONS.len()
        );
    }
    assert_eq!(applied, MIGRATIONS.len());
    common::assert_kea_columns(db.pool()).await;
}

#[tokio::test]
async fn failed_migration_leaves_nothing_behind() {
    // A database where migration 0002 cannot run: lease4 exists with an
    // incompatible address column.
    let db = testing::empty_db().await;
    sqlx::raw_sql("CREATE TABLE public.lease4 (address text PRIMARY KEY, state text)")
        .execute(db.pool())
        .await
        .unwrap();
    let err = db.store().migrate().await.unwrap_err();
    assert!(
        matches!(err, tern_store::Error::Migration { version: 2, .. }),
        "{err}"
    );
    let status = db.store().status().await.unwrap();
    assert_eq!(
        status.applied.iter().map(|m| m.version).collect::<Vec<_>>(),
        [1]
    );
    let lease6: bool = sqlx::query_scalar("SELECT to_regclass('public.lease6') IS NOT NULL")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(
        !lease6,
        "the failed migration's transaction was not rolled back"
    );
}
