//! The fake's answers: the response every handler builds, as JSON, an OAuth error or HTML.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};

pub(super) type Reply = Response<Full<Bytes>>;

pub(super) fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Reply {
    let mut reply = Response::new(Full::new(body.into()));
    *reply.status_mut() = status;
    let headers = reply.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}

pub(super) fn json_reply(status: StatusCode, body: &Value) -> Reply {
    reply(status, "application/json", body.to_string())
}

pub(super) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Reply {
    json_reply(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

pub(super) fn html_reply(status: StatusCode, html: String) -> Reply {
    let mut reply = reply(status, "text/html; charset=utf-8", html);
    let headers = reply.headers_mut();
    headers.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        http::header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    reply
}

pub(super) fn internal_error() -> Reply {
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "MockWorkOs failed internally.",
    )
}
