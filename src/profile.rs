//! The signed-in user's WorkOS profile, parsed leniently so new or missing fields never break login.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::session_info::Session;
use crate::shared_str::SharedStr;

/// The authenticated user, as WorkOS reported it at sign-in.
///
/// The layer puts it in the request extensions of every request with a valid session; with the
/// `axum` feature, handlers take it as an argument. Its fields are those of [`ProfileFields`],
/// read and written through it (`profile.email`): a `Profile` is a shared handle, so the layer,
/// its cache of verified sessions and every handler of a request hold one copy of the profile
/// and cloning it costs a reference count, not a copy of every string. Changing a field of a
/// clone copies it first, so clones never see each other's changes.
///
/// The profile the layer puts in the extensions also carries the [`Session`] it was verified
/// with ([`session`](Self::session)), so a request holds one extension, not two. Two profiles
/// are equal when their fields are; the session does not count.
///
/// `raw_attributes` (the IdP's unfiltered assertion) is deliberately absent: it is never kept.
/// Trust `organization_id` and `connection_id` for membership, not the `email` domain.
#[derive(Clone)]
pub struct Profile {
    /// One reference count per clone and drop (every request clones the profile twice and
    /// drops it twice); the fields have a count of their own so that the profile carrying a
    /// session shares them with the one it was made from.
    shared: Arc<Shared>,
}

/// What a [`Profile`] handle points at.
#[derive(Clone)]
struct Shared {
    fields: Arc<ProfileFields>,
    session: Option<Session>,
}

/// The fields of a [`Profile`], as WorkOS names them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProfileFields {
    /// WorkOS profile id (`prof_...`); the session's `sub`.
    pub id: SharedStr,
    /// The user's email address as the identity provider asserted it.
    pub email: SharedStr,
    /// Given name, when the identity provider sends one.
    #[serde(default, deserialize_with = "null_as_default")]
    pub first_name: Option<SharedStr>,
    /// Family name, when the identity provider sends one.
    #[serde(default, deserialize_with = "null_as_default")]
    pub last_name: Option<SharedStr>,
    /// Full name, when the identity provider sends one.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: Option<SharedStr>,
    /// The organization (`org_...`) the connection belongs to; none for OAuth providers.
    #[serde(default, deserialize_with = "null_as_default")]
    pub organization_id: Option<SharedStr>,
    /// The connection (`conn_...`) the user signed in through.
    #[serde(default, deserialize_with = "null_as_default")]
    pub connection_id: SharedStr,
    /// The kind of connection (`OktaSAML`, `GoogleOAuth`, ...); unknown kinds are kept as they are.
    #[serde(default, deserialize_with = "null_as_default")]
    pub connection_type: SharedStr,
    /// The user's id at the identity provider.
    #[serde(default, deserialize_with = "null_as_default")]
    pub idp_id: SharedStr,
    /// The user's primary role in the organization.
    #[serde(default, deserialize_with = "null_as_default")]
    pub role: Option<Role>,
    /// All of the user's roles in the organization.
    #[serde(default, deserialize_with = "null_as_default")]
    pub roles: Vec<Role>,
    /// The groups the identity provider says the user is in.
    #[serde(default, deserialize_with = "null_as_default")]
    pub groups: Vec<SharedStr>,
    /// Attributes mapped for the connection in the WorkOS dashboard.
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
}

/// A role assigned in WorkOS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Role {
    /// The role's slug, e.g. `admin`.
    pub slug: SharedStr,
}

