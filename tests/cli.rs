//! `tern host|lease|record` against a running `tern serve`: what the operator sees on the
//! terminal, and what lands in Kea's tables.

mod common;

use tern_testkit::bind;

use std::process::Command;
use std::time::Duration;

use common::{self_signed_cert, tern_bin, Tern};
use serde_json::Value;
use tern_dnsmsg::tsig::Algorithm;
use tern_store::testing::{fresh_db, TestDb};

const KEY: &str = "cli-test-key";

/// A running tern with the API on a free loopback port, on a database of its own.
struct Api {
    _tern: Tern,
    url: String,
    config: String,
    db: TestDb,
    _dir: tempfile::TempDir,
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start() -> Api {
    start_with(false, "").await
}

/// With `tls`, the API serves https with a self-signed certificate for 127.0.0.1 in
/// `DIR/cert.pem`.
/// `sections`: more of the config, each ending in a comma.
async fn start_with(tls: bool, sections: &str) -> Api {
    let db = fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_tcp_port();
    let tls_keys = if tls {
        let d = dir.path().display();
        self_signed_cert(&dir.path().join("cert.pem"), &dir.path().join("key.pem"));
        format!(r#", "cert-file": "{d}/cert.pem", "key-file": "{d}/key.pem""#)
    } else {
        String::new()
    };
    let config = format!(
        r#"{{
          {store},
          {sections}
          "Dhcp4": {{
            "interfaces-config": {{ "interfaces": [] }},
            "subnet4": [
              {{ "id": 1, "subnet": "192.0.2.0/24" }},
              {{ "id": 7, "subnet": "198.51.100.0/24" }}
            ]
          }},
          "Api": {{ "ip-address": "127.0.0.1", "port": {port},
                   "authentication": {{ "type": "basic", "clients": [ {{ "user": "admin", "password": "s3cret" }} ] }},
                   "api-keys": [ {{ "name": "ci", "key": "{KEY}" }} ]{tls_keys} }}
        }}"#,
        store = common::store_section(&db),
    );
    let path = dir.path().join("tern.json");
    std::fs::write(&path, config).unwrap();
    let config = path.to_str().unwrap().to_string();
    let mut tern = Tern::start(
        &[
            "serve",
            "-c",
            &config,
            "--data-dir",
            dir.path().join("data").to_str().unwrap(),
        ],
        &dir.path().join("tern.log"),
    );
    tern.wait_for("TERN_READY", Duration::from_secs(60));
    Api {
        _tern: tern,
        url: format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" }),
        config,
        db,
        _dir: dir,
    }
}

