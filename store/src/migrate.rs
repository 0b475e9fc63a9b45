//! Schema migrations, embedded in the binary.
//!
//! Each migration is one SQL file under `store/migrations/`, applied once, in
//! version order, each in its own transaction, and recorded in
//! `tern.schema_migrations`. Every step takes the same transaction-scoped advisory
//! lock, so several tern processes starting at once on one database apply each
//! migration exactly once; the others wait and then find it recorded.
//!
//! Migrations are append-only: a released file is never edited; a change is a new
//! file. Every file is idempotent (it checks before it creates or alters), because
//! it must work both on an empty database and on one that Kea's `kea-admin`
//! created, at any Kea schema version from 13.0 (Kea 2.2) on.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tracing::{info, warn};

use crate::error::{Error, Result};

/// One embedded migration.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// Version number: the `NNNN` of `NNNN_name.sql`.
    pub version: i32,
    /// Name: the `name` of `NNNN_name.sql`.
    pub name: &'static str,
    /// The SQL text.
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: parse_version($version),
            name: $name,
            sql: include_str!(concat!("../migrations/", $version, "_", $name, ".sql")),
        }
    };
}

const fn parse_version(digits: &str) -> i32 {
    let bytes = digits.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        assert!(
            bytes[i].is_ascii_digit(),
            "migration version must be digits"
        );
        value = value * 10 + (bytes[i] - b'0') as i32;
        i += 1;
    }
    value
}

/// All migrations, in the order they are applied.
pub static MIGRATIONS: &[Migration] = &[
    migration!("0001", "kea_lookup_tables"),
    migration!("0002", "kea_leases"),
    migration!("0003", "kea_hosts"),
    migration!("0004", "host_notify"),
    migration!("0005", "ncr_queue"),
    migration!("0006", "dns"),
    migration!("0007", "dhcp6"),
];

/// Key of the advisory lock that serialises migrations ("ternmigr" in ASCII).
const MIGRATION_LOCK: i64 = 0x7465_726e_6d69_6772;

/// Creates the bookkeeping table; runs before anything else, under the lock.
const BOOTSTRAP: &str = "
CREATE SCHEMA IF NOT EXISTS tern;
CREATE TABLE IF NOT EXISTS tern.schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
";

/// A migration's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationId {
    /// Version number.
    pub version: i32,
    /// Name.
    pub name: String,
}

/// A migration recorded in `tern.schema_migrations`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Version number.
    pub version: i32,
    /// Name.
    pub name: String,
    /// When it was applied.
    pub applied_at: DateTime<Utc>,
}

/// The row of Kea's `schema_version` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeaSchemaVersion {
    /// Major version (13 for Kea 2.2, 34 for Kea 3.2).
    pub major: i32,
    /// Minor version.
    pub minor: i32,
}

impl std::fmt::Display for KeaSchemaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What [`Store::migrate`](crate::Store::migrate) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationReport {
    /// Migrations this call applied, in order.
    pub applied: Vec<MigrationId>,
    /// How many embedded migrations were already recorded.
    pub already_applied: usize,
    /// Kea's `schema_version` before this call; `Some` on a database Kea created
    /// (or that tern migrated before).
    pub kea_schema_before: Option<KeaSchemaVersion>,
}

/// One line for the log, e.g. "applied 2 migrations (0003 kea_hosts, 0004 host_notify),
/// 2 already applied; Kea schema 13.0".
impl std::fmt::Display for MigrationReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.applied.is_empty() {
            write!(f, "schema up to date ({} migrations)", self.already_applied)?;
        } else {
            let names: Vec<String> = self
                .applied
                .iter()
                .map(|m| format!("{:04} {}", m.version, m.name))
                .collect();
            let n = self.applied.len();
            write!(
                f,
                "applied {n} migration{} ({}), {} already applied",
                if n == 1 { "" } else { "s" },
                names.join(", "),
                self.already_applied
            )?;
        }
        if let Some(v) = self.kea_schema_before {
            write!(f, "; Kea schema {v}")?;
        }
        Ok(())
    }
}

impl MigrationReport {
    /// True when the database was already up to date.
    pub fn is_noop(&self) -> bool {
        self.applied.is_empty()
    }
}

/// The schema state reported by [`Store::status`](crate::Store::status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// Migrations recorded in the database that this binary knows, in order.
    pub applied: Vec<AppliedMigration>,
    /// Embedded migrations not yet applied.
    pub pending: Vec<MigrationId>,
    /// Migrations recorded by a newer tern that this binary does not know.
    pub unknown: Vec<AppliedMigration>,
    /// Kea's `schema_version` row, if the table exists.
    pub kea_schema_version: Option<KeaSchemaVersion>,
    /// The server's `server_version`, e.g. "15.8 (Debian 15.8-0+deb12u1)".
    pub server_version: String,
}

/// Several lines, for `tern db status`.
impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "PostgreSQL {}", self.server_version)?;
        match self.kea_schema_version {
            Some(v) => writeln!(f, "Kea schema_version {v}")?,
            None => writeln!(f, "Kea schema_version: none (no Kea tables yet)")?,
        }
        for m in &self.applied {
            writeln!(
                f,
                "applied {:04} {} at {}",
                m.version,
                m.name,
                m.applied_at.format("%Y-%m-%d %H:%M:%S UTC")
            )?;
        }
        for m in &self.unknown {
            writeln!(
                f,
                "applied {:04} {} by a newer tern (unknown to this one)",
                m.version, m.name
            )?;
        }
        for m in &self.pending {
            writeln!(f, "pending {:04} {}", m.version, m.name)?;
        }
        if self.pending.is_empty() {
            write!(f, "schema up to date")
        } else {
            write!(f, "{} migrations pending", self.pending.len())
        }
    }
}

