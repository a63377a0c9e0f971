//! `/o/applications/...`: DOT's application views for the signed-in user's own apps; an
//! administrator opens, edits and deletes any app here, including those the CLI made. For
//! anyone else, someone else's app answers 404, as one that does not exist.

use crate::http::App;
use crate::http::handlers::admin;
use crate::http::paths;
use crate::http::request::{Params, Req};
use crate::http::response::{HttpError, Resp, form_status};
use crate::http::secret_handoff::HandoffFor;
use crate::http::session::{self, SignedIn};
use crate::model::FieldErrors;
use crate::model::{AppFields, Application, ClientType, GrantType};
use crate::oauth::registration::{self, AppForm, Rules, SecretChange, UriLines};
use crate::pages::{self, AppFormPage};
use crate::secret;
use crate::store::{NewApplication, Store};

/// The checkbox groups of the application form.
const LISTS: [&str; 2] = ["grant_types", "allowed_scopes"];

/// `GET /o/applications/`.
pub(crate) fn list(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let apps = app.store.list_apps(Some(user.user.id))?;
    let frame = user.frame(&app.settings);
    Ok(Resp::page(200, pages::apps_list(&frame, &apps)))
}

/// `GET /o/applications/register/`: an empty form (confidential, the default scopes, enabled).
pub(crate) fn register_page(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let settings = &app.settings;
    let offered =
        |scope: &&str| user.user.is_admin || !settings.admin_scopes.iter().any(|s| s == scope);
    let blank = AppForm {
        client_type: ClientType::Confidential.as_str(),
        allowed_scopes: Some(
            settings
                .default_scopes
                .iter()
                .map(String::as_str)
                .filter(offered)
                .collect(),
        ),
        enabled: true,
        ..AppForm::default()
    };
    Ok(form_page(app, &user, None, &blank, &FieldErrors::default()))
}

/// `POST /o/applications/register/`: checks the form (errors re-render it, 400, input kept);
/// stores the app with a new client_id and secret, and redirects to the page that shows the
/// secret once (or, for a public client, to the app's page).
pub(crate) fn register(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let (user, params) = session::signed_in_form(app, req, &LISTS)?;
    let form = read_form(&params);
    let fields = match registration::validate(&form, &rules(app, &user, None)) {
        Ok(fields) => fields,
        Err(errors) => return Ok(form_page(app, &user, None, &form, &errors)),
    };
    let (client_id, client_secret) =
        secret::new_client_credentials(fields.client_type, app.settings.client_secret_length)?;
    let new = NewApplication {
        client_id: client_id.expose().to_owned(),
        secret_digest: client_secret.as_ref().map(secret::Secret::digest),
        owner_id: Some(user.user.id),
        fields,
    };
    let now = app.clock.now();
    let id = app.store.immediate(|store| store.create_app(&new, now))?;
    let created = app.store.find_app(id)?.ok_or_else(HttpError::not_found)?;
    after_saving(app, &user, &created, client_secret)
}

/// `GET /o/applications/<id>/`.
pub(crate) fn detail(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let found = editable_app(&app.store, &user, id)?;
    let frame = user.frame(&app.settings);
    Ok(Resp::page(200, pages::app_detail(&frame, &found)))
}

/// `GET /o/applications/<id>/secret/?handle=...`: shows the secret a POST just made, once; a
/// reload (or any later visit) says it was shown and offers a new one. GET only: a HEAD must
/// not use it up.
pub(crate) fn secret_page(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let found = editable_app(&app.store, &user, id)?;
    let query = req.query_params().unwrap_or_default();
    let handle = query.get(paths::SECRET_HANDLE).unwrap_or("");
    let secret = app
        .secret_handoff
        .take(handle, handoff_for(&user, &found), app.clock.now());
    let frame = user.frame(&app.settings);
    let shown = secret.as_ref().map(secret::Secret::expose);
    Ok(Resp::page(200, pages::app_secret(&frame, &found, shown)))
}

/// `GET /o/applications/<id>/update/`: the form with the app's values.
pub(crate) fn update_page(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let found = editable_app(&app.store, &user, id)?;
    let uris = UriLines::of(&found.fields);
    let form = AppForm::showing(&found.fields, &uris);
    Ok(form_page(
        app,
        &user,
        Some(&found),
        &form,
        &FieldErrors::default(),
    ))
}

/// `POST /o/applications/<id>/update/`: saves the changes (the rules say what an owner who is
/// not an administrator may change). Turning public drops the secret; turning confidential
/// makes one, shown once after the redirect. Read, check and write in one transaction.
pub(crate) fn update(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let (user, params) = session::signed_in_form(app, req, &LISTS)?;
    let form = read_form(&params);
    let new_secret = secret::random_secret(app.settings.client_secret_length)?;
    let outcome = app.store.immediate(|store| {
        let found = editable_app(store, &user, id)?;
        let fields = match registration::validate(&form, &rules(app, &user, Some(&found.fields))) {
            Ok(fields) => fields,
            Err(errors) => return Ok(Err((found, errors))),
        };
        let change = SecretChange::of(found.fields.client_type, fields.client_type);
        let now = app.clock.now();
        store.save_app_edit(found.id, &fields, change, &new_secret.digest(), now)?;
        Ok::<_, HttpError>(Ok((found, change)))
    })?;
    if let Ok((found, _)) = &outcome {
        report_if_not_owner(app, req, &user, found, "update_app");
    }
    match outcome {
        Err((found, errors)) => Ok(form_page(app, &user, Some(&found), &form, &errors)),
        Ok((found, SecretChange::Make)) => after_saving(app, &user, &found, Some(new_secret)),
        Ok((found, SecretChange::Keep | SecretChange::Drop)) => {
            after_saving(app, &user, &found, None)
        }
    }
}

