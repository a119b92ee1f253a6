//! `manifest.json`: what a run is, what it pinned, and which phases are done.
//!
//! The manifest is rewritten (atomically and durably: a flushed temporary file, renamed
//! into place) after every phase, so `backfill --resume RUN_ID` knows where to continue
//! after a crash.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::model::dates::{DateRange, SeasonCalendar};
use crate::model::job_cost::JobCost;

/// The phases of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Export,
    Compute,
    Diff,
    Merge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    Started,
    Done,
    Skipped,
}

/// Where a run computes the structs: on this machine from exported Parquet (`local`,
/// the default), or inside BigQuery by one generated statement (`bigquery`, issue 26).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compute {
    #[default]
    Local,
    Bigquery,
}

impl Compute {
    /// The value as the flag and the config file spell it.
    pub fn name(self) -> &'static str {
        match self {
            Compute::Local => "local",
            Compute::Bigquery => "bigquery",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseRecord {
    pub status: PhaseStatus,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
}

/// Delta versions the export pinned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub features_version: u64,
    pub games_version: u64,
    #[serde(default)]
    pub schedule_version: Option<u64>,
}

/// What the merge committed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MergeRecord {
    /// Version of the feature table the merge read; a rollback restores it.
    pub read_version: Option<u64>,
    /// Version the merge committed, if it committed.
    pub table_version: Option<u64>,
    pub rows_written: u64,
    pub conflicts: u64,
    /// First keys of the rows left alone because of a concurrent write.
    #[serde(default)]
    pub conflict_keys: Vec<(String, NaiveDate)>,
    /// Milliseconds per step of a local merge (conflict check, source, Delta MERGE,
    /// invariant check).
    #[serde(default)]
    pub steps_ms: std::collections::BTreeMap<String, u64>,
    /// Runs of this tool that committed between the plan's export and this merge
    /// (a local warehouse, when there were conflicts): the likely authors of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs_since_plan: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub run_id: String,
    pub created_at: DateTime<Utc>,
    pub tool_version: String,
    pub warehouse: String,
    pub range: DateRange,
    pub dry_run: bool,
    pub include_bootstrap: bool,
    /// Also fill `historical_completeness_ext` (`backfill --extended`).
    #[serde(default)]
    pub extended: bool,
    /// Where the structs are computed (manifests before issue 26: local).
    #[serde(default)]
    pub compute: Compute,
    #[serde(default)]
    pub snapshot: Option<Snapshot>,
    #[serde(default)]
    pub season_starts: BTreeMap<i32, NaiveDate>,
    /// Row counts per file: features, games, results, changes.
    #[serde(default)]
    pub rows: BTreeMap<String, u64>,
    #[serde(default)]
    pub phases: BTreeMap<Phase, PhaseRecord>,
    #[serde(default)]
    pub merge: Option<MergeRecord>,
    /// What a run on BigQuery exported and submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bigquery: Option<BigQueryRun>,
}

/// The BigQuery side of a run: where the export went and which jobs ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BigQueryRun {
    /// `gs://…/<run_id>/features` and `…/games`: what compute and diff read.
    pub features_uri: String,
    pub games_uri: String,
    /// Server time of the export (ms since the epoch): the snapshot the run saw.
    pub snapshot_time_ms: Option<i64>,
    /// Every job the run submitted, in order (export, load, merge attempts).
    #[serde(default)]
    pub jobs: Vec<String>,
    /// Server time just before the MERGE (ms): what a rollback restores.
    #[serde(default)]
    pub pre_merge_time_ms: Option<i64>,
    /// The `updated_at` the MERGE wrote.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// The job that rolled this run back, once it has been.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_job: Option<String>,
    /// A run computed in BigQuery: its staging table holding the plan (`dataset.table`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_table: Option<String>,
    /// What each job cost (bytes processed and billed, slot time), in submission order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub costs: Vec<JobCost>,
}

impl BigQueryRun {
    /// Record a job the run submitted, with what it cost.
    pub fn note_job(&mut self, cost: JobCost) {
        self.jobs.push(cost.job_id.clone());
        self.costs.push(cost);
    }
}

impl Manifest {
    /// `e`, which happened after this run's merge committed: the error says so.
    pub fn after_commit(&self, e: Error) -> Error {
        let committed = match (
            self.merge.as_ref().and_then(|x| x.table_version),
            self.merge_job(),
        ) {
            (Some(v), _) => format!(" as version {v}"),
            (None, Some(job)) => format!(" by BigQuery job {job}"),
            _ => String::new(),
        };
        Error::AfterCommit {
            run_id: self.run_id.clone(),
            resume: format!("{COMPLETENESS} backfill --resume {}", self.run_id),
            committed,
            source: Box::new(e),
        }
    }
}

