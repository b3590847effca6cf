//! A bounded cache of verified session tokens: a token seen before costs a map lookup and the
//! time checks instead of an HMAC over the token and a JSON parse of the profile.
//!
//! It skips only what cannot change for a given token: its signature and its claims. Every hit
//! is checked again like a token verified just now: against the clock (idle and absolute
//! lifetimes), for its purpose (a minted bearer token is never a cookie) and, by the service,
//! against the revocations. Entries are added only after the key ring (jsonwebtoken) verified
//! the token, and the cache belongs to one layer's `Sessions`, so a token is only ever trusted
//! under the keys that verified it; whether that key is still the current one is kept, so a
//! token signed with a retired key is still renewed.
//!
//! A token is matched by its whole value. Entries are found by the last eight characters of the
//! token's signature, mixed with a random seed (a folded multiply, as foldhash does): the
//! signature of a stored token is an HMAC, uniformly random and chosen by no one but the key
//! holder, so it needs no SipHash to keep the table's buckets even. An entry counts only if its
//! stored token equals the presented one byte for byte: a collision, however it came about, is
//! a miss, never someone else's session.
//!
//! The bound is a number of entries, split over a few shards so that threads rarely share a
//! lock. A full shard makes room by dropping one entry: an expired one among a few it looks at,
//! else an arbitrary one. Each entry holds
//! the token and its claims: about twice the token's length plus ~300 bytes (≈ 2.3 KB for a
//! token of 1 KB, the size of a typical profile; at most ≈ 8.5 KB at the 4 KB token limit).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use super::{SessionClaims, SessionSource, metadata};
use crate::profile::Profile;

/// The most shards; fewer when the capacity is small.
const MAX_SHARDS: usize = 16;
/// The fewest entries per shard when there are several shards.
const MIN_PER_SHARD: usize = 64;

/// How many entries a full shard looks at to choose the one that makes room.
const EVICTION_SAMPLE: usize = 8;

/// A verified token and its claims.
pub(crate) struct CachedSession {
    token: Box<str>,
    pub(crate) claims: SessionClaims,
    /// Whether the ring's current key signed it (otherwise the next response renews it).
    pub(crate) current_key: bool,
    /// The profile carrying its session, as presented by cookie and as a bearer token: built
    /// the first time, then shared by every request that presents the token.
    profiles: [OnceLock<Profile>; 2],
}

impl CachedSession {
    /// The profile for the request extensions, carrying its [`Session`] for `source`.
    pub(crate) fn profile(&self, source: SessionSource) -> &Profile {
        let slot = match source {
            SessionSource::Cookie => &self.profiles[0],
            SessionSource::Bearer => &self.profiles[1],
        };
        slot.get_or_init(|| {
            self.claims
                .profile
                .with_session(metadata(&self.claims, source))
        })
    }
}

/// Verified session tokens, bounded in number.
pub(crate) struct VerifiedCache {
    shards: Box<[RwLock<Shard>]>,
    per_shard: usize,
    /// Random per cache: where a token's entry lives differs from process to process.
    seed: u64,
}

/// Entries by the mixed tail of their token's signature.
type Shard = HashMap<u64, Entry, BuildHasherDefault<AlreadyHashed>>;

/// A cached session and when it stops verifying, kept beside it so that choosing an entry to
/// drop reads the table, not each entry's claims elsewhere in memory.
struct Entry {
    /// The last second its times pass (`Sessions::check`).
    ends: u64,
    session: Arc<CachedSession>,
}

impl VerifiedCache {
    /// A cache of at most `capacity` tokens; `0` keeps none.
    pub(crate) fn new(capacity: usize) -> Self {
        let shards = if capacity == 0 {
            0
        } else {
            // A power of two, with at least MIN_PER_SHARD entries each when there is room.
            1 << (capacity / MIN_PER_SHARD).clamp(1, MAX_SHARDS).ilog2()
        };
        Self {
            shards: (0..shards).map(|_| RwLock::default()).collect(),
            per_shard: capacity.checked_div(shards).unwrap_or(0),
            seed: RandomState::new().hash_one(0u8),
        }
    }

    /// Calls `then` with the cached session of exactly this token, or with `None`, under its
    /// shard's read lock: a hit takes no reference count of its own.
    pub(crate) fn with<R>(
        &self,
        token: &[u8],
        then: impl FnOnce(Option<&CachedSession>) -> R,
    ) -> R {
        let Some((shard, key)) = self.slot(token) else {
            return then(None);
        };
        let shard = shard.read().unwrap_or_else(PoisonError::into_inner);
        let found = shard
            .get(&key)
            .map(|entry| &*entry.session)
            .filter(|session| session.token.as_bytes() == token);
        then(found)
    }

