//! The NameChangeRequest and DHCID types: the contract between tern's DHCP engine and its
//! d2, and between a real Kea DHCP server and tern's d2.
//!
//! Pure data and encoding, no I/O:
//! - [`NameChangeRequest`]: Kea's NCR, its JSON text ([`NameChangeRequest::to_json`],
//!   [`NameChangeRequest::from_json`]), its UDP framing ([`NameChangeRequest::to_datagram`],
//!   [`NameChangeRequest::from_datagram`]) and Kea's log rendering
//!   ([`NameChangeRequest::to_text`]). The [`ncr`] module documents the JSON and why the
//!   text tern writes is accepted by every Kea d2 from 2.2 on.
//! - [`Dhcid`]: DHCID RDATA computed per RFC 4701 from a DUID, a DHCPv4 client identifier
//!   or a hardware address, and the client's [`Fqdn`].
//! - [`Fqdn`]: a validated, absolute domain name compared case-insensitively, with its
//!   canonical wire form.
//! - [`reverse_name`]: the `in-addr.arpa.` / `ip6.arpa.` name of an address.
//! - [`lease_ncr`], [`removal_ncr`]: the NCR a DHCPv4 lease causes, from its columns and
//!   the `ddns-*` parameters in force ([`NcrParams`]), for every writer of the lease table.
//!
//! ```
//! use tern_ncr::{ChangeType, ConflictResolutionMode, Dhcid, Fqdn, NameChangeRequest};
//!
//! let fqdn = Fqdn::new("myhost.example.com")?;
//! let dhcid = Dhcid::from_duid(&[0, 1, 2, 3, 4, 5, 6], &fqdn)?;
//! let ncr = NameChangeRequest {
//!     change_type: ChangeType::Add,
//!     forward_change: true,
//!     reverse_change: true,
//!     fqdn,
//!     ip_address: "2001:db8::10".parse()?,
//!     dhcid,
//!     lease_expires_on: None,
//!     lease_length: 1200,
//!     conflict_resolution_mode: ConflictResolutionMode::CheckWithDhcid,
//! };
//! let datagram = ncr.to_datagram()?;
//! assert_eq!(NameChangeRequest::from_datagram(&datagram)?, ncr);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod dhcid;
mod encoding;
pub mod fqdn;
pub mod lease;
pub mod ncr;
pub mod reverse;

pub use dhcid::{Dhcid, DhcidError, IdentifierType};
pub use fqdn::{Fqdn, FqdnError};
pub use lease::{lease6_ncr, lease_ncr, removal_ncr, LeaseName, NcrParams, TtlRule};
pub use ncr::{
    ChangeType, ConflictResolutionMode, KeaTextStyle, NameChangeRequest, NcrError,
    UnknownConflictResolutionMode, MAX_DATAGRAM_LEN,
};
pub use reverse::reverse_name;
