//! tern's DHCPv4 engine: packets → decisions → leases.
//!
//! * [`packet`]: a client's message decoded and checked with dhcproto ([`Request`]);
//!   the reply ([`Reply`]) with options in Kea's order.
//! * [`options`]: Kea's standard option names and their text form.
//! * [`config`]: the `Dhcp4` section resolved for serving (inheritance, defaults).
//! * [`decide`]: pure decisions (subnet selection, reservations,
//!   timers, reply options, destination), unit-tested without sockets.
//! * [`request`]: the DHCPREQUEST decisions of RFC 2131 §4.3.2 (pure: ACK, NAK with its
//!   reason, or silence), before and after the lease row is read.
//! * [`engine`]: one function per message type around store queries; a lease is
//!   committed before its DHCPACK leaves.
//! * [`net`], [`service`]: sockets and the running service ([`Dhcp4Service`]).
//!
//! # Choices
//! * **Offers write nothing** (as Kea without `offer-lifetime`): the DHCPREQUEST commits
//!   the lease with `INSERT … ON CONFLICT`, and the database decides between competing
//!   allocators, threads or tern servers sharing one PostgreSQL (see
//!   `tern_store::lease4`). A client whose offered address was taken meanwhile gets a
//!   DHCPNAK and starts over.
//! * **Allocation**: reserved address, else the client's previous one, else the one it
//!   asks for, else a free one searched from a per-client hashed offset in the pools
//!   (concurrent allocators start in different places); a lost race jumps elsewhere.
//!   A full subnet overflows into the other subnets of its shared network.
//! * **Reservations** come from the configuration and from the `hosts` table, held in
//!   memory ([`hosts`]) and kept current by the table's notifications, so a row
//!   written by plain SQL, the API or Kea's host_cmds applies milliseconds after it
//!   commits, without a restart and without a query per packet.
//! * **Durable before the ACK**: the lease and the NameChangeRequests it causes are
//!   committed in one transaction before the DHCPACK is sent. DHCPREQUESTs arriving
//!   together share that transaction (group commit, up to 64 per transaction, three
//!   transactions at once; `TERN_DHCP4_COMMIT_BATCH=1` turns it off for comparison); releases, declines and
//!   expiries queue their DNS removals the same way. Expired leases are reclaimed every
//!   `reclaim-timer-wait-time` and deleted after `hold-reclaimed-time`.
//! * **Sockets**: plain UDP, one socket per interface with `SO_BINDTODEVICE`; replies
//!   RFC 2131 would unicast to an address-less client are broadcast instead (no raw
//!   sockets). Ports 67/68 can be moved with `TERN_DHCP4_SERVER_PORT` /
//!   `TERN_DHCP4_CLIENT_PORT` (tests, benchmarks), leaving Kea files unchanged.
//! * **Overload**: at most 64 packets in progress; beyond that packets are dropped, and
//!   DISCOVERs are dropped first so that conversations under way can finish.

#![warn(missing_docs)]

mod analyze;
mod batch;
pub mod classify;
mod commit;
pub mod config;
pub mod ddns;
pub mod decide;
pub mod engine;
mod error;
pub mod hosts;
pub mod net;
pub mod options;
pub mod packet;
pub mod request;
pub mod service;
pub mod stats;
pub mod v6;

pub use config::ServerConfig;
pub use engine::{CommitSettings, Engine, Outcome};
pub use packet::{Reply, ReplyKind, Request, RequestKind};
pub use service::{Dhcp4Handle, Dhcp4Service, Error, Ports};
pub use stats::Stats;
