//! The credentials, connections and users the fake knows, and the profiles it returns for them.

use serde_json::{Value, json};

/// What a [`MockWorkOs`](super::MockWorkOs) knows: its credentials and the connections users sign
/// in through. [`Seed::default`] is a small, fixed cast the crate's tests rely on.
#[derive(Clone, Debug)]
pub struct Seed {
    /// The client id (`client_...`) the fake expects in authorize and token requests.
    pub client_id: String,
    /// The API key (a fake `sk_test_...` value) the fake expects as `client_secret`.
    pub api_key: String,
    /// The SSO connections, each with the users who can sign in through it.
    pub connections: Vec<SeedConnection>,
}

/// One SSO connection of a [`Seed`]: an organization's identity provider or an OAuth provider.
#[derive(Clone, Debug)]
pub struct SeedConnection {
    /// The connection id (`conn_...`).
    pub id: String,
    /// The organization id (`org_...`); `None` for OAuth provider connections.
    pub organization_id: Option<String>,
    /// The organization's display name, shown on the sign-in page.
    pub organization_name: Option<String>,
    /// The WorkOS connection type, such as `OktaSAML` or `GoogleOAuth`. Also what `provider=`
    /// selects in an authorize request.
    pub connection_type: String,
    /// The users who can sign in through this connection.
    pub users: Vec<SeedUser>,
    /// The email domains of the connection (and of its organization), as the directory lists
    /// them.
    pub domains: Vec<String>,
    /// The connection's WorkOS `state`: `active`, or `inactive`, `draft`, ... (then the fake
    /// refuses to sign in through it, as WorkOS does).
    pub state: String,
}

/// One user of a [`SeedConnection`], the source of the profile the fake returns.
#[derive(Clone, Debug)]
pub struct SeedUser {
    /// The WorkOS profile id (`prof_...`).
    pub profile_id: String,
    /// The email address, also what `login_hint` and [`issue_code`](super::MockWorkOs::issue_code)
    /// match (case-insensitively).
    pub email: String,
    /// The first name, if the identity provider sends one.
    pub first_name: Option<String>,
    /// The last name, if the identity provider sends one.
    pub last_name: Option<String>,
    /// The user's id at the identity provider.
    pub idp_id: String,
    /// The slug of the user's role in the organization, if any.
    pub role: Option<String>,
    /// The identity provider groups the user belongs to.
    pub groups: Vec<String>,
}

impl Default for Seed {
    /// Client `client_01TESTKIT`, API key `sk_test_testkit_not_a_real_key`, and three active
    /// connections: Acme Corp on Okta SAML (domain `example.com`: alice@example.com, admin;
    /// bob@example.com, member), Globex on Entra ID SAML (domain `globex.test`:
    /// carol@globex.test, dave@globex.test), and Google OAuth without an organization or domain
    /// (erin@gmail.test).
    fn default() -> Seed {
        Seed {
            client_id: "client_01TESTKIT".into(),
            api_key: "sk_test_testkit_not_a_real_key".into(),
            connections: vec![
                SeedConnection {
                    id: "conn_01ACMEOKTA".into(),
                    organization_id: Some("org_01ACME".into()),
                    organization_name: Some("Acme Corp".into()),
                    connection_type: "OktaSAML".into(),
                    users: vec![
                        SeedUser {
                            role: Some("admin".into()),
                            groups: vec!["Engineering".into()],
                            ..user(
                                "prof_01ALICE",
                                "alice@example.com",
                                "Alice Liddell",
                                "00u1alice",
                            )
                        },
                        SeedUser {
                            role: Some("member".into()),
                            groups: vec!["Sales".into()],
                            ..user("prof_01BOB", "bob@example.com", "Bob Builder", "00u1bob")
                        },
                    ],
                    domains: vec!["example.com".into()],
                    state: "active".into(),
                },
                SeedConnection {
                    id: "conn_01GLOBEXENTRA".into(),
                    organization_id: Some("org_01GLOBEX".into()),
                    organization_name: Some("Globex".into()),
                    connection_type: "AzureSAML".into(),
                    users: vec![
                        user(
                            "prof_01CAROL",
                            "carol@globex.test",
                            "Carol Danvers",
                            "5d3c1a2b-0000-4000-8000-00000000ca01",
                        ),
                        user(
                            "prof_01DAVE",
                            "dave@globex.test",
                            "Dave Lister",
                            "5d3c1a2b-0000-4000-8000-00000000da01",
                        ),
                    ],
                    domains: vec!["globex.test".into()],
                    state: "active".into(),
                },
                SeedConnection {
                    id: "conn_01GOOGLE".into(),
                    organization_id: None,
                    organization_name: None,
                    connection_type: "GoogleOAuth".into(),
                    users: vec![user(
                        "prof_01ERIN",
                        "erin@gmail.test",
                        "Erin Example",
                        "104000000000000000001",
                    )],
                    domains: Vec::new(),
                    state: "active".into(),
                },
            ],
        }
    }
}

