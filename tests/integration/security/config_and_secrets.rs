//! SECURITY.md C1-C3: start-up validation, nothing secret in `Debug`/`Display`, and the API key
//! never in a URL. (The tracing half of C2 is `tests/logs.rs`, which needs its own process.)

use std::process::Command;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower_workos_sso::testkit::MockWorkOs;
use tower_workos_sso::{SsoConfig, SsoLayer};

use crate::support::forge;
use crate::support::harness::{self, Browser, SECRET};

const API_KEY: &str = "sk_test_c1_secret_value_do_not_print";
const SESSION_SECRET: &str = "c1-session-secret-that-is-long-enough-0123";

fn valid() -> tower_workos_sso::SsoConfigBuilder {
    SsoConfig::builder()
        .api_key(API_KEY)
        .client_id("client_01C1")
        .redirect_uri("https://app.example.test/auth/callback")
        .session_secret(SESSION_SECRET.as_bytes().to_vec())
}

#[test]
fn c1_start_up_errors_name_the_missing_or_weak_setting_and_never_its_value() {
    let cases: Vec<(&str, tower_workos_sso::SsoConfigBuilder, &str)> = vec![
        (
            "no API key",
            SsoConfig::builder()
                .client_id("client_01C1")
                .redirect_uri("https://app.example.test/auth/callback")
                .session_secret(SESSION_SECRET.as_bytes().to_vec()),
            "WORKOS_API_KEY",
        ),
        (
            "a publishable key",
            valid().api_key("pk_test_c1_secret_value"),
            "WORKOS_API_KEY",
        ),
        (
            "no client id",
            SsoConfig::builder()
                .api_key(API_KEY)
                .redirect_uri("https://app.example.test/auth/callback")
                .session_secret(SESSION_SECRET.as_bytes().to_vec()),
            "WORKOS_CLIENT_ID",
        ),
        (
            "no redirect URI",
            SsoConfig::builder()
                .api_key(API_KEY)
                .client_id("client_01C1")
                .session_secret(SESSION_SECRET.as_bytes().to_vec()),
            "WORKOS_REDIRECT_URI",
        ),
        (
            "plain http off localhost",
            valid().redirect_uri("http://app.example.test/auth/callback"),
            "WORKOS_REDIRECT_URI",
        ),
        (
            "no session secret",
            SsoConfig::builder()
                .api_key(API_KEY)
                .client_id("client_01C1")
                .redirect_uri("https://app.example.test/auth/callback"),
            "SSO_SESSION_SECRET",
        ),
        (
            "a 31-byte session secret",
            valid().session_secret(b"c1-session-secret-only-31-bytes".to_vec()),
            "SSO_SESSION_SECRET",
        ),
        (
            "a short previous secret",
            valid().previous_session_secret(b"c1-old-short".to_vec()),
            "SSO_PREVIOUS_SESSION_SECRETS",
        ),
        (
            "a clock leeway over 5 minutes",
            valid().clock_leeway(std::time::Duration::from_secs(301)),
            "clock_leeway",
        ),
        (
            "an http API base off localhost",
            valid().api_base_url("http://api.example.test"),
            "WORKOS_API_BASE_URL",
        ),
    ];
    for (what, builder, setting) in cases {
        let error = builder.build().unwrap_err();
        // Settings read from the environment are named by their variable, others by method.
        assert_eq!(
            error.env_var().unwrap_or(error.setting()),
            setting,
            "{what}"
        );
        let shown = format!("{error} {error:?}");
        assert!(shown.contains(setting), "{what}: {shown}");
        for secret in ["c1_secret_value", "c1-session-secret", "c1-old-short"] {
            assert!(!shown.contains(secret), "{what}: {shown}");
        }
    }
    assert_eq!(
        b"c1-session-secret-only-31-bytes".len(),
        31,
        "the boundary is tested"
    );
    assert!(valid().session_secret(vec![b'x'; 32]).build().is_ok());
}

