//! The PowerDNS-compatible zones API against a real BIND 9: zones of `DhcpDdns` read by
//! TSIG-signed AXFR and changed by TSIG-signed UPDATE, checked with `dig` against BIND.
//! The tool tests replay the requests lego's, octodns' and external-dns' PowerDNS
//! providers send.

mod common;

use tern_testkit::bind;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use bind::{Named, ZoneSpec};
use serde_json::{json, Value};
use tern_api::Auth;
use tern_dnsmsg::tsig::{Algorithm, TsigKey};

const API_KEY: &str = "pdns-test-key";
const ZONE: &str = "/api/v1/servers/localhost/zones/example.com.";

struct Env {
    named: Named,
    api: common::Env,
}

fn zones() -> Vec<ZoneSpec> {
    vec![
        ZoneSpec {
            name: "example.com",
            records: "ns IN A 127.0.0.1\nstatic IN A 192.0.2.200\nalias IN CNAME static\n",
        },
        ZoneSpec {
            name: "2.0.192.in-addr.arpa",
            records: "",
        },
    ]
}

/// BIND with `key`; tern configured with `tern_key` (the same unless a test wants a
/// mismatch).
async fn start_with(key: &TsigKey, tern_key: &TsigKey) -> Env {
    start_zones(&zones(), key, tern_key).await
}

async fn start_zones(zones: &[ZoneSpec], key: &TsigKey, tern_key: &TsigKey) -> Env {
    let named = Named::start(zones, std::slice::from_ref(key));
    let config = config(&named, tern_key);
    let auth = Auth::basic("tern", &[("admin", "secret")]).with_key(None, API_KEY);
    let api = common::env_with_config(auth, config).await;
    Env { named, api }
}

/// The running configuration: `DhcpDdns` with BIND's zones, an `Api` with [`API_KEY`].
fn config(named: &Named, tern_key: &TsigKey) -> Value {
    let server = json!([{ "ip-address": "127.0.0.1", "port": named.port() }]);
    json!({
        "Api": { "ip-address": "127.0.0.1", "port": 8000, "api-keys": [{ "key": API_KEY }] },
        "DhcpDdns": {
            "tsig-keys": [{
                "name": tern_key.name.to_string(),
                "algorithm": tern_key.algorithm.kea_name(),
                "digest-bits": tern_key.digest_bits,
                "secret": bind::base64(&tern_key.secret),
            }],
            "forward-ddns": { "ddns-domains": [
                { "name": "example.com.", "key-name": tern_key.name.to_string(), "dns-servers": server },
                { "name": "*", "dns-servers": server }
            ] },
            "reverse-ddns": { "ddns-domains": [
                { "name": "2.0.192.in-addr.arpa.", "key-name": tern_key.name.to_string(), "dns-servers": server }
            ] }
        }
    })
}

async fn start() -> Env {
    let key = bind::key("tern-key.", Algorithm::HmacSha256, 0, 7);
    start_with(&key, &key).await
}

/// A request as PowerDNS tools send it: JSON with `X-API-Key`.
async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let (s, _, v) =
        common::rest_with_headers(app, method, uri, &[("X-API-Key", API_KEY)], body).await;
    (s, v)
}

async fn patch(e: &Env, rrsets: Value) -> (StatusCode, Value) {
    call(&e.api.app, "PATCH", ZONE, Some(json!({ "rrsets": rrsets }))).await
}

fn replace(name: &str, rtype: &str, ttl: u32, contents: &[&str]) -> Value {
    let records: Vec<Value> = contents
        .iter()
        .map(|c| json!({ "content": c, "disabled": false }))
        .collect();
    json!({ "name": name, "type": rtype, "ttl": ttl, "changetype": "REPLACE", "records": records })
}

fn delete(name: &str, rtype: &str) -> Value {
    json!({ "name": name, "type": rtype, "changetype": "DELETE", "records": [] })
}

/// The rrset `name` `rtype` of a GET zone answer.
fn rrset<'a>(zone: &'a Value, name: &str, rtype: &str) -> Option<&'a Value> {
    zone["rrsets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name && r["type"] == rtype)
}

