//! DHCPv6 sockets: one UDP socket per configured interface, bound to `[::]` on the
//! server port and tied to its interface with `SO_BINDTODEVICE`, joined to
//! All_DHCP_Relay_Agents_and_Servers (ff02::1:2) there. `IPV6_RECVPKTINFO` tells each
//! datagram's destination, so a message sent by unicast is known as such (RFC 8415
//! §16, RFC 9915's unicast rules); `IPV6_MULTICAST_ALL` off keeps groups other sockets
//! joined out.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};
use tern_config::InterfacesConfig;
use tracing::{info, warn};

/// All_DHCP_Relay_Agents_and_Servers (RFC 8415 §7.1).
pub const ALL_RELAYS_AND_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);

/// One listening socket.
#[derive(Debug)]
pub struct Listener6 {
    /// Interface name.
    pub iface: String,
    /// Interface index.
    pub index: u32,
    /// The socket (non-blocking).
    pub socket: std::net::UdpSocket,
}

/// A datagram's envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    /// Bytes received.
    pub len: usize,
    /// Source.
    pub src: SocketAddrV6,
    /// Destination address (from `IPV6_PKTINFO`; unspecified when the kernel gave none).
    pub dst: Ipv6Addr,
}

/// The names of this namespace's interfaces that are up, with their index.
fn interface_names() -> io::Result<Vec<(String, u32, bool)>> {
    let mut out: Vec<(String, u32, bool)> = Vec::new();
    for e in std::fs::read_dir("/sys/class/net")? {
        let name = e?.file_name().to_string_lossy().into_owned();
        let Ok(c) = std::ffi::CString::new(name.clone()) else {
            continue;
        };
        // SAFETY: c is a valid NUL-terminated string.
        let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
        if index == 0 {
            continue;
        }
        let flags = std::fs::read_to_string(format!("/sys/class/net/{name}/flags"))
            .ok()
            .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok())
            .unwrap_or(0);
        let up = flags & libc::IFF_UP as u32 != 0;
        let lo = flags & libc::IFF_LOOPBACK as u32 != 0;
        if up {
            out.push((name, index, lo));
        }
    }
    out.sort_by_key(|i| i.1);
    Ok(out)
}

/// The hardware address of an interface (for the server's DUID-LLT), if it has one.
pub fn hardware_address(iface: &str) -> Option<Vec<u8>> {
    let t = std::fs::read_to_string(format!("/sys/class/net/{iface}/address")).ok()?;
    let mac: Vec<u8> = t
        .trim()
        .split(':')
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .collect();
    (mac.len() == 6 && mac.iter().any(|b| *b != 0)).then_some(mac)
}

/// Opens one socket per interface `interfaces-config` names (`"*"`: every interface that
/// is up and not loopback; `"eth0/2001:db8::1"` listens on eth0 as `"eth0"` does).
/// Names matching nothing are warned about and skipped, as Kea goes on without them.
pub fn open(ic: &InterfacesConfig, port: u16) -> io::Result<Vec<Listener6>> {
    let all = interface_names()?;
    let mut chosen: Vec<(String, u32)> = Vec::new();
    for spec in &ic.interfaces {
        if spec.name == "*" {
            for (n, i, lo) in &all {
                if !lo && !chosen.iter().any(|c| &c.0 == n) {
                    chosen.push((n.clone(), *i));
                }
            }
            continue;
        }
        match all.iter().find(|(n, _, _)| *n == spec.name) {
            Some((n, i, _)) => {
                if !chosen.iter().any(|c| &c.0 == n) {
                    chosen.push((n.clone(), *i));
                }
            }
            None => warn!(
                "DHCP6_OPEN_SOCKET_FAIL interface {} is not up here; not listening on it",
                spec.name
            ),
        }
    }
    let mut out = Vec::new();
    for (iface, index) in chosen {
        let socket = bind(&iface, index, port)?;
        info!("DHCP6_OPEN_SOCKET listening on interface {iface} port {port}");
        out.push(Listener6 {
            iface,
            index,
            socket,
        });
    }
    Ok(out)
}

/// A UDP socket on `[::]:port` tied to `iface` (index `index`), in ff02::1:2.
pub fn bind(iface: &str, index: u32, port: u16) -> io::Result<std::net::UdpSocket> {
    let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_only_v6(true)?;
    s.set_reuse_address(true)?;
    s.bind_device(Some(iface.as_bytes())).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot bind a socket to interface {iface}: {e}"),
        )
    })?;
    s.bind(&SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0).into())
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot bind UDP [::]:{port} on {iface}: {e}"),
            )
        })?;
    setsockopt_int(&s, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
    // 0 = only the groups this socket joined.
    setsockopt_int(&s, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_ALL, 0)?;
    if let Err(e) = s.join_multicast_v6(&ALL_RELAYS_AND_SERVERS, index) {
        // Loopback and point-to-point links may have no multicast: relayed traffic only.
        warn!("DHCP6_JOIN_MULTICAST_FAIL cannot join ff02::1:2 on {iface}: {e}; only unicast (relayed) traffic will be received there");
    }
    s.set_multicast_loop_v6(false)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

fn setsockopt_int(s: &Socket, level: i32, name: i32, v: i32) -> io::Result<()> {
    // SAFETY: a valid socket, an int option of the size given.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            (&v as *const i32).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One `recvmsg` on a non-blocking socket: the datagram into `buf` and its envelope.
pub fn recv(fd: &impl AsRawFd, buf: &mut [u8]) -> io::Result<Envelope> {
    let mut src = MaybeUninit::<libc::sockaddr_in6>::zeroed();
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = [0u64; 16];
    // SAFETY: zeroed msghdr is valid; every pointer below outlives the call.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_name = src.as_mut_ptr().cast();
    hdr.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    hdr.msg_control = control.as_mut_ptr().cast();
    hdr.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: hdr points at valid buffers of the lengths given.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut hdr, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: recvmsg filled the name (AF_INET6 socket).
    let sa = unsafe { src.assume_init() };
    let src = SocketAddrV6::new(
        Ipv6Addr::from(sa.sin6_addr.s6_addr),
        u16::from_be(sa.sin6_port),
        0,
        sa.sin6_scope_id,
    );
    let mut dst = Ipv6Addr::UNSPECIFIED;
    // SAFETY: walking the control messages recvmsg wrote, with the libc macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&hdr);
        while !c.is_null() {
            if (*c).cmsg_level == libc::IPPROTO_IPV6 && (*c).cmsg_type == libc::IPV6_PKTINFO {
                let info = libc::CMSG_DATA(c) as *const libc::in6_pktinfo;
                dst = Ipv6Addr::from(std::ptr::read_unaligned(info).ipi6_addr.s6_addr);
            }
            c = libc::CMSG_NXTHDR(&hdr, c);
        }
    }
    Ok(Envelope {
        len: n as usize,
        src,
        dst,
    })
}
