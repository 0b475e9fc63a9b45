//! Kea's grammar, by recursive descent, compiled to a flat program as Kea's parser
//! builds its token list: operands first, then the operator; `and`, `or` and `ifelse`
//! as branches so that what is not needed is not evaluated.
//!
//! Precedence as Kea's grammar declares it, lowest first: `+`, `sor`, `or`, `sand`,
//! `and`, `not`; `==` compares two string expressions (`+` binds inside them). An
//! `option[…]` (or relay, vendor) term is read once and is a boolean if it ends in
//! `.exists`, else the start of a comparison. Where two rules start alike (`(` of a
//! boolean or of a string), both are tried and the error reported is the one found
//! furthest into the text, as an LR parser would find it.

use fancy_regex::Regex;

use crate::lex::{tokens, Kw, Span, Tok};
use crate::{Field, Kind, Names, ParseError, Source, Universe};

/// How an option-like value is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repr {
    Hex,
    Text,
    Exists,
}

/// `int8totext` … `uint32totext`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntText {
    I8,
    I16,
    I32,
    U8,
    U16,
    U32,
}

/// An integer argument of `substring` or `split`, converted as Kea converts it when it
/// evaluates (a value beyond 32 bits fails then, not at parse time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    Int(i32),
    Bad(String),
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// A constant (index into the program's constants).
    Push(usize),
    Opt(Source, Repr),
    Field(Field),
    /// `vendor[N].exists` / `vendor-class[N].exists` (0: any).
    VendorExists {
        class: bool,
        enterprise: u32,
    },
    /// `vendor.enterprise` / `vendor-class.enterprise`.
    VendorEnterprise {
        class: bool,
    },
    /// `vendor[N].option[M]…` and `vendor-class[N].data[i]`: the vendor must match
    /// first.
    VendorValue {
        class: bool,
        enterprise: u32,
        src: Source,
        repr: Repr,
    },
    Member(usize),
    Match(usize),
    Equal,
    Concat,
    Substring {
        start: Arg,
        len: Option<Arg>,
    },
    Split {
        field: Arg,
    },
    ToHex,
    Lcase,
    Ucase,
    AddrToText,
    IntToText(IntText),
    Not,
    And,
    Or,
    IfElse,
    /// `and`: if the top is false, jump keeping it; else pop it and go on.
    FalseJumpOrPop(usize),
    /// `or`: if the top is true, jump keeping it; else pop it and go on.
    TrueJumpOrPop(usize),
    /// `ifelse`: pop the condition; jump if false.
    PopJumpIfFalse(usize),
    Jump(usize),
}

#[derive(Debug, Clone)]
pub(crate) struct Program {
    pub kind: Kind,
    pub ops: Vec<Op>,
    pub consts: Vec<Vec<u8>>,
    pub classes: Vec<String>,
    pub regexes: Vec<Regex>,
}

impl Program {
    pub(crate) fn members(&self) -> impl Iterator<Item = &str> {
        self.ops.iter().filter_map(|op| match op {
            Op::Member(i) => Some(self.classes[*i].as_str()),
            _ => None,
        })
    }
}

/// A failure, with how far the parse had come when it was found (to choose between
/// alternatives).
struct Fail {
    at: usize,
    err: ParseError,
}

type R<T = ()> = Result<T, Fail>;

struct Parser<'a> {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    universe: Universe,
    names: &'a dyn Names,
    prog: Program,
    /// Nesting of the productions being parsed (bounded: the parser recurses).
    depth: u32,
    /// Tokens taken so far, counting the alternatives tried (bounded: trying both
    /// readings of nested parentheses could take exponential time).
    steps: u32,
    /// A bound was hit: no alternative is tried any more.
    exhausted: bool,
}

/// How deep expressions nest at most (Kea's configurations nest a few levels).
const MAX_DEPTH: u32 = 64;
/// How many tokens the parser takes at most, alternatives included.
const MAX_STEPS: u32 = 100_000;

