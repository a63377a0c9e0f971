//! Registering or changing an application: the form's fields checked, each error named by its
//! field so that a form can show it beside the input. One set of rules for the pages and the
//! CLI.

use crate::model::{AppFields, ClientType, FieldErrors, GrantType};
use crate::oauth::redirect::validate_redirect_uri;
use crate::oauth::scope::Scopes;
use crate::settings::Settings;
use std::collections::BTreeMap;

/// The longest application name accepted.
pub const MAX_NAME_CHARS: usize = 255;

/// The fields as typed, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppForm<'a> {
    /// Display name.
    pub name: &'a str,
    /// "confidential" or "public".
    pub client_type: &'a str,
    /// Grant type names (DOT's choice values).
    pub grant_types: Vec<&'a str>,
    /// Redirect URIs separated by whitespace (one per line in the form).
    pub redirect_uris: &'a str,
    /// Scope names; `None`: every configured scope, now and later (the CLI without --scopes).
    pub allowed_scopes: Option<Vec<&'a str>>,
    /// Skip the consent page (the caller decides who may set it).
    pub skip_authorization: bool,
    /// The owner's switch.
    pub enabled: bool,
}

/// What a registration needs besides the form: the settings that bound it.
pub struct Rules<'a> {
    /// `allowed_redirect_uri_schemes`.
    pub schemes: &'a [String],
    /// The configured scopes.
    pub scopes: &'a BTreeMap<String, String>,
}

