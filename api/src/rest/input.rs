//! Reading a REST request: query parameters (each known one taken once, an unknown one a
//! 400 naming it), JSON bodies, page sizes.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use serde_json::Value;

use crate::error::ApiError;
use crate::kea::parse_hex;

/// Page size when none is asked for, and the largest allowed.
pub const DEFAULT_LIMIT: i64 = 100;
/// The largest page.
pub const MAX_LIMIT: i64 = 1000;

pub(crate) type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

/// Query parameters, each known one taken once; an unknown one is a 400 naming it.
pub(crate) struct QueryArgs(HashMap<String, String>);

impl QueryArgs {
    pub(crate) fn new(q: Params, known: &[&str]) -> Result<Self, ApiError> {
        let Query(m) = q.map_err(|e| ApiError::bad("query", e.body_text()))?;
        if let Some(k) = m.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::bad(
                k.clone(),
                format!("unknown query parameter (known: {})", known.join(", ")),
            ));
        }
        Ok(Self(m))
    }

    pub(crate) fn str(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    pub(crate) fn int(&self, k: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::bad(
                    k,
                    format!("'{s}' is not an integer from {min} to {max}"),
                )),
            },
        }
    }

    pub(crate) fn v4(&self, k: &str) -> Result<Option<Ipv4Addr>, ApiError> {
        self.str(k)
            .map(|s| {
                s.parse()
                    .map_err(|_| ApiError::bad(k, format!("'{s}' is not an IPv4 address")))
            })
            .transpose()
    }

    pub(crate) fn hex(&self, k: &str) -> Result<Option<Vec<u8>>, ApiError> {
        Ok(self.str(k).map(|s| parse_hex(k, s)).transpose()?)
    }

    pub(crate) fn limit(&self) -> Result<i64, ApiError> {
        Ok(self.int("limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT))
    }
}

/// The body as a JSON object.
pub(crate) fn parse_body(body: &Bytes) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad("body", "must be a JSON object")),
        Err(e) => Err(ApiError::bad("body", format!("not valid JSON: {e}"))),
    }
}
