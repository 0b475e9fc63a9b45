//! tern's own sections besides `Store`: `Dns` (the authoritative zone server) and `Api` (REST
//! and Kea's command channel). Served by later work; typed and checked here, kept small.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use hickory_proto::rr::RecordType;
use ipnetwork::IpNetwork;

use crate::common::{parse_ip, Cx, Map};
use crate::d2::{dns_eq, read_tsig_keys, TsigKey};
use crate::diag::{excerpt, Location};
use crate::jsonc::Node;

/// The `Dns` section.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsConfig {
    /// Where to answer (`"addr:port"`, `"addr"` for port 53, or `{"ip-address", "port"}`);
    /// empty means the zone server's default.
    pub listen_on: Vec<SocketAddr>,
    /// The zone server's own TSIG keys (`DhcpDdns`'s shape). A key name used in a zone is
    /// looked up here first, then in `DhcpDdns.tsig-keys` ([`crate::Config::dns_tsig_key`]).
    pub tsig_keys: Vec<TsigKey>,
    /// Zones served.
    pub zones: Vec<ZoneConfig>,
    /// The section as read.
    pub raw: Node,
}

/// One zone: a name (`"example.com."`) or a map with its file and policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneConfig {
    /// Zone name, absolute, lower case (ends with a dot).
    pub name: String,
    /// Zone file that seeds the zone when the store does not hold it yet: a relative path
    /// is taken from the configuration file's directory (and is stored joined to it).
    pub file: Option<PathBuf>,
    /// Who may change the zone by RFC 2136 UPDATE, as BIND's `update-policy`; empty means
    /// nobody (an unsigned update is never accepted).
    pub allow_update: Vec<UpdateGrant>,
    /// Who may transfer the zone (AXFR/IXFR); empty means nobody.
    pub allow_transfer: Vec<TransferAcl>,
    /// Secondaries sent a NOTIFY (RFC 1996) after each change.
    pub notify: Vec<NotifyTarget>,
    /// Whether DHCP's DDNS may replace records an administrator put in the zone (default
    /// false: a client's name never takes over an admin record).
    pub ddns_overwrite_static: bool,
    /// Where it is.
    pub location: Location,
}

/// One `allow-update` entry: a BIND `update-policy` `grant KEY RULE [NAME] TYPES` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateGrant {
    /// The TSIG key that must have signed the update (as written).
    pub key: String,
    /// Which names the key may change.
    pub grant: Grant,
    /// Which record types it may change.
    pub types: UpdateTypes,
    /// Where the entry is.
    pub location: Location,
}

/// Which names an [`UpdateGrant`] covers (BIND's rule names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Every name in the zone (`zonesub`).
    Zonesub,
    /// Exactly this name (`name`; absolute, inside the zone).
    Name(String),
    /// This name and every name below it (`subdomain`).
    Subdomain(String),
    /// The key's own name and the names below it (`selfsub`).
    Selfsub,
    /// Names matching this wildcard (`wildcard`, e.g. `*.dyn.example.com.`: the names
    /// strictly below `dyn.example.com.`).
    Wildcard(String),
}

impl Grant {
    /// BIND's spelling of the rule.
    pub fn rule(&self) -> &'static str {
        match self {
            Grant::Zonesub => "zonesub",
            Grant::Name(_) => "name",
            Grant::Subdomain(_) => "subdomain",
            Grant::Selfsub => "selfsub",
            Grant::Wildcard(_) => "wildcard",
        }
    }
}

/// The record types an [`UpdateGrant`] covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateTypes {
    /// `types` omitted: BIND's default, every type but RRSIG, NS, SOA, NSEC and NSEC3.
    Default,
    /// `"ANY"`: every type but NSEC and NSEC3 (as BIND's `ANY`).
    Any,
    /// These types, upper case (`A`, `TXT`, `TYPE65534`).
    Only(Vec<String>),
}

