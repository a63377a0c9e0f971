//! `user add|passwd|list|remove|enable|disable` and `group add`.

use super::args::Args;
use super::keys::time;
use super::{CliError, PasswordSource, failed, usage};
use crate::accounts;
use crate::clock::Clock;
use crate::model::User;
use crate::secret;
use crate::store::{NewUser, Store, StoreError};
use std::io::Write;

/// `user add USERNAME [--admin] [--email E] [--name NAME]`: the password from `passwords`.
/// An address the CLI sets counts as verified.
pub fn add_user(
    mut args: Args,
    store: &Store,
    passwords: PasswordSource<'_>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let admin = args.flag("--admin");
    let email = args.value("--email")?.unwrap_or_default();
    let name = args.value("--name")?.unwrap_or_default();
    let username = args.word("USERNAME")?;
    args.done()?;
    let errors = accounts::check_new_user(&username, &email, &name);
    if let Some((_, problem)) = errors.0.first() {
        return Err(usage(problem.clone()));
    }
    let password = read_new_password(passwords)?;
    let id = make_user(store, &username, &email, &name, &password, admin)?;
    Ok(writeln!(
        out,
        "created user {username} (id {id}{})",
        if admin { ", admin" } else { "" }
    )?)
}

/// Stores a user whose fields passed `accounts::check_new_user`, with `password` hashed; an
/// address the CLI sets counts as verified. `user add` and `serve --dev` make users here.
pub(crate) fn make_user(
    store: &Store,
    username: &str,
    email: &str,
    name: &str,
    password: &str,
    admin: bool,
) -> Result<i64, CliError> {
    let hash = secret::hash_password(password)?;
    let new = NewUser {
        username,
        email,
        email_verified: !email.is_empty(),
        name,
        password_hash: &hash,
        is_admin: admin,
    };
    store
        .create_user(&new, Clock::system().now())?
        .ok_or_else(|| {
            failed(format!(
                "a user named {username} already exists (usernames are unique regardless of case)"
            ))
        })
}

/// `user enable|disable USERNAME` and `app enable|disable CLIENT_ID`: `set` flips the flag
/// of the named record and says whether there was one.
pub(crate) fn toggle(
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

/// `user passwd USERNAME`: a new password from `passwords`, under the account rules; every
/// session of the user ends with the old password.
pub fn passwd(
    args: Args,
    store: &Store,
    passwords: PasswordSource<'_>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let user = named_user(args, store)?;
    let hash = secret::hash_password(&read_new_password(passwords)?)?;
    let ended = store.immediate(|s| -> Result<_, CliError> {
        if !s.set_password(user.id, &hash)? {
            return Err(no_user(&user.username));
        }
        Ok(s.end_user_sessions(user.id, None)?)
    })?;
    Ok(writeln!(
        out,
        "changed the password of {}; ended {}",
        user.username,
        counted(ended, "session", "sessions")
    )?)
}

/// `user remove USERNAME`: deletes the user with their sessions, grants and tokens, in one
/// transaction. Their applications stay, owned by nobody, so that services using them keep
/// working; an administrator manages them from then on. A disabled user's applications stay
/// unusable: the administrator's switch turns them off.
pub fn remove(args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let user = named_user(args, store)?;
    let removed = store
        .immediate(|s| s.remove_user(user.id))?
        .ok_or_else(|| no_user(&user.username))?;
    let disowned = removed.disowned;
    write!(
        out,
        "removed user {} with their sessions and tokens; {} now {} no owner",
        user.username,
        counted(disowned, "application", "applications"),
        if disowned == 1 { "has" } else { "have" }
    )?;
    if removed.switched_off > 0 {
        // Disowned, a disabled user's apps would have become usable again.
        write!(
            out,
            "; the user was disabled, so {} of them {} now disabled by the administrator \
             (oauthd app enable CLIENT_ID turns one back on)",
            removed.switched_off,
            if removed.switched_off == 1 {
                "is"
            } else {
                "are"
            }
        )?;
    }
    Ok(writeln!(out)?)
}

/// `1 session`, `2 sessions`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `user list [--json]`: username, admin, active, created, email and name of every user;
/// never a password hash.
pub fn list(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let json = args.flag("--json");
    args.done()?;
    let users = store.user_listing()?;
    if json {
        return Ok(writeln!(out, "{}", serde_json::to_string(&users)?)?);
    }
    writeln!(
        out,
        "{:<20}  {:<5}  {:<6}  {:<20}  EMAIL  NAME",
        "USERNAME", "ADMIN", "ACTIVE", "CREATED"
    )?;
    for user in &users {
        let yes_no = |on: bool| if on { "yes" } else { "no" };
        writeln!(
            out,
            "{:<20}  {:<5}  {:<6}  {:<20}  {}  {}",
            user.username,
            yes_no(user.admin),
            yes_no(user.active),
            time(user.created),
            if user.email.is_empty() {
                "-"
            } else {
                &user.email
            },
            user.name
        )?;
    }
    Ok(())
}

/// The user the `USERNAME` argument names (the last argument).
fn named_user(mut args: Args, store: &Store) -> Result<User, CliError> {
    let username = args.word("USERNAME")?;
    args.done()?;
    store
        .find_user_by_username(&username)?
        .ok_or_else(|| no_user(&username))
}

fn no_user(username: &str) -> CliError {
    failed(format!("no user {username}"))
}

/// A new password under the account rules: asked twice without echo on a terminal (the two
/// must match), or one line of stdin.
fn read_new_password(source: PasswordSource<'_>) -> Result<String, CliError> {
    let (password, again) = match source {
        PasswordSource::Prompt => (
            rpassword::prompt_password("Password: ")?,
            rpassword::prompt_password("Password (again): ")?,
        ),
        PasswordSource::Line(input) => {
            let mut line = String::new();
            input.read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']).to_owned();
            (password.clone(), password)
        }
    };
    if password.is_empty() {
        return Err(failed("the password is empty"));
    }
    match accounts::new_password_problem(&password, &again) {
        Some(problem) => Err(failed(problem)),
        None => Ok(password),
    }
}

/// `group add NAME [--member USERNAME]...`, in one transaction.
pub(crate) fn add_group(
    mut args: Args,
    store: &Store,
    out: &mut dyn Write,
) -> Result<(), CliError> {
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
