//! Debian's kea-dhcp4 as an oracle next to tern: starting it in a network namespace,
//! relayed DHCPv4 packets built and read by hand, and the prerequisites (root, the
//! binary). Shared by the `*_oracle` tests.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::is_root;

pub const KEA_DHCP4: &str = "/usr/sbin/kea-dhcp4";

/// Whether an oracle test can run here. A missing prerequisite skips it with a line
/// saying why, and fails it under `CI=true` (a CI run never passes by skipping).
pub fn ready(test: &str) -> bool {
    match missing_prerequisite() {
        None => true,
        Some(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test} cannot run under CI=true: {why}"
            );
            eprintln!("{test}: SKIPPED: {why}");
            false
        }
    }
}

/// Why an oracle test cannot run here, if it cannot.
pub fn missing_prerequisite() -> Option<String> {
    if !is_root() {
        return Some("not root (the network namespace and port 67 need it)".into());
    }
    if !Path::new(KEA_DHCP4).exists() {
        return Some(format!(
            "{KEA_DHCP4} missing (apt-get install kea-dhcp4-server)"
        ));
    }
    None
}

/// Bytes as `aa:bb:cc` (Kea's hw-address form).
pub fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A relayed BOOTREQUEST (RFC 2131 §2, hops 1, giaddr set) of DHCP type `t`.
pub fn packet(t: u8, xid: u32, giaddr: Ipv4Addr, chaddr: [u8; 6], opts: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 236];
    p[..4].copy_from_slice(&[1, 1, 6, 1]);
    p[4..8].copy_from_slice(&xid.to_be_bytes());
    p[24..28].copy_from_slice(&giaddr.octets());
    p[28..34].copy_from_slice(&chaddr);
    p.extend([99, 130, 83, 99, 53, 1, t]);
    p.extend(opts);
    p.push(255);
    p
}

/// One option as code, length, value.
pub fn option(code: u8, v: &[u8]) -> Vec<u8> {
    let mut o = vec![code, v.len() as u8];
    o.extend(v);
    o
}

/// A BOOTREPLY as read back.
#[derive(Debug, Clone)]
pub struct Reply {
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    /// `sname` and `file` up to their first NUL.
    pub sname: Vec<u8>,
    pub file: Vec<u8>,
    pub options: BTreeMap<u8, Vec<u8>>,
}

fn until_nul(b: &[u8]) -> Vec<u8> {
    b.iter().copied().take_while(|&c| c != 0).collect()
}

/// A reply's fixed fields and options (no overload handling: these servers do not
/// overload).
pub fn parse_reply(b: &[u8]) -> Option<Reply> {
    if b.len() < 240 || b[0] != 2 {
        return None;
    }
    let mut options = BTreeMap::new();
    let mut i = 240;
    while i < b.len() {
        match b[i] {
            255 => break,
            0 => i += 1,
            code => {
                let len = usize::from(*b.get(i + 1)?);
                options.insert(code, b.get(i + 2..i + 2 + len)?.to_vec());
                i += 2 + len;
            }
        }
    }
    Some(Reply {
        yiaddr: Ipv4Addr::new(b[16], b[17], b[18], b[19]),
        siaddr: Ipv4Addr::new(b[20], b[21], b[22], b[23]),
        sname: until_nul(&b[44..108]),
        file: until_nul(&b[108..236]),
        options,
    })
}

/// Waits up to `timeout` for the reply with `xid` of DHCP type `t`.
pub fn receive(sock: &UdpSocket, xid: u32, t: u8, timeout: Duration) -> Option<Reply> {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 1500];
    while Instant::now() < deadline {
        let Ok(len) = sock.recv(&mut buf) else {
            continue;
        };
        let b = &buf[..len];
        if b.len() < 8 || u32::from_be_bytes(b[4..8].try_into().unwrap()) != xid {
            continue;
        }
        if let Some(r) = parse_reply(b) {
            if r.options.get(&53).map(Vec::as_slice) == Some(&[t]) {
                return Some(r);
            }
        }
    }
    None
}

