//! Operator hints: for each WorkOS error the crate meets, what to check, after WorkOS's own
//! error-recovery guidance. They go to the log only; users see a generic page.

use super::WorkOsError;

const INVALID_CLIENT: &str = "check that WORKOS_CLIENT_ID and WORKOS_API_KEY come from the same \
    WorkOS environment (sk_test_ keys belong to staging, sk_live_ keys to production)";
const INVALID_GRANT: &str = "the code was used twice (a reloaded or double-submitted callback) \
    or is older than 10 minutes; the user only needs to sign in again";
const REDIRECT_URI: &str = "WORKOS_REDIRECT_URI must match a redirect URI registered in the \
    WorkOS dashboard exactly, scheme, host, port, path and trailing slash included";
const NO_CONNECTION: &str = "WorkOS found no active SSO connection for that organization or \
    domain: check the organization has a connection in this environment and its domain is \
    verified";
const API_KEY: &str = "the API key was refused: check WORKOS_API_KEY is current and from the \
    environment (staging or production) that holds these objects";
const UNAUTHORIZED_CLIENT: &str = "this client may not use this call: check the client id and \
    that the environment has SSO enabled";
const RATE_LIMITED: &str = "WorkOS allows 6,000 requests per minute per API key: look for a \
    loop or a burst of retries";
const UNREACHABLE: &str = "check WORKOS_API_BASE_URL and that this host can reach it (DNS, \
    egress rules, proxy)";
const NOT_FOUND: &str = "no such object in this WorkOS environment: check the id and that the \
    API key belongs to the environment that holds it";
const LOGOUT: &str = "WorkOS ends the session at the identity provider only for OIDC \
    connections (connection_invalid otherwise); the local session was ended";

/// What to check for `error`, if there is something to say.
pub(super) fn hint(error: &WorkOsError) -> Option<&'static str> {
    match error {
        WorkOsError::InvalidGrant => Some(INVALID_GRANT),
        WorkOsError::Rejected { status, error } => match error.as_str() {
            "invalid_client" => Some(INVALID_CLIENT),
            "unauthorized_client" => Some(UNAUTHORIZED_CLIENT),
            e if e.contains("redirect_uri") => Some(REDIRECT_URI),
            "connection_invalid" => Some(LOGOUT),
            _ if matches!(status, 401 | 403) => Some(API_KEY),
            _ => None,
        },
        WorkOsError::NotFound => Some(NOT_FOUND),
        WorkOsError::RateLimited { .. } => Some(RATE_LIMITED),
        WorkOsError::Unreachable | WorkOsError::Timeout => Some(UNREACHABLE),
        _ => None,
    }
}

/// What to check for an `?error=` code WorkOS sent to the callback.
pub(crate) fn idp_error_hint(code: &str) -> Option<&'static str> {
    match code {
        "organization_invalid"
        | "invalid_connection_selector"
        | "connection_invalid"
        | "connection_unlinked"
        | "ambiguous_connection_selector" => Some(NO_CONNECTION),
        "invalid_client" | "client_invalid" => Some(INVALID_CLIENT),
        c if c.contains("redirect_uri") => Some(REDIRECT_URI),
        _ => None,
    }
}

/// One WARN line for a failed call: the operation, the error (codes only) and the hint.
pub(crate) fn log_failure(operation: &'static str, error: &WorkOsError) {
    tracing::warn!(
        operation,
        %error,
        hint = hint(error).unwrap_or("-"),
        "WorkOS call failed"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_the_crate_meets_has_its_hint() {
        let rejected = |status, error: &str| WorkOsError::Rejected {
            status,
            error: error.to_owned(),
        };
        assert!(
            hint(&rejected(400, "invalid_client"))
                .unwrap()
                .contains("sk_test_")
        );
        assert!(
            hint(&WorkOsError::InvalidGrant)
                .unwrap()
                .contains("10 minutes")
        );
        assert!(
            hint(&rejected(400, "invalid_redirect_uri"))
                .unwrap()
                .contains("trailing slash")
        );
        assert!(hint(&rejected(401, "")).unwrap().contains("WORKOS_API_KEY"));
        assert!(
            idp_error_hint("organization_invalid")
                .unwrap()
                .contains("domain")
        );
        assert!(
            idp_error_hint("redirect_uri_mismatch")
                .unwrap()
                .contains("trailing slash")
        );
        assert_eq!(idp_error_hint("access_denied"), None);
    }
}
