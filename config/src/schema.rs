//! Which keys each map accepts and what type each value has: the keyword check Kea's grammar
//! does (`got unexpected keyword "foo" in subnet4 map`), as data.
//!
//! The tables are the union of what Kea 2.2 and Kea 3.x accept (checked against `kea-dhcp4 -t`,
//! `kea-dhcp6 -t`, `kea-dhcp-ddns -t` of Kea 2.2 and the 3.x `all-keys.json` examples), so a
//! config written for either version passes. Types follow Kea: an integer where a string is
//! expected is an error; an integer where a float is expected is accepted (Kea is stricter).
//! Semantic checks (ranges, addresses, references) live with the typed sections.

use crate::diag::{join_index, join_key, Location};
use crate::jsonc::{Node, Value};

/// The type a key's value must have.
#[derive(Debug)]
pub(crate) enum Kind {
    Str,
    Int,
    /// A number; integers are accepted too.
    Float,
    Bool,
    /// Anything (user-context, hook parameters).
    Any,
    /// One of these strings (compared case-insensitively).
    Enum(&'static [&'static str]),
    StrList,
    Map(&'static MapSchema),
    MapList(&'static MapSchema),
    /// A list whose items are strings or maps of this shape.
    StrOrMapList(&'static MapSchema),
}

/// The keys one kind of map accepts.
#[derive(Debug)]
pub(crate) struct MapSchema {
    /// Name used in messages, as Kea names it: `subnet4`, `pools`, `Dhcp4`.
    pub name: &'static str,
    /// Groups of keys (shared groups keep the tables short).
    pub keys: &'static [&'static [(&'static str, Kind)]],
    /// Keys not listed are accepted too (Kea's `dhcp-queue-control`).
    pub open: bool,
}

impl MapSchema {
    pub(crate) fn kind_of(&self, key: &str) -> Option<&'static Kind> {
        self.keys
            .iter()
            .flat_map(|g| g.iter())
            .find(|(k, _)| *k == key)
            .map(|(_, kind)| kind)
    }
}

/// One schema violation.
#[derive(Debug, Clone)]
pub(crate) struct Violation {
    pub location: Location,
    pub path: String,
    pub message: String,
}

/// Checks `node` (a map of shape `schema`) and everything below it.
pub(crate) fn check_map(
    node: &Node,
    schema: &'static MapSchema,
    path: &str,
    out: &mut Vec<Violation>,
) {
    check(node, &Kind::Map(schema), path, out);
}

fn check(node: &Node, kind: &Kind, path: &str, out: &mut Vec<Violation>) {
    let mut bad = |expected: &str| {
        out.push(Violation {
            location: node.location.clone(),
            path: path.to_string(),
            message: format!("expected {expected}, found {}", node.describe()),
        })
    };
    match (kind, &node.value) {
        (Kind::Any, _) => {}
        (Kind::Str, Value::String(_)) => {}
        (Kind::Str, _) => bad("a string"),
        (Kind::Int, Value::Integer(_)) => {}
        (Kind::Int, _) => bad("an integer"),
        (Kind::Float, Value::Integer(_) | Value::Float(_)) => {}
        (Kind::Float, _) => bad("a number"),
        (Kind::Bool, Value::Bool(_)) => {}
        (Kind::Bool, _) => bad("a boolean (true or false)"),
        (Kind::Enum(choices), Value::String(s)) => {
            if !choices.iter().any(|c| c.eq_ignore_ascii_case(s)) {
                out.push(Violation {
                    location: node.location.clone(),
                    path: path.to_string(),
                    message: format!(
                        "\"{}\" is not one of {}",
                        crate::diag::excerpt(s),
                        choices.join(", ")
                    ),
                });
            }
        }
        (Kind::Enum(choices), _) => bad(&format!("a string ({})", choices.join(", "))),
        (Kind::StrList, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check(item, &Kind::Str, &join_index(path, i), out);
            }
        }
        (Kind::StrList, _) => bad("a list of strings"),
        (Kind::MapList(schema), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check(item, &Kind::Map(schema), &join_index(path, i), out);
            }
        }
        (Kind::MapList(schema), _) => bad(&format!("a list of {} maps", schema.name)),
        (Kind::StrOrMapList(schema), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if item.as_str().is_none() {
                    check(item, &Kind::Map(schema), &join_index(path, i), out);
                }
            }
        }
        (Kind::StrOrMapList(_), _) => bad("a list"),
        (Kind::Map(schema), Value::Object(obj)) => {
            for m in obj {
                let child = join_key(path, &m.key);
                match schema.kind_of(&m.key) {
                    Some(kind) => check(&m.value, kind, &child, out),
                    None if schema.open => {}
                    None => out.push(Violation {
                        location: m.key_location.clone(),
                        path: child,
                        message: format!(
                            "got unexpected keyword \"{}\" in {} map",
                            crate::diag::excerpt(&m.key),
                            schema.name
                        ),
                    }),
                }
            }
        }
        (Kind::Map(schema), _) => bad(&format!("a map ({})", schema.name)),
    }
}

