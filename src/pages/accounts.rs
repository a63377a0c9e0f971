//! The login page and the signed-in home page.

use super::{Frame, layout};
use crate::http::paths;
use maud::{Markup, html};

/// What the login form shows.
pub struct LoginForm<'a> {
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
                    @if is_admin {
                        li { a href=(paths::ADMIN) { "Admin" } ": all users, applications and tokens." }
                    }
                }
            }
        },
    )
}
