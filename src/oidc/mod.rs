//! OpenID Connect: id_token signing keys (`keys`), the compact JWS that signs id_tokens (`jws`),
//! RSA keys as JSON Web Keys (`jwk`), the key file that holds their private halves, and making
//! and rotating keys (`rotation`).

pub mod jwk;
pub mod jws;
mod key_file;
pub mod keys;
pub mod rotation;
