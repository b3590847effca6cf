//! Reading requests: query parameters, bounded bodies, and the host to link back to.

use std::collections::HashMap;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, Uri};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use hyper::body::Incoming;

/// The largest request body the fake reads.
const MAX_BODY: usize = 64 * 1024;

/// Query parameters; the first occurrence of a name wins.
pub(super) struct Params(HashMap<String, String>);

impl Params {
    pub(super) fn parse(uri: &Uri) -> Params {
        let mut params = HashMap::new();
        let query = uri.query().unwrap_or_default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            params
                .entry(name.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        Params(params)
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// The body, at most [`MAX_BODY`] bytes, or the status and description to refuse it with.
pub(super) async fn read_body(body: Incoming) -> Result<Bytes, (StatusCode, &'static str)> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is too large.",
        )),
        Err(_) => Err((
            StatusCode::BAD_REQUEST,
            "The request body could not be read.",
        )),
    }
}

/// The `Host` the request came to, for absolute links back to the fake.
pub(super) fn base_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            host.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b))
        })
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}
