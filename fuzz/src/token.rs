//! Session tokens and flow cookies, independently of the crate: its own base64url decoder, key
//! derivation, HS256 signer and verifiers, and the claim and time rules of sessions and flows.
//!
//! Written from the formats, not from the crate's code. A session is a compact HS256 JWT whose
//! key is derived from the session secret per purpose and named by a short hash. A flow cookie
//! is not a JWT: `2.` + base64url(payload) + `.` + base64url(HMAC-SHA256), the payload a fixed
//! binary layout and the MAC under the flow key over a prefix naming the issuer and audience.

use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_workos_sso::Profile;
use tower_workos_sso::fuzz_bridge::{
    ABSOLUTE, CLIENT_ID, CURRENT_SECRET, IDLE, LEEWAY, NOW, PREVIOUS_SECRET,
};

/// Every token's issuer (the configuration keeps the default).
pub const ISSUER: &str = "tower-workos-sso";
/// The longest token the crate reads.
pub const MAX_TOKEN_LEN: usize = 4096;
/// The longest session token the crate writes (its `Set-Cookie` stays under 4 KB).
pub const MAX_ISSUED_TOKEN: usize = 3800;
/// A secret the configuration has never heard of.
const UNKNOWN_SECRET: [u8; 32] = [0x33; 32];

/// Which key [`sign_session_parts`] signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningKey {
    /// The current session key, under its own `kid`.
    Current,
    /// The retired (still accepted) session key, under its own `kid`.
    Previous,
    /// The login-flow key (same secret, other purpose), under the flow `kid`.
    Flow,
    /// A key the configuration has never heard of, under the current session `kid`.
    Unknown,
}

/// The HS256 key for `purpose` derived from `secret`: HMAC-SHA256 of a versioned label.
fn purpose_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let label = format!("tower-workos-sso/v1/{purpose}");
    hmac::sign(&key, label.as_bytes()).as_ref().to_vec()
}

/// A key's `kid`: the first 11 characters of the base64url SHA-256 of the key.
fn kid_of(key: &[u8]) -> String {
    let hash = digest::digest(&digest::SHA256, key);
    URL_SAFE_NO_PAD.encode(hash)[..11].to_owned()
}

/// The `kid` the given key's tokens carry ([`SigningKey::Unknown`] borrows the current one).
pub fn kid(key: SigningKey) -> String {
    let key = match key {
        SigningKey::Current | SigningKey::Unknown => purpose_key(&CURRENT_SECRET, "session"),
        SigningKey::Previous => purpose_key(&PREVIOUS_SECRET, "session"),
        SigningKey::Flow => purpose_key(&CURRENT_SECRET, "flow"),
    };
    kid_of(&key)
}

/// A standard HS256 JWT header JSON naming `kid`.
pub fn session_header(kid: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"typ": "JWT", "alg": "HS256", "kid": kid}))
        .expect("JSON values serialise")
}

/// A compact JWT from raw header and payload JSON bytes, signed with the chosen key. The header
/// is used as given: put the `kid` in it yourself.
pub fn sign_session_parts(header_json: &[u8], payload_json: &[u8], key: SigningKey) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header_json),
        URL_SAFE_NO_PAD.encode(payload_json)
    );
    let key = match key {
        SigningKey::Current => purpose_key(&CURRENT_SECRET, "session"),
        SigningKey::Previous => purpose_key(&PREVIOUS_SECRET, "session"),
        SigningKey::Flow => purpose_key(&CURRENT_SECRET, "flow"),
        SigningKey::Unknown => purpose_key(&UNKNOWN_SECRET, "session"),
    };
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Strict unpadded base64url (RFC 4648 §5): its own decoder, not the one the crate uses.
/// Refuses padding, other alphabets, impossible lengths and non-zero leftover bits.
pub fn decode_b64url(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    }
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut bits = 0u32;
        for &c in chunk {
            bits = bits << 6 | value(c)?;
        }
        let (bytes, spare) = match chunk.len() {
            4 => (3, 0),
            3 => (2, 2),
            _ => (1, 4),
        };
        if bits & ((1 << spare) - 1) != 0 {
            return None;
        }
        let bits = bits >> spare;
        for i in (0..bytes).rev() {
            out.push((bits >> (8 * i)) as u8);
        }
    }
    Some(out)
}

