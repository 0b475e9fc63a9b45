//! DHCPREQUEST decisions (RFC 2131 §4.3.2), pure: plain values in, a [`Verdict`] out.
//!
//! A request is decided in three steps, each on what is known by then:
//! 1. [`screen`]: the message alone (its state, the server identifier it names);
//! 2. [`check`]: the configuration and reservations ([`Facts`]), before any lease row;
//! 3. [`settle`]: the lease row on the address, read locked in the commit transaction
//!    ([`Row`]); a granted request is then written, and [`LOST_WRITE`] is what a lost
//!    write means.
//!
//! The engine and the commit workers only gather the values and act on the verdict
//! (log line, DHCPNAK or silence, the lease write).

use std::net::Ipv4Addr;

use crate::config::Subnet;
use crate::packet::Request;

/// The client state a DHCPREQUEST comes from (RFC 2131 §4.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    /// Answering an offer: server identifier and requested address, no ciaddr.
    Selecting {
        /// The server the client chose.
        server_id: Ipv4Addr,
        /// The offered address.
        requested: Ipv4Addr,
    },
    /// Rebooting with a remembered address: requested address, no server id, no ciaddr.
    InitReboot {
        /// The remembered address.
        requested: Ipv4Addr,
    },
    /// Extending a lease with the server that granted it (unicast): ciaddr set.
    Renewing {
        /// The client's address.
        ciaddr: Ipv4Addr,
    },
    /// Extending a lease with any server (broadcast): ciaddr set.
    Rebinding {
        /// The client's address.
        ciaddr: Ipv4Addr,
    },
}

impl RequestState {
    /// The address the request is about: the requested one (SELECTING, INIT-REBOOT)
    /// or ciaddr (RENEWING, REBINDING).
    pub fn address(&self) -> Ipv4Addr {
        match *self {
            RequestState::Selecting { requested, .. } | RequestState::InitReboot { requested } => {
                requested
            }
            RequestState::Renewing { ciaddr } | RequestState::Rebinding { ciaddr } => ciaddr,
        }
    }
}

/// Tells the state of a DHCPREQUEST; `None` for a combination RFC 2131 does not
/// define (dropped). `broadcast_dst` says whether the packet was sent to a broadcast
/// address (telling RENEWING from REBINDING; both are served the same way).
pub fn request_state(req: &Request, broadcast_dst: bool) -> Option<RequestState> {
    match (req.server_id, req.requested_ip, req.ciaddr.is_unspecified()) {
        (Some(server_id), Some(requested), true) => Some(RequestState::Selecting {
            server_id,
            requested,
        }),
        (None, Some(requested), true) => Some(RequestState::InitReboot { requested }),
        (None, _, false) if broadcast_dst => Some(RequestState::Rebinding { ciaddr: req.ciaddr }),
        (None, _, false) => Some(RequestState::Renewing { ciaddr: req.ciaddr }),
        // Some clients renewing through a relay keep option 54: still renewing.
        (Some(_), _, false) => Some(RequestState::Renewing { ciaddr: req.ciaddr }),
        _ => None,
    }
}

/// What a DHCPREQUEST gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Grant the lease with a DHCPACK (from [`settle`]: write it; the write may still
    /// lose, see [`LOST_WRITE`]).
    Ack,
    /// A DHCPNAK or silence.
    Refuse(Refusal),
}

/// A DHCPREQUEST not granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A DHCPNAK.
    Nak(NakReason),
    /// No answer.
    Silence(SilenceReason),
}

/// Why a DHCPREQUEST gets a DHCPNAK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NakReason {
    /// The address is not on the client's network (not in its subnet or shared network).
    WrongNetwork,
    /// The client has a reservation for this other address.
    ReservedElsewhere(Ipv4Addr),
    /// INIT-REBOOT for an address the client holds no lease on (authoritative server).
    UnknownLease,
    /// The address is not one this client may have.
    NotAvailable,
    /// Another client holds the address.
    InUse,
}

impl NakReason {
    /// The DHCPNAK's message (option 56).
    pub fn message(self) -> &'static str {
        match self {
            NakReason::WrongNetwork => "wrong network",
            NakReason::ReservedElsewhere(_) => "address reserved for another address",
            NakReason::UnknownLease => "lease not found",
            NakReason::NotAvailable => "address not available",
            NakReason::InUse => "address in use",
        }
    }
}

