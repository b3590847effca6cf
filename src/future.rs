//! `ResponseFuture`: the inner service's future, or one of the crate's own answers.
//!
//! The pass-through path is the inner future itself, unboxed; the only work added on the way
//! out is appending a renewed session cookie when there is one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{HeaderValue, Response, header};
use pin_project_lite::pin_project;

use crate::body::ResponseBody;
use crate::response::{self, OwnBody};
use crate::routes::Answer;
use crate::store::BoxFuture;

pin_project! {
    /// The future of [`SsoService`](crate::SsoService).
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        /// Calling the inner service; `set_cookie` is a renewed session to send back.
        Inner { #[pin] future: F, set_cookie: Option<HeaderValue> },
        /// An answer known at once.
        Ready { response: Option<Response<OwnBody>> },
        /// An SSO route that talks to WorkOS or a store.
        Sso { future: BoxFuture<'static, Response<OwnBody>> },
        /// A session check against the store, then the inner call.
        Deferred { future: BoxFuture<'static, Deferred<F>> },
    }
}

/// What a deferred check decided.
pub(crate) enum Deferred<F> {
    Call {
        future: F,
        set_cookie: Option<HeaderValue>,
    },
    Respond(Response<OwnBody>),
}

impl<F> ResponseFuture<F> {
    pub(crate) fn inner(future: F, set_cookie: Option<HeaderValue>) -> Self {
        Self {
            kind: Kind::Inner { future, set_cookie },
        }
    }

    pub(crate) fn ready(response: Response<OwnBody>) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(response),
            },
        }
    }

    /// An SSO route's answer.
    pub(crate) fn answer(answer: Answer) -> Self {
        match answer {
            Answer::Now(response) => Self::ready(response),
            Answer::Later(future) => Self {
                kind: Kind::Sso { future },
            },
        }
    }

    pub(crate) fn deferred(future: impl Future<Output = Deferred<F>> + Send + 'static) -> Self {
        Self {
            kind: Kind::Deferred {
                future: Box::pin(future),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        loop {
            let own = match kind.as_mut().project() {
                KindProj::Inner { future, set_cookie } => {
                    let mut response = ready!(future.poll(cx))?;
                    if let Some(cookie) = set_cookie.take() {
                        response.headers_mut().append(header::SET_COOKIE, cookie);
                        response::no_store(&mut response);
                    }
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
                KindProj::Ready { response } => response
                    .take()
                    .expect("ResponseFuture polled after completion"),
                KindProj::Sso { future } => ready!(future.as_mut().poll(cx)),
                KindProj::Deferred { future } => match ready!(future.as_mut().poll(cx)) {
                    Deferred::Call { future, set_cookie } => {
                        kind.set(Kind::Inner { future, set_cookie });
                        continue;
                    }
                    Deferred::Respond(response) => response,
                },
            };
            return Poll::Ready(Ok(own.map(ResponseBody::own)));
        }
    }
}
