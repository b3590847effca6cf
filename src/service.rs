//! `SsoService`: routes the SSO paths to the crate, and every other request through the
//! session check and the access policy to the inner service.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Method, Request, Response, StatusCode};
use tower::Service;

use crate::body::ResponseBody;
use crate::callback::{self, Callback};
use crate::flow::LoginRequest;
use crate::future::{Deferred, ResponseFuture};
use crate::layer::Shared;
use crate::logout::{self, Logout};
use crate::profile::Profile;
use crate::response::{self, Caller, OwnBody, Reason};
use crate::session::{Presented, Session, SessionSource, Sessions};

/// Marks requests that went through [`SsoService`], so extractors can tell "not signed in"
/// from "the layer is not installed".
#[derive(Clone, Copy, Debug)]
pub(crate) struct LayerInstalled;

/// The service [`SsoLayer`](crate::SsoLayer) wraps around an inner service.
#[derive(Clone)]
pub struct SsoService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> SsoService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
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
        let shared = &self.shared;
        let path = request.uri().path();
        if path == shared.config.login_path {
            ResponseFuture::ready(login(shared, &request))
        } else if path == shared.config.callback_path {
            if request.method() != Method::GET {
                let mut refused = response::method_not_allowed("GET");
                callback::private(&mut refused);
                return ResponseFuture::ready(refused);
            }
            match callback::begin(shared, request.uri().query(), request.headers()) {
                Callback::Respond(response) => ResponseFuture::ready(response),
                Callback::Exchange(exchange) => {
                    ResponseFuture::sso(callback::finish(shared.clone(), exchange))
                }
            }
        } else if path == shared.config.logout_path {
            match logout::begin(shared, request.method(), request.headers()) {
                Logout::Respond(response) => ResponseFuture::ready(response),
                Logout::Revoke {
                    session_id,
                    until,
                    response,
                } => {
                    let shared = shared.clone();
                    ResponseFuture::sso(async move {
                        if let Some(store) = &shared.config.store
                            && let Err(error) = store.revoke(&session_id, until).await
                        {
                            tracing::error!(%error, "could not revoke the session at logout");
                        }
                        response
                    })
                }
            }
        } else {
            self.authenticate(request)
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
        let shared = &self.shared;
        let now = shared.now();
        let (presented, source) = match shared.sessions.presented(request.headers()) {
            Presented::None => (Err(Reason::Missing), SessionSource::Cookie),
            Presented::Ambiguous => (Err(Reason::Invalid), SessionSource::Cookie),
            Presented::Cookie(token) => (Ok(token), SessionSource::Cookie),
            Presented::Bearer(token) => (Ok(token), SessionSource::Bearer),
        };
        let verified = presented.and_then(|token| {
            shared.sessions.verify(token, now).map_err(|error| {
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
                if shared.is_protected(request.uri().path()) {
                    return ResponseFuture::ready(unauthenticated(shared, &request, reason));
                }
                return ResponseFuture::inner(self.inner.call(request), None);
            }
        };

        let set_cookie = match source {
            SessionSource::Cookie => shared
                .sessions
                .renew(&verified, now)
                .map(|(token, exp)| shared.sessions.cookie(&token, exp, now)),
            SessionSource::Bearer => None,
        };
        let session = Sessions::metadata(&verified.claims, source);
        let session_id = shared.config.store.is_some().then(|| session.id.clone());
        let extensions = request.extensions_mut();
        extensions.insert(verified.claims.profile);
        extensions.insert(session);

        let (Some(store), Some(session_id)) = (shared.config.store.clone(), session_id) else {
            return ResponseFuture::inner(self.inner.call(request), set_cookie);
        };
        // The instance that was polled ready is the one that gets called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = shared.clone();
        ResponseFuture::deferred(async move {
            match store.is_revoked(&session_id).await {
                Ok(false) => Deferred::Call {
                    future: inner.call(request),
                    set_cookie,
                },
                Ok(true) if !shared.is_protected(request.uri().path()) => {
                    request.extensions_mut().remove::<Profile>();
                    request.extensions_mut().remove::<Session>();
                    Deferred::Call {
                        future: inner.call(request),
                        set_cookie: Some(shared.sessions.clear_cookie()),
                    }
                }
                Ok(true) => Deferred::Respond(unauthenticated(&shared, &request, Reason::Invalid)),
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

/// `GET /auth/login`: validate the request and send the browser to WorkOS.
fn login<B>(shared: &Shared, request: &Request<B>) -> Response<OwnBody> {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return response::method_not_allowed("GET");
    }
    let login = match LoginRequest::parse(request.uri().query()) {
        Ok(login) => login,
        Err(message) => return bad_login(message),
    };
    let Some(selector) = login
        .selector
        .clone()
        .or_else(|| shared.config.default_selector.clone())
    else {
        return bad_login(
            "Say where to sign in: add organization=org_..., connection=conn_... or provider=GoogleOAuth to the link.",
        );
    };
    shared.flows.start(
        &shared.config,
        login,
        selector,
        request.headers(),
        shared.now(),
    )
}

fn bad_login(message: &str) -> Response<OwnBody> {
    response::page(
        StatusCode::BAD_REQUEST,
        "Cannot start sign-in",
        message,
        None,
    )
}

/// The answer that fits the caller: login redirect, 401, or gRPC UNAUTHENTICATED.
fn unauthenticated<B>(shared: &Shared, request: &Request<B>, reason: Reason) -> Response<OwnBody> {
    let caller = Caller::of(request.method(), request.headers());
    let mut login = shared.config.login_path.clone();
    if caller == Caller::Browser {
        let here = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        login.push('?');
        login.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", here)
                .finish(),
        );
    }
    response::unauthenticated(caller, &login, reason)
}
