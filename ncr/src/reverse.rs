//! Reverse-mapping names of addresses, where d2 puts PTR records.

use std::fmt::Write as _;
use std::net::IpAddr;

/// The reverse-mapping name of `ip`, absolute and lower-case:
/// - IPv4: the four octets in reverse order under `in-addr.arpa.` (RFC 1035 §3.5):
///   `192.0.2.10` → `10.2.0.192.in-addr.arpa.`;
/// - IPv6: the 32 nibbles in reverse order under `ip6.arpa.` (RFC 3596 §2.5):
///   `2001:db8::1` → `1.0.0.0.….8.b.d.0.1.0.0.2.ip6.arpa.`.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa.")
        }
        IpAddr::V6(v6) => {
            let mut name = String::with_capacity(32 * 2 + "ip6.arpa.".len());
            for byte in v6.octets().iter().rev() {
                // Infallible: writing to a String.
                let _ = write!(name, "{:x}.{:x}.", byte & 0x0f, byte >> 4);
            }
            name.push_str("ip6.arpa.");
            name
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4() {
        assert_eq!(
            reverse_name("192.0.2.10".parse().unwrap()),
            "10.2.0.192.in-addr.arpa."
        );
        assert_eq!(
            reverse_name("10.0.0.255".parse().unwrap()),
            "255.0.0.10.in-addr.arpa."
        );
    }

    #[test]
    fn ipv6() {
        // RFC 3596 §2.5's example, for 4321:0:1:2:3:4:567:89ab.
        assert_eq!(
            reverse_name("4321:0:1:2:3:4:567:89ab".parse().unwrap()),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa."
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
        );
    }
}
