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
const USER_CODE_LENGTH: usize = 8;
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
        let half = USER_CODE_LENGTH / 2;
        let first = self.0.get(..half).unwrap_or_default();
        let second = self.0.get(half..).unwrap_or_default();
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

/// How a pending code was last polled: when, and the interval it was given then (its stored
/// interval, grown by each `slow_down`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pace {
    /// When the last poll that was told to wait came.
    pub at: i64,
    /// The code's interval from then on.
    pub interval: i64,
}

/// What a poll of the token endpoint does, decided inside the transaction that carries it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PollDecision {
    /// Approved by a user who may still sign in: issue tokens for them and the code's scope,
    /// and mark the code used.
    Issue {
        /// Who approved.
        user_id: i64,
    },
    /// Not yet decided: remember this poll and the (perhaps grown) interval as the code's
    /// [`Pace`], then answer `error` (authorization_pending or slow_down).
    Wait {
        /// The answer.
        error: OAuthError,
        /// The code's interval from now on.
        interval: i64,
    },
    /// A used code came back at least its interval after it was used: revoke what it was
    /// exchanged for, then fail.
    RevokeFamily(OAuthError),
    /// Fail and change nothing.
    Reject(OAuthError),
}

/// The answer for an unknown device code (or another client's).
pub(crate) fn invalid_device_code() -> OAuthError {
    OAuthError::InvalidGrant("The device_code is invalid.".into())
}

/// RFC 8628 §3.4–3.5: judges a poll with a known device code at `now`, the code last polled
/// at `pace` (`None`: not yet, as far as this server remembers).
///
/// A used code presented again is refused; it revokes the grant it gave only when it comes at
/// least the code's interval after its use (docs/security.md rule 55): a device that got its
/// tokens stops polling, so polls racing the winning one, or a retry right after a lost
/// response, are the device's own and must not kill its one token response.
pub(crate) fn poll(
    client: &Application,
    code: &DeviceCode,
    pace: Option<Pace>,
    now: i64,
) -> PollDecision {
    if let Err(e) = require_grant(client, GrantType::DeviceCode) {
        return PollDecision::Reject(e);
    }
    if code.application_id != client.id {
        return PollDecision::Reject(invalid_device_code());
    }
    if let Some(used) = code.used {
        let error = OAuthError::InvalidGrant("The device_code was already used.".into());
        return if now.saturating_sub(used) >= code.interval {
            PollDecision::RevokeFamily(error)
        } else {
            PollDecision::Reject(error)
        };
    }
    if now >= code.expires {
        return PollDecision::Reject(OAuthError::ExpiredToken);
    }
    match code.status {
        DeviceStatus::Denied => PollDecision::Reject(OAuthError::AccessDenied(
            "The user denied the request.".into(),
        )),
        // Approved by a user since disabled or removed: the approval no longer stands.
        DeviceStatus::Approved => match code.user_id {
            Some(user_id) if code.user_active => PollDecision::Issue { user_id },
            _ => PollDecision::Reject(invalid_device_code()),
        },
        DeviceStatus::Pending => match pace {
            Some(Pace { at, interval }) if now.saturating_sub(at) < interval => {
                PollDecision::Wait {
                    error: OAuthError::SlowDown,
                    interval: interval.saturating_add(SLOW_DOWN_SECONDS),
                }
            }
            _ => PollDecision::Wait {
                error: OAuthError::AuthorizationPending,
                interval: pace.map_or(code.interval, |p| p.interval),
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
    use crate::oauth::fixtures::{valid_app, valid_device_code as valid_code, with_fields};

    fn with(change: impl FnOnce(&mut DeviceCode)) -> DeviceCode {
        let mut code = valid_code();
        change(&mut code);
        code
    }

    /// Approved by user 3, then `change`d.
    fn approved(change: impl FnOnce(&mut DeviceCode)) -> DeviceCode {
        with(|c| {
            c.status = DeviceStatus::Approved;
            c.user_id = Some(3);
            change(c)
        })
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
        let used = || OAuthError::InvalidGrant("The device_code was already used.".into());
        let wait = |error, interval| PollDecision::Wait { error, interval };
        let pending = OAuthError::AuthorizationPending;
        let paced = |at, interval| Some(Pace { at, interval });
        let denied = || OAuthError::AccessDenied("The user denied the request.".into());
        let table = [
            (valid_code(), None, 1000, wait(pending.clone(), 5)),
            (valid_code(), paced(995, 5), 1000, wait(pending.clone(), 5)),
            (
                valid_code(),
                paced(996, 5),
                1000,
                wait(OAuthError::SlowDown, 10),
            ),
            (
                valid_code(),
                paced(995, 10),
                1000,
                wait(OAuthError::SlowDown, 15),
            ),
            (valid_code(), paced(990, 10), 1000, wait(pending, 10)),
            (
                approved(|_| {}),
                None,
                1000,
                PollDecision::Issue { user_id: 3 },
            ),
            (
                approved(|_| {}),
                paced(1000, 5),
                1000,
                PollDecision::Issue { user_id: 3 },
            ),
            (
                approved(|c| c.user_active = false),
                None,
                1000,
                PollDecision::Reject(invalid_device_code()),
            ),
            (
                approved(|c| c.user_id = None),
                None,
                1000,
                PollDecision::Reject(invalid_device_code()),
            ),
            (
                with(|c| c.status = DeviceStatus::Denied),
                None,
                1000,
                PollDecision::Reject(denied()),
            ),
            (
                valid_code(),
                None,
                1600,
                PollDecision::Reject(OAuthError::ExpiredToken),
            ),
            (
                approved(|_| {}),
                None,
                1600,
                PollDecision::Reject(OAuthError::ExpiredToken),
            ),
            (
                with(|c| c.application_id = 8),
                None,
                1000,
                PollDecision::Reject(invalid_device_code()),
            ),
        ];
        for (code, pace, now, expected) in table {
            assert_eq!(
                poll(&app, &code, pace, now),
                expected,
                "{code:?} {pace:?} at {now}"
            );
        }
        // A used code: refused; a replay that revokes only from its interval on.
        let used_code = approved(|c| c.used = Some(1000));
        for (now, revokes) in [(1000, false), (1004, false), (1005, true), (9999, true)] {
            let expected = if revokes {
                PollDecision::RevokeFamily(used())
            } else {
                PollDecision::Reject(used())
            };
            assert_eq!(
                poll(&app, &used_code, None, now),
                expected,
                "used, at {now}"
            );
        }
        let no_grant = with_fields(valid_app(), |f| f.grant_types = vec![GrantType::Password]);
        let refused = poll(&no_grant, &valid_code(), None, 1000);
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
