//! M4 for every spelling of a tenant: each request goes out byte for byte over TCP to an axum
//! app whose handler reads the tenant's slug with `Path`, as apps do, and records whose
//! profile reached it. Acme's session must never reach the app on a request that any reading
//! puts in another tenant, or in none that is configured.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Path;
use axum::http::Uri;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower_workos_sso::testkit::MockWorkOs;
use tower_workos_sso::{Profile, Selector, SsoConfigBuilder, TenantResolver};

use crate::support::forge::{raw_header, raw_http};
use crate::support::harness::{self, App, SESSION_COOKIE, alice};

/// Every request that reached the app: its raw path and the email of its profile, if any.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

fn org(id: &str) -> Selector {
    Selector::organization(id).unwrap()
}

/// `/t/{slug}/data` reads the slug as axum decodes it; anything else reaches the fallback.
fn routes(seen: &Seen) -> Router {
    let (on_data, on_other) = (seen.clone(), seen.clone());
    Router::new()
        .route(
            "/t/{slug}/data",
            get(
                move |Path(slug): Path<String>, uri: Uri, p: Option<Profile>| {
                    let email = p.map(|p| p.email.to_string());
                    on_data
                        .lock()
                        .unwrap()
                        .push((uri.path().to_owned(), email.clone()));
                    async move { format!("{slug}: {}", email.unwrap_or_default()) }
                },
            ),
        )
        .fallback(move |uri: Uri, p: Option<Profile>| {
            let email = p.map(|p| p.email.to_string());
            on_other
                .lock()
                .unwrap()
                .push((uri.path().to_owned(), email));
            async { "fallback" }
        })
}

async fn start(resolver: TenantResolver) -> (App, Seen) {
    let seen = Seen::default();
    let workos = MockWorkOs::start().await.unwrap();
    let configure = |_: &str, b: SsoConfigBuilder| {
        b.default_selector(org("org_01ACME"))
            .allowed_organizations(["org_01GLOBEX"])
            .tenant_resolver(resolver)
    };
    (
        harness::start_app(workos, routes(&seen), configure).await,
        seen,
    )
}

fn by_path() -> TenantResolver {
    TenantResolver::by_path_prefix(
        "/t/",
        [("acme", org("org_01ACME")), ("globex", org("org_01GLOBEX"))],
    )
}

/// Sends `GET path` exactly as written with `headers`; the status and header block.
async fn send(app: &App, path: &str, headers: &[String]) -> (u16, String) {
    let mut request = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("host:"))
    {
        request.push_str("Host: localhost\r\n");
    }
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    raw_http(app, &request).await
}

/// Acme's session as an API client sends it, and as a browser does.
fn callers(token: &str) -> [Vec<String>; 2] {
    [
        vec![format!("Authorization: Bearer {token}")],
        vec![
            format!("Cookie: {SESSION_COOKIE}={token}"),
            "Accept: text/html".to_owned(),
        ],
    ]
}

/// Globex's slug spelled as a router or a proxy might still read it.
const GLOBEX_SPELLED_OTHERWISE: [&str; 7] = [
    "/t/%67lobex/data",
    "/t/%47%4C%4F%42%45%58/data",
    "/t/GLOBEX/data",
    "/t/Globex/data",
    "/T/globex/data",
    "/%74/globex/data",
    "/t/globex/data",
];

/// Paths that servers read in more than one way, each with another tenant in some reading.
const AMBIGUOUS: [&str; 24] = [
    "//t/globex/data",
    "/t//globex/data",
    "/t/acme/../globex/data",
    "/t/acme/./../globex/data",
    "/t/acme/%2e%2e/globex/data",
    "/t/acme/%2E%2E/globex/data",
    "/t/acme/.%2e/globex/data",
    "/t/acme/..;/globex/data",
    "/t/acme;/../globex/data",
    "/t/globex;x/data",
    "/t/acme;x/data",
    "/t/acme/data;x",
    "/t/glo%2fbex/data",
    "/t/acme%2f..%2fglobex/data",
    "/t/acme%2F..%2Fglobex/data",
    "/t/acme%5c..%5cglobex/data",
    "/t/acme/%252e%252e/globex/data",
    "/t/acme/%c0%ae%c0%ae/globex/data",
    "/t/acme/%u002e%u002e/globex/data",
    "/t/globex%00/data",
    "/t/%00globex/data",
    "/x/../t/globex/data",
    "/public/../t/globex/data",
    "/x%2f..%2ft%2fglobex/data",
];

/// Slugs that name no configured tenant.
const UNKNOWN: [&str; 5] = [
    "/t/initech/data",
    "/t/globex2/data",
    "/t/%ff/data",
    "/t/glob%65x%20/data",
    "/t/%EF%BD%87lobex/data",
];

