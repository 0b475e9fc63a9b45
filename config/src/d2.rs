//! The typed `DhcpDdns` section (kea-dhcp-ddns.conf): what tern's D2 serves.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use base64::Engine as _;

use crate::common::{parse_ip, Cx, Map};
use crate::dhcp::{
    read_control_sockets, read_hooks, read_ncr_protocol, ControlSocket, HookLibrary, NcrFormat,
    NcrProtocol,
};
use crate::diag::{excerpt, Location};
use crate::jsonc::Node;

/// The `DhcpDdns` section.
#[derive(Debug, Clone, PartialEq)]
pub struct DhcpDdns {
    /// Where NCRs are received (default 127.0.0.1).
    pub ip_address: IpAddr,
    /// NCR port (default 53001).
    pub port: u16,
    /// How long to wait for a DNS server, milliseconds (default 500).
    pub dns_server_timeout: u32,
    /// Always UDP.
    pub ncr_protocol: NcrProtocol,
    /// Always JSON.
    pub ncr_format: NcrFormat,
    /// TSIG keys.
    pub tsig_keys: Vec<TsigKey>,
    /// Forward (name to address) domains.
    pub forward_ddns: Vec<DdnsDomain>,
    /// Reverse (address to name) domains.
    pub reverse_ddns: Vec<DdnsDomain>,
    /// `control-socket` / `control-sockets` (not opened by tern).
    pub control_sockets: Vec<ControlSocket>,
    /// `hooks-libraries`.
    pub hooks: Vec<HookLibrary>,
    /// The whole section as read.
    pub raw: Node,
}

impl DhcpDdns {
    /// The key named `name` (case-insensitive, as DNS names compare).
    pub fn key(&self, name: &str) -> Option<&TsigKey> {
        self.tsig_keys.iter().find(|k| dns_eq(&k.name, name))
    }
}

/// A TSIG algorithm D2 can sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsigAlgorithm {
    /// HMAC-MD5 (RFC 2845).
    HmacMd5,
    /// HMAC-SHA1.
    HmacSha1,
    /// HMAC-SHA224.
    HmacSha224,
    /// HMAC-SHA256.
    HmacSha256,
    /// HMAC-SHA384.
    HmacSha384,
    /// HMAC-SHA512.
    HmacSha512,
}

impl TsigAlgorithm {
    const ALL: [TsigAlgorithm; 6] = [
        TsigAlgorithm::HmacMd5,
        TsigAlgorithm::HmacSha1,
        TsigAlgorithm::HmacSha224,
        TsigAlgorithm::HmacSha256,
        TsigAlgorithm::HmacSha384,
        TsigAlgorithm::HmacSha512,
    ];

    /// Kea's spelling: `HMAC-SHA256`.
    pub fn name(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacMd5 => "HMAC-MD5",
            TsigAlgorithm::HmacSha1 => "HMAC-SHA1",
            TsigAlgorithm::HmacSha224 => "HMAC-SHA224",
            TsigAlgorithm::HmacSha256 => "HMAC-SHA256",
            TsigAlgorithm::HmacSha384 => "HMAC-SHA384",
            TsigAlgorithm::HmacSha512 => "HMAC-SHA512",
        }
    }

    /// The algorithm's DNS name in TSIG records (RFC 8945 section 6).
    pub fn dns_name(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacMd5 => "hmac-md5.sig-alg.reg.int.",
            TsigAlgorithm::HmacSha1 => "hmac-sha1.",
            TsigAlgorithm::HmacSha224 => "hmac-sha224.",
            TsigAlgorithm::HmacSha256 => "hmac-sha256.",
            TsigAlgorithm::HmacSha384 => "hmac-sha384.",
            TsigAlgorithm::HmacSha512 => "hmac-sha512.",
        }
    }

    /// Output length of the hash, bits.
    pub fn hash_bits(self) -> u32 {
        match self {
            TsigAlgorithm::HmacMd5 => 128,
            TsigAlgorithm::HmacSha1 => 160,
            TsigAlgorithm::HmacSha224 => 224,
            TsigAlgorithm::HmacSha256 => 256,
            TsigAlgorithm::HmacSha384 => 384,
            TsigAlgorithm::HmacSha512 => 512,
        }
    }

    /// Parses Kea's spelling, case-insensitively.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
    }
}

/// Where a TSIG key's secret is.
#[derive(Clone, PartialEq, Eq)]
pub enum TsigSecret {
    /// The decoded `secret`.
    Bytes(Vec<u8>),
    /// `secret-file` (Kea 2.6+): read when D2 starts.
    File(PathBuf),
}

impl fmt::Debug for TsigSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TsigSecret::Bytes(b) => write!(f, "Bytes(<{} bytes redacted>)", b.len()),
            TsigSecret::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// One `tsig-keys` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsigKey {
    /// Key name.
    pub name: String,
    /// Algorithm.
    pub algorithm: TsigAlgorithm,
    /// MAC length to send, bits; 0 = the full hash.
    pub digest_bits: u32,
    /// The secret.
    pub secret: TsigSecret,
    /// Where the key is.
    pub location: Location,
}

