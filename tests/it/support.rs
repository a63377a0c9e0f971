//! Test support: an in-process server on 127.0.0.1:0 over a temporary database and a manual
//! clock, provisioned through the real `oauthd` binary; an HTTP client; and the DRF tutorial's
//! fixture.

use oauthd::oidc::keys::SigningKeys;
use oauthd::settings::Durability;
use oauthd::store::Store;
use oauthd::{Clock, RunningServer, ServerConfig, Settings};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The DRF tutorial's settings: its scopes, plus the introspection scope.
pub const TUTORIAL_SETTINGS: &str = r#"
scopes = { read = "Read scope", write = "Write scope", groups = "Access to your groups", introspection = "Introspect tokens" }
default_scopes = ["read", "write", "groups"]
"#;

/// Worker threads of a [`TestServer`].
pub const WORKERS: usize = 4;

/// A hostile string used wherever user-controlled text is stored.
pub const HOSTILE: &str = "bob\"e'i;--ü";

/// How far behind real time [`TestServer::in_the_past`] sets its clock: longer than the short
/// lives tests give tokens, codes and sessions, shorter than the defaults and the hour of an
/// anonymous session.
pub const PAST_SECONDS: i64 = 60;

/// A running test server with its own directory, database, settings file and clock.
pub struct TestServer {
    running: Option<RunningServer>,
    /// The server's manual clock; it survives [`TestServer::restart`].
    clock: Clock,
    /// The temporary directory holding oauthd.sqlite3 and oauthd.toml.
    pub dir: TempDir,
    /// A client for the running server.
    pub http: Http,
}

/// An HTTP client for one server; `TestServer` and `Serving` dereference to it.
pub struct Http {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    agent: ureq::Agent,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `error` of an OAuth error body.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// A registered client as `app add --json` printed it.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: Option<String>,
}

impl Client {
    /// `(client_id, secret)` for HTTP Basic.
    pub fn basic(&self) -> (&str, &str) {
        (&self.id, self.secret.as_deref().unwrap_or(""))
    }
}

impl TestServer {
    /// A server with the tutorial's settings.
    pub fn start() -> TestServer {
        TestServer::with_settings(TUTORIAL_SETTINGS)
    }

    /// A server with the tutorial's settings and these lines of oauthd.toml.
    pub fn with_extra_settings(extra: &str) -> TestServer {
        TestServer::with_settings(&format!("{TUTORIAL_SETTINGS}\n{extra}\n"))
    }

    /// A server with this oauthd.toml, its clock at the real time.
    pub fn with_settings(toml: &str) -> TestServer {
        TestServer::with_clock(toml, Clock::system().now())
    }

    /// A server with this oauthd.toml whose clock starts [`PAST_SECONDS`] behind real time:
    /// whatever it issues with a shorter life has expired for the `oauthd` commands, which
    /// read the system clock (`cleartokens`), while the server itself still sees it live.
    pub fn in_the_past(toml: &str) -> TestServer {
        TestServer::with_clock(toml, Clock::system().now() - PAST_SECONDS)
    }