impl Profile {
    /// A profile with only its required fields, e.g. for a service account's token or a test.
    ///
    /// ```
    /// use tower_workos_sso::Profile;
    ///
    /// let profile = Profile::new("prof_01", "ci@example.com")
    ///     .with_organization("org_01ACME")
    ///     .with_groups(["deployers"]);
    /// assert_eq!(profile.organization_id.as_deref(), Some("org_01ACME"));
    /// ```
    pub fn new(id: impl Into<SharedStr>, email: impl Into<SharedStr>) -> Self {
        Self::from(ProfileFields {
            id: id.into(),
            email: email.into(),
            first_name: None,
            last_name: None,
            name: None,
            organization_id: None,
            connection_id: SharedStr::default(),
            connection_type: SharedStr::default(),
            idp_id: SharedStr::default(),
            role: None,
            roles: Vec::new(),
            groups: Vec::new(),
            custom_attributes: serde_json::Map::new(),
        })
    }

    /// Sets the organization (`org_...`).
    pub fn with_organization(mut self, id: impl Into<SharedStr>) -> Self {
        self.organization_id = Some(id.into());
        self
    }

    /// Sets the connection (`conn_...`) and its type (`OktaSAML`, `GoogleOAuth`, ...).
    pub fn with_connection(mut self, id: impl Into<SharedStr>, kind: impl Into<SharedStr>) -> Self {
        self.connection_id = id.into();
        self.connection_type = kind.into();
        self
    }

