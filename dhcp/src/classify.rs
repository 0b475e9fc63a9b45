//! Client classification for DHCPv4, in Kea 2.2's order (its ARM, "Client
//! Classification"):
//! 1. on arrival: `ALL`, `VENDOR_CLASS_<option 60>`, then every class with a `test`
//!    that is not additional and does not depend on KNOWN/UNKNOWN, in file order (a
//!    test may use `member()` of earlier classes);
//! 2. after the reservation lookup: `KNOWN` or `UNKNOWN`, the reservation's classes, then
//!    the tests that depend on KNOWN/UNKNOWN;
//! 3. after the address is chosen: the additional classes the shared network, subnet and
//!    pool require (`require-client-classes`), those with a test that matches.
//!
//! A test that fails to evaluate leaves the class out (Kea's EVAL_RESULT error). A packet
//! in class `DROP` is dropped. Expressions read the packet through [`View`].

use std::cell::RefCell;

use tern_config::option_defs::{self, OptionType};
use tern_expr::{EvalError, Field, Machine, Packet, Source};
use tracing::{debug, error, info};

use crate::config::{ClassDef, Host, Pool, ServerConfig, Subnet};
use crate::options::DHCP4;
use crate::packet::{hex, Ingress, Reply, Request};
use tern_config::FlexAction;

thread_local! {
    // Evaluation is synchronous: one machine per thread, reused by every packet.
    static MACHINE: RefCell<Machine> = RefCell::new(Machine::default());
}

/// The request as expressions see it.
pub struct View<'a> {
    /// The request (its classes so far answer `member()`).
    pub req: &'a Request,
    /// Where it came in.
    pub ingress: &'a Ingress,
}

/// Sub-option `code` of a value made of DHCPv4 TLVs.
fn sub_tlv(buf: &[u8], code: u16) -> Option<Vec<u8>> {
    let mut i = 0;
    let mut out: Option<Vec<u8>> = None;
    while i + 1 < buf.len() {
        let (c, len) = (buf[i], usize::from(buf[i + 1]));
        let v = buf.get(i + 2..i + 2 + len)?;
        if u16::from(c) == code {
            out.get_or_insert_with(Vec::new).extend_from_slice(v);
        }
        i += 2 + len;
    }
    out
}

/// Whether option `code` is a string option (Kea reads it without its trailing NULs,
/// as RFC 2132 allows clients to send them).
fn is_text(code: u16) -> bool {
    u8::try_from(code)
        .ok()
        .and_then(option_defs::by_code)
        .is_some_and(|d| d.kind == OptionType::Text)
}

/// A string option's value as Kea keeps it: trailing NULs dropped.
fn trimmed(v: &[u8]) -> &[u8] {
    let n = v.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    &v[..n]
}

/// Kea's text of an option: a string option's value; any other option as Kea's generic
/// rendering, `type=NNN, len=NNN: hh:hh…`.
fn text(code: u16, v: &[u8], out: &mut Vec<u8>) {
    if is_text(code) {
        out.extend_from_slice(v);
        return;
    }
    let hex: Vec<String> = v.iter().map(|b| format!("{b:02x}")).collect();
    out.extend_from_slice(
        format!("type={code:03}, len={:03}: {}", v.len(), hex.join(":")).as_bytes(),
    );
}

