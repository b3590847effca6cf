//! Sign in with WorkOS SSO on plain Hyper 1: no framework, one `tower::ServiceBuilder`.
//!
//! ```text
//! cargo run --example hyper
//! ```
//!
//! The same browser login as the Axum example, with `SsoLayer` wrapped around a
//! `tower::service_fn` and served by hyper's HTTP/1 connection builder through hyper-util. The
//! handler reads the signed-in user from the request extensions:
//! `request.extensions().get::<Profile>()`.
//!
//! With no WorkOS credentials in the environment it starts the crate's fake WorkOS (sign in as
//! alice@example.com, ...); with `WORKOS_API_KEY`, `WORKOS_CLIENT_ID` (and `SSO_SESSION_SECRET`,
//! ...) set, it uses the real WorkOS. `PORT` changes the port (default 3000).

mod common;

use std::convert::Infallible;
use std::error::Error;

use bytes::Bytes;
use common::{Site, escape};
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_workos_sso::{Profile, SsoLayer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let site = Site::from_env(3000);
    let dev = site.workos().await?;
    let config = dev.builder.optional_paths(["/public"]).build()?;

    // The whole app: the layer around a plain async function.
    let service = ServiceBuilder::new()
        .layer(SsoLayer::new(config))
        .service_fn(handle);

    let listener = site.listen(&dev.notes).await?;
    println!("Open {}/ in a browser and sign in.", site.origin);
    if dev.fake.is_some() {
        println!("Or with curl, as alice@example.com:");
        println!("{}", site.curl_login("/"));
    }

    loop {
        let (stream, _) = listener.accept().await?;
        // hyper calls services by `&self`; the adapter clones the Tower service per request.
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}

/// Every request the layer lets through. On protected paths the profile is always there: the
/// layer has already sent visitors without a session to the sign-in.
async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let profile = request.extensions().get::<Profile>();
    let response = match (request.uri().path(), profile) {
        ("/", Some(profile)) => page(
            StatusCode::OK,
            &format!(
                "<h1>Hello, {name}</h1><p>Signed in as <b>{email}</b> ({organization}).</p>\
                 <form method=\"post\" action=\"/auth/logout\"><button>Log out</button></form>\
                 <p><a href=\"/public\">A public page</a></p>",
                name = escape(&profile.display_name()),
                email = escape(&profile.email),
                organization = escape(
                    profile
                        .organization_id
                        .as_deref()
                        .unwrap_or("no organization")
                ),
            ),
        ),
        ("/public", profile) => {
            let who = profile.map_or_else(
                || "You are not signed in, and that is fine here.".to_owned(),
                |p| format!("You are signed in as <b>{}</b>.", escape(&p.email)),
            );
            page(
                StatusCode::OK,
                &format!(
                    "<h1>Public page</h1><p>{who}</p><p><a href=\"/auth/login\">Sign in</a></p>"
                ),
            )
        }
        _ => page(StatusCode::NOT_FOUND, "<h1>Not found</h1>"),
    };
    Ok(response)
}

fn page(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::from(common::page("Hyper + SSO", body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
