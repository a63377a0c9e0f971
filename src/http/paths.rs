//! Every path the server answers or links to (DOT's, so its tutorials carry over). The route
//! table, the pages' links and forms, the redirects and the metadata documents all read them
//! here; the paths that carry an id (an application's or a grant's public id, a user's row id)
//! are built by the functions below from the same prefixes and [`action`] segments the route
//! table parses, so a link and its route cannot drift apart.

// The OAuth 2.0 endpoints.

/// The authorization endpoint (RFC 6749 §3.1): the consent page and its decision.
pub const AUTHORIZE: &str = "/o/authorize/";
/// The token endpoint (RFC 6749 §3.2).
pub const TOKEN: &str = "/o/token/";
/// The revocation endpoint (RFC 7009).
pub(crate) const REVOKE_TOKEN: &str = "/o/revoke_token/";
/// The revocation endpoint under its hyphenated name, which DOT also answers.
pub(crate) const REVOKE_TOKEN_HYPHEN: &str = "/o/revoke-token/";
/// The introspection endpoint (RFC 7662).
pub const INTROSPECT: &str = "/o/introspect/";
/// The client registration endpoint (RFC 7591 §3), when the `registration` setting is on;
/// not the pages' [`REGISTER`], where a signed-in user registers an app by hand.
pub const CLIENT_REGISTRATION: &str = "/o/register/";
/// The device authorization endpoint (RFC 8628 §3.1; DOT's `device-authorization`).
pub const DEVICE_AUTHORIZATION: &str = "/o/device-authorization/";
/// The verification URI (RFC 8628 §3.3; DOT's `device`): the user types the user code here.
pub const DEVICE: &str = "/o/device/";
/// The query parameter of the verification URI that carries the user code (RFC 8628 §3.3.1),
/// and the name of the form field the user types it into.
pub const USER_CODE: &str = "user_code";

// OpenID Connect and server metadata: the routes serve them and the discovery document
// names them.

/// OpenID Connect Discovery 1.0 §4: the provider's configuration for an issuer at the root.
pub(crate) const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
/// DOT's path for the same configuration (`oidc-connect-discovery-info`), with its trailing
/// slash.
pub(crate) const DOT_OPENID_CONFIGURATION: &str = "/o/.well-known/openid-configuration/";
/// RFC 8414 §3: the authorization server's metadata.
pub(crate) const OAUTH_AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
/// The public signing keys as a JWK Set (RFC 7517 §5; DOT's `jwks-info`).
pub const JWKS: &str = "/o/.well-known/jwks.json";
/// The UserInfo endpoint (OpenID Connect Core 1.0 §5.3; DOT's `user-info`).
pub(crate) const USERINFO: &str = "/o/userinfo/";
/// RP-Initiated Logout 1.0: a client sends the user here to end their session (DOT's
/// `rp-initiated-logout`).
pub(crate) const RP_INITIATED_LOGOUT: &str = "/o/logout/";

// Django's accounts pages and the site.

/// The signed-in home page; where a `next` that is not a local path leads.
pub(crate) const HOME: &str = "/";
/// The login page; pages send anonymous users here with `next=`.
pub const LOGIN: &str = "/accounts/login/";
/// Logging out (POST); it leads back to [`LOGIN`].
pub(crate) const LOGOUT: &str = "/accounts/logout/";
/// A signed-in user changes their own password (Django's `password_change`).
pub const PASSWORD_CHANGE: &str = "/accounts/password_change/";
/// Where a changed password lands (POST-redirect-GET), Django's `password_change_done`.
pub const PASSWORD_CHANGE_DONE: &str = "/accounts/password_change/done/";
/// oauthd's stylesheet.
pub(crate) const STYLESHEET: &str = "/static/oauthd.css";
/// A deployment's `custom_css`, linked after oauthd's stylesheet.
pub(crate) const CUSTOM_STYLESHEET: &str = "/static/custom.css";
/// Liveness for load balancers and supervisors.
pub(crate) const HEALTH: &str = "/health";
/// The Prometheus metrics, when the `metrics` setting is on.
pub(crate) const METRICS: &str = "/metrics";

// The self-service pages (DOT's application and granted-token views) and the admin.

/// The user's applications; `<id>/` below it is one app's page, `<id>/<action>/` its actions.
pub(crate) const APPLICATIONS: &str = "/o/applications/";
/// Registering an application.
pub const REGISTER: &str = "/o/applications/register/";
/// The tokens the user granted; `<id>/delete/` below it revokes one.
pub(crate) const AUTHORIZED_TOKENS: &str = "/o/authorized_tokens/";
/// The granted tokens under the hyphenated name, which DOT also answers.
pub(crate) const AUTHORIZED_TOKENS_HYPHEN: &str = "/o/authorized-tokens/";
/// The decisions a user asked to be remembered; `<id>/delete/` below it forgets one.
pub(crate) const REMEMBERED_CONSENTS: &str = "/o/authorized_tokens/remembered/";
/// The admin page.
pub const ADMIN: &str = "/o/admin/";
/// The "make a user" form posts here; `<id>/enable/`, `<id>/disable/` and `<id>/password/`
/// below it.
pub(crate) const ADMIN_USERS: &str = "/o/admin/users/";
/// `<id>/enable/` and `<id>/disable/` below it: the administrator's switch of an app.
pub(crate) const ADMIN_APPS: &str = "/o/admin/apps/";
/// `<id>/revoke/` below it: the confirmation (GET) and revocation (POST) of anyone's token.
pub(crate) const ADMIN_TOKENS: &str = "/o/admin/tokens/";

