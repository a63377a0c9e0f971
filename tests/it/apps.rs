//! DOT's application views over HTTP (`/o/applications/...`): sign-in, register, validation,
//! CSRF, ownership, update, secrets, delete and the owner's enabled switch. Every test checks
//! the status, the page and what the store holds.

use crate::support::{
    ADMIN_PASSWORD, ALICE_PASSWORD, Browser, HOSTILE, Http, Reply, Serving, TestServer, Tutorial,
    allow_and_get_code, dump, field, form_encode, get_as, log_lines, post_as, sign_in, signed_in,
};
use oauthd::model::{Application, ClientType, GrantType};
use oauthd::secret::digest;
use oauthd::store::Holder;

const APPS: &str = "/o/applications/";
const REGISTER: &str = "/o/applications/register/";
const CALLBACK: &str = "https://app.example/cb";
const LOOPBACK: &str = "http://127.0.0.1/cb";
/// Where the valid form's app sends users after logout.
const GOODBYE: &str = "https://app.example/bye?from=app&x=1";
/// A public id that no app has.
const MISSING: &str = "0123456789abcdef0123456789abcdef";
/// RFC 7636 Appendix B.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A form: (field, value) pairs in order; checkbox groups repeat.
type Form = Vec<(&'static str, String)>;

/// The free-text name every app gets: hostile, with markup.
fn app_name() -> String {
    format!("{HOSTILE} <script>alert(1)</script>")
}

/// What maud makes of `text` in the page.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The one valid registration: confidential, authorization-code + client-credentials, two
/// redirect URIs (one per line, as a browser sends a textarea), one post-logout redirect URI,
/// one scope, enabled.
fn valid_form() -> Form {
    vec![
        ("name", app_name()),
        ("client_type", "confidential".into()),
        ("grant_types", "authorization-code".into()),
        ("grant_types", "client-credentials".into()),
        ("redirect_uris", format!("{CALLBACK}\r\n{LOOPBACK}")),
        ("post_logout_redirect_uris", format!("{GOODBYE}\r\n")),
        ("allowed_scopes", "read".into()),
        ("enabled", "on".into()),
    ]
}

/// The valid form as a public authorization-code client, named with 255 characters (the most).
fn public_form() -> Form {
    let longest = "ü".repeat(255);
    let form = with(valid_form(), "client_type", &["public"]);
    with(
        with(form, "grant_types", &["authorization-code"]),
        "name",
        &[&longest],
    )
}

/// `form` with every `key` replaced by `values` (none: the field left out).
fn with(mut form: Form, key: &'static str, values: &[&str]) -> Form {
    form.retain(|(k, _)| *k != key);
    form.extend(values.iter().map(|v| (key, (*v).to_owned())));
    form
}

fn encoded(csrf: &str, form: &Form) -> String {
    let mut all = vec![("csrfmiddlewaretoken", csrf.to_owned())];
    all.extend(form.iter().cloned());
    serde_urlencoded::to_string(all).unwrap()
}

/// Posts `form` with the browser's CSRF token.
fn submit(s: &Http, browser: &Browser, path: &str, form: &Form) -> Reply {
    post_as(s, browser, path, &encoded(&browser.csrf, form))
}

/// Posts only the CSRF token (delete, secret).
fn press(s: &Http, browser: &Browser, path: &str) -> Reply {
    post_as(s, browser, path, &encoded(&browser.csrf, &vec![]))
}

fn page(id: &str, action: &str) -> String {
    match action {
        "" => format!("{APPS}{id}/"),
        _ => format!("{APPS}{id}/{action}/"),
    }
}

/// The text of `<code id="{id}">` on a page.
fn code_in(body: &str, id: &str) -> Option<String> {
    let marker = format!("<code id=\"{id}\">");
    let start = body.find(&marker)? + marker.len();
    Some(body[start..].split("</code>").next()?.to_owned())
}

/// The tutorial's world with alice signed in.
fn world() -> (Tutorial, Browser) {
    let t = Tutorial::new();
    let alice = sign_in(&t.server, "alice", ALICE_PASSWORD);
    (t, alice)
}

fn user_id(s: &TestServer, username: &str) -> i64 {
    s.store()
        .find_user_by_username(username)
        .unwrap()
        .expect("the user")
        .id
}

fn stored(s: &TestServer, id: i64) -> Application {
    s.store().find_app(id).unwrap().expect("the app")
}

/// The page a POST's 303 leads to, opened by the same browser.
fn followed(s: &TestServer, browser: &Browser, reply: &Reply) -> Reply {
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.header("Location").expect("a Location");
    let page = get_as(s, &browser.cookie, location);
    assert_eq!(page.status, 200, "{location}: {}", page.body);
    page
}

/// Registers `form` (which must succeed); returns the stored app and the secret shown once.
fn register(s: &TestServer, browser: &Browser, form: &Form) -> (Application, Option<String>) {
    let reply = followed(s, browser, &submit(s, browser, REGISTER, form));
    let client_id = code_in(&reply.body, "client_id").expect("the client id is shown");
    let app = s
        .store()
        .find_app_by_client_id(&client_id)
        .unwrap()
        .expect("stored under the client id shown");
    (app, code_in(&reply.body, "client_secret"))
}

/// The client_credentials grant with HTTP Basic.
fn client_credentials(s: &TestServer, client_id: &str, secret: &str) -> Reply {
    s.post_form(
        "/o/token/",
        "grant_type=client_credentials",
        Some((client_id, secret)),
    )
}

/// An access token from the client_credentials grant (which must succeed).
fn cc_token(s: &TestServer, client_id: &str, secret: &str) -> String {
    let reply = client_credentials(s, client_id, secret);
    assert_eq!(reply.status, 200, "{}", reply.body);
    field(&reply.json(), "access_token")
}

fn hello(s: &TestServer, token: &str) -> u16 {
    s.with_bearer("GET", "/api/hello", token, "").status
}

/// A code for `app`, approved by `browser`'s user on the consent page (not exchanged).
fn approved_code(s: &TestServer, browser: &Browser, app: &Application) -> String {
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={}&scope=read&state=s1&code_challenge={CHALLENGE}&code_challenge_method=S256",
        app.client_id,
        form_encode(CALLBACK)
    );
    allow_and_get_code(s, browser, &query)
}

