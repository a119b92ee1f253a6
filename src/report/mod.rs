//! The reports, rendered from what the pipeline and the operations hand over: a run's
//! diff report ([`Report`], for the terminal, as JSON, Markdown and HTML) and the daily
//! report ([`daily`]). Rendering only: nothing here reads a table (it imports only
//! `model`).
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
use crate::model::count::thousands;
use crate::model::dates::DateRange;
use crate::model::job_cost::JobCost;
use crate::model::reasons::{Reason, ReasonCounts};

/// The whole report (`report.json`, and what `--json` prints).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub run_id: String,
    pub range: Option<DateRange>,
    /// Nothing was written to the table (a plan, or a comparison of files).
    pub dry_run: bool,
    /// What happened, as the report's header says it.
    #[serde(default)]
    pub status: RunStatus,
    /// The run's merge was committed by an earlier command; this one wrote nothing.
    #[serde(default)]
    pub already_applied: bool,
    pub records: RecordCounts,
    pub fields_changed: FieldCounts,
    pub after: LabelCounts,
    /// The flags themselves over the computed records, overlapping as `check summary`
    /// counts them (a complete record can be bootstrap).
    #[serde(default)]
    pub after_flags: FlagCounts,
    pub by_date: Vec<DateRow>,
    /// Computed records by games_found (index 0..=10).
    #[serde(default)]
    pub games_found_histogram: [u64; 11],
    pub examples: Vec<Example>,
    /// `backfill --extended`: what the extended column says and how many rows it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended: Option<ExtendedSummary>,
    /// Why the INCOMPLETE records (`after.incomplete`) fall short; only `missing_games`
    /// are data gaps. None when unknown (no schedule, or two files compared).
    #[serde(default)]
    pub incomplete_reasons: Option<ReasonCounts>,
    /// Why `incomplete_reasons` is unknown, when it is for another cause than a missing
    /// schedule table (a phrase, see [`Report::reasons_unknown_because`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons_unknown: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeSummary>,
    /// What the operator should know before anything else (a window with nothing in it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// On BigQuery: each job the run submitted and what it cost (bytes processed and
    /// billed, slot milliseconds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<JobCost>,
}

/// What a run did: the first thing its report says (`status` in report.json).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// `backfill --dry-run`, or `export` then `diff --run`: a plan; nothing was written.
    #[default]
    DryRun,
    /// A real backfill stopped before its merge (its report as `diff --run` shows it):
    /// nothing was written yet.
    NotApplied,
    /// The merge wrote every change in one commit.
    Applied,
    /// The merge wrote some changes; the others conflicted and were left alone.
    PartlyApplied,
    /// The merge found no change to write: no commit.
    NothingToWrite,
    /// Every change conflicted: nothing was written, no commit.
    AllConflicted,
    /// The run's merge happened in an earlier command; this one wrote nothing.
    AlreadyApplied,
    /// No record in range to compute: after the data, or only bootstrap days.
    NothingToCompute,
    /// `diff --results --current`: two files compared, no run, nothing to apply.
    FileComparison,
}

impl RunStatus {
    /// The status of a run from what it did: its records, its merge (none before the
    /// merge) and whether it was planned as a dry run.
    pub fn of(records: &RecordCounts, merge: Option<&MergeSummary>, dry_run: bool) -> RunStatus {
        if records.computed == 0 {
            return RunStatus::NothingToCompute;
        }
        match merge {
            None if dry_run => RunStatus::DryRun,
            None => RunStatus::NotApplied,
            Some(m) => match (m.rows_written, m.conflicts) {
                (0, 0) => RunStatus::NothingToWrite,
                (0, _) => RunStatus::AllConflicted,
                (_, 0) => RunStatus::Applied,
                _ => RunStatus::PartlyApplied,
            },
        }
    }

    /// Whether the report is a plan that `merge --run` can apply.
    pub fn is_plan(self) -> bool {
        matches!(self, RunStatus::DryRun | RunStatus::NotApplied)
    }
}

/// The is_bootstrap count beside the labels, which count a complete bootstrap record as
/// complete: "is_bootstrap 12 (12 of them complete), as `check summary` counts bootstrap".
pub fn bootstrap_flag_sentence(r: &Report) -> String {
    let flagged = r.after_flags.is_bootstrap;
    format!(
        "is_bootstrap {} ({} of them complete), as `check summary` counts bootstrap",
        thousands(flagged),
        thousands(flagged.saturating_sub(r.after.bootstrap))
    )
}

