//! DHCPv6 messages on the wire (RFC 8415 §8, §9, §21; RFC 9915 keeps the formats),
//! decoded and encoded by tern: dhcproto 0.15 loses the client message inside a
//! RELAY-FORW, stops at the first bad option without a word and has no v6 FQDN option
//! (see ARCHITECTURE.md). Strict: a truncated or wrongly sized option fails the whole
//! message with its offset ([`WireError`]), so the engine counts it in
//! `pkt6-parse-failed` instead of answering a message it read only in part. Options it
//! has no type for are kept as [`Opt::Other`], byte for byte.

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
        /// Bytes left in the enclosing data.
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
    /// A relay-message option in a client message, or a client message type inside
    /// a relay that is not one (the innermost message must be a client's).
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
    pub fn text(&self) -> Option<(String, bool)> {
        todo!("wire labels to text")
    }

    /// The option for `name` (text, no trailing dot needed); `full` adds the root label.
    pub fn from_text(flags: u8, name: &str, full: bool) -> ClientFqdn {
        todo!("text to wire labels")
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
        todo!()
    }
}

impl Packet {
    /// Reads a datagram. Errors say where and what; nothing is read in part.
    pub fn decode(buf: &[u8]) -> Result<Packet, WireError> {
        todo!()
    }

    /// The datagram for this packet.
    pub fn encode(&self) -> Vec<u8> {
        todo!()
    }

    /// The client's message at the centre of the relays.
    pub fn client(&self) -> &Message {
        todo!()
    }

    /// The relays from the outermost (the one that sent the datagram to us) inwards.
    pub fn relays(&self) -> Vec<&Relay> {
        todo!()
    }
}

impl Message {
    /// The first option with this code.
    pub fn opt(&self, code: u16) -> Option<&Opt> {
        find(&self.options, code)
    }

    /// The client's DUID.
    pub fn client_id(&self) -> Option<&[u8]> {
        todo!()
    }

    /// The server DUID the message names.
    pub fn server_id(&self) -> Option<&[u8]> {
        todo!()
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
pub fn decode_options(buf: &[u8], base: usize) -> Result<Vec<Opt>, WireError> {
    todo!()
}

/// Appends the options' wire form to `out`, in the order given.
pub fn encode_options(opts: &[Opt], out: &mut Vec<u8>) {
    todo!()
}
