//! Tokens as Kea's scanner makes them: the longest match wins, ties go to the earlier
//! rule; an option name is a name followed (after blanks) by `]`; locations count
//! bytes from 1, lines from 1.

use crate::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    Option,
    Relay4,
    Relay6,
    Peeraddr,
    Linkaddr,
    Text,
    Hex,
    Exists,
    Pkt,
    Iface,
    Src,
    Dst,
    Len,
    Pkt4,
    Mac,
    Hlen,
    Htype,
    Ciaddr,
    Giaddr,
    Yiaddr,
    Siaddr,
    Pkt6,
    Msgtype,
    Transid,
    Vendor,
    VendorClass,
    Data,
    Enterprise,
    Substring,
    Lcase,
    Ucase,
    Split,
    All,
    Concat,
    Ifelse,
    Sifelse,
    Hexstring,
    Addrtotext,
    Int8totext,
    Int16totext,
    Int32totext,
    Uint8totext,
    Uint16totext,
    Uint32totext,
    Not,
    And,
    Sand,
    Or,
    Sor,
    Member,
    Match,
}

const KEYWORDS: &[(&str, Kw)] = &[
    ("option", Kw::Option),
    ("relay4", Kw::Relay4),
    ("relay6", Kw::Relay6),
    ("peeraddr", Kw::Peeraddr),
    ("linkaddr", Kw::Linkaddr),
    ("text", Kw::Text),
    ("hex", Kw::Hex),
    ("exists", Kw::Exists),
    ("pkt", Kw::Pkt),
    ("iface", Kw::Iface),
    ("src", Kw::Src),
    ("dst", Kw::Dst),
    ("len", Kw::Len),
    ("pkt4", Kw::Pkt4),
    ("mac", Kw::Mac),
    ("hlen", Kw::Hlen),
    ("htype", Kw::Htype),
    ("ciaddr", Kw::Ciaddr),
    ("giaddr", Kw::Giaddr),
    ("yiaddr", Kw::Yiaddr),
    ("siaddr", Kw::Siaddr),
    ("pkt6", Kw::Pkt6),
    ("msgtype", Kw::Msgtype),
    ("transid", Kw::Transid),
    ("vendor", Kw::Vendor),
    ("vendor-class", Kw::VendorClass),
    ("data", Kw::Data),
    ("enterprise", Kw::Enterprise),
    ("substring", Kw::Substring),
    ("lcase", Kw::Lcase),
    ("ucase", Kw::Ucase),
    ("split", Kw::Split),
    ("all", Kw::All),
    ("concat", Kw::Concat),
    ("ifelse", Kw::Ifelse),
    ("sifelse", Kw::Sifelse),
    ("hexstring", Kw::Hexstring),
    ("addrtotext", Kw::Addrtotext),
    ("int8totext", Kw::Int8totext),
    ("int16totext", Kw::Int16totext),
    ("int32totext", Kw::Int32totext),
    ("uint8totext", Kw::Uint8totext),
    ("uint16totext", Kw::Uint16totext),
    ("uint32totext", Kw::Uint32totext),
    ("not", Kw::Not),
    ("and", Kw::And),
    ("sand", Kw::Sand),
    ("or", Kw::Or),
    ("sor", Kw::Sor),
    ("member", Kw::Member),
    ("match", Kw::Match),
];

impl Kw {
    pub(crate) fn text(self) -> &'static str {
        KEYWORDS
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(s, _)| *s)
            .unwrap_or("?")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// `'…'`, without the quotes.
    Str(String),
    /// `0x…`: its bytes (an odd number of digits gets a leading 0).
    Hex(Vec<u8>),
    /// An integer as written (fits an i64).
    Int(String),
    /// A name followed by `]`.
    Name(String),
    /// An address literal: its 4 or 16 bytes.
    Ip(Vec<u8>),
    Kw(Kw),
    Equal,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    Comma,
    Star,
    Plus,
    End,
    /// What the scanner could not read: the parser reports it when it gets this far (a
    /// syntax error before it is found first, as with Kea's pull scanner).
    Error(ParseError),
}

