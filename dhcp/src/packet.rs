//! DHCPv4 packets: a checked view of a client's message ([`Request`], decoded with
//! dhcproto) and the server's reply ([`Reply`], whose options tern lays out itself so
//! their order is Kea's: message type and server identifier first, relay agent
//! information last, long values split as RFC 3396 says).

use std::net::Ipv4Addr;

use dhcproto::v4::{self, DhcpOption, MessageType, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};
use thiserror::Error;

/// The smallest BOOTP message: 236 header bytes + 4 cookie bytes. Anything shorter
/// is not DHCP.
pub const MIN_LEN: usize = 240;
/// Largest datagram we look at (RFC 2131 lets clients go above 576 with option 57).
pub const MAX_LEN: usize = 4096;
/// Replies are padded to this size: some BOOTP relays and clients drop shorter ones.
pub const MIN_REPLY_LEN: usize = 300;

const MAGIC: [u8; 4] = [99, 130, 83, 99];

/// Why a datagram is not a request we can process.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// Too short or too long.
    #[error("packet of {0} bytes is not a DHCPv4 message")]
    Length(usize),
    /// Not BOOTREQUEST.
    #[error("not a BOOTREQUEST (op {0})")]
    NotRequest(u8),
    /// Bad magic cookie.
    #[error("no DHCP magic cookie")]
    NoCookie,
    /// The option area is not a well-formed TLV list.
    #[error("malformed option {0}")]
    BadOption(u8),
    /// hlen > 16.
    #[error("hardware address length {0} is larger than 16")]
    HwLen(u8),
    /// The decoder refused it.
    #[error("cannot decode: {0}")]
    Decode(String),
}

/// The DHCP message types the server acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// DHCPDISCOVER.
    Discover,
    /// DHCPREQUEST.
    Request,
    /// DHCPDECLINE.
    Decline,
    /// DHCPRELEASE.
    Release,
    /// DHCPINFORM.
    Inform,
    /// A BOOTREQUEST without a DHCP message type (RFC 951 BOOTP).
    Bootp,
    /// Anything else (server messages, lease query, unknown types).
    Other(u8),
}

impl RequestKind {
    /// Kea's name (`DHCPDISCOVER`, ...).
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Discover => "DHCPDISCOVER",
            RequestKind::Request => "DHCPREQUEST",
            RequestKind::Decline => "DHCPDECLINE",
            RequestKind::Release => "DHCPRELEASE",
            RequestKind::Inform => "DHCPINFORM",
            RequestKind::Bootp => "BOOTREQUEST",
            RequestKind::Other(_) => "UNKNOWN",
        }
    }

    /// The option 53 value.
    pub fn code(self) -> u8 {
        match self {
            RequestKind::Discover => 1,
            RequestKind::Request => 3,
            RequestKind::Decline => 4,
            RequestKind::Release => 7,
            RequestKind::Inform => 8,
            // Kea's bootp hook makes the query a DHCPREQUEST before it is classified.
            RequestKind::Bootp => 3,
            RequestKind::Other(t) => t,
        }
    }
}

/// Where a request came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    /// Interface name.
    pub iface: String,
    /// The server's address on it (the server identifier).
    pub addr: Ipv4Addr,
}

/// A client's message, decoded and checked: only what the server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Message type.
    pub kind: RequestKind,
    /// Transaction id.
    pub xid: u32,
    /// Hardware type.
    pub htype: u8,
    /// Hardware address (`hlen` bytes of chaddr).
    pub chaddr: Vec<u8>,
    /// Relay hops.
    pub hops: u8,
    /// Seconds since the client began.
    pub secs: u16,
    /// Broadcast flag.
    pub broadcast: bool,
    /// Client address (ciaddr).
    pub ciaddr: Ipv4Addr,
    /// Relay address (giaddr).
    pub giaddr: Ipv4Addr,
    /// Option 61.
    pub client_id: Option<Vec<u8>>,
    /// Option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Option 55, in the client's order.
    pub prl: Vec<u8>,
    /// Option 12.
    pub hostname: Option<String>,
    /// Option 82, raw (echoed back).
    pub relay_info: Option<Vec<u8>>,
    /// Option 81 (RFC 4702), raw.
    pub client_fqdn: Option<Vec<u8>>,
    /// Option 51: the lease time the client would like.
    pub lease_time: Option<u32>,
    /// Circuit id (option 82 sub-option 1).
    pub circuit_id: Option<Vec<u8>>,
    /// Option 57.
    pub max_message_size: Option<u16>,
    /// Option 118 (RFC 3011).
    pub subnet_selection: Option<Ipv4Addr>,
    /// Option 60.
    pub vendor_class: Option<Vec<u8>>,
    /// siaddr as sent.
    pub siaddr: Ipv4Addr,
    /// yiaddr as sent.
    pub yiaddr: Ipv4Addr,
    /// The datagram's length.
    pub len: usize,
    /// The option area as sent (up to END), for what client-class expressions read.
    pub raw_options: Vec<u8>,
    /// The client classes the packet is in, in the order they were assigned (set by the
    /// engine: ALL, VENDOR_CLASS_…, the classes whose test matched, KNOWN or UNKNOWN…).
    pub classes: Vec<String>,
}

