//! How a revocation is written in Redis and on the pub/sub channel: one text format for the
//! sorted set's members and the messages, parsed back without trusting it.
//!
//! A member is `<kind>:<at>:<id>` (kind `s`, `u`, `o` or `c`; `at` in unix seconds), its score
//! the record's `until` in unix seconds. A message is `<until>:<member>`. The id comes last, so
//! it may hold any character.

use std::time::{Duration, SystemTime};

use crate::store::Revocation;
use crate::time::unix_seconds;

/// One revocation as the store shares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Record {
    pub(super) what: Revocation,
    pub(super) at: SystemTime,
    pub(super) until: SystemTime,
}

/// The longest member or message accepted: ids are short, so anything longer is not ours.
const MAX_LEN: usize = 1024;

impl Record {
    /// The sorted set's member (without `until`, which is its score).
    pub(super) fn member(&self) -> String {
        let kind = match &self.what {
            Revocation::Session(_) => 's',
            Revocation::User(_) => 'u',
            Revocation::Organization(_) => 'o',
            Revocation::Connection(_) => 'c',
        };
        format!("{kind}:{}:{}", unix_seconds(self.at), self.what.id())
    }

    /// The pub/sub message: `until`, then the member.
    pub(super) fn message(&self) -> String {
        format!("{}:{}", unix_seconds(self.until), self.member())
    }

    /// The `until` as the sorted set's score.
    pub(super) fn score(&self) -> u64 {
        unix_seconds(self.until)
    }

    /// A member read back with its score; `None` if it is not one of ours.
    pub(super) fn from_member(member: &str, until: u64) -> Option<Self> {
        if member.len() > MAX_LEN {
            return None;
        }
        let (kind, rest) = member.split_once(':')?;
        let (at, id) = rest.split_once(':')?;
        let at: u64 = at.parse().ok()?;
        if id.is_empty() {
            return None;
        }
        let what = match kind {
            "s" => Revocation::Session(id.to_owned()),
            "u" => Revocation::User(id.to_owned()),
            "o" => Revocation::Organization(id.to_owned()),
            "c" => Revocation::Connection(id.to_owned()),
            _ => return None,
        };
        Some(Self {
            what,
            at: seconds(at)?,
            until: seconds(until)?,
        })
    }

    /// A pub/sub message read back; `None` if it is not one of ours.
    pub(super) fn from_message(message: &str) -> Option<Self> {
        let (until, member) = message.split_once(':')?;
        Self::from_member(member, until.parse().ok()?)
    }
}

/// Unix seconds as a moment, refusing what the clock cannot hold.
fn seconds(unix: u64) -> Option<SystemTime> {
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(unix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
    }

    #[test]
    fn records_round_trip_through_members_and_messages() {
        for what in [
            Revocation::Session("sid:with:colons".into()),
            Revocation::User("prof_01".into()),
            Revocation::Organization("org_01".into()),
            Revocation::Connection("conn_01".into()),
        ] {
            let record = Record {
                what,
                at: at(1_800_000_000),
                until: at(1_800_030_000),
            };
            let back = Record::from_member(&record.member(), record.score()).unwrap();
            assert_eq!(back, record);
            assert_eq!(Record::from_message(&record.message()).unwrap(), record);
        }
    }

    #[test]
    fn what_is_not_ours_is_ignored() {
        for bad in [
            "",
            "x:1:id",
            "s:1:",
            "s:notanumber:id",
            "s:1",
            "s",
            &format!("s:1:{}", "a".repeat(2000)),
            "s:99999999999999999999:id",
        ] {
            assert_eq!(Record::from_member(bad, 10), None, "{bad}");
        }
        for bad in ["", "notanumber:s:1:id", "10", "10:x:1:id"] {
            assert_eq!(Record::from_message(bad), None, "{bad}");
        }
        assert_eq!(Record::from_member("s:1:id", u64::MAX), None);
    }
}
