//! The HTTP side: the worker pool, the route table, request parsing, responses and handlers.

pub mod bearer;
pub mod handlers;
pub mod request;
pub mod response;
pub mod routes;
pub mod server;

use crate::settings::Settings;
use crate::store::Store;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// What a handler works with: the settings and this worker's own database connection.
pub struct App {
    /// Validated settings, shared by all workers.
    pub settings: Arc<Settings>,
    /// This worker's connection.
    pub store: Store,
}

/// The current time in unix seconds: read once per request by handlers, passed to `oauth::`.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
