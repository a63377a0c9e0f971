//! The application pages (DOT's "Application Views"): list, register and update form, detail,
//! the page that shows a new secret once, delete confirmation.

use super::{Frame, field_error, layout};
use crate::http::paths;
use crate::model::FieldErrors;
use crate::model::{Application, ClientType, GrantType};
use crate::oauth::registration::AppForm;
use maud::{Markup, html};
use std::collections::BTreeMap;

/// The user's applications.
pub(crate) fn apps_list(frame: &Frame<'_>, apps: &[Application]) -> Markup {
    layout(
        frame,
        "Your applications",
        html! {
            div.card {
                h1 { "Your applications" }
                @if apps.is_empty() {
                    p { "No applications yet." }
                } @else {
                    ul.rows {
                        @for app in apps {
                            li {
                                a href=(paths::application(&app.public_id)) { (app.fields.name) }
                                span.muted { (app.fields.client_type.as_str()) }
                                @if !app.usable { span.badge { (status(app)) } }
                            }
                        }
                    }
                }
                div.actions {
                    a.button href=(paths::REGISTER) { "Register a new application" }
                }
            }
        },
    )
}

/// The register and update form, with the values typed and each error beside its field.
pub(crate) struct AppFormPage<'a> {
    /// The page's heading.
    pub title: &'a str,
    /// Where the form posts.
    pub action: &'a str,
    /// Where Cancel goes.
    pub cancel: &'a str,
    /// The values to show.
    pub form: &'a AppForm<'a>,
    /// The errors of the last submission.
    pub errors: &'a FieldErrors,
    /// The grants offered, each with whether it is the app's legacy grant: it has it, and its
    /// editor may keep or drop it but not add it back (`self_service_grants`).
    pub grants: &'a [(GrantType, bool)],
    /// The configured scopes with their descriptions.
    pub scopes: &'a BTreeMap<String, String>,
    /// An administrator edits: skip_authorization and the `admin_scopes` are theirs to set.
    pub by_admin: bool,
    /// Scopes only an administrator may allow (shown to others, but not to be changed).
    pub admin_scopes: &'a [String],
    /// An administrator disabled the app: it stays unusable whatever its owner's switch says.
    pub disabled_by_admin: bool,
}

