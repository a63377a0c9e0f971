//! The command line: `oauthd [--db PATH] [--config PATH] <command>`. Parsing is separate from
//! running so that both are testable; `main` maps [`CliError`] to exit codes. This module
//! dispatches; `args` reads arguments, `usage` holds the table of commands, and `users`,
//! `apps`, `keys`, `registration_tokens` and `backup` carry out those commands.

mod apps;
mod args;
mod backup;
mod dev;
mod keys;
mod registration_tokens;
mod usage;
mod users;

use crate::clock::Clock;
use crate::http::edge::acceptor::raise_descriptor_limit;
use crate::http::events::SecurityEvent;
use crate::settings::Settings;
use crate::store::Store;
use crate::{RunningServer, ServerConfig, StartError};
use args::Args;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

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

/// Where `user add` and `user passwd` get a password.
pub enum PasswordSource<'a> {
    /// Ask on the terminal, without echo.
    Prompt,
    /// Read one line (stdin that is not a terminal).
    Line(&'a mut dyn BufRead),
}

/// Runs the command line `args` (without the program name). Reads a password from
/// `passwords` where one is needed and writes results to `out`. A usage error's message is
/// one line naming the mistake, then the usage of the command it was made in.
pub fn run(
    args: Vec<String>,
    passwords: PasswordSource<'_>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if let Some("--version" | "-V") = args.first().map(String::as_str) {
        return Ok(writeln!(out, "oauthd {}", env!("CARGO_PKG_VERSION"))?);
    }
    let mut args = Args(args);
    let help_word = args.0.first().is_some_and(|w| w == "help");
    if help_word {
        args.0.remove(0);
    }
    let help = help_word | args.flag("--help") | args.flag("-h");
    // The environment stands in for a flag not given (systemd units, containers).
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let db_flag = path_value("--db", args.value("--db")).map_err(in_command(&[]))?;
    let db_given = db_flag.is_some();
    let db = PathBuf::from(
        db_flag
            .or_else(|| from_env("OAUTHD_DB"))
            .unwrap_or_else(|| "oauthd.sqlite3".into()),
    );
    let config = path_value("--config", args.value("--config")).map_err(in_command(&[]))?;
    let config = config
        .or_else(|| from_env("OAUTHD_CONFIG"))
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("oauthd.toml")).filter(|p| p.exists()));
    let path = command_path(&mut args);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    if let Some(problem) = unknown_command(&path) {
        return match (help, path.as_slice()) {
            (true, [] | [_]) if usage::is_known(&path) => {
                Ok(writeln!(out, "{}", usage::usage_of(&path))?)
            }
            _ => Err(problem),
        };
    }
    if help {
        return Ok(writeln!(out, "{}", usage::usage_of(&path))?);
    }
    if let Some(flag) = usage::unknown_flag(&path, &args.0) {
        return Err(in_command(&path)(usage(format!("unknown flag {flag}"))));
    }
    let settings = Settings::load(config.as_deref())?;
    let context = Context {
        db,
        db_given,
        config,
        settings,
    };
    let target = named_target(&path, &args.0);
    dispatch(&path, args, &context, passwords, out).map_err(in_command(&path))?;
    let command = path.join(" ");
    if AUDITED.contains(&command.as_str()) {
        let event = SecurityEvent::Command {
            command: &command,
            target: target.as_deref(),
        };
        event.eprint(context.settings.log_format);
    }
    Ok(())
}

/// A path flag's value. An empty one (`--db "$UNSET"`) is a usage error: SQLite would open a
/// temporary database that vanishes with the command, and the key file would be `.keys`.
fn path_value(
    flag: &str,
    value: Result<Option<String>, CliError>,
) -> Result<Option<String>, CliError> {
    match value? {
        Some(path) if path.is_empty() => Err(usage(format!("{flag} needs a path, not \"\""))),
        other => Ok(other),
    }
}

/// The commands that change users, groups, applications or registration tokens: each success
/// is a security event naming what the command named (`keys rotate` and
/// `registration-token add` report their own, with the ids they made).
const AUDITED: [&str; 12] = [
    "user add",
    "user passwd",
    "user remove",
    "user enable",
    "user disable",
    "group add",
    "app add",
    "app update",
    "app remove",
    "app enable",
    "app disable",
    "registration-token remove",
];

/// The word the command `path` names in `args` (a username, a client id, a group), for its
/// security event: the first that is neither a flag nor a flag's value.
fn named_target(path: &[&str], args: &[String]) -> Option<String> {
    let takes_value = usage::value_flags(path);
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if !word.starts_with("--") {
            return Some(word.clone());
        }
        if takes_value.contains(&word.as_str()) {
            words.next();
        }
    }
    None
}