/// Why a DHCPREQUEST gets no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SilenceReason {
    /// A combination of server identifier, requested address and ciaddr that RFC 2131
    /// does not define.
    Malformed,
    /// SELECTING another server's offer (the server identifier named).
    ForeignServer(Ipv4Addr),
    /// INIT-REBOOT for an address the client holds no lease on (server not
    /// authoritative).
    NoLease,
}

/// What the configuration and reservations say about a DHCPREQUEST, before its
/// address's lease row is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The client's state, with the address it asks for.
    pub state: RequestState,
    /// The address is in the subnet serving the request (or another subnet of its
    /// shared network).
    pub on_link: bool,
    /// The address the client's reservation gives it in that subnet, if any.
    pub reserved: Option<Ipv4Addr>,
    /// The address is reserved for a client other than this one.
    pub reserved_for_other: bool,
    /// The address is in one of the subnet's pools.
    pub in_pool: bool,
    /// The subnet is `authoritative` (Kea's parameter, default false).
    pub authoritative: bool,
}

impl Facts {
    /// The facts of a request in `state` served by `subnet` (the subnet containing the
    /// address, when one of the shared network does): `reservation` is the address of
    /// the client's reservation, if any; `reserved_for_other` whether the address is
    /// reserved for another client.
    pub fn new(
        state: RequestState,
        subnet: &Subnet,
        reservation: Option<Ipv4Addr>,
        reserved_for_other: bool,
    ) -> Facts {
        let a = state.address();
        Facts {
            state,
            on_link: subnet.prefix.contains(a),
            // A reservation outside the subnet (a global one) gives no address here.
            reserved: reservation.filter(|r| subnet.prefix.contains(*r)),
            reserved_for_other,
            in_pool: subnet.in_pool(a).is_some(),
            authoritative: subnet.authoritative,
        }
    }

    /// The address the request is about.
    pub fn address(&self) -> Ipv4Addr {
        self.state.address()
    }
}

/// The lease row on the requested address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// No row.
    Free,
    /// A row of this client's (by client id, else hardware address; in any state: a
    /// declined one is not rewritten before its probation ends, see [`LOST_WRITE`]).
    Mine,
    /// Another client's row (the write replaces it only if it expired or was
    /// released: the database decides, see [`LOST_WRITE`]).
    Others,
}

/// Step 1: the message alone.
pub fn screen(state: Option<RequestState>, server_id: Ipv4Addr) -> Result<RequestState, Refusal> {
    match state {
        // RFC 2131 §4.3.2: every state is told by server identifier, requested address
        // and ciaddr; another combination is not a DHCPREQUEST the server can answer.
        None => Err(Refusal::Silence(SilenceReason::Malformed)),
        // RFC 2131 §4.3.2 SELECTING: "If the DHCPREQUEST message contains a 'server
        // identifier' option, the message is in response to a DHCPOFFER message";
        // one naming another server means the client took that server's offer.
        Some(RequestState::Selecting { server_id: s, .. }) if s != server_id => {
            Err(Refusal::Silence(SilenceReason::ForeignServer(s)))
        }
        Some(s) => Ok(s),
    }
}

/// Step 2: the configuration and reservations; `Ok` to go on to the lease row.
pub fn check(f: &Facts) -> Result<(), Refusal> {
    // RFC 2131 §4.3.2 INIT-REBOOT: "If the requested address is incorrect, or is on
    // the wrong network, the server SHOULD respond with DHCPNAK"; tern (as Kea) does so
    // in every state, authoritative or not, so the client starts over on the right net.
    if !f.on_link {
        return Err(Refusal::Nak(NakReason::WrongNetwork));
    }
    // Kea: a client with a reservation for another address of the subnet is sent
    // back to DISCOVER to get it (RFC 2131 §4.3.2: "the requested address is
    // incorrect").
    match f.reserved {
        Some(r) if r != f.address() => Err(Refusal::Nak(NakReason::ReservedElsewhere(r))),
        _ => Ok(()),
    }
}

