//! tern's DHCPv6 server (RFC 8415, RFC 9915), beside the DHCPv4 engine and sharing its
//! store, batching and option text forms.
//!
//! * [`wire`]: DHCPv6 messages on the wire, tern's own codec (strict, fuzzed).
//! * [`config`]: the `Dhcp6` section resolved for serving (inheritance, Kea's defaults).
//! * [`decide`]: pure decisions — screening (RFC 8415 §16), subnet selection, lifetimes
//!   and T1/T2, reply options, relay wrapping.
//! * [`ddns`]: the Client FQDN option (RFC 4704) and Kea's `ddns-*` rules; the NCRs
//!   (AAAA, ip6.arpa PTR, DHCID from the DUID) written with the lease.
//! * [`engine`]: one function per message type around the store's `lease6` queries;
//!   a lease is committed before its REPLY leaves, in group commits.
//! * [`hosts`]: the hosts table's DHCPv6 reservations in memory, kept current.
//! * [`net`], [`service`]: sockets (`IPV6_PKTINFO` tells multicast from unicast) and the
//!   running service ([`Dhcp6Service`]).
//! * [`stats`]: Kea's `pkt6-*` and per-subnet statistics.

pub mod config;
pub mod ddns;
pub mod decide;
pub mod engine;
pub mod hosts;
pub mod net;
pub mod service;
pub mod stats;
pub mod wire;

pub use config::Config6;
pub use engine::{Engine6, Ports6};
pub use service::{Dhcp6Handle, Dhcp6Service};
pub use stats::Stats6;