/// Counts of the flags (not the labels) over the computed records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlagCounts {
    /// Records with is_bootstrap (complete ones included).
    pub is_bootstrap: u64,
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
    /// Of the INCOMPLETE records, the data gaps; None when the reasons are unknown.
    #[serde(default)]
    pub data_gaps: Option<u64>,
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
    /// Keys of the rows left alone (the first 100).
    pub conflict_keys: Vec<(String, NaiveDate)>,
    /// `conflict_keys` lists fewer keys than there are `conflicts`.
    #[serde(default)]
    pub conflict_keys_truncated: bool,
    /// Runs of this tool (id, table version) that committed since the plan was made:
    /// the likely authors of the conflicts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs_since_plan: Vec<(String, u64)>,
    /// The BigQuery job that ran the MERGE (a BigQuery warehouse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

impl MergeSummary {
    /// Where the merge's commit is: " in Delta version 3", " by BigQuery job J", or "".
    pub fn commit(&self) -> String {
        match (self.table_version, &self.job_id) {
            (Some(v), _) => format!(" in Delta version {v}"),
            (None, Some(job)) => format!(" by BigQuery job {job}"),
            (None, None) => String::new(),
        }
    }

    /// The runs of this tool that committed since the plan: "run A (version 2), run B
    /// (version 3)"; `None` when there were none.
    pub fn runs_since(&self) -> Option<String> {
        let runs: Vec<String> = self
            .runs_since_plan
            .iter()
            .map(|(id, version)| format!("run {id} (version {version})"))
            .collect();
        (!runs.is_empty()).then(|| runs.join(", "))
    }

    /// What became of the rows the merge left alone, in one sentence: changed since the
    /// plan while runs of this tool committed (named), or rewritten by someone else.
    pub fn conflicts_sentence(&self) -> String {
        let n = thousands(self.conflicts);
        match self.runs_since() {
            Some(runs) => format!(
                "{n} rows changed after this plan was made and were left alone; {runs} of \
                 this tool committed since, so the plan is stale: rerun the dry run"
            ),
            None => format!(
                "{n} rows were rewritten by someone else after the export and were left \
                 alone; rerun the backfill for the same range to cover them"
            ),
        }
    }
}

impl Report {
    /// Record why each INCOMPLETE record (by its game date) falls short: the totals and
    /// the data gaps per date.
    pub fn set_reasons(&mut self, reasons: impl IntoIterator<Item = (NaiveDate, Reason)>) {
        let mut counts = ReasonCounts::default();
        let mut gaps: std::collections::BTreeMap<NaiveDate, u64> = Default::default();
        for (day, reason) in reasons {
            counts.add(reason);
            *gaps.entry(day).or_default() += u64::from(reason.is_data_gap());
        }
        for row in &mut self.by_date {
            row.data_gaps = Some(gaps.get(&row.game_date).copied().unwrap_or(0));
        }
        self.incomplete_reasons = Some(counts);
    }

    /// Why the reasons of the incomplete records are unknown (when they are).
    pub fn reasons_unknown_because(&self) -> &str {
        self.reasons_unknown
            .as_deref()
            .unwrap_or("there is no schedule table, so no missing game can be found")
    }

    /// What the report is about: "run <id>"; "files compared, not a run" for `diff
    /// --results --current` (which no `merge --run` can apply); "no run kept" for a run
    /// that had nothing to compute.
    pub fn subject(&self) -> String {
        match (self.status, self.run_id.is_empty()) {
            (RunStatus::FileComparison, _) => "files compared, not a run".to_string(),
            (_, true) => "no run kept".to_string(),
            (_, false) => format!("run {}", self.run_id),
        }
    }

    /// The range as a heading shows it: "2026-01-01 → 2026-01-22".
    pub fn range_text(&self) -> String {
        self.range
            .map(|g| format!("{} → {}", g.start, g.end))
            .unwrap_or_else(|| "no records".to_string())
    }

