//! A seeded fuzz of the edge (issue 9; docs/security.md rules 34, 35, 37): a few thousand requests
//! made of random bytes or of valid requests mutated (bytes flipped, inserted and deleted; CR, LF,
//! NUL and 0x80-0xFF spliced in; field lines duplicated; odd Content-Length and
//! Transfer-Encoding values; requests cut short or run together), each on a connection of its
//! own. Every one gets whole answers, none a 5xx but 501, 503 and 505, or a clean close, within
//! the deadline; the server serves on and its database is unchanged. The same cases on every
//! run: a failure names its case, and its seed and index replay it.

use super::{Fill, ONE_SECOND_DEADLINES, Wire, basic_field, get, parse_reply, post_form};
use crate::support::{Client, TestServer, dump};
use std::io::Write;
use std::time::{Duration, Instant};

const SEED: u64 = 0x0a17_4d5e_ed9c_2026;
const CASES: u64 = 3000;
const THREADS: u64 = 4;
/// A case must end within this: the server's deadlines are a second.
const DEADLINE: Duration = Duration::from_secs(3);
/// Every this many cases, the client neither closes nor sends more: the server's deadlines
/// end the case. The others end their stream at once, so that thousands take seconds.
const WAITING: u64 = 500;

/// xorshift64* (Vigna 2016): small, and the same sequence for a seed on every platform.
struct Rng(u64);