impl Packet for View<'_> {
    fn option(&self, src: Source, as_text: bool, out: &mut Vec<u8>) -> bool {
        let req = self.req;
        let (code, value) = match src {
            Source::Option(code) => (code, u8::try_from(code).ok().and_then(|c| req.option(c))),
            Source::SubOption(code, sub) => (
                sub,
                u8::try_from(code)
                    .ok()
                    .and_then(|c| req.option(c))
                    .and_then(|p| sub_tlv(&p, sub)),
            ),
            Source::Relay4(sub) => (sub, req.option(82).and_then(|p| sub_tlv(&p, sub))),
            // Option 125: enterprise (4), length (1), the vendor's sub-options.
            Source::Vendor { code, .. } => (
                code,
                req.option(125).and_then(|v| {
                    let n = usize::from(*v.get(4)?);
                    sub_tlv(v.get(5..5 + n)?, code)
                }),
            ),
            // Option 124: enterprise (4), then chunks of length (1) and data.
            Source::VendorClassData { index, .. } => (
                124,
                req.option(124).and_then(|v| {
                    let mut i = 4;
                    let mut k = 0;
                    while i < v.len() {
                        let n = usize::from(v[i]);
                        let chunk = v.get(i + 1..i + 1 + n)?;
                        if k == index {
                            return Some(chunk.to_vec());
                        }
                        k += 1;
                        i += 1 + n;
                    }
                    None
                }),
            ),
            Source::Relay6 { .. } => (0, None),
        };
        let Some(mut v) = value else {
            return false;
        };
        if matches!(src, Source::Option(_)) && is_text(code) {
            v.truncate(trimmed(&v).len());
        }
        if as_text {
            text(code, &v, out);
        } else {
            out.extend_from_slice(&v);
        }
        true
    }

    fn field(&self, f: Field, out: &mut Vec<u8>) -> Result<(), EvalError> {
        let req = self.req;
        let n32 = |n: u32, out: &mut Vec<u8>| out.extend_from_slice(&n.to_be_bytes());
        match f {
            Field::Iface => out.extend_from_slice(self.ingress.iface.as_bytes()),
            // The datagram's source: the relay, or the client once it has an address.
            Field::Src => out.extend_from_slice(
                &(if req.giaddr.is_unspecified() {
                    req.ciaddr
                } else {
                    req.giaddr
                })
                .octets(),
            ),
            Field::Dst => out.extend_from_slice(&self.ingress.addr.octets()),
            Field::Len => n32(u32::try_from(req.len).unwrap_or(u32::MAX), out),
            Field::Mac => out.extend_from_slice(&req.chaddr),
            Field::Hlen => n32(req.chaddr.len() as u32, out),
            Field::Htype => n32(u32::from(req.htype), out),
            Field::Ciaddr => out.extend_from_slice(&req.ciaddr.octets()),
            Field::Giaddr => out.extend_from_slice(&req.giaddr.octets()),
            Field::Yiaddr => out.extend_from_slice(&req.yiaddr.octets()),
            Field::Siaddr => out.extend_from_slice(&req.siaddr.octets()),
            Field::MsgType => n32(u32::from(req.kind.code()), out),
            Field::TransId => n32(req.xid, out),
            Field::PeerAddr(_) | Field::LinkAddr(_) => {
                return Err(EvalError("Specified packet is not Pkt6".into()))
            }
        }
        Ok(())
    }

    fn vendor_id(&self, class: bool) -> Option<u32> {
        let v = self.req.option(if class { 124 } else { 125 })?;
        Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
    }

    fn member(&self, name: &str) -> bool {
        self.req.in_class(name)
    }
}

/// Evaluates `class`'s test on `req` and adds the class when it matches. Kea's
/// EVAL_RESULT lines: INFO when it matches, DEBUG when not, ERROR when it cannot be
/// evaluated.
fn evaluate(class: &ClassDef, req: &mut Request, ingress: &Ingress) {
    let Some(test) = &class.test else { return };
    let result = MACHINE.with(|m| test.eval_bool(&View { req, ingress }, &mut m.borrow_mut()));
    match result {
        Ok(true) => {
            info!("EVAL_RESULT Expression {} evaluated to 1", class.name);
            add(req, &class.name);
        }
        Ok(false) => debug!("EVAL_RESULT Expression {} evaluated to 0", class.name),
        Err(e) => error!("EVAL_RESULT Expression {} evaluated to {e}", class.name),
    }
}

fn add(req: &mut Request, name: &str) {
    if !req.in_class(name) {
        req.classes.push(name.to_string());
    }
}