impl<'a> Rules<'a> {
    /// The rules `settings` give.
    pub fn of(settings: &'a Settings) -> Rules<'a> {
        Rules {
            schemes: &settings.allowed_redirect_uri_schemes,
            scopes: &settings.scopes,
        }
    }
}

/// Checks a form: a name; a client type; known grant types (client_credentials only for a
/// confidential client, RFC 6749 §4.4); redirect URIs that are absolute, of an allowed scheme
/// and without a fragment (§3.1.2), at least one for the redirecting grants; known scopes,
/// at least one when a list is given.
pub fn validate(form: &AppForm<'_>, rules: &Rules<'_>) -> Result<AppFields, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = form.name.trim();
    if name.is_empty() {
        errors.add("name", "Enter a name.");
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.add("name", format!("Use at most {MAX_NAME_CHARS} characters."));
    } else if name.chars().any(char::is_control) {
        errors.add("name", "Use no control characters.");
    }
    let client_type = ClientType::parse(form.client_type);
    if client_type.is_none() {
        errors.add("client_type", "Choose confidential or public.");
    }
    let mut grant_types = Vec::new();
    for text in &form.grant_types {
        match GrantType::parse(text) {
            Some(grant) if !grant_types.contains(&grant) => grant_types.push(grant),
            Some(_) => {}
            None => errors.add("grant_types", format!("{text:?} is not a grant type.")),
        }
    }
    grant_types.sort();
    if form.grant_types.is_empty() {
        errors.add("grant_types", "Choose at least one grant type.");
    } else if client_type == Some(ClientType::Public)
        && grant_types.contains(&GrantType::ClientCredentials)
    {
        errors.add(
            "grant_types",
            "Client credentials needs a confidential client (RFC 6749 §4.4).",
        );
    }
    let mut redirect_uris: Vec<String> = Vec::new();
    for uri in form.redirect_uris.split_whitespace() {
        match validate_redirect_uri(uri, rules.schemes) {
            Ok(()) if !redirect_uris.iter().any(|u| u == uri) => redirect_uris.push(uri.into()),
            Ok(()) => {}
            Err(why) => errors.add("redirect_uris", why),
        }
    }
    let redirects = grant_types
        .iter()
        .any(|g| matches!(g, GrantType::AuthorizationCode | GrantType::Implicit));
    if redirects && form.redirect_uris.trim().is_empty() {
        errors.add(
            "redirect_uris",
            "Authorization-code and implicit apps need at least one redirect URI.",
        );
    }
    let allowed_scopes = match &form.allowed_scopes {
        None => None,
        Some(names) => {
            if let Some(unknown) = names.iter().find(|n| !rules.scopes.contains_key(**n)) {
                errors.add(
                    "allowed_scopes",
                    format!("{unknown:?} is not a configured scope."),
                );
            }
            let scopes = Scopes::from_names(names.iter().copied());
            if scopes.is_empty() {
                errors.add("allowed_scopes", "Choose at least one scope.");
            }
            Some(scopes)
        }
    };
    match client_type {
        Some(client_type) if errors.0.is_empty() => Ok(AppFields {
            name: name.to_owned(),
            client_type,
            grant_types,
            redirect_uris,
            allowed_scopes,
            skip_authorization: form.skip_authorization,
            enabled: form.enabled,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_scopes() -> BTreeMap<String, String> {
        BTreeMap::from([("read".into(), "R".into()), ("write".into(), "W".into())])
    }

    fn valid_form() -> AppForm<'static> {
        AppForm {
            name: "  bob\"e'i;--ü app ",
            client_type: "confidential",
            grant_types: vec!["client-credentials", "authorization-code"],
            redirect_uris: "https://app.example/cb\r\n  http://127.0.0.1/cb\n",
            allowed_scopes: Some(vec!["read"]),
            skip_authorization: false,
            enabled: true,
        }
    }

    fn check(form: &AppForm<'_>) -> Result<AppFields, FieldErrors> {
        let schemes = ["http".to_string(), "https".to_string()];
        let scopes = rules_scopes();
        validate(
            form,
            &Rules {
                schemes: &schemes,
                scopes: &scopes,
            },
        )
    }

    #[test]
    fn a_valid_form_is_trimmed_and_ordered() {
        let fields = check(&valid_form()).unwrap();
        assert_eq!(fields.name, "bob\"e'i;--ü app");
        assert_eq!(fields.client_type, ClientType::Confidential);
        assert_eq!(
            fields.grant_types,
            vec![GrantType::AuthorizationCode, GrantType::ClientCredentials]
        );
        assert_eq!(
            fields.redirect_uris,
            vec!["https://app.example/cb", "http://127.0.0.1/cb"]
        );
        assert_eq!(fields.allowed_scopes, Scopes::parse("read"));
        let all = AppForm {
            allowed_scopes: None,
            ..valid_form()
        };
        assert_eq!(check(&all).unwrap().allowed_scopes, None);
    }

    #[test]
    fn each_problem_is_named_by_its_field() {
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        let cases: Vec<(AppForm<'_>, &str, &str)> = vec![
            (
                AppForm {
                    name: " ",
                    ..valid_form()
                },
                "name",
                "Enter a name",
            ),
            (
                AppForm {
                    name: &long,
                    ..valid_form()
                },
                "name",
                "at most",
            ),
            (
                AppForm {
                    name: "a\u{7}b",
                    ..valid_form()
                },
                "name",
                "control",
            ),
            (
                AppForm {
                    client_type: "secret",
                    ..valid_form()
                },
                "client_type",
                "Choose",
            ),
            (
                AppForm {
                    grant_types: vec![],
                    ..valid_form()
                },
                "grant_types",
                "at least one",
            ),
            (
                AppForm {
                    grant_types: vec!["magic"],
                    ..valid_form()
                },
                "grant_types",
                "magic",
            ),
            (
                AppForm {
                    client_type: "public",
                    ..valid_form()
                },
                "grant_types",
                "confidential",
            ),
            (
                AppForm {
                    redirect_uris: "",
                    ..valid_form()
                },
                "redirect_uris",
                "at least one",
            ),
            (
                AppForm {
                    redirect_uris: "https://a.example/cb#x",
                    ..valid_form()
                },
                "redirect_uris",
                "fragment",
            ),
            (
                AppForm {
                    redirect_uris: "/relative",
                    ..valid_form()
                },
                "redirect_uris",
                "absolute",
            ),
            (
                AppForm {
                    redirect_uris: "ftp://a.example/",
                    ..valid_form()
                },
                "redirect_uris",
                "scheme",
            ),
            (
                AppForm {
                    allowed_scopes: Some(vec!["admin"]),
                    ..valid_form()
                },
                "allowed_scopes",
                "admin",
            ),
            (
                AppForm {
                    allowed_scopes: Some(vec![]),
                    ..valid_form()
                },
                "allowed_scopes",
                "at least one",
            ),
        ];
        for (form, field, says) in cases {
            let errors = check(&form).unwrap_err();
            let message = errors
                .get(field)
                .unwrap_or_else(|| panic!("{field}: {errors:?}"));
            assert!(message.contains(says), "{field}: {message}");
        }
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let form = AppForm {
            name: "",
            client_type: "",
            grant_types: vec![],
            ..valid_form()
        };
        let fields: Vec<_> = check(&form).unwrap_err().0.iter().map(|e| e.0).collect();
        assert_eq!(fields, vec!["name", "client_type", "grant_types"]);
    }

    #[test]
    fn password_and_implicit_need_no_secret_and_public_apps_may_use_them() {
        let form = AppForm {
            client_type: "public",
            grant_types: vec!["password", "implicit"],
            ..valid_form()
        };
        assert_eq!(check(&form).unwrap().client_type, ClientType::Public);
        let no_redirect = AppForm {
            grant_types: vec!["password"],
            redirect_uris: "",
            ..form
        };
        assert!(check(&no_redirect).unwrap().redirect_uris.is_empty());
    }
}
