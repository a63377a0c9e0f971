//! Running oauthd for real (issue 11): backups of a running server and their restore,
//! start-up refusing a database it cannot serve, `/metrics`, and security events in the log.

use crate::support::{
    ADMIN_PASSWORD, ALICE_PASSWORD, Client, Http, Reply, Serving, TestServer, Tutorial,
    allow_and_get_code, field, form_encode, log_lines, path_str, post_as, rows, run_cli, sign_in,
};
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Applications the backup must hold: the bug report's count, all still in the WAL.
const APPS: usize = 7;

/// `oauthd --db DB serve` on port 0, expected to refuse: (exit code, stdout, stderr). Run
/// without the capability to override file modes, so that a write-protected file is one
/// for root too (CI runs as root in a fresh container).
fn refused_serve(db: &Path) -> (i32, String, String) {
    let oauthd = env!("CARGO_BIN_EXE_oauthd");
    let args = ["--db", path_str(db), "serve", "--addr", "127.0.0.1:0"];
    let mut command = match rustix::process::geteuid().is_root() {
        true => {
            let mut setpriv = Command::new("setpriv");
            setpriv.args([
                "--bounding-set=-dac_override,-dac_read_search",
                "--",
                oauthd,
            ]);
            setpriv
        }
        false => Command::new(oauthd),
    };
    let out = command.args(args).output().expect("run oauthd serve");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_backup_of_a_running_server_holds_what_the_wal_holds_and_restores() {
    let s = TestServer::start();
    let clients: Vec<_> = (0..APPS)
        .map(|_| s.add_client("confidential", "client-credentials", &[]))
        .collect();
    let tokens: Vec<String> = clients.iter().map(|c| s.client_token(c)).collect();
    let wal = s.dir.path().join("oauthd.sqlite3-wal");
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the rows are in the write-ahead log, where a plain cp misses them"
    );
    let backups = tempfile::tempdir().unwrap();
    let target = backups.path().join("oauthd-backup.sqlite3");

    // Tokens keep being issued while the copy is made.
    let (code, out, err) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for client in clients.iter().cycle().take(40) {
                s.client_token(client);
            }
        });
        let answer = s.cli(&["backup", path_str(&target)], "");
        writer.join().unwrap();
        answer
    });
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains(path_str(&target)), "{out}");

    let copy = oauthd::store::Store::open(&target, oauthd::settings::Durability::Full).unwrap();
    copy.quick_check().unwrap();
    assert_eq!(copy.list_apps(None).unwrap().len(), APPS);
    let keys = backups.path().join("oauthd-backup.sqlite3.keys");
    assert_eq!(
        std::fs::read(&keys).unwrap(),
        std::fs::read(s.key_file_path()).unwrap()
    );
    let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the private keys stay private");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "so do the digests and password hashes");
    let copied_tokens: i64 = rusqlite::Connection::open(&target)
        .unwrap()
        .query_row("SELECT count(*) FROM access_tokens", [], |r| r.get(0))
        .unwrap();
    let all_tokens = rows(&s, "access_tokens");
    assert!(
        (APPS as i64..=all_tokens).contains(&copied_tokens),
        "{copied_tokens} of {all_tokens}"
    );
    drop(copy);

    // Never over an existing file: the first copy stays as it was.
    let before = std::fs::read(&target).unwrap();
    let (code, _, err) = s.cli(&["backup", path_str(&target)], "");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), before);

    // Restore: the two files put back where a server looks for them.
    let restored = tempfile::tempdir().unwrap();
    let db = restored.path().join("oauthd.sqlite3");
    std::fs::copy(&target, &db).unwrap();
    std::fs::copy(&keys, restored.path().join("oauthd.sqlite3.keys")).unwrap();
    let serving = Serving::start(&db, &[]);
    for token in &tokens {
        let reply = serving.with_bearer("GET", "/api/hello", token, "");
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
}