    /// A server with this oauthd.toml and a manual clock that starts at `start` (unix seconds).
    fn with_clock(toml: &str, start: i64) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("oauthd.toml"), toml).expect("write settings");
        let key_file = dir.path().join("oauthd.sqlite3.keys");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(key_file)
            .and_then(|mut file| file.write_all(shared_key_file()))
            .expect("write the key file");
        let mut server = TestServer {
            running: None,
            clock: Clock::manual(start),
            dir,
            http: Http::new(String::new()),
        };
        server.boot();
        server
    }

    fn boot(&mut self) {
        let mut settings = Settings::load(Some(&self.config_path())).expect("settings");
        // The test harness cannot capture what the log's thread writes; the access log's
        // own tests run the binary and read its standard error.
        settings.access_log = false;
        let running = RunningServer::start(ServerConfig {
            addr: "127.0.0.1:0".into(),
            threads: WORKERS,
            db_path: self.db_path(),
            settings,
            clock: self.clock.clone(),
        })
        .expect("server starts");
        self.http = Http::new(format!("http://{}", running.addr()));
        self.running = Some(running);
    }

    /// The running server's signing keys.
    pub fn signing_keys(&self) -> Arc<SigningKeys> {
        self.running.as_ref().expect("running").signing_keys()
    }

    pub fn key_file_path(&self) -> PathBuf {
        self.dir.path().join("oauthd.sqlite3.keys")
    }

    /// Stops the server gracefully and starts it again on the same database.
    pub fn restart(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown();
        }
        self.boot();
    }

    /// The server's time (unix seconds).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Moves the server's clock on by `seconds`, instead of sleeping.
    pub fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("oauthd.sqlite3")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("oauthd.toml")
    }

    /// A second connection to the database, to check what was stored.
    pub fn store(&self) -> Store {
        Store::open(&self.db_path(), oauthd::settings::Durability::Full).expect("open store")
    }

    /// Runs the real binary with this server's --db and --config; returns (exit code, stdout, stderr).
    pub fn cli(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let (db, config) = (self.db_path(), self.config_path());
        let flags = ["--db", path_str(&db), "--config", path_str(&config)];
        run_cli(&[&flags, args].concat(), stdin)
    }

    /// `oauthd user add`, which must succeed.
    pub fn add_user(&self, username: &str, password: &str, admin: bool) {
        let mut args = vec!["user", "add", username];
        if admin {
            args.push("--admin");
        }
        let (code, out, err) = self.cli(&args, &format!("{password}\n"));
        assert_eq!(code, 0, "user add failed: {out} {err}");
    }

    /// A client of this type for these grants (comma-separated), named after the grants.
    pub fn add_client(&self, client_type: &str, grants: &str, extra: &[&str]) -> Client {
        let args = [
            "--name",
            grants,
            "--client-type",
            client_type,
            "--grant",
            grants,
        ];
        self.add_app(&[&args, extra].concat())
    }

    /// `oauthd app add ... --json`, which must succeed.
    pub fn add_app(&self, args: &[&str]) -> Client {
        let mut all = vec!["app", "add"];
        all.extend_from_slice(args);
        all.push("--json");
        let (code, out, err) = self.cli(&all, "");
        assert_eq!(code, 0, "app add failed: {out} {err}");
        let printed: serde_json::Value = serde_json::from_str(&out).expect("app add prints JSON");
        Client {
            id: printed["client_id"].as_str().expect("client_id").to_owned(),
            secret: printed["client_secret"].as_str().map(str::to_owned),
        }
    }
}

/// The key file every [`TestServer`] starts with: one RSA key made once per test process,
/// which each new database adopts as its first key. Making a 2048-bit key for each of the
/// suite's 150-odd servers costs about 125 ms of CPU each (measured: 20 starts took 0.47 s
/// with this file, 2.9 to 3.2 s making a key each).
fn shared_key_file() -> &'static [u8] {
    static KEY_FILE: OnceLock<Vec<u8>> = OnceLock::new();
    KEY_FILE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("keys");
        let store =
            Store::open(&dir.path().join("keys.sqlite3"), Durability::Full).expect("a store");
        oauthd::oidc::rotation::rotate(&store, &file, 3600, 0).expect("a key");
        std::fs::read(&file).expect("read the key file")
    })
}

impl Http {
    /// A client for `base` that returns error statuses as answers.
    pub fn new(base: String) -> Http {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .max_redirects(0)
            .build();
        Http {
            base,
            agent: ureq::Agent::new_with_config(config),
        }
    }

    /// `127.0.0.1:PORT`, for raw connections.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Any request.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(body.to_vec()).expect("request");
        let mut response = self.agent.run(request).expect("HTTP exchange");
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A form POST, with HTTP Basic client credentials when given.
    pub fn post_form(&self, path: &str, form: &str, basic: Option<(&str, &str)>) -> Reply {
        let auth = basic.map(basic_header);
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if let Some(auth) = auth.as_deref() {
            headers.push(("Authorization", auth));
        }
        self.request("POST", path, &headers, form.as_bytes())
    }

