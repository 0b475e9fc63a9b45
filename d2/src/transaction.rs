//! One NCR's RFC 4703 transaction as a pure state machine: [`Transaction::step`]
//! takes an [`Event`] (the start, a DNS answer, a failed exchange) and returns an
//! [`Action`] (send this UPDATE to server n of the forward or reverse domain, or
//! finish with an [`Outcome`]). No I/O here; `service`'s driver runs it.
//!
//! One machine serves the eight (add/remove × conflict-resolution mode) cases; the
//! mode picks the first step of each direction and how a step's answer is read:
//!
//! | change | mode                   | forward steps                 | reverse step |
//! |--------|------------------------|-------------------------------|--------------|
//! | add    | check-with-dhcid       | FwdAdd ⇄ FwdReplace           | RevReplace   |
//! | add    | check-exists-with-dhcid| FwdAdd ⇄ FwdReplace           | RevReplace   |
//! | add    | no-check-with-dhcid    | FwdReplace                    | RevReplace   |
//! | add    | no-check-without-dhcid | FwdReplace (no DHCID)         | RevReplace (no DHCID) |
//! | remove | check-with-dhcid       | FwdRemoveAddrs → FwdRemoveRrs | RevRemove (PTR checked) |
//! | remove | check-exists-with-dhcid| FwdRemoveAddrs → FwdRemoveRrs | RevRemove (PTR checked) |
//! | remove | no-check-with-dhcid    | FwdRemoveRrs                  | RevRemove    |
//! | remove | no-check-without-dhcid | FwdRemoveRrs (no DHCID)       | RevRemove (no DHCID) |
//!
//! Forward runs before reverse; a failed forward step ends the transaction (reverse
//! is skipped). An exchange that gets no usable answer (timeout, I/O error, a
//! corrupt or badly signed answer) is tried 3 times per server, then on the next
//! server from the direction's first step (as Kea restarts after selecting a new
//! server); when every server of the direction has failed, the outcome is
//! [`Outcome::Unreachable`] and the caller queues the NCR again for later.
//! An answer with an RCODE the step does not accept fails the transaction at once.

pub mod messages;

use hickory_proto::op::{Message, ResponseCode};
use tern_ncr::{ChangeType, ConflictResolutionMode};

use self::messages::UpdateParams;
pub use crate::outcome::{Outcome, Reason};
pub use crate::step::{Direction, State};
use hickory_proto::rr::Name;

/// Tries per server before the next one (Kea's MAX_UPDATE_TRIES_PER_SERVER).
pub const TRIES_PER_SERVER: u32 = 3;
/// How often FwdAdd and FwdReplace may hand over to each other (YXDOMAIN, then
/// NXDOMAIN as a name comes and goes) before the transaction gives up.
pub const MAX_ADD_REPLACE_BOUNCES: u32 = 4;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Begin.
    Start,
    /// The server answered (TSIG verified where a key is used) with this RCODE.
    Response(ResponseCode),
    /// The server answered NOTAUTH with a TSIG error (BADSIG, BADKEY, BADTIME,
    /// BADTRUNC): it refuses our key. Fails the transaction like an RCODE refusal.
    Refused(String),
    /// No usable answer: timeout, I/O error, corrupt or badly signed answer.
    NoAnswer(String),
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send `message` (ID to be set by the sender) to server `server` of the
    /// `direction`'s domain, then feed the result back.
    Send {
        /// Forward or reverse domain.
        direction: Direction,
        /// Index into the domain's server list.
        server: usize,
        /// Which try on this server (1-based).
        try_no: u32,
        /// The UPDATE.
        message: Box<Message>,
    },
    /// The transaction is over.
    Finish(Outcome),
}

/// The zone a direction updates and how many servers it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The matched domain: the UPDATE's zone section.
    pub name: Name,
    /// Number of servers in its `dns-servers` (at least 1).
    pub servers: usize,
}

/// One NCR's transaction.
#[derive(Debug, Clone)]
pub struct Transaction {
    change: ChangeType,
    mode: ConflictResolutionMode,
    params: UpdateParams,
    forward: Option<Zone>,
    reverse: Option<Zone>,
    state: State,
    server: usize,
    tries: u32,
    bounces: u32,
    /// Last failure per direction, for the outcome's reason.
    last_error: String,
}

