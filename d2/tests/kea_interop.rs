//! Interop with the real Kea: Debian's kea-dhcp4 (2.2) sends its NameChangeRequests
//! to tern's d2, which updates a private BIND 9. Kea is driven over its control
//! socket with lease_cmds (`lease4-add`, `lease4-resend-ddns`, `lease4-del` with
//! `update-ddns`), so no DHCP client or network namespace is needed.

use tern_testkit::bind as common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{ddns_zones, key, Named};
use tern_d2::{D2Options, D2Service};
use tern_dnsmsg::tsig::{Algorithm, TsigKey};
use tern_ncr::{Dhcid, Fqdn};
use tern_store::ncr_queue::{self, NcrRecord, NcrSource, NcrState};
use tern_store::testing::{self, TestDb};

const KEA_DHCP4: &str = "/usr/sbin/kea-dhcp4";
const LEASE_CMDS: &str = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so";

/// A private kea-dhcp4 with no DHCP sockets, only its control socket; killed by PID.
struct Kea {
    child: Child,
    dir: tempfile::TempDir,
}

impl Kea {
    fn start(d2_port: u16, use_conflict_resolution: bool) -> Kea {
        assert!(
            Path::new(KEA_DHCP4).exists() && Path::new(LEASE_CMDS).exists(),
            "kea-dhcp4 and its lease_cmds hook are needed: apt-get install kea-dhcp4-server"
        );
        let dir = tempfile::Builder::new()
            .prefix("kea")
            .tempdir_in("/tmp")
            .unwrap();
        let config = serde_json::json!({ "Dhcp4": {
            "interfaces-config": { "interfaces": [] },
            "control-socket": { "socket-type": "unix", "socket-name": dir.path().join("kea4.sock") },
            "lease-database": { "type": "memfile", "persist": false },
            "hooks-libraries": [{ "library": LEASE_CMDS }],
            "dhcp-ddns": { "enable-updates": true, "server-ip": "127.0.0.1", "server-port": d2_port },
            "ddns-qualifying-suffix": "example.com.",
            "ddns-use-conflict-resolution": use_conflict_resolution,
            "subnet4": [{ "id": 1, "subnet": "192.0.2.0/24",
                          "pools": [{ "pool": "192.0.2.100 - 192.0.2.150" }] }],
            "loggers": [{ "name": "kea-dhcp4", "severity": "INFO",
                          "output_options": [{ "output": dir.path().join("kea.log") }] }]
        }});
        let path = dir.path().join("kea4.json");
        std::fs::write(&path, config.to_string()).unwrap();
        let child = Command::new(KEA_DHCP4)
            .arg("-c")
            .arg(&path)
            .env("KEA_PIDFILE_DIR", dir.path())
            .env("KEA_LOCKFILE_DIR", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kea-dhcp4");
        let kea = Kea { child, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(kea.socket()).is_err() {
            assert!(
                Instant::now() < deadline,
                "kea-dhcp4 did not start:\n{}",
                kea.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        kea
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("kea4.sock")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kea.log")).unwrap_or_default()
    }

    /// Sends one command; returns the answer's `result` and `text`.
    fn command(&self, command: &str, arguments: serde_json::Value) -> (i64, String) {
        let mut s = UnixStream::connect(self.socket()).unwrap();
        let cmd = serde_json::json!({ "command": command, "arguments": arguments });
        s.write_all(cmd.to_string().as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (
            v["result"].as_i64().unwrap(),
            v["text"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

impl Drop for Kea {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- kea-dhcp4 log ---\n{}", self.log());
        }
    }
}

fn d2_config(named_port: u16, d2_port: u16, key: &TsigKey) -> tern_config::DhcpDdns {
    let domain = |name: &str| {
        serde_json::json!({ "name": name, "key-name": key.name.to_string(),
            "dns-servers": [{ "ip-address": "127.0.0.1", "port": named_port }] })
    };
    let config = serde_json::json!({ "DhcpDdns": {
        "ip-address": "127.0.0.1", "port": d2_port, "dns-server-timeout": 500,
        "tsig-keys": [{ "name": key.name.to_string(), "algorithm": key.algorithm.kea_name(),
                        "secret": common::base64(&key.secret) }],
        "forward-ddns": { "ddns-domains": [domain("example.com.")] },
        "reverse-ddns": { "ddns-domains": [domain("2.0.192.in-addr.arpa.")] }
    }});
    tern_config::parse_str(&config.to_string(), "d2.json")
        .unwrap()
        .ddns
        .unwrap()
}

async fn wait_finished(db: &TestDb, rows: usize) -> Vec<NcrRecord> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = ncr_queue::list(db.pool(), None, 0, 100).await.unwrap();
        if list.len() >= rows && list.iter().all(|r| r.finished_at.is_some()) {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "NCRs from Kea not finished: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kea_dhcp4_ncrs_reach_bind_through_tern_d2() {
    let key = key("kea-d2.", Algorithm::HmacSha256, 0, 9);
    let named = Named::start(&ddns_zones(), std::slice::from_ref(&key));
    let db = testing::fresh_db().await;
    let config = d2_config(named.port(), common::free_port(), &key);
    let d2 = D2Service::start_with(&config, db.store().clone(), D2Options::default())
        .await
        .unwrap();
    let kea = Kea::start(d2.local_addr().port(), true);

    let mac = [0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f];
    let fqdn = "kea-client.example.com.";
    let lease = serde_json::json!({ "ip-address": "192.0.2.60", "hw-address": "1a:1b:1c:1d:1e:1f",
        "hostname": fqdn, "fqdn-fwd": true, "fqdn-rev": true });
    assert_eq!(kea.command("lease4-add", lease).0, 0);
    let (result, text) = kea.command(
        "lease4-resend-ddns",
        serde_json::json!({ "ip-address": "192.0.2.60" }),
    );
    assert_eq!(result, 0, "{text}");

    let rows = wait_finished(&db, 1).await;
    assert_eq!(rows[0].state, Some(NcrState::Done), "{rows:#?}");
    assert_eq!(rows[0].source, Some(NcrSource::Udp));
    assert_eq!(named.dig(fqdn, "A"), ["192.0.2.60"]);
    assert_eq!(named.dig("60.2.0.192.in-addr.arpa.", "PTR"), [fqdn]);
    // Kea's DHCID (htype 1 + MAC, RFC 4701) is the one tern computes.
    let expected = Dhcid::from_hwaddr(1, &mac, &Fqdn::new(fqdn).unwrap()).unwrap();
    assert_eq!(
        named.dig(fqdn, "DHCID")[0].replace(' ', ""),
        expected.to_base64()
    );

    let (result, text) = kea.command(
        "lease4-del",
        serde_json::json!({ "ip-address": "192.0.2.60", "update-ddns": true }),
    );
    assert_eq!(result, 0, "{text}");
    let rows = wait_finished(&db, 2).await;
    assert!(
        rows.iter().all(|r| r.state == Some(NcrState::Done)),
        "{rows:#?}"
    );
    assert!(named.dig(fqdn, "A").is_empty());
    assert!(named.dig(fqdn, "DHCID").is_empty());
    assert!(named.dig("60.2.0.192.in-addr.arpa.", "PTR").is_empty());
    assert_eq!(d2.stats().get("ncr-received"), Some(2));
    assert_eq!(d2.stats().get("ncr-invalid"), Some(0));
    d2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kea_without_conflict_resolution_lets_a_second_client_take_the_name() {
    let key = key("kea-d2.", Algorithm::HmacSha512, 0, 10);
    let named = Named::start(&ddns_zones(), std::slice::from_ref(&key));
    let db = testing::fresh_db().await;
    let config = d2_config(named.port(), common::free_port(), &key);
    let d2 = D2Service::start_with(&config, db.store().clone(), D2Options::default())
        .await
        .unwrap();
    // Kea 2.2 sends "use-conflict-resolution": false, i.e. no-check-with-dhcid.
    let kea = Kea::start(d2.local_addr().port(), false);
    let fqdn = "shared.example.com.";
    for (i, (ip, mac)) in [
        ("192.0.2.70", "02:00:00:00:00:01"),
        ("192.0.2.71", "02:00:00:00:00:02"),
    ]
    .into_iter()
    .enumerate()
    {
        let lease = serde_json::json!({ "ip-address": ip, "hw-address": mac,
            "hostname": fqdn, "fqdn-fwd": true, "fqdn-rev": true });
        assert_eq!(kea.command("lease4-add", lease).0, 0);
        let (result, text) = kea.command(
            "lease4-resend-ddns",
            serde_json::json!({ "ip-address": ip }),
        );
        assert_eq!(result, 0, "{text}");
        let rows = wait_finished(&db, i + 1).await;
        assert!(
            rows.iter().all(|r| r.state == Some(NcrState::Done)),
            "{rows:#?}"
        );
    }
    assert_eq!(named.dig(fqdn, "A"), ["192.0.2.71"]);
    let second = Dhcid::from_hwaddr(1, &[2, 0, 0, 0, 0, 2], &Fqdn::new(fqdn).unwrap()).unwrap();
    assert_eq!(
        named.dig(fqdn, "DHCID")[0].replace(' ', ""),
        second.to_base64()
    );
    d2.shutdown().await;
}
