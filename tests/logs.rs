//! SECURITY.md C2, the tracing half: everything logged at TRACE level, by every target (the
//! crate, reqwest, hyper, axum, the fake), during sign-ins, failed sign-ins, session use,
//! logout (local and at the IdP), Admin Portal links, the Connections API and WorkOS webhook
//! deliveries (signed, wrongly signed, garbled), holds no API key, code, state, PKCE verifier,
//! token, logout token, portal link, cookie value, webhook secret or signature; and the
//! operator hints for WorkOS's errors are there.
//!
//! Its own test binary: it installs a process-wide subscriber (and the `log` bridge, which is
//! how reqwest logs), which would capture other tests' output in the shared binary.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Client, Response, Url};
use serde_json::json;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tower_workos_sso::client::{ListConnections, PortalIntent};
use tower_workos_sso::store::MemoryStore;
use tower_workos_sso::testkit::{
    Endpoint, Fault, MockWorkOs, Seed, SeedConnection, SeedUser, WebhookEvent,
};
use tower_workos_sso::{Profile, Selector, SsoConfig, SsoLayer};

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const SESSION_SECRET: &[u8] = b"logs-test-session-secret-0123456789abcdef";
const ACCESS_TOKEN: &str = "wos-access-token-LOGS-MARKER-0123456789";
const WEBHOOK_SECRET: &[u8] = b"whsec_logs_test_endpoint_secret";

/// Everything secret the test saw go by.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, what: &str, value: &str) {
        if value.len() >= 8 {
            self.0.push((what.to_owned(), value.to_owned()));
        }
    }

    /// Codes, states and cookie values on one hop; PKCE verifiers from flow cookies.
    fn record(&mut self, response: &Response) {
        if let Some(location) = response.headers().get("location") {
            let location = response.url().join(location.to_str().unwrap()).unwrap();
            for (name, value) in location.query_pairs() {
                // Codes and states; the IdP logout token; the Admin Portal link's secret.
                if ["code", "state", "code_challenge", "token", "secret"].contains(&&*name) {
                    self.add(&name, &value);
                }
            }
        }
        for line in response.headers().get_all("set-cookie") {
            let pair = line.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.add(name, value);
            for (i, part) in value.split('.').enumerate() {
                // The payload and signature of every token; the header names only the key id.
                if i > 0 {
                    self.add(&format!("{name} part {i}"), part);
                }
            }
            if name.contains("_flow_") && !value.is_empty() {
                // Format 2: flags, iat and exp (17 bytes), then the state and the PKCE
                // verifier, each after its big-endian u16 length.
                let payload = URL_SAFE_NO_PAD
                    .decode(value.split('.').nth(1).unwrap())
                    .unwrap();
                let text_at = |at: usize| {
                    let len = usize::from(u16::from_be_bytes([payload[at], payload[at + 1]]));
                    (
                        at + 2 + len,
                        String::from_utf8(payload[at + 2..at + 2 + len].to_vec()),
                    )
                };
                let (after_state, _) = text_at(17);
                let (_, verifier) = text_at(after_state);
                let verifier = verifier.unwrap();
                assert_eq!(
                    verifier.len(),
                    43,
                    "a PKCE verifier is 32 bytes in base64url"
                );
                self.add("PKCE verifier", &verifier);
            }
        }
    }
}

struct Browser {
    client: Client,
    jar: Arc<Jar>,
}

impl Browser {
    fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { client, jar }
    }

    /// Follows redirects, recording every hop's secrets; returns the last response.
    async fn follow(&self, url: &str, secrets: &mut Secrets) -> Response {
        let mut response = self.get(url).await;
        for _ in 0..8 {
            secrets.record(&response);
            if !response.status().is_redirection() {
                return response;
            }
            let next = response
                .url()
                .join(response.headers()["location"].to_str().unwrap())
                .unwrap();
            response = self.get(next.as_str()).await;
        }
        panic!("redirect loop");
    }

    async fn get(&self, url: &str) -> Response {
        self.client
            .get(url)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
    }

    fn cookie(&self, base: &str, name: &str) -> Option<String> {
        let header = self.jar.cookies(&Url::parse(base).unwrap())?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }
}

