//! [`SharedStr`]: an immutable string that can share one buffer with others, so the strings of
//! a profile read from a session token cost one allocation together, not one each.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable string, read as a `&str` (it derefs to one), cheap to clone.
///
/// The text fields of a [`Profile`](crate::Profile) are `SharedStr`s: the profile of a verified
/// session token keeps all of its strings in one shared buffer (the token's decoded claims), so
/// verifying a token and later dropping it costs one allocation instead of one per field.
/// Clones share the buffer (a reference count). It compares, hashes, orders, prints and
/// serializes as the text it holds, and converts from and into `String` and `&str`:
///
/// ```
/// use tower_workos_sso::{Profile, SharedStr};
///
/// let mut profile = Profile::new("prof_01", "ada@example.com");
/// assert_eq!(profile.email, "ada@example.com");
/// let domain: &str = profile.email.split('@').nth(1).unwrap();
/// assert_eq!(domain, "example.com");
/// profile.first_name = Some("Ada".into());
/// let owned: String = profile.email.to_string();
/// assert_eq!(SharedStr::from(owned), profile.email);
/// ```
#[derive(Clone, Default)]
pub struct SharedStr {
    /// `None` is the empty string, which needs no buffer.
    buf: Option<Arc<str>>,
    start: u32,
    len: u32,
}

impl SharedStr {
    /// The text, as a `&str`.
    pub fn as_str(&self) -> &str {
        match &self.buf {
            Some(buf) => &buf[self.start as usize..(self.start + self.len) as usize],
            None => "",
        }
    }

    /// The part `range` of `buf`, sharing it. `range` must lie on `char` boundaries of `buf`
    /// (the spans of [`Spans`] do); an empty range needs no buffer.
    pub(crate) fn within(buf: &Arc<str>, range: Range<usize>) -> Self {
        debug_assert!(buf.get(range.clone()).is_some(), "a span of its buffer");
        if range.is_empty() {
            return Self::default();
        }
        // Spans come from buffers of at most a few KiB (a session token's claims).
        let start = u32::try_from(range.start).expect("spans of short buffers");
        let len = u32::try_from(range.len()).expect("spans of short buffers");
        Self {
            buf: Some(buf.clone()),
            start,
            len,
        }
    }
}

impl SharedStr {
    /// Whether both hold parts of one buffer.
    #[cfg(test)]
    pub(crate) fn shares_buffer_with(&self, other: &SharedStr) -> bool {
        matches!((&self.buf, &other.buf), (Some(a), Some(b)) if Arc::ptr_eq(a, b))
    }
}

/// Where borrowed strings lie in the text they were read from, to share it afterwards.
pub(crate) struct Spans<'a> {
    text: &'a str,
}

impl<'a> Spans<'a> {
    pub(crate) fn of(text: &'a str) -> Self {
        Self { text }
    }

    /// The span of `part` in the text, if `part` is a slice of it (a string read without
    /// unescaping); `None` for any other string.
    pub(crate) fn span(&self, part: &str) -> Option<Range<usize>> {
        let base = self.text.as_ptr() as usize;
        let at = (part.as_ptr() as usize).checked_sub(base)?;
        let end = at.checked_add(part.len())?;
        // In bounds and on `char` boundaries; the pointers say it is this very text.
        self.text.get(at..end).map(|_| at..end)
    }
}

impl Deref for SharedStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        self
    }
}

impl From<&str> for SharedStr {
    fn from(text: &str) -> Self {
        if text.is_empty() {
            return Self::default();
        }
        let buf: Arc<str> = Arc::from(text);
        Self::within(&buf, 0..text.len())
    }
}

impl From<String> for SharedStr {
    fn from(text: String) -> Self {
        Self::from(text.as_str())
    }
}

impl From<&String> for SharedStr {
    fn from(text: &String) -> Self {
        Self::from(text.as_str())
    }
}

impl From<SharedStr> for String {
    fn from(text: SharedStr) -> Self {
        text.as_str().to_owned()
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for SharedStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SharedStr {}

impl PartialOrd for SharedStr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedStr {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for SharedStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// Comparisons with the other string types, both ways round.
macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for SharedStr {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }

        impl PartialEq<SharedStr> for $other {
            fn eq(&self, other: &SharedStr) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_with!(str, &str, String);

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

/// One allocation per string read, whether the deserializer lends it or builds it.
impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;

        impl serde::de::Visitor<'_> for Text {
            type Value = SharedStr;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SharedStr, E> {
                Ok(SharedStr::from(text))
            }
        }

        deserializer.deserialize_str(Text)
    }
}

/// A handler can answer with a profile's field as it answers with a `String`.
#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for SharedStr {
    fn into_response(self) -> axum_core::response::Response {
        String::from(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_share_their_buffer_and_read_as_their_text() {
        let text = "{\"a\":\"héllo\",\"b\":\"\"}";
        let buf: Arc<str> = Arc::from(text);
        let spans = Spans::of(&buf);
        let hello = spans.span(&buf[6..12]).unwrap();
        let a = SharedStr::within(&buf, hello);
        assert_eq!(a, "héllo");
        assert_eq!(Arc::strong_count(&buf), 2);
        let empty = SharedStr::within(&buf, 3..3);
        assert!(empty.is_empty() && empty.buf.is_none());
        assert_eq!(a.clone(), SharedStr::from("héllo"));
        drop(a);
        assert_eq!(Arc::strong_count(&buf), 1);
    }

    #[test]
    fn only_slices_of_the_text_have_a_span() {
        let text = String::from("abcabc");
        let spans = Spans::of(&text);
        assert_eq!(spans.span(&text[3..6]), Some(3..6));
        assert_eq!(spans.span(&text[6..]), Some(6..6));
        let elsewhere = String::from("abc");
        assert_eq!(spans.span(&elsewhere), None);
        assert_eq!(spans.span("abc"), None);
    }

    #[test]
    fn compares_hashes_prints_and_serializes_as_its_text() {
        use std::collections::HashSet;
        let shared = SharedStr::from("x y");
        let (text, owned) = ("x y", String::from("x y"));
        assert_eq!(shared, text);
        assert_eq!(text, shared);
        assert_eq!(shared, owned);
        assert_eq!(owned, shared);
        assert_eq!(shared, *text);
        assert_eq!(format!("{shared}|{shared:?}"), "x y|\"x y\"");
        let set: HashSet<SharedStr> = [shared.clone()].into();
        assert!(set.contains("x y"));
        assert_eq!(serde_json::to_string(&shared).unwrap(), "\"x y\"");
        let back: SharedStr = serde_json::from_str("\"x\\ty\"").unwrap();
        assert_eq!(back, "x\ty");
        let (a, b) = (SharedStr::from("a"), SharedStr::from("b"));
        assert!(a < b);
        assert_eq!(String::from(shared), "x y");
    }
}
