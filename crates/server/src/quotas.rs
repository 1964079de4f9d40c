//! Rate limits on what anyone may do without an account, by client
//! address (`[quotas]` in the settings): logging in, starting chats,
//! posting web forms. A chat's own messages and files are limited per
//! session by the chat channel. Refusals answer `429` with `Retry-After`
//! and are counted in `/metrics` as `parley_rate_limited_total`.

use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;

use parley_core::quota::{Rate, RateLimit};

use super::login::LoginGuard;

/// `[quotas]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct QuotaSettings {
    /// Login attempts per client address.
    #[serde(default = "default_login")]
    pub login: Rate,
    /// Failed logins on one account id before each further attempt waits
    /// (`login-backoff-s`, doubling up to 15 min).
    #[serde(default = "default_login_failures")]
    pub login_failures: u32,
    /// The first wait, in seconds, once an account id is past its
    /// allowance of failures.
    #[serde(default = "default_login_backoff_s")]
    pub login_backoff_s: u64,
    /// Password hashes computed at once; further logins wait their turn.
    #[serde(default = "default_concurrent_hashes")]
    pub concurrent_hashes: usize,
    /// Chats started per client address.
    #[serde(default = "default_chat_start")]
    pub chat_start: Rate,
    /// Web-form posts per client address.
    #[serde(default = "default_form_post")]
    pub form_post: Rate,
}

fn default_login() -> Rate {
    // An office of agents behind one address logs in at the shift's start.
    Rate::new(120, 60)
}

fn default_login_failures() -> u32 {
    5
}

fn default_login_backoff_s() -> u64 {
    1
}

fn default_concurrent_hashes() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn default_chat_start() -> Rate {
    // Mobile carriers put many customers behind one address.
    Rate::new(60, 30)
}

fn default_form_post() -> Rate {
    Rate::new(20, 10)
}

impl Default for QuotaSettings {
    fn default() -> Self {
        QuotaSettings {
            login: default_login(),
            login_failures: default_login_failures(),
            login_backoff_s: default_login_backoff_s(),
            concurrent_hashes: default_concurrent_hashes(),
            chat_start: default_chat_start(),
            form_post: default_form_post(),
        }
    }
}

/// The limits by client address.
pub struct Quotas {
    /// Logins.
    pub login: LoginGuard,
    /// Chat starts.
    pub chat_start: RateLimit<IpAddr>,
    /// Web-form posts.
    pub form_post: RateLimit<IpAddr>,
}

impl Quotas {
    pub fn new(settings: &QuotaSettings) -> Quotas {
        Quotas {
            login: LoginGuard::new(settings),
            chat_start: RateLimit::new("chat-start", "chats started", settings.chat_start),
            form_post: RateLimit::new("form-post", "form posts", settings.form_post),
        }
    }

    /// Refusals so far, by limit name.
    pub fn refusals(&self) -> Vec<(&'static str, u64)> {
        let mut all = self.login.limits().to_vec();
        for limit in [&self.chat_start, &self.form_post] {
            all.push((limit.name, limit.refused()));
        }
        all
    }

    /// Forgets addresses idle long enough to have their whole allowance
    /// back, every minute, for as long as the returned task runs.
    pub fn spawn_sweep(self: &std::sync::Arc<Self>) -> tokio::task::JoinHandle<()> {
        let quotas = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(quotas) = quotas.upgrade() else {
                    return;
                };
                quotas.login.forget_idle();
                quotas.chat_start.forget_idle();
                quotas.form_post.forget_idle();
            }
        })
    }
}
