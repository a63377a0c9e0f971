//! Security events (docs/conventions.md, convention 16): one structured line each, in the
//! access log's format and sink, and the same call counts them for `/metrics`. Fields name
//! who and what — client ids, user and row ids, key ids, addresses — never a token, code,
//! secret, password or cookie, and no username a login form was given (it may be a mistyped
//! password).

use crate::http::access_log::LogFormat;
use crate::http::metrics::Replay;
use serde_json::{Map, Value, json};
use std::io::Write;
use std::net::IpAddr;
use std::time::SystemTime;

/// Something an operator must be able to find in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecurityEvent<'a> {
    /// A retired refresh token or a used code was presented again: its grant (every token of
    /// the family) was revoked.
    Replay {
        /// What was replayed.
        of: Replay,
        /// The client that presented it.
        client_id: &'a str,
        /// The grant revoked; none when a code was replayed before it gave anything.
        grant_id: Option<i64>,
    },
    /// A username, a client (from one address) or an address ran out of free tries and is
    /// slowed from now on.
    Throttled {
        /// `username`, `client` or `address`.
        kind: &'static str,
        /// Failed tries so far.
        failures: u32,
    },
    /// A request budget (per address or overall) for an endpoint was spent (docs/security.md
    /// rule 66): further requests it counts are refused until the window ends. Logged with the
    /// address for an address's budget, without one for the overall budget.
    RequestsThrottled {
        /// The endpoint: `client_registration` or `device_authorization`.
        purpose: &'static str,
        /// The budget spent.
        requests: u32,
    },
    /// A client registered itself at the registration endpoint (RFC 7591).
    ClientRegistered {
        /// The new client's id.
        client_id: &'a str,
        /// `public` or `confidential`.
        client_type: &'static str,
        /// The id of the initial access token it used, in the `token` mode.
        token_id: Option<i64>,
    },
    /// An administrator changed something on the admin page.
    Admin {
        /// The administrator's user id.
        admin_id: i64,
        /// What they did, e.g. `disable_user`.
        action: &'static str,
        /// What it was done to: a user's id, or an application's or a grant's public id.
        target: &'a str,
    },
    /// A signed-in user changed their own password (every other session of theirs ended).
    PasswordChanged {
        /// The user's subject.
        subject: &'a str,
    },
    /// An operator changed users, groups or applications with the command line.
    Command {
        /// The command, e.g. `user remove`.
        command: &'a str,
        /// What it named: a username or a client id; none for `app add`.
        target: Option<&'a str>,
    },
    /// `keys rotate` made a new id_token signing key current.
    KeyRotated {
        /// The new current key.
        kid: &'a str,
        /// The key it replaced, if any.
        retired: Option<&'a str>,
    },
}

