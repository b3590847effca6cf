//! The WorkOS authorization URL (`GET /sso/authorize`): every parameter a login sends, encoded
//! as WorkOS's OpenAPI spec says where it says (`provider_scopes`: `style: form, explode:
//! false`), and as WorkOS's own SDKs send it where the spec leaves the style open
//! (`provider_query_params`, an object with no `style`).

use super::LoginParams;
use crate::config::{AuthorizationParams, SsoConfig};
use crate::selector::Selector;

/// The part of every authorization URL that never changes: `{base}/sso/authorize?client_id=…
/// &redirect_uri=…&response_type=code`, encoded once when the layer is built.
pub(super) fn fixed_part(config: &SsoConfig) -> String {
    let base = format!("{}/sso/authorize?", config.api_base_url);
    let query_starts = base.len();
    form_urlencoded::Serializer::for_suffix(base, query_starts)
        .append_pair("client_id", &config.client_id)
        .append_pair("redirect_uri", &config.redirect_uri)
        .append_pair("response_type", "code")
        .finish()
}

/// What one login's flow sends WorkOS: its `state`, PKCE challenge and `nonce`.
pub(super) struct Flow<'a> {
    pub(super) state: &'a str,
    pub(super) code_challenge: &'a str,
    /// Sent when the login's parameters ask for one; the flow cookie keeps it.
    pub(super) nonce: Option<&'a str>,
}

/// The authorization URL of one login: [`fixed_part`], then the state and PKCE challenge, the
/// selector, the login's hints, the login's authorization parameters (`params`) with the
/// flow's nonce, and the route's `prompt` over theirs. Measured first, then written into a
/// buffer of exactly its length, which the `Location` header takes over as it is (a shrunk
/// buffer costs the allocator a split and a merge on every login).
pub(super) fn url(
    fixed: &str,
    login: &LoginParams,
    params: &AuthorizationParams,
    selector: &Selector,
    flow: Flow<'_>,
) -> String {
    // The spec: `style: form, explode: false`, so one comma-joined value. (WorkOS's Node SDK
    // repeats the name per scope instead; the crate follows the spec.)
    let scopes = (!params.provider_scopes.is_empty()).then(|| params.provider_scopes.join(","));
    let mut measured = Query::Measure(fixed.len());
    pairs(
        &mut measured,
        login,
        params,
        selector,
        &flow,
        scopes.as_deref(),
    );
    let Query::Measure(len) = measured else {
        unreachable!("measuring stays measuring")
    };
    let mut url = String::with_capacity(len);
    url.push_str(fixed);
    let mut query = Query::Write(url);
    pairs(
        &mut query,
        login,
        params,
        selector,
        &flow,
        scopes.as_deref(),
    );
    let Query::Write(url) = query else {
        unreachable!("writing stays writing")
    };
    debug_assert_eq!(url.len(), len, "the measure and the URL agree");
    url
}

/// Every `&name=value` pair after the fixed part, in the order WorkOS's SDKs send them.
fn pairs(
    url: &mut Query,
    login: &LoginParams,
    params: &AuthorizationParams,
    selector: &Selector,
    flow: &Flow<'_>,
    scopes: Option<&str>,
) {
    let (param, value) = selector.param();
    url.pair(&["state"], flow.state)
        .pair(&["code_challenge"], flow.code_challenge)
        .pair(&["code_challenge_method"], "S256")
        .pair(&[param], value);
    if let Some(hint) = &login.login_hint {
        url.pair(&["login_hint"], hint);
    }
    if let Some(hint) = &login.domain_hint {
        url.pair(&["domain_hint"], hint);
    }
    if let Some(scopes) = scopes {
        url.pair(&["provider_scopes"], scopes);
    }
    // The spec types this as an object and gives no `style`; OpenAPI's default (form, exploded)
    // would send bare `hd=...` pairs that collide with WorkOS's own parameters. The bracket form
    // `provider_query_params[key]=value` is what WorkOS's SDKs send, so it is what is sent.
    for (key, value) in &params.provider_query_params {
        url.pair(&["provider_query_params[", key, "]"], value);
    }
    if let Some(nonce) = flow.nonce {
        url.pair(&["nonce"], nonce);
    }
    if let Some(prompt) = login.prompt.or(params.prompt) {
        url.pair(&["prompt"], prompt.as_str());
    }
}

/// A URL's query growing by `&name=value` pairs, form-encoded byte for byte as
/// `form_urlencoded::Serializer` encodes them (the fixed part always holds pairs, so each new
/// one starts with `&`); text that encoding leaves alone (the state, the challenge, ids:
/// base64url and ASCII names) is copied as it is instead of byte by byte. `Measure` only
/// counts the bytes `Write` would write.
enum Query {
    Measure(usize),
    Write(String),
}

