//! Every response the crate writes itself: redirects, error pages, 401s and gRPC statuses.
//!
//! All of them are small, fully buffered and built from fixed text or escaped values: nothing a
//! client sent is reflected raw.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

use crate::pages::{ErrorPage, Page, PageAction};

/// The body of the crate's own responses: small and fully buffered, made into the app's body
/// type ([`SsoBody`](crate::body::SsoBody)) on the way out.
pub(crate) type OwnBody = Bytes;

/// Who is asking: it decides what an unauthenticated request gets back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A browser navigating to a page: send it to the login.
    Browser,
    /// A program calling an API: 401 with JSON.
    Api,
    /// A gRPC client: a trailers-only UNAUTHENTICATED status.
    Grpc,
}

impl Caller {
    pub(crate) fn of(method: &Method, headers: &HeaderMap) -> Caller {
        let header = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        if header(header::CONTENT_TYPE.as_str()).starts_with("application/grpc") {
            return Caller::Grpc;
        }
        let navigating = (method == Method::GET || method == Method::HEAD)
            && header(header::ACCEPT.as_str()).contains("text/html")
            && !headers.contains_key(header::AUTHORIZATION)
            && !headers.contains_key("x-requested-with")
            && matches!(header("sec-fetch-mode"), "" | "navigate");
        if navigating {
            Caller::Browser
        } else {
            Caller::Api
        }
    }
}

/// A redirect with no body.
pub(crate) fn redirect(status: StatusCode, location: &str) -> Response<OwnBody> {
    redirect_to(status, location.to_owned())
}

/// [`redirect`] to a location built for it, which the header then owns (no copy).
pub(crate) fn redirect_to(status: StatusCode, location: String) -> Response<OwnBody> {
    let mut response = Response::new(OwnBody::default());
    *response.status_mut() = status;
    // As a boxed slice (a shrink in place): `Bytes` takes it without a copy or a second box.
    match HeaderValue::from_maybe_shared(bytes::Bytes::from(
        location.into_bytes().into_boxed_slice(),
    )) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
        }
        // Locations are built from sanitised or encoded parts; refuse rather than guess.
        Err(_) => *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR,
    }
    response
}

/// A link offered on an error page.
pub(crate) struct Action<'a> {
    pub(crate) href: &'a str,
    pub(crate) label: &'a str,
    /// A button that submits a same-origin POST to `href` instead of a link: for steps a
    /// cross-site page must not be able to take on the user's behalf.
    pub(crate) post: bool,
}

