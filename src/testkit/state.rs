//! What the fake remembers: faults, request counts, pending sign-ins, codes and access tokens,
//! and what the API-key endpoints and tests need (deleted connections, logout tokens, requests).
//!
//! Everything sits behind plain mutexes that are never held across an `.await`, and every map is
//! bounded in size and age.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::recorded::{AuthorizeRequest, PortalRequest};
use super::seed::{Seed, UserRef};
use super::{Endpoint, Fault};

/// How many pending sign-ins, codes, access tokens or logout tokens the fake keeps at most.
pub(super) const CAPACITY: usize = 10_000;
/// How many authorize or portal link requests the fake remembers (the oldest go first).
const RECORDED: usize = 1_000;
/// How long a sign-in page stays usable.
const PENDING_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long a code stays valid unless changed with `set_code_lifetime` (as WorkOS).
const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long an access token works for `/sso/profile`; also the `expires_in` of token responses.
pub(super) const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// The state shared by the handle and every connection.
pub(super) struct Shared {
    pub(super) seed: Seed,
    faults: Mutex<HashMap<Endpoint, Fault>>,
    requests: [AtomicUsize; 8],
    /// What the API-key endpoints remember.
    pub(super) api: ApiState,
    store: Mutex<Store>,
    rng: SystemRandom,
}

impl Shared {
    pub(super) fn new(seed: Seed) -> Shared {
        Shared {
            seed,
            faults: Mutex::default(),
            requests: Default::default(),
            api: ApiState::default(),
            store: Mutex::new(Store::default()),
            rng: SystemRandom::new(),
        }
    }

    pub(super) fn set_fault(&self, endpoint: Endpoint, fault: Option<Fault>) {
        let mut faults = lock(&self.faults);
        match fault {
            Some(fault) => faults.insert(endpoint, fault),
            None => faults.remove(&endpoint),
        };
    }

    pub(super) fn fault(&self, endpoint: Endpoint) -> Option<Fault> {
        lock(&self.faults).get(&endpoint).cloned()
    }

