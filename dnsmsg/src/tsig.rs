//! TSIG (RFC 8945): signing the DNS requests tern sends (d2's UPDATEs, the API's UPDATEs and
//! zone transfers) and verifying the answers.
//!
//! Every algorithm Kea's d2 offers is here (HMAC-MD5, HMAC-SHA1, -SHA224, -SHA256, -SHA384,
//! -SHA512), with MAC truncation (`digest-bits`). hickory-proto's own signer covers only three
//! of them and never truncates, so the MAC is computed here; hickory still does the DNS side:
//! names are read and written with its codec, and the TSIG record is its `TSIG` RDATA type in a
//! `Record`.
//!
//! The functions work on wire bytes, because the MAC covers the message exactly as sent: the
//! caller serialises its message (with hickory), [`sign_request`] appends the TSIG record, and
//! [`verify_response`] checks the answer against the MAC of the request it belongs to.
//! [`verify_request`] and [`sign_response`] are the server side of the same exchange, and
//! [`sign_error_response`] answers a request whose TSIG failed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::tsig::{
    make_tsig_record, TsigAlgorithm, TsigError as WireError, TSIG,
};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{
    BinDecodable, BinDecoder, BinEncodable, BinEncoder, NameEncoding,
};
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

/// The fudge Kea's d2 puts in its requests: the signature is good for 300 s either side of
/// Time Signed (RFC 8945 §5.2.3 leaves the value to the signer).
pub const DEFAULT_FUDGE: u16 = 300;

/// TSIG error codes carried in the record's Error field (RFC 8945 §3, IANA "DNS RCODEs").
pub mod code {
    /// The MAC did not verify.
    pub const BADSIG: u16 = 16;
    /// The key (or its algorithm) is not known.
    pub const BADKEY: u16 = 17;
    /// Time Signed is outside the fudge window.
    pub const BADTIME: u16 = 18;
    /// The MAC is truncated more than local policy allows.
    pub const BADTRUNC: u16 = 22;
}

const HEADER_LEN: usize = 12;
/// Time Signed is a 48-bit field (RFC 8945 §4.2).
const MAX_TIME_SIGNED: u64 = (1 << 48) - 1;

/// A TSIG MAC algorithm, as Kea's d2 names them in `tsig-keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC-MD5 (`hmac-md5.sig-alg.reg.int.`); RFC 8945 §6 says MUST NOT use, Kea still offers it.
    HmacMd5,
    /// HMAC-SHA1 (`hmac-sha1.`).
    HmacSha1,
    /// HMAC-SHA224 (`hmac-sha224.`).
    HmacSha224,
    /// HMAC-SHA256 (`hmac-sha256.`), the one RFC 8945 §6 recommends.
    HmacSha256,
    /// HMAC-SHA384 (`hmac-sha384.`).
    HmacSha384,
    /// HMAC-SHA512 (`hmac-sha512.`).
    HmacSha512,
}

impl Algorithm {
    /// Every algorithm, in Kea's order.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::HmacMd5,
        Algorithm::HmacSha1,
        Algorithm::HmacSha224,
        Algorithm::HmacSha256,
        Algorithm::HmacSha384,
        Algorithm::HmacSha512,
    ];

    /// Parses Kea's `algorithm` value (`"HMAC-SHA256"`), ignoring case as Kea does.
    pub fn from_kea_name(name: &str) -> Result<Self, KeyError> {
        Self::ALL
            .into_iter()
            .find(|a| a.kea_name().eq_ignore_ascii_case(name))
            .ok_or_else(|| KeyError::UnknownAlgorithm(name.to_owned()))
    }

    /// The name Kea's configuration uses (`"HMAC-SHA256"`).
    pub fn kea_name(self) -> &'static str {
        match self {
            Algorithm::HmacMd5 => "HMAC-MD5",
            Algorithm::HmacSha1 => "HMAC-SHA1",
            Algorithm::HmacSha224 => "HMAC-SHA224",
            Algorithm::HmacSha256 => "HMAC-SHA256",
            Algorithm::HmacSha384 => "HMAC-SHA384",
            Algorithm::HmacSha512 => "HMAC-SHA512",
        }
    }

    /// The algorithm name carried in the TSIG record (RFC 8945 §6), as text.
    pub fn wire_name_str(self) -> &'static str {
        match self {
            Algorithm::HmacMd5 => "hmac-md5.sig-alg.reg.int.",
            Algorithm::HmacSha1 => "hmac-sha1.",
            Algorithm::HmacSha224 => "hmac-sha224.",
            Algorithm::HmacSha256 => "hmac-sha256.",
            Algorithm::HmacSha384 => "hmac-sha384.",
            Algorithm::HmacSha512 => "hmac-sha512.",
        }
    }

    /// The algorithm name carried in the TSIG record (RFC 8945 §6).
    pub fn wire_name(self) -> Name {
        Name::from_ascii(self.wire_name_str()).expect("algorithm names are valid domain names")
    }

    /// The algorithm a TSIG record names, compared without regard to case.
    pub fn from_wire_name(name: &Name) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.wire_name().eq_ignore_root(name))
    }

    /// Length of the untruncated MAC in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Algorithm::HmacMd5 => 16,
            Algorithm::HmacSha1 => 20,
            Algorithm::HmacSha224 => 28,
            Algorithm::HmacSha256 => 32,
            Algorithm::HmacSha384 => 48,
            Algorithm::HmacSha512 => 64,
        }
    }

    /// The shortest MAC anyone may send: RFC 8945 §5.2.2.1 rule 3, the larger of 10 bytes and
    /// half the hash length (RFC 4635 §3.1 had the same floor).
    pub fn min_mac_len(self) -> usize {
        (self.output_len() / 2).max(10)
    }

    /// The full HMAC of `parts`, concatenated.
    fn mac(self, secret: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(secret: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            let mut mac =
                <M as Mac>::new_from_slice(secret).expect("HMAC takes keys of any length");
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Algorithm::HmacMd5 => run::<Hmac<md5::Md5>>(secret, parts),
            Algorithm::HmacSha1 => run::<Hmac<sha1::Sha1>>(secret, parts),
            Algorithm::HmacSha224 => run::<Hmac<sha2::Sha224>>(secret, parts),
            Algorithm::HmacSha256 => run::<Hmac<sha2::Sha256>>(secret, parts),
            Algorithm::HmacSha384 => run::<Hmac<sha2::Sha384>>(secret, parts),
            Algorithm::HmacSha512 => run::<Hmac<sha2::Sha512>>(secret, parts),
        }
    }

    /// hickory's view of the algorithm, for its TSIG RDATA encoder. Built from our lower-case
    /// name so that HMAC-MD5 goes out as `hmac-md5.sig-alg.reg.int.` like Kea and BIND send it
    /// (hickory's own `HmacMd5` variant spells it in upper case).
    fn to_hickory(self) -> TsigAlgorithm {
        let mut name = self.wire_name();
        name.set_fqdn(false);
        TsigAlgorithm::from_name(name)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kea_name())
    }
}

