//! `GET /metrics`: the Prometheus text format, when the `metrics` setting is on (else 404, as
//! if there were no such path). No authentication: bind or firewall it away from the public.

use crate::http::App;
use crate::http::response::{HttpError, Resp};

/// The text format's media type (Prometheus exposition format 0.0.4).
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every counter, and the database's size read now.
pub(crate) fn metrics(app: &App) -> Result<Resp, HttpError> {
    if !app.settings.metrics {
        return Err(HttpError::Api(404, "Not found.".into()));
    }
    let text = app.telemetry.metrics_text(app.store.database_bytes()?);
    Ok(Resp {
        status: 200,
        headers: vec![("Content-Type", CONTENT_TYPE.into())],
        body: text.into_bytes(),
    })
}
