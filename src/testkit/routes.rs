//! The fake's front door: every request is routed from here, to sign-in (authorize, token,
//! profile), the organizations list, or else the API-key endpoints of `api.rs`.

use http::{Method, Request};
use hyper::body::Incoming;

use super::authorize::{APPROVE_PATH, approve, authorize};
use super::fault::counted_with_fault;
use super::reply::Reply;
use super::request::Params;
use super::state::Shared;
use super::token::{profile, token};
use super::{Endpoint, api, directory};

/// The routes the fake answers; anything else is a 404.
#[derive(Clone, Copy)]
enum Route {
    Authorize,
    Approve,
    Token,
    Profile,
    Organizations,
}

impl Route {
    fn of(method: &Method, path: &str) -> Option<Route> {
        match (method, path) {
            (&Method::GET, "/sso/authorize") => Some(Route::Authorize),
            (&Method::GET, APPROVE_PATH) => Some(Route::Approve),
            (&Method::POST, "/sso/token") => Some(Route::Token),
            (&Method::GET, "/sso/profile") => Some(Route::Profile),
            (&Method::GET, "/organizations") => Some(Route::Organizations),
            _ => None,
        }
    }

    fn endpoint(self) -> Endpoint {
        match self {
            Route::Authorize | Route::Approve => Endpoint::Authorize,
            Route::Token => Endpoint::Token,
            Route::Profile => Endpoint::Profile,
            Route::Organizations => Endpoint::Organizations,
        }
    }
}

/// Answers one request: counts it, applies the endpoint's fault, then handles it normally.
pub(super) async fn handle(shared: &Shared, request: Request<Incoming>) -> Reply {
    // Method and path only: queries carry codes and states.
    tracing::debug!(method = %request.method(), path = request.uri().path(), "MockWorkOs request");
    let Some(route) = Route::of(request.method(), request.uri().path()) else {
        return api::handle(shared, request).await;
    };
    if let Route::Authorize = route {
        shared
            .api
            .record_authorize(request.uri().query().unwrap_or_default());
    }
    let profile_override = match counted_with_fault(shared, route.endpoint()).await {
        Ok(profile_override) => profile_override,
        Err(faulty) => return faulty,
    };
    let params = Params::parse(request.uri());
    match route {
        Route::Authorize => authorize(shared, &params),
        Route::Approve => approve(shared, &params),
        Route::Token => token(shared, request, profile_override).await,
        Route::Profile => profile(shared, request.headers()),
        Route::Organizations => {
            directory::list_organizations(&shared.seed, request.uri(), request.headers())
        }
    }
}
