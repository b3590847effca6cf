//! The crate's fake WorkOS on its own thread, and a browser's sign-in through it: the only way
//! to a browser session (tokens minted with `SsoLayer::issue_session_token` are bearer tokens,
//! refused as cookies), and the callback scenario.
//!
//! The fake runs on a runtime of its own, on another thread, as WorkOS runs on other machines:
//! its work is not the crate's, so neither the timings nor the allocation counts (which count
//! only the measuring thread) should carry it. What the callback does is timed whole: checking
//! the state and flow cookie, the code exchange with the fake over loopback HTTP through the
//! layer's pooled client, and issuing the session.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use tokio::sync::oneshot;
use tower_workos_sso::testkit::MockWorkOs;
use tower_workos_sso::{SsoConfigBuilder, SsoLayer};

use crate::{Expect, browser_headers, request, send, set_cookie_pair};

/// `testkit::MockWorkOs` serving on its own thread until dropped.
pub struct FakeWorkOs {
    pub base_url: String,
    pub client_id: String,
    pub api_key: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeWorkOs {
    /// Starts the fake (default seed) on a new thread with a current-thread runtime.
    pub fn start() -> FakeWorkOs {
        let (ready, started) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fake-workos".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                runtime.block_on(async move {
                    let fake = MockWorkOs::start().await.expect("the fake WorkOS starts");
                    let about = (
                        fake.base_url(),
                        fake.client_id().to_owned(),
                        fake.api_key().to_owned(),
                    );
                    ready.send(about).expect("the starter waits");
                    let _ = stopped.await;
                    drop(fake);
                });
            })
            .expect("a thread");
        let (base_url, client_id, api_key) = started.recv().expect("the fake started");
        FakeWorkOs {
            base_url,
            client_id,
            api_key,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The benchmark configuration pointed at this fake.
    pub fn config(&self, now: SystemTime) -> SsoConfigBuilder {
        crate::config(now)
            .api_key(self.api_key.clone())
            .client_id(self.client_id.clone())
            .api_base_url(self.base_url.clone())
    }
}

impl Drop for FakeWorkOs {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The fake WorkOS and a client that plays the browser's visit to it: signs browsers in
/// through an app behind a layer configured with [`Fake::config`].
pub struct Fake {
    workos: FakeWorkOs,
    /// Plays the browser at the fake's authorize endpoint (never timed).
    browser: reqwest::Client,
}

impl Fake {
    /// Starts the fake on its own thread.
    pub fn start() -> Fake {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client");
        Fake {
            workos: FakeWorkOs::start(),
            browser,
        }
    }

    /// The benchmark configuration pointed at the fake, with a clock that stands still at
    /// `now`.
    pub fn config(&self, now: SystemTime) -> SsoConfigBuilder {
        self.workos.config(now)
    }

    /// Signs a new browser in up to the callback through `app`: `GET /auth/login` with
    /// `login_hint` (in process), then the fake's authorize endpoint, which answers with a code
    /// at once for a seeded user. Returns the request the browser then sends to
    /// `/auth/callback`, with the flow cookie among its 8 others.
    pub async fn callback_request(&self, app: &Router) -> Request<Body> {
        let login = request(
            Method::GET,
            "/auth/login?login_hint=alice%40example.com&return_to=%2Fapp",
            &browser_headers(&[]),
        );
        let login = send(app.clone(), login).await;
        assert_eq!(login.status(), StatusCode::FOUND, "login: status");
        let (flow_name, flow_value) = set_cookie_pair(login.headers()).expect("a flow cookie");
        let authorize = location(login.headers());

        let back = self
            .browser
            .get(&authorize)
            .send()
            .await
            .expect("the fake answers");
        assert_eq!(back.status(), StatusCode::FOUND, "authorize: status");
        let callback: Uri = location(back.headers()).parse().expect("a callback URL");
        let path = callback.path_and_query().expect("a path").as_str();
        assert!(path.starts_with("/auth/callback?code="), "callback: {path}");

        let mut headers = browser_headers(&[(&flow_name, &flow_value)]);
        // Back from WorkOS: a cross-site navigation.
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        request(Method::GET, path, &headers)
    }

    /// A whole sign-in of alice@example.com through `app`: the value of the session cookie the
    /// callback sets. The only way to a browser session (minted tokens are bearer tokens).
    pub async fn sign_in(&self, app: &Router) -> String {
        let callback = self.callback_request(app).await;
        let response = send(app.clone(), callback).await;
        CALLBACK_OK.assert("sign-in", "callback", &response);
        let (name, value) = set_cookie_pair(response.headers()).expect("a session cookie");
        assert_eq!(name, crate::SESSION_COOKIE, "sign-in: the session cookie");
        value
    }

    /// [`sign_in`](Self::sign_in) on a runtime of its own, from outside any runtime.
    pub fn sign_in_blocking(&self, app: &Router) -> String {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(self.sign_in(app))
    }
}

/// The callback scenario's apps, and the fake they sign in with.
pub struct Callback {
    pub bare: Router,
    pub sso: Router,
    fake: Fake,
}

/// What the layer answers a good callback: 303 to `return_to` with the session cookie.
pub const CALLBACK_OK: Expect = Expect::status(StatusCode::SEE_OTHER, true);

/// What the bare app answers the same request: its fallback's 404.
pub const CALLBACK_BARE: Expect = Expect::status(StatusCode::NOT_FOUND, false);

impl Callback {
    /// Starts the fake and builds both apps.
    pub fn start() -> Callback {
        let fake = Fake::start();
        // The real clock: the fake checks code lifetimes with it.
        let config = fake.config(SystemTime::now()).clock(SystemTime::now);
        let layer = SsoLayer::new(config.build().expect("a valid configuration"));
        Callback {
            bare: crate::bare(),
            sso: crate::with_sso(layer),
            fake,
        }
    }

    /// A new browser's request to `/auth/callback` with a fresh code (see
    /// [`Fake::callback_request`]); call it on the runtime that times the callbacks, so the
    /// layer's pooled client keeps its connection.
    pub async fn prepare(&self) -> Request<Body> {
        self.fake.callback_request(&self.sso).await
    }

    /// One prepared request to each app, checked.
    pub async fn check(&self) {
        let response = send(self.bare.clone(), self.prepare().await).await;
        CALLBACK_BARE.assert("callback", "bare", &response);
        let response = send(self.sso.clone(), self.prepare().await).await;
        CALLBACK_OK.assert("callback", "sso", &response);
        assert_eq!(location(response.headers()), "/app", "callback: return_to");
    }
}

fn location(headers: &http::HeaderMap) -> String {
    headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a Location")
        .to_owned()
}