/// The command's words: the first, and a second for a command with sub-commands.
fn command_path(args: &mut Args) -> Vec<String> {
    let mut path: Vec<String> = args.word("a command").into_iter().collect();
    if path.first().is_some_and(|w| usage::has_sub_commands(w)) {
        path.extend(args.word("a sub-command"));
    }
    path
}

/// The usage error for a command path that names no command: missing or unknown, with the
/// usage of the group it was looked for in; `None` for a command.
fn unknown_command(path: &[&str]) -> Option<CliError> {
    let (group, problem) = match path {
        [] => (path, "missing a command".to_owned()),
        [.., last] if !usage::is_known(path) => (
            path.get(..path.len() - 1).unwrap_or_default(),
            format!("unknown command {last:?}"),
        ),
        [first] if usage::has_sub_commands(first) => (path, "missing a command".to_owned()),
        _ => return None,
    };
    Some(in_command(group)(usage(problem)))
}

/// Puts a usage error in its command: `app add: unknown flag --foo`, then that command's usage.
fn in_command(path: &[&str]) -> impl Fn(CliError) -> CliError {
    let prefix = path.join(" ");
    let lines = usage::usage_of(path);
    move |e| match e {
        CliError::Usage(message) if prefix.is_empty() => usage(format!("{message}\n{lines}")),
        CliError::Usage(message) => usage(format!("{prefix}: {message}\n{lines}")),
        other => other,
    }
}

/// What every command may need: the database path and the settings.
struct Context {
    db: PathBuf,
    /// `--db` was given (`serve --dev` uses a throwaway database otherwise).
    db_given: bool,
    config: Option<PathBuf>,
    settings: Settings,
}

/// Runs the command `path` (known to the usage table).
fn dispatch(
    path: &[&str],
    args: Args,
    context: &Context,
    passwords: PasswordSource<'_>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let Context { db, settings, .. } = context;
    let store = || open(db, settings);
    match path {
        ["serve"] => serve(args, context, out),
        ["backup"] => backup::backup(args, db, settings, out),
        ["user", "add"] => users::add_user(args, &store()?, passwords, out),
        ["user", "passwd"] => users::passwd(args, &store()?, passwords, out),
        ["user", "list"] => users::list(args, &store()?, out),
        ["user", "remove"] => users::remove(args, &store()?, out),
        ["user", switch @ ("enable" | "disable")] => {
            let store = store()?;
            users::toggle(
                args,
                "user",
                *switch == "enable",
                |name, on| match store.find_user_by_username(name)? {
                    Some(user) => store.set_user_active(user.id, on),
                    None => Ok(false),
                },
                out,
            )
        }
        ["group", "add"] => users::add_group(args, &store()?, out),
        ["app", "add"] => apps::add_app(args, &store()?, settings, out),
        ["app", "update"] => apps::update_app(args, &store()?, settings, out),
        ["app", "list"] => apps::list_apps(args, &store()?, out),
        ["app", "remove"] => apps::remove_app(args, &store()?, out),
        ["app", switch @ ("enable" | "disable")] => {
            let store = store()?;
            users::toggle(
                args,
                "application",
                *switch == "enable",
                |client_id, on| match store.find_app_by_client_id(client_id)? {
                    Some(app) => store.set_app_enabled(app.id, on),
                    None => Ok(false),
                },
                out,
            )
        }
        ["registration-token", "add"] => {
            registration_tokens::add(args, &store()?, settings.log_format, out)
        }
        ["registration-token", "list"] => registration_tokens::list(args, &store()?, out),
        ["registration-token", "remove"] => registration_tokens::remove(args, &store()?, out),
        ["keys", "rotate"] => keys::rotate(args, &store()?, db, settings, out),
        ["keys", "list"] => keys::list(args, &store()?, settings, out),
        ["cleartokens"] => cleartokens(args, &store()?, settings, out),
        // The usage table names a command this match does not run.
        _ => Err(failed(format!("{} is not implemented", path.join(" ")))),
    }
}

