//! Entry points for the fuzz targets in `fuzz/`, compiled only under `--cfg fuzzing` (which
//! cargo-fuzz passes): internal and unstable, not part of the crate's API.
//!
//! Thin on purpose: each function runs the crate's real code under one fixed configuration at
//! one fixed time ([`NOW`]) and hands back what it decided. Nothing here judges the answer: the
//! independent reference checks live in `fuzz/src/`, outside the crate.

use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, header};
use serde_json::Value;

use crate::core::Core;
use crate::flow::{self, FlowLookup};
use crate::routes::callback::{self, Callback, CallbackQuery};
use crate::routes::login::LoginQuery;
use crate::session::{Presented, SessionClaims};
use crate::token::KeyRing;
use crate::{Profile, Selector, SessionSource, SsoConfig, SsoLayer};

/// The fixed time (unix seconds) at which everything runs.
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
/// The fixed configuration's WorkOS client id.
pub const CLIENT_ID: &str = "client_fuzz";
/// The fixed configuration's WorkOS API base URL.
pub const API_BASE_URL: &str = "https://api.workos.test";
/// The fixed configuration's current session secret (test-only key material: it signs nothing
/// outside the fuzzers).
pub const CURRENT_SECRET: [u8; 32] = [0x5a; 32];
/// The fixed configuration's retired, still accepted, session secret (test-only).
pub const PREVIOUS_SECRET: [u8; 32] = [0xa5; 32];

struct Fixture {
    layer: SsoLayer,
    /// The session key ring, built as the crate builds it, to sign chosen claims.
    ring: KeyRing,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let config = SsoConfig::builder()
        .api_key("sk_test_fuzz")
        .client_id(CLIENT_ID)
        .redirect_uri("https://app.example.com/auth/callback")
        .api_base_url(API_BASE_URL)
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
    let config = &layer.core().config;
    let ring = KeyRing::new(
        &config.session_secrets,
        "session",
        &config.issuer,
        &config.audience,
    );
    Fixture { layer, ring }
});

/// Everything the layer derived from the fixed configuration.
fn shared() -> &'static Core {
    FIXTURE.layer.core()
}

/// The claims as the token carries them, but the profile under `profile` in WorkOS's names
/// (as `Profile` serialises), so targets compare profiles as profiles.
fn claims_json(claims: &SessionClaims) -> Value {
    let mut json = serde_json::to_value(claims).expect("session claims serialise");
    if let Some(object) = json.as_object_mut() {
        object.remove("p");
        object.insert(
            "profile".to_owned(),
            serde_json::to_value(&claims.profile).expect("a profile serialises"),
        );
    }
    json
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
        /// The token as the crate read it.
        token: String,
    },
    /// A token was presented and accepted.
    Accepted {
        /// Where it came from.
        source: SessionSource,
        /// The token as the crate read it.
        token: String,
        /// The verified claims, as JSON.
        claims: Value,
        /// The renewed token the crate would send back now, if any.
        renewed: Option<String>,
    },
}

/// `Sessions::presented`, `Sessions::verify` and `Sessions::renew` at [`NOW`] on a request with
/// these `Cookie` and `Authorization` header values (an empty or invalid value is left out, as
/// an HTTP server would refuse it before any service sees it).
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
    let sessions = &shared().sessions;
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
                .renew(&verified.claims, verified.current_key, NOW)
                .map(|(token, _)| token.expose().to_owned()),
        },
    }
}

/// `Sessions::verify` of one token at `now`: the verified claims as JSON, or `None`.
pub fn verify_session(token: &str, now: u64) -> Option<Value> {
    let verified = shared().sessions.verify(token, now).ok()?;
    Some(claims_json(&verified.claims))
}

/// Signs these session claims (JSON text) with the crate's own key ring and current key, as a
/// sign-in would; `None` if the JSON does not read as the crate's session claims.
pub fn mint_session(claims_json_text: &[u8]) -> Option<String> {
    let claims: SessionClaims = serde_json::from_slice(claims_json_text).ok()?;
    Some(FIXTURE.ring.sign(&claims).expose().to_owned())
}

// ---------------------------------------------------------------------------------------------
// Login flows

/// What `Flows::find` made of a callback's `state` and `Cookie` header.
#[derive(Debug)]
pub enum FlowCheck {
    /// No single flow cookie for this state.
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
        /// The flow's verified claims, as JSON.
        claims: Value,
    },
}

