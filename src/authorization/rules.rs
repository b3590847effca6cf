//! The configuration shortcuts of the authorization step: allow-lists of email domains,
//! connection types, groups and roles, each refusing with a fixed reason.

use crate::profile::Profile;

/// One allow-list. A profile passes when it matches at least one entry; an empty list lets
/// nobody through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// The email's domain (after the last `@`, compared without case) is listed.
    EmailDomains(Vec<String>),
    /// The profile's `connection_type` is listed, exactly.
    ConnectionTypes(Vec<String>),
    /// At least one of the profile's groups is listed, exactly.
    Groups(Vec<String>),
    /// The profile holds at least one listed role (primary or any of `roles`).
    Roles(Vec<String>),
}

impl Rule {
    /// Its name in audit events (`rule = ...`).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Rule::EmailDomains(_) => "email_domain",
            Rule::ConnectionTypes(_) => "connection_type",
            Rule::Groups(_) => "group",
            Rule::Roles(_) => "role",
        }
    }

    /// What the refusal page says: fixed, never the profile's values.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Rule::EmailDomains(_) => "Accounts of your email domain may not sign in here.",
            Rule::ConnectionTypes(_) => "This kind of sign-in may not be used here.",
            Rule::Groups(_) => "You are not in a group that may use this application.",
            Rule::Roles(_) => "You do not have a role that may use this application.",
        }
    }

    /// Whether `profile` passes.
    pub(crate) fn allows(&self, profile: &Profile) -> bool {
        match self {
            Rule::EmailDomains(domains) => profile
                .email
                .rsplit_once('@')
                .is_some_and(|(_, domain)| domains.iter().any(|d| d.eq_ignore_ascii_case(domain))),
            Rule::ConnectionTypes(types) => types.iter().any(|t| *t == profile.connection_type),
            Rule::Groups(groups) => profile.groups.iter().any(|g| groups.iter().any(|k| k == g)),
            Rule::Roles(roles) => roles.iter().any(|r| profile.has_role(r)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn email_domains_match_the_whole_domain_without_case() {
        let rule = Rule::EmailDomains(list(&["example.com"]));
        for (email, allowed) in [
            ("alice@example.com", true),
            ("Alice@EXAMPLE.com", true),
            ("mallory@example.com.evil.test", false),
            ("mallory@evil-example.com", false),
            ("mallory@sub.example.com", false),
            ("example.com@evil.test", false),
            ("\"a@example.com\"@evil.test", false),
            ("no-at-sign", false),
            ("", false),
        ] {
            assert_eq!(
                rule.allows(&Profile::new("prof_1", email)),
                allowed,
                "{email}"
            );
        }
    }

    #[test]
    fn groups_roles_and_connection_types_need_one_listed_entry() {
        let alice = Profile::new("prof_1", "a@b.test")
            .with_connection("conn_1", "OktaSAML")
            .with_roles(["member", "admin"])
            .with_groups(["Sales", "Engineering"]);
        assert!(Rule::Groups(list(&["Engineering"])).allows(&alice));
        assert!(!Rule::Groups(list(&["engineering"])).allows(&alice));
        assert!(Rule::Roles(list(&["owner", "admin"])).allows(&alice));
        assert!(!Rule::Roles(list(&["owner"])).allows(&alice));
        assert!(Rule::ConnectionTypes(list(&["OktaSAML"])).allows(&alice));
        assert!(!Rule::ConnectionTypes(list(&["oktasaml"])).allows(&alice));
        for empty in [
            Rule::EmailDomains(Vec::new()),
            Rule::ConnectionTypes(Vec::new()),
            Rule::Groups(Vec::new()),
            Rule::Roles(Vec::new()),
        ] {
            assert!(!empty.allows(&alice), "{} with no entries", empty.name());
        }
    }
}
