//! tern's configuration.
//!
//! A tern config is Kea's extended JSON: a `kea-dhcp4.conf`, `kea-dhcp6.conf` or
//! `kea-dhcp-ddns.conf` is valid as it is, and one file may hold several sections: Kea's
//! `Dhcp4`, `Dhcp6`, `DhcpDdns` (plus `Control-agent`, `Netconf`, and the Kea 1.x `Logging`,
//! accepted but not served) and tern's own `Store`, `Dns` and `Api`.
//!
//! Reading goes raw text -> [`jsonc`] tree with positions -> keyword/type check against Kea's
//! grammar (the `schema` module) -> typed sections, where cheap semantic checks happen. Every
//! error names `FILE:LINE:COL: KEY.PATH: message`; all of them are reported, not just the
//! first. A valid config carries [`Diagnostic`]s naming what tern accepts but does not act on;
//! which key gets which note is decided by one table, [`policy::POLICY`].

#![warn(missing_docs)]

mod classes;
mod common;
mod guard;
pub use guard::ClassGuard;
mod d2;
mod dhcp;
mod diag;
mod error;
pub mod jsonc;
mod logging;
pub mod option_defs;
pub mod policy;
mod schema;
mod sections;
mod store;
mod tern;

use std::path::{Path, PathBuf};

pub use classes::{is_built_in, ClientClass, FlexAction, FlexOption};
pub use common::Family;
pub use d2::{DdnsDomain, DhcpDdns, DnsServer, TsigAlgorithm, TsigKey, TsigSecret};
pub use dhcp::{
    BootFields, ConflictResolutionMode, ControlSocket, DatabaseConfig, DbType, DdnsParams,
    DhcpDdnsClient, HookLibrary, HostIdentifier, IdentifierType, InterfaceSpec, InterfacesConfig,
    NcrFormat, NcrProtocol, OptionData, OptionDefData, Pool, ReplaceClientName, Reservation,
    ReservationFlags, Timers,
};
pub use diag::{Diagnostic, Location, Severity};
pub use error::{ConfigError, Finding};
pub use logging::{LogDestination, LogOutput, LoggerConfig};
pub use sections::{Dhcp4, Dhcp6, PdPool, SharedNetwork, Subnet4, Subnet6};
pub use store::{PgSettings, StoreConfig};
pub use tern::{
    ApiConfig, ApiKey, ApiKeySecret, ApiTls, BasicAuth, BasicAuthClient, DnsConfig, Grant,
    NotifyTarget, TransferAcl, UpdateGrant, UpdateTypes, ZoneConfig,
};

use common::{Cx, Map};

/// A top-level section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// Kea's DHCPv4 server.
    Dhcp4,
    /// Kea's DHCPv6 server.
    Dhcp6,
    /// Kea's DHCP-DDNS server (D2).
    DhcpDdns,
    /// tern's store.
    Store,
    /// tern's authoritative DNS server.
    Dns,
    /// tern's REST API and command channel.
    Api,
    /// Kea 1.x top-level logging.
    Logging,
    /// Kea's control agent (not served).
    ControlAgent,
    /// Kea's NETCONF agent (not served).
    Netconf,
}

impl Section {
    /// Every section.
    pub const ALL: [Section; 9] = [
        Section::Dhcp4,
        Section::Dhcp6,
        Section::DhcpDdns,
        Section::Store,
        Section::Dns,
        Section::Api,
        Section::Logging,
        Section::ControlAgent,
        Section::Netconf,
    ];

    /// The key in the file.
    pub fn name(self) -> &'static str {
        match self {
            Section::Dhcp4 => "Dhcp4",
            Section::Dhcp6 => "Dhcp6",
            Section::DhcpDdns => "DhcpDdns",
            Section::Store => "Store",
            Section::Dns => "Dns",
            Section::Api => "Api",
            Section::Logging => "Logging",
            Section::ControlAgent => "Control-agent",
            Section::Netconf => "Netconf",
        }
    }

    /// The section a top-level key names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether tern serves (or will serve) this section; the others are accepted and named.
    pub fn is_tern_section(self) -> bool {
        !matches!(
            self,
            Section::Logging | Section::ControlAgent | Section::Netconf
        )
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub file: PathBuf,
    /// `Dhcp4`.
    pub dhcp4: Option<Dhcp4>,
    /// `Dhcp6`.
    pub dhcp6: Option<Dhcp6>,
    /// `DhcpDdns`.
    pub ddns: Option<DhcpDdns>,
    /// Where the store is (see [`StoreConfig`] for how it is chosen).
    pub store: StoreConfig,
    /// `Dns`.
    pub dns: Option<DnsConfig>,
    /// `Api`.
    pub api: Option<ApiConfig>,
    /// Every section's `loggers`, each tagged with its section.
    pub loggers: Vec<LoggerConfig>,
    /// What tern accepts but handles differently or not at all, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The top-level sections in file order.
    pub present: Vec<Section>,
}

