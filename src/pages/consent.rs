//! The consent page: the authorization endpoint's and the device page's (RFC 8628 §3.3), one
//! page for both.

use super::{Frame, layout};
use crate::http::paths;
use crate::oauth::scope::Scopes;
use crate::settings::Settings;
use maud::{Markup, html};

/// The consent form's checkbox: ticked with Allow, the decision is remembered.
pub(crate) const REMEMBER_FIELD: &str = "remember";

/// What a posted consent form answers: `None` without either button, else whether it allows.
/// Only Allow without Deny allows: a form carrying both is a denial.
pub(crate) fn allowed(form_has: impl Fn(&str) -> bool) -> Option<bool> {
    match (form_has("allow"), form_has("deny")) {
        (false, false) => None,
        (allow, deny) => Some(allow && !deny),
    }
}

/// Who receives what the user allows.
pub(crate) enum Recipient<'a> {
    /// The client at its redirect URI, whose host is shown. The decision may be remembered.
    Redirect(&'a str),
    /// The device that showed this user code (as `XXXX-XXXX`), which the page shows so that
    /// the user checks it against their device (RFC 8628 §3.3.1, §5.4). Never remembered: each
    /// code is confirmed by its user.
    Device(&'a str),
}

/// What the consent page shows and carries.
pub(crate) struct ConsentForm<'a> {
    /// The client's name.
    pub app_name: &'a str,
    /// The client registered itself (RFC 7591 §5): nobody vouched for its name.
    pub self_registered: bool,
    /// Who gets the answer.
    pub recipient: Recipient<'a>,
    /// Each requested scope with its description.
    pub scopes: Vec<(&'a str, &'a str)>,
    /// Where the form posts.
    pub action: &'a str,
    /// The resources (RFC 8707) the tokens will be for; empty: not limited to any.
    pub resources: &'a [String],
    /// The request, as hidden fields (DOT's AllowForm), checked again on POST.
    pub hidden: &'a [(&'static str, String)],
}

/// Each scope of `scope` with the words `settings` gives it.
pub(crate) fn described<'a>(settings: &'a Settings, scope: &'a Scopes) -> Vec<(&'a str, &'a str)> {
    scope
        .iter()
        .map(|name| (name, settings.scopes.get(name).map_or("", String::as_str)))
        .collect()
}

/// The consent page: who asks, for what, and where the answer goes; Allow or Deny.
pub fn consent(frame: &Frame<'_>, form: &ConsentForm<'_>) -> Markup {
    layout(
        frame,
        "Authorize",
        html! {
            div.card {
                h1 { "Authorize " (form.app_name) "?" }
                @if form.self_registered {
                    p.muted {
                        "This application registered itself; oauthd has not verified its name."
                    }
                }
                p { strong { (form.app_name) } " asks for access to your account:" }
                ul {
                    @for (name, description) in &form.scopes {
                        li { strong { (name) } ": " (description) }
                    }
                }
                @if !form.resources.is_empty() {
                    p { "For use at:" }
                    ul.plain { @for resource in form.resources { li { code { (resource) } } } }
                }
                @match form.recipient {
                    Recipient::Redirect(host) => {
                        p.muted { "You will be sent back to " strong { (host) } "." }
                    }
                    Recipient::Device(user_code) => {
                        p {
                            "Code " strong { (user_code) }
                            " — check that your device shows the same code."
                        }
                        p.muted {
                            "The device that showed you this code gets the access. Allow only "
                            "if you started the sign-in on that device yourself."
                        }
                    }
                }
                form method="post" action=(form.action) {
                    (frame.csrf_field())
                    @for (name, value) in form.hidden {
                        input type="hidden" name=(name) value=(value);
                    }
                    @if let Recipient::Redirect(_) = form.recipient {
                        label.check {
                            input type="checkbox" name=(REMEMBER_FIELD) value="on";
                            "Remember this decision"
                        }
                        p.muted {
                            "You will not be asked again when " (form.app_name) " asks for these "
                            "permissions or fewer; you can forget the decision on the "
                            a href=(paths::AUTHORIZED_TOKENS) { "Authorized tokens" } " page."
                        }
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
