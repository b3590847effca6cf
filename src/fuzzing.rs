//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): internal and unstable, not
//! part of the crate's API, and may change in any release.
//!
//! Every function runs the crate's real code under one fixed configuration at one fixed time
//! ([`NOW`]) and returns what it decided, so a target can check properties of the answer. The
//! `reference_*` checks are written here independently of the code they check (their own base64,
//! HMAC and claim rules), so a target can tell "refused" from "wrongly accepted".

use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue, header};
use http_body::Body;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::callback::{self, Callback, CallbackQuery};
use crate::flow::{self, FlowLookup, LoginRequest};
use crate::session::{KeyRing, Presented, SessionClaims};
use crate::{Profile, SessionSource, SsoConfig, SsoLayer};

/// The fixed time (unix seconds) at which every check runs.
pub const NOW: u64 = 1_800_000_000;
/// The fixed configuration's idle timeout, in seconds.
pub const IDLE: u64 = 30 * 60;
/// The fixed configuration's absolute session lifetime, in seconds.
pub const ABSOLUTE: u64 = 8 * 60 * 60;
/// The fixed configuration's clock leeway, in seconds.
pub const LEEWAY: u64 = 30;
/// The fixed configuration's login-flow lifetime, in seconds.
pub const FLOW_LIFETIME: u64 = 10 * 60;
/// The fixed configuration's `default_return_to`.
pub const DEFAULT_RETURN_TO: &str = "/";
/// The fixed configuration's SSO routes.
pub const SSO_ROUTES: [&str; 3] = ["/auth/login", "/auth/callback", "/auth/logout"];
/// The session cookie's name under the fixed configuration (HTTPS, so `__Host-` prefixed).
pub const SESSION_COOKIE: &str = "__Host-sso_session";
/// The prefix of every flow cookie's name under the fixed configuration.
pub const FLOW_COOKIE_PREFIX: &str = "__Host-sso_session_flow_";

const ISSUER: &str = "tower-workos-sso";
const CLIENT_ID: &str = "client_fuzz";
const API_BASE: &str = "https://api.workos.test";
// Test-only key material of the fixed configuration; it signs nothing outside the fuzzers.
const CURRENT_SECRET: [u8; 32] = [0x5a; 32];
const PREVIOUS_SECRET: [u8; 32] = [0xa5; 32];
const MAX_TOKEN_LEN: usize = 4096;

/// Which key [`sign_session_parts`] signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningKey {
    /// The current session key, under its own `kid`.
    Current,
    /// The retired (still accepted) session key, under its own `kid`.
    Previous,
    /// The login-flow key (same secret, other purpose), under the flow `kid`.
    Flow,
    /// A key the configuration has never heard of, under the current session `kid`.
    Unknown,
}

struct Fixture {
    layer: SsoLayer,
    /// The session ring, rebuilt here to mint tokens with chosen claims.
    ring: KeyRing,
    known_pages: Vec<Vec<u8>>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let config = SsoConfig::builder()
        .api_key("sk_test_fuzz")
        .client_id(CLIENT_ID)
        .redirect_uri("https://app.example.com/auth/callback")
        .api_base_url(API_BASE)
        .session_secret(CURRENT_SECRET.to_vec())
        .previous_session_secret(PREVIOUS_SECRET.to_vec())
        .idle_timeout(Duration::from_secs(IDLE))
        .absolute_lifetime(Duration::from_secs(ABSOLUTE))
        .clock_leeway(Duration::from_secs(LEEWAY))
        .login_timeout(Duration::from_secs(FLOW_LIFETIME))
        .default_return_to(DEFAULT_RETURN_TO)
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
        .build()
        .expect("the fixed fuzzing configuration is valid");
    let layer = SsoLayer::new(config);
    let config = &layer.shared.config;
    let ring = KeyRing::new(
        &config.session_secrets,
        "session",
        &config.issuer,
        &config.audience,
    );
    let mut fixture = Fixture {
        layer,
        ring,
        known_pages: Vec::new(),
    };
    // Every page the callback can answer with when no flow cookie is sent: one per fixed
    // message. A callback page outside this set would be built from the request.
    let pages = [
        "",
        "code=c",
        "state=s",
        "code=c&state=s",
        "code=c&code=d",
        "error=access_denied",
        "error=connection_invalid",
        "error=organization_invalid",
        "error=server_error",
        "error=other",
        "error=idp_initiated_sso_disabled",
        "error=idp_initiated_sso_disabled&connection_id=nope",
    ]
    .iter()
    .map(|q| begin_callback(&fixture, q).2)
    .collect();
    fixture.known_pages = pages;
    fixture
});

