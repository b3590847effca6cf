//! `KeyRing`: HS256 JWTs for one purpose, signed with the newest key and verified with all.
//!
//! Each key's id (`kid`, in the token header) is a short hash of the derived key, so verifying
//! picks the one key to try instead of trying them all. Every purpose (session, login flow)
//! derives its own keys from the configured secrets, so a token made for one never verifies as
//! another. Times are not checked here: each purpose checks its own, with the crate's clock.
//!
//! jsonwebtoken is the verifier of record: it checks every signature. A token whose header is
//! byte for byte the one this ring writes (the tokens the crate issued) has its signature
//! checked with `jsonwebtoken::crypto::verify` and its claims parsed once, with the issuer and
//! audience compared here; any other header goes through `jsonwebtoken::decode` and its full
//! validation, as before. `jsonwebtoken::decode` parses the header twice and the claims twice
//! (once more for its own checks), which was most of the cost of a request. Its
//! `crypto::sign`/`verify` also build a signer or verifier (and its HMAC key) on every call; the
//! ring keeps the ones jsonwebtoken's provider builds for each key, per thread (`prepared`).

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier};
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

/// Claims that say who issued them and for whom: checked on every verification.
pub(crate) trait Addressed: Sized {
    fn issuer(&self) -> &str;
    fn audience(&self) -> &str;
    /// The claims of a payload whose signature verified (its JSON, checked as UTF-8).
    fn from_payload(json: &str) -> Option<Self>;
}

/// Signing keys for one purpose, newest first.
pub(crate) struct KeyRing {
    keys: Vec<RingKey>,
    validation: Validation,
    issuer: String,
    audience: String,
}

struct RingKey {
    /// Unique in the process: names this key's prepared signer and verifier (`PREPARED`).
    id: u64,
    kid: String,
    /// The encoded header this key's tokens carry (`{"typ":"JWT","alg":"HS256","kid":…}`).
    header: String,
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
                // A short hash of the derived key: names the key, reveals nothing of it.
                let kid = crypto::sha256_b64(&key)[..11].to_owned();
                RingKey {
                    id: NEXT_KEY_ID.fetch_add(1, Ordering::Relaxed),
                    header: encoded_header(&kid),
                    kid,
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
        Self {
            keys,
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        }
    }

    /// The token `jsonwebtoken::encode` would write, built in one buffer around the header
    /// encoded once per key; jsonwebtoken signs it.
    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Token {
        let key = &self.keys[0];
        let json = serde_json::to_vec(claims).expect("plain serde claims serialise");
        let mut token = String::with_capacity(key.header.len() + json.len() * 4 / 3 + 48);
        token.push_str(&key.header);
        token.push('.');
        crypto::push_base64url(&mut token, &json);
        let signature = key
            .with_prepared(|prepared| prepared.signer.try_sign(token.as_bytes()))
            .expect("HS256 signing with a 32-byte key cannot fail");
        token.push('.');
        crypto::push_base64url(&mut token, &signature);
        Token::new(token)
    }

