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
