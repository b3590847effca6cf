//! Starting a login for a selector, whichever route asked (the login route, the chooser):
//! refused if the app does not admit it, stopped at the confirmation where another site
//! started it, else the redirect to WorkOS with a new flow.

use http::{HeaderMap, Response, StatusCode};

use super::{confirm, origin};
use crate::admission::{self, AuditIds, Refusal};
use crate::core::Core;
use crate::flow::LoginParams;
use crate::response::{self, OwnBody};
use crate::selector::Selector;

/// A login start for `selector`: refused if not admitted, stopped at the confirmation if
/// another site started it and it needs one, else the redirect to WorkOS.
pub(crate) fn proceed(
    core: &Core,
    headers: &HeaderMap,
    selector: &Selector,
    mut params: LoginParams,
    confirmed: bool,
    now: u64,
) -> Response<OwnBody> {
    if !core.admission.admits(selector) {
        return not_admitted(selector);
    }
    if !confirmed && confirm::required(core, headers, selector, now) {
        let current = confirm::live_user(core, headers, now);
        return confirm::page(core, selector, &params, current.as_ref());
    }
    params.cross_site = !confirmed && origin::is_cross_site(&core.config.origin, headers);
    core.flows
        .start(&core.config, &params, selector, headers, now)
}

/// The page for a login (or a restart) naming an organization, connection or provider this app
/// does not admit: fixed text, nothing of the request, and an audit event.
pub(crate) fn not_admitted(selector: &Selector) -> Response<OwnBody> {
    admission::audit(Refusal::NotAdmitted, None, AuditIds::of_selector(selector));
    let mut response = response::page(
        StatusCode::FORBIDDEN,
        "Sign-in not available",
        "This application does not accept sign-ins through that organization, connection or provider.",
        None,
    );
    response::no_store(&mut response);
    response
}
