//! RSA keys as JSON Web Keys (RFC 7517; the RSA members of RFC 7518 §6.3): the public JWK the
//! JWKS serves, the private JWK the key file holds, and the RFC 7638 thumbprint that names a key.

use crate::oidc::jws::{RS256, b64, unb64};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BoxedUint, PrivateKey, PublicKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::fmt;

/// The smallest modulus accepted, in bits: RFC 7518 §3.3 requires 2048 or more for RS256.
pub(crate) const MIN_BITS: u32 = 2048;

/// Why a JWK is not a usable RSA key; never quotes the key's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadJwk(pub &'static str);

impl fmt::Display for BadJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BadJwk {}

/// The public JWK of `key` as the JWKS publishes it: `kty`, `use`, `alg`, `kid`, `n`, `e`.
pub(crate) fn public_jwk(key: &impl PublicKeyParts, kid: &str) -> Value {
    json!({
        "kty": "RSA",
        "use": "sig",
        "alg": RS256,
        "kid": kid,
        "n": b64(&key.n_bytes()),
        "e": b64(&key.e_bytes()),
    })
}

/// The private JWK of `key`: the public members plus `d` and, when the key has two primes
/// with their CRT values, `p`, `q`, `dp`, `dq` and `qi` (RFC 7518 §6.3.2: all or none of them).
pub(crate) fn private_jwk(key: &PrivateKey, kid: &str) -> Value {
    let mut jwk = public_jwk(key, kid);
    if let Some(members) = jwk.as_object_mut() {
        members.insert("d".into(), uint(key.d()));
        let crt = match (key.primes(), key.dp(), key.dq(), key.crt_coefficient()) {
            ([p, q], Some(dp), Some(dq), Some(qi)) => Some([
                ("p", uint(p)),
                ("q", uint(q)),
                ("dp", uint(dp)),
                ("dq", uint(dq)),
                ("qi", uint(&qi)),
            ]),
            _ => None,
        };
        for (name, value) in crt.into_iter().flatten() {
            members.insert(name.into(), value);
        }
    }
    jwk
}

/// A big-endian unsigned integer as a Base64urlUInt (RFC 7518 §2: the fewest octets).
fn uint(value: &BoxedUint) -> Value {
    Value::String(b64(&value.to_be_bytes_trimmed_vartime()))
}

/// The RSA public key of a JWK (`kty` RSA, `n`, `e`), of at least [`MIN_BITS`] bits.
pub(crate) fn public_key(jwk: &Value) -> Result<PublicKey, BadJwk> {
    let members = rsa_members(jwk)?;
    let (n, e) = modulus_and_exponent(members)?;
    PublicKey::new(n, e).map_err(|_| BadJwk("not a valid RSA public key"))
}

/// The RSA private key of a private JWK. `n`, `e` and `d` are required; `p` and `q` are used
/// when present (else recovered from `d`); `dp`, `dq` and `qi` are computed again, not read.
/// The components are checked against each other (`PrivateKey::from_components`).
pub(crate) fn private_key(jwk: &Value) -> Result<PrivateKey, BadJwk> {
    let members = rsa_members(jwk)?;
    let (n, e) = modulus_and_exponent(members)?;
    // Secrets get a storage width chosen from the public modulus, not from their own length.
    let width = n.bits_precision();
    let secret = |name: &'static str| -> Result<Option<BoxedUint>, BadJwk> {
        let Some(value) = members.get(name) else {
            return Ok(None);
        };
        let bytes = value.as_str().and_then(unb64).ok_or(BadJwk(name))?;
        BoxedUint::from_be_slice(&bytes, width)
            .map(Some)
            .map_err(|_| BadJwk(name))
    };
    let d = secret("d")?.ok_or(BadJwk("no private exponent d"))?;
    let primes = match (secret("p")?, secret("q")?) {
        (Some(p), Some(q)) => vec![p, q],
        (None, None) => Vec::new(),
        _ => return Err(BadJwk("p without q")),
    };
    PrivateKey::from_components(n, e, d, primes)
        .map_err(|_| BadJwk("inconsistent RSA private key components"))
}

fn rsa_members(jwk: &Value) -> Result<&Map<String, Value>, BadJwk> {
    let members = jwk.as_object().ok_or(BadJwk("not a JSON object"))?;
    match members.get("kty").and_then(Value::as_str) {
        Some("RSA") => Ok(members),
        _ => Err(BadJwk("not an RSA key (kty)")),
    }
}

