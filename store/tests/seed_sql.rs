//! SQL that Kea users' tooling runs against Kea's tables (from a published guide
//! to Kea with PostgreSQL and its reservation script) works on tern's store.

use std::net::Ipv4Addr;
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use tern_store::testing;

/// The guide's lease listing: IPv4 addresses rebuilt from lease4's bigint.
const LEASE_REPORT: &str = "SELECT
((address >> 24) & 255) || '.' ||
((address >> 16) & 255) || '.' ||
((address >> 8) & 255) || '.' ||
(address & 255) AS ip_address,
upper(encode(hwaddr, 'hex')) AS mac_address,
valid_lifetime,
expire,
subnet_id,
fqdn_fwd,
fqdn_rev,
hostname,
state
FROM lease4";

const LIST_LEASES: &str = "SELECT address, hwaddr, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, hostname, state FROM lease4 ORDER BY address";
const LIST_RESERVATIONS: &str = "SELECT dhcp_identifier, ipv4_address, hostname, dhcp4_subnet_id FROM hosts WHERE dhcp4_subnet_id IS NOT NULL ORDER BY ipv4_address";
const ADD_RESERVATION: &str = "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, ipv4_address, hostname, dhcp4_subnet_id) VALUES (decode('080027f25ce2','hex'), 0, 2887058842, 'srv-jenkins-01', 1);";
const DELETE_RESERVATION: &str =
    "DELETE FROM hosts WHERE dhcp_identifier = decode('080027f25ce2','hex');";

/// (address, MAC, hostname, minute:second of expiry) from the guide's output.
const LEASES: &[(&str, &str, &str, (u32, u32))] = &[
    (
        "172.21.5.103",
        "080027932F14",
        "srv-infrastructure-postgresql-master-01.devops-db.local",
        (46, 15),
    ),
    (
        "172.21.5.165",
        "080027DCF271",
        "srv-infrastructure-redis-master-01.devops-db.local",
        (47, 53),
    ),
    (
        "172.21.5.154",
        "080027F25CE2",
        "srv-infrastructure-jenkins-master-01.devops-db.local",
        (49, 23),
    ),
    (
        "172.21.5.101",
        "080027251076",
        "srv-infrastructure-gitlab-master-01.devops-db.local",
        (50, 14),
    ),
    (
        "172.21.5.100",
        "00143D20055B",
        "ptaj3vq0kt4x3.devops-db.local",
        (50, 36),
    ),
    (
        "172.21.5.102",
        "080027B08456",
        "srv-infrastructure-ldap-master-01.devops-db.local",
        (52, 29),
    ),
];

fn expire((minute, second): (u32, u32)) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 8, 8, minute, second).unwrap()
}

fn mac_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

async fn insert_leases(pool: &sqlx::PgPool) {
    for (ip, mac, hostname, exp) in LEASES {
        let address = u32::from(ip.parse::<Ipv4Addr>().unwrap()) as i64;
        sqlx::query(
            "INSERT INTO lease4 (address, hwaddr, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, hostname, state)
             VALUES ($1, $2, 3600, $3, 1, true, true, $4, 0)",
        )
        .bind(address)
        .bind(mac_bytes(mac))
        .bind(expire(*exp))
        .bind(hostname)
        .execute(pool)
        .await
        .unwrap();
    }
}

type LeaseRow = (
    i64,
    Vec<u8>,
    i64,
    DateTime<Utc>,
    i64,
    bool,
    bool,
    String,
    i64,
);
type ReservationRow = (Vec<u8>, Option<i64>, Option<String>, Option<i64>);
type ReportRow = (
    String,
    String,
    i64,
    DateTime<Utc>,
    i64,
    bool,
    bool,
    String,
    i64,
);

