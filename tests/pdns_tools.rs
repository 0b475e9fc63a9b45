//! The PowerDNS zones API of tern's own zones driven by the real tools, unmodified:
//! octodns (octodns-powerdns, octodns-bind), lego with pebble (DNS-01, by the PowerDNS API
//! and by RFC 2136), external-dns's pdns provider (its requests replayed as it sends them),
//! and tern's own CLI (`tern zone`, `tern record`). Every check ends in a DNS answer from
//! tern's zone server.
//!
//! The tools come from `scripts/setup-debian.sh test` (lego and pebble from Debian, octodns
//! in the venv `/opt/tern-tools/venv`, or `TERN_OCTODNS_VENV`); with `CI=true` a missing one
//! fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{self_signed_cert, tern_bin, Tern};
use serde_json::{json, Value};
use tern_store::testing::{fresh_db, TestDb};

const KEY: &str = "pdns-tools-key";
const TSIG_NAME: &str = "tools-key";
const TSIG_SECRET: &str = "iSi6Z2aXlX3AkoWCORnUCUHb80H0x14vI7PaCGL66Co=";
/// A second key, HMAC-SHA512. (Debian's lego 4.9.1 does not sign with HMAC-MD5: its miekg/dns
/// answers "dns: bad key algorithm" before sending.)
const SHA512_NAME: &str = "tools-sha512";
const SHA512_SECRET: &str = "c2hhNTEyLXNlY3JldC1mb3ItdGVybnMtdG9vbHMtdGVzdA==";

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A port free for both UDP and TCP on 127.0.0.1 (the zone server takes both).
fn free_dns_port() -> u16 {
    for _ in 0..50 {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for UDP and TCP");
}

/// A tool the test needs: its path, or (outside CI) `None` to skip.
fn tool(path: &str) -> Option<PathBuf> {
    let p = if path.contains('/') {
        PathBuf::from(path)
    } else {
        std::env::var_os("PATH")
            .map(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(path))
                    .find(|p| p.is_file())
            })
            .unwrap_or_default()
            .unwrap_or_default()
    };
    if p.is_file() {
        return Some(p);
    }
    tern_testkit::peer_missing(
        "pdns_tools",
        &format!("{path} not found (scripts/setup-debian.sh test installs it)"),
    );
    None
}

/// The octodns venv's bin directory.
fn octodns_bin() -> Option<PathBuf> {
    let venv = std::env::var("TERN_OCTODNS_VENV").unwrap_or("/opt/tern-tools/venv".into());
    tool(&format!("{venv}/bin/octodns-sync")).map(|p| p.parent().unwrap().to_path_buf())
}

/// One `tern serve` with the zone server on a free port and the API on another, on a
/// database of its own.
struct TernBox {
    tern: Tern,
    api: String,
    dns: u16,
    dir: tempfile::TempDir,
    _db: TestDb,
}

