//! BIND zone files (RFC 1035 §5): read into records for the store, and written back.
//!
//! Read: `$ORIGIN`, `$TTL` (RFC 2308 §4), `$INCLUDE file [origin]` (relative to the including
//! file; origin and current owner come back after it, RFC 1035 §5.1), omitted owners (the
//! previous one), `@`, relative names (in owners and in RDATA, made absolute as BIND does),
//! parentheses across lines, `;` comments, quoted strings, `\X` and decimal `\DDD` escapes,
//! TTLs with units (`1h30m`), class `IN` (optional). RDATA is read by
//! [`crate::content::parse`] and kept as [`crate::content::render`] writes it,
//! the store's form. hickory's own zone parser is not used: its errors carry no line, and
//! it reads `\DDD` in names as octal.
//!
//! Written ([`export`]): the SOA first, then every record in canonical name order (RFC 4034
//! §6.1) and type order, one per line, names absolute everywhere (no `$ORIGIN` needed, each
//! line stands alone).
//!
//! Pure: the reader gets files through a loader, so tests and the fuzz target need no disk.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::content;
use hickory_proto::rr::{Name, RData, RecordType};

/// One record of a zone file (the SOA is apart: [`ZoneFile::soa`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneFileRecord {
    /// Owner, absolute, case as written (`www.example.com.`).
    pub name: String,
    /// Type mnemonic, upper case (`A`, `TXT`).
    pub rtype: String,
    /// TTL, seconds.
    pub ttl: u32,
    /// RDATA as [`crate::content::render`] writes it (names absolute).
    pub content: String,
}

/// A zone's SOA record, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneFileSoa {
    /// TTL of the SOA record itself.
    pub ttl: u32,
    /// Primary name server, absolute.
    pub mname: String,
    /// Responsible mailbox as a name, absolute.
    pub rname: String,
    /// Serial.
    pub serial: u32,
    /// Refresh, seconds.
    pub refresh: u32,
    /// Retry, seconds.
    pub retry: u32,
    /// Expire, seconds.
    pub expire: u32,
    /// Minimum (the negative-caching TTL, RFC 2308 §4), seconds.
    pub minimum: u32,
}

/// A zone file read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneFile {
    /// The zone, absolute, as given to the reader.
    pub origin: String,
    /// Its SOA.
    pub soa: ZoneFileSoa,
    /// Every other record, in file order; exact duplicates dropped, each RRset with one TTL.
    pub records: Vec<ZoneFileRecord>,
}

/// One problem in a zone file, at its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ZoneFileError {
    /// The file as it was named (an `$INCLUDE`d one by its path).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

/// Every problem found in a zone file (at least one), in the order met.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ZoneFileErrors(pub Vec<ZoneFileError>);

impl fmt::Display for ZoneFileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// How the reader gets an `$INCLUDE`d file.
pub type Loader<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

/// Reads the zone file at `path` for zone `origin` (its `$INCLUDE`s from disk).
pub fn read(path: &Path, origin: &str) -> Result<ZoneFile, ZoneFileErrors> {
    let file = path.display().to_string();
    let text = read_regular(path).map_err(|e| {
        ZoneFileErrors(vec![ZoneFileError {
            file: file.clone(),
            line: 1,
            column: 1,
            message: format!("cannot read the zone file: {e}"),
        }])
    })?;
    parse(&text, path, origin, &read_regular)
}

/// A regular file's text (a FIFO or device named by mistake would block or never end).
fn read_regular(path: &Path) -> std::io::Result<String> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    std::fs::read_to_string(path)
}

/// Reads zone file text for zone `origin`; `file` names it in errors and is where relative
/// `$INCLUDE` paths start; `load` reads included files.
pub fn parse(
    text: &str,
    file: &Path,
    origin: &str,
    load: Loader<'_>,
) -> Result<ZoneFile, ZoneFileErrors> {
    let file_name = file.display().to_string();
    let zone = match parse_name(origin, None) {
        Ok(z) => z,
        Err(msg) => {
            return Err(ZoneFileErrors(vec![ZoneFileError {
                file: file_name,
                line: 1,
                column: 1,
                message: format!("zone name: {msg}"),
            }]))
        }
    };
    let mut r = Reader {
        zone: zone.clone(),
        load,
        default_ttl: None,
        last_ttl: None,
        soa: None,
        records: Vec::new(),
        errors: Vec::new(),
        depth: 0,
    };
    let mut state = FileState {
        origin: zone.clone(),
        owner: None,
    };
    r.read_text(text, file, &file_name, &mut state);
    r.finish(&file_name)
}

/// Writes a zone: the SOA first, then `records` sorted by name (canonical order, RFC 4034
/// §6.1), type and content; names absolute, one record per line (BIND's `named-checkzone`
/// and [`parse`] read it).
pub fn export(origin: &str, soa: &ZoneFileSoa, records: &[ZoneFileRecord]) -> String {
    let apex = escape_leading_dollar(origin);
    let mut out = format!(
        "; zone {origin} written by tern\n{apex} {} IN SOA {} {} {} {} {} {} {}\n",
        soa.ttl, soa.mname, soa.rname, soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum
    );
    let mut sorted: Vec<(SortKey, &ZoneFileRecord)> =
        records.iter().map(|r| (sort_key(r), r)).collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, r) in sorted {
        out.push_str(&format!(
            "{} {} IN {} {}\n",
            escape_leading_dollar(&r.name),
            r.ttl,
            r.rtype,
            r.content
        ));
    }
    out
}

/// A name at the start of a line starting with `$` would read as a directive.
fn escape_leading_dollar(name: &str) -> String {
    match name.strip_prefix('$') {
        Some(rest) => format!("\\${rest}"),
        None => name.to_string(),
    }
}

/// Labels from the root, lower case; then the type's number; then the content.
type SortKey = (Vec<Vec<u8>>, u16, String, String);

