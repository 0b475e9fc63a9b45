//! DDNS: NCR intake, RFC 4703 transactions, TSIG, DNS server selection.
//!
//! Not served yet: `tern serve` names the DhcpDdns section it does not serve.
#![warn(missing_docs)]

pub mod tsig;
