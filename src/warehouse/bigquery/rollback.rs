//! Rollback on BigQuery: one `MERGE` from `FOR SYSTEM_TIME AS OF` the pre-merge time.
//!
//! The rows the run wrote are those in its date range still carrying its `updated_at`;
//! they get back the struct and `updated_at` they had just before the run's MERGE. A
//! row rewritten since no longer carries the run's `updated_at` and is left alone. Time
//! travel reaches back a limited window (7 days by default): beyond it the run cannot
//! be rolled back this way and the tool says so instead of trying.

use crate::extended::EXTENDED_COLUMN;
use chrono::{DateTime, Utc};

use crate::dates::DateRange;
use crate::error::{Error, Result};
use crate::manifest::BigQueryRun;

use super::client::Param;
use super::{BigQueryWarehouse, job_safe};

/// What a rollback restored (or, on a dry run, would restore).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BigQueryRollback {
    pub run_id: String,
    pub rows_in_run: u64,
    pub pre_merge_time_ms: i64,
    pub dry_run: bool,
    pub rows_restored: u64,
    pub job_id: Option<String>,
}

/// Roll back run `run_id` of the run directories under `run_root`.
pub async fn rollback_run(
    w: &BigQueryWarehouse,
    run_root: &std::path::Path,
    run_id: &str,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<BigQueryRollback> {
    let dir = crate::run_dir::RunDir::open(run_root, run_id)?;
    let mut manifest = crate::manifest::Manifest::load(&dir.manifest())?;
    if manifest.warehouse != w.describe() {
        return Err(Error::input(format!(
            "run {run_id} was made against {}, not {}",
            manifest.warehouse,
            w.describe()
        )));
    }
    let record = manifest.bigquery.clone().unwrap_or_default();
    if let Some(job) = &record.rollback_job {
        return Err(Error::input(format!(
            "run {run_id} was already rolled back by BigQuery job {job}"
        )));
    }
    let merged = manifest.merge.as_ref().filter(|_| !manifest.dry_run);
    let Some(merged) = merged.filter(|m| m.rows_written > 0) else {
        return Err(Error::input(format!(
            "run {run_id} wrote nothing (a dry run, or no changes): nothing to roll back"
        )));
    };
    let mut out = BigQueryRollback {
        run_id: run_id.to_string(),
        rows_in_run: merged.rows_written,
        pre_merge_time_ms: record.pre_merge_time_ms.unwrap_or_default(),
        dry_run,
        ..Default::default()
    };
    if dry_run {
        return Ok(out);
    }
    let done = rollback(w, run_id, manifest.range, &record, now).await?;
    out.rows_restored = done.rows_restored;
    out.job_id = done.job_id.clone();
    manifest.bigquery.get_or_insert_default().rollback_job = done.job_id;
    manifest.save(&dir.manifest())?;
    Ok(out)
}

/// The restoring MERGE. The time-travel point is an integer literal (BigQuery does not
/// take a parameter there); it comes from the manifest as an `i64`, never from text.
pub fn rollback_sql(target: &str, before_ms: i64, extended: bool) -> String {
    let (column, set) = if extended {
        (
            format!(", {EXTENDED_COLUMN}"),
            format!(", {EXTENDED_COLUMN} = b.{EXTENDED_COLUMN}"),
        )
    } else {
        Default::default()
    };
    format!(
        "MERGE {target} AS t\n\
         USING (SELECT player_lookup, game_date, historical_completeness, updated_at{column}\n\
         FROM {target} FOR SYSTEM_TIME AS OF TIMESTAMP_MILLIS({before_ms})\n\
         WHERE game_date BETWEEN @start AND @end) AS b\n\
         ON t.player_lookup = b.player_lookup AND t.game_date = b.game_date\n\
         AND t.game_date BETWEEN @start AND @end\n\
         WHEN MATCHED AND t.updated_at = @run_updated_at THEN\n\
         UPDATE SET historical_completeness = b.historical_completeness, updated_at = b.updated_at{set}"
    )
}

/// Restore what run `run_id` (recorded in `record`) wrote over `range`.
pub async fn rollback(
    w: &BigQueryWarehouse,
    run_id: &str,
    range: DateRange,
    record: &BigQueryRun,
    now: DateTime<Utc>,
) -> Result<BigQueryRollback> {
    let (Some(before_ms), Some(updated_at)) = (record.pre_merge_time_ms, record.updated_at) else {
        return Err(Error::input(format!(
            "run {run_id} has no recorded BigQuery MERGE: nothing to roll back"
        )));
    };
    let before = DateTime::<Utc>::from_timestamp_millis(before_ms)
        .ok_or_else(|| Error::input(format!("run {run_id}: bad pre-merge time {before_ms}")))?;
    let age = now - before;
    if age > chrono::Duration::days(w.config.time_travel_days) {
        return Err(Error::input(format!(
            "run {run_id} merged at {before}, {} days ago: beyond BigQuery's time-travel window ({} days, time_travel_days in completeness.toml); restore from a snapshot or backup instead",
            age.num_days(),
            w.config.time_travel_days
        )));
    }
    let table = w
        .client
        .table(&w.tables.features)
        .await?
        .unwrap_or_default();
    let extended = !super::schema::present_columns(&table, &[EXTENDED_COLUMN]).is_empty();
    let sql = rollback_sql(&w.sql_name(&w.tables.features), before_ms, extended);
    let params = [
        Param::date("start", range.start),
        Param::date("end", range.end),
        Param::timestamp("run_updated_at", updated_at),
    ];
    let base = format!(
        "completeness_{}_rollback_{}",
        job_safe(run_id),
        now.timestamp_millis()
    );
    let job = w.client.dml(&base, &sql, &params, "rollback MERGE").await?;
    Ok(BigQueryRollback {
        run_id: run_id.to_string(),
        rows_restored: job.dml_affected_rows().unwrap_or(0).max(0) as u64,
        job_id: Some(job.id),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rollback_restores_two_columns_of_the_runs_rows_only() {
        let sql = rollback_sql("`p.d.t`", 1_700_000_000_000, false);
        assert!(sql.contains("FOR SYSTEM_TIME AS OF TIMESTAMP_MILLIS(1700000000000)"));
        assert!(sql.contains("WHEN MATCHED AND t.updated_at = @run_updated_at"));
        assert!(sql.ends_with(
            "UPDATE SET historical_completeness = b.historical_completeness, updated_at = b.updated_at"
        ));
        let extended = rollback_sql("`p.d.t`", 1, true);
        assert!(extended.contains("updated_at, historical_completeness_ext\n"));
        assert!(extended.ends_with("historical_completeness_ext = b.historical_completeness_ext"));
    }
}
