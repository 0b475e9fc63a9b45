//! DHCPv6 statistics under Kea's names (ARM "Statistics in the DHCPv6 Server"), kept in
//! memory for the API to read.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use crate::v6::wire::msg;

/// Server-wide packet counters (`pkt6-*`, `v6-allocation-fail`).
#[derive(Debug, Default)]
pub struct Stats6 {
    /// `pkt6-received`.
    pub received: AtomicI64,
    /// `pkt6-solicit-received`.
    pub solicit: AtomicI64,
    /// `pkt6-request-received`.
    pub request: AtomicI64,
    /// `pkt6-renew-received`.
    pub renew: AtomicI64,
    /// `pkt6-rebind-received`.
    pub rebind: AtomicI64,
    /// `pkt6-release-received`.
    pub release: AtomicI64,
    /// `pkt6-decline-received`.
    pub decline: AtomicI64,
    /// `pkt6-confirm-received`.
    pub confirm: AtomicI64,
    /// `pkt6-infrequest-received`.
    pub infrequest: AtomicI64,
    /// `pkt6-unknown-received`.
    pub unknown: AtomicI64,
    /// `pkt6-sent`.
    pub sent: AtomicI64,
    /// `pkt6-advertise-sent`.
    pub advertise_sent: AtomicI64,
    /// `pkt6-reply-sent`.
    pub reply_sent: AtomicI64,
    /// `pkt6-parse-failed`.
    pub parse_failed: AtomicI64,
    /// `pkt6-receive-drop`.
    pub receive_drop: AtomicI64,
    /// `pkt6-rfc-violation`.
    pub rfc_violation: AtomicI64,
    /// `pkt6-not-for-us`.
    pub not_for_us: AtomicI64,
    /// `pkt6-queue-full`.
    pub queue_full: AtomicI64,
    /// `v6-allocation-fail`.
    pub allocation_fail: AtomicI64,
    subnets: Mutex<BTreeMap<u32, SubnetStats6>>,
}

/// Per-subnet gauges.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SubnetStats6 {
    /// `subnet[id].total-nas` (saturating at i64::MAX; Kea's is a big integer).
    pub total_nas: i64,
    /// `subnet[id].assigned-nas`.
    pub assigned_nas: i64,
    /// `subnet[id].total-pds`.
    pub total_pds: i64,
    /// `subnet[id].assigned-pds`.
    pub assigned_pds: i64,
    /// `subnet[id].declined-addresses`.
    pub declined: i64,
    /// `subnet[id].reclaimed-leases`.
    pub reclaimed: i64,
    /// `subnet[id].cumulative-assigned-nas`: addresses ever assigned (not renewals).
    pub cumulative_nas: i64,
    /// `subnet[id].cumulative-assigned-pds`.
    pub cumulative_pds: i64,
}