/// Run by [`c1_from_env_names_the_setting`] in a child process with its own environment (the
/// environment is process-wide, and other tests run in parallel threads of this one).
#[test]
#[ignore = "a helper: runs in a child process started by c1_from_env_names_the_setting"]
fn c1_from_env_child() {
    if std::env::var_os("C1_FROM_ENV_CHILD").is_none() {
        return;
    }
    match SsoConfig::from_env() {
        Ok(config) => println!(
            "C1RESULT=ok|public {:?} optional {:?}",
            config.public_paths(),
            config.optional_paths()
        ),
        Err(error) => println!(
            "C1RESULT={}|{error}",
            error.env_var().unwrap_or(error.setting())
        ),
    }
}

#[test]
fn c1_from_env_names_the_setting() {
    let good = [
        ("WORKOS_API_KEY", API_KEY),
        ("WORKOS_CLIENT_ID", "client_01C1"),
        (
            "WORKOS_REDIRECT_URI",
            "https://app.example.test/auth/callback",
        ),
        ("SSO_SESSION_SECRET", SESSION_SECRET),
    ];
    let without = |name: &str| -> Vec<(&str, &str)> {
        good.iter().copied().filter(|(n, _)| *n != name).collect()
    };
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        let mut vars: Vec<(&str, &str)> = good
            .iter()
            .copied()
            .filter(|(n, _)| !extra.iter().any(|(e, _)| e == n))
            .collect();
        vars.extend_from_slice(extra);
        vars
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (good.to_vec(), "ok"),
        (Vec::new(), "WORKOS_API_KEY"),
        (without("WORKOS_API_KEY"), "WORKOS_API_KEY"),
        (with(&[("WORKOS_API_KEY", "   ")]), "WORKOS_API_KEY"),
        (without("WORKOS_CLIENT_ID"), "WORKOS_CLIENT_ID"),
        (without("WORKOS_REDIRECT_URI"), "WORKOS_REDIRECT_URI"),
        (without("SSO_SESSION_SECRET"), "SSO_SESSION_SECRET"),
        (
            with(&[("SSO_SESSION_SECRET", "c1-session-secret-only-31-bytes")]),
            "SSO_SESSION_SECRET",
        ),
        (
            with(&[("SSO_PREVIOUS_SESSION_SECRETS", "c1-old-short")]),
            "SSO_PREVIOUS_SESSION_SECRETS",
        ),
        (
            with(&[(
                "WORKOS_REDIRECT_URI",
                "http://app.example.test/auth/callback",
            )]),
            "WORKOS_REDIRECT_URI",
        ),
        (
            with(&[("WORKOS_API_BASE_URL", "http://api.example.test")]),
            "WORKOS_API_BASE_URL",
        ),
        (
            with(&[
                ("SSO_DEFAULT_ORGANIZATION", "org_01A"),
                ("SSO_DEFAULT_CONNECTION", "conn_01A"),
            ]),
            "SSO_DEFAULT_ORGANIZATION",
        ),
        (
            with(&[("SSO_DEFAULT_CONNECTION", "org_01WRONG")]),
            "SSO_DEFAULT_CONNECTION",
        ),
        (with(&[("WORKOS_WEBHOOK_SECRET", "whsec_c1")]), "ok"),
        (with(&[("SSO_PUBLIC_PATHS", "health")]), "SSO_PUBLIC_PATHS"),
        (
            with(&[("SSO_OPTIONAL_PATHS", "/, docs/*")]),
            "SSO_OPTIONAL_PATHS",
        ),
        (
            with(&[
                ("SSO_PUBLIC_PATHS", "/health, /assets/*"),
                ("SSO_OPTIONAL_PATHS", "/,/docs/*"),
            ]),
            r#"ok|public ["/health", "/assets/*"] optional ["/", "/docs/*"]"#,
        ),
    ];
    let exe = std::env::current_exe().unwrap();
    let all = [
        "WORKOS_API_KEY",
        "WORKOS_CLIENT_ID",
        "WORKOS_REDIRECT_URI",
        "WORKOS_API_BASE_URL",
        "SSO_SESSION_SECRET",
        "SSO_PREVIOUS_SESSION_SECRETS",
        "SSO_DEFAULT_ORGANIZATION",
        "SSO_DEFAULT_CONNECTION",
        "SSO_DEFAULT_PROVIDER",
        "SSO_PUBLIC_PATHS",
        "SSO_OPTIONAL_PATHS",
        "WORKOS_WEBHOOK_SECRET",
    ];
    for (vars, expected) in cases {
        let mut child = Command::new(&exe);
        child.args([
            "--exact",
            "security::config_and_secrets::c1_from_env_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ]);
        for name in all {
            child.env_remove(name);
        }
        child
            .env("C1_FROM_ENV_CHILD", "1")
            .envs(vars.iter().copied());
        let output = child.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("C1RESULT=").map(|(_, result)| result))
            .unwrap_or_else(|| panic!("no result from the child: {stdout}"));
        // A setting's name, `ok`, or (for a case that names them) `ok` and the path lists.
        let setting = match expected.contains('|') {
            true => line,
            false => line.split('|').next().unwrap(),
        };
        assert_eq!(setting, expected, "{vars:?}: {line}");
        for secret in ["c1_secret_value", "c1-session-secret", "c1-old-short"] {
            assert!(!line.contains(secret), "{line}");
        }
    }
}

