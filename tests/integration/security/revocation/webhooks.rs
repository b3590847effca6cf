//! SECURITY.md H1-H4: the WorkOS webhook route. A signed `connection.deactivated`,
//! `connection.deleted` or `organization.deleted` ends the sessions signed in through it; a
//! delivery without a valid, fresh signature is refused and changes nothing; a replayed event
//! changes nothing; bodies are bounded; the route is off unless configured.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde_json::Value;
use tower_workos_sso::store::{
    BoxFuture, MemoryStore, Revocation, SessionRef, SessionStore, StoreError,
};
use tower_workos_sso::testkit::{MockWorkOs, WebhookEvent};

use super::app::{self, App, Use};

const SECRET: &[u8] = b"whsec_integration_test_secret";
const PATH: &str = "/auth/webhooks/workos";

async fn start() -> App {
    app::start(|b| b.workos_webhooks(SECRET)).await
}

/// The app's clock in unix milliseconds: it stands still between `advance` calls, so a
/// signature made from the wall clock could drift out of the window on a slow machine, and an
/// event created on the wall clock could seem created after a later sign-in.
fn now_ms(app: &App) -> u64 {
    app.now() * 1000
}

/// Delivers `body` with `signature` (if any); the status and the JSON answer.
async fn deliver(app: &App, body: &str, signature: Option<&str>) -> (StatusCode, Value) {
    let mut request = app
        .client()
        .post(app.url(PATH))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("workos-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `event` delivered by the fake, signed with `secret` at the app's now.
async fn send(app: &App, event: &WebhookEvent, secret: &[u8]) -> (StatusCode, Value) {
    let workos = MockWorkOs::start().await.unwrap();
    let response = workos
        .send_webhook_at(&app.url(PATH), secret, event, now_ms(app))
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn h1_a_deleted_or_deactivated_connection_or_deleted_organization_ends_its_sessions() {
    for event in [
        WebhookEvent::connection_deleted("conn_01ACMEOKTA"),
        WebhookEvent::connection_deactivated("conn_01ACMEOKTA"),
        WebhookEvent::organization_deleted("org_01ACME"),
    ] {
        let app = start().await;
        let event = event.with_created_at(now_ms(&app));
        let token = app.sign_in("login_hint=alice%40example.com").await;
        // Another tenant's event, and an event that ends nothing, leave the session alone.
        for other in [
            WebhookEvent::connection_deleted("conn_01GLOBEXENTRA"),
            WebhookEvent::organization_deleted("org_01GLOBEX"),
            WebhookEvent::new(
                "connection.activated",
                serde_json::json!({"id": "conn_01ACMEOKTA"}),
            ),
        ] {
            let (status, answer) = send(&app, &other, SECRET).await;
            assert_eq!(status, StatusCode::OK, "{}", other.event);
            assert!(app.opens(&token, Use::Cookie).await, "{}", other.event);
            let expected = if other.event == "connection.activated" {
                "ignored"
            } else {
                "revoked"
            };
            assert_eq!(answer["status"], expected);
        }
        let (status, answer) = send(&app, &event, SECRET).await;
        assert_eq!(
            (status, &answer["status"]),
            (StatusCode::OK, &"revoked".into())
        );
        assert!(!app.opens(&token, Use::Cookie).await, "{}", event.event);
        assert!(!app.opens(&token, Use::Bearer).await, "{}", event.event);
        // Signing in again afterwards works.
        app.advance(Duration::from_secs(2));
        let again = app.sign_in("login_hint=alice%40example.com").await;
        assert!(app.opens(&again, Use::Cookie).await);
    }
}

#[tokio::test]
async fn h2_a_delivery_without_a_valid_fresh_signature_is_refused_and_changes_nothing() {
    let app = start().await;
    let token = app.sign_in("login_hint=alice%40example.com").await;
    let event = WebhookEvent::connection_deleted("conn_01ACMEOKTA").with_created_at(now_ms(&app));
    let body = event.body();
    let now = now_ms(&app);
    let good = event.signature(SECRET, now);
    let tampered = body.replace("conn_01ACMEOKTA", "conn_01ACMEOKTB");
    let cases: [(&str, &str, Option<String>, StatusCode); 7] = [
        ("no header", &body, None, StatusCode::BAD_REQUEST),
        (
            "garbage",
            &body,
            Some("nonsense".into()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "wrong secret",
            &body,
            Some(event.signature(b"whsec_other", now)),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "tampered body",
            &tampered,
            Some(good.clone()),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "too old",
            &body,
            Some(event.signature(SECRET, now - 181_000)),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "too new",
            &body,
            Some(event.signature(SECRET, now + 181_000)),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "moved time",
            &body,
            Some(good.replace(&now.to_string(), &(now - 1).to_string())),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (case, body, signature, status) in cases {
        let (got, answer) = deliver(&app, body, signature.as_deref()).await;
        assert_eq!(got, status, "{case}");
        let text = answer.to_string();
        assert!(
            !text.contains("whsec") && !text.contains("conn_01"),
            "{case}: {text}"
        );
        assert!(
            app.opens(&token, Use::Cookie).await,
            "{case} ended the session"
        );
    }
    // A signed body that is no event is a 400, and changes nothing either.
    let (got, _) = deliver(&app, "[]", Some(&hmac_signature(SECRET, now, b"[]"))).await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
    assert!(app.opens(&token, Use::Cookie).await);
    // The genuine delivery still works afterwards: nothing above used up its id.
    let (got, _) = deliver(&app, &body, Some(&good)).await;
    assert_eq!(got, StatusCode::OK);
    assert!(!app.opens(&token, Use::Cookie).await);
}

/// `WorkOS-Signature` of any body, signed by hand as WorkOS signs.
fn hmac_signature(secret: &[u8], t: u64, body: &[u8]) -> String {
    use aws_lc_rs::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    let tag = hmac::sign(&key, &signed);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t}, v1={hex}")
}

#[tokio::test]
async fn h3_a_replayed_event_changes_nothing_even_signed_anew() {
    let app = start().await;
    let first = app.sign_in("login_hint=alice%40example.com").await;
    let event = WebhookEvent::connection_deleted("conn_01ACMEOKTA").with_created_at(now_ms(&app));
    let (status, _) = send(&app, &event, SECRET).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!app.opens(&first, Use::Cookie).await);
    // Alice signs in again later; the same event delivered again (the very request, or signed
    // anew) must not end the new session.
    app.advance(Duration::from_secs(5));
    let second = app.sign_in("login_hint=alice%40example.com").await;
    let replay = event.signature(SECRET, now_ms(&app));
    let (status, answer) = deliver(&app, &event.body(), Some(&replay)).await;
    assert_eq!(
        (status, &answer["status"]),
        (StatusCode::OK, &"replayed".into())
    );
    let (status, _) = send(&app, &event, SECRET).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        app.opens(&second, Use::Cookie).await,
        "a replay ended a later session"
    );
}

#[tokio::test]
async fn h4_the_route_is_off_by_default_post_only_and_its_body_bounded() {
    // Off: the path is the app's (protected), and nothing is revoked.
    let off = app::start(|b| b).await;
    let token = off.sign_in("login_hint=alice%40example.com").await;
    let event = WebhookEvent::connection_deleted("conn_01ACMEOKTA");
    let (status, _) = send(&off, &event, SECRET).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(off.opens(&token, Use::Cookie).await);

    let app = app::start(|b| {
        b.workos_webhooks(SECRET)
            .webhook_path("/hooks/workos")
            .webhook_limits(Duration::from_secs(60), 512)
    })
    .await;
    let url = app.url("/hooks/workos");
    let client = reqwest::Client::new();
    let get = client.get(&url).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let big = format!(
        r#"{{"id":"event_1","event":"x","data":{{"pad":"{}"}}}}"#,
        "a".repeat(600)
    );
    let signature = hmac_signature(SECRET, now_ms(&app), big.as_bytes());
    let response = client
        .post(&url)
        .header("workos-signature", signature)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let workos = MockWorkOs::start().await.unwrap();
    let response = workos
        .send_webhook_at(&url, SECRET, &event, now_ms(&app))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// A memory store whose first revocation fails, as a store briefly down would.
struct FailsOnce {
    store: MemoryStore,
    failed: AtomicBool,
}

impl SessionStore for FailsOnce {
    fn revoke(
        &self,
        what: Revocation,
        at: SystemTime,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        if !self.failed.swap(true, Ordering::SeqCst) {
            return Box::pin(std::future::ready(Err(StoreError::new("timed out"))));
        }
        self.store.revoke(what, at, until)
    }

    fn is_revoked(&self, session: &SessionRef<'_>) -> BoxFuture<'_, Result<bool, StoreError>> {
        self.store.is_revoked(session)
    }

    fn is_revoked_now(&self, session: &SessionRef<'_>) -> Option<Result<bool, StoreError>> {
        self.store.is_revoked_now(session)
    }

    fn consume_login_state(
        &self,
        id: &str,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        self.store.consume_login_state(id, until)
    }
}

#[tokio::test]
async fn h3_an_event_the_store_could_not_revoke_is_revoked_when_delivered_again() {
    let store = FailsOnce {
        store: MemoryStore::new(),
        failed: AtomicBool::new(false),
    };
    let app = app::start(|b| b.workos_webhooks(SECRET).session_store(store)).await;
    let token = app.sign_in("login_hint=alice%40example.com").await;
    let event = WebhookEvent::connection_deleted("conn_01ACMEOKTA").with_created_at(now_ms(&app));
    // Not recorded: a 503, so WorkOS delivers it again; nothing changed.
    let (status, _) = send(&app, &event, SECRET).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(app.opens(&token, Use::Cookie).await);
    // The next delivery is no replay: it revokes.
    app.advance(Duration::from_secs(30));
    let (status, answer) = send(&app, &event, SECRET).await;
    assert_eq!(
        (status, &answer["status"]),
        (StatusCode::OK, &"revoked".into())
    );
    assert!(!app.opens(&token, Use::Cookie).await);
    // And one after that is.
    let (status, answer) = send(&app, &event, SECRET).await;
    assert_eq!(
        (status, &answer["status"]),
        (StatusCode::OK, &"replayed".into())
    );
}
