//! Test support (feature `test-support`): a database of its own for every test.
//!
//! The first call in a test process starts one private PostgreSQL cluster for the
//! whole process, in a fresh directory under `$TERN_TEST_TMPDIR` (else
//! `$CARGO_TARGET_TMPDIR` if set at run time, else the system temp directory),
//! and builds a migrated template database. Each
//! [`fresh_db`] then copies the template into a uniquely named database, so tests
//! running in parallel never see each other's rows.
//!
//! The test cluster listens on its socket and on 127.0.0.1 at a free port, with a
//! superuser `tern_test` whose password is random per process, so `psql` and
//! `kea-admin` (which connects by host and port) can reach it: see
//! [`TestDb::host`], [`TestDb::port`], [`TestDb::user`], [`TestDb::password`],
//! [`TestDb::name`]. It runs without fsync (nothing in it needs to survive).
//! When the process exits the cluster is stopped and its directory removed; if
//! the process is killed, the parent-death signal stops the cluster and the next
//! test process removes the directory.
//!
//! Environment:
//! * `TERN_TEST_PG_URL` — use this server instead of starting one (a libpq URL
//!   of a role that may create databases, e.g.
//!   `postgresql://tern_test:secret@127.0.0.1:5432/postgres`).
//! * `TERN_TEST_TMPDIR` — where private test clusters go (keep it short: the
//!   Unix socket path inside must fit in 107 bytes).
//! * `PG_BINDIR` — PostgreSQL binaries to use (see [`BinSearch`](crate::BinSearch)).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::sync::OnceCell;

use crate::embedded::{EmbeddedCluster, EmbeddedOptions};
use crate::migrate::MIGRATIONS;
use crate::settings::{ConnectSettings, PgHost};
use crate::Store;

const SUPERUSER: &str = "tern_test";
const DIR_PREFIX: &str = "tern-test-pg-";
const OWNER_FILE: &str = "owner.pid";

/// The server tests run against, set up once per process.
struct TestServer {
    /// Settings of the maintenance database, to create and drop test databases.
    admin: ConnectSettings,
    /// The migrated template database.
    template: String,
}

static SERVER: OnceCell<TestServer> = OnceCell::const_new();
/// The private cluster and its directory, stopped and removed at exit.
static CLUSTER: Mutex<Option<(EmbeddedCluster, PathBuf)>> = Mutex::new(None);
static COUNTER: AtomicU64 = AtomicU64::new(0);

async fn server() -> &'static TestServer {
    SERVER
        .get_or_init(|| async {
            match init().await {
                Ok(server) => server,
                Err(e) => panic!("test PostgreSQL could not be set up: {e}"),
            }
        })
        .await
}

async fn init() -> crate::Result<TestServer> {
    let admin = match std::env::var("TERN_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => ConnectSettings::from_url(&url)?,
        _ => start_private_cluster().await?,
    };
    let template = ensure_template(&admin).await?;
    Ok(TestServer { admin, template })
}

async fn start_private_cluster() -> crate::Result<ConnectSettings> {
    let base = ["TERN_TEST_TMPDIR", "CARGO_TARGET_TMPDIR"]
        .iter()
        .find_map(|v| std::env::var_os(v).filter(|d| !d.is_empty()))
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base)
        .map_err(|e| crate::Error::io("cannot create test temp dir", e))?;
    remove_abandoned_dirs(&base);
    let dir = tempfile::Builder::new()
        .prefix(DIR_PREFIX)
        .tempdir_in(&base)
        .map_err(|e| crate::Error::io("cannot create test cluster dir", e))?
        .keep();
    std::fs::write(dir.join(OWNER_FILE), std::process::id().to_string())
        .map_err(|e| crate::Error::io("cannot write owner file", e))?;
    let password = random_hex(16);

    // The free port may be taken between probing and binding: try a few.
    let mut attempt = 0;
    let cluster = loop {
        attempt += 1;
        let port = free_port().map_err(|e| crate::Error::io("cannot find a free port", e))?;
        let options = EmbeddedOptions {
            superuser: SUPERUSER.to_owned(),
            password: Some(password.clone()),
            tcp_port: Some(port),
            durable: false,
            max_connections: 200,
            ..EmbeddedOptions::default()
        };
        match EmbeddedCluster::start_with(&dir, options).await {
            Ok(cluster) => break cluster,
            Err(e) if attempt < 5 && e.to_string().contains("could not") => continue,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        }
    };
    let port = cluster.tcp_port().expect("test cluster listens on TCP");
    *CLUSTER.lock().unwrap_or_else(|e| e.into_inner()) = Some((cluster, dir));
    // SAFETY: registers a plain extern "C" function.
    unsafe { libc::atexit(stop_private_cluster) };
    Ok(ConnectSettings::tcp("127.0.0.1", port, "postgres", SUPERUSER).with_password(&password))
}