impl TernBox {
    /// `zones`: the `Dns` section's `zones` list (JSON text).
    async fn start(zones: &str) -> TernBox {
        let db = fresh_db().await;
        let dir = tempfile::tempdir().unwrap();
        let api_port = free_tcp_port();
        let dns = free_dns_port();
        let config = format!(
            r#"{{
              "Store": {{ "type": "postgresql", "host": "{host}", "port": {pgport}, "name": "{name}",
                         "user": "{user}", "password": "{password}" }},
              "Api": {{ "ip-address": "127.0.0.1", "port": {api_port},
                       "api-keys": [ {{ "name": "tools", "key": "{KEY}" }} ] }},
              "Dns": {{
                "listen-on": [ {{ "ip-address": "127.0.0.1", "port": {dns} }} ],
                "tsig-keys": [ {{ "name": "{TSIG_NAME}", "algorithm": "HMAC-SHA256", "secret": "{TSIG_SECRET}" }},
                                {{ "name": "{SHA512_NAME}", "algorithm": "HMAC-SHA512", "secret": "{SHA512_SECRET}" }} ],
                "zones": {zones}
              }}
            }}"#,
            host = db.host(),
            pgport = db.port(),
            name = db.name(),
            user = db.user(),
            password = db.password().unwrap_or(""),
        );
        let path = dir.path().join("tern.json");
        std::fs::write(&path, config).unwrap();
        let mut tern = Tern::start(
            &[
                "serve",
                "-c",
                path.to_str().unwrap(),
                "--data-dir",
                dir.path().join("data").to_str().unwrap(),
            ],
            &dir.path().join("tern.log"),
        );
        tern.wait_for("TERN_READY", Duration::from_secs(60));
        TernBox {
            tern,
            api: format!("http://127.0.0.1:{api_port}"),
            dns,
            dir,
            _db: db,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `dig +short` at tern's zone server: the answer's data, sorted.
    fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        let out = self.dig_raw(&["+short", name, rtype]);
        let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    }

    /// The RCODE of the answer.
    fn status(&self, name: &str, rtype: &str) -> String {
        let out = self.dig_raw(&["+noall", "+comments", name, rtype]);
        out.split("status: ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .unwrap_or_else(|| panic!("no status in dig's output: {out}"))
            .to_string()
    }

    /// Waits (2 s at most) until `dig` shows `want`: the zone server picks a commit up
    /// within milliseconds, not at once.
    #[track_caller]
    fn expect(&self, name: &str, rtype: &str, want: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let got = self.dig(name, rtype);
            if got == want {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{name} {rtype}: dig shows {got:?}, expected {want:?}; tern's log:\n{}",
                    self.tern.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn dig_raw(&self, args: &[&str]) -> String {
        let out = Command::new("dig")
            .args(["@127.0.0.1", "-p", &self.dns.to_string()])
            .args(["+norec", "+time=2", "+tries=1"])
            .args(args)
            .output()
            .expect("run dig");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// One HTTP request to the API as a tool sends it: (status, content type, body).
    fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, String, String) {
        let mut c = Command::new("curl");
        c.args(["-sS", "--max-time", "10", "-X", method]).args([
            "-o",
            "-",
            "-w",
            "\n%{http_code} %{content_type}",
        ]);
        for (k, v) in headers {
            c.args(["-H", &format!("{k}: {v}")]);
        }
        if let Some(b) = body {
            c.args(["--data-binary", &b.to_string()]);
        }
        c.arg(format!("{}{path}", self.api));
        let out = c.output().expect("run curl");
        assert!(out.status.success(), "curl: {}", text(&out.stderr));
        let all = text(&out.stdout);
        let (body, tail) = all.rsplit_once('\n').unwrap();
        let (code, ctype) = tail.split_once(' ').unwrap_or((tail, ""));
        (code.parse().unwrap(), ctype.to_string(), body.to_string())
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `cmd` to its end, `limit` at most (killed by PID after that).
fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // SAFETY: kill(2) on our own child's PID, not yet reaped (the waiter holds it).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            let out = rx.recv().expect("waiter").expect("wait");
            panic!(
                "{cmd:?} did not finish within {limit:?}:\n{}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        }
    }
}

/// A background process killed by PID when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------------------
// octodns

const OCTODNS_ZONE: &str = r#"---
'':
  - type: A
    values: [192.0.2.1, 192.0.2.2]
  - type: CAA
    value:
      flags: 0
      tag: issue
      value: letsencrypt.org
  - type: MX
    values:
      - exchange: mail.example.org.
        preference: 10
      - exchange: mx2.example.org.
        preference: 20
  - type: TXT
    values:
      - v=spf1 mx -all
      - key=value\; with semicolon
_sip._tcp:
  type: SRV
  value:
    port: 5060
    priority: 10
    target: sip.example.org.
    weight: 20
mail:
  type: A
  value: 192.0.2.25
web:
  - type: A
    value: 192.0.2.10
  - type: AAAA
    value: 2001:db8::10
www:
  ttl: 600
  type: CNAME
  value: web.example.org.
"#;

/// The octodns configuration: the YAML zone synced into `target` (`tern`, the PowerDNS
/// API; `rfc`, RFC 2136 to tern's zone server).
fn octodns_config(b: &TernBox, target: &str) -> String {
    format!(
        r#"---
providers:
  config:
    class: octodns.provider.yaml.YamlProvider
    directory: {dir}/octodns-zones
    default_ttl: 3600
    enforce_order: false
  tern:
    class: octodns_powerdns.PowerDnsProvider
    host: 127.0.0.1
    port: {api_port}
    api_key: {KEY}
    timeout: 10
    # PUT zones/<id>/notify after each change (a non-2xx fails the sync).
    notify: true
  axfr:
    class: octodns_bind.AxfrSource
    host: 127.0.0.1
    port: {dns}
    timeout: 10
    key_name: {TSIG_NAME}
    key_secret: {TSIG_SECRET}
    key_algorithm: hmac-sha256
  rfc:
    class: octodns_bind.Rfc2136Provider
    host: 127.0.0.1
    port: {dns}
    timeout: 10
    key_name: {TSIG_NAME}
    key_secret: {TSIG_SECRET}
    key_algorithm: hmac-sha256
zones:
  example.org.:
    sources: [config]
    targets: [{target}]
"#,
        dir = b.dir.path().display(),
        api_port = b.api.rsplit(':').next().unwrap(),
        dns = b.dns,
    )
}

fn octodns(bin: &Path, b: &TernBox, cmd: &str, args: &[&str]) -> Output {
    octodns_with(bin, b, "octodns.yaml", cmd, args)
}

fn octodns_with(bin: &Path, b: &TernBox, config: &str, cmd: &str, args: &[&str]) -> Output {
    let mut c = Command::new(bin.join(cmd));
    c.arg(format!("--config-file={}", b.path(config).display()))
        .args(args)
        .current_dir(b.dir.path());
    run_bounded(c, Duration::from_secs(60))
}

#[track_caller]
fn ok(out: &Output, what: &str) -> String {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{all}",
        out.status
    );
    all
}

/// octodns syncs a YAML zone into tern (the zone is created by POST on its 404), tern
/// answers every record, a second sync plans nothing, a changed record is synced and
/// answered, and the zone read back over TSIG-signed AXFR (octodns-bind) and over the API
/// equals the YAML.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn octodns_syncs_a_zone_and_the_second_sync_is_a_no_op() {
    let Some(bin) = octodns_bin() else { return };
    let zones = format!(
        r#"[ {{ "name": "example.org.", "allow-transfer": [ {{ "key": "{TSIG_NAME}" }} ],
             "allow-update": [ {{ "key": "{TSIG_NAME}", "grant": "zonesub", "types": [ "A" ] }} ] }} ]"#
    );
    let b = TernBox::start(&zones).await;
    std::fs::create_dir_all(b.path("octodns-zones")).unwrap();
    std::fs::write(b.path("octodns-zones/example.org.yaml"), OCTODNS_ZONE).unwrap();
    std::fs::write(b.path("octodns.yaml"), octodns_config(&b, "tern")).unwrap();
    std::fs::write(b.path("octodns-rfc.yaml"), octodns_config(&b, "rfc")).unwrap();

    let first = ok(
        &octodns(&bin, &b, "octodns-sync", &["--doit"]),
        "first sync",
    );
    assert!(first.contains("Create Zone<example.org.>"), "{first}");
    b.expect("example.org.", "A", &["192.0.2.1", "192.0.2.2"]);
    b.expect("example.org.", "CAA", &["0 issue \"letsencrypt.org\""]);
    b.expect(
        "example.org.",
        "MX",
        &["10 mail.example.org.", "20 mx2.example.org."],
    );
    b.expect(
        "example.org.",
        "TXT",
        &["\"key=value; with semicolon\"", "\"v=spf1 mx -all\""],
    );
    b.expect(
        "_sip._tcp.example.org.",
        "SRV",
        &["10 20 5060 sip.example.org."],
    );
    b.expect("web.example.org.", "AAAA", &["2001:db8::10"]);
    b.expect("www.example.org.", "A", &["192.0.2.10", "web.example.org."]);
    assert_eq!(b.status("nothing.example.org.", "A"), "NXDOMAIN");
    // octodns asks for kind "master" (its default mode_of_operation), soa_edit_api
    // "default": written back as PowerDNS spells them.
    let (code, _, body) = b.http(
        "GET",
        "/api/v1/servers/localhost/zones/example.org.?rrsets=false",
        &[("X-API-Key", KEY)],
        None,
    );
    assert_eq!(code, 200, "{body}");
    let zone: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&zone["kind"], &zone["soa_edit_api"]),
        (&json!("Master"), &json!("DEFAULT")),
        "{zone}"
    );

    let second = ok(
        &octodns(&bin, &b, "octodns-sync", &["--doit"]),
        "second sync",
    );
    assert!(second.contains("No changes were planned"), "{second}");

    // One record changed, and the apex NS RRset octodns did not manage so far added (a
    // zone transfer needs it: dnspython refuses a zone without one; octodns wants --force
    // for a change of the root NS).
    let changed = OCTODNS_ZONE
        .replace("value: 192.0.2.10", "value: 192.0.2.11")
        .replace(
            "'':\n",
            "'':\n  - type: NS\n    values: [ns1.example.org., ns2.example.org.]\n",
        );
    std::fs::write(b.path("octodns-zones/example.org.yaml"), changed).unwrap();
    let third = ok(
        &octodns(&bin, &b, "octodns-sync", &["--doit", "--force"]),
        "third sync",
    );
    assert!(third.contains("Update"), "{third}");
    b.expect("web.example.org.", "A", &["192.0.2.11"]);
    b.expect(
        "example.org.",
        "NS",
        &["ns1.example.org.", "ns2.example.org."],
    );
    let fourth = ok(
        &octodns(&bin, &b, "octodns-sync", &["--doit"]),
        "fourth sync",
    );
    assert!(fourth.contains("No changes were planned"), "{fourth}");

    // What the zone server transfers (AXFR, TSIG) is what the YAML says and what the API
    // reads back.
    for (a, bb) in [("config", "axfr"), ("tern", "axfr")] {
        let cmp = octodns(
            &bin,
            &b,
            "octodns-compare",
            &["--a", a, "--b", bb, "--zone", "example.org."],
        );
        let all = ok(&cmp, &format!("octodns-compare {a} {bb}"));
        assert_eq!(text(&cmp.stdout).trim(), "[]", "{a} vs {bb}: {all}");
    }

    // octodns-bind's Rfc2136Provider changes a record by UPDATE (TSIG, over TCP): the
    // zone server answers it, and the PowerDNS API reads it back (the YAML and the API
    // agree again).
    let by_rfc = OCTODNS_ZONE
        .replace("value: 192.0.2.10", "value: 192.0.2.12")
        .replace(
            "'':\n",
            "'':\n  - type: NS\n    values: [ns1.example.org., ns2.example.org.]\n",
        );
    std::fs::write(b.path("octodns-zones/example.org.yaml"), by_rfc).unwrap();
    let rfc = octodns_with(&bin, &b, "octodns-rfc.yaml", "octodns-sync", &["--doit"]);
    let all = ok(&rfc, "sync by RFC 2136");
    assert!(all.contains("Updates=1"), "{all}");
    b.expect("web.example.org.", "A", &["192.0.2.12"]);
    let cmp = octodns(
        &bin,
        &b,
        "octodns-compare",
        &["--a", "config", "--b", "tern", "--zone", "example.org."],
    );
    let all = ok(&cmp, "octodns-compare config tern");
    assert_eq!(text(&cmp.stdout).trim(), "[]", "{all}");
}

