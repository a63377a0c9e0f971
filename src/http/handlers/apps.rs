//! `/o/applications/...`: DOT's application views for the signed-in user's own apps. Someone
//! else's app answers 404, as one that does not exist.

use crate::clock::now;
use crate::http::App;
use crate::http::request::{Params, Req};
use crate::http::response::{HttpError, Resp};
use crate::http::session::{self, SignedIn};
use crate::model::FieldErrors;
use crate::model::{Application, ClientType};
use crate::oauth::registration::{self, AppForm, Rules};
use crate::pages::{self, AppFormPage, paths};
use crate::secret;
use crate::store::NewApplication;

/// The checkbox groups of the application form.
const LISTS: [&str; 2] = ["grant_types", "allowed_scopes"];

/// `GET /o/applications/`.
pub fn list(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let apps = app.store.list_apps(Some(user.user.id))?;
    let frame = user.frame(&app.settings);
    Ok(Resp::page(200, pages::apps_list(&frame, &apps)))
}

/// `GET /o/applications/register/`: an empty form (confidential, every scope, enabled).
pub fn register_page(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let blank = AppForm {
        client_type: ClientType::Confidential.as_str(),
        enabled: true,
        ..AppForm::default()
    };
    Ok(form_page(app, &user, None, &blank, &FieldErrors::default()))
}

/// `POST /o/applications/register/`: checks the form (errors re-render it, 400, input kept);
/// stores the app with a new client_id and secret, and shows the secret once.
pub fn register(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let (user, params) = session::signed_in_form(app, req, &LISTS)?;
    let form = read_form(&params, user.user.is_admin, false);
    let fields = match registration::validate(&form, &Rules::of(&app.settings)) {
        Ok(fields) => fields,
        Err(errors) => return Ok(form_page(app, &user, None, &form, &errors)),
    };
    let (client_id, client_secret) =
        secret::new_client_credentials(fields.client_type, app.settings.client_secret_length)?;
    let id = app.store.create_app(
        &NewApplication {
            client_id: client_id.expose().to_owned(),
            secret_digest: client_secret.as_ref().map(secret::Secret::digest),
            owner_id: Some(user.user.id),
            fields,
        },
        now(),
    )?;
    show_secret(app, &user, id, client_secret.as_ref())
}

/// `GET /o/applications/<id>/`.
pub fn detail(app: &App, req: &Req, id: i64) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let found = owned_app(app, &user, id)?;
    let frame = user.frame(&app.settings);
    Ok(Resp::page(200, pages::app_detail(&frame, &found, None)))
}

/// `GET /o/applications/<id>/update/`: the form with the app's values.
pub fn update_page(app: &App, req: &Req, id: i64) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let found = owned_app(app, &user, id)?;
    let uris = found.fields.redirect_uris.join("\n");
    let form = AppForm {
        name: &found.fields.name,
        client_type: found.fields.client_type.as_str(),
        grant_types: found
            .fields
            .grant_types
            .iter()
            .map(|g| g.as_str())
            .collect(),
        redirect_uris: &uris,
        allowed_scopes: found
            .fields
            .allowed_scopes
            .as_ref()
            .map(|scopes| scopes.iter().collect()),
        skip_authorization: found.fields.skip_authorization,
        enabled: found.fields.enabled,
    };
    Ok(form_page(
        app,
        &user,
        Some(&found),
        &form,
        &FieldErrors::default(),
    ))
}

/// `POST /o/applications/<id>/update/`: saves the changes. skip_authorization changes only
/// for an administrator. Turning public drops the secret; turning confidential makes one,
/// shown once.
pub fn update(app: &App, req: &Req, id: i64) -> Result<Resp, HttpError> {
    let (user, params) = session::signed_in_form(app, req, &LISTS)?;
    let found = owned_app(app, &user, id)?;
    let form = read_form(&params, user.user.is_admin, found.fields.skip_authorization);
    let fields = match registration::validate(&form, &Rules::of(&app.settings)) {
        Ok(fields) => fields,
        Err(errors) => return Ok(form_page(app, &user, Some(&found), &form, &errors)),
    };
    let new_secret = match (found.fields.client_type, fields.client_type) {
        (ClientType::Public, ClientType::Confidential) => {
            Some(secret::random_secret(app.settings.client_secret_length)?)
        }
        _ => None,
    };
    app.store.immediate(|store| {
        store.update_app(id, &fields)?;
        match fields.client_type {
            ClientType::Public => store.set_app_secret(id, None),
            ClientType::Confidential => match &new_secret {
                Some(secret) => store.set_app_secret(id, Some(&secret.digest())),
                None => Ok(()),
            },
        }
    })?;
    match new_secret {
        Some(secret) => show_secret(app, &user, id, Some(&secret)),
        None => Ok(Resp::redirect(&paths::application(id))),
    }
}

