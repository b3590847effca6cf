//! The few primitives the crate takes from aws-lc-rs: randomness, SHA-256, HMAC key derivation
//! and constant-time comparison.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{constant_time, digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `N` tokens of `bytes` random bytes each (at most 192 bytes in all), drawn at once.
pub(crate) fn random_tokens<const N: usize>(bytes: usize) -> [String; N] {
    let mut buffer = [0u8; 192];
    let drawn = &mut buffer[..N * bytes];
    // One call: the generator's cost per call is larger than that of a hundred bytes.
    SystemRandom::new()
        .fill(drawn)
        .expect("the operating system's random number generator failed");
    std::array::from_fn(|i| URL_SAFE_NO_PAD.encode(&drawn[i * bytes..(i + 1) * bytes]))
}

/// `bytes` random bytes as unpadded base64url text.
pub(crate) fn random_token(bytes: usize) -> String {
    // On the stack for the sizes the crate draws (16 and 32 bytes): one allocation, the text.
    let mut stack = [0u8; 64];
    let mut heap = Vec::new();
    let buf = if bytes <= stack.len() {
        &mut stack[..bytes]
    } else {
        heap.resize(bytes, 0);
        &mut heap[..]
    };
    // The system RNG only fails when the OS has no entropy source: nothing safe can go on then.
    SystemRandom::new()
        .fill(buf)
        .expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of `data` as unpadded base64url: PKCE's S256 and short non-secret ids.
pub(crate) fn sha256_b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, data))
}

/// A key for one purpose derived from a configured secret, so a token made for one purpose
/// (a login flow) can never verify as another (a session).
pub(crate) fn derive_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::sign(&key, purpose.as_bytes()).as_ref().to_vec()
}

/// Equality whose time does not depend on where the inputs differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    #[cfg(test)]
    COMPARED.with(|compared| compared.borrow_mut().push((a.to_vec(), b.to_vec())));
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
thread_local! {
    /// Every pair `constant_time_eq` compared on this thread: unit tests use it to prove that a
    /// secret comparison goes through it (SECURITY.md S8), which timing cannot show reliably.
    pub(crate) static COMPARED: std::cell::RefCell<Vec<(Vec<u8>, Vec<u8>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_b64_matches_an_independent_implementation() {
        // Computed with Python's hashlib and base64.urlsafe_b64encode, padding stripped.
        assert_eq!(
            sha256_b64(b"dBjftJeZ4CVP-mJ0kGsT7_ruhBmU4BA8NMa8KtOnoPQ"),
            "0wDoNq8FfUNmiUcKLuiLsZfn88oeGqPQmyYTWNng2_8"
        );
    }

    #[test]
    fn random_tokens_differ_and_have_the_asked_length() {
        let (a, b) = (random_token(32), random_token(32));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let [x, y, z] = random_tokens::<3>(32);
        assert!(x != y && y != z && x != z);
        assert!([&x, &y, &z].iter().all(|t| t.len() == 43));
    }

    #[test]
    fn derived_keys_separate_purposes() {
        let secret = [9u8; 32];
        assert_ne!(derive_key(&secret, "session"), derive_key(&secret, "flow"));
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"samf"));
        assert!(!constant_time_eq(b"same", b"same-but-longer"));
    }
}
