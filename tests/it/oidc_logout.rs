//! RP-initiated logout (docs/security.md rule 42): a confirmed POST with CSRF ends the session, and
//! the browser goes back only to a post_logout_redirect_uri the client registered.

use crate::oidc::World;
use crate::support::{Reply, TestServer, form_encode, form_fields, get_as, home, post_as};

const BYE: &str = "https://rp.example/bye";

fn logout_get(w: &World, cookie: &str, query: &str) -> Reply {
    get_as(&w.server, cookie, &format!("/o/logout/?{query}"))
}

/// The confirmation's form fields, as the page carries them.
fn confirmation_fields(page: &Reply) -> Vec<(String, String)> {
    form_fields(page, "/o/logout/")
}

fn signed_in(s: &TestServer, cookie: &str) -> bool {
    home(s, cookie).status == 200
}

#[test]
fn logout_is_confirmed_then_returns_to_the_registered_uri_with_state() {
    let w = World::new();
    let id_token = w.code_flow("openid")["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = format!(
        "id_token_hint={id_token}&post_logout_redirect_uri={}&state=s%261",
        form_encode(BYE)
    );
    let page = logout_get(&w, &w.bob.cookie, &query);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Sign out?"));
    assert!(
        page.body.contains("rp.example"),
        "says where the browser goes"
    );
    assert!(
        signed_in(&w.server, &w.bob.cookie),
        "a GET signs nobody out"
    );

    let fields = confirmation_fields(&page);
    let without_csrf: Vec<_> = fields
        .iter()
        .filter(|(k, _)| k != "csrfmiddlewaretoken")
        .cloned()
        .chain([("confirm".to_owned(), "yes".to_owned())])
        .collect();
    let forged = post_as(
        &w.server,
        &w.bob,
        "/o/logout/",
        &serde_urlencoded::to_string(&without_csrf).unwrap(),
    );
    assert_eq!(forged.status, 403);
    assert!(
        signed_in(&w.server, &w.bob.cookie),
        "no CSRF token, no logout"
    );

    let mut confirmed = fields.clone();
    confirmed.push(("confirm".into(), "yes".into()));
    let reply = post_as(
        &w.server,
        &w.bob,
        "/o/logout/",
        &serde_urlencoded::to_string(&confirmed).unwrap(),
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        reply.header("Location"),
        Some(&*format!("{BYE}?state=s%261"))
    );
    assert!(reply.header("Set-Cookie").unwrap().contains("Max-Age=0"));
    assert!(!signed_in(&w.server, &w.bob.cookie), "the session ended");
}

#[test]
fn an_expired_id_token_hint_still_identifies_the_client() {
    let w = World::new();
    let id_token = w.code_flow("openid")["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    w.server.advance(7 * 24 * 3600);
    let bob = crate::support::sign_in(&w.server, "bob", crate::oidc::PASSWORD);
    let query = format!(
        "id_token_hint={id_token}&post_logout_redirect_uri={}",
        form_encode(BYE)
    );
    let page = logout_get(&w, &bob.cookie, &query);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(confirmation_fields(&page).contains(&("client_id".into(), w.client.id.clone())));
}

#[test]
fn nobody_signed_in_goes_back_at_once_only_on_the_word_of_an_id_token() {
    let w = World::new();
    let id_token = w.code_flow("openid")["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let hinted = format!(
        "id_token_hint={id_token}&post_logout_redirect_uri={}&state=x",
        form_encode(BYE)
    );
    let reply = logout_get(&w, "", &hinted);
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("Location"), Some(&*format!("{BYE}?state=x")));
    assert!(reply.header("Set-Cookie").is_none(), "nothing to clear");
    // A client_id is anyone's word: a page with a link, not a bounce.
    let by_id = format!(
        "client_id={}&post_logout_redirect_uri={}&state=x",
        w.client.id,
        form_encode(BYE)
    );
    let page = logout_get(&w, "", &by_id);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("href=\"{BYE}?state=x\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Continue to rp.example"));
    let nowhere = logout_get(&w, "", "");
    assert_eq!(nowhere.status, 200);
    assert!(nowhere.body.contains("You are signed out"));
}

