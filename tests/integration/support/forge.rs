//! Tools of an attacker who knows how the crate builds its tokens: mint JWTs with any header,
//! claims and signature, decode cookies, drive a login one hop at a time, and send raw HTTP.
//!
//! Written independently of the crate: keys are derived here as the crate documents it,
//! HMAC-SHA256(secret, "tower-workos-sso/v1/" + purpose), and `kid` is the first 11 characters
//! of base64url(SHA-256(derived key)).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::{digest, hmac, rsa, signature};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::harness::{self, App, Browser, SECRET, SESSION_COOKIE, location, set_cookies};

/// The per-purpose key the crate derives from a session secret.
pub fn derived_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::sign(&key, format!("tower-workos-sso/v1/{purpose}").as_bytes())
        .as_ref()
        .to_vec()
}

/// The `kid` the crate puts in the header of tokens signed with `key`.
pub fn kid_of(key: &[u8]) -> String {
    b64(digest::digest(&digest::SHA256, key).as_ref())[..11].to_owned()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// How a forged token is signed.
pub enum Sign<'a> {
    Hmac(hmac::Algorithm, &'a [u8]),
    /// An ES256 signature with a fresh key pair the attacker owns.
    Es256,
    /// An RS256 signature with a fresh 2048-bit key pair the attacker owns.
    Rs256,
    /// No signature at all (`alg: none` style): `header.payload.`
    Empty,
}

/// `header.payload.signature` with exactly this header and these claims.
pub fn jwt(header: &Value, claims: &Value, sign: Sign<'_>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = match sign {
        Sign::Hmac(algorithm, key) => hmac::sign(&hmac::Key::new(algorithm, key), input.as_bytes())
            .as_ref()
            .to_vec(),
        Sign::Es256 => {
            let pair =
                signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .unwrap();
            pair.sign(&SystemRandom::new(), input.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec()
        }
        Sign::Rs256 => {
            let pair = rsa::KeyPair::generate(rsa::KeySize::Rsa2048).unwrap();
            let mut out = vec![0; pair.public_modulus_len()];
            pair.sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut out,
            )
            .unwrap();
            out
        }
        Sign::Empty => Vec::new(),
    };
    format!("{input}.{}", b64(&signature))
}

/// The session key of the harness's secret, and its `kid`.
pub fn session_key() -> (Vec<u8>, String) {
    let key = derived_key(SECRET, "session");
    let kid = kid_of(&key);
    (key, kid)
}

/// The flow key of the harness's secret, and its `kid`.
pub fn flow_key() -> (Vec<u8>, String) {
    let key = derived_key(SECRET, "flow");
    let kid = kid_of(&key);
    (key, kid)
}

/// A flow cookie value in the crate's format 2, `2.<payload>.<mac>`, around the base64url
/// `payload` text as given: the MAC is HMAC-SHA256 under `key` of the prefix the crate
/// documents (`tower-workos-sso/flow/2`, the issuer and the audience, one per line) and then
/// the text `2.<payload>`.
pub fn flow_value(payload: &str, key: &[u8], issuer: &str, audience: &str) -> String {
    let message = format!("2.{payload}");
    let mut mac = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, key));
    mac.update(format!("tower-workos-sso/flow/2\n{issuer}\n{audience}\n").as_bytes());
    mac.update(message.as_bytes());
    format!("{message}.{}", b64(mac.sign().as_ref()))
}

pub fn hs256_header(kid: &str) -> Value {
    json!({ "typ": "JWT", "alg": "HS256", "kid": kid })
}

/// Signs `claims` as the crate signs sessions (HS256, session key, its kid).
pub fn session_token(claims: &Value) -> String {
    let (key, kid) = session_key();
    jwt(
        &hs256_header(&kid),
        claims,
        Sign::Hmac(hmac::HMAC_SHA256, &key),
    )
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// alice's profile as WorkOS reports it (without `raw_attributes`).
pub fn alice_profile() -> Value {
    json!({
        "id": "prof_01ALICE", "email": "alice@example.com", "first_name": "Alice",
        "last_name": "Liddell", "name": "Alice Liddell", "organization_id": "org_01ACME",
        "connection_id": "conn_01ACMEOKTA", "connection_type": "OktaSAML", "idp_id": "00u1alice",
        "role": {"slug": "admin"}, "roles": [{"slug": "admin"}], "groups": ["Engineering"],
        "custom_attributes": {}
    })
}

/// alice's profile as a session token carries it (`p`: short keys, `sub` is its id).
pub fn alice_token_profile() -> Value {
    json!({
        "em": "alice@example.com", "fn": "Alice", "ln": "Liddell", "nm": "Alice Liddell",
        "org": "org_01ACME", "cid": "conn_01ACMEOKTA", "ct": "OktaSAML", "idp": "00u1alice",
        "rl": "admin", "rls": ["admin"], "grp": ["Engineering"]
    })
}

/// Claims of a valid session of `app` for alice, issued at `now`.
pub fn session_claims(app: &App, now: u64) -> Value {
    json!({
        "iss": "tower-workos-sso",
        "aud": app.workos.client_id(),
        "sub": "prof_01ALICE",
        "sid": "forged-session-id-0001",
        "typ": "session",
        "iat": now,
        "exp": now + 30 * 60,
        "auth_time": now,
        "p": alice_token_profile(),
    })
}

/// The JSON payload of a JWT, unverified.
pub fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&unb64(part)).expect("JSON payload")
}