/// The schema of a top-level section by name.
pub(crate) fn section_schema(name: &str) -> Option<&'static MapSchema> {
    Some(match name {
        "Dhcp4" => &DHCP4,
        "Dhcp6" => &DHCP6,
        "DhcpDdns" => &DHCP_DDNS,
        "Store" => &STORE,
        "Dns" => &DNS,
        "Api" => &API,
        "Logging" => &LOGGING,
        "Control-agent" | "Netconf" => &CONTROL_AGENT,
        _ => return None,
    })
}

/// Whether `key` is a keyword of any Kea section map (to explain a key found at the top level).
pub(crate) fn is_section_keyword(key: &str) -> bool {
    [&DHCP4, &DHCP6, &DHCP_DDNS]
        .iter()
        .any(|s| s.kind_of(key).is_some())
}

use Kind::*;

// --- shared key groups ----------------------------------------------------------------------

const CTX: &[(&str, Kind)] = &[("user-context", Any), ("comment", Str)];

pub(crate) const REPLACE_CLIENT_NAME: &[&str] =
    &["never", "always", "when-present", "when-not-present"];
pub(crate) const CONFLICT_MODES: &[&str] = &[
    "check-with-dhcid",
    "no-check-with-dhcid",
    "check-exists-with-dhcid",
    "no-check-without-dhcid",
];

const DDNS_PARAMS: &[(&str, Kind)] = &[
    ("ddns-send-updates", Bool),
    ("ddns-override-no-update", Bool),
    ("ddns-override-client-update", Bool),
    ("ddns-replace-client-name", Enum(REPLACE_CLIENT_NAME)),
    ("ddns-generated-prefix", Str),
    ("ddns-qualifying-suffix", Str),
    ("ddns-update-on-renew", Bool),
    ("ddns-use-conflict-resolution", Bool),
    ("ddns-conflict-resolution-mode", Enum(CONFLICT_MODES)),
    ("ddns-ttl-percent", Float),
    ("ddns-ttl", Int),
    ("ddns-ttl-min", Int),
    ("ddns-ttl-max", Int),
    ("hostname-char-set", Str),
    ("hostname-char-replacement", Str),
];

const TIMERS: &[(&str, Kind)] = &[
    ("valid-lifetime", Int),
    ("min-valid-lifetime", Int),
    ("max-valid-lifetime", Int),
    ("renew-timer", Int),
    ("rebind-timer", Int),
    ("calculate-tee-times", Bool),
    ("t1-percent", Float),
    ("t2-percent", Float),
    ("cache-threshold", Float),
    ("cache-max-age", Int),
    ("adaptive-lease-time-threshold", Float),
];

const PREFERRED: &[(&str, Kind)] = &[
    ("preferred-lifetime", Int),
    ("min-preferred-lifetime", Int),
    ("max-preferred-lifetime", Int),
];

const RESERVATION_FLAGS: &[(&str, Kind)] = &[
    (
        "reservation-mode",
        Enum(&["disabled", "out-of-pool", "global", "all"]),
    ),
    ("reservations-global", Bool),
    ("reservations-in-subnet", Bool),
    ("reservations-out-of-pool", Bool),
];

const ALLOCATORS: &[&str] = &["iterative", "random", "flq"];

const CLASS_REFS: &[(&str, Kind)] = &[
    ("client-class", Str),
    ("client-classes", StrList),
    ("require-client-classes", StrList),
    ("evaluate-additional-classes", StrList),
];

/// Subnet- and shared-network-level DHCPv4 keys.
const NETWORK4: &[(&str, Kind)] = &[
    ("option-data", MapList(&OPTION_DATA)),
    ("relay", Map(&RELAY)),
    ("interface", Str),
    ("match-client-id", Bool),
    ("authoritative", Bool),
    ("next-server", Str),
    ("server-hostname", Str),
    ("boot-file-name", Str),
    ("store-extended-info", Bool),
    ("allocator", Enum(ALLOCATORS)),
    ("offer-lifetime", Int),
];

