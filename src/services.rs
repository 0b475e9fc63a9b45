//! The engines a configuration asks for: started in dependency order, stopped in reverse,
//! and swapped for a new configuration (`config-set`, `config-reload`, SIGHUP) while the
//! API keeps serving.
//!
//! A reconfiguration is checked before anything stops; the engines are then restarted
//! on it, and if one of them cannot start, the previous configuration is started again
//! and the reason is the answer. The store and the API cannot change in place (their
//! clients would lose their connections mid-request), so a new configuration that
//! changes them is refused as a whole, naming the section, rather than half applied.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use serde_json::Value;
use tern_api::{Reconfigure, ReconfigureRequest, RunningConfig};
use tern_config::{Config, Severity};
use tern_store::Store;
use tracing::{error, info, warn};

/// The engines' counters, kept across reconfigurations (Kea's `pkt4-*` and `ncr-*`
/// counters go on through a reload); a flag says whether the engine runs, so the API
/// reports only the statistics of engines that are configured.
#[derive(Clone, Default)]
struct Counters {
    dhcp4: Arc<tern_dhcp::Stats>,
    dhcp4_on: Arc<AtomicBool>,
    dhcp6: Arc<tern_dhcp::v6::Stats6>,
    dhcp6_on: Arc<AtomicBool>,
    d2: Arc<tern_d2::D2Stats>,
    d2_on: Arc<AtomicBool>,
    dns: Arc<tern_dns::stats::Stats>,
    dns_on: Arc<AtomicBool>,
}

impl Counters {
    fn sources(&self) -> Vec<tern_api::Snapshot> {
        let (d2, d2_on) = (self.d2.clone(), self.d2_on.clone());
        let (dhcp4, dhcp4_on) = (self.dhcp4.clone(), self.dhcp4_on.clone());
        let (dns, dns_on) = (self.dns.clone(), self.dns_on.clone());
        let (dhcp6, dhcp6_on) = (self.dhcp6.clone(), self.dhcp6_on.clone());
        vec![
            Box::new(move || {
                if !dns_on.load(Ordering::Relaxed) {
                    return Vec::new();
                }
                dns.snapshot()
            }),
            Box::new(move || {
                if !d2_on.load(Ordering::Relaxed) {
                    return Vec::new();
                }
                d2.snapshot()
                    .into_iter()
                    .map(|(k, v)| (k, i64::try_from(v).unwrap_or(i64::MAX)))
                    .collect()
            }),
            Box::new(move || {
                if !dhcp4_on.load(Ordering::Relaxed) {
                    return Vec::new();
                }
                dhcp4.snapshot()
            }),
            Box::new(move || {
                if !dhcp6_on.load(Ordering::Relaxed) {
                    return Vec::new();
                }
                dhcp6.snapshot()
            }),
        ]
    }
}

/// Which engines a start or stop concerns.
#[derive(Clone, Copy)]
struct Engines {
    dhcp4: bool,
    dhcp6: bool,
    d2: bool,
    dns: bool,
}

impl Engines {
    const ALL: Engines = Engines {
        dhcp4: true,
        dhcp6: true,
        d2: true,
        dns: true,
    };
}

/// What the main loop does after a request from the API.
#[derive(Debug, PartialEq, Eq)]
pub enum Served {
    /// Go on serving.
    Continue,
    /// `shutdown`: stop.
    Stop,
}

/// The running engines and the configuration they run.
pub struct Services {
    dns: Option<tern_dns::DnsHandle>,
    d2: Option<tern_d2::D2Handle>,
    dhcp4: Option<tern_dhcp::Dhcp4Handle>,
    dhcp6: Option<tern_dhcp::v6::Dhcp6Handle>,
    api: Option<tern_api::ApiHandle>,
    counters: Counters,
    store: Store,
    config: Config,
    /// The API's view of the running configuration, updated after each reconfiguration.
    api_running: Option<RunningConfig>,
}

