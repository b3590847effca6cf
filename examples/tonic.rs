//! WorkOS SSO in front of a Tonic gRPC service, with the same `SsoLayer` as the Axum example.
//!
//! ```text
//! cargo run --example tonic                             # the server, on 127.0.0.1:50051
//! SSO_TOKEN=... cargo run --example tonic -- whoami     # a client calling it
//! ```
//!
//! `whoami.WhoAmI/WhoAmI` needs a session; `whoami.WhoAmI/Ping` is an optional path. A gRPC client
//! sends its session token as `authorization: Bearer <token>` metadata; without one (or with an
//! expired or forged one) it gets `UNAUTHENTICATED` (HTTP 200, `grpc-status: 16`), never a
//! redirect.
//!
//! Where the token comes from: the same port also speaks HTTP/1.1 for browsers, so a person signs
//! in there and opens `/cli-token`, which mints a fresh token for command-line and gRPC clients.
//! The session cookie itself stays `HttpOnly`, and `/cli-token` refuses script requests, so page
//! scripts never see a token. With the built-in fake WorkOS:
//!
//! ```text
//! curl -sL -c jar -b jar 'http://localhost:50051/auth/login?login_hint=alice@example.com&return_to=/cli-token'
//! ```
//!
//! With no WorkOS credentials in the environment it starts the crate's fake WorkOS, as the Axum
//! example does; `PORT` changes the port. The service is generated from
//! `examples/proto/whoami.proto` in pure Rust (protox + tonic-prost-build): no `protoc` needed.

mod common;

use std::error::Error;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use common::{Site, escape};
use tonic::metadata::AsciiMetadataValue;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Endpoint, Server};
use tonic::{Request, Status};
use tower_workos_sso::{Profile, Session, SessionSource, SsoLayer};
use whoami_proto::who_am_i_client::WhoAmIClient;
use whoami_proto::who_am_i_server::{WhoAmI, WhoAmIServer};
use whoami_proto::{PingReply, PingRequest, WhoAmIReply, WhoAmIRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let site = Site::from_env(50051);
    if std::env::args().nth(1).as_deref() == Some("whoami") {
        return call(&site.origin).await;
    }

    let dev = site.workos().await?;
    let config = dev
        .builder
        .optional_paths(["/whoami.WhoAmI/Ping"])
        .build()?;
    let sso = SsoLayer::new(config);

    // The browser side: a home page and the token hand-out. gRPC calls are routed by service name.
    let browser = axum::Router::new()
        .route("/", get(home))
        .route("/cli-token", get(cli_token))
        .with_state(sso.clone());
    let routes = Routes::from(browser).add_service(WhoAmIServer::new(WhoAmIService));

    let listener = site.listen(&dev.notes).await?;
    let (port, origin) = (site.port, &site.origin);
    println!("gRPC: whoami.WhoAmI on 127.0.0.1:{port} (Ping needs no token, WhoAmI needs one).");
    println!("Get a token: open {origin}/cli-token in a browser and sign in.");
    if dev.fake.is_some() {
        println!("Or with curl, as alice@example.com:");
        println!("{}", site.curl_login("/cli-token"));
    }
    println!("Then: SSO_TOKEN=<token> PORT={port} cargo run --example tonic -- whoami");

    Server::builder()
        // HTTP/1.1 too, for the browser sign-in on the same port; gRPC stays on HTTP/2.
        .accept_http1(true)
        .layer(sso)
        .add_routes(routes)
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;
    Ok(())
}

/// The gRPC service. The layer has verified the session before any method runs.
struct WhoAmIService;

#[tonic::async_trait]
impl WhoAmI for WhoAmIService {
    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<tonic::Response<WhoAmIReply>, Status> {
        // The one-liner: tonic keeps the HTTP request's extensions, where SsoLayer put the profile.
        let profile = request.extensions().get::<Profile>();
        // Only reachable without a profile if the layer were removed: fail closed all the same.
        let profile = profile.ok_or_else(|| Status::unauthenticated("no session"))?;
        let source = match profile.session().map(|s| s.source) {
            Some(SessionSource::Cookie) => "cookie",
            _ => "bearer",
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
        // Public: the layer lets it through without a session, and still verifies one if sent.
        let signed_in = request.extensions().get::<Profile>().is_some();
        Ok(tonic::Response::new(PingReply { signed_in }))
    }
}

/// `GET /`: where the sign-in lands by default.
async fn home(profile: Profile) -> Html<String> {
    Html(common::page(
        "Signed in",
        &format!(
            "<p>Signed in as {}. <a href=\"/cli-token\">Get a token for gRPC clients</a></p>",
            escape(&profile.email)
        ),
    ))
}

/// `GET /cli-token`: a token of the signed-in session for a gRPC or command-line client, handed to a person
/// who signed in with the browser.
///
/// The session cookie is `HttpOnly` so that page scripts never hold a token; this route must not
/// undo that. It answers only a browser's top-level navigation (`Sec-Fetch-*` headers, which
/// scripts cannot set) or a non-browser client such as curl, never `fetch`/XHR or a frame, and
/// its page is sandboxed (an opaque origin) so a same-origin window that opened it cannot read
/// it. It also refuses bearer sessions, so a token cannot be traded for a newer one forever.
async fn cli_token(
    State(sso): State<SsoLayer>,
    profile: Profile,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if session.source != SessionSource::Cookie {
        return refuse("Sign in with a browser to get a token.");
    }
    let scripted = header("sec-fetch-mode").is_some_and(|mode| mode != "navigate")
        || header("sec-fetch-dest").is_some_and(|dest| dest != "document");
    if scripted {
        return refuse("Open this page directly: scripts and frames cannot read tokens.");
    }
    let Some(token) = sso.issue_session_token_for(&session, &profile) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "profile too large").into_response();
    };
    let mut response = format!("{}\n", token.expose()).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "sandbox; frame-ancestors 'none'",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn refuse(message: &'static str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CACHE_CONTROL, "no-store")],
        message,
    )
        .into_response()
}

/// `-- whoami`: a client that calls `WhoAmI` with the token in `SSO_TOKEN`, then the public `Ping`.
async fn call(origin: &str) -> Result<(), Box<dyn Error>> {
    let authorization: Option<AsciiMetadataValue> = match std::env::var("SSO_TOKEN") {
        Ok(token) if !token.trim().is_empty() => Some(format!("Bearer {}", token.trim()).parse()?),
        _ => None,
    };
    let channel = Endpoint::from_shared(origin.to_owned())?.connect().await?;
    // Every call carries the token as metadata, the gRPC form of the Authorization header.
    let mut client = WhoAmIClient::with_interceptor(channel, move |mut request: Request<()>| {
        if let Some(value) = &authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    });
    let ping = client.ping(PingRequest {}).await?.into_inner();
    println!("Ping: signed_in={}", ping.signed_in);
    match client.who_am_i(WhoAmIRequest {}).await {
        Ok(reply) => {
            let me = reply.into_inner();
            println!(
                "WhoAmI: {} ({}), organization {:?}, via {}",
                me.email, me.name, me.organization_id, me.session_source
            );
        }
        Err(status) => println!("WhoAmI: {:?}: {}", status.code(), status.message()),
    }
    Ok(())
}