/// Subnet- and shared-network-level DHCPv6 keys.
const NETWORK6: &[(&str, Kind)] = &[
    ("option-data", MapList(&OPTION_DATA)),
    ("relay", Map(&RELAY)),
    ("interface", Str),
    ("interface-id", Str),
    ("rapid-commit", Bool),
    ("store-extended-info", Bool),
    ("allocator", Enum(ALLOCATORS)),
    ("pd-allocator", Enum(ALLOCATORS)),
];

/// Global keys common to both DHCP servers.
const GLOBAL_COMMON: &[(&str, Kind)] = &[
    ("lease-database", Map(&LEASE_DATABASE)),
    ("hosts-database", Map(&HOSTS_DATABASE)),
    ("hosts-databases", MapList(&HOSTS_DATABASES)),
    ("host-reservation-identifiers", StrList),
    ("option-def", MapList(&OPTION_DEF)),
    ("option-data", MapList(&OPTION_DATA)),
    ("hooks-libraries", MapList(&HOOKS_LIBRARY)),
    ("expired-leases-processing", Map(&EXPIRED_LEASES)),
    ("dhcp4o6-port", Int),
    ("control-socket", Map(&CONTROL_SOCKET)),
    ("control-sockets", MapList(&CONTROL_SOCKET)),
    ("dhcp-queue-control", Map(&DHCP_QUEUE_CONTROL)),
    ("dhcp-ddns", Map(&DHCP_DDNS_CLIENT)),
    ("sanity-checks", Map(&SANITY_CHECKS)),
    ("config-control", Map(&CONFIG_CONTROL)),
    ("server-tag", Str),
    ("loggers", MapList(&LOGGER)),
    ("store-extended-info", Bool),
    ("statistic-default-sample-count", Int),
    ("statistic-default-sample-age", Int),
    ("early-global-reservations-lookup", Bool),
    ("ip-reservations-unique", Bool),
    ("reservations-lookup-first", Bool),
    ("parked-packet-limit", Int),
    ("multi-threading", Map(&MULTI_THREADING)),
    ("decline-probation-period", Int),
    ("allocator", Enum(ALLOCATORS)),
];

// --- Dhcp4 ----------------------------------------------------------------------------------

pub(crate) static DHCP4: MapSchema = MapSchema {
    name: "Dhcp4",
    keys: &[
        CTX,
        DDNS_PARAMS,
        TIMERS,
        RESERVATION_FLAGS,
        &[
            ("subnet4", MapList(&SUBNET4)),
            ("shared-networks", MapList(&SHARED_NETWORK4)),
            ("interfaces-config", Map(&INTERFACES4)),
            ("client-classes", MapList(&CLIENT_CLASS4)),
            ("reservations", MapList(&RESERVATION4)),
            ("compatibility", Map(&COMPATIBILITY4)),
            ("echo-client-id", Bool),
            ("match-client-id", Bool),
            ("authoritative", Bool),
            ("next-server", Str),
            ("server-hostname", Str),
            ("boot-file-name", Str),
            ("offer-lifetime", Int),
            ("stash-agent-options", Bool),
        ],
        GLOBAL_COMMON,
    ],
    open: false,
};

static SUBNET4: MapSchema = MapSchema {
    name: "subnet4",
    keys: &[
        CTX,
        DDNS_PARAMS,
        TIMERS,
        RESERVATION_FLAGS,
        CLASS_REFS,
        NETWORK4,
        &[
            ("subnet", Str),
            ("id", Int),
            ("pools", MapList(&POOL)),
            ("reservations", MapList(&RESERVATION4)),
            ("4o6-interface", Str),
            ("4o6-interface-id", Str),
            ("4o6-subnet", Str),
        ],
    ],
    open: false,
};

static SHARED_NETWORK4: MapSchema = MapSchema {
    name: "shared-networks",
    keys: &[
        CTX,
        DDNS_PARAMS,
        TIMERS,
        RESERVATION_FLAGS,
        CLASS_REFS,
        NETWORK4,
        &[("name", Str), ("subnet4", MapList(&SUBNET4))],
    ],
    open: false,
};