pub(crate) async fn kea_schema_version(
    conn: &mut PgConnection,
) -> Result<Option<KeaSchemaVersion>> {
    let exists: bool =
        sqlx::query_scalar("SELECT to_regclass('public.schema_version') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        return Ok(None);
    }
    let row: Option<(i32, Option<i32>)> = sqlx::query_as(
        "SELECT version, minor FROM public.schema_version ORDER BY version DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(major, minor)| KeaSchemaVersion {
        major,
        minor: minor.unwrap_or(0),
    }))
}

async fn recorded(conn: &mut PgConnection) -> Result<Vec<AppliedMigration>> {
    let exists: bool =
        sqlx::query_scalar("SELECT to_regclass('tern.schema_migrations') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        return Ok(Vec::new());
    }
    let rows: Vec<(i32, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT version, name, applied_at FROM tern.schema_migrations ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(version, name, applied_at)| AppliedMigration {
            version,
            name,
            applied_at,
        })
        .collect())
}

pub(crate) async fn status(pool: &PgPool) -> Result<Status> {
    let mut conn = pool.acquire().await?;
    let recorded = recorded(&mut conn).await?;
    let known: BTreeMap<i32, &Migration> = MIGRATIONS.iter().map(|m| (m.version, m)).collect();
    let (applied, unknown): (Vec<_>, Vec<_>) = recorded
        .into_iter()
        .partition(|m| known.contains_key(&m.version));
    let pending = MIGRATIONS
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .map(|m| MigrationId {
            version: m.version,
            name: m.name.to_owned(),
        })
        .collect();
    let kea_schema_version = kea_schema_version(&mut conn).await?;
    let server_version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Status {
        applied,
        pending,
        unknown,
        kea_schema_version,
        server_version,
    })
}

pub(crate) async fn migrate(pool: &PgPool) -> Result<MigrationReport> {
    let mut conn = pool.acquire().await?;

    let mut tx = conn.begin().await?;
    lock(&mut tx).await?;
    (&mut *tx).execute(BOOTSTRAP).await?;
    let kea_schema_before = kea_schema_version(&mut tx).await?;
    let recorded = recorded(&mut tx).await?;
    tx.commit().await?;

    for m in &recorded {
        if !MIGRATIONS.iter().any(|k| k.version == m.version) {
            warn!(
                "STORE_MIGRATION_UNKNOWN migration {} ({}) was applied by a newer tern; continuing",
                m.version, m.name
            );
        }
    }
    if recorded.is_empty() {
        if let Some(v) = kea_schema_before {
            info!("STORE_KEA_SCHEMA_FOUND Kea schema {v}: bringing Kea's tables to tern's shape in place");
        }
    }

    let mut report = MigrationReport {
        applied: Vec::new(),
        already_applied: 0,
        kea_schema_before,
    };
    for m in MIGRATIONS {
        if recorded.iter().any(|r| r.version == m.version) {
            report.already_applied += 1;
            continue;
        }
        if apply(&mut conn, m).await? {
            info!(
                "STORE_MIGRATION_APPLIED schema migration {:04} ({}) applied",
                m.version, m.name
            );
            report.applied.push(MigrationId {
                version: m.version,
                name: m.name.to_owned(),
            });
        } else {
            report.already_applied += 1;
        }
    }
    Ok(report)
}

/// Applies `m` in its own transaction; false if another process got there first.
async fn apply(conn: &mut PgConnection, m: &'static Migration) -> Result<bool> {
    let failed = |source| Error::Migration {
        version: m.version,
        name: m.name,
        source,
    };
    let mut tx = conn.begin().await?;
    lock(&mut tx).await?;
    // Another process may have applied it while we waited for the lock.
    let done: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tern.schema_migrations WHERE version = $1)",
    )
    .bind(m.version)
    .fetch_one(&mut *tx)
    .await?;
    if done {
        tx.commit().await?;
        return Ok(false);
    }
    // The files' IF NOT EXISTS clauses are chatty at NOTICE level.
    (&mut *tx)
        .execute("SET LOCAL client_min_messages = warning")
        .await?;
    (&mut *tx).execute(m.sql).await.map_err(failed)?;
    sqlx::query("INSERT INTO tern.schema_migrations (version, name) VALUES ($1, $2)")
        .bind(m.version)
        .bind(m.name)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(true)
}

async fn lock(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_is_one_line() {
        let report = MigrationReport {
            applied: vec![MigrationId {
                version: 4,
                name: "host_notify".into(),
            }],
            already_applied: 3,
            kea_schema_before: Some(KeaSchemaVersion {
                major: 13,
                minor: 0,
            }),
        };
        assert_eq!(
            report.to_string(),
            "applied 1 migration (0004 host_notify), 3 already applied; Kea schema 13.0"
        );
        let noop = MigrationReport {
            applied: vec![],
            already_applied: 4,
            kea_schema_before: None,
        };
        assert_eq!(noop.to_string(), "schema up to date (4 migrations)");
    }

    #[test]
    fn migrations_are_ordered_and_named_like_their_files() {
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].version < pair[1].version);
        }
        for m in MIGRATIONS {
            assert!(!m.sql.trim().is_empty(), "{} is empty", m.name);
            assert!(
                m.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                m.name
            );
        }
        // Every file in migrations/ is listed, so none is forgotten.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(files, listed);
    }
}
