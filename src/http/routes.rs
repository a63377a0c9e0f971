//! THE route table: one match on (method, path). DOT's paths, so its tutorials carry over.

use crate::http::App;
use crate::http::handlers::admin::{self, Target};
use crate::http::handlers::{
    accounts, apps, authorize, discovery, introspect, logout, resource, revoke, token, tokens,
    userinfo,
};
use crate::http::paths::{self, action};
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp};
use crate::pages::STYLESHEET;

/// Dispatches a request to its handler.
pub fn route(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let method = req.method.as_str();
    let path = req.path.as_str();
    match (method, path) {
        ("POST", paths::TOKEN) => token::token(app, req),
        ("POST", paths::REVOKE_TOKEN | paths::REVOKE_TOKEN_HYPHEN) => revoke::revoke(app, req),
        ("POST", paths::INTROSPECT) => introspect::introspect(app, req),
        (
            _,
            paths::TOKEN | paths::REVOKE_TOKEN | paths::REVOKE_TOKEN_HYPHEN | paths::INTROSPECT,
        ) => Err(HttpError::OAuthMethodNotAllowed("POST")),

        (
            "GET" | "HEAD",
            paths::OPENID_CONFIGURATION
            | paths::DOT_OPENID_CONFIGURATION
            | paths::OAUTH_AUTHORIZATION_SERVER,
        ) => Ok(discovery::metadata(app)),
        (
            _,
            paths::OPENID_CONFIGURATION
            | paths::DOT_OPENID_CONFIGURATION
            | paths::OAUTH_AUTHORIZATION_SERVER,
        ) => Err(HttpError::MethodNotAllowed("GET, HEAD")),
        ("GET" | "HEAD", paths::JWKS) => discovery::jwks(app),
        (_, paths::JWKS) => Err(HttpError::MethodNotAllowed("GET, HEAD")),
        ("GET" | "POST", paths::RP_INITIATED_LOGOUT) => logout::logout(app, req),
        (_, paths::RP_INITIATED_LOGOUT) => Err(HttpError::PageMethodNotAllowed("GET, POST")),
        ("GET" | "POST", paths::USERINFO) => userinfo::userinfo(app, req),
        (_, paths::USERINFO) => Err(HttpError::MethodNotAllowed("GET, POST")),

        ("OPTIONS", paths::API_HELLO) => Ok(resource::options(READ_ONLY)),
        ("GET" | "HEAD", paths::API_HELLO) => resource::hello(app, req),
        (_, paths::API_HELLO) => Err(HttpError::MethodNotAllowed(READ_ONLY)),

        ("OPTIONS", paths::USERS | paths::GROUPS) => Ok(resource::options(COLLECTION)),
        ("GET" | "HEAD", paths::USERS) => resource::read_users(app, req, None),
        ("POST", paths::USERS) => resource::create_user(app, req),
        ("GET" | "HEAD", paths::GROUPS) => resource::read_groups(app, req, None),
        ("POST", paths::GROUPS) => resource::create_group(app, req),
        (_, paths::USERS | paths::GROUPS) => Err(HttpError::MethodNotAllowed(COLLECTION)),

        // GET only, not HEAD: a skipped consent issues a code, which a HEAD must not do.
        ("GET", paths::AUTHORIZE) => authorize::authorize_page(app, req),
        ("POST", paths::AUTHORIZE) => authorize::authorize_decision(app, req),
        (_, paths::AUTHORIZE) => Err(HttpError::PageMethodNotAllowed("GET, POST")),
        ("GET" | "HEAD", paths::HOME) => accounts::home(app, req),
        ("GET" | "HEAD", paths::LOGIN) => accounts::login_page(app, req),
        ("POST", paths::LOGIN) => accounts::login(app, req),
        ("POST", paths::LOGOUT) => accounts::logout(app, req),
        (_, paths::LOGIN) => Err(HttpError::PageMethodNotAllowed("GET, HEAD, POST")),
        (_, paths::LOGOUT) => Err(HttpError::PageMethodNotAllowed("POST")),
        ("GET" | "HEAD", paths::STYLESHEET) => Ok(accounts::stylesheet(STYLESHEET)),
        ("GET" | "HEAD", paths::CUSTOM_STYLESHEET) => match &app.settings.custom_css {
            Some(css) => Ok(accounts::stylesheet(css)),
            None => Ok(Resp::text(404, "No custom stylesheet is configured.")),
        },
        // Liveness for load balancers and supervisors; touches nothing, so it is also the
        // benchmark's ceiling (the stack's cost with no work).
        ("GET" | "HEAD", paths::HEALTH) => Ok(Resp::text(200, "ok")),
        (_, paths::HEALTH) => Err(HttpError::MethodNotAllowed("GET, HEAD")),

        ("GET" | "HEAD", paths::APPLICATIONS) => apps::list(app, req),
        ("GET" | "HEAD", paths::REGISTER) => apps::register_page(app, req),
        ("POST", paths::REGISTER) => apps::register(app, req),
        (_, paths::REGISTER) => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
        ("GET" | "HEAD", paths::AUTHORIZED_TOKENS | paths::AUTHORIZED_TOKENS_HYPHEN) => {
            tokens::list(app, req)
        }
        ("GET" | "HEAD", paths::ADMIN) => admin::page(app, req),
        ("POST", paths::ADMIN_USERS) => admin::new_user(app, req),
        (_, paths::APPLICATIONS | paths::AUTHORIZED_TOKENS | paths::AUTHORIZED_TOKENS_HYPHEN)
        | (_, paths::ADMIN) => Err(HttpError::PageMethodNotAllowed(PAGE)),
        (_, paths::ADMIN_USERS) => Err(HttpError::PageMethodNotAllowed("POST")),

        _ => route_by_id(app, req),
    }
}

