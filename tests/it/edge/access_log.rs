//! The access log of the real binary (issue 9, requirements 7 and 9; docs/conventions.md,
//! convention 16): one line per answered request on stderr, as text or JSON, with the time, the
//! client's address (the one a trusted proxy forwarded), method, path without its query, status,
//! body bytes and duration; never a credential, token, code or cookie.

use super::{PROMPT, Wire, basic_field, get, token_request};
use crate::support::{Serving, TestServer, field, log_lines};
use std::path::Path;
use std::time::{Duration, SystemTime};

const CODE: &str = "SECRETCODE-x9Qm2";
const STATE: &str = "STATE-p4Lw7";
const COOKIE: &str = "COOKIEVALUE-z8Rt3";
const PROXIED_CLIENT: &str = "203.0.113.9";

/// What a line says, whatever its format.
#[derive(Debug, PartialEq)]
struct Line {
    client: String,
    method: String,
    path: String,
    status: u16,
    bytes: usize,
}

/// A text line: `TIME CLIENT "METHOD PATH" STATUS BYTES DURATIONms`; the time and duration
/// are checked here.
fn read_text(line: &str, since: SystemTime) -> Line {
    let (time, rest) = line.split_once(' ').unwrap();
    let (client, rest) = rest.split_once(" \"").unwrap();
    let (request, rest) = rest.split_once("\" ").unwrap();
    let (method, path) = request.split_once(' ').unwrap();
    let [status, bytes, duration] = rest.split(' ').collect::<Vec<_>>()[..] else {
        panic!("{line:?}");
    };
    let millis: f64 = duration.strip_suffix("ms").unwrap().parse().unwrap();
    assert_recent(time, millis, since);
    Line {
        client: client.into(),
        method: method.into(),
        path: path.into(),
        status: status.parse().unwrap(),
        bytes: bytes.parse().unwrap(),
    }
}

/// A JSON line: an object with those fields and no others.
fn read_json(line: &str, since: SystemTime) -> Line {
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    let keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
    let expected = [
        "bytes",
        "client",
        "duration_ms",
        "method",
        "path",
        "status",
        "time",
    ];
    assert_eq!(keys, expected, "{line}");
    assert_recent(
        &field(&value, "time"),
        value["duration_ms"].as_f64().unwrap(),
        since,
    );
    Line {
        client: field(&value, "client"),
        method: field(&value, "method"),
        path: field(&value, "path"),
        status: value["status"].as_u64().unwrap().try_into().unwrap(),
        bytes: value["bytes"].as_u64().unwrap().try_into().unwrap(),
    }
}

/// An RFC 3339 time since `since`, and a plausible duration in milliseconds.
fn assert_recent(time: &str, millis: f64, since: SystemTime) {
    let time = humantime::parse_rfc3339(time).unwrap();
    let since = since - Duration::from_secs(1);
    assert!(since <= time && time <= SystemTime::now(), "{time:?}");
    assert!((0.0..5000.0).contains(&millis), "{millis} ms");
}

/// The access log's lines in `log` (diagnostics start with `oauthd:`), once there are
/// `count` of them.
fn access_lines(log: &Path, count: usize) -> (Vec<String>, String) {
    log_lines(log, count, |line| !line.starts_with("oauthd:"))
}

/// Runs `oauthd serve` with this log format behind a trusted proxy, makes requests that
/// carry every kind of credential on one connection, and checks each line with `read`.
fn one_line_per_request_and_no_credentials(format: &str, read: fn(&str, SystemTime) -> Line) {
    let s = TestServer::with_extra_settings(&format!(
        "trusted_proxies = [\"127.0.0.1\"]\nlog_format = \"{format}\""
    ));
    let client = s.add_client("confidential", "client-credentials", &[]);
    let log = s.dir.path().join("stderr.log");
    let serving = Serving::start_logging(&s.db_path(), &["--threads", "2"], &log);
    let since = SystemTime::now();
    let mut wire = Wire::open(&serving.addr);
    let mut ask = |request: &[u8]| {
        wire.send(request);
        wire.reply(PROMPT)
    };
    let query = format!(
        "response_type=code&client_id={}&code={CODE}&state={STATE}",
        client.id
    );
    let authorize = ask(&get(&format!("/o/authorize/?{query}"), ""));
    let issued = ask(&token_request(&client));
    let token = field(&issued.json(), "access_token");
    let hello = ask(&get(
        "/api/hello",
        &format!("Authorization: Bearer {token}\r\n"),
    ));
    let home = ask(&get("/", &format!("Cookie: oauthd_session={COOKIE}\r\n")));
    let forwarded = format!("X-Forwarded-For: {PROXIED_CLIENT}\r\n");
    let health = ask(&get("/health", &forwarded));
    wire.send(b"GET /health HTTP/2.0\r\n\r\n");
    let refused = wire.replies_until_closed(PROMPT);
    let local = "127.0.0.1";
    let expected = [
        (local, "GET", "/o/authorize/", &authorize),
        (local, "POST", "/o/token/", &issued),
        (local, "GET", "/api/hello", &hello),
        (local, "GET", "/", &home),
        (PROXIED_CLIENT, "GET", "/health", &health),
        (local, "-", "-", &refused[0]),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(client, method, path, reply)| Line {
            client: client.into(),
            method: method.into(),
            path: path.into(),
            status: reply.status,
            bytes: reply.header("Content-Length").unwrap().parse().unwrap(),
        })
        .collect();
    let (lines, stderr) = access_lines(&log, expected.len());
    let logged: Vec<_> = lines.iter().map(|line| read(line, since)).collect();
    assert_eq!(logged, expected, "{stderr}");
    let basic = basic_field(&client);
    let basic = basic.trim().rsplit(' ').next().unwrap();
    let secret = client.secret.as_deref().unwrap();
    for credential in [
        CODE, STATE, COOKIE, &token, secret, basic, "code=", "Bearer", "Basic",
    ] {
        assert!(!stderr.contains(credential), "{credential:?} in {stderr}");
    }
}

#[test]
fn the_text_access_log_has_a_line_per_request_and_no_credentials() {
    one_line_per_request_and_no_credentials("text", read_text);
}

#[test]
fn the_json_access_log_has_an_object_per_request_and_no_credentials() {
    one_line_per_request_and_no_credentials("json", read_json);
}
