//! The DHCID resource record's RDATA (RFC 4701).
//!
//! ```text
//! RDATA = identifier-type (2 octets, network order)
//!      || digest-type     (1 octet; 1 = SHA-256)
//!      || SHA-256(identifier || FQDN in canonical wire form)     (RFC 4701 §3.3, §3.5)
//! ```
//!
//! Identifier types (RFC 4701 §3.3):
//! - `0x0000`: the DHCPv4 `htype` octet followed by `chaddr` (`hlen` octets);
//! - `0x0001`: the data of DHCPv4 option 61 (client identifier);
//! - `0x0002`: a DUID — DHCPv6 option 1, or the DUID inside an RFC 4361 DHCPv4 client
//!   identifier.
//!
//! A DHCID in an NCR is opaque RDATA in hex: d2 puts it into DHCID records and compares
//! it with what DNS holds, so [`Dhcid::from_rdata`] and [`Dhcid::from_hex`] accept any
//! non-empty bytes (Kea's own tests send 8-byte values), not only well-formed digests.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::encoding::{self, HexError};
use crate::fqdn::Fqdn;

/// RFC 4701 §3.4 digest type 1: SHA-256, the only one defined.
pub const DIGEST_TYPE_SHA256: u8 = 1;

/// The longest DUID: a 2-octet type code and at most 128 octets (RFC 8415 §11.1).
pub const MAX_DUID_LEN: usize = 130;

/// First octet of an RFC 4361 DHCPv4 client identifier that carries IAID + DUID.
const RFC4361_CLIENT_ID_TYPE: u8 = 0xff;

/// Octets before the DUID in an RFC 4361 client identifier: the 0xFF type and a 4-octet IAID.
const RFC4361_DUID_OFFSET: usize = 5;

/// What identifies the client in a DHCID (RFC 4701 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentifierType {
    /// 0x0000: DHCPv4 `htype` octet followed by the `chaddr` octets.
    HwAddr,
    /// 0x0001: DHCPv4 client identifier (option 61) data.
    ClientId,
    /// 0x0002: a DUID.
    Duid,
}

impl IdentifierType {
    /// The 2-octet code at the start of the RDATA.
    pub fn code(self) -> u16 {
        match self {
            Self::HwAddr => 0,
            Self::ClientId => 1,
            Self::Duid => 2,
        }
    }
}

/// Why a DHCID could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhcidError {
    /// No RDATA at all.
    #[error("it is empty")]
    Empty,
    /// Hex text with an odd number of digits.
    #[error("{0} hex digits is an odd number")]
    OddHexLength(usize),
    /// Hex text with a character that is not a hex digit.
    #[error("{ch:?} at offset {offset} is not a hex digit")]
    NotHex {
        /// Byte offset of the character.
        offset: usize,
        /// The character.
        ch: char,
    },
    /// The client identifier, DUID or hardware address to hash is empty.
    #[error("the {0} is empty")]
    EmptyIdentifier(&'static str),
    /// A DUID longer than 130 octets.
    #[error("the DUID is {0} octets long, more than 130")]
    DuidTooLong(usize),
    /// An RFC 4361 client identifier (first octet 0xFF) whose embedded DUID is empty or
    /// longer than 130 octets.
    #[error(
        "the client identifier starts with 0xFF (RFC 4361) but its DUID is {duid_len} octets \
         long; it must be 1 to 130"
    )]
    EmbeddedDuidLength {
        /// Octets after the type and IAID.
        duid_len: usize,
    },
}

impl From<HexError> for DhcidError {
    fn from(e: HexError) -> Self {
        match e {
            HexError::OddLength(n) => Self::OddHexLength(n),
            HexError::NotHex { offset, ch } => Self::NotHex { offset, ch },
        }
    }
}

/// DHCID RDATA (RFC 4701), as an NCR carries it and d2 writes it into DNS.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dhcid(Vec<u8>);

impl Dhcid {
    /// Computes the RDATA for `identifier` of type `id_type` and `fqdn` (RFC 4701 §3.3):
    /// the type code, digest type 1 and SHA-256 over the identifier followed by the
    /// name's canonical wire form.
    ///
    /// This is the bare algorithm; the `from_*` constructors pick the type and check
    /// the identifier the way Kea does.
    pub fn compute(id_type: IdentifierType, identifier: &[u8], fqdn: &Fqdn) -> Self {
        let digest = Sha256::new()
            .chain_update(identifier)
            .chain_update(fqdn.wire())
            .finalize();
        let mut rdata = Vec::with_capacity(3 + digest.len());
        rdata.extend_from_slice(&id_type.code().to_be_bytes());
        rdata.push(DIGEST_TYPE_SHA256);
        rdata.extend_from_slice(&digest);
        Self(rdata)
    }

