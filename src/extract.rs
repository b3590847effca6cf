//! Axum extractors: take `Profile`, `Option<Profile>`, `Session` or the session's `Claims` as
//! handler arguments.

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};

use crate::authorization::Claims;
use crate::core::{Reading, session_read};
use crate::profile::Profile;
use crate::session::Session;

/// Why a [`Profile`] or [`Session`] could not be extracted. It is a response: 401 or 500 with
/// a small JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SsoRejection {
    /// The request has no valid session (a route the access policy leaves open): 401.
    Unauthenticated,
    /// `SsoLayer` did not run for this request: 500, naming the fix.
    LayerMissing,
    /// The path is one of the layer's public paths, where it reads no session: 500, naming the
    /// fix (`optional_paths`).
    SessionNotRead,
}

impl SsoRejection {
    /// The status the rejection answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            SsoRejection::Unauthenticated => StatusCode::UNAUTHORIZED,
            SsoRejection::LayerMissing | SsoRejection::SessionNotRead => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// What went wrong, and for a missing layer how to fix it.
    pub fn body_text(&self) -> &'static str {
        match self {
            SsoRejection::Unauthenticated => "sign-in required",
            SsoRejection::LayerMissing => {
                "no Profile in the request: is `SsoLayer` installed with `.layer()` (not `.route_layer()`) around this route?"
            }
            SsoRejection::SessionNotRead => {
                "this path is one of the layer's public_paths, where no session is read: list it in optional_paths to see who is signed in"
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SsoRejection::Unauthenticated => "unauthenticated",
            SsoRejection::LayerMissing => "sso_layer_missing",
            SsoRejection::SessionNotRead => "session_not_read",
        }
    }
}

impl fmt::Display for SsoRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.body_text())
    }
}

impl std::error::Error for SsoRejection {}

impl IntoResponse for SsoRejection {
    fn into_response(self) -> Response {
        // A rejection is an answer, not a fault of the server: logged low, under this target,
        // as axum logs its own rejections.
        tracing::debug!(
            target: "tower_workos_sso::rejection",
            status = self.status().as_u16(),
            rejection = self.code(),
            "extractor rejected the request"
        );
        let body = serde_json::json!({ "error": self.code(), "message": self.body_text() });
        let mut response = (self.status(), body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// What `read` takes from the profile the layer put in the extensions, or why there is none.
fn from_extensions<T>(
    parts: &Parts,
    read: impl FnOnce(&Profile) -> Option<T>,
) -> Result<Option<T>, SsoRejection> {
    if let Some(profile) = parts.extensions.get::<Profile>() {
        return Ok(read(profile));
    }
    match session_read(&parts.extensions) {
        Reading::Read => Ok(None),
        Reading::Unread => Err(SsoRejection::SessionNotRead),
        Reading::Outside => Err(SsoRejection::LayerMissing),
    }
}

/// How each extractor reads its value from the verified profile.
trait FromProfile: Sized {
    fn from_profile(profile: &Profile) -> Option<Self>;
}

impl FromProfile for Profile {
    fn from_profile(profile: &Profile) -> Option<Self> {
        Some(profile.clone())
    }
}

impl FromProfile for Session {
    fn from_profile(profile: &Profile) -> Option<Self> {
        profile.session().cloned()
    }
}

macro_rules! extractor {
    ($type:ty) => {
        impl<S: Send + Sync> FromRequestParts<S> for $type {
            type Rejection = SsoRejection;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
                from_extensions(parts, <$type>::from_profile)?.ok_or(SsoRejection::Unauthenticated)
            }
        }

        impl<S: Send + Sync> OptionalFromRequestParts<S> for $type {
            type Rejection = SsoRejection;

            async fn from_request_parts(
                parts: &mut Parts,
                _: &S,
            ) -> Result<Option<Self>, Self::Rejection> {
                from_extensions(parts, <$type>::from_profile)
            }
        }
    };
}

extractor!(Profile);
extractor!(Session);

/// The claims of the session the profile carries.
fn claims_of(profile: &Profile) -> Option<Claims> {
    profile.session().map(|session| session.claims.clone())
}

/// The session's [`Claims`] (what the authorization hook added), from the [`Session`]: empty
/// when the hook added none, a rejection when there is no session.
impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = SsoRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        from_extensions(parts, claims_of)?.ok_or(SsoRejection::Unauthenticated)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Claims {
    type Rejection = SsoRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        from_extensions(parts, claims_of)
    }
}
