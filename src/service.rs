//! `SsoService`: routes the SSO paths to the crate, and every other request through the
//! session check and the access policy to the inner service.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use tower::Service;

use crate::body::SsoBody;
use crate::cookie::Unchecked;
use crate::core::{Core, InsideLayer, Reading};
use crate::future::{Deferred, Outgoing, ResponseFuture};
use crate::profile::Profile;
use crate::response::{self, OwnBody, Reason};
use crate::routes::{self, login::sign_in_required};
use crate::session::{Presented, SessionSource};
use crate::store::StoreError;
use crate::telemetry::{self, SessionRefusal};

/// The service [`SsoLayer`](crate::SsoLayer) wraps around an inner service.
#[derive(Clone)]
pub struct SsoService<S> {
    inner: S,
    core: Arc<Core>,
}

impl<S> SsoService<S> {
    pub(crate) fn new(inner: S, core: Arc<Core>) -> Self {
        Self { inner, core }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for SsoService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SsoService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: SsoBody,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The inner service may look at the request in `call`, under the marker each branch
        // sets (see `InsideLayer`).
        let path = request.uri().path();
        if let Some(route) = self.core.route(path) {
            let _inside = InsideLayer::enter(Reading::Read);
            return ResponseFuture::answer(routes::answer(&self.core, route, request));
        }
        if self.core.policy.is_public(path) {
            if let Some(refused) = self.refuse_unread(&mut request) {
                return ResponseFuture::ready(refused);
            }
            // No identity passes unread: a profile that came with the request goes.
            request.extensions_mut().remove::<Profile>();
            let _inside = InsideLayer::enter(Reading::Unread);
            return ResponseFuture::inner(self.inner.call(request), Outgoing::unread());
        }
        let _inside = InsideLayer::enter(Reading::Read);
        self.authenticate(request)
    }
}

impl<S> SsoService<S> {
    /// A public path: the inner service gets the request without reading its session (nor any
    /// profile that came with it), but the tenant rules still hold: the answer to a request
    /// whose tenant is ambiguous, if it is one.
    #[inline]
    fn refuse_unread<ReqBody>(&self, request: &mut Request<ReqBody>) -> Option<Response<OwnBody>> {
        let tenants = self.core.tenants.as_ref()?;
        let unread = Err::<Infallible, _>(Reason::Missing);
        let scoped = tenants.scope(request, unread, |never| match *never {});
        let Err(Reason::AmbiguousTenant) = scoped else {
            return None;
        };
        Some(sign_in_required(
            &self.core,
            request,
            Reason::AmbiguousTenant,
        ))
    }

    /// Verifies the session, applies the access policy, and calls the inner service with the
    /// profile in the extensions.
    fn authenticate<ReqBody, ResBody>(
        &mut self,
        mut request: Request<ReqBody>,
    ) -> ResponseFuture<S::Future>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        ReqBody: Send + 'static,
    {
        let core = &self.core;
        // The clock is read only when there is a session to check.
        let verified = match core.sessions.presented_unchecked(request.headers()) {
            Presented::None => Err(Reason::Missing),
            Presented::Ambiguous => {
                telemetry::session_refused(SessionRefusal::Invalid);
                Err(Reason::Invalid)
            }
            Presented::Cookie(token) => verify(core, token, SessionSource::Cookie),
            Presented::Bearer(token) => verify(core, token.into(), SessionSource::Bearer),
        };
        // Tenants (src/tenant/): nothing runs, nothing allocates, without a resolver.
        let verified = match &core.tenants {
            Some(tenants) => {
                tenants.scope(&mut request, verified, |(verified, _)| &verified.profile)
            }
            None => verified,
        };

        // Identity only ever comes from a session verified here, never from what came before: a
        // profile that came with the request is removed here, or replaced by the verified one
        // before the app is called. (A `Session` comes only with a verified `Profile`: no code
        // outside the crate can make one, so only the profile needs removing.)
        let (
            Verified {
                profile,
                set_cookie,
            },
            source,
        ) = match verified {
            Ok(verified) => verified,
            Err(reason) => {
                request.extensions_mut().remove::<Profile>();
                // A tenant spelled ambiguously is refused even on an optional path.
                if reason == Reason::AmbiguousTenant
                    || core.policy.is_protected(request.uri().path())
                {
                    return ResponseFuture::ready(sign_in_required(core, &request, reason));
                }
                return ResponseFuture::inner(self.inner.call(request), Outgoing::anonymous());
            }
        };

        // Every verified session is checked against the revocations before the app sees it:
        // at once when the store can answer from memory, else in a future of its own.
        if let Some(revoked) = core.revocations.check_now(&profile) {
            request.extensions_mut().insert(profile);
            // The usual answer, called here rather than through `admit`'s `Deferred`, which
            // would move the inner future twice more.
            if let Ok(false) = revoked {
                telemetry::session_verified(source == SessionSource::Bearer);
                let outgoing = Outgoing::personal(set_cookie);
                return ResponseFuture::inner(self.inner.call(request), outgoing);
            }
            return match admit(core, &mut self.inner, request, source, set_cookie, revoked) {
                Deferred::Call { future, outgoing } => ResponseFuture::inner(future, outgoing),
                Deferred::Respond(response) => ResponseFuture::ready(response),
            };
        }
        // The instance that was polled ready is the one that gets called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let core = core.clone();
        ResponseFuture::deferred(async move {
            let revoked = core.revocations.check(&profile).await;
            request.extensions_mut().insert(profile);
            admit(&core, &mut inner, request, source, set_cookie, revoked)
        })
    }
}

