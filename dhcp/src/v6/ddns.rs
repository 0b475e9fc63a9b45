//! DHCPv6 names (RFC 4704, the Client FQDN option 39) decided as Kea decides them with
//! its `ddns-*` parameters, and the NameChangeRequests a v6 lease change causes: AAAA
//! and ip6.arpa PTR for the first address of each IA_NA, the DHCID from the DUID
//! (RFC 4701 identifier type 2). Delegated prefixes get no NCR (Kea: none either).
//! Pure; the engine writes the NCRs in the lease's transaction.

use std::net::Ipv6Addr;

use tern_ncr::{lease6_ncr, ChangeType, Fqdn, NameChangeRequest};
use tern_store::{Lease6, LeaseState};

use crate::ddns::{qualify, DdnsConfig};
use crate::v6::wire::ClientFqdn;

/// What the server does about a client's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameDecision6 {
    /// The lease's FQDN for DNS (absolute, with the trailing dot).
    pub fqdn: Option<String>,
    /// The server updates the AAAA (and DHCID).
    pub fwd: bool,
    /// The server updates the PTR.
    pub rev: bool,
    /// The option 39 of the reply (Kea echoes one whenever the client sent one).
    pub reply: Option<ClientFqdn>,
}

/// `myhost-2001-db8--5.<suffix>`: Kea's generated name for a v6 address (colons become
/// dashes).
fn generated(cfg: &DdnsConfig, addr: Ipv6Addr) -> String {
    let ip = addr.to_string().replace(':', "-");
    qualify(&format!("{}-{ip}", cfg.prefix), &cfg.suffix, true)
}

/// Decides the name and who updates DNS (RFC 4704 §4.2 with Kea's overrides: N set →
/// no updates unless `ddns-override-no-update`; S clear → the server updates the AAAA
/// only with `ddns-override-client-update`; the server always does the PTR unless N).
/// A reservation's host name wins over the client's. Without option 39 there is no
/// name, unless `ddns-replace-client-name` is `always` or `when-not-present`, which
/// make one (Kea fabricates an empty option and answers it).
pub fn decide(
    cfg: &DdnsConfig,
    sent: Option<&ClientFqdn>,
    reserved: Option<&str>,
    addr: Ipv6Addr,
) -> NameDecision6 {
    use tern_config::ReplaceClientName as R;
    let fabricated;
    let c = match sent {
        Some(c) => c,
        None if matches!(cfg.replace, R::Always | R::WhenNotPresent) => {
            fabricated = ClientFqdn {
                flags: 0,
                name: Vec::new(),
            };
            &fabricated
        }
        None => return NameDecision6::default(),
    };
    // N and S both set is invalid (RFC 4704 §4.1): Kea ignores the option.
    if c.flags & ClientFqdn::N != 0 && c.flags & ClientFqdn::S != 0 {
        return NameDecision6::default();
    }
    let client_s = c.flags & ClientFqdn::S != 0;
    let (s, n) = match (c.flags & ClientFqdn::N != 0, client_s) {
        (true, _) => {
            let s = cfg.enabled && cfg.override_no_update;
            (s, !s)
        }
        (false, true) => (cfg.enabled, !cfg.enabled),
        (false, false) if cfg.enabled => (cfg.override_client_update, false),
        (false, false) => (false, true),
    };
    let (text, full) = c.text().unwrap_or_default();
    let name = cfg.sanitizer.apply(&text);
    let replace = matches!(cfg.replace, R::Always | R::WhenPresent) && sent.is_some();
    let reserved = reserved.filter(|r| !r.is_empty());
    let fqdn = match reserved {
        Some(r) => qualify(r, &cfg.suffix, true),
        None if replace || name.trim_matches('.').is_empty() => generated(cfg, addr),
        None if !full => qualify(&name, &cfg.suffix, true),
        None => format!("{}.", name.trim_end_matches('.').to_ascii_lowercase()),
    };
    if Fqdn::new(&fqdn).is_err() {
        return NameDecision6::default();
    }
    let mut flags = 0;
    for (set, bit) in [
        (s, ClientFqdn::S),
        (n, ClientFqdn::N),
        (s != client_s, ClientFqdn::O),
    ] {
        if set {
            flags |= bit;
        }
    }
    NameDecision6 {
        fwd: s,
        rev: !n,
        reply: Some(ClientFqdn::from_text(flags, &fqdn, true)),
        fqdn: Some(fqdn),
    }
}

fn same_name(a: Option<&str>, b: Option<&str>) -> bool {
    let norm = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
    a.map(norm) == b.map(norm)
}