/// Step 3: the lease row on the address. [`Verdict::Ack`] means "write the lease".
pub fn settle(f: &Facts, row: Row) -> Verdict {
    let a = f.address();
    let mine = row == Row::Mine;
    // RFC 2131 §4.3.2 INIT-REBOOT: "If the DHCP server has no record of this client,
    // then it MUST remain silent" — Kea answers a DHCPNAK instead when `authoritative`.
    if matches!(f.state, RequestState::InitReboot { .. }) && !mine {
        return Verdict::Refuse(if f.authoritative {
            Refusal::Nak(NakReason::UnknownLease)
        } else {
            Refusal::Silence(SilenceReason::NoLease)
        });
    }
    // Kea: the client's own lease on an address reserved since for another client is
    // not extended; the DHCPNAK sends the client back to DISCOVER (RFC 2131 §4.3.2
    // RENEWING/REBINDING: the server may refuse with a DHCPNAK).
    if mine && f.reserved != Some(a) && f.reserved_for_other {
        return Verdict::Refuse(Refusal::Nak(NakReason::NotAvailable));
    }
    // RFC 2131 §4.3.2 (SELECTING, or RENEWING/REBINDING without a lease of the
    // client's): an address that is not the client's must be one the server may give
    // it: reserved for it, or in a pool and reserved for nobody else.
    let may_have = f.reserved == Some(a) || (f.in_pool && !f.reserved_for_other);
    if !mine && !may_have {
        return Verdict::Refuse(Refusal::Nak(NakReason::NotAvailable));
    }
    Verdict::Ack
}

/// What a lease [`settle`] granted gets when its write loses: the database keeps an
/// unexpired lease it does not give this client — another client's (the row read
/// locked, or inserted meanwhile by another server sharing the database), or the
/// client's own declined one. The database's clock decides, so that servers sharing it
/// agree. RFC 2131 §4.3.2: an address that is not available is refused.
pub const LOST_WRITE: Refusal = Refusal::Nak(NakReason::InUse);

#[cfg(test)]
mod tests {
    use super::*;

