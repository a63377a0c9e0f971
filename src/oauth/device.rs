//! The device authorization grant (RFC 8628), pure: user codes (drawn from random bytes the
//! caller passes in, normalised, shown), the device authorization request's checks, what a
//! user may still decide, and each poll of the token endpoint as a decision over the stored
//! code and `now`.

use crate::model::{Application, DeviceCode, DeviceStatus, GrantType};
use crate::oauth::error::OAuthError;
use crate::oauth::scope::Scopes;
use crate::oauth::token::{requested_scope_for, require_grant};
use crate::settings::Settings;
use std::fmt;

/// RFC 8628 §6.1: 20 consonants, no vowels (no words) and none that look alike.
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters in a user code: 20^8 ≈ 2^34.6 codes (§6.1's example).
pub(crate) const USER_CODE_LENGTH: usize = 8;
/// RFC 8628 §3.5: what each `slow_down` adds to the code's interval.
pub(crate) const SLOW_DOWN_SECONDS: i64 = 5;
/// The largest byte value kept when drawing: a multiple of 20, so every letter is equally
/// likely.
const UNBIASED_BELOW: u8 = 240;

/// A user code in its normal form: eight letters of [`ALPHABET`], upper case, no dash.
/// `Debug` never prints it: it stays out of logs.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct UserCode(String);

impl UserCode {
    /// Draws a code from CSPRNG bytes, by rejection so that no letter is likelier; `None` when
    /// `random` holds too few usable bytes (draw again).
    pub fn draw(random: &[u8]) -> Option<UserCode> {
        let letters: String = random
            .iter()
            .filter(|b| **b < UNBIASED_BELOW)
            .filter_map(|b| ALPHABET.get(usize::from(b % 20)).map(|l| char::from(*l)))
            .take(USER_CODE_LENGTH)
            .collect();
        (letters.len() == USER_CODE_LENGTH).then_some(UserCode(letters))
    }

    /// What a user typed, read case-insensitively without dashes and spaces (§6.1);
    /// `None` when it cannot be a code.
    pub fn parse(typed: &str) -> Option<UserCode> {
        let letters: String = typed
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid =
            letters.len() == USER_CODE_LENGTH && letters.bytes().all(|b| ALPHABET.contains(&b));
        valid.then_some(UserCode(letters))
    }

    /// The normal form, under which the code is looked up.
    pub fn normalised(&self) -> &str {
        &self.0
    }

    /// As shown to the user: `XXXX-XXXX`.
    pub fn display(&self) -> String {
        let (first, second) = self.0.split_at(USER_CODE_LENGTH / 2);
        format!("{first}-{second}")
    }
}

impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserCode([redacted])")
    }
}

/// RFC 8628 §3.1: the (authenticated) client must be registered for the device grant; the
/// scope follows the same rules as everywhere else. Returns the scope to store.
pub(crate) fn authorization_request(
    client: &Application,
    requested_scope: Option<&str>,
    settings: &Settings,
) -> Result<Scopes, OAuthError> {
    require_grant(client, GrantType::DeviceCode)?;
    requested_scope_for(client, requested_scope, settings)
}

/// What a poll of the token endpoint does, decided inside the transaction that carries it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PollDecision {
    /// Approved: issue tokens for its user and scope, and mark the code used.
    Issue,
    /// Not yet decided: remember this poll and the (perhaps grown) interval, then answer
    /// `error` (authorization_pending or slow_down).
    Wait {
        /// The answer.
        error: OAuthError,
        /// The code's interval from now on.
        interval: i64,
    },
    /// A used code came back: revoke what it was exchanged for, then fail.
    RevokeFamily(OAuthError),
    /// Fail and change nothing.
    Reject(OAuthError),
}

/// The answer for an unknown device code (or another client's).
pub(crate) fn invalid_device_code() -> OAuthError {
    OAuthError::InvalidGrant("The device_code is invalid.".into())
}

