//! `GET /auth/login`: validates the request and sends the browser to WorkOS; and the answer a
//! protected path gives a caller without a session (which points browsers here).

use std::fmt;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};

use super::start::proceed;
use super::{Answer, chooser, origin};
use crate::core::Core;
use crate::domains::MAX_EMAIL_LEN;
use crate::flow::LoginParams;
use crate::response::{self, Caller, OwnBody, Reason};
use crate::secret::Redacted;
use crate::selector::Selector;
use crate::tenant::Tenant;

/// Queries longer than this are refused before parsing.
pub(crate) const MAX_QUERY_LEN: usize = 8 * 1024;

/// Why a login request was refused. Its text is what the page shows: fixed, never the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoginError {
    QueryTooLong,
    SeveralSelectors,
    InvalidSelector,
    InvalidHint,
    NoSelector,
}

impl LoginError {
    /// The fixed text the refusal page shows.
    pub(crate) fn message(self) -> &'static str {
        match self {
            LoginError::QueryTooLong => "The sign-in link is too long.",
            LoginError::SeveralSelectors => {
                "Give exactly one of organization, connection, provider or email."
            }
            LoginError::InvalidSelector => "The organization, connection or provider is not valid.",
            LoginError::InvalidHint => "A sign-in hint is not valid.",
            LoginError::NoSelector => {
                "Say where to sign in: add organization=org_..., connection=conn_... or provider=GoogleOAuth to the link."
            }
        }
    }
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for LoginError {}

/// What `GET /auth/login` was asked for. Its `Debug` output shows no email.
#[derive(Default)]
pub(crate) struct LoginQuery {
    pub(crate) selector: Option<Selector>,
    /// The chooser's email, to route by its domain; empty when too long to be one.
    pub(crate) email: Option<String>,
    pub(crate) params: LoginParams,
}

impl fmt::Debug for LoginQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = &self.params;
        f.debug_struct("LoginQuery")
            .field("selector", &self.selector)
            .field("email", &self.email.as_ref().map(|_| Redacted))
            .field("login_hint", &params.login_hint.as_ref().map(|_| Redacted))
            .field("domain_hint", &params.domain_hint)
            .field("return_to", &params.return_to)
            .field("idp_initiated", &params.idp_initiated)
            .finish_non_exhaustive()
    }
}

impl LoginQuery {
    pub(crate) fn parse(query: Option<&str>) -> Result<Self, LoginError> {
        let query = query.unwrap_or("");
        if query.len() > MAX_QUERY_LEN {
            return Err(LoginError::QueryTooLong);
        }
        let mut login = LoginQuery::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if let Some(selector) = Selector::from_param(&name, &value) {
                if login.selector.is_some() {
                    return Err(LoginError::SeveralSelectors);
                }
                login.selector = Some(selector.map_err(|_| LoginError::InvalidSelector)?);
                continue;
            }
            // `Organization=`, `PROVIDER=`: a selector in another case, which a server or proxy
            // might read as one, is refused rather than passed over for the default.
            if ["organization", "connection", "provider"]
                .iter()
                .any(|selector| selector.eq_ignore_ascii_case(&name))
            {
                return Err(LoginError::InvalidSelector);
            }
            if name == "email" {
                let fits = value.len() <= MAX_EMAIL_LEN && !value.chars().any(char::is_control);
                login.email = Some(if fits {
                    value.into_owned()
                } else {
                    String::new()
                });
                continue;
            }
            let params = &mut login.params;
            // Only a confirmed login may keep it (see `login`).
            if name == "idp" {
                params.idp_initiated = value == "1";
                continue;
            }
            let (slot, max) = match &*name {
                "login_hint" => (&mut params.login_hint, 320),
                "domain_hint" => (&mut params.domain_hint, 253),
                // Any value: `safe_return_to` replaces what is not a local path.
                "return_to" => {
                    params.return_to = Some(value.into_owned());
                    continue;
                }
                _ => continue,
            };
            if value.len() > max || value.chars().any(char::is_control) {
                return Err(LoginError::InvalidHint);
            }
            *slot = Some(value.into_owned());
        }
        if login.selector.is_some() && login.email.is_some() {
            return Err(LoginError::SeveralSelectors);
        }
        Ok(login)
    }
}

