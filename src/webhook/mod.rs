//! WorkOS webhook events: the `WorkOS-Signature` check and the events that end sessions.
//!
//! WorkOS signs each delivery with the endpoint's secret: `WorkOS-Signature: t=<unix ms>,
//! v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. A delivery is taken only if its timestamp is
//! within the tolerance of now (either way) and the HMAC matches, compared in constant time
//! (aws-lc-rs). Of the events, three end sessions: `connection.deactivated` and
//! `connection.deleted` (every session signed in through that connection) and
//! `organization.deleted` (every session of that organization).

mod read;

use std::time::Duration;

use aws_lc_rs::hmac;
use serde::Deserialize;

use crate::store::Revocation;

pub(crate) use read::{ReadError, read_body};

/// Why a delivery was not taken; each has a stable code for logs, answers and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `WorkOS-Signature` header, or one that does not parse: 400.
    MalformedSignature,
    /// The timestamp is outside the tolerance: 401.
    Stale,
    /// The HMAC does not match: 401.
    BadSignature,
    /// The signed body is not a WorkOS event: 400.
    MalformedEvent,
}

impl Refusal {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Refusal::MalformedSignature => "malformed_signature",
            Refusal::Stale => "stale_signature",
            Refusal::BadSignature => "bad_signature",
            Refusal::MalformedEvent => "malformed_event",
        }
    }
}

/// Longest event id or object id taken.
const MAX_ID: usize = 256;

