//! HTML pages as plain maud functions wrapped in one [`layout`] (DOT's base.html: title, css,
//! navigation, content). No store calls in here, and never `PreEscaped` on user data: maud
//! escapes.

mod accounts;
mod admin;
mod apps;
mod consent;
mod device;
mod logout;
mod tokens;

pub(crate) use accounts::{LoginForm, home, login, password_change, password_changed};
pub(crate) use admin::{AdminPage, NewUserForm, PasswordSet, admin};
pub(crate) use apps::{
    AppFormPage, app_detail, app_form, app_secret, apps_list, confirm_delete_app,
};
pub(crate) use consent::{
    ConsentForm, REMEMBER_FIELD, Recipient, allowed, consent, described as described_scopes,
};
pub(crate) use device::{DeviceEntry, device_decided, device_entry};
pub(crate) use logout::{LogoutForm, confirm_logout, signed_out};
pub(crate) use tokens::{Revoker, confirm_forget, confirm_revoke, tokens_list};

use crate::http::paths;
use crate::model::FieldErrors;
use crate::store::SessionUser;
use maud::{DOCTYPE, Markup, html};

/// oauthd's stylesheet, served at [`paths::STYLESHEET`].
pub(crate) const STYLESHEET: &str = include_str!("style.css");
/// The name of the CSRF field in every state-changing form (Django's).
pub const CSRF_FIELD: &str = "csrfmiddlewaretoken";

/// What every page's frame shows: the site, and who is signed in.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The deployment's `site_name`.
    pub site_name: &'a str,
    /// Link the deployment's stylesheet after oauthd's.
    pub custom_css: bool,
    /// The signed-in user, if any.
    pub(crate) user: Option<&'a SessionUser>,
    /// The session's CSRF token (empty without a session), for the logout form.
    pub csrf_token: &'a str,
}

impl Frame<'_> {
    /// The hidden CSRF field every state-changing form carries.
    pub(crate) fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name=(CSRF_FIELD) value=(self.csrf_token); }
    }
}

/// The base layout: a skip link, the navigation header, then `content`.
pub fn layout(frame: &Frame<'_>, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (frame.site_name) }
                link rel="stylesheet" href=(paths::STYLESHEET);
                @if frame.custom_css {
                    link rel="stylesheet" href=(paths::CUSTOM_STYLESHEET);
                }
            }
            body {
                a.skip href="#content" { "Skip to content" }
                header { (navigation(frame)) }
                main #content { (content) }
            }
        }
    }
}

/// The header: the site, and for a signed-in user their name, Applications, Authorized
/// tokens, Admin (administrators only) and Log out.
fn navigation(frame: &Frame<'_>) -> Markup {
    html! {
        nav aria-label="Main" {
            a.site href=(paths::HOME) { (frame.site_name) }
            @if let Some(user) = frame.user {
                a href=(paths::APPLICATIONS) { "Applications" }
                a href=(paths::AUTHORIZED_TOKENS) { "Authorized tokens" }
                @if user.is_admin {
                    a href=(paths::ADMIN) { "Admin" }
                }
                span.who {
                    "Signed in as " strong { (user.username) }
                    " (" a href=(paths::PASSWORD_CHANGE) { "change password" } ")"
                }
                form.inline method="post" action=(paths::LOGOUT) {
                    (frame.csrf_field())
                    button.secondary type="submit" { "Log out" }
                }
            }
        }
    }
}

/// An error page: a title and a sentence, nothing else.
pub fn error(frame: &Frame<'_>, title: &str, message: &str) -> Markup {
    layout(
        frame,
        title,
        html! {
            div.card {
                h1 { (title) }
                p.error role="alert" { (message) }
            }
        },
    )
}

/// A field's error messages, tied to its input by id for screen readers.
fn field_error(errors: &FieldErrors, field: &str) -> Markup {
    html! {
        @if let Some(message) = errors.get(field) {
            p.field-error id=(format!("{field}-error")) role="alert" { (message) }
        }
    }
}

/// "in 3 h 20 min", "2 days ago": a time relative to `now`, to the minute; `now` itself is
/// past (a token expiring at `now` has expired).
pub(crate) fn relative_time(at: i64, now: i64) -> String {
    let span = describe_span((at - now).abs());
    if at > now {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

fn describe_span(seconds: i64) -> String {
    let minutes = seconds / 60;
    match (minutes / (24 * 60), minutes / 60 % 24, minutes % 60) {
        (0, 0, 0) => "less than a minute".into(),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (1, _, _) => "1 day".into(),
        (d, _, _) => format!("{d} days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        for (at, text) in [
            (130, "in less than a minute"),
            (100 + 59 * 60, "in 59 min"),
            (100 + 3600, "in 1 h"),
            (100 + 3 * 3600 + 20 * 60, "in 3 h 20 min"),
            (100 + 86_400 + 7200, "in 1 day"),
            (100 + 3 * 86_400, "in 3 days"),
            (100 - 120, "2 min ago"),
            (100, "less than a minute ago"),
        ] {
            assert_eq!(relative_time(at, 100), text, "{at}");
        }
    }

    #[test]
    fn user_data_in_the_frame_is_escaped() {
        let user = SessionUser {
            id: 1,
            username: "<script>x</script>".into(),
            is_admin: false,
            auth_time: 0,
        };
        let frame = Frame {
            site_name: "A & <B>",
            custom_css: false,
            user: Some(&user),
            csrf_token: "t\"",
        };
        let page = error(&frame, "T", "<b>m</b>").into_string();
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"), "{page}");
        assert!(page.contains("A &amp; &lt;B&gt;"));
        assert!(page.contains("&lt;b&gt;m&lt;/b&gt;"));
        assert!(page.contains("value=\"t&quot;\""));
        assert!(
            !page.contains(paths::ADMIN),
            "no Admin link for a non-admin"
        );
        assert!(!page.contains(paths::CUSTOM_STYLESHEET));
    }
}
