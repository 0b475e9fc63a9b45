//! How one NCR ended, and why when it did not succeed: [`Reason`] is typed, each variant
//! with its log id (Kea's `DHCP_DDNS_*` where Kea has one) and one text, both the one the
//! queue records (`tern.ncr_queue.last_error`, shown by the API) and the one logged.
//! Pure.

use std::fmt;
use std::net::IpAddr;

use hickory_proto::op::ResponseCode;

use crate::step::{Direction, State};

/// How a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// DNS holds the result.
    Done,
    /// Conflict resolution refused the change: the name is someone else's.
    Conflict(Reason),
    /// A server refused the update, or the request cannot be carried out.
    Failed(Reason),
    /// No server of a domain gave a usable answer: try the whole NCR again later.
    Unreachable(Reason),
}

/// Why an NCR did not (yet) reach DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The server answered a step with an RCODE the step does not accept.
    Rejected {
        /// The step.
        step: State,
        /// The server's RCODE.
        rcode: ResponseCode,
    },
    /// The server refused our TSIG key (BADSIG, BADKEY, BADTIME, BADTRUNC).
    KeyRefused {
        /// The step.
        step: State,
        /// What the answer said.
        detail: String,
    },
    /// Forward replace found the name in use by another client (check-with-dhcid) or
    /// without any DHCID, a static entry (check-exists-with-dhcid): RFC 4703 §5.3.2.
    NameInUse {
        /// No DHCID at the name at all (check-exists-with-dhcid).
        static_entry: bool,
        /// The server's RCODE (NXRRSET or YXRRSET).
        rcode: ResponseCode,
    },
    /// Every server of the direction was tried without a usable answer.
    NoServerAnswered {
        /// The step that was being sent.
        step: State,
        /// Servers tried.
        servers: usize,
        /// Tries on each.
        tries_each: u32,
        /// The last exchange's error.
        last_error: String,
    },
    /// An event the machine cannot take in its state.
    UnexpectedEvent {
        /// The state.
        state: State,
        /// The event, as debug text.
        event: String,
    },
    /// A second start.
    UnexpectedStart {
        /// The state.
        state: State,
    },
    /// Neither direction has a zone with servers.
    NoDirection,
    /// A step of a direction that has no zone.
    NoZone {
        /// The direction.
        direction: Direction,
        /// The step.
        step: State,
    },
    /// No `forward-ddns` domain matches the FQDN.
    NoForwardMatch {
        /// The NCR's FQDN.
        fqdn: String,
    },
    /// No `reverse-ddns` domain matches the reverse name.
    NoReverseMatch {
        /// The address's reverse name.
        name: String,
    },
    /// Neither direction has a domain to update.
    NoMatch {
        /// The NCR's FQDN.
        fqdn: String,
        /// The NCR's address.
        ip: IpAddr,
    },
    /// The FQDN is not a DNS name.
    NotADnsName {
        /// The NCR's FQDN.
        fqdn: String,
    },
    /// d2 stopped before it started the transaction; the NCR is queued again.
    Stopped,
}

impl Reason {
    /// The log id.
    pub fn id(&self) -> &'static str {
        match self {
            Reason::Rejected { step, .. } | Reason::KeyRefused { step, .. } => step.rejected_id(),
            Reason::NameInUse { .. } => State::FwdReplace.rejected_id(),
            Reason::NoServerAnswered { step, .. } => step.io_error_id(),
            Reason::UnexpectedEvent { .. }
            | Reason::UnexpectedStart { .. }
            | Reason::NoZone { .. } => "DHCP_DDNS_STATE_MODEL_UNEXPECTED_ERROR",
            Reason::NoDirection | Reason::NoMatch { .. } => "DHCP_DDNS_NO_MATCH",
            Reason::NoForwardMatch { .. } => "DHCP_DDNS_NO_FWD_MATCH_ERROR",
            Reason::NoReverseMatch { .. } => "DHCP_DDNS_NO_REV_MATCH_ERROR",
            // Kea refuses such an NCR when it reads it.
            Reason::NotADnsName { .. } => "DHCP_DDNS_INVALID_NCR",
            Reason::Stopped => "DHCP_DDNS_CLEARED_FOR_SHUTDOWN",
        }
    }

    /// Whether the recorded text begins with the id. The texts that do not are kept as the
    /// queue has always recorded them; their log lines get the id in front ([`Reason::logged`]).
    fn text_has_id(&self) -> bool {
        !matches!(
            self,
            Reason::NoDirection
                | Reason::NoZone { .. }
                | Reason::NotADnsName { .. }
                | Reason::Stopped
        )
    }

    /// The reason as a log line begins: the id, then the text.
    pub fn logged(&self) -> Logged<'_> {
        Logged(self)
    }
}

