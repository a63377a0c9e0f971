//! `self_service_grants` (docs/security.md rule 65): the application pages offer users who are
//! not administrators only the listed grants (by default neither implicit nor password), a
//! forged form cannot add another, and an app's owner may keep or drop its legacy grant but
//! not add it back.

use crate::support::{
    ALICE_PASSWORD, Browser, Reply, TestServer, Tutorial, dump, get_as, post_as, sign_in, signed_in,
};
use oauthd::model::{AppFields, ClientType, GrantType};

const REGISTER: &str = "/o/applications/register/";
const CALLBACK: &str = "https://app.example/cb";

/// A registration (or update) form for a public app with these grants.
fn form(browser: &Browser, name: &str, grants: &[&str]) -> String {
    let mut fields = vec![
        ("csrfmiddlewaretoken", browser.csrf.clone()),
        ("name", name.to_owned()),
        ("client_type", "public".to_owned()),
        ("redirect_uris", CALLBACK.to_owned()),
        ("allowed_scopes", "read".to_owned()),
        ("enabled", "on".to_owned()),
    ];
    fields.extend(grants.iter().map(|g| ("grant_types", (*g).to_owned())));
    serde_urlencoded::to_string(fields).unwrap()
}

/// The grant checkboxes a page offers, by value.
fn offered(page: &Reply) -> Vec<String> {
    assert_eq!(page.status, 200, "{}", page.body);
    GrantType::ALL
        .iter()
        .map(|g| g.to_string())
        .filter(|g| {
            page.body
                .contains(&format!("name=\"grant_types\" value=\"{g}\""))
        })
        .collect()
}

/// Posts `body` to `path` as `user`: a 400 page saying `message`, and nothing stored.
fn assert_refused(s: &TestServer, user: &Browser, path: &str, body: &str, message: &str) {
    let before = dump(s);
    let reply = post_as(s, user, path, body);
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains(message), "{message}: {}", reply.body);
    assert_eq!(dump(s), before, "nothing stored");
}

/// The stored fields of the app named `name`.
fn fields_of(s: &TestServer, name: &str) -> AppFields {
    let apps = s.store().list_apps(None).unwrap();
    let app = apps.into_iter().find(|a| a.fields.name == name);
    app.expect("stored").fields
}

/// The grants of the app named `name`.
fn grants_of(s: &TestServer, name: &str) -> Vec<GrantType> {
    fields_of(s, name).grant_types
}

#[test]
fn by_default_users_are_offered_neither_implicit_nor_password_and_admins_every_grant() {
    let t = Tutorial::new();
    let s = &t.server;
    let alice = sign_in(s, "alice", ALICE_PASSWORD);
    let theirs = offered(&get_as(s, &alice.cookie, REGISTER));
    let has = |grant: &str| theirs.iter().any(|g| g == grant);
    assert!(
        has("authorization-code") && has("client-credentials"),
        "{theirs:?}"
    );
    assert!(!has("implicit") && !has("password"), "{theirs:?}");
    let admin = signed_in(s);
    let all = offered(&get_as(s, &admin.cookie, REGISTER));
    assert_eq!(all.len(), GrantType::ALL.len(), "{all:?}");
}

#[test]
fn a_forged_legacy_grant_is_refused_for_a_user_and_stored_for_an_admin() {
    let t = Tutorial::new();
    let s = &t.server;
    let alice = sign_in(s, "alice", ALICE_PASSWORD);
    for grants in [&["password"][..], &["authorization-code", "implicit"][..]] {
        let body = form(&alice, "forged", grants);
        let refused = "Only an administrator can give an application the";
        assert_refused(s, &alice, REGISTER, &body, refused);
    }
    let admin = signed_in(s);
    let reply = post_as(s, &admin, REGISTER, &form(&admin, "legacy", &["password"]));
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(grants_of(s, "legacy"), [GrantType::Password]);
}

#[test]
fn the_setting_offers_users_what_it_lists() {
    let settings = "self_service_grants = [\"authorization-code\", \"implicit\"]";
    let t = Tutorial::with_server(TestServer::with_extra_settings(settings));
    let s = &t.server;
    let alice = sign_in(s, "alice", ALICE_PASSWORD);
    let theirs = offered(&get_as(s, &alice.cookie, REGISTER));
    assert_eq!(theirs, ["authorization-code", "implicit"]);
    let grants = ["authorization-code", "implicit"];
    let reply = post_as(s, &alice, REGISTER, &form(&alice, "spa", &grants));
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        grants_of(s, "spa"),
        [GrantType::AuthorizationCode, GrantType::Implicit]
    );
    let reply = post_as(
        s,
        &alice,
        REGISTER,
        &form(&alice, "cc", &["client-credentials"]),
    );
    assert_eq!(reply.status, 400, "unlisted now: {}", reply.body);
}

/// The app named `name`'s update page, after `alice` registered it through the CLI with
/// `grants`.
fn alices_app(s: &TestServer, client_type: &str, grants: &str) -> String {
    let flags = ["--redirect-uri", CALLBACK, "--owner", "alice"];
    s.add_client(client_type, grants, &flags);
    let app = s.store().list_apps(None).unwrap().pop().expect("the app");
    format!("/o/applications/{}/update/", app.public_id)
}

#[test]
fn an_owner_may_keep_or_drop_an_apps_legacy_grant_but_not_add_it_back() {
    let t = Tutorial::new();
    let s = &t.server;
    let update = alices_app(s, "public", "authorization-code,password");
    let alice = sign_in(s, "alice", ALICE_PASSWORD);
    let page = get_as(s, &alice.cookie, &update);
    assert_eq!(
        offered(&page),
        [
            "authorization-code",
            "password",
            "client-credentials",
            "device-code"
        ]
    );
    assert!(
        page.body.contains("value=\"password\" checked>"),
        "a normal checkbox, checked: {}",
        page.body
    );
    let both = ["authorization-code", "password"];
    let reply = post_as(s, &alice, &update, &form(&alice, "kept", &both));
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        grants_of(s, "kept"),
        [GrantType::AuthorizationCode, GrantType::Password]
    );

    let edit = form(&alice, "dropped", &["authorization-code"]);
    let reply = post_as(s, &alice, &update, &edit);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(grants_of(s, "dropped"), [GrantType::AuthorizationCode]);

    let page = get_as(s, &alice.cookie, &update);
    assert!(
        !offered(&page).contains(&"password".to_owned()),
        "not offered again"
    );
    let body = form(&alice, "again", &both);
    assert_refused(s, &alice, &update, &body, "Only an administrator can give");
}

#[test]
fn an_owner_may_make_a_client_credentials_app_public_by_dropping_that_grant() {
    let settings = "self_service_grants = [\"authorization-code\"]";
    let t = Tutorial::with_server(TestServer::with_extra_settings(settings));
    let s = &t.server;
    let update = alices_app(s, "confidential", "authorization-code,client-credentials");
    let alice = sign_in(s, "alice", ALICE_PASSWORD);
    let grants = ["authorization-code", "client-credentials"];
    let body = form(&alice, "public", &grants);
    assert_refused(s, &alice, &update, &body, "needs a confidential client");
    let edit = form(&alice, "public", &["authorization-code"]);
    let reply = post_as(s, &alice, &update, &edit);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let app = fields_of(s, "public");
    assert_eq!(app.grant_types, [GrantType::AuthorizationCode]);
    assert_eq!(app.client_type, ClientType::Public);
}
