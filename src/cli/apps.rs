//! `app add|update|list|remove`.

use super::args::Args;
use super::{CliError, failed, usage};
use crate::clock::Clock;
use crate::model::AppFields;
use crate::oauth::registration::{self, AppForm, Rules, SecretChange, UriLines};
use crate::oauth::scope::Scopes;
use crate::secret::{self, Secret};
use crate::settings::Settings;
use crate::store::{NewApplication, Store};
use std::io::Write;

/// The flags `app add` and `app update` share, as given; `None` where a flag was not given.
struct AppFlags {
    name: Option<String>,
    client_type: Option<String>,
    grants: Option<String>,
    redirect_uris: Option<String>,
    post_logout_redirect_uris: Option<String>,
    allowed_origins: Option<String>,
    resources: Option<String>,
    scopes: Option<String>,
    skip_authorization: Option<bool>,
    owner: Option<String>,
    json: bool,
}

impl AppFlags {
    /// Takes the flags out of `args`; `--no-skip-authorization` (for `app update`) clears what
    /// `--skip-authorization` sets, `--no-allowed-origins` the list `--allowed-origin` gives.
    fn read(args: &mut Args) -> Result<AppFlags, CliError> {
        let uris = |args: &mut Args, flag| -> Result<Option<String>, CliError> {
            let given = args.values(flag)?;
            Ok((!given.is_empty()).then(|| given.join(" ")))
        };
        let allowed_origins = match (
            uris(args, "--allowed-origin")?,
            args.flag("--no-allowed-origins"),
        ) {
            (Some(_), true) => {
                return Err(usage(
                    "--allowed-origin and --no-allowed-origins contradict each other",
                ));
            }
            (None, true) => Some(String::new()),
            (given, false) => given,
        };
        let skip = args.flag("--skip-authorization");
        let no_skip = args.flag("--no-skip-authorization");
        Ok(AppFlags {
            name: args.value("--name")?,
            client_type: args.value("--client-type")?,
            grants: args.value("--grant")?,
            redirect_uris: uris(args, "--redirect-uri")?,
            post_logout_redirect_uris: uris(args, "--post-logout-redirect-uri")?,
            allowed_origins,
            resources: uris(args, "--resource")?,
            scopes: args.value("--scopes")?,
            skip_authorization: match (skip, no_skip) {
                (true, true) => {
                    return Err(usage(
                        "--skip-authorization and --no-skip-authorization contradict each other",
                    ));
                }
                (true, false) => Some(true),
                (false, true) => Some(false),
                (false, false) => None,
            },
            owner: args.value("--owner")?,
            json: args.flag("--json"),
        })
    }

    /// `base` with every field that a flag gave replaced.
    fn over<'a>(&'a self, base: AppForm<'a>) -> AppForm<'a> {
        AppForm {
            name: self.name.as_deref().unwrap_or(base.name),
            client_type: self.client_type.as_deref().unwrap_or(base.client_type),
            grant_types: match &self.grants {
                Some(grants) => grants.split(',').map(str::trim).collect(),
                None => base.grant_types,
            },
            redirect_uris: self.redirect_uris.as_deref().unwrap_or(base.redirect_uris),
            post_logout_redirect_uris: self
                .post_logout_redirect_uris
                .as_deref()
                .unwrap_or(base.post_logout_redirect_uris),
            allowed_origins: self
                .allowed_origins
                .as_deref()
                .unwrap_or(base.allowed_origins),
            allowed_resources: self.resources.as_deref().unwrap_or(base.allowed_resources),
            allowed_scopes: match &self.scopes {
                Some(scopes) => Some(scopes.split_whitespace().collect()),
                None => base.allowed_scopes,
            },
            skip_authorization: self.skip_authorization.unwrap_or(base.skip_authorization),
            enabled: base.enabled,
        }
    }

    /// The row id of the `--owner`, if given.
    fn owner_id(&self, store: &Store) -> Result<Option<i64>, CliError> {
        match &self.owner {
            None => Ok(None),
            Some(name) => Ok(Some(
                store
                    .find_user_by_username(name)?
                    .ok_or_else(|| failed(format!("no user {name}")))?
                    .id,
            )),
        }
    }
}

/// `app add ...`: validates, generates the client id and secret, prints them once.
pub fn add_app(
    mut args: Args,
    store: &Store,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let flags = AppFlags::read(&mut args)?;
    args.done()?;
    for (given, flag) in [
        (&flags.name, "--name"),
        (&flags.client_type, "--client-type"),
        (&flags.grants, "--grant"),
    ] {
        if given.is_none() {
            return Err(usage(format!("{flag} is required")));
        }
    }
    let owner_id = flags.owner_id(store)?;
    let form = flags.over(blank_form());
    let (client_id, client_secret) =
        store.immediate(|store| register(store, settings, &form, owner_id))?;
    let shown = client_secret.as_ref().map(Secret::expose);
    print_credentials(out, flags.json, &client_id, shown, "(none: public client)")
}

/// The form `app add` starts from: enabled, every configured scope.
pub(crate) fn blank_form() -> AppForm<'static> {
    AppForm {
        enabled: true,
        allowed_scopes: None,
        ..AppForm::default()
    }
}

