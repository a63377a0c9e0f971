//! The OAuth 2.0 protocol, pure: no SQL, no HTTP, no clock, no RNG. Every rule is a table test.

pub mod client;
pub mod error;
pub mod redirect;
pub mod scope;
pub mod token;
