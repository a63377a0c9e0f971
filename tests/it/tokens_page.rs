//! The granted-tokens pages (DOT's "Granted Tokens Views"): `/o/authorized_tokens/`, grouped
//! by application, and revoking one's own token (its whole grant) with CSRF; someone else's
//! token is 404, the same as one that does not exist.

use crate::support::{
    ADMIN_PASSWORD, ALICE_PASSWORD, Browser, HOSTILE, LOGIN, Reply, TestServer, Tutorial,
    allow_and_get_code, field, form_encode, get_as, post_as, sign_in,
};
use oauthd::secret::digest;

const TOKENS: &str = "/o/authorized_tokens/";
const CALLBACK: &str = "http://127.0.0.1/cb";

/// Text as the pages show it: HTML-escaped (maud escapes `&`, `<`, `>` and `"`).
pub fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A password grant for `username` with the tutorial's client; returns (access, refresh).
pub fn password_tokens(
    t: &Tutorial,
    username: &str,
    password: &str,
    extra: &str,
) -> (String, String) {
    let reply = t.password_grant(username, password, extra);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    (field(&json, "access_token"), field(&json, "refresh_token"))
}

/// alice's tokens, for the scopes read and write.
pub fn alice_tokens(t: &Tutorial) -> (String, String) {
    password_tokens(t, "alice", ALICE_PASSWORD, "&scope=read+write")
}

/// alice, signed in.
pub fn alice(s: &TestServer) -> Browser {
    sign_in(s, "alice", ALICE_PASSWORD)
}

/// The public id of an access token's grant (what the pages put in their paths).
pub fn token_id(s: &TestServer, access: &str) -> String {
    let grant = s
        .store()
        .find_access_token(&digest(access))
        .unwrap()
        .expect("the token is stored")
        .grant
        .id;
    let conn = rusqlite::Connection::open(s.db_path()).expect("open db");
    let sql = "SELECT printf('%016x%016x', id, salt) FROM grants WHERE id = ?1";
    conn.query_row(sql, [grant], |r| r.get(0))
        .expect("the grant")
}

/// A public id that no grant or app has.
pub const MISSING: &str = "0123456789abcdef0123456789abcdef";

/// The status of `GET /api/hello` with this bearer token.
pub fn hello(s: &TestServer, access: &str) -> u16 {
    s.with_bearer("GET", "/api/hello", access, "").status
}

/// The form body carrying only this CSRF token.
pub fn csrf_form(csrf: &str) -> String {
    format!("csrfmiddlewaretoken={}", form_encode(csrf))
}

/// Asserts a 303 to `location`.
pub fn assert_redirect(reply: &Reply, location: &str) {
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.header("Location"), Some(location));
}

/// Asserts a 303 to the login page that comes back to `path`.
pub fn assert_login_redirect(reply: &Reply, path: &str) {
    assert_redirect(reply, &format!("{LOGIN}?next={}", form_encode(path)));
}

fn revoke_path(id: &str) -> String {
    format!("{TOKENS}{id}/delete/")
}

/// How many tokens a list page offers to revoke.
fn listed(page: &Reply) -> usize {
    page.body.matches("/delete/\">Revoke</a>").count()
}

#[test]
fn the_list_needs_a_login() {
    let t = Tutorial::new();
    let s = &t.server;
    let one = format!("{TOKENS}{MISSING}/delete/");
    for path in [TOKENS, "/o/authorized-tokens/", &one] {
        let reply = s.request("GET", path, &[], b"");
        assert_login_redirect(&reply, path);
    }
}

#[test]
fn the_expiry_wording_follows_the_servers_clock() {
    let t = Tutorial::new();
    let s = &t.server;
    alice_tokens(&t);
    let browser = alice(s);
    for (step, wording) in [
        (0, "expires in 10 h,"),
        (60, "expires in 9 h 59 min,"),
        (36_000 - 60 - 59, "expires in less than a minute,"),
        (59, "expired less than a minute ago,"),
        (60, "expired 1 min ago,"),
    ] {
        s.advance(step);
        let page = get_as(s, &browser.cookie, TOKENS);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(wording), "{wording}: {}", page.body);
    }
}

#[test]
fn each_user_sees_their_own_tokens_grouped_by_application() {
    let t = Tutorial::new();
    let s = &t.server;
    let (alices, _) = alice_tokens(&t);
    let admins = field(&t.admin_tokens(""), "access_token");
    let browser = alice(s);

    let page = get_as(s, &browser.cookie, TOKENS);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("<h2>{}</h2>", escaped(HOSTILE))),
        "the app name, escaped: {}",
        page.body
    );
    assert!(!page.body.contains(HOSTILE), "never raw");
    for scope in ["read", "write"] {
        assert!(
            page.body
                .contains(&format!("<span class=\"tag\">{scope}</span>")),
            "{scope}: {}",
            page.body
        );
    }
    assert!(
        !page.body.contains("<span class=\"tag\">groups</span>"),
        "alice's scope only"
    );
    assert!(
        page.body.contains("expires in 10 h, refreshable"),
        "the default lifetime, on the server's clock: {}",
        page.body
    );
    assert!(page.body.contains(&revoke_path(&token_id(s, &alices))));
    assert!(
        !page.body.contains(&revoke_path(&token_id(s, &admins))),
        "not the admin's token"
    );
    assert_eq!(listed(&page), 1);

    let hyphen = get_as(s, &browser.cookie, "/o/authorized-tokens/");
    assert_eq!(hyphen.status, 200);
    assert_eq!(
        hyphen.body, page.body,
        "the same page under DOT's other spelling"
    );

    let admin = sign_in(s, "admin", ADMIN_PASSWORD);
    let theirs = get_as(s, &admin.cookie, TOKENS);
    assert_eq!(listed(&theirs), 1);
    assert!(theirs.body.contains(&revoke_path(&token_id(s, &admins))));
}

