//! Kea's extended JSON, parsed into a tree whose every node knows its file, line and column.
//!
//! What Kea accepts beyond JSON, and so do we: comments (`#` and `//` to the end of the line,
//! `/* ... */`), trailing commas (with a warning, as Kea 3 does: "Extraneous comma"), numbers in
//! Kea's looser spelling (`.5`, `5.`, `+1`, `01`), and the `<?include "file"?>` directive, which
//! splices another file's text in at that point (a relative path is taken from the directory of
//! the file that includes it). Duplicate keys: the later value wins, with a warning.
//!
//! The parser never panics: bad input of any kind is a [`SyntaxError`] with a position.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{excerpt, Diagnostic, Location, Severity};

/// Deepest nesting accepted; deeper input is an error instead of a stack overflow.
const MAX_DEPTH: usize = 128;
/// Deepest chain of `<?include?>`s (Kea stops at 10 too).
const MAX_INCLUDE_DEPTH: usize = 10;
/// Largest included file read.
const MAX_INCLUDE_BYTES: u64 = 64 * 1024 * 1024;

/// One value of the tree with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where its first character is.
    pub location: Location,
}

/// A JSON value. Integers and floats are kept apart, as Kea's grammar does.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number without fraction or exponent.
    Integer(i64),
    /// A number with a fraction or exponent.
    Float(f64),
    /// A string, escapes resolved.
    String(String),
    /// A list.
    Array(Vec<Node>),
    /// A map, in file order.
    Object(Object),
}

/// A JSON object: members in file order, keys unique (a duplicate replaced the earlier value).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    members: Vec<Member>,
}

/// One `"key": value` pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The key.
    pub key: String,
    /// Where the key's opening quote is.
    pub key_location: Location,
    /// The value.
    pub value: Node,
}

impl Object {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.member(key).map(|m| &m.value)
    }

    /// The whole member for `key`, if present.
    pub fn member(&self, key: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.key == key)
    }

    /// Members in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Member> {
        self.members.iter()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.member(key).is_some()
    }
}

impl<'a> IntoIterator for &'a Object {
    type Item = &'a Member;
    type IntoIter = std::slice::Iter<'a, Member>;
    fn into_iter(self) -> Self::IntoIter {
        self.members.iter()
    }
}

