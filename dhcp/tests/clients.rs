//! Real DHCP clients (dhclient, udhcpc) against the engine, each test in network
//! namespaces of its own: the server's end of a veth pair in one namespace (address
//! 192.0.2.1/24), the client's end in another, so nothing touches the host's
//! interfaces. The server's sockets are opened inside its namespace from a thread
//! that entered it with setns(2); the service itself runs on the test's runtime.
//! Namespaces are deleted and client processes killed by PID in Drop guards, also
//! when a test panics. Needs root, iproute2, isc-dhcp-client and udhcpc.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dhcproto::v4::{DhcpOption, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};
use tern_dhcp::{net, Dhcp4Handle, Dhcp4Service, Ports, ServerConfig, Stats};
use tern_store::testing::{self, TestDb};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by a veth pair; deleted on drop.
struct Netns {
    server: String,
    client: String,
    server_if: String,
    client_if: String,
    dir: tempfile::TempDir,
    pids: Vec<PathBuf>,
}

impl Netns {
    fn new(client_mac: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let server = format!("tern-{pid}-{n}-srv");
        let client = format!("tern-{pid}-{n}-cli");
        // Interface names: at most 15 bytes.
        let server_if = format!("ts{}{n}", pid % 100_000);
        let client_if = format!("tc{}{n}", pid % 100_000);
        let me = Netns {
            server,
            client,
            server_if,
            client_if,
            dir: tempfile::tempdir().unwrap(),
            pids: Vec::new(),
        };
        run("ip", &["netns", "add", &me.server]);
        run("ip", &["netns", "add", &me.client]);
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
                &me.server,
                "addr",
                "add",
                "192.0.2.1/24",
                "dev",
                &me.server_if,
            ],
        );
        run(
            "ip",
            &["-n", &me.server, "link", "set", &me.server_if, "up"],
        );
        run("ip", &["-n", &me.server, "link", "set", "lo", "up"]);
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
            &["-n", &me.client, "link", "set", &me.client_if, "up"],
        );
        run("ip", &["-n", &me.client, "link", "set", "lo", "up"]);
        me
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `f` on a thread inside namespace `ns`.
    fn enter<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
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
}

impl Drop for Netns {
    fn drop(&mut self) {
        for p in &self.pids {
            if let Ok(s) = std::fs::read_to_string(p) {
                if let Ok(pid) = s.trim().parse::<i32>() {
                    // SAFETY: plain kill(2) of a PID this test started.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.server])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.client])
            .status();
    }
}

const CONFIG: &str = r#"{"Dhcp4": {
    "interfaces-config": {"interfaces": ["IFACE"]},
    "option-def": [{"name": "my-message", "code": 234, "type": "string", "space": "dhcp4"}],
    "option-data": [{"name": "my-message", "data": "Hello World"}],
    "valid-lifetime": 600, "renew-timer": 300, "rebind-timer": 500,
    "subnet4": [{
        "id": 1, "subnet": "192.0.2.0/24",
        "pools": [{"pool": "192.0.2.100 - 192.0.2.150"}],
        "option-data": [
            {"name": "routers", "data": "192.0.2.1"},
            {"name": "domain-name-servers", "data": "192.0.2.53"}
        ],
        "reservations": [{
            "hw-address": "02:00:00:00:aa:01", "ip-address": "192.0.2.77",
            "hostname": "reserved-host",
            "option-data": [{"name": "domain-name", "data": "reserved.example"}]
        }]
    }]
}}"#;

struct Server {
    db: TestDb,
    handle: Option<Dhcp4Handle>,
    stats: Arc<Stats>,
}

impl Server {
    async fn start(ns: &Netns) -> Server {
        Server::start_with(ns, CONFIG).await
    }

