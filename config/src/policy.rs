//! What tern does with each Kea key it accepts: the one table to flip as features land.
//!
//! Every key of a Kea section is either acted on (typed by this crate for the engines) or named
//! by a diagnostic. [`POLICY`] maps key paths to a [`Treatment`]; the first matching rule wins,
//! and a key no rule matches gets [`DEFAULT_NOTE`]. Paths have their list indices removed
//! (`Dhcp4.subnet4.pools.pool`). Pattern syntax: segments separated by `.`; in a segment `*`
//! matches any characters and `|` separates alternatives; a `**` segment matches any number of
//! segments (including none). Hook libraries are matched as `hook:<file stem>` (and
//! `hook:<stem>.parameters` for their parameters), e.g. `hook:libdhcp_ha`; the keys of a Kea
//! PostgreSQL database map as `db:<key>`.

use crate::diag::{join_index, join_key, Diagnostic, Severity};
use crate::jsonc::{Node, Value};

/// What tern does with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// Acted on (typed for the engines); its children are looked at in turn.
    Served,
    /// Handled by a typed validator that names what it ignores itself; silent here.
    Delegated,
    /// Named with this severity and message; children are not looked at.
    Note(Severity, &'static str),
    /// Named, and its children are looked at too.
    NoteAndDescend(Severity, &'static str),
}

/// One policy rule: a key-path pattern and what tern does with matching keys.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Path pattern (see the module docs).
    pub pattern: &'static str,
    /// What happens to matching keys.
    pub treatment: Treatment,
}

use Severity::{Info, Warning};
use Treatment::{Delegated, Note, NoteAndDescend, Served};

const fn rule(pattern: &'static str, treatment: Treatment) -> Rule {
    Rule { pattern, treatment }
}

/// What a key no rule matches gets.
pub const DEFAULT_NOTE: Treatment = Note(Info, "accepted; not used by tern yet");

const NO_CLASSES: &str =
    "client classes are not served yet: this restriction is not applied, any client may be served here";
const NO_4O6: &str = "DHCPv4-over-DHCPv6 is not served";
const CONTROL_SOCKET: &str = "not opened: tern serves Kea's command channel from its Api section";

