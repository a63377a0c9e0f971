//! Registering or changing an application: the form's fields checked, each error named by its
//! field so that a form can show it beside the input. One set of rules for the pages and the
//! CLI.

use crate::model::{AppFields, ClientType, FieldErrors, GrantType};
use crate::oauth::origin::normalize_origin;
use crate::oauth::redirect::validate_redirect_uri;
use crate::oauth::resource::Resources;
use crate::oauth::scope::Scopes;
use crate::settings::Settings;
use std::collections::BTreeMap;

/// The longest application name accepted.
pub(crate) const MAX_NAME_CHARS: usize = 255;

/// The fields as typed, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AppForm<'a> {
    /// Display name.
    pub name: &'a str,
    /// "confidential" or "public".
    pub client_type: &'a str,
    /// Grant type names (DOT's choice values).
    pub grant_types: Vec<&'a str>,
    /// Redirect URIs separated by whitespace (one per line in the form).
    pub redirect_uris: &'a str,
    /// Post-logout redirect URIs separated by whitespace (one per line in the form).
    pub post_logout_redirect_uris: &'a str,
    /// Allowed origins (CORS) separated by whitespace (one per line in the form).
    pub allowed_origins: &'a str,
    /// The resources (RFC 8707) the app may request, separated by whitespace (one per line in
    /// the form); none: any.
    pub allowed_resources: &'a str,
    /// Scope names; `None`: every configured scope, now and later (the CLI without --scopes).
    pub allowed_scopes: Option<Vec<&'a str>>,
    /// Skip the consent page (the caller decides who may set it).
    pub skip_authorization: bool,
    /// The owner's switch.
    pub enabled: bool,
}

impl<'a> AppForm<'a> {
    /// The form that shows `fields`, with their URIs as [`UriLines::of`] gives them.
    pub(crate) fn showing(fields: &'a AppFields, uris: &'a UriLines) -> AppForm<'a> {
        AppForm {
            name: &fields.name,
            client_type: fields.client_type.as_str(),
            grant_types: fields.grant_types.iter().map(|g| g.cli_name()).collect(),
            redirect_uris: &uris.redirect_uris,
            post_logout_redirect_uris: &uris.post_logout_redirect_uris,
            allowed_origins: &uris.allowed_origins,
            allowed_resources: &uris.allowed_resources,
            allowed_scopes: fields
                .allowed_scopes
                .as_ref()
                .map(|scopes| scopes.iter().collect()),
            skip_authorization: fields.skip_authorization,
            enabled: fields.enabled,
        }
    }
}

/// An application's URI and origin lists as a form shows them, one per line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UriLines {
    /// The redirect URIs.
    pub redirect_uris: String,
    /// The post-logout redirect URIs.
    pub post_logout_redirect_uris: String,
    /// The allowed origins.
    pub allowed_origins: String,
    /// The allowed resources.
    pub allowed_resources: String,
}

impl UriLines {
    /// `fields`' URI lists, one per line.
    pub fn of(fields: &AppFields) -> UriLines {
        UriLines {
            redirect_uris: fields.redirect_uris.join("\n"),
            post_logout_redirect_uris: fields.post_logout_redirect_uris.join("\n"),
            allowed_origins: fields.allowed_origins.join("\n"),
            allowed_resources: fields.allowed_resources.join("\n"),
        }
    }
}

/// What a registration needs besides the form: the settings that bound it, and who edits what.
pub(crate) struct Rules<'a> {
    /// `allowed_redirect_uri_schemes`.
    pub schemes: &'a [String],
    /// The configured scopes.
    pub scopes: &'a BTreeMap<String, String>,
    /// `admin_scopes`: scopes only an administrator may allow an application.
    pub admin_scopes: &'a [String],
    /// `self_service_grants`: the grants someone other than an administrator may choose.
    pub self_service_grants: &'a [GrantType],
    /// An administrator edits: every field is theirs to set.
    pub by_admin: bool,
    /// The application's fields before this edit; `None` when registering.
    pub current: Option<&'a AppFields>,
}

