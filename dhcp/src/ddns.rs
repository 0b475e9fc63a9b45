//! Client names for DNS (pure): which FQDN a lease gets, whether the server updates
//! the forward and reverse records, what the reply's Client FQDN option says, and the
//! NameChangeRequests a lease change causes. Follows RFC 4702 (option 81) and Kea's
//! `ddns-*` parameters; option 12 (host name) when the client sends no option 81.

use std::net::{IpAddr, Ipv4Addr};

use tern_config::{DdnsParams, ReplaceClientName};
use tern_ncr::{lease_ncr, ChangeType, Fqdn, LeaseName, NameChangeRequest, NcrParams};
use tern_store::{Lease4, LeaseState};

use crate::packet::Request;

/// RFC 4702 §2.1 flag bits.
const FLAG_S: u8 = 0x01;
const FLAG_O: u8 = 0x02;
const FLAG_E: u8 = 0x04;
const FLAG_N: u8 = 0x08;

/// The `ddns-*` parameters in force for a subnet (or pool), defaults filled in as Kea's.
#[derive(Debug, Clone, PartialEq)]
pub struct DdnsConfig {
    /// `dhcp-ddns.enable-updates` and `ddns-send-updates` (default true) together.
    pub enabled: bool,
    /// `ddns-override-no-update`.
    pub override_no_update: bool,
    /// `ddns-override-client-update`.
    pub override_client_update: bool,
    /// `ddns-replace-client-name` (default never).
    pub replace: ReplaceClientName,
    /// `ddns-generated-prefix` (default `myhost`).
    pub prefix: String,
    /// `ddns-qualifying-suffix` (default empty).
    pub suffix: String,
    /// `ddns-update-on-renew`.
    pub update_on_renew: bool,
    /// `ddns-conflict-resolution-mode` and the `ddns-ttl*` rule, as every NCR of the
    /// scope carries them.
    pub ncr: NcrParams,
    /// `hostname-char-set` / `hostname-char-replacement`.
    pub sanitizer: Sanitizer,
}

/// Kea's `hostname-char-set` (a regular expression matching the characters to
/// replace; Kea's default `[^A-Za-z0-9.-]`, empty: none) and
/// `hostname-char-replacement` (default empty: the characters are dropped), applied to
/// the names clients send.
#[derive(Debug, Clone)]
pub struct Sanitizer {
    set: Option<regex::Regex>,
    replacement: String,
}

/// Kea's default `hostname-char-set`.
pub const DEFAULT_CHAR_SET: &str = "[^A-Za-z0-9.-]";

impl Default for Sanitizer {
    fn default() -> Self {
        Sanitizer::new(DEFAULT_CHAR_SET, "")
    }
}

impl PartialEq for Sanitizer {
    fn eq(&self, other: &Self) -> bool {
        self.set.as_ref().map(regex::Regex::as_str) == other.set.as_ref().map(regex::Regex::as_str)
            && self.replacement == other.replacement
    }
}

impl Sanitizer {
    /// A sanitizer; an invalid expression (the configuration check refuses those)
    /// falls back to Kea's default.
    pub fn new(set: &str, replacement: &str) -> Sanitizer {
        let set = (!set.is_empty()).then(|| {
            regex::Regex::new(set).unwrap_or_else(|_| {
                regex::Regex::new(DEFAULT_CHAR_SET).expect("the default character set compiles")
            })
        });
        Sanitizer {
            set,
            replacement: replacement.to_string(),
        }
    }

    /// The name with every matching character replaced.
    pub fn apply(&self, name: &str) -> String {
        match &self.set {
            Some(re) => re.replace_all(name, self.replacement.as_str()).into_owned(),
            None => name.to_string(),
        }
    }
}