/// What a verified session brings to its request.
struct Verified {
    /// The one extension: the profile, carrying its session (built once per cached token).
    profile: Profile,
    /// The renewed session cookie, when the sliding window or a key rotation calls for one.
    set_cookie: Option<http::HeaderValue>,
}

/// The session `token` presented as `source`, verified (or found in the cache of verified
/// tokens), or why there is none.
fn verify(
    core: &Core,
    token: Unchecked<'_>,
    source: SessionSource,
) -> Result<(Verified, SessionSource), Reason> {
    let now = core.now();
    let verified = core.sessions.authenticate(token, source, now, |cached| {
        let set_cookie = match source {
            SessionSource::Cookie => core
                .sessions
                .renew(&cached.claims, cached.current_key, now)
                .map(|(token, exp)| core.sessions.cookie(&token, exp, now)),
            SessionSource::Bearer => None,
        };
        Verified {
            profile: cached.profile(source).clone(),
            set_cookie,
        }
    });
    match verified {
        Ok(Some(verified)) => Ok((verified, source)),
        // A cookie that is not UTF-8 is none, as the cookie reading skips it.
        Ok(None) => Err(Reason::Missing),
        Err(error) => {
            telemetry::session_refused(SessionRefusal::Invalid);
            tracing::debug!(?error, "session token refused");
            Err(Reason::Invalid)
        }
    }
}

/// What the revocation check's answer means for a request whose verified session is in its
/// extensions: call the app with it, call the app without it (an optional path), or answer.
fn admit<S, ReqBody, ResBody>(
    core: &Core,
    inner: &mut S,
    mut request: Request<ReqBody>,
    source: SessionSource,
    set_cookie: Option<http::HeaderValue>,
    revoked: Result<bool, StoreError>,
) -> Deferred<S::Future>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    match &revoked {
        Ok(false) => telemetry::session_verified(source == SessionSource::Bearer),
        Ok(true) => telemetry::session_refused(SessionRefusal::Revoked),
        Err(_) => telemetry::session_refused(SessionRefusal::StoreUnavailable),
    }
    match revoked {
        Ok(false) => Deferred::Call {
            future: inner.call(request),
            outgoing: Outgoing::personal(set_cookie),
        },
        // A store outage never blocks an optional path: served as to an anonymous caller, the
        // cookie left as it is (the session may well be valid).
        Err(error) if !core.policy.is_protected(request.uri().path()) => {
            tracing::warn!(%error, "session store unavailable; optional path served anonymously");
            request.extensions_mut().remove::<Profile>();
            Deferred::Call {
                future: inner.call(request),
                outgoing: Outgoing::anonymous(),
            }
        }
        Ok(true) if !core.policy.is_protected(request.uri().path()) => {
            request.extensions_mut().remove::<Profile>();
            // A revoked cookie is cleared; a bearer client's cookies are not ours to touch.
            let set_cookie =
                (source == SessionSource::Cookie).then(|| core.sessions.clear_cookie());
            Deferred::Call {
                future: inner.call(request),
                outgoing: Outgoing {
                    set_cookie,
                    ..Outgoing::anonymous()
                },
            }
        }
        Ok(true) => Deferred::Respond(sign_in_required(core, &request, Reason::Invalid)),
        Err(error) => {
            tracing::error!(%error, "session store unavailable; refusing the request");
            Deferred::Respond(response::json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "session_store_unavailable",
                "sessions cannot be checked right now",
            ))
        }
    }
}

#[cfg(test)]
mod tests;
