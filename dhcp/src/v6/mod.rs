//! DHCPv6.

pub mod wire;