/// A TSIG key, as Kea's `tsig-keys` entry describes it.
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    /// Key name; goes in the TSIG record's owner name and must match the server's.
    pub name: Name,
    /// MAC algorithm.
    pub algorithm: Algorithm,
    /// The shared secret (already base64-decoded).
    pub secret: Vec<u8>,
    /// Kea's `digest-bits`: 0 sends the full MAC, otherwise the MAC is truncated to this many
    /// bits (see [`TsigKey::mac_len`]).
    pub digest_bits: u16,
}

impl TsigKey {
    /// Builds a key, applying Kea's rule for `digest-bits`: 0, or a multiple of 8 that is at
    /// least 80 and at least half the hash length (RFC 8945 §5.2.2.1). Kea accepts a value
    /// above the hash length and then sends the full MAC; so does this.
    pub fn new(
        name: Name,
        algorithm: Algorithm,
        secret: Vec<u8>,
        digest_bits: u16,
    ) -> Result<Self, KeyError> {
        if !digest_bits.is_multiple_of(8) {
            return Err(KeyError::DigestBitsNotMultipleOf8(digest_bits));
        }
        let min_bits = algorithm.min_mac_len() * 8;
        if digest_bits != 0 && usize::from(digest_bits) < min_bits {
            return Err(KeyError::DigestBitsTooSmall {
                algorithm,
                digest_bits,
                min_bits,
            });
        }
        let mut name = name;
        name.set_fqdn(true);
        Ok(TsigKey {
            name,
            algorithm,
            secret,
            digest_bits,
        })
    }

    /// Bytes of MAC this key sends, and the least it accepts from the peer (local truncation
    /// policy, RFC 8945 §5.2.4). Like Kea, a `digest_bits` outside RFC 8945 §5.2.2.1's bounds
    /// (only possible by filling the fields directly) falls back to the full length.
    pub fn mac_len(&self) -> usize {
        let full = self.algorithm.output_len();
        if self.digest_bits == 0 {
            return full;
        }
        let len = usize::from(self.digest_bits).div_ceil(8);
        if len < self.algorithm.min_mac_len() || len > full {
            full
        } else {
            len
        }
    }
}

/// A key's secret as a Kea `tsig-keys` entry gives it.
#[derive(Clone, Copy)]
pub enum Secret<'a> {
    /// `secret`, already base64-decoded.
    Bytes(&'a [u8]),
    /// `secret-file` (Kea 2.6+): a file holding the base64 secret, read now.
    File(&'a Path),
}

impl TsigKey {
    /// A Kea `tsig-keys` entry as a key: `name`, `algorithm` as Kea spells it
    /// (`"HMAC-SHA256"`, any case), `digest-bits` and the secret (a `secret-file` is read
    /// here, once).
    pub fn from_kea(
        name: &str,
        algorithm: &str,
        digest_bits: u32,
        secret: Secret<'_>,
    ) -> Result<Self, KeyError> {
        use base64::Engine as _;
        let secret = match secret {
            Secret::Bytes(b) => b.to_vec(),
            Secret::File(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| KeyError::SecretFile {
                    path: p.to_path_buf(),
                    reason: e.to_string(),
                })?;
                base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|e| KeyError::SecretNotBase64 {
                        path: p.to_path_buf(),
                        reason: e.to_string(),
                    })?
            }
        };
        let name = Name::from_ascii(name).map_err(|e| KeyError::Name(e.to_string()))?;
        let algorithm = Algorithm::from_kea_name(algorithm)?;
        let bits = u16::try_from(digest_bits)?;
        TsigKey::new(name, algorithm, secret, bits)
    }
}

impl fmt::Debug for TsigKey {
    // The secret stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .field("digest_bits", &self.digest_bits)
            .finish()
    }
}

