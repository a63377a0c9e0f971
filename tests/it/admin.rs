//! The admin page `/o/admin/`: administrators only (404 for anyone else); every user, app and
//! token; making users; disabling users and apps; revoking anyone's token; site_name and
//! custom_css in every page's frame.

use crate::support::{
    ALICE_PASSWORD, Browser, HOSTILE, LOGIN, Reply, TUTORIAL_SETTINGS, TestServer, Tutorial, field,
    get_as, home, login_form, open_login, post_as, sign_in, signed_in,
};
use crate::tokens_page::{
    MISSING, alice, alice_tokens, assert_login_redirect, assert_redirect, csrf_form, escaped,
    hello, token_id,
};
use oauthd::secret::digest;

const ADMIN: &str = "/o/admin/";
const NEW_USER: &str = "/o/admin/users/";
const ADMIN_LINK: &str = "href=\"/o/admin/\"";
const NEW_PASSWORD: &str = "carol's Päss <1>";

/// The subject of the user with this username (what the admin page's paths name them by).
fn user_subject(s: &TestServer, username: &str) -> String {
    s.store()
        .find_user_by_username(username)
        .unwrap()
        .expect("the user exists")
        .subject
}

/// The public id of the app with this client_id (what the pages put in their paths).
fn app_id(s: &TestServer, client_id: &str) -> String {
    s.store()
        .find_app_by_client_id(client_id)
        .unwrap()
        .expect("the app exists")
        .public_id
}

fn toggle_path(kind: &str, id: impl std::fmt::Display, action: &str) -> String {
    format!("/o/admin/{kind}/{id}/{action}/")
}

fn revoke_path(id: &str) -> String {
    format!("/o/admin/tokens/{id}/revoke/")
}

/// A login attempt from a fresh browser.
fn try_login(s: &TestServer, username: &str, password: &str) -> Reply {
    let (_, anonymous) = open_login(s, "/");
    post_as(
        s,
        &anonymous,
        LOGIN,
        &login_form(&anonymous.csrf, username, password, "/"),
    )
}

/// A client_credentials token request with `(client_id, secret)`.
fn client_credentials(s: &TestServer, basic: (&str, &str)) -> Reply {
    s.post_form("/o/token/", "grant_type=client_credentials", Some(basic))
}

fn encode(fields: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

/// Replaces (or adds) one field.
fn with(
    mut fields: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    fields.retain(|(k, _)| *k != name);
    fields.push((name, value.to_owned()));
    fields
}

/// The display name in [`new_user_form`].
const CAROLS_NAME: &str = "Carol \"e'i;--ü";

/// A valid "make a user" form: carol, not an administrator.
fn new_user_form(csrf: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrfmiddlewaretoken", csrf.to_owned()),
        ("username", "carol".into()),
        ("email", "carol@example.com".into()),
        ("name", CAROLS_NAME.into()),
        ("password", NEW_PASSWORD.into()),
        ("password2", NEW_PASSWORD.into()),
    ]
}

#[test]
fn only_administrators_see_the_admin_page_and_its_actions() {
    let t = Tutorial::new();
    let s = &t.server;
    assert_login_redirect(&s.request("GET", ADMIN, &[], b""), ADMIN);

    let (alices, _) = alice_tokens(&t);
    let admins = field(&t.admin_tokens(""), "access_token");
    let browser = alice(s);
    let not_found = get_as(s, &browser.cookie, ADMIN);
    assert_eq!(not_found.status, 404, "{}", not_found.body);
    assert!(!not_found.body.contains("Make a user"));

    let admin_id = user_subject(s, "admin");
    let app = app_id(s, &t.client.id);
    let csrf = csrf_form(&browser.csrf);
    let posts = [
        (NEW_USER.to_owned(), encode(&new_user_form(&browser.csrf))),
        (toggle_path("users", admin_id, "disable"), csrf.clone()),
        (
            toggle_path("users", user_subject(s, "alice"), "disable"),
            csrf.clone(),
        ),
        (toggle_path("apps", &app, "disable"), csrf.clone()),
        (revoke_path(&token_id(s, &admins)), csrf.clone()),
        (revoke_path(&token_id(s, &alices)), csrf.clone()),
    ];
    for (path, form) in &posts {
        let reply = post_as(s, &browser, path, form);
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
        assert_eq!(reply.body, not_found.body, "{path}");
    }
    let store = s.store();
    assert!(store.find_user_by_username("carol").unwrap().is_none());
    assert!(store.user_views(None).unwrap().iter().all(|u| u.is_active));
    let found = store.find_app_by_public_id(&app).unwrap().unwrap();
    assert!(found.usable && found.fields.enabled && !found.disabled_by_admin);
    assert_eq!((hello(s, &admins), hello(s, &alices)), (200, 200));

    assert!(!home(s, &browser.cookie).body.contains(ADMIN_LINK));
    let admin = signed_in(s);
    assert!(home(s, &admin.cookie).body.contains(ADMIN_LINK));
}

