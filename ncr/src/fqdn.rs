//! Fully qualified domain names as an NCR carries them.
//!
//! The text is kept as the sender wrote it (plus a trailing dot when it had none), because
//! that is what goes back into logs and onto the wire. Comparison, hashing and the DHCID
//! digest all use the canonical wire form of RFC 4034 §6.2: uncompressed, ASCII letters
//! lower-cased. Escapes in the presentation format (`\.`, `\\`, `\DDD`) are understood,
//! so `a\.b.example.` is a name of three labels and `\065.example.` equals `a.example.`.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// The longest label, in bytes (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// The longest name in wire form, length bytes and the root byte included (RFC 1035 §2.3.4).
pub const MAX_WIRE_LEN: usize = 255;

/// Why a text is not a domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FqdnError {
    /// The text is empty.
    #[error("the name is empty")]
    Empty,
    /// Two dots in a row, or a dot at the start of a name other than the root ".".
    #[error("empty label at offset {offset}")]
    EmptyLabel {
        /// Byte offset of the dot that ends the empty label.
        offset: usize,
    },
    /// A label longer than 63 bytes.
    #[error("label {label:?} is {len} bytes long, more than 63")]
    LabelTooLong {
        /// The label, with bytes that are not UTF-8 replaced.
        label: String,
        /// Its length in bytes, escapes resolved.
        len: usize,
    },
    /// The wire form is longer than 255 bytes.
    #[error("the name is {len} bytes long in wire form, more than 255")]
    TooLong {
        /// Wire length reached when the limit was crossed.
        len: usize,
    },
    /// A backslash escape that is cut short or out of range.
    #[error("bad escape at offset {offset}: {reason}")]
    BadEscape {
        /// Byte offset of the backslash.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A fully qualified domain name: absolute, validated, compared case-insensitively.
#[derive(Clone)]
pub struct Fqdn {
    /// The text as given, ending with an unescaped '.'.
    text: String,
    /// Canonical wire form: length-prefixed labels, ASCII lower-cased, ending with 0.
    wire: Vec<u8>,
}

impl Fqdn {
    /// Validates `text` as a domain name and makes it absolute.
    ///
    /// A relative name (no trailing dot) is taken as relative to the root, as Kea does:
    /// `host.example.com` becomes `host.example.com.`. The root `.` is a valid name.
    pub fn new(text: &str) -> Result<Self, FqdnError> {
        let wire = to_canonical_wire(text)?;
        let text = if ends_with_unescaped_dot(text) {
            text.to_owned()
        } else {
            format!("{text}.")
        };
        Ok(Self { text, wire })
    }

    /// The name as given, with its trailing dot.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Canonical wire form (RFC 4034 §6.2): length-prefixed labels, ASCII letters
    /// lower-cased, terminated by the zero-length root label. This is the form RFC 4701
    /// §3.5 hashes into a DHCID.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }

    /// Whether this is the root name ".".
    pub fn is_root(&self) -> bool {
        self.wire == [0]
    }
}

impl PartialEq for Fqdn {
    fn eq(&self, other: &Self) -> bool {
        self.wire == other.wire
    }
}

impl Eq for Fqdn {}

impl Hash for Fqdn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.wire.hash(state);
    }
}

impl fmt::Display for Fqdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Fqdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Fqdn").field(&self.text).finish()
    }
}