// ---------------------------------------------------------------------------------------
// lego + pebble

const LEGO_ZONE: &str = "$ORIGIN example.org.\n$TTL 300\n\
@ IN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 60\n\
@ IN NS ns.example.org.\n\
ns IN A 127.0.0.1\n\
www IN A 192.0.2.80\n";

/// pebble on loopback, validating DNS-01 against tern's zone server; returns it and its
/// directory URL.
fn start_pebble(b: &TernBox) -> (Daemon, String) {
    let bin = tool("pebble").expect("pebble");
    self_signed_cert(&b.path("pebble-cert.pem"), &b.path("pebble-key.pem"));
    let port = free_tcp_port();
    let config = json!({ "pebble": {
        "listenAddress": format!("127.0.0.1:{port}"),
        "managementListenAddress": format!("127.0.0.1:{}", free_tcp_port()),
        "certificate": b.path("pebble-cert.pem"),
        "privateKey": b.path("pebble-key.pem"),
        "httpPort": free_tcp_port(),
        "tlsPort": free_tcp_port(),
        "ocspResponderURL": "",
        "externalAccountBindingRequired": false
    }});
    std::fs::write(b.path("pebble.json"), config.to_string()).unwrap();
    let log = std::fs::File::create(b.path("pebble.log")).unwrap();
    let child = Command::new(bin)
        .arg("-config")
        .arg(b.path("pebble.json"))
        .args(["-dnsserver", &format!("127.0.0.1:{}", b.dns)])
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .env("PEBBLE_AUTHZREUSE", "0")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawn pebble");
    let pebble = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "pebble did not listen: {}",
            std::fs::read_to_string(b.path("pebble.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (pebble, format!("https://127.0.0.1:{port}/dir"))
}

/// `lego run` for www.example.org with the DNS provider `provider` and its variables.
fn lego(b: &TernBox, dir_url: &str, provider: &str, env: &[(&str, String)], path: &str) -> Output {
    let bin = tool("lego").expect("lego");
    let mut c = Command::new(bin);
    c.args(["--accept-tos", "--email", "ops@example.org"])
        .args(["--server", dir_url])
        .args(["--dns", provider])
        .args(["--dns.resolvers", &format!("127.0.0.1:{}", b.dns)])
        // The zone's NS (ns.example.org, port 53) is not where tern listens: the check
        // against the authoritative servers would ask the wrong port; pebble checks.
        .arg("--dns.disable-cp")
        .args(["--domains", "www.example.org"])
        .arg("--path")
        .arg(b.path(path))
        .arg("run")
        .env("LEGO_CA_CERTIFICATES", b.path("pebble-cert.pem"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    run_bounded(c, Duration::from_secs(120))
}

#[track_caller]
fn assert_certificate(b: &TernBox, path: &str, out: &Output) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "lego failed:\n{all}\npebble:\n{}\ntern:\n{}",
        std::fs::read_to_string(b.path("pebble.log")).unwrap_or_default(),
        b.tern.log()
    );
    let cert = b.path(&format!("{path}/certificates/www.example.org.crt"));
    let pem =
        std::fs::read_to_string(&cert).unwrap_or_else(|e| panic!("{}: {e}\n{all}", cert.display()));
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
        .arg(&cert)
        .output()
        .expect("run openssl");
    assert!(
        text(&subject.stdout).contains("DNS:www.example.org"),
        "{}",
        text(&subject.stdout)
    );
}

/// lego gets a certificate from pebble by DNS-01, its TXT record written through the
/// PowerDNS API (`--dns pdns`: the zone found by SOA over DNS, read, PATCHed at its `url`,
/// notified) and then by RFC 2136 with TSIG (`--dns rfc2136`); pebble
/// asks tern's zone server; the challenge record is gone afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lego_gets_a_certificate_by_dns01_through_tern() {
    if tool("lego").is_none() || tool("pebble").is_none() {
        return;
    }
    // The zone comes by the API as zone text, kind Master: lego then also sends
    // `PUT <zone url>/notify` after each PATCH. The Dns section grants the TSIG key TXT
    // updates in it (for --dns rfc2136).
    let zones = format!(
        r#"[ {{ "name": "example.org.",
             "allow-update": [ {{ "key": "{TSIG_NAME}", "grant": "zonesub", "types": [ "TXT" ] }},
                               {{ "key": "{SHA512_NAME}", "grant": "zonesub", "types": [ "TXT" ] }} ] }} ]"#
    );
    let b = TernBox::start(&zones).await;
    let (code, _, body) = b.http(
        "POST",
        "/api/v1/servers/localhost/zones",
        &[("X-API-Key", KEY), ("Content-Type", "application/json")],
        Some(&json!({ "name": "example.org.", "kind": "Master", "zone": LEGO_ZONE })),
    );
    assert_eq!(code, 201, "{body}");
    b.expect("www.example.org.", "A", &["192.0.2.80"]);
    let (_pebble, dir_url) = start_pebble(&b);

    let pdns = [
        ("PDNS_API_URL", b.api.clone()),
        ("PDNS_API_KEY", KEY.to_string()),
        ("PDNS_PROPAGATION_TIMEOUT", "30".to_string()),
        ("PDNS_POLLING_INTERVAL", "1".to_string()),
    ];
    let out = lego(&b, &dir_url, "pdns", &pdns, "lego-pdns");
    assert_certificate(&b, "lego-pdns", &out);
    b.expect("_acme-challenge.www.example.org.", "TXT", &[]);
    // Its two PATCHes (present, clean up) and their notifies, all answered 2xx.
    let (_, _, metrics) = b.http("GET", "/metrics", &[("X-API-Key", KEY)], None);
    let count = |m: &str, code: &str| -> u64 {
        let key = format!("tern_api_requests_total{{method=\"{m}\",code=\"{code}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&key))
            .map_or(0, |n| n.trim().parse().unwrap())
    };
    assert_eq!(
        (count("PATCH", "204"), count("PUT", "200")),
        (2, 2),
        "{metrics}"
    );

    // lego's rfc2136 provider names the algorithm as miekg/dns does.
    for (key, secret, alg, path) in [
        (
            TSIG_NAME,
            TSIG_SECRET,
            "hmac-sha256.",
            "lego-rfc2136-sha256",
        ),
        (
            SHA512_NAME,
            SHA512_SECRET,
            "hmac-sha512.",
            "lego-rfc2136-sha512",
        ),
    ] {
        let rfc2136 = [
            ("RFC2136_NAMESERVER", format!("127.0.0.1:{}", b.dns)),
            ("RFC2136_TSIG_KEY", key.to_string()),
            ("RFC2136_TSIG_SECRET", secret.to_string()),
            ("RFC2136_TSIG_ALGORITHM", alg.to_string()),
            ("RFC2136_PROPAGATION_TIMEOUT", "30".to_string()),
            ("RFC2136_POLLING_INTERVAL", "1".to_string()),
        ];
        let out = lego(&b, &dir_url, "rfc2136", &rfc2136, path);
        assert_certificate(&b, path, &out);
        b.expect("_acme-challenge.www.example.org.", "TXT", &[]);
    }
    let log = b.tern.log();
    assert!(log.contains("DNS_UPDATE_APPLIED"), "{log}");
}

