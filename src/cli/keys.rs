//! `keys rotate|list`: the id_token signing keys.

use super::CliError;
use super::args::Args;
use crate::http::events::SecurityEvent;
use crate::oidc::{keys, rotation};
use crate::settings::Settings;
use crate::store::{SigningKeyRow, Store};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// `keys rotate`: a new current key; the old one is retired and stays published for
/// `id_token_expire_seconds`.
pub fn rotate(
    args: Args,
    store: &Store,
    db: &Path,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    args.done()?;
    let file = keys::key_file_path(db, settings);
    let now = crate::clock::Clock::system().now();
    let window = settings.id_token_expire_seconds;
    let rotation = rotation::rotate(store, &file, window, now)?;
    for warning in &rotation.warnings {
        eprintln!("oauthd: warning: {warning}");
    }
    let event = SecurityEvent::KeyRotated {
        kid: &rotation.kid,
        retired: rotation.retired.as_deref(),
    };
    event.eprint(settings.log_format);
    writeln!(out, "new signing key {} is current", rotation.kid)?;
    if let Some(old) = &rotation.retired {
        writeln!(
            out,
            "retired {old}: published until {}",
            time(now.saturating_add(window))
        )?;
    }
    if rotation.deleted > 0 {
        writeln!(out, "deleted {} expired keys", rotation.deleted)?;
    }
    writeln!(out, "private key written to {}", file.display())?;
    Ok(())
}

/// `keys list [--json]`: each key's id, algorithm, creation and state; never key material.
pub fn list(
    mut args: Args,
    store: &Store,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let json = args.flag("--json");
    args.done()?;
    let now = crate::clock::Clock::system().now();
    let window = settings.id_token_expire_seconds;
    let rows = store.list_signing_keys()?;
    if json {
        let list: Vec<_> = rows
            .iter()
            .map(|row| {
                let state = State::of(row, now, window);
                serde_json::json!({
                    "kid": row.kid,
                    "alg": row.alg,
                    "created": row.created,
                    "retired": row.retired,
                    "published_until": state.published_until(),
                    "state": state.name(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(list))?;
        return Ok(());
    }
    writeln!(out, "{:<43}  {:<5}  {:<20}  STATE", "KID", "ALG", "CREATED")?;
    for row in &rows {
        let state = match State::of(row, now, window) {
            State::Current => "current".to_owned(),
            State::Retired { at, until } => {
                format!("retired at {}, published until {}", time(at), time(until))
            }
            State::Expired { at, until } => {
                format!("retired at {}, expired at {}", time(at), time(until))
            }
        };
        writeln!(
            out,
            "{:<43}  {:<5}  {:<20}  {state}",
            row.kid,
            row.alg,
            time(row.created)
        )?;
    }
    Ok(())
}

/// Where a key stands at `now`.
enum State {
    /// It signs.
    Current,
    /// It signs no more but is still published, for the id_tokens it signed.
    Retired { at: i64, until: i64 },
    /// No longer published; the next rotation deletes it.
    Expired { at: i64, until: i64 },
}

impl State {
    fn of(row: &SigningKeyRow, now: i64, window: i64) -> State {
        match row.retired {
            None => State::Current,
            Some(at) => match at.saturating_add(window) {
                until if now < until => State::Retired { at, until },
                until => State::Expired { at, until },
            },
        }
    }

    fn name(&self) -> &'static str {
        match self {
            State::Current => "current",
            State::Retired { .. } => "retired",
            State::Expired { .. } => "expired",
        }
    }

    fn published_until(&self) -> Option<i64> {
        match self {
            State::Current => None,
            State::Retired { until, .. } | State::Expired { until, .. } => Some(*until),
        }
    }
}

/// Unix seconds as RFC 3339 UTC, to the second.
pub(super) fn time(unix: i64) -> String {
    let since_epoch = Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + since_epoch).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(retired: Option<i64>) -> SigningKeyRow {
        SigningKeyRow {
            kid: "k".into(),
            alg: "RS256".into(),
            public_jwk: "{}".into(),
            created: 0,
            retired,
        }
    }

    #[test]
    fn a_retired_key_expires_when_its_window_has_passed() {
        let state = |retired, now| {
            let state = State::of(&row(retired), now, 60);
            (state.name(), state.published_until())
        };
        assert_eq!(state(None, 1000), ("current", None));
        assert_eq!(state(Some(100), 159), ("retired", Some(160)));
        assert_eq!(state(Some(100), 160), ("expired", Some(160)));
        assert_eq!(time(0), "1970-01-01T00:00:00Z");
        assert_eq!(time(1_300_819_380), "2011-03-22T18:43:00Z");
    }
}
