//! `runs --prune`: delete the run directories an operator no longer needs.
//!
//! A run directory holds the exported Parquet, the results and the report; after the
//! run is finished it is only history, and a season of runs adds up. Pruned are the
//! finished runs (a dry run, or a run whose merge is done) created more than
//! `keep_days` ago. An interrupted run is always kept: `backfill --resume` needs its
//! directory. Directories without a manifest are not runs of this tool and are never
//! touched.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Days, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::run::manifest::{Manifest, Phase};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pruned {
    pub run_id: String,
    pub path: PathBuf,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    pub removed: Vec<Pruned>,
    /// Old runs kept because they are not finished (resume or delete them by hand).
    pub kept_unfinished: Vec<String>,
}

impl PruneReport {
    pub fn bytes(&self) -> u64 {
        self.removed.iter().map(|p| p.bytes).sum()
    }

    pub fn render(&self) -> String {
        let verb = if self.dry_run {
            "would remove"
        } else {
            "removed"
        };
        let mut out = String::new();
        for p in &self.removed {
            out += &format!("{verb} {} ({})\n", p.path.display(), mib(p.bytes));
        }
        for id in &self.kept_unfinished {
            out += &format!("kept {id}: not finished (`{COMPLETENESS} backfill --resume {id}`)\n");
        }
        out += &format!(
            "{verb} {} run directories, {}\n",
            self.removed.len(),
            mib(self.bytes())
        );
        out
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Remove (or, with `dry_run`, list) the finished runs under `run_root` created before
/// `now - keep_days`.
pub fn prune(
    run_root: &Path,
    keep_days: u32,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<PruneReport> {
    let cutoff = now - Days::new(keep_days.into());
    let mut report = PruneReport {
        dry_run,
        ..Default::default()
    };
    let mut runs = crate::ops::runs::run_dirs(run_root)?;
    runs.sort_by_key(|(_, m)| m.created_at);
    for (dir, m) in runs {
        if m.created_at >= cutoff {
            continue;
        }
        if !is_finished(&m) {
            report.kept_unfinished.push(m.run_id);
            continue;
        }
        let bytes = size_of(&dir);
        if !dry_run {
            std::fs::remove_dir_all(&dir).map_err(Error::io("removing run directory", &dir))?;
        }
        report.removed.push(Pruned {
            run_id: m.run_id,
            path: dir,
            bytes,
        });
    }
    Ok(report)
}

/// A dry run, or a run whose merge is done: nothing left to resume.
fn is_finished(m: &Manifest) -> bool {
    (m.dry_run && m.merge.is_none()) || m.is_done(Phase::Merge)
}

/// The bytes of the files under `dir` (a file that cannot be read counts 0).
fn size_of(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
