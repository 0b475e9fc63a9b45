//! Every API endpoint over real HTTP against a running `tern serve`: the embedded
//! PostgreSQL in a temp data dir, `DhcpDdns` zones on a private BIND on loopback with a
//! TSIG key, the API on a free loopback port behind basic auth and an API key, and curl
//! as the client.
//!
//! Coverage is checked against what the server says it serves: every command
//! `list-commands` returns and every operation of the served OpenAPI document must have
//! been called by the end of the test (a new command or route without a test here fails
//! it). `shutdown` goes last and must end tern with exit 0.

mod common;

use tern_testkit::bind;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::Tern;
use serde_json::{json, Value};
use tern_dnsmsg::tsig::Algorithm;

const API_KEY: &str = "api-http-test-key";
const USER: &str = "admin";
const PASSWORD: &str = "s3cret";
const HA_LIB: &str = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so";

/// How a request authenticates.
#[derive(Clone, Copy, PartialEq)]
enum Auth {
    Basic,
    Key,
    None,
    WrongKey,
}

/// One HTTP answer.
struct Resp {
    status: u16,
    headers: String,
    body: String,
}

impl Resp {
    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// The client: curl against the API, remembering every call made (for the coverage
/// checks at the end).
struct Client {
    base: String,
    calls: RefCell<Vec<(String, String)>>,
    commands: RefCell<BTreeSet<String>>,
}

impl Client {
    fn request(&self, method: &str, path: &str, auth: Auth, body: Option<&str>) -> Resp {
        let url = format!("{}{path}", self.base);
        let mut c = Command::new("curl");
        c.args([
            "-sS",
            "--max-time",
            "20",
            "-X",
            method,
            "-D",
            "-",
            "-o",
            "-",
        ])
        .args(["-w", "\n%{http_code}", "-H", "Expect:"]);
        match auth {
            Auth::Basic => {
                c.args(["-u", &format!("{USER}:{PASSWORD}")]);
            }
            Auth::Key => {
                c.args(["-H", &format!("X-API-Key: {API_KEY}")]);
            }
            Auth::WrongKey => {
                c.args(["-H", "X-API-Key: not-the-key"]);
            }
            Auth::None => {}
        }
        if let Some(b) = body {
            c.args(["-H", "Content-Type: application/json", "--data-binary", b]);
        }
        c.arg(&url);
        let out = c.output().expect("run curl (apt-get install curl)");
        assert!(
            out.status.success(),
            "curl {method} {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("utf-8 answer");
        let (rest, code) = text.rsplit_once('\n').expect("status line from -w");
        let (headers, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
        self.calls.borrow_mut().push((
            method.to_string(),
            path.split('?').next().unwrap().to_string(),
        ));
        Resp {
            status: code.trim().parse().expect("http code"),
            headers: headers.to_string(),
            body: body.to_string(),
        }
    }

    /// A REST call with basic auth; asserts the status, returns the body's JSON (`Null`
    /// when empty).
    #[track_caller]
    fn rest(&self, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
        self.rest_as(
            Auth::Basic,
            method,
            path,
            body.map(|b| b.to_string()),
            status,
        )
    }

    #[track_caller]
    fn rest_as(
        &self,
        auth: Auth,
        method: &str,
        path: &str,
        body: Option<String>,
        status: u16,
    ) -> Value {
        let r = self.request(method, path, auth, body.as_deref());
        assert_eq!(r.status, status, "{method} {path}: {} {}", r.status, r.body);
        if r.body.is_empty() {
            Value::Null
        } else {
            r.json()
        }
    }

    /// A 400 naming `field`.
    #[track_caller]
    fn bad_request(&self, method: &str, path: &str, body: Option<&str>, field: &str) -> Value {
        let v = self.rest_as(Auth::Basic, method, path, body.map(str::to_string), 400);
        assert_eq!(v["error"], "bad-request", "{v}");
        assert_eq!(v["field"], field, "{method} {path}: {v}");
        v
    }

    /// One Kea command (basic auth); the first answer of the list.
    #[track_caller]
    fn cmd(&self, doc: Value) -> Value {
        let name = doc["command"].as_str().expect("command").to_string();
        let r = self.request("POST", "/", Auth::Basic, Some(&doc.to_string()));
        assert_eq!(r.status, 200, "{doc}: {}", r.body);
        let v = r.json();
        let list = v
            .as_array()
            .unwrap_or_else(|| panic!("{doc}: not a list: {v}"));
        assert_eq!(list.len(), 1, "{doc}: {v}");
        self.commands.borrow_mut().insert(name);
        list[0].clone()
    }

    /// A command whose answer must have `result`; returns the answer.
    #[track_caller]
    fn expect(&self, doc: Value, result: i64) -> Value {
        let a = self.cmd(doc.clone());
        assert_eq!(a["result"], result, "{doc}: {a}");
        a
    }
}

/// What the test's named and tern run on.
struct Setup {
    dir: tempfile::TempDir,
    named: bind::Named,
    config: PathBuf,
    sections: Sections,
}

/// The parts of tern.json, so config-reload can be given a changed file.
struct Sections {
    api_port: u16,
    d2_port: u16,
    dns_port: u16,
    secret: String,
}

impl Sections {
    fn dhcp4(&self, extra_subnets: &str) -> String {
        format!(
            r#"{{
              "interfaces-config": {{ "interfaces": [] }},
              "valid-lifetime": 3600,
              "dhcp-ddns": {{ "enable-updates": true }},
              "ddns-send-updates": true,
              "ddns-qualifying-suffix": "example.com.",
              "hooks-libraries": [
                {{ "library": "{HA_LIB}",
                   "parameters": {{ "high-availability": [ {{ "this-server-name": "server1",
                       "mode": "hot-standby", "peers": [] }} ] }} }}
              ],
              "subnet4": [
                {{ "id": 1, "subnet": "192.0.2.0/24",
                   "pools": [ {{ "pool": "192.0.2.100 - 192.0.2.199" }} ] }},
                {{ "id": 2, "subnet": "198.51.100.0/24" }}{extra_subnets}
              ]
            }}"#
        )
    }

    fn file(&self, extra_subnets: &str) -> String {
        format!(
            r#"{{
  "Store": {{ "type": "embedded" }},
  "Dhcp4": {dhcp4},
  "Dhcp6": {{
    "interfaces-config": {{ "interfaces": [] }},
    "subnet6": [ {{ "id": 66, "subnet": "2001:db8::/64" }} ]
  }},
  "DhcpDdns": {{
    "ip-address": "127.0.0.1", "port": {d2},
    "tsig-keys": [ {{ "name": "tern-key.", "algorithm": "HMAC-SHA256", "secret": "{secret}" }} ],
    "forward-ddns": {{ "ddns-domains": [ {{ "name": "example.com.", "key-name": "tern-key.",
        "dns-servers": [ {{ "ip-address": "127.0.0.1", "port": {dns} }} ] }} ] }},
    "reverse-ddns": {{ "ddns-domains": [ {{ "name": "2.0.192.in-addr.arpa.", "key-name": "tern-key.",
        "dns-servers": [ {{ "ip-address": "127.0.0.1", "port": {dns} }} ] }} ] }}
  }},
  "Api": {{ "ip-address": "127.0.0.1", "port": {api},
    "authentication": {{ "type": "basic", "realm": "tern-test",
        "clients": [ {{ "user": "{USER}", "password": "{PASSWORD}" }} ] }},
    "api-keys": [ {{ "name": "ci", "key": "{API_KEY}" }} ] }}
}}"#,
            dhcp4 = self.dhcp4(extra_subnets),
            d2 = self.d2_port,
            dns = self.dns_port,
            secret = self.secret,
            api = self.api_port,
        )
    }
}

fn setup() -> Setup {
    let key = bind::key("tern-key.", Algorithm::HmacSha256, 0, 11);
    let named = bind::Named::start(&bind::ddns_zones(), std::slice::from_ref(&key));
    let dir = tempfile::tempdir().unwrap();
    let sections = Sections {
        api_port: bind::free_port(),
        d2_port: bind::free_port(),
        dns_port: named.port(),
        secret: bind::base64(&key.secret),
    };
    let config = dir.path().join("tern.json");
    std::fs::write(&config, sections.file("")).unwrap();
    Setup {
        dir,
        named,
        config,
        sections,
    }
}

