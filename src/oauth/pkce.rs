//! PKCE (RFC 7636): the challenge at the authorization endpoint, the verifier at the token
//! endpoint, and RFC 9700 §2.1.1's rule on who must use it.

use crate::secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// RFC 7636 §4.2 transformation methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `code_challenge = BASE64URL(SHA256(code_verifier))`.
    S256,
    /// `code_challenge = code_verifier` (allowed, not recommended).
    Plain,
}

impl Method {
    /// Both methods, strongest first.
    pub const ALL: [Method; 2] = [Method::S256, Method::Plain];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::S256 => "S256",
            Method::Plain => "plain",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Method> {
        match text {
            "S256" => Some(Method::S256),
            "plain" => Some(Method::Plain),
            _ => None,
        }
    }
}

/// A code challenge as bound to an authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The challenge string.
    pub challenge: String,
    /// How the verifier maps to it.
    pub method: Method,
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`;
/// the challenge has the same shape (§4.2).
pub(crate) fn is_well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Reads `code_challenge` and `code_challenge_method` from an authorization request: `None`
/// when no challenge was sent; a method without a challenge, an unknown method or a malformed
/// challenge is an error. The method defaults to `plain` (RFC 7636 §4.3).
pub(crate) fn parse_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<Challenge>, &'static str> {
    match (challenge, method) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err("code_challenge_method was sent without a code_challenge."),
        (Some(challenge), method) => {
            let method = match method {
                None => Method::Plain,
                Some(name) => {
                    Method::parse(name).ok_or("The code_challenge_method is not supported.")?
                }
            };
            if !is_well_formed(challenge) {
                return Err("The code_challenge is malformed.");
            }
            Ok(Some(Challenge {
                challenge: challenge.to_owned(),
                method,
            }))
        }
    }
}

/// RFC 7636 §4.2: the S256 challenge of `verifier`.
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.6: whether `verifier` answers the code's challenge. A verifier for a code
/// issued without a challenge, or none for one issued with one, fails (RFC 9700 §4.8: no
/// downgrade).
pub fn verify(challenge: Option<&Challenge>, verifier: Option<&str>) -> bool {
    match (challenge, verifier) {
        (None, None) => true,
        (Some(c), Some(v)) if is_well_formed(v) => {
            let expected = match c.method {
                Method::S256 => s256(v),
                Method::Plain => v.to_owned(),
            };
            secret::constant_time_eq(expected.as_bytes(), c.challenge.as_bytes())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn s256() -> Challenge {
        Challenge {
            challenge: CHALLENGE.into(),
            method: Method::S256,
        }
    }

    #[test]
    fn rfc_7636_appendix_b() {
        assert!(verify(Some(&s256()), Some(VERIFIER)));
        assert_eq!(super::s256(VERIFIER), CHALLENGE);
        assert!(!verify(Some(&s256()), Some(&VERIFIER.replace('d', "e"))));
        let plain = Challenge {
            challenge: VERIFIER.into(),
            method: Method::Plain,
        };
        assert!(verify(Some(&plain), Some(VERIFIER)));
    }

    #[test]
    fn no_downgrade_and_no_missing_verifier() {
        assert!(verify(None, None));
        assert!(
            !verify(None, Some(VERIFIER)),
            "a verifier for a code without a challenge"
        );
        assert!(
            !verify(Some(&s256()), None),
            "a challenge without a verifier"
        );
        assert!(!verify(Some(&s256()), Some("short")));
    }

    #[test]
    fn challenges_are_parsed_strictly() {
        assert_eq!(parse_challenge(None, None), Ok(None));
        assert_eq!(
            parse_challenge(Some(CHALLENGE), Some("S256")),
            Ok(Some(s256()))
        );
        let plain = parse_challenge(Some(VERIFIER), None).unwrap().unwrap();
        assert_eq!(plain.method, Method::Plain);
        assert!(parse_challenge(None, Some("S256")).is_err());
        assert!(parse_challenge(Some(CHALLENGE), Some("S512")).is_err());
        assert!(parse_challenge(Some("too-short"), Some("S256")).is_err());
        assert!(parse_challenge(Some(&"a".repeat(129)), Some("S256")).is_err());
        assert!(parse_challenge(Some(&format!("{}!", &CHALLENGE[1..])), Some("S256")).is_err());
    }
}
