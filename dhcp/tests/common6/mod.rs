//! What the DHCPv6 tests that put clients and servers in network namespaces share
//! (`clients6.rs`, `oracle6.rs`): two namespaces joined by a veth pair, the server's end
//! (2001:db8:1::1/64) in one, the client's end in the other, so nothing touches the
//! host's interfaces. Duplicate address detection is off in both namespaces before the
//! veth is made (a tentative link-local makes clients fail to bind). tern's sockets are
//! opened inside the server's namespace from a thread that entered it with setns(2);
//! the service runs on the test's runtime. Processes a test starts (clients, Kea) run
//! in process groups of their own and are killed by that id when done or when the test
//! panics; namespaces are deleted in Drop.
//!
//! Also here: a raw DHCPv6 client on tern's own wire types, message builders, and the
//! lease6 rows as a user reads them with SQL.

#![allow(dead_code)]

use std::fs::File;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Row as _;
use tern_dhcp::v6::net::{self as net6, Listener6};
use tern_dhcp::v6::wire::{code, Ia, IaAddr, Message, Opt, Packet};
use tern_dhcp::v6::{Config6, Dhcp6Handle, Dhcp6Service, Ports6, Stats6};
use tern_store::testing::TestDb;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub const SERVER_ADDR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
pub const ALL_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);

/// Whether `bin` is installed; when not, the test is skipped (outside CI) or fails
/// (under `CI=true`), by tern-testkit's `peer_missing`.
pub fn have(test: &str, bin: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        tern_testkit::peer_missing(
            test,
            &format!("{bin} not installed (apt-get install {package})"),
        );
    }
    found
}

pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two namespaces joined by a veth pair; deleted on drop.
pub struct Netns {
    pub server: String,
    pub client: String,
    pub server_if: String,
    pub client_if: String,
    pub dir: tempfile::TempDir,
}

impl Netns {
    pub fn new(client_mac: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        // Interface names: at most 15 bytes.
        let me = Netns {
            server: format!("tern6-{pid}-{n}-srv"),
            client: format!("tern6-{pid}-{n}-cli"),
            server_if: format!("s6{}{n}", pid % 100_000),
            client_if: format!("c6{}{n}", pid % 100_000),
            dir: tempfile::tempdir().unwrap(),
        };
        for ns in [&me.server, &me.client] {
            run("ip", &["netns", "add", ns]);
            // Before the veth exists, so its addresses are never tentative.
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    ns,
                    "sysctl",
                    "-q",
                    "-w",
                    "net.ipv6.conf.all.accept_dad=0",
                    "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.all.dad_transmits=0",
                    "net.ipv6.conf.default.dad_transmits=0",
                    // EUI-64 link-locals: the server finds the client's MAC in them.
                    "net.ipv6.conf.default.addr_gen_mode=0",
                ],
            );
        }
        run(
            "ip",
            &[
                "link",
                "add",
                &me.server_if,
                "netns",
                &me.server,
                "type",
                "veth",
                "peer",
                "name",
                &me.client_if,
                "netns",
                &me.client,
            ],
        );
        run(
            "ip",
            &[
                "-n",
                &me.client,
                "link",
                "set",
                &me.client_if,
                "address",
                client_mac,
            ],
        );
        run(
            "ip",
            &[
                "-n",
                &me.server,
                "addr",
                "add",
                "2001:db8:1::1/64",
                "dev",
                &me.server_if,
                "nodad",
            ],
        );
        for (ns, dev) in [(&me.server, &me.server_if), (&me.client, &me.client_if)] {
            run("ip", &["-n", ns, "link", "set", dev, "up"]);
            run("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        me.wait_link_local(&me.server, &me.server_if);
        me.wait_link_local(&me.client, &me.client_if);
        me
    }

    /// Waits (at most 5 s) until `dev` has a link-local address that is not tentative.
    fn wait_link_local(&self, ns: &str, dev: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let out = run("ip", &["-n", ns, "-6", "addr", "show", "dev", dev]);
            let ready = out
                .lines()
                .any(|l| l.contains("inet6 fe80") && !l.contains("tentative"));
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no usable link-local address on {dev} in {ns}:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Adds a global address (no DAD) to the client's interface.
    pub fn add_client_address(&self, cidr: &str) {
        run(
            "ip",
            &[
                "-n",
                &self.client,
                "addr",
                "add",
                cidr,
                "dev",
                &self.client_if,
                "nodad",
            ],
        );
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `f` on a thread inside namespace `ns`.
    pub fn enter<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{ns}");
        std::thread::spawn(move || {
            let fd = File::open(&path).expect("namespace file");
            // SAFETY: setns on this thread only; the fd is valid while `fd` lives.
            let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("namespace thread")
    }

    /// Starts `args` inside the client namespace, in a process group of its own,
    /// output to `<name>.stdout` / `<name>.stderr` in the test's directory.
    pub fn spawn(&self, name: &str, args: &[String]) -> Proc {
        self.spawn_in(&self.client, name, args, &[])
    }

    /// Starts `args` inside namespace `ns` with `envs` added to its environment, in a
    /// process group of its own, output to `<name>.stdout` / `<name>.stderr` in the
    /// test's directory.
    pub fn spawn_in(&self, ns: &str, name: &str, args: &[String], envs: &[(&str, &Path)]) -> Proc {
        let out = File::create(self.path(&format!("{name}.stdout"))).unwrap();
        let err = File::create(self.path(&format!("{name}.stderr"))).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Proc {
            child,
            done: None,
            name: name.to_string(),
            dir: self.dir.path().to_path_buf(),
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.server])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.client])
            .status();
    }
}

