//! Where `statistic-get`, `statistic-get-all` and the resets read from. The DHCP and d2
//! engines implement [`StatsSource`] (or feed a [`MemoryStats`]) under Kea's statistic
//! names (`pkt4-received`, `subnet[1].assigned-addresses`, ...).

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// One observation of a statistic.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The value (Kea's statistics are integers, floats, durations or strings).
    pub value: serde_json::Value,
    /// When it was taken.
    pub at: DateTime<Utc>,
}

/// Counters for the `statistic-*` commands.
pub trait StatsSource: Send + Sync {
    /// Samples of one statistic, newest first; `None` when no such statistic exists.
    fn get(&self, name: &str) -> Option<Vec<Sample>>;
    /// Every statistic with its samples, newest first.
    fn all(&self) -> Vec<(String, Vec<Sample>)>;
    /// Resets one statistic to its neutral value; `false` when no such statistic exists.
    fn reset(&self, name: &str) -> bool;
    /// Resets every statistic.
    fn reset_all(&self);
}

/// No statistics at all (until an engine plugs its counters in).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoStats;

impl StatsSource for NoStats {
    fn get(&self, _: &str) -> Option<Vec<Sample>> {
        None
    }
    fn all(&self) -> Vec<(String, Vec<Sample>)> {
        Vec::new()
    }
    fn reset(&self, _: &str) -> bool {
        false
    }
    fn reset_all(&self) {}
}

/// Integer counters kept in memory, one current sample each.
#[derive(Debug, Default)]
pub struct MemoryStats {
    values: Mutex<BTreeMap<String, Sample>>,
}

impl MemoryStats {
    /// Sets a statistic to `value` now.
    pub fn set(&self, name: &str, value: i64) {
        let mut v = self.values.lock().unwrap_or_else(|e| e.into_inner());
        v.insert(
            name.to_string(),
            Sample {
                value: value.into(),
                at: Utc::now(),
            },
        );
    }

    /// Adds `delta` to a statistic (created at 0).
    pub fn add(&self, name: &str, delta: i64) {
        let mut v = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let old = v.get(name).and_then(|s| s.value.as_i64()).unwrap_or(0);
        v.insert(
            name.to_string(),
            Sample {
                value: (old + delta).into(),
                at: Utc::now(),
            },
        );
    }
}

impl StatsSource for MemoryStats {
    fn get(&self, name: &str) -> Option<Vec<Sample>> {
        let v = self.values.lock().unwrap_or_else(|e| e.into_inner());
        v.get(name).map(|s| vec![s.clone()])
    }
    fn all(&self) -> Vec<(String, Vec<Sample>)> {
        let v = self.values.lock().unwrap_or_else(|e| e.into_inner());
        v.iter()
            .map(|(k, s)| (k.clone(), vec![s.clone()]))
            .collect()
    }
    fn reset(&self, name: &str) -> bool {
        let mut v = self.values.lock().unwrap_or_else(|e| e.into_inner());
        match v.get_mut(name) {
            Some(s) => {
                s.value = neutral(&s.value);
                s.at = Utc::now();
                true
            }
            None => false,
        }
    }
    fn reset_all(&self) {
        let mut v = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let now = Utc::now();
        for s in v.values_mut() {
            s.value = neutral(&s.value);
            s.at = now;
        }
    }
}

fn neutral(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::String(_) => "".into(),
        serde_json::Value::Number(n) if n.is_f64() => 0.0.into(),
        _ => 0.into(),
    }
}

/// A sample as Kea renders it: `[value, "YYYY-MM-DD HH:MM:SS.ffffff"]`.
pub fn render(s: &Sample) -> serde_json::Value {
    serde_json::json!([s.value, s.at.format("%Y-%m-%d %H:%M:%S%.6f").to_string()])
}

/// A snapshot function of one engine's counters under Kea's names.
pub type Snapshot = Box<dyn Fn() -> Vec<(String, i64)> + Send + Sync>;

/// Live counters read from the engines at each request. Resets keep a baseline per
/// statistic and report the difference, so the engines' own atomics are never written by
/// the API (they stay monotonic for `/metrics`).
pub struct EngineStats {
    sources: Vec<Snapshot>,
    baseline: Mutex<BTreeMap<String, (i64, DateTime<Utc>)>>,
}

impl EngineStats {
    /// Counters from these snapshot functions (e.g. the DHCPv4 engine's and d2's).
    pub fn new(sources: Vec<Snapshot>) -> Self {
        Self {
            sources,
            baseline: Mutex::new(BTreeMap::new()),
        }
    }

    fn current(&self) -> BTreeMap<String, i64> {
        self.sources.iter().flat_map(|f| f()).collect()
    }

    fn sample(&self, name: &str, value: i64) -> Sample {
        let base = self.baseline.lock().unwrap_or_else(|e| e.into_inner());
        match base.get(name) {
            Some((b, at)) => Sample {
                value: (value - b).into(),
                at: *at,
            },
            None => Sample {
                value: value.into(),
                at: Utc::now(),
            },
        }
    }
}

impl StatsSource for EngineStats {
    fn get(&self, name: &str) -> Option<Vec<Sample>> {
        let value = *self.current().get(name)?;
        Some(vec![self.sample(name, value)])
    }
    fn all(&self) -> Vec<(String, Vec<Sample>)> {
        self.current()
            .into_iter()
            .map(|(k, v)| {
                let s = self.sample(&k, v);
                (k, vec![s])
            })
            .collect()
    }
    fn reset(&self, name: &str) -> bool {
        let Some(value) = self.current().get(name).copied() else {
            return false;
        };
        let mut base = self.baseline.lock().unwrap_or_else(|e| e.into_inner());
        base.insert(name.to_owned(), (value, Utc::now()));
        true
    }
    fn reset_all(&self) {
        let now = Utc::now();
        let current = self.current();
        let mut base = self.baseline.lock().unwrap_or_else(|e| e.into_inner());
        for (k, v) in current {
            base.insert(k, (v, now));
        }
    }
}

#[cfg(test)]
mod engine_stats_tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    #[test]
    fn reset_counts_from_zero_again_without_touching_the_engine() {
        let counter = Arc::new(AtomicI64::new(5));
        let c = counter.clone();
        let stats = EngineStats::new(vec![Box::new(move || {
            vec![("pkt4-received".to_owned(), c.load(Ordering::Relaxed))]
        })]);
        assert_eq!(stats.get("pkt4-received").unwrap()[0].value, 5);
        assert!(stats.reset("pkt4-received"));
        counter.fetch_add(2, Ordering::Relaxed);
        assert_eq!(stats.get("pkt4-received").unwrap()[0].value, 2);
        assert_eq!(counter.load(Ordering::Relaxed), 7);
        assert!(!stats.reset("no-such-statistic"));
        assert!(stats.get("no-such-statistic").is_none());
    }
}
