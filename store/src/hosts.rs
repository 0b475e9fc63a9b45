//! Host reservation change events, so the DHCP engine sees reservations written by
//! anyone (REST API, Kea's host_cmds, plain SQL) without a restart.
//!
//! Triggers on `hosts`, `ipv6_reservations`, `dhcp4_options` and `dhcp6_options`
//! (migration 0004) send a JSON notification on the channel [`HOSTS_CHANNEL`] when
//! a transaction commits. [`HostWatcher`] listens on its own connection and turns
//! them into [`HostEvent`]s.
//!
//! Notifications are not queued while nobody listens: when the connection drops,
//! the watcher reconnects with backoff and then yields [`HostEvent::Resync`],
//! telling the consumer to reload all reservations, since it may have missed some.

use serde::Deserialize;
use tracing::warn;

use crate::error::Result;
use crate::listen::{Channel, Listening};
use crate::Store;

/// The notification channel the host triggers send on.
pub const HOSTS_CHANNEL: &str = "tern_hosts";

/// What happened to a reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostOp {
    /// A new reservation (or an existing one now under a new identifier or subnet).
    Insert,
    /// The reservation or one of its parts (IPv6 address, option) changed.
    Update,
    /// The reservation is gone (or moved to another identifier or subnet).
    Delete,
}

/// The table whose row changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostTable {
    /// `hosts`.
    Hosts,
    /// `ipv6_reservations`.
    Ipv6Reservations,
    /// `dhcp4_options`.
    Dhcp4Options,
    /// `dhcp6_options`.
    Dhcp6Options,
}

/// One changed host reservation, identified as Kea identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostChange {
    /// What happened.
    pub op: HostOp,
    /// Which table changed.
    pub table: HostTable,
    /// `hosts.host_id`.
    pub host_id: i32,
    /// `hosts.dhcp_identifier` (e.g. the MAC address bytes).
    pub identifier: Vec<u8>,
    /// `hosts.dhcp_identifier_type` (0 hw-address, 1 duid, 2 circuit-id, 3 client-id, 4 flex-id).
    pub identifier_type: i16,
    /// `hosts.dhcp4_subnet_id`; `Some(0)` is a global reservation.
    pub dhcp4_subnet_id: Option<i64>,
    /// `hosts.dhcp6_subnet_id`.
    pub dhcp6_subnet_id: Option<i64>,
}

/// An event from [`HostWatcher`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostEvent {
    /// One reservation changed.
    Changed(HostChange),
    /// Changes may have been missed (the connection was re-established, or a table
    /// was truncated): reload all reservations.
    Resync,
}

