//! Accounts (issue 11): `oauthd user passwd|list|remove`, usernames unique regardless of case,
//! the password change page and the administrator's password reset.

use crate::support::{
    ADMIN_PASSWORD, ALICE_PASSWORD, HOSTILE, LOGIN, TestServer, Tutorial, form_encode, get_as,
    login_form, open_login, post_as, rows, sign_in,
};
use crate::tokens_page::{alice, alice_tokens, assert_login_redirect, hello};
use oauthd::secret::verify_password;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

const NEW_PASSWORD: &str = "new pass \"e'i;--ü";

/// The stored password hash of `username`.
fn hash_of(s: &TestServer, username: &str) -> String {
    s.store()
        .find_user_by_username(username)
        .unwrap()
        .expect("the user exists")
        .password_hash
}

/// A login attempt from a fresh browser: 303 when it worked.
pub fn login_status(s: &TestServer, username: &str, password: &str) -> u16 {
    let (_, anonymous) = open_login(s, "/");
    let form = login_form(&anonymous.csrf, username, password, "/");
    post_as(s, &anonymous, LOGIN, &form).status
}

/// alice's password is now [`NEW_PASSWORD`]: stored, and the only one that logs in.
fn assert_only_the_new_password_works(s: &TestServer) {
    assert!(verify_password(NEW_PASSWORD, &hash_of(s, "alice")));
    assert_eq!(login_status(s, "alice", ALICE_PASSWORD), 200, "refused");
    assert_eq!(login_status(s, "alice", NEW_PASSWORD), 303);
}

/// Introspection of `token` by the tutorial's client.
fn introspect(t: &Tutorial, token: &str) -> Value {
    let form = format!("token={}", form_encode(token));
    let reply = t
        .server
        .post_form("/o/introspect/", &form, Some(t.client.basic()));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

#[test]
fn user_passwd_sets_a_new_password_and_ends_the_users_sessions() {
    let t = Tutorial::new();
    let s = &t.server;
    let browser = alice(s);
    let admin = sign_in(s, "admin", ADMIN_PASSWORD);
    let before = hash_of(s, "alice");

    for (stdin, why) in [("short\n", "at least 8"), ("\n", "empty")] {
        let (code, out, err) = s.cli(&["user", "passwd", "alice"], stdin);
        assert_eq!((code, out.as_str()), (1, ""), "{err}");
        assert!(err.contains(why), "{err}");
    }
    let (code, _, err) = s.cli(&["user", "passwd", "nobody"], "long enough\n");
    assert_eq!(code, 1);
    assert!(err.contains("no user nobody"), "{err}");
    let (code, _, err) = s.cli(&["user", "passwd"], "long enough\n");
    assert_eq!(code, 2, "a usage error: {err}");
    assert_eq!(hash_of(s, "alice"), before, "nothing changed");
    assert_eq!(get_as(s, &browser.cookie, "/").status, 200);

    let stdin = format!("{NEW_PASSWORD}\nnext line\n");
    let (code, out, err) = s.cli(&["user", "passwd", "ALICE"], &stdin);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "changed the password of alice; ended 1 session");
    assert!(!err.contains(NEW_PASSWORD) && !out.contains(NEW_PASSWORD));
    assert_login_redirect(&get_as(s, &browser.cookie, "/"), "/");
    assert_eq!(get_as(s, &admin.cookie, "/").status, 200, "others stay");
    assert_only_the_new_password_works(s);
}

#[test]
fn user_list_shows_every_user_and_no_password() {
    let t = Tutorial::new();
    let s = &t.server;
    let args = [
        "user", "add", "bob", "--email", "b@x.org", "--name", HOSTILE,
    ];
    assert_eq!(s.cli(&args, "long enough\n").0, 0);
    assert_eq!(s.cli(&["user", "disable", "bob"], "").0, 0);

    let (code, out, err) = s.cli(&["user", "list", "--json"], "");
    assert_eq!(code, 0, "{err}");
    let mut listed: Value = serde_json::from_str(&out).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for user in listed.as_array_mut().unwrap() {
        let created = user["created"].take().as_i64().unwrap();
        assert!((now - 600..=now).contains(&created), "{created}");
    }
    let user = |username: &str, admin: bool, active: bool, email: &str, name: &str| {
        json!({"username": username, "admin": admin, "active": active, "email": email,
               "name": name, "created": null})
    };
    assert_eq!(
        listed,
        json!([
            user("admin", true, true, "", ""),
            user("alice", false, true, "", ""),
            user("bob", false, false, "b@x.org", HOSTILE),
        ])
    );

    let (code, out, err) = s.cli(&["user", "list"], "");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("USERNAME"), "{out}");
    let bob: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!(&bob[..3], ["bob", "no", "no"], "{out}");
    assert_eq!(&bob[4..], ["b@x.org", HOSTILE], "{out}");
    assert!(!out.contains("argon2"), "no hash: {out}");
    assert_eq!(s.cli(&["user", "list", "extra"], "").0, 2);
}

