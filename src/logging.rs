//! Logging in Kea's shape, on `tracing`.
//!
//! Lines look like Kea's so that operators' greps keep working:
//! `2026-05-31 07:04:35.008 INFO  [tern-store.embedded/4242] STORE_EMBEDDED_STARTED ...`.
//! Message ids are the first word of the message (UPPER_SNAKE), as in Kea's catalog.
//! Kea's `loggers` entries map onto per-output layers, each with its own level filter.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// Where one logger writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Standard output (Kea's default).
    Stdout,
    /// Standard error.
    Stderr,
    /// The local syslog socket, with this ident.
    Syslog(String),
    /// A file, rotated when it grows past `maxsize` bytes, keeping `maxver` old copies.
    File {
        /// File path.
        path: PathBuf,
        /// Rotation size in bytes; 0 disables rotation.
        maxsize: u64,
        /// Number of rotated files kept.
        maxver: u32,
    },
}

/// One Kea `loggers` entry, already validated by the config crate.
#[derive(Debug, Clone)]
pub struct LoggerSpec {
    /// Kea logger name (`kea-dhcp4`, `kea-dhcp-ddns.d2-to-dns`, ...).
    pub name: String,
    /// Maximum verbosity.
    pub level: LevelFilter,
    /// Where the lines go.
    pub outputs: Vec<Output>,
}

/// Which tern crates a Kea logger name stands for. The root names cover their whole
/// daemon; a child logger (`kea-dhcp4.leases`) is treated like its root, since tern's
/// module split does not follow Kea's.
fn targets_for(kea_name: &str) -> &'static [&'static str] {
    let root = kea_name.split('.').next().unwrap_or(kea_name);
    match root {
        "kea-dhcp4" | "kea-dhcp6" => &["tern_dhcp", "tern_store", "tern", "tern_config"],
        "kea-dhcp-ddns" => &["tern_d2", "tern_ncr", "tern_store", "tern", "tern_config"],
        "kea-ctrl-agent" => &["tern_api"],
        // The zone server has no Kea daemon: its loggers are named `tern-dns`.
        "tern-dns" => &["tern_dns", "tern_store"],
        _ => &[
            "tern",
            "tern_config",
            "tern_store",
            "tern_dhcp",
            "tern_d2",
            "tern_ncr",
            "tern_dns",
            "tern_api",
        ],
    }
}