#[tokio::test]
async fn c2_debug_and_display_of_config_layer_tokens_and_errors_show_no_secret() {
    let app = harness::start(|b| b).await;
    let config = valid()
        .previous_session_secret(b"c2-previous-secret-that-is-long-enough!".to_vec())
        .workos_webhooks("whsec_c2_webhook_secret")
        .build()
        .unwrap();
    let layer = SsoLayer::new(config.clone());
    let (_, session) = harness::signed_in(&app).await;
    let minted = app
        .layer
        .issue_session_token(&serde_json::from_value(forge::alice_profile()).expect("a profile"))
        .unwrap();
    let error = valid()
        .api_key("pk_test_c1_secret_value")
        .build()
        .unwrap_err();
    let printed = [
        format!("{config:?}"),
        format!("{layer:?}"),
        format!("{:?}", app.layer),
        format!("{:?}", valid().workos_webhooks("whsec_c2_webhook_secret")),
        format!("{minted:?}"),
        format!("{error} {error:?}"),
    ]
    .join("\n");
    let (session_key, _) = forge::session_key();
    for secret in [
        API_KEY,
        "c1_secret_value",
        SESSION_SECRET,
        "c2-previous-secret",
        "whsec_c2_webhook_secret",
        std::str::from_utf8(SECRET).unwrap(),
        app.workos.api_key(),
        minted.expose(),
        &session,
        &forge::b64(&session_key),
        &forge::b64(&forge::derived_key(SESSION_SECRET.as_bytes(), "session")),
    ] {
        assert!(
            !printed.contains(secret),
            "{secret:.12}... printed in:\n{printed}"
        );
    }
    assert!(printed.contains("<redacted>"));
}

/// What a client sent on one connection.
type Recording = Arc<Mutex<Vec<u8>>>;

/// A TCP proxy in front of the fake WorkOS that keeps every byte clients send it.
struct Recorder {
    base: String,
    connections: Arc<Mutex<Vec<Recording>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn recording_proxy(upstream: String) -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let connections: Arc<Mutex<Vec<Recording>>> = Arc::default();
    let all = connections.clone();
    let accept = tokio::spawn(async move {
        loop {
            let (inbound, _) = listener.accept().await.unwrap();
            let record = Recording::default();
            all.lock().unwrap().push(record.clone());
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let outbound = TcpStream::connect(upstream).await.unwrap();
                let (mut from_client, mut to_client) = inbound.into_split();
                let (mut from_server, mut to_server) = outbound.into_split();
                let up = async move {
                    let mut buf = [0u8; 16 * 1024];
                    loop {
                        let n = from_client.read(&mut buf).await?;
                        if n == 0 {
                            return to_server.shutdown().await;
                        }
                        record.lock().unwrap().extend_from_slice(&buf[..n]);
                        to_server.write_all(&buf[..n]).await?;
                    }
                };
                let down = tokio::io::copy(&mut from_server, &mut to_client);
                let _ = tokio::join!(up, down);
            });
        }
    });
    Recorder {
        base,
        connections,
        accept,
    }
}

/// The HTTP/1.1 requests in a recorded byte stream: (request line and headers, body).
fn requests(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().unwrap())
            })
            .unwrap_or(0);
        let body_end = (end + 4 + length).min(rest.len());
        out.push((head, rest[end + 4..body_end].to_vec()));
        rest = &rest[body_end..];
    }
    out
}

