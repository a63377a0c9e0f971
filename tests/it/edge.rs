//! The HTTP/1.1 edge over real sockets (issue 9; docs/security.md rules 34, 35, 37, 38): crowds and
//! slow clients, deadlines, bounded resources, an answer to every request, framing, a proxy in
//! front, the access log, and a seeded fuzz of request bytes. Raw connections throughout: a
//! client library would refuse to send most of these requests.

#[path = "edge/access_log.rs"]
mod access_log;
#[path = "edge/answers.rs"]
mod answers;
#[path = "edge/deadlines.rs"]
mod deadlines;
#[path = "edge/forwarded.rs"]
mod forwarded;
#[path = "edge/framing.rs"]
mod framing;
#[path = "edge/fuzz.rs"]
mod fuzz;
#[path = "edge/load.rs"]
mod load;

use crate::support::{Client, Reply, basic_header};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// Long enough for any answer the edge owes at once; a deadline test waits longer.
const PROMPT: Duration = Duration::from_secs(3);
/// Every deadline at one second (oauthd.toml lines).
const ONE_SECOND_DEADLINES: &str =
    "header_timeout_seconds = 1\nbody_timeout_seconds = 1\nidle_timeout_seconds = 1";
/// The client_credentials grant, as a form.
const CC_FORM: &str = "grant_type=client_credentials";

/// `GET path` with a Host field and `fields` (lines ending in CRLF).
fn get(path: &str, fields: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n{fields}\r\n").into_bytes()
}

/// The head of a form POST of `path` with `fields`, its framing among them.
fn form_head(path: &str, fields: &str) -> String {
    let form = "application/x-www-form-urlencoded";
    format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {form}\r\n{fields}\r\n")
}

/// `POST path` of the form `body`, with its Content-Length and `fields`.
fn post_form(path: &str, fields: &str, body: &str) -> Vec<u8> {
    let fields = format!("{fields}Content-Length: {}\r\n", body.len());
    format!("{}{body}", form_head(path, &fields)).into_bytes()
}

/// The Authorization field line of `client`'s HTTP Basic credentials.
fn basic_field(client: &Client) -> String {
    format!("Authorization: {}\r\n", basic_header(client.basic()))
}

/// A whole token request of `client` for a client_credentials token.
fn token_request(client: &Client) -> Vec<u8> {
    post_form("/o/token/", &basic_field(client), CC_FORM)
}

/// The first answer in `bytes` and its length once it has all arrived (by Content-Length;
/// none after 1xx, 204 or 304; answers to HEAD are not read here); an error when the bytes
/// are not an answer.
fn parse_reply(bytes: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    if !b"HTTP/1.1 ".starts_with(bytes.get(..9).unwrap_or(bytes)) {
        return Err(format!("not a status line: {:?}", lossy(bytes)));
    }
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status in {status_line:?}"))?;
    let headers = lines
        .map(|line| line.split_once(':').unwrap_or((line, "")))
        .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
        .collect();
    let mut reply = Reply {
        status,
        headers,
        body: String::new(),
    };
    let length = match (status, reply.header("Content-Length")) {
        (100..=199 | 204 | 304, _) | (_, None) => 0,
        (_, Some(length)) => length.parse().map_err(|_| format!("length {length:?}"))?,
    };
    let start = end + 4;
    let Some(body) = bytes.get(start..start + length) else {
        return Ok(None);
    };
    reply.body = lossy(body);
    Ok(Some((reply, start + length)))
}