/// The text the queue records.
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id();
        match self {
            Reason::Rejected { rcode, .. } => write!(f, "{id}: server answered {}", rc(*rcode)),
            Reason::KeyRefused { detail, .. } => {
                write!(f, "{id}: server refused the key: {detail}")
            }
            Reason::NameInUse {
                static_entry,
                rcode,
            } => {
                let why = if *static_entry {
                    "the name is in use and has no DHCID (a static entry)"
                } else {
                    "the name is in use and its DHCID is not the client's"
                };
                write!(f, "{id}: {why} (server answered {})", rc(*rcode))
            }
            Reason::NoServerAnswered {
                step,
                servers,
                tries_each,
                last_error,
            } => {
                let direction = match step.direction() {
                    Some(Direction::Reverse) => "reverse",
                    _ => "forward",
                };
                write!(
                    f,
                    "{id}: no {direction} server answered ({servers} tried, {tries_each} times each); last error: {last_error}"
                )
            }
            Reason::UnexpectedEvent { state, event } => {
                write!(f, "{id} event {event} in state {state:?}")
            }
            Reason::UnexpectedStart { state } => write!(f, "{id} start in state {state:?}"),
            Reason::NoDirection => f.write_str("no direction to update"),
            Reason::NoZone { direction, step } => write!(f, "no {direction:?} zone for {step:?}"),
            Reason::NoForwardMatch { fqdn } => {
                write!(f, "{id} no forward-ddns domain matches {fqdn}")
            }
            Reason::NoReverseMatch { name } => {
                write!(f, "{id} no reverse-ddns domain matches {name}")
            }
            Reason::NoMatch { fqdn, ip } => {
                write!(
                    f,
                    "{id} no forward or reverse domain to update for {fqdn} {ip}"
                )
            }
            Reason::NotADnsName { fqdn } => write!(f, "{fqdn} is not a DNS name"),
            Reason::Stopped => f.write_str("d2 stopped before sending it; queued again"),
        }
    }
}

fn rc(rcode: ResponseCode) -> String {
    tern_dnsmsg::rcode::name(rcode)
}

/// A reason as logged: always with its id first.
pub struct Logged<'a>(&'a Reason);