/// Waits for `f` to give `Some` before `deadline` elapses.
#[track_caller]
fn eventually<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The OpenAPI template (of `templates`, for `method`) a concrete path is a call of: the
/// one matching with the most literal segments.
fn template_of<'a>(
    templates: &'a [(String, String)],
    method: &str,
    path: &str,
) -> Option<&'a (String, String)> {
    let segs: Vec<&str> = path.split('/').collect();
    templates
        .iter()
        .filter(|(m, t)| {
            let ts: Vec<&str> = t.split('/').collect();
            m.eq_ignore_ascii_case(method)
                && ts.len() == segs.len()
                && ts
                    .iter()
                    .zip(&segs)
                    .all(|(t, s)| t.starts_with('{') && !s.is_empty() || t == s)
        })
        .max_by_key(|(_, t)| t.split('/').filter(|s| !s.starts_with('{')).count())
}

#[test]
fn every_api_endpoint_over_http_against_tern_serve() {
    let started = Instant::now();
    let s = setup();
    let data = s.dir.path().join("data");
    let mut tern = Tern::start(
        &[
            "serve",
            "-c",
            s.config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &s.dir.path().join("tern.log"),
    );
    tern.wait_for("TERN_READY", Duration::from_secs(90));
    let api = Client {
        base: format!("http://127.0.0.1:{}", s.sections.api_port),
        calls: RefCell::default(),
        commands: RefCell::default(),
    };

    // The served document: what must be covered.
    let doc = api.rest("GET", "/api/v1/openapi.json", None, 200);
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let mut operations: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("operations").keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                operations.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    assert!(operations.len() >= 28, "{operations:?}");

    unauthenticated(&api);
    let commands = list_commands(&api);
    server_commands(&api, tern.pid());
    lease4_commands(&api);
    lease6_commands(&api);
    reservation_commands(&api);
    reservation6_commands(&api);
    subnet_commands(&api);
    rest_reservations(&api);
    rest_leases_and_ddns_queue(&api);
    metrics(&api);
    // After /metrics: statistic-reset-all zeroes every statistic, the pool sizes too (as
    // Kea's does).
    statistic_commands(&api);
    powerdns(&api, &s.named);
    config_commands(&api, &s);

    // Every command list-commands named was sent (shutdown follows).
    let sent = api.commands.borrow().clone();
    let missing: Vec<&String> = commands
        .iter()
        .filter(|c| *c != "shutdown" && !sent.contains(*c))
        .collect();
    assert!(missing.is_empty(), "commands not covered: {missing:?}");
    // Every operation of the OpenAPI document was called.
    let mut called = BTreeSet::new();
    for (m, p) in api.calls.borrow().iter() {
        if let Some(t) = template_of(&operations, m, p) {
            called.insert(t.clone());
        }
    }
    let uncovered: Vec<&(String, String)> =
        operations.iter().filter(|o| !called.contains(*o)).collect();
    assert!(uncovered.is_empty(), "operations not called: {uncovered:?}");

    // shutdown, last: answered, then tern exits 0.
    assert!(commands.iter().any(|c| c == "shutdown"), "{commands:?}");
    let a = api.expect(json!({"command": "shutdown"}), 0);
    assert_eq!(a["text"], "Shutting down.");
    let status = tern.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{status}; log:\n{}", tern.log());
    // Stopped in the usual order, as on SIGTERM: the API, DHCPv4, d2, then the store.
    let log = tern.log();
    let mut from = 0;
    for id in [
        "API_SHUTDOWN",
        "API_STOPPED",
        "DHCP4_SHUTDOWN",
        "DHCP_DDNS_QUEUE_MGR_STOPPED",
        "TERN_SHUTDOWN",
        "STORE_EMBEDDED_STOPPED",
        "TERN_STOPPED",
    ] {
        from += log[from..]
            .find(id)
            .unwrap_or_else(|| panic!("no {id} after the shutdown command:\n{log}"));
    }
    eprintln!(
        "api_http: {} commands and {} operations over HTTP in {:?}",
        commands.len(),
        operations.len(),
        started.elapsed()
    );
}

/// Without credentials (or with a wrong key): 401, Kea's body on the command channel.
fn unauthenticated(api: &Client) {
    let doc = json!({"command": "list-commands"}).to_string();
    let r = api.request("POST", "/", Auth::None, Some(&doc));
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json(), json!({"result": 401, "text": "Unauthorized"}));
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Basic realm=\"tern-test\""),
        "{}",
        r.headers
    );
    let r = api.request("POST", "/", Auth::WrongKey, Some(&doc));
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["result"], 401);
    let r = api.request("GET", "/api/v1/leases", Auth::None, None);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["error"], "unauthorized", "{}", r.body);
    let r = api.request(
        "GET",
        "/api/v1/servers/localhost/zones",
        Auth::WrongKey,
        None,
    );
    assert_eq!(r.status, 401, "{}", r.body);
    // The right key and the right password both get in.
    api.rest_as(Auth::Key, "GET", "/api/v1/leases", None, 200);
    api.rest_as(Auth::Basic, "GET", "/api/v1/leases", None, 200);
}

fn list_commands(api: &Client) -> Vec<String> {
    let a = api.expect(json!({"command": "list-commands"}), 0);
    let list: Vec<String> = a["arguments"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c.as_str().expect("name").to_string())
        .collect();
    // With the HA hook configured and the engines restartable, all of them.
    for c in [
        "ha-heartbeat",
        "config-set",
        "config-reload",
        "lease4-add",
        "shutdown",
    ] {
        assert!(list.iter().any(|l| l == c), "{c} missing: {list:?}");
    }
    list
}

