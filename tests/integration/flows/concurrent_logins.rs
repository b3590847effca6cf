//! Many logins through one app instance at once: each browser ends as the user it asked for,
//! with its own session, and no cookie of one browser ever reaches another.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use reqwest::{Client, StatusCode};
use tokio::sync::Barrier;
use tower_workos_sso::testkit::Endpoint;

use crate::support::harness::{self, App, SESSION_COOKIE};

const BROWSERS: usize = 200;

/// A browser's cookie jar for the app, kept by hand so the test sees exactly what it holds.
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Applies a response's `Set-Cookie` lines; returns every value that was set.
    fn store(&mut self, response: &reqwest::Response) -> Vec<String> {
        let mut set = Vec::new();
        for line in harness::set_cookies(response) {
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || line.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
                set.push(value.to_owned());
            }
        }
        set
    }
}

struct Outcome {
    asked: &'static str,
    me: serde_json::Value,
    jar: Jar,
    /// Every cookie value the app ever gave this browser.
    given: Vec<String>,
}

async fn get(client: &Client, url: &str, jar: &Jar) -> reqwest::Response {
    let mut request = client.get(url).header("accept", "text/html");
    if url.starts_with("http") && !jar.0.is_empty() {
        request = request.header("cookie", jar.header());
    }
    request.send().await.unwrap()
}

async fn one_login(
    app: Arc<App>,
    client: Client,
    barrier: Arc<Barrier>,
    (asked, selector): (&'static str, &'static str),
) -> Outcome {
    let mut jar = Jar::default();
    let mut given = Vec::new();
    let hint: String = form_urlencoded::byte_serialize(asked.as_bytes()).collect();
    let login = app.url(&format!(
        "/auth/login?{selector}&login_hint={hint}&return_to=%2Fapi%2Fme"
    ));
    let to_workos = get(&client, &login, &jar).await;
    assert_eq!(to_workos.status(), StatusCode::FOUND);
    given.extend(jar.store(&to_workos));
    // Every flow is under way before any comes back.
    barrier.wait().await;
    // WorkOS (the fake) gets no app cookies: it is another origin.
    let authorize = harness::location(&to_workos);
    let back = get(&client, &authorize, &Jar::default()).await;
    assert_eq!(back.status(), StatusCode::FOUND);
    let callback = get(&client, &harness::location(&back), &jar).await;
    assert_eq!(callback.status(), StatusCode::SEE_OTHER);
    given.extend(jar.store(&callback));
    let page = get(&client, &harness::location(&callback), &jar).await;
    assert_eq!(page.status(), StatusCode::OK);
    given.extend(jar.store(&page));
    let me = page.json().await.unwrap();
    Outcome {
        asked,
        me,
        jar,
        given,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_logins_each_end_as_their_own_user_with_their_own_cookies() {
    // Isolation under load, not the exchange cap (abuse.rs tests that): room for all 200.
    let app = Arc::new(
        harness::start(|b| {
            b.max_concurrent_exchanges(200)
                .allowed_organizations(["org_01GLOBEX"])
                .allowed_connections(["conn_01GLOBEXENTRA"])
                .allowed_providers(["GoogleOAuth"])
        })
        .await,
    );
    let users = [
        ("alice@example.com", "organization=org_01ACME"),
        ("bob@example.com", "organization=org_01ACME"),
        ("carol@globex.test", "connection=conn_01GLOBEXENTRA"),
        ("dave@globex.test", "organization=org_01GLOBEX"),
        ("erin@gmail.test", "provider=GoogleOAuth"),
    ];
    // One connection pool for all browsers; each browser's cookies are its own jar.
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let barrier = Arc::new(Barrier::new(BROWSERS));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..BROWSERS {
        tasks.spawn(one_login(
            app.clone(),
            client.clone(),
            barrier.clone(),
            users[i % users.len()],
        ));
    }
    let outcomes: Vec<Outcome> = tasks.join_all().await;
    assert_eq!(outcomes.len(), BROWSERS);
    assert_eq!(app.workos.requests(Endpoint::Token), BROWSERS);

    let mut sids = HashSet::new();
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        assert_eq!(outcome.me["email"], outcome.asked, "browser {i}");
        assert!(sids.insert(outcome.me["sid"].to_string()), "shared sid");
        // Only the session is left: the flow cookie was deleted by the callback.
        let names: Vec<&String> = outcome.jar.0.keys().collect();
        assert_eq!(names, [SESSION_COOKIE], "browser {i}");
        for value in &outcome.given {
            if let Some(other) = owner.insert(value.clone(), i) {
                assert_eq!(other, i, "a cookie value reached two browsers");
            }
        }
    }
    // Each session verifies as its own user, as a bearer token too.
    let api = harness::api();
    for outcome in outcomes.iter().step_by(17) {
        let token = &outcome.jar.0[SESSION_COOKIE];
        let me: serde_json::Value = api
            .get(app.url("/api/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["email"], outcome.asked);
        assert_eq!(me["sid"], outcome.me["sid"]);
    }
}
