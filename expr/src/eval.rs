//! The stack machine: values are byte strings as in Kea; each stack slot keeps its
//! buffer between runs, so a warmed-up machine evaluates without allocating.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::parse::{Arg, IntText, Op, Program, Repr};
use crate::{EvalError, Packet, Source};

const TRUE: &[u8] = b"true";
const FALSE: &[u8] = b"false";

/// Evaluation scratch space: keep one per worker and pass it to every evaluation.
#[derive(Debug, Default)]
pub struct Machine {
    pub(crate) slots: Vec<Vec<u8>>,
    depth: usize,
}

pub(crate) fn to_bool(v: &[u8]) -> Result<bool, EvalError> {
    match v {
        TRUE => Ok(true),
        FALSE => Ok(false),
        _ => Err(EvalError(format!(
            "Incorrect boolean. Expected exactly \"false\" or \"true\", got \"{}\"",
            String::from_utf8_lossy(v)
        ))),
    }
}

fn bad_stack() -> EvalError {
    EvalError("Incorrect stack order".into())
}

impl Machine {
    /// A new, empty slot on top of the stack.
    fn push(&mut self) -> &mut Vec<u8> {
        if self.depth == self.slots.len() {
            self.slots.push(Vec::new());
        }
        let slot = &mut self.slots[self.depth];
        slot.clear();
        self.depth += 1;
        slot
    }

    fn push_bytes(&mut self, v: &[u8]) {
        self.push().extend_from_slice(v);
    }

    fn top(&mut self) -> Result<&mut Vec<u8>, EvalError> {
        match self.depth {
            0 => Err(bad_stack()),
            d => Ok(&mut self.slots[d - 1]),
        }
    }

    fn pop(&mut self) -> Result<(), EvalError> {
        if self.depth == 0 {
            return Err(bad_stack());
        }
        self.depth -= 1;
        Ok(())
    }

    /// The two top values (below, top), for an operator that replaces both by one
    /// written into `below`.
    fn pair(&mut self) -> Result<(&mut Vec<u8>, &mut Vec<u8>), EvalError> {
        if self.depth < 2 {
            return Err(bad_stack());
        }
        let (lo, hi) = self.slots.split_at_mut(self.depth - 1);
        self.depth -= 1;
        Ok((&mut lo[self.depth - 1], &mut hi[0]))
    }

    fn set_bool(v: &mut Vec<u8>, b: bool) {
        v.clear();
        v.extend_from_slice(if b { TRUE } else { FALSE });
    }