/// Checks `header` against `body` with `secret` at `now_ms`; the signature's timestamp (unix
/// ms) when it holds.
pub(crate) fn verify(
    secret: &[u8],
    header: Option<&[u8]>,
    body: &[u8],
    now_ms: u64,
    tolerance: Duration,
) -> Result<u64, Refusal> {
    let header = header
        .and_then(|header| std::str::from_utf8(header).ok())
        .filter(|header| header.len() <= 1024)
        .ok_or(Refusal::MalformedSignature)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<u64>().ok(),
            Some(("v1", value)) if signatures.len() < 8 => {
                signatures.push(hex(value).ok_or(Refusal::MalformedSignature)?);
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Refusal::MalformedSignature)?;
    if signatures.is_empty() {
        return Err(Refusal::MalformedSignature);
    }
    let tolerance_ms = u64::try_from(tolerance.as_millis()).unwrap_or(u64::MAX);
    if now_ms.abs_diff(timestamp) > tolerance_ms {
        return Err(Refusal::Stale);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut signed = Vec::with_capacity(body.len() + 21);
    signed.extend_from_slice(timestamp.to_string().as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    // `verify` compares in constant time.
    let matches = signatures
        .iter()
        .any(|signature| hmac::verify(&key, &signed, signature).is_ok());
    if matches {
        Ok(timestamp)
    } else {
        Err(Refusal::BadSignature)
    }
}

/// Lowercase or uppercase hex, at most 64 bytes' worth.
fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 128 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// A WorkOS event, as much of it as the layer reads.
#[derive(Debug, Deserialize)]
pub(crate) struct Event {
    /// `event_...`: the same on every delivery of one event.
    pub(crate) id: String,
    /// `connection.deleted`, `organization.deleted`, ...
    pub(crate) event: String,
    data: Data,
    /// When WorkOS created it (RFC 3339): the same on every delivery.
    #[serde(default)]
    created_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Data {
    id: Option<String>,
}

impl Event {
    /// A signed body read as an event.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, Refusal> {
        let event: Event = serde_json::from_slice(body).map_err(|_| Refusal::MalformedEvent)?;
        let ok = |id: &str| !id.is_empty() && id.len() <= MAX_ID;
        if !ok(&event.id) || event.event.len() > MAX_ID {
            return Err(Refusal::MalformedEvent);
        }
        if event.data.id.as_deref().is_some_and(|id| !ok(id)) {
            return Err(Refusal::MalformedEvent);
        }
        Ok(event)
    }

    /// The stable name of the event for logs and metrics: one of the three that end sessions,
    /// or `other`.
    pub(crate) fn kind(&self) -> &'static str {
        match self.event.as_str() {
            "connection.deactivated" => "connection.deactivated",
            "connection.deleted" => "connection.deleted",
            "organization.deleted" => "organization.deleted",
            _ => "other",
        }
    }

    /// When WorkOS created the event, in unix seconds, if it says so readably. A revocation is
    /// made as of then, so every delivery of one event revokes the very same.
    pub(crate) fn created_at(&self) -> Option<u64> {
        self.created_at
            .as_deref()
            .and_then(crate::time::rfc3339_seconds)
    }

    /// What the event revokes, if it ends sessions.
    pub(crate) fn revocation(&self) -> Result<Option<Revocation>, Refusal> {
        let id = || self.data.id.clone().ok_or(Refusal::MalformedEvent);
        Ok(match self.kind() {
            "connection.deactivated" | "connection.deleted" => Some(Revocation::Connection(id()?)),
            "organization.deleted" => Some(Revocation::Organization(id()?)),
            _ => None,
        })
    }
}

/// `WorkOS-Signature` for `body` at `timestamp_ms`, signed with `secret`: what WorkOS sends
/// (the testkit's fake signs its events with it).
#[cfg(any(test, feature = "testkit"))]
pub(crate) fn signature(secret: &[u8], timestamp_ms: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut signed = format!("{timestamp_ms}.").into_bytes();
    signed.extend_from_slice(body);
    let tag = hmac::sign(&key, &signed);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp_ms}, v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_unit";
    const NOW: u64 = 1_800_000_000_000;
    const WINDOW: Duration = Duration::from_secs(180);

    fn check(header: &str, body: &[u8], now: u64) -> Result<u64, Refusal> {
        verify(SECRET, Some(header.as_bytes()), body, now, WINDOW)
    }

    #[test]
    fn an_event_s_creation_time_is_read_when_it_has_one() {
        let event = Event::parse(
            br#"{"id":"e","event":"x","data":{},"created_at":"2026-01-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(event.created_at(), Some(1_767_225_600));
        let without = Event::parse(br#"{"id":"e","event":"x","data":{}}"#).unwrap();
        assert_eq!(without.created_at(), None);
    }

    #[test]
    fn a_signature_holds_only_for_its_body_secret_and_time() {
        let body = br#"{"id":"event_1","event":"connection.deleted","data":{"id":"conn_1"}}"#;
        let header = signature(SECRET, NOW, body);
        assert_eq!(check(&header, body, NOW), Ok(NOW));
        assert_eq!(check(&header, body, NOW + 180_000), Ok(NOW));
        assert_eq!(check(&header, body, NOW - 180_000), Ok(NOW));
        assert_eq!(check(&header, body, NOW + 180_001), Err(Refusal::Stale));
        assert_eq!(check(&header, body, NOW - 180_001), Err(Refusal::Stale));
        let mut other = body.to_vec();
        other[10] ^= 1;
        assert_eq!(check(&header, &other, NOW), Err(Refusal::BadSignature));
        let wrong = signature(b"whsec_other", NOW, body);
        assert_eq!(check(&wrong, body, NOW), Err(Refusal::BadSignature));
        // Another timestamp in the header does not carry the signature over.
        let moved = header.replace(&NOW.to_string(), &(NOW + 1).to_string());
        assert_eq!(check(&moved, body, NOW), Err(Refusal::BadSignature));
        // Uppercase hex and extra spaces are WorkOS's to send.
        assert_eq!(
            check(
                &header
                    .to_uppercase()
                    .replace("T=", "t=")
                    .replace("V1=", "v1="),
                body,
                NOW
            ),
            Ok(NOW)
        );
    }

    #[test]
    fn malformed_headers_are_refused_as_such() {
        let body = b"{}";
        for header in [
            "",
            "t=1",
            "v1=00",
            "t=abc, v1=00",
            "t=1, v1=zz",
            "t=1, v1=0",
            &format!("t=1, v1={}", "0".repeat(200)),
        ] {
            assert_eq!(
                check(header, body, NOW),
                Err(Refusal::MalformedSignature),
                "{header}"
            );
        }
        assert_eq!(
            verify(SECRET, None, body, NOW, WINDOW),
            Err(Refusal::MalformedSignature)
        );
        assert_eq!(
            verify(SECRET, Some(&[0xff, 0xfe]), body, NOW, WINDOW),
            Err(Refusal::MalformedSignature)
        );
    }

    #[test]
    fn three_events_end_sessions_and_the_rest_are_ignored() {
        let event = |name: &str, data: &str| {
            Event::parse(format!(r#"{{"id":"event_1","event":"{name}","data":{data}}}"#).as_bytes())
        };
        let conn = r#"{"id":"conn_1","organization_id":"org_1"}"#;
        for name in ["connection.deactivated", "connection.deleted"] {
            let parsed = event(name, conn).unwrap();
            assert_eq!(
                parsed.revocation(),
                Ok(Some(Revocation::Connection("conn_1".into())))
            );
        }
        let org = event("organization.deleted", r#"{"id":"org_1"}"#).unwrap();
        assert_eq!(
            org.revocation(),
            Ok(Some(Revocation::Organization("org_1".into())))
        );
        let other = event("connection.activated", conn).unwrap();
        assert_eq!((other.kind(), other.revocation()), ("other", Ok(None)));
        let without_id = event("organization.deleted", "{}").unwrap();
        assert_eq!(without_id.revocation(), Err(Refusal::MalformedEvent));
        for bad in [
            &b"not json"[..],
            br#"{"id":"","event":"x","data":{}}"#,
            br#"{"event":"x"}"#,
        ] {
            assert_eq!(Event::parse(bad).unwrap_err(), Refusal::MalformedEvent);
        }
        let long = format!(r#"{{"id":"{}","event":"x","data":{{}}}}"#, "e".repeat(300));
        assert_eq!(
            Event::parse(long.as_bytes()).unwrap_err(),
            Refusal::MalformedEvent
        );
    }
}
