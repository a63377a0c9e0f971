//! `registration-token add|list|remove`: the initial access tokens that the `token` mode of
//! dynamic client registration asks for (RFC 7591 §3). A token is printed once, when made;
//! only its SHA-256 is stored, and listings show ids, uses and expiry, never the token.

use super::args::Args;
use super::keys::time;
use super::{CliError, failed, usage};
use crate::http::access_log::LogFormat;
use crate::http::events::SecurityEvent;
use crate::secret;
use crate::store::Store;
use std::io::Write;

/// `registration-token add [--expires-in SECONDS] [--uses N]`: prints a new token once, and
/// logs a `cli_command` event naming its id, which `client_registered` events name too.
pub(crate) fn add(
    mut args: Args,
    store: &Store,
    log_format: LogFormat,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let expires_in = positive(args.value("--expires-in")?, "--expires-in")?;
    let uses = positive(args.value("--uses")?, "--uses")?;
    args.done()?;
    let now = crate::clock::Clock::system().now();
    let token = secret::random_token()?;
    let expires = expires_in.map(|seconds| now.saturating_add(seconds));
    let id = store.add_registration_token(&token.digest(), uses, expires, now)?;
    writeln!(out, "{}", token.expose())?;
    let uses = match uses {
        Some(1) => "1 registration".to_owned(),
        Some(n) => format!("{n} registrations"),
        None => "any number of registrations".to_owned(),
    };
    let until = expires.map_or("never expires".to_owned(), |at| {
        format!("expires {}", time(at))
    });
    writeln!(
        out,
        "registration token {id}: {uses}, {until}; it is shown only now"
    )?;
    let id = id.to_string();
    let event = SecurityEvent::Command {
        command: "registration-token add",
        target: Some(&id),
    };
    event.eprint(log_format);
    Ok(())
}

/// `registration-token list [--json]`: id, uses left, expiry and creation of each token.
pub(crate) fn list(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let json = args.flag("--json");
    args.done()?;
    let tokens = store.list_registration_tokens()?;
    if json {
        let list: Vec<_> = tokens
            .iter()
            .map(|t| {
                serde_json::json!({
                    "id": t.id,
                    "uses_left": t.uses_left,
                    "expires": t.expires,
                    "created": t.created,
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(list))?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<6}  {:<9}  {:<20}  CREATED",
        "ID", "USES LEFT", "EXPIRES"
    )?;
    for t in &tokens {
        let uses = t.uses_left.map_or("any".to_owned(), |n| n.to_string());
        let expires = t.expires.map_or("never".to_owned(), time);
        writeln!(
            out,
            "{:<6}  {uses:<9}  {expires:<20}  {}",
            t.id,
            time(t.created)
        )?;
    }
    Ok(())
}

/// `registration-token remove ID`: the token stops working at once; the clients it registered
/// stay.
pub(crate) fn remove(mut args: Args, store: &Store, out: &mut dyn Write) -> Result<(), CliError> {
    let word = args.word("a token id")?;
    args.done()?;
    let id: i64 = word
        .parse()
        .map_err(|_| usage(format!("{word:?} is not a token id")))?;
    if !store.remove_registration_token(id)? {
        return Err(failed(format!("no registration token {id}")));
    }
    writeln!(out, "removed registration token {id}")?;
    Ok(())
}

/// A flag's value as a positive number, if given.
fn positive(value: Option<String>, flag: &str) -> Result<Option<i64>, CliError> {
    value
        .map(|text| match text.parse::<i64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(usage(format!(
                "{flag} needs a positive number, not {text:?}"
            ))),
        })
        .transpose()
}