// The reference reads tokens into its own typed claims, and like any serde struct skips the
// fields it does not know without checking them (their UTF-8, their number range): a token
// whose unknown fields hold such bytes can only come from the key holder, so both accept it.
#[derive(Deserialize)]
struct ReferenceHeader {
    alg: String,
    kid: String,
}

#[derive(Deserialize)]
struct ReferenceSession {
    iss: String,
    aud: String,
    sub: String,
    sid: String,
    typ: String,
    iat: u64,
    exp: u64,
    auth_time: u64,
    p: ReferenceProfile,
}

/// A session's profile as the token carries it: short keys, empty fields left out, the id in
/// `sub`.
#[derive(Deserialize)]
struct ReferenceProfile {
    em: String,
    #[serde(rename = "fn")]
    first: Option<String>,
    ln: Option<String>,
    nm: Option<String>,
    org: Option<String>,
    #[serde(default)]
    cid: String,
    #[serde(default)]
    ct: String,
    #[serde(default)]
    idp: String,
    rl: Option<String>,
    #[serde(default)]
    rls: Vec<String>,
    #[serde(default)]
    grp: Vec<String>,
    #[serde(default)]
    ca: serde_json::Map<String, Value>,
}

impl ReferenceSession {
    /// The claims as JSON, the profile under `profile` in WorkOS's names (as the crate's
    /// `Profile` serialises), for comparing with the crate's reading.
    fn readable(self) -> Value {
        let p = self.p;
        let slug = |slug: String| json!({ "slug": slug });
        json!({
            "iss": self.iss, "aud": self.aud, "sub": self.sub, "sid": self.sid, "typ": self.typ,
            "iat": self.iat, "exp": self.exp, "auth_time": self.auth_time,
            "profile": {
                "id": self.sub, "email": p.em, "first_name": p.first, "last_name": p.ln,
                "name": p.nm, "organization_id": p.org, "connection_id": p.cid,
                "connection_type": p.ct, "idp_id": p.idp, "role": p.rl.map(slug),
                "roles": p.rls.into_iter().map(slug).collect::<Vec<_>>(), "groups": p.grp,
                "custom_attributes": p.ca,
            },
        })
    }
}

/// A profile (WorkOS's JSON, as `Profile` serialises) as a session token carries it under `p`.
fn token_profile(profile: &Value) -> Value {
    let mut p = serde_json::Map::new();
    let slug = |role: &Value| role.get("slug").cloned().unwrap_or(Value::Null);
    for (key, field) in [
        ("em", "email"),
        ("fn", "first_name"),
        ("ln", "last_name"),
        ("nm", "name"),
        ("org", "organization_id"),
        ("cid", "connection_id"),
        ("ct", "connection_type"),
        ("idp", "idp_id"),
        ("rl", "role"),
        ("rls", "roles"),
        ("grp", "groups"),
        ("ca", "custom_attributes"),
    ] {
        let value = match (field, profile.get(field)) {
            ("role", Some(role)) if !role.is_null() => slug(role),
            ("roles", Some(Value::Array(roles))) => roles.iter().map(slug).collect(),
            (_, Some(value)) => value.clone(),
            (_, None) => Value::Null,
        };
        // The crate leaves out what is absent, and the empty text of the three plain-text
        // fields (`connection_id`, `connection_type`, `idp_id`).
        let empty = match &value {
            Value::Null => true,
            Value::String(s) => s.is_empty() && matches!(key, "cid" | "ct" | "idp"),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        if !empty {
            p.insert(key.to_owned(), value);
        }
    }
    Value::Object(p)
}

/// Checks shape, `alg`, `kid` and signature of a compact HS256 JWT against the keys of
/// `secrets` for `purpose`; returns the payload's bytes.
fn reference_signed(token: &str, purpose: &str, secrets: &[&[u8]]) -> Option<Vec<u8>> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let [header, payload, signature] = token.split('.').collect::<Vec<_>>().try_into().ok()?;
    let header_json: ReferenceHeader = serde_json::from_slice(&decode_b64url(header)?).ok()?;
    if header_json.alg != "HS256" {
        return None;
    }
    let key = secrets
        .iter()
        .map(|secret| purpose_key(secret, purpose))
        .find(|key| kid_of(key) == header_json.kid)?;
    let message = &token[..header.len() + 1 + payload.len()];
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), message.as_bytes());
    if decode_b64url(signature)? != tag.as_ref() {
        return None;
    }
    decode_b64url(payload)
}