static POOL: MapSchema = MapSchema {
    name: "pools",
    keys: &[
        CTX,
        CLASS_REFS,
        DDNS_PARAMS,
        &[
            ("pool", Str),
            ("option-data", MapList(&OPTION_DATA)),
            ("pool-id", Int),
        ],
    ],
    open: false,
};

static RESERVATION4: MapSchema = MapSchema {
    name: "reservations",
    keys: &[
        CTX,
        &[
            ("hw-address", Str),
            ("client-id", Str),
            ("duid", Str),
            ("circuit-id", Str),
            ("flex-id", Str),
            ("ip-address", Str),
            ("hostname", Str),
            ("option-data", MapList(&OPTION_DATA)),
            ("client-classes", StrList),
            ("next-server", Str),
            ("server-hostname", Str),
            ("boot-file-name", Str),
        ],
    ],
    open: false,
};

static CLIENT_CLASS4: MapSchema = MapSchema {
    name: "client-classes",
    keys: &[
        CTX,
        &[
            ("name", Str),
            ("test", Str),
            ("template-test", Str),
            ("only-if-required", Bool),
            ("only-in-additional-list", Bool),
            ("option-data", MapList(&OPTION_DATA)),
            ("option-def", MapList(&OPTION_DEF)),
            ("next-server", Str),
            ("server-hostname", Str),
            ("boot-file-name", Str),
            ("valid-lifetime", Int),
            ("min-valid-lifetime", Int),
            ("max-valid-lifetime", Int),
            ("offer-lifetime", Int),
        ],
    ],
    open: false,
};

static INTERFACES4: MapSchema = MapSchema {
    name: "interfaces-config",
    keys: &[
        CTX,
        INTERFACES_COMMON,
        &[
            ("dhcp-socket-type", Enum(&["raw", "udp"])),
            (
                "outbound-interface",
                Enum(&["same-as-inbound", "use-routing"]),
            ),
        ],
    ],
    open: false,
};

const INTERFACES_COMMON: &[(&str, Kind)] = &[
    ("interfaces", StrList),
    ("re-detect", Bool),
    ("service-sockets-require-all", Bool),
    ("service-sockets-max-retries", Int),
    ("service-sockets-retry-wait-time", Int),
];

static COMPATIBILITY4: MapSchema = MapSchema {
    name: "compatibility",
    keys: &[
        CTX,
        &[
            ("lenient-option-parsing", Bool),
            ("ignore-dhcp-server-identifier", Bool),
            ("ignore-rai-link-selection", Bool),
            ("exclude-first-last-24", Bool),
        ],
    ],
    open: false,
};

// --- Dhcp6 ----------------------------------------------------------------------------------

pub(crate) static DHCP6: MapSchema = MapSchema {
    name: "Dhcp6",
    keys: &[
        CTX,
        DDNS_PARAMS,
        TIMERS,
        PREFERRED,
        RESERVATION_FLAGS,
        &[
            ("subnet6", MapList(&SUBNET6)),
            ("shared-networks", MapList(&SHARED_NETWORK6)),
            ("interfaces-config", Map(&INTERFACES6)),
            ("client-classes", MapList(&CLIENT_CLASS6)),
            ("reservations", MapList(&RESERVATION6)),
            ("compatibility", Map(&COMPATIBILITY6)),
            ("server-id", Map(&SERVER_ID)),
            ("mac-sources", StrList),
            ("relay-supplied-options", StrList),
            ("data-directory", Str),
            ("pd-allocator", Enum(ALLOCATORS)),
            ("allow-address-registration", Bool),
        ],
        GLOBAL_COMMON,
    ],
    open: false,
};

static SUBNET6: MapSchema = MapSchema {
    name: "subnet6",
    keys: &[
        CTX,
        DDNS_PARAMS,
        TIMERS,
        PREFERRED,
        RESERVATION_FLAGS,
        CLASS_REFS,
        NETWORK6,
        &[
            ("subnet", Str),
            ("id", Int),
            ("pools", MapList(&POOL)),
            ("pd-pools", MapList(&PD_POOL)),
            ("reservations", MapList(&RESERVATION6)),
        ],
    ],
    open: false,
};

static SHARED_NETWORK6: MapSchema = MapSchema {
    name: "shared-networks",
    keys: &[
        CTX,
        DDNS_PARAMS,
        TIMERS,
        PREFERRED,
        RESERVATION_FLAGS,
        CLASS_REFS,
        NETWORK6,
        &[("name", Str), ("subnet6", MapList(&SUBNET6))],
    ],
    open: false,
};

