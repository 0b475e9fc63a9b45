//! Plain aligned columns, like `kubectl get`: a header line, then one line per row.

use std::fmt;

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
