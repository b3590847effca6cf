//! `GET /auth/callback`: checks the `state` against this browser's flow, exchanges the code,
//! and turns the profile into a session, or explains what went wrong without echoing input.

use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};

use super::login::MAX_QUERY_LEN;
use super::{Answer, confirm};
use crate::client::WorkOsError;
use crate::config::IdpInitiatedLogin;
use crate::core::Core;
use crate::flow::{FlowClaims, FlowLookup, LoginParams};
use crate::profile::Profile;
use crate::response::{self, Action, OwnBody};
use crate::secret::AuthorizationCode;
use crate::selector::Selector;

/// The callback's first, synchronous step.
pub(crate) enum Callback {
    /// Answered at once (an error, or a restarted login).
    Respond(Response<OwnBody>),
    /// A verified flow: the code must be exchanged with WorkOS.
    Exchange(Exchange),
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
    match begin(core, request.uri().query(), request.headers()) {
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
    }
}

/// Checks everything that needs no network: query, state, flow cookie.
pub(crate) fn begin(core: &Core, query: Option<&str>, headers: &HeaderMap) -> Callback {
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
            return respond(match query.connection_id.map(Selector::connection) {
                Some(Ok(connection)) => restart(core, connection, headers, now),
                _ => failed(
                    core,
                    "The sign-in response names no valid connection.",
                    None,
                ),
            });
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
        None | Some(FlowLookup::Missing) => {
            respond(unsolicited(core, query.state.is_some(), headers, now))
        }
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
        Ok(profile) if replaces_unconfirmed(&flow, live_user.as_deref(), &profile) => {
            confirm_replacement(&core, &flow, live_user.as_deref())
        }
        Ok(profile) => {
            let now = core.now();
            match core.sessions.issue(&profile, now) {
                Some((token, claims)) => {
                    tracing::info!(profile_id = %profile.id, connection_id = %profile.connection_id, "signed in through WorkOS");
                    let mut response = response::redirect(StatusCode::SEE_OTHER, flow.return_to());
                    response.headers_mut().append(
                        header::SET_COOKIE,
                        core.sessions.cookie(&token, claims.exp, now),
                    );
                    response
                }
                None => finish_page(
                    StatusCode::BAD_GATEWAY,
                    "Sign-in failed",
                    "Your profile is too large to keep in a session.",
                    None,
                ),
            }
        }
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
fn unsolicited(core: &Core, had_state: bool, headers: &HeaderMap, now: u64) -> Response<OwnBody> {
    let restart_with = match core.config.idp_initiated_login {
        IdpInitiatedLogin::RestartWithDefaultSelector => core.config.default_selector.clone(),
        IdpInitiatedLogin::Reject => None,
    };
    match restart_with {
        // A login this layer started always comes back with a `state`: restart only callbacks
        // without one, so a client that keeps no cookies is restarted at most once.
        Some(selector) if !had_state => restart(core, selector, headers, now),
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

/// A fresh SP-initiated login, started by another site (the identity provider): it needs the
/// same confirmation as any cross-site login.
fn restart(core: &Core, selector: Selector, headers: &HeaderMap, now: u64) -> Response<OwnBody> {
    let params = LoginParams {
        cross_site: true,
        ..LoginParams::default()
    };
    let mut response = if confirm::required(core, headers, &selector, now) {
        let current = confirm::live_user(core, headers, now);
        confirm::page(core, &selector, &params, current.as_ref())
    } else {
        core.flows
            .start(&core.config, &params, &selector, headers, now)
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
        ..LoginParams::default()
    };
    confirm::page(core, &selector, &params, live_user)
}

/// The page for an `?error=` callback: a fixed message per known code, nothing from the query.
fn idp_error(core: &Core, error: &str, flow: Option<&FlowClaims>) -> Response<OwnBody> {
    tracing::info!(
        error = error_code_for_log(error),
        "identity provider returned an error"
    );
    let (status, message) = match error {
        "access_denied" => (
            StatusCode::FORBIDDEN,
            "Sign-in was cancelled or access was denied.",
        ),
        "connection_invalid" | "connection_unlinked" | "connection_strategy_invalid" => (
            StatusCode::BAD_REQUEST,
            "Single sign-on is not set up correctly for this organization. Contact your administrator.",
        ),
        "organization_invalid"
        | "invalid_connection_selector"
        | "ambiguous_connection_selector" => (
            StatusCode::BAD_REQUEST,
            "No single sign-on connection was found for this organization.",
        ),
        "server_error" | "oauth_failed" => (
            StatusCode::BAD_GATEWAY,
            "The identity provider could not complete the sign-in. Please try again.",
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            "The identity provider could not sign you in.",
        ),
    };
    finish_page(
        status,
        "Sign-in failed",
        message,
        Some(&retry_link(core, flow)),
    )
}

fn exchange_failed(core: &Core, error: &WorkOsError, flow: &FlowClaims) -> Response<OwnBody> {
    tracing::warn!(?error, "WorkOS code exchange failed");
    let retry = retry_link(core, Some(flow));
    let (status, message) = match error {
        WorkOsError::InvalidGrant => return expired(core, Some(flow)),
        WorkOsError::Rejected { .. } => (
            StatusCode::BAD_GATEWAY,
            "The sign-in service refused this application's credentials.",
        ),
        WorkOsError::RateLimited { retry_after } => {
            let mut response = finish_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is busy",
                "Too many sign-ins right now. Please try again in a moment.",
                Some(&retry),
            );
            let seconds = retry_after.unwrap_or(5).clamp(1, MAX_RETRY_AFTER);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
        WorkOsError::ServerError { .. } | WorkOsError::BadResponse(_) => (
            StatusCode::BAD_GATEWAY,
            "The sign-in service had a problem. Please try again.",
        ),
        WorkOsError::Unreachable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The sign-in service cannot be reached right now. Please try again.",
        ),
        WorkOsError::Timeout => (
            StatusCode::GATEWAY_TIMEOUT,
            "The sign-in service did not answer in time. Please try again.",
        ),
    };
    finish_page(status, "Sign-in failed", message, Some(&retry))
}

/// Too many code exchanges under way: answered at once, the flow kept for a retry.
fn busy() -> Response<OwnBody> {
    tracing::warn!(
        target: "tower_workos_sso::audit",
        reason = "exchanges_capped",
        "too many sign-ins at once; callback refused"
    );
    let mut response = finish_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in is busy",
        "Too many sign-ins right now. Please reload this page in a moment.",
        None,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The longest `Retry-After` passed on to browsers, whatever WorkOS asked for.
const MAX_RETRY_AFTER: u64 = 60;

fn expired(core: &Core, flow: Option<&FlowClaims>) -> Response<OwnBody> {
    finish_page(
        StatusCode::BAD_REQUEST,
        "Login expired",
        "This sign-in took too long or was already used. Please sign in again.",
        Some(&retry_link(core, flow)),
    )
}

fn failed(core: &Core, message: &str, flow: Option<&FlowClaims>) -> Response<OwnBody> {
    finish_page(
        StatusCode::BAD_REQUEST,
        "Sign-in failed",
        message,
        Some(&retry_link(core, flow)),
    )
}

fn finish_page(
    status: StatusCode,
    title: &str,
    message: &str,
    retry: Option<&str>,
) -> Response<OwnBody> {
    let action = retry.map(|href| Action {
        href,
        label: "Sign in again",
        post: false,
    });
    let mut response = response::page(status, title, message, action);
    private(&mut response);
    response
}

/// The login link that starts the same kind of login again, back to the same place.
fn retry_link(core: &Core, flow: Option<&FlowClaims>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(flow) = flow {
        if let Some(selector) = flow.selector() {
            let (name, value) = selector.param();
            query.append_pair(name, value);
        }
        query.append_pair("return_to", flow.return_to());
    }
    let query = query.finish();
    if query.is_empty() {
        core.config.login_path.clone()
    } else {
        format!("{}?{query}", core.config.login_path)
    }
}

/// The callback URL holds a code: keep it out of caches and `Referer` headers.
pub(crate) fn private(response: &mut Response<OwnBody>) {
    response::no_store(response);
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

fn error_code_for_log(error: &str) -> &str {
    let well_formed =
        error.len() <= 64 && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if well_formed { error } else { "<malformed>" }
}
