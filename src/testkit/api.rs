//! The routes behind the API key: IdP logout, the Connections API and Admin Portal links.
//! The `Authorization: Bearer <API key>` check, and faults as for the other endpoints.

use aws_lc_rs::constant_time;
use http::header::AUTHORIZATION;
use http::{HeaderMap, Method, Request, StatusCode};
use hyper::body::Incoming;
use serde_json::json;

use super::fault::counted_with_fault;
use super::reply::{Reply, json_reply};
use super::state::Shared;
use super::{Endpoint, connections, logout, portal};

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