fn server_commands(api: &Client, pid: u32) {
    let v = api.expect(json!({"command": "version-get"}), 0);
    assert_eq!(v["text"], env!("CARGO_PKG_VERSION"));
    assert!(
        v["arguments"]["extended"]
            .as_str()
            .unwrap()
            .starts_with(&format!("tern {}", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    let b = api.expect(json!({"command": "build-report"}), 0);
    let text = b["text"].as_str().unwrap();
    assert!(
        text.starts_with("tern ") && text.contains("PostgreSQL"),
        "{b}"
    );
    let st = api.expect(json!({"command": "status-get"}), 0);
    assert_eq!(st["arguments"]["pid"], pid, "{st}");
    assert_eq!(st["arguments"]["sockets"]["status"], "ready");
    assert!(st["arguments"]["uptime"].as_u64().is_some(), "{st}");
    let hb = api.expect(json!({"command": "ha-heartbeat", "service": ["dhcp4"]}), 0);
    assert_eq!(hb["text"], "HA peer status returned.");
    assert_eq!(hb["arguments"]["state"], "hot-standby");
    assert_eq!(hb["arguments"]["unsent-update-count"], 0);
    // d2 has no HA: as Kea's d2 answers.
    let d2 = api.expect(json!({"command": "ha-heartbeat", "service": ["d2"]}), 2);
    assert_eq!(d2["text"], "'ha-heartbeat' command not supported.");
    // Two services named: one answer each, in order (dhcp6 has no lease4 commands).
    let r = api.request(
        "POST",
        "/",
        Auth::Key,
        Some(r#"{"command": "lease4-get-all", "service": ["dhcp4", "dhcp6"]}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let both = r.json();
    assert_eq!(both.as_array().map(Vec::len), Some(2), "{both}");
    assert_eq!(both[0]["result"], 3, "{both}");
    assert_eq!(both[1]["result"], 2, "{both}");
    // Not JSON: Kea's 400.
    let r = api.request("POST", "/", Auth::Basic, Some("{nope"));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["result"], 400, "{}", r.body);
    // A service tern does not have.
    let other = api.expect(json!({"command": "version-get", "service": ["ca"]}), 1);
    assert!(
        other["text"].as_str().unwrap().contains("server type ca"),
        "{other}"
    );
}

fn lease4_commands(api: &Client) {
    for (ip, hw, cid, host) in [
        (
            "192.0.2.10",
            "0a:00:00:00:00:10",
            "01:0a:10",
            "host10.example.com",
        ),
        (
            "192.0.2.11",
            "0a:00:00:00:00:11",
            "01:0a:11",
            "host11.example.com",
        ),
    ] {
        let a = api.expect(
            json!({"command": "lease4-add", "service": ["dhcp4"], "arguments": {
                "ip-address": ip, "hw-address": hw, "client-id": cid, "hostname": host,
                "subnet-id": 1, "valid-lft": 1800, "expire": 2000001800_i64}}),
            0,
        );
        assert_eq!(
            a["text"],
            format!("Lease for address {ip}, subnet-id 1 added.")
        );
    }
    let dup = api.expect(
        json!({"command": "lease4-add", "arguments": {"ip-address": "192.0.2.10", "hw-address": "0a:ff:00:00:00:10"}}),
        1,
    );
    assert_eq!(dup["text"], "IPv4 lease already exists.");
    let outside = api.expect(
        json!({"command": "lease4-add", "arguments": {"ip-address": "203.0.113.9", "hw-address": "0a:ff:00:00:00:10", "subnet-id": 1}}),
        1,
    );
    assert!(
        outside["text"]
            .as_str()
            .unwrap()
            .contains("does not belong to subnet 192.0.2.0/24"),
        "{outside}"
    );

    let got = api.expect(
        json!({"command": "lease4-get", "arguments": {"ip-address": "192.0.2.10"}}),
        0,
    );
    assert_eq!(got["text"], "IPv4 lease found.");
    let l = &got["arguments"];
    assert_eq!(l["hw-address"], "0a:00:00:00:00:10");
    assert_eq!(l["client-id"], "01:0a:10");
    assert_eq!(l["hostname"], "host10.example.com");
    assert_eq!(l["valid-lft"], 1800);
    assert_eq!(l["cltt"], 2000000000_i64);
    assert_eq!(l["subnet-id"], 1);
    let by_id = api.expect(
        json!({"command": "lease4-get", "arguments": {"identifier-type": "hw-address", "identifier": "0a:00:00:00:00:11", "subnet-id": 1}}),
        0,
    );
    assert_eq!(by_id["arguments"]["ip-address"], "192.0.2.11");
    let none = api.expect(
        json!({"command": "lease4-get", "arguments": {"ip-address": "192.0.2.99"}}),
        3,
    );
    assert_eq!(none["text"], "Lease not found.");

    let all = api.expect(
        json!({"command": "lease4-get-all", "arguments": {"subnets": [1]}}),
        0,
    );
    assert_eq!(all["text"], "2 IPv4 lease(s) found.");
    let empty = api.expect(
        json!({"command": "lease4-get-all", "arguments": {"subnets": [2]}}),
        3,
    );
    assert_eq!(empty["arguments"]["leases"], json!([]));
    let page = api.expect(
        json!({"command": "lease4-get-page", "arguments": {"from": "start", "limit": 1}}),
        0,
    );
    assert_eq!(page["arguments"]["count"], 1);
    assert_eq!(page["arguments"]["leases"][0]["ip-address"], "192.0.2.10");
    let page2 = api.expect(
        json!({"command": "lease4-get-page", "arguments": {"from": "192.0.2.10", "limit": 5}}),
        0,
    );
    assert_eq!(page2["arguments"]["count"], 1);
    assert_eq!(page2["arguments"]["leases"][0]["ip-address"], "192.0.2.11");
    let bad_page = api.expect(
        json!({"command": "lease4-get-page", "arguments": {"from": "start", "limit": 0}}),
        1,
    );
    assert_eq!(
        bad_page["text"],
        "page size of the retrieved leases must not be 0"
    );
    let by_hw = api.expect(
        json!({"command": "lease4-get-by-hw-address", "arguments": {"hw-address": "0a:00:00:00:00:11"}}),
        0,
    );
    assert_eq!(by_hw["text"], "1 IPv4 lease(s) found.");
    assert_eq!(by_hw["arguments"]["leases"][0]["ip-address"], "192.0.2.11");
    let by_cid = api.expect(
        json!({"command": "lease4-get-by-client-id", "arguments": {"client-id": "01:0a:10"}}),
        0,
    );
    assert_eq!(by_cid["arguments"]["leases"][0]["ip-address"], "192.0.2.10");
    let by_host = api.expect(
        json!({"command": "lease4-get-by-hostname", "arguments": {"hostname": "HOST11.example.com"}}),
        0,
    );
    assert_eq!(
        by_host["arguments"]["leases"][0]["ip-address"],
        "192.0.2.11"
    );
    api.expect(
        json!({"command": "lease4-get-by-hostname", "arguments": {"hostname": "nobody.example.com"}}),
        3,
    );

    let upd = api.expect(
        json!({"command": "lease4-update", "arguments": {"ip-address": "192.0.2.10", "hw-address": "0a:00:00:00:00:10", "hostname": "renamed.example.com", "subnet-id": 1}}),
        0,
    );
    assert_eq!(upd["text"], "IPv4 lease updated.");
    let got = api.expect(
        json!({"command": "lease4-get", "arguments": {"ip-address": "192.0.2.10"}}),
        0,
    );
    assert_eq!(got["arguments"]["hostname"], "renamed.example.com");
    let upd_missing = api.expect(
        json!({"command": "lease4-update", "arguments": {"ip-address": "192.0.2.12", "hw-address": "0a:00:00:00:00:12", "subnet-id": 1}}),
        1,
    );
    assert!(
        upd_missing["text"]
            .as_str()
            .unwrap()
            .contains("no such lease"),
        "{upd_missing}"
    );

    let del = api.expect(
        json!({"command": "lease4-del", "arguments": {"ip-address": "192.0.2.11"}}),
        0,
    );
    assert_eq!(del["text"], "IPv4 lease deleted.");
    let again = api.expect(
        json!({"command": "lease4-del", "arguments": {"ip-address": "192.0.2.11"}}),
        3,
    );
    assert_eq!(again["text"], "IPv4 lease not found.");
    // update-ddns: the lease's DNS removal is queued (as Kea's lease4-del does).
    let before = api.rest("GET", "/api/v1/ddns/ncrs?ip-address=192.0.2.10", None, 200);
    assert_eq!(before["items"], json!([]));
    api.expect(
        json!({"command": "lease4-add", "arguments": {"ip-address": "192.0.2.12",
            "hw-address": "0a:00:00:00:00:12", "hostname": "host12.example.com",
            "fqdn-fwd": true, "fqdn-rev": true, "subnet-id": 1}}),
        0,
    );
    api.expect(
        json!({"command": "lease4-del", "arguments": {"ip-address": "192.0.2.12", "update-ddns": true}}),
        0,
    );
    let queued = api.rest("GET", "/api/v1/ddns/ncrs?ip-address=192.0.2.12", None, 200);
    assert_eq!(
        queued["items"].as_array().map(Vec::len),
        Some(1),
        "{queued}"
    );
    assert_eq!(queued["items"][0]["fqdn"], "host12.example.com.");
    assert_eq!(queued["items"][0]["change-type"], "remove");
    let wipe = api.expect(
        json!({"command": "lease4-wipe", "arguments": {"subnet-id": 1}}),
        0,
    );
    assert_eq!(wipe["text"], "Deleted 1 IPv4 lease(s) from subnet(s) 1");
    api.expect(json!({"command": "lease4-get-all"}), 3);
    // The v4 daemon has no lease6 commands, as Kea's.
    let v6 = api.expect(
        json!({"command": "lease6-get-all", "service": ["dhcp4"]}),
        2,
    );
    assert_eq!(v6["text"], "'lease6-get-all' command not supported.");
}

fn lease6_commands(api: &Client) {
    let a = api.expect(
        json!({"command": "lease6-add", "service": ["dhcp6"], "arguments": {
            "subnet-id": 66, "ip-address": "2001:db8::3", "duid": "1a:1b:1c:1d:1e:1f:20:21",
            "iaid": 1234, "hostname": "v6.example.com", "valid-lft": 4000,
            "preferred-lft": 3000, "expire": 2000004000_i64}}),
        0,
    );
    assert_eq!(
        a["text"],
        "Lease for address 2001:db8::3, subnet-id 66 added."
    );
    let pd = api.expect(
        json!({"command": "lease6-add", "arguments": {"subnet-id": 66, "type": "IA_PD",
            "ip-address": "2001:db8:1::", "prefix-len": 48, "duid": "01:02:03", "iaid": 1}}),
        0,
    );
    assert_eq!(
        pd["text"],
        "Lease for prefix 2001:db8:1::/48, subnet-id 66 added."
    );
    let dup = api.expect(
        json!({"command": "lease6-add", "arguments": {"subnet-id": 66, "ip-address": "2001:db8::3", "duid": "01:02:03", "iaid": 1}}),
        1,
    );
    assert_eq!(dup["text"], "IPv6 lease already exists.");

    let got = api.expect(
        json!({"command": "lease6-get", "arguments": {"ip-address": "2001:db8::3"}}),
        0,
    );
    assert_eq!(got["text"], "IPv6 lease found.");
    let l = &got["arguments"];
    assert_eq!(l["duid"], "1a:1b:1c:1d:1e:1f:20:21");
    assert_eq!(l["iaid"], 1234);
    assert_eq!(l["type"], "IA_NA");
    assert_eq!(l["preferred-lft"], 3000);
    assert_eq!(l["subnet-id"], 66);
    let by_id = api.expect(
        json!({"command": "lease6-get", "arguments": {"identifier-type": "duid", "identifier": "01:02:03", "iaid": 1, "subnet-id": 66, "type": "IA_PD"}}),
        0,
    );
    assert_eq!(by_id["arguments"]["prefix-len"], 48);
    let all = api.expect(
        json!({"command": "lease6-get-all", "arguments": {"subnets": [66]}}),
        0,
    );
    assert_eq!(all["text"], "2 IPv6 lease(s) found.");
    let page = api.expect(
        json!({"command": "lease6-get-page", "arguments": {"from": "start", "limit": 1}}),
        0,
    );
    assert_eq!(page["arguments"]["leases"][0]["ip-address"], "2001:db8::3");
    let page2 = api.expect(
        json!({"command": "lease6-get-page", "arguments": {"from": "2001:db8::3", "limit": 1}}),
        0,
    );
    assert_eq!(
        page2["arguments"]["leases"][0]["ip-address"],
        "2001:db8:1::"
    );
    let by_duid = api.expect(
        json!({"command": "lease6-get-by-duid", "arguments": {"duid": "01:02:03"}}),
        0,
    );
    assert_eq!(by_duid["text"], "1 IPv6 lease(s) found.");
    let by_host = api.expect(
        json!({"command": "lease6-get-by-hostname", "arguments": {"hostname": "V6.example.com"}}),
        0,
    );
    assert_eq!(by_host["arguments"]["leases"][0]["iaid"], 1234);
    let upd = api.expect(
        json!({"command": "lease6-update", "arguments": {"subnet-id": 66, "ip-address": "2001:db8::3", "duid": "01:02:03", "iaid": 7, "hostname": "new.example.com"}}),
        0,
    );
    assert_eq!(upd["text"], "IPv6 lease updated.");
    let got = api.expect(
        json!({"command": "lease6-get", "arguments": {"ip-address": "2001:db8::3"}}),
        0,
    );
    assert_eq!(got["arguments"]["hostname"], "new.example.com");
    assert_eq!(got["arguments"]["iaid"], 7);
    let del = api.expect(
        json!({"command": "lease6-del", "arguments": {"ip-address": "2001:db8::3"}}),
        0,
    );
    assert_eq!(del["text"], "IPv6 lease deleted.");
    api.expect(
        json!({"command": "lease6-del", "arguments": {"ip-address": "2001:db8::3"}}),
        3,
    );
    let wipe = api.expect(
        json!({"command": "lease6-wipe", "arguments": {"subnet-id": 66}}),
        0,
    );
    assert_eq!(wipe["text"], "Deleted 1 IPv6 lease(s) from subnet(s) 66");
    api.expect(
        json!({"command": "lease6-get-all", "arguments": {"subnets": [66]}}),
        3,
    );
}

fn reservation_commands(api: &Client) {
    let add = api.expect(
        json!({"command": "reservation-add", "service": ["dhcp4"], "arguments": {"reservation": {
            "subnet-id": 1, "hw-address": "1a:1b:1c:1d:1e:1f", "ip-address": "192.0.2.50",
            "hostname": "printer.example.com"}}}),
        0,
    );
    assert_eq!(add["text"], "Host added.");
    let taken = api.expect(
        json!({"command": "reservation-add", "arguments": {"reservation": {
            "subnet-id": 1, "hw-address": "1a:1b:1c:1d:1e:20", "ip-address": "192.0.2.50"}}}),
        1,
    );
    assert!(
        taken["text"]
            .as_str()
            .unwrap()
            .contains("192.0.2.50 is already reserved in subnet 1"),
        "{taken}"
    );
    let got = api.expect(
        json!({"command": "reservation-get", "arguments": {"subnet-id": 1, "ip-address": "192.0.2.50"}}),
        0,
    );
    assert_eq!(got["text"], "Host found.");
    assert_eq!(got["arguments"]["hw-address"], "1a:1b:1c:1d:1e:1f");
    assert_eq!(got["arguments"]["hostname"], "printer.example.com");
    assert_eq!(got["arguments"]["subnet-id"], 1);
    let all = api.expect(
        json!({"command": "reservation-get-all", "arguments": {"subnet-id": 1}}),
        0,
    );
    assert_eq!(all["text"], "1 IPv4 host(s) found.");
    api.expect(
        json!({"command": "reservation-get-all", "arguments": {"subnet-id": 2}}),
        3,
    );
    let page = api.expect(
        json!({"command": "reservation-get-page", "arguments": {"limit": 10}}),
        0,
    );
    assert_eq!(page["arguments"]["count"], 1);
    let next = page["arguments"]["next"]["from"].as_i64().expect("next");
    api.expect(
        json!({"command": "reservation-get-page", "arguments": {"limit": 10, "from": next}}),
        3,
    );
    let by_name = api.expect(
        json!({"command": "reservation-get-by-hostname", "arguments": {"hostname": "printer.example.com"}}),
        0,
    );
    assert_eq!(by_name["arguments"]["hosts"][0]["ip-address"], "192.0.2.50");
    let by_id = api.expect(
        json!({"command": "reservation-get-by-id", "arguments": {"identifier-type": "hw-address", "identifier": "1a:1b:1c:1d:1e:1f"}}),
        0,
    );
    assert_eq!(by_id["arguments"]["hosts"][0]["subnet-id"], 1);
    let upd = api.expect(
        json!({"command": "reservation-update", "arguments": {"reservation": {
            "subnet-id": 1, "hw-address": "1a:1b:1c:1d:1e:1f", "ip-address": "192.0.2.51",
            "hostname": "printer2.example.com"}}}),
        0,
    );
    assert_eq!(upd["text"], "Host updated.");
    let got = api.expect(
        json!({"command": "reservation-get", "arguments": {"subnet-id": 1, "identifier-type": "hw-address", "identifier": "1a:1b:1c:1d:1e:1f"}}),
        0,
    );
    assert_eq!(got["arguments"]["ip-address"], "192.0.2.51");
    assert_eq!(got["arguments"]["hostname"], "printer2.example.com");
    let upd_missing = api.expect(
        json!({"command": "reservation-update", "arguments": {"reservation": {
            "subnet-id": 1, "hw-address": "1a:1b:1c:1d:1e:99", "ip-address": "192.0.2.52"}}}),
        1,
    );
    assert_eq!(upd_missing["text"], "Host not updated (not found).");
    let del = api.expect(
        json!({"command": "reservation-del", "arguments": {"subnet-id": 1, "ip-address": "192.0.2.51"}}),
        0,
    );
    assert_eq!(del["text"], "Host deleted.");
    let del = api.expect(
        json!({"command": "reservation-del", "arguments": {"subnet-id": 1, "ip-address": "192.0.2.51"}}),
        3,
    );
    assert_eq!(del["text"], "Host not deleted (not found).");
    let none = api.expect(
        json!({"command": "reservation-get", "arguments": {"subnet-id": 1, "ip-address": "192.0.2.51"}}),
        3,
    );
    assert_eq!(none["text"], "Host not found.");
}

/// The DHCPv6 side of host_cmds (the reservation has IPv6 parts, or dhcp6 is named).
fn reservation6_commands(api: &Client) {
    let add = api.expect(
        json!({"command": "reservation-add", "service": ["dhcp6"], "arguments": {"reservation": {
            "subnet-id": 66, "duid": "01:02:03:04:05:06", "ip-addresses": ["2001:db8::cafe"],
            "prefixes": ["2001:db8:8::/56"], "hostname": "v6host.example.com"}}}),
        0,
    );
    assert_eq!(add["text"], "Host added.");
    let got = api.expect(
        json!({"command": "reservation-get", "service": ["dhcp6"], "arguments": {"subnet-id": 66, "ip-address": "2001:db8::cafe"}}),
        0,
    );
    assert_eq!(got["arguments"]["duid"], "01:02:03:04:05:06");
    assert_eq!(got["arguments"]["prefixes"], json!(["2001:db8:8::/56"]));
    let all = api.expect(
        json!({"command": "reservation-get-all", "service": ["dhcp6"], "arguments": {"subnet-id": 66}}),
        0,
    );
    assert_eq!(all["text"], "1 IPv6 host(s) found.");
    // dhcp4 does not see it.
    api.expect(
        json!({"command": "reservation-get-all", "service": ["dhcp4"], "arguments": {"subnet-id": 66}}),
        3,
    );
    let by_id = api.expect(
        json!({"command": "reservation-get-by-id", "service": ["dhcp6"], "arguments": {"identifier-type": "duid", "identifier": "01:02:03:04:05:06"}}),
        0,
    );
    assert_eq!(
        by_id["arguments"]["hosts"][0]["hostname"],
        "v6host.example.com"
    );
    let del = api.expect(
        json!({"command": "reservation-del", "service": ["dhcp6"], "arguments": {"subnet-id": 66, "identifier-type": "duid", "identifier": "01:02:03:04:05:06"}}),
        0,
    );
    assert_eq!(del["text"], "Host deleted.");
    api.expect(
        json!({"command": "reservation-get", "service": ["dhcp6"], "arguments": {"subnet-id": 66, "ip-address": "2001:db8::cafe"}}),
        3,
    );
}

fn statistic_commands(api: &Client) {
    let all = api.expect(json!({"command": "statistic-get-all"}), 0);
    let stats = all["arguments"].as_object().expect("map");
    for name in ["pkt4-received", "subnet[1].total-addresses", "ncr-received"] {
        assert!(stats.contains_key(name), "{name} missing: {all}");
    }
    let total = api.expect(
        json!({"command": "statistic-get", "arguments": {"name": "subnet[1].total-addresses"}}),
        0,
    );
    assert_eq!(
        total["arguments"]["subnet[1].total-addresses"][0][0], 100,
        "the pool of 100 addresses: {total}"
    );
    let unknown = api.expect(
        json!({"command": "statistic-get", "arguments": {"name": "no-such-statistic"}}),
        0,
    );
    assert_eq!(unknown["arguments"], json!({}));
    let reset = api.expect(
        json!({"command": "statistic-reset", "arguments": {"name": "pkt4-received"}}),
        0,
    );
    assert_eq!(reset["text"], "Statistic 'pkt4-received' reset.");
    let got = api.expect(
        json!({"command": "statistic-get", "arguments": {"name": "pkt4-received"}}),
        0,
    );
    assert_eq!(got["arguments"]["pkt4-received"][0][0], 0, "{got}");
    let missing = api.expect(
        json!({"command": "statistic-reset", "arguments": {"name": "no-such-statistic"}}),
        1,
    );
    assert_eq!(missing["text"], "No 'no-such-statistic' statistic found");
    let all = api.expect(json!({"command": "statistic-reset-all"}), 0);
    assert_eq!(all["text"], "All statistics reset to neutral values.");
}

fn subnet_commands(api: &Client) {
    let list = api.expect(json!({"command": "subnet4-list", "service": ["dhcp4"]}), 0);
    assert_eq!(list["text"], "2 IPv4 subnets found");
    assert_eq!(
        list["arguments"]["subnets"],
        json!([{"id": 1, "subnet": "192.0.2.0/24"}, {"id": 2, "subnet": "198.51.100.0/24"}])
    );
    let one = api.expect(json!({"command": "subnet4-get", "arguments": {"id": 1}}), 0);
    assert_eq!(
        one["text"],
        "Info about IPv4 subnet 192.0.2.0/24 (id 1) returned"
    );
    assert_eq!(
        one["arguments"]["subnet4"][0]["pools"][0]["pool"],
        "192.0.2.100 - 192.0.2.199"
    );
    let by_prefix = api.expect(
        json!({"command": "subnet4-get", "arguments": {"subnet": "198.51.100.0/24"}}),
        0,
    );
    assert_eq!(by_prefix["arguments"]["subnet4"][0]["id"], 2);
    let none = api.expect(
        json!({"command": "subnet4-get", "arguments": {"id": 99}}),
        3,
    );
    assert_eq!(none["text"], "No subnet with id 99 found");
    let list6 = api.expect(json!({"command": "subnet6-list", "service": ["dhcp6"]}), 0);
    assert_eq!(
        list6["arguments"]["subnets"],
        json!([{"id": 66, "subnet": "2001:db8::/64"}])
    );
    let one6 = api.expect(
        json!({"command": "subnet6-get", "arguments": {"subnet": "2001:db8::/64"}}),
        0,
    );
    assert_eq!(one6["arguments"]["subnet6"][0]["id"], 66);
    api.expect(json!({"command": "subnet6-get", "arguments": {"id": 1}}), 3);
}

fn rest_reservations(api: &Client) {
    let r = api.request(
        "POST",
        "/api/v1/reservations",
        Auth::Basic,
        Some(
            &json!({"subnet-id": 1, "hw-address": "08:00:27:f2:5c:e2", "ip-address": "192.0.2.60",
                "hostname": "jenkins.example.com"})
            .to_string(),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    let id = created["id"].as_i64().expect("id");
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/reservations/{id}"))
    );
    assert_eq!(created["ip-address"], "192.0.2.60");
    let by_cid = api.rest(
        "POST",
        "/api/v1/reservations",
        Some(json!({"subnet-id": 2, "client-id": "01:aa:bb:cc", "ip-address": "198.51.100.60"})),
        201,
    );
    let cid_id = by_cid["id"].as_i64().unwrap();

    let got = api.rest("GET", &format!("/api/v1/reservations/{id}"), None, 200);
    assert_eq!(got["hostname"], "jenkins.example.com");
    assert_eq!(got["hw-address"], "08:00:27:f2:5c:e2");
    let nf = api.rest("GET", "/api/v1/reservations/999999", None, 404);
    assert_eq!(nf["error"], "not-found");
    assert_eq!(nf["message"], "no reservation 999999");
    api.bad_request("GET", "/api/v1/reservations/abc", None, "id");
    // The same address again: 409.
    let c = api.rest(
        "POST",
        "/api/v1/reservations",
        Some(
            json!({"subnet-id": 1, "hw-address": "08:00:27:f2:5c:e3", "ip-address": "192.0.2.60"}),
        ),
        409,
    );
    assert_eq!(c["error"], "conflict");
    assert_eq!(
        c["message"],
        "address 192.0.2.60 is already reserved in subnet 1"
    );
    api.bad_request(
        "POST",
        "/api/v1/reservations",
        Some(r#"{"subnet-id": 1, "hw-address": "zz", "ip-address": "192.0.2.61"}"#),
        "hw-address",
    );
    api.bad_request("POST", "/api/v1/reservations", Some("{not json"), "body");
    // As Kea's host_cmds: the subnet must be configured and hold the address.
    let v = api.bad_request(
        "POST",
        "/api/v1/reservations",
        Some(r#"{"subnet-id": 99, "hw-address": "08:00:27:f2:5c:e4", "ip-address": "192.0.2.61"}"#),
        "subnet-id",
    );
    assert_eq!(
        v["message"],
        "subnet-id: IPv4 subnet with ID of '99' is not configured"
    );
    let v = api.bad_request(
        "POST",
        "/api/v1/reservations",
        Some(r#"{"subnet-id": 2, "hw-address": "08:00:27:f2:5c:e4", "ip-address": "192.0.2.74"}"#),
        "ip-address",
    );
    assert_eq!(
        v["message"],
        "ip-address: specified reservation '192.0.2.74' is not matching the IPv4 subnet prefix \
         '198.51.100.0/24'"
    );
    let a = api.expect(
        json!({"command": "reservation-add", "arguments": {"reservation":
            {"subnet-id": 99, "hw-address": "08:00:27:f2:5c:e4", "ip-address": "192.0.2.61"}}}),
        1,
    );
    assert_eq!(
        a["text"],
        "'subnet-id': IPv4 subnet with ID of '99' is not configured"
    );
    // Nothing of the refused ones was written.
    let none = api.rest(
        "GET",
        "/api/v1/reservations/by-hw-address/08:00:27:f2:5c:e4",
        None,
        200,
    );
    assert_eq!(none["items"], json!([]), "{none}");

    let put = api.rest(
        "PUT",
        &format!("/api/v1/reservations/{id}"),
        Some(
            json!({"subnet-id": 1, "hw-address": "08:00:27:f2:5c:e2", "ip-address": "192.0.2.62",
            "hostname": "jenkins2.example.com"}),
        ),
        200,
    );
    assert_eq!(put["id"], id);
    assert_eq!(put["ip-address"], "192.0.2.62");
    assert_eq!(put["hostname"], "jenkins2.example.com");
    api.rest(
        "PUT",
        "/api/v1/reservations/999999",
        Some(
            json!({"subnet-id": 1, "hw-address": "08:00:27:f2:5c:e9", "ip-address": "192.0.2.63"}),
        ),
        404,
    );
    api.bad_request(
        "PUT",
        &format!("/api/v1/reservations/{id}"),
        Some(r#"{"id": 1234567, "subnet-id": 1, "hw-address": "08:00:27:f2:5c:e2", "ip-address": "192.0.2.62"}"#),
        "id",
    );

    let list = api.rest("GET", "/api/v1/reservations?subnet-id=1", None, 200);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["id"], id);
    let page = api.rest("GET", "/api/v1/reservations?limit=1", None, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["next"].as_i64().is_some(), "{page}");
    api.bad_request("GET", "/api/v1/reservations?colour=blue", None, "colour");
    api.bad_request("GET", "/api/v1/reservations?limit=0", None, "limit");
    let by_hw = api.rest(
        "GET",
        "/api/v1/reservations/by-hw-address/08:00:27:f2:5c:e2",
        None,
        200,
    );
    assert_eq!(by_hw["items"][0]["id"], id);
    api.bad_request(
        "GET",
        "/api/v1/reservations/by-hw-address/xyz",
        None,
        "hw-address",
    );
    let by_cid = api.rest(
        "GET",
        "/api/v1/reservations/by-client-id/01:aa:bb:cc",
        None,
        200,
    );
    assert_eq!(by_cid["items"][0]["id"], cid_id);
    assert_eq!(by_cid["items"][0]["client-id"], "01:aa:bb:cc");

    for del in [id, cid_id] {
        api.rest("DELETE", &format!("/api/v1/reservations/{del}"), None, 204);
        api.rest("GET", &format!("/api/v1/reservations/{del}"), None, 404);
    }
    api.rest("DELETE", &format!("/api/v1/reservations/{id}"), None, 404);
    let empty = api.rest("GET", "/api/v1/reservations", None, 200);
    assert_eq!(empty["items"], json!([]));
    // No route, and a method the route does not have.
    let nr = api.rest("GET", "/api/v1/nothing-here", None, 404);
    assert_eq!(nr["error"], "not-found");
    let r = api.request("PATCH", "/api/v1/reservations", Auth::Basic, Some("{}"));
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.json()["error"], "method-not-allowed");
    let r = api.request("GET", "/", Auth::Basic, None);
    assert_eq!(r.status, 405, "{}", r.body);
}

fn rest_leases_and_ddns_queue(api: &Client) {
    let r = api.request(
        "POST",
        "/api/v1/leases",
        Auth::Basic,
        Some(
            &json!({"ip-address": "192.0.2.20", "hw-address": "0a:00:00:00:00:20",
                "hostname": "rest20.example.com", "fqdn-fwd": true, "fqdn-rev": true,
                "subnet-id": 1, "valid-lft": 3600, "expire": 2000003600_i64})
            .to_string(),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/v1/leases/192.0.2.20")
    );
    let created = r.json();
    assert_eq!(created["hostname"], "rest20.example.com");
    assert_eq!(created["subnet-id"], 1);
    let c = api.rest(
        "POST",
        "/api/v1/leases",
        Some(json!({"ip-address": "192.0.2.20", "hw-address": "0a:00:00:00:00:21"})),
        409,
    );
    assert_eq!(c["error"], "conflict");
    api.bad_request(
        "POST",
        "/api/v1/leases",
        Some(r#"{"ip-address": "192.0.2.21"}"#),
        "hw-address",
    );

    let got = api.rest("GET", "/api/v1/leases/192.0.2.20", None, 200);
    assert_eq!(got["hw-address"], "0a:00:00:00:00:20");
    assert_eq!(got["fqdn-fwd"], true);
    let nf = api.rest("GET", "/api/v1/leases/192.0.2.99", None, 404);
    assert_eq!(nf["message"], "no lease for 192.0.2.99");
    api.bad_request("GET", "/api/v1/leases/not-an-ip", None, "ip-address");

    let put = api.rest(
        "PUT",
        "/api/v1/leases/192.0.2.20",
        Some(
            json!({"hw-address": "0a:00:00:00:00:20", "hostname": "rest20.example.com",
            "fqdn-fwd": true, "fqdn-rev": true, "subnet-id": 1, "valid-lft": 7200,
            "expire": 2000007200_i64}),
        ),
        200,
    );
    assert_eq!(put["valid-lft"], 7200);
    api.rest(
        "PUT",
        "/api/v1/leases/192.0.2.98",
        Some(json!({"hw-address": "0a:00:00:00:00:98", "subnet-id": 1})),
        404,
    );
    api.bad_request(
        "PUT",
        "/api/v1/leases/192.0.2.20",
        Some(r#"{"ip-address": "192.0.2.21", "hw-address": "0a:00:00:00:00:20"}"#),
        "ip-address",
    );

    let list = api.rest("GET", "/api/v1/leases?subnet-id=1", None, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["ip-address"], "192.0.2.20");
    let none = api.rest("GET", "/api/v1/leases?subnet-id=2", None, 200);
    assert_eq!(none["items"], json!([]));
    api.bad_request("GET", "/api/v1/leases?state=9", None, "state");
    api.rest(
        "POST",
        "/api/v1/leases",
        Some(
            json!({"ip-address": "192.0.2.21", "hw-address": "0a:00:00:00:00:21", "subnet-id": 1}),
        ),
        201,
    );
    let page = api.rest("GET", "/api/v1/leases?limit=1", None, 200);
    assert_eq!(page["items"][0]["ip-address"], "192.0.2.20");
    assert_eq!(page["next"], "192.0.2.20");
    let page = api.rest("GET", "/api/v1/leases?limit=1&after=192.0.2.20", None, 200);
    assert_eq!(page["items"][0]["ip-address"], "192.0.2.21");
    api.rest("DELETE", "/api/v1/leases/192.0.2.21", None, 204);
    let by_hw = api.rest(
        "GET",
        "/api/v1/leases/by-hw-address/0a:00:00:00:00:20",
        None,
        200,
    );
    assert_eq!(by_hw["items"][0]["ip-address"], "192.0.2.20");
    let by_name = api.rest(
        "GET",
        "/api/v1/leases/by-hostname/rest20.example.com",
        None,
        200,
    );
    assert_eq!(by_name["items"][0]["ip-address"], "192.0.2.20");

    // Deleting the lease queues the removal of its DNS entries.
    api.rest("DELETE", "/api/v1/leases/192.0.2.20", None, 204);
    api.rest("DELETE", "/api/v1/leases/192.0.2.20", None, 404);
    api.rest("GET", "/api/v1/leases/192.0.2.20", None, 404);

    let queue = api.rest(
        "GET",
        "/api/v1/ddns/ncrs?fqdn=rest20.example.com.",
        None,
        200,
    );
    let items = queue["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{queue}");
    let ncr = &items[0];
    assert_eq!(ncr["change-type"], "remove");
    assert_eq!(ncr["ip-address"], "192.0.2.20");
    assert_eq!(ncr["source"], "api", "{ncr}");
    let id = ncr["id"].as_i64().expect("id");
    let by_ip = api.rest("GET", "/api/v1/ddns/ncrs?ip-address=192.0.2.20", None, 200);
    assert_eq!(by_ip["items"][0]["id"], id);
    // d2 carries it to BIND: the row leaves pending and ends done (nothing to remove is
    // no conflict for a removal).
    let done = eventually("the NCR is finished", Duration::from_secs(30), || {
        let v = api.rest("GET", &format!("/api/v1/ddns/ncrs/{id}"), None, 200);
        (!["pending", "in_progress"].contains(&v["state"].as_str().unwrap_or(""))).then_some(v)
    });
    assert_eq!(done["fqdn"], "rest20.example.com.");
    assert_eq!(done["state"], "done", "{done}");
    assert!(done["finished-at"].is_string(), "{done}");
    let by_state = api.rest("GET", "/api/v1/ddns/ncrs?state=done", None, 200);
    assert!(
        by_state["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id),
        "{by_state}"
    );
    // Both queued removals (this one and lease4-del's) are finished: the queue as
    // /metrics must count it.
    let done_ids = eventually("every NCR finished", Duration::from_secs(30), || {
        let open = ["pending", "in_progress"].iter().any(|st| {
            let v = api.rest("GET", &format!("/api/v1/ddns/ncrs?state={st}"), None, 200);
            v["items"] != json!([])
        });
        let done = api.rest("GET", "/api/v1/ddns/ncrs?state=done", None, 200);
        (!open).then(|| done["items"].as_array().unwrap().len())
    });
    assert_eq!(done_ids, 2);
    // Paging: newest first, `before` the last id seen.
    let first = api.rest("GET", "/api/v1/ddns/ncrs?limit=1", None, 200);
    assert_eq!(first["items"][0]["id"], id, "the newest: {first}");
    let before = first["next"].as_i64().expect("next");
    let second = api.rest(
        "GET",
        &format!("/api/v1/ddns/ncrs?limit=1&before={before}"),
        None,
        200,
    );
    assert_eq!(
        second["items"][0]["fqdn"], "host12.example.com.",
        "{second}"
    );
    let nf = api.rest("GET", "/api/v1/ddns/ncrs/999999", None, 404);
    assert_eq!(nf["message"], "no queued request 999999");
    api.bad_request("GET", "/api/v1/ddns/ncrs/zero", None, "id");
    api.bad_request("GET", "/api/v1/ddns/ncrs?state=lost", None, "state");
    api.bad_request(
        "GET",
        "/api/v1/ddns/ncrs?ip-address=nope",
        None,
        "ip-address",
    );
}

fn metrics(api: &Client) {
    let r = api.request("GET", "/metrics", Auth::Key, None);
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{}",
        r.headers
    );
    let line = r
        .body
        .lines()
        .find(|l| {
            l.starts_with("tern_api_requests_total{")
                && l.contains("method=\"POST\"")
                && l.contains("code=\"201\"")
        })
        .unwrap_or_else(|| panic!("no POST 201 count:\n{}", r.body));
    let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 3.0, "{line}");
    assert!(
        r.body.contains("tern_ddns_queue{state=\"done\"} 2\n"),
        "{}",
        r.body
    );
    for line in [
        "tern_subnet_total_addresses{subnet=\"1\"} 100",
        "tern_subnet_utilization{subnet=\"1\"} 0",
    ] {
        assert!(r.body.lines().any(|l| l == line), "{line}:\n{}", r.body);
    }
}

fn powerdns(api: &Client, named: &bind::Named) {
    let key = |method: &str, path: &str, body: Option<Value>, status: u16| {
        api.rest_as(Auth::Key, method, path, body.map(|b| b.to_string()), status)
    };
    assert_eq!(
        key("GET", "/api", None, 200),
        json!([{"url": "/api/v1", "version": 1}])
    );
    let servers = key("GET", "/api/v1/servers", None, 200);
    assert_eq!(servers[0]["id"], "localhost");
    let server = key("GET", "/api/v1/servers/localhost", None, 200);
    assert_eq!(server["daemon_type"], "authoritative");
    assert!(
        server["version"]
            .as_str()
            .unwrap()
            .starts_with("4.9.0-tern-"),
        "{server}"
    );
    let nf = key("GET", "/api/v1/servers/other", None, 404);
    assert!(nf["error"].as_str().unwrap().contains("other"), "{nf}");

    let zones = key("GET", "/api/v1/servers/localhost/zones", None, 200);
    let ids: BTreeSet<&str> = zones
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["example.com.", "2.0.192.in-addr.arpa."])
    );
    let exists = key(
        "POST",
        "/api/v1/servers/localhost/zones",
        Some(json!({"name": "example.com.", "kind": "Native"})),
        409,
    );
    assert_eq!(exists["error"], "Domain 'example.com.' already exists");
    // A zone no DhcpDdns server holds becomes one of tern's own zone server.
    let own = key(
        "POST",
        "/api/v1/servers/localhost/zones",
        Some(json!({"name": "new.example.", "kind": "native"})),
        201,
    );
    assert_eq!(own["kind"], "Native", "{own}");
    assert!(own["serial"].as_u64().unwrap() > 0, "{own}");
    let empty = key(
        "POST",
        "/api/v1/servers/localhost/zones",
        Some(json!({"name": ""})),
        422,
    );
    assert!(empty["error"].as_str().unwrap().contains("''"), "{empty}");
    key(
        "DELETE",
        "/api/v1/servers/localhost/zones/new.example.",
        None,
        204,
    );
    key(
        "GET",
        "/api/v1/servers/localhost/zones/new.example.",
        None,
        404,
    );

    let zone = key(
        "GET",
        "/api/v1/servers/localhost/zones/example.com.",
        None,
        200,
    );
    assert_eq!(zone["name"], "example.com.");
    assert_eq!(zone["serial"], 1, "the zone file's serial");
    let rrsets = zone["rrsets"].as_array().unwrap();
    let static_a = rrsets
        .iter()
        .find(|r| r["name"] == "static.example.com." && r["type"] == "A")
        .unwrap_or_else(|| panic!("no static A: {zone}"));
    assert_eq!(static_a["records"][0]["content"], "192.0.2.200");
    key(
        "GET",
        "/api/v1/servers/localhost/zones/nosuch.example.",
        None,
        404,
    );

    // An A rrset in, as lego or external-dns would write it: BIND answers with it.
    key(
        "PATCH",
        "/api/v1/servers/localhost/zones/example.com.",
        Some(
            json!({"rrsets": [{"name": "www.example.com.", "type": "A", "ttl": 600,
            "changetype": "REPLACE", "records": [
                {"content": "192.0.2.80", "disabled": false},
                {"content": "192.0.2.81", "disabled": false}]}]}),
        ),
        204,
    );
    assert_eq!(
        named.dig("www.example.com", "A"),
        ["192.0.2.80", "192.0.2.81"]
    );
    let www = key(
        "GET",
        "/api/v1/servers/localhost/zones/example.com?rrset_name=www.example.com.&rrset_type=A",
        None,
        200,
    );
    assert_eq!(www["rrsets"].as_array().unwrap().len(), 1, "{www}");
    assert_eq!(www["rrsets"][0]["ttl"], 600);
    assert!(www["serial"].as_u64().unwrap() > 1, "{www}");
    // Bad input: not JSON 400, bad content 422 naming the record.
    let bad = api.rest_as(
        Auth::Key,
        "PATCH",
        "/api/v1/servers/localhost/zones/example.com.",
        Some("{nope".into()),
        400,
    );
    assert!(
        bad["error"].as_str().unwrap().starts_with("Invalid JSON"),
        "{bad}"
    );
    let bad = key(
        "PATCH",
        "/api/v1/servers/localhost/zones/example.com.",
        Some(
            json!({"rrsets": [{"name": "bad.example.com.", "type": "A", "ttl": 60,
            "changetype": "REPLACE", "records": [{"content": "300.1.1.1", "disabled": false}]}]}),
        ),
        422,
    );
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("bad.example.com./A '300.1.1.1'"),
        "{bad}"
    );
    // A CNAME beside other data: 409, nothing written.
    let c = key(
        "PATCH",
        "/api/v1/servers/localhost/zones/example.com.",
        Some(
            json!({"rrsets": [{"name": "www.example.com.", "type": "CNAME", "ttl": 60,
            "changetype": "REPLACE", "records": [{"content": "static.example.com.", "disabled": false}]}]}),
        ),
        409,
    );
    assert!(c["error"].as_str().unwrap().contains("CNAME"), "{c}");
    assert!(named.dig("www.example.com", "CNAME").is_empty());
    // DELETE changetype: gone from BIND.
    key(
        "PATCH",
        "/api/v1/servers/localhost/zones/example.com.",
        Some(
            json!({"rrsets": [{"name": "www.example.com.", "type": "A", "changetype": "DELETE"}]}),
        ),
        204,
    );
    assert!(named.dig("www.example.com", "A").is_empty());
    let zone = key(
        "GET",
        "/api/v1/servers/localhost/zones/example.com.",
        None,
        200,
    );
    assert!(
        !zone["rrsets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "www.example.com."),
        "{zone}"
    );

    let del = key(
        "DELETE",
        "/api/v1/servers/localhost/zones/example.com.",
        None,
        422,
    );
    assert!(
        del["error"]
            .as_str()
            .unwrap()
            .contains("tern cannot delete zone 'example.com.'"),
        "{del}"
    );
    key(
        "DELETE",
        "/api/v1/servers/localhost/zones/nosuch.example.",
        None,
        404,
    );
    let n = key(
        "PUT",
        "/api/v1/servers/localhost/zones/2.0.192.in-addr.arpa./notify",
        None,
        200,
    );
    assert_eq!(n, json!({"result": "Notification queued"}));
    key(
        "PUT",
        "/api/v1/servers/localhost/zones/nosuch.example./notify",
        None,
        404,
    );
}

/// config-get/-hash-get/-test/-write/-set/-reload; run last before shutdown, since they
/// restart the engines.
fn config_commands(api: &Client, s: &Setup) {
    let got = api.expect(json!({"command": "config-get"}), 0);
    let cfg = got["arguments"].clone();
    let hash = cfg["hash"].as_str().expect("hash").to_string();
    assert_eq!(hash.len(), 64, "{hash}");
    assert_eq!(cfg["Dhcp4"]["subnet4"].as_array().unwrap().len(), 2);
    assert_eq!(cfg["Api"]["port"], s.sections.api_port);
    let h = api.expect(json!({"command": "config-hash-get"}), 0);
    assert_eq!(h["arguments"]["hash"], hash);

    let sane = api.expect(
        json!({"command": "config-test", "arguments": {"Dhcp4": cfg["Dhcp4"].clone()}}),
        0,
    );
    assert!(
        sane["text"]
            .as_str()
            .unwrap()
            .starts_with("Configuration seems sane."),
        "{sane}"
    );
    let insane = api.expect(
        json!({"command": "config-test", "arguments": {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "no-such-keyword": 1}]}}}),
        1,
    );
    assert!(
        insane["text"].as_str().unwrap().contains("no-such-keyword"),
        "{insane}"
    );
    api.expect(json!({"command": "config-test"}), 1);

    // config-write: the running configuration into a file beside tern.json.
    let written = s.dir.path().join("written.json");
    let w = api.expect(
        json!({"command": "config-write", "arguments": {"filename": "written.json"}}),
        0,
    );
    assert_eq!(w["arguments"]["filename"], written.to_str().unwrap(), "{w}");
    let text = std::fs::read_to_string(&written).expect("written.json");
    assert_eq!(w["arguments"]["size"], text.len());
    let on_disk: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(on_disk["Dhcp4"]["subnet4"], cfg["Dhcp4"]["subnet4"]);
    let outside = api.expect(
        json!({"command": "config-write", "arguments": {"filename": "/etc/tern-api-http.json"}}),
        1,
    );
    assert!(
        outside["text"]
            .as_str()
            .unwrap()
            .starts_with("not allowed to write config"),
        "{outside}"
    );
    assert!(!Path::new("/etc/tern-api-http.json").exists());

    // config-set (as Kea's dhcp4 daemon takes it): one more subnet, applied at once.
    let mut dhcp4 = cfg["Dhcp4"].clone();
    dhcp4["subnet4"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": 3, "subnet": "203.0.113.0/24"}));
    let set = api.expect(
        json!({"command": "config-set", "service": ["dhcp4"], "arguments": {"Dhcp4": dhcp4}}),
        0,
    );
    assert_eq!(set["text"], "Configuration successful.");
    let new_hash = set["arguments"]["hash"].as_str().unwrap().to_string();
    assert_ne!(new_hash, hash);
    let got = api.expect(json!({"command": "config-get"}), 0);
    assert_eq!(got["arguments"]["hash"], new_hash);
    assert_eq!(got["arguments"]["Dhcp4"]["subnet4"][2]["id"], 3);
    let sub3 = api.expect(json!({"command": "subnet4-get", "arguments": {"id": 3}}), 0);
    assert_eq!(sub3["arguments"]["subnet4"][0]["subnet"], "203.0.113.0/24");
    // A lease in the new subnet is accepted (the API checks against the running config).
    api.expect(
        json!({"command": "lease4-add", "arguments": {"ip-address": "203.0.113.5", "hw-address": "0a:00:00:00:03:05"}}),
        0,
    );
    // A change to Api is refused as a whole; the running configuration stays.
    let refused = api.expect(
        json!({"command": "config-set", "arguments": {"Api": {"ip-address": "127.0.0.1", "port": 1}}}),
        1,
    );
    assert!(
        refused["text"].as_str().unwrap().contains("Api"),
        "{refused}"
    );
    let h = api.expect(json!({"command": "config-hash-get"}), 0);
    assert_eq!(h["arguments"]["hash"], new_hash);
    // Missing section for the daemon named.
    let m = api.expect(
        json!({"command": "config-set", "service": ["dhcp4"], "arguments": {"DhcpDdns": {}}}),
        1,
    );
    assert_eq!(m["text"], "Missing mandatory 'Dhcp4' parameter.");

    // config-reload: the file is read again (subnet 3 was only set, subnet 4 is in it now).
    std::fs::write(
        &s.config,
        s.sections
            .file(r#", { "id": 4, "subnet": "10.44.0.0/24" }"#),
    )
    .unwrap();
    let r = api.expect(json!({"command": "config-reload"}), 0);
    assert_eq!(r["text"], "Configuration successful.");
    let list = api.expect(json!({"command": "subnet4-list"}), 0);
    let ids: Vec<i64> = list["arguments"]["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 4], "{list}");
    api.expect(json!({"command": "subnet4-get", "arguments": {"id": 3}}), 3);
    // A file that cannot run is refused, the running configuration stays.
    std::fs::write(&s.config, "{ \"Dhcp4\": { \"subnet4\": [ { \"id\": ").unwrap();
    let bad = api.expect(json!({"command": "config-reload"}), 1);
    assert!(
        bad["text"]
            .as_str()
            .unwrap()
            .starts_with("Config reload failed: "),
        "{bad}"
    );
    api.expect(json!({"command": "subnet4-get", "arguments": {"id": 4}}), 0);
}
