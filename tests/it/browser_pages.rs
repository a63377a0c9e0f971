//! The self-service pages in a real browser (Debian's headless Chromium): alice registers an
//! app through the form, uses it in a code flow, revokes the token from her tokens page, and
//! the token stops working; every page is checked at phone width (375 px) for horizontal
//! scrolling, words split across lines and checkboxes too small to hit. Screenshots of each
//! page go to target/screenshots/.

use crate::browser::{callback_listener, code_at_client, launch, screenshot, type_into};
use crate::support::{ADMIN_PASSWORD, ALICE_PASSWORD, TestServer, Tutorial, field, form_encode};
use headless_chrome::Tab;
use headless_chrome::protocol::cdp::Emulation::SetDeviceMetricsOverride;

const APP_NAME: &str = "Alice's <notes> & co";

pub fn go(tab: &Tab, url: &str) {
    tab.navigate_to(url)
        .expect("navigate")
        .wait_until_navigated()
        .expect("loaded");
}

pub fn click(tab: &Tab, selector: &str) {
    tab.wait_for_element(selector)
        .expect(selector)
        .click()
        .expect("click");
}

pub fn text_of(tab: &Tab, selector: &str) -> String {
    tab.wait_for_element(selector)
        .expect(selector)
        .get_inner_text()
        .expect("text")
}

fn js_bool(tab: &Tab, expression: &str) -> bool {
    tab.evaluate(expression, false)
        .expect("evaluate")
        .value
        .and_then(|v| v.as_bool())
        .unwrap_or_else(|| panic!("{expression} is not a boolean"))
}

pub fn log_in(tab: &Tab, username: &str, password: &str) {
    type_into(tab, "#username", username);
    type_into(tab, "#password", password);
    click(tab, "main button[type=submit]");
}

/// Emulates a 375-pixel-wide phone.
pub fn phone_width(tab: &Tab) {
    tab.call_method(SetDeviceMetricsOverride {
        width: 375,
        height: 740,
        device_scale_factor: 2.0,
        mobile: true,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .expect("phone metrics");
}

/// The words outside `code` that the layout split across two lines (a break after a hyphen
/// is not a split), as a JSON list: each word's text range must sit on one line.
const SPLIT_WORDS: &str = r#"(() => {
  const split = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('code, textarea, script, style')) continue;
    for (const word of node.textContent.matchAll(/[^\s-]+-?/g)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      if (new Set(rects.map(r => Math.round(r.bottom))).size > 1) split.push(word[0]);
    }
  }
  return JSON.stringify(split);
})()"#;

/// Every checkbox and radio button is at least 24 × 24 CSS pixels (WCAG 2.2, 2.5.8).
const TOUCH_SIZED: &str =
    "[...document.querySelectorAll('input[type=checkbox], input[type=radio]')]
    .every(i => { const r = i.getBoundingClientRect(); return r.width >= 24 && r.height >= 24; })";

/// Opens `path` and checks that nothing on it scrolls sideways, that no word is split across
/// lines and that its checkboxes are touch-sized; saves `phone-<name>.png`.
pub fn fits_the_phone(tab: &Tab, s: &TestServer, path: &str, name: &str) {
    go(tab, &format!("{}{path}", s.base));
    let fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth";
    assert!(js_bool(tab, fits), "{path} scrolls sideways at phone width");
    let split = tab.evaluate(SPLIT_WORDS, false).expect("evaluate").value;
    let split = split.and_then(|v| v.as_str().map(str::to_owned));
    assert_eq!(
        split.as_deref(),
        Some("[]"),
        "{path}: words split across lines"
    );
    assert!(js_bool(tab, TOUCH_SIZED), "{path}: a checkbox under 24 px");
    screenshot(tab, &format!("phone-{name}"));
}