impl Config {
    /// The names of the top-level sections present, in file order.
    pub fn sections(&self) -> Vec<&'static str> {
        self.present.iter().map(|s| s.name()).collect()
    }

    /// The TSIG key a `Dns` zone names: `Dns.tsig-keys` first, then `DhcpDdns.tsig-keys`
    /// (a one-box config defines d2's key once). Names compare case-insensitively.
    pub fn dns_tsig_key(&self, name: &str) -> Option<&TsigKey> {
        let own = self
            .dns
            .as_ref()
            .and_then(|d| d.tsig_keys.iter().find(|k| d2::dns_eq(&k.name, name)));
        own.or_else(|| self.ddns.as_ref().and_then(|d| d.key(name)))
    }

    /// The diagnostics of warning severity.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    /// A config with no sections and the embedded store (for commands run without a file).
    pub fn embedded_default() -> Self {
        Self {
            file: PathBuf::new(),
            dhcp4: None,
            dhcp6: None,
            ddns: None,
            store: StoreConfig::Embedded,
            dns: None,
            api: None,
            loggers: Vec::new(),
            diagnostics: Vec::new(),
            present: Vec::new(),
        }
    }
}

/// Reads and validates the file at `path` (and the files it includes).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    build(&text, &path.display().to_string(), path.to_path_buf())
}

/// Validates `text`; `file_name` names it in messages, and `<?include?>` paths are taken
/// relative to its directory.
pub fn parse_str(text: &str, file_name: &str) -> Result<Config, ConfigError> {
    build(text, file_name, PathBuf::from(file_name))
}

const SECTION_LIST: &str =
    "Dhcp4, Dhcp6, DhcpDdns, Store, Dns, Api, Control-agent, Netconf or Logging";

/// Top-level keys are checked while parsing, so a `}` that closes a section too early is
/// reported at the key it strands, where Kea reports it.
fn root_key_check(key: &str) -> Result<(), String> {
    if Section::from_name(key).is_some() {
        return Ok(());
    }
    if schema::is_section_keyword(key) {
        return Err(format!(
            "unexpected \"{}\" at the top level: it belongs inside a section (Dhcp4, Dhcp6 or DhcpDdns); is there a '}}' too many before it?",
            diag::excerpt(key)
        ));
    }
    Err(format!(
        "unknown top-level section \"{}\": expected {SECTION_LIST}",
        diag::excerpt(key)
    ))
}

fn build(text: &str, file_name: &str, file: PathBuf) -> Result<Config, ConfigError> {
    let check = root_key_check;
    let opts = jsonc::ParseOptions {
        loader: Some(&jsonc::read_regular_file),
        root_key_check: Some(&check),
    };
    let parsed =
        jsonc::parse_document(text, file_name, &opts).map_err(|e| ConfigError::Syntax {
            location: e.location,
            message: e.message,
        })?;
    let Some(root) = parsed.root.as_object() else {
        unreachable!("parse_document returns an object root");
    };
    let present: Vec<Section> = root
        .iter()
        .filter_map(|m| Section::from_name(&m.key))
        .collect();
    if !present.iter().any(|s| s.is_tern_section()) {
        return Err(ConfigError::Empty {
            file: file_name.to_string(),
        });
    }

    let mut violations = Vec::new();
    for m in root {
        if let Some(schema) = schema::section_schema(&m.key) {
            schema::check_map(&m.value, schema, &m.key, &mut violations);
        }
    }

    let mut cx = Cx::default();
    cx.diags.extend(parsed.warnings);
    for m in root {
        match policy::treatment(&m.key) {
            policy::Treatment::Served => policy::walk_section(&m.key, &m.value, &mut cx.diags),
            policy::Treatment::Delegated => {}
            policy::Treatment::Note(sev, msg) => cx.note(sev, &m.key_location, &m.key, msg),
            policy::Treatment::NoteAndDescend(sev, msg) => {
                cx.note(sev, &m.key_location, &m.key, msg);
                policy::walk_section(&m.key, &m.value, &mut cx.diags);
            }
        }
    }

    let dhcp4 = root
        .get("Dhcp4")
        .and_then(|n| sections::read_dhcp4(n, &mut cx));
    let dhcp6 = root
        .get("Dhcp6")
        .and_then(|n| sections::read_dhcp6(n, &mut cx));
    let ddns = root
        .get("DhcpDdns")
        .and_then(|n| d2::read_dhcp_ddns(n, &mut cx));
    let ddns_keys = ddns.as_ref().map_or(&[][..], |d| &d.tsig_keys[..]);
    let base = file.parent().unwrap_or(Path::new(""));
    let dns = root
        .get("Dns")
        .and_then(|n| tern::read_dns(n, &mut cx, ddns_keys, base));
    let api = root.get("Api").and_then(|n| tern::read_api(n, &mut cx));
    let mut loggers = Vec::new();
    for section in [
        Section::Dhcp4,
        Section::Dhcp6,
        Section::DhcpDdns,
        Section::Dns,
        Section::Logging,
    ] {
        if let Some(m) = root
            .get(section.name())
            .and_then(|n| Map::new(n, section.name()))
        {
            loggers.extend(logging::read_loggers(&m, &mut cx, section));
        }
    }
    let store = store::resolve(root, &mut cx);

    let mut errors: Vec<Finding> = violations
        .into_iter()
        .map(|v| Finding {
            location: v.location,
            path: v.path,
            message: v.message,
        })
        .collect();
    errors.extend(cx.errors);
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.location.cmp(&b.location));
        errors.dedup();
        return Err(ConfigError::from_findings(errors));
    }
    let mut diagnostics = cx.diags;
    diagnostics.sort_by(|a, b| a.location.cmp(&b.location));
    diagnostics.dedup();
    Ok(Config {
        file,
        dhcp4,
        dhcp6,
        ddns,
        store,
        dns,
        api,
        loggers,
        diagnostics,
        present,
    })
}