impl<'a> Rules<'a> {
    /// The rules `settings` give an administrator registering an app (the CLI).
    pub fn of(settings: &'a Settings) -> Rules<'a> {
        Rules {
            schemes: &settings.allowed_redirect_uri_schemes,
            scopes: &settings.scopes,
            admin_scopes: &settings.admin_scopes,
            self_service_grants: &settings.self_service_grants,
            by_admin: true,
            current: None,
        }
    }

    /// The rules `settings` give a client registering itself (RFC 7591): those of a user who
    /// is not an administrator, registering a new app — but not `self_service_grants`, which
    /// is for the application pages: registration has its own fixed list of grants
    /// (`REGISTRABLE_GRANTS`, docs/security.md rule 68).
    pub(crate) fn for_client(settings: &'a Settings) -> Rules<'a> {
        Rules {
            self_service_grants: &GrantType::ALL,
            by_admin: false,
            ..Rules::of(settings)
        }
    }

    /// Whether only an administrator may give an app `grant` (it is not self-service).
    pub(crate) fn grant_is_restricted(&self, grant: GrantType) -> bool {
        !self.by_admin && !self.self_service_grants.contains(&grant)
    }

    /// Whether this editor may choose `grant`: one that is not restricted, or one the app
    /// being edited already has, which its owner may keep or drop but never add back
    /// (docs/security.md rule 65).
    pub(crate) fn may_choose(&self, grant: GrantType) -> bool {
        !self.grant_is_restricted(grant)
            || self
                .current
                .is_some_and(|current| current.grant_types.contains(&grant))
    }

    /// Whether the app being edited allows `scope` now.
    fn currently_allows(&self, scope: &str) -> bool {
        self.current.is_some_and(|current| {
            current
                .allowed_scopes
                .as_ref()
                .is_none_or(|allowed| allowed.contains(scope))
        })
    }
}

/// Checks a form: a name; a client type; known grant types (client_credentials only for a
/// confidential client, RFC 6749 §4.4); redirect URIs that are absolute, of an allowed scheme
/// and without a fragment (§3.1.2), at least one for the redirecting grants; post-logout
/// redirect URIs by the same rules, none required (RP-Initiated Logout 1.0 §3.1); origins
/// that are exactly `scheme://host[:port]`, stored as browsers send them; known scopes,
/// at least one when a list is given. Someone other than an administrator cannot add an
/// `admin_scopes` scope or a grant outside `self_service_grants`, nor change
/// skip_authorization; what an administrator set stays, but an app's owner may drop a grant
/// only an administrator could give it.
pub(crate) fn validate(form: &AppForm<'_>, rules: &Rules<'_>) -> Result<AppFields, FieldErrors> {
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
        match GrantType::from_cli_name(text) {
            Some(grant) if grant_types.contains(&grant) => {}
            Some(grant) if !rules.may_choose(grant) => errors.add(
                "grant_types",
                format!("Only an administrator can give an application the {grant} grant."),
            ),
            Some(grant) => grant_types.push(grant),
            None => errors.add("grant_types", format!("{text:?} is not a grant type.")),
        }
    }
    grant_types.sort();
    if grant_types.is_empty() && errors.get("grant_types").is_none() {
        errors.add("grant_types", "Choose at least one grant type.");
    } else if client_type == Some(ClientType::Public)
        && grant_types.contains(&GrantType::ClientCredentials)
    {
        errors.add(
            "grant_types",
            "Client credentials needs a confidential client (RFC 6749 §4.4).",
        );
    }
    let redirect_uris = uri_list(form.redirect_uris, "redirect_uris", rules, &mut errors);
    let post_logout_redirect_uris = uri_list(
        form.post_logout_redirect_uris,
        "post_logout_redirect_uris",
        rules,
        &mut errors,
    );
    let allowed_origins = origin_list(form.allowed_origins, &mut errors);
    let allowed_resources = resource_list(form.allowed_resources, &mut errors);
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
        Some(names) => allowed_scopes(names, rules, &mut errors),
    };
    let skip_authorization = if rules.by_admin {
        form.skip_authorization
    } else {
        rules.current.is_some_and(|c| c.skip_authorization)
    };
    match client_type {
        Some(client_type) if errors.0.is_empty() => Ok(AppFields {
            name: name.to_owned(),
            client_type,
            grant_types,
            redirect_uris,
            post_logout_redirect_uris,
            allowed_origins,
            allowed_resources,
            allowed_scopes,
            skip_authorization,
            enabled: form.enabled,
        }),
        _ => Err(errors),
    }
}

/// The whitespace-separated URIs of `text`, each checked as a redirect URI (absolute, of an
/// allowed scheme, no fragment), without repeats; each bad one is an error of `field`.
fn uri_list(
    text: &str,
    field: &'static str,
    rules: &Rules<'_>,
    errors: &mut FieldErrors,
) -> Vec<String> {
    let mut uris: Vec<String> = Vec::new();
    for uri in text.split_whitespace() {
        match validate_redirect_uri(uri, rules.schemes) {
            Ok(()) if !uris.iter().any(|u| u == uri) => uris.push(uri.into()),
            Ok(()) => {}
            Err(why) => errors.add(field, why),
        }
    }
    uris
}

