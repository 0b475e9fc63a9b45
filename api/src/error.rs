//! The REST API's one error type, mapped to an HTTP status in one place
//! ([`ApiError::status`]). Database errors caused by the caller's input (unique
//! violations, values out of range) become 409/400; anything else is logged and answered
//! with a plain 500 message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::error;

/// Everything a REST call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; names the field.
    #[error("{field}: {message}")]
    BadRequest {
        /// The offending field (`body` for the document itself).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// No or wrong credentials.
    #[error("authentication required")]
    Unauthorized,
    /// Authenticated, but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// No such object (or route).
    #[error("{0}")]
    NotFound(String),
    /// The change collides with an existing object.
    #[error("{0}")]
    Conflict(String),
    /// A fault of ours; the detail goes to the log only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 400 naming `field`.
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The HTTP status of each variant: the one place the mapping lives.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad-request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<crate::kea::FieldError> for ApiError {
    fn from(e: crate::kea::FieldError) -> Self {
        ApiError::bad(e.field, e.message)
    }
}

impl From<tern_store::Error> for ApiError {
    fn from(e: tern_store::Error) -> Self {
        match classify(&e) {
            DbFault::Conflict(m) => ApiError::Conflict(m),
            DbFault::Invalid(m) => ApiError::bad("body", m),
            DbFault::Other => ApiError::Internal(e.into()),
        }
    }
}

/// How a store error relates to the caller's input.
pub enum DbFault {
    /// A unique constraint said no.
    Conflict(String),
    /// The value does not fit the schema (too long, out of range, unknown reference).
    Invalid(String),
    /// Anything else: ours to log.
    Other,
}

/// Sorts a store error into the caller's fault or ours.
pub fn classify(e: &tern_store::Error) -> DbFault {
    let tern_store::Error::Database(e) = e else {
        return DbFault::Other;
    };
    let Some(db) = e.as_database_error() else {
        return DbFault::Other;
    };
    let code = db.code().map(|c| c.to_string()).unwrap_or_default();
    let constraint = db.constraint().unwrap_or("").to_string();
    match code.as_str() {
        "23505" => DbFault::Conflict(match constraint.as_str() {
            "lease4_pkey" => "a lease for this address already exists".to_string(),
            "key_dhcp4_identifier_subnet_id" => {
                "a reservation for this identifier already exists in this subnet".to_string()
            }
            "" => "an object with these keys already exists".to_string(),
            c => format!("already exists (unique constraint {c})"),
        }),
        "23503" => DbFault::Invalid(format!(
            "refers to something that does not exist ({})",
            if constraint.is_empty() {
                db.message()
            } else {
                &constraint
            }
        )),
        c if c.starts_with("22") => DbFault::Invalid(db.message().to_string()),
        "23514" | "23502" => DbFault::Invalid(db.message().to_string()),
        _ => DbFault::Other,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        match &self {
            ApiError::Internal(e) => error!("API_INTERNAL_ERROR {e:#}"),
            ApiError::BadRequest { field, .. } => body["field"] = field.clone().into(),
            _ => {}
        }
        (status, axum::Json(body)).into_response()
    }
}
