//! DHCPv6 messages on the wire (RFC 8415 §8, §9, §21; RFC 9915 keeps the formats),
//! decoded and encoded by tern: dhcproto 0.15 loses the client message inside a
//! RELAY-FORW, stops at the first bad option without a word and has no v6 FQDN option
//! (see ARCHITECTURE.md). Strict: a truncated or wrongly sized option fails the whole
//! message with its offset ([`WireError`]), so the engine counts it in
//! `pkt6-parse-failed` instead of answering a message it read only in part. Options it
//! has no type for are kept as [`Opt::Other`], byte for byte.
//!
//! # Lossless
//! Every datagram [`Packet::decode`] accepts is given back byte for byte by
//! [`Packet::encode`], with two exceptions, both forced by the types:
//! * a relay's relay-message option is encoded after its other options
//!   ([`Relay::inner`] keeps no position), so a relay that sent it earlier (RFC 8415 §9
//!   sets no order) comes back with its options reordered, each unchanged;
//! * a status message that is not UTF-8 is read lossily (U+FFFD for each bad
//!   sequence) and encoded as that text.
//!
//! `decode(encode(p)) == p` holds for every packet `decode` returns.
//!
//! # Encoding
//! Encoding never fails. An option's length field is 16 bits (RFC 8415 §21.1): the
//! caller keeps each option's data under 65,536 bytes (a datagram is smaller anyway);
//! a longer one would get a wrong length (debug builds assert). A [`Message`] never has
//! type 12 or 13 and a [`Relay`] always has one of them, and no [`Opt::Other`] has code
//! 9, as `decode` makes them; other values are written as they are.

use std::net::Ipv6Addr;

/// Relays nested at most (Kea's `HOP_COUNT_LIMIT`; RFC 8415 §7.6 says 8, Kea reads 32).
pub const MAX_RELAY_HOPS: usize = 32;

/// Message types (RFC 8415 §7.3).
pub mod msg {
    /// SOLICIT.
    pub const SOLICIT: u8 = 1;
    /// ADVERTISE.
    pub const ADVERTISE: u8 = 2;
    /// REQUEST.
    pub const REQUEST: u8 = 3;
    /// CONFIRM.
    pub const CONFIRM: u8 = 4;
    /// RENEW.
    pub const RENEW: u8 = 5;
    /// REBIND.
    pub const REBIND: u8 = 6;
    /// REPLY.
    pub const REPLY: u8 = 7;
    /// RELEASE.
    pub const RELEASE: u8 = 8;
    /// DECLINE.
    pub const DECLINE: u8 = 9;
    /// RECONFIGURE.
    pub const RECONFIGURE: u8 = 10;
    /// INFORMATION-REQUEST.
    pub const INFORMATION_REQUEST: u8 = 11;
    /// RELAY-FORW.
    pub const RELAY_FORW: u8 = 12;
    /// RELAY-REPL.
    pub const RELAY_REPL: u8 = 13;
}

/// Option codes (RFC 8415 §21 and the RFCs named).
pub mod code {
    /// OPTION_CLIENTID.
    pub const CLIENTID: u16 = 1;
    /// OPTION_SERVERID.
    pub const SERVERID: u16 = 2;
    /// OPTION_IA_NA.
    pub const IA_NA: u16 = 3;
    /// OPTION_IA_TA.
    pub const IA_TA: u16 = 4;
    /// OPTION_IAADDR.
    pub const IAADDR: u16 = 5;
    /// OPTION_ORO.
    pub const ORO: u16 = 6;
    /// OPTION_PREFERENCE.
    pub const PREFERENCE: u16 = 7;
    /// OPTION_ELAPSED_TIME.
    pub const ELAPSED_TIME: u16 = 8;
    /// OPTION_RELAY_MSG.
    pub const RELAY_MSG: u16 = 9;
    /// OPTION_AUTH.
    pub const AUTH: u16 = 11;
    /// OPTION_UNICAST.
    pub const UNICAST: u16 = 12;
    /// OPTION_STATUS_CODE.
    pub const STATUS_CODE: u16 = 13;
    /// OPTION_RAPID_COMMIT.
    pub const RAPID_COMMIT: u16 = 14;
    /// OPTION_USER_CLASS.
    pub const USER_CLASS: u16 = 15;
    /// OPTION_VENDOR_CLASS.
    pub const VENDOR_CLASS: u16 = 16;
    /// OPTION_VENDOR_OPTS.
    pub const VENDOR_OPTS: u16 = 17;
    /// OPTION_INTERFACE_ID.
    pub const INTERFACE_ID: u16 = 18;
    /// OPTION_RECONF_MSG.
    pub const RECONF_MSG: u16 = 19;
    /// OPTION_RECONF_ACCEPT.
    pub const RECONF_ACCEPT: u16 = 20;
    /// OPTION_DNS_SERVERS (RFC 3646).
    pub const DNS_SERVERS: u16 = 23;
    /// OPTION_DOMAIN_LIST (RFC 3646).
    pub const DOMAIN_LIST: u16 = 24;
    /// OPTION_IA_PD.
    pub const IA_PD: u16 = 25;
    /// OPTION_IAPREFIX.
    pub const IAPREFIX: u16 = 26;
    /// OPTION_SNTP_SERVERS (RFC 4075).
    pub const SNTP_SERVERS: u16 = 31;
    /// OPTION_INFORMATION_REFRESH_TIME.
    pub const INFORMATION_REFRESH_TIME: u16 = 32;
    /// OPTION_REMOTE_ID (RFC 4649).
    pub const REMOTE_ID: u16 = 37;
    /// OPTION_SUBSCRIBER_ID (RFC 4580).
    pub const SUBSCRIBER_ID: u16 = 38;
    /// OPTION_CLIENT_FQDN (RFC 4704).
    pub const CLIENT_FQDN: u16 = 39;
    /// OPTION_RSOO (RFC 6422).
    pub const RSOO: u16 = 66;
    /// OPTION_PD_EXCLUDE (RFC 6603).
    pub const PD_EXCLUDE: u16 = 67;
    /// OPTION_CLIENT_LINKLAYER_ADDR (RFC 6939).
    pub const CLIENT_LINKLAYER_ADDR: u16 = 79;
    /// OPTION_SOL_MAX_RT.
    pub const SOL_MAX_RT: u16 = 82;
    /// OPTION_INF_MAX_RT.
    pub const INF_MAX_RT: u16 = 83;
    /// OPTION_RELAY_SOURCE_PORT (RFC 8357).
    pub const RELAY_SOURCE_PORT: u16 = 135;
}

/// Status codes (RFC 8415 §21.13).
pub mod status {
    /// Success.
    pub const SUCCESS: u16 = 0;
    /// UnspecFail.
    pub const UNSPEC_FAIL: u16 = 1;
    /// NoAddrsAvail.
    pub const NO_ADDRS_AVAIL: u16 = 2;
    /// NoBinding.
    pub const NO_BINDING: u16 = 3;
    /// NotOnLink.
    pub const NOT_ON_LINK: u16 = 4;
    /// UseMulticast.
    pub const USE_MULTICAST: u16 = 5;
    /// NoPrefixAvail.
    pub const NO_PREFIX_AVAIL: u16 = 6;
}

