//! What a PowerDNS call can fail with, and its HTTP status: below both the handlers
//! (`mod.rs`) and the zone access (`zones.rs`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Everything a PowerDNS call can fail with; each variant is one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum PdnsError {
    /// The body is not JSON (400).
    #[error("{0}")]
    BadRequest(String),
    /// The other server refused (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such server or zone (404).
    #[error("{0}")]
    NotFound(String),
    /// The change collides with the zone's data (409).
    #[error("{0}")]
    Conflict(String),
    /// A well-formed request tern cannot carry out: bad rrset or content (422).
    #[error("{0}")]
    Unprocessable(String),
    /// The zone's server failed or rejected tern's key (502).
    #[error("{0}")]
    BadGateway(String),
    /// The zone's server did not answer (504).
    #[error("{0}")]
    GatewayTimeout(String),
    /// tern's own store failed (500).
    #[error("{0}")]
    Internal(String),
}

impl PdnsError {
    /// The HTTP status of each variant.
    pub fn status(&self) -> StatusCode {
        match self {
            PdnsError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PdnsError::Forbidden(_) => StatusCode::FORBIDDEN,
            PdnsError::NotFound(_) => StatusCode::NOT_FOUND,
            PdnsError::Conflict(_) => StatusCode::CONFLICT,
            PdnsError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PdnsError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            PdnsError::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            PdnsError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for PdnsError {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::warn!("PDNS_UPSTREAM_ERROR {self}");
        }
        (self.status(), Json(json!({ "error": self.to_string() }))).into_response()
    }
}
