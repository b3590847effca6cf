//! The routes the layer answers itself, one file each: login, callback, logout.

pub(crate) mod callback;
mod confirm;
mod idp_logout;
pub(crate) mod login;
pub(crate) mod logout;
mod origin;
pub(crate) mod step_up;

use std::future::Future;
use std::sync::Arc;

use http::{Request, Response};

use crate::core::{Core, Route};
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

/// Answers a request to one of the SSO routes.
pub(crate) fn answer<B>(core: &Arc<Core>, route: Route, request: &Request<B>) -> Answer {
    match route {
        Route::Login => Answer::Now(login::login(core, request)),
        Route::Callback => callback::callback(core, request),
        Route::Logout => logout::logout(core, request),
    }
}
