//! The REST API under `/api/v1`: host reservations and leases in Kea's tables, in Kea's
//! JSON shapes (a reservation also carries its row `id`), and the DDNS queue. Lists page
//! by keyset: pass the answer's `next` back as `after` (`before` for the queue).
//!
//! One module per resource, each with its router and its part of the OpenAPI document
//! ([`openapi::Part`]): [`reservations`], [`leases`], [`ddns`]; [`pdns`] describes the
//! PowerDNS zones API served by [`crate::pdns`]. [`PARTS`] lists them all (with the
//! command channel, `/metrics` and the document itself): the document and [`ROUTES`] are
//! derived from it, and a test checks the served routes against [`ROUTES`].
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | /api/v1/openapi.json | this API described |

pub mod ddns;
pub mod input;
pub mod leases;
pub mod openapi;
pub mod pdns;
pub mod reservations;

use std::sync::LazyLock;

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub use input::{DEFAULT_LIMIT, MAX_LIMIT};
use openapi::{err, Part};

use crate::error::ApiError;
use crate::AppState;

/// The parts of the OpenAPI document, in its order.
pub const PARTS: &[fn() -> Part] = &[
    served_outside,
    reservations::openapi,
    leases::openapi,
    ddns::openapi,
    pdns::openapi,
];

/// Every route as `(method, path)`, in OpenAPI's path syntax: the operations of the
/// OpenAPI document, in its order.
pub static ROUTES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut routes = Vec::new();
    for part in PARTS {
        for (path, ops) in part().paths {
            for method in ops.as_object().into_iter().flat_map(|o| o.keys()) {
                routes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
});

/// The REST routes (the command channel, `/metrics` and the PowerDNS API are merged
/// beside them by [`crate::app`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .merge(reservations::router())
        .merge(leases::router())
        .merge(ddns::router())
        .method_not_allowed_fallback(method_not_allowed)
}

/// Answer for paths no route serves.
pub async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let body = json!({
        "error": "method-not-allowed",
        "message": format!("{method} is not allowed on {}", uri.path()),
    });
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

async fn openapi_json() -> Json<Value> {
    Json(document())
}

/// The OpenAPI 3.1 document served at `/api/v1/openapi.json`: [`PARTS`] put together.
pub fn document() -> Value {
    let mut doc = json!({
    "openapi": "3.1.0",
    "info": {
        "title": "tern API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "Host reservations and leases in Kea's tables, Kea's command channel at POST /, and PowerDNS's zones API for the zones of DhcpDdns."
    },
    "security": [ { "basic": [] }, { "apiKey": [] } ],
        "paths": {},
        "components": {
            "securitySchemes": {
                "basic": { "type": "http", "scheme": "basic" },
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-API-Key" }
            },
            "schemas": {
            "Error": { "type": "object", "required": ["error", "message"], "properties": {
                "error": { "type": "string", "enum": ["bad-request", "unauthorized", "forbidden", "not-found", "conflict", "method-not-allowed", "internal"] },
                "message": { "type": "string" },
                "field": { "type": "string", "description": "The offending field (400 only)" }
            } },
            }
        }
    });
    for part in PARTS {
        let part = part();
        if let Some(paths) = doc["paths"].as_object_mut() {
            paths.extend(part.paths);
        }
        if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
            schemas.extend(part.schemas);
        }
    }
    doc
}

/// What is served outside the REST resources: the command channel ([`crate::command`]),
/// `/metrics` ([`crate::metrics`]) and this document.
fn served_outside() -> Part {
    Part::new(
        json!({
            "/": { "post": {
                "summary": "Kea command channel",
                "description": "Kea's control-agent protocol: {\"command\", \"service\", \"arguments\"}; the answer is a list with one element per service. result: 0 success, 1 error, 2 unsupported, 3 empty, 4 conflict.",
                "operationId": "keaCommand",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Command" } } } },
                "responses": {
                    "200": { "description": "One answer per service", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Answer" } } } } },
                    "400": { "description": "The body is not a JSON map", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Answer" } } } },
                    "401": { "description": "Unauthorized: { \"result\": 401, \"text\": \"Unauthorized\" }", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Answer" } } } }
                }
            } },
            "/metrics": { "get": {
                "summary": "Statistics for Prometheus", "operationId": "metrics",
                "description": "Kea's statistics as gauges: subnet[1].assigned-addresses becomes tern_subnet_assigned_addresses{subnet=\"1\"}.",
                "responses": { "200": { "description": "Prometheus text format", "content": { "text/plain": {} } }, "401": err("No or wrong credentials") }
            } },
            "/api/v1/openapi.json": { "get": {
                "summary": "This document", "operationId": "openapi",
                "responses": { "200": { "description": "OpenAPI 3.1 document", "content": { "application/json": {} } } }
            } },
        }),
        json!({
            // As Kea's control agent: any JSON map gets HTTP 200, and what is wrong in it
            // (no command, an unknown service) is answered in-band with result 1, so the
            // fields carry no constraints a 4xx would enforce.
            "Command": { "type": "object", "description": "command (a string) is mandatory; a missing or malformed one is answered with result 1, as Kea does.", "properties": {
                "command": { "description": "The command, e.g. lease4-get (a string)" },
                "service": { "description": "Daemons to send it to: a list of dhcp4, dhcp6, d2; others are answered with result 1" },
                "arguments": { "description": "The command's arguments (a map)" }
            } },
            "Answer": { "type": "object", "required": ["result"], "properties": {
                "result": { "type": "integer" }, "text": { "type": "string" }, "arguments": {}
            } },
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each path is described by one part only (a second would silently replace the
    /// first's operations), and every schema a `$ref` names is in the document.
    #[test]
    fn parts_do_not_overlap_and_refs_resolve() {
        let mut seen = std::collections::BTreeMap::new();
        for (i, part) in PARTS.iter().enumerate() {
            for path in part().paths.keys() {
                if let Some(j) = seen.insert(path.clone(), i) {
                    panic!("{path} is in parts {j} and {i}");
                }
            }
        }
        let doc = document();
        assert_eq!(ROUTES.len(), 28, "{:?}", *ROUTES);
        let text = doc.to_string();
        for r in text.split("\"#/components/schemas/").skip(1) {
            let name = &r[..r.find('"').unwrap()];
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "no schema {name}"
            );
        }
    }
}
