//! The counters behind `GET /metrics`, shared by every connection and worker, and their
//! Prometheus text format (version 0.0.4: `# HELP`, `# TYPE`, then `name{labels} value`
//! lines). Counters are atomics; the per-route table is one small map under a lock.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The latency histogram's upper bounds, in seconds.
const LATENCY_BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// The grants tokens are issued by, as the label `grant` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Issuance {
    /// `authorization_code` at the token endpoint.
    AuthorizationCode,
    /// The implicit grant at the authorization endpoint.
    Implicit,
    /// `password`.
    Password,
    /// `client_credentials`.
    ClientCredentials,
    /// The device grant (RFC 8628) at the token endpoint.
    DeviceCode,
}

impl Issuance {
    const ALL: [Issuance; 5] = [
        Issuance::AuthorizationCode,
        Issuance::Implicit,
        Issuance::Password,
        Issuance::ClientCredentials,
        Issuance::DeviceCode,
    ];

    fn label(self) -> &'static str {
        match self {
            Issuance::AuthorizationCode => "authorization_code",
            Issuance::Implicit => "implicit",
            Issuance::Password => "password",
            Issuance::ClientCredentials => "client_credentials",
            Issuance::DeviceCode => "device_code",
        }
    }
}

/// What was presented twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// A retired refresh token.
    RefreshToken,
    /// A used authorization code.
    Code,
    /// A used device code (RFC 8628).
    DeviceCode,
}

impl Replay {
    /// The label value: `refresh_token`, `code` or `device_code`.
    pub fn label(self) -> &'static str {
        match self {
            Replay::RefreshToken => "refresh_token",
            Replay::Code => "code",
            Replay::DeviceCode => "device_code",
        }
    }
}

/// Every counter of one server.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Answered requests by (route pattern, status).
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Requests per latency bucket (not cumulative), the last for above every bound.
    latency: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    latency_micros: AtomicU64,
    issued: [AtomicU64; Issuance::ALL.len()],
    refreshed: AtomicU64,
    refresh_replays: AtomicU64,
    code_replays: AtomicU64,
    device_code_replays: AtomicU64,
    login_throttles: AtomicU64,
    request_throttles: AtomicU64,
    clients_registered: AtomicU64,
    open_connections: AtomicI64,
}

/// Counts a connection as open until dropped.
#[derive(Debug)]
pub(crate) struct OpenConnection<'a>(&'a Metrics);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// One answered request: `route` is its route pattern, never the raw path.
    pub(crate) fn request(&self, route: &str, status: u16, took: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        *requests.entry((route.to_owned(), status)).or_default() += 1;
        drop(requests);
        let seconds = took.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        if let Some(count) = self.latency.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latency_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Tokens issued for a new grant.
    pub(crate) fn issued(&self, by: Issuance) {
        let index = Issuance::ALL.iter().position(|i| *i == by);
        if let Some(count) = index.and_then(|i| self.issued.get(i)) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Tokens issued by a refresh.
    pub(crate) fn refreshed(&self) {
        self.refreshed.fetch_add(1, Ordering::Relaxed);
    }

    /// A replay detected (and its family revoked).
    pub(crate) fn replay(&self, of: Replay) {
        let count = match of {
            Replay::RefreshToken => &self.refresh_replays,
            Replay::Code => &self.code_replays,
            Replay::DeviceCode => &self.device_code_replays,
        };
        count.fetch_add(1, Ordering::Relaxed);
    }

    /// A username, client or address ran out of free tries.
    pub(crate) fn login_throttled(&self) {
        self.login_throttles.fetch_add(1, Ordering::Relaxed);
    }

    /// A request budget (per address or overall) for an endpoint was spent.
    pub(crate) fn requests_throttled(&self) {
        self.request_throttles.fetch_add(1, Ordering::Relaxed);
    }

    /// A client registered itself (RFC 7591).
    pub(crate) fn client_registered(&self) {
        self.clients_registered.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection opened; it counts until the guard is dropped.
    pub(crate) fn connection(&self) -> OpenConnection<'_> {
        self.open_connections.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self)
    }

    /// The Prometheus text of every metric, with the database's size read at the scrape.
    pub(crate) fn render(&self, database_bytes: i64) -> String {
        let count = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64;
        let mut out = String::new();
        let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        let by_route = requests.iter().map(|((route, status), n)| {
            (
                format!("route=\"{}\",status=\"{status}\"", escape(route)),
                *n as f64,
            )
        });
        family(
            &mut out,
            "oauthd_http_requests_total",
            "counter",
            "Answered requests by route pattern and status.",
            by_route,
        );
        drop(requests);
        self.render_latency(&mut out);
        let issued = Issuance::ALL.iter().zip(&self.issued);
        let issued = issued.map(|(by, n)| (format!("grant=\"{}\"", by.label()), count(n)));
        family(
            &mut out,
            "oauthd_tokens_issued_total",
            "counter",
            "Access tokens issued for a new grant, by grant type.",
            issued,
        );
        let refreshed = [(String::new(), count(&self.refreshed))];
        family(
            &mut out,
            "oauthd_tokens_refreshed_total",
            "counter",
            "Access tokens issued by a refresh.",
            refreshed,
        );
        let replays = [
            (Replay::RefreshToken, &self.refresh_replays),
            (Replay::Code, &self.code_replays),
            (Replay::DeviceCode, &self.device_code_replays),
        ];
        let replays = replays.map(|(of, n)| (format!("kind=\"{}\"", of.label()), count(n)));
        family(
            &mut out,
            "oauthd_replays_detected_total",
            "counter",
            "Retired refresh tokens and used codes or device codes presented again; each revoked its grant.",
            replays,
        );
        let throttles = [(String::new(), count(&self.login_throttles))];
        family(
            &mut out,
            "oauthd_login_throttles_total",
            "counter",
            "Usernames, clients and addresses that ran out of free tries and are being slowed.",
            throttles,
        );
        let budgets = [(String::new(), count(&self.request_throttles))];
        family(
            &mut out,
            "oauthd_request_budgets_spent_total",
            "counter",
            "Request budgets (per address or overall) spent for an endpoint (client registration, device authorization) in a window.",
            budgets,
        );
        let registered = [(String::new(), count(&self.clients_registered))];
        family(
            &mut out,
            "oauthd_clients_registered_total",
            "counter",
            "Clients that registered themselves (RFC 7591).",
            registered,
        );
        let open = [(
            String::new(),
            self.open_connections.load(Ordering::Relaxed) as f64,
        )];
        family(
            &mut out,
            "oauthd_open_connections",
            "gauge",
            "HTTP connections open now.",
            open,
        );
        let size = [(String::new(), database_bytes as f64)];
        family(
            &mut out,
            "oauthd_database_bytes",
            "gauge",
            "The database file's size (pages times page size, the write-ahead log not included).",
            size,
        );
        out
    }

    fn render_latency(&self, out: &mut String) {
        let mut cumulative = 0;
        let mut samples: Vec<(String, f64)> = Vec::new();
        for (bound, count) in LATENCY_BUCKETS.iter().zip(&self.latency) {
            cumulative += count.load(Ordering::Relaxed);
            samples.push((format!("le=\"{bound}\""), cumulative as f64));
        }
        let above = self.latency.last().map_or(0, |c| c.load(Ordering::Relaxed));
        let total = (cumulative + above) as f64;
        samples.push(("le=\"+Inf\"".into(), total));
        let name = "oauthd_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} From a request's first byte to its answer written.\n# TYPE {name} histogram"
        );
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}_bucket{{{labels}}} {value}");
        }
        let seconds = self.latency_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {seconds}\n{name}_count {total}");
    }
}

