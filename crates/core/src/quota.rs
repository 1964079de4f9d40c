//! Rate limits on what anyone may do, keyed by who asks (a client
//! address, an account, a chat session): a burst, then so many a minute
//! (the GCRA of the `governor` crate). A refusal says how long to wait,
//! which the API answers as `429` with `Retry-After`, and is counted for
//! `/metrics`.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::Deserialize;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A rate as the settings write it: `per-minute` after a `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Rate {
    /// How many a minute, once the burst is spent (0: no limit).
    pub per_minute: u32,
    /// How many at once (at least 1).
    pub burst: u32,
}

impl Rate {
    pub const fn new(per_minute: u32, burst: u32) -> Rate {
        Rate { per_minute, burst }
    }
}

/// Refused by a rate limit or quota.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("too many {what}; try again in {} s", retry_after.as_secs().max(1))]
pub struct Limited {
    /// What was refused, for people (`chat starts`, `login attempts`).
    pub what: &'static str,
    /// How long to wait before trying again.
    pub retry_after: Duration,
}

/// A rate limit keyed by `K`: each key gets its own allowance.
pub struct RateLimit<K: Hash + Eq + Clone> {
    /// The name in `/metrics`, e.g. `chat-start`.
    pub name: &'static str,
    what: &'static str,
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    refused: AtomicU64,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for RateLimit<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("name", &self.name)
            .field("refused", &self.refused())
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    /// A limit named `name` (for `/metrics`) on `what` (for messages).
    pub fn new(name: &'static str, what: &'static str, rate: Rate) -> RateLimit<K> {
        let limiter = NonZeroU32::new(rate.per_minute).map(|per_minute| {
            let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
            DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
        });
        RateLimit {
            name,
            what,
            limiter,
            refused: AtomicU64::new(0),
        }
    }

    /// A limit of `per_day` for each key (0: no limit), all of it at once.
    pub fn per_day(name: &'static str, what: &'static str, per_day: u32) -> RateLimit<K> {
        let limiter = NonZeroU32::new(per_day).map(|n| {
            let period = Duration::from_secs(86_400) / n.get();
            let quota = Quota::with_period(period)
                .expect("a day over a positive count is a positive period")
                .allow_burst(n);
            DefaultKeyedRateLimiter::keyed(quota)
        });
        RateLimit {
            name,
            what,
            limiter,
            refused: AtomicU64::new(0),
        }
    }

    /// Takes one from `key`'s allowance, or says how long to wait.
    pub fn check(&self, key: &K) -> Result<(), Limited> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            self.refused.fetch_add(1, Ordering::Relaxed);
            Limited {
                what: self.what,
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            }
        })
    }

    /// How many were refused since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Forgets keys whose allowance is whole again, so that memory follows
    /// the recent askers, not every asker ever.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many keys are remembered.
    pub fn keys(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_a_refusal_with_a_wait_per_key() {
        let limit = RateLimit::new("test", "tries", Rate::new(1, 2));
        assert!(limit.check(&"a").is_ok());
        assert!(limit.check(&"a").is_ok());
        let refused = limit.check(&"a").unwrap_err();
        assert!(refused.retry_after > Duration::from_secs(50), "{refused:?}");
        assert!(
            refused.retry_after <= Duration::from_secs(60),
            "{refused:?}"
        );
        assert_eq!(limit.refused(), 1);
        // Another key has its own allowance.
        assert!(limit.check(&"b").is_ok());
        assert_eq!(limit.keys(), 2);
    }

    #[test]
    fn a_daily_allowance_is_spent_at_once_then_waits_hours() {
        let limit = RateLimit::per_day("test", "tries", 3);
        for _ in 0..3 {
            assert!(limit.check(&"a").is_ok());
        }
        let refused = limit.check(&"a").unwrap_err();
        assert!(
            refused.retry_after > Duration::from_secs(7 * 3600),
            "{refused:?}"
        );
    }

    #[test]
    fn zero_per_minute_is_no_limit() {
        let limit = RateLimit::new("test", "tries", Rate::new(0, 0));
        for _ in 0..1000 {
            assert!(limit.check(&1).is_ok());
        }
        assert_eq!(limit.refused(), 0);
    }
}
