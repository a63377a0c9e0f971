//! The access log: one line per answered request on stderr, as text or JSON — the time, the
//! client's address, method, path (never the query: it can carry codes), status, body bytes
//! and duration. Never a credential, token, code or cookie. Lines go through a bounded queue
//! to a writer thread, so that a slow stderr never holds a request; when the queue is full,
//! lines are dropped and counted.

use serde::Deserialize;
use serde_json::json;
use std::io::Write;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, SystemTime};

/// Lines waiting for the writer before further ones are dropped.
const QUEUE: usize = 8192;
/// The longest path written; longer ones are cut (a path is the client's to choose).
const MAX_PATH_CHARS: usize = 200;

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// `2026-11-30T05:03:10.123Z 127.0.0.1 "GET /o/token/" 200 57 0.412ms`
    Text,
    /// One JSON object per line.
    Json,
}

/// One answered request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    /// The client's address (a trusted proxy's client, or the peer).
    pub client: IpAddr,
    /// The method; `-` when the request was refused before it had one.
    pub method: &'a str,
    /// The request target; its query is never written.
    pub target: &'a str,
    /// The status sent.
    pub status: u16,
    /// The body bytes sent.
    pub bytes: usize,
    /// From the first byte of the request to the answer written.
    pub duration: Duration,
}

/// The log's sending side, shared by every connection of a server.
#[derive(Debug, Default)]
pub(crate) struct AccessLog {
    /// The format and the writer's queue; `None` when the log is off.
    writer: Option<(LogFormat, SyncSender<String>)>,
    dropped: AtomicU64,
}

impl AccessLog {
    /// A log in `format` with its writer thread, which ends when the log is dropped; `None`:
    /// no log.
    pub fn start(format: Option<LogFormat>) -> AccessLog {
        let writer = format.map(|format| {
            let (queue, lines) = sync_channel(QUEUE);
            // Without a writer thread, sending fails and lines are counted as dropped.
            let _ = std::thread::Builder::new()
                .name("oauthd-log".into())
                .spawn(move || write_lines(&lines));
            (format, queue)
        });
        AccessLog {
            writer,
            dropped: AtomicU64::new(0),
        }
    }

    /// Queues the line of `entry`.
    pub fn write(&self, entry: &Entry<'_>) {
        if let Some(format) = self.format() {
            self.queue(format_line(format, entry, SystemTime::now()));
        }
    }

    /// The format lines are written in; `None` when the log is off.
    pub(crate) fn format(&self) -> Option<LogFormat> {
        self.writer.as_ref().map(|(format, _)| *format)
    }

    /// Queues a line of any kind (security events share the sink), newline included.
    pub(crate) fn queue(&self, line: String) {
        let Some((_, queue)) = &self.writer else {
            return;
        };
        match queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    eprintln!("oauthd: {dropped} access log lines dropped (stderr is slow)");
                }
            }
        }
    }
}

/// Writes lines as they come, flushing when the queue runs dry.
fn write_lines(lines: &Receiver<String>) {
    let mut out = std::io::BufWriter::new(std::io::stderr());
    while let Ok(line) = lines.recv() {
        let _ = out.write_all(line.as_bytes());
        while let Ok(line) = lines.try_recv() {
            let _ = out.write_all(line.as_bytes());
        }
        let _ = out.flush();
    }
}

/// One line, with its newline.
fn format_line(format: LogFormat, entry: &Entry<'_>, now: SystemTime) -> String {
    let time = humantime::format_rfc3339_millis(now);
    let path: String = entry
        .target
        .split('?')
        .next()
        .unwrap_or("")
        .chars()
        .take(MAX_PATH_CHARS)
        .collect();
    let millis = entry.duration.as_secs_f64() * 1000.0;
    match format {
        LogFormat::Text => format!(
            "{time} {} \"{} {path}\" {} {} {millis:.3}ms\n",
            entry.client, entry.method, entry.status, entry.bytes
        ),
        LogFormat::Json => {
            let line = json!({
                "time": time.to_string(),
                "client": entry.client.to_string(),
                "method": entry.method,
                "path": path,
                "status": entry.status,
                "bytes": entry.bytes,
                "duration_ms": (millis * 1000.0).round() / 1000.0,
            });
            format!("{line}\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(target: &str) -> Entry<'_> {
        Entry {
            client: "203.0.113.7".parse().unwrap(),
            method: "GET",
            target,
            status: 302,
            bytes: 0,
            duration: Duration::from_micros(1500),
        }
    }

    const NOW: Duration = Duration::from_secs(1_764_480_190);

    #[test]
    fn text_lines_leave_out_the_query() {
        let authorize = crate::http::paths::AUTHORIZE;
        let line = format_line(
            LogFormat::Text,
            &entry(&format!("{authorize}?code=secret-code&state=s")),
            SystemTime::UNIX_EPOCH + NOW,
        );
        assert_eq!(
            line,
            format!("2025-11-30T05:23:10.000Z 203.0.113.7 \"GET {authorize}\" 302 0 1.500ms\n")
        );
    }

    #[test]
    fn json_lines_are_objects() {
        let line = format_line(
            LogFormat::Json,
            &entry("/cb?code=c"),
            SystemTime::UNIX_EPOCH + NOW,
        );
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["path"], "/cb");
        assert_eq!(value["client"], "203.0.113.7");
        assert_eq!(value["status"], 302);
        assert_eq!(value["duration_ms"], 1.5);
        assert!(!line.contains("code=c"));
    }

    #[test]
    fn long_paths_are_cut() {
        let long = format!("/{}", "a".repeat(5000));
        let line = format_line(LogFormat::Text, &entry(&long), SystemTime::UNIX_EPOCH);
        assert!(line.len() < 300, "{}", line.len());
    }
}
