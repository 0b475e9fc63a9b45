//! A private PostgreSQL cluster in tern's data directory, for when no database is
//! configured.
//!
//! Layout under the data directory:
//! * `pg/` — the cluster (`PGDATA`), created by `initdb` on first start;
//! * `pg-socket/` — the Unix socket directory (mode 0700: only tern and the
//!   PostgreSQL user get in; authentication over it is `trust`);
//! * `postgresql.log` — the server's log.
//!
//! The server is a child process of tern, started from a dedicated thread that
//! lives as long as the server, with `PR_SET_PDEATHSIG` = SIGINT: if tern dies,
//! even by SIGKILL, the kernel asks PostgreSQL for a fast shutdown instead of
//! leaving it orphaned. PostgreSQL refuses to run as root, so a root tern runs it
//! as `postgres` (or a system user `tern` it creates); when that user may not enter
//! the data directory's path (a clone in root's 0700 home), it gets a view of the
//! directory of its own (see `PgView`). fsync stays on: after a
//! crash PostgreSQL's WAL recovery restores every committed transaction.

use std::ffi::{CString, OsString};
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection};
use tracing::{info, warn};

use crate::error::{Error, Result};
use crate::settings::ConnectSettings;

/// Name of the database tern uses in its embedded cluster.
const DATABASE: &str = "tern";
/// How long to wait for a previous server on the same data directory to go away.
const OLD_SERVER_WAIT: Duration = Duration::from_secs(30);
/// How long a fast shutdown may take before tern asks for an immediate one.
const FAST_SHUTDOWN_WAIT: Duration = Duration::from_secs(60);
const IMMEDIATE_SHUTDOWN_WAIT: Duration = Duration::from_secs(15);
/// Longest Unix socket path (sun_path is 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// Where to look for PostgreSQL's server binaries.
///
/// [`BinSearch::from_env`] looks in `$PG_BINDIR`, then `$PATH`, then the newest
/// `/usr/lib/postgresql/*/bin` (Debian's layout). Tests build one by hand.
#[derive(Clone, Debug)]
pub struct BinSearch {
    /// Checked first (`PG_BINDIR`).
    pub bindir: Option<PathBuf>,
    /// A `PATH`-style list searched next.
    pub path: Option<OsString>,
    /// A directory of versioned installs (`<root>/<version>/bin`) searched last,
    /// newest version first.
    pub versioned_root: PathBuf,
}

/// A directory holding `initdb` and `postgres`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgBinaries {
    bindir: PathBuf,
}

impl PgBinaries {
    fn in_dir(dir: &Path) -> Option<PgBinaries> {
        if is_executable(&dir.join("initdb")) && is_executable(&dir.join("postgres")) {
            let bindir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
            Some(PgBinaries { bindir })
        } else {
            None
        }
    }

    /// The directory.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// Path of `initdb`.
    pub fn initdb(&self) -> PathBuf {
        self.bindir.join("initdb")
    }

    /// Path of `postgres`.
    pub fn postgres(&self) -> PathBuf {
        self.bindir.join("postgres")
    }
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

impl BinSearch {
    /// The search tern does: `$PG_BINDIR`, `$PATH`, `/usr/lib/postgresql/*/bin`.
    pub fn from_env() -> BinSearch {
        BinSearch {
            bindir: std::env::var_os("PG_BINDIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from),
            path: std::env::var_os("PATH"),
            versioned_root: PathBuf::from("/usr/lib/postgresql"),
        }
    }

    /// Finds `initdb` and `postgres` side by side.
    pub fn find(&self) -> Result<PgBinaries> {
        if let Some(dir) = &self.bindir {
            if let Some(found) = PgBinaries::in_dir(dir) {
                return Ok(found);
            }
            warn!(
                "STORE_EMBEDDED_BINDIR_INVALID PG_BINDIR={} holds no initdb and postgres; looking elsewhere",
                dir.display()
            );
        }
        if let Some(path) = &self.path {
            for dir in std::env::split_paths(path) {
                let initdb = dir.join("initdb");
                if dir.as_os_str().is_empty() || !is_executable(&initdb) {
                    continue;
                }
                // PATH often holds symlinks into the versioned directory.
                let real_dir = fs::canonicalize(&initdb)
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_owned));
                if let Some(found) = real_dir.as_deref().and_then(PgBinaries::in_dir) {
                    return Ok(found);
                }
                if let Some(found) = PgBinaries::in_dir(&dir) {
                    return Ok(found);
                }
            }
        }
        let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(&self.versioned_root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let version: Option<Vec<u32>> = name.split('.').map(|p| p.parse().ok()).collect();
                Some((version?, entry.path().join("bin")))
            })
            .collect();
        versions.sort();
        versions
            .iter()
            .rev()
            .find_map(|(_, dir)| PgBinaries::in_dir(dir))
            .ok_or(Error::BinariesNotFound)
    }
}

