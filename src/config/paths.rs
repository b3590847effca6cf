//! The paths that need no session: public ones, where the layer reads none, and optional ones,
//! where it reads one if there is.

use super::url::is_path_text;
use super::{ConfigError, SsoConfig, SsoConfigBuilder};
use crate::path::is_ambiguous;

/// The two lists as configured; each path exact (`/health`) or a prefix ending in `/*`.
#[derive(Clone, Debug, Default)]
pub(crate) struct OpenPaths {
    pub(crate) public: Vec<String>,
    pub(crate) optional: Vec<String>,
}

impl OpenPaths {
    /// Every path starts with `/`, is plain path text, and is not a spelling that servers may
    /// read as another path (such a path never counts as listed, so listing it is a mistake;
    /// and a request for a listed path needs no such check).
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        for (setting, paths) in [
            ("public_paths", &self.public),
            ("optional_paths", &self.optional),
        ] {
            for path in paths {
                if !path.starts_with('/') || !is_path_text(path) {
                    return Err(ConfigError::new(
                        setting,
                        "every path must start with / (a prefix ends in /*)",
                    ));
                }
                if is_ambiguous(path.strip_suffix('*').unwrap_or(path)) {
                    return Err(ConfigError::new(
                        setting,
                        format!(
                            "{path} is a spelling servers may read as another path (dot segments, `;`, encoded or doubled separators): list the path itself"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The non-empty paths of `paths`.
fn listed<I, P>(paths: I) -> impl Iterator<Item = String>
where
    I: IntoIterator<Item = P>,
    P: Into<String>,
{
    paths.into_iter().map(Into::into).filter(|p| !p.is_empty())
}

impl SsoConfigBuilder {
    /// Paths that need no session and where the layer does not read one: health checks,
    /// assets, metrics. A request there costs the layer next to nothing, and its handler sees
    /// no profile: the extractors and route guards answer `500` `session_not_read` there. A
    /// page that shows who is signed in belongs in [`optional_paths`](Self::optional_paths).
    /// Exact (`/health`) or a prefix ending in `/*` (`/assets/*`).
    pub fn public_paths<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.paths.public.extend(listed(paths));
        self
    }

    /// Paths that need no session but see one if there is: the handler's `Option<Profile>` is
    /// the signed-in user or `None`. A path listed here and in `public_paths` is optional.
    /// Exact (`/`) or a prefix ending in `/*` (`/docs/*`).
    pub fn optional_paths<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.paths.optional.extend(listed(paths));
        self
    }
}

impl SsoConfig {
    /// The paths that need no session and where the layer reads none.
    pub fn public_paths(&self) -> &[String] {
        &self.paths.public
    }

    /// The paths that need no session but see one if there is.
    pub fn optional_paths(&self) -> &[String] {
        &self.paths.optional
    }
}

#[cfg(test)]
mod tests {
    use crate::SsoConfig;

    fn build(public: &[&str], optional: &[&str]) -> Result<SsoConfig, crate::ConfigError> {
        SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![1u8; 32])
            .public_paths(public.iter().copied())
            .optional_paths(optional.iter().copied())
            .build()
    }

    #[test]
    fn paths_that_servers_could_read_as_others_are_refused_at_build() {
        assert!(build(&["/health", "/assets/*", "/favicon.ico"], &["/", "/docs/*"]).is_ok());
        for (public, optional, setting) in [
            (&["/a/../admin"][..], &[][..], "public_paths"),
            (&["/a;x"], &[], "public_paths"),
            (&["/a//*"], &[], "public_paths"),
            (&[], &["/docs/%2e%2e/*"], "optional_paths"),
            (&[], &["health"], "optional_paths"),
        ] {
            let error = build(public, optional).unwrap_err();
            assert_eq!(error.setting(), setting, "{public:?} {optional:?}");
        }
    }
}
