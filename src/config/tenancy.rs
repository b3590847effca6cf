//! The settings of multi-tenant sign-in: the tenant resolver, domain routing and its cache,
//! the landing after an IdP-initiated sign-in, and the app's own pages.

use std::sync::Arc;
use std::time::Duration;

use super::{ConfigError, SsoConfigBuilder};
use crate::domains::{DomainRouter, StaticDomains};
use crate::pages::Pages;
use crate::profile::Profile;
use crate::selector::Selector;
use crate::tenant::TenantResolver;

/// Where an IdP-initiated sign-in lands, from its profile.
pub(crate) type Landing = Arc<dyn Fn(&Profile) -> Option<String> + Send + Sync>;

/// How the chooser finds the selector for an email domain.
#[derive(Clone, Default)]
pub(crate) enum DomainRouting {
    /// No email box on the chooser.
    #[default]
    None,
    /// `route_domains`: checked in `build`.
    Static(Vec<(String, Selector)>),
    /// `route_domains_through_workos`: `GET /connections?domain=`.
    WorkOs,
    /// `domain_router`.
    Custom(Arc<dyn DomainRouter>),
}

/// The bounds of the WorkOS domain look-ups' cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DomainCache {
    /// How many domains it remembers at most.
    pub(crate) capacity: usize,
    /// How long a domain with single sign-on is remembered.
    pub(crate) ttl: Duration,
    /// How long a domain without is remembered.
    pub(crate) negative_ttl: Duration,
    /// How long one look-up (all its pages) may take.
    pub(crate) timeout: Duration,
    /// How many look-ups may run at once.
    pub(crate) max_concurrent: usize,
}

impl Default for DomainCache {
    fn default() -> Self {
        Self {
            capacity: 1024,
            ttl: Duration::from_secs(5 * 60),
            negative_ttl: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            max_concurrent: 16,
        }
    }
}

/// The multi-tenant settings, as the builder collects them and the configuration keeps them.
#[derive(Clone, Default)]
pub(crate) struct Tenancy {
    pub(crate) resolver: Option<TenantResolver>,
    pub(crate) domains: DomainRouting,
    pub(crate) cache: DomainCache,
    pub(crate) landing: Option<Landing>,
    pub(crate) pages: Option<Arc<dyn Pages>>,
}

impl Tenancy {
    /// Checks what `build` can: domain names, cache bounds.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if let DomainRouting::Static(routes) = &self.domains {
            StaticDomains::new(routes.iter().map(|(d, s)| (d, s.clone())))
                .map_err(|problem| ConfigError::new("route_domains", problem.to_string()))?;
        }
        let cache = &self.cache;
        if cache.capacity == 0 || cache.ttl.is_zero() || cache.max_concurrent == 0 {
            return Err(ConfigError::new(
                "domain_cache",
                "capacity, lifetime and concurrency must be above zero",
            ));
        }
        if cache.timeout.is_zero() {
            return Err(ConfigError::new(
                "domain_lookup_timeout",
                "must be above zero",
            ));
        }
        Ok(())
    }
}

impl SsoConfigBuilder {
    /// Tells each request's tenant from the request (host, path prefix, header): see
    /// [`TenantResolver`]. The tenant goes in the request extensions, `/auth/login` without a
    /// selector signs in to it, and a session of another organization counts as none on its
    /// requests: browsers are sent to sign in to the tenant, API clients get `401`
    /// (`error="invalid_token"`), gRPC clients `UNAUTHENTICATED`.
    pub fn tenant_resolver(mut self, resolver: TenantResolver) -> Self {
        self.tenancy.resolver = Some(resolver);
        self
    }

    /// Routes the sign-in chooser's emails by a fixed map of domains (compared without case).
    /// Calls add up. Only selectors the app admits are used: a domain mapped to anything else
    /// gets the "no single sign-on" answer.
    pub fn route_domains<I, D>(mut self, routes: I) -> Self
    where
        I: IntoIterator<Item = (D, Selector)>,
        D: Into<String>,
    {
        let mut all = match std::mem::take(&mut self.tenancy.domains) {
            DomainRouting::Static(routes) => routes,
            _ => Vec::new(),
        };
        all.extend(routes.into_iter().map(|(d, s)| (d.into(), s)));
        self.tenancy.domains = DomainRouting::Static(all);
        self
    }

