//! Durability and storage: acknowledged tokens and revocations survive kill -9; the database
//! file never holds a credential in clear (docs/security.md rules 19, 33).

use crate::support::{
    ADMIN_PASSWORD, HOSTILE, Reply, Serving, Tutorial, field, form_encode, integrity_ok,
};

/// `oauthd serve` as a process of its own over the tutorial's database.
fn serve(t: &Tutorial) -> Serving {
    Serving::start(&t.server.db_path(), &["--threads", "2"])
}

fn hello(server: &Serving, token: &str) -> u16 {
    server.with_bearer("GET", "/api/hello", token, "").status
}

fn token_request(server: &Serving, t: &Tutorial, form: &str) -> Reply {
    server.post_form("/o/token/", form, Some(t.client.basic()))
}

#[test]
fn acknowledged_tokens_and_revocations_survive_kill_9() {
    let t = Tutorial::new();
    let first = serve(&t);
    let mut issued = Vec::new();
    for _ in 0..20 {
        let reply = token_request(&first, &t, "grant_type=client_credentials");
        assert_eq!(reply.status, 200, "{}", reply.body);
        issued.push(field(&reply.json(), "access_token"));
    }
    let password = format!(
        "grant_type=password&username=admin&password={}",
        form_encode(ADMIN_PASSWORD)
    );
    let old_refresh = field(
        &token_request(&first, &t, &password).json(),
        "refresh_token",
    );
    let refresh = format!("grant_type=refresh_token&refresh_token={old_refresh}");
    let rotated = token_request(&first, &t, &refresh);
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let revoked = issued.pop().expect("a token to revoke");
    let revocation = first.post_form(
        "/o/revoke_token/",
        &format!("token={revoked}"),
        Some(t.client.basic()),
    );
    assert_eq!(revocation.status, 200);

    drop(first); // SIGKILL: no chance to flush or close anything
    let second = serve(&t);
    for token in &issued {
        assert_eq!(hello(&second, token), 200, "an acknowledged token was lost");
    }
    assert_eq!(hello(&second, &field(&rotated.json(), "access_token")), 200);
    assert_eq!(
        hello(&second, &revoked),
        401,
        "an acknowledged revocation was lost"
    );
    assert_eq!(
        token_request(&second, &t, &refresh).status,
        400,
        "the rotated-out refresh token stays retired"
    );
    drop(second);
    assert!(integrity_ok(&t.server));
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