static PD_POOL: MapSchema = MapSchema {
    name: "pd-pools",
    keys: &[
        CTX,
        CLASS_REFS,
        &[
            ("prefix", Str),
            ("prefix-len", Int),
            ("delegated-len", Int),
            ("excluded-prefix", Str),
            ("excluded-prefix-len", Int),
            ("option-data", MapList(&OPTION_DATA)),
            ("pool-id", Int),
        ],
    ],
    open: false,
};

static RESERVATION6: MapSchema = MapSchema {
    name: "reservations",
    keys: &[
        CTX,
        &[
            ("hw-address", Str),
            ("duid", Str),
            ("flex-id", Str),
            ("ip-addresses", StrList),
            ("prefixes", StrList),
            ("excluded-prefixes", StrList),
            ("hostname", Str),
            ("option-data", MapList(&OPTION_DATA)),
            ("client-classes", StrList),
        ],
    ],
    open: false,
};

static CLIENT_CLASS6: MapSchema = MapSchema {
    name: "client-classes",
    keys: &[
        CTX,
        PREFERRED,
        &[
            ("name", Str),
            ("test", Str),
            ("template-test", Str),
            ("only-if-required", Bool),
            ("only-in-additional-list", Bool),
            ("option-data", MapList(&OPTION_DATA)),
            ("option-def", MapList(&OPTION_DEF)),
            ("valid-lifetime", Int),
            ("min-valid-lifetime", Int),
            ("max-valid-lifetime", Int),
        ],
    ],
    open: false,
};

static INTERFACES6: MapSchema = MapSchema {
    name: "interfaces-config",
    keys: &[CTX, INTERFACES_COMMON],
    open: false,
};

static COMPATIBILITY6: MapSchema = MapSchema {
    name: "compatibility",
    keys: &[CTX, &[("lenient-option-parsing", Bool)]],
    open: false,
};

static SERVER_ID: MapSchema = MapSchema {
    name: "server-id",
    keys: &[
        CTX,
        &[
            ("type", Enum(&["LLT", "EN", "LL"])),
            ("identifier", Str),
            ("time", Int),
            ("htype", Int),
            ("enterprise-id", Int),
            ("persist", Bool),
        ],
    ],
    open: false,
};

// --- maps shared by both DHCP servers -------------------------------------------------------

static OPTION_DATA: MapSchema = MapSchema {
    name: "option-data",
    keys: &[
        CTX,
        &[
            ("name", Str),
            ("code", Int),
            ("space", Str),
            ("data", Str),
            ("csv-format", Bool),
            ("always-send", Bool),
            ("never-send", Bool),
            ("client-classes", StrList),
        ],
    ],
    open: false,
};

static OPTION_DEF: MapSchema = MapSchema {
    name: "option-def",
    keys: &[
        CTX,
        &[
            ("name", Str),
            ("code", Int),
            ("type", Str),
            ("record-types", Str),
            ("space", Str),
            ("encapsulate", Str),
            ("array", Bool),
        ],
    ],
    open: false,
};

static RELAY: MapSchema = MapSchema {
    name: "relay",
    keys: &[&[("ip-address", Str), ("ip-addresses", StrList)]],
    open: false,
};

pub(crate) const DB_TYPES: &[&str] = &["memfile", "mysql", "postgresql"];

const DATABASE_KEYS: &[(&str, Kind)] = &[
    ("type", Enum(DB_TYPES)),
    ("user", Str),
    ("password", Str),
    ("host", Str),
    ("port", Int),
    ("name", Str),
    ("persist", Bool),
    ("lfc-interval", Int),
    ("readonly", Bool),
    ("connect-timeout", Int),
    ("read-timeout", Int),
    ("write-timeout", Int),
    ("tcp-user-timeout", Int),
    ("max-reconnect-tries", Int),
    ("reconnect-wait-time", Int),
    (
        "on-fail",
        Enum(&[
            "stop-retry-exit",
            "serve-retry-exit",
            "serve-retry-continue",
        ]),
    ),
    ("retry-on-startup", Bool),
    ("max-row-errors", Int),
    ("trust-anchor", Str),
    ("cert-file", Str),
    ("key-file", Str),
    ("cipher-list", Str),
    ("ssl-mode", Enum(SSL_MODES)),
];

static LEASE_DATABASE: MapSchema = MapSchema {
    name: "lease-database",
    keys: &[CTX, DATABASE_KEYS],
    open: false,
};

