//! Kea's expression language (client-class `test`, flex-option `add`/`supersede`,
//! `template-test`), parsed once at configuration load and evaluated per packet.
//!
//! The language is Kea's as its ARM and its grammar give it (Kea 2.2 and 3.x): string
//! literals `'…'`, hex `0x…`, integers (4 bytes, network order, when used as a value),
//! IPv4/IPv6 addresses (their 4 or 16 bytes), `option[code|name].hex|.text|.exists`,
//! sub-options, `relay4[…]`, `relay6[nest]…`, `pkt.*`, `pkt4.*`, `pkt6.*`, `vendor…`,
//! `vendor-class…`, `substring`, `split`, `concat` and `+`, `ifelse` and `sifelse`,
//! `hexstring`, `addrtotext`, `[u]int{8,16,32}totext`, `lcase`, `ucase`, `member`,
//! `match`, `not`, `and`/`or` (short-circuit) and `sand`/`sor` (strict), `==`.
//!
//! Values are byte strings, booleans the strings `true` and `false`, as in Kea, so an
//! expression means here what it means there. An expression compiles to a flat program
//! for a small stack machine ([`Machine`]); a caller keeps one machine per worker and
//! evaluating allocates nothing once its buffers have grown. What the packet holds is
//! asked through [`Packet`], implemented by the DHCP engines: this crate knows no wire
//! format.
//!
//! Written here rather than taken from a crate: no Rust crate implements Kea's language,
//! and its meaning (values as strings, labels and branches, Kea's conversions) is what
//! users' configurations depend on.

mod eval;
mod lex;
mod parse;

use std::fmt;

pub use eval::Machine;

/// Which protocol the expression is for: some tokens exist in one only (`relay4`,
/// `pkt4` in DHCPv4; `relay6`, `pkt6` in DHCPv6), and option codes go up to 255 or
/// 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Universe {
    /// DHCPv4.
    V4,
    /// DHCPv6.
    V6,
}

/// What a configuration knows at parse time: option names (standard and defined by
/// `option-def`) and the client classes defined so far (Kea accepts `member('X')` only
/// for a built-in class or one defined before).
pub trait Names {
    /// The code of the option of that name in the top-level space (`dhcp4`/`dhcp6`).
    fn option_code(&self, name: &str) -> Option<u16>;
    /// Whether `member('name')` may refer to this class.
    fn class_defined(&self, name: &str) -> bool;
}

/// Where an option-like value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `option[code]`.
    Option(u16),
    /// `option[code].option[sub]`: a sub-option of an option that encapsulates a space.
    SubOption(u16, u16),
    /// `relay4[sub]`: a sub-option of the relay agent information option (82).
    Relay4(u16),
    /// `relay6[nest].option[code]`: an option of the relay message at `nest`, as Kea
    /// numbers them: 0 the outermost (the relay that sent the packet to the server),
    /// negative values from the innermost (-1: the relay closest to the client).
    Relay6 {
        /// Relay nesting level, -32..31.
        nest: i8,
        /// Option code.
        code: u16,
    },
    /// `vendor[enterprise].option[code]`: a sub-option of the vendor-specific option
    /// (DHCPv4 125, DHCPv6 17) of that enterprise (0: whichever vendor).
    Vendor {
        /// Enterprise id, 0 for `*`.
        enterprise: u32,
        /// Sub-option code.
        code: u16,
    },
    /// `vendor-class[enterprise].data[index]`: the index-th data chunk of the vendor
    /// class option (DHCPv4 124, DHCPv6 16).
    VendorClassData {
        /// Enterprise id, 0 for `*`.
        enterprise: u32,
        /// Chunk index.
        index: u8,
    },
}

/// A packet field or metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `pkt.iface`: the interface name.
    Iface,
    /// `pkt.src`: the source address (4 or 16 bytes).
    Src,
    /// `pkt.dst`: the destination address.
    Dst,
    /// `pkt.len`: the packet's length (4 bytes).
    Len,
    /// `pkt4.mac`: chaddr, `hlen` bytes.
    Mac,
    /// `pkt4.hlen` (4 bytes).
    Hlen,
    /// `pkt4.htype` (4 bytes).
    Htype,
    /// `pkt4.ciaddr`.
    Ciaddr,
    /// `pkt4.giaddr`.
    Giaddr,
    /// `pkt4.yiaddr`.
    Yiaddr,
    /// `pkt4.siaddr`.
    Siaddr,
    /// `pkt4.msgtype` / `pkt6.msgtype` (4 bytes).
    MsgType,
    /// `pkt4.transid` / `pkt6.transid` (4 bytes).
    TransId,
    /// `relay6[nest].peeraddr` (16 bytes; empty when there is no such relay).
    PeerAddr(i8),
    /// `relay6[nest].linkaddr`.
    LinkAddr(i8),
}