/// Step 1, on arrival.
pub fn on_arrival(cfg: &ServerConfig, req: &mut Request, ingress: &Ingress) {
    req.classes.clear();
    if req.kind == crate::packet::RequestKind::Bootp {
        add(req, "BOOTP");
    }
    add(req, "ALL");
    if let Some(v) = req.vendor_class.clone() {
        add(
            req,
            &format!("VENDOR_CLASS_{}", String::from_utf8_lossy(trimmed(&v))),
        );
    }
    for c in cfg
        .classes
        .iter()
        .filter(|c| !c.additional && !c.depends_on_known)
    {
        evaluate(c, req, ingress);
    }
}

/// A reservation found for a request, and whether it is a global one.
#[derive(Clone, Copy)]
pub struct Reserved<'a> {
    /// The reservation.
    pub host: &'a Host,
    /// From the global reservations (not the subnet's).
    pub global: bool,
}

/// Whether a reservation's classes are known at lookup time: a global reservation's,
/// or one of a subnet outside shared networks (its subnet cannot change). Otherwise they
/// are added once the address is chosen (Kea 2.2's `conditionallySetReservedClientClasses`).
fn classes_now(r: &Reserved<'_>, subnet: &Subnet) -> bool {
    r.global || subnet.shared_network.is_none()
}

/// Step 2, once the reservation is known (or known not to exist). When its classes
/// are known now, the classes the tests gave are taken back and the tests run again
/// after them (a test may read `member()` of a reserved class), as Kea does.
pub fn after_host_lookup(
    cfg: &ServerConfig,
    req: &mut Request,
    ingress: &Ingress,
    found: Option<Reserved<'_>>,
    subnet: &Subnet,
) {
    if let Some(r) = found.filter(|r| !r.host.classes.is_empty() && classes_now(r, subnet)) {
        req.classes
            .retain(|c| cfg.class(c).is_none_or(|d| d.test.is_none()));
        for c in &r.host.classes {
            add(req, c);
        }
        for c in cfg
            .classes
            .iter()
            .filter(|c| !c.additional && !c.depends_on_known)
        {
            evaluate(c, req, ingress);
        }
    }
    add(req, if found.is_some() { "KNOWN" } else { "UNKNOWN" });
    for c in cfg
        .classes
        .iter()
        .filter(|c| !c.additional && c.depends_on_known)
    {
        evaluate(c, req, ingress);
    }
}

/// Step 3, once the address is chosen (the lease's lifetime is decided by then): a
/// reservation's classes not added at lookup, then the classes the network, subnet and
/// pool require.
pub fn after_allocation(
    cfg: &ServerConfig,
    req: &mut Request,
    ingress: &Ingress,
    subnet: &Subnet,
    pool: Option<&Pool>,
    found: Option<Reserved<'_>>,
) {
    if let Some(r) = found.filter(|r| !classes_now(r, subnet)) {
        for c in &r.host.classes {
            add(req, c);
        }
    }
    required(cfg, req, ingress, subnet, pool);
}

/// The classes the network, subnet and pool require.
fn required(
    cfg: &ServerConfig,
    req: &mut Request,
    ingress: &Ingress,
    subnet: &Subnet,
    pool: Option<&Pool>,
) {
    let names: Vec<String> = subnet
        .required()
        .chain(
            pool.into_iter()
                .flat_map(|p| p.guard.additional.iter().map(String::as_str)),
        )
        .map(str::to_string)
        .collect();
    for name in names {
        match cfg.class(&name) {
            // Kea 2.2 leaves out a required class without a test.
            Some(c) => evaluate(c, req, ingress),
            None => debug!("DHCP4_CLASS_UNDEFINED required class {name} has no definition"),
        }
    }
}

/// Whether the packet is to be dropped (class DROP).
pub fn dropped(req: &Request) -> bool {
    req.in_class("DROP")
}

