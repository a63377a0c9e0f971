//! The page that shows a new client secret, in a real browser (headless Chromium): the
//! registration's POST answers with a redirect, so reloading the page that shows the secret
//! repeats a GET, registers nothing and no longer shows the secret. Screenshots go to
//! target/screenshots/.

use crate::browser::{launch, main_text_once, open, screenshot, type_into};
use crate::support::{ALICE_PASSWORD, TestServer, Tutorial};
use headless_chrome::Tab;

const APP_NAME: &str = "Alice's nightly <job>";

fn click(tab: &Tab, selector: &str) {
    tab.wait_for_element(selector)
        .expect(selector)
        .click()
        .expect("click");
}

/// The apps named [`APP_NAME`] in the database.
fn registered(s: &TestServer) -> Vec<oauthd::model::Application> {
    let apps = s.store().list_apps(None).unwrap();
    apps.into_iter()
        .filter(|a| a.fields.name == APP_NAME)
        .collect()
}

/// Reloads the page as the browser's reload button does, and waits for `selector`.
fn reload_until(tab: &Tab, selector: &str) -> String {
    tab.reload(false, None).expect("reload");
    tab.wait_until_navigated().expect("reloaded");
    main_text_once(tab, selector)
}

#[test]
fn reloading_the_new_secret_page_registers_nothing_and_hides_the_secret() {
    let t = Tutorial::new();
    let s = &t.server;
    let browser = launch();
    let tab = browser.new_tab().expect("tab");
    open(&tab, &format!("{}/o/applications/register/", s.base));
    type_into(&tab, "#username", "alice");
    type_into(&tab, "#password", ALICE_PASSWORD);
    click(&tab, "main button[type=submit]");
    type_into(&tab, "#name", APP_NAME);
    click(&tab, "input[value=client-credentials]");
    click(&tab, "main button[type=submit]");

    let shown = main_text_once(&tab, "#client_secret");
    let secret = tab
        .find_element("#client_secret")
        .and_then(|e| e.get_inner_text())
        .expect("the secret");
    assert!(shown.contains("shown only once"), "{shown}");
    assert!(
        tab.get_url().contains("/secret/?handle="),
        "{}",
        tab.get_url()
    );
    screenshot(&tab, "secret-shown");
    let apps = registered(s);
    assert_eq!(apps.len(), 1, "{apps:?}");
    assert_eq!(apps[0].secret_digest, Some(oauthd::secret::digest(&secret)));

    let again = reload_until(&tab, "#secret-gone");
    assert!(!again.contains(&secret), "shown again: {again}");
    assert!(again.contains("was shown once"), "{again}");
    assert!(tab.find_element("#client_secret").is_err());
    screenshot(&tab, "secret-reloaded");
    assert_eq!(registered(s).len(), 1, "the reload registered nothing");
    assert_eq!(registered(s)[0].secret_digest, apps[0].secret_digest);

    // The page offers a new secret; that one too is shown once.
    click(&tab, "main form button[type=submit]");
    main_text_once(&tab, "#client_secret");
    let new = tab
        .find_element("#client_secret")
        .and_then(|e| e.get_inner_text())
        .expect("the new secret");
    assert_ne!(new, secret);
    screenshot(&tab, "secret-regenerated");
    let after = reload_until(&tab, "#secret-gone");
    assert!(!after.contains(&new), "{after}");
    let now = registered(s);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].secret_digest, Some(oauthd::secret::digest(&new)));
}
