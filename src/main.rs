//! `tern`: the appliance binary. It only wires the crates together: config -> logging ->
//! store -> services, and takes them down again on SIGINT/SIGTERM.

mod cli;
mod logging;
mod services;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tern_config::{Config, Severity, StoreConfig};
use tern_store::{EmbeddedCluster, Store};
use tracing::{error, info, warn};

/// DHCP, dynamic DNS and authoritative DNS in one binary, on one PostgreSQL store.
///
/// tern reads Kea's configuration files as they are: a kea-dhcp4.conf or
/// kea-dhcp-ddns.conf is a valid tern config, and one file may hold several sections.
#[derive(Parser)]
#[command(name = "tern", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the appliance.
    Serve {
        /// Configuration file (Kea JSON with comments; Dhcp4, Dhcp6, DhcpDdns, Store, Dns, Api).
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// Where the embedded PostgreSQL cluster lives when no database is configured.
        #[arg(long, value_name = "DIR", default_value = "./tern-data")]
        data_dir: PathBuf,
    },
    /// Check a configuration file and exit, like `kea-dhcp4 -t` (exit 0 when valid).
    Check {
        /// Configuration file to check.
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// Treat warnings (parts tern does not serve) as errors.
        #[arg(long)]
        strict: bool,
    },
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        action: DbAction,
        /// Configuration file naming the store.
        #[arg(short, long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        /// Data directory of the embedded cluster.
        #[arg(long, value_name = "DIR", default_value = "./tern-data", global = true)]
        data_dir: PathBuf,
    },
    /// Print the version and exit.
    Version,
    #[command(flatten)]
    Api(Box<cli::ApiCommand>),
}

#[derive(Subcommand, Clone, Copy)]
enum DbAction {
    /// Apply pending schema migrations (also done by `serve` at start).
    Migrate,
    /// Show applied and pending migrations and the Kea schema version.
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("tern {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Check { config, strict } => check(&config, strict),
        Command::Serve { config, data_dir } => run(|| serve(config, data_dir)),
        Command::Db {
            action,
            config,
            data_dir,
        } => run(|| db(action, config, data_dir)),
        Command::Api(cmd) => cli::main(*cmd),
    }
}

