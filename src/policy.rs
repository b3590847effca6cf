//! Which paths need a session: the access policy, the public and optional paths, and the
//! ambiguous paths that never count as either.

use crate::config::{AccessPolicy, SsoConfig};
use crate::path::{Lengths, is_ambiguous};

/// The path rules of one layer, split once at build time.
pub(crate) struct PathPolicy {
    access: AccessPolicy,
    public: Listed,
    optional: Listed,
    /// The optional entries that may list a public path: for `is_public`, which asks only
    /// these (usually none) whether a public path is optional too.
    optional_among_public: Listed,
}

/// One list of paths: exact ones, and prefixes (each ending in `/`).
struct Listed {
    exact: Vec<String>,
    exact_lengths: Lengths,
    prefixes: Vec<String>,
}

impl Listed {
    fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let (prefixes, exact): (Vec<_>, Vec<_>) =
            paths.into_iter().partition(|path| path.ends_with("/*"));
        Self::of(
            exact.into_iter().map(str::to_owned).collect(),
            prefixes
                .into_iter()
                .map(|p| p.trim_end_matches('*').to_owned())
                .collect(),
        )
    }

    fn of(exact: Vec<String>, prefixes: Vec<String>) -> Self {
        Self {
            exact_lengths: Lengths::of(exact.iter().map(String::as_str)),
            exact,
            prefixes,
        }
    }

    /// Whether `path` is listed: one of the exact paths (none of which is ambiguous, as the
    /// configuration checks), or under a prefix and not ambiguous.
    #[inline]
    fn has(&self, path: &str) -> bool {
        (self.exact_lengths.may_have(path.len()) && self.exact.iter().any(|p| p == path))
            || (!self.prefixes.is_empty() && self.has_prefix_of(path))
    }

    fn has_prefix_of(&self, path: &str) -> bool {
        self.prefixes.iter().any(|p| path.starts_with(p.as_str())) && !is_ambiguous(path)
    }

    /// The entries that may list a path `other` lists too: an exact path `other` lists, or a
    /// prefix that an entry of `other` starts with, or that starts with a prefix of `other`.
    fn overlapping(&self, other: &Listed) -> Self {
        let exact = self.exact.iter().filter(|path| other.has(path));
        let prefixes = self.prefixes.iter().filter(|prefix| {
            let under = |path: &String| path.starts_with(prefix.as_str());
            other.exact.iter().any(under)
                || other
                    .prefixes
                    .iter()
                    .any(|theirs| under(theirs) || prefix.starts_with(theirs.as_str()))
        });
        Self::of(exact.cloned().collect(), prefixes.cloned().collect())
    }
}

impl PathPolicy {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        let listed = |paths: &[String]| Listed::new(paths.iter().map(String::as_str));
        let public = listed(config.public_paths());
        let optional = listed(config.optional_paths());
        Self {
            access: config.access_policy,
            optional_among_public: optional.overlapping(&public),
            public,
            optional,
        }
    }

    /// Whether `path` is a public path, where the layer reads no session: listed in
    /// `public_paths` and not in `optional_paths`.
    #[inline]
    pub(crate) fn is_public(&self, path: &str) -> bool {
        self.public.has(path) && !self.optional_among_public.has(path)
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
    fn a_public_path_is_public_exactly_when_no_optional_entry_lists_it() {
        const ENTRIES: [&str; 8] = ["/", "/a", "/a/b", "/a/*", "/a/b/*", "/b/*", "/*", "/ab"];
        const PATHS: [&str; 10] = [
            "/", "/a", "/a/", "/a/b", "/a/b/c", "/ab", "/b", "/b/x", "/a/../b", "/c",
        ];
        let pick = |mask: u32| {
            ENTRIES
                .iter()
                .enumerate()
                .filter(move |(i, _)| mask >> i & 1 == 1)
        };
        for public in 0..1u32 << ENTRIES.len() {
            for optional in 0..1u32 << ENTRIES.len() {
                let lists = |mask| pick(mask).map(|(_, path)| path.to_string()).collect();
                let public_list = Listed::new(pick(public).map(|(_, path)| *path));
                let optional_list = Listed::new(pick(optional).map(|(_, path)| *path));
                let policy = PathPolicy {
                    access: AccessPolicy::RequireLogin,
                    optional_among_public: optional_list.overlapping(&public_list),
                    public: public_list,
                    optional: optional_list,
                };
                for path in PATHS {
                    let listed = |paths: Vec<String>| {
                        paths.iter().any(|p| match p.strip_suffix('*') {
                            Some(prefix) => path.starts_with(prefix) && !is_ambiguous(path),
                            None => p == path,
                        })
                    };
                    let expected = listed(lists(public)) && !listed(lists(optional));
                    assert_eq!(
                        policy.is_public(path),
                        expected,
                        "{path} {public:b} {optional:b}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_optional_policy_protects_nothing() {
        assert!(!policy(AccessPolicy::Optional).is_protected("/admin"));
    }
}
