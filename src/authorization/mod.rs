//! The app's say on who signs in: the authorization hook, its configuration shortcuts, and
//! what they see ([`SignIn`]) and answer ([`Decision`]).
//!
//! It runs at the callback, after the code exchange and the checks that the profile belongs to
//! the flow and to the admitted set, and before any session exists: on the full profile as
//! WorkOS returned it, with `raw_attributes` and the provider's `oauth_tokens`, neither of which
//! ever enters the session. The shortcuts run first, then the hook. A hook that denies, fails,
//! panics or outlives its deadline means no session.

mod rules;

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

pub use crate::claims::Claims;
pub(crate) use rules::Rule;

use crate::profile::Profile;
use crate::secret::{OAuthAccessToken, OAuthRefreshToken};
use crate::selector::Selector;
use crate::store::BoxFuture;

/// A sign-in waiting for the app's decision: everything WorkOS returned for it.
///
/// `Debug` shows the profile and the tokens' metadata, never `raw_attributes` values or a token.
#[derive(Clone)]
#[non_exhaustive]
pub struct SignIn {
    /// The profile, complete (before anything is trimmed to fit the session cookie).
    pub profile: Profile,
    /// The identity provider's unfiltered attributes. Never stored in a session or logged.
    pub raw_attributes: Map<String, Value>,
    /// The OAuth provider's tokens, when WorkOS returned them (OAuth connections).
    pub oauth_tokens: Option<OAuthTokens>,
    /// What the login asked WorkOS for; the profile is already checked to match it.
    pub selector: Selector,
    /// The `nonce` the login sent WorkOS (kept in its flow cookie), when its authorization
    /// parameters asked for one.
    pub(crate) nonce: Option<String>,
}

impl SignIn {
    /// A sign-in of `profile` through `selector`, with no raw attributes or OAuth tokens (to
    /// test a hook).
    pub fn new(profile: Profile, selector: Selector) -> Self {
        Self {
            profile,
            raw_attributes: Map::new(),
            oauth_tokens: None,
            selector,
            nonce: None,
        }
    }

    /// The `nonce` this login sent WorkOS in the authorization request, when its
    /// [`AuthorizationParams`](crate::AuthorizationParams) asked for one: a fresh random value
    /// per login, kept in the login's signed flow cookie until this callback. An app that
    /// binds it (to an ID token the provider issued, or a record it keeps) compares it here.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// This sign-in with `nonce` as its login's nonce (to test a hook).
    pub fn with_nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }
}

impl fmt::Debug for SignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw: Vec<&str> = self.raw_attributes.keys().map(String::as_str).collect();
        f.debug_struct("SignIn")
            .field("profile", &self.profile)
            .field(
                "raw_attributes",
                &format_args!("<{} redacted: {raw:?}>", raw.len()),
            )
            .field("oauth_tokens", &self.oauth_tokens)
            .field("selector", &self.selector)
            // Not a credential, but an app may bind it to one: shown as present or not.
            .field("nonce", &self.nonce.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The OAuth provider's tokens from the token response (`oauth_tokens`), for an app that calls
/// the provider's API on the user's behalf. The tokens print as `<redacted>`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OAuthTokens {
    /// The provider, e.g. `GoogleOAuth`.
    pub provider: String,
    /// The provider's access token.
    pub access_token: OAuthAccessToken,
    /// The provider's refresh token, when it issued one.
    pub refresh_token: Option<OAuthRefreshToken>,
    /// When the access token expires (unix seconds), when given.
    pub expires_at: Option<u64>,
    /// The scopes the access token holds.
    pub scopes: Vec<String>,
}