/// `GET /auth/login`: a redirect to WorkOS with a new flow cookie, a confirmation page for a
/// cross-site login that needs one, the sign-in chooser, or a page saying why not: a selector
/// that is not admitted gets a 403 page, with no flow started. `POST` is the confirmation.
///
/// What it signs in with: the query's selector, else the `email`'s domain (through the domain
/// router), else the request's tenant, else the default selector, else the chooser asks.
pub(crate) fn login<B>(core: &Arc<Core>, request: &Request<B>) -> Answer {
    let confirmed = match *request.method() {
        Method::GET | Method::HEAD => false,
        Method::POST if origin::proven_same_origin(&core.config.origin, request.headers()) => true,
        Method::POST => {
            tracing::debug!("login confirmation refused: not a same-origin POST");
            return Answer::Now(response::page(
                StatusCode::FORBIDDEN,
                "Cannot start sign-in",
                "A sign-in can only be confirmed on this site.",
                None,
            ));
        }
        _ => return Answer::Now(response::method_not_allowed("GET")),
    };
    let headers = request.headers();
    let now = core.now();
    let mut login = match LoginQuery::parse(request.uri().query()) {
        Ok(login) => login,
        Err(error) => return Answer::Now(refused(error)),
    };
    // `idp=1` lets the app's `idp_landing` hook pick where the sign-in lands. The layer writes
    // it only into the confirmation page's same-origin POST (a restart it made itself); on a
    // link any site can make it would let that site override `return_to`.
    login.params.idp_initiated &= confirmed;
    login.params.request = Some(crate::flow::RequestLine::of(request));
    if let Some(selector) = &login.selector {
        return Answer::Now(proceed(
            core,
            headers,
            selector,
            login.params,
            confirmed,
            now,
        ));
    }
    if let Some(email) = login.email.take() {
        if core.domains.is_some() {
            return chooser::route_email(core, email, login.params, headers, confirmed);
        }
        login.params.login_hint.get_or_insert(email);
    }
    let selector = core
        .tenant_of(request)
        .map(|tenant| tenant.selector().clone())
        .or_else(|| core.config.default_selector.clone());
    Answer::Now(match selector {
        Some(selector) => proceed(core, headers, &selector, login.params, confirmed, now),
        None if chooser::offered(core) => chooser::page(core, &login.params, None, None),
        None => refused(LoginError::NoSelector),
    })
}

/// The 400 page of a login request that cannot start.
fn refused(error: LoginError) -> Response<OwnBody> {
    tracing::debug!(%error, "login request refused");
    response::page(
        StatusCode::BAD_REQUEST,
        "Cannot start sign-in",
        &error.to_string(),
        None,
    )
}

/// The answer to a protected request without a valid session, fitted to the caller: browsers
/// go to the login with a `return_to` here, APIs get 401, gRPC gets UNAUTHENTICATED.
pub(crate) fn sign_in_required<B>(
    core: &Core,
    request: &Request<B>,
    reason: Reason,
) -> Response<OwnBody> {
    let caller = Caller::of(request.method(), request.headers());
    let mut login = core.config.login_path.clone();
    if caller == Caller::Browser {
        let here = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let mut query = form_urlencoded::Serializer::new(String::new());
        // On a tenant's request the login is the tenant's, whatever its path.
        if let Some(tenant) = request.extensions().get::<Tenant>() {
            let (name, value) = tenant.selector().param();
            query.append_pair(name, value);
        }
        login.push('?');
        login.push_str(&query.append_pair("return_to", here).finish());
    }
    response::unauthenticated(caller, &login, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_query_needs_at_most_one_selector() {
        let one = LoginQuery::parse(Some("organization=org_1&login_hint=a%40b.test")).unwrap();
        assert_eq!(one.selector, Some(Selector::organization("org_1").unwrap()));
        assert_eq!(one.params.login_hint.as_deref(), Some("a@b.test"));
        let refused = |q| LoginQuery::parse(Some(q)).err();
        assert_eq!(
            refused("organization=org_1&connection=conn_1"),
            Some(LoginError::SeveralSelectors)
        );
        assert_eq!(
            refused("organization=org_1&organization=org_2"),
            Some(LoginError::SeveralSelectors)
        );
        assert_eq!(
            refused("organization=nope"),
            Some(LoginError::InvalidSelector)
        );
        for variant in [
            "Organization=org_1",
            "PROVIDER=GoogleOAuth",
            "connectioN=conn_1",
        ] {
            assert_eq!(
                refused(variant),
                Some(LoginError::InvalidSelector),
                "{variant}"
            );
        }
        assert_eq!(
            refused("login_hint=a%0d%0ab"),
            Some(LoginError::InvalidHint)
        );
        let long = format!("return_to=/{}", "a".repeat(MAX_QUERY_LEN));
        assert_eq!(refused(&long), Some(LoginError::QueryTooLong));
        let email = LoginQuery::parse(Some("email=a%40b.test&return_to=%2Fx&idp=1")).unwrap();
        assert_eq!(email.email.as_deref(), Some("a@b.test"));
        assert!(email.selector.is_none() && email.params.idp_initiated);
        assert_eq!(
            refused("email=a%40b.test&organization=org_1"),
            Some(LoginError::SeveralSelectors)
        );
        let long = format!("email={}%40b.test", "a".repeat(MAX_EMAIL_LEN));
        assert_eq!(
            LoginQuery::parse(Some(&long)).unwrap().email.as_deref(),
            Some("")
        );
        let odd = LoginQuery::parse(Some("return_to=%2Fa%0d%0aSet-Cookie:x")).unwrap();
        assert_eq!(odd.params.return_to.as_deref(), Some("/a\r\nSet-Cookie:x"));
    }

    #[test]
    fn login_queries_print_no_email_in_debug() {
        let query = "email=alice%40example.com&login_hint=bob%40example.com&return_to=%2Fx";
        let login = LoginQuery::parse(Some(query)).unwrap();
        let printed = format!("{login:?} {login:#?}");
        assert!(
            !printed.contains("alice") && !printed.contains("bob"),
            "{printed}"
        );
        assert!(
            printed.contains("<redacted>") && printed.contains("/x"),
            "{printed}"
        );
    }
}