#[test]
fn signed_out_visitors_are_sent_to_login_and_back() {
    let t = Tutorial::new();
    let s = &t.server;
    let one_app = format!("{APPS}{MISSING}/?x=a%26b");
    let back_to_it = format!("%2Fo%2Fapplications%2F{MISSING}%2F%3Fx%3Da%2526b");
    for (path, next) in [
        (APPS, "%2Fo%2Fapplications%2F"),
        (REGISTER, "%2Fo%2Fapplications%2Fregister%2F"),
        (&one_app, &back_to_it),
    ] {
        let reply = s.request("GET", path, &[], b"");
        assert_eq!(reply.status, 303, "{path}: {}", reply.body);
        assert_eq!(
            reply.header("Location"),
            Some(format!("/accounts/login/?next={next}").as_str()),
            "{path}"
        );
    }
    let apps = s.store().list_apps(None).unwrap();
    assert_eq!(apps.len(), 1, "only the tutorial's client: {apps:?}");
}

#[test]
fn registering_shows_the_secret_once_and_it_authenticates() {
    let (t, alice) = world();
    let s = &t.server;
    let blank = get_as(s, &alice.cookie, REGISTER);
    assert_eq!(blank.status, 200, "{}", blank.body);
    assert!(blank.body.contains(&format!("action=\"{REGISTER}\"")));
    assert!(blank.body.contains(&alice.csrf));
    let reply = followed(s, &alice, &submit(s, &alice, REGISTER, &valid_form()));
    assert!(reply.body.contains(&escaped(&app_name())), "{}", reply.body);
    assert!(!reply.body.contains("<script>"), "{}", reply.body);
    let client_id = code_in(&reply.body, "client_id").expect("client id shown");
    let secret = code_in(&reply.body, "client_secret").expect("secret shown");
    assert!(secret.len() >= 27, "{secret}");

    let app = s
        .store()
        .find_app_by_client_id(&client_id)
        .unwrap()
        .expect("stored");
    assert_eq!(app.fields.name, app_name());
    assert_eq!(app.fields.client_type, ClientType::Confidential);
    assert_eq!(
        app.fields.grant_types,
        vec![GrantType::AuthorizationCode, GrantType::ClientCredentials]
    );
    assert_eq!(app.fields.redirect_uris, vec![CALLBACK, LOOPBACK]);
    assert_eq!(app.fields.post_logout_redirect_uris, vec![GOODBYE]);
    assert_eq!(app.fields.allowed_scopes.unwrap().to_string(), "read");
    assert!(app.fields.enabled && !app.fields.skip_authorization && !app.disabled_by_admin);
    assert_eq!(app.owner_id, Some(user_id(s, "alice")));
    assert_eq!(app.secret_digest, Some(digest(&secret)));

    for path in [page(&app.public_id, ""), APPS.to_owned()] {
        let later = get_as(s, &alice.cookie, &path);
        assert_eq!(later.status, 200, "{path}");
        assert!(later.body.contains(&escaped(&app_name())), "{path}");
        assert!(!later.body.contains("<script>"), "{path}");
        assert!(
            !later.body.contains(&secret),
            "{path} shows the secret again"
        );
        assert!(code_in(&later.body, "client_secret").is_none(), "{path}");
    }
    let detail = get_as(s, &alice.cookie, &page(&app.public_id, ""));
    assert!(
        detail.body.contains("Post-logout redirect URIs")
            && detail
                .body
                .contains(&format!("<code>{}</code>", escaped(GOODBYE))),
        "{}",
        detail.body
    );
    let token = cc_token(s, &client_id, &secret);
    assert_eq!(hello(s, &token), 200);
    let issued = s.store().find_access_token(&digest(&token)).unwrap();
    assert_eq!(issued.expect("stored").client_id, client_id);
}

/// The handle in a secret page's address.
fn handle_of(location: &str) -> &str {
    location.split_once("?handle=").expect("a handle").1
}