impl DdnsConfig {
    /// Resolves the parameters from the innermost scope outwards
    /// ([`DdnsParams::merged`]), Kea's defaults where no scope sets one.
    pub fn resolve(enable_updates: bool, scopes: &[&DdnsParams]) -> DdnsConfig {
        let p = DdnsParams::merged(scopes);
        DdnsConfig {
            enabled: enable_updates && p.send_updates.unwrap_or(true),
            override_no_update: p.override_no_update.unwrap_or(false),
            override_client_update: p.override_client_update.unwrap_or(false),
            replace: p.replace_client_name.unwrap_or(ReplaceClientName::Never),
            prefix: p
                .generated_prefix
                .clone()
                .unwrap_or_else(|| "myhost".into()),
            suffix: p.qualifying_suffix.clone().unwrap_or_default(),
            update_on_renew: p.update_on_renew.unwrap_or(false),
            ncr: NcrParams::from_config(&p),
            sanitizer: Sanitizer::new(
                p.hostname_char_set.as_deref().unwrap_or(DEFAULT_CHAR_SET),
                p.hostname_char_replacement.as_deref().unwrap_or_default(),
            ),
        }
    }

    /// The DNS TTL for a lease of `valid` seconds: `ddns-ttl`; else `ddns-ttl-percent`
    /// (default one third) of the lifetime, at least `ddns-ttl-min` (default 600),
    /// at most `ddns-ttl-max`.
    pub fn ttl_for(&self, valid: u32) -> u32 {
        self.ncr.ttl.for_lease(valid)
    }
}

/// Option 81 as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFqdn {
    /// Flags.
    pub flags: u8,
    /// The name as text, without a trailing dot.
    pub name: String,
    /// The name is partial (to be qualified by the server).
    pub partial: bool,
}

impl ClientFqdn {
    /// Parses option 81's value (RFC 4702 §2): flags, two obsolete RCODEs, a name in
    /// DNS wire form (E set; partial when it lacks the root label) or ASCII (partial
    /// when it lacks the trailing dot).
    pub fn parse(v: &[u8]) -> Option<ClientFqdn> {
        let (&flags, rest) = v.split_first()?;
        let name = rest.get(2..)?;
        if flags & FLAG_E != 0 {
            let mut labels = Vec::new();
            let mut i = 0;
            let mut partial = true;
            while i < name.len() {
                let len = usize::from(name[i]);
                if len == 0 {
                    partial = false;
                    break;
                }
                if len > 63 {
                    return None;
                }
                let l = name.get(i + 1..i + 1 + len)?;
                labels.push(String::from_utf8_lossy(l).into_owned());
                i += 1 + len;
            }
            Some(ClientFqdn {
                flags,
                name: labels.join("."),
                partial,
            })
        } else {
            let text = String::from_utf8_lossy(name);
            let text = text.trim_end_matches('\0');
            Some(ClientFqdn {
                flags,
                partial: !text.ends_with('.'),
                name: text.trim_end_matches('.').to_string(),
            })
        }
    }
}

/// What the server does about a client's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameDecision {
    /// The lease's FQDN for DNS (absolute, with the trailing dot), if any.
    pub fqdn: Option<String>,
    /// The server updates the forward (A, DHCID) records.
    pub fwd: bool,
    /// The server updates the reverse (PTR) record.
    pub rev: bool,
    /// `lease4.hostname` as Kea 2.2 writes it: the reply's option 81 name (absolute) or
    /// option 12 value; kept when DNS updates are off.
    pub hostname: Option<String>,
    /// Option 12 for the reply (when the client sent no option 81).
    pub reply_hostname: Option<String>,
    /// Option 81 for the reply, when the client sent one.
    pub reply_fqdn: Option<Vec<u8>>,
}

/// Kea's `D2ClientMgr::qualifyName`: the suffix is appended to any name (with a dot
/// between unless the name ends in one, so also to a name that has several labels or a
/// trailing dot), then the trailing dot is added or removed; lower case, as Kea stores it.
pub(crate) fn qualify(name: &str, suffix: &str, trailing_dot: bool) -> String {
    let mut s = name.to_string();
    if !suffix.is_empty() {
        if !s.is_empty() && !s.ends_with('.') {
            s.push('.');
        }
        s.push_str(suffix);
    }
    if trailing_dot {
        if !s.is_empty() && !s.ends_with('.') {
            s.push('.');
        }
    } else if s.ends_with('.') {
        s.pop();
    }
    s.to_ascii_lowercase()
}

