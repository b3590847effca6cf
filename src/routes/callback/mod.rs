//! `GET /auth/callback`: checks the `state` against this browser's flow, exchanges the code,
//! admits the profile (`admit.rs`) and turns it into a session, or explains what went wrong
//! without echoing input (`pages.rs`).

mod admit;
mod pages;

use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};

pub(crate) use pages::private;
use pages::{busy, exchange_failed, expired, failed, finish_page, idp_error, refused};

use super::login::MAX_QUERY_LEN;
use super::start::not_admitted;
use super::{Answer, confirm};
use crate::config::IdpInitiatedLogin;
use crate::core::Core;
use crate::flow::{FlowClaims, FlowLookup, LoginParams, safe_return_to};
use crate::profile::Profile;
use crate::response::{self, OwnBody};
use crate::secret::AuthorizationCode;
use crate::selector::Selector;
use crate::tenant::Tenant;

/// The callback's first, synchronous step.
pub(crate) enum Callback {
    /// Answered at once (an error, or a restarted login).
    Respond(Response<OwnBody>),
    /// A verified flow: the code must be exchanged with WorkOS.
    Exchange(Exchange),
    /// An `idp_initiated_sso_disabled` restart for a connection not admitted by its id: it is
    /// restarted if WorkOS says it is an active connection of an admitted organization.
    LookUp(Box<LookUp>),
}

/// A restart waiting for the organization of its connection.
pub(crate) struct LookUp {
    connection: Selector,
    headers: HeaderMap,
    /// Clears the flow cookie the callback found stale, if it found one.
    stale_cookie: Option<HeaderValue>,
}

/// A code to exchange, with the flow it belongs to.
pub(crate) struct Exchange {
    code: AuthorizationCode,
    flow: Box<FlowClaims>,
    flow_cookie: String,
    /// Who this browser is signed in as now, if anyone: a login must not silently replace
    /// another user's session.
    live_user: Option<Box<Profile>>,
}

/// What the callback URL carried. Repeated parameters make it malformed.
#[derive(Default)]
pub(crate) struct CallbackQuery {
    pub(crate) code: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) connection_id: Option<String>,
}

impl CallbackQuery {
    pub(crate) fn parse(query: Option<&str>) -> Option<Self> {
        let query = query.unwrap_or("");
        if query.len() > MAX_QUERY_LEN {
            return None;
        }
        let mut parsed = CallbackQuery::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match &*name {
                "code" => &mut parsed.code,
                "state" => &mut parsed.state,
                "error" => &mut parsed.error,
                "connection_id" => &mut parsed.connection_id,
                // error_description is attacker-controllable text: never read, never shown.
                _ => continue,
            };
            if slot.is_some() || value.len() > 2048 || !value.bytes().all(|b| b.is_ascii_graphic())
            {
                return None;
            }
            *slot = Some(value.into_owned());
        }
        Some(parsed)
    }
}

/// `GET /auth/callback`: answered at once, or after the code exchange.
pub(crate) fn callback<B>(core: &Arc<Core>, request: &Request<B>) -> Answer {
    if request.method() != Method::GET {
        let mut refused = response::method_not_allowed("GET");
        private(&mut refused);
        return Answer::Now(refused);
    }
    let tenant = match core.config.idp_initiated_login {
        IdpInitiatedLogin::RestartWithTenant => core.tenant_of(request),
        _ => None,
    };
    match begin_for(core, request.uri().query(), request.headers(), tenant) {
        Callback::Respond(response) => Answer::Now(response),
        Callback::Exchange(exchange) => match core.exchanges.try_take() {
            Some(slot) => {
                let core = core.clone();
                Answer::later(async move {
                    let response = finish(core, exchange).await;
                    drop(slot);
                    response
                })
            }
            None => Answer::Now(busy()),
        },
        Callback::LookUp(pending) => {
            let core = core.clone();
            Answer::later(async move { restart_for_owner(&core, *pending).await })
        }
    }
}

/// Checks everything that needs no network: query, state, flow cookie (the fuzz targets' entry).
#[cfg(fuzzing)]
pub(crate) fn begin(core: &Core, query: Option<&str>, headers: &HeaderMap) -> Callback {
    begin_for(core, query, headers, None)
}

