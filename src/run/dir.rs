//! A run directory: where one run keeps its exported Parquet, results, report and manifest.
//!
//! ```text
//! <run-dir root>/<run_id>/
//!   manifest.json          phases, snapshot versions, counts (see manifest.rs)
//!   export/features.parquet  feature keys, data_source, updated_at, current struct
//!   export/games.parquet     player_game_summary rows from start - 365 days
//!   results.parquet        the recomputed struct of every record in range
//!   changes.parquet        the rows the merge will write
//!   report/                report.json, report.md
//! ```

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;

/// Default root of run directories, relative to the working directory.
pub const DEFAULT_ROOT: &str = "completeness-runs";

#[derive(Debug, Clone)]
pub struct RunDir {
    pub id: String,
    pub path: PathBuf,
}

impl RunDir {
    /// A new run directory under `root` with a fresh id made from `now`.
    pub fn create(root: &Path, now: DateTime<Utc>) -> Result<RunDir> {
        let suffix: u32 = rand::rng().random_range(0..0x1000000);
        let id = format!("{}-{suffix:06x}", now.format("%Y%m%dT%H%M%SZ"));
        let path = root.join(&id);
        std::fs::create_dir_all(path.join("export"))
            .map_err(Error::io("creating run directory", &path))?;
        Ok(RunDir { id, path })
    }

    /// An existing run directory `root/id`.
    pub fn open(root: &Path, id: &str) -> Result<RunDir> {
        validate_id(id)?;
        let path = root.join(id);
        if !path.join("manifest.json").is_file() {
            return Err(Error::input(format!(
                "unknown run {id}: no {} (runs live under --run-dir, default ./{DEFAULT_ROOT})",
                path.join("manifest.json").display()
            )));
        }
        Ok(RunDir {
            id: id.to_string(),
            path,
        })
    }

    pub fn manifest(&self) -> PathBuf {
        self.path.join("manifest.json")
    }

    /// Hold the run for this process: a second process resuming or merging the same run
    /// is refused while the returned lock lives (the OS releases it if we die).
    pub fn lock(&self) -> Result<std::fs::File> {
        let path = self.path.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(Error::io("locking the run", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::input(format!(
                "run {} is in use by another completeness process (a --resume or merge --run of \
                 the same run); wait for it to finish, then look at `{COMPLETENESS} runs`",
                self.id
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io("locking the run", &path)(e)),
        }
    }
    pub fn exported_features(&self) -> PathBuf {
        self.path.join("export").join("features.parquet")
    }
    pub fn exported_games(&self) -> PathBuf {
        self.path.join("export").join("games.parquet")
    }
    pub fn results(&self) -> PathBuf {
        self.path.join("results.parquet")
    }
    /// `historical_completeness_ext` per result key (`backfill --extended`).
    pub fn extended(&self) -> PathBuf {
        self.path.join("extended.parquet")
    }
    pub fn changes(&self) -> PathBuf {
        self.path.join("changes.parquet")
    }
    pub fn report_dir(&self) -> PathBuf {
        self.path.join("report")
    }
}

/// Run ids are file names: letters, digits, `-` and `_` only.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::input(format!(
            "invalid run id {id:?}: expected letters, digits, '-' or '_'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_time_ordered_and_path_safe() {
        let dir = tempfile::tempdir().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-01-22T10:00:00Z")
            .unwrap()
            .to_utc();
        let run = RunDir::create(dir.path(), now).unwrap();
        assert!(run.id.starts_with("20260122T100000Z-"), "{}", run.id);
        assert!(validate_id(&run.id).is_ok());
        assert!(validate_id("../etc").is_err());
        assert!(
            RunDir::open(dir.path(), "nope")
                .unwrap_err()
                .to_string()
                .contains("unknown run nope")
        );
    }
}
