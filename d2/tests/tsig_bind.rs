//! TSIG against the real thing: signed RFC 2136 updates to a private BIND 9 `named`.
//!
//! Each test starts its own `named -g` on a free loopback port with every file in a temp
//! directory, one key per algorithm (full and truncated MACs) allowed to update `example.com`.
//! BIND comes from Debian's `bind9` package (`scripts/setup-debian.sh test` installs it);
//! without it these tests fail, they do not skip.

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tern_d2::tsig::{
    sign_request, unix_now, verify_response, Algorithm, Origin, TsigError, TsigKey, DEFAULT_FUDGE,
};

const NAMED: &str = "/usr/sbin/named";
const ZONE: &str = "example.com.";

/// A private `named`, killed (by its PID) when dropped, also when a test panics.
struct Named {
    child: Child,
    dir: tempfile::TempDir,
    addr: SocketAddr,
}

impl Named {
    /// Starts named with `keys` allowed to update example.com and waits until it answers.
    fn start(keys: &[TsigKey]) -> Named {
        assert!(
            Path::new(NAMED).exists(),
            "{NAMED} not found: install BIND 9 (apt-get install bind9 bind9-dnsutils, \
             or scripts/setup-debian.sh test)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let d = dir.path().display();
        fs::write(
            dir.path().join("example.com.db"),
            "$TTL 300\n\
             @ IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300\n\
             @ IN NS ns.example.com.\n\
             ns IN A 127.0.0.1\n",
        )
        .unwrap();
        let mut conf = format!(
            "options {{\n\
             \tdirectory \"{d}\";\n\
             \tpid-file \"{d}/named.pid\";\n\
             \tsession-keyfile \"{d}/session.key\";\n\
             \tmanaged-keys-directory \"{d}\";\n\
             \tlisten-on port {port} {{ 127.0.0.1; }};\n\
             \tlisten-on-v6 {{ none; }};\n\
             \trecursion no;\n\
             \tnotify no;\n\
             \tdnssec-validation no;\n\
             }};\n\
             controls {{ }};\n"
        );
        for key in keys {
            conf.push_str(&format!(
                "key \"{}\" {{ algorithm {}; secret \"{}\"; }};\n",
                key.name,
                bind_algorithm(key),
                base64(&key.secret)
            ));
        }
        let allow: String = keys
            .iter()
            .map(|k| format!("key \"{}\"; ", k.name))
            .collect();
        conf.push_str(&format!(
            "zone \"example.com\" {{ type primary; file \"{d}/example.com.db\"; \
             allow-update {{ {allow}}}; }};\n"
        ));
        let conf_path = dir.path().join("named.conf");
        fs::write(&conf_path, conf).unwrap();

        let log = fs::File::create(dir.path().join("named.log")).unwrap();
        let child = Command::new(NAMED)
            .arg("-g")
            .arg("-n")
            .arg("1")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn named");
        let mut named = Named {
            child,
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        named.wait_ready();
        named
    }

    fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(self.log_path()) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("named.log")
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut query = Message::new(1, MessageType::Query, OpCode::Query);
        query.add_query(Query::query(
            Name::from_ascii(ZONE).unwrap(),
            RecordType::SOA,
        ));
        let query = query.to_vec().unwrap();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
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

    /// Sends a signed update and returns the raw answer.
    fn send(&self, wire: &[u8]) -> Vec<u8> {
        exchange(self.addr, wire, Duration::from_secs(5)).expect("no answer from named")
    }

    /// The A records `dig` sees at `name`.
    fn dig_a(&self, name: &str) -> Vec<String> {
        let out = Command::new("dig")
            .args(["+short", "+norecurse", "+time=2", "+tries=2", "-p"])
            .arg(self.addr.port().to_string())
            .arg("@127.0.0.1")
            .arg(name)
            .arg("A")
            .output()
            .expect("run dig (apt-get install bind9-dnsutils)");
        assert!(out.status.success(), "dig failed: {out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Named {
    fn drop(&mut self) {
        // Child::kill signals this child's PID only.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- named log ---\n{}", self.log());
        }
    }
}

/// A loopback port free for both UDP and TCP (named listens on both).
fn free_port() -> u16 {
    for _ in 0..100 {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port");
}

fn exchange(addr: SocketAddr, wire: &[u8], timeout: Duration) -> std::io::Result<Vec<u8>> {
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
fn bind_algorithm(key: &TsigKey) -> String {
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

fn base64(bytes: &[u8]) -> String {
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

fn key(name: &str, algorithm: Algorithm, digest_bits: u16, seed: u8) -> TsigKey {
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

/// An UPDATE for example.com adding `host 300 IN A addr` (RFC 2136 §2.5.1, no prerequisites).
fn add_a(id: u16, host: &str, addr: [u8; 4]) -> Vec<u8> {
    let mut msg = Message::new(id, MessageType::Query, OpCode::Update);
    msg.add_query(Query::query(
        Name::from_ascii(ZONE).unwrap(),
        RecordType::SOA,
    ));
    msg.add_authority(Record::from_rdata(
        Name::from_ascii(host).unwrap(),
        300,
        RData::A(A::new(addr[0], addr[1], addr[2], addr[3])),
    ));
    msg.to_vec().unwrap()
}

/// The key per algorithm, full and truncated to the least Kea allows.
fn all_keys() -> Vec<TsigKey> {
    let mut keys = Vec::new();
    for (i, algorithm) in Algorithm::ALL.into_iter().enumerate() {
        let alg = algorithm.kea_name().to_ascii_lowercase();
        let bits = (algorithm.min_mac_len() * 8) as u16;
        keys.push(key(&format!("{alg}.tern.test."), algorithm, 0, i as u8));
        keys.push(key(
            &format!("{alg}-{bits}.tern.test."),
            algorithm,
            bits,
            100 + i as u8,
        ));
    }
    keys
}

#[test]
fn bind_accepts_signed_updates_for_every_algorithm_and_truncation() {
    let keys = all_keys();
    let named = Named::start(&keys);
    for (i, key) in keys.iter().enumerate() {
        let host = format!("h{i}.example.com.");
        let addr = [192, 0, 2, 10 + i as u8];
        let request = sign_request(
            &add_a(100 + i as u16, &host, addr),
            key,
            unix_now(),
            DEFAULT_FUDGE,
        )
        .unwrap();
        assert_eq!(request.mac.len(), key.mac_len());
        let answer = named.send(&request.wire);
        let verified = verify_response(&answer, key, &request.mac, unix_now())
            .unwrap_or_else(|e| panic!("{} ({} bits): {e}", key.algorithm, key.digest_bits));
        assert_eq!(verified.rcode(), ResponseCode::NoError, "{key:?}");
        assert_eq!(verified.message.metadata.id, 100 + i as u16);
        // BIND truncates its answer's MAC as the key says.
        assert_eq!(verified.mac.len(), key.mac_len(), "{key:?}");
        assert_eq!(
            named.dig_a(&host),
            [format!("192.0.2.{}", 10 + i)],
            "{key:?}"
        );
    }
}

#[test]
fn bind_rejects_a_wrong_secret_with_badsig() {
    let good = key("sha256.tern.test.", Algorithm::HmacSha256, 0, 1);
    let named = Named::start(std::slice::from_ref(&good));
    let mut wrong = good.clone();
    wrong.secret[0] ^= 0xff;
    let request = sign_request(
        &add_a(7, "badsig.example.com.", [192, 0, 2, 99]),
        &wrong,
        unix_now(),
        DEFAULT_FUDGE,
    )
    .unwrap();
    let answer = named.send(&request.wire);
    assert_eq!(
        verify_response(&answer, &wrong, &request.mac, unix_now()).unwrap_err(),
        TsigError::BadSig {
            origin: Origin::Peer,
            rcode: ResponseCode::NotAuth
        }
    );
    assert!(named.dig_a("badsig.example.com.").is_empty());
}

#[test]
fn bind_rejects_an_unknown_key_with_badkey() {
    let known = key("sha256.tern.test.", Algorithm::HmacSha256, 0, 1);
    let named = Named::start(std::slice::from_ref(&known));
    let unknown = key("nobody.tern.test.", Algorithm::HmacSha256, 0, 1);
    let request = sign_request(
        &add_a(8, "badkey.example.com.", [192, 0, 2, 98]),
        &unknown,
        unix_now(),
        DEFAULT_FUDGE,
    )
    .unwrap();
    let answer = named.send(&request.wire);
    assert_eq!(
        verify_response(&answer, &unknown, &request.mac, unix_now()).unwrap_err(),
        TsigError::BadKey {
            origin: Origin::Peer,
            rcode: ResponseCode::NotAuth
        }
    );
    assert!(named.dig_a("badkey.example.com.").is_empty());
}

#[test]
fn bind_answers_a_stale_time_with_a_signed_badtime() {
    let key = key("sha512.tern.test.", Algorithm::HmacSha512, 0, 3);
    let named = Named::start(std::slice::from_ref(&key));
    let stale = unix_now() - 3600;
    let request = sign_request(
        &add_a(9, "badtime.example.com.", [192, 0, 2, 97]),
        &key,
        stale,
        DEFAULT_FUDGE,
    )
    .unwrap();
    let answer = named.send(&request.wire);
    let now = unix_now();
    match verify_response(&answer, &key, &request.mac, now).unwrap_err() {
        TsigError::BadTime {
            origin: Origin::Peer,
            rcode: ResponseCode::NotAuth,
            time_signed,
            fudge: DEFAULT_FUDGE,
            peer_time: Some(peer_time),
            ..
        } => {
            assert_eq!(time_signed, stale, "BIND echoes our Time Signed");
            assert!(
                peer_time.abs_diff(now) <= 5,
                "BIND's clock {peer_time}, ours {now}"
            );
        }
        other => panic!("expected a verified BADTIME from BIND, got {other}"),
    }
    assert!(named.dig_a("badtime.example.com.").is_empty());
}

#[test]
fn bind_answers_an_overtruncated_mac_with_badtrunc() {
    // BIND's key wants the full MAC; we send 128 bits of it.
    let full = key("sha256.tern.test.", Algorithm::HmacSha256, 0, 4);
    let named = Named::start(std::slice::from_ref(&full));
    let mut truncating = full.clone();
    truncating.digest_bits = 128;
    let request = sign_request(
        &add_a(10, "badtrunc.example.com.", [192, 0, 2, 96]),
        &truncating,
        unix_now(),
        DEFAULT_FUDGE,
    )
    .unwrap();
    assert_eq!(request.mac.len(), 16);
    let answer = named.send(&request.wire);
    assert_eq!(
        verify_response(&answer, &truncating, &request.mac, unix_now()).unwrap_err(),
        TsigError::BadTrunc {
            origin: Origin::Peer,
            rcode: ResponseCode::NotAuth,
            mac_len: 16
        }
    );
    assert!(named.dig_a("badtrunc.example.com.").is_empty());
}
