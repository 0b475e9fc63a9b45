//! Key loading and server selection: the `DhcpDdns` section's TSIG keys and domains as d2
//! uses them, checked once at start (a `secret-file` is read then), and why d2 refuses
//! to start.

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_proto::rr::Name;
use tern_config::{DdnsDomain, DhcpDdns, TsigSecret};
use tern_dnsmsg::tsig::{Secret, TsigKey};

use super::error::D2Error;

/// One DNS server as d2 uses it.
#[derive(Debug, Clone)]
pub(super) struct Server {
    pub(super) addr: SocketAddr,
    /// The key its UPDATEs are signed with.
    pub(super) key: Option<Arc<TsigKey>>,
    /// The key name the configuration gives it (even when no such key is defined), for
    /// the per-key statistics.
    pub(super) key_name: Option<String>,
}

/// One ddns-domain with its servers resolved.
#[derive(Debug, Clone)]
pub(super) struct Domain {
    /// As configured (`*` included): what NCRs are matched against.
    pub(super) name: String,
    /// The UPDATEs' zone section (`*` is the root).
    pub(super) zone: Name,
    pub(super) servers: Vec<Server>,
}

/// The forward and reverse domains of `config`, each server with its key; what d2 would
/// refuse to start on (a key that cannot be built, an unreadable secret file, a domain
/// that is no DNS name) is the error.
pub(super) fn resolve(config: &DhcpDdns) -> Result<(Vec<Domain>, Vec<Domain>), D2Error> {
    let keys = load_keys(config)?;
    Ok((
        resolve_domains(&config.forward_ddns, &keys)?,
        resolve_domains(&config.reverse_ddns, &keys)?,
    ))
}

fn load_keys(config: &DhcpDdns) -> Result<Vec<(String, Arc<TsigKey>)>, D2Error> {
    let mut out = Vec::new();
    for k in &config.tsig_keys {
        let secret = match &k.secret {
            TsigSecret::Bytes(b) => Secret::Bytes(b),
            TsigSecret::File(p) => Secret::File(p),
        };
        let key = TsigKey::from_kea(&k.name, k.algorithm.name(), k.digest_bits, secret).map_err(
            |source| D2Error::Key {
                name: k.name.clone(),
                source,
            },
        )?;
        out.push((k.name.clone(), Arc::new(key)));
    }
    Ok(out)
}

fn resolve_domains(
    domains: &[DdnsDomain],
    keys: &[(String, Arc<TsigKey>)],
) -> Result<Vec<Domain>, D2Error> {
    let find = |name: &str| {
        keys.iter()
            .find(|(n, _)| {
                n.trim_end_matches('.')
                    .eq_ignore_ascii_case(name.trim_end_matches('.'))
            })
            .map(|(_, k)| k.clone())
    };
    domains
        .iter()
        .map(|d| {
            let zone_text = if d.name.trim() == "*" { "." } else { &d.name };
            let mut zone = Name::from_ascii(zone_text).map_err(|e| D2Error::Domain {
                name: d.name.clone(),
                reason: e.to_string(),
            })?;
            zone.set_fqdn(true);
            let servers = d
                .dns_servers
                .iter()
                .map(|s| {
                    let key_name = s.effective_key(d).map(str::to_owned);
                    Server {
                        addr: SocketAddr::new(s.ip_address, s.port),
                        key: key_name.as_deref().and_then(find),
                        key_name,
                    }
                })
                .collect();
            Ok(Domain {
                name: d.name.clone(),
                zone,
                servers,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_dnsmsg::tsig::Algorithm;

    fn config(text: &str) -> DhcpDdns {
        tern_config::parse_str(text, "t.json")
            .unwrap()
            .ddns
            .unwrap()
    }

    #[test]
    fn servers_sign_with_their_own_key_else_the_domains() {
        let c = config(
            r#"{ "DhcpDdns": {
                "tsig-keys": [
                    { "name": "dom.", "algorithm": "HMAC-SHA256", "secret": "AAECAwQFBgcICQ==" },
                    { "name": "srv.", "algorithm": "hmac-md5", "digest-bits": 80, "secret": "AAECAwQFBgcICQ==" } ],
                "forward-ddns": { "ddns-domains": [ { "name": "example.com.", "key-name": "dom.",
                    "dns-servers": [ { "ip-address": "192.0.2.1" },
                                     { "ip-address": "192.0.2.2", "port": 5353, "key-name": "srv." } ] },
                    { "name": "*", "dns-servers": [ { "ip-address": "192.0.2.3" } ] } ] } } }"#,
        );
        let keys = load_keys(&c).unwrap();
        let d = resolve_domains(&c.forward_ddns, &keys).unwrap();
        assert_eq!(d[0].zone.to_string(), "example.com.");
        let s = &d[0].servers;
        assert_eq!(s[0].addr, "192.0.2.1:53".parse().unwrap());
        assert_eq!(s[0].key_name.as_deref(), Some("dom."));
        assert_eq!(s[0].key.as_ref().unwrap().algorithm, Algorithm::HmacSha256);
        assert_eq!(s[1].addr, "192.0.2.2:5353".parse().unwrap());
        let k = s[1].key.as_ref().unwrap();
        assert_eq!((k.algorithm, k.mac_len()), (Algorithm::HmacMd5, 10));
        assert_eq!(d[1].zone.to_string(), ".");
        assert!(d[1].servers[0].key.is_none());
    }

    #[test]
    fn a_secret_file_is_read_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.secret");
        std::fs::write(&path, "AAECAwQFBgcICQ==\n").unwrap();
        let c = config(&format!(
            r#"{{ "DhcpDdns": {{ "tsig-keys": [ {{ "name": "f.", "algorithm": "HMAC-SHA512",
                "secret-file": "{}" }} ] }} }}"#,
            path.display()
        ));
        let keys = load_keys(&c).unwrap();
        assert_eq!(keys[0].1.secret, (0u8..10).collect::<Vec<_>>());
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(load_keys(&c), Err(D2Error::Key { .. })));
    }
}
