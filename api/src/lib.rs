//! tern's HTTP API: Kea's command channel (`POST /` with `{"command", "service",
//! "arguments"}`, answered as kea-ctrl-agent does) and a plain REST API under `/api/v1`
//! for reservations and leases, both over Kea's own tables in the store, so whatever is
//! written here is what the DHCP engine serves at once.
//!
//! * [`app`] builds the router from an [`AppState`]; tests drive it with
//!   `tower::ServiceExt::oneshot`.
//! * [`ApiServer::start`] binds the `Api` section's address (HTTP, or HTTPS with rustls on
//!   the ring provider; a client certificate is required when `cert-required` is set) and
//!   serves the router until [`ApiHandle::shutdown`].
//! * Authentication ([`auth`]): HTTP basic as Kea's `authentication` map, and `X-API-Key`
//!   (PowerDNS style). With neither configured the API is open and says so in the log.
//! * Statistics come from a [`StatsSource`] the engines plug in; `GET /metrics` exports
//!   them for Prometheus ([`metrics`]; behind the same authentication, so give the scraper
//!   an API key as a bearer token).
//! * Commands ([`command`]): Kea's lease_cmds (lease4-*, lease6-*), host_cmds
//!   (reservation-*, DHCPv6 ones when the service is `dhcp6`), stat_cmds, the read side
//!   of subnet_cmds, and the daemon commands (config-get/-test/-write, status-get, ...).
//!   Lease writes change the lease tables only: like Kea's lease4-add without
//!   `update-ddns`, they queue no DNS update.
//! * PowerDNS's zones API ([`pdns`]) for the zones of `DhcpDdns`, edited on their own DNS
//!   server by TSIG-signed AXFR and UPDATE.

#![warn(missing_docs)]
// The OpenAPI document is one `json!` literal.
#![recursion_limit = "256"]

pub mod auth;
pub mod command;
pub mod error;
pub mod kea;
pub mod metrics;
pub mod pdns;
pub mod rest;
pub mod stats;
mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use tern_store::Store;
use tracing::{info, warn};

pub use auth::Auth;
pub use stats::{EngineStats, MemoryStats, NoStats, Sample, Snapshot, StatsSource};

/// What the API serves from: the store, the running configuration and the engines' counters.
#[derive(Clone)]
pub struct ApiContext {
    /// The shared store (Kea's tables).
    pub store: Store,
    /// The configuration file the process was started with (`config-write`'s default,
    /// what `config-reload` reads).
    pub config_path: PathBuf,
    /// The running configuration; a reconfiguration swaps it whole.
    pub running: RunningConfig,
    /// The version reported by `version-get`.
    pub version: &'static str,
    /// Counters for `statistic-*`.
    pub stats: Arc<dyn StatsSource>,
    /// Where `config-set`, `config-reload` and `shutdown` go: the appliance's main loop,
    /// which restarts its engines on the new configuration, or stops everything in order,
    /// and answers. Without it the reconfiguration commands are not supported and
    /// `shutdown` has nothing to stop.
    pub reconfigure: Option<tokio::sync::mpsc::Sender<ReconfigureRequest>>,
}

impl ApiContext {
    /// A context with no statistics and no appliance behind it (no reconfiguration),
    /// serving the document `config_json` (validated here: see [`Sections::validate`]).
    pub fn new(
        store: Store,
        config_path: PathBuf,
        config_json: serde_json::Value,
        version: &'static str,
    ) -> Self {
        let sections = Sections::validate(&config_json);
        Self::with_sections(store, config_path, config_json, sections, version)
    }

    /// A context serving `config_json`, whose validated sections (those the engines
    /// run) are `sections`.
    pub fn with_sections(
        store: Store,
        config_path: PathBuf,
        config_json: serde_json::Value,
        sections: Sections,
        version: &'static str,
    ) -> Self {
        Self {
            store,
            config_path,
            running: RunningConfig::new(config_json, sections),
            version,
            stats: Arc::new(NoStats),
            reconfigure: None,
        }
    }

    /// The configuration running now.
    pub fn running(&self) -> Arc<Running> {
        self.running.get()
    }
}

