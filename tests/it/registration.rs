//! RFC 7591 dynamic client registration at `/o/register/` (docs/security.md rules 66–69): off
//! by default; `open` and `token` modes; what a registered client can then do; every refusal
//! stores nothing; a flood from one address is refused while another still registers; the
//! admin page marks registered apps; the `registration-token` commands.

use crate::browser::{launch, screenshot};
use crate::browser_pages::{fits_the_phone, go, log_in, phone_width, text_of};
use crate::support::{
    ADMIN_PASSWORD, HOSTILE, Reply, TestServer, Tutorial, allow_and_get_code, assert_error, field,
    form_encode, get_as, rows, sign_in,
};
use oauthd::model::Application;
use serde_json::{Value, json};

const REGISTER: &str = "/o/register/";
const METADATA: &str = "/.well-known/oauth-authorization-server";
const CALLBACK: &str = "http://127.0.0.1:4711/callback";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The per-address budget of registration requests in an hour (src/http/request_rate.rs).
const BUDGET: usize = 30;

/// An MCP client's registration request: public, code flow with refresh.
fn public_request() -> Value {
    json!({
        "client_name": format!("{HOSTILE} MCP client"),
        "redirect_uris": [CALLBACK],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "read write",
        "logo_uri": "https://client.example/logo.png",
    })
}

/// The public request with one field changed (`Value::Null` removes it).
fn public_request_with(name: &str, value: Value) -> Value {
    let mut request = public_request();
    let object = request.as_object_mut().unwrap();
    if value.is_null() {
        object.remove(name);
    } else {
        object.insert(name.into(), value);
    }
    request
}

/// A POST of `body` as JSON, with these extra headers.
fn register_raw(s: &TestServer, body: &[u8], extra: &[(&str, &str)]) -> Reply {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    s.request("POST", REGISTER, &headers, body)
}

fn register(s: &TestServer, request: &Value, extra: &[(&str, &str)]) -> Reply {
    register_raw(s, request.to_string().as_bytes(), extra)
}

/// A server with the tutorial's world and these registration settings.
fn tutorial_with(settings: &str) -> Tutorial {
    Tutorial::with_server(TestServer::with_extra_settings(settings))
}

/// The application a client registered as public: stored, marked as registered, without
/// owner or secret.
pub fn stored_public_registration(s: &TestServer, client_id: &str) -> Application {
    let app = s.store().find_app_by_client_id(client_id).unwrap();
    let app = app.expect("the registered application is stored");
    assert!(app.dynamically_registered);
    assert_eq!(app.owner_id, None);
    assert_eq!(app.secret_digest, None);
    assert_eq!(app.fields.client_type.as_str(), "public");
    app
}

/// The applications stored, the tutorial's own client included.
fn apps(s: &TestServer) -> i64 {
    rows(s, "applications")
}

#[test]
fn off_by_default_the_endpoint_is_an_unknown_path_and_unlisted() {
    let t = Tutorial::new();
    let s = &t.server;
    let metadata = s.request("GET", METADATA, &[], b"");
    assert_eq!(metadata.status, 200);
    assert!(metadata.json().get("registration_endpoint").is_none());
    let before = apps(s);
    let refused = register(s, &public_request(), &[]);
    assert_eq!(refused.status, 404, "{}", refused.body);
    assert_eq!(
        refused.json()["detail"],
        "Not found.",
        "like any unknown path"
    );
    assert_eq!(apps(s), before);
}