/// The independent verdict on a session token at `now`: its claims if the signature, `kid`,
/// algorithm, issuer, audience, purpose, subject and every time limit check out.
pub fn reference_verify(token: &str, now: u64) -> Option<Value> {
    let payload = reference_signed(token, "session", &[&CURRENT_SECRET, &PREVIOUS_SECRET])?;
    let c: ReferenceSession = serde_json::from_slice(&payload).ok()?;
    let valid = c.typ == "session"
        && c.iss == ISSUER
        && c.aud == CLIENT_ID
        && !c.sid.is_empty()
        && !c.sub.is_empty()
        && c.iat <= now.saturating_add(LEEWAY)
        && c.auth_time <= c.iat
        && now <= c.exp.saturating_add(LEEWAY)
        && now <= c.auth_time.saturating_add(ABSOLUTE).saturating_add(LEEWAY);
    valid.then(|| c.readable())
}

/// The claims of a flow cookie as the reference reads them, serialised under the names the
/// crate's fuzz bridge reports them by, so the two readings compare as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReferenceFlow {
    /// The `state` sent to WorkOS.
    pub st: String,
    /// The PKCE verifier.
    pub pv: String,
    /// Where the flow returns to.
    pub rt: String,
    /// The selector as its query parameter: `(organization|connection|provider, value)`.
    pub sel: Option<(String, String)>,
    /// Another site started the login.
    pub xs: bool,
    /// The login restarts an IdP-initiated sign-in.
    pub idp: bool,
    /// The `nonce` sent to WorkOS.
    pub nc: Option<String>,
    /// Issued at (unix seconds).
    pub iat: u64,
    /// Expiry (unix seconds).
    pub exp: u64,
}

/// The flow MAC of `text` (`2.` and the payload's base64url) under `secret`'s flow key: the
/// prefix binds it to this format, issuer and audience.
fn flow_mac(secret: &[u8], text: &str) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &purpose_key(secret, "flow"));
    let message = format!("tower-workos-sso/flow/2\n{ISSUER}\n{CLIENT_ID}\n{text}");
    hmac::sign(&key, message.as_bytes())
}

/// The next `n` bytes of `rest`, which moves past them.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = rest.split_at_checked(n)?;
    *rest = tail;
    Some(head)
}

/// A big-endian `u64`.
fn take_u64(rest: &mut &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(take(rest, 8)?.try_into().ok()?))
}

/// A string: a big-endian `u16` length, then that many bytes of UTF-8.
fn take_text(rest: &mut &[u8]) -> Option<String> {
    let len = u16::from_be_bytes(take(rest, 2)?.try_into().ok()?);
    String::from_utf8(take(rest, usize::from(len))?.to_vec()).ok()
}