impl FromStr for Fqdn {
    type Err = FqdnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for Fqdn {
    type Error = FqdnError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl AsRef<str> for Fqdn {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// Whether the last character of `text` is a '.' that is not escaped by a backslash
/// (an odd number of backslashes before it escapes it).
fn ends_with_unescaped_dot(text: &str) -> bool {
    let Some(before) = text.strip_suffix('.') else {
        return false;
    };
    let backslashes = before.bytes().rev().take_while(|&b| b == b'\\').count();
    backslashes % 2 == 0
}

/// Parses presentation-format text into canonical wire form.
fn to_canonical_wire(text: &str) -> Result<Vec<u8>, FqdnError> {
    if text.is_empty() {
        return Err(FqdnError::Empty);
    }
    if text == "." {
        return Ok(vec![0]);
    }
    let bytes = text.as_bytes();
    let mut wire = Vec::with_capacity(bytes.len() + 2);
    let mut label: Vec<u8> = Vec::with_capacity(MAX_LABEL_LEN);
    let mut i = 0;
    let mut absolute = false;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                if label.is_empty() {
                    return Err(FqdnError::EmptyLabel { offset: i });
                }
                push_label(&mut wire, &mut label)?;
                i += 1;
                absolute = i == bytes.len();
            }
            b'\\' => {
                let (byte, used) = unescape(bytes, i)?;
                label.push(byte);
                i += used;
            }
            other => {
                label.push(other);
                i += 1;
            }
        }
    }
    if !absolute {
        // The loop only leaves `label` empty after a dot, and a final dot sets `absolute`.
        push_label(&mut wire, &mut label)?;
    }
    wire.push(0);
    if wire.len() > MAX_WIRE_LEN {
        return Err(FqdnError::TooLong { len: wire.len() });
    }
    Ok(wire)
}

/// Decodes the escape starting with the backslash at `at`: `\DDD` (three decimal digits,
/// at most 255) or `\X` (the byte X itself). Returns the byte and how many input bytes
/// the escape took.
fn unescape(bytes: &[u8], at: usize) -> Result<(u8, usize), FqdnError> {
    let bad = |reason| FqdnError::BadEscape { offset: at, reason };
    let Some(&first) = bytes.get(at + 1) else {
        return Err(bad("the name ends with a backslash"));
    };
    if !first.is_ascii_digit() {
        return Ok((first, 2));
    }
    let digits = bytes
        .get(at + 1..at + 4)
        .filter(|d| d.iter().all(u8::is_ascii_digit))
        .ok_or_else(|| bad("\\DDD needs exactly three decimal digits"))?;
    let value = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    let byte = u8::try_from(value).map_err(|_| bad("\\DDD is more than 255"))?;
    Ok((byte, 4))
}