/// `myhost-192-0-2-10` (qualified with the suffix), Kea's `generateFqdn`.
fn generated(cfg: &DdnsConfig, addr: Ipv4Addr, trailing_dot: bool) -> String {
    let ip = addr.to_string().replace('.', "-");
    qualify(&format!("{}-{ip}", cfg.prefix), &cfg.suffix, trailing_dot)
}

/// Labels of a text name counting the root (Kea's `getLabelCount`: `host` has 2,
/// `.` 1, the empty name 0); `None` when it is no DNS name.
fn label_count(name: &str) -> Option<usize> {
    if name.is_empty() {
        return Some(0);
    }
    if name == "." {
        return Some(1);
    }
    let body = name.strip_suffix('.').unwrap_or(name);
    let labels: Vec<&str> = body.split('.').collect();
    (name.len() <= 254 && labels.iter().all(|l| !l.is_empty() && l.len() <= 63))
        .then_some(labels.len() + 1)
}

/// Decides the client's name as Kea 2.2 does, whether DNS updates are on or not (they
/// decide only the flags and who updates): option 81 wins over option 12 (RFC 4702
/// §3.1); a reservation's host name wins over the client's, qualified with
/// `ddns-qualifying-suffix` whatever its form; `ddns-replace-client-name` may replace or
/// supply the name (generated from the address). Who updates DNS follows RFC 4702 §4
/// (S, O and N flags) with Kea's overrides; with option 12 the server updates both.
pub fn decide_name(
    cfg: &DdnsConfig,
    req: &Request,
    reserved: Option<&str>,
    addr: Ipv4Addr,
) -> NameDecision {
    let reserved = reserved.filter(|r| !r.is_empty());
    let replace_sent = matches!(
        cfg.replace,
        ReplaceClientName::Always | ReplaceClientName::WhenPresent
    );
    match req.client_fqdn.as_deref() {
        Some(v) => decide_fqdn(cfg, v, reserved, replace_sent, addr),
        None => decide_hostname(cfg, req.hostname.as_deref(), reserved, replace_sent, addr),
    }
}

/// Option 81 sent: the reply's option 81 names the lease's absolute name.
fn decide_fqdn(
    cfg: &DdnsConfig,
    v: &[u8],
    reserved: Option<&str>,
    replace_sent: bool,
    addr: Ipv4Addr,
) -> NameDecision {
    // Unreadable, or N and S both set (RFC 4702 §2.1: ignored): no name at all.
    let Some(c) = ClientFqdn::parse(v).filter(|c| c.flags & (FLAG_N | FLAG_S) != FLAG_N | FLAG_S)
    else {
        return NameDecision::default();
    };
    let client_s = c.flags & FLAG_S != 0;
    // RFC 4702 §4 with Kea's overrides; updates off: N set, S clear.
    let (s, n) = match (c.flags & FLAG_N != 0, client_s) {
        (true, _) => {
            let s = cfg.enabled && cfg.override_no_update;
            (s, !s)
        }
        (false, true) => (cfg.enabled, !cfg.enabled),
        (false, false) if cfg.enabled => (cfg.override_client_update, false),
        (false, false) => (false, true),
    };
    let name = cfg.sanitizer.apply(&c.name);
    let fqdn = match reserved {
        Some(r) => qualify(r, &cfg.suffix, true),
        None if replace_sent || name.trim_matches('.').is_empty() => generated(cfg, addr, true),
        None if c.partial => qualify(&name, &cfg.suffix, true),
        None => format!("{}.", name.trim_end_matches('.').to_ascii_lowercase()),
    };
    let Ok(dns) = Fqdn::new(&fqdn) else {
        return NameDecision::default();
    };
    // O: the server overrode the client's S (RFC 4702 §2.1); E echoed.
    let mut flags = c.flags & FLAG_E;
    for (set, bit) in [(s, FLAG_S), (n, FLAG_N), (s != client_s, FLAG_O)] {
        if set {
            flags |= bit;
        }
    }
    // RCODEs 255 (RFC 4702 §2.2: a server SHOULD send 255); Kea echoes the client's.
    let mut reply = vec![flags, 255, 255];
    if c.flags & FLAG_E != 0 {
        // The same wire form the NCR's name has (escapes decoded, nothing trimmed),
        // so the client is told exactly the name that goes into DNS.
        reply.extend(dns.wire());
    } else {
        reply.extend(fqdn.as_bytes());
    }
    NameDecision {
        fqdn: Some(fqdn.clone()),
        fwd: s,
        rev: !n,
        hostname: Some(fqdn),
        reply_hostname: None,
        reply_fqdn: Some(reply),
    }
}