/// A flow payload, read strictly: unknown flag bits, a value for an absent selector or nonce,
/// a short field, bad UTF-8 or a trailing byte make it one the crate never wrote.
fn read_flow_payload(payload: &[u8]) -> Option<ReferenceFlow> {
    let mut rest = payload;
    let flags = take(&mut rest, 1)?[0];
    if flags > 0b1_1111 {
        return None;
    }
    let iat = take_u64(&mut rest)?;
    let exp = take_u64(&mut rest)?;
    let st = take_text(&mut rest)?;
    let pv = take_text(&mut rest)?;
    let rt = take_text(&mut rest)?;
    let selector_value = take_text(&mut rest)?;
    let nonce = take_text(&mut rest)?;
    if !rest.is_empty() {
        return None;
    }
    let kind = match flags >> 3 {
        0 => None,
        1 => Some("organization"),
        2 => Some("connection"),
        _ => Some("provider"),
    };
    let sel = match kind {
        Some(kind) => Some((kind.to_owned(), selector_value)),
        None if selector_value.is_empty() => None,
        None => return None,
    };
    let nc = if flags & 0b100 != 0 {
        Some(nonce)
    } else if nonce.is_empty() {
        None
    } else {
        return None;
    };
    Some(ReferenceFlow {
        st,
        pv,
        rt,
        sel,
        xs: flags & 0b1 != 0,
        idp: flags & 0b10 != 0,
        nc,
        iat,
        exp,
    })
}

/// The independent reading of a flow cookie's value, at any time: its claims if it is at most
/// [`MAX_TOKEN_LEN`] bytes, has the format-2 shape, its MAC is that of a configured secret's
/// flow key and its payload reads strictly. Whether it has expired is the caller's to judge
/// (see [`reference_verify_flow`]).
pub fn reference_flow(value: &str) -> Option<ReferenceFlow> {
    if value.len() > MAX_TOKEN_LEN {
        return None;
    }
    let (text, mac) = value.rsplit_once('.')?;
    let payload = text.strip_prefix("2.")?;
    // A strict decoding equal to a 32-byte tag is the one 43-character spelling of that tag.
    let mac = decode_b64url(mac)?;
    let signed = [CURRENT_SECRET, PREVIOUS_SECRET]
        .iter()
        .any(|secret| flow_mac(secret, text).as_ref() == mac);
    if !signed {
        return None;
    }
    read_flow_payload(&decode_b64url(payload)?)
}

/// The independent verdict on a flow cookie's value at [`NOW`]: its claims if
/// [`reference_flow`] reads it and it has not expired.
pub fn reference_verify_flow(value: &str) -> Option<ReferenceFlow> {
    reference_flow(value).filter(|c| NOW <= c.exp)
}

/// A small valid profile, as JSON.
pub fn sample_profile() -> Value {
    json!({
        "id": "prof_01FUZZ", "email": "todd@example.com", "connection_id": "conn_01FUZZ",
        "connection_type": "OktaSAML", "organization_id": "org_01FUZZ",
        "first_name": "Todd", "last_name": "Rundgren", "idp_id": "00u1a0ufowBJlzPlk357",
        "role": {"slug": "admin"}, "roles": [{"slug": "admin"}], "groups": ["Engineering"],
        "custom_attributes": {}
    })
}

/// Valid session claims for `profile` at [`NOW`], with a fixed `sid`, as JSON text.
pub fn session_claims(profile: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": profile.get("id").cloned().unwrap_or(Value::Null),
        "sid": "fuzz-session-id",
        "typ": "session",
        "iat": NOW,
        "exp": NOW + IDLE,
        "auth_time": NOW,
        "p": token_profile(profile),
    }))
    .expect("JSON values serialise")
}

/// The length of the token a sign-in at [`NOW`] writes for `profile` (untrimmed), computed from
/// the token format rather than by signing: base64url of the header and of the claims (with a
/// 22-character `sid`), and a 43-character HS256 signature.
pub fn session_token_len(profile: &Profile) -> usize {
    let b64 = |json: Value| (serde_json::to_vec(&json).expect("serialises").len() * 4).div_ceil(3);
    let header = json!({"typ": "JWT", "alg": "HS256", "kid": kid(SigningKey::Current)});
    let claims = json!({
        "iss": ISSUER, "aud": CLIENT_ID, "sub": profile.id, "sid": "s".repeat(22),
        "typ": "session", "iat": NOW, "exp": NOW + IDLE, "auth_time": NOW,
        "p": token_profile(&serde_json::to_value(profile).expect("a profile serialises")),
    });
    b64(header) + 1 + b64(claims) + 1 + 43
}
