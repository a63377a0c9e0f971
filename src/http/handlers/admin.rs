//! `/o/admin/...`: for administrators only (anyone else gets 404). Every user, app and token;
//! disable or enable a user or an app; revoke a token, after a confirmation; make a user; set a
//! user's password.

use crate::accounts;
use crate::http::App;
use crate::http::events::SecurityEvent;
use crate::http::handlers::tokens::{LIST_LIMIT, confirm_page, revoke_held};
use crate::http::paths;
use crate::http::request::{Params, Req};
use crate::http::response::{HttpError, Resp, form_status};
use crate::http::session::{self, SignedIn};
use crate::model::FieldErrors;
use crate::pages::{self, AdminPage, NewUserForm, PasswordSet, Revoker};
use crate::secret;
use crate::store::{Holder, NewUser, StoreError};

/// What an admin action acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// A user, by subject (never reused, unlike a row id).
    User(&'a str),
    /// An application, by public id.
    App(&'a str),
}

/// The query parameter that names the user whose password was just set, for the notice.
const PASSWORD_SET: &str = "password_set";

/// `GET /o/admin/` (with `?password_set=<subject>` after a password was set).
pub(crate) fn page(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let admin = admin_of(session::signed_in(app, req)?)?;
    // Only a notice: an unreadable query shows none.
    let query = req.query_params().ok();
    let password_set = query
        .as_ref()
        .and_then(|query| query.get(PASSWORD_SET))
        .map(PasswordSet::Done);
    let form = NewUserForm::default();
    render(app, &admin, form, &FieldErrors::default(), password_set)
}

/// `POST /o/admin/users/`: makes a user; errors re-render the page (400) with the input kept.
pub(crate) fn new_user(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let (admin, params) = admin_form(app, req)?;
    let form = NewUserForm {
        username: params.get("username").unwrap_or(""),
        email: params.get("email").unwrap_or(""),
        name: params.get("name").unwrap_or(""),
        is_admin: params.get("is_admin").is_some(),
    };
    let password = params.get("password").unwrap_or("");
    let mut errors = check_new_user(&form, password, params.get("password2").unwrap_or(""));
    if errors.is_empty() {
        let hash = secret::hash_password(password)?;
        // An address an administrator sets counts as verified.
        let new = NewUser {
            username: form.username,
            email: form.email,
            email_verified: !form.email.is_empty(),
            name: form.name,
            password_hash: &hash,
            is_admin: form.is_admin,
        };
        let created = app.store.create_user(&new, app.clock.now())?;
        if let Some(id) = created {
            let subject = app.store.find_user(id)?.map(|user| user.subject);
            report(
                app,
                req,
                &admin,
                "create_user",
                subject.as_deref().unwrap_or(""),
            );
            return Ok(Resp::redirect(&format!("{}#users", paths::ADMIN)));
        }
        errors
            .0
            .push(("username", "That username is taken.".into()));
    }
    render(app, &admin, form, &errors, None)
}

/// `POST /o/admin/{users|apps}/<id>/{enable|disable}/`. A disabled user cannot log in and
/// their tokens stop working; a disabled app cannot authenticate or use its tokens, and its
/// owner cannot enable it again. Administrators cannot disable themselves.
pub(crate) fn set_enabled(
    app: &App,
    req: &Req,
    target: Target<'_>,
    enabled: bool,
) -> Result<Resp, HttpError> {
    let (admin, _) = admin_form(app, req)?;
    let found = match target {
        Target::User(subject) => match app.store.find_user_by_subject(subject)? {
            Some(user) if user.id == admin.user.id => {
                return Err(HttpError::bad_request(
                    "You cannot disable or enable your own account.",
                ));
            }
            Some(user) => app.store.set_user_active(user.id, enabled)?,
            None => false,
        },
        Target::App(id) => match app.store.find_app_by_public_id(id)? {
            Some(found) => app.store.set_app_enabled(found.id, enabled)?,
            None => false,
        },
    };
    if !found {
        return Err(HttpError::not_found());
    }
    let (section, action, id) = match (target, enabled) {
        (Target::User(id), true) => ("users", "enable_user", id),
        (Target::User(id), false) => ("users", "disable_user", id),
        (Target::App(id), true) => ("apps", "enable_app", id),
        (Target::App(id), false) => ("apps", "disable_app", id),
    };
    report(app, req, &admin, action, id);
    Ok(Resp::redirect(&format!("{}#{section}", paths::ADMIN)))
}

/// `POST /o/admin/users/<subject>/password/`: sets a user's password (the account rules, typed
/// twice) and ends all their sessions; a refused password re-renders the page (400) with the
/// reason beside that user, and changes nothing. Administrators change their own password on
/// the password change page, which asks for the current one.
pub(crate) fn set_password(app: &App, req: &Req, subject: &str) -> Result<Resp, HttpError> {
    let (admin, params) = admin_form(app, req)?;
    let user = app
        .store
        .find_user_by_subject(subject)?
        .ok_or_else(HttpError::not_found)?;
    if user.id == admin.user.id {
        return Err(HttpError::bad_request(
            "Change your own password on the password change page.",
        ));
    }
    let password = params.get("password").unwrap_or("");
    let again = params.get("password2").unwrap_or("");
    if let Some(problem) = accounts::new_password_problem(password, again) {
        let refused = Some(PasswordSet::Refused(&user.subject, &problem));
        let form = NewUserForm::default();
        return render(app, &admin, form, &FieldErrors::default(), refused);
    }
    let hash = secret::hash_password(password)?;
    let found = app.store.immediate(|store| -> Result<_, StoreError> {
        let found = store.set_password(user.id, &hash)?;
        store.end_user_sessions(user.id, None)?;
        Ok(found)
    })?;
    if !found {
        // Removed since it was looked up.
        return Err(HttpError::not_found());
    }
    report(app, req, &admin, "set_password", &user.subject);
    let (subject, id) = (&user.subject, user.id);
    let done = format!("{}?{PASSWORD_SET}={subject}#user-{id}", paths::ADMIN);
    Ok(Resp::redirect(&done))
}

/// `GET /o/admin/tokens/<id>/revoke/`: "Revoke this token?", as the user's own tokens page asks.
pub(crate) fn revoke_page(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let admin = admin_of(session::signed_in(app, req)?)?;
    confirm_page(app, &admin, id, Revoker::Admin)
}

/// `POST /o/admin/tokens/<id>/revoke/`: revokes anyone's token with its refresh token.
pub(crate) fn revoke(app: &App, req: &Req, id: &str) -> Result<Resp, HttpError> {
    let (admin, _) = admin_form(app, req)?;
    revoke_held(app, id, Holder::Anyone)?;
    report(app, req, &admin, "revoke_token", id);
    Ok(Resp::redirect(&format!("{}#tokens", paths::ADMIN)))
}

/// The security event of an administrator's change (docs/conventions.md, convention 16).
pub(crate) fn report(app: &App, req: &Req, admin: &SignedIn, action: &'static str, target: &str) {
    let event = SecurityEvent::Admin {
        admin_id: admin.user.id,
        action,
        target,
    };
    app.telemetry.security(&event, req.remote);
}

/// The signed-in user if an administrator; otherwise 404 (the admin is not advertised).
fn admin_of(user: SignedIn) -> Result<SignedIn, HttpError> {
    if user.user.is_admin {
        Ok(user)
    } else {
        Err(HttpError::not_found())
    }
}

fn admin_form(app: &App, req: &Req) -> Result<(SignedIn, Params), HttpError> {
    let (user, params) = session::signed_in_form(app, req, &[])?;
    Ok((admin_of(user)?, params))
}

/// The account rules, and the password typed the same twice.
fn check_new_user(form: &NewUserForm<'_>, password: &str, again: &str) -> FieldErrors {
    let mut errors = accounts::check_new_user(form.username, form.email, form.name);
    if let Some(problem) = accounts::new_password_problem(password, again) {
        errors.add("password", problem);
    }
    errors
}

fn render(
    app: &App,
    admin: &SignedIn,
    new_user: NewUserForm<'_>,
    errors: &FieldErrors,
    password_set: Option<PasswordSet<'_>>,
) -> Result<Resp, HttpError> {
    let users = app.store.user_views(None)?;
    let apps = app.store.list_apps(None)?;
    let tokens = app.store.token_views(Holder::Anyone, LIST_LIMIT)?;
    let page = AdminPage {
        users: &users,
        apps: &apps,
        tokens: &tokens,
        token_limit: LIST_LIMIT,
        new_user,
        errors,
        password_set,
        now: app.clock.now(),
    };
    let status = match password_set {
        Some(PasswordSet::Refused(..)) => 400,
        _ => form_status(errors),
    };
    let frame = admin.frame(&app.settings);
    Ok(Resp::page(status, pages::admin(&frame, &page)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_user_rules() {
        let valid = NewUserForm {
            username: "bob.e+i_ü@x",
            email: "",
            name: "",
            is_admin: false,
        };
        assert_eq!(
            check_new_user(&valid, "long enough", "long enough").0,
            vec![]
        );
        let with_email = NewUserForm {
            email: "bob@example.com",
            name: "Bob \"e'i;--ü",
            ..valid
        };
        assert_eq!(
            check_new_user(&with_email, "long enough", "long enough").0,
            vec![]
        );
        for (form, password, again, field) in [
            (
                NewUserForm {
                    username: "",
                    ..valid
                },
                "long enough",
                "long enough",
                "username",
            ),
            (
                NewUserForm {
                    username: "a b",
                    ..valid
                },
                "long enough",
                "long enough",
                "username",
            ),
            (
                NewUserForm {
                    email: "bob",
                    ..valid
                },
                "long enough",
                "long enough",
                "email",
            ),
            (
                NewUserForm {
                    email: "@x.org",
                    ..valid
                },
                "long enough",
                "long enough",
                "email",
            ),
            (
                NewUserForm {
                    email: "a b@x.org",
                    ..valid
                },
                "long enough",
                "long enough",
                "email",
            ),
            (
                NewUserForm {
                    name: "a\nb",
                    ..valid
                },
                "long enough",
                "long enough",
                "name",
            ),
            (valid, "short", "short", "password"),
            (valid, "long enough", "long enougH", "password"),
        ] {
            let errors = check_new_user(&form, password, again);
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
            assert_eq!(errors.0.len(), 1, "{errors:?}");
        }
    }
}
