//! Kea's `loggers` entries, typed.

use std::path::PathBuf;

use crate::common::{Cx, Map};
use crate::diag::{excerpt, Location};
use crate::Section;

/// One `loggers` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerConfig {
    /// The section it came from.
    pub section: Section,
    /// Kea logger name (`kea-dhcp4`, `kea-dhcp-ddns.d2-to-dns`, ...).
    pub name: String,
    /// `FATAL`, `ERROR`, `WARN`, `INFO`, `DEBUG` or `NONE` (upper-cased; default `INFO`).
    pub severity: String,
    /// 0 to 99; only matters at `DEBUG`.
    pub debuglevel: u32,
    /// Where lines go (default: one `stdout` output, as in Kea).
    pub outputs: Vec<LogOutput>,
    /// Where the entry is.
    pub location: Location,
}

/// One `output-options` (Kea 3) / `output_options` (Kea 2) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOutput {
    /// `stdout`, `stderr`, `syslog`, `syslog:NAME`, or a file path.
    pub output: String,
    /// Flush after each line (default true).
    pub flush: bool,
    /// Rotate a file at this size, bytes (default 10240000; 0 = never).
    pub maxsize: u64,
    /// Rotated files kept (default 1).
    pub maxver: u32,
    /// Line pattern (log4cplus syntax), when set.
    pub pattern: Option<String>,
}

/// Where a [`LogOutput`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDestination {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// Syslog, with this ident if given.
    Syslog(Option<String>),
    /// A file.
    File(PathBuf),
}

impl LogOutput {
    /// The destination `output` names.
    pub fn destination(&self) -> LogDestination {
        match self.output.as_str() {
            "stdout" => LogDestination::Stdout,
            "stderr" => LogDestination::Stderr,
            "syslog" => LogDestination::Syslog(None),
            s => match s.strip_prefix("syslog:") {
                Some(name) => LogDestination::Syslog(Some(name.to_string())),
                None => LogDestination::File(PathBuf::from(s)),
            },
        }
    }
}

impl Default for LogOutput {
    fn default() -> Self {
        Self {
            output: "stdout".into(),
            flush: true,
            maxsize: 10_240_000,
            maxver: 1,
            pattern: None,
        }
    }
}

const SEVERITIES: [&str; 6] = ["FATAL", "ERROR", "WARN", "INFO", "DEBUG", "NONE"];

/// Reads the `loggers` list of a section map.
pub(crate) fn read_loggers(sec: &Map<'_>, cx: &mut Cx, section: Section) -> Vec<LoggerConfig> {
    let mut out = Vec::new();
    for l in sec.maps("loggers") {
        let Some(name) = l.required_str(cx, "name") else {
            continue;
        };
        if name.trim().is_empty() {
            let n = l.get("name").expect("read above");
            cx.error(
                &n.location,
                &l.path_of("name"),
                "logger name cannot be empty",
            );
            continue;
        }
        let severity = match l.get("severity") {
            None => "INFO".to_string(),
            Some(n) => {
                let Some(s) = n.as_str() else { continue };
                let up = s.to_ascii_uppercase();
                if !SEVERITIES.contains(&up.as_str()) {
                    cx.error(
                        &n.location,
                        &l.path_of("severity"),
                        format!(
                            "\"{}\" is not a severity: use one of {}",
                            excerpt(s),
                            SEVERITIES.join(", ")
                        ),
                    );
                    continue;
                }
                up
            }
        };
        let debuglevel = if l.has("debuglevel") {
            match l.int_in(cx, "debuglevel", 0, 99) {
                Some(v) => v as u32,
                None => continue,
            }
        } else {
            0
        };
        let outputs = match (l.has("output_options"), l.has("output-options")) {
            (true, true) => {
                cx.error(l.location(), &l.path, "\"output_options\" and \"output-options\" are two spellings of one key: use one");
                continue;
            }
            (false, false) => vec![LogOutput::default()],
            (true, false) => read_outputs(&l, cx, "output_options"),
            (false, true) => read_outputs(&l, cx, "output-options"),
        };
        out.push(LoggerConfig {
            section,
            name: name.to_string(),
            severity,
            debuglevel,
            outputs,
            location: l.location().clone(),
        });
    }
    out
}

fn read_outputs(l: &Map<'_>, cx: &mut Cx, key: &str) -> Vec<LogOutput> {
    let mut out = Vec::new();
    for o in l.maps(key) {
        let Some(output) = o.required_str(cx, "output") else {
            continue;
        };
        let node = o.get("output").expect("read above");
        if output.trim().is_empty() || output == "syslog:" {
            cx.error(&node.location, &o.path_of("output"), format!("\"{output}\" is not an output: use stdout, stderr, syslog, syslog:NAME or a file path"));
            continue;
        }
        let d = LogOutput::default();
        out.push(LogOutput {
            output: output.to_string(),
            flush: o.bool("flush").unwrap_or(d.flush),
            maxsize: o
                .int_in(cx, "maxsize", 0, i64::MAX)
                .map_or(d.maxsize, |v| v as u64),
            maxver: o.u32(cx, "maxver").unwrap_or(d.maxver),
            pattern: o.str("pattern").map(str::to_string),
        });
    }
    out
}