static HOSTS_DATABASE: MapSchema = MapSchema {
    name: "hosts-database",
    keys: &[CTX, DATABASE_KEYS],
    open: false,
};

static HOSTS_DATABASES: MapSchema = MapSchema {
    name: "hosts-databases",
    keys: &[CTX, DATABASE_KEYS],
    open: false,
};

static CONFIG_DATABASES: MapSchema = MapSchema {
    name: "config-databases",
    keys: &[CTX, DATABASE_KEYS],
    open: false,
};

pub(crate) const SSL_MODES: &[&str] = &["disable", "prefer", "require", "verify-ca", "verify-full"];

static HOOKS_LIBRARY: MapSchema = MapSchema {
    name: "hooks-libraries",
    keys: &[CTX, &[("library", Str), ("parameters", Any)]],
    open: false,
};

static EXPIRED_LEASES: MapSchema = MapSchema {
    name: "expired-leases-processing",
    keys: &[
        CTX,
        &[
            ("reclaim-timer-wait-time", Int),
            ("flush-reclaimed-timer-wait-time", Int),
            ("hold-reclaimed-time", Int),
            ("max-reclaim-leases", Int),
            ("max-reclaim-time", Int),
            ("unwarned-reclaim-cycles", Int),
        ],
    ],
    open: false,
};

pub(crate) static CONTROL_SOCKET: MapSchema = MapSchema {
    name: "control-socket",
    keys: &[
        CTX,
        &[
            ("socket-type", Enum(&["unix", "http", "https"])),
            ("socket-name", Str),
            ("socket-address", Str),
            ("socket-port", Int),
            ("trust-anchor", Str),
            ("cert-file", Str),
            ("key-file", Str),
            ("cert-required", Bool),
            ("authentication", Map(&AUTHENTICATION)),
            ("http-headers", MapList(&HTTP_HEADER)),
        ],
    ],
    open: false,
};

static AUTHENTICATION: MapSchema = MapSchema {
    name: "authentication",
    keys: &[
        CTX,
        &[
            ("type", Enum(&["basic"])),
            ("realm", Str),
            ("directory", Str),
            ("clients", MapList(&AUTH_CLIENT)),
        ],
    ],
    open: false,
};

static AUTH_CLIENT: MapSchema = MapSchema {
    name: "clients",
    keys: &[
        CTX,
        &[
            ("user", Str),
            ("password", Str),
            ("user-file", Str),
            ("password-file", Str),
        ],
    ],
    open: false,
};

static HTTP_HEADER: MapSchema = MapSchema {
    name: "http-headers",
    keys: &[CTX, &[("name", Str), ("value", Str)]],
    open: false,
};

static DHCP_QUEUE_CONTROL: MapSchema = MapSchema {
    name: "dhcp-queue-control",
    keys: &[
        CTX,
        &[
            ("enable-queue", Bool),
            ("queue-type", Str),
            ("capacity", Int),
        ],
    ],
    // Custom queue implementations take their own parameters.
    open: true,
};

pub(crate) const NCR_PROTOCOLS: &[&str] = &["UDP", "TCP"];
pub(crate) const NCR_FORMATS: &[&str] = &["JSON"];

static DHCP_DDNS_CLIENT: MapSchema = MapSchema {
    name: "dhcp-ddns",
    keys: &[
        CTX,
        &[
            ("enable-updates", Bool),
            ("server-ip", Str),
            ("server-port", Int),
            ("sender-ip", Str),
            ("sender-port", Int),
            ("max-queue-size", Int),
            ("ncr-protocol", Enum(NCR_PROTOCOLS)),
            ("ncr-format", Enum(NCR_FORMATS)),
            // Kea 2.2 still accepts these old spellings of the global ddns-* parameters.
            ("override-no-update", Bool),
            ("override-client-update", Bool),
            ("replace-client-name", Enum(REPLACE_CLIENT_NAME)),
            ("generated-prefix", Str),
            ("qualifying-suffix", Str),
            ("hostname-char-set", Str),
            ("hostname-char-replacement", Str),
        ],
    ],
    open: false,
};

static SANITY_CHECKS: MapSchema = MapSchema {
    name: "sanity-checks",
    keys: &[&[
        (
            "lease-checks",
            Enum(&["none", "warn", "fix", "fix-del", "del"]),
        ),
        (
            "extended-info-checks",
            Enum(&["none", "fix", "strict", "pedantic"]),
        ),
    ]],
    open: false,
};