impl Services {
    /// Starts what `config` asks for: the zone server first (d2 may update its zones),
    /// then d2 (it drains the queue the DHCP engine writes), then DHCPv4, then the API
    /// that reports on them. A part that cannot
    /// start stops tern, as Kea refuses a config it cannot serve; what did start is
    /// stopped again before the error is returned.
    pub async fn start(
        config: &Config,
        store: &Store,
        reconfigure: tokio::sync::mpsc::Sender<ReconfigureRequest>,
    ) -> anyhow::Result<Self> {
        let mut s = Services {
            dns: None,
            d2: None,
            dhcp4: None,
            dhcp6: None,
            api: None,
            counters: Counters::default(),
            store: store.clone(),
            config: config.clone(),
            api_running: None,
        };
        let started = async {
            s.start_engines(config, Engines::ALL).await?;
            s.start_api(config, reconfigure).await
        }
        .await;
        match started {
            Ok(()) => Ok(s),
            Err(e) => {
                s.shutdown().await;
                Err(e)
            }
        }
    }

    async fn start_engines(&mut self, config: &Config, which: Engines) -> anyhow::Result<()> {
        if let Some(dns) = config.dns.as_ref().filter(|_| which.dns) {
            let settings = tern_dns::service::settings(dns, config.ddns.as_ref())
                .map_err(|e| anyhow::anyhow!("Dns: {e}"))?;
            let handle =
                tern_dns::service::start(settings, self.store.clone(), self.counters.dns.clone())
                    .await
                    .context("starting the zone server")?;
            self.counters.dns_on.store(true, Ordering::Relaxed);
            self.dns = Some(handle);
        }
        if let Some(ddns) = config.ddns.as_ref().filter(|_| which.d2) {
            let options = tern_d2::D2Options {
                stats: Some(self.counters.d2.clone()),
                ..tern_d2::D2Options::from_env()
            };
            let d2 = tern_d2::D2Service::start_with(ddns, self.store.clone(), options)
                .await
                .context("starting d2")?;
            self.counters.d2_on.store(true, Ordering::Relaxed);
            self.d2 = Some(d2);
        }
        if let Some(dhcp4) = config.dhcp4.as_ref().filter(|_| which.dhcp4) {
            let handle = tern_dhcp::Dhcp4Service::start_counting(
                dhcp4,
                self.store.clone(),
                self.counters.dhcp4.clone(),
            )
            .await
            .context("starting the DHCPv4 server")?;
            self.counters.dhcp4_on.store(true, Ordering::Relaxed);
            self.dhcp4 = Some(handle);
        }
        if let Some(dhcp6) = config.dhcp6.as_ref().filter(|_| which.dhcp6) {
            let handle = tern_dhcp::v6::Dhcp6Service::start(
                dhcp6,
                self.store.clone(),
                self.counters.dhcp6.clone(),
            )
            .await
            .context("starting the DHCPv6 server")?;
            self.counters.dhcp6_on.store(true, Ordering::Relaxed);
            self.dhcp6 = Some(handle);
        }
        Ok(())
    }

    async fn start_api(
        &mut self,
        config: &Config,
        reconfigure: tokio::sync::mpsc::Sender<ReconfigureRequest>,
    ) -> anyhow::Result<()> {
        let Some(api) = &config.api else {
            return Ok(());
        };
        let json = tern_api::read_config_json(&config.file)?;
        // The API checks arguments against the sections the engines run, as validated
        // here (not parsed again from the document).
        let mut ctx = tern_api::ApiContext::with_sections(
            self.store.clone(),
            config.file.clone(),
            json,
            tern_api::Sections::of(config),
            env!("CARGO_PKG_VERSION"),
        );
        ctx.stats = Arc::new(tern_api::EngineStats::new(self.counters.sources()));
        ctx.reconfigure = Some(reconfigure);
        self.api_running = Some(ctx.running.clone());
        let handle = tern_api::ApiServer::start(api, ctx)
            .await
            .context("starting the API")?;
        self.api = Some(handle);
        Ok(())
    }