#[test]
fn the_admin_sees_every_user_app_and_token() {
    let t = Tutorial::new();
    let s = &t.server;
    let other = s.add_client(
        "public",
        "implicit",
        &["--redirect-uri", "http://127.0.0.1/cb"],
    );
    let (alices, _) = alice_tokens(&t);
    let admins = field(&t.admin_tokens(""), "access_token");
    let service = client_credentials(s, t.client.basic());
    assert_eq!(service.status, 200, "{}", service.body);
    let service = field(&service.json(), "access_token");
    let admin = signed_in(s);

    let page = get_as(s, &admin.cookie, ADMIN);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("Cache-Control"), Some("no-store"));
    let users = section(&page, "users", "new-user");
    let everyone = s.store().user_views(None).unwrap();
    assert_eq!(everyone.len(), 2);
    for user in &everyone {
        assert!(users.contains(&format!("<strong>{}</strong>", user.username)));
    }
    assert!(
        users.contains(&toggle_path("users", user_subject(s, "alice"), "disable")),
        "{users}"
    );
    assert!(
        !users.contains(&toggle_path("users", user_subject(s, "admin"), "disable")),
        "no button to disable oneself"
    );
    let apps_section = section(&page, "apps", "tokens");
    let apps = s.store().list_apps(None).unwrap();
    assert_eq!(apps.len(), 2);
    for app in &apps {
        let name = format!("<strong>{}</strong>", escaped(&app.fields.name));
        assert!(apps_section.contains(&name), "{name}: {apps_section}");
        assert!(apps_section.contains(&app.client_id));
        assert!(apps_section.contains(&toggle_path("apps", &app.public_id, "disable")));
    }
    assert!(apps_section.contains(&other.id));
    assert!(!page.body.contains(HOSTILE), "the app name is escaped");
    let tokens = section(&page, "tokens", "</main>");
    for token in [&alices, &admins, &service] {
        assert!(
            tokens.contains(&revoke_path(&token_id(s, token))),
            "{tokens}"
        );
    }
    for holder in [
        "<span>alice</span>",
        "<span>admin</span>",
        "<span>(client credentials)</span>",
    ] {
        assert!(tokens.contains(holder), "{holder}: {tokens}");
    }
}

/// The admin page from the element with id `start` up to `end` (an id, or `</main>`).
fn section<'a>(page: &'a Reply, start: &str, end: &str) -> &'a str {
    let from = format!("id=\"{start}\"");
    let to = if end.starts_with('<') {
        end.to_owned()
    } else {
        format!("id=\"{end}\"")
    };
    let rest = page
        .body
        .split(&from)
        .nth(1)
        .unwrap_or_else(|| panic!("{from} in {}", page.body));
    rest.split(&to).next().unwrap()
}