impl Rng {
    /// The generator of case `index`.
    fn for_case(index: u64) -> Rng {
        // An odd multiplier spreads neighbouring indices; a zero state would stay zero.
        Rng((SEED ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Valid requests of every shape the edge reads, none of which can change the database:
/// their credentials are wrong or their token only reads.
fn valid_requests(stranger: &Client, token: &str) -> Vec<Vec<u8>> {
    let basic = basic_field(stranger);
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let chunked = format!(
        "POST /o/revoke_token/ HTTP/1.1\r\nHost: x\r\n{basic}Content-Type: \
         application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n\
         6\r\ntoken=\r\n5;x=y\r\nabcde\r\n0\r\nT: t\r\n\r\n"
    );
    let expect = format!("Expect: 100-continue\r\n{basic}");
    vec![
        get("/health", ""),
        get("/api/hello", &bearer),
        get(
            "/users/",
            &format!("{bearer}Accept: application/json\r\nCookie: a=b\r\n"),
        ),
        get(
            "/o/authorize/?response_type=code&client_id=x&state=s",
            "Cookie: oauthd_session=z\r\n",
        ),
        b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".to_vec(),
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET http://x/health?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        post_form(
            "/o/token/",
            &basic,
            "grant_type=client_credentials&scope=read",
        ),
        post_form("/o/introspect/", &basic, &format!("token={token}")),
        post_form("/users/", &bearer, "username=fuzz&password=fuzz-pass-1"),
        post_form(
            "/o/token/",
            &expect,
            "grant_type=password&username=a&password=b",
        ),
        chunked.into_bytes(),
        [
            get("/health", ""),
            post_form("/o/token/", "", "grant_type=x"),
        ]
        .concat(),
    ]
}

/// Bytes spliced in: line ends, control characters, obs-text, separators.
const SPLICES: [&[u8]; 12] = [
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n\r\n",
    b"\0",
    b"\x7f",
    b"\x80",
    b"\xff",
    b"\xc3\xa9",
    b" ",
    b"\t",
    b":",
];
const LENGTHS: [&str; 12] = [
    "0",
    "5",
    "-1",
    "+5",
    "0x10",
    " 7 ",
    "5, 6",
    "5,5",
    "1e3",
    "",
    "99999999999999999999",
    "65537",
];
const CODINGS: [&str; 9] = [
    "chunked",
    "xchunked",
    "chunked, identity",
    "identity",
    "CHUNKED",
    "gzip, chunked",
    "chunked\t",
    ", chunked",
    "chunked;q=1",
];

/// Inserts a field line after the request line.
fn add_field(bytes: &mut Vec<u8>, line: &[u8]) {
    let at = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |lf| lf + 1);
    bytes.splice(at..at, line.iter().copied());
}

/// One change to `bytes`.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, requests: &[Vec<u8>]) {
    let at = rng.below(bytes.len() + 1);
    match rng.below(10) {
        0 if at < bytes.len() => bytes[at] ^= 1u8 << rng.below(8),
        1 if at < bytes.len() => bytes[at] = rng.next() as u8,
        2 => {
            let splice = rng.pick(&SPLICES);
            bytes.splice(at..at, splice.iter().copied());
        }
        3 => {
            let end = (at + 1 + rng.below(8)).min(bytes.len());
            bytes.drain(at.min(end)..end);
        }
        4 if bytes.contains(&b'\n') => {
            let lines: Vec<_> = bytes.split(|&b| b == b'\n').skip(1).collect();
            let line = [*rng.pick(&lines), b"\n"].concat();
            add_field(bytes, &line);
        }
        5 => {
            let line = format!("Content-Length: {}\r\n", rng.pick(&LENGTHS));
            add_field(bytes, line.as_bytes());
        }
        6 => {
            let line = format!("Transfer-Encoding: {}\r\n", rng.pick(&CODINGS));
            add_field(bytes, line.as_bytes());
        }
        7 => bytes.truncate(at),
        8 => {
            let next = rng.pick(requests);
            bytes.extend_from_slice(next);
        }
        _ => *bytes = (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
    }
}

/// The bytes of case `index`: a valid request changed one to three times.
fn case(index: u64, requests: &[Vec<u8>]) -> Vec<u8> {
    let mut rng = Rng::for_case(index);
    let mut bytes = rng.pick(requests).clone();
    for _ in 0..=rng.below(3) {
        mutate(&mut rng, &mut bytes, requests);
    }
    bytes
}

/// Sends `bytes`, and the end of the stream unless `waits`; what was wrong with what came
/// back, if anything.
fn run(addr: &str, bytes: &[u8], waits: bool) -> Result<(), String> {
    let mut wire = Wire::open(addr);
    match waits {
        true => {
            // The server may have answered and stopped reading already.
            let _ = wire.stream.write_all(bytes);
        }
        false => wire.send_last(bytes),
    }
    let deadline = Instant::now() + DEADLINE;
    loop {
        match wire.fill(deadline) {
            Fill::Data => {}
            Fill::Closed => break,
            Fill::TimedOut => return Err(format!("neither answered nor closed in {DEADLINE:?}")),
        }
    }
    let mut rest = wire.received.as_slice();
    while !rest.is_empty() {
        let Some((reply, length)) = parse_reply(rest)? else {
            return Err(format!(
                "an answer cut short: {:?}",
                String::from_utf8_lossy(rest)
            ));
        };
        if (500..600).contains(&reply.status) && ![501, 503, 505].contains(&reply.status) {
            return Err(format!("{reply:?}"));
        }
        rest = &rest[length..];
    }
    Ok(())
}

#[test]
fn seeded_random_and_mutated_requests_get_answers_or_a_clean_close() {
    let s = TestServer::with_extra_settings(ONE_SECOND_DEADLINES);
    let client = s.add_client("confidential", "client-credentials", &[]);
    let token = s.client_token(&client);
    let stranger = Client {
        id: client.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    let requests = valid_requests(&stranger, &token);
    let before = dump(&s);
    let began = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (addr, requests) = (s.addr(), &requests);
                scope.spawn(move || {
                    let indices = (thread..CASES).step_by(THREADS as usize);
                    let failed = indices.filter_map(|index| {
                        let bytes = case(index, requests);
                        let why = run(addr, &bytes, index % WAITING == 0).err()?;
                        Some(format!(
                            "case {index} {:?}: {why}",
                            String::from_utf8_lossy(&bytes)
                        ))
                    });
                    failed.collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    eprintln!("{CASES} cases in {:?}", began.elapsed());
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let health = super::ask(s.addr(), &get("/health", ""));
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    assert_eq!(s.with_bearer("GET", "/api/hello", &token, "").status, 200);
    assert_eq!(dump(&s), before, "the database changed");
}
