//! Positions, key paths and the diagnostics (notes and warnings) a valid config carries.

use std::fmt;
use std::sync::Arc;

/// A position in a configuration file: 1-based line and column (columns count characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The file as it was named (the top file, or an included file).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl Location {
    /// A location in `file`.
    pub fn new(file: impl Into<Arc<str>>, line: u32, column: u32) -> Self {
        Self {
            file: file.into(),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// How much a diagnostic matters. Errors are not diagnostics: they are [`crate::ConfigError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Accepted and handled differently from Kea (or built in); nothing for the operator to do.
    Info,
    /// Accepted but not honoured: clients or peers may see a difference from Kea.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
        })
    }
}

/// A note about a valid configuration, naming where it applies.
/// Displays as `FILE:LINE:COL: PATH: message`.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Info or warning.
    pub severity: Severity,
    /// Where the key or value is.
    pub location: Location,
    /// Key path, e.g. `Dhcp4.hooks-libraries[1].library`.
    pub path: String,
    /// What tern does with it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(f, "{}: {}: {}", self.location, self.path, self.message)
        }
    }
}

/// Appends a map key to a key path (`Dhcp4` + `subnet4` = `Dhcp4.subnet4`).
pub(crate) fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Appends a list index to a key path (`Dhcp4.subnet4` + 0 = `Dhcp4.subnet4[0]`).
pub(crate) fn join_index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// Truncates a value for a message, so one huge string does not flood the output.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}...")
    }
}