pub(crate) fn parse(
    text: &str,
    kind: Kind,
    universe: Universe,
    names: &dyn Names,
) -> Result<Program, ParseError> {
    let mut p = Parser {
        toks: tokens(text),
        pos: 0,
        universe,
        names,
        prog: Program {
            kind,
            ops: Vec::new(),
            consts: Vec::new(),
            classes: Vec::new(),
            regexes: Vec::new(),
        },
        depth: 0,
        steps: 0,
        exhausted: false,
    };
    let done = match kind {
        Kind::Bool => p.bool_expr(0),
        Kind::String => p.string_expr(),
    }
    .and_then(|()| match p.peek() {
        Tok::End => Ok(()),
        _ => Err(p.unexpected(&["end of file"])),
    });
    done.map_err(|f| f.err)?;
    Ok(p.prog)
}

type Snapshot = (usize, usize, usize, usize, usize);

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn span(&self) -> Span {
        self.toks[self.pos].1
    }

    fn bump(&mut self) -> (Tok, Span) {
        self.steps = self.steps.saturating_add(1);
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn fail_at(&self, span: Span, message: impl Into<String>) -> Fail {
        Fail {
            at: self.pos,
            err: span.error(message),
        }
    }

    fn unexpected(&self, expecting: &[&str]) -> Fail {
        if let Tok::Error(e) = self.peek() {
            return Fail {
                at: self.pos,
                err: e.clone(),
            };
        }
        let mut m = format!("syntax error, unexpected {}", self.peek().describe());
        if !expecting.is_empty() {
            m.push_str(", expecting ");
            m.push_str(&expecting.join(" or "));
        }
        self.fail_at(self.span(), m)
    }

    fn expect(&mut self, t: Tok) -> R<Span> {
        if *self.peek() == t {
            Ok(self.bump().1)
        } else {
            Err(self.unexpected(&[&t.describe()]))
        }
    }

    fn kw(&mut self, k: Kw) -> R<Span> {
        self.expect(Tok::Kw(k))
    }

    fn emit(&mut self, op: Op) -> usize {
        self.prog.ops.push(op);
        self.prog.ops.len() - 1
    }

    fn push_const(&mut self, v: Vec<u8>) {
        self.prog.consts.push(v);
        let i = self.prog.consts.len() - 1;
        self.emit(Op::Push(i));
    }

    fn patch(&mut self, at: usize) {
        let here = self.prog.ops.len();
        match &mut self.prog.ops[at] {
            Op::FalseJumpOrPop(t) | Op::TrueJumpOrPop(t) | Op::PopJumpIfFalse(t) | Op::Jump(t) => {
                *t = here
            }
            _ => unreachable!("only branches are patched"),
        }
    }

    fn snapshot(&self) -> Snapshot {
        (
            self.pos,
            self.prog.ops.len(),
            self.prog.consts.len(),
            self.prog.classes.len(),
            self.prog.regexes.len(),
        )
    }

    fn restore(&mut self, s: Snapshot) {
        self.pos = s.0;
        self.prog.ops.truncate(s.1);
        self.prog.consts.truncate(s.2);
        self.prog.classes.truncate(s.3);
        self.prog.regexes.truncate(s.4);
    }

    /// Enters a production that may recurse: an error once expressions nest too deep
    /// or the parse has taken too long (both stop every alternative).
    fn enter(&mut self) -> R {
        self.depth += 1;
        let why = if self.depth > MAX_DEPTH {
            format!("expression nested too deeply (more than {MAX_DEPTH} levels)")
        } else if self.steps > MAX_STEPS {
            "expression too complex to parse".to_string()
        } else {
            return Ok(());
        };
        self.exhausted = true;
        Err(self.fail_at(self.span(), why))
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `a`, or else `b` from the same place; the error found further in if both fail.
    fn alt(&mut self, a: fn(&mut Self) -> R, b: fn(&mut Self) -> R) -> R {
        let s = self.snapshot();
        let ea = match a(self) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if self.exhausted {
            return Err(ea);
        }
        let depth = self.depth;
        self.restore(s);
        self.depth = depth;
        match b(self) {
            Ok(()) => Ok(()),
            Err(eb) if eb.at > ea.at => Err(eb),
            Err(_) => Err(ea),
        }
    }

    // ---- booleans ----

    fn bool_expr(&mut self, min: u8) -> R {
        self.bool_unary()?;
        loop {
            let (prec, k) = match self.peek() {
                Tok::Kw(k @ Kw::Sor) => (1, *k),
                Tok::Kw(k @ Kw::Or) => (2, *k),
                Tok::Kw(k @ Kw::Sand) => (3, *k),
                Tok::Kw(k @ Kw::And) => (4, *k),
                _ => return Ok(()),
            };
            if prec < min {
                return Ok(());
            }
            self.bump();
            match k {
                Kw::And | Kw::Or => {
                    let j = self.emit(if k == Kw::And {
                        Op::FalseJumpOrPop(0)
                    } else {
                        Op::TrueJumpOrPop(0)
                    });
                    self.bool_expr(prec + 1)?;
                    self.patch(j);
                }
                _ => {
                    self.bool_expr(prec + 1)?;
                    self.emit(if k == Kw::Sand { Op::And } else { Op::Or });
                }
            }
        }
    }

    fn bool_unary(&mut self) -> R {
        self.enter()?;
        let r = self.bool_unary_inner();
        self.leave();
        r
    }

    fn bool_unary_inner(&mut self) -> R {
        match self.peek() {
            Tok::Kw(Kw::Not) => {
                self.bump();
                self.bool_unary()?;
                self.emit(Op::Not);
                Ok(())
            }
            Tok::LParen => self.alt(Self::bool_paren, Self::comparison),
            Tok::Kw(Kw::Member) => self.member(),
            Tok::Kw(Kw::Match) => self.regex_match(),
            // `.exists` makes it a boolean; `.hex`/`.text` and the rest start a comparison.
            Tok::Kw(k @ (Kw::Option | Kw::Relay4 | Kw::Relay6 | Kw::Vendor | Kw::VendorClass)) => {
                let k = *k;
                let (_, first) = self.bump();
                if self.option_like(k, first, true)? != Repr::Exists {
                    self.rest_of_comparison()?;
                }
                Ok(())
            }
            _ => self.comparison(),
        }
    }

    fn bool_paren(&mut self) -> R {
        self.expect(Tok::LParen)?;
        self.bool_expr(0)?;
        self.expect(Tok::RParen)?;
        Ok(())
    }

    fn comparison(&mut self) -> R {
        self.string_term()?;
        self.rest_of_comparison()
    }

    /// A comparison after its first term: the rest of the left side, `==`, the right.
    fn rest_of_comparison(&mut self) -> R {
        self.concat_rest()?;
        self.expect(Tok::Equal)?;
        self.string_expr()?;
        self.emit(Op::Equal);
        Ok(())
    }

    fn member(&mut self) -> R {
        self.kw(Kw::Member)?;
        self.expect(Tok::LParen)?;
        let (name, span) = self.string_literal()?;
        if !self.names.class_defined(&name) {
            return Err(self.fail_at(span, format!("Not defined client class '{name}'")));
        }
        self.expect(Tok::RParen)?;
        self.prog.classes.push(name);
        let i = self.prog.classes.len() - 1;
        self.emit(Op::Member(i));
        Ok(())
    }

    fn regex_match(&mut self) -> R {
        self.kw(Kw::Match)?;
        self.expect(Tok::LParen)?;
        let (pattern, span) = self.string_literal()?;
        // Kea's std::regex_match (ECMAScript, backreferences included): the whole value
        // must match.
        let re = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            self.fail_at(span, format!("invalid regular expression '{pattern}': {e}"))
        })?;
        self.expect(Tok::Comma)?;
        self.string_expr()?;
        self.expect(Tok::RParen)?;
        self.prog.regexes.push(re);
        let i = self.prog.regexes.len() - 1;
        self.emit(Op::Match(i));
        Ok(())
    }

    fn string_literal(&mut self) -> R<(String, Span)> {
        match self.peek().clone() {
            Tok::Str(s) => Ok((s, self.bump().1)),
            _ => Err(self.unexpected(&["constant string"])),
        }
    }

    /// What follows `option`, `relay4`, `relay6`, `vendor` or `vendor-class` (`first`):
    /// its op emitted, and how it is read. `exists`: where a boolean may stand, so that
    /// `.exists` is accepted (it is the only boolean reading).
    fn option_like(&mut self, k: Kw, first: Span, exists: bool) -> R<Repr> {
        let (op, repr) = match k {
            Kw::Option => {
                let code = self.bracket(Self::option_code)?;
                self.expect(Tok::Dot)?;
                let src = if *self.peek() == Tok::Kw(Kw::Option) {
                    self.bump();
                    let sub = self.bracket(Self::sub_option_code)?;
                    self.expect(Tok::Dot)?;
                    Source::SubOption(code, sub)
                } else {
                    Source::Option(code)
                };
                let r = self.repr(exists)?;
                (Op::Opt(src, r), r)
            }
            Kw::Relay4 => {
                let sub = self.bracket(Self::sub_option_code)?;
                self.expect(Tok::Dot)?;
                let r = self.repr(exists)?;
                self.only(Universe::V4, first, "relay4 can only be used in DHCPv4.")?;
                (Op::Opt(Source::Relay4(sub), r), r)
            }
            Kw::Relay6 => {
                let nest = self.bracket(Self::nest_level)?;
                self.expect(Tok::Dot)?;
                let (op, r) = match self.peek() {
                    Tok::Kw(Kw::Option) => {
                        self.bump();
                        let code = self.bracket(Self::sub_option_code)?;
                        self.expect(Tok::Dot)?;
                        let r = self.repr(exists)?;
                        (Op::Opt(Source::Relay6 { nest, code }, r), r)
                    }
                    Tok::Kw(Kw::Peeraddr) => {
                        self.bump();
                        (Op::Field(Field::PeerAddr(nest)), Repr::Hex)
                    }
                    Tok::Kw(Kw::Linkaddr) => {
                        self.bump();
                        (Op::Field(Field::LinkAddr(nest)), Repr::Hex)
                    }
                    _ => return Err(self.unexpected(&["option", "peeraddr", "linkaddr"])),
                };
                self.only(Universe::V6, first, "relay6 can only be used in DHCPv6.")?;
                (op, r)
            }
            _ => {
                let class = k == Kw::VendorClass;
                if *self.peek() == Tok::Dot {
                    self.bump();
                    self.kw(Kw::Enterprise)?;
                    (Op::VendorEnterprise { class }, Repr::Hex)
                } else {
                    let enterprise = self.bracket(Self::enterprise_id)?;
                    self.expect(Tok::Dot)?;
                    if exists && *self.peek() == Tok::Kw(Kw::Exists) {
                        self.bump();
                        (Op::VendorExists { class, enterprise }, Repr::Exists)
                    } else {
                        let (src, repr) = if class {
                            self.kw(Kw::Data)?;
                            let index = if *self.peek() == Tok::LBracket {
                                self.bump();
                                let (s, span) = self.integer()?;
                                let i =
                                    self.ranged(&s, span, 0, 255, "Invalid integer value")? as u8;
                                self.expect(Tok::RBracket)?;
                                i
                            } else {
                                0
                            };
                            (Source::VendorClassData { enterprise, index }, Repr::Hex)
                        } else {
                            self.kw(Kw::Option)?;
                            let code = self.bracket(Self::sub_option_code)?;
                            self.expect(Tok::Dot)?;
                            (Source::Vendor { enterprise, code }, self.repr(exists)?)
                        };
                        let op = Op::VendorValue {
                            class,
                            enterprise,
                            src,
                            repr,
                        };
                        (op, repr)
                    }
                }
            }
        };
        self.emit(op);
        Ok(repr)
    }

    fn only(&self, u: Universe, span: Span, message: &str) -> R {
        if self.universe == u {
            Ok(())
        } else {
            Err(self.fail_at(span, message))
        }
    }

    /// `[` X `]`.
    fn bracket<T>(&mut self, inner: fn(&mut Self) -> R<T>) -> R<T> {
        self.expect(Tok::LBracket)?;
        let v = inner(self)?;
        self.expect(Tok::RBracket)?;
        Ok(v)
    }

    // ---- numbers, as Kea converts them ----

    fn integer(&mut self) -> R<(String, Span)> {
        match self.peek().clone() {
            Tok::Int(s) => Ok((s, self.bump().1)),
            _ => Err(self.unexpected(&["integer"])),
        }
    }

    fn code_in_range(&self, text: &str, span: Span) -> R<u16> {
        let max = match self.universe {
            Universe::V4 => 255,
            Universe::V6 => 65535,
        };
        match text.parse::<i32>() {
            Err(_) => Err(self.fail_at(span, format!("Option code has invalid value in {text}"))),
            Ok(n) if !(0..=max).contains(&n) => Err(self.fail_at(
                span,
                format!("Option code has invalid value in {text}. Allowed range: 0..{max}"),
            )),
            Ok(n) => Ok(n as u16),
        }
    }

    fn option_code(&mut self) -> R<u16> {
        match self.peek().clone() {
            Tok::Int(s) => {
                let span = self.bump().1;
                self.code_in_range(&s, span)
            }
            Tok::Name(name) => {
                let span = self.bump().1;
                self.names
                    .option_code(&name)
                    .ok_or_else(|| self.fail_at(span, format!("option '{name}' is not defined")))
            }
            _ => Err(self.unexpected(&["integer", "option name"])),
        }
    }

    fn sub_option_code(&mut self) -> R<u16> {
        let (s, span) = self.integer()?;
        self.code_in_range(&s, span)
    }

    fn ranged(&self, text: &str, span: Span, lo: i64, hi: i64, unparsable: &str) -> R<i64> {
        match text.parse::<i64>() {
            Err(_) => Err(self.fail_at(span, format!("{unparsable} in {text}"))),
            Ok(n) if n < lo || n > hi => Err(self.fail_at(
                span,
                format!("Invalid value in {text}. Allowed range: {lo}..{hi}"),
            )),
            Ok(n) => Ok(n),
        }
    }

    fn uint32(&mut self) -> R<u32> {
        let (s, span) = self.integer()?;
        Ok(self.ranged(&s, span, 0, u32::MAX.into(), "Invalid value")? as u32)
    }

    fn enterprise_id(&mut self) -> R<u32> {
        if *self.peek() == Tok::Star {
            self.bump();
            return Ok(0);
        }
        match self.peek() {
            Tok::Int(_) => self.uint32(),
            _ => Err(self.unexpected(&["integer", "*"])),
        }
    }

    fn nest_level(&mut self) -> R<i8> {
        let (s, span) = self.integer()?;
        let n = self.ranged(&s, span, -128, 127, "Invalid integer value")? as i8;
        match self.universe {
            Universe::V6 if !(-32..32).contains(&n) => Err(self.fail_at(
                span,
                format!("Nest level has invalid value in {s}. Allowed range: -32..31"),
            )),
            Universe::V6 => Ok(n),
            Universe::V4 => Err(self.fail_at(span, "Nest level invalid for DHCPv4 packets")),
        }
    }

    fn arg(&mut self) -> R<Arg> {
        let (s, _) = self.integer()?;
        Ok(match s.parse::<i32>() {
            Ok(n) => Arg::Int(n),
            Err(_) => Arg::Bad(s),
        })
    }

    // ---- strings ----

    fn string_expr(&mut self) -> R {
        self.string_term()?;
        self.concat_rest()
    }

    /// `+ term` as often as it comes.
    fn concat_rest(&mut self) -> R {
        while *self.peek() == Tok::Plus {
            self.bump();
            self.string_term()?;
            self.emit(Op::Concat);
        }
        Ok(())
    }

    /// `text`, `hex`, or (where a boolean may stand) `exists`.
    fn repr(&mut self, exists: bool) -> R<Repr> {
        let r = match self.peek() {
            Tok::Kw(Kw::Text) => Repr::Text,
            Tok::Kw(Kw::Hex) => Repr::Hex,
            Tok::Kw(Kw::Exists) if exists => Repr::Exists,
            _ if exists => return Err(self.unexpected(&["text", "hex", "exists"])),
            _ => return Err(self.unexpected(&["text", "hex"])),
        };
        self.bump();
        Ok(r)
    }

    fn call(&mut self, args: usize) -> R {
        self.expect(Tok::LParen)?;
        for i in 0..args {
            if i > 0 {
                self.expect(Tok::Comma)?;
            }
            self.string_expr()?;
        }
        self.expect(Tok::RParen)?;
        Ok(())
    }

    fn string_term(&mut self) -> R {
        self.enter()?;
        let r = self.string_term_inner();
        self.leave();
        r
    }

    fn string_term_inner(&mut self) -> R {
        let at = self.pos;
        let (t, first) = self.bump();
        match t {
            Tok::Str(s) => self.push_const(s.into_bytes()),
            Tok::Hex(b) | Tok::Ip(b) => self.push_const(b),
            Tok::Int(s) => {
                let n = self.ranged(&s, first, 0, u32::MAX.into(), "Invalid value")? as u32;
                self.push_const(n.to_be_bytes().to_vec());
            }
            Tok::LParen => {
                self.string_expr()?;
                self.expect(Tok::RParen)?;
            }
            Tok::Kw(k) => self.keyword_term(k, first, at)?,
            _ => {
                self.pos = at;
                return Err(self.unexpected(&[]));
            }
        }
        Ok(())
    }

    fn keyword_term(&mut self, k: Kw, first: Span, at: usize) -> R {
        match k {
            Kw::Option | Kw::Relay4 | Kw::Relay6 | Kw::Vendor | Kw::VendorClass => {
                self.option_like(k, first, false)?;
            }
            Kw::Pkt => {
                self.expect(Tok::Dot)?;
                let f = match self.peek() {
                    Tok::Kw(Kw::Iface) => Field::Iface,
                    Tok::Kw(Kw::Src) => Field::Src,
                    Tok::Kw(Kw::Dst) => Field::Dst,
                    Tok::Kw(Kw::Len) => Field::Len,
                    _ => return Err(self.unexpected(&["iface", "src", "dst", "len"])),
                };
                self.bump();
                self.emit(Op::Field(f));
            }
            Kw::Pkt4 => {
                self.expect(Tok::Dot)?;
                let f = match self.peek() {
                    Tok::Kw(Kw::Mac) => Field::Mac,
                    Tok::Kw(Kw::Hlen) => Field::Hlen,
                    Tok::Kw(Kw::Htype) => Field::Htype,
                    Tok::Kw(Kw::Ciaddr) => Field::Ciaddr,
                    Tok::Kw(Kw::Giaddr) => Field::Giaddr,
                    Tok::Kw(Kw::Yiaddr) => Field::Yiaddr,
                    Tok::Kw(Kw::Siaddr) => Field::Siaddr,
                    Tok::Kw(Kw::Msgtype) => Field::MsgType,
                    Tok::Kw(Kw::Transid) => Field::TransId,
                    _ => {
                        return Err(self.unexpected(&[
                            "mac", "hlen", "htype", "ciaddr", "giaddr", "yiaddr", "siaddr",
                            "msgtype", "transid",
                        ]))
                    }
                };
                self.bump();
                self.only(Universe::V4, first, "pkt4 can only be used in DHCPv4.")?;
                self.emit(Op::Field(f));
            }
            Kw::Pkt6 => {
                self.expect(Tok::Dot)?;
                let f = match self.peek() {
                    Tok::Kw(Kw::Msgtype) => Field::MsgType,
                    Tok::Kw(Kw::Transid) => Field::TransId,
                    _ => return Err(self.unexpected(&["msgtype", "transid"])),
                };
                self.bump();
                self.only(Universe::V6, first, "pkt6 can only be used in DHCPv6.")?;
                self.emit(Op::Field(f));
            }
            Kw::Substring => {
                self.expect(Tok::LParen)?;
                self.string_expr()?;
                self.expect(Tok::Comma)?;
                let start = self.arg()?;
                self.expect(Tok::Comma)?;
                let len = if *self.peek() == Tok::Kw(Kw::All) {
                    self.bump();
                    None
                } else if matches!(self.peek(), Tok::Int(_)) {
                    Some(self.arg()?)
                } else {
                    return Err(self.unexpected(&["integer", "all"]));
                };
                self.expect(Tok::RParen)?;
                self.emit(Op::Substring { start, len });
            }
            Kw::Split => {
                self.expect(Tok::LParen)?;
                self.string_expr()?;
                self.expect(Tok::Comma)?;
                self.string_expr()?;
                self.expect(Tok::Comma)?;
                let field = self.arg()?;
                self.expect(Tok::RParen)?;
                self.emit(Op::Split { field });
            }
            Kw::Concat => {
                self.call(2)?;
                self.emit(Op::Concat);
            }
            Kw::Hexstring => {
                self.call(2)?;
                self.emit(Op::ToHex);
            }
            Kw::Lcase | Kw::Ucase | Kw::Addrtotext => {
                self.call(1)?;
                self.emit(match k {
                    Kw::Lcase => Op::Lcase,
                    Kw::Ucase => Op::Ucase,
                    _ => Op::AddrToText,
                });
            }
            Kw::Int8totext
            | Kw::Int16totext
            | Kw::Int32totext
            | Kw::Uint8totext
            | Kw::Uint16totext
            | Kw::Uint32totext => {
                self.call(1)?;
                self.emit(Op::IntToText(match k {
                    Kw::Int8totext => IntText::I8,
                    Kw::Int16totext => IntText::I16,
                    Kw::Int32totext => IntText::I32,
                    Kw::Uint8totext => IntText::U8,
                    Kw::Uint16totext => IntText::U16,
                    _ => IntText::U32,
                }));
            }
            Kw::Ifelse => {
                self.expect(Tok::LParen)?;
                self.bool_expr(0)?;
                self.expect(Tok::Comma)?;
                let to_else = self.emit(Op::PopJumpIfFalse(0));
                self.string_expr()?;
                self.expect(Tok::Comma)?;
                let to_end = self.emit(Op::Jump(0));
                self.patch(to_else);
                self.string_expr()?;
                self.expect(Tok::RParen)?;
                self.patch(to_end);
            }
            Kw::Sifelse => {
                self.expect(Tok::LParen)?;
                self.bool_expr(0)?;
                self.expect(Tok::Comma)?;
                self.string_expr()?;
                self.expect(Tok::Comma)?;
                self.string_expr()?;
                self.expect(Tok::RParen)?;
                self.emit(Op::IfElse);
            }
            _ => {
                self.pos = at;
                return Err(self.unexpected(&[]));
            }
        }
        Ok(())
    }
}
