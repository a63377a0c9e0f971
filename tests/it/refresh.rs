//! The refresh_token grant: rotation, replay as theft (RFC 9700 §4.14.2), the rotation race,
//! narrowing (RFC 6749 §6), the no-rotation setting and refresh-token expiry.

use crate::support::{
    TUTORIAL_SETTINGS, TestServer, Tutorial, field, integrity_ok, live_refresh_tokens,
};
use oauthd::secret::digest;
use std::sync::Arc;

/// The grant id a refresh token belongs to, read from the store.
fn grant_of(t: &Tutorial, refresh_token: &str) -> i64 {
    t.server
        .store()
        .find_refresh_token(&digest(refresh_token))
        .unwrap()
        .expect("stored refresh token")
        .grant
        .id
}

fn hello_status(t: &Tutorial, access_token: &str) -> u16 {
    t.server
        .with_bearer("GET", "/api/hello", access_token, "")
        .status
}

#[test]
fn rotation_replaces_the_refresh_token_and_retires_the_old_one() {
    let t = Tutorial::new();
    let first = t.admin_tokens("");
    let old_refresh = field(&first, "refresh_token");
    let reply = t.refresh(&old_refresh, "");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    let second = reply.json();
    assert_ne!(field(&second, "refresh_token"), old_refresh);
    assert_eq!(second["scope"], "groups read write");
    assert_eq!(
        hello_status(&t, &field(&first, "access_token")),
        401,
        "the old access token is retired"
    );
    assert_eq!(hello_status(&t, &field(&second, "access_token")), 200);
    let stored_old = t
        .server
        .store()
        .find_refresh_token(&digest(&old_refresh))
        .unwrap()
        .unwrap();
    assert!(
        stored_old.revoked.is_some(),
        "the old refresh token is marked retired"
    );
    assert_eq!(live_refresh_tokens(&t.server, stored_old.grant.id), 1);
}

#[test]
fn replaying_a_rotated_refresh_token_revokes_the_whole_family() {
    let t = Tutorial::new();
    let first = t.admin_tokens("");
    let old_refresh = field(&first, "refresh_token");
    let second = t.refresh(&old_refresh, "").json();
    let grant = grant_of(&t, &old_refresh);

    let replay = t.refresh(&old_refresh, "");
    assert_eq!(
        (replay.status, replay.error()),
        (400, "invalid_grant".to_string())
    );
    assert_eq!(
        hello_status(&t, &field(&second, "access_token")),
        401,
        "descendant access token revoked"
    );
    let next = t.refresh(&field(&second, "refresh_token"), "");
    assert_eq!(
        (next.status, next.error()),
        (400, "invalid_grant".to_string()),
        "descendant refresh token revoked"
    );
    assert_eq!(live_refresh_tokens(&t.server, grant), 0);

    // Another family of the same user and client is untouched.
    let other = t.admin_tokens("");
    assert_eq!(hello_status(&t, &field(&other, "access_token")), 200);
}

#[test]
fn sixteen_concurrent_refreshes_have_exactly_one_winner_and_never_fork() {
    let t = Arc::new(Tutorial::new());
    let refresh = field(&t.admin_tokens(""), "refresh_token");
    let grant = grant_of(&t, &refresh);
    let results = t.concurrent_refreshes(&refresh, 16);
    let winners = results.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(winners, 1, "{results:?}");
    for (status, body) in &results {
        assert!(
            *status == 200 || (*status == 400 && body.contains("invalid_grant")),
            "{status} {body}"
        );
    }
    // The losers presented a retired token: a replay, so the family is revoked. Never two live.
    let live = live_refresh_tokens(&t.server, grant);
    assert!(live <= 1, "a family holds {live} live refresh tokens");
    assert_eq!(live, 0, "the replays revoked the family");
    assert!(integrity_ok(&t.server));
}

