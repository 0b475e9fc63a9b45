//! The zones the PowerDNS API serves: those of the `DhcpDdns` section (every
//! `forward-ddns` and `reverse-ddns` domain but `*`), held by another server (BIND) that
//! tern reads by AXFR and changes by RFC 2136 UPDATE, both signed with the domain's key.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record};
use tern_dnsmsg::axfr::{self, AxfrError};
use tern_dnsmsg::client::ExchangeError;
use tern_dnsmsg::tsig::{Secret, TsigKey};
use tern_dnsmsg::update::{self, RrsetChange, UpdateError};
use tracing::warn;

use super::error::PdnsError;

/// One zone held by another server.
pub struct RemoteZone {
    /// The zone's name, absolute and lower-case.
    pub name: Name,
    /// Its id as PowerDNS writes it: `example.com.`.
    pub id: String,
    /// Servers in the configured order, each with the key it is signed with.
    servers: Vec<(SocketAddr, Option<Arc<TsigKey>>)>,
    /// Why a configured key cannot be used (an unreadable `secret-file`).
    key_error: Option<String>,
}

/// Every zone the API knows.
pub struct Zones {
    /// The zones in configuration order.
    pub zones: Vec<RemoteZone>,
    /// `dns-server-timeout`: how long to wait for an UPDATE's answer.
    timeout: Duration,
}

/// A transfer is many messages: it gets this much longer than one UPDATE.
const TRANSFER_FACTOR: u32 = 20;

impl Zones {
    /// The zones of the running configuration (none without a `DhcpDdns` section).
    pub fn from_config(config: &serde_json::Value) -> Zones {
        let mut out = Zones {
            zones: Vec::new(),
            timeout: Duration::from_millis(500),
        };
        if config.get("DhcpDdns").is_none() {
            return out;
        }
        let ddns = match tern_config::parse_str(&config.to_string(), "running configuration") {
            Ok(c) => c.ddns,
            Err(e) => {
                warn!("PDNS_NO_ZONES the configuration's DhcpDdns section cannot be read: {e}");
                None
            }
        };
        let Some(ddns) = ddns else {
            return out;
        };
        out.timeout = Duration::from_millis(u64::from(ddns.dns_server_timeout));
        for d in ddns.forward_ddns.iter().chain(&ddns.reverse_ddns) {
            if d.name.trim() == "*" {
                continue;
            }
            let Ok(mut name) = Name::from_ascii(d.name.trim()) else {
                continue;
            };
            name.set_fqdn(true);
            let name = name.to_lowercase();
            let mut key_error = None;
            let servers = d
                .dns_servers
                .iter()
                .map(|s| {
                    let key = s.effective_key(d).and_then(|k| ddns.key(k)).and_then(|k| {
                        key_from_config(k)
                            .map_err(|e| key_error = Some(format!("TSIG key {}: {e}", k.name)))
                            .ok()
                    });
                    (SocketAddr::new(s.ip_address, s.port), key.map(Arc::new))
                })
                .collect();
            let id = zone_id(&name);
            out.zones.push(RemoteZone {
                name,
                id,
                servers,
                key_error,
            });
        }
        out
    }

    /// The zone a path's id names (`example.com.` or `example.com`, any case).
    pub fn find(&self, id: &str) -> Result<&RemoteZone, PdnsError> {
        let unknown = || PdnsError::NotFound(format!("Could not find domain '{id}'"));
        let text = id.replace("=2F", "/");
        let mut name = Name::from_ascii(&text).map_err(|_| unknown())?;
        name.set_fqdn(true);
        self.zones
            .iter()
            .find(|z| z.name == name.to_lowercase())
            .ok_or_else(unknown)
    }

    /// The zone's records by AXFR from its first server that answers.
    pub async fn transfer(&self, zone: &RemoteZone) -> Result<Vec<Record>, PdnsError> {
        let timeout = self.timeout * TRANSFER_FACTOR;
        zone.first_reachable(|server, key| {
            let name = zone.name.clone();
            async move {
                match axfr::axfr(server, &name, key.as_deref(), timeout).await {
                    Ok(r) => Ok(Ok(r)),
                    Err(AxfrError::Timeout(ms)) => Err(Unreachable::Timeout(ms)),
                    Err(AxfrError::Io(e)) => Err(Unreachable::Io(e)),
                    Err(AxfrError::Rcode(rc)) => Ok(Err(refused(&name, server, rc, "transfer"))),
                    Err(AxfrError::KeyRejected(e)) => Ok(Err(key_rejected(server, &key, &e))),
                    Err(AxfrError::Invalid(e)) => Ok(Err(PdnsError::BadGateway(format!(
                        "the zone transfer from {server} failed: {e}"
                    )))),
                }
            }
        })
        .await
    }

