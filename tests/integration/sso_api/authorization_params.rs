//! U4: the authorization parameters a login sends come from the configuration (and the crate's
//! own step-up), never from the login's query string; the authorize URL is well formed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http::request::Parts;
use reqwest::StatusCode;
use tower_workos_sso::testkit::MockWorkOs;
use tower_workos_sso::{AuthorizationParams, Decision, Prompt, Selector, SignIn};

use crate::support::harness::{self, Browser, location, set_cookies};

fn query_pairs(url: &str) -> (String, Vec<(String, String)>) {
    let (_, query) = url.split_once('?').unwrap();
    let pairs = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    (query.to_owned(), pairs)
}

#[tokio::test]
async fn u4_authorization_params_come_from_configuration_never_from_the_login_query() {
    let workos = MockWorkOs::start().await.unwrap();
    let app = harness::start_with(workos, |b| {
        b.default_selector(Selector::organization("org_01ACME").unwrap())
            .allowed_providers(["GoogleOAuth"])
            .authorization_params(
                AuthorizationParams::new()
                    .provider_scopes(["openid", "email"])
                    .provider_query_param("hd", "example.com")
                    .nonce(),
            )
            .authorization_params_for(
                Selector::provider("GoogleOAuth").unwrap(),
                AuthorizationParams::new()
                    .provider_query_param("access_type", "offline")
                    .prompt(Prompt::Login),
            )
    })
    .await;
    let hostile = "login_hint=alice%40example.com&prompt=none&nonce=attacker-nonce\
        &provider_scopes=https%3A%2F%2Fmail.google.com%2F\
        &provider_query_params%5Bhd%5D=evil.test&provider_query_params[x]=1\
        &redirect_uri=https%3A%2F%2Fevil.test%2Fcb&client_id=client_evil&response_type=token";
    let browser = Browser::new();
    let start = browser
        .get(&app.url(&format!("/auth/login?{hostile}")))
        .await;
    assert_eq!(start.status(), StatusCode::FOUND);
    let (raw, pairs) = query_pairs(&location(&start));
    assert!(raw.starts_with("client_id="), "no empty first pair: {raw}");
    let once: HashMap<&str, Vec<&str>> = pairs.iter().fold(HashMap::new(), |mut map, (k, v)| {
        map.entry(k.as_str()).or_default().push(v.as_str());
        map
    });
    assert!(once.values().all(|values| values.len() == 1), "{pairs:?}");
    assert_eq!(once["client_id"], [app.workos.client_id()]);
    assert_eq!(once["redirect_uri"], [app.url("/auth/callback")]);
    assert_eq!(once["response_type"], ["code"]);
    assert_eq!(once["provider_scopes"], ["openid,email"]);
    assert_eq!(once["provider_query_params[hd]"], ["example.com"]);
    assert!(!once.contains_key("provider_query_params[x]"));
    assert!(!once.contains_key("prompt"));
    assert_ne!(once["nonce"], ["attacker-nonce"]);
    assert_eq!(once["nonce"][0].len(), 43);

    // What WorkOS receives, as the fake recorded it: the same pairs, each parameter encoded
    // exactly once in the form the crate documents.
    let sent = browser.get(&location(&start)).await;
    assert_eq!(sent.status(), StatusCode::FOUND, "the fake signs alice in");
    let received = app.workos.authorize_requests();
    assert_eq!(received.len(), 1);
    let received = &received[0];
    assert_eq!(received.pairs(), pairs.as_slice());
    assert_eq!(received.query(), raw);
    assert_eq!(received.all("provider_scopes"), ["openid,email"]);
    assert!(
        raw.contains("&provider_scopes=openid%2Cemail&"),
        "one comma-joined value (style: form, explode: false): {raw}"
    );
    assert_eq!(
        received.get("provider_query_params[hd]"),
        Some("example.com")
    );
    assert!(
        raw.contains("&provider_query_params%5Bhd%5D=example.com"),
        "{raw}"
    );
    assert_eq!(received.all("nonce"), [once["nonce"][0]]);
    assert!(received.get("prompt").is_none());
    for refused in ["provider_query_params[x]", "response_type", "client_id"] {
        assert!(received.all(refused).len() <= 1, "{refused}");
    }

    // The provider's own parameters replace the defaults for its logins.
    let google_start = browser
        .get(&app.url("/auth/login?provider=GoogleOAuth&prompt=consent"))
        .await;
    let (_, pairs) = query_pairs(&location(&google_start));
    let google: HashMap<_, _> = pairs.into_iter().collect();
    assert_eq!(google["provider_query_params[access_type]"], "offline");
    assert_eq!(google["prompt"], "login");
    assert!(!google.contains_key("provider_scopes") && !google.contains_key("nonce"));
    browser.get(&location(&google_start)).await;
    let received = app.workos.authorize_requests();
    assert_eq!(received.len(), 2);
    let received = &received[1];
    assert_eq!(received.all("prompt"), ["login"]);
    assert_eq!(
        received.all("provider_query_params[access_type]"),
        ["offline"]
    );
    assert!(received.get("provider_scopes").is_none() && received.get("nonce").is_none());

    // The fake (like WorkOS) takes the parameters and the sign-in completes.
    let (_, page) = browser
        .sign_in(&app, "login_hint=alice%40example.com")
        .await;
    assert_eq!(page.text().await.unwrap(), "home of alice@example.com");
}

