//! The fake, driven over real HTTP on 127.0.0.1.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::redirect::Policy;
use serde_json::{Value, json};

use super::*;

const REDIRECT_URI: &str = "http://localhost:3000/auth/callback";
/// A PKCE pair computed independently (Python's hashlib), so the test does not mirror the code.
const VERIFIER: &str = "testkit-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
const CHALLENGE: &str = "aQ8jnRQZ6M7EYpdOZlbZH3I6LJLxlOCOBE5a-0p8Lc0";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

fn authorize_url(mock: &MockWorkOs, extra: &[(&str, &str)]) -> String {
    authorize_url_to(mock, REDIRECT_URI, extra)
}

fn authorize_url_to(mock: &MockWorkOs, redirect_uri: &str, extra: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", mock.client_id())
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .extend_pairs(extra)
        .finish();
    format!("{}/sso/authorize?{query}", mock.base_url())
}

/// GETs a URL that must answer 302, and returns the Location and its query parameters.
async fn follow(url: &str) -> (String, HashMap<String, String>) {
    let response = client().get(url).send().await.expect("request");
    assert_eq!(response.status(), 302, "{url}");
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let query = location
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default();
    let params = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    (location, params)
}

async fn get_text(url: &str) -> (u16, String) {
    let response = client().get(url).send().await.expect("request");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

async fn post_token(
    mock: &MockWorkOs,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let response = client()
        .post(format!("{}/sso/token", mock.base_url()))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn token_body(mock: &MockWorkOs, code: &str, verifier: Option<&str>) -> Value {
    let mut body = json!({
        "client_id": mock.client_id(),
        "client_secret": mock.api_key(),
        "grant_type": "authorization_code",
        "code": code,
    });
    if let Some(verifier) = verifier {
        body["code_verifier"] = json!(verifier);
    }
    body
}

async fn exchange(mock: &MockWorkOs, code: &str, verifier: Option<&str>) -> (u16, Value) {
    let body = token_body(mock, code, verifier).to_string();
    post_token(mock, "application/json", body).await
}

fn alice_code(mock: &MockWorkOs) -> String {
    mock.issue_code("alice@example.com", REDIRECT_URI, None)
        .expect("seeded")
}

#[test]
fn the_mock_can_be_shared_between_tasks() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<MockWorkOs>();
}

#[tokio::test]
async fn login_hint_signs_in_directly_and_keeps_state_and_query() {
    let mock = MockWorkOs::start().await.expect("start");
    let redirect = "http://localhost:3000/auth/callback?tenant=acme";
    let extra = [
        ("connection", "conn_01ACMEOKTA"),
        ("login_hint", "ALICE@example.com"),
        ("state", "s t&ate"),
    ];
    let url = authorize_url_to(&mock, redirect, &extra);
    let (location, params) = follow(&url).await;
    assert!(
        location.starts_with("http://localhost:3000/auth/callback?tenant=acme&code="),
        "{location}"
    );
    assert_eq!(params["state"], "s t&ate");
    let (status, body) = exchange(&mock, &params["code"], None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["profile"]["email"], "alice@example.com");
    assert_eq!(mock.requests(Endpoint::Authorize), 1);
}

#[tokio::test]
async fn sign_in_page_lists_the_selection_and_its_link_signs_in() {
    let mock = MockWorkOs::start().await.expect("start");
    let url = authorize_url(
        &mock,
        &[
            ("organization", "org_01ACME"),
            ("state", "xyz"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let (status, html) = get_text(&url).await;
    assert_eq!(status, 200);
    assert!(html.contains("WorkOS test sign-in — fake, for development"));
    assert!(
        html.contains("alice@example.com")
            && html.contains("Bob Builder")
            && html.contains("Acme Corp")
    );
    assert!(!html.contains("carol@globex.test"));

    let start = html.find("/sso/authorize/approve?").expect("approve link");
    let href = &html[start..start + html[start..].find('"').expect("end of href")];
    let (location, params) = follow(&format!(
        "{}{}",
        mock.base_url(),
        href.replace("&amp;", "&")
    ))
    .await;
    assert!(location.starts_with(REDIRECT_URI));
    assert_eq!(params["state"], "xyz");
    let (status, body) = exchange(&mock, &params["code"], Some(VERIFIER)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["profile"]["id"], "prof_01ALICE");

    // The pending sign-in is single use.
    let (status, _) = get_text(&format!(
        "{}{}",
        mock.base_url(),
        href.replace("&amp;", "&")
    ))
    .await;
    assert_eq!(status, 400);
    assert_eq!(mock.requests(Endpoint::Authorize), 3);
}

#[tokio::test]
async fn sign_in_page_escapes_seeded_text() {
    let mut seed = Seed::default();
    seed.connections[0].organization_name = Some("O'Reilly & <Sons>".into());
    seed.connections[0].users[0].first_name = Some("<img src=x onerror=alert(1)>".into());
    let mock = MockWorkOs::start_with(seed).await.expect("start");
    let (status, html) =
        get_text(&authorize_url(&mock, &[("connection", "conn_01ACMEOKTA")])).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<img") && !html.contains("<Sons>"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("O&#x27;Reilly &amp; &lt;Sons&gt;"));
}

#[tokio::test]
async fn authorize_rejects_bad_requests() {
    let mock = MockWorkOs::start().await.expect("start");
    let base = mock.base_url();
    for query in [
        "client_id=client_other&redirect_uri=http%3A%2F%2Fa.test%2Fcb&response_type=code&connection=conn_01ACMEOKTA",
        "client_id=client_01TESTKIT&redirect_uri=%2Fcb&response_type=code&connection=conn_01ACMEOKTA",
        "client_id=client_01TESTKIT&redirect_uri=http%3A%2F%2Fa.test%2Fcb%23frag&response_type=code&connection=conn_01ACMEOKTA",
        "client_id=client_01TESTKIT&redirect_uri=http%3A%2F%2Fa.test%2Fcb&response_type=token&connection=conn_01ACMEOKTA",
        "client_id=client_01TESTKIT&redirect_uri=http%3A%2F%2Fa.test%2Fcb&response_type=code&connection=conn_01ACMEOKTA&code_challenge=abc&code_challenge_method=plain",
        "client_id=client_01TESTKIT&redirect_uri=http%3A%2F%2Fa.test%2Fcb&response_type=code&connection=conn_01ACMEOKTA&code_challenge=%FF%FE",
    ] {
        let (status, html) = get_text(&format!("{base}/sso/authorize?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(html.contains("<h1>"), "{query}");
    }
}

#[tokio::test]
async fn authorize_redirects_selector_errors() {
    let mock = MockWorkOs::start().await.expect("start");
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("connection", "conn_unknown"), ("state", "st")],
            "connection_invalid",
        ),
        (
            &[("organization", "org_unknown"), ("state", "st")],
            "organization_invalid",
        ),
        (
            &[
                ("connection", "conn_01ACMEOKTA"),
                ("organization", "org_01ACME"),
                ("state", "st"),
            ],
            "invalid_connection_selector",
        ),
        (&[("state", "st")], "invalid_connection_selector"),
    ];
    for (extra, error) in cases {
        let (_, params) = follow(&authorize_url(&mock, extra)).await;
        assert_eq!(params["error"], error);
        assert!(params.contains_key("error_description"));
        assert_eq!(params["state"], "st");
        assert!(!params.contains_key("code"));
    }
    let (_, params) = follow(&authorize_url(&mock, &[("provider", "GitHubOAuth")])).await;
    assert_eq!(params["error"], "connection_invalid");
    assert!(!params.contains_key("state"));
}

#[tokio::test]
async fn token_exchange_with_pkce_returns_a_full_profile_and_a_working_access_token() {
    let mock = MockWorkOs::start().await.expect("start");
    let url = authorize_url(
        &mock,
        &[
            ("provider", "GoogleOAuth"),
            ("login_hint", "erin@gmail.test"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let (_, params) = follow(&url).await;
    let (status, body) = exchange(&mock, &params["code"], Some(VERIFIER)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    let profile = &body["profile"];
    assert_eq!(profile["object"], "profile");
    assert_eq!(profile["organization_id"], Value::Null);
    assert_eq!(profile["connection_id"], "conn_01GOOGLE");
    assert_eq!(profile["name"], "Erin Example");
    assert_eq!(profile["role"], Value::Null);
    assert!(profile["raw_attributes"]["saml_assertion_id"].is_string());
    // An OAuth connection hands over the provider's tokens too.
    let tokens = &body["oauth_tokens"];
    assert_eq!(tokens["provider"], "GoogleOAuth");
    assert!(
        tokens["access_token"]
            .as_str()
            .is_some_and(|t| t.len() > 40)
    );
    assert!(tokens["refresh_token"].is_string() && tokens["expires_at"].is_u64());

    let access_token = body["access_token"].as_str().expect("token");
    let response = client()
        .get(format!("{}/sso/profile", mock.base_url()))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let again: Value =
        serde_json::from_slice(&response.bytes().await.expect("body")).expect("json");
    assert_eq!(&again, profile);

    let response = client()
        .get(format!("{}/sso/profile", mock.base_url()))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.text().await.expect("body"),
        r#"{"error":"Unauthorized"}"#
    );
}

#[tokio::test]
async fn seeded_roles_and_groups_are_in_the_profile() {
    let mock = MockWorkOs::start().await.expect("start");
    let (_, body) = exchange(
        &mock,
        &alice_code(&mock),
        Some("ignored without a challenge"),
    )
    .await;
    let profile = &body["profile"];
    assert_eq!(profile["organization_id"], "org_01ACME");
    assert_eq!(profile["connection_type"], "OktaSAML");
    assert_eq!(profile["idp_id"], "00u1alice");
    assert_eq!(profile["role"], json!({ "slug": "admin" }));
    assert_eq!(profile["roles"], json!([{ "slug": "admin" }]));
    assert_eq!(profile["groups"], json!(["Engineering"]));
    assert_eq!(profile["custom_attributes"], json!({}));
    assert!(
        body.get("oauth_tokens").is_none(),
        "SAML hands over no OAuth tokens"
    );
    assert!(
        mock.issue_code("nobody@example.com", REDIRECT_URI, None)
            .is_none()
    );
}

#[tokio::test]
async fn a_wrong_or_missing_verifier_fails_and_burns_the_code() {
    let mock = MockWorkOs::start().await.expect("start");
    for verifier in [Some("wrong-verifier-wrong-verifier-wrong-verifier-x"), None] {
        let code = mock
            .issue_code("bob@example.com", REDIRECT_URI, Some(CHALLENGE))
            .expect("seeded");
        let (status, body) = exchange(&mock, &code, verifier).await;
        assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
        let (status, body) = exchange(&mock, &code, Some(VERIFIER)).await;
        assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
    }
}

#[tokio::test]
async fn codes_are_single_use_and_expire() {
    let mock = MockWorkOs::start().await.expect("start");
    let code = alice_code(&mock);
    assert_eq!(exchange(&mock, &code, None).await.0, 200);
    let (status, body) = exchange(&mock, &code, None).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
    assert!(body["error_description"].is_string());

    let code = alice_code(&mock);
    mock.set_code_lifetime(Duration::ZERO);
    let (status, body) = exchange(&mock, &code, None).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
    mock.set_code_lifetime(Duration::from_secs(600));
    assert_eq!(exchange(&mock, &alice_code(&mock), None).await.0, 200);
}

#[tokio::test]
async fn client_and_grant_type_are_checked_before_the_code_is_consumed() {
    let mock = MockWorkOs::start().await.expect("start");
    let code = alice_code(&mock);
    let mut body = token_body(&mock, &code, None);
    body["client_secret"] = json!("sk_test_wrong");
    let (status, answer) = post_token(&mock, "application/json", body.to_string()).await;
    assert_eq!((status, &answer["error"]), (400, &json!("invalid_client")));

    let mut body = token_body(&mock, &code, None);
    body["grant_type"] = json!("refresh_token");
    let (status, answer) = post_token(&mock, "application/json", body.to_string()).await;
    assert_eq!(
        (status, &answer["error"]),
        (400, &json!("unsupported_grant_type"))
    );

    // Also as a form.
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", mock.client_id())
        .append_pair("client_secret", mock.api_key())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .finish();
    let (status, answer) = post_token(&mock, "application/x-www-form-urlencoded", form).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn bad_token_bodies_get_errors_not_panics() {
    let mock = MockWorkOs::start().await.expect("start");
    for body in [&b"{not json"[..], b"[]", b"{\"client_id\": 5}", b"\xff\xfe"] {
        let (status, answer) = post_token(&mock, "application/json", body.to_vec()).await;
        assert_eq!((status, &answer["error"]), (400, &json!("invalid_request")));
    }
    let (status, answer) = post_token(&mock, "application/json", "{}").await;
    assert_eq!((status, &answer["error"]), (400, &json!("invalid_client")));
    let (status, _) = post_token(&mock, "application/json", vec![b' '; 200 * 1024]).await;
    assert_eq!(status, 413);

    let response = client()
        .get(format!("{}/nope", mock.base_url()))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.text().await.expect("body"),
        r#"{"message":"Not Found"}"#
    );
    assert_eq!(mock.requests(Endpoint::Token), 6);
}

#[tokio::test]
async fn faults_are_served_counted_and_cleared() {
    let mock = MockWorkOs::start().await.expect("start");
    mock.set_fault(
        Endpoint::Token,
        Some(Fault::Status {
            status: 429,
            headers: vec![
                ("Retry-After".into(), "7".into()),
                ("bad header".into(), "x".into()),
            ],
            body: "{}".into(),
        }),
    );
    let response = client()
        .post(format!("{}/sso/token", mock.base_url()))
        .body(token_body(&mock, &alice_code(&mock), None).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");

    mock.set_fault(Endpoint::Token, Some(Fault::status(503)));
    let (status, body) = exchange(&mock, &alice_code(&mock), None).await;
    assert_eq!((status, &body["error"]), (503, &json!("server_error")));

    mock.set_fault(
        Endpoint::Token,
        Some(Fault::Body(b"{\"truncated\":".to_vec())),
    );
    let (status, body) = exchange(&mock, &alice_code(&mock), None).await;
    assert_eq!((status, body), (200, Value::Null));

    let odd =
        json!({ "id": "prof_odd", "email": "odd@example.com", "connection_type": "BrandNewSAML" });
    mock.set_fault(Endpoint::Token, Some(Fault::Profile(odd.clone())));
    let (status, body) = exchange(&mock, &alice_code(&mock), None).await;
    assert_eq!((status, &body["profile"]), (200, &odd));
    let (status, _) = exchange(&mock, "unknown-code", None).await;
    assert_eq!(status, 400, "Fault::Profile still validates");

    mock.set_fault(Endpoint::Token, Some(Fault::Delay(Duration::ZERO)));
    assert_eq!(exchange(&mock, &alice_code(&mock), None).await.0, 200);
    mock.set_fault(Endpoint::Token, None);
    assert_eq!(exchange(&mock, &alice_code(&mock), None).await.0, 200);
    assert_eq!(mock.requests(Endpoint::Token), 7);

    mock.set_fault(Endpoint::Authorize, Some(Fault::status(500)));
    let (status, _) = get_text(&authorize_url(&mock, &[("connection", "conn_01ACMEOKTA")])).await;
    assert_eq!(status, 500);
    assert_eq!(mock.requests(Endpoint::Authorize), 1);
    assert_eq!(mock.requests(Endpoint::Profile), 0);
}

#[tokio::test]
async fn a_hanging_request_ends_when_the_mock_is_dropped() {
    let mock = MockWorkOs::start().await.expect("start");
    mock.set_fault(Endpoint::Profile, Some(Fault::Hang));
    let request = client()
        .get(format!("{}/sso/profile", mock.base_url()))
        .send();
    let pending = tokio::spawn(request);
    while mock.requests(Endpoint::Profile) == 0 {
        tokio::task::yield_now().await;
    }
    drop(mock);
    let result = tokio::time::timeout(Duration::from_secs(10), pending)
        .await
        .expect("the request ended")
        .expect("the task did not panic");
    assert!(
        result.is_err(),
        "the connection was closed without an answer"
    );
}
