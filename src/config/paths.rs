//! The paths that need no session: public ones, where the layer reads none, and optional ones,
//! where it reads one if there is.

use super::url::is_path_text;
use super::{ConfigError, SsoConfig, SsoConfigBuilder};

/// The two lists as configured; each path exact (`/health`) or a prefix ending in `/*`.
#[derive(Clone, Debug, Default)]
pub(crate) struct OpenPaths {
    pub(crate) public: Vec<String>,
    pub(crate) optional: Vec<String>,
}

impl OpenPaths {
    /// Every path starts with `/` and is plain path text.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        for (setting, paths) in [
            ("public_paths", &self.public),
            ("optional_paths", &self.optional),
        ] {
            if paths
                .iter()
                .any(|path| !path.starts_with('/') || !is_path_text(path))
            {
                return Err(ConfigError::new(
                    setting,
                    "every path must start with / (a prefix ends in /*)",
                ));
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