#[test]
fn backup_needs_a_path_and_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.sqlite3");
    let target = dir.path().join("copy.sqlite3");
    let (code, _, err) = run_cli(&["--db", path_str(&db), "backup", path_str(&target)], "");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no database at"), "{err}");
    let (code, _, err) = run_cli(&["--db", path_str(&db), "backup"], "");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("oauthd: backup: missing PATH\nusage:"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_failed_backup_leaves_no_file_behind() {
    let s = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = damaged_database(dir.path());
    let target = dir.path().join("copy.sqlite3");
    let config = s.config_path();
    let args = ["--db", path_str(&db), "--config", path_str(&config)];
    for _ in 0..2 {
        let (code, out, err) = run_cli(&[&args[..], &["backup", path_str(&target)]].concat(), "");
        assert_eq!(code, 1, "{out} {err}");
        assert!(
            err.contains("malformed"),
            "the damage, not \"already exists\": {err}"
        );
        assert!(!target.exists(), "an empty file passed for a backup");
    }
}

#[test]
fn serve_refuses_a_database_it_cannot_write() {
    let s = TestServer::start();
    s.add_client("public", "password", &[]);
    let db = s.db_path();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
    let (code, out, err) = refused_serve(&db);
    assert_eq!(code, 1, "{out} {err}");
    assert!(!out.contains("listening"), "{out}");
    assert!(
        err.contains(&format!("cannot serve {}", db.display()))
            && err.contains("cannot be written"),
        "{err}"
    );
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(rows(&s, "applications"), 1, "nothing lost");
}

/// A database in `dir` with [`APPS`] applications and garbage over the cell pointers of the
/// applications table's page: its path and its bytes.
fn damaged_database(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let db = dir.join("oauthd.sqlite3");
    for n in 0..APPS {
        let args = [
            "--db",
            path_str(&db),
            "app",
            "add",
            "--name",
            &format!("app {n}"),
        ];
        let args = [
            &args[..],
            &["--client-type", "public", "--grant", "password"],
        ]
        .concat();
        assert_eq!(run_cli(&args, "").0, 0);
    }
    // Garbage over the cell pointers of the applications table's page.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'applications'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(&db).unwrap();
    let start = usize::try_from((root - 1) * page_size + 8).unwrap();
    bytes[start..start + 64].fill(0xFF);
    std::fs::write(&db, &bytes).unwrap();
    (db, bytes)
}

#[test]
fn serve_refuses_a_damaged_database() {
    let dir = tempfile::tempdir().unwrap();
    let (db, bytes) = damaged_database(dir.path());
    let (code, out, err) = refused_serve(&db);
    assert_eq!(code, 1, "{out} {err}");
    assert!(!out.contains("listening"), "{out}");
    assert!(
        err.contains(&format!("cannot serve {}", db.display()))
            && err.contains("damaged")
            && err.contains("restore it from a backup"),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "left as it was");
}

/// A scrape of `/metrics`: each sample line as `series -> value`.
fn scrape(http: &Http) -> HashMap<String, f64> {
    let reply = http.request("GET", "/metrics", &[], b"");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    reply
        .body
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("series value");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

/// A sample that must be there.
fn sample(scraped: &HashMap<String, f64>, series: &str) -> f64 {
    *scraped
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in {scraped:?}"))
}

fn refresh_with(http: &Http, client: &Client, refresh_token: &str) -> Reply {
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        form_encode(refresh_token)
    );
    http.post_form("/o/token/", &form, Some(client.basic()))
}

#[test]
fn metrics_are_a_404_unless_turned_on() {
    let s = TestServer::start();
    for method in ["GET", "POST"] {
        let reply = s.request(method, "/metrics", &[], b"");
        assert_eq!(reply.status, 404, "{method}: {}", reply.body);
        assert!(!reply.body.contains("oauthd_"), "{}", reply.body);
    }
    // Like any path that does not exist: a browser gets the 404 page, not JSON.
    let browser = s.request("GET", "/metrics", &[("Accept", "text/html")], b"");
    assert_eq!(browser.status, 404, "{}", browser.body);
    let html = browser.header("Content-Type").unwrap_or_default();
    assert!(html.starts_with("text/html"), "{html}: {}", browser.body);
    let on = TestServer::with_extra_settings("metrics = true");
    let reply = on.request("POST", "/metrics", &[], b"");
    assert_eq!(reply.status, 405, "{}", reply.body);
}

#[test]
fn metrics_count_requests_tokens_refreshes_and_replays() {
    let t = Tutorial::with_server(TestServer::with_extra_settings("metrics = true"));
    let s = &t.server;
    let before = scrape(s);
    let token = "oauthd_http_requests_total{route=\"/o/token/\",status=";
    assert_eq!(before.get(&format!("{token}\"200\"}}")), None);
    assert_eq!(
        sample(&before, "oauthd_tokens_issued_total{grant=\"password\"}"),
        0.0
    );

    let tokens = t.admin_tokens("");
    let first_refresh = field(&tokens, "refresh_token");
    let refreshed = t.refresh(&first_refresh, "");
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let replay = t.refresh(&first_refresh, "");
    assert_eq!(
        (replay.status, replay.error()),
        (400, "invalid_grant".into())
    );
    let access = field(&refreshed.json(), "access_token");
    let hello = s.with_bearer("GET", "/api/hello", &access, "");
    assert_eq!(hello.status, 401, "the replay revoked the family");
    s.request("GET", "/o/applications/12/update/", &[], b"");
    s.request("GET", "/nothing/here?code=secret", &[], b"");

    let after = scrape(s);
    assert_eq!(sample(&after, &format!("{token}\"200\"}}")), 2.0);
    assert_eq!(sample(&after, &format!("{token}\"400\"}}")), 1.0);
    let hello = "oauthd_http_requests_total{route=\"/api/hello\",status=\"401\"}";
    assert_eq!(sample(&after, hello), 1.0);
    let metrics = "oauthd_http_requests_total{route=\"/metrics\",status=\"200\"}";
    assert_eq!(sample(&after, metrics), 1.0, "the first scrape");
    let update = "oauthd_http_requests_total{route=\"/o/applications/<id>/update/\",status=";
    assert!(after.keys().any(|k| k.starts_with(update)), "{after:?}");
    assert!(
        after.keys().any(|k| k.contains("route=\"other\""))
            && !after.keys().any(|k| k.contains("nothing")),
        "{after:?}"
    );
    assert_eq!(
        sample(&after, "oauthd_tokens_issued_total{grant=\"password\"}"),
        1.0
    );
    assert_eq!(sample(&after, "oauthd_tokens_refreshed_total"), 1.0);
    let replays = "oauthd_replays_detected_total{kind=\"refresh_token\"}";
    assert_eq!(sample(&after, replays), 1.0);
    assert_eq!(
        sample(&after, "oauthd_replays_detected_total{kind=\"code\"}"),
        0.0
    );
    let requests: f64 = after
        .iter()
        .filter(|(k, _)| k.starts_with("oauthd_http_requests_total{"))
        .map(|(_, v)| v)
        .sum();
    let duration = "oauthd_http_request_duration_seconds";
    assert_eq!(sample(&after, &format!("{duration}_count")), requests);
    assert_eq!(
        sample(&after, &format!("{duration}_bucket{{le=\"+Inf\"}}")),
        requests
    );
    assert!(sample(&after, "oauthd_open_connections") >= 1.0);
    let size = s.store().database_bytes().unwrap() as f64;
    assert!(size > 4096.0, "{size}");
    assert_eq!(sample(&after, "oauthd_database_bytes"), size);
}

#[test]
fn security_events_are_logged_as_lines_without_credentials() {
    let t = Tutorial::new();
    let s = &t.server;
    let callback = "http://127.0.0.1:5050/cb";
    let code_client = s.add_client(
        "confidential",
        "authorization-code",
        &["--redirect-uri", callback],
    );
    let log = s.dir.path().join("stderr.log");
    let serving = Serving::start_logging(&s.db_path(), &[], &log);
    let password_grant = |username: &str, password: &str| {
        let form = format!(
            "grant_type=password&username={}&password={}",
            form_encode(username),
            form_encode(password)
        );
        serving.post_form("/o/token/", &form, Some(t.client.basic()))
    };

    // A refresh token replayed.
    let tokens = password_grant("admin", ADMIN_PASSWORD).json();
    let refresh_token = field(&tokens, "refresh_token");
    let next = refresh_with(&serving, &t.client, &refresh_token).json();
    let replay = refresh_with(&serving, &t.client, &refresh_token);
    assert_eq!(replay.status, 400, "{}", replay.body);
    let grant_id: i64 = rusqlite::Connection::open(s.db_path())
        .unwrap()
        .query_row(
            "SELECT grants.id FROM grants JOIN applications app ON app.id = application_id
             WHERE app.client_id = ?1",
            [&t.client.id],
            |r| r.get(0),
        )
        .unwrap();

    // A code replayed.
    let admin = sign_in(&serving, "admin", ADMIN_PASSWORD);
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={}&scope=read",
        code_client.id,
        form_encode(callback)
    );
    let code = allow_and_get_code(&serving, &admin, &query);
    let exchange = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        form_encode(callback)
    );
    let exchange = || serving.post_form("/o/token/", &exchange, Some(code_client.basic()));
    let issued = exchange();
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert_eq!(exchange().status, 400);

    // Alice's password guessed until she is throttled.
    let wrong = "wrong-Guess-9";
    for _ in 0..5 {
        assert_eq!(password_grant("alice", wrong).status, 400);
    }
    assert_eq!(password_grant("alice", ALICE_PASSWORD).status, 429);

    // An administrator disables Alice.
    let alice = s.store().find_user_by_username("alice").unwrap().unwrap();
    let disable = format!("/o/admin/users/{}/disable/", alice.subject);
    let form = format!("csrfmiddlewaretoken={}", admin.csrf);
    assert_eq!(post_as(&serving, &admin, &disable, &form).status, 303);
    let alice_now = s.store().find_user_by_username("alice").unwrap().unwrap();
    assert!(!alice_now.is_active);

    // An administrator deletes an application the command line made (it has no owner).
    let cli_app = s
        .store()
        .find_app_by_client_id(&code_client.id)
        .unwrap()
        .unwrap();
    let delete = format!("/o/applications/{}/delete/", cli_app.public_id);
    assert_eq!(post_as(&serving, &admin, &delete, &form).status, 303);
    assert_eq!(
        s.store().find_app_by_client_id(&code_client.id).unwrap(),
        None
    );

    // A key rotation, from the command line.
    let (code_rotate, out, rotate_err) = s.cli(&["keys", "rotate"], "");
    assert_eq!(code_rotate, 0, "{rotate_err}");
    let kid = out.split_whitespace().nth(3).unwrap().to_owned();
    let rotated: Vec<&str> = rotate_err
        .lines()
        .filter(|l| l.contains(" security "))
        .collect();
    assert_eq!(rotated.len(), 1, "{rotate_err}");
    let file_kids = crate::support::kids(
        &serde_json::from_slice(&std::fs::read(s.key_file_path()).unwrap()).unwrap(),
    );
    assert!(
        rotated[0].contains(&format!(
            "security key_rotated kid=\"{kid}\" retired_kid=\""
        )),
        "{rotate_err}"
    );
    assert_eq!(file_kids, [kid.as_str()], "the file holds the new key");

    let admin_id = s
        .store()
        .find_user_by_username("admin")
        .unwrap()
        .unwrap()
        .id;
    let local = "client=\"127.0.0.1\"";
    let expected = [
        format!(
            "security replay_detected {local} client_id=\"{}\" grant_id={grant_id} grant_revoked=true replayed=\"refresh_token\"",
            t.client.id
        ),
        format!(
            "security replay_detected {local} client_id=\"{}\" grant_id=",
            code_client.id
        ),
        format!("security login_throttled {local} failures=5 subject=\"username\""),
        format!(
            "security admin_action action=\"disable_user\" admin_id={admin_id} {local} target=\"{}\"",
            alice.subject
        ),
        format!(
            "security admin_action action=\"delete_app\" admin_id={admin_id} {local} target=\"{}\"",
            cli_app.public_id
        ),
    ];
    let (lines, text) = log_lines(&log, expected.len(), |line| line.contains(" security "));
    assert_eq!(lines.len(), expected.len(), "{text}");
    for (line, expected) in lines.iter().zip(&expected) {
        assert!(
            line.contains(expected.as_str()),
            "{line:?} lacks {expected:?}"
        );
        assert!(
            humantime::parse_rfc3339(line.split(' ').next().unwrap()).is_ok(),
            "{line}"
        );
    }
    let secrets = [
        ADMIN_PASSWORD,
        ALICE_PASSWORD,
        wrong,
        "alice",
        &refresh_token,
        &field(&tokens, "access_token"),
        &field(&next, "refresh_token"),
        &code,
        t.client.secret.as_deref().unwrap(),
        code_client.secret.as_deref().unwrap(),
        admin.cookie.split('=').nth(1).unwrap(),
        &admin.csrf,
    ];
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} in {text}");
        assert!(!rotate_err.contains(secret), "{secret:?} in {rotate_err}");
    }
}
