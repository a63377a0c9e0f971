//! THE route table: one match on (method, path). DOT's paths, so its tutorials carry over.

use crate::http::App;
use crate::http::handlers::accounts::{self, LOGIN_PATH};
use crate::http::handlers::admin::{self, Target};
use crate::http::handlers::authorize::{self, AUTHORIZE_PATH};
use crate::http::handlers::{apps, introspect, resource, revoke, token, tokens};
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp};
use crate::pages::{CUSTOM_STYLESHEET_PATH, STYLESHEET, STYLESHEET_PATH, paths};

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
        ("GET" | "HEAD", STYLESHEET_PATH) => Ok(accounts::stylesheet(STYLESHEET)),
        ("GET" | "HEAD", CUSTOM_STYLESHEET_PATH) => match &app.settings.custom_css {
            Some(css) => Ok(accounts::stylesheet(css)),
            None => Ok(Resp::text(404, "No custom stylesheet is configured.")),
        },
        // Liveness for load balancers and supervisors; touches nothing, so it is also the
        // benchmark's ceiling (the stack's cost with no work).
        ("GET" | "HEAD", "/health") => Ok(Resp::text(200, "ok")),
        (_, "/health") => Err(HttpError::MethodNotAllowed("GET, HEAD")),

        ("GET" | "HEAD", paths::APPLICATIONS) => apps::list(app, req),
        ("GET" | "HEAD", paths::REGISTER) => apps::register_page(app, req),
        ("POST", paths::REGISTER) => apps::register(app, req),
        (_, paths::REGISTER) => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
        ("GET" | "HEAD", paths::AUTHORIZED_TOKENS | AUTHORIZED_TOKENS_HYPHEN) => {
            tokens::list(app, req)
        }
        ("GET" | "HEAD", paths::ADMIN) => admin::page(app, req),
        ("POST", admin::NEW_USER_PATH) => admin::new_user(app, req),
        (_, paths::APPLICATIONS | paths::AUTHORIZED_TOKENS | AUTHORIZED_TOKENS_HYPHEN)
        | (_, paths::ADMIN) => Err(HttpError::PageMethodNotAllowed(PAGE)),
        (_, admin::NEW_USER_PATH) => Err(HttpError::PageMethodNotAllowed("POST")),

        _ => route_by_id(app, req),
    }
}

const PAGE: &str = "GET, HEAD";
const PAGE_FORM: &str = "GET, HEAD, POST";
const AUTHORIZED_TOKENS_HYPHEN: &str = "/o/authorized-tokens/";
/// Where every path is a page: an unknown one gets the HTML 404.
const PAGE_PREFIXES: [&str; 4] = [
    paths::APPLICATIONS,
    paths::AUTHORIZED_TOKENS,
    AUTHORIZED_TOKENS_HYPHEN,
    paths::ADMIN,
];

/// The paths that carry a row id: the pages of one app or token, the admin's actions, and the
/// API's `/users/<id>/` and `/groups/<id>/`.
fn route_by_id(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let path = req.path.as_str();
    let method = req.method.as_str();
    if let Some((id, action)) = id_and_action(path, paths::APPLICATIONS) {
        return match (method, action) {
            ("GET" | "HEAD", "") => apps::detail(app, req, id),
            ("GET" | "HEAD", "update") => apps::update_page(app, req, id),
            ("POST", "update") => apps::update(app, req, id),
            ("GET" | "HEAD", "delete") => apps::delete_page(app, req, id),
            ("POST", "delete") => apps::delete(app, req, id),
            ("POST", "secret") => apps::regenerate_secret(app, req, id),
            (_, "") => Err(HttpError::PageMethodNotAllowed(PAGE)),
            (_, "update" | "delete") => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
            (_, "secret") => Err(HttpError::PageMethodNotAllowed("POST")),
            _ => Err(HttpError::not_found()),
        };
    }
    let token_page = id_and_action(path, paths::AUTHORIZED_TOKENS)
        .or_else(|| id_and_action(path, AUTHORIZED_TOKENS_HYPHEN));
    if let Some((id, action)) = token_page {
        return match (method, action) {
            ("GET" | "HEAD", "delete") => tokens::revoke_page(app, req, id),
            ("POST", "delete") => tokens::revoke(app, req, id),
            (_, "delete") => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
            _ => Err(HttpError::not_found()),
        };
    }
    if let Some(target) = admin_target(path) {
        return match (method, target) {
            ("POST", (AdminTarget::Toggle(target), enabled)) => {
                admin::set_enabled(app, req, target, enabled)
            }
            ("POST", (AdminTarget::Revoke(id), _)) => admin::revoke(app, req, id),
            _ => Err(HttpError::PageMethodNotAllowed("POST")),
        };
    }
    if PAGE_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        return Err(HttpError::not_found());
    }
    route_items(app, req)
}