    pub(crate) fn run(&mut self, prog: &Program, pkt: &dyn Packet) -> Result<&[u8], EvalError> {
        self.depth = 0;
        let mut pc = 0;
        while let Some(op) = prog.ops.get(pc) {
            pc += 1;
            match op {
                Op::Push(i) => self.push_bytes(&prog.consts[*i]),
                Op::Opt(src, repr) => self.option(pkt, *src, *repr),
                Op::Field(f) => {
                    let out = self.push();
                    pkt.field(*f, out)?;
                }
                Op::VendorExists { class, enterprise } => {
                    let ok = pkt
                        .vendor_id(*class)
                        .is_some_and(|id| *enterprise == 0 || id == *enterprise);
                    Self::set_bool(self.push(), ok);
                }
                Op::VendorEnterprise { class } => {
                    let id = pkt.vendor_id(*class);
                    let out = self.push();
                    if let Some(id) = id {
                        out.extend_from_slice(&id.to_be_bytes());
                    }
                }
                Op::VendorValue {
                    class,
                    enterprise,
                    src,
                    repr,
                } => {
                    let ok = pkt
                        .vendor_id(*class)
                        .is_some_and(|id| *enterprise == 0 || id == *enterprise);
                    if ok {
                        self.option(pkt, *src, *repr);
                    } else {
                        // No such vendor: what a missing option gives.
                        let out = self.push();
                        if *repr == Repr::Exists {
                            out.extend_from_slice(FALSE);
                        }
                    }
                }
                Op::Member(i) => {
                    let b = pkt.member(&prog.classes[*i]);
                    Self::set_bool(self.push(), b);
                }
                Op::Match(i) => {
                    let v = self.top()?;
                    // A value that is not text, or a match that gives up (backtracking
                    // limit), does not match: Kea logs the error and says false.
                    let b = std::str::from_utf8(v)
                        .ok()
                        .is_some_and(|s| prog.regexes[*i].is_match(s).unwrap_or(false));
                    Self::set_bool(v, b);
                }
                Op::Equal => {
                    let (a, b) = self.pair()?;
                    let eq = a == b;
                    Self::set_bool(a, eq);
                }
                Op::Concat => {
                    let (a, b) = self.pair()?;
                    a.extend_from_slice(b);
                }
                Op::Substring { start, len } => substring(self.top()?, start, len.as_ref())?,
                Op::Split { field } => split_field(self, field)?,
                Op::ToHex => {
                    let (bin, sep) = self.pair()?;
                    to_hex(bin, sep);
                }
                Op::Lcase => self.top()?.make_ascii_lowercase(),
                Op::Ucase => self.top()?.make_ascii_uppercase(),
                Op::AddrToText => addr_to_text(self.top()?)?,
                Op::IntToText(kind) => int_to_text(self.top()?, *kind)?,
                Op::Not => {
                    let v = self.top()?;
                    let b = to_bool(v)?;
                    Self::set_bool(v, !b);
                }
                Op::And | Op::Or => {
                    let (a, b) = self.pair()?;
                    let (x, y) = (to_bool(b)?, to_bool(a)?);
                    let r = if matches!(op, Op::And) {
                        x && y
                    } else {
                        x || y
                    };
                    Self::set_bool(a, r);
                }
                Op::IfElse => {
                    if self.depth < 3 {
                        return Err(bad_stack());
                    }
                    let d = self.depth;
                    let cond = to_bool(&self.slots[d - 3])?;
                    let pick = if cond { d - 2 } else { d - 1 };
                    self.slots.swap(d - 3, pick);
                    self.depth -= 2;
                }
                Op::FalseJumpOrPop(t) | Op::TrueJumpOrPop(t) => {
                    let v = to_bool(self.top()?)?;
                    if v == matches!(op, Op::TrueJumpOrPop(_)) {
                        pc = *t;
                    } else {
                        self.pop()?;
                    }
                }
                Op::PopJumpIfFalse(t) => {
                    let v = to_bool(self.top()?)?;
                    self.pop()?;
                    if !v {
                        pc = *t;
                    }
                }
                Op::Jump(t) => pc = *t,
            }
        }
        if self.depth != 1 {
            return Err(EvalError(format!(
                "Incorrect stack order. Expected exactly 1 value at the end of evaluation, got {}",
                self.depth
            )));
        }
        Ok(&self.slots[0])
    }

    fn option(&mut self, pkt: &dyn Packet, src: Source, repr: Repr) {
        let out = self.push();
        let found = pkt.option(src, repr == Repr::Text, out);
        if repr == Repr::Exists {
            Self::set_bool(out, found);
        } else if !found {
            out.clear();
        }
    }
}

fn arg(a: &Arg, what: &str) -> Result<i32, EvalError> {
    match a {
        Arg::Int(n) => Ok(*n),
        Arg::Bad(s) => Err(EvalError(format!(
            "the parameter '{s}' for {what} couldn't be converted to an integer."
        ))),
    }
}