impl Tok {
    /// As the parser's messages name it (bison's token names).
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Str(_) => "constant string".into(),
            Tok::Hex(_) => "constant hexstring".into(),
            Tok::Int(_) => "integer".into(),
            Tok::Name(_) => "option name".into(),
            Tok::Ip(_) => "ip address".into(),
            Tok::Kw(k) => k.text().into(),
            Tok::Equal => "==".into(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::LBracket => "[".into(),
            Tok::RBracket => "]".into(),
            Tok::Dot => ".".into(),
            Tok::Comma => ",".into(),
            Tok::Star => "*".into(),
            Tok::Plus => "+".into(),
            Tok::End => "end of file".into(),
            Tok::Error(e) => e.message.clone(),
        }
    }
}

/// Where a token is: line, first column, one past its last column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub line: u32,
    pub col: u32,
    pub end: u32,
}

impl Span {
    pub(crate) fn error(self, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            column: self.col,
            end_column: (self.end.saturating_sub(1)).max(self.col),
            message: message.into(),
        }
    }
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Length of the match of each rule at the start of `s`, in the scanner's rule order.
fn candidates(s: &[u8]) -> [usize; 7] {
    let mut c = [0usize; 7];
    // 0: string
    if s.first() == Some(&b'\'') {
        if let Some(n) = s[1..].iter().position(|&b| b == b'\'' || b == b'\n') {
            if s[1 + n] == b'\'' {
                c[0] = n + 2;
            }
        }
    }
    // 1: hex
    if s.len() > 2 && s[0] == b'0' && (s[1] == b'x' || s[1] == b'X') && is_hex(s[2]) {
        c[1] = 2 + s[2..].iter().take_while(|b| is_hex(**b)).count();
    }
    // 2: integer
    {
        let sign = usize::from(s.first() == Some(&b'-'));
        let digits = s[sign..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            c[2] = sign + digits;
        }
    }
    // 3: option name (the blanks and the `]` after it count towards the match)
    if s.first().is_some_and(u8::is_ascii_alphabetic) {
        let run = s
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
            .count();
        if s[run - 1].is_ascii_alphanumeric() {
            let blanks = s[run..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\n'))
                .count();
            if s.get(run + blanks) == Some(&b']') {
                c[3] = run + blanks + 1;
            }
        }
    }
    // 4: addresses
    c[4] = addr4_len(s).max(addr6_len(s));
    // 5: keywords and `==` and the punctuation
    for (kw, _) in KEYWORDS {
        if s.starts_with(kw.as_bytes()) {
            c[5] = c[5].max(kw.len());
        }
    }
    if s.starts_with(b"==") {
        c[5] = c[5].max(2);
    }
    if matches!(
        s.first(),
        Some(b'.' | b'(' | b')' | b'[' | b']' | b',' | b'*' | b'+')
    ) {
        c[5] = c[5].max(1);
    }
    // 6: anything else, one character
    c[6] = usize::from(!s.is_empty());
    c
}

fn addr4_len(s: &[u8]) -> usize {
    let mut i = 0;
    for part in 0..4 {
        if part > 0 {
            if s.get(i) != Some(&b'.') {
                return 0;
            }
            i += 1;
        }
        let d = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if d == 0 {
            return 0;
        }
        i += d;
    }
    i
}

fn addr6_len(s: &[u8]) -> usize {
    let a = s.iter().take_while(|b| is_hex(**b)).count();
    if s.get(a) != Some(&b':') {
        return 0;
    }
    let b = s[a + 1..].iter().take_while(|b| is_hex(**b)).count();
    if s.get(a + 1 + b) != Some(&b':') {
        return 0;
    }
    let rest = s[a + b + 2..]
        .iter()
        .take_while(|c| is_hex(**c) || **c == b':' || **c == b'.')
        .count();
    a + b + 2 + rest
}

/// The tokens of `text`, each with its span, ending with [`Tok::End`], or with
/// [`Tok::Error`] at the first thing that is not a token.
pub(crate) fn tokens(text: &str) -> Vec<(Tok, Span)> {
    let mut out = Vec::new();
    if let Err((e, span)) = scan(text, &mut out) {
        out.push((Tok::Error(e), span));
    }
    out
}

fn scan(text: &str, out: &mut Vec<(Tok, Span)>) -> Result<(), (ParseError, Span)> {
    let bytes = text.as_bytes();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    while i < bytes.len() {
        let s = &bytes[i..];
        match s[0] {
            b' ' | b'\t' => {
                i += 1;
                col += 1;
                continue;
            }
            b'\n' => {
                i += 1;
                line += 1;
                col = 1;
                continue;
            }
            _ => {}
        }
        let c = candidates(s);
        let (rule, len) = c.iter().enumerate().fold(
            (6, 0),
            |best, (r, &l)| if l > best.1 { (r, l) } else { best },
        );
        let width = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let span = Span {
            line,
            col,
            end: col.saturating_add(width(len)),
        };
        // Every rule but the last matches ASCII up to its end: a char boundary.
        let word = if rule == 6 { "" } else { &text[i..i + len] };
        let tok = match rule {
            0 => Tok::Str(word[1..word.len() - 1].to_owned()),
            1 => {
                let mut digits = word[2..].to_owned();
                if digits.len() % 2 == 1 {
                    digits.insert(0, '0');
                }
                Tok::Hex(
                    (0..digits.len())
                        .step_by(2)
                        .map(|k| u8::from_str_radix(&digits[k..k + 2], 16).unwrap_or(0))
                        .collect(),
                )
            }
            2 => {
                if word.parse::<i64>().is_err() {
                    return Err((
                        span.error(format!("Failed to convert {word} to an integer.")),
                        span,
                    ));
                }
                Tok::Int(word.to_owned())
            }
            3 => {
                // The `]` is context, not part of the token; the blanks are.
                let name = word[..word.len() - 1].trim_end_matches([' ', '\t', '\n']);
                let consumed = len - 1;
                let newlines = word[..consumed].matches('\n').count();
                out.push((
                    Tok::Name(name.to_owned()),
                    Span {
                        line,
                        col,
                        end: col.saturating_add(width(consumed)),
                    },
                ));
                if newlines > 0 {
                    line += width(newlines);
                    col = 1;
                } else {
                    col = col.saturating_add(width(consumed));
                }
                i += consumed;
                continue;
            }
            4 => {
                let parsed: Option<Vec<u8>> = if word.contains(':') {
                    word.parse::<std::net::Ipv6Addr>()
                        .ok()
                        .map(|a| a.octets().to_vec())
                } else {
                    word.parse::<std::net::Ipv4Addr>()
                        .ok()
                        .map(|a| a.octets().to_vec())
                };
                match parsed {
                    Some(b) => Tok::Ip(b),
                    None => {
                        return Err((
                            span.error(format!("Failed to convert {word} to an IP address.")),
                            span,
                        ))
                    }
                }
            }
            5 => match word {
                "==" => Tok::Equal,
                "." => Tok::Dot,
                "(" => Tok::LParen,
                ")" => Tok::RParen,
                "[" => Tok::LBracket,
                "]" => Tok::RBracket,
                "," => Tok::Comma,
                "*" => Tok::Star,
                "+" => Tok::Plus,
                w => Tok::Kw(
                    KEYWORDS
                        .iter()
                        .find(|(k, _)| *k == w)
                        .map(|(_, k)| *k)
                        .expect("matched a keyword"),
                ),
            },
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                let span = Span {
                    line,
                    col,
                    end: col + 1,
                };
                return Err((span.error(format!("Invalid character: {ch}")), span));
            }
        };
        out.push((tok, span));
        i += len;
        col = span.end;
    }
    out.push((
        Tok::End,
        Span {
            line,
            col,
            end: col,
        },
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokens(s).into_iter().map(|(t, _)| t).collect()
    }

    fn error(s: &str) -> ParseError {
        match tokens(s).pop() {
            Some((Tok::Error(e), _)) => e,
            other => panic!("no error: {other:?}"),
        }
    }

    #[test]
    fn longest_match_decides() {
        assert_eq!(
            toks("option[host-name].text"),
            [
                Tok::Kw(Kw::Option),
                Tok::LBracket,
                Tok::Name("host-name".into()),
                Tok::RBracket,
                Tok::Dot,
                Tok::Kw(Kw::Text),
                Tok::End
            ]
        );
        assert_eq!(toks("vendor-class")[0], Tok::Kw(Kw::VendorClass));
        assert_eq!(toks("0x7")[0], Tok::Hex(vec![7]));
        assert_eq!(toks("10.0.0.1")[0], Tok::Ip(vec![10, 0, 0, 1]));
        assert_eq!(toks("-5")[0], Tok::Int("-5".into()));
        assert_eq!(toks("[text]")[1], Tok::Name("text".into()));
    }

    #[test]
    fn errors_name_the_column() {
        let e = error("option[1].hex == 'a' @");
        assert_eq!((e.line, e.column, e.end_column), (1, 22, 22));
        assert!(e.message.contains("Invalid character: @"));
        let e = error("'abc");
        assert_eq!(e.column, 1);
    }
}
