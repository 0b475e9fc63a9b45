//! `tern zone …` over the PowerDNS-compatible zones API: the zones of tern's own zone server
//! (and, in `list`, the DhcpDdns zones held elsewhere), so the same commands work against a
//! PowerDNS server.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use hyper::Method;
use serde_json::{json, Value};

use super::http::{encode, Client};
use super::table::Table;
use super::table::{s, text, Out};

#[derive(Subcommand, Debug)]
pub enum ZoneAction {
    /// List the zones.
    #[command(visible_alias = "ls")]
    List,
    /// Create a zone on tern's zone server.
    Add {
        /// The zone, e.g. example.com.
        zone: String,
        /// Its name servers (the apex NS rrset; the first is the SOA's primary).
        #[arg(long = "nameserver", value_name = "NAME")]
        nameservers: Vec<String>,
        /// PowerDNS kind: Native or Master.
        #[arg(long, default_value = "Native")]
        kind: String,
    },
    /// Delete a zone and all its records.
    #[command(visible_alias = "rm")]
    Del {
        /// The zone.
        zone: String,
    },
    /// Create a zone from a BIND zone file ($ORIGIN, $TTL, relative names, ...).
    Import {
        /// The zone.
        zone: String,
        /// The zone file.
        file: PathBuf,
        /// Replace the zone if it exists (deleted, then created from the file).
        #[arg(long)]
        replace: bool,
    },
    /// Print a zone as a BIND zone file.
    Export {
        /// The zone.
        zone: String,
    },
}

fn zone_name(z: &str) -> String {
    if z.ends_with('.') {
        z.to_string()
    } else {
        format!("{z}.")
    }
}

const ZONES: &str = "/api/v1/servers/localhost/zones";

fn zone_path(zone: &str) -> String {
    format!("{ZONES}/{}", encode(&zone_name(zone)))
}

pub async fn zone(api: &Client, out: Out, action: ZoneAction) -> anyhow::Result<()> {
    match action {
        ZoneAction::List => {
            let list = api.get(ZONES).await?;
            out.print(&list, zone_table);
        }
        ZoneAction::Add {
            zone,
            nameservers,
            kind,
        } => {
            let nameservers: Vec<String> = nameservers.iter().map(|n| zone_name(n)).collect();
            let body =
                json!({ "name": zone_name(&zone), "kind": kind, "nameservers": nameservers });
            let created = api.call(Method::POST, ZONES, Some(&body)).await?;
            out.done(
                &created,
                &format!(
                    "added zone {} serial {}",
                    s(&created, "name"),
                    text(&created, "serial")
                ),
            );
        }
        ZoneAction::Del { zone } => {
            api.call(Method::DELETE, &zone_path(&zone), None).await?;
            out.done(
                &json!({ "deleted": zone_name(&zone) }),
                &format!("deleted zone {}", zone_name(&zone)),
            );
        }
        ZoneAction::Import {
            zone,
            file,
            replace,
        } => {
            let text_of = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            if replace {
                let (status, _) = api
                    .exchange(Method::DELETE, &zone_path(&zone), None)
                    .await?;
                if !status.is_success() && status.as_u16() != 404 {
                    anyhow::bail!(
                        "cannot replace zone {}: DELETE answered {status}",
                        zone_name(&zone)
                    );
                }
            }
            let body = json!({ "name": zone_name(&zone), "kind": "Native", "zone": text_of });
            let created = api.call(Method::POST, ZONES, Some(&body)).await?;
            let records: usize = created["rrsets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| r["records"].as_array().map_or(0, Vec::len))
                .sum();
            out.done(
                &created,
                &format!(
                    "imported zone {} from {}: {records} records, serial {}",
                    s(&created, "name"),
                    file.display(),
                    text(&created, "serial")
                ),
            );
        }
        ZoneAction::Export { zone } => {
            let v = api.get(&format!("{}/export", zone_path(&zone))).await?;
            match v {
                Value::String(t) => print!("{t}"),
                other => print!(
                    "{}",
                    serde_json::to_string_pretty(&other).unwrap_or_default()
                ),
            }
        }
    }
    Ok(())
}

fn zone_table(v: &Value) -> Table {
    let mut t = Table::new(&["ZONE", "KIND", "SERIAL"]);
    for z in v.as_array().into_iter().flatten() {
        t.row(vec![
            s(z, "name").to_string(),
            s(z, "kind").to_string(),
            text(z, "serial"),
        ]);
    }
    t
}
