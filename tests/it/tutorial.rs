//! DOT's DRF tutorial, steps 4 and 5, as one test.

use crate::support::{ADMIN_PASSWORD, Tutorial, field};

#[test]
fn drf_tutorial_steps_4_and_5() {
    let t = Tutorial::new();
    let s = &t.server;

    // Step 4: a token for the admin with the default scopes.
    let reply = t.password_grant("admin", ADMIN_PASSWORD, "");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert_eq!(reply.header("Pragma"), Some("no-cache"));
    let tokens = reply.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 36000);
    assert_eq!(tokens["scope"], "groups read write");
    assert!(field(&tokens, "refresh_token").len() >= 27);
    let token = field(&tokens, "access_token");

    let users = s.with_bearer("GET", "/users/", &token, "");
    assert_eq!(users.status, 200, "{}", users.body);
    let list = users.json();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "alice"]);
    assert!(
        !users.body.contains("argon2"),
        "password hashes must not be served"
    );

    let one = s.with_bearer("GET", "/users/1/", &token, "");
    assert_eq!(
        (one.status, one.json()["username"].as_str()),
        (200, Some("admin"))
    );
    assert_eq!(one.json()["is_staff"], true);

    let groups = s.with_bearer("GET", "/groups/", &token, "");
    assert_eq!(groups.status, 200);
    assert_eq!(
        groups.json(),
        serde_json::json!([{ "id": 1, "name": "staff" }])
    );
    assert_eq!(one.json()["groups"], serde_json::json!([1]));

    // The tutorial's "bar" is refused (too short): the account rules hold for the API too.
    let created = s.with_bearer(
        "POST",
        "/users/",
        &token,
        "username=foo&password=bar-bar-bar",
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["username"], "foo");
    let foo = s
        .store()
        .find_user_by_username("foo")
        .unwrap()
        .expect("foo stored");
    assert!(oauthd::secret::verify_password(
        "bar-bar-bar",
        &foo.password_hash
    ));

    // Step 5: a read-only token.
    let read_only = t.admin_tokens("&scope=read");
    assert_eq!(read_only["scope"], "read");
    let read_token = field(&read_only, "access_token");
    assert_eq!(s.with_bearer("GET", "/users/", &read_token, "").status, 200);
    assert_eq!(
        s.with_bearer("GET", "/users/1/", &read_token, "").status,
        200
    );

    let groups = s.with_bearer("GET", "/groups/", &read_token, "");
    assert_eq!(groups.status, 403);
    assert_eq!(
        groups.json()["detail"],
        "You do not have permission to perform this action."
    );
    assert!(
        groups
            .header("WWW-Authenticate")
            .unwrap()
            .contains("error=\"insufficient_scope\"")
    );
    assert!(
        groups
            .header("WWW-Authenticate")
            .unwrap()
            .contains("scope=\"groups\"")
    );

    let refused = s.with_bearer("POST", "/users/", &read_token, "username=foo2&password=bar");
    assert_eq!(refused.status, 403);
    assert!(
        refused
            .header("WWW-Authenticate")
            .unwrap()
            .contains("scope=\"write\"")
    );
    assert_eq!(
        s.store().find_user_by_username("foo2").unwrap(),
        None,
        "nothing created"
    );
}
