//! Who may sign in, before the app's hook: the admitted organizations, connections and
//! providers, the check that a profile belongs to the flow that asked for it, and the audit
//! event of every refused sign-in.
//!
//! The admitted set is the default selector plus the configured `allowed_*` lists (and every
//! organization with `allow_any_organization`). Nothing else is admitted: with no setting at
//! all, no login can start.

use std::collections::HashSet;

use crate::config::SsoConfig;
use crate::profile::Profile;
use crate::selector::Selector;

/// The `tracing` target of audit events.
pub(crate) const AUDIT_TARGET: &str = "tower_workos_sso::audit";

/// The selectors a login may name and the profiles that may get a session, built once.
#[derive(Debug)]
pub(crate) struct Admission {
    organizations: HashSet<String>,
    connections: HashSet<String>,
    providers: HashSet<String>,
    any_organization: bool,
}

impl Admission {
    pub(crate) fn new(config: &SsoConfig) -> Self {
        let mut admission = Admission {
            organizations: HashSet::new(),
            connections: HashSet::new(),
            providers: HashSet::new(),
            any_organization: config.allowed.any_organization,
        };
        for selector in config
            .default_selector
            .iter()
            .chain(&config.allowed.selectors)
        {
            if let Some(id) = selector.organization_id() {
                admission.organizations.insert(id.to_owned());
            } else if let Some(id) = selector.connection_id() {
                admission.connections.insert(id.to_owned());
            } else if let Some(name) = selector.provider_name() {
                admission.providers.insert(name.to_owned());
            }
        }
        admission
    }

    /// Whether a login may ask WorkOS for `selector`. Ids and names compare exactly.
    pub(crate) fn admits(&self, selector: &Selector) -> bool {
        if let Some(id) = selector.organization_id() {
            self.any_organization || self.organizations.contains(id)
        } else if let Some(id) = selector.connection_id() {
            self.connections.contains(id)
        } else {
            selector
                .provider_name()
                .is_some_and(|name| self.providers.contains(name))
        }
    }

    /// Whether any organization is admitted: only then can a connection not listed by id be
    /// admitted through the organization it belongs to.
    pub(crate) fn admits_some_organization(&self) -> bool {
        self.any_organization || !self.organizations.is_empty()
    }

    /// The admitted providers, sorted: the sign-in chooser offers a button for each.
    pub(crate) fn providers(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.providers.iter().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Whether `profile` comes from something admitted: its organization, its connection, or
    /// (for OAuth) its provider.
    pub(crate) fn admits_profile(&self, profile: &Profile) -> bool {
        let organization = profile.organization_id.as_deref();
        organization.is_some_and(|id| self.any_organization || self.organizations.contains(id))
            || self.connections.contains(profile.connection_id.as_str())
            || self.providers.contains(profile.connection_type.as_str())
    }

    /// The profile returned at the callback, checked against the flow's selector (`asked`) and
    /// the admitted set, in that order.
    pub(crate) fn check(&self, asked: &Selector, profile: &Profile) -> Result<(), Refusal> {
        if !bound(asked, profile) {
            return Err(Refusal::FlowMismatch);
        }
        if !self.admits_profile(profile) {
            return Err(Refusal::NotAdmitted);
        }
        Ok(())
    }
}

/// Whether `profile` is what a login for `asked` must return: the organization's, the
/// connection's, or the provider's.
pub(crate) fn bound(asked: &Selector, profile: &Profile) -> bool {
    asked.is_bound(profile)
}

/// Why a sign-in was refused: the `reason` of its audit event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The login named, or the profile came from, something not admitted.
    NotAdmitted,
    /// The profile is not of the organization, connection or provider the flow asked for.
    FlowMismatch,
    /// A shortcut or the hook said no.
    Denied,
    /// The hook returned an error, panicked or ran out of time.
    HookFailed,
    /// Even trimmed, the session would not fit in a cookie.
    TooLarge,
}

impl Refusal {
    /// The stable code logged as `reason`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Refusal::NotAdmitted => "not_admitted",
            Refusal::FlowMismatch => "flow_mismatch",
            Refusal::Denied => "denied",
            Refusal::HookFailed => "hook_failed",
            Refusal::TooLarge => "too_large",
        }
    }
}

/// The ids an audit event carries, where known: never an email, token, code or cookie.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AuditIds<'a> {
    pub(crate) organization_id: Option<&'a str>,
    pub(crate) connection_id: Option<&'a str>,
    pub(crate) provider: Option<&'a str>,
    pub(crate) profile_id: Option<&'a str>,
    /// What the flow asked for, as `organization=org_...`.
    pub(crate) asked: Option<&'a Selector>,
}

impl<'a> AuditIds<'a> {
    /// The ids a selector names.
    pub(crate) fn of_selector(selector: &'a Selector) -> Self {
        Self {
            organization_id: selector.organization_id(),
            connection_id: selector.connection_id(),
            provider: selector.provider_name(),
            ..Self::default()
        }
    }

    /// The ids of a profile, and what its flow asked for.
    pub(crate) fn of_profile(profile: &'a Profile, asked: Option<&'a Selector>) -> Self {
        let non_empty = |s: &'a str| (!s.is_empty()).then_some(s);
        Self {
            organization_id: profile.organization_id.as_deref(),
            connection_id: non_empty(&profile.connection_id),
            provider: None,
            profile_id: non_empty(&profile.id),
            asked,
        }
    }
}

