//! `user add|enable|disable` and `group add`.

use super::args::Args;
use super::{CliError, PasswordSource, failed, usage};
use crate::accounts;
use crate::clock::Clock;
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
    let password = read_password(passwords)?;
    if let Some(problem) = accounts::password_problem(&password) {
        return Err(failed(problem));
    }
    let hash = secret::hash_password(&password)?;
    let new = NewUser {
        username: &username,
        email: &email,
        email_verified: !email.is_empty(),
        name: &name,
        password_hash: &hash,
        is_admin: admin,
    };
    match store.create_user(&new, Clock::system().now())? {
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
pub fn toggle(
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

/// `group add NAME [--member USERNAME]...`, in one transaction.
pub fn add_group(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
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