/// What reached the app with alice's profile, other than on Acme's own paths.
fn leaks(seen: &Seen, own: &[&str]) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(path, email)| email.is_some() && !own.contains(&path.as_str()))
        .map(|(path, _)| path.clone())
        .collect()
}

#[tokio::test]
async fn m4_every_spelling_of_a_tenants_path_is_read_as_the_router_reads_it() {
    let (app, seen) = start(by_path()).await;
    let token = app.layer.issue_session_token(&alice()).unwrap();
    let [api, browser] = callers(token.expose());

    // Acme's own paths, however spelled, let Acme's session in.
    let own = ["/t/acme/data", "/t/ACME/data", "/t/%61cme/data"];
    for path in own {
        assert_eq!(send(&app, path, &api).await.0, 200, "{path}");
    }
    // Globex's, however spelled: Acme's session is none there (401, or Globex's login).
    for path in GLOBEX_SPELLED_OTHERWISE {
        assert_eq!(send(&app, path, &api).await.0, 401, "{path}");
        let (status, head) = send(&app, path, &browser).await;
        assert_eq!(status, 303, "{path}");
        let to = raw_header(&head, "location").unwrap();
        assert!(to.contains("organization=org_01GLOBEX"), "{path}: {to}");
    }
    // Read two ways: refused, to the session and to the anonymous alike.
    for path in AMBIGUOUS {
        for headers in [&api[..], &browser[..], &[]] {
            assert_eq!(send(&app, path, headers).await.0, 400, "{path} {headers:?}");
        }
    }
    // A raw backslash: refused by the server or the layer.
    for path in ["/t/acme\\..\\globex/data", "/t\\globex/data"] {
        let status = send(&app, path, &api).await.0;
        assert_eq!(status, 400, "{path}");
    }
    // A slug no tenant has: no session is its, and no sign-in would help (404, not a login).
    for path in UNKNOWN {
        assert_eq!(send(&app, path, &api).await.0, 404, "{path}");
        assert_eq!(send(&app, path, &browser).await.0, 404, "{path}");
        assert_eq!(send(&app, path, &[]).await.0, 404, "{path}");
    }
    assert_eq!(leaks(&seen, &own), Vec::<String>::new());
    // Outside the prefix the session works as before.
    assert_eq!(send(&app, "/elsewhere", &api).await.0, 200);
    assert_eq!(leaks(&seen, &[&own[..], &["/elsewhere"]].concat()).len(), 0);
}

#[tokio::test]
async fn m4_a_public_path_under_a_tenant_shows_no_other_tenants_session() {
    let seen = Seen::default();
    let workos = MockWorkOs::start().await.unwrap();
    let app = harness::start_app(workos, routes(&seen), |_, b| {
        b.default_selector(org("org_01ACME"))
            .allowed_organizations(["org_01GLOBEX"])
            .tenant_resolver(by_path())
            .optional_paths(["/t/*"])
    })
    .await;
    let token = app.layer.issue_session_token(&alice()).unwrap();
    let [api, _] = callers(token.expose());
    assert_eq!(send(&app, "/t/acme/data", &api).await.0, 200);
    // (Public paths match as spelled: `/T/globex/data` is not under `/t/*`, so it needs a
    // session, and Acme's is none there.)
    for path in GLOBEX_SPELLED_OTHERWISE.iter().chain(&UNKNOWN) {
        let expected = match path.starts_with("/t/") {
            false => 401,
            // axum's `Path` refuses a slug that is not UTF-8.
            true if path.contains("%ff") => 400,
            true => 200,
        };
        assert_eq!(send(&app, path, &api).await.0, expected, "{path}");
    }
    for path in AMBIGUOUS {
        assert_eq!(send(&app, path, &api).await.0, 400, "{path}");
    }
    // Each reached the app, anonymous: only Acme's own path saw alice.
    assert_eq!(leaks(&seen, &["/t/acme/data"]), Vec::<String>::new());
}

