//! One connection, request after request: read a head within its deadline, read the body it
//! declares, hand the complete request to the [`Service`], write the answer, and go on (kept
//! alive, pipelined in order) or close. Generic over its [`Transport`], so that tests feed it
//! scripted bytes without a socket.

use crate::http::edge::chunked::{ChunkedError, Decoder};
use crate::http::edge::head::{self, Framing, Head, Parsed};
use crate::http::edge::wire::{self, CONTINUE, Persistence};
use crate::http::edge::{EdgeError, Limits};
use crate::http::request::{MAX_BODY_BYTES, RequestError};
use crate::http::response::Resp;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 8 * 1024;
/// After a final answer, how long and how much the server keeps reading (and dropping) what
/// the client still sends, so that unread bytes do not turn the close into a reset that
/// destroys the answer before the client reads it.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1024 * 1024;

/// A byte stream with deadlines.
pub(crate) trait Transport {
    /// Reads what is there, waiting at most until `deadline`; `Ok(0)` when the peer closed.
    fn read_by(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize>;
    /// Writes all of `bytes` by `deadline`.
    fn write_by(&mut self, bytes: &[u8], deadline: Instant) -> io::Result<()>;
    /// Ends the connection after a final answer.
    fn finish(&mut self);
}

/// What answers the requests of a connection.
pub(crate) trait Service {
    /// Answers one complete request.
    fn answer(&mut self, head: &Head, body: Result<Vec<u8>, RequestError>) -> Resp;
    /// An answer went out (or was attempted): `head` is `None` for a request the edge
    /// refused before it had one.
    fn answered(&mut self, head: Option<&Head>, status: u16, bytes: usize, started: Instant);
    /// The server is stopping: close after the request in flight.
    fn stopping(&self) -> bool;
    /// A request is under way (its first byte is in) or over (its answer is out, or the
    /// connection ends).
    fn busy(&mut self, busy: bool);
}

/// What waiting for bytes gave.
enum Fill {
    Filled,
    TimedOut,
    Closed,
}

/// How reading a body ended.
enum Body {
    /// The body, and how many buffered bytes it took (the rest is the next request).
    Read(Vec<u8>, usize),
    /// Over the cap: refused unread; the connection closes after the answer.
    TooLarge,
    /// The edge answers this itself and closes.
    Refused(EdgeError),
    /// The client went away.
    Closed,
}

/// Serves a connection until it closes, times out, or the server stops.
pub(crate) fn serve<T: Transport, S: Service>(transport: &mut T, limits: &Limits, service: &mut S) {
    let opened = Instant::now();
    let mut buf = Vec::new();
    let mut first = true;
    loop {
        // The first request has the header deadline from the opening; later ones may idle.
        let wait_until = if first {
            opened + limits.header
        } else {
            Instant::now() + limits.idle
        };
        // A stop that came while the last request was under way did not end this
        // connection's reading side (see `Connections::stop`): end it here.
        if service.stopping() {
            return transport.finish();
        }
        if buf.is_empty() && !matches!(fill(transport, &mut buf, wait_until), Fill::Filled) {
            return;
        }
        service.busy(true);
        let started = Instant::now();
        let head_deadline = if first {
            wait_until
        } else {
            started + limits.header
        };
        first = false;
        let (head, head_len) = match read_head(transport, &mut buf, head_deadline) {
            Ok(Some(read)) => read,
            Ok(None) => return,
            Err(e) => return refuse(transport, service, e, started, limits),
        };
        buf.drain(..head_len);
        let body_deadline = Instant::now() + limits.body;
        let (body, body_len, mut close) = match read_body(transport, &head, &mut buf, body_deadline)
        {
            Body::Read(body, len) => (Ok(body), len, false),
            Body::TooLarge => (Err(RequestError::TooLarge), 0, true),
            Body::Refused(e) => return refuse(transport, service, e, started, limits),
            Body::Closed => return,
        };
        let resp = service.answer(&head, body);
        close |= !head.keep_alive || service.stopping();
        let persistence = match (close, head.http10) {
            (true, _) => Persistence::Close,
            (false, true) => Persistence::KeepAlive10,
            (false, false) => Persistence::KeepAlive,
        };
        let bytes = wire::encode(&resp, head.method == "HEAD", persistence);
        let written = transport.write_by(&bytes, Instant::now() + limits.body);
        service.answered(Some(&head), resp.status, resp.body.len(), started);
        service.busy(false);
        if written.is_err() {
            return;
        }
        if close {
            return transport.finish();
        }
        buf.drain(..body_len);
        if buf.capacity() > 4 * READ_CHUNK {
            buf.shrink_to(READ_CHUNK);
        }
    }
}

/// Reads until a complete head is buffered: `Ok(None)` when the client went away. The head
/// is parsed on the first bytes (to refuse garbage at once) and then only once the bytes
/// read may end it, so that a head trickled in byte by byte costs linear, not quadratic, work.
fn read_head<T: Transport>(
    transport: &mut T,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> Result<Option<(Head, usize)>, EdgeError> {
    let mut searched = None;
    loop {
        let may_end = searched.is_none_or(|from: usize| {
            let window = buf.get(from.saturating_sub(3)..).unwrap_or_default();
            window.windows(4).any(|w| w == b"\r\n\r\n")
        });
        let parsed = if may_end {
            head::parse(buf)
        } else if buf.len() > head::MAX_HEAD_BYTES {
            Parsed::Invalid(EdgeError::HeadTooLarge)
        } else {
            Parsed::Partial
        };
        match parsed {
            Parsed::Complete(head, len) => return Ok(Some((*head, len))),
            Parsed::Invalid(e) => return Err(e),
            Parsed::Partial => {}
        }
        searched = Some(buf.len());
        match fill(transport, buf, deadline) {
            Fill::Filled => {}
            Fill::TimedOut => return Err(EdgeError::Timeout),
            Fill::Closed => return Ok(None),
        }
    }
}

/// Reads the body the head declares, capped at [`MAX_BODY_BYTES`] by its declared length
/// before a byte of it is read.
fn read_body<T: Transport>(
    transport: &mut T,
    head: &Head,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> Body {
    let claimed = match head.framing {
        Framing::Empty => return Body::Read(Vec::new(), 0),
        Framing::Length(n) if n > MAX_BODY_BYTES as u64 => return Body::TooLarge,
        Framing::Length(n) => usize::try_from(n).unwrap_or(usize::MAX),
        Framing::Chunked => 0,
    };
    let waiting = match head.framing {
        Framing::Chunked => buf.is_empty(),
        _ => buf.len() < claimed,
    };
    if head.expect_continue && waiting && transport.write_by(CONTINUE, deadline).is_err() {
        return Body::Closed;
    }
    let mut decoder = Decoder::new(MAX_BODY_BYTES);
    loop {
        if head.framing == Framing::Chunked {
            match decoder.advance(buf) {
                Ok(Some((body, len))) => return Body::Read(body, len),
                Ok(None) => {}
                Err(ChunkedError::TooLarge) => return Body::TooLarge,
                Err(ChunkedError::Malformed) => {
                    return Body::Refused(EdgeError::BadRequest("The chunked body is malformed."));
                }
            }
            decoder.compact(buf);
        } else if let Some(body) = buf.get(..claimed) {
            return Body::Read(body.to_vec(), claimed);
        }
        match fill(transport, buf, deadline) {
            Fill::Filled => {}
            Fill::TimedOut => return Body::Refused(EdgeError::Timeout),
            Fill::Closed => return Body::Closed,
        }
    }
}

/// Answers an error the edge found, and closes.
fn refuse<T: Transport, S: Service>(
    transport: &mut T,
    service: &mut S,
    error: EdgeError,
    started: Instant,
    limits: &Limits,
) {
    let resp = error.response();
    let bytes = wire::encode(&resp, false, Persistence::Close);
    let written = transport.write_by(&bytes, Instant::now() + limits.body);
    service.answered(None, resp.status, resp.body.len(), started);
    if written.is_ok() {
        transport.finish();
    }
}

/// Reads once into `buf`, by `deadline`.
fn fill<T: Transport>(transport: &mut T, buf: &mut Vec<u8>, deadline: Instant) -> Fill {
    let mut chunk = [0; READ_CHUNK];
    match transport.read_by(&mut chunk, deadline) {
        Ok(0) => Fill::Closed,
        Ok(n) => {
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
            Fill::Filled
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Fill::TimedOut
        }
        Err(_) => Fill::Closed,
    }
}

/// How far a socket timeout may miss its deadline before it is set again: each setting costs
/// a system call, and a kept-alive connection would otherwise pay two per request.
const DEADLINE_SLACK: Duration = Duration::from_millis(50);

/// A TCP stream whose reads and writes keep deadlines. The socket's timeouts
/// (`SO_RCVTIMEO`, `SO_SNDTIMEO`) count from the start of each call, so a call's deadline is
/// its start plus the timeout in force; that is set again only when it would miss the
/// deadline by more than [`DEADLINE_SLACK`].
pub(crate) struct Socket<'a> {
    stream: &'a TcpStream,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl<'a> Socket<'a> {
    /// Wraps an accepted stream (whose timeouts are unset).
    pub fn new(stream: &'a TcpStream) -> Socket<'a> {
        Socket {
            stream,
            read_timeout: None,
            write_timeout: None,
        }
    }
}

/// The timeout to set for a call that must end by `deadline`, if the one in force (`current`)
/// would miss it by more than the slack; a timeout error when the deadline has passed.
fn timeout_to_set(current: Option<Duration>, deadline: Instant) -> io::Result<Option<Duration>> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::ErrorKind::TimedOut.into());
    }
    match current {
        Some(current) if current.abs_diff(left) <= DEADLINE_SLACK => Ok(None),
        _ => Ok(Some(left)),
    }
}

