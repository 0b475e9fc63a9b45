//! Plain aligned columns, like `kubectl get`: a header line, then one line per row.

use std::fmt;

use serde_json::Value;

/// A table ready to print.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &mut dyn Iterator<Item = &str>| {
            let mut out = String::new();
            for (i, (c, w)) in cells.zip(&widths).enumerate() {
                if i > 0 {
                    out.push_str("  ");
                }
                out.push_str(&format!("{c:<w$}"));
            }
            writeln!(f, "{}", out.trim_end())
        };
        line(f, &mut self.headers.iter().copied())?;
        for r in &self.rows {
            line(f, &mut r.iter().map(String::as_str))?;
        }
        if self.rows.is_empty() {
            writeln!(f, "(none)")?;
        }
        Ok(())
    }
}

/// How results are printed.
#[derive(Clone, Copy)]
pub struct Out {
    pub(super) json: bool,
}

impl Out {
    /// `value` as pretty JSON, or the table `render` makes of it.
    pub(super) fn print(self, value: &Value, render: impl FnOnce(&Value) -> Table) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).unwrap_or_default()
            );
        } else {
            print!("{}", render(value));
        }
    }

    /// A one-line confirmation on stdout, unless JSON was asked for (then `value`).
    pub(super) fn done(self, value: &Value, line: &str) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).unwrap_or_default()
            );
        } else {
            println!("{line}");
        }
    }
}

/// A string field of a JSON object, or "".
pub(super) fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// A field of a JSON object as text ("" when absent or null).
pub(super) fn text(v: &Value, k: &str) -> String {
    match v.get(k) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
