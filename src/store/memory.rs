//! `MemoryStore`: the in-process store, bounded in records and in the work each call does.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use super::{BoxFuture, Revocation, SessionRef, SessionStore, StoreError};
use crate::time::Clock;

/// How many expired records one write removes at most, per table. Each record is removed once,
/// and every write removes more than it adds, so expired records never pile up.
const PURGE_BATCH: usize = 8;

/// An in-memory [`SessionStore`] for one instance; every layer without a configured store
/// keeps one of its own.
///
/// It is bounded:
///
/// - **Records expire on their own.** A record is ignored from its `until` on, and removed by a
///   later write: each write first removes up to a few records whose time has passed, taken in
///   order of expiry from an index, so no call ever scans every record.
/// - **A cap on live records**, separately for revocations and for used login states
///   ([`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) each; see
///   [`with_capacity`](Self::with_capacity)). At the cap, a revocation or login state the
///   store does not know yet is refused with a [`StoreError`], and nothing recorded is dropped
///   early: the store never forgets a revocation to make room, because a forgotten one would
///   let its tokens back in. A refused logout says so, a refused
///   [`SsoLayer::revoke`](crate::SsoLayer::revoke) returns the error, and a refused login
///   state is an error too, so that login fails rather than risk a replay. Revoking a key
///   already recorded still works at the cap, and room comes back as records expire (at most
///   the absolute lifetime plus the clock leeway after they were made). The two caps are
///   separate so that logins started by anyone can never fill the room revocations need.
///
/// Each `until` is counted on the layer's clock when the layer made the store, and on the system
/// clock otherwise.
pub struct MemoryStore {
    tables: RwLock<Tables>,
    /// How many revocations the tables hold, as of the last write: while there are none (most
    /// of the time, in most apps), a session's check is one load, not a lock.
    revocations: AtomicUsize,
    clock: Clock,
}

struct Tables {
    /// One table per kind of revocation (see [`slot`]), so a lookup borrows the token's ids.
    revoked: [Expiring<SystemTime>; 4],
    max_revocations: usize,
    login_states: Expiring<()>,
    max_login_states: usize,
}

/// Records that expire: a map to look them up and an index in order of expiry to purge them.
struct Expiring<V> {
    records: HashMap<String, Record<V>>,
    by_expiry: BTreeSet<(SystemTime, String)>,
}

struct Record<V> {
    value: V,
    until: SystemTime,
}

impl<V> Default for Expiring<V> {
    fn default() -> Self {
        Self {
            records: HashMap::new(),
            by_expiry: BTreeSet::new(),
        }
    }
}

impl<V> Expiring<V> {
    fn len(&self) -> usize {
        self.records.len()
    }

    /// The record of `key`, if it has not expired at `now`.
    fn live(&self, key: &str, now: SystemTime) -> Option<&V> {
        self.records
            .get(key)
            .filter(|record| now < record.until)
            .map(|record| &record.value)
    }

    /// Removes up to `budget` records expired at `now`, soonest first; how many it removed.
    fn purge(&mut self, now: SystemTime, budget: usize) -> usize {
        let mut removed = 0;
        while removed < budget {
            match self.by_expiry.first() {
                Some((until, _)) if *until <= now => {}
                _ => break,
            }
            if let Some((_, key)) = self.by_expiry.pop_first() {
                self.records.remove(&key);
                removed += 1;
            }
        }
        removed
    }

    /// Records `key` until `until`, or merges `value` into its record and keeps the later
    /// `until`. A new key is refused when `full`.
    fn upsert(
        &mut self,
        key: String,
        value: V,
        until: SystemTime,
        full: bool,
        merge: impl FnOnce(&mut V, V),
    ) -> Result<(), Full> {
        match self.records.get_mut(&key) {
            Some(record) => {
                merge(&mut record.value, value);
                if until > record.until {
                    self.by_expiry.remove(&(record.until, key.clone()));
                    self.by_expiry.insert((until, key));
                    record.until = until;
                }
                Ok(())
            }
            None if full => Err(Full),
            None => {
                self.by_expiry.insert((until, key.clone()));
                self.records.insert(key, Record { value, until });
                Ok(())
            }
        }
    }
}

