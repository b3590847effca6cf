//! Tenants: the organization (or connection) a request belongs to, told from the request
//! itself (its host, a path prefix, a header), so a tenant's users sign in without naming it.
//!
//! With a [`TenantResolver`] configured, the layer puts the request's [`Tenant`] in its
//! extensions, `/auth/login` without a selector signs in to it, and a session of another
//! organization counts as no session on that tenant's requests. Without one none of this runs.
//!
//! The built-in resolvers read a tenant's name the way the app will (see `spelling`): a
//! request that names a tenant in a spelling servers could read as another's is refused, and
//! one that names a tenant that is not configured is served to no session.
//!
//! The resolver is synchronous on purpose: it runs on every request, before the session check,
//! and must not wait on the network. Look-ups that need the network belong in a
//! [`DomainRouter`](crate::domains::DomainRouter), which has a cache.

mod spelling;

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, Request, Uri, header};

use crate::profile::Profile;
use crate::response::Reason;
use crate::selector::Selector;
use spelling::{HeaderValues, Hosts, Names, PathSlugs, folded, normalised_host};

/// The tenant a request belongs to, as the configured [`TenantResolver`] found it.
///
/// In the request extensions of every request the resolver answers for; with the `axum`
/// feature, handlers take it (or `Option<Tenant>`) as an argument.
#[derive(Clone, PartialEq, Eq)]
pub struct Tenant {
    selector: Selector,
}

impl Tenant {
    /// The tenant's selector: what its users sign in with.
    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    /// The tenant's organization id, if it is an organization.
    pub fn organization_id(&self) -> Option<&str> {
        self.selector.organization_id()
    }

    /// The tenant's connection id, if it is a connection.
    pub fn connection_id(&self) -> Option<&str> {
        self.selector.connection_id()
    }

    /// Whether `profile` belongs to this tenant: its organization, connection or provider.
    pub fn owns(&self, profile: &Profile) -> bool {
        self.selector.is_bound(profile)
    }
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Tenant").field(&self.selector).finish()
    }
}

/// The parts of a request a [`TenantResolver`] may look at.
#[derive(Debug)]
pub struct TenantRequest<'a> {
    uri: &'a Uri,
    headers: &'a HeaderMap,
}

impl<'a> TenantRequest<'a> {
    /// The request's path, raw: still percent-encoded, dot segments and all. A resolver of
    /// its own that reads a tenant from it must read it as the app's router will (or use
    /// [`TenantResolver::by_path_prefix`], which does).
    pub fn path(&self) -> &'a str {
        self.uri.path()
    }

    /// The host the request was sent to, lowercase, without port or trailing dot: the URI's
    /// authority (HTTP/2), else the `Host` header; `None` if it is not a plain host name or
    /// IP literal. `X-Forwarded-Host` is never read.
    pub fn host(&self) -> Option<String> {
        let raw = match self.uri.authority() {
            Some(authority) => authority.as_str().as_bytes(),
            None => self.headers.get(header::HOST)?.as_bytes(),
        };
        normalised_host(raw)
    }

    /// A request header, if it is text.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.get(name)?.to_str().ok()
    }
}

/// What a resolver tells of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// The request belongs to no tenant.
    None,
    /// The request is this tenant's.
    Tenant(Tenant),
    /// The request names a tenant that is not configured: no session is its.
    Unknown,
    /// The request names a tenant in a spelling servers could read as another's: refused.
    Ambiguous,
}

impl Resolution {
    fn tenant(selector: Selector) -> Self {
        Resolution::Tenant(Tenant { selector })
    }
}

