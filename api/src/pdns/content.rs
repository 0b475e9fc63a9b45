//! Record content in PowerDNS's presentation format: parsed with hickory-proto's zone-file
//! lexer (`RData::try_from_str`) and written back the way PowerDNS writes it (TXT strings
//! quoted, names absolute).

use std::str::FromStr;

use hickory_proto::rr::{Name, RData, RecordType};

/// Types PowerDNS clients may not write: the zone's transfer machinery and pseudo-types.
const NOT_WRITABLE: &[RecordType] = &[
    RecordType::ANY,
    RecordType::AXFR,
    RecordType::IXFR,
    RecordType::OPT,
    RecordType::TSIG,
    RecordType::NULL,
];

/// Parses a type name (`A`, `TXT`, `TYPE65534`); `None` for unknown or pseudo-types.
pub fn record_type(s: &str) -> Option<RecordType> {
    let t = RecordType::from_str(&s.to_ascii_uppercase()).ok()?;
    (!NOT_WRITABLE.contains(&t) && !matches!(t, RecordType::Unknown(_))).then_some(t)
}

/// Parses one record's content for `rtype`. Names in the content must be absolute (end in
/// a dot), as PowerDNS requires: a relative one would silently become a child of the root.
pub fn parse(rtype: RecordType, content: &str) -> Result<RData, String> {
    // The parsers see arbitrary client text: a panic in one must be a 422, not a dropped
    // connection.
    let parsed = std::panic::catch_unwind(|| RData::try_from_str(rtype, content))
        .map_err(|_| "cannot be parsed".to_owned())?;
    let data = parsed.map_err(|e| e.to_string())?;
    if let Some(n) = names(&data).into_iter().find(|n| !n.is_fqdn()) {
        return Err(format!(
            "the name '{n}' is not absolute (add a trailing dot)"
        ));
    }
    Ok(data)
}

/// The domain names inside an RDATA.
fn names(data: &RData) -> Vec<&Name> {
    match data {
        RData::CNAME(n) => vec![&n.0],
        RData::PTR(n) => vec![&n.0],
        RData::NS(n) => vec![&n.0],
        RData::MX(mx) => vec![&mx.exchange],
        RData::SRV(srv) => vec![&srv.target],
        RData::SOA(soa) => vec![&soa.mname, &soa.rname],
        _ => Vec::new(),
    }
}

/// The content as PowerDNS writes it.
pub fn render(data: &RData) -> String {
    match data {
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|s| quote(s))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// One character-string in quotes, `"` and `\` escaped, bytes outside printable ASCII as
/// `\DDD` (RFC 1035 §5.1).
fn quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_round_trips_with_quotes() {
        let d = parse(RecordType::TXT, r#""v=spf1 -all" "a\"b""#).unwrap();
        assert_eq!(render(&d), r#""v=spf1 -all" "a\"b""#);
    }

    #[test]
    fn relative_names_and_bad_addresses_are_refused() {
        assert!(parse(RecordType::CNAME, "target").is_err());
        assert!(parse(RecordType::CNAME, "target.example.").is_ok());
        assert!(parse(RecordType::A, "300.1.2.3").is_err());
        assert!(parse(RecordType::MX, "10 mail.example.com.").is_ok());
        assert!(record_type("AXFR").is_none());
        assert_eq!(record_type("txt"), Some(RecordType::TXT));
    }
}
