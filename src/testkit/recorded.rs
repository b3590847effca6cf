//! The requests the fake records for tests to read back: authorize queries and portal links.

/// One well-formed `POST /portal/generate_link` as the fake received it
/// ([`MockWorkOs::portal_requests`]): which organization's Admin Portal was asked for.
///
/// [`MockWorkOs::portal_requests`]: super::MockWorkOs::portal_requests
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PortalRequest {
    /// The `organization` id asked for.
    pub organization: String,
    /// The `intent`, such as `sso`.
    pub intent: String,
    /// The `return_url`, if one was sent.
    pub return_url: Option<String>,
}

/// One `GET /sso/authorize` as the fake received it ([`MockWorkOs::authorize_requests`]): the
/// raw query and its pairs, percent-decoded and in order, repeats kept. Tests read from it
/// exactly how each authorization parameter reached WorkOS.
///
/// [`MockWorkOs::authorize_requests`]: super::MockWorkOs::authorize_requests
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizeRequest {
    query: String,
    pairs: Vec<(String, String)>,
}

impl AuthorizeRequest {
    pub(super) fn of(query: &str) -> Self {
        Self {
            query: query.to_owned(),
            pairs: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// The query string as sent (after the `?`), still percent-encoded.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Every `(name, value)` pair, decoded, in the order sent.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `name`, decoded.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, decoded, in order (a parameter sent twice shows twice).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