/// A key that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The algorithm is not one Kea knows.
    #[error("unknown TSIG algorithm {0:?} (expected one of HMAC-MD5, HMAC-SHA1, HMAC-SHA224, HMAC-SHA256, HMAC-SHA384, HMAC-SHA512)")]
    UnknownAlgorithm(String),
    /// `digest-bits` is not a multiple of 8 (TSIG truncates to whole bytes, RFC 8945 §5.2.2.1).
    #[error("digest-bits {0} is not a multiple of 8")]
    DigestBitsNotMultipleOf8(u16),
    /// `digest-bits` is below RFC 8945 §5.2.2.1's floor.
    #[error("digest-bits {digest_bits} is too small for {algorithm}: at least {min_bits} (80 bits and half the hash length)")]
    DigestBitsTooSmall {
        /// The key's algorithm.
        algorithm: Algorithm,
        /// The configured value.
        digest_bits: u16,
        /// The least allowed value.
        min_bits: usize,
    },
    /// `digest-bits` does not fit in 16 bits.
    #[error(transparent)]
    DigestBitsOutOfRange(#[from] std::num::TryFromIntError),
    /// The key name is not a domain name.
    #[error("{0}")]
    Name(String),
    /// The `secret-file` cannot be read.
    #[error("cannot read {}: {reason}", path.display())]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The `secret-file` does not hold base64.
    #[error("{} is not base64: {reason}", path.display())]
    SecretNotBase64 {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Who found a TSIG problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The peer said so in the TSIG record's Error field (for a response: the server rejected
    /// our request). BADSIG and BADKEY come back unsigned (RFC 8945 §5.3.2), so that word is
    /// not authenticated; any other error is reported only once its MAC verified.
    Peer,
    /// Our own check of the received message failed.
    Local,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Peer => "peer reports",
            Origin::Local => "local check",
        })
    }
}

/// Why a message could not be parsed as a TSIG-signed DNS message, or signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// Fewer bytes than a DNS header.
    #[error("message of {0} bytes is shorter than a DNS header")]
    ShortHeader(usize),
    /// hickory could not decode part of the message.
    #[error("cannot decode message: {0}")]
    Decode(String),
    /// A TSIG record that is not the last record of the additional section, or more than one
    /// (RFC 8945 §5.2: FORMERR).
    #[error("TSIG record is not the last record of the additional section")]
    MisplacedTsig,
    /// Bytes after the last record, which the MAC would not cover.
    #[error("{0} bytes after the last record")]
    TrailingBytes(usize),
    /// Class other than ANY or TTL other than 0 (RFC 8945 §4.2).
    #[error("TSIG record has class {class} and TTL {ttl} (must be ANY and 0)")]
    TsigClassOrTtl {
        /// Class on the wire.
        class: u16,
        /// TTL on the wire.
        ttl: u32,
    },
    /// MAC longer than the hash (RFC 8945 §5.2.2.1 rule 1: FORMERR).
    #[error("MAC of {len} bytes is longer than {algorithm}'s {max}")]
    MacTooLong {
        /// The key's algorithm.
        algorithm: Algorithm,
        /// MAC size received.
        len: usize,
        /// The hash length.
        max: usize,
    },
    /// MAC shorter than anyone may truncate to (RFC 8945 §5.2.2.1 rule 3: FORMERR).
    #[error("MAC of {len} bytes is shorter than the {min} bytes {algorithm} allows")]
    MacTooShort {
        /// The key's algorithm.
        algorithm: Algorithm,
        /// MAC size received.
        len: usize,
        /// The floor.
        min: usize,
    },
    /// A length that does not fit its 16-bit field.
    #[error("{0} is longer than 65535 bytes")]
    TooLong(&'static str),
    /// The message to sign already has 65535 additional records.
    #[error("no room for a TSIG record: ARCOUNT is 65535")]
    ArcountFull,
}

/// A TSIG failure, on either side of the exchange.
///
/// `rcode` is the RCODE in the header of the message that failed (NOTAUTH when a server
/// rejects a request's TSIG, RFC 8945 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsigError {
    /// The answer to a signed request carries no TSIG record (RFC 8945 §5.4: treat as a
    /// format error). A request that should be signed but is not gets this too.
    #[error("message is not signed: no TSIG record (RCODE {})", mnemonic(.rcode))]
    Unsigned {
        /// Header RCODE.
        rcode: ResponseCode,
    },
    /// BADKEY: the peer does not know the key, or the message is signed with another key.
    #[error("{origin} BADKEY: TSIG key not recognised (RCODE {})", mnemonic(.rcode))]
    BadKey {
        /// Who found it.
        origin: Origin,
        /// Header RCODE.
        rcode: ResponseCode,
    },
    /// The message is signed with our key name but another algorithm.
    #[error("TSIG algorithm mismatch: key uses {expected}, message names {found} (RCODE {})", mnemonic(.rcode))]
    AlgorithmMismatch {
        /// The key's algorithm.
        expected: Algorithm,
        /// The algorithm the record names.
        found: Name,
        /// Header RCODE.
        rcode: ResponseCode,
    },
    /// BADSIG: the MAC does not verify (locally), or the peer says ours did not.
    #[error("{origin} BADSIG: TSIG MAC does not verify (RCODE {})", mnemonic(.rcode))]
    BadSig {
        /// Who found it.
        origin: Origin,
        /// Header RCODE.
        rcode: ResponseCode,
    },
    /// BADTIME: Time Signed is outside the fudge window.
    #[error("{origin} BADTIME: time signed {time_signed} ± {fudge} s, local clock {now}{} (RCODE {})",
        .peer_time.map(|t| format!(", peer clock {t}")).unwrap_or_default(), mnemonic(.rcode))]
    BadTime {
        /// Who found it.
        origin: Origin,
        /// Header RCODE.
        rcode: ResponseCode,
        /// Time Signed of the record (for a peer's BADTIME, our request's time, echoed).
        time_signed: u64,
        /// Fudge of the record.
        fudge: u16,
        /// Our clock when checking.
        now: u64,
        /// The peer's clock, from Other Data of a BADTIME answer (RFC 8945 §5.2.3).
        peer_time: Option<u64>,
    },
    /// BADTRUNC: a MAC shorter than the local truncation policy accepts (RFC 8945 §5.2.4).
    #[error("{origin} BADTRUNC: MAC of {mac_len} bytes is truncated too far (RCODE {})", mnemonic(.rcode))]
    BadTrunc {
        /// Who found it.
        origin: Origin,
        /// Header RCODE.
        rcode: ResponseCode,
        /// Length of the MAC found too short (for the peer's BADTRUNC, our request's MAC).
        mac_len: usize,
    },
    /// Another TSIG error code from the peer (BADMODE, BADNAME, BADALG, ...).
    #[error("peer reports TSIG error {code} (RCODE {})", mnemonic(.rcode))]
    PeerError {
        /// The TSIG Error field.
        code: u16,
        /// Header RCODE.
        rcode: ResponseCode,
    },
    /// The message cannot be parsed (a FORMERR on the server side).
    #[error("malformed TSIG message: {0}")]
    Malformed(#[from] Malformed),
    /// Time Signed does not fit TSIG's 48 bits.
    #[error("time signed {0} does not fit in 48 bits")]
    TimeOutOfRange(u64),
}

