//! The RFC 4703 steps one NCR's transaction goes through (the states of
//! [`crate::transaction::Transaction`]), the direction each updates, and Kea's log ids
//! for a step that fails. Pure.

/// Forward or reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The forward zone (address and DHCID at the FQDN).
    Forward,
    /// The reverse zone (PTR at the address's reverse name).
    Reverse,
}

/// The machine's states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Built, not started. Entered from: construction. Transitions to: the first
    /// forward step, else the reverse step (on the start event).
    Ready,
    /// Adding the name: it must not be in use (RFC 4703 §5.3.1).
    /// Entered from: Ready, FwdReplace (NXDOMAIN: the name went away).
    /// Transitions to: FwdReplace (YXDOMAIN), RevReplace or Finished (NOERROR),
    /// Finished (other RCODE: failed).
    FwdAdd,
    /// Replacing the name's address RRset (RFC 4703 §5.3.2; unchecked in no-check modes).
    /// Entered from: Ready (no-check modes), FwdAdd (YXDOMAIN).
    /// Transitions to: RevReplace or Finished (NOERROR), FwdAdd (NXDOMAIN, checked
    /// modes), Finished (NXRRSET/YXRRSET in checked modes: conflict; other: failed).
    FwdReplace,
    /// Removing our address while the name holds our (or any) DHCID (RFC 4703 §5.5).
    /// Entered from: Ready (checked modes). Transitions to: FwdRemoveRrs (NOERROR,
    /// NXRRSET), Finished (other: failed).
    FwdRemoveAddrs,
    /// Removing the rest once no address is left (checked) or the RRsets (no-check).
    /// Entered from: Ready (no-check modes), FwdRemoveAddrs.
    /// Transitions to: RevRemove or Finished (NOERROR, NXRRSET, and YXRRSET in
    /// checked modes: another address is still there), Finished (other: failed).
    FwdRemoveRrs,
    /// Making the PTR (and DHCID) at the reverse name ours (RFC 4703 §5.4).
    /// Entered from: Ready (reverse only), FwdAdd, FwdReplace.
    /// Transitions to: Finished (NOERROR: done; other: failed).
    RevReplace,
    /// Removing the reverse name's records.
    /// Entered from: Ready (reverse only), FwdRemoveRrs.
    /// Transitions to: Finished (NOERROR, NXRRSET: done; other: failed).
    RevRemove,
    /// Over; any further event is an error.
    Finished,
}

impl State {
    /// The direction the step updates (none before and after the steps).
    pub fn direction(self) -> Option<Direction> {
        match self {
            State::FwdAdd | State::FwdReplace | State::FwdRemoveAddrs | State::FwdRemoveRrs => {
                Some(Direction::Forward)
            }
            State::RevReplace | State::RevRemove => Some(Direction::Reverse),
            State::Ready | State::Finished => None,
        }
    }

    /// Kea's log id for an answer this step does not accept.
    pub fn rejected_id(self) -> &'static str {
        match self {
            State::FwdAdd => "DHCP_DDNS_FORWARD_ADD_REJECTED",
            State::FwdReplace => "DHCP_DDNS_FORWARD_REPLACE_REJECTED",
            State::FwdRemoveAddrs => "DHCP_DDNS_FORWARD_REMOVE_ADDRS_REJECTED",
            State::FwdRemoveRrs => "DHCP_DDNS_FORWARD_REMOVE_RRS_REJECTED",
            State::RevReplace => "DHCP_DDNS_REVERSE_REPLACE_REJECTED",
            State::RevRemove => "DHCP_DDNS_REVERSE_REMOVE_REJECTED",
            State::Ready | State::Finished => "DHCP_DDNS_STATE_MODEL_UNEXPECTED_ERROR",
        }
    }

    /// Kea's log id for an exchange without a usable answer in this step.
    pub fn io_error_id(self) -> &'static str {
        match self {
            State::FwdAdd => "DHCP_DDNS_FORWARD_ADD_IO_ERROR",
            State::FwdReplace => "DHCP_DDNS_FORWARD_REPLACE_IO_ERROR",
            State::FwdRemoveAddrs => "DHCP_DDNS_FORWARD_REMOVE_ADDRS_IO_ERROR",
            State::FwdRemoveRrs => "DHCP_DDNS_FORWARD_REMOVE_RRS_IO_ERROR",
            State::RevReplace => "DHCP_DDNS_REVERSE_REPLACE_IO_ERROR",
            State::RevRemove => "DHCP_DDNS_REVERSE_REMOVE_IO_ERROR",
            State::Ready | State::Finished => "DHCP_DDNS_STATE_MODEL_UNEXPECTED_ERROR",
        }
    }
}
