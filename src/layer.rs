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
use crate::store::{Revocation, StoreError};

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

    /// The layer's WorkOS client (its key, timeouts and caps), for the app's own calls: the
    /// Connections API, Admin Portal links.
    pub fn workos(&self) -> &crate::client::WorkOsClient {
        &self.core.client
    }

    /// Mints a bearer token for a new session of `profile`, as a sign-in would (for a service
    /// account, say). `None` if the profile is too large.
    ///
    /// Clients present it as `Authorization: Bearer`. It is marked as minted: it is never
    /// renewed (it lasts one idle timeout) and never accepted as the browser's session cookie.
    /// To hand a signed-in user's session to a CLI or gRPC client, prefer
    /// [`issue_session_token_for`](Self::issue_session_token_for).
    pub fn issue_session_token(&self, profile: &Profile) -> Option<Token> {
        let now = self.core.now();
        self.core.sessions.issue_bearer(profile, now)
    }

    /// Mints a bearer token for a session that is already signed in, e.g. in a handler that
    /// hands the user's session to a command-line or gRPC client. It shares the session's id, so
    /// logging out (or [`revoke_session`](Self::revoke_session)) ends it too, and never outlives
    /// the session's absolute lifetime. Like every minted token it is accepted only as
    /// `Authorization: Bearer`, never as the session cookie, and never renewed.
    /// `None` if the session has reached that end or the profile is too large.
    pub fn issue_session_token_for(&self, session: &Session, profile: &Profile) -> Option<Token> {
        let now = self.core.now();
        self.core.sessions.issue_for(profile, session, now)
    }

    /// Revokes `what` now: from the next request on, every token it names is refused (see
    /// [`store`](crate::store) for which), until no such token could verify any more.
    ///
    /// Revocations live in the configured
    /// [`session_store`](crate::SsoConfigBuilder::session_store); without one, in a
    /// [`MemoryStore`](crate::store::MemoryStore) of this layer (and its clones) alone, so with
    /// several instances configure a store they share. Fails if the store does (a
    /// `MemoryStore` at its cap, say) or `what` names an empty id: then nothing was revoked.
    ///
    /// ```
    /// use tower_workos_sso::store::Revocation;
    /// # use tower_workos_sso::{SsoConfig, SsoLayer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let config = SsoConfig::builder().api_key("sk_test_example").client_id("client_example")
    /// #     .redirect_uri("https://app.example.com/auth/callback")
    /// #     .session_secret(*b"an example secret of at least 32 bytes").build()?;
    /// let sso = SsoLayer::new(config);
    /// // A user left: end every session they signed in before now. They may sign in again.
    /// sso.revoke_user("prof_01ALICE").await?;
    /// // The same, spelled out.
    /// sso.revoke(Revocation::Organization("org_01ACME".into())).await?;
    /// # Ok(()) }
    /// ```
    pub async fn revoke(&self, what: Revocation) -> Result<(), StoreError> {
        self.core.revocations.revoke(what).await
    }

    /// Revokes one session ([`Session::id`]): its cookie, every renewed copy and every token
    /// minted for it, until its absolute end (plus the clock leeway). Logout does this too.
    pub async fn revoke_session(&self, session_id: &str) -> Result<(), StoreError> {
        self.revoke(Revocation::Session(session_id.to_owned()))
            .await
    }

    /// Revokes every session of the user with WorkOS profile id `profile_id`
    /// ([`Profile::id`](crate::ProfileFields::id)) signed in until now. Signing in again afterwards works.
    pub async fn revoke_user(&self, profile_id: &str) -> Result<(), StoreError> {
        self.revoke(Revocation::User(profile_id.to_owned())).await
    }

    /// Revokes every session of the organization `organization_id` signed in until now.
    pub async fn revoke_organization(&self, organization_id: &str) -> Result<(), StoreError> {
        self.revoke(Revocation::Organization(organization_id.to_owned()))
            .await
    }

    /// Revokes every session signed in through the connection `connection_id` until now.
    pub async fn revoke_connection(&self, connection_id: &str) -> Result<(), StoreError> {
        self.revoke(Revocation::Connection(connection_id.to_owned()))
            .await
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