#[tokio::test]
async fn m4_every_copy_of_a_tenants_host_must_name_the_same_tenant() {
    let resolver = TenantResolver::by_host([
        ("acme.app.test", org("org_01ACME")),
        ("globex.app.test", org("org_01GLOBEX")),
    ]);
    let (app, seen) = start(resolver).await;
    let token = app.layer.issue_session_token(&alice()).unwrap();
    let bearer = format!("Authorization: Bearer {}", token.expose());
    let with = |headers: &[&str]| {
        let mut all = vec![bearer.clone()];
        all.extend(headers.iter().map(|h| h.to_string()));
        all
    };
    // Acme's own host in any spelling admits the Acme session; Globex's in any spelling not.
    for (host, status) in [
        ("acme.app.test", 200),
        ("ACME.App.Test", 200),
        ("acme.app.test.", 200),
        ("acme.app.test.:8080", 200),
        ("globex.app.test", 401),
        ("GLOBEX.app.test", 401),
        ("globex.app.test.", 401),
        ("globex.app.test:443", 401),
    ] {
        let headers = with(&[&format!("Host: {host}")]);
        assert_eq!(send(&app, "/t/x/data", &headers).await.0, status, "{host}");
    }
    for extra in [
        &["Host: acme.app.test", "X-Forwarded-Host: globex.app.test"][..],
        &[
            "Host: acme.app.test",
            "X-Forwarded-Host: acme.app.test, globex.app.test",
        ],
        &[
            "Host: acme.app.test",
            "Forwarded: for=192.0.2.1;host=globex.app.test",
        ],
        &["Host: acme.app.test", "Host: globex.app.test"],
        &["Host: acme.app.test.."],
        &["Host: acme.app.test:x"],
    ] {
        let status = send(&app, "/t/x/data", &with(extra)).await.0;
        assert_eq!(status, 400, "{extra:?}");
    }
    // The absolute form names the host in the request line: it must agree with `Host` too.
    let headers = with(&["Host: acme.app.test"]);
    let mixed = send(&app, "http://globex.app.test/t/x/data", &headers).await;
    assert_eq!(mixed.0, 400);
    // A host no tenant has is the app's own, where the session works as ever.
    let own = send(&app, "/t/x/data", &with(&["Host: app.test"])).await.0;
    assert_eq!(own, 200);
    let alices = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, e)| e.is_some())
        .count();
    assert_eq!(alices, 5, "4 Acme spellings and the app's own host");
}

#[tokio::test]
async fn m4_a_tenant_header_in_two_minds_is_refused_and_an_unknown_one_is_no_ones() {
    let resolver = TenantResolver::by_header(
        "x-tenant",
        [("acme", org("org_01ACME")), ("globex", org("org_01GLOBEX"))],
    );
    let (app, seen) = start(resolver).await;
    let token = app.layer.issue_session_token(&alice()).unwrap();
    let bearer = format!("Authorization: Bearer {}", token.expose());
    let status = |values: &'static [&'static str]| {
        let mut headers = vec![bearer.clone()];
        headers.extend(values.iter().map(|v| format!("X-Tenant: {v}")));
        let app = &app;
        async move { send(app, "/t/x/data", &headers).await.0 }
    };
    assert_eq!(status(&["acme"]).await, 200);
    assert_eq!(status(&["ACME"]).await, 200);
    assert_eq!(status(&["acme", "acme"]).await, 200);
    assert_eq!(status(&[]).await, 200);
    assert_eq!(status(&["GLOBEX"]).await, 401);
    assert_eq!(status(&["acme", "globex"]).await, 400);
    assert_eq!(status(&["globex", "acme"]).await, 400);
    assert_eq!(status(&["acme,globex"]).await, 400);
    assert_eq!(status(&["initech"]).await, 404);
    assert_eq!(
        status(&["acme "]).await,
        200,
        "surrounding spaces are not the value"
    );
    let alices = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, e)| e.is_some())
        .count();
    assert_eq!(alices, 5);
}

/// One gRPC-framed call over HTTP/2 to `path`, byte for byte; its grpc-status.
async fn grpc_status(app: &App, path: &str, token: &str) -> String {
    let addr = app.base.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = http::Request::post(format!("{}{path}", app.base))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", format!("Bearer {token}"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let head = response.headers().get("grpc-status").cloned();
    let trailers = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .trailers()
        .cloned();
    let status = head.or_else(|| trailers?.get("grpc-status").cloned());
    status.map_or_else(|| "none".to_owned(), |s| s.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn m4_grpc_calls_get_the_same_answers_for_every_spelling() {
    let (app, seen) = start(by_path()).await;
    let token = app.layer.issue_session_token(&alice()).unwrap();
    let token = token.expose();
    // The app answers Acme's call itself (no grpc-status); every other is the layer's.
    assert_eq!(grpc_status(&app, "/t/acme/data", token).await, "none");
    for path in GLOBEX_SPELLED_OTHERWISE {
        assert_eq!(grpc_status(&app, path, token).await, "16", "{path}");
    }
    for path in AMBIGUOUS {
        assert_eq!(grpc_status(&app, path, token).await, "3", "{path}");
    }
    for path in UNKNOWN {
        assert_eq!(grpc_status(&app, path, token).await, "5", "{path}");
    }
    assert_eq!(leaks(&seen, &["/t/acme/data"]), Vec::<String>::new());
}