/// No option 81: the name goes back in option 12, qualified when it has one label,
/// without a trailing dot unless the client wrote one.
fn decide_hostname(
    cfg: &DdnsConfig,
    sent: Option<&str>,
    reserved: Option<&str>,
    replace_sent: bool,
    addr: Ipv4Addr,
) -> NameDecision {
    let sent = sent.map(|h| h.trim_end_matches('\0').trim());
    let name = match (reserved, sent) {
        (Some(r), _) => qualify(r, &cfg.suffix, false),
        (None, None) | (None, Some("")) => match cfg.replace {
            ReplaceClientName::Always | ReplaceClientName::WhenNotPresent => {
                generated(cfg, addr, false)
            }
            _ => return NameDecision::default(),
        },
        (None, Some(h)) => match label_count(h) {
            None | Some(0) => return NameDecision::default(),
            Some(n) if replace_sent || n < 2 => generated(cfg, addr, false),
            Some(2) => qualify(&cfg.sanitizer.apply(h), &cfg.suffix, false),
            Some(_) => cfg.sanitizer.apply(h).to_ascii_lowercase(),
        },
    };
    if name.trim_matches('.').is_empty() {
        return NameDecision::default();
    }
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    let valid = Fqdn::new(&fqdn).is_ok();
    NameDecision {
        fwd: cfg.enabled && valid,
        rev: cfg.enabled && valid,
        fqdn: valid.then_some(fqdn),
        hostname: Some(name.clone()),
        reply_hostname: Some(name),
        reply_fqdn: None,
    }
}

/// A NameChangeRequest for a lease: add or remove `fqdn` ↔ `addr`, the DHCID from the
/// client id when there is one, else from the hardware address (RFC 4701 §3.3).
#[allow(clippy::too_many_arguments)]
pub fn ncr(
    change: ChangeType,
    cfg: &DdnsConfig,
    fqdn: &str,
    fwd: bool,
    rev: bool,
    addr: Ipv4Addr,
    client_id: Option<&[u8]>,
    htype: u8,
    hwaddr: &[u8],
    valid: u32,
) -> Option<NameChangeRequest> {
    let lease = LeaseName {
        fqdn,
        forward: fwd,
        reverse: rev,
        address: IpAddr::V4(addr),
        client_id,
        htype,
        hwaddr,
        valid_lifetime: valid,
    };
    lease_ncr(change, &lease, &cfg.ncr)
}

/// Lease host names compare as DNS names: case and the trailing dot do not matter.
fn same_name(lease_hostname: Option<&str>, fqdn: Option<&str>) -> bool {
    let norm = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
    lease_hostname.map(norm) == fqdn.map(norm)
}

/// The NCRs for a granted lease, given the client's previous lease on the address:
/// a new name (or `ddns-update-on-renew`) removes the old entries and adds the new.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lease_ncrs(
    cfg: &DdnsConfig,
    htype: u8,
    chaddr: &[u8],
    old: Option<&Lease4>,
    name: &NameDecision,
    address: Ipv4Addr,
    valid: u32,
    // The client id as the lease row keeps it (none with match-client-id false): the
    // DHCID must come from what the row keeps, so the later removal computes the same one.
    lease_client_id: Option<&[u8]>,
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
        if let Some(h) = &l.hostname {
            out.extend(ncr(
                ChangeType::Remove,
                cfg,
                h,
                l.fqdn_fwd,
                l.fqdn_rev,
                address,
                l.client_id.as_deref(),
                htype,
                l.hwaddr.as_deref().unwrap_or_default(),
                valid,
            ));
        }
    }
    if let Some(f) = &name.fqdn {
        out.extend(ncr(
            ChangeType::Add,
            cfg,
            f,
            name.fwd,
            name.rev,
            address,
            lease_client_id,
            htype,
            chaddr,
            valid,
        ));
    }
    out
}

