//! Step-up re-authentication: a signed-in browser whose sign-in is older than a guard allows is
//! sent straight back through WorkOS with `prompt=login` (the IdP asks for credentials again),
//! for the session's own organization (or connection, or provider), and returns to the same
//! page. The fresh sign-in gets a new `authenticated_at`, so the guard then lets it through.
//! API and gRPC callers get a 401 (gRPC 16) saying why.
//!
//! The sensitive action is usually a form `POST`, which the general sign-in answer counts as an
//! API call. Here a browser navigation of any method restarts the sign-in: a `303`, so the
//! browser GETs WorkOS, and back to the page the form was on (its same-origin `Referer`), since
//! the form's target may not answer `GET`. The form's body is not kept: the user submits again.

use std::time::Duration;

use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, header};

use super::origin;
use super::start::not_admitted;
use crate::config::Prompt;
use crate::core::Core;
use crate::flow::{LoginParams, RequestLine};
use crate::profile::Profile;
use crate::response::{self, Caller, OwnBody};
use crate::selector::Selector;

/// The answer to a signed-in caller whose sign-in is older than `max_age`.
pub(crate) fn reauthenticate<B>(
    core: &Core,
    request: &Request<B>,
    max_age: Duration,
) -> Response<OwnBody> {
    let headers = request.headers();
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    // A navigation of any method: the headers say browser as they would for a GET.
    let caller = match Caller::of(request.method(), headers) {
        Caller::Api if !reading && Caller::of(&Method::GET, headers) == Caller::Browser => {
            Caller::Browser
        }
        caller => caller,
    };
    if caller != Caller::Browser {
        return response::reauthentication_required(caller, max_age.as_secs());
    }
    let Some(profile) = request.extensions().get::<Profile>() else {
        return response::reauthentication_required(Caller::Api, max_age.as_secs());
    };
    let candidates = own_selectors(profile);
    let Some(selector) = candidates.iter().find(|s| core.admission.admits(s)) else {
        // The session's own organization is no longer admitted: no flow, a 403 page.
        return match candidates.first() {
            Some(selector) => not_admitted(selector),
            None => response::forbidden(caller),
        };
    };
    let return_to = if reading {
        request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
    } else {
        form_page(&core.config.origin, headers)
    };
    let params = LoginParams {
        // Made safe by the flow; none is the configured default.
        return_to,
        prompt: Some(Prompt::Login),
        // The same user, pre-filled at the IdP (checked as a login's own hint would be).
        login_hint: Some(profile.email.to_string())
            .filter(|email| email.len() <= 320 && !email.chars().any(char::is_control)),
        // As any login another site starts: its callback may not replace another user's session.
        cross_site: origin::is_cross_site(&core.config.origin, headers),
        // The guarded request is what the app's per-login hook sees.
        request: Some(RequestLine::of(request)),
        ..LoginParams::default()
    };
    tracing::debug!(
        max_age = max_age.as_secs(),
        "step-up: sign-in too old, re-authenticating"
    );
    let mut restart = core
        .flows
        .start(&core.config, &params, selector, headers, core.now());
    // A form's POST: the browser must follow with a GET.
    if !reading && restart.status() == StatusCode::FOUND {
        *restart.status_mut() = StatusCode::SEE_OTHER;
    }
    restart
}

/// The page a form was posted from: the `Referer`'s path and query when it is a URL of this
/// app's own origin (the flow then checks it as any `return_to`).
fn form_page(origin: &str, headers: &HeaderMap) -> Option<String> {
    let referer: Uri = headers.get(header::REFERER)?.to_str().ok()?.parse().ok()?;
    let (scheme, authority) = (referer.scheme_str()?, referer.authority()?);
    let from = format!("{scheme}://{}", authority.as_str());
    if !from.eq_ignore_ascii_case(origin) {
        return None;
    }
    referer.path_and_query().map(|pq| pq.as_str().to_owned())
}

/// Where the session's user signed in, most specific last: their organization, their
/// connection, their OAuth provider. The first the app admits is used.
fn own_selectors(profile: &Profile) -> Vec<Selector> {
    let mut selectors = Vec::new();
    if let Some(org) = profile.organization_id.as_deref() {
        selectors.extend(Selector::organization(org).ok());
    }
    if !profile.connection_id.is_empty() {
        selectors.extend(Selector::connection(profile.connection_id.as_str()).ok());
    }
    if !profile.connection_type.is_empty() {
        selectors.extend(Selector::provider(profile.connection_type.as_str()).ok());
    }
    selectors
}
