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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::{HeaderValue, Response, StatusCode, header};
    use http_body_util::BodyExt;

    use super::*;

    type Inner = std::future::Ready<Result<Response<String>, Infallible>>;

    fn inner(text: &str) -> Inner {
        std::future::ready(Ok(Response::new(text.to_owned())))
    }

    async fn text<B>(response: Response<ResponseBody<B>>) -> String
    where
        B: http_body::Body<Data = bytes::Bytes> + Send,
        B::Error: Into<crate::body::BoxError>,
    {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_pass_through_answer_is_the_inner_one_untouched() {
        let response = ResponseFuture::inner(inner("app"), None).await.unwrap();
        assert!(response.headers().is_empty());
        assert_eq!(text(response).await, "app");
    }

    #[tokio::test]
    async fn a_renewed_session_is_appended_once_and_never_cached() {
        let cookie = HeaderValue::from_static("s=v; Path=/");
        let response = ResponseFuture::inner(inner("app"), Some(cookie))
            .await
            .unwrap();
        assert_eq!(
            response
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .count(),
            1
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    }

    #[tokio::test]
    async fn own_answers_and_deferred_checks_resolve_to_the_right_body() {
        let own = crate::response::json_error(StatusCode::FORBIDDEN, "no", "no");
        let response = ResponseFuture::<Inner>::ready(own).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(text(response).await.contains("\"no\""));

        let call = ResponseFuture::deferred(async {
            Deferred::Call {
                future: inner("after the check"),
                set_cookie: None,
            }
        });
        assert_eq!(text(call.await.unwrap()).await, "after the check");

        let refuse = ResponseFuture::<Inner>::deferred(async {
            Deferred::Respond(crate::response::method_not_allowed("GET"))
        });
        assert_eq!(
            refuse.await.unwrap().status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}
