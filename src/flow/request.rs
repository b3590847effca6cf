//! The request that started a login, as the app's per-login hook
//! (`authorization_params_with`) sees it.

use http::request::Parts;
use http::{HeaderMap, Method, Request, Uri};

use crate::config::SsoConfig;

/// The method and target of the request that started a login (its headers travel apart).
#[derive(Clone, Debug)]
pub(crate) struct RequestLine {
    method: Method,
    uri: Uri,
}

impl RequestLine {
    pub(crate) fn of<B>(request: &Request<B>) -> Self {
        Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
        }
    }
}

/// What the app's per-login hook sees: the request line that started the login, or `GET` of
/// the login path for a login the layer starts by itself, with the request's headers.
pub(super) fn parts(config: &SsoConfig, line: Option<&RequestLine>, headers: &HeaderMap) -> Parts {
    let (mut parts, ()) = Request::new(()).into_parts();
    match line {
        Some(line) => {
            parts.method = line.method.clone();
            parts.uri = line.uri.clone();
        }
        None => parts.uri = config.login_path.parse().unwrap_or_default(),
    }
    parts.headers = headers.clone();
    parts
}