fn sort_key(r: &ZoneFileRecord) -> SortKey {
    let labels = match Name::from_ascii(&r.name) {
        Ok(n) => n.iter().rev().map(|l| l.to_ascii_lowercase()).collect(),
        // Not a name hickory reads: after every real one, by its text.
        Err(_) => vec![vec![0xff], r.name.to_ascii_lowercase().into_bytes()],
    };
    let code = type_code(&r.rtype).unwrap_or(u16::MAX);
    (labels, code, r.rtype.clone(), r.content.clone())
}

// --- reading -------------------------------------------------------------------------------

/// `$INCLUDE`s nested deeper than this are refused (a cycle, most likely).
const MAX_INCLUDE_DEPTH: usize = 8;
/// Reading stops after this many errors.
const MAX_ERRORS: usize = 100;
/// RFC 2181 §8: a TTL is at most 2^31 - 1.
const MAX_TTL: u64 = 0x7fff_ffff;

/// What one file being read changes and gets back after an `$INCLUDE`.
#[derive(Clone)]
struct FileState {
    origin: Name,
    owner: Option<(Name, String)>,
}

/// A record read, with where it was, for the checks of the whole zone.
struct Read {
    record: ZoneFileRecord,
    key: Name,
    at: Pos,
}

#[derive(Clone)]
struct Pos {
    file: String,
    line: u32,
    column: u32,
}

struct Reader<'a> {
    zone: Name,
    load: Loader<'a>,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
    soa: Option<(ZoneFileSoa, Pos)>,
    records: Vec<Read>,
    errors: Vec<ZoneFileError>,
    depth: usize,
}

/// One token of a line: its text as written (quotes and escapes kept).
#[derive(Debug, Clone)]
struct Token {
    text: String,
    quoted: bool,
    line: u32,
    column: u32,
}

/// One entry: the tokens of a line, or of several joined by parentheses.
#[derive(Debug)]
struct Entry {
    /// The line starts with a blank: the owner is the previous one.
    blank_owner: bool,
    tokens: Vec<Token>,
    line: u32,
}