/// Registers the app `form` describes, checked by an administrator's rules, for `owner_id`;
/// returns its new client_id and the secret made for a confidential client. `app add` and
/// `serve --dev` register apps here, inside a [`Store::immediate`] transaction of their own.
pub(crate) fn register(
    store: &Store,
    settings: &Settings,
    form: &AppForm<'_>,
    owner_id: Option<i64>,
) -> Result<(String, Option<Secret>), CliError> {
    let fields = checked(form, &Rules::of(settings))?;
    let (client_id, client_secret) =
        secret::new_client_credentials(fields.client_type, settings.client_secret_length)?;
    let app = NewApplication {
        client_id: client_id.expose().to_owned(),
        secret_digest: client_secret.as_ref().map(Secret::digest),
        owner_id,
        fields,
    };
    store.create_app(&app, Clock::system().now())?;
    Ok((app.client_id, client_secret))
}

/// `app update CLIENT_ID ...`: the flags of `app add`, each given one replacing its field
/// (the others stay), checked by the same rules. Turning public drops the secret; turning
/// confidential makes one, printed once.
pub(crate) fn update_app(
    mut args: Args,
    store: &Store,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let client_id = args.word("CLIENT_ID")?;
    let flags = AppFlags::read(&mut args)?;
    args.done()?;
    let owner_id = flags.owner_id(store)?;
    let new_secret = secret::random_secret(settings.client_secret_length)?;
    let change = store.immediate(|store| {
        let found = store
            .find_app_by_client_id(&client_id)?
            .ok_or_else(|| failed(format!("no application {client_id}")))?;
        let uris = UriLines::of(&found.fields);
        let rules = Rules {
            current: Some(&found.fields),
            ..Rules::of(settings)
        };
        let fields = checked(&flags.over(AppForm::showing(&found.fields, &uris)), &rules)?;
        let change = SecretChange::of(found.fields.client_type, fields.client_type);
        let now = Clock::system().now();
        store.save_app_edit(found.id, &fields, change, &new_secret.digest(), now)?;
        if let Some(owner_id) = owner_id {
            store.set_app_owner(found.id, owner_id)?;
        }
        Ok::<_, CliError>(change)
    })?;
    let (shown, absent) = match change {
        SecretChange::Make => (Some(new_secret.expose()), ""),
        SecretChange::Keep => (None, "(unchanged)"),
        SecretChange::Drop => (None, "(none: public client)"),
    };
    print_credentials(out, flags.json, &client_id, shown, absent)
}

/// The form checked by `rules`; each error names the flag that set the field.
fn checked(form: &AppForm<'_>, rules: &Rules<'_>) -> Result<AppFields, CliError> {
    registration::validate(form, rules).map_err(|errors| {
        let lines: Vec<String> = errors
            .0
            .iter()
            .map(|(field, message)| format!("{}: {message}", flag_of(field)))
            .collect();
        usage(lines.join("\n"))
    })
}

/// Prints the client id and a secret that was just made (`absent` says why there is none);
/// `--json`: one object, the secret `null` when none was made.
fn print_credentials(
    out: &mut dyn Write,
    json: bool,
    client_id: &str,
    secret: Option<&str>,
    absent: &str,
) -> Result<(), CliError> {
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({ "client_id": client_id, "client_secret": secret })
        )?;
        return Ok(());
    }
    writeln!(out, "client_id:     {client_id}")?;
    writeln!(out, "client_secret: {}", secret.unwrap_or(absent))?;
    if secret.is_some() {
        writeln!(
            out,
            "The secret is shown only now; oauthd keeps only its SHA-256."
        )?;
    }
    Ok(())
}

/// The command-line flag that sets a registration field.
fn flag_of(field: &str) -> &str {
    match field {
        "client_type" => "--client-type",
        "grant_types" => "--grant",
        "redirect_uris" => "--redirect-uri",
        "post_logout_redirect_uris" => "--post-logout-redirect-uri",
        "allowed_origins" => "--allowed-origin",
        "allowed_resources" => "--resource",
        "allowed_scopes" => "--scopes",
        _ => "--name",
    }
}

/// `app list [--json]`: never prints a secret (only digests are stored).
pub fn list_apps(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let json = args.flag("--json");
    args.done()?;
    let apps = store.list_apps(None)?;
    if json {
        let list: Vec<_> = apps
            .iter()
            .map(|a| {
                serde_json::json!({
                    "client_id": a.client_id,
                    "name": a.fields.name,
                    "client_type": a.fields.client_type.as_str(),
                    "grant_types": a.fields.grant_types.iter().map(|g| g.cli_name()).collect::<Vec<_>>(),
                    "redirect_uris": a.fields.redirect_uris,
                    "post_logout_redirect_uris": a.fields.post_logout_redirect_uris,
                    "allowed_origins": a.fields.allowed_origins,
                    "allowed_resources": a.fields.allowed_resources,
                    "allowed_scopes": a.fields.allowed_scopes.as_ref().map(Scopes::to_string),
                    "skip_authorization": a.fields.skip_authorization,
                    "enabled": a.fields.enabled,
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(list))?;
    } else {
        for a in &apps {
            let grants: Vec<_> = a.fields.grant_types.iter().map(|g| g.cli_name()).collect();
            writeln!(
                out,
                "{}  {}  {}  {}",
                a.client_id,
                a.fields.client_type.as_str(),
                grants.join(","),
                a.fields.name
            )?;
        }
    }
    Ok(())
}

/// `app remove CLIENT_ID`: deletes the app with its grants and tokens.
pub(crate) fn remove_app(
    mut args: Args,
    store: &Store,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let client_id = args.word("CLIENT_ID")?;
    args.done()?;
    match store.find_app_by_client_id(&client_id)? {
        Some(app) if store.delete_app(app.id)? => {
            Ok(writeln!(out, "removed {client_id} with its tokens")?)
        }
        _ => Err(failed(format!("no application {client_id}"))),
    }
}
