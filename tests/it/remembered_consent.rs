//! Issue 11: "Remember this decision" on the consent page — later requests of that user and
//! app for the same scopes or fewer skip the page (also with prompt=none, even for an
//! id_token-only flow), `prompt=consent` and `approval_prompt=force` still ask, and the
//! authorized-tokens page forgets it (docs/security.md rules 13, 27, 41, 51).

use crate::oidc::{PASSWORD, World};
use crate::support::{Reply, consent_fields, get_as, post_as, rows, sign_in};

const FORGET_PREFIX: &str = "/o/authorized_tokens/remembered/";

/// GETs the authorization request `query` as bob.
fn open(w: &World, query: &str) -> Reply {
    get_as(&w.server, &w.bob.cookie, &format!("/o/authorize/?{query}"))
}

/// Opens the consent page for `query` and posts `button`, with the box ticked if `remember`.
fn consent(w: &World, query: &str, button: &str, remember: bool) -> Reply {
    let page = open(w, query);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Remember this decision"),
        "{}",
        page.body
    );
    let mut fields = consent_fields(&page);
    fields.push((button.into(), "x".into()));
    if remember {
        fields.push(("remember".into(), "on".into()));
    }
    let form = serde_urlencoded::to_string(&fields).unwrap();
    post_as(&w.server, &w.bob, "/o/authorize/", &form)
}

/// The answer's parameter `name`, from the fragment or the query of its redirect.
fn answered(reply: &Reply, name: &str) -> Option<String> {
    assert_eq!(reply.status, 303, "{}", reply.body);
    let url = url::Url::parse(reply.header("Location").unwrap()).unwrap();
    let pairs = url.fragment().or(url.query()).unwrap_or("");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(pairs).unwrap();
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The forget link of the authorized-tokens page's first remembered decision.
fn forget_link(page: &Reply) -> String {
    let start = page.body.find(FORGET_PREFIX).expect("a Forget link");
    let rest = &page.body[start..];
    rest[..rest.find('"').unwrap()].to_owned()
}

#[test]
fn a_remembered_decision_skips_the_page_until_it_is_forgotten() {
    let w = World::new();
    let s = &w.server;
    let id_token_only = w.query("id_token", "openid email", "");
    let first = consent(&w, &id_token_only, "allow", true);
    assert!(answered(&first, "id_token").is_some());
    assert_eq!(rows(s, "remembered_consents"), 1);
    assert_eq!(
        rows(s, "access_tokens"),
        0,
        "an id_token-only flow holds no token"
    );

    for skipped in [
        id_token_only.clone(),
        w.query("id_token", "openid", ""),
        w.query("id_token", "openid email", "&prompt=none"),
        w.query("id_token token", "openid email", ""),
    ] {
        let reply = open(&w, &skipped);
        assert!(answered(&reply, "id_token").is_some(), "{skipped}");
    }
    assert_eq!(rows(s, "access_tokens"), 1, "the last one issued a token");
    for asked in [
        w.query("id_token", "openid email profile", ""),
        w.query("id_token", "openid email", "&prompt=consent"),
        w.query("id_token", "openid email", "&approval_prompt=force"),
    ] {
        assert_eq!(open(&w, &asked).status, 200, "{asked}");
    }

    let tokens = get_as(s, &w.bob.cookie, "/o/authorized_tokens/");
    assert!(
        tokens.body.contains("Remembered decisions"),
        "{}",
        tokens.body
    );
    let forget = forget_link(&tokens);
    let confirm = get_as(s, &w.bob.cookie, &forget);
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("Forget your decision for"),
        "{}",
        confirm.body
    );
    let forged = post_as(s, &w.bob, &forget, "csrfmiddlewaretoken=forged");
    assert_eq!(forged.status, 403);
    assert_eq!(rows(s, "remembered_consents"), 1, "nothing changed");

    let eve = {
        s.add_user("eve", PASSWORD, false);
        sign_in(s, "eve", PASSWORD)
    };
    assert_eq!(get_as(s, &eve.cookie, &forget).status, 404, "not eve's");
    let csrf = format!("csrfmiddlewaretoken={}", eve.csrf);
    assert_eq!(post_as(s, &eve, &forget, &csrf).status, 404);
    assert_eq!(rows(s, "remembered_consents"), 1, "nothing changed");

    let csrf = format!("csrfmiddlewaretoken={}", w.bob.csrf);
    let forgotten = post_as(s, &w.bob, &forget, &csrf);
    assert_eq!(forgotten.status, 303);
    assert_eq!(forgotten.header("Location"), Some("/o/authorized_tokens/"));
    assert_eq!(rows(s, "remembered_consents"), 0);
    assert_eq!(rows(s, "access_tokens"), 1, "forgetting revokes no token");
    assert_eq!(open(&w, &id_token_only).status, 200, "asked again");
    let page = get_as(s, &w.bob.cookie, "/o/authorized_tokens/");
    assert!(!page.body.contains("Remembered decisions"));
}

#[test]
fn only_a_ticked_allow_is_remembered_and_it_goes_with_the_app() {
    let w = World::new();
    let s = &w.server;
    let query = w.query("id_token", "openid", "");
    let allowed = consent(&w, &query, "allow", false);
    assert!(answered(&allowed, "id_token").is_some());
    let denied = consent(&w, &query, "deny", true);
    assert_eq!(answered(&denied, "error").as_deref(), Some("access_denied"));
    assert_eq!(rows(s, "remembered_consents"), 0);
    let none = open(&w, &w.query("id_token", "openid", "&prompt=none"));
    assert_eq!(
        answered(&none, "error").as_deref(),
        Some("consent_required")
    );

    consent(&w, &query, "allow", true);
    assert_eq!(rows(s, "remembered_consents"), 1);
    let (code, _, err) = s.cli(&["app", "remove", &w.client.id], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(rows(s, "remembered_consents"), 0, "removed with the app");
}
