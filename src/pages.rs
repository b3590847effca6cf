//! Replaceable pages: what the sign-in chooser, the login confirmation and the error pages of
//! the SSO routes show, as data, so an app can render them in its own look.
//!
//! The layer renders small, self-contained, escaped defaults. An app that sets
//! [`SsoConfigBuilder::pages`](crate::SsoConfigBuilder::pages) gets each [`Page`] first and
//! answers the HTML to send instead, or `None` for the default. Status, caching and security
//! headers stay the layer's. Whatever the app puts in its HTML it must escape; [`escape`] helps.
//!
//! ```
//! use tower_workos_sso::SsoConfig;
//! use tower_workos_sso::pages::{Page, escape};
//!
//! let config = SsoConfig::builder()
//!     # .api_key("sk_test_example").client_id("client_example")
//!     # .redirect_uri("https://app.example.com/auth/callback")
//!     # .session_secret(*b"an example secret of at least 32 bytes")
//!     .pages(|page: &Page| match page {
//!         Page::Error(error) => Some(format!(
//!             "<!doctype html><title>Oops</title><h1>{}</h1><p>{}</p>",
//!             escape(&error.title),
//!             escape(&error.message)
//!         )),
//!         _ => None,
//!     })
//!     .build()?;
//! # Ok::<(), tower_workos_sso::ConfigError>(())
//! ```

use std::fmt;

use http::StatusCode;

use crate::secret::Redacted;
use crate::selector::Selector;

/// A page the SSO routes are about to send, with everything it shows.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Page {
    /// `GET /auth/login` with nothing to sign in with: the sign-in chooser.
    Chooser(ChooserPage),
    /// A login another site started, waiting for the user to confirm it here.
    Confirm(ConfirmPage),
    /// A refusal or failure of the login, callback, logout or session route, or a route
    /// guard's 403 page for a browser.
    Error(ErrorPage),
}

/// The sign-in chooser: an email box (when domain routing is set up) and a button per
/// admitted OAuth provider. It never lists organizations or connections.
///
/// Its `Debug` output shows `<redacted>` for the email, so logging a page leaks no address.
#[derive(Clone)]
#[non_exhaustive]
pub struct ChooserPage {
    /// The status the page is sent with: 200, or 4xx/5xx after a submission that did not go on.
    pub status: StatusCode,
    /// Where the email form goes, with `method="get"`: the login route.
    pub action: String,
    /// The name of the email field the login route reads.
    pub email_field: &'static str,
    /// Whether the page asks for an email (domain routing is configured).
    pub asks_email: bool,
    /// The local path the sign-in returns to: send it back as the hidden `return_to` field.
    pub return_to: String,
    /// What the user typed last, to show again (unescaped: escape it).
    pub email: Option<String>,
    /// Why the last submission did not go on: fixed text, never the input.
    pub message: Option<&'static str>,
    /// One button per admitted OAuth provider.
    pub providers: Vec<ProviderChoice>,
}

/// An OAuth provider the chooser offers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProviderChoice {
    /// The provider's WorkOS name, such as `GoogleOAuth`.
    pub provider: String,
    /// A label for its button, such as "Continue with Google".
    pub label: String,
    /// The login link for it, `return_to` included.
    pub href: String,
}

/// The confirmation of a login another site started (see SECURITY.md, A4).
///
/// Its `Debug` output shows `<redacted>` for the signed-in email (in `message` too) and for
/// the query of `action`, which carries the login hint.
#[derive(Clone)]
#[non_exhaustive]
pub struct ConfirmPage {
    /// What the login signs in with.
    pub selector: Selector,
    /// The email of who is signed in now, whose session the login would replace.
    pub signed_in_as: Option<String>,
    /// The URL the confirming button must POST to (a form with `method="post"` and no fields).
    pub action: String,
    /// The default page's text.
    pub message: String,
}

impl fmt::Debug for ChooserPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChooserPage")
            .field("status", &self.status)
            .field("action", &self.action)
            .field("email_field", &self.email_field)
            .field("asks_email", &self.asks_email)
            .field("return_to", &self.return_to)
            .field("email", &self.email.as_ref().map(|_| Redacted))
            .field("message", &self.message)
            .field("providers", &self.providers)
            .finish()
    }
}

impl fmt::Debug for ConfirmPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match self.action.split_once('?') {
            Some((path, _)) => format!("{path}?<redacted>"),
            None => self.action.clone(),
        };
        let message = match &self.signed_in_as {
            Some(email) if !email.is_empty() => self.message.replace(email.as_str(), "<redacted>"),
            _ => self.message.clone(),
        };
        f.debug_struct("ConfirmPage")
            .field("selector", &self.selector)
            .field(
                "signed_in_as",
                &self.signed_in_as.as_ref().map(|_| Redacted),
            )
            .field("action", &action)
            .field("message", &message)
            .finish()
    }
}

/// A refusal or failure: fixed text, never a raw parameter.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ErrorPage {
    /// The status the page is sent with.
    pub status: StatusCode,
    /// A short title.
    pub title: String,
    /// What happened, for the user.
    pub message: String,
    /// Where to go on, if anywhere.
    pub action: Option<PageAction>,
}

/// A link or button a page offers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PageAction {
    /// Where it goes.
    pub href: String,
    /// Its label.
    pub label: String,
    /// A form button that POSTs to `href` (a step another site may not take for the user),
    /// rather than a link.
    pub post: bool,
}

/// Renders the pages of the SSO routes in the app's own look. `None` keeps the default.
///
/// Closures `Fn(&Page) -> Option<String>` are `Pages`.
pub trait Pages: Send + Sync + 'static {
    /// The HTML to send for `page`, or `None` for the layer's default.
    fn render(&self, page: &Page) -> Option<String>;
}

impl<F> Pages for F
where
    F: Fn(&Page) -> Option<String> + Send + Sync + 'static,
{
    fn render(&self, page: &Page) -> Option<String> {
        self(page)
    }
}

/// Escapes text for HTML element content and double-quoted attribute values.
///
/// ```
/// assert_eq!(tower_workos_sso::pages::escape("<a href=\"x\">"), "&lt;a href=&quot;x&quot;&gt;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_print_no_email_in_debug() {
        let chooser = Page::Chooser(ChooserPage {
            status: StatusCode::NOT_FOUND,
            action: "/auth/login".into(),
            email_field: "email",
            asks_email: true,
            return_to: "/reports".into(),
            email: Some("alice@example.com".into()),
            message: Some("no single sign-on"),
            providers: Vec::new(),
        });
        let confirm = Page::Confirm(ConfirmPage {
            selector: Selector::organization("org_01ACME").unwrap(),
            signed_in_as: Some("alice@example.com".into()),
            action: "/auth/login?organization=org_01ACME&login_hint=alice%40example.com".into(),
            message: "You are signed in as alice@example.com; continuing replaces it.".into(),
        });
        for page in [chooser, confirm] {
            let printed = format!("{page:?} {page:#?}");
            assert!(!printed.contains("alice"), "{printed}");
            assert!(printed.contains("<redacted>"), "{printed}");
            assert!(printed.contains("org_01ACME") || printed.contains("/reports"));
        }
    }
}
