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
        "description": "The lease's DNS entries (if the DHCP engine made any) are removed too: the removal is queued in the same transaction as the delete, and d2 carries it out (see /api/v1/ddns/ncrs).",
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

    let mut list_ncrs = json!({
        "summary": "The DDNS queue: NameChangeRequests, newest first",
        "description": "Every DNS change the DHCP engine, a Kea server (over UDP) or a lease deletion asked for, with its state and the reason of its last failure: why a host has no DNS name.",
        "operationId": "listNcrs",
        "parameters": [
            query_with("state", "Only this state", json!({ "type": "string", "enum": crate::ddns::STATES })),
            query_with("fqdn", "Only this name (case and the trailing dot do not matter)", json!({ "type": "string" })),
            query_with("ip-address", "Only this address (IPv4 or IPv6)", json!({ "type": "string" })),
            query_with("before", "The `next` of the previous page (an id)", json!({ "type": "integer", "minimum": 1 })),
            paging[0].clone(),
        ],
        "responses": { "200": ok("A page of queued requests", "NcrPage") }
    });
    common_errors(&mut list_ncrs, &[]);
    let mut get_ncr = json!({ "summary": "One queued NameChangeRequest", "operationId": "getNcr",
        "parameters": [{ "name": "id", "in": "path", "required": true, "description": "Queue id",
                         "schema": { "type": "integer", "minimum": 1 } }],
        "responses": { "200": ok("The request", "Ncr") } });
    common_errors(&mut get_ncr, &[("404", "No such request")]);

    let one_identifier: Vec<Value> = crate::kea::hosts::identifier_names()
        .iter()
        // Present and not null: a null identifier counts as absent, as for every field.
        .map(|k| json!({ "required": [k], "properties": { *k: { "type": "string" } } }))
        .collect();
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "tern API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Host reservations and leases in Kea's tables, Kea's command channel at POST /, and PowerDNS's zones API for the zones of DhcpDdns."
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
            "/api/v1/leases/by-hostname/{hostname}": { "get": lease_host },
            "/api/v1/ddns/ncrs": { "get": list_ncrs },
            "/api/v1/ddns/ncrs/{id}": { "get": get_ncr }
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
                } },
                "Ncr": { "type": "object", "required": ["id", "received-at", "change-type", "fqdn", "ip-address", "attempts", "next-attempt-at"], "properties": {
                    "id": { "type": "integer" },
                    "received-at": { "type": "string", "format": "date-time" },
                    "source": { "type": ["string", "null"], "enum": ["udp", "dhcp4", "dhcp6", "api", null] },
                    "change-type": { "type": "string", "enum": ["add", "remove"] },
                    "fqdn": { "type": "string" },
                    "ip-address": { "type": "string" },
                    "state": { "type": ["string", "null"], "enum": ["pending", "in_progress", "done", "failed", "conflict", null] },
                    "attempts": { "type": "integer" },
                    "next-attempt-at": { "type": "string", "format": "date-time" },
                    "last-error": { "type": ["string", "null"], "description": "Why the last attempt failed, or why the request was refused" },
                    "finished-at": { "type": ["string", "null"], "format": "date-time" },
                    "ncr": { "description": "The request in Kea's NCR JSON" }
                } },
                "NcrPage": { "type": "object", "properties": {
                    "items": { "type": "array", "items": { "$ref": "#/components/schemas/Ncr" } },
                    "next": { "type": ["integer", "null"], "description": "Pass as `before` for the next page" }
                } }
            }
        }
    });
    for name in ["Reservation", "Lease"] {
        nullable_optionals(&mut doc["components"]["schemas"][name]);
    }
    pdns(&mut doc);
    doc
}

/// A PowerDNS error answer: `{"error": "…"}` (401 carries tern's usual error fields too).
fn pdns_err(desc: &str) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PdnsError" } } } })
}