/// Adds one to a counter.
pub fn bump(c: &AtomicI64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Stats6 {
    /// The `pkt6-<type>-received` counter of a message type.
    pub fn received_counter(&self, msg_type: u8) -> &AtomicI64 {
        match msg_type {
            msg::SOLICIT => &self.solicit,
            msg::REQUEST => &self.request,
            msg::RENEW => &self.renew,
            msg::REBIND => &self.rebind,
            msg::RELEASE => &self.release,
            msg::DECLINE => &self.decline,
            msg::CONFIRM => &self.confirm,
            msg::INFORMATION_REQUEST => &self.infrequest,
            _ => &self.unknown,
        }
    }

    /// Forgets every subnet's gauges (before a new configuration's are set).
    pub fn clear_subnets(&self) {
        self.subnets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Sets a subnet's gauges.
    pub fn set_subnet(&self, id: u32, s: SubnetStats6) {
        self.subnets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, s);
    }

    /// Changes a subnet's gauges by the given amounts.
    pub fn adjust(&self, id: u32, nas: i64, pds: i64, declined: i64) {
        let mut m = self.subnets.lock().unwrap_or_else(|e| e.into_inner());
        let s = m.entry(id).or_default();
        s.assigned_nas = (s.assigned_nas + nas).max(0);
        s.assigned_pds = (s.assigned_pds + pds).max(0);
        s.declined = (s.declined + declined).max(0);
    }

    /// A new lease (not a renewal) of an address (`pd` false) or a prefix: assigned and
    /// cumulative-assigned both go up.
    pub fn assigned(&self, id: u32, pd: bool) {
        let mut m = self.subnets.lock().unwrap_or_else(|e| e.into_inner());
        let s = m.entry(id).or_default();
        if pd {
            s.assigned_pds += 1;
            s.cumulative_pds += 1;
        } else {
            s.assigned_nas += 1;
            s.cumulative_nas += 1;
        }
    }

    /// Counts reclaimed leases.
    pub fn reclaimed(&self, id: u32, n: i64) {
        let mut m = self.subnets.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(id).or_default().reclaimed += n;
    }

    /// One subnet's gauges.
    pub fn subnet(&self, id: u32) -> Option<SubnetStats6> {
        self.subnets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .copied()
    }

    /// Every statistic as (Kea name, value).
    pub fn snapshot(&self) -> Vec<(String, i64)> {
        let g = |c: &AtomicI64| c.load(Ordering::Relaxed);
        let mut out: Vec<(String, i64)> = [
            ("pkt6-received", g(&self.received)),
            ("pkt6-solicit-received", g(&self.solicit)),
            ("pkt6-request-received", g(&self.request)),
            ("pkt6-renew-received", g(&self.renew)),
            ("pkt6-rebind-received", g(&self.rebind)),
            ("pkt6-release-received", g(&self.release)),
            ("pkt6-decline-received", g(&self.decline)),
            ("pkt6-confirm-received", g(&self.confirm)),
            ("pkt6-infrequest-received", g(&self.infrequest)),
            ("pkt6-unknown-received", g(&self.unknown)),
            ("pkt6-sent", g(&self.sent)),
            ("pkt6-advertise-sent", g(&self.advertise_sent)),
            ("pkt6-reply-sent", g(&self.reply_sent)),
            ("pkt6-parse-failed", g(&self.parse_failed)),
            ("pkt6-receive-drop", g(&self.receive_drop)),
            ("pkt6-rfc-violation", g(&self.rfc_violation)),
            ("pkt6-not-for-us", g(&self.not_for_us)),
            ("pkt6-queue-full", g(&self.queue_full)),
            ("v6-allocation-fail", g(&self.allocation_fail)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let m = self.subnets.lock().unwrap_or_else(|e| e.into_inner());
        let (mut declined, mut reclaimed, mut cum_nas, mut cum_pds) = (0, 0, 0, 0);
        for (id, s) in m.iter() {
            out.push((format!("subnet[{id}].total-nas"), s.total_nas));
            out.push((format!("subnet[{id}].assigned-nas"), s.assigned_nas));
            out.push((format!("subnet[{id}].total-pds"), s.total_pds));
            out.push((format!("subnet[{id}].assigned-pds"), s.assigned_pds));
            out.push((format!("subnet[{id}].declined-addresses"), s.declined));
            out.push((format!("subnet[{id}].reclaimed-leases"), s.reclaimed));
            out.push((
                format!("subnet[{id}].cumulative-assigned-nas"),
                s.cumulative_nas,
            ));
            out.push((
                format!("subnet[{id}].cumulative-assigned-pds"),
                s.cumulative_pds,
            ));
            declined += s.declined;
            reclaimed += s.reclaimed;
            cum_nas += s.cumulative_nas;
            cum_pds += s.cumulative_pds;
        }
        out.push(("declined-addresses".to_string(), declined));
        out.push(("reclaimed-leases".to_string(), reclaimed));
        out.push(("cumulative-assigned-nas".to_string(), cum_nas));
        out.push(("cumulative-assigned-pds".to_string(), cum_pds));
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
