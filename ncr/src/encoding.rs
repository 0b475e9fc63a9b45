//! Hex and base64 text for DHCID RDATA: hex is how an NCR carries a DHCID, base64 how a
//! zone file shows one (RFC 4701 §3.4).

/// Why a text is not hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HexError {
    /// An odd number of digits: the last byte is cut in half.
    #[error("{0} hex digits is an odd number")]
    OddLength(usize),
    /// A character other than 0-9, a-f, A-F.
    #[error("{ch:?} at offset {offset} is not a hex digit")]
    NotHex {
        /// Byte offset of the character.
        offset: usize,
        /// The character.
        ch: char,
    },
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Upper-case hex, two digits a byte, no separators (Kea's rendering).
pub(crate) fn to_hex_upper(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
    }
    out
}

/// Decodes hex digits of either case; no separators, no whitespace.
pub(crate) fn from_hex(text: &str) -> Result<Vec<u8>, HexError> {
    if let Some((offset, ch)) = text.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(HexError::NotHex { offset, ch });
    }
    if !text.len().is_multiple_of(2) {
        return Err(HexError::OddLength(text.len()));
    }
    let digits = text.as_bytes();
    Ok(digits
        .chunks_exact(2)
        .map(|pair| (nibble(pair[0]) << 4) | nibble(pair[1]))
        .collect())
}

/// The value of one hex digit already known to be valid.
fn nibble(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with '=' padding (RFC 4648 §4), as DNS presentation format uses.
pub(crate) fn to_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let group = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            // A chunk of n bytes yields n + 1 significant characters; pad the rest.
            if i <= chunk.len() {
                out.push(char::from(BASE64[((group >> shift) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_upper_case() {
        assert_eq!(to_hex_upper(&[0x01, 0x0a, 0xff, 0x7f]), "010AFF7F");
        assert_eq!(from_hex("010aFF7f").unwrap(), vec![0x01, 0x0a, 0xff, 0x7f]);
        assert_eq!(from_hex("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn hex_errors() {
        assert_eq!(from_hex("010203040A7F8E3"), Err(HexError::OddLength(15)));
        assert_eq!(
            from_hex("THIS IS BOGUS!!!"),
            Err(HexError::NotHex { offset: 0, ch: 'T' })
        );
        assert_eq!(
            from_hex("0a é"),
            Err(HexError::NotHex { offset: 2, ch: ' ' })
        );
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        // RFC 4648 §10.
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(to_base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }
}