type Resolve = dyn Fn(&TenantRequest<'_>) -> Resolution + Send + Sync;

/// Tells a request's tenant from the request (see [the module](crate::tenant)).
///
/// ```
/// use tower_workos_sso::{Selector, tenant::TenantResolver};
///
/// // `/t/acme/...` belongs to Acme, `/t/globex/...` to Globex.
/// let by_path = TenantResolver::by_path_prefix("/t/", [
///     ("acme", Selector::organization("org_01ACME")?),
///     ("globex", Selector::organization("org_01GLOBEX")?),
/// ]);
/// // Or anything computed from the request.
/// let custom = TenantResolver::new(|request| {
///     let host = request.host()?;
///     let slug = host.strip_suffix(".app.test")?;
///     Selector::organization(format!("org_{}", slug.to_ascii_uppercase())).ok()
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TenantResolver(Arc<Resolve>);

impl TenantResolver {
    /// A resolver from a function of the request; `None` means the request has no tenant.
    pub fn new(
        resolve: impl Fn(&TenantRequest<'_>) -> Option<Selector> + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(move |request| {
            resolve(request).map_or(Resolution::None, Resolution::tenant)
        }))
    }

    /// By host name (`acme.app.test`), compared without case, port or trailing dot. Every
    /// copy of the host a request carries (its authority, each `Host`, and any
    /// `X-Forwarded-Host` or `Forwarded: host=`, which host extractors may read first) must
    /// name the same tenant, or the request is refused (`400`); a host that is not listed
    /// belongs to no tenant.
    ///
    /// The session cookie is host-only (`__Host-`) and the callback lives on the redirect
    /// URI's host: give each tenant host a layer (and redirect URI) of its own, or use a path
    /// prefix or a header set by a proxy.
    pub fn by_host<I, H>(hosts: I) -> Self
    where
        I: IntoIterator<Item = (H, Selector)>,
        H: AsRef<str>,
    {
        let hosts = Hosts(Names::new(hosts, |host| normalised_host(host.as_bytes())));
        Self(Arc::new(move |request| {
            hosts.resolve(request.uri, request.headers)
        }))
    }

    /// By the path segment after `prefix`: with prefix `/t/`, `/t/acme/reports` is `acme`'s.
    ///
    /// The path is read as a router reads it: each segment percent-decoded once (so
    /// `/t/%61cme/` is `acme`'s, as axum's `Path` would tell the handler), the prefix and the
    /// slug compared without ASCII case (`/T/ACME/` is `acme`'s too; two slugs that differ
    /// only in case name neither). Under the prefix:
    /// - a slug that is not listed is a tenant no session is of: public paths see no profile,
    ///   others answer `404` (`no_tenant`);
    /// - a path that servers could read as another path (dot segments, `;`, encoded slashes
    ///   or backslashes, `%00`, doubled slashes, double encoding: the rules that keep such
    ///   paths from being public) is refused with `400`, whoever asks, if any reading of it
    ///   has a segment named like the prefix's last.
    pub fn by_path_prefix<I, S>(prefix: &str, slugs: I) -> Self
    where
        I: IntoIterator<Item = (S, Selector)>,
        S: Into<String>,
    {
        let slugs = slugs
            .into_iter()
            .map(|(slug, selector)| (slug.into(), selector));
        let slugs = PathSlugs::new(prefix, Names::new(slugs, folded));
        Self(Arc::new(move |request| slugs.resolve(request.path())))
    }

    /// By the value of a request header, which a proxy in front of the app sets (and strips
    /// from what clients send), compared without ASCII case. A request whose copies of the
    /// header (or items of a comma-separated one) name different tenants is refused (`400`);
    /// one naming a tenant that is not listed is a tenant no session is of (`404` outside
    /// public paths); without the header it belongs to no tenant.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid header name.
    pub fn by_header<I, V>(name: &str, values: I) -> Self
    where
        I: IntoIterator<Item = (V, Selector)>,
        V: Into<String>,
    {
        let values = values
            .into_iter()
            .map(|(value, selector)| (value.into(), selector));
        let values = HeaderValues {
            name: HeaderName::try_from(name).expect("a valid header name"),
            names: Names::new(values, folded),
        };
        Self(Arc::new(move |request| values.resolve(request.headers)))
    }

    /// What this resolver tells of `request`.
    fn resolution<B>(&self, request: &Request<B>) -> Resolution {
        let view = TenantRequest {
            uri: request.uri(),
            headers: request.headers(),
        };
        (self.0)(&view)
    }

    /// The tenant of a request, if it has one.
    pub(crate) fn resolve<B>(&self, request: &Request<B>) -> Option<Tenant> {
        match self.resolution(request) {
            Resolution::Tenant(tenant) => Some(tenant),
            _ => None,
        }
    }

    /// Why a verified session of `profile` counts as none on `request`, if it does.
    pub(crate) fn refusal<B>(&self, request: &Request<B>, profile: &Profile) -> Option<Reason> {
        match self.resolution(request) {
            Resolution::Tenant(tenant) if !tenant.owns(profile) => Some(Reason::OtherTenant),
            Resolution::None | Resolution::Tenant(_) => None,
            Resolution::Unknown => Some(Reason::UnknownTenant),
            Resolution::Ambiguous => Some(Reason::AmbiguousTenant),
        }
    }

    /// Puts the request's tenant in its extensions (removing any that came before), or
    /// [`NoTenant`] if it has none, and turns a verified session of another tenant into no
    /// session: the one call the service makes. A request naming a tenant that is not
    /// configured, or naming one ambiguously, is refused whatever its session.
    pub(crate) fn scope<B, V>(
        &self,
        request: &mut Request<B>,
        verified: Result<V, Reason>,
        profile: impl FnOnce(&V) -> &Profile,
    ) -> Result<V, Reason> {
        request.extensions_mut().remove::<Tenant>();
        let resolution = self.resolution(request);
        let verified = match (&resolution, verified) {
            (Resolution::Unknown, _) => Err(Reason::UnknownTenant),
            (Resolution::Ambiguous, _) => Err(Reason::AmbiguousTenant),
            (Resolution::Tenant(tenant), Ok(session)) if !tenant.owns(profile(&session)) => {
                let (kind, id) = tenant.selector.param();
                tracing::debug!(
                    tenant = kind,
                    id,
                    "a session of another tenant counts as none here"
                );
                Err(Reason::OtherTenant)
            }
            (_, verified) => verified,
        };
        let extensions = request.extensions_mut();
        match resolution {
            Resolution::Tenant(tenant) => {
                extensions.insert(tenant);
            }
            _ => {
                extensions.insert(NoTenant);
            }
        }
        verified
    }
}

