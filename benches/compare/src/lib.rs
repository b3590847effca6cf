//! The contenders: one authenticated request, `GET /app` from a signed-in browser (the same 8
//! site cookies plus each contender's own session cookie), whose handler reads the signed-in
//! user and answers `hello <email>`, through:
//!
//! - `bare`: no authentication at all (the handler answers from a constant);
//! - `tower_workos_sso`: the crate (HS256 session JWT holding the whole profile, from a sign-in
//!   through the crate's fake WorkOS; `Profile` extractor);
//! - `jwt_minimal`: a hand-written `axum::middleware::from_fn` that finds a `token` cookie and
//!   decodes a small HS256 JWT (`sub`, `email`, `exp`) with jsonwebtoken into an extension;
//! - `jwt_profile`: the same middleware decoding claims of the crate's shape (issuer, audience,
//!   session id, times and the whole profile), checking issuer, audience and expiry: what the
//!   crate's token verification does, without the rest of the layer;
//! - `tower_sessions`: tower-sessions with its memory store; the profile is stored in the
//!   session at login and read back with `Session::get`;
//! - `axum_login`: axum-login over the same tower-sessions memory store, with a minimal
//!   in-memory backend (a `HashMap` of users); the handler reads `AuthSession::user`.
//!
//! Every contender's session is made as its users' would be (signing a token, or a login
//! request through the app that sets the cookie) before anything is measured, and every
//! contender is checked to answer `200 hello alice@example.com` with no `Set-Cookie`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_login::{AuthManagerLayerBuilder, AuthSession, AuthUser, AuthnBackend};
use http::{HeaderMap, Method, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};
use tower_workos_sso::{Profile, SsoLayer};
use tower_workos_sso_benches::fake::Fake;
use tower_workos_sso_benches::{
    EMAIL, Expect, HELLO, SECRET, SESSION_COOKIE, bare, browser_headers, prepared, profile,
    request, send, set_cookie_pair, with_sso,
};

/// The benchmark group.
pub const GROUP: &str = "compare_authenticated";

/// One way of getting the signed-in user to the handler, with the headers its browser sends.
pub struct Contender {
    pub id: &'static str,
    pub app: Router,
    pub headers: HeaderMap,
}

/// What every contender answers.
pub const EXPECT: Expect = Expect::ok(HELLO);

impl Contender {
    /// A fresh `GET /app` with this contender's headers.
    pub fn request(&self) -> Request {
        request(Method::GET, "/app", &self.headers)
    }

    /// Panics unless the contender answers what it should.
    pub async fn check(&self) {
        let response = send(self.app.clone(), self.request()).await;
        EXPECT.assert(GROUP, self.id, &response);
    }
}

/// Every contender, signed in, checked, bare first.
pub async fn contenders() -> Vec<Contender> {
    let now = SystemTime::now();
    let fake = Fake::start();
    let layer = SsoLayer::new(fake.config(now).build().expect("a valid configuration"));
    let crate_app = with_sso(layer);
    let crate_session = fake.sign_in(&crate_app).await;
    drop(fake);
    let crate_headers = browser_headers(&[(SESSION_COOKIE, &crate_session)]);

    let keys = Arc::new(JwtKeys::new());
    let unix = now
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let minimal = MinimalClaims {
        sub: profile().id.to_string(),
        email: EMAIL.to_owned(),
        exp: unix + 30 * 60,
    };
    let shaped = SessionShapedClaims {
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        sub: profile().id.to_string(),
        sid: "b1e7c0d2a9f84e3c5a6d7e8f9a0b1c2d".to_owned(),
        typ: "session".to_owned(),
        iat: unix,
        exp: unix + 30 * 60,
        auth_time: unix,
        profile: profile(),
    };
    let minimal_token = keys.sign(&minimal);
    let shaped_token = keys.sign(&shaped);

    let sessions_app = tower_sessions_app();
    let sessions_cookie = sign_in(&sessions_app).await;
    let login_app = axum_login_app();
    let login_cookie = sign_in(&login_app).await;

    let contenders = vec![
        Contender {
            id: "bare",
            app: bare(),
            headers: crate_headers.clone(),
        },
        Contender {
            id: "tower_workos_sso",
            app: crate_app,
            headers: crate_headers,
        },
        Contender {
            id: "jwt_minimal",
            app: jwt_app::<MinimalClaims>(keys.clone(), Validation::new(Algorithm::HS256)),
            headers: browser_headers(&[(JWT_COOKIE, &minimal_token)]),
        },
        Contender {
            id: "jwt_profile",
            app: jwt_app::<SessionShapedClaims>(keys, shaped_validation()),
            headers: browser_headers(&[(JWT_COOKIE, &shaped_token)]),
        },
        Contender {
            id: "tower_sessions",
            app: sessions_app,
            headers: browser_headers(&[(&sessions_cookie.0, &sessions_cookie.1)]),
        },
        Contender {
            id: "axum_login",
            app: login_app,
            headers: browser_headers(&[(&login_cookie.0, &login_cookie.1)]),
        },
    ];
    for contender in &contenders {
        contender.check().await;
    }
    contenders
}

/// `POST /login` through `app`; the session cookie it sets.
async fn sign_in(app: &Router) -> (String, String) {
    let response = send(
        app.clone(),
        request(Method::POST, "/login", &browser_headers(&[])),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "login: status");
    set_cookie_pair(response.headers()).expect("login sets the session cookie")
}

