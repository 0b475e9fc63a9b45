//! The embedded cluster: created on first start, reused, durable across a crash
//! of PostgreSQL or of tern, and a clear error when PostgreSQL is not installed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};
use tern_store::{BinSearch, EmbeddedCluster, Error};

/// Shows the store's log lines in test output (with --nocapture, or on failure).
fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("tern_store=debug")
        .try_init();
}

async fn connect(cluster: &EmbeddedCluster) -> PgConnection {
    PgConnection::connect_with(&cluster.connect_settings().pg_options())
        .await
        .unwrap()
}

async fn write_row(cluster: &EmbeddedCluster, value: &str) {
    let mut conn = connect(cluster).await;
    sqlx::query("CREATE TABLE IF NOT EXISTS kept (value text)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO kept VALUES ($1)")
        .bind(value)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

async fn rows(cluster: &EmbeddedCluster) -> Vec<String> {
    let mut conn = connect(cluster).await;
    let rows = sqlx::query_scalar("SELECT value FROM kept ORDER BY value")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows
}

fn alive(pid: i32) -> bool {
    // A zombie is dead for our purpose.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

async fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn restart_keeps_committed_rows_and_settings() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let cluster = EmbeddedCluster::start(dir.path()).await.unwrap();
    assert!(cluster.pgdata().join("PG_VERSION").exists());
    assert_eq!(
        std::fs::metadata(cluster.socket_dir())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    write_row(&cluster, "first").await;

    let mut conn = connect(&cluster).await;
    let settings: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, setting FROM pg_settings
          WHERE name IN ('fsync', 'listen_addresses', 'server_encoding', 'lc_collate', 'synchronous_commit')
          ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let s = |k: &str| settings.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(s("fsync"), "on");
    assert_eq!(s("synchronous_commit"), "on");
    assert_eq!(s("listen_addresses"), "");
    assert_eq!(s("server_encoding"), "UTF8");
    assert_eq!(s("lc_collate"), "C");

    // PostgreSQL never runs as root.
    let uid = std::fs::read_to_string(format!("/proc/{}/status", cluster.pid()))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u32>()
        .unwrap();
    assert_ne!(uid, 0);

    let pid = cluster.pid();
    cluster.stop().await.unwrap();
    assert!(!alive(pid));
    assert!(!dir.path().join("pg/postmaster.pid").exists());

    let cluster = EmbeddedCluster::start(dir.path()).await.unwrap();
    assert_eq!(rows(&cluster).await, ["first"]);
    cluster.stop().await.unwrap();
}

#[tokio::test]
async fn killed_postmaster_leaves_committed_rows_and_a_stale_pid_file() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let cluster = EmbeddedCluster::start(dir.path()).await.unwrap();
    write_row(&cluster, "before crash").await;

    let pid = cluster.pid();
    // SAFETY: kill on the PID of the server this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    wait_until("the postmaster is gone", 10, || !cluster.is_running()).await;
    cluster.stop().await.unwrap();

    let pid_file = dir.path().join("pg/postmaster.pid");
    let recorded: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(recorded, pid, "a SIGKILLed postmaster leaves its pid file");

    let cluster = EmbeddedCluster::start(dir.path()).await.unwrap();
    assert_ne!(cluster.pid(), pid);
    assert_eq!(rows(&cluster).await, ["before crash"]);
    cluster.stop().await.unwrap();
}

#[tokio::test]
async fn pid_file_naming_another_process_is_stale() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let cluster = EmbeddedCluster::start(dir.path()).await.unwrap();
    write_row(&cluster, "x").await;
    cluster.stop().await.unwrap();

    // A live process that is not PostgreSQL (as after a reboot recycled the PID).
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let pid_file = dir.path().join("pg/postmaster.pid");
    std::fs::write(
        &pid_file,
        format!("{}\n{}\n", sleeper.id(), dir.path().join("pg").display()),
    )
    .unwrap();

    let cluster = EmbeddedCluster::start(dir.path()).await.unwrap();
    assert_eq!(rows(&cluster).await, ["x"]);
    cluster.stop().await.unwrap();
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
}

/// Helper run in a child process by `cluster_stops_when_tern_is_killed`: starts a
/// cluster, writes a row, reports the PID, and waits to be killed.
#[tokio::test]
async fn embedded_child_process() {
    let Some(dir) = std::env::var_os("TERN_EMBEDDED_CHILD_DIR") else {
        return; // Only does something when run as the helper.
    };
    let dir = PathBuf::from(dir);
    let cluster = EmbeddedCluster::start(&dir).await.unwrap();
    write_row(&cluster, "from the killed process").await;
    std::fs::write(dir.join("child-ready"), cluster.pid().to_string()).unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;
    panic!("the parent test should have killed this process");
}

#[tokio::test]
async fn cluster_stops_when_tern_is_killed() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "embedded_child_process", "--nocapture"])
        .env("TERN_EMBEDDED_CHILD_DIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = dir.path().join("child-ready");
    wait_until("the child's cluster is up", 120, || ready.exists()).await;
    let postmaster: i32 = std::fs::read_to_string(&ready).unwrap().parse().unwrap();
    assert!(alive(postmaster));

    // tern dies without any chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();

    // Starting again at once waits for the old server's shutdown (it got
    // SIGINT from the kernel when its parent died), then recovers the data.
    let cluster = EmbeddedCluster::start(dir.path()).await.unwrap();
    assert!(!alive(postmaster), "the orphaned postmaster still runs");
    assert_eq!(rows(&cluster).await, ["from the killed process"]);
    cluster.stop().await.unwrap();
}

#[test]
fn missing_binaries_are_one_clear_line() {
    let empty = tempfile::tempdir().unwrap();
    let search = BinSearch {
        bindir: Some(empty.path().to_owned()),
        path: Some(std::env::join_paths([empty.path(), Path::new("/nonexistent/bin")]).unwrap()),
        versioned_root: empty.path().join("postgresql"),
    };
    let err = search.find().unwrap_err();
    assert!(matches!(err, Error::BinariesNotFound));
    assert_eq!(
        err.to_string(),
        "PostgreSQL server binaries not found (looked in PATH and /usr/lib/postgresql/*/bin): install the Debian package postgresql"
    );
}

fn fake_binaries(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for name in ["initdb", "postgres"] {
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\nexit 1\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn binaries_are_searched_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let versioned = root.join("lib/postgresql");
    for v in ["9.6", "15", "12"] {
        fake_binaries(&versioned.join(v).join("bin"));
    }
    std::fs::create_dir_all(versioned.join("16")).unwrap(); // no binaries
    let mut search = BinSearch {
        bindir: None,
        path: Some(root.join("empty").into_os_string()),
        versioned_root: versioned.clone(),
    };
    // Newest versioned directory with both binaries.
    assert_eq!(search.find().unwrap().bindir(), versioned.join("15/bin"));

    // PATH wins over the versioned directories, and symlinks are followed.
    let path_dir = root.join("path");
    std::fs::create_dir_all(&path_dir).unwrap();
    for name in ["initdb", "postgres"] {
        std::os::unix::fs::symlink(versioned.join("9.6/bin").join(name), path_dir.join(name))
            .unwrap();
    }
    search.path = Some(path_dir.into_os_string());
    assert_eq!(search.find().unwrap().bindir(), versioned.join("9.6/bin"));

    // PG_BINDIR wins over everything.
    let own = root.join("own");
    fake_binaries(&own);
    search.bindir = Some(own.clone());
    assert_eq!(search.find().unwrap().bindir(), own);
}