    pub(crate) fn verify<T: DeserializeOwned + Addressed>(
        &self,
        token: &str,
    ) -> Result<Verified<T>, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong);
        }
        let Some((message, signature)) = token.rsplit_once('.') else {
            return Err(TokenError::Malformed);
        };
        let Some((header, payload)) = message.split_once('.') else {
            return Err(TokenError::Malformed);
        };
        match self.keys.iter().position(|key| key.header == header) {
            Some(index) => self.verify_issued(index, message, payload, signature),
            None => self.verify_any_header(token),
        }
    }

    /// A token with the header key `index` writes: its signature checked by jsonwebtoken, its
    /// claims parsed once.
    fn verify_issued<T: DeserializeOwned + Addressed>(
        &self,
        index: usize,
        message: &str,
        payload: &str,
        signature: &str,
    ) -> Result<Verified<T>, TokenError> {
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Invalid)?;
        let signed = self.keys[index]
            .with_prepared(|prepared| prepared.verifier.verify(message.as_bytes(), &signature));
        if signed.is_err() {
            return Err(TokenError::Invalid);
        }
        // Decoded on the stack: the claims keep what they need of it (`from_payload`).
        let mut decoded = [0u8; MAX_TOKEN_LEN / 4 * 3];
        let len = URL_SAFE_NO_PAD
            .decode_slice(payload, &mut decoded)
            .map_err(|_| TokenError::Invalid)?;
        // Checked as UTF-8 once here, so the parser does not check every string again.
        let json = std::str::from_utf8(&decoded[..len]).map_err(|_| TokenError::Invalid)?;
        let claims = T::from_payload(json).ok_or(TokenError::Invalid)?;
        if claims.issuer() != self.issuer || claims.audience() != self.audience {
            return Err(TokenError::Invalid);
        }
        Ok(Verified {
            claims,
            current_key: index == 0,
        })
    }

    /// Any other header: jsonwebtoken's own decoding and validation, header to claims.
    fn verify_any_header<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<T>, TokenError> {
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

/// Ids for [`RingKey::id`].
static NEXT_KEY_ID: AtomicU64 = AtomicU64::new(0);

/// How many keys' signers and verifiers a thread keeps: a layer has a few (sessions and flows,
/// the current and the retired secrets); more are rebuilt as needed.
const PREPARED_PER_THREAD: usize = 8;

/// jsonwebtoken's signer and verifier for one key, as its crypto provider builds them.
struct Prepared {
    key: u64,
    signer: Box<dyn JwtSigner>,
    verifier: Box<dyn JwtVerifier>,
}

thread_local! {
    /// The signers and verifiers this thread built, newest last. Trait objects that are neither
    /// `Send` nor `Sync`, so each thread keeps its own; a key's stay until newer ones push them
    /// out, also after its layer is gone.
    static PREPARED: RefCell<Vec<Prepared>> = const { RefCell::new(Vec::new()) };
}

impl RingKey {
    /// Runs `use_it` with this key's signer and verifier, built by jsonwebtoken's default
    /// crypto provider the first time this thread needs them.
    fn with_prepared<R>(
        &self,
        use_it: impl FnOnce(&Prepared) -> Result<R, jsonwebtoken::signature::Error>,
    ) -> Result<R, TokenError> {
        PREPARED.with(|prepared| {
            let mut prepared = prepared.borrow_mut();
            let at = match prepared.iter().position(|p| p.key == self.id) {
                Some(at) => at,
                None => {
                    if prepared.len() == PREPARED_PER_THREAD {
                        prepared.remove(0);
                    }
                    prepared.push(self.prepare()?);
                    prepared.len() - 1
                }
            };
            use_it(&prepared[at]).map_err(|_| TokenError::Invalid)
        })
    }

    fn prepare(&self) -> Result<Prepared, TokenError> {
        // `None` only when the build enables both of jsonwebtoken's backends and installs
        // neither; jsonwebtoken's own `encode`/`decode` would fail the same way.
        let provider = CryptoProvider::try_get_default().ok_or(TokenError::Invalid)?;
        let signer = (provider.signer_factory)(&Algorithm::HS256, &self.encoding);
        let verifier = (provider.verifier_factory)(&Algorithm::HS256, &self.decoding);
        match (signer, verifier) {
            (Ok(signer), Ok(verifier)) => Ok(Prepared {
                key: self.id,
                signer,
                verifier,
            }),
            _ => Err(TokenError::Invalid),
        }
    }
}

/// The header the ring signs with for key `kid`.
fn header_of(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    header
}

/// The header's first segment exactly as `jsonwebtoken::encode` writes it for key `kid`.
fn encoded_header(kid: &str) -> String {
    let json = serde_json::to_vec(&header_of(kid)).expect("a JWT header serialises");
    URL_SAFE_NO_PAD.encode(json)
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

    impl Addressed for Claims {
        fn issuer(&self) -> &str {
            &self.iss
        }
        fn audience(&self) -> &str {
            &self.aud
        }
        fn from_payload(json: &str) -> Option<Self> {
            serde_json::from_str(json).ok()
        }
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

    #[test]
    fn tokens_are_what_jsonwebtoken_encode_writes() {
        let ring = ring(&[&[1; 32]], "p");
        let key = &ring.keys[0];
        let encoded = jsonwebtoken::encode(&header_of(&key.kid), &claims(), &key.encoding).unwrap();
        assert_eq!(ring.sign(&claims()).expose(), encoded);
    }

    #[test]
    fn more_keys_than_a_thread_keeps_prepared_still_sign_and_verify() {
        let rings: Vec<KeyRing> = (0..PREPARED_PER_THREAD as u8 * 2 + 1)
            .map(|i| ring(&[&[i + 1; 32]], "p"))
            .collect();
        for _ in 0..2 {
            for (i, ring) in rings.iter().enumerate() {
                let token = ring.sign(&claims());
                assert!(ring.verify::<Claims>(token.expose()).is_ok(), "ring {i}");
                let other = &rings[(i + 1) % rings.len()];
                assert!(other.verify::<Claims>(token.expose()).is_err(), "ring {i}");
            }
        }
        PREPARED.with(|prepared| assert!(prepared.borrow().len() <= PREPARED_PER_THREAD));
    }

    #[test]
    fn issued_tokens_carry_the_header_the_fast_path_expects() {
        let ring = ring(&[&[1; 32]], "p");
        let token = ring.sign(&claims());
        let header = token.expose().split('.').next().unwrap();
        assert_eq!(header, ring.keys[0].header);
    }

    /// A token with the ring's header but claims for another issuer or audience, signed with
    /// the ring's own key: only the claim checks can refuse it.
    #[test]
    fn the_fast_path_checks_issuer_audience_and_signature() {
        let ring = ring(&[&[1; 32]], "p");
        let secrets = [SessionSecret::new([1u8; 32])];
        for (iss, aud) in [("other", "aud"), ("iss", "other")] {
            let foreign = KeyRing::new(&secrets, "p", iss, aud).sign(&Claims {
                iss: iss.into(),
                aud: aud.into(),
                n: 7,
            });
            assert_eq!(
                foreign.expose().split('.').next(),
                Some(&*ring.keys[0].header)
            );
            assert_eq!(
                ring.verify::<Claims>(foreign.expose()).err(),
                Some(TokenError::Invalid)
            );
        }
        let token = ring.sign(&claims());
        let (message, _) = token.expose().rsplit_once('.').unwrap();
        let other_key = super::tests::ring(&[&[9; 32]], "p").sign(&claims());
        let (_, other_signature) = other_key.expose().rsplit_once('.').unwrap();
        let forged = format!("{message}.{other_signature}");
        assert_eq!(
            ring.verify::<Claims>(&forged).err(),
            Some(TokenError::Invalid)
        );
        let (header, _) = message.split_once('.').unwrap();
        let payload = URL_SAFE_NO_PAD.encode(br#"{"iss":"iss","aud":"aud","n":8}"#);
        let (_, signature) = token.expose().rsplit_once('.').unwrap();
        let tampered = format!("{header}.{payload}.{signature}");
        assert_eq!(
            ring.verify::<Claims>(&tampered).err(),
            Some(TokenError::Invalid)
        );
    }

    /// Another spelling of the same header (keys reordered) takes jsonwebtoken's full path
    /// and verifies the same.
    #[test]
    fn other_header_spellings_go_through_jsonwebtoken_decode() {
        let ring = ring(&[&[1; 32]], "p");
        let kid = &ring.keys[0].kid;
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"kid":"{kid}","alg":"HS256"}}"#));
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap());
        let message = format!("{header}.{payload}");
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &ring.keys[0].encoding,
            Algorithm::HS256,
        )
        .unwrap();
        let token = format!("{message}.{signature}");
        assert_eq!(ring.verify::<Claims>(&token).unwrap().claims, claims());
        let none = URL_SAFE_NO_PAD.encode(format!(r#"{{"kid":"{kid}","alg":"none"}}"#));
        assert!(
            ring.verify::<Claims>(&format!("{none}.{payload}."))
                .is_err()
        );
    }
}
