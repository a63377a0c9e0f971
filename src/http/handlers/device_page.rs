//! `GET` and `POST /o/device/` (RFC 8628 §3.3): a signed-in user types the user code their
//! device shows, sees the consent page of the code flow, and allows or denies. Every code
//! typed goes through the failed-try limiter (RFC 8628 §5.1), and nothing is approved without
//! the user's own POST (§5.4).

use crate::http::App;
use crate::http::limiter::Subject;
use crate::http::paths;
use crate::http::request::Req;
use crate::http::response::{HttpError, Resp};
use crate::http::session::{self, SignedIn};
use crate::model::{Application, DeviceCode};
use crate::oauth::device::{self, NOT_A_LIVE_CODE, UserCode};
use crate::oauth::error::try_again_in;
use crate::pages::{self, ConsentForm, DeviceEntry, Recipient};
use crate::secret;
use crate::store::DeviceDecision;

/// `GET /o/device/[?user_code=...]`: the form, pre-filled from `verification_uri_complete`
/// (only with something that reads as a code); a visitor signs in first and comes back.
pub(crate) fn page(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let signed_in = session::signed_in(app, req)?;
    let query = req
        .query_params()
        .map_err(|_| HttpError::bad_request("The request could not be read."))?;
    let prefill = query
        .get(paths::USER_CODE)
        .and_then(UserCode::parse)
        .map(|code| code.display())
        .unwrap_or_default();
    Ok(entry(app, &signed_in, 200, &prefill, None))
}

/// `POST /o/device/`: CSRF, the limiter, then the code. Without `allow` or `deny` a live code
/// gets the consent page; with them, the decision (a denial if it carries both) is recorded —
/// once, while the code is pending and unexpired — and the user is sent back to their device.
pub(crate) fn submit(app: &App, req: &Req) -> Result<Resp, HttpError> {
    let (signed_in, form) = session::signed_in_form(app, req, &[])?;
    let typed = form.get(paths::USER_CODE).unwrap_or("");
    let now = app.clock.now();
    let subject = Subject::UserCodeEntry(signed_in.user.id);
    let attempt = match app.limiter.attempt(subject, req.remote, now) {
        Ok(attempt) => attempt,
        Err(wait) => {
            let resp = entry(app, &signed_in, 429, typed, Some(&try_again_in(wait)));
            return Ok(resp.with_header("Retry-After", wait.to_string()));
        }
    };
    let Some((code, shown, client)) = live_code(app, typed, now)? else {
        return Ok(entry(app, &signed_in, 200, typed, Some(NOT_A_LIVE_CODE)));
    };
    attempt.passed();
    let Some(approve) = pages::allowed(|name| form.get(name).is_some()) else {
        return Ok(consent(app, &signed_in, &client, &code, &shown));
    };
    let decision = DeviceDecision {
        approve,
        user_id: signed_in.user.id,
        auth_time: signed_in.user.auth_time,
    };
    let decided = app.store.immediate(|store| -> Result<bool, HttpError> {
        Ok(store.app_is_usable(client.id)? && store.decide_device_code(code.id, decision, now)?)
    })?;
    if !decided {
        return Ok(entry(app, &signed_in, 200, typed, Some(NOT_A_LIVE_CODE)));
    }
    let frame = signed_in.frame(&app.settings);
    let page = pages::device_decided(&frame, &client.fields.name, approve);
    Ok(Resp::page(200, page))
}

/// The code `typed` names, with its display form and client, when a user may still decide on
/// it: pending, unexpired, and its client usable. Every other case reads the same.
fn live_code(
    app: &App,
    typed: &str,
    now: i64,
) -> Result<Option<(DeviceCode, String, Application)>, HttpError> {
    let Some(user_code) = UserCode::parse(typed) else {
        return Ok(None);
    };
    let digest = secret::digest(user_code.normalised());
    let Some(code) = app.store.find_device_code_by_user_code(&digest)? else {
        return Ok(None);
    };
    if !device::decidable(&code, now) {
        return Ok(None);
    }
    let client = app.store.find_app(code.application_id)?;
    Ok(client
        .filter(|c| c.usable)
        .map(|client| (code, user_code.display(), client)))
}

/// The user code form, with what was typed and why it was refused.
fn entry(app: &App, signed_in: &SignedIn, status: u16, typed: &str, error: Option<&str>) -> Resp {
    let frame = signed_in.frame(&app.settings);
    let form = DeviceEntry {
        user_code: typed,
        error,
    };
    Resp::page(status, pages::device_entry(&frame, &form))
}

/// The code flow's consent page, for the device's client and scope; the user code rides along
/// as a hidden field and is checked again when the form comes back.
fn consent(
    app: &App,
    signed_in: &SignedIn,
    client: &Application,
    code: &DeviceCode,
    shown: &str,
) -> Resp {
    let frame = signed_in.frame(&app.settings);
    let hidden = [(paths::USER_CODE, shown.to_owned())];
    let form = ConsentForm {
        app_name: &client.fields.name,
        self_registered: client.dynamically_registered,
        recipient: Recipient::Device(shown),
        scopes: pages::described_scopes(&app.settings, &code.scope),
        action: paths::DEVICE,
        resources: code.resources.as_slice(),
        hidden: &hidden,
    };
    Resp::page(200, pages::consent(&frame, &form))
}
