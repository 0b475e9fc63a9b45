//! `tern host …` and `tern lease …` over the REST resources `/api/v1/reservations` and
//! `/api/v1/leases`.

use std::net::Ipv4Addr;

use anyhow::bail;
use clap::{ArgGroup, Subcommand};
use hyper::Method;
use serde_json::{json, Value};

use super::http::{encode, query, Client};
use super::table::Table;
use super::table::{s, text, Out};

#[derive(Subcommand, Debug)]
pub enum HostAction {
    /// Reserve an address for a MAC address.
    Add {
        /// Hardware address, e.g. 08:00:27:f2:5c:e2.
        #[arg(long, visible_alias = "hw-address")]
        mac: String,
        /// The address to hand out.
        #[arg(long, visible_alias = "ip-address")]
        ip: Ipv4Addr,
        /// Host name given to the client (and used for its DNS name).
        #[arg(long, visible_alias = "name")]
        hostname: Option<String>,
        /// Subnet id [default: the configured subnet holding --ip].
        #[arg(long, visible_alias = "subnet-id")]
        subnet: Option<u32>,
    },
    /// List reservations (all pages), optionally filtered.
    #[command(visible_alias = "ls")]
    List {
        #[command(flatten)]
        filter: Filter,
    },
    /// Delete every reservation matching the given id or filters.
    #[command(visible_alias = "rm", group(ArgGroup::new("which").required(true).multiple(true).args(["id", "mac", "hostname", "ip", "client_id"])))]
    Del {
        /// Reservation id (as `host list` shows).
        #[arg(long)]
        id: Option<u32>,
        #[command(flatten)]
        filter: Filter,
    },
}

/// Filters shared by `host list`, `host del` and `lease list`.
#[derive(clap::Args, Debug, Default)]
pub struct Filter {
    /// Only this subnet id.
    #[arg(long, visible_alias = "subnet-id")]
    subnet: Option<u32>,
    /// Only this hardware address.
    #[arg(long, visible_alias = "hw-address")]
    mac: Option<String>,
    /// Only this client identifier (hex).
    #[arg(long)]
    client_id: Option<String>,
    /// Only this host name (case-insensitive).
    #[arg(long, visible_alias = "name")]
    hostname: Option<String>,
    /// Only this address.
    #[arg(long, visible_alias = "ip-address")]
    ip: Option<Ipv4Addr>,
}

impl Filter {
    fn query(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("subnet-id", self.subnet.map(|v| v.to_string())),
            ("hw-address", self.mac.clone()),
            ("client-id", self.client_id.clone()),
            ("hostname", self.hostname.clone()),
            ("ip-address", self.ip.map(|v| v.to_string())),
        ]
    }
}

#[derive(Subcommand, Debug)]
pub enum LeaseAction {
    /// List leases (all pages), optionally filtered.
    #[command(visible_alias = "ls")]
    List {
        #[command(flatten)]
        filter: Filter,
        /// Only this state: default, declined, expired-reclaimed, released, registered (or 0-4).
        #[arg(long, value_parser = parse_state)]
        state: Option<u8>,
    },
    /// Delete the lease of an address (its DNS names are removed through d2).
    #[command(visible_alias = "rm")]
    Del {
        /// The leased address.
        ip: Ipv4Addr,
    },
}

const STATES: [&str; 5] = [
    "default",
    "declined",
    "expired-reclaimed",
    "released",
    "registered",
];

fn parse_state(s: &str) -> Result<u8, String> {
    if let Some(i) = STATES.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(i as u8);
    }
    match s.parse::<u8>() {
        Ok(n) if (n as usize) < STATES.len() => Ok(n),
        _ => Err(format!("one of {} (or 0-4)", STATES.join(", "))),
    }
}