    /// No new leases, then d2 finishes its in-flight DNS transactions (the rest stays
    /// queued), then the zone server stops. The API is not touched.
    async fn stop_engines(&mut self, which: Engines) {
        if let Some(dhcp4) = self.dhcp4.take_if(|_| which.dhcp4) {
            dhcp4.shutdown().await;
            self.counters.dhcp4_on.store(false, Ordering::Relaxed);
        }
        if let Some(dhcp6) = self.dhcp6.take_if(|_| which.dhcp6) {
            dhcp6.shutdown().await;
            self.counters.dhcp6_on.store(false, Ordering::Relaxed);
        }
        if let Some(d2) = self.d2.take_if(|_| which.d2) {
            d2.shutdown().await;
            self.counters.d2_on.store(false, Ordering::Relaxed);
        }
        // Last: d2's in-flight updates may still be going to it.
        if let Some(dns) = self.dns.take_if(|_| which.dns) {
            dns.shutdown().await;
            self.counters.dns_on.store(false, Ordering::Relaxed);
        }
    }

    /// Stops in reverse order: no new API calls, then the engines.
    pub async fn shutdown(mut self) {
        if let Some(api) = self.api.take() {
            api.shutdown().await;
        }
        self.stop_engines(Engines::ALL).await;
    }

    /// Carries out one request from the API and answers it: a reconfiguration, or
    /// `shutdown`, answered at once and returned as [`Served::Stop`] for the main loop to
    /// stop everything in the usual order (as on SIGTERM).
    pub async fn serve_request(&mut self, request: ReconfigureRequest) -> Served {
        let outcome = match request.what {
            Reconfigure::Reload => self.reload("config-reload command").await,
            Reconfigure::Set(sections) => self.set(sections).await,
            Reconfigure::Shutdown => {
                let _ = request.reply.send(Ok(()));
                return Served::Stop;
            }
        };
        // The caller may have gone (HTTP client disconnected); the outcome is logged.
        let _ = request.reply.send(outcome);
        Served::Continue
    }

