//! A flow cookie's value, format 2: `2.` + base64url(payload) + `.` + base64url(MAC).
//!
//! Not a JWT, unlike the session: only this crate reads a flow cookie, for the few minutes of
//! one login, and every login writes one, so it carries no header and no JSON. The payload is
//! the claims in a fixed order: a flags byte, `iat` and `exp` (big-endian `u64`), then the
//! state, the PKCE verifier, `return_to`, the selector's value and the nonce, each as a
//! big-endian `u16` length and its bytes (the selector's kind and whether there is a nonce are
//! flags).
//!
//! The MAC is HMAC-SHA256 under the flow key of a configured secret (derived as the JWT rings
//! derive theirs, purpose `flow`, so no session key ever verifies a flow), over a prefix naming
//! the issuer and audience (another app's flows never verify here) and then the text
//! `2.<payload>`. It is checked, with every configured key, before a byte of the payload is read.

use aws_lc_rs::{constant_time, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::FlowClaims;
use crate::crypto;
use crate::secret::{SessionSecret, Token};
use crate::token::{MAX_TOKEN_LEN, TokenError};

/// What every value of this format starts with; a v1 flow (a JWT, `eyJ…`) is refused.
const VERSION: &str = "2.";
/// base64url of a 32-byte MAC, unpadded.
const MAC_TEXT_LEN: usize = 43;

const CROSS_SITE: u8 = 1;
const IDP_INITIATED: u8 = 1 << 1;
const NONCE: u8 = 1 << 2;
/// Two bits: no selector (0), or its kind, [`SELECTOR_KINDS`]`[n - 1]`.
const SELECTOR_SHIFT: u8 = 3;
const SELECTOR_MASK: u8 = 0b11 << SELECTOR_SHIFT;
const SELECTOR_KINDS: [&str; 3] = ["organization", "connection", "provider"];

/// The flow keys of every configured secret, newest first, each an HMAC that has already
/// absorbed the issuer and audience.
pub(super) struct FlowKeys {
    macs: Vec<hmac::Context>,
}

impl FlowKeys {
    pub(super) fn new(secrets: &[SessionSecret], issuer: &str, audience: &str) -> Self {
        let prefix = format!("tower-workos-sso/flow/2\n{issuer}\n{audience}\n");
        let macs = secrets
            .iter()
            .map(|secret| {
                let key = zeroize::Zeroizing::new(crypto::derive_key(
                    secret.expose(),
                    "tower-workos-sso/v1/flow",
                ));
                let mut mac = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, &key));
                mac.update(prefix.as_bytes());
                mac
            })
            .collect();
        Self { macs }
    }

    fn mac(&self, key: usize, message: &[u8]) -> hmac::Tag {
        let mut mac = self.macs[key].clone();
        mac.update(message);
        mac.sign()
    }

    /// The cookie value of `claims`, signed with the newest key.
    pub(super) fn seal(&self, claims: &FlowClaims<&str>) -> Token {
        let strings = [
            claims.state,
            claims.pkce_verifier,
            claims.return_to,
            claims.selector.map_or("", |(_, value)| value),
            claims.nonce.unwrap_or(""),
        ];
        let mut payload = zeroize::Zeroizing::new(Vec::with_capacity(
            17 + strings.iter().map(|s| 2 + s.len()).sum::<usize>(),
        ));
        payload.push(flags(claims));
        payload.extend_from_slice(&claims.iat.to_be_bytes());
        payload.extend_from_slice(&claims.exp.to_be_bytes());
        for text in strings {
            // `return_to` is capped far below 64 KiB; the rest are short ids and tokens.
            let len = u16::try_from(text.len()).expect("flow fields are short");
            payload.extend_from_slice(&len.to_be_bytes());
            payload.extend_from_slice(text.as_bytes());
        }
        let mut token =
            String::with_capacity(VERSION.len() + payload.len().div_ceil(3) * 4 + 1 + MAC_TEXT_LEN);
        token.push_str(VERSION);
        crypto::push_base64url(&mut token, &payload);
        let mac = self.mac(0, token.as_bytes());
        token.push('.');
        crypto::push_base64url(&mut token, mac.as_ref());
        Token::new(token)
    }

    /// The claims of a value this layer sealed with any configured key. Times are the
    /// caller's to check.
    pub(super) fn open(&self, value: &str) -> Result<FlowClaims, TokenError> {
        if value.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong);
        }
        let (message, mac_text) = value.rsplit_once('.').ok_or(TokenError::Malformed)?;
        if !message.starts_with(VERSION) || mac_text.len() != MAC_TEXT_LEN {
            return Err(TokenError::Malformed);
        }
        let mut mac = [0u8; 33];
        let decoded = URL_SAFE_NO_PAD
            .decode_slice(mac_text, &mut mac)
            .map_err(|_| TokenError::Invalid)?;
        let signed = (0..self.macs.len()).any(|key| {
            let expected = self.mac(key, message.as_bytes());
            constant_time::verify_slices_are_equal(expected.as_ref(), &mac[..decoded]).is_ok()
        });
        if !signed {
            return Err(TokenError::Invalid);
        }
        let payload = zeroize::Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(&message[VERSION.len()..])
                .map_err(|_| TokenError::Invalid)?,
        );
        read(&payload).ok_or(TokenError::Invalid)
    }
}