    /// Sends `changes` as one UPDATE to the zone's first server that answers.
    pub async fn update(
        &self,
        zone: &RemoteZone,
        changes: &[RrsetChange],
        no_cname_at: &[Name],
    ) -> Result<(), PdnsError> {
        let timeout = self.timeout;
        zone.first_reachable(|server, key| async move {
            let sent = update::send_rrset_update(
                server,
                &zone.name,
                changes,
                no_cname_at,
                key.as_deref(),
                timeout,
            )
            .await;
            match sent {
                Ok(ResponseCode::NoError) => Ok(Ok(())),
                Ok(rc) => Ok(Err(refused(&zone.name, server, rc, "update"))),
                Err(UpdateError::TooLarge) => Ok(Err(PdnsError::Unprocessable(
                    "the PATCH does not fit in one DNS UPDATE message (64 KB): split it".into(),
                ))),
                Err(UpdateError::Exchange(e)) => match e {
                    ExchangeError::Timeout(ms) => Err(Unreachable::Timeout(ms)),
                    ExchangeError::Io(e) => Err(Unreachable::Io(e)),
                    ExchangeError::KeyRejected(e) => Ok(Err(key_rejected(server, &key, &e))),
                    ExchangeError::Invalid(e) => Ok(Err(PdnsError::BadGateway(format!(
                        "the answer from {server} to the update is not usable: {e}"
                    )))),
                },
            }
        })
        .await
    }
}

/// A `tsig-keys` entry as a signing key (a `secret-file` is read now).
fn key_from_config(k: &tern_config::TsigKey) -> Result<TsigKey, tern_dnsmsg::tsig::KeyError> {
    let secret = match &k.secret {
        tern_config::TsigSecret::Bytes(b) => Secret::Bytes(b),
        tern_config::TsigSecret::File(p) => Secret::File(p),
    };
    TsigKey::from_kea(&k.name, k.algorithm.name(), k.digest_bits, secret)
}

/// Why a server gave no answer: the next one is tried.
enum Unreachable {
    Timeout(u128),
    Io(String),
}

impl RemoteZone {
    /// Runs `op` against each server in turn until one answers (with success or not).
    async fn first_reachable<T, F, Fut>(&self, op: F) -> Result<T, PdnsError>
    where
        F: Fn(SocketAddr, Option<Arc<TsigKey>>) -> Fut,
        Fut: std::future::Future<Output = Result<Result<T, PdnsError>, Unreachable>>,
    {
        if let Some(e) = &self.key_error {
            return Err(PdnsError::BadGateway(e.clone()));
        }
        let mut last = PdnsError::BadGateway(format!("zone '{}' has no dns-servers", self.id));
        for (server, key) in &self.servers {
            match op(*server, key.clone()).await {
                Ok(answer) => return answer,
                Err(Unreachable::Timeout(ms)) => {
                    last = PdnsError::GatewayTimeout(format!(
                        "DNS server {server} did not answer within {ms} ms"
                    ))
                }
                Err(Unreachable::Io(e)) => {
                    last = PdnsError::BadGateway(format!("DNS server {server} unreachable: {e}"))
                }
            }
        }
        Err(last)
    }
}

/// An RCODE other than NOERROR as the HTTP answer: refusals are the server's policy (403),
/// prerequisite failures a conflict with the zone's data (409), the rest the server's fault.
fn refused(zone: &Name, server: SocketAddr, rc: ResponseCode, what: &str) -> PdnsError {
    let text = format!("DNS server {server} answered the {what} of '{zone}' with {rc}");
    match rc {
        ResponseCode::Refused | ResponseCode::NotAuth => PdnsError::Forbidden(format!(
            "{text}: its policy does not allow this key to do this (allow-update, allow-transfer), or the records fail its checks (an MX or SRV target in the zone without an address: see its log)"
        )),
        ResponseCode::YXRRSet => PdnsError::Conflict(format!(
            "{text}: a CNAME exists at a name that would get other data"
        )),
        ResponseCode::YXDomain | ResponseCode::NXRRSet | ResponseCode::NXDomain => {
            PdnsError::Conflict(text)
        }
        ResponseCode::FormErr | ResponseCode::NotZone => PdnsError::Unprocessable(text),
        _ => PdnsError::BadGateway(text),
    }
}

fn key_rejected(server: SocketAddr, key: &Option<Arc<TsigKey>>, e: &str) -> PdnsError {
    let name = key.as_ref().map(|k| k.name.to_string()).unwrap_or_default();
    PdnsError::BadGateway(format!(
        "DNS server {server} rejected tern's TSIG key '{name}' ({e}): the key in DhcpDdns tsig-keys does not match the server's; nothing was changed"
    ))
}

/// PowerDNS's zone id: the absolute name, `/` written `=2F`.
pub fn zone_id(name: &Name) -> String {
    name.to_string().replace('/', "=2F")
}