impl Node {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, if this is one (floats are not integers, as in Kea).
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Integer(i) => Some(i),
            _ => None,
        }
    }

    /// The number as a float (integers convert).
    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Integer(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The list, if this is one.
    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The map, if this is one.
    pub fn as_object(&self) -> Option<&Object> {
        match &self.value {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// What kind of value this is, with a short excerpt, for messages: `string "abc"`.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Null => "null".into(),
            Value::Bool(b) => format!("boolean {b}"),
            Value::Integer(i) => format!("integer {i}"),
            Value::Float(f) => format!("floating point {f}"),
            Value::String(s) => format!("string \"{}\"", excerpt(s)),
            Value::Array(_) => "a list".into(),
            Value::Object(_) => "a map".into(),
        }
    }

    /// The same value as plain JSON (positions dropped), e.g. to hand hook parameters on.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Integer(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::Array(a) => J::Array(a.iter().map(Node::to_json).collect()),
            Value::Object(o) => J::Object(
                o.iter()
                    .map(|m| (m.key.clone(), m.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A syntax error: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the offending token or character starts.
    pub location: Location,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: syntax error: {}", self.location, self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// A parsed document: the root and the warnings met on the way.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The root value (an object when parsed with [`parse_document`]).
    pub root: Node,
    /// Trailing commas, duplicate keys.
    pub warnings: Vec<Diagnostic>,
}

/// Reads an included file. The default reads regular files from disk.
pub type IncludeLoader<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

/// Reads a regular file (not a device or FIFO, which could block), up to a size limit.
pub fn read_regular_file(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    if meta.len() > MAX_INCLUDE_BYTES {
        return Err(Error::new(ErrorKind::InvalidInput, "file too large"));
    }
    std::fs::read_to_string(path)
}

/// Checks a root key; `Err(reason)` is reported as a syntax error at the key.
pub type RootKeyCheck<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// Options for [`parse_document`].
pub struct ParseOptions<'a> {
    /// How `<?include?>` files are read; `None` refuses includes.
    pub loader: Option<IncludeLoader<'a>>,
    /// Checks each key of the root object as it is read; `Err(reason)` becomes a syntax error
    /// at that key. This is what turns a stray `}` that closes a section early into an error at
    /// the key that then lands at the top level, the place Kea reports it too.
    pub root_key_check: Option<RootKeyCheck<'a>>,
}

impl Default for ParseOptions<'_> {
    fn default() -> Self {
        Self {
            loader: Some(&read_regular_file),
            root_key_check: None,
        }
    }
}

/// Parses any JSON value (with Kea's extensions) from `text`, named `file_name` in positions.
pub fn parse_value(text: &str, file_name: &str) -> Result<Parsed, SyntaxError> {
    let opts = ParseOptions {
        loader: None,
        root_key_check: None,
    };
    let mut p = Parser::new(text, file_name, &opts);
    let root = p.value(0)?;
    p.expect_end()?;
    Ok(Parsed {
        root,
        warnings: p.warnings,
    })
}

/// Parses a configuration document: the root must be an object.
pub fn parse_document(
    text: &str,
    file_name: &str,
    opts: &ParseOptions<'_>,
) -> Result<Parsed, SyntaxError> {
    let mut p = Parser::new(text, file_name, opts);
    let first = p.next()?;
    let root = match first.tok {
        Tok::LBrace => p.object_body(first.location, 0, opts.root_key_check)?,
        _ => {
            return Err(SyntaxError {
                location: first.location,
                message: format!(
                    "a configuration must be a JSON map ('{{ ... }}'), found {}",
                    first.tok.describe()
                ),
            })
        }
    };
    p.expect_end()?;
    Ok(Parsed {
        root,
        warnings: p.warnings,
    })
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Colon,
    Comma,
    Str(String),
    Int(i64),
    Float(f64),
    True,
    False,
    Null,
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LBrace => "'{'".into(),
            Tok::RBrace => "'}'".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
            Tok::Colon => "':'".into(),
            Tok::Comma => "','".into(),
            Tok::Str(s) => format!("string \"{}\"", excerpt(s)),
            Tok::Int(i) => format!("integer {i}"),
            Tok::Float(f) => format!("floating point {f}"),
            Tok::True => "true".into(),
            Tok::False => "false".into(),
            Tok::Null => "null".into(),
            Tok::Eof => "end of file".into(),
        }
    }
}

struct Token {
    tok: Tok,
    location: Location,
}

/// One file being read; includes push more.
struct Source {
    file: Arc<str>,
    /// Resolved path, for relative includes and cycle detection (None for in-memory text).
    path: Option<PathBuf>,
    chars: Vec<char>,
    pos: usize,
    line: u32,
    column: u32,
}

impl Source {
    fn new(text: &str, file: Arc<str>, path: Option<PathBuf>) -> Self {
        let mut chars: Vec<char> = text.chars().collect();
        if chars.first() == Some(&'\u{feff}') {
            chars.remove(0);
        }
        Self {
            file,
            path,
            chars,
            pos: 0,
            line: 1,
            column: 1,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn here(&self) -> Location {
        Location {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
        }
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }
}

struct Lexer<'a> {
    stack: Vec<Source>,
    loader: Option<IncludeLoader<'a>>,
}

fn err<T>(location: Location, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        location,
        message: message.into(),
    })
}

