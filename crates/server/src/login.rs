//! What stands between a password guesser and the accounts: a rate per
//! client address, a backoff per account id after failures, a bounded
//! number of password hashes at once (each Argon2 verification takes
//! tens of milliseconds and about 19 MiB), and the same work for an
//! unknown account as for a known one, so answers tell neither which
//! accounts exist nor, by their timing, which ids are real.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

use parley_core::agents::password;
use parley_core::quota::{Limited, RateLimit};

use super::quotas::QuotaSettings;

/// Longest wait after repeated failures on one account id.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Most logins waiting for a hash slot; more are refused at once.
const MAX_WAITING: usize = 64;
/// Most account ids with failures remembered.
const MAX_REMEMBERED: usize = 100_000;

/// Verified against when the account does not exist, so that an unknown
/// id costs what a known one does.
static UNKNOWN_ACCOUNT_HASH: LazyLock<String> =
    LazyLock::new(|| password::hash("no account has this password"));

/// Failures since the last success, per account id.
struct Failures {
    count: u32,
    /// No attempt is verified before this.
    wait_until: Instant,
}

/// The login guard.
pub struct LoginGuard {
    per_address: RateLimit<IpAddr>,
    failures_before_backoff: u32,
    /// The wait after the first failure past the allowance.
    first_backoff: Duration,
    failures: Mutex<HashMap<String, Failures>>,
    hashing: Semaphore,
    waiting: AtomicUsize,
    /// Attempts refused by backoff or a full hash queue.
    refused: AtomicU64,
}

impl LoginGuard {
    pub fn new(settings: &QuotaSettings) -> LoginGuard {
        // Warm the unknown-account hash now, not on the first login.
        LazyLock::force(&UNKNOWN_ACCOUNT_HASH);
        LoginGuard {
            per_address: RateLimit::new("login", "login attempts", settings.login),
            failures_before_backoff: settings.login_failures.max(1),
            first_backoff: Duration::from_secs(settings.login_backoff_s.max(1)).min(MAX_BACKOFF),
            failures: Mutex::new(HashMap::new()),
            hashing: Semaphore::new(settings.concurrent_hashes.max(1)),
            waiting: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// The rate limits this guard keeps, for `/metrics`.
    pub fn limits(&self) -> [(&'static str, u64); 2] {
        [
            (self.per_address.name, self.per_address.refused()),
            ("login-backoff", self.refused.load(Ordering::Relaxed)),
        ]
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `from` may try `account` now.
    pub fn admit(&self, from: IpAddr, account: &str) -> Result<(), Limited> {
        self.per_address.check(&from)?;
        if let Some(failures) = self.failures().get(account) {
            let now = Instant::now();
            if failures.wait_until > now {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return Err(Limited {
                    what: "failed logins on this account",
                    retry_after: failures.wait_until - now,
                });
            }
        }
        Ok(())
    }

    /// Verifies `candidate` against `stored` (or, for an unknown account,
    /// against a hash nothing matches), off the async workers and with
    /// at most the configured number of hashes at once.
    pub async fn verify(&self, candidate: String, stored: Option<String>) -> Result<bool, Limited> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| UNKNOWN_ACCOUNT_HASH.clone());
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Limited {
                what: "logins at once",
                retry_after: Duration::from_secs(1),
            });
        }
        let permit = self.hashing.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let _permit = permit.expect("the hashing semaphore is never closed");
        let matches = tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
            .await
            .unwrap_or(false);
        Ok(known && matches)
    }

    /// Records the outcome of a verified attempt on `account`: a success
    /// clears its failures; each failure past the allowance doubles the
    /// wait before the next attempt is verified.
    pub fn record(&self, account: &str, succeeded: bool) {
        let mut failures = self.failures();
        if succeeded {
            failures.remove(account);
            return;
        }
        if failures.len() >= MAX_REMEMBERED {
            let now = Instant::now();
            failures.retain(|_, f| f.wait_until > now);
        }
        let entry = failures.entry(account.to_string()).or_insert(Failures {
            count: 0,
            wait_until: Instant::now(),
        });
        entry.count += 1;
        if let Some(over) = entry.count.checked_sub(self.failures_before_backoff) {
            let wait = (self.first_backoff * (1 << over.min(10))).min(MAX_BACKOFF);
            entry.wait_until = Instant::now() + wait;
        }
    }

    /// Forgets idle addresses.
    pub fn forget_idle(&self) {
        self.per_address.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_core::quota::Rate;

    fn guard(failures: u32) -> LoginGuard {
        LoginGuard::new(&QuotaSettings {
            login: Rate::new(0, 0),
            login_failures: failures,
            login_backoff_s: 100,
            ..QuotaSettings::default()
        })
    }

    #[test]
    fn failures_past_the_allowance_make_the_account_wait() {
        let guard = guard(2);
        let me: IpAddr = [127, 0, 0, 1].into();
        guard.record("ann", false);
        assert!(guard.admit(me, "ann").is_ok());
        guard.record("ann", false);
        let refused = guard.admit(me, "ann").unwrap_err();
        assert!(refused.retry_after <= Duration::from_secs(100));
        assert!(refused.retry_after > Duration::from_secs(90));
        // Each further failure doubles the wait.
        guard.record("ann", false);
        let refused = guard.admit(me, "ann").unwrap_err();
        assert!(refused.retry_after > Duration::from_secs(190));
        // Another account is not affected; a success clears the count.
        assert!(guard.admit(me, "bob").is_ok());
        guard.record("ann", true);
        assert!(guard.admit(me, "ann").is_ok());
    }

    #[tokio::test]
    async fn an_unknown_account_never_matches() {
        let guard = guard(5);
        assert_eq!(
            guard
                .verify("no account has this password".into(), None)
                .await,
            Ok(false)
        );
        let stored = password::hash("right password");
        assert_eq!(
            guard.verify("right password".into(), Some(stored)).await,
            Ok(true)
        );
    }
}
