//! `tern host|lease|record|zone`: the operator's CLI over tern's API (what the seed's
//! kea_db_manager.py did with SQL, done through the API so it works against any appliance
//! and goes through the same checks). Tables by default, `--json` for scripts.

mod hosts;
mod http;
mod records;
mod table;
mod zones;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use http::{Client, Credentials};
use table::Out;

/// Where the API is and how to authenticate; accepted before or after the action.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Connection")]
pub struct Conn {
    /// API base URL [default: from the Api section of -c FILE, else http://127.0.0.1:8000].
    #[arg(long, env = "TERN_API", value_name = "URL", global = true)]
    api: Option<String>,
    /// tern's configuration file: the API address (and credentials, when none are given)
    /// come from its Api section.
    #[arg(short, long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// User for HTTP basic authentication.
    #[arg(long, env = "TERN_USER", global = true)]
    user: Option<String>,
    /// Password for HTTP basic authentication.
    #[arg(long, env = "TERN_PASSWORD", hide_env_values = true, global = true)]
    password: Option<String>,
    /// API key (sent as X-API-Key).
    #[arg(long, env = "TERN_API_KEY", hide_env_values = true, global = true)]
    api_key: Option<String>,
    /// CA certificates (PEM) for an https API [default: the system's].
    #[arg(long, value_name = "FILE", global = true)]
    cacert: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

/// The API commands, merged into tern's top-level subcommands.
#[derive(Subcommand, Debug)]
pub enum ApiCommand {
    /// DHCPv4 host reservations, through the API.
    Host {
        #[command(subcommand)]
        action: hosts::HostAction,
        #[command(flatten)]
        conn: Conn,
    },
    /// DHCPv4 leases, through the API.
    Lease {
        #[command(subcommand)]
        action: hosts::LeaseAction,
        #[command(flatten)]
        conn: Conn,
    },
    /// DNS records, through the PowerDNS-compatible zones API.
    Record {
        #[command(subcommand)]
        action: records::RecordAction,
        #[command(flatten)]
        conn: Conn,
    },
    /// DNS zones of tern's zone server, through the PowerDNS-compatible zones API.
    Zone {
        #[command(subcommand)]
        action: zones::ZoneAction,
        #[command(flatten)]
        conn: Conn,
    },
}

/// Runs one API command; errors are printed as `tern: …` with exit status 1.
pub fn main(cmd: ApiCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tern: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cmd)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tern: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cmd: ApiCommand) -> anyhow::Result<()> {
    match cmd {
        ApiCommand::Host { action, conn } => {
            let out = Out { json: conn.json };
            hosts::host(&conn.client()?, out, action).await
        }
        ApiCommand::Lease { action, conn } => {
            let out = Out { json: conn.json };
            hosts::lease(&conn.client()?, out, action).await
        }
        ApiCommand::Record { action, conn } => {
            let out = Out { json: conn.json };
            records::record(&conn.client()?, out, action).await
        }
        ApiCommand::Zone { action, conn } => {
            let out = Out { json: conn.json };
            zones::zone(&conn.client()?, out, action).await
        }
    }
}

const DEFAULT_API: &str = "http://127.0.0.1:8000";

impl Conn {
    fn client(&self) -> anyhow::Result<Client> {
        let api = match &self.config {
            Some(path) => Some(tern_config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?),
            None => None,
        };
        let api = api.as_ref().and_then(|c| c.api.as_ref());
        if self.config.is_some() && api.is_none() && self.api.is_none() {
            anyhow::bail!(
                "{} has no Api section; give --api URL",
                self.config.as_deref().unwrap_or(Path::new("")).display()
            );
        }
        let url = match (&self.api, api) {
            (Some(u), _) => u.clone(),
            (None, Some(a)) => url_of(a),
            (None, None) => DEFAULT_API.to_string(),
        };
        let creds = match (&self.api_key, &self.user, &self.password) {
            (Some(k), _, _) => Credentials::Key(k.clone()),
            (None, Some(u), Some(p)) => Credentials::Basic {
                user: u.clone(),
                password: p.clone(),
            },
            (None, Some(_), None) => anyhow::bail!("--user needs --password (or TERN_PASSWORD)"),
            (None, None, Some(_)) => anyhow::bail!("--password needs --user (or TERN_USER)"),
            (None, None, None) => match api {
                Some(a) => config_credentials(a)?,
                None => Credentials::None,
            },
        };
        Client::new(&url, creds, self.cacert.as_deref())
    }
}

/// The URL a local client reaches the configured API at (a wildcard listen address is
/// reached on loopback).
fn url_of(a: &tern_config::ApiConfig) -> String {
    let scheme = if a.tls.is_some() { "https" } else { "http" };
    let ip = match a.ip_address {
        std::net::IpAddr::V4(v) if v.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(v) if v.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(v) => format!("[{v}]"),
        ip => ip.to_string(),
    };
    format!("{scheme}://{ip}:{}", a.port)
}

/// On the appliance itself the config holds the credentials: the first API key, else the
/// first basic-auth client.
fn config_credentials(a: &tern_config::ApiConfig) -> anyhow::Result<Credentials> {
    if let Some(k) = a.api_keys.first() {
        let key = match &k.secret {
            tern_config::ApiKeySecret::Value(v) => v.clone(),
            tern_config::ApiKeySecret::File(f) => read_secret(None, f)?,
        };
        return Ok(Credentials::Key(key));
    }
    let Some(auth) = &a.authentication else {
        return Ok(Credentials::None);
    };
    let Some(c) = auth.clients.first() else {
        return Ok(Credentials::None);
    };
    let dir = auth.directory.as_deref();
    let user = match (&c.user, &c.user_file) {
        (Some(u), _) => Some(u.clone()),
        (None, Some(f)) => Some(read_secret(dir, f)?),
        (None, None) => None,
    };
    let password = match &c.password {
        Some(p) => p.clone(),
        None => match &c.password_file {
            Some(f) => read_secret(dir, f)?,
            None => String::new(),
        },
    };
    Ok(match user {
        Some(user) => Credentials::Basic { user, password },
        // Kea's password-file without a user holds `user:password`.
        None => match password.split_once(':') {
            Some((u, p)) => Credentials::Basic {
                user: u.to_string(),
                password: p.to_string(),
            },
            None => Credentials::None,
        },
    })
}

fn read_secret(dir: Option<&Path>, file: &Path) -> anyhow::Result<String> {
    let path = match dir {
        Some(d) if file.is_relative() => d.join(file),
        _ => file.to_path_buf(),
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}