/// Why a message could not be read. Offsets count from the start of the datagram.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Fewer bytes than the header or an option header needs.
    #[error("truncated at offset {at}: {need} more bytes needed")]
    Truncated {
        /// Where the missing bytes would start.
        at: usize,
        /// How many are missing.
        need: usize,
    },
    /// An option's length runs past its enclosing data.
    #[error("option {code} at offset {at} claims {len} bytes, only {left} remain")]
    Overrun {
        /// Option code.
        code: u16,
        /// Offset of the option header.
        at: usize,
        /// Its length field.
        len: usize,
        /// Bytes left in the enclosing data (after the option's header).
        left: usize,
    },
    /// A fixed-size or structured option with a length its format does not allow.
    #[error("option {code} at offset {at} has length {len}, {expected}")]
    BadLength {
        /// Option code.
        code: u16,
        /// Offset of the option header.
        at: usize,
        /// Its length.
        len: usize,
        /// What the format allows, in words ("must be 2", "at least 24").
        expected: &'static str,
    },
    /// A RELAY-FORW or RELAY-REPL without its relay-message option.
    #[error("relay message at offset {at} carries no relay-message option")]
    NoRelayMessage {
        /// Offset of the relay message.
        at: usize,
    },
    /// More than [`MAX_RELAY_HOPS`] relays nested.
    #[error("more than {MAX_RELAY_HOPS} relays nested")]
    TooDeep,
    /// A relay-message option outside a relay message (in a client message or inside
    /// another option), a second one in a relay, or options nested inside options
    /// deeper than `MAX_OPTION_NESTING` (8) levels.
    #[error("at offset {at}: {what}")]
    Malformed {
        /// Where.
        at: usize,
        /// What is wrong.
        what: &'static str,
    },
}

/// A datagram: a client's (or server's) message, or one relayed around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// A message between client and server (any type but 12 and 13).
    Client(Message),
    /// RELAY-FORW or RELAY-REPL around another packet.
    Relay(Relay),
}

/// A client/server message (RFC 8415 §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message type ([`msg`]).
    pub msg_type: u8,
    /// Transaction id: 24 bits, in the low three bytes.
    pub xid: u32,
    /// Options in wire order.
    pub options: Vec<Opt>,
}

/// A relay agent message (RFC 8415 §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// RELAY-FORW or RELAY-REPL.
    pub msg_type: u8,
    /// Hop count.
    pub hop_count: u8,
    /// Link address.
    pub link_addr: Ipv6Addr,
    /// Peer address.
    pub peer_addr: Ipv6Addr,
    /// The relay's options other than the relay-message option, in wire order.
    pub options: Vec<Opt>,
    /// The relay-message option's content. Encoded after `options`.
    pub inner: Box<Packet>,
}

/// An IA_NA or IA_PD (RFC 8415 §21.4, §21.21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ia {
    /// IAID.
    pub iaid: u32,
    /// T1, seconds.
    pub t1: u32,
    /// T2, seconds.
    pub t2: u32,
    /// IA options (IAADDR or IAPREFIX, status code, …).
    pub options: Vec<Opt>,
}

/// An IAADDR (RFC 8415 §21.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaAddr {
    /// The address.
    pub addr: Ipv6Addr,
    /// Preferred lifetime, seconds.
    pub preferred: u32,
    /// Valid lifetime, seconds.
    pub valid: u32,
    /// Its options (status code).
    pub options: Vec<Opt>,
}

/// An IAPREFIX (RFC 8415 §21.22).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaPrefix {
    /// Preferred lifetime, seconds.
    pub preferred: u32,
    /// Valid lifetime, seconds.
    pub valid: u32,
    /// Prefix length.
    pub prefix_len: u8,
    /// The prefix.
    pub prefix: Ipv6Addr,
    /// Its options (status code, RFC 6603 prefix exclude as [`Opt::Other`]).
    pub options: Vec<Opt>,
}

/// The Client FQDN option (RFC 4704 §4): flags, then a domain name in DNS wire form,
/// uncompressed; a partial name lacks the terminating root label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFqdn {
    /// Flags: 0x01 S, 0x02 O, 0x04 N.
    pub flags: u8,
    /// The name's wire bytes as sent (labels; a final zero byte when fully qualified).
    pub name: Vec<u8>,
}

impl ClientFqdn {
    /// S: the server performs the AAAA update.
    pub const S: u8 = 0x01;
    /// O: the server overrode the client's S.
    pub const O: u8 = 0x02;
    /// N: the server performs no updates.
    pub const N: u8 = 0x04;

    /// The name as text without a trailing dot, and whether it was fully qualified.
    /// `None` when the labels do not parse (a length running past the end).
    ///
    /// Also `None` for a zero (root) label before the end and for a length byte over 63
    /// (RFC 1035 §2.3.4; 0xC0 and up would be a compression pointer, which RFC 4704 §4.1
    /// forbids here). An empty name is `("", false)`, the root label alone `("", true)`.
    /// Labels are read as UTF-8, lossily, and joined with dots (a dot inside a label is
    /// not escaped: names with one are no host names anyway).
    pub fn text(&self) -> Option<(String, bool)> {
        let wire = &self.name;
        let mut labels: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        let mut i = 0;
        while i < wire.len() {
            let len = usize::from(wire[i]);
            if len == 0 {
                // The root label ends a fully qualified name; anywhere else it is junk.
                return (i + 1 == wire.len()).then(|| (labels.join("."), true));
            }
            if len > MAX_LABEL {
                return None;
            }
            let label = wire.get(i + 1..i + 1 + len)?;
            labels.push(String::from_utf8_lossy(label));
            i += 1 + len;
        }
        Some((labels.join("."), false))
    }

    /// The option for `name` (text, no trailing dot needed); `full` adds the root label.
    ///
    /// `name` is split on dots, one trailing dot ignored; `""` (or `"."`) is no label.
    /// The caller passes a DNS name: an empty label inside (`a..b`) is written as the
    /// zero byte it is, which [`ClientFqdn::text`] then refuses, and a label over 63
    /// bytes is cut to 63 so that its length byte stays a label length.
    pub fn from_text(flags: u8, name: &str, full: bool) -> ClientFqdn {
        let name = name.strip_suffix('.').unwrap_or(name);
        let mut wire = Vec::with_capacity(name.len() + 2);
        if !name.is_empty() {
            for label in name.split('.') {
                let label = &label.as_bytes()[..label.len().min(MAX_LABEL)];
                wire.push(label.len() as u8);
                wire.extend_from_slice(label);
            }
        }
        if full {
            wire.push(0);
        }
        ClientFqdn { flags, name: wire }
    }
}

/// One option. Structured where tern reads or writes it; anything else byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opt {
    /// 1: the client's DUID.
    ClientId(Vec<u8>),
    /// 2: the server's DUID.
    ServerId(Vec<u8>),
    /// 3: IA_NA.
    IaNa(Ia),
    /// 4: IA_TA (IAID and options; no T1/T2).
    IaTa {
        /// IAID.
        iaid: u32,
        /// Its options.
        options: Vec<Opt>,
    },
    /// 5: IAADDR.
    IaAddr(IaAddr),
    /// 6: requested option codes.
    Oro(Vec<u16>),
    /// 7: server preference.
    Preference(u8),
    /// 8: elapsed time, hundredths of a second.
    ElapsedTime(u16),
    /// 12: the server's unicast address.
    Unicast(Ipv6Addr),
    /// 13: a status code and its message (UTF-8, read lossily).
    Status {
        /// The code ([`status`]).
        code: u16,
        /// The message.
        message: String,
    },
    /// 14: rapid commit (empty).
    RapidCommit,
    /// 15: user class data items.
    UserClass(Vec<Vec<u8>>),
    /// 16: vendor class: enterprise number and data items.
    VendorClass {
        /// Enterprise number.
        enterprise: u32,
        /// Data items.
        data: Vec<Vec<u8>>,
    },
    /// 17: vendor-specific information: enterprise number and the raw sub-options.
    VendorOpts {
        /// Enterprise number.
        enterprise: u32,
        /// The option-data after the enterprise number.
        data: Vec<u8>,
    },
    /// 18: interface id (opaque).
    InterfaceId(Vec<u8>),
    /// 20: reconfigure accept (empty).
    ReconfAccept,
    /// 25: IA_PD.
    IaPd(Ia),
    /// 26: IAPREFIX.
    IaPrefix(IaPrefix),
    /// 37: remote id: enterprise number and the id.
    RemoteId {
        /// Enterprise number.
        enterprise: u32,
        /// The remote id.
        id: Vec<u8>,
    },
    /// 39: client FQDN.
    ClientFqdn(ClientFqdn),
    /// 79: client link-layer address: hardware type and address.
    ClientLinkLayer {
        /// Hardware type (IANA ARP parameters; 1 Ethernet).
        htype: u16,
        /// The address.
        addr: Vec<u8>,
    },
    /// 135: the relay's source port (RFC 8357).
    RelaySourcePort(u16),
    /// Any other option (and 9 never: it is [`Relay::inner`]), data as on the wire.
    Other {
        /// Option code.
        code: u16,
        /// Option data.
        data: Vec<u8>,
    },
}