/// A metric: its `# HELP` and `# TYPE` lines, then a `name{labels} value` line per sample
/// (`name value` for empty labels).
fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, f64)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = match labels.as_str() {
            "" => writeln!(out, "{name} {value}"),
            labels => writeln!(out, "{name}{{{labels}}} {value}"),
        };
    }
}

/// A label value with `\`, `"` and newlines escaped, as the text format wants.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str, series: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {series} in {text}"))
            .parse()
            .unwrap()
    }

    #[test]
    fn counters_show_in_the_text_format() {
        let metrics = Metrics::default();
        metrics.request("/o/token/", 200, Duration::from_micros(800));
        metrics.request("/o/token/", 200, Duration::from_millis(3));
        metrics.request("/o/token/", 400, Duration::from_secs(9));
        metrics.issued(Issuance::Password);
        metrics.refreshed();
        metrics.replay(Replay::Code);
        metrics.login_throttled();
        metrics.requests_throttled();
        metrics.client_registered();
        metrics.client_registered();
        let open = metrics.connection();
        let text = metrics.render(8192);
        let token = "oauthd_http_requests_total{route=\"/o/token/\",status=";
        assert_eq!(sample(&text, &format!("{token}\"200\"}}")), 2.0);
        assert_eq!(sample(&text, &format!("{token}\"400\"}}")), 1.0);
        let bucket = "oauthd_http_request_duration_seconds_bucket";
        assert_eq!(sample(&text, &format!("{bucket}{{le=\"0.001\"}}")), 1.0);
        assert_eq!(sample(&text, &format!("{bucket}{{le=\"0.005\"}}")), 2.0);
        assert_eq!(sample(&text, &format!("{bucket}{{le=\"2.5\"}}")), 2.0);
        assert_eq!(sample(&text, &format!("{bucket}{{le=\"+Inf\"}}")), 3.0);
        assert_eq!(
            sample(&text, "oauthd_http_request_duration_seconds_count"),
            3.0
        );
        assert!((sample(&text, "oauthd_http_request_duration_seconds_sum") - 9.0038).abs() < 1e-9);
        assert_eq!(
            sample(&text, "oauthd_tokens_issued_total{grant=\"password\"}"),
            1.0
        );
        assert_eq!(
            sample(&text, "oauthd_tokens_issued_total{grant=\"implicit\"}"),
            0.0
        );
        assert_eq!(sample(&text, "oauthd_tokens_refreshed_total"), 1.0);
        assert_eq!(
            sample(&text, "oauthd_replays_detected_total{kind=\"code\"}"),
            1.0
        );
        assert_eq!(
            sample(
                &text,
                "oauthd_replays_detected_total{kind=\"refresh_token\"}"
            ),
            0.0
        );
        assert_eq!(sample(&text, "oauthd_login_throttles_total"), 1.0);
        assert_eq!(sample(&text, "oauthd_request_budgets_spent_total"), 1.0);
        assert_eq!(sample(&text, "oauthd_clients_registered_total"), 2.0);
        assert_eq!(sample(&text, "oauthd_open_connections"), 1.0);
        assert_eq!(sample(&text, "oauthd_database_bytes"), 8192.0);
        drop(open);
        assert_eq!(sample(&metrics.render(0), "oauthd_open_connections"), 0.0);
    }

    #[test]
    fn every_family_has_help_and_type_once() {
        let text = Metrics::default().render(0);
        for name in text.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
            let name = name.split(' ').next().unwrap();
            assert_eq!(
                text.matches(&format!("# TYPE {name} ")).count(),
                1,
                "{name}"
            );
            assert_eq!(
                text.matches(&format!("# HELP {name} ")).count(),
                1,
                "{name}"
            );
        }
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