/// How to run the embedded cluster. The defaults are the appliance's: socket only,
/// durable.
#[derive(Clone)]
pub struct EmbeddedOptions {
    /// The superuser `initdb` creates and tern logs in as.
    pub superuser: String,
    /// Password set for the superuser at every start (for TCP logins).
    pub password: Option<String>,
    /// Also listen on 127.0.0.1 at this port (password authentication). The
    /// appliance listens on its socket only; tests need TCP for `kea-admin`.
    pub tcp_port: Option<u16>,
    /// fsync, synchronous commit and full-page writes. Only throwaway test
    /// clusters turn this off.
    pub durable: bool,
    /// The server's `max_connections`.
    pub max_connections: u32,
    /// How long to wait for the server to accept connections (crash recovery
    /// happens within this time).
    pub start_timeout: Duration,
    /// Where to find the server binaries.
    pub binaries: BinSearch,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            superuser: "tern".to_owned(),
            password: None,
            tcp_port: None,
            durable: true,
            max_connections: 100,
            start_timeout: Duration::from_secs(120),
            binaries: BinSearch::from_env(),
        }
    }
}

impl fmt::Debug for EmbeddedOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedOptions")
            .field("superuser", &self.superuser)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tcp_port", &self.tcp_port)
            .field("durable", &self.durable)
            .field("max_connections", &self.max_connections)
            .field("start_timeout", &self.start_timeout)
            .field("binaries", &self.binaries)
            .finish()
    }
}

/// A running private PostgreSQL cluster. Dropping it stops the server (blocking).
#[derive(Debug)]
pub struct EmbeddedCluster {
    data_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    log_path: PathBuf,
    port: u16,
    superuser: String,
    password: Option<String>,
    tcp_port: Option<u16>,
    postmaster: Postmaster,
    stopped: bool,
    /// Removed after the server stopped (fields drop after `Drop::drop`).
    _mount: Option<MountPoint>,
}

impl EmbeddedCluster {
    /// Starts the appliance's cluster in `data_dir` (see the module docs),
    /// creating it on first use, and waits until it accepts connections.
    pub async fn start(data_dir: &Path) -> Result<EmbeddedCluster> {
        Self::start_with(data_dir, EmbeddedOptions::default()).await
    }

    /// Like [`start`](Self::start), with explicit options.
    pub async fn start_with(data_dir: &Path, options: EmbeddedOptions) -> Result<EmbeddedCluster> {
        let dir = data_dir.to_owned();
        let opts = options.clone();
        let cluster = tokio::task::spawn_blocking(move || launch(&dir, &opts))
            .await
            .map_err(|e| Error::io("starting PostgreSQL", io::Error::other(e.to_string())))??;
        // On error the cluster is dropped, which stops the server.
        cluster.prepare_database().await?;
        info!(
            "STORE_EMBEDDED_STARTED PostgreSQL (PID {}) ready in {}, socket {}{}",
            cluster.pid(),
            cluster.pgdata.display(),
            cluster.socket_dir.display(),
            cluster
                .tcp_port
                .map(|p| format!(", TCP 127.0.0.1:{p}"))
                .unwrap_or_default()
        );
        Ok(cluster)
    }

