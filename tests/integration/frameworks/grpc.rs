//! The layer on a Tonic gRPC server over 127.0.0.1, called by a real tonic client: bearer tokens
//! in metadata, UNAUTHENTICATED as a trailers-only HTTP 200, a public RPC, gRPC-web with the
//! browser cookie, and a token handed out after a browser sign-in.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use reqwest::StatusCode;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Code, Request, Status};
use tonic_web::GrpcWebLayer;
use tower_http::trace::TraceLayer;
use tower_workos_sso::testkit::MockWorkOs;
use tower_workos_sso::{Profile, Session, SessionSource, SsoConfigBuilder, SsoLayer};
use whoami_proto::who_am_i_client::WhoAmIClient;
use whoami_proto::who_am_i_server::{WhoAmI, WhoAmIServer};
use whoami_proto::{PingReply, PingRequest, WhoAmIReply, WhoAmIRequest};

use crate::support::harness::{self, Browser, SESSION_COOKIE, alice, config_for, location};

const WHO_AM_I: &str = "/whoami.WhoAmI/WhoAmI";

/// The service of `examples/tonic.rs`: answers from the profile the layer verified.
struct WhoAmIService;

#[tonic::async_trait]
impl WhoAmI for WhoAmIService {
    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<tonic::Response<WhoAmIReply>, Status> {
        let profile = request
            .extensions()
            .get::<Profile>()
            .ok_or_else(|| Status::internal("the layer let a call through without a profile"))?;
        let source = match profile.session().map(|s| s.source) {
            Some(SessionSource::Cookie) => "cookie",
            Some(_) => "bearer",
            None => "none",
        };
        Ok(tonic::Response::new(WhoAmIReply {
            email: profile.email.to_string(),
            name: profile.display_name(),
            organization_id: profile
                .organization_id
                .as_deref()
                .unwrap_or_default()
                .to_owned(),
            session_source: source.to_owned(),
        }))
    }

    async fn ping(
        &self,
        request: Request<PingRequest>,
    ) -> Result<tonic::Response<PingReply>, Status> {
        let signed_in = request.extensions().get::<Profile>().is_some();
        Ok(tonic::Response::new(PingReply { signed_in }))
    }
}

/// `GET /cli-token` as `examples/tonic.rs` has it: a token for a browser-signed-in person, never
/// for a script, a frame, or a bearer session.
async fn cli_token(
    State(sso): State<SsoLayer>,
    profile: Profile,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let scripted = header("sec-fetch-mode").is_some_and(|mode| mode != "navigate")
        || header("sec-fetch-dest").is_some_and(|dest| dest != "document");
    if session.source != SessionSource::Cookie || scripted {
        return (StatusCode::FORBIDDEN, "open this page in a browser").into_response();
    }
    let token = sso
        .issue_session_token_for(&session, &profile)
        .expect("a live session and a small profile");
    let mut response = token.expose().to_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; frame-ancestors 'none'"),
    );
    response
}

/// A tonic server on 127.0.0.1 with the layer, its fake WorkOS, and the layer to mint tokens.
struct Grpc {
    addr: SocketAddr,
    base: String,
    layer: SsoLayer,
    workos: MockWorkOs,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Grpc {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Clone, Copy)]
enum Flavour {
    /// gRPC over HTTP/2, plus HTTP/1.1 for the browser sign-in and `/cli-token` (the example).
    Grpc,
    /// gRPC-web over HTTP/1.1: `GrpcWebLayer` outside `SsoLayer`.
    GrpcWeb,
}