/// Checks the option area's TLV structure, so that nothing odd reaches the decoder
/// (which asserts on some option lengths in debug builds).
fn check_options(buf: &[u8]) -> Result<RawOptions, ParseError> {
    let mut i = 0;
    let mut raw = RawOptions::default();
    let mut previous = None;
    while i < buf.len() {
        let code = buf[i];
        match code {
            0 => {
                i += 1;
                continue;
            }
            255 => return Ok(raw),
            _ => {}
        }
        let len = *buf.get(i + 1).ok_or(ParseError::BadOption(code))? as usize;
        let value = buf
            .get(i + 2..i + 2 + len)
            .ok_or(ParseError::BadOption(code))?;
        // Fixed sizes the decoder relies on.
        let exact = match code {
            1 | 16 | 28 | 32 | 50 | 54 | 118 | 150 => Some(4),
            2 | 24 | 35 | 38 | 51 | 58 | 59 | 91 | 108 | 152..=155 => Some(4),
            13 | 22 | 26 | 57 | 93 => Some(2),
            19 | 20 | 23 | 27 | 29..=31 | 34 | 36 | 37 | 39 | 46 | 52 | 53 | 116 | 156 | 157 => {
                Some(1)
            }
            80 => Some(0),
            94 => Some(3),
            _ => None,
        };
        let ok = match (code, exact) {
            // dhcproto joins back-to-back copies of a code into one option (RFC 3396), so
            // two fixed-size copies would reach its decoder as one of twice the size (a
            // debug assertion there); a fixed-size option comes once.
            (_, Some(n)) => len == n && previous != Some(code),
            (81, _) => len >= 3,
            (151, _) => len >= 1,
            (3..=11 | 41 | 42 | 44 | 45 | 48 | 49 | 65 | 68..=76 | 89 | 92, _) => {
                len > 0 && len.is_multiple_of(4)
            }
            _ => true,
        };
        if !ok {
            return Err(ParseError::BadOption(code));
        }
        previous = Some(code);
        match code {
            82 => raw.relay = Some(value.to_vec()),
            81 => raw.fqdn = Some(value.to_vec()),
            _ => {}
        }
        i += 2 + len;
    }
    Ok(raw)
}

/// Options kept as the client sent them.
#[derive(Default)]
struct RawOptions {
    relay: Option<Vec<u8>>,
    fqdn: Option<Vec<u8>>,
}

impl Request {
    /// A request of `kind` from an Ethernet client `chaddr`, with nothing else set
    /// (tests and tools fill in what they need).
    pub fn new(kind: RequestKind, xid: u32, chaddr: Vec<u8>) -> Request {
        Request {
            kind,
            xid,
            htype: 1,
            chaddr,
            hops: 0,
            secs: 0,
            broadcast: false,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            client_id: None,
            requested_ip: None,
            server_id: None,
            prl: vec![],
            hostname: None,
            relay_info: None,
            client_fqdn: None,
            lease_time: None,
            circuit_id: None,
            max_message_size: None,
            subnet_selection: None,
            vendor_class: None,
            siaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            len: MIN_LEN,
            raw_options: Vec::new(),
            classes: Vec::new(),
        }
    }