/// The bytes `form_urlencoded` writes as they are: ASCII letters, digits and `*-._`. A table,
/// since the state and challenge alone are 86 bytes to look at per login.
const UNCHANGED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'*' | b'-' | b'.' | b'_');
        b += 1;
    }
    table
};

impl Query {
    /// A pair whose name is the parts joined (encoding each part encodes the whole).
    fn pair(&mut self, name: &[&str], value: &str) -> &mut Self {
        self.push("&");
        for part in name {
            self.push_encoded(part);
        }
        self.push("=");
        self.push_encoded(value);
        self
    }

    fn push(&mut self, text: &str) {
        match self {
            Query::Measure(len) => *len += text.len(),
            Query::Write(url) => url.push_str(text),
        }
    }

    fn push_encoded(&mut self, text: &str) {
        let unchanged = text.bytes().all(|b| UNCHANGED[usize::from(b)]);
        match self {
            _ if unchanged => self.push(text),
            // A space is `+`, any other byte it changes `%XX`.
            Query::Measure(len) => {
                *len += text
                    .bytes()
                    .map(|b| {
                        if UNCHANGED[usize::from(b)] || b == b' ' {
                            1
                        } else {
                            3
                        }
                    })
                    .sum::<usize>();
            }
            Query::Write(url) => url.extend(form_urlencoded::byte_serialize(text.as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::{AuthorizationParams, Prompt};

    fn query_of(url: &str) -> (String, Vec<(String, String)>) {
        let (_, query) = url.split_once('?').unwrap();
        let pairs = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        (query.to_owned(), pairs)
    }

    #[test]
    fn pairs_are_encoded_byte_for_byte_as_form_urlencoded_does() {
        for value in [
            "abc-_.*XYZ09",
            "a b+c",
            "é/ü?&=#%",
            "",
            "~!'()",
            "\u{7f}\t\0",
        ] {
            let mut query = Query::Write("https://x.test/a?k=v".to_owned());
            query.pair(&["name[", "x", "]"], value);
            let mut measured = Query::Measure(20);
            measured.pair(&["name[", "x", "]"], value);
            let mut expected =
                form_urlencoded::Serializer::for_suffix("https://x.test/a?k=v".to_owned(), 17);
            expected.append_pair("name[x]", value);
            let (Query::Write(written), Query::Measure(len)) = (query, measured) else {
                unreachable!()
            };
            let expected = expected.finish();
            assert_eq!(written, expected, "{value:?}");
            assert_eq!(len, expected.len(), "{value:?}");
        }
    }

    #[test]
    fn authorization_parameters_are_encoded_as_documented() {
        let google = Selector::provider("GoogleOAuth").unwrap();
        let config = SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![3u8; 32])
            .allowed_providers(["GoogleOAuth"])
            .authorization_params_for(
                google.clone(),
                AuthorizationParams::new()
                    .provider_scopes(["openid", "https://www.googleapis.com/auth/calendar"])
                    .provider_query_param("hd", "example.com")
                    .provider_query_param("access_type", "offline")
                    .nonce(),
            )
            .build()
            .unwrap();
        let login = LoginParams::default();
        let flow = |nonce| Flow {
            state: "st",
            code_challenge: "ch",
            nonce,
        };
        let params = config.login_params.for_selector(&google);
        let first = url(
            &fixed_part(&config),
            &login,
            params,
            &google,
            flow(Some("n-1")),
        );
        let (raw, pairs) = query_of(&first);
        assert!(raw.starts_with("client_id="), "no empty first pair: {raw}");
        assert!(
            raw.contains("provider_query_params%5Bhd%5D=example.com"),
            "{raw}"
        );
        let sent: HashMap<_, _> = pairs.iter().cloned().collect();
        assert_eq!(
            sent["provider_scopes"],
            "openid,https://www.googleapis.com/auth/calendar"
        );
        assert_eq!(sent["provider_query_params[access_type]"], "offline");
        assert_eq!(sent["nonce"], "n-1", "the flow's own nonce");
        assert!(!sent.contains_key("prompt"));

        // Another selector gets the defaults (none); the route's prompt is sent.
        let acme = Selector::organization("org_1").unwrap();
        let step_up = LoginParams {
            prompt: Some(Prompt::Login),
            ..LoginParams::default()
        };
        let (_, pairs) = query_of(&url(
            &fixed_part(&config),
            &step_up,
            config.login_params.for_selector(&acme),
            &acme,
            flow(None),
        ));
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "client_id",
                "redirect_uri",
                "response_type",
                "state",
                "code_challenge",
                "code_challenge_method",
                "organization",
                "prompt"
            ]
        );
        assert_eq!(pairs.last().unwrap().1, "login");
    }
}
