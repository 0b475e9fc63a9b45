//! Record content in PowerDNS's presentation format: parsed with hickory-proto's zone-file
//! lexer (`RData::try_from_str`) and written back the way PowerDNS writes it (TXT strings
//! quoted, names absolute).

use std::str::FromStr;

use hickory_proto::rr::rdata::{HINFO, TXT};
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

/// DHCID (RFC 4701), which hickory-proto has no type for: d2 writes it beside every name.
pub const DHCID: RecordType = RecordType::Unknown(49);

/// Parses a type name (`A`, `TXT`, `DHCID`, `TYPE65534` as RFC 3597 §5 writes any type);
/// `None` for unknown names or pseudo-types.
pub fn record_type(s: &str) -> Option<RecordType> {
    // What the store holds most, without an allocation.
    match s {
        "A" => return Some(RecordType::A),
        "AAAA" => return Some(RecordType::AAAA),
        "PTR" => return Some(RecordType::PTR),
        "CNAME" => return Some(RecordType::CNAME),
        "TXT" => return Some(RecordType::TXT),
        _ => {}
    }
    let upper = s.to_ascii_uppercase();
    let t = if upper == "DHCID" {
        DHCID
    } else if let Some(code) = upper
        .strip_prefix("TYPE")
        .and_then(|c| c.parse::<u16>().ok())
    {
        RecordType::from(code)
    } else {
        let t = RecordType::from_str(&upper).ok()?;
        if matches!(t, RecordType::Unknown(_)) {
            return None;
        }
        t
    };
    (!NOT_WRITABLE.contains(&t)).then_some(t)
}

/// A type's name as tern stores and prints it: the mnemonic, `DHCID`, or `TYPEnnn` (RFC 3597
/// §5) for a type hickory-proto has no name for.
pub fn type_name(t: RecordType) -> String {
    match t {
        DHCID => "DHCID".to_owned(),
        RecordType::Unknown(code) => format!("TYPE{code}"),
        t => t.to_string(),
    }
}

