//! THE route table: one match on (method, path). DOT's paths, so its tutorials carry over.

use crate::http::App;
use crate::http::handlers::admin::{self, Target};
use crate::http::handlers::{
    accounts, apps, authorize, client_registration, device, device_page, discovery, introspect,
    logout, metrics, password_change, resource, revoke, token, tokens, userinfo,
};
use crate::http::paths::{self, action};
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp};
use crate::pages::STYLESHEET;
use std::borrow::Cow;

/// Dispatches a request to its handler.
pub fn route(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let method = req.method.as_str();
    let path = req.path.as_str();
    match (method, path) {
        ("POST", paths::TOKEN) => token::token(app, req),
        ("POST", paths::REVOKE_TOKEN | paths::REVOKE_TOKEN_HYPHEN) => revoke::revoke(app, req),
        ("POST", paths::INTROSPECT) => introspect::introspect(app, req),
        ("POST", paths::DEVICE_AUTHORIZATION) => device::device_authorization(app, req),
        (
            _,
            paths::TOKEN
            | paths::REVOKE_TOKEN
            | paths::REVOKE_TOKEN_HYPHEN
            | paths::INTROSPECT
            | paths::DEVICE_AUTHORIZATION,
        ) => Err(HttpError::OAuthMethodNotAllowed("POST")),
        // Turned off, the registration endpoint is a path like any unknown one.
        ("POST", paths::CLIENT_REGISTRATION) if client_registration::is_on(app) => {
            client_registration::register(app, req)
        }
        (_, paths::CLIENT_REGISTRATION) if client_registration::is_on(app) => {
            Err(HttpError::OAuthMethodNotAllowed("POST"))
        }

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
        ("GET" | "HEAD", paths::DEVICE) => device_page::page(app, req),
        ("POST", paths::DEVICE) => device_page::submit(app, req),
        (_, paths::DEVICE) => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
        ("GET" | "HEAD", paths::HOME) => accounts::home(app, req),
        ("GET" | "HEAD", paths::LOGIN) => accounts::login_page(app, req),
        ("POST", paths::LOGIN) => accounts::login(app, req),
        ("POST", paths::LOGOUT) => accounts::logout(app, req),
        (_, paths::LOGIN) => Err(HttpError::PageMethodNotAllowed("GET, HEAD, POST")),
        (_, paths::LOGOUT) => Err(HttpError::PageMethodNotAllowed("POST")),
        ("GET" | "HEAD", paths::PASSWORD_CHANGE) => password_change::page(app, req),
        ("POST", paths::PASSWORD_CHANGE) => password_change::change(app, req),
        (_, paths::PASSWORD_CHANGE) => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
        ("GET" | "HEAD", paths::PASSWORD_CHANGE_DONE) => password_change::done(app, req),
        (_, paths::PASSWORD_CHANGE_DONE) => Err(HttpError::PageMethodNotAllowed(PAGE)),
        ("GET" | "HEAD", paths::STYLESHEET) => Ok(accounts::stylesheet(STYLESHEET)),
        ("GET" | "HEAD", paths::CUSTOM_STYLESHEET) => match &app.settings.custom_css {
            Some(css) => Ok(accounts::stylesheet(css)),
            None => Ok(Resp::text(404, "No custom stylesheet is configured.")),
        },
        // Liveness for load balancers and supervisors; touches nothing, so it is also the
        // benchmark's ceiling (the stack's cost with no work).
        ("GET" | "HEAD", paths::HEALTH) => Ok(Resp::text(200, "ok")),
        (_, paths::HEALTH) => Err(HttpError::MethodNotAllowed("GET, HEAD")),
        // Turned off, `/metrics` is a path like any unknown one (a browser gets the page).
        ("GET" | "HEAD", paths::METRICS) if app.settings.metrics => metrics::metrics(app),
        (_, paths::METRICS) if app.settings.metrics => {
            Err(HttpError::MethodNotAllowed("GET, HEAD"))
        }

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

/// The paths that carry an id: the pages of one app or token (their public ids), the admin's
/// actions (users by subject), and the API's `/users/<id>/` and `/groups/<id>/` (row ids).
fn route_by_id(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let path = req.path.as_str();
    let method = req.method.as_str();
    if let Some((id, segment)) = public_id_and_action(path, paths::APPLICATIONS) {
        return match (method, segment) {
            ("GET" | "HEAD", "") => apps::detail(app, req, id),
            ("GET" | "HEAD", action::UPDATE) => apps::update_page(app, req, id),
            ("POST", action::UPDATE) => apps::update(app, req, id),
            ("GET" | "HEAD", action::DELETE) => apps::delete_page(app, req, id),
            ("POST", action::DELETE) => apps::delete(app, req, id),
            ("GET", action::SECRET) => apps::secret_page(app, req, id),
            ("POST", action::SECRET) => apps::regenerate_secret(app, req, id),
            (_, "") => Err(HttpError::PageMethodNotAllowed(PAGE)),
            (_, action::UPDATE | action::DELETE) => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
            (_, action::SECRET) => Err(HttpError::PageMethodNotAllowed("GET, POST")),
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
    let token_page = public_id_and_action(path, paths::AUTHORIZED_TOKENS)
        .or_else(|| public_id_and_action(path, paths::AUTHORIZED_TOKENS_HYPHEN));
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
            ("GET" | "HEAD", (AdminTarget::Revoke(id), _)) => admin::revoke_page(app, req, id),
            ("POST", (AdminTarget::Revoke(id), _)) => admin::revoke(app, req, id),
            ("POST", (AdminTarget::Password(id), _)) => admin::set_password(app, req, id),
            (_, (AdminTarget::Revoke(_), _)) => Err(HttpError::PageMethodNotAllowed(PAGE_FORM)),
            _ => Err(HttpError::PageMethodNotAllowed("POST")),
        };
    }
    if PAGE_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        return Err(HttpError::not_found());
    }
    route_items(app, req)
}

/// What an admin action path names.
enum AdminTarget<'a> {
    Toggle(Target<'a>),
    Revoke(&'a str),
    /// A user's new password, by subject.
    Password(&'a str),
}

/// `/o/admin/users/<subject>/enable/` and the like; the bool is "enable".
fn admin_target(path: &str) -> Option<(AdminTarget<'_>, bool)> {
    let toggle = |segment: &str| match segment {
        action::ENABLE => Some(true),
        action::DISABLE => Some(false),
        _ => None,
    };
    if let Some((id, segment)) = public_id_and_action(path, paths::ADMIN_USERS) {
        if segment == action::PASSWORD {
            return Some((AdminTarget::Password(id), false));
        }
        return Some((AdminTarget::Toggle(Target::User(id)), toggle(segment)?));
    }
    if let Some((id, segment)) = public_id_and_action(path, paths::ADMIN_APPS) {
        return Some((AdminTarget::Toggle(Target::App(id)), toggle(segment)?));
    }
    match public_id_and_action(path, paths::ADMIN_TOKENS)? {
        (id, action::REVOKE) => Some((AdminTarget::Revoke(id), false)),
        _ => None,
    }
}

/// Splits `{prefix}<id>/` into (id, "") and `{prefix}<id>/<action>/` into (id, action).
fn segment_and_action<'a>(path: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = path.strip_prefix(prefix)?.strip_suffix('/')?;
    let (segment, action) = rest.split_once('/').unwrap_or((rest, ""));
    (!action.contains('/')).then_some((segment, action))
}

/// [`segment_and_action`] with a row id (users, groups).
fn id_and_action<'a>(path: &'a str, prefix: &str) -> Option<(i64, &'a str)> {
    let (segment, action) = segment_and_action(path, prefix)?;
    Some((parse_id(segment)?, action))
}

/// [`segment_and_action`] with a public id (applications, grants) or a user's subject.
fn public_id_and_action<'a>(path: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    segment_and_action(path, prefix).filter(|(segment, _)| is_public_id(segment))
}

