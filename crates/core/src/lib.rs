//! The vocabulary every part of Parley shares and nothing of Parley's
//! own below it: media types, agents and the rules on them, time, file
//! watching, rate limits and privacy masking.
//!
//! - [`media`]: the media types of interactions and the channels that
//!   keep content for them.
//! - [`agents`]: accounts, roles, skills, capacity rules and presence.
//! - [`time`]: milliseconds since the epoch, as every record keeps time.
//! - [`watch`]: a file or directory watched for changes.
//! - [`quota`]: rate limits keyed by who asks, counted for the metrics.
//! - [`masking`]: privacy rules the channels apply to what customers write.

pub mod agents;
pub mod masking;
pub mod media;
pub mod quota;
pub mod time;
pub mod watch;

pub use media::{Channel, Media};
pub use time::now_ms;