/// The RCODE as operators read it in dig and BIND's logs.
fn mnemonic(rcode: &ResponseCode) -> String {
    crate::rcode::mnemonic_or_number(*rcode)
}

impl From<hickory_proto::serialize::binary::DecodeError> for TsigError {
    fn from(e: hickory_proto::serialize::binary::DecodeError) -> Self {
        TsigError::Malformed(Malformed::Decode(e.to_string()))
    }
}

impl From<hickory_proto::ProtoError> for TsigError {
    fn from(e: hickory_proto::ProtoError) -> Self {
        TsigError::Malformed(Malformed::Decode(e.to_string()))
    }
}

/// A signed message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The message with its TSIG record appended.
    pub wire: Vec<u8>,
    /// The MAC as placed in the record (truncated if the key says so). A request's MAC is
    /// needed to verify its answer (RFC 8945 §4.3.2).
    pub mac: Vec<u8>,
}

/// A response whose TSIG verified.
#[derive(Debug, Clone)]
pub struct VerifiedResponse {
    /// The response without its TSIG record, decoded by hickory.
    pub message: Message,
    /// Time Signed of the response's TSIG.
    pub time_signed: u64,
    /// The response's MAC.
    pub mac: Vec<u8>,
}

impl VerifiedResponse {
    /// The response's RCODE (NOERROR, NXDOMAIN, YXDOMAIN, ...).
    pub fn rcode(&self) -> ResponseCode {
        self.message.metadata.response_code
    }
}

/// A request whose TSIG verified (server side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest<'k> {
    /// The key that signed it.
    pub key: &'k TsigKey,
    /// The request's MAC, which the response's MAC covers (RFC 8945 §4.3.2).
    pub mac: Vec<u8>,
    /// Time Signed of the request's TSIG.
    pub time_signed: u64,
    /// Fudge of the request's TSIG.
    pub fudge: u16,
    /// Original ID of the request's TSIG.
    pub original_id: u16,
    /// Length of the request without its TSIG record (the header still counts it).
    pub unsigned_len: usize,
}

/// Seconds since the Unix epoch, the clock TSIG uses.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Signs a request (RFC 8945 §5.1): the MAC covers the message as given, then the TSIG
/// variables (§4.3.1); the TSIG record is appended as the last additional record.
///
/// `msg` is the complete message without TSIG; its ID becomes the record's Original ID.
pub fn sign_request(
    msg: &[u8],
    key: &TsigKey,
    time_signed: u64,
    fudge: u16,
) -> Result<Signed, TsigError> {
    let id = header_id(msg)?;
    let vars = Variables::no_error(time_signed, fudge);
    let vars_wire = vars.to_wire(key)?;
    let mut mac = key.algorithm.mac(&key.secret, &[msg, &vars_wire]);
    // RFC 8945 §5.2.2.1 rule 4: keep the leading bytes.
    mac.truncate(key.mac_len());
    append_tsig(msg, key, &vars, mac, id)
}

/// Verifies the answer to a request signed with `key` whose MAC was `request_mac`
/// (RFC 8945 §5.4), with `now` in seconds since the Unix epoch.
///
/// Checks, in order: a TSIG record is present and well placed; it names our key and
/// algorithm; a MAC is there (the server answers BADKEY and BADSIG unsigned, §5.3.2) and of a
/// permitted length (§5.2.2.1); the MAC verifies (§4.3.2); the server reports no TSIG error;
/// Time Signed is within the fudge (§5.2.3); the MAC is not truncated below the key's length
/// (§5.2.4). Errors reported by the server (a BADTIME answer is signed, so it is verified
/// first) come back with [`Origin::Peer`].
pub fn verify_response(
    response: &[u8],
    key: &TsigKey,
    request_mac: &[u8],
    now: u64,
) -> Result<VerifiedResponse, TsigError> {
    let parsed = parse(response)?;
    let rcode = parsed.rcode;
    let Some(rr) = parsed.tsig else {
        return Err(TsigError::Unsigned { rcode });
    };
    check_key_and_algorithm(&rr, key, rcode)?;
    let error = rr.error_code();
    if rr.rdata.mac.is_empty() {
        // §5.3.2: a server answers key and MAC errors unsigned. Nothing else may come back
        // without a MAC, so anything else unsigned counts as a bad signature.
        return Err(match error {
            code::BADSIG | code::BADKEY => peer_error(error, &rr, rcode, request_mac.len(), now),
            _ => TsigError::BadSig {
                origin: Origin::Local,
                rcode,
            },
        });
    }
    check_mac_size(rr.rdata.mac.len(), key.algorithm)?;

    check_mac(response, &rr, key, Some(request_mac), rcode)?;
    // The answer is authentic from here on.
    if error != 0 {
        return Err(peer_error(error, &rr, rcode, request_mac.len(), now));
    }
    check_time(&rr, rcode, now)?;
    check_truncation(&rr, key, rcode)?;

    let message = Message::from_vec(&strip_tsig(response, rr.start))?;
    Ok(VerifiedResponse {
        message,
        time_signed: rr.rdata.time,
        mac: rr.rdata.mac,
    })
}

