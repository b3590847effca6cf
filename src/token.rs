//! `KeyRing`: HS256 JWTs for one purpose, signed with the newest key and verified with all.
//!
//! Each key's id (`kid`, in the token header) is a short hash of the derived key, so verifying
//! picks the one key to try instead of trying them all. Every purpose (session, login flow)
//! derives its own keys from the configured secrets, so a token made for one never verifies as
//! another. Times are not checked here: each purpose checks its own, with the crate's clock.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::crypto;
use crate::secret::{SessionSecret, Token};

/// The longest token the crate reads: anything longer is refused before any parsing.
pub(crate) const MAX_TOKEN_LEN: usize = 4096;

/// Why a token was refused. Carries no part of the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenError {
    TooLong,
    Malformed,
    UnknownKey,
    Invalid,
    Expired,
    NotYetValid,
}

/// Signing keys for one purpose, newest first.
pub(crate) struct KeyRing {
    keys: Vec<RingKey>,
    validation: Validation,
}

struct RingKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// A verified token's claims, and whether the current key signed it.
pub(crate) struct Verified<T> {
    pub(crate) claims: T,
    pub(crate) current_key: bool,
}

impl KeyRing {
    pub(crate) fn new(
        secrets: &[SessionSecret],
        purpose: &str,
        issuer: &str,
        audience: &str,
    ) -> Self {
        let label = format!("tower-workos-sso/v1/{purpose}");
        let keys = secrets
            .iter()
            .map(|secret| {
                let key = zeroize::Zeroizing::new(crypto::derive_key(secret.expose(), &label));
                RingKey {
                    // A short hash of the derived key: names the key, reveals nothing of it.
                    kid: crypto::sha256_b64(&key)[..11].to_owned(),
                    // Refused only when empty; a derived key is always 32 bytes.
                    encoding: EncodingKey::from_secret(&key).expect("a 32-byte HMAC key"),
                    decoding: DecodingKey::from_secret(&key).expect("a 32-byte HMAC key"),
                }
            })
            .collect();
        let mut validation = Validation::new(Algorithm::HS256);
        // Times are checked by the crate with its own clock and leeway.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        Self { keys, validation }
    }

    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Token {
        let key = &self.keys[0];
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(&header, claims, &key.encoding)
            .expect("HS256 signing of plain serde claims cannot fail");
        Token::new(token)
    }

    pub(crate) fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<T>, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let index = self
            .keys
            .iter()
            .position(|key| crypto::constant_time_eq(key.kid.as_bytes(), kid.as_bytes()))
            .ok_or(TokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<T>(token, &self.keys[index].decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        Ok(Verified {
            claims: data.claims,
            current_key: index == 0,
        })
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenError::TooLong => "token too long",
            TokenError::Malformed => "token malformed",
            TokenError::UnknownKey => "token signed with an unknown key",
            TokenError::Invalid => "token signature or claims invalid",
            TokenError::Expired => "token expired",
            TokenError::NotYetValid => "token not yet valid",
        })
    }
}

impl std::error::Error for TokenError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Claims {
        iss: String,
        aud: String,
        n: u32,
    }

    fn ring(secrets: &[&[u8]], purpose: &str) -> KeyRing {
        let secrets: Vec<_> = secrets.iter().map(|s| SessionSecret::new(*s)).collect();
        KeyRing::new(&secrets, purpose, "iss", "aud")
    }

    fn claims() -> Claims {
        Claims {
            iss: "iss".into(),
            aud: "aud".into(),
            n: 7,
        }
    }

    #[test]
    fn the_newest_key_signs_and_every_key_verifies() {
        let old = ring(&[&[2; 32]], "p").sign(&claims());
        let both = ring(&[&[1; 32], &[2; 32]], "p");
        let new = both.sign(&claims());
        assert!(both.verify::<Claims>(new.expose()).unwrap().current_key);
        let verified = both.verify::<Claims>(old.expose()).unwrap();
        assert!(!verified.current_key);
        assert_eq!(verified.claims, claims());
    }

    #[test]
    fn other_purposes_unknown_keys_and_oversize_tokens_are_refused() {
        let token = ring(&[&[1; 32]], "flow").sign(&claims());
        let sessions = ring(&[&[1; 32]], "session");
        assert_eq!(
            sessions.verify::<Claims>(token.expose()).err(),
            Some(TokenError::UnknownKey)
        );
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            sessions.verify::<Claims>(&long).err(),
            Some(TokenError::TooLong)
        );
        assert_eq!(
            sessions.verify::<Claims>("not.a.jwt").err(),
            Some(TokenError::Malformed)
        );
    }
}