    /// DHCID of a DHCPv6 client: identifier type 2 over the DUID (option 1 data).
    pub fn from_duid(duid: &[u8], fqdn: &Fqdn) -> Result<Self, DhcidError> {
        if duid.is_empty() {
            return Err(DhcidError::EmptyIdentifier("DUID"));
        }
        if duid.len() > MAX_DUID_LEN {
            return Err(DhcidError::DuidTooLong(duid.len()));
        }
        Ok(Self::compute(IdentifierType::Duid, duid, fqdn))
    }

    /// DHCID of a DHCPv4 client that sent a client identifier (option 61 data).
    ///
    /// An identifier whose first octet is 0xFF is an RFC 4361 node-specific identifier:
    /// 0xFF, a 4-octet IAID, then a DUID. Its DHCID is then type 2 over that DUID alone,
    /// so the client gets the same DHCID over DHCPv4 and DHCPv6 (RFC 4361 §6.1; Kea does
    /// the same). Any other identifier is hashed whole with type 1.
    pub fn from_client_id(client_id: &[u8], fqdn: &Fqdn) -> Result<Self, DhcidError> {
        match client_id.first() {
            None => Err(DhcidError::EmptyIdentifier("client identifier")),
            Some(&RFC4361_CLIENT_ID_TYPE) => {
                let duid = client_id.get(RFC4361_DUID_OFFSET..).unwrap_or_default();
                if duid.is_empty() || duid.len() > MAX_DUID_LEN {
                    return Err(DhcidError::EmbeddedDuidLength {
                        duid_len: duid.len(),
                    });
                }
                Ok(Self::compute(IdentifierType::Duid, duid, fqdn))
            }
            Some(_) => Ok(Self::compute(IdentifierType::ClientId, client_id, fqdn)),
        }
    }

    /// DHCID of a DHCPv4 client known only by its hardware address: type 0 over the
    /// `htype` octet followed by the `chaddr` octets (only the first `hlen` of them).
    pub fn from_hwaddr(htype: u8, chaddr: &[u8], fqdn: &Fqdn) -> Result<Self, DhcidError> {
        if chaddr.is_empty() {
            return Err(DhcidError::EmptyIdentifier("hardware address"));
        }
        let mut identifier = Vec::with_capacity(1 + chaddr.len());
        identifier.push(htype);
        identifier.extend_from_slice(chaddr);
        Ok(Self::compute(IdentifierType::HwAddr, &identifier, fqdn))
    }

    /// Wraps RDATA as found in DNS or in an NCR. Any non-empty bytes are accepted.
    pub fn from_rdata(rdata: Vec<u8>) -> Result<Self, DhcidError> {
        if rdata.is_empty() {
            return Err(DhcidError::Empty);
        }
        Ok(Self(rdata))
    }

    /// Parses the hex of the RDATA, in either case, as an NCR's "dhcid" carries it.
    pub fn from_hex(hex: &str) -> Result<Self, DhcidError> {
        Self::from_rdata(encoding::from_hex(hex)?)
    }

    /// The RDATA octets.
    pub fn as_rdata(&self) -> &[u8] {
        &self.0
    }

    /// The RDATA octets, by value.
    pub fn into_rdata(self) -> Vec<u8> {
        self.0
    }

    /// Upper-case hex of the RDATA, as Kea writes it into an NCR and its logs.
    pub fn to_hex(&self) -> String {
        encoding::to_hex_upper(&self.0)
    }

    /// Base64 of the RDATA: the DHCID's presentation format in zone files (RFC 4701 §3.4).
    pub fn to_base64(&self) -> String {
        encoding::to_base64(&self.0)
    }

    /// The identifier-type code, if the RDATA is long enough to have one.
    pub fn identifier_type_code(&self) -> Option<u16> {
        Some(u16::from_be_bytes([*self.0.first()?, *self.0.get(1)?]))
    }

    /// The digest-type octet, if the RDATA is long enough to have one.
    pub fn digest_type(&self) -> Option<u8> {
        self.0.get(2).copied()
    }
}

