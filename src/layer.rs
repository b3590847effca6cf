//! `SsoLayer`: the configuration, keys and WorkOS client, built once and shared by every service.

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::client::WorkOsClient;
use crate::config::{AccessPolicy, SsoConfig};
use crate::flow::Flows;
use crate::profile::Profile;
use crate::secret::Token;
use crate::service::SsoService;
use crate::session::{Session, Sessions, unix_now};

/// Adds WorkOS single sign-on to a Tower service.
///
/// It answers the login, callback and logout routes itself, verifies the session on every
/// other request, and puts the [`Profile`] and [`Session`](crate::Session) in the request
/// extensions. Cloning is cheap: all state is behind one `Arc`.
///
/// ```no_run
/// use tower_workos_sso::{SsoConfig, SsoLayer};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sso = SsoLayer::new(SsoConfig::from_env()?);
/// let app = tower::ServiceBuilder::new().layer(sso).service(tower::service_fn(
///     |_request: http::Request<String>| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) },
/// ));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SsoLayer {
    pub(crate) shared: Arc<Shared>,
}

impl SsoLayer {
    /// A layer for this configuration.
    pub fn new(config: SsoConfig) -> Self {
        // jsonwebtoken panics at first use if features elsewhere in the build enable a second
        // crypto backend; naming ours makes that impossible. An error only means one is set.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        Self {
            shared: Arc::new(Shared::new(config)),
        }
    }

    /// The configuration the layer runs with.
    pub fn config(&self) -> &SsoConfig {
        &self.shared.config
    }

    /// Mints a token for a new session of `profile`, as a sign-in would (for a service account,
    /// say). Clients present it as `Authorization: Bearer`. `None` if the profile is too large.
    ///
    /// To hand a signed-in user's session to a CLI or gRPC client, prefer
    /// [`issue_session_token_for`](Self::issue_session_token_for).
    pub fn issue_session_token(&self, profile: &Profile) -> Option<Token> {
        let now = self.shared.now();
        self.shared
            .sessions
            .issue(profile, now)
            .map(|(token, _)| token)
    }

    /// Mints another token for a session that is already signed in, e.g. in a handler that
    /// hands the user's session to a command-line or gRPC client. It shares the session's id
    /// (logging out with a store revokes both) and never outlives its absolute lifetime.
    /// `None` if the session has reached that end or the profile is too large.
    pub fn issue_session_token_for(&self, session: &Session, profile: &Profile) -> Option<Token> {
        let now = self.shared.now();
        self.shared.sessions.issue_for(profile, session, now)
    }
}

impl fmt::Debug for SsoLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoLayer")
            .field("config", &self.shared.config)
            .finish()
    }
}

impl<S> Layer<S> for SsoLayer {
    type Service = SsoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SsoService::new(inner, self.shared.clone())
    }
}

/// Everything derived from the configuration once, when the layer is built.
pub(crate) struct Shared {
    pub(crate) config: SsoConfig,
    pub(crate) sessions: Sessions,
    pub(crate) flows: Flows,
    pub(crate) client: WorkOsClient,
    public_exact: Vec<String>,
    public_prefixes: Vec<String>,
}

impl Shared {
    fn new(config: SsoConfig) -> Self {
        let (prefixes, exact): (Vec<_>, Vec<_>) = config
            .public_paths
            .iter()
            .cloned()
            .partition(|path| path.ends_with("/*"));
        Self {
            sessions: Sessions::new(&config),
            flows: Flows::new(&config),
            client: WorkOsClient::new(&config),
            public_exact: exact,
            public_prefixes: prefixes
                .into_iter()
                .map(|p| p.trim_end_matches('*').to_owned())
                .collect(),
            config,
        }
    }

    pub(crate) fn now(&self) -> u64 {
        unix_now((self.config.clock)())
    }

    /// Whether a request to `path` needs a session. Paths that a server might normalise into
    /// another path (dot segments, encoded separators) never count as public.
    pub(crate) fn is_protected(&self, path: &str) -> bool {
        if self.config.access_policy == AccessPolicy::Optional {
            return false;
        }
        let ambiguous = path.split('/').any(|seg| seg == "." || seg == "..")
            || path.contains('%') && {
                let lower = path.to_ascii_lowercase();
                ["%2e", "%2f", "%5c"].iter().any(|enc| lower.contains(enc))
            };
        if ambiguous {
            return true;
        }
        let public = self.public_exact.iter().any(|p| p == path)
            || self
                .public_prefixes
                .iter()
                .any(|p| path.starts_with(p.as_str()));
        !public
    }
}