/// A seeded user without role or groups; `name` is "First Last".
fn user(profile_id: &str, email: &str, name: &str, idp_id: &str) -> SeedUser {
    let (first, last) = name.split_once(' ').unwrap_or((name, ""));
    SeedUser {
        profile_id: profile_id.into(),
        email: email.into(),
        first_name: Some(first.into()),
        last_name: (!last.is_empty()).then(|| last.into()),
        idp_id: idp_id.into(),
        role: None,
        groups: Vec::new(),
    }
}

/// A user of the seed, by position (the seed never changes once the server runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct UserRef {
    connection: usize,
    user: usize,
}

impl Seed {
    /// The connection and user behind a reference.
    pub(super) fn get(&self, user: UserRef) -> (&SeedConnection, &SeedUser) {
        let connection = &self.connections[user.connection];
        (connection, &connection.users[user.user])
    }

    /// Every user of the given connections (by index), in seed order.
    pub(super) fn users<'a>(
        &'a self,
        connections: &'a [usize],
    ) -> impl Iterator<Item = UserRef> + 'a {
        connections.iter().flat_map(move |&connection| {
            (0..self.connections[connection].users.len())
                .map(move |user| UserRef { connection, user })
        })
    }

    /// The first user of the given connections with this email, compared case-insensitively.
    pub(super) fn find_by_email(&self, connections: &[usize], email: &str) -> Option<UserRef> {
        self.users(connections)
            .find(|&user| self.get(user).1.email.eq_ignore_ascii_case(email))
    }

    /// The user of the given connections with this profile id.
    pub(super) fn find_by_profile_id(&self, connections: &[usize], id: &str) -> Option<UserRef> {
        self.users(connections)
            .find(|&user| self.get(user).1.profile_id == id)
    }

    /// The WorkOS `Profile` object for a user, with every field of the spec.
    pub(super) fn profile_json(&self, user: UserRef) -> Value {
        let (connection, user) = self.get(user);
        let roles: Vec<Value> = user
            .role
            .iter()
            .map(|slug| json!({ "slug": slug }))
            .collect();
        json!({
            "object": "profile",
            "id": user.profile_id,
            "organization_id": connection.organization_id,
            "connection_id": connection.id,
            "connection_type": connection.connection_type,
            "idp_id": user.idp_id,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "name": full_name(user),
            "role": roles.first(),
            "roles": roles,
            "groups": user.groups,
            "custom_attributes": {},
            "raw_attributes": raw_attributes(user),
        })
    }
}

/// "First Last", either alone, or `None` when the IdP sent neither.
pub(super) fn full_name(user: &SeedUser) -> Option<String> {
    let parts: Vec<&str> = [&user.first_name, &user.last_name]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// What an identity provider's assertion might carry. Applications must never store it; tests
/// look for `saml_assertion_id` to prove they do not.
fn raw_attributes(user: &SeedUser) -> Value {
    json!({
        "id": user.idp_id,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "groups": user.groups,
        "saml_assertion_id": format!("_testkit_assertion_{}", user.idp_id),
    })
}