/// The whitespace-separated origins of `text`, normalized, sorted, without repeats; each bad one is an
/// error of `allowed_origins` (docs/security.md rule 59).
fn origin_list(text: &str, errors: &mut FieldErrors) -> Vec<String> {
    let mut origins: Vec<String> = Vec::new();
    for typed in text.split_whitespace() {
        match normalize_origin(typed) {
            Ok(origin) => origins.push(origin),
            Err(why) => errors.add("allowed_origins", why),
        }
    }
    // In the order the store lists them.
    origins.sort();
    origins.dedup();
    origins
}

/// The whitespace-separated resource indicators of `text`, as a request's are read
/// ([`Resources::parse`]: sorted, without repeats, at most 16); a bad one is an error of
/// `allowed_resources`.
fn resource_list(text: &str, errors: &mut FieldErrors) -> Vec<String> {
    let typed: Vec<&str> = text.split_whitespace().collect();
    match Resources::parse(&typed) {
        Ok(resources) => resources.as_slice().to_vec(),
        Err(error) => {
            errors.add("allowed_resources", error.description());
            Vec::new()
        }
    }
}

/// The scopes chosen, with the `admin_scopes` an administrator gave the app kept when someone
/// else edits it. An app allowed every scope, now and later, keeps that while every configured
/// scope stays chosen.
fn allowed_scopes(names: &[&str], rules: &Rules<'_>, errors: &mut FieldErrors) -> Option<Scopes> {
    if let Some(unknown) = names.iter().find(|n| !rules.scopes.contains_key(**n)) {
        errors.add(
            "allowed_scopes",
            format!("{unknown:?} is not a configured scope."),
        );
    }
    let restricted = |scope: &str| !rules.by_admin && rules.admin_scopes.iter().any(|s| s == scope);
    for name in names
        .iter()
        .filter(|n| restricted(n) && !rules.currently_allows(n))
    {
        errors.add(
            "allowed_scopes",
            format!("Only an administrator can allow the scope {name:?}."),
        );
    }
    let kept = rules
        .admin_scopes
        .iter()
        .map(String::as_str)
        .filter(|s| restricted(s) && rules.currently_allows(s));
    let scopes = Scopes::from_names(names.iter().copied().chain(kept));
    if scopes.is_empty() {
        errors.add("allowed_scopes", "Choose at least one scope.");
    }
    let had_every_scope = rules.current.is_some_and(|c| c.allowed_scopes.is_none());
    let has_every_scope = rules.scopes.keys().all(|s| scopes.contains(s));
    (!(had_every_scope && has_every_scope)).then_some(scopes)
}

/// What changing an application's client type does to its secret: the same for the pages and
/// the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretChange {
    /// Confidential before and after: the secret stays.
    Keep,
    /// Now public: a public client has no secret, so the stored one is dropped.
    Drop,
    /// Public turned confidential: a new secret is made and shown once.
    Make,
}

