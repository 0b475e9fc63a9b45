//! The NameChangeRequest and DHCID types: the contract between the DHCP engine and d2.
//!
//! Pure data and encoding, no I/O. Filled in by the d2 issue.
#![warn(missing_docs)]