/// The whole answers at the front of `bytes`, and how many bytes they took.
fn replies(bytes: &[u8]) -> (Vec<Reply>, usize) {
    let mut all = Vec::new();
    let mut taken = 0;
    loop {
        match parse_reply(&bytes[taken..]) {
            Ok(Some((reply, length))) => {
                all.push(reply);
                taken += length;
            }
            Ok(None) => return (all, taken),
            Err(e) => panic!("{e} after {} answers", all.len()),
        }
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An answer with this status that says the connection closes.
fn assert_closing(reply: &Reply, status: u16) {
    let closes = reply.header("Connection") == Some("close");
    assert!(
        reply.status == status && closes,
        "expected {status}: {reply:?}"
    );
}

/// What waiting for bytes gave.
#[derive(Debug, PartialEq, Eq)]
enum Fill {
    Data,
    Closed,
    TimedOut,
}

/// `request` on a new connection: its answer, which must come within [`PROMPT`].
fn ask(addr: &str, request: &[u8]) -> Reply {
    let mut wire = Wire::open(addr);
    wire.send(request);
    wire.reply(PROMPT)
}

/// Sends `bytes` and the end of the stream on a new connection: the server must answer
/// exactly once, with `status`, and close the connection. The answer.
fn refused(addr: &str, bytes: &[u8], status: u16) -> Reply {
    let mut wire = Wire::open(addr);
    wire.send_last(bytes);
    let mut answered = wire.replies_until_closed(PROMPT);
    let sent = lossy(bytes);
    assert_eq!(answered.len(), 1, "{sent:?}: {answered:?}");
    let reply = answered.remove(0);
    let closes = reply.header("Connection") == Some("close");
    assert!(
        reply.status == status && closes,
        "{sent:?}: expected {status}: {reply:?}"
    );
    reply
}

/// One raw connection to the server under test, with what it received and has not taken.
struct Wire {
    stream: TcpStream,
    received: Vec<u8>,
}

impl Wire {
    fn open(addr: &str) -> Wire {
        let stream = TcpStream::connect(addr).expect("connect");
        Wire {
            stream,
            received: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Ends the sending side: the server reads the end of the stream after `bytes`.
    fn send_last(&mut self, bytes: &[u8]) {
        // The server may have answered and stopped reading already.
        let _ = self.stream.write_all(bytes);
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Reads once, by `deadline`; a reset is a close.
    fn fill(&mut self, deadline: Instant) -> Fill {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Fill::TimedOut;
        }
        self.stream.set_read_timeout(Some(left)).unwrap();
        let mut buf = [0u8; 8192];
        match self.stream.read(&mut buf) {
            Ok(0) => Fill::Closed,
            Ok(n) => {
                self.received.extend_from_slice(&buf[..n]);
                Fill::Data
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Fill::TimedOut
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => Fill::Data,
            Err(_) => Fill::Closed,
        }
    }

    /// The next whole answer, which must come within `within`.
    fn reply(&mut self, within: Duration) -> Reply {
        let deadline = Instant::now() + within;
        loop {
            match parse_reply(&self.received) {
                Ok(Some((reply, length))) => {
                    self.received.drain(..length);
                    return reply;
                }
                Ok(None) => {}
                Err(e) => panic!("{e}"),
            }
            let filled = self.fill(deadline);
            let seen = lossy(&self.received);
            assert_eq!(
                filled,
                Fill::Data,
                "no whole answer within {within:?}: {seen:?}"
            );
        }
    }

    /// Reads until the server closes the connection, which it must within `within`: the
    /// whole answers that came (nothing else may have).
    fn replies_until_closed(&mut self, within: Duration) -> Vec<Reply> {
        let deadline = Instant::now() + within;
        loop {
            match self.fill(deadline) {
                Fill::Data => {}
                Fill::Closed => break,
                Fill::TimedOut => {
                    panic!("still open after {within:?}: {:?}", lossy(&self.received))
                }
            }
        }
        let (all, taken) = replies(&self.received);
        let rest = lossy(&self.received[taken..]);
        assert!(
            rest.is_empty(),
            "not a whole answer: {rest:?} after {all:?}"
        );
        self.received.clear();
        all
    }

    /// Nothing arrives for `quiet`, and the connection stays open.
    fn assert_quiet(&mut self, quiet: Duration) {
        let filled = self.fill(Instant::now() + quiet);
        let seen = lossy(&self.received);
        assert_eq!(filled, Fill::TimedOut, "expected silence, got {seen:?}");
    }
}