/// Checks everything that needs no network: query, state, flow cookie; `tenant` is the
/// callback request's when `RestartWithTenant` is configured.
fn begin_for(
    core: &Core,
    query: Option<&str>,
    headers: &HeaderMap,
    tenant: Option<Tenant>,
) -> Callback {
    let now = core.now();
    let Some(query) = CallbackQuery::parse(query) else {
        return Callback::Respond(failed(core, "The sign-in response is malformed.", None));
    };
    let lookup = query
        .state
        .as_deref()
        .map(|state| core.flows.find(headers, state, now));
    let stale_cookie = match &lookup {
        Some(
            FlowLookup::Found { cookie, .. }
            | FlowLookup::Expired { cookie }
            | FlowLookup::Invalid { cookie },
        ) => Some(core.flows.clear(cookie)),
        _ => None,
    };
    let respond = |mut response: Response<OwnBody>| {
        if let Some(clear) = &stale_cookie {
            response
                .headers_mut()
                .append(header::SET_COOKIE, clear.clone());
        }
        Callback::Respond(response)
    };

    if let Some(error) = &query.error {
        let own_flow = matches!(lookup, Some(FlowLookup::Found { .. }));
        if error == "idp_initiated_sso_disabled" && !own_flow {
            // WorkOS asks for an SP-initiated login for this connection; our own flows never
            // get this answer, so restarting cannot loop.
            return match query.connection_id.map(Selector::connection) {
                Some(Ok(connection)) if core.admission.admits(&connection) => {
                    respond(restart(core, &connection, None, headers, now))
                }
                // Admitted through its organization, maybe: WorkOS says whose it is.
                Some(Ok(connection)) if core.admission.admits_some_organization() => {
                    Callback::LookUp(Box::new(LookUp {
                        connection,
                        headers: headers.clone(),
                        stale_cookie,
                    }))
                }
                Some(Ok(connection)) => respond(refused_restart(&connection)),
                _ => respond(failed(
                    core,
                    "The sign-in response names no valid connection.",
                    None,
                )),
            };
        }
        let flow = match lookup {
            Some(FlowLookup::Found { claims, .. }) => Some(claims),
            _ => None,
        };
        return respond(idp_error(core, error, flow.as_deref()));
    }

    let Some(code) = query.code.filter(|c| c.len() <= 1024) else {
        return respond(failed(core, "The sign-in response is incomplete.", None));
    };
    match lookup {
        None | Some(FlowLookup::Missing) => respond(unsolicited(
            core,
            query.state.is_some(),
            headers,
            now,
            tenant,
        )),
        Some(FlowLookup::Expired { .. }) => respond(expired(core, None)),
        Some(FlowLookup::Invalid { .. }) => respond(failed(
            core,
            "This sign-in could not be verified. Please start again.",
            None,
        )),
        Some(FlowLookup::Found { claims, cookie }) => Callback::Exchange(Exchange {
            code: AuthorizationCode::new(code),
            flow: claims,
            flow_cookie: cookie,
            live_user: confirm::live_user(core, headers, now).map(Box::new),
        }),
    }
}

/// Exchanges the code and issues the session.
pub(crate) async fn finish(core: Arc<Core>, exchange: Exchange) -> Response<OwnBody> {
    let Exchange {
        code,
        flow,
        flow_cookie,
        live_user,
    } = exchange;
    // A flow is used once: its first callback consumes it, so a replayed flow cookie (with the
    // code or with junk) never reaches WorkOS again.
    match core
        .revocations
        .consume_login_state(&flow.store_id(), flow.expires_at())
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            crate::telemetry::login_refused("flow_replayed");
            tracing::info!(
                target: "tower_workos_sso::audit",
                reason = "flow_replayed",
                "a login flow was presented again after its first callback"
            );
            let mut response = expired(&core, None);
            response
                .headers_mut()
                .append(header::SET_COOKIE, core.flows.clear(&flow_cookie));
            return response;
        }
        Err(error) => {
            crate::telemetry::login_refused("store_unavailable");
            crate::telemetry::store_error("login_state");
            tracing::error!(%error, "login state store unavailable; callback refused");
            return finish_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable",
                "Sign-in cannot be completed right now. Please try again in a moment.",
                None,
            );
        }
    }
    let result = core.client.exchange_code(&code, &flow.verifier()).await;
    let mut response = match result {
        Ok(exchanged) => match admit::admit(&core, &flow, exchanged).await {
            Ok((_, claims))
                if replaces_unconfirmed(&flow, live_user.as_deref(), &claims.profile) =>
            {
                confirm_replacement(&core, &flow, live_user.as_deref())
            }
            Ok((token, claims)) => {
                crate::telemetry::login_completed();
                tracing::info!(profile_id = %claims.profile.id, connection_id = %claims.profile.connection_id, "signed in through WorkOS");
                let landing = landing(&core, &flow, &claims.profile);
                let mut response = response::redirect(StatusCode::SEE_OTHER, &landing);
                response.headers_mut().append(
                    header::SET_COOKIE,
                    core.sessions.cookie(&token, claims.exp, claims.iat),
                );
                response
            }
            Err((refusal, reason)) => refused(&core, refusal, reason.as_deref(), &flow),
        },
        Err(error) => exchange_failed(core.as_ref(), &error, &flow),
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, core.flows.clear(&flow_cookie));
    private(&mut response);
    response
}