    /// What happened, in the words of every header (terminal, report.md, the page).
    pub fn headline(&self) -> String {
        let merge = self.merge.clone().unwrap_or_default();
        let c = &self.records;
        match self.status {
            RunStatus::DryRun => "dry run: nothing was written".to_string(),
            RunStatus::NotApplied => "not applied yet: nothing was written".to_string(),
            RunStatus::Applied => format!(
                "applied: {} rows written{}",
                thousands(merge.rows_written),
                merge.commit()
            ),
            RunStatus::PartlyApplied => format!(
                "partly applied: {} rows written{}; {} changes conflicted and were left alone",
                thousands(merge.rows_written),
                merge.commit(),
                thousands(merge.conflicts)
            ),
            RunStatus::NothingToWrite => {
                "nothing to write: no record changes, no commit".to_string()
            }
            RunStatus::AllConflicted => format!(
                "not applied: all {} changes conflicted; nothing was written, no commit",
                thousands(merge.conflicts)
            ),
            RunStatus::AlreadyApplied => match merge.commit().as_str() {
                "" => "already merged earlier, with no commit; nothing was written now".into(),
                commit => format!("already applied{commit}; nothing was written now"),
            },
            RunStatus::NothingToCompute if c.in_range == 0 => {
                "nothing to compute: no feature records in range".to_string()
            }
            RunStatus::NothingToCompute => format!(
                "nothing to compute: all {} records in range are on bootstrap days",
                thousands(c.skipped_bootstrap)
            ),
            RunStatus::FileComparison => {
                "comparison of two files: no run, nothing applied".to_string()
            }
        }
    }

    /// Whether the plan would write anything (a struct or an extended struct changes).
    pub fn has_changes(&self) -> bool {
        self.records.added + self.records.changed > 0
            || self.extended.as_ref().is_some_and(|x| x.changed > 0)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(rows_written: u64, conflicts: u64) -> MergeSummary {
        MergeSummary {
            rows_written,
            conflicts,
            ..MergeSummary::default()
        }
    }

    /// The status comes from what happened, never from the command that was typed.
    #[test]
    fn status_is_what_the_run_did() {
        let computed = RecordCounts {
            in_range: 5,
            computed: 5,
            ..RecordCounts::default()
        };
        let of = |merge: Option<MergeSummary>, dry_run| {
            RunStatus::of(&computed, merge.as_ref(), dry_run)
        };
        assert_eq!(of(None, true), RunStatus::DryRun);
        assert_eq!(of(None, false), RunStatus::NotApplied);
        assert_eq!(of(Some(merged(5, 0)), false), RunStatus::Applied);
        assert_eq!(of(Some(merged(3, 2)), false), RunStatus::PartlyApplied);
        assert_eq!(of(Some(merged(0, 0)), false), RunStatus::NothingToWrite);
        assert_eq!(of(Some(merged(0, 5)), false), RunStatus::AllConflicted);
        let skipped = RecordCounts {
            in_range: 5,
            skipped_bootstrap: 5,
            ..RecordCounts::default()
        };
        assert_eq!(
            RunStatus::of(&skipped, None, true),
            RunStatus::NothingToCompute
        );
    }

    /// A BigQuery MERGE commits no Delta version: its rows are "written by" its job,
    /// never "nothing to write".
    #[test]
    fn a_bigquery_merge_is_named_by_its_job() {
        let report = Report {
            status: RunStatus::Applied,
            merge: Some(MergeSummary {
                job_id: Some("completeness_r_merge".into()),
                ..merged(1_234, 0)
            }),
            ..Report::default()
        };
        assert_eq!(
            report.headline(),
            "applied: 1,234 rows written by BigQuery job completeness_r_merge"
        );
        let terminal = terminal::render(&report);
        assert!(!terminal.contains("nothing to write"), "{terminal}");
    }

    /// Conflicts are blamed on the runs of this tool that committed since the plan,
    /// when there were any, and on someone else only otherwise.
    #[test]
    fn conflicts_name_the_runs_since_the_plan() {
        let mut m = merged(0, 2_000);
        assert!(m.conflicts_sentence().contains("by someone else"));
        m.runs_since_plan = vec![("r1".into(), 4), ("r2".into(), 5)];
        let sentence = m.conflicts_sentence();
        assert!(
            sentence.starts_with("2,000 rows changed after this plan was made"),
            "{sentence}"
        );
        assert!(
            sentence.contains("run r1 (version 4), run r2 (version 5) of this tool"),
            "{sentence}"
        );
        assert!(!sentence.contains("someone else"), "{sentence}");
    }
}