impl OAuthTokens {
    /// Tokens of `provider` with this access token (to test a hook).
    pub fn new(provider: impl Into<String>, access_token: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            access_token: OAuthAccessToken::new(access_token),
            refresh_token: None,
            expires_at: None,
            scopes: Vec::new(),
        }
    }

    /// Reads the token response's `oauth_tokens`, leniently: `None` when absent, without an
    /// access token, or not the documented shape.
    pub(crate) fn from_json(value: Value) -> Option<Self> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(default, deserialize_with = "null_as_default")]
            provider: String,
            access_token: String,
            #[serde(default)]
            refresh_token: Option<String>,
            #[serde(default)]
            expires_at: Option<u64>,
            #[serde(default, deserialize_with = "null_as_default")]
            scopes: Vec<String>,
        }
        let wire = Wire::deserialize(value).ok()?;
        Some(Self {
            provider: wire.provider,
            access_token: OAuthAccessToken::new(wire.access_token),
            refresh_token: wire.refresh_token.map(OAuthRefreshToken::new),
            expires_at: wire.expires_at,
            scopes: wire.scopes,
        })
    }
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// What the authorization hook answers: allow (with extra session claims, and what to keep of a
/// large profile), or deny with a reason the user sees (escaped) on a 403 page.
///
/// ```
/// use tower_workos_sso::Decision;
///
/// let allowed = Decision::allow()
///     .with_claim("tenant", "acme")
///     .keep_groups(["app-admins", "app-users"]);
/// assert!(allowed.is_allow());
/// let denied = Decision::deny("Your account is suspended.");
/// assert_eq!(denied.denial_reason(), Some("Your account is suspended."));
/// ```
#[derive(Debug)]
#[must_use]
pub struct Decision(Verdict);

#[derive(Debug)]
enum Verdict {
    Allow(Grant),
    Deny(String),
    /// The hook failed (returned an error, or a claim did not serialise): no session.
    Failed(&'static str),
}

/// What an allowed sign-in carries into the session besides the profile.
#[derive(Debug, Default)]
pub(crate) struct Grant {
    pub(crate) claims: Claims,
    /// Only these groups go into the session (`None`: all of them).
    pub(crate) keep_groups: Option<Vec<String>>,
    /// Only these custom attributes go into the session (`None`: all of them).
    pub(crate) keep_custom_attributes: Option<Vec<String>>,
}

/// The longest denial reason shown; longer ones are cut.
const MAX_REASON_CHARS: usize = 300;

impl Decision {
    /// Let the user in.
    pub fn allow() -> Self {
        Decision(Verdict::Allow(Grant::default()))
    }

    /// Keep the user out. `reason` is shown on the 403 page, escaped (at most 300 characters,
    /// control characters replaced); it is never logged, so it may name the user.
    pub fn deny(reason: impl Into<String>) -> Self {
        let reason: String = reason
            .into()
            .trim()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_REASON_CHARS)
            .collect();
        Decision(Verdict::Deny(reason))
    }

    /// Adds a claim to the session (an allow only), readable by handlers through
    /// [`Claims::get`]. A value that does not serialise to JSON fails the sign-in.
    pub fn with_claim(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        if let Verdict::Allow(grant) = &mut self.0
            && grant.claims.insert(name, value).is_err()
        {
            self.0 = Verdict::Failed("claim");
        }
        self
    }

    /// Keeps only these of the profile's groups in the session (the others are dropped and
    /// [`Session::trimmed`](crate::Session::trimmed) says so). For users in more groups than a
    /// cookie holds: authorization has already seen them all.
    pub fn keep_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let Verdict::Allow(grant) = &mut self.0 {
            grant.keep_groups = Some(groups.into_iter().map(Into::into).collect());
        }
        self
    }

    /// Keeps only these of the profile's `custom_attributes` in the session.
    pub fn keep_custom_attributes<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let Verdict::Allow(grant) = &mut self.0 {
            grant.keep_custom_attributes = Some(names.into_iter().map(Into::into).collect());
        }
        self
    }

    /// Whether this lets the user in.
    pub fn is_allow(&self) -> bool {
        matches!(self.0, Verdict::Allow(_))
    }

    /// What an allow grants (tests of the callback).
    #[cfg(test)]
    pub(crate) fn into_grant(self) -> Option<Grant> {
        match self.0 {
            Verdict::Allow(grant) => Some(grant),
            _ => None,
        }
    }

    /// The reason of a denial.
    pub fn denial_reason(&self) -> Option<&str> {
        match &self.0 {
            Verdict::Deny(reason) => Some(reason),
            _ => None,
        }
    }
}

/// A hook's error means no session. The error itself is dropped unread (it might hold
/// anything); the audit event names only its type.
impl<E> From<Result<Decision, E>> for Decision {
    fn from(result: Result<Decision, E>) -> Self {
        result.unwrap_or_else(|_| {
            tracing::warn!(
                error_type = std::any::type_name::<E>(),
                "the authorization hook returned an error"
            );
            Decision(Verdict::Failed("error"))
        })
    }
}