impl fmt::Display for Dhcid {
    /// Upper-case hex, as Kea shows a DHCID.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Dhcid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dhcid({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn myhost() -> Fqdn {
        Fqdn::new("myhost.example.com.").unwrap()
    }

    #[test]
    fn compute_lays_out_type_digest_type_and_digest() {
        let d = Dhcid::compute(IdentifierType::Duid, &[1], &myhost());
        assert_eq!(d.as_rdata().len(), 35);
        assert_eq!(&d.as_rdata()[..3], &[0, 2, 1]);
        assert_eq!(d.identifier_type_code(), Some(2));
        assert_eq!(d.digest_type(), Some(1));
    }

    #[test]
    fn name_case_does_not_change_the_digest() {
        let lower = Dhcid::from_duid(&[0, 1, 2, 3], &myhost()).unwrap();
        let upper =
            Dhcid::from_duid(&[0, 1, 2, 3], &Fqdn::new("MYHOST.Example.Com").unwrap()).unwrap();
        assert_eq!(lower, upper);
        let other = Dhcid::from_duid(&[0, 1, 2, 3], &Fqdn::new("other.example.com").unwrap());
        assert_ne!(lower, other.unwrap());
    }

    #[test]
    fn empty_identifiers_are_refused() {
        let f = myhost();
        assert_eq!(
            Dhcid::from_duid(&[], &f),
            Err(DhcidError::EmptyIdentifier("DUID"))
        );
        assert_eq!(
            Dhcid::from_client_id(&[], &f),
            Err(DhcidError::EmptyIdentifier("client identifier"))
        );
        assert_eq!(
            Dhcid::from_hwaddr(1, &[], &f),
            Err(DhcidError::EmptyIdentifier("hardware address"))
        );
        assert_eq!(
            Dhcid::from_hwaddr(1, &[], &f).unwrap_err().to_string(),
            "the hardware address is empty"
        );
    }

    #[test]
    fn duid_length_limit() {
        let f = myhost();
        assert!(Dhcid::from_duid(&[1; 130], &f).is_ok());
        assert_eq!(
            Dhcid::from_duid(&[1; 131], &f),
            Err(DhcidError::DuidTooLong(131))
        );
    }

    #[test]
    fn rfc4361_client_id_bounds() {
        let f = myhost();
        // 0xFF + IAID and nothing else: no DUID.
        assert_eq!(
            Dhcid::from_client_id(&[0xff, 1, 2, 3, 4], &f),
            Err(DhcidError::EmbeddedDuidLength { duid_len: 0 })
        );
        assert_eq!(
            Dhcid::from_client_id(&[0xff], &f),
            Err(DhcidError::EmbeddedDuidLength { duid_len: 0 })
        );
        let mut long = vec![0xff; 136];
        assert_eq!(
            Dhcid::from_client_id(&long, &f),
            Err(DhcidError::EmbeddedDuidLength { duid_len: 131 })
        );
        long.truncate(135);
        let d = Dhcid::from_client_id(&long, &f).unwrap();
        assert_eq!(d, Dhcid::from_duid(&long[5..], &f).unwrap());
    }

    #[test]
    fn rdata_must_not_be_empty() {
        assert_eq!(Dhcid::from_rdata(vec![]), Err(DhcidError::Empty));
        assert_eq!(Dhcid::from_hex(""), Err(DhcidError::Empty));
        assert_eq!(Dhcid::from_rdata(vec![7]).unwrap().as_rdata(), &[7]);
    }

    #[test]
    fn hex_in_any_case_out_in_upper_case() {
        let d = Dhcid::from_hex("010203040a7f8e3d").unwrap();
        assert_eq!(d.as_rdata(), &[1, 2, 3, 4, 0x0a, 0x7f, 0x8e, 0x3d]);
        assert_eq!(d.to_hex(), "010203040A7F8E3D");
        assert_eq!(d.to_string(), "010203040A7F8E3D");
        assert_eq!(format!("{d:?}"), "Dhcid(010203040A7F8E3D)");
        assert_eq!(
            Dhcid::from_hex("010203040A7F8E3"),
            Err(DhcidError::OddHexLength(15))
        );
        assert_eq!(
            Dhcid::from_hex("0x0102"),
            Err(DhcidError::NotHex { offset: 1, ch: 'x' })
        );
    }

    #[test]
    fn short_rdata_has_no_type() {
        let d = Dhcid::from_rdata(vec![9]).unwrap();
        assert_eq!(d.identifier_type_code(), None);
        assert_eq!(d.digest_type(), None);
    }
}
