//! axum REST API and Kea-compatible command channel. Not served yet.
#![warn(missing_docs)]