/// The packet an expression is evaluated on.
pub trait Packet {
    /// Writes the value at `src` into `out` (empty on entry): its payload (`.hex`), or
    /// its text (`.text`, as Kea renders the option by its definition). `false` when
    /// there is no such option.
    fn option(&self, src: Source, text: bool, out: &mut Vec<u8>) -> bool;
    /// Writes the field into `out` (empty on entry). An error where Kea's evaluation
    /// fails (a field of the other protocol's packet, no hardware address).
    fn field(&self, field: Field, out: &mut Vec<u8>) -> Result<(), EvalError>;
    /// The enterprise id of the vendor-specific option (`class` false: DHCPv4 125,
    /// DHCPv6 17) or of the vendor class option (`class` true: 124, 16), if the packet
    /// has one.
    fn vendor_id(&self, class: bool) -> Option<u32>;
    /// Whether the packet is in the client class `name` (`member()`).
    fn member(&self, name: &str) -> bool;
}

/// An expression, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Expr {
    prog: parse::Program,
}

/// The two kinds of expression Kea parses: a class `test` is boolean, a flex-option
/// value or `template-test` a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Evaluates to true or false.
    Bool,
    /// Evaluates to a byte string.
    String,
}

impl Expr {
    /// Parses `text` as an expression of `kind`.
    pub fn parse(
        text: &str,
        kind: Kind,
        universe: Universe,
        names: &dyn Names,
    ) -> Result<Expr, ParseError> {
        Ok(Expr {
            prog: parse::parse(text, kind, universe, names)?,
        })
    }

    /// [`Expr::parse`] of a boolean expression (a class `test`).
    pub fn parse_bool(
        text: &str,
        universe: Universe,
        names: &dyn Names,
    ) -> Result<Expr, ParseError> {
        Expr::parse(text, Kind::Bool, universe, names)
    }

    /// [`Expr::parse`] of a string expression (flex-option, `template-test`).
    pub fn parse_string(
        text: &str,
        universe: Universe,
        names: &dyn Names,
    ) -> Result<Expr, ParseError> {
        Expr::parse(text, Kind::String, universe, names)
    }

    /// Boolean or string.
    pub fn kind(&self) -> Kind {
        self.prog.kind
    }

    /// The classes `member()` refers to, in order of appearance.
    pub fn members(&self) -> impl Iterator<Item = &str> {
        self.prog.members()
    }

    /// Evaluates a boolean expression. An error where Kea's evaluation throws (the
    /// caller treats the class as not matched, as Kea does).
    pub fn eval_bool(&self, pkt: &dyn Packet, m: &mut Machine) -> Result<bool, EvalError> {
        let v = m.run(&self.prog, pkt)?;
        eval::to_bool(v)
    }

    /// Evaluates a string expression; the value lives in `m` until its next run.
    pub fn eval_string<'m>(
        &self,
        pkt: &dyn Packet,
        m: &'m mut Machine,
    ) -> Result<&'m [u8], EvalError> {
        m.run(&self.prog, pkt)
    }
}

