//! Reading what dig and kdig print: the record lines of an answer and the figures of their
//! summaries.

/// The record lines of dig's or kdig's output, blanks flattened, comments and TSIG records
/// left out.
pub fn record_lines(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty() && !l.starts_with(';') && !l.contains(" ANY TSIG "))
        .collect()
}

/// The number right after `before` in `out` (`XFR size: 5004 records` → 5004 for
/// `XFR size:`).
pub fn number_after(out: &str, before: &str) -> Option<usize> {
    let rest = out.split(before).nth(1)?;
    rest.trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dig_output() {
        let out = ";; comment\nexample.com.\t300\tIN\tA\t192.0.2.1\n\
                   k.\t0\tANY\tTSIG\thmac-sha256. 1 300 32 x\n\n;; XFR size: 2 records (messages 1, bytes 9)";
        assert_eq!(record_lines(out), ["example.com. 300 IN A 192.0.2.1"]);
        assert_eq!(number_after(out, "XFR size:"), Some(2));
        assert_eq!(number_after(out, "(messages"), Some(1));
        assert_eq!(number_after(out, "nowhere"), None);
    }
}