    /// Reads the configuration file again and runs it (`config-reload`, SIGHUP).
    pub async fn reload(&mut self, why: &str) -> Result<(), String> {
        let file = self.config.file.display().to_string();
        info!("DHCP4_DYNAMIC_RECONFIGURATION initiate server reconfiguration using file: {file}, after receiving {why}");
        let loaded = tern_config::load(&self.config.file)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                let json = match self.api_running {
                    Some(_) => {
                        Some(tern_api::read_config_json(&c.file).map_err(|e| e.to_string())?)
                    }
                    None => None,
                };
                Ok((c, json))
            });
        let outcome = match loaded {
            // The whole file, so also key files named in it: every engine restarts.
            Ok((config, json)) => self.apply(config, json, Engines::ALL).await,
            Err(e) => Err(e),
        };
        match &outcome {
            Ok(()) => info!(
                "DHCP4_DYNAMIC_RECONFIGURATION_SUCCESS dynamic server reconfiguration succeeded with file: {file}"
            ),
            Err(e) => error!(
                "DHCP4_DYNAMIC_RECONFIGURATION_FAIL dynamic server reconfiguration failed with file: {file}: {e}; the previous configuration is still running"
            ),
        }
        outcome
    }

    /// `config-set`: the given sections replace the running ones.
    async fn set(&mut self, sections: serde_json::Map<String, Value>) -> Result<(), String> {
        let names: Vec<String> = sections.keys().cloned().collect();
        let mut json = self
            .api_running
            .as_ref()
            .map(|r| r.get().json.clone())
            .unwrap_or_else(|| Value::Object(Default::default()));
        if let Value::Object(m) = &mut json {
            m.extend(sections);
        }
        let origin = self.config.file.display().to_string();
        let outcome = match tern_config::parse_str(&json.to_string(), &origin) {
            Ok(mut config) => {
                // Relative paths and later reloads keep meaning the file tern started with.
                config.file = self.config.file.clone();
                // Only the engines whose sections were given restart, as with Kea's
                // separate daemons (a new Dhcp4 does not interrupt DNS updates).
                let which = Engines {
                    dhcp4: names.iter().any(|n| n == "Dhcp4"),
                    dhcp6: names.iter().any(|n| n == "Dhcp6"),
                    d2: names.iter().any(|n| n == "DhcpDdns"),
                    // Its keys may be DhcpDdns's.
                    dns: names.iter().any(|n| n == "Dns" || n == "DhcpDdns"),
                };
                self.apply(config, Some(json), which).await
            }
            Err(e) => Err(e.to_string()),
        };
        match &outcome {
            Ok(()) => info!(
                "DHCP4_CONFIG_COMPLETE configuration set over the command channel: {} replaced",
                names.join(", ")
            ),
            Err(e) => error!(
                "DHCP4_CONFIG_LOAD_FAIL configuration from the command channel refused: {e}; the previous configuration is still running"
            ),
        }
        outcome
    }

    /// Checks `config` against what cannot change and what the engines would refuse,
    /// then restarts the engines on it; on failure the previous configuration runs again.
    async fn apply(
        &mut self,
        config: Config,
        json: Option<Value>,
        which: Engines,
    ) -> Result<(), String> {
        if config.store != self.config.store {
            return Err("the database (Store section or lease-database) cannot change while tern runs: restart tern to use another one".into());
        }
        // Compared as written: the parsed section also records where it was in the file.
        let api_text = |c: &Config| c.api.as_ref().map(|a| a.raw.to_json());
        if api_text(&config) != api_text(&self.config) {
            return Err(
                "the Api section cannot change while tern runs: restart tern to apply it".into(),
            );
        }
        if let Some(d) = &config.dhcp4 {
            tern_dhcp::ServerConfig::from_config(d).map_err(|e| format!("Dhcp4: {e}"))?;
        }
        if let Some(d) = &config.dhcp6 {
            tern_dhcp::v6::Config6::from_config(d).map_err(|e| format!("Dhcp6: {e}"))?;
        }
        if let Some(d) = &config.ddns {
            tern_d2::D2Service::validate(d).map_err(|e| format!("DhcpDdns: {e}"))?;
        }
        if let Some(d) = &config.dns {
            tern_dns::service::settings(d, config.ddns.as_ref())
                .map_err(|e| format!("Dns: {e}"))?;
        }
        for d in &config.diagnostics {
            match d.severity {
                Severity::Info => info!("TERN_CONFIG_NOTE {d}"),
                Severity::Warning => warn!("TERN_CONFIG_UNSUPPORTED {d}"),
            }
        }
        for section in crate::not_served_sections(&config) {
            warn!("TERN_SECTION_NOT_SERVED {section}: {}", crate::NOT_SERVED);
        }
        if config.loggers != self.config.loggers {
            // Applied first, as Kea does, so the rest of the reconfiguration is logged
            // where the new configuration says; an output that cannot be opened refuses
            // the configuration.
            crate::logging::reload(&crate::logger_specs(&config))
                .map_err(|e| format!("loggers: cannot open a log output: {e}"))?;
            info!("TERN_LOGGERS_APPLIED logging set up from the new configuration");
        }
        self.stop_engines(which).await;
        match self.start_engines(&config, which).await {
            Ok(()) => {
                self.config = config;
                if let (Some(running), Some(json)) = (&self.api_running, json) {
                    running.set(json, tern_api::Sections::of(&self.config));
                }
                Ok(())
            }
            Err(e) => {
                let reason = format!("{e:#}");
                if config.loggers != self.config.loggers {
                    if let Err(e) = crate::logging::reload(&crate::logger_specs(&self.config)) {
                        error!("TERN_LOGGERS_ROLLBACK_FAILED the previous loggers could not be set up again: {e}");
                    }
                }
                self.stop_engines(which).await;
                let previous = self.config.clone();
                if let Err(e2) = self.start_engines(&previous, which).await {
                    error!("TERN_RECONFIGURE_ROLLBACK_FAILED the previous configuration could not be started again either: {e2:#}; engines stopped, the API still answers");
                }
                Err(reason)
            }
        }
    }
}
