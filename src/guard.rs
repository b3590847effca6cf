//! Route guards: per-route requirements on the signed-in user (a role, a group, an
//! organization, any predicate on the profile, or a recent sign-in).
//!
//! [`SsoLayer`] decides who is signed in; a guard decides what they may open. Mount
//! [`SsoLayer::require`] on the routes that need it (`route_layer` in axum, a layer around a
//! service in Tonic or Hyper), or call [`Guard::check`] inside a handler. A caller without a
//! session gets the usual sign-in answer; a signed-in caller who fails the guard gets 403 (a
//! page for browsers, JSON for APIs) or gRPC `PERMISSION_DENIED` (7) — never a login redirect,
//! which would loop.
//!
//! [`Guard::signed_in_within`] is step-up re-authentication: a browser whose sign-in is older
//! is sent back through WorkOS with `prompt=login` for its own organization (so the identity
//! provider asks for credentials again) and returns to the same page; API callers get 401
//! `{"error":"reauthentication_required"}` with a `WWW-Authenticate` challenge
//! (`error="insufficient_user_authentication"`, `max_age`), gRPC callers status 16.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use tower_workos_sso::{Guard, SsoConfig, SsoLayer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sso = SsoLayer::new(SsoConfig::from_env()?);
//! let app: Router = Router::new()
//!     .route("/admin", get(|| async { "admin only" }))
//!     .route_layer(sso.require(Guard::role("admin")))
//!     .route("/", get(|| async { "everyone signed in" }))
//!     .layer(sso);
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use http::{Extensions, Request, Response};
use tower::Service;
use tower_layer::Layer;

use crate::core::{Core, Reading, session_read};
use crate::future::{Outgoing, ResponseFuture};
use crate::layer::SsoLayer;
use crate::profile::Profile;
use crate::response::{self, Caller, Reason};
use crate::routes::login::sign_in_required;
use crate::routes::step_up::reauthenticate;
use crate::session::Session;

/// A requirement on the signed-in user's [`Profile`]. Cheap to clone.
///
/// ```
/// use tower_workos_sso::{Guard, Profile};
///
/// let guard = Guard::organization("org_01ACME").and(Guard::any_of([
///     Guard::role("admin"),
///     Guard::group("Engineering"),
/// ]));
/// let alice = Profile::new("prof_1", "alice@example.com")
///     .with_organization("org_01ACME")
///     .with_groups(["Engineering"]);
/// assert!(guard.allows(&alice));
/// assert!(!guard.allows(&Profile::new("prof_2", "mallory@example.com")));
/// ```
#[derive(Clone)]
pub struct Guard(Arc<Rule>);

enum Rule {
    Role(String),
    Group(String),
    Organization(String),
    Predicate(&'static str, Box<dyn Fn(&Profile) -> bool + Send + Sync>),
    SignedInWithin(Duration),
    AllOf(Vec<Guard>),
    AnyOf(Vec<Guard>),
}

/// What a guard says of a caller: a signed-in user who fails only a freshness rule may pass
/// after signing in again; one who fails anything else may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Allow,
    Reauthenticate,
    Forbid,
}

impl Guard {
    /// The user holds the role with this slug (primary or any of `roles`).
    pub fn role(slug: impl Into<String>) -> Self {
        Self::from(Rule::Role(slug.into()))
    }

    /// The identity provider puts the user in this group.
    pub fn group(name: impl Into<String>) -> Self {
        Self::from(Rule::Group(name.into()))
    }

    /// The user signed in through this organization (`org_...`).
    pub fn organization(id: impl Into<String>) -> Self {
        Self::from(Rule::Organization(id.into()))
    }

    /// Any test on the profile; `name` says what it checks in `Debug` output and logs.
    pub fn predicate(
        name: &'static str,
        test: impl Fn(&Profile) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self::from(Rule::Predicate(name, Box::new(test)))
    }

    /// The user signed in (at the identity provider, through this layer) at most `max_age`
    /// ago: step-up re-authentication before a sensitive action. Renewing the session does not
    /// count; only a sign-in does ([`Session::authenticated_at`]).
    ///
    /// A browser with an older sign-in is restarted into login with `prompt=login` for its own
    /// organization (or connection, or provider, if that is what the app admits) and returns
    /// to the same page: for a form `POST` (any browser navigation that is not a `GET`), a
    /// `303` and back to the page the form was on (its same-origin `Referer`, else
    /// `default_return_to`). API and gRPC callers get 401 / status 16 with
    /// `reauthentication_required`. Without a [`Session`] (as in [`allows`](Self::allows)) it
    /// never passes.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_workos_sso::Guard;
    ///
    /// let delete_account = Guard::role("admin").and(Guard::signed_in_within(Duration::from_secs(5 * 60)));
    /// # let _ = delete_account;
    /// ```
    pub fn signed_in_within(max_age: Duration) -> Self {
        Self::from(Rule::SignedInWithin(max_age))
    }