pub fn if_index(dev: &str) -> u32 {
    let c = std::ffi::CString::new(dev).unwrap();
    // SAFETY: c is a valid NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert_ne!(i, 0, "no interface {dev}");
    i
}

/// A process this test started, leader of its own process group. The group is killed
/// by its id (while the leader is not yet reaped, so the id cannot have been reused)
/// when the process is done or dropped.
pub struct Proc {
    child: Child,
    done: Option<ExitStatus>,
    name: String,
    dir: PathBuf,
}

impl Proc {
    /// Whether it has exited; then its group is killed and it is reaped.
    pub fn exited(&mut self) -> bool {
        if self.done.is_some() {
            return true;
        }
        // SAFETY: an all-zero siginfo_t is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is valid for writing; WNOWAIT leaves the child unreaped, so
        // its id (and its process group's) stays ours until `stop` reaps it.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                self.child.id() as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        // SAFETY: waitid filled info (si_pid 0 when the child has not changed state).
        if rc == 0 && unsafe { info.si_pid() } != 0 {
            self.stop();
            return true;
        }
        false
    }

    /// Kills its process group and reaps it.
    pub fn stop(&mut self) -> ExitStatus {
        if let Some(s) = self.done {
            return s;
        }
        // SAFETY: kill(2) of the process group this test started; its leader is not
        // reaped yet, so the id is still ours.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let s = self.child.wait().expect("reap a child process");
        self.done = Some(s);
        s
    }