#[test]
fn an_open_server_registers_a_public_client_that_runs_the_code_flow() {
    let t = tutorial_with("registration = \"open\"");
    let s = &t.server;
    let metadata = s.request("GET", METADATA, &[], b"").json();
    let endpoint = format!("{}{REGISTER}", s.base);
    assert_eq!(metadata["registration_endpoint"], endpoint.as_str());

    let reply = register(s, &public_request(), &[]);
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    let answer = reply.json();
    let client_id = field(&answer, "client_id");
    assert_eq!(answer["client_name"], format!("{HOSTILE} MCP client"));
    assert_eq!(answer["token_endpoint_auth_method"], "none");
    assert_eq!(answer["redirect_uris"], json!([CALLBACK]));
    assert_eq!(
        answer["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(answer["response_types"], json!(["code"]));
    assert_eq!(answer["scope"], "read write");
    assert_eq!(answer["client_id_issued_at"], s.now());
    assert!(answer.get("client_secret").is_none(), "a public client");
    assert!(
        answer.get("logo_uri").is_none(),
        "unknown fields are ignored"
    );

    let app = stored_public_registration(s, &client_id);
    assert!(!app.fields.skip_authorization);

    // The user signs in and allows; the client redeems the code with its verifier alone.
    let alice = sign_in(s, "alice", crate::support::ALICE_PASSWORD);
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=read&state=s&code_challenge={CHALLENGE}&code_challenge_method=S256",
        form_encode(CALLBACK)
    );
    let code = allow_and_get_code(s, &alice, &query);
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&client_id={client_id}&code_verifier={VERIFIER}",
        form_encode(CALLBACK)
    );
    let tokens = s.post_form("/o/token/", &form, None);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let access = field(&tokens.json(), "access_token");
    assert!(tokens.json().get("refresh_token").is_some());
    let hello = s.with_bearer("GET", "/api/hello", &access, "");
    assert_eq!(hello.status, 200, "{}", hello.body);
    let grants = format!("grants WHERE application_id = {}", app.id);
    assert_eq!(rows(s, &grants), 1);
}

#[test]
fn a_confidential_client_gets_its_secret_once_and_authenticates_with_it() {
    let t = tutorial_with("registration = \"open\"");
    let s = &t.server;
    let request = json!({"redirect_uris": [CALLBACK], "client_name": "Notes"});
    let reply = register(s, &request, &[]);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(answer["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(answer["client_secret_expires_at"], 0);
    let client_id = field(&answer, "client_id");
    let secret = field(&answer, "client_secret");
    let app = s
        .store()
        .find_app_by_client_id(&client_id)
        .unwrap()
        .unwrap();
    assert_eq!(
        app.secret_digest,
        Some(oauthd::secret::digest(&secret)),
        "only the SHA-256 is stored"
    );
    assert!(!crate::support::dump(s).contains(&secret));
    let default_scopes = app.fields.allowed_scopes.unwrap().to_string();
    assert!(
        !default_scopes.contains("introspection"),
        "{default_scopes}"
    );

    let alice = sign_in(s, "alice", crate::support::ALICE_PASSWORD);
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=read&state=s",
        form_encode(CALLBACK)
    );
    let code = allow_and_get_code(s, &alice, &query);
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        form_encode(CALLBACK)
    );
    let wrong = s.post_form("/o/token/", &form, Some((&client_id, "wrong")));
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    let tokens = s.post_form("/o/token/", &form, Some((&client_id, &secret)));
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let refused = s.post_form(
        "/o/token/",
        "grant_type=client_credentials",
        Some((&client_id, &secret)),
    );
    assert_error(&refused, 400, "unauthorized_client");
}

/// RFC 6750 §3.1: no error code when no bearer token was sent.
const BARE_CHALLENGE: &str = "Bearer realm=\"oauthd\"";

/// A 401 of `invalid_token` in the endpoint's OAuth JSON, speaking of the initial access
/// token, with a Bearer challenge of `error="invalid_token"`.
fn assert_invalid_token(reply: &Reply) {
    assert_refused_token(reply);
    let challenge = reply.header("WWW-Authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer realm=\"oauthd\", error=\"invalid_token\""),
        "{challenge}"
    );
}

/// A 401 whose body is OAuth JSON of `invalid_token` about the initial access token.
fn assert_refused_token(reply: &Reply) {
    assert_error(reply, 401, "invalid_token");
    let description = field(&reply.json(), "error_description");
    assert!(
        description.contains("initial access token"),
        "{description}"
    );
}