/// The app's hook, whatever its own future and answer types were.
pub(crate) type Hook = Arc<dyn Fn(SignIn) -> BoxFuture<'static, Decision> + Send + Sync>;

/// The shortcuts and the hook of one configuration.
#[derive(Clone)]
pub(crate) struct Authorizer {
    rules: Vec<Rule>,
    hook: Option<Hook>,
    timeout: Duration,
}

/// How long the hook may take by default.
pub(crate) const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// What the authorization step decided.
#[derive(Debug)]
pub(crate) enum Outcome {
    Allow(Grant),
    /// Refused by a shortcut (`rule` is its name) or by the hook (`rule` is `"hook"`).
    Deny {
        rule: &'static str,
        reason: String,
    },
    /// The hook failed: `"error"`, `"claim"`, `"panic"` or `"timeout"`.
    Failed(&'static str),
}

impl Authorizer {
    pub(crate) fn new(rules: Vec<Rule>, hook: Option<Hook>, timeout: Duration) -> Self {
        Self {
            rules,
            hook,
            timeout,
        }
    }

    /// Wraps an app's hook, whatever its future and answer types.
    pub(crate) fn hook<F, Fut, D>(hook: F) -> Hook
    where
        F: Fn(SignIn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = D> + Send + 'static,
        D: Into<Decision>,
    {
        Arc::new(move |sign_in| {
            let future = hook(sign_in);
            Box::pin(async move { future.await.into() })
        })
    }

    /// The shortcuts in order, then the hook, on the full sign-in.
    pub(crate) async fn decide(&self, sign_in: SignIn) -> Outcome {
        if let Some(rule) = self
            .rules
            .iter()
            .find(|rule| !rule.allows(&sign_in.profile))
        {
            return Outcome::Deny {
                rule: rule.name(),
                reason: rule.reason().to_owned(),
            };
        }
        let Some(hook) = &self.hook else {
            return Outcome::Allow(Grant::default());
        };
        // A panic while making the future or polling it is the hook's failure, not the server's.
        let Ok(mut future) = catch_unwind(AssertUnwindSafe(|| hook(sign_in))) else {
            return Outcome::Failed("panic");
        };
        let guarded = std::future::poll_fn(move |cx| {
            catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)))
                .map_or(std::task::Poll::Ready(None), |poll| poll.map(Some))
        });
        match tokio::time::timeout(self.timeout, guarded).await {
            Err(_) => Outcome::Failed("timeout"),
            Ok(None) => Outcome::Failed("panic"),
            Ok(Some(Decision(Verdict::Allow(grant)))) => Outcome::Allow(grant),
            Ok(Some(Decision(Verdict::Deny(reason)))) => Outcome::Deny {
                rule: "hook",
                reason,
            },
            Ok(Some(Decision(Verdict::Failed(why)))) => Outcome::Failed(why),
        }
    }
}

impl Default for Authorizer {
    fn default() -> Self {
        Self::new(Vec::new(), None, DEFAULT_HOOK_TIMEOUT)
    }
}