/// The validated sections the engines run on, as the appliance holds them: lease and
/// reservation arguments are checked against them, and a lease deleted here gets its
/// DNS removal from its subnet's `ddns-*` parameters.
#[derive(Clone, Default)]
pub struct Sections {
    /// `Dhcp4`.
    pub dhcp4: Option<Arc<tern_config::Dhcp4>>,
    /// `Dhcp6`.
    pub dhcp6: Option<Arc<tern_config::Dhcp6>>,
}

impl Sections {
    /// The sections of a validated configuration.
    pub fn of(config: &tern_config::Config) -> Self {
        Self {
            dhcp4: config.dhcp4.clone().map(Arc::new),
            dhcp6: config.dhcp6.clone().map(Arc::new),
        }
    }

    /// Validates a document for a caller that holds only the document (tests, tools);
    /// an invalid one gives no sections (nothing to check arguments against).
    pub fn validate(json: &serde_json::Value) -> Self {
        match tern_config::parse_str(&json.to_string(), "running configuration") {
            Ok(c) => Self::of(&c),
            Err(_) => Self::default(),
        }
    }
}

/// The configuration the engines run, with what the API derives from it.
pub struct Running {
    /// The whole document as `config-get` returns it (includes expanded, no comments).
    pub json: serde_json::Value,
    /// The validated `Dhcp4` section the DHCP engine runs.
    pub dhcp4: Option<Arc<tern_config::Dhcp4>>,
    /// The validated `Dhcp6` section.
    pub dhcp6: Option<Arc<tern_config::Dhcp6>>,
    /// The zones the PowerDNS API edits (those of `DhcpDdns`).
    pub zones: Arc<pdns::zones::Zones>,
    /// When it was put in place (`status-get`'s `reload`).
    pub loaded: Instant,
}

impl Running {
    /// The API's view of a configuration document and its validated sections.
    pub fn new(json: serde_json::Value, sections: Sections) -> Self {
        Self {
            dhcp4: sections.dhcp4,
            dhcp6: sections.dhcp6,
            zones: Arc::new(pdns::zones::Zones::from_config(&json)),
            json,
            loaded: Instant::now(),
        }
    }
}

/// The running configuration, shared between the API and whoever reconfigures the
/// engines (the appliance swaps it after a `config-set`, `config-reload` or SIGHUP).
#[derive(Clone)]
pub struct RunningConfig(Arc<std::sync::RwLock<Arc<Running>>>);

impl RunningConfig {
    /// Starts with `json`, whose validated sections are `sections`.
    pub fn new(json: serde_json::Value, sections: Sections) -> Self {
        Self(Arc::new(std::sync::RwLock::new(Arc::new(Running::new(
            json, sections,
        )))))
    }

    /// The configuration running now (a snapshot: a request sees one configuration).
    pub fn get(&self) -> Arc<Running> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the running configuration.
    pub fn set(&self, json: serde_json::Value, sections: Sections) {
        let next = Arc::new(Running::new(json, sections));
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = next;
    }
}

/// A reconfiguration (or the stop) asked for over the command channel.
#[derive(Debug)]
pub enum Reconfigure {
    /// `config-set`: these top-level sections replace the running ones; the others stay.
    Set(serde_json::Map<String, serde_json::Value>),
    /// `config-reload`: the whole configuration file, read again.
    Reload,
    /// `shutdown`: stop the appliance as on SIGTERM (the API, then the engines, then the
    /// store). The reply is sent first, so the command is answered before the API stops.
    Shutdown,
}

/// One reconfiguration and where its outcome goes: `Ok` once the engines run the new
/// configuration, `Err(reason)` when it was refused and the previous one still runs.
#[derive(Debug)]
pub struct ReconfigureRequest {
    /// What to apply.
    pub what: Reconfigure,
    /// The outcome.
    pub reply: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    /// See [`ApiContext`].
    pub ctx: Arc<ApiContext>,
    /// Who may call.
    pub auth: Arc<Auth>,
    /// When the API started (for `status-get`'s uptime).
    pub started: Instant,
    /// Requests answered, by method and status (for `/metrics`).
    pub requests: Arc<metrics::RequestCounts>,
}

