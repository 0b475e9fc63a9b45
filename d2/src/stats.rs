//! D2 statistics under Kea's names, kept in memory (shared through an `Arc`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Counters of one TSIG key (`key[name].update-*`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeyStats {
    /// Updates sent signed with the key.
    pub update_sent: u64,
    /// Answers received.
    pub update_success: u64,
    /// Exchanges that timed out.
    pub update_timeout: u64,
    /// Other exchange failures (I/O, corrupt or badly signed answers).
    pub update_error: u64,
}

/// D2's counters. Kea's meaning: `ncr-*` count requests received over UDP;
/// `update-*` count DNS exchanges (an answer of any RCODE is an `update-success`).
#[derive(Debug, Default)]
pub struct D2Stats {
    /// NCRs received and queued.
    pub ncr_received: AtomicU64,
    /// NCRs that could not be parsed or validated.
    pub ncr_invalid: AtomicU64,
    /// Receive errors, and NCRs that could not be queued.
    pub ncr_error: AtomicU64,
    /// Updates sent.
    pub update_sent: AtomicU64,
    /// Updates sent with TSIG.
    pub update_signed: AtomicU64,
    /// Updates sent without TSIG.
    pub update_unsigned: AtomicU64,
    /// Answers received.
    pub update_success: AtomicU64,
    /// Exchanges that timed out.
    pub update_timeout: AtomicU64,
    /// Other exchange failures.
    pub update_error: AtomicU64,
    keys: Mutex<BTreeMap<String, KeyStats>>,
}

/// Which exchange counter to bump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeResult {
    /// An answer came.
    Success,
    /// Nothing came in time.
    Timeout,
    /// Anything else.
    Error,
}

impl D2Stats {
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one update sent, signed with `key` or not.
    pub(crate) fn sent(&self, key: Option<&str>) {
        Self::inc(&self.update_sent);
        match key {
            Some(k) => {
                Self::inc(&self.update_signed);
                self.with_key(k, |s| s.update_sent += 1);
            }
            None => Self::inc(&self.update_unsigned),
        }
    }

    /// Counts the result of one exchange.
    pub(crate) fn result(&self, key: Option<&str>, r: ExchangeResult) {
        let (c, f): (&AtomicU64, fn(&mut KeyStats)) = match r {
            ExchangeResult::Success => (&self.update_success, |s| s.update_success += 1),
            ExchangeResult::Timeout => (&self.update_timeout, |s| s.update_timeout += 1),
            ExchangeResult::Error => (&self.update_error, |s| s.update_error += 1),
        };
        Self::inc(c);
        if let Some(k) = key {
            self.with_key(k, f);
        }
    }

    fn with_key(&self, key: &str, f: impl FnOnce(&mut KeyStats)) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        f(keys.entry(key.to_owned()).or_default());
    }

    /// The counters of one key.
    pub fn key(&self, name: &str) -> KeyStats {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.get(name).copied().unwrap_or_default()
    }

    /// Every statistic under Kea's name, e.g. `("update-sent", 3)`,
    /// `("key[k1.].update-sent", 3)`.
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = vec![
            ("ncr-received".to_owned(), g(&self.ncr_received)),
            ("ncr-invalid".to_owned(), g(&self.ncr_invalid)),
            ("ncr-error".to_owned(), g(&self.ncr_error)),
            ("update-sent".to_owned(), g(&self.update_sent)),
            ("update-signed".to_owned(), g(&self.update_signed)),
            ("update-unsigned".to_owned(), g(&self.update_unsigned)),
            ("update-success".to_owned(), g(&self.update_success)),
            ("update-timeout".to_owned(), g(&self.update_timeout)),
            ("update-error".to_owned(), g(&self.update_error)),
        ];
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        for (name, s) in keys.iter() {
            for (stat, v) in [
                ("update-sent", s.update_sent),
                ("update-success", s.update_success),
                ("update-timeout", s.update_timeout),
                ("update-error", s.update_error),
            ] {
                out.push((format!("key[{name}].{stat}"), v));
            }
        }
        out
    }

    /// One statistic by Kea's name.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.snapshot()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}