#[test]
fn the_secret_is_shown_once_after_a_redirect_and_a_reload_registers_nothing() {
    let (t, alice) = world();
    let s = &t.server;
    let before = s.store().list_apps(None).unwrap().len();
    let posted = submit(s, &alice, REGISTER, &valid_form());
    assert_eq!(posted.status, 303, "POST-redirect-GET: {}", posted.body);
    let location = posted.header("Location").expect("a Location").to_owned();
    assert!(posted.body.is_empty());
    let apps = s.store().list_apps(None).unwrap();
    assert_eq!(apps.len(), before + 1);
    let app = apps.last().unwrap().clone();
    assert_eq!(
        location,
        format!(
            "{}?handle={}",
            page(&app.public_id, "secret"),
            handle_of(&location)
        )
    );

    // Another session of the same user, a HEAD, or another app's page cannot use it up.
    let elsewhere = sign_in(s, "alice", ALICE_PASSWORD);
    let stranger = get_as(s, &elsewhere.cookie, &location);
    assert_eq!(stranger.status, 200, "{}", stranger.body);
    assert!(
        stranger.body.contains("id=\"secret-gone\""),
        "{}",
        stranger.body
    );
    let head = s.request("HEAD", &location, &[("Cookie", alice.cookie.as_str())], b"");
    assert_eq!(head.status, 405);
    let (other, _) = register(s, &alice, &public_form());
    let wrong_app = format!(
        "{}?handle={}",
        page(&other.public_id, "secret"),
        handle_of(&location)
    );
    let wrong = get_as(s, &alice.cookie, &wrong_app);
    assert!(
        code_in(&wrong.body, "client_secret").is_none(),
        "{}",
        wrong.body
    );

    let shown = get_as(s, &alice.cookie, &location);
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.header("Cache-Control"), Some("no-store"));
    let secret = code_in(&shown.body, "client_secret").expect("the secret, this once");
    assert_eq!(
        code_in(&shown.body, "client_id").as_deref(),
        Some(app.client_id.as_str())
    );
    assert_eq!(stored(s, app.id).secret_digest, Some(digest(&secret)));
    assert!(
        !dump(s).contains(&secret),
        "the database holds only its digest"
    );

    let reload = get_as(s, &alice.cookie, &location);
    assert_eq!(reload.status, 200, "{}", reload.body);
    assert_eq!(reload.header("Cache-Control"), Some("no-store"));
    assert!(!reload.body.contains(&secret), "never again");
    assert!(reload.body.contains("was shown once"), "{}", reload.body);
    assert!(
        reload
            .body
            .contains(&format!("action=\"{}\"", page(&app.public_id, "secret"))),
        "it offers a new one: {}",
        reload.body
    );
    assert_eq!(
        s.store().list_apps(None).unwrap().len(),
        before + 2,
        "only the two registered"
    );
    assert_eq!(
        stored(s, app.id).secret_digest,
        Some(digest(&secret)),
        "nothing changed"
    );
    assert_eq!(hello(s, &cc_token(s, &app.client_id, &secret)), 200);
}

/// A secret page that shows no secret and says it was shown.
fn assert_secret_gone(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let secret = code_in(&reply.body, "client_secret");
    assert!(secret.is_none(), "{}", reply.body);
    assert!(reply.body.contains("was shown once"), "{}", reply.body);
}

/// The row id of the newest session.
fn newest_session(s: &TestServer) -> i64 {
    let conn = rusqlite::Connection::open(s.db_path()).unwrap();
    conn.query_row("SELECT max(id) FROM sessions", [], |r| r.get(0))
        .unwrap()
}

/// Regression: a kept secret was bound to its session's row id, which SQLite gives to the next
/// session once a logout deletes the newest, so that session could take it.
#[test]
fn a_kept_secret_is_not_shown_to_a_later_session_with_the_same_row_id() {
    let (t, alice) = world();
    let s = &t.server;
    let (app, _) = register(s, &alice, &valid_form());
    let posted = press(s, &alice, &page(&app.public_id, "secret"));
    assert_eq!(posted.status, 303, "{}", posted.body);
    let location = posted.header("Location").unwrap().to_owned();
    let newest = newest_session(s);
    let out = post_as(
        s,
        &alice,
        "/accounts/logout/",
        &format!("csrfmiddlewaretoken={}", alice.csrf),
    );
    assert_eq!(out.status, 303, "{}", out.body);
    let later = sign_in(s, "alice", ALICE_PASSWORD);
    assert_eq!(newest_session(s), newest, "SQLite gave the row id again");

    assert_secret_gone(&get_as(s, &later.cookie, &location));
}

/// The handle of a secret page's address is not written to the access log (its query never
/// is), nor is the secret.
#[test]
fn the_secret_pages_handle_stays_out_of_the_access_log() {
    let t = Tutorial::new();
    let log = t.server.dir.path().join("stderr.log");
    let serving = Serving::start_logging(&t.server.db_path(), &[], &log);
    let alice = sign_in(&serving, "alice", ALICE_PASSWORD);
    let posted = submit(&serving, &alice, REGISTER, &valid_form());
    assert_eq!(posted.status, 303, "{}", posted.body);
    let location = posted.header("Location").unwrap().to_owned();
    let handle = handle_of(&location);
    let shown = get_as(&serving, &alice.cookie, &location);
    let secret = code_in(&shown.body, "client_secret").expect("the secret");

    let (lines, text) = log_lines(&log, 1, |line| line.contains("/secret/"));
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("\"GET /o/applications/"), "{text}");
    assert!(
        lines[0].ends_with("ms") && lines[0].contains("/secret/\" 200 "),
        "{text}"
    );
    for kept_out in [handle, "handle=", &secret] {
        assert!(!text.contains(kept_out), "{kept_out}: {text}");
    }
}

