//! Running the real `tern` binary in tests: start it, read its log, signal it, and make
//! sure it is gone (by PID) when the test ends.

#![allow(dead_code)]

pub mod kea4;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Path of the binary under test.
pub fn tern_bin() -> &'static str {
    env!("CARGO_BIN_EXE_tern")
}

/// Runs `tern ARGS` to completion; returns (status, stdout, stderr).
pub fn run(args: &[&str]) -> (ExitStatus, String, String) {
    let out = Command::new(tern_bin())
        .args(args)
        .env_remove("TERN_LOG")
        .output()
        .expect("run tern");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running `tern` process whose stdout and stderr go to one log file.
pub struct Tern {
    child: Option<Child>,
    log: PathBuf,
}

impl Tern {
    /// Starts `tern ARGS`, logging to `log`.
    pub fn start(args: &[&str], log: &Path) -> Self {
        Self::start_with_env(args, &[], log)
    }

    /// Starts `tern ARGS` with the variables `env` set, logging to `log`.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)], log: &Path) -> Self {
        let out = File::create(log).expect("create log");
        let err = out.try_clone().expect("dup log");
        let child = Command::new(tern_bin())
            .args(args)
            .env_remove("TERN_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn tern");
        Self {
            child: Some(child),
            log: log.to_path_buf(),
        }
    }

    /// PID of the tern process.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`; panics with the log after `timeout`, or at
    /// once if the process exits first.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("tern exited ({status}) before logging {needle:?}; log:\n{log}");
            }
            if Instant::now() > deadline {
                panic!("no {needle:?} in tern's log after {timeout:?}; log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends a signal to the tern process.
    pub fn signal(&self, sig: i32) {
        // SAFETY: plain kill(2) on the PID of a child we spawned and have not reaped.
        let rc = unsafe { libc::kill(self.pid() as i32, sig) };
        assert_eq!(rc, 0, "kill({}, {sig})", self.pid());
    }

    /// Waits for the process to exit; panics after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                panic!("tern did not exit within {timeout:?}; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tern {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until no process has `pid` any more (it may not be our child, so no waitpid).
pub fn wait_pid_gone(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        // SAFETY: signal 0 only checks for existence.
        if unsafe { libc::kill(pid, 0) } != 0 {
            return true;
        }
        // A zombie still answers kill(0); it is gone for our purposes.
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            if stat
                .rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z'))
            {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

impl Tern {
    /// Starts `ip netns exec NS tern ARGS`, logging to `log`. `ip` execs tern, so
    /// [`pid`](Self::pid) is tern's own PID.
    pub fn start_in_netns(ns: &str, args: &[&str], log: &Path) -> Self {
        let out = File::create(log).expect("create log");
        let err = out.try_clone().expect("dup log");
        let child = Command::new("ip")
            .args(["netns", "exec", ns, tern_bin()])
            .args(args)
            .env_remove("TERN_LOG")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn ip netns exec tern");
        Self {
            child: Some(child),
            log: log.to_path_buf(),
        }
    }

    /// The exit status if the process has exited (and is not yet reaped by `wait_exit`).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGTERM, up to `grace` for the exit, then SIGKILL; never panics (for Drop guards).
    /// Returns the exit status of an orderly exit, `None` if it had to be killed or was
    /// stopped already.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        // SAFETY: kill(2) on the PID of our own child, not yet reaped.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

/// Whether this process runs as root (network namespaces need it).
pub fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A network namespace of the test's own, with `lo` up and the given extra loopback
/// addresses (`127.0.0.1/8` is always there); deleted on drop.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates namespace `name` (delete-then-add, so a leftover of a killed run with the
    /// same name does not stop the test).
    pub fn new(name: &str, extra_lo_addrs: &[&str]) -> Self {
        let ip = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("run ip");
            assert!(
                out.status.success(),
                "ip {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let _ = Command::new("ip")
            .args(["netns", "del", name])
            .stderr(Stdio::null())
            .status();
        ip(&["netns", "add", name]);
        let ns = Netns {
            name: name.to_owned(),
        };
        ip(&["-n", name, "link", "set", "lo", "up"]);
        for a in extra_lo_addrs {
            ip(&["-n", name, "addr", "add", &format!("{a}/8"), "dev", "lo"]);
        }
        ns
    }

    /// The namespace's name (for `ip netns exec`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A `Store` section pointing tern at the test database `db` (over TCP).
pub fn store_section(db: &tern_store::testing::TestDb) -> String {
    format!(
        r#""Store": {{ "type": "postgresql", "host": "{}", "port": {}, "name": "{}",
                   "user": "{}", "password": "{}" }}"#,
        db.host(),
        db.port(),
        db.name(),
        db.user(),
        db.password().unwrap_or("")
    )
}

/// The Unix socket directory and port of the PostgreSQL server behind `pool`: reachable
/// from inside a network namespace, unlike a loopback TCP port of the root namespace.
pub async fn pg_socket(pool: &sqlx::PgPool) -> (String, u16) {
    let dirs: String = sqlx::query_scalar("SHOW unix_socket_directories")
        .fetch_one(pool)
        .await
        .unwrap();
    let port: String = sqlx::query_scalar("SHOW port")
        .fetch_one(pool)
        .await
        .unwrap();
    // (The test cluster sets it double-quoted, and SHOW keeps the quotes.)
    let dir = dirs.split(',').next().unwrap().trim().trim_matches('"');
    (dir.to_owned(), port.parse().unwrap())
}

/// A self-signed certificate for 127.0.0.1 and localhost (an end entity, so rustls takes it
/// as a server's certificate and Go takes it as its own root) in `cert`, its key in `key`.
pub fn self_signed_cert(cert: &Path, key: &Path) {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