impl Reader<'_> {
    fn error(&mut self, file: &str, line: u32, column: u32, message: impl Into<String>) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(ZoneFileError {
                file: file.to_string(),
                line,
                column,
                message: message.into(),
            });
        }
    }

    fn error_at(&mut self, file: &str, t: &Token, message: impl Into<String>) {
        self.error(file, t.line, t.column, message);
    }

    fn read_text(&mut self, text: &str, path: &Path, file: &str, state: &mut FileState) {
        let entries = match lex(text) {
            Ok(e) => e,
            Err((line, column, message)) => {
                self.error(file, line, column, message);
                return;
            }
        };
        for entry in entries {
            if self.errors.len() >= MAX_ERRORS {
                return;
            }
            let first = &entry.tokens[0];
            if !entry.blank_owner && first.text.starts_with('$') && !first.quoted {
                self.directive(&entry, path, file, state);
            } else {
                self.record(&entry, file, state);
            }
        }
    }

    fn directive(&mut self, entry: &Entry, path: &Path, file: &str, state: &mut FileState) {
        let t = &entry.tokens;
        let name = t[0].text.to_ascii_uppercase();
        let arity = match name.as_str() {
            "$ORIGIN" | "$TTL" => 1..=1,
            "$INCLUDE" => 1..=2,
            "$GENERATE" => {
                return self.error_at(file, &t[0], "$GENERATE is not supported: list the records");
            }
            _ => {
                return self.error_at(file, &t[0], format!("unknown directive \"{}\"", t[0].text));
            }
        };
        if !arity.contains(&(t.len() - 1)) {
            let at = t.get(arity.end() + 1).unwrap_or(&t[0]);
            let msg = match name.as_str() {
                "$INCLUDE" => "$INCLUDE takes a file name and an optional origin",
                "$TTL" => "$TTL takes one TTL",
                _ => "$ORIGIN takes one name",
            };
            return self.error_at(file, at, msg);
        }
        match name.as_str() {
            "$ORIGIN" => match parse_name(&t[1].text, Some(&state.origin)) {
                Ok(n) => state.origin = n,
                Err(msg) => self.error_at(file, &t[1], msg),
            },
            "$TTL" => match parse_ttl(&t[1].text) {
                Ok(ttl) => self.default_ttl = Some(ttl),
                Err(msg) => self.error_at(file, &t[1], msg),
            },
            _ => self.include(t, path, file, state),
        }
    }

    fn include(&mut self, t: &[Token], path: &Path, file: &str, state: &mut FileState) {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return self.error_at(
                file,
                &t[0],
                format!("$INCLUDE nested deeper than {MAX_INCLUDE_DEPTH} (a cycle?)"),
            );
        }
        let origin = match t.get(2) {
            Some(o) => match parse_name(&o.text, Some(&state.origin)) {
                Ok(n) => n,
                Err(msg) => return self.error_at(file, o, msg),
            },
            None => state.origin.clone(),
        };
        let given = unquote(&t[1]);
        let target = match path.parent() {
            Some(dir) if Path::new(&given).is_relative() => dir.join(&given),
            _ => PathBuf::from(&given),
        };
        let text = match (self.load)(&target) {
            Ok(text) => text,
            Err(e) => {
                return self.error_at(
                    file,
                    &t[1],
                    format!("cannot read included file \"{}\": {e}", target.display()),
                )
            }
        };
        // The included file starts at the given origin and the current owner; both come
        // back afterwards (RFC 1035 §5.1).
        let mut inner = FileState {
            origin,
            owner: state.owner.clone(),
        };
        self.depth += 1;
        self.read_text(&text, &target, &target.display().to_string(), &mut inner);
        self.depth -= 1;
    }

    fn record(&mut self, entry: &Entry, file: &str, state: &mut FileState) {
        let mut tokens = entry.tokens.iter();
        let owner_at = Pos {
            file: file.to_string(),
            line: entry.line,
            column: entry.tokens[0].column,
        };
        let (owner, owner_text) =
            if entry.blank_owner {
                match &state.owner {
                    Some(o) => o.clone(),
                    None => return self.error(
                        file,
                        entry.line,
                        1,
                        "no owner name: the line starts with a blank and no record is before it",
                    ),
                }
            } else {
                let t = tokens.next().expect("entries are not empty");
                let parsed = if t.quoted {
                    Err("an owner name cannot be quoted".to_string())
                } else {
                    parse_name(&t.text, Some(&state.origin))
                };
                match parsed {
                    Ok(n) => {
                        let text = n.to_ascii();
                        state.owner = Some((n.clone(), text.clone()));
                        (n, text)
                    }
                    Err(msg) => return self.error_at(file, t, msg),
                }
            };
        if !self.zone.zone_of(&owner) {
            return self.error(
                file,
                owner_at.line,
                owner_at.column,
                format!("{owner_text} is outside the zone {}", self.zone.to_ascii()),
            );
        }
        // [TTL] [class] or [class] [TTL], then the type.
        let mut ttl = None;
        let mut class_seen = false;
        let rtype_token = loop {
            let Some(t) = tokens.next() else {
                let last = entry.tokens.last().expect("not empty");
                return self.error_at(file, last, "missing record type");
            };
            let upper = t.text.to_ascii_uppercase();
            if !t.quoted && ttl.is_none() && t.text.starts_with(|c: char| c.is_ascii_digit()) {
                match parse_ttl(&t.text) {
                    Ok(v) => ttl = Some(v),
                    Err(msg) => return self.error_at(file, t, msg),
                }
            } else if !t.quoted && !class_seen && is_class(&upper) {
                if upper != "IN" {
                    return self.error_at(
                        file,
                        t,
                        format!("class {} is not served: only IN", t.text),
                    );
                }
                class_seen = true;
            } else {
                break t;
            }
        };
        let rdata: Vec<&Token> = tokens.collect();
        let data = match read_rdata(rtype_token, &rdata, &state.origin) {
            Ok(d) => d,
            Err((t, msg)) => return self.error_at(file, t, msg),
        };
        if let Some(v) = ttl {
            self.last_ttl = Some(v);
        }
        let at = owner_at;
        let (rtype, content) = match data {
            Data::Soa(soa) => {
                // Without $TTL or a TTL of its own, the SOA's own minimum (as BIND does).
                let ttl = ttl.or(self.default_ttl).unwrap_or(soa.minimum);
                self.last_ttl.get_or_insert(ttl);
                self.soa_record(&soa, ttl, &owner, &owner_text, at);
                return;
            }
            Data::Other { rtype, content } => (rtype, content),
        };
        let Some(ttl) = ttl
            .or(self.default_ttl)
            .or(self.last_ttl)
            .or(self.soa.as_ref().map(|s| s.0.minimum))
        else {
            return self.error_at(
                file,
                rtype_token,
                "no TTL: give the record one or put $TTL before it",
            );
        };
        self.records.push(Read {
            record: ZoneFileRecord {
                name: owner_text,
                rtype,
                ttl,
                content,
            },
            key: owner,
            at,
        });
    }

    fn soa_record(
        &mut self,
        soa: &hickory_proto::rr::rdata::SOA,
        ttl: u32,
        owner: &Name,
        owner_text: &str,
        at: Pos,
    ) {
        if owner != &self.zone {
            return self.error(
                &at.file,
                at.line,
                at.column,
                format!(
                    "the SOA record must be at the zone apex {}, not at {owner_text}",
                    self.zone.to_ascii()
                ),
            );
        }
        if let Some((_, first)) = &self.soa {
            let msg = format!(
                "a second SOA record (the first is at {}:{}:{})",
                first.file, first.line, first.column
            );
            return self.error(&at.file, at.line, at.column, msg);
        }
        self.soa = Some((
            ZoneFileSoa {
                ttl,
                mname: soa.mname.to_ascii(),
                rname: soa.rname.to_ascii(),
                serial: soa.serial,
                refresh: soa.refresh as u32,
                retry: soa.retry as u32,
                expire: soa.expire as u32,
                minimum: soa.minimum,
            },
            at,
        ));
    }

    /// The checks of the whole zone, then the result.
    fn finish(mut self, file: &str) -> Result<ZoneFile, ZoneFileErrors> {
        let zone_text = self.zone.to_ascii();
        if self.soa.is_none() && self.errors.is_empty() {
            self.error(
                file,
                1,
                1,
                format!("no SOA record at the zone apex {zone_text}"),
            );
        }
        // RFC 1034 §3.6.2: a CNAME has no other data beside it (the SOA counts: at the apex).
        let mut by_name: HashMap<&Name, Vec<&Read>> = HashMap::new();
        for r in &self.records {
            by_name.entry(&r.key).or_default().push(r);
        }
        let apex_soa = self.soa.as_ref().map(|s| s.1.clone());
        let mut problems = Vec::new();
        for (name, rs) in &by_name {
            let mut cnames = rs.iter().filter(|r| r.record.rtype == "CNAME");
            let Some(cname) = cnames.next() else {
                continue;
            };
            let other = rs
                .iter()
                .find(|r| r.record.rtype != "CNAME")
                .map(|r| r.at.clone())
                .or_else(|| apex_soa.clone().filter(|_| *name == &self.zone));
            if let Some(other) = other {
                let (later, earlier) = later_first(cname.at.clone(), other);
                let msg = format!(
                    "CNAME and other data at {} (RFC 1034 §3.6.2; the other is at {}:{}:{})",
                    cname.record.name, earlier.file, earlier.line, earlier.column
                );
                problems.push((later, msg));
            } else if let Some(second) = cnames.next() {
                let msg = format!(
                    "a second CNAME at {} (a name has one at most)",
                    cname.record.name
                );
                problems.push((second.at.clone(), msg));
            }
        }
        let apex_ns = self
            .records
            .iter()
            .any(|r| r.record.rtype == "NS" && r.key == self.zone);
        if let (Some(at), false) = (apex_soa, apex_ns) {
            problems.push((at, format!("no NS records at the zone apex {zone_text}")));
        }
        problems.sort_by_key(|p| (p.0.line, p.0.column));
        for (at, msg) in problems {
            self.error(&at.file, at.line, at.column, msg);
        }
        if !self.errors.is_empty() {
            return Err(ZoneFileErrors(self.errors));
        }
        let (soa, _) = self.soa.expect("no errors: an SOA");
        Ok(ZoneFile {
            origin: zone_text,
            soa,
            records: settle(self.records),
        })
    }
}