/// One line for the log, e.g. `insert hosts host_id=7 identifier=08:00:27:f2:5c:e2
/// (hw-address) dhcp4_subnet_id=1`.
impl std::fmt::Display for HostEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = match self {
            HostEvent::Resync => return f.write_str("resync (reload all reservations)"),
            HostEvent::Changed(c) => c,
        };
        let op = match c.op {
            HostOp::Insert => "insert",
            HostOp::Update => "update",
            HostOp::Delete => "delete",
        };
        let table = match c.table {
            HostTable::Hosts => "hosts",
            HostTable::Ipv6Reservations => "ipv6_reservations",
            HostTable::Dhcp4Options => "dhcp4_options",
            HostTable::Dhcp6Options => "dhcp6_options",
        };
        let id_type = match c.identifier_type {
            0 => "hw-address",
            1 => "duid",
            2 => "circuit-id",
            3 => "client-id",
            4 => "flex-id",
            _ => "unknown",
        };
        let hex: Vec<String> = c.identifier.iter().map(|b| format!("{b:02x}")).collect();
        write!(
            f,
            "{op} {table} host_id={} identifier={} ({id_type})",
            c.host_id,
            hex.join(":")
        )?;
        if let Some(s) = c.dhcp4_subnet_id {
            write!(f, " dhcp4_subnet_id={s}")?;
        }
        if let Some(s) = c.dhcp6_subnet_id {
            write!(f, " dhcp6_subnet_id={s}")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Payload {
    op: String,
    table: String,
    host_id: Option<i32>,
    identifier: Option<String>,
    identifier_type: Option<i16>,
    dhcp4_subnet_id: Option<i64>,
    dhcp6_subnet_id: Option<i64>,
}

/// Decodes a notification payload. Anything unexpected becomes `Resync`: reloading
/// everything is always correct, only slower.
pub fn parse_payload(payload: &str) -> HostEvent {
    let Ok(p) = serde_json::from_str::<Payload>(payload) else {
        warn!("STORE_HOST_EVENT_INVALID cannot parse host notification {payload:?}");
        return HostEvent::Resync;
    };
    let op = match p.op.as_str() {
        "insert" => HostOp::Insert,
        "update" => HostOp::Update,
        "delete" => HostOp::Delete,
        "truncate" => return HostEvent::Resync,
        _ => {
            warn!("STORE_HOST_EVENT_INVALID unknown operation in host notification {payload:?}");
            return HostEvent::Resync;
        }
    };
    let table = match p.table.as_str() {
        "hosts" => HostTable::Hosts,
        "ipv6_reservations" => HostTable::Ipv6Reservations,
        "dhcp4_options" => HostTable::Dhcp4Options,
        "dhcp6_options" => HostTable::Dhcp6Options,
        _ => {
            warn!("STORE_HOST_EVENT_INVALID unknown table in host notification {payload:?}");
            return HostEvent::Resync;
        }
    };
    let (Some(host_id), Some(identifier), Some(identifier_type)) = (
        p.host_id,
        p.identifier.as_deref().and_then(decode_hex),
        p.identifier_type,
    ) else {
        warn!("STORE_HOST_EVENT_INVALID incomplete host notification {payload:?}");
        return HostEvent::Resync;
    };
    HostEvent::Changed(HostChange {
        op,
        table,
        host_id,
        identifier,
        identifier_type,
        dhcp4_subnet_id: p.dhcp4_subnet_id,
        dhcp6_subnet_id: p.dhcp6_subnet_id,
    })
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// How host notifications are listened for.
static CHANNEL: Channel<HostEvent> = Channel {
    name: HOSTS_CHANNEL,
    application_name: "tern-host-watcher",
    log_prefix: "STORE_HOST",
    what: "host changes",
    reload: "reloading reservations",
    parse: parse_payload,
    resync: || HostEvent::Resync,
};

/// Listens for host reservation changes. Dropping it stops listening.
pub struct HostWatcher {
    inner: Listening<HostEvent>,
}

impl HostWatcher {
    /// Starts listening on a dedicated connection (application_name
    /// `tern-host-watcher`). Returns once `LISTEN` is in effect, so every change
    /// committed after this returns is reported.
    pub async fn start(store: &Store) -> Result<HostWatcher> {
        Ok(HostWatcher {
            inner: Listening::start(store, &CHANNEL).await?,
        })
    }

    /// The next event; `None` only after the watcher stopped.
    pub async fn recv(&mut self) -> Option<HostEvent> {
        self.inner.recv().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_trigger_payload() {
        // As json_build_object formats it.
        let p = r#"{"op" : "insert", "table" : "hosts", "host_id" : 7, "identifier" : "080027f25ce2", "identifier_type" : 0, "dhcp4_subnet_id" : 1, "dhcp6_subnet_id" : null}"#;
        assert_eq!(
            parse_payload(p),
            HostEvent::Changed(HostChange {
                op: HostOp::Insert,
                table: HostTable::Hosts,
                host_id: 7,
                identifier: vec![0x08, 0x00, 0x27, 0xf2, 0x5c, 0xe2],
                identifier_type: 0,
                dhcp4_subnet_id: Some(1),
                dhcp6_subnet_id: None,
            })
        );
    }

    #[test]
    fn events_display_on_one_line() {
        let p = r#"{"op" : "delete", "table" : "hosts", "host_id" : 7, "identifier" : "080027f25ce2", "identifier_type" : 0, "dhcp4_subnet_id" : 1, "dhcp6_subnet_id" : null}"#;
        assert_eq!(
            parse_payload(p).to_string(),
            "delete hosts host_id=7 identifier=08:00:27:f2:5c:e2 (hw-address) dhcp4_subnet_id=1"
        );
        assert_eq!(
            HostEvent::Resync.to_string(),
            "resync (reload all reservations)"
        );
    }

    #[test]
    fn odd_payloads_ask_for_resync() {
        assert_eq!(
            parse_payload(r#"{"op": "truncate", "table": "hosts"}"#),
            HostEvent::Resync
        );
        assert_eq!(parse_payload("not json"), HostEvent::Resync);
        assert_eq!(
            parse_payload(
                r#"{"op": "insert", "table": "hosts", "host_id": 1, "identifier": "0g", "identifier_type": 0}"#
            ),
            HostEvent::Resync
        );
        assert_eq!(
            parse_payload(
                r#"{"op": "merge", "table": "hosts", "host_id": 1, "identifier": "00", "identifier_type": 0}"#
            ),
            HostEvent::Resync
        );
    }

    #[test]
    fn hex() {
        assert_eq!(decode_hex(""), Some(vec![]));
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("é0"), None);
    }
}
