//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2, §3), pure: which client
//! asks, and whether the browser may be sent back where it asks to go.

use crate::model::Application;
use serde_json::{Map, Value};

/// A logout request's client and return address, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogoutTarget {
    /// The client that asked, if it named itself (by `client_id` or the hint's `aud`).
    pub client_id: Option<String>,
    /// A `post_logout_redirect_uri` registered for that client, to send the browser to.
    pub return_to: Option<String>,
    /// An id_token of ours named the client (a `client_id` alone could be anyone's word).
    pub by_hint: bool,
}

/// The client an id_token_hint names (`aud`: one string, or a one-element list), provided
/// it was issued by `issuer`. The signature was checked by the caller; an expired hint still
/// identifies (§2: the OP need not reject it).
pub(crate) fn hint_client(claims: &Map<String, Value>, issuer: &str) -> Option<String> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return None;
    }
    match claims.get("aud")? {
        Value::String(aud) => Some(aud.clone()),
        Value::Array(list) => match list.as_slice() {
            [Value::String(aud)] => Some(aud.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// §2–§3: `client_id` and the hint's client must agree; a post_logout_redirect_uri needs an
/// identified client and must equal one it registered, character for character. `app` is the
/// client loaded by the id named. Anything else is an error shown on a page, never a redirect.
pub(crate) fn check(
    hint_client: Option<&str>,
    client_id: Option<&str>,
    app: Option<&Application>,
    post_logout_redirect_uri: Option<&str>,
) -> Result<LogoutTarget, &'static str> {
    let named = match (hint_client, client_id) {
        (Some(hinted), Some(given)) if hinted != given => {
            return Err("The client_id does not match the id_token_hint.");
        }
        (hinted, given) => hinted.or(given),
    };
    let app = match (named, app) {
        (None, _) => None,
        (Some(_), Some(app)) if app.usable => Some(app),
        (Some(_), _) => return Err("The client is unknown or disabled."),
    };
    let return_to = match (post_logout_redirect_uri, app) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(
                "A post_logout_redirect_uri needs the client (client_id or id_token_hint).",
            );
        }
        (Some(uri), Some(app))
            if app
                .fields
                .post_logout_redirect_uris
                .iter()
                .any(|r| r == uri) =>
        {
            Some(uri.to_owned())
        }
        (Some(_), Some(_)) => {
            return Err("The post_logout_redirect_uri is not one this client registered.");
        }
    };
    Ok(LogoutTarget {
        client_id: named.map(str::to_owned),
        return_to,
        by_hint: hint_client.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::fixtures::{valid_app, with_fields};
    use serde_json::json;

    const URI: &str = "https://app.example/bye";

    fn registered() -> Application {
        with_fields(valid_app(), |f| {
            f.post_logout_redirect_uris = vec![URI.into()]
        })
    }

    #[test]
    fn hints_name_their_audience_when_we_issued_them() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        let ours = "https://id.example";
        for (hint, expected) in [
            (json!({"iss": ours, "aud": "c"}), Some("c")),
            (json!({"iss": ours, "aud": ["c"]}), Some("c")),
            (json!({"iss": ours, "aud": ["c", "d"]}), None),
            (json!({"iss": ours, "aud": 7}), None),
            (json!({"iss": ours}), None),
            (json!({"iss": "https://id.example/", "aud": "c"}), None),
            (json!({"aud": "c"}), None),
        ] {
            assert_eq!(
                hint_client(&claims(hint.clone()), ours).as_deref(),
                expected,
                "{hint}"
            );
        }
    }

    #[test]
    fn the_browser_goes_back_only_where_the_client_registered() {
        let app = registered();
        let ok = check(None, Some("c"), Some(&app), Some(URI)).unwrap();
        assert_eq!(ok.return_to.as_deref(), Some(URI));
        let by_hint = check(Some("c"), None, Some(&app), Some(URI)).unwrap();
        assert_eq!(by_hint.client_id.as_deref(), Some("c"));
        assert!(by_hint.by_hint && !ok.by_hint);
        assert_eq!(
            check(None, None, None, None),
            Ok(LogoutTarget {
                client_id: None,
                return_to: None,
                by_hint: false
            })
        );
        for (hint, client, app, uri) in [
            (None, None, None, Some(URI)),
            (Some("c"), Some("d"), Some(&app), Some(URI)),
            (
                None,
                Some("c"),
                Some(&app),
                Some("https://app.example/bye/"),
            ),
            (
                None,
                Some("c"),
                Some(&app),
                Some("https://evil.example/bye"),
            ),
            (None, Some("x"), None, None),
        ] {
            assert!(check(hint, client, app, uri).is_err(), "{client:?} {uri:?}");
        }
        let disabled = Application {
            usable: false,
            ..registered()
        };
        assert!(check(None, Some("c"), Some(&disabled), Some(URI)).is_err());
    }
}
