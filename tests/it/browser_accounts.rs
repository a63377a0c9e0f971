//! Accounts in a real browser (Debian's headless Chromium): alice changes her password from
//! the home page's link, a wrong current password is shown beside its field, and the change
//! signs out her other session but not this one; an administrator opens a user's "Set
//! password" form. Screenshots go to target/screenshots/.

use crate::browser::{launch, open, screenshot, type_into};
use crate::browser_pages::{click, fits_the_phone, log_in, phone_width, text_of};
use crate::support::{ADMIN_PASSWORD, ALICE_PASSWORD, TestServer, Tutorial, get_as, sign_in};
use oauthd::secret::verify_password;

const NEW_PASSWORD: &str = "new pass \"e'i;--ü";

fn alices_hash(s: &TestServer) -> String {
    let alice = s.store().find_user_by_username("alice").unwrap().unwrap();
    alice.password_hash
}

#[test]
fn alice_changes_her_password_in_a_real_browser() {
    let t = Tutorial::new();
    let s: &TestServer = &t.server;
    let elsewhere = sign_in(s, "alice", ALICE_PASSWORD);
    let before = alices_hash(s);
    let browser = launch();
    let tab = browser.new_tab().expect("tab");

    open(&tab, &format!("{}/", s.base));
    log_in(&tab, "alice", ALICE_PASSWORD);
    click(&tab, "main a[href='/accounts/password_change/']");
    tab.wait_for_element("#old_password").expect("the form");
    assert_eq!(text_of(&tab, "h1"), "Change password");
    screenshot(&tab, "password-change");

    // A wrong current password: the form again, the reason beside the field, nothing changed.
    type_into(&tab, "#old_password", "not her password");
    type_into(&tab, "#new_password1", NEW_PASSWORD);
    type_into(&tab, "#new_password2", NEW_PASSWORD);
    click(&tab, "main button[type=submit]");
    let error = text_of(&tab, "#old_password-error");
    assert!(
        error.contains("old password was entered incorrectly"),
        "{error}"
    );
    assert!(text_of(&tab, "main").contains("Please correct the errors below."));
    screenshot(&tab, "password-change-error");
    assert_eq!(alices_hash(s), before);
    assert_eq!(get_as(s, &elsewhere.cookie, "/").status, 200);

    type_into(&tab, "#old_password", ALICE_PASSWORD);
    type_into(&tab, "#new_password1", NEW_PASSWORD);
    type_into(&tab, "#new_password2", NEW_PASSWORD);
    click(&tab, "main button[type=submit]");
    let notice = text_of(&tab, "[role=status]");
    assert!(notice.contains("Your password was changed."), "{notice}");
    screenshot(&tab, "password-changed");
    assert!(verify_password(NEW_PASSWORD, &alices_hash(s)));
    assert_eq!(get_as(s, &elsewhere.cookie, "/").status, 303, "signed out");
    click(&tab, "main a[href='/']");
    assert!(
        text_of(&tab, "header").contains("Signed in as alice"),
        "still here"
    );

    phone_width(&tab);
    fits_the_phone(&tab, s, "/accounts/password_change/", "password-change");
}

#[test]
fn the_admin_opens_a_users_set_password_form_in_a_real_browser() {
    let t = Tutorial::new();
    let s: &TestServer = &t.server;
    let browser = launch();
    let tab = browser.new_tab().expect("tab");
    open(&tab, &format!("{}/o/admin/", s.base));
    log_in(&tab, "admin", ADMIN_PASSWORD);
    let alice = s.store().find_user_by_username("alice").unwrap().unwrap();
    let row = format!("#user-{}", alice.id);
    click(&tab, &format!("{row} summary"));
    type_into(&tab, &format!("#password-{}", alice.id), "short");
    type_into(&tab, &format!("#password2-{}", alice.id), "short");
    click(&tab, &format!("{row} details button[type=submit]"));
    let error = text_of(&tab, &format!("{row} .field-error"));
    assert!(error.contains("at least 8 characters"), "{error}");
    screenshot(&tab, "admin-set-password-error");

    type_into(&tab, &format!("#password-{}", alice.id), NEW_PASSWORD);
    type_into(&tab, &format!("#password2-{}", alice.id), NEW_PASSWORD);
    click(&tab, &format!("{row} details button[type=submit]"));
    let notice = text_of(&tab, &format!("{row} [role=status]"));
    assert!(
        notice.contains("alice is signed out everywhere"),
        "{notice}"
    );
    screenshot(&tab, "admin-set-password-done");
    assert!(verify_password(NEW_PASSWORD, &alices_hash(s)));
}