/// Exact duplicates dropped (RFC 2136 §3.4.2.2's rule, as the store keeps it); every record of
/// an RRset takes the TTL of its first (RFC 2181 §5.2, what BIND does with a warning).
fn settle(records: Vec<Read>) -> Vec<ZoneFileRecord> {
    let mut ttls: HashMap<(Name, String), u32> = HashMap::new();
    let mut seen: std::collections::HashSet<(Name, String, String)> = Default::default();
    let mut out = Vec::new();
    for r in records {
        let Read {
            mut record, key, ..
        } = r;
        if !seen.insert((key.clone(), record.rtype.clone(), record.content.clone())) {
            continue;
        }
        record.ttl = *ttls
            .entry((key, record.rtype.clone()))
            .or_insert(record.ttl);
        out.push(record);
    }
    out
}

/// The later of two places in one file, then the other; across files the first as given.
fn later_first(a: Pos, b: Pos) -> (Pos, Pos) {
    if a.file == b.file && (b.line, b.column) > (a.line, a.column) {
        (b, a)
    } else {
        (a, b)
    }
}

fn is_class(upper: &str) -> bool {
    matches!(upper, "IN" | "CH" | "HS" | "CS")
        || upper
            .strip_prefix("CLASS")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A token's text without its quotes (for file names).
fn unquote(t: &Token) -> String {
    if t.quoted {
        t.text[1..t.text.len() - 1].to_string()
    } else {
        t.text.clone()
    }
}

/// A record's data as read: the SOA apart, any other as its type's name and content.
enum Data {
    Soa(hickory_proto::rr::rdata::SOA),
    Other { rtype: String, content: String },
}

/// Types hickory-proto 0.26 does not parse, kept as BIND writes them.
enum Opaque {
    /// DHCID (RFC 4701 §3.2): base64, which DDNS writes.
    Dhcid,
    /// An unknown type in RFC 3597's generic form: `TYPE65534 \# 3 0A0B0C`.
    Generic,
}

/// The code of a type name: a mnemonic, `DHCID` or `TYPEnnn`.
fn type_code(name: &str) -> Option<u16> {
    if name == "DHCID" {
        return Some(49);
    }
    if let Some(n) = name.strip_prefix("TYPE") {
        return n.parse().ok();
    }
    RecordType::from_str(name).ok().map(u16::from)
}

/// Reads the RDATA of one record.
fn read_rdata<'t>(
    rtype_token: &'t Token,
    rdata: &[&'t Token],
    origin: &Name,
) -> Result<Data, (&'t Token, String)> {
    let data_at = rdata.first().copied().unwrap_or(rtype_token);
    let upper = rtype_token.text.to_ascii_uppercase();
    // DHCID and `TYPEnnn` are read as BIND writes them (base64, RFC 3597's generic form),
    // and a known type written as `TYPEnnn` is refused with its mnemonic.
    let opaque = upper == "DHCID"
        || upper
            .strip_prefix("TYPE")
            .is_some_and(|n| n.parse::<u16>().is_ok());
    let known = if opaque {
        None
    } else {
        content::record_type(&upper)
    };
    let Some(rtype) = known else {
        let opaque = match opaque_type(&upper) {
            Ok(o) => o,
            Err(msg) => return Err((rtype_token, msg)),
        };
        let content = opaque_content(&opaque, rdata)
            .map_err(|msg| (data_at, format!("bad {upper} record: {msg}")))?;
        return Ok(Data::Other {
            rtype: upper,
            content,
        });
    };
    if rtype == RecordType::ANAME {
        // A draft type BIND does not know: an exported zone could not be loaded.
        return Err((
            rtype_token,
            "ANAME is not a standard record type (BIND refuses it): use CNAME or A/AAAA".into(),
        ));
    }
    let text = rdata_text(rtype, rdata, origin)?;
    let data = content::parse(rtype, &text)
        .map_err(|msg| (data_at, format!("bad {rtype} record: {msg}")))?;
    let rendered = content::render(&data);
    if !rendered.is_ascii() {
        // hickory writes xn-- names inside some RDATA (SVCB, HTTPS, NAPTR) in Unicode,
        // which would not read back: refused rather than changed.
        return Err((
            data_at,
            format!("bad {rtype} record: a punycode (xn--) name here is not supported yet"),
        ));
    }
    // What is stored must read back as this record: hickory's text form of some types
    // (CAA values with escapes, found by the fuzz target) does not, so those are refused.
    if content::parse(rtype, &rendered).ok().as_ref() != Some(&data) {
        return Err((
            data_at,
            format!("bad {rtype} record: written back as \"{rendered}\", which reads differently (escapes here are not supported yet)"),
        ));
    }
    Ok(match data {
        RData::SOA(soa) => Data::Soa(soa),
        _ => Data::Other {
            rtype: rtype.to_string(),
            content: rendered,
        },
    })
}

fn opaque_type(upper: &str) -> Result<Opaque, String> {
    if upper == "DHCID" {
        return Ok(Opaque::Dhcid);
    }
    let code = upper
        .strip_prefix("TYPE")
        .and_then(|n| n.parse::<u16>().ok())
        .ok_or_else(|| format!("unknown record type \"{upper}\""))?;
    match (code, RecordType::from(code)) {
        (49, _) => Err("TYPE49 is DHCID: write DHCID and its base64".into()),
        // RFC 6895 §3.1: 0 is reserved, 128-255 are query and meta types.
        (0 | 128..=255, _) => Err(format!("{upper} is not a type a zone holds")),
        (_, RecordType::Unknown(_)) => Ok(Opaque::Generic),
        (_, known) => Err(format!("{upper} is {known}: write it as {known}")),
    }
}

/// The content of an opaque type, as BIND writes it (so the store, exports and BIND agree).
fn opaque_content(opaque: &Opaque, rdata: &[&Token]) -> Result<String, String> {
    use base64::Engine as _;
    let joined: String = rdata.iter().map(|t| t.text.as_str()).collect();
    match opaque {
        Opaque::Dhcid => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&joined)
                .map_err(|e| format!("not base64: {e}"))?;
            // RFC 4701 §3.1: identifier type (2 octets), digest type (1), digest.
            if bytes.len() < 4 {
                return Err("too short for an identifier type, a digest type and a digest".into());
            }
            Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Opaque::Generic => {
            // RFC 3597 §5: \# LENGTH HEX (the hex may be split by blanks).
            let (Some(mark), Some(len)) = (rdata.first(), rdata.get(1)) else {
                return Err(
                    "an unknown type's data is written \\# LENGTH HEX (RFC 3597 §5)".into(),
                );
            };
            if mark.text != "\\#" {
                return Err(
                    "an unknown type's data is written \\# LENGTH HEX (RFC 3597 §5)".into(),
                );
            }
            let len: usize = len
                .text
                .parse()
                .ok()
                .filter(|l| *l <= 65535)
                .ok_or_else(|| format!("\"{}\" is not a length (0 to 65535)", len.text))?;
            let hex: String = rdata[2..].iter().map(|t| t.text.as_str()).collect();
            if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("\"{hex}\" is not hexadecimal octets"));
            }
            if hex.len() / 2 != len {
                return Err(format!(
                    "the length says {len} octets, the data has {}",
                    hex.len() / 2
                ));
            }
            Ok(if len == 0 {
                "\\# 0".to_string()
            } else {
                format!("\\# {len} {}", hex.to_ascii_uppercase())
            })
        }
    }
}