/// Kea's substring: a negative start counts from the end, a negative length takes the
/// characters before the start, anything out of range gives what is there (or "").
fn substring(v: &mut Vec<u8>, start: &Arg, len: Option<&Arg>) -> Result<(), EvalError> {
    if v.is_empty() {
        return Ok(());
    }
    let mut start = i64::from(arg(start, "the starting position of the substring")?);
    let n = v.len() as i64;
    let mut length = match len {
        None => n,
        Some(l) => i64::from(arg(l, "the length of the substring")?),
    };
    if start < -n || start >= n {
        v.clear();
        return Ok(());
    }
    if start < 0 {
        start += n;
    }
    if length < 0 {
        length = -length;
        if length <= start {
            start -= length;
        } else {
            length = start;
            start = 0;
        }
    }
    let (s, e) = (start as usize, (start + length).min(n) as usize);
    v.copy_within(s..e, 0);
    v.truncate(e - s);
    Ok(())
}

/// Kea's split: fields separated by any of the delimiter's characters, numbered from 1;
/// an empty delimiter gives the whole string, a field out of range "".
fn split_field(m: &mut Machine, field: &Arg) -> Result<(), EvalError> {
    let (s, delims) = m.pair()?;
    if s.is_empty() {
        return Ok(());
    }
    let field = arg(field, "the field field for split")?;
    if delims.is_empty() {
        return Ok(());
    }
    let Ok(want) = usize::try_from(field) else {
        s.clear();
        return Ok(());
    };
    let piece = s
        .split(|b| delims.contains(b))
        .nth(want.wrapping_sub(1))
        .map(|p| {
            let off = p.as_ptr() as usize - s.as_ptr() as usize;
            (off, off + p.len())
        });
    match piece {
        Some((a, b)) if want >= 1 => {
            s.copy_within(a..b, 0);
            s.truncate(b - a);
        }
        _ => s.clear(),
    }
    Ok(())
}

fn to_hex(bin: &mut Vec<u8>, sep: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let n = bin.len();
    let mut out = Vec::with_capacity(n * (2 + sep.len()));
    for (i, b) in bin.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
    *bin = out;
}

fn addr_to_text(v: &mut Vec<u8>) -> Result<(), EvalError> {
    let text = match v.len() {
        0 => return Ok(()),
        4 => Ipv4Addr::new(v[0], v[1], v[2], v[3]).to_string(),
        16 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(v);
            ipv6_text(Ipv6Addr::from(o))
        }
        _ => return Err(EvalError("Can not convert to valid address.".into())),
    };
    v.clear();
    v.extend_from_slice(text.as_bytes());
    Ok(())
}

/// As inet_ntop writes it (what Kea prints): an address with the first 96 bits zero (and
/// not `::` or `::1`-like) or IPv4-mapped ends in dotted quad.
fn ipv6_text(a: Ipv6Addr) -> String {
    let w = a.segments();
    let o = a.octets();
    let v4 = format!("{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
    if w[..5] == [0; 5] && w[5] == 0xffff {
        return format!("::ffff:{v4}");
    }
    if w[..6] == [0; 6] && w[6] != 0 {
        return format!("::{v4}");
    }
    a.to_string()
}

fn int_to_text(v: &mut Vec<u8>, kind: IntText) -> Result<(), EvalError> {
    if v.is_empty() {
        return Ok(());
    }
    let (size, name) = match kind {
        IntText::I8 => (1, "int8"),
        IntText::I16 => (2, "int16"),
        IntText::I32 => (4, "int32"),
        IntText::U8 => (1, "uint8"),
        IntText::U16 => (2, "uint16"),
        IntText::U32 => (4, "uint32"),
    };
    if v.len() != size {
        return Err(EvalError(format!("Can not convert to valid {name}.")));
    }
    let text = match kind {
        IntText::I8 => (v[0] as i8).to_string(),
        IntText::I16 => i16::from_be_bytes([v[0], v[1]]).to_string(),
        IntText::I32 => i32::from_be_bytes([v[0], v[1], v[2], v[3]]).to_string(),
        IntText::U8 => v[0].to_string(),
        IntText::U16 => u16::from_be_bytes([v[0], v[1]]).to_string(),
        IntText::U32 => u32::from_be_bytes([v[0], v[1], v[2], v[3]]).to_string(),
    };
    v.clear();
    v.extend_from_slice(text.as_bytes());
    Ok(())
}
