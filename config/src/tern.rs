//! tern's own sections besides `Store`: `Dns` (the authoritative zone server) and `Api` (REST
//! and Kea's command channel). Served by later work; typed and checked here, kept small.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use crate::common::{parse_ip, Cx, Map};
use crate::diag::{excerpt, Location};
use crate::jsonc::Node;

/// The `Dns` section.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsConfig {
    /// Where to answer (`"addr:port"`, `"addr"` for port 53, or `{"ip-address", "port"}`);
    /// empty means the zone server's default.
    pub listen_on: Vec<SocketAddr>,
    /// Zones served.
    pub zones: Vec<ZoneConfig>,
    /// The section as read.
    pub raw: Node,
}

/// One zone: a name (`"example.com."`) or `{"name", "file"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneConfig {
    /// Zone name, absolute (ends with a dot).
    pub name: String,
    /// Zone file to load it from, when given.
    pub file: Option<PathBuf>,
    /// Where it is.
    pub location: Location,
}

/// The `Api` section.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    /// Listen address (default 127.0.0.1).
    pub ip_address: IpAddr,
    /// Listen port (default 8000, Kea's control agent port).
    pub port: u16,
    /// HTTP basic authentication (Kea's shape).
    pub authentication: Option<BasicAuth>,
    /// HTTPS.
    pub tls: Option<ApiTls>,
    /// Bearer API keys.
    pub api_keys: Vec<ApiKey>,
    /// The section as read.
    pub raw: Node,
}

/// HTTP basic authentication, as Kea's `authentication` map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    /// Realm (default `tern`).
    pub realm: String,
    /// Directory relative file names are taken from.
    pub directory: Option<PathBuf>,
    /// Accepted clients.
    pub clients: Vec<BasicAuthClient>,
}

/// One client of basic authentication.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuthClient {
    /// User id.
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// File holding the user id.
    pub user_file: Option<PathBuf>,
    /// File holding the password (or `user:password` when no user is given).
    pub password_file: Option<PathBuf>,
}

impl fmt::Debug for BasicAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuthClient")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("user_file", &self.user_file)
            .field("password_file", &self.password_file)
            .finish()
    }
}

/// HTTPS settings of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTls {
    /// CA used to check client certificates.
    pub trust_anchor: Option<PathBuf>,
    /// Server certificate.
    pub cert_file: PathBuf,
    /// Server key.
    pub key_file: PathBuf,
    /// Whether clients must present a certificate.
    pub cert_required: bool,
}

/// One API key.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// A label for logs.
    pub name: Option<String>,
    /// The key itself.
    pub secret: ApiKeySecret,
}

/// Where an API key is.
#[derive(Clone, PartialEq, Eq)]
pub enum ApiKeySecret {
    /// In the config.
    Value(String),
    /// In a file.
    File(PathBuf),
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = match &self.secret {
            ApiKeySecret::Value(_) => "<redacted>".to_string(),
            ApiKeySecret::File(p) => p.display().to_string(),
        };
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("secret", &secret)
            .finish()
    }
}

fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    match parse_ip(s) {
        Ok(ip) => Ok(SocketAddr::new(ip, 53)),
        Err(_) => Err(format!(
            "\"{}\" is not an address or address:port (write IPv6 with a port as [addr]:port)",
            excerpt(s)
        )),
    }
}

pub(crate) fn read_dns(node: &Node, cx: &mut Cx) -> Option<DnsConfig> {
    let sec = Map::new(node, "Dns")?;
    let mut listen_on = Vec::new();
    for (item, path) in sec.items("listen-on") {
        if let Some(s) = item.as_str() {
            match parse_listen(s) {
                Ok(sa) => listen_on.push(sa),
                Err(msg) => cx.error(&item.location, &path, msg),
            }
        } else if let Some(m) = Map::new(item, path) {
            let Some(_) = m.required_str(cx, "ip-address") else {
                continue;
            };
            let Some(ip) = m.parsed(cx, "ip-address", parse_ip) else {
                continue;
            };
            listen_on.push(SocketAddr::new(ip, m.port(cx, "port").unwrap_or(53)));
        }
    }
    let mut zones: Vec<ZoneConfig> = Vec::new();
    for (item, path) in sec.items("zones") {
        let (name_node, name, name_path, file) = if let Some(s) = item.as_str() {
            (item, s, path, None)
        } else if let Some(m) = Map::new(item, path) {
            let Some(n) = m.required_str(cx, "name") else {
                continue;
            };
            let file = m.non_empty_str("file").map(PathBuf::from);
            (
                m.get("name").expect("read above"),
                n,
                m.path_of("name"),
                file,
            )
        } else {
            continue;
        };
        if name.trim().is_empty() || name == "." {
            cx.error(&name_node.location, &name_path, "zone name cannot be empty");
            continue;
        }
        if let Err(msg) = crate::dhcp::check_hostname(name) {
            cx.error(&name_node.location, &name_path, msg);
            continue;
        }
        let abs = format!("{}.", name.trim_end_matches('.').to_ascii_lowercase());
        if let Some(prev) = zones.iter().find(|z| z.name == abs) {
            cx.error(
                &name_node.location,
                &name_path,
                format!(
                    "zone {abs} is already listed at {}:{}",
                    prev.location.line, prev.location.column
                ),
            );
            continue;
        }
        zones.push(ZoneConfig {
            name: abs,
            file,
            location: name_node.location.clone(),
        });
    }
    Some(DnsConfig {
        listen_on,
        zones,
        raw: node.clone(),
    })
}