#[test]
fn the_admin_makes_users_who_can_log_in() {
    let t = Tutorial::new();
    let s = &t.server;
    let admin = signed_in(s);
    for (username, is_admin) in [("carol", false), ("dave", true)] {
        let mut form = with(new_user_form(&admin.csrf), "username", username);
        if is_admin {
            form = with(form, "is_admin", "on");
        }
        let reply = post_as(s, &admin, NEW_USER, &encode(&form));
        assert_redirect(&reply, "/o/admin/#users");
        let stored = s.store().find_user_by_username(username).unwrap().unwrap();
        assert_eq!(
            (stored.email.as_str(), stored.is_admin, stored.is_active),
            ("carol@example.com", is_admin, true)
        );
        assert_eq!(
            (stored.name.as_str(), stored.email_verified),
            (CAROLS_NAME, true),
            "an address an administrator sets counts as verified"
        );
        assert!(!stored.password_hash.contains(NEW_PASSWORD));
        let browser = sign_in(s, username, NEW_PASSWORD);
        let page = home(s, &browser.cookie);
        assert!(
            page.body
                .contains(&format!("Signed in as <strong>{username}</strong>"))
        );
        assert_eq!(page.body.contains(ADMIN_LINK), is_admin, "{username}");
        let admin_page = get_as(s, &browser.cookie, ADMIN);
        assert_eq!(admin_page.status, if is_admin { 200 } else { 404 });
    }
}

#[test]
fn a_bad_new_user_is_400_with_the_error_beside_its_field_and_nothing_made() {
    let t = Tutorial::new();
    let s = &t.server;
    let admin = signed_in(s);
    let alice_hash = s
        .store()
        .find_user_by_username("alice")
        .unwrap()
        .unwrap()
        .password_hash;
    let users = s.store().user_views(None).unwrap();
    let bad_email = "x\"<b>@nowhere";
    let short = "Zq7#shr";
    let other = "carol's Päss <2>";
    let long_name = "<ü>".repeat(51);
    let cases: [(&[(&str, &str)], &str); 8] = [
        (&[("username", HOSTILE)], "username"),
        (&[("username", "")], "username"),
        (&[("username", "alice")], "username"),
        (&[("email", bad_email)], "email"),
        (&[("name", long_name.as_str())], "name"),
        (&[("name", "a\u{7}b")], "name"),
        (&[("password", short), ("password2", short)], "password"),
        (&[("password2", other)], "password"),
    ];
    for (changes, error_field) in cases {
        let mut form = with(new_user_form(&admin.csrf), "is_admin", "on");
        for (name, value) in changes {
            form = with(form, name, value);
        }
        let reply = post_as(s, &admin, NEW_USER, &encode(&form));
        let case = format!("{changes:?}");
        assert_eq!(reply.status, 400, "{case}: {}", reply.body);
        let body = &reply.body;
        assert!(
            body.contains(&format!("class=\"field-error\" id=\"{error_field}-error\"")),
            "{case}: {body}"
        );
        assert_eq!(body.matches("class=\"field-error\"").count(), 1, "{case}");
        assert!(
            body.contains("name=\"is_admin\" value=\"on\" checked"),
            "{case}: the checkbox kept: {body}"
        );
        let kept = |name: &str| form.iter().find(|(k, _)| *k == name).unwrap().1.clone();
        let (username, email, name) = (kept("username"), kept("email"), kept("name"));
        assert!(
            body.contains(&format!("name=\"name\" value=\"{}\"", escaped(&name))),
            "{case}: name kept: {body}"
        );
        assert!(
            body.contains(&format!(
                "name=\"username\" value=\"{}\"",
                escaped(&username)
            )),
            "{case}: username kept: {body}"
        );
        assert!(
            body.contains(&format!("name=\"email\" value=\"{}\"", escaped(&email))),
            "{case}: email kept: {body}"
        );
        for password in [NEW_PASSWORD, short, other] {
            assert!(
                !body.contains(&escaped(password)),
                "{case}: password echoed"
            );
            assert!(!body.contains(password), "{case}: password echoed");
        }
        assert!(
            !body.contains(HOSTILE) && !body.contains(bad_email),
            "{case}: raw"
        );
        assert_eq!(
            s.store().user_views(None).unwrap(),
            users,
            "{case}: nothing made"
        );
    }
    let alice = s.store().find_user_by_username("alice").unwrap().unwrap();
    assert_eq!(
        alice.password_hash, alice_hash,
        "the taken name is untouched"
    );
    assert_eq!(try_login(s, "carol", NEW_PASSWORD).status, 200, "no carol");
}