#[test]
fn an_unseen_secret_expires_and_someone_elses_page_stays_hidden() {
    let (t, alice) = world();
    let s = &t.server;
    let posted = press(
        s,
        &alice,
        &page(&register(s, &alice, &valid_form()).0.public_id, "secret"),
    );
    assert_eq!(posted.status, 303, "{}", posted.body);
    let location = posted.header("Location").unwrap().to_owned();
    s.add_user("carol", "carol-pass", false);
    let carol = sign_in(s, "carol", "carol-pass");
    assert_eq!(get_as(s, &carol.cookie, &location).status, 404);
    s.advance(301);
    assert_secret_gone(&get_as(s, &alice.cookie, &location));
    for bad in ["?handle=", "?handle=%ZZ", "?x=1&handle=a&handle=b", ""] {
        let path = format!("{}{bad}", location.split('?').next().unwrap());
        let reply = get_as(s, &alice.cookie, &path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(code_in(&reply.body, "client_secret").is_none(), "{path}");
    }
}

#[test]
fn a_public_app_gets_no_secret() {
    let (t, alice) = world();
    let s = &t.server;
    let form = public_form();
    let posted = submit(s, &alice, REGISTER, &form);
    let location = posted.header("Location").unwrap_or_default().to_owned();
    let reply = followed(s, &alice, &posted);
    assert!(
        code_in(&reply.body, "client_secret").is_none(),
        "{}",
        reply.body
    );
    let client_id = code_in(&reply.body, "client_id").unwrap();
    let app = s
        .store()
        .find_app_by_client_id(&client_id)
        .unwrap()
        .unwrap();
    assert_eq!(app.fields.client_type, ClientType::Public);
    assert_eq!(app.fields.name, "ü".repeat(255));
    assert_eq!(app.secret_digest, None);
    assert_eq!(app.fields.grant_types, vec![GrantType::AuthorizationCode]);
    assert_eq!(location, page(&app.public_id, ""), "straight to its page");
}

#[test]
fn bad_forms_come_back_with_errors_beside_fields_and_input_kept() {
    let (t, alice) = world();
    let s = &t.server;
    let long = "n".repeat(256);
    // (field changed, its new values, the field whose error shows, what the error says)
    let cases: [(&str, &[&str], &str, &str); 18] = [
        ("name", &[], "name", "Enter a name."),
        ("name", &["  "], "name", "Enter a name."),
        ("name", &[&long], "name", "at most 255"),
        ("name", &["a\u{7}b"], "name", "control characters"),
        (
            "client_type",
            &["secret"],
            "client_type",
            "confidential or public",
        ),
        ("grant_types", &[], "grant_types", "at least one grant type"),
        ("grant_types", &["magic"], "grant_types", "not a grant type"),
        (
            "client_type",
            &["public"],
            "grant_types",
            "confidential client",
        ),
        (
            "redirect_uris",
            &[],
            "redirect_uris",
            "at least one redirect URI",
        ),
        (
            "redirect_uris",
            &["https://a.example/cb#x"],
            "redirect_uris",
            "fragment",
        ),
        (
            "redirect_uris",
            &["/relative/cb"],
            "redirect_uris",
            "not an absolute URI",
        ),
        (
            "redirect_uris",
            &["ftp://a.example/cb"],
            "redirect_uris",
            "not allowed",
        ),
        (
            "redirect_uris",
            &["javascript:alert(1)"],
            "redirect_uris",
            "not allowed",
        ),
        (
            "post_logout_redirect_uris",
            &["javascript:alert(1)"],
            "post_logout_redirect_uris",
            "not allowed",
        ),
        (
            "post_logout_redirect_uris",
            &["https://app.example/bye#x"],
            "post_logout_redirect_uris",
            "fragment",
        ),
        (
            "post_logout_redirect_uris",
            &["bye.html"],
            "post_logout_redirect_uris",
            "not an absolute URI",
        ),
        (
            "allowed_scopes",
            &[],
            "allowed_scopes",
            "at least one scope",
        ),
        (
            "allowed_scopes",
            &["admin"],
            "allowed_scopes",
            "not a configured scope",
        ),
    ];
    for (key, values, field_name, says) in cases {
        let form = with(valid_form(), key, values);
        let reply = submit(s, &alice, REGISTER, &form);
        let label = format!("{field_name}/{says}");
        assert_eq!(reply.status, 400, "{label}: {}", reply.body);
        let marker = format!("id=\"{field_name}-error\" role=\"alert\">");
        let at = reply
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("{label}: {}", reply.body));
        let message = reply.body[at + marker.len()..]
            .split("</p>")
            .next()
            .unwrap();
        assert!(message.contains(says), "{label}: {message}");
        assert_eq!(
            reply.body.matches("class=\"field-error\"").count(),
            1,
            "{label}"
        );
        assert!(!reply.body.contains("<script>"), "{label}");
        // What the user typed is kept.
        let value = |key: &str| {
            form.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        };
        if let Some(name) = value("name") {
            let shown = format!("name=\"name\" value=\"{}\"", escaped(name));
            assert!(reply.body.contains(&shown), "{label}: name lost");
        }
        for textarea in ["redirect_uris", "post_logout_redirect_uris"] {
            let uris = value(textarea).unwrap_or("");
            let shown = format!("name=\"{textarea}\" rows=\"3\"");
            let at = reply.body.find(&shown).expect("the textarea");
            let content = format!("\">{}</textarea>", escaped(uris));
            assert!(
                reply.body[at..].contains(&content),
                "{label}: {textarea} lost"
            );
        }
        let mut kept = 0;
        for (key, value) in form
            .iter()
            .filter(|(k, _)| !["name", "redirect_uris", "post_logout_redirect_uris"].contains(k))
        {
            let input = format!("name=\"{key}\" value=\"{value}\"");
            if reply.body.contains(&input) {
                let checked = format!("{input} checked>");
                assert!(
                    reply.body.contains(&checked),
                    "{label}: {key}={value} unchecked"
                );
                kept += 1;
            }
        }
        assert!(kept >= 3, "{label}: only {kept} choices shown as kept");
        assert!(
            s.store()
                .list_apps(Some(user_id(s, "alice")))
                .unwrap()
                .is_empty(),
            "{label}: stored"
        );
    }
}

