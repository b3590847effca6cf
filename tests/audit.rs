//! SECURITY.md A1, A2, A3, A6, the audit half: every refused sign-in is one structured event
//! under the target `tower_workos_sso::audit`, at INFO or WARN, with a stable `reason` code and
//! the ids that are known, never an email, token, code, cookie or the hook's reason text; a
//! sign-in that succeeds logs none. Also the other audit events: a confirmation shown (A4), a
//! session replaced by another user's, and every revocation (V1, V2).
//!
//! Its own test binary: it installs a process-wide subscriber, which would capture other
//! tests' events in the shared binary.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use reqwest::cookie::Jar;
use reqwest::{Client, Response, Url};
use serde_json::json;
use tower_workos_sso::testkit::{Endpoint, Fault, MockWorkOs};
use tower_workos_sso::{Decision, Profile, Selector, SignIn, SsoConfig, SsoLayer};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, filter};

const AUDIT: &str = "tower_workos_sso::audit";

/// One event of the audit target: its level and its fields.
#[derive(Clone, Debug)]
struct Audit {
    level: Level,
    fields: BTreeMap<String, String>,
}

impl Audit {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

static EVENTS: Mutex<Vec<Audit>> = Mutex::new(Vec::new());
/// Everything the crate logs, formatted, at every level.
static TEXT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

struct CaptureAudit;

impl<S: Subscriber> Layer<S> for CaptureAudit {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != AUDIT {
            return;
        }
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        EVENTS.lock().unwrap().push(Audit {
            level: *event.metadata().level(),
            fields,
        });
    }
}

struct CaptureText;

impl Write for CaptureText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        TEXT.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The audit events since the last call.
fn take_events() -> Vec<Audit> {
    std::mem::take(&mut *EVENTS.lock().unwrap())
}

/// A cookie-keeping client that records every code, state and cookie value it sees.
struct Browser {
    client: Client,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    fn new(seen: &Arc<Mutex<Vec<String>>>) -> Self {
        let client = Client::builder()
            .cookie_provider(Arc::new(Jar::default()))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            seen: seen.clone(),
        }
    }

    async fn get(&self, url: &str) -> Response {
        let response = self
            .client
            .get(url)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let mut seen = self.seen.lock().unwrap();
        if let Some(location) = response.headers().get("location") {
            let location = response.url().join(location.to_str().unwrap()).unwrap();
            for (name, value) in location.query_pairs() {
                if ["code", "state", "code_challenge"].contains(&&*name) {
                    seen.push(value.into_owned());
                }
            }
        }
        for line in response.headers().get_all("set-cookie") {
            let pair = line.to_str().unwrap().split(';').next().unwrap();
            let value = pair.split_once('=').unwrap().1;
            if value.len() >= 8 {
                seen.push(value.to_owned());
                seen.extend(value.split('.').skip(1).map(str::to_owned));
            }
        }
        response
    }

    /// Follows redirects from `url`; `edit` may rewrite the authorize URL on the way.
    async fn follow(&self, url: &str, edit: impl Fn(Url) -> Url) -> Response {
        let mut response = self.get(url).await;
        for _ in 0..8 {
            if !response.status().is_redirection() {
                return response;
            }
            let next = response
                .url()
                .join(response.headers()["location"].to_str().unwrap())
                .unwrap();
            let next = if next.path() == "/sso/authorize" {
                edit(next)
            } else {
                next
            };
            response = self.get(next.as_str()).await;
        }
        panic!("redirect loop");
    }
}

const ALLOW: u8 = 0;
const DENY: u8 = 1;
const PANIC: u8 = 2;
const HANG: u8 = 3;
const TOO_BIG: u8 = 4;
const DENIAL: &str = "DENIAL-MARKER: alice@example.com may not sign in";

