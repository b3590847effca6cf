//! `Core`: the per-layer state built once from the configuration (keys, flows, the WorkOS
//! client, the path policy, the admitted set, the revocation store), shared by every service
//! and route through one `Arc`.

use std::cell::Cell;

use http::Extensions;
use std::sync::Arc;

use http::Request;

use crate::admission::Admission;
use crate::client::WorkOsClient;
use crate::config::{DomainRouting, SsoConfig};
use crate::directory::{ConnectionOwners, WorkOsDomains};
use crate::domains::{DomainRouter, StaticDomains};
use crate::flow::Flows;
use crate::limit::Slots;
use crate::pages::Pages;
use crate::path::Lengths;
use crate::policy::PathPolicy;
use crate::profile::Profile;
use crate::revocation::Revocations;
use crate::session::Sessions;
use crate::tenant::{Tenant, TenantResolver};
use crate::time::unix_seconds;

/// Everything derived from the configuration once, when the layer is built.
pub(crate) struct Core {
    pub(crate) config: SsoConfig,
    pub(crate) sessions: Sessions,
    pub(crate) flows: Flows,
    pub(crate) client: WorkOsClient,
    pub(crate) policy: PathPolicy,
    /// Code exchanges with WorkOS under way (`max_concurrent_exchanges`).
    pub(crate) exchanges: Slots,
    pub(crate) revocations: Revocations,
    pub(crate) admission: Admission,
    /// The tenant resolver, if configured: `None` costs the request path nothing.
    pub(crate) tenants: Option<TenantResolver>,
    /// The organizations of connections, asked of WorkOS for `idp_initiated_sso_disabled`
    /// restarts.
    pub(crate) owners: ConnectionOwners,
    /// Where the sign-in chooser routes emails, if anywhere.
    pub(crate) domains: Option<Arc<dyn DomainRouter>>,
    /// The app's own pages, if any.
    pub(crate) pages: Option<Arc<dyn Pages>>,
    /// The lengths of the SSO routes' paths: most paths have none of them.
    route_lengths: Lengths,
}

/// One of the routes the layer answers itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Login,
    Callback,
    Logout,
    Session,
    Webhook,
}

/// What the innermost `SsoLayer` this thread is inside did with the request's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reading {
    /// Not inside any `SsoLayer`.
    Outside,
    /// The session was read: a request without a `Profile` has none.
    Read,
    /// A public path: no session was read.
    Unread,
}

thread_local! {
    /// What the `SsoService` call or response future this thread is inside did (see
    /// `InsideLayer`).
    static INSIDE_LAYER: Cell<Reading> = const { Cell::new(Reading::Outside) };
}

/// Marks the thread as inside the layer while the inner service is called or its future polled,
/// so that extractors and guards can tell "not signed in" from "the layer is not installed"
/// (and from "a public path, where no session is read") without the layer writing anything
/// into the request: an anonymous request passes through without a single allocation. A
/// request with a session carries its `Profile`, which says so by itself. Nested layers each
/// restore what the one outside them set.
pub(crate) struct InsideLayer {
    before: Reading,
}

impl InsideLayer {
    #[inline]
    pub(crate) fn enter(reading: Reading) -> Self {
        let before = INSIDE_LAYER.with(|inside| inside.replace(reading));
        Self { before }
    }
}

impl Drop for InsideLayer {
    #[inline]
    fn drop(&mut self) {
        INSIDE_LAYER.with(|inside| inside.set(self.before));
    }
}

/// What the layer the request went through did with its session (`Outside`: it went through
/// none): a request carrying a verified profile was read, whatever thread looks at it; else an
/// `SsoLayer` is calling or polling what looks at it right now, or none is.
pub(crate) fn session_read(extensions: &Extensions) -> Reading {
    if extensions.get::<Profile>().is_some() {
        return Reading::Read;
    }
    INSIDE_LAYER.with(Cell::get)
}

impl Core {
    pub(crate) fn new(config: SsoConfig) -> Self {
        Self {
            sessions: Sessions::new(&config),
            flows: Flows::new(&config),
            client: WorkOsClient::new(&config),
            policy: PathPolicy::new(&config),
            exchanges: Slots::new(config.max_concurrent_exchanges),
            revocations: Revocations::new(&config),
            admission: Admission::new(&config),
            tenants: config.tenancy.resolver.clone(),
            owners: ConnectionOwners::new(&config),
            domains: domain_router(&config),
            pages: config.tenancy.pages.clone(),
            route_lengths: route_lengths(&config),
            config,
        }
    }

    /// The request's tenant, if a resolver is configured and finds one.
    pub(crate) fn tenant_of<B>(&self, request: &Request<B>) -> Option<Tenant> {
        self.tenants.as_ref()?.resolve(request)
    }

    /// The configured clock, in unix seconds.
    pub(crate) fn now(&self) -> u64 {
        unix_seconds((self.config.clock)())
    }

    /// The SSO route `path` names; `None` for the app's own paths, most of which have no
    /// route's length (told here, inlined).
    #[inline]
    pub(crate) fn route(&self, path: &str) -> Option<Route> {
        if !self.route_lengths.may_have(path.len()) {
            return None;
        }
        self.route_named(path)
    }

    fn route_named(&self, path: &str) -> Option<Route> {
        let config = &self.config;
        if path == config.login_path {
            Some(Route::Login)
        } else if path == config.callback_path {
            Some(Route::Callback)
        } else if path == config.logout_path {
            Some(Route::Logout)
        } else if path == config.session_path {
            Some(Route::Session)
        } else if config
            .webhooks
            .as_ref()
            .is_some_and(|webhooks| webhooks.path == path)
        {
            Some(Route::Webhook)
        } else {
            None
        }
    }
}

/// The lengths of the SSO routes' paths, as [`Core::route`] reads them.
fn route_lengths(config: &SsoConfig) -> Lengths {
    let webhooks = config
        .webhooks
        .iter()
        .map(|webhooks| webhooks.path.as_str());
    let routes = [
        &config.login_path,
        &config.callback_path,
        &config.logout_path,
        &config.session_path,
    ];
    Lengths::of(routes.into_iter().map(String::as_str).chain(webhooks))
}

/// The configured domain router, built once.
fn domain_router(config: &SsoConfig) -> Option<Arc<dyn DomainRouter>> {
    match &config.tenancy.domains {
        DomainRouting::None => None,
        DomainRouting::Static(routes) => {
            // Checked by `build`; an error here cannot happen.
            let routes = routes
                .iter()
                .map(|(domain, selector)| (domain, selector.clone()));
            Some(Arc::new(StaticDomains::new(routes).unwrap_or_default()))
        }
        DomainRouting::WorkOs => Some(Arc::new(WorkOsDomains::new(config))),
        DomainRouting::Custom(router) => Some(router.clone()),
    }
}
