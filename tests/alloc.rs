//! The layer adds no heap allocation to an anonymous request on a public or optional path, nor to
//! a signed-in one on a public path (where no session is read), counted by a
//! counting global allocator (deterministic, unlike a timing). A binary of its own: the
//! allocator is global.
//!
//! The app is a plain Tower service (no framework), so every allocation counted is the layer's
//! or the app's own, and the same request is counted with and without the layer. The layer
//! answers in the app's body type, so under axum the router boxes no body for it either
//! (BENCHMARKS.md).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, header};
use http_body_util::Full;
use tower::{Service, ServiceExt, service_fn};
use tower_workos_sso::{Profile, SsoConfig, SsoLayer};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the count is a
// thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many allocations `f` makes on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (ALLOCATIONS.with(Cell::get) - before, out)
}

/// Polls a future that needs no I/O to its end, with no runtime (which would allocate itself).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the request needed I/O"),
    }
}

/// The app: a constant page, as a service function.
fn app() -> impl Service<
    Request<()>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, Infallible>>,
> + Clone {
    service_fn(|_: Request<()>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"public page"))))
    })
}

/// The layer, with `/public` listed as a public path or (`optional`) as an optional one.
fn layer(optional: bool) -> SsoLayer {
    let builder = SsoConfig::builder()
        .api_key("sk_test_alloc")
        .client_id("client_alloc")
        .redirect_uri("https://app.example.test/auth/callback")
        .session_secret(vec![7u8; 32])
        .default_selector(tower_workos_sso::Selector::organization("org_1").unwrap());
    let builder = match optional {
        true => builder.optional_paths(["/public"]),
        false => builder.public_paths(["/public"]),
    };
    SsoLayer::new(builder.build().unwrap())
}

/// What a browser sends to a public page: its usual headers and eight site cookies, with or
/// without the session cookie among them.
fn browser_request(session: Option<&str>) -> Request<()> {
    let mut cookies = vec![
        "_ga=GA1.1.1234567890.1700000000".to_owned(),
        "_gid=GA1.1.987654321.1700000000".to_owned(),
        "consent=analytics%3Dyes%2Cads%3Dno".to_owned(),
        "theme=dark".to_owned(),
        "csrftoken=5f2b8c0e9a7d4b1c8e6f3a2d".to_owned(),
        "lang=en-GB".to_owned(),
        "intercom-id=3c1d2e4f-5a6b-7c8d-9e0f".to_owned(),
        "recently_viewed=p12%2Cp98%2Cp7".to_owned(),
    ];
    if let Some(token) = session {
        cookies.insert(4, format!("__Host-sso_session={token}"));
    }
    Request::get("/public")
        .header(header::HOST, "app.example.test")
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(
            header::USER_AGENT,
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
        )
        .header(
            header::COOKIE,
            HeaderValue::from_str(&cookies.join("; ")).unwrap(),
        )
        .body(())
        .unwrap()
}

/// Allocations of one request through `service`, after a few to warm it up.
fn per_request<S>(service: S, session: Option<&str>) -> u64
where
    S: Service<Request<()>, Error = Infallible> + Clone,
{
    for _ in 0..3 {
        drop(ready(service.clone().oneshot(browser_request(session))).unwrap());
    }
    let counts: Vec<u64> = (0..5)
        .map(|_| {
            let request = browser_request(session);
            let service = service.clone();
            let (n, response) = allocations(|| ready(service.oneshot(request)));
            drop(response.unwrap());
            n
        })
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] == w[1]),
        "deterministic: {counts:?}"
    );
    counts[0]
}

#[test]
fn an_anonymous_request_on_a_public_path_allocates_nothing_in_the_layer() {
    let bare = per_request(app(), None);
    for optional in [false, true] {
        let layered = per_request(
            tower::ServiceBuilder::new()
                .layer(layer(optional))
                .service(app()),
            None,
        );
        assert_eq!(
            layered,
            bare,
            "optional {optional}: the layer allocated {} times",
            layered as i64 - bare as i64
        );
    }
}

#[test]
fn a_session_on_a_public_path_is_not_read_and_allocates_nothing() {
    let layer = layer(false);
    let token = layer
        .issue_session_token(&Profile::new("prof_01ALICE", "alice@example.com"))
        .unwrap();
    let bare = per_request(app(), Some(token.expose()));
    let layered = per_request(
        tower::ServiceBuilder::new().layer(layer).service(app()),
        Some(token.expose()),
    );
    assert_eq!(layered, bare, "the layer allocated");
}

/// What a warm authenticated request costs in allocations (printed, for BENCHMARKS.md; the
/// bound catches a return of per-request copies of the profile).
#[test]
fn a_cached_session_costs_a_few_allocations_not_a_copy_of_the_profile() {
    // An optional path: the session is read.
    let layer = layer(true);
    let profile = Profile::new("prof_01ALICE", "alice@example.com")
        .with_organization("org_1")
        .with_connection("conn_01", "OktaSAML")
        .with_roles(["admin", "member"])
        .with_groups(["Engineering", "Everyone"]);
    let token = layer.issue_session_token(&profile).unwrap();
    let app = tower::ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(|request: Request<()>| async move {
            let email = request
                .extensions()
                .get::<Profile>()
                .unwrap()
                .email
                .to_string();
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(email))))
        }));
    let request = |token: &str| {
        let mut request = browser_request(None);
        let bearer = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        request.headers_mut().insert(header::AUTHORIZATION, bearer);
        request
    };
    for _ in 0..3 {
        drop(ready(app.clone().oneshot(request(token.expose()))).unwrap());
    }
    let (request, app) = (request(token.expose()), app.clone());
    let (n, response) = allocations(|| ready(app.oneshot(request)));
    assert_eq!(response.unwrap().status(), http::StatusCode::OK);
    println!("a cached bearer session: {n} allocations");
    // The profile's strings (a dozen) are never copied, and its session is built once per
    // token: the extension map and its one entry are the layer's, the rest the app's and the
    // response's. A second extension or a copy of the session id would make it 7 or more.
    assert!(n <= 6, "{n} allocations");
}