#[test]
fn posts_without_the_csrf_token_change_nothing() {
    let (t, alice) = world();
    let s = &t.server;
    let (app, secret) = register(s, &alice, &valid_form());
    let secret = secret.unwrap();
    let changed = with(valid_form(), "name", &["renamed"]);
    for csrf in [None, Some("wrong"), Some("")] {
        let body = |form: &Form| {
            let mut all: Form = csrf
                .map(|token| vec![("csrfmiddlewaretoken", token.to_owned())])
                .unwrap_or_default();
            all.extend(form.iter().cloned());
            serde_urlencoded::to_string(all).unwrap()
        };
        for (path, form) in [
            (REGISTER.to_owned(), changed.clone()),
            (page(&app.public_id, "update"), changed.clone()),
            (page(&app.public_id, "delete"), vec![]),
            (page(&app.public_id, "secret"), vec![]),
        ] {
            let reply = post_as(s, &alice, &path, &body(&form));
            assert_eq!(reply.status, 403, "{path} {csrf:?}: {}", reply.body);
            assert!(reply.body.contains("CSRF"), "{path}");
        }
    }
    assert_eq!(
        s.store().list_apps(Some(user_id(s, "alice"))).unwrap(),
        vec![app.clone()]
    );
    assert_eq!(stored(s, app.id).secret_digest, Some(digest(&secret)));
}

#[test]
fn someone_elses_app_is_not_found_like_a_missing_one() {
    let (t, alice) = world();
    let s = &t.server;
    s.add_user("carol", "carol-pass", false);
    let (app, _) = register(s, &alice, &valid_form());
    let cli_made = s.store().find_app_by_client_id(&t.client.id).unwrap();
    let cli_made = cli_made.expect("the tutorial's app, made with the CLI");
    let carol = sign_in(s, "carol", "carol-pass");
    let apps = get_as(s, &carol.cookie, APPS);
    assert!(apps.body.contains("No applications yet."), "{}", apps.body);
    for action in ["", "update", "delete"] {
        let foreign = get_as(s, &carol.cookie, &page(&app.public_id, action));
        let absent = get_as(s, &carol.cookie, &page(MISSING, action));
        assert_eq!(foreign.status, 404, "GET {action}: {}", foreign.body);
        assert_eq!(absent.status, 404, "GET {action}");
        assert_eq!(foreign.body, absent.body, "GET {action}");
        assert!(!foreign.body.contains(&app.client_id), "GET {action}");
    }
    let stolen = with(valid_form(), "name", &["stolen"]);
    for (action, form) in [("update", stolen), ("delete", vec![]), ("secret", vec![])] {
        let foreign = submit(s, &carol, &page(&app.public_id, action), &form);
        let absent = submit(s, &carol, &page(MISSING, action), &form);
        assert_eq!(foreign.status, 404, "POST {action}: {}", foreign.body);
        assert_eq!(absent.status, 404, "POST {action}");
        assert_eq!(foreign.body, absent.body, "POST {action}");
        assert!(!foreign.body.contains("client_secret"), "POST {action}");
    }
    let cli_page = get_as(s, &carol.cookie, &page(&cli_made.public_id, "update"));
    assert_eq!(cli_page.status, 404, "{}", cli_page.body);
    assert_eq!(stored(s, app.id), app);
    assert_eq!(stored(s, cli_made.id), cli_made);
}

#[test]
fn a_deleted_apps_stale_buttons_do_not_act_on_a_newer_app_with_its_row_id() {
    let (t, alice) = world();
    let s = &t.server;
    let (old, _) = register(s, &alice, &valid_form());
    assert_eq!(old.public_id.len(), 32, "{}", old.public_id);
    assert!(!page(&old.public_id, "").contains(&format!("/{}/", old.id)));
    let reply = press(s, &alice, &page(&old.public_id, "delete"));
    assert_eq!(reply.status, 303, "{}", reply.body);
    let (new, _) = register(s, &alice, &valid_form());
    assert_eq!(new.id, old.id, "SQLite gave the newest row id out again");
    assert_ne!(new.public_id, old.public_id);

    // Buttons and links on pages opened before the delete.
    let stale = with(valid_form(), "name", &["stale"]);
    let admin = signed_in(s);
    for (path, form) in [
        (page(&old.public_id, "update"), stale),
        (page(&old.public_id, "delete"), vec![]),
        (page(&old.public_id, "secret"), vec![]),
        (format!("/o/admin/apps/{}/disable/", old.public_id), vec![]),
    ] {
        for who in [&alice, &admin] {
            let reply = submit(s, who, &path, &form);
            assert_eq!(reply.status, 404, "POST {path}: {}", reply.body);
        }
        let shown = get_as(s, &alice.cookie, &path);
        assert!(shown.status == 404 || shown.status == 405, "GET {path}");
    }
    for numbered in [
        format!("{APPS}{}/", old.id),
        format!("{APPS}{}/delete/", old.id),
    ] {
        let reply = submit(s, &alice, &numbered, &vec![]);
        assert!(
            reply.status == 404 || reply.status == 405,
            "{numbered}: {}",
            reply.status
        );
        assert_eq!(
            get_as(s, &alice.cookie, &numbered).status,
            404,
            "{numbered}"
        );
    }
    assert_eq!(stored(s, new.id), new, "the newer app is untouched");
}

