//! `app add|list|remove`.

use super::args::Args;
use super::{CliError, failed, usage};
use crate::clock::Clock;
use crate::oauth::registration::{self, AppForm, Rules};
use crate::oauth::scope::Scopes;
use crate::secret;
use crate::settings::Settings;
use crate::store::{NewApplication, Store};
use std::io::Write;

/// `app add ...`: validates, generates the client id and secret, prints them once.
pub fn add_app(
    mut args: Args,
    store: &Store,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let name = args
        .value("--name")?
        .ok_or_else(|| usage("--name is required"))?;
    let client_type = args
        .value("--client-type")?
        .ok_or_else(|| usage("--client-type is required"))?;
    let grants = args
        .value("--grant")?
        .ok_or_else(|| usage("--grant is required"))?;
    let redirect_uris = args.values("--redirect-uri")?.join(" ");
    let post_logout_redirect_uris = args.values("--post-logout-redirect-uri")?.join(" ");
    let scopes = args.value("--scopes")?;
    let skip_authorization = args.flag("--skip-authorization");
    let owner = args.value("--owner")?;
    let json = args.flag("--json");
    args.done()?;
    let form = AppForm {
        name: &name,
        client_type: &client_type,
        grant_types: grants.split(',').map(str::trim).collect(),
        redirect_uris: &redirect_uris,
        post_logout_redirect_uris: &post_logout_redirect_uris,
        allowed_scopes: scopes.as_deref().map(|s| s.split_whitespace().collect()),
        skip_authorization,
        enabled: true,
    };
    let fields = registration::validate(&form, &Rules::of(settings)).map_err(|errors| {
        let lines: Vec<String> = errors
            .0
            .iter()
            .map(|(field, message)| format!("{}: {message}", flag_of(field)))
            .collect();
        usage(lines.join("\n"))
    })?;
    let owner_id = match owner {
        None => None,
        Some(name) => Some(
            store
                .find_user_by_username(&name)?
                .ok_or_else(|| failed(format!("no user {name}")))?
                .id,
        ),
    };
    let (client_id, client_secret) =
        secret::new_client_credentials(fields.client_type, settings.client_secret_length)?;
    let app = NewApplication {
        client_id: client_id.expose().to_owned(),
        secret_digest: client_secret.as_ref().map(secret::Secret::digest),
        owner_id,
        fields,
    };
    store.create_app(&app, Clock::system().now())?;
    let shown = client_secret.as_ref().map(secret::Secret::expose);
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({ "client_id": app.client_id, "client_secret": shown })
        )?;
    } else {
        writeln!(out, "client_id:     {}", app.client_id)?;
        writeln!(
            out,
            "client_secret: {}",
            shown.unwrap_or("(none: public client)")
        )?;
        if shown.is_some() {
            writeln!(
                out,
                "The secret is shown only now; oauthd keeps only its SHA-256."
            )?;
        }
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
pub fn remove_app(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let client_id = args.word("CLIENT_ID")?;
    args.done()?;
    match store.find_app_by_client_id(&client_id)? {
        Some(app) if store.delete_app(app.id)? => {
            Ok(writeln!(out, "removed {client_id} with its tokens")?)
        }
        _ => Err(failed(format!("no application {client_id}"))),
    }
}
