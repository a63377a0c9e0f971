//! The command line: `oauthd [--db PATH] [--config PATH] <command>`. Parsing is separate from
//! running so that both are testable; `main` maps [`CliError`] to exit codes.

use crate::model::{ClientType, GrantType, is_valid_username};
use crate::oauth::redirect::validate_redirect_uri;
use crate::oauth::scope::Scopes;
use crate::secret;
use crate::settings::Settings;
use crate::store::{NewApplication, Store, StoreError};
use crate::{RunningServer, ServerConfig};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Usage text, printed on a usage error.
pub const USAGE: &str = "usage: oauthd [--db PATH] [--config PATH] <command>
commands:
  serve [--addr 127.0.0.1:8000] [--threads N]
  user add USERNAME [--admin] [--email EMAIL]      (password from stdin, or prompted)
  user enable|disable USERNAME
  group add NAME [--member USERNAME]...
  app add --name NAME --client-type confidential|public --grant GRANT[,GRANT...]
          [--redirect-uri URI]... [--scopes \"a b\"] [--skip-authorization] [--owner USERNAME] [--json]
          GRANT: authorization-code, implicit, password, client-credentials
  app list [--json]
  app remove CLIENT_ID
  app enable|disable CLIENT_ID
  cleartokens";

/// Why a command failed: a usage error (exit 2) or a failure while running (exit 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// The arguments are wrong.
    Usage(String),
    /// The command could not be carried out.
    Failed(String),
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::Failed(e.to_string())
    }
}

fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

fn failed(message: impl Into<String>) -> CliError {
    CliError::Failed(message.into())
}

/// Arguments left to read, with helpers for flags and their values.
struct Args(Vec<String>);

impl Args {
    /// Removes `--name VALUE` (or `--name=VALUE`) wherever it appears; repeated uses are collected.
    fn values(&mut self, name: &str) -> Result<Vec<String>, CliError> {
        let mut found = Vec::new();
        let mut rest = Vec::new();
        let mut words = std::mem::take(&mut self.0).into_iter();
        while let Some(word) = words.next() {
            if word == name {
                found.push(
                    words
                        .next()
                        .ok_or_else(|| usage(format!("{name} needs a value")))?,
                );
            } else if let Some(value) = word.strip_prefix(name).and_then(|w| w.strip_prefix('=')) {
                found.push(value.to_owned());
            } else {
                rest.push(word);
            }
        }
        self.0 = rest;
        Ok(found)
    }

    /// Removes `--name VALUE` and returns the value; given twice is a usage error.
    fn value(&mut self, name: &str) -> Result<Option<String>, CliError> {
        let mut values = self.values(name)?;
        match values.len() {
            0 | 1 => Ok(values.pop()),
            _ => Err(usage(format!("{name} given more than once"))),
        }
    }

    /// Removes a bare `--flag`.
    fn flag(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|a| a != name);
        before != self.0.len()
    }

    /// Takes the next positional word.
    fn word(&mut self, what: &str) -> Result<String, CliError> {
        match self.0.first() {
            Some(word) if !word.starts_with("--") => Ok(self.0.remove(0)),
            _ => Err(usage(format!("missing {what}"))),
        }
    }

    /// Fails on anything not consumed.
    fn done(self) -> Result<(), CliError> {
        match self.0.first() {
            Some(extra) => Err(usage(format!("unexpected argument {extra:?}"))),
            None => Ok(()),
        }
    }
}

/// Where `user add` gets a password.
pub enum PasswordSource<'a> {
    /// Ask on the terminal, without echo.
    Prompt,
    /// Read one line (stdin that is not a terminal).
    Line(&'a mut dyn BufRead),
}