impl SecretChange {
    /// The change that going from `before` to `after` asks for.
    pub fn of(before: ClientType, after: ClientType) -> SecretChange {
        match (before, after) {
            (_, ClientType::Public) => SecretChange::Drop,
            (ClientType::Public, ClientType::Confidential) => SecretChange::Make,
            (ClientType::Confidential, ClientType::Confidential) => SecretChange::Keep,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_scopes() -> BTreeMap<String, String> {
        BTreeMap::from([("read".into(), "R".into()), ("write".into(), "W".into())])
    }

    /// The grants offered to users who are not administrators (the default).
    const SELF_SERVICE: [GrantType; 2] =
        [GrantType::AuthorizationCode, GrantType::ClientCredentials];

    fn valid_form() -> AppForm<'static> {
        AppForm {
            name: "  bob\"e'i;--ü app ",
            client_type: "confidential",
            grant_types: vec!["client-credentials", "authorization-code"],
            redirect_uris: "https://app.example/cb\r\n  http://127.0.0.1/cb\n",
            post_logout_redirect_uris: " https://app.example/bye\r\nhttps://app.example/bye \n",
            allowed_origins: "https://app.example:443\r\n https://app.example http://127.0.0.1:5173",
            allowed_resources: "https://api.example/\r\n",
            allowed_scopes: Some(vec!["read"]),
            skip_authorization: false,
            enabled: true,
        }
    }

    /// An administrator's rules for registering an app with `schemes` and `scopes`, no admin
    /// scopes and [`SELF_SERVICE`]; each test changes what it is about.
    fn admin_rules<'a>(schemes: &'a [String], scopes: &'a BTreeMap<String, String>) -> Rules<'a> {
        Rules {
            schemes,
            scopes,
            admin_scopes: &[],
            self_service_grants: &SELF_SERVICE,
            by_admin: true,
            current: None,
        }
    }

    fn check(form: &AppForm<'_>) -> Result<AppFields, FieldErrors> {
        let schemes = ["http".to_string(), "https".to_string()];
        let scopes = rules_scopes();
        validate(form, &admin_rules(&schemes, &scopes))
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
        assert_eq!(
            fields.post_logout_redirect_uris,
            vec!["https://app.example/bye"],
            "trimmed, a repeat dropped"
        );
        assert_eq!(
            fields.allowed_origins,
            vec!["http://127.0.0.1:5173", "https://app.example"],
            "the default port dropped, then a repeat; sorted"
        );
        assert_eq!(fields.allowed_scopes, Scopes::parse("read"));
        let all = AppForm {
            allowed_scopes: None,
            ..valid_form()
        };
        assert_eq!(check(&all).unwrap().allowed_scopes, None);
    }

    #[test]
    fn a_form_showing_valid_fields_checks_back_to_them() {
        let fields = check(&valid_form()).unwrap();
        let uris = UriLines::of(&fields);
        assert_eq!(check(&AppForm::showing(&fields, &uris)).unwrap(), fields);
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
                    allowed_origins: "https://app.example/",
                    ..valid_form()
                },
                "allowed_origins",
                "not an origin",
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
                    post_logout_redirect_uris: "https://a.example/bye#x",
                    ..valid_form()
                },
                "post_logout_redirect_uris",
                "fragment",
            ),
            (
                AppForm {
                    post_logout_redirect_uris: "bye.html",
                    ..valid_form()
                },
                "post_logout_redirect_uris",
                "absolute",
            ),
            (
                AppForm {
                    post_logout_redirect_uris: "javascript:alert(1)",
                    ..valid_form()
                },
                "post_logout_redirect_uris",
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
            (
                AppForm {
                    allowed_resources: "https://api.example/\nhttps://api.example/#x",
                    ..valid_form()
                },
                "allowed_resources",
                "fragment",
            ),
            (
                AppForm {
                    allowed_resources: "/api",
                    ..valid_form()
                },
                "allowed_resources",
                "absolute",
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
    fn only_administrators_add_admin_scopes_or_skip_authorization_and_theirs_stay() {
        let schemes = ["https".to_string(), "http".to_string()];
        let scopes = BTreeMap::from([
            ("read".into(), "R".into()),
            ("introspection".into(), "I".into()),
        ]);
        let admin_scopes = ["introspection".to_string()];
        let rules = |by_admin, current| Rules {
            admin_scopes: &admin_scopes,
            by_admin,
            current,
            ..admin_rules(&schemes, &scopes)
        };
        let asks = AppForm {
            allowed_scopes: Some(vec!["read", "introspection"]),
            skip_authorization: true,
            ..valid_form()
        };
        let errors = validate(&asks, &rules(false, None)).unwrap_err();
        assert!(
            errors
                .get("allowed_scopes")
                .unwrap()
                .contains("Only an administrator")
        );
        let by_admin = validate(&asks, &rules(true, None)).unwrap();
        assert_eq!(by_admin.allowed_scopes, Scopes::parse("read introspection"));
        assert!(by_admin.skip_authorization);

        // The owner edits what the administrator set: the scope and the skip stay, unasked.
        let owner_form = AppForm {
            allowed_scopes: Some(vec!["read"]),
            skip_authorization: false,
            ..valid_form()
        };
        let kept = validate(&owner_form, &rules(false, Some(&by_admin))).unwrap();
        assert_eq!(kept.allowed_scopes, Scopes::parse("read introspection"));
        assert!(kept.skip_authorization);
        let registered = validate(&owner_form, &rules(false, None)).unwrap();
        assert!(!registered.skip_authorization);
    }

    #[test]
    fn only_administrators_give_legacy_grants_and_an_apps_legacy_grant_stays() {
        let schemes = ["https".to_string(), "http".to_string()];
        let scopes = rules_scopes();
        let rules = |by_admin, current| Rules {
            by_admin,
            current,
            ..admin_rules(&schemes, &scopes)
        };
        let asks = AppForm {
            grant_types: vec!["authorization-code", "password"],
            ..valid_form()
        };
        let errors = validate(&asks, &rules(false, None)).unwrap_err();
        let message = errors.get("grant_types").unwrap();
        assert!(message.contains("Only an administrator"), "{message}");
        assert!(message.contains("password"), "{message}");
        let legacy = validate(&asks, &rules(true, None)).unwrap();
        assert_eq!(
            legacy.grant_types,
            [GrantType::AuthorizationCode, GrantType::Password]
        );

        // The owner may keep the grant they cannot choose, or drop it; not add it back.
        let owner = rules(false, Some(&legacy));
        assert!(owner.may_choose(GrantType::Password));
        assert!(!owner.may_choose(GrantType::Implicit));
        let kept = validate(&asks, &owner).unwrap();
        assert_eq!(kept.grant_types, legacy.grant_types);
        let edit = AppForm {
            name: "renamed",
            grant_types: vec!["authorization-code", "client-credentials"],
            ..valid_form()
        };
        let dropped = validate(&edit, &owner).unwrap();
        assert_eq!(
            dropped.grant_types,
            [GrantType::AuthorizationCode, GrantType::ClientCredentials]
        );
        let errors = validate(&asks, &rules(false, Some(&dropped))).unwrap_err();
        assert!(errors.get("grant_types").is_some(), "not added back");
        let none = AppForm {
            grant_types: vec![],
            ..valid_form()
        };
        assert!(
            validate(&none, &owner)
                .unwrap_err()
                .get("grant_types")
                .is_some()
        );
    }

    #[test]
    fn an_owner_may_make_a_client_credentials_app_public_by_dropping_that_grant() {
        let schemes = ["https".to_string(), "http".to_string()];
        let scopes = rules_scopes();
        let code_only = [GrantType::AuthorizationCode];
        let admin_made = check(&valid_form()).unwrap();
        let owner = Rules {
            self_service_grants: &code_only,
            by_admin: false,
            current: Some(&admin_made),
            ..admin_rules(&schemes, &scopes)
        };
        let public = |grant_types| AppForm {
            client_type: "public",
            grant_types,
            ..valid_form()
        };
        let errors = validate(
            &public(vec!["client-credentials", "authorization-code"]),
            &owner,
        )
        .unwrap_err();
        assert!(errors.get("grant_types").unwrap().contains("confidential"));
        let made_public = validate(&public(vec!["authorization-code"]), &owner).unwrap();
        assert_eq!(made_public.client_type, ClientType::Public);
        assert_eq!(made_public.grant_types, [GrantType::AuthorizationCode]);
    }

    #[test]
    fn a_client_registering_itself_is_not_limited_by_self_service_grants() {
        let mut settings = Settings::load(None).unwrap();
        settings.self_service_grants = vec![GrantType::AuthorizationCode];
        let rules = Rules::for_client(&settings);
        assert!(!rules.grant_is_restricted(GrantType::ClientCredentials));
        assert!(!rules.by_admin);
    }

    #[test]
    fn an_app_allowed_every_scope_keeps_that_while_every_scope_stays_chosen() {
        let every = AppFields {
            allowed_scopes: None,
            ..check(&valid_form()).unwrap()
        };
        let schemes = ["https".to_string(), "http".to_string()];
        let scopes = rules_scopes();
        let rules = Rules {
            by_admin: false,
            current: Some(&every),
            ..admin_rules(&schemes, &scopes)
        };
        let all = AppForm {
            allowed_scopes: Some(vec!["read", "write"]),
            ..valid_form()
        };
        assert_eq!(validate(&all, &rules).unwrap().allowed_scopes, None);
        assert_eq!(
            validate(&valid_form(), &rules).unwrap().allowed_scopes,
            Scopes::parse("read")
        );
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

    #[test]
    fn post_logout_redirect_uris_are_optional_and_checked_on_their_own() {
        let none = AppForm {
            post_logout_redirect_uris: " \r\n ",
            ..valid_form()
        };
        assert!(check(&none).unwrap().post_logout_redirect_uris.is_empty());
        let one_bad = AppForm {
            post_logout_redirect_uris: "https://a.example/bye\nhttps://a.example/x#y",
            ..valid_form()
        };
        let errors = check(&one_bad).unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| e.0).collect();
        assert_eq!(fields, vec!["post_logout_redirect_uris"], "{errors:?}");
    }

    #[test]
    fn a_change_of_client_type_keeps_drops_or_makes_the_secret() {
        use ClientType::{Confidential, Public};
        for (before, after, change) in [
            (Confidential, Confidential, SecretChange::Keep),
            (Confidential, Public, SecretChange::Drop),
            (Public, Public, SecretChange::Drop),
            (Public, Confidential, SecretChange::Make),
        ] {
            assert_eq!(
                SecretChange::of(before, after),
                change,
                "{before:?} to {after:?}"
            );
        }
    }
}
