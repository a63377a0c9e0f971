//! The consent page of the authorization endpoint.

use super::{Frame, layout};
use crate::http::paths;
use maud::{Markup, html};

/// The consent form's checkbox: ticked with Allow, the decision is remembered.
pub(crate) const REMEMBER_FIELD: &str = "remember";

/// What the consent page shows and carries.
pub(crate) struct ConsentForm<'a> {
    /// The client's name.
    pub app_name: &'a str,
    /// Where the user will be sent (its host is shown).
    pub redirect_host: &'a str,
    /// Each requested scope with its description.
    pub scopes: Vec<(&'a str, &'a str)>,
    /// The resources (RFC 8707) the tokens will be for; empty: not limited to any.
    pub resources: &'a [String],
    /// The request, as hidden fields (DOT's AllowForm), checked again on POST.
    pub hidden: &'a [(&'static str, String)],
}

/// The consent page: who asks, for what, and where the answer goes; Allow or Deny.
pub fn consent(frame: &Frame<'_>, form: &ConsentForm<'_>) -> Markup {
    layout(
        frame,
        "Authorize",
        html! {
            div.card {
                h1 { "Authorize " (form.app_name) "?" }
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
                p.muted { "You will be sent back to " strong { (form.redirect_host) } "." }
                form method="post" action=(paths::AUTHORIZE) {
                    (frame.csrf_field())
                    @for (name, value) in form.hidden {
                        input type="hidden" name=(name) value=(value);
                    }
                    label.check {
                        input type="checkbox" name=(REMEMBER_FIELD) value="on";
                        "Remember this decision"
                    }
                    p.muted {
                        "You will not be asked again when " (form.app_name) " asks for these "
                        "permissions or fewer; you can forget the decision on the "
                        a href=(paths::AUTHORIZED_TOKENS) { "Authorized tokens" } " page."
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
