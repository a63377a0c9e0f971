//! `app add|list|remove`.

use super::args::Args;
use super::{CliError, failed, usage};
use crate::model::{ClientType, GrantType};
use crate::oauth::redirect::validate_redirect_uri;
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
    let client_type = ClientType::parse(&client_type)
        .ok_or_else(|| usage("--client-type is confidential or public"))?;
    let grants = args
        .value("--grant")?
        .ok_or_else(|| usage("--grant is required"))?;
    let grant_types = grants
        .split(',')
        .map(|g| GrantType::parse(g.trim()).ok_or_else(|| usage(format!("unknown grant {g:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let redirect_uris = args.values("--redirect-uri")?;
    let scopes = args.value("--scopes")?;
    let skip_authorization = args.flag("--skip-authorization");
    let owner = args.value("--owner")?;
    let json = args.flag("--json");
    args.done()?;
    for uri in &redirect_uris {
        validate_redirect_uri(uri, &settings.allowed_redirect_uri_schemes).map_err(usage)?;
    }
    let needs_redirect = grant_types
        .iter()
        .any(|g| matches!(g, GrantType::AuthorizationCode | GrantType::Implicit));
    if needs_redirect && redirect_uris.is_empty() {
        return Err(usage(
            "authorization-code and implicit apps need at least one --redirect-uri",
        ));
    }
    let allowed_scopes = scopes
        .as_deref()
        .map(parse_known_scopes(settings))
        .transpose()?;
    let owner_id = match owner {
        None => None,
        Some(name) => Some(
            store
                .find_user_by_username(&name)?
                .ok_or_else(|| failed(format!("no user {name}")))?
                .id,
        ),
    };
    let client_id = secret::random_secret(40)?;
    let client_secret = match client_type {
        ClientType::Confidential => Some(secret::random_secret(settings.client_secret_length)?),
        ClientType::Public => None,
    };
    let app = NewApplication {
        client_id: client_id.expose().to_owned(),
        secret_digest: client_secret.as_ref().map(secret::Secret::digest),
        name,
        client_type,
        grant_types,
        redirect_uris,
        allowed_scopes,
        skip_authorization,
        owner_id,
    };
    store.create_app(&app, crate::clock::now())?;
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

fn parse_known_scopes(settings: &Settings) -> impl Fn(&str) -> Result<Scopes, CliError> + '_ {
    move |text| {
        let scopes =
            Scopes::parse(text).ok_or_else(|| usage(format!("--scopes {text:?} is malformed")))?;
        if let Some(unknown) = scopes.iter().find(|s| !settings.scopes.contains_key(*s)) {
            return Err(usage(format!(
                "--scopes: {unknown:?} is not a configured scope"
            )));
        }
        Ok(scopes)
    }
}

/// `app list [--json]`: never prints a secret (only digests are stored).
pub fn list_apps(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let json = args.flag("--json");
    args.done()?;
    let apps = store.list_apps()?;
    if json {
        let list: Vec<_> = apps
            .iter()
            .map(|a| {
                serde_json::json!({
                    "client_id": a.client_id,
                    "name": a.name,
                    "client_type": a.client_type.as_str(),
                    "grant_types": a.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
                    "redirect_uris": a.redirect_uris,
                    "allowed_scopes": a.allowed_scopes.as_ref().map(Scopes::to_string),
                    "skip_authorization": a.skip_authorization,
                    "enabled": a.enabled,
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(list))?;
    } else {
        for a in &apps {
            let grants: Vec<_> = a.grant_types.iter().map(|g| g.as_str()).collect();
            writeln!(
                out,
                "{}  {}  {}  {}",
                a.client_id,
                a.client_type.as_str(),
                grants.join(","),
                a.name
            )?;
        }
    }
    Ok(())
}

/// `app remove CLIENT_ID`: deletes the app with its grants and tokens.
pub fn remove_app(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let client_id = args.word("CLIENT_ID")?;
    args.done()?;
    if store.delete_app(&client_id)? {
        Ok(writeln!(out, "removed {client_id} with its tokens")?)
    } else {
        Err(failed(format!("no application {client_id}")))
    }
}