/// RFC 8628 §3.4–3.5: judges a poll with a known device code at `now`.
pub(crate) fn poll(client: &Application, code: &DeviceCode, now: i64) -> PollDecision {
    if let Err(e) = require_grant(client, GrantType::DeviceCode) {
        return PollDecision::Reject(e);
    }
    if code.application_id != client.id {
        return PollDecision::Reject(invalid_device_code());
    }
    if code.used.is_some() {
        return PollDecision::RevokeFamily(OAuthError::InvalidGrant(
            "The device_code was already used.".into(),
        ));
    }
    if now >= code.expires {
        return PollDecision::Reject(OAuthError::ExpiredToken);
    }
    match code.status {
        DeviceStatus::Denied => PollDecision::Reject(OAuthError::AccessDenied(
            "The user denied the request.".into(),
        )),
        DeviceStatus::Approved if code.user_active => PollDecision::Issue,
        DeviceStatus::Approved => PollDecision::Reject(invalid_device_code()),
        DeviceStatus::Pending => match code.last_poll {
            Some(last) if now - last < code.interval => PollDecision::Wait {
                error: OAuthError::SlowDown,
                interval: code.interval.saturating_add(SLOW_DOWN_SECONDS),
            },
            _ => PollDecision::Wait {
                error: OAuthError::AuthorizationPending,
                interval: code.interval,
            },
        },
    }
}

/// Why a user code cannot be decided on: the one sentence the user page shows, whatever the
/// reason (unknown, expired, decided, used), so that the page tells a guesser nothing.
pub(crate) const NOT_A_LIVE_CODE: &str =
    "That code is not valid. Check it on your device: it may have expired or been used.";