#[test]
fn an_administrator_edits_anyones_app_and_one_the_cli_made() {
    let (t, alice) = world();
    let s = &t.server;
    let (alices, _) = register(s, &alice, &valid_form());
    let cli_made = s.store().find_app_by_client_id(&t.client.id).unwrap();
    let cli_made = cli_made.expect("the tutorial's app, made with the CLI");
    assert_eq!(cli_made.owner_id, None, "nobody owns it");
    let admin = signed_in(s);
    let admin_page = get_as(s, &admin.cookie, "/o/admin/");
    for found in [&alices, &cli_made] {
        let link = format!("href=\"{}\"", page(&found.public_id, ""));
        assert!(
            admin_page.body.contains(&link),
            "{link}: {}",
            admin_page.body
        );
        let detail = get_as(s, &admin.cookie, &page(&found.public_id, ""));
        assert_eq!(detail.status, 200, "{}", detail.body);
        assert!(detail.body.contains(&found.client_id));
        let form = get_as(s, &admin.cookie, &page(&found.public_id, "update"));
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains(&escaped(&found.fields.name)));

        let renamed = format!("{HOSTILE} by the admin");
        let changed = with(
            with(valid_form(), "name", &[&renamed]),
            "skip_authorization",
            &["on"],
        );
        let reply = submit(s, &admin, &page(&found.public_id, "update"), &changed);
        assert_eq!(reply.status, 303, "{}", reply.body);
        let after = stored(s, found.id);
        assert_eq!(after.fields.name, renamed);
        assert!(
            after.fields.skip_authorization,
            "the administrator's to set"
        );
        assert_eq!(after.owner_id, found.owner_id, "the owner stays");
        assert_eq!(after.secret_digest, found.secret_digest, "the secret stays");
    }
    // Its owner still sees it; the tutorial's client still works with its secret.
    let mine = get_as(s, &alice.cookie, APPS);
    assert!(
        mine.body.contains(&page(&alices.public_id, "")),
        "{}",
        mine.body
    );
    let secret = t.client.secret.as_deref().expect("confidential");
    assert_eq!(client_credentials(s, &t.client.id, secret).status, 200);

    let reply = press(s, &admin, &page(&cli_made.public_id, "delete"));
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(stored_or_none(s, cli_made.id), None);
    assert_eq!(client_credentials(s, &t.client.id, secret).status, 401);
}

fn stored_or_none(s: &TestServer, id: i64) -> Option<Application> {
    s.store().find_app(id).unwrap()
}

#[test]
fn update_saves_the_changes_and_goes_to_the_detail_page() {
    let (t, alice) = world();
    let s = &t.server;
    let (app, _) = register(s, &alice, &valid_form());
    let form = get_as(s, &alice.cookie, &page(&app.public_id, "update"));
    assert_eq!(form.status, 200);
    assert!(
        form.body
            .contains(&format!("value=\"{}\"", escaped(&app_name())))
    );
    assert!(
        form.body
            .contains(&format!(">{}</textarea>", escaped(GOODBYE))),
        "the post-logout URI is in its textarea: {}",
        form.body
    );
    let new_name = format!("{HOSTILE} v2");
    let changed = with(
        with(
            with(valid_form(), "name", &[&new_name]),
            "redirect_uris",
            &["https://new.example/cb"],
        ),
        "allowed_scopes",
        &["read", "write"],
    );
    let reply = submit(s, &alice, &page(&app.public_id, "update"), &changed);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        reply.header("Location"),
        Some(page(&app.public_id, "").as_str())
    );
    let after = stored(s, app.id);
    assert_eq!(after.fields.name, new_name);
    assert_eq!(after.fields.redirect_uris, vec!["https://new.example/cb"]);
    assert_eq!(after.fields.post_logout_redirect_uris, vec![GOODBYE]);
    assert_eq!(
        after.fields.allowed_scopes.as_ref().unwrap().to_string(),
        "read write"
    );
    assert_eq!(after.secret_digest, app.secret_digest, "the secret is kept");
    let detail = get_as(s, &alice.cookie, &page(&app.public_id, ""));
    assert!(detail.body.contains(&escaped(&new_name)), "{}", detail.body);
    assert!(detail.body.contains("https://new.example/cb"));

    for (field, bad_uri) in [
        ("redirect_uris", "https://new.example/cb#frag"),
        ("post_logout_redirect_uris", "javascript:alert(1)"),
    ] {
        let bad = with(changed.clone(), field, &[bad_uri]);
        let reply = submit(s, &alice, &page(&app.public_id, "update"), &bad);
        assert_eq!(reply.status, 400, "{field}: {}", reply.body);
        let body = &reply.body;
        assert!(body.contains(&format!("id=\"{field}-error\"")), "{body}");
        assert!(body.contains(&format!(">{bad_uri}</textarea>")), "{body}");
        assert!(body.contains(&format!("action=\"{}\"", page(&app.public_id, "update"))));
        assert!(body.contains(&format!("value=\"{}\"", escaped(&new_name))));
        assert_eq!(stored(s, app.id), after, "{field}: nothing stored");
    }

    let two = with(
        changed.clone(),
        "post_logout_redirect_uris",
        &["https://new.example/bye\r\nhttp://127.0.0.1/bye"],
    );
    assert_eq!(
        submit(s, &alice, &page(&app.public_id, "update"), &two).status,
        303
    );
    assert_eq!(
        stored(s, app.id).fields.post_logout_redirect_uris,
        vec!["https://new.example/bye", "http://127.0.0.1/bye"]
    );
    let none = with(changed, "post_logout_redirect_uris", &[]);
    assert_eq!(
        submit(s, &alice, &page(&app.public_id, "update"), &none).status,
        303
    );
    assert!(
        stored(s, app.id)
            .fields
            .post_logout_redirect_uris
            .is_empty(),
        "they are optional"
    );
}

