//! The `oauthd` command line, run as the real binary: users, apps, keys, cleartokens, settings,
//! serve.

use crate::support::{
    Client, HOSTILE, Serving, TUTORIAL_SETTINGS, TestServer, exchange, field, kids, path_str,
    run_cli,
};
use oauthd::model::{AccessToken, Application, User};
use oauthd::secret::{digest, verify_password};
use oauthd::settings::Durability;
use oauthd::store::{SCHEMA_VERSION, Store};
use serde_json::{Value, json};

/// Arguments for `app add`: a name and a confidential client for these grants.
const CONFIDENTIAL: &str = "--name x --client-type confidential --grant";

/// `oauthd app add` with these space-separated words, then `extra`.
fn app_add(s: &TestServer, words: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["app", "add"];
    args.extend(words.split_whitespace().chain(extra.iter().copied()));
    s.cli(&args, "")
}

/// A client registered through `app add ... --json`.
fn add_app(s: &TestServer, words: &str) -> Client {
    s.add_app(&words.split_whitespace().collect::<Vec<_>>())
}

fn stored_token(s: &TestServer, token: &str) -> Option<AccessToken> {
    s.store().find_access_token(&digest(token)).unwrap()
}

fn stored_user(s: &TestServer, username: &str) -> Option<User> {
    s.store().find_user_by_username(username).unwrap()
}

fn stored_app(s: &TestServer, client_id: &str) -> Option<Application> {
    s.store().find_app_by_client_id(client_id).unwrap()
}

#[test]
fn user_add_reads_one_password_line_from_stdin() {
    let s = TestServer::start();
    let args = [
        "user", "add", "bob", "--email", "b@x.org", "--name", HOSTILE,
    ];
    let (code, out, err) = s.cli(&args, "pw one ü\nnext line\n");
    assert_eq!((code, out.trim()), (0, "created user bob (id 1)"), "{err}");
    let bob = stored_user(&s, "bob").expect("stored");
    assert!(verify_password("pw one ü", &bob.password_hash));
    assert_eq!((bob.email.as_str(), bob.is_admin), ("b@x.org", false));
    assert_eq!(
        (bob.name.as_str(), bob.email_verified),
        (HOSTILE, true),
        "an address the CLI sets counts as verified"
    );

    let (code, _, err) = s.cli(&["user", "add", "eve"], "\n");
    assert_eq!(code, 1, "an empty password is refused: {err}");
    let (code, _, err) = s.cli(&["user", "add", "eve"], "seven 7\n");
    assert_eq!(code, 1, "a short password is refused: {err}");
    assert!(err.contains("at least 8 characters"), "{err}");
    assert_eq!(stored_user(&s, "eve"), None);
    let (code, _, err) = s.cli(&["user", "add", "eve", "--email", "not an address"], "");
    assert_eq!(code, 2, "a bad email is a usage error: {err}");
    let long_name = "n".repeat(151);
    let (code, _, err) = s.cli(&["user", "add", "eve", "--name", &long_name], "");
    assert_eq!(code, 2, "a too long name is a usage error: {err}");
    assert_eq!(stored_user(&s, "eve"), None);
    let (code, _, err) = s.cli(&["user", "add", "eve"], "long enough\n");
    assert_eq!(code, 0, "{err}");
    let eve = stored_user(&s, "eve").expect("stored");
    assert_eq!((eve.name.as_str(), eve.email_verified), ("", false));
    assert_ne!(eve.subject, bob.subject);
}

/// Regression: the event named the first word after the command, so a flag before the
/// username (`user add --admin bob`) left it out, and a flag's value could have stood in for it.
#[test]
fn the_security_event_of_a_command_names_its_target_wherever_the_flags_are() {
    let s = TestServer::start();
    let event = |err: &str| {
        let line = err.lines().find(|l| l.contains(" security cli_command "));
        line.unwrap_or_default().to_owned()
    };
    let args = ["user", "add", "--admin", "--email", "b@x.org", "bob"];
    let (code, _, err) = s.cli(&args, "long enough\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        event(&err).ends_with("command=\"user add\" target=\"bob\""),
        "{err}"
    );
    let args = ["group", "add", "--member", "bob", "staff"];
    let (code, _, err) = s.cli(&args, "");
    assert_eq!(code, 0, "{err}");
    assert!(
        event(&err).ends_with("command=\"group add\" target=\"staff\""),
        "{err}"
    );
}