    /// Routes the sign-in chooser's emails through the WorkOS API: the domain's active
    /// connections (`GET /connections?domain=`), signing in with their organization if it is
    /// admitted, else with the connection if it is. Answers are cached (see
    /// [`domain_cache`](Self::domain_cache)); a domain of several admitted tenants counts as
    /// none. Replaces any other domain routing.
    pub fn route_domains_through_workos(mut self) -> Self {
        self.tenancy.domains = DomainRouting::WorkOs;
        self
    }

    /// Routes the sign-in chooser's emails with the app's own [`DomainRouter`]. Replaces any
    /// other domain routing.
    pub fn domain_router(mut self, router: impl DomainRouter) -> Self {
        self.tenancy.domains = DomainRouting::Custom(Arc::new(router));
        self
    }

    /// The cache of [`route_domains_through_workos`](Self::route_domains_through_workos): at
    /// most `capacity` domains, each remembered for `ttl` (a domain without single sign-on for
    /// `negative_ttl`). Default 1024 domains, 5 minutes, 30 seconds. A burst of logins from one
    /// domain makes one call to WorkOS. The organizations of connections asked for
    /// `idp_initiated_sso_disabled` restarts are cached with the same bounds.
    pub fn domain_cache(mut self, capacity: usize, ttl: Duration, negative_ttl: Duration) -> Self {
        self.tenancy.cache.capacity = capacity;
        self.tenancy.cache.ttl = ttl;
        self.tenancy.cache.negative_ttl = negative_ttl;
        self
    }

    /// How long the chooser waits for a domain look-up, whichever the router (WorkOS, a
    /// static map, the app's own), before it says "try again" (`504`). Default 5 seconds
    /// (within [`workos_timeouts`](Self::workos_timeouts)). Also the deadline of a connection's
    /// organization look-up for an `idp_initiated_sso_disabled` restart (then a `503`).
    pub fn domain_lookup_timeout(mut self, timeout: Duration) -> Self {
        self.tenancy.cache.timeout = timeout;
        self
    }

    /// Where a user lands after an IdP-initiated sign-in (one the layer restarted as its
    /// own: [`IdpInitiatedLogin`](crate::IdpInitiatedLogin), or WorkOS's
    /// `idp_initiated_sso_disabled`), chosen from the profile: a local path, or `None` for
    /// [`default_return_to`](Self::default_return_to). A path that is not local is replaced by
    /// the default.
    ///
    /// ```
    /// use tower_workos_sso::SsoConfig;
    ///
    /// let config = SsoConfig::builder()
    ///     # .api_key("sk_test_example").client_id("client_example")
    ///     # .redirect_uri("https://app.example.com/auth/callback")
    ///     # .session_secret(*b"an example secret of at least 32 bytes")
    ///     .idp_landing(|profile| {
    ///         profile.organization_id.as_ref().map(|org| format!("/orgs/{org}"))
    ///     })
    ///     .build()?;
    /// # Ok::<(), tower_workos_sso::ConfigError>(())
    /// ```
    pub fn idp_landing(
        mut self,
        landing: impl Fn(&Profile) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.tenancy.landing = Some(Arc::new(landing));
        self
    }

    /// Renders the chooser, the confirmation and the error pages of the SSO routes in the
    /// app's own look: see [`pages`](crate::pages).
    pub fn pages(mut self, pages: impl Pages) -> Self {
        self.tenancy.pages = Some(Arc::new(pages));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::{setting_of, valid};

    #[test]
    fn domain_routes_and_cache_bounds_are_checked() {
        let acme = Selector::organization("org_01ACME").unwrap();
        assert_eq!(
            setting_of(valid().route_domains([("not a domain", acme.clone())])),
            "route_domains"
        );
        assert_eq!(
            setting_of(valid().domain_cache(0, Duration::from_secs(1), Duration::ZERO)),
            "domain_cache"
        );
        assert_eq!(
            setting_of(valid().domain_lookup_timeout(Duration::ZERO)),
            "domain_lookup_timeout"
        );
        let config = valid()
            .route_domains([("acme.test", acme.clone())])
            .route_domains([("acme.example", acme)])
            .build()
            .unwrap();
        assert!(
            matches!(&config.tenancy.domains, DomainRouting::Static(routes) if routes.len() == 2)
        );
    }
}
