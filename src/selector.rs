//! `Selector`: which identity provider WorkOS should send a user to, validated on the way in.
//!
//! A selector can only be built through its checked constructors, so an unchecked value such as
//! an organization id without its `org_` prefix never reaches an authorization URL. (The shape,
//! a public type over a private kind, follows tower-http's `AllowOrigin`.)

use std::fmt;

use crate::profile::Profile;

/// Which identity provider WorkOS should send the user to: exactly one per login.
///
/// ```
/// use tower_workos_sso::Selector;
///
/// let acme = Selector::organization("org_01ACME").unwrap();
/// assert_eq!(acme.organization_id(), Some("org_01ACME"));
/// assert!(Selector::organization("conn_01ACME").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Selector(Kind);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Organization(String),
    Connection(String),
    Provider(String),
}

/// A selector value that is not a well-formed WorkOS id or provider name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidSelector(&'static str);

impl fmt::Display for InvalidSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for InvalidSelector {}

impl Selector {
    /// A WorkOS organization (`org_...`); WorkOS picks its connection.
    pub fn organization(id: impl Into<String>) -> Result<Self, InvalidSelector> {
        let id = id.into();
        prefixed_id(&id, "org_")
            .then_some(Selector(Kind::Organization(id)))
            .ok_or(InvalidSelector("an organization id looks like org_01H..."))
    }

    /// A WorkOS connection (`conn_...`).
    pub fn connection(id: impl Into<String>) -> Result<Self, InvalidSelector> {
        let id = id.into();
        prefixed_id(&id, "conn_")
            .then_some(Selector(Kind::Connection(id)))
            .ok_or(InvalidSelector("a connection id looks like conn_01H..."))
    }

    /// An OAuth provider such as `GoogleOAuth` or `MicrosoftOAuth`.
    pub fn provider(name: impl Into<String>) -> Result<Self, InvalidSelector> {
        let name = name.into();
        let valid = (1..=64).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.bytes().all(|b| b.is_ascii_alphanumeric());
        valid
            .then_some(Selector(Kind::Provider(name)))
            .ok_or(InvalidSelector("a provider is a name such as GoogleOAuth"))
    }

    /// The organization id, if this selects an organization.
    pub fn organization_id(&self) -> Option<&str> {
        match &self.0 {
            Kind::Organization(id) => Some(id),
            _ => None,
        }
    }

    /// The connection id, if this selects a connection.
    pub fn connection_id(&self) -> Option<&str> {
        match &self.0 {
            Kind::Connection(id) => Some(id),
            _ => None,
        }
    }

    /// The provider name, if this selects an OAuth provider.
    pub fn provider_name(&self) -> Option<&str> {
        match &self.0 {
            Kind::Provider(name) => Some(name),
            _ => None,
        }
    }

    /// The authorization URL's query parameter for it: `("organization", "org_...")`.
    pub(crate) fn param(&self) -> (&'static str, &str) {
        match &self.0 {
            Kind::Organization(id) => ("organization", id),
            Kind::Connection(id) => ("connection", id),
            Kind::Provider(name) => ("provider", name),
        }
    }

    /// Whether `profile` is what a login for this selector must return: the organization's,
    /// the connection's, or the provider's. Ids and names compare exactly.
    pub(crate) fn is_bound(&self, profile: &Profile) -> bool {
        match &self.0 {
            Kind::Organization(id) => profile.organization_id.as_deref() == Some(id.as_str()),
            Kind::Connection(id) => profile.connection_id == *id,
            Kind::Provider(name) => profile.connection_type == *name,
        }
    }

    /// The selector a query parameter names, checked; `None` if `name` is no selector.
    pub(crate) fn from_param(name: &str, value: &str) -> Option<Result<Self, InvalidSelector>> {
        match name {
            "organization" => Some(Selector::organization(value)),
            "connection" => Some(Selector::connection(value)),
            "provider" => Some(Selector::provider(value)),
            _ => None,
        }
    }
}

/// `Selector(organization=org_01ACME)`: ids are not secret.
impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, value) = self.param();
        write!(f, "Selector({name}={value})")
    }
}

fn prefixed_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        (1..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_validated() {
        assert!(Selector::organization("org_01ABC").is_ok());
        assert!(Selector::organization("conn_01ABC").is_err());
        assert!(Selector::organization("org_").is_err());
        assert!(Selector::connection("conn_01ABC").is_ok());
        assert!(Selector::connection("conn_../x").is_err());
        assert!(Selector::provider("GoogleOAuth").is_ok());
        assert!(Selector::provider("google oauth").is_err());
        assert!(Selector::provider("googleOAuth").is_err());
    }

    #[test]
    fn params_round_trip_through_the_checks() {
        for selector in [
            Selector::organization("org_1").unwrap(),
            Selector::connection("conn_1").unwrap(),
            Selector::provider("GoogleOAuth").unwrap(),
        ] {
            let (name, value) = selector.param();
            assert_eq!(
                Selector::from_param(name, value),
                Some(Ok(selector.clone()))
            );
        }
        assert_eq!(Selector::from_param("return_to", "/"), None);
        assert!(matches!(
            Selector::from_param("organization", "conn_1"),
            Some(Err(_))
        ));
    }

    #[test]
    fn accessors_name_only_their_kind() {
        let conn = Selector::connection("conn_1").unwrap();
        assert_eq!(conn.connection_id(), Some("conn_1"));
        assert_eq!(conn.organization_id(), None);
        assert_eq!(conn.provider_name(), None);
        assert_eq!(format!("{conn:?}"), "Selector(connection=conn_1)");
    }
}
