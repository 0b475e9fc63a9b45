//! tern's PostgreSQL store: the schema, its migrations, and the connection pool
//! every other part of tern shares.
//!
//! # Schema
//! Kea's core DHCP tables (`lease4`, `lease6`, `hosts`, `ipv6_reservations`,
//! `dhcp4_options`, `dhcp6_options` and the lookup tables Kea's tooling joins with)
//! live in schema `public` under Kea's names, in the shape of Kea schema 34.0
//! (Kea 3.2), so SQL written for Kea keeps working. tern's own tables live in
//! schema `tern`. See [`migrate`] for how the schema is created and upgraded.
//!
//! On a fresh database tern creates only the core tables: not Kea's
//! configuration-backend tables, stored procedures or lease statistics triggers.
//! On a database Kea created, all of those stay and keep working; tern brings the
//! core tables forward in place (for Kea 2.2: new lease columns, `lease6.address`
//! and `ipv6_reservations.address` from varchar to inet) without losing a row.
//! tern must connect as the owner of Kea's tables (as `kea-admin db-upgrade`
//! must), with the right to create schemas in the database.
//! Deliberate difference from Kea 3.x: `dhcp4_options.client_classes` and
//! `dhcp6_options.client_classes` default to `'[  ]'` (Kea's "no classes") where
//! Kea has no default, so option INSERTs written for Kea 2.x still work.
//!
//! # Kea's `schema_version`
//! * On a database Kea created, tern leaves Kea's row alone: it records which of
//!   Kea's own upgrade scripts have run, and tern is not one of them. (Kea's
//!   `kea-admin db-upgrade` should not be run on it afterwards: its scripts are not
//!   idempotent and would trip over the columns tern added.)
//! * On a fresh database tern inserts 34.0, the Kea schema whose core-table shape
//!   tern reproduces, so Kea tooling that checks the version accepts it.
//!
//! Every query on Kea's tables is here, one module per table with one row type each
//! ([`lease4`]: [`Lease4`], [`lease6`]: [`Lease6`], [`host`]: [`Host`] with its options
//! and DHCPv6 reservations), used by the DHCP engine and the API alike; addresses are
//! encoded in one place (Kea's `bigint` for IPv4, `inet` for IPv6).
//!
//! # DHCPv6 server identifier
//! The server DUID lives in `tern.dhcp6_server_id`, shared by every tern on the
//! database: see [`server_id`].
//!
//! # Host changes
//! Triggers announce every change of a host reservation; [`HostWatcher`] turns
//! the announcements into a stream of [`HostEvent`]s.
//!
//! # Zones
//! The zone server's zones, records and journal (schema `tern`): see [`zone`];
//! [`ZoneWatcher`] reports their changes.
//!
//! # Embedded PostgreSQL
//! With no database configured, tern runs a private cluster in its data directory:
//! see [`EmbeddedCluster`].
//!
//! # Tests
//! With the `test-support` feature, `testing` gives each test its own database
//! on a private cluster started once per test process.

#![warn(missing_docs)]

mod codec;
mod embedded;
mod error;
pub mod host;
mod hosts;
pub mod lease4;
pub mod lease6;
mod listen;
pub mod migrate;
pub mod ncr_queue;
pub mod server_id;
mod settings;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod zone;

pub use embedded::{BinSearch, EmbeddedCluster, EmbeddedOptions, PgBinaries};
pub use error::{Error, Result};
pub use host::{
    Host, Host6Filter, HostFilter, HostOption, HostOption6, Reservation6, Reservation6Kind,
};
pub use hosts::{
    parse_payload, HostChange, HostEvent, HostOp, HostTable, HostWatcher, HOSTS_CHANNEL,
};
pub use lease4::{AddressRange, Lease4, LeaseFilter, LeaseState, NewLease4, Owner};
pub use lease6::{ClientKey, Lease6, Lease6Filter, LeaseType, NewLease6};
pub use migrate::{AppliedMigration, KeaSchemaVersion, MigrationId, MigrationReport, Status};
pub use ncr_queue::{NcrOutcome, NcrRecord, NcrSource, NcrState, QueuedNcr, NCR_CHANNEL};
pub use settings::{ConnectSettings, PgHost};
pub use zone::{ZoneEvent, ZoneWatcher, DNS_CHANNEL};

use sqlx::postgres::{PgPool, PgPoolOptions};
use tracing::info;

/// A handle on the database: a connection pool plus the settings it was made from.
/// Cheap to clone; clones share the pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
    settings: ConnectSettings,
}

impl Store {
    /// Opens a connection pool and checks that the server answers.
    pub async fn connect(settings: &ConnectSettings) -> Result<Store> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            // sqlx pings every connection it hands out by default: one more round
            // trip per transaction. A connection that died fails its next query
            // instead, which every caller handles as a store error anyway.
            .test_before_acquire(false)
            .connect_with(settings.pg_options())
            .await
            .map_err(|source| Error::Connect {
                target: settings.target(),
                source,
            })?;
        info!(
            "STORE_CONNECTED connected to PostgreSQL at {}",
            settings.target()
        );
        Ok(Store {
            pool,
            settings: settings.clone(),
        })
    }

    /// Applies the embedded migrations that the database has not seen yet.
    /// Safe to call from several processes at once.
    pub async fn migrate(&self) -> Result<MigrationReport> {
        migrate::migrate(&self.pool).await
    }

    /// Applied and pending migrations, Kea's schema version and the server version.
    /// Changes nothing.
    pub async fn status(&self) -> Result<Status> {
        migrate::status(&self.pool).await
    }

    /// Starts a [`HostWatcher`] on this database.
    pub async fn watch_hosts(&self) -> Result<HostWatcher> {
        HostWatcher::start(self).await
    }

    /// Starts a [`ZoneWatcher`] on this database.
    pub async fn watch_zones(&self) -> Result<ZoneWatcher> {
        ZoneWatcher::start(self).await
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The settings this store was opened with.
    pub fn settings(&self) -> &ConnectSettings {
        &self.settings
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Compile-time check: the futures tern spawns onto a multi-threaded runtime are
/// Send (sqlx's `raw_sql` is not, for one).
#[cfg(test)]
#[allow(dead_code)]
fn futures_are_send(store: &Store, s: &ConnectSettings) {
    fn is_send<T: Send>(_: T) {}
    is_send(Store::connect(s));
    is_send(store.migrate());
    is_send(store.status());
    is_send(store.watch_hosts());
    is_send(store.watch_zones());
    is_send(EmbeddedCluster::start(std::path::Path::new("/")));
}