/// One `allow-transfer` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferAcl {
    /// Requests signed with this TSIG key (`{"key": ..}`).
    Key(String),
    /// Requests from this address or prefix (`{"ip-address": "192.0.2.0/24"}`; a bare
    /// address is a /32 or /128).
    Network(IpNetwork),
}

/// One `notify` entry: a secondary told of each new serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyTarget {
    /// Where the NOTIFY goes.
    pub address: SocketAddr,
    /// The key it is signed with, when given.
    pub key_name: Option<String>,
    /// Where the entry is.
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

/// Reads the `Dns` section. `ddns_keys` are `DhcpDdns.tsig-keys` (zones may name them);
/// `base` is the configuration file's directory (relative zone files are taken from it).
pub(crate) fn read_dns(
    node: &Node,
    cx: &mut Cx,
    ddns_keys: &[TsigKey],
    base: &Path,
) -> Option<DnsConfig> {
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
    let tsig_keys = read_tsig_keys(&sec, cx);
    let keys = KeyNames {
        dns: &tsig_keys,
        ddns: ddns_keys,
    };
    let mut zones: Vec<ZoneConfig> = Vec::new();
    for (item, path) in sec.items("zones") {
        let (name_node, name, name_path, map) = if let Some(s) = item.as_str() {
            (item, s, path, None)
        } else if let Some(m) = Map::new(item, path) {
            let Some(n) = m.required_str(cx, "name") else {
                continue;
            };
            (
                m.get("name").expect("read above"),
                n,
                m.path_of("name"),
                Some(m),
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
        let mut zone = ZoneConfig {
            name: abs,
            file: None,
            allow_update: Vec::new(),
            allow_transfer: Vec::new(),
            notify: Vec::new(),
            ddns_overwrite_static: false,
            location: name_node.location.clone(),
        };
        if let Some(m) = map {
            zone.file = read_zone_file(&m, cx, base);
            zone.allow_update = read_allow_update(&m, cx, &keys, &zone.name);
            zone.allow_transfer = read_allow_transfer(&m, cx, &keys);
            zone.notify = read_notify(&m, cx, &keys);
            zone.ddns_overwrite_static = m.bool("ddns-overwrite-static").unwrap_or(false);
        }
        zones.push(zone);
    }
    Some(DnsConfig {
        listen_on,
        tsig_keys,
        zones,
        raw: node.clone(),
    })
}

/// The TSIG keys a zone may name: the `Dns` section's, then `DhcpDdns`'s.
struct KeyNames<'a> {
    dns: &'a [TsigKey],
    ddns: &'a [TsigKey],
}

impl KeyNames<'_> {
    /// The key name under `key` in `m` when it names a defined key; an error otherwise.
    fn check(&self, m: &Map<'_>, cx: &mut Cx, key: &str) -> Option<String> {
        let node = m.get(key)?;
        let name = node.as_str()?;
        if name.trim().is_empty() {
            cx.error(
                &node.location,
                &m.path_of(key),
                "TSIG key name cannot be blank",
            );
            return None;
        }
        if !self
            .dns
            .iter()
            .chain(self.ddns)
            .any(|k| dns_eq(&k.name, name))
        {
            cx.error(
                &node.location,
                &m.path_of(key),
                format!(
                    "TSIG key \"{}\" is not defined in Dns.tsig-keys or DhcpDdns.tsig-keys",
                    excerpt(name)
                ),
            );
            return None;
        }
        Some(name.to_string())
    }
}

