//! Durability and storage: acknowledged tokens and revocations survive kill -9; the database
//! file never holds a credential in clear (SECURITY.md 19, 33).

use crate::support::{
    ADMIN_PASSWORD, HOSTILE, TestServer, Tutorial, basic_header, field, form_encode,
};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `oauthd serve` as a child process on a free port, over `server`'s database and settings.
struct ServeProcess {
    child: Child,
    base: String,
}

impl ServeProcess {
    fn start(server: &TestServer) -> ServeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oauthd"))
            .arg("--db")
            .arg(server.db_path())
            .arg("--config")
            .arg(server.config_path())
            .args(["serve", "--addr", "127.0.0.1:0", "--threads", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start oauthd serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read banner");
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("listening address")
            .to_owned();
        ServeProcess { child, base }
    }

    fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    fn post(&self, path: &str, form: &str, basic: (&str, &str)) -> (u16, String) {
        let auth = basic_header(basic);
        self.send(
            "POST",
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form,
        )
    }

    fn hello(&self, token: &str) -> u16 {
        self.send(
            "GET",
            "/api/hello",
            &[("Authorization", &format!("Bearer {token}"))],
            "",
        )
        .0
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build(),
        );
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let mut response = agent
            .run(builder.body(body.as_bytes().to_vec()).unwrap())
            .expect("exchange");
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn acknowledged_tokens_and_revocations_survive_kill_9() {
    let t = Tutorial::new();
    let client = t.client.basic();
    let first = ServeProcess::start(&t.server);

    let mut issued = Vec::new();
    for _ in 0..20 {
        let (status, body) = first.post("/o/token/", "grant_type=client_credentials", client);
        assert_eq!(status, 200, "{body}");
        issued.push(field(&json(&body), "access_token"));
    }
    let password = format!(
        "grant_type=password&username=admin&password={}",
        form_encode(ADMIN_PASSWORD)
    );
    let (_, body) = first.post("/o/token/", &password, client);
    let old_refresh = field(&json(&body), "refresh_token");
    let (status, body) = first.post(
        "/o/token/",
        &format!("grant_type=refresh_token&refresh_token={old_refresh}"),
        client,
    );
    assert_eq!(status, 200, "{body}");
    let rotated = json(&body);
    let revoked = issued.pop().expect("a token to revoke");
    assert_eq!(
        first
            .post("/o/revoke_token/", &format!("token={revoked}"), client)
            .0,
        200
    );

    first.kill_9();
    let second = ServeProcess::start(&t.server);
    for token in &issued {
        assert_eq!(second.hello(token), 200, "an acknowledged token was lost");
    }
    assert_eq!(second.hello(&field(&rotated, "access_token")), 200);
    assert_eq!(
        second.hello(&revoked),
        401,
        "an acknowledged revocation was lost"
    );
    let (status, _) = second.post(
        "/o/token/",
        &format!("grant_type=refresh_token&refresh_token={old_refresh}"),
        client,
    );
    assert_eq!(status, 400, "the rotated-out refresh token stays retired");
    second.kill_9();
    assert!(t.server.store().integrity_ok().unwrap());
}

#[test]
fn the_database_file_holds_no_credential_in_clear() {
    let t = Tutorial::new();
    let tokens = t.admin_tokens("");
    let refreshed = t.refresh(&field(&tokens, "refresh_token"), "").json();
    let secret = t.client.secret.clone().expect("confidential client");
    let mut stored = std::fs::read(t.server.db_path()).expect("db file");
    if let Ok(wal) = std::fs::read(t.server.db_path().with_extension("sqlite3-wal")) {
        stored.extend(wal);
    }
    let haystack = String::from_utf8_lossy(&stored);
    assert!(
        haystack.contains(HOSTILE),
        "the dump is readable (the app name is in it)"
    );
    for credential in [
        field(&tokens, "access_token"),
        field(&tokens, "refresh_token"),
        field(&refreshed, "access_token"),
        field(&refreshed, "refresh_token"),
        secret,
        ADMIN_PASSWORD.to_string(),
    ] {
        assert!(
            !haystack.contains(&credential),
            "a credential is stored in clear"
        );
    }
}

#[test]
fn a_graceful_restart_keeps_tokens_and_the_schema() {
    let mut t = Tutorial::new();
    let tokens = t.admin_tokens("");
    t.server.restart();
    let access = field(&tokens, "access_token");
    assert_eq!(
        t.server
            .with_bearer("GET", "/api/hello", &access, "")
            .status,
        200
    );
    assert_eq!(t.refresh(&field(&tokens, "refresh_token"), "").status, 200);
    assert_eq!(
        t.server.store().schema_version().unwrap(),
        oauthd::store::SCHEMA_VERSION
    );
}