/// The flex-option hook's actions on a reply (built in), as Kea's hook does them when
/// the reply is sent: for each configured option in code order, skipped unless the
/// packet is in its `client-class`; `add` when the reply lacks the option, `supersede`
/// always, each only with a non-empty value (the expression's bytes, or with
/// `csv-format` its text encoded by the option's definition); `remove` when the
/// expression is true.
pub fn flex(cfg: &ServerConfig, reply: &mut Reply, req: &Request, ingress: &Ingress) {
    for f in &cfg.flex {
        let Ok(code) = u8::try_from(f.code) else {
            continue;
        };
        if let Some(class) = &f.client_class {
            if !req.in_class(class) {
                debug!(
                    "FLEX_OPTION_PROCESS_CLIENT_CLASS Skip processing of the option code {code} for class '{class}'"
                );
                continue;
            }
        }
        let present = reply.options.iter().any(|(c, _)| *c == code);
        let view = View { req, ingress };
        match f.action {
            FlexAction::Add if present => {}
            FlexAction::Add | FlexAction::Supersede => {
                let value = MACHINE.with(|m| {
                    f.expr
                        .eval_string(&view, &mut m.borrow_mut())
                        .map(<[u8]>::to_vec)
                });
                let value = match value {
                    Ok(v) if v.is_empty() => continue,
                    Ok(v) => v,
                    Err(e) => {
                        error!(
                            "FLEX_OPTION_PROCESS_ERROR An error occurred processing query {}: {e}",
                            req.label()
                        );
                        continue;
                    }
                };
                let bytes = if f.csv_format {
                    let text = String::from_utf8_lossy(&value);
                    match cfg
                        .defs
                        .encode_entry(DHCP4, f.name.as_deref(), Some(f.code), &text, true)
                    {
                        Ok((_, b)) => b,
                        Err(e) => {
                            error!(
                                "FLEX_OPTION_PROCESS_ERROR An error occurred processing query {}: option {code}: {e}",
                                req.label()
                            );
                            continue;
                        }
                    }
                } else {
                    value
                };
                let verb = if f.action == FlexAction::Add {
                    "FLEX_OPTION_PROCESS_ADD Added"
                } else {
                    reply.options.retain(|(c, _)| *c != code);
                    "FLEX_OPTION_PROCESS_SUPERSEDE Supersedes"
                };
                debug!(
                    "{verb} the option code {code} with value 0x{}",
                    hex(&bytes).replace(':', "")
                );
                // The relay agent information stays last (RFC 3046 §2.1).
                let at = reply
                    .options
                    .iter()
                    .position(|(c, _)| *c == 82)
                    .unwrap_or(reply.options.len());
                reply.options.insert(at, (code, bytes));
            }
            FlexAction::Remove => {
                if !present {
                    continue;
                }
                let yes = MACHINE.with(|m| f.expr.eval_bool(&view, &mut m.borrow_mut()));
                match yes {
                    Ok(true) => {
                        reply.options.retain(|(c, _)| *c != code);
                        debug!("FLEX_OPTION_PROCESS_REMOVE Removed option code {code}");
                    }
                    Ok(false) => {}
                    Err(e) => error!(
                        "FLEX_OPTION_PROCESS_ERROR An error occurred processing query {}: {e}",
                        req.label()
                    ),
                }
            }
        }
    }
}

/// The definitions of the packet's classes, in the order it joined them (a built-in
/// class without a definition, BOOTP, stands for itself).
pub fn defs<'c>(cfg: &'c ServerConfig, req: &Request) -> Vec<&'c ClassDef> {
    let mut out: Vec<&ClassDef> = req.classes.iter().filter_map(|n| cfg.class(n)).collect();
    if req.in_class("BOOTP") && !out.iter().any(|c| c.name == "BOOTP") {
        out.push(&BOOTP);
    }
    out
}

static BOOTP: std::sync::LazyLock<ClassDef> = std::sync::LazyLock::new(|| ClassDef {
    name: "BOOTP".into(),
    test: None,
    additional: false,
    depends_on_known: false,
    options: Default::default(),
    boot: Default::default(),
    valid: None,
});
