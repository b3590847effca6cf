//! SECURITY.md R1-R3: where the layer sends browsers. Every payload goes through a real sign-in,
//! and every `Location` on the way is checked, not only the last one.

use reqwest::StatusCode;

use crate::support::forge::{self, raw_header, raw_http};
use crate::support::harness::{self, App, Browser};

/// Open-redirect payloads for `return_to`, as the server receives them (decoded).
fn open_redirect_payloads(app: &App) -> Vec<String> {
    let host = app.base.trim_start_matches("http://");
    let mut payloads: Vec<String> = [
        // Absolute URLs and other schemes.
        "https://evil.test",
        "http://evil.test/",
        "HTTPS://EVIL.TEST/path",
        "https:evil.test",
        "https:/evil.test",
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://evil.test/",
        // Scheme-relative.
        "//evil.test",
        "///evil.test",
        "////evil.test/path",
        "//evil.test/%2e%2e",
        "/ /evil.test",
        "/.//evil.test",
        "/a/..//evil.test",
        "/x/.%2e//evil.test",
        // Backslashes, which browsers read as slashes.
        "/\\evil.test",
        "\\\\evil.test",
        "\\/evil.test",
        "/\\/evil.test",
        "/.\\evil.test",
        // Tabs, newlines and control characters, which browsers strip from URLs.
        "java\tscript:alert(1)",
        "ht\ntps://evil.test",
        "h\rttps://evil.test",
        "/\t/evil.test",
        "/\n/evil.test",
        " //evil.test",
        "\u{0}//evil.test",
        "/a\r\nLocation: https://evil.test",
        "/\u{7f}",
        // Percent-encoded separators.
        "/%2F/evil.test",
        "/%2fevil.test",
        "%2F%2Fevil.test",
        "/%5Cevil.test",
        "/%5C%5Cevil.test",
        "/%09/evil.test",
        "/%0d%0aSet-Cookie:%20x=y",
        "https%3A%2F%2Fevil.test",
        "/%00/evil.test",
        // Double- and triple-encoded.
        "/%252F%252Fevil.test",
        "%252F%252Fevil.test",
        "/%255Cevil.test",
        "/%25252F%25252Fevil.test",
        // Unicode look-alikes of '/' and '.'.
        "/\u{FF0F}evil.test",
        "\u{FF0F}\u{FF0F}evil.test",
        "/\u{2215}evil.test",
        "/\u{2044}evil.test",
        "/\u{29F8}evil.test",
        "//evil\u{3002}test",
        "/%EF%BC%8Fevil.test",
        // Relative forms that are not paths.
        "evil.test",
        "?next=//evil.test",
        "#//evil.test",
        "",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect();
    // Userinfo tricks, naming the app itself before the @.
    payloads.extend([
        format!("https://{host}@evil.test/"),
        format!("//{host}@evil.test"),
        format!("http://{host}:80@evil.test/"),
        format!("https://evil.test\\@{host}/"),
        format!("{}@evil.test", app.base),
    ]);
    // Very long.
    payloads.extend([
        format!("/{}", "a".repeat(3000)),
        format!("/ok?{}", "x".repeat(2100)),
        format!("/{}evil.test", "%2F".repeat(700)),
    ]);
    payloads
}

/// Sign-in with `return_to=payload`, following every hop and checking each `Location`: the app
/// only ever sends the browser to its own paths or to WorkOS's authorize endpoint, WorkOS only
/// back to the callback. Returns the final URL and page.
async fn sign_in_returning_to(app: &App, browser: &Browser, payload: &str) -> (String, String) {
    let encoded: String = form_urlencoded::byte_serialize(payload.as_bytes()).collect();
    let mut url = app.url(&format!(
        "/auth/login?login_hint=alice%40example.com&return_to={encoded}"
    ));
    let authorize = format!("{}/sso/authorize?", app.workos.base_url());
    for _ in 0..6 {
        let response = browser.get(&url).await;
        if !response.status().is_redirection() {
            return (url, response.text().await.unwrap());
        }
        let raw = response.headers()["location"].to_str().unwrap().to_owned();
        if url.starts_with(&app.base) {
            let local = raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\');
            assert!(
                local || raw.starts_with(&authorize),
                "{payload:?}: the app redirected to {raw:?}"
            );
        } else {
            assert!(
                raw.starts_with(&app.url("/auth/callback?")),
                "{payload:?}: WorkOS redirected to {raw:?}"
            );
        }
        url = harness::location(&response);
    }
    panic!("{payload:?}: too many redirects");
}

#[tokio::test]
async fn r1_open_redirect_payloads_in_return_to_end_on_the_default_path() {
    let app = harness::start(|b| b).await;
    let payloads = open_redirect_payloads(&app);
    assert!(payloads.len() >= 40, "{} payloads", payloads.len());
    let browser = Browser::new();
    for payload in &payloads {
        let (last, page) = sign_in_returning_to(&app, &browser, payload).await;
        assert_eq!(last, app.url("/"), "{payload:?}");
        assert_eq!(page, "home of alice@example.com", "{payload:?}");
    }
    // Controls: local paths are kept, so the refusals above are about the payloads.
    for good in ["/public?x=1&y=%2F", "/api/me", "/public/a@b.test"] {
        let (last, _) = sign_in_returning_to(&app, &browser, good).await;
        assert_eq!(last, app.url(good), "{good}");
    }
    assert_eq!(
        app.workos
            .requests(tower_workos_sso::testkit::Endpoint::Token),
        payloads.len() + 3
    );
}

#[tokio::test]
async fn r1_a_request_target_that_looks_like_another_host_is_not_followed_after_sign_in() {
    let app = harness::start(|b| b).await;
    for target in ["//evil.test/x", "/\\evil.test", "//evil.test@127.0.0.1/"] {
        let (status, head) = raw_http(
            &app,
            &format!(
                "GET {target} HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        if status != 303 {
            // hyper refuses some of these targets itself, which is fine too.
            assert_eq!(status, 400, "{target}: {head}");
            continue;
        }
        let login = raw_header(&head, "location").unwrap();
        assert!(login.starts_with("/auth/login?return_to="), "{login}");
        let browser = Browser::new();
        let (hops, page) = browser
            .follow(&app.url(&format!("{login}&login_hint=alice%40example.com")))
            .await;
        assert_eq!(hops.last().unwrap(), &app.url("/"), "{target}: {hops:?}");
        assert_eq!(page.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn r2_return_to_the_sso_routes_is_replaced_so_login_never_loops() {
    let app = harness::start(|b| b).await;
    let browser = Browser::new();
    for payload in [
        "/auth/login",
        "/auth/login?return_to=/x",
        "/auth/login/",
        "/auth/login#x",
        "/AUTH/LOGIN",
        "/Auth/Login?organization=org_01ACME",
        "/%61uth/login",
        "/auth/%6Cogin",
        "/auth/login%3Freturn_to%3D%2F%2Fevil.test",
        "/auth/callback",
        "/auth/callback?code=x&state=y",
        "/auth/callback/",
        "/auth/logout",
        "/auth/logout?x=1",
        "/%2561uth%252Flogin",
        "/auth//login",
        "/public/../auth/login",
        "/./auth/callback",
        // Dot segments spelled with %2e, which browsers resolve like dots (found by fuzzing).
        "/%23/%2e./auth/callback",
        "/%3F/.%2E/auth/login",
        "/public/%2e%2e/auth/logout",
    ] {
        let (last, page) = sign_in_returning_to(&app, &browser, payload).await;
        assert_eq!(last, app.url("/"), "{payload}");
        assert_eq!(page, "home of alice@example.com");
    }
}

#[tokio::test]
async fn r3_forged_host_headers_never_change_the_redirect_uri_or_any_location() {
    let app = harness::start(|b| b).await;
    let forged = "Host: evil.test\r\nX-Forwarded-Host: evil.test\r\nX-Forwarded-Proto: https\r\n\
                  X-Forwarded-Port: 443\r\nForwarded: for=1.2.3.4;host=evil.test;proto=https\r\n\
                  X-Original-URL: https://evil.test/\r\nX-Forwarded-Prefix: //evil.test\r\n";
    let request = |target: &str, extra: &str| {
        format!(
            "GET {target} HTTP/1.1\r\n{forged}{extra}Accept: text/html\r\nConnection: close\r\n\r\n"
        )
    };

    // The authorization URL carries the configured redirect URI.
    let (status, head) = raw_http(
        &app,
        &request("/auth/login?login_hint=alice%40example.com", ""),
    )
    .await;
    assert_eq!(status, 302);
    let authorize = raw_header(&head, "location").unwrap().to_owned();
    assert!(authorize.starts_with(&format!("{}/sso/authorize?", app.workos.base_url())));
    assert_eq!(
        forge::query_param(&authorize, "redirect_uri").unwrap(),
        app.url("/auth/callback")
    );
    assert!(!authorize.contains("evil"), "{authorize}");

    // The fake sends the browser back to that URI; the callback's redirect is a local path.
    let cookie = raw_header(&head, "set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let back = Browser::new().get(&authorize).await;
    let callback = harness::location(&back);
    assert!(callback.starts_with(&app.url("/auth/callback?")));
    let target = callback.trim_start_matches(&app.base);
    let (status, head) = raw_http(&app, &request(target, &format!("Cookie: {cookie}\r\n"))).await;
    assert_eq!(status, 303, "{head}");
    assert_eq!(raw_header(&head, "location"), Some("/"));

    // A protected page sends the browser to a local login path; an absolute-form request
    // target naming another host changes nothing.
    for target in ["/api/me?x=1", "http://evil.test/api/me?x=1"] {
        let (status, head) = raw_http(&app, &request(target, "")).await;
        assert_eq!(status, 303, "{target}: {head}");
        assert_eq!(
            raw_header(&head, "location"),
            Some("/auth/login?return_to=%2Fapi%2Fme%3Fx%3D1"),
            "{target}"
        );
    }

    // Logout compares Origin with the configured origin, not with the Host header.
    let logout = "POST /auth/logout HTTP/1.1\r\nHost: evil.test\r\nX-Forwarded-Host: evil.test\r\n\
                  Origin: http://evil.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_http(&app, logout).await.0, 403);
}
