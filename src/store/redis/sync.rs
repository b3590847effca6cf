//! The task that keeps a Redis store's local view current: connect, subscribe, write the view
//! back, reload, then apply what is published; when the connection fails, or stays silent
//! through several health checks, start over with a backoff capped at one second. It holds the
//! store weakly and ends soon after the store is dropped.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::Duration;

use futures_core::Stream;
use redis::AsyncConnectionConfig;
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};

use super::record::Record;
use super::{Health, Shared, unix_now};
use crate::store::StoreError;

/// The message that asks every instance to reload the whole set.
const RELOAD: &str = "*";

/// How long the task waits between health checks when nothing happens.
const TICK: Duration = Duration::from_secs(1);

/// The wait before reconnecting after a connection is lost, doubled after each failed attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(25);

/// The longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// How many health checks in a row may miss their deadline before the connection is dropped:
/// one missed check on a loaded machine is not a dead Redis, and reconnecting every instance
/// at once for it would fail the callbacks meanwhile. A connection that fails is dropped at once.
const MAX_MISSES: u32 = 3;

/// How many records one pipeline writes back.
const CHUNK: usize = 500;

/// How many members one reload command reads at most.
const PAGE: usize = 10_000;

pub(super) async fn run(store: Weak<Shared>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let Some(shared) = store.upgrade() else {
            return;
        };
        shared.health.send_replace(Health::Connecting);
        match connect(&shared).await {
            Ok((sink, stream)) => {
                backoff = FIRST_BACKOFF;
                shared.health.send_replace(Health::Up);
                crate::telemetry::store_connected(true);
                tracing::info!(redis = %shared.shown, "redis store connected, view loaded");
                drop(shared);
                listen(&store, sink, stream).await;
                let Some(shared) = store.upgrade() else {
                    return;
                };
                // Reconnecting: queries wait for it rather than fail (set before the
                // connection goes, so no query finds neither).
                shared.health.send_replace(Health::Connecting);
                shared.connection.lock().map(|mut held| held.take()).ok();
                crate::telemetry::store_connected(false);
            }
            Err(error) => {
                shared.health.send_replace(Health::Down);
                crate::telemetry::store_connected(false);
                crate::telemetry::store_error("connect");
                tracing::warn!(%error, "redis store cannot connect; serving from the local view");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Within the deadline, or a store error naming `what`.
async fn timed<T>(
    shared: &Shared,
    what: &str,
    future: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(shared.options.timeout, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(StoreError::new(format!(
            "redis {what} failed ({:?})",
            error.kind()
        ))),
        Err(_) => Err(StoreError::new(format!("redis {what} timed out"))),
    }
}

/// Connects, subscribes, writes the view back, reloads, and installs the command connection.
async fn connect(shared: &Shared) -> Result<(PubSubSink, PubSubStream), StoreError> {
    let deadline = Some(shared.options.timeout);
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(deadline)
        .set_response_timeout(deadline);
    let client = &shared.client;
    let mut connection = timed(
        shared,
        "connect",
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await?;
    let info: String = timed(
        shared,
        "connect",
        redis::cmd("INFO")
            .arg("server")
            .query_async(&mut connection),
    )
    .await?;
    supported(&info)?;
    let mut pubsub = timed(shared, "connect", client.get_async_pubsub()).await?;
    // Subscribed before reloading, so nothing published in between is missed.
    timed(
        shared,
        "subscribe",
        pubsub.subscribe(&shared.revocations_key),
    )
    .await?;
    write_back(shared, &mut connection).await?;
    reload(shared, &mut connection).await?;
    shared.loaded.store(true, Ordering::SeqCst);
    if let Ok(mut held) = shared.connection.lock() {
        *held = Some(connection);
    }
    Ok(pubsub.split())
}

/// The oldest Redis the store works with: its writes use `EXPIREAT … NX` and `GT` (7.0).
const OLDEST: (u32, u32) = (7, 0);

/// Whether the server that answered `INFO server` with `info` is one the store works with:
/// an older one would refuse every write, so it is refused here, with its version. A server
/// that names no version (a compatible one) is given the benefit of the doubt.
fn supported(info: &str) -> Result<(), StoreError> {
    let Some(version) = info
        .lines()
        .find_map(|line| line.strip_prefix("redis_version:"))
    else {
        return Ok(());
    };
    let mut parts = version.trim().split('.').map(str::parse::<u32>);
    let (Some(Ok(major)), Some(Ok(minor))) = (parts.next(), parts.next()) else {
        return Ok(());
    };
    if (major, minor) >= OLDEST {
        return Ok(());
    }
    Err(StoreError::new(format!(
        "Redis {major}.{minor} is too old: the store needs Redis 7.0 or later (EXPIREAT NX/GT)"
    )))
}

/// Writes every live record of the view to Redis (an outage's revocations, or what a Redis
/// restarted empty lost) and, if that added anything, asks every instance to reload.
async fn write_back(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
) -> Result<(), StoreError> {
    shared.dirty.store(false, Ordering::SeqCst);
    let live = shared.local.live_revocations();
    let key = &shared.revocations_key;
    let mut added = 0;
    for chunk in live.chunks(CHUNK) {
        let mut pipe = redis::pipe();
        for (what, at, until) in chunk {
            let record = Record {
                what: what.clone(),
                at: *at,
                until: *until,
            };
            pipe.cmd("ZADD")
                .arg(key)
                .arg("GT")
                .arg("CH")
                .arg(record.score())
                .arg(record.member());
        }
        let changed: Vec<u64> = timed(shared, "write back", pipe.query_async(connection)).await?;
        added += changed.iter().sum::<u64>();
    }
    if added > 0 {
        let latest = live.iter().map(|(_, _, until)| *until).max();
        if let Some(latest) = latest.map(crate::time::unix_seconds) {
            let mut pipe = redis::pipe();
            pipe.cmd("EXPIREAT").arg(key).arg(latest).arg("NX").ignore();
            pipe.cmd("EXPIREAT").arg(key).arg(latest).arg("GT").ignore();
            pipe.cmd("PUBLISH").arg(key).arg(RELOAD).ignore();
            timed(shared, "write back", pipe.query_async::<()>(connection)).await?;
        }
        tracing::info!(added, "redis store wrote revocations back");
    }
    Ok(())
}

/// Loads every live record into the view; marks the view overflowing if they do not fit.
///
/// A key revoked again at another moment is another member of the set, so the set may hold
/// more members than keys: what must fit is the keys. Members are read in pages ordered by
/// `until`, each starting at the last page's `until` (an offset would skip members when
/// expired ones are dropped meanwhile), until the set ends or there are more keys than fit.
async fn reload(shared: &Shared, connection: &mut MultiplexedConnection) -> Result<(), StoreError> {
    let max = shared.options.max_revocations;
    let page = max.saturating_add(1).min(PAGE);
    let mut keys = HashSet::new();
    let mut fits = true;
    // The next page: members scored from `from` on, past the first `skip` of them.
    let (mut from, mut skip) = (format!("({}", unix_now()), 0);
    loop {
        let mut command = redis::cmd("ZRANGEBYSCORE");
        command
            .arg(&shared.revocations_key)
            .arg(&from)
            .arg("+inf")
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(skip)
            .arg(page);
        let records: Vec<(String, u64)> =
            timed(shared, "reload", command.query_async(connection)).await?;
        for (member, until) in &records {
            if let Some(record) = Record::from_member(member, *until) {
                keys.insert(record.what.clone());
                fits &= apply(shared, record);
            }
        }
        fits &= keys.len() <= max;
        let Some(&(_, last)) = records.last() else {
            break;
        };
        if records.len() < page || !fits {
            break;
        }
        let same = records
            .iter()
            .rev()
            .take_while(|(_, until)| *until == last)
            .count();
        if from == last.to_string() {
            skip += same;
        } else {
            (from, skip) = (last.to_string(), same);
        }
    }
    let was = shared.overflow.swap(!fits, Ordering::SeqCst);
    if !fits && !was {
        tracing::error!(
            max,
            "redis holds more live revocations than the local view may: refusing sessions"
        );
    }
    Ok(())
}

/// Puts `record` in the view; `false` if the view is full.
fn apply(shared: &Shared, record: Record) -> bool {
    shared
        .local
        .revoke_now(record.what, record.at, record.until)
        .is_ok()
}

/// What woke the listening task.
enum Event {
    Message(Option<redis::Msg>),
    Wake,
}

/// Applies what is published until the connection fails, or misses [`MAX_MISSES`] health
/// checks in a row; checks it on every tick and wake.
async fn listen(store: &Weak<Shared>, mut sink: PubSubSink, mut stream: PubSubStream) {
    let mut misses = 0;
    loop {
        let Some(shared) = store.upgrade() else {
            return;
        };
        let event = {
            let woken = shared.wake.notified();
            let mut woken = std::pin::pin!(woken);
            let next = std::future::poll_fn(|cx| {
                if woken.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Wake);
                }
                Pin::new(&mut stream).poll_next(cx).map(Event::Message)
            });
            tokio::time::timeout(TICK, next).await
        };
        let checked = match event {
            Ok(Event::Message(None)) => Checked::Failed,
            Ok(Event::Message(Some(message))) => {
                on_message(&shared, &message).await;
                continue;
            }
            Ok(Event::Wake) | Err(_) => check(&shared, &mut sink).await,
        };
        match checked {
            Checked::Healthy => misses = 0,
            Checked::Late => {
                misses += 1;
                tracing::debug!(misses, "redis missed a health check's deadline");
                if misses >= MAX_MISSES {
                    tracing::warn!(redis = %shared.shown, misses, "redis store silent; reconnecting");
                    return;
                }
            }
            Checked::Failed => {
                tracing::warn!(redis = %shared.shown, "redis store disconnected; serving from the local view");
                return;
            }
        }
    }
}

/// One published message: a record to apply, or a reload.
async fn on_message(shared: &Arc<Shared>, message: &redis::Msg) {
    let Ok(text) = std::str::from_utf8(message.get_payload_bytes()) else {
        return;
    };
    if text == RELOAD {
        if let Some(mut connection) = shared.held()
            && let Err(error) = reload(shared, &mut connection).await
        {
            shared.failed(&error);
        }
        return;
    }
    if let Some(record) = Record::from_message(text)
        && !apply(shared, record)
    {
        shared.overflow.store(true, Ordering::SeqCst);
    }
}

/// What a health check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Checked {
    Healthy,
    /// No answer within the deadline: slow, or silent.
    Late,
    /// The connection failed.
    Failed,
}

/// Pings both connections, and writes the view back if a write failed.
async fn check(shared: &Shared, sink: &mut PubSubSink) -> Checked {
    let pubsub = ping(shared, sink.ping::<String>()).await;
    if pubsub != Checked::Healthy {
        return pubsub;
    }
    let Some(mut connection) = shared.held() else {
        return Checked::Failed;
    };
    let command = ping(
        shared,
        redis::cmd("PING").query_async::<String>(&mut connection),
    )
    .await;
    if command != Checked::Healthy {
        return command;
    }
    // Redis answers: what fails below is retried on the next check, and counts as a miss.
    if shared.dirty.load(Ordering::SeqCst) {
        if write_back(shared, &mut connection).await.is_err() {
            shared.dirty.store(true, Ordering::SeqCst);
            return Checked::Late;
        }
        // A full view that now fits again clears the overflow here too.
        return reloaded(reload(shared, &mut connection).await);
    }
    if shared.overflow.load(Ordering::SeqCst) {
        // Records expire: the view may fit again.
        return reloaded(reload(shared, &mut connection).await);
    }
    Checked::Healthy
}

/// One ping within the deadline.
async fn ping(shared: &Shared, ping: impl Future<Output = redis::RedisResult<String>>) -> Checked {
    match tokio::time::timeout(shared.options.timeout, ping).await {
        Ok(Ok(_)) => Checked::Healthy,
        Ok(Err(error)) if error.is_timeout() => Checked::Late,
        Ok(Err(_)) => Checked::Failed,
        Err(_) => Checked::Late,
    }
}

fn reloaded(result: Result<(), StoreError>) -> Checked {
    if result.is_ok() {
        Checked::Healthy
    } else {
        Checked::Late
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_older_than_7_is_refused_with_its_version() {
        let info = |version: &str| {
            format!("# Server\r\nredis_version:{version}\r\nredis_mode:standalone\r\n")
        };
        for fine in ["7.0.0", "7.0.15", "7.2.4", "8.0.2", "10.1"] {
            assert!(supported(&info(fine)).is_ok(), "{fine}");
        }
        for old in ["6.2.14", "5.0.7", "6.0"] {
            let error = supported(&info(old)).unwrap_err().to_string();
            assert!(
                error.contains("too old") && error.contains("7.0 or later"),
                "{error}"
            );
            assert!(error.contains(&old[..3]), "{error}");
        }
        // A server that does not say, or says something else: not refused here.
        for unknown in [
            "",
            "# Server\r\nvalkey_version:8.0.1\r\n",
            "redis_version:x.y",
        ] {
            assert!(supported(unknown).is_ok(), "{unknown}");
        }
    }
}
