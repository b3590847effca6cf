//! Reading a webhook's body, bounded in size and time, from the request body types the crate
//! knows, without a `ReqBody: http_body::Body` bound on `SsoService`.
//!
//! The layer's request body type is generic, and bounding it by `http_body::Body` would
//! refuse services over `Request<()>` and the like that never send the layer a body. Only the
//! webhook route reads one, so it looks at the body's concrete type at run time: Axum's
//! (feature `axum`), Hyper's `Incoming`, `http_body_util::Full<Bytes>`, `String`, `Bytes` and
//! `Vec<u8>`. Any other type is answered with a 500 and a log line that says so.

use std::any::Any;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};

use crate::store::BoxFuture;

/// Why a body could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// Larger than the bound: 413.
    TooLarge,
    /// The client stopped sending, or sent too slowly: 400.
    Incomplete,
    /// The app's body type is none the route can read: 500.
    Unsupported,
}

/// How long a client may take to send the whole body.
const READ_WITHIN: Duration = Duration::from_secs(10);

/// Reads `body`, at most `max` bytes, within a deadline.
pub(crate) fn read_body<B: Send + 'static>(
    body: B,
    max: usize,
) -> BoxFuture<'static, Result<Bytes, ReadError>> {
    let body: Box<dyn Any + Send> = Box::new(body);
    let ready = |bytes: Bytes| -> BoxFuture<'static, Result<Bytes, ReadError>> {
        let result = if bytes.len() > max {
            Err(ReadError::TooLarge)
        } else {
            Ok(bytes)
        };
        Box::pin(std::future::ready(result))
    };
    let body = match body.downcast::<String>() {
        Ok(text) => return ready(Bytes::from(*text)),
        Err(other) => other,
    };
    let body = match body.downcast::<Bytes>() {
        Ok(bytes) => return ready(*bytes),
        Err(other) => other,
    };
    let body = match body.downcast::<Vec<u8>>() {
        Ok(bytes) => return ready(Bytes::from(*bytes)),
        Err(other) => other,
    };
    let body = match body.downcast::<Full<Bytes>>() {
        Ok(full) => return collect(*full, max),
        Err(other) => other,
    };
    let body = match body.downcast::<hyper::body::Incoming>() {
        Ok(incoming) => return collect(*incoming, max),
        Err(other) => other,
    };
    #[cfg(feature = "axum")]
    let body = match body.downcast::<axum_core::body::Body>() {
        Ok(axum) => return collect(*axum, max),
        Err(other) => other,
    };
    drop(body);
    Box::pin(std::future::ready(Err(ReadError::Unsupported)))
}

/// Collects a streaming body, at most `max` bytes, within [`READ_WITHIN`].
fn collect<B>(body: B, max: usize) -> BoxFuture<'static, Result<Bytes, ReadError>>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Box::pin(async move {
        let limited = Limited::new(body, max);
        match tokio::time::timeout(READ_WITHIN, limited.collect()).await {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
                Err(ReadError::TooLarge)
            }
            Ok(Err(_)) | Err(_) => Err(ReadError::Incomplete),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn known_bodies_are_read_within_the_bound_and_others_are_named() {
        assert_eq!(read_body("abc".to_owned(), 3).await, Ok(Bytes::from("abc")));
        assert_eq!(
            read_body("abcd".to_owned(), 3).await,
            Err(ReadError::TooLarge)
        );
        assert_eq!(read_body(b"ab".to_vec(), 3).await, Ok(Bytes::from("ab")));
        assert_eq!(read_body(Bytes::from("ab"), 3).await, Ok(Bytes::from("ab")));
        let full = Full::new(Bytes::from("abcd"));
        assert_eq!(read_body(full, 3).await, Err(ReadError::TooLarge));
        let full = Full::new(Bytes::from("abc"));
        assert_eq!(read_body(full, 3).await, Ok(Bytes::from("abc")));
        assert_eq!(read_body((), 3).await, Err(ReadError::Unsupported));
    }
}
