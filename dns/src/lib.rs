//! Authoritative zone server on hickory-server, backed by the store. Not served yet.
#![warn(missing_docs)]