/// Maps a Kea severity (and debuglevel) onto a tracing level filter.
pub fn kea_severity(severity: &str, debuglevel: u32) -> LevelFilter {
    match severity.to_ascii_uppercase().as_str() {
        "FATAL" | "ERROR" => LevelFilter::ERROR,
        "WARN" | "WARNING" => LevelFilter::WARN,
        "INFO" => LevelFilter::INFO,
        // Kea's debuglevel 0..99: above 50 is packet-level detail.
        "DEBUG" if debuglevel > 50 => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "NONE" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// Which events one logger takes.
#[derive(Clone)]
enum Filter {
    /// `TERN_LOG`'s directives.
    Env(Box<Targets>),
    /// The crates a Kea logger name stands for, up to a level. Matched by crate, not by
    /// prefix as [`Targets`] does: `tern` must not take `tern_dhcp`'s events.
    Crates(&'static [&'static str], LevelFilter),
}

impl Filter {
    fn would_enable(&self, target: &str, level: &Level) -> bool {
        match self {
            Filter::Env(t) => t.would_enable(target, level),
            Filter::Crates(crates, max) => {
                let krate = target.split("::").next().unwrap_or(target);
                level <= max && crates.contains(&krate)
            }
        }
    }
}

/// One place written to, with the filters of every logger that writes there: an event
/// two loggers take (a store message, with `kea-dhcp4` and `kea-dhcp-ddns` sharing a
/// file) is written once.
type Outputs = Vec<(Vec<Filter>, Box<dyn Layer<Registry> + Send + Sync>)>;

/// Whether two outputs are the same place (a file by its path, whatever its rotation).
fn same_place(a: &Output, b: &Output) -> bool {
    match (a, b) {
        (Output::File { path: p, .. }, Output::File { path: q, .. }) => p == q,
        _ => a == b,
    }
}

/// The outputs in use and the default output they were set up with; replaced whole by
/// [`reload`].
struct Switch {
    outputs: RwLock<Outputs>,
    default_output: Output,
}

static SWITCH: OnceLock<Arc<Switch>> = OnceLock::new();

/// Installs the global subscriber. With no specs, INFO to `default_output` (Kea's default
/// is stdout; commands whose stdout is their answer use stderr).
/// `TERN_LOG` (`target=level,...`, or one level) overrides every level for debugging.
pub fn init(specs: &[LoggerSpec], default_output: Output) -> io::Result<()> {
    let switch = Arc::new(Switch {
        outputs: RwLock::new(open_outputs(specs, &default_output)?),
        default_output,
    });
    let subscriber = tracing_subscriber::registry().with(Switched(switch.clone()));
    tracing::subscriber::set_global_default(subscriber).map_err(io::Error::other)?;
    let _ = SWITCH.set(switch);
    Ok(())
}

/// Replaces the outputs and levels (a reconfiguration's `loggers`), as Kea applies a new
/// configuration's loggers. When an output cannot be opened the old ones stay.
pub fn reload(specs: &[LoggerSpec]) -> io::Result<()> {
    let Some(switch) = SWITCH.get() else {
        return Ok(());
    };
    let outputs = open_outputs(specs, &switch.default_output)?;
    *switch.outputs.write().unwrap_or_else(|e| e.into_inner()) = outputs;
    // Call sites cached as disabled (or enabled) under the old levels are asked again.
    tracing::callsite::rebuild_interest_cache();
    Ok(())
}

fn open_outputs(specs: &[LoggerSpec], default_output: &Output) -> io::Result<Outputs> {
    let default_spec;
    let specs = if specs.is_empty() {
        default_spec = [LoggerSpec {
            name: "tern".into(),
            level: LevelFilter::INFO,
            outputs: vec![default_output.clone()],
        }];
        &default_spec[..]
    } else {
        specs
    };
    let env_override = std::env::var("TERN_LOG")
        .ok()
        .and_then(|d| match d.parse::<Targets>() {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("tern: TERN_LOG={d:?} ignored: {e}");
                None
            }
        });
    let mut places: Vec<(&Output, Vec<Filter>)> = Vec::new();
    for spec in specs {
        let filter = match &env_override {
            Some(t) => Filter::Env(Box::new(t.clone())),
            None => Filter::Crates(targets_for(&spec.name), spec.level),
        };
        for output in &spec.outputs {
            match places.iter_mut().find(|(o, _)| same_place(o, output)) {
                Some((_, filters)) => filters.push(filter.clone()),
                None => places.push((output, vec![filter.clone()])),
            }
        }
    }
    let mut outputs: Outputs = Vec::new();
    for (output, filters) in places {
        let fmt = tracing_subscriber::fmt::layer()
            .event_format(KeaFormat)
            .with_writer(OutputWriter::open(output)?)
            .with_ansi(false);
        outputs.push((filters, fmt.boxed()));
    }
    Ok(outputs)
}

fn takes(filters: &[Filter], meta: &tracing::Metadata<'_>) -> bool {
    filters
        .iter()
        .any(|f| f.would_enable(meta.target(), meta.level()))
}

/// The one layer installed: hands each event to the outputs whose levels take it. (The
/// outputs are swapped behind a lock because tracing's own reload cannot replace layers
/// that carry per-layer filters.) Spans are not forwarded: Kea's lines carry none.
struct Switched(Arc<Switch>);