/// The register (`/o/applications/register/`) and update form.
pub(crate) fn app_form(frame: &Frame<'_>, page: &AppFormPage<'_>) -> Markup {
    let form = page.form;
    let errors = page.errors;
    let scope_checked = |name: &str| {
        form.allowed_scopes
            .as_ref()
            .is_none_or(|names| names.contains(&name))
    };
    layout(
        frame,
        page.title,
        html! {
            div.card {
                h1 { (page.title) }
                @if !errors.0.is_empty() {
                    p.error role="alert" { "Please correct the errors below." }
                }
                form method="post" action=(page.action) novalidate {
                    (frame.csrf_field())
                    label for="name" { "Name" }
                    input #name type="text" name="name" value=(form.name) required maxlength="255"
                        aria-invalid=[errors.get("name").map(|_| "true")]
                        aria-describedby=[errors.get("name").map(|_| "name-error")];
                    (field_error(errors, "name"))

                    fieldset #client_type {
                        legend { "Client type" }
                        @for (value, hint) in [
                            (ClientType::Confidential, "a server that can keep a secret"),
                            (ClientType::Public, "a browser, mobile or desktop app: no secret"),
                        ] {
                            label.check {
                                input type="radio" name="client_type" value=(value.as_str())
                                    checked[form.client_type == value.as_str()];
                                (value.as_str()) span.muted { " — " (hint) }
                            }
                        }
                        (field_error(errors, "client_type"))
                    }

                    fieldset #grant_types {
                        legend { "Authorization grant types" }
                        @for (grant, legacy) in page.grants {
                            label.check {
                                input type="checkbox" name="grant_types" value=(grant.cli_name())
                                    checked[form.grant_types.contains(&grant.cli_name())];
                                (grant_label(*grant))
                                @if *legacy {
                                    span.muted { " (set by an administrator: once removed, only an administrator can give it back)" }
                                }
                            }
                        }
                        (field_error(errors, "grant_types"))
                    }

                    (uri_field(errors, "redirect_uris", "Redirect URIs", form.redirect_uris,
                        "One per line; absolute, no fragment. Needed for authorization code and implicit."))
                    (uri_field(errors, "post_logout_redirect_uris", "Post-logout redirect URIs",
                        form.post_logout_redirect_uris,
                        "One per line; absolute, no fragment. Optional: where the app may send users after they log out."))
                    (uri_field(errors, "allowed_origins", "Allowed origins", form.allowed_origins,
                        "One per line, as scheme://host[:port] (e.g. https://app.example). Optional: web pages there may call the token and API endpoints from the browser (CORS)."))
                    (uri_field(errors, "allowed_resources", "Allowed resources", form.allowed_resources,
                        "One per line; absolute URIs, no fragment (RFC 8707). Optional: the APIs its tokens may be for; empty: any."))

                    fieldset #allowed_scopes {
                        legend { "Allowed scopes" }
                        @for (name, description) in page.scopes {
                            @let locked = !page.by_admin && page.admin_scopes.contains(name);
                            label.check {
                                input type="checkbox" name="allowed_scopes" value=(name)
                                    checked[scope_checked(name)] disabled[locked];
                                strong { (name) } span.muted { " — " (description) }
                                @if locked { span.muted { " (set by an administrator)" } }
                            }
                        }
                        (field_error(errors, "allowed_scopes"))
                    }

                    label.check {
                        input type="checkbox" name="enabled" value="on" checked[form.enabled];
                        "Enabled"
                        @if page.disabled_by_admin {
                            span.muted { " — but an administrator has disabled it" }
                        }
                    }
                    @if page.by_admin {
                        label.check {
                            input type="checkbox" name="skip_authorization" value="on"
                                checked[form.skip_authorization];
                            "Skip authorization" span.muted { " — users are not asked to consent (trusted apps only)" }
                        }
                    }
                    div.actions {
                        button type="submit" { "Save" }
                        a.button.secondary href=(page.cancel) { "Cancel" }
                    }
                }
            }
        },
    )
}

/// A textarea of URIs, one per line, with its hint and its error.
fn uri_field(errors: &FieldErrors, field: &str, label: &str, value: &str, hint: &str) -> Markup {
    let hint_id = format!("{field}-hint");
    html! {
        label for=(field) { (label) }
        p.hint id=(hint_id) { (hint) }
        textarea id=(field) name=(field) rows="3" spellcheck="false"
            aria-describedby=(hint_id)
            aria-invalid=[errors.get(field).map(|_| "true")] { (value) }
        (field_error(errors, field))
    }
}

/// Whether the app may be used, and if not, who stopped it (the administrator first).
pub fn status(app: &Application) -> &'static str {
    match (app.usable, app.disabled_by_admin, app.fields.enabled) {
        (true, _, _) => "Enabled",
        (false, true, _) => "Disabled by an administrator",
        (false, false, false) => "Disabled by its owner",
        (false, false, true) => "Disabled: its owner's account is disabled",
    }
}

fn grant_label(grant: GrantType) -> &'static str {
    match grant {
        GrantType::AuthorizationCode => "Authorization code",
        GrantType::Implicit => "Implicit",
        GrantType::Password => "Resource owner password-based",
        GrantType::ClientCredentials => "Client credentials",
        GrantType::DeviceCode => "Device code (RFC 8628)",
    }
}

/// How the pages mark an application a client registered itself.
pub(crate) const REGISTERED: &str = "Dynamically registered";