/// Runs an async command on a fresh runtime; any error is logged (when logging is up)
/// and printed once, and the process exits 1.
fn run<F, Fut>(f: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tern: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(f()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("TERN_FAILED {e:#}");
            eprintln!("tern: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn check(path: &Path, strict: bool) -> ExitCode {
    let config = match tern_config::load(path) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("{}: configuration check failed", path.display());
            return ExitCode::FAILURE;
        }
    };
    for d in &config.diagnostics {
        eprintln!("{} {d}", severity_word(d.severity));
    }
    // The zone files that would seed zones: read as `tern serve` reads them.
    let mut zone_errors = 0;
    for z in config.dns.iter().flat_map(|d| &d.zones) {
        if let Some(file) = &z.file {
            if let Err(errors) = tern_dnsmsg::zonefile::read(file, &z.name) {
                for e in &errors.0 {
                    eprintln!("{e}");
                }
                zone_errors += errors.0.len();
            }
        }
    }
    if zone_errors > 0 {
        eprintln!("{}: configuration check failed", path.display());
        return ExitCode::FAILURE;
    }
    let not_served = not_served_sections(&config);
    for section in &not_served {
        eprintln!("WARN  {}: {section}: {NOT_SERVED}", path.display());
    }
    let warnings = not_served.len()
        + config
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
    let sections = config.sections().join(", ");
    println!(
        "{}: configuration valid: sections {sections}; {warnings} warning(s)",
        path.display()
    );
    if strict && warnings > 0 {
        eprintln!("{}: --strict: warnings count as errors", path.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

pub(crate) const NOT_SERVED: &str = "section read and validated, but not served by this build yet";

/// Sections tern reads but does not serve yet (none since DHCPv6 landed; kept so the
/// next section to arrive is named rather than silently ignored).
const NOT_SERVED_YET: &[&str] = &[];

/// Sections of the file whose service has not landed yet: named by `check` and `serve`
/// so nobody mistakes a validated section for a served one.
pub(crate) fn not_served_sections(config: &Config) -> Vec<&'static str> {
    config
        .sections()
        .into_iter()
        .filter(|s| NOT_SERVED_YET.contains(s))
        .collect()
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Info => "INFO ",
        Severity::Warning => "WARN ",
    }
}

/// Loads the config and installs logging from its `loggers`; config errors go to stderr
/// before logging exists.
fn load_and_log(path: &Path, default_output: logging::Output) -> anyhow::Result<Config> {
    let config = tern_config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    logging::init(&logger_specs(&config), default_output).context("cannot open a log output")?;
    for d in &config.diagnostics {
        match d.severity {
            Severity::Info => info!("TERN_CONFIG_NOTE {d}"),
            Severity::Warning => warn!("TERN_CONFIG_UNSUPPORTED {d}"),
        }
    }
    Ok(config)
}

/// Kea's `loggers` entries of every section, as the logging module takes them.
pub(crate) fn logger_specs(config: &Config) -> Vec<logging::LoggerSpec> {
    config
        .loggers
        .iter()
        .map(|l| logging::LoggerSpec {
            name: l.name.clone(),
            level: logging::kea_severity(&l.severity, l.debuglevel),
            outputs: l
                .outputs
                .iter()
                .map(|o| match o.output.as_str() {
                    "stdout" => logging::Output::Stdout,
                    "stderr" => logging::Output::Stderr,
                    "syslog" => logging::Output::Syslog("tern".into()),
                    s if s.starts_with("syslog:") => logging::Output::Syslog(s[7..].into()),
                    file => logging::Output::File {
                        path: file.into(),
                        maxsize: o.maxsize,
                        maxver: o.maxver,
                    },
                })
                .collect(),
        })
        .collect()
}

/// The store as configured, plus the embedded cluster when tern runs its own.
struct OpenStore {
    store: Store,
    cluster: Option<EmbeddedCluster>,
}

impl OpenStore {
    async fn open(config: &Config, data_dir: &Path) -> anyhow::Result<Self> {
        match &config.store {
            StoreConfig::Embedded => {
                let cluster = EmbeddedCluster::start(data_dir)
                    .await
                    .context("embedded PostgreSQL")?;
                let store = Store::connect(&cluster.connect_settings()).await;
                match store {
                    Ok(store) => Ok(Self {
                        store,
                        cluster: Some(cluster),
                    }),
                    Err(e) => {
                        cluster.stop().await.ok();
                        Err(e).context("connecting to the embedded PostgreSQL")
                    }
                }
            }
            StoreConfig::Postgres(pg) => {
                let settings = store_settings(pg)?;
                let store = Store::connect(&settings)
                    .await
                    .with_context(|| format!("connecting to PostgreSQL at {}", settings))?;
                Ok(Self {
                    store,
                    cluster: None,
                })
            }
        }
    }

    async fn close(self) {
        self.store.close().await;
        if let Some(cluster) = self.cluster {
            if let Err(e) = cluster.stop().await {
                warn!("STORE_EMBEDDED_STOP_FAILED {e}");
            }
        }
    }
}

/// Maps the config's PostgreSQL settings onto the store's own type (neither crate
/// depends on the other).
fn store_settings(pg: &tern_config::PgSettings) -> anyhow::Result<tern_store::ConnectSettings> {
    let tls_required = matches!(
        pg.ssl_mode.as_deref(),
        Some("require" | "verify-ca" | "verify-full")
    );
    if tls_required || pg.trust_anchor.is_some() || pg.cert_file.is_some() || pg.key_file.is_some()
    {
        // Refuse rather than silently connect in clear text.
        anyhow::bail!("TLS connections to PostgreSQL are not supported yet: remove trust-anchor/cert-file/key-file or connect over a trusted network or Unix socket");
    }
    let user = pg
        .user
        .clone()
        .unwrap_or_else(tern_store::ConnectSettings::default_user);
    let mut settings = tern_store::ConnectSettings::from_host(&pg.host, pg.port, &pg.name, &user)
        .with_max_connections(pg.max_connections);
    settings.password = pg.password.clone();
    if let Some(t) = pg.connect_timeout {
        settings.acquire_timeout = std::time::Duration::from_secs(t.into());
    }
    Ok(settings)
}

async fn serve(config_path: PathBuf, data_dir: PathBuf) -> anyhow::Result<()> {
    // Installed first, so a SIGTERM that arrives while the store or the engines are still
    // starting is answered by an orderly stop, not by the default action.
    let signals = Signals::install()?;
    let config = load_and_log(&config_path, logging::Output::Stdout)?;
    info!(
        "TERN_STARTING tern {} starting, pid {}, config {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        config_path.display()
    );
    let open = OpenStore::open(&config, &data_dir).await?;
    let result = serve_until_signal(&config, &open.store, signals).await;
    info!("TERN_SHUTDOWN shutting down");
    open.close().await;
    result?;
    info!("TERN_STOPPED tern stopped");
    Ok(())
}

/// SIGINT and SIGTERM (stop) and SIGHUP (reload the configuration file, as Kea),
/// registered with the runtime as soon as tern starts.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            hup: signal(SignalKind::hangup()).context("installing the SIGHUP handler")?,
        })
    }
}

