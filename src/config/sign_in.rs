//! The settings of who may sign in: the admitted organizations, connections and providers, the
//! authorization shortcuts, and the authorization hook.

use std::future::Future;
use std::time::Duration;

use super::url::is_token_text;
use super::{ConfigError, SsoConfigBuilder};
use crate::authorization::{Authorizer, DEFAULT_HOOK_TIMEOUT, Decision, Hook, Rule, SignIn};
use crate::selector::Selector;

/// The selectors a login may name, validated. The default selector is admitted as well.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Allowed {
    pub(crate) selectors: Vec<Selector>,
    pub(crate) any_organization: bool,
}

/// What the builder collects for [`Allowed`] and the [`Authorizer`], checked in `build`.
#[derive(Clone)]
pub(crate) struct SignInSettings {
    pub(super) organizations: Vec<String>,
    pub(super) connections: Vec<String>,
    pub(super) providers: Vec<String>,
    pub(super) any_organization: bool,
    pub(super) email_domains: Option<Vec<String>>,
    pub(super) connection_types: Option<Vec<String>>,
    pub(super) groups: Option<Vec<String>>,
    pub(super) roles: Option<Vec<String>>,
    pub(super) hook: Option<Hook>,
    pub(super) hook_timeout: Duration,
}

impl Default for SignInSettings {
    fn default() -> Self {
        Self {
            organizations: Vec::new(),
            connections: Vec::new(),
            providers: Vec::new(),
            any_organization: false,
            email_domains: None,
            connection_types: None,
            groups: None,
            roles: None,
            hook: None,
            hook_timeout: DEFAULT_HOOK_TIMEOUT,
        }
    }
}

fn extend<I, S>(list: &mut Vec<String>, items: I)
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    list.extend(items.into_iter().map(Into::into));
}