/// The cap was reached.
struct Full;

/// The table of a kind of revocation, and the id it is keyed by.
fn slot(what: &Revocation) -> (usize, &str) {
    match what {
        Revocation::Session(id) => (0, id),
        Revocation::User(id) => (1, id),
        Revocation::Organization(id) => (2, id),
        Revocation::Connection(id) => (3, id),
    }
}

impl Tables {
    fn revocations(&self) -> usize {
        self.revoked.iter().map(Expiring::len).sum()
    }
}

impl MemoryStore {
    /// How many live revocations, and separately how many used login states, a store keeps at
    /// most unless told otherwise.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// An empty store with the default capacity.
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY, Self::DEFAULT_CAPACITY)
    }

    /// An empty store that keeps at most `revocations` live revocations and `login_states` live
    /// used login states (see the [type docs](Self) for what happens at the cap).
    pub fn with_capacity(revocations: usize, login_states: usize) -> Self {
        Self {
            tables: RwLock::new(Tables {
                revoked: Default::default(),
                max_revocations: revocations,
                login_states: Expiring::default(),
                max_login_states: login_states,
            }),
            revocations: AtomicUsize::new(0),
            clock: Arc::new(SystemTime::now),
        }
    }

    /// Counts time on `clock` (the layer's own, when it makes the store).
    pub(crate) fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&mut Tables, SystemTime) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let now = (self.clock)();
        let mut tables = self.tables.write().map_err(|_| poisoned())?;
        let written = f(&mut tables, now);
        // Under the lock, so the count never runs behind a write another thread saw.
        self.revocations
            .store(tables.revocations(), Ordering::Release);
        written
    }

    /// Records `what` at once (what [`SessionStore::revoke`] does).
    pub(crate) fn revoke_now(
        &self,
        what: Revocation,
        at: SystemTime,
        until: SystemTime,
    ) -> Result<(), StoreError> {
        self.write(|tables, now| {
            for table in &mut tables.revoked {
                table.purge(now, PURGE_BATCH);
            }
            if until <= now {
                // No token it could refuse still verifies.
                return Ok(());
            }
            let full = tables.revocations() >= tables.max_revocations;
            let max = tables.max_revocations;
            let (kind, id) = slot(&what);
            tables.revoked[kind]
                .upsert(id.to_owned(), at, until, full, |kept, at| {
                    *kept = (*kept).max(at);
                })
                .map_err(|Full| {
                    StoreError::new(format!(
                        "memory store full: {max} live revocations (see MemoryStore::with_capacity)"
                    ))
                })
        })
    }

    /// Every live revocation with its moment and its end, for a store that copies this one
    /// elsewhere (the Redis store writes its local view back after an outage).
    #[cfg(feature = "redis")]
    pub(crate) fn live_revocations(&self) -> Vec<(Revocation, SystemTime, SystemTime)> {
        let now = (self.clock)();
        let Ok(tables) = self.tables.read() else {
            return Vec::new();
        };
        let kinds: [fn(String) -> Revocation; 4] = [
            Revocation::Session,
            Revocation::User,
            Revocation::Organization,
            Revocation::Connection,
        ];
        let mut live = Vec::new();
        for (table, kind) in tables.revoked.iter().zip(kinds) {
            for (id, record) in &table.records {
                if now < record.until {
                    live.push((kind(id.clone()), record.value, record.until));
                }
            }
        }
        live
    }

    /// Whether a live record refuses `session`; answered from memory, at once.
    pub(crate) fn revoked_now(&self, session: &SessionRef<'_>) -> Result<bool, StoreError> {
        if self.revocations.load(Ordering::Acquire) == 0 {
            return Ok(false);
        }
        self.tables.read().map_err(|_| poisoned()).map(|tables| {
            if tables.revocations() == 0 {
                return false;
            }
            let now = (self.clock)();
            let [sessions, users, organizations, connections] = &tables.revoked;
            let refused = |table: &Expiring<SystemTime>, id: Option<&str>| {
                id.and_then(|id| table.live(id, now))
                    .is_some_and(|at| session.authenticated_at <= *at)
            };
            sessions.live(session.session_id, now).is_some()
                || refused(users, Some(session.profile_id))
                || refused(organizations, session.organization_id)
                || refused(connections, session.connection_id)
        })
    }
}

