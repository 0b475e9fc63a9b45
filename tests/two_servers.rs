//! Two `tern serve` processes on one PostgreSQL database, both loaded with clients at
//! once, competing for the same small pool: no address is ever leased to two clients,
//! with the database as witness.
//!
//! Layout: one private network namespace with only `lo` (127.0.0.1/8 plus 127.0.0.2-4).
//! tern A serves `lo/127.0.0.1`, tern B `lo/127.0.0.3`, both with subnet 1 = 127.0.0.0/8
//! and the same 512-address pool, both on the store crate's test cluster (reached over
//! its Unix socket, which works from inside the namespace; its TCP port on the root
//! namespace's 127.0.0.1 would not). perfdhcp relays from 127.0.0.2 to A and from
//! 127.0.0.4 to B, at the same time, with client MACs of their own: more clients than
//! addresses, so the servers offer the same addresses and the database must decide.
//!
//! Witness: every `DHCP4_LEASE_ALLOC` line of both logs (client hwaddr and address):
//! no address went to two clients, and each (address, hwaddr) granted is the row in
//! `lease4`. Processes are stopped by PID and the namespace is deleted in a Drop guard,
//! also when the test panics. Needs root and perfdhcp (Debian package kea-admin);
//! without them the test prints why and passes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{is_root, Netns, Tern};
use tern_dhcp::packet::hex;

const PERFDHCP: &str = "/usr/sbin/perfdhcp";
const POOL_FIRST: Ipv4Addr = Ipv4Addr::new(127, 16, 0, 0);
const POOL_LAST: Ipv4Addr = Ipv4Addr::new(127, 16, 1, 255);
/// Clients each perfdhcp draws its MACs from (two disjoint sets: 4000 > 512 addresses).
const CLIENTS: u32 = 2000;
/// DORA exchanges each perfdhcp starts, at `RATE` per second.
const EXCHANGES: u32 = 600;
const RATE: u32 = 300;
/// perfdhcp's own bound (-p, seconds) and the hard one around it (timeout).
const PERF_PERIOD: u32 = 10;
const PERF_HARD: Duration = Duration::from_secs(25);
const START: Duration = Duration::from_secs(60);

/// One tern of the pair and the perfdhcp that loads it.
struct Side {
    name: &'static str,
    server: &'static str,
    relay: &'static str,
    mac_base: &'static str,
}

const SIDES: [Side; 2] = [
    Side {
        name: "A",
        server: "127.0.0.1",
        relay: "127.0.0.2",
        mac_base: "02:0a:00:00:00:00",
    },
    Side {
        name: "B",
        server: "127.0.0.3",
        relay: "127.0.0.4",
        mac_base: "02:0b:00:00:00:00",
    },
];

/// Everything the test starts; stopped (by PID) and deleted on drop, in this order:
/// perfdhcp, tern, the namespace.
struct Rig {
    dir: tempfile::TempDir,
    perfs: Vec<Child>,
    terns: Vec<Tern>,
    ns: Netns,
}

impl Rig {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        for p in &mut self.perfs {
            let _ = p.kill();
            let _ = p.wait();
        }
        let dir = self.dir.path().to_path_buf();
        for (t, side) in self.terns.iter_mut().zip(&SIDES) {
            t.stop(Duration::from_secs(20));
            if std::thread::panicking() {
                // Its own output (start-up errors), then the end of its log file.
                let log = std::fs::read_to_string(dir.join(format!("tern-{}.log", side.name)))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("--- tern {} output ---\n{}", side.name, t.log());
                eprintln!("--- tern {} log (last 40 lines) ---", side.name);
                for l in tail.iter().rev() {
                    eprintln!("{l}");
                }
            }
        }
        // The namespace is deleted when `self.ns` drops, right after this.
    }
}

/// Why the test cannot run here, if it cannot.
fn missing_prerequisite() -> Option<String> {
    if !is_root() {
        return Some("not root (network namespaces need it)".into());
    }
    if !Path::new(PERFDHCP).exists() {
        return Some(format!("{PERFDHCP} missing (apt-get install kea-admin)"));
    }
    None
}

/// (client hwaddr, address) of every DHCP4_LEASE_ALLOC line (allocated or renewed):
/// `DHCP4_LEASE_ALLOC [hwtype=1 02:0a:..], cid=[..], tid=0x..: lease 127.16.0.9 has ...`.
fn allocations(log: &str) -> Vec<(String, Ipv4Addr)> {
    log.lines()
        .filter_map(|l| {
            let rest = &l[l.find("DHCP4_LEASE_ALLOC ")?..];
            let hw = rest.split("hwtype=").nth(1)?.split([' ', ']']).nth(1)?;
            let addr = rest.split(": lease ").nth(1)?.split(' ').next()?;
            Some((hw.to_owned(), addr.parse().ok()?))
        })
        .collect()
}

