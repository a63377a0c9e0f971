//! Crowds, slow clients and what they cost (issue 9, requirements 1, 2 and 4): a burst of
//! kept-alive connections is answered at once, stalled bodies and trickled heads hold no
//! worker, a thousand idle connections stay within bounds and give everything back, and a
//! claimed body over the cap is refused unread.

use super::{CC_FORM, PROMPT, Wire, ask, assert_closing, basic_field, form_head, get, post_form};
use crate::support::{Serving, TestServer, WORKERS, rows};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// How soon an answer must come under load: generous, not a benchmark figure.
const SOON: Duration = Duration::from_secs(1);

/// Opens `requests.len()` connections at once (one thread each, released together), sends
/// each its request and reads the answer: the kept-alive connections with their answers'
/// statuses and how long each took from the connect.
fn burst(addr: &str, requests: Vec<Vec<u8>>) -> Vec<(Wire, u16, Duration)> {
    let start = Arc::new(Barrier::new(requests.len()));
    let threads: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let (addr, start) = (addr.to_owned(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                let began = Instant::now();
                let mut wire = Wire::open(&addr);
                wire.send(&request);
                let status = wire.reply(PROMPT).status;
                (wire, status, began.elapsed())
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// Every answer had `status` and came within [`SOON`]; then each connection, still open,
/// answers `next` as promptly.
fn assert_all_answered_soon(answered: Vec<(Wire, u16, Duration)>, status: u16, next: &[u8]) {
    let slowest = answered.iter().map(|(_, _, took)| *took).max().unwrap();
    for (i, (_, got, took)) in answered.iter().enumerate() {
        assert!(
            *got == status && *took < SOON,
            "connection {i}: {got} after {took:?}"
        );
    }
    for (i, (mut wire, _, _)) in answered.into_iter().enumerate() {
        let began = Instant::now();
        wire.send(next);
        let reply = wire.reply(PROMPT);
        let took = began.elapsed();
        let ok = (reply.status, reply.body.as_str()) == (200, "ok") && took < SOON;
        assert!(
            ok,
            "connection {i}, second request, after {took:?}: {reply:?}"
        );
    }
    eprintln!("slowest first answer: {slowest:?}");
}

#[test]
fn a_burst_of_128_kept_alive_connections_is_answered_within_a_second_each() {
    let s = TestServer::start();
    let health = get("/health", "");
    let answered = burst(s.addr(), vec![health.clone(); 128]);
    assert_all_answered_soon(answered, 200, &health);
}

/// What a browser sends for `path`, with the fields it always sends.
fn browser_request(browser: usize, path: &str) -> Vec<u8> {
    let fields = format!(
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0 \
         browser-{browser}\r\n\
         Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
         Accept-Language: en-GB,en;q=0.7,fr;q=0.3\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n\
         Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n\
         Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\nSec-Fetch-User: ?1\r\n\
         Priority: u=0, i\r\n"
    );
    get(path, &fields)
}

#[test]
fn six_connections_from_each_of_eight_browsers_are_answered_within_a_second_each() {
    let s = TestServer::start();
    let requests = (0..8)
        .flat_map(|browser| {
            // The page on one connection, its stylesheet on the others, as a browser opens them.
            let paths = std::iter::once("/accounts/login/").chain(["/static/oauthd.css"; 5]);
            paths.map(move |path| browser_request(browser, path))
        })
        .collect();
    let answered = burst(s.addr(), requests);
    assert_eq!(answered.len(), 48);
    assert_all_answered_soon(answered, 200, &browser_request(0, "/health"));
}

/// A connection whose head claims a body that does not come: the head of a token request
/// with `basic` credentials, sent, and its body, withheld.
fn stalled_body(addr: &str, basic: &str) -> (Wire, Vec<u8>) {
    let request = post_form("/o/token/", basic, CC_FORM);
    let (head, body) = request.split_at(request.len() - CC_FORM.len());
    let mut wire = Wire::open(addr);
    wire.send(head);
    (wire, body.to_vec())
}

#[test]
fn stalled_bodies_and_trickled_heads_do_not_delay_fresh_requests() {
    let s = TestServer::start();
    let client = s.add_client("confidential", "client-credentials", &[]);
    let token = s.client_token(&client);
    let basic = basic_field(&client);
    let mut stalled: Vec<_> = (0..2 * WORKERS + 2)
        .map(|_| stalled_body(s.addr(), &basic))
        .collect();
    let trickling: Vec<_> = (0..200)
        .map(|_| {
            let mut wire = Wire::open(s.addr());
            wire.send(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Trickle: ");
            wire.stream
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let trickler = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            // A byte per connection every 50 ms, for at most 10 s.
            for _ in 0..200 {
                for mut stream in &trickling {
                    stream.write_all(b"a").unwrap();
                }
                if stop.load(Ordering::SeqCst) {
                    return trickling;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            trickling
        })
    };
    let bearer = format!("Authorization: Bearer {token}\r\n");
    for round in 0..10 {
        for (path, fields, body) in [
            ("/health", "", "ok"),
            ("/api/hello", bearer.as_str(), "Hello, OAuth2!"),
        ] {
            let began = Instant::now();
            let reply = ask(s.addr(), &get(path, fields));
            let took = began.elapsed();
            let ok = (reply.status, reply.body.as_str()) == (200, body) && took < SOON;
            assert!(ok, "round {round}, {path}, after {took:?}: {reply:?}");
        }
    }
    stop.store(true, Ordering::SeqCst);
    let trickling = trickler.join().unwrap();
    // Still waiting, unanswered; their bodies, sent now, are served.
    for (wire, _) in &mut stalled {
        wire.assert_quiet(Duration::from_millis(10));
    }
    let issued_before = rows(&s, "access_tokens");
    for (mut wire, rest) in stalled {
        wire.send(&rest);
        let reply = wire.reply(PROMPT);
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let issued = rows(&s, "access_tokens") - issued_before;
    assert_eq!(issued, i64::try_from(2 * WORKERS + 2).unwrap());
    drop(trickling);
}

/// A figure from /proc/PID/status, such as `Threads` or `VmRSS` (in kB).
fn proc_status(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in {status}"));
    line.split_whitespace().next().unwrap().parse().unwrap()
}

/// The open descriptors of a process.
fn open_fds(pid: u32) -> u64 {
    let entries = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap();
    entries.count() as u64
}

/// (threads, descriptors) of a process.
fn threads_and_fds(pid: u32) -> (u64, u64) {
    (proc_status(pid, "Threads"), open_fds(pid))
}

const IDLE: usize = 1000;

#[test]
fn a_thousand_idle_connections_cost_bounded_threads_and_memory_and_are_given_back() {
    // This process holds a thousand sockets too.
    let allowed = oauthd::http::edge::acceptor::raise_descriptor_limit();
    let enough = allowed.is_none_or(|n| n > 2 * IDLE as u64);
    assert!(enough, "this test needs `ulimit -n` over {}", 2 * IDLE);
    let dir = tempfile::tempdir().unwrap();
    let serving = Serving::start(&dir.path().join("oauthd.sqlite3"), &["--threads", "2"]);
    let pid = serving.pid();
    let (threads_before, fds_before) = threads_and_fds(pid);
    let health = get("/health", "");
    let began = Instant::now();
    let mut idle: Vec<_> = (0..IDLE)
        .map(|_| {
            let mut wire = Wire::open(&serving.addr);
            wire.send(&health);
            wire
        })
        .collect();
    for (i, wire) in idle.iter_mut().enumerate() {
        let reply = wire.reply(PROMPT);
        assert_eq!(reply.status, 200, "connection {i}");
    }
    let (threads, fds) = threads_and_fds(pid);
    let rss_kib = proc_status(pid, "VmRSS");
    eprintln!(
        "{IDLE} idle connections in {:?}: {threads} threads, {fds} descriptors, {rss_kib} KiB \
         (before: {threads_before} threads, {fds_before} descriptors)",
        began.elapsed()
    );
    assert!(
        fds >= fds_before + IDLE as u64,
        "all held: {fds} descriptors"
    );
    assert!(threads <= 1100, "{threads} threads");
    assert!(rss_kib < 128 * 1024, "{rss_kib} KiB resident");
    assert_eq!(
        ask(&serving.addr, &health).status,
        200,
        "meanwhile, a new one"
    );
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut now = threads_and_fds(pid);
    while now.0 > threads_before + 2 || now.1 > fds_before + 2 {
        assert!(
            Instant::now() < deadline,
            "5 s after the clients closed: {now:?} (before: {threads_before}, {fds_before})"
        );
        std::thread::sleep(Duration::from_millis(20));
        now = threads_and_fds(pid);
    }
}

#[test]
fn a_claimed_body_over_64_kib_is_413_and_the_connection_closes_unread() {
    let s = TestServer::start();
    for claim in [64 * 1024 + 1, 100_000_000] {
        let head = form_head("/o/token/", &format!("Content-Length: {claim}\r\n"));
        let mut wire = Wire::open(s.addr());
        wire.send(head.as_bytes());
        let answered = wire.replies_until_closed(PROMPT);
        assert_eq!(answered.len(), 1, "{answered:?}");
        assert_closing(&answered[0], 413);
        assert_eq!(answered[0].json()["error"], "invalid_request");
        // The body the server did not wait for is not read: past the socket buffers and a
        // bounded linger, sending fails rather than being drained.
        let flood = vec![b'a'; 64 * 1024];
        wire.stream
            .set_write_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let mut sent = 0;
        while sent < 64 * 1024 * 1024 && wire.stream.write_all(&flood).is_ok() {
            sent += flood.len();
        }
        assert!(sent < 64 * 1024 * 1024, "the server drained {sent} bytes");
    }
    assert_eq!(ask(s.addr(), &get("/health", "")).status, 200);
}
