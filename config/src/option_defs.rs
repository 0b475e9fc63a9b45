//! Kea's standard DHCPv4 option definitions (the `dhcp4` space) and DHCPv6 ones (the
//! `dhcp6` space, [`STANDARD6`]): name, code and value type of each option tern can
//! encode. Pure data, shared by the DHCP engine (which
//! encodes values) and the API (which names the options of host reservations).

/// The type of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionType {
    /// One IPv4 address.
    Ipv4,
    /// One or more IPv4 addresses.
    Ipv4List,
    /// Text, sent as it is (no NUL).
    Text,
    /// One domain name in DNS wire form (RFC 1035 labels).
    Fqdn,
    /// Domain names in DNS wire form, one after another (e.g. RFC 3397 domain search,
    /// sent without compression).
    FqdnList,
    /// An unsigned 8-bit number.
    U8,
    /// An unsigned 16-bit number.
    U16,
    /// An unsigned 32-bit number.
    U32,
    /// A signed 8-bit number.
    I8,
    /// A signed 16-bit number.
    I16,
    /// A signed 32-bit number.
    I32,
    /// A flag: one byte, 0 or 1.
    Bool,
    /// Unsigned 8-bit numbers.
    U8List,
    /// Unsigned 16-bit numbers.
    U16List,
    /// Raw bytes, given as hex.
    Binary,
    /// RFC 3442 classless static routes, Kea's text: `"10.0.0.0/8 - 10.1.1.1, ..."`.
    ClasslessRoutes,
    /// No value (a flag option).
    Empty,
    /// One IPv6 address.
    Ipv6,
    /// One or more IPv6 addresses.
    Ipv6List,
    /// DHCPv6 tuples (RFC 8415 §21.21 layout: a 16-bit length, then the text), one per
    /// comma-separated value.
    TupleList,
}

/// A standard option: Kea's name, code and value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionDef {
    /// Kea's name.
    pub name: &'static str,
    /// Option code.
    pub code: u8,
    /// Value type.
    pub kind: OptionType,
}

const fn def(name: &'static str, code: u8, kind: OptionType) -> OptionDef {
    OptionDef { name, code, kind }
}

use OptionType as T;

/// Kea's standard DHCPv4 option definitions (the `dhcp4` space) that tern can encode.
pub const STANDARD: &[OptionDef] = &[
    def("subnet-mask", 1, T::Ipv4),
    def("time-offset", 2, T::I32),
    def("routers", 3, T::Ipv4List),
    def("time-servers", 4, T::Ipv4List),
    def("name-servers", 5, T::Ipv4List),
    def("domain-name-servers", 6, T::Ipv4List),
    def("log-servers", 7, T::Ipv4List),
    def("cookie-servers", 8, T::Ipv4List),
    def("lpr-servers", 9, T::Ipv4List),
    def("impress-servers", 10, T::Ipv4List),
    def("resource-location-servers", 11, T::Ipv4List),
    def("host-name", 12, T::Text),
    def("boot-size", 13, T::U16),
    def("merit-dump", 14, T::Text),
    // RFC 2132 §3.17: the domain name as ASCII text (clients read it as text).
    def("domain-name", 15, T::Text),
    def("swap-server", 16, T::Ipv4),
    def("root-path", 17, T::Text),
    def("extensions-path", 18, T::Text),
    def("ip-forwarding", 19, T::Bool),
    def("non-local-source-routing", 20, T::Bool),
    def("policy-filter", 21, T::Ipv4List),
    def("max-dgram-reassembly", 22, T::U16),
    def("default-ip-ttl", 23, T::U8),
    def("path-mtu-aging-timeout", 24, T::U32),
    def("path-mtu-plateau-table", 25, T::U16List),
    def("interface-mtu", 26, T::U16),
    def("all-subnets-local", 27, T::Bool),
    def("broadcast-address", 28, T::Ipv4),
    def("perform-mask-discovery", 29, T::Bool),
    def("mask-supplier", 30, T::Bool),
    def("router-discovery", 31, T::Bool),
    def("router-solicitation-address", 32, T::Ipv4),
    def("static-routes", 33, T::Ipv4List),
    def("trailer-encapsulation", 34, T::Bool),
    def("arp-cache-timeout", 35, T::U32),
    def("ieee802-3-encapsulation", 36, T::Bool),
    def("default-tcp-ttl", 37, T::U8),
    def("tcp-keepalive-interval", 38, T::U32),
    def("tcp-keepalive-garbage", 39, T::Bool),
    def("nis-domain", 40, T::Text),
    def("nis-servers", 41, T::Ipv4List),
    def("ntp-servers", 42, T::Ipv4List),
    def("vendor-encapsulated-options", 43, T::Binary),
    def("netbios-name-servers", 44, T::Ipv4List),
    def("netbios-dd-server", 45, T::Ipv4List),
    def("netbios-node-type", 46, T::U8),
    def("netbios-scope", 47, T::Text),
    def("font-servers", 48, T::Ipv4List),
    def("x-display-manager", 49, T::Ipv4List),
    def("dhcp-requested-address", 50, T::Ipv4),
    def("dhcp-lease-time", 51, T::U32),
    def("dhcp-option-overload", 52, T::U8),
    def("dhcp-message-type", 53, T::U8),
    def("dhcp-server-identifier", 54, T::Ipv4),
    def("dhcp-parameter-request-list", 55, T::U8List),
    def("dhcp-message", 56, T::Text),
    def("dhcp-max-message-size", 57, T::U16),
    def("dhcp-renewal-time", 58, T::U32),
    def("dhcp-rebinding-time", 59, T::U32),
    def("vendor-class-identifier", 60, T::Text),
    def("dhcp-client-identifier", 61, T::Binary),
    def("nwip-domain-name", 62, T::Text),
    def("nwip-suboptions", 63, T::Binary),
    def("nisplus-domain-name", 64, T::Text),
    def("nisplus-servers", 65, T::Ipv4List),
    def("tftp-server-name", 66, T::Text),
    def("boot-file-name", 67, T::Text),
    def("mobile-ip-home-agent", 68, T::Ipv4List),
    def("smtp-server", 69, T::Ipv4List),
    def("pop-server", 70, T::Ipv4List),
    def("nntp-server", 71, T::Ipv4List),
    def("www-server", 72, T::Ipv4List),
    def("finger-server", 73, T::Ipv4List),
    def("irc-server", 74, T::Ipv4List),
    def("streettalk-server", 75, T::Ipv4List),
    def("streettalk-directory-assistance-server", 76, T::Ipv4List),
    def("user-class", 77, T::Binary),
    def("nds-servers", 85, T::Ipv4List),
    def("nds-tree-name", 86, T::Text),
    def("nds-context", 87, T::Text),
    def("bcms-controller-names", 88, T::FqdnList),
    def("bcms-controller-address", 89, T::Ipv4List),
    def("client-system", 93, T::U16List),
    def("uap-servers", 98, T::Text),
    def("geoconf-civic", 99, T::Binary),
    def("pcode", 100, T::Text),
    def("tcode", 101, T::Text),
    def("v6-only-preferred", 108, T::U32),
    def("netinfo-server-address", 112, T::Ipv4List),
    def("netinfo-server-tag", 113, T::Text),
    def("v4-captive-portal", 114, T::Text),
    def("auto-config", 116, T::U8),
    def("name-service-search", 117, T::U16List),
    def("subnet-selection", 118, T::Ipv4),
    def("domain-search", 119, T::FqdnList),
    def("classless-static-route", 121, T::ClasslessRoutes),
    // RFC 3925: the value configured is the enterprise number; the vendor's
    // sub-options (space `vendor-<enterprise>`) follow it.
    def("vivso-suboptions", 125, T::U32),
    def("pana-agent", 136, T::Ipv4List),
    def("v4-lost", 137, T::Fqdn),
    def("capwap-ac-v4", 138, T::Ipv4List),
    def("sip-ua-cs-domains", 141, T::FqdnList),
    def("v4-access-domain", 213, T::Fqdn),
];