impl Transport for Socket<'_> {
    fn read_by(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        loop {
            if let Some(timeout) = timeout_to_set(self.read_timeout, deadline)? {
                self.stream.set_read_timeout(Some(timeout))?;
                self.read_timeout = Some(timeout);
            }
            match (&mut &*self.stream).read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }

    fn write_by(&mut self, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
        while !bytes.is_empty() {
            if let Some(timeout) = timeout_to_set(self.write_timeout, deadline)? {
                self.stream.set_write_timeout(Some(timeout))?;
                self.write_timeout = Some(timeout);
            }
            match (&mut &*self.stream).write(bytes) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn finish(&mut self) {
        // Our side is done: the FIN follows the answer. Then drop what the client still
        // sends, briefly and boundedly, until it closes too.
        let _ = self.stream.shutdown(Shutdown::Write);
        let deadline = Instant::now() + LINGER;
        let mut dropped = 0;
        let mut sink = [0; READ_CHUNK];
        while dropped < LINGER_BYTES {
            match self.read_by(&mut sink, deadline) {
                Ok(0) | Err(_) => break,
                Ok(n) => dropped += n,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// What a scripted client does next.
    enum Step {
        /// These bytes arrive.
        Send(&'static [u8]),
        /// Nothing arrives before the deadline.
        Stall,
    }

    /// A scripted client: its steps in order, then it closes; what the server wrote.
    struct Script {
        steps: VecDeque<Step>,
        written: Vec<u8>,
        finished: bool,
    }

    impl Transport for Script {
        fn read_by(&mut self, buf: &mut [u8], _deadline: Instant) -> io::Result<usize> {
            match self.steps.pop_front() {
                None => Ok(0),
                Some(Step::Stall) => Err(io::ErrorKind::TimedOut.into()),
                Some(Step::Send(bytes)) => {
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    if n < bytes.len() {
                        self.steps.push_front(Step::Send(&bytes[n..]));
                    }
                    Ok(n)
                }
            }
        }

        fn write_by(&mut self, bytes: &[u8], _deadline: Instant) -> io::Result<()> {
            self.written.extend_from_slice(bytes);
            Ok(())
        }

        fn finish(&mut self) {
            self.finished = true;
        }
    }

    /// Answers every request with its method, target and body; records what it saw.
    #[derive(Default)]
    struct Echo {
        seen: Vec<(String, Result<Vec<u8>, RequestError>)>,
        logged: Vec<u16>,
    }

    impl Service for Echo {
        fn answer(&mut self, head: &Head, body: Result<Vec<u8>, RequestError>) -> Resp {
            let text = format!(
                "{} {} {}",
                head.method,
                head.target,
                body.as_ref()
                    .map_or("(too large)".into(), |b| String::from_utf8_lossy(b)
                        .into_owned())
            );
            self.seen.push((head.target.clone(), body));
            Resp::text(200, &text)
        }

        fn answered(&mut self, _: Option<&Head>, status: u16, _: usize, _: Instant) {
            self.logged.push(status);
        }

        fn stopping(&self) -> bool {
            false
        }

        fn busy(&mut self, _: bool) {}
    }

    const LIMITS: Limits = Limits {
        header: Duration::from_secs(10),
        body: Duration::from_secs(20),
        idle: Duration::from_secs(30),
    };

    fn run(steps: Vec<Step>) -> (String, Echo, bool) {
        let mut script = Script {
            steps: steps.into(),
            written: Vec::new(),
            finished: false,
        };
        let mut echo = Echo::default();
        serve(&mut script, &LIMITS, &mut echo);
        let written = String::from_utf8_lossy(&script.written).into_owned();
        (written, echo, script.finished)
    }

    /// The status lines of everything written, in order.
    fn statuses(written: &str) -> Vec<&str> {
        written
            .match_indices("HTTP/1.1 ")
            .filter_map(|(at, _)| written[at..].split("\r\n").next())
            .filter(|line| line.len() > 12 && line.as_bytes()[9..12].iter().all(u8::is_ascii_digit))
            .collect()
    }

    #[test]
    fn a_socket_timeout_is_set_again_only_when_it_would_miss_its_deadline() {
        let in_ = |secs: u64| Instant::now() + Duration::from_secs(secs);
        let set = timeout_to_set(None, in_(30)).unwrap().unwrap();
        assert!(set > Duration::from_secs(29), "{set:?}");
        assert_eq!(timeout_to_set(Some(set), in_(30)).unwrap(), None);
        let shorter = timeout_to_set(Some(set), in_(10)).unwrap().unwrap();
        assert!(shorter <= Duration::from_secs(10), "{shorter:?}");
        let passed = timeout_to_set(Some(set), Instant::now() - Duration::from_millis(1));
        assert_eq!(passed.unwrap_err().kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn pipelined_requests_are_answered_in_order() {
        let (out, echo, _) = run(vec![Step::Send(
            b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\n\
              Content-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: x\r\n\r\n",
        )]);
        assert_eq!(statuses(&out), ["HTTP/1.1 200 OK"; 3]);
        let bodies: Vec<_> = out.split("\r\n\r\n").skip(1).collect();
        assert_eq!(bodies[0].split("HTTP/1.1").next(), Some("GET /1 "));
        assert!(out.contains("POST /2 abc"), "{out}");
        assert!(out.ends_with("GET /3 "), "{out}");
        assert_eq!(echo.seen.len(), 3);
    }

    #[test]
    fn bodies_arrive_in_pieces() {
        let (out, echo, _) = run(vec![
            Step::Send(b"POST /t HTTP/1.1\r\nHo"),
            Step::Send(b"st: x\r\nContent-Length: 6\r\n\r\nab"),
            Step::Send(b"cd"),
            Step::Send(b"ef"),
        ]);
        assert!(out.ends_with("POST /t abcdef"), "{out}");
        assert_eq!(echo.seen[0].1, Ok(b"abcdef".to_vec()));
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let (out, _, _) = run(vec![
            Step::Send(b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Step::Send(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
            Step::Send(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n"),
        ]);
        assert!(out.contains("POST /c abcde"), "{out}");
        assert!(out.ends_with("GET /after "), "{out}");
    }

    #[test]
    fn a_body_hidden_in_a_smuggled_request_is_never_answered() {
        let (out, echo, finished) = run(vec![Step::Send(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\
              Content-Length: 35\r\n\r\nGET /hidden HTTP/1.1\r\nHost: x\r\n\r\n",
        )]);
        assert_eq!(statuses(&out), ["HTTP/1.1 400 Bad Request"]);
        assert!(out.contains("Connection: close"), "{out}");
        assert!(echo.seen.is_empty() && finished);
    }

    #[test]
    fn a_claimed_body_over_the_cap_is_refused_unread_and_the_connection_closed() {
        let (out, echo, finished) = run(vec![
            Step::Send(
                b"POST /t HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\
                  Content-Length: 1000000000000000000\r\n\r\n",
            ),
            Step::Send(b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n"),
        ]);
        assert_eq!(statuses(&out), ["HTTP/1.1 200 OK"], "no 100 Continue");
        assert!(out.contains("Connection: close"), "{out}");
        assert_eq!(echo.seen, [("/t".to_string(), Err(RequestError::TooLarge))]);
        assert!(finished);
    }

    #[test]
    fn a_chunked_body_over_the_cap_is_too_large() {
        let (_, echo, finished) = run(vec![Step::Send(
            b"POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10001\r\n",
        )]);
        assert_eq!(echo.seen, [("/t".to_string(), Err(RequestError::TooLarge))]);
        assert!(finished);
    }

    #[test]
    fn expect_100_continue_is_honoured() {
        let (out, _, _) = run(vec![
            Step::Send(
                b"POST /t HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
            ),
            Step::Send(b"ok"),
        ]);
        assert_eq!(statuses(&out), ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"]);
        assert!(out.ends_with("POST /t ok"), "{out}");
    }

    #[test]
    fn a_slow_head_gets_408_and_a_slow_body_too() {
        let (out, echo, finished) = run(vec![Step::Send(b"GET / HTTP/1.1\r\nHo"), Step::Stall]);
        assert_eq!(statuses(&out), ["HTTP/1.1 408 Request Timeout"]);
        assert!(echo.seen.is_empty() && finished);
        assert_eq!(echo.logged, [408]);
        let (out, echo, _) = run(vec![
            Step::Send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc"),
            Step::Stall,
        ]);
        assert_eq!(statuses(&out), ["HTTP/1.1 408 Request Timeout"]);
        assert!(echo.seen.is_empty());
    }

    #[test]
    fn an_idle_connection_closes_quietly() {
        let (out, _, _) = run(vec![Step::Stall]);
        assert_eq!(out, "");
        let (out, _, _) = run(vec![
            Step::Send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Step::Stall,
        ]);
        assert_eq!(statuses(&out), ["HTTP/1.1 200 OK"]);
    }

    #[test]
    fn http_1_0_closes_unless_kept_alive() {
        let (out, _, finished) = run(vec![Step::Send(
            b"GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n",
        )]);
        assert_eq!(statuses(&out), ["HTTP/1.1 200 OK"]);
        assert!(out.contains("Connection: close") && finished);
        let (out, _, _) = run(vec![Step::Send(
            b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n",
        )]);
        assert_eq!(statuses(&out).len(), 2);
        assert!(out.contains("Connection: keep-alive"), "{out}");
    }

    #[test]
    fn a_head_trickled_byte_by_byte_is_read_and_garbage_refused_at_once() {
        let head = b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
        let steps = head
            .chunks(1)
            .map(|b| Step::Send(b.to_vec().leak()))
            .collect();
        let (out, echo, _) = run(steps);
        assert!(out.ends_with("GET /slow "), "{out}");
        assert_eq!(echo.seen.len(), 1);
        let (out, _, _) = run(vec![Step::Send(b"\x16\x03\x01\x02\x00"), Step::Stall]);
        assert_eq!(statuses(&out), ["HTTP/1.1 400 Bad Request"]);
    }

    #[test]
    fn head_requests_get_no_body() {
        let (out, _, _) = run(vec![Step::Send(b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n")]);
        assert!(out.ends_with("Content-Length: 8\r\n\r\n"), "{out}");
    }

    #[test]
    fn a_bad_head_after_a_good_one_is_answered_and_closes() {
        let (out, echo, finished) = run(vec![Step::Send(
            b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/2.0\r\n\r\nGET /never HTTP/1.1\r\n\r\n",
        )]);
        assert_eq!(
            statuses(&out),
            ["HTTP/1.1 200 OK", "HTTP/1.1 505 HTTP Version Not Supported"]
        );
        assert_eq!(
            (echo.seen.len(), echo.logged.as_slice()),
            (1, &[200, 505][..])
        );
        assert!(finished);
    }
}