impl SsoConfigBuilder {
    /// Organizations (`org_...`) a login may name with `organization=`, besides the default
    /// selector. Calls add up. Anything not admitted is refused before any redirect to WorkOS,
    /// and a profile from outside the admitted set never gets a session.
    ///
    /// ```
    /// use tower_workos_sso::{Selector, SsoConfig};
    ///
    /// let config = SsoConfig::builder()
    ///     # .api_key("sk_test_example").client_id("client_example")
    ///     # .redirect_uri("https://app.example.com/auth/callback")
    ///     # .session_secret(*b"an example secret of at least 32 bytes")
    ///     .default_selector(Selector::organization("org_01ACME")?)
    ///     .allowed_organizations(["org_01GLOBEX"])
    ///     .allowed_providers(["GoogleOAuth"])
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allowed_organizations<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        extend(&mut self.sign_in.organizations, ids);
        self
    }

    /// Connections (`conn_...`) a login may name with `connection=`, besides the default
    /// selector. Calls add up. Admitting an organization does not admit its connections by id.
    pub fn allowed_connections<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        extend(&mut self.sign_in.connections, ids);
        self
    }

    /// OAuth providers (`GoogleOAuth`, `MicrosoftOAuth`, ...) a login may name with
    /// `provider=`, besides the default selector. Calls add up.
    pub fn allowed_providers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        extend(&mut self.sign_in.providers, names);
        self
    }

    /// Admits every organization (multi-tenant apps): any `organization=` a login names, and
    /// any profile that belongs to an organization. Connections and providers still need
    /// listing.
    pub fn allow_any_organization(mut self) -> Self {
        self.sign_in.any_organization = true;
        self
    }

    /// Only users whose email domain (after the last `@`, without case) is listed get a
    /// session. Calls add up; an empty list lets nobody in. Refused users see a fixed reason.
    ///
    /// The email is what the identity provider asserts: prefer admitting organizations.
    pub fn allowed_email_domains<I, S>(mut self, domains: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        extend(self.sign_in.email_domains.get_or_insert_default(), domains);
        self
    }

    /// Only profiles whose `connection_type` (`OktaSAML`, `GoogleOAuth`, ...) is listed get a
    /// session. Calls add up; an empty list lets nobody in.
    pub fn allowed_connection_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        extend(self.sign_in.connection_types.get_or_insert_default(), types);
        self
    }

    /// Only users in at least one of these groups get a session, checked on all their groups
    /// (before any are trimmed to fit the cookie). Calls add up; an empty list lets nobody in.
    pub fn allowed_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        extend(self.sign_in.groups.get_or_insert_default(), groups);
        self
    }

    /// Only users holding at least one of these roles (by slug) get a session. Calls add up;
    /// an empty list lets nobody in.
    pub fn allowed_roles<I, S>(mut self, slugs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        extend(self.sign_in.roles.get_or_insert_default(), slugs);
        self
    }

    /// The app's authorization hook: runs at every sign-in after the code exchange (and after
    /// the shortcuts above), before the session is issued, on the full [`SignIn`] (profile with
    /// every group, `raw_attributes`, the provider's OAuth tokens). Its [`Decision`] allows,
    /// with extra session claims, or denies with a reason shown on a 403 page. It may also
    /// answer `Result<Decision, E>`: an error means no session.
    ///
    /// A hook that panics or takes longer than [`authorize_timeout`](Self::authorize_timeout)
    /// gives no session and a 500 page; the server carries on. Calling this again replaces the
    /// hook.
    ///
    /// ```
    /// use tower_workos_sso::{Decision, SignIn, SsoConfig};
    ///
    /// let config = SsoConfig::builder()
    ///     # .api_key("sk_test_example").client_id("client_example")
    ///     # .redirect_uri("https://app.example.com/auth/callback")
    ///     # .session_secret(*b"an example secret of at least 32 bytes")
    ///     .authorize(|sign_in: SignIn| async move {
    ///         if sign_in.profile.groups.iter().any(|g| g == "Contractors") {
    ///             return Decision::deny("Contractors use the partner portal.");
    ///         }
    ///         let admin = sign_in.profile.has_role("admin");
    ///         Decision::allow().with_claim("admin", admin).keep_groups(["Engineering"])
    ///     })
    ///     .build()?;
    /// # Ok::<(), tower_workos_sso::ConfigError>(())
    /// ```
    pub fn authorize<F, Fut, D>(mut self, hook: F) -> Self
    where
        F: Fn(SignIn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = D> + Send + 'static,
        D: Into<Decision>,
    {
        self.sign_in.hook = Some(Authorizer::hook(hook));
        self
    }

    /// How long the authorization hook may take. Default 10 seconds.
    pub fn authorize_timeout(mut self, timeout: Duration) -> Self {
        self.sign_in.hook_timeout = timeout;
        self
    }
}