impl Lexer<'_> {
    fn src(&mut self) -> &mut Source {
        // The stack is never empty: the top file is popped only by nobody.
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn next(&mut self) -> Result<Token, SyntaxError> {
        loop {
            self.skip_blanks()?;
            let src = self.src();
            let location = src.here();
            let Some(c) = src.peek() else {
                if self.stack.len() > 1 {
                    self.stack.pop();
                    continue;
                }
                return Ok(Token {
                    tok: Tok::Eof,
                    location,
                });
            };
            let single = match c {
                '{' => Some(Tok::LBrace),
                '}' => Some(Tok::RBrace),
                '[' => Some(Tok::LBracket),
                ']' => Some(Tok::RBracket),
                ':' => Some(Tok::Colon),
                ',' => Some(Tok::Comma),
                _ => None,
            };
            if let Some(tok) = single {
                src.bump();
                return Ok(Token { tok, location });
            }
            if c == '<' && src.peek_at(1) == Some('?') {
                self.include(location)?;
                continue;
            }
            let tok = match c {
                '"' => Tok::Str(self.string()?),
                '-' | '+' | '.' | '0'..='9' => self.number()?,
                c if c.is_ascii_alphabetic() => self.word()?,
                c => return err(location, format!("invalid character {}", show_char(c))),
            };
            return Ok(Token { tok, location });
        }
    }

    fn skip_blanks(&mut self) -> Result<(), SyntaxError> {
        let src = self.src();
        loop {
            match src.peek() {
                Some(' ' | '\t' | '\r' | '\n') => {
                    src.bump();
                }
                Some('#') => skip_line(src),
                Some('/') if src.peek_at(1) == Some('/') => skip_line(src),
                Some('/') if src.peek_at(1) == Some('*') => {
                    let start = src.here();
                    src.bump();
                    src.bump();
                    loop {
                        if src.starts_with("*/") {
                            src.bump();
                            src.bump();
                            break;
                        }
                        if src.bump().is_none() {
                            return err(start, "unterminated comment: '/*' without '*/'");
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// Reads a string token; the opening quote is next.
    fn string(&mut self) -> Result<String, SyntaxError> {
        let src = self.src();
        let start = src.here();
        src.bump();
        let mut out = String::new();
        loop {
            let here = src.here();
            let Some(c) = src.bump() else {
                return err(
                    start,
                    "unterminated string: end of file before the closing '\"'",
                );
            };
            match c {
                '"' => return Ok(out),
                '\n' => {
                    return err(
                        start,
                        "unterminated string: end of line before the closing '\"'",
                    )
                }
                '\\' => {
                    let Some(e) = src.bump() else {
                        return err(start, "unterminated string: end of file after '\\'");
                    };
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let hi = hex4(src, &here)?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if !(src.peek() == Some('\\') && src.peek_at(1) == Some('u')) {
                                    return err(here, "unpaired UTF-16 surrogate in \\u escape");
                                }
                                src.bump();
                                src.bump();
                                let lo = hex4(src, &here)?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return err(here, "unpaired UTF-16 surrogate in \\u escape");
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            match char::from_u32(c) {
                                Some(c) => out.push(c),
                                None => {
                                    return err(here, "unpaired UTF-16 surrogate in \\u escape")
                                }
                            }
                        }
                        e => {
                            return err(
                                here,
                                format!("invalid escape '\\{}' in string", e.escape_debug()),
                            )
                        }
                    }
                }
                c if (c as u32) < 0x20 => {
                    return err(
                        here,
                        format!(
                        "control character U+{:04X} in string (write it as an escape, e.g. \\t)",
                        c as u32
                    ),
                    )
                }
                c => out.push(c),
            }
        }
    }

    /// Kea's numbers: `[-+]?digits*(.digits*)?([eE][-+]?digits)?` with at least one digit.
    fn number(&mut self) -> Result<Tok, SyntaxError> {
        let src = self.src();
        let start = src.here();
        let mut text = String::new();
        if let Some(c @ ('-' | '+')) = src.peek() {
            text.push(c);
            src.bump();
        }
        let mut digits = 0;
        let mut float = false;
        while let Some(c @ '0'..='9') = src.peek() {
            text.push(c);
            src.bump();
            digits += 1;
        }
        if src.peek() == Some('.') {
            float = true;
            text.push('.');
            src.bump();
            while let Some(c @ '0'..='9') = src.peek() {
                text.push(c);
                src.bump();
                digits += 1;
            }
        }
        if digits == 0 {
            return err(start, format!("invalid number \"{text}\""));
        }
        if let Some(e @ ('e' | 'E')) = src.peek() {
            float = true;
            text.push(e);
            src.bump();
            if let Some(c @ ('-' | '+')) = src.peek() {
                text.push(c);
                src.bump();
            }
            let mut exp_digits = 0;
            while let Some(c @ '0'..='9') = src.peek() {
                text.push(c);
                src.bump();
                exp_digits += 1;
            }
            if exp_digits == 0 {
                return err(
                    start,
                    format!("invalid number \"{text}\": no exponent digits"),
                );
            }
        }
        if let Some(c) = src.peek() {
            if c.is_alphanumeric() || c == '_' || c == '.' {
                return err(
                    src.here(),
                    format!("invalid character {} in a number", show_char(c)),
                );
            }
        }
        if float {
            // Rust's parser takes every spelling the loop above produces.
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Tok::Float(f)),
                _ => err(
                    start,
                    format!("number \"{}\" is out of range", excerpt(&text)),
                ),
            }
        } else {
            match text.parse::<i64>() {
                Ok(i) => Ok(Tok::Int(i)),
                Err(_) => err(
                    start,
                    format!(
                        "integer \"{}\" is out of range (a 64-bit signed integer)",
                        excerpt(&text)
                    ),
                ),
            }
        }
    }

    fn word(&mut self) -> Result<Tok, SyntaxError> {
        let src = self.src();
        let start = src.here();
        let mut w = String::new();
        while let Some(c) = src.peek() {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                w.push(c);
                src.bump();
            } else {
                break;
            }
        }
        match w.as_str() {
            "true" => Ok(Tok::True),
            "false" => Ok(Tok::False),
            "null" => Ok(Tok::Null),
            _ => {
                let hint = match w.to_ascii_lowercase().as_str() {
                    "true" | "false" | "null" => " (JSON literals are lower-case)",
                    _ => " (strings need double quotes)",
                };
                err(start, format!("unexpected word '{}'{hint}", excerpt(&w)))
            }
        }
    }

    /// `<?include "path"?>`: reads the file and pushes it as the new source.
    fn include(&mut self, location: Location) -> Result<(), SyntaxError> {
        const BAD: &str = "malformed directive: expected <?include \"file\"?>";
        let src = self.src();
        src.bump();
        src.bump();
        if !src.starts_with("include") {
            return err(location, BAD);
        }
        for _ in 0.."include".len() {
            src.bump();
        }
        while let Some(' ' | '\t') = src.peek() {
            src.bump();
        }
        if src.peek() != Some('"') {
            return err(location, BAD);
        }
        let name = self.string()?;
        let src = self.src();
        while let Some(' ' | '\t') = src.peek() {
            src.bump();
        }
        if !src.starts_with("?>") {
            return err(location, BAD);
        }
        src.bump();
        src.bump();

        let Some(loader) = self.loader else {
            return err(location, "<?include?> is not allowed here");
        };
        if self.stack.len() > MAX_INCLUDE_DEPTH {
            return err(
                location,
                format!("includes nested deeper than {MAX_INCLUDE_DEPTH} (an include cycle?)"),
            );
        }
        let base = self
            .src()
            .path
            .as_ref()
            .and_then(|p| p.parent().map(Path::to_path_buf));
        let path = match base {
            Some(dir) if Path::new(&name).is_relative() => dir.join(&name),
            _ => PathBuf::from(&name),
        };
        if self
            .stack
            .iter()
            .any(|s| s.path.as_deref() == Some(path.as_path()))
        {
            return err(
                location,
                format!("include cycle: \"{name}\" includes itself"),
            );
        }
        let text = loader(&path).map_err(|e| SyntaxError {
            location: location.clone(),
            message: format!("cannot read included file \"{}\": {e}", path.display()),
        })?;
        let file: Arc<str> = path.display().to_string().into();
        self.stack.push(Source::new(&text, file, Some(path)));
        Ok(())
    }
}

fn skip_line(src: &mut Source) {
    while let Some(c) = src.peek() {
        if c == '\n' {
            break;
        }
        src.bump();
    }
}

fn hex4(src: &mut Source, at: &Location) -> Result<u32, SyntaxError> {
    let mut v = 0;
    for _ in 0..4 {
        match src.peek().and_then(|c| c.to_digit(16)) {
            Some(d) => {
                v = v * 16 + d;
                src.bump();
            }
            None => return err(at.clone(), "invalid \\u escape: expected 4 hex digits"),
        }
    }
    Ok(v)
}

fn show_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    lexer: Lexer<'a>,
    /// One token of lookahead.
    peeked: Option<Token>,
    warnings: Vec<Diagnostic>,
    /// Key path of the value being parsed, for warnings: `.key` and `[i]` segments.
    path: Vec<String>,
}

