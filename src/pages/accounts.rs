//! The login page, the signed-in home page and the password change page.

use super::{Frame, field_error, layout};
use crate::http::paths;
use crate::model::FieldErrors;
use maud::{Markup, html};

/// What the login form shows.
pub(crate) struct LoginForm<'a> {
    /// Where to go after login (already checked to be a local path).
    pub next: &'a str,
    /// The username typed, kept after a failed try.
    pub username: &'a str,
    /// Why the last try failed.
    pub error: Option<&'a str>,
}

/// The login page (`/accounts/login/`).
pub fn login(frame: &Frame<'_>, form: &LoginForm<'_>) -> Markup {
    layout(
        frame,
        "Log in",
        html! {
            div.card.narrow {
                h1 { "Log in" }
                @if let Some(error) = form.error {
                    p.error role="alert" { (error) }
                }
                form method="post" action=(paths::LOGIN) {
                    (frame.csrf_field())
                    input type="hidden" name="next" value=(form.next);
                    label for="username" { "Username" }
                    input #username type="text" name="username" value=(form.username)
                        autocomplete="username" autocapitalize="none" required autofocus;
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    div.actions { button type="submit" { "Log in" } }
                }
            }
        },
    )
}

/// The signed-in home page: where to go from here.
pub fn home(frame: &Frame<'_>) -> Markup {
    let is_admin = frame.user.is_some_and(|u| u.is_admin);
    layout(
        frame,
        "Home",
        html! {
            div.card {
                h1 { "Welcome" }
                p { "You are signed in to " (frame.site_name) "." }
                ul.links {
                    li { a href=(paths::APPLICATIONS) { "Your applications" } ": register and manage OAuth clients." }
                    li { a href=(paths::AUTHORIZED_TOKENS) { "Authorized tokens" } ": see and revoke what you granted." }
                    li { a href=(paths::PASSWORD_CHANGE) { "Change password" } ": signs you out everywhere else." }
                    @if is_admin {
                        li { a href=(paths::ADMIN) { "Admin" } ": all users, applications and tokens." }
                    }
                }
            }
        },
    )
}

/// The password change form (`/accounts/password_change/`): the current password and the new
/// one twice; `alert` says why the last try was refused as a whole (too many tries).
pub fn password_change(frame: &Frame<'_>, errors: &FieldErrors, alert: Option<&str>) -> Markup {
    layout(
        frame,
        "Change password",
        html! {
            div.card {
                h1 { "Change password" }
                @if let Some(alert) = alert {
                    p.error role="alert" { (alert) }
                } @else if !errors.is_empty() {
                    p.error role="alert" { "Please correct the errors below." }
                }
                form method="post" action=(paths::PASSWORD_CHANGE) novalidate {
                    (frame.csrf_field())
                    label for="old_password" { "Current password" }
                    input #old_password type="password" name="old_password"
                        autocomplete="current-password" required autofocus
                        aria-invalid=[errors.get("old_password").map(|_| "true")]
                        aria-describedby=[errors.get("old_password").map(|_| "old_password-error")];
                    (field_error(errors, "old_password"))
                    label for="new_password1" { "New password" }
                    input #new_password1 type="password" name="new_password1"
                        autocomplete="new-password" required
                        aria-invalid=[errors.get("new_password1").map(|_| "true")]
                        aria-describedby=[errors.get("new_password1").map(|_| "new_password1-error")];
                    (field_error(errors, "new_password1"))
                    label for="new_password2" { "New password again" }
                    input #new_password2 type="password" name="new_password2"
                        autocomplete="new-password" required;
                    div.actions { button type="submit" { "Change password" } }
                }
            }
        },
    )
}

/// The password change worked (Django's `password_change_done`).
pub(crate) fn password_changed(frame: &Frame<'_>) -> Markup {
    layout(
        frame,
        "Password changed",
        html! {
            div.card {
                h1 { "Password changed" }
                div.notice role="status" {
                    "Your password was changed. You are signed out on every other device and browser."
                }
                p { a href=(paths::HOME) { "Back to the home page" } }
            }
        },
    )
}
