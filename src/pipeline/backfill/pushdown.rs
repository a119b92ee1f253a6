//! The phases of a run computed in BigQuery (`--compute-in bigquery`): the compute
//! phase is the plan job (no export: the export phase is recorded as skipped), the diff
//! phase the report job, the merge one MERGE from the plan. What each job does is
//! [`crate::warehouse::bigquery::pushdown`]; here the phases are recorded, reported and
//! made resumable as the local ones are, with the same failpoints.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::failpoint;
use crate::model::count::thousands;
use crate::report::{DateRow, Example, FieldCounts, LabelCounts, RecordCounts, Report};
use crate::run::manifest::{Manifest, MergeRecord, Phase, PhaseStatus};
use crate::warehouse::MergeMetrics;

use super::{Phases, Step};

/// The row of `queries/bigquery/pushdown/report.sql`: the keys of the report it fills.
#[derive(Debug, Deserialize)]
struct PlanReport {
    records: RecordCounts,
    fields_changed: FieldCounts,
    after: LabelCounts,
    games_found_histogram: [u64; 11],
    by_date: Vec<DateRow>,
    examples: Vec<Example>,
}

impl Phases<'_> {
    /// The compute phase: the statements validated, then the plan written in BigQuery.
    pub(super) async fn plan(&mut self, m: &mut Manifest) -> Result<()> {
        m.mark(
            Phase::Export,
            PhaseStatus::Skipped,
            self.builder.now(),
            None,
        );
        let clock = self.begin(m, Phase::Compute)?;
        failpoint::hit("compute:started").await;
        let line = self.builder.warehouse.plan(m).await?;
        (self.builder.progress)(Step::Note(Phase::Compute, &line));
        let table = m
            .bigquery
            .as_ref()
            .and_then(|b| b.plan_table.clone())
            .unwrap_or_default();
        let message = format!("compute in BigQuery: plan written to {table}");
        self.finish(m, Phase::Compute, clock, &message)?;
        failpoint::hit("compute:done").await;
        Ok(())
    }

    /// The diff phase: the report read from the plan, written as the local one is.
    pub(super) async fn plan_report(&mut self, m: &mut Manifest) -> Result<Report> {
        let clock = self.begin(m, Phase::Diff)?;
        failpoint::hit("diff:started").await;
        let row = self.builder.warehouse.plan_report(m).await?;
        let mut report = from_row(row)?;
        report.run_id = m.run_id.clone();
        report.range = Some(m.range);
        report.dry_run = m.dry_run;
        report.reasons_unknown = self.builder.warehouse.reasons_skipped(m);
        report.write(&self.dir.report_dir())?;
        failpoint::hit("diff:written").await;
        let r = &report.records;
        m.rows.insert("features".into(), r.in_range);
        m.rows.insert("changes".into(), r.added + r.changed);
        let message = format!(
            "diff in BigQuery: {} added, {} changed, {} unchanged, {} skipped",
            thousands(r.added),
            thousands(r.changed),
            thousands(r.unchanged),
            thousands(r.skipped_bootstrap)
        );
        self.finish(m, Phase::Diff, clock, &message)?;
        failpoint::hit("diff:done").await;
        Ok(report)
    }

    /// The merge: one MERGE from the plan (none when it plans no change); the manifest
    /// records it as soon as it is known to have run.
    pub(super) async fn merge_plan(&self, m: &mut Manifest) -> Result<MergeMetrics> {
        let warehouse = &self.builder.warehouse;
        let now = self.builder.now();
        let x = warehouse
            .merge_plan(m, now, self.builder.allow_stale)
            .await?;
        m.merge = Some(MergeRecord {
            rows_written: x.num_rows_written,
            conflicts: x.num_conflicts,
            conflict_keys: x.conflict_keys.clone(),
            ..Default::default()
        });
        m.save(&self.dir.manifest())
            .map_err(|e| match x.job_id.is_some() {
                true => m.after_commit(e),
                false => e,
            })?;
        Ok(x)
    }
}

/// The report of the row report.sql returns (run id, range and mode left to the caller).
fn from_row(row: serde_json::Value) -> Result<Report> {
    let r: PlanReport = serde_json::from_value(row).map_err(|e| Error::Remote {
        context: "reading the report of the plan (queries/bigquery/pushdown/report.sql)".into(),
        message: e.to_string(),
    })?;
    Ok(Report {
        records: r.records,
        fields_changed: r.fields_changed,
        after: r.after,
        games_found_histogram: r.games_found_histogram,
        by_date: r.by_date,
        examples: r.examples,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The row as `json_rows` types it (numbers, booleans, dates as text, NULL before).
    #[test]
    fn the_report_row_fills_the_reports_keys() {
        let row = json!({
            "records": {"in_range": 5, "computed": 4, "skipped_bootstrap": 1, "added": 2,
                        "changed": 1, "unchanged": 1},
            "fields_changed": {"games_found": 1, "games_expected": 0, "is_complete": 1,
                               "is_bootstrap": 0, "contributing_game_dates": 1},
            "after": {"complete": 2, "incomplete": 1, "bootstrap": 1},
            "games_found_histogram": [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2],
            "by_date": [{"game_date": "2025-01-06", "total": 5, "added": 2, "changed": 1,
                         "skipped": 1, "complete": 2, "incomplete": 1, "bootstrap": 1}],
            "examples": [{"player_lookup": "ann", "game_date": "2025-01-06", "kind": "added",
                          "fields": [], "before": null,
                          "after": {"games_found": 3, "games_expected": 3, "is_complete": true,
                                    "is_bootstrap": true,
                                    "contributing_game_dates": ["2025-01-05", "2025-01-03", "2024-12-30"]}}]
        });
        let r = from_row(row).unwrap();
        assert_eq!(r.records.skipped_bootstrap, 1);
        assert_eq!(r.games_found_histogram[10], 2);
        assert_eq!(r.by_date[0].game_date.to_string(), "2025-01-06");
        assert_eq!(r.examples[0].before, None);
        assert_eq!(r.examples[0].after.contributing_game_dates.len(), 3);
        let e = from_row(json!({"records": {}})).unwrap_err();
        assert_eq!(
            e.exit_code(),
            3,
            "a row of another shape is the warehouse's fault"
        );
    }
}