/// `Flows::find` for `state` at [`NOW`] on a request with this `Cookie` header value (an
/// invalid value is left out).
pub fn flow_lookup(cookie: &[u8], state: &str) -> FlowCheck {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(cookie) {
        headers.insert(header::COOKIE, value);
    }
    match shared().flows.find(&headers, state, NOW) {
        FlowLookup::Missing => FlowCheck::Missing,
        FlowLookup::Expired { cookie } => FlowCheck::Expired { cookie },
        FlowLookup::Invalid { cookie } => FlowCheck::Invalid { cookie },
        FlowLookup::Found { claims, cookie } => FlowCheck::Found {
            cookie,
            claims: serde_json::to_value(&claims).expect("flow claims serialise"),
        },
    }
}

/// `Flows::start` at [`NOW`] for the login query `query` (provider `GoogleOAuth` if it names no
/// selector): the new flow cookie as `name=value`, and the `state` sent to WorkOS; `None` if
/// the login is refused.
pub fn mint_flow(query: &str) -> Option<(String, String)> {
    let shared = shared();
    let login = LoginQuery::parse(Some(query)).ok()?;
    let selector = login
        .selector
        .clone()
        .unwrap_or_else(|| Selector::provider("GoogleOAuth").expect("valid"));
    let response = shared.flows.start(
        &shared.config,
        &login.params,
        &selector,
        &HeaderMap::new(),
        NOW,
    );
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

/// `flow::safe_return_to` under the fixed configuration.
pub fn return_to(input: &str) -> String {
    flow::safe_return_to(&shared().config, Some(input)).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Callback and login queries

/// `CallbackQuery::parse`: `[code, state, error, connection_id]`, or `None` if malformed.
pub fn callback_query(query: &str) -> Option<[Option<String>; 4]> {
    CallbackQuery::parse(Some(query)).map(|q| [q.code, q.state, q.error, q.connection_id])
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

/// `LoginQuery::parse` of `query`, and `safe_return_to` of its `return_to`; a refusal as the
/// text its page shows.
pub fn login_query(query: &str) -> Result<LoginParts, &'static str> {
    let login = LoginQuery::parse(Some(query)).map_err(|error| error.message())?;
    let params = login.params;
    Ok(LoginParts {
        selector: login.selector.as_ref().map(|s| {
            let (name, value) = s.param();
            (name.to_owned(), value.to_owned())
        }),
        safe_return_to: flow::safe_return_to(&shared().config, params.return_to.as_deref())
            .into_owned(),
        login_hint: params.login_hint,
        domain_hint: params.domain_hint,
        return_to: params.return_to,
    })
}

/// The callback's answer to a request.
#[derive(Debug)]
pub enum CallbackAnswer {
    /// It would exchange a code with WorkOS.
    Exchange,
    /// It would ask WorkOS whose connection an `idp_initiated_sso_disabled` callback names.
    LookUp,
    /// It answered at once.
    Respond {
        /// The status code.
        status: u16,
        /// The `Location` header, if any.
        location: Option<String>,
        /// The body.
        body: Vec<u8>,
    },
}

/// `callback::begin` for `GET /auth/callback?{query}` with no cookies.
pub fn begin_callback(query: &str) -> CallbackAnswer {
    match callback::begin(shared(), Some(query), &HeaderMap::new()) {
        Callback::Exchange(_) => CallbackAnswer::Exchange,
        Callback::LookUp(_) => CallbackAnswer::LookUp,
        Callback::Respond(response) => {
            let location = response
                .headers()
                .get(header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            CallbackAnswer::Respond {
                status: response.status().as_u16(),
                location,
                body: response.into_body().to_vec(),
            }
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
    /// `Sessions::issue` refused the profile (too large for a session cookie).
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

/// A verified token's payload text read by the crate's exact reader of its own claims and by
/// serde_json: `None` when the exact reader leaves the text to serde_json, else both readings
/// as JSON (serde_json's `None` where it refuses the text).
pub fn claims_readings(payload: &str) -> Option<(Value, Option<Value>)> {
    let (exact, serde) = SessionClaims::both_readings(payload)?;
    Some((claims_json(&exact), serde.as_ref().map(claims_json)))
}

/// Parses a WorkOS profile as the code exchange does, `Sessions::issue` at [`NOW`] (random
/// `sid`), verifies the token, and renews it half an idle timeout later.
pub fn profile_roundtrip(json: &[u8]) -> ProfileCheck {
    let Ok(profile) = serde_json::from_slice::<Profile>(json) else {
        return ProfileCheck::NotAProfile;
    };
    let sessions = &shared().sessions;
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
        .and_then(|verified| sessions.renew(&verified.claims, verified.current_key, later))
        .and_then(|(renewed, _)| sessions.verify(renewed.expose(), later).ok())
        .map(|v| claims_json(&v.claims));
    ProfileCheck::Issued {
        profile: Box::new(profile),
        verified: verified.map(|v| claims_json(&v.claims)),
        renewed,
        token,
    }
}
