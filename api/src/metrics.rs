//! `GET /metrics`: the [`StatsSource`](crate::StatsSource) counters in Prometheus' text
//! format. Kea's names map onto metric names and labels: `pkt4-received` becomes
//! `tern_pkt4_received`, `subnet[1].assigned-addresses` becomes
//! `tern_subnet_assigned_addresses{subnet="1"}` (the bracketed part of each segment
//! becomes a label named after the segment). Only numeric statistics are exported.

use std::collections::BTreeMap;
use std::fmt::Write;

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

pub(crate) async fn handler(State(st): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(st.ctx.stats.as_ref()),
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