/// Why an expression does not parse, and where: line and columns (1-based, the last
/// column inclusive) of the token at fault, as Kea's parser reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line of the offending token (1-based).
    pub line: u32,
    /// Its first column (1-based).
    pub column: u32,
    /// Its last column (inclusive; equal to `column` for one character).
    pub end_column: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.end_column > self.column {
            write!(
                f,
                "{}.{}-{}: {}",
                self.line, self.column, self.end_column, self.message
            )
        } else {
            write!(f, "{}.{}: {}", self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// Why an evaluation failed (Kea's EvalTypeError and EvalBadStack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError(pub String);

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EvalError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Names4;
    impl Names for Names4 {
        fn option_code(&self, name: &str) -> Option<u16> {
            match name {
                "host-name" => Some(12),
                "vendor-class-identifier" => Some(60),
                _ => None,
            }
        }
        fn class_defined(&self, name: &str) -> bool {
            ["UEFIboot", "BIOSboot", "iPXEboot", "KNOWN"].contains(&name)
        }
    }

    #[derive(Default)]
    struct Pkt {
        options: HashMap<u16, Vec<u8>>,
        classes: Vec<&'static str>,
    }
    impl Packet for Pkt {
        fn option(&self, src: Source, _text: bool, out: &mut Vec<u8>) -> bool {
            match src {
                Source::Option(c) => self.options.get(&c).map(|v| out.extend(v)).is_some(),
                _ => false,
            }
        }
        fn field(&self, _: Field, _: &mut Vec<u8>) -> Result<(), EvalError> {
            Ok(())
        }
        fn vendor_id(&self, _: bool) -> Option<u32> {
            None
        }
        fn member(&self, name: &str) -> bool {
            self.classes.contains(&name)
        }
    }

    fn test(expr: &str, pkt: &Pkt) -> bool {
        let e = Expr::parse_bool(expr, Universe::V4, &Names4).unwrap();
        e.eval_bool(pkt, &mut Machine::default()).unwrap()
    }

    #[test]
    fn the_seeds_pxe_classes() {
        // Seed 003 §4.15: UEFI (93 = 0x0007) without iPXE's option 175.
        let uefi = "option[93].hex == 0x0007 and not option[175].exists";
        let mut p = Pkt::default();
        p.options.insert(93, vec![0, 7]);
        assert!(test(uefi, &p));
        assert!(!test("option[175].exists", &p));
        p.options.insert(175, vec![1]);
        assert!(!test(uefi, &p));
        assert!(test("option[175].exists", &p));
        p.classes = vec!["iPXEboot"];
        assert!(test(
            "member('UEFIboot') or member('BIOSboot') or member('iPXEboot')",
            &p
        ));
    }

    #[test]
    fn precedence_and_parentheses() {
        let p = Pkt::default();
        // not binds tighter than and, and tighter than or.
        assert!(test("not 'a' == 'b' and 'c' == 'c'", &p));
        assert!(test("'a' == 'b' and 'c' == 'd' or 'e' == 'e'", &p));
        assert!(!test("'a' == 'b' and ('c' == 'd' or 'e' == 'e')", &p));
        assert!(test("('a') == 'a'", &p));
        assert!(test("(('a' + 'b') == 'ab')", &p));
        assert!(test("'x' + 'y' == concat('x', 'y')", &p));
    }

    #[test]
    fn short_circuit_skips_what_would_fail() {
        let p = Pkt::default();
        // int16totext of one byte fails when evaluated.
        let bad = "int16totext(0x01) == '1'";
        let e = Expr::parse_bool(bad, Universe::V4, &Names4).unwrap();
        assert!(e.eval_bool(&p, &mut Machine::default()).is_err());
        assert!(!test(&format!("'a' == 'b' and {bad}"), &p));
        assert!(test(&format!("'a' == 'a' or {bad}"), &p));
        let strict =
            Expr::parse_bool(&format!("'a' == 'b' sand {bad}"), Universe::V4, &Names4).unwrap();
        assert!(strict.eval_bool(&p, &mut Machine::default()).is_err());
    }

    #[test]
    fn errors_say_where() {
        let err = |s: &str, u| Expr::parse_bool(s, u, &Names4).unwrap_err();
        let e = err("member('nope')", Universe::V4);
        assert_eq!((e.column, e.end_column), (8, 13), "{e}");
        assert!(e.message.contains("Not defined client class 'nope'"));
        let e = err("option[256].hex == 'x'", Universe::V4);
        assert_eq!((e.column, e.end_column), (8, 10), "{e}");
        assert!(e.message.contains("Allowed range: 0..255"), "{e}");
        let e = err("relay6[0].peeraddr == ::1", Universe::V4);
        assert!(e.message.contains("Nest level invalid for DHCPv4"), "{e}");
        let e = err("option[12].hex ==", Universe::V4);
        assert_eq!(e.to_string(), "1.18: syntax error, unexpected end of file");
        let e = err("option[foo].exists", Universe::V4);
        assert!(e.message.contains("option 'foo' is not defined"), "{e}");
        let e = err("pkt6.msgtype == 1", Universe::V4);
        assert_eq!(e.column, 1);
        assert!(e.message.contains("pkt6 can only be used in DHCPv6"), "{e}");
    }

    #[test]
    fn deep_or_tangled_input_is_refused() {
        let deep = format!("{}'a' == 'a'{}", "(".repeat(10_000), ")".repeat(10_000));
        let e = Expr::parse_bool(&deep, Universe::V4, &Names4).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{e}");
        // Nested parentheses around ifelse: each level has two readings (boolean or
        // string); the fuzzer found such an input that took 349 s to refuse before the
        // parse was bounded.
        let tangled = "((((((((((ifelse(".repeat(40);
        let e = Expr::parse_bool(&tangled, Universe::V4, &Names4).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{e}");
        // Reasonable nesting parses.
        let ok = format!("{}'a' == 'a'{}", "(".repeat(20), ")".repeat(20));
        assert!(Expr::parse_bool(&ok, Universe::V4, &Names4).is_ok());
        let nested_ifelse = "ifelse('a' == 'a', ifelse(('b' == 'b'), ('x'), 'y'), 'z') == 'x'";
        assert!(test(nested_ifelse, &Pkt::default()));
    }

    #[test]
    fn a_warm_machine_allocates_nothing_new() {
        let mut p = Pkt::default();
        p.options.insert(12, b"host".to_vec());
        let e = Expr::parse_string(
            "ifelse(option[12].exists, lcase(option[host-name].hex) + '-x', 'none')",
            Universe::V4,
            &Names4,
        )
        .unwrap();
        let mut m = Machine::default();
        assert_eq!(e.eval_string(&p, &mut m).unwrap(), b"host-x");
        let caps: Vec<usize> = m.slots.iter().map(Vec::capacity).collect();
        assert_eq!(e.eval_string(&p, &mut m).unwrap(), b"host-x");
        assert_eq!(caps, m.slots.iter().map(Vec::capacity).collect::<Vec<_>>());
    }
}
