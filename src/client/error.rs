//! `WorkOsError`: every way a call to WorkOS fails, from the status and error code of its
//! answer. It carries statuses and WorkOS's error codes, never a secret, code or token.

use std::fmt;

use http::StatusCode;
use serde::Deserialize;

/// Why a call to WorkOS failed. Its `Display` and `Debug` hold no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkOsError {
    /// The code is expired, used or unknown, or the PKCE verifier does not match
    /// (`invalid_grant`).
    InvalidGrant,
    /// WorkOS refused the request: credentials, permissions, or what it asked for
    /// (`error` is WorkOS's error code when it sent a well-formed one, else empty).
    Rejected {
        /// The HTTP status.
        status: u16,
        /// WorkOS's error code, such as `invalid_client` or `connection_invalid`.
        error: String,
    },
    /// The object does not exist (404).
    NotFound,
    /// WorkOS asked us to slow down (429).
    RateLimited {
        /// The `Retry-After` seconds, if WorkOS sent them.
        retry_after: Option<u64>,
    },
    /// WorkOS answered 5xx.
    ServerError {
        /// The HTTP status.
        status: u16,
    },
    /// WorkOS could not be reached.
    Unreachable,
    /// WorkOS did not answer in time.
    Timeout,
    /// The answer was too large or not the expected JSON.
    BadResponse(&'static str),
    /// The call was refused before anything was sent: an argument is not valid.
    InvalidInput(&'static str),
    /// A listing had more pages than its cap allows ([`ConnectionStream::max_pages`](super::ConnectionStream::max_pages)).
    TooManyPages,
}

/// The error fields of a WorkOS answer: OAuth style (`error`) or API style (`code`).
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    code: String,
}

impl WorkOsError {
    /// A stable code for metrics: WorkOS's own error code where it sent one the crate knows of
    /// (`invalid_client`, ...), else the kind of failure (`rejected`, `timeout`, ...).
    pub(crate) fn code(&self) -> &'static str {
        match self {
            WorkOsError::InvalidGrant => "invalid_grant",
            WorkOsError::Rejected { error, .. } => match error.as_str() {
                "invalid_client" => "invalid_client",
                "unauthorized_client" => "unauthorized_client",
                "connection_invalid" => "connection_invalid",
                _ => "rejected",
            },
            WorkOsError::NotFound => "not_found",
            WorkOsError::RateLimited { .. } => "rate_limited",
            WorkOsError::ServerError { .. } => "server_error",
            WorkOsError::Unreachable => "unreachable",
            WorkOsError::Timeout => "timeout",
            WorkOsError::BadResponse(_) => "bad_response",
            WorkOsError::InvalidInput(_) => "invalid_input",
            WorkOsError::TooManyPages => "too_many_pages",
        }
    }

    /// The error of a non-2xx answer.
    pub(crate) fn from_answer(status: StatusCode, body: &[u8], retry_after: Option<u64>) -> Self {
        match status {
            StatusCode::TOO_MANY_REQUESTS => return WorkOsError::RateLimited { retry_after },
            StatusCode::NOT_FOUND => return WorkOsError::NotFound,
            s if s.is_server_error() => return WorkOsError::ServerError { status: s.as_u16() },
            _ => {}
        }
        let error = serde_json::from_slice::<ErrorBody>(body)
            .map(|e| if e.error.is_empty() { e.code } else { e.error })
            .unwrap_or_default();
        if error == "invalid_grant" {
            return WorkOsError::InvalidGrant;
        }
        // Keep only a well-formed error code: it is logged.
        let error = if is_error_code(&error) {
            error
        } else {
            String::new()
        };
        WorkOsError::Rejected {
            status: status.as_u16(),
            error,
        }
    }

    /// What an operator should check, after WorkOS's own error-recovery guidance; `None` where
    /// the error says it all.
    pub fn hint(&self) -> Option<&'static str> {
        super::hints::hint(self)
    }
}

impl fmt::Display for WorkOsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkOsError::InvalidGrant => f.write_str("WorkOS refused the code (invalid_grant)"),
            WorkOsError::Rejected { status, error } if error.is_empty() => {
                write!(f, "WorkOS refused the request ({status})")
            }
            WorkOsError::Rejected { status, error } => {
                write!(f, "WorkOS refused the request ({status} {error})")
            }
            WorkOsError::NotFound => f.write_str("WorkOS has no such object (404)"),
            WorkOsError::RateLimited { .. } => f.write_str("WorkOS rate-limited the request (429)"),
            WorkOsError::ServerError { status } => write!(f, "WorkOS failed ({status})"),
            WorkOsError::Unreachable => f.write_str("WorkOS could not be reached"),
            WorkOsError::Timeout => f.write_str("WorkOS did not answer in time"),
            WorkOsError::BadResponse(why) => write!(f, "unexpected answer from WorkOS: {why}"),
            WorkOsError::InvalidInput(why) => write!(f, "not sent to WorkOS: {why}"),
            WorkOsError::TooManyPages => f.write_str("the listing has more pages than allowed"),
        }
    }
}

impl std::error::Error for WorkOsError {}

fn is_error_code(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_errors_keeping_only_well_formed_codes() {
        let of = |status: u16, body: &str| {
            WorkOsError::from_answer(StatusCode::from_u16(status).unwrap(), body.as_bytes(), None)
        };
        assert_eq!(
            of(400, r#"{"error":"invalid_grant"}"#),
            WorkOsError::InvalidGrant
        );
        assert_eq!(
            of(400, r#"{"error":"invalid_client","error_description":"x"}"#),
            WorkOsError::Rejected {
                status: 400,
                error: "invalid_client".into()
            }
        );
        assert_eq!(
            of(403, r#"{"code":"forbidden","message":"no"}"#),
            WorkOsError::Rejected {
                status: 403,
                error: "forbidden".into()
            }
        );
        assert_eq!(
            of(400, r#"{"error":"sk_live_leaked Secret"}"#),
            WorkOsError::Rejected {
                status: 400,
                error: String::new()
            }
        );
        assert_eq!(of(404, r#"{"message":"Not Found"}"#), WorkOsError::NotFound);
        assert_eq!(of(503, ""), WorkOsError::ServerError { status: 503 });
        assert_eq!(of(429, ""), WorkOsError::RateLimited { retry_after: None });
        assert_eq!(
            of(422, "not json"),
            WorkOsError::Rejected {
                status: 422,
                error: String::new()
            }
        );
    }
}
