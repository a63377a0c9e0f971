//! Login, logout, sessions and CSRF (docs/security.md rules 3, 6, 20, 27, 28, 29, 30).

use crate::support::{
    ADMIN_PASSWORD, Browser, HOSTILE, LOGIN, TUTORIAL_SETTINGS, TestServer, Tutorial, csrf_in,
    get_as, home, login_form, open_login, post_as, rows, session_cookie, signed_in,
};
use oauthd::secret::digest;

#[test]
fn logging_in_issues_a_new_session_and_follows_a_local_next() {
    let t = Tutorial::new();
    let s = &t.server;
    let (page, anonymous) = open_login(s, "/o/applications/?page=2");
    let set_cookie = page.header("Set-Cookie").unwrap();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    assert!(
        set_cookie.contains("Max-Age=3600"),
        "the login form's CSRF cookie is short-lived: {set_cookie}"
    );
    assert!(page.body.contains("value=\"/o/applications/?page=2\""));

    let form = login_form(
        &anonymous.csrf,
        "admin",
        ADMIN_PASSWORD,
        "/o/applications/?page=2",
    );
    let reply = post_as(s, &anonymous, LOGIN, &form);
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("Location"), Some("/o/applications/?page=2"));
    let cookie = session_cookie(&reply);
    assert_ne!(
        cookie, anonymous.cookie,
        "a new session id at login (no fixation)"
    );
    let value = cookie.split_once('=').unwrap().1;
    let stored = s.store().find_session(&digest(value), s.now()).unwrap();
    assert_eq!(
        stored.expect("stored by digest").user.unwrap().username,
        "admin"
    );
    let old_value = anonymous.cookie.split_once('=').unwrap().1;
    assert_eq!(
        s.store().find_session(&digest(old_value), s.now()).unwrap(),
        None
    );

    let page = home(s, &cookie);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Signed in as <strong>admin</strong>"),
        "{}",
        page.body
    );
    assert_eq!(
        home(s, &anonymous.cookie).status,
        303,
        "the old session is gone"
    );
}

#[test]
fn next_never_leads_off_the_server() {
    let t = Tutorial::new();
    for evil in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
    ] {
        let (_, browser) = open_login(&t.server, evil);
        let reply = post_as(
            &t.server,
            &browser,
            LOGIN,
            &login_form(&browser.csrf, "admin", ADMIN_PASSWORD, evil),
        );
        assert_eq!(
            (reply.status, reply.header("Location")),
            (303, Some("/")),
            "{evil}"
        );
    }
}

#[test]
fn a_post_without_the_sessions_csrf_token_is_403_and_changes_nothing() {
    let t = Tutorial::new();
    let s = &t.server;
    let (_, victim) = open_login(s, "/");
    let (_, attacker) = open_login(s, "/");
    for token in ["", "forged", attacker.csrf.as_str()] {
        let reply = post_as(
            s,
            &victim,
            LOGIN,
            &login_form(token, "admin", ADMIN_PASSWORD, "/"),
        );
        assert_eq!(reply.status, 403, "{token:?}");
        assert!(reply.body.contains("CSRF verification failed"));
        assert_eq!(reply.header("Set-Cookie"), None);
        assert_eq!(home(s, &victim.cookie).status, 303, "not signed in");
    }
    let no_session = s.post_form(
        LOGIN,
        &login_form(&victim.csrf, "admin", ADMIN_PASSWORD, "/"),
        None,
    );
    assert_eq!(no_session.status, 403);
    let planted = Browser {
        cookie: format!("oauthd_csrf={HOSTILE}"),
        csrf: HOSTILE.into(),
    };
    let reply = post_as(
        s,
        &planted,
        LOGIN,
        &login_form(HOSTILE, "admin", ADMIN_PASSWORD, "/"),
    );
    assert_eq!(reply.status, 403, "only a token this server draws counts");
    assert_eq!(
        rows(s, "sessions"),
        0,
        "docs/security.md rule 50: nothing stored"
    );
    let again = get_as(s, &victim.cookie, LOGIN);
    assert_eq!(
        again.header("Set-Cookie"),
        None,
        "the browser's cookie is kept"
    );
    assert_eq!(csrf_in(&again.body), victim.csrf);
    let browser = signed_in(s);
    let forged_logout = post_as(
        s,
        &browser,
        "/accounts/logout/",
        "csrfmiddlewaretoken=forged",
    );
    assert_eq!(forged_logout.status, 403);
    assert_eq!(home(s, &browser.cookie).status, 200, "still signed in");
}

