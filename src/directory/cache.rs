//! The directory look-ups' cache (email domains, connection owners): bounded in size, each
//! answer expiring, and one look-up per key at a time (a burst of logins from one domain, or
//! of restarts for one connection, waits for the first one's answer).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::config::DomainCache as Bounds;
use crate::domains::DomainLookupError;
use crate::selector::Selector;

type Answer = Result<Option<Selector>, DomainLookupError>;

enum Entry {
    /// A look-up's answer, good until `until`.
    Ready {
        answer: Option<Selector>,
        until: Instant,
    },
    /// A look-up under way; whoever asks meanwhile waits for it. `waiters` counts the
    /// callers still waiting, so the last one to go away (a client that hung up) takes the
    /// entry with it.
    Pending {
        cell: Arc<OnceCell<Answer>>,
        waiters: usize,
    },
}

/// Answers by key (a domain, a connection id), at most `capacity` of them.
pub(super) struct LookupCache {
    entries: Mutex<HashMap<String, Entry>>,
    bounds: Bounds,
}

impl LookupCache {
    pub(super) fn new(bounds: Bounds) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            bounds,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // No code panics while holding it; the map stays consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer for `domain` (the key): remembered, awaited from a look-up under way, or fetched.
    /// Errors are shared with who waited, never remembered.
    pub(super) async fn get<F, Fut>(
        &self,
        domain: &str,
        now: impl Fn() -> Instant,
        fetch: F,
    ) -> Answer
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Answer>,
    {
        let cell = {
            let mut entries = self.lock();
            match entries.get_mut(domain) {
                Some(Entry::Ready { answer, until }) if now() < *until => {
                    return Ok(answer.clone());
                }
                Some(Entry::Pending { cell, waiters }) => {
                    *waiters += 1;
                    Some(cell.clone())
                }
                _ => {
                    entries.remove(domain);
                    self.make_room(&mut entries, now());
                    (entries.len() < self.bounds.capacity).then(|| {
                        let cell = Arc::new(OnceCell::new());
                        let entry = Entry::Pending {
                            cell: cell.clone(),
                            waiters: 1,
                        };
                        entries.insert(domain.to_owned(), entry);
                        cell
                    })
                }
            }
        };
        // Full of look-ups under way: answer this one uncached.
        let Some(cell) = cell else {
            return fetch().await;
        };
        let waiting = Waiting {
            cache: self,
            domain,
            cell: &cell,
        };
        let answer = cell.get_or_init(fetch).await.clone();
        drop(waiting);
        let mut entries = self.lock();
        if matches!(entries.get(domain), Some(Entry::Pending { cell: c, .. }) if Arc::ptr_eq(c, &cell))
        {
            match &answer {
                Ok(found) => {
                    let ttl = if found.is_some() {
                        self.bounds.ttl
                    } else {
                        self.bounds.negative_ttl
                    };
                    let entry = Entry::Ready {
                        answer: found.clone(),
                        until: expiry(now(), ttl),
                    };
                    entries.insert(domain.to_owned(), entry);
                }
                Err(_) => {
                    entries.remove(domain);
                }
            }
        }
        answer
    }

    /// At capacity, drops the expired answers, then the one expiring first. Look-ups under way
    /// stay. Bounded: one pass over at most `capacity` entries, only when full.
    fn make_room(&self, entries: &mut HashMap<String, Entry>, now: Instant) {
        if entries.len() < self.bounds.capacity {
            return;
        }
        entries.retain(|_, entry| !matches!(entry, Entry::Ready { until, .. } if *until <= now));
        if entries.len() < self.bounds.capacity {
            return;
        }
        let oldest = entries
            .iter()
            .filter_map(|(domain, entry)| match entry {
                Entry::Ready { until, .. } => Some((*until, domain)),
                Entry::Pending { .. } => None,
            })
            .min()
            .map(|(_, domain)| domain.clone());
        if let Some(domain) = oldest {
            entries.remove(&domain);
        }
    }

    /// One caller fewer waits on the look-up in `cell`; with none left and no answer yet (every
    /// caller hung up mid-look-up), the entry goes, or the map would fill with look-ups nobody
    /// finishes, which `make_room` must keep.
    fn leave(&self, domain: &str, cell: &Arc<OnceCell<Answer>>) {
        let mut entries = self.lock();
        let Some(Entry::Pending { cell: c, waiters }) = entries.get_mut(domain) else {
            return;
        };
        if !Arc::ptr_eq(c, cell) {
            return;
        }
        *waiters -= 1;
        if *waiters == 0 && !cell.initialized() {
            entries.remove(domain);
        }
    }

    /// How many domains it holds (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The longest an answer is remembered: a longer lifetime (`Duration::MAX` for "for ever"
/// passes the configuration's checks) is this one, since an `Instant` cannot hold it.
const LONGEST: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// When an answer given `now` expires; never a panic, whatever `ttl`.
fn expiry(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl.min(LONGEST)).unwrap_or(now)
}