#[test]
fn a_refresh_narrows_the_scope_but_never_widens_it() {
    let t = Tutorial::new();
    let first = t.admin_tokens("&scope=read+write");
    let narrowed = t
        .refresh(&field(&first, "refresh_token"), "&scope=read")
        .json();
    assert_eq!(narrowed["scope"], "read");
    let token = field(&narrowed, "access_token");
    assert_eq!(
        t.server
            .with_bearer("POST", "/users/", &token, "username=x&password=y")
            .status,
        403
    );

    let wider = t.refresh(&field(&narrowed, "refresh_token"), "&scope=read+groups");
    assert_eq!(
        (wider.status, wider.error()),
        (400, "invalid_scope".to_string())
    );
    assert_eq!(
        hello_status(&t, &token),
        200,
        "a refused refresh changes nothing"
    );
    // RFC 6749 §6: the original grant (read write) is still the bound.
    let back = t.refresh(&field(&narrowed, "refresh_token"), "&scope=read+write");
    assert_eq!(
        (back.status, back.json()["scope"].as_str()),
        (200, Some("read write"))
    );
}

#[test]
fn without_rotation_the_refresh_token_stays_and_the_access_token_is_replaced() {
    let server = TestServer::with_settings(&format!(
        "{TUTORIAL_SETTINGS}\nrotate_refresh_token = false"
    ));
    let t = Tutorial::with_server(server);
    let first = t.admin_tokens("");
    let refresh = field(&first, "refresh_token");
    let second = t.refresh(&refresh, "").json();
    assert!(
        second.get("refresh_token").is_none(),
        "no new refresh token: {second}"
    );
    assert_eq!(hello_status(&t, &field(&first, "access_token")), 401);
    let third = t.refresh(&refresh, "");
    assert_eq!(
        third.status, 200,
        "the same refresh token keeps working: {}",
        third.body
    );
    assert_eq!(hello_status(&t, &field(&third.json(), "access_token")), 200);
    assert_eq!(hello_status(&t, &field(&second, "access_token")), 401);
}

#[test]
fn an_expired_refresh_token_is_invalid_grant() {
    let server = TestServer::with_settings(&format!(
        "{TUTORIAL_SETTINGS}\nrefresh_token_expire_seconds = 1"
    ));
    let t = Tutorial::with_server(server);
    let [live, refresh] = [(); 2].map(|()| field(&t.admin_tokens(""), "refresh_token"));
    let last_second = t.refresh(&live, "");
    assert_eq!(last_second.status, 200, "{}", last_second.body);
    t.server.advance(1);
    let reply = t.refresh(&refresh, "");
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_grant".to_string())
    );
    let stored = t
        .server
        .store()
        .find_refresh_token(&digest(&refresh))
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.revoked, None,
        "an expired token is refused, not treated as a replay"
    );
}

#[test]
fn another_clients_refresh_token_is_refused_and_the_family_survives() {
    let t = Tutorial::new();
    let refresh = field(&t.admin_tokens(""), "refresh_token");
    let other = t.server.add_client("confidential", "password", &[]);
    let form = format!("grant_type=refresh_token&refresh_token={refresh}");
    let reply = t.server.post_form("/o/token/", &form, Some(other.basic()));
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_grant".to_string())
    );
    assert_eq!(
        t.refresh(&refresh, "").status,
        200,
        "the owner can still refresh"
    );
}

#[test]
fn a_refresh_for_a_disabled_user_fails() {
    let t = Tutorial::new();
    let alice = t.password_grant("alice", crate::support::ALICE_PASSWORD, "");
    assert_eq!(alice.status, 200);
    let refresh = field(&alice.json(), "refresh_token");
    let (code, _, err) = t.server.cli(&["user", "disable", "alice"], "");
    assert_eq!(code, 0, "{err}");
    let reply = t.refresh(&refresh, "");
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_grant".to_string())
    );
    assert_eq!(
        hello_status(&t, &field(&alice.json(), "access_token")),
        401,
        "a disabled user's token stops working"
    );
}

#[test]
fn a_refresh_never_issues_a_scope_no_longer_configured() {
    let mut t = Tutorial::new();
    let tokens = t.admin_tokens("");
    assert_eq!(tokens["scope"], "groups read write");
    let without_groups = "scopes = { read = \"R\", write = \"W\" }\n";
    std::fs::write(t.server.config_path(), without_groups).unwrap();
    t.server.restart();
    let reply = t.refresh(&field(&tokens, "refresh_token"), "");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["scope"], "read write");
    let asked = t.refresh(&field(&reply.json(), "refresh_token"), "&scope=groups");
    assert_eq!(
        (asked.status, asked.error()),
        (400, "invalid_scope".to_string())
    );
}