/// In the extensions of a request the configured resolver found no tenant for, so the
/// `Tenant` extractor tells "no such tenant" (404) from "no resolver configured" (500).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NoTenant;

impl fmt::Debug for TenantResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TenantResolver")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, host: Option<&str>) -> Request<()> {
        let mut builder = Request::get(uri);
        if let Some(host) = host {
            builder = builder.header(header::HOST, host);
        }
        builder.body(()).unwrap()
    }

    fn org(id: &str) -> Selector {
        Selector::organization(id).unwrap()
    }

    #[test]
    fn hosts_compare_without_case_and_port() {
        let resolver = TenantResolver::by_host([("acme.app.test", org("org_01ACME"))]);
        for host in [
            "acme.app.test",
            "ACME.app.test:8443",
            "acme.app.test:80",
            "acme.app.test.",
        ] {
            let tenant = resolver.resolve(&request("/", Some(host)));
            assert_eq!(
                tenant.unwrap().organization_id(),
                Some("org_01ACME"),
                "{host}"
            );
        }
        for host in [
            "globex.app.test",
            "acme.app.test.evil",
            "evil-acme.app.test",
        ] {
            assert!(
                resolver.resolve(&request("/", Some(host))).is_none(),
                "{host}"
            );
        }
        assert!(resolver.resolve(&request("/", None)).is_none());
        let absolute = resolver.resolve(&request("https://acme.app.test/x", None));
        assert!(absolute.is_some());
    }

    #[test]
    fn path_prefixes_take_the_whole_segment() {
        let resolver = TenantResolver::by_path_prefix("/t/", [("acme", org("org_01ACME"))]);
        assert!(resolver.resolve(&request("/t/acme", None)).is_some());
        assert!(
            resolver
                .resolve(&request("/t/acme/reports?x=1", None))
                .is_some()
        );
        for path in ["/t/acmex/", "/t/", "/acme", "/x/t/acme"] {
            assert!(resolver.resolve(&request(path, None)).is_none(), "{path}");
        }
    }

    #[test]
    fn a_session_of_another_tenant_is_no_session_and_the_tenant_is_in_the_extensions() {
        let resolver = TenantResolver::by_header("x-tenant", [("acme", org("org_01ACME"))]);
        let acme = Profile::new("prof_1", "a@acme.test").with_organization("org_01ACME");
        let globex = Profile::new("prof_2", "c@globex.test").with_organization("org_01GLOBEX");
        let mut here = Request::get("/")
            .header("x-tenant", "acme")
            .body(())
            .unwrap();
        assert!(resolver.scope(&mut here, Ok(&acme), |p| p).is_ok());
        assert_eq!(
            here.extensions()
                .get::<Tenant>()
                .and_then(Tenant::organization_id),
            Some("org_01ACME")
        );
        let refused = resolver.scope(&mut here, Ok(&globex), |p| p);
        assert_eq!(refused.err(), Some(Reason::OtherTenant));
        // No tenant: the session stands, and a stale tenant extension is gone.
        let mut elsewhere = Request::get("/").body(()).unwrap();
        elsewhere.extensions_mut().insert(Tenant {
            selector: org("org_01EVIL"),
        });
        assert!(resolver.scope(&mut elsewhere, Ok(&globex), |p| p).is_ok());
        assert!(elsewhere.extensions().get::<Tenant>().is_none());
        assert!(elsewhere.extensions().get::<NoTenant>().is_some());
    }
}
