//! What the device-grant tests share (tests/it/device.rs, browser_device.rs, oidc_agent.rs,
//! registration.rs): a server with a device client, the device's requests, and its user's
//! steps on `/o/device/`.

use crate::support::{Client, HOSTILE, Reply, TestServer, UserAgent, csrf_in, form_fields, owned};

/// The device's user, and her password.
pub const USERNAME: &str = "dana";
pub const PASSWORD: &str = "dana's pass ü";
/// The grant type of a poll (RFC 8628 §3.4).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The device authorization endpoint, and the page where the user types the code.
pub const AUTHORIZATION: &str = "/o/device-authorization/";
pub const PAGE: &str = "/o/device/";

/// A server with dana and a public device client named [`HOSTILE`].
pub fn world(extra: &str) -> (TestServer, Client) {
    let s = TestServer::with_extra_settings(extra);
    s.add_user(USERNAME, PASSWORD, false);
    let client = s.add_app(&[
        "--name",
        HOSTILE,
        "--client-type",
        "public",
        "--grant",
        "device-code",
    ]);
    (s, client)
}

/// The device's request for codes, with `form` after its client_id.
pub fn authorize(s: &TestServer, client: &Client, form: &str) -> Reply {
    s.post_form(
        AUTHORIZATION,
        &format!("client_id={}&{form}", client.id),
        None,
    )
}

/// The codes of a successful device authorization response.
pub struct Codes {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri_complete: String,
}

pub fn codes(reply: &Reply) -> Codes {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    let text = |name: &str| {
        body[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name}"))
            .to_owned()
    };
    Codes {
        device_code: text("device_code"),
        user_code: text("user_code"),
        verification_uri_complete: text("verification_uri_complete"),
    }
}

/// One poll of the token endpoint by a public client.
pub fn poll(s: &TestServer, client: &Client, device_code: &str) -> Reply {
    let form = format!(
        "grant_type={}&device_code={device_code}&client_id={}",
        crate::support::form_encode(DEVICE_GRANT),
        client.id
    );
    s.post_form("/o/token/", &form, None)
}

/// The stored (status, interval, deciding user, used) of the only device code.
pub fn stored(s: &TestServer) -> (String, i64, Option<i64>, Option<i64>) {
    let conn = rusqlite::Connection::open(s.db_path()).unwrap();
    conn.query_row(
        "SELECT status, interval, user_id, used FROM device_codes",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap()
}

/// dana's browser, signed in through the verification URI (or the bare page).
pub fn signed_in_at<'a>(s: &'a TestServer, url: &str) -> (UserAgent<'a>, Reply) {
    let agent = UserAgent::new(s);
    let back = agent.sign_in_for(url, USERNAME, PASSWORD);
    let page = agent.get(&back);
    assert_eq!(page.status, 200, "{}", page.body);
    (agent, page)
}

/// Submits `user_code` on the device page as seen in `page`; more fields for the consent form.
pub fn submit(agent: &UserAgent<'_>, page: &Reply, user_code: &str) -> Reply {
    let fields = owned(&[
        ("csrfmiddlewaretoken", csrf_in(&page.body)),
        ("user_code", user_code.to_owned()),
    ]);
    agent.post(PAGE, &fields)
}

/// Allow (`true`) or Deny on a consent page the device page showed.
pub fn decide(agent: &UserAgent<'_>, consent: &Reply, allow: bool) -> Reply {
    post_consent(agent, consent, &[if allow { "allow" } else { "deny" }])
}

/// Posts a consent page the device page showed back with `buttons`.
pub fn post_consent(agent: &UserAgent<'_>, consent: &Reply, buttons: &[&str]) -> Reply {
    assert_eq!(consent.status, 200, "{}", consent.body);
    let mut fields = form_fields(consent, PAGE);
    fields.extend(buttons.iter().map(|b| (b.to_string(), "x".to_owned())));
    agent.post(PAGE, &fields)
}