/// A zone's `file`, joined to the configuration's directory; it must be a readable file.
fn read_zone_file(m: &Map<'_>, cx: &mut Cx, base: &Path) -> Option<PathBuf> {
    let node = m.get("file")?;
    let given = node.as_str()?;
    if given.trim().is_empty() {
        cx.error(
            &node.location,
            &m.path_of("file"),
            "zone file name cannot be blank",
        );
        return None;
    }
    let path = base.join(given);
    let readable = std::fs::metadata(&path).and_then(|meta| {
        if meta.is_file() {
            std::fs::File::open(&path).map(drop)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            ))
        }
    });
    if let Err(e) = readable {
        cx.error(
            &node.location,
            &m.path_of("file"),
            format!("cannot read zone file \"{}\": {e}", path.display()),
        );
        return None;
    }
    Some(path)
}

const GRANTS: &[&str] = &["zonesub", "name", "subdomain", "selfsub", "wildcard"];

fn read_allow_update(
    m: &Map<'_>,
    cx: &mut Cx,
    keys: &KeyNames<'_>,
    zone: &str,
) -> Vec<UpdateGrant> {
    let mut out = Vec::new();
    for g in m.maps("allow-update") {
        let key = if g.has("key") {
            keys.check(&g, cx, "key")
        } else {
            cx.error(g.location(), &g.path, "missing parameter \"key\"");
            None
        };
        let Some(rule) = g.required_str(cx, "grant") else {
            continue;
        };
        let rule = rule.to_ascii_lowercase();
        if !GRANTS.contains(&rule.as_str()) {
            // The schema names the choices.
            continue;
        }
        let name = read_grant_name(&g, cx, &rule, zone);
        let types = read_update_types(&g, cx);
        let (Some(key), Some(grant), Some(types)) = (key, name, types) else {
            continue;
        };
        out.push(UpdateGrant {
            key,
            grant,
            types,
            location: g.location().clone(),
        });
    }
    out
}

/// The grant with its `name`: required for name/subdomain/wildcard (absolute, inside the
/// zone), refused for zonesub/selfsub (BIND's rules take none there).
fn read_grant_name(g: &Map<'_>, cx: &mut Cx, rule: &str, zone: &str) -> Option<Grant> {
    let node = g.get("name");
    let path = g.path_of("name");
    if matches!(rule, "zonesub" | "selfsub") {
        if let Some(n) = node {
            cx.error(
                &n.location,
                &path,
                format!("grant {rule} takes no \"name\""),
            );
            return None;
        }
        return Some(if rule == "zonesub" {
            Grant::Zonesub
        } else {
            Grant::Selfsub
        });
    }
    let Some(node) = node else {
        cx.error(
            g.location(),
            &g.path,
            format!("missing parameter \"name\" (grant {rule} needs one)"),
        );
        return None;
    };
    let name = node.as_str()?;
    let bare = if rule == "wildcard" {
        match name.strip_prefix("*.") {
            Some(rest) => rest,
            None => {
                cx.error(
                    &node.location,
                    &path,
                    format!(
                        "a wildcard grant's name starts with \"*.\": \"{}\"",
                        excerpt(name)
                    ),
                );
                return None;
            }
        }
    } else {
        name
    };
    if !name.ends_with('.') {
        cx.error(
            &node.location,
            &path,
            format!("\"{}\" is not absolute (add a trailing dot)", excerpt(name)),
        );
        return None;
    }
    if let Err(msg) = crate::dhcp::check_hostname(bare) {
        cx.error(&node.location, &path, msg);
        return None;
    }
    let inside = dns_eq(bare, zone) || bare.to_ascii_lowercase().ends_with(&format!(".{zone}"));
    if !inside {
        cx.error(
            &node.location,
            &path,
            format!("\"{}\" is not inside the zone {zone}", excerpt(name)),
        );
        return None;
    }
    let name = name.to_string();
    Some(match rule {
        "name" => Grant::Name(name),
        "subdomain" => Grant::Subdomain(name),
        _ => Grant::Wildcard(name),
    })
}

