//! DDNS: NCR intake, RFC 4703 transactions, DNS server selection. The DNS messages
//! themselves (TSIG, the UDP exchange, AXFR, RCODE names) are `tern_dnsmsg`'s.
//!
//! * [`domains`]: which forward/reverse domain a name belongs to (pure).
//! * [`step`]: the RFC 4703 steps, their direction and Kea's log ids (pure).
//! * [`transaction`]: one NCR's RFC 4703 steps as a pure state machine, and the
//!   UPDATE builders (`transaction::messages`).
//! * [`outcome`]: how an NCR ended, and the typed reason with its log id (pure).
//! * [`service`]: the running d2: UDP intake into the store's queue, workers that
//!   claim queued NCRs and run their transactions, statistics ([`stats`]).
#![warn(missing_docs)]

pub mod domains;
pub mod outcome;
pub mod service;
pub mod stats;
pub mod step;
pub mod transaction;

pub use service::{D2Handle, D2Options, D2Service};
pub use stats::D2Stats;
