//! The fake's endpoints beyond sign-in: IdP logout, the Connections API and Admin Portal links.
//! Routing, the `Authorization: Bearer <API key>` check and faults, as for the other endpoints.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use aws_lc_rs::constant_time;
use http::header::AUTHORIZATION;
use http::{HeaderMap, Method, Request, StatusCode};
use hyper::body::Incoming;
use serde_json::json;

use super::routes::{Reply, counted_with_fault, json_reply};
use super::state::{Shared, lock};
use super::{Endpoint, connections, logout, portal};

/// How many logout tokens or portal links the fake keeps at most.
pub(super) const CAPACITY: usize = 10_000;

/// How many authorize or portal link requests the fake remembers (the oldest go first).
const RECORDED: usize = 1_000;

/// What the API-key endpoints remember: deleted connections, logout tokens, who logged out;
/// and, for tests, every authorize request's query as it arrived.
#[derive(Default)]
pub(super) struct ApiState {
    pub(super) deleted: Mutex<HashSet<String>>,
    /// Logout token → profile id.
    pub(super) logout_tokens: Mutex<HashMap<String, String>>,
    pub(super) logged_out: Mutex<Vec<String>>,
    pub(super) logout_redirect: Mutex<Option<String>>,
    pub(super) authorize_requests: Mutex<VecDeque<AuthorizeRequest>>,
    pub(super) portal_requests: Mutex<VecDeque<PortalRequest>>,
}

/// One well-formed `POST /portal/generate_link` as the fake received it
/// ([`MockWorkOs::portal_requests`]): which organization's Admin Portal was asked for.
///
/// [`MockWorkOs::portal_requests`]: super::MockWorkOs::portal_requests
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PortalRequest {
    /// The `organization` id asked for.
    pub organization: String,
    /// The `intent`, such as `sso`.
    pub intent: String,
    /// The `return_url`, if one was sent.
    pub return_url: Option<String>,
}

impl ApiState {
    /// Keeps the query of a `GET /sso/authorize`, at most [`RECORDED`] of them.
    pub(super) fn record_authorize(&self, query: &str) {
        let mut recorded = lock(&self.authorize_requests);
        if recorded.len() >= RECORDED {
            recorded.pop_front();
        }
        recorded.push_back(AuthorizeRequest::of(query));
    }

    /// Keeps a portal link request, at most [`RECORDED`] of them.
    pub(super) fn record_portal(&self, request: PortalRequest) {
        let mut recorded = lock(&self.portal_requests);
        if recorded.len() >= RECORDED {
            recorded.pop_front();
        }
        recorded.push_back(request);
    }
}

/// One `GET /sso/authorize` as the fake received it ([`MockWorkOs::authorize_requests`]): the
/// raw query and its pairs, percent-decoded and in order, repeats kept. Tests read from it
/// exactly how each authorization parameter reached WorkOS.
///
/// [`MockWorkOs::authorize_requests`]: super::MockWorkOs::authorize_requests
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizeRequest {
    query: String,
    pairs: Vec<(String, String)>,
}

impl AuthorizeRequest {
    fn of(query: &str) -> Self {
        Self {
            query: query.to_owned(),
            pairs: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// The query string as sent (after the `?`), still percent-encoded.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Every `(name, value)` pair, decoded, in the order sent.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `name`, decoded.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, decoded, in order (a parameter sent twice shows twice).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The routes of this file.
#[derive(Clone, Copy)]
enum Route {
    LogoutAuthorize,
    Logout,
    ListConnections,
    GetConnection,
    DeleteConnection,
    Portal,
}

impl Route {
    fn of(method: &Method, path: &str) -> Option<Route> {
        let connection = path
            .strip_prefix("/connections/")
            .filter(|id| !id.is_empty() && !id.contains('/'));
        match (method, path) {
            (&Method::POST, "/sso/logout/authorize") => Some(Route::LogoutAuthorize),
            (&Method::GET, "/sso/logout") => Some(Route::Logout),
            (&Method::GET, "/connections") => Some(Route::ListConnections),
            (&Method::GET, _) if connection.is_some() => Some(Route::GetConnection),
            (&Method::DELETE, _) if connection.is_some() => Some(Route::DeleteConnection),
            (&Method::POST, "/portal/generate_link") => Some(Route::Portal),
            _ => None,
        }
    }

    fn endpoint(self) -> Endpoint {
        match self {
            Route::LogoutAuthorize => Endpoint::LogoutAuthorize,
            Route::Logout => Endpoint::Logout,
            Route::ListConnections | Route::GetConnection | Route::DeleteConnection => {
                Endpoint::Connections
            }
            Route::Portal => Endpoint::Portal,
        }
    }
}

/// Answers one request of these routes, or a 404.
pub(super) async fn handle(shared: &Shared, request: Request<Incoming>) -> Reply {
    let Some(route) = Route::of(request.method(), request.uri().path()) else {
        return json_reply(StatusCode::NOT_FOUND, &json!({ "message": "Not Found" }));
    };
    if let Err(faulty) = counted_with_fault(shared, route.endpoint()).await {
        return faulty;
    }
    // The Logout Redirect is a browser's GET: no API key.
    if !matches!(route, Route::Logout) && !api_key_ok(shared, request.headers()) {
        return json_reply(
            StatusCode::UNAUTHORIZED,
            &json!({ "message": "Unauthorized" }),
        );
    }
    let id = request
        .uri()
        .path()
        .strip_prefix("/connections/")
        .unwrap_or_default()
        .to_owned();
    match route {
        Route::LogoutAuthorize => logout::authorize(shared, request).await,
        Route::Logout => logout::redirect(shared, request.uri()),
        Route::ListConnections => connections::list(shared, request.uri()),
        Route::GetConnection => connections::get(shared, &id),
        Route::DeleteConnection => connections::delete(shared, &id),
        Route::Portal => portal::generate_link(shared, request).await,
    }
}

/// `Authorization: Bearer <the seed's API key>`, compared in constant time.
fn api_key_ok(shared: &Shared, headers: &HeaderMap) -> bool {
    let key = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    constant_time::verify_slices_are_equal(key.as_bytes(), shared.seed.api_key.as_bytes()).is_ok()
}

/// The `Host` the request came to, for absolute links back to the fake.
pub(super) fn base_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            host.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b))
        })
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}