    async fn prepare_database(&self) -> Result<()> {
        let settings = self.connect_settings().with_dbname("postgres");
        let mut conn = PgConnection::connect_with(&settings.pg_options())
            .await
            .map_err(|source| Error::Connect {
                target: settings.target(),
                source,
            })?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(DATABASE)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            conn.execute(format!("CREATE DATABASE {}", quote_ident(DATABASE)).as_str())
                .await?;
            info!("STORE_EMBEDDED_DB_CREATED database {DATABASE} created");
        }
        if let Some(password) = &self.password {
            conn.execute(
                format!(
                    "ALTER ROLE {} PASSWORD {}",
                    quote_ident(&self.superuser),
                    quote_literal(password)
                )
                .as_str(),
            )
            .await?;
        }
        conn.close().await?;
        Ok(())
    }

    /// Settings to reach database `tern` over the socket as the superuser.
    pub fn connect_settings(&self) -> ConnectSettings {
        ConnectSettings::socket(&self.socket_dir, self.port, DATABASE, &self.superuser)
    }

    /// The postmaster's PID.
    pub fn pid(&self) -> i32 {
        self.postmaster.pid
    }

    /// False once the server has exited (stopped, crashed or killed).
    pub fn is_running(&self) -> bool {
        self.postmaster.exit_status().is_none()
    }

    /// tern's data directory this cluster lives in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The cluster directory (`PGDATA`).
    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// The Unix socket directory.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The server's log file.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The port (the socket's name, and the TCP port if listening on TCP).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TCP port on 127.0.0.1, if the cluster listens on TCP.
    pub fn tcp_port(&self) -> Option<u16> {
        self.tcp_port
    }

    /// Fast shutdown (SIGINT: open transactions roll back, committed data is
    /// flushed), waiting until the server has exited.
    pub async fn stop(mut self) -> Result<()> {
        tokio::task::spawn_blocking(move || self.shutdown())
            .await
            .map_err(|e| Error::io("stopping PostgreSQL", io::Error::other(e.to_string())))?
    }

    /// Blocking shutdown, also run by `Drop`.
    pub(crate) fn shutdown(&mut self) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let pid = self.postmaster.pid;
        if !self.postmaster.signal(libc::SIGINT) {
            warn!(
                "STORE_EMBEDDED_EXITED PostgreSQL (PID {pid}) had already exited: {}",
                self.postmaster.exit_status().unwrap_or_default()
            );
            self.postmaster.join();
            return Ok(());
        }
        info!("STORE_EMBEDDED_STOPPING fast shutdown of PostgreSQL (PID {pid})");
        if self.postmaster.wait_exit(FAST_SHUTDOWN_WAIT).is_none() {
            warn!(
                "STORE_EMBEDDED_STOP_SLOW PostgreSQL (PID {pid}) still running after {} s: immediate shutdown",
                FAST_SHUTDOWN_WAIT.as_secs()
            );
            self.postmaster.signal(libc::SIGQUIT);
            if self.postmaster.wait_exit(IMMEDIATE_SHUTDOWN_WAIT).is_none() {
                return Err(Error::ClusterStop {
                    pid,
                    seconds: (FAST_SHUTDOWN_WAIT + IMMEDIATE_SHUTDOWN_WAIT).as_secs(),
                });
            }
        }
        self.postmaster.join();
        info!("STORE_EMBEDDED_STOPPED PostgreSQL (PID {pid}) stopped");
        Ok(())
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            warn!("STORE_EMBEDDED_STOP_FAILED {e}");
        }
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The OS user PostgreSQL runs as.
#[derive(Clone, Copy, Debug)]
struct RunAs {
    uid: u32,
    gid: u32,
    /// True when tern runs as root and must switch to `uid`/`gid` for PostgreSQL.
    switch: bool,
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let cname = CString::new(name).ok()?;
    // SAFETY: getpwnam_r writes only into pwd and buf, both owned here and sized
    // as passed; result is checked before pwd is read.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        (rc == 0 && !result.is_null()).then_some((pwd.pw_uid, pwd.pw_gid))
    }
}