#[test]
fn a_duplicate_user_exits_1_and_keeps_the_first() {
    let s = TestServer::start();
    s.add_user("bob", "first pass", false);
    let (code, _, err) = s.cli(&["user", "add", "bob", "--admin"], "second pass\n");
    assert_eq!(code, 1);
    assert!(err.contains("bob already exists"), "{err}");
    let bob = stored_user(&s, "bob").unwrap();
    assert!(verify_password("first pass", &bob.password_hash) && !bob.is_admin);
}

#[test]
fn an_invalid_username_is_a_usage_error() {
    let s = TestServer::start();
    for name in ["bad name", HOSTILE] {
        // No stdin: the command stops before reading a password (an empty one is exit 1).
        let (code, _, err) = s.cli(&["user", "add", name], "");
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains("usage:"), "{err}");
        assert_eq!(stored_user(&s, name), None);
    }
}

#[test]
fn app_add_json_prints_the_secret_once_and_stores_its_digest() {
    let s = TestServer::start();
    let words = format!("--name {HOSTILE} --client-type confidential --grant password");
    let conf = add_app(&s, &words);
    let secret = conf
        .secret
        .clone()
        .expect("confidential clients get a secret");
    assert_eq!(secret.len(), 128);
    let stored = stored_app(&s, &conf.id).expect("stored");
    assert_eq!(
        stored.fields.name, HOSTILE,
        "the name is kept byte for byte"
    );
    assert_eq!(stored.secret_digest, Some(digest(&secret)));

    let public = add_app(&s, "--name spa --client-type public --grant password");
    assert_eq!(
        public.secret, None,
        "client_secret is null for public clients"
    );
    assert_eq!(stored_app(&s, &public.id).unwrap().secret_digest, None);
}

#[test]
fn client_secret_length_follows_the_settings() {
    let s = TestServer::with_extra_settings("client_secret_length = 40");
    let app = add_app(&s, &format!("{CONFIDENTIAL} client-credentials"));
    assert_eq!(app.secret.expect("secret").len(), 40);
}

#[test]
fn bad_app_arguments_are_usage_errors_and_store_nothing() {
    let s = TestServer::start();
    let code = format!("{CONFIDENTIAL} authorization-code");
    let cases = [
        (format!("{CONFIDENTIAL} password,magic"), "magic"),
        (code.clone(), "redirect-uri"),
        (
            format!("{code} --redirect-uri https://app.example/cb#frag"),
            "fragment",
        ),
        (
            format!("{code} --redirect-uri javascript:alert(1)"),
            "javascript",
        ),
        (format!("{CONFIDENTIAL} password --scopes admin"), "admin"),
        (
            format!("{CONFIDENTIAL} password --post-logout-redirect-uri javascript:alert(1)"),
            "--post-logout-redirect-uri: \"javascript:alert(1)\" uses the scheme",
        ),
        (
            format!("{CONFIDENTIAL} password --post-logout-redirect-uri https://a.example/bye#x"),
            "fragment",
        ),
        (
            format!("{CONFIDENTIAL} password --post-logout-redirect-uri /bye"),
            "--post-logout-redirect-uri: \"/bye\" is not an absolute URI",
        ),
    ];
    for (words, named) in cases {
        let (code, out, err) = app_add(&s, &words, &[]);
        assert_eq!(code, 2, "{words}: {out} {err}");
        assert!(err.contains(named), "{words}: {err}");
        assert_eq!(s.store().list_apps(None).unwrap(), vec![], "{words}");
    }
}

