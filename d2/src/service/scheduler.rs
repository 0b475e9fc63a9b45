//! Which claimed NCR runs when, and when the queue is asked for more: pure logic (no
//! sockets, no database, no clock of its own: the caller passes `now`), driven by the
//! worker ([`super::worker`]).
//!
//! * **Slots**: at most `max_in_flight` transactions run at once.
//! * **One per FQDN**: the store's claim never hands out two NCRs of one FQDN (a unique
//!   index on in-progress rows, across appliances); here a claimed NCR whose FQDN is
//!   running also waits for it, so that order holds even if two ever met in one d2.
//! * **Claim-ahead**: a batch (`refill`) more than the slots is claimed, so a finished
//!   slot is refilled at once instead of after a round trip; a claim is asked for only
//!   when something may be due (an announced NCR, a poll, a full last claim, a finished
//!   NCR whose FQDN has a later request waiting) and a whole batch fits.
//! * **Recording in batches**: results wait for `refill` of them or [`FLUSH_AFTER`],
//!   and go in the same round trip as the next claim; one trip at a time; a failed trip
//!   is retried after [`TRIP_RETRY_AFTER`] with its results, [`TRIP_TRIES`] times.
//! * **Stop**: what was claimed but not started is given back, due at once.
//! * **Backoff**: an NCR no server answered waits [`backoff`] before its next try.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use tern_store::ncr_queue::{self, Finish, QueuedNcr};

use super::options::D2Options;
use crate::outcome::Reason;

/// Results wait at most this long for a batch: recording them early gains nothing for
/// DNS, and one round trip per NCR is what the queue cannot afford.
pub(super) const FLUSH_AFTER: Duration = Duration::from_millis(20);
/// After a failed round trip, the next one waits this long.
pub(super) const TRIP_RETRY_AFTER: Duration = Duration::from_millis(100);
/// Failed round trips in a row after which their results are given up: the rows stay
/// in progress, no longer renewed, so once their lease runs out they are queued again.
pub(super) const TRIP_TRIES: u32 = 5;

/// A claimed NCR as the scheduler sees it.
pub(super) trait Job {
    /// Its queue id.
    fn id(&self) -> i64;
    /// Its FQDN, as the queue compares them.
    fn fqdn_key(&self) -> String;
}

impl Job for QueuedNcr {
    fn id(&self) -> i64 {
        self.id
    }

    fn fqdn_key(&self) -> String {
        ncr_queue::fqdn_key(self.ncr.fqdn.as_str())
    }
}

/// A bookkeeping round trip to make: record `batch`, then claim up to `limit` (0: no
/// claim).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Trip {
    /// Results to record.
    pub(super) batch: Vec<(i64, Finish)>,
    /// NCRs to claim at most.
    pub(super) limit: i64,
}

/// What became of a failed round trip's results.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TripFailed {
    /// Failed trips in a row, this one included.
    pub(super) tries: u32,
    /// Results given up after [`TRIP_TRIES`] failures (empty: they go in the next trip).
    pub(super) given_up: Vec<i64>,
}

/// The worker's decisions.
#[derive(Debug)]
pub(super) struct Scheduler<J> {
    /// Transactions at once.
    max: usize,
    /// Results recorded, and NCRs claimed, per round trip.
    refill: usize,
    /// Claimed, not started.
    ready: VecDeque<J>,
    /// Running: queue id -> FQDN key.
    running: HashMap<i64, String>,
    /// Results waiting to be recorded.
    finished: Vec<(i64, Finish)>,
    /// The claim limit of the round trip under way, if one is.
    trip: Option<i64>,
    /// Something may be due (new NCRs announced, a poll, a full claim last time).
    maybe_due: bool,
    /// When the oldest result waiting for a batch must be recorded anyway.
    flush_at: Option<Instant>,
    /// After a failed round trip, the next waits until then.
    hold_off: Option<Instant>,
    /// Failed round trips in a row.
    trip_failures: u32,
    stopping: bool,
}