extern "C" fn stop_private_cluster() {
    let taken = CLUSTER.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some((mut cluster, dir)) = taken {
        let _ = cluster.shutdown();
        drop(cluster);
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Removes test cluster directories whose test process is gone.
fn remove_abandoned_dirs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
            continue;
        }
        let path = entry.path();
        let owner = std::fs::read_to_string(path.join(OWNER_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        let Some(owner) = owner else { continue };
        let postmaster = std::fs::read_to_string(path.join("pg/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<i32>().ok()));
        if !process_exists(owner) && !postmaster.is_some_and(process_exists) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn process_exists(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn random_hex(bytes: usize) -> String {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The template's name changes with the migrations, so a shared server
/// (`TERN_TEST_PG_URL`) never hands out a template of older migrations.
fn template_name() -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for m in MIGRATIONS {
        (m.version, m.name, m.sql).hash(&mut hasher);
    }
    format!("tern_template_{:016x}", hasher.finish())
}

async fn admin_connection(admin: &ConnectSettings) -> crate::Result<PgConnection> {
    PgConnection::connect_with(&admin.pg_options())
        .await
        .map_err(|source| crate::Error::Connect {
            target: admin.target(),
            source,
        })
}

async fn ensure_template(admin: &ConnectSettings) -> crate::Result<String> {
    let name = template_name();
    let mut conn = admin_connection(admin).await?;
    // Serialise with other test processes sharing a server.
    sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
        .bind(&name)
        .execute(&mut conn)
        .await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let building = format!("{name}_building");
        conn.execute(format!("DROP DATABASE IF EXISTS \"{building}\"").as_str())
            .await?;
        conn.execute(format!("CREATE DATABASE \"{building}\" TEMPLATE template0").as_str())
            .await?;
        let store =
            Store::connect(&admin.clone().with_dbname(&building).with_max_connections(1)).await?;
        store.migrate().await?;
        store.close().await;
        // No connections allowed: CREATE DATABASE ... TEMPLATE needs it idle.
        // The closed pool's backend may not have gone yet (under load it was seen to
        // linger); nothing else may use this database, so end its sessions before the
        // rename, which needs it idle (55006 object_in_use otherwise).
        let rename = format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\"");
        let mut tries = 0;
        loop {
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&building)
            .execute(&mut conn)
            .await?;
            match conn.execute(rename.as_str()).await {
                Err(sqlx::Error::Database(e))
                    if e.code().as_deref() == Some("55006") && tries < 5 =>
                {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                other => {
                    other?;
                    break;
                }
            }
        }
        conn.execute(
            format!("ALTER DATABASE \"{name}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
                .as_str(),
        )
        .await?;
    }
    sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
        .bind(&name)
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(name)
}

fn unique_name(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos:09}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database of one test's own. Dropped with the value (in the background).
#[derive(Debug)]
pub struct TestDb {
    name: String,
    settings: ConnectSettings,
    admin: ConnectSettings,
    store: Store,
}

/// A new database with all migrations applied (copied from the template).
pub async fn fresh_db() -> TestDb {
    let server = server().await;
    create_db("tern_test", &server.template, &server.admin).await
}

/// A new, empty database without tern's migrations (as `kea-admin db-init`
/// expects to find it).
pub async fn empty_db() -> TestDb {
    let server = server().await;
    create_db("tern_empty", "template0", &server.admin).await
}

async fn create_db(prefix: &str, template: &str, admin: &ConnectSettings) -> TestDb {
    let name = unique_name(prefix);
    let mut conn = admin_connection(admin)
        .await
        .unwrap_or_else(|e| panic!("test PostgreSQL: {e}"));
    conn.execute(format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"").as_str())
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let _ = conn.close().await;
    let settings = admin.clone().with_dbname(&name).with_max_connections(5);
    let store = Store::connect(&settings)
        .await
        .unwrap_or_else(|e| panic!("connect to {name}: {e}"));
    TestDb {
        name,
        settings,
        admin: admin.clone(),
        store,
    }
}

impl TestDb {
    /// A store on this database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store's pool.
    pub fn pool(&self) -> &PgPool {
        self.store.pool()
    }

    /// Connection settings (TCP with password on the private cluster).
    pub fn connect_settings(&self) -> &ConnectSettings {
        &self.settings
    }

    /// A libpq URL, for `psql "$url"`.
    pub fn url(&self) -> String {
        self.settings.url()
    }

    /// Host for `psql -h` / `kea-admin -h` (an address, or a socket directory).
    pub fn host(&self) -> String {
        self.settings.host_string()
    }

    /// True when [`host`](Self::host) is a TCP host rather than a socket directory.
    pub fn is_tcp(&self) -> bool {
        matches!(self.settings.host, PgHost::Tcp(_))
    }

    /// Port for `-p` / kea-admin's `-P`.
    pub fn port(&self) -> u16 {
        self.settings.port
    }

    /// Role name for `-U` / kea-admin's `-u`.
    pub fn user(&self) -> &str {
        &self.settings.user
    }

    /// Password for kea-admin's `-p` (or `PGPASSWORD`).
    pub fn password(&self) -> Option<&str> {
        self.settings.password.as_deref()
    }

    /// Database name for `-d` / kea-admin's `-n`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop can't await, and the test's runtime may be shutting down: use a
        // thread with a runtime of its own. Best effort.
        let name = self.name.clone();
        let admin = self.admin.clone();
        let _ = std::thread::Builder::new()
            .name("tern-test-dropdb".to_owned())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(mut conn) = admin_connection(&admin).await {
                        let _ = conn
                            .execute(
                                format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                            )
                            .await;
                        let _ = conn.close().await;
                    }
                });
            });
    }
}