#[test]
fn a_wrong_password_shows_the_form_again_with_an_escaped_error() {
    let t = Tutorial::new();
    let s = &t.server;
    let (_, browser) = open_login(s, "/");
    let typed = "<script>alert(1)</script>";
    let wrong = post_as(
        s,
        &browser,
        LOGIN,
        &login_form(&browser.csrf, typed, "nope", "/"),
    );
    let unknown_user = post_as(
        s,
        &browser,
        LOGIN,
        &login_form(&browser.csrf, "admin", "nope", "/"),
    );
    for reply in [&wrong, &unknown_user] {
        assert_eq!(reply.status, 200);
        assert!(
            reply
                .body
                .contains("Please enter a correct username and password.")
        );
        assert_eq!(reply.header("Set-Cookie"), None);
    }
    assert!(
        wrong.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        wrong.body
    );
    assert!(!wrong.body.contains(typed));
    assert_eq!(home(s, &browser.cookie).status, 303);
}

#[test]
fn logout_needs_a_post_and_ends_the_session() {
    let t = Tutorial::new();
    let s = &t.server;
    let browser = signed_in(s);
    let by_get = s.request(
        "GET",
        "/accounts/logout/",
        &[("Cookie", browser.cookie.as_str())],
        b"",
    );
    assert_eq!(by_get.status, 405);
    assert_eq!(home(s, &browser.cookie).status, 200);
    let reply = post_as(
        s,
        &browser,
        "/accounts/logout/",
        &format!("csrfmiddlewaretoken={}", browser.csrf),
    );
    assert_eq!((reply.status, reply.header("Location")), (303, Some(LOGIN)));
    assert!(reply.header("Set-Cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(home(s, &browser.cookie).status, 303);
}

#[test]
fn failed_logins_are_slowed_per_username() {
    let t = Tutorial::new();
    let s = &t.server;
    let (_, browser) = open_login(s, "/");
    for _ in 0..oauthd::http::limiter::FREE_TRIES_PER_USERNAME {
        let reply = post_as(
            s,
            &browser,
            LOGIN,
            &login_form(&browser.csrf, "admin", "guess", "/"),
        );
        assert_eq!(reply.status, 200);
    }
    let right = post_as(
        s,
        &browser,
        LOGIN,
        &login_form(&browser.csrf, "admin", ADMIN_PASSWORD, "/"),
    );
    assert_eq!(right.status, 429, "even the right password waits");
    assert_eq!(right.header("Retry-After"), Some("2"));
    assert!(right.body.contains("Too many failed attempts"));
    assert_eq!(home(s, &browser.cookie).status, 303);
    let right_again = || {
        let form = login_form(&browser.csrf, "admin", ADMIN_PASSWORD, "/");
        post_as(s, &browser, LOGIN, &form)
    };
    s.advance(1);
    assert_eq!(right_again().status, 429, "a second to go");
    s.advance(1);
    let later = right_again();
    assert_eq!(later.status, 303, "{}", later.body);
}

#[test]
fn under_https_the_cookie_is_secure_and_host_prefixed() {
    let server = TestServer::with_settings(&format!(
        "{TUTORIAL_SETTINGS}\npublic_url = \"https://auth.example\""
    ));
    server.add_user("admin", ADMIN_PASSWORD, true);
    let (page, anonymous) = open_login(&server, "/");
    let reply = post_as(
        &server,
        &anonymous,
        LOGIN,
        &login_form(&anonymous.csrf, "admin", ADMIN_PASSWORD, "/"),
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    for (set_cookie, name) in [
        (page.header("Set-Cookie").unwrap(), "__Host-oauthd_csrf="),
        (
            reply.header("Set-Cookie").unwrap(),
            "__Host-oauthd_session=",
        ),
    ] {
        assert!(set_cookie.starts_with(name), "{set_cookie}");
        assert!(
            set_cookie.contains("; Secure") && set_cookie.contains("Path=/"),
            "{set_cookie}"
        );
    }
}

/// docs/security.md rules 31, 38: X-Forwarded-Proto makes the cookie Secure only from a trusted
/// proxy.
#[test]
fn behind_a_trusted_https_proxy_the_cookie_is_secure() {
    let https = [("X-Forwarded-Proto", "https")];
    let secure = |settings: &str| {
        let server = TestServer::with_settings(&format!("{TUTORIAL_SETTINGS}\n{settings}"));
        let reply = server.request("GET", LOGIN, &https, b"");
        let set_cookie = reply.header("Set-Cookie").unwrap().to_owned();
        assert!(set_cookie.starts_with("oauthd_csrf="), "{set_cookie}");
        set_cookie.contains("; Secure")
    };
    assert!(secure("trusted_proxies = [\"127.0.0.0/8\"]"));
    assert!(
        !secure("trusted_proxies = [\"10.0.0.1\"]"),
        "an untrusted peer"
    );
    assert!(!secure(""), "no proxy is trusted by default");
}

#[test]
fn sessions_expire_and_cleartokens_removes_them() {
    // In the past: the sessions have expired for `cleartokens` too.
    let t = Tutorial::with_server(TestServer::in_the_past(&format!(
        "{TUTORIAL_SETTINGS}\nsession_expire_seconds = 2"
    )));
    let browser = signed_in(&t.server);
    t.server.advance(1);
    assert_eq!(
        home(&t.server, &browser.cookie).status,
        200,
        "its last second"
    );
    t.server.advance(1);
    assert_eq!(
        home(&t.server, &browser.cookie).status,
        303,
        "an expired session is signed out"
    );
    let (code, out, err) = t.server.cli(&["cleartokens"], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.ends_with(", 1 sessions\n"),
        "the signed-in one (login replaced the anonymous one): {out}"
    );
}

#[test]
fn pages_forbid_framing_referrers_and_caching() {
    let t = Tutorial::new();
    let s = &t.server;
    let (page, _) = open_login(s, "/");
    let denied = s.post_form(LOGIN, "username=x", None);
    for reply in [&page, &denied] {
        let csp = reply.header("Content-Security-Policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(reply.header("X-Frame-Options"), Some("DENY"));
        assert_eq!(reply.header("Referrer-Policy"), Some("no-referrer"));
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    }
    assert!(
        !page.body.contains("http://") && !page.body.contains("https://"),
        "nothing from third parties"
    );
    let css = s.request("GET", "/static/oauthd.css", &[], b"");
    assert_eq!(css.status, 200);
    assert!(css.header("Content-Type").unwrap().starts_with("text/css"));
}

#[test]
fn a_browser_using_the_wrong_method_on_a_page_gets_an_html_page() {
    let s = TestServer::start();
    for (method, path, allow) in [
        ("GET", "/accounts/logout/", "POST"),
        ("PUT", "/accounts/login/", "GET, HEAD, POST"),
        ("DELETE", "/o/authorize/", "GET, POST"),
    ] {
        let reply = s.request(method, path, &[], b"");
        assert_eq!(reply.status, 405, "{method} {path}");
        assert_eq!(reply.header("Allow"), Some(allow));
        let content_type = reply.header("Content-Type").unwrap_or_default();
        assert!(
            content_type.starts_with("text/html"),
            "{method} {path}: {content_type}"
        );
        assert!(reply.body.contains("<html"), "{}", reply.body);
    }
}

/// docs/security.md rule 50 (issue 11: 1,000 GETs of the login page added 1,000 rows): pages
/// seen without signing in store nothing; only a successful login adds a session.
#[test]
fn anonymous_pages_store_no_session() {
    let t = Tutorial::new();
    let s = &t.server;
    let client = s.add_client(
        "public",
        "authorization-code",
        &["--redirect-uri", "http://a/cb"],
    );
    let to_login = format!("/o/authorize/?client_id={}&response_type=code", client.id);
    let pages = [
        (LOGIN, 200),
        (&to_login, 303),
        ("/o/authorize/?client_id=nobody", 400),
        ("/", 303),
        ("/o/applications/", 303),
        ("/no/such/page", 404),
    ];
    for (path, status) in pages {
        for _ in 0..20 {
            let reply = s.request("GET", path, &[], b"");
            assert_eq!(reply.status, status, "{path}: {}", reply.body);
        }
    }
    let (_, anonymous) = open_login(s, "/");
    assert_eq!(rows(s, "sessions"), 0, "120 anonymous GETs, no session row");
    let reply = post_as(
        s,
        &anonymous,
        LOGIN,
        &login_form(&anonymous.csrf, "admin", ADMIN_PASSWORD, "/"),
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(rows(s, "sessions WHERE user_id IS NOT NULL"), 1);
    assert_eq!(rows(s, "sessions"), 1);
}
