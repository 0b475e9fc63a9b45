//! `tern record …` over the PowerDNS-compatible zones API
//! (`/api/v1/servers/localhost/zones/{zone}`), so the same commands work against a
//! PowerDNS server. PowerDNS replaces whole rrsets, so `add` and `del` of one record read
//! the rrset first and write it back with the record added or removed.

use anyhow::bail;
use clap::Subcommand;
use hyper::Method;
use serde_json::{json, Value};

use super::http::{encode, Client};
use super::table::Table;
use super::table::{s, text, Out};

#[derive(Subcommand, Debug)]
pub enum RecordAction {
    /// List a zone's records, optionally only one name or type.
    #[command(visible_alias = "ls")]
    List {
        /// The zone, e.g. example.com.
        zone: String,
        /// Only this name (relative to the zone, or absolute with a trailing dot; @ = apex).
        #[arg(long)]
        name: Option<String>,
        /// Only this type (A, AAAA, CNAME, TXT, …).
        #[arg(long = "type", value_name = "TYPE")]
        rtype: Option<String>,
    },
    /// Add a record to its rrset (the other records of the same name and type stay).
    Add {
        /// The zone, e.g. example.com.
        zone: String,
        /// Owner name (relative to the zone, or absolute with a trailing dot; @ = apex).
        #[arg(long)]
        name: String,
        /// Record type (A, AAAA, CNAME, TXT, …).
        #[arg(long = "type", value_name = "TYPE")]
        rtype: String,
        /// Record data in zone-file form, e.g. 192.0.2.10 or "10 mail.example.com.".
        #[arg(long, visible_alias = "value")]
        content: String,
        /// TTL of the rrset [default: the rrset's current TTL, else 300].
        #[arg(long)]
        ttl: Option<u32>,
    },
    /// Delete records: one (--content), an rrset (--type) or everything at a name.
    #[command(visible_alias = "rm")]
    Del {
        /// The zone, e.g. example.com.
        zone: String,
        /// Owner name (relative to the zone, or absolute with a trailing dot; @ = apex).
        #[arg(long)]
        name: String,
        /// Only this type.
        #[arg(long = "type", value_name = "TYPE")]
        rtype: Option<String>,
        /// Only the record with this data.
        #[arg(long, visible_alias = "value")]
        content: Option<String>,
    },
}

/// `example.com` -> `example.com.`
fn zone_name(z: &str) -> String {
    if z.ends_with('.') {
        z.to_string()
    } else {
        format!("{z}.")
    }
}

/// An owner name as PowerDNS wants it: absolute, with the trailing dot. Names without
/// one are taken relative to the zone unless they already end in it.
fn owner(name: &str, zone: &str) -> String {
    let z = zone.trim_end_matches('.');
    if name == "@" || name.is_empty() {
        return format!("{z}.");
    }
    if name.ends_with('.') {
        return name.to_string();
    }
    if name.eq_ignore_ascii_case(z)
        || name
            .to_ascii_lowercase()
            .ends_with(&format!(".{}", z.to_ascii_lowercase()))
    {
        return format!("{name}.");
    }
    format!("{name}.{z}.")
}

fn zone_path(zone: &str) -> String {
    format!("/api/v1/servers/localhost/zones/{}", encode(zone))
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

fn rrsets(zone: &Value) -> Vec<Value> {
    zone["rrsets"].as_array().cloned().unwrap_or_default()
}

fn contents(rrset: &Value) -> Vec<String> {
    rrset["records"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| s(r, "content").to_string())
        .collect()
}

fn replace(name: &str, rtype: &str, ttl: u64, records: &[String]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|c| json!({ "content": c, "disabled": false }))
        .collect();
    json!({ "name": name, "type": rtype, "ttl": ttl, "changetype": "REPLACE", "records": records })
}

async fn patch(api: &Client, zone: &str, rrsets: Vec<Value>) -> anyhow::Result<()> {
    api.call(
        Method::PATCH,
        &zone_path(zone),
        Some(&json!({ "rrsets": rrsets })),
    )
    .await?;
    Ok(())
}

