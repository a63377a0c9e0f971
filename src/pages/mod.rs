//! HTML pages as plain maud functions wrapped in one [`layout`] (DOT's base.html: title, css,
//! content). No store calls in here, and never `PreEscaped` on user data: maud escapes.

use crate::store::SessionUser;
use maud::{DOCTYPE, Markup, html};

/// The stylesheet, served at [`STYLESHEET_PATH`].
pub const STYLESHEET: &str = include_str!("style.css");
/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/static/oauthd.css";
/// The name of the CSRF field in every state-changing form (Django's).
pub const CSRF_FIELD: &str = "csrfmiddlewaretoken";

/// Who the page is for: the signed-in user and their session's CSRF token.
pub struct Viewer<'a> {
    /// The signed-in user, if any.
    pub user: Option<&'a SessionUser>,
    /// The session's CSRF token, for the logout form.
    pub csrf_token: &'a str,
}

/// The base layout: a header with the user and a logout button, then `content`.
pub fn layout(title: &str, viewer: Option<&Viewer<'_>>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · oauthd" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                header {
                    nav aria-label="Main" {
                        a.site href="/" { "oauthd" }
                        @if let Some(Viewer { user: Some(user), csrf_token }) = viewer {
                            span { "Signed in as " strong { (user.username) } }
                            form.inline method="post" action="/accounts/logout/" {
                                input type="hidden" name=(CSRF_FIELD) value=(csrf_token);
                                button.secondary type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main { (content) }
            }
        }
    }
}

/// What the login form shows.
pub struct LoginForm<'a> {
    /// The session's CSRF token.
    pub csrf_token: &'a str,
    /// Where to go after login (already checked to be a local path).
    pub next: &'a str,
    /// The username typed, kept after a failed try.
    pub username: &'a str,
    /// Why the last try failed.
    pub error: Option<&'a str>,
}

/// The login page (`/accounts/login/`).
pub fn login(form: &LoginForm<'_>) -> Markup {
    layout(
        "Log in",
        None,
        html! {
            div.card {
                h1 { "Log in" }
                @if let Some(error) = form.error {
                    p.error role="alert" { (error) }
                }
                form method="post" action="/accounts/login/" {
                    input type="hidden" name=(CSRF_FIELD) value=(form.csrf_token);
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

/// The signed-in home page.
pub fn home(viewer: &Viewer<'_>) -> Markup {
    layout(
        "Home",
        Some(viewer),
        html! {
            div.card {
                h1 { "Welcome" }
                p { "You are signed in to oauthd." }
            }
        },
    )
}

/// What the consent page shows and carries.
pub struct ConsentForm<'a> {
    /// The signed-in user and the session's CSRF token.
    pub viewer: &'a Viewer<'a>,
    /// The client's name.
    pub app_name: &'a str,
    /// Where the user will be sent (its host is shown).
    pub redirect_host: &'a str,
    /// Each requested scope with its description.
    pub scopes: Vec<(&'a str, &'a str)>,
    /// The request, as hidden fields (DOT's AllowForm), checked again on POST.
    pub hidden: Vec<(&'static str, &'a str)>,
}

/// The consent page: who asks, for what, and where the answer goes; Allow or Deny.
pub fn consent(form: &ConsentForm<'_>) -> Markup {
    layout(
        "Authorize",
        Some(form.viewer),
        html! {
            div.card {
                h1 { "Authorize " (form.app_name) "?" }
                p { strong { (form.app_name) } " asks for access to your account:" }
                ul {
                    @for (name, description) in &form.scopes {
                        li { strong { (name) } ": " (description) }
                    }
                }
                p.muted { "You will be sent back to " strong { (form.redirect_host) } "." }
                form method="post" action="/o/authorize/" {
                    input type="hidden" name=(CSRF_FIELD) value=(form.viewer.csrf_token);
                    @for (name, value) in &form.hidden {
                        input type="hidden" name=(name) value=(value);
                    }
                    div.actions {
                        button type="submit" name="allow" value="Authorize" { "Allow" }
                        button.secondary type="submit" name="deny" value="Cancel" { "Deny" }
                    }
                }
            }
        },
    )
}

/// An error page: a title and a sentence, nothing else.
pub fn error(title: &str, message: &str) -> Markup {
    layout(
        title,
        None,
        html! {
            div.card {
                h1 { (title) }
                p.error role="alert" { (message) }
            }
        },
    )
}
