//! The routes the layer answers itself, one file each: login (with its chooser, and `start`,
//! where both begin a login), callback, logout, session.

pub(crate) mod callback;
mod chooser;
mod confirm;
mod idp_logout;
pub(crate) mod login;
pub(crate) mod logout;
mod origin;
mod session;
mod start;
pub(crate) mod step_up;
mod webhook;

use std::future::Future;
use std::sync::Arc;

use http::{Request, Response};

use crate::core::{Core, Route};
use crate::pages::{Page, Pages};
use crate::response::OwnBody;
use crate::store::BoxFuture;

/// A route's answer: known at once, or after a call to WorkOS or the store.
pub(crate) enum Answer {
    Now(Response<OwnBody>),
    Later(BoxFuture<'static, Response<OwnBody>>),
}

impl Answer {
    pub(crate) fn later(future: impl Future<Output = Response<OwnBody>> + Send + 'static) -> Self {
        Answer::Later(Box::pin(future))
    }
}

/// Answers a request to one of the SSO routes, in a `tracing` span named after the route
/// (`sso.login`, `sso.callback`, `sso.logout`, `sso.session`, `sso.webhook`).
pub(crate) fn answer<B: Send + 'static>(
    core: &Arc<Core>,
    route: Route,
    request: Request<B>,
) -> Answer {
    let span = match route {
        Route::Login => tracing::info_span!("sso.login"),
        Route::Callback => tracing::info_span!("sso.callback"),
        Route::Logout => tracing::info_span!("sso.logout"),
        Route::Session => tracing::info_span!("sso.session"),
        Route::Webhook => tracing::info_span!("sso.webhook"),
    };
    let answer = span.in_scope(|| match route {
        Route::Login => login::login(core, &request),
        Route::Callback => callback::callback(core, &request),
        Route::Logout => logout::logout(core, &request),
        Route::Session => session::session(core, &request),
        Route::Webhook => webhook::receive(core, request),
    });
    let answer = match answer {
        Answer::Later(future) => Answer::later(tracing::Instrument::instrument(future, span)),
        now => now,
    };
    match core.pages.clone() {
        None => answer,
        Some(pages) => match answer {
            Answer::Now(response) => Answer::Now(rendered(pages.as_ref(), response)),
            Answer::Later(future) => {
                Answer::later(async move { rendered(pages.as_ref(), future.await) })
            }
        },
    }
}

/// `response` with the app's own HTML if it is a page the app renders (the guards' 403 page).
pub(crate) fn with_pages(core: &Core, response: Response<OwnBody>) -> Response<OwnBody> {
    match &core.pages {
        Some(pages) => rendered(pages.as_ref(), response),
        None => response,
    }
}

/// The app's own HTML for a page the layer is about to send, if it renders one; status and
/// headers stay the layer's.
fn rendered(pages: &dyn Pages, mut response: Response<OwnBody>) -> Response<OwnBody> {
    let Some(page) = response.extensions_mut().remove::<Page>() else {
        return response;
    };
    if let Some(html) = pages.render(&page) {
        *response.body_mut() = OwnBody::from(html);
        response.headers_mut().remove(http::header::CONTENT_LENGTH);
    }
    response
}
