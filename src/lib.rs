//! oauthd: a self-hosted OAuth 2.0 authorization server in one binary with its state in one
//! SQLite file, modelled on Django OAuth Toolkit.
//!
//! Embed it: [`RunningServer::start`] on `127.0.0.1:0`, read [`RunningServer::addr`], and
//! [`RunningServer::shutdown`] when done. Resource endpoints of an embedding program can reuse
//! the bearer guard [`http::bearer::authorize`] with DOT's permission classes
//! ([`oauth::scope::Requirement`]).

pub mod cli;
pub mod http;
pub mod model;
pub mod oauth;
pub mod secret;
pub mod settings;
pub mod store;

pub use http::server::{RunningServer, ServerConfig, StartError, Stopper};
pub use settings::Settings;
