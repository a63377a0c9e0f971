//! The granted-tokens pages (DOT's "Granted Tokens Views"): the list, grouped by application,
//! with the remembered decisions below it, and the revoke and forget confirmations.

use super::{Frame, layout, relative_time};
use crate::http::paths;
use crate::oauth::scope::Scopes;
use crate::store::{RememberedConsent, TokenView};
use maud::{Markup, html};

/// The tokens the user granted, grouped by application, with scopes and expiry; then the
/// decisions they asked to be remembered.
pub(crate) fn tokens_list(
    frame: &Frame<'_>,
    tokens: &[TokenView],
    remembered: &[RememberedConsent],
    now: i64,
) -> Markup {
    let groups = tokens.chunk_by(|a, b| a.application_id == b.application_id);
    layout(
        frame,
        "Authorized tokens",
        html! {
            div.card {
                h1 { "Authorized tokens" }
                @if tokens.is_empty() && remembered.is_empty() {
                    p { "You have not authorized any application." }
                }
                @for group in groups {
                    @if let Some(first) = group.first() {
                        section.group {
                            h2 { (first.app_name) }
                            ul.rows {
                                @for token in group {
                                    li { (token_summary(token, now)) a href=(paths::revoke_token(&token.public_id)) { "Revoke" } }
                                }
                            }
                        }
                    }
                }
                @if !remembered.is_empty() {
                    section.group #remembered {
                        h2 { "Remembered decisions" }
                        p.muted { "These applications may sign you in and get these permissions without asking you again." }
                        ul.rows {
                            @for consent in remembered {
                                li {
                                    span { strong { (consent.app_name) } " " (scope_tags(&consent.scope)) }
                                    a href=(paths::forget_consent(consent.id)) { "Forget" }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One token's scopes and expiry.
pub(crate) fn token_summary(token: &TokenView, now: i64) -> Markup {
    html! {
        span { (scope_tags(&token.scope)) }
        span.muted {
            @match token.expires {
                Some(expires) if expires > now => { "expires " (relative_time(expires, now)) }
                Some(expires) => { "expired " (relative_time(expires, now)) }
                None => "no access token now",
            }
            @if token.refreshable { ", refreshable" }
        }
    }
}

/// Each scope as a tag.
fn scope_tags(scope: &Scopes) -> Markup {
    html! { @for name in scope.iter() { span.tag { (name) } " " } }
}

/// Who revokes a token from a confirmation page: the user who granted it, or an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revoker {
    /// The user, from their authorized-tokens page.
    Holder,
    /// An administrator, from the admin page.
    Admin,
}

/// "Revoke this token?" with Cancel; the POST revokes it and its refresh token.
pub(crate) fn confirm_revoke(
    frame: &Frame<'_>,
    token: &TokenView,
    now: i64,
    by: Revoker,
) -> Markup {
    let (action, cancel, again) = match by {
        Revoker::Holder => (
            paths::revoke_token(&token.public_id),
            paths::AUTHORIZED_TOKENS.to_owned(),
            "It can ask you again.",
        ),
        Revoker::Admin => (
            paths::admin_token_revoke(&token.public_id),
            format!("{}#tokens", paths::ADMIN),
            "It can ask for access again.",
        ),
    };
    layout(
        frame,
        "Revoke token",
        html! {
            div.card {
                h1 { "Revoke access for " (token.app_name) "?" }
                p { (token_summary(token, now)) }
                p { (token.app_name) " will no longer be able to use this token or refresh it. " (again) }
                (confirm_form(frame, &action, &cancel, "Revoke"))
            }
        },
    )
}

/// "Forget this decision?" with Cancel; the POST forgets it, and the tokens stay.
pub(crate) fn confirm_forget(frame: &Frame<'_>, consent: &RememberedConsent) -> Markup {
    layout(
        frame,
        "Forget decision",
        html! {
            div.card {
                h1 { "Forget your decision for " (consent.app_name) "?" }
                p { (scope_tags(&consent.scope)) }
                p { (consent.app_name) " will ask you again the next time it wants these permissions. The tokens it holds stay valid until you revoke them." }
                (confirm_form(frame, &paths::forget_consent(consent.id), paths::AUTHORIZED_TOKENS, "Forget"))
            }
        },
    )
}

/// A confirmation's POST form: `button` does it, Cancel goes back to `cancel`.
fn confirm_form(frame: &Frame<'_>, action: &str, cancel: &str, button: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            (frame.csrf_field())
            div.actions {
                button.danger type="submit" { (button) }
                a.button.secondary href=(cancel) { "Cancel" }
            }
        }
    }
}