/// `cleartokens [--vacuum]`: removes expired codes, tokens and sessions; `--vacuum` then
/// gives the freed pages back to the file system.
fn cleartokens(
    mut args: Args,
    store: &Store,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let vacuum = args.flag("--vacuum");
    args.done()?;
    let now = Clock::system().now();
    let cleared = store.clear_expired(now, settings.refresh_token_expire_seconds, &|| true)?;
    writeln!(
        out,
        "removed {} refresh tokens, {} access tokens, {} grants, {} codes, {} device codes, {} sessions",
        cleared.refresh_tokens,
        cleared.access_tokens,
        cleared.grants,
        cleared.codes,
        cleared.device_codes,
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

/// Opens the database, saying on stderr when it had to create it; usernames that differ only
/// in case (left from before oauthd refused them) are reported there every time, until an
/// administrator resolves them.
fn open(db: &Path, settings: &Settings) -> Result<Store, CliError> {
    let created = !db.exists();
    let store = Store::open(db, settings.durability)?;
    if created {
        // So that a mistyped --db shows at once, not as an empty user list.
        eprintln!("oauthd: created a new, empty database at {}", db.display());
    }
    for clash in store.username_clashes()? {
        eprintln!("oauthd: warning: {}", clash_warning(&clash));
    }
    Ok(store)
}

/// What to say about usernames that differ only in case.
fn clash_warning(names: &[String]) -> String {
    format!(
        "the usernames {} differ only in case; each logs in only by its exact name. \
         Keep one: remove the others with `oauthd user remove USERNAME`",
        names.join(", ")
    )
}

/// Why `serve` could not start; only a refused address suggests choosing another.
fn start_failed(e: StartError) -> CliError {
    match e {
        StartError::Bind(_) => failed(format!("{e} (choose another address with --addr)")),
        other => failed(other.to_string()),
    }
}

/// `serve [--dev]`: start, say what is being served and from where — so that a mistyped
/// `--db` or a missing config file shows at once — then wait for Ctrl-C or SIGTERM.
/// `--dev` is [`dev::serve`].
fn serve(mut args: Args, context: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let dev = args.flag("--dev");
    let addr = args.value("--addr")?;
    let threads = match args.value("--threads")? {
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        Some(n) => n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| usage(format!("--threads: {n:?} is not a positive number")))?,
    };
    args.done()?;
    let Context {
        db,
        db_given,
        config,
        settings,
    } = context;
    if dev {
        let db = db_given.then_some(db.as_path());
        return dev::serve(addr.as_deref(), threads, db, settings, out);
    }
    let issuer_configured = settings.issuer.is_some();
    let created = !db.exists();
    let addr = addr.unwrap_or_else(|| DEFAULT_ADDR.into());
    let server = start_server(addr, threads, db, settings)?;
    let no_users = open(db, settings)?.user_views(None)?.is_empty();
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
    serve_until_stopped(server, out)
}

/// Where `serve` listens unless `--addr` says otherwise.
const DEFAULT_ADDR: &str = "127.0.0.1:8000";

/// Starts the server on `addr` with `threads` workers, after warning when the open-files
/// limit is below what `max_connections` needs; from then on Ctrl-C and SIGTERM stop it
/// (before anything is printed, so that whoever read the output can stop it cleanly).
fn start_server(
    addr: String,
    threads: usize,
    db: &Path,
    settings: &Settings,
) -> Result<RunningServer, CliError> {
    let wanted = settings.max_connections as u64 + 64;
    if let Some(allowed) = raise_descriptor_limit().filter(|n| *n < wanted) {
        eprintln!(
            "oauthd: warning: {allowed} open files allowed, fewer than max_connections ({}) \
             needs: raise `ulimit -n` or lower max_connections",
            settings.max_connections
        );
    }
    let server = RunningServer::start(ServerConfig {
        addr,
        threads,
        db_path: db.to_path_buf(),
        settings: settings.clone(),
        clock: Clock::system(),
    })
    .map_err(start_failed)?;
    let stopper = server.stopper();
    if let Err(e) = ctrlc::set_handler(move || stopper.stop()) {
        server.shutdown();
        return Err(e.into());
    }
    Ok(server)
}

/// Serves until Ctrl-C or SIGTERM, which finish the requests under way first.
fn serve_until_stopped(server: RunningServer, out: &mut dyn Write) -> Result<(), CliError> {
    out.flush()?;
    server.wait();
    writeln!(out, "oauthd stopped")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a sweeper thread the system refused was reported as a bind error, with the
    /// advice to choose another address.
    #[test]
    fn only_a_refused_address_suggests_another() {
        let refused = std::io::Error::new(std::io::ErrorKind::WouldBlock, "no more threads");
        let sweeper = start_failed(StartError::Sweeper(refused));
        assert_eq!(
            sweeper,
            failed("cannot start the thread that sweeps expired records: no more threads")
        );
        let bind = StartError::Bind("on 127.0.0.1:1: address in use".into());
        assert_eq!(
            start_failed(bind),
            failed(
                "cannot listen on 127.0.0.1:1: address in use (choose another address with --addr)"
            )
        );
    }
}
