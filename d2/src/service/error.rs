//! Why d2 could not start.

use std::net::SocketAddr;

use tern_dnsmsg::tsig::KeyError;

/// Why d2 could not start.
#[derive(Debug, thiserror::Error)]
pub enum D2Error {
    /// The NCR socket could not be opened.
    #[error("DHCP_DDNS_QUEUE_MGR_START_ERROR cannot listen for NCRs on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A TSIG key could not be used.
    #[error("TSIG key {name}: {source}")]
    Key {
        /// Key name.
        name: String,
        /// Why.
        source: KeyError,
    },
    /// A domain name is not a DNS name.
    #[error("ddns-domain {name}: {reason}")]
    Domain {
        /// Domain name.
        name: String,
        /// Why.
        reason: String,
    },
}