/// The zone's canonical name, the owner name made absolute, and the zone as served.
async fn read_zone(
    api: &Client,
    zone: &str,
    name: &str,
) -> anyhow::Result<(String, String, Value)> {
    let zone = zone_name(zone);
    let name = owner(name, &zone);
    let z = api.get(&zone_path(&zone)).await?;
    Ok((zone, name, z))
}

pub async fn record(api: &Client, out: Out, action: RecordAction) -> anyhow::Result<()> {
    match action {
        RecordAction::List { zone, name, rtype } => {
            let zone = zone_name(&zone);
            let z = api.get(&zone_path(&zone)).await?;
            let want = name.map(|n| owner(&n, &zone));
            let sets: Vec<Value> = rrsets(&z)
                .into_iter()
                .filter(|r| want.as_deref().is_none_or(|n| same_name(s(r, "name"), n)))
                .filter(|r| {
                    rtype
                        .as_deref()
                        .is_none_or(|t| s(r, "type").eq_ignore_ascii_case(t))
                })
                .collect();
            out.print(&Value::Array(sets), record_table);
        }
        RecordAction::Add {
            zone,
            name,
            rtype,
            content,
            ttl,
        } => {
            let (zone, name, z) = read_zone(api, &zone, &name).await?;
            let rtype = rtype.to_ascii_uppercase();
            let current = rrsets(&z)
                .into_iter()
                .find(|r| same_name(s(r, "name"), &name) && s(r, "type") == rtype);
            let mut records = current.as_ref().map(contents).unwrap_or_default();
            if !records.contains(&content) {
                records.push(content.clone());
            }
            let ttl = ttl
                .map(u64::from)
                .or_else(|| current.as_ref().and_then(|r| r["ttl"].as_u64()))
                .unwrap_or(300);
            let set = replace(&name, &rtype, ttl, &records);
            patch(api, &zone, vec![set.clone()]).await?;
            out.done(&set, &format!("added {name} {ttl} {rtype} {content}"));
        }
        RecordAction::Del {
            zone,
            name,
            rtype,
            content,
        } => {
            let (zone, name, z) = read_zone(api, &zone, &name).await?;
            let mut changes = Vec::new();
            let mut lines = Vec::new();
            for r in rrsets(&z) {
                let t = s(&r, "type").to_string();
                if !same_name(s(&r, "name"), &name)
                    || rtype.as_deref().is_some_and(|w| !t.eq_ignore_ascii_case(w))
                {
                    continue;
                }
                let all = contents(&r);
                let keep: Vec<String> = match &content {
                    Some(c) => all.iter().filter(|x| *x != c).cloned().collect(),
                    None => Vec::new(),
                };
                if keep.len() == all.len() {
                    continue;
                }
                for gone in all.iter().filter(|x| !keep.contains(x)) {
                    lines.push(format!("deleted {name} {t} {gone}"));
                }
                changes.push(if keep.is_empty() {
                    json!({ "name": name, "type": t, "changetype": "DELETE" })
                } else {
                    replace(&name, &t, r["ttl"].as_u64().unwrap_or(300), &keep)
                });
            }
            if changes.is_empty() {
                let what = [Some(name.as_str()), rtype.as_deref(), content.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                bail!("no record {what} in zone {zone}");
            }
            patch(api, &zone, changes.clone()).await?;
            out.done(&Value::Array(changes), &lines.join("\n"));
        }
    }
    Ok(())
}

fn record_table(v: &Value) -> Table {
    let mut t = Table::new(&["NAME", "TTL", "TYPE", "CONTENT"]);
    for set in v.as_array().into_iter().flatten() {
        for r in set["records"].as_array().into_iter().flatten() {
            let mut content = s(r, "content").to_string();
            if r["disabled"].as_bool() == Some(true) {
                content.push_str(" (disabled)");
            }
            t.row(vec![
                s(set, "name").to_string(),
                text(set, "ttl"),
                s(set, "type").to_string(),
                content,
            ]);
        }
    }
    t
}