pub async fn host(api: &Client, out: Out, action: HostAction) -> anyhow::Result<()> {
    match action {
        HostAction::Add {
            mac,
            ip,
            hostname,
            subnet,
        } => {
            let subnet = match subnet {
                Some(s) => s,
                None => subnet_of(api, ip).await?,
            };
            let mut body =
                json!({ "subnet-id": subnet, "hw-address": mac, "ip-address": ip.to_string() });
            if let Some(h) = hostname {
                body["hostname"] = h.into();
            }
            let r = api
                .call(Method::POST, "/api/v1/reservations", Some(&body))
                .await?;
            out.done(
                &r,
                &format!(
                    "added reservation {} (subnet {})",
                    describe(&r),
                    text(&r, "subnet-id")
                ),
            );
        }
        HostAction::List { filter } => {
            let items = pages(api, "/api/v1/reservations", filter.query()).await?;
            out.print(&items, host_table);
        }
        HostAction::Del { id, filter } => {
            let found = match id {
                Some(id) => {
                    let one = api.get(&format!("/api/v1/reservations/{id}")).await?;
                    let mut v = vec![one.clone()];
                    // --id with filters: only if the reservation also matches them.
                    v.retain(|h| matches_filter(h, &filter));
                    Value::Array(v)
                }
                None => pages(api, "/api/v1/reservations", filter.query()).await?,
            };
            let found = found.as_array().cloned().unwrap_or_default();
            if found.is_empty() {
                bail!("no reservation matches");
            }
            let mut lines = Vec::new();
            for h in &found {
                api.call(
                    Method::DELETE,
                    &format!("/api/v1/reservations/{}", text(h, "id")),
                    None,
                )
                .await?;
                lines.push(format!("deleted reservation {}", describe(h)));
            }
            out.done(&Value::Array(found), &lines.join("\n"));
        }
    }
    Ok(())
}

fn matches_filter(h: &Value, f: &Filter) -> bool {
    let same_hex = |a: &str, b: &str| {
        let norm = |x: &str| {
            x.chars()
                .filter(char::is_ascii_hexdigit)
                .collect::<String>()
                .to_ascii_lowercase()
        };
        norm(a) == norm(b)
    };
    f.subnet
        .is_none_or(|s| h.get("subnet-id").and_then(Value::as_u64) == Some(s.into()))
        && f.mac
            .as_deref()
            .is_none_or(|m| same_hex(s(h, "hw-address"), m))
        && f.client_id
            .as_deref()
            .is_none_or(|c| same_hex(s(h, "client-id"), c))
        && f.hostname
            .as_deref()
            .is_none_or(|n| s(h, "hostname").eq_ignore_ascii_case(n))
        && f.ip.is_none_or(|ip| s(h, "ip-address") == ip.to_string())
}

/// The id of the configured subnet whose prefix holds `ip`, from Kea's `subnet4-list`.
/// With no subnets configured (the API in front of a database another server uses)
/// the seed's default, subnet 1, is taken.
async fn subnet_of(api: &Client, ip: Ipv4Addr) -> anyhow::Result<u32> {
    let answer = api
        .call(
            Method::POST,
            "/",
            Some(&json!({ "command": "subnet4-list", "service": ["dhcp4"] })),
        )
        .await?;
    let subnets = answer[0]["arguments"]["subnets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if subnets.is_empty() {
        eprintln!("tern: no DHCPv4 subnets configured; using subnet 1 (give --subnet to choose)");
        return Ok(1);
    }
    for sub in &subnets {
        if let (Some(id), Some((net, len))) = (
            sub["id"].as_u64(),
            sub["subnet"].as_str().and_then(|p| p.split_once('/')),
        ) {
            if let (Ok(net), Ok(len)) = (net.parse::<Ipv4Addr>(), len.parse::<u32>()) {
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                if u32::from(ip) & mask == u32::from(net) & mask {
                    return Ok(id as u32);
                }
            }
        }
    }
    let names: Vec<&str> = subnets
        .iter()
        .filter_map(|s| s["subnet"].as_str())
        .collect();
    bail!(
        "{ip} is in no configured subnet ({}); give --subnet ID",
        names.join(", ")
    )
}

