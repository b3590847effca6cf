//! The task that keeps a Redis store's local view current: connect, subscribe, write the view
//! back, reload, then apply what is published; on any failure, start over with a backoff
//! capped at one second. It holds the store weakly and ends soon after the store is dropped.

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

/// The longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// How many records one pipeline writes back.
const CHUNK: usize = 500;

pub(super) async fn run(store: Weak<Shared>) {
    let mut backoff = Duration::from_millis(25);
    loop {
        let Some(shared) = store.upgrade() else {
            return;
        };
        match connect(&shared).await {
            Ok((sink, stream)) => {
                backoff = Duration::from_millis(25);
                shared.health.send_replace(Health::Up);
                crate::telemetry::store_connected(true);
                tracing::info!(redis = %shared.shown, "redis store connected, view loaded");
                drop(shared);
                listen(&store, sink, stream).await;
            }
            Err(error) => {
                crate::telemetry::store_error("connect");
                tracing::warn!(%error, "redis store cannot connect; serving from the local view");
            }
        }
        let Some(shared) = store.upgrade() else {
            return;
        };
        shared.connection.lock().map(|mut held| held.take()).ok();
        shared.health.send_replace(Health::Down);
        crate::telemetry::store_connected(false);
        drop(shared);
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
async fn reload(shared: &Shared, connection: &mut MultiplexedConnection) -> Result<(), StoreError> {
    let limit = shared.options.max_revocations + 1;
    let mut command = redis::cmd("ZRANGEBYSCORE");
    command
        .arg(&shared.revocations_key)
        .arg(format!("({}", unix_now()))
        .arg("+inf")
        .arg("WITHSCORES")
        .arg("LIMIT")
        .arg(0)
        .arg(limit);
    let records: Vec<(String, u64)> =
        timed(shared, "reload", command.query_async(connection)).await?;
    let mut fits = records.len() < limit;
    for (member, until) in &records {
        if let Some(record) = Record::from_member(member, *until) {
            fits &= apply(shared, record);
        }
    }
    let was = shared.overflow.swap(!fits, Ordering::SeqCst);
    if !fits && !was {
        tracing::error!(
            max = shared.options.max_revocations,
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

/// Applies what is published until the connection fails; checks it on every tick and wake.
async fn listen(store: &Weak<Shared>, mut sink: PubSubSink, mut stream: PubSubStream) {
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
        let healthy = match event {
            Ok(Event::Message(None)) => false,
            Ok(Event::Message(Some(message))) => {
                on_message(&shared, &message).await;
                true
            }
            Ok(Event::Wake) | Err(_) => check(&shared, &mut sink).await,
        };
        if !healthy {
            tracing::warn!(redis = %shared.shown, "redis store disconnected; serving from the local view");
            return;
        }
    }
}

/// One published message: a record to apply, or a reload.
async fn on_message(shared: &Arc<Shared>, message: &redis::Msg) {
    let Ok(text) = std::str::from_utf8(message.get_payload_bytes()) else {
        return;
    };
    if text == RELOAD {
        if let Ok(mut connection) = shared.connection()
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

/// Pings both connections, and writes the view back if a write failed; `false` if Redis does
/// not answer.
async fn check(shared: &Shared, sink: &mut PubSubSink) -> bool {
    if timed(shared, "ping", sink.ping::<String>()).await.is_err() {
        return false;
    }
    let Ok(mut connection) = shared.connection() else {
        return false;
    };
    if timed(
        shared,
        "ping",
        redis::cmd("PING").query_async::<String>(&mut connection),
    )
    .await
    .is_err()
    {
        return false;
    }
    if shared.dirty.load(Ordering::SeqCst) {
        if write_back(shared, &mut connection).await.is_err() {
            shared.dirty.store(true, Ordering::SeqCst);
            return false;
        }
        // A full view that now fits again clears the overflow here too.
        return reload(shared, &mut connection).await.is_ok();
    }
    if shared.overflow.load(Ordering::SeqCst) {
        // Records expire: the view may fit again.
        return reload(shared, &mut connection).await.is_ok();
    }
    true
}