impl SignInSettings {
    /// The admitted selectors and the authorizer, or the setting that is wrong.
    pub(super) fn build(self) -> Result<(Allowed, Authorizer), ConfigError> {
        let mut selectors = Vec::new();
        type Make = fn(String) -> Result<Selector, crate::selector::InvalidSelector>;
        let kinds: [(&'static str, Vec<String>, Make); 3] = [
            (
                "allowed_organizations",
                self.organizations,
                Selector::organization,
            ),
            (
                "allowed_connections",
                self.connections,
                Selector::connection,
            ),
            ("allowed_providers", self.providers, Selector::provider),
        ];
        for (setting, values, make) in kinds {
            for value in values {
                let value = value.trim();
                if value == "*" {
                    return Err(ConfigError::new(
                        setting,
                        "`*` is not an id: use allow_any_organization() (SSO_ALLOWED_ORGANIZATIONS=*)",
                    ));
                }
                let selector = make(value.to_owned())
                    .map_err(|problem| ConfigError::new(setting, problem.to_string()))?;
                if !selectors.contains(&selector) {
                    selectors.push(selector);
                }
            }
        }
        let allowed = Allowed {
            selectors,
            any_organization: self.any_organization,
        };

        let mut rules = Vec::new();
        if let Some(domains) = self.email_domains {
            let domains = checked("allowed_email_domains", domains, |d| {
                d.len() <= 253
                    && !d.starts_with('.')
                    && d.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            })?;
            rules.push(Rule::EmailDomains(domains));
        }
        if let Some(types) = self.connection_types {
            let types = checked("allowed_connection_types", types, |t| {
                t.len() <= 64 && is_token_text(t)
            })?;
            rules.push(Rule::ConnectionTypes(types));
        }
        if let Some(groups) = self.groups {
            rules.push(Rule::Groups(checked("allowed_groups", groups, |_| true)?));
        }
        if let Some(roles) = self.roles {
            rules.push(Rule::Roles(checked("allowed_roles", roles, |_| true)?));
        }
        if self.hook_timeout.is_zero() {
            return Err(ConfigError::new("authorize_timeout", "must be above zero"));
        }
        Ok((
            allowed,
            Authorizer::new(rules, self.hook, self.hook_timeout),
        ))
    }
}

/// Every entry trimmed, non-empty and passing `valid`.
fn checked(
    setting: &'static str,
    values: Vec<String>,
    valid: impl Fn(&str) -> bool,
) -> Result<Vec<String>, ConfigError> {
    values
        .into_iter()
        .map(|value| {
            let value = value.trim().to_owned();
            if value.is_empty() || value.chars().any(char::is_control) || !valid(&value) {
                Err(ConfigError::new(
                    setting,
                    "every entry must be a non-empty, well-formed value",
                ))
            } else {
                Ok(value)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::{setting_of, valid};

    #[test]
    fn admitted_selectors_are_validated_like_selectors() {
        let config = valid()
            .allowed_organizations(["org_01A", "org_01A"])
            .allowed_connections([" conn_01B "])
            .allowed_providers(["GoogleOAuth"])
            .build()
            .unwrap();
        assert_eq!(
            config.allowed.selectors,
            [
                Selector::organization("org_01A").unwrap(),
                Selector::connection("conn_01B").unwrap(),
                Selector::provider("GoogleOAuth").unwrap(),
            ]
        );
        assert!(!config.allowed.any_organization);
        for (builder, setting) in [
            (
                valid().allowed_organizations(["conn_01B"]),
                "allowed_organizations",
            ),
            (
                valid().allowed_organizations(["*"]),
                "allowed_organizations",
            ),
            (valid().allowed_organizations([""]), "allowed_organizations"),
            (
                valid().allowed_connections(["org_01A"]),
                "allowed_connections",
            ),
            (
                valid().allowed_providers(["google oauth"]),
                "allowed_providers",
            ),
            (
                valid().allowed_email_domains(["@example.com"]),
                "allowed_email_domains",
            ),
            (valid().allowed_email_domains([""]), "allowed_email_domains"),
            (
                valid().allowed_connection_types(["Okta SAML"]),
                "allowed_connection_types",
            ),
            (valid().allowed_groups(["  "]), "allowed_groups"),
            (valid().allowed_roles(["a\nb"]), "allowed_roles"),
            (
                valid().authorize_timeout(Duration::ZERO),
                "authorize_timeout",
            ),
        ] {
            assert_eq!(setting_of(builder), setting);
        }
        let error = valid()
            .allowed_connections(["org_01A"])
            .build()
            .unwrap_err();
        assert_eq!(error.env_var(), Some("SSO_ALLOWED_CONNECTIONS"));
    }

    #[test]
    fn shortcuts_become_rules_in_a_fixed_order() {
        let config = valid()
            .allowed_roles(["admin"])
            .allowed_email_domains(["Example.com"])
            .allowed_groups(Vec::<String>::new())
            .build()
            .unwrap();
        let printed = format!("{:?}", config.authorizer);
        assert!(
            printed.contains(r#"EmailDomains(["Example.com"]), Groups([]), Roles(["admin"])"#),
            "{printed}"
        );
        assert!(printed.contains("hook: false"), "{printed}");
    }
}