    /// A client_credentials access token for `client`, which must be issued.
    pub fn client_token(&self, client: &Client) -> String {
        let form = "grant_type=client_credentials";
        let reply = self.post_form("/o/token/", form, Some(client.basic()));
        assert_eq!(reply.status, 200, "{}", reply.body);
        field(&reply.json(), "access_token")
    }

    /// A request with a bearer token.
    pub fn with_bearer(&self, method: &str, path: &str, token: &str, form: &str) -> Reply {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("Authorization", auth.as_str())];
        if !form.is_empty() {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        self.request(method, path, &headers, form.as_bytes())
    }

    /// Sends raw bytes on a new connection and returns everything the server answered.
    pub fn raw(&self, bytes: &[u8]) -> String {
        let mut stream = TcpStream::connect(self.addr()).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(bytes).expect("send");
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        // Read until the server closes, or until one full response has arrived.
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            if response_complete(&answer) {
                break;
            }
        }
        String::from_utf8_lossy(&answer).into_owned()
    }
}

impl std::ops::Deref for TestServer {
    type Target = Http;
    fn deref(&self) -> &Http {
        &self.http
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown();
        }
    }
}

fn response_complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    body.len() >= length
}

/// What came back on one connection.
#[derive(Debug)]
pub struct Answer {
    pub text: String,
    /// A whole response arrived: its Content-Length of body, or all until the server closed.
    pub complete: bool,
}

/// Sends `bytes` on a new connection to `addr` and reads one response for up to `secs` seconds.
pub fn exchange(addr: &str, bytes: &[u8], secs: u64) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    send_on(&mut stream, bytes, secs, false)
}

/// Sends `bytes`, then reads for up to `secs` seconds until a whole response arrived, or with
/// `head_only` until its head did.
pub fn send_on(stream: &mut TcpStream, bytes: &[u8], secs: u64, head_only: bool) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(secs);
    // The server may answer and stop reading before everything was sent.
    let _ = stream.write_all(bytes);
    let (mut answer, mut buf) = (Vec::new(), [0u8; 4096]);
    let done = |answer: &[u8], complete| {
        let text = String::from_utf8_lossy(answer).into_owned();
        Answer { text, complete }
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let left = left.max(Duration::from_millis(1));
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return done(&answer, true),
            Err(_) => return done(&answer, false),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| l.strip_prefix("content-length:"));
            let whole = length
                .and_then(|l| l.trim().parse().ok())
                .is_some_and(|l| body.len() >= l);
            if whole || head_only {
                return done(&answer, whole);
            }
        }
    }
}

