//! Why a configuration is refused.

use std::fmt;
use std::path::PathBuf;

use crate::diag::Location;

/// One invalid value: where, which key, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where the value (or the map missing a key) is.
    pub location: Location,
    /// Key path, e.g. `Dhcp6.subnet6[0].pools[0].pool`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(f, "{}: {}: {}", self.location, self.path, self.message)
        }
    }
}

/// A configuration tern refuses. Display gives one `FILE:LINE:COL: PATH: message` line per
/// problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{}: cannot read the configuration: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not Kea's JSON (or a top-level key is not a section).
    #[error("{location}: syntax error: {message}")]
    Syntax {
        /// Where the offending token starts.
        location: Location,
        /// What was expected and what was found.
        message: String,
    },
    /// One value is invalid.
    #[error("{}", Finding { location: location.clone(), path: path.clone(), message: message.clone() })]
    Invalid {
        /// Where the value is.
        location: Location,
        /// Its key path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Several values are invalid; all of them are reported.
    #[error("{}", lines(.0))]
    Several(Vec<Finding>),
    /// No section tern knows (Dhcp4, Dhcp6, DhcpDdns, Store, Dns, Api).
    #[error("{file}: no configuration section: expected at least one of Dhcp4, Dhcp6, DhcpDdns, Store, Dns, Api")]
    Empty {
        /// The file.
        file: String,
    },
}

fn lines(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigError {
    /// Builds `Invalid` from one finding, `Several` from more.
    pub(crate) fn from_findings(mut findings: Vec<Finding>) -> Self {
        if findings.len() == 1 {
            let f = findings.remove(0);
            ConfigError::Invalid {
                location: f.location,
                path: f.path,
                message: f.message,
            }
        } else {
            ConfigError::Several(findings)
        }
    }

    /// Every invalid value reported (empty for I/O, syntax and empty-file errors).
    pub fn findings(&self) -> Vec<Finding> {
        match self {
            ConfigError::Invalid {
                location,
                path,
                message,
            } => vec![Finding {
                location: location.clone(),
                path: path.clone(),
                message: message.clone(),
            }],
            ConfigError::Several(f) => f.clone(),
            _ => Vec::new(),
        }
    }

    /// Where the (first) problem is, when it has a position.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::Syntax { location, .. } | ConfigError::Invalid { location, .. } => {
                Some(location)
            }
            ConfigError::Several(f) => f.first().map(|f| &f.location),
            _ => None,
        }
    }
}