impl Opt {
    /// The option's code.
    pub fn code(&self) -> u16 {
        match self {
            Opt::ClientId(_) => code::CLIENTID,
            Opt::ServerId(_) => code::SERVERID,
            Opt::IaNa(_) => code::IA_NA,
            Opt::IaTa { .. } => code::IA_TA,
            Opt::IaAddr(_) => code::IAADDR,
            Opt::Oro(_) => code::ORO,
            Opt::Preference(_) => code::PREFERENCE,
            Opt::ElapsedTime(_) => code::ELAPSED_TIME,
            Opt::Unicast(_) => code::UNICAST,
            Opt::Status { .. } => code::STATUS_CODE,
            Opt::RapidCommit => code::RAPID_COMMIT,
            Opt::UserClass(_) => code::USER_CLASS,
            Opt::VendorClass { .. } => code::VENDOR_CLASS,
            Opt::VendorOpts { .. } => code::VENDOR_OPTS,
            Opt::InterfaceId(_) => code::INTERFACE_ID,
            Opt::ReconfAccept => code::RECONF_ACCEPT,
            Opt::IaPd(_) => code::IA_PD,
            Opt::IaPrefix(_) => code::IAPREFIX,
            Opt::RemoteId { .. } => code::REMOTE_ID,
            Opt::ClientFqdn(_) => code::CLIENT_FQDN,
            Opt::ClientLinkLayer { .. } => code::CLIENT_LINKLAYER_ADDR,
            Opt::RelaySourcePort(_) => code::RELAY_SOURCE_PORT,
            Opt::Other { code, .. } => *code,
        }
    }
}

impl Packet {
    /// Reads a datagram. Errors say where and what; nothing is read in part.
    pub fn decode(buf: &[u8]) -> Result<Packet, WireError> {
        decode_packet(buf, 0, 0)
    }

    /// The datagram for this packet.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        encode_packet(self, &mut out);
        out
    }

    /// The client's message at the centre of the relays.
    pub fn client(&self) -> &Message {
        let mut p = self;
        loop {
            match p {
                Packet::Client(m) => return m,
                Packet::Relay(r) => p = &r.inner,
            }
        }
    }

    /// The relays from the outermost (the one that sent the datagram to us) inwards.
    pub fn relays(&self) -> Vec<&Relay> {
        let mut relays = Vec::new();
        let mut p = self;
        while let Packet::Relay(r) = p {
            relays.push(r);
            p = &r.inner;
        }
        relays
    }
}

impl Message {
    /// The first option with this code.
    pub fn opt(&self, code: u16) -> Option<&Opt> {
        find(&self.options, code)
    }

    /// The client's DUID.
    pub fn client_id(&self) -> Option<&[u8]> {
        self.options.iter().find_map(|o| match o {
            Opt::ClientId(duid) => Some(duid.as_slice()),
            _ => None,
        })
    }

    /// The server DUID the message names.
    pub fn server_id(&self) -> Option<&[u8]> {
        self.options.iter().find_map(|o| match o {
            Opt::ServerId(duid) => Some(duid.as_slice()),
            _ => None,
        })
    }

    /// How many options with this code it carries.
    pub fn count(&self, code: u16) -> usize {
        self.options.iter().filter(|o| o.code() == code).count()
    }
}

/// The first option with this code in `opts`.
pub fn find(opts: &[Opt], code: u16) -> Option<&Opt> {
    opts.iter().find(|o| o.code() == code)
}

/// Reads a sequence of options; `base` is the offset of `buf` in the datagram (for
/// errors).
///
/// The options must tile `buf` exactly. A relay-message option (9) here is
/// [`WireError::Malformed`]: only a relay message carries one, and [`Packet::decode`]
/// reads it there.
pub fn decode_options(buf: &[u8], base: usize) -> Result<Vec<Opt>, WireError> {
    decode_list(buf, base, 0)
}

/// Appends the options' wire form to `out`, in the order given.
///
/// Each option's data must stay under 65,536 bytes (see the module's doc).
pub fn encode_options(opts: &[Opt], out: &mut Vec<u8>) {
    for opt in opts {
        encode_opt(opt, out);
    }
}

/// A client message's header: msg-type, transaction-id (RFC 8415 §8).
const CLIENT_HEADER: usize = 4;
/// A relay message's header: msg-type, hop-count, link-address, peer-address (§9).
const RELAY_HEADER: usize = 34;
/// An option's header: option-code, option-len (§21.1).
const OPT_HEADER: usize = 4;
/// A DNS label's longest length (RFC 1035 §2.3.4).
const MAX_LABEL: usize = 63;
/// How deep option lists nest inside options (IA_NA → IAADDR → status code is 2). The
/// limit bounds the recursion: a 64 KiB datagram of nested IA_TAs would otherwise be
/// read 8,000 calls deep, more than a thread's stack.
const MAX_OPTION_NESTING: usize = 8;

/// `buf` is a packet at offset `base` of the datagram, inside `relays` relays.
fn decode_packet(buf: &[u8], base: usize, relays: usize) -> Result<Packet, WireError> {
    let Some(&msg_type) = buf.first() else {
        return Err(WireError::Truncated {
            at: base,
            need: CLIENT_HEADER,
        });
    };
    if msg_type != msg::RELAY_FORW && msg_type != msg::RELAY_REPL {
        if buf.len() < CLIENT_HEADER {
            return Err(truncated(buf, base, CLIENT_HEADER));
        }
        return Ok(Packet::Client(Message {
            msg_type,
            xid: u32::from_be_bytes([0, buf[1], buf[2], buf[3]]),
            options: decode_list(&buf[CLIENT_HEADER..], base + CLIENT_HEADER, 0)?,
        }));
    }
    if relays == MAX_RELAY_HOPS {
        return Err(WireError::TooDeep);
    }
    if buf.len() < RELAY_HEADER {
        return Err(truncated(buf, base, RELAY_HEADER));
    }
    let mut options = Vec::new();
    let mut inner = None;
    // In wire order, so the first error in the datagram is the one reported.
    for raw in RawOptions::new(&buf[RELAY_HEADER..], base + RELAY_HEADER) {
        let (at, code, data) = raw?;
        if code != code::RELAY_MSG {
            options.push(decode_opt(at, code, data, 0)?);
        } else if inner.is_some() {
            // One relay message has one relayed message (RFC 8415 §9.1): a second
            // would have nowhere to go.
            return Err(WireError::Malformed {
                at,
                what: "a second relay-message option",
            });
        } else {
            inner = Some(decode_packet(data, at + OPT_HEADER, relays + 1)?);
        }
    }
    let inner = inner.ok_or(WireError::NoRelayMessage { at: base })?;
    Ok(Packet::Relay(Relay {
        msg_type,
        hop_count: buf[1],
        link_addr: addr(&buf[2..18]),
        peer_addr: addr(&buf[18..34]),
        options,
        inner: Box::new(inner),
    }))
}

/// `buf` (at `base`) is shorter than the `need` bytes of a header.
fn truncated(buf: &[u8], base: usize, need: usize) -> WireError {
    WireError::Truncated {
        at: base + buf.len(),
        need: need - buf.len(),
    }
}

/// An option list at `depth` levels inside options (0: a message's own options).
fn decode_list(buf: &[u8], base: usize, depth: usize) -> Result<Vec<Opt>, WireError> {
    let mut opts = Vec::new();
    for raw in RawOptions::new(buf, base) {
        let (at, code, data) = raw?;
        if code == code::RELAY_MSG {
            return Err(WireError::Malformed {
                at,
                what: "a relay-message option outside a relay message",
            });
        }
        opts.push(decode_opt(at, code, data, depth)?);
    }
    Ok(opts)
}

