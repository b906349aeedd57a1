//! Metrics whose names and labels come from policies and requests
//! (`emit-metric`, token usage, limits hit), on the gateway's one
//! Prometheus registry, with a bound: each metric keeps at most `cap`
//! distinct label sets (`[metrics] max-series-per-metric`); a new label
//! set past it is not recorded and counts in
//! `sluice_metric_series_dropped_total{metric}`.
//!
//! Three kinds: counters, summaries (a sum and a count: what Azure
//! Monitor aggregates an `emit-metric` value into), and histograms.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use prometheus::core::{Collector, Desc};
use prometheus::proto;

/// Labels in the order given.
pub type Labels = Vec<(String, String)>;

/// What the bounded metrics hold; a handle for stages (`cx.resource`).
#[derive(Debug)]
pub struct Series {
    cap: usize,
    families: Mutex<BTreeMap<String, Family>>,
    dropped: Mutex<BTreeMap<String, u64>>,
}

#[derive(Debug)]
struct Family {
    help: String,
    kind: Kind,
    series: HashMap<Labels, Value>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Counter,
    Summary,
    Histogram(&'static [f64]),
}

#[derive(Clone, Debug, Default)]
struct Value {
    sum: f64,
    count: u64,
    /// Per bucket of a histogram, not cumulative.
    buckets: Vec<u64>,
}

impl Series {
    /// The default cap on label sets per metric.
    pub const DEFAULT_CAP: usize = 1000;

    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            families: Mutex::new(BTreeMap::new()),
            dropped: Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds `v` to a counter.
    pub fn count(&self, name: &str, help: &str, labels: Labels, v: f64) {
        self.record(name, help, Kind::Counter, labels, v);
    }

    /// Adds `v` to a summary's sum and 1 to its count.
    pub fn summarize(&self, name: &str, help: &str, labels: Labels, v: f64) {
        self.record(name, help, Kind::Summary, labels, v);
    }

    /// Observes `v` in a histogram of the given bucket bounds.
    pub fn observe(&self, name: &str, help: &str, buckets: &'static [f64], labels: Labels, v: f64) {
        self.record(name, help, Kind::Histogram(buckets), labels, v);
    }

    fn record(&self, name: &str, help: &str, kind: Kind, labels: Labels, v: f64) {
        let mut families = match self.families.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let family = families.entry(name.to_owned()).or_insert_with(|| Family {
            help: help.to_owned(),
            kind,
            series: HashMap::new(),
        });
        // A name taken by another kind (two policies' metrics that map to
        // one name): the first kind keeps it; the other is dropped.
        if family.kind != kind {
            drop(families);
            self.drop_series(name);
            return;
        }
        let len = family.series.len();
        let value = match family.series.get_mut(&labels) {
            Some(value) => value,
            None if len >= self.cap => {
                drop(families);
                self.drop_series(name);
                return;
            }
            None => family.series.entry(labels).or_default(),
        };
        value.sum += v;
        value.count += 1;
        if let Kind::Histogram(bounds) = kind {
            if value.buckets.len() != bounds.len() {
                value.buckets = vec![0; bounds.len()];
            }
            if let Some(i) = bounds.iter().position(|b| v <= *b) {
                value.buckets[i] += 1;
            }
        }
    }

    fn drop_series(&self, name: &str) {
        let mut dropped = match self.dropped.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *dropped.entry(name.to_owned()).or_default() += 1;
    }

    /// The label sets a metric keeps.
    pub fn len(&self, name: &str) -> usize {
        let families = match self.families.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        families.get(name).map_or(0, |f| f.series.len())
    }
}

fn pairs(labels: &Labels) -> Vec<proto::LabelPair> {
    labels
        .iter()
        .map(|(n, v)| {
            let mut p = proto::LabelPair::default();
            p.set_name(n.clone());
            p.set_value(v.clone());
            p
        })
        .collect()
}

/// The collector registered in the registry (the `Series` is shared with stages).
#[derive(Clone, Debug)]
pub struct SeriesCollector(pub Arc<Series>);

impl Collector for SeriesCollector {
    fn desc(&self) -> Vec<&Desc> {
        Vec::new()
    }

