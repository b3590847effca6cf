//! `Claims`: what the authorization hook adds to a session, for handlers to read.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Extra claims the app's [authorization hook](crate::SsoConfigBuilder::authorize) put in the
/// session, by name. They travel in the signed session token next to the profile, so they are
/// as trustworthy as the profile, and count towards the cookie's size.
///
/// Handlers find them in [`Session::claims`](crate::Session::claims), or (with the `axum`
/// feature) take `Claims` as an argument.
///
/// ```
/// use tower_workos_sso::{Claims, Decision};
///
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct Plan { tier: String, seats: u32 }
///
/// // In the authorization hook:
/// let decision = Decision::allow().with_claim("plan", Plan { tier: "pro".into(), seats: 5 });
/// # let _ = decision;
/// // ...and later, in a handler, from `session.claims` (here built by hand, as a test would):
/// let mut claims = Claims::new();
/// claims.insert("plan", Plan { tier: "pro".into(), seats: 5 })?;
/// let plan: Plan = claims.get("plan").unwrap();
/// assert_eq!(plan.seats, 5);
/// assert_eq!(claims.get::<Plan>("missing"), None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Claims(Map<String, Value>);

impl Claims {
    /// No claims.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the claim `name` to `value` (as JSON), replacing any claim of that name.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        value: impl Serialize,
    ) -> Result<(), serde_json::Error> {
        self.0.insert(name.into(), serde_json::to_value(value)?);
        Ok(())
    }

    /// The claim `name` as a `T`; `None` when it is absent or not a `T`.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        T::deserialize(self.0.get(name)?).ok()
    }

    /// The claim `name` as JSON.
    pub fn get_value(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// Whether there is a claim `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Whether the hook added no claim.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many claims there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Every claim, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_read_back_as_the_type_they_were_written_as() {
        let mut claims = Claims::new();
        claims.insert("teams", ["a", "b"]).unwrap();
        claims.insert("admin", true).unwrap();
        assert_eq!(claims.get::<Vec<String>>("teams").unwrap(), ["a", "b"]);
        assert_eq!(claims.get::<bool>("admin"), Some(true));
        assert_eq!(claims.get::<u32>("admin"), None, "not a number");
        assert!(claims.contains("teams") && !claims.contains("plan"));
        assert_eq!(claims.len(), 2);
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"admin": true, "teams": ["a", "b"]})
        );
        assert_eq!(serde_json::from_value::<Claims>(json).unwrap(), claims);
    }
}