#[test]
fn revoking_ends_the_token_and_its_refresh_token() {
    let t = Tutorial::new();
    let s = &t.server;
    let (access, refresh) = alice_tokens(&t);
    let (other, _) = alice_tokens(&t);
    let id = token_id(s, &access);
    let browser = alice(s);

    let confirm = get_as(s, &browser.cookie, &revoke_path(&id));
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(
        confirm
            .body
            .contains(&format!("Revoke access for {}?", escaped(HOSTILE))),
        "{}",
        confirm.body
    );
    assert!(
        confirm
            .body
            .contains(&format!("method=\"post\" action=\"{}\"", revoke_path(&id)))
    );
    assert_eq!(hello(s, &access), 200, "a GET revokes nothing");

    let reply = post_as(s, &browser, &revoke_path(&id), &csrf_form(&browser.csrf));
    assert_redirect(&reply, TOKENS);

    assert_eq!(hello(s, &access), 401);
    let refreshed = t.refresh(&refresh, "");
    assert_eq!(refreshed.status, 400, "{}", refreshed.body);
    assert_eq!(refreshed.error(), "invalid_grant");
    let store = s.store();
    assert!(store.find_access_token(&digest(&access)).unwrap().is_none());
    let retired = store.find_refresh_token(&digest(&refresh)).unwrap();
    assert!(retired.expect("kept, retired").revoked.is_some());

    let page = get_as(s, &browser.cookie, TOKENS);
    assert!(!page.body.contains(&revoke_path(&id)), "{}", page.body);
    assert_eq!(listed(&page), 1, "the other token stays");
    assert_eq!(hello(s, &other), 200);
    assert_eq!(
        get_as(s, &browser.cookie, &revoke_path(&id)).status,
        404,
        "gone"
    );
}

#[test]
fn a_grant_whose_access_token_the_client_revoked_is_still_listed_while_it_can_refresh() {
    let t = Tutorial::new();
    let s = &t.server;
    let (access, refresh) = alice_tokens(&t);
    let id = token_id(s, &access);
    // The client revokes only its access token (RFC 7009 §2.1): the refresh token lives on.
    let form = format!("token={access}&token_type_hint=access_token");
    let revoked = s.post_form("/o/revoke_token/", &form, Some(t.client.basic()));
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let browser = alice(s);
    let page = get_as(s, &browser.cookie, TOKENS);
    assert!(page.body.contains(&revoke_path(&id)), "{}", page.body);
    assert!(
        page.body.contains("no access token now, refreshable"),
        "{}",
        page.body
    );

    let reply = post_as(s, &browser, &revoke_path(&id), &csrf_form(&browser.csrf));
    assert_redirect(&reply, TOKENS);
    assert_eq!(t.refresh(&refresh, "").error(), "invalid_grant");
    assert_eq!(listed(&get_as(s, &browser.cookie, TOKENS)), 0);
}

#[test]
fn someone_elses_token_is_404_like_a_missing_one() {
    let t = Tutorial::new();
    let s = &t.server;
    let admins = field(&t.admin_tokens(""), "access_token");
    let id = token_id(s, &admins);
    let browser = alice(s);

    let get_theirs = get_as(s, &browser.cookie, &revoke_path(&id));
    let get_missing = get_as(s, &browser.cookie, &revoke_path(MISSING));
    let post_theirs = post_as(s, &browser, &revoke_path(&id), &csrf_form(&browser.csrf));
    let post_missing = post_as(
        s,
        &browser,
        &revoke_path(MISSING),
        &csrf_form(&browser.csrf),
    );
    for reply in [&get_theirs, &get_missing, &post_theirs, &post_missing] {
        assert_eq!(reply.status, 404, "{}", reply.body);
        assert!(!reply.body.contains(&escaped(HOSTILE)), "names nothing");
    }
    assert_eq!(get_theirs.body, get_missing.body);
    assert_eq!(post_theirs.body, post_missing.body);
    assert_eq!(hello(s, &admins), 200);

    let (alices, _) = alice_tokens(&t);
    let admin = sign_in(s, "admin", ADMIN_PASSWORD);
    let path = revoke_path(&token_id(s, &alices));
    // The header differs (it names the user); what the page says does not.
    let main = |body: &str| body.split("<main").nth(1).unwrap_or_default().to_owned();
    let get = get_as(s, &admin.cookie, &path);
    assert_eq!(
        (get.status, main(&get.body)),
        (404, main(&get_theirs.body)),
        "admins too"
    );
    let post = post_as(s, &admin, &path, &csrf_form(&admin.csrf));
    assert_eq!(
        (post.status, main(&post.body)),
        (404, main(&post_theirs.body))
    );
    assert_eq!(hello(s, &alices), 200);
    assert!(
        s.store()
            .find_access_token(&digest(&admins))
            .unwrap()
            .is_some()
    );
}

