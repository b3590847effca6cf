//! `RedisStore`: revocations and used login states shared by every instance through Redis,
//! with each instance answering from a local view so that no request waits on the network.
//!
//! See [`RedisStore`] for how it works and what it does when Redis fails.

mod record;
mod sync;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::MultiplexedConnection;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::{BoxFuture, MemoryStore, Revocation, SessionRef, SessionStore, StoreError};
use record::Record;

/// A [`SessionStore`] shared through Redis (feature `redis`), each instance answering from a
/// local view so that no request waits on the network.
///
/// # How it works
///
/// - **Authoritative records in Redis.** Every revocation is a member of one sorted set
///   (`<prefix>revocations`) scored by its `until`; each write also drops the members whose
///   `until` has passed, and the key itself expires with its latest member. A used login state
///   is its own key (`<prefix>state:<id>`), set with `SET NX PXAT <until>`: one round trip,
///   and only the first instance to ask gets `true`.
/// - **A local view per instance.** Each instance keeps the live revocations in a bounded
///   [`MemoryStore`]; [`SessionStore::is_revoked_now`] answers from it, with no future and no
///   network. A revocation is written to the view first (enforced here at once), then to Redis
///   and published on `<prefix>revocations` in one `MULTI`.
/// - **Kept current by pub/sub.** A task per store subscribes to the channel and applies what
///   other instances publish. On every (re)connect it subscribes first, then writes its own
///   view back to Redis (so nothing revoked during an outage, nor lost by a Redis restarted
///   empty, is forgotten), announces a reload if that added anything, and reloads every live
///   record: a message missed while disconnected is never lost.
///
/// # Redis 7.0 or later
///
/// The store's writes use `EXPIREAT … NX` and `GT`, which came in Redis 7.0 (Valkey has them
/// too). At connect it reads the server's version (`INFO server`): an older Redis is refused
/// with an error naming its version, logged at each attempt, and the store stays unconnected,
/// failing closed as with Redis down, rather than failing every write in silence.
///
/// # Faults
///
/// - **Redis down at start.** Until the view has been loaded once, the instance knows nothing
///   of what other instances revoked, so it fails closed: requests with a session get `503` on
///   a protected path; public and optional paths are served to everyone (a caller with a
///   session on an optional path as an anonymous one), and requests without a session as
///   always. It connects as soon as Redis
///   answers.
/// - **Redis down mid-run.** The layer keeps serving: sessions are checked against
///   the local view (what this instance knew when Redis went away, plus what it revoked since).
///   A revocation is enforced on this instance at once and written when Redis is back; other
///   instances learn it within a second of both being connected again. So another instance
///   may accept a session revoked elsewhere for as long as either of them is cut off from
///   Redis, plus the time to notice and reconnect: a connection that fails is dropped at once,
///   one that goes silent once three health checks in a row (one a second, each with the
///   [`RedisStoreBuilder::timeout`]) missed their deadline, about 4.5 s by default (a single
///   missed check on a busy machine is not a dead Redis); reconnects back off to at most one
///   second.
/// - **Login states fail closed.** Consuming one needs Redis: without it the callback answers
///   `503` and the user signs in again once Redis is back. Public paths never touch the store.
/// - **Slow Redis.** Every command has a deadline ([`RedisStoreBuilder::timeout`], 500 ms by
///   default): a slow write is retried by the task, a slow login-state check is a `503`. A
///   command made while the store reconnects waits for the connection within that deadline;
///   while the last attempt to connect failed, it fails at once.
/// - **Too much to hold.** When Redis holds more live revocations than the view may
///   ([`RedisStoreBuilder::max_revocations`], counted per key: a session, user, organization or
///   connection revoked again is still one), the instance cannot enforce them all, so it fails
///   closed: sessions get `503` until the view fits again.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use tower_workos_sso::store::RedisStore;
///
/// // Needs a Tokio runtime: it spawns the task that keeps the local view current.
/// let store = RedisStore::new("redis://127.0.0.1:6379/0")?;
/// let config = tower_workos_sso::SsoConfig::builder().session_store(store);
/// # let _ = config; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    shared: Arc<Shared>,
}

/// How a store connects, names its keys and bounds its work.
#[derive(Clone)]
struct Options {
    prefix: String,
    timeout: Duration,
    max_revocations: usize,
}

/// Builds a [`RedisStore`]: key prefix, deadline, bounds.
#[derive(Clone)]
pub struct RedisStoreBuilder {
    url: String,
    options: Options,
}