/// Which RDATA fields are domain names, by type: those are made absolute against the origin
/// before the RDATA is parsed, as BIND reads them.
fn name_fields(rtype: RecordType) -> &'static [usize] {
    match rtype {
        RecordType::CNAME | RecordType::NS | RecordType::PTR | RecordType::ANAME => &[0],
        RecordType::SOA => &[0, 1],
        RecordType::MX => &[1],
        RecordType::SRV => &[3],
        RecordType::NAPTR => &[5],
        RecordType::SVCB | RecordType::HTTPS => &[1],
        _ => &[],
    }
}

/// The RDATA text for [`content::parse`]: names absolute, SOA timers in seconds.
fn rdata_text<'t>(
    rtype: RecordType,
    tokens: &[&'t Token],
    origin: &Name,
) -> Result<String, (&'t Token, String)> {
    let names = name_fields(rtype);
    let mut parts = Vec::with_capacity(tokens.len());
    for (i, t) in tokens.iter().enumerate() {
        let text = if t.quoted {
            t.text.clone()
        } else if names.contains(&i) {
            // SVCB's "." means the owner itself: it stays as written.
            if matches!(rtype, RecordType::SVCB | RecordType::HTTPS) && t.text == "." {
                t.text.clone()
            } else {
                parse_name(&t.text, Some(origin))
                    .map_err(|msg| (*t, msg))?
                    .to_ascii()
            }
        } else if rtype == RecordType::SOA && (3..=6).contains(&i) {
            // Refresh, retry, expire and minimum may carry units (BIND's `1h`).
            parse_ttl(&t.text).map_err(|msg| (*t, msg))?.to_string()
        } else {
            t.text.clone()
        };
        parts.push(text);
    }
    Ok(parts.join(" "))
}

/// A name in presentation format (RFC 1035 §5.1: `\X`, decimal `\DDD`, `@` for the origin),
/// made absolute against `origin` when it does not end in a dot.
fn parse_name(text: &str, origin: Option<&Name>) -> Result<Name, String> {
    if text == "@" {
        return origin
            .cloned()
            .ok_or_else(|| "\"@\" needs an origin".to_string());
    }
    let mut labels: Vec<Vec<u8>> = Vec::new();
    let mut label = Vec::new();
    let mut bytes = text.bytes();
    let mut absolute = false;
    while let Some(b) = bytes.next() {
        absolute = false;
        match b {
            b'.' => {
                if label.is_empty() {
                    if labels.is_empty() && bytes.len() == 0 {
                        // "." alone: the root.
                        absolute = true;
                        continue;
                    }
                    return Err(format!("\"{text}\" has an empty label"));
                }
                labels.push(std::mem::take(&mut label));
                absolute = true;
            }
            b'\\' => {
                let Some(c) = bytes.next() else {
                    return Err(format!("\"{text}\" ends in a lone '\\'"));
                };
                if c.is_ascii_digit() {
                    let mut value = u32::from(c - b'0');
                    for _ in 0..2 {
                        match bytes.next() {
                            Some(d) if d.is_ascii_digit() => {
                                value = value * 10 + u32::from(d - b'0')
                            }
                            _ => return Err(format!("\"{text}\": '\\DDD' needs three digits")),
                        }
                    }
                    label.push(
                        u8::try_from(value)
                            .map_err(|_| format!("\"{text}\": '\\{value}' is more than 255"))?,
                    );
                } else {
                    label.push(c);
                }
            }
            _ => label.push(b),
        }
    }
    if !label.is_empty() {
        labels.push(label);
    }
    // hickory writes bytes outside printable ASCII as octal escapes, which BIND would read
    // as decimal: such names are refused rather than changed on the way out.
    if labels.iter().flatten().any(|b| !(0x21..0x7f).contains(b)) {
        return Err(format!(
            "\"{text}\": names with spaces, control or non-ASCII bytes are not supported (IDNs as punycode)"
        ));
    }
    if labels.iter().any(|l| l.len() > 63) {
        return Err(format!("\"{text}\" has a label longer than 63 octets"));
    }
    let mut name = Name::from_labels(labels.iter().map(Vec::as_slice))
        .map_err(|e| format!("\"{text}\" is not a domain name: {e}"))?;
    if !absolute {
        let Some(origin) = origin else {
            return Err(format!("\"{text}\" is not absolute"));
        };
        name = name
            .append_domain(origin)
            .map_err(|_| format!("\"{text}\" is longer than 255 octets with the origin"))?;
    }
    name.set_fqdn(true);
    if name.len() > 255 {
        return Err(format!("\"{text}\" is longer than 255 octets"));
    }
    Ok(name)
}