/// `POST /o/applications/<id>/secret/`: a new secret for a confidential app, shown once; the
/// old one stops working at once.
pub fn regenerate_secret(app: &App, req: &Req, id: i64) -> Result<Resp, HttpError> {
    let (user, _) = session::signed_in_form(app, req, &[])?;
    let found = owned_app(app, &user, id)?;
    if found.fields.client_type == ClientType::Public {
        return Err(HttpError::Page {
            status: 400,
            title: "Bad request",
            message: "A public client has no secret.".into(),
        });
    }
    let secret = secret::random_secret(app.settings.client_secret_length)?;
    app.store.set_app_secret(id, Some(&secret.digest()))?;
    show_secret(app, &user, id, Some(&secret))
}

/// `GET /o/applications/<id>/delete/`: the confirmation.
pub fn delete_page(app: &App, req: &Req, id: i64) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let found = owned_app(app, &user, id)?;
    let frame = user.frame(&app.settings);
    Ok(Resp::page(200, pages::confirm_delete_app(&frame, &found)))
}

/// `POST /o/applications/<id>/delete/`: deletes the app with its tokens and codes.
pub fn delete(app: &App, req: &Req, id: i64) -> Result<Resp, HttpError> {
    let (user, _) = session::signed_in_form(app, req, &[])?;
    owned_app(app, &user, id)?;
    app.store.delete_app(id)?;
    Ok(Resp::redirect(paths::APPLICATIONS))
}

/// The app `id` if `user` owns it; otherwise 404, whether or not it exists.
fn owned_app(app: &App, user: &SignedIn, id: i64) -> Result<Application, HttpError> {
    app.store
        .find_app(id)?
        .filter(|found| found.owner_id == Some(user.user.id))
        .ok_or_else(not_found)
}

/// The 404 page of every object the user may not see.
pub fn not_found() -> HttpError {
    HttpError::Page {
        status: 404,
        title: "Not found",
        message: "There is nothing here, or it is not yours.".into(),
    }
}

/// The form as posted. skip_authorization is read only from an administrator; anyone else
/// keeps `kept_skip`.
fn read_form(params: &Params, is_admin: bool, kept_skip: bool) -> AppForm<'_> {
    AppForm {
        name: params.get("name").unwrap_or(""),
        client_type: params.get("client_type").unwrap_or(""),
        grant_types: params.all("grant_types"),
        redirect_uris: params.get("redirect_uris").unwrap_or(""),
        allowed_scopes: Some(params.all("allowed_scopes")),
        skip_authorization: if is_admin {
            params.get("skip_authorization").is_some()
        } else {
            kept_skip
        },
        enabled: params.get("enabled").is_some(),
    }
}

/// The register form (`editing` is `None`) or an app's update form; 400 when it has errors.
fn form_page(
    app: &App,
    user: &SignedIn,
    editing: Option<&Application>,
    form: &AppForm<'_>,
    errors: &FieldErrors,
) -> Resp {
    let (title, action, cancel) = match editing {
        None => (
            "Register a new application".to_owned(),
            paths::REGISTER.to_owned(),
            paths::APPLICATIONS.to_owned(),
        ),
        Some(found) => (
            format!("Edit {}", found.fields.name),
            paths::application_action(found.id, "update"),
            paths::application(found.id),
        ),
    };
    let page = AppFormPage {
        title: &title,
        action: &action,
        cancel: &cancel,
        form,
        errors,
        scopes: &app.settings.scopes,
        may_skip_authorization: user.user.is_admin,
        disabled_by_admin: editing.is_some_and(|found| found.disabled_by_admin),
    };
    let status = if errors.0.is_empty() { 200 } else { 400 };
    Resp::page(status, pages::app_form(&user.frame(&app.settings), &page))
}

/// The app's page with a secret that was just made (if any): the one time it is shown.
fn show_secret(
    app: &App,
    user: &SignedIn,
    id: i64,
    secret: Option<&secret::Secret>,
) -> Result<Resp, HttpError> {
    let found = owned_app(app, user, id)?;
    let frame = user.frame(&app.settings);
    let shown = secret.map(secret::Secret::expose);
    Ok(Resp::page(200, pages::app_detail(&frame, &found, shown)))
}
