//! The callback's pages: fixed, escaped text for every way a sign-in can fail, each with a
//! link to start again, and never cached or sent on as a `Referer`.

use http::{HeaderValue, Response, StatusCode, header};

use crate::admission::Refusal;
use crate::client::WorkOsError;
use crate::core::Core;
use crate::flow::FlowClaims;
use crate::response::{self, Action, OwnBody};

/// The page for an `?error=` callback: a fixed message per known code, nothing from the query.
pub(super) fn idp_error(core: &Core, error: &str, flow: Option<&FlowClaims>) -> Response<OwnBody> {
    crate::telemetry::callback_error(error);
    crate::telemetry::login_refused("idp_error");
    tracing::info!(
        error = error_code_for_log(error),
        hint = crate::client::idp_error_hint(error).unwrap_or("-"),
        "identity provider returned an error"
    );
    let (status, message) = match error {
        "access_denied" => (
            StatusCode::FORBIDDEN,
            "Sign-in was cancelled or access was denied.",
        ),
        "connection_invalid" | "connection_unlinked" | "connection_strategy_invalid" => (
            StatusCode::BAD_REQUEST,
            "Single sign-on is not set up correctly for this organization. Contact your administrator.",
        ),
        "organization_invalid"
        | "invalid_connection_selector"
        | "ambiguous_connection_selector" => (
            StatusCode::BAD_REQUEST,
            "No single sign-on connection was found for this organization.",
        ),
        "server_error" | "oauth_failed" => (
            StatusCode::BAD_GATEWAY,
            "The identity provider could not complete the sign-in. Please try again.",
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            "The identity provider could not sign you in.",
        ),
    };
    finish_page(
        status,
        "Sign-in failed",
        message,
        Some(&retry_link(core, flow)),
    )
}

pub(super) fn exchange_failed(
    core: &Core,
    error: &WorkOsError,
    flow: &FlowClaims,
) -> Response<OwnBody> {
    crate::client::log_failure("code exchange", error);
    crate::telemetry::callback_error(error.code());
    crate::telemetry::login_refused("exchange_failed");
    let retry = retry_link(core, Some(flow));
    let (status, message) = match error {
        WorkOsError::InvalidGrant => return expired(core, Some(flow)),
        WorkOsError::Rejected { .. } | WorkOsError::NotFound | WorkOsError::InvalidInput(_) => (
            StatusCode::BAD_GATEWAY,
            "The sign-in service refused this application's credentials.",
        ),
        WorkOsError::RateLimited { retry_after } => {
            let mut response = finish_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is busy",
                "Too many sign-ins right now. Please try again in a moment.",
                Some(&retry),
            );
            let seconds = retry_after.unwrap_or(5).clamp(1, MAX_RETRY_AFTER);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
        WorkOsError::ServerError { .. }
        | WorkOsError::BadResponse(_)
        | WorkOsError::TooManyPages => (
            StatusCode::BAD_GATEWAY,
            "The sign-in service had a problem. Please try again.",
        ),
        WorkOsError::Unreachable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The sign-in service cannot be reached right now. Please try again.",
        ),
        WorkOsError::Timeout => (
            StatusCode::GATEWAY_TIMEOUT,
            "The sign-in service did not answer in time. Please try again.",
        ),
    };
    finish_page(status, "Sign-in failed", message, Some(&retry))
}

/// The longest `Retry-After` passed on to browsers, whatever WorkOS asked for.
const MAX_RETRY_AFTER: u64 = 60;

pub(super) fn expired(core: &Core, flow: Option<&FlowClaims>) -> Response<OwnBody> {
    finish_page(
        StatusCode::BAD_REQUEST,
        "Login expired",
        "This sign-in took too long or was already used. Please sign in again.",
        Some(&retry_link(core, flow)),
    )
}

pub(super) fn failed(core: &Core, message: &str, flow: Option<&FlowClaims>) -> Response<OwnBody> {
    finish_page(
        StatusCode::BAD_REQUEST,
        "Sign-in failed",
        message,
        Some(&retry_link(core, flow)),
    )
}

pub(super) fn finish_page(
    status: StatusCode,
    title: &str,
    message: &str,
    retry: Option<&str>,
) -> Response<OwnBody> {
    let action = retry.map(|href| Action {
        href,
        label: "Sign in again",
        post: false,
    });
    let mut response = response::page(status, title, message, action);
    private(&mut response);
    response
}

/// Too many code exchanges under way: answered at once, the flow kept for a retry.
pub(super) fn busy() -> Response<OwnBody> {
    crate::telemetry::login_refused("busy");
    tracing::warn!(
        target: "tower_workos_sso::audit",
        reason = "exchanges_capped",
        "too many sign-ins at once; callback refused"
    );
    let mut response = finish_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in is busy",
        "Too many sign-ins right now. Please reload this page in a moment.",
        None,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The login link that starts the same kind of login again, back to the same place.
pub(super) fn retry_link(core: &Core, flow: Option<&FlowClaims>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(flow) = flow {
        if let Some(selector) = flow.selector() {
            let (name, value) = selector.param();
            query.append_pair(name, value);
        }
        query.append_pair("return_to", flow.return_to());
    }
    let query = query.finish();
    if query.is_empty() {
        core.config.login_path.clone()
    } else {
        format!("{}?{query}", core.config.login_path)
    }
}

/// The callback URL holds a code: keep it out of caches and `Referer` headers.
pub(crate) fn private(response: &mut Response<OwnBody>) {
    response::no_store(response);
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

fn error_code_for_log(error: &str) -> &str {
    let well_formed =
        error.len() <= 64 && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if well_formed { error } else { "<malformed>" }
}

/// The page for a refused profile, with a fresh login of the same kind: 403 (one generic
/// page for not the flow's or not admitted, so it reveals nothing of the rules; a denial's
/// `reason`, escaped), 500 (the hook failed) or 502 (too large).
pub(super) fn refused(
    core: &Core,
    refusal: Refusal,
    reason: Option<&str>,
    flow: &FlowClaims,
) -> Response<OwnBody> {
    crate::telemetry::login_refused(refusal.code());
    let (status, title, message) = match refusal {
        Refusal::NotAdmitted | Refusal::FlowMismatch => (
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            "This account cannot sign in to this application.",
        ),
        Refusal::Denied => (
            StatusCode::FORBIDDEN,
            "Access denied",
            reason
                .filter(|reason| !reason.is_empty())
                .unwrap_or("You may not sign in to this application."),
        ),
        Refusal::HookFailed => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "This application could not complete the sign-in. Please try again later.",
        ),
        Refusal::TooLarge => (
            StatusCode::BAD_GATEWAY,
            "Sign-in failed",
            "Your profile is too large to keep in a session.",
        ),
    };
    finish_page(status, title, message, Some(&retry_link(core, Some(flow))))
}