/// Whether the store's task is connected and its view loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    /// Connecting, or about to: a query waits for it (within its deadline).
    Connecting,
    Up,
    /// The last attempt failed: a query fails at once until the next one.
    Down,
}

/// What the store's handles and its task share.
struct Shared {
    client: redis::Client,
    /// The URL without its password, for logs and `Debug`.
    shown: String,
    options: Options,
    revocations_key: String,
    state_prefix: String,
    local: MemoryStore,
    /// The command connection, while the task holds one.
    connection: Mutex<Option<MultiplexedConnection>>,
    health: watch::Sender<Health>,
    /// Redis holds more live revocations than the view: fail closed.
    overflow: AtomicBool,
    /// The view was loaded from Redis once: until then it knows nothing, so it fails closed.
    loaded: AtomicBool,
    /// A write did not reach Redis: the task writes the view back.
    dirty: AtomicBool,
    /// Wakes the task (a failed command, a dirty view).
    wake: Notify,
}

impl RedisStore {
    /// A store on `url` (`redis://[:password@]host[:port][/db]`, or a unix socket:
    /// `redis+unix:///path/to/redis.sock[?db=n&pass=password]`) with the default settings.
    /// It connects in the background, so it starts even while Redis is down. Must be called
    /// within a Tokio runtime.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).start()
    }

    /// A builder for a store on `url`.
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.to_owned(),
            options: Options {
                prefix: "tower-workos-sso:".to_owned(),
                timeout: Duration::from_millis(500),
                max_revocations: MemoryStore::DEFAULT_CAPACITY,
            },
        }
    }

    /// Whether the store is connected to Redis with its view loaded.
    pub fn is_connected(&self) -> bool {
        *self.shared.health.borrow() == Health::Up
    }

    /// Waits up to `timeout` until the store is connected with its view loaded; whether it is.
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        let mut health = self.shared.health.subscribe();
        let up = health.wait_for(|health| *health == Health::Up);
        matches!(tokio::time::timeout(timeout, up).await, Ok(Ok(_)))
    }
}

impl RedisStoreBuilder {
    /// The prefix of every key and of the channel; stores that share it share their records.
    /// Default `tower-workos-sso:`.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.options.prefix = prefix.into();
        self
    }

    /// The deadline of each Redis command and of each connection attempt. Default 500 ms.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = timeout;
        self
    }

    /// How many live revocations the local view holds at most. Default
    /// [`MemoryStore::DEFAULT_CAPACITY`].
    pub fn max_revocations(mut self, max: usize) -> Self {
        self.options.max_revocations = max;
        self
    }

    /// Checks the URL and starts the task that connects and keeps the view current.
    pub fn start(self) -> Result<RedisStore, StoreError> {
        let shown = redacted(&self.url);
        let client = redis::Client::open(self.url.as_str())
            .map_err(|_| StoreError::new(format!("invalid Redis URL {shown}")))?;
        if self.options.timeout.is_zero() || self.options.max_revocations == 0 {
            return Err(StoreError::new(
                "redis store: timeout and max_revocations must be above zero",
            ));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError::new("RedisStore must be started within a Tokio runtime"))?;
        let prefix = &self.options.prefix;
        let shared = Arc::new(Shared {
            client,
            shown,
            revocations_key: format!("{prefix}revocations"),
            state_prefix: format!("{prefix}state:"),
            local: MemoryStore::with_capacity(self.options.max_revocations, 1),
            options: self.options,
            connection: Mutex::new(None),
            health: watch::Sender::new(Health::Connecting),
            overflow: AtomicBool::new(false),
            loaded: AtomicBool::new(false),
            dirty: AtomicBool::new(false),
            wake: Notify::new(),
        });
        runtime.spawn(sync::run(Arc::downgrade(&shared)));
        Ok(RedisStore { shared })
    }
}

/// `url` without its user and password: `redis://host:port/db`, or for a unix socket (whose
/// credentials are query parameters) `redis+unix:///path?db=n`. Of the query, only `db` is kept.
fn redacted(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let scheme: String = scheme
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '+')
        .collect();
    let mut shown: String = rest.chars().filter(|c| !c.is_control()).take(200).collect();
    if let Some(db) = query.split('&').find_map(|pair| pair.strip_prefix("db=")) {
        shown.push_str("?db=");
        shown.extend(db.chars().filter(char::is_ascii_digit).take(8));
    }
    format!("{scheme}://{shown}")
}