#[test]
fn only_administrators_set_skip_authorization() {
    let (t, alice) = world();
    let s = &t.server;
    let skip = with(valid_form(), "skip_authorization", &["on"]);
    let (alices, _) = register(s, &alice, &skip);
    assert!(
        !alices.fields.skip_authorization,
        "alice cannot set it on register"
    );
    let reply = submit(s, &alice, &page(&alices.public_id, "update"), &skip);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(
        !stored(s, alices.id).fields.skip_authorization,
        "nor on update"
    );

    let admin = sign_in(s, "admin", ADMIN_PASSWORD);
    let (admins, _) = register(s, &admin, &valid_form());
    assert!(!admins.fields.skip_authorization);
    let reply = submit(s, &admin, &page(&admins.public_id, "update"), &skip);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(
        stored(s, admins.id).fields.skip_authorization,
        "the admin sets it"
    );
    let reply = submit(s, &admin, &page(&admins.public_id, "update"), &valid_form());
    assert_eq!(reply.status, 303);
    assert!(
        !stored(s, admins.id).fields.skip_authorization,
        "and clears it"
    );
}

#[test]
fn changing_the_client_type_makes_or_drops_the_secret() {
    let (t, alice) = world();
    let s = &t.server;
    let public = public_form();
    let (app, none) = register(s, &alice, &public);
    assert_eq!((none, app.secret_digest), (None, None));

    let confidential = with(valid_form(), "client_type", &["confidential"]);
    let reply = followed(
        s,
        &alice,
        &submit(s, &alice, &page(&app.public_id, "update"), &confidential),
    );
    let secret = code_in(&reply.body, "client_secret").expect("a new secret, shown once");
    let after = stored(s, app.id);
    assert_eq!(after.fields.client_type, ClientType::Confidential);
    assert_eq!(after.secret_digest, Some(digest(&secret)));
    let detail = get_as(s, &alice.cookie, &page(&app.public_id, ""));
    assert!(!detail.body.contains(&secret));
    assert_eq!(hello(s, &cc_token(s, &app.client_id, &secret)), 200);

    let reply = submit(s, &alice, &page(&app.public_id, "update"), &public);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let after = stored(s, app.id);
    assert_eq!(after.fields.client_type, ClientType::Public);
    assert_eq!(after.secret_digest, None);
    assert_eq!(client_credentials(s, &app.client_id, &secret).status, 401);
}

#[test]
fn a_new_secret_retires_the_old_one_at_once() {
    let (t, alice) = world();
    let s = &t.server;
    let (app, old) = register(s, &alice, &valid_form());
    let old = old.unwrap();
    let reply = followed(
        s,
        &alice,
        &press(s, &alice, &page(&app.public_id, "secret")),
    );
    let new = code_in(&reply.body, "client_secret").expect("the new secret");
    assert_ne!(new, old);
    assert_eq!(stored(s, app.id).secret_digest, Some(digest(&new)));
    let refused = client_credentials(s, &app.client_id, &old);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.error(), "invalid_client");
    assert_eq!(hello(s, &cc_token(s, &app.client_id, &new)), 200);
    assert!(
        !get_as(s, &alice.cookie, &page(&app.public_id, ""))
            .body
            .contains(&new)
    );

    let public = public_form();
    let (public_app, _) = register(s, &alice, &public);
    let reply = press(s, &alice, &page(&public_app.public_id, "secret"));
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(code_in(&reply.body, "client_secret").is_none());
    assert_eq!(stored(s, public_app.id).secret_digest, None);
}

#[test]
fn deleting_removes_the_app_with_its_tokens_and_codes() {
    let (t, alice) = world();
    let s = &t.server;
    let (app, secret) = register(s, &alice, &valid_form());
    let token = cc_token(s, &app.client_id, &secret.unwrap());
    let code = approved_code(s, &alice, &app);
    assert!(s.store().find_code(&digest(&code)).unwrap().is_some());

    let confirm = get_as(s, &alice.cookie, &page(&app.public_id, "delete"));
    assert_eq!(confirm.status, 200);
    assert!(
        confirm
            .body
            .contains(&format!("Delete {}?", escaped(&app_name()))),
        "{}",
        confirm.body
    );
    assert!(!confirm.body.contains("<script>"));
    assert!(
        s.store().find_app(app.id).unwrap().is_some(),
        "GET deletes nothing"
    );

    let reply = press(s, &alice, &page(&app.public_id, "delete"));
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.header("Location"), Some(APPS));
    let store = s.store();
    assert!(store.find_app(app.id).unwrap().is_none());
    assert!(store.find_access_token(&digest(&token)).unwrap().is_none());
    assert!(store.find_code(&digest(&code)).unwrap().is_none());
    let views = store.token_views(Holder::Anyone, 100).unwrap();
    assert!(views.iter().all(|v| v.application_id != app.id));
    assert_eq!(hello(s, &token), 401);
    assert_eq!(
        get_as(s, &alice.cookie, &page(&app.public_id, "")).status,
        404
    );
    assert!(
        !get_as(s, &alice.cookie, APPS)
            .body
            .contains(&escaped(&app_name()))
    );
}