// ---- a hand-written jsonwebtoken cookie middleware ---------------------------------------------

/// The cookie the hand-written middleware reads.
pub const JWT_COOKIE: &str = "token";
const ISSUER: &str = "tower-workos-sso";
/// The audience the crate's tokens carry: the fake WorkOS's client id.
const AUDIENCE: &str = "client_01TESTKIT";

/// The keys of the hand-written middleware (HS256, the benchmark secret).
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    fn new() -> JwtKeys {
        JwtKeys {
            encoding: EncodingKey::from_secret(SECRET).expect("an HMAC key"),
            decoding: DecodingKey::from_secret(SECRET).expect("an HMAC key"),
        }
    }

    fn sign<C: Serialize>(&self, claims: &C) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signs")
    }
}

/// What a minimal app puts in its token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MinimalClaims {
    pub sub: String,
    pub email: String,
    pub exp: u64,
}

/// Claims of the crate's session token's shape.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionShapedClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub sid: String,
    pub typ: String,
    pub iat: u64,
    pub exp: u64,
    pub auth_time: u64,
    pub profile: Profile,
}

fn shaped_validation() -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation
}

/// The email a contender's claims carry.
pub trait Email {
    fn email(&self) -> &str;
}

impl Email for MinimalClaims {
    fn email(&self) -> &str {
        &self.email
    }
}

impl Email for SessionShapedClaims {
    fn email(&self) -> &str {
        &self.profile.email
    }
}

struct JwtState {
    keys: Arc<JwtKeys>,
    validation: Validation,
}

/// The two routes behind the hand-written middleware: `/app` reads the claims extension.
fn jwt_app<C>(keys: Arc<JwtKeys>, validation: Validation) -> Router
where
    C: DeserializeOwned + Email + Clone + Send + Sync + 'static,
{
    let state = Arc::new(JwtState { keys, validation });
    prepared(
        Router::new()
            .route(
                "/app",
                get(|Extension(claims): Extension<C>| async move {
                    format!("hello {}", claims.email())
                }),
            )
            .layer(middleware::from_fn_with_state(state, jwt_cookie::<C>)),
    )
}

/// Finds the `token` cookie, verifies it, and puts its claims in the extensions; else 401.
async fn jwt_cookie<C>(
    State(state): State<Arc<JwtState>>,
    mut request: Request,
    next: Next,
) -> Response
where
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let claims = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("token="))
        .and_then(|token| {
            jsonwebtoken::decode::<C>(token, &state.keys.decoding, &state.validation).ok()
        });
    match claims {
        Some(data) => {
            request.extensions_mut().insert(data.claims);
            next.run(request).await
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

// ---- tower-sessions ----------------------------------------------------------------------------

const PROFILE_KEY: &str = "profile";

fn tower_sessions_app() -> Router {
    prepared(
        Router::new()
            .route("/app", get(sessions_hello))
            .route("/login", post(sessions_login))
            .layer(SessionManagerLayer::new(MemoryStore::default())),
    )
}

async fn sessions_login(session: Session) -> StatusCode {
    session
        .insert(PROFILE_KEY, profile())
        .await
        .expect("the memory store stores");
    StatusCode::NO_CONTENT
}

async fn sessions_hello(session: Session) -> Result<String, StatusCode> {
    let profile: Profile = session
        .get(PROFILE_KEY)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .ok_or(StatusCode::UNAUTHORIZED)?;
    Ok(format!("hello {}", profile.email))
}

// ---- axum-login --------------------------------------------------------------------------------

/// A user of the minimal backend.
#[derive(Clone, Debug)]
pub struct User {
    id: u64,
    profile: Profile,
    auth_hash: Vec<u8>,
}

impl AuthUser for User {
    type Id = u64;

    fn id(&self) -> u64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.auth_hash
    }
}

/// A backend that knows one user, in memory; credentials are the user id.
#[derive(Clone)]
pub struct Backend {
    users: Arc<HashMap<u64, User>>,
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = u64;
    type Error = Infallible;

    async fn authenticate(&self, id: u64) -> Result<Option<User>, Infallible> {
        Ok(self.users.get(&id).cloned())
    }

    async fn get_user(&self, id: &u64) -> Result<Option<User>, Infallible> {
        Ok(self.users.get(id).cloned())
    }
}

fn axum_login_app() -> Router {
    let user = User {
        id: 1,
        profile: profile(),
        // What a real backend would derive from the password hash: 32 bytes.
        auth_hash: vec![7; 32],
    };
    let backend = Backend {
        users: Arc::new(HashMap::from([(user.id, user)])),
    };
    let sessions = SessionManagerLayer::new(MemoryStore::default());
    prepared(
        Router::new()
            .route("/app", get(login_hello))
            .route("/login", post(login_login))
            .layer(AuthManagerLayerBuilder::new(backend, sessions).build()),
    )
}

async fn login_login(mut auth: AuthSession<Backend>) -> StatusCode {
    let user = auth
        .authenticate(1)
        .await
        .expect("infallible")
        .expect("user 1 exists");
    auth.login(&user).await.expect("the memory store stores");
    StatusCode::NO_CONTENT
}

async fn login_hello(auth: AuthSession<Backend>) -> Result<String, StatusCode> {
    auth.user
        .map(|user| format!("hello {}", user.profile.email))
        .ok_or(StatusCode::UNAUTHORIZED)
}