#[tokio::test]
async fn u4_the_nonce_sent_to_workos_is_the_one_the_authorization_hook_sees() {
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let hook_saw = seen.clone();
    let workos = MockWorkOs::start().await.unwrap();
    let app = harness::start_with(workos, move |b| {
        b.default_selector(Selector::organization("org_01ACME").unwrap())
            .allowed_providers(["GoogleOAuth"])
            .authorization_params(AuthorizationParams::new().nonce())
            .authorization_params_for(
                Selector::provider("GoogleOAuth").unwrap(),
                AuthorizationParams::new(),
            )
            .authorize(move |sign_in: SignIn| {
                let nonce = sign_in.nonce().map(str::to_owned);
                hook_saw.lock().unwrap().push(nonce);
                async { Decision::allow() }
            })
    })
    .await;

    for _ in 0..2 {
        let browser = Browser::new();
        let (_, page) = browser
            .sign_in(&app, "login_hint=alice%40example.com&nonce=from-the-query")
            .await;
        assert_eq!(page.text().await.unwrap(), "home of alice@example.com");
    }
    let sent: Vec<String> = app
        .workos
        .authorize_requests()
        .iter()
        .map(|request| {
            assert_eq!(request.all("nonce").len(), 1, "{:?}", request.pairs());
            request.get("nonce").unwrap().to_owned()
        })
        .collect();
    let seen_now = seen.lock().unwrap().clone();
    assert_eq!(
        seen_now,
        sent.iter().cloned().map(Some).collect::<Vec<_>>(),
        "the hook sees each login's own nonce"
    );
    assert_ne!(sent[0], sent[1], "a fresh nonce per login");
    assert!(sent.iter().all(|nonce| nonce != "from-the-query"));

    // A login that sends no nonce gives the hook none.
    let browser = Browser::new();
    let (_, page) = browser
        .sign_in(
            &app,
            "provider=GoogleOAuth&login_hint=erin%40gmail.test&nonce=from-the-query",
        )
        .await;
    assert_eq!(page.text().await.unwrap(), "home of erin@gmail.test");
    assert_eq!(app.workos.authorize_requests()[2].get("nonce"), None);
    assert_eq!(seen.lock().unwrap().last(), Some(&None));
}

/// The app's per-login choice: Google logins that the app's own `calendar=1` asks for get the
/// calendar scope, offline access, a nonce and a fresh prompt; other logins keep the
/// configuration's parameters. The hook reads only the query parameter it allows.
fn per_login(request: &Parts, selector: &Selector) -> Option<AuthorizationParams> {
    let calendar = form_urlencoded::parse(request.uri.query().unwrap_or("").as_bytes())
        .any(|(name, value)| name == "calendar" && value == "1");
    (selector.provider_name() == Some("GoogleOAuth") && calendar).then(|| {
        AuthorizationParams::new()
            .provider_scopes([
                "openid",
                "https://www.googleapis.com/auth/calendar.readonly",
            ])
            .provider_query_param("access_type", "offline")
            .provider_query_param("login_hint_type", "email address")
            .nonce()
            .prompt(Prompt::Login)
    })
}