/// An application's detail page.
pub(crate) fn app_detail(frame: &Frame<'_>, app: &Application) -> Markup {
    app_card(
        frame,
        app,
        html! {
            dl {
                (client_id_row(app))
                dt { "Client type" } dd { (app.fields.client_type.as_str()) }
                dt { "Client secret" }
                dd {
                    @match app.fields.client_type {
                        ClientType::Public => "None: a public client has no secret.",
                        ClientType::Confidential => "Set. It was shown once, when it was made.",
                    }
                }
                dt { "Authorization grant types" }
                dd { @for grant in &app.fields.grant_types { span.tag { (grant_label(*grant)) } " " } }
                dt { "Redirect URIs" } dd { (uri_list(&app.fields.redirect_uris)) }
                dt { "Post-logout redirect URIs" } dd { (uri_list(&app.fields.post_logout_redirect_uris)) }
                dt { "Allowed origins" } dd #allowed_origins { (uri_list(&app.fields.allowed_origins)) }
                dt { "Allowed resources" }
                dd {
                    @if app.fields.allowed_resources.is_empty() { "Any resource" }
                    @else { (uri_list(&app.fields.allowed_resources)) }
                }
                dt { "Allowed scopes" }
                dd {
                    @match &app.fields.allowed_scopes {
                        Some(scopes) => { @for scope in scopes.iter() { span.tag { (scope) } " " } }
                        None => "Every configured scope",
                    }
                }
                dt { "Status" } dd { (status(app)) }
                @if app.dynamically_registered {
                    dt { "Registration" }
                    dd { (REGISTERED) ": the client registered itself (RFC 7591); it has no owner." }
                }
                dt { "Skip authorization" } dd { @if app.fields.skip_authorization { "Yes" } @else { "No" } }
            }
            div.actions {
                a.button.secondary href=(paths::APPLICATIONS) { "Go back" }
                a.button href=(paths::application_update(&app.public_id)) { "Edit" }
                a.button.danger href=(paths::application_delete(&app.public_id)) { "Delete" }
            }
            (regenerate_form(frame, app))
        },
    )
}

/// A card headed by the app's name, on a page titled with it.
fn app_card(frame: &Frame<'_>, app: &Application, content: Markup) -> Markup {
    layout(
        frame,
        &app.fields.name,
        html! { div.card { h1 { (app.fields.name) } (content) } },
    )
}

/// The client id as a row of a `dl`.
fn client_id_row(app: &Application) -> Markup {
    html! { dt { "Client id" } dd { code #client_id { (app.client_id) } } }
}

/// The page a new secret is shown on, once: `secret` is `None` when it was shown already (a
/// reload, a second tab) or is gone, and the page says so and offers a new one.
pub(crate) fn app_secret(frame: &Frame<'_>, app: &Application, secret: Option<&str>) -> Markup {
    app_card(
        frame,
        app,
        html! {
            dl { (client_id_row(app)) }
            @match (secret, app.fields.client_type) {
                (Some(secret), _) => div.notice role="status" {
                    p { strong { "Client secret: " } code #client_secret { (secret) } }
                    p { "Copy it now: it is shown only once. oauthd keeps only a hash of it." }
                },
                (None, ClientType::Public) => p { "A public client has no secret." },
                (None, ClientType::Confidential) => p.error role="alert" #secret-gone {
                    "This secret was shown once and cannot be shown again. If you did not copy it, generate a new one."
                },
            }
            div.actions {
                a.button href=(paths::application(&app.public_id)) { "Go to the application" }
            }
            @if secret.is_none() { (regenerate_form(frame, app)) }
        },
    )
}

/// "Regenerate secret", for a confidential app.
fn regenerate_form(frame: &Frame<'_>, app: &Application) -> Markup {
    html! {
        @if app.fields.client_type == ClientType::Confidential {
            form method="post" action=(paths::application_secret(&app.public_id)) {
                (frame.csrf_field())
                p.muted { "A new secret replaces this one at once: clients using the old one stop working." }
                button.secondary type="submit" { "Regenerate secret" }
            }
        }
    }
}

/// URIs as a list, or "None".
fn uri_list(uris: &[String]) -> Markup {
    html! {
        @if uris.is_empty() { span.muted { "None" } }
        ul.plain { @for uri in uris { li { code { (uri) } } } }
    }
}

/// "Delete this application?" with Cancel; the POST deletes it with its tokens and codes.
pub(crate) fn confirm_delete_app(frame: &Frame<'_>, app: &Application) -> Markup {
    layout(
        frame,
        "Delete application",
        html! {
            div.card {
                h1 { "Delete " (app.fields.name) "?" }
                p { "This removes the application and every token and code issued to it. Clients using it stop working." }
                form method="post" action=(paths::application_delete(&app.public_id)) {
                    (frame.csrf_field())
                    div.actions {
                        button.danger type="submit" { "Delete" }
                        a.button.secondary href=(paths::application(&app.public_id)) { "Cancel" }
                    }
                }
            }
        },
    )
}
