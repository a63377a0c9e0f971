//! Credentials: random tokens from the OS CSPRNG, SHA-256 digests, constant-time compares, argon2id passwords.

use crate::model::ClientType;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng;
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::{Mutex, PoisonError};
use subtle::ConstantTimeEq;

/// Bytes of randomness in a token or code: 256 bits (RFC 6749 §10.10 asks for at least 128).
const TOKEN_BYTES: usize = 32;

/// The operating system's random source failed; nothing can be issued safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RandomError(pub String);

impl fmt::Display for RandomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the OS random source failed: {}", self.0)
    }
}

impl std::error::Error for RandomError {}

/// The SHA-256 of a credential: what the database keeps instead of the credential.
pub(crate) type Digest32 = [u8; 32];

/// A credential in clear, as handed to a client once. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The clear text, for the one response that hands it out.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The digest under which the store keeps it.
    pub fn digest(&self) -> Digest32 {
        digest(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A fresh access token, refresh token or code: 256 random bits, URL-safe base64 (43 characters).
pub(crate) fn random_token() -> Result<Secret, RandomError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    fill_random(&mut bytes)?;
    Ok(Secret(URL_SAFE_NO_PAD.encode(bytes)))
}

/// Fills `bytes` from the OS CSPRNG.
pub(crate) fn fill_random(bytes: &mut [u8]) -> Result<(), RandomError> {
    SysRng
        .try_fill_bytes(bytes)
        .map_err(|e| RandomError(e.to_string()))
}

/// Whether `text` has the shape of a [`random_token`]: 32 bytes in URL-safe base64.
pub(crate) fn looks_like_token(text: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(text)
        .is_ok_and(|bytes| bytes.len() == TOKEN_BYTES)
}

/// A fresh client secret of `length` URL-safe characters (6 random bits each).
pub(crate) fn random_secret(length: usize) -> Result<Secret, RandomError> {
    let mut bytes = vec![0u8; length.div_ceil(4) * 3];
    fill_random(&mut bytes)?;
    let mut text = URL_SAFE_NO_PAD.encode(&bytes);
    text.truncate(length);
    Ok(Secret(text))
}

/// The length of a generated client_id (as DOT's, 40 characters).
pub(crate) const CLIENT_ID_LENGTH: usize = 40;

/// A new client's id and, for a confidential client, its secret of `secret_length` characters.
pub(crate) fn new_client_credentials(
    client_type: ClientType,
    secret_length: usize,
) -> Result<(Secret, Option<Secret>), RandomError> {
    let client_id = random_secret(CLIENT_ID_LENGTH)?;
    let secret = match client_type {
        ClientType::Confidential => Some(random_secret(secret_length)?),
        ClientType::Public => None,
    };
    Ok((client_id, secret))
}

/// SHA-256 of a presented credential, for lookup and comparison.
pub fn digest(credential: &str) -> Digest32 {
    Sha256::digest(credential.as_bytes()).into()
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// argon2id's working memory (19 MiB with the default parameters), kept for the life of the
/// process and lent to one hash at a time. Letting argon2 allocate it per hash made each
/// worker's allocator keep the freed blocks: 141 MiB resident after a password load, measured.
/// One hash at a time also bounds what password guessing can take of the machine.
static ARGON2_MEMORY: Mutex<Vec<Block>> = Mutex::new(Vec::new());

/// The most memory (KiB) a stored hash may ask for to be verified: four times ours.
const MAX_VERIFIED_M_COST: u32 = 4 * Params::DEFAULT_M_COST;
/// The most passes a stored hash may ask for to be verified.
const MAX_VERIFIED_T_COST: u32 = 16;

/// Bytes of random salt in a new password hash (the argon2 crate's default).
const SALT_BYTES: usize = 16;

/// Runs argon2 `kind` with `params` over `password` and `salt` into `out`, in the shared
/// working memory.
fn argon2_into(
    kind: &Argon2<'_>,
    blocks: usize,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let mut memory = ARGON2_MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let memory = memory
        .get_mut(..blocks)
        .ok_or(argon2::Error::MemoryTooLittle)?;
    kind.hash_password_into_with_memory(password.as_bytes(), salt, out, memory)
}

/// Hashes a password with argon2id (m = 19 MiB, t = 2, p = 1) into a PHC string.
pub(crate) fn hash_password(password: &str) -> Result<String, RandomError> {
    let failed = |e: &dyn fmt::Display| RandomError(e.to_string());
    let mut salt = [0u8; SALT_BYTES];
    SysRng.try_fill_bytes(&mut salt).map_err(|e| failed(&e))?;
    let params = Params::default();
    let mut out = vec![0u8; Params::DEFAULT_OUTPUT_LEN];
    let kind = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon2_into(&kind, params.block_count(), password, &salt, &mut out).map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Checks a password against a stored PHC string (with the parameters it names); a malformed
/// hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(hash.algorithm.as_str()),
        Params::try_from(&hash),
    ) else {
        return false;
    };
    // A stored hash names its own cost; one far above ours (only someone who can write the
    // database could plant it) would hold the shared buffer's memory or lock without end.
    if params.m_cost() > MAX_VERIFIED_M_COST || params.t_cost() > MAX_VERIFIED_T_COST {
        return false;
    }
    let mut out = vec![0u8; expected.len()];
    let kind = Argon2::new(algorithm, version, params.clone());
    argon2_into(
        &kind,
        params.block_count(),
        password,
        salt.as_ref(),
        &mut out,
    )
    .is_ok()
        && constant_time_eq(&out, expected.as_bytes())
}

/// A well-formed argon2id hash with the production parameters whose digest is random bytes,
/// so no known password matches it. Checking a login for an unknown user against it costs
/// what a wrong password costs (no user enumeration by timing).
pub(crate) const DECOY_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$3n5Rh/gSmKxM3c4b3sEPiw$Pm9kQ3PgnAAO2qO6G3Ykz8jDsL+zXwRM0QWw0bcP3Go";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert!(
            a.expose()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(format!("{a:?}"), "[redacted]");
    }

    #[test]
    fn secrets_have_the_asked_length() {
        for n in [27, 28, 30, 128, 255] {
            assert_eq!(random_secret(n).unwrap().expose().len(), n);
        }
    }

    #[test]
    fn digest_is_sha256() {
        let hex: String = digest("abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn only_a_drawn_token_looks_like_one() {
        let token = random_token().unwrap();
        assert!(looks_like_token(token.expose()));
        for bad in ["", "abc", &"A".repeat(44), "bob\"e'i;--ü"] {
            assert!(!looks_like_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn passwords_round_trip_and_decoy_is_valid() {
        let phc = hash_password("bob\"e'i;--ü").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("bob\"e'i;--ü", &phc));
        assert!(!verify_password("bob", &phc));
        assert!(!verify_password("x", "not a hash"));
        assert!(PasswordHash::new(DECOY_PASSWORD_HASH).is_ok());
        assert!(!verify_password("", DECOY_PASSWORD_HASH));
    }

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_hasher_and_verifier() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"pw one")
            .unwrap()
            .to_string();
        assert!(verify_password("pw one", &theirs));
        assert!(!verify_password("pw two", &theirs));
        let ours = hash_password("pw one").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"pw one", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"pw two", &parsed)
                .is_err()
        );
        // Other parameters, as a hash from another deployment may carry, verify too.
        let light = Argon2::from(Params::new(1024, 1, 1, None).unwrap());
        let other = light.hash_password(b"pw one").unwrap().to_string();
        assert!(verify_password("pw one", &other));
        // A planted hash that asks for more than four times our memory is refused unrun.
        let heavy = Argon2::from(Params::new(4 * Params::DEFAULT_M_COST + 8, 1, 1, None).unwrap());
        let planted = heavy.hash_password(b"pw one").unwrap().to_string();
        assert!(!verify_password("pw one", &planted));
    }
}