#[tokio::test]
async fn u4_a_per_login_hook_decides_the_parameters_and_the_query_reaches_none_it_did_not_allow() {
    let workos = MockWorkOs::start().await.unwrap();
    let app = harness::start_with(workos, |b| {
        b.default_selector(Selector::organization("org_01ACME").unwrap())
            .allowed_providers(["GoogleOAuth"])
            .authorization_params(AuthorizationParams::new().provider_scopes(["email"]))
            .authorization_params_with(per_login)
    })
    .await;
    let smuggled = "&prompt=login&provider_scopes=https%3A%2F%2Fmail.google.com%2F\
        &provider_query_params%5Bhd%5D=evil.test&nonce=attacker";

    // The hook's parameters, exactly encoded, as WorkOS receives them.
    let browser = Browser::new();
    let (_, page) = browser
        .sign_in(
            &app,
            &format!("provider=GoogleOAuth&calendar=1&login_hint=erin%40gmail.test{smuggled}"),
        )
        .await;
    assert_eq!(page.text().await.unwrap(), "home of erin@gmail.test");
    let received = app.workos.authorize_requests();
    let google = &received[0];
    let raw = google.query();
    assert!(
        raw.contains(
            "&provider_scopes=openid%2Chttps%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcalendar.readonly&"
        ),
        "{raw}"
    );
    assert!(
        raw.contains(
            "&provider_query_params%5Baccess_type%5D=offline\
             &provider_query_params%5Blogin_hint_type%5D=email+address&"
        ),
        "{raw}"
    );
    assert!(raw.ends_with("&prompt=login"), "{raw}");
    assert_eq!(google.all("nonce").len(), 1);
    assert_eq!(google.get("nonce").unwrap().len(), 43);
    for name in ["provider_scopes", "prompt", "calendar"] {
        assert!(google.all(name).len() <= 1, "{name}: {:?}", google.pairs());
    }
    assert!(google.get("provider_query_params[hd]").is_none());
    assert!(
        google.get("calendar").is_none(),
        "the app's own parameter stays the app's"
    );

    // Without the app's parameter the hook gives none: the configuration's, and nothing the
    // client sent.
    for query in [
        format!("login_hint=alice%40example.com{smuggled}"),
        format!("provider=GoogleOAuth&login_hint=erin%40gmail.test{smuggled}"),
    ] {
        let browser = Browser::new();
        let (_, page) = browser.sign_in(&app, &query).await;
        assert_eq!(page.status(), StatusCode::OK, "{query}");
    }
    for plain in &app.workos.authorize_requests()[1..] {
        assert_eq!(
            plain.all("provider_scopes"),
            ["email"],
            "{:?}",
            plain.pairs()
        );
        for name in ["prompt", "nonce", "provider_query_params[hd]"] {
            assert!(plain.get(name).is_none(), "{name}: {:?}", plain.pairs());
        }
    }
    assert_eq!(app.workos.authorize_requests().len(), 3);
}

#[tokio::test]
async fn u4_a_per_login_hook_that_gives_bad_parameters_or_panics_starts_no_login() {
    let workos = MockWorkOs::start().await.unwrap();
    let app = harness::start_with(workos, |b| {
        b.default_selector(Selector::organization("org_01ACME").unwrap())
            .authorization_params_with(|request: &Parts, _: &Selector| {
                match request.uri.query().unwrap_or("") {
                    q if q.contains("panic") => panic!("the app's hook failed"),
                    q if q.contains("bad") => {
                        Some(AuthorizationParams::new().provider_scopes(["a,b&prompt=none"]))
                    }
                    _ => None,
                }
            })
    })
    .await;
    for query in ["bad=1", "panic=1"] {
        let refused = Browser::new()
            .get(&app.url(&format!("/auth/login?{query}")))
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{query}"
        );
        assert!(set_cookies(&refused).is_empty(), "no flow: {query}");
        assert!(refused.headers().get("location").is_none());
    }
    assert!(app.workos.authorize_requests().is_empty());
    // The hook answering `None` is the configuration's parameters.
    let (_, page) = Browser::new()
        .sign_in(&app, "login_hint=alice%40example.com")
        .await;
    assert_eq!(page.text().await.unwrap(), "home of alice@example.com");
}
