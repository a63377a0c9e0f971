//! The authorization endpoint and the code grant (docs/security.md rules 1-13): login first,
//! consent by POST only, exact redirect URIs, PKCE, single-use codes.

use crate::support::{
    ADMIN_PASSWORD, Browser, Client, LOGIN, Reply, TestServer, Tutorial, consent_fields, field,
    form_encode, get_as, login_form, open_login, post_as, rows, session_cookie, signed_in,
};
use std::sync::{Arc, Barrier};

const AUTHORIZE: &str = "/o/authorize/";
const CALLBACK: &str = "http://127.0.0.1/cb";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A public authorization-code client with a loopback redirect URI, and a signed-in admin.
fn world() -> (Tutorial, Client, Browser) {
    let t = Tutorial::new();
    let native = t.server.add_client(
        "public",
        "authorization-code",
        &["--redirect-uri", CALLBACK],
    );
    let browser = signed_in(&t.server);
    (t, native, browser)
}

/// The authorization request's query for `client`, redirected to a loopback port, with PKCE.
fn request_query(client: &Client, extra: &str) -> String {
    format!(
        "response_type=code&client_id={}&redirect_uri={}&scope=read&state=st%3D1&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        client.id,
        form_encode("http://127.0.0.1:5050/cb")
    )
}

fn get(s: &TestServer, browser: Option<&Browser>, query: &str) -> Reply {
    let cookie = browser.map_or("", |b| b.cookie.as_str());
    s.request(
        "GET",
        &format!("{AUTHORIZE}?{query}"),
        &[("Cookie", cookie)],
        b"",
    )
}

fn encode(fields: &[(String, String)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

/// Opens the consent page and posts it back with `button` ("allow" or "deny"), after `tamper`.
fn decide(
    s: &TestServer,
    browser: &Browser,
    query: &str,
    button: &str,
    tamper: impl Fn(&mut Vec<(String, String)>),
) -> Reply {
    let page = get(s, Some(browser), query);
    assert_eq!(page.status, 200, "{}", page.body);
    let mut fields = consent_fields(&page);
    tamper(&mut fields);
    fields.push((button.into(), "x".into()));
    post_as(s, browser, AUTHORIZE, &encode(&fields))
}

/// The query parameters of a redirect's Location (or its fragment).
fn location_params(reply: &Reply, in_fragment: bool) -> Vec<(String, String)> {
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.header("Location").expect("a Location");
    let part = if in_fragment {
        location.split_once('#')
    } else {
        location.split_once('?')
    };
    serde_urlencoded::from_str(part.map_or("", |(_, p)| p)).unwrap()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn exchange(s: &TestServer, client: &Client, code: &str, extra: &str) -> Reply {
    let form = format!(
        "grant_type=authorization_code&code={code}&client_id={}&redirect_uri={}{extra}",
        client.id,
        form_encode("http://127.0.0.1:5050/cb")
    );
    s.post_form("/o/token/", &form, None)
}

/// A code for the admin, approved on the consent page.
fn approved_code(s: &TestServer, client: &Client, browser: &Browser) -> String {
    let reply = decide(s, browser, &request_query(client, ""), "allow", |_| {});
    let params = location_params(&reply, false);
    assert_eq!(param(&params, "state"), Some("st=1"));
    param(&params, "code").expect("a code").to_owned()
}

#[test]
fn the_code_flow_with_pkce_signs_in_asks_and_answers() {
    let (t, native, _) = world();
    let s = &t.server;
    let anonymous = get(s, None, &request_query(&native, ""));
    assert_eq!(anonymous.status, 303);
    let login = anonymous.header("Location").unwrap();
    assert!(
        login.starts_with("/accounts/login/?next=%2Fo%2Fauthorize%2F%3F"),
        "{login}"
    );

    let browser = signed_in(s);
    let page = get(s, Some(&browser), &request_query(&native, ""));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Authorize authorization-code?"),
        "names the client"
    );
    assert!(
        page.body.contains("<strong>read</strong>: Read scope"),
        "describes the scope"
    );
    assert!(
        page.body.contains("<strong>127.0.0.1</strong>"),
        "names the redirect host"
    );
    assert_eq!(page.header("X-Frame-Options"), Some("DENY"));
    let csp = page.header("Content-Security-Policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        !csp.contains("form-action"),
        "it would block the redirect to the client: {csp}"
    );

    let code = approved_code(s, &native, &browser);
    let tokens = exchange(s, &native, &code, &format!("&code_verifier={VERIFIER}"));
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let tokens = tokens.json();
    assert_eq!(tokens["scope"], "read");
    let access = field(&tokens, "access_token");
    assert_eq!(s.with_bearer("GET", "/users/", &access, "").status, 200);
    let stored = s
        .store()
        .find_access_token(&oauthd::secret::digest(&access))
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.username.as_deref(), stored.client_id.as_str()),
        (Some("admin"), native.id.as_str())
    );

    // RFC 6749 §4.1.2: a second use fails and revokes what the code gave.
    let replay = exchange(s, &native, &code, &format!("&code_verifier={VERIFIER}"));
    assert_eq!(
        (replay.status, replay.error()),
        (400, "invalid_grant".to_string())
    );
    assert_eq!(s.with_bearer("GET", "/users/", &access, "").status, 401);
    let refresh = format!(
        "grant_type=refresh_token&refresh_token={}&client_id={}",
        field(&tokens, "refresh_token"),
        native.id
    );
    assert_eq!(s.post_form("/o/token/", &refresh, None).status, 400);
}

