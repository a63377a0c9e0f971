//! oauthd: a self-hosted OAuth 2.0 authorization server in one binary with its state in one
//! SQLite file, modelled on Django OAuth Toolkit.
//!
//! Embed it: [`RunningServer::start`] on `127.0.0.1:0`, read [`RunningServer::addr`], and
//! [`RunningServer::shutdown`] when done. Resource endpoints of an embedding program can reuse
//! the bearer guard [`http::bearer::authorize`] with DOT's permission classes
//! ([`oauth::scope::Requirement`]).

// Tests may unwrap and index: a panic there is a failed test, not a crashed worker.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod cli;
pub mod http;
pub mod model;
pub mod oauth;
pub mod secret;
pub mod settings;
pub mod store;

pub use http::server::{RunningServer, ServerConfig, StartError, Stopper};
pub use settings::Settings;