/// Appends `label` (lower-cased, with its length byte) to `wire` and clears it.
fn push_label(wire: &mut Vec<u8>, label: &mut Vec<u8>) -> Result<(), FqdnError> {
    if label.len() > MAX_LABEL_LEN {
        return Err(FqdnError::LabelTooLong {
            label: String::from_utf8_lossy(label).into_owned(),
            len: label.len(),
        });
    }
    // The length fits in a byte: it was checked against 63 just above.
    wire.push(label.len() as u8);
    wire.extend(label.iter().map(u8::to_ascii_lowercase));
    label.clear();
    // Stop early on absurdly long input; the final check counts the root byte too.
    if wire.len() >= MAX_WIRE_LEN {
        return Err(FqdnError::TooLong {
            len: wire.len() + 1,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const MYHOST_WIRE: &[u8] = b"\x06myhost\x07example\x03com\x00";

    #[test]
    fn wire_form_has_length_bytes_and_root() {
        let name = Fqdn::new("myhost.example.com.").unwrap();
        assert_eq!(name.wire(), MYHOST_WIRE);
        assert_eq!(name.as_str(), "myhost.example.com.");
    }

    #[test]
    fn relative_name_gets_trailing_dot() {
        let name = Fqdn::new("myhost.example.com").unwrap();
        assert_eq!(name.as_str(), "myhost.example.com.");
        assert_eq!(name.wire(), MYHOST_WIRE);
    }

    #[test]
    fn case_is_kept_in_text_but_not_in_wire_or_equality() {
        let upper = Fqdn::new("MyHost.Example.COM.").unwrap();
        let lower = Fqdn::new("myhost.example.com.").unwrap();
        assert_eq!(upper.as_str(), "MyHost.Example.COM.");
        assert_eq!(upper.wire(), MYHOST_WIRE);
        assert_eq!(upper, lower);
        let set: HashSet<Fqdn> = [upper, lower].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_ne!(
            Fqdn::new("myhost.example.com.").unwrap(),
            Fqdn::new("myhost.example.org.").unwrap()
        );
    }

    #[test]
    fn root_is_a_name() {
        let root = Fqdn::new(".").unwrap();
        assert!(root.is_root());
        assert_eq!(root.wire(), [0]);
        assert!(!Fqdn::new("com.").unwrap().is_root());
    }

    #[test]
    fn escapes_are_resolved() {
        let dotted = Fqdn::new(r"a\.b.example.").unwrap();
        assert_eq!(dotted.wire(), b"\x03a.b\x07example\x00");
        assert_eq!(
            Fqdn::new(r"\065.example.").unwrap(),
            Fqdn::new("a.example.").unwrap()
        );
        assert_eq!(Fqdn::new(r"x\\y.").unwrap().wire(), b"\x03x\\y\x00");
    }

    #[test]
    fn escaped_final_dot_is_not_absolute() {
        let name = Fqdn::new(r"host\.").unwrap();
        assert_eq!(name.as_str(), r"host\..");
        assert_eq!(name.wire(), b"\x05host.\x00");
        // An escaped backslash before the dot leaves the dot unescaped.
        let name = Fqdn::new(r"host\\.").unwrap();
        assert_eq!(name.as_str(), r"host\\.");
        assert_eq!(name.wire(), b"\x05host\\\x00");
    }

    #[test]
    fn invalid_names() {
        assert_eq!(Fqdn::new(""), Err(FqdnError::Empty));
        assert_eq!(
            Fqdn::new(".bad_name"),
            Err(FqdnError::EmptyLabel { offset: 0 })
        );
        assert_eq!(Fqdn::new("a..b"), Err(FqdnError::EmptyLabel { offset: 2 }));
        assert_eq!(Fqdn::new("a.b.."), Err(FqdnError::EmptyLabel { offset: 4 }));
        assert_eq!(
            Fqdn::new(r"a\"),
            Err(FqdnError::BadEscape {
                offset: 1,
                reason: "the name ends with a backslash"
            })
        );
        assert_eq!(
            Fqdn::new(r"a\06.com"),
            Err(FqdnError::BadEscape {
                offset: 1,
                reason: "\\DDD needs exactly three decimal digits"
            })
        );
        assert_eq!(
            Fqdn::new(r"a\256.com"),
            Err(FqdnError::BadEscape {
                offset: 1,
                reason: "\\DDD is more than 255"
            })
        );
    }

    #[test]
    fn label_length_limit_is_63() {
        let ok = format!("{}.example.", "a".repeat(63));
        assert!(Fqdn::new(&ok).is_ok());
        let long = format!("{}.example.", "a".repeat(64));
        assert_eq!(
            Fqdn::new(&long),
            Err(FqdnError::LabelTooLong {
                label: "a".repeat(64),
                len: 64
            })
        );
        assert_eq!(
            Fqdn::new(&long).unwrap_err().to_string(),
            format!(
                "label \"{}\" is 64 bytes long, more than 63",
                "a".repeat(64)
            )
        );
    }

    #[test]
    fn name_length_limit_is_255() {
        // Four labels of 63 bytes: 4 * 64 + 1 = 257 bytes. Three of 63 and one of 61:
        // 3 * 64 + 62 + 1 = 255 bytes, the longest name there is.
        let l63 = "a".repeat(63);
        let longest = format!("{l63}.{l63}.{l63}.{}.", "b".repeat(61));
        assert_eq!(Fqdn::new(&longest).unwrap().wire().len(), 255);
        let too_long = format!("{l63}.{l63}.{l63}.{}.", "b".repeat(62));
        assert_eq!(Fqdn::new(&too_long), Err(FqdnError::TooLong { len: 256 }));
        let far_too_long = format!("{l63}.").repeat(100);
        assert!(matches!(
            Fqdn::new(&far_too_long),
            Err(FqdnError::TooLong { .. })
        ));
    }
}
