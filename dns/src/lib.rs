//! Authoritative zone server on hickory-server, backed by the store. Not served yet.
#![warn(missing_docs)]

// Zone files (BIND format) in and out.
pub mod zonefile;
