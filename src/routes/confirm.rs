//! Login confirmation against login CSRF: a login another site started does not complete
//! silently when it names anything but the default selector, or when this browser already has
//! a live session (which the login would replace). It stops at a page naming what it signs in
//! with, and goes on only through a same-origin POST from that page.

use http::{HeaderMap, Response, StatusCode};

use super::origin;
use crate::core::Core;
use crate::flow::{LoginParams, safe_return_to};
use crate::pages::{ConfirmPage, Page};
use crate::profile::Profile;
use crate::response::{self, Action, OwnBody};
use crate::selector::Selector;
use crate::session::Presented;

/// Whether a login start must be confirmed here before it goes to WorkOS.
pub(crate) fn required(core: &Core, headers: &HeaderMap, selector: &Selector, now: u64) -> bool {
    origin::is_cross_site(&core.config.origin, headers)
        && (core.config.default_selector.as_ref() != Some(selector)
            || live_user(core, headers, now).is_some())
}

/// The user of the live browser session this request carries, if its cookie verifies.
pub(crate) fn live_user(core: &Core, headers: &HeaderMap, now: u64) -> Option<Profile> {
    match core.sessions.presented(headers) {
        Presented::Cookie(token) => core
            .sessions
            .verify(token, now)
            .ok()
            .map(|verified| verified.claims.profile),
        _ => None,
    }
}

/// The confirmation page: what the login signs in with, who is signed in now, and a button
/// that repeats the login as a same-origin POST.
pub(crate) fn page(
    core: &Core,
    selector: &Selector,
    params: &LoginParams,
    signed_in_as: Option<&Profile>,
) -> Response<OwnBody> {
    let (name, value) = selector.param();
    tracing::info!(
        target: "tower_workos_sso::audit",
        reason = "confirmation_shown",
        selector = name,
        id = value,
        signed_in = signed_in_as.is_some(),
        "a cross-site login waits for confirmation"
    );
    let mut message = format!("Another site sent you here to sign in with the {name} {value}.");
    if let Some(current) = signed_in_as {
        message.push_str(&format!(
            " You are signed in as {}; continuing replaces that session.",
            current.email
        ));
    }
    message.push_str(" Continue only if you meant to.");
    let action = confirm_action(core, selector, params);
    let mut response = response::page(
        StatusCode::OK,
        "Confirm sign-in",
        &message,
        Some(Action {
            href: &action,
            label: "Continue to sign in",
            post: true,
        }),
    );
    response::no_store(&mut response);
    response.extensions_mut().insert(Page::Confirm(ConfirmPage {
        selector: selector.clone(),
        signed_in_as: signed_in_as.map(|current| current.email.to_string()),
        action,
        message,
    }));
    response
}

/// The login URL the confirmation posts to: the same login, rebuilt from its checked parts.
fn confirm_action(core: &Core, selector: &Selector, params: &LoginParams) -> String {
    let (name, value) = selector.param();
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair(name, value);
    if let Some(hint) = &params.login_hint {
        query.append_pair("login_hint", hint);
    }
    if let Some(hint) = &params.domain_hint {
        query.append_pair("domain_hint", hint);
    }
    query.append_pair(
        "return_to",
        &safe_return_to(&core.config, params.return_to.as_deref()),
    );
    if params.idp_initiated {
        query.append_pair("idp", "1");
    }
    format!("{}?{}", core.config.login_path, query.finish())
}
