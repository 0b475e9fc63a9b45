//! Where tern keeps its data: the `Store` section, else Kea's `lease-database`, else the
//! embedded PostgreSQL cluster.

use std::fmt;
use std::path::PathBuf;

use crate::common::{Cx, Map};
use crate::diag::Location;
use crate::jsonc::Object;
use crate::policy::{self, Treatment};

/// Where the store is.
// Built once per config load; boxing the settings would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// tern's own PostgreSQL cluster in its data directory.
    Embedded,
    /// An existing PostgreSQL server.
    Postgres(PgSettings),
}

/// How to reach a PostgreSQL database.
#[derive(Clone, PartialEq, Eq)]
pub struct PgSettings {
    /// Host name, address, or Unix socket directory (default `localhost`).
    pub host: String,
    /// Port (default 5432).
    pub port: u16,
    /// Database name.
    pub name: String,
    /// User (default: the libpq default).
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Connection pool size (default 16).
    pub max_connections: u32,
    /// Connect timeout, seconds.
    pub connect_timeout: Option<u32>,
    /// TLS: CA file or directory.
    pub trust_anchor: Option<PathBuf>,
    /// TLS: client certificate.
    pub cert_file: Option<PathBuf>,
    /// TLS: client key.
    pub key_file: Option<PathBuf>,
    /// TLS: libpq `sslmode` (disable, prefer, require, verify-ca, verify-full).
    pub ssl_mode: Option<String>,
}

impl PgSettings {
    /// Default pool size.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

    fn same_database(&self, other: &PgSettings) -> bool {
        self.host == other.host && self.port == other.port && self.name == other.name
    }
}

// The password never goes into logs.
impl fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("name", &self.name)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .field("trust_anchor", &self.trust_anchor)
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("ssl_mode", &self.ssl_mode)
            .finish()
    }
}

/// Reads PostgreSQL settings from a `Store` section or a Kea database map.
fn read_pg(d: &Map<'_>, cx: &mut Cx, default_name: Option<&str>) -> Option<PgSettings> {
    let name = match (d.str("name"), default_name) {
        (Some(n), _) => n.to_string(),
        (None, Some(n)) => n.to_string(),
        (None, None) => return None, // reported when the map was read
    };
    let max_connections = match d.int_in(cx, "max-connections", 1, 10_000) {
        Some(v) => v as u32,
        None => PgSettings::DEFAULT_MAX_CONNECTIONS,
    };
    Some(PgSettings {
        host: d.non_empty_str("host").unwrap_or("localhost").to_string(),
        port: d.port(cx, "port").unwrap_or(5432),
        name,
        user: d.non_empty_str("user").map(str::to_string),
        password: d.str("password").map(str::to_string),
        max_connections,
        connect_timeout: d.u32(cx, "connect-timeout"),
        trust_anchor: d.non_empty_str("trust-anchor").map(PathBuf::from),
        cert_file: d.non_empty_str("cert-file").map(PathBuf::from),
        key_file: d.non_empty_str("key-file").map(PathBuf::from),
        ssl_mode: d.str("ssl-mode").map(str::to_ascii_lowercase),
    })
}

/// Names the keys of a Kea PostgreSQL database map that tern does not use (`db:` rules).
fn note_pg_keys(d: &Map<'_>, cx: &mut Cx) {
    for m in d.obj {
        match policy::treatment(&format!("db:{}", m.key)) {
            Treatment::Note(sev, msg) | Treatment::NoteAndDescend(sev, msg) => {
                cx.note(sev, &m.key_location, &d.path_of(&m.key), msg);
            }
            Treatment::Served | Treatment::Delegated => {}
        }
    }
}

fn db_type(d: &Map<'_>) -> Option<String> {
    d.str("type").map(str::to_ascii_lowercase)
}