/// The server side (the app with the layer, and the fake WorkOS) runs on its own thread, so
/// the capture holds what the server logs and not what this test's HTTP client logs.
const SERVER_THREAD: &str = "sso-logs-server";

fn start_server() -> (String, Arc<MockWorkOs>, tokio::sync::oneshot::Sender<()>) {
    let (ready, started) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(SERVER_THREAD.to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .thread_name(SERVER_THREAD)
                .build()
                .unwrap();
            runtime.block_on(async move {
                let workos = Arc::new(MockWorkOs::start_with(seed()).await.unwrap());
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let base = format!("http://{}", listener.local_addr().unwrap());
                let config = SsoConfig::builder()
                    .api_key(workos.api_key())
                    .client_id(workos.client_id())
                    .api_base_url(workos.base_url())
                    .redirect_uri(format!("{base}/auth/callback"))
                    .session_secret(SESSION_SECRET.to_vec())
                    .default_selector(Selector::organization("org_01ACME").unwrap())
                    .session_store(MemoryStore::new())
                    .route_domains_through_workos()
                    .workos_timeouts(Duration::from_millis(500), Duration::from_millis(500))
                    .allowed_organizations(["org_01INITECH"])
                    .idp_logout(true)
                    .workos_webhooks(WEBHOOK_SECRET)
                    .build()
                    .unwrap();
                let sso = SsoLayer::new(config);
                let (for_portal, for_list) = (sso.workos().clone(), sso.workos().clone());
                let app = Router::new()
                    .route("/", get(|p: Profile| async move { p.email.clone() }))
                    .route(
                        "/admin/portal",
                        get(move |p: Profile| async move {
                            let org = p.organization_id.clone().unwrap_or_default();
                            let link = for_portal
                                .generate_portal_link(&org, PortalIntent::Sso, None)
                                .await
                                .unwrap();
                            axum::response::Redirect::to(link.url())
                        }),
                    )
                    .route(
                        "/admin/connections",
                        get(move || async move {
                            let mut all = for_list.connections(ListConnections::new().limit(1));
                            let mut count = 0;
                            while let Some(connection) = all.next().await {
                                connection.unwrap();
                                count += 1;
                            }
                            count.to_string()
                        }),
                    )
                    .layer(sso);
                ready.send((base, workos.clone())).unwrap();
                let serve = axum::serve(listener, app);
                tokio::select! {
                    result = serve => result.unwrap(),
                    _ = stopped => {}
                }
            });
        })
        .unwrap();
    let (base, workos) = started.recv().unwrap();
    (base, workos, stop)
}

/// The default seed and Initech on GenericOIDC, whose users IdP logout works for.
fn seed() -> Seed {
    let mut seed = Seed::default();
    seed.connections.push(SeedConnection {
        id: "conn_01INITECHOIDC".into(),
        organization_id: Some("org_01INITECH".into()),
        organization_name: Some("Initech".into()),
        connection_type: "GenericOIDC".into(),
        users: vec![SeedUser {
            profile_id: "prof_01PETER".into(),
            email: "peter@initech.test".into(),
            first_name: None,
            last_name: None,
            idp_id: "oidc|peter".into(),
            role: None,
            groups: Vec::new(),
        }],
        domains: vec!["initech.test".into()],
        state: "active".into(),
    });
    seed
}