/// A small, self-contained HTML page; every piece of text is escaped.
pub(crate) fn page(
    status: StatusCode,
    title: &str,
    message: &str,
    action: Option<Action<'_>>,
) -> Response<OwnBody> {
    let shown = action.as_ref().map_or_else(String::new, |a| {
        let (href, label) = (escape_html(a.href), escape_html(a.label));
        if a.post {
            format!(
                r#"<form method="post" action="{href}"><button class="button" type="submit">{label}</button></form>"#
            )
        } else {
            format!(r#"<p><a class="button" href="{href}">{label}</a></p>"#)
        }
    });
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1f2328;display:grid;place-items:center;min-height:90vh;margin:0}}
main{{background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:2rem 2.5rem;max-width:30rem;box-shadow:0 1px 3px rgba(0,0,0,.06)}}
h1{{font-size:1.3rem;margin-top:0}}.button{{display:inline-block;background:#5b5bd6;color:#fff;padding:.55rem 1.1rem;border:0;border-radius:8px;font:inherit;text-decoration:none;cursor:pointer}}
.code{{color:#57606a;font-size:.85rem}}</style></head>
<body><main><h1>{title}</h1><p>{message}</p>{shown}{code}</main></body></html>
"#,
        title = escape_html(title),
        message = escape_html(message),
        // The status helps a user reporting an error; a page asking to go on needs none.
        code = if status.is_success() {
            String::new()
        } else {
            format!(r#"<p class="code">HTTP {}</p>"#, status.as_u16())
        },
    );
    let mut response = html_response(status, html);
    // What the page shows, for an app that renders its own (`SsoConfigBuilder::pages`).
    response.extensions_mut().insert(Page::Error(ErrorPage {
        status,
        title: title.to_owned(),
        message: message.to_owned(),
        action: action.map(|a| PageAction {
            href: a.href.to_owned(),
            label: a.label.to_owned(),
            post: a.post,
        }),
    }));
    response
}

/// An HTML answer; pages may not be framed by another site.
pub(crate) fn html_response(status: StatusCode, html: String) -> Response<OwnBody> {
    let mut response = Response::new(OwnBody::from(html));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    response
}

/// A small JSON error: `{"error": code, "message": text}`.
pub(crate) fn json_error(status: StatusCode, code: &str, message: &str) -> Response<OwnBody> {
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    let mut response = Response::new(OwnBody::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A trailers-only gRPC answer: HTTP 200 with `grpc-status` (16 UNAUTHENTICATED, 7
/// PERMISSION_DENIED, ...) and a fixed message.
pub(crate) fn grpc_status(status: &'static str, message: &'static str) -> Response<OwnBody> {
    let mut response = Response::new(OwnBody::default());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert("grpc-status", HeaderValue::from_static(status));
    headers.insert("grpc-message", HeaderValue::from_static(message));
    response
}

/// The answer to a request that needs a session and has none that verifies.
pub(crate) fn unauthenticated(
    caller: Caller,
    login_location: &str,
    reason: Reason,
) -> Response<OwnBody> {
    if let Reason::UnknownTenant | Reason::AmbiguousTenant = reason {
        return tenant_refused(caller, reason);
    }
    match caller {
        Caller::Browser => {
            let mut response = redirect(StatusCode::SEE_OTHER, login_location);
            no_store(&mut response);
            response
        }
        Caller::Api => {
            let mut response = json_error(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                reason.message(),
            );
            let challenge = match reason {
                Reason::Missing => r#"Bearer realm="sso""#,
                _ => r#"Bearer realm="sso", error="invalid_token""#,
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
            response
        }
        // grpc-message is percent-encoded by spec; these fixed texts need no encoding.
        Caller::Grpc => grpc_status(
            "16",
            match reason {
                Reason::Missing => {
                    "sign-in required: send a session token as authorization: Bearer"
                }
                Reason::Invalid => "session token is invalid or expired",
                _ => "session token is for another organization",
            },
        ),
    }
}

/// The answer to a request that names a tenant no session may use: one that is not configured
/// (`404`, gRPC `NOT_FOUND`), or one spelled so that servers could read it as another (`400`,
/// gRPC `INVALID_ARGUMENT`). Never a login redirect: no sign-in would let the request in.
fn tenant_refused(caller: Caller, reason: Reason) -> Response<OwnBody> {
    let (status, code, title, message, grpc) = if reason == Reason::AmbiguousTenant {
        (
            StatusCode::BAD_REQUEST,
            "ambiguous_tenant_path",
            "Bad address",
            "This address can be read as more than one organization's.",
            "3",
        )
    } else {
        (
            StatusCode::NOT_FOUND,
            "no_tenant",
            "Not found",
            "There is no such organization here.",
            "5",
        )
    };
    match caller {
        Caller::Browser => page(status, title, message, None),
        Caller::Api => json_error(status, code, reason.message()),
        Caller::Grpc => grpc_status(grpc, reason.message()),
    }
}

/// The answer to a signed-in caller who may not do this: 403, never a login redirect (which
/// would loop, as the caller is signed in already).
pub(crate) fn forbidden(caller: Caller) -> Response<OwnBody> {
    const MESSAGE: &str = "You are signed in, but your account may not open this page.";
    let mut response = match caller {
        Caller::Browser => page(StatusCode::FORBIDDEN, "Access denied", MESSAGE, None),
        Caller::Api => json_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the signed-in account may not do this",
        ),
        Caller::Grpc => grpc_status("7", "the signed-in account may not do this"),
    };
    no_store(&mut response);
    response
}

/// The answer to an API or gRPC caller whose sign-in is older than a step-up guard allows:
/// 401 with `reauthentication_required` and an RFC 9470 `WWW-Authenticate` challenge
/// (`insufficient_user_authentication`, `max_age`), or gRPC UNAUTHENTICATED with the reason.
pub(crate) fn reauthentication_required(caller: Caller, max_age: u64) -> Response<OwnBody> {
    let mut response = match caller {
        Caller::Grpc => grpc_status(
            "16",
            "reauthentication required: sign in again, then retry with the new session token",
        ),
        Caller::Api | Caller::Browser => {
            let body = serde_json::json!({
                "error": "reauthentication_required",
                "message": "sign in again: this needs a more recent sign-in",
                "max_age": max_age,
            });
            let mut response = Response::new(OwnBody::from(body.to_string()));
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            let challenge = format!(
                r#"Bearer realm="sso", error="insufficient_user_authentication", error_description="a more recent sign-in is required", max_age={max_age}"#
            );
            if let Ok(challenge) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, challenge);
            }
            response
        }
    };
    no_store(&mut response);
    response
}

/// Why a request is unauthenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    Missing,
    Invalid,
    /// A valid session of another organization than the request's tenant.
    OtherTenant,
    /// The request names a tenant that is not configured: no session is its.
    UnknownTenant,
    /// The request names a tenant in a spelling servers could read as another tenant's.
    AmbiguousTenant,
}

impl Reason {
    fn message(self) -> &'static str {
        match self {
            Reason::Missing => "sign-in required",
            Reason::Invalid => "the session is invalid or has expired",
            Reason::OtherTenant => "the session is for another organization",
            Reason::UnknownTenant => "no such tenant",
            Reason::AmbiguousTenant => "the path can be read as more than one tenant's",
        }
    }
}

/// 405 naming the one method the route takes.
pub(crate) fn method_not_allowed(allow: &'static str) -> Response<OwnBody> {
    let mut response = json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// Responses that set or clear a session or a flow must never be stored by a cache.
pub(crate) fn no_store(response: &mut Response<impl Sized>) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    crate::pages::escape(text)
}

/// Request headers from `(name, value)` pairs, for unit tests.
#[cfg(test)]
pub(crate) fn test_headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                http::HeaderName::from_static(k),
                HeaderValue::from_static(v),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_headers as headers;

    #[test]
    fn callers_are_told_apart() {
        let html = headers(&[("accept", "text/html,application/xhtml+xml")]);
        assert_eq!(Caller::of(&Method::GET, &html), Caller::Browser);
        assert_eq!(Caller::of(&Method::POST, &html), Caller::Api);
        let json = headers(&[("accept", "application/json")]);
        assert_eq!(Caller::of(&Method::GET, &json), Caller::Api);
        let xhr = headers(&[
            ("accept", "text/html"),
            ("x-requested-with", "XMLHttpRequest"),
        ]);
        assert_eq!(Caller::of(&Method::GET, &xhr), Caller::Api);
        let fetch = headers(&[("accept", "text/html"), ("sec-fetch-mode", "cors")]);
        assert_eq!(Caller::of(&Method::GET, &fetch), Caller::Api);
        let grpc = headers(&[("content-type", "application/grpc+proto")]);
        assert_eq!(Caller::of(&Method::POST, &grpc), Caller::Grpc);
    }

    #[test]
    fn pages_escape_everything() {
        let response = page(
            StatusCode::BAD_REQUEST,
            "<t>",
            "<script>alert(1)</script>",
            Some(Action {
                href: "/x?a=\"b\"",
                label: "go",
                post: false,
            }),
        );
        let body = format!("{:?}", response.body());
        assert!(!body.contains("<script>"));
        assert!(body.contains("&lt;script&gt;"));
    }
}