pub(crate) fn read_api(node: &Node, cx: &mut Cx) -> Option<ApiConfig> {
    let sec = Map::new(node, "Api")?;
    let ip_address = sec
        .parsed(cx, "ip-address", parse_ip)
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let port = sec.port(cx, "port").unwrap_or(8000);

    let authentication = sec.map("authentication").map(|a| {
        let mut clients = Vec::new();
        for c in a.maps("clients") {
            if let Some(n) = c.get("user") {
                if n.as_str().is_some_and(|u| u.is_empty() || u.contains(':')) {
                    cx.error(&n.location, &c.path_of("user"), "user id must not be empty or contain ':'");
                    continue;
                }
            }
            if c.has("user") && c.has("user-file") {
                cx.error(c.location(), &c.path, "\"user\" and \"user-file\" are mutually exclusive");
                continue;
            }
            if c.has("password") && c.has("password-file") {
                cx.error(c.location(), &c.path, "\"password\" and \"password-file\" are mutually exclusive");
                continue;
            }
            if !c.has("user") && !c.has("user-file") && !c.has("password-file") {
                cx.error(c.location(), &c.path, "missing parameter \"user\" (or \"user-file\", or a \"password-file\" holding user:password)");
                continue;
            }
            clients.push(BasicAuthClient {
                user: c.str("user").map(str::to_string),
                password: c.str("password").map(str::to_string),
                user_file: c.non_empty_str("user-file").map(PathBuf::from),
                password_file: c.non_empty_str("password-file").map(PathBuf::from),
            });
        }
        BasicAuth {
            realm: a.str("realm").unwrap_or("tern").to_string(),
            directory: a.non_empty_str("directory").map(PathBuf::from),
            clients,
        }
    });

    let cert = sec.non_empty_str("cert-file");
    let key = sec.non_empty_str("key-file");
    let anchor = sec.non_empty_str("trust-anchor");
    let tls = match (cert, key) {
        (Some(c), Some(k)) => {
            let cert_required = sec.bool("cert-required").unwrap_or(anchor.is_some());
            if cert_required && anchor.is_none() {
                let n = sec.get("cert-required").expect("true only when given");
                cx.error(
                    &n.location,
                    &sec.path_of("cert-required"),
                    "requiring client certificates needs a \"trust-anchor\" to check them against",
                );
            }
            Some(ApiTls {
                trust_anchor: anchor.map(PathBuf::from),
                cert_file: PathBuf::from(c),
                key_file: PathBuf::from(k),
                cert_required,
            })
        }
        (None, None) => {
            for k in ["trust-anchor", "cert-required"] {
                if let Some(n) = sec.get(k) {
                    cx.error(
                        &n.location,
                        &sec.path_of(k),
                        "needs \"cert-file\" and \"key-file\"",
                    );
                }
            }
            None
        }
        _ => {
            let (given, missing) = if cert.is_some() {
                ("cert-file", "key-file")
            } else {
                ("key-file", "cert-file")
            };
            let n = sec.get(given).expect("given");
            cx.error(
                &n.location,
                &sec.path_of(given),
                format!("needs \"{missing}\" too"),
            );
            None
        }
    };

    let mut api_keys = Vec::new();
    for (item, path) in sec.items("api-keys") {
        if let Some(s) = item.as_str() {
            if s.trim().is_empty() {
                cx.error(&item.location, &path, "API key cannot be empty");
                continue;
            }
            api_keys.push(ApiKey {
                name: None,
                secret: ApiKeySecret::Value(s.to_string()),
            });
        } else if let Some(m) = Map::new(item, path) {
            let secret = match (m.non_empty_str("key"), m.non_empty_str("key-file")) {
                (Some(k), None) => ApiKeySecret::Value(k.to_string()),
                (None, Some(f)) => ApiKeySecret::File(PathBuf::from(f)),
                (Some(_), Some(_)) => {
                    cx.error(
                        m.location(),
                        &m.path,
                        "\"key\" and \"key-file\" are mutually exclusive",
                    );
                    continue;
                }
                (None, None) => {
                    cx.error(
                        m.location(),
                        &m.path,
                        "missing parameter \"key\" (or \"key-file\")",
                    );
                    continue;
                }
            };
            api_keys.push(ApiKey {
                name: m.str("name").map(str::to_string),
                secret,
            });
        }
    }

    Some(ApiConfig {
        ip_address,
        port,
        authentication,
        tls,
        api_keys,
        raw: node.clone(),
    })
}