#[tokio::test]
async fn no_secret_code_state_verifier_token_or_cookie_appears_in_trace_logs() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, filter};
    let on_server = filter::filter_fn(|_| std::thread::current().name() == Some(SERVER_THREAD));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(|| Capture)
                .with_filter(filter::LevelFilter::TRACE)
                .with_filter(on_server),
        )
        .try_init()
        .expect("the only subscriber of this binary");

    let (base, workos, stop) = start_server();
    let url = |path: &str| format!("{base}{path}");

    let mut secrets = Secrets::default();
    secrets.add("API key", workos.api_key());
    secrets.add(
        "session secret",
        std::str::from_utf8(SESSION_SECRET).unwrap(),
    );
    secrets.add("access token", ACCESS_TOKEN);

    // A complete sign-in, the session used as cookie and as bearer, then logout.
    let browser = Browser::new();
    let page = browser
        .follow(
            &url("/auth/login?login_hint=alice%40example.com"),
            &mut secrets,
        )
        .await;
    assert_eq!(page.text().await.unwrap(), "alice@example.com");
    let token = browser.cookie(&base, "sso_session").unwrap();
    let bearer = Client::new()
        .get(url("/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    let logout = browser
        .client
        .post(url("/auth/logout"))
        .send()
        .await
        .unwrap();
    secrets.record(&logout);
    // Okta SAML: WorkOS cannot end the IdP session, so the logout is local (and says so).
    assert_eq!(logout.status(), 200);
    let revoked = Client::new()
        .get(url("/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);

    // IdP logout through WorkOS (its logout token), an Admin Portal link (its secret), and
    // every page of the connections.
    let peter = Browser::new();
    let page = peter
        .follow(
            &url("/auth/login?organization=org_01INITECH&login_hint=peter%40initech.test"),
            &mut secrets,
        )
        .await;
    assert_eq!(page.text().await.unwrap(), "peter@initech.test");
    let portal = peter.get(&url("/admin/portal")).await;
    secrets.record(&portal);
    assert_eq!(portal.status(), 303);
    let listed = peter.get(&url("/admin/connections")).await;
    assert_eq!(listed.text().await.unwrap(), "4");
    let logout = peter
        .client
        .post(url("/auth/logout"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    secrets.record(&logout);
    assert_eq!(logout.status(), 303);
    let idp = logout.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(peter.follow(&idp, &mut secrets).await.status(), 200);
    assert_eq!(workos.idp_logouts(), ["prof_01PETER"]);

    // Credentials WorkOS refuses: the operator learns what to check.
    workos.set_fault(
        Endpoint::Token,
        Some(Fault::Status {
            status: 400,
            headers: Vec::new(),
            body: json!({"error": "invalid_client", "error_description": "Invalid client ID or secret."})
                .to_string(),
        }),
    );
    let refused = Browser::new()
        .follow(
            &url("/auth/login?login_hint=bob%40example.com"),
            &mut secrets,
        )
        .await;
    assert_eq!(refused.status(), 502);
    workos.set_fault(Endpoint::Token, None);

    // A sign-in whose token response carries an access token.
    workos.set_fault(
        Endpoint::Token,
        Some(Fault::Body(
            json!({
                "token_type": "Bearer", "access_token": ACCESS_TOKEN, "expires_in": 600,
                "profile": { "id": "prof_01LOGS", "email": "logs@example.test",
                             "organization_id": "org_01ACME",
                             "raw_attributes": { "assertion": "RAW-ASSERTION-LOGS-MARKER" } }
            })
            .to_string()
            .into_bytes(),
        )),
    );
    secrets.add("raw attributes", "RAW-ASSERTION-LOGS-MARKER");
    let page = Browser::new()
        .follow(
            &url("/auth/login?login_hint=alice%40example.com"),
            &mut secrets,
        )
        .await;
    assert_eq!(page.text().await.unwrap(), "logs@example.test");

    // Failed sign-ins: WorkOS down, WorkOS hanging, an expired code, a forged state, a
    // tampered session, an error callback.
    for fault in [Some(Fault::status(500)), Some(Fault::Hang), None] {
        workos.set_fault(Endpoint::Token, fault.clone());
        workos.set_code_lifetime(Duration::ZERO);
        let failed = Browser::new()
            .follow(
                &url("/auth/login?login_hint=bob%40example.com"),
                &mut secrets,
            )
            .await;
        assert!(failed.status().is_client_error() || failed.status().is_server_error());
    }
    workos.set_fault(Endpoint::Token, None);
    workos.set_code_lifetime(Duration::from_secs(600));

    // The chooser: an email routed through WorkOS (the API key as a bearer token), one of an
    // unknown domain, and one while WorkOS is down. Emails are never logged either.
    let lookups_before = workos.requests(Endpoint::Connections);
    for email in [
        "chooser-logs-marker@example.com",
        "chooser-logs-marker@nowhere.test",
    ] {
        secrets.add("chooser email", email);
        Browser::new()
            .follow(
                &url(&format!("/auth/login?email={}", email.replace('@', "%40"))),
                &mut secrets,
            )
            .await;
    }
    workos.set_fault(Endpoint::Connections, Some(Fault::status(500)));
    let down = Browser::new()
        .get(&url("/auth/login?email=chooser-logs-marker%40down.test"))
        .await;
    assert_eq!(down.status(), 503);
    workos.set_fault(Endpoint::Connections, None);
    assert_eq!(workos.requests(Endpoint::Connections), lookups_before + 3);
    let stranger = Browser::new();
    let start = stranger.get(&url("/auth/login")).await;
    secrets.record(&start);
    let forged = stranger
        .get(&url(
            "/auth/callback?code=forged-code-LOGS-0001&state=forged-state-LOGS-0001",
        ))
        .await;
    assert_eq!(forged.status(), 400);
    secrets.add("forged code", "forged-code-LOGS-0001");
    secrets.add("forged state", "forged-state-LOGS-0001");
    let tampered = format!("{}x", &token[..token.len() - 1]);
    let refused = Client::new()
        .get(url("/"))
        .header("cookie", format!("sso_session={tampered}"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let error = Browser::new()
        .get(&url(
            "/auth/callback?error=access_denied&error_description=DESCRIPTION-LOGS-MARKER",
        ))
        .await;
    assert_eq!(error.status(), 403);
    secrets.add("error description", "DESCRIPTION-LOGS-MARKER");
    let no_connection = Browser::new()
        .get(&url("/auth/callback?error=organization_invalid"))
        .await;
    assert_eq!(no_connection.status(), 400);
    // WorkOS webhooks: a signed delivery that revokes, one signed with another secret, and a
    // garbled signature. Neither secret nor any signature is logged.
    secrets.add(
        "webhook secret",
        std::str::from_utf8(WEBHOOK_SECRET).unwrap(),
    );
    let wrong_secret = "whsec_logs_wrong_secret";
    secrets.add("another webhook secret", wrong_secret);
    let hook = url("/auth/webhooks/workos");
    let event = WebhookEvent::connection_deleted("conn_01ACMEOKTA");
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let good = event.signature(WEBHOOK_SECRET, now_ms);
    let bad = event.signature(wrong_secret.as_bytes(), now_ms);
    for signature in [&good, &bad] {
        secrets.add("webhook signature", signature.split("v1=").nth(1).unwrap());
    }
    let delivered = workos
        .send_webhook_at(&hook, WEBHOOK_SECRET, &event, now_ms)
        .await
        .unwrap();
    assert_eq!(delivered.status(), 200);
    let garbled = "t=1, v1=GARBLED-SIGNATURE-LOGS-MARKER";
    secrets.add("garbled signature", garbled);
    for (signature, status) in [(bad.as_str(), 401), (garbled, 400)] {
        let refused = Client::new()
            .post(&hook)
            .header("workos-signature", signature)
            .body(event.body())
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), status);
    }
    stop.send(()).unwrap();

    let logs = String::from_utf8(LOGS.lock().unwrap().clone()).unwrap();
    // The capture works and reaches every layer: the crate, its HTTP client, the fake.
    for expected in [
        "signed in through WorkOS",
        "WorkOS call failed",
        r#"operation="code exchange""#,
        // The operator hints (SECURITY.md C4).
        "sk_test_ keys belong to staging",
        "older than 10 minutes",
        "its domain is verified",
        r#"operation="logout authorize""#,
        "session token refused",
        "callback without a login flow",
        "MockWorkOs request",
        "reqwest",
        "WorkOS refused the domain look-up",
        "webhook event ended sessions",
        r#"reason="bad_signature""#,
        r#"reason="malformed_signature""#,
    ] {
        assert!(
            logs.contains(expected),
            "no {expected:?} in the logs:\n{logs}"
        );
    }
    for what in ["token", "secret"] {
        assert!(
            secrets.0.iter().any(|(name, _)| name == what),
            "no IdP logout {what} collected"
        );
    }
    assert!(
        secrets.0.len() > 30,
        "{} secrets collected",
        secrets.0.len()
    );
    for (what, value) in &secrets.0 {
        assert!(
            !logs.contains(value.as_str()),
            "{what} appears in the logs: {value:.16}...\n{logs}"
        );
    }
}
