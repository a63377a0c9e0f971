//! The admin page: every user, application and token; disable or enable a user or an app;
//! open an app's pages (to edit it); revoke a token (after a confirmation); make a user; set a
//! user's password. What the Django admin gives DOT's users.

use super::apps::{REGISTERED, status};
use super::tokens::token_summary;
use super::{Frame, field_error, layout};
use crate::accounts::MAX_NAME_CHARS;
use crate::http::paths;
use crate::model::Application;
use crate::model::FieldErrors;
use crate::store::{TokenView, UserView};
use maud::{Markup, html};

/// The "make a user" form's values, kept after an error (never the password).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NewUserForm<'a> {
    /// Login name.
    pub username: &'a str,
    /// Contact address.
    pub email: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Make an administrator.
    pub is_admin: bool,
}

/// How the last "set password" went, shown beside its user (by subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordSet<'a> {
    /// The password was set and the user's sessions ended.
    Done(&'a str),
    /// The password was refused, for this reason.
    Refused(&'a str, &'a str),
}

/// What the admin page shows.
pub(crate) struct AdminPage<'a> {
    /// Every user.
    pub users: &'a [UserView],
    /// Every application.
    pub apps: &'a [Application],
    /// The tokens shown (at most `token_limit`).
    pub tokens: &'a [TokenView],
    /// How many tokens are shown at most.
    pub token_limit: usize,
    /// The "make a user" form.
    pub new_user: NewUserForm<'a>,
    /// Its errors.
    pub errors: &'a FieldErrors,
    /// How the last "set password" went.
    pub password_set: Option<PasswordSet<'a>>,
    /// Now, unix seconds.
    pub now: i64,
}

/// `/o/admin/`.
pub fn admin(frame: &Frame<'_>, page: &AdminPage<'_>) -> Markup {
    let owner_name = |owner: Option<i64>| {
        page.users
            .iter()
            .find(|u| Some(u.id) == owner)
            .map(|u| u.username.as_str())
    };
    let me = frame.user.map(|u| u.id);
    layout(
        frame,
        "Admin",
        html! {
            div.card {
                h1 { "Admin" }
                section.group #users {
                    h2 { "Users" }
                    ul.rows {
                        @for user in page.users {
                            li id=(format!("user-{}", user.id)) {
                                strong { (user.username) }
                                @if user.is_staff { span.badge { "admin" } }
                                @if !user.is_active { span.badge { "disabled" } }
                                span.muted { (user.email) }
                                @if Some(user.id) != me {
                                    (toggle(frame, &paths::admin_user_switch(&user.subject, !user.is_active), user.is_active, &user.username))
                                    (set_password(frame, user, page.password_set))
                                }
                            }
                        }
                    }
                }
                section.group #new-user {
                    h2 { "Make a user" }
                    @if !page.errors.0.is_empty() {
                        p.error role="alert" { "Please correct the errors below." }
                    }
                    form method="post" action=(paths::ADMIN_USERS) novalidate {
                        (frame.csrf_field())
                        label for="username" { "Username" }
                        input #username type="text" name="username" value=(page.new_user.username)
                            autocomplete="off" autocapitalize="none" required;
                        (field_error(page.errors, "username"))
                        label for="email" { "Email (optional)" }
                        input #email type="email" name="email" value=(page.new_user.email) autocomplete="off";
                        (field_error(page.errors, "email"))
                        label for="name" { "Name (optional)" }
                        input #name type="text" name="name" value=(page.new_user.name)
                            autocomplete="off" maxlength=(MAX_NAME_CHARS);
                        (field_error(page.errors, "name"))
                        label for="password" { "Password" }
                        input #password type="password" name="password" autocomplete="new-password" required;
                        (field_error(page.errors, "password"))
                        label for="password2" { "Password again" }
                        input #password2 type="password" name="password2" autocomplete="new-password" required;
                        label.check {
                            input type="checkbox" name="is_admin" value="on" checked[page.new_user.is_admin];
                            "Administrator"
                        }
                        div.actions { button type="submit" { "Make user" } }
                    }
                }
                section.group #apps {
                    h2 { "Applications" }
                    @if page.apps.is_empty() { p { "No applications." } }
                    ul.rows {
                        @for app in page.apps {
                            li {
                                a href=(paths::application(&app.public_id)) { strong { (app.fields.name) } }
                                code { (app.client_id) }
                                span.muted {
                                    (app.fields.client_type.as_str())
                                    @if let Some(owner) = owner_name(app.owner_id) { ", owned by " (owner) }
                                }
                                @if app.dynamically_registered { span.badge.registered { (REGISTERED) } }
                                @if !app.usable { span.badge { (status(app)) } }
                                (toggle(frame, &paths::admin_app_switch(&app.public_id, app.disabled_by_admin), !app.disabled_by_admin, &app.fields.name))
                            }
                        }
                    }
                }
                section.group #tokens {
                    h2 { "Tokens" }
                    @if page.tokens.is_empty() { p { "No tokens." } }
                    @if page.tokens.len() >= page.token_limit {
                        p.muted { "Showing the first " (page.token_limit) "." }
                    }
                    ul.rows {
                        @for token in page.tokens {
                            li {
                                strong { (token.app_name) }
                                span { (token.username.as_deref().unwrap_or("(client credentials)")) }
                                (token_summary(token, page.now))
                                a href=(paths::admin_token_revoke(&token.public_id))
                                    aria-label=(format!("Revoke a token of {}", token.app_name)) { "Revoke" }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// An Enable or Disable button for a user or an app (for an app, the administrator's switch);
/// `switch` is the path that turns it the other way.
fn toggle(frame: &Frame<'_>, switch: &str, enabled: bool, name: &str) -> Markup {
    let label = if enabled { "Disable" } else { "Enable" };
    html! {
        form.inline method="post" action=(switch) {
            (frame.csrf_field())
            button.small.secondary type="submit" aria-label=(format!("{label} {name}")) { (label) }
        }
    }
}

/// A user's "Set password" form (the new password twice), folded until opened; open with the
/// reason when the last try for this user was refused, and a notice when it worked.
fn set_password(frame: &Frame<'_>, user: &UserView, outcome: Option<PasswordSet<'_>>) -> Markup {
    let refused = match outcome {
        Some(PasswordSet::Refused(subject, problem)) if subject == user.subject => Some(problem),
        _ => None,
    };
    let (first, again) = (
        format!("password-{}", user.id),
        format!("password2-{}", user.id),
    );
    html! {
        @if outcome == Some(PasswordSet::Done(&user.subject)) {
            span.notice.small role="status" {
                "Password set; " (user.username) " is signed out everywhere."
            }
        }
        details.reset open[refused.is_some()] {
            summary { "Set password" }
            form method="post" action=(paths::admin_user_password(&user.subject)) novalidate {
                (frame.csrf_field())
                label for=(first) { "New password for " (user.username) }
                input id=(first) type="password" name="password" autocomplete="new-password"
                    required aria-invalid=[refused.map(|_| "true")]
                    aria-describedby=[refused.map(|_| format!("{first}-error"))];
                @if let Some(problem) = refused {
                    p.field-error id=(format!("{first}-error")) role="alert" { (problem) }
                }
                label for=(again) { "New password again" }
                input id=(again) type="password" name="password2" autocomplete="new-password" required;
                div.actions {
                    button.small type="submit" aria-label=(format!("Set the password of {}", user.username)) {
                        "Set password"
                    }
                }
            }
        }
    }
}
