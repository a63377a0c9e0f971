//! The device grant in a real browser (Debian's headless Chromium): the user opens the
//! verification_uri_complete a device showed, signs in, sees the code filled in and submits it,
//! allows on the consent page and is sent back to the device, whose next poll gets the tokens.
//! Screenshots go to target/screenshots/device-*.png.

use crate::browser::{launch, main_text_once, open, screenshot, type_into};
use crate::device_support::{PASSWORD, USERNAME, authorize, codes, poll, stored, world};

#[test]
fn a_user_approves_a_device_in_a_real_browser() {
    let (s, client) = world("");
    let codes = codes(&authorize(&s, &client, "scope=read+openid"));
    let browser = launch();
    let tab = browser.new_tab().expect("tab");
    open(&tab, &codes.verification_uri_complete);
    type_into(&tab, "#username", USERNAME);
    type_into(&tab, "#password", PASSWORD);
    tab.wait_for_element("main button[type=submit]")
        .and_then(|button| button.click().map(|_| ()))
        .expect("log in");
    let form = main_text_once(&tab, "input[name=user_code]");
    assert!(form.contains("Connect a device"), "{form}");
    let prefilled = tab
        .evaluate(
            "document.querySelector('input[name=user_code]').value",
            false,
        )
        .expect("evaluate")
        .value;
    assert_eq!(
        prefilled,
        Some(serde_json::Value::String(codes.user_code.clone()))
    );
    screenshot(&tab, "device-code-prefilled");
    assert_eq!(stored(&s).0, "pending", "opening the link approves nothing");
    tab.wait_for_element("main button[type=submit]")
        .and_then(|button| button.click().map(|_| ()))
        .expect("continue");
    let consent = main_text_once(&tab, "button[name=allow]");
    assert!(
        consent.contains("asks for access to your account"),
        "{consent}"
    );
    assert!(
        consent.contains("The device that showed you this code"),
        "{consent}"
    );
    let check = format!(
        "Code {} — check that your device shows the same code.",
        codes.user_code
    );
    assert!(consent.contains(&check), "{consent}");
    screenshot(&tab, "device-consent");
    assert_eq!(stored(&s).0, "pending");
    tab.wait_for_element("button[name=allow]")
        .and_then(|button| button.click().map(|_| ()))
        .expect("allow");
    tab.wait_for_xpath("//h1[text()='Device connected']")
        .expect("the success page");
    let done = main_text_once(&tab, "h1");
    assert!(done.contains("Return to your device"), "{done}");
    screenshot(&tab, "device-connected");
    assert_eq!(stored(&s).0, "approved");
    let tokens = poll(&s, &client, &codes.device_code);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(tokens.json()["id_token"].is_string());
}