impl<'a> Parser<'a> {
    fn new(text: &str, file_name: &str, opts: &ParseOptions<'a>) -> Self {
        let path = Path::new(file_name);
        let resolved = if file_name.is_empty() {
            None
        } else {
            Some(path.to_path_buf())
        };
        Self {
            lexer: Lexer {
                stack: vec![Source::new(text, file_name.into(), resolved)],
                loader: opts.loader,
            },
            peeked: None,
            warnings: Vec::new(),
            path: Vec::new(),
        }
    }

    fn next(&mut self) -> Result<Token, SyntaxError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lexer.next(),
        }
    }

    fn peek(&mut self) -> Result<&Token, SyntaxError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next()?);
        }
        Ok(self.peeked.as_ref().expect("just filled"))
    }

    fn expect_end(&mut self) -> Result<(), SyntaxError> {
        let t = self.next()?;
        match t.tok {
            Tok::Eof => Ok(()),
            tok => err(
                t.location,
                format!(
                    "unexpected {} after the end of the configuration (one '}}' or ']' too many?)",
                    tok.describe()
                ),
            ),
        }
    }

    fn path_string(&self) -> String {
        let p = self.path.concat();
        p.strip_prefix('.').map(str::to_string).unwrap_or(p)
    }

    fn warn(&mut self, location: Location, message: String) {
        let path = self.path_string();
        self.warnings.push(Diagnostic {
            severity: Severity::Warning,
            location,
            path,
            message,
        });
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let t = self.next()?;
        self.value_from(t, depth)
    }

    fn value_from(&mut self, t: Token, depth: usize) -> Result<Node, SyntaxError> {
        let location = t.location;
        let value = match t.tok {
            Tok::LBrace => return self.object_body(location, depth + 1, None),
            Tok::LBracket => return self.array_body(location, depth + 1),
            Tok::Str(s) => Value::String(s),
            Tok::Int(i) => Value::Integer(i),
            Tok::Float(f) => Value::Float(f),
            Tok::True => Value::Bool(true),
            Tok::False => Value::Bool(false),
            Tok::Null => Value::Null,
            tok => {
                return err(
                    location,
                    format!("expected a value, found {}", tok.describe()),
                )
            }
        };
        Ok(Node { value, location })
    }

    /// After `{`.
    fn object_body(
        &mut self,
        location: Location,
        depth: usize,
        root_check: Option<RootKeyCheck<'_>>,
    ) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return err(location, format!("nested deeper than {MAX_DEPTH} levels"));
        }
        let mut members: Vec<Member> = Vec::new();
        let first = self.next()?;
        let mut key_tok = match first.tok {
            Tok::RBrace => {
                return Ok(Node {
                    value: Value::Object(Object { members }),
                    location,
                })
            }
            _ => first,
        };
        loop {
            let key = match key_tok.tok {
                Tok::Str(s) => s,
                tok => {
                    return err(
                        key_tok.location,
                        format!("expected a string key, found {}", tok.describe()),
                    )
                }
            };
            let key_location = key_tok.location;
            if let Some(check) = root_check {
                if let Err(reason) = check(&key) {
                    return err(key_location, reason);
                }
            }
            let colon = self.next()?;
            if colon.tok != Tok::Colon {
                return err(
                    colon.location,
                    format!(
                        "expected ':' after key \"{}\", found {}",
                        excerpt(&key),
                        colon.tok.describe()
                    ),
                );
            }
            self.path.push(format!(".{key}"));
            let value = self.value(depth)?;
            self.path.pop();
            if let Some(prev) = members.iter_mut().find(|m| m.key == key) {
                let msg = format!(
                    "duplicate key \"{}\" (also at line {}:{}); the later value is used",
                    excerpt(&key),
                    prev.key_location.line,
                    prev.key_location.column
                );
                self.warn(key_location.clone(), msg);
                prev.key_location = key_location;
                prev.value = value;
            } else {
                members.push(Member {
                    key,
                    key_location,
                    value,
                });
            }
            let sep = self.next()?;
            match sep.tok {
                Tok::RBrace => break,
                Tok::Comma => {
                    let t = self.next()?;
                    if t.tok == Tok::RBrace {
                        self.warn(
                            sep.location,
                            "extraneous comma before '}'; a piece of configuration may have been omitted"
                                .into(),
                        );
                        break;
                    }
                    key_tok = t;
                }
                tok => {
                    return err(
                        sep.location,
                        format!(
                            "expected ',' or '}}' after object member, found {}",
                            tok.describe()
                        ),
                    )
                }
            }
        }
        Ok(Node {
            value: Value::Object(Object { members }),
            location,
        })
    }

    /// After `[`.
    fn array_body(&mut self, location: Location, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return err(location, format!("nested deeper than {MAX_DEPTH} levels"));
        }
        let mut items = Vec::new();
        if self.peek()?.tok == Tok::RBracket {
            self.next()?;
            return Ok(Node {
                value: Value::Array(items),
                location,
            });
        }
        loop {
            self.path.push(format!("[{}]", items.len()));
            let item = self.value(depth);
            self.path.pop();
            items.push(item?);
            let sep = self.next()?;
            match sep.tok {
                Tok::RBracket => break,
                Tok::Comma => {
                    if self.peek()?.tok == Tok::RBracket {
                        self.next()?;
                        self.warn(
                            sep.location,
                            "extraneous comma before ']'; a piece of configuration may have been omitted"
                                .into(),
                        );
                        break;
                    }
                }
                tok => {
                    return err(
                        sep.location,
                        format!(
                            "expected ',' or ']' after list item, found {}",
                            tok.describe()
                        ),
                    )
                }
            }
        }
        Ok(Node {
            value: Value::Array(items),
            location,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Parsed, SyntaxError> {
        parse_document(text, "t.json", &ParseOptions::default())
    }

    #[test]
    fn comments_of_all_three_kinds() {
        let p = parse(
            "# hash\n{ // slashes\n \"a\": /* inline */ 1, # tail\n \"b\": \"x // not a comment # nor this\" }\n/* end */",
        )
        .unwrap();
        let o = p.root.as_object().unwrap();
        assert_eq!(o.get("a").unwrap().as_i64(), Some(1));
        assert_eq!(
            o.get("b").unwrap().as_str(),
            Some("x // not a comment # nor this")
        );
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn positions_are_line_and_column_of_each_value() {
        let p = parse("{\n  \"a\": [1,\n\t\"two\"]\n}").unwrap();
        let o = p.root.as_object().unwrap();
        let m = o.member("a").unwrap();
        assert_eq!((m.key_location.line, m.key_location.column), (2, 3));
        let a = m.value.as_array().unwrap();
        assert_eq!((a[0].location.line, a[0].location.column), (2, 9));
        assert_eq!((a[1].location.line, a[1].location.column), (3, 2));
    }

    #[test]
    fn trailing_commas_warn() {
        let p = parse("{\"a\": [1, 2,], \"b\": {\"c\": 1,},}").unwrap();
        assert_eq!(p.warnings.len(), 3);
        assert!(p.warnings[0].message.contains("extraneous comma"));
        assert_eq!(p.warnings[0].path, "a");
        assert_eq!(p.warnings[1].path, "b");
        assert_eq!(p.warnings[0].location.column, 12);
    }

    #[test]
    fn duplicate_key_later_wins_with_warning() {
        let p = parse("{\"a\": 1, \"b\": 2, \"a\": 3}").unwrap();
        let o = p.root.as_object().unwrap();
        assert_eq!(o.get("a").unwrap().as_i64(), Some(3));
        assert_eq!(
            o.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].message.contains("duplicate key \"a\""));
    }

    #[test]
    fn kea_number_spellings() {
        let p =
            parse("{\"a\": .5, \"b\": 5., \"c\": +1, \"d\": 01, \"e\": -2, \"f\": 1e3}").unwrap();
        let o = p.root.as_object().unwrap();
        assert_eq!(o.get("a").unwrap().value, Value::Float(0.5));
        assert_eq!(o.get("b").unwrap().value, Value::Float(5.0));
        assert_eq!(o.get("c").unwrap().value, Value::Integer(1));
        assert_eq!(o.get("d").unwrap().value, Value::Integer(1));
        assert_eq!(o.get("e").unwrap().value, Value::Integer(-2));
        assert_eq!(o.get("f").unwrap().value, Value::Float(1000.0));
        assert!(parse("{\"a\": 0x10}").is_err());
        assert!(parse("{\"a\": -}").is_err());
        assert!(parse("{\"a\": 99999999999999999999}").is_err());
    }

    #[test]
    fn string_escapes() {
        let p = parse(r#"{"a": "q\"\\\/\n\u00e9\ud83d\ude00"}"#).unwrap();
        assert_eq!(
            p.root.as_object().unwrap().get("a").unwrap().as_str(),
            Some("q\"\\/\né😀")
        );
        assert!(parse("{\"a\": \"\\ud83d\"}").is_err());
        assert!(parse("{\"a\": \"tab\there\"}").is_err());
        assert!(parse("{\"a\": \"open\n\"}").is_err());
    }

    #[test]
    fn syntax_errors_name_position_and_reason() {
        let e = parse("{\n  \"a\": 1\n  \"b\": 2\n}").unwrap_err();
        assert_eq!((e.location.line, e.location.column), (3, 3));
        assert_eq!(
            e.message,
            "expected ',' or '}' after object member, found string \"b\""
        );
        let e = parse("{\"a\" 1}").unwrap_err();
        assert!(e.message.starts_with("expected ':' after key \"a\""));
        let e = parse("{\"a\": [1 2]}").unwrap_err();
        assert!(e.message.starts_with("expected ',' or ']'"));
        let e = parse("{\"a\": True}").unwrap_err();
        assert!(e.message.contains("lower-case"), "{}", e.message);
        let e = parse("{} }").unwrap_err();
        assert!(e.message.contains("after the end"), "{}", e.message);
        let e = parse("[1]").unwrap_err();
        assert!(e.message.contains("must be a JSON map"));
        let e = parse("{/* open").unwrap_err();
        assert!(e.message.contains("unterminated comment"));
        let e = parse("").unwrap_err();
        assert!(e.message.contains("end of file"));
        assert_eq!(e.to_string(), "t.json:1:1: syntax error: a configuration must be a JSON map ('{ ... }'), found end of file");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("nested deeper"));
    }

    #[test]
    fn include_splices_text_and_positions_name_the_included_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("subnets.json"),
            "// included\n{\"subnet\": \"10.0.0.0/8\"}",
        )
        .unwrap();
        let main = dir.path().join("main.json");
        std::fs::write(&main, "{\"list\": [ <?include \"subnets.json\"?> ]}").unwrap();
        let text = std::fs::read_to_string(&main).unwrap();
        let name = main.display().to_string();
        let p = parse_document(&text, &name, &ParseOptions::default()).unwrap();
        let list = p.root.as_object().unwrap().get("list").unwrap();
        let item = &list.as_array().unwrap()[0];
        assert!(item.location.file.ends_with("subnets.json"));
        assert_eq!((item.location.line, item.location.column), (2, 1));

        std::fs::write(&main, "{\"a\": <?include \"main.json\"?>}").unwrap();
        let e = parse_document(
            &std::fs::read_to_string(&main).unwrap(),
            &name,
            &ParseOptions::default(),
        )
        .unwrap_err();
        assert!(e.message.contains("include cycle"), "{}", e.message);
        let e = parse_document(
            "{\"a\": <?include \"nope.json\"?>}",
            &name,
            &ParseOptions::default(),
        )
        .unwrap_err();
        assert!(
            e.message.contains("cannot read included file"),
            "{}",
            e.message
        );
    }

    #[test]
    fn root_key_check_reports_at_the_key() {
        let check = |k: &str| {
            if k == "Dhcp4" {
                Ok(())
            } else {
                Err(format!("unexpected \"{k}\""))
            }
        };
        let opts = ParseOptions {
            loader: None,
            root_key_check: Some(&check),
        };
        let e = parse_document(
            "{\"Dhcp4\": {\"x\": 1},\n  \"loggers\": []}",
            "t.json",
            &opts,
        )
        .unwrap_err();
        assert_eq!((e.location.line, e.location.column), (2, 3));
    }

    #[test]
    fn to_json_round_trips_values() {
        let p = parse("{\"a\": [1, 2.5, \"s\", null, true], \"b\": {}}").unwrap();
        assert_eq!(
            p.root.to_json(),
            serde_json::json!({"a": [1, 2.5, "s", null, true], "b": {}})
        );
    }
}