#[test]
fn a_consent_posted_after_the_session_ended_keeps_the_request_through_the_login() {
    let (t, native, browser) = world();
    let s = &t.server;
    let query = request_query(&native, "");
    let page = get(s, Some(&browser), &query);
    assert_eq!(page.status, 200, "{}", page.body);
    let mut fields = consent_fields(&page);
    fields.push(("allow".into(), "x".into()));
    s.advance(1_209_600 + 1); // the default session_expire_seconds, and one more

    let reply = post_as(s, &browser, AUTHORIZE, &encode(&fields));
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.header("Location").expect("to the login");
    let next = location
        .strip_prefix(&format!("{LOGIN}?next="))
        .map(|n| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("n={n}")))
        .expect("the login with next")
        .unwrap()
        .remove(0)
        .1;
    assert_eq!(
        next,
        format!("{AUTHORIZE}?{query}"),
        "the same request, nothing else"
    );
    assert_eq!(rows(s, "authorization_codes"), 0, "nothing was decided");

    let (_, anonymous) = open_login(s, &next);
    let form = login_form(&anonymous.csrf, "admin", ADMIN_PASSWORD, &next);
    let login = post_as(s, &anonymous, LOGIN, &form);
    assert_eq!(login.status, 303, "{}", login.body);
    assert_eq!(login.header("Location"), Some(next.as_str()));
    let again = get_as(s, &session_cookie(&login), &next);
    assert_eq!(again.status, 200, "{}", again.body);
    let asked = consent_fields(&again);
    for (name, value) in [("client_id", native.id.as_str()), ("state", "st=1")] {
        assert!(
            asked.iter().any(|(k, v)| k == name && v == value),
            "{name}: {asked:?}"
        );
    }
}

#[test]
fn deny_sends_access_denied_with_the_state() {
    let (t, native, browser) = world();
    let reply = decide(
        &t.server,
        &browser,
        &request_query(&native, ""),
        "deny",
        |_| {},
    );
    let params = location_params(&reply, false);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("st=1"));
    assert_eq!(param(&params, "code"), None);
    assert!(
        reply
            .header("Location")
            .unwrap()
            .starts_with("http://127.0.0.1:5050/cb?")
    );
}

#[test]
fn a_form_carrying_both_allow_and_deny_is_a_denial() {
    let (t, native, browser) = world();
    let both = |fields: &mut Vec<(String, String)>| fields.push(("deny".into(), "x".into()));
    let query = request_query(&native, "");
    let reply = decide(&t.server, &browser, &query, "allow", both);
    let params = location_params(&reply, false);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "code"), None);
    assert_eq!(rows(&t.server, "authorization_codes"), 0, "no code made");
}

#[test]
fn untrusted_clients_and_redirect_uris_get_an_error_page_and_no_redirect() {
    let (t, native, browser) = world();
    let s = &t.server;
    let base = format!(
        "response_type=code&client_id={}&code_challenge={CHALLENGE}&code_challenge_method=S256",
        native.id
    );
    let mut queries = vec![
        "response_type=code&client_id=nobody".to_string(),
        "response_type=code".to_string(),
    ];
    for mutant in [
        "http://127.0.0.1:5050/cb/",
        "http://127.0.0.1:5050/CB",
        "http://127.0.0.1:5050/cb?x=1",
        "http://127.0.0.1:5050/cb/../cb",
        "http://127.0.0.1:5050@evil.example/cb",
        "http://127.0.0.1:5050/cb%2F",
        "http://127.0.0.1:5050/cb#f",
        "http://localhost:5050/cb",
        "https://evil.example/cb",
    ] {
        queries.push(format!("{base}&redirect_uri={}", form_encode(mutant)));
    }
    for query in &queries {
        for browser in [None, Some(&browser)] {
            let reply = get(s, browser, query);
            assert_eq!(reply.status, 400, "{query}: {}", reply.body);
            assert_eq!(reply.header("Location"), None, "{query}");
            assert!(reply.body.contains("Authorization error"));
        }
    }
}

