//! tern's authoritative zone server: zones in the store, answered from an in-memory copy of
//! each (`zone`, `catalog`), by hand-written request handling (`handler`, `lookup`) on
//! hickory-proto's wire formats, on sockets of its own (`server`).
#![warn(missing_docs)]

pub mod catalog;
mod dispatch;
pub mod fast;
pub mod handler;
pub mod journal;
pub mod lookup;
pub mod notify;
pub mod policy;
pub mod server;
pub mod service;
pub mod stats;
pub mod sync;
pub mod update;
pub mod xfr;
pub mod zone;

pub use service::DnsHandle;
