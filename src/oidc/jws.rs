//! The JWS Compact Serialization (RFC 7515 §7.1) with RS256 only (RSASSA-PKCS1-v1_5 with
//! SHA-256, RFC 7518 §3.3; mandatory for id_tokens, OIDC Core §15.1): signing and checking.
//! The RSA arithmetic is the `rsa` crate's; this module only frames the octets.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::rngs::SysRng;
use rsa::sha2::Sha256;
use rsa::{PrivateKey, PublicKey};
use serde_json::{Map, Value, json};

/// The one algorithm oauthd signs with and accepts.
pub const RS256: &str = "RS256";

/// base64url without padding (RFC 7515 §2).
pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; padding, other alphabets and non-canonical trailing
/// bits are refused.
pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// A compact JWS of `claims` with the header `{"alg":"RS256","kid":kid,"typ":"JWT"}`.
pub fn sign(key: &PrivateKey, kid: &str, claims: &Value) -> Result<String, rsa::Error> {
    let header = json!({ "alg": RS256, "kid": kid, "typ": "JWT" });
    sign_octets(
        key,
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    )
}

/// A compact JWS of exactly these header and payload octets:
/// `BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature over the first two)`.
/// The private operation is blinded with randomness from the OS; the signature does not
/// depend on it.
pub(crate) fn sign_octets(
    key: &PrivateKey,
    header: &[u8],
    payload: &[u8],
) -> Result<String, rsa::Error> {
    let mut token = format!("{}.{}", b64(header), b64(payload));
    let signature = key.pkcs1v15_sign_with_rng::<Sha256, _>(&mut SysRng, token.as_bytes())?;
    token.push('.');
    token.push_str(&b64(&signature));
    Ok(token)
}

/// A compact JWS whose header asks for RS256, taken apart but not yet checked.
#[derive(Debug)]
pub struct Unverified<'a> {
    /// The header's `kid`, naming the key to check it with.
    pub kid: Option<String>,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

/// Takes `token` apart: exactly three base64url parts, a JSON object header with `alg`
/// RS256 and no `crit` (no extension is understood, RFC 7515 §4.1.11), a string `kid` if any.
/// `None` for anything else, including `alg` none or HS256.
pub fn parse(token: &str) -> Option<Unverified<'_>> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let fields: Map<String, Value> = serde_json::from_slice(&unb64(header)?).ok()?;
    if fields.get("alg").and_then(Value::as_str) != Some(RS256) || fields.contains_key("crit") {
        return None;
    }
    let kid = match fields.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return None,
    };
    Some(Unverified {
        kid,
        signing_input: token.get(..header.len() + 1 + payload.len())?,
        payload: unb64(payload)?,
        signature: unb64(signature)?,
    })
}

impl Unverified<'_> {
    /// The payload, if the signature is `key`'s and the payload is a JSON object.
    pub fn verify(self, key: &PublicKey) -> Option<Map<String, Value>> {
        key.pkcs1v15_verify::<Sha256>(self.signing_input.as_bytes(), &self.signature)
            .ok()?;
        serde_json::from_slice(&self.payload).ok()
    }
}