/// Verifies a signed request against the keys this server knows (RFC 8945 §5.2), with `now`
/// in seconds since the Unix epoch. Checks key, then MAC, then time, then truncation, the
/// order §5.2 prescribes. A server answers [`TsigError::BadKey`] and
/// [`TsigError::AlgorithmMismatch`] with BADKEY and [`TsigError::Malformed`] with FORMERR.
pub fn verify_request<'k>(
    request: &[u8],
    keys: &'k [TsigKey],
    now: u64,
) -> Result<VerifiedRequest<'k>, TsigError> {
    let parsed = parse(request)?;
    let rcode = parsed.rcode;
    let Some(rr) = parsed.tsig else {
        return Err(TsigError::Unsigned { rcode });
    };
    let key = keys
        .iter()
        .find(|k| k.name.eq_ignore_root(&rr.key_name))
        .ok_or(TsigError::BadKey {
            origin: Origin::Local,
            rcode,
        })?;
    check_key_and_algorithm(&rr, key, rcode)?;
    if rr.rdata.mac.is_empty() {
        return Err(TsigError::BadSig {
            origin: Origin::Local,
            rcode,
        });
    }
    check_mac_size(rr.rdata.mac.len(), key.algorithm)?;
    check_mac(request, &rr, key, None, rcode)?;
    check_time(&rr, rcode, now)?;
    check_truncation(&rr, key, rcode)?;
    Ok(VerifiedRequest {
        key,
        mac: rr.rdata.mac,
        time_signed: rr.rdata.time,
        fudge: rr.rdata.fudge,
        original_id: rr.rdata.oid,
        unsigned_len: rr.start,
    })
}

/// Signs a response to a request whose MAC was `request_mac` (RFC 8945 §5.3): the MAC covers
/// the request MAC, the response, then the TSIG variables with `error` and `other`.
///
/// For BADSIG and BADKEY the record goes out unsigned, with an empty MAC (§5.3.2). For a
/// BADTIME answer pass the request's Time Signed and fudge, and our clock as 6 bytes of
/// `other` (§5.2.3).
pub fn sign_response(
    msg: &[u8],
    key: &TsigKey,
    request_mac: &[u8],
    time_signed: u64,
    fudge: u16,
    error: u16,
    other: &[u8],
) -> Result<Signed, TsigError> {
    let id = header_id(msg)?;
    let vars = Variables {
        time_signed,
        fudge,
        error,
        other,
    };
    let mac = if error == code::BADSIG || error == code::BADKEY {
        Vec::new()
    } else {
        let mut mac = key.algorithm.mac(
            &key.secret,
            &[&request_mac_field(request_mac)?, msg, &vars.to_wire(key)?],
        );
        mac.truncate(key.mac_len());
        mac
    };
    append_tsig(msg, key, &vars, mac, id)
}

/// The answer's TSIG record when a request failed [`verify_request`] with `error` (RFC 8945
/// §5.2): `response` is the encoded error answer (RCODE NOTAUTH), `now` our clock.
///
/// BADKEY (an unknown key or algorithm, §5.2.1) and BADSIG (§5.2.2) go out unsigned, with
/// an empty MAC (§5.3.2), naming the request's key and algorithm, Time Signed our clock.
/// BADTIME (§5.2.3) is signed with the request's key, covering its MAC, with its Time Signed
/// and Fudge and our clock (48 bits) in Other Data; BADTRUNC (§5.2.4) is signed too. `None`
/// for the errors answered without a TSIG record (a malformed message gets FORMERR).
pub fn sign_error_response(
    request: &[u8],
    response: &[u8],
    keys: &[TsigKey],
    error: &TsigError,
    now: u64,
) -> Result<Option<Signed>, TsigError> {
    let code = match error {
        TsigError::BadKey { .. } | TsigError::AlgorithmMismatch { .. } => code::BADKEY,
        TsigError::BadSig { .. } => code::BADSIG,
        TsigError::BadTime { .. } => code::BADTIME,
        TsigError::BadTrunc { .. } => code::BADTRUNC,
        _ => return Ok(None),
    };
    let Some(rr) = parse(request)?.tsig else {
        return Ok(None);
    };
    if code == code::BADKEY || code == code::BADSIG {
        let vars = Variables {
            time_signed: now,
            fudge: rr.rdata.fudge,
            error: code,
            other: &[],
        };
        let id = header_id(response)?;
        return append_record(
            response,
            &rr.key_name,
            rr.rdata.algorithm.clone(),
            &vars,
            Vec::new(),
            id,
        )
        .map(Some);
    }
    // The MAC verified (BADTIME and BADTRUNC are checked after it), so the key is known.
    let key = keys
        .iter()
        .find(|k| k.name.eq_ignore_root(&rr.key_name))
        .ok_or(TsigError::BadKey {
            origin: Origin::Local,
            rcode: ResponseCode::NotAuth,
        })?;
    let (time_signed, other) = if code == code::BADTIME {
        let clock = now.min(MAX_TIME_SIGNED).to_be_bytes();
        (rr.rdata.time, clock[2..].to_vec())
    } else {
        (now, Vec::new())
    };
    sign_response(
        response,
        key,
        &rr.rdata.mac,
        time_signed,
        rr.rdata.fudge,
        code,
        &other,
    )
    .map(Some)
}

