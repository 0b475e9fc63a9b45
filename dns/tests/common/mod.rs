//! Serving zones from memory on a free loopback port, and asking dig and kdig about them.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use tern_dns::catalog::Catalog;
use tern_dns::handler::Handler;
use tern_dns::server::{listen, Listeners, TcpSettings};
use tern_dns::zone::{SoaFields, Zone};

/// A running zone server.
pub struct Served {
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    /// Its handler (catalog, stats, ...).
    pub handler: Arc<Handler>,
    listeners: Option<Listeners>,
}

impl Served {
    /// Stops it.
    pub async fn stop(mut self) {
        if let Some(l) = self.listeners.take() {
            l.stop().await;
        }
    }
}

/// The SOA the test zones use.
pub fn soa() -> SoaFields {
    SoaFields {
        ttl: 3600,
        mname: "ns.example.com.".into(),
        rname: "hostmaster.example.com.".into(),
        refresh: 3600,
        retry: 600,
        expire: 604800,
        minimum: 300,
    }
}

/// A zone from (owner, type, ttl, content) rows.
pub fn zone(id: i64, origin: &str, serial: u32, records: &[(&str, &str, u32, &str)]) -> Zone {
    let (z, rejected) = Zone::build(id, origin, serial, soa(), records.iter().copied()).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    z
}

/// Serves `zones` on 127.0.0.1 (a free port), two UDP sockets; `configure` may set keys,
/// policies or a store on the handler first.
pub async fn serve(zones: Vec<Zone>, configure: impl FnOnce(&mut Handler)) -> Served {
    let catalog = Arc::new(Catalog::new());
    for z in zones {
        catalog.insert(z);
    }
    let mut handler = Handler::new(catalog, Vec::new());
    configure(&mut handler);
    let handler = Arc::new(handler);
    let listeners = listen(
        handler.clone(),
        &["127.0.0.1:0".parse().unwrap()],
        2,
        TcpSettings::default(),
    )
    .await
    .expect("listen");
    Served {
        addr: listeners.bound[0],
        handler,
        listeners: Some(listeners),
    }
}

/// Runs a DNS client tool (`dig` or `kdig`) against `addr` and returns its stdout.
pub fn ask(tool: &str, addr: SocketAddr, args: &[&str]) -> String {
    let out = Command::new(tool)
        .arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string()])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (install bind9-dnsutils / knot-dnsutils)"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `dig +norec +time=2 +tries=1 ARGS`.
pub fn dig(addr: SocketAddr, args: &[&str]) -> String {
    let mut all = vec!["+norec", "+time=2", "+tries=1"];
    all.extend_from_slice(args);
    ask("dig", addr, &all)
}

/// The status dig printed (`NOERROR`, `NXDOMAIN`, ...).
pub fn status(out: &str) -> &str {
    out.split("status: ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or("(no answer)")
}

/// dig's flags line (`qr aa rd`).
pub fn flags(out: &str) -> String {
    out.split("flags: ")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .unwrap_or("")
        .to_string()
}

/// dig's output with every run of blanks made one space (dig aligns columns with tabs).
pub fn flat(out: &str) -> String {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}