#[test]
fn user_remove_ends_their_tokens_and_sessions_and_leaves_their_apps_without_owner() {
    let t = Tutorial::new();
    let s = &t.server;
    let (access, refresh) = alice_tokens(&t);
    let browser = alice(s);
    let (first, second) = (owned_by(s, "one", "alice"), owned_by(s, "two", "alice"));
    assert_eq!(introspect(&t, &access)["active"], json!(true));

    let (code, out, err) = s.cli(&["user", "remove", "alice"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "removed user alice with their sessions and tokens; 2 applications now have no owner"
    );
    let event = err
        .lines()
        .find(|l| l.contains(" security "))
        .unwrap_or(&err);
    assert!(
        event.ends_with(" security cli_command command=\"user remove\" target=\"alice\""),
        "one security event line: {err}"
    );
    assert_eq!(s.store().find_user_by_username("alice").unwrap(), None);
    assert_eq!(introspect(&t, &access), json!({"active": false}));
    assert_eq!(introspect(&t, &refresh), json!({"active": false}));
    assert_eq!(hello(s, &access), 401);
    assert_eq!(t.refresh(&refresh, "").error(), "invalid_grant");
    assert_login_redirect(&get_as(s, &browser.cookie, "/"), "/");
    assert_eq!(rows(s, "sessions WHERE user_id IS NOT NULL"), 0);
    assert_eq!(rows(s, "grants WHERE user_id IS NOT NULL"), 0);
    for client_id in [&first, &second] {
        let app = s.store().find_app_by_client_id(client_id).unwrap().unwrap();
        assert_eq!((app.owner_id, app.usable), (None, true), "{client_id}");
    }
    assert_eq!(login_status(s, "alice", ALICE_PASSWORD), 200, "refused");

    let (code, out, err) = s.cli(&["user", "remove", "alice"], "");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("no user alice"), "{err}");
    assert!(!err.contains(" security "), "a failure is no event: {err}");
    assert_eq!(s.cli(&["user", "remove"], "").0, 2);

    s.add_user("bob", "bob's password", false);
    owned_by(s, "three", "bob");
    let (code, out, err) = s.cli(&["user", "remove", "bob"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "removed user bob with their sessions and tokens; 1 application now has no owner"
    );
}

/// `app add --owner OWNER` of a public password client named `name`; its client id.
fn owned_by(s: &TestServer, name: &str, owner: &str) -> String {
    let words = format!("--name {name} --client-type public --grant password --owner {owner}");
    s.add_app(&words.split_whitespace().collect::<Vec<_>>()).id
}

/// Regression: a disabled user's applications are unusable; removing the user left them
/// without an owner, and so usable again.
#[test]
fn removing_a_disabled_user_keeps_their_apps_off_by_the_administrators_switch() {
    let t = Tutorial::new();
    let s = &t.server;
    let owned = |name: &str| {
        let words = format!("--name {name} --client-type public --grant password --owner alice");
        s.add_app(&words.split_whitespace().collect::<Vec<_>>()).id
    };
    let apps = [owned("one"), owned("two"), owned("three")];
    assert_eq!(s.cli(&["app", "disable", &apps[2]], "").0, 0);
    assert_eq!(s.cli(&["user", "disable", "alice"], "").0, 0);
    let app = |client_id: &str| s.store().find_app_by_client_id(client_id).unwrap().unwrap();
    assert!(
        apps.iter().all(|id| !app(id).usable),
        "off with their owner"
    );

    let (code, out, err) = s.cli(&["user", "remove", "alice"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "removed user alice with their sessions and tokens; 3 applications now have no owner; \
         the user was disabled, so 2 of them are now disabled by the administrator \
         (oauthd app enable CLIENT_ID turns one back on)"
    );
    for client_id in &apps {
        let found = app(client_id);
        let state = (found.owner_id, found.usable, found.disabled_by_admin);
        assert_eq!(state, (None, false, true), "{client_id}");
        assert!(found.fields.enabled, "the owner's switch is left as it was");
    }
    let grant = format!(
        "grant_type=password&username=admin&password={}&client_id={}",
        form_encode(ADMIN_PASSWORD),
        apps[0]
    );
    let refused = s.post_form("/o/token/", &grant, None);
    assert_eq!(refused.error(), "invalid_client", "{}", refused.body);

    assert_eq!(s.cli(&["app", "enable", &apps[0]], "").0, 0);
    assert!(app(&apps[0]).usable && !app(&apps[1]).usable);
    let granted = s.post_form("/o/token/", &grant, None);
    assert_eq!(granted.status, 200, "{}", granted.body);
}

#[test]
fn usernames_are_unique_regardless_of_case_on_every_path() {
    let t = Tutorial::new();
    let s = &t.server;
    let (code, _, err) = s.cli(&["user", "add", "ALICE"], "long enough\n");
    assert_eq!(code, 1);
    assert!(
        err.contains("a user named ALICE already exists (usernames are unique regardless of case)"),
        "{err}"
    );

    let admin = crate::support::field(&t.admin_tokens("&scope=read+write"), "access_token");
    let form = "username=Alice&password=long+enough";
    let reply = s.with_bearer("POST", "/users/", &admin, form);
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({"username": ["A user with that username already exists."]})
    );

    let browser = sign_in(s, "admin", ADMIN_PASSWORD);
    let form = encoded(&[
        ("csrfmiddlewaretoken", browser.csrf.as_str()),
        ("username", "aLiCe"),
        ("password", "long enough"),
        ("password2", "long enough"),
    ]);
    let page = post_as(s, &browser, "/o/admin/users/", &form);
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("That username is taken."));
    assert_eq!(rows(s, "users"), 2, "only admin and alice");

    assert_eq!(login_status(s, "ALICE", ALICE_PASSWORD), 303, "any case");
    let grant = t.password_grant("Alice", ALICE_PASSWORD, "");
    assert_eq!(grant.status, 200, "{}", grant.body);
}