    /// The value of option `code` as the client sent it, copies of the option joined
    /// (RFC 3396); `None` when absent.
    pub fn option(&self, code: u8) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        let b = &self.raw_options;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                0 => {
                    i += 1;
                    continue;
                }
                255 => break,
                c => {
                    let Some(&len) = b.get(i + 1) else { break };
                    let Some(v) = b.get(i + 2..i + 2 + usize::from(len)) else {
                        break;
                    };
                    if c == code {
                        out.get_or_insert_with(Vec::new).extend_from_slice(v);
                    }
                    i += 2 + usize::from(len);
                }
            }
        }
        out
    }

    /// Whether the packet is in the client class `name`.
    pub fn in_class(&self, name: &str) -> bool {
        self.classes.iter().any(|c| c == name)
    }

    /// Decodes and checks a datagram.
    pub fn parse(buf: &[u8]) -> Result<Request, ParseError> {
        if buf.len() < MIN_LEN || buf.len() > MAX_LEN {
            return Err(ParseError::Length(buf.len()));
        }
        if buf[0] != 1 {
            return Err(ParseError::NotRequest(buf[0]));
        }
        let hlen = buf[2];
        if hlen > 16 {
            return Err(ParseError::HwLen(hlen));
        }
        if buf[236..240] != MAGIC {
            return Err(ParseError::NoCookie);
        }
        let raw = check_options(&buf[240..])?;
        let msg = v4::Message::decode(&mut Decoder::new(buf))
            .map_err(|e| ParseError::Decode(e.to_string()))?;
        let opts = msg.opts();
        let kind = match opts.get(OptionCode::MessageType) {
            Some(DhcpOption::MessageType(t)) => match t {
                MessageType::Discover => RequestKind::Discover,
                MessageType::Request => RequestKind::Request,
                MessageType::Decline => RequestKind::Decline,
                MessageType::Release => RequestKind::Release,
                MessageType::Inform => RequestKind::Inform,
                other => RequestKind::Other(u8::from(*other)),
            },
            // A BOOTREQUEST (op 1 was checked) without option 53: BOOTP, served when
            // the bootp hook is configured.
            _ => RequestKind::Bootp,
        };
        let bytes = |code| match opts.get(code) {
            Some(DhcpOption::ClientIdentifier(v)) | Some(DhcpOption::ClassIdentifier(v)) => {
                Some(v.clone())
            }
            _ => None,
        };
        let addr = |code| match opts.get(code) {
            Some(DhcpOption::RequestedIpAddress(a))
            | Some(DhcpOption::ServerIdentifier(a))
            | Some(DhcpOption::SubnetSelection(a)) => Some(*a),
            _ => None,
        };
        let prl = match opts.get(OptionCode::ParameterRequestList) {
            Some(DhcpOption::ParameterRequestList(v)) => v.iter().map(|c| u8::from(*c)).collect(),
            _ => Vec::new(),
        };
        let hostname = match opts.get(OptionCode::Hostname) {
            Some(DhcpOption::Hostname(h)) if !h.is_empty() => Some(h.clone()),
            _ => None,
        };
        let max_message_size = match opts.get(OptionCode::MaxMessageSize) {
            Some(DhcpOption::MaxMessageSize(n)) => Some(*n),
            _ => None,
        };
        let circuit_id = raw.relay.as_deref().and_then(|r| sub_option(r, 1));
        Ok(Request {
            kind,
            xid: msg.xid(),
            htype: buf[1],
            chaddr: buf[28..28 + usize::from(hlen)].to_vec(),
            hops: msg.hops(),
            secs: msg.secs(),
            broadcast: msg.flags().broadcast(),
            ciaddr: msg.ciaddr(),
            giaddr: msg.giaddr(),
            client_id: bytes(OptionCode::ClientIdentifier).filter(|v| !v.is_empty()),
            requested_ip: addr(OptionCode::RequestedIpAddress),
            server_id: addr(OptionCode::ServerIdentifier),
            prl,
            hostname,
            relay_info: raw.relay,
            client_fqdn: raw.fqdn,
            lease_time: match opts.get(OptionCode::AddressLeaseTime) {
                Some(DhcpOption::AddressLeaseTime(t)) => Some(*t),
                _ => None,
            },
            circuit_id,
            max_message_size,
            subnet_selection: addr(OptionCode::SubnetSelection),
            vendor_class: bytes(OptionCode::ClassIdentifier),
            siaddr: Ipv4Addr::new(buf[20], buf[21], buf[22], buf[23]),
            yiaddr: Ipv4Addr::new(buf[16], buf[17], buf[18], buf[19]),
            len: buf.len(),
            raw_options: buf[240..].to_vec(),
            classes: Vec::new(),
        })
    }

    /// `[hwtype=1 aa:bb:cc:dd:ee:ff], cid=[01:aa:...], tid=0x1234`: how Kea names a
    /// client in its logs.
    pub fn label(&self) -> String {
        let cid = match &self.client_id {
            Some(c) => hex(c),
            None => "no info".to_string(),
        };
        format!(
            "[hwtype={} {}], cid=[{}], tid={:#x}",
            self.htype,
            hex(&self.chaddr),
            cid,
            self.xid
        )
    }
}

