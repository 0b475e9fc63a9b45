//! DHCPv4 statistics under Kea's names, kept in memory for the API to read.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// Server-wide packet counters (Kea's `pkt4-*`, `v4-allocation-fail`).
#[derive(Debug, Default)]
pub struct Stats {
    /// `pkt4-received`.
    pub received: AtomicI64,
    /// `pkt4-discover-received`.
    pub discover_received: AtomicI64,
    /// `pkt4-request-received`.
    pub request_received: AtomicI64,
    /// `pkt4-release-received`.
    pub release_received: AtomicI64,
    /// `pkt4-decline-received`.
    pub decline_received: AtomicI64,
    /// `pkt4-inform-received`.
    pub inform_received: AtomicI64,
    /// `pkt4-unknown-received`.
    pub unknown_received: AtomicI64,
    /// `pkt4-offer-sent`.
    pub offer_sent: AtomicI64,
    /// `pkt4-ack-sent`.
    pub ack_sent: AtomicI64,
    /// `pkt4-nak-sent`.
    pub nak_sent: AtomicI64,
    /// `pkt4-sent`.
    pub sent: AtomicI64,
    /// `pkt4-parse-failed`.
    pub parse_failed: AtomicI64,
    /// `pkt4-receive-drop`.
    pub receive_drop: AtomicI64,
    /// `v4-allocation-fail`.
    pub allocation_fail: AtomicI64,
    subnets: Mutex<BTreeMap<u32, SubnetStats>>,
}

/// Per-subnet gauges.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SubnetStats {
    /// `subnet[id].total-addresses`.
    pub total_addresses: i64,
    /// `subnet[id].assigned-addresses`.
    pub assigned_addresses: i64,
    /// `subnet[id].declined-addresses`.
    pub declined_addresses: i64,
    /// `subnet[id].reclaimed-leases`.
    pub reclaimed_leases: i64,
    /// `subnet[id].reclaimed-declined-addresses`: declined addresses whose probation
    /// ended.
    pub reclaimed_declined: i64,
}

/// Adds one to a counter.
pub fn bump(c: &AtomicI64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Stats {
    /// Forgets every subnet's statistics (before a new configuration's are set).
    pub fn clear_subnets(&self) {
        self.subnets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Sets a subnet's gauges (at start-up).
    pub fn set_subnet(&self, id: u32, s: SubnetStats) {
        self.subnets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, s);
    }

    /// Sets a subnet's assigned and declined gauges.
    pub fn set_gauges(&self, id: u32, assigned: i64, declined: i64) {
        let mut m = self.subnets.lock().unwrap_or_else(|e| e.into_inner());
        let s = m.entry(id).or_default();
        s.assigned_addresses = assigned;
        s.declined_addresses = declined;
    }

    /// Changes a subnet's gauges.
    pub fn adjust_subnet(&self, id: u32, assigned: i64, declined: i64) {
        let mut m = self.subnets.lock().unwrap_or_else(|e| e.into_inner());
        let s = m.entry(id).or_default();
        s.assigned_addresses = (s.assigned_addresses + assigned).max(0);
        s.declined_addresses = (s.declined_addresses + declined).max(0);
    }

    /// Counts reclaimed leases of a subnet.
    pub fn reclaimed(&self, id: u32, n: i64) {
        let mut m = self.subnets.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(id).or_default().reclaimed_leases += n;
    }

    /// Counts declined addresses of a subnet back in use after their probation.
    pub fn reclaimed_declined(&self, id: u32, n: i64) {
        let mut m = self.subnets.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(id).or_default().reclaimed_declined += n;
    }

    /// One subnet's gauges.
    pub fn subnet(&self, id: u32) -> Option<SubnetStats> {
        self.subnets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .copied()
    }

    /// Every statistic as (Kea name, value), as `statistic-get-all` lists them.
    pub fn snapshot(&self) -> Vec<(String, i64)> {
        let g = |c: &AtomicI64| c.load(Ordering::Relaxed);
        let mut out: Vec<(String, i64)> = [
            ("pkt4-received", g(&self.received)),
            ("pkt4-discover-received", g(&self.discover_received)),
            ("pkt4-request-received", g(&self.request_received)),
            ("pkt4-release-received", g(&self.release_received)),
            ("pkt4-decline-received", g(&self.decline_received)),
            ("pkt4-inform-received", g(&self.inform_received)),
            ("pkt4-unknown-received", g(&self.unknown_received)),
            ("pkt4-offer-sent", g(&self.offer_sent)),
            ("pkt4-ack-sent", g(&self.ack_sent)),
            ("pkt4-nak-sent", g(&self.nak_sent)),
            ("pkt4-sent", g(&self.sent)),
            ("pkt4-parse-failed", g(&self.parse_failed)),
            ("pkt4-receive-drop", g(&self.receive_drop)),
            ("v4-allocation-fail", g(&self.allocation_fail)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let m = self.subnets.lock().unwrap_or_else(|e| e.into_inner());
        let (mut declined, mut reclaimed, mut reclaimed_declined) = (0, 0, 0);
        for (id, s) in m.iter() {
            out.push((format!("subnet[{id}].total-addresses"), s.total_addresses));
            out.push((
                format!("subnet[{id}].assigned-addresses"),
                s.assigned_addresses,
            ));
            out.push((
                format!("subnet[{id}].declined-addresses"),
                s.declined_addresses,
            ));
            out.push((format!("subnet[{id}].reclaimed-leases"), s.reclaimed_leases));
            out.push((
                format!("subnet[{id}].reclaimed-declined-addresses"),
                s.reclaimed_declined,
            ));
            declined += s.declined_addresses;
            reclaimed += s.reclaimed_leases;
            reclaimed_declined += s.reclaimed_declined;
        }
        out.push(("declined-addresses".to_string(), declined));
        out.push(("reclaimed-leases".to_string(), reclaimed));
        out.push((
            "reclaimed-declined-addresses".to_string(),
            reclaimed_declined,
        ));
        out
    }

    /// One statistic by Kea name.
    pub fn get(&self, name: &str) -> Option<i64> {
        self.snapshot()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}