impl<J: Job> Scheduler<J> {
    /// `max_in_flight` slots (at least 1); `record_batch` results and claims per round
    /// trip (0: half the slots; at most the slots).
    pub(super) fn new(max_in_flight: usize, record_batch: usize) -> Self {
        let max = max_in_flight.max(1);
        let refill = match record_batch {
            0 => (max / 2).max(1),
            n => n.min(max),
        };
        Scheduler {
            max,
            refill,
            ready: VecDeque::new(),
            running: HashMap::new(),
            finished: Vec::new(),
            trip: None,
            maybe_due: true,
            flush_at: None,
            hold_off: None,
            trip_failures: 0,
            stopping: false,
        }
    }

    /// NCRs held at most: every slot, and a batch claimed ahead.
    fn hold(&self) -> usize {
        self.max + self.refill
    }

    /// Transactions running.
    pub(super) fn running(&self) -> usize {
        self.running.len()
    }

    /// Whether [`Scheduler::stop`] was called.
    pub(super) fn is_stopping(&self) -> bool {
        self.stopping
    }

    /// Stops claiming and starting; what was claimed but not started goes back to the
    /// queue, due at once, so the next d2 need not wait for the claim lease to run out.
    pub(super) fn stop(&mut self) {
        self.stopping = true;
        self.give_back();
    }

    fn give_back(&mut self) {
        let back = self.ready.drain(..).map(|j| {
            let result = Finish::RetryAfter {
                reason: Reason::Stopped.to_string(),
                after: Duration::ZERO,
            };
            (j.id(), result)
        });
        self.finished.extend(back);
    }

    /// Something may be due: an NCR was announced, or the poll interval passed.
    pub(super) fn due(&mut self) {
        self.maybe_due = true;
    }

    /// The next NCR to start, if a slot is free and one is ready whose FQDN is not
    /// running; it counts as running until [`Scheduler::finished`] or
    /// [`Scheduler::lost`].
    pub(super) fn start(&mut self) -> Option<J> {
        if self.stopping || self.running.len() >= self.max {
            return None;
        }
        let at = self
            .ready
            .iter()
            .position(|j| !self.running.values().any(|k| *k == j.fqdn_key()))?;
        let job = self.ready.remove(at)?;
        self.running.insert(job.id(), job.fqdn_key());
        Some(job)
    }

    /// A transaction ended with `result`, to be recorded.
    pub(super) fn finished(&mut self, id: i64, result: Finish) {
        self.running.remove(&id);
        self.finished.push((id, result));
    }

    /// A transaction ended without a result (it panicked): its slot is free; its row,
    /// no longer renewed, is taken back after the claim lease.
    pub(super) fn lost(&mut self, id: i64) {
        self.running.remove(&id);
    }

    /// The round trip to make now, if one is due and none is under way.
    pub(super) fn next_trip(&mut self, now: Instant) -> Option<Trip> {
        if self.finished.is_empty() {
            self.flush_at = None;
        } else if self.flush_at.is_none() {
            self.flush_at = Some(now + FLUSH_AFTER);
        }
        if self.trip.is_some() || self.hold_off.is_some_and(|t| t > now) {
            return None;
        }
        self.hold_off = None;
        let room = self
            .hold()
            .saturating_sub(self.running.len() + self.ready.len());
        let claim = !self.stopping && self.maybe_due && room >= self.refill;
        let flush = self.flush_at.is_some_and(|t| t <= now);
        let record = !self.finished.is_empty()
            && (flush || self.finished.len() >= self.refill || self.stopping);
        if !claim && !record {
            return None;
        }
        let limit = if claim { room as i64 } else { 0 };
        if claim {
            // This claim takes everything due so far; news from now on (a wake, a
            // poll) asks for another.
            self.maybe_due = false;
        }
        self.trip = Some(limit);
        self.flush_at = None;
        Some(Trip {
            batch: std::mem::take(&mut self.finished),
            limit,
        })
    }

    /// The round trip recorded its results and claimed `claimed` (of `limit` asked);
    /// `successor_waiting`: a finished NCR's FQDN has a later request waiting.
    pub(super) fn answered(&mut self, limit: i64, claimed: Vec<J>, successor_waiting: bool) {
        self.trip = None;
        self.trip_failures = 0;
        // A full claim: more may be waiting; a finished FQDN's next request is due now.
        if limit > 0 && claimed.len() as i64 == limit {
            self.maybe_due = true;
        }
        self.maybe_due |= successor_waiting;
        self.ready.extend(claimed);
        if self.stopping {
            self.give_back();
        }
    }

