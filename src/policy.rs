//! Which paths need a session: the access policy, the public and optional paths, and the
//! ambiguous paths that never count as either.

use crate::config::{AccessPolicy, SsoConfig};
use crate::path::is_ambiguous;

/// The path rules of one layer, split once at build time.
pub(crate) struct PathPolicy {
    access: AccessPolicy,
    public: Listed,
    optional: Listed,
}

/// One list of paths: exact ones, and prefixes (each ending in `/`).
struct Listed {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

impl Listed {
    fn new(paths: &[String]) -> Self {
        let (prefixes, exact): (Vec<_>, Vec<_>) =
            paths.iter().cloned().partition(|path| path.ends_with("/*"));
        Self {
            exact,
            prefixes: prefixes
                .into_iter()
                .map(|p| p.trim_end_matches('*').to_owned())
                .collect(),
        }
    }

    /// Whether `path` is listed: one of the exact paths (none of which is ambiguous, as the
    /// configuration checks), or under a prefix and not ambiguous.
    fn has(&self, path: &str) -> bool {
        self.exact.iter().any(|p| p == path)
            || (self.prefixes.iter().any(|p| path.starts_with(p.as_str())) && !is_ambiguous(path))
    }
}

impl PathPolicy {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        Self {
            access: config.access_policy,
            public: Listed::new(config.public_paths()),
            optional: Listed::new(config.optional_paths()),
        }
    }

    /// Whether `path` is a public path, where the layer reads no session: listed in
    /// `public_paths` and not in `optional_paths`.
    pub(crate) fn is_public(&self, path: &str) -> bool {
        self.public.has(path) && !self.optional.has(path)
    }

    /// Whether a request to `path` needs a session. Paths that a server might normalise into
    /// another path (dot segments, encoded separators) are never public or optional.
    pub(crate) fn is_protected(&self, path: &str) -> bool {
        if self.access == AccessPolicy::Optional {
            return false;
        }
        !(self.public.has(path) || self.optional.has(path))
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
            // Matrix parameters: `..;` is `..` to Tomcat and Jetty.
            "/public/..;/admin",
            "/public/x;jsessionid=1",
            // Double encoding, overlong UTF-8 and IIS `%u` spellings of `.`, `/` and `\`.
            "/public/%252e%252e/admin",
            "/public/%25252e/admin",
            "/public/%c0%ae%c0%ae/admin",
            "/public/%e0%80%ae/admin",
            "/public/%c0%af",
            "/public/%c1%9c",
            "/public/%u002e%u002e/admin",
            // Backslashes, raw or encoded, and NUL truncation.
            "/public\\..\\admin",
            "/public/%5C",
            "/public/a%00.css",
            // Doubled slashes, which proxies merge.
            "/public//../admin",
            "/public//x",
        ] {
            assert!(policy.is_protected(path), "{path}");
            assert!(!policy.is_public(path), "{path}");
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
    fn public_paths_are_read_only_when_also_optional() {
        let config = SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![1u8; 32])
            .public_paths(["/health", "/assets/*"])
            .optional_paths(["/", "/assets/page"])
            .build()
            .unwrap();
        let policy = PathPolicy::new(&config);
        assert!(policy.is_public("/health"));
        assert!(policy.is_public("/assets/app.css"));
        for path in [
            "/assets/page",
            "/",
            "/admin",
            "/assets/../admin",
            "/health/x",
        ] {
            assert!(!policy.is_public(path), "{path}");
        }
        for path in ["/assets/page", "/", "/health", "/assets/app.css"] {
            assert!(!policy.is_protected(path), "{path}");
        }
        for path in ["/admin", "/assets/../admin", "/assets//x", "/assets"] {
            assert!(policy.is_protected(path), "{path}");
        }
    }

    #[test]
    fn the_optional_policy_protects_nothing() {
        assert!(!policy(AccessPolicy::Optional).is_protected("/admin"));
    }
}