static CONFIG_CONTROL: MapSchema = MapSchema {
    name: "config-control",
    keys: &[&[
        ("config-databases", MapList(&CONFIG_DATABASES)),
        ("config-fetch-wait-time", Int),
    ]],
    open: false,
};

static MULTI_THREADING: MapSchema = MapSchema {
    name: "multi-threading",
    keys: &[
        CTX,
        &[
            ("enable-multi-threading", Bool),
            ("thread-pool-size", Int),
            ("packet-queue-size", Int),
        ],
    ],
    open: false,
};

static LOGGER: MapSchema = MapSchema {
    name: "loggers",
    keys: &[
        CTX,
        &[
            ("name", Str),
            ("severity", Str),
            ("debuglevel", Int),
            ("output_options", MapList(&OUTPUT_OPTIONS)),
            ("output-options", MapList(&OUTPUT_OPTIONS)),
        ],
    ],
    open: false,
};

static OUTPUT_OPTIONS: MapSchema = MapSchema {
    name: "output-options",
    keys: &[&[
        ("output", Str),
        ("flush", Bool),
        ("maxsize", Int),
        ("maxver", Int),
        ("pattern", Str),
    ]],
    open: false,
};

// --- DhcpDdns -------------------------------------------------------------------------------

pub(crate) static DHCP_DDNS: MapSchema = MapSchema {
    name: "DhcpDdns",
    keys: &[
        CTX,
        &[
            ("ip-address", Str),
            ("port", Int),
            ("dns-server-timeout", Int),
            ("ncr-protocol", Enum(NCR_PROTOCOLS)),
            ("ncr-format", Enum(NCR_FORMATS)),
            ("control-socket", Map(&CONTROL_SOCKET)),
            ("control-sockets", MapList(&CONTROL_SOCKET)),
            ("hooks-libraries", MapList(&HOOKS_LIBRARY)),
            ("loggers", MapList(&LOGGER)),
            ("forward-ddns", Map(&DDNS_MGR_FORWARD)),
            ("reverse-ddns", Map(&DDNS_MGR_REVERSE)),
            ("tsig-keys", MapList(&TSIG_KEY)),
        ],
    ],
    open: false,
};

static DDNS_MGR_FORWARD: MapSchema = MapSchema {
    name: "forward-ddns",
    keys: &[&[("ddns-domains", MapList(&DDNS_DOMAIN))]],
    open: false,
};

static DDNS_MGR_REVERSE: MapSchema = MapSchema {
    name: "reverse-ddns",
    keys: &[&[("ddns-domains", MapList(&DDNS_DOMAIN))]],
    open: false,
};

static DDNS_DOMAIN: MapSchema = MapSchema {
    name: "ddns-domains",
    keys: &[
        CTX,
        &[
            ("name", Str),
            ("key-name", Str),
            ("dns-servers", MapList(&DNS_SERVER)),
        ],
    ],
    open: false,
};

static DNS_SERVER: MapSchema = MapSchema {
    name: "dns-servers",
    keys: &[
        CTX,
        &[
            ("hostname", Str),
            ("ip-address", Str),
            ("port", Int),
            ("key-name", Str),
        ],
    ],
    open: false,
};

static TSIG_KEY: MapSchema = MapSchema {
    name: "tsig-keys",
    keys: &[
        CTX,
        &[
            ("name", Str),
            ("algorithm", Str),
            ("digest-bits", Int),
            ("secret", Str),
            ("secret-file", Str),
        ],
    ],
    open: false,
};

// --- tern's own sections --------------------------------------------------------------------

pub(crate) static STORE: MapSchema = MapSchema {
    name: "Store",
    keys: &[
        CTX,
        &[
            ("type", Enum(&["embedded", "postgresql"])),
            ("host", Str),
            ("port", Int),
            ("name", Str),
            ("user", Str),
            ("password", Str),
            ("max-connections", Int),
            ("connect-timeout", Int),
            ("trust-anchor", Str),
            ("cert-file", Str),
            ("key-file", Str),
            ("ssl-mode", Enum(SSL_MODES)),
        ],
    ],
    open: false,
};

pub(crate) static DNS: MapSchema = MapSchema {
    name: "Dns",
    keys: &[
        CTX,
        &[
            ("listen-on", StrOrMapList(&LISTEN_ON)),
            ("tsig-keys", MapList(&TSIG_KEY)),
            ("zones", StrOrMapList(&ZONE)),
            ("loggers", MapList(&LOGGER)),
        ],
    ],
    open: false,
};

