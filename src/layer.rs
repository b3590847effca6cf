//! `SsoLayer`: builds the per-layer [`Core`] once and wraps services in [`SsoService`].

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::config::SsoConfig;
use crate::core::Core;
use crate::profile::Profile;
use crate::secret::Token;
use crate::service::SsoService;
use crate::session::Session;

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
    core: Arc<Core>,
}

impl SsoLayer {
    /// A layer for this configuration.
    pub fn new(config: SsoConfig) -> Self {
        // jsonwebtoken panics at first use if features elsewhere in the build enable a second
        // crypto backend; naming ours makes that impossible. An error only means one is set.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        Self {
            core: Arc::new(Core::new(config)),
        }
    }

    /// The per-layer state, for layers built from this one (route guards).
    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// The configuration the layer runs with.
    pub fn config(&self) -> &SsoConfig {
        &self.core.config
    }

    /// Mints a token for a new session of `profile`, as a sign-in would (for a service account,
    /// say). Clients present it as `Authorization: Bearer`. `None` if the profile is too large.
    ///
    /// To hand a signed-in user's session to a CLI or gRPC client, prefer
    /// [`issue_session_token_for`](Self::issue_session_token_for).
    pub fn issue_session_token(&self, profile: &Profile) -> Option<Token> {
        let now = self.core.now();
        self.core
            .sessions
            .issue(profile, now)
            .map(|(token, _)| token)
    }

    /// Mints another token for a session that is already signed in, e.g. in a handler that
    /// hands the user's session to a command-line or gRPC client. It shares the session's id
    /// (logging out with a store revokes both) and never outlives its absolute lifetime.
    /// `None` if the session has reached that end or the profile is too large.
    pub fn issue_session_token_for(&self, session: &Session, profile: &Profile) -> Option<Token> {
        let now = self.core.now();
        self.core.sessions.issue_for(profile, session, now)
    }
}

impl fmt::Debug for SsoLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoLayer")
            .field("config", &self.core.config)
            .finish()
    }
}

impl<S> Layer<S> for SsoLayer {
    type Service = SsoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SsoService::new(inner, self.core.clone())
    }
}