#[test]
fn app_list_json_shows_grants_and_scopes_but_never_the_secret() {
    let s = TestServer::start();
    let words = format!("--name {HOSTILE} --client-type confidential --json");
    let extra = [
        "--grant",
        "password,client-credentials",
        "--scopes",
        "write read",
    ];
    let (code, out, err) = app_add(&s, &words, &extra);
    assert_eq!(code, 0, "{err}");
    let printed: Value = serde_json::from_str(&out).unwrap();
    let (id, secret) = (
        field(&printed, "client_id"),
        field(&printed, "client_secret"),
    );

    let (code, out, err) = s.cli(&["app", "list", "--json"], "");
    assert_eq!(code, 0, "{err}");
    let list: Value = serde_json::from_str(&out).expect("app list --json prints JSON");
    let expected = json!([{
        "client_id": id, "name": HOSTILE, "client_type": "confidential",
        "grant_types": ["password", "client-credentials"], "redirect_uris": [],
        "post_logout_redirect_uris": [], "allowed_origins": [], "allowed_resources": [],
        "allowed_scopes": "read write", "skip_authorization": false, "enabled": true,
    }]);
    assert_eq!(list, expected);
    for listing in [out, s.cli(&["app", "list"], "").1] {
        assert!(listing.contains(&id), "{listing}");
        assert!(
            !listing.contains(&secret),
            "the secret is listed: {listing}"
        );
    }
}

#[test]
fn app_add_stores_post_logout_redirect_uris_and_app_list_shows_them() {
    let s = TestServer::start();
    let (bye, local) = (
        "https://app.example/bye?from=a&b=c",
        "http://127.0.0.1:8080/bye",
    );
    let words = format!(
        "{CONFIDENTIAL} authorization-code --redirect-uri https://app.example/cb \
         --post-logout-redirect-uri {bye} --post-logout-redirect-uri={local} \
         --post-logout-redirect-uri {bye}"
    );
    let app = add_app(&s, &words);
    let stored = stored_app(&s, &app.id).expect("stored");
    assert_eq!(
        stored.fields.post_logout_redirect_uris,
        vec![bye, local],
        "in order, a repeat dropped"
    );
    let (code, out, err) = s.cli(&["app", "list", "--json"], "");
    assert_eq!(code, 0, "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["post_logout_redirect_uris"], json!([bye, local]));
}

/// `oauthd app update CLIENT_ID` with these arguments.
fn app_update(s: &TestServer, client_id: &str, args: &[&str]) -> (i32, String, String) {
    s.cli(&[&["app", "update", client_id], args].concat(), "")
}

/// A confidential authorization-code app with two URI lists and a scope, for `app update`.
fn app_to_update(s: &TestServer) -> (Client, Application) {
    let words = format!(
        "{CONFIDENTIAL} authorization-code,client-credentials --redirect-uri https://app.example/cb \
         --post-logout-redirect-uri https://app.example/bye --scopes read"
    );
    let app = add_app(s, &words);
    let stored = stored_app(s, &app.id).expect("stored");
    (app, stored)
}

#[test]
fn app_update_replaces_only_the_fields_it_is_given() {
    let s = TestServer::start();
    let (app, before) = app_to_update(&s);
    let uris = [
        "--redirect-uri",
        "https://b.example/cb",
        "--redirect-uri=http://127.0.0.1/cb",
    ];
    let (code, out, err) = app_update(&s, &app.id, &[&["--name", HOSTILE], &uris[..]].concat());
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains("client_secret: (unchanged)"), "{out}");
    let after = stored_app(&s, &app.id).unwrap();
    assert_eq!(after.fields.name, HOSTILE);
    assert_eq!(
        after.fields.redirect_uris,
        vec!["https://b.example/cb", "http://127.0.0.1/cb"]
    );
    let untouched = |a: &Application| {
        let f = &a.fields;
        (
            f.grant_types.clone(),
            f.post_logout_redirect_uris.clone(),
            f.allowed_scopes.clone(),
        )
    };
    assert_eq!(untouched(&after), untouched(&before));
    assert_eq!(
        (after.secret_digest, after.owner_id),
        (before.secret_digest, None)
    );
    assert!(!s.client_token(&app).is_empty(), "the secret still works");

    s.add_user("alice", "alice-pass", false);
    let flags = [
        "--scopes",
        "read write",
        "--skip-authorization",
        "--owner",
        "alice",
    ];
    let (code, _, err) = app_update(&s, &app.id, &flags);
    assert_eq!(code, 0, "{err}");
    let after = stored_app(&s, &app.id).unwrap();
    assert_eq!(
        after.fields.allowed_scopes.unwrap().to_string(),
        "read write"
    );
    assert!(after.fields.skip_authorization);
    let alice = s.store().find_user_by_username("alice").unwrap().unwrap();
    assert_eq!(after.owner_id, Some(alice.id));
    let clear = ["--no-skip-authorization", "--post-logout-redirect-uri", ""];
    assert_eq!(app_update(&s, &app.id, &clear).0, 0);
    let after = stored_app(&s, &app.id).unwrap();
    assert!(!after.fields.skip_authorization);
    assert!(after.fields.post_logout_redirect_uris.is_empty());
    assert_eq!(after.fields.name, HOSTILE, "still");
}

