//! Any text parses or fails with a position inside it; whatever parses evaluates, on a
//! packet made of the input's bytes, to a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_expr::{EvalError, Expr, Field, Kind, Machine, Names, Packet, Source, Universe};

struct AnyNames;
impl Names for AnyNames {
    fn option_code(&self, name: &str) -> Option<u16> {
        (name.len() < 4).then_some(name.len() as u16)
    }
    fn class_defined(&self, name: &str) -> bool {
        name.len() % 2 == 0
    }
}

/// Options and fields cut from the fuzzer's bytes: option `c` is there when byte `c`
/// of the data is odd, and its value is a slice of the data.
struct BytesPacket<'a>(&'a [u8]);
impl Packet for BytesPacket<'_> {
    fn option(&self, src: Source, _text: bool, out: &mut Vec<u8>) -> bool {
        let code = match src {
            Source::Option(c) | Source::SubOption(c, _) | Source::Relay4(c) => c,
            Source::Relay6 { code, .. } | Source::Vendor { code, .. } => code,
            Source::VendorClassData { index, .. } => u16::from(index),
        };
        let d = self.0;
        if d.is_empty() || d[usize::from(code) % d.len()] % 2 == 0 {
            return false;
        }
        let start = usize::from(code) % d.len();
        out.extend_from_slice(&d[start..d.len().min(start + 16)]);
        true
    }
    fn field(&self, f: Field, out: &mut Vec<u8>) -> Result<(), EvalError> {
        let n = match f {
            Field::Mac => 6,
            Field::Src | Field::Dst => 4,
            Field::PeerAddr(_) | Field::LinkAddr(_) => 16,
            Field::Iface => 3,
            _ => 4,
        };
        if self.0.len() % 7 == 0 {
            return Err(EvalError("no such field".into()));
        }
        out.extend(self.0.iter().copied().cycle().take(n));
        Ok(())
    }
    fn vendor_id(&self, class: bool) -> Option<u32> {
        self.0.get(usize::from(class)).map(|b| u32::from(*b))
    }
    fn member(&self, name: &str) -> bool {
        name.len() % 3 == 0
    }
}

fuzz_target!(|data: &[u8]| {
    let (head, rest) = data.split_at(data.len().min(1));
    let Some(&flags) = head.first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let universe = if flags & 1 == 0 { Universe::V4 } else { Universe::V6 };
    let kind = if flags & 2 == 0 { Kind::Bool } else { Kind::String };
    match Expr::parse(text, kind, universe, &AnyNames) {
        Ok(e) => {
            let pkt = BytesPacket(data);
            let mut m = Machine::default();
            match kind {
                Kind::Bool => drop(e.eval_bool(&pkt, &mut m)),
                Kind::String => drop(e.eval_string(&pkt, &mut m)),
            }
        }
        Err(err) => {
            let lines = text.lines().count().max(1) as u32;
            assert!(err.line >= 1 && err.line <= lines + 1, "{err} in {text:?}");
            assert!(err.column >= 1 && err.end_column >= err.column, "{err}");
        }
    }
});
