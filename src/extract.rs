//! Axum extractors: take `Profile`, `Option<Profile>` or `Session` as handler arguments.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};

use crate::profile::Profile;
use crate::service::LayerInstalled;
use crate::session::Session;

/// Why a [`Profile`] or [`Session`] could not be extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SsoRejection {
    /// The request has no valid session (a route the access policy leaves open): 401.
    Unauthenticated,
    /// `SsoLayer` did not run for this request: 500, naming the fix.
    LayerMissing,
}

impl IntoResponse for SsoRejection {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            SsoRejection::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                r#"{"error":"unauthenticated","message":"sign-in required"}"#,
            ),
            SsoRejection::LayerMissing => (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"error":"sso_layer_missing","message":"no Profile in the request: is `SsoLayer` installed with `.layer()` (not `.route_layer()`) around this route?"}"#,
            ),
        };
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self == SsoRejection::LayerMissing {
            tracing::error!(
                "extractor used without SsoLayer: add it with `.layer(SsoLayer::new(config))`"
            );
        }
        response
    }
}

/// The value of type `T` the layer put in the extensions, or why there is none.
fn from_extensions<T: Clone + Send + Sync + 'static>(
    parts: &Parts,
) -> Result<Option<T>, SsoRejection> {
    if parts.extensions.get::<LayerInstalled>().is_none() {
        return Err(SsoRejection::LayerMissing);
    }
    Ok(parts.extensions.get::<T>().cloned())
}

macro_rules! extractor {
    ($type:ty) => {
        impl<S: Send + Sync> FromRequestParts<S> for $type {
            type Rejection = SsoRejection;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
                from_extensions(parts)?.ok_or(SsoRejection::Unauthenticated)
            }
        }

        impl<S: Send + Sync> OptionalFromRequestParts<S> for $type {
            type Rejection = SsoRejection;

            async fn from_request_parts(
                parts: &mut Parts,
                _: &S,
            ) -> Result<Option<Self>, Self::Rejection> {
                from_extensions(parts)
            }
        }
    };
}

extractor!(Profile);
extractor!(Session);