#[test]
fn a_disabled_user_is_signed_out_cannot_log_in_and_their_tokens_stop() {
    let t = Tutorial::new();
    let s = &t.server;
    let (token, refresh) = alice_tokens(&t);
    let browser = alice(s);
    let admin = signed_in(s);
    let id = user_subject(s, "alice");

    let reply = post_as(
        s,
        &admin,
        &toggle_path("users", &id, "disable"),
        &csrf_form(&admin.csrf),
    );
    assert_redirect(&reply, "/o/admin/#users");
    assert!(
        !s.store()
            .find_user_by_username("alice")
            .unwrap()
            .unwrap()
            .is_active
    );
    assert_eq!(hello(s, &token), 401);
    assert_login_redirect(
        &get_as(s, &browser.cookie, "/o/applications/"),
        "/o/applications/",
    );
    let refused = try_login(s, "alice", ALICE_PASSWORD);
    assert_eq!(refused.status, 200, "the login form again");
    assert!(refused.header("Location").is_none());
    let grant = t.password_grant("alice", ALICE_PASSWORD, "");
    assert_eq!(grant.status, 400, "{}", grant.body);
    assert_eq!(t.refresh(&refresh, "").error(), "invalid_grant");
    let page = get_as(s, &admin.cookie, ADMIN);
    assert!(page.body.contains(&toggle_path("users", &id, "enable")));
    assert!(
        s.store()
            .find_access_token(&digest(&token))
            .unwrap()
            .is_some(),
        "kept"
    );

    let reply = post_as(
        s,
        &admin,
        &toggle_path("users", &id, "enable"),
        &csrf_form(&admin.csrf),
    );
    assert_redirect(&reply, "/o/admin/#users");
    assert!(
        s.store()
            .find_user_by_username("alice")
            .unwrap()
            .unwrap()
            .is_active
    );
    assert_eq!(hello(s, &token), 200, "tokens survive a disable");
    assert_login_redirect(
        &get_as(s, &browser.cookie, "/o/applications/"),
        "/o/applications/",
    );
    assert_eq!(try_login(s, "alice", ALICE_PASSWORD).status, 303);
    let refreshed = t.refresh(&refresh, "");
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
}

/// Regression: the admin page named users by row id, which SQLite gives to the next user made
/// once the newest is removed, so a stale page's buttons acted on that new user.
#[test]
fn a_stale_admin_button_for_a_removed_user_does_not_act_on_the_next_one() {
    let t = Tutorial::new();
    let s = &t.server;
    s.add_user("dave", ALICE_PASSWORD, false);
    let dave = s.store().find_user_by_username("dave").unwrap().unwrap();
    let admin = signed_in(s);
    let stale = get_as(s, &admin.cookie, ADMIN);
    let (disable, password) = (
        toggle_path("users", &dave.subject, "disable"),
        format!("/o/admin/users/{}/password/", dave.subject),
    );
    for button in [&disable, &password] {
        assert!(
            stale.body.contains(&format!("action=\"{button}\"")),
            "{button}"
        );
    }
    let (code, _, err) = s.cli(&["user", "remove", "dave"], "");
    assert_eq!(code, 0, "{err}");
    s.add_user("erin", ALICE_PASSWORD, false);
    let erin = s.store().find_user_by_username("erin").unwrap().unwrap();
    assert_eq!(erin.id, dave.id, "SQLite gave the row id again");
    assert_ne!(erin.subject, dave.subject);

    let fields = [
        ("csrfmiddlewaretoken", admin.csrf.clone()),
        ("password", NEW_PASSWORD.to_owned()),
        ("password2", NEW_PASSWORD.to_owned()),
    ];
    for button in [&disable, &password] {
        let reply = post_as(s, &admin, button, &encode(&fields));
        assert_eq!(reply.status, 404, "{button}: {}", reply.body);
        assert!(reply.body.contains("Not found"), "{}", reply.body);
    }
    let now = s.store().find_user_by_username("erin").unwrap().unwrap();
    assert_eq!(now, erin, "erin is unchanged");
    assert_eq!(try_login(s, "erin", ALICE_PASSWORD).status, 303);

    let fresh = get_as(s, &admin.cookie, ADMIN);
    let erins = toggle_path("users", &erin.subject, "disable");
    assert!(fresh.body.contains(&erins), "{}", fresh.body);
    assert!(!fresh.body.contains(&disable));
}

