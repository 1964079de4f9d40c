//! Retention: finished interactions (completed or stopped) are archived
//! after a number of days and deleted after another, by a sweep that runs
//! in the background and on demand (`POST /v1/retention/run`).
//!
//! Archiving appends each interaction with all its content (the
//! interaction, its events, and every row of its channel's content tables,
//! binary columns in base64) as one JSON line to a file in the archive
//! directory, flushed and synced to disk before the store notes them as
//! archived; when archiving is on, only archived interactions are deleted.
//! A crash between the sync and the note archives those interactions
//! again at the next sweep, in its own file: an archive may hold an
//! interaction twice, never miss one. Deleting removes the interaction
//! with its events, search documents and content, in batches, each batch
//! atomically. Contacts stay.
//!
//! ```toml
//! [retention]                    # off unless one of the ages is set
//! archive-after-days = 90        # archive interactions finished this long ago
//! delete-after-days = 365        # delete them (at least archive-after-days)
//! archive-dir = "/var/parley/archive"   # default: <data-dir>/archive
//! sweep-interval-s = 3600        # how often the sweep runs
//! ```

use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::Due;
use crate::{Store, StoreError, now_ms};

/// Interactions handled per batch (one archive write and sync, one
/// transaction).
const BATCH: i64 = 200;
/// A day in milliseconds.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RetentionSettings {
    /// Archive interactions finished at least this many days ago.
    #[serde(default)]
    pub archive_after_days: Option<u32>,
    /// Delete interactions finished at least this many days ago.
    #[serde(default)]
    pub delete_after_days: Option<u32>,
    /// Where archive files go (default: `<data-dir>/archive`).
    #[serde(default)]
    pub archive_dir: Option<PathBuf>,
    /// Seconds between sweeps (default: an hour).
    #[serde(default)]
    pub sweep_interval_s: Option<u64>,
}

impl RetentionSettings {
    /// Whether anything is archived or deleted.
    pub fn enabled(&self) -> bool {
        self.archive_after_days.is_some() || self.delete_after_days.is_some()
    }

    fn check(&self) -> Result<(), String> {
        if let (Some(archive), Some(delete)) = (self.archive_after_days, self.delete_after_days)
            && delete < archive
        {
            return Err(format!(
                "[retention] delete-after-days ({delete}) must be at least archive-after-days ({archive}): interactions are archived before they are deleted"
            ));
        }
        if self.sweep_interval_s == Some(0) {
            return Err("[retention] sweep-interval-s must be at least 1".into());
        }
        Ok(())
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Report {
    /// Interactions archived.
    pub archived: u64,
    /// Interactions deleted.
    pub deleted: u64,
    /// The archive file written, if any.
    #[schema(value_type = Option<String>)]
    pub archive_file: Option<PathBuf>,
}

/// Why a sweep stopped.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// Retention is not configured.
    #[error(
        "retention is off: set [retention] archive-after-days or delete-after-days in the settings"
    )]
    Off,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The archive could not be written; nothing was deleted unarchived.
    #[error("the archive could not be written: {0}")]
    Archive(#[from] std::io::Error),
}

/// The retention policy and its sweep.
pub struct Retention {
    store: Store,
    settings: RetentionSettings,
    archive_dir: PathBuf,
    /// One sweep at a time.
    running: tokio::sync::Mutex<()>,
}

