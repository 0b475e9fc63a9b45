//! Basic authentication and API keys are enforced on both the command channel and REST.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use common::{env_with, send};
use serde_json::json;
use tern_api::Auth;

fn cmd(auth: Option<(&str, &str)>) -> Request<Body> {
    let mut b = Request::post("/").header("content-type", "application/json");
    if let Some((k, v)) = auth {
        b = b.header(k, v);
    }
    b.body(Body::from(json!({"command": "config-get"}).to_string()))
        .unwrap()
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

#[tokio::test]
async fn basic_auth_and_api_keys_are_enforced() {
    let auth = Auth::basic("kea-dhcp6", &[("admin", "kea-dhcp")])
        .with_key(Some("automation"), "s3cret-key");
    let e = env_with(auth).await;

    // No credentials: Kea's 401 body, exactly, with the challenge.
    let resp_body_raw = {
        use tower::ServiceExt;
        let resp = e.app.clone().oneshot(cmd(None)).await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Basic realm=\"kea-dhcp6\""
        );
        axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap()
    };
    let v: serde_json::Value = serde_json::from_slice(&resp_body_raw).unwrap();
    assert_eq!(v, json!({ "result": 401, "text": "Unauthorized" }));

    let bad = basic("admin", "wrong");
    let (s, _, _) = send(&e.app, cmd(Some(("authorization", &bad)))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = send(&e.app, cmd(Some(("x-api-key", "nope")))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let good = basic("admin", "kea-dhcp");
    let (s, _, v) = send(&e.app, cmd(Some(("authorization", &good)))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v[0]["result"], 0);
    let (s, _, v) = send(&e.app, cmd(Some(("x-api-key", "s3cret-key")))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v[0]["result"], 0);
    let (s, _, _) = send(&e.app, cmd(Some(("authorization", "Bearer s3cret-key")))).await;
    assert_eq!(s, StatusCode::OK);

    // REST: tern's error JSON.
    let (s, h, v) = send(
        &e.app,
        Request::get("/api/v1/leases").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"], "unauthorized");
    assert!(h.contains_key("www-authenticate"));
    let (s, _, _) = send(
        &e.app,
        Request::get("/api/v1/leases")
            .header("x-api-key", "s3cret-key")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn auth_from_the_api_section() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "kea-dhcp\n").unwrap();
    std::fs::write(dir.path().join("key"), "file-key\n").unwrap();
    let text = format!(
        r#"{{ "Api": {{ "authentication": {{ "type": "basic", "realm": "tern", "directory": "{d}",
              "clients": [ {{ "user": "admin", "password-file": "pw" }}, {{ "user": "ro", "password": "x" }} ] }},
              "api-keys": [ {{ "name": "ci", "key-file": "{d}/key" }}, "inline-key" ] }} }}"#,
        d = dir.path().display()
    );
    let config = tern_config::parse_str(&text, "t.json").unwrap();
    let auth = Auth::from_config(config.api.as_ref().unwrap()).unwrap();
    let e = env_with(auth).await;
    for (k, v) in [
        ("authorization", basic("admin", "kea-dhcp")),
        ("authorization", basic("ro", "x")),
        ("x-api-key", "file-key".to_string()),
        ("x-api-key", "inline-key".to_string()),
    ] {
        let (s, _, _) = send(&e.app, cmd(Some((k, &v)))).await;
        assert_eq!(s, StatusCode::OK, "{k}: {v}");
    }
    let (s, _, _) = send(&e.app, cmd(Some(("authorization", &basic("admin", "x"))))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