/// The option headers of a list: (offset of the header, code, data). The first error
/// ends it.
struct RawOptions<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> RawOptions<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        RawOptions { buf, pos: 0, base }
    }
}

impl<'a> Iterator for RawOptions<'a> {
    type Item = Result<(usize, u16, &'a [u8]), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.buf[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let at = self.base + self.pos;
        // Whatever happens below, an error ends the list.
        self.pos = self.buf.len();
        if rest.len() < OPT_HEADER {
            return Some(Err(truncated(rest, at, OPT_HEADER)));
        }
        let code = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let left = rest.len() - OPT_HEADER;
        if len > left {
            return Some(Err(WireError::Overrun {
                code,
                at,
                len,
                left,
            }));
        }
        self.pos = at - self.base + OPT_HEADER + len;
        Some(Ok((at, code, &rest[OPT_HEADER..OPT_HEADER + len])))
    }
}

/// One option's data (`at`: its header's offset; `depth`: the list it is in).
fn decode_opt(at: usize, code: u16, data: &[u8], depth: usize) -> Result<Opt, WireError> {
    let bad = |expected: &'static str| WireError::BadLength {
        code,
        at,
        len: data.len(),
        expected,
    };
    let exactly = |n: usize, expected: &'static str| {
        if data.len() == n {
            Ok(())
        } else {
            Err(bad(expected))
        }
    };
    let at_least = |n: usize, expected: &'static str| {
        if data.len() >= n {
            Ok(())
        } else {
            Err(bad(expected))
        }
    };
    // The options inside this one, from byte `from` of its data.
    let nested = |from: usize| {
        if depth == MAX_OPTION_NESTING {
            return Err(WireError::Malformed {
                at,
                what: "options nested too deep",
            });
        }
        decode_list(&data[from..], at + OPT_HEADER + from, depth + 1)
    };
    Ok(match code {
        // DUIDs of any length: the engine checks them (RFC 8415 §11.1).
        code::CLIENTID => Opt::ClientId(data.to_vec()),
        code::SERVERID => Opt::ServerId(data.to_vec()),
        code::IA_NA | code::IA_PD => {
            // §21.4, §21.21: IAID, T1, T2, IA options.
            at_least(12, "at least 12")?;
            let ia = Ia {
                iaid: be32(&data[0..4]),
                t1: be32(&data[4..8]),
                t2: be32(&data[8..12]),
                options: nested(12)?,
            };
            if code == code::IA_NA {
                Opt::IaNa(ia)
            } else {
                Opt::IaPd(ia)
            }
        }
        code::IA_TA => {
            // §21.5: IAID, IA options.
            at_least(4, "at least 4")?;
            Opt::IaTa {
                iaid: be32(&data[0..4]),
                options: nested(4)?,
            }
        }
        code::IAADDR => {
            // §21.6: address, preferred and valid lifetimes, options.
            at_least(24, "at least 24")?;
            Opt::IaAddr(IaAddr {
                addr: addr(&data[0..16]),
                preferred: be32(&data[16..20]),
                valid: be32(&data[20..24]),
                options: nested(24)?,
            })
        }
        code::IAPREFIX => {
            // §21.22: lifetimes, prefix length, prefix, options.
            at_least(25, "at least 25")?;
            Opt::IaPrefix(IaPrefix {
                preferred: be32(&data[0..4]),
                valid: be32(&data[4..8]),
                prefix_len: data[8],
                prefix: addr(&data[9..25]),
                options: nested(25)?,
            })
        }
        code::ORO => {
            // §21.7: a list of 2-byte codes.
            if !data.len().is_multiple_of(2) {
                return Err(bad("even"));
            }
            Opt::Oro(data.chunks_exact(2).map(be16).collect())
        }
        code::PREFERENCE => {
            exactly(1, "must be 1")?;
            Opt::Preference(data[0])
        }
        code::ELAPSED_TIME => {
            exactly(2, "must be 2")?;
            Opt::ElapsedTime(be16(data))
        }
        code::UNICAST => {
            exactly(16, "must be 16")?;
            Opt::Unicast(addr(data))
        }
        code::STATUS_CODE => {
            // §21.13: the code, then a UTF-8 message of the remaining length.
            at_least(2, "at least 2")?;
            Opt::Status {
                code: be16(&data[0..2]),
                message: String::from_utf8_lossy(&data[2..]).into_owned(),
            }
        }
        code::RAPID_COMMIT => {
            exactly(0, "must be 0")?;
            Opt::RapidCommit
        }
        code::USER_CLASS => Opt::UserClass(data_items(data).ok_or_else(|| bad(ITEMS))?),
        code::VENDOR_CLASS => {
            // §21.16: enterprise number, then data items as in the user class.
            at_least(4, "at least 4")?;
            Opt::VendorClass {
                enterprise: be32(&data[0..4]),
                data: data_items(&data[4..]).ok_or_else(|| bad(ITEMS))?,
            }
        }
        code::VENDOR_OPTS => {
            // §21.17: enterprise number, then the vendor's own sub-options.
            at_least(4, "at least 4")?;
            Opt::VendorOpts {
                enterprise: be32(&data[0..4]),
                data: data[4..].to_vec(),
            }
        }
        code::INTERFACE_ID => Opt::InterfaceId(data.to_vec()),
        code::RECONF_ACCEPT => {
            exactly(0, "must be 0")?;
            Opt::ReconfAccept
        }
        code::REMOTE_ID => {
            // RFC 4649 §3: enterprise number, then the id.
            at_least(4, "at least 4")?;
            Opt::RemoteId {
                enterprise: be32(&data[0..4]),
                id: data[4..].to_vec(),
            }
        }
        code::CLIENT_FQDN => {
            // RFC 4704 §4: flags, then the name (read by ClientFqdn::text).
            at_least(1, "at least 1")?;
            Opt::ClientFqdn(ClientFqdn {
                flags: data[0],
                name: data[1..].to_vec(),
            })
        }
        code::CLIENT_LINKLAYER_ADDR => {
            // RFC 6939 §4: hardware type, then the address.
            at_least(2, "at least 2")?;
            Opt::ClientLinkLayer {
                htype: be16(&data[0..2]),
                addr: data[2..].to_vec(),
            }
        }
        code::RELAY_SOURCE_PORT => {
            // RFC 8357 §5.2: the port.
            exactly(2, "must be 2")?;
            Opt::RelaySourcePort(be16(data))
        }
        _ => Opt::Other {
            code,
            data: data.to_vec(),
        },
    })
}

/// What a user or vendor class's data must be.
const ITEMS: &str = "data items (2-byte length, data) that fill it exactly";

