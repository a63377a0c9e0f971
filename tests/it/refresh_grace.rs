//! `refresh_token_grace_period_seconds`: a retry with the just-retired refresh token (its
//! answer was lost) rotates again and retires the lost successor; anything else is still a
//! replay that revokes the family (RFC 9700 §4.14.2).

use crate::support::{
    TUTORIAL_SETTINGS, TestServer, Tutorial, assert_error, field, integrity_ok, live_refresh_tokens,
};
use oauthd::model::RefreshToken;
use oauthd::secret::digest;
use std::sync::Arc;

const GRACE: i64 = 10;

fn with_grace() -> Tutorial {
    Tutorial::with_server(TestServer::with_settings(&format!(
        "{TUTORIAL_SETTINGS}\nrefresh_token_grace_period_seconds = {GRACE}"
    )))
}

fn stored(t: &Tutorial, refresh_token: &str) -> RefreshToken {
    let found = t.server.store().find_refresh_token(&digest(refresh_token));
    found.unwrap().expect("stored refresh token")
}

fn live_in_family(t: &Tutorial, refresh_token: &str) -> i64 {
    let grant = stored(t, refresh_token).grant.id;
    live_refresh_tokens(&t.server, grant)
}

fn hello_status(t: &Tutorial, access_token: &str) -> u16 {
    let reply = t.server.with_bearer("GET", "/api/hello", access_token, "");
    reply.status
}

/// A first refresh whose answer the client "lost": returns (the retired token, the lost answer).
fn rotated_once(t: &Tutorial) -> (String, serde_json::Value) {
    let first = field(&t.admin_tokens(""), "refresh_token");
    let lost = t.refresh(&first, "");
    assert_eq!(lost.status, 200, "{}", lost.body);
    (first, lost.json())
}

#[test]
fn a_retry_within_the_grace_period_rotates_again_and_retires_the_lost_successor() {
    let t = with_grace();
    let (first, lost) = rotated_once(&t);
    t.server.advance(GRACE - 1);
    let retry = t.refresh(&first, "");
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.header("Cache-Control"), Some("no-store"));
    let retry = retry.json();
    assert_eq!(retry["scope"], "groups read write");
    let (lost_refresh, new_refresh) = (
        field(&lost, "refresh_token"),
        field(&retry, "refresh_token"),
    );
    assert_ne!(new_refresh, lost_refresh);
    assert_eq!(hello_status(&t, &field(&retry, "access_token")), 200);
    assert_eq!(
        hello_status(&t, &field(&lost, "access_token")),
        401,
        "the lost answer's access token is gone"
    );
    assert!(
        stored(&t, &lost_refresh).revoked.is_some(),
        "the lost successor is retired"
    );
    assert!(stored(&t, &new_refresh).revoked.is_none());
    assert_eq!(live_in_family(&t, &first), 1);

    // The retry's answer is the family's token now: it refreshes as usual.
    let next = t.refresh(&new_refresh, "");
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(live_in_family(&t, &first), 1);
}

#[test]
fn the_lost_successor_presented_after_a_retry_is_a_replay() {
    let t = with_grace();
    let (first, lost) = rotated_once(&t);
    let retry = t.refresh(&first, "").json();
    let replay = t.refresh(&field(&lost, "refresh_token"), "");
    assert_error(&replay, 400, "invalid_grant");
    assert_eq!(live_in_family(&t, &first), 0, "the family is revoked");
    assert_eq!(hello_status(&t, &field(&retry, "access_token")), 401);
}

#[test]
fn a_retired_token_after_the_grace_period_revokes_the_family() {
    let t = with_grace();
    let (first, lost) = rotated_once(&t);
    t.server.advance(GRACE);
    let replay = t.refresh(&first, "");
    assert_error(&replay, 400, "invalid_grant");
    assert_eq!(live_in_family(&t, &first), 0);
    assert_eq!(hello_status(&t, &field(&lost, "access_token")), 401);
    let successor = t.refresh(&field(&lost, "refresh_token"), "");
    assert_eq!(successor.status, 400, "{}", successor.body);
}

#[test]
fn retries_do_not_stretch_the_grace_period() {
    let t = with_grace();
    let (first, _) = rotated_once(&t);
    t.server.advance(GRACE - 2);
    assert_eq!(t.refresh(&first, "").status, 200);
    t.server.advance(2);
    let late = t.refresh(&first, "");
    assert_error(&late, 400, "invalid_grant");
    assert_eq!(live_in_family(&t, &first), 0);
}

#[test]
fn a_retired_token_whose_successor_was_refreshed_revokes_the_family() {
    let t = with_grace();
    let (first, lost) = rotated_once(&t);
    let third = t.refresh(&field(&lost, "refresh_token"), "").json();
    let replay = t.refresh(&first, "");
    assert_error(&replay, 400, "invalid_grant");
    assert_eq!(live_in_family(&t, &first), 0);
    assert_eq!(hello_status(&t, &field(&third, "access_token")), 401);
}

#[test]
fn a_revoked_token_gets_no_grace() {
    let t = with_grace();
    let refresh = field(&t.admin_tokens(""), "refresh_token");
    let form = format!("token={refresh}");
    let revoked = t
        .server
        .post_form("/o/revoke_token/", &form, Some(t.client.basic()));
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let again = t.refresh(&refresh, "");
    assert_error(&again, 400, "invalid_grant");
    assert_eq!(live_in_family(&t, &refresh), 0);
}

#[test]
fn concurrent_retries_of_a_retired_token_leave_exactly_one_live_token() {
    const RETRIES: usize = 8;
    let t = Arc::new(with_grace());
    let (first, _) = rotated_once(&t);
    let results = t.concurrent_refreshes(&first, RETRIES);
    let answers: Vec<String> = results
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            field(&serde_json::from_str(body).unwrap(), "refresh_token")
        })
        .collect();
    assert_eq!(live_in_family(&t, &first), 1, "{results:?}");
    let live: Vec<&String> = answers
        .iter()
        .filter(|token| stored(&t, token).revoked.is_none())
        .collect();
    assert_eq!(live.len(), 1, "exactly one answer holds the live token");
    assert!(integrity_ok(&t.server));
}
