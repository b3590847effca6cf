//! Unit tests of login flows: the authorize URL, flow cookies, their caps.

use super::*;
use crate::flow::return_to::MAX_RETURN_TO;

fn config() -> SsoConfig {
    SsoConfig::builder()
        .api_key("sk_test")
        .client_id("client_1")
        .redirect_uri("https://app.test/auth/callback")
        .api_base_url("https://api.workos.test")
        .session_secret(vec![3u8; 32])
        .provider_scopes(["openid", "email"])
        .build()
        .unwrap()
}

#[test]
fn authorization_url_carries_every_parameter() {
    let config = config();
    let flows = Flows::new(&config);
    let login = LoginParams {
        login_hint: Some("a@b.test".into()),
        domain_hint: Some("b.test".into()),
        return_to: Some("/x".into()),
        cross_site: false,
        prompt: None,
        idp_initiated: false,
        request: None,
    };
    let response = flows.start(
        &config,
        &login,
        &Selector::organization("org_1").unwrap(),
        &HeaderMap::new(),
        1000,
    );
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    let (base, query) = location.split_once('?').unwrap();
    assert_eq!(base, "https://api.workos.test/sso/authorize");
    assert!(
        query.starts_with("client_id="),
        "no empty first pair: {query}"
    );
    let params: std::collections::HashMap<_, _> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(params["client_id"], "client_1");
    assert_eq!(params["redirect_uri"], "https://app.test/auth/callback");
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["organization"], "org_1");
    assert_eq!(params["login_hint"], "a@b.test");
    assert_eq!(params["domain_hint"], "b.test");
    assert_eq!(params["provider_scopes"], "openid,email");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["state"].len(), 43);

    let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    let (name_value, _) = set_cookie.split_once(';').unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(header::COOKIE, HeaderValue::from_str(name_value).unwrap());
    let FlowLookup::Found { claims, .. } = flows.find(&headers, &params["state"], 1001) else {
        panic!("flow not found");
    };
    assert_eq!(claims.return_to, "/x");
    assert_eq!(
        crypto::sha256_b64(claims.pkce_verifier.as_bytes()),
        params["code_challenge"]
    );
    assert!(matches!(
        flows.find(&headers, "another-state", 1001),
        FlowLookup::Missing
    ));
    assert!(matches!(
        flows.find(&headers, &params["state"], 1000 + 601),
        FlowLookup::Expired { .. }
    ));
}

/// A configuration whose logins send a nonce.
fn with_nonce() -> SsoConfig {
    SsoConfig::builder()
        .api_key("sk_test")
        .client_id("client_1")
        .redirect_uri("https://app.test/auth/callback")
        .session_secret(vec![3u8; 32])
        .authorization_params(crate::config::AuthorizationParams::new().nonce())
        .build()
        .unwrap()
}

/// Starts a login for `org_1` with `login` at `now`: the authorize URL's query, and the flow
/// the callback would find with the cookie it set.
fn start_and_find(
    config: &SsoConfig,
    flows: &Flows,
    login: &LoginParams,
    now: u64,
) -> (std::collections::HashMap<String, String>, FlowClaims) {
    let selector = Selector::organization("org_1").unwrap();
    let response = flows.start(config, login, &selector, &HeaderMap::new(), now);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    let query: std::collections::HashMap<_, _> =
        form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    let mut headers = HeaderMap::new();
    let pair = set_cookie.split(';').next().unwrap();
    headers.insert(header::COOKIE, HeaderValue::from_str(pair).unwrap());
    let FlowLookup::Found { claims, .. } = flows.find(&headers, &query["state"], now) else {
        panic!("flow not found");
    };
    (query, *claims)
}

#[test]
fn the_nonce_sent_is_the_one_the_flow_keeps_and_is_fresh_per_login() {
    let config = with_nonce();
    let flows = Flows::new(&config);
    let selector = Selector::organization("org_1").unwrap();
    let mut nonces = Vec::new();
    for now in [1000, 1001] {
        let (params, claims) = start_and_find(&config, &flows, &LoginParams::default(), now);
        assert_eq!(params["nonce"].len(), 43);
        assert_eq!(claims.nonce(), Some(params["nonce"].as_str()));
        nonces.push(params["nonce"].clone());
    }
    assert_ne!(nonces[0], nonces[1], "a fresh nonce per login");

    // Without `nonce()` none is sent or kept.
    let plain = self::config();
    let flows = Flows::new(&plain);
    let response = flows.start(
        &plain,
        &LoginParams::default(),
        &selector,
        &HeaderMap::new(),
        1000,
    );
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert!(!location.contains("nonce="), "{location}");
}

