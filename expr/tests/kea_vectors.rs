//! Kea's own unit tests of its expression language, ported as facts: the expression
//! text, what the packet holds, and the value, evaluation error or parse-error position
//! Kea's tests expect.
//!
//! Sources, read from the Kea-3.0.4 tag (line numbers below are that tag's; the Kea-2.2.0
//! tests hold the same facts minus `lcase`/`ucase`/`match`/`sand`/`sor`/`sifelse`,
//! which 2.2 did not have):
//! - `src/lib/eval/tests/token_unittest.cc` (cited `token:LINE name`): one token at a
//!   time on a hand-built value stack. Ported by writing the expression that builds the
//!   same stack; the cases an expression cannot build (a stack too short, a non-integer
//!   substring start, an unknown field enum, relay6 tokens on a DHCPv4 packet, bare
//!   labels and branches) have no counterpart here.
//! - `context_unittest.cc` (`context:LINE name`): parsing, and `checkError`'s message
//!   `<string>:L.C[-E]: text`. Positions are asserted exactly, the text only for its key
//!   phrase (bison's "unexpected X, expecting Y" lists are not part of the contract).
//! - `evaluate_unittest.cc` (`evaluate:LINE name`), `boolean_unittest.cc`
//!   (`boolean:LINE name`), `dependency_unittest.cc` (`dependency:LINE name`).
//! - A few facts that follow from the grammar or the token code rather than from a test
//!   cite `parser.yy:LINE` or `token.cc:LINE` (positions of range errors, the 4-byte
//!   integer meeting a 1-byte conversion, and so on).
//!
//! Every check is run even when an earlier one failed; a test's failures are listed
//! together (with the line of this file, where the Kea citation sits) when it ends.

use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};

use tern_expr::{
    EvalError, Expr, Field, Kind, Machine, Names, Packet, ParseError, Source, Universe,
};

const V4: Universe = Universe::V4;
const V6: Universe = Universe::V6;
const B: Kind = Kind::Bool;
const S: Kind = Kind::String;

// ---------------------------------------------------------------------------------------
// The packet: options as Kea's tests build them, with their payload (`.hex`) and their
// rendering (`.text`), the fields, relay encapsulations, the vendor options and classes.
// ---------------------------------------------------------------------------------------

/// An option: its code, payload, text and (for an encapsulating option) sub-options.
#[derive(Clone, Debug, Default)]
struct Opt {
    code: u16,
    hex: Vec<u8>,
    text: String,
    subs: Vec<Opt>,
}

impl Opt {
    /// Kea's `OptionString`: the payload is the text.
    fn s(code: u16, text: &str) -> Opt {
        Opt {
            code,
            hex: text.as_bytes().to_vec(),
            text: text.to_string(),
            subs: Vec::new(),
        }
    }

    /// A binary option with the given rendering.
    fn bin(code: u16, hex: &[u8], text: &str) -> Opt {
        Opt {
            code,
            hex: hex.to_vec(),
            text: text.to_string(),
            subs: Vec::new(),
        }
    }

    /// An option encapsulating `subs`.
    fn with(code: u16, subs: Vec<Opt>) -> Opt {
        Opt {
            code,
            hex: Vec::new(),
            text: String::new(),
            subs,
        }
    }
}

/// A DHCPv6 relay encapsulation (`relays[0]` the outermost, as in Kea's `relay_info_`).
#[derive(Clone, Debug, Default)]
struct Relay {
    link: Vec<u8>,
    peer: Vec<u8>,
    options: Vec<Opt>,
}

#[derive(Clone, Debug, Default)]
struct Pkt {
    options: Vec<Opt>,
    fields: Vec<(Field, Vec<u8>)>,
    relays: Vec<Relay>,
    /// The vendor-specific option (125 / 17): enterprise id and sub-options.
    vendor: Option<(u32, Vec<Opt>)>,
    /// The vendor class option (124 / 16): enterprise id and data tuples.
    vendor_class: Option<(u32, Vec<Vec<u8>>)>,
    classes: Vec<String>,
}

fn find(list: &[Opt], code: u16) -> Option<&Opt> {
    list.iter().find(|o| o.code == code)
}

impl Pkt {
    /// Kea's test packet `Pkt4(DHCPDISCOVER, 12345)` with option 100 "hundred4": the
    /// constructor adds option 53 (message type 1) and an empty hardware address of type
    /// 1; the addresses are 0.0.0.0 and its length is 249.
    fn v4() -> Pkt {
        Pkt {
            options: vec![
                Opt::bin(53, &[1], "type=053, len=001: 1 (uint8)"),
                Opt::s(100, "hundred4"),
            ],
            fields: vec![
                (Field::Iface, Vec::new()),
                (Field::Src, vec![0; 4]),
                (Field::Dst, vec![0; 4]),
                (Field::Len, be(249)),
                (Field::Mac, Vec::new()),
                (Field::Hlen, be(0)),
                (Field::Htype, be(1)),
                (Field::Ciaddr, vec![0; 4]),
                (Field::Giaddr, vec![0; 4]),
                (Field::Yiaddr, vec![0; 4]),
                (Field::Siaddr, vec![0; 4]),
                (Field::MsgType, be(1)),
                (Field::TransId, be(12345)),
            ],
            ..Pkt::default()
        }
    }

    /// Kea's test packet `Pkt6(DHCPV6_SOLICIT, 12345)` with option 100 "hundred6"
    /// (16 bytes long).
    fn v6() -> Pkt {
        Pkt {
            options: vec![Opt::s(100, "hundred6")],
            fields: vec![
                (Field::Iface, Vec::new()),
                (Field::Src, vec![0; 16]),
                (Field::Dst, vec![0; 16]),
                (Field::Len, be(16)),
                (Field::MsgType, be(1)),
                (Field::TransId, be(12345)),
            ],
            ..Pkt::default()
        }
    }

    /// Adds `o`, replacing an option of the same code.
    fn opt(mut self, o: Opt) -> Pkt {
        self.options.retain(|x| x.code != o.code);
        self.options.push(o);
        self
    }

    /// Sets a field.
    fn set(mut self, f: Field, v: impl Into<Vec<u8>>) -> Pkt {
        self.fields.retain(|(k, _)| *k != f);
        self.fields.push((f, v.into()));
        self
    }

    /// Removes a field: asking for it is then an evaluation error, as asking a DHCPv6
    /// packet for a DHCPv4 field is in Kea.
    fn without(mut self, f: Field) -> Pkt {
        self.fields.retain(|(k, _)| *k != f);
        self
    }

    fn relay(mut self, link: &str, peer: &str, options: Vec<Opt>) -> Pkt {
        self.relays.push(Relay {
            link: ip(link),
            peer: ip(peer),
            options,
        });
        self
    }

    fn vendor(mut self, id: u32, subs: Vec<Opt>) -> Pkt {
        self.vendor = Some((id, subs));
        self
    }

    fn vendor_class(mut self, id: u32, tuples: Vec<Vec<u8>>) -> Pkt {
        self.vendor_class = Some((id, tuples));
        self
    }

    fn class(mut self, name: &str) -> Pkt {
        self.classes.push(name.to_string());
        self
    }

    /// The relay at `nest` as Kea resolves it: 0.. from the outermost, -1.. from the
    /// innermost, nothing out of range.
    fn relay_at(&self, nest: i8) -> Option<&Relay> {
        let n = self.relays.len() as i32;
        let i = if nest >= 0 {
            i32::from(nest)
        } else {
            n + i32::from(nest)
        };
        if i < 0 {
            None
        } else {
            self.relays.get(i as usize)
        }
    }
}

impl Packet for Pkt {
    fn option(&self, src: Source, text: bool, out: &mut Vec<u8>) -> bool {
        let found = match src {
            Source::Option(code) => find(&self.options, code),
            Source::SubOption(code, sub) => {
                find(&self.options, code).and_then(|o| find(&o.subs, sub))
            }
            // relay4[x] is the sub-option x of the relay agent information option (82).
            Source::Relay4(sub) => find(&self.options, 82).and_then(|o| find(&o.subs, sub)),
            Source::Relay6 { nest, code } => {
                self.relay_at(nest).and_then(|r| find(&r.options, code))
            }
            Source::Vendor { enterprise, code } => match &self.vendor {
                Some((id, subs)) if enterprise == 0 || enterprise == *id => find(subs, code),
                _ => None,
            },
            Source::VendorClassData { enterprise, index } => {
                return match &self.vendor_class {
                    Some((id, tuples)) if enterprise == 0 || enterprise == *id => {
                        match tuples.get(usize::from(index)) {
                            Some(t) => {
                                out.extend_from_slice(t);
                                true
                            }
                            None => false,
                        }
                    }
                    _ => false,
                };
            }
        };
        match found {
            Some(o) => {
                if text {
                    out.extend_from_slice(o.text.as_bytes());
                } else {
                    out.extend_from_slice(&o.hex);
                }
                true
            }
            None => false,
        }
    }

    fn field(&self, f: Field, out: &mut Vec<u8>) -> Result<(), EvalError> {
        match f {
            Field::PeerAddr(nest) => {
                if let Some(r) = self.relay_at(nest) {
                    out.extend_from_slice(&r.peer);
                }
                Ok(())
            }
            Field::LinkAddr(nest) => {
                if let Some(r) = self.relay_at(nest) {
                    out.extend_from_slice(&r.link);
                }
                Ok(())
            }
            _ => match self.fields.iter().find(|(k, _)| *k == f) {
                Some((_, v)) => {
                    out.extend_from_slice(v);
                    Ok(())
                }
                None => Err(EvalError(format!("test packet has no {f:?}"))),
            },
        }
    }

    fn vendor_id(&self, class: bool) -> Option<u32> {
        if class {
            self.vendor_class.as_ref().map(|v| v.0)
        } else {
            self.vendor.as_ref().map(|v| v.0)
        }
    }

    fn member(&self, name: &str) -> bool {
        self.classes.iter().any(|c| c == name)
    }
}

/// The option names and classes a configuration would know.
struct TestNames {
    v6: bool,
    classes: &'static [&'static str],
}

impl Names for TestNames {
    fn option_code(&self, name: &str) -> Option<u16> {
        let table: &[(&str, u16)] = if self.v6 {
            &[
                ("client-id", 1),
                ("server-id", 2),
                ("vendor-opts", 17),
                ("interface-id", 18),
            ]
        } else {
            &[
                ("host-name", 12),
                ("boot-size", 13),
                ("dhcp-message-type", 53),
                ("vendor-class-identifier", 60),
                ("dhcp-client-identifier", 61),
                ("dhcp-agent-options", 82),
            ]
        };
        table.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
    }

    fn class_defined(&self, name: &str) -> bool {
        self.classes.contains(&name)
    }
}

/// Classes defined in every test: `foo` (context:1356 member, where only it is defined),
/// and the two names dependency_unittest uses.
const CLASSES: &[&str] = &["foo", "foobar", "not-matching"];

fn names(u: Universe) -> TestNames {
    TestNames {
        v6: u == V6,
        classes: CLASSES,
    }
}

fn be(n: u32) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

