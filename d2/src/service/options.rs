//! Knobs of the running d2 that Kea's configuration does not have.

use std::sync::Arc;
use std::time::Duration;

use crate::stats::D2Stats;

/// Knobs that Kea's configuration does not have.
#[derive(Debug, Clone)]
pub struct D2Options {
    /// Transactions running at once (at most one per FQDN). 32: a record batch more
    /// are claimed ahead, so a finished slot is refilled at once and every slot is busy;
    /// more outstanding UPDATEs only queue at BIND and slow it (bench/README.md,
    /// `d2_rounds.sh` 2026-12-05: median 85 % of BIND's ceiling with 32, 69 % with 64).
    pub max_in_flight: usize,
    /// Results recorded, and NCRs claimed, per queue round trip (0: half of
    /// `max_in_flight`, 16 by default). Half, not a quarter: fewer round trips leave
    /// BIND more of the shared CPU (bench/README.md, `d2_bracket.sh` 2026-12-06:
    /// median 96 % of BIND's ceiling with 16, 91 % with 8, 8 alternating rounds each).
    pub record_batch: usize,
    /// Durable intake commits start at most this often; NCRs arriving meanwhile wait
    /// and go in the next one. Each commit is an fsync, on the disk where BIND fsyncs
    /// its journal once per UPDATE: at 1,000 NCR/s, committing whatever had arrived
    /// (2-3 NCRs) added ~400 fsyncs/s to BIND's 2,000 and slowed it. 10 ms: at most
    /// 100 a second, at most 10 ms more latency, none for an NCR arriving alone.
    pub intake_gather: Duration,
    /// Queue poll when no notification comes.
    pub poll_interval: Duration,
    /// How long a claimed row stays ours without renewal; after that another d2
    /// (or this one after a restart) takes it back.
    pub claim_lease: Duration,
    /// First retry delay when no server answered; doubles per attempt.
    pub backoff_min: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Finished rows are deleted after this long.
    pub retention: Duration,
    /// Identity of this d2 in `claimed_by` (default host:pid:nonce).
    pub worker_id: Option<String>,
    /// Counters to keep counting in (a reconfiguration keeps Kea's statistics going);
    /// fresh ones when `None`.
    pub stats: Option<Arc<D2Stats>>,
}

impl Default for D2Options {
    fn default() -> Self {
        D2Options {
            max_in_flight: 32,
            record_batch: 0,
            intake_gather: Duration::from_millis(10),
            poll_interval: Duration::from_secs(1),
            claim_lease: Duration::from_secs(30),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            retention: Duration::from_secs(7 * 86400),
            worker_id: None,
            stats: None,
        }
    }
}

impl D2Options {
    /// The defaults, with the tuning and benchmark knobs `TERN_D2_MAX_IN_FLIGHT` (how
    /// many transactions run at once), `TERN_D2_RECORD_BATCH` (results and claims per
    /// round trip) and `TERN_D2_INTAKE_GATHER_MS` (0: commit what has arrived at once)
    /// when set.
    pub fn from_env() -> Self {
        let mut o = D2Options::default();
        let knob = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        if let Some(n) = knob("TERN_D2_MAX_IN_FLIGHT").filter(|n| *n > 0) {
            o.max_in_flight = n as usize;
        }
        if let Some(n) = knob("TERN_D2_RECORD_BATCH") {
            o.record_batch = n as usize;
        }
        if let Some(ms) = knob("TERN_D2_INTAKE_GATHER_MS") {
            o.intake_gather = Duration::from_millis(ms);
        }
        o
    }
}
