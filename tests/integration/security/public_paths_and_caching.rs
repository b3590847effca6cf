//! Public paths and caches (SECURITY.md X4, X5): paths a server could normalise into another
//! are never public, and pages made for one user are never served to another by a cache.

use reqwest::StatusCode;

use crate::support::harness::{self, Browser, signed_in};

/// Sends `GET path` as written, byte for byte (an HTTP client library would normalise it), and
/// returns the status code.
async fn raw_get_status(app: &harness::App, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).unwrap_or_default();
    status
        .parse()
        .unwrap_or_else(|_| panic!("no status for {path}: {answer}"))
}

#[tokio::test]
async fn x4_paths_a_server_could_normalise_into_another_are_never_public() {
    let app = harness::start(|b| b).await;
    // A public path itself passes (404 from the router: it has no such page), so a sneaky path
    // wrongly taken as public would answer 404, not 401.
    assert_eq!(raw_get_status(&app, "/public/no-such-page").await, 404);
    for sneaky in [
        "/public/..;/api/me",
        "/public/..;jsessionid=1/api/me",
        "/public;x=1/../api/me",
        "/public/%2e%2e;/api/me",
        "/public/%252e%252e/api/me",
        "/public/%25252e%25252e/api/me",
        "/public/%c0%ae%c0%ae/api/me",
        "/public/%e0%80%ae%e0%80%ae/api/me",
        "/public/%C0%AE./api/me",
        "/public/%u002e%u002e/api/me",
        "/public/..%5capi/me",
        "/public/..%5Capi%5Cme",
        "/public/%2e%2e%2fapi%2fme",
        "/public/x%00.css",
        "/public/%3b/api/me",
    ] {
        assert_eq!(raw_get_status(&app, sneaky).await, 401, "{sneaky}");
    }
    // A raw backslash: refused by the server or the layer, never served as public.
    let status = raw_get_status(&app, "/public\\..\\api/me").await;
    assert!(matches!(status, 400 | 401), "raw backslash: {status}");
}

#[tokio::test]
async fn x5_responses_for_a_session_are_private_to_caches_and_vary_on_the_cookie() {
    let app = harness::start(|b| b).await;
    let anonymous = Browser::new().get(&app.url("/public")).await;
    assert!(anonymous.headers().get("cache-control").is_none());
    assert!(anonymous.headers().get("vary").is_none());

    let (browser, _) = signed_in(&app).await;
    for path in ["/", "/public", "/api/me"] {
        let response = browser.get(&app.url(path)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let cache = response.headers()["cache-control"].to_str().unwrap();
        assert!(cache == "private" || cache == "no-store", "{path}: {cache}");
        let vary: Vec<_> = response
            .headers()
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .collect();
        assert!(
            vary.iter()
                .any(|v| v.split(',').any(|n| n.trim() == "cookie")),
            "{path}: {vary:?}"
        );
    }
}
