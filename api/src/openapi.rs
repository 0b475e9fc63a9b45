//! The OpenAPI 3.1 description served at `/api/v1/openapi.json`, written by hand (the
//! handlers parse their input themselves to name the failing field, so there is little
//! for a derive to read). A test checks it against [`crate::rest::ROUTES`] and the router.

use serde_json::{json, Value};

fn err(desc: &str) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn ok(desc: &str, schema: &str) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn path_param(name: &str, desc: &str) -> Value {
    let schema = match name {
        "id" => json!({ "type": "integer", "minimum": 1, "maximum": i32::MAX }),
        "ip_address" => json!({ "type": "string", "format": "ipv4" }),
        "hw_address" | "client_id" => json!({ "type": "string", "pattern": HEX_ID }),
        _ => json!({ "type": "string" }),
    };
    json!({ "name": name, "in": "path", "required": true, "description": desc, "schema": schema })
}

/// An identifier as the API accepts it (`kea::parse_hex`): hex bytes, either of one or two
/// digits separated by `:`, `-` or `.`, or pairs without separators, optionally after
/// `0x`; or text in single quotes.
const HEX_ID: &str =
    r"^\s*((0x)?([0-9A-Fa-f]{1,2}([:.-][0-9A-Fa-f]{1,2})+|([0-9A-Fa-f]{2})+)|'[\s\S]+')\s*$";

/// A query parameter with the bounds the handlers enforce (a 400 otherwise).
fn query(name: &str, desc: &str) -> Value {
    let schema = match name {
        "subnet-id" => json!({ "type": "integer", "minimum": 0, "maximum": u32::MAX }),
        "limit" => json!({ "type": "integer", "minimum": 1, "maximum": crate::rest::MAX_LIMIT }),
        "state" => json!({ "type": "integer", "minimum": 0, "maximum": 4 }),
        "hw-address" | "client-id" => json!({ "type": "string", "pattern": HEX_ID }),
        "ip-address" => json!({ "type": "string", "format": "ipv4" }),
        "after" => json!({ "type": "integer", "minimum": 0, "maximum": i32::MAX }),
        _ => json!({ "type": "string" }),
    };
    query_with(name, desc, schema)
}

fn query_with(name: &str, desc: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": schema })
}

fn common_errors(op: &mut Value, extra: &[(&str, &str)]) {
    let r = op["responses"].as_object_mut().expect("responses");
    r.insert("400".into(), err("Bad request: the named field is wrong"));
    r.insert("401".into(), err("No or wrong credentials"));
    for (code, desc) in extra {
        r.insert((*code).into(), err(desc));
    }
}