fn read_update_types(g: &Map<'_>, cx: &mut Cx) -> Option<UpdateTypes> {
    if !g.has("types") {
        return Some(UpdateTypes::Default);
    }
    let items = g.strs("types");
    if items.len() == 1 && items[0].1.eq_ignore_ascii_case("ANY") {
        return Some(UpdateTypes::Any);
    }
    let mut types = Vec::new();
    let mut ok = true;
    for (node, s, path) in items {
        match record_type_name(s) {
            Ok(t) => types.push(t),
            Err(msg) => {
                cx.error(&node.location, &path, msg);
                ok = false;
            }
        }
    }
    if ok && types.is_empty() {
        let n = g.get("types").expect("has types");
        cx.error(
            &n.location,
            &g.path_of("types"),
            "list at least one record type (or \"ANY\")",
        );
        return None;
    }
    ok.then_some(UpdateTypes::Only(types))
}

/// Mnemonics hickory-proto 0.26 does not know but tern's DDNS writes (RFC 4701).
const EXTRA_TYPES: &[&str] = &["DHCID"];

/// A record type name in upper case: a mnemonic hickory knows or `TYPEnnn` (RFC 3597 §5).
fn record_type_name(s: &str) -> Result<String, String> {
    let upper = s.trim().to_ascii_uppercase();
    if EXTRA_TYPES.contains(&upper.as_str()) {
        return Ok(upper);
    }
    if upper == "ANY" {
        return Err("\"ANY\" stands alone: write [\"ANY\"]".into());
    }
    if let Some(code) = upper.strip_prefix("TYPE") {
        if code.parse::<u16>().is_ok() {
            return Ok(upper);
        }
    }
    match RecordType::from_str(&upper) {
        Ok(t) if !matches!(t, RecordType::Unknown(_)) => Ok(upper),
        _ => Err(format!("\"{}\" is not a record type", excerpt(s))),
    }
}

fn read_allow_transfer(m: &Map<'_>, cx: &mut Cx, keys: &KeyNames<'_>) -> Vec<TransferAcl> {
    let mut out = Vec::new();
    for t in m.maps("allow-transfer") {
        match (t.has("key"), t.has("ip-address")) {
            (true, false) => out.extend(keys.check(&t, cx, "key").map(TransferAcl::Key)),
            (false, true) => out.extend(
                t.parsed(cx, "ip-address", parse_network)
                    .map(TransferAcl::Network),
            ),
            (true, true) => cx.error(
                t.location(),
                &t.path,
                "give \"key\" or \"ip-address\", not both (list them as two entries)",
            ),
            (false, false) => cx.error(
                t.location(),
                &t.path,
                "missing parameter \"key\" (or \"ip-address\")",
            ),
        }
    }
    out
}

/// An address (a /32 or /128) or a prefix with no host bits set.
fn parse_network(s: &str) -> Result<IpNetwork, String> {
    if !s.contains('/') {
        return parse_ip(s).map(IpNetwork::from);
    }
    let net: IpNetwork = s.trim().parse().map_err(|_| {
        format!(
            "\"{}\" is not an address or a prefix (address/length)",
            excerpt(s)
        )
    })?;
    if net.network() != net.ip() {
        return Err(format!(
            "\"{}\" has host bits set: did you mean {}/{}?",
            excerpt(s),
            net.network(),
            net.prefix()
        ));
    }
    Ok(net)
}

fn read_notify(m: &Map<'_>, cx: &mut Cx, keys: &KeyNames<'_>) -> Vec<NotifyTarget> {
    let mut out = Vec::new();
    for n in m.maps("notify") {
        let Some(_) = n.required_str(cx, "ip-address") else {
            continue;
        };
        let ip = n.parsed(cx, "ip-address", parse_ip);
        let port = n.port(cx, "port");
        let key_name = keys.check(&n, cx, "key-name");
        let Some(ip) = ip else { continue };
        if n.has("key-name") && key_name.is_none() {
            continue;
        }
        out.push(NotifyTarget {
            address: SocketAddr::new(ip, port.unwrap_or(53)),
            key_name,
            location: n.location().clone(),
        });
    }
    out
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