#[tokio::test]
async fn c3_the_api_key_travels_only_in_the_token_request_body() {
    let workos = MockWorkOs::start().await.unwrap();
    let recorder =
        recording_proxy(workos.base_url().trim_start_matches("http://").to_owned()).await;
    let key = workos.api_key().to_owned();
    let app = harness::start_with(workos, |b| {
        b.api_base_url(&recorder.base)
            .default_selector(tower_workos_sso::Selector::organization("org_01ACME").unwrap())
            .allowed_connections(["conn_01GLOBEXENTRA"])
    })
    .await;
    // A sign-in, a sign-in whose exchange fails, a sign-in through the fake's page, a logout.
    let browser = Browser::new();
    let (mut hops, page) = browser
        .sign_in(&app, "login_hint=alice%40example.com")
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    app.workos.set_code_lifetime(std::time::Duration::ZERO);
    let (more, _) = Browser::new()
        .sign_in(&app, "login_hint=bob%40example.com")
        .await;
    hops.extend(more);
    app.workos
        .set_code_lifetime(std::time::Duration::from_secs(600));
    let (more, _) = Browser::new()
        .sign_in(&app, "connection=conn_01GLOBEXENTRA")
        .await;
    hops.extend(more);
    browser
        .client
        .post(app.url("/auth/logout"))
        .send()
        .await
        .unwrap();

    let encoded: String = form_urlencoded::byte_serialize(key.as_bytes()).collect();
    for hop in &hops {
        assert!(!hop.contains(&key) && !hop.contains(&encoded), "{hop}");
    }
    let recorded: Vec<Vec<u8>> = recorder
        .connections
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.lock().unwrap().clone())
        .collect();
    let mut token_requests = 0;
    let mut total = 0;
    for (head, body) in recorded.iter().flat_map(|bytes| requests(bytes)) {
        total += 1;
        assert!(!head.contains(&key) && !head.contains(&encoded), "{head}");
        let body = String::from_utf8_lossy(&body);
        if head.starts_with("POST /sso/token ") {
            token_requests += 1;
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["client_secret"], key.as_str(), "sent as client_secret");
        } else {
            assert!(!body.contains(&key), "{head}");
        }
    }
    assert_eq!(token_requests, 2, "two exchanges were made");
    assert_eq!(total, 5, "three authorize requests and two exchanges");
}

#[tokio::test]
async fn c3_domain_look_ups_send_the_api_key_only_as_a_bearer_header() {
    let workos = MockWorkOs::start().await.unwrap();
    let recorder =
        recording_proxy(workos.base_url().trim_start_matches("http://").to_owned()).await;
    let key = workos.api_key().to_owned();
    let app = harness::start_with(workos, |b| {
        b.api_base_url(&recorder.base)
            .allow_any_organization()
            .route_domains_through_workos()
    })
    .await;
    for email in ["alice%40example.com", "x%40nowhere.test"] {
        let answer = Browser::new()
            .get(&app.url(&format!("/auth/login?email={email}")))
            .await;
        let location = answer
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        assert!(!location.unwrap_or_default().contains(&key));
    }
    let recorded: Vec<Vec<u8>> = recorder
        .connections
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.lock().unwrap().clone())
        .collect();
    let encoded: String = form_urlencoded::byte_serialize(key.as_bytes()).collect();
    let mut look_ups = 0;
    for (head, body) in recorded.iter().flat_map(|bytes| requests(bytes)) {
        assert!(head.starts_with("GET /connections?domain="), "{head}");
        look_ups += 1;
        let (request_line, headers) = head.split_once("\r\n").unwrap();
        assert!(!request_line.contains(&key) && !request_line.contains(&encoded));
        let with_key: Vec<&str> = headers.lines().filter(|l| l.contains(&key)).collect();
        assert_eq!(with_key.len(), 1, "{head}");
        assert!(
            with_key[0].eq_ignore_ascii_case(&format!("authorization: Bearer {key}")),
            "{}",
            with_key[0]
        );
        assert!(body.is_empty());
    }
    assert_eq!(look_ups, 2);
}