    /// Both this guard and `other`.
    pub fn and(self, other: Guard) -> Self {
        Self::from(Rule::AllOf(vec![self, other]))
    }

    /// At least one of `guards` (none: nobody passes).
    pub fn any_of(guards: impl IntoIterator<Item = Guard>) -> Self {
        Self::from(Rule::AnyOf(guards.into_iter().collect()))
    }

    /// Whether `profile` passes. A [`signed_in_within`](Self::signed_in_within) rule needs
    /// the session, so here it never passes.
    pub fn allows(&self, profile: &Profile) -> bool {
        self.outcome(profile, None, SystemTime::now()) == Outcome::Allow
    }

    fn outcome(&self, profile: &Profile, session: Option<&Session>, now: SystemTime) -> Outcome {
        let pass = |ok: bool| if ok { Outcome::Allow } else { Outcome::Forbid };
        match &*self.0 {
            Rule::Role(slug) => pass(profile.has_role(slug)),
            Rule::Group(name) => pass(profile.groups.iter().any(|g| g == name)),
            Rule::Organization(id) => pass(profile.organization_id.as_deref() == Some(id.as_str())),
            Rule::Predicate(_, test) => pass(test(profile)),
            Rule::SignedInWithin(max_age) => {
                // A sign-in time ahead of the clock (skew between instances) counts as now.
                let fresh = session.is_some_and(|session| {
                    now.duration_since(session.authenticated_at)
                        .map_or(true, |age| age <= *max_age)
                });
                if fresh {
                    Outcome::Allow
                } else {
                    Outcome::Reauthenticate
                }
            }
            Rule::AllOf(guards) => guards.iter().fold(Outcome::Allow, |worst, g| {
                match (worst, g.outcome(profile, session, now)) {
                    (Outcome::Forbid, _) | (_, Outcome::Forbid) => Outcome::Forbid,
                    (Outcome::Reauthenticate, _) | (_, Outcome::Reauthenticate) => {
                        Outcome::Reauthenticate
                    }
                    _ => Outcome::Allow,
                }
            }),
            Rule::AnyOf(guards) => guards.iter().fold(Outcome::Forbid, |best, g| {
                match (best, g.outcome(profile, session, now)) {
                    (Outcome::Allow, _) | (_, Outcome::Allow) => Outcome::Allow,
                    (Outcome::Reauthenticate, _) | (_, Outcome::Reauthenticate) => {
                        Outcome::Reauthenticate
                    }
                    _ => Outcome::Forbid,
                }
            }),
        }
    }

    /// The shortest `signed_in_within` age in this guard, for the answer's `max_age`.
    fn max_age(&self) -> Option<Duration> {
        match &*self.0 {
            Rule::SignedInWithin(age) => Some(*age),
            Rule::AllOf(guards) | Rule::AnyOf(guards) => {
                guards.iter().filter_map(Guard::max_age).min()
            }
            _ => None,
        }
    }

    /// The guard inside a handler: the signed-in profile the layer put in `extensions`, if it
    /// passes. Tonic handlers call it with `request.extensions()` and map [`Denied`] to a
    /// `Status` (`Unauthenticated` and `ReauthenticationRequired` → `unauthenticated`,
    /// `Forbidden` → `permission_denied`).
    pub fn check<'a>(&self, extensions: &'a Extensions) -> Result<&'a Profile, Denied> {
        self.check_at(extensions, SystemTime::now())
    }

    fn check_at<'a>(
        &self,
        extensions: &'a Extensions,
        now: SystemTime,
    ) -> Result<&'a Profile, Denied> {
        let profile = extensions.get::<Profile>().ok_or(Denied::Unauthenticated)?;
        match self.outcome(profile, profile.session(), now) {
            Outcome::Allow => Ok(profile),
            Outcome::Reauthenticate => Err(Denied::ReauthenticationRequired),
            Outcome::Forbid => Err(Denied::Forbidden),
        }
    }
}