/// The definition for a name.
pub fn by_name(name: &str) -> Option<&'static OptionDef> {
    STANDARD.iter().find(|d| d.name == name)
}

/// The definition for a code.
pub fn by_code(code: u8) -> Option<&'static OptionDef> {
    STANDARD.iter().find(|d| d.code == code)
}

/// A standard DHCPv6 option: Kea's name, code and value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionDef6 {
    /// Kea's name.
    pub name: &'static str,
    /// Option code.
    pub code: u16,
    /// Value type.
    pub kind: OptionType,
}

const fn def6(name: &'static str, code: u16, kind: OptionType) -> OptionDef6 {
    OptionDef6 { name, code, kind }
}

/// Kea's standard DHCPv6 option definitions (the `dhcp6` space) that tern can encode
/// from `option-data` (Kea ARM "Standard DHCPv6 Options"). Options the server itself
/// builds (client and server id, IAs, status codes, FQDN) are not configured this way.
pub const STANDARD6: &[OptionDef6] = &[
    def6("preference", 7, T::U8),
    def6("unicast", 12, T::Ipv6),
    def6("sip-server-dns", 21, T::FqdnList),
    def6("sip-server-addr", 22, T::Ipv6List),
    def6("dns-servers", 23, T::Ipv6List),
    def6("domain-search", 24, T::FqdnList),
    def6("nis-servers", 27, T::Ipv6List),
    def6("nisp-servers", 28, T::Ipv6List),
    def6("nis-domain-name", 29, T::FqdnList),
    def6("nisp-domain-name", 30, T::FqdnList),
    def6("sntp-servers", 31, T::Ipv6List),
    def6("information-refresh-time", 32, T::U32),
    def6("bcmcs-server-dns", 33, T::FqdnList),
    def6("bcmcs-server-addr", 34, T::Ipv6List),
    def6("new-posix-timezone", 41, T::Text),
    def6("new-tzdb-timezone", 42, T::Text),
    def6("lq-client-link", 48, T::Ipv6List),
    def6("bootfile-url", 59, T::Text),
    def6("bootfile-param", 60, T::TupleList),
    def6("client-arch-type", 61, T::U16List),
    def6("aftr-name", 64, T::Fqdn),
    def6("erp-local-domain-name", 65, T::Fqdn),
    def6("solmax-rt", 82, T::U32),
    def6("inf-max-rt", 83, T::U32),
    def6("v6-captive-portal", 103, T::Text),
    def6("ipv6-address-andsf", 143, T::Ipv6List),
];

/// The DHCPv6 definition for a name.
pub fn by_name6(name: &str) -> Option<&'static OptionDef6> {
    STANDARD6.iter().find(|d| d.name == name)
}

/// The DHCPv6 definition for a code.
pub fn by_code6(code: u16) -> Option<&'static OptionDef6> {
    STANDARD6.iter().find(|d| d.code == code)
}