    const US: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const OTHER_SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
    const B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 99);

    fn selecting() -> RequestState {
        RequestState::Selecting {
            server_id: US,
            requested: A,
        }
    }
    fn init_reboot() -> RequestState {
        RequestState::InitReboot { requested: A }
    }
    fn renewing() -> RequestState {
        RequestState::Renewing { ciaddr: A }
    }
    fn rebinding() -> RequestState {
        RequestState::Rebinding { ciaddr: A }
    }

    /// A pool address of the right subnet, nobody's reservation.
    fn facts(state: RequestState) -> Facts {
        Facts {
            state,
            on_link: true,
            reserved: None,
            reserved_for_other: false,
            in_pool: true,
            authoritative: false,
        }
    }

    fn nak(r: NakReason) -> Verdict {
        Verdict::Refuse(Refusal::Nak(r))
    }
    fn silence(r: SilenceReason) -> Verdict {
        Verdict::Refuse(Refusal::Silence(r))
    }

    /// A case: its name, the state [`request_state`] told, the facts, the row on the
    /// address, whether the lease write wins, the verdict expected.
    type Case = (
        &'static str,
        Option<RequestState>,
        Facts,
        Row,
        bool,
        Verdict,
    );

    /// Runs a table through all three steps (`row` for the last) and the write.
    fn run(table: &[Case]) {
        for (case, state, f, row, won, want) in table {
            let got = screen(*state, US)
                .and_then(|s| {
                    assert_eq!(s, f.state, "{case}: screen keeps the state");
                    check(f)
                })
                .map_or_else(Verdict::Refuse, |()| match settle(f, *row) {
                    Verdict::Ack if !won => Verdict::Refuse(LOST_WRITE),
                    v => v,
                });
            assert_eq!(got, *want, "{case}");
        }
    }

    #[test]
    fn request_states() {
        let mut r = crate::packet::tests::request(crate::packet::RequestKind::Request);
        assert_eq!(request_state(&r, true), None);
        r.server_id = Some(Ipv4Addr::new(192, 0, 2, 1));
        r.requested_ip = Some(Ipv4Addr::new(192, 0, 2, 10));
        assert!(matches!(
            request_state(&r, true),
            Some(RequestState::Selecting { .. })
        ));
        r.server_id = None;
        assert_eq!(
            request_state(&r, true),
            Some(RequestState::InitReboot {
                requested: Ipv4Addr::new(192, 0, 2, 10)
            })
        );
        r.requested_ip = None;
        r.ciaddr = Ipv4Addr::new(192, 0, 2, 10);
        assert!(matches!(
            request_state(&r, false),
            Some(RequestState::Renewing { .. })
        ));
        assert!(matches!(
            request_state(&r, true),
            Some(RequestState::Rebinding { .. })
        ));
    }

    #[test]
    fn screen_by_message() {
        let foreign = RequestState::Selecting {
            server_id: OTHER_SERVER,
            requested: A,
        };
        run(&[
            (
                "§4.3.2: no state matches (neither requested address nor ciaddr): silence",
                None,
                facts(selecting()),
                Row::Free,
                true,
                silence(SilenceReason::Malformed),
            ),
            (
                "§4.3.2 SELECTING: another server's identifier: silence",
                Some(foreign),
                facts(foreign),
                Row::Free,
                true,
                silence(SilenceReason::ForeignServer(OTHER_SERVER)),
            ),
            (
                "§4.3.2 SELECTING: our identifier, a free pool address: ACK",
                Some(selecting()),
                facts(selecting()),
                Row::Free,
                true,
                Verdict::Ack,
            ),
        ]);
    }

    #[test]
    fn wrong_network_is_naked_in_every_state() {
        let table: Vec<_> = [selecting(), init_reboot(), renewing(), rebinding()]
            .into_iter()
            .flat_map(|s| {
                [false, true].map(|authoritative| {
                    (
                        "§4.3.2: requested address on the wrong network: NAK",
                        Some(s),
                        Facts {
                            on_link: false,
                            in_pool: false,
                            authoritative,
                            ..facts(s)
                        },
                        Row::Mine,
                        true,
                        nak(NakReason::WrongNetwork),
                    )
                })
            })
            .collect();
        run(&table);
    }

    #[test]
    fn a_reservation_for_another_address_is_naked() {
        let table: Vec<_> = [selecting(), init_reboot(), renewing(), rebinding()]
            .into_iter()
            .map(|s| {
                (
                    "Kea: the client's reservation is another address: NAK",
                    Some(s),
                    Facts {
                        reserved: Some(B),
                        ..facts(s)
                    },
                    Row::Mine,
                    true,
                    nak(NakReason::ReservedElsewhere(B)),
                )
            })
            .collect();
        run(&table);
    }

    #[test]
    fn init_reboot_without_a_lease_is_silent_unless_authoritative() {
        let authoritative = Facts {
            authoritative: true,
            ..facts(init_reboot())
        };
        run(&[
            (
                "§4.3.2 INIT-REBOOT: no record of the client: silence",
                Some(init_reboot()),
                facts(init_reboot()),
                Row::Free,
                true,
                silence(SilenceReason::NoLease),
            ),
            (
                "§4.3.2 INIT-REBOOT: the address is someone else's, no record of the client: silence",
                Some(init_reboot()),
                facts(init_reboot()),
                Row::Others,
                true,
                silence(SilenceReason::NoLease),
            ),
            (
                "Kea authoritative: INIT-REBOOT, no record of the client: NAK",
                Some(init_reboot()),
                authoritative,
                Row::Free,
                true,
                nak(NakReason::UnknownLease),
            ),
            (
                "Kea authoritative: INIT-REBOOT for someone else's address: NAK",
                Some(init_reboot()),
                authoritative,
                Row::Others,
                true,
                nak(NakReason::UnknownLease),
            ),
            (
                "§4.3.2 INIT-REBOOT: the client's own lease: ACK",
                Some(init_reboot()),
                facts(init_reboot()),
                Row::Mine,
                true,
                Verdict::Ack,
            ),
        ]);
    }

    #[test]
    fn own_lease_reserved_since_for_another_client_is_naked() {
        let table: Vec<_> = [selecting(), init_reboot(), renewing(), rebinding()]
            .into_iter()
            .map(|s| {
                (
                    "Kea: the client's lease, reserved since for another client: NAK",
                    Some(s),
                    Facts {
                        reserved_for_other: true,
                        ..facts(s)
                    },
                    Row::Mine,
                    true,
                    nak(NakReason::NotAvailable),
                )
            })
            .collect();
        run(&table);
    }

    #[test]
    fn an_address_the_client_may_not_have_is_naked() {
        let outside_pools = |s| Facts {
            in_pool: false,
            ..facts(s)
        };
        let reserved_for_other = |s| Facts {
            reserved_for_other: true,
            ..facts(s)
        };
        run(&[
            (
                "§4.3.2 SELECTING: an address outside the pools, no reservation: NAK",
                Some(selecting()),
                outside_pools(selecting()),
                Row::Free,
                true,
                nak(NakReason::NotAvailable),
            ),
            (
                "§4.3.2 SELECTING: a pool address reserved for another client: NAK",
                Some(selecting()),
                reserved_for_other(selecting()),
                Row::Free,
                true,
                nak(NakReason::NotAvailable),
            ),
            (
                "§4.3.2 RENEWING: no lease, an address outside the pools: NAK",
                Some(renewing()),
                outside_pools(renewing()),
                Row::Free,
                true,
                nak(NakReason::NotAvailable),
            ),
            (
                "§4.3.2 REBINDING: someone else's row on an address reserved for a third: NAK",
                Some(rebinding()),
                reserved_for_other(rebinding()),
                Row::Others,
                true,
                nak(NakReason::NotAvailable),
            ),
            (
                "§4.3.2 SELECTING: the client's reservation outside the pools: ACK",
                Some(selecting()),
                Facts {
                    reserved: Some(A),
                    ..outside_pools(selecting())
                },
                Row::Free,
                true,
                Verdict::Ack,
            ),
            (
                "§4.3.2 RENEWING: the client's own lease outside the pools (pool shrunk): ACK",
                Some(renewing()),
                outside_pools(renewing()),
                Row::Mine,
                true,
                Verdict::Ack,
            ),
        ]);
    }

    #[test]
    fn renewing_and_rebinding_extend_the_clients_lease() {
        let table: Vec<_> = [renewing(), rebinding()]
            .into_iter()
            .flat_map(|s| {
                [
                    (
                        "§4.3.2 RENEWING/REBINDING: the client's lease: ACK",
                        Some(s),
                        facts(s),
                        Row::Mine,
                        true,
                        Verdict::Ack,
                    ),
                    (
                        "§4.3.2 RENEWING/REBINDING: the lease was removed, the address is free: ACK",
                        Some(s),
                        facts(s),
                        Row::Free,
                        true,
                        Verdict::Ack,
                    ),
                ]
            })
            .collect();
        run(&table);
    }

    #[test]
    fn someone_elses_address_is_naked_when_the_write_loses() {
        let table: Vec<_> = [selecting(), renewing(), rebinding()]
            .into_iter()
            .flat_map(|s| {
                [
                    (
                        "§4.3.2: the address is another client's unexpired lease: NAK",
                        Some(s),
                        facts(s),
                        Row::Others,
                        false,
                        nak(NakReason::InUse),
                    ),
                    (
                        "Kea: another client's expired lease is reused: ACK",
                        Some(s),
                        facts(s),
                        Row::Others,
                        true,
                        Verdict::Ack,
                    ),
                    (
                        "§4.3.2: another server took the free address meanwhile: NAK",
                        Some(s),
                        facts(s),
                        Row::Free,
                        false,
                        nak(NakReason::InUse),
                    ),
                ]
            })
            .collect();
        run(&table);
    }

    #[test]
    fn nak_messages_are_kept() {
        let table = [
            (NakReason::WrongNetwork, "wrong network"),
            (
                NakReason::ReservedElsewhere(B),
                "address reserved for another address",
            ),
            (NakReason::UnknownLease, "lease not found"),
            (NakReason::NotAvailable, "address not available"),
            (NakReason::InUse, "address in use"),
        ];
        for (r, text) in table {
            assert_eq!(r.message(), text, "{r:?}");
        }
    }
}
