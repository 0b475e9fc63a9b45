//! RCODE names as operators read them in dig and BIND's logs (RFC 6895 §2.3 mnemonics).

use hickory_proto::op::ResponseCode;

/// The mnemonics of RCODEs 0..=10 (RFC 6895 §2.3), the ones a DNS header can carry
/// without EDNS.
const NAMES: [&str; 11] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",
];

/// The mnemonic of `rcode` (`"NXRRSET"`), if it is one of RCODEs 0..=10.
pub fn mnemonic(rcode: ResponseCode) -> Option<&'static str> {
    NAMES.get(usize::from(u16::from(rcode))).copied()
}

/// The RCODE's mnemonic, or `RCODE n` for one without (d2's log lines and outcomes).
pub fn name(rcode: ResponseCode) -> String {
    mnemonic(rcode).map_or_else(|| format!("RCODE {}", u16::from(rcode)), str::to_owned)
}

/// The RCODE's mnemonic, or its number alone (inside TSIG errors, which say "RCODE" first).
pub fn mnemonic_or_number(rcode: ResponseCode) -> String {
    mnemonic(rcode).map_or_else(|| u16::from(rcode).to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rfc_6895_and_fall_back_to_the_number() {
        assert_eq!(name(ResponseCode::NoError), "NOERROR");
        assert_eq!(name(ResponseCode::NXRRSet), "NXRRSET");
        assert_eq!(name(ResponseCode::NotZone), "NOTZONE");
        assert_eq!(name(ResponseCode::BADSIG), "RCODE 16");
        assert_eq!(mnemonic_or_number(ResponseCode::Refused), "REFUSED");
        assert_eq!(mnemonic_or_number(ResponseCode::Unknown(3841)), "3841");
    }
}