const PAGE: &str = "GET, HEAD";
const PAGE_FORM: &str = "GET, HEAD, POST";
/// Where every path is a page: an unknown one gets the HTML 404.
const PAGE_PREFIXES: [&str; 4] = [
    paths::APPLICATIONS,
    paths::AUTHORIZED_TOKENS,
    paths::AUTHORIZED_TOKENS_HYPHEN,
    paths::ADMIN,
];

/// The paths that carry a row id: the pages of one app or token, the admin's actions, and the
/// API's `/users/<id>/` and `/groups/<id>/`.
fn route_by_id(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let path = req.path.as_str();
    let method = req.method.as_str();
    if let Some((id, segment)) = id_and_action(path, paths::APPLICATIONS) {
        return match (method, segment) {
            ("GET" | "HEAD", "") => apps::detail(app, req, id),
            ("GET" | "HEAD", action::UPDATE) => apps::update_page(app, req, id),
            ("POST", action::UPDATE) => apps::update(app, req, id),
            ("GET" | "HEAD", action::DELETE) => apps::delete_page(app, req, id),
            ("POST", action::DELETE) => apps::delete(app, req, id),
            ("POST", action::SECRET) => apps::regenerate_secret(app, req, id),
            (_, "") => Err(HttpError::PageMethodNotAllowed(PAGE)),
            (_, action::UPDATE | action::DELETE) => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
            (_, action::SECRET) => Err(HttpError::PageMethodNotAllowed("POST")),
            _ => Err(HttpError::not_found()),
        };
    }
    if let Some((id, segment)) = id_and_action(path, paths::REMEMBERED_CONSENTS) {
        return match (method, segment) {
            ("GET" | "HEAD", action::DELETE) => tokens::forget_page(app, req, id),
            ("POST", action::DELETE) => tokens::forget(app, req, id),
            (_, action::DELETE) => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
            _ => Err(HttpError::not_found()),
        };
    }
    let token_page = id_and_action(path, paths::AUTHORIZED_TOKENS)
        .or_else(|| id_and_action(path, paths::AUTHORIZED_TOKENS_HYPHEN));
    if let Some((id, segment)) = token_page {
        return match (method, segment) {
            ("GET" | "HEAD", action::DELETE) => tokens::revoke_page(app, req, id),
            ("POST", action::DELETE) => tokens::revoke(app, req, id),
            (_, action::DELETE) => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
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
    let toggle = |segment: &str| match segment {
        action::ENABLE => Some(true),
        action::DISABLE => Some(false),
        _ => None,
    };
    if let Some((id, segment)) = id_and_action(path, paths::ADMIN_USERS) {
        return Some((AdminTarget::Toggle(Target::User(id)), toggle(segment)?));
    }
    if let Some((id, segment)) = id_and_action(path, paths::ADMIN_APPS) {
        return Some((AdminTarget::Toggle(Target::App(id)), toggle(segment)?));
    }
    match id_and_action(path, paths::ADMIN_TOKENS)? {
        (id, action::REVOKE) => Some((AdminTarget::Revoke(id), false)),
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
        ("GET" | "HEAD", paths::USERS) => resource::read_users(app, req, Some(id)),
        ("GET" | "HEAD", _) => resource::read_groups(app, req, Some(id)),
        _ => Err(HttpError::MethodNotAllowed(READ_ONLY)),
    }
}

/// Splits `/users/42/` into (`/users/`, 42).
fn item_path(path: &str) -> Option<(&'static str, i64)> {
    [paths::USERS, paths::GROUPS]
        .into_iter()
        .find_map(|collection| match id_and_action(path, collection)? {
            (id, "") => Some((collection, id)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_paths() {
        let users = paths::USERS;
        assert_eq!(item_path(&format!("{users}42/")), Some((users, 42)));
        let groups = paths::GROUPS;
        assert_eq!(item_path(&format!("{groups}1/")), Some((groups, 1)));
        for bad in ["42", "+42/", "042/", "0/", "x/", "1/2/"] {
            let path = format!("{users}{bad}");
            assert_eq!(item_path(&path), None, "{path}");
        }
        assert_eq!(item_path(&paths::application(1)), None);
    }

    #[test]
    fn ids_and_actions() {
        let apps = paths::APPLICATIONS;
        for bad in [
            "",
            "3",
            "03/",
            "-3/",
            "x/",
            "3/update",
            "3/a/b/",
            "99999999999999999999/",
        ] {
            let path = format!("{apps}{bad}");
            assert_eq!(id_and_action(&path, apps), None, "{path}");
        }
        for bad in [
            format!("{}2/", paths::ADMIN_USERS),
            format!("{}2/drop/", paths::ADMIN_USERS),
            format!("{}9/", paths::ADMIN_TOKENS),
        ] {
            assert!(admin_target(&bad).is_none(), "{bad}");
        }
    }

    /// Every link `paths` builds reaches the route that serves it.
    #[test]
    fn built_paths_route_back() {
        for (path, expected) in [
            (paths::application(3), (3, "")),
            (paths::application_update(3), (3, action::UPDATE)),
            (paths::application_delete(4), (4, action::DELETE)),
            (paths::application_secret(5), (5, action::SECRET)),
        ] {
            let found = id_and_action(&path, paths::APPLICATIONS);
            assert_eq!(found, Some(expected), "{path}");
        }
        assert_eq!(
            id_and_action(&paths::revoke_token(6), paths::AUTHORIZED_TOKENS),
            Some((6, action::DELETE))
        );
        assert!(matches!(
            admin_target(&paths::admin_user_switch(2, false)),
            Some((AdminTarget::Toggle(Target::User(2)), false))
        ));
        assert!(matches!(
            admin_target(&paths::admin_user_switch(2, true)),
            Some((AdminTarget::Toggle(Target::User(2)), true))
        ));
        assert!(matches!(
            admin_target(&paths::admin_app_switch(5, true)),
            Some((AdminTarget::Toggle(Target::App(5)), true))
        ));
        assert!(matches!(
            admin_target(&paths::admin_token_revoke(9)),
            Some((AdminTarget::Revoke(9), _))
        ));
    }
}
