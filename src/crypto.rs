//! The few primitives the crate takes from aws-lc-rs: randomness, SHA-256, HMAC key derivation
//! and constant-time comparison.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{constant_time, digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `N` random bytes, drawn at once: a login draws all of its secrets together.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut drawn = [0u8; N];
    fill_random(&mut drawn);
    drawn
}

/// How many bytes a thread takes from the system generator at once. Each call to aws-lc's
/// generator costs about 0.4 µs however few bytes it returns (it mixes in fresh CPU entropy
/// every time): more than the rest of a login. Drawn 4 KiB at a time, a login's 96 bytes cost
/// a fortieth of a call.
const POOL_LEN: usize = 4096;

/// Random bytes drawn ahead for one thread. Each byte is handed out once and wiped as it is;
/// the rest are wiped when the thread ends.
struct RandomPool {
    bytes: [u8; POOL_LEN],
    /// Bytes `..used` are handed out (and zero); the pool starts empty.
    used: usize,
    /// The process that drew them: a forked child must not hand out its parent's bytes again.
    pid: u32,
}

impl Drop for RandomPool {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes[..]);
    }
}

thread_local! {
    static POOL: std::cell::RefCell<RandomPool> = const {
        std::cell::RefCell::new(RandomPool { bytes: [0; POOL_LEN], used: POOL_LEN, pid: 0 })
    };
}

/// Fills `out` with bytes from the system generator (aws-lc's, seeded by the OS), through this
/// thread's pool; requests of more than a quarter of the pool go to the generator directly.
fn fill_random(out: &mut [u8]) {
    if out.len() > POOL_LEN / 4 {
        return system_fill(out);
    }
    POOL.with(|pool| {
        let pool = &mut *pool.borrow_mut();
        let pid = std::process::id();
        if pool.pid != pid || POOL_LEN - pool.used < out.len() {
            system_fill(&mut pool.bytes);
            pool.used = 0;
            pool.pid = pid;
        }
        let drawn = &mut pool.bytes[pool.used..pool.used + out.len()];
        out.copy_from_slice(drawn);
        zeroize::Zeroize::zeroize(drawn);
        pool.used += out.len();
    });
}

fn system_fill(out: &mut [u8]) {
    // The generator only fails when the OS has no entropy source: nothing safe can go on then.
    SystemRandom::new()
        .fill(out)
        .expect("the operating system's random number generator failed");
}

/// Bytes as unpadded base64url text.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Appends `bytes` as unpadded base64url to `out`, in one pass into room made for it (the
/// engine's `encode_string` goes through a chunked writer, several times slower).
pub(crate) fn push_base64url(out: &mut String, bytes: &[u8]) {
    let start = out.len();
    let mut buf = std::mem::take(out).into_bytes();
    buf.resize(start + bytes.len().div_ceil(3) * 4, 0);
    let written = URL_SAFE_NO_PAD
        .encode_slice(bytes, &mut buf[start..])
        .expect("room for the encoding was made");
    buf.truncate(start + written);
    *out = String::from_utf8(buf).expect("base64url is ASCII");
}

/// 32 bytes as unpadded base64url, 43 characters on the stack: a login's state and PKCE
/// challenge, which it only copies into its URL and cookie.
pub(crate) struct Base64Url32([u8; 43]);

impl Base64Url32 {
    pub(crate) fn of(bytes: &[u8; 32]) -> Self {
        let mut text = [0u8; 43];
        URL_SAFE_NO_PAD
            .encode_slice(bytes, &mut text)
            .expect("32 bytes are 43 characters");
        Self(text)
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("base64url is ASCII")
    }
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
    fill_random(buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> digest::Digest {
    digest::digest(&digest::SHA256, data)
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
        let drawn: [u8; 64] = random_bytes();
        assert_ne!(drawn[..32], drawn[32..]);
        assert_eq!(base64url(&drawn[..32]).len(), 43);
    }

    #[test]
    fn pooled_draws_never_repeat_and_are_wiped_from_the_pool() {
        // 400 draws of 32 bytes span three refills of the pool.
        let mut seen = std::collections::HashSet::new();
        for _ in 0..400 {
            let drawn: [u8; 32] = random_bytes();
            assert!(seen.insert(drawn), "a draw repeated");
            POOL.with(|pool| {
                let pool = pool.borrow();
                assert!(pool.bytes[..pool.used].iter().all(|b| *b == 0));
            });
        }
        let large = random_token(POOL_LEN);
        assert_ne!(large, random_token(POOL_LEN));
    }

    #[test]
    fn a_forked_child_does_not_hand_out_its_parents_bytes() {
        let _: [u8; 16] = random_bytes();
        // As a child sees its parent's pool: drawn by another process.
        let (next, used) = POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            pool.pid = std::process::id().wrapping_add(1);
            (pool.bytes[pool.used..pool.used + 32].to_vec(), pool.used)
        });
        assert!(used > 0);
        let drawn: [u8; 32] = random_bytes();
        assert_ne!(drawn[..], next[..]);
        POOL.with(|pool| {
            let pool = pool.borrow();
            assert_eq!((pool.pid, pool.used), (std::process::id(), 32));
        });
    }

    #[test]
    fn pushed_base64url_is_the_engines_encoding() {
        for len in 0..70 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let mut out = String::from("x.");
            push_base64url(&mut out, &bytes);
            assert_eq!(out, format!("x.{}", base64url(&bytes)), "{len} bytes");
        }
    }

    #[test]
    fn base64url_of_32_bytes_is_the_engines_encoding() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 53 + 7) as u8);
        assert_eq!(Base64Url32::of(&bytes).as_str(), base64url(&bytes));
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
