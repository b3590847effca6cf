//! `ResponseFuture`: the inner service's future, or one of the crate's own answers.
//!
//! The pass-through path is the inner future itself, unboxed. On the way out, a response to a
//! verified session is marked private to caches (unless the app set caching headers itself)
//! and a renewed session cookie is appended when there is one; an anonymous response is left
//! untouched.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::header::{self, Entry};
use http::{HeaderMap, HeaderValue, Response};
use pin_project_lite::pin_project;

use crate::body::SsoBody;
use crate::core::{InsideLayer, Reading};
use crate::response::OwnBody;
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
        /// Calling the inner service; `outgoing` says what its response gains.
        Inner { #[pin] future: F, outgoing: Outgoing },
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
    Call { future: F, outgoing: Outgoing },
    Respond(Response<OwnBody>),
}

/// What the inner service's response gains on the way out.
#[derive(Debug, Default)]
pub(crate) struct Outgoing {
    /// A `Set-Cookie` to append: a renewed session, or one that clears a revoked one.
    pub(crate) set_cookie: Option<HeaderValue>,
    /// The response was made for a verified session, so it must not be shared by caches.
    pub(crate) personal: bool,
    /// A public path: no session was read, so the app's extractors must not answer "none".
    pub(crate) unread: bool,
}

impl Outgoing {
    /// For a request with no verified session: nothing is added.
    pub(crate) fn anonymous() -> Self {
        Self::default()
    }

    /// For a request with a verified session, and its renewed cookie if there is one.
    pub(crate) fn personal(set_cookie: Option<HeaderValue>) -> Self {
        Self {
            set_cookie,
            personal: true,
            unread: false,
        }
    }

    /// For a request to a public path, whose session was not read: nothing is added.
    pub(crate) fn unread() -> Self {
        Self {
            unread: true,
            ..Self::default()
        }
    }

    /// An anonymous response is left as it is without a call.
    #[inline]
    fn apply(&mut self, headers: &mut HeaderMap) {
        if self.personal || self.set_cookie.is_some() {
            self.add_to(headers);
        }
    }

    fn add_to(&mut self, headers: &mut HeaderMap) {
        if self.personal {
            // A page made for one user must never be served to another by a shared cache: the
            // app's own caching headers win, but the cache key always includes the cookie.
            // One look-up each, not a check and an insert.
            if let Entry::Vacant(vacant) = headers.entry(header::CACHE_CONTROL) {
                vacant.insert(HeaderValue::from_static("private"));
            }
            match headers.entry(header::VARY) {
                Entry::Vacant(vacant) => {
                    vacant.insert(HeaderValue::from_static("Cookie"));
                }
                Entry::Occupied(mut vary) => {
                    let varies = vary.iter().any(|value| {
                        value.to_str().is_ok_and(|v| {
                            v.split(',').any(|name| {
                                matches!(name.trim(), "*")
                                    || name.trim().eq_ignore_ascii_case("cookie")
                            })
                        })
                    });
                    if !varies {
                        vary.append(HeaderValue::from_static("Cookie"));
                    }
                }
            }
        }
        if let Some(cookie) = self.set_cookie.take() {
            headers.append(header::SET_COOKIE, cookie);
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn inner(future: F, outgoing: Outgoing) -> Self {
        Self {
            kind: Kind::Inner { future, outgoing },
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

    /// Whether this is the plain pass-through: the inner future itself, nothing boxed.
    #[cfg(test)]
    pub(crate) fn is_pass_through(&self) -> bool {
        matches!(self.kind, Kind::Inner { .. })
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
    B: SsoBody,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The app's extractors run while its future is polled (see `InsideLayer`).
        let reading = match &self.kind {
            Kind::Inner { outgoing, .. } if outgoing.unread => Reading::Unread,
            _ => Reading::Read,
        };
        let _inside = InsideLayer::enter(reading);
        let mut kind = self.project().kind;
        loop {
            let own = match kind.as_mut().project() {
                KindProj::Inner { future, outgoing } => {
                    let mut response = ready!(future.poll(cx))?;
                    outgoing.apply(response.headers_mut());
                    return Poll::Ready(Ok(response));
                }
                KindProj::Ready { response } => response
                    .take()
                    .expect("ResponseFuture polled after completion"),
                KindProj::Sso { future } => ready!(future.as_mut().poll(cx)),
                KindProj::Deferred { future } => match ready!(future.as_mut().poll(cx)) {
                    Deferred::Call { future, outgoing } => {
                        kind.set(Kind::Inner { future, outgoing });
                        continue;
                    }
                    Deferred::Respond(response) => response,
                },
            };
            return Poll::Ready(Ok(own.map(B::from_bytes)));
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

    async fn text(response: Response<String>) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_pass_through_answer_is_the_inner_one_untouched() {
        let response = ResponseFuture::inner(inner("app"), Outgoing::anonymous())
            .await
            .unwrap();
        assert!(response.headers().is_empty());
        assert_eq!(text(response).await, "app");
    }

    #[tokio::test]
    async fn a_renewed_session_is_appended_once_and_never_cached() {
        let cookie = HeaderValue::from_static("s=v; Path=/");
        let response = ResponseFuture::inner(inner("app"), Outgoing::personal(Some(cookie)))
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
    async fn personal_answers_are_private_to_caches_unless_the_app_chose() {
        let response = ResponseFuture::inner(inner("mine"), Outgoing::personal(None))
            .await
            .unwrap();
        assert_eq!(response.headers()[header::CACHE_CONTROL], "private");
        assert_eq!(response.headers()[header::VARY], "Cookie");

        let chosen = std::future::ready(Ok::<_, Infallible>(
            Response::builder()
                .header(header::CACHE_CONTROL, "no-cache")
                .header(header::VARY, "Accept-Encoding, cookie")
                .body(String::new())
                .unwrap(),
        ));
        let response = ResponseFuture::inner(chosen, Outgoing::personal(None))
            .await
            .unwrap();
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(response.headers().get_all(header::VARY).iter().count(), 1);

        let other_vary = std::future::ready(Ok::<_, Infallible>(
            Response::builder()
                .header(header::VARY, "Accept-Encoding")
                .body(String::new())
                .unwrap(),
        ));
        let response = ResponseFuture::inner(other_vary, Outgoing::personal(None))
            .await
            .unwrap();
        let vary: Vec<_> = response.headers().get_all(header::VARY).iter().collect();
        assert_eq!(vary, ["Accept-Encoding", "Cookie"]);
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
                outgoing: Outgoing::anonymous(),
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
