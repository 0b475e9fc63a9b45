//! The REST API under /api/v1 against a real database.

mod common;

use axum::http::StatusCode;
use common::{env, one, rest};
use serde_json::json;

#[tokio::test]
async fn reservations_crud() {
    let e = env().await;
    let (s, h, created) = rest(&e.app, "POST", "/api/v1/reservations", Some(json!({
        "subnet-id": 1, "hw-address": "08:00:27:f2:5c:e2", "ip-address": "172.21.5.154", "hostname": "jenkins"
    }))).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(h["location"], format!("/api/v1/reservations/{id}"));
    assert_eq!(created["hw-address"], "08:00:27:f2:5c:e2");

    // What REST wrote, the command channel reads.
    let a = one(&e.app, json!({"command": "reservation-get", "arguments": {"subnet-id": 1, "ip-address": "172.21.5.154"}})).await;
    assert_eq!(a["arguments"]["hostname"], "jenkins");

    let (s, _, got) = rest(&e.app, "GET", &format!("/api/v1/reservations/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got, created);

    // Conflicts: same identifier in the subnet, same address in the subnet.
    let (s, _, v) = rest(
        &e.app,
        "POST",
        "/api/v1/reservations",
        Some(json!({"subnet-id": 1, "hw-address": "08:00:27:f2:5c:e2"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "conflict");
    let (s, _, v) = rest(&e.app, "POST", "/api/v1/reservations", Some(json!({"subnet-id": 1, "hw-address": "08:00:27:00:00:02", "ip-address": "172.21.5.154"}))).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    // Bad input: 400 naming the field.
    let (s, _, v) = rest(
        &e.app,
        "POST",
        "/api/v1/reservations",
        Some(json!({"subnet-id": 1, "hw-address": "zz:zz", "ip-address": "172.21.5.9"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "hw-address");
    let (s, _, v) = rest(
        &e.app,
        "POST",
        "/api/v1/reservations",
        Some(json!({"subnet-id": "one", "hw-address": "08:00:27:00:00:03"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "subnet-id");
    let (s, _, v) = rest(
        &e.app,
        "POST",
        "/api/v1/reservations",
        Some(json!({"subnet-id": 1, "hw-address": "08:00:27:00:00:03", "ip-address": "300.1.1.1"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "ip-address");
    let (s, _, v) = rest(
        &e.app,
        "POST",
        "/api/v1/reservations",
        Some(
            json!({"subnet-id": 1, "hw-address": "08:00:27:00:00:03", "hostname": "x".repeat(300)}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "hostname");
    let req = axum::http::Request::post("/api/v1/reservations")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{\"subnet-id\": 1,"))
        .unwrap();
    let (s, _, v) = common::send(&e.app, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "body");
    assert!(
        v["message"].as_str().unwrap().contains("not valid JSON"),
        "{v}"
    );

    // Update (the GET answer, edited, goes back as is).
    let mut edited = got.clone();
    edited["hostname"] = "jenkins-2".into();
    edited["ip-address"] = "172.21.5.155".into();
    let (s, _, v) = rest(
        &e.app,
        "PUT",
        &format!("/api/v1/reservations/{id}"),
        Some(edited),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["hostname"], "jenkins-2");
    let (s, _, _) = rest(
        &e.app,
        "PUT",
        "/api/v1/reservations/999999",
        Some(json!({"subnet-id": 1, "hw-address": "08:00:27:00:00:09"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Lists and filters.
    for i in 0..5 {
        let (s, _, v) = rest(&e.app, "POST", "/api/v1/reservations", Some(json!({"subnet-id": 2, "hw-address": format!("02:00:00:00:00:{i:02x}"), "ip-address": format!("192.0.2.{}", 10 + i), "hostname": format!("h{i}")}))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (_, _, page) = rest(
        &e.app,
        "GET",
        "/api/v1/reservations?subnet-id=2&limit=3",
        None,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let next = page["next"].as_i64().unwrap();
    let (_, _, page2) = rest(
        &e.app,
        "GET",
        &format!("/api/v1/reservations?subnet-id=2&limit=3&after={next}"),
        None,
    )
    .await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 2);
    assert_eq!(page2["next"], serde_json::Value::Null);
    let (_, _, v) = rest(&e.app, "GET", "/api/v1/reservations?hostname=H3", None).await;
    assert_eq!(v["items"][0]["ip-address"], "192.0.2.13");
    let (_, _, v) = rest(
        &e.app,
        "GET",
        "/api/v1/reservations?ip-address=192.0.2.12",
        None,
    )
    .await;
    assert_eq!(v["items"][0]["hostname"], "h2");
    let (_, _, v) = rest(
        &e.app,
        "GET",
        "/api/v1/reservations?hw-address=02:00:00:00:00:04",
        None,
    )
    .await;
    assert_eq!(v["items"][0]["hostname"], "h4");
    let (_, _, v) = rest(
        &e.app,
        "GET",
        "/api/v1/reservations/by-hw-address/02-00-00-00-00-01",
        None,
    )
    .await;
    assert_eq!(v["items"][0]["hostname"], "h1");
    let (s, _, v) = rest(&e.app, "GET", "/api/v1/reservations?colour=blue", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "colour");
    let (s, _, v) = rest(&e.app, "GET", "/api/v1/reservations?limit=0", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "limit");

    let (s, _, _) = rest(
        &e.app,
        "DELETE",
        &format!("/api/v1/reservations/{id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, v) = rest(&e.app, "GET", &format!("/api/v1/reservations/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "not-found");
    let (s, _, v) = rest(&e.app, "GET", "/api/v1/reservations/abc", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "id");
}

#[tokio::test]
async fn leases_read_and_delete() {
    let e = env().await;
    for i in 1..=5 {
        let a = one(&e.app, json!({"command": "lease4-add", "arguments": {"ip-address": format!("192.0.2.{i}"), "hw-address": format!("1a:1b:1c:1d:1e:{i:02x}"), "hostname": format!("host{i}.example.org")}})).await;
        assert_eq!(a["result"], 0, "{a}");
    }
    let (s, _, v) = rest(&e.app, "GET", "/api/v1/leases?limit=2", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    assert_eq!(v["next"], "192.0.2.2");
    let (_, _, v) = rest(
        &e.app,
        "GET",
        "/api/v1/leases?limit=10&after=192.0.2.2",
        None,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
    assert_eq!(v["next"], serde_json::Value::Null);
    let (_, _, v) = rest(
        &e.app,
        "GET",
        "/api/v1/leases?subnet-id=2&hw-address=1a1b1c1d1e03",
        None,
    )
    .await;
    assert_eq!(v["items"][0]["ip-address"], "192.0.2.3");
    let (s, _, v) = rest(&e.app, "GET", "/api/v1/leases?after=nope", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "after");

    let (s, _, v) = rest(&e.app, "GET", "/api/v1/leases/192.0.2.4", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["hostname"], "host4.example.org");
    assert_eq!(v["valid-lft"], 3600);
    let (_, _, v) = rest(
        &e.app,
        "GET",
        "/api/v1/leases/by-hostname/HOST5.example.org",
        None,
    )
    .await;
    assert_eq!(v["items"][0]["ip-address"], "192.0.2.5");
    let (_, _, v) = rest(
        &e.app,
        "GET",
        "/api/v1/leases/by-hw-address/1a:1b:1c:1d:1e:01",
        None,
    )
    .await;
    assert_eq!(v["items"][0]["ip-address"], "192.0.2.1");

    // Create and replace over REST.
    let (s, h, v) = rest(
        &e.app,
        "POST",
        "/api/v1/leases",
        Some(json!({"ip-address": "192.0.2.50", "hw-address": "02:00:00:00:00:50"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(h["location"], "/api/v1/leases/192.0.2.50");
    assert_eq!(v["subnet-id"], 2);
    let (s, _, v) = rest(
        &e.app,
        "POST",
        "/api/v1/leases",
        Some(json!({"ip-address": "192.0.2.50", "hw-address": "02:00:00:00:00:51"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, _, v) = rest(
        &e.app,
        "POST",
        "/api/v1/leases",
        Some(json!({"ip-address": "10.0.0.1", "hw-address": "02:00:00:00:00:51"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "subnet-id");
    let (s, _, v) = rest(
        &e.app,
        "PUT",
        "/api/v1/leases/192.0.2.50",
        Some(json!({"hw-address": "02:00:00:00:00:50", "hostname": "fifty"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["hostname"], "fifty");
    let (s, _, _) = rest(
        &e.app,
        "PUT",
        "/api/v1/leases/192.0.2.51",
        Some(json!({"hw-address": "02:00:00:00:00:50"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, _, _) = rest(&e.app, "DELETE", "/api/v1/leases/192.0.2.4", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = rest(&e.app, "GET", "/api/v1/leases/192.0.2.4", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = rest(&e.app, "DELETE", "/api/v1/leases/192.0.2.4", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, v) = rest(&e.app, "GET", "/api/v1/leases/not-an-ip", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "ip-address");
}

/// Every route the router serves is in the OpenAPI document, and every path of the
/// document is served: ROUTES is checked against both.
#[tokio::test]
async fn openapi_describes_every_route() {
    let e = env().await;
    let (s, _, doc) = rest(&e.app, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (p, ops) in paths {
        for m in ops.as_object().unwrap().keys() {
            documented.push((m.to_uppercase(), p.clone()));
        }
    }
    let listed: Vec<(String, String)> = tern_api::rest::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    for r in &listed {
        assert!(documented.contains(r), "route {r:?} is not in openapi.json");
    }
    for d in &documented {
        assert!(
            listed.contains(d),
            "openapi.json documents {d:?}, which ROUTES does not list"
        );
    }
    // Each listed route is served (not the router's "no route" fallback, not 405).
    for (m, p) in &listed {
        let uri = p
            .replace("{id}", "1")
            .replace("{ip_address}", "192.0.2.200")
            .replace("{hw_address}", "01:02:03:04:05:06")
            .replace("{client_id}", "01:02")
            .replace("{hostname}", "x.example.org");
        if uri == "/metrics" {
            // Text, not JSON.
            use tower::ServiceExt;
            let req = axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap();
            let resp = e.app.clone().oneshot(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "GET /metrics");
            continue;
        }
        let body = (m == "POST" || m == "PUT").then(|| json!({}));
        let (s, _, v) = rest(&e.app, m, &uri, body).await;
        assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{m} {uri}");
        assert!(
            !(s == StatusCode::NOT_FOUND
                && v["message"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("no route"))),
            "{m} {uri} is not routed"
        );
        assert!(s.as_u16() < 500, "{m} {uri}: {s} {v}");
    }
    let (s, _, v) = rest(&e.app, "GET", "/api/v1/nothing-here", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(v["message"].as_str().unwrap().starts_with("no route"));
}

#[tokio::test]
async fn reservation_options_in_kea_dhcp4_options() {
    let e = env().await;
    let (s, _, created) = rest(
        &e.app,
        "POST",
        "/api/v1/reservations",
        Some(json!({
            "subnet-id": 1, "hw-address": "08:00:27:f2:5c:e2", "ip-address": "172.21.5.154",
            "option-data": [
                { "name": "domain-name-servers", "data": "10.0.0.1, 10.0.0.2" },
                { "code": 66, "data": "tftp.example.org", "always-send": true }
            ]
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    type OptionRow = (i16, Option<String>, Option<String>, bool, i16, i32);
    let rows: Vec<OptionRow> = sqlx::query_as(
        "SELECT code, formatted_value, space, persistent, scope_id, host_id FROM dhcp4_options ORDER BY option_id",
    )
    .fetch_all(e.db.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                6,
                Some("10.0.0.1, 10.0.0.2".into()),
                Some("dhcp4".into()),
                false,
                3,
                id as i32
            ),
            (
                66,
                Some("tftp.example.org".into()),
                Some("dhcp4".into()),
                true,
                3,
                id as i32
            ),
        ]
    );
    let (_, _, got) = rest(&e.app, "GET", &format!("/api/v1/reservations/{id}"), None).await;
    assert_eq!(got["option-data"][0]["name"], "domain-name-servers");
    assert_eq!(got["option-data"][0]["data"], "10.0.0.1, 10.0.0.2");
    assert_eq!(got["option-data"][1]["code"], 66);
    assert_eq!(got["option-data"][1]["always-send"], true);
    assert_eq!(got, created);

    // Replacing the reservation replaces its options; deleting it removes them.
    let mut edited = got.clone();
    edited["option-data"] = json!([{ "code": 3, "data": "172.21.5.1" }]);
    let (s, _, v) = rest(
        &e.app,
        "PUT",
        &format!("/api/v1/reservations/{id}"),
        Some(edited),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["option-data"][0]["name"], "routers");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM dhcp4_options")
        .fetch_one(e.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);

    let (s, _, v) = rest(&e.app, "POST", "/api/v1/reservations", Some(json!({
        "subnet-id": 1, "hw-address": "08:00:27:00:00:01", "option-data": [{ "name": "no-such-option", "data": "x" }]
    }))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "option-data[0]");

    let (s, _, _) = rest(
        &e.app,
        "DELETE",
        &format!("/api/v1/reservations/{id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM dhcp4_options")
        .fetch_one(e.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn metrics_export_the_stats_source() {
    let e = env().await;
    e.stats.set("pkt4-received", 125);
    e.stats.set("subnet[1].assigned-addresses", 3);
    e.stats.set("subnet[1].total-addresses", 12);
    // One DNS removal waiting in the queue, and a 404 to count.
    named_lease(&e, 20, "gone.example.com").await;
    let (s, _, _) = rest(&e.app, "DELETE", "/api/v1/leases/172.21.5.20", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = rest(&e.app, "GET", "/api/v1/leases/172.21.5.99", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let req = axum::http::Request::get("/metrics")
        .body(axum::body::Body::empty())
        .unwrap();
    use tower::ServiceExt;
    let resp = e.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains("tern_pkt4_received 125\n"), "{text}");
    assert!(
        text.contains("tern_subnet_assigned_addresses{subnet=\"1\"} 3\n"),
        "{text}"
    );
    assert!(
        text.contains("tern_subnet_utilization{subnet=\"1\"} 0.25\n"),
        "{text}"
    );
    assert!(
        text.contains("tern_ddns_queue{state=\"pending\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("tern_ddns_queue{state=\"failed\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains("tern_api_requests_total{method=\"DELETE\",code=\"204\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("tern_api_requests_total{method=\"GET\",code=\"404\"} 1\n"),
        "{text}"
    );
}

/// A reservation written over the API is announced to the DHCP engine at once (the
/// `tern_hosts` notification its host watcher listens to).
#[tokio::test]
async fn api_writes_reach_the_host_watcher() {
    let e = env().await;
    let mut watcher = e.db.store().watch_hosts().await.unwrap();
    let (s, _, created) = rest(
        &e.app,
        "POST",
        "/api/v1/reservations",
        Some(json!({
            "subnet-id": 1, "hw-address": "08:00:27:f2:5c:e2", "ip-address": "172.21.5.154"
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), watcher.recv())
        .await
        .expect("no host event within 10 s")
        .expect("watcher ended");
    match event {
        tern_store::HostEvent::Changed(c) => {
            assert_eq!(c.op, tern_store::HostOp::Insert);
            assert_eq!(i64::from(c.host_id), created["id"].as_i64().unwrap());
            assert_eq!(c.identifier, vec![0x08, 0x00, 0x27, 0xf2, 0x5c, 0xe2]);
            assert_eq!(c.dhcp4_subnet_id, Some(1));
        }
        other => panic!("unexpected {other:?}"),
    }
}

async fn named_lease(e: &common::Env, last: u8, name: &str) {
    sqlx::query(
        "INSERT INTO lease4 (address, hwaddr, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, hostname, state) \
         VALUES ($1, '\\x080027aabb01', 4000, now() + interval '1 hour', 1, true, true, $2, 0)",
    )
    .bind(i64::from(u32::from(std::net::Ipv4Addr::new(172, 21, 5, last))))
    .bind(name)
    .execute(e.db.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_deleted_lease_queues_its_dns_removal_and_the_queue_says_why() {
    let e = env().await;
    named_lease(&e, 10, "host1.example.com").await;
    let (s, _, v) = rest(&e.app, "DELETE", "/api/v1/leases/172.21.5.10", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // Asked by name, in any case, with or without the dot.
    let (s, _, page) = rest(
        &e.app,
        "GET",
        "/api/v1/ddns/ncrs?fqdn=HOST1.example.com.",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    let n = &items[0];
    assert_eq!(n["change-type"], "remove");
    assert_eq!(n["source"], "api");
    assert_eq!(n["state"], "pending");
    assert_eq!(n["ip-address"], "172.21.5.10");
    assert_eq!(n["ncr"]["fqdn"], "host1.example.com.");
    assert_eq!(n["ncr"]["forward-change"], true);
    assert_eq!(n["ncr"]["reverse-change"], true);
    assert!(
        n["ncr"]["dhcid"].as_str().is_some_and(|d| !d.is_empty()),
        "{n}"
    );
    let (s, _, one_row) = rest(
        &e.app,
        "GET",
        &format!("/api/v1/ddns/ncrs/{}", n["id"]),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(&one_row, n);
    // By address and state too; other filters find nothing.
    let (_, _, page) = rest(
        &e.app,
        "GET",
        "/api/v1/ddns/ncrs?ip-address=172.21.5.10&state=pending",
        None,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, _, page) = rest(&e.app, "GET", "/api/v1/ddns/ncrs?state=done", None).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    // Bad input names the field; an unknown id is a 404.
    let (s, _, v) = rest(&e.app, "GET", "/api/v1/ddns/ncrs?state=bogus", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "state");
    let (s, _, v) = rest(&e.app, "GET", "/api/v1/ddns/ncrs?ip-address=nope", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "ip-address");
    let (s, _, _) = rest(&e.app, "GET", "/api/v1/ddns/ncrs/999999", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Kea's lease4-del queues the removal only with "update-ddns": true.
    named_lease(&e, 11, "host2.example.com").await;
    named_lease(&e, 12, "host3.example.com").await;
    let a = one(
        &e.app,
        json!({"command": "lease4-del", "arguments": {"ip-address": "172.21.5.11"}}),
    )
    .await;
    assert_eq!(a["result"], 0, "{a}");
    let a = one(&e.app, json!({"command": "lease4-del", "arguments": {"ip-address": "172.21.5.12", "update-ddns": true}})).await;
    assert_eq!(a["result"], 0, "{a}");
    let (_, _, page) = rest(&e.app, "GET", "/api/v1/ddns/ncrs", None).await;
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fqdn"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["host3.example.com.", "host1.example.com."],
        "newest first"
    );
}

/// A deleted lease's removal carries the `ddns-*` parameters in force for its address,
/// inherited as the DHCP engine resolves them: pool, subnet, shared network, global.
#[tokio::test]
async fn a_deleted_leases_removal_takes_its_scopes_ddns_parameters() {
    let config = json!({ "Dhcp4": {
        "ddns-ttl": 100,
        "shared-networks": [{ "name": "net", "ddns-ttl": 200,
            "ddns-conflict-resolution-mode": "no-check-without-dhcid",
            "subnet4": [{ "id": 1, "subnet": "172.21.5.0/24",
                "pools": [{ "pool": "172.21.5.100 - 172.21.5.199", "ddns-ttl": 300 }] }] }],
        "subnet4": [{ "id": 2, "subnet": "192.0.2.0/24" }]
    }});
    let e = common::env_with_config(tern_api::Auth::open(), config).await;
    named_lease(&e, 10, "outside-pool.example.com").await;
    named_lease(&e, 150, "in-pool.example.com").await;
    sqlx::query(
        "INSERT INTO lease4 (address, hwaddr, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, hostname, state) \
         VALUES ($1, '\\x080027aabb02', 4000, now() + interval '1 hour', 2, true, false, 'global.example.com', 0)",
    )
    .bind(i64::from(u32::from(std::net::Ipv4Addr::new(192, 0, 2, 7))))
    .execute(e.db.pool())
    .await
    .unwrap();
    for ip in ["172.21.5.10", "172.21.5.150", "192.0.2.7"] {
        let (s, _, v) = rest(&e.app, "DELETE", &format!("/api/v1/leases/{ip}"), None).await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{ip}: {v}");
    }
    let (_, _, page) = rest(&e.app, "GET", "/api/v1/ddns/ncrs", None).await;
    let got: Vec<(String, i64, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["fqdn"].as_str().unwrap().to_string(),
                i["ncr"]["lease-length"].as_i64().unwrap(),
                i["ncr"]["conflict-resolution-mode"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let row = |n: &str, ttl: i64, mode: &str| (n.to_string(), ttl, mode.to_string());
    assert_eq!(
        got,
        vec![
            row("global.example.com.", 100, "check-with-dhcid"),
            row("in-pool.example.com.", 300, "no-check-without-dhcid"),
            row("outside-pool.example.com.", 200, "no-check-without-dhcid"),
        ],
        "{page}"
    );
}
