//! For tests against BIND 9 (d2, dnsmsg, the API, the binary): a private `named` on a free loopback port
//! with every file in a temp directory, stopped by its PID when dropped.

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tern_dnsmsg::tsig::{Algorithm, TsigKey};

/// BIND's server binary (Debian's bind9).
pub const NAMED: &str = "/usr/sbin/named";

/// One zone of the test server.
pub struct ZoneSpec {
    /// Zone name without the trailing dot.
    pub name: &'static str,
    /// Records after SOA and NS, zone-file syntax.
    pub records: &'static str,
}

/// example.com (with a static entry), 2.0.192.in-addr.arpa, 2001:db8::/32's ip6.arpa.
pub fn ddns_zones() -> Vec<ZoneSpec> {
    vec![
        ZoneSpec {
            name: "example.com",
            records: "ns IN A 127.0.0.1\nstatic IN A 192.0.2.200\n",
        },
        ZoneSpec {
            name: "2.0.192.in-addr.arpa",
            records: "",
        },
        ZoneSpec {
            name: "8.b.d.0.1.0.0.2.ip6.arpa",
            records: "",
        },
    ]
}

/// A private `named`, killed (by its PID) when dropped, also when a test panics.
pub struct Named {
    child: Option<Child>,
    /// Its configuration, zones, journal and log.
    pub dir: tempfile::TempDir,
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
}

impl Named {
    /// Starts named with `zones`, each updatable with any of `keys` (or by anyone from
    /// 127.0.0.1 when `keys` is empty), and waits until it answers.
    pub fn start(zones: &[ZoneSpec], keys: &[TsigKey]) -> Named {
        assert!(
            Path::new(NAMED).exists(),
            "{NAMED} not found: install BIND 9 (apt-get install bind9 bind9-dnsutils, \
             or scripts/setup-debian.sh test)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let d = dir.path().display();
        let mut conf = format!(
            "options {{\n\tdirectory \"{d}\";\n\tpid-file \"{d}/named.pid\";\n\
             \tsession-keyfile \"{d}/session.key\";\n\tmanaged-keys-directory \"{d}\";\n\
             \tlisten-on port {port} {{ 127.0.0.1; }};\n\tlisten-on-v6 {{ none; }};\n\
             \trecursion no;\n\tnotify no;\n\tdnssec-validation no;\n}};\ncontrols {{ }};\n"
        );
        for key in keys {
            conf.push_str(&format!(
                "key \"{}\" {{ algorithm {}; secret \"{}\"; }};\n",
                key.name,
                bind_algorithm(key),
                base64(&key.secret)
            ));
        }
        let allow: String = if keys.is_empty() {
            "127.0.0.1; ".to_owned()
        } else {
            keys.iter()
                .map(|k| format!("key \"{}\"; ", k.name))
                .collect()
        };
        for z in zones {
            fs::write(
                dir.path().join(format!("{}.db", z.name)),
                format!(
                    "$TTL 300\n$ORIGIN {}.\n@ IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300\n\
                     @ IN NS ns.example.com.\n{}",
                    z.name, z.records
                ),
            )
            .unwrap();
            conf.push_str(&format!(
                "zone \"{}\" {{ type primary; file \"{d}/{}.db\"; allow-update {{ {allow}}}; }};\n",
                z.name, z.name
            ));
        }
        fs::write(dir.path().join("named.conf"), conf).unwrap();
        let mut named = Named {
            child: None,
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        named.run(zones[0].name);
        named
    }

    fn run(&mut self, probe_zone: &str) {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let child = Command::new(NAMED)
            .arg("-g")
            .arg("-n")
            .arg("1")
            .arg("-c")
            .arg(self.dir.path().join("named.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn named");
        self.child = Some(child);
        self.wait_ready(probe_zone);
    }

    /// Stops named (by its PID); the zone files and journals stay.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts named again on the same port with the same files.
    pub fn restart(&mut self) {
        self.stop();
        self.run("example.com");
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(self.log_path()) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("named.log")
    }

    fn wait_ready(&mut self, zone: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut query = Message::new(1, MessageType::Query, OpCode::Query);
        query.add_query(Query::query(
            Name::from_ascii(format!("{zone}.")).unwrap(),
            RecordType::SOA,
        ));
        let query = query.to_vec().unwrap();
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("named exited with {status}:\n{}", self.log());
            }
            if let Ok(answer) = exchange(self.addr, &query, Duration::from_millis(200)) {
                let answer = Message::from_vec(&answer).unwrap();
                if answer.metadata.response_code == ResponseCode::NoError {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "named did not answer on {} within 20 s:\n{}",
                self.addr,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What `dig +short` sees for `name` `rtype`.
    pub fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        let out = Command::new("dig")
            .args(["+short", "+norecurse", "+time=2", "+tries=2", "-p"])
            .arg(self.addr.port().to_string())
            .arg("@127.0.0.1")
            .arg(name)
            .arg(rtype)
            .output()
            .expect("run dig (apt-get install bind9-dnsutils)");
        assert!(out.status.success(), "dig failed: {out:?}");
        let mut v: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    }

    /// All records of the zone (AXFR), one per line.
    pub fn axfr(&self, zone: &str) -> Vec<String> {
        let out = Command::new("dig")
            .args(["+noall", "+answer", "+time=2", "-p"])
            .arg(self.addr.port().to_string())
            .arg("@127.0.0.1")
            .arg(zone)
            .arg("AXFR")
            .output()
            .expect("run dig");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Named {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("--- named log ---\n{}", self.log());
        }
    }
}

/// A loopback port free for both UDP and TCP, taken below the kernel's ephemeral range
/// (32768-60999): a port the kernel hands out on its own could later become some other
/// socket's source port (a dig in a parallel test), which would then receive the updates
/// a test sends to a "dead" server there.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const LOW: u32 = 20000;
    const SPAN: u32 = 12000;
    // Different test processes start at different places in the range.
    let start = (std::process::id() % 600) * 20;
    for _ in 0..SPAN {
        let port = (LOW + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN) as u16;
        let Ok(_tcp) = TcpListener::bind(("127.0.0.1", port)) else {
            continue;
        };
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port");
}

/// One UDP query and its answer.
pub fn exchange(addr: SocketAddr, wire: &[u8], timeout: Duration) -> std::io::Result<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(addr)?;
    socket.set_read_timeout(Some(timeout))?;
    socket.send(wire)?;
    let mut buf = vec![0u8; 65535];
    let n = socket.recv(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// BIND writes truncation into the algorithm: `hmac-sha256-128`.
pub fn bind_algorithm(key: &TsigKey) -> String {
    let base = match key.algorithm {
        Algorithm::HmacMd5 => "hmac-md5",
        Algorithm::HmacSha1 => "hmac-sha1",
        Algorithm::HmacSha224 => "hmac-sha224",
        Algorithm::HmacSha256 => "hmac-sha256",
        Algorithm::HmacSha384 => "hmac-sha384",
        Algorithm::HmacSha512 => "hmac-sha512",
    };
    match key.digest_bits {
        0 => base.to_owned(),
        bits => format!("{base}-{bits}"),
    }
}

/// Standard base64 with padding (as named.conf writes secrets).
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A TSIG key whose secret is derived from `seed`.
pub fn key(name: &str, algorithm: Algorithm, digest_bits: u16, seed: u8) -> TsigKey {
    let secret = (0..32)
        .map(|i| seed.wrapping_mul(31).wrapping_add(i * 7))
        .collect();
    TsigKey::new(
        Name::from_ascii(name).unwrap(),
        algorithm,
        secret,
        digest_bits,
    )
    .unwrap()
}
