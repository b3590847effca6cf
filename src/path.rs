//! How servers read a request path: the spellings that one server or proxy may read as another
//! path, and the percent-decoding routers apply to each segment.
//!
//! The access policy (no ambiguous path is public) and the path-prefix tenant resolver (no
//! ambiguous path names a tenant) share these rules, so one spelling cannot pass one check and
//! slip past the other.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// The lengths of a few paths, to rule out most other paths by their length alone, before
/// comparing any bytes: one bit per length under 127, the last bit for every longer one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lengths(u128);

impl Lengths {
    pub(crate) fn of<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            paths
                .into_iter()
                .fold(0, |lengths, path| lengths | Self::bit(path.len())),
        )
    }

    /// Whether one of the paths may be `len` bytes long.
    #[inline]
    pub(crate) fn may_have(self, len: usize) -> bool {
        self.0 & Self::bit(len) != 0
    }

    #[inline]
    fn bit(len: usize) -> u128 {
        1 << len.min(127)
    }
}

/// Whether a server or proxy might read `path` as another path: dot segments (raw or spelled
/// with `%2e`, double-encoded, overlong UTF-8 or IIS `%u`), `;` parameters (`..;` is `..` to
/// servlet containers), backslashes, encoded slashes, NUL, and doubled slashes (merged by many
/// proxies).
#[inline]
pub(crate) fn is_ambiguous(path: &str) -> bool {
    // Most paths have none of these, and this runs on every request to a listed path: a short
    // path is read once, byte by byte, here (inlined) instead of searched four times.
    let bytes = path.as_bytes();
    if bytes.len() <= 64 && !any_rule_byte(bytes) {
        return false;
    }
    has_ambiguity(path)
}

/// [`is_ambiguous`] for a path that may be: long, or holding a byte a rule looks at.
fn has_ambiguity(path: &str) -> bool {
    let bytes = path.as_bytes();
    if memchr::memchr2(b';', b'\\', bytes).is_some() || memchr::memmem::find(bytes, b"//").is_some()
    {
        return true;
    }
    let dots = memchr::memchr(b'.', bytes).is_some();
    if dots && path.split('/').any(|seg| seg == "." || seg == "..") {
        return true;
    }
    if memchr::memchr(b'%', bytes).is_none() {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    const SPELLINGS: [&str; 9] = [
        "%2e", "%2f", "%5c", "%3b", "%00", // `.`, `/`, `\`, `;`, NUL
        "%25", // a second round of encoding
        "%c0", "%c1", // overlong two-byte UTF-8 leads (`%c0%ae` is `.`)
        "%u",  // IIS `%u002e`
    ];
    SPELLINGS.iter().any(|spelling| lower.contains(spelling))
        || lower.contains("%e0%80") // overlong three-byte UTF-8
        || lower.contains("%f0%80") // overlong four-byte UTF-8
}

/// Whether `bytes` holds any byte an ambiguity rule looks at (`;`, `\\`, `.`, `%`) or `//`:
/// one table look-up per byte.
#[inline]
fn any_rule_byte(bytes: &[u8]) -> bool {
    let mut previous = 0;
    for &byte in bytes {
        let class = BYTE_CLASS[usize::from(byte)];
        if class & RULE != 0 || class & previous & SLASH != 0 {
            return true;
        }
        previous = class;
    }
    false
}

/// In [`BYTE_CLASS`]: a byte a rule looks at by itself.
const RULE: u8 = 1;
/// In [`BYTE_CLASS`]: `/`, which a rule looks at when doubled.
const SLASH: u8 = 2;

/// What each byte is to [`any_rule_byte`].
static BYTE_CLASS: [u8; 256] = {
    let mut class = [0; 256];
    class[b';' as usize] = RULE;
    class[b'\\' as usize] = RULE;
    class[b'.' as usize] = RULE;
    class[b'%' as usize] = RULE;
    class[b'/' as usize] = SLASH;
    class
};

/// One raw path segment as a router hands it to the app: percent-decoded once, as axum's
/// `Path` does. Borrowed when there is nothing to decode.
pub(crate) fn decoded_segment(segment: &str) -> Cow<'_, [u8]> {
    percent_decode_str(segment).into()
}

/// Whether any reading of `path` could have `segment` among its segments, compared without
/// ASCII case: the path decoded as often as it decodes (`%XX`, IIS `%uXXXX`, overlong UTF-8
/// of ASCII), split at every byte some server takes for a separator (`/`, `\`, `;`, NUL), with
/// the trailing dots and spaces Windows ignores dropped. Dot segments are not resolved: they
/// can drop segments but never make one, so a segment no reading has is in none of these.
pub(crate) fn may_name_segment(path: &str, segment: &str) -> bool {
    let mut bytes = path.as_bytes().to_vec();
    // Each round shortens the path or ends the loop, and a path is bounded by the server.
    for _ in 0..8 {
        let next = decode_round(&bytes);
        if next == bytes {
            break;
        }
        bytes = next;
    }
    bytes
        .split(|b| matches!(b, b'/' | b'\\' | b';' | 0))
        .map(|part| {
            let end = part
                .iter()
                .rposition(|b| !matches!(b, b'.' | b' '))
                .map_or(0, |at| at + 1);
            // `..` and `.` are dot segments, not a name ending in dots.
            if part.iter().all(|b| *b == b'.') {
                part
            } else {
                &part[..end]
            }
        })
        .any(|part| part.eq_ignore_ascii_case(segment.as_bytes()))
}