fn run_as() -> Result<RunAs> {
    // SAFETY: geteuid/getegid cannot fail and touch no memory.
    let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if euid != 0 {
        return Ok(RunAs {
            uid: euid,
            gid: egid,
            switch: false,
        });
    }
    for name in ["postgres", "tern"] {
        if let Some((uid, gid)) = lookup_user(name) {
            return Ok(RunAs {
                uid,
                gid,
                switch: true,
            });
        }
    }
    let useradd = ["/usr/sbin/useradd", "/sbin/useradd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("useradd");
    info!("STORE_EMBEDDED_USERADD creating system user tern to run PostgreSQL");
    let out = Command::new(useradd)
        .args([
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "--comment",
            "tern embedded PostgreSQL",
            "tern",
        ])
        .output();
    // Another tern may have created it at the same moment: look again either way.
    if let Some((uid, gid)) = lookup_user("tern") {
        return Ok(RunAs {
            uid,
            gid,
            switch: true,
        });
    }
    Err(Error::RunAsUser(match out {
        Ok(out) => format!(
            "no user postgres, and useradd tern failed: {}",
            one_line(&String::from_utf8_lossy(&out.stderr), 3)
        ),
        Err(e) => format!("no user postgres, and {useradd} could not run: {e}"),
    }))
}

/// Makes `cmd` run as `run_as` and receive `deathsig` when tern's spawning thread
/// dies.
fn set_child_credentials(cmd: &mut Command, run_as: RunAs, view: &PgView, deathsig: libc::c_int) {
    // SAFETY: getpid cannot fail.
    let parent = unsafe { libc::getpid() };
    let creds = run_as.switch.then_some((run_as.uid, run_as.gid));
    let bind = view.bind.clone();
    // SAFETY: the closure runs between fork and exec and calls only
    // async-signal-safe functions, allocating nothing (the paths are made before).
    unsafe {
        cmd.pre_exec(move || {
            if let Some(bind) = &bind {
                // Still root: a mount namespace of the child's own, where the data
                // directory also appears at the reachable mount point. Private
                // first, so the bind does not propagate back to the host.
                let (source, target) = (&bind.0, &bind.1);
                if libc::unshare(libc::CLONE_NEWNS) != 0
                    || libc::mount(
                        std::ptr::null(),
                        c"/".as_ptr(),
                        std::ptr::null(),
                        libc::MS_REC | libc::MS_PRIVATE,
                        std::ptr::null(),
                    ) != 0
                    || libc::mount(
                        source.as_ptr(),
                        target.as_ptr(),
                        std::ptr::null(),
                        libc::MS_BIND | libc::MS_REC,
                        std::ptr::null(),
                    ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            if let Some((uid, gid)) = creds {
                if libc::setgroups(1, &gid) != 0 || libc::setgid(gid) != 0 || libc::setuid(uid) != 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            // After setuid: a credential change clears the parent-death signal.
            if libc::prctl(libc::PR_SET_PDEATHSIG, deathsig as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // tern died before prctl took effect: nobody would stop us.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

fn chown_tree(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    if fs::symlink_metadata(path)?.is_dir() {
        for entry in fs::read_dir(path)? {
            chown_tree(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// The first ancestor of `data_dir` the PostgreSQL user may not enter, if any.
/// (Supplementary groups and ACLs are not checked: a false alarm only costs the
/// private view below.)
fn unreachable_ancestor(data_dir: &Path, run_as: RunAs) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    data_dir.ancestors().skip(1).find_map(|dir| {
        let meta = fs::metadata(dir).ok()?;
        let mode = meta.mode();
        let can_enter = if meta.uid() == run_as.uid {
            mode & 0o100 != 0
        } else if meta.gid() == run_as.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        (!can_enter).then(|| dir.to_owned())
    })
}

/// Where PostgreSQL's processes find the data directory. Normally at its own path.
/// A root tern whose data directory lies below a directory the PostgreSQL user may
/// not enter (root's 0700 home, a `mktemp -d`) binds it onto an empty mount point
/// under `/run/tern`, in a mount namespace of PostgreSQL's own: the data stays where
/// the user put it, nothing outside is made more open, and the host sees no mount.
#[derive(Clone, Debug)]
struct PgView {
    /// The data directory as PostgreSQL sees it.
    dir: PathBuf,
    /// (data directory, mount point) when bound.
    bind: Option<Arc<(CString, CString)>>,
}

impl PgView {
    fn direct(data_dir: &Path) -> PgView {
        PgView {
            dir: data_dir.to_owned(),
            bind: None,
        }
    }

    /// `path` (below the data directory) as PostgreSQL sees it.
    fn of(&self, data_dir: &Path, path: &Path) -> PathBuf {
        match path.strip_prefix(data_dir) {
            Ok(rest) => self.dir.join(rest),
            Err(_) => path.to_owned(),
        }
    }
}

/// The empty directory a private view is mounted on; removed with the cluster.
#[derive(Debug)]
struct MountPoint(PathBuf);

impl Drop for MountPoint {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}

/// Makes a fresh mount point under `/run/tern` (root's, mode 0755, so any user may
/// pass), first removing the empty ones of terns that no longer run.
fn make_mount_point() -> io::Result<MountPoint> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = Path::new("/run/tern");
    DirBuilder::new().recursive(true).mode(0o755).create(base)?;
    fs::set_permissions(base, fs::Permissions::from_mode(0o755))?;
    for entry in fs::read_dir(base)?.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("pg-"))
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<i32>().ok());
        // SAFETY: kill with signal 0 only checks that the process exists.
        if pid.is_some_and(|p| p > 0 && unsafe { libc::kill(p, 0) } != 0) {
            let _ = fs::remove_dir(entry.path());
        }
    }
    let path = base.join(format!(
        "pg-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    match DirBuilder::new().mode(0o755).create(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    Ok(MountPoint(path))
}

/// The view PostgreSQL gets of `data_dir`, checked by running `true` through it, so
/// a view that cannot work is one plain error before initdb says something obscure.
fn pg_view(data_dir: &Path, run_as: RunAs) -> Result<(PgView, Option<MountPoint>)> {
    let Some(blocked) = run_as
        .switch
        .then(|| unreachable_ancestor(data_dir, run_as))
        .flatten()
    else {
        return Ok((PgView::direct(data_dir), None));
    };
    let unreachable = |reason: String| Error::DataDirUnreachable {
        uid: run_as.uid,
        blocked: blocked.clone(),
        data_dir: data_dir.to_owned(),
        reason,
    };
    let mount = make_mount_point().map_err(|e| unreachable(format!("/run/tern: {e}")))?;
    let cstr = |p: &Path| CString::new(p.as_os_str().as_encoded_bytes().to_vec());
    let (Ok(source), Ok(target)) = (cstr(data_dir), cstr(&mount.0)) else {
        return Err(unreachable("a path holds a NUL byte".into()));
    };
    let view = PgView {
        dir: mount.0.clone(),
        bind: Some(Arc::new((source, target))),
    };
    let mut probe = Command::new("/bin/sh");
    probe
        .arg("-c")
        .arg("test -x \"$0\"")
        .arg(&view.dir)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    set_child_credentials(&mut probe, run_as, &view, libc::SIGKILL);
    match probe.status() {
        Ok(s) if s.success() => {}
        Ok(s) => {
            return Err(unreachable(format!(
                "{} is not reachable through it ({s})",
                view.dir.display()
            )))
        }
        Err(e) => return Err(unreachable(format!("a private mount namespace: {e}"))),
    }
    info!(
        "STORE_EMBEDDED_PRIVATE_VIEW PostgreSQL runs as uid {} and may not enter {}: it sees {} at {} (a mount of its own)",
        run_as.uid,
        blocked.display(),
        data_dir.display(),
        view.dir.display()
    );
    Ok((view, Some(mount)))
}

fn owner_of(path: &Path) -> io::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    Ok(fs::metadata(path)?.uid())
}

/// Joins the last `max` non-empty lines of `text` into one line.
fn one_line(text: &str, max: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &lines[lines.len().saturating_sub(max)..];
    if tail.is_empty() {
        "(no output)".to_owned()
    } else {
        tail.join(" | ")
    }
}

fn io_err(context: impl fmt::Display, path: &Path) -> impl FnOnce(io::Error) -> Error {
    let context = format!("{context} {}", path.display());
    move |e| Error::io(context, e)
}

/// The blocking part of starting: directories, initdb, stale pid file, spawn, wait.
fn launch(data_dir: &Path, opts: &EmbeddedOptions) -> Result<EmbeddedCluster> {
    fs::create_dir_all(data_dir).map_err(io_err("cannot create data directory", data_dir))?;
    let data_dir =
        fs::canonicalize(data_dir).map_err(io_err("cannot resolve data directory", data_dir))?;
    let bins = opts.binaries.find()?;
    let run_as = run_as()?;
    let pgdata = data_dir.join("pg");
    let socket_dir = data_dir.join("pg-socket");
    let log_path = data_dir.join("postgresql.log");
    let port = opts.tcp_port.unwrap_or(5432);

    let socket_path = socket_dir.join(format!(".s.PGSQL.{port}"));
    if socket_path.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(Error::SocketPathTooLong(socket_path));
    }

    if run_as.switch {
        // The PostgreSQL user must be able to pass through the data directory.
        let mode = fs::metadata(&data_dir)
            .map_err(io_err("cannot read", &data_dir))?
            .permissions()
            .mode();
        if mode & 0o001 == 0 {
            fs::set_permissions(
                &data_dir,
                fs::Permissions::from_mode((mode & 0o7777) | 0o001),
            )
            .map_err(io_err("cannot make traversable", &data_dir))?;
        }
    }
    let (view, mount) = pg_view(&data_dir, run_as)?;
    let pg_socket_path = view.of(&data_dir, &socket_path);
    if pg_socket_path.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(Error::SocketPathTooLong(pg_socket_path));
    }

    if !pgdata.join("PG_VERSION").exists() {
        initdb(&bins, run_as, &view, &data_dir, &pgdata, &opts.superuser)?;
    } else if run_as.switch
        && owner_of(&pgdata).map_err(io_err("cannot read", &pgdata))? != run_as.uid
    {
        chown_tree(&pgdata, run_as.uid, run_as.gid).map_err(io_err("cannot chown", &pgdata))?;
    }

    match DirBuilder::new().mode(0o700).create(&socket_dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_err("cannot create", &socket_dir)(e)),
    }
    fs::set_permissions(&socket_dir, fs::Permissions::from_mode(0o700))
        .map_err(io_err("cannot set mode of", &socket_dir))?;
    if run_as.switch {
        std::os::unix::fs::chown(&socket_dir, Some(run_as.uid), Some(run_as.gid))
            .map_err(io_err("cannot chown", &socket_dir))?;
    }

    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&log_path)
        .map_err(io_err("cannot open", &log_path))?;

    let postmaster = start_postmaster(
        &bins,
        run_as,
        &view,
        &data_dir,
        &pgdata,
        &socket_dir,
        port,
        opts,
        &log,
        &log_path,
    )?;
    Ok(EmbeddedCluster {
        data_dir,
        pgdata,
        socket_dir,
        log_path,
        port,
        superuser: opts.superuser.clone(),
        password: opts.password.clone(),
        tcp_port: opts.tcp_port,
        postmaster,
        stopped: false,
        _mount: mount,
    })
}

fn initdb(
    bins: &PgBinaries,
    run_as: RunAs,
    view: &PgView,
    data_dir: &Path,
    pgdata: &Path,
    superuser: &str,
) -> Result<()> {
    // initdb into a side directory and rename: a crash half-way leaves no
    // half-made cluster at `pg`.
    let tmp = data_dir.join("pg.initdb");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io_err("cannot remove", &tmp))?;
    }
    DirBuilder::new()
        .mode(0o700)
        .create(&tmp)
        .map_err(io_err("cannot create", &tmp))?;
    if run_as.switch {
        std::os::unix::fs::chown(&tmp, Some(run_as.uid), Some(run_as.gid))
            .map_err(io_err("cannot chown", &tmp))?;
    }
    info!(
        "STORE_EMBEDDED_INITDB creating a PostgreSQL cluster in {} with {}",
        pgdata.display(),
        bins.bindir().display()
    );
    let mut cmd = Command::new(bins.initdb());
    cmd.arg("--pgdata")
        .arg(view.of(data_dir, &tmp))
        .arg("--username")
        .arg(superuser)
        .args([
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--data-checksums",
        ])
        .current_dir("/")
        .stdin(Stdio::null());
    set_child_credentials(&mut cmd, run_as, view, libc::SIGKILL);
    let out = cmd.output().map_err(io_err("cannot run", &bins.initdb()))?;
    if !out.status.success() {
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return Err(Error::Initdb {
            status: out.status.to_string(),
            output: one_line(&text, 4),
        });
    }
    fs::rename(&tmp, pgdata).map_err(io_err("cannot rename cluster directory to", pgdata))?;
    // Make the rename itself durable.
    File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("cannot sync", data_dir))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn start_postmaster(
    bins: &PgBinaries,
    run_as: RunAs,
    view: &PgView,
    data_dir: &Path,
    pgdata: &Path,
    socket_dir: &Path,
    port: u16,
    opts: &EmbeddedOptions,
    log: &File,
    log_path: &Path,
) -> Result<Postmaster> {
    let onoff = |on: bool| if on { "on" } else { "off" };
    let settings = [
        format!(
            "listen_addresses={}",
            if opts.tcp_port.is_some() {
                "127.0.0.1"
            } else {
                ""
            }
        ),
        format!("port={port}"),
        format!(
            "unix_socket_directories=\"{}\"",
            view.of(data_dir, socket_dir).display()
        ),
        "unix_socket_permissions=0700".to_owned(),
        format!("max_connections={}", opts.max_connections),
        "shared_buffers=64MB".to_owned(),
        format!("fsync={}", onoff(opts.durable)),
        format!("synchronous_commit={}", onoff(opts.durable)),
        format!("full_page_writes={}", onoff(opts.durable)),
        "password_encryption=scram-sha-256".to_owned(),
        "logging_collector=off".to_owned(),
        "log_line_prefix=%m [%p] ".to_owned(),
    ];
    let make_command = || -> Result<Command> {
        let mut cmd = Command::new(bins.postgres());
        cmd.arg("-D").arg(view.of(data_dir, pgdata));
        for s in &settings {
            cmd.arg("-c").arg(s);
        }
        cmd.current_dir("/")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io_err("cannot use", log_path))?)
            .stderr(log.try_clone().map_err(io_err("cannot use", log_path))?)
            // Its own process group: a Ctrl-C at tern's terminal is for tern,
            // which then stops PostgreSQL in order.
            .process_group(0);
        set_child_credentials(&mut cmd, run_as, view, libc::SIGINT);
        Ok(cmd)
    };

    // A server that was just killed may leave children or shared memory behind
    // for a moment; PostgreSQL then refuses to start, and we try again.
    let retry_until = Instant::now() + OLD_SERVER_WAIT;
    loop {
        wait_for_old_server(pgdata)?;
        let log_offset = fs::metadata(log_path).map(|m| m.len()).unwrap_or(0);
        let mut postmaster = Postmaster::spawn(make_command()?, bins)?;
        match wait_ready(
            &postmaster,
            pgdata,
            &socket_dir.join(format!(".s.PGSQL.{port}")),
            opts.start_timeout,
        ) {
            Ok(()) => return Ok(postmaster),
            Err(NotReady::Exited(status)) => {
                postmaster.join();
                let log_tail = read_log_tail(log_path, log_offset);
                let transient = ["is still in use", "lock file", "another postmaster"]
                    .iter()
                    .any(|m| log_tail.contains(m));
                if transient && Instant::now() < retry_until {
                    info!("STORE_EMBEDDED_RETRY PostgreSQL not ready to start yet ({log_tail}); retrying");
                    std::thread::sleep(Duration::from_millis(500));
                    continue;
                }
                return Err(Error::ClusterStart {
                    reason: format!("postgres exited ({status})"),
                    log_tail,
                });
            }
            Err(NotReady::Timeout) => {
                postmaster.signal(libc::SIGQUIT);
                postmaster.wait_exit(IMMEDIATE_SHUTDOWN_WAIT);
                postmaster.join();
                return Err(Error::ClusterStart {
                    reason: format!(
                        "not accepting connections after {} s",
                        opts.start_timeout.as_secs()
                    ),
                    log_tail: read_log_tail(log_path, log_offset),
                });
            }
        }
    }
}

fn read_log_tail(path: &Path, offset: u64) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.seek(SeekFrom::Start(offset));
        let _ = f.take(64 * 1024).read_to_string(&mut text);
    }
    one_line(&text, 5)
}