impl Retention {
    /// The policy of `settings`, archiving under `data_dir/archive` unless
    /// they say otherwise; refused if the settings contradict each other.
    pub fn new(
        store: Store,
        settings: RetentionSettings,
        data_dir: &Path,
    ) -> Result<Arc<Retention>, String> {
        settings.check()?;
        let archive_dir = settings
            .archive_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("archive"));
        Ok(Arc::new(Retention {
            store,
            settings,
            archive_dir,
            running: tokio::sync::Mutex::new(()),
        }))
    }

    /// Sweeps every `sweep-interval-s` (when retention is on), logging
    /// what each sweep did; the task ends with the returned handle.
    pub fn spawn(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        if !self.settings.enabled() {
            return None;
        }
        let interval = Duration::from_secs(self.settings.sweep_interval_s.unwrap_or(3600));
        let retention = self.clone();
        Some(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match retention.sweep().await {
                    Ok(report) if report.archived + report.deleted > 0 => tracing::info!(
                        archived = report.archived,
                        deleted = report.deleted,
                        file = ?report.archive_file,
                        "retention sweep"
                    ),
                    Ok(_) => {}
                    Err(err) => tracing::error!("retention sweep failed: {err}"),
                }
            }
        }))
    }

    /// Archives, then deletes, what is due now.
    pub async fn sweep(&self) -> Result<Report, RetentionError> {
        if !self.settings.enabled() {
            return Err(RetentionError::Off);
        }
        let _one_at_a_time = self.running.lock().await;
        let now = now_ms();
        let before = |days: u32| now - i64::from(days) * DAY_MS;
        let mut report = Report::default();
        if let Some(days) = self.settings.archive_after_days {
            self.archive(before(days), &mut report).await?;
        }
        if let Some(days) = self.settings.delete_after_days {
            let archived_only = self.settings.archive_after_days.is_some();
            loop {
                let due = Due::Delete { archived_only };
                let ids = self
                    .store
                    .due_for_retention(due, before(days), BATCH)
                    .await?;
                if ids.is_empty() {
                    break;
                }
                let deleted = self.store.delete_finished(ids, archived_only).await?;
                report.deleted += deleted;
                if deleted == 0 {
                    break;
                }
            }
        }
        Ok(report)
    }

    async fn archive(
        &self,
        finished_before: i64,
        report: &mut Report,
    ) -> Result<(), RetentionError> {
        let mut file: Option<(PathBuf, std::fs::File)> = None;
        loop {
            let ids = self
                .store
                .due_for_retention(Due::Archive, finished_before, BATCH)
                .await?;
            if ids.is_empty() {
                return Ok(());
            }
            let mut lines = Vec::new();
            let mut written = Vec::with_capacity(ids.len());
            for id in ids {
                // Deleted since it was found due: nothing to keep.
                if let Some(record) = self.store.archive_record(&id).await? {
                    lines.extend(serde_json::to_vec(&record).unwrap_or_default());
                    lines.push(b'\n');
                    written.push(id);
                }
            }
            let (path, mut handle) = match file.take() {
                Some(open) => open,
                None => self.create_file().await?,
            };
            handle = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
                handle.write_all(&lines)?;
                handle.flush()?;
                handle.sync_all()?;
                Ok(handle)
            })
            .await
            .map_err(std::io::Error::other)??;
            let name = path.display().to_string();
            let archived = self.store.mark_archived(written, name).await?;
            report.archived += archived;
            report.archive_file = Some(path.clone());
            file = Some((path, handle));
            if archived == 0 {
                return Ok(());
            }
        }
    }

    /// A new archive file, named after the time, its directory synced so
    /// the file's name survives a crash too.
    async fn create_file(&self) -> std::io::Result<(PathBuf, std::fs::File)> {
        let dir = self.archive_dir.clone();
        tokio::task::spawn_blocking(move || {
            use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
            // Archives hold customers' words: the server's user's alone.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)?;
            let stamp = humantime::format_rfc3339_millis(std::time::SystemTime::now())
                .to_string()
                .replace(':', "-");
            let path = dir.join(format!("interactions-{stamp}.jsonl"));
            let file = std::fs::OpenOptions::new()
                .append(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)?;
            std::fs::File::open(&dir)?.sync_all()?;
            Ok((path, file))
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_off_by_default_and_archives_before_deleting() {
        let off: RetentionSettings = toml::from_str("").unwrap();
        assert!(!off.enabled());
        let both: RetentionSettings =
            toml::from_str("archive-after-days = 30\ndelete-after-days = 10").unwrap();
        assert!(
            both.check()
                .unwrap_err()
                .contains("at least archive-after-days")
        );
        let fine: RetentionSettings =
            toml::from_str("archive-after-days = 30\ndelete-after-days = 30").unwrap();
        assert!(fine.enabled() && fine.check().is_ok());
        assert!(toml::from_str::<RetentionSettings>("keep-days = 3").is_err());
    }
}
