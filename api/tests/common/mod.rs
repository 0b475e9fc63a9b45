//! Shared test helpers: a router on a fresh database, and request helpers.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tern_api::{app, ApiContext, AppState, Auth, MemoryStats};
use tern_store::testing::{fresh_db, TestDb};
use tower::ServiceExt;

/// A running configuration with two subnets, as config-get returns it.
pub fn config_json() -> Value {
    json!({
        "Dhcp4": {
            "valid-lifetime": 4000,
            "subnet4": [
                { "id": 1, "subnet": "172.21.5.0/24" },
                { "id": 2, "subnet": "192.0.2.0/24", "valid-lifetime": 3600 }
            ]
        }
    })
}

pub struct Env {
    pub db: TestDb,
    pub app: Router,
    pub stats: Arc<MemoryStats>,
    pub dir: tempfile::TempDir,
}

pub async fn env_with(auth: Auth) -> Env {
    env_with_config(auth, config_json()).await
}

/// A router whose running configuration is `config` (e.g. with a `DhcpDdns` section).
pub async fn env_with_config(auth: Auth, config: Value) -> Env {
    let db = fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let stats = Arc::new(MemoryStats::default());
    let mut ctx = ApiContext::new(
        db.store().clone(),
        dir.path().join("tern.json"),
        config,
        "0.1.0-test",
    );
    ctx.stats = stats.clone();
    let app = app(AppState::new(ctx, auth));
    Env {
        db,
        app,
        stats,
        dir,
    }
}

pub async fn env() -> Env {
    env_with(Auth::open()).await
}

pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })
    };
    (status, headers, v)
}

/// POSTs a command; returns the HTTP status and the answer list.
pub async fn command(app: &Router, body: Value) -> (StatusCode, Value) {
    let req = Request::post("/")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (s, _, v) = send(app, req).await;
    (s, v)
}

/// POSTs a command and returns its single answer, checking HTTP 200 and a one-element list.
pub async fn one(app: &Router, body: Value) -> Value {
    let (s, v) = command(app, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let list = v.as_array().unwrap_or_else(|| panic!("not a list: {v}"));
    assert_eq!(list.len(), 1, "{v}");
    list[0].clone()
}

pub async fn rest(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    rest_with_headers(app, method, uri, &[], body).await
}

/// [`rest`] with extra request headers (e.g. `X-API-Key`).
pub async fn rest_with_headers(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = match body {
        Some(v) => b
            .header("content-type", "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    send(app, req).await
}