/// Binds, then serves the `WhoAmI` service behind the layer; `Ping` is public.
async fn start(
    flavour: Flavour,
    configure: impl FnOnce(SsoConfigBuilder) -> SsoConfigBuilder,
) -> Grpc {
    let workos = MockWorkOs::start().await.expect("fake WorkOS starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let config = config_for(&workos, &base).optional_paths(["/whoami.WhoAmI/Ping"]);
    let layer = SsoLayer::new(configure(config).build().expect("valid test config"));
    let incoming = TcpIncoming::from(listener);
    let service = WhoAmIServer::new(WhoAmIService);
    let server = match flavour {
        Flavour::Grpc => {
            let browser = axum::Router::new()
                .route("/cli-token", get(cli_token))
                .with_state(layer.clone());
            let server = Server::builder()
                .accept_http1(true)
                // tower-http's gRPC trace sees every call, the layer's refusals included.
                .layer(TraceLayer::new_for_grpc())
                .layer(layer.clone())
                .add_routes(Routes::from(browser).add_service(service))
                .serve_with_incoming(incoming);
            tokio::spawn(async move { server.await.expect("gRPC server runs") })
        }
        Flavour::GrpcWeb => {
            let server = Server::builder()
                .accept_http1(true)
                .layer(GrpcWebLayer::new())
                .layer(layer.clone())
                .add_service(service)
                .serve_with_incoming(incoming);
            tokio::spawn(async move { server.await.expect("gRPC-web server runs") })
        }
    };
    Grpc {
        addr,
        base,
        layer,
        workos,
        server,
    }
}

impl Grpc {
    /// A session token for alice, as this server's layer mints it.
    fn token(&self) -> String {
        token_from(&self.layer)
    }

    /// A session token for alice from a layer configured like this server's, adjusted.
    fn token_with(&self, adjust: impl FnOnce(SsoConfigBuilder) -> SsoConfigBuilder) -> String {
        let config = adjust(config_for(&self.workos, &self.base))
            .build()
            .unwrap();
        token_from(&SsoLayer::new(config))
    }
}

fn token_from(layer: &SsoLayer) -> String {
    let token = layer
        .issue_session_token(&alice())
        .expect("a small profile");
    token.expose().to_owned()
}

/// A tonic client of the server.
async fn client(grpc: &Grpc) -> WhoAmIClient<tonic::transport::Channel> {
    WhoAmIClient::connect(grpc.base.clone())
        .await
        .expect("connects")
}

/// A request with `token`, if any, in `authorization: Bearer` metadata.
fn with_token<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

async fn who_am_i(grpc: &Grpc, token: Option<&str>) -> Result<WhoAmIReply, Status> {
    let reply = client(grpc)
        .await
        .who_am_i(with_token(WhoAmIRequest {}, token))
        .await?;
    Ok(reply.into_inner())
}

async fn ping(grpc: &Grpc, token: Option<&str>) -> PingReply {
    client(grpc)
        .await
        .ping(with_token(PingRequest {}, token))
        .await
        .expect("Ping is public")
        .into_inner()
}

/// The token with one character of its signature changed.
fn tampered(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn a_bearer_token_in_metadata_returns_the_callers_profile() {
    let grpc = start(Flavour::Grpc, |b| b).await;
    let token = grpc.token();
    let me = who_am_i(&grpc, Some(&token)).await.expect("authenticated");
    assert_eq!(me.email, "alice@example.com");
    assert_eq!(me.name, "Alice Liddell");
    assert_eq!(me.organization_id, "org_01ACME");
    assert_eq!(me.session_source, "bearer");
}

#[tokio::test]
async fn missing_expired_and_forged_tokens_get_unauthenticated_with_a_reason() {
    let grpc = start(Flavour::Grpc, |b| b).await;
    let valid = grpc.token();
    // Minted with the same configuration two hours ago: past the 30-minute idle timeout.
    let expired =
        grpc.token_with(|b| b.clock(|| SystemTime::now() - Duration::from_secs(2 * 3600)));
    // Right claims and audience, signed with a secret this server does not know.
    let foreign =
        grpc.token_with(|b| b.session_secret(b"a-secret-nobody-shared-0123456789abcdef".to_vec()));
    let invalid = "session token is invalid or expired";
    let cases = [
        (
            None,
            "sign-in required: send a session token as authorization: Bearer",
        ),
        (Some(expired), invalid),
        (Some(tampered(&valid)), invalid),
        (Some(foreign), invalid),
        (Some("not-a-jwt".to_owned()), invalid),
    ];
    for (token, message) in cases {
        let status = who_am_i(&grpc, token.as_deref())
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "{token:?}");
        assert_eq!(status.message(), message, "{token:?}");
    }
    // The valid one still works, so the refusals were about the tokens.
    assert!(who_am_i(&grpc, Some(&valid)).await.is_ok());
}

/// Sends one raw gRPC call over HTTP/2 and returns the status, headers, body and trailers.
async fn raw_call(
    grpc: &Grpc,
    extra: &[(&'static str, String)],
) -> (StatusCode, HeaderMap, Bytes, Option<HeaderMap>) {
    let stream = tokio::net::TcpStream::connect(grpc.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = http::Request::post(format!("{}{WHO_AM_I}", grpc.base))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        // What a browser would send; a gRPC call still never gets a redirect or a page.
        .header("accept", "text/html,application/xhtml+xml")
        // An empty WhoAmIRequest in gRPC framing: not compressed, length 0.
        .body(Full::new(Bytes::from_static(&[0, 0, 0, 0, 0])))
        .unwrap();
    for (name, value) in extra {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).unwrap());
    }
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let collected = response.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    (status, headers, collected.to_bytes(), trailers)
}

#[tokio::test]
async fn refusals_are_trailers_only_http_200_with_grpc_status_16() {
    let grpc = start(Flavour::Grpc, |b| b).await;
    let forged = tampered(&grpc.token());
    for extra in [vec![], vec![("authorization", format!("Bearer {forged}"))]] {
        let (status, headers, body, trailers) = raw_call(&grpc, &extra).await;
        assert_eq!(status, StatusCode::OK, "{extra:?}");
        assert_eq!(headers["grpc-status"], "16");
        assert!(!headers["grpc-message"].is_empty());
        assert_eq!(headers["content-type"], "application/grpc");
        assert!(headers.get("location").is_none(), "never a redirect");
        assert!(headers.get("set-cookie").is_none());
        assert!(body.is_empty(), "never a body, let alone HTML: {body:?}");
        assert!(
            trailers.is_none(),
            "trailers-only: the status is in the headers"
        );
    }
    // A good call for contrast: a real body and the status in trailers.
    let token = grpc.token();
    let (status, headers, body, trailers) =
        raw_call(&grpc, &[("authorization", format!("Bearer {token}"))]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("grpc-status").is_none());
    assert!(!body.is_empty());
    assert_eq!(trailers.unwrap()["grpc-status"], "0");
}

#[tokio::test]
async fn a_public_rpc_passes_without_a_token_and_still_sees_a_valid_one() {
    let grpc = start(Flavour::Grpc, |b| b).await;
    assert!(!ping(&grpc, None).await.signed_in);
    assert!(!ping(&grpc, Some(&tampered(&grpc.token()))).await.signed_in);
    assert!(ping(&grpc, Some(&grpc.token())).await.signed_in);
    // Public is per method: the protected one next to it still refuses.
    let status = who_am_i(&grpc, None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_token_from_a_browser_sign_in_calls_grpc_end_to_end() {
    let grpc = start(Flavour::Grpc, |b| b).await;
    // A person signs in with the browser, landing on /cli-token, which shows the token.
    let browser = Browser::new();
    let (hops, page) = browser
        .follow(&format!(
            "{}/auth/login?login_hint=alice%40example.com&return_to=/cli-token",
            grpc.base
        ))
        .await;
    assert_eq!(page.status(), StatusCode::OK, "{hops:?}");
    assert!(hops.last().unwrap().ends_with("/cli-token"));
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    // A token of the browser's session (same id, same absolute end).
    let token = page.text().await.unwrap();

    let me = who_am_i(&grpc, Some(&token))
        .await
        .expect("the token works");
    assert_eq!(me.email, "alice@example.com");
    assert_eq!(me.session_source, "bearer");

    // Page scripts cannot fetch one: browsers mark fetch/XHR and frames, and scripts cannot
    // change that.
    for (name, value) in [("sec-fetch-mode", "cors"), ("sec-fetch-dest", "iframe")] {
        let response = browser
            .client
            .get(format!("{}/cli-token", grpc.base))
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    // A token cannot be traded for a fresh one.
    let response = harness::api()
        .get(format!("{}/cli-token", grpc.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Without a session, a browser is sent to sign in first.
    let response = Browser::new()
        .get(&format!("{}/cli-token", grpc.base))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("/auth/login?return_to=%2Fcli-token"));
}

#[tokio::test]
async fn sessions_of_an_axum_app_verify_on_a_grpc_server_sharing_its_config() {
    // The axum app and the gRPC server are separate servers with the same secret and client id.
    let app = harness::start(|b| b).await;
    let (_, token) = harness::signed_in(&app).await;
    let grpc = start(Flavour::Grpc, |b| b).await;
    let me = who_am_i(&grpc, Some(&token)).await.expect("shared config");
    assert_eq!(me.email, "alice@example.com");
    // Another audience is another app: its sessions do not open this one.
    let other = start(Flavour::Grpc, |b| b.audience("another-app")).await;
    let status = who_am_i(&other, Some(&token)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

/// A gRPC-web call as a browser page makes it: HTTP/1.1 POST, `application/grpc-web+proto`, the
/// session cookie the browser holds. Returns the status, headers and body.
async fn grpc_web_call(grpc: &Grpc, cookie: Option<&str>) -> (StatusCode, HeaderMap, Bytes) {
    let mut request = harness::api()
        .post(format!("{}{WHO_AM_I}", grpc.base))
        .header("content-type", "application/grpc-web+proto")
        .header("accept", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(vec![0u8, 0, 0, 0, 0]);
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("{SESSION_COOKIE}={cookie}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap())
}

#[tokio::test]
async fn grpc_web_calls_carry_the_browser_session_cookie() {
    let app = harness::start(|b| b).await;
    let (_, cookie) = harness::signed_in(&app).await;
    let grpc = start(Flavour::GrpcWeb, |b| b).await;

    let (status, headers, mut body) = grpc_web_call(&grpc, Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/grpc-web+proto");
    // gRPC-web framing: a message frame (flag 0), then a trailers frame (flag 0x80).
    assert_eq!(body.get_u8(), 0);
    let length = body.get_u32() as usize;
    let me = WhoAmIReply::decode(body.split_to(length)).unwrap();
    assert_eq!(me.email, "alice@example.com");
    assert_eq!(me.session_source, "cookie");
    assert_eq!(body.get_u8(), 0x80);
    let length = body.get_u32() as usize;
    let trailers = String::from_utf8(body.split_to(length).to_vec()).unwrap();
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    let (status, headers, body) = grpc_web_call(&grpc, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["grpc-status"], "16");
    assert!(headers.get("location").is_none());
    assert!(body.is_empty(), "{body:?}");
}

/// A route guard on a Tonic server (SECURITY.md A5): a signed-in caller who fails it gets
/// `PERMISSION_DENIED`, one without a session `UNAUTHENTICATED`, and never a redirect.
#[tokio::test]
async fn a_guard_on_a_tonic_server_answers_permission_denied() {
    use tower_workos_sso::Guard;

    let workos = MockWorkOs::start().await.expect("fake WorkOS starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let layer = SsoLayer::new(config_for(&workos, &base).build().unwrap());
    let server = Server::builder()
        .layer(layer.clone())
        .layer(layer.require(Guard::role("admin")))
        .add_service(WhoAmIServer::new(WhoAmIService))
        .serve_with_incoming(TcpIncoming::from(listener));
    let server = tokio::spawn(async move { server.await.expect("gRPC server runs") });
    let grpc = Grpc {
        addr,
        base,
        layer: layer.clone(),
        workos,
        server,
    };
    let mint = |roles: &[&str]| {
        let profile = Profile::new("prof_01G", "g@example.com")
            .with_organization("org_01ACME")
            .with_roles(roles.iter().copied());
        layer
            .issue_session_token(&profile)
            .unwrap()
            .expose()
            .to_owned()
    };

    let admin = who_am_i(&grpc, Some(&mint(&["admin"]))).await.unwrap();
    assert_eq!(admin.email, "g@example.com");
    for roles in [&["member"][..], &[], &["Admin"], &["admins"]] {
        let refused = who_am_i(&grpc, Some(&mint(roles))).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{roles:?}");
    }
    let anonymous = who_am_i(&grpc, None).await.unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
}

/// M4 with a real tonic client: the tenant told by a metadata entry (as a proxy sets it) or by
/// the `:authority`, in every spelling; Acme's token reaches the service only on Acme's.
#[tokio::test]
async fn m4_a_tonic_client_reaches_only_its_own_tenant_in_any_spelling() {
    use tower_workos_sso::{Selector, TenantResolver};
    let org = |id: &str| Selector::organization(id).unwrap();
    let grpc = start(Flavour::Grpc, |b| {
        b.allowed_organizations(["org_01GLOBEX"])
            .tenant_resolver(TenantResolver::by_header(
                "x-tenant",
                [("acme", org("org_01ACME")), ("globex", org("org_01GLOBEX"))],
            ))
    })
    .await;
    let token = grpc.token();
    let call = |tenants: &'static [&'static str]| {
        let mut request = with_token(WhoAmIRequest {}, Some(&token));
        for tenant in tenants {
            request
                .metadata_mut()
                .append("x-tenant", tenant.parse().unwrap());
        }
        let grpc = &grpc;
        async move {
            client(grpc)
                .await
                .who_am_i(request)
                .await
                .map(|r| r.into_inner())
        }
    };
    assert_eq!(call(&["ACME"]).await.unwrap().email, "alice@example.com");
    for (tenants, code) in [
        (&["GLOBEX"][..], Code::Unauthenticated),
        (&["Globex"], Code::Unauthenticated),
        (&["acme", "globex"], Code::InvalidArgument),
        (&["acme, globex"], Code::InvalidArgument),
        (&["initech"], Code::NotFound),
    ] {
        let status = call(tenants).await.unwrap_err();
        assert_eq!(status.code(), code, "{tenants:?}");
    }

    // By the authority the client dials: its case, port and trailing dot do not matter.
    let grpc = start(Flavour::Grpc, |b| {
        b.allowed_organizations(["org_01GLOBEX"])
            .tenant_resolver(TenantResolver::by_host([
                ("acme.app.test", org("org_01ACME")),
                ("globex.app.test", org("org_01GLOBEX")),
            ]))
    })
    .await;
    let token = grpc.token();
    let port = grpc.addr.port();
    let dial = |authority: String| {
        let grpc = &grpc;
        let token = &token;
        async move {
            let channel = tonic::transport::Endpoint::from_shared(grpc.base.clone())
                .unwrap()
                .origin(format!("http://{authority}:{port}").parse().unwrap())
                .connect()
                .await
                .unwrap();
            WhoAmIClient::new(channel)
                .who_am_i(with_token(WhoAmIRequest {}, Some(token)))
                .await
                .map(|r| r.into_inner())
        }
    };
    for host in ["acme.app.test", "ACME.App.Test", "acme.app.test."] {
        let me = dial(host.to_owned()).await.unwrap();
        assert_eq!(me.email, "alice@example.com", "{host}");
    }
    for host in ["globex.app.test", "GLOBEX.APP.TEST", "globex.app.test."] {
        let status = dial(host.to_owned()).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{host}");
    }
}
