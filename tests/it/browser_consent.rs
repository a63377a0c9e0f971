//! Remembered consent in a real browser (Debian's headless Chromium): the admin ticks
//! "Remember this decision" and allows; the next authorization request goes straight to the
//! client; the decision is forgotten on the authorized-tokens page (its token stays), and the
//! consent page comes back. Screenshots go to target/screenshots/remembered-*.png.

use crate::browser::{
    callback_listener, code_at_client, code_request, exchange, launch, main_text_once, open,
    screenshot, type_into,
};
use crate::support::{ADMIN_PASSWORD, TestServer, Tutorial, rows};
use headless_chrome::Tab;

/// Clicks the element `selector` once it is on the page.
fn press(tab: &Tab, selector: &str) {
    let element = tab.wait_for_element(selector).expect(selector);
    element.click().expect(selector);
}

#[test]
fn a_remembered_decision_skips_consent_until_forgotten_in_a_real_browser() {
    let t = Tutorial::new();
    let s: &TestServer = &t.server;
    let confidential = "--client-type confidential --grant authorization-code";
    let mut args = vec![
        "--name",
        "Remembering notes",
        "--redirect-uri",
        "http://127.0.0.1/cb",
    ];
    args.extend(confidential.split_whitespace());
    let client = s.add_app(&args);
    let (port, codes) = callback_listener();
    let redirect_uri = format!("http://127.0.0.1:{port}/cb");
    let authorize = |state: &str| code_request(s, &client, &redirect_uri, "read", state);

    let browser = launch();
    let tab = browser.new_tab().expect("tab");
    open(&tab, &authorize("first"));
    type_into(&tab, "#username", "admin");
    type_into(&tab, "#password", ADMIN_PASSWORD);
    press(&tab, "main button[type=submit]");
    let consent = main_text_once(&tab, "input[name=remember]");
    assert!(consent.contains("Remember this decision"), "{consent}");
    press(&tab, "input[name=remember]");
    let ticked = tab
        .evaluate(
            "document.querySelector('input[name=remember]').checked",
            false,
        )
        .expect("evaluate")
        .value;
    assert_eq!(ticked, Some(serde_json::Value::Bool(true)));
    screenshot(&tab, "remembered-consent-ticked");
    press(&tab, "button[name=allow]");
    let code = code_at_client(&codes, "first");
    assert_eq!(rows(s, "remembered_consents"), 1);
    exchange(s, &client, &code, &redirect_uri);

    open(&tab, &authorize("second"));
    code_at_client(&codes, "second");
    assert!(
        tab.get_url().starts_with(&redirect_uri),
        "{}",
        tab.get_url()
    );

    open(&tab, &format!("{}/o/authorized_tokens/", s.base));
    let listed = main_text_once(&tab, "#remembered");
    assert!(
        listed.contains("Remembered decisions") && listed.contains("Remembering notes"),
        "{listed}"
    );
    screenshot(&tab, "remembered-decisions");
    press(&tab, "#remembered a");
    let confirm = main_text_once(&tab, "button.danger");
    assert!(
        confirm.contains("Forget your decision for Remembering notes?"),
        "{confirm}"
    );
    screenshot(&tab, "remembered-forget-confirm");
    press(&tab, "button.danger");
    tab.wait_for_xpath("//h1[text()='Authorized tokens']")
        .expect("back on the tokens page");
    let after = main_text_once(&tab, "h1");
    assert!(!after.contains("Remembered decisions"), "{after}");
    screenshot(&tab, "remembered-forgotten");
    assert_eq!(rows(s, "remembered_consents"), 0);
    assert_eq!(rows(s, "access_tokens"), 1, "forgetting revokes no token");

    open(&tab, &authorize("third"));
    let again = main_text_once(&tab, "button[name=allow]");
    assert!(again.contains("Authorize Remembering notes?"), "{again}");
    screenshot(&tab, "remembered-asked-again");
}
