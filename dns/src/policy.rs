//! Per-zone policy in the form the request handling checks it: who may update what (BIND's
//! `update-policy` grants), who may transfer, whom to NOTIFY. Built from the validated `Dns`
//! section (names parsed, keys resolved) once per configuration.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use hickory_proto::rr::{Name, RecordType};
use tern_dnsmsg::tsig::TsigKey;

/// What an update grant covers (BIND 9 ARM, `update-policy` rule types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Any name in the zone (`zonesub`).
    ZoneSub,
    /// Exactly this name (`name`).
    Name(Name),
    /// This name and every name below it (`subdomain`).
    Subdomain(Name),
    /// The name equal to the key's name, and below it (`selfsub`).
    SelfSub,
    /// Names matched by this wildcard (`wildcard`, `*.example.com.`: one or more labels in
    /// place of `*`).
    Wildcard(Name),
}

/// One `allow-update` rule: updates signed with `key` may change `types` at the names the
/// grant covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRule {
    /// The TSIG key's name.
    pub key: Name,
    /// The names.
    pub grant: Grant,
    /// The types; empty means any type but SOA and NS (BIND's `ANY`).
    pub types: Vec<RecordType>,
}

/// One `allow-transfer` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferRule {
    /// Requests signed with this key.
    Key(Name),
    /// Requests from this network (address, prefix length).
    Network(IpAddr, u8),
}

/// A secondary to NOTIFY after each change.
#[derive(Debug, Clone)]
pub struct NotifyTarget {
    /// Where.
    pub addr: SocketAddr,
    /// The key to sign the NOTIFY with.
    pub key: Option<TsigKey>,
}

/// One zone's policy. A zone with none (created over the API, say) takes no updates, no
/// transfers and sends no NOTIFY.
#[derive(Debug, Clone, Default)]
pub struct ZonePolicy {
    /// `allow-update`.
    pub update: Vec<UpdateRule>,
    /// `allow-transfer`.
    pub transfer: Vec<TransferRule>,
    /// `notify`.
    pub notify: Vec<NotifyTarget>,
    /// The keys d2 signs this zone's DHCP updates with: what they write is the DHCP's
    /// (`managed_by = dhcp`).
    pub dhcp_keys: Vec<Name>,
    /// Whether updates by a DHCP key may replace or delete records an administrator put in
    /// (`ddns-overwrite-static`, default no).
    pub overwrite_static: bool,
}

/// Every zone's policy, by origin.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    by_zone: HashMap<Name, ZonePolicy>,
}

static NONE: std::sync::LazyLock<ZonePolicy> = std::sync::LazyLock::new(ZonePolicy::default);

impl Policies {
    /// From (origin, policy) pairs.
    pub fn new(zones: impl IntoIterator<Item = (Name, ZonePolicy)>) -> Policies {
        Policies {
            by_zone: zones.into_iter().collect(),
        }
    }

    /// The policy of the zone at `origin` (the empty one when none is configured).
    pub fn get(&self, origin: &Name) -> &ZonePolicy {
        self.by_zone.get(origin).unwrap_or(&NONE)
    }
}