/// Moves the calling thread into namespace `ns`: sockets it opens live there.
pub fn enter_netns(ns: &str) {
    let f = File::open(format!("/run/netns/{ns}")).expect("open the namespace");
    // SAFETY: setns(2) on an open namespace file; affects only this thread.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
}

/// A kea-dhcp4 started as `ip netns exec NS env ... kea-dhcp4`; both exec, so its PID
/// is the program's own. Stopped by PID on drop.
pub struct Kea(Option<Child>, PathBuf);

impl Kea {
    /// Starts kea-dhcp4 in namespace `ns` on the config `conf`; its pid and lock files
    /// go to `dir`, its stdout to `dir/kea.out` (see [`log`](Self::log)), its stderr to
    /// `dir/kea.err`.
    pub fn start_in_netns(ns: &str, dir: &Path, conf: &Path) -> Self {
        let log = dir.join("kea.out");
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "env"])
            .arg(format!("KEA_PIDFILE_DIR={}", dir.display()))
            .arg(format!("KEA_LOCKFILE_DIR={}", dir.display()))
            .arg(KEA_DHCP4)
            .arg("-c")
            .arg(conf)
            .stdin(Stdio::null())
            .stdout(File::create(&log).unwrap())
            .stderr(File::create(dir.join("kea.err")).unwrap())
            .spawn()
            .expect("spawn kea-dhcp4");
        Kea(Some(child), log)
    }

    /// Its stdout so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.1).unwrap_or_default()
    }

    /// Waits until its stdout contains `needle`; panics with it after `timeout`, or at
    /// once if Kea exits first.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.contains(needle) {
                return;
            }
            if let Some(s) = self.0.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("kea-dhcp4 exited ({s}) before {needle:?}:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} after {timeout:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, up to 10 s for the exit, then SIGKILL.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.0.take() {
            // SAFETY: kill(2) on our own child, not yet reaped.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Kea {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The test cluster's database as tern's `lease-database`, over the Unix socket (which
/// works from inside the namespace).
pub async fn pg_lease_db(db: &tern_store::testing::TestDb) -> Value {
    let (host, port) = super::pg_socket(db.pool()).await;
    json!({
        "type": "postgresql",
        "host": host, "port": port,
        "name": db.name(), "user": db.user(), "password": db.password().unwrap_or_default(),
    })
}

/// Waits up to `timeout` for one reply to each of the requests `want`, named by (xid,
/// chaddr), of a DHCP type in `types`; returns those that came (the first of each),
/// sooner when all have. Lets a relay have many exchanges in flight, so clients a
/// server drops cost one `timeout` together, not one each.
pub fn receive_batch(
    sock: &UdpSocket,
    want: &[(u32, [u8; 6])],
    types: &[u8],
    timeout: Duration,
) -> BTreeMap<(u32, [u8; 6]), Reply> {
    let deadline = Instant::now() + timeout;
    let mut out = BTreeMap::new();
    let mut buf = [0u8; 1500];
    while out.len() < want.len() && Instant::now() < deadline {
        let Ok(len) = sock.recv(&mut buf) else {
            continue;
        };
        let b = &buf[..len];
        if b.len() < 240 {
            continue;
        }
        let key = (
            u32::from_be_bytes(b[4..8].try_into().unwrap()),
            <[u8; 6]>::try_from(&b[28..34]).unwrap(),
        );
        if !want.contains(&key) || out.contains_key(&key) {
            continue;
        }
        if let Some(r) = parse_reply(b) {
            if r.options.get(&53).is_some_and(|t| types.contains(&t[0])) {
                out.insert(key, r);
            }
        }
    }
    out
}

/// A Kea configuration file's text as JSON: Kea's comments (`//`, `/* */` and `#`, outside
/// strings) removed first, which serde_json does not read.
pub fn kea_json(text: &str) -> Value {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('#', _) | ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON once comments go: {e}"))
}
