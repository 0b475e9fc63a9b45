//! ISC's own client, kea-shell (Debian package kea-ctrl-agent), against tern's API over a
//! real socket: existing Kea tooling keeps working.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use tern_api::{ApiContext, ApiServer};
use tern_store::testing::fresh_db;

fn find_kea_shell() -> Option<String> {
    ["/usr/sbin/kea-shell", "/usr/bin/kea-shell"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

/// Runs kea-shell with `args`, feeding `stdin` (the command's arguments); returns its output.
async fn kea_shell(path: String, args: Vec<String>, stdin: String) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(&path)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kea-shell runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn kea_shell_drives_the_command_channel() {
    let Some(shell) = find_kea_shell() else {
        tern_testkit::peer_missing(
            "kea_shell_drives_the_command_channel",
            "kea-shell is not installed (apt-get install kea-ctrl-agent)",
        );
        return;
    };
    let db = fresh_db().await;
    let config = json!({"Dhcp4": {"subnet4": [{"id": 2, "subnet": "192.0.2.0/24"}]}});
    let ctx = ApiContext::new(
        db.store().clone(),
        "/nonexistent/tern.json".into(),
        config,
        "0.1.0-test",
    );
    let text = r#"{ "Api": { "ip-address": "127.0.0.1", "port": 8000,
        "authentication": { "type": "basic", "realm": "kea", "clients": [ { "user": "admin", "password": "kea-dhcp" } ] } } }"#;
    let mut api = tern_config::parse_str(text, "t.json").unwrap().api.unwrap();
    api.port = 0;
    let server = ApiServer::start(&api, ctx).await.unwrap();
    let port = server.local_addr().port().to_string();
    let base = |cmd: &str| -> Vec<String> {
        [
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--service",
            "dhcp4",
            "--auth-user",
            "admin",
            "--auth-password",
            "kea-dhcp",
            cmd,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };

    let (ok, out) = kea_shell(
        shell.clone(),
        base("lease4-add"),
        r#""ip-address": "192.0.2.1", "hw-address": "1a:1b:1c:1d:1e:1f", "subnet-id": 2"#.into(),
    )
    .await;
    assert!(ok, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        v,
        json!([{"result": 0, "text": "Lease for address 192.0.2.1, subnet-id 2 added."}])
    );

    let (ok, out) = kea_shell(shell.clone(), base("lease4-get-all"), String::new()).await;
    assert!(ok, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v[0]["text"], "1 IPv4 lease(s) found.");
    assert_eq!(
        v[0]["arguments"]["leases"][0]["hw-address"],
        "1a:1b:1c:1d:1e:1f"
    );

    // Wrong password: kea-shell reports the failure.
    let mut bad = base("list-commands");
    let i = bad.iter().position(|a| a == "kea-dhcp").unwrap();
    bad[i] = "wrong".into();
    let (_, out) = kea_shell(shell, bad, String::new()).await;
    assert!(out.contains("401") || out.contains("Unauthorized"), "{out}");

    server.shutdown().await;
}