/// The NCR removing a lease's DNS entries (on release, decline, reclamation), if it has
/// any: made by the same function as the API's for a lease it deletes. `cfg`: the
/// parameters in force for the lease's address.
pub(crate) fn removal(cfg: &DdnsConfig, l: &Lease4) -> Option<NameChangeRequest> {
    tern_ncr::removal_ncr(&l.dns_name()?, &cfg.ncr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_are_cleaned_by_the_configured_character_set() {
        assert_eq!(Sanitizer::default().apply("my_host!.lan"), "myhost.lan");
        let x = Sanitizer::new("[^A-Za-z0-9.-]", "x");
        assert_eq!(x.apply("my_host!"), "myxhostx");
        assert_eq!(Sanitizer::new("", "x").apply("my_host"), "my_host");
        assert_eq!(Sanitizer::new("[0-9]", "").apply("pc42"), "pc");
    }
    use crate::packet::tests::request;
    use crate::packet::RequestKind;

    fn cfg() -> DdnsConfig {
        DdnsConfig::resolve(
            true,
            &[&DdnsParams {
                qualifying_suffix: Some("example.com".into()),
                ..DdnsParams::default()
            }],
        )
    }

    #[test]
    fn option_81_parsing() {
        let ascii = ClientFqdn::parse(b"\x01\0\0host.example.org.").unwrap();
        assert_eq!(ascii.name, "host.example.org");
        assert!(!ascii.partial);
        let wire = ClientFqdn::parse(b"\x05\0\0\x04host").unwrap();
        assert_eq!((wire.name.as_str(), wire.partial), ("host", true));
        let full = ClientFqdn::parse(b"\x05\0\0\x04host\x03org\0").unwrap();
        assert_eq!((full.name.as_str(), full.partial), ("host.org", false));
        assert!(ClientFqdn::parse(b"\x05").is_none());
    }

    #[test]
    fn names_and_flags() {
        let c = cfg();
        let addr = Ipv4Addr::new(192, 0, 2, 10);
        let mut r = request(RequestKind::Request);
        // Option 12, one label: qualified.
        r.hostname = Some("Laptop".into());
        let d = decide_name(&c, &r, None, addr);
        assert_eq!(d.fqdn.as_deref(), Some("laptop.example.com."));
        assert!(d.fwd && d.rev && d.reply_fqdn.is_none());
        // A reservation's name wins.
        let d = decide_name(&c, &r, Some("printer"), addr);
        assert_eq!(d.fqdn.as_deref(), Some("printer.example.com."));
        // Option 81 with S clear: the client updates forward, the server reverse.
        r.client_fqdn = Some(b"\x04\0\0\x02pc\0".to_vec());
        let d = decide_name(&c, &r, None, addr);
        assert_eq!(d.fqdn.as_deref(), Some("pc."));
        assert!(!d.fwd && d.rev);
        assert_eq!(d.reply_fqdn.as_deref(), Some(&b"\x04\xff\xff\x02pc\0"[..]));
        // The reply's wire-form name is the DNS name itself: an escaped dot in a
        // reserved name stays inside its label.
        let d = decide_name(&c, &r, Some("a\\.b"), addr);
        assert_eq!(d.fqdn.as_deref(), Some("a\\.b.example.com."));
        let reply = d.reply_fqdn.unwrap();
        assert_eq!(&reply[3..], &b"\x03a.b\x07example\x03com\0"[..]);
        // N set: nothing.
        r.client_fqdn = Some(b"\x0c\0\0\x02pc".to_vec());
        let d = decide_name(&c, &r, None, addr);
        assert!(!d.fwd && !d.rev);
        // Override the client's S.
        let mut o = c.clone();
        o.override_client_update = true;
        r.client_fqdn = Some(b"\x00\0\0pc".to_vec());
        let d = decide_name(&o, &r, None, addr);
        assert_eq!(d.fqdn.as_deref(), Some("pc.example.com."));
        assert!(d.fwd && d.rev);
        assert_eq!(d.reply_fqdn.unwrap()[0], FLAG_S | FLAG_O);
        // Generated names.
        let mut g = c.clone();
        g.replace = ReplaceClientName::WhenNotPresent;
        let r = request(RequestKind::Request);
        let d = decide_name(&g, &r, None, addr);
        assert_eq!(d.fqdn.as_deref(), Some("myhost-192-0-2-10.example.com."));
        // Disabled: the name is still decided and kept, DNS is not updated.
        let mut off = c.clone();
        off.enabled = false;
        let d = decide_name(&off, &r, Some("x"), addr);
        assert_eq!(d.hostname.as_deref(), Some("x.example.com"));
        assert!(!d.fwd && !d.rev);
    }

    /// Cases the Kea 2.2 oracle (tests/hostname_oracle.rs) showed tern getting wrong.
    #[test]
    fn names_as_kea_2_2_stores_them() {
        let addr = Ipv4Addr::new(192, 0, 2, 10);
        let mut off = cfg();
        off.enabled = false;
        let mut r = request(RequestKind::Request);
        // Updates off: a reservation's name is still qualified, in lease and reply.
        let d = decide_name(&off, &r, Some("acc-sql-reserved"), addr);
        assert_eq!(d.hostname.as_deref(), Some("acc-sql-reserved.example.com"));
        assert_eq!(d.reply_hostname, d.hostname);
        // A reserved name of several labels, in upper case: qualified, lower case.
        let d = decide_name(&cfg(), &r, Some("Printer.Lab"), addr);
        assert_eq!(d.hostname.as_deref(), Some("printer.lab.example.com"));
        // Option 12 with a trailing dot keeps it.
        r.hostname = Some("pc.lan.".into());
        assert_eq!(
            decide_name(&cfg(), &r, None, addr).hostname.as_deref(),
            Some("pc.lan.")
        );
        // Option 81, updates off: the name is kept, N set, O since S was overridden.
        r.client_fqdn = Some(b"\x05\0\0\x04host".to_vec());
        let d = decide_name(&off, &r, Some("rsv"), addr);
        assert_eq!(d.hostname.as_deref(), Some("rsv.example.com."));
        assert_eq!(d.reply_hostname, None);
        let reply = d.reply_fqdn.unwrap();
        assert_eq!(reply[0], FLAG_E | FLAG_N | FLAG_O);
        assert_eq!(&reply[3..], &b"\x03rsv\x07example\x03com\0"[..]);
        // An empty option 81 name: generated, absolute; with option 12: without the dot.
        r.client_fqdn = Some(b"\x05\0\0".to_vec());
        let d = decide_name(&cfg(), &r, None, addr);
        assert_eq!(
            d.hostname.as_deref(),
            Some("myhost-192-0-2-10.example.com.")
        );
        let mut g = cfg();
        g.replace = ReplaceClientName::WhenPresent;
        r.client_fqdn = None;
        let d = decide_name(&g, &r, None, addr);
        assert_eq!(d.hostname.as_deref(), Some("myhost-192-0-2-10.example.com"));
        assert_eq!(d.fqdn.as_deref(), Some("myhost-192-0-2-10.example.com."));
    }

    #[test]
    fn ncrs() {
        let c = cfg();
        let n = ncr(
            ChangeType::Add,
            &c,
            "laptop.example.com.",
            true,
            true,
            Ipv4Addr::new(192, 0, 2, 10),
            None,
            1,
            &[0, 1, 2, 3, 4, 5],
            7200,
        )
        .unwrap();
        assert_eq!(n.lease_length, 2400);
        assert_eq!(n.ip_address, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)));
        assert_eq!(n.dhcid.identifier_type_code(), Some(0));
        assert!(n.validate().is_ok());
        assert!(ncr(
            ChangeType::Add,
            &c,
            "x.",
            false,
            false,
            Ipv4Addr::new(192, 0, 2, 10),
            None,
            1,
            &[1],
            10
        )
        .is_none());
    }

    #[test]
    fn a_kea_written_name_without_the_dot_is_the_same_name() {
        assert!(same_name(
            Some("MyClient.example.com"),
            Some("myclient.example.com.")
        ));
        assert!(!same_name(
            Some("other.example.com"),
            Some("myclient.example.com.")
        ));
        assert!(!same_name(None, Some("myclient.example.com.")));
    }
}
