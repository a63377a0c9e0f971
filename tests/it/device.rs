//! The device authorization grant (RFC 8628) over real sockets: the device asks for codes and
//! polls the token endpoint; its user signs in on `/o/device/`, types the code and allows or
//! denies on the code flow's consent page. docs/security.md rules 43 and 52–57.

use crate::device_support::{
    AUTHORIZATION, Codes, DEVICE_GRANT, PAGE, PASSWORD, USERNAME, authorize, codes, decide, poll,
    post_consent, signed_in_at, stored, submit, world,
};
use crate::support::{
    Client, Reply, TestServer, UserAgent, assert_error, dump, field, owned, rows,
};
use oauthd::http::limiter::FREE_TRIES_PER_USER_CODE_ENTRY;
use std::sync::{Arc, Barrier};

/// Signs dana in through the verification URI, submits the pre-filled code and decides.
fn approve(s: &TestServer, codes: &Codes, allow: bool) -> Reply {
    let (agent, page) = signed_in_at(s, &codes.verification_uri_complete);
    let consent = submit(&agent, &page, &codes.user_code);
    decide(&agent, &consent, allow)
}

#[test]
fn a_device_polls_while_its_user_approves_then_gets_tokens_once() {
    let (s, client) = world("metrics = true");
    let reply = authorize(&s, &client, "scope=read+openid");
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    let body = reply.json();
    let codes = codes(&reply);
    assert_eq!(
        (body["expires_in"].as_i64(), body["interval"].as_i64()),
        (Some(600), Some(5))
    );
    let verification_uri = format!("{}{PAGE}", s.base);
    assert_eq!(body["verification_uri"], verification_uri.as_str());
    assert_eq!(
        codes.verification_uri_complete,
        format!("{verification_uri}?user_code={}", codes.user_code)
    );
    let user_code = &codes.user_code;
    assert_eq!(user_code.len(), 9, "{user_code}");
    assert_eq!(user_code.as_bytes()[4], b'-');
    assert!(
        user_code
            .replace('-', "")
            .bytes()
            .all(|b| b"BCDFGHJKLMNPQRSTVWXZ".contains(&b)),
        "{user_code}"
    );
    let db = dump(&s);
    assert!(!db.contains(&codes.device_code) && !db.contains(&user_code.replace('-', "")));
    assert!(!db.contains(user_code.as_str()), "only digests are stored");

    // Polled before anyone decided: pending; too soon again: slow_down, 5 s slower. The
    // pace is kept in memory: waiting polls write nothing (docs/security.md rule 56).
    let before = dump(&s);
    assert_error(
        &poll(&s, &client, &codes.device_code),
        400,
        "authorization_pending",
    );
    assert_error(&poll(&s, &client, &codes.device_code), 400, "slow_down");
    s.advance(5);
    let slower = poll(&s, &client, &codes.device_code);
    assert_error(&slower, 400, "slow_down");
    assert!(
        slower.body.contains("wait 5 seconds longer"),
        "5 s was still too soon for the grown interval: {}",
        slower.body
    );
    s.advance(14);
    assert_error(&poll(&s, &client, &codes.device_code), 400, "slow_down");
    s.advance(20);
    assert_error(
        &poll(&s, &client, &codes.device_code),
        400,
        "authorization_pending",
    );
    assert_eq!(dump(&s), before, "no poll wrote anything");
    assert_eq!(stored(&s).1, 5);

    // The user opens the complete URI: signs in, sees the code filled in, but nothing is
    // approved until they submit it (RFC 8628 §5.4).
    let (agent, page) = signed_in_at(&s, &codes.verification_uri_complete);
    assert!(
        page.body.contains(&format!("value=\"{user_code}\"")),
        "{}",
        page.body
    );
    assert_eq!(stored(&s).0, "pending");
    let consent = submit(&agent, &page, &user_code.to_lowercase().replace('-', " "));
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(
        consent.body.contains("bob&quot;e'i;--ü</strong>"),
        "the name, escaped: {}",
        consent.body
    );
    // The code, so that the user checks it against their device (RFC 8628 §3.3.1, §5.4).
    assert!(
        consent.body.contains(&format!(
            "Code <strong>{user_code}</strong> — check that your device"
        )),
        "{}",
        consent.body
    );
    assert!(consent.body.contains("Read scope"), "{}", consent.body);
    assert!(!consent.body.contains("Remember this decision"));
    assert_eq!(stored(&s).0, "pending", "the consent page decides nothing");
    let done = decide(&agent, &consent, true);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Return to your device"), "{}", done.body);
    let dana = s.store().find_user_by_username(USERNAME).unwrap().unwrap();
    let (status, _, user, used) = stored(&s);
    assert_eq!(
        (status.as_str(), user, used),
        ("approved", Some(dana.id), None)
    );

    // Approved: the next poll gets tokens, whatever its pace.
    let tokens = poll(&s, &client, &codes.device_code);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.header("Cache-Control"), Some("no-store"));
    let json = tokens.json();
    assert_eq!(json["scope"], "openid read");
    assert!(json["refresh_token"].is_string() && json["id_token"].is_string());
    let access = json["access_token"].as_str().unwrap();
    assert_eq!(s.with_bearer("GET", "/api/hello", access, "").status, 200);
    assert!(stored(&s).3.is_some(), "used");
    assert_eq!(rows(&s, "grants"), 1);
    let metrics = s.request("GET", "/metrics", &[], b"").body;
    assert!(
        metrics.contains("oauthd_tokens_issued_total{grant=\"device_code\"} 1"),
        "{metrics}"
    );

    // Presented again at once (a retry after a lost response): refused, nothing revoked.
    assert_error(&poll(&s, &client, &codes.device_code), 400, "invalid_grant");
    s.advance(4);
    assert_error(&poll(&s, &client, &codes.device_code), 400, "invalid_grant");
    assert_eq!(s.with_bearer("GET", "/api/hello", access, "").status, 200);
    // Presented again an interval after its use: a replay; what it gave is revoked
    // (docs/security.md rule 55).
    s.advance(1);
    assert_error(&poll(&s, &client, &codes.device_code), 400, "invalid_grant");
    assert_eq!(s.with_bearer("GET", "/api/hello", access, "").status, 401);
    let refresh_token = json["refresh_token"].as_str().unwrap();
    assert_error(&refresh(&s, &client, refresh_token), 400, "invalid_grant");
    assert!(
        s.request("GET", "/metrics", &[], b"")
            .body
            .contains("oauthd_replays_detected_total{kind=\"device_code\"} 1")
    );
}