/// The TSIG variables that follow the message in the MAC input (RFC 8945 §4.3.3).
struct Variables<'a> {
    time_signed: u64,
    fudge: u16,
    error: u16,
    other: &'a [u8],
}

impl Variables<'_> {
    /// The variables of a signature reporting no error.
    fn no_error(time_signed: u64, fudge: u16) -> Variables<'static> {
        Variables {
            time_signed,
            fudge,
            error: 0,
            other: &[],
        }
    }

    /// Key name, class ANY, TTL 0, algorithm name (names in canonical form: lower case,
    /// uncompressed), Time Signed (48 bits), Fudge, Error, Other Len, Other Data.
    fn to_wire(&self, key: &TsigKey) -> Result<Vec<u8>, TsigError> {
        if self.time_signed > MAX_TIME_SIGNED {
            return Err(TsigError::TimeOutOfRange(self.time_signed));
        }
        let other_len = u16::try_from(self.other.len())
            .map_err(|_| TsigError::Malformed(Malformed::TooLong("TSIG other data")))?;
        let mut buf = Vec::with_capacity(64);
        let mut enc = BinEncoder::new(&mut buf);
        enc.set_name_encoding(NameEncoding::UncompressedLowercase);
        key.name.emit(&mut enc)?;
        enc.emit_u16(u16::from(DNSClass::ANY))?;
        enc.emit_u32(0)?;
        key.algorithm.wire_name().emit(&mut enc)?;
        enc.emit_u16((self.time_signed >> 32) as u16)?;
        enc.emit_u32(self.time_signed as u32)?;
        enc.emit_u16(self.fudge)?;
        enc.emit_u16(self.error)?;
        enc.emit_u16(other_len)?;
        enc.emit_vec(self.other)?;
        Ok(buf)
    }
}

/// Appends the TSIG record (RFC 8945 §4.2) to `msg` and counts it in ARCOUNT.
fn append_tsig(
    msg: &[u8],
    key: &TsigKey,
    vars: &Variables<'_>,
    mac: Vec<u8>,
    original_id: u16,
) -> Result<Signed, TsigError> {
    append_record(
        msg,
        &key.name,
        key.algorithm.to_hickory(),
        vars,
        mac,
        original_id,
    )
}

/// Appends a TSIG record naming `key_name` and `algorithm` (those of a request, for an
/// unsigned error answer to a key tern does not know).
fn append_record(
    msg: &[u8],
    key_name: &Name,
    algorithm: TsigAlgorithm,
    vars: &Variables<'_>,
    mac: Vec<u8>,
    original_id: u16,
) -> Result<Signed, TsigError> {
    let arcount = u16::from_be_bytes([msg[10], msg[11]])
        .checked_add(1)
        .ok_or(Malformed::ArcountFull)?;
    if vars.time_signed > MAX_TIME_SIGNED {
        return Err(TsigError::TimeOutOfRange(vars.time_signed));
    }
    let error = match vars.error {
        0 => None,
        c => Some(WireError::from(c)),
    };
    let rdata = TSIG::new(
        algorithm,
        vars.time_signed,
        vars.fudge,
        mac.clone(),
        original_id,
        error,
        vars.other.to_vec(),
    );
    // make_tsig_record sets class ANY and TTL 0.
    let record = make_tsig_record(key_name.clone(), rdata);
    let mut rr = Vec::with_capacity(128);
    {
        // A fresh encoder knows none of the message's names, so nothing gets compressed.
        let mut enc = BinEncoder::new(&mut rr);
        enc.set_name_encoding(NameEncoding::Uncompressed);
        record.emit(&mut enc)?;
    }
    let mut wire = Vec::with_capacity(msg.len() + rr.len());
    wire.extend_from_slice(msg);
    wire[10..12].copy_from_slice(&arcount.to_be_bytes());
    wire.extend_from_slice(&rr);
    Ok(Signed { wire, mac })
}

/// A message split around its TSIG record.
struct Parsed {
    rcode: ResponseCode,
    tsig: Option<TsigRr>,
}

/// The TSIG record of a message.
struct TsigRr {
    /// Offset of the record in the message: everything before it is covered by the MAC.
    start: usize,
    key_name: Name,
    rdata: TSIG,
}

impl TsigRr {
    fn error_code(&self) -> u16 {
        self.rdata.error.map(u16::from).unwrap_or(0)
    }

    fn variables(&self) -> Variables<'_> {
        Variables {
            time_signed: self.rdata.time,
            fudge: self.rdata.fudge,
            error: self.error_code(),
            other: &self.rdata.other,
        }
    }
}

