//! BIND 9 (`named`) and Knot (`knotd`) as secondaries of a zone server under test: each in
//! its own temp directory on its own loopback port, NOTIFY and transfers signed with one
//! TSIG key, killed by its PID when dropped.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tern_dnsmsg::tsig::TsigKey;

use crate::bind::{base64, bind_algorithm};

/// Knot's server binary (Debian's knot).
pub const KNOTD: &str = "/usr/sbin/knotd";

/// A secondary name server (named or knotd) in a temp dir, killed by its PID when dropped.
pub struct Secondary {
    /// `named` or `knotd`.
    pub tool: &'static str,
    child: Child,
    /// Its configuration, zone file, journal and log.
    pub dir: tempfile::TempDir,
    /// Where it answers.
    pub addr: SocketAddr,
}

impl Secondary {
    /// Everything it logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.log", self.tool))
    }

    fn spawn(tool: &'static str, dir: tempfile::TempDir, port: u16, conf: &Path) -> Secondary {
        let log = fs::File::create(dir.path().join(format!("{tool}.log"))).unwrap();
        let mut cmd = if tool == "named" {
            let mut c = Command::new(crate::bind::NAMED);
            c.args(["-g", "-n", "1"]);
            c
        } else {
            Command::new(KNOTD)
        };
        let child = cmd
            .arg("-c")
            .arg(conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        Secondary {
            tool,
            child,
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// BIND 9 on `port` as a secondary of `primary` for `zone` (no trailing dot),
    /// transfers signed with `k`.
    pub fn bind(primary: SocketAddr, zone: &str, k: &TsigKey, port: u16) -> Secondary {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let conf = format!(
            "options {{\n\tdirectory \"{d}\";\n\tpid-file \"{d}/named.pid\";\n\
             \tsession-keyfile \"{d}/session.key\";\n\tmanaged-keys-directory \"{d}\";\n\
             \tlisten-on port {port} {{ 127.0.0.1; }};\n\tlisten-on-v6 {{ none; }};\n\
             \trecursion no;\n\tnotify no;\n\tdnssec-validation no;\n}};\ncontrols {{ }};\n\
             key \"{}\" {{ algorithm {}; secret \"{}\"; }};\n\
             zone \"{zone}\" {{ type secondary; file \"{d}/{zone}.db\";\n\
             \tprimaries {{ {} port {} key \"{}\"; }}; }};\n",
            k.name,
            bind_algorithm(k),
            base64(&k.secret),
            primary.ip(),
            primary.port(),
            k.name
        );
        let path = dir.path().join("named.conf");
        fs::write(&path, conf).unwrap();
        Secondary::spawn("named", dir, port, &path)
    }

    /// Knot on `port` as a secondary of `primary` for `zone` (no trailing dot), NOTIFY and
    /// transfers signed with `k` (an HMAC-SHA256 key without truncation: Knot's config
    /// names the algorithm so).
    pub fn knot(primary: SocketAddr, zone: &str, k: &TsigKey, port: u16) -> Secondary {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let conf = format!(
            "server:\n    rundir: \"{d}\"\n    listen: 127.0.0.1@{port}\n\
             control:\n    listen: \"{d}/knot.sock\"\n\
             log:\n  - target: stderr\n    any: info\n\
             database:\n    storage: \"{d}\"\n\
             key:\n  - id: {}\n    algorithm: {}\n    secret: {}\n\
             remote:\n  - id: primary\n    address: {}@{}\n    key: {}\n\
             acl:\n  - id: primary\n    address: {}\n    key: {}\n    action: notify\n\
             zone:\n  - domain: {zone}\n    storage: \"{d}\"\n    file: \"{d}/{zone}.zone\"\n\
             \x20   master: primary\n    acl: primary\n",
            k.name,
            bind_algorithm(k),
            base64(&k.secret),
            primary.ip(),
            primary.port(),
            k.name,
            primary.ip(),
            k.name
        );
        let path = dir.path().join("knot.conf");
        fs::write(&path, conf).unwrap();
        Secondary::spawn("knotd", dir, port, &path)
    }

    /// What the secondary answers for `qname` `qtype` (`dig +short`).
    pub fn short(&self, qname: &str, qtype: &str) -> String {
        let out = Command::new("dig")
            .arg(format!("@{}", self.addr.ip()))
            .args(["-p", &self.addr.port().to_string()])
            .args(["+short", "+norec", "+time=1", "+tries=1", qname, qtype])
            .output()
            .unwrap_or_else(|e| panic!("dig: {e} (install bind9-dnsutils)"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits (at most `limit`) until the secondary answers `want` for `qname` `qtype`.
    pub fn wait_for(&mut self, qname: &str, qtype: &str, want: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.short(qname, qtype).contains(want) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited with {status}:\n{}", self.tool, self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer {want:?} for {qname} {qtype} within {limit:?}:\n{}",
                self.tool,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Secondary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {} log ---\n{}", self.tool, self.log());
        }
    }
}

/// Whether named and knotd are installed; if not, says so through
/// [`peer_missing`](crate::peer_missing) (a failure under `CI=true`).
pub fn secondaries_present(test: &str) -> bool {
    let missing: Vec<_> = [crate::bind::NAMED, KNOTD]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    crate::peer_missing(test, &format!("{missing:?} not installed (bind9, knot)"));
    false
}
