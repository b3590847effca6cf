//! The sign-in chooser: `GET /auth/login` with nothing to sign in with asks for an email (and
//! offers the admitted OAuth providers), then routes the email's domain to its organization or
//! connection and goes on as a login with the email as `login_hint`.
//!
//! Privacy: the page never lists tenants, and every domain that does not route to something
//! admitted (unknown, inactive, not admitted, ambiguous) gets the same fixed answer.
//! CSRF: the form is a GET to the login route, so a submission is a login start like any
//! other: one another site makes gets the same-origin confirmation first (`confirm.rs`).

use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use super::Answer;
use super::start::proceed;
use crate::core::Core;
use crate::domains::{DomainLookupError, email_domain};
use crate::flow::{LoginParams, safe_return_to};
use crate::pages::{ChooserPage, Page, ProviderChoice, escape};
use crate::response::{self, OwnBody};

/// The query parameter of the chooser's email field.
const EMAIL_FIELD: &str = "email";

const INVALID_EMAIL: &str = "Enter a valid email address, such as name@company.com.";
const NO_SSO: &str = "Single sign-on is not set up for this email domain. Check the address, or ask your administrator how to sign in.";
const UNAVAILABLE: &str =
    "Sign-in by email is unavailable right now. Please try again in a moment.";

/// The operator hint of a domain that routes to nothing, worded as the WorkOS client's hint
/// for a callback's `organization_invalid`.
const NO_CONNECTION_HINT: &str = "no active SSO connection for this email domain: check the \
    organization has a connection in this environment and its domain is verified (or, with \
    route_domains, that the domain is mapped)";
/// The operator hint of a domain that routes to a selector the app does not admit.
const NOT_ADMITTED_HINT: &str = "the domain routes to an organization or connection this app \
    does not admit: admit it (allowed_organizations, allowed_connections) if it should sign in";

/// Whether there is anything to choose: an email box or a provider.
pub(super) fn offered(core: &Core) -> bool {
    core.domains.is_some() || !core.admission.providers().is_empty()
}

/// Routes `email` by its domain and starts the login it names, or shows the chooser again with
/// why not.
pub(super) fn route_email(
    core: &Arc<Core>,
    email: String,
    params: LoginParams,
    headers: &HeaderMap,
    confirmed: bool,
) -> Answer {
    let email = email.trim().to_owned();
    let (Some(domain), Some(router)) = (email_domain(&email), core.domains.clone()) else {
        let shown = (!email.is_empty()).then_some(email.as_str());
        let mut refused = page(core, &params, shown, Some(INVALID_EMAIL));
        *refused.status_mut() = StatusCode::BAD_REQUEST;
        return Answer::Now(refused);
    };
    let core = core.clone();
    let headers = headers.clone();
    Answer::later(async move {
        // Every router gets the deadline, the app's own too: a router that never answers is
        // a look-up that timed out, not a chooser that hangs.
        let deadline = core.config.tenancy.cache.timeout;
        let routed = tokio::time::timeout(deadline, router.route(&domain))
            .await
            .unwrap_or(Err(DomainLookupError::Timeout));
        let (status, message) = match routed {
            Ok(Some(selector)) if core.admission.admits(&selector) => {
                let params = LoginParams {
                    login_hint: Some(email),
                    ..params
                };
                let mut started =
                    proceed(&core, &headers, &selector, params, confirmed, core.now());
                // The chooser's URL holds the email: keep it out of `Referer`.
                no_referrer(&mut started);
                return started;
            }
            Ok(routed) => {
                // For the operator: the domain (never the email) and what to check. INFO, not
                // WARN: anyone can type any domain.
                let hint = match routed {
                    Some(selector) => {
                        let (kind, id) = selector.param();
                        tracing::debug!(
                            selector = kind,
                            id,
                            "an email domain routes to a selector not admitted"
                        );
                        NOT_ADMITTED_HINT
                    }
                    None => NO_CONNECTION_HINT,
                };
                tracing::info!(domain, hint, "no connection for this domain");
                (StatusCode::NOT_FOUND, NO_SSO)
            }
            Err(error) => {
                tracing::warn!(%error, "email domain could not be routed");
                let status = match error {
                    DomainLookupError::Timeout => StatusCode::GATEWAY_TIMEOUT,
                    _ => StatusCode::SERVICE_UNAVAILABLE,
                };
                (status, UNAVAILABLE)
            }
        };
        let mut again = page(&core, &params, Some(&email), Some(message));
        *again.status_mut() = status;
        if let Some(Page::Chooser(shown)) = again.extensions_mut().get_mut::<Page>() {
            shown.status = status;
        }
        again
    })
}

/// The chooser, with what the user typed and why it did not go on, if it did not.
pub(super) fn page(
    core: &Core,
    params: &LoginParams,
    email: Option<&str>,
    message: Option<&'static str>,
) -> Response<OwnBody> {
    let config = &core.config;
    let return_to = safe_return_to(config, params.return_to.as_deref());
    let providers = core
        .admission
        .providers()
        .into_iter()
        .map(|provider| {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("provider", provider)
                .append_pair("return_to", &return_to)
                .finish();
            ProviderChoice {
                provider: provider.to_owned(),
                label: format!("Continue with {}", provider_label(provider)),
                href: format!("{}?{query}", config.login_path),
            }
        })
        .collect();
    let chooser = ChooserPage {
        status: StatusCode::OK,
        action: config.login_path.clone(),
        email_field: EMAIL_FIELD,
        asks_email: core.domains.is_some(),
        return_to: return_to.into_owned(),
        email: email.map(str::to_owned),
        message,
        providers,
    };
    let mut response = response::html_response(chooser.status, render(&chooser));
    response::no_store(&mut response);
    no_referrer(&mut response);
    response.extensions_mut().insert(Page::Chooser(chooser));
    response
}