#[test]
fn request_errors_are_redirected_only_after_login() {
    let (t, native, browser) = world();
    let s = &t.server;
    let query = request_query(&native, "").replace("scope=read", "scope=admin");
    assert_eq!(
        get(s, None, &query)
            .header("Location")
            .map(|l| l.starts_with("/accounts/login/")),
        Some(true)
    );
    let params = location_params(&get(s, Some(&browser), &query), false);
    assert_eq!(param(&params, "error"), Some("invalid_scope"));
    assert_eq!(param(&params, "state"), Some("st=1"));
    let without_pkce = request_query(&native, "").replace(
        &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
        "",
    );
    let params = location_params(&get(s, Some(&browser), &without_pkce), false);
    assert_eq!(
        param(&params, "error"),
        Some("invalid_request"),
        "public clients must use PKCE"
    );
}

#[test]
fn a_tampered_consent_form_does_not_pass() {
    let (t, native, browser) = world();
    let s = &t.server;
    let set = |name: &'static str, value: &'static str| {
        move |fields: &mut Vec<(String, String)>| {
            fields
                .iter_mut()
                .filter(|(k, _)| k == name)
                .for_each(|(_, v)| *v = value.into());
        }
    };
    let to_evil = decide(
        s,
        &browser,
        &request_query(&native, ""),
        "allow",
        set("redirect_uri", "https://evil.example/cb"),
    );
    assert_eq!((to_evil.status, to_evil.header("Location")), (400, None));
    let other_client = decide(
        s,
        &browser,
        &request_query(&native, ""),
        "allow",
        set("client_id", "nobody"),
    );
    assert_eq!(
        (other_client.status, other_client.header("Location")),
        (400, None)
    );
    let wider = decide(
        s,
        &browser,
        &request_query(&native, ""),
        "allow",
        set("scope", "read admin"),
    );
    assert_eq!(
        param(&location_params(&wider, false), "error"),
        Some("invalid_scope")
    );
    let implicit = decide(
        s,
        &browser,
        &request_query(&native, ""),
        "allow",
        set("response_type", "token"),
    );
    assert_eq!(
        param(&location_params(&implicit, true), "error"),
        Some("unauthorized_client")
    );
    let forged = decide(
        s,
        &browser,
        &request_query(&native, ""),
        "allow",
        set("csrfmiddlewaretoken", "forged"),
    );
    assert_eq!((forged.status, forged.header("Location")), (403, None));
    let codes: i64 = rusqlite::Connection::open(s.db_path())
        .unwrap()
        .query_row("SELECT count(*) FROM authorization_codes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(codes, 0, "no tampered request got a code");
}

#[test]
fn consent_is_never_granted_by_a_get() {
    let (t, native, browser) = world();
    let page = get(
        &t.server,
        Some(&browser),
        &request_query(&native, "&allow=Authorize"),
    );
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Allow"));
    assert_eq!(page.header("Location"), None);
}

#[test]
fn the_implicit_grant_answers_in_the_fragment_without_a_refresh_token() {
    let t = Tutorial::new();
    let s = &t.server;
    let spa = s.add_client(
        "public",
        "implicit",
        &["--redirect-uri", "https://spa.example/cb"],
    );
    let browser = signed_in(s);
    let query = format!(
        "response_type=token&client_id={}&scope=read&state=abc",
        spa.id
    );
    let reply = decide(s, &browser, &query, "allow", |_| {});
    assert!(
        reply
            .header("Location")
            .unwrap()
            .starts_with("https://spa.example/cb#")
    );
    let params = location_params(&reply, true);
    assert_eq!(param(&params, "token_type"), Some("Bearer"));
    assert_eq!(param(&params, "state"), Some("abc"));
    assert_eq!(param(&params, "refresh_token"), None);
    let token = param(&params, "access_token").expect("an access token");
    assert_eq!(s.with_bearer("GET", "/api/hello", token, "").status, 200);
}

#[test]
fn approval_prompt_auto_skips_consent_once_a_token_covers_the_request() {
    let (t, native, browser) = world();
    let s = &t.server;
    let auto = request_query(&native, "&approval_prompt=auto");
    assert_eq!(
        get(s, Some(&browser), &auto).status,
        200,
        "no token yet: ask"
    );
    let code = approved_code(s, &native, &browser);
    assert_eq!(
        exchange(s, &native, &code, &format!("&code_verifier={VERIFIER}")).status,
        200
    );
    let skipped = get(s, Some(&browser), &auto);
    assert!(
        param(&location_params(&skipped, false), "code").is_some(),
        "covered: no page"
    );
    assert_eq!(
        get(s, Some(&browser), &request_query(&native, "")).status,
        200,
        "force asks again"
    );
}

#[test]
fn a_code_needs_its_verifier_and_its_redirect_uri() {
    let (t, native, browser) = world();
    let s = &t.server;
    for (extra, why) in [
        ("".to_string(), "no verifier"),
        (
            format!("&code_verifier={}", "x".repeat(43)),
            "wrong verifier",
        ),
    ] {
        let code = approved_code(s, &native, &browser);
        let reply = exchange(s, &native, &code, &extra);
        assert_eq!(
            (reply.status, reply.error()),
            (400, "invalid_grant".to_string()),
            "{why}"
        );
    }
    let code = approved_code(s, &native, &browser);
    let form = format!(
        "grant_type=authorization_code&code={code}&client_id={}&code_verifier={VERIFIER}",
        native.id
    );
    let reply = s.post_form("/o/token/", &form, None);
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_grant".to_string()),
        "redirect_uri omitted"
    );
}