fn poisoned() -> StoreError {
    StoreError::new("memory store lock poisoned")
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("MemoryStore");
        if let Ok(tables) = self.tables.read() {
            debug
                .field("revocations", &tables.revocations())
                .field("max_revocations", &tables.max_revocations)
                .field("login_states", &tables.login_states.len())
                .field("max_login_states", &tables.max_login_states);
        }
        debug.finish_non_exhaustive()
    }
}

impl SessionStore for MemoryStore {
    fn revoke(
        &self,
        what: Revocation,
        at: SystemTime,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(self.revoke_now(what, at, until)))
    }

    fn is_revoked(&self, session: &SessionRef<'_>) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(std::future::ready(self.revoked_now(session)))
    }

    fn refuses_none_now(&self) -> bool {
        self.revocations.load(Ordering::Acquire) == 0
    }

    fn is_revoked_now(&self, session: &SessionRef<'_>) -> Option<Result<bool, StoreError>> {
        Some(self.revoked_now(session))
    }

    fn consume_login_state(
        &self,
        id: &str,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let result = self.write(|tables, now| {
            let states = &mut tables.login_states;
            states.purge(now, PURGE_BATCH);
            if states.live(id, now).is_some() {
                return Ok(false);
            }
            if until <= now {
                return Ok(true);
            }
            // A record expired but not purged yet is renewed in place: its flow is over.
            let full = states.len() >= tables.max_login_states;
            let max = tables.max_login_states;
            states
                .upsert(id.to_owned(), (), until, full, |_, _| {})
                .map(|()| true)
                .map_err(|Full| {
                    StoreError::new(format!(
                        "memory store full: {max} live login states (see MemoryStore::with_capacity)"
                    ))
                })
        });
        Box::pin(std::future::ready(result))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use super::*;

    const T0: u64 = 1_800_000_000;

    /// A store on a clock the test moves, in whole seconds after `T0`.
    fn store(revocations: usize, login_states: usize) -> (MemoryStore, Arc<AtomicU64>) {
        let offset = Arc::new(AtomicU64::new(0));
        let clock = offset.clone();
        let store = MemoryStore::with_capacity(revocations, login_states)
            .with_clock(Arc::new(move || at(clock.load(Ordering::SeqCst))));
        (store, offset)
    }

    fn at(seconds_after_t0: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + seconds_after_t0)
    }

    use crate::store::ready_now as now;

    fn revoked(store: &MemoryStore, session: &SessionRef<'_>) -> bool {
        now(store.is_revoked(session)).unwrap()
    }

    fn sessions(store: &MemoryStore) -> usize {
        store.tables.read().unwrap().revocations()
    }

    #[test]
    fn a_revoked_session_is_refused_until_its_record_expires() {
        let (store, clock) = store(10, 10);
        let alice = SessionRef::new("sid-1", "prof_1", at(0));
        let other = SessionRef::new("sid-2", "prof_1", at(0));
        now(store.revoke(Revocation::Session("sid-1".into()), at(5), at(100))).unwrap();
        assert!(revoked(&store, &alice));
        assert!(!revoked(&store, &other));
        clock.store(99, Ordering::SeqCst);
        assert!(revoked(&store, &alice), "the last second before until");
        clock.store(100, Ordering::SeqCst);
        assert!(
            !revoked(&store, &alice),
            "until is the first moment it may go"
        );
        assert_eq!(sessions(&store), 1, "reads never purge");
        now(store.revoke(Revocation::Session("sid-3".into()), at(100), at(200))).unwrap();
        assert_eq!(
            sessions(&store),
            1,
            "the next write removed the expired record"
        );
        // A record that would expire at once is not kept at all.
        now(store.revoke(Revocation::Session("sid-4".into()), at(100), at(100))).unwrap();
        assert_eq!(sessions(&store), 1);
    }

    #[test]
    fn it_says_it_refuses_none_only_while_it_holds_no_revocation() {
        let (store, clock) = store(10, 10);
        assert!(store.refuses_none_now());
        now(store.revoke(Revocation::User("prof_1".into()), at(5), at(100))).unwrap();
        assert!(!store.refuses_none_now());
        // Used login states are no revocations.
        now(store.consume_login_state("flow-1", at(50))).unwrap();
        assert!(!store.refuses_none_now());
        // An expired record counts until a revocation's write removes it (this one, which
        // expires at once, is not kept): the answer errs towards asking.
        clock.store(100, Ordering::SeqCst);
        assert!(!store.refuses_none_now());
        now(store.revoke(Revocation::Session("sid-1".into()), at(100), at(100))).unwrap();
        assert!(store.refuses_none_now());
    }

    #[test]
    fn users_organizations_and_connections_refuse_sign_ins_up_to_the_revocation() {
        let (store, clock) = store(10, 10);
        clock.store(1000, Ordering::SeqCst);
        for what in [
            Revocation::User("prof_1".into()),
            Revocation::Organization("org_1".into()),
            Revocation::Connection("conn_1".into()),
        ] {
            let (store, _) = self::store(10, 10);
            now(store.revoke(what.clone(), at(1000), at(5000))).unwrap();
            let session = |sid, signed_in| {
                SessionRef::new(sid, "prof_1", at(signed_in))
                    .with_organization("org_1")
                    .with_connection("conn_1")
            };
            assert!(revoked(&store, &session("a", 0)), "{what:?}");
            assert!(
                revoked(&store, &session("b", 1000)),
                "{what:?}: same second"
            );
            assert!(!revoked(&store, &session("c", 1001)), "{what:?}: after");
            let elsewhere = SessionRef::new("d", "prof_2", at(0))
                .with_organization("org_2")
                .with_connection("conn_2");
            assert!(!revoked(&store, &elsewhere), "{what:?}: others");
        }
        // Revoking again keeps the later moment and the later end, whatever the order.
        let user = Revocation::User("prof_1".into());
        now(store.revoke(user.clone(), at(1000), at(9000))).unwrap();
        now(store.revoke(user.clone(), at(500), at(4000))).unwrap();
        let signed_in_at = |t| SessionRef::new("x", "prof_1", at(t));
        assert!(revoked(&store, &signed_in_at(900)));
        clock.store(8999, Ordering::SeqCst);
        assert!(revoked(&store, &signed_in_at(900)));
        clock.store(9000, Ordering::SeqCst);
        assert!(!revoked(&store, &signed_in_at(900)));
    }

    #[test]
    fn at_the_cap_new_revocations_are_refused_and_none_is_forgotten() {
        let (store, clock) = store(3, 3);
        for (i, until) in [(1, 100), (2, 200), (3, 300)] {
            now(store.revoke(Revocation::Session(format!("sid-{i}")), at(0), at(until))).unwrap();
        }
        let error = now(store.revoke(Revocation::User("prof_9".into()), at(0), at(400)))
            .unwrap_err()
            .to_string();
        assert!(error.contains("memory store full"), "{error}");
        assert!(!error.contains("prof_9"), "{error}");
        // What is kept still refuses, and may be revoked again (no growth).
        for i in 1..=3 {
            let sid = format!("sid-{i}");
            assert!(revoked(&store, &SessionRef::new(&sid, "p", at(0))), "{sid}");
        }
        now(store.revoke(Revocation::Session("sid-1".into()), at(50), at(150))).unwrap();
        // Room comes back as records expire, never earlier.
        clock.store(149, Ordering::SeqCst);
        assert!(now(store.revoke(Revocation::User("prof_9".into()), at(149), at(400))).is_err());
        clock.store(150, Ordering::SeqCst);
        now(store.revoke(Revocation::User("prof_9".into()), at(150), at(400))).unwrap();
        assert!(revoked(&store, &SessionRef::new("s", "prof_9", at(150))));
        assert!(!revoked(&store, &SessionRef::new("sid-1", "p", at(0))));
        assert!(revoked(&store, &SessionRef::new("sid-2", "p", at(0))));
        assert_eq!(sessions(&store), 3);
    }

    #[test]
    fn purging_is_amortised_a_few_records_per_write() {
        let (store, clock) = store(1000, 1000);
        for i in 0..100 {
            let until = at(10 + i);
            now(store.revoke(Revocation::Session(format!("sid-{i}")), at(0), until)).unwrap();
        }
        clock.store(500, Ordering::SeqCst);
        let mut writes = 0;
        let mut left = sessions(&store);
        while left > 1 {
            now(store.revoke(Revocation::Session("sid-new".into()), at(500), at(900))).unwrap();
            writes += 1;
            let after = sessions(&store);
            assert!(
                left - after <= PURGE_BATCH,
                "one write removed {}",
                left - after
            );
            left = after;
        }
        // 100 expired records, at most 8 a write: 13 writes, and none of them scanned the rest.
        assert_eq!(writes, 100_usize.div_ceil(PURGE_BATCH));
        let tables = store.tables.read().unwrap();
        assert_eq!(
            tables.revoked[0].by_expiry.len(),
            1,
            "the index shrinks with the map"
        );
    }

    #[test]
    fn a_full_store_of_expired_records_makes_room_at_once() {
        let (store, clock) = store(20, 20);
        for i in 0..20 {
            now(store.revoke(Revocation::Connection(format!("conn_{i}")), at(0), at(60))).unwrap();
        }
        assert!(now(store.revoke(Revocation::User("prof_1".into()), at(0), at(60))).is_err());
        clock.store(60, Ordering::SeqCst);
        now(store.revoke(Revocation::User("prof_1".into()), at(60), at(120))).unwrap();
        assert_eq!(sessions(&store), 20 - PURGE_BATCH + 1);
    }

    #[test]
    fn a_login_state_is_consumed_once_until_it_expires() {
        let (store, clock) = store(2, 2);
        assert!(now(store.consume_login_state("flow-a", at(600))).unwrap());
        assert!(!now(store.consume_login_state("flow-a", at(600))).unwrap());
        assert!(!now(store.consume_login_state("flow-a", at(900))).unwrap());
        assert!(now(store.consume_login_state("flow-b", at(600))).unwrap());
        // At the cap, a new state is refused (that login fails) and used ones stay used.
        let error = now(store.consume_login_state("flow-c", at(600))).unwrap_err();
        assert!(!error.to_string().contains("flow-c"), "{error}");
        assert!(!now(store.consume_login_state("flow-b", at(600))).unwrap());
        // The login-state cap leaves revocations their own room.
        now(store.revoke(Revocation::Session("sid".into()), at(0), at(600))).unwrap();
        // A replay does not extend the record: both are forgotten at 600, and room comes back.
        clock.store(599, Ordering::SeqCst);
        assert!(!now(store.consume_login_state("flow-a", at(1200))).unwrap());
        clock.store(600, Ordering::SeqCst);
        assert!(now(store.consume_login_state("flow-c", at(1200))).unwrap());
        assert!(now(store.consume_login_state("flow-a", at(1200))).unwrap());
        assert!(!now(store.consume_login_state("flow-c", at(1200))).unwrap());
    }

    #[test]
    fn debug_shows_counts_never_ids() {
        let (store, _) = store(5, 5);
        now(store.revoke(Revocation::User("prof_SECRETISH".into()), at(0), at(9))).unwrap();
        now(store.consume_login_state("state-digest", at(9))).unwrap();
        let printed = format!("{store:?}");
        assert!(printed.contains("revocations: 1"), "{printed}");
        assert!(!printed.contains("prof_SECRETISH") && !printed.contains("state-digest"));
    }
}