impl Manifest {
    /// The last MERGE job the run submitted on BigQuery (the one that ran, once the
    /// merge is done); `None` on a local warehouse.
    pub fn merge_job(&self) -> Option<&str> {
        let jobs = &self.bigquery.as_ref()?.jobs;
        jobs.iter()
            .rev()
            .find(|j| j.contains("_merge"))
            .map(String::as_str)
    }
}

/// The refusal of run `run_id`'s plan: player_game_summary changed since it `made` its
/// plan (`exported it`, `computed its plan`), as `detail` says (the dates); `recompute`
/// is the backfill to run instead. Exit 2: nothing was written.
pub fn stale_plan(run_id: &str, made: &str, detail: &str, recompute: &str) -> Error {
    Error::input(format!(
        "player_game_summary changed since run {run_id} {made}: {detail}. Its structs were \
         computed from the old rows and would be stale as they are written; nothing was written. \
         Recompute: `{recompute}` (add --dry-run to look first), or pass --allow-stale to apply \
         this plan anyway"
    ))
}

/// A plan's table moved under it by runs of this tool: see [`Manifest::moved_by_runs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MovedByRuns<'a> {
    /// The feature table version the plan's export read.
    pub planned: u64,
    /// The version its merge read.
    pub read: u64,
    /// The runs (id, version) that committed in between.
    pub runs: &'a [(String, u64)],
}

impl Manifest {
    /// The versions this plan was made on and its merge read, with the runs of this
    /// tool that committed in between: when its rows were rewritten by our own later
    /// run, the plan is stale rather than in conflict with a stranger.
    pub fn moved_by_runs(&self) -> Option<MovedByRuns<'_>> {
        let merge = self.merge.as_ref()?;
        let moved = MovedByRuns {
            planned: self.snapshot.as_ref()?.features_version,
            read: merge.read_version?,
            runs: merge.runs_since_plan.as_slice(),
        };
        (!moved.runs.is_empty()).then_some(moved)
    }

    /// The `backfill` command that recomputes and applies this run's range anew, with
    /// its flags.
    pub fn backfill_command(&self) -> String {
        let flags: String = [
            (self.include_bootstrap, " --include-bootstrap"),
            (self.extended, " --extended"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, flag)| *flag)
        .collect();
        let compute = match self.compute {
            Compute::Bigquery => " --compute-in bigquery",
            Compute::Local => "",
        };
        format!(
            "{COMPLETENESS} backfill --start {} --end {}{flags}{compute}",
            self.range.start, self.range.end
        )
    }

    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(Error::io("reading manifest", path))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::input(format!("{}: not a valid run manifest: {e}", path.display())))
    }

    /// Write the manifest durably: a crash leaves the old one or the new one.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("manifest serializes");
        crate::io::durable::write(path, text.as_bytes(), "the manifest")
    }

    pub fn is_done(&self, phase: Phase) -> bool {
        matches!(
            self.phases.get(&phase).map(|p| p.status),
            Some(PhaseStatus::Done | PhaseStatus::Skipped)
        )
    }

    pub fn mark(
        &mut self,
        phase: Phase,
        status: PhaseStatus,
        at: DateTime<Utc>,
        elapsed_ms: Option<u64>,
    ) {
        self.phases.insert(
            phase,
            PhaseRecord {
                status,
                at,
                elapsed_ms,
            },
        );
    }

    pub fn calendar(&self) -> SeasonCalendar {
        SeasonCalendar::from_schedule(self.season_starts.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_with_phases() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut m = Manifest {
            run_id: "r1".into(),
            created_at: now,
            tool_version: "0".into(),
            warehouse: "w".into(),
            range: DateRange::new(d("2026-01-01"), d("2026-01-22")).unwrap(),
            dry_run: true,
            include_bootstrap: false,
            extended: false,
            compute: Compute::Local,
            snapshot: None,
            season_starts: BTreeMap::from([(2025, d("2025-10-21"))]),
            rows: BTreeMap::new(),
            phases: BTreeMap::new(),
            merge: None,
            bigquery: None,
        };
        m.mark(Phase::Export, PhaseStatus::Done, now, Some(5));
        m.mark(Phase::Merge, PhaseStatus::Started, now, None);
        let path = dir.path().join("manifest.json");
        m.save(&path).unwrap();
        let back = Manifest::load(&path).unwrap();
        assert_eq!(back, m);
        assert!(back.is_done(Phase::Export));
        assert!(!back.is_done(Phase::Merge));
        assert!(!back.is_done(Phase::Compute));
    }
}
