//! Prometheus metrics: request counts and latency histograms by route and
//! status class, plus database pool gauges. Kept in-process with atomics; the
//! text exposition format is simple enough not to need a metrics crate.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Latency bucket bounds in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Series {
    count: AtomicU64,
    sum_micros: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
}

/// (method, route pattern, status)
type SeriesKey = (String, String, u16);

#[derive(Default, Clone)]
pub struct Metrics {
    series: Arc<RwLock<HashMap<SeriesKey, Arc<Series>>>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let key = (method.to_string(), route.to_string(), status);
        let existing = self.series.read().expect("metrics lock").get(&key).cloned();
        let s = match existing {
            Some(s) => s,
            None => self
                .series
                .write()
                .expect("metrics lock")
                .entry(key)
                .or_default()
                .clone(),
        };
        s.count.fetch_add(1, Ordering::Relaxed);
        s.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                s.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The exposition text.
    pub fn render(&self, pools: &[(&str, u32, usize)]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP baton_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE baton_http_requests_total counter\n");
        let map = self.series.read().expect("metrics lock");
        let mut keys: Vec<_> = map.keys().cloned().collect();
        keys.sort();
        for k in &keys {
            let s = &map[k];
            let _ = writeln!(
                out,
                "baton_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}",
                k.0,
                esc(&k.1),
                k.2,
                s.count.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP baton_http_request_duration_seconds HTTP request latency by method and route.\n");
        out.push_str("# TYPE baton_http_request_duration_seconds histogram\n");
        for k in &keys {
            let s = &map[k];
            let labels = format!(
                "method=\"{}\",route=\"{}\",status=\"{}\"",
                k.0,
                esc(&k.1),
                k.2
            );
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "baton_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i].load(Ordering::Relaxed)
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "baton_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "baton_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "baton_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        out.push_str(
            "# HELP baton_db_pool_connections Database pool connections by pool and state.\n",
        );
        out.push_str("# TYPE baton_db_pool_connections gauge\n");
        for (pool, size, idle) in pools {
            let _ = writeln!(
                out,
                "baton_db_pool_connections{{pool=\"{pool}\",state=\"open\"}} {size}"
            );
            let _ = writeln!(
                out,
                "baton_db_pool_connections{{pool=\"{pool}\",state=\"idle\"}} {idle}"
            );
        }
        out
    }
}

/// The method label: the standard methods by name, anything else (a client
/// can send any token as a method) as `other`, so labels stay bounded.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Middleware: times every request and records it under its route pattern
/// (`/api/v1/clients/{id}`), never the raw path, so ids do not explode the
/// label set.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method()).to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        use axum::http::Method;
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(
            method_label(&Method::from_bytes(b"PROPFIND").unwrap()),
            "other"
        );
        assert_eq!(
            method_label(&Method::from_bytes(b"X1234567").unwrap()),
            "other"
        );
    }

    #[test]
    fn renders_counts_and_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/api/v1/clients", 200, 0.003);
        m.observe("GET", "/api/v1/clients", 200, 0.2);
        let text = m.render(&[("reader", 2, 1)]);
        assert!(text.contains(
            "baton_http_requests_total{method=\"GET\",route=\"/api/v1/clients\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("baton_db_pool_connections{pool=\"reader\",state=\"open\"} 2"));
    }
}
