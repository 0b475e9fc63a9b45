//! `GET /metrics`: the [`StatsSource`](crate::StatsSource) counters in Prometheus' text
//! format. Kea's names map onto metric names and labels: `pkt4-received` becomes
//! `tern_pkt4_received`, `subnet[1].assigned-addresses` becomes
//! `tern_subnet_assigned_addresses{subnet="1"}` (the bracketed part of each segment
//! becomes a label named after the segment). Only numeric statistics are exported.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;

/// A Kea statistic name as a Prometheus metric name and labels.
pub fn metric_name(kea: &str) -> (String, Vec<(String, String)>) {
    let mut name = String::from("tern");
    let mut labels = Vec::new();
    for seg in kea.split('.') {
        let (base, label) = match (seg.find('['), seg.ends_with(']')) {
            (Some(i), true) => (&seg[..i], Some(&seg[i + 1..seg.len() - 1])),
            _ => (seg, None),
        };
        name.push('_');
        name.extend(base.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        }));
        if let Some(l) = label {
            let key: String = base
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            labels.push((key, l.to_string()));
        }
    }
    (name, labels)
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One series: its labels and value.
type Series = (Vec<(String, String)>, f64);

/// The exposition text.
pub fn render(stats: &dyn crate::StatsSource) -> String {
    let mut by_metric: BTreeMap<String, Vec<Series>> = BTreeMap::new();
    for (name, samples) in stats.all() {
        let Some(v) = samples.first().and_then(|s| s.value.as_f64()) else {
            continue;
        };
        let (metric, labels) = metric_name(&name);
        by_metric.entry(metric).or_default().push((labels, v));
    }
    let mut out = String::new();
    for (metric, series) in by_metric {
        let _ = writeln!(out, "# TYPE {metric} gauge");
        for (labels, v) in series {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            if l.is_empty() {
                let _ = writeln!(out, "{metric} {v}");
            } else {
                let _ = writeln!(out, "{metric}{{{}}} {v}", l.join(","));
            }
        }
    }
    out
}

/// API requests answered, by method and status code.
#[derive(Debug, Default)]
pub struct RequestCounts(Mutex<BTreeMap<(String, u16), u64>>);

impl RequestCounts {
    /// Counts one answered request.
    pub fn count(&self, method: &str, status: u16) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry((method.to_string(), status)).or_default() += 1;
    }

    /// `tern_api_requests_total{method, code}` in the exposition format.
    fn render(&self, out: &mut String) {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "# TYPE tern_api_requests_total counter");
        for ((method, code), n) in m.iter() {
            let _ = writeln!(
                out,
                "tern_api_requests_total{{method=\"{}\",code=\"{code}\"}} {n}",
                escape(method)
            );
        }
    }
}

/// `tern_subnet_utilization{subnet}`: assigned / total addresses, from the statistics.
fn utilization(stats: &dyn crate::StatsSource, out: &mut String) {
    let mut assigned: BTreeMap<String, f64> = BTreeMap::new();
    let mut total: BTreeMap<String, f64> = BTreeMap::new();
    for (name, samples) in stats.all() {
        let Some(v) = samples.first().and_then(|s| s.value.as_f64()) else {
            continue;
        };
        let (metric, labels) = metric_name(&name);
        let [(k, subnet)] = labels.as_slice() else {
            continue;
        };
        if k != "subnet" {
            continue;
        }
        match metric.as_str() {
            "tern_subnet_assigned_addresses" => assigned.insert(subnet.clone(), v),
            "tern_subnet_total_addresses" => total.insert(subnet.clone(), v),
            _ => None,
        };
    }
    let mut first = true;
    for (subnet, t) in total.iter().filter(|(_, t)| **t > 0.0) {
        if first {
            let _ = writeln!(out, "# TYPE tern_subnet_utilization gauge");
            first = false;
        }
        let a = assigned.get(subnet).copied().unwrap_or(0.0);
        let _ = writeln!(
            out,
            "tern_subnet_utilization{{subnet=\"{}\"}} {}",
            escape(subnet),
            a / t
        );
    }
}

pub(crate) async fn handler(State(st): State<AppState>) -> impl IntoResponse {
    let mut text = render(st.ctx.stats.as_ref());
    utilization(st.ctx.stats.as_ref(), &mut text);
    // The DDNS queue, read from the store: every appliance sharing it sees the same.
    if let Ok(states) = tern_store::ncr_queue::count_by_state(st.ctx.store.pool()).await {
        let _ = writeln!(text, "# TYPE tern_ddns_queue gauge");
        for s in crate::rest::ddns::STATES {
            let n = states.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
            let _ = writeln!(text, "tern_ddns_queue{{state=\"{s}\"}} {n}");
        }
    }
    st.requests.render(&mut text);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kea_names_become_prometheus_names() {
        assert_eq!(
            metric_name("pkt4-received"),
            ("tern_pkt4_received".into(), vec![])
        );
        assert_eq!(
            metric_name("subnet[1].assigned-addresses"),
            (
                "tern_subnet_assigned_addresses".into(),
                vec![("subnet".into(), "1".into())]
            )
        );
        assert_eq!(
            metric_name("subnet[1].pool[0].total-addresses"),
            (
                "tern_subnet_pool_total_addresses".into(),
                vec![("subnet".into(), "1".into()), ("pool".into(), "0".into())]
            )
        );
    }

    #[test]
    fn exposition() {
        let s = crate::MemoryStats::default();
        s.set("pkt4-received", 5);
        s.set("subnet[1].assigned-addresses", 3);
        s.set("subnet[2].assigned-addresses", 4);
        let text = render(&s);
        assert!(
            text.contains("# TYPE tern_pkt4_received gauge\ntern_pkt4_received 5\n"),
            "{text}"
        );
        assert!(
            text.contains("tern_subnet_assigned_addresses{subnet=\"1\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("tern_subnet_assigned_addresses{subnet=\"2\"} 4\n"),
            "{text}"
        );
        assert_eq!(
            text.matches("# TYPE tern_subnet_assigned_addresses")
                .count(),
            1
        );
    }
}