/// Whether a user may still approve or deny `code` at `now`: it is pending and unexpired
/// (§3.3); approving twice, or after a denial or expiry, is refused.
pub(crate) fn decidable(code: &DeviceCode, now: i64) -> bool {
    code.status == DeviceStatus::Pending && code.used.is_none() && now < code.expires
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::fixtures::{valid_app, with_fields};

    fn valid_code() -> DeviceCode {
        DeviceCode {
            id: 1,
            application_id: 7,
            scope: Scopes::parse("read").unwrap(),
            interval: 5,
            status: DeviceStatus::Pending,
            user_id: None,
            user_active: true,
            auth_time: None,
            expires: 1600,
            last_poll: None,
            used: None,
            grant_id: None,
        }
    }

    fn with(change: impl FnOnce(&mut DeviceCode)) -> DeviceCode {
        let mut code = valid_code();
        change(&mut code);
        code
    }

    #[test]
    fn drawn_codes_use_the_alphabet_evenly() {
        let bytes: Vec<u8> = (0..=255).collect();
        let code = UserCode::draw(&bytes).unwrap();
        assert_eq!(code.normalised(), "BCDFGHJK");
        assert_eq!(code.display(), "BCDF-GHJK");
        // Bytes from 240 up are skipped, not folded onto the first letters.
        let mut high = vec![255u8; 30];
        high.extend([19u8; 8]);
        assert_eq!(UserCode::draw(&high).unwrap().normalised(), "ZZZZZZZZ");
        assert_eq!(UserCode::draw(&[0; 7]), None, "too few bytes");
        assert_eq!(UserCode::draw(&[250; 64]), None, "no usable byte");
        for b in 0..UNBIASED_BELOW {
            let letter = UserCode::draw(&[b; 8]).unwrap().normalised().as_bytes()[0];
            assert_eq!(letter, ALPHABET[usize::from(b % 20)]);
        }
    }

    #[test]
    fn typed_codes_are_read_case_insensitively_without_dashes() {
        for typed in [
            "BCDF-GHJK",
            "bcdf-ghjk",
            " bcdfghjk ",
            "BCDF GHJK",
            "b-c-d-f-g-h-j-k",
        ] {
            let code = UserCode::parse(typed);
            assert_eq!(
                code.map(|c| c.display()),
                Some("BCDF-GHJK".into()),
                "{typed}"
            );
        }
        for bad in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "ABCD-GHJK",
            "BCDF-GHJ1",
            "BCDF–GHJK",
            "ßCDF-GHJK",
        ] {
            assert_eq!(UserCode::parse(bad), None, "{bad}");
        }
        let code = UserCode::parse("BCDF-GHJK").unwrap();
        assert!(!format!("{code:?}").contains("BCDF"));
    }

    #[test]
    fn the_request_needs_the_grant_and_a_valid_scope() {
        let settings = Settings::from_toml("scopes = { read = \"R\", write = \"W\" }").unwrap();
        let app = valid_app();
        let scope = authorization_request(&app, Some("read"), &settings).unwrap();
        assert_eq!(scope.to_string(), "read");
        let err = |app: &Application, scope| {
            authorization_request(app, scope, &settings).map_err(|e| e.code())
        };
        assert_eq!(err(&app, Some("admin")), Err("invalid_scope"));
        let code_only = with_fields(valid_app(), |f| {
            f.grant_types = vec![GrantType::AuthorizationCode]
        });
        assert_eq!(err(&code_only, Some("read")), Err("unauthorized_client"));
    }

    #[test]
    fn polls() {
        let app = valid_app();
        let wait = |error, interval| PollDecision::Wait { error, interval };
        let table = [
            (
                valid_code(),
                1000,
                wait(OAuthError::AuthorizationPending, 5),
            ),
            (
                with(|c| c.last_poll = Some(995)),
                1000,
                wait(OAuthError::AuthorizationPending, 5),
            ),
            (
                with(|c| c.last_poll = Some(996)),
                1000,
                wait(OAuthError::SlowDown, 10),
            ),
            (
                with(|c| {
                    c.last_poll = Some(995);
                    c.interval = 10
                }),
                1000,
                wait(OAuthError::SlowDown, 15),
            ),
            (
                with(|c| c.status = DeviceStatus::Approved),
                1000,
                PollDecision::Issue,
            ),
            (
                with(|c| {
                    c.status = DeviceStatus::Approved;
                    c.last_poll = Some(1000)
                }),
                1000,
                PollDecision::Issue,
            ),
            (
                with(|c| {
                    c.status = DeviceStatus::Approved;
                    c.user_active = false
                }),
                1000,
                PollDecision::Reject(invalid_device_code()),
            ),
            (
                with(|c| c.status = DeviceStatus::Denied),
                1000,
                PollDecision::Reject(OAuthError::AccessDenied(
                    "The user denied the request.".into(),
                )),
            ),
            (
                valid_code(),
                1600,
                PollDecision::Reject(OAuthError::ExpiredToken),
            ),
            (
                with(|c| c.status = DeviceStatus::Approved),
                1600,
                PollDecision::Reject(OAuthError::ExpiredToken),
            ),
            (
                with(|c| c.application_id = 8),
                1000,
                PollDecision::Reject(invalid_device_code()),
            ),
        ];
        for (code, now, expected) in table {
            assert_eq!(poll(&app, &code, now), expected, "{code:?} at {now}");
        }
        let used = with(|c| {
            c.status = DeviceStatus::Approved;
            c.used = Some(1000)
        });
        assert!(matches!(
            poll(&app, &used, 1001),
            PollDecision::RevokeFamily(_)
        ));
        assert!(matches!(
            poll(&app, &used, 9999),
            PollDecision::RevokeFamily(_)
        ));
        let no_grant = with_fields(valid_app(), |f| f.grant_types = vec![GrantType::Password]);
        let refused = poll(&no_grant, &valid_code(), 1000);
        assert!(
            matches!(&refused, PollDecision::Reject(e) if e.code() == "unauthorized_client"),
            "{refused:?}"
        );
    }

    #[test]
    fn only_live_pending_codes_are_decidable() {
        assert!(decidable(&valid_code(), 1599));
        assert!(!decidable(&valid_code(), 1600));
        assert!(!decidable(
            &with(|c| c.status = DeviceStatus::Approved),
            1000
        ));
        assert!(!decidable(&with(|c| c.status = DeviceStatus::Denied), 1000));
        assert!(!decidable(&with(|c| c.used = Some(900)), 1000));
    }
}
