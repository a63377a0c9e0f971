//! The command line: `oauthd [--db PATH] [--config PATH] <command>`. Parsing is separate from
//! running so that both are testable; `main` maps [`CliError`] to exit codes. This module
//! dispatches; `args` reads arguments, `users`, `apps` and `keys` carry out those commands.

mod apps;
mod args;
mod keys;
mod users;

use crate::clock::Clock;
use crate::http::edge::acceptor::raise_descriptor_limit;
use crate::settings::Settings;
use crate::store::Store;
use crate::{RunningServer, ServerConfig, StartError};
use args::Args;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Usage text, printed on a usage error and by `--help`.
pub const USAGE: &str = "usage: oauthd [--db PATH] [--config PATH] <command>
       oauthd --help | --version
  --db defaults to $OAUTHD_DB, else ./oauthd.sqlite3;
  --config to $OAUTHD_CONFIG, else ./oauthd.toml when it exists
commands:
  serve [--addr 127.0.0.1:8000] [--threads N]
  user add USERNAME [--admin] [--email EMAIL] [--name \"FULL NAME\"]
                                                   (password from stdin, or prompted)
  user enable|disable USERNAME
  group add NAME [--member USERNAME]...
  app add --name NAME --client-type confidential|public --grant GRANT[,GRANT...]
          [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--scopes \"a b\"]
          [--skip-authorization] [--owner USERNAME] [--json]
          GRANT: authorization-code, implicit, password, client-credentials
  app list [--json]
  app remove CLIENT_ID
  app enable|disable CLIENT_ID
  keys rotate                                      (a new id_token signing key)
  keys list [--json]
  cleartokens [--vacuum]                           (--vacuum: then shrink the file)";

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

/// A usage error.
pub(crate) fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

/// A failure while running.
pub(crate) fn failed(message: impl Into<String>) -> CliError {
    CliError::Failed(message.into())
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
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            return Ok(writeln!(out, "oauthd {}", env!("CARGO_PKG_VERSION"))?);
        }
        Some("--help" | "-h" | "help") => return Ok(writeln!(out, "{USAGE}")?),
        _ => {}
    }
    let mut args = Args(args);
    // The environment stands in for a flag not given (systemd units, containers).
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let db = PathBuf::from(
        args.value("--db")?
            .or_else(|| from_env("OAUTHD_DB"))
            .unwrap_or_else(|| "oauthd.sqlite3".into()),
    );
    let config = args
        .value("--config")?
        .or_else(|| from_env("OAUTHD_CONFIG"))
        .map(PathBuf::from);
    let config = config.or_else(|| Some(PathBuf::from("oauthd.toml")).filter(|p| p.exists()));
    let settings = Settings::load(config.as_deref())?;
    let command = args.word("a command")?;
    match command.as_str() {
        "serve" => serve(args, db, config.as_deref(), settings, out),
        "user" => {
            let sub = args.word("a user command")?;
            let store = open(&db, &settings)?;
            match sub.as_str() {
                "add" => users::add_user(args, &store, passwords, out),
                "enable" | "disable" => users::toggle(
                    args,
                    "user",
                    sub == "enable",
                    |name, on| match store.find_user_by_username(name)? {
                        Some(user) => store.set_user_active(user.id, on),
                        None => Ok(false),
                    },
                    out,
                ),
                other => Err(usage(format!("unknown user command {other:?}"))),
            }
        }
        "group" => match args.word("a group command")?.as_str() {
            "add" => users::add_group(args, &open(&db, &settings)?, out),
            other => Err(usage(format!("unknown group command {other:?}"))),
        },
        "app" => {
            let sub = args.word("an app command")?;
            let store = open(&db, &settings)?;
            match sub.as_str() {
                "add" => apps::add_app(args, &store, &settings, out),
                "list" => apps::list_apps(args, &store, out),
                "remove" => apps::remove_app(args, &store, out),
                "enable" | "disable" => users::toggle(
                    args,
                    "application",
                    sub == "enable",
                    |client_id, on| match store.find_app_by_client_id(client_id)? {
                        Some(app) => store.set_app_enabled(app.id, on),
                        None => Ok(false),
                    },
                    out,
                ),
                other => Err(usage(format!("unknown app command {other:?}"))),
            }
        }
        "keys" => {
            let sub = args.word("a keys command")?;
            let store = open(&db, &settings)?;
            match sub.as_str() {
                "rotate" => keys::rotate(args, &store, &db, &settings, out),
                "list" => keys::list(args, &store, &settings, out),
                other => Err(usage(format!("unknown keys command {other:?}"))),
            }
        }
        "cleartokens" => {
            let vacuum = args.flag("--vacuum");
            args.done()?;
            let store = open(&db, &settings)?;
            let now = Clock::system().now();
            let cleared =
                store.clear_expired(now, settings.refresh_token_expire_seconds, &|| true)?;
            writeln!(
                out,
                "removed {} refresh tokens, {} access tokens, {} grants, {} codes, {} sessions",
                cleared.refresh_tokens,
                cleared.access_tokens,
                cleared.grants,
                cleared.codes,
                cleared.sessions
            )?;
            if vacuum {
                store.vacuum()?;
                writeln!(
                    out,
                    "vacuumed: the freed space went back to the file system"
                )?;
            }
            Ok(())
        }
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}

fn open(db: &Path, settings: &Settings) -> Result<Store, CliError> {
    Ok(Store::open(db, settings.durability)?)
}

/// `serve`: start, say what is being served and from where — so that a mistyped `--db` or a
/// missing config file shows at once — then wait for Ctrl-C or SIGTERM.
fn serve(
    mut args: Args,
    db: PathBuf,
    config: Option<&Path>,
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
    let wanted = settings.max_connections as u64 + 64;
    if let Some(allowed) = raise_descriptor_limit().filter(|n| *n < wanted) {
        eprintln!(
            "oauthd: warning: {allowed} open files allowed, fewer than max_connections ({}) \
             needs: raise `ulimit -n` or lower max_connections",
            settings.max_connections
        );
    }
    let issuer_configured = settings.issuer.is_some();
    let created = !db.exists();
    let server = RunningServer::start(ServerConfig {
        addr,
        threads,
        db_path: db.clone(),
        settings: settings.clone(),
        clock: Clock::system(),
    })
    .map_err(|e| match e {
        StartError::Bind(_) => failed(format!("{e} (choose another address with --addr)")),
        other => failed(other.to_string()),
    })?;
    let no_users = open(&db, &settings)?.user_views(None)?.is_empty();
    let stopper = server.stopper();
    ctrlc::set_handler(move || stopper.stop())?;
    writeln!(
        out,
        "oauthd listening on http://{} with {threads} workers; issuer {}{}",
        server.addr(),
        server.issuer(),
        match issuer_configured {
            true => "",
            false => " (set public_url to the address users reach)",
        }
    )?;
    let fresh = if created {
        " (created a new, empty database)"
    } else {
        ""
    };
    writeln!(out, "  database: {}{fresh}", db.display())?;
    match config {
        Some(config) => writeln!(out, "  config: {}", config.display())?,
        None => writeln!(out, "  config: no config file (the defaults)")?,
    }
    if no_users {
        writeln!(
            out,
            "  no users yet: make the first administrator with `oauthd --db {} user add admin --admin`",
            db.display()
        )?;
    }
    out.flush()?;
    server.wait();
    writeln!(out, "oauthd stopped")?;
    Ok(())
}