impl fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorizer")
            .field("rules", &self.rules)
            .field("hook", &self.hook.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in() -> SignIn {
        let profile = Profile::new("prof_1", "alice@example.com")
            .with_organization("org_1")
            .with_groups(["Engineering"]);
        SignIn::new(profile, Selector::organization("org_1").unwrap())
    }

    fn run(authorizer: &Authorizer) -> Outcome {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(authorizer.decide(sign_in()))
    }

    fn with_hook<F, Fut, D>(hook: F) -> Authorizer
    where
        F: Fn(SignIn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = D> + Send + 'static,
        D: Into<Decision>,
    {
        Authorizer::new(
            Vec::new(),
            Some(Authorizer::hook(hook)),
            Duration::from_millis(200),
        )
    }

    #[test]
    fn no_rules_and_no_hook_allow() {
        assert!(matches!(run(&Authorizer::default()), Outcome::Allow(_)));
    }

    #[test]
    fn the_first_failing_rule_refuses_before_the_hook_runs() {
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = ran.clone();
        let authorizer = Authorizer::new(
            vec![
                Rule::Groups(vec!["Engineering".into()]),
                Rule::Roles(vec!["admin".into()]),
            ],
            Some(Authorizer::hook(move |_| {
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
                async { Decision::allow() }
            })),
            DEFAULT_HOOK_TIMEOUT,
        );
        let Outcome::Deny { rule, reason } = run(&authorizer) else {
            panic!("allowed without the role");
        };
        assert_eq!(rule, "role");
        assert_eq!(reason, Rule::Roles(Vec::new()).reason());
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn the_hook_sees_the_sign_in_and_its_claims_come_back() {
        let authorizer = with_hook(|sign_in: SignIn| async move {
            Decision::allow().with_claim("groups_seen", sign_in.profile.groups.len())
        });
        let Outcome::Allow(grant) = run(&authorizer) else {
            panic!("denied");
        };
        assert_eq!(grant.claims.get::<usize>("groups_seen"), Some(1));
    }

    #[test]
    fn denials_errors_panics_and_hangs_never_allow() {
        let denied = with_hook(|_| async { Decision::deny("  no\r\nway  ") });
        assert!(matches!(
            run(&denied),
            Outcome::Deny { rule: "hook", reason } if reason == "no  way"
        ));
        let failing = with_hook(|_| async {
            Err::<Decision, std::io::Error>(std::io::Error::other("db down"))
        });
        assert!(matches!(run(&failing), Outcome::Failed("error")));
        let panicking_future = with_hook(|_| async {
            if true {
                panic!("hook bug");
            }
            Decision::allow()
        });
        assert!(matches!(run(&panicking_future), Outcome::Failed("panic")));
        let panicking_call = with_hook(|_| -> std::future::Ready<Decision> { panic!("hook bug") });
        assert!(matches!(run(&panicking_call), Outcome::Failed("panic")));
        let hanging = with_hook(|_| std::future::pending::<Decision>());
        assert!(matches!(run(&hanging), Outcome::Failed("timeout")));
        struct NotJson;
        impl Serialize for NotJson {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        let bad_claim = with_hook(|_| async { Decision::allow().with_claim("x", NotJson) });
        assert!(matches!(run(&bad_claim), Outcome::Failed("claim")));
    }

    #[test]
    fn long_reasons_are_cut_and_debug_hides_secrets() {
        let long = Decision::deny("x".repeat(1000));
        assert_eq!(long.denial_reason().unwrap().len(), MAX_REASON_CHARS);
        let mut sign_in = sign_in();
        sign_in
            .raw_attributes
            .insert("assertion".into(), Value::from("RAW-SECRET-VALUE"));
        let mut tokens = OAuthTokens::new("GoogleOAuth", "ya29.ACCESS-SECRET");
        tokens.refresh_token = Some(OAuthRefreshToken::new("1//REFRESH-SECRET"));
        sign_in.oauth_tokens = Some(tokens);
        let printed = format!("{sign_in:?}");
        for secret in ["RAW-SECRET", "ACCESS-SECRET", "REFRESH-SECRET"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("GoogleOAuth") && printed.contains("assertion"));
    }

    #[test]
    fn oauth_tokens_parse_leniently() {
        let full = OAuthTokens::from_json(serde_json::json!({
            "provider": "GoogleOAuth", "access_token": "ya29.a", "refresh_token": "1//r",
            "expires_at": 1735141800, "scopes": ["profile", "email"]
        }))
        .unwrap();
        assert_eq!(full.access_token.expose(), "ya29.a");
        assert_eq!(full.refresh_token.unwrap().expose(), "1//r");
        assert_eq!(full.expires_at, Some(1735141800));
        assert_eq!(full.scopes, ["profile", "email"]);
        let bare = OAuthTokens::from_json(serde_json::json!({"access_token": "a", "scopes": null}))
            .unwrap();
        assert!(bare.refresh_token.is_none() && bare.scopes.is_empty());
        for odd in [
            serde_json::json!(null),
            serde_json::json!("token"),
            serde_json::json!({"provider": "GoogleOAuth"}),
            serde_json::json!({"access_token": 1}),
        ] {
            assert!(OAuthTokens::from_json(odd.clone()).is_none(), "{odd}");
        }
    }
}