#[tokio::test]
async fn lease_report_with_dotted_quads() {
    let db = testing::fresh_db().await;
    insert_leases(db.pool()).await;

    let mut rows: Vec<ReportRow> = sqlx::query_as(LEASE_REPORT)
        .fetch_all(db.pool())
        .await
        .unwrap();
    rows.sort_by_key(|r| r.3);
    let expected: Vec<ReportRow> = LEASES
        .iter()
        .map(|(ip, mac, host, exp)| {
            (
                ip.to_string(),
                mac.to_string(),
                3600,
                expire(*exp),
                1,
                true,
                true,
                host.to_string(),
                0,
            )
        })
        .collect();
    assert_eq!(rows, expected);

    let listed: Vec<LeaseRow> = sqlx::query_as(LIST_LEASES)
        .fetch_all(db.pool())
        .await
        .unwrap();
    let addresses: Vec<String> = listed
        .iter()
        .map(|r| Ipv4Addr::from(r.0 as u32).to_string())
        .collect();
    assert_eq!(
        addresses,
        [
            "172.21.5.100",
            "172.21.5.101",
            "172.21.5.102",
            "172.21.5.103",
            "172.21.5.154",
            "172.21.5.165"
        ]
    );
    assert_eq!(listed[0].1, mac_bytes("00143D20055B"));
}

#[tokio::test]
async fn lease_report_through_psql() {
    let Ok(out) = Command::new("psql").arg("--version").output() else {
        tern_testkit::peer_missing(
            "lease_report_through_psql",
            "psql is not installed (apt-get install postgresql-client)",
        );
        return;
    };
    assert!(out.status.success());
    let db = testing::fresh_db().await;
    insert_leases(db.pool()).await;
    let out = Command::new("psql")
        .arg(db.url())
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("{LEASE_REPORT} ORDER BY address"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let first: Vec<&str> = text.lines().next().unwrap().split('|').collect();
    assert_eq!(first[0], "172.21.5.100");
    assert_eq!(first[1], "00143D20055B");
    assert_eq!(text.lines().count(), 6);
}

#[tokio::test]
async fn reservation_script_add_list_delete() {
    let db = testing::fresh_db().await;
    let pool = db.pool();

    sqlx::raw_sql(ADD_RESERVATION).execute(pool).await.unwrap();
    sqlx::query("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, ipv4_address, hostname, dhcp4_subnet_id) VALUES (decode('080027dcf271','hex'), 0, 2887058853, 'srv-infrastructure-redis-master-01', 1)")
        .execute(pool)
        .await
        .unwrap();

    let rows: Vec<ReservationRow> = sqlx::query_as(LIST_RESERVATIONS)
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            (
                mac_bytes("080027f25ce2"),
                Some(2887058842),
                Some("srv-jenkins-01".to_owned()),
                Some(1)
            ),
            (
                mac_bytes("080027dcf271"),
                Some(2887058853),
                Some("srv-infrastructure-redis-master-01".to_owned()),
                Some(1)
            ),
        ]
    );
    assert_eq!(Ipv4Addr::from(2887058842u32).to_string(), "172.21.5.154");

    // The guide's `SELECT * FROM hosts` shows these columns, in this order.
    let star = sqlx::query("SELECT * FROM hosts")
        .fetch_all(pool)
        .await
        .unwrap();
    use sqlx::{Column, Row};
    let names: Vec<&str> = star[0].columns().iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "host_id",
            "dhcp_identifier",
            "dhcp_identifier_type",
            "dhcp4_subnet_id",
            "dhcp6_subnet_id",
            "ipv4_address",
            "hostname",
            "dhcp4_client_classes",
            "dhcp6_client_classes",
            "dhcp4_next_server",
            "dhcp4_server_hostname",
            "dhcp4_boot_file_name",
            "user_context",
            "auth_key",
        ]
    );

    let deleted = sqlx::query(DELETE_RESERVATION).execute(pool).await.unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    let rows: Vec<ReservationRow> = sqlx::query_as(LIST_RESERVATIONS)
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, mac_bytes("080027dcf271"));
}