    pub(super) fn count_request(&self, endpoint: Endpoint) {
        self.requests[index(endpoint)].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn requests(&self, endpoint: Endpoint) -> usize {
        self.requests[index(endpoint)].load(Ordering::Relaxed)
    }

    pub(super) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// 32 random bytes, base64url without padding; `None` only if the system RNG fails.
    pub(super) fn random_token(&self) -> Option<String> {
        let mut bytes = [0u8; 32];
        self.rng.fill(&mut bytes).ok()?;
        Some(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Issues a single-use code for `user`, optionally bound to a PKCE S256 challenge.
    pub(super) fn issue_code(
        &self,
        user: UserRef,
        code_challenge: Option<String>,
    ) -> Option<String> {
        let code = self.random_token()?;
        let issued = IssuedCode {
            user,
            code_challenge,
        };
        self.store().codes.insert(code.clone(), issued);
        Some(code)
    }

    /// Issues an access token that `/sso/profile` accepts for `user`.
    pub(super) fn issue_access_token(&self, user: UserRef) -> Option<String> {
        let token = self.random_token()?;
        self.store().tokens.insert(token.clone(), user);
        Some(token)
    }
}

fn index(endpoint: Endpoint) -> usize {
    match endpoint {
        Endpoint::Authorize => 0,
        Endpoint::Token => 1,
        Endpoint::Profile => 2,
        Endpoint::LogoutAuthorize => 3,
        Endpoint::Logout => 4,
        Endpoint::Connections => 5,
        Endpoint::Portal => 6,
        Endpoint::Organizations => 7,
    }
}

/// Locks a mutex, ignoring poisoning: the data stays consistent because no code panics while
/// holding a lock, and a test tool must keep answering.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the API-key endpoints remember: deleted connections, logout tokens, who logged out;
/// and, for tests, every authorize request's query as it arrived.
#[derive(Default)]
pub(super) struct ApiState {
    pub(super) deleted: Mutex<HashSet<String>>,
    /// Logout token → profile id.
    pub(super) logout_tokens: Mutex<HashMap<String, String>>,
    pub(super) logged_out: Mutex<Vec<String>>,
    pub(super) logout_redirect: Mutex<Option<String>>,
    pub(super) authorize_requests: Mutex<VecDeque<AuthorizeRequest>>,
    pub(super) portal_requests: Mutex<VecDeque<PortalRequest>>,
}

impl ApiState {
    /// Keeps the query of a `GET /sso/authorize`, at most [`RECORDED`] of them.
    pub(super) fn record_authorize(&self, query: &str) {
        let mut recorded = lock(&self.authorize_requests);
        if recorded.len() >= RECORDED {
            recorded.pop_front();
        }
        recorded.push_back(AuthorizeRequest::of(query));
    }

    /// Keeps a portal link request, at most [`RECORDED`] of them.
    pub(super) fn record_portal(&self, request: PortalRequest) {
        let mut recorded = lock(&self.portal_requests);
        if recorded.len() >= RECORDED {
            recorded.pop_front();
        }
        recorded.push_back(request);
    }
}

/// Pending sign-ins, issued codes and access tokens, each by its random id.
pub(super) struct Store {
    pub(super) pending: Expiring<Pending>,
    pub(super) codes: Expiring<IssuedCode>,
    pub(super) tokens: Expiring<UserRef>,
}

impl Default for Store {
    fn default() -> Store {
        Store {
            pending: Expiring::new(PENDING_LIFETIME),
            codes: Expiring::new(DEFAULT_CODE_LIFETIME),
            tokens: Expiring::new(ACCESS_TOKEN_LIFETIME),
        }
    }
}

/// A validated authorize request: where to send the browser back, and what to bind the code to.
pub(super) struct Authorization {
    pub(super) redirect_uri: String,
    pub(super) state: Option<String>,
    pub(super) code_challenge: Option<String>,
}

/// An authorize request waiting on the sign-in page for the user to pick who they are.
pub(super) struct Pending {
    pub(super) authorization: Authorization,
    /// The selected connections, as indexes into the seed.
    pub(super) connections: Vec<usize>,
}

/// A code waiting to be exchanged.
pub(super) struct IssuedCode {
    pub(super) user: UserRef,
    pub(super) code_challenge: Option<String>,
}

/// A map whose entries expire `lifetime` after insertion and which never holds more than
/// [`CAPACITY`] entries (the oldest goes first). Entries are kept in insertion order too, which
/// is their order of expiry, so making room costs the same however full the map is: a burst of
/// sign-ins fills it with tokens nobody asks for again.
pub(super) struct Expiring<T> {
    lifetime: Duration,
    entries: HashMap<String, (Instant, T)>,
    order: VecDeque<(Instant, String)>,
}

impl<T> Expiring<T> {
    fn new(lifetime: Duration) -> Expiring<T> {
        Expiring {
            lifetime,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Changes the lifetime of every entry, including those already inserted.
    pub(super) fn set_lifetime(&mut self, lifetime: Duration) {
        self.lifetime = lifetime;
    }

    pub(super) fn insert(&mut self, key: String, value: T) {
        let now = Instant::now();
        while let Some((at, oldest)) = self.order.front() {
            let expired = now.duration_since(*at) >= self.lifetime;
            // Taken entries leave their place in `order` behind; it is bounded too, so the map
            // holds at most the CAPACITY latest insertions.
            if !expired && self.entries.len() < CAPACITY && self.order.len() < CAPACITY {
                break;
            }
            // Only if the map still holds this insertion (not a later one of the same key).
            if self.entries.get(oldest).is_some_and(|(kept, _)| kept == at) {
                self.entries.remove(oldest);
            }
            self.order.pop_front();
        }
        self.order.push_back((now, key.clone()));
        self.entries.insert(key, (now, value));
    }

    /// Removes the entry and returns it if it had not expired yet.
    pub(super) fn take(&mut self, key: &str) -> Option<T> {
        let (at, value) = self.entries.remove(key)?;
        (at.elapsed() < self.lifetime).then_some(value)
    }

    /// The entry, if present and not expired.
    pub(super) fn get(&self, key: &str) -> Option<&T> {
        let (at, value) = self.entries.get(key)?;
        (at.elapsed() < self.lifetime).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expiring_map_stays_bounded_and_keeps_the_latest() {
        let mut map = Expiring::new(Duration::from_secs(600));
        for n in 0..CAPACITY * 3 {
            map.insert(n.to_string(), n);
            if n % 2 == 0 {
                assert_eq!(map.take(&n.to_string()), Some(n));
            }
        }
        assert!(map.entries.len() <= CAPACITY && map.order.len() <= CAPACITY);
        let last = CAPACITY * 3 - 1;
        assert_eq!(map.get(&last.to_string()), Some(&last));
        assert_eq!(map.get("1"), None, "the oldest went first");
    }
}