enum NotReady {
    Exited(String),
    Timeout,
}

/// Waits as `pg_ctl -w` does: until `postmaster.pid` names our child and says
/// "ready" (written once recovery is over and connections are accepted).
fn wait_ready(
    pm: &Postmaster,
    pgdata: &Path,
    socket: &Path,
    timeout: Duration,
) -> Result<(), NotReady> {
    let start = Instant::now();
    let mut next_note = Duration::from_secs(10);
    loop {
        if let Some(status) = pm.exit_status() {
            return Err(NotReady::Exited(status));
        }
        if let Ok(text) = fs::read_to_string(pgdata.join("postmaster.pid")) {
            let lines: Vec<&str> = text.lines().collect();
            let ours = lines.first().and_then(|l| l.trim().parse::<i32>().ok()) == Some(pm.pid);
            if ours && lines.get(7).map(|s| s.trim()) == Some("ready") && socket.exists() {
                return Ok(());
            }
        }
        if start.elapsed() > timeout {
            return Err(NotReady::Timeout);
        }
        if start.elapsed() > next_note {
            info!(
                "STORE_EMBEDDED_WAITING PostgreSQL (PID {}) not accepting connections yet after {} s (recovering?)",
                pm.pid,
                next_note.as_secs()
            );
            next_note += Duration::from_secs(10);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Before starting: a `postmaster.pid` whose PID is not a running PostgreSQL of
/// this data directory is stale and removed. If that PostgreSQL still runs (a
/// previous tern was killed and it is shutting down), wait for it.
fn wait_for_old_server(pgdata: &Path) -> Result<()> {
    let pid_file = pgdata.join("postmaster.pid");
    let start = Instant::now();
    let mut announced = false;
    loop {
        let text = match fs::read_to_string(&pid_file) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err("cannot read", &pid_file)(e)),
        };
        let pid = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse::<i32>().ok());
        match pid.filter(|&pid| pid > 0 && is_server_of(pid, pgdata)) {
            None => {
                warn!(
                    "STORE_EMBEDDED_STALE_PID removing {} (PID {}) left by a PostgreSQL that no longer runs",
                    pid_file.display(),
                    pid.map(|p| p.to_string()).unwrap_or_else(|| "unreadable".into())
                );
                match fs::remove_file(&pid_file) {
                    Ok(()) => return Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(io_err("cannot remove", &pid_file)(e)),
                }
            }
            Some(pid) => {
                if start.elapsed() >= OLD_SERVER_WAIT {
                    return Err(Error::ClusterBusy {
                        pid,
                        data_dir: pgdata.to_owned(),
                    });
                }
                if !announced {
                    info!(
                        "STORE_EMBEDDED_WAIT_OLD PostgreSQL (PID {pid}) still runs on {}: waiting up to {} s for it to exit",
                        pgdata.display(),
                        OLD_SERVER_WAIT.as_secs()
                    );
                    announced = true;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// True if `pid` is a live PostgreSQL process working in `pgdata`.
fn is_server_of(pid: i32, pgdata: &Path) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // The state letter follows the parenthesised command name.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    if matches!(state, Some('Z' | 'X' | 'x')) {
        return false;
    }
    let cmdline = fs::read(proc_dir.join("cmdline")).unwrap_or_default();
    let argv0 =
        String::from_utf8_lossy(cmdline.split(|&b| b == 0).next().unwrap_or_default()).into_owned();
    let named = argv0.starts_with("postgres")
        || Path::new(argv0.split_whitespace().next().unwrap_or(""))
            .file_name()
            .is_some_and(|n| n == "postgres");
    let exe = fs::read_link(proc_dir.join("exe"))
        .ok()
        .and_then(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().starts_with("postgres"))
        })
        .unwrap_or(false);
    if !named && !exe {
        return false;
    }
    // PostgreSQL works in its data directory; one of another cluster that got
    // the same PID does not. If we may not look, assume it is ours.
    // Compared by inode: a server started through a private view (`PgView`) has
    // another path for the same directory.
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(proc_dir.join("cwd")), fs::metadata(pgdata)) {
        (Ok(cwd), Ok(dir)) => cwd.dev() == dir.dev() && cwd.ino() == dir.ino(),
        _ => true,
    }
}

