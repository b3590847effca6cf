//! Reads claims in exactly the shape `ClaimsOut` writes them: its keys in its order, no
//! whitespace, nothing else. A verified payload is one this crate wrote, so this is the
//! reader of every first sight of a session. It reads in one pass with no look-up by key:
//! about a quarter of the time serde_json takes for the derived `ClaimsIn` (BENCHMARKS.md).
//!
//! Anything else (another order, whitespace, a field or a type `ClaimsOut` never writes) is
//! `None`, and the caller reads the text with serde_json. What this accepts, serde_json reads
//! to the same claims (tested against it edit by edit, below, and fuzzed against it by the
//! `claims_reader` target), so serde_json stays the judge of every payload this reads
//! differently: strings holding escapes, and the JSON values of `ca`, `ext` and `trm`, are
//! handed to serde_json whole.

use std::borrow::Cow;

use serde::de::DeserializeOwned;

use super::{ClaimsIn, Part, ProfileIn};

/// The deepest nesting read in a JSON value here, well under serde_json's limit of 128 for
/// the whole payload, so that nothing accepted here is too deep for serde_json.
const MAX_DEPTH: usize = 64;

/// The claims of `text`, if it has exactly the shape `ClaimsOut` writes.
pub(super) fn read(text: &str) -> Option<ClaimsIn<'_>> {
    let mut at = Cursor { text, at: 0 };
    at.expect("{\"iss\":")?;
    let iss = at.string()?;
    at.expect(",\"aud\":")?;
    let aud = at.string()?;
    at.expect(",\"sub\":")?;
    let sub = at.string()?;
    at.expect(",\"sid\":")?;
    let sid = at.string()?;
    at.expect(",\"typ\":")?;
    let typ = at.string()?;
    at.expect(",\"iat\":")?;
    let iat = at.number()?;
    at.expect(",\"exp\":")?;
    let exp = at.number()?;
    at.expect(",\"auth_time\":")?;
    let auth_time = at.number()?;
    at.expect(",\"p\":{\"em\":")?;
    let em = at.string()?;
    let p = ProfileIn {
        em,
        first_name: at.optional_string(",\"fn\":")?,
        ln: at.optional_string(",\"ln\":")?,
        nm: at.optional_string(",\"nm\":")?,
        org: at.optional_string(",\"org\":")?,
        cid: at.optional_string(",\"cid\":")?.unwrap_or_default(),
        ct: at.optional_string(",\"ct\":")?.unwrap_or_default(),
        idp: at.optional_string(",\"idp\":")?.unwrap_or_default(),
        rl: at.optional_string(",\"rl\":")?,
        rls: at.optional_strings(",\"rls\":")?,
        grp: at.optional_strings(",\"grp\":")?,
        ca: at.optional_json(",\"ca\":")?,
    };
    at.expect("}")?;
    let ext = at.optional_json(",\"ext\":")?;
    let trm = at.optional_json(",\"trm\":")?;
    at.expect("}")?;
    (at.at == text.len()).then_some(ClaimsIn {
        iss,
        aud,
        sub,
        sid,
        typ,
        iat,
        exp,
        auth_time,
        p,
        ext,
        trm,
    })
}