/// The form of the public ids and subjects that schema.sql makes: 32 lowercase hex digits
/// (an application's or grant's row id and salt; a user's 16 random bytes).
fn is_public_id(segment: &str) -> bool {
    segment.len() == 32
        && segment
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Only the canonical spelling of a positive id: no sign, no leading zeros.
fn parse_id(segment: &str) -> Option<i64> {
    segment
        .parse()
        .ok()
        .filter(|id: &i64| *id > 0 && id.to_string() == segment)
}

/// The paths the route table answers as they are, for [`route_pattern`].
const FIXED_PATHS: [&str; 32] = [
    paths::AUTHORIZE,
    paths::TOKEN,
    paths::REVOKE_TOKEN,
    paths::REVOKE_TOKEN_HYPHEN,
    paths::INTROSPECT,
    paths::CLIENT_REGISTRATION,
    paths::DEVICE_AUTHORIZATION,
    paths::DEVICE,
    paths::OPENID_CONFIGURATION,
    paths::DOT_OPENID_CONFIGURATION,
    paths::OAUTH_AUTHORIZATION_SERVER,
    paths::JWKS,
    paths::USERINFO,
    paths::RP_INITIATED_LOGOUT,
    paths::HOME,
    paths::LOGIN,
    paths::LOGOUT,
    paths::PASSWORD_CHANGE,
    paths::PASSWORD_CHANGE_DONE,
    paths::STYLESHEET,
    paths::CUSTOM_STYLESHEET,
    paths::HEALTH,
    paths::METRICS,
    paths::APPLICATIONS,
    paths::REGISTER,
    paths::AUTHORIZED_TOKENS,
    paths::AUTHORIZED_TOKENS_HYPHEN,
    paths::ADMIN,
    paths::ADMIN_USERS,
    paths::API_HELLO,
    paths::USERS,
    paths::GROUPS,
];
/// The prefixes of the paths that carry an id.
const ID_PREFIXES: [&str; 9] = [
    paths::REMEMBERED_CONSENTS,
    paths::APPLICATIONS,
    paths::AUTHORIZED_TOKENS,
    paths::AUTHORIZED_TOKENS_HYPHEN,
    paths::ADMIN_USERS,
    paths::ADMIN_APPS,
    paths::ADMIN_TOKENS,
    paths::USERS,
    paths::GROUPS,
];
/// The last segments of those paths.
const ACTIONS: [&str; 7] = [
    action::UPDATE,
    action::DELETE,
    action::SECRET,
    action::ENABLE,
    action::DISABLE,
    action::REVOKE,
    action::PASSWORD,
];

/// A request's route for the metrics: a path of the table as it is, a path with an id as
/// its pattern (`/o/applications/<id>/update/`), anything else `other` — so that the labels
/// stay few whatever clients send.
pub(crate) fn route_pattern(path: &str) -> Cow<'static, str> {
    if let Some(fixed) = FIXED_PATHS.iter().find(|p| **p == path) {
        return Cow::Borrowed(fixed);
    }
    for prefix in ID_PREFIXES {
        let Some((id, segment)) = segment_and_action(path, prefix) else {
            continue;
        };
        if parse_id(id).is_none() && !is_public_id(id) {
            continue;
        }
        match segment {
            "" => return Cow::Owned(format!("{prefix}<id>/")),
            segment if ACTIONS.contains(&segment) => {
                return Cow::Owned(format!("{prefix}<id>/{segment}/"));
            }
            _ => {}
        }
    }
    Cow::Borrowed("other")
}