impl AppState {
    /// State for a context and an authentication policy.
    pub fn new(ctx: ApiContext, auth: Auth) -> Self {
        Self {
            ctx: Arc::new(ctx),
            auth: Arc::new(auth),
            started: Instant::now(),
            requests: Arc::default(),
        }
    }
}

/// The whole API as one router: the command channel at `/`, REST under `/api/v1`, all
/// behind authentication.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(command::router())
        .merge(rest::router())
        .merge(pdns::router(&state))
        .route("/metrics", axum::routing::get(metrics::handler))
        .fallback(rest::no_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            log_request,
        ))
        .with_state(state)
}

/// Largest request body accepted (a whole configuration for `config-test` can be large).
pub const MAX_BODY: usize = 16 << 20;

/// Logs every request once it is answered: `API_REQUEST method path status ms` at debug
/// level, REST changes that succeeded as `API_CHANGE` at info level (command-channel
/// changes are logged by [`command`] with the command name), server faults as warnings.
async fn log_request(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let caller = req.extensions().get::<auth::Caller>().cloned();
    let t = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    st.requests.count(method.as_str(), status);
    let ms = t.elapsed().as_millis();
    let writes = !matches!(method, axum::http::Method::GET | axum::http::Method::HEAD);
    if status >= 500 {
        warn!("API_REQUEST {method} {path} {status} {ms} ms");
    } else if writes && path != "/" && status < 300 {
        let who = resp
            .extensions()
            .get::<auth::Caller>()
            .or(caller.as_ref())
            .map(|c| format!(" by {c:?}"))
            .unwrap_or_default();
        info!("API_CHANGE {method} {path} {status}{who}");
    } else {
        tracing::debug!("API_REQUEST {method} {path} {status} {ms} ms");
    }
    resp
}

/// Reads the configuration file as `config-get` shows it: the whole document (includes
/// expanded, comments dropped) as JSON.
pub fn read_config_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let parsed = tern_config::jsonc::parse_document(
        &text,
        &path.display().to_string(),
        &tern_config::jsonc::ParseOptions::default(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(parsed.root.to_json())
}

/// Starts the API server.
pub struct ApiServer;

/// A running API server.
pub struct ApiHandle {
    local_addr: SocketAddr,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl ApiServer {
    /// Binds the configured address and serves [`app`] on it (HTTPS when `cert-file` and
    /// `key-file` are set). Fails at once when the address cannot be bound or the TLS
    /// files or credential files cannot be read.
    pub async fn start(
        config: &tern_config::ApiConfig,
        ctx: ApiContext,
    ) -> anyhow::Result<ApiHandle> {
        let auth = Auth::from_config(config).context("API authentication")?;
        if auth.is_open() {
            warn!("API_NO_AUTH API without authentication: anyone who reaches {}:{} can change leases and reservations", config.ip_address, config.port);
        }
        let tls = match &config.tls {
            Some(t) => Some(tls::server_config(t).context("API TLS")?),
            None => None,
        };
        let addr = SocketAddr::new(config.ip_address, config.port);
        let listener = std::net::TcpListener::bind(addr)
            .with_context(|| format!("cannot listen on {addr} for the API"))?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let router = app(AppState::new(ctx, auth));
        let handle = axum_server::Handle::new();
        let make = router.into_make_service_with_connect_info::<SocketAddr>();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let task = match tls {
            Some(cfg) => {
                let server = axum_server::tls_rustls::from_tcp_rustls(
                    listener,
                    axum_server::tls_rustls::RustlsConfig::from_config(cfg),
                )?
                .handle(handle.clone());
                tokio::spawn(server.serve(make))
            }
            None => {
                let server = axum_server::from_tcp(listener)?.handle(handle.clone());
                tokio::spawn(server.serve(make))
            }
        };
        info!("API_STARTED API listening on {scheme}://{local_addr}");
        Ok(ApiHandle {
            local_addr,
            handle,
            task,
        })
    }
}

impl ApiHandle {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets requests in flight finish (up to 5 s) and waits for the server.
    pub async fn shutdown(self) {
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(5)));
        match self.task.await {
            Ok(Ok(())) => info!("API_STOPPED API stopped"),
            Ok(Err(e)) => warn!("API_STOPPED API server ended with an error: {e}"),
            Err(e) => warn!("API_STOPPED API server task failed: {e}"),
        }
    }
}