fn ip(s: &str) -> Vec<u8> {
    match s.parse::<IpAddr>().expect("test address") {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn greek(n: usize) -> Vec<Vec<u8>> {
    [
        "alpha", "beta", "delta", "gamma", "epsilon", "zeta", "eta", "theta", "iota",
    ][..n]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
}

/// token:343 setVendorClassOption: the option with `n` data tuples (in DHCPv4 there is
/// always a first tuple, empty when none was given).
fn vendor_class_tuples(u: Universe, n: usize) -> Vec<Vec<u8>> {
    if u == V4 && n == 0 {
        vec![Vec::new()]
    } else {
        greek(n)
    }
}

/// token:85 insertRelay4Option: option 82 with sub-options 1 "one" and 13 "thirteen".
fn rai() -> Opt {
    Opt::with(82, vec![Opt::s(1, "one"), Opt::s(13, "thirteen")])
}

/// token:107 addRelay6Encapsulations: two relays; the outer one (0) with addresses ::
/// and options 100 "hundred.zero", 101 "hundredone.zero"; the inner one (1) with
/// link-address 1::1, peer-address 1::2 and options 100 "hundred.one",
/// 102 "hundredtwo.one".
fn two_relays() -> Pkt {
    Pkt::v6()
        .relay(
            "::",
            "::",
            vec![Opt::s(100, "hundred.zero"), Opt::s(101, "hundredone.zero")],
        )
        .relay(
            "1::1",
            "1::2",
            vec![Opt::s(100, "hundred.one"), Opt::s(102, "hundredtwo.one")],
        )
}

fn pkt(u: Universe) -> Pkt {
    if u == V4 {
        Pkt::v4()
    } else {
        Pkt::v6()
    }
}

// ---------------------------------------------------------------------------------------
// Running checks and collecting failures.
// ---------------------------------------------------------------------------------------

enum Got {
    Parsed(Kind),
    Value(Vec<u8>),
    Bool(bool),
    EvalErr(String),
    ParseErr(ParseError),
    Panic(String),
}

fn show(v: &[u8]) -> String {
    format!("\"{}\"", v.escape_ascii())
}

fn describe(g: &Got) -> String {
    match g {
        Got::Parsed(k) => format!("parsed ({k:?})"),
        Got::Value(v) => format!("value {}", show(v)),
        Got::Bool(b) => format!("{b}"),
        Got::EvalErr(e) => format!("evaluation error \"{e}\""),
        Got::ParseErr(e) => format!(
            "parse error {}.{}-{} \"{}\"",
            e.line, e.column, e.end_column, e.message
        ),
        Got::Panic(p) => format!("PANIC {p}"),
    }
}

struct Checks {
    name: &'static str,
    /// The Kea source of the table row being checked, for the failure message.
    cite: &'static str,
    count: usize,
    failures: Vec<String>,
    m: Machine,
}

impl Checks {
    fn new(name: &'static str) -> Checks {
        Checks {
            name,
            cite: "",
            count: 0,
            failures: Vec::new(),
            m: Machine::default(),
        }
    }

    fn attempt(
        &mut self,
        u: Universe,
        kind: Kind,
        nm: &TestNames,
        p: Option<&Pkt>,
        text: &str,
    ) -> Got {
        let m = &mut self.m;
        let r = catch_unwind(AssertUnwindSafe(|| {
            let e = match Expr::parse(text, kind, u, nm) {
                Ok(e) => e,
                Err(err) => return Got::ParseErr(err),
            };
            let Some(p) = p else {
                return Got::Parsed(e.kind());
            };
            match kind {
                Kind::Bool => match e.eval_bool(p, m) {
                    Ok(b) => Got::Bool(b),
                    Err(x) => Got::EvalErr(x.0),
                },
                Kind::String => match e.eval_string(p, m) {
                    Ok(v) => Got::Value(v.to_vec()),
                    Err(x) => Got::EvalErr(x.0),
                },
            }
        }));
        match r {
            Ok(g) => g,
            Err(payload) => {
                self.m = Machine::default();
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Got::Panic(msg)
            }
        }
    }

    fn fail(&mut self, at: &Location, u: Universe, kind: Kind, text: &str, want: &str, got: &Got) {
        self.failures.push(format!(
            "  kea_vectors.rs:{}{}: {:?} {:?} `{}`\n      expected {}\n      got      {}",
            at.line(),
            if self.cite.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.cite)
            },
            u,
            kind,
            text.escape_debug(),
            want,
            describe(got)
        ));
    }

    /// A string expression evaluates to `want` on `p`.
    #[track_caller]
    fn s(&mut self, u: Universe, p: &Pkt, text: &str, want: &[u8]) {
        let at = Location::caller();
        self.count += 1;
        let got = self.attempt(u, S, &names(u), Some(p), text);
        if !matches!(&got, Got::Value(v) if v == want) {
            self.fail(at, u, S, text, &format!("value {}", show(want)), &got);
        }
    }

    /// A boolean expression evaluates to `want` on `p`.
    #[track_caller]
    fn b(&mut self, u: Universe, p: &Pkt, text: &str, want: bool) {
        let at = Location::caller();
        self.count += 1;
        let got = self.attempt(u, B, &names(u), Some(p), text);
        if !matches!(&got, Got::Bool(b) if *b == want) {
            self.fail(at, u, B, text, &format!("{want}"), &got);
        }
    }

    /// The expression parses but its evaluation on `p` fails (Kea's EvalTypeError).
    #[track_caller]
    fn eval_err(&mut self, u: Universe, kind: Kind, p: &Pkt, text: &str) {
        let at = Location::caller();
        self.count += 1;
        let got = self.attempt(u, kind, &names(u), Some(p), text);
        if !matches!(got, Got::EvalErr(_)) {
            self.fail(at, u, kind, text, "an evaluation error", &got);
        }
    }

    /// The expression parses (as `kind`).
    #[track_caller]
    fn ok(&mut self, u: Universe, kind: Kind, text: &str) {
        let at = Location::caller();
        self.count += 1;
        let got = self.attempt(u, kind, &names(u), None, text);
        if !matches!(&got, Got::Parsed(k) if *k == kind) {
            self.fail(at, u, kind, text, &format!("parsed ({kind:?})"), &got);
        }
    }

    /// The expression does not parse; `loc` is the location as Kea prints it
    /// (`L.C` or `L.C-E`), `phrase` a part of the message.
    #[track_caller]
    fn perr(&mut self, u: Universe, kind: Kind, text: &str, loc: &str, phrase: &str) {
        let nm = names(u);
        self.perr_with(u, kind, &nm, text, loc, phrase);
    }

    #[track_caller]
    fn perr_with(
        &mut self,
        u: Universe,
        kind: Kind,
        nm: &TestNames,
        text: &str,
        loc: &str,
        phrase: &str,
    ) {
        let at = Location::caller();
        self.count += 1;
        let (line, col, end) = parse_loc(loc);
        let got = self.attempt(u, kind, nm, None, text);
        let good = match &got {
            Got::ParseErr(e) => {
                // Bison prints a range only when the token's last column is past its
                // first: a one-character or empty (end of input) token shows as `L.C`.
                let end_ok = match end {
                    Some(e_col) => e.end_column == e_col,
                    None => e.end_column <= e.column,
                };
                e.line == line
                    && e.column == col
                    && end_ok
                    && e.message.contains(phrase)
                    && e.to_string().starts_with(&format!("{loc}: "))
            }
            _ => false,
        };
        if !good {
            self.fail(
                at,
                u,
                kind,
                text,
                &format!("parse error {loc} containing \"{phrase}\""),
                &got,
            );
        }
    }

    /// Parse-error rows: (universe, expression, location as Kea prints it, key phrase,
    /// Kea source).
    #[track_caller]
    fn perr_rows(&mut self, kind: Kind, rows: &[(Universe, &str, &str, &str, &'static str)]) {
        for &(u, text, loc, phrase, cite) in rows {
            self.cite = cite;
            self.perr(u, kind, text, loc, phrase);
        }
        self.cite = "";
    }

    /// Ends the test: every failure listed, or a count of the checks that passed.
    fn finish(self) {
        if self.failures.is_empty() {
            eprintln!("{}: {} checks passed", self.name, self.count);
        } else {
            panic!(
                "{}: {} of {} checks failed:\n{}",
                self.name,
                self.failures.len(),
                self.count,
                self.failures.join("\n")
            );
        }
    }
}

/// "1.8-9" → (1, 8, Some(9)); "3.7" → (3, 7, None).
fn parse_loc(loc: &str) -> (u32, u32, Option<u32>) {
    let (line, rest) = loc.split_once('.').expect("L.C");
    let (col, end) = match rest.split_once('-') {
        Some((c, e)) => (c, Some(e.parse().expect("end column"))),
        None => (rest, None),
    };
    (
        line.parse().expect("line"),
        col.parse().expect("column"),
        end,
    )
}

// ---------------------------------------------------------------------------------------
// Literals: strings, hex strings, IP addresses, integers.
// ---------------------------------------------------------------------------------------

/// The odd characters Kea's "complex" string tests use (everything but a quote or a
/// newline may sit inside '…').
const COMPLEX: &str = "12345~!@#$%^&*()_+{}[];:<>/?\\67890\t \0\x08\r\x0c";

#[test]
fn literals() {
    let mut c = Checks::new("literals");
    let p4 = Pkt::v4();
    let p6 = Pkt::v6();

    // token:603 string4, token:652 string6
    c.s(V4, &p4, "'foo'", b"foo");
    c.s(V6, &p6, "'foo'", b"foo");
    // context:947 stringComplex
    let complex = format!("'{COMPLEX}'");
    c.s(V4, &p4, &complex, COMPLEX.as_bytes());
    c.b(
        V4,
        &p4,
        &format!("{complex} == 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'"),
        false,
    );
    c.s(
        V4,
        &p4,
        "'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    );
    // context:929 string, context:1078 equal
    c.b(V4, &p4, "'foo' == 'bar'", false);
    // context:920 basic
    c.ok(V4, B, "option[123].text == 'MSFT'");

    // token:701 hexstring4, token:770 hexstring6: odd digit counts get a leading 0
    c.s(V4, &p4, "0x7", b"\x07");
    c.s(V6, &p6, "0x7", b"\x07");
    c.s(V4, &p4, "0x666f6f", b"foo");
    c.s(V6, &p6, "0x666f6f", b"foo");
    c.s(V4, &p4, "0x63825363", &[0x63, 0x82, 0x53, 0x63]);
    c.s(V6, &p6, "0x63825363", &[0x63, 0x82, 0x53, 0x63]);
    // context:979 hexstring
    c.b(V4, &p4, "0x666f6f == 'foo'", true);
    // context:994 oddHexstring (upper-case X)
    c.s(V4, &p4, "0X7", b"\x07");
    c.b(V4, &p4, "0X7 == 'foo'", false);
    // context:2478 subOptionHex, context:1150 optionHex: upper-case digits
    c.s(V4, &p4, "0x666F6F", b"foo");

    // token:945 ipaddress
    c.s(V4, &p4, "10.0.0.1", &[10, 0, 0, 1]);
    c.s(
        V6,
        &p6,
        "2001:db8::1",
        &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    );
    // context:1008 ipaddress4 (an IPv4 literal in DHCPv6)
    c.s(V6, &p6, "10.0.0.1", &ip("10.0.0.1"));
    c.b(V6, &p6, "10.0.0.1 == 'foo'", false);
    // context:1022 ipaddress6
    c.b(V6, &p6, "2001:db8::1 == 'foo'", false);
    // context:1036 ipaddress46
    c.s(V6, &p6, "::10.0.0.1", &ip("::10.0.0.1"));
    c.b(V6, &p6, "::10.0.0.1 == 'foo'", false);
    // context:1050 ipaddress6unspec
    c.s(V6, &p6, "::", &[0; 16]);
    c.b(V6, &p6, ":: == 'foo'", false);
    // context:1064 ipaddress6prefix
    c.s(V6, &p6, "2001:db8::", &ip("2001:db8::"));
    c.b(V6, &p6, "2001:db8:: == 'foo'", false);
    c.finish();
}

#[test]
fn integers() {
    let mut c = Checks::new("integers");
    let p4 = Pkt::v4();
    let p6 = Pkt::v6();

    // token:3696 integer: an integer value is 4 bytes in network order, either universe
    for n in [0u32, 6, 255, 256, 1410, 4294967295] {
        c.s(V4, &p4, &n.to_string(), &be(n));
        c.s(V6, &p6, &n.to_string(), &be(n));
    }
    // context:2488 integer1
    c.b(V6, &p6, "1 == 2", false);
    // evaluate:413 expressionsInteger4
    c.b(V6, &p6, "0 == 0", true);
    c.b(V6, &p6, "2 == 3", false);
    // evaluate:466 invalidIntegers: the extreme uint32 is accepted...
    c.b(V4, &p4, "4294967295 == 0", false);
    // ...a negative or a too large one is not (positions: parser.yy:563 integer_expr
    // converts at the integer's own location)
    c.perr(
        V4,
        B,
        "4294967295 == -1",
        "1.15-16",
        "Allowed range: 0..4294967295",
    );
    c.perr(
        V4,
        B,
        "4294967296 == 0",
        "1.1-10",
        "Allowed range: 0..4294967295",
    );
    // A 4-byte integer is not a 1-byte hex string (token.cc:1403 TokenInteger)
    c.b(V4, &p4, "1 == 0x01", false);
    c.b(V4, &p4, "1 == 0x00000001", true);
    c.finish();
}

// ---------------------------------------------------------------------------------------
// String functions.
// ---------------------------------------------------------------------------------------

#[test]
fn lcase_ucase() {
    let mut c = Checks::new("lcase_ucase");
    let p4 = Pkt::v4();
    let p6 = Pkt::v6();

    // token:837 lcase, token:891 ucase
    c.s(V6, &p6, "lcase('LoWeR')", b"lower");
    c.s(V6, &p6, "ucase('uPpEr')", b"UPPER");
    // token:861 lcaseComplex, token:915 ucaseComplex
    let lower_in = "12345~!@#$%^&*()_+LoWeR{}[];:<>/?\\67890\t \0\x08\r\x0c";
    let lower_out = "12345~!@#$%^&*()_+lower{}[];:<>/?\\67890\t \0\x08\r\x0c";
    let upper_in = "12345~!@#$%^&*()_+uPpEr{}[];:<>/?\\67890\t \0\x08\r\x0c";
    let upper_out = "12345~!@#$%^&*()_+UPPER{}[];:<>/?\\67890\t \0\x08\r\x0c";
    c.s(
        V6,
        &p6,
        &format!("lcase('{lower_in}')"),
        lower_out.as_bytes(),
    );
    c.s(
        V6,
        &p6,
        &format!("ucase('{upper_in}')"),
        upper_out.as_bytes(),
    );
    // context:1812 lcase, context:1856 ucase
    c.b(V4, &p4, "lcase('LoWeR') == 'lower'", true);
    c.b(V4, &p4, "ucase('uPpEr') == 'UPPER'", true);
    // context:1832 lcaseComplex, context:1876 ucaseComplex
    c.b(
        V4,
        &p4,
        &format!("lcase('{lower_in}') == '{lower_out}'"),
        true,
    );
    c.b(
        V4,
        &p4,
        &format!("ucase('{upper_in}') == '{upper_out}'"),
        true,
    );
    c.finish();
}

#[test]
fn addrtotext() {
    let mut c = Checks::new("addrtotext");
    let p4 = Pkt::v4();

    // token:1001 addressToText: the text of an address is not an address (8 bytes)
    c.eval_err(V4, S, &p4, "addrtotext('10.0.0.1')");
    c.s(V4, &p4, "addrtotext(10.0.0.1)", b"10.0.0.1");
    c.s(V4, &p4, "addrtotext(2001:db8::1)", b"2001:db8::1");
    // ...and the empty string stays empty
    c.s(V4, &p4, "addrtotext('')", b"");
    // context:1900 addressToText
    c.b(V4, &p4, "addrtotext(10.0.0.1) == '10.0.0.1'", true);
    c.b(V4, &p4, "addrtotext(2001:db8::1) == '2001:db8::1'", true);
    // A 3-byte value is no address either (token.cc:164 TokenIpAddressToText)
    c.eval_err(V4, S, &p4, "addrtotext(0x0a0000)");
    c.finish();
}

#[test]
fn int_to_text() {
    let mut c = Checks::new("int_to_text");
    let p4 = Pkt::v4();

    // token:1061 integerToText: a 10-byte value fits none of them
    for f in [
        "int8totext",
        "int16totext",
        "int32totext",
        "uint8totext",
        "uint16totext",
        "uint32totext",
    ] {
        c.eval_err(V4, S, &p4, &format!("{f}('0123456789')"));
        // ...the empty string gives the empty string
        c.s(V4, &p4, &format!("{f}('')"), b"");
    }
    // ...all bits set, at each width
    c.s(V4, &p4, "int8totext(0xff)", b"-1");
    c.s(V4, &p4, "int16totext(0xffff)", b"-1");
    c.s(V4, &p4, "int32totext(0xffffffff)", b"-1");
    c.s(V4, &p4, "uint8totext(0xff)", b"255");
    c.s(V4, &p4, "uint16totext(0xffff)", b"65535");
    c.s(V4, &p4, "uint32totext(0xffffffff)", b"4294967295");
    // Wrong sizes (token.cc:201..364: size must be exactly 1, 2 or 4)
    c.eval_err(V4, S, &p4, "int16totext(0x010203)");
    c.eval_err(V4, S, &p4, "uint16totext(0x01)");
    c.eval_err(V4, S, &p4, "int8totext(0x0102)");
    c.eval_err(V4, S, &p4, "uint32totext(0x010203)");
    // Network byte order, sign
    c.s(V4, &p4, "uint16totext(0x0102)", b"258");
    c.s(V4, &p4, "int16totext(0x8000)", b"-32768");
    c.s(V4, &p4, "int32totext(0x80000000)", b"-2147483648");
    c.s(V4, &p4, "int8totext(0x7f)", b"127");

    // context:1941..2041 int8ToText..uint32ToText: these parse...
    c.ok(V4, B, "int8totext(255) == '-1'");
    c.ok(V4, B, "int16totext(65535) == '-1'");
    c.ok(V4, B, "int32totext(4294967295) == '-1'");
    c.ok(V4, B, "uint8totext(255) == '255'");
    c.ok(V4, B, "uint16totext(65535) == '65535'");
    c.ok(V4, B, "uint32totext(4294967295) == '4294967295'");
    // ...and, an integer literal being 4 bytes (token.cc:1403), only the 32-bit ones
    // evaluate; the 8- and 16-bit ones are a size error (token.cc:201, 233, 299, 331)
    c.b(V4, &p4, "int32totext(4294967295) == '-1'", true);
    c.b(V4, &p4, "uint32totext(4294967295) == '4294967295'", true);
    c.eval_err(V4, B, &p4, "int8totext(255) == '-1'");
    c.eval_err(V4, B, &p4, "int16totext(65535) == '-1'");
    c.eval_err(V4, B, &p4, "uint8totext(255) == '255'");
    c.eval_err(V4, B, &p4, "uint16totext(65535) == '65535'");
    c.finish();
}

#[test]
fn substring() {
    let mut c = Checks::new("substring");
    let p = Pkt::v4();
    let cases: &[(&str, &str, &str)] = &[
        // token:2224 substringWholeString
        ("0", "6", "foobar"),
        ("0", "all", "foobar"),
        ("0", "123456", "foobar"),
        ("-6", "all", "foobar"),
        // token:2256 substringTrailer
        ("3", "3", "bar"),
        ("3", "all", "bar"),
        ("-3", "all", "bar"),
        ("-3", "123", "bar"),
        // token:2281 substringMiddle (negative start, negative length)
        ("1", "4", "ooba"),
        ("-5", "4", "ooba"),
        ("-1", "-4", "ooba"),
        ("5", "-4", "ooba"),
        // token:2306 substringLastLetter
        ("5", "all", "r"),
        ("5", "1", "r"),
        ("5", "5", "r"),
        ("-1", "all", "r"),
        ("-1", "1", "r"),
        ("-1", "5", "r"),
        // token:2339 substringLength: only what is there, off the front...
        ("0", "-4", ""),
        ("1", "-4", "f"),
        ("2", "-4", "fo"),
        ("3", "-4", "foo"),
        // ...and off the back
        ("3", "4", "bar"),
        ("4", "4", "ar"),
        ("5", "4", "r"),
        ("6", "4", ""),
        // token:2383 substringStartingPosition: start outside the string
        ("-7", "1", ""),
        ("-7", "-11", ""),
        ("-7", "all", ""),
        ("6", "1", ""),
        ("6", "-11", ""),
        ("6", "all", ""),
        // token:2435 substringReturnEmpty
        ("0", "0", ""),
    ];
    for (start, len, want) in cases {
        c.s(
            V4,
            &p,
            &format!("substring('foobar', {start}, {len})"),
            want.as_bytes(),
        );
    }
    // token:2435 substringReturnEmpty, token:2192 substringNotEnoughValues (the 3-value
    // case): an empty string gives an empty string
    c.s(V4, &p, "substring('', 0, all)", b"");
    c.s(V4, &p, "substring('', 0, 0)", b"");
    // token:2459 substringEquals
    c.b(V4, &p, "substring('foobar', 1, 4) == 'ooba'", true);
    c.b(V4, &p, "substring('foobar', 1, 4) == 'foob'", false);
    // context:1565 substring
    c.b(V4, &p, "substring('foobar',2,all) == 'obar'", true);
    // context:969 integer
    c.ok(V4, B, "substring(option[123].text, 0, 2) == '42'");
    c.b(
        V4,
        &Pkt::v4().opt(Opt::s(123, "4217")),
        "substring(option[123].text, 0, 2) == '42'",
        true,
    );
    // evaluate:253 complex: substring of an option, both universes
    c.b(
        V4,
        &Pkt::v4(),
        "substring(option[100].text, 0, 7) == 'hundred'",
        true,
    );
    c.b(
        V6,
        &Pkt::v6(),
        "substring(option[100].text, 0, 7) == 'hundred'",
        true,
    );
    // token:2420 substringBadParams: a parameter that is no (32-bit) integer is an
    // evaluation error. The grammar only lets integers through, so the way to reach it
    // is one beyond an int (token.cc:810, 820 lexical_cast<int>; lexer.ll accepts any
    // int64)...
    c.eval_err(V4, S, &p, "substring('foobar', 0, 4294967296)");
    c.eval_err(V4, S, &p, "substring('foobar', 2147483648, 1)");
    // ...unless the string is empty, which is looked at first (token.cc:790)
    c.s(V4, &p, "substring('', 2147483648, 1)", b"");
    c.finish();
}

#[test]
fn split() {
    let mut c = Checks::new("split");
    let p = Pkt::v4();

    // token:3709 split, one delimiter
    let one = ".two.three..five.";
    c.s(V4, &p, "split('', '.', 1)", b"");
    c.s(V4, &p, &format!("split('{one}', '', 1)"), one.as_bytes());
    let fields = ["", "", "two", "three", "", "five", "", ""];
    for (n, want) in fields.iter().enumerate() {
        c.s(
            V4,
            &p,
            &format!("split('{one}', '.', {n})"),
            want.as_bytes(),
        );
    }
    c.s(V4, &p, "split('just_one', '.', 1)", b"just_one");

    // token:3781 splitMultipleDelims
    let multi = ".two:three.:five.";
    c.s(V4, &p, "split('', '.:', 1)", b"");
    for (n, want) in fields.iter().enumerate() {
        c.s(
            V4,
            &p,
            &format!("split('{multi}', '.:', {n})"),
            want.as_bytes(),
        );
    }
    c.s(V4, &p, "split('just_one', '.:', 1)", b"just_one");
    c.finish();
}

#[test]
fn concat() {
    let mut c = Checks::new("concat");
    let p = Pkt::v4();

    // token:2522 concat
    c.s(V4, &p, "concat('foo', 'bar')", b"foobar");
    c.s(V4, &p, "'foo' + 'bar'", b"foobar");
    // context:1586 concat, context:1605 plus
    c.b(V4, &p, "concat('foo','bar') == 'foobar'", true);
    c.b(V4, &p, "'foo' + 'bar' == 'foobar'", true);
    // context:1624 assocPlus, context:1647 assocRightPlus
    c.b(V4, &p, "'a' + 'b' + 'c' == 'abc'", true);
    c.b(V4, &p, "'a' + ('b' + 'c') == 'abc'", true);
    // Integers concatenate as their 4 bytes (context:2290 typeErrors: "all integers
    // are treated as 4 byte strings")
    c.s(V4, &p, "concat('foo', 3)", b"foo\0\0\0\x03");
    c.s(V4, &p, "3 + 'foo'", b"\0\0\0\x03foo");
    c.finish();
}

#[test]
fn hexstring() {
    let mut c = Checks::new("hexstring");
    let p4 = Pkt::v4();

    // token:2552 tohexstring
    c.s(V4, &p4, "hexstring('foo', '-')", b"66-6f-6f");
    // evaluate:479 evaluateString
    c.s(V4, &p4, "hexstring(0x1234,':')", b"12:34");
    c.s(V4, &p4, "hexstring(0x56789a,'-')", b"56-78-9a");
    c.s(V4, &p4, "hexstring(0xbcde,'')", b"bcde");
    c.s(V4, &p4, "hexstring(0xf01234,'..')", b"f0..12..34");
    // context:1793 toHexString
    c.b(V4, &p4, "hexstring(0x666f,'-') == '66-6f'", true);
    // An empty value gives an empty string (token.cc:1028)
    c.s(V4, &p4, "hexstring('', ':')", b"");
    c.finish();
}

#[test]
fn ifelse() {
    let mut c = Checks::new("ifelse");
    let p4 = Pkt::v4();

    // token:2582 ifElse (the strict form, sifelse in 3.x)
    c.s(V4, &p4, "sifelse('a' == 'a', 'foo', 'bar')", b"foo");
    c.s(V4, &p4, "sifelse('a' == 'b', 'foo', 'bar')", b"bar");
    c.s(V4, &p4, "ifelse('a' == 'a', 'foo', 'bar')", b"foo");
    c.s(V4, &p4, "ifelse('a' == 'b', 'foo', 'bar')", b"bar");
    // context:1669 strictIfElse, context:1689 ifElse
    c.b(
        V4,
        &p4,
        "sifelse('foo' == 'bar', 'us', 'them') == 'you'",
        false,
    );
    c.b(
        V4,
        &p4,
        "ifelse('foo' == 'bar', 'us', 'them') == 'you'",
        false,
    );
    c.b(
        V4,
        &p4,
        "ifelse('foo' == 'bar', 'us', 'them') == 'them'",
        true,
    );
    // context:1723 plusStrictIfElse, context:1755 plusIfElse
    c.b(
        V4,
        &p4,
        "'foo' + sifelse('a' == 'a', 'bar', '') == 'foobar'",
        true,
    );
    c.b(
        V4,
        &p4,
        "'foo' + ifelse('a' == 'a', 'bar', '') == 'foobar'",
        true,
    );
    // evaluate:479 evaluateString: ifelse on options, chained
    c.s(V4, &p4, "ifelse(option[100].exists,'foo','bar')", b"foo");
    c.s(V4, &p4, "ifelse(option[200].exists,'foo','bar')", b"bar");
    c.s(
        V4,
        &p4,
        "ifelse(option[200].exists,option[200].hex,ifelse(option[100].exists,option[100].hex,'none?'))",
        b"hundred4",
    );
    // evaluate:673 popAndBranchFalse: ifelse evaluates only the branch it takes
    // (parser.yy:435), sifelse both (parser.yy:456)
    c.s(
        V4,
        &p4,
        "ifelse('a' == 'a', 'foo', int16totext(0x010203))",
        b"foo",
    );
    c.s(
        V4,
        &p4,
        "ifelse('a' == 'b', int16totext(0x010203), 'bar')",
        b"bar",
    );
    c.eval_err(
        V4,
        S,
        &p4,
        "ifelse('a' == 'a', int16totext(0x010203), 'bar')",
    );
    c.eval_err(
        V4,
        S,
        &p4,
        "sifelse('a' == 'a', 'foo', int16totext(0x010203))",
    );
    c.eval_err(
        V4,
        S,
        &p4,
        "sifelse('a' == 'b', int16totext(0x010203), 'bar')",
    );
    c.finish();
}

// ---------------------------------------------------------------------------------------
// Booleans.
// ---------------------------------------------------------------------------------------

#[test]
fn equal() {
    let mut c = Checks::new("equal");
    let p = Pkt::v4();

    // token:2144 optionEqualFalse, token:2167 optionEqualTrue
    c.b(V4, &p, "'foo' == 'bar'", false);
    c.b(V4, &p, "'foo' == 'foo'", true);
    // evaluate:155 compare4, evaluate:172 compare6
    c.b(V4, &p, "'foo' == 'bar'", false);
    c.b(V6, &Pkt::v6(), "'foo' == 'bar'", false);
    // Byte comparison: a string and the same bytes in hex are equal
    c.b(V4, &p, "'foo' == 0x666f6f", true);
    c.b(V4, &p, "'' == ''", true);
    c.finish();
}

#[test]
fn logical() {
    let mut c = Checks::new("logical");
    let p = Pkt::v4();
    // A comparison whose evaluation fails (a 3-byte int16): it shows whether the right
    // operand of and/or is evaluated.
    const BAD: &str = "(int16totext(0x010203) == '')";

    // token:2637 operatorNot
    c.b(V4, &p, "not ('a' == 'a')", false);
    c.b(V4, &p, "not not ('a' == 'a')", true);
    // token:2688 operatorAndFalse, token:2723 operatorAndTrue (strict and)
    c.b(V4, &p, "('a' == 'a') sand ('a' == 'b')", false);
    c.b(V4, &p, "('a' == 'b') sand ('a' == 'a')", false);
    c.b(V4, &p, "('a' == 'b') sand ('a' == 'b')", false);
    c.b(V4, &p, "('a' == 'a') sand ('a' == 'a')", true);
    // token:2769 operatorOrFalse, token:2790 operatorOrTrue (strict or)
    c.b(V4, &p, "('a' == 'b') sor ('a' == 'b')", false);
    c.b(V4, &p, "('a' == 'b') sor ('a' == 'a')", true);
    c.b(V4, &p, "('a' == 'a') sor ('a' == 'b')", true);
    c.b(V4, &p, "('a' == 'a') sor ('a' == 'a')", true);

    // boolean:38 strict
    let strict = [
        ("('a' == 'a') sand (('a' == 'b') sor ('b' == 'a'))", false),
        ("(('a' == 'a') sand ('a' == 'b')) sor ('b' == 'a')", false),
        ("not ('a' == 'a')", false),
        ("not ('a' == 'b')", true),
        (
            "('a' == 'a') sand ('b' == 'b') sand ('c' == 'c') sand ('a' == 'c')",
            false,
        ),
        (
            "('a' == 'b') sor ('a' == 'c') sor ('b' == 'c') sor ('b' == 'b')",
            true,
        ),
        (
            "('a' == 'a') sor ('a' == 'b') sor ('a' == 'c') sor ('b' == 'c')",
            true,
        ),
        ("not (('a' == 'a') sor ('a' == 'b'))", false),
        ("not (('a' == 'a') sand ('a' == 'b'))", true),
        ("(not ('a' == 'a')) sand ('a' == 'b')", false),
    ];
    for (text, want) in strict {
        c.b(V4, &p, text, want);
    }
    // boolean:64 tests (the same with the short-circuit and/or)
    for (text, want) in strict {
        let text = text.replace("sand", "and").replace("sor", "or");
        c.b(V4, &p, &text, want);
    }

    // evaluate:628 popOrBranchFalse: "false and anything" is false without looking at
    // the right side; true and X is X
    c.b(V4, &p, &format!("('a' == 'b') and {BAD}"), false);
    c.eval_err(V4, B, &p, &format!("('a' == 'a') and {BAD}"));
    c.b(V4, &p, "('a' == 'a') and ('b' == 'b')", true);
    c.b(V4, &p, "('a' == 'a') and ('a' == 'b')", false);
    // evaluate:583 popOrBranchTrue: "true or anything" is true; false or X is X
    c.b(V4, &p, &format!("('a' == 'a') or {BAD}"), true);
    c.eval_err(V4, B, &p, &format!("('a' == 'b') or {BAD}"));
    c.b(V4, &p, "('a' == 'b') or ('a' == 'a')", true);
    c.b(V4, &p, "('a' == 'b') or ('a' == 'b')", false);
    // parser.yy:171, 188: sand and sor evaluate both sides
    c.eval_err(V4, B, &p, &format!("('a' == 'b') sand {BAD}"));
    c.eval_err(V4, B, &p, &format!("('a' == 'a') sor {BAD}"));
    // a failing left side fails whatever the operator
    c.eval_err(V4, B, &p, &format!("{BAD} and ('a' == 'b')"));
    c.eval_err(V4, B, &p, &format!("{BAD} or ('a' == 'a')"));
    c.eval_err(V4, B, &p, &format!("not {BAD}"));

    // context:1381 logicalOps: each form parses
    for text in [
        "option[123].exists",
        "not option[123].exists",
        "option[123].exists sand option[123].exists",
        "option[123].exists sor option[123].exists",
        "option[123].exists and option[123].exists",
        "option[123].exists or option[123].exists",
    ] {
        c.ok(V4, B, text);
    }
    // context:1452 logicalPrecedence, context:1506 logicalParentheses: not binds tighter
    // than (s)and, (s)and tighter than (s)or. Option 1 is in the packet, 2 and 3 not.
    let q = Pkt::v4().opt(Opt::s(1, "one"));
    c.b(V4, &q, "not option[2].exists sand option[2].exists", false);
    c.b(V4, &q, "not (option[2].exists sand option[2].exists)", true);
    c.b(V4, &q, "not option[2].exists and option[2].exists", false);
    c.b(V4, &q, "not (option[2].exists and option[2].exists)", true);
    c.b(
        V4,
        &q,
        "option[1].exists sor option[2].exists sand option[3].exists",
        true,
    );
    c.b(
        V4,
        &q,
        "(option[1].exists sor option[2].exists) sand option[3].exists",
        false,
    );
    c.b(
        V4,
        &q,
        "option[1].exists or option[2].exists and option[3].exists",
        true,
    );
    c.b(
        V4,
        &q,
        "(option[1].exists or option[2].exists) and option[3].exists",
        false,
    );
    c.finish();
}

#[test]
fn member() {
    let mut c = Checks::new("member");

    // token:2824 member
    c.b(V4, &Pkt::v4(), "member('foo')", false);
    c.b(V4, &Pkt::v4().class("bar"), "member('foo')", false);
    c.b(
        V4,
        &Pkt::v4().class("bar").class("foo"),
        "member('foo')",
        true,
    );
    // context:1356 member
    c.ok(V6, B, "member('foo')");
    c.b(V6, &Pkt::v6().class("foo"), "member('foo')", true);
    // context:1362 memberError: only defined classes may be named
    let only_foo = TestNames {
        v6: true,
        classes: &["foo"],
    };
    c.perr_with(
        V6,
        B,
        &only_foo,
        "member('bar')",
        "1.8-12",
        "Not defined client class",
    );

    // dependency:79 notMatching, dependency:91 matching: the classes an expression
    // refers to
    let nm = names(V4);
    for (text, want) in [
        ("member('not-matching')", vec!["not-matching"]),
        ("member('foobar')", vec!["foobar"]),
        ("'a' == 'a'", vec![]),
        ("member('foo') or member('foobar')", vec!["foo", "foobar"]),
    ] {
        c.count += 1;
        match Expr::parse_bool(text, V4, &nm) {
            Ok(e) => {
                let got: Vec<&str> = e.members().collect();
                if got != want {
                    c.failures.push(format!(
                        "  dependency: `{text}` members: expected {want:?}, got {got:?}"
                    ));
                }
            }
            Err(e) => c
                .failures
                .push(format!("  dependency: `{text}` did not parse: {e}")),
        }
    }
    c.finish();
}

#[test]
fn match_regex() {
    let mut c = Checks::new("match_regex");
    let p = Pkt::v4();

    // token:3860 match: a full match, case-sensitive
    let cases = [
        ("foo", "foo", true),
        ("foo", "foobar", false),
        ("^foo", "foo", true),
        ("foo$", "foo", true),
        ("^foo$", "foo", true),
        ("foo.*", "foo", true),
        ("foo.*", "foobar", true),
        ("foo", "Foo", false),
        ("Foo", "foo", false),
        (".*foo.*", "foo", true),
        (".*foo.*", "foobar", true),
        (".*foo.*", "barfoo", true),
        (".*foo.*", "foofoofoo", true),
        ("[fo]{3}", "foo", true),
        ("[abfor]{6}", "foobar", true),
        ("[abfo]{6}", "foobar", false),
        ("[^xyz]+", "foobar", true),
        ("f(.)\\1bar", "foobar", true),
        ("[[:alpha:]]{1,9}", "Foobar", true),
        ("[[:alpha:]]{1,9}", "FoObar", true),
        ("[[:alpha:]]{1,9}", "Fo0bar", false),
    ];
    for (re, value, want) in cases {
        c.b(V4, &p, &format!("match('{re}', '{value}')"), want);
    }
    // context:2507 match
    c.b(V4, &p, "match('foo.*', 'foobar')", true);
    // ...an invalid regular expression is a parse error (token:3844 invalidRegEx; Kea
    // gives it no position: token.cc:1472 throws from the token's constructor)
    c.count += 1;
    match Expr::parse_bool("match('[bad', 'foobar')", V4, &names(V4)) {
        Ok(_) => c
            .failures
            .push("  context:2530 `match('[bad', 'foobar')` parsed".to_string()),
        Err(e) if !e.message.contains("regular expression") => c.failures.push(format!(
            "  token:3844 `match('[bad', ...)`: message without \"regular expression\": {e}"
        )),
        Err(_) => {}
    }
    // match on an option named like a keyword prefix (lexer.ll:150: a name followed by
    // ']' is an option name, so vendor-class-identifier is not vendor-class + ...)
    c.b(
        V4,
        &Pkt::v4().opt(Opt::s(60, "PXEClient:Arch:00007")),
        "match('PXEClient.*', option[vendor-class-identifier].text)",
        true,
    );
    c.finish();
}

// ---------------------------------------------------------------------------------------
// Options.
// ---------------------------------------------------------------------------------------

#[test]
fn option() {
    let mut c = Checks::new("option");
    let p4 = Pkt::v4();
    let p6 = Pkt::v6();

    // token:1262 optionString4, token:1364 optionString6
    c.s(V4, &p4, "option[100].text", b"hundred4");
    c.s(V4, &p4, "option[101].text", b"");
    c.s(V6, &p6, "option[100].text", b"hundred6");
    c.s(V6, &p6, "option[101].text", b"");
    // token:1299 optionHexString4, token:1400 optionHexString6
    c.s(V4, &p4, "option[100].hex", b"hundred4");
    c.s(V4, &p4, "option[101].hex", b"");
    c.s(V6, &p6, "option[100].hex", b"hundred6");
    c.s(V6, &p6, "option[101].hex", b"");
    // token:1335 optionExistsString4, token:1436 optionExistsString6
    c.b(V4, &p4, "option[100].exists", true);
    c.b(V4, &p4, "option[101].exists", false);
    c.b(V6, &p6, "option[100].exists", true);
    c.b(V6, &p6, "option[101].exists", false);
    // evaluate:189 exists, evaluate:202 dontExists
    // evaluate:215 packet: the v4 value is not the v6 one
    c.b(V4, &p4, "option[100].text == 'hundred4'", true);
    c.b(V6, &p6, "option[100].text == 'hundred4'", false);
    // evaluate:234 optionHex
    c.b(V4, &p4, "option[100].hex == 'hundred4'", true);
    c.b(V6, &p6, "option[100].hex == 'hundred4'", false);
    // evaluate:479 evaluateString
    c.s(V4, &p4, "option[200].hex", b"");
    c.s(V6, &p6, "option[200].hex", b"");
    // evaluate:450 expressionsPkt4type: option 53 holds the message type (1 byte)
    c.b(V4, &p4, "option[53].hex == 0x0", false);
    c.b(V4, &p4, "option[53].hex == 0x1", true);
    c.b(V4, &p4, "option[53].hex == 0x2", false);

    // context:1096 option
    let foo123 = Pkt::v4().opt(Opt::s(123, "foo"));
    c.b(V4, &foo123, "option[123].text == 'foo'", true);
    // context:1106 optionWithName: host-name is option 12
    let host = Pkt::v4().opt(Opt::s(12, "foo"));
    c.b(V4, &host, "option[host-name].text == 'foo'", true);
    c.b(V4, &foo123, "option[host-name].text == 'foo'", false);
    // context:1117 optionExists
    c.ok(V4, B, "option[100].exists");
    // context:1127 optionWithNameAndWhitespace, context:1138 optionWithNameAndNewline
    c.b(V4, &host, "option[  host-name  ].text == 'foo'", true);
    c.b(V4, &host, "option[\n host-name \n ].text == \n'foo'", true);
    // context:1150 optionHex
    c.b(V4, &foo123, "option[123].hex == 0x666F6F", true);
    // Names in DHCPv6 (the dhcp6 space)
    let cid = Pkt::v6().opt(Opt::bin(1, &[0, 1, 2, 3], "duid"));
    c.s(V6, &cid, "option[client-id].hex", &[0, 1, 2, 3]);
    c.b(V6, &cid, "option[client-id].exists", true);
    // ...and the code range of DHCPv6 (parser.yy:569, eval_context.cc:74)
    c.ok(V6, B, "option[65535].exists");
    c.ok(V4, B, "option[255].exists");
    c.finish();
}

#[test]
fn sub_option() {
    let mut c = Checks::new("sub_option");
    let with_rai = Pkt::v4().opt(rai());

    // token:3539 subOption
    c.s(V4, &with_rai, "option[82].option[13].text", b"thirteen");
    // token:3568 subOptionNoSubOption
    c.s(V4, &with_rai, "option[82].option[15].text", b"");
    // token:3597 subOptionNoOption
    c.s(V4, &Pkt::v4(), "option[82].option[13].text", b"");
    c.b(V4, &Pkt::v4(), "option[82].option[13].exists", false);
    // token:3626 subOptionOptionOnly: only the parent is searched
    let both = with_rai
        .clone()
        .opt(Opt::s(13, "THIRTEEN"))
        .opt(Opt::s(70, "SEVENTY"));
    c.s(V4, &both, "option[82].option[13].text", b"thirteen");
    c.s(V4, &both, "option[82].option[1].text", b"one");
    c.s(V4, &both, "option[82].option[70].text", b"");
    c.b(V4, &both, "option[82].option[1].exists", true);
    c.b(V4, &both, "option[82].option[70].exists", false);
    // ...the parent by name
    c.s(
        V4,
        &both,
        "option[dhcp-agent-options].option[13].hex",
        b"thirteen",
    );

    // context:2448 subOptionWithCode
    let nested = Pkt::v4().opt(Opt::with(123, vec![Opt::s(234, "foo")]));
    c.b(V4, &nested, "option[123].option[234].text == 'foo'", true);
    // context:2458 subOptionWithName: host-name (12) as the parent
    let host = Pkt::v4().opt(Opt::with(12, vec![Opt::s(123, "foo")]));
    c.b(
        V4,
        &host,
        "option[host-name].option[123].text == 'foo'",
        true,
    );
    // context:2468 subOptionExists
    let hundred = Pkt::v4().opt(Opt::with(100, vec![Opt::s(200, "x")]));
    c.b(V4, &hundred, "option[100].option[200].exists", true);
    c.b(V4, &Pkt::v4(), "option[100].option[200].exists", false);
    // context:2478 subOptionHex
    c.b(V4, &nested, "option[123].option[234].hex == 0x666F6F", true);
    c.finish();
}

#[test]
fn relay4() {
    let mut c = Checks::new("relay4");
    let with_rai = Pkt::v4().opt(rai());

    // token:1464 relay4Option
    c.s(V4, &with_rai, "relay4[13].text", b"thirteen");
    // token:1491 relay4OptionNoSuboption
    c.s(V4, &with_rai, "relay4[15].text", b"");
    // token:1519 relay4OptionNoRai
    c.s(V4, &Pkt::v4(), "relay4[13].text", b"");
    // token:1545 relay4RAIOnly: only the RAI is searched
    let both = with_rai
        .clone()
        .opt(Opt::s(13, "THIRTEEN"))
        .opt(Opt::s(70, "SEVENTY"));
    c.s(V4, &both, "relay4[13].text", b"thirteen");
    c.s(V4, &both, "relay4[1].text", b"one");
    c.s(V4, &both, "relay4[70].text", b"");
    c.b(V4, &both, "relay4[1].exists", true);
    c.b(V4, &both, "relay4[70].exists", false);
    // context:1160 relay4Option, context:1178 relay4Exists
    c.b(V4, &with_rai, "relay4[13].hex == 'thirteen'", true);
    c.b(V4, &with_rai, "relay4[13].exists", true);
    c.b(V4, &Pkt::v4(), "relay4[13].exists", false);
    c.finish();
}

#[test]
fn relay6_option() {
    let mut c = Checks::new("relay6_option");
    let p = two_relays();

    // token:1618 relay6Option
    let cases: &[(&str, &str, &str)] = &[
        // level 0
        ("0", "100", "hundred.zero"),
        ("0", "101", "hundredone.zero"),
        ("0", "102", ""),
        // level 1
        ("1", "100", "hundred.one"),
        ("1", "101", ""),
        ("1", "102", "hundredtwo.one"),
        // level 2: no such encapsulation
        ("2", "100", ""),
        // level -1 is level 1
        ("-1", "100", "hundred.one"),
        ("-1", "101", ""),
        ("-1", "102", "hundredtwo.one"),
        // level -2 is level 0
        ("-2", "100", "hundred.zero"),
        ("-2", "101", "hundredone.zero"),
        ("-2", "102", ""),
        // level -3: none
        ("-3", "100", ""),
    ];
    for (nest, code, want) in cases {
        c.s(
            V6,
            &p,
            &format!("relay6[{nest}].option[{code}].text"),
            want.as_bytes(),
        );
    }
    c.b(V6, &p, "relay6[0].option[100].exists", true);
    c.b(V6, &p, "relay6[0].option[102].exists", false);
    c.b(V6, &p, "relay6[-2].option[100].exists", true);
    c.b(V6, &p, "relay6[-2].option[102].exists", false);
    c.b(V6, &p, "relay6[2].option[100].exists", false);
    // .hex of a relay option
    c.s(V6, &p, "relay6[1].option[102].hex", b"hundredtwo.one");

    // context:1197 relay6Option, context:1205 relay6OptionExists,
    // context:1213 relay6OptionHex, context:1221 relay6OptionReverse
    let q = Pkt::v6()
        .relay("::", "::", vec![Opt::s(123, "foo")])
        .relay("::", "::", vec![Opt::s(75, "x")])
        .relay("::", "::", vec![Opt::s(85, "foo"), Opt::s(123, "bar")]);
    c.b(V6, &q, "relay6[0].option[123].text == 'foo'", true);
    c.b(V6, &q, "relay6[1].option[75].exists", true);
    c.b(V6, &q, "relay6[2].option[85].hex == 'foo'", true);
    c.b(V6, &q, "relay6[-1].option[123].text == 'foo'", false);
    c.b(V6, &q, "relay6[-3].option[123].text == 'foo'", true);
    // context:1229 relay6OptionLimits: -32..31
    c.ok(V6, B, "relay6[31].option[123].text == 'foo'");
    c.ok(V6, B, "relay6[-32].option[123].text == 'foo'");
    c.b(V6, &q, "relay6[31].option[123].text == 'foo'", false);
    c.b(V6, &q, "relay6[-32].option[123].text == 'foo'", false);
    c.finish();
}

#[test]
fn relay6_field() {
    let mut c = Checks::new("relay6_field");
    let p = two_relays();
    let zero = [0u8; 16];
    let link = ip("1::1");
    let peer = ip("1::2");

    // token:2002 relay6Field
    c.s(V6, &p, "relay6[0].linkaddr", &zero);
    c.s(V6, &p, "relay6[0].peeraddr", &zero);
    c.s(V6, &p, "relay6[1].linkaddr", &link);
    c.s(V6, &p, "relay6[1].peeraddr", &peer);
    c.s(V6, &p, "relay6[2].linkaddr", b"");
    c.s(V6, &p, "relay6[-1].linkaddr", &link);
    c.s(V6, &p, "relay6[-1].peeraddr", &peer);
    c.s(V6, &p, "relay6[-2].linkaddr", &zero);
    c.s(V6, &p, "relay6[-2].peeraddr", &zero);
    c.s(V6, &p, "relay6[-3].linkaddr", b"");
    // ...laid out as an address literal is
    c.b(V6, &p, "relay6[1].linkaddr == 1::1", true);

    // context:1333 relay6FieldLinkAddr, context:1339 relay6FieldPeerAddr
    c.b(V6, &p, "relay6[0].linkaddr == ::", true);
    c.b(V6, &p, "relay6[1].peeraddr == ::", false);
    c.b(V6, &p, "relay6[1].peeraddr == 1::2", true);
    c.finish();
}

// ---------------------------------------------------------------------------------------
// Packet fields and metadata.
// ---------------------------------------------------------------------------------------

#[test]
fn pkt_metadata() {
    let mut c = Checks::new("pkt_metadata");

    // token:1705 pkt4MetaData
    let p4 = Pkt::v4()
        .set(Field::Iface, "eth0")
        .set(Field::Dst, ip("10.0.0.1"))
        .set(Field::Src, ip("10.0.0.2"));
    c.s(V4, &p4, "pkt.iface", b"eth0");
    c.s(V4, &p4, "pkt.src", &ip("10.0.0.2"));
    c.s(V4, &p4, "pkt.dst", &ip("10.0.0.1"));
    c.s(V4, &p4, "pkt.len", &be(249));
    c.b(V4, &p4, "pkt.iface == 'eth0'", true);
    c.b(V4, &p4, "pkt.src == 10.0.0.2", true);
    c.b(V4, &p4, "pkt.dst == 10.0.0.1", true);
    c.b(V4, &p4, "pkt.len == 249", true);
    // token:1763 pkt6MetaData
    let p6 = Pkt::v6()
        .set(Field::Iface, "eth0")
        .set(Field::Dst, ip("ff02::1:2"))
        .set(Field::Src, ip("fe80::1234"));
    c.s(V6, &p6, "pkt.iface", b"eth0");
    c.s(V6, &p6, "pkt.src", &ip("fe80::1234"));
    c.s(V6, &p6, "pkt.dst", &ip("ff02::1:2"));
    c.s(V6, &p6, "pkt.len", &be(16));
    c.b(V6, &p6, "pkt.len == 16", true);

    // context:1262 pktMetadataIface, context:1267 pktMetadataSrc,
    // context:1272 pktMetadataDst, context:1277 pktMetadataLen
    let q = Pkt::v6()
        .set(Field::Iface, "eth0")
        .set(Field::Src, ip("fe80::1"))
        .set(Field::Dst, ip("fe80::2"))
        .set(Field::Len, be(256));
    c.b(V6, &q, "pkt.iface == 'eth0'", true);
    c.b(V6, &q, "pkt.src == fe80::1", true);
    c.b(V6, &q, "pkt.dst == fe80::2", true);
    c.b(V6, &q, "pkt.len == 0x00000100", true);
    c.b(V6, &p6, "pkt.iface == 'eth1'", false);
    c.finish();
}

#[test]
fn pkt4_fields() {
    let mut c = Checks::new("pkt4_fields");

    // token:1827 pkt4Fields: a 7-byte hardware address of type 123
    let p = Pkt::v4()
        .set(Field::Giaddr, ip("192.0.2.1"))
        .set(Field::Ciaddr, ip("192.0.2.2"))
        .set(Field::Yiaddr, ip("192.0.2.3"))
        .set(Field::Siaddr, ip("192.0.2.4"))
        .set(Field::Mac, vec![1, 2, 3, 4, 5, 6, 7])
        .set(Field::Hlen, be(7))
        .set(Field::Htype, be(123));
    c.s(V4, &p, "pkt4.mac", &[1, 2, 3, 4, 5, 6, 7]);
    c.s(V4, &p, "pkt4.hlen", &be(7));
    c.s(V4, &p, "pkt4.htype", &be(123));
    c.s(V4, &p, "pkt4.giaddr", &[192, 0, 2, 1]);
    c.s(V4, &p, "pkt4.ciaddr", &[192, 0, 2, 2]);
    c.s(V4, &p, "pkt4.yiaddr", &[192, 0, 2, 3]);
    c.s(V4, &p, "pkt4.siaddr", &[192, 0, 2, 4]);
    c.s(V4, &p, "pkt4.msgtype", &be(1));
    c.s(V4, &p, "pkt4.transid", &be(12345));
    // ...a field the packet cannot give is an evaluation error (Kea: a DHCPv6 packet
    // asked for pkt4.hlen; here the packet's own error comes back)
    c.eval_err(V4, S, &Pkt::v6(), "pkt4.hlen");
    c.eval_err(V4, B, &Pkt::v4().without(Field::Mac), "pkt4.mac == 0x01");

    // evaluate:419 expressionsPkt4Hlen: no hardware address yet (hlen 0, type 1)
    let p0 = Pkt::v4();
    c.b(V4, &p0, "pkt4.hlen == 0", true);
    c.b(V4, &p0, "pkt4.htype == 1", true);
    // ...then 01:02:03:04:05:06 of type 123
    let hw = Pkt::v4()
        .set(Field::Mac, vec![1, 2, 3, 4, 5, 6])
        .set(Field::Hlen, be(6))
        .set(Field::Htype, be(123));
    for (n, want) in [(0, false), (5, false), (6, true), (7, false)] {
        c.b(V4, &hw, &format!("pkt4.hlen == {n}"), want);
    }
    for (n, want) in [(0, false), (122, false), (123, true), (124, false)] {
        c.b(V4, &hw, &format!("pkt4.htype == {n}"), want);
    }
    c.b(V4, &hw, "pkt4.mac == 0x010203040506", true);
    // evaluate:450 expressionsPkt4type
    c.b(V4, &p0, "pkt4.msgtype == 0", false);
    c.b(V4, &p0, "pkt4.msgtype == 1", true);
    c.b(V4, &p0, "pkt4.msgtype == 2", false);
    // evaluate:406 expressionsInteger3
    c.b(V4, &p0, "pkt4.transid == 0", false);
    c.b(V4, &p0, "pkt4.transid == 12345", true);
    c.b(V4, &p0, "pkt4.transid == 12346", false);

    // context:1282 pkt4FieldChaddr, context:1287 pkt4FieldChaddrHexa
    let mac = Pkt::v4()
        .set(Field::Mac, vec![0, 1, 2, 3, 4, 5])
        .set(Field::Hlen, be(6));
    c.b(V4, &mac, "pkt4.mac == 0x000102030405", true);
    c.b(
        V4,
        &mac,
        "hexstring(pkt4.mac, ':') == '00:01:02:03:04:05'",
        true,
    );
    // context:1293 pkt4FieldHlen, context:1298 pkt4FieldHtype: these parse; hlen and
    // htype being 4 bytes (token.cc:599, 604), a 1-byte hex literal never equals them
    c.ok(V4, B, "pkt4.hlen == 0x6");
    c.ok(V4, B, "pkt4.htype == 0x1");
    c.b(V4, &mac, "pkt4.hlen == 0x6", false);
    c.b(V4, &mac, "pkt4.htype == 0x1", false);
    c.b(V4, &mac, "pkt4.hlen == 0x00000006", true);
    // context:1303..1318 pkt4FieldCiaddr..pkt4FieldSiaddr
    let a = ip("192.0.2.1");
    let addrs = Pkt::v4()
        .set(Field::Ciaddr, a.clone())
        .set(Field::Giaddr, a.clone())
        .set(Field::Yiaddr, a.clone())
        .set(Field::Siaddr, a);
    for f in ["ciaddr", "giaddr", "yiaddr", "siaddr"] {
        c.b(V4, &addrs, &format!("pkt4.{f} == 192.0.2.1"), true);
        c.b(V4, &p0, &format!("pkt4.{f} == 192.0.2.1"), false);
    }
    c.finish();
}

#[test]
fn pkt6_fields() {
    let mut c = Checks::new("pkt6_fields");
    let p = Pkt::v6();

    // token:1954 pkt6Fields: SOLICIT (1), transaction id 12345
    c.s(V6, &p, "pkt6.msgtype", &be(1));
    c.s(V6, &p, "pkt6.transid", &be(12345));
    // ...a DHCPv4 packet cannot give them
    c.eval_err(V6, S, &Pkt::v4().without(Field::TransId), "pkt6.transid");
    // evaluate:390 expressionsInteger1
    c.b(V6, &p, "pkt6.msgtype == 1", true);
    c.b(V6, &p, "pkt6.msgtype == 2", false);
    c.b(V6, &p, "pkt6.msgtype == 0x00000001", true);
    c.b(V6, &p, "pkt6.msgtype == 0x00000002", false);
    // evaluate:399 expressionsInteger2
    c.b(V6, &p, "pkt6.transid == 0", false);
    c.b(V6, &p, "pkt6.transid == 12345", true);
    c.b(V6, &p, "pkt6.transid == 12346", false);
    // context:1323 pkt6FieldMsgtype, context:1328 pkt6FieldTransid
    c.ok(V6, B, "pkt6.msgtype == 1");
    c.ok(V6, B, "pkt6.transid == 1");
    c.b(V6, &p, "pkt6.transid == 1", false);
    c.finish();
}

// ---------------------------------------------------------------------------------------
// Vendor options.
// ---------------------------------------------------------------------------------------

#[test]
fn vendor() {
    let mut c = Checks::new("vendor");

    for u in [V4, V6] {
        let none = pkt(u);
        let v = |id: u32, sub: Option<u16>| {
            pkt(u).vendor(
                id,
                sub.map(|s| vec![Opt::s(s, "alpha")]).unwrap_or_default(),
            )
        };
        // token:2855 vendor4SpecificVendorExists, token:2880 vendor6SpecificVendorExists
        c.b(u, &none, "vendor[4491].exists", false);
        c.b(u, &v(1234, None), "vendor[4491].exists", false);
        c.b(u, &v(4491, None), "vendor[4491].exists", true);
        // token:2901 vendor4AnyVendorExists, token:2922 vendor6AnyVendorExists
        c.b(u, &none, "vendor[*].exists", false);
        c.b(u, &v(1234, None), "vendor[*].exists", true);
        c.b(u, &v(4491, None), "vendor[*].exists", true);
        // token:2943 vendor4enterprise, token:2965 vendor6enterprise
        c.s(u, &none, "vendor.enterprise", b"");
        c.s(u, &v(1234, None), "vendor.enterprise", &be(1234));
        c.s(
            u,
            &v(4294967295, None),
            "vendor.enterprise",
            &be(4294967295),
        );
        // token:2990 vendor4SuboptionExists, token:3024 vendor6SuboptionExists
        c.b(u, &none, "vendor[4491].option[1].exists", false);
        c.b(u, &v(1234, None), "vendor[4491].option[1].exists", false);
        c.b(u, &v(1234, Some(1)), "vendor[4491].option[1].exists", false);
        c.b(u, &v(4491, Some(2)), "vendor[4491].option[1].exists", false);
        c.b(u, &v(4491, Some(1)), "vendor[4491].option[1].exists", true);
        // token:3059 vendor4SuboptionHex, token:3091 vendor6SuboptionHex
        c.s(u, &none, "vendor[4491].option[1].hex", b"");
        c.s(u, &v(1234, None), "vendor[4491].option[1].hex", b"");
        c.s(u, &v(1234, Some(1)), "vendor[4491].option[1].hex", b"");
        c.s(u, &v(4491, Some(2)), "vendor[4491].option[1].hex", b"");
        c.s(u, &v(4491, Some(1)), "vendor[4491].option[1].hex", b"alpha");
        // vendor[*] takes any enterprise (parser.yy:622 "*" is 0, token.cc:1214)
        c.s(u, &v(1234, Some(1)), "vendor[*].option[1].hex", b"alpha");

        // context:2357..2394 vendor*: these parse
        c.ok(u, B, "vendor[4491].exists");
        c.ok(u, B, "vendor[*].exists");
        c.ok(u, B, "vendor.enterprise == 0x1234");
        c.ok(u, B, "vendor[4491].option[1].exists");
        c.ok(u, B, "vendor[4491].option[1].hex == 0x1234");
        // ...the enterprise being 4 bytes, 0x1234 (2 bytes) is not it, 0x00001234 is
        c.b(u, &v(0x1234, None), "vendor.enterprise == 0x1234", false);
        c.b(u, &v(0x1234, None), "vendor.enterprise == 0x00001234", true);
        c.b(u, &v(0x1234, None), "vendor.enterprise == 4660", true);
        let sub = pkt(u).vendor(4491, vec![Opt::bin(1, &[0x12, 0x34], "x")]);
        c.b(u, &sub, "vendor[4491].option[1].hex == 0x1234", true);
    }
    c.finish();
}

#[test]
fn vendor_class() {
    let mut c = Checks::new("vendor_class");

    for u in [V4, V6] {
        let none = pkt(u);
        let vc = |id: u32, n: usize| pkt(u).vendor_class(id, vendor_class_tuples(u, n));
        // token:3122 vendorClass4SpecificVendorExists, token:3148 (v6)
        c.b(u, &none, "vendor-class[4491].exists", false);
        c.b(u, &vc(1234, 0), "vendor-class[4491].exists", false);
        c.b(u, &vc(4491, 0), "vendor-class[4491].exists", true);
        // token:3170 vendorClass4AnyVendorExists, token:3192 (v6)
        c.b(u, &none, "vendor-class[*].exists", false);
        c.b(u, &vc(1234, 0), "vendor-class[*].exists", true);
        c.b(u, &vc(4491, 0), "vendor-class[*].exists", true);
        // token:3213 vendorClass4enterprise, token:3235 (v6)
        c.s(u, &none, "vendor-class.enterprise", b"");
        c.s(u, &vc(1234, 0), "vendor-class.enterprise", &be(1234));
        c.s(
            u,
            &vc(4294967295, 0),
            "vendor-class.enterprise",
            &be(4294967295),
        );
        // token:3258 vendorClass4SpecificVendorData, token:3302 (v6)
        c.s(u, &none, "vendor-class[4491].data", b"");
        c.s(u, &vc(1234, 0), "vendor-class[4491].data", b"");
        c.s(u, &vc(4491, 0), "vendor-class[4491].data", b"");
        c.s(u, &vc(1234, 1), "vendor-class[4491].data", b"");
        c.s(u, &vc(4491, 1), "vendor-class[4491].data", b"alpha");
        // token:3343 vendorClass4AnyVendorData, token:3388 (v6)
        c.s(u, &none, "vendor-class[*].data", b"");
        c.s(u, &vc(1234, 0), "vendor-class[*].data", b"");
        c.s(u, &vc(4491, 0), "vendor-class[*].data", b"");
        c.s(u, &vc(1234, 1), "vendor-class[*].data", b"alpha");
        c.s(u, &vc(4491, 1), "vendor-class[*].data", b"alpha");
        // token:3433 vendorClass4DataIndex, token:3490 (v6)
        c.s(u, &none, "vendor-class[4491].data[3]", b"");
        c.s(u, &vc(1234, 0), "vendor-class[4491].data[3]", b"");
        c.s(u, &vc(4491, 0), "vendor-class[4491].data[3]", b"");
        c.s(u, &vc(1234, 1), "vendor-class[4491].data[3]", b"");
        c.s(u, &vc(4491, 3), "vendor-class[4491].data[3]", b"");
        c.s(u, &vc(4491, 5), "vendor-class[4491].data[3]", b"gamma");
        c.s(u, &vc(1234, 5), "vendor-class[4491].data[3]", b"");
        // data is data[0]
        c.s(u, &vc(4491, 5), "vendor-class[4491].data[0]", b"alpha");

        // context:2399..2443 vendorClass*: these parse
        c.ok(u, B, "vendor-class[4491].exists");
        c.ok(u, B, "vendor-class[*].exists");
        c.ok(u, B, "vendor-class.enterprise == 0x1234");
        c.ok(u, B, "vendor-class[4491].data == 0x1234");
        c.ok(u, B, "vendor-class[*].data == 0x1234");
        c.ok(u, B, "vendor-class[4491].data[3] == 0x1234");
        let d = pkt(u).vendor_class(4491, vec![vec![0x12, 0x34]]);
        c.b(u, &d, "vendor-class[4491].data == 0x1234", true);
        c.b(u, &d, "vendor-class[*].data == 0x1234", true);
        c.b(u, &d, "vendor-class.enterprise == 0x1234", false);
        c.b(u, &d, "vendor-class.enterprise == 4491", true);
    }
    c.finish();
}
// ---------------------------------------------------------------------------------------
// Parse errors: context_unittest's checkError, the position as Kea prints it.
// ---------------------------------------------------------------------------------------

const IC: &str = "Invalid character";
const SE: &str = "syntax error";

#[test]
fn scan_errors() {
    let mut c = Checks::new("scan_errors");
    // context:2062 scanErrors
    c.perr_rows(
        B,
        &[
            (V4, "'", "1.1", IC, "context:2063"),
            (V4, "'''", "1.3", IC, "context:2064"),
            (V4, "'\n'", "1.1", IC, "context:2065"),
            (V4, "0x123h", "1.6", IC, "context:2066"),
            (V4, ":1", "1.1", IC, "context:2067"),
            (V4, "=", "1.1", IC, "context:2068"),
            (V4, "subtring", "1.1", IC, "context:2071"),
            (V4, "foo", "1.1", IC, "context:2072"),
            (V4, " bar", "1.2", IC, "context:2073"),
            (V4, "relay[12].hex == 'foo'", "1.1", IC, "context:2074"),
            (V4, "pkt4.ziaddr", "1.6", IC, "context:2075"),
            (V4, "members('foo'", "1.7", IC, "context:2076"),
        ],
    );
    c.finish();
}

#[test]
fn scan_parse_errors() {
    let mut c = Checks::new("scan_parse_errors");
    let fc = "Failed to convert";
    // context:2080 scanParseErrors
    c.perr_rows(
        B,
        &[
            (V4, "", "1.1", SE, "context:2081"),
            (V4, " ", "1.2", SE, "context:2082"),
            (V4, "0x", "1.2", IC, "context:2083"),
            (V4, "0abc", "1.2", IC, "context:2084"),
            (V4, "10.0.1", "1.3", SE, "context:2092"),
            (V4, "10.256.0.1", "1.1-10", fc, "context:2095"),
            (V4, ":::", "1.1-3", fc, "context:2098"),
            // the parser refuses the leading == before the lexer reaches the third =
            (V4, "===", "1.1-2", SE, "context:2100"),
            (
                V4,
                "option[-1].text",
                "1.8-9",
                "Allowed range: 0..255",
                "context:2101",
            ),
            (
                V4,
                "option[256].text",
                "1.8-10",
                "Allowed range: 0..255",
                "context:2104",
            ),
            (
                V6,
                "option[65536].text",
                "1.8-12",
                "Allowed range: 0..65535",
                "context:2108",
            ),
            (
                V4,
                "option[12345678901234567890].text",
                "1.8-27",
                fc,
                "context:2112",
            ),
            (V4, "option[123]", "1.12", SE, "context:2115"),
            (V4, "option[123].text < 'foo'", "1.18", IC, "context:2118"),
            (V4, "option[-ab].text", "1.8", IC, "context:2120"),
            (V4, "option[0ab].text", "1.9-10", SE, "context:2121"),
            (V4, "option[ab_].hex", "1.8", IC, "context:2124"),
            (
                V4,
                "option[\nhost-name\n].hex =\n= 'foo'",
                "3.7",
                IC,
                "context:2125",
            ),
            (
                V4,
                "substring('foo',12345678901234567890,1)",
                "1.17-36",
                fc,
                "context:2127",
            ),
        ],
    );
    c.finish();
}

#[test]
fn parse_errors() {
    let mut c = Checks::new("parse_errors");
    // context:2133 parseErrors
    c.perr_rows(
        B,
        &[
            (V4, "'foo''bar'", "1.6-10", SE, "context:2134"),
            (V4, "'foo' (", "1.7", SE, "context:2137"),
            (V4, "== 'ab'", "1.1-2", SE, "context:2139"),
            (V4, "'foo' ==", "1.9", SE, "context:2140"),
            (V4, "('foo' == 'bar') ''", "1.18-19", SE, "context:2147"),
            (V4, "not", "1.4", SE, "context:2150"),
            (V4, "not 'foo'", "1.10", SE, "context:2152"),
            (V4, "not()", "1.5", SE, "context:2155"),
            (V4, "(not('foo' 'bar')", "1.12-16", SE, "context:2157"),
            (V4, "and", "1.1-3", SE, "context:2160"),
            (V4, "'foo' and", "1.7-9", SE, "context:2162"),
            (V4, "'foo' == 'bar' and", "1.19", SE, "context:2165"),
            (V4, "'foo' == 'bar' and ''", "1.22", SE, "context:2167"),
            (V4, "or", "1.1-2", SE, "context:2170"),
            (V4, "'foo' or", "1.7-8", SE, "context:2172"),
            (V4, "'foo' == 'bar' or", "1.18", SE, "context:2175"),
            (V4, "'foo' == 'bar' or ''", "1.21", SE, "context:2177"),
            (V4, "option 'ab'", "1.8-11", SE, "context:2180"),
            (V4, "option(10) == 'ab'", "1.7", SE, "context:2183"),
            (
                V4,
                "option['ab'].text == 'foo'",
                "1.8-11",
                SE,
                "context:2186",
            ),
            (
                V4,
                "option[ab].text == 'foo'",
                "1.8-9",
                "is not defined",
                "context:2190",
            ),
            (V4, "option[0xa].text == 'ab'", "1.8-10", SE, "context:2192"),
            (V4, "option[10].bin", "1.12", IC, "context:2196"),
            (V4, "option[boot-size].bin", "1.19", IC, "context:2197"),
            (
                V4,
                "option[10].exists == 'foo'",
                "1.19-20",
                SE,
                "context:2198",
            ),
            (V4, "substring('foobar') == 'f'", "1.19", SE, "context:2201"),
            (
                V4,
                "substring('foobar',3) == 'bar'",
                "1.21",
                SE,
                "context:2204",
            ),
            (
                V4,
                "substring('foobar','3',3) == 'bar'",
                "1.20-22",
                SE,
                "context:2206",
            ),
            (
                V4,
                "substring('foobar',1,a) == 'foo'",
                "1.22",
                IC,
                "context:2209",
            ),
            (V4, "concat('foobar') == 'f'", "1.16", SE, "context:2218"),
            (
                V4,
                "concat('foo','bar','') == 'foobar'",
                "1.19",
                SE,
                "context:2221",
            ),
            (V4, "ifelse('foo'=='bar','foo')", "1.26", SE, "context:2224"),
            (
                V4,
                "ifelse('foo'=='bar','foo','bar','')",
                "1.32",
                SE,
                "context:2227",
            ),
            // the parser refuses the leading + before the lexer reaches the lone =
            (V4, "+ 'a' = 'a'", "1.1", SE, "context:2230"),
            (V4, "'a' + == 'a'", "1.7-8", SE, "context:2231"),
            (V4, "'a' ++ 'b' == 'ab'", "1.6", SE, "context:2232"),
            (
                V4,
                "addrtotext(10.0.0.1, 10.0.0.2)",
                "1.20",
                SE,
                "context:2234",
            ),
            (
                V4,
                "addrtotext('cafebabecafebabe')",
                "1.31",
                SE,
                "context:2236",
            ),
            (V4, "addrtotext('')", "1.15", SE, "context:2238"),
            (V4, "int8totext('01', '01')", "1.16", SE, "context:2240"),
            (V4, "int8totext('0123')", "1.19", SE, "context:2242"),
            (V4, "int8totext('')", "1.15", SE, "context:2244"),
            (
                V4,
                "int16totext('0123', '0123')",
                "1.19",
                SE,
                "context:2246",
            ),
            (V4, "int16totext('01')", "1.18", SE, "context:2248"),
            (V4, "int16totext('')", "1.16", SE, "context:2250"),
            (
                V4,
                "int32totext('01234567', '01234567')",
                "1.23",
                SE,
                "context:2252",
            ),
            (V4, "int32totext('01')", "1.18", SE, "context:2254"),
            (V4, "int32totext('')", "1.16", SE, "context:2256"),
            (V4, "uint8totext('01', '01')", "1.17", SE, "context:2258"),
            (V4, "uint8totext('0123')", "1.20", SE, "context:2260"),
            (V4, "uint8totext('')", "1.16", SE, "context:2262"),
            (
                V4,
                "uint16totext('0123', '0123')",
                "1.20",
                SE,
                "context:2264",
            ),
            (V4, "uint16totext('01')", "1.19", SE, "context:2266"),
            (V4, "uint16totext('')", "1.17", SE, "context:2268"),
            (
                V4,
                "uint32totext('01234567', '01234567')",
                "1.24",
                SE,
                "context:2270",
            ),
            (V4, "uint32totext('01')", "1.19", SE, "context:2272"),
            (V4, "uint32totext('')", "1.17", SE, "context:2274"),
        ],
    );
    // context:2210: 65536 zeros lex as one integer; the unclosed quote after them is at
    // column 65568 (context:2216)
    let long_text = format!("substring('foobar',1,65535) == {}'", "0".repeat(1 << 16));
    c.cite = "context:2216";
    c.perr(V4, B, &long_text, "1.65568", IC);
    c.cite = "";
    c.finish();
}

#[test]
fn type_errors() {
    let mut c = Checks::new("type_errors");
    // context:2279 typeErrors: a string where a boolean is wanted, and other misplaced
    // operands
    c.perr_rows(
        B,
        &[
            (V4, "'foobar'", "1.9", SE, "context:2280"),
            (
                V4,
                "substring('foobar',all,1) == 'foo'",
                "1.20-22",
                SE,
                "context:2283",
            ),
            (
                V4,
                "substring('foobar',0x32,1) == 'foo'",
                "1.20-23",
                SE,
                "context:2286",
            ),
            (
                V4,
                "('foo' == 'bar') == 'false'",
                "1.18-19",
                SE,
                "context:2296",
            ),
            (V4, "not 'true'", "1.11", SE, "context:2299"),
            (V4, "'true' and 'false'", "1.8-10", SE, "context:2302"),
            (V4, "'true' or 'false'", "1.8-9", SE, "context:2305"),
            (
                V4,
                "ifelse('foobar','foo','bar')",
                "1.16",
                SE,
                "context:2310",
            ),
            (
                V4,
                "ifelse('foo'=='bar','foo'=='foo','bar')",
                "1.26-27",
                SE,
                "context:2313",
            ),
            (
                V4,
                "ifelse('foo'=='bar','foo','bar'=='bar')",
                "1.32-33",
                SE,
                "context:2316",
            ),
            (V4, "member(foo)", "1.8", IC, "context:2321"),
            (
                V4,
                "option[123].option[host-name].exists",
                "1.20-28",
                SE,
                "context:2324",
            ),
            (V4, "addrtotext('192.100.1.1')", "1.26", SE, "context:2329"),
            (V4, "int8totext('0123')", "1.19", SE, "context:2333"),
            (V4, "int16totext('01')", "1.18", SE, "context:2337"),
            (V4, "int32totext('01')", "1.18", SE, "context:2341"),
            (V4, "uint8totext('0123')", "1.20", SE, "context:2345"),
            (V4, "uint16totext('01')", "1.19", SE, "context:2349"),
            (V4, "uint32totext('01')", "1.19", SE, "context:2353"),
        ],
    );
    // evaluate:479 evaluateString: a boolean where a string is wanted (the position,
    // from parser.yy:144 start, is the token a string expression cannot be followed by)
    c.perr_rows(
        S,
        &[
            (V4, "pkt4.msgtype == 1", "1.14-15", SE, "evaluate:489"),
            (V6, "pkt6.msgtype == 1", "1.14-15", SE, "evaluate:491"),
            (V4, "option[100].exists", "1.13-18", SE, "parser.yy:311"),
        ],
    );
    // ...while the string forms parse as strings
    c.ok(V4, S, "'foobar'");
    c.ok(V4, S, "option[100].hex");
    c.ok(V4, S, "ifelse(option[100].exists,'foo','bar')");
    c.finish();
}

#[test]
fn universe_and_range_errors() {
    let mut c = Checks::new("universe_and_range_errors");
    let r4 = "relay4 can only be used in DHCPv4";
    let nest4 = "Nest level invalid for DHCPv4";
    let r255 = "Allowed range: 0..255";
    let r32 = "Allowed range: 0..4294967295";
    c.perr_rows(
        B,
        &[
            // context:1189 relay4Error
            (
                V6,
                "relay4[13].hex == 'thirteen'",
                "1.1-6",
                r4,
                "context:1192",
            ),
            // context:1229 relay6OptionLimits
            (
                V6,
                "relay6[32].option[123].text == 'foo'",
                "1.8-9",
                "Allowed range: -32..31",
                "context:1238",
            ),
            (
                V6,
                "relay6[-33].option[123].text == 'foo'",
                "1.8-10",
                "Allowed range: -32..31",
                "context:1246",
            ),
            // context:1251 relay6OptionError, context:1345 relay6FieldError: in DHCPv4
            // the nest level is refused first
            (
                V4,
                "relay6[0].option[123].text == 'foo'",
                "1.8",
                nest4,
                "context:1257",
            ),
            (V4, "relay6[0].linkaddr == ::", "1.8", nest4, "context:1351"),
            // relay4 in DHCPv6, the exists form
            (V6, "relay4[13].exists", "1.1-6", r4, "parser.yy:225"),
            // pkt4 in DHCPv6, pkt6 in DHCPv4
            (
                V6,
                "pkt4.mac == 0x00",
                "1.1-4",
                "pkt4 can only be used in DHCPv4",
                "parser.yy:373",
            ),
            (
                V4,
                "pkt6.msgtype == 1",
                "1.1-4",
                "pkt6 can only be used in DHCPv6",
                "parser.yy:387",
            ),
            // sub-option codes have the option-code range
            (
                V4,
                "option[123].option[256].exists",
                "1.20-22",
                r255,
                "parser.yy:579",
            ),
            (V4, "relay4[256].exists", "1.8-10", r255, "parser.yy:579"),
            // enterprise ids are 32-bit
            (
                V4,
                "vendor[4294967296].exists",
                "1.8-17",
                r32,
                "parser.yy:622",
            ),
            // an option name the universe does not know
            (
                V6,
                "option[host-name].exists",
                "1.8-16",
                "is not defined",
                "eval_context.cc:105",
            ),
        ],
    );
    c.perr_rows(
        S,
        &[
            // relay4 in DHCPv6, the string form
            (V6, "relay4[13].text", "1.1-6", r4, "parser.yy:338"),
            // the vendor-class data index is 0..255
            (
                V4,
                "vendor-class[4491].data[256]",
                "1.25-27",
                r255,
                "parser.yy:550",
            ),
        ],
    );
    c.ok(V6, B, "option[123].option[256].exists");
    c.ok(V4, S, "vendor-class[4491].data[255]");
    c.ok(V4, B, "vendor[4294967295].exists");
    c.finish();
}