/// The name of the flow cookie the crate uses for `state` (plain-HTTP dev naming).
pub fn flow_cookie_name(state: &str) -> String {
    let hash = b64(digest::digest(&digest::SHA256, state.as_bytes()).as_ref());
    format!("sso_session_flow_{}", &hash[..16])
}

/// A login started by `browser`, stopped just before the callback.
pub struct Started {
    pub state: String,
    /// The flow cookie the login set: (name, value).
    pub flow_cookie: (String, String),
    /// Where WorkOS sends the browser back (with `code` and `state`).
    pub callback: String,
    pub code: String,
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The first `name=value` of a response's `Set-Cookie` lines for a cookie whose name starts
/// with `prefix`, with a non-empty value.
pub fn set_cookie_pair(response: &Response, prefix: &str) -> Option<(String, String)> {
    set_cookies(response).into_iter().find_map(|line| {
        let pair = line.split(';').next()?;
        let (name, value) = pair.split_once('=')?;
        (name.starts_with(prefix) && !value.is_empty()).then(|| (name.to_owned(), value.to_owned()))
    })
}

/// Starts a login in `browser` (`query` for `/auth/login`) and lets the fake sign the user in,
/// without following the redirect back to the app.
pub async fn start_login(app: &App, browser: &Browser, query: &str) -> Started {
    let to_workos = browser.get(&app.url(&format!("/auth/login?{query}"))).await;
    assert_eq!(to_workos.status(), StatusCode::FOUND);
    let authorize = location(&to_workos);
    let flow_cookie = set_cookie_pair(&to_workos, "sso_session_flow_").expect("a flow cookie");
    let back = browser.get(&authorize).await;
    assert_eq!(
        back.status(),
        StatusCode::FOUND,
        "the fake signs in at once"
    );
    let callback = location(&back);
    Started {
        state: query_param(&authorize, "state").unwrap(),
        code: query_param(&callback, "code").unwrap(),
        flow_cookie,
        callback,
    }
}

/// alice's login through the default organization, up to the callback.
pub async fn start_alice(app: &App, browser: &Browser) -> Started {
    start_login(app, browser, "login_hint=alice%40example.com").await
}

/// Starts a login in a fresh browser and, without visiting WorkOS, sends the callback a made-up
/// code with the login's real state, so the layer's first call to WorkOS is the code exchange.
/// Returns the browser, the callback's answer and when the callback was sent.
pub async fn callback_with_made_up_code(app: &App) -> (Browser, Response, Instant) {
    let browser = Browser::new();
    let to_workos = browser.get(&app.url("/auth/login")).await;
    let state = query_param(&location(&to_workos), "state").unwrap();
    let started = Instant::now();
    let response = browser
        .get(&app.url(&format!("/auth/callback?code=any&state={state}")))
        .await;
    (browser, response, started)
}

/// A raw HTTP/1.1 exchange with the app: exactly these bytes go out (`Connection: close` is
/// the caller's job); returns the status and the header block of the answer.
pub async fn raw_http(app: &App, request: &str) -> (u16, String) {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head)
}

/// The value of header `name` in a raw header block.
pub fn raw_header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The `Cookie` header `browser` would send to `url`.
pub fn cookie_header(browser: &Browser, url: &str) -> Option<String> {
    use reqwest::cookie::CookieStore;
    let header = browser.jar.cookies(&reqwest::Url::parse(url).unwrap())?;
    Some(header.to_str().unwrap().to_owned())
}

/// A GET from a plain client (no jar, no redirects) with exactly this `Cookie` header, as a
/// browser whose cookies an attacker edited would send it. Reuse one client per test.
pub async fn get_with_cookie(client: &reqwest::Client, url: &str, cookie: &str) -> Response {
    client
        .get(url)
        .header("accept", "text/html")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// Whether `token` opens a protected route, as a bearer token and as the session cookie.
/// Both ways must agree.
pub async fn accepted(app: &App, client: &Client, token: &str) -> bool {
    let bearer = client
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status();
    let cookie = get_with_cookie(client, &app.url("/"), &format!("{SESSION_COOKIE}={token}"))
        .await
        .status();
    match (bearer, cookie) {
        (StatusCode::OK, StatusCode::OK) => true,
        (StatusCode::UNAUTHORIZED, StatusCode::SEE_OTHER) => false,
        other => panic!("bearer and cookie disagree: {other:?}"),
    }
}

/// An app whose clock stands still at `T0`, so time limits can be tested to the second.
pub async fn frozen_app(
    configure: impl FnOnce(tower_workos_sso::SsoConfigBuilder) -> tower_workos_sso::SsoConfigBuilder,
) -> (App, u64) {
    let t0 = unix_now();
    let app =
        harness::start(move |b| configure(b.clock(move || UNIX_EPOCH + Duration::from_secs(t0))))
            .await;
    (app, t0)
}

/// Every response that sets or clears a session or flow cookie must not be cached.
pub fn assert_no_store_if_cookie(response: &Response, what: &str) {
    if !set_cookies(response).is_empty() {
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{what}: a response with Set-Cookie must be no-store"
        );
    }
}