#[test]
fn the_admin_cannot_disable_themselves() {
    let t = Tutorial::new();
    let s = &t.server;
    let admin = signed_in(s);
    let id = user_subject(s, "admin");
    let reply = post_as(
        s,
        &admin,
        &toggle_path("users", &id, "disable"),
        &csrf_form(&admin.csrf),
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("You cannot disable or enable your own account.")
    );
    assert!(
        s.store()
            .find_user_by_username("admin")
            .unwrap()
            .unwrap()
            .is_active
    );
    assert_eq!(home(s, &admin.cookie).status, 200, "still signed in");
    let missing = post_as(
        s,
        &admin,
        &toggle_path("users", "0123456789abcdef0123456789abcdef", "disable"),
        &csrf_form(&admin.csrf),
    );
    assert_eq!(missing.status, 404);
}

#[test]
fn a_disabled_app_cannot_use_its_tokens_or_authenticate() {
    let t = Tutorial::new();
    let s = &t.server;
    let (user_token, _) = alice_tokens(&t);
    let service = field(
        &client_credentials(s, t.client.basic()).json(),
        "access_token",
    );
    let admin = signed_in(s);
    let id = app_id(s, &t.client.id);

    let reply = post_as(
        s,
        &admin,
        &toggle_path("apps", &id, "disable"),
        &csrf_form(&admin.csrf),
    );
    assert_redirect(&reply, "/o/admin/#apps");
    let found = s.store().find_app_by_public_id(&id).unwrap().unwrap();
    assert!(!found.usable && found.disabled_by_admin && found.fields.enabled);
    assert_eq!((hello(s, &user_token), hello(s, &service)), (401, 401));
    let refused = client_credentials(s, t.client.basic());
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.error(), "invalid_client");

    let reply = post_as(
        s,
        &admin,
        &toggle_path("apps", &id, "enable"),
        &csrf_form(&admin.csrf),
    );
    assert_redirect(&reply, "/o/admin/#apps");
    let found = s.store().find_app_by_public_id(&id).unwrap().unwrap();
    assert!(found.usable && found.fields.enabled && !found.disabled_by_admin);
    assert_eq!((hello(s, &user_token), hello(s, &service)), (200, 200));
    assert_eq!(client_credentials(s, t.client.basic()).status, 200);
}

/// The text of `<code id="{id}">` on a page.
fn code_text(page: &Reply, id: &str) -> String {
    let marker = format!("<code id=\"{id}\">");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker}: {}", page.body));
    page.body[start + marker.len()..]
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}

/// The form of a client_credentials app, as `owner` posts it.
fn service_app_form(owner: &Browser) -> Vec<(&'static str, String)> {
    vec![
        ("csrfmiddlewaretoken", owner.csrf.clone()),
        ("name", HOSTILE.to_owned()),
        ("client_type", "confidential".into()),
        ("grant_types", "client-credentials".into()),
        ("allowed_scopes", "read".into()),
        ("enabled", "on".into()),
    ]
}

/// `owner` registers a client_credentials app through the form; its id, client_id and secret.
fn register_service_app(s: &TestServer, owner: &Browser) -> (String, String, String) {
    let form = encode(&service_app_form(owner));
    let posted = post_as(s, owner, "/o/applications/register/", &form);
    assert_eq!(posted.status, 303, "{}", posted.body);
    let page = get_as(s, &owner.cookie, posted.header("Location").unwrap());
    assert_eq!(page.status, 200, "{}", page.body);
    let (client_id, secret) = (
        code_text(&page, "client_id"),
        code_text(&page, "client_secret"),
    );
    assert_eq!(client_credentials(s, (&client_id, &secret)).status, 200);
    (app_id(s, &client_id), client_id, secret)
}