/// `aa:bb:cc`.
pub fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn sub_option(buf: &[u8], want: u8) -> Option<Vec<u8>> {
    let mut i = 0;
    while i + 1 < buf.len() {
        let (code, len) = (buf[i], usize::from(buf[i + 1]));
        let v = buf.get(i + 2..i + 2 + len)?;
        if code == want {
            return Some(v.to_vec());
        }
        i += 2 + len;
    }
    None
}

/// DHCP message types the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// DHCPOFFER.
    Offer,
    /// DHCPACK.
    Ack,
    /// DHCPNAK.
    Nak,
}

impl ReplyKind {
    fn code(self) -> u8 {
        match self {
            ReplyKind::Offer => 2,
            ReplyKind::Ack => 5,
            ReplyKind::Nak => 6,
        }
    }

    /// Kea's name.
    pub fn name(self) -> &'static str {
        match self {
            ReplyKind::Offer => "DHCPOFFER",
            ReplyKind::Ack => "DHCPACK",
            ReplyKind::Nak => "DHCPNAK",
        }
    }
}

/// A reply, ready to encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Message type.
    pub kind: ReplyKind,
    /// Transaction id (the request's).
    pub xid: u32,
    /// Hardware type, length and address (the request's).
    pub htype: u8,
    /// chaddr.
    pub chaddr: Vec<u8>,
    /// The request's broadcast flag (and set for NAKs through relays).
    pub broadcast: bool,
    /// ciaddr (echoed for ACKs to renewing clients and INFORMs).
    pub ciaddr: Ipv4Addr,
    /// Your address.
    pub yiaddr: Ipv4Addr,
    /// Next server (siaddr).
    pub siaddr: Ipv4Addr,
    /// Relay address (echoed).
    pub giaddr: Ipv4Addr,
    /// sname.
    pub sname: Option<String>,
    /// file.
    pub file: Option<String>,
    /// Options after 53, in order: (code, value).
    pub options: Vec<(u8, Vec<u8>)>,
    /// A BOOTREPLY to a BOOTP client: no DHCP message type and none of the DHCP-only
    /// options (Kea's bootp hook).
    pub bootp: bool,
}

/// Options a BOOTREPLY leaves out (Kea's bootp hook): requested address, lease time,
/// overload, message type, server identifier, parameter list, message, maximum size,
/// T1, T2, client identifier.
const DHCP_ONLY: [u8; 11] = [50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 61];