/// `registration-token add` with these flags: the token, and its id and expiry as listed.
fn add_registration_token(s: &TestServer, flags: &[&str]) -> (String, i64, Option<i64>) {
    let (code, out, err) = s.cli(&[&["registration-token", "add"], flags].concat(), "");
    assert_eq!(code, 0, "{err}");
    let token = out.lines().next().unwrap().to_owned();
    let (code, listed, err) = s.cli(&["registration-token", "list", "--json"], "");
    assert_eq!(code, 0, "{err}");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let last = listed.as_array().unwrap().last().unwrap().clone();
    (
        token,
        last["id"].as_i64().unwrap(),
        last["expires"].as_i64(),
    )
}

#[test]
fn the_token_mode_needs_a_live_initial_access_token_and_takes_a_use() {
    let t = tutorial_with("registration = \"token\"");
    let s = &t.server;
    let (once, _, _) = add_registration_token(s, &["--uses", "1"]);
    let (for_a_minute, _, expires) = add_registration_token(s, &["--expires-in", "60"]);
    // The command ran on the system clock; the server's is injected.
    let expires = expires.expect("an expiry");
    let (removed, removed_id, _) = add_registration_token(s, &[]);
    let before = apps(s);
    let bearer = |token: &str| format!("Bearer {token}");

    for no_token in [vec![], vec![("Authorization", "Basic YTpi")]] {
        let missing = register(s, &public_request(), &no_token);
        assert_refused_token(&missing);
        assert_eq!(missing.header("WWW-Authenticate"), Some(BARE_CHALLENGE));
    }
    let wrong = register(
        s,
        &public_request(),
        &[("Authorization", "Bearer not-a-token")],
    );
    assert_invalid_token(&wrong);
    let malformed = register(s, &public_request(), &[("Authorization", "Bearer a b")]);
    assert_invalid_token(&malformed);
    let bad_metadata = register(
        s,
        &public_request_with("redirect_uris", json!(["javascript:alert(1)"])),
        &[("Authorization", &bearer(&once))],
    );
    assert_error(&bad_metadata, 400, "invalid_redirect_uri");
    assert_eq!(apps(s), before, "nothing stored");
    let uses_left = "SELECT uses_left FROM registration_tokens ORDER BY id LIMIT 1";
    let conn = rusqlite::Connection::open(s.db_path()).unwrap();
    let left = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row(uses_left, [], |r| r.get(0)).unwrap()
    };
    assert_eq!(left(&conn), 1, "a refused registration takes no use");

    let first = register(s, &public_request(), &[("Authorization", &bearer(&once))]);
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(left(&conn), 0);
    let used_up = register(s, &public_request(), &[("Authorization", &bearer(&once))]);
    assert_invalid_token(&used_up);

    // docs/security.md rule 67: a removed token stops working at once.
    let (code, _, err) = s.cli(
        &["registration-token", "remove", &removed_id.to_string()],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let gone = register(
        s,
        &public_request(),
        &[("Authorization", &bearer(&removed))],
    );
    assert_invalid_token(&gone);

    // Live while `expires > now`: the last second works, the next does not.
    s.advance(expires - s.now() - 1);
    let last_second = register(
        s,
        &public_request(),
        &[("Authorization", &bearer(&for_a_minute))],
    );
    assert_eq!(last_second.status, 201, "{}", last_second.body);
    s.advance(1);
    assert_eq!(s.now(), expires);
    let expired = register(
        s,
        &public_request(),
        &[("Authorization", &bearer(&for_a_minute))],
    );
    assert_invalid_token(&expired);
    assert_eq!(apps(s), before + 2);
}