impl Shared {
    /// The command connection, while the task holds one.
    fn held(&self) -> Option<MultiplexedConnection> {
        self.connection.lock().ok().and_then(|held| held.clone())
    }

    /// The command connection. While the task is (re)connecting, waits for it until
    /// `deadline`: a reconnect is no outage. While Redis is unreachable, an error at once.
    async fn connection(&self, deadline: Instant) -> Result<MultiplexedConnection, StoreError> {
        if let Some(connection) = self.held() {
            return Ok(connection);
        }
        let mut health = self.health.subscribe();
        let settled = health.wait_for(|health| *health != Health::Connecting);
        let up = matches!(
            tokio::time::timeout_at(deadline, settled).await,
            Ok(Ok(health)) if *health == Health::Up
        );
        up.then(|| self.held())
            .flatten()
            .ok_or_else(|| StoreError::new(format!("redis {} unavailable", self.shown)))
    }

    /// A failed command: the task checks the connection (and writes the view back).
    fn failed(&self, error: &StoreError) {
        crate::telemetry::store_error("redis");
        tracing::warn!(%error, "redis command failed");
        self.wake.notify_one();
    }

    /// Runs `command` on the connection within the deadline.
    async fn query<T, F>(
        &self,
        what: &'static str,
        command: impl FnOnce(MultiplexedConnection) -> F,
    ) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = redis::RedisResult<T>>,
    {
        // One deadline for the wait for a connection and the command.
        let deadline = Instant::now() + self.options.timeout;
        let connection = self.connection(deadline).await?;
        let result = match tokio::time::timeout_at(deadline, command(connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StoreError::new(format!(
                "redis {what} failed ({:?})",
                error.kind()
            ))),
            Err(_) => Err(StoreError::new(format!("redis {what} timed out"))),
        };
        if let Err(error) = &result {
            self.failed(error);
        }
        result
    }

    /// Writes `record` to the sorted set and publishes it, in one `MULTI`.
    async fn write(&self, record: &Record) -> Result<(), StoreError> {
        let key = &self.revocations_key;
        let now = unix_now();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("ZADD")
            .arg(key)
            .arg("GT")
            .arg(record.score())
            .arg(record.member())
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(key)
            .arg("-inf")
            .arg(now)
            .ignore()
            .cmd("EXPIREAT")
            .arg(key)
            .arg(record.score())
            .arg("NX")
            .ignore()
            .cmd("EXPIREAT")
            .arg(key)
            .arg(record.score())
            .arg("GT")
            .ignore()
            .cmd("PUBLISH")
            .arg(key)
            .arg(record.message())
            .ignore();
        self.query("write", |mut connection| async move {
            pipe.query_async::<()>(&mut connection).await
        })
        .await
    }
}

/// Now, in unix seconds, on the system clock (Redis's records are in its terms).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.shared.shown)
            .field("prefix", &self.shared.options.prefix)
            .field("health", &*self.shared.health.borrow())
            .field("local", &self.shared.local)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("url", &redacted(&self.url))
            .field("prefix", &self.options.prefix)
            .field("timeout", &self.options.timeout)
            .field("max_revocations", &self.options.max_revocations)
            .finish()
    }
}

impl SessionStore for RedisStore {
    fn revoke(
        &self,
        what: Revocation,
        at: SystemTime,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let shared = &self.shared;
        let local = shared.local.revoke_now(what.clone(), at, until);
        Box::pin(async move {
            local?;
            let record = Record { what, at, until };
            if let Err(error) = shared.write(&record).await {
                // Enforced here already; the task writes the view back when Redis answers.
                shared.dirty.store(true, Ordering::SeqCst);
                shared.wake.notify_one();
                tracing::warn!(
                    %error,
                    "revocation enforced on this instance; it reaches Redis when Redis is back"
                );
            }
            Ok(())
        })
    }