/// The payload of `token` if it is an RS256 compact JWS signed by `key` with a JSON object
/// payload; nothing else is checked (claims such as `exp` are the caller's business).
pub fn verify(key: &PublicKey, token: &str) -> Option<Map<String, Value>> {
    parse(token)?.verify(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::jwk::{private_key, tests::rfc7515_a2_key};

    /// RFC 7515 appendix A.2: the header, payload (with its CR LF line breaks) and the
    /// complete JWS, signed with the key of A.2.1.
    const A2_HEADER: &str = r#"{"alg":"RS256"}"#;
    const A2_PAYLOAD: &str =
        "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
    const A2_JWS: &str = concat!(
        "eyJhbGciOiJSUzI1NiJ9",
        ".",
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt",
        "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
        ".",
        "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7",
        "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4",
        "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K",
        "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv",
        "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB",
        "p0igcN_IoypGlUPQGe77Rw",
    );

    fn rfc_key() -> PrivateKey {
        private_key(&rfc7515_a2_key()).unwrap()
    }

    #[test]
    fn rfc_7515_a2_signature_is_reproduced() {
        let jws = sign_octets(&rfc_key(), A2_HEADER.as_bytes(), A2_PAYLOAD.as_bytes()).unwrap();
        assert_eq!(jws, A2_JWS);
    }

    #[test]
    fn rfc_7515_a2_jws_verifies() {
        let payload = verify(&rfc_key().to_public_key(), A2_JWS).unwrap();
        assert_eq!(payload["iss"], "joe");
        assert_eq!(payload["exp"], 1_300_819_380);
        assert_eq!(payload["http://example.com/is_root"], true);
        assert_eq!(parse(A2_JWS).unwrap().kid, None);
    }

    #[test]
    fn sign_then_verify_round_trips_with_kid_and_typ() {
        let key = rfc_key();
        let claims = json!({ "sub": "bob\"e'i;--ü", "aud": ["a", "b"], "exp": 12 });
        let token = sign(&key, "k-1", &claims).unwrap();
        let header: Value =
            serde_json::from_slice(&unb64(token.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(
            header,
            json!({ "alg": "RS256", "kid": "k-1", "typ": "JWT" })
        );
        assert_eq!(parse(&token).unwrap().kid.as_deref(), Some("k-1"));
        let payload = verify(&key.to_public_key(), &token).unwrap();
        assert_eq!(Value::Object(payload), claims);
    }

    /// A token with this header and payload (JSON text) and the signature of `key` over them.
    fn forged(key: &PrivateKey, header: &str, payload: &str) -> String {
        sign_octets(key, header.as_bytes(), payload.as_bytes()).unwrap()
    }

    #[test]
    fn hostile_tokens_do_not_verify() {
        let key = rfc_key();
        let public = key.to_public_key();
        let good = sign(&key, "k", &json!({ "sub": "a" })).unwrap();
        let parts: Vec<&str> = good.split('.').collect();
        let (h, p, s) = (parts[0], parts[1], parts[2]);
        let header = |json: &str| b64(json.as_bytes());
        let other_payload = b64(br#"{"sub":"admin"}"#);
        let unsigned_header = header(r#"{"alg":"none","kid":"k"}"#);
        // HS256 "signed" with the public modulus as the HMAC secret: the classic confusion.
        let hs_header = header(r#"{"alg":"HS256","kid":"k"}"#);
        let cases: Vec<(&str, String)> = vec![
            ("empty", String::new()),
            ("one dot", ".".into()),
            ("empty parts", "..".into()),
            ("not base64", "a.b.c".into()),
            ("two parts", format!("{h}.{p}")),
            ("four parts", format!("{good}.{s}")),
            ("trailing dot", format!("{good}.")),
            ("no signature", format!("{h}.{p}.")),
            ("other payload", format!("{h}.{other_payload}.{s}")),
            ("signature cut", format!("{h}.{p}.{}", &s[..s.len() - 4])),
            ("signature padded", format!("{good}==")),
            (
                "standard alphabet",
                good.replace('-', "+").replace('_', "/"),
            ),
            ("white space", format!(" {good}")),
            ("alg none", format!("{unsigned_header}.{p}.")),
            ("alg none signed", format!("{unsigned_header}.{p}.{s}")),
            ("alg HS256", format!("{hs_header}.{p}.{s}")),
            (
                "alg missing",
                format!("{}.{p}.{s}", header(r#"{"kid":"k"}"#)),
            ),
            (
                "alg lower case",
                format!("{}.{p}.{s}", header(r#"{"alg":"rs256"}"#)),
            ),
            (
                "header not JSON",
                format!("{}.{p}.{s}", header("alg=RS256")),
            ),
            (
                "header an array",
                format!("{}.{p}.{s}", header(r#"["RS256"]"#)),
            ),
            (
                "kid a number",
                forged(&key, r#"{"alg":"RS256","kid":7}"#, "{}"),
            ),
            (
                "crit",
                forged(&key, r#"{"alg":"RS256","crit":["exp"],"exp":1}"#, "{}"),
            ),
            (
                "payload an array",
                forged(&key, r#"{"alg":"RS256"}"#, "[1]"),
            ),
            (
                "payload a string",
                forged(&key, r#"{"alg":"RS256"}"#, "\"x\""),
            ),
            ("payload not JSON", forged(&key, r#"{"alg":"RS256"}"#, "{x")),
        ];
        for (name, token) in &cases {
            assert_eq!(verify(&public, token), None, "{name}: {token}");
        }
        assert!(
            verify(&public, &good).is_some(),
            "the unaltered token verifies"
        );
    }
}