async fn serve_until_signal(
    config: &Config,
    store: &Store,
    mut signals: Signals,
) -> anyhow::Result<()> {
    let report = store.migrate().await.context("applying migrations")?;
    info!("STORE_READY {report}");
    for section in not_served_sections(config) {
        warn!("TERN_SECTION_NOT_SERVED {section}: {NOT_SERVED}");
    }
    let mut hosts = store.watch_hosts().await.context("watching host changes")?;
    let (reconfigure, mut requests) = tokio::sync::mpsc::channel(4);
    let mut services = services::Services::start(config, store, reconfigure).await?;
    info!("TERN_READY serving; stop with SIGINT or SIGTERM, reload the configuration with SIGHUP");
    // Reconfigurations run here, one at a time, between signals; the `shutdown` command
    // arrives the same way and stops as SIGTERM does.
    let result = loop {
        tokio::select! {
            _ = signals.int.recv() => { info!("TERN_SIGNAL SIGINT received"); break Ok(()); }
            _ = signals.term.recv() => { info!("TERN_SIGNAL SIGTERM received"); break Ok(()); }
            _ = signals.hup.recv() => {
                info!("TERN_SIGNAL SIGHUP received");
                // The outcome is logged; a refused file leaves the running configuration.
                let _ = services.reload("SIGHUP signal").await;
            }
            Some(request) = requests.recv() => {
                if services.serve_request(request).await == services::Served::Stop {
                    break Ok(());
                }
            }
            event = hosts.recv() => match event {
                Some(event) => info!("HOSTS_CHANGED {event}"),
                // The engines must still stop in order before the store goes away.
                None => break Err(anyhow::anyhow!("host change watcher stopped")),
            },
        }
    };
    // Reconfigurations still queued are answered "shutting down" rather than left waiting.
    drop(requests);
    services.shutdown().await;
    result
}

async fn db(action: DbAction, config: Option<PathBuf>, data_dir: PathBuf) -> anyhow::Result<()> {
    let config = match config {
        Some(path) => load_and_log(&path, logging::Output::Stderr)?,
        None => {
            logging::init(&[], logging::Output::Stderr)?;
            Config::embedded_default()
        }
    };
    let open = OpenStore::open(&config, &data_dir).await?;
    let result = async {
        match action {
            DbAction::Migrate => {
                let report = open.store.migrate().await?;
                println!("{report}");
            }
            DbAction::Status => {
                let status = open.store.status().await?;
                println!("{status}");
            }
        }
        anyhow::Ok(())
    }
    .await;
    open.close().await;
    result
}