#[test]
fn register_an_app_use_it_and_revoke_its_token_in_a_real_browser() {
    let t = Tutorial::new();
    let s: &TestServer = &t.server;
    let browser = launch();
    let tab = browser.new_tab().expect("tab");

    // Her applications ask her to log in first, then come back.
    go(&tab, &format!("{}/o/applications/", s.base));
    assert!(
        tab.get_url().contains("next=%2Fo%2Fapplications%2F"),
        "{}",
        tab.get_url()
    );
    log_in(&tab, "alice", ALICE_PASSWORD);
    tab.wait_for_element("a[href='/o/applications/register/']")
        .expect("the applications page");
    assert!(text_of(&tab, "main").contains("No applications yet."));
    assert!(text_of(&tab, "header").contains("Signed in as alice"));
    assert!(
        tab.find_element("a[href='/o/admin/']").is_err(),
        "no Admin link for alice"
    );
    screenshot(&tab, "applications-empty");

    // The form: a first try without a redirect URI shows the error beside the field.
    click(&tab, "a[href='/o/applications/register/']");
    tab.wait_for_element("#name").expect("the form");
    screenshot(&tab, "register");
    type_into(&tab, "#name", APP_NAME);
    click(&tab, "input[value=authorization-code]");
    click(&tab, "main button[type=submit]");
    let error = text_of(&tab, "#redirect_uris-error");
    assert!(error.contains("at least one redirect URI"), "{error}");
    assert!(js_bool(
        &tab,
        &format!(
            "document.getElementById('name').value === {APP_NAME:?} && \
             document.querySelector('input[value=authorization-code]').checked"
        )
    ));
    screenshot(&tab, "register-errors");
    // Loopback redirect URIs match on any port (RFC 8252 §7.3): the listener's port varies.
    type_into(&tab, "#redirect_uris", "http://127.0.0.1/cb");
    // Submitted from the keyboard: Enter in the name field.
    click(&tab, "#name");
    tab.press_key("Enter").expect("Enter submits");
    let secret = text_of(&tab, "#client_secret");
    let client_id = text_of(&tab, "#client_id");
    assert_eq!(text_of(&tab, "h1"), APP_NAME);
    screenshot(&tab, "app-created");
    let stored = s
        .store()
        .find_app_by_client_id(&client_id)
        .unwrap()
        .expect("registered");
    assert_eq!(stored.secret_digest, Some(oauthd::secret::digest(&secret)));

    // The new app in DOT's Part 1 flow: consent, a code, the exchange with the shown secret.
    let (port, codes) = callback_listener();
    let redirect_uri = format!("http://127.0.0.1:{port}/cb");
    go(
        &tab,
        &format!(
            "{}/o/authorize/?response_type=code&client_id={client_id}&redirect_uri={}&scope=read&state=s4",
            s.base,
            form_encode(&redirect_uri)
        ),
    );
    assert!(text_of(&tab, "h1").contains(APP_NAME));
    click(&tab, "button[name=allow]");
    let code = code_at_client(&codes, "s4");
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        form_encode(&redirect_uri)
    );
    let reply = s.post_form("/o/token/", &form, Some((&client_id, &secret)));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let token = field(&reply.json(), "access_token");
    assert_eq!(s.with_bearer("GET", "/api/hello", &token, "").status, 200);

    // Her tokens page lists it under the app; Revoke, confirm, and it is gone.
    go(&tab, &format!("{}/o/authorized_tokens/", s.base));
    assert_eq!(text_of(&tab, "main h2"), APP_NAME);
    screenshot(&tab, "tokens");
    click(&tab, "a[href$='/delete/']");
    tab.wait_for_element("main button.danger")
        .expect("the confirmation");
    screenshot(&tab, "revoke");
    click(&tab, "main button.danger");
    tab.wait_for_element("main p").expect("the list again");
    assert!(
        text_of(&tab, "main").contains("You have not authorized any application."),
        "{}",
        text_of(&tab, "main")
    );
    let refused = s.with_bearer("GET", "/api/hello", &token, "");
    assert_eq!(refused.status, 401, "{}", refused.body);

    // Every page at phone width, without sideways scrolling or split words; a token listed.
    let (access, _) = crate::tokens_page::alice_tokens(&t);
    phone_width(&tab);
    let detail = format!("/o/applications/{}/", stored.public_id);
    let update = format!("/o/applications/{}/update/", stored.public_id);
    let consent = format!(
        "/o/authorize/?response_type=code&client_id={client_id}&redirect_uri={}&scope=read+write&state=s5",
        form_encode(&redirect_uri)
    );
    for (path, name) in [
        ("/", "home"),
        ("/o/applications/", "applications"),
        ("/o/applications/register/", "register"),
        (detail.as_str(), "app"),
        (update.as_str(), "update"),
        ("/o/authorized_tokens/", "tokens"),
        (consent.as_str(), "consent"),
        ("/o/no-such-page/", "not-found"),
    ] {
        fits_the_phone(&tab, s, path, name);
    }
    assert_eq!(s.with_bearer("GET", "/api/hello", &access, "").status, 200);

    // The admin's page, after Log out from the header; the login page on the way.
    click(&tab, "header button[type=submit]");
    tab.wait_for_element("#username").expect("the login page");
    fits_the_phone(&tab, s, "/accounts/login/", "login");
    go(&tab, &format!("{}/o/admin/", s.base));
    log_in(&tab, "admin", ADMIN_PASSWORD);
    tab.wait_for_element("#new-user").expect("the admin page");
    assert!(text_of(&tab, "#apps").contains(APP_NAME));
    fits_the_phone(&tab, s, "/o/admin/", "admin");
}