/// One round of every decoding some server applies: `%XX`, `%uXXXX` of ASCII, and overlong
/// UTF-8 of ASCII (`C0 AE` is `.` to a lax decoder).
fn decode_round(bytes: &[u8]) -> Vec<u8> {
    let hex = |at: usize, len: usize| -> Option<u32> {
        let digits = bytes.get(at..at + len)?;
        let text = std::str::from_utf8(digits).ok()?;
        u32::from_str_radix(text, 16).ok()
    };
    let continuation = |at: usize| bytes.get(at).is_some_and(|b| b & 0xC0 == 0x80);
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        let (value, len) = match byte {
            b'%' if matches!(bytes.get(at + 1), Some(b'u' | b'U')) => match hex(at + 2, 4) {
                Some(code) if code < 0x80 => (code as u8, 6),
                _ => (byte, 1),
            },
            b'%' => match hex(at + 1, 2) {
                Some(value) => (value as u8, 3),
                None => (byte, 1),
            },
            0xC0 | 0xC1 if continuation(at + 1) => {
                (((byte & 0x1F) << 6) | (bytes[at + 1] & 0x3F), 2)
            }
            0xE0 if matches!(bytes.get(at + 1), Some(0x80 | 0x81)) && continuation(at + 2) => {
                (((bytes[at + 1] & 0x3F) << 6) | (bytes[at + 2] & 0x3F), 3)
            }
            0xF0 if bytes.get(at + 1) == Some(&0x80)
                && matches!(bytes.get(at + 2), Some(0x80 | 0x81))
                && continuation(at + 3) =>
            {
                (((bytes[at + 2] & 0x3F) << 6) | (bytes[at + 3] & 0x3F), 4)
            }
            _ => (byte, 1),
        };
        out.push(value);
        at += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table says what the rules say, for every byte and every pair of bytes.
    #[test]
    fn the_byte_table_finds_what_the_rules_look_at() {
        let looked_at = |b: u8| matches!(b, b';' | b'\\' | b'.' | b'%');
        for a in 0..=255u8 {
            assert_eq!(any_rule_byte(&[a]), looked_at(a), "{a}");
            for b in 0..=255u8 {
                let expected = looked_at(a) || looked_at(b) || (a == b'/' && b == b'/');
                assert_eq!(any_rule_byte(&[a, b]), expected, "{a} {b}");
                assert_eq!(
                    any_rule_byte(&[b'x', a, b'x', b]),
                    looked_at(a) || looked_at(b)
                );
            }
        }
    }

    #[test]
    fn spellings_servers_could_read_as_another_path_are_ambiguous() {
        // The X4 list is `policy::tests::ambiguous_paths_are_never_public`; doubled slashes too.
        for path in [
            "/public/../admin",
            "/public/..;/admin",
            "//public/x",
            "/public//x",
        ] {
            assert!(is_ambiguous(path), "{path}");
        }
        for path in ["/", "/public/a.b/c..d", "/t/%67lobex/x", "/a-b_c~d"] {
            assert!(!is_ambiguous(path), "{path}");
        }
    }

    #[test]
    fn a_segment_hidden_by_any_spelling_is_found() {
        for path in [
            "/x/../t/globex",
            "/x/..;/t/globex",
            "/x%2ft%2fglobex",
            "/x%252ft%252fglobex",
            "/x%c0%aft%c0%afglobex",
            "/x%e0%80%aft/globex",
            "/x%u002ft%u002fglobex",
            "/x\\T\\globex",
            "/x;t;globex",
            "/x%00t/globex",
            "/%74/globex",
            "/t./globex",
            "/t%20/globex",
        ] {
            assert!(may_name_segment(path, "t"), "{path}");
        }
        for path in ["/x/tt/globex", "/x/../tx", "/", "/a%2fb", "/.t/x"] {
            assert!(!may_name_segment(path, "t"), "{path}");
        }
        // `..` stays a dot segment, so a prefix named `..` would only match dot segments.
        assert!(may_name_segment("/a/../b", ".."));
    }

    #[test]
    fn segments_decode_once_and_borrow_when_plain() {
        assert!(matches!(decoded_segment("acme"), Cow::Borrowed(b"acme")));
        assert_eq!(&*decoded_segment("%67lobex"), b"globex");
        assert_eq!(&*decoded_segment("%2567"), b"%67");
    }
}
