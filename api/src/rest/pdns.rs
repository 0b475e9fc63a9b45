//! The PowerDNS zones API's part of the OpenAPI document (its handlers and router are in
//! [`crate::pdns`]): `/api`, `/api/v1/servers[/localhost]`, its zones and their rrsets.

use serde_json::{json, Value};

use super::openapi::{body, ok, path_param, query, query_with, Part};

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

/// The paths and schemas of the OpenAPI document.
pub fn openapi() -> Part {
    let mut server = path_param("server_id", "Always `localhost`; other ids give 404");
    server["example"] = json!("localhost");
    let zone = path_param("zone_id", "The zone as PowerDNS writes it (`example.com.`; the trailing dot may be left out; `/` as `=2F`)");
    let upstream: [(&str, &str); 2] = [
        (
            "502",
            "The zone's DNS server failed, is unreachable, or rejected tern's TSIG key",
        ),
        ("504", "The zone's DNS server did not answer in time"),
    ];
    let not_found = ("404", "No such server or zone");
    let mut paths = json!({
        "/api": { "get": pdns_op("API versions", "pdnsApiVersions", &[],
            json!({ "200": { "description": "[{\"url\": \"/api/v1\", \"version\": 1}]", "content": { "application/json": { "schema": { "type": "array", "items": { "type": "object", "properties": { "url": { "type": "string" }, "version": { "type": "integer" } } } } } } } }), &[]) },
        "/api/v1/servers": { "get": pdns_op("Servers (one: localhost)", "pdnsListServers", &[],
            json!({ "200": { "description": "The servers", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/PdnsServer" } } } } } }), &[]) },
        "/api/v1/servers/{server_id}": { "get": pdns_op("The server", "pdnsGetServer", std::slice::from_ref(&server),
            json!({ "200": ok("The server", "PdnsServer") }), &[not_found]) },
        "/api/v1/servers/{server_id}/zones": {
            "get": pdns_op("Zones: tern's own, and every forward-ddns and reverse-ddns domain of DhcpDdns but `*`", "pdnsListZones",
                &[server.clone(), query("zone", "Only this zone")],
                json!({ "200": { "description": "The zones, without rrsets (serial 0 for another server's zone: GET the zone for it)", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/PdnsZone" } } } } } }), &[not_found, ("422", "zone is not a name")]),
            "post": pdns_op("Create a zone of tern's own zone server", "pdnsCreateZone", std::slice::from_ref(&server),
                json!({ "201": ok("The zone created, with its rrsets", "PdnsZone") }), &[not_found, ("400", "The body is not JSON"), ("409", "The zone already exists"), ("422", "The name, kind, nameservers, rrsets or zone text are invalid (the message says which), or the zone is one of DhcpDdns' held by another DNS server")]),
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
            "delete": pdns_op("Delete a zone of tern's own zone server (not possible on another server's zones)", "pdnsDeleteZone",
                &[server.clone(), zone.clone()], json!({ "204": { "description": "Deleted" } }), &[not_found, ("422", "tern cannot delete zones held by another DNS server")]),
        },
        "/api/v1/servers/{server_id}/zones/{zone_id}/notify": { "put": pdns_op("Notify secondaries (the primary already does after each update)", "pdnsNotify",
            &[server, zone], json!({ "200": { "description": "{\"result\": \"Notification queued\"}", "content": { "application/json": { "schema": { "type": "object", "properties": { "result": { "type": "string" } } } } } } }), &[not_found]) },
    });
    // Set afterwards, so the body comes after the answers (as the document always had it).
    paths["/api/v1/servers/{server_id}/zones/{zone_id}"]["patch"]["requestBody"] =
        body("PdnsPatch");
    paths["/api/v1/servers/{server_id}/zones"]["post"]["requestBody"] = body("PdnsZone");
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
    let mut part = Part::new(paths, json!({}));
    let schemas = &mut part.schemas;
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
    part
}