/// A caller waiting on a look-up: leaves it when done, or when its future is dropped.
struct Waiting<'a> {
    cache: &'a LookupCache,
    domain: &'a str,
    cell: &'a Arc<OnceCell<Answer>>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.cache.leave(self.domain, self.cell);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn cache(capacity: usize) -> LookupCache {
        LookupCache::new(Bounds {
            capacity,
            ttl: Duration::from_secs(60),
            negative_ttl: Duration::from_secs(5),
            ..Bounds::default()
        })
    }

    fn acme() -> Option<Selector> {
        Some(Selector::organization("org_01ACME").unwrap())
    }

    #[tokio::test]
    async fn answers_are_remembered_until_they_expire_and_errors_never() {
        let cache = cache(8);
        let calls = AtomicUsize::new(0);
        let t0 = Instant::now();
        let fetch = |answer: Answer| {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::ready(answer)
        };
        let at = |secs| move || t0 + Duration::from_secs(secs);
        assert_eq!(
            cache.get("acme.test", at(0), || fetch(Ok(acme()))).await,
            Ok(acme())
        );
        assert_eq!(
            cache.get("acme.test", at(59), || fetch(Ok(None))).await,
            Ok(acme())
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            cache.get("acme.test", at(61), || fetch(Ok(None))).await,
            Ok(None)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // The negative answer lasts `negative_ttl`.
        assert_eq!(
            cache.get("acme.test", at(65), || fetch(Ok(acme()))).await,
            Ok(None)
        );
        assert_eq!(
            cache.get("acme.test", at(67), || fetch(Ok(acme()))).await,
            Ok(acme())
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let down = || Err(DomainLookupError::Unavailable);
        assert_eq!(
            cache.get("down.test", at(0), || fetch(down())).await,
            down()
        );
        assert_eq!(
            cache.get("down.test", at(0), || fetch(Ok(None))).await,
            Ok(None)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn the_cache_never_holds_more_than_its_capacity() {
        let cache = cache(3);
        let t0 = Instant::now();
        for i in 0..50u64 {
            let domain = format!("d{i}.test");
            let at = move || t0 + Duration::from_secs(i);
            cache
                .get(&domain, at, || std::future::ready(Ok(None)))
                .await
                .unwrap();
            assert!(cache.len() <= 3);
        }
    }

    #[tokio::test]
    async fn concurrent_look_ups_of_one_domain_make_one_fetch() {
        let cache = cache(8);
        let calls = AtomicUsize::new(0);
        let gate = tokio::sync::Notify::new();
        let lookups = (0..20).map(|_| {
            cache.get("acme.test", Instant::now, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                gate.notified().await;
                Ok(acme())
            })
        });
        let all = futures_join(lookups.collect(), &gate);
        for answer in all.await {
            assert_eq!(answer, Ok(acme()));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn look_ups_dropped_midway_leave_nothing_behind_and_the_cache_still_caches() {
        let cache = cache(3);
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        // Clients that hang up during the look-up, alone or two for one domain.
        for i in 0..10 {
            let domain = format!("gone{i}.test");
            let never = || std::future::pending::<Answer>();
            let mut first = Box::pin(cache.get(&domain, Instant::now, never));
            let mut second = Box::pin(cache.get(&domain, Instant::now, never));
            assert!(first.as_mut().poll(&mut cx).is_pending());
            assert!(second.as_mut().poll(&mut cx).is_pending());
            drop(first);
            assert!(second.as_mut().poll(&mut cx).is_pending(), "it takes over");
            drop(second);
        }
        assert_eq!(cache.len(), 0, "no look-up under way is left behind");
        let calls = AtomicUsize::new(0);
        for _ in 0..3 {
            let answer = cache
                .get("kept.test", Instant::now, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    std::future::ready(Ok(acme()))
                })
                .await;
            assert_eq!(answer, Ok(acme()));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "remembered");
        // A waiter whose first asker hung up still gets the answer, and it is remembered.
        let mut gone = Box::pin(cache.get("late.test", Instant::now, || {
            std::future::pending::<Answer>()
        }));
        assert!(gone.as_mut().poll(&mut cx).is_pending());
        let waiter = cache.get("late.test", Instant::now, || std::future::ready(Ok(None)));
        drop(gone);
        assert_eq!(waiter.await, Ok(None));
        let again = cache.get("late.test", Instant::now, || std::future::ready(Ok(acme())));
        assert_eq!(again.await, Ok(None));
    }

    #[tokio::test]
    async fn a_lifetime_no_instant_can_hold_means_a_long_one_not_a_panic() {
        let cache = LookupCache::new(Bounds {
            capacity: 2,
            ttl: Duration::MAX,
            negative_ttl: Duration::MAX,
            ..Bounds::default()
        });
        let calls = AtomicUsize::new(0);
        for domain in ["acme.test", "acme.test", "none.test", "none.test"] {
            let answer = cache
                .get(domain, Instant::now, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    std::future::ready(Ok(if domain == "acme.test" { acme() } else { None }))
                })
                .await;
            assert!(answer.is_ok());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "both remembered");
        // Full, a third domain still pushes one out.
        cache
            .get("third.test", Instant::now, || std::future::ready(Ok(None)))
            .await
            .unwrap();
        assert_eq!(cache.len(), 2);
    }

    /// Polls every look-up until all wait, then lets the one fetch finish.
    async fn futures_join<F: Future<Output = Answer>>(
        futures: Vec<F>,
        gate: &tokio::sync::Notify,
    ) -> Vec<Answer> {
        let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
        let mut done: Vec<Option<Answer>> = vec![None; futures.len()];
        let mut opened = false;
        std::future::poll_fn(|cx| {
            for (future, slot) in futures.iter_mut().zip(done.iter_mut()) {
                if slot.is_some() {
                    continue;
                }
                if let std::task::Poll::Ready(answer) = future.as_mut().poll(cx) {
                    *slot = Some(answer);
                }
            }
            if done.iter().all(Option::is_some) {
                return std::task::Poll::Ready(());
            }
            if !opened {
                opened = true;
                gate.notify_waiters();
                cx.waker().wake_by_ref();
            }
            std::task::Poll::Pending
        })
        .await;
        done.into_iter().map(Option::unwrap).collect()
    }
}
