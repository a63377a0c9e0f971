//! oauthd: a self-hosted OAuth 2.0 authorization server in one binary with its state in one
//! SQLite file, modelled on Django OAuth Toolkit.
//!
//! Embed it: [`RunningServer::start`] on `127.0.0.1:0`, read [`RunningServer::addr`], and
//! [`RunningServer::shutdown`] when done. Items meant only for the crate are `pub(crate)`; the
//! rest is what the command line, the tests and an embedding program use.
//!
//! ```
//! use oauthd::{Clock, RunningServer, ServerConfig, Settings};
//!
//! let dir = std::env::temp_dir().join(format!("oauthd-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let server = RunningServer::start(ServerConfig {
//!     addr: "127.0.0.1:0".into(),
//!     threads: 2,
//!     db_path: dir.join("oauthd.sqlite3"),
//!     settings: Settings::from_toml("")?,
//!     clock: Clock::system(),
//! })?;
//! assert!(server.addr().port() > 0);
//! server.shutdown();
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]
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

pub mod accounts;
pub mod cli;
pub mod clock;
pub mod http;
pub mod model;
pub mod oauth;
pub mod oidc;
pub mod pages;
pub mod secret;
pub mod settings;
pub mod store;

pub use clock::Clock;
pub use http::server::{RunningServer, ServerConfig, StartError};
pub use settings::Settings;
