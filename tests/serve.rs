//! `tern serve` and `tern db` with the real binary: the embedded PostgreSQL cluster across
//! restarts and kill -9, a database made by Kea 2.2's kea-admin, host rows written by plain
//! SQL, Kea's `loggers` section, and the DHCPv4 overload warning.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{run, wait_pid_gone, Tern};
use sqlx::Connection;
use tern_store::ConnectSettings;

const READY: &str = "TERN_READY";
const START: Duration = Duration::from_secs(60);

/// A config that names no database: the embedded cluster is used. (No engine section, so
/// parallel tests do not compete for their ports.)
const STORE_ONLY: &str = r#"{ "Store": { "type": "embedded" } }"#;

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("tern.json");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Settings for the embedded cluster of a data dir, as an operator's psql would use them.
fn embedded(data_dir: &Path) -> ConnectSettings {
    ConnectSettings::socket(&data_dir.join("pg-socket"), 5432, "tern", "tern")
}

fn postmaster_pid(data_dir: &Path) -> i32 {
    let text = std::fs::read_to_string(data_dir.join("pg/postmaster.pid")).unwrap();
    text.lines().next().unwrap().trim().parse().unwrap()
}

async fn exec(settings: &ConnectSettings, sql: &str) {
    let mut conn = sqlx::PgConnection::connect_with(&settings.pg_options())
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

async fn lease_hostnames(settings: &ConnectSettings) -> Vec<String> {
    let mut conn = sqlx::PgConnection::connect_with(&settings.pg_options())
        .await
        .unwrap();
    let rows: Vec<(String,)> = sqlx::query_as("SELECT hostname FROM lease4 ORDER BY address")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

const INSERT_LEASE: &str =
    "INSERT INTO lease4 (address, hwaddr, valid_lifetime, expire, subnet_id, \
     fqdn_fwd, fqdn_rev, hostname, state) VALUES (3221226122, decode('080027f25ce2','hex'), 3600, \
     now() + interval '1 hour', 1, true, true, 'kept.example.com', 0)";

/// Starts tern again on `data`: the cluster is not re-created and still holds
/// INSERT_LEASE's row; then stops it with `stop`.
async fn starts_again_with_the_lease(args: &[&str], log: &Path, data: &Path, stop: i32) {
    let mut tern = Tern::start(args, log);
    let text = tern.wait_for(READY, START);
    assert!(
        !text.contains("STORE_EMBEDDED_INITDB"),
        "cluster re-created:\n{text}"
    );
    assert_eq!(lease_hostnames(&embedded(data)).await, ["kept.example.com"]);
    tern.signal(stop);
    assert!(tern.wait_exit(Duration::from_secs(60)).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_on_the_same_data_dir_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_config(dir.path(), STORE_ONLY);
    let args = ["serve", "-c", &config, "--data-dir", data.to_str().unwrap()];

    let mut tern = Tern::start(&args, &dir.path().join("1.log"));
    let log = tern.wait_for(READY, START);
    assert!(log.contains("STORE_EMBEDDED_INITDB"), "{log}");
    exec(&embedded(&data), INSERT_LEASE).await;
    let pg = postmaster_pid(&data);
    tern.signal(libc::SIGTERM);
    let status = tern.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "exit {status}; log:\n{}", tern.log());
    assert!(tern.log().contains("TERN_STOPPED"), "{}", tern.log());
    assert!(
        wait_pid_gone(pg, Duration::from_secs(10)),
        "PostgreSQL outlived tern"
    );

    starts_again_with_the_lease(&args, &dir.path().join("2.log"), &data, libc::SIGINT).await;
}

/// As root from a clone in `/root` (mode 0700), or with any `--data-dir` below a directory
/// PostgreSQL's user may not enter (a `mktemp -d`): the cluster starts, keeps its data in
/// that directory across a restart, and nothing is mounted on the host.
#[tokio::test(flavor = "multi_thread")]
async fn a_data_dir_below_a_0700_directory_works() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let data = private.join("tern-data");
    let config = write_config(dir.path(), STORE_ONLY);
    let args = ["serve", "-c", &config, "--data-dir", data.to_str().unwrap()];

    let mut tern = Tern::start(&args, &dir.path().join("1.log"));
    let log = tern.wait_for(READY, START);
    assert!(!log.contains("TERN_FAILED"), "{log}");
    assert!(
        data.join("pg/PG_VERSION").exists(),
        "cluster not in the data dir"
    );
    exec(&embedded(&data), INSERT_LEASE).await;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(data.to_str().unwrap()),
        "the host sees a mount of the data dir:\n{mounts}"
    );
    let pid = tern.pid();
    tern.signal(libc::SIGTERM);
    assert!(
        tern.wait_exit(Duration::from_secs(60)).success(),
        "{}",
        tern.log()
    );
    // The mount point of a private view goes with the cluster.
    let left: Vec<_> = std::fs::read_dir("/run/tern")
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !left
            .iter()
            .any(|n| n.to_string_lossy().starts_with(&format!("pg-{pid}-"))),
        "mount point left behind: {left:?}"
    );

    starts_again_with_the_lease(&args, &dir.path().join("2.log"), &data, libc::SIGTERM).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_config(dir.path(), STORE_ONLY);
    let args = ["serve", "-c", &config, "--data-dir", data.to_str().unwrap()];

    let mut tern = Tern::start(&args, &dir.path().join("1.log"));
    tern.wait_for(READY, START);
    exec(&embedded(&data), INSERT_LEASE).await;
    let pg = postmaster_pid(&data);
    tern.signal(libc::SIGKILL);
    tern.wait_exit(Duration::from_secs(10));
    // tern cannot clean up after kill -9; its cluster must not be left running.
    assert!(
        wait_pid_gone(pg, Duration::from_secs(30)),
        "orphaned PostgreSQL {pg}"
    );

    let mut tern = Tern::start(&args, &dir.path().join("2.log"));
    tern.wait_for(READY, START);
    assert_eq!(
        lease_hostnames(&embedded(&data)).await,
        ["kept.example.com"]
    );
    tern.signal(libc::SIGTERM);
    assert!(tern.wait_exit(Duration::from_secs(60)).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_inserted_by_plain_sql_reaches_tern_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_config(dir.path(), STORE_ONLY);
    let mut tern = Tern::start(
        &["serve", "-c", &config, "--data-dir", data.to_str().unwrap()],
        &dir.path().join("tern.log"),
    );
    tern.wait_for(READY, START);
    // The seed's own statement (shared/seeds/000).
    exec(
        &embedded(&data),
        "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, ipv4_address, hostname, \
         dhcp4_subnet_id) VALUES (decode('080027f25ce2','hex'), 0, 2887058842, 'srv-jenkins-01', 1)",
    )
    .await;
    let log = tern.wait_for("HOSTS_CHANGED", Duration::from_secs(5));
    let line = log.lines().find(|l| l.contains("HOSTS_CHANGED")).unwrap();
    assert!(line.contains("08:00:27:f2:5c:e2"), "{line}");
    tern.signal(libc::SIGTERM);
    assert!(tern.wait_exit(Duration::from_secs(60)).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_on_a_database_made_by_kea_admin_2_2() {
    if Command::new("kea-admin").arg("-v").output().is_err() {
        panic!("kea-admin is not installed: run scripts/setup-debian.sh test");
    }
    let db = tern_store::testing::empty_db().await;
    assert!(db.is_tcp(), "kea-admin needs TCP");
    let out = Command::new("kea-admin")
        .args(["db-init", "pgsql", "-h", &db.host(), "-P"])
        .arg(db.port().to_string())
        .args([
            "-u",
            db.user(),
            "-p",
            db.password().unwrap(),
            "-n",
            db.name(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kea-admin db-init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    sqlx::query(INSERT_LEASE).execute(db.pool()).await.unwrap();

    // The user's kea-dhcp4.conf, pointing at that database, as tern's config.
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            r#"{{ "Dhcp4": {{
                "lease-database": {{ "type": "postgresql", "host": "{}", "port": {},
                    "name": "{}", "user": "{}", "password": "{}" }},
                "subnet4": [ {{ "id": 1, "subnet": "192.0.2.0/24" }} ] }} }}"#,
            db.host(),
            db.port(),
            db.name(),
            db.user(),
            db.password().unwrap()
        ),
    );
    let (status, stdout, stderr) = run(&["db", "status", "-c", &config]);
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.contains("13.0"),
        "Kea's schema version not shown:\n{stdout}"
    );
    assert!(stdout.contains("migrations pending"), "{stdout}");

    let mut tern = Tern::start(&["serve", "-c", &config], &dir.path().join("tern.log"));
    tern.wait_for(READY, START);
    let (hostname, pool_id): (String, i64) =
        sqlx::query_as("SELECT hostname, pool_id FROM lease4 WHERE address = 3221226122")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!((hostname.as_str(), pool_id), ("kept.example.com", 0));
    tern.signal(libc::SIGTERM);
    assert!(tern.wait_exit(Duration::from_secs(60)).success());

    let (status, stdout, _) = run(&["db", "status", "-c", &config]);
    assert!(status.success());
    assert!(stdout.contains("schema up to date"), "{stdout}");
    assert!(
        stdout.contains("Kea schema_version 13.0"),
        "Kea's row must stay:\n{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kea_loggers_choose_output_and_severity() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_file = dir.path().join("logs/kea-dhcp-ddns.log");
    let config = write_config(
        dir.path(),
        &format!(
            r#"{{ "DhcpDdns": {{ "port": {}, "loggers": [ {{ "name": "kea-dhcp-ddns", "severity": "WARN",
                 "output_options": [ {{ "output": "{}" }} ] }} ] }},
                 "Dhcp6": {{ "config-control": {{}} }} }}"#,
            free_udp_port(),
            log_file.display()
        ),
    );
    let mut tern = Tern::start(
        &["serve", "-c", &config, "--data-dir", data.to_str().unwrap()],
        &dir.path().join("stdout.log"),
    );
    // INFO lines are filtered out, so wait on the file for the WARN line.
    let deadline = std::time::Instant::now() + START;
    let text = loop {
        let text = std::fs::read_to_string(&log_file).unwrap_or_default();
        if text.contains("TERN_CONFIG_UNSUPPORTED") || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(text.contains(" WARN  [tern/"), "{text}");
    assert!(
        !text.contains("TERN_READY"),
        "INFO line passed a WARN logger:\n{text}"
    );
    assert!(
        !tern.log().contains("TERN_CONFIG_UNSUPPORTED"),
        "stdout used too"
    );
    // SIGHUP with the severity raised to INFO: the new loggers apply at once, as Kea's.
    let reconfigured = std::fs::read_to_string(&config)
        .unwrap()
        .replace(r#""severity": "WARN""#, r#""severity": "INFO""#);
    std::fs::write(&config, &reconfigured).unwrap();
    tern.signal(libc::SIGHUP);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = std::fs::read_to_string(&log_file).unwrap_or_default();
        if text.contains("DHCP4_DYNAMIC_RECONFIGURATION_SUCCESS")
            || std::time::Instant::now() > deadline
        {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        text.contains(" INFO  [tern") && text.contains("DHCP4_DYNAMIC_RECONFIGURATION_SUCCESS"),
        "INFO lines missing after the reload:\n{text}"
    );
    // And back to WARN: the shutdown's INFO lines stay out of the file.
    std::fs::write(
        &config,
        reconfigured.replace(r#""severity": "INFO""#, r#""severity": "WARN""#),
    )
    .unwrap();
    tern.signal(libc::SIGHUP);
    // Still at INFO when the signal is logged; the reload then completes before the
    // SIGTERM below is handled (one at a time in the main loop).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&log_file)
        .unwrap_or_default()
        .contains("TERN_SIGNAL SIGHUP")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "second SIGHUP not logged"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tern.signal(libc::SIGTERM);
    assert!(tern.wait_exit(Duration::from_secs(60)).success());
    let text = std::fs::read_to_string(&log_file).unwrap();
    assert!(
        !text.contains("TERN_STOPPED"),
        "INFO line passed the WARN logger after the second reload:\n{text}"
    );
}

#[test]
fn serve_with_a_broken_config_exits_1_naming_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "{ \"DhcpDdns\": { \"port\": \"x\" } }");
    let (status, _, stderr) = run(&["serve", "-c", &config, "--data-dir", "/nonexistent"]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{config}:1:")), "{stderr}");
    assert!(stderr.contains("DhcpDdns.port"), "{stderr}");
}

/// A relayed DHCPDISCOVER (RFC 2131 §2: BOOTP header, magic cookie, option 53 = 1) from
/// the relay at `giaddr`; `n` makes its xid and client hardware address.
fn relayed_discover(n: u16, giaddr: [u8; 4]) -> Vec<u8> {
    let mut p = vec![0u8; 236];
    p[..4].copy_from_slice(&[1, 1, 6, 1]);
    p[4..8].copy_from_slice(&u32::from(n).to_be_bytes());
    p[24..28].copy_from_slice(&giaddr);
    p[28..34].copy_from_slice(&[2, 0, 0, 0, (n >> 8) as u8, n as u8]);
    p.extend([99, 130, 83, 99, 53, 1, 1, 255]);
    p
}

/// Under overload every DISCOVER is either answered or counted in a
/// DHCP4_PACKET_QUEUE_FULL warning, including the drops after the first warning of a burst
/// that ends before the next report is due (these were counted in pkt4-receive-drop but
/// never logged). The store is made the bottleneck by locking lease4.
#[tokio::test(flavor = "multi_thread")]
async fn every_packet_dropped_under_overload_is_counted_in_the_log() {
    const SENT: u16 = 300;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_udp_port();
    let relay = std::net::UdpSocket::bind(("127.0.0.2", port)).unwrap();
    let config = write_config(
        dir.path(),
        r#"{ "Dhcp4": {
             "interfaces-config": { "interfaces": [ "lo/127.0.0.1" ], "dhcp-socket-type": "udp" },
             "valid-lifetime": 3600,
             "subnet4": [ { "id": 1, "subnet": "127.0.0.0/8",
                            "pools": [ { "pool": "127.16.0.0 - 127.16.3.255" } ] } ] } }"#,
    );
    let port_text = port.to_string();
    let mut tern = Tern::start_with_env(
        &["serve", "-c", &config, "--data-dir", data.to_str().unwrap()],
        &[("TERN_DHCP4_SERVER_PORT", &port_text)],
        &dir.path().join("tern.log"),
    );
    tern.wait_for(READY, START);

    let mut lock = sqlx::PgConnection::connect_with(&embedded(&data).pg_options())
        .await
        .unwrap();
    let mut tx = sqlx::Connection::begin(&mut lock).await.unwrap();
    sqlx::query("LOCK TABLE lease4 IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();
    for n in 0..SENT {
        relay
            .send_to(&relayed_discover(n, [127, 0, 0, 2]), ("127.0.0.1", port))
            .unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_secs(1));
    tx.rollback().await.unwrap();

    // The DISCOVERs that were let in are answered once the store is back.
    relay
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut offered = std::collections::HashSet::new();
    let mut buf = [0u8; 1500];
    while let Ok(len) = relay.recv(&mut buf) {
        if len > 240 && buf[0] == 2 {
            offered.insert(u32::from_be_bytes(buf[4..8].try_into().unwrap()));
        }
    }
    // Stopped well within the 10 s report interval: the summary comes at shutdown.
    tern.signal(libc::SIGTERM);
    assert!(tern.wait_exit(Duration::from_secs(60)).success());
    let log = tern.log();
    let logged: usize = log
        .lines()
        .filter_map(|l| l.split("DHCP4_PACKET_QUEUE_FULL dropped ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert!(!offered.is_empty(), "nothing answered; log:\n{log}");
    assert!(logged > 1, "the overload was not reported; log:\n{log}");
    assert_eq!(
        offered.len() + logged,
        usize::from(SENT),
        "{} answered, {logged} reported dropped; log:\n{log}",
        offered.len()
    );
}

/// Kea's two daemons' sections in one file, their loggers writing to one log file (as
/// bench/e2e.sh has it): each line is written once, and each daemon's logger takes its
/// own daemon's lines only (a `kea-dhcp-ddns` logger's own file gets no DHCP lines).
#[tokio::test(flavor = "multi_thread")]
async fn two_daemons_logging_to_one_file_write_each_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_file = dir.path().join("kea.log");
    let d2_file = dir.path().join("d2.log");
    let logger = |name: &str, files: &[&Path]| {
        let outputs: Vec<String> = files
            .iter()
            .map(|f| format!(r#"{{ "output": "{}" }}"#, f.display()))
            .collect();
        format!(
            r#""loggers": [ {{ "name": "{name}", "severity": "INFO",
                 "output_options": [ {} ] }} ]"#,
            outputs.join(", ")
        )
    };
    let config = write_config(
        dir.path(),
        &format!(
            r#"{{ "Dhcp4": {{
                 "interfaces-config": {{ "interfaces": [ "lo/127.0.0.1" ], "dhcp-socket-type": "udp" }},
                 "subnet4": [ {{ "id": 1, "subnet": "127.0.0.0/8",
                                "pools": [ {{ "pool": "127.16.0.0 - 127.16.0.255" }} ] }} ],
                 {} }},
               "DhcpDdns": {{ "port": {}, {} }} }}"#,
            logger("kea-dhcp4", &[&log_file]),
            free_udp_port(),
            logger("kea-dhcp-ddns", &[&log_file, &d2_file]),
        ),
    );
    let port = free_udp_port().to_string();
    let mut tern = Tern::start_with_env(
        &["serve", "-c", &config, "--data-dir", data.to_str().unwrap()],
        &[("TERN_DHCP4_SERVER_PORT", &port)],
        &dir.path().join("stdout.log"),
    );
    let deadline = std::time::Instant::now() + START;
    while !std::fs::read_to_string(&log_file)
        .unwrap_or_default()
        .contains(READY)
    {
        assert!(std::time::Instant::now() < deadline, "{}", tern.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    tern.signal(libc::SIGTERM);
    assert!(tern.wait_exit(Duration::from_secs(60)).success());
    let text = std::fs::read_to_string(&log_file).unwrap();
    for id in [
        "TERN_READY",
        "DHCP4_STARTED",
        "DHCP_DDNS_STARTED",
        "TERN_STOPPED",
    ] {
        assert_eq!(
            text.lines().filter(|l| l.contains(id)).count(),
            1,
            "{id} not exactly once:\n{text}"
        );
    }
    let d2 = std::fs::read_to_string(&d2_file).unwrap();
    assert!(d2.contains("DHCP_DDNS_STARTED"), "{d2}");
    assert!(
        !d2.contains("[tern-dhcp"),
        "the kea-dhcp-ddns logger took DHCP's lines:\n{d2}"
    );
}