impl From<Rule> for Guard {
    fn from(rule: Rule) -> Self {
        Guard(Arc::new(rule))
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Rule::Role(slug) => write!(f, "role({slug})"),
            Rule::Group(name) => write!(f, "group({name})"),
            Rule::Organization(id) => write!(f, "organization({id})"),
            Rule::Predicate(name, _) => write!(f, "predicate({name})"),
            Rule::SignedInWithin(age) => write!(f, "signed_in_within({}s)", age.as_secs()),
            Rule::AllOf(guards) => f.debug_tuple("all_of").field(guards).finish(),
            Rule::AnyOf(guards) => f.debug_tuple("any_of").field(guards).finish(),
        }
    }
}

/// Why [`Guard::check`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denied {
    /// No signed-in user (a public path, or the optional policy).
    Unauthenticated,
    /// Signed in, but the guard does not let this user through.
    Forbidden,
    /// Signed in, but longer ago than [`Guard::signed_in_within`] allows: sign in again.
    ReauthenticationRequired,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Denied::Unauthenticated => "sign-in required",
            Denied::Forbidden => "the signed-in account may not do this",
            Denied::ReauthenticationRequired => "a more recent sign-in is required",
        })
    }
}

impl std::error::Error for Denied {}

impl SsoLayer {
    /// A layer that lets only signed-in users passing `guard` reach the service it wraps. Mount
    /// it inside this `SsoLayer` (axum: `route_layer`).
    pub fn require(&self, guard: Guard) -> RequireLayer {
        RequireLayer {
            guard,
            core: self.core().clone(),
        }
    }
}

/// The layer of [`SsoLayer::require`].
#[derive(Clone)]
pub struct RequireLayer {
    guard: Guard,
    core: Arc<Core>,
}

impl fmt::Debug for RequireLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireLayer")
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = Require<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Require {
            inner,
            guard: self.guard.clone(),
            core: self.core.clone(),
        }
    }
}

/// The service of [`RequireLayer`].
#[derive(Clone)]
pub struct Require<S> {
    inner: S,
    guard: Guard,
    core: Arc<Core>,
}