#[test]
fn app_update_changes_the_client_type_with_its_secret() {
    let s = TestServer::start();
    let (app, _) = app_to_update(&s);
    let public = ["--client-type", "public", "--grant", "authorization-code"];
    let (code, out, err) = app_update(&s, &app.id, &public);
    assert_eq!(code, 0, "{out} {err}");
    assert!(
        out.contains("client_secret: (none: public client)"),
        "{out}"
    );
    assert_eq!(stored_app(&s, &app.id).unwrap().secret_digest, None);
    let old = app.secret.as_deref().unwrap();
    let refused = s.post_form(
        "/o/token/",
        "grant_type=client_credentials",
        Some((&app.id, old)),
    );
    assert_eq!(refused.status, 401, "{}", refused.body);

    let (code, out, err) = app_update(&s, &app.id, &["--client-type", "confidential", "--json"]);
    assert_eq!(code, 0, "{out} {err}");
    let printed: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(printed["client_id"], json!(app.id));
    let secret = field(&printed, "client_secret");
    assert_eq!(secret.len(), 128);
    let after = stored_app(&s, &app.id).unwrap();
    assert_eq!(after.secret_digest, Some(digest(&secret)));
    assert_eq!(
        after.fields.grant_types,
        vec![oauthd::model::GrantType::AuthorizationCode]
    );

    let (code, out, _) = app_update(&s, &app.id, &["--name", "again", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["client_secret"],
        Value::Null
    );
    assert_eq!(
        stored_app(&s, &app.id).unwrap().secret_digest,
        Some(digest(&secret))
    );
}

#[test]
fn bad_app_updates_change_nothing() {
    let s = TestServer::start();
    let (app, before) = app_to_update(&s);
    for (args, exit, says) in [
        (
            vec!["--redirect-uri", "javascript:alert(1)"],
            2,
            "--redirect-uri:",
        ),
        (
            vec!["--redirect-uri", "https://a.example/cb#x"],
            2,
            "fragment",
        ),
        (vec!["--grant", "password,magic"], 2, "--grant:"),
        (vec!["--client-type", "public"], 2, "confidential client"),
        (vec!["--client-type", "secret"], 2, "--client-type:"),
        (vec!["--scopes", "admin"], 2, "--scopes:"),
        (vec!["--name", ""], 2, "--name:"),
        (
            vec!["--skip-authorization", "--no-skip-authorization"],
            2,
            "contradict",
        ),
        (vec!["--name", "a", "--name", "b"], 2, "more than once"),
        (vec!["--colour", "red"], 2, "unknown flag --colour"),
        (vec!["--owner", "nobody"], 1, "no user nobody"),
    ] {
        let (code, out, err) = app_update(&s, &app.id, &args);
        assert_eq!(code, exit, "{args:?}: {out} {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(stored_app(&s, &app.id).unwrap(), before, "{args:?}");
    }
    let (code, _, err) = app_update(&s, "no-such-client", &["--name", "x"]);
    assert_eq!(
        (code, err.contains("no application no-such-client")),
        (1, true),
        "{err}"
    );
    let (code, _, err) = s.cli(&["app", "update"], "");
    assert_eq!((code, err.contains("CLIENT_ID")), (2, true), "{err}");
    assert_eq!(s.store().list_apps(None).unwrap(), vec![before]);
}

#[test]
fn app_remove_deletes_the_app_and_its_tokens() {
    let s = TestServer::start();
    let app = add_app(&s, &format!("{CONFIDENTIAL} client-credentials"));
    let token = s.client_token(&app);
    assert!(stored_token(&s, &token).is_some());

    let (code, out, err) = s.cli(&["app", "remove", &app.id], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&app.id), "{out}");
    assert_eq!(stored_app(&s, &app.id), None);
    assert_eq!(stored_token(&s, &token), None);
    assert_eq!(s.with_bearer("GET", "/api/hello", &token, "").status, 401);

    let (code, _, err) = s.cli(&["app", "remove", &app.id], "");
    assert_eq!(code, 1, "removing an unknown id fails");
    assert!(err.contains("no application"), "{err}");
}

#[test]
fn cleartokens_removes_expired_access_tokens_but_keeps_valid_ones() {
    // The server's clock is in the past: the short-lived token it issues has expired for
    // `cleartokens`, which reads the system clock, and the default-lived one has not.
    let mut s = TestServer::in_the_past(TUTORIAL_SETTINGS);
    let app = add_app(&s, &format!("{CONFIDENTIAL} client-credentials"));
    let valid = s.client_token(&app);
    let short = format!("{TUTORIAL_SETTINGS}\naccess_token_expire_seconds = 1\n");
    std::fs::write(s.config_path(), short).unwrap();
    s.restart();
    let expired = s.client_token(&app);

    let (code, out, err) = s.cli(&["cleartokens"], "");
    assert_eq!(code, 0, "{err}");
    let counts =
        "removed 0 refresh tokens, 1 access tokens, 1 grants, 0 codes, 0 device codes, 0 sessions";
    assert_eq!(out.trim(), counts);
    assert_eq!(stored_token(&s, &expired), None);
    assert!(stored_token(&s, &valid).is_some());
    assert_eq!(s.with_bearer("GET", "/api/hello", &valid, "").status, 200);
}

#[test]
fn bad_settings_stop_every_command_and_name_the_key() {
    let s = TestServer::start();
    let bad = [
        ("rotate_refresh_tokens", "true"),
        ("durability", "\"sometimes\""),
        ("access_token_expire_seconds", "-5"),
    ];
    for (key, value) in bad {
        let toml = format!("{TUTORIAL_SETTINGS}\n{key} = {value}\n");
        std::fs::write(s.config_path(), toml).unwrap();
        // No stdin for `user add`: startup stops before any password is read.
        for args in [&["app", "list"][..], &["user", "add", "bob"]] {
            let (code, _, err) = s.cli(args, "");
            assert!(code != 0 && err.contains(key), "{key}: {args:?}: {err}");
        }
        assert_eq!(stored_user(&s, "bob"), None);
    }
}

#[test]
fn serve_creates_a_new_database_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.sqlite3");
    let mut serving = Serving::start(&db, &["--threads", "2"]);
    assert!(db.exists(), "serve created the database");
    let store = Store::open(&db, Durability::Full).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let hello = b"GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n";
    let answer = exchange(&serving.addr, hello, 5);
    assert!(answer.text.starts_with("HTTP/1.1 401"), "{answer:?}");

    let (code, rest) = serving.terminate();
    assert_eq!(code, Some(0), "{rest}");
    assert!(rest.contains("oauthd stopped"), "{rest:?}");
    assert!(!serving.is_running());
    // The start-up lines say what was served from where, and how to begin.
    let database = format!(
        "  database: {} (created a new, empty database)\n",
        db.display()
    );
    assert!(rest.contains(&database), "{rest:?}");
    assert!(
        rest.contains("  config: no config file (the defaults)\n"),
        "{rest:?}"
    );
    assert!(
        rest.contains("no users yet: make the first administrator with `oauthd --db"),
        "{rest:?}"
    );

    // Again on the same database, now with a user and a config file.
    std::fs::write(dir.path().join("oauthd.toml"), "site_name = \"again\"\n").unwrap();
    let args = ["--db", path_str(&db), "user", "add", "ann", "--admin"];
    let (added, _, err) = run_cli(&args, "ann's password\nann's password\n");
    assert_eq!(added, 0, "{err}");
    let mut again = Serving::start(&db, &[]);
    let (_, rest) = again.terminate();
    assert!(
        rest.contains(&format!("  database: {}\n", db.display())),
        "{rest:?}"
    );
    assert!(rest.contains("  config: oauthd.toml\n"), "{rest:?}");
    assert!(!rest.contains("no users yet"), "{rest:?}");
}