/// Walks the message to find its TSIG record. Records before it are skipped unread: the MAC
/// covers their bytes, whatever they hold. RFC 8945 §5.2: the TSIG record must be the only one
/// and the last of the additional section.
fn parse(msg: &[u8]) -> Result<Parsed, TsigError> {
    if msg.len() < HEADER_LEN {
        return Err(Malformed::ShortHeader(msg.len()).into());
    }
    let count = |i: usize| usize::from(u16::from_be_bytes([msg[i], msg[i + 1]]));
    let (questions, answers, authorities, additionals) = (count(4), count(6), count(8), count(10));
    let rcode = ResponseCode::from_low(msg[3] & 0x0f);

    let mut dec = BinDecoder::new(msg);
    dec.read_slice(HEADER_LEN)?;
    for _ in 0..questions {
        Name::read(&mut dec)?;
        dec.read_slice(4)?; // QTYPE, QCLASS
    }
    let records = answers + authorities + additionals;
    let mut tsig_start = None;
    for i in 0..records {
        let start = dec.index();
        Name::read(&mut dec)?;
        let rtype = RecordType::from(dec.read_u16()?.unverified(/* any type */));
        dec.read_slice(6)?; // CLASS, TTL
        let rdlength = dec.read_u16()?.unverified(/* bounded by read_slice */);
        dec.read_slice(usize::from(rdlength))?;
        if rtype == RecordType::TSIG {
            if i + 1 != records || additionals == 0 {
                return Err(Malformed::MisplacedTsig.into());
            }
            tsig_start = Some(start);
        }
    }
    if !dec.is_empty() {
        return Err(Malformed::TrailingBytes(dec.len()).into());
    }
    let Some(start) = tsig_start else {
        return Ok(Parsed { rcode, tsig: None });
    };

    let mut dec = BinDecoder::new(msg);
    dec.read_slice(start)?;
    let record = Record::<RData>::read(&mut dec)?;
    if record.dns_class != DNSClass::ANY || record.ttl != 0 {
        return Err(Malformed::TsigClassOrTtl {
            class: record.dns_class.into(),
            ttl: record.ttl,
        }
        .into());
    }
    let RData::TSIG(rdata) = record.data else {
        return Err(Malformed::Decode("TSIG record without RDATA".into()).into());
    };
    Ok(Parsed {
        rcode,
        tsig: Some(TsigRr {
            start,
            key_name: record.name,
            rdata,
        }),
    })
}

fn header_id(msg: &[u8]) -> Result<u16, TsigError> {
    if msg.len() < HEADER_LEN {
        return Err(Malformed::ShortHeader(msg.len()).into());
    }
    Ok(u16::from_be_bytes([msg[0], msg[1]]))
}

/// The header as the signer saw it (RFC 8945 §4.3.1, §4.3.2): ID set back to Original ID and
/// ARCOUNT not counting the TSIG record. `parse` has checked ARCOUNT ≥ 1.
fn mac_header(msg: &[u8], original_id: u16) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header.copy_from_slice(&msg[..HEADER_LEN]);
    header[0..2].copy_from_slice(&original_id.to_be_bytes());
    let arcount = u16::from_be_bytes([header[10], header[11]]) - 1;
    header[10..12].copy_from_slice(&arcount.to_be_bytes());
    header
}

/// The message without its TSIG record, with ARCOUNT adjusted (ID left as received).
fn strip_tsig(msg: &[u8], tsig_start: usize) -> Vec<u8> {
    let mut out = msg[..tsig_start].to_vec();
    let arcount = u16::from_be_bytes([out[10], out[11]]) - 1;
    out[10..12].copy_from_slice(&arcount.to_be_bytes());
    out
}

fn check_key_and_algorithm(
    rr: &TsigRr,
    key: &TsigKey,
    rcode: ResponseCode,
) -> Result<(), TsigError> {
    if !rr.key_name.eq_ignore_root(&key.name) {
        return Err(TsigError::BadKey {
            origin: Origin::Local,
            rcode,
        });
    }
    let found = rr.rdata.algorithm.to_name();
    if Algorithm::from_wire_name(&found) != Some(key.algorithm) {
        return Err(TsigError::AlgorithmMismatch {
            expected: key.algorithm,
            found,
            rcode,
        });
    }
    Ok(())
}

/// RFC 8945 §5.2.2.1 rules 1 and 3: a MAC longer than the hash, or shorter than the larger of
/// 10 bytes and half the hash, is a format error.
fn check_mac_size(len: usize, algorithm: Algorithm) -> Result<(), Malformed> {
    let max = algorithm.output_len();
    if len > max {
        return Err(Malformed::MacTooLong {
            algorithm,
            len,
            max,
        });
    }
    let min = algorithm.min_mac_len();
    if len < min {
        return Err(Malformed::MacTooShort {
            algorithm,
            len,
            min,
        });
    }
    Ok(())
}

/// Recomputes the MAC of a received message and compares it with the record's.
///
/// The input is RFC 8945 §4.3: for a response, the request MAC with its length (§4.3.2);
/// the message as the signer saw it; the TSIG variables (§4.3.3). The received MAC may be
/// truncated: it is compared with the leading bytes of ours (§5.2.2.1 rule 4), in constant
/// time.
fn check_mac(
    msg: &[u8],
    rr: &TsigRr,
    key: &TsigKey,
    request_mac: Option<&[u8]>,
    rcode: ResponseCode,
) -> Result<(), TsigError> {
    let expected = key.algorithm.mac(
        &key.secret,
        &[
            &request_mac_field(request_mac.unwrap_or_default())?,
            &mac_header(msg, rr.rdata.oid),
            &msg[HEADER_LEN..rr.start],
            &rr.variables().to_wire(key)?,
        ],
    );
    let received = &rr.rdata.mac;
    let matches =
        received.len() <= expected.len() && bool::from(expected[..received.len()].ct_eq(received));
    if !matches {
        return Err(TsigError::BadSig {
            origin: Origin::Local,
            rcode,
        });
    }
    Ok(())
}

/// The request MAC as a response's MAC covers it: MAC Size, then MAC (RFC 8945 §4.3.2).
/// Left out when there is none (an unsigned error answer, §5.3.2).
fn request_mac_field(request_mac: &[u8]) -> Result<Vec<u8>, TsigError> {
    if request_mac.is_empty() {
        return Ok(Vec::new());
    }
    let len = u16::try_from(request_mac.len()).map_err(|_| Malformed::TooLong("request MAC"))?;
    Ok([&len.to_be_bytes()[..], request_mac].concat())
}

/// RFC 8945 §5.2.4: a MAC that verified but is shorter than this key sends is BADTRUNC.
fn check_truncation(rr: &TsigRr, key: &TsigKey, rcode: ResponseCode) -> Result<(), TsigError> {
    if rr.rdata.mac.len() < key.mac_len() {
        return Err(TsigError::BadTrunc {
            origin: Origin::Local,
            rcode,
            mac_len: rr.rdata.mac.len(),
        });
    }
    Ok(())
}

