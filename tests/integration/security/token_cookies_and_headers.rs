//! SECURITY.md T6, T7, T10, T11: how the session travels. Oversize, duplicate and garbage
//! cookies and authorization headers (T6), identity headers never trusted (T7), the attributes of
//! every cookie the crate writes (T10), and no-store and no-referrer answers (T11).

use std::time::Duration;

use aws_lc_rs::hmac;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tower_workos_sso::store::MemoryStore;

use crate::support::forge::{
    self, accepted, assert_no_store_if_cookie, get_with_cookie, hs256_header, session_claims,
    session_key, session_token, start_alice,
};
use crate::support::harness::{
    self, Browser, SESSION_COOKIE, api, location, set_cookies, signed_in,
};

#[tokio::test]
async fn t6_oversize_duplicate_and_garbage_session_cookies_are_rejected_cleanly() {
    let app = harness::start(|b| b).await;
    let client = api();
    let (_, good) = signed_in(&app).await;
    // A validly signed token that is too long is refused before any parsing.
    let mut big = session_claims(&app, forge::unix_now());
    big["p"]["ca"] = json!({ "pad": "p".repeat(3500) });
    let oversize = session_token(&big);
    assert!(oversize.len() > 4096);
    // Deep nesting in a validly signed payload.
    let nested = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
    let deep = format!(
        "{}.{}.",
        forge::b64(hs256_header(&session_key().1).to_string().as_bytes()),
        forge::b64(nested.as_bytes())
    );
    let deep = {
        let input = deep.trim_end_matches('.');
        let signature = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &session_key().0),
            input.as_bytes(),
        );
        format!("{input}.{}", forge::b64(signature.as_ref()))
    };
    let name = SESSION_COOKIE;
    let mut cookies: Vec<(String, String)> = vec![
        ("oversize".into(), format!("{name}={oversize}")),
        (
            "64 KiB of junk".into(),
            format!("{name}={}", "x".repeat(64 * 1024)),
        ),
        ("deeply nested payload".into(), format!("{name}={deep}")),
        (
            "two copies of a valid session".into(),
            format!("{name}={good}; {name}={good}"),
        ),
        (
            "valid then junk".into(),
            format!("{name}={good}; {name}=junk"),
        ),
        (
            "junk then valid".into(),
            format!("{name}=junk; {name}={good}"),
        ),
        (
            "quoted junk then valid".into(),
            format!("{name}=\"junk\"; {name}={good}"),
        ),
    ];
    for junk in [
        "",
        "!!!!",
        "%%%",
        "a.b.c",
        "..",
        "....",
        "e30.e30.",
        "e30.e30.e30",
        "eyJ.eyJ.",
        "bnVsbA.bnVsbA.bnVsbA",
        "\u{00e9}t\u{00e9}",
        "=====",
        "Bearer x",
    ] {
        cookies.push((format!("garbage {junk:?}"), format!("{name}={junk}")));
    }
    // The session cookie past the 200 pairs that are read.
    let filler: Vec<String> = (0..250).map(|i| format!("c{i}=v")).collect();
    cookies.push((
        "valid after 250 other cookies".into(),
        format!("{}; {name}={good}", filler.join("; ")),
    ));

    for (what, cookie) in &cookies {
        let started = std::time::Instant::now();
        let response = get_with_cookie(&client, &app.url("/"), cookie).await;
        assert!(
            matches!(
                response.status(),
                StatusCode::SEE_OTHER | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            ),
            "{what}: {}",
            response.status()
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{what}: slow");
        let public = get_with_cookie(&client, &app.url("/public"), cookie).await;
        if public.status() == StatusCode::OK {
            assert_eq!(public.text().await.unwrap(), "public, anonymous", "{what}");
        }
    }
    // Two session cookies in two Cookie headers.
    let response = client
        .get(app.url("/api/me"))
        .header("cookie", format!("{name}={good}"))
        .header("cookie", format!("{name}={good}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    for bearer in [
        "Bearer",
        "Bearer ",
        "Bearer a b c",
        &format!("Bearer {}", "y".repeat(10_000)),
        "Basic YTpi",
    ] {
        let response = client
            .get(app.url("/api/me"))
            .header("authorization", bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bearer:.20}");
    }
    assert!(
        accepted(&app, &client, &good).await,
        "still serving the real session"
    );
}

/// An app with a careless outer middleware that turns a request header into a `Profile`, as
/// an app reading identity headers might: the layer must discard it.
async fn app_with_header_identity() -> (
    String,
    tokio::task::JoinHandle<()>,
    tower_workos_sso::testkit::MockWorkOs,
) {
    use axum::routing::get;
    use tower_workos_sso::{Profile, SsoConfig, SsoLayer};
    let workos = tower_workos_sso::testkit::MockWorkOs::start()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = SsoConfig::builder()
        .api_key(workos.api_key())
        .client_id(workos.client_id())
        .api_base_url(workos.base_url())
        .redirect_uri(format!("{base}/auth/callback"))
        .session_secret(harness::SECRET.to_vec())
        .optional_paths(["/public"])
        .build()
        .unwrap();
    let who =
        |p: Option<Profile>| async move { p.map_or("nobody".to_owned(), |p| p.email.to_string()) };
    let app = axum::Router::new()
        .route("/public", get(who))
        .route("/private", get(who))
        .layer(SsoLayer::new(config))
        .layer(axum::middleware::map_request(
            |mut request: axum::extract::Request| async move {
                let claimed = request
                    .headers()
                    .get("x-workos-profile")
                    .and_then(|v| v.to_str().ok());
                if let Some(profile) = claimed.and_then(|v| serde_json::from_str::<Profile>(v).ok())
                {
                    request.extensions_mut().insert(profile);
                }
                request
            },
        ));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, server, workos)
}