/// A position in the text being read.
struct Cursor<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Cursor<'t> {
    fn rest(&self) -> &'t [u8] {
        &self.text.as_bytes()[self.at..]
    }

    /// Steps over `literal` if the text goes on with it.
    fn skip(&mut self, literal: &str) -> bool {
        let found = self.rest().starts_with(literal.as_bytes());
        if found {
            self.at += literal.len();
        }
        found
    }

    fn expect(&mut self, literal: &str) -> Option<()> {
        self.skip(literal).then_some(())
    }

    /// A JSON string: borrowed when it holds no escape, else unescaped by serde_json.
    fn string(&mut self) -> Option<Part<'t>> {
        if self.rest().first() != Some(&b'"') {
            return None;
        }
        let bytes = self.text.as_bytes();
        let start = self.at + 1;
        let end = start + memchr::memchr2(b'"', b'\\', &bytes[start..])?;
        if bytes[end] == b'"' {
            // JSON forbids raw control characters in strings; serde_json refuses them.
            if bytes[start..end].iter().any(|&b| b < 0x20) {
                return None;
            }
            self.at = end + 1;
            return Some(Part(Cow::Borrowed(&self.text[start..end])));
        }
        let close = string_end(bytes, self.at)?;
        let unescaped: String = serde_json::from_str(&self.text[self.at..=close]).ok()?;
        self.at = close + 1;
        Some(Part(Cow::Owned(unescaped)))
    }

    /// A `u64` as JSON writes one: digits, no leading zero.
    fn number(&mut self) -> Option<u64> {
        let digits = self
            .rest()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let text = &self.rest()[..digits];
        if digits == 0 || (digits > 1 && text[0] == b'0') {
            return None;
        }
        let value = text.iter().try_fold(0u64, |value, digit| {
            value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
        })?;
        self.at += digits;
        Some(value)
    }

    /// The string after `key`, or `Some(None)` when the key is not next.
    fn optional_string(&mut self, key: &str) -> Option<Option<Part<'t>>> {
        if !self.skip(key) {
            return Some(None);
        }
        self.string().map(Some)
    }

    /// The array of strings after `key`, or an empty one when the key is not next.
    fn optional_strings(&mut self, key: &str) -> Option<Vec<Part<'t>>> {
        let mut parts = Vec::new();
        if !self.skip(key) {
            return Some(parts);
        }
        self.expect("[")?;
        if self.skip("]") {
            return Some(parts);
        }
        loop {
            parts.push(self.string()?);
            if self.skip("]") {
                return Some(parts);
            }
            self.expect(",")?;
        }
    }

    /// The object or array after `key` as serde_json reads it, or the default when the key
    /// is not next.
    fn optional_json<T: DeserializeOwned + Default>(&mut self, key: &str) -> Option<T> {
        if !self.skip(key) {
            return Some(T::default());
        }
        let end = value_end(self.text.as_bytes(), self.at)?;
        let value = serde_json::from_str(&self.text[self.at..end]).ok()?;
        self.at = end;
        Some(value)
    }
}