fn fixture() -> &'static Fixture {
    &FIXTURE
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// What the session check made of a request's headers.
#[derive(Debug)]
pub enum SessionCheck {
    /// No session token was presented.
    Absent,
    /// Several session cookies: refused whatever they hold.
    Ambiguous,
    /// A token was presented and refused.
    Refused {
        /// Where it came from.
        source: SessionSource,
        /// The token as presented.
        token: String,
    },
    /// A token was presented and accepted.
    Accepted {
        /// Where it came from.
        source: SessionSource,
        /// The token as presented.
        token: String,
        /// The verified claims, as JSON.
        claims: Value,
        /// The renewed token the crate would send back now (cookie sessions of a retired key).
        renewed: Option<String>,
    },
}

/// Runs `Sessions::presented` and `Sessions::verify` on a request with these `Cookie` and
/// `Authorization` header values (an empty or invalid header value is left out, as an HTTP
/// server would refuse it before any service sees it).
pub fn session_from_headers(cookie: &[u8], authorization: &[u8]) -> SessionCheck {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (header::COOKIE, cookie),
        (header::AUTHORIZATION, authorization),
    ] {
        if let Ok(value) = HeaderValue::from_bytes(value)
            && !value.is_empty()
        {
            headers.insert(name, value);
        }
    }
    let sessions = &fixture().layer.shared.sessions;
    let (source, token) = match sessions.presented(&headers) {
        Presented::None => return SessionCheck::Absent,
        Presented::Ambiguous => return SessionCheck::Ambiguous,
        Presented::Cookie(token) => (SessionSource::Cookie, token),
        Presented::Bearer(token) => (SessionSource::Bearer, token),
    };
    match sessions.verify(token, NOW) {
        Err(_) => SessionCheck::Refused {
            source,
            token: token.to_owned(),
        },
        Ok(verified) => SessionCheck::Accepted {
            source,
            token: token.to_owned(),
            claims: claims_json(&verified.claims),
            renewed: sessions
                .renew(&verified, NOW)
                .map(|(token, _)| token.expose().to_owned()),
        },
    }
}

/// `Sessions::verify` of one token at `now`: the verified claims as JSON, or `None`.
pub fn verify_session(token: &str, now: u64) -> Option<Value> {
    let sessions = &fixture().layer.shared.sessions;
    sessions
        .verify(token, now)
        .ok()
        .map(|verified| claims_json(&verified.claims))
}

fn claims_json(claims: &SessionClaims) -> Value {
    serde_json::to_value(claims).expect("session claims serialise")
}

/// Valid session claims for `profile` at [`NOW`], with a fixed `sid`, as JSON text.
pub fn session_claims(profile: &Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": profile.get("id").cloned().unwrap_or(Value::Null),
        "sid": "fuzz-session-id",
        "typ": "session",
        "iat": NOW,
        "exp": NOW + IDLE,
        "auth_time": NOW,
        "profile": profile,
    }))
    .expect("JSON values serialise")
}

/// A small valid profile, as JSON.
pub fn sample_profile() -> Value {
    serde_json::json!({
        "id": "prof_01FUZZ", "email": "todd@example.com", "connection_id": "conn_01FUZZ",
        "connection_type": "OktaSAML", "organization_id": "org_01FUZZ",
        "first_name": "Todd", "last_name": "Rundgren", "idp_id": "00u1a0ufowBJlzPlk357",
        "role": {"slug": "admin"}, "roles": [{"slug": "admin"}], "groups": ["Engineering"],
        "custom_attributes": {}
    })
}

