//! The OAuth 2.0 protocol, pure: no SQL, no HTTP, no clock, no RNG. Every rule is a table test.

pub mod authorize;
pub mod client;
pub mod error;
pub mod pkce;
pub mod redirect;
pub mod scope;
pub mod token;
