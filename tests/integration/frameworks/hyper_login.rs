//! The layer on plain Hyper 1 with `tower::ServiceBuilder`, as `examples/hyper.rs` serves it:
//! the full browser login with a cookie-keeping client, and the layer among tower-http's trace,
//! compression and timeout layers.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, header};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use reqwest::StatusCode;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tower::{BoxError, Service, ServiceBuilder};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_workos_sso::testkit::MockWorkOs;
use tower_workos_sso::{Profile, SsoConfig, SsoLayer};

use crate::support::harness::{self, Browser, SESSION_COOKIE, api_get_json, config_for, location};

/// The handler of `examples/hyper.rs`, reduced: `/` greets the profile from the extensions,
/// `/public` is public, `/report` is large enough to compress, `/slow` never finishes.
async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let profile = request.extensions().get::<Profile>().cloned();
    let text = match (request.uri().path(), profile) {
        ("/", Some(profile)) => format!("hyper home of {}", profile.email),
        ("/public", Some(profile)) => format!("public, signed in as {}", profile.email),
        ("/public", None) => "public, anonymous".to_owned(),
        ("/report", Some(profile)) => {
            format!("report for {}\n{}", profile.email, "row\n".repeat(64))
        }
        ("/slow", _) => std::future::pending().await,
        _ => "not found".to_owned(),
    };
    let mut response = Response::new(Full::from(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

/// The webhook route is on for every server here: Hyper's `Incoming` body is one it reads.
const WEBHOOK_SECRET: &[u8] = b"whsec_hyper_test";

/// A hyper server on 127.0.0.1 and its fake WorkOS.
struct Server {
    base: String,
    _workos: MockWorkOs,
    accept: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which ends every connection.
        self.accept.abort();
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Binds, builds the configuration for that address, then serves whatever `stack` builds
/// around the layer over HTTP/1.1, as `examples/hyper.rs` does.
async fn start<S, B>(stack: impl FnOnce(SsoConfig) -> S) -> Server
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let workos = MockWorkOs::start().await.expect("fake WorkOS starts");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = config_for(&workos, &base)
        .optional_paths(["/public"])
        .workos_webhooks(WEBHOOK_SECRET)
        .build()
        .expect("valid test config");
    let service = stack(config);
    let accept = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            connections.spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server {
        base,
        _workos: workos,
        accept,
    }
}

/// The layer alone around the handler, as `examples/hyper.rs` builds it.
async fn start_layer_only() -> Server {
    start(|config| {
        ServiceBuilder::new()
            .layer(SsoLayer::new(config))
            .service_fn(handle)
    })
    .await
}

/// Signs alice in through `server`, checks that she lands on her home page, and returns the
/// browser and every hop's URL.
async fn sign_in(server: &Server) -> (Browser, Vec<String>) {
    let browser = Browser::new();
    let (hops, page) = browser
        .follow(&server.url("/auth/login?login_hint=alice%40example.com&return_to=/"))
        .await;
    assert_eq!(page.status(), StatusCode::OK, "{hops:?}");
    assert_eq!(
        page.text().await.unwrap(),
        "hyper home of alice@example.com"
    );
    (browser, hops)
}

#[tokio::test]
async fn a_webhook_is_read_from_hyper_s_own_body_type_and_ends_the_sessions() {
    let server = start_layer_only().await;
    let (browser, _) = sign_in(&server).await;
    let event = tower_workos_sso::testkit::WebhookEvent::connection_deleted("conn_01ACMEOKTA");
    let answer = server
        ._workos
        .send_webhook(&server.url("/auth/webhooks/workos"), WEBHOOK_SECRET, &event)
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let page = browser.get(&server.url("/")).await;
    assert_eq!(
        page.status(),
        StatusCode::SEE_OTHER,
        "the session still works"
    );
}

#[tokio::test]
async fn the_full_browser_login_works_on_plain_hyper() {
    let server = start_layer_only().await;

    // Not signed in: a page visit goes to the login, remembering where it was going.
    let response = Browser::new().get(&server.url("/")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), server.url("/auth/login?return_to=%2F"));

    let (browser, hops) = sign_in(&server).await;
    assert!(hops.iter().any(|hop| hop.contains("/sso/authorize")));
    assert!(hops.iter().any(|hop| hop.contains("/auth/callback?")));
    assert_eq!(hops.last().unwrap(), &server.url("/"));
    assert!(browser.cookie(&server.base, SESSION_COOKIE).is_some());

    // The cookie keeps working, and public pages see it.
    let page = browser.get(&server.url("/public")).await;
    assert_eq!(
        page.text().await.unwrap(),
        "public, signed in as alice@example.com"
    );

    // Logging out ends it.
    let response = browser
        .client
        .post(server.url("/auth/logout"))
        .header("origin", &server.base)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = browser.get(&server.url("/")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn unauthenticated_api_calls_on_hyper_get_401_json() {
    let server = start_layer_only().await;
    let response = api_get_json(&server.url("/")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="sso""#
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unauthenticated");
}

/// What the trace layer saw: the final status of every request.
type Seen = Arc<Mutex<Vec<http::StatusCode>>>;

/// The order the README recommends, outermost first: trace, compression, SSO, timeout, app.
/// Trace sees every request, including the ones the layer answers itself; compression covers
/// the app's and the layer's responses (it leaves gRPC alone); the timeout bounds the app only,
/// as the layer's WorkOS calls have their own timeouts.
#[tokio::test]
async fn the_recommended_tower_http_stack_works_around_the_layer() {
    let seen: Seen = Arc::default();
    let statuses = seen.clone();
    let server = start(move |config| {
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http().on_response(
                move |response: &Response<_>, _latency: Duration, _span: &tracing::Span| {
                    statuses.lock().unwrap().push(response.status());
                },
            ))
            .layer(CompressionLayer::new())
            .layer(SsoLayer::new(config))
            .layer(TimeoutLayer::with_status_code(
                http::StatusCode::SERVICE_UNAVAILABLE,
                Duration::from_millis(300),
            ))
            .service_fn(handle)
    })
    .await;

    // The layer's own answer, traced and compressed.
    let response = harness::api()
        .get(server.url("/"))
        .header("accept", "application/json")
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert!(response.headers().contains_key("www-authenticate"));

    // The full login through the whole stack.
    let (browser, _) = sign_in(&server).await;

    // The app's pages are compressed for clients that ask.
    let response = browser
        .client
        .get(server.url("/report"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-encoding"], "gzip");

    // A handler that hangs is cut off, signed in or not; a protected one only after the check.
    let response = browser.get(&server.url("/slow")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let response = Browser::new().get(&server.url("/slow")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let seen = seen.lock().unwrap();
    assert!(seen.contains(&http::StatusCode::UNAUTHORIZED), "{seen:?}");
    assert!(seen.contains(&http::StatusCode::SEE_OTHER), "{seen:?}");
    assert!(
        seen.contains(&http::StatusCode::FOUND),
        "the login redirect: {seen:?}"
    );
    assert!(
        seen.contains(&http::StatusCode::SERVICE_UNAVAILABLE),
        "{seen:?}"
    );
}

/// Other sensible orders compose too: the layer outermost, or between trace and compression.
#[tokio::test]
async fn the_layer_composes_with_tower_http_in_other_orders() {
    // Inside the layer, a body type it cannot answer in (tower-http's) is boxed first.
    let outermost = start(|config| {
        ServiceBuilder::new()
            .layer(SsoLayer::new(config))
            .map_response(|response: Response<_>| response.map(BodyExt::boxed_unsync))
            .layer(TraceLayer::new_for_http())
            .layer(CompressionLayer::new())
            .layer(TimeoutLayer::with_status_code(
                http::StatusCode::SERVICE_UNAVAILABLE,
                Duration::from_secs(5),
            ))
            .service_fn(handle)
    })
    .await;
    let between = start(|config| {
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http())
            .layer(SsoLayer::new(config))
            .map_response(|response: Response<_>| response.map(BodyExt::boxed_unsync))
            .layer(CompressionLayer::new())
            .service_fn(handle)
    })
    .await;
    // The layer answers in the app's body type (here `Full`, which is `Default`), so a timeout
    // may also wrap it.
    let timeout_outside = start(|config| {
        ServiceBuilder::new()
            .layer(TimeoutLayer::with_status_code(
                http::StatusCode::SERVICE_UNAVAILABLE,
                Duration::from_secs(5),
            ))
            .layer(CompressionLayer::new())
            .layer(SsoLayer::new(config))
            .service_fn(handle)
    })
    .await;
    for server in [&outermost, &between, &timeout_outside] {
        sign_in(server).await;
        let response = api_get_json(&server.url("/")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}
