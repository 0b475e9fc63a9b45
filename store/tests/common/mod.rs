//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlx::PgPool;
use tern_store::testing::TestDb;

/// The Kea tables tern creates or brings forward.
pub const KEA_TABLES: &[&str] = &[
    "lease4",
    "lease6",
    "hosts",
    "ipv6_reservations",
    "dhcp4_options",
    "dhcp6_options",
    "lease_state",
    "lease6_types",
    "lease_hwaddr_source",
    "host_identifier_type",
    "dhcp_option_scope",
    "schema_version",
];

/// The `kea-admin` on this machine, if any.
pub fn find_kea_admin() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("kea-admin"))
        .find(|p| p.is_file())
}

/// Runs `kea-admin` with `args` against `db`; panics unless it succeeds.
pub fn kea_admin(kea_admin: &Path, db: &TestDb, args: &[&str]) -> Output {
    let mut cmd = Command::new(kea_admin);
    cmd.args(args).args([
        "-h",
        &db.host(),
        "-P",
        &db.port().to_string(),
        "-u",
        db.user(),
        "-n",
        db.name(),
    ]);
    if let Some(pw) = db.password() {
        cmd.args(["-p", pw]);
    }
    // Kea 2.2's lease-dump forgets to pass -P on to psql.
    cmd.env("PGPORT", db.port().to_string());
    let out = cmd.output().expect("run kea-admin");
    assert!(
        out.status.success(),
        "kea-admin {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One column as the test compares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<String>,
}

/// Expected columns per table, in order, from `data/kea_core_columns.txt`.
pub fn expected_columns() -> BTreeMap<String, Vec<Column>> {
    let mut map: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    for line in include_str!("../data/kea_core_columns.txt").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('|').collect();
        assert_eq!(f.len(), 5, "bad line {line:?}");
        map.entry(f[0].to_owned()).or_default().push(Column {
            name: f[1].to_owned(),
            data_type: f[2].to_owned(),
            nullable: f[3] == "YES",
            default: (!f[4].is_empty()).then(|| f[4].to_owned()),
        });
    }
    map
}

/// Strips casts, quotes and schema prefixes from a column default, so `'128'::smallint`
/// and `128` compare equal; `NULL` becomes no default.
pub fn normalize_default(default: Option<String>) -> Option<String> {
    let d = default?;
    let mut out = String::new();
    let mut chars = d.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ' ')
            {
                chars.next();
            }
        } else if c != '\'' {
            out.push(c);
        }
    }
    let out = out.replace("public.", "");
    (out != "NULL").then_some(out)
}

/// Columns of `public.<table>` in ordinal order.
pub async fn actual_columns(pool: &PgPool, table: &str) -> Vec<Column> {
    type Row = (String, String, Option<i32>, String, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT column_name::text, data_type::text, character_maximum_length::int,
                is_nullable::text, column_default::text
           FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = $1
          ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(name, ty, len, nullable, default)| Column {
            name,
            data_type: match len {
                Some(n) => format!("{ty}({n})"),
                None => ty,
            },
            nullable: nullable == "YES",
            default: normalize_default(default),
        })
        .collect()
}

/// Asserts every Kea table has exactly the expected columns, types, nullability
/// and defaults, in order.
pub async fn assert_kea_columns(pool: &PgPool) {
    let expected = expected_columns();
    assert_eq!(
        expected
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .len(),
        KEA_TABLES.len()
    );
    for table in KEA_TABLES {
        let actual = actual_columns(pool, table).await;
        assert_eq!(
            &actual, &expected[*table],
            "columns of {table} differ from Kea's (left: actual, right: expected)"
        );
    }
}

/// Index names of `public.<table>`, sorted.
pub async fn index_names(pool: &PgPool, table: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes
          WHERE schemaname = 'public' AND tablename = $1 ORDER BY indexname",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Kea's indexes on the core tables (Kea schema 34.0), by table.
pub const KEA_INDEXES: &[(&str, &[&str])] = &[
    (
        "lease4",
        &[
            "lease4_by_client_id_subnet_id",
            "lease4_by_hostname",
            "lease4_by_hwaddr_subnet_id",
            "lease4_by_relay_id",
            "lease4_by_remote_id",
            "lease4_by_state",
            "lease4_by_state_expire",
            "lease4_by_subnet_id",
            "lease4_pkey",
        ],
    ),
    (
        "lease6",
        &[
            "lease6_by_duid_iaid_subnet_id",
            "lease6_by_hostname",
            "lease6_by_hwaddr",
            "lease6_by_state",
            "lease6_by_state_expire",
            "lease6_by_subnet_id_address",
            "lease6_by_subnet_id_lease_type",
            "lease6_pkey",
        ],
    ),
    (
        "hosts",
        &[
            "fk_host_identifier_type",
            "hosts_by_hostname",
            "hosts_pkey",
            "key_dhcp4_identifier_subnet_id",
            "key_dhcp4_ipv4_address_subnet_id",
            "key_dhcp6_identifier_subnet_id",
            "key_dhcp_identifier",
        ],
    ),
    (
        "ipv6_reservations",
        &[
            "fk_ipv6_reservations_host_idx",
            "ipv6_reservations_pkey",
            "key_dhcp6_address_prefix_len",
        ],
    ),
    (
        "dhcp4_options",
        &[
            "dhcp4_options_pkey",
            "fk_dhcp4_options_host1_idx",
            "fk_dhcp4_options_pool",
            "fk_dhcp4_options_scope_idx",
            "fk_dhcp4_options_shared_network",
            "fk_dhcp4_options_subnet",
        ],
    ),
    (
        "dhcp6_options",
        &[
            "dhcp6_options_pkey",
            "fk_dhcp6_options_host1_idx",
            "fk_dhcp6_options_pd_pool",
            "fk_dhcp6_options_pool",
            "fk_dhcp6_options_scope_idx",
            "fk_dhcp6_options_shared_network",
            "fk_dhcp6_options_subnet",
        ],
    ),
];

/// Asserts the core tables carry Kea's indexes (and no other).
pub async fn assert_kea_indexes(pool: &PgPool) {
    for (table, names) in KEA_INDEXES {
        assert_eq!(
            index_names(pool, table).await,
            names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "indexes of {table}"
        );
    }
}

#[test]
fn normalize_defaults() {
    assert_eq!(
        normalize_default(Some("'128'::smallint".into())).as_deref(),
        Some("128")
    );
    assert_eq!(
        normalize_default(Some("NULL::character varying".into())),
        None
    );
    assert_eq!(
        normalize_default(Some("nextval('public.hosts_host_id_seq'::regclass)".into())).as_deref(),
        Some("nextval(hosts_host_id_seq)")
    );
    assert_eq!(normalize_default(None), None);
}