#[test]
fn concurrent_registrations_with_the_last_use_of_a_token_have_one_winner() {
    let t = tutorial_with("registration = \"token\"");
    let s = std::sync::Arc::new(t.server);
    let (code, out, err) = s.cli(&["registration-token", "add", "--uses", "1"], "");
    assert_eq!(code, 0, "{err}");
    let bearer = format!("Bearer {}", out.lines().next().unwrap());
    let before = apps(&s);
    let racers = 8;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(racers));
    let handles: Vec<_> = (0..racers)
        .map(|_| {
            let (s, bearer, barrier) = (s.clone(), bearer.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                register(&s, &public_request(), &[("Authorization", &bearer)]).status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    statuses.sort_unstable();
    let mut expected = vec![401; racers - 1];
    expected.insert(0, 201);
    assert_eq!(statuses, expected);
    assert_eq!(apps(&s), before + 1);
    let used_up = "registration_tokens WHERE uses_left = 0";
    assert_eq!(rows(&s, used_up), 1);
}

#[test]
fn every_refusal_has_its_error_code_and_stores_nothing() {
    let t = tutorial_with("registration = \"open\"");
    let s = &t.server;
    let before = crate::support::dump(s);
    let long_name = "n".repeat(256);
    for (request, code) in [
        (
            public_request_with("redirect_uris", json!(["javascript:alert(1)"])),
            "invalid_redirect_uri",
        ),
        (
            public_request_with("redirect_uris", json!(["http://client.example/cb"])),
            "invalid_redirect_uri",
        ),
        (
            public_request_with("redirect_uris", json!(["https://client.example/cb#x"])),
            "invalid_redirect_uri",
        ),
        (
            public_request_with("redirect_uris", Value::Null),
            "invalid_redirect_uri",
        ),
        (
            public_request_with("redirect_uris", json!(CALLBACK)),
            "invalid_client_metadata",
        ),
        (
            public_request_with("client_name", json!(long_name)),
            "invalid_client_metadata",
        ),
        (
            public_request_with("grant_types", json!(["password"])),
            "invalid_client_metadata",
        ),
        (
            public_request_with("grant_types", json!(["client_credentials"])),
            "invalid_client_metadata",
        ),
        (
            public_request_with("response_types", json!(["token"])),
            "invalid_client_metadata",
        ),
        (
            public_request_with("token_endpoint_auth_method", json!("private_key_jwt")),
            "invalid_client_metadata",
        ),
        (
            public_request_with("scope", json!("read introspection")),
            "invalid_client_metadata",
        ),
        (
            public_request_with("scope", json!("read nonsense")),
            "invalid_client_metadata",
        ),
        (json!([public_request()]), "invalid_client_metadata"),
    ] {
        let reply = register(s, &request, &[]);
        assert_error(&reply, 400, code);
        let description = field(&reply.json(), "error_description");
        assert!(!description.is_empty(), "{request}");
    }
    let bad_json = register_raw(s, b"{\"redirect_uris\": [", &[]);
    assert_error(&bad_json, 400, "invalid_client_metadata");
    let twice = format!(
        "{{\"redirect_uris\": [\"{CALLBACK}\"], \"token_endpoint_auth_method\": \"none\", \
         \"redirect_uris\": [\"https://evil.example/cb\"]}}"
    );
    let repeated = register_raw(s, twice.as_bytes(), &[]);
    assert_error(&repeated, 400, "invalid_client_metadata");
    assert_eq!(
        field(&repeated.json(), "error_description"),
        "The field \"redirect_uris\" was sent more than once."
    );
    let form = s.post_form(REGISTER, "client_name=x", None);
    assert_error(&form, 415, "invalid_request");
    let huge = format!("{{\"client_name\": \"{}\"}}", "x".repeat(70_000));
    let too_large = register_raw(s, huge.as_bytes(), &[]);
    assert_eq!(too_large.status, 413, "{}", too_large.body);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for garbage in [
        &b""[..],
        b"null",
        b"\"text\"",
        b"\xff\xfe{}",
        b"{\"redirect_uris\": [null]}",
        b"{\"client_name\": {\"nested\": true}}",
        deep.as_bytes(),
    ] {
        let reply = register_raw(s, garbage, &[]);
        assert_error(&reply, 400, "invalid_client_metadata");
    }
    let get = s.request("GET", REGISTER, &[], b"");
    assert_error(&get, 405, "invalid_request");
    assert_eq!(crate::support::dump(s), before, "nothing stored");
}

#[test]
fn a_flood_from_one_address_is_refused_while_another_still_registers() {
    let t = tutorial_with(
        "registration = \"token\"\ntrusted_proxies = [\"127.0.0.0/8\"]\nmetrics = true",
    );
    let s = &t.server;
    let (token, _, _) = add_registration_token(s, &[]);
    let bearer = format!("Bearer {token}");
    let from = |address: &'static str| [("X-Forwarded-For", address)];
    let with_token = |address: &'static str| {
        [
            ("X-Forwarded-For", address),
            ("Authorization", bearer.as_str()),
        ]
    };
    // docs/security.md rule 66: good, garbage and unauthenticated requests all spend it.
    let third = BUDGET / 3;
    for i in 0..third {
        let reply = register(s, &public_request(), &with_token("203.0.113.7"));
        assert_eq!(reply.status, 201, "request {i}: {}", reply.body);
        let garbage = register_raw(s, b"{\"redirect_uris\": [", &with_token("203.0.113.7"));
        assert_error(&garbage, 400, "invalid_client_metadata");
    }
    for _ in 2 * third..BUDGET {
        let unauthenticated = register(s, &public_request(), &from("203.0.113.7"));
        assert_eq!(unauthenticated.status, 401, "{}", unauthenticated.body);
    }
    let before = crate::support::dump(s);
    let refused = register(s, &public_request(), &with_token("203.0.113.7"));
    assert_error(&refused, 429, "temporarily_unavailable");
    assert_eq!(refused.header("Retry-After"), Some("3600"));
    assert_eq!(crate::support::dump(s), before, "nothing stored");
    let other = register(s, &public_request(), &with_token("198.51.100.9"));
    assert_eq!(other.status, 201, "{}", other.body);
    s.advance(3600);
    let later = register(s, &public_request(), &with_token("203.0.113.7"));
    assert_eq!(later.status, 201, "a new window: {}", later.body);
    let metrics = s.request("GET", "/metrics", &[], b"").body;
    let sample = |name: &str| {
        let line = metrics.lines().find(|l| l.starts_with(&format!("{name} ")));
        line.unwrap_or_else(|| panic!("{name} in {metrics}"))
            .to_owned()
    };
    assert_eq!(
        sample("oauthd_request_budgets_spent_total"),
        "oauthd_request_budgets_spent_total 1"
    );
    let registered = format!("oauthd_clients_registered_total {}", third + 2);
    assert_eq!(sample("oauthd_clients_registered_total"), registered);
}

#[test]
fn the_admin_page_and_the_app_page_mark_registered_apps() {
    let t = tutorial_with("registration = \"open\"");
    let s = &t.server;
    let reply = register(s, &public_request(), &[]);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let client_id = field(&reply.json(), "client_id");
    let app = s
        .store()
        .find_app_by_client_id(&client_id)
        .unwrap()
        .unwrap();
    let admin = sign_in(s, "admin", ADMIN_PASSWORD);
    let page = get_as(s, &admin.cookie, "/o/admin/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body.matches("Dynamically registered").count(),
        1,
        "{}",
        page.body
    );
    let detail = get_as(
        s,
        &admin.cookie,
        &format!("/o/applications/{}/", app.public_id),
    );
    assert_eq!(detail.status, 200, "{}", detail.body);
    assert!(detail.body.contains("the client registered itself"));
    let tutorial_app = s
        .store()
        .find_app_by_client_id(&t.client.id)
        .unwrap()
        .unwrap();
    let other = get_as(
        s,
        &admin.cookie,
        &format!("/o/applications/{}/", tutorial_app.public_id),
    );
    assert!(!other.body.contains("Dynamically registered"));
}

#[test]
fn registration_token_commands_print_the_token_once_and_list_no_secret() {
    let s = TestServer::start();
    let (code, out, err) = s.cli(
        &[
            "registration-token",
            "add",
            "--uses",
            "3",
            "--expires-in",
            "3600",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let token = out.lines().next().unwrap();
    assert_eq!(token.len(), 43, "{out}");
    assert!(out.contains("3 registrations"), "{out}");
    assert!(err.contains("registration-token add"), "audited: {err}");
    let (code, listed, _) = s.cli(&["registration-token", "list"], "");
    assert_eq!(code, 0);
    assert!(!listed.contains(token));
    assert!(listed.lines().nth(1).unwrap().starts_with("1 "), "{listed}");
    let (_, json_list, _) = s.cli(&["registration-token", "list", "--json"], "");
    let rows_listed: Value = serde_json::from_str(&json_list).unwrap();
    assert_eq!(rows_listed[0]["id"], 1);
    assert_eq!(rows_listed[0]["uses_left"], 3);
    assert!(!crate::support::dump(&s).contains(token), "stored hashed");

    for bad in [
        vec!["registration-token", "add", "--uses", "0"],
        vec!["registration-token", "add", "--expires-in", "soon"],
        vec!["registration-token", "remove", "one"],
    ] {
        let (code, _, err) = s.cli(&bad, "");
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
    let (code, out, _) = s.cli(&["registration-token", "remove", "1"], "");
    assert_eq!(code, 0);
    assert!(out.contains("removed registration token 1"));
    assert_eq!(rows(&s, "registration_tokens"), 0);
    let (code, _, err) = s.cli(&["registration-token", "remove", "1"], "");
    assert_eq!(code, 1, "{err}");
    for (flags, uses) in [
        (vec!["--uses", "1"], "1 registration,"),
        (vec![], "any number of registrations,"),
    ] {
        let (code, out, err) = s.cli(&[&["registration-token", "add"], &flags[..]].concat(), "");
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(uses), "{out}");
    }
    assert_eq!(rows(&s, "registration_tokens"), 2);
}

#[test]
fn registered_apps_are_marked_in_a_real_browser() {
    let t = tutorial_with("registration = \"open\"");
    let s = &t.server;
    let request = public_request_with("client_name", json!("Claude Desktop (MCP) ü"));
    let reply = register(s, &request, &[]);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let app = stored_public_registration(s, &field(&reply.json(), "client_id"));
    let browser = launch();
    let tab = browser.new_tab().expect("tab");
    go(&tab, &format!("{}/o/admin/", s.base));
    log_in(&tab, "admin", ADMIN_PASSWORD);
    tab.wait_for_element("#new-user").expect("the admin page");
    let apps = text_of(&tab, "#apps");
    assert_eq!(apps.matches("Dynamically registered").count(), 1, "{apps}");
    assert!(apps.contains("Claude Desktop (MCP) ü"), "{apps}");
    let section = tab.find_element("#apps").expect("the applications section");
    section.scroll_into_view().expect("scroll");
    screenshot(&tab, "admin-registered-app");
    phone_width(&tab);
    fits_the_phone(&tab, s, "/o/admin/", "admin-registered-app");
    let page = format!("/o/applications/{}/", app.public_id);
    fits_the_phone(&tab, s, &page, "registered-app");
    assert!(text_of(&tab, "main").contains("the client registered itself"));
}

/// The query of `client_id`'s authorization request to [`CALLBACK`], with `extra` appended.
fn authorization_query(client_id: &str, extra: &str) -> String {
    format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=read&state=s{extra}",
        form_encode(CALLBACK)
    )
}

/// The authorization endpoint's answer to a signed-in user's request of this query.
fn authorize_as(s: &TestServer, cookie: &str, query: &str) -> Reply {
    get_as(s, cookie, &format!("/o/authorize/?{query}"))
}

/// A public code-flow client made by an administrator with `app add`, redirecting to
/// [`CALLBACK`].
fn cli_made_public_client(s: &TestServer) -> crate::support::Client {
    s.add_app(&[
        "--name",
        "Made by hand",
        "--client-type",
        "public",
        "--grant",
        "authorization-code",
        "--redirect-uri",
        CALLBACK,
    ])
}

/// docs/security.md rule 45: with `pkce_required = "none"`, a public client that registered
/// itself still needs an S256 code_challenge; one an administrator made does not.
#[test]
fn a_registered_public_client_needs_pkce_whatever_pkce_required_says() {
    let t = tutorial_with("registration = \"open\"\npkce_required = \"none\"");
    let s = &t.server;
    let reply = register(s, &public_request(), &[]);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let registered = field(&reply.json(), "client_id");
    stored_public_registration(s, &registered);
    let by_hand = cli_made_public_client(s);
    let alice = sign_in(s, "alice", crate::support::ALICE_PASSWORD);
    for method in ["", "&code_challenge_method=plain"] {
        let pkce = if method.is_empty() {
            String::new()
        } else {
            format!("&code_challenge={VERIFIER}{method}")
        };
        let refused = authorize_as(s, &alice.cookie, &authorization_query(&registered, &pkce));
        assert_eq!(refused.status, 303, "{}", refused.body);
        let location = url::Url::parse(refused.header("Location").unwrap()).unwrap();
        assert!(location.as_str().starts_with(CALLBACK), "{location}");
        let error = crate::support::query_param(&location, "error");
        assert_eq!(error.as_deref(), Some("invalid_request"), "{location}");
        assert_eq!(
            crate::support::query_param(&location, "state").as_deref(),
            Some("s")
        );
    }
    let allowed = authorize_as(s, &alice.cookie, &authorization_query(&by_hand.id, ""));
    assert_eq!(allowed.status, 200, "the consent page: {}", allowed.body);
    let with_s256 = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let code = allow_and_get_code(s, &alice, &authorization_query(&registered, &with_s256));
    assert!(!code.is_empty());
    assert_eq!(
        rows(s, "authorization_codes"),
        1,
        "only the request with S256 got a code"
    );
}

/// RFC 7591 §5: the consent page says that a registered client named itself.
#[test]
fn the_consent_page_marks_a_client_that_registered_itself() {
    let t = tutorial_with("registration = \"open\"");
    let s = &t.server;
    let reply = register(s, &public_request(), &[]);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let registered = field(&reply.json(), "client_id");
    let by_hand = cli_made_public_client(s);
    let alice = sign_in(s, "alice", crate::support::ALICE_PASSWORD);
    let note = "This application registered itself; oauthd has not verified its name.";
    let pkce = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    for (client_id, marked) in [(registered.as_str(), true), (by_hand.id.as_str(), false)] {
        let page = authorize_as(s, &alice.cookie, &authorization_query(client_id, &pkce));
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Authorize "), "{}", page.body);
        assert_eq!(
            page.body.contains(note),
            marked,
            "{client_id}: {}",
            page.body
        );
        let app = s.store().find_app_by_client_id(client_id).unwrap().unwrap();
        assert_eq!(app.dynamically_registered, marked);
    }
    assert_eq!(rows(s, "authorization_codes"), 0, "nothing allowed yet");
}

/// A client may register for the device grant alone: no redirect URI, no response type; it
/// then gets device codes.
#[test]
fn a_device_client_registers_without_redirect_uris_and_gets_device_codes() {
    let t = tutorial_with("registration = \"open\"");
    let s = &t.server;
    let device_grant = crate::device_support::DEVICE_GRANT;
    let request = json!({
        "client_name": "A television",
        "token_endpoint_auth_method": "none",
        "grant_types": [device_grant],
        "scope": "read",
    });
    let reply = register(s, &request, &[]);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(
        answer["grant_types"],
        json!([device_grant, "refresh_token"])
    );
    assert_eq!(answer["response_types"], json!([]));
    assert_eq!(answer["redirect_uris"], json!([]));
    let client_id = field(&answer, "client_id");
    let app = stored_public_registration(s, &client_id);
    assert!(app.fields.redirect_uris.is_empty());
    let client = crate::support::Client {
        id: client_id,
        secret: None,
    };
    let codes =
        crate::device_support::codes(&crate::device_support::authorize(s, &client, "scope=read"));
    assert!(!codes.user_code.is_empty());
    let stored = format!("device_codes WHERE application_id = {}", app.id);
    assert_eq!(rows(s, &stored), 1);
    let alice = sign_in(s, "alice", crate::support::ALICE_PASSWORD);
    let code_flow = authorize_as(s, &alice.cookie, &authorization_query(&client.id, ""));
    assert_eq!(code_flow.status, 400, "no redirect URI to go back to");
}