#[test]
fn a_revoke_without_the_csrf_token_is_403_and_revokes_nothing() {
    let t = Tutorial::new();
    let s = &t.server;
    let (access, refresh) = alice_tokens(&t);
    let id = token_id(s, &access);
    let browser = alice(s);
    for form in [String::new(), csrf_form("wrong"), csrf_form("")] {
        let reply = post_as(s, &browser, &revoke_path(&id), &form);
        assert_eq!(reply.status, 403, "{form:?}: {}", reply.body);
        assert!(reply.body.contains("CSRF"), "{}", reply.body);
    }
    assert_eq!(hello(s, &access), 200);
    let live = s.store().find_refresh_token(&digest(&refresh)).unwrap();
    assert_eq!(live.expect("stored").revoked, None);
    assert_eq!(listed(&get_as(s, &browser.cookie, TOKENS)), 1);
}

/// alice approves `client` on the consent page and exchanges the code; returns the access token.
fn code_flow_token(s: &TestServer, client: &crate::support::Client, browser: &Browser) -> String {
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={}&scope=read&state=s1",
        form_encode(&client.id),
        form_encode(CALLBACK)
    );
    let code = allow_and_get_code(s, browser, &query);
    let form = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}",
        form_encode(&code),
        form_encode(CALLBACK)
    );
    let token = s.post_form("/o/token/", &form, Some(client.basic()));
    assert_eq!(token.status, 200, "{}", token.body);
    field(&token.json(), "access_token")
}

#[test]
fn a_token_from_the_code_flow_is_listed_under_its_own_application() {
    let t = Tutorial::new();
    let s = &t.server;
    let web_name = "Web <app> & co";
    let web = s.add_app(&[
        "--name",
        web_name,
        "--client-type",
        "confidential",
        "--grant",
        "authorization-code",
        "--redirect-uri",
        CALLBACK,
    ]);
    let (password_token, _) = alice_tokens(&t);
    let browser = alice(s);
    let code_token = code_flow_token(s, &web, &browser);

    let page = get_as(s, &browser.cookie, TOKENS);
    assert_eq!(page.status, 200);
    assert_eq!(listed(&page), 2, "{}", page.body);
    assert_eq!(page.body.matches("<h2>").count(), 2, "one group per app");
    for (name, token) in [(web_name, &code_token), (HOSTILE, &password_token)] {
        let heading = format!("<h2>{}</h2>", escaped(name));
        let group = page
            .body
            .split(&heading)
            .nth(1)
            .unwrap_or_else(|| panic!("{heading} in {}", page.body));
        let group = group.split("</section>").next().unwrap();
        assert!(group.contains(&revoke_path(&token_id(s, token))), "{group}");
    }
    assert!(!page.body.contains(web_name));
}

#[test]
fn revoking_a_refreshed_token_ends_the_whole_grant() {
    let t = Tutorial::new();
    let s = &t.server;
    let (first, refresh) = alice_tokens(&t);
    let refreshed = t.refresh(&refresh, "");
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let json = refreshed.json();
    let (access, next_refresh) = (field(&json, "access_token"), field(&json, "refresh_token"));
    let browser = alice(s);
    let page = get_as(s, &browser.cookie, TOKENS);
    assert_eq!(
        listed(&page),
        1,
        "the refreshed token replaces the first: {}",
        page.body
    );
    let id = token_id(s, &access);
    assert!(page.body.contains(&revoke_path(&id)));

    let reply = post_as(s, &browser, &revoke_path(&id), &csrf_form(&browser.csrf));
    assert_redirect(&reply, TOKENS);
    assert_eq!((hello(s, &access), hello(s, &first)), (401, 401));
    for token in [&refresh, &next_refresh] {
        assert_eq!(t.refresh(token, "").error(), "invalid_grant");
    }
    assert_eq!(listed(&get_as(s, &browser.cookie, TOKENS)), 0);
}

/// The brief: every page has the navigation header, error pages too.
#[test]
fn a_signed_in_users_error_page_keeps_the_navigation() {
    let t = Tutorial::new();
    let s = &t.server;
    let browser = alice(s);
    let missing = get_as(s, &browser.cookie, &revoke_path(MISSING));
    assert_eq!(missing.status, 404);
    let forbidden = post_as(s, &browser, &revoke_path(MISSING), &csrf_form("wrong"));
    assert_eq!(forbidden.status, 403);
    for page in [&missing, &forbidden] {
        assert!(
            page.body.contains("Signed in as <strong>alice</strong>")
                && page.body.contains("href=\"/o/authorized_tokens/\""),
            "{}: {}",
            page.status,
            page.body
        );
    }
}
