//! CORS (the Fetch standard's CORS protocol), applied to every answer in one place, the
//! worker: which endpoints a web page of another origin may read, and the preflights.
//!
//! The token, revocation, introspection and userinfo endpoints and the example resources
//! answer an origin that some usable application registered (docs/security.md rule 58): that
//! origin, never `*`, never with credentials; an unregistered origin gets no CORS header at
//! all. The public documents (metadata, JWKS) answer `*` (rule 44).

use crate::http::App;
use crate::http::paths;
use crate::http::request::Req;
use crate::http::response::Resp;
use crate::http::routes::{self, COLLECTION, READ_ONLY};

/// How long a browser may cache a preflight's answer, in seconds: short, so that an origin
/// an application drops (or an app disabled) stops working soon in browsers too.
const PREFLIGHT_MAX_AGE: u32 = 600;

/// The request headers a page may send: a bearer token or Basic client credentials, and a
/// form or JSON body.
const ALLOWED_HEADERS: &str = "Authorization, Content-Type";

/// Which origins may read a path's answers, and the methods the route serves there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// Origins registered by a usable application.
    Registered(&'static str),
    /// Anyone (`*`): public documents.
    Public(&'static str),
}

/// The CORS policy of `path`; `None` for the pages and everything else, which answer no CORS.
fn policy(path: &str) -> Option<Policy> {
    match path {
        paths::TOKEN | paths::REVOKE_TOKEN | paths::REVOKE_TOKEN_HYPHEN | paths::INTROSPECT => {
            Some(Policy::Registered("POST"))
        }
        paths::USERINFO => Some(Policy::Registered("GET, POST")),
        paths::API_HELLO => Some(Policy::Registered(READ_ONLY)),
        paths::USERS | paths::GROUPS => Some(Policy::Registered(COLLECTION)),
        paths::OPENID_CONFIGURATION
        | paths::DOT_OPENID_CONFIGURATION
        | paths::OAUTH_AUTHORIZATION_SERVER
        | paths::JWKS => Some(Policy::Public("GET, HEAD")),
        _ if routes::is_item_path(path) => Some(Policy::Registered(READ_ONLY)),
        _ => None,
    }
}

/// The answer to `req`: a preflight is answered here; any other request by `route`, with the
/// CORS headers its path and origin call for added (to errors too, so that the page can read
/// them).
pub(crate) fn answer(app: &App, req: &Req, route: impl FnOnce() -> Resp) -> Resp {
    let Some(policy) = policy(&req.path) else {
        return route();
    };
    let (allowed, methods) = match policy {
        Policy::Public(methods) => (Some("*"), methods),
        Policy::Registered(methods) => (registered_origin(app, req), methods),
    };
    let resp = match (req.preflight, allowed) {
        (true, Some(origin)) => Resp::empty(204)
            .with_header("Access-Control-Allow-Origin", origin)
            .with_header("Access-Control-Allow-Methods", methods)
            .with_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
            .with_header("Access-Control-Max-Age", PREFLIGHT_MAX_AGE.to_string()),
        (true, None) => Resp::empty(204),
        (false, Some(origin)) => route()
            .with_header("Access-Control-Allow-Origin", origin)
            // A page reads the bearer challenge of a 401 (RFC 6750 §3).
            .with_header("Access-Control-Expose-Headers", "WWW-Authenticate"),
        (false, None) => route(),
    };
    match policy {
        // The answer depends on the request's origin: caches must keep them apart.
        Policy::Registered(_) => resp.with_header("Vary", "Origin"),
        Policy::Public(_) => resp,
    }
}

/// The request's Origin, if some usable application registered it. Only a request with an
/// Origin costs a lookup; a database failure answers as for an unregistered origin.
fn registered_origin<'a>(app: &App, req: &'a Req) -> Option<&'a str> {
    let origin = req.origin.as_deref()?;
    match app.store.origin_is_allowed(origin) {
        Ok(allowed) => allowed.then_some(origin),
        Err(e) => {
            eprintln!("oauthd: allowed-origin lookup failed: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_endpoints_and_public_documents_have_a_policy() {
        assert_eq!(policy(paths::TOKEN), Some(Policy::Registered("POST")));
        assert_eq!(
            policy(paths::REVOKE_TOKEN_HYPHEN),
            Some(Policy::Registered("POST"))
        );
        assert_eq!(policy("/users/7/"), Some(Policy::Registered(READ_ONLY)));
        assert_eq!(policy(paths::JWKS), Some(Policy::Public("GET, HEAD")));
        for none in [
            paths::AUTHORIZE,
            paths::LOGIN,
            paths::REGISTER,
            paths::ADMIN,
            "/users/7/x/",
            "/o/token",
        ] {
            assert_eq!(policy(none), None, "{none}");
        }
    }
}