#[test]
fn a_disabled_users_own_apps_stop_with_them() {
    let t = Tutorial::new();
    let s = &t.server;
    let (_, client_id, secret) = register_service_app(s, &alice(s));
    let issued = client_credentials(s, (&client_id, &secret));
    let token = field(&issued.json(), "access_token");
    assert_eq!(hello(s, &token), 200);
    let admin = signed_in(s);
    let id = user_subject(s, "alice");
    let disable = post_as(
        s,
        &admin,
        &toggle_path("users", &id, "disable"),
        &csrf_form(&admin.csrf),
    );
    assert_redirect(&disable, "/o/admin/#users");
    assert_eq!(hello(s, &token), 401, "her app's token stops");
    let refused = client_credentials(s, (&client_id, &secret));
    assert_eq!(
        (refused.status, refused.error().as_str()),
        (401, "invalid_client")
    );
    let enable = post_as(
        s,
        &admin,
        &toggle_path("users", &id, "enable"),
        &csrf_form(&admin.csrf),
    );
    assert_redirect(&enable, "/o/admin/#users");
    assert_eq!(hello(s, &token), 200);
}

#[test]
fn an_app_the_admin_disabled_stays_disabled_when_its_owner_enables_it() {
    let t = Tutorial::new();
    let s = &t.server;
    let owner = alice(s);
    let fields = service_app_form(&owner);
    let (id, client_id, secret) = register_service_app(s, &owner);

    let admin = signed_in(s);
    let reply = post_as(
        s,
        &admin,
        &toggle_path("apps", &id, "disable"),
        &csrf_form(&admin.csrf),
    );
    assert_redirect(&reply, "/o/admin/#apps");

    let reply = post_as(
        s,
        &owner,
        &format!("/o/applications/{id}/update/"),
        &encode(&fields),
    );
    assert_redirect(&reply, &format!("/o/applications/{id}/"));
    let found = s.store().find_app_by_public_id(&id).unwrap().unwrap();
    assert!(
        !found.usable && found.disabled_by_admin && found.fields.enabled,
        "{found:?}"
    );
    assert_eq!(client_credentials(s, (&client_id, &secret)).status, 401);

    let reply = post_as(
        s,
        &admin,
        &toggle_path("apps", &id, "enable"),
        &csrf_form(&admin.csrf),
    );
    assert_redirect(&reply, "/o/admin/#apps");
    assert_eq!(client_credentials(s, (&client_id, &secret)).status, 200);
}

#[test]
fn the_admin_revokes_anyones_token() {
    let t = Tutorial::new();
    let s = &t.server;
    let (access, refresh) = alice_tokens(&t);
    let admin = signed_in(s);
    let id = token_id(s, &access);
    let listed = get_as(s, &admin.cookie, ADMIN);
    let tokens = section(&listed, "tokens", "</main>");
    assert!(
        tokens.contains(&format!("<a href=\"{}\"", revoke_path(&id))),
        "Revoke is a link to the confirmation, not a button that acts: {tokens}"
    );
    let confirm = get_as(s, &admin.cookie, &revoke_path(&id));
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(
        confirm.body.contains("Revoke access for"),
        "{}",
        confirm.body
    );
    assert!(
        confirm
            .body
            .contains(&format!("action=\"{}\"", revoke_path(&id)))
    );
    assert!(
        confirm.body.contains("href=\"/o/admin/#tokens\""),
        "Cancel goes back"
    );
    assert!(confirm.body.contains(&admin.csrf));
    assert_eq!(hello(s, &access), 200, "asking revokes nothing");
    let missing = get_as(s, &admin.cookie, &revoke_path(MISSING));
    assert_eq!(missing.status, 404, "{}", missing.body);
    let alices_view = get_as(s, &alice(s).cookie, &revoke_path(&id));
    assert_eq!(alices_view.status, 404, "admins only");
    let reply = post_as(s, &admin, &revoke_path(&id), &csrf_form(&admin.csrf));
    assert_redirect(&reply, "/o/admin/#tokens");
    assert_eq!(hello(s, &access), 401);
    assert!(
        s.store()
            .find_access_token(&digest(&access))
            .unwrap()
            .is_none()
    );
    assert_eq!(t.refresh(&refresh, "").error(), "invalid_grant");
    assert!(
        !get_as(s, &admin.cookie, ADMIN)
            .body
            .contains(&revoke_path(&id))
    );
    let again = post_as(s, &admin, &revoke_path(&id), &csrf_form(&admin.csrf));
    assert_eq!(again.status, 404, "{}", again.body);
    let gone = get_as(s, &admin.cookie, &revoke_path(&id));
    assert_eq!(gone.status, 404, "{}", gone.body);
}

