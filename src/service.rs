//! `SsoService`: routes the SSO paths to the crate, and every other request through the
//! session check and the access policy to the inner service.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use tower::Service;

use crate::body::ResponseBody;
use crate::core::{Core, LayerInstalled};
use crate::future::{Deferred, ResponseFuture};
use crate::profile::Profile;
use crate::response::{self, Reason};
use crate::routes::{self, login::sign_in_required};
use crate::session::{Presented, Session, SessionSource, Sessions};

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
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        match self.core.route(request.uri().path()) {
            Some(route) => ResponseFuture::answer(routes::answer(&self.core, route, &request)),
            None => self.authenticate(request),
        }
    }
}

impl<S> SsoService<S> {
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
        let now = core.now();
        let (presented, source) = match core.sessions.presented(request.headers()) {
            Presented::None => (Err(Reason::Missing), SessionSource::Cookie),
            Presented::Ambiguous => (Err(Reason::Invalid), SessionSource::Cookie),
            Presented::Cookie(token) => (Ok(token), SessionSource::Cookie),
            Presented::Bearer(token) => (Ok(token), SessionSource::Bearer),
        };
        let verified = presented.and_then(|token| {
            core.sessions.verify(token, now).map_err(|error| {
                tracing::debug!(?error, "session token refused");
                Reason::Invalid
            })
        });

        // Identity only ever comes from a session verified here, never from what came before.
        let extensions = request.extensions_mut();
        extensions.remove::<Profile>();
        extensions.remove::<Session>();
        extensions.insert(LayerInstalled);

        let verified = match verified {
            Ok(verified) => verified,
            Err(reason) => {
                if core.policy.is_protected(request.uri().path()) {
                    return ResponseFuture::ready(sign_in_required(core, &request, reason));
                }
                return ResponseFuture::inner(self.inner.call(request), None);
            }
        };

        let set_cookie = match source {
            SessionSource::Cookie => core
                .sessions
                .renew(&verified, now)
                .map(|(token, exp)| core.sessions.cookie(&token, exp, now)),
            SessionSource::Bearer => None,
        };
        let session = Sessions::metadata(&verified.claims, source);
        let session_id = core
            .config
            .session_store
            .is_some()
            .then(|| session.id.clone());
        let extensions = request.extensions_mut();
        extensions.insert(verified.claims.profile);
        extensions.insert(session);

        let (Some(store), Some(session_id)) = (core.config.session_store.clone(), session_id)
        else {
            return ResponseFuture::inner(self.inner.call(request), set_cookie);
        };
        // The instance that was polled ready is the one that gets called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let core = core.clone();
        ResponseFuture::deferred(async move {
            match store.is_revoked(&session_id).await {
                Ok(false) => Deferred::Call {
                    future: inner.call(request),
                    set_cookie,
                },
                Ok(true) if !core.policy.is_protected(request.uri().path()) => {
                    request.extensions_mut().remove::<Profile>();
                    request.extensions_mut().remove::<Session>();
                    Deferred::Call {
                        future: inner.call(request),
                        set_cookie: Some(core.sessions.clear_cookie()),
                    }
                }
                Ok(true) => Deferred::Respond(sign_in_required(&core, &request, Reason::Invalid)),
                Err(error) => {
                    tracing::error!(%error, "session store unavailable; refusing the request");
                    Deferred::Respond(response::json_error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "session_store_unavailable",
                        "sessions cannot be checked right now",
                    ))
                }
            }
        })
    }
}
