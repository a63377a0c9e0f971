//! THE route table: one match on (method, path). DOT's paths, so its tutorials carry over.

use crate::http::App;
use crate::http::handlers::accounts::{self, LOGIN_PATH};
use crate::http::handlers::authorize::{self, AUTHORIZE_PATH};
use crate::http::handlers::{introspect, resource, revoke, token};
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp};
use crate::pages::STYLESHEET_PATH;

/// Dispatches a request to its handler.
pub fn route(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let method = req.method.as_str();
    let path = req.path.as_str();
    match (method, path) {
        ("POST", "/o/token/") => token::token(app, req),
        ("POST", "/o/revoke_token/" | "/o/revoke-token/") => revoke::revoke(app, req),
        ("POST", "/o/introspect/") => introspect::introspect(app, req),
        (_, "/o/token/" | "/o/revoke_token/" | "/o/revoke-token/" | "/o/introspect/") => {
            Err(HttpError::OAuthMethodNotAllowed("POST"))
        }

        ("OPTIONS", "/api/hello") => Ok(resource::options(READ_ONLY)),
        ("GET" | "HEAD", "/api/hello") => resource::hello(app, req),
        (_, "/api/hello") => Err(HttpError::MethodNotAllowed(READ_ONLY)),

        ("OPTIONS", "/users/" | "/groups/") => Ok(resource::options(COLLECTION)),
        ("GET" | "HEAD", "/users/") => resource::read_users(app, req, None),
        ("POST", "/users/") => resource::create_user(app, req),
        ("GET" | "HEAD", "/groups/") => resource::read_groups(app, req, None),
        ("POST", "/groups/") => resource::create_group(app, req),
        (_, "/users/" | "/groups/") => Err(HttpError::MethodNotAllowed(COLLECTION)),

        // GET only, not HEAD: a skipped consent issues a code, which a HEAD must not do.
        ("GET", AUTHORIZE_PATH) => authorize::authorize_page(app, req),
        ("POST", AUTHORIZE_PATH) => authorize::authorize_decision(app, req),
        (_, AUTHORIZE_PATH) => Err(HttpError::MethodNotAllowed("GET, POST")),
        ("GET" | "HEAD", "/") => accounts::home(app, req),
        ("GET" | "HEAD", LOGIN_PATH) => accounts::login_page(app, req),
        ("POST", LOGIN_PATH) => accounts::login(app, req),
        ("POST", "/accounts/logout/") => accounts::logout(app, req),
        (_, LOGIN_PATH) => Err(HttpError::MethodNotAllowed("GET, HEAD, POST")),
        (_, "/accounts/logout/") => Err(HttpError::MethodNotAllowed("POST")),
        ("GET" | "HEAD", STYLESHEET_PATH) => Ok(accounts::stylesheet()),
        // Liveness for load balancers and supervisors; touches nothing, so it is also the
        // benchmark's ceiling (the stack's cost with no work).
        ("GET" | "HEAD", "/health") => Ok(Resp::text(200, "ok")),
        (_, "/health") => Err(HttpError::MethodNotAllowed("GET, HEAD")),

        _ => route_items(app, req),
    }
}

const READ_ONLY: &str = "GET, HEAD, OPTIONS";
const COLLECTION: &str = "GET, POST, HEAD, OPTIONS";

/// `/users/<id>/` and `/groups/<id>/`.
fn route_items(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let Some((collection, id)) = item_path(&req.path) else {
        return Err(HttpError::Api(404, "Not found.".into()));
    };
    match (req.method.as_str(), collection) {
        ("OPTIONS", _) => Ok(resource::options(READ_ONLY)),
        ("GET" | "HEAD", "users") => resource::read_users(app, req, Some(id)),
        ("GET" | "HEAD", _) => resource::read_groups(app, req, Some(id)),
        _ => Err(HttpError::MethodNotAllowed(READ_ONLY)),
    }
}

/// Splits `/users/42/` into ("users", 42).
fn item_path(path: &str) -> Option<(&str, i64)> {
    let rest = path.strip_prefix('/')?.strip_suffix('/')?;
    let (collection, segment) = rest.split_once('/')?;
    // Only the canonical spelling of a positive id: no sign, no leading zeros.
    let id = segment
        .parse()
        .ok()
        .filter(|id: &i64| *id > 0 && id.to_string() == segment)?;
    matches!(collection, "users" | "groups").then_some((collection, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_paths() {
        assert_eq!(item_path("/users/42/"), Some(("users", 42)));
        assert_eq!(item_path("/groups/1/"), Some(("groups", 1)));
        for bad in [
            "/users/42",
            "/users/+42/",
            "/users/042/",
            "/users/0/",
            "/users/x/",
            "/apps/1/",
            "/users/1/2/",
        ] {
            assert_eq!(item_path(bad), None, "{bad}");
        }
    }
}
