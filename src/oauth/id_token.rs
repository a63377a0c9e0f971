//! The claims of an id_token and of userinfo (OIDC Core §2, §3.1.3.6, §5.1, §5.4), pure: the
//! caller signs them (`oidc::keys`) or serves them.

use crate::oauth::scope::Scopes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Every claim an id_token or userinfo may hold: the metadata's `claims_supported`.
pub(crate) const CLAIMS_SUPPORTED: [&str; 12] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "preferred_username",
    "name",
    "email",
    "email_verified",
];

/// Who the claims are about, as far as the scopes may tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person<'a> {
    /// The stable subject identifier (`sub`): never reassigned, not the username.
    pub subject: &'a str,
    /// The login name (`preferred_username`, with `profile`).
    pub username: &'a str,
    /// The display name (`name`, with `profile`), empty when unknown.
    pub name: &'a str,
    /// The address (`email`, with `email`), empty when unknown.
    pub email: &'a str,
    /// An administrator or the CLI set the address (`email_verified`).
    pub email_verified: bool,
}

/// What an id_token says beyond the person: who it is for, when, and what it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdTokenFacts<'a> {
    /// `iss`: the issuer, exactly as configured.
    pub issuer: &'a str,
    /// `aud`: the client's id.
    pub client_id: &'a str,
    /// `iat`.
    pub now: i64,
    /// Seconds until `exp`.
    pub lifetime: i64,
    /// `auth_time`: when the user last authenticated.
    pub auth_time: Option<i64>,
    /// `nonce`, echoed from the authorization request.
    pub nonce: Option<&'a str>,
    /// The access token issued with it, for `at_hash`.
    pub access_token: Option<&'a str>,
}

/// The claims the granted scopes allow about `person` (Core §5.4): always `sub`; `profile`
/// adds `preferred_username` and `name` (when known); `email` adds `email` and
/// `email_verified` (when there is an address). Userinfo answers with exactly these.
pub(crate) fn person_claims(person: &Person<'_>, scope: &Scopes) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(person.subject));
    if scope.contains("profile") {
        claims.insert("preferred_username".into(), json!(person.username));
        if !person.name.is_empty() {
            claims.insert("name".into(), json!(person.name));
        }
    }
    if scope.contains("email") && !person.email.is_empty() {
        claims.insert("email".into(), json!(person.email));
        claims.insert("email_verified".into(), json!(person.email_verified));
    }
    claims
}

/// The id_token's claims (Core §2, §3.1.3.6, §3.2.2.10): the person's, then `iss`, `aud`,
/// `iat`, `exp`, `auth_time`, `nonce` and `at_hash`. `aud` is the one client, so `azp` (only
/// needed beside several audiences) is left out.
pub(crate) fn id_token_claims(
    person: &Person<'_>,
    scope: &Scopes,
    facts: &IdTokenFacts<'_>,
) -> Map<String, Value> {
    let mut claims = person_claims(person, scope);
    claims.insert("iss".into(), json!(facts.issuer));
    claims.insert("aud".into(), json!(facts.client_id));
    claims.insert("iat".into(), json!(facts.now));
    claims.insert("exp".into(), json!(facts.now + facts.lifetime));
    if let Some(auth_time) = facts.auth_time {
        claims.insert("auth_time".into(), json!(auth_time));
    }
    if let Some(nonce) = facts.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if let Some(token) = facts.access_token {
        claims.insert("at_hash".into(), json!(at_hash(token)));
    }
    claims
}

/// Core §3.1.3.6 for RS256: the left half of the token's SHA-256, base64url without padding.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_person() -> Person<'static> {
        Person {
            subject: "9f3c",
            username: "bob\"e'i;--ü",
            name: "Bob Example",
            email: "bob@example.com",
            email_verified: true,
        }
    }

    fn valid_facts() -> IdTokenFacts<'static> {
        IdTokenFacts {
            issuer: "https://id.example",
            client_id: "c",
            now: 1000,
            lifetime: 3600,
            auth_time: Some(990),
            nonce: Some("n-0S6_WzA2Mj"),
            access_token: None,
        }
    }

    fn scope(text: &str) -> Scopes {
        Scopes::parse(text).unwrap()
    }

    #[test]
    fn the_scopes_decide_which_claims_are_told() {
        let keys = |text: &str| -> Vec<String> {
            person_claims(&valid_person(), &scope(text))
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(keys("openid"), ["sub"]);
        assert_eq!(
            keys("openid profile"),
            ["name", "preferred_username", "sub"]
        );
        assert_eq!(keys("openid email"), ["email", "email_verified", "sub"]);
        let unknown = Person {
            name: "",
            email: "",
            ..valid_person()
        };
        let told = person_claims(&unknown, &scope("openid profile email"));
        assert_eq!(
            told.keys().collect::<Vec<_>>(),
            ["preferred_username", "sub"]
        );
    }

    #[test]
    fn an_id_token_says_who_for_whom_and_when() {
        let claims = id_token_claims(&valid_person(), &scope("openid"), &valid_facts());
        assert_eq!(
            Value::Object(claims),
            json!({"sub": "9f3c", "iss": "https://id.example", "aud": "c", "iat": 1000,
                   "exp": 4600, "auth_time": 990, "nonce": "n-0S6_WzA2Mj"})
        );
        let bare = IdTokenFacts {
            auth_time: None,
            nonce: None,
            access_token: Some("token"),
            ..valid_facts()
        };
        let claims = id_token_claims(&valid_person(), &scope("openid"), &bare);
        assert!(!claims.contains_key("nonce") && !claims.contains_key("auth_time"));
        assert_eq!(claims["at_hash"], json!(at_hash("token")));
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256() {
        // OIDC Core §A.3's example access token and at_hash.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