#[test]
fn keys_rotate_and_list_show_the_current_and_the_retired_key() {
    let s = TestServer::start();
    let list = |s: &TestServer| -> Value {
        let (code, out, err) = s.cli(&["keys", "list", "--json"], "");
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).expect("keys list --json prints JSON")
    };
    let first = list(&s);
    let old = field(&first[0], "kid");
    assert_eq!(first.as_array().unwrap().len(), 1, "{first}");
    assert_eq!(
        (first[0]["alg"].clone(), first[0]["state"].clone()),
        (json!("RS256"), json!("current"))
    );
    assert_eq!(first[0]["retired"], Value::Null);

    let (code, out, err) = s.cli(&["keys", "rotate"], "");
    assert_eq!(code, 0, "{err}");
    let keys = list(&s);
    let new = field(&keys[0], "kid");
    assert!(
        out.contains(&format!("new signing key {new} is current")),
        "{out}"
    );
    assert!(
        out.contains(&format!("retired {old}: published until")),
        "{out}"
    );
    assert_eq!(keys[0]["state"], "current");
    assert_eq!(
        (field(&keys[1], "kid"), field(&keys[1], "state")),
        (old.clone(), "retired".into())
    );
    let retired = keys[1]["retired"].as_i64().expect("retired at");
    assert_eq!(
        keys[1]["published_until"].as_i64(),
        Some(retired + 3600),
        "id_token_expire_seconds"
    );

    let (code, table, err) = s.cli(&["keys", "list"], "");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "a heading and two keys: {table}");
    assert!(
        lines[0].starts_with("KID") && lines[0].contains("STATE"),
        "{table}"
    );
    assert!(
        lines[1].starts_with(&new) && lines[1].ends_with("current"),
        "{table}"
    );
    assert!(
        lines[2].starts_with(&old) && lines[2].contains("RS256"),
        "{table}"
    );
    assert!(
        lines[2].contains("retired at") && lines[2].contains("published until"),
        "{table}"
    );

    // Only the current key's private half stays in the key file.
    let file: Value = serde_json::from_slice(&std::fs::read(s.key_file_path()).unwrap()).unwrap();
    assert_eq!(kids(&file), [new.as_str()]);
    for listing in [table, s.cli(&["keys", "list", "--json"], "").1] {
        let d = file["keys"][0]["d"].as_str().unwrap();
        assert!(!listing.contains(d), "key material listed: {listing}");
    }

    for bad in [
        &["keys"][..],
        &["keys", "frob"],
        &["keys", "rotate", "now"],
        &["keys", "list", "--yaml"],
    ] {
        let (code, _, err) = s.cli(bad, "");
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
}