/// A TTL: seconds, or BIND's units (`1w2d3h4m5s`, any case), at most 2^31 - 1 (RFC 2181 §8).
fn parse_ttl(text: &str) -> Result<u32, String> {
    let bad = || format!("\"{text}\" is not a TTL (seconds, or units as in 1h30m)");
    if text.is_empty() || !text.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let mut units = false;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(d.into()),
            );
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let n = number.take().ok_or_else(bad)?;
        total = total.saturating_add(n.saturating_mul(unit));
        units = true;
    }
    if let Some(n) = number {
        if units {
            // "1h30": BIND refuses a bare number after units.
            return Err(bad());
        }
        total = n;
    }
    if total > MAX_TTL {
        return Err(format!(
            "TTL \"{text}\" is more than {MAX_TTL} seconds (RFC 2181 §8)"
        ));
    }
    Ok(total as u32)
}

/// Splits zone file text into entries (RFC 1035 §5.1): tokens separated by blanks, `;`
/// comments, quoted strings, escapes, parentheses joining lines.
fn lex(text: &str) -> Result<Vec<Entry>, (u32, u32, String)> {
    let mut entries = Vec::new();
    let mut current: Option<Entry> = None;
    let mut open: Option<(u32, u32)> = None;
    for (i, raw_line) in text.split('\n').enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let chars: Vec<char> = raw_line.chars().collect();
        if open.is_none() {
            if let Some(e) = current.take() {
                if !e.tokens.is_empty() {
                    entries.push(e);
                }
            }
            current = Some(Entry {
                blank_owner: chars.first().is_some_and(|c| *c == ' ' || *c == '\t'),
                tokens: Vec::new(),
                line: line_no,
            });
        }
        let entry = current.as_mut().expect("set above");
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            let column = u32::try_from(k + 1).unwrap_or(u32::MAX);
            match c {
                ' ' | '\t' | '\r' => k += 1,
                ';' => break,
                '(' => {
                    if open.is_some() {
                        return Err((line_no, column, "nested '(' (one level only)".into()));
                    }
                    open = Some((line_no, column));
                    k += 1;
                }
                ')' => {
                    if open.take().is_none() {
                        return Err((line_no, column, "')' without '('".into()));
                    }
                    k += 1;
                }
                '"' => {
                    let mut s = String::from('"');
                    k += 1;
                    loop {
                        match chars.get(k) {
                            None => {
                                return Err((
                                    line_no,
                                    column,
                                    "a quoted string is not closed on its line".into(),
                                ))
                            }
                            Some('"') => {
                                s.push('"');
                                k += 1;
                                break;
                            }
                            Some('\\') => {
                                s.push('\\');
                                if let Some(n) = chars.get(k + 1) {
                                    s.push(*n);
                                }
                                k += 2;
                            }
                            Some(ch) => {
                                s.push(*ch);
                                k += 1;
                            }
                        }
                    }
                    entry.tokens.push(Token {
                        text: s,
                        quoted: true,
                        line: line_no,
                        column,
                    });
                }
                _ => {
                    let mut s = String::new();
                    while let Some(&ch) = chars.get(k) {
                        match ch {
                            ' ' | '\t' | '\r' | ';' | '(' | ')' | '"' => break,
                            '\\' => {
                                s.push('\\');
                                match chars.get(k + 1) {
                                    Some(n) => s.push(*n),
                                    None => {
                                        return Err((
                                            line_no,
                                            u32::try_from(k + 1).unwrap_or(u32::MAX),
                                            "a line ends in a lone '\\'".into(),
                                        ))
                                    }
                                }
                                k += 2;
                            }
                            _ => {
                                s.push(ch);
                                k += 1;
                            }
                        }
                    }
                    entry.tokens.push(Token {
                        text: s,
                        quoted: false,
                        line: line_no,
                        column,
                    });
                }
            }
        }
    }
    if let Some((line, column)) = open {
        return Err((line, column, "'(' is never closed".into()));
    }
    if let Some(e) = current {
        if !e.tokens.is_empty() {
            entries.push(e);
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_includes(p: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} not here", p.display()),
        ))
    }

    fn read_str(text: &str) -> Result<ZoneFile, ZoneFileErrors> {
        parse(text, Path::new("z.zone"), "example.com.", &no_includes)
    }

    fn errors(text: &str) -> Vec<String> {
        match read_str(text) {
            Ok(z) => panic!("expected errors, read {z:?}"),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    fn rec(z: &ZoneFile, name: &str, rtype: &str) -> Vec<(u32, String)> {
        z.records
            .iter()
            .filter(|r| r.name == name && r.rtype == rtype)
            .map(|r| (r.ttl, r.content.clone()))
            .collect()
    }

    const HEAD: &str = "$TTL 1h\n@ IN SOA ns hostmaster ( 7 1h 15m 1w 5m )\n  NS ns\n";

    #[test]
    fn bind_syntax_is_read() {
        let z = read_str(
            "$ORIGIN example.com.\n$TTL 1h30m ; default\n\
             @ 3600 IN SOA ns.example.com. hostmaster ( 2024010101 ; serial\n\
             \t7200 ; refresh\n 900 1W 300 )\n\
             \tIN NS ns\n\
             ns A 127.0.0.1\n\
             \t AAAA ::1\n\
             www 60 CNAME @\n\
             Mail IN 120 MX 10 ns\n\
             txt TXT \"hello; world\" plain \"a \\\"q\\\"\"\n\
             $ORIGIN sub\n\
             host A 192.0.2.1\n\
             srv._tcp SRV 0 5 80 host\n\
             esc\\.dot\\065 A 192.0.2.2\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(z.origin, "example.com.");
        assert_eq!(
            z.soa,
            ZoneFileSoa {
                ttl: 3600,
                mname: "ns.example.com.".into(),
                rname: "hostmaster.example.com.".into(),
                serial: 2024010101,
                refresh: 7200,
                retry: 900,
                expire: 604800,
                minimum: 300,
            }
        );
        assert_eq!(
            rec(&z, "example.com.", "NS"),
            [(5400, "ns.example.com.".into())]
        );
        assert_eq!(
            rec(&z, "ns.example.com.", "A"),
            [(5400, "127.0.0.1".into())]
        );
        assert_eq!(rec(&z, "ns.example.com.", "AAAA"), [(5400, "::1".into())]);
        assert_eq!(
            rec(&z, "www.example.com.", "CNAME"),
            [(60, "example.com.".into())]
        );
        assert_eq!(
            rec(&z, "Mail.example.com.", "MX"),
            [(120, "10 ns.example.com.".into())]
        );
        assert_eq!(
            rec(&z, "txt.example.com.", "TXT"),
            [(5400, "\"hello; world\" \"plain\" \"a \\\"q\\\"\"".into())]
        );
        assert_eq!(
            rec(&z, "host.sub.example.com.", "A"),
            [(5400, "192.0.2.1".into())]
        );
        assert_eq!(
            rec(&z, "srv._tcp.sub.example.com.", "SRV"),
            [(5400, "0 5 80 host.sub.example.com.".into())]
        );
        // Decimal escapes (\065 is 'A'); an escaped dot stays inside its label.
        assert_eq!(rec(&z, "esc\\.dotA.sub.example.com.", "A").len(), 1);
    }

    #[test]
    fn ttl_comes_from_the_record_then_ttl_then_the_previous_record() {
        let z = read_str(
            "@ 100 SOA ns h 1 2 3 4 5\n@ NS ns\n$TTL 200\na A 192.0.2.1\nb 300 A 192.0.2.2\nc A 192.0.2.3\n",
        )
        .unwrap();
        assert_eq!(z.soa.ttl, 100);
        // Before $TTL: the last explicit TTL (RFC 1035 §5.1).
        assert_eq!(rec(&z, "example.com.", "NS")[0].0, 100);
        assert_eq!(rec(&z, "a.example.com.", "A")[0].0, 200);
        assert_eq!(rec(&z, "b.example.com.", "A")[0].0, 300);
        assert_eq!(rec(&z, "c.example.com.", "A")[0].0, 200);
        assert_eq!(parse_ttl("1w2d3h4m5s"), Ok(788645));
        assert_eq!(parse_ttl("1H30M"), Ok(5400));
        assert!(parse_ttl("1h30").is_err());
        assert!(parse_ttl("2147483648").is_err());
    }

    #[test]
    fn rrsets_take_one_ttl_and_duplicates_go() {
        let z = read_str(&format!(
            "{HEAD}a 10 A 192.0.2.1\na 20 A 192.0.2.2\na 30 A 192.0.2.1\n"
        ))
        .unwrap();
        assert_eq!(
            rec(&z, "a.example.com.", "A"),
            [(10, "192.0.2.1".into()), (10, "192.0.2.2".into())]
        );
    }

    #[test]
    fn include_is_relative_to_the_including_file_and_restores_the_origin() {
        let load = |p: &Path| -> std::io::Result<String> {
            match p.to_str() {
                Some("/zones/sub/hosts.inc") => Ok("h1 A 192.0.2.1\n\tTXT in-include\n".into()),
                _ => no_includes(p),
            }
        };
        let z = parse(
            &format!("{HEAD}$INCLUDE sub/hosts.inc lan\nafter A 192.0.2.9\n$INCLUDE nope.inc\n"),
            Path::new("/zones/example.com.zone"),
            "example.com.",
            &load,
        )
        .unwrap_err();
        assert_eq!(
            z.to_string(),
            "/zones/example.com.zone:6:10: cannot read included file \"/zones/nope.inc\": /zones/nope.inc not here"
        );
        let z = parse(
            &format!("{HEAD}$INCLUDE sub/hosts.inc lan\nafter A 192.0.2.9\n"),
            Path::new("/zones/example.com.zone"),
            "example.com.",
            &load,
        )
        .unwrap();
        assert_eq!(rec(&z, "h1.lan.example.com.", "A").len(), 1);
        assert_eq!(rec(&z, "h1.lan.example.com.", "TXT").len(), 1);
        assert_eq!(rec(&z, "after.example.com.", "A").len(), 1);
        // A file including itself stops at the depth limit.
        let looping = |_: &Path| -> std::io::Result<String> { Ok("$INCLUDE loop.inc\n".into()) };
        let e = parse(
            &format!("{HEAD}$INCLUDE loop.inc\n"),
            Path::new("/zones/z"),
            "example.com.",
            &looping,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "/zones/loop.inc:1:1: $INCLUDE nested deeper than 8 (a cycle?)"
        );
        // An error inside the included file names that file.
        let load_bad = |_: &Path| -> std::io::Result<String> { Ok("\nx A 1.2.3\n".into()) };
        let e = parse(
            &format!("{HEAD}$INCLUDE bad.inc\n"),
            Path::new("/zones/z"),
            "example.com.",
            &load_bad,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "/zones/bad.inc:2:5: bad A record: network address parse error: invalid IPv4 address syntax"
        );
    }

    #[test]
    fn errors_name_file_line_and_column() {
        assert_eq!(
            errors(&format!("{HEAD}a FOO 1\nb A 300.1.1.1\nwww.example.org. A 192.0.2.1\n")),
            [
                "z.zone:4:3: unknown record type \"FOO\"",
                "z.zone:5:5: bad A record: network address parse error: invalid IPv4 address syntax",
                "z.zone:6:1: www.example.org. is outside the zone example.com.",
            ]
        );
        assert_eq!(
            errors("$TTL 1h\nwww A 192.0.2.1\n"),
            ["z.zone:1:1: no SOA record at the zone apex example.com."]
        );
        assert_eq!(
            errors(&format!("{HEAD}@ SOA a b 1 2 3 4 5\n")),
            ["z.zone:4:1: a second SOA record (the first is at z.zone:2:1)"]
        );
        assert_eq!(
            errors(&format!("{HEAD}www CNAME @\nwww A 192.0.2.1\n")),
            ["z.zone:5:1: CNAME and other data at www.example.com. (RFC 1034 §3.6.2; the other is at z.zone:4:1)"]
        );
        assert_eq!(
            errors(&format!("{HEAD}@ CNAME www\n")),
            ["z.zone:4:1: CNAME and other data at example.com. (RFC 1034 §3.6.2; the other is at z.zone:3:3)"]
        );
        assert_eq!(
            errors("@ 1 SOA a b 1 2 3 4 5\n"),
            ["z.zone:1:1: no NS records at the zone apex example.com."]
        );
        assert_eq!(
            errors(" A 192.0.2.1\n"),
            ["z.zone:1:1: no owner name: the line starts with a blank and no record is before it"]
        );
        assert_eq!(
            errors(&format!("{HEAD}x CH A 1.2.3.4\ny A (\n192.0.2.1\n")),
            ["z.zone:5:5: '(' is never closed"]
        );
        assert_eq!(
            errors(&format!(
                "{HEAD}x CH TXT a\ny 99999999999 A 192.0.2.1\n$GENERATE 1-2 a$ A 1.2.3.$\n"
            )),
            [
                "z.zone:4:3: class CH is not served: only IN",
                "z.zone:5:3: TTL \"99999999999\" is more than 2147483647 seconds (RFC 2181 §8)",
                "z.zone:6:1: $GENERATE is not supported: list the records",
            ]
        );
        assert_eq!(
            errors(&format!(
                "{HEAD}a ANAME www\nb HTTPS 1 xn--bcher-kva.example. alpn=h2\n"
            )),
            [
                "z.zone:4:3: ANAME is not a standard record type (BIND refuses it): use CNAME or A/AAAA",
                "z.zone:5:9: bad HTTPS record: a punycode (xn--) name here is not supported yet",
            ]
        );
        assert_eq!(
            errors(&format!("{HEAD}c CAA 0 tag \\#\n")),
            ["z.zone:4:7: bad CAA record: written back as \"0 tag \"\\#\"\", which reads differently (escapes here are not supported yet)"]
        );
        assert_eq!(
            errors(&format!(
                "{HEAD}a DHCID AA==\nb DHCID not*base64\nc TYPE1 \\# 4 C0000201\nd TYPE65534 \\# 2 0102 03\ne TYPE65534 01\nf TYPE255 \\# 0\n"
            )),
            [
                "z.zone:4:9: bad DHCID record: too short for an identifier type, a digest type and a digest",
                "z.zone:5:9: bad DHCID record: not base64: Invalid symbol 42, offset 3.",
                "z.zone:6:3: TYPE1 is A: write it as A",
                "z.zone:7:13: bad TYPE65534 record: the length says 2 octets, the data has 3",
                "z.zone:8:13: bad TYPE65534 record: an unknown type's data is written \\# LENGTH HEX (RFC 3597 §5)",
                "z.zone:9:3: TYPE255 is not a type a zone holds",
            ]
        );
        assert_eq!(
            errors("$TTL 1h\n@ SOA ns h 1 2 3 4 5\n NS ns\nmail MX 10 bad..name\n"),
            ["z.zone:4:12: \"bad..name\" has an empty label"]
        );
    }

    #[test]
    fn export_is_sorted_absolute_and_reads_back_the_same() {
        let z = read_str(&format!(
            "{HEAD}zz A 192.0.2.3\nB TXT \"x y\"\na MX 5 zz\n*.a A 192.0.2.4\na A 192.0.2.1\nns A 127.0.0.1\n"
        ))
        .unwrap();
        let text = export(&z.origin, &z.soa, &z.records);
        assert_eq!(
            text,
            "; zone example.com. written by tern\n\
             example.com. 3600 IN SOA ns.example.com. hostmaster.example.com. 7 3600 900 604800 300\n\
             example.com. 3600 IN NS ns.example.com.\n\
             a.example.com. 3600 IN A 192.0.2.1\n\
             a.example.com. 3600 IN MX 5 zz.example.com.\n\
             *.a.example.com. 3600 IN A 192.0.2.4\n\
             B.example.com. 3600 IN TXT \"x y\"\n\
             ns.example.com. 3600 IN A 127.0.0.1\n\
             zz.example.com. 3600 IN A 192.0.2.3\n"
        );
        let again = read_str(&text).unwrap();
        assert_eq!(again.soa, z.soa);
        let mut a = again.records.clone();
        let mut b = z.records.clone();
        a.sort_by_key(sort_key);
        b.sort_by_key(sort_key);
        assert_eq!(a, b);
    }
}
