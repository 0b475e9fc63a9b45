//! DDNS: NCR intake, RFC 4703 transactions, TSIG, DNS server selection.
//!
//! * [`domains`]: which forward/reverse domain a name belongs to (pure).
//! * [`transaction`]: one NCR's RFC 4703 steps as a pure state machine, and the
//!   UPDATE builders (`transaction::messages`).
//! * [`tsig`]: RFC 8945 signing and verification.
//! * [`client`]: one UPDATE exchange over UDP (ID match, TSIG, response checks).
//! * [`axfr`], [`update`]: a TSIG-signed zone transfer and a whole-RRset UPDATE, for
//!   editing zones outside the NCR flow (the API's PowerDNS-compatible zones).
//! * [`service`]: the running d2: UDP intake into the store's queue, workers that
//!   claim queued NCRs and run their transactions, statistics ([`stats`]).
#![warn(missing_docs)]

pub mod axfr;
pub mod client;
pub mod domains;
pub mod service;
pub mod stats;
pub mod transaction;
pub mod tsig;
pub mod update;

pub use service::{D2Handle, D2Options, D2Service};
pub use stats::D2Stats;