/// `oauthd ARGS` in `dir` with `env` set and no flags added: (exit code, stdout, stderr).
fn bare_oauthd(
    dir: &std::path::Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oauthd"))
        .current_dir(dir)
        .env_remove("OAUTHD_DB")
        .env_remove("OAUTHD_CONFIG")
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("run oauthd");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_and_help_answer_on_stdout_and_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--version", "-V"] {
        let (code, out, _) = bare_oauthd(dir.path(), &[], &[flag]);
        assert_eq!(
            (code, out.trim()),
            (0, concat!("oauthd ", env!("CARGO_PKG_VERSION")))
        );
    }
    for flag in ["--help", "-h"] {
        let (code, out, err) = bare_oauthd(dir.path(), &[], &[flag]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.starts_with("usage: oauthd") && out.contains("keys rotate"),
            "{out}"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no database made"
    );
}

#[test]
fn a_command_that_creates_the_database_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--db", "typo.sqlite3", "user", "list"];
    let (code, _, err) = bare_oauthd(dir.path(), &[], &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.trim(),
        "oauthd: created a new, empty database at typo.sqlite3"
    );
    assert!(dir.path().join("typo.sqlite3").exists());
    let (code, _, err) = bare_oauthd(dir.path(), &[], &args);
    assert_eq!((code, err.as_str()), (0, ""), "said only when made");
}