// ---------------------------------------------------------------------------------------
// external-dns

/// The headers go-powerdns (external-dns's PowerDNS client) sends: the key always, the
/// content type and Accept only with a body.
fn go_powerdns_headers(with_body: bool) -> Vec<(&'static str, &'static str)> {
    let mut h = vec![("User-Agent", "go-powerdns"), ("X-API-Key", KEY)];
    if with_body {
        h.push(("Content-Type", "application/json"));
        h.push(("Accept", "application/json"));
    }
    h
}

/// An rrset as external-dns marshals it (go-powerdns's `RRset`: name, type, ttl only for
/// REPLACE, changetype, records with content and disabled).
fn ext_rrset(name: &str, rtype: &str, changetype: &str, targets: &[&str]) -> Value {
    let records: Vec<Value> = targets
        .iter()
        .map(|t| json!({ "content": t, "disabled": false }))
        .collect();
    if changetype == "REPLACE" {
        json!({ "name": name, "type": rtype, "ttl": 300, "changetype": changetype, "records": records })
    } else {
        json!({ "name": name, "type": rtype, "changetype": changetype, "records": records })
    }
}

const REGISTRY: &str = "\"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/default/web\"";

/// external-dns's pdns provider, replayed request by request: the zone list, the zone by
/// the list's `id`, PATCHes of REPLACE (create and update, with the TXT registry records)
/// and DELETE (no TTL), each answered as go-powerdns expects and seen in DNS. An ALIAS
/// (what it sends for a CNAME at the apex) is refused with 422 and PowerDNS's error body,
/// and nothing of that PATCH is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_dns_requests_are_answered_as_powerdns_answers_them() {
    let b = TernBox::start("[]").await;
    let (code, _, body) = b.http(
        "POST",
        "/api/v1/servers/localhost/zones",
        &go_powerdns_headers(true),
        Some(&json!({ "name": "example.org.", "kind": "Native", "nameservers": ["ns.example.org."] })),
    );
    assert_eq!(code, 201, "{body}");

    // ListZones: GET servers/localhost/zones, no body.
    let (code, ctype, body) = b.http(
        "GET",
        "/api/v1/servers/localhost/zones",
        &go_powerdns_headers(false),
        None,
    );
    assert_eq!(code, 200, "{body}");
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let list: Value = serde_json::from_str(&body).unwrap();
    let zone = list
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["name"] == "example.org.")
        .unwrap_or_else(|| panic!("example.org. not listed: {body}"));
    // go-powerdns decodes these as *uint32 / *string: a wrong JSON type fails the list.
    assert!(zone["serial"].is_u64(), "{zone}");
    let id = zone["id"].as_str().unwrap().to_string();
    // makeDomainCanonical(id): trailing dot once.
    let path = format!(
        "/api/v1/servers/localhost/zones/{}.",
        id.trim_end_matches('.')
    );

    // ListZone (Records()): the zone with its rrsets.
    let (code, _, body) = b.http("GET", &path, &go_powerdns_headers(false), None);
    assert_eq!(code, 200, "{body}");
    let z: Value = serde_json::from_str(&body).unwrap();
    assert!(z["rrsets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["ttl"].is_u64()
            && r["records"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["content"].is_string())));

    // Create: endpoints sorted by name then type, one PATCH per zone, REPLACE.
    let create = json!({ "rrsets": [
        ext_rrset("a-web.example.org.", "TXT", "REPLACE", &[REGISTRY]),
        ext_rrset("app.example.org.", "CNAME", "REPLACE", &["lb.cloud.example.net."]),
        ext_rrset("cname-app.example.org.", "TXT", "REPLACE", &[REGISTRY]),
        ext_rrset("web.example.org.", "A", "REPLACE", &["192.0.2.50", "192.0.2.51"]),
    ]});
    let (code, _, body) = b.http("PATCH", &path, &go_powerdns_headers(true), Some(&create));
    assert_eq!(code, 204, "{body}");
    b.expect("web.example.org.", "A", &["192.0.2.50", "192.0.2.51"]);
    b.expect("app.example.org.", "CNAME", &["lb.cloud.example.net."]);
    b.expect("a-web.example.org.", "TXT", &[REGISTRY]);
    b.expect("cname-app.example.org.", "TXT", &[REGISTRY]);

    // Records() again: what it wrote reads back as it wrote it (else it would plan the
    // same change on every loop).
    let (_, _, body) = b.http("GET", &path, &go_powerdns_headers(false), None);
    let z: Value = serde_json::from_str(&body).unwrap();
    let set = |name: &str, t: &str| -> Vec<String> {
        z["rrsets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] == name && r["type"] == t)
            .flat_map(|r| r["records"].as_array().unwrap().clone())
            .map(|r| r["content"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(set("a-web.example.org.", "TXT"), [REGISTRY]);
    assert_eq!(set("app.example.org.", "CNAME"), ["lb.cloud.example.net."]);
    assert_eq!(set("web.example.org.", "A"), ["192.0.2.50", "192.0.2.51"]);

    // Update (UpdateNew): REPLACE with the new targets.
    let update =
        json!({ "rrsets": [ ext_rrset("web.example.org.", "A", "REPLACE", &["192.0.2.52"]) ] });
    let (code, _, body) = b.http("PATCH", &path, &go_powerdns_headers(true), Some(&update));
    assert_eq!(code, 204, "{body}");
    b.expect("web.example.org.", "A", &["192.0.2.52"]);

    // The apex CNAME external-dns turns into an ALIAS: refused whole (the A beside it in
    // the same PATCH is not applied), with a JSON error go-powerdns reads.
    let alias = json!({ "rrsets": [
        ext_rrset("example.org.", "ALIAS", "REPLACE", &["lb.cloud.example.net."]),
        ext_rrset("other.example.org.", "A", "REPLACE", &["192.0.2.60"]),
    ]});
    let (code, ctype, body) = b.http("PATCH", &path, &go_powerdns_headers(true), Some(&alias));
    assert_eq!(code, 422, "{body}");
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        err["error"],
        "RRset example.org. IN ALIAS: ALIAS records are not supported: tern's zone server \
         does not resolve (use A/AAAA records, or a CNAME below the zone apex)",
        "{body}"
    );
    b.expect("other.example.org.", "A", &[]);
    b.expect("example.org.", "A", &[]);

    // Delete: DELETE with the old targets and no TTL.
    let delete = json!({ "rrsets": [
        ext_rrset("a-web.example.org.", "TXT", "DELETE", &[REGISTRY]),
        ext_rrset("web.example.org.", "A", "DELETE", &["192.0.2.52"]),
    ]});
    let (code, _, body) = b.http("PATCH", &path, &go_powerdns_headers(true), Some(&delete));
    assert_eq!(code, 204, "{body}");
    b.expect("web.example.org.", "A", &[]);
    b.expect("a-web.example.org.", "TXT", &[]);
    assert_eq!(b.status("web.example.org.", "A"), "NXDOMAIN");
    b.expect("app.example.org.", "CNAME", &["lb.cloud.example.net."]);

    // A zone it does not know: 404 with an error body.
    let (code, ctype, body) = b.http(
        "GET",
        "/api/v1/servers/localhost/zones/nowhere.example.",
        &go_powerdns_headers(false),
        None,
    );
    assert_eq!(code, 404, "{body}");
    assert!(ctype.starts_with("application/json"), "{ctype}");
    // PowerDNS's text (octodns's pre-4.2 dialect matches on its start).
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "Could not find domain 'nowhere.example.'"
    );
}

// ---------------------------------------------------------------------------------------
// tern zone / tern record

struct Cli {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn cli(b: &TernBox, args: &[&str]) -> Cli {
    let out = Command::new(tern_bin())
        .args(args)
        .args(["--api", &b.api, "--api-key", KEY])
        .env_remove("TERN_API")
        .env_remove("TERN_API_KEY")
        .output()
        .expect("run tern");
    Cli {
        ok: out.status.success(),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    }
}

#[track_caller]
fn cli_ok(b: &TernBox, args: &[&str]) -> String {
    let r = cli(b, args);
    assert!(r.ok, "tern {args:?} failed: {}{}", r.stdout, r.stderr);
    r.stdout
}

/// `tern zone add|list|import|export|del` and `tern record add|list|del` on tern's own
/// zones, each seen in the output and in DNS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zone_and_record_commands_work_on_own_zones() {
    let b = TernBox::start("[]").await;
    assert_eq!(b.status("example.net.", "SOA"), "REFUSED");

    let added = cli_ok(
        &b,
        &[
            "zone",
            "add",
            "example.net",
            "--nameserver",
            "ns1.example.net",
        ],
    );
    assert!(
        added.starts_with("added zone example.net. serial "),
        "{added}"
    );
    b.expect("example.net.", "NS", &["ns1.example.net."]);
    assert_eq!(b.status("example.net.", "SOA"), "NOERROR");

    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/example.com.zone");
    let imported = cli_ok(
        &b,
        &["zone", "import", "example.com", file.to_str().unwrap()],
    );
    assert!(
        imported.starts_with("imported zone example.com. from ")
            && imported.contains(" records, serial 2024010101"),
        "{imported}"
    );
    b.expect("printer.example.com.", "A", &["192.0.2.10"]);
    b.expect("example.com.", "MX", &["10 mail.example.com."]);
    // Imported again without --replace: it exists (PowerDNS's 409).
    let again = cli(
        &b,
        &["zone", "import", "example.com", file.to_str().unwrap()],
    );
    assert!(
        !again.ok && again.stderr.contains("already exists"),
        "{}",
        again.stderr
    );

    let list = cli_ok(&b, &["zone", "list"]);
    let rows: Vec<Vec<&str>> = list
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["ZONE", "KIND", "SERIAL"], "{list}");
    assert!(
        rows.iter()
            .any(|r| r[..2] == ["example.com.", "Native"] && r[2] == "2024010101"),
        "{list}"
    );
    assert!(
        rows.iter().any(|r| r[..2] == ["example.net.", "Native"]),
        "{list}"
    );

    let exported = cli_ok(&b, &["zone", "export", "example.com"]);
    assert!(
        exported.contains("printer.example.com.") && exported.contains("192.0.2.10"),
        "{exported}"
    );
    assert!(exported.contains("SOA"), "{exported}");

    // Records on an own zone.
    let added = cli_ok(
        &b,
        &[
            "record",
            "add",
            "example.net",
            "--name",
            "www",
            "--type",
            "A",
            "--content",
            "192.0.2.80",
        ],
    );
    assert_eq!(added.trim(), "added www.example.net. 300 A 192.0.2.80");
    b.expect("www.example.net.", "A", &["192.0.2.80"]);
    cli_ok(
        &b,
        &[
            "record",
            "add",
            "example.net",
            "--name",
            "www",
            "--type",
            "A",
            "--content",
            "192.0.2.81",
        ],
    );
    b.expect("www.example.net.", "A", &["192.0.2.80", "192.0.2.81"]);
    let listed = cli_ok(&b, &["record", "list", "example.net", "--name", "www"]);
    let lines: Vec<Vec<&str>> = listed
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [
            ["www.example.net.", "300", "A", "192.0.2.80"],
            ["www.example.net.", "300", "A", "192.0.2.81"]
        ],
        "{listed}"
    );
    let deleted = cli_ok(
        &b,
        &[
            "record",
            "del",
            "example.net",
            "--name",
            "www",
            "--content",
            "192.0.2.80",
        ],
    );
    assert_eq!(deleted.trim(), "deleted www.example.net. A 192.0.2.80");
    b.expect("www.example.net.", "A", &["192.0.2.81"]);
    cli_ok(&b, &["record", "del", "example.net", "--name", "www"]);
    b.expect("www.example.net.", "A", &[]);
    assert_eq!(b.status("www.example.net.", "A"), "NXDOMAIN");
    let missing = cli(&b, &["record", "del", "example.net", "--name", "www"]);
    assert!(!missing.ok, "{}", missing.stdout);
    assert_eq!(
        missing.stderr.trim(),
        "tern: no record www.example.net. in zone example.net."
    );

    let gone = cli_ok(&b, &["zone", "del", "example.net"]);
    assert_eq!(gone.trim(), "deleted zone example.net.");
    let deadline = Instant::now() + Duration::from_secs(2);
    while b.status("example.net.", "SOA") != "REFUSED" {
        assert!(Instant::now() < deadline, "example.net. still served");
        std::thread::sleep(Duration::from_millis(50));
    }
    let list = cli_ok(&b, &["zone", "list"]);
    assert!(!list.contains("example.net."), "{list}");
    b.expect("printer.example.com.", "A", &["192.0.2.10"]);
}