/// A session token signed through the crate's own key ring with the current key: the token a
/// sign-in would issue for these claims (JSON text, sent as they are).
pub fn mint_session(claims_json_text: &[u8]) -> Option<String> {
    let claims: SessionClaims = serde_json::from_slice(claims_json_text).ok()?;
    Some(fixture().ring.sign(&claims).expose().to_owned())
}

/// A session token issued for `profile` by `Sessions::issue` at [`NOW`] (random `sid`), as at
/// a real sign-in; `None` if the profile is too large for a cookie.
pub fn issue_session(profile: &Profile) -> Option<(String, Value)> {
    let sessions = &fixture().layer.shared.sessions;
    sessions
        .issue(profile, NOW)
        .map(|(token, claims)| (token.expose().to_owned(), claims_json(&claims)))
}

/// The longest session token the crate writes (`Set-Cookie` stays under 4 KB).
pub const MAX_ISSUED_TOKEN: usize = crate::session::MAX_ISSUED_LEN;

/// The length of the token `Sessions::issue` writes for `profile` (untrimmed), computed from the
/// token format rather than by signing: base64url of the header and of the claims (with a
/// 22-character `sid`), and a 43-character HS256 signature.
pub fn session_token_len(profile: &Profile) -> usize {
    let b64 = |json: Value| (serde_json::to_vec(&json).expect("serialises").len() * 4).div_ceil(3);
    let header = serde_json::json!({"typ": "JWT", "alg": "HS256", "kid": kid(SigningKey::Current)});
    let claims = serde_json::json!({
        "iss": ISSUER, "aud": CLIENT_ID, "sub": profile.id, "sid": "s".repeat(22),
        "typ": "session", "iat": NOW, "exp": NOW + IDLE, "auth_time": NOW, "profile": profile,
    });
    b64(header) + 1 + b64(claims) + 1 + 43
}

/// A compact JWT from raw header and payload JSON bytes, signed (independently of the crate)
/// with the chosen key. The header is used as given: put the `kid` in it yourself.
pub fn sign_session_parts(header_json: &[u8], payload_json: &[u8], key: SigningKey) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header_json),
        URL_SAFE_NO_PAD.encode(payload_json)
    );
    let key = match key {
        SigningKey::Current => purpose_key(&CURRENT_SECRET, "session"),
        SigningKey::Previous => purpose_key(&PREVIOUS_SECRET, "session"),
        SigningKey::Flow => purpose_key(&CURRENT_SECRET, "flow"),
        SigningKey::Unknown => purpose_key(&[0x33; 32], "session"),
    };
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// The `kid` the given key's tokens carry ([`SigningKey::Unknown`] borrows the current one).
pub fn kid(key: SigningKey) -> String {
    let key = match key {
        SigningKey::Current | SigningKey::Unknown => purpose_key(&CURRENT_SECRET, "session"),
        SigningKey::Previous => purpose_key(&PREVIOUS_SECRET, "session"),
        SigningKey::Flow => purpose_key(&CURRENT_SECRET, "flow"),
    };
    kid_of(&key)
}

/// A standard HS256 JWT header JSON naming `kid`.
pub fn session_header(kid: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"typ": "JWT", "alg": "HS256", "kid": kid}))
        .expect("JSON values serialise")
}

fn purpose_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let label = format!("tower-workos-sso/v1/{purpose}");
    hmac::sign(&key, label.as_bytes()).as_ref().to_vec()
}

fn kid_of(key: &[u8]) -> String {
    let hash = digest::digest(&digest::SHA256, key);
    URL_SAFE_NO_PAD.encode(hash)[..11].to_owned()
}

