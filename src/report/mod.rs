//! The diff report: one document, rendered for the terminal, as JSON and as Markdown.
//!
//! The JSON field names are a stable contract for scripts.

pub mod chart;
pub mod daily;
pub mod escape;
pub mod html;
pub mod markdown;
pub mod pages;
pub mod terminal;

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::HistoricalCompleteness;
use crate::model::dates::DateRange;
use crate::model::job_cost::JobCost;

/// The whole report (`report.json`, and what `--json` prints).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub run_id: String,
    pub range: Option<DateRange>,
    pub dry_run: bool,
    pub records: RecordCounts,
    pub fields_changed: FieldCounts,
    pub after: LabelCounts,
    pub by_date: Vec<DateRow>,
    /// Computed records by games_found (index 0..=10).
    #[serde(default)]
    pub games_found_histogram: [u64; 11],
    pub examples: Vec<Example>,
    /// `backfill --extended`: what the extended column says and how many rows it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended: Option<ExtendedSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeSummary>,
    /// On BigQuery: each job the run submitted and what it cost (bytes processed and
    /// billed, slot milliseconds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<JobCost>,
}

/// The extended column over the computed records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtendedSummary {
    /// Records whose extended struct differs from the stored one (written with the rest).
    pub changed: u64,
    /// Records with at least one missing game in their window.
    pub with_missing_games: u64,
    /// Records per incompleteness_reason (`none` when nothing is amiss).
    pub reasons: std::collections::BTreeMap<String, u64>,
}

/// How the records in range were classified.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordCounts {
    /// Feature records with a game_date in range.
    pub in_range: u64,
    /// Records the run covers: in range and not skipped.
    pub computed: u64,
    /// Records on bootstrap dates (first 14 days of a season), left as they are.
    pub skipped_bootstrap: u64,
    /// NULL struct → value.
    pub added: u64,
    /// A stored struct that differs from the recomputed one.
    pub changed: u64,
    pub unchanged: u64,
}

/// Among changed records, how many differ in each field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldCounts {
    pub games_found: u64,
    pub games_expected: u64,
    pub is_complete: u64,
    pub is_bootstrap: u64,
    pub contributing_game_dates: u64,
}

/// Labels (COMPLETE, else BOOTSTRAP, else INCOMPLETE) of the computed records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelCounts {
    pub complete: u64,
    pub incomplete: u64,
    pub bootstrap: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DateRow {
    pub game_date: NaiveDate,
    /// Records on this date (skipped ones included).
    pub total: u64,
    pub added: u64,
    pub changed: u64,
    pub skipped: u64,
    pub complete: u64,
    pub incomplete: u64,
    pub bootstrap: u64,
}

/// One record's before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub player_lookup: String,
    pub game_date: NaiveDate,
    /// "added" or "changed".
    pub kind: String,
    pub fields: Vec<String>,
    pub before: Option<HistoricalCompleteness>,
    pub after: HistoricalCompleteness,
}

/// What the merge did, after a real run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MergeSummary {
    pub rows_written: u64,
    pub conflicts: u64,
    /// The Delta version committed; `None` when there was nothing to write.
    pub table_version: Option<u64>,
    /// Keys of rows rewritten by someone else after the export (first 100).
    pub conflict_keys: Vec<(String, NaiveDate)>,
}

impl Report {
    /// What the report is about: "run <id>", or "files" for `diff --results --current`
    /// (a comparison of two files, which no `merge --run` can apply).
    pub fn subject(&self) -> String {
        match self.run_id.is_empty() {
            true => "files compared, not a run".to_string(),
            false => format!("run {}", self.run_id),
        }
    }

    /// Read a `report.json` written by [`Report::write`].
    pub fn load(path: &Path) -> Result<Report> {
        let text = std::fs::read_to_string(path).map_err(Error::io("reading report", path))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::input(format!("{}: not a valid report: {e}", path.display())))
    }

    /// Write `report.json`, `report.md` and `report.html` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(Error::io("creating report directory", dir))?;
        let json = serde_json::to_string_pretty(self).expect("report serializes");
        let path = dir.join("report.json");
        std::fs::write(&path, json + "\n").map_err(Error::io("writing report", &path))?;
        let path = dir.join("report.md");
        std::fs::write(&path, markdown::render(self))
            .map_err(Error::io("writing report", &path))?;
        let path = dir.join("report.html");
        let page = html::render(&pages::backfill_page(self));
        std::fs::write(&path, page).map_err(Error::io("writing report", &path))
    }
}
