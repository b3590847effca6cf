//! Which paths need a session: the access policy, the public paths, and the ambiguous paths
//! that never count as public.

use crate::config::{AccessPolicy, SsoConfig};

/// The path rules of one layer, split once at build time.
pub(crate) struct PathPolicy {
    access: AccessPolicy,
    exact: Vec<String>,
    /// Public prefixes, each ending in `/`.
    prefixes: Vec<String>,
}

impl PathPolicy {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        let (prefixes, exact): (Vec<_>, Vec<_>) = config
            .public_paths
            .iter()
            .cloned()
            .partition(|path| path.ends_with("/*"));
        Self {
            access: config.access_policy,
            exact,
            prefixes: prefixes
                .into_iter()
                .map(|p| p.trim_end_matches('*').to_owned())
                .collect(),
        }
    }

    /// Whether a request to `path` needs a session. Paths that a server might normalise into
    /// another path (dot segments, encoded separators) never count as public.
    pub(crate) fn is_protected(&self, path: &str) -> bool {
        if self.access == AccessPolicy::Optional {
            return false;
        }
        if is_ambiguous(path) {
            return true;
        }
        let public = self.exact.iter().any(|p| p == path)
            || self.prefixes.iter().any(|p| path.starts_with(p.as_str()));
        !public
    }
}

/// A path a server or proxy might read as another one.
fn is_ambiguous(path: &str) -> bool {
    path.split('/').any(|seg| seg == "." || seg == "..")
        || path.contains('%') && {
            let lower = path.to_ascii_lowercase();
            ["%2e", "%2f", "%5c"].iter().any(|enc| lower.contains(enc))
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(access: AccessPolicy) -> PathPolicy {
        let config = SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![1u8; 32])
            .public_paths(["/health", "/public/*"])
            .access_policy(access)
            .build()
            .unwrap();
        PathPolicy::new(&config)
    }

    #[test]
    fn exact_and_prefix_paths_are_public() {
        let policy = policy(AccessPolicy::RequireLogin);
        assert!(!policy.is_protected("/health"));
        assert!(!policy.is_protected("/public/a/b"));
        assert!(policy.is_protected("/health/x"));
        assert!(policy.is_protected("/publicity"));
        assert!(policy.is_protected("/"));
    }

    #[test]
    fn ambiguous_paths_are_never_public() {
        let policy = policy(AccessPolicy::RequireLogin);
        for path in [
            "/public/../admin",
            "/public/./x",
            "/public/%2e%2e/admin",
            "/public/%2F..%2Fadmin",
            "/public/%5c../admin",
        ] {
            assert!(policy.is_protected(path), "{path}");
        }
    }

    /// The same rules through the whole service: what is public reaches the app anonymously,
    /// what only looks public is sent to sign in.
    #[tokio::test]
    async fn the_service_applies_the_policy() {
        use http::{Request, Response, StatusCode, header};
        use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

        let config = SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![1u8; 32])
            .public_paths(["/health", "/public/*"])
            .build()
            .unwrap();
        let app = ServiceBuilder::new()
            .layer(crate::SsoLayer::new(config))
            .service(service_fn(|_: Request<String>| async {
                Ok::<_, std::convert::Infallible>(Response::new(String::new()))
            }));
        for (path, status) in [
            ("/health", StatusCode::OK),
            ("/public/style.css", StatusCode::OK),
            ("/public/%2e%2e/admin", StatusCode::SEE_OTHER),
            ("/public/../admin", StatusCode::SEE_OTHER),
            ("/admin", StatusCode::SEE_OTHER),
        ] {
            let request = Request::get(path)
                .header(header::ACCEPT, "text/html")
                .body(String::new())
                .unwrap();
            let response = app.clone().ready().await.unwrap().call(request).await;
            assert_eq!(response.unwrap().status(), status, "{path}");
        }
    }

    #[test]
    fn the_optional_policy_protects_nothing() {
        assert!(!policy(AccessPolicy::Optional).is_protected("/admin"));
    }
}