#[test]
fn every_admin_post_needs_the_csrf_token() {
    let t = Tutorial::new();
    let s = &t.server;
    let (token, _) = alice_tokens(&t);
    let admin = signed_in(s);
    let app = app_id(s, &t.client.id);
    let alice_id = user_subject(s, "alice");
    let paths = [
        NEW_USER.to_owned(),
        toggle_path("users", alice_id, "disable"),
        toggle_path("apps", &app, "disable"),
        revoke_path(&token_id(s, &token)),
    ];
    let valid = new_user_form(&admin.csrf);
    let without = encode(&valid[1..]);
    let wrong = encode(&with(valid.clone(), "csrfmiddlewaretoken", "wrong"));
    for path in &paths {
        for form in [&without, &wrong] {
            let reply = post_as(s, &admin, path, form);
            assert_eq!(reply.status, 403, "{path}: {}", reply.body);
            assert!(reply.body.contains("CSRF"));
        }
    }
    let store = s.store();
    assert!(store.find_user_by_username("carol").unwrap().is_none());
    assert!(
        store
            .find_user_by_username("alice")
            .unwrap()
            .unwrap()
            .is_active
    );
    assert!(store.find_app_by_public_id(&app).unwrap().unwrap().usable);
    assert_eq!(hello(s, &token), 200);
}

const BRAND_CSS: &str = "body { color: teal } /* <brand> */";

/// Every page's frame: anonymous, a signed-in user's, the admin's and an error page.
fn frames(t: &Tutorial) -> Vec<(&'static str, Reply)> {
    let s = &t.server;
    let (login, _) = open_login(s, "/");
    let admin: Browser = signed_in(s);
    let mut pages = vec![("login", login)];
    for (path, status) in [
        ("/", 200),
        ("/o/applications/", 200),
        ("/o/applications/register/", 200),
        ("/o/authorized_tokens/", 200),
        (ADMIN, 200),
        ("/o/applications/9999/", 404),
    ] {
        let page = get_as(s, &admin.cookie, path);
        assert_eq!(page.status, status, "{path}: {}", page.body);
        pages.push((path, page));
    }
    pages
}

#[test]
fn site_name_and_custom_css_are_in_every_page() {
    let settings = format!("{TUTORIAL_SETTINGS}\nsite_name = \"Acme <ID>\"\n");
    let mut server = TestServer::with_settings(&settings);
    // custom_css is read at startup: the file first, then the setting, then a restart.
    std::fs::write(server.dir.path().join("brand.css"), BRAND_CSS).unwrap();
    std::fs::write(
        server.config_path(),
        format!("{settings}custom_css = \"brand.css\"\n"),
    )
    .unwrap();
    server.restart();
    let t = Tutorial::with_server(server);
    for (path, page) in frames(&t) {
        let body = &page.body;
        assert!(body.contains("· Acme &lt;ID&gt;</title>"), "{path}: {body}");
        assert!(
            body.contains("<a class=\"site\" href=\"/\">Acme &lt;ID&gt;</a>"),
            "{path}"
        );
        assert!(!body.contains("Acme <ID>"), "{path}: raw");
        assert!(
            body.contains("<link rel=\"stylesheet\" href=\"/static/custom.css\">"),
            "{path}: {body}"
        );
    }
    let css = t.server.request("GET", "/static/custom.css", &[], b"");
    assert_eq!(css.status, 200);
    assert!(css.header("Content-Type").unwrap().starts_with("text/css"));
    assert_eq!(css.body, BRAND_CSS);
}

#[test]
fn without_custom_css_nothing_links_or_serves_it() {
    let t = Tutorial::new();
    for (path, page) in frames(&t) {
        assert!(!page.body.contains("/static/custom.css"), "{path}");
        assert!(page.body.contains("/static/oauthd.css"), "{path}");
        assert!(
            page.body.contains("· oauthd</title>"),
            "{path}: {}",
            page.body
        );
    }
    let css = t.server.request("GET", "/static/custom.css", &[], b"");
    assert_eq!(css.status, 404);
    assert_ne!(css.body, BRAND_CSS);
}