    /// Sets the roles by slug; the first is the primary role.
    pub fn with_roles<I, S>(mut self, slugs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<SharedStr>,
    {
        self.roles = slugs.into_iter().map(Role::new).collect();
        self.role = self.roles.first().cloned();
        self
    }

    /// Sets the groups.
    pub fn with_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<SharedStr>,
    {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// The best display name: `name`, else first and last name, else the email.
    pub fn display_name(&self) -> String {
        if let Some(name) = self.name.as_deref().filter(|n| !n.trim().is_empty()) {
            return name.to_owned();
        }
        let joined = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|part| !part.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if joined.is_empty() {
            self.email.to_string()
        } else {
            joined
        }
    }

    /// The fields themselves, to move them out; copied only if another handle shares them.
    pub fn into_fields(self) -> ProfileFields {
        Arc::unwrap_or_clone(Arc::unwrap_or_clone(self.shared).fields)
    }

    /// Whether the user holds the role with this slug.
    pub fn has_role(&self, slug: &str) -> bool {
        self.role.iter().chain(&self.roles).any(|r| r.slug == slug)
    }
}

impl From<ProfileFields> for Profile {
    fn from(fields: ProfileFields) -> Self {
        Self {
            shared: Arc::new(Shared {
                fields: Arc::new(fields),
                session: None,
            }),
        }
    }
}

impl Profile {
    /// The session this profile was verified with: set on the profile the layer puts in the
    /// request extensions, `None` on one built in code (or deserialized).
    ///
    /// ```
    /// # use tower_workos_sso::Profile;
    /// fn session_id(request: &http::Request<()>) -> Option<&str> {
    ///     let profile = request.extensions().get::<Profile>()?;
    ///     profile.session().map(|session| session.id.as_str())
    /// }
    /// ```
    pub fn session(&self) -> Option<&Session> {
        self.shared.session.as_ref()
    }

    /// The same profile (its fields shared, not copied), carrying `session`.
    pub(crate) fn with_session(&self, session: Session) -> Self {
        Self {
            shared: Arc::new(Shared {
                fields: self.shared.fields.clone(),
                session: Some(session),
            }),
        }
    }
}

impl PartialEq for Profile {
    fn eq(&self, other: &Self) -> bool {
        self.shared.fields == other.shared.fields
    }
}

impl Deref for Profile {
    type Target = ProfileFields;

    fn deref(&self) -> &ProfileFields {
        &self.shared.fields
    }
}

impl DerefMut for Profile {
    /// Copies the fields first if another handle shares them (copy on write).
    fn deref_mut(&mut self) -> &mut ProfileFields {
        Arc::make_mut(&mut Arc::make_mut(&mut self.shared).fields)
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fields.fmt(f)
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.shared.fields.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ProfileFields::deserialize(deserializer).map(Self::from)
    }
}

impl Role {
    /// A role with this slug.
    pub fn new(slug: impl Into<SharedStr>) -> Self {
        Self { slug: slug.into() }
    }
}

/// Treats an explicit `null` like an absent field.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_profile_and_drops_raw_attributes() {
        let json = r#"{"object": "profile", "id": "prof_01", "connection_id": "conn_01",
            "connection_type": "OktaSAML", "organization_id": "org_01", "email": "todd@example.com",
            "first_name": "Todd", "last_name": "Rundgren", "idp_id": "00u1",
            "role": {"slug": "admin"}, "roles": [{"slug": "admin"}], "groups": ["Engineering"],
            "custom_attributes": {"department": "R&D"}, "raw_attributes": {"secret": "assertion"}}"#;
        let profile: Profile = serde_json::from_str(json).unwrap();
        assert_eq!(profile.email, "todd@example.com");
        assert!(profile.has_role("admin"));
        assert_eq!(profile.display_name(), "Todd Rundgren");
        let stored = serde_json::to_string(&profile).unwrap();
        assert!(!stored.contains("assertion"));
    }

    #[test]
    fn nulls_missing_fields_and_unknown_types_are_accepted() {
        let json = r#"{"id": "prof_01", "email": "a@b.test", "first_name": null,
            "last_name": null, "organization_id": null, "connection_type": "SomeNewSAML",
            "roles": null, "role": null, "unknown_field": [1, 2]}"#;
        let profile: Profile = serde_json::from_str(json).unwrap();
        assert_eq!(profile.connection_type, "SomeNewSAML");
        assert_eq!(profile.organization_id, None);
        assert_eq!(profile.display_name(), "a@b.test");
    }

    #[test]
    fn built_profiles_carry_what_was_set() {
        let profile = Profile::new("prof_1", "a@b.test")
            .with_connection("conn_1", "OktaSAML")
            .with_roles(["admin", "viewer"]);
        assert!(profile.has_role("viewer"));
        assert_eq!(profile.role, Some(Role::new("admin")));
        assert_eq!(profile.connection_type, "OktaSAML");
        let json = serde_json::to_value(&profile).unwrap();
        assert_eq!(serde_json::from_value::<Profile>(json).unwrap(), profile);
    }

    #[test]
    fn clones_share_the_fields_until_one_is_changed() {
        let original = Profile::new("prof_1", "a@b.test");
        let mut changed = original.clone();
        assert!(std::ptr::eq(&*original, &*changed));
        changed.email = "c@d.test".into();
        assert_eq!(original.email, "a@b.test");
        assert_eq!(changed.email, "c@d.test");
        assert_ne!(original, changed);
    }

    #[test]
    fn the_profile_carrying_a_session_shares_the_fields_and_keeps_its_session_when_changed() {
        let original = Profile::new("prof_1", "a@b.test");
        let session = Session {
            id: "sid-1".into(),
            authenticated_at: std::time::UNIX_EPOCH,
            issued_at: std::time::UNIX_EPOCH,
            expires_at: std::time::UNIX_EPOCH,
            source: crate::SessionSource::Cookie,
            claims: Default::default(),
            trimmed: Vec::new(),
        };
        let carrying = original.with_session(session);
        assert!(std::ptr::eq(&*original, &*carrying));
        assert!(original.session().is_none());
        let mut changed = carrying.clone();
        changed.email = "c@d.test".into();
        assert_eq!(carrying.email, "a@b.test");
        assert_eq!(changed.session().map(|s| s.id.as_str()), Some("sid-1"));
        assert_eq!(changed.into_fields().email, "c@d.test");
        assert_eq!(carrying.into_fields().email, "a@b.test");
    }

    #[test]
    fn id_and_email_are_required() {
        assert!(serde_json::from_str::<Profile>(r#"{"email": "a@b.test"}"#).is_err());
        assert!(serde_json::from_str::<Profile>(r#"{"id": "prof_1"}"#).is_err());
    }
}