/// Picks the store (see the module docs) and names what of Kea's database settings is not used.
pub(crate) fn resolve(root: &Object, cx: &mut Cx) -> StoreConfig {
    let sections: Vec<Map<'_>> = ["Dhcp4", "Dhcp6"]
        .iter()
        .filter_map(|s| root.get(s).and_then(|n| Map::new(n, *s)))
        .collect();

    let mut chosen: Option<(PgSettings, String)> = None;
    let explicit = root.get("Store").and_then(|n| Map::new(n, "Store"));
    if let Some(store) = &explicit {
        match db_type(store).as_deref() {
            Some("postgresql") => {
                chosen = read_pg(store, cx, Some("tern")).map(|pg| (pg, "Store".to_string()));
            }
            Some(_) => {
                for m in store.obj {
                    if !matches!(m.key.as_str(), "type" | "user-context" | "comment") {
                        cx.warn(
                            &m.key_location,
                            &store.path_of(&m.key),
                            "ignored: the store is embedded",
                        );
                    }
                }
            }
            None => cx.error(
                store.location(),
                &store.path,
                "missing parameter \"type\" (embedded or postgresql)",
            ),
        }
    }

    for sec in &sections {
        let member = sec.obj.member("lease-database");
        let lease = sec.map("lease-database");
        let kind = lease.as_ref().and_then(db_type);
        match (kind.as_deref(), &lease) {
            (Some("postgresql"), Some(d)) => {
                if explicit.is_some() {
                    let loc = &member.expect("present").key_location;
                    cx.info(loc, &d.path, "not used: the Store section names the store");
                    continue;
                }
                note_pg_keys(d, cx);
                let Some(pg) = read_pg(d, cx, None) else {
                    continue;
                };
                match &chosen {
                    None => chosen = Some((pg, d.path.clone())),
                    Some((first, path)) if !first.same_database(&pg) => {
                        let loc = &member.expect("present").key_location;
                        cx.warn(loc, &d.path, format!("not used: tern keeps all leases in one store, the database of {path}"));
                    }
                    Some(_) => {}
                }
            }
            (Some("mysql"), Some(d)) => {
                let loc = &member.expect("present").key_location;
                cx.warn(
                    loc,
                    &d.path,
                    "MySQL is not supported: leases go to tern's PostgreSQL store instead",
                );
            }
            (_, Some(d)) => {
                let loc = &member.expect("present").key_location;
                cx.info(
                    loc,
                    &d.path,
                    store_instead(explicit.is_some(), "the CSV file (memfile)"),
                );
            }
            (_, None) => {
                let loc = &root
                    .member(sec.path.as_str())
                    .expect("section present")
                    .key_location;
                cx.info(
                    loc,
                    &sec.path_of("lease-database"),
                    store_instead(
                        explicit.is_some(),
                        "a CSV file (no lease-database: memfile)",
                    ),
                );
            }
        }
    }

    let store = match chosen {
        Some((pg, _)) => StoreConfig::Postgres(pg),
        None => StoreConfig::Embedded,
    };
    for sec in &sections {
        let mut hosts: Vec<(Map<'_>, Location)> = Vec::new();
        if let (Some(d), Some(m)) = (sec.map("hosts-database"), sec.obj.member("hosts-database")) {
            hosts.push((d, m.key_location.clone()));
        }
        for d in sec.maps("hosts-databases") {
            let loc = d.location().clone();
            hosts.push((d, loc));
        }
        for (d, loc) in hosts {
            check_hosts_db(&d, &loc, &store, cx);
        }
    }
    store
}

fn store_instead(explicit: bool, what: &str) -> String {
    if explicit {
        format!("leases go to the Store section's database instead of {what}")
    } else {
        format!("leases go to tern's embedded PostgreSQL instead of {what}")
    }
}

fn check_hosts_db(d: &Map<'_>, loc: &Location, store: &StoreConfig, cx: &mut Cx) {
    match (db_type(d).as_deref(), store) {
        (Some("postgresql"), StoreConfig::Postgres(lease)) => {
            let Some(pg) = read_pg(d, cx, None) else {
                return;
            };
            if !lease.same_database(&pg) {
                cx.warn(loc, &d.path, format!("not used: tern keeps host reservations in its one store (database \"{}\" on {}:{}), with the leases", lease.name, lease.host, lease.port));
            } else {
                note_pg_keys(d, cx);
            }
        }
        (Some("postgresql"), StoreConfig::Embedded) => {
            cx.warn(loc, &d.path, "not used: tern keeps host reservations in its embedded PostgreSQL store, with the leases");
        }
        (Some("mysql"), _) => {
            cx.warn(
                loc,
                &d.path,
                "MySQL is not supported: tern keeps host reservations in its PostgreSQL store",
            );
        }
        _ => cx.warn(
            loc,
            &d.path,
            "not used: tern keeps host reservations in its PostgreSQL store",
        ),
    }
}