/// `POST /o/applications/<id>/secret/`: a new secret for a confidential app, shown once after
/// the redirect; the old one stops working at once.
pub(crate) fn regenerate_secret(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let (user, _) = session::signed_in_form(app, req, &[])?;
    let secret = secret::random_secret(app.settings.client_secret_length)?;
    let found = app.store.immediate(|store| {
        let found = editable_app(store, &user, id)?;
        if found.fields.client_type == ClientType::Public {
            return Err(HttpError::bad_request("A public client has no secret."));
        }
        store.set_app_secret(found.id, Some(&secret.digest()))?;
        Ok(found)
    })?;
    report_if_not_owner(app, req, &user, &found, "regenerate_app_secret");
    after_saving(app, &user, &found, Some(secret))
}

/// `GET /o/applications/<id>/delete/`: the confirmation.
pub(crate) fn delete_page(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let user = session::signed_in(app, req)?;
    let found = editable_app(&app.store, &user, id)?;
    let frame = user.frame(&app.settings);
    Ok(Resp::page(200, pages::confirm_delete_app(&frame, &found)))
}

/// `POST /o/applications/<id>/delete/`: deletes the app with its tokens and codes.
pub(crate) fn delete(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let (user, _) = session::signed_in_form(app, req, &[])?;
    let found = app.store.immediate(|store| {
        let found = editable_app(store, &user, id)?;
        store.delete_app(found.id)?;
        Ok::<_, HttpError>(found)
    })?;
    report_if_not_owner(app, req, &user, &found, "delete_app");
    Ok(Resp::redirect(paths::APPLICATIONS))
}

/// An administrator's change to an application they do not own is a security event.
fn report_if_not_owner(
    app: &App,
    req: &Req,
    user: &SignedIn,
    changed: &Application,
    action: &'static str,
) {
    if changed.owner_id != Some(user.user.id) {
        admin::report(app, req, user, action, &changed.public_id);
    }
}

/// The app with the public id `id` if `user` owns it or is an administrator; otherwise 404,
/// whether or not it exists.
fn editable_app(store: &Store, user: &SignedIn, id: &str) -> Result<Application, HttpError> {
    store
        .find_app_by_public_id(id)?
        .filter(|found| user.user.is_admin || found.owner_id == Some(user.user.id))
        .ok_or_else(HttpError::not_found)
}

/// The registration rules for `user`, editing `current` (or registering).
fn rules<'a>(app: &'a App, user: &SignedIn, current: Option<&'a AppFields>) -> Rules<'a> {
    Rules {
        by_admin: user.user.is_admin,
        current,
        ..Rules::of(&app.settings)
    }
}

/// The form as posted (the rules decide what of it a non-administrator may set).
fn read_form(params: &Params) -> AppForm<'_> {
    AppForm {
        name: params.get("name").unwrap_or(""),
        client_type: params.get("client_type").unwrap_or(""),
        grant_types: params.all("grant_types"),
        redirect_uris: params.get("redirect_uris").unwrap_or(""),
        post_logout_redirect_uris: params.get("post_logout_redirect_uris").unwrap_or(""),
        allowed_origins: params.get("allowed_origins").unwrap_or(""),
        allowed_resources: params.get("allowed_resources").unwrap_or(""),
        allowed_scopes: Some(params.all("allowed_scopes")),
        skip_authorization: params.get("skip_authorization").is_some(),
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
            paths::application_update(&found.public_id),
            paths::application(&found.public_id),
        ),
    };
    let rules = rules(app, user, editing.map(|found| &found.fields));
    let grants: Vec<(GrantType, bool)> = GrantType::ALL
        .into_iter()
        .filter(|grant| rules.may_choose(*grant))
        .map(|grant| (grant, rules.grant_is_restricted(grant)))
        .collect();
    let page = AppFormPage {
        title: &title,
        action: &action,
        cancel: &cancel,
        form,
        errors,
        grants: &grants,
        scopes: &app.settings.scopes,
        by_admin: user.user.is_admin,
        admin_scopes: &app.settings.admin_scopes,
        disabled_by_admin: editing.is_some_and(|found| found.disabled_by_admin),
    };
    Resp::page(
        form_status(errors),
        pages::app_form(&user.frame(&app.settings), &page),
    )
}

/// The answer to a POST that saved the app `saved` (POST-redirect-GET): a 303 to the page that
/// shows the `secret` it made once, kept meanwhile in memory for this session only; without a
/// secret, to the app's page.
fn after_saving(
    app: &App,
    user: &SignedIn,
    saved: &Application,
    secret: Option<secret::Secret>,
) -> Result<Resp, HttpError> {
    let location = match secret {
        None => paths::application(&saved.public_id),
        Some(secret) => {
            let now = app.clock.now();
            let handle = app
                .secret_handoff
                .keep(handoff_for(user, saved), secret, now)?;
            paths::application_secret_shown(&saved.public_id, handle.expose())
        }
    };
    Ok(Resp::redirect(&location))
}

/// Who may see a secret made for `saved`: the session that made it, named by its CSRF token
/// (never reused, unlike its row id).
fn handoff_for(user: &SignedIn, saved: &Application) -> HandoffFor {
    HandoffFor {
        session: secret::digest(&user.session.csrf_token),
        app_id: saved.id,
    }
}