/// A PowerDNS operation: its answers, plus the 401 and 404 (unknown server or zone) every
/// one of them can give.
fn pdns_op(
    summary: &str,
    id: &str,
    params: &[Value],
    responses: Value,
    errors: &[(&str, &str)],
) -> Value {
    let mut op = json!({ "summary": summary, "operationId": id, "tags": ["PowerDNS"], "parameters": params, "responses": responses });
    let r = op["responses"].as_object_mut().expect("responses");
    r.insert("401".into(), pdns_err("No or wrong credentials"));
    for (code, desc) in errors {
        r.insert((*code).into(), pdns_err(desc));
    }
    op
}

/// The PowerDNS-compatible zones API ([`crate::pdns`]).
fn pdns(doc: &mut Value) {
    let mut server = path_param("server_id", "Always `localhost`; other ids give 404");
    server["example"] = json!("localhost");
    let zone = path_param("zone_id", "The zone as PowerDNS writes it (`example.com.`; the trailing dot may be left out; `/` as `=2F`)");
    let body = |schema: &str| json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } });
    let upstream: [(&str, &str); 2] = [
        (
            "502",
            "The zone's DNS server failed, is unreachable, or rejected tern's TSIG key",
        ),
        ("504", "The zone's DNS server did not answer in time"),
    ];
    let not_found = ("404", "No such server or zone");
    let paths = json!({
        "/api": { "get": pdns_op("API versions", "pdnsApiVersions", &[],
            json!({ "200": { "description": "[{\"url\": \"/api/v1\", \"version\": 1}]", "content": { "application/json": { "schema": { "type": "array", "items": { "type": "object", "properties": { "url": { "type": "string" }, "version": { "type": "integer" } } } } } } } }), &[]) },
        "/api/v1/servers": { "get": pdns_op("Servers (one: localhost)", "pdnsListServers", &[],
            json!({ "200": { "description": "The servers", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/PdnsServer" } } } } } }), &[]) },
        "/api/v1/servers/{server_id}": { "get": pdns_op("The server", "pdnsGetServer", std::slice::from_ref(&server),
            json!({ "200": ok("The server", "PdnsServer") }), &[not_found]) },
        "/api/v1/servers/{server_id}/zones": {
            "get": pdns_op("Zones: every forward-ddns and reverse-ddns domain of DhcpDdns but `*`", "pdnsListZones",
                &[server.clone(), query("zone", "Only this zone")],
                json!({ "200": { "description": "The zones, without rrsets (serial 0: GET the zone for it)", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/PdnsZone" } } } } } }), &[not_found]),
            "post": pdns_op("Create a zone: not possible on another server's zones", "pdnsCreateZone", std::slice::from_ref(&server),
                json!({}), &[not_found, ("400", "The body is not JSON"), ("409", "The zone already exists"), ("422", "tern cannot create zones: they are held by DhcpDdns' DNS servers")]),
        },
        "/api/v1/servers/{server_id}/zones/{zone_id}": {
            "get": pdns_op("The zone with its rrsets, read by TSIG-signed AXFR", "pdnsGetZone",
                &[server.clone(), zone.clone(),
                  query_with("rrsets", "`false` leaves the rrsets out", json!({ "type": "string" })),
                  query("rrset_name", "Only rrsets of this name"), query("rrset_type", "Only rrsets of this type")],
                json!({ "200": ok("The zone", "PdnsZone") }),
                &[not_found, ("403", "The DNS server refused the transfer"), ("422", "rrset_name is not a name"), upstream[0], upstream[1]]),
            "patch": pdns_op("Change rrsets: one TSIG-signed RFC 2136 UPDATE, all or nothing", "pdnsPatchZone",
                &[server.clone(), zone.clone()],
                json!({ "204": { "description": "Applied" } }),
                &[not_found, ("400", "The body is not JSON"), ("403", "The DNS server refused the update"),
                  ("409", "A CNAME would be beside other data, or a prerequisite failed"),
                  ("422", "An rrset or a record's content is invalid (the message names it), or the PATCH does not fit in one UPDATE (64 KB)"), upstream[0], upstream[1]]),
            "delete": pdns_op("Delete a zone: not possible on another server's zones", "pdnsDeleteZone",
                &[server.clone(), zone.clone()], json!({}), &[not_found, ("422", "tern cannot delete zones held by another DNS server")]),
        },
        "/api/v1/servers/{server_id}/zones/{zone_id}/notify": { "put": pdns_op("Notify secondaries (the primary already does after each update)", "pdnsNotify",
            &[server, zone], json!({ "200": { "description": "{\"result\": \"Notification queued\"}", "content": { "application/json": { "schema": { "type": "object", "properties": { "result": { "type": "string" } } } } } } }), &[not_found]) },
    });
    for (path, ops) in paths.as_object().expect("paths") {
        doc["paths"][path] = ops.clone();
    }
    doc["paths"]["/api/v1/servers/{server_id}/zones/{zone_id}"]["patch"]["requestBody"] =
        body("PdnsPatch");
    doc["paths"]["/api/v1/servers/{server_id}/zones"]["post"]["requestBody"] = body("PdnsZone");
    let record = json!({ "type": "object", "required": ["content"], "properties": {
        "content": { "type": "string", "description": "Presentation format: `192.0.2.1`, `10 mx.example.com.`, `\"text\"`; names absolute" },
        "disabled": { "type": "boolean", "description": "Must be false: another server's zone has no disabled records" }
    } });
    let rrset = json!({ "type": "object", "required": ["name", "type"], "properties": {
        "name": { "type": "string", "description": "Owner name in the zone, e.g. `www.example.com.`" },
        "type": { "type": "string", "description": "A, AAAA, CNAME, TXT, MX, SRV, NS, PTR, CAA, …" },
        "ttl": { "type": "integer", "minimum": 0, "maximum": i32::MAX, "description": "Required for REPLACE with records" },
        "changetype": { "type": "string", "enum": ["REPLACE", "DELETE"], "description": "In PATCH: REPLACE deletes the rrset and adds `records` (none: deletes); DELETE deletes it" },
        "records": { "type": "array", "items": { "$ref": "#/components/schemas/PdnsRecord" } },
        "comments": { "type": "array", "maxItems": 0, "description": "Not kept: must be empty" }
    } });
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas");
    schemas.insert("PdnsError".into(), json!({ "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } }));
    schemas.insert("PdnsServer".into(), json!({ "type": "object", "properties": {
        "type": { "type": "string" }, "id": { "type": "string" }, "daemon_type": { "type": "string" },
        "version": { "type": "string", "description": "PowerDNS's API level, then tern's: 4.9.0-tern-VERSION" },
        "url": { "type": "string" }, "config_url": { "type": "string" }, "zones_url": { "type": "string" }
    } }));
    schemas.insert("PdnsZone".into(), json!({ "type": "object", "required": ["name"], "properties": {
        "id": { "type": "string" }, "name": { "type": "string" }, "type": { "type": "string" }, "url": { "type": "string" },
        "kind": { "type": "string" }, "serial": { "type": "integer" }, "notified_serial": { "type": "integer" },
        "edited_serial": { "type": "integer" }, "masters": { "type": "array", "items": { "type": "string" } },
        "dnssec": { "type": "boolean" }, "account": { "type": "string" },
        "rrsets": { "type": "array", "items": { "$ref": "#/components/schemas/PdnsRRSet" } }
    } }));
    schemas.insert("PdnsRRSet".into(), rrset);
    schemas.insert("PdnsRecord".into(), record);
    schemas.insert(
        "PdnsPatch".into(),
        json!({ "type": "object", "required": ["rrsets"], "properties": {
        "rrsets": { "type": "array", "items": { "$ref": "#/components/schemas/PdnsRRSet" } }
    } }),
    );
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
