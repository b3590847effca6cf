//! Metrics, through the `metrics` facade: the app installs a recorder (Prometheus, StatsD,
//! ...), or none, and then each count is a load of the unset recorder and nothing more.
//!
//! Every name and label value is a `&'static str`, so nothing here allocates on the request
//! path: the session counters, which run on every request with a session, use keys fixed at
//! compile time. Label values come from small fixed sets (an unknown WorkOS code is `other`),
//! so no label grows without bound. The names and labels are documented in the README
//! ("Metrics").

use std::time::Duration;

/// `workos_sso_logins_started_total`: a login sent to WorkOS.
pub(crate) fn login_started() {
    metrics::counter!("workos_sso_logins_started_total").increment(1);
}

/// `workos_sso_logins_completed_total`: a session issued at the callback.
pub(crate) fn login_completed() {
    metrics::counter!("workos_sso_logins_completed_total").increment(1);
}

/// `workos_sso_logins_refused_total{reason}`: a callback that issued no session.
pub(crate) fn login_refused(reason: &'static str) {
    metrics::counter!("workos_sso_logins_refused_total", "reason" => reason).increment(1);
}

/// `workos_sso_callback_errors_total{code}`: WorkOS's error at the callback (`?error=`, or the
/// code exchange's), one of a fixed set of codes or `other`.
pub(crate) fn callback_error(code: &str) {
    let code = known_code(code);
    metrics::counter!("workos_sso_callback_errors_total", "code" => code).increment(1);
}

/// The WorkOS error codes counted by name; any other is `other`.
fn known_code(code: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "access_denied",
        "ambiguous_connection_selector",
        "bad_response",
        "connection_invalid",
        "connection_strategy_invalid",
        "connection_unlinked",
        "invalid_client",
        "invalid_connection_selector",
        "invalid_grant",
        "invalid_input",
        "not_found",
        "oauth_failed",
        "organization_invalid",
        "rate_limited",
        "rejected",
        "server_error",
        "timeout",
        "unauthorized_client",
        "unreachable",
    ];
    KNOWN
        .iter()
        .find(|known| **known == code)
        .copied()
        .unwrap_or("other")
}

/// `workos_sso_workos_requests_total{call, outcome}` and
/// `workos_sso_workos_request_duration_seconds{call, outcome}`: one call to the WorkOS API.
pub(crate) fn workos_call(call: &'static str, outcome: &'static str, took: Duration) {
    let labels = [("call", call), ("outcome", outcome)];
    metrics::counter!("workos_sso_workos_requests_total", &labels).increment(1);
    metrics::histogram!("workos_sso_workos_request_duration_seconds", &labels)
        .record(took.as_secs_f64());
}

/// How a presented session was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SessionRefusal {
    /// The token does not verify, or two were presented.
    Invalid,
    /// The store holds a revocation for it.
    Revoked,
    /// The store could not say.
    StoreUnavailable,
}

/// `workos_sso_sessions_verified_total{source}`: a session let in (`cookie` or `bearer`).
pub(crate) fn session_verified(bearer: bool) {
    if bearer {
        metrics::counter!("workos_sso_sessions_verified_total", "source" => "bearer").increment(1);
    } else {
        metrics::counter!("workos_sso_sessions_verified_total", "source" => "cookie").increment(1);
    }
}

/// `workos_sso_sessions_refused_total{reason}`: a presented session not let in.
pub(crate) fn session_refused(reason: SessionRefusal) {
    const NAME: &str = "workos_sso_sessions_refused_total";
    match reason {
        SessionRefusal::Invalid => metrics::counter!(NAME, "reason" => "invalid").increment(1),
        SessionRefusal::Revoked => metrics::counter!(NAME, "reason" => "revoked").increment(1),
        SessionRefusal::StoreUnavailable => {
            metrics::counter!(NAME, "reason" => "store_unavailable").increment(1);
        }
    }
}

/// `workos_sso_revocations_total{scope, by}`: a revocation asked for (`scope`: session, user,
/// organization, connection; `by`: logout, call, webhook).
pub(crate) fn revoked(scope: &'static str, by: &'static str) {
    let labels = [("scope", scope), ("by", by)];
    metrics::counter!("workos_sso_revocations_total", &labels).increment(1);
}

/// `workos_sso_store_errors_total{op}`: a store call that failed (`op`: `revoke` at logout,
/// `login_state` at a callback, `webhook`, or the Redis store's own `connect` and `redis`).
pub(crate) fn store_error(op: &'static str) {
    metrics::counter!("workos_sso_store_errors_total", "op" => op).increment(1);
}

/// `workos_sso_store_connected`: 1 while the Redis store is connected with its view loaded.
#[cfg(feature = "redis")]
pub(crate) fn store_connected(up: bool) {
    metrics::gauge!("workos_sso_store_connected").set(if up { 1.0 } else { 0.0 });
}

/// `workos_sso_webhook_deliveries_total{outcome}`: a webhook delivery (`revoked`, `ignored`,
/// `replayed`, or the refusal's code).
pub(crate) fn webhook(outcome: &'static str) {
    metrics::counter!("workos_sso_webhook_deliveries_total", "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workos_codes_are_counted_by_name_from_a_fixed_set() {
        assert_eq!(known_code("access_denied"), "access_denied");
        assert_eq!(known_code("invalid_grant"), "invalid_grant");
        assert_eq!(known_code("attacker <script> text"), "other");
        assert_eq!(known_code(""), "other");
    }
}
