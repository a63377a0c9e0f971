//! `POST /o/register/`: RFC 7591 dynamic client registration, when the `registration` setting
//! is `open` or `token`. Each address, and all of them together, have a request budget
//! (docs/security.md rule 66); in the `token` mode an initial access token is needed (a
//! Bearer token, refused as RFC 6750 §3.1 says) and one of its uses is taken with the
//! registration (rule 67); what a client may register is what the pages allow a user who is
//! not an administrator, and no plain http off loopback (rule 68). RFC 7592 management is not
//! offered: administrators edit and delete registered clients on the pages.

use crate::http::App;
use crate::http::bearer::{self, Guarded};
use crate::http::events::SecurityEvent;
use crate::http::request::Req;
use crate::http::request_rate::Purpose;
use crate::http::response::{HttpError, Resp};
use crate::oauth::client_metadata::{self, Registration};
use crate::oauth::error::OAuthError;
use crate::oauth::registration::Rules;
use crate::secret::{self, Digest32};
use crate::settings::RegistrationMode;
use crate::store::NewApplication;

/// Whether clients may register: the endpoint exists and the metadata names it.
pub(crate) fn is_on(app: &App) -> bool {
    app.settings.registration != RegistrationMode::Off
}

/// Registers a client: 201 with its credentials and metadata (§3.2.1), or the §3.2.2 error;
/// nothing is stored on any error.
pub(crate) fn register(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let now = app.clock.now();
    app.request_rate
        .admit(Purpose::ClientRegistration, req.remote, now)
        .map_err(OAuthError::over_budget)?;
    let token = match app.settings.registration {
        RegistrationMode::Token => Some(initial_access_token(app, req, now)?),
        RegistrationMode::Open | RegistrationMode::Off => None,
    };
    let body = req.json_body().map_err(HttpError::OAuthRequest)?;
    let metadata = client_metadata::parse(body)?;
    let Registration {
        fields,
        auth_method,
    } = client_metadata::read(&metadata, &Rules::for_client(&app.settings))?;
    let client_type = fields.client_type;
    let (client_id, client_secret) =
        secret::new_client_credentials(client_type, app.settings.client_secret_length)?;
    let new = NewApplication {
        client_id: client_id.expose().to_owned(),
        secret_digest: client_secret.as_ref().map(secret::Secret::digest),
        owner_id: None,
        fields,
    };
    // A token spent between the check above and this transaction is refused here.
    let token_id = app
        .store
        .register_client(&new, token.as_ref(), now)?
        .ok_or_else(refused_token)?;
    let event = SecurityEvent::ClientRegistered {
        client_id: client_id.expose(),
        client_type: client_type.as_str(),
        token_id,
    };
    app.telemetry.security(&event, req.remote);
    let answer = client_metadata::response(
        &new.fields,
        auth_method,
        client_id.expose(),
        client_secret.as_ref().map(secret::Secret::expose),
        now,
    );
    Ok(Resp::json_no_store(201, &answer))
}

/// The digest of the request's initial access token (RFC 7591 §3: a bearer token), which
/// must be live; else the 401 of RFC 6750 §3.1 (see [`bearer::presented`]), its body OAuth
/// JSON.
fn initial_access_token(app: &App, req: &Req, now: i64) -> Result<Digest32, HttpError> {
    let digest = secret::digest(bearer::presented(req, Guarded::Registration)?);
    if app.store.registration_token_is_live(&digest, now)? {
        Ok(digest)
    } else {
        Err(refused_token())
    }
}

/// An unknown, expired, used-up or removed initial access token: 401 `invalid_token`.
fn refused_token() -> HttpError {
    bearer::invalid_token(
        "The initial access token is invalid, expired or used up.",
        Guarded::Registration,
    )
}