    /// Waits at most `secs` for it to exit by itself.
    pub async fn wait(&mut self, secs: u64) -> Option<ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.exited() {
                return self.done;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Its output so far (for failure messages).
    pub fn output(&self) -> String {
        let read = |ext: &str| read(&self.dir.join(format!("{}.{ext}", self.name)));
        format!(
            "--- {} stdout:\n{}--- stderr:\n{}",
            self.name,
            read("stdout"),
            read("stderr")
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

// ---------------------------------------------------------------------------------
// tern's DHCPv6 service inside the server namespace.

pub struct Server {
    pub db: TestDb,
    handle: Option<Dhcp6Handle>,
    stats: Arc<Stats6>,
}

/// A lease6 row as a user reads it with SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub address: Ipv6Addr,
    pub lease_type: i16,
    pub prefix_len: i16,
    pub iaid: i32,
    pub state: i64,
    pub hwaddr_source: Option<i16>,
    pub valid: i64,
    pub preferred: i64,
    pub duid: Option<Vec<u8>>,
    pub hwaddr: Option<Vec<u8>>,
    /// Seconds until it expires.
    pub left: i64,
    pub subnet_id: i64,
    pub fqdn_fwd: Option<bool>,
    pub fqdn_rev: Option<bool>,
    pub hostname: Option<String>,
    pub hwtype: Option<i16>,
}

impl Server {
    /// Serves `cfg` on the server's veth with a store on `db`.
    pub async fn start_on(ns: &Netns, db: TestDb, cfg: Config6) -> Server {
        let iface = ns.server_if.clone();
        let listener = Netns::enter(&ns.server, move || {
            let index = if_index(&iface);
            let socket = net6::bind(&iface, index, 547).unwrap();
            Listener6 {
                iface,
                index,
                socket,
            }
        });
        let stats: Arc<Stats6> = Arc::default();
        let handle = Dhcp6Service::start_with(
            cfg,
            db.store().clone(),
            vec![listener],
            Ports6::default(),
            stats.clone(),
        )
        .await
        .unwrap();
        let stats = handle.stats();
        Server {
            db,
            handle: Some(handle),
            stats,
        }
    }

    pub fn duid(&self) -> Vec<u8> {
        self.handle.as_ref().unwrap().duid()
    }

    pub fn stat(&self, name: &str) -> i64 {
        self.stats
            .get(name)
            .unwrap_or_else(|| panic!("no statistic {name}"))
    }

    pub async fn rows(&self) -> Vec<Row> {
        let rows = sqlx::query(
            "SELECT host(address), lease_type, prefix_len, iaid, state, hwaddr_source, \
             valid_lifetime, pref_lifetime, duid, hwaddr, \
             extract(epoch FROM expire - now())::bigint, subnet_id, \
             fqdn_fwd, fqdn_rev, hostname, hwtype FROM lease6 ORDER BY address",
        )
        .fetch_all(self.db.pool())
        .await
        .unwrap();
        rows.into_iter()
            .map(|r| Row {
                address: r.get::<String, _>(0).parse().unwrap(),
                lease_type: r.get(1),
                prefix_len: r.get(2),
                iaid: r.get(3),
                state: r.get(4),
                hwaddr_source: r.get(5),
                valid: r.get(6),
                preferred: r.get(7),
                duid: r.get(8),
                hwaddr: r.get(9),
                left: r.get(10),
                subnet_id: r.get(11),
                fqdn_fwd: r.get(12),
                fqdn_rev: r.get(13),
                hostname: r.get(14),
                hwtype: r.get(15),
            })
            .collect()
    }

    pub async fn row(&self, a: Ipv6Addr) -> Option<Row> {
        self.rows().await.into_iter().find(|r| r.address == a)
    }

    /// The row of `a` once `ok` holds for it (at most 5 s).
    pub async fn row_when(&self, a: Ipv6Addr, ok: impl Fn(&Row) -> bool) -> Row {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let r = self.row(a).await;
            match r {
                Some(r) if ok(&r) => return r,
                _ if Instant::now() >= deadline => {
                    panic!(
                        "lease6 row of {a} is {r:?}; all rows: {:#?}",
                        self.rows().await
                    )
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Stops serving; the database stays with the caller.
    pub async fn into_db(mut self) -> TestDb {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
        self.db
    }

    pub async fn stop(self) {
        self.into_db().await;
    }
}

pub fn mac_bytes(mac: &str) -> Vec<u8> {
    mac.split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// The IAID ISC dhclient and the raw client use: the last four bytes of the MAC.
pub fn mac_iaid(mac: &str) -> u32 {
    let m = mac_bytes(mac);
    u32::from_be_bytes([m[2], m[3], m[4], m[5]])
}

pub fn in_pool(a: Ipv6Addr, pool: (Ipv6Addr, Ipv6Addr)) -> bool {
    (pool.0..=pool.1).contains(&a)
}

// ---------------------------------------------------------------------------------
// A hand-made client (and relay) with tern's own wire types.

pub struct RawClient {
    pub socket: tokio::net::UdpSocket,
    pub index: u32,
}

impl RawClient {
    /// A socket on `[::]:port` tied to the client's veth.
    pub fn new(ns: &Netns, port: u16) -> RawClient {
        let iface = ns.client_if.clone();
        let (socket, index) = Netns::enter(&ns.client, move || {
            let index = if_index(&iface);
            (net6::bind(&iface, index, port).unwrap(), index)
        });
        RawClient {
            socket: tokio::net::UdpSocket::from_std(socket).unwrap(),
            index,
        }
    }

    /// To All_DHCP_Relay_Agents_and_Servers on the link.
    pub async fn multicast(&self, bytes: &[u8]) {
        self.socket
            .send_to(bytes, SocketAddrV6::new(ALL_SERVERS, 547, 0, self.index))
            .await
            .unwrap();
    }

    pub async fn send(&self, m: Message) {
        self.multicast(&Packet::Client(m).encode()).await;
    }

    /// The next datagram that decodes, within `wait`.
    pub async fn recv_any(&self, wait: Duration) -> Option<(Packet, SocketAddrV6)> {
        self.recv_raw(wait).await.map(|(p, _, from)| (p, from))
    }

    /// The next datagram that decodes, within `wait`, with its bytes.
    pub async fn recv_raw(&self, wait: Duration) -> Option<(Packet, Vec<u8>, SocketAddrV6)> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut buf = vec![0u8; 65536];
        loop {
            let r = tokio::time::timeout_at(deadline, self.socket.recv_from(&mut buf)).await;
            let Ok(Ok((n, from))) = r else {
                return None;
            };
            let std::net::SocketAddr::V6(from) = from else {
                continue;
            };
            if let Ok(p) = Packet::decode(&buf[..n]) {
                return Some((p, buf[..n].to_vec(), from));
            }
        }
    }

    /// The server's answer to transaction `xid` within `wait`, with its bytes.
    pub async fn recv_bytes(&self, xid: u32, wait: Duration) -> Option<(Message, Vec<u8>)> {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            let (p, bytes, _) = self.recv_raw(left).await?;
            if let Packet::Client(m) = p {
                if m.xid == xid {
                    return Some((m, bytes));
                }
            }
        }
        None
    }

    /// The server's answer to transaction `xid` (at most 2 s).
    pub async fn recv(&self, xid: u32) -> Option<Message> {
        self.recv_bytes(xid, Duration::from_secs(2))
            .await
            .map(|(m, _)| m)
    }

    pub async fn exchange(&self, m: Message) -> Message {
        let (t, xid) = (m.msg_type, m.xid);
        self.send(m).await;
        self.recv(xid)
            .await
            .unwrap_or_else(|| panic!("no answer to message type {t}, xid {xid:#x}"))
    }
}

pub fn message(msg_type: u8, xid: u32, options: Vec<Opt>) -> Message {
    Message {
        msg_type,
        xid,
        options,
    }
}

pub fn duid_ll(mac: &str) -> Vec<u8> {
    let mut d = vec![0, 3, 0, 1];
    d.extend(mac_bytes(mac));
    d
}

pub fn ia_na(iaid: u32, addrs: &[Ipv6Addr]) -> Opt {
    Opt::IaNa(Ia {
        iaid,
        t1: 0,
        t2: 0,
        options: addrs
            .iter()
            .map(|a| {
                Opt::IaAddr(IaAddr {
                    addr: *a,
                    preferred: 0,
                    valid: 0,
                    options: Vec::new(),
                })
            })
            .collect(),
    })
}

pub fn the_ia_na(m: &Message) -> &Ia {
    match m.opt(code::IA_NA) {
        Some(Opt::IaNa(ia)) => ia,
        other => panic!("no IA_NA in {m:?}: {other:?}"),
    }
}

pub fn ia_addrs(ia: &Ia) -> Vec<&IaAddr> {
    ia.options
        .iter()
        .filter_map(|o| match o {
            Opt::IaAddr(a) => Some(a),
            _ => None,
        })
        .collect()
}

pub fn status_of(opts: &[Opt]) -> Option<u16> {
    opts.iter().find_map(|o| match o {
        Opt::Status { code, .. } => Some(*code),
        _ => None,
    })
}