/// User or vendor class data items (RFC 8415 §21.15): each a 2-byte length and that
/// many bytes, tiling `data`; `None` when they do not.
fn data_items(mut data: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut items = Vec::new();
    while !data.is_empty() {
        let len = usize::from(be16(data.get(0..2)?));
        items.push(data.get(2..2 + len)?.to_vec());
        data = &data[2 + len..];
    }
    Some(items)
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// An address from exactly 16 bytes.
fn addr(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(b);
    Ipv6Addr::from(a)
}

fn encode_packet(p: &Packet, out: &mut Vec<u8>) {
    match p {
        Packet::Client(m) => {
            out.push(m.msg_type);
            // The transaction id is 3 bytes (§8): its low 24 bits.
            out.extend_from_slice(&m.xid.to_be_bytes()[1..]);
            encode_options(&m.options, out);
        }
        Packet::Relay(r) => {
            out.push(r.msg_type);
            out.push(r.hop_count);
            out.extend_from_slice(&r.link_addr.octets());
            out.extend_from_slice(&r.peer_addr.octets());
            encode_options(&r.options, out);
            put_opt(out, code::RELAY_MSG, |out| encode_packet(&r.inner, out));
        }
    }
}

/// Writes an option header, the data `body` appends, and then the data's length.
fn put_opt(out: &mut Vec<u8>, code: u16, body: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(&code.to_be_bytes());
    let len_at = out.len();
    out.extend_from_slice(&[0, 0]);
    body(out);
    let len = out.len() - len_at - 2;
    debug_assert!(len <= usize::from(u16::MAX), "option {code}: {len} bytes");
    out[len_at..len_at + 2].copy_from_slice(&(len as u16).to_be_bytes());
}

/// Data items, each with its 2-byte length (RFC 8415 §21.15).
fn put_items(out: &mut Vec<u8>, items: &[Vec<u8>]) {
    for item in items {
        debug_assert!(item.len() <= usize::from(u16::MAX));
        out.extend_from_slice(&(item.len() as u16).to_be_bytes());
        out.extend_from_slice(item);
    }
}

fn encode_opt(opt: &Opt, out: &mut Vec<u8>) {
    put_opt(out, opt.code(), |out| match opt {
        Opt::ClientId(b) | Opt::ServerId(b) | Opt::InterfaceId(b) => out.extend_from_slice(b),
        Opt::IaNa(ia) | Opt::IaPd(ia) => {
            out.extend_from_slice(&ia.iaid.to_be_bytes());
            out.extend_from_slice(&ia.t1.to_be_bytes());
            out.extend_from_slice(&ia.t2.to_be_bytes());
            encode_options(&ia.options, out);
        }
        Opt::IaTa { iaid, options } => {
            out.extend_from_slice(&iaid.to_be_bytes());
            encode_options(options, out);
        }
        Opt::IaAddr(a) => {
            out.extend_from_slice(&a.addr.octets());
            out.extend_from_slice(&a.preferred.to_be_bytes());
            out.extend_from_slice(&a.valid.to_be_bytes());
            encode_options(&a.options, out);
        }
        Opt::IaPrefix(p) => {
            out.extend_from_slice(&p.preferred.to_be_bytes());
            out.extend_from_slice(&p.valid.to_be_bytes());
            out.push(p.prefix_len);
            out.extend_from_slice(&p.prefix.octets());
            encode_options(&p.options, out);
        }
        Opt::Oro(codes) => {
            for c in codes {
                out.extend_from_slice(&c.to_be_bytes());
            }
        }
        Opt::Preference(p) => out.push(*p),
        Opt::ElapsedTime(t) => out.extend_from_slice(&t.to_be_bytes()),
        Opt::Unicast(a) => out.extend_from_slice(&a.octets()),
        Opt::Status { code, message } => {
            out.extend_from_slice(&code.to_be_bytes());
            out.extend_from_slice(message.as_bytes());
        }
        Opt::RapidCommit | Opt::ReconfAccept => {}
        Opt::UserClass(items) => put_items(out, items),
        Opt::VendorClass { enterprise, data } => {
            out.extend_from_slice(&enterprise.to_be_bytes());
            put_items(out, data);
        }
        Opt::VendorOpts { enterprise, data } => {
            out.extend_from_slice(&enterprise.to_be_bytes());
            out.extend_from_slice(data);
        }
        Opt::RemoteId { enterprise, id } => {
            out.extend_from_slice(&enterprise.to_be_bytes());
            out.extend_from_slice(id);
        }
        Opt::ClientFqdn(f) => {
            out.push(f.flags);
            out.extend_from_slice(&f.name);
        }
        Opt::ClientLinkLayer { htype, addr } => {
            out.extend_from_slice(&htype.to_be_bytes());
            out.extend_from_slice(addr);
        }
        Opt::RelaySourcePort(p) => out.extend_from_slice(&p.to_be_bytes()),
        Opt::Other { data, .. } => out.extend_from_slice(data),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// An option in wire form, written by hand from RFC 8415 §21.1.
    fn opt(code: u16, data: &[u8]) -> Vec<u8> {
        let mut v = code.to_be_bytes().to_vec();
        v.extend_from_slice(&(data.len() as u16).to_be_bytes());
        v.extend_from_slice(data);
        v
    }

    /// A relay header (§9) around `inner` as its relay-message option, by hand.
    fn relay_bytes(hop: u8, options: &[u8], inner: &[u8]) -> Vec<u8> {
        let mut v = vec![msg::RELAY_FORW, hop];
        v.extend_from_slice(&ip("2001:db8:1::1").octets());
        v.extend_from_slice(&ip("fe80::1").octets());
        v.extend_from_slice(options);
        v.extend_from_slice(&opt(code::RELAY_MSG, inner));
        v
    }

    /// A SOLICIT header, xid 0x010203.
    const SOLICIT_HDR: [u8; 4] = [msg::SOLICIT, 1, 2, 3];

    fn solicit_with(options: &[u8]) -> Vec<u8> {
        [&SOLICIT_HDR[..], options].concat()
    }

    fn err(buf: &[u8]) -> WireError {
        Packet::decode(buf).expect_err("must not decode")
    }

    /// Decodes to `expected` and encodes back to the same bytes.
    fn check(wire: &[u8], expected: &Packet) {
        let p = Packet::decode(wire).expect("decodes");
        assert_eq!(&p, expected);
        assert_eq!(p.encode(), wire, "encode is not byte-exact");
    }

    const DUID: [u8; 10] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 1];

    #[test]
    fn a_solicit_with_every_kind_of_option_decodes_from_hand_written_bytes_and_back() {
        #[rustfmt::skip]
        let wire: Vec<u8> = [
            &[1, 0x12, 0x34, 0x56][..],                  // SOLICIT, xid 0x123456
            &[0, 1, 0, 10, 0, 3, 0, 1, 2, 0, 0, 0, 0, 1], // CLIENTID: DUID-LL
            &[0, 8, 0, 2, 0, 100],                       // ELAPSED_TIME 1 s
            &[0, 6, 0, 4, 0, 23, 0, 24],                 // ORO: DNS servers, domain list
            &[0, 3, 0, 40, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], // IA_NA 1, T1 T2 0
            &[0, 5, 0, 24, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10],
            &[0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20],       //   IAADDR hint, 3600 s, 7200 s
            &[0, 25, 0, 41, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0], // IA_PD 2
            &[0, 26, 0, 25, 0, 0, 0, 0, 0, 0, 0, 0, 56], //   IAPREFIX hint, /56
            &[0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0, 14, 0, 0],                              // RAPID_COMMIT
            &[0, 39, 0, 6, 1, 4, b'h', b'o', b's', b't'], // CLIENT_FQDN S, "host" partial
            &[0x04, 0x57, 0, 2, 0xde, 0xad],             // code 1111, unknown
        ]
        .concat();
        let expected = Packet::Client(Message {
            msg_type: msg::SOLICIT,
            xid: 0x123456,
            options: vec![
                Opt::ClientId(DUID.to_vec()),
                Opt::ElapsedTime(100),
                Opt::Oro(vec![code::DNS_SERVERS, code::DOMAIN_LIST]),
                Opt::IaNa(Ia {
                    iaid: 1,
                    t1: 0,
                    t2: 0,
                    options: vec![Opt::IaAddr(IaAddr {
                        addr: ip("2001:db8::10"),
                        preferred: 3600,
                        valid: 7200,
                        options: vec![],
                    })],
                }),
                Opt::IaPd(Ia {
                    iaid: 2,
                    t1: 0,
                    t2: 0,
                    options: vec![Opt::IaPrefix(IaPrefix {
                        preferred: 0,
                        valid: 0,
                        prefix_len: 56,
                        prefix: ip("2001:db8:ff00::"),
                        options: vec![],
                    })],
                }),
                Opt::RapidCommit,
                Opt::ClientFqdn(ClientFqdn::from_text(ClientFqdn::S, "host", false)),
                Opt::Other {
                    code: 1111,
                    data: vec![0xde, 0xad],
                },
            ],
        });
        check(&wire, &expected);
        let p = Packet::decode(&wire).unwrap();
        assert_eq!(p.client().client_id(), Some(&DUID[..]));
        assert_eq!(p.client().server_id(), None);
        assert!(p.relays().is_empty());
        assert_eq!(p.client().count(code::IA_NA), 1);
        let Some(Opt::ClientFqdn(f)) = p.client().opt(code::CLIENT_FQDN) else {
            panic!("no FQDN")
        };
        assert_eq!(f.text(), Some(("host".to_string(), false)));
        // Each variant's code is the one it was read from.
        for (o, c) in p
            .client()
            .options
            .iter()
            .zip([1, 8, 6, 3, 25, 14, 39, 1111])
        {
            assert_eq!(o.code(), c);
        }
    }

    #[test]
    fn an_advertise_carries_status_codes_inside_ia_na_ia_pd_and_iaprefix() {
        #[rustfmt::skip]
        let wire: Vec<u8> = [
            &[2, 0xab, 0xcd, 0xef][..],                           // ADVERTISE
            &[0, 2, 0, 10, 0, 3, 0, 1, 2, 0, 0, 0, 0, 0xfe],      // SERVERID
            &[0, 1, 0, 10, 0, 3, 0, 1, 2, 0, 0, 0, 0, 1],         // CLIENTID
            &[0, 7, 0, 1, 255],                                   // PREFERENCE 255
            &[0, 3, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],   // IA_NA 1
            &[0, 13, 0, 6, 0, 2, b'n', b'o', b'n', b'e'],         //   NoAddrsAvail "none"
            &[0, 25, 0, 55, 0, 0, 0, 2, 0, 0, 7, 8, 0, 0, 0x0b, 0x40], // IA_PD 2, 1800, 2880
            &[0, 26, 0, 33, 0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20, 56], //   IAPREFIX /56
            &[0x20, 0x01, 0x0d, 0xb8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0, 13, 0, 4, 0, 0, b'o', b'k'],                     //     Success "ok"
            &[0, 13, 0, 2, 0, 0],                                 //   Success, no text
        ]
        .concat();
        let status = |code, m: &str| Opt::Status {
            code,
            message: m.to_string(),
        };
        let expected = Packet::Client(Message {
            msg_type: msg::ADVERTISE,
            xid: 0xabcdef,
            options: vec![
                Opt::ServerId(vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 0xfe]),
                Opt::ClientId(DUID.to_vec()),
                Opt::Preference(255),
                Opt::IaNa(Ia {
                    iaid: 1,
                    t1: 0,
                    t2: 0,
                    options: vec![status(status::NO_ADDRS_AVAIL, "none")],
                }),
                Opt::IaPd(Ia {
                    iaid: 2,
                    t1: 1800,
                    t2: 2880,
                    options: vec![
                        Opt::IaPrefix(IaPrefix {
                            preferred: 3600,
                            valid: 7200,
                            prefix_len: 56,
                            prefix: ip("2001:db8:100::"),
                            options: vec![status(status::SUCCESS, "ok")],
                        }),
                        status(status::SUCCESS, ""),
                    ],
                }),
            ],
        });
        check(&wire, &expected);
        let p = Packet::decode(&wire).unwrap();
        assert_eq!(
            p.client().server_id(),
            Some(&[0, 3, 0, 1, 2, 0, 0, 0, 0, 0xfe][..])
        );
        assert_eq!(p.client().client_id(), Some(&DUID[..]));
    }

    #[test]
    fn a_reply_with_the_other_structured_options_round_trips() {
        let p = Packet::Client(Message {
            msg_type: msg::REPLY,
            xid: 7,
            options: vec![
                Opt::Unicast(ip("2001:db8::1")),
                Opt::UserClass(vec![b"a".to_vec(), vec![], b"bcd".to_vec()]),
                Opt::UserClass(vec![]),
                Opt::VendorClass {
                    enterprise: 4491,
                    data: vec![b"docsis".to_vec()],
                },
                Opt::VendorOpts {
                    enterprise: 4491,
                    data: vec![0, 1, 0, 0],
                },
                Opt::ReconfAccept,
                Opt::IaTa {
                    iaid: 9,
                    options: vec![Opt::IaAddr(IaAddr {
                        addr: ip("fd00::9"),
                        preferred: 1,
                        valid: 2,
                        options: vec![Opt::Status {
                            code: status::NOT_ON_LINK,
                            message: "elsewhere".into(),
                        }],
                    })],
                },
                Opt::ClientLinkLayer {
                    htype: 1,
                    addr: vec![2, 0, 0, 0, 0, 1],
                },
                Opt::Other {
                    code: code::DNS_SERVERS,
                    data: ip("2001:db8::53").octets().to_vec(),
                },
            ],
        });
        let wire = p.encode();
        assert_eq!(Packet::decode(&wire), Ok(p));
        // The user class's items on the wire (§21.15): length, data, each.
        let uc = opt(
            code::USER_CLASS,
            &[0, 1, b'a', 0, 0, 0, 3, b'b', b'c', b'd'],
        );
        assert_eq!(&wire[24..24 + uc.len()], &uc[..]);
    }

    /// A SOLICIT with a client id and an IA_NA, by hand (34 bytes).
    fn inner_solicit() -> Vec<u8> {
        [
            &SOLICIT_HDR[..],
            &opt(code::CLIENTID, &DUID),
            &opt(code::IA_NA, &[0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]),
        ]
        .concat()
    }

    fn inner_message() -> Message {
        Message {
            msg_type: msg::SOLICIT,
            xid: 0x010203,
            options: vec![
                Opt::ClientId(DUID.to_vec()),
                Opt::IaNa(Ia {
                    iaid: 5,
                    t1: 0,
                    t2: 0,
                    options: vec![],
                }),
            ],
        }
    }

    #[test]
    fn a_relay_forw_keeps_the_relayed_solicit_whole() {
        let options = [
            opt(code::INTERFACE_ID, b"eth0"),
            opt(code::REMOTE_ID, &[0, 0, 0x0d, 0xe9, 1, 2, 3, 4]),
        ]
        .concat();
        let wire = relay_bytes(0, &options, &inner_solicit());
        assert_eq!(wire.len(), 34 + 8 + 12 + 4 + 34);
        let expected = Packet::Relay(Relay {
            msg_type: msg::RELAY_FORW,
            hop_count: 0,
            link_addr: ip("2001:db8:1::1"),
            peer_addr: ip("fe80::1"),
            options: vec![
                Opt::InterfaceId(b"eth0".to_vec()),
                Opt::RemoteId {
                    enterprise: 3561,
                    id: vec![1, 2, 3, 4],
                },
            ],
            inner: Box::new(Packet::Client(inner_message())),
        });
        check(&wire, &expected);
        let p = Packet::decode(&wire).unwrap();
        assert_eq!(p.client(), &inner_message());
        assert_eq!(p.client().client_id(), Some(&DUID[..]));
        assert_eq!(p.relays().len(), 1);
        assert_eq!(p.relays()[0].options.len(), 2);
    }

    #[test]
    fn nested_relays_are_listed_outermost_first_and_the_client_is_the_innermost() {
        // The relay nearest the client has hop count 0 (RFC 8415 §19.1.1).
        let mut wire = inner_solicit();
        for hop in 0..3 {
            wire = relay_bytes(hop, &opt(code::INTERFACE_ID, &[hop]), &wire);
        }
        let p = Packet::decode(&wire).unwrap();
        let hops: Vec<u8> = p.relays().iter().map(|r| r.hop_count).collect();
        assert_eq!(hops, [2, 1, 0]);
        for r in p.relays() {
            assert_eq!(r.options, [Opt::InterfaceId(vec![r.hop_count])]);
        }
        assert_eq!(p.client(), &inner_message());
        assert_eq!(p.encode(), wire);
    }

    fn relays_around_solicit(n: usize) -> Vec<u8> {
        (0..n).fold(inner_solicit(), |w, i| relay_bytes(i as u8, &[], &w))
    }

    #[test]
    fn thirty_two_relays_decode_and_thirty_three_are_too_deep() {
        let p = Packet::decode(&relays_around_solicit(MAX_RELAY_HOPS)).unwrap();
        assert_eq!(p.relays().len(), 32);
        assert_eq!(p.client(), &inner_message());
        assert_eq!(p.encode(), relays_around_solicit(32));
        assert_eq!(
            err(&relays_around_solicit(MAX_RELAY_HOPS + 1)),
            WireError::TooDeep
        );
    }

    #[test]
    fn short_headers_are_truncated() {
        assert_eq!(err(&[]), WireError::Truncated { at: 0, need: 4 });
        assert_eq!(err(&[1, 0]), WireError::Truncated { at: 2, need: 2 });
        assert_eq!(err(&[12; 10]), WireError::Truncated { at: 10, need: 24 });
        // A relay-message option holding no message at all.
        let mut w = relay_bytes(0, &[], &[]);
        assert_eq!(err(&w), WireError::Truncated { at: 38, need: 4 });
        w = relay_bytes(0, &[], &[13, 0, 0]);
        assert_eq!(err(&w), WireError::Truncated { at: 41, need: 31 });
        // A message of only its header is one without options.
        let p = Packet::decode(&SOLICIT_HDR).unwrap();
        assert!(p.client().options.is_empty());
    }

    #[test]
    fn an_option_header_cut_short_is_truncated() {
        let w = solicit_with(&[&opt(code::RAPID_COMMIT, &[])[..], &[0, 1, 0]].concat());
        assert_eq!(err(&w), WireError::Truncated { at: 11, need: 1 });
        let w = solicit_with(&[0]);
        assert_eq!(err(&w), WireError::Truncated { at: 5, need: 3 });
    }

    #[test]
    fn an_option_longer_than_what_is_left_overruns() {
        let w = solicit_with(&[0, 1, 0, 20, 1, 2, 3]);
        assert_eq!(
            err(&w),
            WireError::Overrun {
                code: 1,
                at: 4,
                len: 20,
                left: 3
            }
        );
        // Inside an IA_NA the enclosing data is the IA's, not the datagram's.
        let ia = [&[0u8; 12][..], &[0, 13, 0, 9, 0, 0]].concat();
        let w = solicit_with(&[opt(code::IA_NA, &ia), opt(code::RAPID_COMMIT, &[])].concat());
        assert_eq!(
            err(&w),
            WireError::Overrun {
                code: 13,
                at: 20,
                len: 9,
                left: 2
            }
        );
    }

    #[test]
    fn a_preference_of_length_2_is_bad_and_does_not_swallow_the_next_option() {
        let w = solicit_with(
            &[
                opt(code::PREFERENCE, &[255, 0]),
                opt(code::ELAPSED_TIME, &[0, 0]),
            ]
            .concat(),
        );
        assert_eq!(
            err(&w),
            WireError::BadLength {
                code: code::PREFERENCE,
                at: 4,
                len: 2,
                expected: "must be 1"
            }
        );
    }

    #[test]
    fn a_status_code_of_length_1_is_bad_without_a_panic() {
        let w = solicit_with(&opt(code::STATUS_CODE, &[0]));
        assert_eq!(
            err(&w),
            WireError::BadLength {
                code: code::STATUS_CODE,
                at: 4,
                len: 1,
                expected: "at least 2"
            }
        );
    }

    #[test]
    fn every_fixed_or_minimum_size_is_checked() {
        let cases: &[(u16, usize, &str)] = &[
            (code::PREFERENCE, 0, "must be 1"),
            (code::ELAPSED_TIME, 1, "must be 2"),
            (code::ELAPSED_TIME, 3, "must be 2"),
            (code::UNICAST, 15, "must be 16"),
            (code::UNICAST, 17, "must be 16"),
            (code::RAPID_COMMIT, 1, "must be 0"),
            (code::RECONF_ACCEPT, 1, "must be 0"),
            (code::RELAY_SOURCE_PORT, 1, "must be 2"),
            (code::RELAY_SOURCE_PORT, 3, "must be 2"),
            (code::IA_NA, 11, "at least 12"),
            (code::IA_PD, 11, "at least 12"),
            (code::IA_TA, 3, "at least 4"),
            (code::IAADDR, 23, "at least 24"),
            (code::IAPREFIX, 24, "at least 25"),
            (code::STATUS_CODE, 0, "at least 2"),
            (code::VENDOR_CLASS, 3, "at least 4"),
            (code::VENDOR_OPTS, 3, "at least 4"),
            (code::REMOTE_ID, 3, "at least 4"),
            (code::CLIENT_LINKLAYER_ADDR, 1, "at least 2"),
            (code::CLIENT_FQDN, 0, "at least 1"),
            (code::ORO, 3, "even"),
            (code::USER_CLASS, 1, ITEMS),
        ];
        for &(c, len, expected) in cases {
            // A good option first: the bad one fails the message, no partial list.
            let w = solicit_with(&[opt(code::CLIENTID, &DUID), opt(c, &vec![0; len])].concat());
            assert_eq!(
                err(&w),
                WireError::BadLength {
                    code: c,
                    at: 18,
                    len,
                    expected
                },
                "option {c} of length {len}"
            );
        }
        // The lengths that are right decode, DUIDs and interface ids of any length too.
        for (c, len) in [
            (code::PREFERENCE, 1),
            (code::UNICAST, 16),
            (code::RELAY_SOURCE_PORT, 2),
            (code::IA_NA, 12),
            (code::IA_TA, 4),
            (code::IAADDR, 24),
            (code::IAPREFIX, 25),
            (code::STATUS_CODE, 2),
            (code::VENDOR_OPTS, 4),
            (code::REMOTE_ID, 4),
            (code::CLIENT_LINKLAYER_ADDR, 2),
            (code::CLIENT_FQDN, 1),
            (code::ORO, 0),
            (code::CLIENTID, 0),
            (code::SERVERID, 1),
            (code::INTERFACE_ID, 0),
        ] {
            let w = solicit_with(&opt(c, &vec![0; len]));
            let p = Packet::decode(&w).unwrap_or_else(|e| panic!("option {c}: {e}"));
            assert_eq!(p.encode(), w);
        }
    }

    #[test]
    fn class_data_items_must_fill_the_option_exactly() {
        let bad = |c, data: &[u8]| {
            let w = solicit_with(&opt(c, data));
            assert_eq!(
                err(&w),
                WireError::BadLength {
                    code: c,
                    at: 4,
                    len: data.len(),
                    expected: ITEMS
                },
                "{data:?}"
            );
        };
        bad(code::USER_CLASS, &[0, 5, 1]); // an item running past the end
        bad(code::USER_CLASS, &[0, 1, 7, 0]); // half a length at the end
        bad(code::VENDOR_CLASS, &[0, 0, 0, 9, 0, 1]);
        bad(code::VENDOR_CLASS, &[0, 0, 0, 9, 0]);
        let w = solicit_with(&opt(code::VENDOR_CLASS, &[0, 0, 0, 9, 0, 2, 1, 2, 0, 0]));
        assert_eq!(
            Packet::decode(&w).unwrap().client().options,
            [Opt::VendorClass {
                enterprise: 9,
                data: vec![vec![1, 2], vec![]]
            }]
        );
    }

    #[test]
    fn errors_inside_nested_options_and_relays_have_datagram_offsets() {
        // SOLICIT header 4, IA_NA header at 4, its options at 20, IAADDR at 20, its
        // options at 48: a status code of length 1 there.
        let addr = [&[0u8; 24][..], &opt(code::STATUS_CODE, &[0])].concat();
        let ia = [&[0u8; 12][..], &opt(code::IAADDR, &addr)].concat();
        let w = solicit_with(&opt(code::IA_NA, &ia));
        let e = WireError::BadLength {
            code: code::STATUS_CODE,
            at: 48,
            len: 1,
            expected: "at least 2",
        };
        assert_eq!(err(&w), e);
        // The same message relayed twice: 2 × (34 + 4) bytes before it.
        let w = relay_bytes(1, &[], &relay_bytes(0, &[], &w));
        assert_eq!(
            err(&w),
            WireError::BadLength {
                code: code::STATUS_CODE,
                at: 48 + 76,
                len: 1,
                expected: "at least 2"
            }
        );
        // An IAPREFIX's options start 25 bytes into it.
        let prefix = [&[0u8; 25][..], &[0, 13, 0, 1, 0]].concat();
        let ia = [&[0u8; 12][..], &opt(code::IAPREFIX, &prefix)].concat();
        let w = solicit_with(&opt(code::IA_PD, &ia));
        assert!(matches!(err(&w), WireError::BadLength { at: 49, .. }));
        // A bad relay option after good ones fails the relay.
        let options = [
            opt(code::INTERFACE_ID, b"x"),
            opt(code::RELAY_SOURCE_PORT, &[1]),
        ]
        .concat();
        let w = relay_bytes(0, &options, &inner_solicit());
        assert!(matches!(err(&w), WireError::BadLength { at: 39, .. }));
    }

    #[test]
    fn a_relay_message_option_belongs_to_relays_only_and_once() {
        let w = solicit_with(&opt(code::RELAY_MSG, &inner_solicit()));
        assert!(matches!(err(&w), WireError::Malformed { at: 4, .. }));
        let ia = [&[0u8; 12][..], &opt(code::RELAY_MSG, &[])].concat();
        let w = solicit_with(&opt(code::IA_NA, &ia));
        assert!(matches!(err(&w), WireError::Malformed { at: 20, .. }));
        // Two in one relay.
        let w = relay_bytes(0, &opt(code::RELAY_MSG, &inner_solicit()), &inner_solicit());
        assert!(matches!(err(&w), WireError::Malformed { at: 72, .. }));
        // None: the outer relay's error, or the inner one's at its own offset.
        let mut w = relay_bytes(0, &[], &inner_solicit());
        w.truncate(34);
        w.extend_from_slice(&opt(code::INTERFACE_ID, b"eth0"));
        assert_eq!(err(&w), WireError::NoRelayMessage { at: 0 });
        let w = relay_bytes(1, &[], &w);
        assert_eq!(err(&w), WireError::NoRelayMessage { at: 38 });
    }

    #[test]
    fn a_relay_message_option_first_is_read_and_encoded_last() {
        // RFC 8415 §9 sets no order; `Relay` keeps none: the one case where encode
        // changes the bytes (same options, in another order).
        let mut w = relay_bytes(0, &[], &inner_solicit());
        w.extend_from_slice(&opt(code::INTERFACE_ID, b"eth0"));
        let p = Packet::decode(&w).unwrap();
        assert_eq!(p.relays()[0].options, [Opt::InterfaceId(b"eth0".to_vec())]);
        let again = p.encode();
        assert_eq!(again.len(), w.len());
        assert_eq!(
            again,
            relay_bytes(0, &opt(code::INTERFACE_ID, b"eth0"), &inner_solicit())
        );
        assert_eq!(Packet::decode(&again), Ok(p));
    }

    #[test]
    fn options_nest_eight_deep_and_no_deeper() {
        // IA_TAs inside IA_TAs: each 8 bytes of header and IAID.
        let nest = |n: usize| {
            (0..n).fold(Vec::new(), |inner, _| {
                opt(code::IA_TA, &[&[0u8, 0, 0, 1][..], &inner].concat())
            })
        };
        let w = solicit_with(&nest(MAX_OPTION_NESTING));
        assert_eq!(Packet::decode(&w).unwrap().encode(), w);
        let w = solicit_with(&nest(MAX_OPTION_NESTING + 1));
        assert!(matches!(err(&w), WireError::Malformed { at: 68, .. }));
        // A datagram-sized nest is refused without running out of stack.
        let w = solicit_with(&nest(8000));
        assert!(matches!(err(&w), WireError::Malformed { .. }));
    }

    #[test]
    fn unknown_options_are_kept_byte_for_byte() {
        let options = [
            opt(code::AUTH, &[3, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]),
            opt(code::DNS_SERVERS, &ip("2001:db8::53").octets()),
            opt(0xffff, &[]),
            opt(code::PD_EXCLUDE, &[64, 0x12]),
        ]
        .concat();
        let w = solicit_with(&options);
        let p = Packet::decode(&w).unwrap();
        assert_eq!(
            p.client().options[2],
            Opt::Other {
                code: 0xffff,
                data: vec![]
            }
        );
        assert!(p
            .client()
            .options
            .iter()
            .all(|o| matches!(o, Opt::Other { .. })));
        assert_eq!(p.encode(), w);
    }

    #[test]
    fn the_xid_is_24_bits() {
        let m = |xid| {
            Packet::Client(Message {
                msg_type: msg::RENEW,
                xid,
                options: vec![],
            })
        };
        assert_eq!(m(0xff12_3456).encode(), [msg::RENEW, 0x12, 0x34, 0x56]);
        assert_eq!(Packet::decode(&[5, 0xff, 0xfe, 0xfd]), Ok(m(0x00ff_fefd)));
    }

    #[test]
    fn a_status_message_is_read_lossily() {
        let w = solicit_with(&opt(code::STATUS_CODE, &[0, 1, b'a', 0xff, b'b']));
        let p = Packet::decode(&w).unwrap();
        assert_eq!(
            p.client().options,
            [Opt::Status {
                code: status::UNSPEC_FAIL,
                message: "a\u{fffd}b".into()
            }]
        );
        // Not byte-exact (the replacement character is 3 bytes), but stable.
        assert_eq!(Packet::decode(&p.encode()), Ok(p));
    }

    #[test]
    fn client_fqdn_text_and_from_text_in_both_forms() {
        let full = ClientFqdn::from_text(ClientFqdn::S, "host.example.com", true);
        assert_eq!(full.name, b"\x04host\x07example\x03com\x00");
        assert_eq!(full.flags, ClientFqdn::S);
        assert_eq!(full.text(), Some(("host.example.com".into(), true)));
        // A trailing dot is ignored.
        assert_eq!(
            ClientFqdn::from_text(ClientFqdn::S, "host.example.com.", true),
            full
        );
        let partial = ClientFqdn::from_text(0, "host", false);
        assert_eq!(partial.name, b"\x04host");
        assert_eq!(partial.text(), Some(("host".into(), false)));
        let two = ClientFqdn::from_text(0, "a.b", false);
        assert_eq!(two.name, b"\x01a\x01b");
        assert_eq!(two.text(), Some(("a.b".into(), false)));

        let name = |b: &[u8]| ClientFqdn {
            flags: 0,
            name: b.to_vec(),
        };
        assert_eq!(name(b"").text(), Some((String::new(), false)));
        assert_eq!(name(b"\0").text(), Some((String::new(), true)));
        assert_eq!(ClientFqdn::from_text(0, "", false).name, b"");
        assert_eq!(ClientFqdn::from_text(0, ".", true).name, b"\0");
        // A label running past the end, a root label before it, a compression pointer.
        assert_eq!(name(b"\x05ab").text(), None);
        assert_eq!(name(b"\x04host\x00\x03com").text(), None);
        assert_eq!(name(b"\0\0").text(), None);
        assert_eq!(name(b"\xc0\x0c").text(), None);
        let long = "x".repeat(64);
        assert_eq!(name(&[&[64u8][..], long.as_bytes()].concat()).text(), None);
        // from_text keeps labels to 63 bytes.
        let cut = ClientFqdn::from_text(0, &long, false);
        assert_eq!(cut.text(), Some(("x".repeat(63), false)));
        // Non-UTF-8 labels read lossily.
        assert_eq!(name(b"\x02a\xff").text(), Some(("a\u{fffd}".into(), false)));
    }
}
