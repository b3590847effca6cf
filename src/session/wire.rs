//! The session token's claims as they are written: the JWT claims by their registered names,
//! the profile under `p` with short keys, and every empty field left out. A token is HMACed,
//! base64-decoded, searched for in the `Cookie` header and parsed in proportion to its length,
//! and WorkOS's field names with their empty values made up a third of it.
//!
//! | key | profile field | | key | profile field |
//! |---|---|---|---|---|
//! | (`sub`) | `id` | | `ct` | `connection_type` |
//! | `em` | `email` | | `idp` | `idp_id` |
//! | `fn` | `first_name` | | `rl` | `role` (its slug) |
//! | `ln` | `last_name` | | `rls` | `roles` (their slugs) |
//! | `nm` | `name` | | `grp` | `groups` |
//! | `org` | `organization_id` | | `ca` | `custom_attributes` |
//! | `cid` | `connection_id` | | | |

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{BEARER_TYP, SESSION_TYP, SessionClaims};
use crate::claims::Claims;
use crate::profile::{Profile, ProfileFields, Role};

#[derive(Serialize)]
struct ClaimsOut<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    sid: &'a str,
    typ: &'a str,
    iat: u64,
    exp: u64,
    auth_time: u64,
    p: ProfileOut<'a>,
    #[serde(skip_serializing_if = "Claims::is_empty")]
    ext: &'a Claims,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    trm: &'a [String],
}

#[derive(Serialize)]
struct ProfileOut<'a> {
    em: &'a str,
    #[serde(rename = "fn", skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ln: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nm: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    cid: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    ct: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    idp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rl: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rls: Vec<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    grp: &'a [String],
    #[serde(skip_serializing_if = "Map::is_empty")]
    ca: &'a Map<String, Value>,
}

#[derive(Deserialize)]
struct ClaimsIn<'a> {
    iss: String,
    aud: String,
    sub: String,
    sid: String,
    /// Borrowed: it is one of two known words, kept as a constant.
    #[serde(borrow)]
    typ: Cow<'a, str>,
    iat: u64,
    exp: u64,
    auth_time: u64,
    p: ProfileIn,
    #[serde(default)]
    ext: Claims,
    #[serde(default)]
    trm: Vec<String>,
}

#[derive(Deserialize)]
struct ProfileIn {
    em: String,
    #[serde(rename = "fn", default)]
    first_name: Option<String>,
    #[serde(default)]
    ln: Option<String>,
    #[serde(default)]
    nm: Option<String>,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    cid: String,
    #[serde(default)]
    ct: String,
    #[serde(default)]
    idp: String,
    #[serde(default)]
    rl: Option<String>,
    #[serde(default)]
    rls: Vec<String>,
    #[serde(default)]
    grp: Vec<String>,
    #[serde(default)]
    ca: Map<String, Value>,
}

impl Serialize for SessionClaims {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let profile = &self.profile;
        ClaimsOut {
            iss: &self.iss,
            aud: &self.aud,
            sub: &self.profile.id,
            sid: &self.sid,
            typ: self.typ,
            iat: self.iat,
            exp: self.exp,
            auth_time: self.auth_time,
            p: ProfileOut {
                em: &profile.email,
                first_name: profile.first_name.as_deref(),
                ln: profile.last_name.as_deref(),
                nm: profile.name.as_deref(),
                org: profile.organization_id.as_deref(),
                cid: &profile.connection_id,
                ct: &profile.connection_type,
                idp: &profile.idp_id,
                rl: profile.role.as_ref().map(|role| role.slug.as_str()),
                rls: profile
                    .roles
                    .iter()
                    .map(|role| role.slug.as_str())
                    .collect(),
                grp: &profile.groups,
                ca: &profile.custom_attributes,
            },
            ext: &self.ext,
            trm: &self.trm,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SessionClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let c = ClaimsIn::deserialize(deserializer)?;
        let p = c.p;
        let profile = Profile::from(ProfileFields {
            id: c.sub,
            email: p.em,
            first_name: p.first_name,
            last_name: p.ln,
            name: p.nm,
            organization_id: p.org,
            connection_id: p.cid,
            connection_type: p.ct,
            idp_id: p.idp,
            role: p.rl.map(Role::new),
            roles: p.rls.into_iter().map(Role::new).collect(),
            groups: p.grp,
            custom_attributes: p.ca,
        });
        Ok(SessionClaims {
            iss: c.iss,
            aud: c.aud,
            sid: c.sid,
            typ: match &*c.typ {
                SESSION_TYP => SESSION_TYP,
                BEARER_TYP => BEARER_TYP,
                _ => "",
            },
            iat: c.iat,
            exp: c.exp,
            auth_time: c.auth_time,
            profile,
            ext: c.ext,
            trm: c.trm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(profile: Profile) -> SessionClaims {
        SessionClaims {
            iss: "iss".into(),
            aud: "aud".into(),
            sid: "sid".into(),
            typ: SESSION_TYP,
            iat: 1,
            exp: 2,
            auth_time: 1,
            profile,
            ext: Claims::default(),
            trm: Vec::new(),
        }
    }

    #[test]
    fn every_field_survives_and_empty_ones_are_left_out() {
        let mut full = Profile::new("prof_1", "a@b.test")
            .with_organization("org_1")
            .with_connection("conn_1", "OktaSAML")
            .with_groups(["g1", "g2"])
            .with_roles(["admin", "member"]);
        full.first_name = Some("A".into());
        full.last_name = Some("B".into());
        full.name = Some("A B".into());
        full.idp_id = "00u1".into();
        full.role = Some(Role::new("admin"));
        full.custom_attributes.insert("k".into(), Value::from(1));
        let json = serde_json::to_value(claims(full.clone())).unwrap();
        let back: SessionClaims = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back.profile, full);
        assert_eq!(json["p"]["rls"], serde_json::json!(["admin", "member"]));

        let bare = Profile::new("prof_2", "c@d.test");
        let json = serde_json::to_value(claims(bare.clone())).unwrap();
        assert_eq!(json["p"], serde_json::json!({"em": "c@d.test"}));
        assert!(json.get("ext").is_none() && json.get("trm").is_none());
        let back: SessionClaims = serde_json::from_value(json).unwrap();
        assert_eq!(back.profile, bare);
    }

    #[test]
    fn the_old_format_and_ill_typed_profiles_do_not_read() {
        let old = serde_json::json!({
            "iss": "iss", "aud": "aud", "sub": "prof_1", "sid": "s", "typ": "session",
            "iat": 1, "exp": 2, "auth_time": 1,
            "profile": {"id": "prof_1", "email": "a@b.test"},
        });
        assert!(serde_json::from_value::<SessionClaims>(old).is_err());
        let mut claims = serde_json::to_value(claims(Profile::new("p", "a@b.test"))).unwrap();
        for bad in [
            Value::Null,
            serde_json::json!({}),
            serde_json::json!({"em": 1}),
        ] {
            claims["p"] = bad.clone();
            assert!(
                serde_json::from_value::<SessionClaims>(claims.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