fn flags(claims: &FlowClaims<&str>) -> u8 {
    let kind = claims.selector.map_or(0, |(name, _)| {
        let index = SELECTOR_KINDS
            .iter()
            .position(|kind| *kind == name)
            .expect("a selector's parameter is one of its three kinds");
        index as u8 + 1
    });
    (u8::from(claims.cross_site) * CROSS_SITE)
        | (u8::from(claims.idp_initiated) * IDP_INITIATED)
        | (u8::from(claims.nonce.is_some()) * NONCE)
        | (kind << SELECTOR_SHIFT)
}

/// The claims of a payload whose MAC verified; `None` if it is not one this module wrote.
fn read(payload: &[u8]) -> Option<FlowClaims> {
    let mut reader = Reader(payload);
    let flags = reader.take(1)?[0];
    if flags & !(CROSS_SITE | IDP_INITIATED | NONCE | SELECTOR_MASK) != 0 {
        return None;
    }
    let iat = reader.u64()?;
    let exp = reader.u64()?;
    let state = reader.text()?;
    let pkce_verifier = reader.text()?;
    let return_to = reader.text()?;
    let selector_value = reader.text()?;
    let nonce = reader.text()?;
    if !reader.0.is_empty() {
        return None;
    }
    let selector = match (flags & SELECTOR_MASK) >> SELECTOR_SHIFT {
        0 if selector_value.is_empty() => None,
        0 => return None,
        kind => Some((
            SELECTOR_KINDS.get(usize::from(kind) - 1)?.to_string(),
            selector_value,
        )),
    };
    let nonce = match flags & NONCE {
        0 if nonce.is_empty() => None,
        0 => return None,
        _ => Some(nonce),
    };
    Some(FlowClaims {
        state,
        pkce_verifier,
        return_to,
        selector,
        cross_site: flags & CROSS_SITE != 0,
        idp_initiated: flags & IDP_INITIATED != 0,
        nonce,
        iat,
        exp,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    fn text(&mut self) -> Option<String> {
        let len = u16::from_be_bytes(self.take(2)?.try_into().ok()?);
        let bytes = self.take(usize::from(len))?;
        Some(std::str::from_utf8(bytes).ok()?.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secrets: &[&[u8]]) -> FlowKeys {
        let secrets: Vec<_> = secrets
            .iter()
            .map(|s| SessionSecret::new(s.to_vec()))
            .collect();
        FlowKeys::new(&secrets, "https://app.test", "client_1")
    }

    fn claims() -> FlowClaims<&'static str> {
        FlowClaims {
            state: "st",
            pkce_verifier: "pv",
            return_to: "/a?b=c;d",
            selector: Some(("connection", "conn_1")),
            cross_site: true,
            idp_initiated: false,
            nonce: Some("n"),
            iat: 1000,
            exp: 1600,
        }
    }

    #[test]
    fn a_sealed_flow_opens_to_the_same_claims_with_any_configured_key() {
        let old = keys(&[&[1; 32]]);
        let rotated = keys(&[&[2; 32], &[1; 32]]);
        let sealed = old.seal(&claims());
        let value = sealed.expose();
        assert!(
            value.starts_with("2.") && value.split('.').count() == 3,
            "{value}"
        );
        for keys in [&old, &rotated] {
            let opened = keys.open(value).unwrap();
            assert_eq!(opened.state, "st");
            assert_eq!(opened.pkce_verifier, "pv");
            assert_eq!(opened.return_to, "/a?b=c;d");
            assert_eq!(
                opened.selector,
                Some(("connection".to_owned(), "conn_1".to_owned()))
            );
            assert!(opened.cross_site && !opened.idp_initiated);
            assert_eq!(opened.nonce.as_deref(), Some("n"));
            assert_eq!((opened.iat, opened.exp), (1000, 1600));
        }
        let plain = FlowClaims {
            selector: None,
            nonce: None,
            cross_site: false,
            idp_initiated: true,
            ..claims()
        };
        let opened = old.open(old.seal(&plain).expose()).unwrap();
        assert!(opened.selector.is_none() && opened.nonce.is_none() && opened.idp_initiated);
    }

    #[test]
    fn another_secret_issuer_or_audience_never_opens_a_flow() {
        let sealed = keys(&[&[1; 32]]).seal(&claims());
        assert_eq!(
            keys(&[&[2; 32]]).open(sealed.expose()).err(),
            Some(TokenError::Invalid)
        );
        let secret = [SessionSecret::new(vec![1; 32])];
        for (issuer, audience) in [
            ("https://other.test", "client_1"),
            ("https://app.test", "c2"),
        ] {
            let other = FlowKeys::new(&secret, issuer, audience);
            assert!(other.open(sealed.expose()).is_err(), "{issuer} {audience}");
        }
    }

    #[test]
    fn every_changed_or_missing_byte_is_refused() {
        let keys = keys(&[&[1; 32]]);
        let sealed = keys.seal(&claims());
        let value = sealed.expose();
        for i in 0..value.len() {
            let mut bytes = value.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(keys.open(&changed).is_err(), "byte {i}");
            assert!(keys.open(&value[..i]).is_err(), "cut at {i}");
        }
        assert_eq!(keys.open("").err(), Some(TokenError::Malformed));
        assert_eq!(
            keys.open(&"x".repeat(MAX_TOKEN_LEN + 1)).err(),
            Some(TokenError::TooLong)
        );
    }

    #[test]
    fn a_validly_signed_payload_this_module_did_not_write_is_refused() {
        let keys = keys(&[&[1; 32]]);
        let sealed = |payload: &[u8]| {
            let mut text = format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(payload));
            let mac = keys.mac(0, text.as_bytes());
            text.push('.');
            text.push_str(&URL_SAFE_NO_PAD.encode(mac));
            text
        };
        let good = URL_SAFE_NO_PAD
            .decode(
                keys.seal(&claims()).expose()[2..]
                    .split('.')
                    .next()
                    .unwrap(),
            )
            .unwrap();
        assert!(keys.open(&sealed(&good)).is_ok());
        let mut unknown_flag = good.clone();
        unknown_flag[0] |= 0x80;
        let mut trailing = good.clone();
        trailing.push(0);
        let mut not_utf8 = good.clone();
        not_utf8[19] = 0xff; // the state's first byte
        for (what, payload) in [
            ("unknown flag", unknown_flag),
            ("trailing byte", trailing),
            ("truncated", good[..good.len() - 1].to_vec()),
            ("not UTF-8", not_utf8),
            ("empty", Vec::new()),
        ] {
            assert_eq!(
                keys.open(&sealed(&payload)).err(),
                Some(TokenError::Invalid),
                "{what}"
            );
        }
    }
}
