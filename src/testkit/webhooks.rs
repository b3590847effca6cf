//! Signed WorkOS webhook deliveries: what the fake sends an app's webhook route, signed as
//! WorkOS signs them (`WorkOS-Signature: t=<unix ms>, v1=<hex HMAC-SHA256>`).

use std::time::{SystemTime, UNIX_EPOCH};

use super::MockWorkOs;
use crate::crypto::random_token;
use crate::webhook::signature;

/// A WorkOS event: its id and creation time (the same on every delivery), its type and its
/// object.
#[derive(Clone, Debug)]
pub struct WebhookEvent {
    /// `event_...`, fresh for each event made here.
    pub id: String,
    /// `connection.deleted`, `organization.deleted`, ...
    pub event: String,
    /// The event's object (`{"id": "conn_..."}` and the like).
    pub data: serde_json::Value,
    /// When WorkOS created the event, in unix milliseconds (sent as `created_at`, RFC 3339):
    /// the system clock's now when made here.
    pub created_at_ms: u64,
}

impl WebhookEvent {
    /// An event of type `event` about `data`, with a fresh id.
    pub fn new(event: &str, data: serde_json::Value) -> Self {
        Self {
            id: format!("event_{}", random_token(12)),
            event: event.to_owned(),
            data,
            created_at_ms: now_ms(),
        }
    }

    /// The same event created at `unix_ms`: for an app on a clock of its own.
    pub fn with_created_at(mut self, unix_ms: u64) -> Self {
        self.created_at_ms = unix_ms;
        self
    }

    /// `connection.deleted` for the connection `id`.
    pub fn connection_deleted(id: &str) -> Self {
        Self::new(
            "connection.deleted",
            serde_json::json!({ "id": id, "object": "connection" }),
        )
    }

    /// `connection.deactivated` for the connection `id`.
    pub fn connection_deactivated(id: &str) -> Self {
        let data = serde_json::json!({ "id": id, "object": "connection", "state": "inactive" });
        Self::new("connection.deactivated", data)
    }

    /// `organization.deleted` for the organization `id`.
    pub fn organization_deleted(id: &str) -> Self {
        Self::new(
            "organization.deleted",
            serde_json::json!({ "id": id, "object": "organization" }),
        )
    }

    /// The delivery's body, as WorkOS sends it.
    pub fn body(&self) -> String {
        serde_json::json!({
            "id": self.id, "event": self.event, "data": self.data,
            "created_at": rfc3339(self.created_at_ms),
        })
        .to_string()
    }

    /// The `WorkOS-Signature` of [`body`](Self::body) at `timestamp_ms`, with `secret`.
    pub fn signature(&self, secret: &[u8], timestamp_ms: u64) -> String {
        signature(secret, timestamp_ms, self.body().as_bytes())
    }
}

impl MockWorkOs {
    /// Delivers `event` to `url` as WorkOS would: `POST`, JSON, signed now (the system clock)
    /// with `secret` (the endpoint's secret). Returns the app's answer.
    pub async fn send_webhook(
        &self,
        url: &str,
        secret: &[u8],
        event: &WebhookEvent,
    ) -> Result<reqwest::Response, reqwest::Error> {
        self.send_webhook_at(url, secret, event, now_ms()).await
    }

    /// [`send_webhook`](Self::send_webhook) signed at `timestamp_ms` (unix milliseconds): for an
    /// app on a clock of its own, whose window the signature must fall in whatever the wall
    /// clock says.
    pub async fn send_webhook_at(
        &self,
        url: &str,
        secret: &[u8],
        event: &WebhookEvent,
        timestamp_ms: u64,
    ) -> Result<reqwest::Response, reqwest::Error> {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("workos-signature", event.signature(secret, timestamp_ms))
            .body(event.body())
            .send()
            .await
    }
}

/// Now on the system clock, in unix milliseconds.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

/// `unix_ms` as WorkOS writes times: `2026-01-01T00:00:00.000Z`.
fn rfc3339(unix_ms: u64) -> String {
    let (days, ms) = (unix_ms / 86_400_000, unix_ms % 86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute) = (ms / 3_600_000, ms / 60_000 % 60);
    let (second, milli) = (ms / 1000 % 60, ms % 1000);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
}

/// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_workos_writes_them_and_read_back_by_the_route() {
        for (unix_ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_767_225_600_000, "2026-01-01T00:00:00.000Z"),
            (1_709_204_400_123, "2024-02-29T11:00:00.123Z"),
            (951_825_599_999, "2000-02-29T11:59:59.999Z"),
            (4_102_444_799_000, "2099-12-31T23:59:59.000Z"),
        ] {
            assert_eq!(rfc3339(unix_ms), text);
            assert_eq!(crate::time::rfc3339_seconds(text), Some(unix_ms / 1000));
        }
    }
}