/// What an admin action path names.
enum AdminTarget {
    Toggle(Target),
    Revoke(i64),
}

/// `/o/admin/users/<id>/enable/` and the like; the bool is "enable".
fn admin_target(path: &str) -> Option<(AdminTarget, bool)> {
    let toggle = |action: &str| match action {
        "enable" => Some(true),
        "disable" => Some(false),
        _ => None,
    };
    if let Some((id, action)) = id_and_action(path, "/o/admin/users/") {
        return Some((AdminTarget::Toggle(Target::User(id)), toggle(action)?));
    }
    if let Some((id, action)) = id_and_action(path, "/o/admin/apps/") {
        return Some((AdminTarget::Toggle(Target::App(id)), toggle(action)?));
    }
    match id_and_action(path, "/o/admin/tokens/")? {
        (id, "revoke") => Some((AdminTarget::Revoke(id), false)),
        _ => None,
    }
}

/// Splits `{prefix}<id>/` into (id, "") and `{prefix}<id>/<action>/` into (id, action).
fn id_and_action<'a>(path: &'a str, prefix: &str) -> Option<(i64, &'a str)> {
    let rest = path.strip_prefix(prefix)?.strip_suffix('/')?;
    let (segment, action) = rest.split_once('/').unwrap_or((rest, ""));
    let id = parse_id(segment)?;
    (!action.contains('/')).then_some((id, action))
}

/// Only the canonical spelling of a positive id: no sign, no leading zeros.
fn parse_id(segment: &str) -> Option<i64> {
    segment
        .parse()
        .ok()
        .filter(|id: &i64| *id > 0 && id.to_string() == segment)
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
    let id = parse_id(segment)?;
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

    #[test]
    fn ids_and_actions() {
        let apps = paths::APPLICATIONS;
        assert_eq!(id_and_action("/o/applications/3/", apps), Some((3, "")));
        assert_eq!(
            id_and_action("/o/applications/3/update/", apps),
            Some((3, "update"))
        );
        for bad in [
            "/o/applications/",
            "/o/applications/3",
            "/o/applications/03/",
            "/o/applications/-3/",
            "/o/applications/x/",
            "/o/applications/3/update",
            "/o/applications/3/a/b/",
            "/o/applications/99999999999999999999/",
        ] {
            assert_eq!(id_and_action(bad, apps), None, "{bad}");
        }
        assert!(matches!(
            admin_target("/o/admin/users/2/disable/"),
            Some((AdminTarget::Toggle(Target::User(2)), false))
        ));
        assert!(matches!(
            admin_target("/o/admin/apps/5/enable/"),
            Some((AdminTarget::Toggle(Target::App(5)), true))
        ));
        assert!(matches!(
            admin_target("/o/admin/tokens/9/revoke/"),
            Some((AdminTarget::Revoke(9), _))
        ));
        for bad in [
            "/o/admin/users/2/",
            "/o/admin/users/2/drop/",
            "/o/admin/tokens/9/",
        ] {
            assert!(admin_target(bad).is_none(), "{bad}");
        }
    }
}