/// Logs one refused sign-in under [`AUDIT_TARGET`]: `reason` is the refusal's code, `rule` says
/// which shortcut, `"hook"`, or how the hook failed. WARN for what hints at an attack or a
/// fault (`flow_mismatch`, `hook_failed`, `too_large`), INFO otherwise.
pub(crate) fn audit(refusal: Refusal, rule: Option<&'static str>, ids: AuditIds<'_>) {
    let asked = ids.asked.map(|selector| {
        let (kind, value) = selector.param();
        format!("{kind}={value}")
    });
    macro_rules! event {
        ($level:ident) => {
            tracing::$level!(
                target: AUDIT_TARGET,
                reason = refusal.code(),
                rule,
                organization_id = ids.organization_id,
                connection_id = ids.connection_id,
                provider = ids.provider,
                profile_id = ids.profile_id,
                asked = asked.as_deref(),
                "sign-in refused"
            )
        };
    }
    match refusal {
        Refusal::NotAdmitted | Refusal::Denied => event!(info),
        Refusal::FlowMismatch | Refusal::HookFailed | Refusal::TooLarge => event!(warn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(
        configure: impl FnOnce(crate::SsoConfigBuilder) -> crate::SsoConfigBuilder,
    ) -> Admission {
        let builder = SsoConfig::builder()
            .api_key("sk_test")
            .client_id("client_1")
            .redirect_uri("https://app.test/auth/callback")
            .session_secret(vec![1u8; 32]);
        Admission::new(&configure(builder).build().unwrap())
    }

    fn org(id: &str) -> Selector {
        Selector::organization(id).unwrap()
    }
    fn conn(id: &str) -> Selector {
        Selector::connection(id).unwrap()
    }
    fn provider(name: &str) -> Selector {
        Selector::provider(name).unwrap()
    }

    #[test]
    fn nothing_configured_admits_nothing() {
        let none = admission(|b| b);
        for selector in [org("org_1"), conn("conn_1"), provider("GoogleOAuth")] {
            assert!(!none.admits(&selector), "{selector:?}");
        }
        let profile = Profile::new("prof_1", "a@b.test")
            .with_organization("org_1")
            .with_connection("conn_1", "GoogleOAuth");
        assert!(!none.admits_profile(&profile));
    }

    #[test]
    fn only_the_default_selector_is_admitted_by_default() {
        let default = admission(|b| b.default_selector(org("org_01ACME")));
        assert!(default.admits(&org("org_01ACME")));
        for other in [
            org("org_01GLOBEX"),
            org("org_01acme"),
            org("org_01ACMEX"),
            conn("conn_01ACMEOKTA"),
            provider("GoogleOAuth"),
            provider("OktaSAML"),
        ] {
            assert!(!default.admits(&other), "{other:?}");
        }
    }

    #[test]
    fn allow_lists_add_to_the_default_and_any_organization_admits_only_organizations() {
        let listed = admission(|b| {
            b.default_selector(org("org_01ACME"))
                .allowed_connections(["conn_01G"])
                .allowed_providers(["GoogleOAuth"])
        });
        assert!(listed.admits(&org("org_01ACME")));
        assert!(listed.admits(&conn("conn_01G")));
        assert!(listed.admits(&provider("GoogleOAuth")));
        assert!(!listed.admits(&provider("MicrosoftOAuth")));
        let any = admission(|b| b.allow_any_organization());
        assert!(any.admits(&org("org_01ANY")));
        assert!(!any.admits(&conn("conn_01G")));
        assert!(!any.admits(&provider("GoogleOAuth")));
        let google =
            Profile::new("prof_1", "e@gmail.test").with_connection("conn_01GOOGLE", "GoogleOAuth");
        assert!(
            !any.admits_profile(&google),
            "an OAuth profile has no organization"
        );
        assert!(any.admits_profile(&google.clone().with_organization("org_01X")));
        assert!(listed.admits_profile(&google));
    }

    #[test]
    fn a_profile_must_be_what_its_flow_asked_for() {
        let carol = Profile::new("prof_c", "carol@globex.test")
            .with_organization("org_01GLOBEX")
            .with_connection("conn_01GLOBEX", "AzureSAML");
        assert!(bound(&org("org_01GLOBEX"), &carol));
        assert!(!bound(&org("org_01ACME"), &carol));
        assert!(bound(&conn("conn_01GLOBEX"), &carol));
        assert!(!bound(&conn("conn_01ACMEOKTA"), &carol));
        assert!(bound(&provider("AzureSAML"), &carol));
        assert!(!bound(&provider("GoogleOAuth"), &carol));
        let bare = Profile::new("prof_x", "x@y.test");
        for asked in [org("org_1"), conn("conn_1"), provider("GoogleOAuth")] {
            assert!(!bound(&asked, &bare), "{asked:?}");
        }

        let admission = admission(|b| b.allow_any_organization());
        assert_eq!(admission.check(&org("org_01GLOBEX"), &carol), Ok(()));
        assert_eq!(
            admission.check(&org("org_01ACME"), &carol),
            Err(Refusal::FlowMismatch)
        );
        // Bound to its flow, but from nothing admitted (say the flow began under another
        // configuration).
        let orphan = Profile::new("prof_o", "o@x.test").with_connection("conn_9", "OktaSAML");
        assert_eq!(
            admission.check(&conn("conn_9"), &orphan),
            Err(Refusal::NotAdmitted)
        );
    }
}