impl Switched {
    fn wants(&self, meta: &tracing::Metadata<'_>) -> bool {
        let outputs = self.0.outputs.read().unwrap_or_else(|e| e.into_inner());
        outputs.iter().any(|(fs, _)| takes(fs, meta))
    }
}

impl Layer<Registry> for Switched {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if self.wants(meta) {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(
        &self,
        meta: &tracing::Metadata<'_>,
        _: tracing_subscriber::layer::Context<'_, Registry>,
    ) -> bool {
        self.wants(meta)
    }

    fn on_event(&self, event: &Event<'_>, ctx: tracing_subscriber::layer::Context<'_, Registry>) {
        let meta = event.metadata();
        let outputs = self.0.outputs.read().unwrap_or_else(|e| e.into_inner());
        for (filter, output) in outputs.iter() {
            if takes(filter, meta) {
                output.on_event(event, ctx.clone());
            }
        }
    }
}

/// Kea's line layout: `DATE TIME.ms LEVEL [logger/pid] MESSAGE-ID text fields`.
struct KeaFormat;

impl<S, N> FormatEvent<S, N> for KeaFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.3f");
        let level = match *meta.level() {
            Level::ERROR => "ERROR",
            Level::WARN => "WARN",
            Level::INFO => "INFO",
            Level::DEBUG | Level::TRACE => "DEBUG",
        };
        write!(
            writer,
            "{now} {level:<5} [{}/{}] ",
            logger_name(meta.target()),
            std::process::id()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// `tern_store::embedded` -> `tern-store.embedded`, in the style of Kea's `kea-dhcp4.leases`.
fn logger_name(target: &str) -> String {
    target.replacen('_', "-", 1).replace("::", ".")
}

/// A cloneable handle on one output; tracing asks for a writer per event.
#[derive(Clone)]
struct OutputWriter(Arc<Mutex<Sink>>);

enum Sink {
    Stdout,
    Stderr,
    Syslog {
        socket: Option<UnixDatagram>,
        ident: String,
    },
    File(RotatingFile),
}

impl OutputWriter {
    fn open(output: &Output) -> io::Result<Self> {
        let sink = match output {
            Output::Stdout => Sink::Stdout,
            Output::Stderr => Sink::Stderr,
            Output::Syslog(ident) => {
                // No syslog daemon (containers, CI) is not fatal: lines are dropped there.
                let socket = UnixDatagram::unbound()
                    .and_then(|s| s.connect("/dev/log").map(|_| s))
                    .ok();
                Sink::Syslog {
                    socket,
                    ident: ident.clone(),
                }
            }
            Output::File {
                path,
                maxsize,
                maxver,
            } => Sink::File(RotatingFile::open(path.clone(), *maxsize, *maxver)?),
        };
        Ok(Self(Arc::new(Mutex::new(sink))))
    }
}

impl<'a> MakeWriter<'a> for OutputWriter {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            sink: self.0.clone(),
            buf: Vec::with_capacity(256),
        }
    }
}

/// Collects one formatted event and hands it to the sink in one write, so lines from
/// several threads never interleave.
struct LineWriter {
    sink: Arc<Mutex<Sink>>,
    buf: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let mut sink = match self.sink.lock() {
            Ok(sink) => sink,
            Err(poisoned) => poisoned.into_inner(),
        };
        // A failing log output must never take the server down.
        let _ = match &mut *sink {
            Sink::Stdout => io::stdout().lock().write_all(&self.buf),
            Sink::Stderr => io::stderr().lock().write_all(&self.buf),
            Sink::Syslog { socket, ident } => match socket {
                Some(socket) => {
                    // RFC 3164 framing, facility user (1), severity info (6); the
                    // severity word stays in the text as Kea prints it.
                    let text = String::from_utf8_lossy(&self.buf);
                    let line = format!("<14>{ident}[{}]: {}", std::process::id(), text.trim_end());
                    socket.send(line.as_bytes()).map(|_| ())
                }
                None => Ok(()),
            },
            Sink::File(file) => file.write_line(&self.buf),
        };
    }
}