impl Reply {
    /// Encodes the reply: the header with dhcproto, then the options in order, each
    /// value longer than 255 bytes split into several instances (RFC 3396), then END,
    /// padded to [`MIN_REPLY_LEN`].
    pub fn encode(&self) -> Vec<u8> {
        let chaddr = &self.chaddr[..self.chaddr.len().min(16)];
        let mut msg = v4::Message::new_with_id(
            self.xid,
            self.ciaddr,
            self.yiaddr,
            self.siaddr,
            self.giaddr,
            chaddr,
        );
        msg.set_opcode(v4::Opcode::BootReply)
            .set_htype(self.htype.into())
            .set_flags(if self.broadcast {
                v4::Flags::default().set_broadcast()
            } else {
                v4::Flags::default()
            });
        if let Some(s) = &self.sname {
            msg.set_sname_str(s);
        }
        if let Some(f) = &self.file {
            msg.set_fname_str(f);
        }
        let mut out = Vec::with_capacity(576);
        {
            let mut e = Encoder::new(&mut out);
            // An empty option set encodes as nothing: header and cookie only.
            msg.encode(&mut e).expect("encoding into a Vec cannot fail");
        }
        if !self.bootp {
            out.extend([53, 1, self.kind.code()]);
        }
        for (code, value) in &self.options {
            if self.bootp && DHCP_ONLY.contains(code) {
                continue;
            }
            if value.is_empty() {
                out.extend([*code, 0]);
            }
            for chunk in value.chunks(255) {
                out.push(*code);
                out.push(chunk.len() as u8);
                out.extend(chunk);
            }
        }
        out.push(255);
        if out.len() < MIN_REPLY_LEN {
            out.resize(MIN_REPLY_LEN, 0);
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A request of this kind with nothing set but chaddr aa:bb:cc:00:00:01.
    pub(crate) fn request(kind: RequestKind) -> Request {
        Request::new(kind, 1, vec![0xaa, 0xbb, 0xcc, 0, 0, 1])
    }

    /// A DISCOVER as dhclient sends it (options in a fixed order: 53 first).
    pub(crate) fn discover() -> Vec<u8> {
        let m = v4::Message::new_with_id(
            0x1234_5678,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &[0xaa, 0xbb, 0xcc, 0, 0, 1],
        );
        let mut out = Vec::new();
        m.encode(&mut Encoder::new(&mut out)).unwrap();
        out.extend([53, 1, 1, 55, 2, 1, 3, 12, 6]);
        out.extend(b"laptop");
        out.extend([50, 4, 192, 0, 2, 15, 54, 4, 192, 0, 2, 1, 255]);
        out
    }

    #[test]
    fn parses_a_discover() {
        let r = Request::parse(&discover()).unwrap();
        assert_eq!(r.kind, RequestKind::Discover);
        assert_eq!(r.xid, 0x1234_5678);
        assert_eq!(r.chaddr, vec![0xaa, 0xbb, 0xcc, 0, 0, 1]);
        assert_eq!(r.prl, vec![1, 3]);
        assert_eq!(r.hostname.as_deref(), Some("laptop"));
        assert_eq!(
            r.label(),
            "[hwtype=1 aa:bb:cc:00:00:01], cid=[no info], tid=0x12345678"
        );
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(Request::parse(&[]), Err(ParseError::Length(0)));
        assert!(matches!(
            Request::parse(&[0u8; 300]),
            Err(ParseError::NotRequest(0))
        ));
        let mut d = discover();
        d[236] = 0;
        assert_eq!(Request::parse(&d), Err(ParseError::NoCookie));
        // An option running past the end.
        let mut d = discover();
        d.truncate(240);
        d.extend([12, 200, b'x']);
        assert_eq!(Request::parse(&d), Err(ParseError::BadOption(12)));
        // Rapid commit with a value would trip the decoder's assertions.
        let mut d = discover();
        d.truncate(240);
        d.extend([53, 1, 1, 80, 1, 0, 255]);
        assert_eq!(Request::parse(&d), Err(ParseError::BadOption(80)));
        // Two back-to-back copies of a fixed-size option: dhcproto would join them
        // (RFC 3396) into one of twice the size and panic on it in a debug build.
        for (code, value) in [(152u8, &[0u8, 0, 0, 0][..]), (94, &[1, 0, 0][..])] {
            let mut d = discover();
            d.truncate(240);
            d.extend([53, 1, 1]);
            for _ in 0..2 {
                d.extend([code, value.len() as u8]);
                d.extend(value);
            }
            d.push(255);
            assert_eq!(Request::parse(&d), Err(ParseError::BadOption(code)));
        }
        // BOOTP: a BOOTREQUEST without a message type (served with the bootp hook).
        let mut d = discover();
        d.truncate(240);
        d.push(255);
        assert_eq!(Request::parse(&d).map(|r| r.kind), Ok(RequestKind::Bootp));
    }

    #[test]
    fn reply_layout() {
        let r = Reply {
            kind: ReplyKind::Offer,
            xid: 7,
            htype: 1,
            chaddr: vec![1, 2, 3, 4, 5, 6],
            broadcast: true,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::new(192, 0, 2, 10),
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            sname: None,
            file: Some("pxelinux.0".into()),
            options: vec![(54, vec![192, 0, 2, 1]), (119, vec![7; 300])],
            bootp: false,
        };
        let b = r.encode();
        assert_eq!(b[0], 2);
        assert_eq!(&b[16..20], &[192, 0, 2, 10]);
        assert_eq!(&b[108..118], b"pxelinux.0");
        assert_eq!(&b[240..243], &[53, 1, 2]);
        assert_eq!(&b[243..249], &[54, 4, 192, 0, 2, 1]);
        // 300 bytes split into 255 + 45.
        assert_eq!(&b[249..251], &[119, 255]);
        assert_eq!(&b[506..508], &[119, 45]);
        assert_eq!(b[553], 255);
        // dhcproto reads it back (joining the split option).
        let m = v4::Message::decode(&mut Decoder::new(&b)).unwrap();
        assert_eq!(m.opts().msg_type(), Some(MessageType::Offer));
        assert!(m.flags().broadcast());
    }
}
