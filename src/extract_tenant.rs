//! The axum extractor of the request's [`Tenant`]: `Tenant` where every request has one,
//! `Option<Tenant>` where some may not.

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};

use crate::core::{Reading, session_read};
use crate::tenant::{NoTenant, Tenant};

/// Why a [`Tenant`] could not be extracted: a response, 404 (the request belongs to no
/// tenant) or 500 (the layer did not run, or has no tenant resolver), with a small JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantRejection {
    /// The tenant resolver found no tenant for this request: 404.
    NoTenant,
    /// `SsoLayer` did not run for this request: 500.
    LayerMissing,
    /// `SsoLayer` ran without a tenant resolver, so no request ever has a tenant: 500, a
    /// setup mistake rather than a tenant that does not exist.
    ResolverMissing,
}

impl TenantRejection {
    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            TenantRejection::NoTenant => (StatusCode::NOT_FOUND, "no_tenant", "no such tenant"),
            TenantRejection::LayerMissing => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "sso_layer_missing",
                "no Tenant in the request: is `SsoLayer` installed with `.layer()` and a `tenant_resolver` configured?",
            ),
            TenantRejection::ResolverMissing => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "tenant_resolver_missing",
                "no Tenant in the request: configure `SsoConfigBuilder::tenant_resolver` to tell each request's tenant",
            ),
        }
    }
}

impl fmt::Display for TenantRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.parts().2)
    }
}

impl std::error::Error for TenantRejection {}

impl IntoResponse for TenantRejection {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let body = serde_json::json!({ "error": code, "message": message });
        let mut response = (status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = TenantRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let tenant = <Tenant as OptionalFromRequestParts<S>>::from_request_parts(parts, state);
        match tenant.await? {
            Some(tenant) => Ok(tenant),
            // The resolver ran and found none; without a resolver it never runs.
            None if parts.extensions.get::<NoTenant>().is_some() => Err(TenantRejection::NoTenant),
            None => Err(TenantRejection::ResolverMissing),
        }
    }
}

/// `Option<Tenant>` is `None` both where the resolver finds no tenant and where none is
/// configured: a handler that takes it serves apps with and without tenants.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Tenant {
    type Rejection = TenantRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        if session_read(&parts.extensions) == Reading::Outside {
            return Err(TenantRejection::LayerMissing);
        }
        Ok(parts.extensions.get::<Tenant>().cloned())
    }
}
