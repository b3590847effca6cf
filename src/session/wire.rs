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
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{BEARER_TYP, SESSION_TYP, SessionClaims};
use crate::claims::Claims;
use crate::profile::{Profile, ProfileFields, Role};
use crate::shared_str::{SharedStr, Spans};

mod exact;

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
    #[serde(skip_serializing_if = "<[SharedStr]>::is_empty")]
    grp: &'a [SharedStr],
    #[serde(skip_serializing_if = "Map::is_empty")]
    ca: &'a Map<String, Value>,
}

/// The claims as read: every string borrowed from the payload where it holds no escapes, so
/// the profile can share the payload's text instead of copying each field ([`SharedStr`]).
#[derive(Deserialize)]
struct ClaimsIn<'a> {
    #[serde(borrow)]
    iss: Part<'a>,
    #[serde(borrow)]
    aud: Part<'a>,
    #[serde(borrow)]
    sub: Part<'a>,
    #[serde(borrow)]
    sid: Part<'a>,
    /// One of two known words, kept as a constant.
    #[serde(borrow)]
    typ: Part<'a>,
    iat: u64,
    exp: u64,
    auth_time: u64,
    #[serde(borrow)]
    p: ProfileIn<'a>,
    #[serde(default)]
    ext: Claims,
    #[serde(default)]
    trm: Vec<String>,
}

#[derive(Deserialize)]
struct ProfileIn<'a> {
    #[serde(borrow)]
    em: Part<'a>,
    #[serde(rename = "fn", default, borrow)]
    first_name: Option<Part<'a>>,
    #[serde(default, borrow)]
    ln: Option<Part<'a>>,
    #[serde(default, borrow)]
    nm: Option<Part<'a>>,
    #[serde(default, borrow)]
    org: Option<Part<'a>>,
    #[serde(default, borrow)]
    cid: Part<'a>,
    #[serde(default, borrow)]
    ct: Part<'a>,
    #[serde(default, borrow)]
    idp: Part<'a>,
    #[serde(default, borrow)]
    rl: Option<Part<'a>>,
    #[serde(default, borrow)]
    rls: Vec<Part<'a>>,
    #[serde(default, borrow)]
    grp: Vec<Part<'a>>,
    #[serde(default)]
    ca: Map<String, Value>,
}