/// The index of the quote closing the string opened at `open`, stepping over escapes.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut at = open + 1;
    loop {
        match *bytes.get(at)? {
            b'"' => return Some(at),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
}

/// Just past the object or array that starts at `start`, by its brackets outside strings.
/// Whether it is valid JSON is serde_json's to say.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    if !matches!(bytes.get(start), Some(b'{' | b'[')) {
        return None;
    }
    let mut depth = 0;
    let mut at = start;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => at = string_end(bytes, at)?,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
            }
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::Sharer;
    use super::*;
    use crate::claims::Claims;
    use crate::profile::{Profile, Role};
    use crate::session::{SESSION_TYP, SessionClaims};

    /// Strings as WorkOS may send them: plain, empty, escaped, non-ASCII.
    const TEXTS: [&str; 5] = [
        "Ada",
        "",
        "Ada \"the\" \\ Countess\n\t",
        "Łódź 東京 🎉",
        "\u{1}",
    ];

    /// A payload as the crate writes it, with each optional field present or not by `mask`.
    fn payload(mask: u32, text: &str) -> String {
        let on = |bit: u32| mask & (1 << bit) != 0;
        let mut profile = Profile::new(format!("prof_{text}"), format!("{text}@example.com"));
        let some = |bit| on(bit).then(|| text.into());
        profile.first_name = some(0);
        profile.last_name = some(1);
        profile.name = some(2);
        profile.organization_id = some(3);
        if on(4) {
            profile.connection_id = text.into();
        }
        if on(5) {
            profile.connection_type = "OktaSAML".into();
        }
        if on(6) {
            profile.idp_id = text.into();
        }
        profile.role = on(7).then(|| Role::new(text));
        if on(8) {
            profile.roles = vec![Role::new("admin"), Role::new(text)];
        }
        if on(9) {
            profile.groups = vec!["Engineering".into(), text.into(), "".into()];
        }
        if on(10) {
            profile
                .custom_attributes
                .insert(text.into(), json!({"a": [1, "]}", {"b": null}]}));
        }
        let mut ext = Claims::new();
        if on(11) {
            ext.insert("plan", json!({"tier": text, "seats": 5}))
                .unwrap();
        }
        let claims = SessionClaims {
            iss: "tower-workos-sso".into(),
            aud: "client_1".into(),
            sid: "aeKsWoflJHGBX8oJstaRjA".into(),
            typ: SESSION_TYP,
            iat: 1_800_000_000,
            exp: u64::MAX,
            auth_time: 0,
            profile,
            ext,
            trm: if on(12) {
                vec![text.into()]
            } else {
                Vec::new()
            },
        };
        serde_json::to_string(&claims).unwrap()
    }

    fn claims(read: ClaimsIn<'_>) -> SessionClaims {
        read.into_claims(&Sharer { text: None })
    }

    /// Both readers' claims are the same: the same profile, and the same claims written out.
    fn assert_same(exact: ClaimsIn<'_>, serde: ClaimsIn<'_>, text: &str) {
        let (exact, serde) = (claims(exact), claims(serde));
        assert_eq!(exact.profile, serde.profile, "{text}");
        let written = |claims: &SessionClaims| serde_json::to_value(claims).unwrap();
        assert_eq!(written(&exact), written(&serde), "{text}");
    }

    #[test]
    fn every_payload_the_crate_writes_takes_the_exact_reader_and_reads_as_serde_json_reads_it() {
        for text in TEXTS {
            for mask in 0..1 << 13 {
                let json = payload(mask, text);
                let exact = read(&json).unwrap_or_else(|| panic!("not read: {json}"));
                assert_same(exact, serde_json::from_str(&json).unwrap(), &json);
            }
        }
    }

    #[test]
    fn whatever_the_exact_reader_accepts_serde_json_reads_the_same() {
        const BYTES: &[u8] = b"\"\\{}[],: 01-.eanu\x01\x7f";
        let mut accepted = 0;
        let mut refused = 0;
        for json in [payload(!0, TEXTS[2]), payload(0b1_0110_1010_0101, TEXTS[3])] {
            let mut edits = Vec::new();
            for at in 0..=json.len() {
                let mut deleted = json.clone().into_bytes();
                if at < json.len() {
                    deleted.remove(at);
                    edits.push(deleted);
                }
                for &byte in BYTES {
                    let mut inserted = json.clone().into_bytes();
                    inserted.insert(at, byte);
                    edits.push(inserted);
                    if at < json.len() {
                        let mut replaced = json.clone().into_bytes();
                        replaced[at] = byte;
                        edits.push(replaced);
                    }
                }
            }
            for edit in edits {
                let Ok(edited) = String::from_utf8(edit) else {
                    continue;
                };
                let serde = serde_json::from_str::<ClaimsIn<'_>>(&edited);
                match read(&edited) {
                    Some(exact) => {
                        accepted += 1;
                        let serde = serde.unwrap_or_else(|e| panic!("{e}: {edited}"));
                        assert_same(exact, serde, &edited);
                    }
                    None => refused += 1,
                }
            }
        }
        // Edits inside strings and numbers read; edits to the structure do not.
        assert!(accepted > 1000 && refused > 1000, "{accepted} {refused}");
    }

    #[test]
    fn other_shapes_are_left_to_serde_json() {
        let json = payload(0b1_1111, "Ada");
        let value: Value = serde_json::from_str(&json).unwrap();
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let reordered = json.replacen(
            "{\"iss\":\"tower-workos-sso\",\"aud\":\"client_1\"",
            "{\"aud\":\"client_1\",\"iss\":\"tower-workos-sso\"",
            1,
        );
        let unknown = json.replacen("\"p\":{", "\"p\":{\"x\":1,", 1);
        let null = json.replacen("\"fn\":\"Ada\"", "\"fn\":null", 1);
        for (other, first_name) in [
            (pretty, Some("Ada")),
            (reordered, Some("Ada")),
            (unknown, Some("Ada")),
            (format!("{json} "), Some("Ada")),
            (null, None),
        ] {
            assert!(read(&other).is_none(), "{other}");
            let read = SessionClaims::from_payload(&other).expect("serde_json reads it");
            assert_eq!(read.profile.first_name.as_deref(), first_name, "{other}");
            assert_eq!(read.profile.email, "Ada@example.com");
        }
    }

    #[test]
    fn nesting_is_bounded_well_under_serde_jsons_limit() {
        let json = payload(0, "Ada");
        for depth in [MAX_DEPTH - 1, MAX_DEPTH + 1, 127, 200] {
            let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let nested = json.replacen("}}", &format!(",\"ca\":{{\"k\":{deep}}}}}}}"), 1);
            let exact = read(&nested);
            assert_eq!(exact.is_some(), depth < MAX_DEPTH, "{depth}");
            let serde = serde_json::from_str::<ClaimsIn<'_>>(&nested).ok();
            if let Some(exact) = exact {
                assert_same(exact, serde.unwrap(), &nested);
            }
        }
    }

    #[test]
    fn numbers_read_as_json_writes_them() {
        let json = payload(0, "Ada");
        for (iat, expected) in [("0", Some(0)), ("18446744073709551615", Some(u64::MAX))] {
            let edited = json.replacen("1800000000", iat, 1);
            assert_eq!(read(&edited).map(|claims| claims.iat), expected, "{iat}");
        }
        for bad in [
            "01",
            "18446744073709551616",
            "-1",
            "1.0",
            "1e3",
            "",
            "\"1\"",
        ] {
            let edited = json.replacen("1800000000", bad, 1);
            assert!(read(&edited).is_none(), "{bad}");
        }
    }
}