    /// The round trip failed: its results go in the next one (before the newer ones),
    /// after [`TRIP_RETRY_AFTER`], or are given up after [`TRIP_TRIES`] failures in a row.
    pub(super) fn trip_failed(
        &mut self,
        mut batch: Vec<(i64, Finish)>,
        limit: i64,
        now: Instant,
    ) -> TripFailed {
        self.trip = None;
        self.trip_failures += 1;
        let tries = self.trip_failures;
        if limit > 0 {
            self.maybe_due = true;
        }
        let mut given_up = Vec::new();
        if self.trip_failures >= TRIP_TRIES {
            given_up = batch.drain(..).map(|(id, _)| id).collect();
            self.trip_failures = 0;
        }
        batch.append(&mut self.finished);
        self.finished = batch;
        self.hold_off = Some(now + TRIP_RETRY_AFTER);
        TripFailed { tries, given_up }
    }

    /// The round trip's task itself failed: its results are lost to us (the rows run
    /// out of lease and are queued again).
    pub(super) fn trip_lost(&mut self, now: Instant) {
        self.trip = None;
        self.maybe_due = true;
        self.hold_off = Some(now + TRIP_RETRY_AFTER);
    }

    /// When to look again without news: the batch's flush, or the end of a hold-off
    /// (neither while a round trip is under way).
    pub(super) fn wake_at(&self) -> Option<Instant> {
        if self.trip.is_some() {
            return None;
        }
        match (self.flush_at, self.hold_off) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Stopped, nothing running, every result recorded.
    pub(super) fn is_done(&self) -> bool {
        self.stopping && self.running.is_empty() && self.finished.is_empty() && self.trip.is_none()
    }
}

/// The wait before the next try of an NCR no server answered, its `attempts`-th claim
/// just done: `backoff_min` doubling per attempt, at most `backoff_max`.
pub(super) fn backoff(options: &D2Options, attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 16) as u32 - 1;
    options
        .backoff_min
        .saturating_mul(1 << exp)
        .min(options.backoff_max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_store::ncr_queue::NcrOutcome;

    /// A claimed NCR: queue id and FQDN.
    #[derive(Debug, Clone, PartialEq)]
    struct J(i64, &'static str);

    impl Job for J {
        fn id(&self) -> i64 {
            self.0
        }
        fn fqdn_key(&self) -> String {
            self.1.to_owned()
        }
    }

    fn done() -> Finish {
        Finish::Outcome(NcrOutcome::Done)
    }

    /// Jobs `from..from+n`, each its own FQDN.
    fn jobs(from: i64, n: usize) -> Vec<J> {
        let names: &'static [&'static str] = &[
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q",
            "r", "s", "t", "u", "v", "w", "x", "y", "z",
        ];
        (0..n)
            .map(|i| J(from + i as i64, names[(from as usize + i) % names.len()]))
            .collect()
    }

    /// A scheduler with `running` transactions, `ready` claimed ahead and `finished`
    /// results waiting, nothing due.
    fn with(
        max: usize,
        batch: usize,
        running: usize,
        ready: usize,
        finished: usize,
    ) -> Scheduler<J> {
        let mut s = Scheduler::new(max, batch);
        s.maybe_due = false;
        for j in jobs(0, running) {
            s.running.insert(j.id(), format!("run-{}", j.id()));
        }
        s.ready.extend(jobs(1000, ready));
        s.finished = (0..finished).map(|i| (2000 + i as i64, done())).collect();
        s
    }

    /// Each case: slots and record_batch, transactions running, NCRs claimed ahead,
    /// results waiting, and flags (`due`: something announced; `stop`; `old`: the
    /// results waited 20 ms; `trip`: a round trip under way; `held`: holding off after a
    /// failed one; `held-over`: that hold-off just ended), then the round trip asked
    /// for (results recorded, claim limit), or none.
    #[test]
    fn trips_claim_a_batch_ahead_and_record_in_batches() {
        type Case = (&'static str, [usize; 5], &'static str, Option<(usize, i64)>);
        #[rustfmt::skip]
        let cases: [Case; 16] = [
            ("idle, due: all slots + a batch", [32, 0, 0, 0, 0], "due", Some((0, 48))),
            ("idle, nothing due", [32, 0, 0, 0, 0], "", None),
            ("slots full, a batch ready", [32, 0, 32, 16, 0], "due", None),
            ("slots full, none ready: a batch", [32, 0, 32, 0, 0], "due", Some((0, 16))),
            ("less room than a batch", [32, 0, 32, 1, 0], "due", None),
            ("a batch of results", [32, 0, 32, 16, 16], "", Some((16, 0))),
            ("a few results, just now", [32, 0, 32, 16, 3], "", None),
            ("a few results, 20 ms old", [32, 0, 32, 16, 3], "old", Some((3, 0))),
            ("results go with a claim", [32, 0, 16, 0, 3], "due", Some((3, 32))),
            ("stopping: results, no claim", [32, 0, 1, 0, 1], "due stop", Some((1, 0))),
            ("a trip under way", [32, 0, 0, 0, 16], "due trip", None),
            ("holding off", [32, 0, 0, 0, 16], "due held", None),
            ("the hold-off is over", [32, 0, 0, 0, 16], "held-over", Some((16, 0))),
            ("record_batch 4", [32, 4, 32, 0, 0], "due", Some((0, 4))),
            ("record_batch above the slots", [8, 100, 0, 0, 0], "due", Some((0, 16))),
            ("0 slots count as 1", [0, 0, 0, 0, 0], "due", Some((0, 2))),
        ];
        let now = Instant::now();
        for (case, [max, batch, running, ready, finished], flags, expected) in cases {
            let mut s = with(max, batch, running, ready, finished);
            for flag in flags.split_whitespace() {
                match flag {
                    "due" => s.due(),
                    "stop" => s.stop(),
                    "old" => s.flush_at = Some(now - Duration::from_millis(1)),
                    "trip" => s.trip = Some(0),
                    "held" => s.hold_off = Some(now + Duration::from_millis(50)),
                    "held-over" => s.hold_off = Some(now),
                    other => panic!("unknown flag {other}"),
                }
            }
            let got = s.next_trip(now).map(|t| (t.batch.len(), t.limit));
            assert_eq!(got, expected, "{case}");
        }
    }

    /// Each case: slots, the ready NCRs (id, FQDN) in claim order, and the ids started.
    #[test]
    fn slots_bound_the_running_and_one_fqdn_runs_at_a_time() {
        #[rustfmt::skip]
        let cases: Vec<(&str, usize, Vec<J>, Vec<i64>)> = vec![
            ("as many as the slots, in claim order", 2, vec![J(1, "a"), J(2, "b"), J(3, "c")], vec![1, 2]),
            ("a second NCR of a running FQDN waits", 3, vec![J(1, "a"), J(2, "a"), J(3, "b")], vec![1, 3]),
            ("all of one FQDN: one at a time", 4, vec![J(1, "a"), J(2, "a"), J(3, "a")], vec![1]),
            ("nothing ready", 4, vec![], vec![]),
        ];
        for (case, max, ready, started) in cases {
            let mut s = Scheduler::new(max, 1);
            s.ready.extend(ready);
            let got: Vec<i64> = std::iter::from_fn(|| s.start()).map(|j| j.0).collect();
            assert_eq!(got, started, "{case}");
        }
        // The waiting one starts when its FQDN's transaction has finished.
        let mut s = Scheduler::new(2, 1);
        s.ready.extend([J(1, "a"), J(2, "a")]);
        assert_eq!(s.start(), Some(J(1, "a")));
        assert_eq!(s.start(), None);
        s.finished(1, done());
        assert_eq!(s.start(), Some(J(2, "a")));
    }

    #[test]
    fn a_full_claim_or_a_waiting_successor_asks_again() {
        let now = Instant::now();
        for (claimed, successor, due) in [
            (16, false, true),
            (3, false, false),
            (3, true, true),
            (0, true, true),
        ] {
            let mut s = with(32, 0, 32, 0, 0);
            s.due();
            let trip = s.next_trip(now).expect("a claim");
            assert_eq!(trip.limit, 16);
            s.answered(trip.limit, jobs(0, claimed), successor);
            assert_eq!(s.maybe_due, due, "claimed {claimed}, successor {successor}");
            assert_eq!(s.ready.len(), claimed);
        }
    }

    #[test]
    fn failed_trips_keep_their_results_then_give_them_up() {
        let mut now = Instant::now();
        let mut s = with(32, 0, 0, 0, 16);
        let trip = s.next_trip(now).expect("a batch of results");
        s.finished(99, done());
        let f = s.trip_failed(trip.batch, 0, now);
        assert_eq!(
            f,
            TripFailed {
                tries: 1,
                given_up: vec![]
            }
        );
        let ids: Vec<i64> = s.finished.iter().map(|r| r.0).collect();
        let expected: Vec<i64> = (2000..2016).chain([99]).collect();
        assert_eq!(
            ids, expected,
            "the retried results first, the newer one after"
        );
        assert_eq!(s.wake_at(), Some(now + TRIP_RETRY_AFTER));
        assert!(s.next_trip(now).is_none(), "holds off");
        for try_no in 2..TRIP_TRIES {
            now += TRIP_RETRY_AFTER;
            let trip = s.next_trip(now).expect("retried after the hold-off");
            assert_eq!(trip.batch.len(), 17);
            let f = s.trip_failed(trip.batch, 0, now);
            assert_eq!(
                f,
                TripFailed {
                    tries: try_no,
                    given_up: vec![]
                }
            );
        }
        now += TRIP_RETRY_AFTER;
        let trip = s.next_trip(now).expect("the last try");
        let f = s.trip_failed(trip.batch, 5, now);
        assert_eq!((f.tries, f.given_up), (TRIP_TRIES, expected));
        assert!(s.finished.is_empty());
        assert!(s.maybe_due, "a failed claim asks again");
        // The count starts again.
        s.finished(7, done());
        now += TRIP_RETRY_AFTER;
        s.flush_at = Some(now);
        let trip = s.next_trip(now).expect("the new result");
        assert_eq!(s.trip_failed(trip.batch, 0, now).tries, 1);
    }

    #[test]
    fn a_stop_gives_back_what_has_not_started_and_ends_when_all_is_recorded() {
        let now = Instant::now();
        let mut s = with(2, 0, 0, 0, 0);
        s.ready.extend([J(1, "a"), J(2, "b"), J(3, "c")]);
        assert_eq!(s.start(), Some(J(1, "a")));
        s.stop();
        assert_eq!(s.start(), None, "nothing starts after a stop");
        let back = |s: &Scheduler<J>| -> Vec<i64> {
            s.finished
                .iter()
                .filter(|(_, f)| matches!(f, Finish::RetryAfter { reason, after } if *after == Duration::ZERO && reason == "d2 stopped before sending it; queued again"))
                .map(|r| r.0)
                .collect()
        };
        assert_eq!(back(&s), [2, 3]);
        assert!(!s.is_done(), "one still running");
        let trip = s.next_trip(now).expect("given back at once");
        assert_eq!(trip.limit, 0, "no claim while stopping");
        // Claimed by that trip after all: given back too.
        s.answered(0, vec![J(4, "d")], false);
        assert_eq!(back(&s), [4]);
        s.finished(1, done());
        assert!(!s.is_done(), "results to record");
        let trip = s.next_trip(now).expect("the rest");
        assert_eq!(trip.batch.len(), 2);
        assert!(!s.is_done(), "the trip is under way");
        s.answered(0, vec![], false);
        assert!(s.is_done());
    }

    #[test]
    fn backoff_doubles_from_one_second_to_a_minute() {
        let o = D2Options::default();
        let cases = [
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 4),
            (4, 8),
            (5, 16),
            (6, 32),
            (7, 60),
            (9, 60),
            (1000, 60),
        ];
        for (attempts, secs) in cases {
            assert_eq!(backoff(&o, attempts).as_secs(), secs, "attempt {attempts}");
        }
    }
}
