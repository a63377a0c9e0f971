//! What a server tells its operators, shared by every connection and worker: the access log,
//! security events (in the same sink) and the metrics. One call per happening feeds both the
//! log line and the counter.

use crate::http::access_log::{AccessLog, Entry};
use crate::http::events::SecurityEvent;
use crate::http::metrics::{Issuance, Metrics, OpenConnection};
use crate::settings::Settings;
use std::net::IpAddr;
use std::time::SystemTime;

/// The log and the counters of one server.
#[derive(Debug, Default)]
pub(crate) struct Telemetry {
    /// Access lines and security events; security events are written even when
    /// `access_log` is off.
    log: AccessLog,
    /// Whether answered requests are logged (`access_log`).
    requests_logged: bool,
    metrics: Metrics,
}

impl Telemetry {
    /// The log writer on standard error in `log_format`, and zeroed counters.
    pub fn start(settings: &Settings) -> Telemetry {
        Telemetry {
            log: AccessLog::start(Some(settings.log_format)),
            requests_logged: settings.access_log,
            metrics: Metrics::default(),
        }
    }

    /// An answered request: its access line and its counts, under `route` (its pattern).
    pub(crate) fn answered(&self, entry: &Entry<'_>, route: &str) {
        if self.requests_logged {
            self.log.write(entry);
        }
        self.metrics.request(route, entry.status, entry.duration);
    }

    /// A security event from `client`: its line, and its counter where it has one.
    pub fn security(&self, event: &SecurityEvent<'_>, client: Option<IpAddr>) {
        match event {
            SecurityEvent::Replay { of, .. } => self.metrics.replay(*of),
            SecurityEvent::Throttled { .. } => self.metrics.login_throttled(),
            SecurityEvent::RequestsThrottled { .. } => self.metrics.requests_throttled(),
            SecurityEvent::ClientRegistered { .. } => self.metrics.client_registered(),
            SecurityEvent::Admin { .. }
            | SecurityEvent::Command { .. }
            | SecurityEvent::PasswordChanged { .. }
            | SecurityEvent::KeyRotated { .. } => {}
        }
        if let Some(format) = self.log.format() {
            self.log
                .queue(event.line(format, client, SystemTime::now()));
        }
    }

    /// Tokens issued for a new grant.
    pub(crate) fn issued(&self, by: Issuance) {
        self.metrics.issued(by);
    }

    /// Tokens issued by a refresh.
    pub(crate) fn refreshed(&self) {
        self.metrics.refreshed();
    }

    /// Counts a connection as open until the guard is dropped.
    pub(crate) fn connection(&self) -> OpenConnection<'_> {
        self.metrics.connection()
    }

    /// The metrics in Prometheus text format.
    pub(crate) fn metrics_text(&self, database_bytes: i64) -> String {
        self.metrics.render(database_bytes)
    }
}
