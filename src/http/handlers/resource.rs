//! The resource-server half of DOT's tutorials: `/api/hello`, `/users/` and `/groups/`, guarded
//! by bearer tokens with DOT's permission classes; JSON shaped like Django REST Framework's.

use crate::accounts;
use crate::http::App;
use crate::http::bearer;
use crate::http::request::{Params, Req};
use crate::http::response::{HttpError, Resp};
use crate::model::AccessToken;
use crate::oauth::scope::Requirement;
use crate::secret;
use crate::store::NewUser;
use serde_json::json;

/// The scope `/groups/` needs (the DRF tutorial's `required_scopes = ['groups']`).
pub(crate) const GROUPS_SCOPE: &str = "groups";

/// `GET /api/hello`: any valid token.
pub(crate) fn hello(app: &App, req: &Req) -> Result<Resp, HttpError> {
    bearer::authorize(app, req, &Requirement::Authenticated, app.clock.now())?;
    Ok(Resp::text(200, "Hello, OAuth2!"))
}

/// `GET /users/` and `GET /users/<id>/`: TokenHasReadWriteScope (read for GET).
pub(crate) fn read_users(app: &App, req: &Req, only: Option<i64>) -> Result<Resp, HttpError> {
    bearer::authorize(app, req, &Requirement::ReadWrite(vec![]), app.clock.now())?;
    list_or_one(app.store.user_views(only)?, only)
}

/// `POST /users/`: TokenHasReadWriteScope (write) and a token whose user is an admin.
pub(crate) fn create_user(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let now = app.clock.now();
    let token = bearer::authorize(app, req, &Requirement::ReadWrite(vec![]), now)?;
    require_admin(&token)?;
    let params = api_params(req)?;
    let username = required(&params, "username")?;
    let email = params.get("email").unwrap_or("");
    // The DRF tutorial's serializer sets no password rule; the account rules of the CLI and
    // the admin page hold here too.
    if let Some((field, message)) = accounts::check_new_user(username, email, "").0.first() {
        return Err(field_error(field, message));
    }
    let password = required(&params, "password")?;
    if let Some(problem) = accounts::password_problem(password) {
        return Err(field_error("password", &problem));
    }
    let hash = secret::hash_password(password)?;
    // The address is the API caller's word, not an administrator's: unverified.
    let new = NewUser {
        username,
        email,
        email_verified: false,
        name: "",
        password_hash: &hash,
        is_admin: false,
    };
    let id = app
        .store
        .create_user(&new, now)?
        .ok_or_else(|| field_error("username", "A user with that username already exists."))?;
    let created = app.store.user_views(Some(id))?;
    created
        .first()
        .map(|u| Resp::json(201, u))
        .ok_or_else(not_found)
}

/// `GET /groups/` and `GET /groups/<id>/`: TokenHasScope(groups).
pub(crate) fn read_groups(app: &App, req: &Req, only: Option<i64>) -> Result<Resp, HttpError> {
    bearer::authorize(app, req, &groups_requirement(), app.clock.now())?;
    let groups: Vec<_> = app
        .store
        .groups(only)?
        .into_iter()
        .map(|g| json!({ "id": g.id, "name": g.name }))
        .collect();
    list_or_one(groups, only)
}

/// DRF's list view (`only` is `None`) or detail view (the one item, or 404).
fn list_or_one<T: serde::Serialize>(items: Vec<T>, only: Option<i64>) -> Result<Resp, HttpError> {
    match only {
        None => Ok(Resp::json(200, &items)),
        Some(_) => items
            .first()
            .map(|item| Resp::json(200, item))
            .ok_or_else(not_found),
    }
}

/// `POST /groups/`: TokenHasScope(groups) and a token whose user is an admin.
pub(crate) fn create_group(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let token = bearer::authorize(app, req, &groups_requirement(), app.clock.now())?;
    require_admin(&token)?;
    let params = api_params(req)?;
    let name = required(&params, "name")?;
    if name.chars().count() > 150 {
        return Err(field_error(
            "name",
            "Ensure this field has no more than 150 characters.",
        ));
    }
    let id = app
        .store
        .create_group(name)?
        .ok_or_else(|| field_error("name", "group with this name already exists."))?;
    Ok(Resp::json(201, &json!({ "id": id, "name": name })))
}

/// A CORS preflight or capability query: answered without authentication.
pub(crate) fn options(allow: &'static str) -> Resp {
    Resp::empty(200).with_header("Allow", allow)
}

fn groups_requirement() -> Requirement {
    Requirement::HasScope(vec![GROUPS_SCOPE.into()])
}

fn require_admin(token: &AccessToken) -> Result<(), HttpError> {
    if token.user_is_admin {
        Ok(())
    } else {
        Err(HttpError::Api(
            403,
            "You do not have permission to perform this action.".into(),
        ))
    }
}

fn api_params(req: &Req) -> Result<Params, HttpError> {
    req.params(true).map_err(HttpError::api_request)
}

fn required<'a>(params: &'a Params, field: &str) -> Result<&'a str, HttpError> {
    params
        .get(field)
        .ok_or_else(|| field_error(field, "This field is required."))
}

/// DRF's validation error shape: `{"field": ["message"]}` with 400.
fn field_error(field: &str, message: &str) -> HttpError {
    HttpError::Fields(json!({ field: [message] }))
}

fn not_found() -> HttpError {
    HttpError::Api(404, "Not found.".into())
}