impl fmt::Display for Logged<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.text_has_id() {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{} {}", self.0.id(), self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason: its id, the text the queue records (as before the reasons were
    /// typed), and the log line's start.
    #[test]
    fn each_reason_has_its_id_and_its_recorded_text() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let cases: Vec<(Reason, &str, &str)> = vec![
            (
                Reason::Rejected { step: State::FwdAdd, rcode: ResponseCode::Refused },
                "DHCP_DDNS_FORWARD_ADD_REJECTED",
                "DHCP_DDNS_FORWARD_ADD_REJECTED: server answered REFUSED",
            ),
            (
                Reason::Rejected { step: State::RevRemove, rcode: ResponseCode::BADSIG },
                "DHCP_DDNS_REVERSE_REMOVE_REJECTED",
                "DHCP_DDNS_REVERSE_REMOVE_REJECTED: server answered RCODE 16",
            ),
            (
                Reason::KeyRefused { step: State::FwdRemoveAddrs, detail: "NOTAUTH (BADSIG)".into() },
                "DHCP_DDNS_FORWARD_REMOVE_ADDRS_REJECTED",
                "DHCP_DDNS_FORWARD_REMOVE_ADDRS_REJECTED: server refused the key: NOTAUTH (BADSIG)",
            ),
            (
                Reason::NameInUse { static_entry: false, rcode: ResponseCode::NXRRSet },
                "DHCP_DDNS_FORWARD_REPLACE_REJECTED",
                "DHCP_DDNS_FORWARD_REPLACE_REJECTED: the name is in use and its DHCID is not the client's (server answered NXRRSET)",
            ),
            (
                Reason::NameInUse { static_entry: true, rcode: ResponseCode::YXRRSet },
                "DHCP_DDNS_FORWARD_REPLACE_REJECTED",
                "DHCP_DDNS_FORWARD_REPLACE_REJECTED: the name is in use and has no DHCID (a static entry) (server answered YXRRSET)",
            ),
            (
                Reason::NoServerAnswered { step: State::FwdReplace, servers: 2, tries_each: 3, last_error: "192.0.2.1:53: timeout after 100 ms".into() },
                "DHCP_DDNS_FORWARD_REPLACE_IO_ERROR",
                "DHCP_DDNS_FORWARD_REPLACE_IO_ERROR: no forward server answered (2 tried, 3 times each); last error: 192.0.2.1:53: timeout after 100 ms",
            ),
            (
                Reason::NoServerAnswered { step: State::RevReplace, servers: 1, tries_each: 3, last_error: "x".into() },
                "DHCP_DDNS_REVERSE_REPLACE_IO_ERROR",
                "DHCP_DDNS_REVERSE_REPLACE_IO_ERROR: no reverse server answered (1 tried, 3 times each); last error: x",
            ),
            (
                Reason::UnexpectedEvent { state: State::Finished, event: "Start".into() },
                "DHCP_DDNS_STATE_MODEL_UNEXPECTED_ERROR",
                "DHCP_DDNS_STATE_MODEL_UNEXPECTED_ERROR event Start in state Finished",
            ),
            (
                Reason::UnexpectedStart { state: State::FwdAdd },
                "DHCP_DDNS_STATE_MODEL_UNEXPECTED_ERROR",
                "DHCP_DDNS_STATE_MODEL_UNEXPECTED_ERROR start in state FwdAdd",
            ),
            (Reason::NoDirection, "DHCP_DDNS_NO_MATCH", "no direction to update"),
            (
                Reason::NoZone { direction: Direction::Reverse, step: State::RevRemove },
                "DHCP_DDNS_STATE_MODEL_UNEXPECTED_ERROR",
                "no Reverse zone for RevRemove",
            ),
            (
                Reason::NoForwardMatch { fqdn: "h.other.org.".into() },
                "DHCP_DDNS_NO_FWD_MATCH_ERROR",
                "DHCP_DDNS_NO_FWD_MATCH_ERROR no forward-ddns domain matches h.other.org.",
            ),
            (
                Reason::NoReverseMatch { name: "7.2.0.192.in-addr.arpa.".into() },
                "DHCP_DDNS_NO_REV_MATCH_ERROR",
                "DHCP_DDNS_NO_REV_MATCH_ERROR no reverse-ddns domain matches 7.2.0.192.in-addr.arpa.",
            ),
            (
                Reason::NoMatch { fqdn: "h.example.com.".into(), ip },
                "DHCP_DDNS_NO_MATCH",
                "DHCP_DDNS_NO_MATCH no forward or reverse domain to update for h.example.com. 192.0.2.7",
            ),
            (
                Reason::NotADnsName { fqdn: "a..b.".into() },
                "DHCP_DDNS_INVALID_NCR",
                "a..b. is not a DNS name",
            ),
            (
                Reason::Stopped,
                "DHCP_DDNS_CLEARED_FOR_SHUTDOWN",
                "d2 stopped before sending it; queued again",
            ),
        ];
        for (reason, id, text) in cases {
            assert_eq!(reason.id(), id, "{reason:?}");
            assert_eq!(reason.to_string(), text, "{reason:?}");
            let line = reason.logged().to_string();
            // The log line is the recorded text, with the id in front when the text lacks it.
            let expected = if text.starts_with(id) {
                text.to_owned()
            } else {
                format!("{id} {text}")
            };
            assert_eq!(line, expected, "{reason:?}");
        }
    }
}