/// The postmaster child and the thread that spawned it and waits for it.
///
/// The thread must outlive the server: PR_SET_PDEATHSIG fires when the spawning
/// *thread* exits. It marks the exit under a lock before reaping, and signals are
/// only sent under that lock to an unmarked child, so a signal can never reach a
/// recycled PID.
struct Postmaster {
    pid: i32,
    exit: Arc<(Mutex<Option<String>>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Postmaster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Postmaster")
            .field("pid", &self.pid)
            .finish()
    }
}

impl Postmaster {
    fn spawn(mut cmd: Command, bins: &PgBinaries) -> Result<Postmaster> {
        let exit = Arc::new((Mutex::new(None), Condvar::new()));
        let thread_exit = Arc::clone(&exit);
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tern-postgres".to_owned())
            .spawn(move || {
                let mut child = match cmd.spawn() {
                    Ok(child) => child,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let pid = child.id() as i32;
                let _ = tx.send(Ok(pid));
                wait_exited_without_reaping(pid);
                let (lock, cond) = &*thread_exit;
                let mut slot = lock_ignoring_poison(lock);
                let status = match child.wait() {
                    Ok(status) => status.to_string(),
                    Err(e) => format!("unknown exit status: {e}"),
                };
                *slot = Some(status);
                cond.notify_all();
            })
            .map_err(|e| Error::io("cannot start a thread for PostgreSQL", e))?;
        let pid = match rx.recv() {
            Ok(Ok(pid)) => pid,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(io_err("cannot start", &bins.postgres())(e));
            }
            Err(_) => {
                let _ = thread.join();
                return Err(Error::io(
                    "PostgreSQL launcher thread died",
                    io::Error::other("no PID"),
                ));
            }
        };
        Ok(Postmaster {
            pid,
            exit,
            thread: Some(thread),
        })
    }