impl SecurityEvent<'_> {
    /// The event's name and fields.
    fn fields(&self) -> (&'static str, Map<String, Value>) {
        let (name, fields) = match self {
            SecurityEvent::Replay {
                of,
                client_id,
                grant_id,
            } => (
                "replay_detected",
                json!({"replayed": of.label(), "client_id": client_id,
                       "grant_id": grant_id, "grant_revoked": grant_id.is_some()}),
            ),
            SecurityEvent::Throttled { kind, failures } => (
                "login_throttled",
                json!({"subject": kind, "failures": failures}),
            ),
            SecurityEvent::RequestsThrottled { purpose, requests } => (
                "requests_throttled",
                json!({"purpose": purpose, "requests": requests}),
            ),
            SecurityEvent::ClientRegistered {
                client_id,
                client_type,
                token_id,
            } => (
                "client_registered",
                json!({"client_id": client_id, "client_type": client_type,
                       "registration_token_id": token_id}),
            ),
            SecurityEvent::Admin {
                admin_id,
                action,
                target,
            } => (
                "admin_action",
                json!({"action": action, "admin_id": admin_id, "target": target}),
            ),
            SecurityEvent::PasswordChanged { subject } => {
                ("password_changed", json!({"subject": subject}))
            }
            SecurityEvent::Command { command, target } => {
                ("cli_command", json!({"command": command, "target": target}))
            }
            SecurityEvent::KeyRotated { kid, retired } => {
                ("key_rotated", json!({"kid": kid, "retired_kid": retired}))
            }
        };
        match fields {
            Value::Object(map) => (name, map),
            _ => (name, Map::new()),
        }
    }

    /// Writes the event's line to standard error now: for commands run outside a server.
    pub(crate) fn eprint(&self, format: LogFormat) {
        // Not `eprint!`, which panics when standard error is closed: the command is done.
        let line = self.line(format, None, SystemTime::now());
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    /// The event's line, with its newline: `TIME security EVENT key=value...` as text (string
    /// values JSON-quoted), or one JSON object. `client` is the request's address, if any.
    pub fn line(&self, format: LogFormat, client: Option<IpAddr>, now: SystemTime) -> String {
        let time = humantime::format_rfc3339_millis(now).to_string();
        let (name, mut fields) = self.fields();
        fields.retain(|_, value| !value.is_null());
        if let Some(client) = client {
            fields.insert("client".into(), client.to_string().into());
        }
        match format {
            LogFormat::Text => {
                let pairs: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{time} security {name} {}\n", pairs.join(" "))
            }
            LogFormat::Json => {
                let mut object = Map::new();
                object.insert("time".into(), time.into());
                object.insert("event".into(), name.into());
                object.extend(fields);
                format!("{}\n", Value::Object(object))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const NOW: Duration = Duration::from_secs(1_764_480_190);

    #[test]
    fn text_lines_are_key_value_pairs() {
        let event = SecurityEvent::Replay {
            of: Replay::RefreshToken,
            client_id: "abc",
            grant_id: Some(7),
        };
        let client = Some("203.0.113.7".parse().unwrap());
        let line = event.line(LogFormat::Text, client, SystemTime::UNIX_EPOCH + NOW);
        assert_eq!(
            line,
            "2025-11-30T05:23:10.000Z security replay_detected client=\"203.0.113.7\" \
             client_id=\"abc\" grant_id=7 grant_revoked=true replayed=\"refresh_token\"\n"
        );
    }

    #[test]
    fn json_lines_are_objects_without_empty_fields() {
        let event = SecurityEvent::KeyRotated {
            kid: "k2",
            retired: None,
        };
        let line = event.line(LogFormat::Json, None, SystemTime::UNIX_EPOCH + NOW);
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            value,
            json!({"time": "2025-11-30T05:23:10.000Z", "event": "key_rotated", "kid": "k2"})
        );
    }

    #[test]
    fn a_password_change_names_the_user_by_subject_only() {
        let subject = "0123456789abcdef0123456789abcdef";
        let event = SecurityEvent::PasswordChanged { subject };
        let client = Some("203.0.113.7".parse().unwrap());
        let line = event.line(LogFormat::Text, client, SystemTime::UNIX_EPOCH + NOW);
        assert_eq!(
            line,
            format!(
                "2025-11-30T05:23:10.000Z security password_changed client=\"203.0.113.7\" \
                 subject=\"{subject}\"\n"
            )
        );
    }

    #[test]
    fn registrations_and_spent_budgets_name_no_secret() {
        let client = Some("203.0.113.7".parse().unwrap());
        let at = SystemTime::UNIX_EPOCH + NOW;
        let registered = SecurityEvent::ClientRegistered {
            client_id: "c1",
            client_type: "public",
            token_id: Some(3),
        };
        assert_eq!(
            registered.line(LogFormat::Text, client, at),
            "2025-11-30T05:23:10.000Z security client_registered client=\"203.0.113.7\" \
             client_id=\"c1\" client_type=\"public\" registration_token_id=3\n"
        );
        let spent = SecurityEvent::RequestsThrottled {
            purpose: "client_registration",
            requests: 30,
        };
        let value: Value = serde_json::from_str(&spent.line(LogFormat::Json, client, at)).unwrap();
        assert_eq!(
            value,
            json!({"time": "2025-11-30T05:23:10.000Z", "event": "requests_throttled",
                   "client": "203.0.113.7", "purpose": "client_registration", "requests": 30})
        );
    }
}
