//! The real server on a socket: HTTP and HTTPS (rustls) driven with curl, as an operator
//! would (`curl --cacert`, `curl --cert/--key` when client certificates are required).

use std::path::Path;
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedKey, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use serde_json::{json, Value};
use tern_api::{ApiContext, ApiServer};
use tern_store::testing::fresh_db;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Runs curl with `args` plus a version-get command; returns (exit ok, HTTP code, body).
async fn curl(url: String, args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}"])
            .args(["-H", "Content-Type: application/json", "-X", "POST"])
            .args([
                "-d",
                &json!({"command": "version-get", "service": ["dhcp4"]}).to_string(),
            ])
            .args(&args)
            .arg(&url)
            .output()
            .expect("curl must be installed (apt-get install curl)");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
        (out.status.success(), code.to_string(), body.to_string())
    })
    .await
    .unwrap()
}

fn api_config(body: &str) -> tern_config::ApiConfig {
    let text = format!(r#"{{ "Api": {{ "ip-address": "127.0.0.1", "port": 8000 {body} }} }}"#);
    let mut c = tern_config::parse_str(&text, "t.json")
        .unwrap()
        .api
        .unwrap();
    c.port = 0;
    c
}

async fn ctx() -> (tern_store::testing::TestDb, ApiContext) {
    let db = fresh_db().await;
    let ctx = ApiContext::new(
        db.store().clone(),
        "/nonexistent/tern.json".into(),
        json!({}),
        "0.1.0-test",
    );
    (db, ctx)
}

#[tokio::test]
async fn plain_http_with_curl() {
    let (_db, ctx) = ctx().await;
    let server = ApiServer::start(&api_config(""), ctx).await.unwrap();
    let url = format!("http://{}/", server.local_addr());
    let (ok, code, body) = curl(url.clone(), vec![]).await;
    assert!(ok, "{body}");
    assert_eq!(code, "200");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v,
        json!([{"result": 0, "text": "0.1.0-test", "arguments": {"extended": "tern 0.1.0-test (Kea-compatible command channel)"}}])
    );
    server.shutdown().await;
    let (ok, _, _) = curl(url, vec![]).await;
    assert!(!ok, "still answering after shutdown");
}

#[tokio::test]
async fn https_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_file = write(dir.path(), "cert.pem", &cert.pem());
    let key_file = write(dir.path(), "key.pem", &key_pair.serialize_pem());
    let (_db, ctx) = ctx().await;
    let config = api_config(&format!(
        r#", "cert-file": "{cert_file}", "key-file": "{key_file}""#
    ));
    let server = ApiServer::start(&config, ctx).await.unwrap();
    let port = server.local_addr().port();
    let url = format!("https://localhost:{port}/");
    let resolve = vec![
        "--resolve".to_string(),
        format!("localhost:{port}:127.0.0.1"),
    ];

    let mut args = resolve.clone();
    args.extend(["--cacert".to_string(), cert_file.clone()]);
    let (ok, code, body) = curl(url.clone(), args).await;
    assert!(ok, "curl --cacert failed: {body}");
    assert_eq!(code, "200");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["result"], 0);

    // Without the CA, curl refuses the certificate; plain HTTP gets nothing useful.
    let (ok, _, _) = curl(url, resolve).await;
    assert!(!ok, "an unknown certificate was accepted");
    let (ok, code, _) = curl(format!("http://127.0.0.1:{port}/"), vec![]).await;
    assert!(
        !ok || code != "200",
        "plain HTTP answered on the HTTPS port"
    );
    server.shutdown().await;
}

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca() -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "tern test CA");
    let key = KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    Ca { cert, key }
}

fn issue(ca: &Ca, name: &str, usage: ExtendedKeyUsagePurpose) -> (String, String) {
    let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.extended_key_usages = vec![usage];
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn client_certificate_required() {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca();
    let ca_file = write(dir.path(), "ca.pem", &ca.cert.pem());
    let (scert, skey) = issue(&ca, "localhost", ExtendedKeyUsagePurpose::ServerAuth);
    let (ccert, ckey) = issue(&ca, "operator", ExtendedKeyUsagePurpose::ClientAuth);
    let other = self::ca();
    let (ocert, okey) = issue(&other, "intruder", ExtendedKeyUsagePurpose::ClientAuth);
    let cert_file = write(dir.path(), "server.pem", &scert);
    let key_file = write(dir.path(), "server.key", &skey);
    let client_cert = write(dir.path(), "client.pem", &ccert);
    let client_key = write(dir.path(), "client.key", &ckey);
    let other_cert = write(dir.path(), "other.pem", &ocert);
    let other_key = write(dir.path(), "other.key", &okey);

    let (_db, ctx) = ctx().await;
    let config = api_config(&format!(
        r#", "cert-file": "{cert_file}", "key-file": "{key_file}", "trust-anchor": "{ca_file}", "cert-required": true"#
    ));
    assert!(config.tls.as_ref().unwrap().cert_required);
    let server = ApiServer::start(&config, ctx).await.unwrap();
    let port = server.local_addr().port();
    let url = format!("https://localhost:{port}/");
    let base = vec![
        "--resolve".to_string(),
        format!("localhost:{port}:127.0.0.1"),
        "--cacert".to_string(),
        ca_file.clone(),
    ];

    let (ok, code, body) = curl(url.clone(), base.clone()).await;
    assert!(
        !ok || code != "200",
        "answered without a client certificate: {code} {body}"
    );

    let mut with_other = base.clone();
    with_other.extend(["--cert".into(), other_cert, "--key".into(), other_key]);
    let (ok, code, _) = curl(url.clone(), with_other).await;
    assert!(
        !ok || code != "200",
        "accepted a client certificate from another CA"
    );

    let mut with_cert = base;
    with_cert.extend(["--cert".into(), client_cert, "--key".into(), client_key]);
    let (ok, code, body) = curl(url, with_cert).await;
    assert!(ok, "curl with a client certificate failed: {body}");
    assert_eq!(code, "200");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["result"], 0);
    server.shutdown().await;
}

#[tokio::test]
async fn start_fails_clearly_on_missing_files_and_taken_port() {
    let (_db, ctx) = ctx().await;
    let config =
        api_config(r#", "cert-file": "/nonexistent/cert.pem", "key-file": "/nonexistent/key.pem""#);
    let err = ApiServer::start(&config, ctx.clone())
        .await
        .err()
        .expect("must fail");
    assert!(
        format!("{err:#}").contains("/nonexistent/cert.pem"),
        "{err:#}"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = api_config("");
    config.port = taken.local_addr().unwrap().port();
    let err = ApiServer::start(&config, ctx)
        .await
        .err()
        .expect("must fail");
    assert!(format!("{err:#}").contains("cannot listen"), "{err:#}");
}