/// The NCRs for a granted address, given the client's lease on it before: a new name or
/// new flags (or `ddns-update-on-renew`) remove the old entries and add the new ones.
pub fn lease_ncrs(
    cfg: &DdnsConfig,
    duid: &[u8],
    old: Option<&Lease6>,
    name: &NameDecision6,
    address: Ipv6Addr,
    valid: u32,
) -> Vec<NameChangeRequest> {
    let mut out = Vec::new();
    let old_active = old.filter(|l| l.state == LeaseState::Default && (l.fqdn_fwd || l.fqdn_rev));
    let same = old_active.is_some_and(|l| {
        same_name(l.hostname.as_deref(), name.fqdn.as_deref())
            && l.fqdn_fwd == name.fwd
            && l.fqdn_rev == name.rev
    });
    if same && !cfg.update_on_renew {
        return out;
    }
    if let Some(l) = old_active.filter(|_| !same) {
        out.extend(removal(cfg, l));
    }
    if let Some(f) = &name.fqdn {
        out.extend(lease6_ncr(
            ChangeType::Add,
            f,
            name.fwd,
            name.rev,
            address,
            duid,
            valid,
            &cfg.ncr,
        ));
    }
    out
}

/// The NCR removing a v6 lease's DNS entries (release, decline, reclaim).
pub fn removal(cfg: &DdnsConfig, l: &Lease6) -> Option<NameChangeRequest> {
    let fqdn = l.hostname.as_deref()?;
    lease6_ncr(
        ChangeType::Remove,
        fqdn,
        l.fqdn_fwd,
        l.fqdn_rev,
        l.address,
        l.duid.as_deref()?,
        l.valid_lifetime,
        &cfg.ncr,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_config::DdnsParams;

    fn cfg(enabled: bool, f: impl FnOnce(&mut DdnsParams)) -> DdnsConfig {
        let mut p = DdnsParams {
            qualifying_suffix: Some("example.com".into()),
            ..Default::default()
        };
        f(&mut p);
        DdnsConfig::resolve(enabled, &[&p])
    }

    const A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 5);

    #[test]
    fn flags_as_rfc_4704_with_kea_overrides() {
        let c = cfg(true, |_| {});
        let partial = ClientFqdn::from_text(ClientFqdn::S, "host", false);
        let d = decide(&c, Some(&partial), None, A);
        assert_eq!(d.fqdn.as_deref(), Some("host.example.com."));
        assert!(d.fwd && d.rev);
        assert_eq!(d.reply.as_ref().unwrap().flags, ClientFqdn::S);
        // S clear: the client does the AAAA, the server only the PTR.
        let none = ClientFqdn::from_text(0, "host", false);
        let d = decide(&c, Some(&none), None, A);
        assert!(!d.fwd && d.rev);
        // N set: nothing, unless override-no-update.
        let n = ClientFqdn::from_text(ClientFqdn::N, "host", false);
        assert!(!decide(&c, Some(&n), None, A).rev);
        let o = cfg(true, |p| p.override_no_update = Some(true));
        let d = decide(&o, Some(&n), None, A);
        assert!(d.fwd && d.rev);
        assert_eq!(d.reply.unwrap().flags, ClientFqdn::S | ClientFqdn::O);
        // N and S together: ignored.
        let bad = ClientFqdn::from_text(ClientFqdn::N | ClientFqdn::S, "host", false);
        assert_eq!(decide(&c, Some(&bad), None, A), NameDecision6::default());
        // Updates off: no DNS, the name still decided.
        let off = cfg(false, |_| {});
        let d = decide(&off, Some(&partial), None, A);
        assert!(!d.fwd && !d.rev);
        assert_eq!(d.fqdn.as_deref(), Some("host.example.com."));
    }

    #[test]
    fn names_reserved_generated_and_absent() {
        let c = cfg(true, |_| {});
        let full = ClientFqdn::from_text(ClientFqdn::S, "Box.Other.Org", true);
        let d = decide(&c, Some(&full), Some("printer"), A);
        assert_eq!(d.fqdn.as_deref(), Some("printer.example.com."));
        let d = decide(&c, Some(&full), None, A);
        assert_eq!(d.fqdn.as_deref(), Some("box.other.org."));
        // No option 39: no name, unless replace-client-name makes one.
        assert_eq!(decide(&c, None, None, A), NameDecision6::default());
        let r = cfg(true, |p| {
            p.replace_client_name = Some(tern_config::ReplaceClientName::WhenNotPresent)
        });
        let d = decide(&r, None, None, A);
        assert_eq!(d.fqdn.as_deref(), Some("myhost-2001-db8-1--5.example.com."));
        assert!(!d.fwd && d.rev);
    }

    #[test]
    fn ncrs_carry_a_duid_dhcid_and_follow_renames() {
        let c = cfg(true, |_| {});
        let duid = [0u8, 1, 0, 1, 1, 2, 3, 4, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
        let name = decide(
            &c,
            Some(&ClientFqdn::from_text(ClientFqdn::S, "h", false)),
            None,
            A,
        );
        let n = lease_ncrs(&c, &duid, None, &name, A, 7200);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].dhcid.identifier_type_code(), Some(2));
        assert_eq!(n[0].ip_address, std::net::IpAddr::V6(A));
        assert_eq!(n[0].lease_length, 2400);
    }
}
