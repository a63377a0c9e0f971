//! `POST /o/device-authorization/` (RFC 8628 §3.1–3.2): a device asks for a device code and a
//! user code. The client authenticates as at the token endpoint; errors use its JSON format.

use crate::http::App;
use crate::http::handlers::{authenticate_client, client_still_usable, oauth_params};
use crate::http::paths;
use crate::http::request::Req;
use crate::http::request_rate::Purpose;
use crate::http::response::{HttpError, Resp};
use crate::oauth::device::{self, UserCode};
use crate::oauth::error::OAuthError;
use crate::oauth::resource::{self, RESOURCE};
use crate::secret::{self, Secret};
use crate::store::NewDeviceCode;
use serde::Serialize;

/// Random bytes drawn for one user code: rejection sampling keeps 15 of 16 bytes, so 32 leave
/// 8 letters with overwhelming probability.
const USER_CODE_RANDOM_BYTES: usize = 32;
/// Tries at a pair of codes not yet stored; a clash of 2^34.6 user codes is already rare.
const DRAWS: usize = 3;
/// Fills of random bytes tried for one user code: one fill fails only if fewer than 8 of its
/// 32 bytes are below 240 (about 2^-90), so a second failure means the RNG is broken.
const USER_CODE_FILLS: usize = 4;

/// RFC 8628 §3.2.
#[derive(Serialize)]
struct DeviceAuthorizationResponse<'a> {
    device_code: &'a str,
    user_code: &'a str,
    verification_uri: &'a str,
    verification_uri_complete: &'a str,
    expires_in: i64,
    interval: i64,
}

/// The device authorization endpoint.
pub(crate) fn device_authorization(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let now = app.clock.now();
    app.request_rate
        .admit(Purpose::DeviceAuthorization, req.remote, now)
        .map_err(OAuthError::over_budget)?;
    let params = oauth_params(app, req)?;
    let client = authenticate_client(app, req, &params)?;
    let scope = device::authorization_request(&client, params.get("scope"), &app.settings)?;
    let allowed = &client.fields.allowed_resources;
    let resources = resource::for_new_grant(&params.all(RESOURCE), allowed)?;
    let (lifetime, interval) = (
        app.settings.device_code_expire_seconds,
        app.settings.device_flow_interval,
    );
    for _ in 0..DRAWS {
        let (device_code, user_code) = (secret::random_token()?, draw_user_code()?);
        let new = NewDeviceCode {
            device_digest: device_code.digest(),
            user_digest: secret::digest(user_code.normalised()),
            application_id: client.id,
            scope: &scope,
            resources: &resources,
            interval,
            now,
            expires: now + lifetime,
        };
        let stored = app.store.immediate(|store| -> Result<bool, HttpError> {
            client_still_usable(store, req, &client)?;
            Ok(store.create_device_code(&new)?)
        })?;
        if stored {
            return Ok(answer(app, &device_code, &user_code, lifetime, interval));
        }
    }
    Err(no_code_drawn())
}

/// `temporarily_unavailable`: no usable code could be drawn (a clash, or a broken RNG).
fn no_code_drawn() -> HttpError {
    OAuthError::TemporarilyUnavailable {
        retry_after: 1,
        description: "No unused code could be drawn. Try again in 1 second.".into(),
    }
    .into()
}

/// A fresh user code from the OS CSPRNG; `temporarily_unavailable` if a few fills in a row
/// cannot make one (a broken RNG), rather than spinning.
fn draw_user_code() -> Result<UserCode, HttpError> {
    for _ in 0..USER_CODE_FILLS {
        let mut random = [0u8; USER_CODE_RANDOM_BYTES];
        secret::fill_random(&mut random)?;
        if let Some(code) = UserCode::draw(&random) {
            return Ok(code);
        }
    }
    Err(no_code_drawn())
}

/// The §3.2 response: where the user goes (on the issuer, like every URL the metadata
/// names) and the codes, never cached.
fn answer(
    app: &App,
    device_code: &Secret,
    user_code: &UserCode,
    lifetime: i64,
    interval: i64,
) -> Resp {
    let shown = user_code.display();
    let verification_uri = format!("{}{}", app.issuer, paths::DEVICE);
    let complete = format!("{verification_uri}?{}={shown}", paths::USER_CODE);
    Resp::json_no_store(
        200,
        &DeviceAuthorizationResponse {
            device_code: device_code.expose(),
            user_code: &shown,
            verification_uri: &verification_uri,
            verification_uri_complete: &complete,
            expires_in: lifetime,
            interval,
        },
    )
}