    /// Keeps a token the key ring just verified, whose times pass until `ends` (Unix seconds);
    /// when there is no room, an entry that ended before `now` goes first.
    pub(crate) fn insert(
        &self,
        token: &str,
        claims: SessionClaims,
        current_key: bool,
        ends: u64,
        now: u64,
    ) -> Arc<CachedSession> {
        let cached = Arc::new(CachedSession {
            token: token.into(),
            claims,
            current_key,
            profiles: Default::default(),
        });
        let Some((shard, key)) = self.slot(token.as_bytes()) else {
            return cached;
        };
        let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= self.per_shard && !shard.contains_key(&key) {
            // A few entries are looked at, not all, so an insert costs the same when full: an
            // expired one goes if there is one among them, else the first.
            let mut sample = shard.iter().take(EVICTION_SAMPLE);
            let first = sample.next().map(|(key, _)| *key);
            let victim = sample
                .find(|(_, entry)| entry.ends < now)
                .map(|(key, _)| *key)
                .or(first);
            victim.map(|victim| shard.remove(&victim));
        }
        let entry = Entry {
            ends,
            session: cached.clone(),
        };
        shard.insert(key, entry);
        cached
    }

    /// The shard and key for `token`, or `None` when the cache keeps nothing.
    fn slot(&self, token: &[u8]) -> Option<(&RwLock<Shard>, u64)> {
        if self.shards.is_empty() {
            return None;
        }
        let signature = memchr::memrchr(b'.', token).map_or(token, |dot| &token[dot + 1..]);
        let mut tail = [0u8; 8];
        let last = &signature[signature.len().saturating_sub(8)..];
        tail[..last.len()].copy_from_slice(last);
        let mixed = u128::from(u64::from_le_bytes(tail) ^ self.seed) * 0x9E37_79B9_7F4A_7C15;
        let key = (mixed as u64) ^ ((mixed >> 64) as u64);
        // Bits the shard's own table does not index by (its low bits, and its top seven).
        let index = (key >> 32) as usize & (self.shards.len() - 1);
        Some((&self.shards[index], key))
    }

    /// How many tokens are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

/// The hasher of keys that already are mixed: passes them through.
#[derive(Default)]
struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; this keeps any other input well defined.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    /// The session id cached for exactly `token`.
    fn sid(cache: &VerifiedCache, token: &[u8]) -> Option<String> {
        cache.with(token, |found| {
            found.map(|cached| cached.claims.sid.to_string())
        })
    }

    fn claims(sid: &str, exp: u64) -> SessionClaims {
        let profile = Profile::new("prof_1", "a@b.test");
        SessionClaims {
            iss: "iss".into(),
            aud: "aud".into(),
            sid: sid.into(),
            typ: "session",
            iat: 0,
            exp,
            auth_time: 0,
            profile,
            ext: Default::default(),
            trm: Vec::new(),
        }
    }

    #[test]
    fn a_token_is_found_only_by_its_whole_value() {
        let cache = VerifiedCache::new(8);
        cache.insert("h.p.sig", claims("s1", 10), true, 10, 0);
        assert_eq!(sid(&cache, b"h.p.sig").unwrap(), "s1");
        // Same signature, so the same slot: another payload is a miss.
        assert!(sid(&cache, b"h.other.sig").is_none());
        assert!(sid(&cache, b"h.p.sig2").is_none());
        assert!(sid(&cache, b"h.p.si").is_none());
    }

    #[test]
    fn a_colliding_token_replaces_the_entry_instead_of_sharing_it() {
        let cache = VerifiedCache::new(8);
        cache.insert("a.one.sig", claims("s1", 10), true, 10, 0);
        cache.insert("a.two.sig", claims("s2", 10), true, 10, 0);
        assert!(sid(&cache, b"a.one.sig").is_none());
        assert_eq!(sid(&cache, b"a.two.sig").unwrap(), "s2");
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        for capacity in [1, 2, 3, 5, 16, 17, 100, 128, 1000, 1100] {
            let cache = VerifiedCache::new(capacity);
            for n in 0..capacity * 4 {
                cache.insert(&format!("h.p.{n}"), claims("s", 10), true, 10, 0);
                assert!(cache.len() <= capacity, "{} > {capacity}", cache.len());
            }
            assert!(cache.len() >= capacity / 2, "the cache keeps something");
        }
        let none = VerifiedCache::new(0);
        none.insert("h.p.s", claims("s", 10), true, 10, 0);
        assert!(sid(&none, b"h.p.s").is_none());
    }

    #[test]
    fn a_full_shard_drops_an_expired_entry_first() {
        let cache = VerifiedCache::new(2);
        cache.insert("h.p.a", claims("a", 50), true, 50, 0);
        cache.insert("h.p.b", claims("b", 5), true, 5, 0);
        cache.insert("h.p.c", claims("c", 50), true, 50, 10);
        assert!(
            sid(&cache, b"h.p.b").is_none(),
            "the expired entry made room"
        );
        assert!(sid(&cache, b"h.p.a").is_some());
        assert!(sid(&cache, b"h.p.c").is_some());
    }
}