/// Output of one CLI run.
struct Run {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    #[track_caller]
    fn success(self) -> Self {
        assert!(
            self.ok,
            "failed ({:?}): {}{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn failure(self) -> Self {
        assert!(!self.ok, "succeeded: {}", self.stdout);
        assert_eq!(self.code, Some(1), "{}", self.stderr);
        self
    }
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = Command::new(tern_bin());
    c.args(args);
    for v in ["TERN_API", "TERN_API_KEY", "TERN_USER", "TERN_PASSWORD"] {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run tern");
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Api {
    /// `tern ARGS --api URL --api-key KEY`.
    fn cli(&self, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend(["--api", &self.url, "--api-key", KEY]);
        run_env(&all, &[])
    }

    /// `tern ARGS --json`, which must succeed; its output parsed.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        self.cli(&all).success().json()
    }

    async fn hosts(&self) -> Vec<(String, i64, String, i64)> {
        sqlx::query_as(
            "SELECT encode(dhcp_identifier, 'hex'), dhcp4_subnet_id, coalesce(hostname, ''), ipv4_address \
             FROM hosts ORDER BY host_id",
        )
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }
}

fn table_lines(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn host_added_by_cli_is_listed_stored_and_deleted() {
    let api = start().await;
    let out = api
        .cli(&[
            "host",
            "add",
            "--mac",
            "08:00:27:f2:5c:e2",
            "--ip",
            "198.51.100.154",
            "--hostname",
            "srv-infrastructure-jenkins-master-01",
        ])
        .success();
    // No --subnet: the configured subnet holding the address (id 7) is used.
    assert!(
        out.stdout.starts_with("added reservation ")
            && out.stdout.contains("08:00:27:f2:5c:e2 -> 198.51.100.154 srv-infrastructure-jenkins-master-01 (subnet 7)"),
        "{}",
        out.stdout
    );
    // The seed's spelling (--name) and an explicit subnet.
    api.cli(&[
        "host",
        "add",
        "--mac",
        "08:00:27:dc:f2:71",
        "--ip",
        "192.0.2.165",
        "--name",
        "srv-infrastructure-redis-master-01",
        "--subnet",
        "1",
    ])
    .success();

    assert_eq!(
        api.hosts().await,
        vec![
            (
                "080027f25ce2".into(),
                7,
                "srv-infrastructure-jenkins-master-01".into(),
                3325256858
            ),
            (
                "080027dcf271".into(),
                1,
                "srv-infrastructure-redis-master-01".into(),
                3221226149
            ),
        ]
    );

    let list = api.cli(&["host", "list"]).success();
    let lines = table_lines(&list.stdout);
    assert_eq!(
        lines[0],
        ["ID", "SUBNET", "HW-ADDRESS", "IP-ADDRESS", "HOSTNAME"]
    );
    assert_eq!(lines.len(), 3, "{}", list.stdout);
    assert_eq!(
        lines[1][1..],
        [
            "7",
            "08:00:27:f2:5c:e2",
            "198.51.100.154",
            "srv-infrastructure-jenkins-master-01"
        ]
    );

    // Filters and JSON.
    let json = api.json(&["host", "list", "--subnet", "1"]);
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["hostname"], "srv-infrastructure-redis-master-01");
    assert_eq!(items[0]["ip-address"], "192.0.2.165");
    let by_name = api.json(&[
        "host",
        "list",
        "--hostname",
        "SRV-INFRASTRUCTURE-JENKINS-MASTER-01",
    ]);
    assert_eq!(by_name.as_array().unwrap().len(), 1);

    // Delete by MAC (as the seed does), then by host name.
    let del = api
        .cli(&["host", "del", "--mac", "08:00:27:f2:5c:e2"])
        .success();
    assert!(
        del.stdout.starts_with("deleted reservation "),
        "{}",
        del.stdout
    );
    assert_eq!(api.hosts().await.len(), 1);
    let list = api.cli(&["host", "list"]).success();
    assert!(!list.stdout.contains("jenkins"), "{}", list.stdout);
    api.cli(&[
        "host",
        "del",
        "--name",
        "srv-infrastructure-redis-master-01",
    ])
    .success();
    assert!(api.hosts().await.is_empty());
    let list = api.cli(&["host", "ls"]).success();
    assert_eq!(table_lines(&list.stdout)[1], ["(none)"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_errors_say_what_is_wrong_and_exit_1() {
    let api = start().await;
    api.cli(&[
        "host",
        "add",
        "--mac",
        "0a:00:00:00:00:01",
        "--ip",
        "192.0.2.10",
    ])
    .success();

    let taken = api
        .cli(&[
            "host",
            "add",
            "--mac",
            "0a:00:00:00:00:02",
            "--ip",
            "192.0.2.10",
        ])
        .failure();
    assert!(
        taken
            .stderr
            .contains("409 Conflict: address 192.0.2.10 is already reserved in subnet 1"),
        "{}",
        taken.stderr
    );
    let bad_mac = api
        .cli(&["host", "add", "--mac", "zz:00", "--ip", "192.0.2.11"])
        .failure();
    assert!(
        bad_mac
            .stderr
            .starts_with("tern: 400 Bad Request: hw-address: "),
        "{}",
        bad_mac.stderr
    );
    let outside = api
        .cli(&[
            "host",
            "add",
            "--mac",
            "0a:00:00:00:00:03",
            "--ip",
            "203.0.113.5",
        ])
        .failure();
    assert!(
        outside.stderr.contains("203.0.113.5 is in no configured subnet (192.0.2.0/24, 198.51.100.0/24); give --subnet ID"),
        "{}",
        outside.stderr
    );
    let bad_ip = api.cli(&[
        "host",
        "add",
        "--mac",
        "0a:00:00:00:00:03",
        "--ip",
        "300.1.1.1",
    ]);
    assert_eq!(
        bad_ip.code,
        Some(2),
        "clap's usage error: {}",
        bad_ip.stderr
    );
    assert!(bad_ip.stderr.contains("--ip"), "{}", bad_ip.stderr);

    let nothing = api
        .cli(&["host", "del", "--mac", "0a:ff:ff:ff:ff:ff"])
        .failure();
    assert_eq!(nothing.stderr.trim(), "tern: no reservation matches");
    let no_id = api.cli(&["host", "del", "--id", "999"]).failure();
    assert!(
        no_id.stderr.contains("404 Not Found: no reservation 999"),
        "{}",
        no_id.stderr
    );

    let wrong_key = run_env(
        &["host", "list", "--api", &api.url, "--api-key", "nope"],
        &[],
    )
    .failure();
    assert!(
        wrong_key.stderr.contains("401 Unauthorized") && wrong_key.stderr.contains("--api-key"),
        "{}",
        wrong_key.stderr
    );
    let no_creds = run_env(&["lease", "list", "--api", &api.url], &[]).failure();
    assert!(
        no_creds.stderr.contains("401 Unauthorized"),
        "{}",
        no_creds.stderr
    );

    let port = free_tcp_port();
    let down = run_env(
        &["host", "list", "--api", &format!("http://127.0.0.1:{port}")],
        &[],
    )
    .failure();
    assert!(
        down.stderr
            .contains(&format!("cannot reach the API at http://127.0.0.1:{port}")),
        "{}",
        down.stderr
    );
    // The reservation that was made is still the only one.
    assert_eq!(api.hosts().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_come_from_flags_env_or_the_config_file() {
    let api = start().await;
    run_env(
        &[
            "host",
            "add",
            "--mac",
            "0a:00:00:00:00:01",
            "--ip",
            "192.0.2.20",
            "--api",
            &api.url,
            "--user",
            "admin",
            "--password",
            "s3cret",
        ],
        &[],
    )
    .success();
    let env = run_env(
        &["host", "list", "--json"],
        &[("TERN_API", &api.url), ("TERN_API_KEY", KEY)],
    )
    .success();
    assert_eq!(env.json()[0]["ip-address"], "192.0.2.20");
    // On the appliance: address and key from the config's Api section.
    let cfg = run_env(&["host", "list", "-c", &api.config], &[]).success();
    assert!(cfg.stdout.contains("192.0.2.20"), "{}", cfg.stdout);
    let bad_pw = run_env(
        &[
            "host",
            "list",
            "--api",
            &api.url,
            "--user",
            "admin",
            "--password",
            "wrong",
        ],
        &[],
    )
    .failure();
    assert!(bad_pw.stderr.contains("401"), "{}", bad_pw.stderr);
    let no_api = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(no_api.path(), r#"{ "Store": { "type": "embedded" } }"#).unwrap();
    let missing = run_env(
        &["host", "list", "-c", no_api.path().to_str().unwrap()],
        &[],
    )
    .failure();
    assert!(
        missing.stderr.contains("has no Api section"),
        "{}",
        missing.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn https_api_with_the_operators_ca() {
    let api = start_with(true, "").await;
    let cert = api._dir.path().join("cert.pem");
    let cert = cert.to_str().unwrap();
    api.cli(&[
        "host",
        "add",
        "--mac",
        "0a:00:00:00:00:01",
        "--ip",
        "192.0.2.30",
        "--cacert",
        cert,
    ])
    .success();
    let list = api.json(&["host", "list", "--cacert", cert]);
    assert_eq!(list[0]["ip-address"], "192.0.2.30");
    // The system's CAs do not know the self-signed certificate: a TLS error, not a hang.
    let untrusted = api.cli(&["host", "list"]).failure();
    assert!(
        untrusted
            .stderr
            .contains(&format!("TLS with {} failed", api.url))
            && untrusted.stderr.contains("certificate"),
        "{}",
        untrusted.stderr
    );
    // The config's Api section names https.
    let cfg = run_env(&["host", "list", "-c", &api.config, "--cacert", cert], &[]).success();
    assert!(cfg.stdout.contains("192.0.2.30"), "{}", cfg.stdout);
}

const LEASES: &str = "INSERT INTO lease4 (address, hwaddr, valid_lifetime, expire, subnet_id, \
     fqdn_fwd, fqdn_rev, hostname, state) VALUES \
     (3221226087, decode('080027932f14','hex'), 3600, '2030-01-02 03:04:05+00', 1, true, true, 'pg-master-01.example.com', 0), \
     (3221226088, decode('00143d20055b','hex'), 3600, '2030-01-02 04:00:00+00', 1, false, false, 'ptaj3vq0kt4x3', 3), \
     (3325256804, decode('080027251076','hex'), 600, '2030-01-02 05:00:00+00', 7, true, true, 'gitlab', 0)";

#[tokio::test(flavor = "multi_thread")]
async fn leases_are_listed_filtered_and_deleted() {
    let api = start().await;
    sqlx::query(LEASES).execute(api.db.pool()).await.unwrap();

    let all = api.cli(&["lease", "list"]).success();
    let lines = table_lines(&all.stdout);
    assert_eq!(
        lines[0],
        [
            "IP-ADDRESS",
            "HW-ADDRESS",
            "HOSTNAME",
            "SUBNET",
            "EXPIRES",
            "(UTC)",
            "STATE"
        ]
    );
    assert_eq!(
        lines[1],
        [
            "192.0.2.103",
            "08:00:27:93:2f:14",
            "pg-master-01.example.com",
            "1",
            "2030-01-02",
            "03:04:05",
            "default"
        ]
    );
    assert_eq!(lines[2][6], "released");
    assert_eq!(lines.len(), 4);

    let sub7 = api.json(&["lease", "list", "--subnet", "7"]);
    assert_eq!(sub7.as_array().unwrap().len(), 1);
    assert_eq!(sub7[0]["hostname"], "gitlab");
    let released = api.json(&["lease", "list", "--state", "released"]);
    assert_eq!(released[0]["ip-address"], "192.0.2.104");
    let by_mac = api.json(&["lease", "list", "--mac", "08:00:27:25:10:76"]);
    assert_eq!(by_mac[0]["ip-address"], "198.51.100.100");
    let one = api.json(&["lease", "list", "--ip", "192.0.2.104"]);
    assert_eq!(one[0]["hostname"], "ptaj3vq0kt4x3");
    let none = api.json(&["lease", "list", "--ip", "192.0.2.1"]);
    assert_eq!(none, serde_json::json!([]));
    let bad_state = api.cli(&["lease", "list", "--state", "bogus"]);
    assert_eq!(bad_state.code, Some(2));
    assert!(
        bad_state.stderr.contains("declined"),
        "{}",
        bad_state.stderr
    );

    assert!(api
        .cli(&["lease", "del", "192.0.2.104"])
        .success()
        .stdout
        .contains("deleted lease 192.0.2.104"));
    let gone = api.cli(&["lease", "del", "192.0.2.104"]).failure();
    assert!(
        gone.stderr
            .contains("404 Not Found: no lease for 192.0.2.104"),
        "{}",
        gone.stderr
    );
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM lease4")
        .fetch_one(api.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 2);
}

/// Add, list and delete one record in example.com with `cli` (the CLI pointed at an API).
fn record_round_trip(cli: &dyn Fn(&[&str]) -> Run) {
    let add = cli(&[
        "record",
        "add",
        "example.com",
        "--name",
        "rt",
        "--type",
        "A",
        "--content",
        "192.0.2.80",
        "--ttl",
        "600",
    ])
    .success();
    assert_eq!(add.stdout.trim(), "added rt.example.com. 600 A 192.0.2.80");
    let list = cli(&["record", "list", "example.com", "--name", "rt"]).success();
    assert_eq!(
        table_lines(&list.stdout)[1],
        ["rt.example.com.", "600", "A", "192.0.2.80"]
    );
    cli(&[
        "record",
        "del",
        "example.com",
        "--name",
        "rt",
        "--type",
        "A",
    ])
    .success();
    let missing = cli(&["record", "del", "example.com", "--name", "rt"]).failure();
    assert_eq!(
        missing.stderr.trim(),
        "tern: no record rt.example.com. in zone example.com."
    );
}

/// tern's own PowerDNS zones API in front of BIND (a `DhcpDdns` zone with its TSIG key):
/// the record shows up in BIND's answers and goes away again.
#[tokio::test(flavor = "multi_thread")]
async fn records_are_added_listed_and_deleted_in_bind() {
    let key = bind::key("tern-key.", Algorithm::HmacSha256, 0, 7);
    let named = bind::Named::start(&bind::ddns_zones(), std::slice::from_ref(&key));
    let ddns = format!(
        r#""DhcpDdns": {{ "ip-address": "127.0.0.1", "port": {port},
              "tsig-keys": [ {{ "name": "tern-key.", "algorithm": "{alg}", "secret": "{secret}" }} ],
              "forward-ddns": {{ "ddns-domains": [ {{ "name": "example.com.", "key-name": "tern-key.",
                  "dns-servers": [ {{ "ip-address": "127.0.0.1", "port": {dns} }} ] }} ] }} }},"#,
        port = bind::free_port(),
        alg = key.algorithm.kea_name(),
        secret = bind::base64(&key.secret),
        dns = named.port(),
    );
    let api = start_with(false, &ddns).await;
    let cli = |args: &[&str]| {
        let run = api.cli(args);
        // Between the steps of the round trip: BIND holds exactly what was listed.
        if args[1] == "add" && run.ok {
            assert_eq!(named.dig("rt.example.com", "A"), ["192.0.2.80"]);
        }
        run
    };
    record_round_trip(&cli);
    assert!(named.dig("rt.example.com", "A").is_empty());
    let list = api
        .cli(&["record", "list", "example.com", "--name", "static"])
        .success();
    assert_eq!(table_lines(&list.stdout)[1][2..], ["A", "192.0.2.200"]);
}

/// A stand-in for PowerDNS's zones API as documented (what the real one must also
/// answer): GET a zone with its rrsets, PATCH rrsets with REPLACE/DELETE -> 204, errors as
/// `{"error": …}`; a CNAME beside other data is refused with 422 as PowerDNS does.
struct FakePdns {
    url: String,
    patches: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

fn fake_pdns() -> FakePdns {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::{Arc, Mutex};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let patches = Arc::new(Mutex::new(Vec::new()));
    let seen = patches.clone();
    let zone = Arc::new(Mutex::new(serde_json::json!({
        "id": "example.com.", "name": "example.com.", "kind": "Master",
        "rrsets": [
            { "name": "example.com.", "type": "SOA", "ttl": 3600, "records": [
                { "content": "ns1.example.com. hostmaster.example.com. 1 10800 3600 604800 3600", "disabled": false } ] },
            { "name": "mail.example.com.", "type": "A", "ttl": 300, "records": [
                { "content": "192.0.2.25", "disabled": false } ] }
        ]
    })));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut parts = line.split_whitespace();
            let (method, path) = (
                parts.next().unwrap().to_string(),
                parts.next().unwrap().to_string(),
            );
            let (mut len, mut key) = (0, String::new());
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => len = v.trim().parse().unwrap(),
                    "x-api-key" => key = v.trim().to_string(),
                    _ => {}
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let (status, answer) = pdns_answer(&method, &path, &key, &body, &zone, &seen);
            let text = answer.map(|a| a.to_string()).unwrap_or_default();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    FakePdns { url, patches }
}

fn pdns_answer(
    method: &str,
    path: &str,
    key: &str,
    body: &[u8],
    zone: &std::sync::Mutex<Value>,
    seen: &std::sync::Mutex<Vec<Value>>,
) -> (&'static str, Option<Value>) {
    use serde_json::json;
    if key != KEY {
        return ("401 Unauthorized", Some(json!({ "error": "Unauthorized" })));
    }
    let Some(name) = path.strip_prefix("/api/v1/servers/localhost/zones/") else {
        return ("404 Not Found", Some(json!({ "error": "Not Found" })));
    };
    if name != "example.com." {
        return (
            "404 Not Found",
            Some(json!({ "error": format!("Could not find domain '{name}'") })),
        );
    }
    let mut zone = zone.lock().unwrap();
    match method {
        "GET" => ("200 OK", Some(zone.clone())),
        "PATCH" => {
            let patch: Value = serde_json::from_slice(body).unwrap();
            seen.lock().unwrap().push(patch.clone());
            let sets = zone["rrsets"].as_array_mut().unwrap();
            for change in patch["rrsets"].as_array().unwrap() {
                let same = |r: &Value| r["name"] == change["name"] && r["type"] == change["type"];
                if change["type"] == "CNAME"
                    && sets
                        .iter()
                        .any(|r| r["name"] == change["name"] && r["type"] != "CNAME")
                {
                    return (
                        "422 Unprocessable Entity",
                        Some(json!({ "error": format!(
                        "RRset {} IN CNAME: Conflicts with pre-existing RRset", change["name"].as_str().unwrap()) })),
                    );
                }
                sets.retain(|r| !same(r));
                if change["changetype"] == "REPLACE" {
                    let mut set = change.clone();
                    set.as_object_mut().unwrap().remove("changetype");
                    sets.push(set);
                }
            }
            ("204 No Content", None)
        }
        _ => (
            "405 Method Not Allowed",
            Some(json!({ "error": "Method Not Allowed" })),
        ),
    }
}

#[test]
fn record_commands_speak_the_powerdns_zones_api() {
    use serde_json::json;
    let pdns = fake_pdns();
    let cli = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--api", &pdns.url, "--api-key", KEY]);
        run_env(&all, &[])
    };
    let last_patch = || pdns.patches.lock().unwrap().last().cloned().unwrap();

    let add = cli(&[
        "record",
        "add",
        "example.com",
        "--name",
        "www",
        "--type",
        "a",
        "--content",
        "192.0.2.80",
        "--ttl",
        "600",
    ])
    .success();
    assert_eq!(add.stdout.trim(), "added www.example.com. 600 A 192.0.2.80");
    assert_eq!(
        last_patch(),
        json!({ "rrsets": [ { "name": "www.example.com.", "type": "A", "ttl": 600, "changetype": "REPLACE",
            "records": [ { "content": "192.0.2.80", "disabled": false } ] } ] })
    );
    // A second address joins the rrset (PowerDNS replaces whole rrsets) and keeps its TTL.
    cli(&[
        "record",
        "add",
        "example.com.",
        "--name",
        "www.example.com.",
        "--type",
        "A",
        "--content",
        "192.0.2.81",
    ])
    .success();
    assert_eq!(
        last_patch()["rrsets"][0]["records"],
        json!([ { "content": "192.0.2.80", "disabled": false }, { "content": "192.0.2.81", "disabled": false } ])
    );
    assert_eq!(last_patch()["rrsets"][0]["ttl"], 600);

    let list = cli(&["record", "list", "example.com", "--name", "www"]).success();
    let lines = table_lines(&list.stdout);
    assert_eq!(lines[0], ["NAME", "TTL", "TYPE", "CONTENT"]);
    assert_eq!(
        lines[1..],
        [
            ["www.example.com.", "600", "A", "192.0.2.80"],
            ["www.example.com.", "600", "A", "192.0.2.81"]
        ]
    );
    let all = cli(&["record", "list", "example.com", "--json"])
        .success()
        .json();
    assert_eq!(all.as_array().unwrap().len(), 3, "SOA, mail, www");

    // One record out: the rest of the rrset is written back.
    let del = cli(&[
        "record",
        "del",
        "example.com",
        "--name",
        "www",
        "--content",
        "192.0.2.80",
    ])
    .success();
    assert_eq!(del.stdout.trim(), "deleted www.example.com. A 192.0.2.80");
    assert_eq!(last_patch()["rrsets"][0]["changetype"], "REPLACE");
    assert_eq!(
        last_patch()["rrsets"][0]["records"],
        json!([ { "content": "192.0.2.81", "disabled": false } ])
    );
    // Everything at a name: DELETE per rrset.
    cli(&["record", "del", "example.com", "--name", "www"]).success();
    assert_eq!(
        last_patch(),
        json!({ "rrsets": [ { "name": "www.example.com.", "type": "A", "changetype": "DELETE" } ] })
    );
    let gone = cli(&["record", "del", "example.com", "--name", "www"]).failure();
    assert_eq!(
        gone.stderr.trim(),
        "tern: no record www.example.com. in zone example.com."
    );

    // The server's refusals, in its words.
    let cname = cli(&[
        "record",
        "add",
        "example.com",
        "--name",
        "mail",
        "--type",
        "CNAME",
        "--content",
        "www.example.com.",
    ])
    .failure();
    assert_eq!(
        cname.stderr.trim(),
        "tern: 422 Unprocessable Entity: RRset mail.example.com. IN CNAME: Conflicts with pre-existing RRset"
    );
    let unknown = cli(&["record", "list", "example.org"]).failure();
    assert_eq!(
        unknown.stderr.trim(),
        "tern: 404 Not Found: Could not find domain 'example.org.'"
    );
    record_round_trip(&cli);
    let wrong_key = run_env(
        &[
            "record",
            "list",
            "example.com",
            "--api",
            &pdns.url,
            "--api-key",
            "x",
        ],
        &[],
    )
    .failure();
    assert!(
        wrong_key.stderr.contains("401 Unauthorized: Unauthorized"),
        "{}",
        wrong_key.stderr
    );
}