/// The methods of `/api/hello` and of one user or group.
pub(crate) const READ_ONLY: &str = "GET, HEAD, OPTIONS";
/// The methods of `/users/` and `/groups/`.
pub(crate) const COLLECTION: &str = "GET, POST, HEAD, OPTIONS";

/// `/users/<id>/` and `/groups/<id>/`.
fn route_items(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let Some((collection, id)) = item_path(&req.path) else {
        return Err(unknown_path(req));
    };
    match (req.method.as_str(), collection) {
        ("OPTIONS", _) => Ok(resource::options(READ_ONLY)),
        ("GET" | "HEAD", paths::USERS) => resource::read_users(app, req, Some(id)),
        ("GET" | "HEAD", _) => resource::read_groups(app, req, Some(id)),
        _ => Err(HttpError::MethodNotAllowed(READ_ONLY)),
    }
}

/// A path nothing answers: a browser gets the HTML 404 page, anyone else DRF's JSON.
fn unknown_path(req: &Req) -> HttpError {
    if req.prefers_html {
        HttpError::not_found()
    } else {
        HttpError::Api(404, "Not found.".into())
    }
}

/// Whether `path` is one user's or group's, `/users/42/`.
pub(crate) fn is_item_path(path: &str) -> bool {
    item_path(path).is_some()
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
        assert_eq!(item_path(&paths::application(PUBLIC)), None);
    }

    /// A public id as schema.sql makes them.
    const PUBLIC: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn ids_and_actions() {
        let apps = paths::APPLICATIONS;
        for bad in [
            "",
            "3",
            "3/",
            "03/",
            "-3/",
            "x/",
            "0123456789ABCDEF0123456789ABCDEF/",
            "0123456789abcdef0123456789abcdef0/",
            "0123456789abcdef0123456789abcde/",
            "0123456789abcdef0123456789abcdeg/",
            "0123456789abcdef0123456789abcdef/update",
            "0123456789abcdef0123456789abcdef/a/b/",
        ] {
            let path = format!("{apps}{bad}");
            assert_eq!(public_id_and_action(&path, apps), None, "{path}");
        }
        for bad in ["3", "03/", "-3/", "x/", "3/a/b/", "99999999999999999999/"] {
            let path = format!("{}{bad}", paths::REMEMBERED_CONSENTS);
            assert_eq!(
                id_and_action(&path, paths::REMEMBERED_CONSENTS),
                None,
                "{path}"
            );
        }
        for bad in [
            // Users are named by subject, never by a row id a newer user may get.
            format!("{}2/disable/", paths::ADMIN_USERS),
            format!("{}2/password/", paths::ADMIN_USERS),
            format!("{}{PUBLIC}/", paths::ADMIN_USERS),
            format!("{}2/", paths::ADMIN_USERS),
            format!("{}2/drop/", paths::ADMIN_USERS),
            format!("{}2/password/x/", paths::ADMIN_USERS),
            format!("{}9/revoke/", paths::ADMIN_TOKENS),
            format!("{}{PUBLIC}/", paths::ADMIN_TOKENS),
            format!("{}3/disable/", paths::ADMIN_APPS),
        ] {
            assert!(admin_target(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn route_patterns_hide_ids_and_unknown_paths() {
        assert_eq!(route_pattern(paths::TOKEN), paths::TOKEN);
        assert_eq!(route_pattern(paths::REGISTER), paths::REGISTER);
        assert_eq!(route_pattern(paths::DEVICE), paths::DEVICE);
        assert_eq!(
            route_pattern(paths::DEVICE_AUTHORIZATION),
            paths::DEVICE_AUTHORIZATION
        );
        assert_eq!(
            route_pattern(paths::CLIENT_REGISTRATION),
            paths::CLIENT_REGISTRATION
        );
        assert_eq!(
            route_pattern(&paths::application_update(PUBLIC)),
            "/o/applications/<id>/update/"
        );
        assert_eq!(
            route_pattern(&paths::admin_token_revoke(PUBLIC)),
            "/o/admin/tokens/<id>/revoke/"
        );
        assert_eq!(route_pattern("/users/7/"), "/users/<id>/");
        assert_eq!(
            route_pattern(&paths::forget_consent(3)),
            "/o/authorized_tokens/remembered/<id>/delete/"
        );
        assert_eq!(
            route_pattern(&paths::admin_user_password(PUBLIC)),
            "/o/admin/users/<id>/password/"
        );
        for unknown in ["/o/applications/3/frob/", "/wp-admin.php", "/o/token", "-"] {
            assert_eq!(route_pattern(unknown), "other", "{unknown}");
        }
    }

    /// Every link `paths` builds reaches the route that serves it.
    #[test]
    fn built_paths_route_back() {
        for (path, expected) in [
            (paths::application(PUBLIC), (PUBLIC, "")),
            (paths::application_update(PUBLIC), (PUBLIC, action::UPDATE)),
            (paths::application_delete(PUBLIC), (PUBLIC, action::DELETE)),
            (paths::application_secret(PUBLIC), (PUBLIC, action::SECRET)),
        ] {
            let found = public_id_and_action(&path, paths::APPLICATIONS);
            assert_eq!(found, Some(expected), "{path}");
        }
        assert_eq!(
            public_id_and_action(&paths::revoke_token(PUBLIC), paths::AUTHORIZED_TOKENS),
            Some((PUBLIC, action::DELETE))
        );
        assert!(matches!(
            admin_target(&paths::admin_user_switch(PUBLIC, false)),
            Some((AdminTarget::Toggle(Target::User(PUBLIC)), false))
        ));
        assert!(matches!(
            admin_target(&paths::admin_user_switch(PUBLIC, true)),
            Some((AdminTarget::Toggle(Target::User(PUBLIC)), true))
        ));
        assert!(matches!(
            admin_target(&paths::admin_app_switch(PUBLIC, true)),
            Some((AdminTarget::Toggle(Target::App(PUBLIC)), true))
        ));
        assert!(matches!(
            admin_target(&paths::admin_token_revoke(PUBLIC)),
            Some((AdminTarget::Revoke(PUBLIC), _))
        ));
        assert!(matches!(
            admin_target(&paths::admin_user_password(PUBLIC)),
            Some((AdminTarget::Password(PUBLIC), _))
        ));
    }
}
