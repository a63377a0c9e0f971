//! The page that shows a new client secret, in a real browser (headless Chromium): the
//! registration's POST answers with a redirect, so reloading the page that shows the secret
//! repeats a GET, registers nothing and no longer shows the secret. Then the administrator
//! edits an app the CLI made and revokes a token after its confirmation page. Screenshots go
//! to target/screenshots/.

use crate::browser::{launch, main_text_once, open, screenshot, type_into};
use crate::support::{ADMIN_PASSWORD, ALICE_PASSWORD, TestServer, Tutorial};
use crate::tokens_page::{alice_tokens, hello, token_id};
use headless_chrome::Tab;

const APP_NAME: &str = "Alice's nightly <job>";

fn click(tab: &Tab, selector: &str) {
    tab.wait_for_element(selector)
        .expect(selector)
        .click()
        .expect("click");
}

/// Logs in on the login page the browser was sent to.
fn log_in(tab: &Tab, username: &str, password: &str) {
    type_into(tab, "#username", username);
    type_into(tab, "#password", password);
    click(tab, "main button[type=submit]");
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
    log_in(&tab, "alice", ALICE_PASSWORD);
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

#[test]
fn the_administrator_edits_a_cli_made_app_and_revokes_a_token_after_confirming() {
    let t = Tutorial::new();
    let s = &t.server;
    let (access, _) = alice_tokens(&t);
    let cli_made = s
        .store()
        .find_app_by_client_id(&t.client.id)
        .unwrap()
        .unwrap();
    let browser = launch();
    let tab = browser.new_tab().expect("tab");
    open(&tab, &format!("{}/o/admin/", s.base));
    log_in(&tab, "admin", ADMIN_PASSWORD);

    // The app's name on the admin page opens its page; Edit; a new name; Save.
    let detail = format!("/o/applications/{}/", cli_made.public_id);
    click(&tab, &format!("#apps a[href='{detail}']"));
    main_text_once(&tab, "a[href$='/update/']");
    click(&tab, "a[href$='/update/']");
    tab.wait_for_element("#name").expect("the form");
    tab.evaluate("document.getElementById('name').value = ''", false)
        .expect("clear the name");
    type_into(&tab, "#name", "Renamed by the admin");
    screenshot(&tab, "admin-edits-cli-app");
    click(&tab, "main button[type=submit]");
    let shown = main_text_once(&tab, "a[href$='/update/']");
    assert!(shown.contains("Renamed by the admin"), "{shown}");
    assert!(tab.get_url().ends_with(&detail), "{}", tab.get_url());
    let after = s.store().find_app(cli_made.id).unwrap().unwrap();
    assert_eq!(after.fields.name, "Renamed by the admin");
    assert_eq!(after.secret_digest, cli_made.secret_digest);

    // Revoke on the admin page asks first; Revoke there ends the token.
    open(&tab, &format!("{}/o/admin/", s.base));
    let revoke = format!("/o/admin/tokens/{}/revoke/", token_id(s, &access));
    click(&tab, &format!("#tokens a[href='{revoke}']"));
    let asked = main_text_once(&tab, "main button.danger");
    assert!(
        asked.contains("Revoke access for Renamed by the admin?"),
        "{asked}"
    );
    screenshot(&tab, "admin-revoke-confirm");
    assert_eq!(hello(s, &access), 200, "asking revoked nothing");
    click(&tab, "main button.danger");
    tab.wait_for_element("#new-user")
        .expect("the admin page again");
    assert!(
        tab.get_url().ends_with("/o/admin/#tokens"),
        "{}",
        tab.get_url()
    );
    assert_eq!(hello(s, &access), 401);
    screenshot(&tab, "admin-after-revoke");
}
