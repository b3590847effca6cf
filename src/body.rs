//! `SsoBody`: the response body types the layer can answer in.
//!
//! [`SsoService`](crate::SsoService) answers in the inner service's own body type, as tower-http's
//! layers do, rather than in a wrapper of its own: a response it passes through is the app's
//! response untouched, so a stack that boxes bodies of other types (axum's `Route`, tonic's
//! `Routes`) does not box it once more on every request. The layer's own answers (redirects,
//! pages, JSON and gRPC errors) are small and fully buffered; this trait builds one in the
//! app's type.

use bytes::Bytes;
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{BodyExt, Full};

/// A response body type [`SsoService`](crate::SsoService) and the route guards can answer in:
/// the inner service's.
///
/// Implemented for axum's `Body` (feature `axum`), tonic's `Body` (feature `tonic`),
/// `http_body_util::Full<Bytes>`, `BoxBody<Bytes, E>`, `UnsyncBoxBody<Bytes, E>` and `String`.
/// An inner service with another body type (one a tower-http layer inside `SsoLayer` wraps, for
/// example) has it boxed first:
/// `.map_response(|response: Response<_>| response.map(BodyExt::boxed_unsync))` between the two
/// layers of a `ServiceBuilder`. A body type of the app's own can implement this trait.
pub trait SsoBody: Sized {
    /// A body of these bytes, which are always UTF-8 text (HTML, JSON) or empty.
    fn from_bytes(bytes: Bytes) -> Self;
}

impl SsoBody for Full<Bytes> {
    fn from_bytes(bytes: Bytes) -> Self {
        Full::new(bytes)
    }
}

impl SsoBody for String {
    fn from_bytes(bytes: Bytes) -> Self {
        // The crate only ever writes UTF-8; a lossy read keeps this total.
        String::from_utf8(bytes.into())
            .unwrap_or_else(|not_utf8| String::from_utf8_lossy(not_utf8.as_bytes()).into_owned())
    }
}

impl<E: 'static> SsoBody for BoxBody<Bytes, E> {
    fn from_bytes(bytes: Bytes) -> Self {
        Full::new(bytes).map_err(|never| match never {}).boxed()
    }
}

impl<E: 'static> SsoBody for UnsyncBoxBody<Bytes, E> {
    fn from_bytes(bytes: Bytes) -> Self {
        Full::new(bytes)
            .map_err(|never| match never {})
            .boxed_unsync()
    }
}

#[cfg(feature = "axum")]
impl SsoBody for axum_core::body::Body {
    fn from_bytes(bytes: Bytes) -> Self {
        axum_core::body::Body::from(bytes)
    }
}

#[cfg(feature = "tonic")]
impl SsoBody for tonic::body::Body {
    fn from_bytes(bytes: Bytes) -> Self {
        tonic::body::Body::new(Full::new(bytes))
    }
}

#[cfg(test)]
mod tests {
    use http_body::Body;

    use super::*;

    async fn text<B>(body: B) -> String
    where
        B: Body<Data = Bytes>,
        B::Error: std::fmt::Debug,
    {
        let bytes = body.collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn every_body_type_holds_the_bytes_it_was_built_from() {
        let page = Bytes::from_static(b"<p>caf\xc3\xa9</p>");
        assert_eq!(text(Full::from_bytes(page.clone())).await, "<p>café</p>");
        assert_eq!(String::from_bytes(page.clone()), "<p>café</p>");
        let boxed = BoxBody::<Bytes, std::io::Error>::from_bytes(page.clone());
        assert_eq!(text(boxed).await, "<p>café</p>");
        let unsync = UnsyncBoxBody::<Bytes, std::io::Error>::from_bytes(page.clone());
        assert_eq!(text(unsync).await, "<p>café</p>");
        #[cfg(feature = "axum")]
        assert_eq!(
            text(axum_core::body::Body::from_bytes(page.clone())).await,
            "<p>café</p>"
        );
        #[cfg(feature = "tonic")]
        assert_eq!(
            text(tonic::body::Body::from_bytes(page)).await,
            "<p>café</p>"
        );
    }

    #[test]
    fn an_empty_answer_is_an_empty_body() {
        let empty = Full::from_bytes(Bytes::new());
        assert!(empty.is_end_stream());
        assert_eq!(empty.size_hint().exact(), Some(0));
        assert_eq!(String::from_bytes(Bytes::new()), "");
    }

    #[test]
    fn text_that_is_not_utf8_is_read_lossily_not_refused() {
        assert_eq!(
            String::from_bytes(Bytes::from_static(b"a\xffb")),
            "a\u{fffd}b"
        );
    }
}
