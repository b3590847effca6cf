//! Clock helpers: the crate counts time in whole unix seconds, as JWT claims do.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time; tests replace it to move sessions through their lifetime.
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// `now` as unix seconds (0 before the epoch, which no real clock reads).
pub(crate) fn unix_seconds(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Unix seconds as a `SystemTime`.
pub(crate) fn from_unix_seconds(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_and_the_past_is_zero() {
        assert_eq!(
            unix_seconds(from_unix_seconds(1_800_000_000)),
            1_800_000_000
        );
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), 0);
    }
}