/// The independent verdict on a session token at `now`: its claims if the signature, `kid`,
/// algorithm, issuer, audience, purpose, subject and every time limit check out.
pub fn reference_verify(token: &str, now: u64) -> Option<Value> {
    let payload = reference_signed(token, "session", &[&CURRENT_SECRET, &PREVIOUS_SECRET])?;
    let c: ReferenceSession = serde_json::from_slice(&payload).ok()?;
    let valid = c.typ == "session"
        && c.iss == ISSUER
        && c.aud == CLIENT_ID
        && !c.sid.is_empty()
        && c.sub == c.profile.id
        && c.iat <= now.saturating_add(LEEWAY)
        && c.auth_time <= c.iat
        && now <= c.exp.saturating_add(LEEWAY)
        && now <= c.auth_time.saturating_add(ABSOLUTE).saturating_add(LEEWAY);
    valid.then(|| serde_json::to_value(c).expect("claims serialise"))
}

// The reference reads tokens into its own typed claims, and like any serde struct skips the
// fields it does not know without checking them (their UTF-8, their number range): a token
// whose unknown fields hold such bytes can only come from the key holder, so both accept it.
#[derive(Deserialize)]
struct ReferenceHeader {
    alg: String,
    kid: String,
}

#[derive(Serialize, Deserialize)]
struct ReferenceSession {
    iss: String,
    aud: String,
    sub: String,
    sid: String,
    typ: String,
    iat: u64,
    exp: u64,
    auth_time: u64,
    profile: Profile,
}

#[derive(Serialize, Deserialize)]
struct ReferenceFlow {
    iss: String,
    aud: String,
    typ: String,
    st: String,
    rt: String,
    exp: u64,
}

/// Checks shape, `alg`, `kid` and signature of a compact HS256 JWT against the keys of
/// `secrets` for `purpose`; returns the payload's bytes.
fn reference_signed(token: &str, purpose: &str, secrets: &[&[u8]]) -> Option<Vec<u8>> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let [header, payload, signature] = token.split('.').collect::<Vec<_>>().try_into().ok()?;
    let header_json: ReferenceHeader = serde_json::from_slice(&decode_b64url(header)?).ok()?;
    if header_json.alg != "HS256" {
        return None;
    }
    let key = secrets
        .iter()
        .map(|secret| purpose_key(secret, purpose))
        .find(|key| kid_of(key) == header_json.kid)?;
    let message = &token[..header.len() + 1 + payload.len()];
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), message.as_bytes());
    if decode_b64url(signature)? != tag.as_ref() {
        return None;
    }
    decode_b64url(payload)
}

/// Strict unpadded base64url (RFC 4648 §5): its own decoder, not the one the crate uses.
/// Refuses padding, other alphabets, impossible lengths and non-zero leftover bits.
pub fn decode_b64url(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    }
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut bits = 0u32;
        for &c in chunk {
            bits = bits << 6 | value(c)?;
        }
        let (bytes, spare) = match chunk.len() {
            4 => (3, 0),
            3 => (2, 2),
            _ => (1, 4),
        };
        if bits & ((1 << spare) - 1) != 0 {
            return None;
        }
        let bits = bits >> spare;
        for i in (0..bytes).rev() {
            out.push((bits >> (8 * i)) as u8);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Login flows

/// What `Flows::find` made of a callback's `state` and `Cookie` header.
#[derive(Debug)]
pub enum FlowCheck {
    /// No flow cookie for this state.
    Missing,
    /// The flow's cookie exists but has expired.
    Expired {
        /// The flow cookie's name.
        cookie: String,
    },
    /// The flow's cookie exists but does not verify.
    Invalid {
        /// The flow cookie's name.
        cookie: String,
    },
    /// A live flow.
    Found {
        /// The flow cookie's name.
        cookie: String,
        /// The flow cookie's value (its token), as the crate's cookie parser read it.
        token: String,
        /// The `state` the flow's claims carry.
        state: String,
        /// Where the flow returns to.
        return_to: String,
    },
}

/// Runs `Flows::find` for `state` on a request with this `Cookie` header value (an invalid
/// header value is left out).
pub fn flow_lookup(cookie: &[u8], state: &str) -> FlowCheck {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(cookie) {
        headers.insert(header::COOKIE, value);
    }
    match fixture().layer.shared.flows.find(&headers, state, NOW) {
        FlowLookup::Missing => FlowCheck::Missing,
        FlowLookup::Expired { cookie } => FlowCheck::Expired { cookie },
        FlowLookup::Invalid { cookie } => FlowCheck::Invalid { cookie },
        FlowLookup::Found { claims, cookie } => {
            let token = crate::cookie::request_cookies(&headers)
                .find(|(name, _)| *name == cookie)
                .map(|(_, value)| value.to_owned())
                .unwrap_or_default();
            FlowCheck::Found {
                token,
                state: claims.st.clone(),
                return_to: claims.rt.clone(),
                cookie,
            }
        }
    }
}

/// The name of the flow cookie for `state`, computed independently of the crate.
pub fn flow_cookie_name(state: &str) -> String {
    let hash = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, state.as_bytes()));
    format!("{FLOW_COOKIE_PREFIX}{}", &hash[..16])
}