fn contents(set: &Value) -> Vec<String> {
    let mut v: Vec<String> = set["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["content"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn patched_record_appears_in_bind_and_delete_removes_it() {
    let e = start().await;
    let (s, v) = patch(
        &e,
        json!([replace(
            "www.example.com.",
            "A",
            300,
            &["192.0.2.10", "192.0.2.11"]
        )]),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        e.named.dig("www.example.com", "A"),
        ["192.0.2.10", "192.0.2.11"]
    );
    // REPLACE replaces: the old records go.
    let (s, _) = patch(
        &e,
        json!([replace("www.example.com.", "A", 60, &["192.0.2.12"])]),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(e.named.dig("www.example.com", "A"), ["192.0.2.12"]);

    let (s, _) = patch(&e, json!([delete("www.example.com.", "A")])).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(e.named.dig("www.example.com", "A").is_empty());
}

#[tokio::test]
async fn get_zone_lists_the_rrsets_of_the_transfer() {
    let e = start().await;
    let (s, z) = call(&e.api.app, "GET", ZONE, None).await;
    assert_eq!(s, StatusCode::OK, "{z}");
    assert_eq!(z["id"], "example.com.");
    assert_eq!(z["name"], "example.com.");
    assert_eq!(z["serial"], 1);
    assert_eq!(
        contents(rrset(&z, "static.example.com.", "A").unwrap()),
        ["192.0.2.200"]
    );
    assert_eq!(rrset(&z, "static.example.com.", "A").unwrap()["ttl"], 300);
    assert_eq!(
        contents(rrset(&z, "alias.example.com.", "CNAME").unwrap()),
        ["static.example.com."]
    );
    assert_eq!(
        contents(rrset(&z, "example.com.", "NS").unwrap()),
        ["ns.example.com."]
    );
    assert_eq!(
        rrset(&z, "example.com.", "SOA").unwrap()["records"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The id without its trailing dot, and the rrsets left out on request.
    let (s, z) = call(
        &e.api.app,
        "GET",
        "/api/v1/servers/localhost/zones/example.com?rrsets=false",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(z["id"], "example.com.");
    assert!(z.get("rrsets").is_none());

    let (s, list) = call(&e.api.app, "GET", "/api/v1/servers/localhost/zones", None).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["id"].as_str().unwrap())
        .collect();
    // `*` is not a zone.
    assert_eq!(ids, ["example.com.", "2.0.192.in-addr.arpa."]);
}

#[tokio::test]
async fn bad_content_is_422_and_nothing_changes() {
    let e = start().await;
    for (rtype, content) in [
        ("A", "300.1.2.3"),
        ("AAAA", "192.0.2.1"),
        ("CNAME", "relative-target"),
        ("MX", "mail.example.com."),
        ("SRV", "10 20 target.example.com."),
        ("CAA", "0 issue"),
        ("PTR", "a..b."),
    ] {
        let (s, v) = patch(
            &e,
            json!([
                replace("good.example.com.", "A", 300, &["192.0.2.1"]),
                replace("bad.example.com.", rtype, 300, &[content])
            ]),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{rtype} {content}: {v}"
        );
        let msg = v["error"].as_str().unwrap();
        assert!(
            msg.contains("bad.example.com.") && msg.contains(content),
            "{msg}"
        );
    }
    // Out of zone, unknown type, no TTL, bad changetype, disabled records.
    for bad in [
        replace("www.example.org.", "A", 300, &["192.0.2.1"]),
        replace("www.example.com.", "NOPE", 300, &["x"]),
        json!({ "name": "www.example.com.", "type": "A", "changetype": "REPLACE", "records": [{ "content": "192.0.2.1", "disabled": false }] }),
        json!({ "name": "www.example.com.", "type": "A", "ttl": 1, "changetype": "EXTEND", "records": [] }),
        json!({ "name": "www.example.com.", "type": "A", "ttl": 1, "changetype": "REPLACE", "records": [{ "content": "192.0.2.1", "disabled": true }] }),
    ] {
        let (s, v) = patch(&e, json!([bad])).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["error"].is_string());
    }
    // ALIAS (external-dns's apex CNAME): tern does not resolve, so it cannot serve one.
    let (s, v) = patch(
        &e,
        json!([replace("example.com.", "ALIAS", 300, &["lb.example.net."])]),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("RRset example.com. IN ALIAS: ALIAS records are not supported"),
        "{v}"
    );
    assert!(e.named.dig("good.example.com", "A").is_empty());
    assert!(e.named.dig("www.example.com", "A").is_empty());

    let req = Request::patch(ZONE)
        .header("X-API-Key", API_KEY)
        .header("content-type", "application/json")
        .body(Body::from("{\"rrsets\": ["))
        .unwrap();
    let (s, _, v) = common::send(&e.api.app, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("JSON"), "{v}");
}

#[tokio::test]
async fn cname_beside_other_data_is_409() {
    let e = start().await;
    // A CNAME where an A record is.
    let (s, v) = patch(
        &e,
        json!([replace(
            "static.example.com.",
            "CNAME",
            300,
            &["www.example.com."]
        )]),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // Other data where a CNAME is (BIND's YXRRSET on the prerequisite).
    let (s, v) = patch(
        &e,
        json!([replace("alias.example.com.", "TXT", 300, &["\"x\""])]),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // Both in one request.
    let (s, v) = patch(
        &e,
        json!([
            replace("new.example.com.", "CNAME", 300, &["static.example.com."]),
            replace("new.example.com.", "A", 300, &["192.0.2.5"])
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(e.named.dig("static.example.com", "A"), ["192.0.2.200"]);
    // dig shows the CNAME, no TXT record.
    assert_eq!(
        e.named.dig("alias.example.com", "TXT"),
        ["static.example.com."]
    );
    assert!(e.named.dig("new.example.com", "A").is_empty());

    // Replacing the A by a CNAME in one PATCH is fine.
    let (s, v) = patch(
        &e,
        json!([
            delete("static.example.com.", "A"),
            replace("static.example.com.", "CNAME", 300, &["ns.example.com."])
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        e.named.dig("static.example.com", "CNAME"),
        ["ns.example.com."]
    );
}

#[tokio::test]
async fn unknown_zone_or_server_is_404_and_no_auth_is_401() {
    let e = start().await;
    for uri in [
        "/api/v1/servers/localhost/zones/example.org.",
        "/api/v1/servers/other/zones/example.com.",
        "/api/v1/servers/other",
    ] {
        let (s, v) = call(&e.api.app, "GET", uri, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}");
        assert!(v["error"].is_string(), "{v}");
    }
    let (s, v) = call(
        &e.api.app,
        "PATCH",
        "/api/v1/servers/localhost/zones/example.org.",
        Some(json!({ "rrsets": [replace("www.example.org.", "A", 60, &["192.0.2.1"])] })),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["error"], "Could not find domain 'example.org.'");

    let (s, _, v) = common::rest(&e.api.app, "GET", ZONE, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let req = Request::patch(ZONE)
        .header("X-API-Key", "wrong")
        .body(Body::from(
            json!({ "rrsets": [replace("www.example.com.", "A", 60, &["192.0.2.1"])] }).to_string(),
        ))
        .unwrap();
    let (s, _, _) = common::send(&e.api.app, req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(e.named.dig("www.example.com", "A").is_empty());
}

#[tokio::test]
async fn wrong_tsig_secret_is_502_and_nothing_is_applied() {
    let key = bind::key("tern-key.", Algorithm::HmacSha256, 0, 7);
    let wrong = bind::key("tern-key.", Algorithm::HmacSha256, 0, 8);
    let e = start_with(&key, &wrong).await;
    let (s, v) = patch(
        &e,
        json!([replace("www.example.com.", "A", 60, &["192.0.2.1"])]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{v}");
    let msg = v["error"].as_str().unwrap();
    assert!(msg.contains("rejected tern's TSIG key"), "{msg}");
    assert!(e.named.dig("www.example.com", "A").is_empty());
    let (s, v) = call(&e.api.app, "GET", ZONE, None).await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{v}");
}

#[tokio::test]
async fn unreachable_server_is_504_or_502() {
    let mut e = start().await;
    e.named.stop();
    let (s, v) = patch(
        &e,
        json!([replace("www.example.com.", "A", 60, &["192.0.2.1"])]),
    )
    .await;
    assert!(
        s == StatusCode::GATEWAY_TIMEOUT || s == StatusCode::BAD_GATEWAY,
        "{s} {v}"
    );
    assert!(v["error"].as_str().unwrap().contains("127.0.0.1"), "{v}");
}

#[tokio::test]
async fn reverse_zone_ptr() {
    let e = start().await;
    let (s, v) = call(
        &e.api.app,
        "PATCH",
        "/api/v1/servers/localhost/zones/2.0.192.in-addr.arpa.",
        Some(json!({ "rrsets": [replace("10.2.0.192.in-addr.arpa.", "PTR", 300, &["host.example.com."])] })),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(e.named.dig("-x", "192.0.2.10"), ["host.example.com."]);
}

#[tokio::test]
async fn zones_held_elsewhere_are_not_created_or_deleted_new_ones_are_tern_s_own() {
    let e = start().await;
    let zones = "/api/v1/servers/localhost/zones";
    let (s, v) = call(
        &e.api.app,
        "POST",
        zones,
        Some(json!({ "name": "example.com.", "kind": "Native", "nameservers": [] })),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "Domain 'example.com.' already exists");
    // Any other zone is created on tern's own zone server (in the store).
    let (s, v) = call(
        &e.api.app,
        "POST",
        zones,
        Some(
            json!({ "name": "New.Example", "kind": "master", "nameservers": ["ns1.new.example."] }),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["name"], "new.example.", "{v}");
    assert_eq!(v["kind"], "Master", "PowerDNS's spelling: {v}");
    assert_eq!(v["rrsets"][0]["type"], "SOA", "{v}");
    assert_eq!(
        v["rrsets"][1]["records"][0]["content"], "ns1.new.example.",
        "{v}"
    );
    let (s, v) = call(
        &e.api.app,
        "DELETE",
        "/api/v1/servers/localhost/zones/new.example.",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, v) = call(&e.api.app, "DELETE", ZONE, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(e.named.dig("static.example.com", "A"), ["192.0.2.200"]);
}

/// lego's pdns provider (providers/dns/pdns): API version from `GET /api`, the zone, then a
/// REPLACE of the `_acme-challenge` TXT RRset with the existing values plus the new one,
/// and a DELETE at cleanup.
#[tokio::test]
async fn lego_pdns_provider() {
    let e = start().await;
    let (s, v) = call(&e.api.app, "GET", "/api", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!([{ "url": "/api/v1", "version": 1 }]));
    let (s, zone) = call(&e.api.app, "GET", ZONE, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(rrset(&zone, "_acme-challenge.example.com.", "TXT").is_none());
    let url = zone["url"].as_str().unwrap().to_owned();
    assert_eq!(url, ZONE);

    let body = json!({ "rrsets": [{
        "name": "_acme-challenge.example.com.", "type": "TXT", "ttl": 120, "changetype": "REPLACE",
        "records": [{ "content": "\"LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM\"", "disabled": false }]
    }] });
    let (s, v) = call(&e.api.app, "PATCH", &url, Some(body)).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        e.named.dig("_acme-challenge.example.com", "TXT"),
        ["\"LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM\""]
    );
    let (s, _) = call(&e.api.app, "PUT", &format!("{url}/notify"), None).await;
    assert_eq!(s, StatusCode::OK);

    let body = json!({ "rrsets": [{
        "name": "_acme-challenge.example.com.", "type": "TXT", "changetype": "DELETE", "records": []
    }] });
    let (s, _) = call(&e.api.app, "PATCH", &url, Some(body)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(e.named.dig("_acme-challenge.example.com", "TXT").is_empty());
}

/// octodns' PowerDnsProvider (octodns_powerdns): the server's version (parsed as
/// `major.minor.patch` before anything else), the zone, one PATCH with its REPLACEs and
/// DELETEs, and the contents read back in the form it compares with.
#[tokio::test]
async fn octodns_powerdns_provider() {
    let e = start().await;
    let (s, server) = call(&e.api.app, "GET", "/api/v1/servers/localhost", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(server["daemon_type"], "authoritative");
    // octodns: [int(p.split('-')[0]) for p in version.split('.')[:3]]
    let version: Vec<u32> = server["version"]
        .as_str()
        .unwrap()
        .split('.')
        .take(3)
        .map(|p| p.split('-').next().unwrap().parse().unwrap())
        .collect();
    assert!(version >= vec![4, 1, 0], "{server}");

    let (s, _) = call(&e.api.app, "GET", ZONE, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = patch(
        &e,
        json!([
            replace(
                "example.com.",
                "MX",
                300,
                &["10 mx1.example.net.", "20 mx2.example.net."]
            ),
            replace(
                "example.com.",
                "TXT",
                300,
                &["\"v=spf1 -all\"", "\"say \\\"hi\\\"\""]
            ),
            replace(
                "_sip._tcp.example.com.",
                "SRV",
                600,
                &["10 20 5060 sip.example.net."]
            ),
            replace(
                "example.com.",
                "CAA",
                3600,
                &["0 issue \"letsencrypt.org\""]
            ),
            replace("v6.example.com.", "AAAA", 300, &["2001:db8::1"]),
            delete("static.example.com.", "A")
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}\n{}", e.named.log());
    assert_eq!(
        e.named.dig("example.com", "MX"),
        ["10 mx1.example.net.", "20 mx2.example.net."]
    );
    assert_eq!(
        e.named.dig("_sip._tcp.example.com", "SRV"),
        ["10 20 5060 sip.example.net."]
    );
    assert_eq!(e.named.dig("v6.example.com", "AAAA"), ["2001:db8::1"]);
    assert!(e.named.dig("static.example.com", "A").is_empty());

    let (_, zone) = call(&e.api.app, "GET", ZONE, None).await;
    assert_eq!(
        contents(rrset(&zone, "example.com.", "MX").unwrap()),
        ["10 mx1.example.net.", "20 mx2.example.net."]
    );
    assert_eq!(
        contents(rrset(&zone, "example.com.", "TXT").unwrap()),
        ["\"say \\\"hi\\\"\"", "\"v=spf1 -all\""]
    );
    assert_eq!(
        rrset(&zone, "_sip._tcp.example.com.", "SRV").unwrap()["ttl"],
        600
    );
    assert_eq!(
        contents(rrset(&zone, "example.com.", "CAA").unwrap()),
        ["0 issue \"letsencrypt.org\""]
    );
}

/// external-dns' pdns provider (go-powerdns client): the zone list, each zone with its
/// rrsets, then one PATCH creating the record and its registry TXT record, and one
/// deleting both.
#[tokio::test]
async fn external_dns_pdns_provider() {
    let e = start().await;
    let (s, list) = call(&e.api.app, "GET", "/api/v1/servers/localhost/zones", None).await;
    assert_eq!(s, StatusCode::OK);
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["name"], "example.com.");
    let zone_url = format!("/api/v1/servers/localhost/zones/{id}");
    let (s, _) = call(&e.api.app, "GET", &zone_url, None).await;
    assert_eq!(s, StatusCode::OK);

    let owner = "\"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/default/web\"";
    let body = json!({ "rrsets": [
        { "name": "web.example.com.", "type": "A", "ttl": 300, "changetype": "REPLACE",
          "records": [{ "content": "192.0.2.80", "disabled": false, "set-ptr": false }] },
        { "name": "a-web.example.com.", "type": "TXT", "ttl": 300, "changetype": "REPLACE",
          "records": [{ "content": owner, "disabled": false, "set-ptr": false }] }
    ] });
    let (s, v) = call(&e.api.app, "PATCH", &zone_url, Some(body)).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(e.named.dig("web.example.com", "A"), ["192.0.2.80"]);
    assert_eq!(e.named.dig("a-web.example.com", "TXT"), [owner]);

    let body = json!({ "rrsets": [
        { "name": "web.example.com.", "type": "A", "ttl": 300, "changetype": "DELETE",
          "records": [{ "content": "192.0.2.80", "disabled": false, "set-ptr": false }] },
        { "name": "a-web.example.com.", "type": "TXT", "ttl": 300, "changetype": "DELETE",
          "records": [{ "content": owner, "disabled": false, "set-ptr": false }] }
    ] });
    let (s, v) = call(&e.api.app, "PATCH", &zone_url, Some(body)).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert!(e.named.dig("web.example.com", "A").is_empty());
    assert!(e.named.dig("a-web.example.com", "TXT").is_empty());
}

/// A zone too large for one message: BIND sends the transfer in many TSIG-signed messages,
/// each verified against the previous one's MAC (RFC 8945 §5.3.1).
#[tokio::test]
async fn a_large_zone_comes_in_many_signed_messages() {
    let records: String = std::iter::once("ns IN A 127.0.0.1\n".to_owned())
        .chain((0..3000).map(|i| format!("host-{i} IN A 10.0.{}.{}\n", i / 250, i % 250)))
        .collect();
    let mut specs = zones();
    specs[0].records = Box::leak(records.into_boxed_str());
    let key = bind::key("tern-key.", Algorithm::HmacSha512, 256, 9);
    let e = start_zones(&specs, &key, &key).await;
    let (s, z) = call(&e.api.app, "GET", ZONE, None).await;
    assert_eq!(s, StatusCode::OK, "{z}");
    // SOA, NS, ns and 3000 hosts.
    assert_eq!(z["rrsets"].as_array().unwrap().len(), 3003);
    assert_eq!(
        contents(rrset(&z, "host-2999.example.com.", "A").unwrap()),
        ["10.0.11.249"]
    );
    let log = e.named.log();
    let line = log.lines().find(|l| l.contains("AXFR ended")).unwrap();
    assert!(!line.contains(" 1 messages"), "{line}");
}

/// The apex NS RRset cannot be deleted whole in an UPDATE (RFC 2136 §3.4.2.4): REPLACE
/// still replaces it, DELETE is refused.
#[tokio::test]
async fn apex_ns_is_replaced_not_deleted() {
    let e = start().await;
    let (s, v) = patch(
        &e,
        json!([replace(
            "example.com.",
            "NS",
            300,
            &["ns.example.com.", "ns2.example.net."]
        )]),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        e.named.dig("example.com", "NS"),
        ["ns.example.com.", "ns2.example.net."]
    );
    let (s, v) = patch(
        &e,
        json!([replace("example.com.", "NS", 300, &["ns2.example.net."])]),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(e.named.dig("example.com", "NS"), ["ns2.example.net."]);
    let (s, v) = patch(&e, json!([delete("example.com.", "NS")])).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(e.named.dig("example.com", "NS"), ["ns2.example.net."]);
}

/// A PATCH of about 50 KB (200 RRsets) goes out as one UPDATE (over TCP); one that
/// cannot fit in a DNS message is refused whole.
#[tokio::test]
async fn a_large_patch_is_one_update() {
    let e = start().await;
    let text = format!("\"{}\"", "x".repeat(190));
    let rrsets = |n: usize, prefix: &str| -> Value {
        (0..n)
            .map(|i| replace(&format!("{prefix}{i}.example.com."), "TXT", 300, &[&text]))
            .collect()
    };
    let (s, v) = patch(&e, rrsets(200, "big")).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        e.named.dig("big199.example.com", "TXT"),
        std::slice::from_ref(&text)
    );
    let (_, z) = call(&e.api.app, "GET", ZONE, None).await;
    let big = z["rrsets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"].as_str().unwrap().starts_with("big"))
        .count();
    assert_eq!(big, 200);

    let (s, v) = patch(&e, rrsets(400, "huge")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"].as_str().unwrap().contains("64 KB"), "{v}");
    assert!(e.named.dig("huge0.example.com", "TXT").is_empty());
}

/// The same over a real socket with curl, as lego would send it: `tern serve`'s API server
/// built from the configuration's `Api` section.
#[tokio::test]
async fn lego_over_http_with_curl() {
    let key = bind::key("tern-key.", Algorithm::HmacSha256, 0, 7);
    let named = Named::start(&zones(), std::slice::from_ref(&key));
    let config = config(&named, &key);
    let mut api = tern_config::parse_str(&config.to_string(), "t.json")
        .unwrap()
        .api
        .unwrap();
    api.port = 0;
    let db = tern_store::testing::fresh_db().await;
    let ctx = tern_api::ApiContext::new(
        db.store().clone(),
        "/nonexistent/tern.json".into(),
        config,
        "0.1.0-test",
    );
    let server = tern_api::ApiServer::start(&api, ctx).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let curl = move |method: &str, path: &str, body: Option<Value>, key: bool| {
        let mut cmd = std::process::Command::new("curl");
        cmd.args([
            "-sS",
            "--max-time",
            "10",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "-X",
            method,
        ]);
        if key {
            cmd.args(["-H", &format!("X-API-Key: {API_KEY}")]);
        }
        if let Some(b) = body {
            cmd.args(["-H", "Content-Type: application/json", "-d", &b.to_string()]);
        }
        let out = cmd.arg(format!("{base}{path}")).output().expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.to_owned(), body.to_owned())
    };
    let (code, body) = tokio::task::spawn_blocking({
        let curl = curl.clone();
        move || curl("GET", "/api", None, true)
    })
    .await
    .unwrap();
    assert_eq!(
        (code.as_str(), body.as_str()),
        ("200", r#"[{"url":"/api/v1","version":1}]"#)
    );
    let patch =
        json!({ "rrsets": [replace("_acme-challenge.example.com.", "TXT", 120, &["\"token\""])] });
    let (code, body) = tokio::task::spawn_blocking({
        let (curl, patch) = (curl.clone(), patch.clone());
        move || curl("PATCH", ZONE, Some(patch), false)
    })
    .await
    .unwrap();
    assert_eq!(code, "401", "{body}");
    let (code, body) = tokio::task::spawn_blocking(move || curl("PATCH", ZONE, Some(patch), true))
        .await
        .unwrap();
    assert_eq!(code, "204", "{body}");
    assert_eq!(
        named.dig("_acme-challenge.example.com", "TXT"),
        ["\"token\""]
    );
    server.shutdown().await;
}

/// What a tool writes is what it reads back: punycode names and TXT strings with escapes
/// and spaces come back as sent (a tool like octodns would otherwise see a change on every
/// run).
#[tokio::test]
async fn written_content_reads_back_the_same() {
    let e = start().await;
    let idn = "xn--bcher-kva.example.com.";
    let txt = r#""v=spf1 -all" "a\"b\\c" "tab\009end""#;
    let (s, v) = patch(
        &e,
        json!([
            replace(idn, "CNAME", 300, &["xn--caf-dma.example.com."]),
            replace(
                "mail.example.com.",
                "MX",
                300,
                &["10 xn--caf-dma.example.net."]
            ),
            replace("txt.example.com.", "TXT", 300, &[txt]),
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // BIND holds the octets: a tab, a quote and a backslash.
    assert_eq!(
        e.named.dig("txt.example.com", "TXT"),
        [r#""v=spf1 -all" "a\"b\\c" "tab\009end""#]
    );
    let (s, z) = call(&e.api.app, "GET", ZONE, None).await;
    assert_eq!(s, StatusCode::OK, "{z}");
    let set = rrset(&z, idn, "CNAME").unwrap_or_else(|| panic!("no {idn} in {z}"));
    assert_eq!(contents(set), ["xn--caf-dma.example.com."]);
    assert_eq!(
        contents(rrset(&z, "mail.example.com.", "MX").unwrap()),
        ["10 xn--caf-dma.example.net."]
    );
    assert_eq!(
        contents(rrset(&z, "txt.example.com.", "TXT").unwrap()),
        [txt]
    );
}