    /// A server on `config` (its `IFACE` replaced by the server's interface).
    async fn start_with(ns: &Netns, config: &str) -> Server {
        let db = testing::fresh_db().await;
        let text = config.replace("IFACE", &ns.server_if);
        let config = tern_config::parse_str(&text, "clients.json").unwrap();
        let dhcp4 = config.dhcp4.unwrap();
        let cfg = ServerConfig::from_config(&dhcp4).unwrap();
        let ic = cfg.interfaces.clone();
        let listeners = Netns::enter(&ns.server, move || net::open(&ic, 67).unwrap());
        assert_eq!(listeners.len(), 1);
        assert_eq!(listeners[0].addr, Ipv4Addr::new(192, 0, 2, 1));
        let handle = Dhcp4Service::start_with(cfg, db.store().clone(), listeners, Ports::default())
            .await
            .unwrap();
        let stats = handle.stats();
        Server {
            db,
            handle: Some(handle),
            stats,
        }
    }

    async fn lease(&self, addr: Ipv4Addr) -> Option<(Vec<u8>, i64, i64, Option<String>, i64)> {
        sqlx::query_as(
            "SELECT hwaddr, state, extract(epoch FROM expire - now())::bigint, hostname, valid_lifetime FROM lease4 WHERE address = $1",
        )
        .bind(i64::from(u32::from(addr)))
        .fetch_optional(self.db.pool())
        .await
        .unwrap()
    }

    async fn stop(mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
    }
}

fn mac_bytes(mac: &str) -> Vec<u8> {
    mac.split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

const DHCLIENT_SCRIPT: &str = r#"#!/bin/sh
echo "$reason ip=$new_ip_address host=$new_host_name domain=$new_domain_name routers=$new_routers" >> "$OUT"
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT) ip addr add "$new_ip_address/24" dev "$interface" 2>/dev/null ;;
  RELEASE|STOP|EXPIRE|FAIL) [ -n "$old_ip_address" ] && ip addr del "$old_ip_address/24" dev "$interface" 2>/dev/null ;;
esac
exit 0
"#;

const UDHCPC_SCRIPT: &str = r#"#!/bin/sh
echo "$1 ip=$ip host=$hostname domain=$domain router=$router dns=$dns opt234=$opt234" >> "$OUT"
exit 0
"#;

fn script(ns: &Netns, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let out = ns.path(&format!("{name}.out"));
    let p = ns.path(name);
    std::fs::write(
        &p,
        body.replace("\"$OUT\"", &format!("\"{}\"", out.display())),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// The address in the last `BOUND`/`REBOOT`/`bound` line of a script's output.
fn bound_ip(out: &str) -> Option<Ipv4Addr> {
    out.lines()
        .rev()
        .filter(|l| {
            l.starts_with("BOUND")
                || l.starts_with("REBOOT")
                || l.starts_with("RENEW")
                || l.starts_with("bound")
        })
        .find_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("ip=")))
        .and_then(|s| s.parse().ok())
}