/// A code with no flow of this browser behind it: IdP-initiated, forged, replayed, or from
/// another browser. Never exchanged; restarted as SP-initiated only where configured.
fn unsolicited(
    core: &Core,
    had_state: bool,
    headers: &HeaderMap,
    now: u64,
    tenant: Option<Tenant>,
) -> Response<OwnBody> {
    let restart_with = match core.config.idp_initiated_login {
        IdpInitiatedLogin::RestartWithDefaultSelector => core.config.default_selector.clone(),
        IdpInitiatedLogin::RestartWithTenant => tenant.map(|t| t.selector().clone()),
        IdpInitiatedLogin::Reject => None,
    };
    match restart_with {
        // The tenant's selector must be admitted like any other.
        Some(selector) if !had_state && !core.admission.admits(&selector) => {
            let mut refused = not_admitted(&selector);
            private(&mut refused);
            refused
        }
        // A login this layer started always comes back with a `state`: restart only callbacks
        // without one, so a client that keeps no cookies is restarted at most once.
        Some(selector) if !had_state => restart(core, &selector, None, headers, now),
        _ => {
            tracing::info!(
                had_state,
                "callback without a login flow from this browser refused"
            );
            failed(
                core,
                "This sign-in was not started here, was already used, or has expired.",
                None,
            )
        }
    }
}

/// The restart of a connection admitted only if its organization is: WorkOS says whose it is
/// (cached, bounded, with a deadline). An unknown or inactive connection, or one of an
/// organization not admitted, gets the 403 page; no answer from WorkOS, a 503.
async fn restart_for_owner(core: &Core, pending: LookUp) -> Response<OwnBody> {
    let LookUp {
        connection,
        headers,
        stale_cookie,
    } = pending;
    let id = connection.connection_id().unwrap_or_default();
    let mut response = match core.owners.organization_of(&core.client, id).await {
        Ok(Some(organization)) if core.admission.admits(&organization) => {
            restart(core, &connection, Some(&organization), &headers, core.now())
        }
        Ok(_) => refused_restart(&connection),
        // Busy, timed out or failed: logged where it happened.
        Err(_) => {
            crate::telemetry::login_refused("lookup_failed");
            let mut page = finish_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable",
                "Sign-in cannot be started right now. Please try again in a moment.",
                None,
            );
            private(&mut page);
            page
        }
    };
    if let Some(clear) = stale_cookie {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    response
}

/// The 403 page of a restart for a connection this app does not admit.
fn refused_restart(connection: &Selector) -> Response<OwnBody> {
    let mut refused = not_admitted(connection);
    private(&mut refused);
    refused
}

/// A fresh SP-initiated login for `connection` (admitted, or a connection of the admitted
/// `organization`), started by another site (the identity provider): it needs the same
/// confirmation as any cross-site login, except for a connection of the default organization,
/// which is as good as the default selector. A confirmed restart through an organization signs
/// in with that organization, the selector the confirmation page names.
fn restart(
    core: &Core,
    connection: &Selector,
    organization: Option<&Selector>,
    headers: &HeaderMap,
    now: u64,
) -> Response<OwnBody> {
    let params = LoginParams {
        cross_site: true,
        idp_initiated: true,
        ..LoginParams::default()
    };
    let confirm_as = match organization {
        Some(organization) if !confirm::required(core, headers, organization, now) => None,
        Some(organization) => Some(organization),
        None => Some(connection).filter(|c| confirm::required(core, headers, c, now)),
    };
    let mut response = match confirm_as {
        Some(selector) => {
            let current = confirm::live_user(core, headers, now);
            confirm::page(core, selector, &params, current.as_ref())
        }
        None => core
            .flows
            .start(&core.config, &params, connection, headers, now),
    };
    private(&mut response);
    response
}

/// Whether signing `profile` in would replace another user's live session in a login that
/// another site started and nobody confirmed.
fn replaces_unconfirmed(flow: &FlowClaims, live_user: Option<&Profile>, profile: &Profile) -> bool {
    let replaces = live_user.is_some_and(|current| current.id != profile.id);
    if replaces && !flow.cross_site() {
        tracing::info!(
            target: "tower_workos_sso::audit",
            reason = "session_replaced",
            previous_profile_id = %live_user.map_or("", |p| p.id.as_str()),
            profile_id = %profile.id,
            "a sign-in replaced another user's session"
        );
    }
    replaces && flow.cross_site()
}

/// The callback of an unconfirmed cross-site login that would replace another user's session:
/// no session; the same login again, once the user confirms it here.
fn confirm_replacement(
    core: &Core,
    flow: &FlowClaims,
    live_user: Option<&Profile>,
) -> Response<OwnBody> {
    let Some(selector) = flow.selector() else {
        return failed(core, "This sign-in could not be completed.", None);
    };
    let params = LoginParams {
        return_to: Some(flow.return_to().to_owned()),
        idp_initiated: flow.idp_initiated(),
        ..LoginParams::default()
    };
    confirm::page(core, &selector, &params, live_user)
}

/// Where a sign-in lands: the flow's `return_to`, or for a restarted IdP-initiated sign-in
/// what the app's `idp_landing` hook picks from the profile (made safe like any `return_to`).
fn landing(core: &Core, flow: &FlowClaims, profile: &Profile) -> String {
    let hook = core.config.tenancy.landing.as_ref();
    match hook
        .filter(|_| flow.idp_initiated())
        .and_then(|hook| hook(profile))
    {
        Some(path) => safe_return_to(&core.config, Some(&path)).into_owned(),
        None => flow.return_to().to_owned(),
    }
}