#[test]
fn old_usernames_differing_in_case_are_reported_and_log_in_by_their_exact_name() {
    let t = Tutorial::new();
    let s = &t.server;
    // As a database from before schema version 6 may hold them.
    let conn = rusqlite::Connection::open(s.db_path()).unwrap();
    let alice_hash = hash_of(s, "alice");
    conn.execute_batch("DROP TRIGGER users_username_unique_on_insert")
        .unwrap();
    conn.execute(
        "INSERT INTO users (username, password_hash, created) VALUES ('Alice', ?1, 1)",
        [&alice_hash],
    )
    .unwrap();
    drop(conn);

    let (code, out, err) = s.cli(&["user", "list"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 4, "both listed: {out}");
    assert!(
        err.contains("warning: the usernames Alice, alice differ only in case")
            && err.contains("oauthd user remove"),
        "{err}"
    );
    assert_eq!(login_status(s, "alice", ALICE_PASSWORD), 303);
    assert_eq!(login_status(s, "Alice", ALICE_PASSWORD), 303);
    assert_eq!(login_status(s, "ALICE", ALICE_PASSWORD), 200, "ambiguous");

    let (code, _, err) = s.cli(&["user", "remove", "Alice"], "");
    assert_eq!(code, 0, "{err}");
    let (_, _, err) = s.cli(&["user", "list"], "");
    assert!(!err.contains("warning"), "resolved: {err}");
    assert_eq!(login_status(s, "ALICE", ALICE_PASSWORD), 303);
}

const PASSWORD_CHANGE: &str = "/accounts/password_change/";
const PASSWORD_CHANGE_DONE: &str = "/accounts/password_change/done/";

/// The password change form: the current password and the new one twice.
fn change_form(csrf: &str, old: &str, new1: &str, new2: &str) -> String {
    encoded(&[
        ("csrfmiddlewaretoken", csrf),
        ("old_password", old),
        ("new_password1", new1),
        ("new_password2", new2),
    ])
}

/// A form body with these fields.
fn encoded(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

/// alice's valid change to [`NEW_PASSWORD`].
fn valid_change(csrf: &str) -> String {
    change_form(csrf, ALICE_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
}

#[test]
fn a_user_changes_their_password_and_is_signed_out_everywhere_else() {
    let t = Tutorial::new();
    let s = &t.server;
    let (here, elsewhere) = (alice(s), alice(s));
    let admin = sign_in(s, "admin", ADMIN_PASSWORD);
    let home = get_as(s, &here.cookie, "/");
    assert!(home.body.contains("href=\"/accounts/password_change/\""));
    let page = get_as(s, &here.cookie, PASSWORD_CHANGE);
    assert_eq!(page.status, 200, "{}", page.body);
    for name in ["old_password", "new_password1", "new_password2"] {
        assert!(page.body.contains(&format!("name=\"{name}\"")), "{name}");
    }
    let csrf = crate::support::csrf_in(&page.body);

    let changed = post_as(s, &here, PASSWORD_CHANGE, &valid_change(&csrf));
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(changed.header("Location"), Some(PASSWORD_CHANGE_DONE));
    let cookie = crate::support::session_cookie(&changed);
    assert_ne!(cookie, here.cookie, "a fresh session id");
    let done = get_as(s, &cookie, PASSWORD_CHANGE_DONE);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("Your password was changed."),
        "{}",
        done.body
    );
    assert!(!done.body.contains(&csrf), "and a fresh CSRF token");
    let reload = get_as(s, &cookie, PASSWORD_CHANGE_DONE);
    assert_eq!(reload.status, 200, "a reload posts nothing");
    assert_login_redirect(
        &get_as(s, &here.cookie, PASSWORD_CHANGE_DONE),
        PASSWORD_CHANGE_DONE,
    );
    assert_eq!(get_as(s, &cookie, "/").status, 200, "still signed in here");
    assert_login_redirect(&get_as(s, &here.cookie, "/"), "/");
    assert_login_redirect(&get_as(s, &elsewhere.cookie, "/"), "/");
    assert_eq!(get_as(s, &admin.cookie, "/").status, 200, "others stay");
    assert_eq!(rows(s, "sessions WHERE user_id IS NOT NULL"), 2);
    assert_only_the_new_password_works(s);
}

/// Runs `sql` (a trigger standing in for `oauthd user remove` at an awkward moment) on the
/// server's database through a separate connection.
fn on_the_database(s: &TestServer, sql: &str) {
    let conn = rusqlite::Connection::open(s.db_path()).unwrap();
    conn.execute_batch(sql).unwrap();
}

/// Regression: a user removed while their password change was under way made the new
/// session's foreign key fail, which answered 500; now they are signed out, nothing changed.
#[test]
fn a_password_change_racing_the_users_removal_signs_them_out() {
    let t = Tutorial::new();
    let s = &t.server;
    // Removes alice right after her new hash is written, before her new session starts.
    on_the_database(
        s,
        "CREATE TRIGGER remove_alice AFTER UPDATE OF password_hash ON users
         WHEN NEW.username = 'alice' BEGIN DELETE FROM users WHERE id = NEW.id; END",
    );
    let (here, before) = (alice(s), hash_of(s, "alice"));
    let page = get_as(s, &here.cookie, PASSWORD_CHANGE);
    let csrf = crate::support::csrf_in(&page.body);
    let reply = post_as(s, &here, PASSWORD_CHANGE, &valid_change(&csrf));
    assert_login_redirect(&reply, PASSWORD_CHANGE);
    assert_eq!(reply.header("Set-Cookie"), None);
    on_the_database(s, "DROP TRIGGER remove_alice");
    assert_eq!(hash_of(s, "alice"), before, "rolled back");
    assert_eq!(get_as(s, &here.cookie, "/").status, 200, "nothing ended");
}

/// Regression: a user removed between the password check and the new session made the
/// session's foreign key fail, which answered 500; now it is the ordinary refusal.
#[test]
fn a_login_racing_the_users_removal_is_refused() {
    let t = Tutorial::new();
    let s = &t.server;
    // Removes alice as her session is about to be stored.
    on_the_database(
        s,
        "CREATE TRIGGER remove_alice BEFORE INSERT ON sessions
         WHEN NEW.user_id = (SELECT id FROM users WHERE username = 'alice')
         BEGIN DELETE FROM users WHERE id = NEW.user_id; END",
    );
    let (_, anonymous) = open_login(s, "/");
    let form = login_form(&anonymous.csrf, "alice", ALICE_PASSWORD, "/");
    let reply = post_as(s, &anonymous, LOGIN, &form);
    let refused = reply.body.contains("Please enter a correct username");
    assert!(reply.status == 200 && refused, "{}", reply.body);
    assert_eq!(reply.header("Set-Cookie"), None);
    assert_eq!(rows(s, "sessions"), 0);
    on_the_database(s, "DROP TRIGGER remove_alice");
    assert_eq!(login_status(s, "alice", ALICE_PASSWORD), 303);
}

#[test]
fn a_refused_password_change_shows_why_and_changes_nothing() {
    let t = Tutorial::new();
    let s = &t.server;
    let browser = alice(s);
    let before = crate::support::dump(s);
    let csrf = browser.csrf.as_str();
    let wrong = "Your old password was entered incorrectly.";
    for (form, status, message) in [
        (
            change_form(csrf, "wrong pass", NEW_PASSWORD, NEW_PASSWORD),
            400,
            wrong,
        ),
        (
            change_form(csrf, ALICE_PASSWORD, "short", "short"),
            400,
            "at least 8",
        ),
        (
            change_form(csrf, ALICE_PASSWORD, NEW_PASSWORD, "other one"),
            400,
            "didn't match",
        ),
        (format!("csrfmiddlewaretoken={csrf}"), 400, wrong),
        (
            valid_change("not the token"),
            403,
            "CSRF verification failed",
        ),
        (valid_change(""), 403, "CSRF verification failed"),
    ] {
        let reply = post_as(s, &browser, PASSWORD_CHANGE, &form);
        assert_eq!(reply.status, status, "{form}: {}", reply.body);
        assert!(reply.body.contains(message), "{form}: {}", reply.body);
        assert!(reply.header("Set-Cookie").is_none());
        assert!(!reply.body.contains(ALICE_PASSWORD) && !reply.body.contains(NEW_PASSWORD));
        assert_eq!(crate::support::dump(s), before, "{form}");
    }
    assert_eq!(
        get_as(s, &browser.cookie, "/").status,
        200,
        "still signed in"
    );
    let anonymous = s.request("GET", PASSWORD_CHANGE, &[], b"");
    assert_login_redirect(&anonymous, PASSWORD_CHANGE);
    let put = s.request("PUT", PASSWORD_CHANGE, &[("Cookie", &browser.cookie)], b"");
    assert_eq!(put.status, 405);
    assert!(put.body.contains("<html"), "an HTML page: {}", put.body);
}

#[test]
fn wrong_current_passwords_are_throttled_like_logins() {
    let t = Tutorial::new();
    let s = &t.server;
    let browser = alice(s);
    let wrong = change_form(&browser.csrf, "wrong pass", NEW_PASSWORD, NEW_PASSWORD);
    for _ in 0..oauthd::http::limiter::FREE_TRIES_PER_USERNAME {
        assert_eq!(post_as(s, &browser, PASSWORD_CHANGE, &wrong).status, 400);
    }
    let throttled = post_as(s, &browser, PASSWORD_CHANGE, &valid_change(&browser.csrf));
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    let wait: i64 = throttled.header("Retry-After").unwrap().parse().unwrap();
    assert!(
        throttled.body.contains("Try again in"),
        "{}",
        throttled.body
    );
    assert_eq!(
        login_status(s, "alice", ALICE_PASSWORD),
        429,
        "the login's count"
    );
    let before = hash_of(s, "alice");
    s.advance(wait);
    let done = post_as(s, &browser, PASSWORD_CHANGE, &valid_change(&browser.csrf));
    assert_eq!(done.status, 303, "{}", done.body);
    assert_ne!(hash_of(s, "alice"), before);
}

/// The admin's "set password" path for a user.
fn set_password_path(s: &TestServer, username: &str) -> String {
    let subject = s
        .store()
        .find_user_by_username(username)
        .unwrap()
        .unwrap()
        .subject;
    format!("/o/admin/users/{subject}/password/")
}

/// The "set password" form: the new password twice.
fn set_password_form(csrf: &str, password: &str, again: &str) -> String {
    encoded(&[
        ("csrfmiddlewaretoken", csrf),
        ("password", password),
        ("password2", again),
    ])
}

#[test]
fn the_admin_sets_a_users_password_and_signs_them_out_everywhere() {
    let t = Tutorial::new();
    let s = &t.server;
    let (one, two) = (alice(s), alice(s));
    let admin = sign_in(s, "admin", ADMIN_PASSWORD);
    let alices = set_password_path(s, "alice");
    let page = get_as(s, &admin.cookie, "/o/admin/");
    assert!(page.body.contains(&format!("action=\"{alices}\"")));
    let own = set_password_path(s, "admin");
    assert!(!page.body.contains(&own), "not for their own account");

    let form = set_password_form(&admin.csrf, NEW_PASSWORD, NEW_PASSWORD);
    let reply = post_as(s, &admin, &alices, &form);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let alice = s.store().find_user_by_username("alice").unwrap().unwrap();
    let (subject, id) = (alice.subject, alice.id);
    let location = format!("/o/admin/?password_set={subject}#user-{id}");
    assert_eq!(reply.header("Location"), Some(location.as_str()));
    let page = get_as(s, &admin.cookie, &location);
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Password set; alice is signed out everywhere.")
    );
    let row_id = format!("?password_set={id}");
    for odd in [
        "?password_set=%ZZ",
        "?password_set=x",
        "?password_set=-1",
        &row_id,
    ] {
        let page = get_as(s, &admin.cookie, &format!("/o/admin/{odd}"));
        assert_eq!(page.status, 200, "{odd}");
        assert!(!page.body.contains("Password set;"), "{odd}");
    }
    for browser in [&one, &two] {
        assert_login_redirect(&get_as(s, &browser.cookie, "/"), "/");
    }
    assert_eq!(get_as(s, &admin.cookie, "/").status, 200);
    assert_only_the_new_password_works(s);
}

#[test]
fn a_refused_password_set_by_the_admin_changes_nothing() {
    let t = Tutorial::new();
    let s = &t.server;
    let browser = alice(s);
    let admin = sign_in(s, "admin", ADMIN_PASSWORD);
    let alices = set_password_path(s, "alice");
    let before = crate::support::dump(s);
    let csrf = admin.csrf.as_str();
    let own = set_password_path(s, "admin");
    for (path, form, status, message) in [
        (
            &alices,
            set_password_form(csrf, "short", "short"),
            400,
            "at least 8",
        ),
        (
            &alices,
            set_password_form(csrf, NEW_PASSWORD, "other one"),
            400,
            "didn't match",
        ),
        (
            &alices,
            format!("csrfmiddlewaretoken={csrf}"),
            400,
            "at least 8",
        ),
        (
            &own,
            set_password_form(csrf, NEW_PASSWORD, NEW_PASSWORD),
            400,
            "password change page",
        ),
        (
            &"/o/admin/users/0123456789abcdef0123456789abcdef/password/".to_owned(),
            set_password_form(csrf, NEW_PASSWORD, NEW_PASSWORD),
            404,
            "Not found",
        ),
        (
            &alices,
            set_password_form("wrong", NEW_PASSWORD, NEW_PASSWORD),
            403,
            "CSRF",
        ),
    ] {
        let reply = post_as(s, &admin, path, &form);
        assert_eq!(reply.status, status, "{path} {form}: {}", reply.body);
        assert!(reply.body.contains(message), "{form}: {}", reply.body);
        assert!(!reply.body.contains(NEW_PASSWORD));
        assert_eq!(crate::support::dump(s), before, "{form}");
    }
    let refused = post_as(
        s,
        &admin,
        &alices,
        &set_password_form(csrf, "short", "short"),
    );
    assert!(
        refused.body.contains("<details class=\"reset\" open"),
        "{}",
        refused.body
    );

    let form = set_password_form(&browser.csrf, NEW_PASSWORD, NEW_PASSWORD);
    let by_alice = post_as(s, &browser, &set_password_path(s, "admin"), &form);
    assert_eq!(by_alice.status, 404, "not an administrator");
    let get = get_as(s, &admin.cookie, &alices);
    assert_eq!(get.status, 405);
    assert_eq!(crate::support::dump(s), before);
    assert_eq!(get_as(s, &browser.cookie, "/").status, 200);
}