async fn dhclient(ns: &Netns, extra: &[&str]) -> std::process::Output {
    let sf = script(ns, "dhclient-script", DHCLIENT_SCRIPT);
    let pf = ns.path("dhclient.pid");
    let lf = ns.path("dhclient.leases");
    let (sf, pf, lf) = (
        sf.display().to_string(),
        pf.display().to_string(),
        lf.display().to_string(),
    );
    let mut args: Vec<String> = vec![
        "dhclient".into(),
        "-v".into(),
        "-pf".into(),
        pf,
        "-lf".into(),
        lf,
        "-sf".into(),
        sf,
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(ns.client_if.clone());
    let ns_client = ns.client.clone();
    tokio::task::spawn_blocking(move || {
        let mut all = vec![
            "netns".to_string(),
            "exec".into(),
            ns_client,
            "timeout".into(),
            "30".into(),
        ];
        all.extend(args);
        Command::new("ip").args(&all).output().unwrap()
    })
    .await
    .unwrap()
}

fn kill_pidfile(p: &Path) {
    if let Ok(s) = std::fs::read_to_string(p) {
        if let Ok(pid) = s.trim().parse::<i32>() {
            // SAFETY: kill(2) of the dhclient this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

#[tokio::test]
async fn dhclient_gets_renews_and_releases_a_lease() {
    let mac = "02:00:00:00:01:01";
    let mut ns = Netns::new(mac);
    ns.pids.push(ns.path("dhclient.pid"));
    let server = Server::start(&ns).await;

    let out = dhclient(&ns, &["-1"]).await;
    let log = read(&ns.path("dhclient-script.out"));
    let ip = bound_ip(&log).unwrap_or_else(|| {
        panic!(
            "dhclient got no lease: {}\n{log}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    kill_pidfile(&ns.path("dhclient.pid"));
    assert!(
        (100..=150).contains(&ip.octets()[3]) && ip.octets()[..3] == [192, 0, 2],
        "{ip} is not from the pool"
    );
    assert!(log.contains("routers=192.0.2.1"), "{log}");
    let (hw, state, left, _, valid) = server.lease(ip).await.expect("lease row");
    assert_eq!(hw, mac_bytes(mac));
    assert_eq!(state, 0);
    assert_eq!(valid, 600);
    assert!(
        (590..=600).contains(&left),
        "expire is now + 600 s, got {left}"
    );

    // Again: dhclient reboots with its remembered lease and keeps the address.
    let out = dhclient(&ns, &["-1"]).await;
    kill_pidfile(&ns.path("dhclient.pid"));
    let log = read(&ns.path("dhclient-script.out"));
    assert_eq!(
        bound_ip(&log),
        Some(ip),
        "{}\n{log}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(log.lines().last().unwrap().starts_with("REBOOT"), "{log}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM lease4")
        .fetch_one(server.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);

    // Release: the row stays, released (state 3) and expired.
    let out = dhclient(&ns, &["-r"]).await;
    let mut released = None;
    for _ in 0..50 {
        released = server.lease(ip).await;
        if released.as_ref().is_some_and(|l| l.1 == 3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, state, left, _, valid) = released.unwrap();
    assert_eq!(
        state,
        3,
        "lease not released: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(valid, 0);
    assert!(left <= 0);
    assert!(server.stats.get("pkt4-release-received").unwrap() >= 1);
    assert!(server.stats.get("pkt4-ack-sent").unwrap() >= 2);
    server.stop().await;
}

async fn udhcpc(ns: &Netns) -> (std::process::Output, String) {
    udhcpc_with(ns, UDHCPC_SCRIPT, &[]).await
}

/// udhcpc with `script` recording its events and `extra` arguments.
async fn udhcpc_with(
    ns: &Netns,
    script_body: &str,
    extra: &[&str],
) -> (std::process::Output, String) {
    let sf = script(ns, "udhcpc-script", script_body);
    let mut args = vec![
        "udhcpc".to_string(),
        "-i".into(),
        ns.client_if.clone(),
        "-n".into(),
        "-q".into(),
        "-f".into(),
        "-t".into(),
        "5".into(),
        "-T".into(),
        "2".into(),
        "-s".into(),
        sf.display().to_string(),
        // The custom option of CONFIG (option-def); busybox hands it to the script
        // as hex in $opt234.
        "-O".into(),
        "234".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let ns_client = ns.client.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut all = vec![
            "netns".to_string(),
            "exec".into(),
            ns_client,
            "timeout".into(),
            "30".into(),
        ];
        all.extend(args);
        Command::new("ip").args(&all).output().unwrap()
    })
    .await
    .unwrap();
    (out, read(&ns.path("udhcpc-script.out")))
}

#[tokio::test]
async fn udhcpc_gets_a_lease() {
    let ns = Netns::new("02:00:00:00:02:01");
    let server = Server::start(&ns).await;
    let (out, log) = udhcpc(&ns).await;
    let ip = bound_ip(&log).unwrap_or_else(|| {
        panic!(
            "udhcpc got no lease: {}\n{log}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!((100..=150).contains(&ip.octets()[3]), "{ip}");
    assert!(log.contains("router=192.0.2.1"), "{log}");
    assert!(log.contains("dns=192.0.2.53"), "{log}");
    // "Hello World", the custom option the config defines, in hex.
    assert!(
        log.to_ascii_lowercase()
            .contains("opt234=48656c6c6f20576f726c64"),
        "{log}"
    );
    let (hw, state, _, _, _) = server.lease(ip).await.expect("lease row");
    assert_eq!(hw, mac_bytes("02:00:00:00:02:01"));
    assert_eq!(state, 0);
    assert!(server.stats.get("pkt4-offer-sent").unwrap() >= 1);
    assert_eq!(server.stats.get("subnet[1].assigned-addresses"), Some(1));
    assert_eq!(server.stats.get("subnet[1].total-addresses"), Some(51));
    server.stop().await;
}

#[tokio::test]
async fn reserved_clients_get_their_address_name_and_options() {
    let ns = Netns::new("02:00:00:00:aa:01");
    let server = Server::start(&ns).await;
    let (out, log) = udhcpc(&ns).await;
    assert_eq!(
        bound_ip(&log),
        Some(Ipv4Addr::new(192, 0, 2, 77)),
        "{}\n{log}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(log.contains("host=reserved-host"), "{log}");
    assert!(log.contains("domain=reserved.example"), "{log}");
    let (_, _, _, hostname, _) = server.lease(Ipv4Addr::new(192, 0, 2, 77)).await.unwrap();
    assert_eq!(hostname.as_deref(), Some("reserved-host"));

    // A reservation written by plain SQL applies at once, without a restart.
    run(
        "ip",
        &[
            "-n",
            &ns.client,
            "link",
            "set",
            &ns.client_if,
            "address",
            "02:00:00:00:bb:02",
        ],
    );
    sqlx::raw_sql("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, ipv4_address, hostname, dhcp4_subnet_id) VALUES (decode('02000000bb02','hex'), 0, 3221226072, 'sql-host', 1);")
        .execute(server.db.pool())
        .await
        .unwrap();
    let (out, log) = udhcpc(&ns).await;
    // 3221226072 = 192.0.2.88
    assert_eq!(
        bound_ip(&log),
        Some(Ipv4Addr::new(192, 0, 2, 88)),
        "{}\n{log}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        log.lines().last().unwrap().contains("host=sql-host"),
        "{log}"
    );
    server.stop().await;
}

/// A hand-made client on UDP port 68 inside the client namespace.
struct RawClient {
    socket: UdpSocket,
    mac: Vec<u8>,
}

impl RawClient {
    fn new(ns: &Netns, mac: &str) -> RawClient {
        Self::on_port(ns, mac, 68)
    }

    fn on_port(ns: &Netns, mac: &str, port: u16) -> RawClient {
        let iface = ns.client_if.clone();
        let socket = Netns::enter(&ns.client, move || net::bind(&iface, port).unwrap());
        socket.set_nonblocking(false).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        RawClient {
            socket,
            mac: mac_bytes(mac),
        }
    }

    fn send_raw(&self, bytes: &[u8]) {
        self.socket
            .send_to(bytes, SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
            .unwrap();
    }

    fn send(&self, kind: MessageType, xid: u32, opts: Vec<DhcpOption>) {
        let mut m = Message::new_with_id(
            xid,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &self.mac,
        );
        m.opts_mut().insert(DhcpOption::MessageType(kind));
        for o in opts {
            m.opts_mut().insert(o);
        }
        let mut buf = Vec::new();
        m.encode(&mut Encoder::new(&mut buf)).unwrap();
        self.send_raw(&buf);
    }

    /// The next reply with this xid, within a few seconds.
    fn recv(&self, xid: u32) -> Option<Message> {
        let mut buf = [0u8; 1500];
        for _ in 0..10 {
            if let Ok((n, _)) = self.socket.recv_from(&mut buf) {
                if let Ok(m) = Message::decode(&mut Decoder::new(&buf[..n])) {
                    if m.xid() == xid && m.opcode() == Opcode::BootReply {
                        return Some(m);
                    }
                }
            }
        }
        None
    }

    /// DISCOVER → OFFER → REQUEST → ACK; returns the address.
    fn obtain(&self, xid: u32) -> Ipv4Addr {
        self.send(MessageType::Discover, xid, vec![]);
        let offer = self.recv(xid).expect("an offer");
        assert_eq!(offer.opts().msg_type(), Some(MessageType::Offer));
        let addr = offer.yiaddr();
        self.send(
            MessageType::Request,
            xid,
            vec![
                DhcpOption::RequestedIpAddress(addr),
                DhcpOption::ServerIdentifier(Ipv4Addr::new(192, 0, 2, 1)),
            ],
        );
        let ack = self.recv(xid).expect("an ack");
        assert_eq!(ack.opts().msg_type(), Some(MessageType::Ack));
        assert_eq!(ack.yiaddr(), addr);
        assert!(matches!(
            ack.opts().get(OptionCode::AddressLeaseTime),
            Some(DhcpOption::AddressLeaseTime(600))
        ));
        addr
    }
}

#[tokio::test]
async fn decline_takes_the_address_out_of_use() {
    let ns = Netns::new("02:00:00:00:03:01");
    let server = Server::start(&ns).await;
    let a = RawClient::new(&ns, "02:00:00:00:03:01");
    let addr = tokio::task::spawn_blocking(move || {
        let addr = a.obtain(0x0301);
        a.send(
            MessageType::Decline,
            0x0302,
            vec![
                DhcpOption::RequestedIpAddress(addr),
                DhcpOption::ServerIdentifier(Ipv4Addr::new(192, 0, 2, 1)),
            ],
        );
        addr
    })
    .await
    .unwrap();
    let mut state = None;
    for _ in 0..50 {
        state = server.lease(addr).await;
        if state.as_ref().is_some_and(|l| l.1 == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (hw, st, left, _, valid) = state.unwrap();
    assert_eq!(st, 1, "declined");
    assert!(hw.is_empty());
    assert_eq!(valid, 86400);
    assert!(left > 86000);
    assert_eq!(server.stats.get("subnet[1].declined-addresses"), Some(1));

    // The same client asking again gets another address; so does a REQUEST for the
    // declined one: NAK.
    let b = RawClient::new(&ns, "02:00:00:00:03:01");
    let again = tokio::task::spawn_blocking(move || {
        let other = b.obtain(0x0303);
        b.send(
            MessageType::Request,
            0x0304,
            vec![DhcpOption::RequestedIpAddress(addr)],
        );
        let nak = b.recv(0x0304);
        (other, nak)
    })
    .await
    .unwrap();
    assert_ne!(again.0, addr);
    // INIT-REBOOT for an address it has no lease for: silent (not authoritative).
    assert!(again.1.is_none());
    server.stop().await;
}

#[tokio::test]
async fn bad_packets_do_not_stop_the_server() {
    let ns = Netns::new("02:00:00:00:04:01");
    let server = Server::start(&ns).await;
    let c = RawClient::new(&ns, "02:00:00:00:04:01");
    let addr = tokio::task::spawn_blocking(move || {
        // Truncated, nonsense, oversized, and a valid header with broken options.
        c.send_raw(&[1, 1, 6]);
        c.send_raw(b"GET / HTTP/1.1\r\n\r\n");
        c.send_raw(&vec![0xff; 5000]);
        let mut bad = vec![0u8; 240];
        bad[0] = 1;
        bad[2] = 6;
        bad[236..240].copy_from_slice(&[99, 130, 83, 99]);
        bad.extend([53, 1, 1, 81, 1, 0, 12, 250, 1]);
        c.send_raw(&bad);
        let mut weird_len = bad[..240].to_vec();
        weird_len.extend([53, 1, 1, 80, 3, 1, 2, 3, 255]);
        c.send_raw(&weird_len);
        c.obtain(0x0401)
    })
    .await
    .unwrap();
    assert!((100..=150).contains(&addr.octets()[3]));
    assert!(server.stats.get("pkt4-parse-failed").unwrap() >= 5);
    // And a real client too.
    let (out, log) = udhcpc(&ns).await;
    assert_eq!(
        bound_ip(&log),
        Some(addr),
        "{}\n{log}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.stop().await;
}

#[tokio::test]
async fn relayed_requests_are_answered_to_the_relay() {
    let ns = Netns::new("02:00:00:00:05:01");
    run(
        "ip",
        &[
            "-n",
            &ns.client,
            "addr",
            "add",
            "192.0.2.2/24",
            "dev",
            &ns.client_if,
        ],
    );
    let server = Server::start(&ns).await;
    // A relay agent on 192.0.2.2:67 forwarding a client's DISCOVER with option 82.
    let relay = RawClient::on_port(&ns, "02:00:00:00:05:09", 67);
    let offer = tokio::task::spawn_blocking(move || {
        let mut m = Message::new_with_id(
            0x0501,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::new(192, 0, 2, 2),
            &relay.mac,
        );
        m.set_hops(1);
        m.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Discover));
        let mut buf = Vec::new();
        m.encode(&mut Encoder::new(&mut buf)).unwrap();
        // Option 82 (circuit id "eth7") before END.
        buf.pop();
        buf.extend([82, 6, 1, 4, b'e', b't', b'h', b'7', 255]);
        relay
            .socket
            .send_to(&buf, SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 67))
            .unwrap();
        relay.recv(0x0501)
    })
    .await
    .unwrap()
    .expect("the relay gets the OFFER on port 67");
    assert_eq!(offer.opts().msg_type(), Some(MessageType::Offer));
    assert_eq!(offer.giaddr(), Ipv4Addr::new(192, 0, 2, 2));
    assert!((100..=150).contains(&offer.yiaddr().octets()[3]));
    assert!(offer
        .opts()
        .get(OptionCode::RelayAgentInformation)
        .is_some());
    server.stop().await;
}

/// Seed 003 §4.15's simple PXE configuration: a UEFI client (option 93 = 7, no option
/// 175) joins UEFIboot, hence Netboot, and gets the class's next-server and boot options,
/// and (flex-option, built in) its own option 93 back and its host name as it sent it;
/// the same client without option 93 gets no boot server.
const PXE_CONFIG: &str = r#"{"Dhcp4": {
    "interfaces-config": {"interfaces": ["IFACE"]},
    "valid-lifetime": 600,
    "hooks-libraries": [{
        "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_flex_option.so",
        "parameters": {"options": [
            {"name": "host-name", "supersede": "option[host-name].hex", "csv-format": false},
            {"add": "option[93].hex", "client-class": "Netboot", "code": 93},
            {"add": "option[97].hex", "client-class": "Netboot", "code": 97}
        ]}
    }],
    "client-classes": [
        {"name": "iPXEboot", "test": "option[175].exists"},
        {"name": "UEFIboot", "test": "option[93].hex == 0x0007 and not option[175].exists"},
        {"name": "BIOSboot", "test": "option[93].hex == 0x0000 and not option[175].exists"},
        {"name": "Netboot", "next-server": "192.0.2.100",
         "option-data": [
            {"always-send": false, "code": 66, "data": "192.0.2.100", "name": "tftp-server-name"},
            {"code": 67, "data": "ipxe.efi", "name": "boot-file-name"},
            {"data": "PXEClient", "name": "vendor-class-identifier"}],
         "test": "member('UEFIboot') or member('BIOSboot') or member('iPXEboot')"},
        {"name": "PXEvendor", "test": "substring(option[60].hex,0,9) == 'PXEClient'",
         "boot-file-name": "pxelinux.0",
         "option-data": [{"name": "tftp-server-name", "data": "192.0.2.101"}]}
    ],
    "subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
        "pools": [{"pool": "192.0.2.100 - 192.0.2.150"}],
        "option-data": [{"name": "routers", "data": "192.0.2.1"}]}]
}}"#;

const PXE_SCRIPT: &str = r#"#!/bin/sh
echo "$1 ip=$ip siaddr=$siaddr tftp=$tftp bootfile=$bootfile opt93=$opt93 hostname=$hostname" >> "$OUT"
exit 0
"#;

#[tokio::test]
async fn a_uefi_pxe_client_gets_its_class_s_boot_server_and_file() {
    let ns = Netns::new("02:00:00:00:0e:01");
    let server = Server::start_with(&ns, PXE_CONFIG).await;
    // As a UEFI PXE ROM: vendor class PXEClient, client system architecture 7.
    let (out, log) = udhcpc_with(
        &ns,
        PXE_SCRIPT,
        &[
            "-V",
            "PXEClient",
            "-x",
            "0x5d:0007",
            "-x",
            "hostname:pxe-one",
            "-O",
            "66",
            "-O",
            "67",
            "-O",
            "93",
        ],
    )
    .await;
    let ip = bound_ip(&log).unwrap_or_else(|| {
        panic!(
            "udhcpc got no lease: {}\n{log}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!((100..=150).contains(&ip.octets()[3]), "{ip}");
    let bound = log.lines().find(|l| l.starts_with("bound ")).unwrap();
    assert!(bound.contains("siaddr=192.0.2.100"), "{log}");
    assert!(bound.contains("tftp=192.0.2.100"), "{log}");
    assert!(bound.contains("bootfile=ipxe.efi"), "{log}");
    assert!(bound.contains("opt93=0007"), "{log}");
    assert!(bound.contains("hostname=pxe-one"), "{log}");

    // Not a PXE client: no class, no boot server.
    let _ = std::fs::remove_file(ns.path("udhcpc-script.out"));
    let (_, log) = udhcpc_with(&ns, PXE_SCRIPT, &["-O", "66", "-O", "67", "-O", "93"]).await;
    let bound = log
        .lines()
        .find(|l| l.starts_with("bound "))
        .unwrap_or_else(|| panic!("no lease the second time:\n{log}"));
    assert!(
        bound.contains("siaddr= ") || bound.contains("siaddr=0.0.0.0"),
        "{log}"
    );
    assert!(bound.contains("tftp= "), "{log}");
    assert!(bound.contains("bootfile="), "{log}");
    assert!(!bound.contains("ipxe.efi"), "{log}");
    assert!(
        bound.contains("opt93= "),
        "not Netboot: no option 93 added\n{log}"
    );
    server.stop().await;
}

/// dhclient sending a PXE vendor class (option 60) joins the class testing it and gets
/// its boot file (the BOOTP file field) and tftp server; without it, neither.
#[tokio::test]
async fn dhclient_with_a_vendor_class_gets_the_class_s_boot_file() {
    let mut ns = Netns::new("02:00:00:00:0e:02");
    ns.pids.push(ns.path("dhclient.pid"));
    let server = Server::start_with(&ns, PXE_CONFIG).await;
    let conf = ns.path("dhclient.conf");
    let run = |vendor: Option<&'static str>| {
        let body = match vendor {
            Some(v) => format!("send vendor-class-identifier \"{v}\";\n"),
            None => String::new(),
        };
        std::fs::write(
            &conf,
            format!("{body}request subnet-mask, routers, tftp-server-name, bootfile-name;\n"),
        )
        .unwrap();
        let _ = std::fs::remove_file(ns.path("dhclient.leases"));
        let conf = conf.display().to_string();
        let ns = &ns;
        async move {
            let out = dhclient(ns, &["-1", "-cf", &conf]).await;
            kill_pidfile(&ns.path("dhclient.pid"));
            let leases = read(&ns.path("dhclient.leases"));
            assert!(
                leases.contains("fixed-address"),
                "no lease: {}\n{leases}",
                String::from_utf8_lossy(&out.stderr)
            );
            // dhclient -1 leaves the address configured; the next run starts afresh.
            let _ = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &ns.client,
                    "ip",
                    "addr",
                    "flush",
                    "dev",
                    &ns.client_if,
                ])
                .status();
            leases
        }
    };
    let leases = run(Some("PXEClient:Arch:00000:UNDI:002001")).await;
    assert!(leases.contains("filename \"pxelinux.0\";"), "{leases}");
    assert!(
        leases.contains("option tftp-server-name \"192.0.2.101\";"),
        "{leases}"
    );
    let leases = run(None).await;
    assert!(!leases.contains("pxelinux.0"), "{leases}");
    assert!(!leases.contains("tftp-server-name"), "{leases}");
    server.stop().await;
}
