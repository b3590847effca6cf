//! Signed WorkOS webhook deliveries: what the fake sends an app's webhook route, signed as
//! WorkOS signs them (`WorkOS-Signature: t=<unix ms>, v1=<hex HMAC-SHA256>`).

use std::time::{SystemTime, UNIX_EPOCH};

use super::MockWorkOs;
use crate::crypto::random_token;
use crate::webhook::signature;

/// A WorkOS event: its id (the same on every delivery), its type and its object.
#[derive(Clone, Debug)]
pub struct WebhookEvent {
    /// `event_...`, fresh for each event made here.
    pub id: String,
    /// `connection.deleted`, `organization.deleted`, ...
    pub event: String,
    /// The event's object (`{"id": "conn_..."}` and the like).
    pub data: serde_json::Value,
}

impl WebhookEvent {
    /// An event of type `event` about `data`, with a fresh id.
    pub fn new(event: &str, data: serde_json::Value) -> Self {
        Self {
            id: format!("event_{}", random_token(12)),
            event: event.to_owned(),
            data,
        }
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
            "created_at": "2026-01-01T00:00:00.000Z",
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
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        self.send_webhook_at(url, secret, event, now).await
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