impl<S> Require<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for Require<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Require")
            .field("inner", &self.inner)
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Require<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: crate::body::SsoBody,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let extensions = request.extensions();
        // Without a session read, the guard cannot tell who calls: a misconfiguration, named.
        let unseen = match session_read(extensions) {
            Reading::Read => None,
            Reading::Unread => Some((
                "session_not_read",
                "a route guard needs the session, which the layer does not read on its public_paths: list the path in optional_paths, or drop the guard",
            )),
            Reading::Outside => Some((
                "sso_layer_missing",
                "a route guard runs inside SsoLayer: add `.layer(sso)` outside `.route_layer(sso.require(..))`",
            )),
        };
        if let Some((code, message)) = unseen {
            tracing::debug!(code, "route guard cannot see the session");
            return ResponseFuture::ready(response::json_error(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                code,
                message,
            ));
        }
        let now = (self.core.config.clock)();
        match self.guard.check_at(extensions, now) {
            Ok(_) => ResponseFuture::inner(self.inner.call(request), Outgoing::anonymous()),
            Err(Denied::Unauthenticated) => {
                ResponseFuture::ready(sign_in_required(&self.core, &request, Reason::Missing))
            }
            Err(Denied::ReauthenticationRequired) => {
                let max_age = self.guard.max_age().unwrap_or_default();
                ResponseFuture::ready(reauthenticate(&self.core, &request, max_age))
            }
            Err(Denied::Forbidden) => {
                tracing::debug!(guard = ?self.guard, "route guard refused a signed-in caller");
                let caller = Caller::of(request.method(), request.headers());
                let page = response::forbidden(caller);
                ResponseFuture::ready(crate::routes::with_pages(&self.core, page))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::{Request, Response, StatusCode, header};
    use tower::{Service, ServiceBuilder, ServiceExt, service_fn};

    use super::*;
    use crate::SsoConfig;

    fn layer() -> SsoLayer {
        SsoLayer::new(
            SsoConfig::builder()
                .api_key("sk_test")
                .client_id("client_1")
                .redirect_uri("https://app.test/auth/callback")
                .session_secret(vec![5u8; 32])
                .optional_paths(["/open"])
                .build()
                .unwrap(),
        )
    }

    #[test]
    fn rules_combine() {
        let admin = Profile::new("p", "a@x.test").with_roles(["admin"]);
        assert!(Guard::role("admin").allows(&admin));
        assert!(!Guard::role("owner").allows(&admin));
        assert!(!Guard::any_of([]).allows(&admin));
        assert!(!Guard::role("admin").and(Guard::group("ops")).allows(&admin));
        let named = Guard::predicate("email is verified", |p| p.email.ends_with("x.test"));
        assert!(named.allows(&admin));
        assert_eq!(format!("{named:?}"), "predicate(email is verified)");
    }

    #[test]
    fn a_stale_sign_in_asks_for_reauthentication_unless_another_rule_forbids() {
        let admin = Profile::new("p", "a@x.test").with_roles(["admin"]);
        let signed_in = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let session = |at| {
            let mut extensions = Extensions::new();
            extensions.insert(admin.with_session(Session {
                id: "s".into(),
                authenticated_at: at,
                issued_at: at,
                expires_at: at,
                source: crate::SessionSource::Cookie,
                claims: Default::default(),
                trimmed: Vec::new(),
            }));
            extensions
        };
        let five = Duration::from_secs(300);
        let fresh = Guard::signed_in_within(five);
        let now = signed_in + Duration::from_secs(301);
        let stale = session(signed_in);
        assert_eq!(
            fresh.check_at(&stale, now).err(),
            Some(Denied::ReauthenticationRequired)
        );
        assert!(fresh.check_at(&stale, signed_in + five).is_ok());
        assert!(fresh.check_at(&session(now), now).is_ok());
        // Another failing rule wins: signing in again would not help.
        let owner_recently = Guard::role("owner").and(fresh.clone());
        assert_eq!(
            owner_recently.check_at(&stale, now).err(),
            Some(Denied::Forbidden)
        );
        let either = Guard::any_of([Guard::role("owner"), fresh.clone()]);
        assert_eq!(
            either.check_at(&stale, now).err(),
            Some(Denied::ReauthenticationRequired)
        );
        // Without a session it never passes.
        assert!(!fresh.allows(&admin));
        assert_eq!(Guard::role("admin").and(fresh).max_age(), Some(five));
    }

    #[tokio::test]
    async fn signed_in_callers_failing_a_guard_get_403_each_in_their_own_form() {
        let sso = layer();
        let admin = sso
            .issue_session_token(&Profile::new("p1", "a@x.test").with_roles(["admin"]))
            .unwrap();
        let member = sso
            .issue_session_token(&Profile::new("p2", "m@x.test").with_roles(["member"]))
            .unwrap();
        let app = ServiceBuilder::new()
            .layer(sso.clone())
            .layer(sso.require(Guard::role("admin")))
            .service(service_fn(|_: Request<String>| async {
                Ok::<_, Infallible>(Response::new("secret".to_owned()))
            }));
        let call = |token: &str, accept: &str, content_type: &str| {
            Request::post("/admin")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::ACCEPT, accept)
                .header(header::CONTENT_TYPE, content_type)
                .body(String::new())
                .unwrap()
        };
        let ok = app
            .clone()
            .oneshot(call(admin.expose(), "*/*", "text/plain"));
        assert_eq!(ok.await.unwrap().status(), StatusCode::OK);
        let api = app
            .clone()
            .oneshot(call(member.expose(), "*/*", "text/plain"));
        let api = api.await.unwrap();
        assert_eq!(api.status(), StatusCode::FORBIDDEN);
        assert_eq!(api.headers()[header::CONTENT_TYPE], "application/json");
        let grpc = app
            .clone()
            .oneshot(call(member.expose(), "*/*", "application/grpc"))
            .await
            .unwrap();
        assert_eq!(grpc.status(), StatusCode::OK);
        assert_eq!(grpc.headers()["grpc-status"], "7");
    }

    #[tokio::test]
    async fn without_a_session_the_guard_gives_the_sign_in_answer_and_without_the_layer_a_500() {
        let sso = layer();
        let mut guarded = ServiceBuilder::new()
            .layer(sso.clone())
            .layer(sso.require(Guard::role("admin")))
            .service(service_fn(|_: Request<String>| async {
                Ok::<_, Infallible>(Response::new(String::new()))
            }));
        let browser = Request::get("/open")
            .header(header::ACCEPT, "text/html")
            .body(String::new())
            .unwrap();
        let response = guarded.ready().await.unwrap().call(browser).await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers()[header::LOCATION],
            "/auth/login?return_to=%2Fopen"
        );

        let bare = ServiceBuilder::new()
            .layer(sso.require(Guard::role("admin")))
            .service(service_fn(|_: Request<String>| async {
                Ok::<_, Infallible>(Response::new(String::new()))
            }));
        let response = bare
            .oneshot(Request::get("/").body(String::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