/// Parses one record's content for `rtype`. Names in the content must be absolute (end in
/// a dot), as PowerDNS requires: a relative one would silently become a child of the root.
pub fn parse(rtype: RecordType, content: &str) -> Result<RData, String> {
    // Character-strings are read here: hickory's lexer decodes `\DDD` escapes wrongly
    // (hickory-dns issue 3955), and TXT records are what DNS tools write most.
    match rtype {
        // The common types first, without the zone-file lexer: a 1M-record zone is loaded
        // from the store record by record (the same RDATA as hickory's parser makes).
        RecordType::A => {
            if let Ok(ip) = content.trim().parse::<std::net::Ipv4Addr>() {
                return Ok(RData::A(hickory_proto::rr::rdata::A(ip)));
            }
        }
        RecordType::AAAA => {
            if let Ok(ip) = content.trim().parse::<std::net::Ipv6Addr>() {
                return Ok(RData::AAAA(hickory_proto::rr::rdata::AAAA(ip)));
            }
        }
        RecordType::TXT => {
            let strings = character_strings(content)?;
            if strings.is_empty() {
                return Err("a TXT record needs at least one string".into());
            }
            return Ok(RData::TXT(TXT::from_bytes(
                strings.iter().map(Vec::as_slice).collect(),
            )));
        }
        // RFC 4701 §3.2: the presentation form is the data in base64.
        DHCID => {
            let text: String = content.split_whitespace().collect();
            let data = data_encoding::BASE64
                .decode(text.as_bytes())
                .map_err(|e| format!("a DHCID is base64: {e}"))?;
            if data.len() < 3 {
                return Err("a DHCID holds an identifier type, a digest type and a digest".into());
            }
            return Ok(unknown(rtype, data));
        }
        // RFC 3597 §5: `\# length hex`.
        RecordType::Unknown(_) => return generic(rtype, content).map(|d| unknown(rtype, d)),
        RecordType::HINFO => {
            let mut strings = character_strings(content)?.into_iter();
            return match (strings.next(), strings.next(), strings.next()) {
                (Some(cpu), Some(os), None) => Ok(RData::HINFO(HINFO::from_bytes(
                    cpu.into_boxed_slice(),
                    os.into_boxed_slice(),
                ))),
                _ => Err("an HINFO record is two strings: CPU and OS".into()),
            };
        }
        _ => {}
    }
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

fn unknown(code: RecordType, data: Vec<u8>) -> RData {
    RData::Unknown {
        code,
        // NULL::with asserts non-empty data; RFC 3597 allows `\# 0`.
        rdata: if data.is_empty() {
            hickory_proto::rr::rdata::NULL::new()
        } else {
            hickory_proto::rr::rdata::NULL::with(data)
        },
    }
}

/// RFC 3597 §5's generic form: `\#`, the length, then the data in hex (in any number of
/// words).
fn generic(rtype: RecordType, text: &str) -> Result<Vec<u8>, String> {
    let mut words = text.split_whitespace();
    if words.next() != Some("\\#") {
        return Err(format!(
            "type {} is written \\# LENGTH HEX",
            type_name(rtype)
        ));
    }
    let len: usize = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or("\\# must be followed by the data's length")?;
    let hex: String = words.collect();
    let data = data_encoding::HEXLOWER_PERMISSIVE
        .decode(hex.as_bytes())
        .map_err(|e| format!("the data is not hex: {e}"))?;
    if data.len() != len {
        return Err(format!(
            "the length says {len} bytes, the data has {}",
            data.len()
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
        // Names in ASCII (punycode, escapes), as written: hickory's Display turns `xn--`
        // labels into Unicode, which a tool reading its change back sees as different.
        RData::CNAME(n) => n.0.to_ascii(),
        RData::PTR(n) => n.0.to_ascii(),
        RData::NS(n) => n.0.to_ascii(),
        RData::MX(mx) => format!("{} {}", mx.preference, mx.exchange.to_ascii()),
        RData::SRV(srv) => format!(
            "{} {} {} {}",
            srv.priority,
            srv.weight,
            srv.port,
            srv.target.to_ascii()
        ),
        RData::SOA(soa) => format!(
            "{} {} {} {} {} {} {}",
            soa.mname.to_ascii(),
            soa.rname.to_ascii(),
            soa.serial,
            soa.refresh,
            soa.retry,
            soa.expire,
            soa.minimum
        ),
        // Character-strings are quoted, or spaces inside them would split them when the
        // content is read back (found by the pdns_content fuzz target).
        RData::HINFO(h) => format!("{} {}", quote(&h.cpu), quote(&h.os)),
        RData::NAPTR(n) => format!(
            "{} {} {} {} {} {}",
            n.order,
            n.preference,
            quote(&n.flags),
            quote(&n.services),
            quote(&n.regexp),
            n.replacement
        ),
        RData::Unknown { code, rdata } if *code == DHCID => {
            data_encoding::BASE64.encode(&rdata.anything)
        }
        RData::Unknown { rdata, .. } => format!(
            "\\# {} {}",
            rdata.anything.len(),
            data_encoding::HEXUPPER.encode(&rdata.anything)
        )
        .trim_end()
        .to_owned(),
        other => other.to_string(),
    }
}

/// Character-strings in presentation format (RFC 1035 §5.1): quoted or not, separated by
/// blanks, with `\X` and `\DDD` (decimal) escapes; each at most 255 octets.
fn character_strings(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut bytes = text.bytes().peekable();
    loop {
        while bytes.next_if(|b| b.is_ascii_whitespace()).is_some() {}
        let Some(&first) = bytes.peek() else {
            return Ok(out);
        };
        let quoted = first == b'"';
        if quoted {
            bytes.next();
        }
        let mut s = Vec::new();
        loop {
            match bytes.next() {
                None if quoted => return Err("a quoted string is not closed".into()),
                None => break,
                Some(b'"') if quoted => break,
                Some(b'"') => return Err("a '\"' inside an unquoted string".into()),
                Some(b) if !quoted && b.is_ascii_whitespace() => break,
                Some(b'\\') => match bytes.next() {
                    None => return Err("the text ends in a lone '\\'".into()),
                    Some(d) if d.is_ascii_digit() => {
                        let mut value = u32::from(d - b'0');
                        for _ in 0..2 {
                            match bytes.next() {
                                Some(d) if d.is_ascii_digit() => {
                                    value = value * 10 + u32::from(d - b'0')
                                }
                                _ => return Err("'\\DDD' needs three digits".into()),
                            }
                        }
                        let octet = u8::try_from(value)
                            .map_err(|_| format!("'\\{value}' is more than 255"))?;
                        s.push(octet);
                    }
                    Some(b) => s.push(b),
                },
                Some(b) => s.push(b),
            }
        }
        if s.len() > 255 {
            return Err(format!(
                "a character-string is at most 255 octets, this one has {} (split it into several quoted strings)",
                s.len()
            ));
        }
        out.push(s);
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
    fn dhcid_and_generic_types_round_trip() {
        // RFC 4701 §3.6's first example.
        let text = "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=";
        let t = record_type("dhcid").unwrap();
        assert_eq!(type_name(t), "DHCID");
        let d = parse(t, text).unwrap();
        assert_eq!(render(&d), text);
        assert!(parse(t, "not base64!").is_err());
        let t = record_type("TYPE65534").unwrap();
        assert_eq!(type_name(t), "TYPE65534");
        let d = parse(t, "\\# 3 0a0B0c").unwrap();
        assert_eq!(render(&d), "\\# 3 0A0B0C");
        assert!(parse(t, "\\# 2 0a0b0c").is_err(), "length mismatch");
        assert_eq!(record_type("TYPE1"), Some(RecordType::A));
        assert_eq!(record_type("FOO"), None);
        assert_eq!(record_type("TSIG"), None);
    }

    #[test]
    fn txt_round_trips_with_quotes() {
        let d = parse(RecordType::TXT, r#""v=spf1 -all" "a\"b""#).unwrap();
        assert_eq!(render(&d), r#""v=spf1 -all" "a\"b""#);
    }

    #[test]
    fn character_strings_with_spaces_round_trip() {
        for (t, text) in [
            (RecordType::HINFO, r#""Intel Xeon" "Debian GNU/Linux""#),
            (
                RecordType::NAPTR,
                r#"100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" ."#,
            ),
        ] {
            let d = parse(t, text).unwrap();
            assert_eq!(render(&d), text);
            assert_eq!(parse(t, &render(&d)).unwrap(), d);
        }
    }

    #[test]
    fn names_are_written_as_sent_in_ascii() {
        for (t, text) in [
            (RecordType::CNAME, "xn--bcher-kva.example."),
            (RecordType::MX, "10 xn--bcher-kva.example."),
            (RecordType::SRV, "0 5 5060 sip.xn--bcher-kva.example."),
        ] {
            assert_eq!(render(&parse(t, text).unwrap()), text);
        }
    }

    #[test]
    fn decimal_escapes_are_octets() {
        let d = parse(RecordType::TXT, r#""a\065\000b" c\ d "\255""#).unwrap();
        let RData::TXT(t) = &d else { panic!("{d:?}") };
        let got: Vec<&[u8]> = t.txt_data.iter().map(|s| &s[..]).collect();
        assert_eq!(got, [&b"aA\0b"[..], b"c d", &[255]]);
        assert_eq!(render(&d), r#""aA\000b" "c d" "\255""#);
        for bad in [r#""open"#, r#""\256""#, r#""\12""#, "a\\", ""] {
            assert!(parse(RecordType::TXT, bad).is_err(), "{bad}");
        }
        assert!(parse(RecordType::TXT, &"x".repeat(256)).is_err());
        assert!(parse(RecordType::HINFO, r#""one""#).is_err());
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