#[test]
fn debug_prints_no_state_verifier_nonce_or_login_hint() {
    let config = with_nonce();
    let flows = Flows::new(&config);
    let params = LoginParams {
        login_hint: Some("alice@example.com".into()),
        ..LoginParams::default()
    };
    let printed = format!("{params:?}");
    assert!(!printed.contains("alice"), "{printed}");
    let (query, claims) = start_and_find(&config, &flows, &params, 1000);
    let printed = format!("{claims:?}");
    for secret in [&query["state"], &query["nonce"], &claims.pkce_verifier] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(printed.contains("org_1"), "ids still print: {printed}");
}

#[test]
fn the_state_is_compared_in_constant_time() {
    let config = config();
    let flows = Flows::new(&config);
    let response = flows.start(
        &config,
        &LoginParams::default(),
        &Selector::organization("org_1").unwrap(),
        &HeaderMap::new(),
        1000,
    );
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    let state = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    let value = set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1;
    // A near miss (last character changed) whose cookie name was made to match, so the
    // lookup reaches the comparison of the signed state with the query's.
    let mut near = state.clone().into_bytes();
    *near.last_mut().unwrap() ^= 1;
    let near = String::from_utf8(near).unwrap();
    for (asked, found) in [(&near, false), (&state, true)] {
        let mut headers = HeaderMap::new();
        let cookie = format!("{}={value}", flows.cookie_for(asked));
        headers.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        crypto::COMPARED.with(|c| c.borrow_mut().clear());
        let lookup = flows.find(&headers, asked, 1001);
        assert_eq!(matches!(lookup, FlowLookup::Found { .. }), found);
        assert!(found || matches!(lookup, FlowLookup::Invalid { .. }));
        let compared = crypto::COMPARED.with(|c| c.borrow().clone());
        assert!(
            compared.contains(&(state.clone().into_bytes(), asked.clone().into_bytes())),
            "the state comparison did not go through constant_time_eq"
        );
    }
}

/// Starts a login in a browser whose cookies are `jar` (`name=value` pairs) and applies the
/// response's `Set-Cookie` lines to it, as a browser would.
fn start_in_jar(
    flows: &Flows,
    config: &SsoConfig,
    jar: &mut Vec<String>,
    return_to: &str,
    now: u64,
) {
    let mut headers = HeaderMap::new();
    if !jar.is_empty() {
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&jar.join("; ")).unwrap(),
        );
    }
    let login = LoginParams {
        return_to: Some(return_to.to_owned()),
        ..LoginParams::default()
    };
    let selector = Selector::provider("GoogleOAuth").unwrap();
    let response = flows.start(config, &login, &selector, &headers, now);
    for line in response.headers().get_all(header::SET_COOKIE) {
        let (pair, _) = line.to_str().unwrap().split_once(';').unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        jar.retain(|c| !c.starts_with(&format!("{name}=")));
        if !value.is_empty() {
            jar.push(pair.to_owned());
        }
    }
}

#[test]
fn flow_cookies_are_capped() {
    let config = config();
    let flows = Flows::new(&config);
    let mut jar = Vec::new();
    for i in 0..10 {
        start_in_jar(&flows, &config, &mut jar, "/", 1000 + i);
        assert!(
            jar.len() <= config.max_concurrent_logins,
            "{} flow cookies",
            jar.len()
        );
    }
    assert_eq!(jar.len(), config.max_concurrent_logins);
}

#[test]
fn flow_cookies_stay_within_a_byte_budget() {
    let config = config();
    let flows = Flows::new(&config);
    let long = format!("/{}", "r".repeat(MAX_RETURN_TO - 1));
    let mut jar = Vec::new();
    for i in 0..10 {
        let return_to = if i % 3 == 0 { long.as_str() } else { "/" };
        start_in_jar(&flows, &config, &mut jar, return_to, 1000 + i);
        let bytes: usize = jar.iter().map(String::len).sum();
        assert!(bytes <= MAX_FLOW_BYTES, "{bytes} bytes of flow cookies");
        assert!(!jar.is_empty() && jar.len() <= config.max_concurrent_logins);
    }
}