    /// Sends `signal` unless the server has exited; false if it had.
    fn signal(&self, signal: libc::c_int) -> bool {
        let slot = lock_ignoring_poison(&self.exit.0);
        if slot.is_some() {
            return false;
        }
        // SAFETY: kill has no memory effects; the PID is our unreaped child.
        unsafe { libc::kill(self.pid, signal) };
        true
    }

    fn exit_status(&self) -> Option<String> {
        lock_ignoring_poison(&self.exit.0).clone()
    }

    fn wait_exit(&self, timeout: Duration) -> Option<String> {
        let (lock, cond) = &*self.exit;
        let slot = lock_ignoring_poison(lock);
        let (slot, _) = cond
            .wait_timeout_while(slot, timeout, |s| s.is_none())
            .unwrap_or_else(|e| e.into_inner());
        slot.clone()
    }

    fn join(&mut self) {
        if self.exit_status().is_some() {
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

fn lock_ignoring_poison<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn wait_exited_without_reaping(pid: i32) {
    loop {
        // SAFETY: waitid writes only into `info`.
        let rc = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_keeps_the_last_lines() {
        assert_eq!(one_line("a\n\n b \nc\n", 2), "b | c");
        assert_eq!(one_line("", 2), "(no output)");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn own_process_is_not_a_postgres_server() {
        let me = std::process::id() as i32;
        assert!(!is_server_of(me, Path::new("/")));
        assert!(!is_server_of(i32::MAX, Path::new("/")));
    }
}