/// The independent verdict on a flow token at [`NOW`]: its claims if signature, `kid`, purpose,
/// issuer, audience and expiry check out.
pub fn reference_verify_flow(token: &str) -> Option<Value> {
    let payload = reference_signed(token, "flow", &[&CURRENT_SECRET, &PREVIOUS_SECRET])?;
    let c: ReferenceFlow = serde_json::from_slice(&payload).ok()?;
    let valid = c.typ == "flow" && c.iss == ISSUER && c.aud == CLIENT_ID && NOW <= c.exp;
    valid.then(|| serde_json::to_value(c).expect("claims serialise"))
}

/// Starts a login as `GET /auth/login?{query}` would at [`NOW`]: the new flow cookie
/// (`name=value`) and the `state` sent to WorkOS, or `None` if the login is refused.
pub fn mint_flow(query: &str) -> Option<(String, String)> {
    let shared = &fixture().layer.shared;
    let login = LoginRequest::parse(Some(query)).ok()?;
    let selector = login
        .selector
        .clone()
        .unwrap_or_else(|| crate::Selector::provider("GoogleOAuth").expect("valid"));
    let response = shared
        .flows
        .start(&shared.config, login, selector, &HeaderMap::new(), NOW);
    let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
    let (_, query) = location.split_once('?')?;
    let state = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "state")?
        .1
        .into_owned();
    let set_cookie = response.headers().get(header::SET_COOKIE)?.to_str().ok()?;
    let (pair, _) = set_cookie.split_once(';')?;
    Some((pair.to_owned(), state))
}

// ---------------------------------------------------------------------------------------------
// return_to

/// `flow::safe_return_to` under the fixed configuration.
pub fn return_to(input: &str) -> String {
    flow::safe_return_to(&fixture().layer.shared.config, Some(input))
}

// ---------------------------------------------------------------------------------------------
// Callback and login queries

/// What the crate made of one callback or login query string.
#[derive(Debug)]
pub struct CallbackCheck {
    /// `CallbackQuery::parse`: `[code, state, error, connection_id]`, or `None` if malformed.
    pub callback: Option<[Option<String>; 4]>,
    /// `LoginRequest::parse`, read as a login query.
    pub login: Result<LoginParts, &'static str>,
    /// The callback's answer (no flow cookie sent): status.
    pub status: u16,
    /// The callback's answer: `Location`, if any.
    pub location: Option<String>,
    /// Whether the callback's answer body is one of the fixed pages (nothing from the request).
    pub known_page: bool,
    /// Whether the callback would exchange a code with WorkOS (it never may without a flow).
    pub exchange: bool,
}

/// A parsed login query.
#[derive(Debug, PartialEq, Eq)]
pub struct LoginParts {
    /// The selector as its query parameter: `(organization|connection|provider, value)`.
    pub selector: Option<(String, String)>,
    /// `login_hint`.
    pub login_hint: Option<String>,
    /// `domain_hint`.
    pub domain_hint: Option<String>,
    /// `return_to`, as given.
    pub return_to: Option<String>,
    /// `return_to` after `safe_return_to`, as the flow would store it.
    pub safe_return_to: String,
}