#[test]
fn oauthd_db_and_oauthd_config_stand_in_for_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-env.sqlite3");
    let config = dir.path().join("env.toml");
    std::fs::write(&config, "client_secret_length = 40\n").unwrap();
    let env = [
        ("OAUTHD_DB", db.to_str().unwrap()),
        ("OAUTHD_CONFIG", config.to_str().unwrap()),
    ];
    let add = [
        "app",
        "add",
        "--name",
        "env",
        "--client-type",
        "confidential",
        "--grant",
        "client-credentials",
        "--json",
    ];
    let (code, out, err) = bare_oauthd(dir.path(), &env, &add);
    assert_eq!(code, 0, "{err}");
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        printed["client_secret"].as_str().unwrap().len(),
        40,
        "the config was read"
    );
    let stored = Store::open(&db, Durability::Full).unwrap();
    let id = printed["client_id"].as_str().unwrap();
    assert!(
        stored.find_app_by_client_id(id).unwrap().is_some(),
        "stored in $OAUTHD_DB"
    );
    assert!(!dir.path().join("oauthd.sqlite3").exists());
    // A flag wins over the environment.
    let other = dir.path().join("flag.sqlite3");
    let (code, out, err) = bare_oauthd(
        dir.path(),
        &env,
        &["--db", other.to_str().unwrap(), "app", "list", "--json"],
    );
    assert_eq!((code, out.trim()), (0, "[]"), "{err}");
    let missing = [("OAUTHD_CONFIG", "/nonexistent/oauthd.toml")];
    let (code, _, err) = bare_oauthd(dir.path(), &missing, &["app", "list"]);
    assert_eq!(code, 1, "a named config that is missing stops: {err}");
    assert!(err.contains("/nonexistent/oauthd.toml"), "{err}");
}

#[test]
fn serve_on_an_address_in_use_names_it_and_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("oauthd.sqlite3");
    let (code, out, err) = run_cli(&["--db", path_str(&db), "serve", "--addr", &addr], "");
    assert_eq!(code, 1, "{out} {err}");
    assert!(err.contains(&format!("cannot listen on {addr}:")), "{err}");
    assert!(err.contains("--addr"), "{err}");
    assert!(!out.contains("listening"), "{out}");
}

/// Commands and what only their usage says.
const COMMAND_HELP: [(&[&str], &str); 8] = [
    (&["serve"], "--threads"),
    (&["backup"], "PATH.keys"),
    (&["user", "add"], "--email"),
    (&["user", "disable"], "user enable|disable USERNAME"),
    (&["group", "add"], "--member"),
    (&["app", "add"], "--redirect-uri"),
    (&["keys", "rotate"], "signing key"),
    (&["cleartokens"], "cleartokens"),
];

#[test]
fn every_command_answers_help_with_its_own_usage_only() {
    let dir = tempfile::tempdir().unwrap();
    for (words, own) in COMMAND_HELP {
        for flag in ["--help", "-h"] {
            let args = [words, &[flag]].concat();
            let (code, out, err) = bare_oauthd(dir.path(), &[], &args);
            assert_eq!((code, err.as_str()), (0, ""), "{args:?}");
            let head = format!("usage: oauthd [--db PATH] [--config PATH] {}", words[0]);
            assert!(
                out.starts_with(&head) && out.contains(own),
                "{args:?}: {out}"
            );
            let others = COMMAND_HELP
                .iter()
                .filter(|(w, _)| w.first() != words.first());
            for (other, _) in others {
                assert!(!out.contains(&other.join(" ")), "{args:?}: {out}");
            }
        }
    }
    let (code, out, _) = bare_oauthd(dir.path(), &[], &["app", "--help"]);
    assert_eq!(code, 0);
    for line in ["app add", "app list", "app remove", "app enable|disable"] {
        assert!(out.contains(line), "{out}");
    }
    assert!(!out.contains("keys"), "{out}");
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 0, "help touches no database");
}