    fn collect(&self) -> Vec<proto::MetricFamily> {
        let mut out = Vec::new();
        let families = match self.0.families.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        for (name, f) in families.iter() {
            let mut mf = proto::MetricFamily::default();
            mf.set_name(name.clone());
            mf.set_help(f.help.clone());
            let mut series: Vec<_> = f.series.iter().collect();
            series.sort_by(|a, b| a.0.cmp(b.0));
            let mut metrics = Vec::with_capacity(series.len());
            for (labels, v) in series {
                let mut m = proto::Metric::default();
                m.set_label(pairs(labels));
                match f.kind {
                    Kind::Counter => {
                        let mut c = proto::Counter::default();
                        c.set_value(v.sum);
                        m.set_counter(c);
                    }
                    Kind::Summary => {
                        let mut s = proto::Summary::default();
                        s.set_sample_sum(v.sum);
                        s.set_sample_count(v.count);
                        m.set_summary(s);
                    }
                    Kind::Histogram(bounds) => {
                        let mut h = proto::Histogram::default();
                        h.set_sample_sum(v.sum);
                        h.set_sample_count(v.count);
                        let mut cumulative = 0;
                        let mut buckets = Vec::with_capacity(bounds.len());
                        for (i, bound) in bounds.iter().enumerate() {
                            cumulative += v.buckets.get(i).copied().unwrap_or(0);
                            let mut b = proto::Bucket::default();
                            b.set_upper_bound(*bound);
                            b.set_cumulative_count(cumulative);
                            buckets.push(b);
                        }
                        h.set_bucket(buckets);
                        m.set_histogram(h);
                    }
                }
                metrics.push(m);
            }
            mf.set_field_type(match f.kind {
                Kind::Counter => proto::MetricType::COUNTER,
                Kind::Summary => proto::MetricType::SUMMARY,
                Kind::Histogram(_) => proto::MetricType::HISTOGRAM,
            });
            mf.set_metric(metrics);
            out.push(mf);
        }
        drop(families);
        let dropped = match self.0.dropped.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut mf = proto::MetricFamily::default();
        mf.set_name("sluice_metric_series_dropped_total".into());
        mf.set_help(
            "Label sets not recorded because their metric had reached [metrics] max-series-per-metric"
                .into(),
        );
        mf.set_field_type(proto::MetricType::COUNTER);
        let metrics: Vec<proto::Metric> = dropped
            .iter()
            .map(|(name, n)| {
                let mut m = proto::Metric::default();
                m.set_label(pairs(&vec![("metric".to_owned(), name.clone())]));
                let mut c = proto::Counter::default();
                c.set_value(*n as f64);
                m.set_counter(c);
                m
            })
            .collect();
        if !metrics.is_empty() {
            mf.set_metric(metrics);
            out.push(mf);
        }
        out
    }
}

/// A Prometheus name from a free text: letters, digits and `_`, lower
/// case, every other run of characters one `_` (`API ID` → `api_id`,
/// `my-metrics` → `my_metrics`); a leading digit gets a `_` before it.
pub fn prom_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.trim().chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(v: &str) -> Labels {
        vec![("k".to_owned(), v.to_owned())]
    }

    #[test]
    fn a_metric_keeps_at_most_cap_label_sets_and_counts_the_rest() {
        let s = Arc::new(Series::new(2));
        s.count("m_total", "h", l("a"), 1.0);
        s.count("m_total", "h", l("b"), 1.0);
        s.count("m_total", "h", l("c"), 1.0);
        s.count("m_total", "h", l("a"), 2.0);
        assert_eq!(s.len("m_total"), 2);
        let r = prometheus::Registry::new();
        r.register(Box::new(SeriesCollector(Arc::clone(&s))))
            .unwrap();
        let mut out = Vec::new();
        prometheus::Encoder::encode(&prometheus::TextEncoder::new(), &r.gather(), &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("m_total{k=\"a\"} 3"), "{text}");
        assert!(!text.contains("k=\"c\""), "{text}");
        assert!(
            text.contains("sluice_metric_series_dropped_total{metric=\"m_total\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn names_are_made_prometheus_names() {
        assert_eq!(prom_name("API ID"), "api_id");
        assert_eq!(prom_name("my-metrics"), "my_metrics");
        assert_eq!(prom_name("Client IP address"), "client_ip_address");
        assert_eq!(prom_name("1st"), "_1st");
        assert_eq!(prom_name(" "), "_");
    }
}
