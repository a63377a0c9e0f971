//! RP-initiated logout's pages (OpenID Connect RP-Initiated Logout 1.0 §3): the confirmation
//! and the farewell.

use super::{Frame, layout};
use crate::http::paths;
use maud::{Markup, html};

/// What the confirmation shows and carries.
pub(crate) struct LogoutForm<'a> {
    /// The application that asked, when it could be identified.
    pub app_name: Option<&'a str>,
    /// Where the browser goes afterwards: the host of a registered post-logout URI.
    pub return_host: Option<&'a str>,
    /// The request as hidden fields, checked again on POST.
    pub hidden: &'a [(&'static str, String)],
    /// Where the form posts.
    pub action: &'a str,
}

/// "Sign out?": a POST with CSRF (docs/security.md rule 42), never a sign-out on a GET.
pub(crate) fn confirm_logout(frame: &Frame<'_>, form: &LogoutForm<'_>) -> Markup {
    layout(
        frame,
        "Sign out",
        html! {
            div.card {
                h1 { "Sign out?" }
                @if let Some(name) = form.app_name {
                    p { strong { (name) } " asks to sign you out of " (frame.site_name) "." }
                } @else {
                    p { "An application asks to sign you out of " (frame.site_name) "." }
                }
                @if let Some(host) = form.return_host {
                    p.muted { "You will then be sent back to " strong { (host) } "." }
                }
                form method="post" action=(form.action) {
                    (frame.csrf_field())
                    @for (name, value) in form.hidden {
                        input type="hidden" name=(name) value=(value);
                    }
                    div.actions {
                        button type="submit" name="confirm" value="yes" { "Sign out" }
                        a.button.secondary href=(paths::HOME) { "Stay signed in" }
                    }
                }
            }
        },
    )
}

/// After a sign-out, or a logout request when nobody was signed in; `continue_to` is the
/// host and address of a registered post-logout URI the user may follow.
pub fn signed_out(frame: &Frame<'_>, continue_to: Option<(&str, &str)>) -> Markup {
    layout(
        frame,
        "Signed out",
        html! {
            div.card {
                h1 { "You are signed out" }
                @if let Some((host, uri)) = continue_to {
                    p { a.button href=(uri) { "Continue to " (host) } }
                }
                p { "You can close this window, or " a href=(paths::LOGIN) { "sign in again" } "." }
            }
        },
    )
}