/// perfdhcp's "received packets" of the REQUEST-ACK exchange (ACKs seen).
fn perf_acks(out: &str) -> u64 {
    let mut in_ra = false;
    for l in out.lines() {
        if l.contains("Statistics for:") {
            in_ra = l.contains("REQUEST-ACK");
        } else if in_ra {
            if let Some(n) = l.strip_prefix("received packets:") {
                return n.trim().parse().unwrap_or(0);
            }
        }
    }
    0
}

fn config(side: &Side, pg: &PgTarget, dir: &Path) -> String {
    format!(
        r#"{{ "Dhcp4": {{
    "interfaces-config": {{ "interfaces": [ "lo/{server}" ], "dhcp-socket-type": "udp" }},
    "lease-database": {{ "type": "postgresql", "host": "{host}", "port": {port},
                         "name": "{name}", "user": "{user}", "password": "{password}" }},
    "valid-lifetime": 86400, "renew-timer": 21600, "rebind-timer": 43200,
    "subnet4": [ {{ "id": 1, "subnet": "127.0.0.0/8",
                   "pools": [ {{ "pool": "{POOL_FIRST} - {POOL_LAST}" }} ] }} ],
    "loggers": [ {{ "name": "kea-dhcp4", "severity": "INFO",
                   "output_options": [ {{ "output": "{log}" }} ] }} ]
}} }}"#,
        server = side.server,
        host = pg.socket_dir,
        port = pg.port,
        name = pg.name,
        user = pg.user,
        password = pg.password,
        log = dir.join(format!("tern-{}.log", side.name)).display(),
    )
}

/// The test database as seen from inside the namespace: over the Unix socket.
struct PgTarget {
    socket_dir: String,
    port: u16,
    name: String,
    user: String,
    password: String,
}

fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_on_one_store_never_lease_an_address_twice() {
    if let Some(why) = missing_prerequisite() {
        tern_testkit::peer_missing(
            "two_servers_on_one_store_never_lease_an_address_twice",
            &why,
        );
        return;
    }
    let started = Instant::now();
    let db = tern_store::testing::fresh_db().await;
    let (socket_dir, port) = common::pg_socket(db.pool()).await;
    let pg = PgTarget {
        socket_dir,
        port,
        name: db.name().to_owned(),
        user: db.user().to_owned(),
        password: db.password().unwrap_or_default().to_owned(),
    };

    let mut rig = Rig {
        dir: tempfile::tempdir().unwrap(),
        perfs: Vec::new(),
        terns: Vec::new(),
        ns: Netns::new(
            &format!("tern-two-{}", std::process::id()),
            &["127.0.0.2", "127.0.0.3", "127.0.0.4"],
        ),
    };
    let ns = rig.ns.name().to_owned();

    // Both servers, started together.
    for side in &SIDES {
        let conf = rig.path(&format!("tern-{}.json", side.name));
        std::fs::write(&conf, config(side, &pg, rig.dir.path())).unwrap();
        let data = rig.path(&format!("data-{}", side.name));
        let tern = Tern::start_in_netns(
            &ns,
            &[
                "serve",
                "-c",
                conf.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ],
            &rig.path(&format!("tern-{}.out", side.name)),
        );
        rig.terns.push(tern);
    }
    let logs: Vec<PathBuf> = SIDES
        .iter()
        .map(|s| rig.path(&format!("tern-{}.log", s.name)))
        .collect();
    for (i, (log, side)) in logs.iter().zip(&SIDES).enumerate() {
        let deadline = Instant::now() + START;
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.contains("TERN_READY") {
                break;
            }
            let tern = &mut rig.terns[i];
            if let Some(status) = tern.exited() {
                panic!(
                    "tern {} exited ({status}):\n{text}\n{}",
                    side.name,
                    tern.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "tern {} not ready after {START:?}:\n{text}\n{}",
                side.name,
                tern.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    eprintln!("two_servers: both ready after {:?}", started.elapsed());

    // Both perfdhcp at once.
    let hard = PERF_HARD.as_secs().to_string();
    let perf_outs: Vec<PathBuf> = SIDES
        .iter()
        .map(|s| rig.path(&format!("perfdhcp-{}.txt", s.name)))
        .collect();
    for (side, out) in SIDES.iter().zip(&perf_outs) {
        let f = File::create(out).unwrap();
        let child = Command::new("timeout")
            .args(["-k", "5", &hard, "ip", "netns", "exec", &ns, PERFDHCP])
            .args(["-4", "-g", "single", "-l", side.relay])
            .args(["-R", &CLIENTS.to_string(), "-r", &RATE.to_string()])
            .args(["-n", &EXCHANGES.to_string(), "-p", &PERF_PERIOD.to_string()])
            .args(["-W", "1000000", "-b", &format!("mac={}", side.mac_base)])
            .arg(side.server)
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .expect("spawn perfdhcp");
        rig.perfs.push(child);
    }
    let load_started = Instant::now();
    for (p, side) in rig.perfs.iter_mut().zip(&SIDES) {
        let status = wait_exit(p, PERF_HARD + Duration::from_secs(10));
        assert!(status.is_some(), "perfdhcp {} did not end", side.name);
    }
    eprintln!("two_servers: load done after {:?}", load_started.elapsed());

    // Stop both (SIGTERM): every line they had to write is written.
    for (t, side) in rig.terns.iter_mut().zip(&SIDES) {
        let status = t.stop(Duration::from_secs(30));
        assert!(
            status.is_some_and(|s| s.success()),
            "tern {} did not stop cleanly: {status:?}",
            side.name
        );
    }

    // perfdhcp saw ACKs on both sides.
    for (out, side) in perf_outs.iter().zip(&SIDES) {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        let acks = perf_acks(&text);
        eprintln!("two_servers: perfdhcp {} received {acks} ACKs", side.name);
        assert!(acks > 0, "perfdhcp {} got no ACK:\n{text}", side.name);
    }

    // The logs: address -> clients, per server and together.
    let mut clients_of: BTreeMap<Ipv4Addr, BTreeSet<String>> = BTreeMap::new();
    let mut granted: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
    for (log, side) in logs.iter().zip(&SIDES) {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let allocs = allocations(&text);
        let addresses: BTreeSet<Ipv4Addr> = allocs.iter().map(|(_, a)| *a).collect();
        // DHCPREQUESTs for an address the other server (or a concurrent commit) took
        // between OFFER and REQUEST: the database's arbitration, seen from outside.
        let naks = text
            .lines()
            .filter(|l| l.contains("DHCP4_PACKET_NAK") && l.contains("in use"))
            .count();
        eprintln!(
            "two_servers: tern {} logged {} grants, {} distinct addresses, {naks} NAKs (address in use)",
            side.name,
            allocs.len(),
            addresses.len()
        );
        assert!(
            addresses.len() >= 100,
            "tern {} granted only {} addresses: the servers did not both carry load",
            side.name,
            addresses.len()
        );
        let prefix = &side.mac_base[..5];
        for (hw, addr) in allocs {
            assert!(
                (POOL_FIRST..=POOL_LAST).contains(&addr),
                "tern {} granted {addr}, outside the pool",
                side.name
            );
            assert!(
                hw.starts_with(prefix),
                "tern {} granted {addr} to {hw}, not one of its perfdhcp's clients",
                side.name
            );
            clients_of.entry(addr).or_default().insert(hw.clone());
            granted.insert(addr, hw);
        }
    }
    let conflicts: Vec<_> = clients_of.iter().filter(|(_, c)| c.len() > 1).collect();
    eprintln!(
        "two_servers: {} addresses granted in all, {} granted to two or more clients",
        clients_of.len(),
        conflicts.len()
    );
    assert!(
        conflicts.is_empty(),
        "{} addresses ACKed to more than one client, e.g. {:?}",
        conflicts.len(),
        &conflicts[..conflicts.len().min(10)]
    );

    // The database agrees: each grant is the row of its address, and every row was
    // granted by one of the two.
    let rows: Vec<(i64, Option<Vec<u8>>)> = sqlx::query_as("SELECT address, hwaddr FROM lease4")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let in_db: BTreeMap<Ipv4Addr, String> = rows
        .into_iter()
        .map(|(a, hw)| (Ipv4Addr::from(a as u32), hex(&hw.unwrap_or_default())))
        .collect();
    for (addr, hw) in &granted {
        assert_eq!(
            in_db.get(addr),
            Some(hw),
            "{addr} was ACKed to {hw}; lease4 says {:?}",
            in_db.get(addr)
        );
    }
    let unlogged: Vec<_> = in_db.keys().filter(|a| !granted.contains_key(a)).collect();
    assert!(
        unlogged.is_empty(),
        "lease4 rows no server logged a grant for: {unlogged:?}"
    );
    drop(rig);
    eprintln!("two_servers: done in {:?}", started.elapsed());
}
