//! Which `ddns-domains` entry a name belongs to (pure).
//!
//! As Kea's D2 does: the domain whose name is the longest suffix of the name on a
//! label boundary, compared without regard to case; `*` matches when nothing else
//! does. Reverse names (`….in-addr.arpa.`, `….ip6.arpa.`) are matched the same way
//! against the reverse domains.

/// Lower case, no trailing dot: the form names are compared in.
pub fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// True when `name` is `domain` or lies below it (both normalised).
fn is_within(name: &str, domain: &str) -> bool {
    if domain.is_empty() {
        // The root holds every name.
        return true;
    }
    name == domain
        || (name.len() > domain.len()
            && name.ends_with(domain)
            && name.as_bytes()[name.len() - domain.len() - 1] == b'.')
}

/// The index of the domain in `domains` (their names, as configured) that `name`
/// belongs to, or `None`.
pub fn match_domain<S: AsRef<str>>(domains: &[S], name: &str) -> Option<usize> {
    let name = normalise(name);
    let mut best: Option<(usize, usize)> = None; // (index, length)
    let mut wildcard = None;
    for (i, d) in domains.iter().enumerate() {
        let d = d.as_ref();
        if d.trim() == "*" {
            wildcard.get_or_insert(i);
            continue;
        }
        let d = normalise(d);
        if is_within(&name, &d) && best.is_none_or(|(_, len)| d.len() > len) {
            best = Some((i, d.len()));
        }
    }
    best.map(|(i, _)| i).or(wildcard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    const FWD: [&str; 4] = [
        "example.com.",
        "sub.example.com",
        "Other.ORG.",
        "ample.com.",
    ];

    #[test]
    fn longest_suffix_on_a_label_boundary_wins() {
        assert_eq!(match_domain(&FWD, "host.example.com."), Some(0));
        assert_eq!(match_domain(&FWD, "example.com"), Some(0));
        assert_eq!(match_domain(&FWD, "a.b.sub.example.com."), Some(1));
        assert_eq!(match_domain(&FWD, "sub.example.com."), Some(1));
        // "xsub.example.com" is not below "sub.example.com".
        assert_eq!(match_domain(&FWD, "xsub.example.com."), Some(0));
        // Case does not matter.
        assert_eq!(match_domain(&FWD, "HOST.other.org"), Some(2));
        // "ample.com" is not a label suffix of "example.com".
        assert_eq!(match_domain(&FWD, "h.ample.com."), Some(3));
        assert_eq!(match_domain(&["ample.com."], "h.example.com."), None);
        assert_eq!(match_domain(&FWD, "nowhere.net."), None);
    }

    #[test]
    fn star_is_the_fallback() {
        let d = ["*", "example.com."];
        assert_eq!(match_domain(&d, "h.example.com."), Some(1));
        assert_eq!(match_domain(&d, "h.example.net."), Some(0));
    }

    #[test]
    fn reverse_names_v4_and_v6() {
        let rev = [
            "2.0.192.in-addr.arpa.",
            "192.in-addr.arpa.",
            "8.b.d.0.1.0.0.2.ip6.arpa.",
        ];
        let v4 = tern_ncr::reverse_name("192.0.2.10".parse::<IpAddr>().unwrap());
        assert_eq!(match_domain(&rev, &v4), Some(0));
        let v4 = tern_ncr::reverse_name("192.0.3.10".parse::<IpAddr>().unwrap());
        assert_eq!(match_domain(&rev, &v4), Some(1));
        let v4 = tern_ncr::reverse_name("10.0.2.10".parse::<IpAddr>().unwrap());
        assert_eq!(match_domain(&rev, &v4), None);
        let v6 = tern_ncr::reverse_name("2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(match_domain(&rev, &v6), Some(2));
        let v6 = tern_ncr::reverse_name("2001:db9::1".parse::<IpAddr>().unwrap());
        assert_eq!(match_domain(&rev, &v6), None);
    }
}