/// `Basic base64(urlencode(id):urlencode(secret))` per RFC 6749 §2.3.1.
pub fn basic_header((id, secret): (&str, &str)) -> String {
    use base64::Engine;
    let pair = format!("{}:{}", form_encode(id), form_encode(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// application/x-www-form-urlencoded encoding of one value.
pub fn form_encode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .expect("encode")
        .trim_start_matches('=')
        .to_owned()
}

/// The DRF tutorial's world: an admin, a plain user, a group and a password-grant client.
pub struct Tutorial {
    pub server: TestServer,
    pub client: Client,
}

pub const ADMIN_PASSWORD: &str = "admin pass ü";
pub const ALICE_PASSWORD: &str = "alice-pass";

impl Tutorial {
    pub fn new() -> Tutorial {
        Tutorial::with_server(TestServer::start())
    }

    pub fn with_server(server: TestServer) -> Tutorial {
        server.add_user("admin", ADMIN_PASSWORD, true);
        server.add_user("alice", ALICE_PASSWORD, false);
        let (code, _, err) = server.cli(&["group", "add", "staff", "--member", "admin"], "");
        assert_eq!(code, 0, "{err}");
        let client = server.add_app(&[
            "--name",
            HOSTILE,
            "--client-type",
            "confidential",
            "--grant",
            "password,client-credentials",
        ]);
        Tutorial { server, client }
    }

    /// The password grant for `username`, with `extra` form fields appended.
    pub fn password_grant(&self, username: &str, password: &str, extra: &str) -> Reply {
        let form = format!(
            "grant_type=password&username={}&password={}{extra}",
            form_encode(username),
            form_encode(password)
        );
        self.server
            .post_form("/o/token/", &form, Some(self.client.basic()))
    }

    /// A successful password grant for the admin; returns the token response.
    pub fn admin_tokens(&self, extra: &str) -> serde_json::Value {
        let reply = self.password_grant("admin", ADMIN_PASSWORD, extra);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// A refresh with this client.
    pub fn refresh(&self, refresh_token: &str, extra: &str) -> Reply {
        let form = format!(
            "grant_type=refresh_token&refresh_token={}{extra}",
            form_encode(refresh_token)
        );
        self.server
            .post_form("/o/token/", &form, Some(self.client.basic()))
    }
}

impl Tutorial {
    /// `count` threads present one refresh token at once; returns each (status, body).
    pub fn concurrent_refreshes(
        self: &Arc<Self>,
        refresh_token: &str,
        count: usize,
    ) -> Vec<(u16, String)> {
        let barrier = Arc::new(std::sync::Barrier::new(count));
        let handles: Vec<_> = (0..count)
            .map(|_| {
                let (t, token, barrier) = (
                    Arc::clone(self),
                    refresh_token.to_owned(),
                    Arc::clone(&barrier),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    let reply = t.refresh(&token, "");
                    (reply.status, reply.body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    }
}

/// Rows in a table (or `table WHERE ...`), read through a separate connection.
pub fn rows(s: &TestServer, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(s.db_path()).expect("open db");
    let sql = format!("SELECT count(*) FROM {table}");
    conn.query_row(&sql, [], |r| r.get(0)).expect("count")
}

/// The live refresh tokens of a grant (a family never holds more than one).
pub fn live_refresh_tokens(s: &TestServer, grant_id: i64) -> i64 {
    rows(
        s,
        &format!("refresh_tokens WHERE grant_id = {grant_id} AND revoked IS NULL"),
    )
}

/// `PRAGMA integrity_check` of the server's file answers "ok".
pub fn integrity_ok(s: &TestServer) -> bool {
    let conn = rusqlite::Connection::open(s.db_path()).expect("open db");
    let answer: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    answer == "ok"
}

/// Every row of every table, to prove that nothing changed.
pub fn dump(s: &TestServer) -> String {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let conn = rusqlite::Connection::open_with_flags(s.db_path(), flags).unwrap();
    let tables = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
    let tables: Vec<String> = conn
        .prepare(tables)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = String::new();
    for table in tables {
        let sql = format!("SELECT * FROM {table} ORDER BY rowid");
        let mut rows = conn.prepare(&sql).unwrap();
        let width = rows.column_count();
        let all: Vec<Vec<rusqlite::types::Value>> = rows
            .query_map([], |r| (0..width).map(|i| r.get(i)).collect())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out += &format!("{table}: {all:?}\n");
    }
    out
}

/// Whether an access token is stored (by its digest).
pub fn access_stored(s: &TestServer, token: &str) -> bool {
    let found = s.store().find_access_token(&oauthd::secret::digest(token));
    found.expect("lookup").is_some()
}

/// A password grant's form, without client credentials.
pub fn password_form(username: &str, password: &str) -> String {
    let (user, pass) = (form_encode(username), form_encode(password));
    format!("grant_type=password&username={user}&password={pass}")
}

/// client_id and client_secret as body parameters (RFC 6749 §2.3.1).
pub fn body_credentials(id: &str, secret: Option<&str>) -> String {
    let secret = secret.map(|s| format!("&client_secret={}", form_encode(s)));
    let id = form_encode(id);
    format!("&client_id={id}{}", secret.unwrap_or_default())
}

/// An OAuth error answer with this status and `error` code.
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    let got = (reply.status, reply.error());
    assert_eq!(got, (status, code.to_owned()), "{}", reply.body);
}

/// A string field of a JSON value.
pub fn field(value: &serde_json::Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
        .to_owned()
}

/// The `kid`s of a JWK Set (`{"keys": [...]}`), in order.
pub fn kids(set: &serde_json::Value) -> Vec<String> {
    let keys = set["keys"].as_array().expect("a JWK Set");
    keys.iter().map(|k| field(k, "kid")).collect()
}

/// `oauthd ARGS` with `stdin`: (exit code, stdout, stderr).
pub fn run_cli(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oauthd"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run oauthd");
    // The binary may exit (usage error, bad settings) before it reads stdin.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    let out = child.wait_with_output().expect("oauthd finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A test path as text (temporary directories are UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// `oauthd serve` as a child process, stopped (killed) when dropped.
pub struct Serving {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// `127.0.0.1:PORT`, read from the "listening on" line.
    pub addr: String,
    /// A client for it.
    pub http: Http,
}

impl Serving {
    /// Runs `oauthd --db DB serve --addr 127.0.0.1:0 EXTRA...` in DB's directory and waits
    /// for its "listening on" line.
    pub fn start(db: &Path, extra: &[&str]) -> Serving {
        let command = Command::new(env!("CARGO_BIN_EXE_oauthd"));
        Serving::spawn(Serving::on(command, db, extra), db, Stdio::null())
    }

    /// Runs `oauthd serve --dev --addr 127.0.0.1:0 EXTRA...` in `dir`, whose throwaway
    /// database goes to `dir` too (`TMPDIR`), and waits for its "listening on" line.
    pub fn start_dev(dir: &Path, extra: &[&str]) -> Serving {
        let mut command = Command::new(env!("CARGO_BIN_EXE_oauthd"));
        command
            .env("TMPDIR", dir)
            .args(["serve", "--dev", "--addr", "127.0.0.1:0"])
            .args(extra);
        Serving::spawn(command, &dir.join("-"), Stdio::null())
    }

    /// The lines printed after the "listening on" line, up to the one that starts with `last`.
    pub fn lines_until(&mut self, last: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let read = self.stdout.read_line(&mut line).expect("read stdout");
            assert!(read > 0, "no line starting with {last:?} in {lines:?}");
            let line = line.trim_end().to_owned();
            let done = line.starts_with(last);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// `oauthd --db DB serve --addr 127.0.0.1:0 EXTRA...` as `command`.
    fn on(mut command: Command, db: &Path, extra: &[&str]) -> Command {
        command
            .arg("--db")
            .arg(db)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra);
        command
    }

    /// The same, with at most `files` open file descriptors (`ulimit -n`).
    pub fn start_limited(db: &Path, extra: &[&str], files: u32) -> Serving {
        let mut shell = Command::new("sh");
        let script = format!("ulimit -n {files} && exec \"$0\" \"$@\"");
        shell.args(["-c", &script, env!("CARGO_BIN_EXE_oauthd")]);
        Serving::spawn(Serving::on(shell, db, extra), db, Stdio::null())
    }

    /// The same as [`Serving::start`], with stderr (the access log) written to the file `log`.
    pub fn start_logging(db: &Path, extra: &[&str], log: &Path) -> Serving {
        let command = Command::new(env!("CARGO_BIN_EXE_oauthd"));
        let log = std::fs::File::create(log).expect("create the log file");
        Serving::spawn(Serving::on(command, db, extra), db, log.into())
    }

    /// The process id, to read its figures under /proc.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs `command` in the directory of `db` (which need not exist).
    fn spawn(mut command: Command, db: &Path, stderr: Stdio) -> Serving {
        let mut child = command
            .current_dir(db.parent().expect("db directory"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("run oauthd serve");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read stdout");
        let addr = line
            .split("listening on http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no 'listening on' line: {line:?}"))
            .to_owned();
        Serving {
            child,
            stdout,
            http: Http::new(format!("http://{addr}")),
            addr,
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Sends SIGTERM and waits; returns the exit code and the rest of stdout.
    pub fn terminate(&mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.expect("run kill").success());
        let status = self.child.wait().expect("wait");
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).expect("read stdout");
        (status.code(), rest)
    }
}

impl std::ops::Deref for Serving {
    type Target = Http;
    fn deref(&self) -> &Http {
        &self.http
    }
}

/// Dropping kills with SIGKILL: `drop(serving)` is a crash.
impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines of the log file `log` that `keep` selects, once there are `count` of them, and
/// the whole text; waits a few seconds at most (lines go out through a writer thread).
pub fn log_lines(log: &Path, count: usize, keep: fn(&str) -> bool) -> (Vec<String>, String) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(log).expect("read the log");
        let lines: Vec<String> = text
            .lines()
            .filter(|l| keep(l))
            .map(str::to_owned)
            .collect();
        if lines.len() >= count || Instant::now() > deadline {
            return (lines, text);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The login page.
pub const LOGIN: &str = "/accounts/login/";

/// A browser's view of one session: its cookie and the CSRF token of the page it last saw.
pub struct Browser {
    /// `name=value` of the session cookie.
    pub cookie: String,
    /// The CSRF token of the last page.
    pub csrf: String,
}

/// The session cookie's `name=value` from a Set-Cookie header.
pub fn session_cookie(reply: &Reply) -> String {
    let header = reply
        .header("Set-Cookie")
        .unwrap_or_else(|| panic!("no Set-Cookie: {reply:?}"));
    header.split(';').next().unwrap().to_owned()
}

pub fn csrf_in(body: &str) -> String {
    let marker = "name=\"csrfmiddlewaretoken\" value=\"";
    let start = body.find(marker).expect("a CSRF field") + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

/// Opens the login page with `next`, as a browser without a session.
pub fn open_login(s: &Http, next: &str) -> (Reply, Browser) {
    let reply = s.request(
        "GET",
        &format!("{LOGIN}?next={}", form_encode(next)),
        &[],
        b"",
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let browser = Browser {
        cookie: session_cookie(&reply),
        csrf: csrf_in(&reply.body),
    };
    (reply, browser)
}

pub fn post_as(s: &Http, browser: &Browser, path: &str, form: &str) -> Reply {
    let headers = [
        ("Cookie", browser.cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    s.request("POST", path, &headers, form.as_bytes())
}

pub fn login_form(csrf: &str, username: &str, password: &str, next: &str) -> String {
    format!(
        "csrfmiddlewaretoken={csrf}&username={}&password={}&next={}",
        form_encode(username),
        form_encode(password),
        form_encode(next)
    )
}

pub fn home(s: &Http, cookie: &str) -> Reply {
    get_as(s, cookie, "/")
}

/// A GET with the browser's session cookie.
pub fn get_as(s: &Http, cookie: &str, path: &str) -> Reply {
    s.request("GET", path, &[("Cookie", cookie)], b"")
}

/// Logs the admin in; returns the signed-in browser (new cookie, the home page's CSRF token).
pub fn signed_in(s: &TestServer) -> Browser {
    sign_in(s, "admin", ADMIN_PASSWORD)
}

/// Logs `username` in; returns the signed-in browser (new cookie, the home page's CSRF token).
pub fn sign_in(s: &Http, username: &str, password: &str) -> Browser {
    let (_, anonymous) = open_login(s, "/");
    let reply = post_as(
        s,
        &anonymous,
        LOGIN,
        &login_form(&anonymous.csrf, username, password, "/"),
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    let cookie = session_cookie(&reply);
    let page = home(s, &cookie);
    assert_eq!(page.status, 200);
    Browser {
        csrf: csrf_in(&page.body),
        cookie,
    }
}

/// The consent form's hidden fields, as the page carries them, plus the CSRF token.
pub fn consent_fields(page: &Reply) -> Vec<(String, String)> {
    form_fields(page, "/o/authorize/")
}

/// The hidden fields of the form that posts to `action`, as the page carries them (the
/// header's logout form comes first and is left out).
pub fn form_fields(page: &Reply, action: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let form = page
        .body
        .split(&format!("action=\"{action}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("a form posting to {action}"));
    let form = form.split("</form>").next().unwrap();
    for input in form.split("<input type=\"hidden\" ").skip(1) {
        let attr = |name: &str| {
            let marker = format!("{name}=\"");
            let start = input.find(&marker)? + marker.len();
            input[start..]
                .split('"')
                .next()
                .map(|v| v.replace("&quot;", "\"").replace("&amp;", "&"))
        };
        if let (Some(name), Some(value)) = (attr("name"), attr("value")) {
            fields.push((name, value));
        }
    }
    fields
}

/// `browser`'s user opens `/o/authorize/?{query}`, gets the consent page and allows; returns
/// the code from the redirect.
pub fn allow_and_get_code(s: &Http, browser: &Browser, query: &str) -> String {
    let consent = get_as(s, &browser.cookie, &format!("/o/authorize/?{query}"));
    assert_eq!(consent.status, 200, "{}", consent.body);
    let mut fields = consent_fields(&consent);
    fields.push(("allow".into(), "x".into()));
    let reply = post_as(
        s,
        browser,
        "/o/authorize/",
        &serde_urlencoded::to_string(&fields).unwrap(),
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.header("Location").unwrap();
    let (_, query) = location.split_once('?').expect("a query");
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    params
        .into_iter()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
}

/// The HTTP hook of the `oauth2` and `openidconnect` crates, backed by ureq 3 with redirects
/// off (as both crates ask) and error statuses returned as responses, so that the library
/// itself parses error bodies.
pub fn library_http() -> impl Fn(oauth2::HttpRequest) -> Result<oauth2::HttpResponse, ureq::Error> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build(),
    );
    move |request: oauth2::HttpRequest| {
        let mut response = agent.run(request)?;
        let body = response.body_mut().read_to_vec()?;
        let mut answer = oauth2::HttpResponse::new(body);
        *answer.status_mut() = response.status();
        *answer.headers_mut() = response.headers().clone();
        Ok(answer)
    }
}

impl TestServer {
    /// `oauthd user add USERNAME --email EMAIL --name NAME`, which must succeed; returns the
    /// stored user (with the `sub` the server will assert).
    pub fn add_person(
        &self,
        username: &str,
        password: &str,
        email: &str,
        name: &str,
    ) -> oauthd::model::User {
        let args = ["user", "add", username, "--email", email, "--name", name];
        let (code, out, err) = self.cli(&args, &format!("{password}\n"));
        assert_eq!(code, 0, "user add failed: {out} {err}");
        self.store()
            .find_user_by_username(username)
            .unwrap()
            .expect("the user is stored")
    }
}

/// A person's browser without the browser: it keeps the cookies the server sets (and drops
/// the ones it clears), follows no redirect by itself, and plays the user through login and
/// consent. URLs may be absolute (on this server) or paths.
pub struct UserAgent<'a> {
    http: &'a Http,
    cookies: std::cell::RefCell<std::collections::BTreeMap<String, String>>,
}

/// What a user saw on the way through an authorization request.
pub struct Approval {
    /// The consent page.
    pub consent: Reply,
    /// Where the server sent the browser after Allow: the client's redirect URI with the
    /// response in its query.
    pub callback: url::Url,
}

impl Approval {
    /// One parameter of the callback's query.
    pub fn param(&self, name: &str) -> Option<String> {
        query_param(&self.callback, name)
    }
}

/// One parameter of a URL's query.
pub fn query_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl<'a> UserAgent<'a> {
    pub fn new(http: &'a Http) -> UserAgent<'a> {
        UserAgent {
            http,
            cookies: Default::default(),
        }
    }

    /// The value of the cookie `name`, if the agent holds it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.borrow().get(name).cloned()
    }

    /// A GET of `url` with the agent's cookies.
    pub fn get(&self, url: &str) -> Reply {
        let path = self.path_of(url);
        let cookie = self.cookie_header();
        let reply = self.http.request("GET", &path, &[("Cookie", &cookie)], b"");
        self.remember(&reply);
        reply
    }

    /// A form POST to `url` with the agent's cookies.
    pub fn post(&self, url: &str, fields: &[(String, String)]) -> Reply {
        let path = self.path_of(url);
        let cookie = self.cookie_header();
        let headers = [
            ("Cookie", cookie.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let body = serde_urlencoded::to_string(fields).unwrap();
        let reply = self.http.request("POST", &path, &headers, body.as_bytes());
        self.remember(&reply);
        reply
    }

    /// Opens an authorization URL, signs in on the login page it is sent to, and allows on
    /// the consent page; asserts each step's status.
    pub fn authorize(&self, url: &str, username: &str, password: &str) -> Approval {
        let next = self.sign_in_for(url, username, password);
        self.approve(&next)
    }

    /// Opens `url`, which sends a visitor to the login page, and signs in there; returns the
    /// local path the login sends the browser back to. Asserts each step's status.
    pub fn sign_in_for(&self, url: &str, username: &str, password: &str) -> String {
        let first = self.get(url);
        assert_eq!(first.status, 303, "to the login page: {first:?}");
        let login_url = self.location(&first);
        assert!(login_url.starts_with(LOGIN), "{login_url}");
        let login = self.get(&login_url);
        assert_eq!(login.status, 200, "{}", login.body);
        let next = query_param(&self.absolute(&login_url), "next").expect("next");
        let form = [
            ("csrfmiddlewaretoken", csrf_in(&login.body)),
            ("username", username.to_owned()),
            ("password", password.to_owned()),
            ("next", next.clone()),
        ];
        let signed_in = self.post(LOGIN, &owned(&form));
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        assert_eq!(self.location(&signed_in), next, "back to the request");
        next
    }

    /// Opens an authorization URL as the signed-in user and allows on the consent page.
    pub fn approve(&self, url: &str) -> Approval {
        let consent = self.get(url);
        assert_eq!(consent.status, 200, "the consent page: {}", consent.body);
        let mut fields = consent_fields(&consent);
        fields.push(("allow".into(), "Authorize".into()));
        let answer = self.post("/o/authorize/", &fields);
        assert_eq!(answer.status, 303, "{}", answer.body);
        let callback = url::Url::parse(&self.location(&answer)).expect("an absolute URL");
        Approval { consent, callback }
    }

    /// The Location of a redirect.
    pub fn location(&self, reply: &Reply) -> String {
        reply
            .header("Location")
            .unwrap_or_else(|| panic!("no Location: {reply:?}"))
            .to_owned()
    }

    fn absolute(&self, url: &str) -> url::Url {
        url::Url::parse(&self.http.base)
            .and_then(|base| base.join(url))
            .expect("a URL")
    }

    /// The path and query of `url`, which must be on this server.
    fn path_of(&self, url: &str) -> String {
        if url.starts_with('/') {
            return url.to_owned();
        }
        let rest = url
            .strip_prefix(&self.http.base)
            .unwrap_or_else(|| panic!("{url} is not on {}", self.http.base));
        assert!(rest.starts_with('/'), "{url}");
        rest.to_owned()
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.borrow();
        let pairs: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join("; ")
    }

    /// RFC 6265 §5.2, as far as this server goes: a `Max-Age` of 0 or less removes a cookie.
    fn remember(&self, reply: &Reply) {
        let mut jar = self.cookies.borrow_mut();
        let set = reply
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"));
        for (_, header) in set {
            let mut parts = header.split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').expect("name=value");
            let gone = parts.any(|attr| {
                attr.to_ascii_lowercase()
                    .strip_prefix("max-age=")
                    .and_then(|age| age.parse::<i64>().ok())
                    .is_some_and(|age| age <= 0)
            });
            if gone {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }
}

/// Borrowed pairs as owned ones.
pub fn owned(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}