#[test]
fn sixteen_concurrent_exchanges_of_one_code_have_exactly_one_winner() {
    let (t, native, browser) = world();
    let code = approved_code(&t.server, &native, &browser);
    let (t, native, code) = (Arc::new(t), Arc::new(native), Arc::new(code));
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (t, native, code, barrier) = (
                Arc::clone(&t),
                Arc::clone(&native),
                Arc::clone(&code),
                Arc::clone(&barrier),
            );
            std::thread::spawn(move || {
                barrier.wait();
                exchange(
                    &t.server,
                    &native,
                    &code,
                    &format!("&code_verifier={VERIFIER}"),
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}

/// A world whose codes live one second, and one approved code. The server's clock is in the
/// past, so that the code has expired for `cleartokens` too.
fn short_lived_code() -> (Tutorial, Client, String) {
    let server = TestServer::in_the_past(&format!(
        "{}\nauthorization_code_expire_seconds = 1",
        crate::support::TUTORIAL_SETTINGS
    ));
    let t = Tutorial::with_server(server);
    let native = t.server.add_client(
        "public",
        "authorization-code",
        &["--redirect-uri", CALLBACK],
    );
    let browser = signed_in(&t.server);
    let code = approved_code(&t.server, &native, &browser);
    (t, native, code)
}

#[test]
fn an_expired_code_is_invalid_grant() {
    let (t, native, code) = short_lived_code();
    // Its one second is over (within it a code is accepted: see the next test).
    t.server.advance(1);
    let reply = exchange(
        &t.server,
        &native,
        &code,
        &format!("&code_verifier={VERIFIER}"),
    );
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_grant".to_string())
    );
    let (code_count, out, _) = t.server.cli(&["cleartokens"], "");
    assert_eq!(code_count, 0);
    assert!(
        out.contains(", 1 codes,"),
        "cleartokens removes expired codes: {out}"
    );
}

#[test]
fn a_replay_after_cleartokens_still_revokes_what_the_code_gave() {
    let (t, native, code) = short_lived_code();
    let verifier = format!("&code_verifier={VERIFIER}");
    let tokens = exchange(&t.server, &native, &code, &verifier);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let access = field(&tokens.json(), "access_token");
    let unused = approved_code(&t.server, &native, &signed_in(&t.server));
    t.server.advance(1);
    let (status, out, _) = t.server.cli(&["cleartokens"], "");
    assert_eq!(status, 0);
    assert!(
        out.contains(", 1 codes,"),
        "the unused code goes; the used one stays while its grant lives: {out}"
    );
    assert_eq!(exchange(&t.server, &native, &unused, &verifier).status, 400);
    assert_eq!(exchange(&t.server, &native, &code, &verifier).status, 400);
    assert_eq!(
        t.server
            .with_bearer("GET", "/api/hello", &access, "")
            .status,
        401
    );
}
