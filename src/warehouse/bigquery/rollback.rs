//! Rollback on BigQuery: one `MERGE` from `FOR SYSTEM_TIME AS OF` the pre-merge time.
//!
//! The rows the run wrote are those in its date range still carrying its `updated_at`;
//! they get back the struct and `updated_at` they had just before the run's MERGE. A
//! row rewritten since no longer carries the run's `updated_at` and is left alone. Time
//! travel reaches back a limited window (7 days by default): beyond it the run cannot
//! be rolled back this way and the tool says so instead of trying.

use crate::model::extended_column::EXTENDED_COLUMN;
use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::dates::DateRange;
use crate::run::manifest::BigQueryRun;

use super::client::Param;
use super::{BigQueryWarehouse, job_safe};
use crate::hint::COMPLETENESS;

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

impl BigQueryRollback {
    /// The lines `rollback` prints.
    pub fn render(&self) -> String {
        let before = DateTime::<Utc>::from_timestamp_millis(self.pre_merge_time_ms)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        let mut s = format!(
            "run {} wrote {} rows; a rollback gives those still carrying its updated_at back \
             what they held at {before} (FOR SYSTEM_TIME AS OF); rows rewritten since are left \
             alone\n",
            self.run_id,
            crate::model::count::thousands(self.rows_in_run)
        );
        s += &match &self.job_id {
            Some(job) => format!(
                "restored {} rows in BigQuery job {job}\n",
                crate::model::count::thousands(self.rows_restored)
            ),
            None => format!(
                "dry run: would restore up to {} rows; nothing was written. Apply: \
                 `{COMPLETENESS} rollback {}`\n",
                crate::model::count::thousands(self.rows_in_run),
                self.run_id
            ),
        };
        s
    }
}

/// Roll back run `run_id` of the run directories under `run_root`.
pub async fn rollback_run(
    w: &BigQueryWarehouse,
    run_root: &std::path::Path,
    run_id: &str,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<BigQueryRollback> {
    let dir = crate::run::dir::RunDir::open(run_root, run_id)?;
    let mut manifest = crate::run::manifest::Manifest::load(&dir.manifest())?;
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
    let sql = super::statements::rollback(&w.sql_name(&w.tables.features), before_ms, extended);
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