#[tokio::test]
async fn t7_identity_sent_in_request_headers_is_never_trusted() {
    let app = harness::start(|b| b).await;
    let client = api();
    let profile = json!({ "id": "prof_01BOB", "email": "bob@example.com" }).to_string();
    let headers = [
        ("x-user-email", "bob@example.com"),
        ("x-workos-profile", profile.as_str()),
        ("x-forwarded-user", "bob@example.com"),
        ("x-forwarded-email", "bob@example.com"),
        ("x-auth-request-email", "bob@example.com"),
        ("x-remote-user", "bob"),
        ("remote-user", "bob"),
        ("x-ms-client-principal-name", "bob@example.com"),
        (
            "x-goog-authenticated-user-email",
            "accounts.google.com:bob@example.com",
        ),
        ("cf-access-authenticated-user-email", "bob@example.com"),
        ("x-amzn-oidc-identity", "bob"),
        ("profile", profile.as_str()),
        ("session", "prof_01BOB"),
    ];
    let send = |path: &str, token: Option<&str>| {
        let mut request = client
            .get(app.url(path))
            .header("accept", "application/json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(token) = token {
            request = request.header("cookie", format!("{SESSION_COOKIE}={token}"));
        }
        request.send()
    };
    let anonymous = send("/public", None).await.unwrap();
    assert_eq!(anonymous.text().await.unwrap(), "public, anonymous");
    assert_eq!(
        send("/api/me", None).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, alice) = signed_in(&app).await;
    let me: Value = send("/api/me", Some(&alice))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "alice@example.com");

    // Even a Profile some outer middleware built from a header is discarded by the layer.
    let (base, server, _workos) = app_with_header_identity().await;
    for path in ["/public", "/private"] {
        let response = client
            .get(format!("{base}{path}"))
            .header("x-workos-profile", &profile)
            .send()
            .await
            .unwrap();
        if path == "/public" {
            assert_eq!(response.text().await.unwrap(), "nobody");
        } else {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
    }
    server.abort();
}

fn assert_cookie_flags(line: &str, secure: bool) {
    let (pair, attributes) = line.split_once(';').unwrap();
    let attributes: Vec<&str> = attributes.split(';').map(str::trim).collect();
    for required in ["Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(attributes.contains(&required), "{line} lacks {required}");
    }
    assert!(
        !attributes
            .iter()
            .any(|a| a.to_ascii_lowercase().starts_with("domain")),
        "{line}"
    );
    assert_eq!(attributes.contains(&"Secure"), secure, "{line}");
    assert_eq!(pair.starts_with("__Host-"), secure, "{line}");
}

#[tokio::test]
async fn t10_cookies_carry_host_prefix_secure_httponly_lax_and_path_root() {
    let app = harness::start(|b| b.redirect_uri("https://app.example.test/auth/callback")).await;
    let client = api();
    let html = |url: String| client.get(url).header("accept", "text/html");
    let mut lines: Vec<String> = Vec::new();

    let login = html(app.url("/auth/login?login_hint=alice%40example.com"))
        .send()
        .await
        .unwrap();
    lines.extend(set_cookies(&login));
    let flow =
        forge::set_cookie_pair(&login, "__Host-sso_session_flow_").expect("prefixed flow cookie");
    let back = client.get(location(&login)).send().await.unwrap();
    let callback = location(&back);
    assert!(
        callback.starts_with("https://app.example.test/auth/callback?"),
        "{callback}"
    );
    let local = app.url(callback.trim_start_matches("https://app.example.test"));
    let done = get_with_cookie(&client, &local, &format!("{}={}", flow.0, flow.1)).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    lines.extend(set_cookies(&done));
    let session = forge::set_cookie_pair(&done, "__Host-sso_session").expect("prefixed session");
    assert_eq!(session.0, "__Host-sso_session");
    let cookie = format!("{}={}", session.0, session.1);
    let home = get_with_cookie(&client, &app.url("/"), &cookie).await;
    assert_eq!(home.text().await.unwrap(), "home of alice@example.com");
    // The unprefixed name is not the session cookie here.
    let plain = get_with_cookie(
        &client,
        &app.url("/"),
        &format!("sso_session={}", session.1),
    )
    .await;
    assert_eq!(plain.status(), StatusCode::SEE_OTHER);
    // A renewed session, a failed callback and a logout write the same flags.
    app.advance(Duration::from_secs(16 * 60));
    let renewed = get_with_cookie(&client, &app.url("/"), &cookie).await;
    assert_eq!(set_cookies(&renewed).len(), 1, "renewed");
    lines.extend(set_cookies(&renewed));
    let failed = get_with_cookie(&client, &local, &format!("{}={}", flow.0, flow.1)).await;
    lines.extend(set_cookies(&failed));
    let out = client
        .post(app.url("/auth/logout"))
        .header("origin", "https://app.example.test")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    lines.extend(set_cookies(&out));
    assert!(lines.len() >= 6, "{lines:?}");
    for line in &lines {
        assert_cookie_flags(line, true);
    }

    // Plain-HTTP localhost development: no prefix and no Secure, every other flag kept.
    let dev = harness::start(|b| b).await;
    let browser = Browser::new();
    let login = browser
        .get(&dev.url("/auth/login?login_hint=alice%40example.com"))
        .await;
    let mut lines = set_cookies(&login);
    let back = browser.get(&location(&login)).await;
    let done = browser.get(&location(&back)).await;
    lines.extend(set_cookies(&done));
    assert!(lines.len() >= 3);
    for line in &lines {
        assert_cookie_flags(line, false);
    }
    // ...and only there: plain http anywhere else is refused at start-up.
    let error = tower_workos_sso::SsoConfig::builder()
        .api_key("sk_test_x")
        .client_id("client_x")
        .redirect_uri("http://app.example.test/auth/callback")
        .session_secret(harness::SECRET.to_vec())
        .build()
        .unwrap_err();
    assert_eq!(error.env_var(), Some("WORKOS_REDIRECT_URI"));
}