// The resource API of DOT's DRF tutorial.

/// The API's greeting for any valid token.
pub(crate) const API_HELLO: &str = "/api/hello";
/// The users; `<id>/` below it is one user.
pub(crate) const USERS: &str = "/users/";
/// The groups; `<id>/` below it is one group.
pub(crate) const GROUPS: &str = "/groups/";

/// The last segment of a path that carries an id: what it does to the row.
pub mod action {
    /// An application's update form.
    pub(crate) const UPDATE: &str = "update";
    /// An application's delete confirmation, a granted token's revoke confirmation, or a
    /// remembered decision's forget confirmation.
    pub const DELETE: &str = "delete";
    /// A new secret for an application, and the page that shows it once.
    pub(crate) const SECRET: &str = "secret";
    /// The admin enables a user or an app.
    pub(crate) const ENABLE: &str = "enable";
    /// The admin disables a user or an app.
    pub(crate) const DISABLE: &str = "disable";
    /// The admin revokes a token.
    pub const REVOKE: &str = "revoke";
    /// The admin sets a user's password.
    pub const PASSWORD: &str = "password";
}

/// An application's page.
pub fn application(id: &str) -> String {
    format!("{APPLICATIONS}{id}/")
}

/// An application's update form.
pub(crate) fn application_update(id: &str) -> String {
    with_id(APPLICATIONS, id, action::UPDATE)
}

/// An application's delete confirmation (GET) and deletion (POST).
pub(crate) fn application_delete(id: &str) -> String {
    with_id(APPLICATIONS, id, action::DELETE)
}

/// A new secret for an application (POST); with a handle, the page that shows it once (GET).
pub(crate) fn application_secret(id: &str) -> String {
    with_id(APPLICATIONS, id, action::SECRET)
}

/// The page that shows, once, the secret kept under `handle` (POST-redirect-GET).
pub(crate) fn application_secret_shown(id: &str, handle: &str) -> String {
    format!("{}?{SECRET_HANDLE}={handle}", application_secret(id))
}

/// The query parameter of [`application_secret_shown`].
pub(crate) const SECRET_HANDLE: &str = "handle";

/// A granted token's revoke confirmation (GET) and revocation (POST).
pub fn revoke_token(id: &str) -> String {
    with_id(AUTHORIZED_TOKENS, id, action::DELETE)
}

/// A remembered decision's forget confirmation (GET) and forgetting (POST).
pub(crate) fn forget_consent(id: i64) -> String {
    with_id(REMEMBERED_CONSENTS, id, action::DELETE)
}

/// The admin enables (`enable`) or disables a user (POST), named by subject: a row id can
/// pass to a newer user after a removal, so a stale page would act on them.
pub(crate) fn admin_user_switch(subject: &str, enable: bool) -> String {
    with_id(ADMIN_USERS, subject, switch(enable))
}

/// The admin sets a user's password (POST), named by subject.
pub(crate) fn admin_user_password(subject: &str) -> String {
    with_id(ADMIN_USERS, subject, action::PASSWORD)
}

/// The admin enables (`enable`) or disables an app (POST).
pub(crate) fn admin_app_switch(id: &str, enable: bool) -> String {
    with_id(ADMIN_APPS, id, switch(enable))
}

/// The admin's confirmation (GET) and revocation (POST) of a token.
pub(crate) fn admin_token_revoke(id: &str) -> String {
    with_id(ADMIN_TOKENS, id, action::REVOKE)
}

fn switch(enable: bool) -> &'static str {
    if enable {
        action::ENABLE
    } else {
        action::DISABLE
    }
}

/// `{prefix}<id>/<action>/`.
fn with_id(prefix: &str, id: impl std::fmt::Display, action: &str) -> String {
    format!("{prefix}{id}/{action}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_below_a_prefix_start_with_it() {
        assert!(REGISTER.starts_with(APPLICATIONS));
        for below in [ADMIN_USERS, ADMIN_APPS, ADMIN_TOKENS] {
            assert!(below.starts_with(ADMIN), "{below}");
        }
        assert_eq!(application("7f"), "/o/applications/7f/");
        assert_eq!(admin_app_switch("7f", false), "/o/admin/apps/7f/disable/");
        assert_eq!(admin_user_switch("7f", true), "/o/admin/users/7f/enable/");
    }
}