    fn is_revoked(&self, session: &SessionRef<'_>) -> BoxFuture<'_, Result<bool, StoreError>> {
        let answer = self.revoked(session);
        Box::pin(std::future::ready(answer))
    }

    fn refuses_none_now(&self) -> bool {
        // As `revoked` reads its view: only a loaded, complete one that holds nothing.
        self.shared.loaded.load(Ordering::Relaxed)
            && !self.shared.overflow.load(Ordering::Relaxed)
            && self.shared.local.refuses_none_now()
    }

    fn is_revoked_now(&self, session: &SessionRef<'_>) -> Option<Result<bool, StoreError>> {
        Some(self.revoked(session))
    }

    fn consume_login_state(
        &self,
        id: &str,
        until: SystemTime,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let key = format!("{}{id}", self.shared.state_prefix);
        let shared = &self.shared;
        Box::pin(async move {
            // Nothing can be recorded for it, so it is refused rather than taken as new.
            let Ok(until_ms) = until.duration_since(UNIX_EPOCH).map(|d| d.as_millis()) else {
                return Err(StoreError::new(
                    "redis store: a login state ending before the epoch",
                ));
            };
            let reply: Option<String> = shared
                .query("login state", |mut connection| async move {
                    redis::cmd("SET")
                        .arg(&key)
                        .arg(1)
                        .arg("NX")
                        .arg("PXAT")
                        .arg(until_ms.to_string())
                        .query_async(&mut connection)
                        .await
                })
                .await?;
            Ok(reply.is_some())
        })
    }
}

impl RedisStore {
    /// The local view's answer, or an error while it cannot hold every live revocation.
    fn revoked(&self, session: &SessionRef<'_>) -> Result<bool, StoreError> {
        if !self.shared.loaded.load(Ordering::Relaxed) {
            return Err(StoreError::new(
                "redis store: revocations not loaded yet (Redis has not answered since start)",
            ));
        }
        if self.shared.overflow.load(Ordering::Relaxed) {
            return Err(StoreError::new(
                "redis store: more live revocations than max_revocations",
            ));
        }
        self.shared.local.revoked_now(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_shown_without_its_password() {
        for (url, shown) in [
            (
                "redis://:hunter2@cache.internal:6380/2",
                "redis://cache.internal:6380/2",
            ),
            ("redis://user:p@ss@host/0", "redis://host/0"),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("rediss://u:pw@h:1", "rediss://h:1"),
            // A unix socket's credentials are in its query.
            (
                "redis+unix:///run/redis.sock?db=2&pass=hunter2",
                "redis+unix:///run/redis.sock?db=2",
            ),
            (
                "unix:///run/r.sock?user=me&pass=hunter2",
                "unix:///run/r.sock",
            ),
            ("redis://:hunter2@h:1/0?protocol=resp3", "redis://h:1/0"),
        ] {
            assert_eq!(redacted(url), shown);
        }
    }

    #[tokio::test]
    async fn bad_settings_are_refused_with_a_clear_error_and_no_secret() {
        let error = RedisStore::new("nonsense://:hunter2@x")
            .unwrap_err()
            .to_string();
        assert!(error.contains("invalid Redis URL"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        // Without TLS in the build, a TLS URL is refused rather than sent in the clear.
        let tls = RedisStore::new("rediss://:hunter2@h:1")
            .unwrap_err()
            .to_string();
        assert!(tls.contains("invalid Redis URL rediss://h:1"), "{tls}");
        let zero = RedisStore::builder("redis://127.0.0.1:1").timeout(Duration::ZERO);
        assert!(zero.start().is_err());
        let store = RedisStore::new("redis://:hunter2@127.0.0.1:1/0").unwrap();
        let printed = format!("{store:?} {:?}", RedisStore::builder("redis://:hunter2@h"));
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!store.is_connected());
        // Never loaded: it cannot tell what other instances revoked, so it fails closed, at once.
        let session = SessionRef::new("sid", "prof", SystemTime::now());
        let answer = store
            .is_revoked_now(&session)
            .expect("answered from the view");
        assert!(answer.unwrap_err().to_string().contains("not loaded yet"));
    }

    #[tokio::test]
    async fn a_login_state_ending_before_the_epoch_is_refused_not_taken() {
        // Nothing could be recorded for it, so it must not count as used for the first time.
        let store = RedisStore::new("redis://127.0.0.1:1/0").unwrap();
        let before = UNIX_EPOCH - Duration::from_secs(1);
        let answer = store.consume_login_state("flow", before).await;
        let error = answer.expect_err("fails closed").to_string();
        assert!(error.contains("before the epoch"), "{error}");
    }

    #[test]
    fn outside_a_runtime_the_store_says_so() {
        let error = RedisStore::new("redis://127.0.0.1:1").unwrap_err();
        assert!(error.to_string().contains("Tokio runtime"), "{error}");
    }
}