/// A string of the payload: borrowed when it holds no escapes (serde borrows a `Cow` only as
/// a field of its own, not inside an `Option` or a `Vec`, hence this type).
#[derive(Default)]
struct Part<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Part<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PartVisitor;

        impl<'de> Visitor<'de> for PartVisitor {
            type Value = Part<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Part(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Part(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(Part(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(PartVisitor)
    }
}

/// Makes the [`SharedStr`]s of parts read from `text`: a part that is a slice of it shares it,
/// any other (unescaped, or read from elsewhere) is a string of its own.
struct Sharer<'t> {
    text: Option<(&'t Arc<str>, Spans<'t>)>,
}

impl<'t> Sharer<'t> {
    /// A sharer of `text`'s slices: a part read from it becomes a span of `text`.
    fn over(text: &'t Arc<str>) -> Self {
        Self {
            text: Some((text, Spans::of(text))),
        }
    }

    fn share(&self, part: &Part<'_>) -> SharedStr {
        match &self.text {
            Some((buf, spans)) => match spans.span(&part.0) {
                Some(span) => SharedStr::within(buf, span),
                None => SharedStr::from(&*part.0),
            },
            None => SharedStr::from(&*part.0),
        }
    }
}

impl SessionClaims {
    /// The claims of a verified payload, its profile sharing the payload's text (one
    /// allocation for all of its strings). The crate's own payloads take the exact reader;
    /// serde_json reads any other.
    pub(crate) fn from_payload(json: &str) -> Option<Self> {
        let text: Arc<str> = Arc::from(json);
        let claims = exact::read(&text).or_else(|| serde_json::from_str(&text).ok())?;
        Some(claims.into_claims(&Sharer::over(&text)))
    }

    /// For the `claims_reader` fuzz target: the exact reader's claims of `json`, if it reads
    /// them, beside serde_json's reading of the same text (`None` where it refuses it).
    #[cfg(fuzzing)]
    pub(crate) fn both_readings(json: &str) -> Option<(Self, Option<Self>)> {
        let text: Arc<str> = Arc::from(json);
        let sharer = Sharer::over(&text);
        let exact = exact::read(&text)?.into_claims(&sharer);
        let serde = serde_json::from_str::<ClaimsIn<'_>>(&text).ok();
        Some((exact, serde.map(|claims| claims.into_claims(&sharer))))
    }
}

impl ClaimsIn<'_> {
    fn into_claims(self, sharer: &Sharer<'_>) -> SessionClaims {
        let p = self.p;
        let share = |part: &Part<'_>| sharer.share(part);
        let profile = Profile::from(ProfileFields {
            id: share(&self.sub),
            email: share(&p.em),
            first_name: p.first_name.as_ref().map(share),
            last_name: p.ln.as_ref().map(share),
            name: p.nm.as_ref().map(share),
            organization_id: p.org.as_ref().map(share),
            connection_id: share(&p.cid),
            connection_type: share(&p.ct),
            idp_id: share(&p.idp),
            role: p.rl.as_ref().map(|slug| Role::new(share(slug))),
            roles: p.rls.iter().map(|slug| Role::new(share(slug))).collect(),
            groups: p.grp.iter().map(share).collect(),
            custom_attributes: p.ca,
        });
        SessionClaims {
            iss: share(&self.iss),
            aud: share(&self.aud),
            sid: share(&self.sid),
            typ: match &*self.typ.0 {
                SESSION_TYP => SESSION_TYP,
                BEARER_TYP => BEARER_TYP,
                _ => "",
            },
            iat: self.iat,
            exp: self.exp,
            auth_time: self.auth_time,
            profile,
            ext: self.ext,
            trm: self.trm,
        }
    }
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

/// Read from elsewhere than a verified payload (jsonwebtoken's own decoding of other headers,
/// tests): every string is its own.
impl<'de> Deserialize<'de> for SessionClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let claims = ClaimsIn::deserialize(deserializer)?;
        Ok(claims.into_claims(&Sharer { text: None }))
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
    fn a_verified_payloads_strings_share_its_text_and_escaped_ones_read_right() {
        let mut full = Profile::new("prof_1", "a@b.test")
            .with_organization("org_1")
            .with_connection("conn_1", "OktaSAML")
            .with_groups(["g1", "g\"2\""])
            .with_roles(["admin"]);
        full.name = Some("Ada \u{e9} \"Lovelace\"\n".into());
        let json = serde_json::to_string(&claims(full.clone())).unwrap();
        let read = SessionClaims::from_payload(&json).unwrap();
        assert_eq!(read.profile, full);
        assert_eq!((&*read.iss, &*read.aud, &*read.sid), ("iss", "aud", "sid"));
        let p = &read.profile;
        let shared = [
            &p.email,
            p.organization_id.as_ref().unwrap(),
            &p.connection_id,
            &p.connection_type,
            &p.groups[0],
            &p.roles[0].slug,
            &read.iss,
            &read.aud,
            &read.sid,
        ];
        for field in shared {
            assert!(p.id.shares_buffer_with(field), "{field}");
        }
        // Escaped in the JSON: each is a string of its own.
        assert!(!p.id.shares_buffer_with(p.name.as_ref().unwrap()));
        assert!(!p.id.shares_buffer_with(&p.groups[1]));
        // Read from elsewhere than a payload, nothing is shared.
        let elsewhere: SessionClaims = serde_json::from_str(&json).unwrap();
        assert_eq!(elsewhere.profile, full);
        assert!(
            !elsewhere
                .profile
                .id
                .shares_buffer_with(&elsewhere.profile.email)
        );
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