fn no_referrer(response: &mut Response<OwnBody>) {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// `GoogleOAuth` → `Google`.
fn provider_label(provider: &str) -> &str {
    provider
        .strip_suffix("OAuth")
        .filter(|name| !name.is_empty())
        .unwrap_or(provider)
}

/// The default chooser: self-contained (no scripts, no external assets), every value escaped.
fn render(chooser: &ChooserPage) -> String {
    let message = chooser.message.map_or_else(String::new, |text| {
        format!(
            r#"<p id="why" class="message" role="alert">{}</p>"#,
            escape(text)
        )
    });
    let described = if chooser.message.is_some() {
        r#" aria-describedby="why" aria-invalid="true""#
    } else {
        ""
    };
    let form = if chooser.asks_email {
        format!(
            r#"<form method="get" action="{action}"><label for="email">Work email</label>
<input id="email" name="{field}" type="email" autocomplete="email" required maxlength="320" value="{value}"{described}>
<input type="hidden" name="return_to" value="{return_to}">
<button class="button" type="submit">Continue</button></form>"#,
            action = escape(&chooser.action),
            field = chooser.email_field,
            value = escape(chooser.email.as_deref().unwrap_or("")),
            return_to = escape(&chooser.return_to),
        )
    } else {
        String::new()
    };
    let or = if chooser.asks_email && !chooser.providers.is_empty() {
        r#"<p class="or">or</p>"#
    } else {
        ""
    };
    let providers: String = chooser
        .providers
        .iter()
        .map(|p| {
            format!(
                r#"<li><a class="button alt" href="{}">{}</a></li>"#,
                escape(&p.href),
                escape(&p.label)
            )
        })
        .collect();
    let providers = if providers.is_empty() {
        String::new()
    } else {
        format!(r#"<ul class="providers">{providers}</ul>"#)
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in</title>
<style>body{{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1f2328;display:grid;place-items:center;min-height:90vh;margin:0}}
main{{background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:2rem 2.5rem;width:min(24rem,85vw);box-shadow:0 1px 3px rgba(0,0,0,.06)}}
h1{{font-size:1.3rem;margin-top:0}}label{{display:block;font-weight:600;margin-bottom:.35rem}}
input[type=email]{{box-sizing:border-box;width:100%;font:inherit;padding:.5rem .6rem;border:1px solid #8c959f;border-radius:8px;margin-bottom:.8rem}}
input:focus,.button:focus{{outline:3px solid #8b8bf0;outline-offset:1px}}
.button{{display:block;box-sizing:border-box;width:100%;text-align:center;background:#5b5bd6;color:#fff;padding:.55rem 1.1rem;border:0;border-radius:8px;font:inherit;text-decoration:none;cursor:pointer}}
.alt{{background:#fff;color:#1f2328;border:1px solid #8c959f}}.providers{{list-style:none;padding:0;margin:0;display:grid;gap:.5rem}}
.or{{text-align:center;color:#57606a}}.message{{color:#a40e26}}</style></head>
<body><main><h1>Sign in</h1>{message}{form}{or}{providers}</main></body></html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chooser(email: Option<&str>) -> ChooserPage {
        ChooserPage {
            status: StatusCode::OK,
            action: "/auth/login".into(),
            email_field: EMAIL_FIELD,
            asks_email: true,
            return_to: "/r?a=\"1\"".into(),
            email: email.map(str::to_owned),
            message: Some(NO_SSO),
            providers: vec![ProviderChoice {
                provider: "GoogleOAuth".into(),
                label: "Continue with <Google>".into(),
                href: "/auth/login?provider=GoogleOAuth&return_to=%2F".into(),
            }],
        }
    }

    #[test]
    fn the_chooser_escapes_everything_and_needs_nothing_outside() {
        let html = render(&chooser(Some("\"><script>alert(1)</script>@x.test")));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&quot;&gt;&lt;script&gt;"), "{html}");
        assert!(html.contains("Continue with &lt;Google&gt;"));
        assert!(html.contains("provider=GoogleOAuth&amp;return_to=%2F"));
        assert!(html.contains(r#"value="/r?a=&quot;1&quot;""#));
        for outside in [
            "<script", "src=", "<link", "@import", "url(", "http://", "https://",
        ] {
            assert!(!html.contains(outside), "{outside}");
        }
        assert!(html.contains(r#"<label for="email">"#) && html.contains(r#"role="alert""#));
    }

    #[test]
    fn providers_get_short_labels() {
        assert_eq!(provider_label("GoogleOAuth"), "Google");
        assert_eq!(provider_label("GitHubOAuth"), "GitHub");
        assert_eq!(provider_label("OAuth"), "OAuth");
        assert_eq!(provider_label("OktaSAML"), "OktaSAML");
    }
}