/// The policy table. First match wins; order specific rules before general ones.
pub static POLICY: &[Rule] = &[
    // ---- top level ----
    rule("Dhcp4|Dhcp6|DhcpDdns", Served),
    rule("Store|Dns|Api", Delegated),
    rule("Logging", Delegated),
    rule(
        "Control-agent",
        Note(Warning, "not served: tern's Api section replaces kea-ctrl-agent"),
    ),
    rule("Netconf", Note(Warning, "not served: tern has no NETCONF agent")),
    // ---- anywhere ----
    rule("**.user-context|comment", Delegated),
    rule("*.loggers", Delegated),
    // Each library is named by its own `hook:` rule below.
    rule("*.hooks-libraries", Delegated),
    // The store resolution names what it does not use (see store.rs).
    rule(
        "Dhcp4|Dhcp6.lease-database|hosts-database|hosts-databases",
        Delegated,
    ),
    rule("Dhcp4|Dhcp6.control-socket|control-sockets", Note(Warning, CONTROL_SOCKET)),
    rule("Dhcp4.option-def", Served),
    rule("Dhcp4.**.option-def.name|code|space|type|array|record-types|encapsulate", Served),
    // ---- DHCP: client classes ----
    rule(
        "**.option-data.client-classes",
        Note(
            Warning,
            "client classes are not served yet: this option's class restriction is not applied",
        ),
    ),
    // DHCPv4 classifies as Kea 2.2 does (tern_dhcp::classify); DHCPv6 parses the
    // expressions (a bad one is an error) but does not classify yet.
    rule(
        "Dhcp4.client-classes.name|test|only-if-required|only-in-additional-list|option-data|option-def|next-server|server-hostname|boot-file-name|valid-lifetime|min-valid-lifetime|max-valid-lifetime",
        Served,
    ),
    rule(
        "Dhcp4.client-classes.template-test",
        Note(
            Warning,
            "template classes are not spawned yet: the expression is checked, no SPAWN_ class is assigned",
        ),
    ),
    rule(
        "Dhcp4.**.client-class|client-classes|require-client-classes|evaluate-additional-classes",
        Served,
    ),
    rule("Dhcp4.**.reservations.client-classes", Served),
    rule("Dhcp4|Dhcp6.client-classes", Served),
    rule("Dhcp4|Dhcp6.client-classes.name", Served),
    rule(
        "Dhcp4|Dhcp6.client-classes.test|template-test",
        Note(
            Warning,
            "DHCPv6 client classes are not evaluated yet (the expression is checked): no client joins this class, so what it configures is not applied",
        ),
    ),
    rule(
        "Dhcp4|Dhcp6.client-classes.*",
        Note(Info, "not applied yet: tern does not serve DHCPv6 client classes"),
    ),
    rule(
        "**.reservations.client-classes",
        Note(Info, "client classes are not served yet: the classes are not assigned"),
    ),
    rule(
        "**.require-client-classes|evaluate-additional-classes",
        Note(Warning, "client classes are not served yet: these classes are not evaluated"),
    ),
    rule("**.client-class|client-classes", Note(Warning, NO_CLASSES)),
    // ---- DHCPv6 keys the v4 engine has no use for ----
    rule("Dhcp6.**.pd-pools.option-data", Served),
    rule("Dhcp6.**.subnet6.interface-id", Served),
    rule("Dhcp6.server-id", Served),
    rule(
        "Dhcp6.server-id.type|identifier|htype|time|enterprise-id|persist",
        Served,
    ),
    rule("Dhcp4|Dhcp6.decline-probation-period", Served),
    rule("Dhcp4.echo-client-id", Served),
    // ---- DHCP: what clients get, typed for the engines ----
    // A subnet selected brings its whole network: a full subnet overflows into the
    // others (dhcp/tests/engine.rs, dhcp/tests/clients6.rs); the network's interface,
    // relay, options, timers and ddns-* are inherited by its subnets.
    rule("Dhcp4|Dhcp6.shared-networks", Served),
    rule(
        "Dhcp4|Dhcp6.shared-networks.name|interface|relay",
        Served,
    ),
    rule("Dhcp4|Dhcp6.**.subnet4|subnet6", Served),
    rule(
        "Dhcp4|Dhcp6.**.subnet4|subnet6.subnet|id|pools|pd-pools|interface|relay|rapid-commit",
        Served,
    ),
    rule("**.relay.ip-address|ip-addresses", Served),
    rule("**.pools.pool|pool-id", Served),
    rule(
        "**.pd-pools.prefix|prefix-len|delegated-len|excluded-prefix|excluded-prefix-len|pool-id",
        Served,
    ),
    rule(
        "**.reservations.hw-address|client-id|duid|circuit-id|flex-id|ip-address|ip-addresses|prefixes|hostname|next-server|server-hostname|boot-file-name",
        Served,
    ),
    rule("**.reservations", Served),
    rule("**.option-data", Served),
    rule(
        "**.option-data.name|code|space|data|csv-format|always-send|never-send",
        Served,
    ),
    rule(
        "Dhcp4|Dhcp6.**.valid-lifetime|min-valid-lifetime|max-valid-lifetime|preferred-lifetime|min-preferred-lifetime|max-preferred-lifetime|renew-timer|rebind-timer|calculate-tee-times|t1-percent|t2-percent",
        Served,
    ),
    rule(
        "Dhcp4|Dhcp6.**.ddns-*|hostname-char-set|hostname-char-replacement",
        Served,
    ),
    rule(
        "Dhcp4.**.next-server|server-hostname|boot-file-name|match-client-id|authoritative",
        Served,
    ),
    rule(
        "Dhcp4|Dhcp6.**.reservations-global|reservations-in-subnet|reservations-out-of-pool|reservation-mode",
        Served,
    ),
    rule("Dhcp4|Dhcp6.host-reservation-identifiers", Served),
    rule("Dhcp4|Dhcp6.interfaces-config", Served),
    rule("Dhcp4|Dhcp6.interfaces-config.interfaces", Served),
    rule("Dhcp4|Dhcp6.dhcp-ddns", Served),
    rule(
        "Dhcp4|Dhcp6.dhcp-ddns.enable-updates|server-ip|server-port|sender-ip|sender-port|max-queue-size|ncr-protocol|ncr-format",
        Served,
    ),
    rule(
        "Dhcp4|Dhcp6.dhcp-ddns.*",
        Note(
            Info,
            "Kea 2.x spelling of the global ddns-* parameter: read as that parameter when it is not set",
        ),
    ),
    // ---- DHCP: accepted, not honoured ----
    rule(
        "Dhcp6.option-def",
        Note(
            Warning,
            "custom option definitions are not used yet: options that need them are not sent",
        ),
    ),
    rule("Dhcp4|Dhcp6.dhcp4o6-port", Note(Warning, NO_4O6)),
    rule("Dhcp4.**.4o6-interface|4o6-interface-id|4o6-subnet", Note(Warning, NO_4O6)),
    rule(
        "Dhcp4|Dhcp6.config-control",
        Note(
            Warning,
            "configuration backends are not supported: only this file configures tern",
        ),
    ),
    rule(
        "Dhcp4|Dhcp6.multi-threading",
        Note(Info, "tern's threading is its own: these settings are not needed"),
    ),
    rule(
        "Dhcp4|Dhcp6.dhcp-queue-control",
        Note(Info, "tern has no packet queue to tune: ignored"),
    ),
    rule(
        "Dhcp4|Dhcp6.server-tag",
        Note(Info, "only used by configuration backends, which tern does not have"),
    ),
    rule(
        "Dhcp4|Dhcp6.**.allocator|pd-allocator",
        Note(Info, "tern allocates addresses its own way, in PostgreSQL"),
    ),
    // The engines reclaim every reclaim-timer-wait-time, at most max-reclaim-leases at a
    // time, and delete reclaimed leases after hold-reclaimed-time.
    rule("Dhcp4|Dhcp6.expired-leases-processing", Served),
    rule(
        "Dhcp4|Dhcp6.expired-leases-processing.reclaim-timer-wait-time|max-reclaim-leases|hold-reclaimed-time",
        Served,
    ),
    rule(
        "Dhcp4|Dhcp6.expired-leases-processing.*",
        Note(Info, "tern deletes reclaimed leases in each reclamation run, without a time limit per run"),
    ),
    // ---- DhcpDdns ----
    rule(
        "DhcpDdns.ip-address|port|dns-server-timeout|ncr-protocol|ncr-format|tsig-keys|forward-ddns|reverse-ddns",
        Delegated,
    ),
    rule("DhcpDdns.control-socket|control-sockets", Note(Warning, CONTROL_SOCKET)),
    // ---- Kea PostgreSQL database maps (lease-database, hosts-database), as `db:<key>` ----
    rule(
        "db:type|db:host|db:port|db:name|db:user|db:password|db:connect-timeout|db:trust-anchor|db:cert-file|db:key-file|db:ssl-mode|db:user-context|db:comment",
        Served,
    ),
    rule(
        "db:cipher-list",
        Note(
            Warning,
            "not supported: the PostgreSQL client's default TLS ciphers are used",
        ),
    ),
    rule(
        "db:max-reconnect-tries|db:reconnect-wait-time|db:on-fail|db:retry-on-startup",
        Note(Info, "tern reconnects to PostgreSQL on its own schedule"),
    ),
    rule(
        "db:readonly",
        Note(Info, "tern's DHCP engine never writes host reservations"),
    ),
    rule(
        "db:*", Note(Info, "not used with PostgreSQL")),
    // ---- hook libraries ----
    rule(
        "hook:libdhcp_lease_cmds",
        Note(Info, "built in: tern serves the lease commands itself"),
    ),
    rule(
        "hook:libdhcp_host_cmds",
        Note(Info, "built in: tern serves the host reservation commands itself"),
    ),
    rule(
        "hook:libdhcp_subnet_cmds",
        Note(Info, "built in: tern serves the subnet commands itself"),
    ),
    rule(
        "hook:libdhcp_stat_cmds",
        Note(Info, "built in: tern serves the statistics commands itself"),
    ),
    rule(
        "hook:libdhcp_ha",
        Note(
            Info,
            "built in: tern's high availability is several appliances sharing one PostgreSQL store",
        ),
    ),
    rule(
        "hook:libdhcp_ha.parameters",
        Note(
            Warning,
            "not used: tern's HA is the shared PostgreSQL store, not Kea's peer protocol (modes, peers, heartbeats are ignored)",
        ),
    ),
    rule(
        "hook:libdhcp_pgsql", Note(Info, "built in: tern's store is PostgreSQL")),
    rule(
        "hook:libdhcp_mysql",
        Note(Warning, "MySQL is not supported: tern's store is PostgreSQL"),
    ),
    rule(
        "hook:libdhcp_mysql_cb|hook:libdhcp_pgsql_cb|hook:libdhcp_cb_cmds",
        Note(Warning, "not served: configuration backends are not supported"),
    ),
    rule(
        "hook:libdhcp_radius",
        Note(Warning, "not served: RADIUS authorization and accounting"),
    ),
    rule(
        "hook:libdhcp_flex_id",
        Note(Warning, "not served: flexible host identifiers"),
    ),
    rule(
        "hook:libdhcp_flex_option",
        Note(
            Info,
            "built in: its add, supersede and remove actions are done by tern (DHCPv4; sub-options are not)",
        ),
    ),
    rule(
        "hook:libdhcp_class_cmds",
        Note(Warning, "not served: client class commands"),
    ),
    rule(
        "hook:libdhcp_run_script",
        Note(Warning, "not served: external scripts on lease events"),
    ),
    rule(
        "hook:libdhcp_legal_log|hook:libdhcp_forensic_log",
        Note(Warning, "not served: forensic (legal) logging"),
    ),
    rule(
        "hook:libdhcp_bootp",
        Note(
            Info,
            "built in: BOOTREQUESTs get a lease that never expires and a BOOTREPLY (DHCPv4)",
        ),
    ),
    rule(
        "hook:libdhcp_lease_query",
        Note(Warning, "not served: bulk and single leasequery"),
    ),
    rule(
        "hook:libdhcp_perfmon",
        Note(Warning, "not served: performance monitoring"),
    ),
    rule(
        "hook:libdhcp_ping_check",
        Note(Warning, "not served: ping check before an address is offered"),
    ),
    rule(
        "hook:libdhcp_host_cache", Note(Warning, "not served: host cache")),
    rule(
        "hook:libdhcp_limits", Note(Warning, "not served: rate and lease limits")),
    rule(
        "hook:libdhcp_ddns_tuning", Note(Warning, "not served: DDNS tuning")),
    rule(
        "hook:libdhcp_user_chk", Note(Warning, "not served: user check")),
    rule(
        "hook:libdhcp_rbac|hook:libca_rbac",
        Note(Warning, "not served: role-based access control"),
    ),
    rule(
        "hook:libddns_gss_tsig",
        Note(Warning, "not served: GSS-TSIG (Kerberos) signed DNS updates"),
    ),
    rule(
        "hook:*.parameters", Delegated),
    rule(
        "hook:*",
        Note(Warning, "not served: tern does not load Kea hook libraries"),
    ),
];