/// A refresh of a device-grant refresh token by the public `client`.
fn refresh(s: &TestServer, client: &Client, refresh_token: &str) -> Reply {
    let form = format!(
        "grant_type=refresh_token&refresh_token={refresh_token}&client_id={}",
        client.id
    );
    s.post_form("/o/token/", &form, None)
}

#[test]
fn concurrent_polls_after_approval_have_exactly_one_winner_whose_tokens_stay_good() {
    let (s, client) = world("");
    let codes = codes(&authorize(&s, &client, "scope=read"));
    assert_eq!(approve(&s, &codes, true).status, 200);
    let polls = 8;
    let barrier = Arc::new(Barrier::new(polls));
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..polls)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let (s, client, code) = (&s, &client, &codes.device_code);
                scope.spawn(move || {
                    barrier.wait();
                    poll(s, client, code)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let (winners, losers): (Vec<_>, Vec<_>) = replies.iter().partition(|r| r.status == 200);
    assert_eq!(winners.len(), 1, "{:?}", replies.iter().map(|r| &r.body));
    for loser in losers {
        assert_error(loser, 400, "invalid_grant");
    }
    assert_eq!(rows(&s, "grants"), 1, "one grant, never two");
    assert!(stored(&s).3.is_some());

    // The losers were the device's own polls: the winner's tokens work, and refresh.
    let tokens = winners[0].json();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(s.with_bearer("GET", "/api/hello", access, "").status, 200);
    let refreshed = refresh(&s, &client, tokens["refresh_token"].as_str().unwrap());
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let renewed = refreshed.json();
    assert_eq!(renewed["scope"], "read");
    let access = renewed["access_token"].as_str().unwrap();
    assert_eq!(s.with_bearer("GET", "/api/hello", access, "").status, 200);
    assert_eq!(rows(&s, "grants"), 1, "the same grant");
    assert_eq!(
        rows(&s, "refresh_tokens WHERE revoked IS NULL"),
        1,
        "the successor"
    );

    // An interval later the code is a replay: the grant goes, refreshed tokens too.
    s.advance(5);
    assert_error(&poll(&s, &client, &codes.device_code), 400, "invalid_grant");
    let hello = s.with_bearer("GET", "/api/hello", access, "");
    assert_eq!(hello.status, 401, "revoked with its grant");
    let later = refresh(&s, &client, renewed["refresh_token"].as_str().unwrap());
    assert_error(&later, 400, "invalid_grant");
}

/// Deny, or a form carrying both buttons (a denial too: docs/security.md rule 54).
#[test]
fn a_denied_code_gets_access_denied_and_cannot_be_approved_after() {
    for buttons in [&["deny"][..], &["allow", "deny"]] {
        let (s, client) = world("");
        let codes = codes(&authorize(&s, &client, "scope=read"));
        let (agent, page) = signed_in_at(&s, &codes.verification_uri_complete);
        let consent = submit(&agent, &page, &codes.user_code);
        let denied = post_consent(&agent, &consent, buttons);
        assert_eq!(denied.status, 200, "{}", denied.body);
        assert!(denied.body.contains("Request denied"), "{}", denied.body);
        assert_eq!(stored(&s).0, "denied", "{buttons:?}");
        for _ in 0..2 {
            assert_error(&poll(&s, &client, &codes.device_code), 400, "access_denied");
        }
        // The consent form posted again, now with Allow: refused, and it stays denied.
        let again = decide(&agent, &consent, true);
        assert_eq!(again.status, 200);
        assert!(
            again.body.contains("That code is not valid"),
            "{}",
            again.body
        );
        assert_eq!(stored(&s).0, "denied");
        assert_eq!((rows(&s, "grants"), rows(&s, "access_tokens")), (0, 0));
    }
}

#[test]
fn approving_twice_is_refused_and_keeps_the_first_decision() {
    let (s, client) = world("");
    let codes = codes(&authorize(&s, &client, ""));
    let (agent, page) = signed_in_at(&s, &codes.verification_uri_complete);
    let consent = submit(&agent, &page, &codes.user_code);
    assert_eq!(decide(&agent, &consent, true).status, 200);
    let twice = decide(&agent, &consent, false);
    assert!(
        twice.body.contains("That code is not valid"),
        "{}",
        twice.body
    );
    assert_eq!(stored(&s).0, "approved");
    let typed_again = submit(&agent, &page, &codes.user_code);
    assert!(typed_again.body.contains("That code is not valid"));
    assert_eq!(poll(&s, &client, &codes.device_code).status, 200);
}

#[test]
fn an_expired_code_gets_expired_token_cannot_be_approved_and_is_swept() {
    let s = TestServer::in_the_past(&format!(
        "{}\ndevice_code_expire_seconds = 30\n",
        crate::support::TUTORIAL_SETTINGS
    ));
    s.add_user(USERNAME, PASSWORD, false);
    let client = s.add_client("public", "device-code", &[]);
    let codes = codes(&authorize(&s, &client, ""));
    assert_eq!(codes_expire_in(&s), 30);
    let (agent, page) = signed_in_at(&s, &codes.verification_uri_complete);
    s.advance(30);
    assert_error(&poll(&s, &client, &codes.device_code), 400, "expired_token");
    let late = submit(&agent, &page, &codes.user_code);
    assert!(
        late.body.contains("That code is not valid"),
        "{}",
        late.body
    );
    assert_eq!(stored(&s).0, "pending");
    // `cleartokens` reads the real clock, already past the server's by more than 30 s.
    let (code, out, err) = s.cli(&["cleartokens"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(" 0 codes, 1 device codes, "), "{out}");
    assert_eq!(rows(&s, "device_codes"), 0);
    assert_error(&poll(&s, &client, &codes.device_code), 400, "invalid_grant");
}

fn codes_expire_in(s: &TestServer) -> i64 {
    let conn = rusqlite::Connection::open(s.db_path()).unwrap();
    conn.query_row("SELECT expires - created FROM device_codes", [], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn wrong_codes_are_throttled_like_passwords() {
    let (s, client) = world("");
    let codes = codes(&authorize(&s, &client, ""));
    let (agent, page) = signed_in_at(&s, &format!("{}{PAGE}", s.base));
    assert!(page.body.contains("value=\"\""), "nothing pre-filled");
    let wrong_ones = ["BBBB-BBBB", "not a code", "", "BCDF-GHJ", "ZZZZ-ZZZZ"];
    let free = usize::try_from(FREE_TRIES_PER_USER_CODE_ENTRY).unwrap();
    for wrong in wrong_ones.iter().cycle().take(free) {
        let reply = submit(&agent, &page, wrong);
        assert_eq!(reply.status, 200);
        assert!(
            reply.body.contains("That code is not valid"),
            "{}",
            reply.body
        );
    }
    // Past the free tries even the right code must wait: 429 with Retry-After.
    let throttled = submit(&agent, &page, &codes.user_code);
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    let wait: i64 = throttled.header("Retry-After").unwrap().parse().unwrap();
    assert!(wait > 0);
    assert!(throttled.body.contains("Too many failed attempts"));
    assert!(!throttled.body.contains("Authorize "), "no consent page");
    assert_eq!(stored(&s).0, "pending");
    s.advance(wait);
    let consent = submit(&agent, &page, &codes.user_code);
    assert_eq!(consent.status, 200);
    assert!(consent.body.contains("Authorize "), "{}", consent.body);
}

/// docs/security.md rule 53: a user's own live code (any signed-in user can make one with a
/// device app of their own) passes, but does not clear their count of wrong ones.
#[test]
fn a_live_code_of_ones_own_does_not_reset_the_count_of_wrong_ones() {
    let (s, client) = world("");
    let target = codes(&authorize(&s, &client, ""));
    let own = codes(&authorize(&s, &client, ""));
    let (agent, page) = signed_in_at(&s, &format!("{}{PAGE}", s.base));
    let wrong = |n: usize| -> Vec<u16> {
        (0..n)
            .map(|_| submit(&agent, &page, "BBBB-BBBB").status)
            .collect()
    };
    let all_but_one = usize::try_from(FREE_TRIES_PER_USER_CODE_ENTRY).unwrap() - 1;
    assert_eq!(wrong(all_but_one), vec![200; all_but_one]);
    let consent = submit(&agent, &page, &own.user_code);
    assert!(consent.body.contains("Authorize "), "{}", consent.body);
    let mut last_free_then_throttled = vec![429; all_but_one];
    last_free_then_throttled[0] = 200;
    assert_eq!(
        wrong(all_but_one),
        last_free_then_throttled,
        "the own code did not give the free tries back"
    );
    let throttled = submit(&agent, &page, &target.user_code);
    assert_eq!(throttled.status, 429);
    assert_eq!(rows(&s, "device_codes WHERE status = 'pending'"), 2);
}

#[test]
fn the_page_needs_a_signed_in_user_and_a_csrf_token() {
    let (s, client) = world("");
    let codes = codes(&authorize(&s, &client, ""));
    let anonymous = s.request("GET", &format!("{PAGE}?user_code=x"), &[], b"");
    assert_eq!(anonymous.status, 303);
    let location = anonymous.header("Location").unwrap();
    assert!(
        location.starts_with("/accounts/login/?next=%2Fo%2Fdevice%2F"),
        "{location}"
    );
    let (agent, _) = signed_in_at(&s, &codes.verification_uri_complete);
    let forged = owned(&[
        ("user_code", codes.user_code.clone()),
        ("allow", "x".into()),
    ]);
    let reply = agent.post(PAGE, &forged);
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(stored(&s).0, "pending");
    let head = s.request("PUT", PAGE, &[], b"");
    assert_eq!(head.status, 405);
}

#[test]
fn bad_requests_get_the_token_endpoints_errors_and_store_nothing() {
    let (s, client) = world("");
    let code_only = s.add_client(
        "public",
        "authorization-code",
        &["--redirect-uri", "https://a.example/cb"],
    );
    let cases: [(Reply, u16, &str); 6] = [
        (
            s.post_form(AUTHORIZATION, "scope=read", None),
            400,
            "invalid_client",
        ),
        (
            s.post_form(AUTHORIZATION, "client_id=nobody", None),
            400,
            "invalid_client",
        ),
        (
            authorize(&s, &client, "scope=read+admin"),
            400,
            "invalid_scope",
        ),
        (authorize(&s, &code_only, ""), 400, "unauthorized_client"),
        (
            s.request("GET", AUTHORIZATION, &[], b""),
            405,
            "invalid_request",
        ),
        (
            s.post_form(
                AUTHORIZATION,
                &format!("client_id={}&scope=a&scope=b", client.id),
                None,
            ),
            400,
            "invalid_request",
        ),
    ];
    for (reply, status, error) in &cases {
        assert_error(reply, *status, error);
        assert!(reply.json()["error_description"].is_string());
    }
    assert_eq!(rows(&s, "device_codes"), 0);

    // At the token endpoint: a missing code, an unknown one, another client's.
    let form = format!("grant_type={DEVICE_GRANT}&client_id={}", client.id);
    assert_error(
        &s.post_form("/o/token/", &form, None),
        400,
        "invalid_request",
    );
    assert_error(&poll(&s, &client, "nonsense"), 400, "invalid_grant");
    let other = s.add_client("public", "device-code", &[]);
    let codes = codes(&authorize(&s, &client, ""));
    assert_error(&poll(&s, &other, &codes.device_code), 400, "invalid_grant");
    assert_error(
        &poll(&s, &code_only, &codes.device_code),
        400,
        "unauthorized_client",
    );
    assert_eq!(
        stored(&s),
        ("pending".into(), 5, None, None),
        "their polls left no trace"
    );
}

#[test]
fn confidential_clients_authenticate_at_both_endpoints() {
    let (s, _) = world("");
    let client = s.add_client("confidential", "device-code", &[]);
    let wrong = (client.id.as_str(), "wrong");
    let refused = s.post_form(AUTHORIZATION, "scope=read", Some(wrong));
    assert_error(&refused, 401, "invalid_client");
    assert!(refused.header("WWW-Authenticate").is_some());
    let bare = authorize(&s, &client, "scope=read");
    assert_error(&bare, 400, "invalid_client");
    assert_eq!(rows(&s, "device_codes"), 0);
    let codes = codes(&s.post_form(AUTHORIZATION, "scope=read", Some(client.basic())));
    assert_eq!(approve(&s, &codes, true).status, 200);
    assert_error(
        &poll(&s, &client, &codes.device_code),
        400,
        "invalid_client",
    );
    let form = format!(
        "grant_type={}&device_code={}",
        crate::support::form_encode(DEVICE_GRANT),
        codes.device_code
    );
    let tokens = s.post_form("/o/token/", &form, Some(client.basic()));
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.json()["scope"], "read");
    assert!(
        tokens.json().get("id_token").is_none(),
        "no openid, no id_token"
    );
}

#[test]
fn the_metadata_names_the_endpoint_and_the_grant() {
    let (s, _) = world("");
    let metadata = s
        .request("GET", "/.well-known/openid-configuration", &[], b"")
        .json();
    assert_eq!(
        metadata["device_authorization_endpoint"],
        format!("{}{AUTHORIZATION}", s.base).as_str()
    );
    let grants = metadata["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == DEVICE_GRANT), "{grants:?}");
}

/// panva's openid-client (`tests/rp/device_flow.mjs`) discovers the device endpoint, asks for
/// codes and polls, while this test plays the user on the page; the tokens it gets work.
#[test]
fn openid_client_for_node_runs_the_device_flow() {
    // A one-second interval: the library waits it out on the wall clock before each poll.
    let (s, _) = world("device_flow_interval = 1");
    let client = s.add_client("confidential", "device-code", &[]);
    let secret = client.secret.clone().unwrap();
    let args = [s.base.as_str(), client.id.as_str(), secret.as_str()];
    let saw = crate::oidc_rp::run_node_rp(
        "device_flow.mjs",
        "openid-client",
        &args,
        "verify ",
        |url| {
            let (agent, page) = signed_in_at(&s, url);
            let prefilled = crate::support::form_fields(&page, PAGE);
            assert_eq!(
                prefilled.len(),
                1,
                "only the CSRF token is hidden: {prefilled:?}"
            );
            let typed = url.split_once("user_code=").unwrap().1;
            let consent = submit(&agent, &page, typed);
            assert_eq!(decide(&agent, &consent, true).status, 200);
            "approved".into()
        },
    );
    assert_eq!(
        saw["device_authorization_endpoint"],
        format!("{}{AUTHORIZATION}", s.base).as_str()
    );
    assert_eq!(
        saw["verification_uri"],
        format!("{}{PAGE}", s.base).as_str()
    );
    assert_eq!(
        (saw["expires_in"].as_i64(), saw["interval"].as_i64()),
        (Some(600), Some(1))
    );
    assert_eq!(saw["scope"], "openid read");
    let dana = s.store().find_user_by_username(USERNAME).unwrap().unwrap();
    assert_eq!(saw["claims"]["sub"], dana.subject.as_str());
    assert_eq!(saw["claims"]["aud"], client.id.as_str());
    assert_eq!(saw["has_refresh_token"], true);
    assert_eq!(
        saw["introspection"]["active"], true,
        "{}",
        saw["introspection"]
    );
    assert_eq!(saw["introspection"]["username"], USERNAME);
    let access = saw["access_token"].as_str().unwrap();
    assert_eq!(s.with_bearer("GET", "/api/hello", access, "").status, 200);
    let (status, _, user, used) = stored(&s);
    assert_eq!(
        (status.as_str(), user, used.is_some()),
        ("approved", Some(dana.id), true)
    );
}

/// The real binary's stderr (access log and security events) after a whole flow, wrong and
/// throttled codes included, holds no device code, user code or token (docs/security.md
/// rule 57).
#[test]
fn codes_and_tokens_stay_out_of_the_log() {
    let (s, client) = world("");
    let log = s.dir.path().join("stderr.log");
    let serving = crate::support::Serving::start_logging(&s.db_path(), &[], &log);
    let form = format!("client_id={}", client.id);
    let codes = codes(&serving.post_form(AUTHORIZATION, &form, None));
    let agent = UserAgent::new(&serving);
    let back = agent.sign_in_for(&codes.verification_uri_complete, USERNAME, PASSWORD);
    let page = agent.get(&back);
    let consent = submit(&agent, &page, &codes.user_code);
    assert_eq!(decide(&agent, &consent, true).status, 200);
    for _ in 0..6 {
        submit(&agent, &page, "BCDF-BCDF");
    }
    let throttled = submit(&agent, &page, &codes.user_code);
    assert_eq!(throttled.status, 429, "throttled: {}", throttled.body);
    let form = format!(
        "grant_type={}&device_code={}&client_id={}",
        crate::support::form_encode(DEVICE_GRANT),
        codes.device_code,
        client.id
    );
    let tokens = serving.post_form("/o/token/", &form, None);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let tokens = tokens.json();
    let (access, refresh_token) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    let refresh_form = format!(
        "grant_type=refresh_token&refresh_token={refresh_token}&client_id={}",
        client.id
    );
    assert_eq!(
        serving.post_form("/o/token/", &refresh_form, None).status,
        200
    );
    assert_error(
        &serving.post_form("/o/token/", &form, None),
        400,
        "invalid_grant",
    );
    let (lines, text) = crate::support::log_lines(&log, 10, |line| line.contains("/o/device"));
    assert!(lines.len() >= 10, "{text}");
    assert!(
        text.contains("login_throttled") && text.contains("user_code"),
        "{text}"
    );
    let normal = codes.user_code.replace('-', "");
    for kept_out in [
        codes.device_code.as_str(),
        &codes.user_code,
        &normal,
        access,
        refresh_token,
        "BCDF-BCDF",
        "BCDFBCDF",
    ] {
        assert!(!text.contains(kept_out), "{kept_out}: {text}");
    }
}

/// The registration page offers the grant; a public app registered there with it alone (no
/// redirect URI needed) gets device codes.
#[test]
fn a_user_registers_a_device_app_on_the_pages() {
    let (s, _) = world("");
    let dana = crate::support::sign_in(&s, USERNAME, PASSWORD);
    let page = crate::support::get_as(&s, &dana.cookie, "/o/applications/register/");
    assert!(page.body.contains("value=\"device-code\""), "{}", page.body);
    assert!(page.body.contains("Device code (RFC 8628)"));
    let form = [
        ("csrfmiddlewaretoken", dana.csrf.as_str()),
        ("name", "Dana's TV"),
        ("client_type", "public"),
        ("grant_types", "device-code"),
        ("redirect_uris", ""),
        ("allowed_scopes", "read"),
        ("enabled", "on"),
    ];
    let body = serde_urlencoded::to_string(form).unwrap();
    let posted = crate::support::post_as(&s, &dana, "/o/applications/register/", &body);
    assert_eq!(posted.status, 303, "{}", posted.body);
    let apps = s.store().list_apps(None).unwrap();
    let tv = apps
        .iter()
        .find(|a| a.fields.name == "Dana's TV")
        .expect("stored");
    assert_eq!(
        tv.fields.grant_types,
        [oauthd::model::GrantType::DeviceCode]
    );
    let client = Client {
        id: tv.client_id.clone(),
        secret: None,
    };
    let reply = authorize(&s, &client, "scope=read");
    assert_eq!(codes(&reply).user_code.len(), 9);
}

#[test]
fn a_flood_of_device_authorizations_from_one_address_is_refused() {
    // docs/security.md rule 66: 60 requests in ten minutes per address, good or bad.
    const BUDGET: usize = 60;
    let (s, client) = world("");
    for i in 0..BUDGET {
        let form = if i % 2 == 0 {
            "scope=read"
        } else {
            "scope=%00"
        };
        let reply = authorize(&s, &client, form);
        assert!(matches!(reply.status, 200 | 400), "{i}: {}", reply.body);
    }
    let before = rows(&s, "device_codes");
    assert_eq!(before, (BUDGET / 2) as i64, "the good half was stored");
    let refused = authorize(&s, &client, "scope=read");
    assert_error(&refused, 429, "temporarily_unavailable");
    assert_eq!(refused.header("Retry-After"), Some("600"));
    assert_eq!(rows(&s, "device_codes"), before, "nothing stored");
    s.advance(600);
    codes(&authorize(&s, &client, "scope=read"));
    assert_eq!(rows(&s, "device_codes"), before + 1);
}

#[test]
fn a_device_asks_for_resources_within_its_apps_list_and_its_tokens_are_for_them() {
    // docs/security.md rules 63–64: RFC 8707 on the device grant too.
    const API: &str = "https://api.example/v1";
    const FILES: &str = "https://files.example/";
    let (s, _) = world("");
    let client = s.add_client(
        "confidential",
        "device-code",
        &["--resource", API, "--resource", FILES],
    );
    let ask = |form: &str| s.post_form(AUTHORIZATION, form, Some(client.basic()));
    let poll_for = |device_code: &str, resource: &str| {
        let mut form = format!(
            "grant_type={}&device_code={device_code}",
            crate::support::form_encode(DEVICE_GRANT)
        );
        if !resource.is_empty() {
            form += &format!("&resource={}", crate::support::form_encode(resource));
        }
        s.post_form("/o/token/", &form, Some(client.basic()))
    };
    let audience = |token: &str| {
        let form = format!("token={token}");
        let reply = s.post_form("/o/introspect/", &form, Some(client.basic()));
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["aud"].clone()
    };

    // Outside the app's list, or not an absolute URI: invalid_target, nothing stored.
    for bad in ["https://other.example/", "relative/path"] {
        let refused = ask(&format!(
            "scope=read&resource={}",
            crate::support::form_encode(bad)
        ));
        assert_error(&refused, 400, "invalid_target");
        assert!(!refused.body.contains(bad), "not echoed: {}", refused.body);
    }
    assert_eq!(rows(&s, "device_codes"), 0);

    // One resource asked: the consent page shows it, and the token is for it alone.
    let one = codes(&ask(&format!(
        "scope=read&resource={}",
        crate::support::form_encode(API)
    )));
    let (agent, page) = signed_in_at(&s, &one.verification_uri_complete);
    let consent = submit(&agent, &page, &one.user_code);
    assert!(consent.body.contains(API), "{}", consent.body);
    assert!(!consent.body.contains(FILES), "{}", consent.body);
    assert_eq!(decide(&agent, &consent, true).status, 200);
    let widened = poll_for(&one.device_code, FILES);
    assert_error(&widened, 400, "invalid_target");
    assert_eq!(stored(&s).3, None, "the refused poll left the code unused");
    let tokens = poll_for(&one.device_code, "");
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(audience(&field(&tokens.json(), "access_token")), API);

    // None asked: the app's whole list, which a poll may narrow.
    s.advance(60);
    let all = codes(&ask("scope=read"));
    let consent = {
        let (agent, page) = signed_in_at(&s, &all.verification_uri_complete);
        let consent = submit(&agent, &page, &all.user_code);
        assert!(consent.body.contains(API) && consent.body.contains(FILES));
        decide(&agent, &consent, true)
    };
    assert_eq!(consent.status, 200);
    let narrowed = poll_for(&all.device_code, FILES);
    assert_eq!(narrowed.status, 200, "{}", narrowed.body);
    assert_eq!(audience(&field(&narrowed.json(), "access_token")), FILES);
    let refreshed = s.post_form(
        "/o/token/",
        &format!(
            "grant_type=refresh_token&refresh_token={}",
            field(&narrowed.json(), "refresh_token")
        ),
        Some(client.basic()),
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let both = audience(&field(&refreshed.json(), "access_token"));
    assert_eq!(
        both,
        serde_json::json!([API, FILES]),
        "the grant's whole set"
    );
}