#[tokio::test]
async fn t11_every_response_carrying_a_session_or_flow_is_no_store_and_callbacks_send_no_referrer()
{
    let app = harness::start(|b| {
        b.session_store(MemoryStore::new())
            .allowed_connections(["conn_01GLOBEXENTRA"])
    })
    .await;
    let client = api();
    let browser = Browser::new();
    let mut with_cookies = 0;
    let mut check = |response: &reqwest::Response, what: &str| {
        assert_no_store_if_cookie(response, what);
        with_cookies += usize::from(!set_cookies(response).is_empty());
    };

    // Login, callback success and the page after it.
    let login = browser
        .get(&app.url("/auth/login?login_hint=alice%40example.com"))
        .await;
    check(&login, "login");
    let back = browser.get(&location(&login)).await;
    let callback = location(&back);
    let done = browser.get(&callback).await;
    check(&done, "callback");
    assert_eq!(done.headers()["referrer-policy"], "no-referrer");
    // Every callback answer, successful or not, sends no Referer onwards.
    for query in [
        "code=x".to_owned(),
        "code=x&state=y".to_owned(),
        "error=access_denied".to_owned(),
        "error=idp_initiated_sso_disabled&connection_id=conn_01GLOBEXENTRA".to_owned(),
        "error=idp_initiated_sso_disabled&connection_id=bad".to_owned(),
        String::new(),
        callback.split_once('?').unwrap().1.to_owned(),
    ] {
        let response = browser
            .get(&app.url(&format!("/auth/callback?{query}")))
            .await;
        check(&response, &query);
        assert_eq!(
            response.headers()["referrer-policy"],
            "no-referrer",
            "{query}"
        );
        assert_eq!(response.headers()["cache-control"], "no-store", "{query}");
    }
    // Other methods on the callback URL (which carries the code) are refused the same way.
    for method in ["HEAD", "POST", "PUT"] {
        let response = client
            .request(method.parse().unwrap(), &callback)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(
            response.headers()["referrer-policy"],
            "no-referrer",
            "{method}"
        );
        assert_eq!(response.headers()["cache-control"], "no-store", "{method}");
    }
    // An expired flow (its cookie is cleared).
    let expiring = start_alice(&app, &Browser::new()).await;
    app.advance(Duration::from_secs(11 * 60));
    let expired = get_with_cookie(
        &client,
        &expiring.callback,
        &format!("{}={}", expiring.flow_cookie.0, expiring.flow_cookie.1),
    )
    .await;
    check(&expired, "expired flow");
    // A renewal.
    app.advance(Duration::from_secs(5 * 60));
    let renewed = browser.get(&app.url("/")).await;
    assert_eq!(set_cookies(&renewed).len(), 1, "renewed after 16 minutes");
    check(&renewed, "renewal");
    // Logout, then the revoked cookie cleared on a public path.
    let token = browser.cookie(&app.base, SESSION_COOKIE).unwrap();
    let out = browser
        .client
        .post(app.url("/auth/logout"))
        .send()
        .await
        .unwrap();
    check(&out, "logout");
    let public = get_with_cookie(
        &client,
        &app.url("/public"),
        &format!("{SESSION_COOKIE}={token}"),
    )
    .await;
    check(&public, "revoked");
    // The login redirect of a protected page.
    let protected = Browser::new().get(&app.url("/api/me")).await;
    assert_eq!(protected.headers()["cache-control"], "no-store");
    assert!(
        with_cookies >= 7,
        "only {with_cookies} responses carried cookies"
    );
}