/// The document.
pub fn document() -> Value {
    let paging = [query("limit", "Page size (1 to 1000, default 100)")];
    let mut list_res = json!({
        "summary": "List host reservations (DHCPv4)",
        "operationId": "listReservations",
        "parameters": [
            query("subnet-id", "Only this subnet"),
            query("hostname", "Only this host name (case-insensitive)"),
            query("hw-address", "Only this hardware address"),
            query("client-id", "Only this client identifier"),
            query("ip-address", "Only this reserved address"),
            paging[0].clone(),
            query("after", "The `next` of the previous page"),
        ],
        "responses": { "200": ok("A page of reservations", "ReservationPage") }
    });
    common_errors(&mut list_res, &[]);
    let mut create_res = json!({
        "summary": "Create a host reservation",
        "operationId": "createReservation",
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Reservation" } } } },
        "responses": { "201": ok("Created", "Reservation") }
    });
    common_errors(
        &mut create_res,
        &[(
            "409",
            "The identifier or address is already reserved in the subnet",
        )],
    );
    let id = path_param("id", "Reservation id (hosts.host_id)");
    let mut get_res = json!({ "summary": "One reservation", "operationId": "getReservation", "parameters": [id.clone()],
        "responses": { "200": ok("The reservation", "Reservation") } });
    common_errors(&mut get_res, &[("404", "No such reservation")]);
    let mut put_res = json!({ "summary": "Replace a reservation", "operationId": "updateReservation", "parameters": [id.clone()],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Reservation" } } } },
        "responses": { "200": ok("The reservation as stored", "Reservation") } });
    common_errors(
        &mut put_res,
        &[
            ("404", "No such reservation"),
            (
                "409",
                "The identifier or address is already reserved in the subnet",
            ),
        ],
    );
    let mut del_res = json!({ "summary": "Delete a reservation", "operationId": "deleteReservation", "parameters": [id],
        "responses": { "204": { "description": "Deleted" } } });
    common_errors(&mut del_res, &[("404", "No such reservation")]);
    let mut res_hw = json!({ "summary": "Reservations of a hardware address", "operationId": "reservationsByHwAddress",
        "parameters": [path_param("hw_address", "Hardware address, e.g. 1a:1b:1c:1d:1e:1f")],
        "responses": { "200": ok("Reservations", "ReservationPage") } });
    common_errors(&mut res_hw, &[]);
    let mut res_cid = json!({ "summary": "Reservations of a client identifier", "operationId": "reservationsByClientId",
        "parameters": [path_param("client_id", "Client identifier in hex")],
        "responses": { "200": ok("Reservations", "ReservationPage") } });
    common_errors(&mut res_cid, &[]);

    let mut list_leases = json!({
        "summary": "List DHCPv4 leases",
        "operationId": "listLeases",
        "parameters": [
            query("subnet-id", "Only this subnet"),
            query("hw-address", "Only this hardware address"),
            query("client-id", "Only this client identifier"),
            query("hostname", "Only this host name (case-insensitive)"),
            query("state", "Only this state (0 default, 1 declined, 2 expired-reclaimed, 3 released, 4 registered)"),
            paging[0].clone(),
            query_with(
                "after",
                "The `next` of the previous page (an address)",
                json!({ "type": "string", "format": "ipv4" }),
            ),
        ],
        "responses": { "200": ok("A page of leases", "LeasePage") }
    });
    common_errors(&mut list_leases, &[]);
    let mut create_lease = json!({
        "summary": "Create a lease (as lease4-add)", "operationId": "createLease",
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Lease" } } } },
        "responses": { "201": ok("Created", "Lease") } });
    common_errors(
        &mut create_lease,
        &[("409", "A lease for this address already exists")],
    );
    let ip = path_param("ip_address", "IPv4 address");
    let mut put_lease = json!({ "summary": "Replace a lease (as lease4-update)", "operationId": "updateLease", "parameters": [ip.clone()],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Lease" } } } },
        "responses": { "200": ok("The lease as stored", "Lease") } });
    common_errors(&mut put_lease, &[("404", "No lease for this address")]);
    let mut get_lease = json!({ "summary": "One lease", "operationId": "getLease", "parameters": [ip.clone()],
        "responses": { "200": ok("The lease", "Lease") } });
    common_errors(&mut get_lease, &[("404", "No lease for this address")]);
    let mut del_lease = json!({ "summary": "Delete a lease", "operationId": "deleteLease", "parameters": [ip],
        "responses": { "204": { "description": "Deleted" } } });
    common_errors(&mut del_lease, &[("404", "No lease for this address")]);
    let mut lease_hw = json!({ "summary": "Leases of a hardware address", "operationId": "leasesByHwAddress",
        "parameters": [path_param("hw_address", "Hardware address")],
        "responses": { "200": ok("Leases", "LeasePage") } });
    common_errors(&mut lease_hw, &[]);
    let mut lease_host = json!({ "summary": "Leases of a host name", "operationId": "leasesByHostname",
        "parameters": [path_param("hostname", "Host name (case-insensitive)")],
        "responses": { "200": ok("Leases", "LeasePage") } });
    common_errors(&mut lease_host, &[]);

    let one_identifier: Vec<Value> = crate::kea::hosts::IDENTIFIER_TYPES
        .iter()
        .map(|k| json!({ "required": [k] }))
        .collect();
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "tern API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Host reservations and leases in Kea's tables, and Kea's command channel at POST /."
        },
        "security": [ { "basic": [] }, { "apiKey": [] } ],
        "paths": {
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
            "/api/v1/reservations": { "get": list_res, "post": create_res },
            "/api/v1/reservations/{id}": { "get": get_res, "put": put_res, "delete": del_res },
            "/api/v1/reservations/by-hw-address/{hw_address}": { "get": res_hw },
            "/api/v1/reservations/by-client-id/{client_id}": { "get": res_cid },
            "/api/v1/leases": { "get": list_leases, "post": create_lease },
            "/api/v1/leases/{ip_address}": { "get": get_lease, "put": put_lease, "delete": del_lease },
            "/api/v1/leases/by-hw-address/{hw_address}": { "get": lease_hw },
            "/api/v1/leases/by-hostname/{hostname}": { "get": lease_host }
        },
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
                "Reservation": { "type": "object", "required": ["subnet-id"], "description": "Kea's reservation map with exactly one identifier (hw-address, duid, circuit-id, client-id, flex-id).",
                    "oneOf": one_identifier,
                    "properties": {
                    "id": { "type": "integer", "readOnly": true },
                    "subnet-id": { "type": "integer", "minimum": 0, "maximum": 4294967295_u64, "description": "0 = global" },
                    "hw-address": { "type": "string", "pattern": HEX_ID }, "client-id": { "type": "string", "pattern": HEX_ID }, "duid": { "type": "string", "pattern": HEX_ID },
                    "circuit-id": { "type": "string", "pattern": HEX_ID }, "flex-id": { "type": "string", "pattern": HEX_ID },
                    "ip-address": { "type": "string", "format": "ipv4" }, "hostname": { "type": "string", "maxLength": 255 },
                    "client-classes": { "type": "array", "items": { "type": "string" } },
                    "next-server": { "type": "string", "format": "ipv4" }, "server-hostname": { "type": "string", "maxLength": 64 }, "boot-file-name": { "type": "string", "maxLength": 128 },
                    "option-data": { "type": "array", "items": { "type": "object", "properties": {
                        "code": { "type": "integer" }, "name": { "type": "string" }, "space": { "type": "string", "default": "dhcp4" },
                        "data": { "type": "string" }, "always-send": { "type": "boolean" }, "csv-format": { "type": "boolean" }
                    } } },
                    "user-context": { "type": "object" }
                } },
                "ReservationPage": { "type": "object", "properties": {
                    "items": { "type": "array", "items": { "$ref": "#/components/schemas/Reservation" } },
                    "next": { "type": ["integer", "null"], "description": "Pass as `after` for the next page" }
                } },
                "Lease": { "type": "object", "required": ["ip-address", "hw-address"], "description": "Kea's lease JSON. On input subnet-id is found from the address when omitted (it must be a configured subnet holding the address when Dhcp4 has subnets); expire (epoch seconds) may replace cltt.", "properties": {
                    "expire": { "type": "integer", "writeOnly": true },
                    "ip-address": { "type": "string", "format": "ipv4" }, "hw-address": { "type": "string", "pattern": HEX_ID }, "client-id": { "type": "string", "pattern": HEX_ID },
                    "valid-lft": { "type": "integer", "minimum": 0, "maximum": 4294967295_u64 }, "cltt": { "type": "integer" }, "subnet-id": { "type": "integer", "minimum": 0, "maximum": 4294967295_u64 },
                    "pool-id": { "type": "integer" }, "fqdn-fwd": { "type": "boolean" }, "fqdn-rev": { "type": "boolean" },
                    "hostname": { "type": "string", "maxLength": 255 }, "state": { "type": "integer", "minimum": 0, "maximum": 4 }, "user-context": { "type": "object" }
                } },
                "LeasePage": { "type": "object", "properties": {
                    "items": { "type": "array", "items": { "$ref": "#/components/schemas/Lease" } },
                    "next": { "type": ["string", "null"], "description": "Pass as `after` for the next page" }
                } }
            }
        }
    });
    for name in ["Reservation", "Lease"] {
        nullable_optionals(&mut doc["components"]["schemas"][name]);
    }
    doc
}

/// The handlers read a JSON `null` as an absent field (as `kea::Args` does for Kea's
/// commands), so every optional typed property also admits `null`.
fn nullable_optionals(schema: &mut Value) {
    let required: Vec<Value> = schema["required"].as_array().cloned().unwrap_or_default();
    let Some(props) = schema["properties"].as_object_mut() else {
        return;
    };
    for (name, p) in props.iter_mut() {
        if required.contains(&Value::String(name.clone())) {
            continue;
        }
        match p.get("type").cloned() {
            Some(Value::String(t)) => p["type"] = json!([t, "null"]),
            Some(Value::Array(mut ts)) if !ts.contains(&json!("null")) => {
                ts.push(json!("null"));
                p["type"] = Value::Array(ts);
            }
            _ => {}
        }
    }
}