/// RFC 8945 §5.2.3: now must lie within Time Signed ± Fudge.
fn check_time(rr: &TsigRr, rcode: ResponseCode, now: u64) -> Result<(), TsigError> {
    if now.abs_diff(rr.rdata.time) > u64::from(rr.rdata.fudge) {
        return Err(TsigError::BadTime {
            origin: Origin::Local,
            rcode,
            time_signed: rr.rdata.time,
            fudge: rr.rdata.fudge,
            now,
            peer_time: None,
        });
    }
    Ok(())
}

/// The error a server reported in the TSIG Error field (RFC 8945 §5.4.1–§5.4.4).
fn peer_error(
    error: u16,
    rr: &TsigRr,
    rcode: ResponseCode,
    request_mac_len: usize,
    now: u64,
) -> TsigError {
    let origin = Origin::Peer;
    match error {
        code::BADSIG => TsigError::BadSig { origin, rcode },
        code::BADKEY => TsigError::BadKey { origin, rcode },
        code::BADTIME => TsigError::BadTime {
            origin,
            rcode,
            time_signed: rr.rdata.time,
            fudge: rr.rdata.fudge,
            now,
            // §5.2.3: the server's clock, 48 bits, in Other Data.
            peer_time: <[u8; 6]>::try_from(rr.rdata.other.as_slice())
                .ok()
                .map(|b| b.iter().fold(0u64, |t, &b| (t << 8) | u64::from(b))),
        },
        code::BADTRUNC => TsigError::BadTrunc {
            origin,
            rcode,
            mac_len: request_mac_len,
        },
        code => TsigError::PeerError { code, rcode },
    }
}

/// Signs a later message of a multi-message answer such as AXFR (RFC 8945 §5.3.1): the MAC
/// covers `prior_mac` (the MAC of the previous signed message, the first one signed with
/// [`sign_response`]) with its length, the message as given and the timers only (Time
/// Signed, Fudge) — what [`verify_subsequent`] checks. tern signs every message (Knot does
/// too; some clients, miekg/dns's, fail on unsigned ones), so nothing lies in between.
pub fn sign_subsequent(
    msg: &[u8],
    key: &TsigKey,
    prior_mac: &[u8],
    time_signed: u64,
    fudge: u16,
) -> Result<Signed, TsigError> {
    let id = header_id(msg)?;
    let vars = Variables::no_error(time_signed, fudge);
    if time_signed > MAX_TIME_SIGNED {
        return Err(TsigError::TimeOutOfRange(time_signed));
    }
    let mut mac = key.algorithm.mac(
        &key.secret,
        &[
            &request_mac_field(prior_mac)?,
            msg,
            &timers(time_signed, fudge),
        ],
    );
    mac.truncate(key.mac_len());
    append_tsig(msg, key, &vars, mac, id)
}

/// The TSIG timers alone (Time Signed, 48 bits, then Fudge): what a later message of a
/// multi-message answer digests in place of all the variables (RFC 8945 §5.3.1).
fn timers(time_signed: u64, fudge: u16) -> Vec<u8> {
    let mut t = Vec::with_capacity(8);
    t.extend_from_slice(&((time_signed >> 32) as u16).to_be_bytes());
    t.extend_from_slice(&(time_signed as u32).to_be_bytes());
    t.extend_from_slice(&fudge.to_be_bytes());
    t
}

#[cfg(test)]
mod tests;

/// Verifies a later message of a multi-message answer such as AXFR (RFC 8945 §5.3.1),
/// with `now` in seconds since the Unix epoch. `prior_mac` is the MAC of the last signed
/// message (the first answer's, verified with [`verify_response`]); `unsigned_since` are
/// the messages received unsigned since then, concatenated as received. Returns `None`
/// when `response` is unsigned too (the caller then adds it to `unsigned_since`): a
/// server may sign as seldom as every 100th message.
///
/// The MAC covers the prior MAC with its length, the messages since it and this one
/// (without its TSIG record, ID as Original ID), and the timers only (Time Signed, Fudge).
pub fn verify_subsequent(
    response: &[u8],
    unsigned_since: &[u8],
    key: &TsigKey,
    prior_mac: &[u8],
    now: u64,
) -> Result<Option<VerifiedResponse>, TsigError> {
    let parsed = parse(response)?;
    let rcode = parsed.rcode;
    let Some(rr) = parsed.tsig else {
        return Ok(None);
    };
    check_key_and_algorithm(&rr, key, rcode)?;
    check_mac_size(rr.rdata.mac.len(), key.algorithm)?;
    let expected = key.algorithm.mac(
        &key.secret,
        &[
            &request_mac_field(prior_mac)?,
            unsigned_since,
            &mac_header(response, rr.rdata.oid),
            &response[HEADER_LEN..rr.start],
            &timers(rr.rdata.time, rr.rdata.fudge),
        ],
    );
    let received = &rr.rdata.mac;
    if received.len() > expected.len() || !bool::from(expected[..received.len()].ct_eq(received)) {
        return Err(TsigError::BadSig {
            origin: Origin::Local,
            rcode,
        });
    }
    if rr.error_code() != 0 {
        return Err(peer_error(
            rr.error_code(),
            &rr,
            rcode,
            prior_mac.len(),
            now,
        ));
    }
    check_time(&rr, rcode, now)?;
    check_truncation(&rr, key, rcode)?;
    let message = Message::from_vec(&strip_tsig(response, rr.start))?;
    Ok(Some(VerifiedResponse {
        message,
        time_signed: rr.rdata.time,
        mac: rr.rdata.mac,
    }))
}
