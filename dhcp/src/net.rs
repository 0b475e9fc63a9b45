//! Sockets: one UDP socket per configured interface, bound to 0.0.0.0 on the server
//! port and tied to its interface with `SO_BINDTODEVICE`, so the interface a packet
//! came in on is the socket it arrived at, and broadcasts go out of that interface.
//! `SO_BROADCAST` lets replies go to 255.255.255.255.
//!
//! Replies that RFC 2131 wants unicast to a client without an address (yiaddr at
//! chaddr) would need a raw socket or a forged ARP entry; tern broadcasts them on the
//! interface instead (see [`crate::decide::destination`]), which dhclient, udhcpc and
//! every other client accept.

use std::ffi::CStr;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

use socket2::{Domain, Protocol, Socket, Type};
use tern_config::InterfacesConfig;
use tracing::{info, warn};

/// One listening socket.
#[derive(Debug)]
pub struct Listener {
    /// Interface name.
    pub iface: String,
    /// The server's address on it (server identifier).
    pub addr: Ipv4Addr,
    /// The socket (non-blocking).
    pub socket: std::net::UdpSocket,
}

/// An interface with an IPv4 address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    /// Name.
    pub name: String,
    /// Address.
    pub addr: Ipv4Addr,
    /// Loopback.
    pub loopback: bool,
    /// Up.
    pub up: bool,
    /// Broadcast-capable (IFF_BROADCAST).
    pub broadcast: bool,
}

/// The IPv4 addresses of this network namespace's interfaces (getifaddrs).
pub fn interfaces() -> io::Result<Vec<IfAddr>> {
    let mut out = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_addr is non-null and points to a sockaddr of the family it names.
        let family = unsafe { (*ifa.ifa_addr).sa_family };
        if i32::from(family) != libc::AF_INET {
            continue;
        }
        // SAFETY: the family is AF_INET, so the address is a sockaddr_in.
        let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        out.push(IfAddr {
            name,
            addr: Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
            loopback: ifa.ifa_flags & libc::IFF_LOOPBACK as u32 != 0,
            up: ifa.ifa_flags & libc::IFF_UP as u32 != 0,
            broadcast: ifa.ifa_flags & libc::IFF_BROADCAST as u32 != 0,
        });
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// Which (interface, address) pairs `interfaces-config` names: `"*"` is every
/// interface that is up, has an IPv4 address and is not loopback; `"eth0"` is eth0's
/// first IPv4 address; `"eth0/192.0.2.1"` that address on eth0. Names that match
/// nothing are warned about and skipped (Kea goes on without them too).
pub fn select(ic: &InterfacesConfig, all: &[IfAddr]) -> Vec<IfAddr> {
    let mut out: Vec<IfAddr> = Vec::new();
    let mut add = |i: &IfAddr| {
        if !out.iter().any(|o| o.name == i.name) {
            out.push(i.clone());
        }
    };
    for spec in &ic.interfaces {
        if spec.name == "*" {
            for i in all.iter().filter(|i| i.up && !i.loopback) {
                add(i);
            }
            continue;
        }
        let found = all.iter().find(|i| {
            i.name == spec.name
                && match spec.address {
                    Some(std::net::IpAddr::V4(a)) => i.addr == a,
                    Some(std::net::IpAddr::V6(_)) => false,
                    None => true,
                }
        });
        match found {
            Some(i) => add(i),
            None => warn!(
                "DHCP4_OPEN_SOCKET_FAIL interface {}{} has no such IPv4 address here; not listening on it",
                spec.name,
                spec.address.map(|a| format!("/{a}")).unwrap_or_default()
            ),
        }
    }
    out
}

/// Opens one socket per selected interface on `port`: bound to 0.0.0.0 on a
/// broadcast-capable interface (to hear clients without an address), to the
/// interface's own address otherwise (loopback, point-to-point: relayed traffic only,
/// leaving the port free on other addresses, e.g. for a relay on the same host).
pub fn open(ic: &InterfacesConfig, port: u16) -> io::Result<Vec<Listener>> {
    let all = interfaces()?;
    let mut out = Vec::new();
    for i in select(ic, &all) {
        let socket = if i.broadcast {
            bind(&i.name, port)?
        } else {
            bind_addr(&i.name, i.addr, port)?
        };
        info!(
            "DHCP4_OPEN_SOCKET listening on interface {} ({}) port {port}",
            i.name, i.addr
        );
        out.push(Listener {
            iface: i.name,
            addr: i.addr,
            socket,
        });
    }
    Ok(out)
}

/// A UDP socket on 0.0.0.0:`port` tied to `iface`.
pub fn bind(iface: &str, port: u16) -> io::Result<std::net::UdpSocket> {
    bind_addr(iface, Ipv4Addr::UNSPECIFIED, port)
}

/// A UDP socket on `addr`:`port` tied to `iface`.
pub fn bind_addr(iface: &str, addr: Ipv4Addr, port: u16) -> io::Result<std::net::UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_broadcast(true)?;
    s.bind_device(Some(iface.as_bytes())).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot bind a socket to interface {iface}: {e}"),
        )
    })?;
    s.bind(&SocketAddrV4::new(addr, port).into()).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot bind UDP {addr}:{port} on {iface}: {e}"),
        )
    })?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_config::InterfaceSpec;

    fn ifa(name: &str, a: [u8; 4], loopback: bool) -> IfAddr {
        IfAddr {
            name: name.into(),
            addr: a.into(),
            loopback,
            up: true,
            broadcast: !loopback,
        }
    }

    fn pairs(v: Vec<IfAddr>) -> Vec<(String, Ipv4Addr)> {
        v.into_iter().map(|i| (i.name, i.addr)).collect()
    }

    #[test]
    fn interface_specs() {
        let all = [
            ifa("lo", [127, 0, 0, 1], true),
            ifa("eth0", [192, 0, 2, 1], false),
            ifa("eth0", [192, 0, 2, 2], false),
            ifa("eth1", [198, 51, 100, 1], false),
        ];
        let spec = |s: &[(&str, Option<[u8; 4]>)]| InterfacesConfig {
            interfaces: s
                .iter()
                .map(|(n, a)| InterfaceSpec {
                    name: n.to_string(),
                    address: a.map(|a| Ipv4Addr::from(a).into()),
                })
                .collect(),
        };
        assert_eq!(
            pairs(select(&spec(&[("*", None)]), &all)),
            vec![
                ("eth0".to_string(), Ipv4Addr::new(192, 0, 2, 1)),
                ("eth1".to_string(), Ipv4Addr::new(198, 51, 100, 1))
            ]
        );
        assert_eq!(
            pairs(select(&spec(&[("eth0", Some([192, 0, 2, 2]))]), &all)),
            vec![("eth0".to_string(), Ipv4Addr::new(192, 0, 2, 2))]
        );
        assert_eq!(
            pairs(select(&spec(&[("eth9", None), ("eth1", None)]), &all)),
            vec![("eth1".to_string(), Ipv4Addr::new(198, 51, 100, 1))]
        );
    }
}