/// One `ddns-domains` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdnsDomain {
    /// The zone (`example.com.`, `2.0.192.in-addr.arpa.`, or `*`).
    pub name: String,
    /// The domain's TSIG key.
    pub key_name: Option<String>,
    /// Where updates go, in order.
    pub dns_servers: Vec<DnsServer>,
    /// Where the domain is.
    pub location: Location,
}

/// One `dns-servers` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsServer {
    /// Server address.
    pub ip_address: IpAddr,
    /// Server port (default 53).
    pub port: u16,
    /// The server's own TSIG key, overriding the domain's.
    pub key_name: Option<String>,
    /// Where the server is.
    pub location: Location,
}

impl DnsServer {
    /// The key this server's updates are signed with: its own, else the domain's.
    pub fn effective_key<'a>(&'a self, domain: &'a DdnsDomain) -> Option<&'a str> {
        self.key_name.as_deref().or(domain.key_name.as_deref())
    }
}

/// Whether two DNS names are equal (case-insensitive, trailing dot optional).
pub(crate) fn dns_eq(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

pub(crate) fn read_dhcp_ddns(node: &Node, cx: &mut Cx) -> Option<DhcpDdns> {
    let sec = Map::new(node, "DhcpDdns")?;
    let ip_address = sec
        .parsed(cx, "ip-address", parse_ip)
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if ip_address.is_unspecified() {
        let n = sec.get("ip-address").expect("unspecified only when given");
        cx.error(
            &n.location,
            &sec.path_of("ip-address"),
            format!("IP address cannot be \"{ip_address}\""),
        );
    }
    let dns_server_timeout = match sec.int_in(cx, "dns-server-timeout", 1, u32::MAX.into()) {
        Some(v) => v as u32,
        None => 500,
    };
    let tsig_keys = read_tsig_keys(&sec, cx);
    let forward_ddns = read_domains(&sec, cx, "forward-ddns", &tsig_keys);
    let reverse_ddns = read_domains(&sec, cx, "reverse-ddns", &tsig_keys);
    Some(DhcpDdns {
        ip_address,
        port: sec.port(cx, "port").unwrap_or(53001),
        dns_server_timeout,
        ncr_protocol: read_ncr_protocol(&sec, cx),
        ncr_format: NcrFormat::Json,
        tsig_keys,
        forward_ddns,
        reverse_ddns,
        control_sockets: read_control_sockets(&sec, cx),
        hooks: read_hooks(&sec, cx),
        raw: node.clone(),
    })
}

/// A section's `tsig-keys` (DhcpDdns's and Dns's share the shape and the checks).
pub(crate) fn read_tsig_keys(sec: &Map<'_>, cx: &mut Cx) -> Vec<TsigKey> {
    let mut out: Vec<TsigKey> = Vec::new();
    for k in sec.maps("tsig-keys") {
        let Some(name) = k.required_str(cx, "name") else {
            continue;
        };
        let name_node = k.get("name").expect("read above");
        if name.trim().is_empty() {
            cx.error(
                &name_node.location,
                &k.path_of("name"),
                "TSIG key name cannot be blank",
            );
            continue;
        }
        if let Some(prev) = out.iter().find(|p| dns_eq(&p.name, name)) {
            cx.error(
                &name_node.location,
                &k.path_of("name"),
                format!(
                    "duplicate TSIG key name \"{}\" (first at {}:{})",
                    excerpt(name),
                    prev.location.line,
                    prev.location.column
                ),
            );
            continue;
        }
        let Some(alg_text) = k.required_str(cx, "algorithm") else {
            continue;
        };
        let alg_node = k.get("algorithm").expect("read above");
        let Some(algorithm) = TsigAlgorithm::from_name(alg_text) else {
            cx.error(&alg_node.location, &k.path_of("algorithm"), format!("unknown TSIG key algorithm \"{}\": use one of HMAC-MD5, HMAC-SHA1, HMAC-SHA224, HMAC-SHA256, HMAC-SHA384, HMAC-SHA512", excerpt(alg_text)));
            continue;
        };
        let digest_bits = match k.get("digest-bits") {
            None => 0,
            Some(n) => {
                let Some(bits) = n.as_i64() else { continue };
                let path = k.path_of("digest-bits");
                if bits < 0 || bits % 8 != 0 {
                    cx.error(
                        &n.location,
                        &path,
                        "TSIG key digest-bits must either be zero or a positive multiple of eight",
                    );
                    continue;
                }
                let bits = bits as u64;
                let hash = u64::from(algorithm.hash_bits());
                if bits != 0 && (bits < 80 || bits < hash / 2) {
                    cx.error(&n.location, &path, format!("digest-bits {bits} is too small for {}: at least {} (80 and half the hash length)", algorithm.name(), (hash / 2).max(80)));
                    continue;
                }
                if bits > hash {
                    cx.error(
                        &n.location,
                        &path,
                        format!(
                            "digest-bits {bits} is longer than the {}-bit {} hash",
                            hash,
                            algorithm.name()
                        ),
                    );
                    continue;
                }
                bits as u32
            }
        };
        let secret = match (k.get("secret"), k.get("secret-file")) {
            (Some(_), Some(f)) => {
                cx.error(
                    &f.location,
                    &k.path_of("secret-file"),
                    "\"secret\" and \"secret-file\" are mutually exclusive",
                );
                continue;
            }
            (None, None) => {
                cx.error(
                    k.location(),
                    &k.path,
                    "missing parameter \"secret\" (or \"secret-file\")",
                );
                continue;
            }
            (Some(s), None) => {
                let Some(text) = s.as_str() else { continue };
                let path = k.path_of("secret");
                if text.trim().is_empty() {
                    cx.error(&s.location, &path, "TSIG key secret cannot be blank");
                    continue;
                }
                match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
                    Ok(bytes) => TsigSecret::Bytes(bytes),
                    Err(e) => {
                        // Never echo the secret itself.
                        cx.error(
                            &s.location,
                            &path,
                            format!("TSIG key secret is not valid base64: {e}"),
                        );
                        continue;
                    }
                }
            }
            (None, Some(f)) => {
                let Some(p) = f.as_str() else { continue };
                if p.trim().is_empty() {
                    cx.error(
                        &f.location,
                        &k.path_of("secret-file"),
                        "TSIG key secret-file cannot be blank",
                    );
                    continue;
                }
                TsigSecret::File(PathBuf::from(p))
            }
        };
        out.push(TsigKey {
            name: name.to_string(),
            algorithm,
            digest_bits,
            secret,
            location: k.location().clone(),
        });
    }
    out
}