/// Parses `query` as a callback query and as a login query, and runs the callback's first
/// step on it with no cookies.
pub fn callback_query(query: &str) -> CallbackCheck {
    let callback =
        CallbackQuery::parse(Some(query)).map(|q| [q.code, q.state, q.error, q.connection_id]);
    let login = login_query(query);
    let (status, location, body, exchange) = begin_callback(fixture(), query);
    let known_page = location.is_some() || fixture().known_pages.contains(&body);
    CallbackCheck {
        callback,
        login,
        status,
        location,
        known_page,
        exchange,
    }
}

/// `LoginRequest::parse` of `query`.
pub fn login_query(query: &str) -> Result<LoginParts, &'static str> {
    LoginRequest::parse(Some(query)).map(|login| LoginParts {
        selector: login.selector.as_ref().map(|s| {
            let (name, value) = s.param();
            (name.to_owned(), value.to_owned())
        }),
        safe_return_to: return_to_opt(login.return_to.as_deref()),
        login_hint: login.login_hint,
        domain_hint: login.domain_hint,
        return_to: login.return_to,
    })
}

fn return_to_opt(input: Option<&str>) -> String {
    flow::safe_return_to(&fixture().layer.shared.config, input)
}

fn begin_callback(fixture: &Fixture, query: &str) -> (u16, Option<String>, Vec<u8>, bool) {
    match callback::begin(&fixture.layer.shared, Some(query), &HeaderMap::new()) {
        Callback::Exchange(_) => (0, None, Vec::new(), true),
        Callback::Respond(mut response) => {
            let location = response
                .headers()
                .get(header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let mut body = Vec::new();
            let mut cx = Context::from_waker(Waker::noop());
            while let Poll::Ready(Some(Ok(frame))) =
                Pin::new(response.body_mut()).poll_frame(&mut cx)
            {
                if let Ok(data) = frame.into_data() {
                    body.extend_from_slice(&data);
                }
            }
            (response.status().as_u16(), location, body, false)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Profiles

/// A profile through a sign-in's session and back.
#[derive(Debug)]
pub enum ProfileCheck {
    /// The JSON is not a profile the crate accepts.
    NotAProfile,
    /// A profile too large for a session cookie even without its custom attributes and groups.
    TooLarge {
        /// The parsed profile.
        profile: Box<Profile>,
    },
    /// A session was issued for the profile.
    Issued {
        /// The parsed profile.
        profile: Box<Profile>,
        /// The issued token.
        token: String,
        /// `Sessions::verify` of the token at [`NOW`].
        verified: Option<Value>,
        /// Half an idle timeout (and a second) later, `Sessions::renew` of the verified token
        /// and `Sessions::verify` of the renewed one: its claims, or `None` if either failed.
        renewed: Option<Value>,
    },
}

/// Parses a WorkOS profile as the code exchange does, issues a session for it at [`NOW`],
/// verifies the token, and renews it half an idle timeout later.
pub fn profile_roundtrip(json: &[u8]) -> ProfileCheck {
    let Ok(profile) = serde_json::from_slice::<Profile>(json) else {
        return ProfileCheck::NotAProfile;
    };
    let sessions = &fixture().layer.shared.sessions;
    let Some((token, _)) = sessions.issue(&profile, NOW) else {
        return ProfileCheck::TooLarge {
            profile: Box::new(profile),
        };
    };
    let token = token.expose().to_owned();
    let verified = sessions.verify(&token, NOW).ok();
    let later = NOW + IDLE / 2 + 1;
    let renewed = verified
        .as_ref()
        .and_then(|verified| sessions.renew(verified, later))
        .and_then(|(renewed, _)| sessions.verify(renewed.expose(), later).ok())
        .map(|v| claims_json(&v.claims));
    ProfileCheck::Issued {
        profile: Box::new(profile),
        verified: verified.map(|v| claims_json(&v.claims)),
        renewed,
        token,
    }
}