fn modulus_and_exponent(members: &Map<String, Value>) -> Result<(BoxedUint, BoxedUint), BadJwk> {
    let public = |name: &'static str| {
        let bytes = members.get(name).and_then(Value::as_str).and_then(unb64);
        bytes
            .map(|b| BoxedUint::from_be_slice_vartime(&b))
            .ok_or(BadJwk(name))
    };
    let n = public("n")?;
    if n.bit_width_vartime() < MIN_BITS {
        return Err(BadJwk("modulus under 2048 bits"));
    }
    Ok((n, public("e")?))
}

/// The JWK thumbprint of an RSA key (RFC 7638 §3): SHA-256 over the required members in
/// lexicographic order without white space, base64url. It serves as the key id.
pub fn thumbprint(key: &impl PublicKeyParts) -> String {
    // The values are base64url, so they need no JSON escaping.
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        b64(&key.e_bytes()),
        b64(&key.n_bytes())
    );
    b64(&Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The RSA key of RFC 7515 appendix A.2.1 as a private JWK.
    pub(crate) fn rfc7515_a2_key() -> Value {
        json!({
            "kty": "RSA",
            "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
            "e": "AQAB",
            "d": "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
            "p": "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
            "q": "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
            "dp": "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
            "dq": "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
            "qi": "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"
        })
    }

    #[test]
    fn a_private_jwk_is_written_as_it_was_read() {
        let rfc = rfc7515_a2_key();
        let key = private_key(&rfc).unwrap();
        let written = private_jwk(&key, "k1");
        for member in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
            assert_eq!(written[member], rfc[member], "{member}");
        }
        let expected = ("RSA", "sig", "RS256", "k1");
        let got = |m: &str| written[m].as_str().unwrap().to_owned();
        assert_eq!(
            (
                got("kty").as_str(),
                got("use").as_str(),
                got("alg").as_str(),
                got("kid").as_str()
            ),
            expected
        );
        assert_eq!(private_key(&written).unwrap(), key);
    }

    #[test]
    fn the_public_jwk_has_no_private_member() {
        let key = private_key(&rfc7515_a2_key()).unwrap();
        let public = public_jwk(&key, "k1");
        let mut names: Vec<&String> = public.as_object().unwrap().keys().collect();
        names.sort();
        assert_eq!(names, ["alg", "e", "kid", "kty", "n", "use"]);
        assert_eq!(public_key(&public).unwrap(), key.to_public_key());
    }

    #[test]
    fn primes_are_recovered_when_only_d_is_given() {
        let mut rfc = rfc7515_a2_key();
        for member in ["p", "q", "dp", "dq", "qi"] {
            rfc.as_object_mut().unwrap().remove(member);
        }
        let key = private_key(&rfc).unwrap();
        assert_eq!(key, private_key(&rfc7515_a2_key()).unwrap());
    }

    #[test]
    fn bad_jwks_are_refused() {
        let with = |member: &str, value: Value| {
            let mut jwk = rfc7515_a2_key();
            jwk.as_object_mut().unwrap().insert(member.into(), value);
            jwk
        };
        let without = |member: &str| {
            let mut jwk = rfc7515_a2_key();
            jwk.as_object_mut().unwrap().remove(member);
            jwk
        };
        let short_n = b64(&[0xc5; 128]);
        let cases = [
            json!([]),
            json!("RSA"),
            with("kty", json!("EC")),
            without("kty"),
            without("n"),
            without("d"),
            without("q"),
            with("n", json!(short_n)),
            with("n", json!("not base64!")),
            with("n", json!(7)),
            with("e", json!("AQAC")),
            with("d", json!("AQAB")),
            with("p", json!("AQAB")),
            with("d", json!("AAAA=")),
            with("d", json!(b64(&[0xff; 300]))),
        ];
        for jwk in cases {
            assert!(private_key(&jwk).is_err(), "{jwk}");
        }
        assert!(public_key(&with("n", json!(short_n))).is_err());
        assert!(public_key(&without("e")).is_err());
        assert!(public_key(&json!({"kty": "oct", "k": "AQAB"})).is_err());
    }

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // RFC 7638 §3.1: the example key and its thumbprint.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
        });
        let key = public_key(&jwk).unwrap();
        assert_eq!(
            thumbprint(&key),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