fn read_domains(sec: &Map<'_>, cx: &mut Cx, key: &str, keys: &[TsigKey]) -> Vec<DdnsDomain> {
    let Some(mgr) = sec.map(key) else {
        return Vec::new();
    };
    let mut out: Vec<DdnsDomain> = Vec::new();
    let mut seen: HashMap<String, Location> = HashMap::new();
    for d in mgr.maps("ddns-domains") {
        let Some(name) = d.required_str(cx, "name") else {
            continue;
        };
        let name_node = d.get("name").expect("read above");
        if name.trim().is_empty() {
            cx.error(
                &name_node.location,
                &d.path_of("name"),
                "domain name cannot be blank",
            );
            continue;
        }
        if name != "*" {
            if let Err(msg) = crate::dhcp::check_hostname(name) {
                cx.error(&name_node.location, &d.path_of("name"), msg);
                continue;
            }
        }
        let norm = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(prev) = seen.get(&norm) {
            cx.error(
                &name_node.location,
                &d.path_of("name"),
                format!(
                    "duplicate domain \"{}\" (first at {}:{})",
                    excerpt(name),
                    prev.line,
                    prev.column
                ),
            );
            continue;
        }
        seen.insert(norm, name_node.location.clone());
        let key_name = check_key_ref(&d, cx, keys);
        let mut servers = Vec::new();
        let items = d.maps("dns-servers");
        if items.is_empty() {
            let at = d.get("dns-servers").map_or(d.location(), |n| &n.location);
            cx.error(
                at,
                &d.path_of("dns-servers"),
                "at least one DNS server is required",
            );
        }
        for s in items {
            if let Some(h) = s.get("hostname") {
                if h.as_str().is_some_and(|h| !h.is_empty()) {
                    cx.error(
                        &h.location,
                        &s.path_of("hostname"),
                        "hostname is not supported (as in Kea): use ip-address",
                    );
                    continue;
                }
            }
            if !s.has("ip-address") {
                cx.error(s.location(), &s.path, "missing parameter \"ip-address\"");
                continue;
            }
            let Some(ip_address) = s.parsed(cx, "ip-address", parse_ip) else {
                continue;
            };
            servers.push(DnsServer {
                ip_address,
                port: s.port(cx, "port").unwrap_or(53),
                key_name: check_key_ref(&s, cx, keys),
                location: s.location().clone(),
            });
        }
        out.push(DdnsDomain {
            name: name.to_string(),
            key_name,
            dns_servers: servers,
            location: d.location().clone(),
        });
    }
    out
}

/// A `key-name` must name a defined key; an empty one means "no key".
fn check_key_ref(m: &Map<'_>, cx: &mut Cx, keys: &[TsigKey]) -> Option<String> {
    let node = m.get("key-name")?;
    let name = node.as_str()?;
    if name.is_empty() {
        return None;
    }
    if !keys.iter().any(|k| dns_eq(&k.name, name)) {
        cx.error(
            &node.location,
            &m.path_of("key-name"),
            format!("TSIG key \"{}\" is not defined in tsig-keys", excerpt(name)),
        );
        return None;
    }
    Some(name.to_string())
}