static LISTEN_ON: MapSchema = MapSchema {
    name: "listen-on",
    keys: &[CTX, &[("ip-address", Str), ("port", Int)]],
    open: false,
};

static ZONE: MapSchema = MapSchema {
    name: "zones",
    keys: &[
        CTX,
        &[
            ("name", Str),
            ("file", Str),
            ("allow-update", MapList(&ALLOW_UPDATE)),
            ("allow-transfer", MapList(&ALLOW_TRANSFER)),
            ("notify", MapList(&NOTIFY)),
            ("ddns-overwrite-static", Bool),
        ],
    ],
    open: false,
};

static ALLOW_UPDATE: MapSchema = MapSchema {
    name: "allow-update",
    keys: &[
        CTX,
        &[
            ("key", Str),
            (
                "grant",
                Enum(&["zonesub", "name", "subdomain", "selfsub", "wildcard"]),
            ),
            ("name", Str),
            ("types", StrList),
        ],
    ],
    open: false,
};

static ALLOW_TRANSFER: MapSchema = MapSchema {
    name: "allow-transfer",
    keys: &[CTX, &[("key", Str), ("ip-address", Str)]],
    open: false,
};

static NOTIFY: MapSchema = MapSchema {
    name: "notify",
    keys: &[
        CTX,
        &[("ip-address", Str), ("port", Int), ("key-name", Str)],
    ],
    open: false,
};

pub(crate) static API: MapSchema = MapSchema {
    name: "Api",
    keys: &[
        CTX,
        &[
            ("ip-address", Str),
            ("port", Int),
            ("authentication", Map(&AUTHENTICATION)),
            ("trust-anchor", Str),
            ("cert-file", Str),
            ("key-file", Str),
            ("cert-required", Bool),
            ("api-keys", StrOrMapList(&API_KEY)),
        ],
    ],
    open: false,
};

static API_KEY: MapSchema = MapSchema {
    name: "api-keys",
    keys: &[CTX, &[("name", Str), ("key", Str), ("key-file", Str)]],
    open: false,
};

pub(crate) static LOGGING: MapSchema = MapSchema {
    name: "Logging",
    keys: &[CTX, &[("loggers", MapList(&LOGGER))]],
    open: false,
};

/// `Control-agent` and `Netconf` are not served; their content is not checked.
static CONTROL_AGENT: MapSchema = MapSchema {
    name: "Control-agent",
    keys: &[],
    open: true,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonc::parse_value;

    fn violations(section: &str, text: &str) -> Vec<Violation> {
        let node = parse_value(text, "t.json").unwrap().root;
        let mut out = Vec::new();
        check_map(&node, section_schema(section).unwrap(), section, &mut out);
        out
    }

    #[test]
    fn unknown_keyword_is_named_with_its_map() {
        let v = violations(
            "Dhcp6",
            r#"{"subnet6": [{"subnet": "2001:db8::/64", "id": 1, "foo": 2}]}"#,
        );
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0].message,
            "got unexpected keyword \"foo\" in subnet6 map"
        );
        assert_eq!(v[0].path, "Dhcp6.subnet6[0].foo");
        assert_eq!(v[0].location.column, 51);
    }

    #[test]
    fn wrong_types_are_errors() {
        let v = violations(
            "Dhcp4",
            r#"{"authoritative": "true", "valid-lifetime": 1.5, "t1-percent": 1}"#,
        );
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].message.starts_with("expected a boolean"));
        assert!(v[1].message.starts_with("expected an integer"));
    }

    #[test]
    fn family_specific_keys_do_not_leak() {
        assert_eq!(
            violations("Dhcp4", r#"{"preferred-lifetime": 3000}"#).len(),
            1
        );
        assert!(violations("Dhcp6", r#"{"preferred-lifetime": 3000}"#).is_empty());
        assert_eq!(violations("Dhcp6", r#"{"subnet4": []}"#).len(), 1);
    }

    #[test]
    fn open_maps_and_any_values() {
        assert!(violations(
            "Dhcp4",
            r#"{"dhcp-queue-control": {"enable-queue": true, "my-param": 1},
                "user-context": {"anything": [1, {"x": null}]},
                "hooks-libraries": [{"library": "x.so", "parameters": {"free": "form"}}]}"#
        )
        .is_empty());
    }
}
