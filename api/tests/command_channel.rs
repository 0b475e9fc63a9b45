//! Kea's command channel against a real database: the seed's curl commands and Kea's answers.

mod common;

use axum::http::StatusCode;
use common::{command, env, one};
use serde_json::json;

/// The hosts columns the seed's tooling reads.
type HostColumns = (
    Vec<u8>,
    i16,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

#[tokio::test]
async fn seed_lease4_add_answers_as_kea() {
    let e = env().await;
    let a = one(&e.app, json!({"command": "lease4-add", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.1", "hw-address": "1a:1b:1c:1d:1e:1f", "subnet-id": 2}})).await;
    assert_eq!(
        a,
        json!({"result": 0, "text": "Lease for address 192.0.2.1, subnet-id 2 added."})
    );

    // The row is in Kea's lease4 table, as Kea stores it.
    let (addr, hw, lft, subnet, state): (i64, Vec<u8>, i64, i64, i64) =
        sqlx::query_as("SELECT address, hwaddr, valid_lifetime, subnet_id, state FROM lease4")
            .fetch_one(e.db.pool())
            .await
            .unwrap();
    assert_eq!(addr, 3221225985); // 192.0.2.1
    assert_eq!(hw, vec![0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f]);
    assert_eq!(lft, 3600, "the subnet's valid-lifetime");
    assert_eq!((subnet, state), (2, 0));

    // Without subnet-id (the seed's Listing 7), the subnet is found from the address.
    let a = one(&e.app, json!({ "command": "lease4-add", "arguments":{"ip-address":"172.21.5.154", "hw-address": "52:54:00:8a:17:9f"}, "service": [ "dhcp4" ] })).await;
    assert_eq!(
        a["text"],
        "Lease for address 172.21.5.154, subnet-id 1 added."
    );

    // The same address again is refused.
    let a = one(&e.app, json!({"command": "lease4-add", "arguments": {"ip-address": "192.0.2.1", "hw-address": "02:02:02:02:02:02"}})).await;
    assert_eq!(a["result"], 1, "{a}");
    assert_eq!(a["text"], "IPv4 lease already exists.");

    // An address outside the subnet named, or an unknown subnet, is an error naming it.
    let a = one(&e.app, json!({"command": "lease4-add", "arguments": {"ip-address": "10.9.9.9", "hw-address": "02:02:02:02:02:02", "subnet-id": 2}})).await;
    assert_eq!(a["result"], 1);
    assert!(
        a["text"]
            .as_str()
            .unwrap()
            .contains("does not belong to subnet 192.0.2.0/24"),
        "{a}"
    );
    let a = one(&e.app, json!({"command": "lease4-add", "arguments": {"ip-address": "192.0.2.9", "hw-address": "02:02:02:02:02:02", "subnet-id": 77}})).await;
    assert_eq!(a["result"], 1);
    assert!(
        a["text"]
            .as_str()
            .unwrap()
            .contains("No IPv4 subnet with subnet-id=77"),
        "{a}"
    );
    let a = one(
        &e.app,
        json!({"command": "lease4-add", "arguments": {"ip-address": "192.0.2.9"}}),
    )
    .await;
    assert_eq!(a["result"], 1);
    assert!(a["text"].as_str().unwrap().contains("hw-address"), "{a}");
}

#[tokio::test]
async fn lease4_get_all_get_page_get_by_and_del() {
    let e = env().await;
    let empty = one(
        &e.app,
        json!({"command": "lease4-get-all", "service": ["dhcp4"]}),
    )
    .await;
    assert_eq!(
        empty,
        json!({"result": 3, "text": "0 IPv4 lease(s) found.", "arguments": {"leases": []}})
    );

    for (ip, hw, host) in [
        ("192.0.2.1", "1a:1b:1c:1d:1e:1f", "one.example.org"),
        ("192.0.2.2", "1a:1b:1c:1d:1e:20", "two.example.org"),
        ("172.21.5.100", "00:14:3d:20:05:5b", "Three.example.org"),
    ] {
        let a = one(&e.app, json!({"command": "lease4-add", "arguments": {"ip-address": ip, "hw-address": hw, "hostname": host, "client-id": "01:02:03", "fqdn-fwd": true, "expire": 2000003600_i64, "valid-lft": 3600}})).await;
        assert_eq!(a["result"], 0, "{a}");
    }
    let all = one(
        &e.app,
        json!({"command": "lease4-get-all", "service": ["dhcp4"]}),
    )
    .await;
    assert_eq!(all["result"], 0);
    assert_eq!(all["text"], "3 IPv4 lease(s) found.");
    let leases = all["arguments"]["leases"].as_array().unwrap();
    assert_eq!(leases.len(), 3);
    assert_eq!(leases[0]["ip-address"], "172.21.5.100");
    let sub2 = one(
        &e.app,
        json!({"command": "lease4-get-all", "arguments": {"subnets": [2]}}),
    )
    .await;
    assert_eq!(sub2["text"], "2 IPv4 lease(s) found.");

    let got = one(
        &e.app,
        json!({"command": "lease4-get", "arguments": {"ip-address": "192.0.2.1"}}),
    )
    .await;
    assert_eq!(got["result"], 0);
    assert_eq!(got["text"], "IPv4 lease found.");
    let l = &got["arguments"];
    assert_eq!(l["hw-address"], "1a:1b:1c:1d:1e:1f");
    assert_eq!(l["client-id"], "01:02:03");
    assert_eq!(l["valid-lft"], 3600);
    assert_eq!(l["cltt"], 2000000000_i64, "cltt = expire - valid-lft");
    assert_eq!(l["subnet-id"], 2);
    assert_eq!(l["fqdn-fwd"], true);
    assert_eq!(l["fqdn-rev"], false);
    assert_eq!(l["hostname"], "one.example.org");
    assert_eq!(l["state"], 0);

    let by_id = one(&e.app, json!({"command": "lease4-get", "arguments": {"identifier-type": "hw-address", "identifier": "1a:1b:1c:1d:1e:20", "subnet-id": 2}})).await;
    assert_eq!(by_id["arguments"]["ip-address"], "192.0.2.2");
    let none = one(
        &e.app,
        json!({"command": "lease4-get", "arguments": {"ip-address": "192.0.2.99"}}),
    )
    .await;
    assert_eq!(none, json!({"result": 3, "text": "Lease not found."}));

    let page = one(
        &e.app,
        json!({"command": "lease4-get-page", "arguments": {"from": "start", "limit": 2}}),
    )
    .await;
    assert_eq!(page["arguments"]["count"], 2);
    assert_eq!(page["arguments"]["leases"][1]["ip-address"], "192.0.2.1");
    let page2 = one(
        &e.app,
        json!({"command": "lease4-get-page", "arguments": {"from": "192.0.2.1", "limit": 2}}),
    )
    .await;
    assert_eq!(page2["text"], "1 IPv4 lease(s) found.");
    assert_eq!(page2["arguments"]["leases"][0]["ip-address"], "192.0.2.2");
    let page3 = one(
        &e.app,
        json!({"command": "lease4-get-page", "arguments": {"from": "192.0.2.2", "limit": 2}}),
    )
    .await;
    assert_eq!(page3["result"], 3);

    let hw = one(&e.app, json!({"command": "lease4-get-by-hw-address", "arguments": {"hw-address": "00:14:3d:20:05:5b"}})).await;
    assert_eq!(hw["text"], "1 IPv4 lease(s) found.");
    let host = one(&e.app, json!({"command": "lease4-get-by-hostname", "arguments": {"hostname": "three.EXAMPLE.org"}})).await;
    assert_eq!(host["arguments"]["leases"][0]["ip-address"], "172.21.5.100");
    let cid = one(
        &e.app,
        json!({"command": "lease4-get-by-client-id", "arguments": {"client-id": "01:02:03"}}),
    )
    .await;
    assert_eq!(cid["text"], "3 IPv4 lease(s) found.");

    let upd = one(&e.app, json!({"command": "lease4-update", "arguments": {"ip-address": "192.0.2.2", "hw-address": "1a:1b:1c:1d:1e:20", "hostname": "renamed.example.org"}})).await;
    assert_eq!(upd, json!({"result": 0, "text": "IPv4 lease updated."}));
    let upd = one(&e.app, json!({"command": "lease4-update", "arguments": {"ip-address": "192.0.2.77", "hw-address": "1a:1b:1c:1d:1e:20"}})).await;
    assert_eq!(upd["result"], 1);
    // force-create makes the missing lease.
    let upd = one(&e.app, json!({"command": "lease4-update", "arguments": {"ip-address": "192.0.2.77", "hw-address": "1a:1b:1c:1d:1e:21", "force-create": true}})).await;
    assert_eq!(upd, json!({"result": 0, "text": "IPv4 lease updated."}));
    let created: i64 = sqlx::query_scalar("SELECT count(*) FROM lease4 WHERE address = 3221226061")
        .fetch_one(e.db.pool())
        .await
        .unwrap();
    assert_eq!(created, 1);
    let gone = one(
        &e.app,
        json!({"command": "lease4-del", "arguments": {"ip-address": "192.0.2.77"}}),
    )
    .await;
    assert_eq!(gone["result"], 0, "{gone}");

    let del = one(&e.app, json!({"command": "lease4-del", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.1", "subnet-id": 2}})).await;
    assert_eq!(del, json!({"result": 0, "text": "IPv4 lease deleted."}));
    let del = one(
        &e.app,
        json!({"command": "lease4-del", "arguments": {"ip-address": "192.0.2.1"}}),
    )
    .await;
    assert_eq!(del, json!({"result": 3, "text": "IPv4 lease not found."}));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM lease4")
        .fetch_one(e.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 2);

    let wipe = one(
        &e.app,
        json!({"command": "lease4-wipe", "arguments": {"subnet-id": 2}}),
    )
    .await;
    assert_eq!(
        wipe,
        json!({"result": 0, "text": "Deleted 1 IPv4 lease(s) from subnet(s) 2"})
    );
    let wipe = one(
        &e.app,
        json!({"command": "lease4-wipe", "arguments": {"subnet-id": 2}}),
    )
    .await;
    assert_eq!(wipe["result"], 3);
}

#[tokio::test]
async fn unknown_command_bad_body_and_services() {
    let e = env().await;
    let a = one(&e.app, json!({"command": "foo-bar", "service": ["dhcp4"]})).await;
    assert_eq!(
        a,
        json!({"result": 2, "text": "'foo-bar' command not supported."})
    );
    // Each service has its own family's commands.
    let a = one(
        &e.app,
        json!({"command": "lease6-get-all", "service": ["dhcp4"]}),
    )
    .await;
    assert_eq!(
        a,
        json!({"result": 2, "text": "'lease6-get-all' command not supported."})
    );
    let a = one(
        &e.app,
        json!({"command": "lease4-get-all", "service": ["d2"]}),
    )
    .await;
    assert_eq!(a["result"], 2);

    // One answer per service named.
    let (s, v) = command(
        &e.app,
        json!({"command": "version-get", "service": ["dhcp4", "dhcp6"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["result"], 0);
    assert_eq!(v[0]["text"], "0.1.0-test");

    let a = one(&e.app, json!({"arguments": {}})).await;
    assert_eq!(a["result"], 1);
    assert!(a["text"].as_str().unwrap().contains("command"), "{a}");

    // Not JSON: 400 with a message saying so, never 500.
    let req = axum::http::Request::post("/")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{ \"command\": \"list-commands\", "))
        .unwrap();
    let (s, _, v) = common::send(&e.app, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["result"], 400);
    assert!(
        v["text"].as_str().unwrap().contains("not valid JSON"),
        "{v}"
    );
    let req = axum::http::Request::post("/")
        .body(axum::body::Body::from("[1, 2]"))
        .unwrap();
    let (s, _, _) = common::send(&e.app, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Bad argument types are result 1 naming the parameter.
    let a = one(
        &e.app,
        json!({"command": "lease4-get", "arguments": {"ip-address": 5}}),
    )
    .await;
    assert_eq!(a["result"], 1);
    assert!(a["text"].as_str().unwrap().contains("'ip-address'"), "{a}");
}

#[tokio::test]
async fn management_commands() {
    let e = env().await;
    let list = one(
        &e.app,
        json!({ "command": "list-commands", "service": [ "dhcp4" ] }),
    )
    .await;
    assert_eq!(list["result"], 0);
    let cmds: Vec<&str> = list["arguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in [
        "lease4-add",
        "lease4-get-all",
        "reservation-add",
        "config-get",
        "statistic-get-all",
        "status-get",
    ] {
        assert!(cmds.contains(&c), "{c} missing from {cmds:?}");
    }
    // Every command listed is answered (none is "not supported").
    for c in &cmds {
        if *c == "shutdown" {
            continue;
        }
        let a = one(&e.app, json!({"command": c, "arguments": {}})).await;
        assert_ne!(a["result"], 2, "{c}: {a}");
    }

    let cfg = one(&e.app, json!({ "command": "config-get" })).await;
    assert_eq!(cfg["result"], 0);
    let mut args = cfg["arguments"].clone();
    let hash = args.as_object_mut().unwrap().remove("hash").unwrap();
    assert_eq!(hash.as_str().unwrap().len(), 64);
    assert_eq!(args, common::config_json());
    let h = one(&e.app, json!({ "command": "config-hash-get" })).await;
    assert_eq!(h["arguments"]["hash"], hash);

    let status = one(&e.app, json!({ "command": "status-get" })).await;
    assert_eq!(status["arguments"]["pid"], std::process::id());
    assert_eq!(status["arguments"]["multi-threading-enabled"], false);

    let ok = one(&e.app, json!({"command": "config-test", "arguments": {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24"}]}}})).await;
    assert_eq!(ok["result"], 0, "{ok}");
    let bad = one(
        &e.app,
        json!({"command": "config-test", "arguments": {"Dhcp4": {"no-such-keyword": 1}}}),
    )
    .await;
    assert_eq!(bad["result"], 1, "{bad}");
    assert!(
        bad["text"].as_str().unwrap().contains("no-such-keyword"),
        "{bad}"
    );

    let w = one(
        &e.app,
        json!({"command": "config-write", "arguments": {"filename": "tern-new.json"}}),
    )
    .await;
    let path = e.dir.path().join("tern-new.json");
    let path_s = path
        .canonicalize()
        .unwrap_or(path.clone())
        .display()
        .to_string();
    assert_eq!(w["result"], 0, "{w}");
    assert_eq!(
        w["text"],
        format!("Configuration written to {} successful", path.display())
    );
    let _ = path_s;
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(written, common::config_json());
    assert_eq!(
        w["arguments"]["size"],
        std::fs::metadata(&path).unwrap().len()
    );
    let w = one(
        &e.app,
        json!({"command": "config-write", "arguments": {"filename": "/tmp/elsewhere.json"}}),
    )
    .await;
    assert_eq!(w["result"], 1, "outside the config directory: {w}");

    let hb = one(
        &e.app,
        json!({"command": "ha-heartbeat", "service": ["dhcp4"]}),
    )
    .await;
    assert_eq!(
        hb,
        json!({"result": 2, "text": "'ha-heartbeat' command not supported."})
    );

    let sd = one(&e.app, json!({"command": "shutdown"})).await;
    assert_eq!(sd["result"], 0);
}

#[tokio::test]
async fn statistics_from_the_stats_source() {
    let e = env().await;
    e.stats.set("pkt4-received", 125);
    e.stats.set("subnet[1].assigned-addresses", 3);
    let all = one(
        &e.app,
        json!({"command": "statistic-get-all", "arguments": {}}),
    )
    .await;
    assert_eq!(all["result"], 0);
    assert_eq!(all["arguments"]["pkt4-received"][0][0], 125);
    assert!(all["arguments"]["pkt4-received"][0][1].is_string());
    let one_stat = one(
        &e.app,
        json!({"command": "statistic-get", "arguments": {"name": "subnet[1].assigned-addresses"}}),
    )
    .await;
    assert_eq!(
        one_stat["arguments"]["subnet[1].assigned-addresses"][0][0],
        3
    );
    let missing = one(
        &e.app,
        json!({"command": "statistic-get", "arguments": {"name": "nope"}}),
    )
    .await;
    assert_eq!(missing, json!({"result": 0, "arguments": {}}));
    let r = one(
        &e.app,
        json!({"command": "statistic-reset", "arguments": {"name": "pkt4-received"}}),
    )
    .await;
    assert_eq!(
        r,
        json!({"result": 0, "text": "Statistic 'pkt4-received' reset."})
    );
    let again = one(
        &e.app,
        json!({"command": "statistic-get", "arguments": {"name": "pkt4-received"}}),
    )
    .await;
    assert_eq!(again["arguments"]["pkt4-received"][0][0], 0);
    let r = one(
        &e.app,
        json!({"command": "statistic-reset", "arguments": {"name": "nope"}}),
    )
    .await;
    assert_eq!(r["result"], 1);
    let r = one(
        &e.app,
        json!({"command": "statistic-reset-all", "arguments": {}}),
    )
    .await;
    assert_eq!(r["text"], "All statistics reset to neutral values.");
}

#[tokio::test]
async fn reservations_land_in_kea_hosts_table() {
    let e = env().await;
    let a = one(&e.app, json!({"command": "reservation-add", "service": ["dhcp4"], "arguments": {"reservation": {
        "subnet-id": 1, "hw-address": "08:00:27:f2:5c:e2", "ip-address": "172.21.5.154",
        "hostname": "srv-infrastructure-jenkins-master-01", "client-classes": ["a", "b"],
        "next-server": "172.21.5.1", "boot-file-name": "pxelinux.0", "user-context": {"owner": "ci"}
    }}})).await;
    assert_eq!(a, json!({"result": 0, "text": "Host added."}));

    // The row as the seed's `select * from hosts` shows it.
    let row: HostColumns = sqlx::query_as(
        "SELECT dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id, dhcp6_subnet_id, ipv4_address, hostname, \
         dhcp4_client_classes, dhcp4_next_server, dhcp4_boot_file_name, user_context FROM hosts",
    )
    .fetch_one(e.db.pool())
    .await
    .unwrap();
    assert_eq!(row.0, vec![0x08, 0x00, 0x27, 0xf2, 0x5c, 0xe2]);
    assert_eq!(row.1, 0);
    assert_eq!(row.2, Some(1));
    assert_eq!(row.3, None);
    assert_eq!(row.4, Some(2887058842));
    assert_eq!(
        row.5.as_deref(),
        Some("srv-infrastructure-jenkins-master-01")
    );
    assert_eq!(row.6.as_deref(), Some("a,b"));
    assert_eq!(row.7, Some(2887058689));
    assert_eq!(row.8.as_deref(), Some("pxelinux.0"));
    assert_eq!(row.9.as_deref(), Some(r#"{"owner":"ci"}"#));

    // A row written by plain SQL (the seed's tooling) is seen by the API.
    sqlx::query("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, ipv4_address, hostname, dhcp4_subnet_id) VALUES (decode('080027dcf271','hex'), 0, 2887058853, 'srv-infrastructure-redis-master-01', 1)")
        .execute(e.db.pool())
        .await
        .unwrap();

    let got = one(&e.app, json!({"command": "reservation-get", "arguments": {"subnet-id": 1, "identifier-type": "hw-address", "identifier": "08:00:27:f2:5c:e2"}})).await;
    assert_eq!(got["text"], "Host found.");
    assert_eq!(
        got["arguments"],
        json!({
            "hw-address": "08:00:27:f2:5c:e2", "subnet-id": 1, "ip-address": "172.21.5.154",
            "hostname": "srv-infrastructure-jenkins-master-01", "client-classes": ["a", "b"],
            "next-server": "172.21.5.1", "server-hostname": "", "boot-file-name": "pxelinux.0",
            "option-data": [], "user-context": {"owner": "ci"}
        })
    );
    let by_ip = one(&e.app, json!({"command": "reservation-get", "arguments": {"subnet-id": 1, "ip-address": "172.21.5.165"}})).await;
    assert_eq!(
        by_ip["arguments"]["hostname"],
        "srv-infrastructure-redis-master-01"
    );
    let all = one(
        &e.app,
        json!({"command": "reservation-get-all", "arguments": {"subnet-id": 1}}),
    )
    .await;
    assert_eq!(all["text"], "2 IPv4 host(s) found.");
    let page = one(
        &e.app,
        json!({"command": "reservation-get-page", "arguments": {"subnet-id": 1, "limit": 1}}),
    )
    .await;
    assert_eq!(page["arguments"]["count"], 1);
    let from = page["arguments"]["next"]["from"].clone();
    let page2 = one(&e.app, json!({"command": "reservation-get-page", "arguments": {"subnet-id": 1, "limit": 1, "from": from}})).await;
    assert_eq!(
        page2["arguments"]["hosts"][0]["hostname"],
        "srv-infrastructure-redis-master-01"
    );
    let by_name = one(&e.app, json!({"command": "reservation-get-by-hostname", "arguments": {"hostname": "SRV-infrastructure-redis-master-01"}})).await;
    assert_eq!(by_name["text"], "1 IPv4 host(s) found.");
    let by_id = one(&e.app, json!({"command": "reservation-get-by-id", "arguments": {"identifier-type": "hw-address", "identifier": "080027dcf271"}})).await;
    assert_eq!(by_id["text"], "1 host(s) found.");

    // The same identifier in the same subnet, or the same address: refused, nothing written.
    let dup = one(&e.app, json!({"command": "reservation-add", "arguments": {"reservation": {"subnet-id": 1, "hw-address": "08:00:27:f2:5c:e2", "ip-address": "172.21.5.200"}}})).await;
    assert_eq!(dup["result"], 1, "{dup}");
    let dup = one(&e.app, json!({"command": "reservation-add", "arguments": {"reservation": {"subnet-id": 1, "hw-address": "08:00:27:00:00:01", "ip-address": "172.21.5.154"}}})).await;
    assert_eq!(dup["result"], 1, "{dup}");
    let bad = one(&e.app, json!({"command": "reservation-add", "arguments": {"reservation": {"subnet-id": 1, "ip-address": "172.21.5.9"}}})).await;
    assert_eq!(bad["result"], 1);
    assert!(
        bad["text"].as_str().unwrap().contains("identifier"),
        "{bad}"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM hosts")
        .fetch_one(e.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 2);

    let upd = one(&e.app, json!({"command": "reservation-update", "arguments": {"reservation": {"subnet-id": 1, "hw-address": "08:00:27:f2:5c:e2", "ip-address": "172.21.5.155", "hostname": "jenkins"}}})).await;
    assert_eq!(upd, json!({"result": 0, "text": "Host updated."}));

    let del = one(&e.app, json!({"command": "reservation-del", "arguments": {"subnet-id": 1, "ip-address": "172.21.5.155"}})).await;
    assert_eq!(del, json!({"result": 0, "text": "Host deleted."}));
    let del = one(&e.app, json!({"command": "reservation-del", "arguments": {"subnet-id": 1, "identifier-type": "hw-address", "identifier": "08:00:27:f2:5c:e2"}})).await;
    assert_eq!(
        del,
        json!({"result": 3, "text": "Host not deleted (not found)."})
    );
    let none = one(&e.app, json!({"command": "reservation-get", "arguments": {"subnet-id": 1, "ip-address": "172.21.5.155"}})).await;
    assert_eq!(none, json!({"result": 3, "text": "Host not found."}));
}

#[tokio::test]
async fn lease6_commands() {
    let e = env().await;
    let a = one(&e.app, json!({"command": "lease6-add", "service": ["dhcp6"], "arguments": {"subnet-id": 66, "ip-address": "2001:db8::3", "duid": "1a:1b:1c:1d:1e:1f:20:21:22:23:24", "iaid": 1234, "hostname": "v6.example.org", "valid-lft": 4000, "preferred-lft": 3000, "expire": 2000004000_i64}})).await;
    assert_eq!(
        a,
        json!({"result": 0, "text": "Lease for address 2001:db8::3, subnet-id 66 added."})
    );
    let a = one(&e.app, json!({"command": "lease6-add", "arguments": {"subnet-id": 66, "type": "IA_PD", "ip-address": "2001:db8:1::", "prefix-len": 48, "duid": "01:02:03", "iaid": 1}})).await;
    assert_eq!(
        a["text"],
        "Lease for prefix 2001:db8:1::/48, subnet-id 66 added."
    );
    let dup = one(&e.app, json!({"command": "lease6-add", "arguments": {"subnet-id": 66, "ip-address": "2001:db8::3", "duid": "01:02:03", "iaid": 1}})).await;
    assert_eq!(dup["result"], 1, "{dup}");
    let bad = one(&e.app, json!({"command": "lease6-add", "arguments": {"subnet-id": 66, "ip-address": "192.0.2.1", "duid": "01:02:03", "iaid": 1}})).await;
    assert_eq!(bad["result"], 1);
    assert!(
        bad["text"].as_str().unwrap().contains("'ip-address'"),
        "{bad}"
    );

    let got = one(
        &e.app,
        json!({"command": "lease6-get", "arguments": {"ip-address": "2001:db8::3"}}),
    )
    .await;
    assert_eq!(got["text"], "IPv6 lease found.");
    let l = &got["arguments"];
    assert_eq!(l["duid"], "1a:1b:1c:1d:1e:1f:20:21:22:23:24");
    assert_eq!(l["iaid"], 1234);
    assert_eq!(l["type"], "IA_NA");
    assert_eq!(l["prefix-len"], 128);
    assert_eq!(l["valid-lft"], 4000);
    assert_eq!(l["preferred-lft"], 3000);
    assert_eq!(l["cltt"], 2000000000_i64);
    assert_eq!(l["subnet-id"], 66);
    let by_id = one(&e.app, json!({"command": "lease6-get", "arguments": {"identifier-type": "duid", "identifier": "01:02:03", "iaid": 1, "subnet-id": 66, "type": "IA_PD"}})).await;
    assert_eq!(by_id["arguments"]["ip-address"], "2001:db8:1::");
    assert_eq!(by_id["arguments"]["prefix-len"], 48);

    let all = one(
        &e.app,
        json!({"command": "lease6-get-all", "arguments": {"subnets": [66]}}),
    )
    .await;
    assert_eq!(all["text"], "2 IPv6 lease(s) found.");
    let page = one(
        &e.app,
        json!({"command": "lease6-get-page", "arguments": {"from": "start", "limit": 1}}),
    )
    .await;
    assert_eq!(page["arguments"]["leases"][0]["ip-address"], "2001:db8::3");
    let page2 = one(
        &e.app,
        json!({"command": "lease6-get-page", "arguments": {"from": "2001:db8::3", "limit": 1}}),
    )
    .await;
    assert_eq!(
        page2["arguments"]["leases"][0]["ip-address"],
        "2001:db8:1::"
    );
    let by_duid = one(
        &e.app,
        json!({"command": "lease6-get-by-duid", "arguments": {"duid": "01:02:03"}}),
    )
    .await;
    assert_eq!(by_duid["text"], "1 IPv6 lease(s) found.");
    let by_host = one(
        &e.app,
        json!({"command": "lease6-get-by-hostname", "arguments": {"hostname": "V6.example.org"}}),
    )
    .await;
    assert_eq!(by_host["text"], "1 IPv6 lease(s) found.");

    let upd = one(&e.app, json!({"command": "lease6-update", "arguments": {"subnet-id": 66, "ip-address": "2001:db8::3", "duid": "01:02:03", "iaid": 7, "hostname": "new.example.org"}})).await;
    assert_eq!(upd, json!({"result": 0, "text": "IPv6 lease updated."}));

    let del = one(
        &e.app,
        json!({"command": "lease6-del", "arguments": {"ip-address": "2001:db8::3"}}),
    )
    .await;
    assert_eq!(del, json!({"result": 0, "text": "IPv6 lease deleted."}));
    let del = one(
        &e.app,
        json!({"command": "lease6-del", "arguments": {"ip-address": "2001:db8::3"}}),
    )
    .await;
    assert_eq!(del, json!({"result": 3, "text": "IPv6 lease not found."}));
    let wipe = one(
        &e.app,
        json!({"command": "lease6-wipe", "arguments": {"subnet-id": 66}}),
    )
    .await;
    assert_eq!(
        wipe,
        json!({"result": 0, "text": "Deleted 1 IPv6 lease(s) from subnet(s) 66"})
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM lease6")
        .fetch_one(e.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn dhcp6_reservations() {
    let e = env().await;
    let a = one(
        &e.app,
        json!({"command": "reservation-add", "service": ["dhcp6"], "arguments": {"reservation": {
            "subnet-id": 66, "duid": "01:02:03:04:05:06:07:08:09:0a",
            "ip-addresses": ["2001:db8:1::cafe:babe"], "prefixes": ["2001:db8:2:abcd::/64"],
            "hostname": "foo.example.com", "client-classes": ["gold"]
        }}}),
    )
    .await;
    assert_eq!(a, json!({"result": 0, "text": "Host added."}));
    let rows: Vec<(String, i16, i16)> = sqlx::query_as(
        "SELECT host(r.address), r.prefix_len, r.type FROM ipv6_reservations r JOIN hosts h USING (host_id) \
         WHERE h.dhcp6_subnet_id = 66 AND h.dhcp4_subnet_id IS NULL AND h.dhcp_identifier_type = 1 ORDER BY r.type",
    )
    .fetch_all(e.db.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("2001:db8:1::cafe:babe".into(), 128, 0),
            ("2001:db8:2:abcd::".into(), 64, 2)
        ]
    );

    let got = one(&e.app, json!({"command": "reservation-get", "service": ["dhcp6"], "arguments": {"subnet-id": 66, "identifier-type": "duid", "identifier": "01:02:03:04:05:06:07:08:09:0a"}})).await;
    assert_eq!(got["text"], "Host found.");
    assert_eq!(
        got["arguments"]["ip-addresses"],
        json!(["2001:db8:1::cafe:babe"])
    );
    assert_eq!(
        got["arguments"]["prefixes"],
        json!(["2001:db8:2:abcd::/64"])
    );
    assert_eq!(got["arguments"]["client-classes"], json!(["gold"]));
    let by_ip = one(&e.app, json!({"command": "reservation-get", "service": ["dhcp6"], "arguments": {"subnet-id": 66, "ip-address": "2001:db8:1::cafe:babe"}})).await;
    assert_eq!(by_ip["arguments"]["hostname"], "foo.example.com");
    // The IPv4 side does not see it.
    let v4 = one(&e.app, json!({"command": "reservation-get-all", "service": ["dhcp4"], "arguments": {"subnet-id": 66}})).await;
    assert_eq!(v4["result"], 3);
    let all = one(&e.app, json!({"command": "reservation-get-all", "service": ["dhcp6"], "arguments": {"subnet-id": 66}})).await;
    assert_eq!(all["text"], "1 IPv6 host(s) found.");

    // The same address for another host in the subnet: refused.
    let dup = one(
        &e.app,
        json!({"command": "reservation-add", "service": ["dhcp6"], "arguments": {"reservation": {
        "subnet-id": 66, "duid": "0a:0b", "ip-addresses": ["2001:db8:1::cafe:babe"]}}}),
    )
    .await;
    assert_eq!(dup["result"], 1, "{dup}");
    let bad = one(
        &e.app,
        json!({"command": "reservation-add", "service": ["dhcp6"], "arguments": {"reservation": {
        "subnet-id": 66, "duid": "0a:0b", "prefixes": ["2001:db8::"]}}}),
    )
    .await;
    assert_eq!(bad["result"], 1);
    assert!(
        bad["text"].as_str().unwrap().contains("'prefixes'"),
        "{bad}"
    );

    let del = one(&e.app, json!({"command": "reservation-del", "service": ["dhcp6"], "arguments": {"subnet-id": 66, "ip-address": "2001:db8:1::cafe:babe"}})).await;
    assert_eq!(del, json!({"result": 0, "text": "Host deleted."}));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ipv6_reservations")
        .fetch_one(e.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn ha_heartbeat_with_the_ha_hook_configured() {
    let db = tern_store::testing::fresh_db().await;
    let config = json!({"Dhcp4": {"hooks-libraries": [{
        "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so",
        "parameters": {"high-availability": [{"this-server-name": "server1", "mode": "hot-standby", "peers": []}]}
    }]}});
    let ctx = tern_api::ApiContext::new(db.store().clone(), "/tmp/x.json".into(), config, "0.1.0");
    let app = tern_api::app(tern_api::AppState::new(ctx, tern_api::Auth::open()));
    let hb = one(
        &app,
        json!({"command": "ha-heartbeat", "service": ["dhcp4"]}),
    )
    .await;
    assert_eq!(hb["result"], 0, "{hb}");
    assert_eq!(hb["arguments"]["state"], "hot-standby");
    let list = one(&app, json!({"command": "list-commands"})).await;
    assert!(list["arguments"]
        .as_array()
        .unwrap()
        .contains(&json!("ha-heartbeat")));
}

/// config-set and config-reload as the command channel answers them, with a stand-in for
/// the appliance that applies a config-set and refuses a reload.
#[tokio::test]
async fn config_set_and_reload_answer_as_kea() {
    let db = tern_store::testing::fresh_db().await;
    let mut ctx = tern_api::ApiContext::new(
        db.store().clone(),
        "/tmp/x.json".into(),
        common::config_json(),
        "0.1.0",
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<tern_api::ReconfigureRequest>(1);
    ctx.reconfigure = Some(tx);
    let running = ctx.running.clone();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Some(r) = rx.recv().await {
            let outcome = match r.what {
                tern_api::Reconfigure::Set(m) => {
                    log.lock()
                        .unwrap()
                        .push(m.keys().cloned().collect::<Vec<_>>());
                    let mut json = running.get().json.clone();
                    json.as_object_mut().unwrap().extend(m);
                    let sections = tern_api::Sections::validate(&json);
                    running.set(json, sections);
                    Ok(())
                }
                tern_api::Reconfigure::Reload => Err("cannot read /tmp/x.json".to_string()),
                tern_api::Reconfigure::Shutdown => Ok(()),
            };
            r.reply.send(outcome).unwrap();
        }
    });
    let app = tern_api::app(tern_api::AppState::new(ctx, tern_api::Auth::open()));
    let list = one(&app, json!({"command": "list-commands"})).await;
    let cmds = list["arguments"].as_array().unwrap();
    assert!(cmds.contains(&json!("config-set")), "{list}");
    assert!(cmds.contains(&json!("config-reload")), "{list}");

    let before = one(&app, json!({"command": "config-get"})).await;
    let dhcp4 = json!({ "valid-lifetime": 60, "subnet4": [] });
    // config-get's answer can be sent back as it is: its hash is ignored.
    let a = one(
        &app,
        json!({"command": "config-set", "service": ["dhcp4"],
               "arguments": {"Dhcp4": dhcp4, "hash": before["arguments"]["hash"]}}),
    )
    .await;
    assert_eq!(a["result"], 0, "{a}");
    assert_eq!(a["text"], "Configuration successful.", "{a}");
    let after = one(&app, json!({"command": "config-get"})).await;
    assert_eq!(after["arguments"]["Dhcp4"], dhcp4, "{after}");
    assert_eq!(a["arguments"]["hash"], after["arguments"]["hash"], "{a}");
    assert_ne!(after["arguments"]["hash"], before["arguments"]["hash"]);
    assert_eq!(*seen.lock().unwrap(), vec![vec!["Dhcp4".to_string()]]);

    for (body, text) in [
        (
            json!({"command": "config-set", "service": ["dhcp4"]}),
            "Missing mandatory 'arguments' parameter.",
        ),
        (
            json!({"command": "config-set", "service": ["d2"], "arguments": {"Dhcp4": {}}}),
            "Missing mandatory 'DhcpDdns' parameter.",
        ),
        (
            json!({"command": "config-set", "service": ["dhcp4"], "arguments": {"Dhcp4": []}}),
            "'Dhcp4' parameter expected to be a map.",
        ),
        (
            json!({"command": "config-set", "service": ["dhcp4"], "arguments": {"Dhcp4": {}, "Dns": {}, "Api": {}}}),
            "Unsupported 'Dns' parameter (and 'Api').",
        ),
        (
            json!({"command": "config-set", "arguments": {}}),
            "Missing configuration: give the sections to replace (Dhcp4, DhcpDdns, ...).",
        ),
        (
            json!({"command": "config-reload"}),
            "Config reload failed: cannot read /tmp/x.json",
        ),
    ] {
        let a = one(&app, body.clone()).await;
        assert_eq!(a["result"], 1, "{body}: {a}");
        assert_eq!(a["text"], text, "{body}: {a}");
    }
    // None of the refused ones reached the appliance.
    assert_eq!(seen.lock().unwrap().len(), 1);

    // The PowerDNS API serves the zones of the configuration running now.
    let zones = || async {
        let (s, _, v) = common::rest(&app, "GET", "/api/v1/servers/localhost/zones", None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v.as_array()
            .unwrap()
            .iter()
            .map(|z| z["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(zones().await.is_empty());
    let ddns = json!({ "forward-ddns": { "ddns-domains": [ { "name": "example.org.",
        "dns-servers": [ { "ip-address": "127.0.0.1", "port": 5399 } ] } ] } });
    let a = one(
        &app,
        json!({"command": "config-set", "arguments": {"DhcpDdns": ddns}}),
    )
    .await;
    assert_eq!(a["result"], 0, "{a}");
    assert_eq!(zones().await, ["example.org."]);
}

/// lease4-add and lease6-add without lifetimes take them as Kea does: the subnet's,
/// else its shared network's, else the global value.
#[tokio::test]
async fn lease_add_inherits_lifetimes_through_the_shared_network() {
    let config = json!({
        "Dhcp4": {
            "valid-lifetime": 4000,
            "shared-networks": [{ "name": "net", "valid-lifetime": 900, "subnet4": [
                { "id": 10, "subnet": "10.10.0.0/24" },
                { "id": 11, "subnet": "10.11.0.0/24", "valid-lifetime": 300 }
            ]}],
            "subnet4": [{ "id": 12, "subnet": "10.12.0.0/24" }]
        },
        "Dhcp6": {
            "valid-lifetime": 5000, "preferred-lifetime": 2500,
            "shared-networks": [{ "name": "net6", "valid-lifetime": 1800, "preferred-lifetime": 1200,
                "subnet6": [{ "id": 60, "subnet": "2001:db8:60::/64" }] }]
        }
    });
    let e = common::env_with_config(tern_api::Auth::open(), config).await;
    for (ip, expected) in [("10.10.0.5", 900), ("10.11.0.5", 300), ("10.12.0.5", 4000)] {
        let a = one(&e.app, json!({"command": "lease4-add", "arguments": {"ip-address": ip, "hw-address": "1a:1b:1c:1d:1e:1f"}})).await;
        assert_eq!(a["result"], 0, "{a}");
        let l = one(
            &e.app,
            json!({"command": "lease4-get", "arguments": {"ip-address": ip}}),
        )
        .await;
        assert_eq!(l["arguments"]["valid-lft"], expected, "{ip}: {l}");
    }
    let a = one(&e.app, json!({"command": "lease6-add", "service": ["dhcp6"], "arguments": {"ip-address": "2001:db8:60::5", "duid": "01:02:03:04", "iaid": 7}})).await;
    assert_eq!(a["result"], 0, "{a}");
    let l = one(&e.app, json!({"command": "lease6-get", "service": ["dhcp6"], "arguments": {"ip-address": "2001:db8:60::5"}})).await;
    assert_eq!(l["arguments"]["valid-lft"], 1800, "{l}");
    assert_eq!(l["arguments"]["preferred-lft"], 1200, "{l}");
}