#[test]
fn a_mistake_is_one_line_and_its_command_usage() {
    let s = TestServer::start();
    let cases: [(&[&str], &str, &str); 6] = [
        (
            &["app", "add", "--name", "x", "--foo"],
            "app add: unknown flag --foo",
            "app add",
        ),
        (
            &["keys", "list", "--yaml"],
            "keys list: unknown flag --yaml",
            "keys list",
        ),
        (
            &["keys", "frob"],
            "keys: unknown command \"frob\"",
            "keys rotate",
        ),
        (&["frob"], "unknown command \"frob\"", "commands:"),
        (
            &["serve", "--threads", "0"],
            "serve: --threads: \"0\" is not a positive number",
            "serve",
        ),
        (
            &["cleartokens", "now"],
            "cleartokens: unexpected argument \"now\"",
            "cleartokens",
        ),
    ];
    let before = crate::support::dump(&s);
    for (args, line, usage) in cases {
        let (code, out, err) = s.cli(args, "");
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        let (first, rest) = err.split_once('\n').unwrap();
        assert_eq!(first, format!("oauthd: {line}"), "{args:?}");
        assert!(
            rest.starts_with("usage: oauthd") && rest.contains(usage),
            "{args:?}: {rest}"
        );
        let wrong_group = if args[0] == "app" {
            "keys list"
        } else {
            "app add"
        };
        if args[0] != "frob" {
            assert!(!rest.contains(wrong_group), "{args:?}: {rest}");
        }
    }
    assert_eq!(crate::support::dump(&s), before, "nothing changed");
}

#[test]
fn an_empty_path_is_a_usage_error_and_writes_nothing() {
    // `--db "$UNSET"` or `backup "$UNSET"`: SQLite takes "" for a temporary database that
    // vanishes with the command (a user added there was reported made, then lost), and the
    // private keys went to `.keys` in the working directory.
    let s = TestServer::start();
    let cwd = tempfile::tempdir().unwrap();
    let (db, config) = (s.db_path(), s.config_path());
    let (db, config) = (path_str(&db), path_str(&config));
    let add = [
        "app",
        "add",
        "--name",
        "lost",
        "--client-type",
        "confidential",
        "--grant",
        "client-credentials",
    ];
    let cases: [(Vec<&str>, &str, &str); 3] = [
        (
            [&["--db", ""][..], &add].concat(),
            "oauthd: --db needs a path, not \"\"",
            "commands:",
        ),
        (
            [&["--db", db, "--config", ""][..], &add].concat(),
            "oauthd: --config needs a path, not \"\"",
            "commands:",
        ),
        (
            vec!["--db", db, "--config", config, "backup", ""],
            "oauthd: backup: PATH is empty",
            "backup PATH",
        ),
    ];
    let before = crate::support::dump(&s);
    for (args, line, usage) in cases {
        let (code, out, err) = bare_oauthd(cwd.path(), &[], &args);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        let (first, rest) = err.split_once('\n').unwrap();
        assert_eq!(first, line, "{args:?}");
        assert!(
            rest.starts_with("usage: oauthd") && rest.contains(usage),
            "{args:?}: {rest}"
        );
    }
    assert_eq!(crate::support::dump(&s), before, "nothing changed");
    let left: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().collect();
    assert!(left.is_empty(), "no database, no .keys: {left:?}");
}

#[test]
fn a_closed_standard_error_changes_no_exit_code() {
    // `oauthd ... 2>&1 | head -1`: once the reader is gone, writing the message or the
    // security event panicked (exit 101), even after the command had done its work.
    let s = TestServer::start();
    let (db, config) = (s.db_path(), s.config_path());
    let flags = ["--db", path_str(&db), "--config", path_str(&config)];
    let run = |args: &[&str], stdin: &str| {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oauthd"))
            .args([&flags, args].concat())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(writer)
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let _ = std::io::Write::write_all(&mut input, stdin.as_bytes());
        drop(input);
        child.wait().unwrap().code()
    };
    assert_eq!(run(&["app", "update"], ""), Some(2), "a usage error");
    assert_eq!(run(&["user", "remove", "nobody"], ""), Some(1), "a failure");
    assert_eq!(
        run(&["user", "add", "carol"], "carol's password\n"),
        Some(0)
    );
    assert!(s.store().find_user_by_username("carol").unwrap().is_some());
}