/// The treatment of a normalized key path (no list indices).
pub fn treatment(path: &str) -> Treatment {
    let segs: Vec<&str> = path.split('.').collect();
    POLICY
        .iter()
        .find(|r| matches(r.pattern, &segs))
        .map_or(DEFAULT_NOTE, |r| r.treatment)
}

/// The `hook:` stem of a library path: `/usr/lib/kea/hooks/libdhcp_ha.so` -> `libdhcp_ha`.
pub fn hook_stem(library: &str) -> &str {
    let file = library.rsplit('/').next().unwrap_or(library);
    file.split('.').next().unwrap_or(file)
}

fn matches(pattern: &str, path: &[&str]) -> bool {
    let pat: Vec<&str> = pattern.split('.').collect();
    match_segs(&pat, path)
}

fn match_segs(pat: &[&str], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| match_segs(rest, &path[skip..])),
        Some((p, rest)) => match path.split_first() {
            Some((s, path_rest)) => match_segment(p, s) && match_segs(rest, path_rest),
            None => false,
        },
    }
}

fn match_segment(pattern: &str, seg: &str) -> bool {
    pattern
        .split('|')
        .any(|alt| glob(alt.as_bytes(), seg.as_bytes()))
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

/// Walks one top-level section and names every key tern does not act on.
pub(crate) fn walk_section(name: &str, node: &Node, out: &mut Vec<Diagnostic>) {
    walk_value(node, name, name, out);
}

fn walk_value(node: &Node, path: &str, norm: &str, out: &mut Vec<Diagnostic>) {
    match &node.value {
        Value::Object(obj) => {
            for m in obj {
                let child = join_key(path, &m.key);
                let child_norm = join_key(norm, &m.key);
                let descend = match treatment(&child_norm) {
                    Served => true,
                    Delegated => false,
                    Note(severity, message) => {
                        push(out, severity, &m.key_location, &child, message);
                        false
                    }
                    NoteAndDescend(severity, message) => {
                        push(out, severity, &m.key_location, &child, message);
                        true
                    }
                };
                if descend {
                    walk_value(&m.value, &child, &child_norm, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_value(item, &join_index(path, i), norm, out);
            }
        }
        _ => {}
    }
}

fn push(
    out: &mut Vec<Diagnostic>,
    severity: Severity,
    location: &crate::diag::Location,
    path: &str,
    message: &str,
) {
    out.push(Diagnostic {
        severity,
        location: location.clone(),
        path: path.to_string(),
        message: message.to_string(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches(
            "Dhcp4|Dhcp6.**.subnet4|subnet6",
            &["Dhcp4", "subnet4"]
        ));
        assert!(matches(
            "Dhcp4|Dhcp6.**.subnet4|subnet6",
            &["Dhcp6", "shared-networks", "subnet6"]
        ));
        assert!(!matches(
            "Dhcp4|Dhcp6.**.subnet4|subnet6",
            &["DhcpDdns", "subnet4"]
        ));
        assert!(matches(
            "**.ddns-*",
            &["Dhcp4", "subnet4", "ddns-send-updates"]
        ));
        assert!(!matches("*.loggers", &["Dhcp4", "subnet4", "loggers"]));
    }

    #[test]
    fn treatments_of_typical_keys() {
        assert_eq!(treatment("Dhcp4.subnet4.pools.pool"), Served);
        assert_eq!(treatment("Dhcp4.shared-networks.subnet4.id"), Served);
        // DHCPv4 classifies; DHCPv6 does not yet.
        assert_eq!(treatment("Dhcp4.client-classes.test"), Served);
        assert_eq!(treatment("Dhcp4.subnet4.client-class"), Served);
        assert_eq!(treatment("Dhcp4.subnet4.pools.client-class"), Served);
        assert!(matches!(
            treatment("Dhcp4.subnet4.option-data.client-classes"),
            Note(Warning, _)
        ));
        assert!(matches!(
            treatment("Dhcp6.client-classes.test"),
            Note(Warning, _)
        ));
        assert!(matches!(
            treatment("Dhcp6.subnet6.client-class"),
            Note(Warning, _)
        ));
        assert!(matches!(treatment("Dhcp4.multi-threading"), Note(Info, _)));
        assert_eq!(treatment("Dhcp4.echo-client-id"), Served);
        assert_eq!(treatment("Dhcp4.some-future-key"), DEFAULT_NOTE);
        assert!(matches!(treatment("hook:libdhcp_radius"), Note(Warning, _)));
        assert!(matches!(
            treatment("hook:libdhcp_lease_cmds"),
            Note(Info, _)
        ));
        assert!(matches!(
            treatment("hook:libdhcp_ha.parameters"),
            Note(Warning, _)
        ));
        assert_eq!(treatment("hook:libdhcp_lease_cmds.parameters"), Delegated);
        assert!(matches!(treatment("hook:security"), Note(Warning, _)));
        assert!(
            matches!(treatment("hook:libdhcp_cb_cmds"), Note(Warning, m) if m.contains("configuration backends"))
        );
        assert!(
            matches!(treatment("hook:libca_rbac"), Note(Warning, m) if m.contains("role-based"))
        );
        assert_eq!(treatment("db:host"), Served);
        assert_eq!(treatment("db:password"), Served);
        assert!(matches!(treatment("db:cipher-list"), Note(Warning, _)));
        assert!(matches!(treatment("db:lfc-interval"), Note(Info, _)));
    }

    #[test]
    fn hook_stems() {
        assert_eq!(
            hook_stem("/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so"),
            "libdhcp_ha"
        );
        assert_eq!(hook_stem("libdhcp_lease_cmds.so"), "libdhcp_lease_cmds");
        assert_eq!(hook_stem(""), "");
    }
}