/// Runs the command line `args` (without the program name). Reads a password from
/// `passwords` where one is needed and writes results to `out`.
pub fn run(
    args: Vec<String>,
    passwords: PasswordSource<'_>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut args = Args(args);
    let db = PathBuf::from(
        args.value("--db")?
            .unwrap_or_else(|| "oauthd.sqlite3".into()),
    );
    let config = args.value("--config")?.map(PathBuf::from);
    let config = config.or_else(|| Some(PathBuf::from("oauthd.toml")).filter(|p| p.exists()));
    let settings = Settings::load(config.as_deref())?;
    let command = args.word("a command")?;
    match command.as_str() {
        "serve" => serve(args, db, settings, out),
        "user" => {
            let sub = args.word("a user command")?;
            let store = open(&db, &settings)?;
            match sub.as_str() {
                "add" => add_user(args, &store, passwords, out),
                "enable" | "disable" => toggle(
                    args,
                    "user",
                    sub == "enable",
                    |name, on| store.set_user_active(name, on),
                    out,
                ),
                other => Err(usage(format!("unknown user command {other:?}"))),
            }
        }
        "group" => match args.word("a group command")?.as_str() {
            "add" => add_group(args, &open(&db, &settings)?, out),
            other => Err(usage(format!("unknown group command {other:?}"))),
        },
        "app" => {
            let sub = args.word("an app command")?;
            let store = open(&db, &settings)?;
            match sub.as_str() {
                "add" => add_app(args, &store, &settings, out),
                "list" => list_apps(args, &store, out),
                "remove" => remove_app(args, &store, out),
                "enable" | "disable" => toggle(
                    args,
                    "application",
                    sub == "enable",
                    |id, on| store.set_app_enabled(id, on),
                    out,
                ),
                other => Err(usage(format!("unknown app command {other:?}"))),
            }
        }
        "cleartokens" => {
            args.done()?;
            let store = open(&db, &settings)?;
            let now = crate::clock::now();
            let cleared =
                store.immediate(|s| s.clear_expired(now, settings.refresh_token_expire_seconds))?;
            writeln!(
                out,
                "removed {} refresh tokens, {} access tokens, {} grants",
                cleared.refresh_tokens, cleared.access_tokens, cleared.grants
            )?;
            Ok(())
        }
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}

fn open(db: &Path, settings: &Settings) -> Result<Store, CliError> {
    Ok(Store::open(db, settings.durability)?)
}

fn serve(
    mut args: Args,
    db: PathBuf,
    settings: Settings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let addr = args
        .value("--addr")?
        .unwrap_or_else(|| "127.0.0.1:8000".into());
    let threads = match args.value("--threads")? {
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        Some(n) => n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| usage("--threads needs a positive number"))?,
    };
    args.done()?;
    let server = RunningServer::start(ServerConfig {
        addr,
        threads,
        db_path: db,
        settings,
    })?;
    let stopper = server.stopper();
    ctrlc::set_handler(move || stopper.stop())?;
    writeln!(
        out,
        "oauthd listening on http://{} with {threads} workers",
        server.addr()
    )?;
    out.flush()?;
    server.wait();
    writeln!(out, "oauthd stopped")?;
    Ok(())
}

fn add_user(
    mut args: Args,
    store: &Store,
    passwords: PasswordSource<'_>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let admin = args.flag("--admin");
    let email = args.value("--email")?.unwrap_or_default();
    let username = args.word("USERNAME")?;
    args.done()?;
    if !is_valid_username(&username) {
        return Err(usage("a username is 1 to 150 letters, digits and @.+-_"));
    }
    let password = read_password(passwords)?;
    let hash = secret::hash_password(&password)?;
    match store.create_user(&username, &email, &hash, admin, crate::clock::now())? {
        Some(id) => Ok(writeln!(
            out,
            "created user {username} (id {id}{})",
            if admin { ", admin" } else { "" }
        )?),
        None => Err(failed(format!("the user {username} already exists"))),
    }
}

/// `user enable|disable USERNAME` and `app enable|disable CLIENT_ID`: `set` flips the flag
/// of the named record and says whether there was one.
fn toggle(
    mut args: Args,
    what: &str,
    on: bool,
    set: impl FnOnce(&str, bool) -> Result<bool, StoreError>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let name = args.word(if what == "user" {
        "USERNAME"
    } else {
        "CLIENT_ID"
    })?;
    args.done()?;
    if !set(&name, on)? {
        return Err(failed(format!("no {what} {name}")));
    }
    let done = if on { "enabled" } else { "disabled" };
    Ok(writeln!(out, "{done} {what} {name}")?)
}

/// A prompt without echo, or one line.
fn read_password(source: PasswordSource<'_>) -> Result<String, CliError> {
    let password = match source {
        PasswordSource::Prompt => rpassword::prompt_password("Password: ")?,
        PasswordSource::Line(input) => {
            let mut line = String::new();
            input.read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if password.is_empty() {
        return Err(failed("the password is empty"));
    }
    Ok(password)
}

fn add_group(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let members = args.values("--member")?;
    let name = args.word("NAME")?;
    args.done()?;
    store.immediate(|s| {
        let id = s
            .create_group(&name)?
            .ok_or_else(|| failed(format!("the group {name} already exists")))?;
        for member in &members {
            let user = s
                .find_user_by_username(member)?
                .ok_or_else(|| failed(format!("no user {member}")))?;
            s.add_group_member(id, user.id)?;
        }
        Ok(writeln!(out, "created group {name} (id {id})")?)
    })
}

fn add_app(
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

fn list_apps(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
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

fn remove_app(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let client_id = args.word("CLIENT_ID")?;
    args.done()?;
    if store.delete_app(&client_id)? {
        Ok(writeln!(out, "removed {client_id} with its tokens")?)
    } else {
        Err(failed(format!("no application {client_id}")))
    }
}