/// Every item of a paged list (`{"items", "next"}`), following `next` as `after`.
async fn pages(
    api: &Client,
    path: &str,
    mut params: Vec<(&'static str, Option<String>)>,
) -> anyhow::Result<Value> {
    params.push(("limit", Some("1000".into())));
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut q = params.clone();
        q.push(("after", after.take()));
        let page = api.get(&format!("{path}{}", query(&q))).await?;
        if let Some(a) = page["items"].as_array() {
            items.extend(a.iter().cloned());
        }
        match &page["next"] {
            Value::Null => break,
            Value::String(n) => after = Some(n.clone()),
            n => after = Some(n.to_string()),
        }
    }
    Ok(Value::Array(items))
}

/// `ID: IDENTIFIER -> ADDRESS [HOSTNAME]`, for confirmations.
fn describe(h: &Value) -> String {
    let mut d = format!(
        "{}: {} -> {}",
        text(h, "id"),
        identifier(h),
        s(h, "ip-address")
    );
    if !s(h, "hostname").is_empty() {
        d = format!("{d} {}", s(h, "hostname"));
    }
    d
}

/// The reservation's identifier: the MAC, or `kind=value` for the others.
fn identifier(h: &Value) -> String {
    if let Some(m) = h.get("hw-address").and_then(Value::as_str) {
        return m.to_string();
    }
    for k in ["client-id", "duid", "circuit-id", "flex-id"] {
        if let Some(v) = h.get(k).and_then(Value::as_str) {
            return format!("{k}={v}");
        }
    }
    String::new()
}

fn host_table(v: &Value) -> Table {
    let mut t = Table::new(&["ID", "SUBNET", "HW-ADDRESS", "IP-ADDRESS", "HOSTNAME"]);
    for h in v.as_array().into_iter().flatten() {
        t.row(vec![
            text(h, "id"),
            text(h, "subnet-id"),
            identifier(h),
            s(h, "ip-address").to_string(),
            s(h, "hostname").to_string(),
        ]);
    }
    t
}

pub async fn lease(api: &Client, out: Out, action: LeaseAction) -> anyhow::Result<()> {
    match action {
        LeaseAction::List { filter, state } => {
            let items = match filter.ip {
                // One address: the lease itself, as a one-element list.
                Some(ip) => match api
                    .exchange(Method::GET, &format!("/api/v1/leases/{ip}"), None)
                    .await?
                {
                    (st, l) if st.is_success() => Value::Array(vec![l]),
                    (hyper::StatusCode::NOT_FOUND, _) => Value::Array(vec![]),
                    (status, body) => return Err(super::http::ApiFailure { status, body }.into()),
                },
                None => {
                    let mut q = filter.query();
                    q.push(("state", state.map(|v| v.to_string())));
                    pages(api, "/api/v1/leases", q).await?
                }
            };
            out.print(&items, lease_table);
        }
        LeaseAction::Del { ip } => {
            let path = format!("/api/v1/leases/{}", encode(&ip.to_string()));
            api.call(Method::DELETE, &path, None).await?;
            out.done(
                &json!({ "deleted": ip.to_string() }),
                &format!("deleted lease {ip}"),
            );
        }
    }
    Ok(())
}

fn lease_table(v: &Value) -> Table {
    let mut t = Table::new(&[
        "IP-ADDRESS",
        "HW-ADDRESS",
        "HOSTNAME",
        "SUBNET",
        "EXPIRES (UTC)",
        "STATE",
    ]);
    for l in v.as_array().into_iter().flatten() {
        let expire = match (l["cltt"].as_i64(), l["valid-lft"].as_i64()) {
            (Some(c), Some(v)) => chrono::DateTime::from_timestamp(c + v, 0)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
            _ => String::new(),
        };
        let state = l["state"]
            .as_u64()
            .and_then(|n| STATES.get(n as usize))
            .map(|s| s.to_string())
            .unwrap_or_else(|| text(l, "state"));
        t.row(vec![
            s(l, "ip-address").to_string(),
            s(l, "hw-address").to_string(),
            s(l, "hostname").to_string(),
            text(l, "subnet-id"),
            expire,
            state,
        ]);
    }
    t
}