impl Transaction {
    /// A transaction for the directions whose zone is given (a `None` zone is not
    /// updated).
    pub fn new(
        change: ChangeType,
        mode: ConflictResolutionMode,
        params: UpdateParams,
        forward: Option<Zone>,
        reverse: Option<Zone>,
    ) -> Self {
        Transaction {
            change,
            mode,
            params,
            forward,
            reverse,
            state: State::Ready,
            server: 0,
            tries: 0,
            bounces: 0,
            last_error: String::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Puts the machine in `state` on `server` (for tests: as Kea's tests do).
    pub fn set_state(&mut self, state: State, server: usize, tries: u32) {
        self.state = state;
        self.server = server;
        self.tries = tries;
    }

    fn checked(&self) -> bool {
        matches!(
            self.mode,
            ConflictResolutionMode::CheckWithDhcid | ConflictResolutionMode::CheckExistsWithDhcid
        )
    }

    fn with_dhcid(&self) -> bool {
        self.mode != ConflictResolutionMode::NoCheckWithoutDhcid
    }

    fn first_forward(&self) -> State {
        match (self.change, self.checked()) {
            (ChangeType::Add, true) => State::FwdAdd,
            (ChangeType::Add, false) => State::FwdReplace,
            (ChangeType::Remove, true) => State::FwdRemoveAddrs,
            (ChangeType::Remove, false) => State::FwdRemoveRrs,
        }
    }

    fn reverse_step(&self) -> State {
        match self.change {
            ChangeType::Add => State::RevReplace,
            ChangeType::Remove => State::RevRemove,
        }
    }

    fn zone(&self, d: Direction) -> Option<&Zone> {
        match d {
            Direction::Forward => self.forward.as_ref(),
            Direction::Reverse => self.reverse.as_ref(),
        }
    }

    /// The message the current state sends.
    pub fn build(&self) -> Option<Message> {
        use messages::*;
        let zone = &self.zone(self.state.direction()?)?.name;
        let p = &self.params;
        let own = self.mode == ConflictResolutionMode::CheckWithDhcid;
        Some(match self.state {
            State::FwdAdd => fwd_add(zone, p),
            State::FwdReplace => match self.mode {
                ConflictResolutionMode::CheckWithDhcid => fwd_replace_check_dhcid(zone, p),
                ConflictResolutionMode::CheckExistsWithDhcid => fwd_replace_check_exists(zone, p),
                _ => fwd_replace_no_check(zone, p, self.with_dhcid()),
            },
            State::FwdRemoveAddrs => fwd_remove_addr(zone, p, own),
            State::FwdRemoveRrs if self.checked() => fwd_remove_rrs(zone, p, own),
            State::FwdRemoveRrs => fwd_remove_no_check(zone, p, self.with_dhcid()),
            State::RevReplace => rev_replace(zone, p, self.with_dhcid()),
            State::RevRemove if self.checked() => rev_remove_checked(zone, p),
            State::RevRemove => rev_remove_no_check(zone, p, self.with_dhcid()),
            State::Ready | State::Finished => return None,
        })
    }

    /// Enters `state` on the first server and sends its message.
    fn enter(&mut self, state: State) -> Action {
        self.state = state;
        self.server = 0;
        self.tries = 0;
        self.send()
    }

    fn send(&mut self) -> Action {
        self.tries += 1;
        let direction = self.state.direction().expect("send only from a step");
        match self.build() {
            Some(message) => Action::Send {
                direction,
                server: self.server,
                try_no: self.tries,
                message: Box::new(message),
            },
            None => self.finish(Outcome::Failed(Reason::NoZone {
                direction,
                step: self.state,
            })),
        }
    }

    fn finish(&mut self, outcome: Outcome) -> Action {
        self.state = State::Finished;
        Action::Finish(outcome)
    }

    /// After the forward direction: the reverse step, or done.
    fn after_forward(&mut self) -> Action {
        if self.reverse.is_some() {
            self.enter(self.reverse_step())
        } else {
            self.finish(Outcome::Done)
        }
    }

    fn reject(&mut self, rcode: ResponseCode) -> Action {
        self.finish(Outcome::Failed(Reason::Rejected {
            step: self.state,
            rcode,
        }))
    }

    /// Feeds one event; returns what to do next.
    pub fn step(&mut self, event: Event) -> Action {
        use ResponseCode as R;
        match (self.state, event) {
            (State::Ready, Event::Start) => {
                if self.forward.is_some() {
                    self.enter(self.first_forward())
                } else if self.reverse.is_some() {
                    self.enter(self.reverse_step())
                } else {
                    self.finish(Outcome::Failed(Reason::NoDirection))
                }
            }
            (state @ (State::Ready | State::Finished), e) => {
                self.finish(Outcome::Failed(Reason::UnexpectedEvent {
                    state,
                    event: format!("{e:?}"),
                }))
            }
            (state, Event::Start) => {
                self.finish(Outcome::Failed(Reason::UnexpectedStart { state }))
            }
            (step, Event::Refused(detail)) => {
                self.finish(Outcome::Failed(Reason::KeyRefused { step, detail }))
            }
            (state, Event::NoAnswer(reason)) => {
                let direction = state.direction().expect("a step");
                let servers = self.zone(direction).map_or(0, |z| z.servers);
                self.last_error = reason.clone();
                if self.tries < TRIES_PER_SERVER {
                    self.send()
                } else if self.server + 1 < servers {
                    // Next server, from the direction's first step.
                    let first = match direction {
                        Direction::Forward => self.first_forward(),
                        Direction::Reverse => self.reverse_step(),
                    };
                    self.state = first;
                    self.server += 1;
                    self.tries = 0;
                    self.send()
                } else {
                    self.finish(Outcome::Unreachable(Reason::NoServerAnswered {
                        step: state,
                        servers,
                        tries_each: TRIES_PER_SERVER,
                        last_error: reason,
                    }))
                }
            }
            (State::FwdAdd, Event::Response(rcode)) => match rcode {
                R::NoError => self.after_forward(),
                R::YXDomain => {
                    self.bounces += 1;
                    if self.bounces > MAX_ADD_REPLACE_BOUNCES {
                        return self.reject(rcode);
                    }
                    self.state = State::FwdReplace;
                    self.tries = 0;
                    self.send()
                }
                _ => self.reject(rcode),
            },
            (State::FwdReplace, Event::Response(rcode)) => match rcode {
                R::NoError => self.after_forward(),
                R::NXDomain if self.checked() => {
                    self.bounces += 1;
                    if self.bounces > MAX_ADD_REPLACE_BOUNCES {
                        return self.reject(rcode);
                    }
                    self.state = State::FwdAdd;
                    self.tries = 0;
                    self.send()
                }
                R::NXRRSet | R::YXRRSet if self.checked() => {
                    self.finish(Outcome::Conflict(Reason::NameInUse {
                        static_entry: self.mode != ConflictResolutionMode::CheckWithDhcid,
                        rcode,
                    }))
                }
                _ => self.reject(rcode),
            },
            (State::FwdRemoveAddrs, Event::Response(rcode)) => match rcode {
                R::NoError | R::NXRRSet => {
                    self.state = State::FwdRemoveRrs;
                    self.tries = 0;
                    self.send()
                }
                _ => self.reject(rcode),
            },
            (State::FwdRemoveRrs, Event::Response(rcode)) => match rcode {
                R::NoError | R::NXRRSet => self.after_forward(),
                R::YXRRSet if self.checked() => self.after_forward(),
                _ => self.reject(rcode),
            },
            (State::RevReplace, Event::Response(rcode)) => match rcode {
                R::NoError => self.finish(Outcome::Done),
                _ => self.reject(rcode),
            },
            (State::RevRemove, Event::Response(rcode)) => match rcode {
                R::NoError | R::NXRRSet => self.finish(Outcome::Done),
                _ => self.reject(rcode),
            },
        }
    }
}

#[cfg(test)]
mod tests;