#[tokio::test]
async fn every_refused_sign_in_is_one_audit_event_with_a_reason_and_ids_only() {
    tracing_subscriber::registry()
        .with(CaptureAudit)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(|| CaptureText)
                .with_filter(filter::filter_fn(|meta| {
                    meta.target().starts_with("tower_workos_sso")
                })),
        )
        .try_init()
        .expect("the only subscriber of this binary");

    let workos = MockWorkOs::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let url = |path: &str| format!("{base}{path}");
    let mode = Arc::new(AtomicU8::new(ALLOW));
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let (hook_mode, hook_tokens) = (mode.clone(), tokens.clone());
    let config = SsoConfig::builder()
        .api_key(workos.api_key())
        .client_id(workos.client_id())
        .api_base_url(workos.base_url())
        .redirect_uri(url("/auth/callback"))
        .session_secret(b"audit-test-session-secret-0123456789abcdef".to_vec())
        .default_selector(Selector::organization("org_01ACME").unwrap())
        .allowed_organizations(["org_01GLOBEX"])
        .allowed_providers(["GoogleOAuth"])
        .allowed_connection_types(["OktaSAML", "GoogleOAuth"])
        .authorize_timeout(Duration::from_millis(300))
        .authorize(move |sign_in: SignIn| {
            let mut tokens = hook_tokens.lock().unwrap();
            if let Some(oauth) = &sign_in.oauth_tokens {
                tokens.push(oauth.access_token.expose().to_owned());
                tokens.extend(oauth.refresh_token.iter().map(|t| t.expose().to_owned()));
            }
            tokens.extend(
                sign_in
                    .raw_attributes
                    .values()
                    .filter_map(|v| v.as_str())
                    .filter(|v| v.len() >= 8)
                    .map(str::to_owned),
            );
            let mode = hook_mode.load(Ordering::SeqCst);
            async move {
                match mode {
                    DENY => Decision::deny(DENIAL),
                    PANIC => panic!("a hook bug"),
                    HANG => std::future::pending().await,
                    TOO_BIG => Decision::allow().with_claim("blob", "x".repeat(5000)),
                    _ => Decision::allow(),
                }
            }
        })
        .build()
        .unwrap();
    let layer = SsoLayer::new(config);
    let app = Router::new()
        .route("/", get(|p: Profile| async move { p.email.clone() }))
        .layer(layer.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let same = |u: Url| u;
    let alice = url("/auth/login?login_hint=alice%40example.com");
    // (what, request, hook mode, status, the one event's reason, level, rule, ids)
    type Ids = &'static [(&'static str, &'static str)];
    let mut checked = 0;
    let mut check = |what: &str,
                     status: u16,
                     got: u16,
                     reason: &str,
                     level: Level,
                     rule: Option<&str>,
                     ids: Ids| {
        assert_eq!(got, status, "{what}");
        let events = take_events();
        assert_eq!(events.len(), 1, "{what}: one event, got {events:?}");
        let event = &events[0];
        assert_eq!(event.get("reason"), Some(reason), "{what}: {event:?}");
        assert_eq!(event.level, level, "{what}");
        assert_eq!(event.get("rule"), rule, "{what}: {event:?}");
        assert_eq!(event.get("message"), Some("sign-in refused"), "{what}");
        for (name, value) in ids {
            assert_eq!(event.get(name), Some(*value), "{what}: {name} in {event:?}");
        }
        let known = [
            "reason",
            "rule",
            "organization_id",
            "connection_id",
            "provider",
            "profile_id",
            "asked",
            "message",
        ];
        for name in event.fields.keys() {
            assert!(
                known.contains(&name.as_str()),
                "{what}: unexpected field {name}"
            );
        }
        for value in event.fields.values() {
            assert!(!value.contains('@'), "{what}: an email in {event:?}");
        }
        checked += 1;
    };

    // A1: a login naming what is not admitted.
    let browser = Browser::new(&seen);
    let response = browser
        .get(&url("/auth/login?organization=org_01NOSUCH"))
        .await;
    check(
        "login, organization",
        403,
        response.status().as_u16(),
        "not_admitted",
        Level::INFO,
        None,
        &[("organization_id", "org_01NOSUCH")],
    );
    let response = browser
        .get(&url(
            "/auth/login?provider=MicrosoftOAuth&login_hint=alice%40example.com",
        ))
        .await;
    check(
        "login, provider",
        403,
        response.status().as_u16(),
        "not_admitted",
        Level::INFO,
        None,
        &[("provider", "MicrosoftOAuth")],
    );
    let response = browser
        .get(&url(
            // Google's connection belongs to no organization: not admitted (S11b).
            "/auth/callback?error=idp_initiated_sso_disabled&connection_id=conn_01GOOGLE",
        ))
        .await;
    check(
        "restart",
        403,
        response.status().as_u16(),
        "not_admitted",
        Level::INFO,
        None,
        &[("connection_id", "conn_01GOOGLE")],
    );

    // A2: Acme's flow completed with Google's profile (an edited authorize URL).
    let to_google = |mut u: Url| {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "organization" && k != "login_hint")
            .collect();
        u.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("provider", "GoogleOAuth")
            .append_pair("login_hint", "erin@gmail.test");
        u
    };
    let response = Browser::new(&seen).follow(&alice, to_google).await;
    check(
        "flow mismatch",
        403,
        response.status().as_u16(),
        "flow_mismatch",
        Level::WARN,
        None,
        &[
            ("connection_id", "conn_01GOOGLE"),
            ("profile_id", "prof_01ERIN"),
            ("asked", "organization=org_01ACME"),
        ],
    );

    // A3: a shortcut, then the hook.
    let carol = url("/auth/login?organization=org_01GLOBEX&login_hint=carol%40globex.test");
    let response = Browser::new(&seen).follow(&carol, same).await;
    check(
        "shortcut",
        403,
        response.status().as_u16(),
        "denied",
        Level::INFO,
        Some("connection_type"),
        &[
            ("organization_id", "org_01GLOBEX"),
            ("connection_id", "conn_01GLOBEXENTRA"),
            ("profile_id", "prof_01CAROL"),
        ],
    );
    for (what, hook, status, reason, level, rule) in [
        ("hook denies", DENY, 403, "denied", Level::INFO, "hook"),
        (
            "hook panics",
            PANIC,
            500,
            "hook_failed",
            Level::WARN,
            "panic",
        ),
        (
            "hook hangs",
            HANG,
            500,
            "hook_failed",
            Level::WARN,
            "timeout",
        ),
    ] {
        mode.store(hook, Ordering::SeqCst);
        let response = Browser::new(&seen).follow(&alice, same).await;
        check(
            what,
            status,
            response.status().as_u16(),
            reason,
            level,
            Some(rule),
            &[
                ("organization_id", "org_01ACME"),
                ("connection_id", "conn_01ACMEOKTA"),
                ("profile_id", "prof_01ALICE"),
            ],
        );
    }

    // A6: too large even trimmed.
    mode.store(TOO_BIG, Ordering::SeqCst);
    let response = Browser::new(&seen).follow(&alice, same).await;
    check(
        "too large",
        502,
        response.status().as_u16(),
        "too_large",
        Level::WARN,
        None,
        &[
            ("organization_id", "org_01ACME"),
            ("profile_id", "prof_01ALICE"),
        ],
    );
    workos.set_fault(
        Endpoint::Token,
        Some(Fault::Profile(json!({
            "id": "prof_01HUGE", "email": "huge@example.com", "organization_id": "org_01ACME",
            "connection_id": "conn_01ACMEOKTA", "connection_type": "OktaSAML",
            "name": "n".repeat(5000)
        }))),
    );
    mode.store(ALLOW, Ordering::SeqCst);
    let response = Browser::new(&seen).follow(&alice, same).await;
    check(
        "huge profile",
        502,
        response.status().as_u16(),
        "too_large",
        Level::WARN,
        None,
        &[("profile_id", "prof_01HUGE")],
    );
    workos.set_fault(Endpoint::Token, None);
    assert_eq!(checked, 10);

    // Sign-ins that succeed are not refusals.
    for login in [
        alice.clone(),
        url("/auth/login?provider=GoogleOAuth&login_hint=erin%40gmail.test"),
    ] {
        let page = Browser::new(&seen).follow(&login, same).await;
        assert_eq!(page.status(), 200, "{login}");
    }
    assert!(
        take_events().is_empty(),
        "a successful sign-in is no refusal"
    );

    // The other audit events: a confirmation shown, a session replaced, revocations.
    let one = |what: &str, reason: &str, ids: Ids| {
        let events = take_events();
        assert_eq!(events.len(), 1, "{what}: one event, got {events:?}");
        let event = &events[0];
        assert_eq!(event.get("reason"), Some(reason), "{what}: {event:?}");
        assert_eq!(event.level, Level::INFO, "{what}");
        for (name, value) in ids {
            assert_eq!(event.get(name), Some(*value), "{what}: {name} in {event:?}");
        }
        for value in event.fields.values() {
            assert!(!value.contains('@'), "{what}: an email in {event:?}");
        }
    };
    let browser = Browser::new(&seen);
    assert_eq!(browser.follow(&alice, same).await.status(), 200);
    assert!(take_events().is_empty());
    let confirmation = browser
        .client
        .get(url("/auth/login?organization=org_01GLOBEX"))
        .header("accept", "text/html")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(confirmation.status(), 200);
    one(
        "confirmation",
        "confirmation_shown",
        &[
            ("selector", "organization"),
            ("id", "org_01GLOBEX"),
            ("signed_in", "true"),
        ],
    );
    let bob = url("/auth/login?login_hint=bob%40example.com");
    assert_eq!(browser.follow(&bob, same).await.status(), 200);
    one(
        "replaced",
        "session_replaced",
        &[
            ("previous_profile_id", "prof_01ALICE"),
            ("profile_id", "prof_01BOB"),
        ],
    );
    layer.revoke_user("prof_01ALICE").await.unwrap();
    one(
        "revoke call",
        "revoked",
        &[("scope", "user"), ("id", "prof_01ALICE"), ("by", "call")],
    );
    let logout = browser
        .client
        .post(url("/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 303);
    one(
        "logout",
        "revoked",
        &[("scope", "session"), ("by", "logout")],
    );
    server.abort();

    // Nothing secret anywhere the crate logs: codes, states, cookies, the provider's tokens,
    // raw attributes, the hook's reason, or anyone's email.
    let tokens = tokens.lock().unwrap().clone();
    assert!(
        tokens.iter().any(|t| t.starts_with("ya29.")),
        "the hook saw OAuth tokens"
    );
    let logs = String::from_utf8(TEXT.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("sign-in refused") && logs.contains("reason=\"flow_mismatch\""),
        "{logs}"
    );
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() > 20, "{} values seen", seen.len());
    let emails = [
        "alice@example.com",
        "carol@globex.test",
        "erin@gmail.test",
        "huge@example.com",
    ];
    for secret in seen
        .iter()
        .chain(&tokens)
        .map(String::as_str)
        .chain(emails)
        .chain(["DENIAL-MARKER"])
    {
        assert!(!logs.contains(secret), "{secret:.20} in the logs:\n{logs}");
    }
}
