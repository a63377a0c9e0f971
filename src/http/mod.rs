//! The HTTP side: the edge, the worker pool, the route table, request parsing, responses and
//! handlers.

pub mod access_log;
pub mod bearer;
pub(crate) mod cors;
pub(crate) mod device_pacing;
pub mod edge;
pub mod events;
pub mod handlers;
pub mod limiter;
pub mod metrics;
pub mod paths;
pub mod proxy;
pub(crate) mod pruned_table;
pub mod request;
pub(crate) mod request_rate;
pub mod response;
pub(crate) mod routes;
pub(crate) mod secret_handoff;
pub mod server;
pub mod session;
mod sweeper;
pub(crate) mod telemetry;

use crate::clock::Clock;
use crate::http::device_pacing::DevicePacing;
use crate::http::limiter::LoginLimiter;
use crate::http::request_rate::RequestRate;
use crate::http::secret_handoff::SecretHandoff;
use crate::http::telemetry::Telemetry;
use crate::oidc::keys::SigningKeys;
use crate::settings::Settings;
use crate::store::Store;
use std::sync::Arc;

/// What a handler works with: the settings, this worker's own database connection and the
/// clock.
pub(crate) struct App {
    /// Validated settings, shared by all workers.
    pub settings: Arc<Settings>,
    /// This worker's connection.
    pub store: Store,
    /// Failed-login counts, shared by all workers.
    pub limiter: Arc<LoginLimiter>,
    /// Request budgets (per address or overall) of client registration and device
    /// authorization, shared by all workers.
    pub request_rate: Arc<RequestRate>,
    /// The pace of device polls (RFC 8628 §3.5), shared by all workers.
    pub device_pacing: Arc<DevicePacing>,
    /// The OpenID issuer (and OAuth authorization server identifier, RFC 8414 §2): the
    /// `public_url` setting as configured, else `http://<the address served>`.
    pub issuer: String,
    /// Where handlers read the time, once per request.
    pub clock: Clock,
    /// The id_token signing keys, shared by all workers.
    pub signing_keys: Arc<SigningKeys>,
    /// The log and the metrics, shared by all workers and connections.
    pub telemetry: Arc<Telemetry>,
    /// New client secrets waiting for the page that shows them once, shared by all workers.
    pub secret_handoff: Arc<SecretHandoff>,
}