#[test]
fn only_a_confirmed_post_ends_the_session() {
    let w = World::new();
    let query = format!(
        "client_id={}&post_logout_redirect_uri={}&state=x",
        w.client.id,
        form_encode(BYE)
    );
    let page = logout_get(&w, &w.bob.cookie, &query);
    let mut fields = confirmation_fields(&page);
    fields.push(("confirm".into(), "yes".into()));
    let as_get = serde_urlencoded::to_string(&fields).unwrap();
    let reply = logout_get(&w, &w.bob.cookie, &as_get);
    assert_eq!(reply.status, 200, "a GET only asks");
    assert!(signed_in(&w.server, &w.bob.cookie));
    // A relying party's POST comes without the Lax cookie: asked again as a GET, nothing ends.
    let cross_site = w.server.request(
        "POST",
        "/o/logout/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        query.as_bytes(),
    );
    assert_eq!(cross_site.status, 303);
    assert_eq!(
        cross_site.header("Location"),
        Some(&*format!("/o/logout/?{query}"))
    );
    assert!(cross_site.header("Set-Cookie").is_none());
    assert!(signed_in(&w.server, &w.bob.cookie));
    let with_cookie = post_as(&w.server, &w.bob, "/o/logout/", &query);
    assert_eq!(with_cookie.status, 200, "the confirmation");
    assert!(with_cookie.body.contains("Sign out?"));
    assert!(signed_in(&w.server, &w.bob.cookie));
}

#[test]
fn a_logout_request_that_cannot_be_trusted_gets_a_page_and_changes_nothing() {
    let w = World::new();
    let id_token = w.code_flow("openid")["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = World::new();
    let foreign = other.code_flow("openid")["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (header, rest) = id_token.split_once('.').unwrap();
    let (payload, _) = rest.split_once('.').unwrap();
    let unsigned = format!("{header}.{payload}.");
    // Another key claiming our kid, our issuer and this client.
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    let impostor = rsa::PrivateKey::new(&mut rand::rngs::SysRng, 2048).unwrap();
    let forged =
        oauthd::oidc::jws::sign(&impostor, header["kid"].as_str().unwrap(), &claims).unwrap();
    let client = w.client.id.clone();
    let cases: Vec<(String, &str)> = vec![
        (
            format!(
                "client_id={client}&post_logout_redirect_uri={}",
                form_encode(&format!("{BYE}/"))
            ),
            "a URI differing by a slash",
        ),
        (
            format!(
                "client_id={client}&post_logout_redirect_uri={}",
                form_encode("https://evil.example/bye")
            ),
            "an unregistered URI",
        ),
        (
            format!("post_logout_redirect_uri={}", form_encode(BYE)),
            "a URI without a client",
        ),
        (
            format!("id_token_hint={foreign}"),
            "a hint from another server",
        ),
        (
            format!("id_token_hint={forged}"),
            "a hint signed by someone else with our kid",
        ),
        (
            format!("id_token_hint={unsigned}"),
            "a hint without a signature",
        ),
        ("id_token_hint=not-a-jwt".into(), "a hint that is not a JWT"),
        (
            format!("id_token_hint={id_token}&client_id=other"),
            "a client_id the hint contradicts",
        ),
        ("client_id=nobody".into(), "an unknown client"),
    ];
    for (query, what) in cases {
        let reply = logout_get(&w, &w.bob.cookie, &query);
        assert_eq!(reply.status, 400, "{what}: {}", reply.body);
        assert!(reply.header("Location").is_none(), "{what}");
        assert!(reply.body.contains("Logout error"), "{what}");
        assert!(signed_in(&w.server, &w.bob.cookie), "{what}");
    }
    // The confirmation cannot be talked into another URI either.
    let page = logout_get(
        &w,
        &w.bob.cookie,
        &format!(
            "client_id={client}&post_logout_redirect_uri={}",
            form_encode(BYE)
        ),
    );
    let mut fields = confirmation_fields(&page);
    for (name, value) in &mut fields {
        if name == "post_logout_redirect_uri" {
            *value = "https://evil.example/bye".into();
        }
    }
    fields.push(("confirm".into(), "yes".into()));
    let tampered = post_as(
        &w.server,
        &w.bob,
        "/o/logout/",
        &serde_urlencoded::to_string(&fields).unwrap(),
    );
    assert_eq!(tampered.status, 400);
    assert!(signed_in(&w.server, &w.bob.cookie));
}