/// A log file rotated like Kea's: `name` -> `name.1` -> ... -> `name.<maxver>`.
struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    maxsize: u64,
    maxver: u32,
}

impl RotatingFile {
    fn open(path: PathBuf, maxsize: u64, maxver: u32) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path,
            file,
            size,
            maxsize,
            maxver,
        })
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        if self.maxsize > 0 && self.maxver > 0 && self.size + line.len() as u64 > self.maxsize {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        for n in (1..self.maxver).rev() {
            let from = numbered(n);
            if from.exists() {
                std::fs::rename(&from, numbered(n + 1))?;
            }
        }
        std::fs::rename(&self.path, numbered(1))?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logger_names_read_like_keas() {
        assert_eq!(logger_name("tern_store::embedded"), "tern-store.embedded");
        assert_eq!(logger_name("tern"), "tern");
    }

    #[test]
    fn kea_severities_map_to_levels() {
        assert_eq!(kea_severity("warn", 0), LevelFilter::WARN);
        assert_eq!(kea_severity("DEBUG", 0), LevelFilter::DEBUG);
        assert_eq!(kea_severity("DEBUG", 99), LevelFilter::TRACE);
        assert_eq!(kea_severity("FATAL", 0), LevelFilter::ERROR);
    }

    #[test]
    fn a_kea_logger_takes_its_daemons_crates_and_no_others() {
        let d2 = Filter::Crates(targets_for("kea-dhcp-ddns"), LevelFilter::DEBUG);
        assert!(d2.would_enable("tern_d2::service", &Level::DEBUG));
        assert!(d2.would_enable("tern", &Level::INFO));
        assert!(d2.would_enable("tern::services", &Level::INFO));
        assert!(!d2.would_enable("tern_dhcp::service", &Level::WARN));
        assert!(!d2.would_enable("tern_d2::service", &Level::TRACE));
        let dhcp = Filter::Crates(targets_for("kea-dhcp4.leases"), LevelFilter::WARN);
        assert!(dhcp.would_enable("tern_dhcp::engine", &Level::WARN));
        assert!(!dhcp.would_enable("tern_dhcp::engine", &Level::INFO));
        assert!(!dhcp.would_enable("tern_d2", &Level::ERROR));
    }

    #[test]
    fn loggers_sharing_a_file_share_one_output() {
        let dir = tempfile::tempdir().unwrap();
        let file = |maxsize| Output::File {
            path: dir.path().join("kea.log"),
            maxsize,
            maxver: 1,
        };
        let spec = |name: &str, output| LoggerSpec {
            name: name.into(),
            level: LevelFilter::INFO,
            outputs: vec![output],
        };
        let specs = [
            spec("kea-dhcp4", file(0)),
            spec("kea-dhcp-ddns", file(1 << 20)),
            spec("kea-ctrl-agent", Output::Stderr),
        ];
        let outputs = open_outputs(&specs, &Output::Stdout).unwrap();
        assert_eq!(outputs.len(), 2);
        assert_eq!(outputs[0].0.len(), 2);
    }

    #[test]
    fn file_output_rotates_at_maxsize() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tern.log");
        let mut f = RotatingFile::open(path.clone(), 100, 2).unwrap();
        for i in 0..12 {
            f.write_line(format!("line {i:02} ..........\n").as_bytes())
                .unwrap();
        }
        let current = std::fs::read_to_string(&path).unwrap();
        let older = std::fs::read_to_string(dir.path().join("tern.log.1")).unwrap();
        assert!(current.contains("line 11"), "{current}");
        assert!(older.contains("line 07"), "{older}");
        assert!(dir.path().join("tern.log.2").exists());
        assert!(!dir.path().join("tern.log.3").exists());
        assert!(current.len() <= 100);
    }
}