#[test]
fn the_owner_disables_but_cannot_undo_an_administrators_disable() {
    let (t, alice) = world();
    let s = &t.server;
    let (app, secret) = register(s, &alice, &valid_form());
    let secret = secret.unwrap();
    let token = cc_token(s, &app.client_id, &secret);
    let off = with(valid_form(), "enabled", &[]);
    let reply = submit(s, &alice, &page(&app.public_id, "update"), &off);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(!stored(s, app.id).fields.enabled);
    assert_eq!(hello(s, &token), 401);
    assert_eq!(client_credentials(s, &app.client_id, &secret).status, 401);
    assert!(
        get_as(s, &alice.cookie, APPS)
            .body
            .contains("Disabled by its owner")
    );

    let reply = submit(s, &alice, &page(&app.public_id, "update"), &valid_form());
    assert_eq!(reply.status, 303);
    assert!(
        stored(s, app.id).fields.enabled,
        "the owner's own disable is theirs to undo"
    );
    assert_eq!(hello(s, &token), 200);

    assert!(s.store().set_app_enabled(app.id, false).unwrap());
    let reply = submit(s, &alice, &page(&app.public_id, "update"), &valid_form());
    assert_eq!(reply.status, 303, "{}", reply.body);
    let after = stored(s, app.id);
    assert!(
        !after.usable && after.disabled_by_admin && after.fields.enabled,
        "{after:?}"
    );
    assert_eq!(hello(s, &token), 401);
    let form = get_as(s, &alice.cookie, &page(&app.public_id, "update"));
    assert!(
        form.body.contains("an administrator has disabled it"),
        "{}",
        form.body
    );
}

#[test]
fn only_checkbox_groups_may_repeat() {
    let (t, alice) = world();
    let s = &t.server;
    let (app, _) = register(s, &alice, &valid_form());
    for key in [
        "name",
        "client_type",
        "redirect_uris",
        "post_logout_redirect_uris",
        "enabled",
    ] {
        let value = valid_form().into_iter().find(|(k, _)| *k == key).unwrap().1;
        let mut twice = with(valid_form(), key, &[&value, "other"]);
        twice.sort_by_key(|(k, _)| *k);
        let reply = submit(s, &alice, REGISTER, &twice);
        assert_eq!(reply.status, 400, "{key}: {}", reply.body);
        let reply = submit(s, &alice, &page(&app.public_id, "update"), &twice);
        assert_eq!(reply.status, 400, "{key} on update: {}", reply.body);
    }
    assert_eq!(
        s.store().list_apps(Some(user_id(s, "alice"))).unwrap(),
        vec![app]
    );
}

#[test]
fn only_administrators_allow_admin_scopes_and_an_owner_keeps_what_they_set() {
    let (t, alice) = world();
    let s = &t.server;
    // `introspection` is configured, so it is an admin scope by default.
    let asks = with(valid_form(), "allowed_scopes", &["read", "introspection"]);
    let reply = submit(s, &alice, REGISTER, &asks);
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("Only an administrator can allow the scope &quot;introspection&quot;."),
        "{}",
        reply.body
    );
    assert_eq!(
        s.store().list_apps(None).unwrap().len(),
        1,
        "only the tutorial's"
    );
    let blank = get_as(s, &alice.cookie, REGISTER);
    assert!(
        blank.body.contains("value=\"introspection\" disabled>"),
        "offered to alice only as a disabled box: {}",
        blank.body
    );

    // An administrator gave alice's app every scope (no --scopes): her saves keep that.
    let given = s.add_app(&[
        "--name",
        "given",
        "--client-type",
        "confidential",
        "--grant",
        "client-credentials",
        "--owner",
        "alice",
    ]);
    let given = s.store().find_app_by_client_id(&given.id).unwrap().unwrap();
    let (id, public_id) = (given.id, given.public_id);
    let every_offered = with(
        with(
            valid_form(),
            "allowed_scopes",
            &[
                "read",
                "write",
                "groups",
                "openid",
                "profile",
                "email",
                "offline_access",
            ],
        ),
        "grant_types",
        &["client-credentials"],
    );
    let reply = submit(s, &alice, &page(&public_id, "update"), &every_offered);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        stored(s, id).fields.allowed_scopes,
        None,
        "still every scope"
    );
    let narrower = with(every_offered, "allowed_scopes", &["read"]);
    let reply = submit(s, &alice, &page(&public_id, "update"), &narrower);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let scopes = stored(s, id).fields.allowed_scopes.unwrap().to_string();
    assert_eq!(scopes, "introspection read", "the admin's scope stays");
}

#[test]
fn page_errors_are_pages() {
    let (t, alice) = world();
    let s = &t.server;
    let reply = s.request("PUT", REGISTER, &[("Cookie", alice.cookie.as_str())], b"");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("Allow"), Some("GET, HEAD, POST"));
    assert!(
        reply.body.contains("<h1>Method not allowed</h1>"),
        "{}",
        reply.body
    );
    for path in [
        "/o/admin/users/1/",
        "/o/applications/1/nope/",
        "/o/authorized_tokens/x/",
    ] {
        let reply = get_as(s, &alice.cookie, path);
        assert_eq!(reply.status, 404, "{path}");
        assert!(
            reply.body.contains("<h1>Not found</h1>"),
            "{path}: {}",
            reply.body
        );
    }
}
