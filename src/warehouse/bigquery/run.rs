//! A run's steps on BigQuery: what [`crate::warehouse::Warehouse`] dispatches to when
//! the tables are in BigQuery.
//!
//! The run's side of BigQuery (export URIs, job ids, times) lives in the manifest's
//! [`BigQueryRun`] record. It is copied out and put back around each call, never taken:
//! a manifest saved meanwhile, and a resumed run, keep the exports it names.

use arrow::array::RecordBatch;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::io::storage::Location;
use crate::queries::Query;
use crate::run::dir::RunDir;
use crate::run::manifest::{BigQueryRun, Manifest, MergeRecord};
use crate::warehouse::ExportMetrics;
use crate::warehouse::MergeMetrics;

use super::BigQueryWarehouse;
use super::plan::ExportPlan;

/// Export the run's range to the bucket; the manifest records the URIs and jobs.
pub async fn export(w: &BigQueryWarehouse, m: &mut Manifest) -> Result<ExportMetrics> {
    let plan = ExportPlan::new(w, m.range, &m.run_id, m.extended).await?;
    let mut record = m.bigquery.clone().unwrap_or_default();
    let x = super::export::export(w, &plan, &mut record).await;
    m.bigquery = Some(record);
    x
}

/// What an export pinned, for the progress line.
pub fn pinned(m: &Manifest) -> String {
    let uri = m.bigquery.as_ref().map_or("", |b| b.features_uri.as_str());
    format!("to {}", uri.trim_end_matches("/features"))
}

/// The exported features and games in the bucket.
pub fn exported(w: &BigQueryWarehouse, m: &Manifest) -> Result<Option<(Location, Location)>> {
    let Some(b) = &m.bigquery else {
        return Ok(None);
    };
    Ok(Some((
        w.stores.locate(&b.features_uri)?,
        w.stores.locate(&b.games_uri)?,
    )))
}

/// The run's MERGE job, when it succeeded before: its statistics go into the manifest.
pub async fn applied_merge(w: &BigQueryWarehouse, m: &mut Manifest) -> Result<Option<String>> {
    let Some(job) = super::merge::find_merge(w, &m.run_id).await? else {
        return Ok(None);
    };
    let mut record = m.bigquery.clone().unwrap_or_default();
    let mut x = MergeMetrics {
        num_changes: m.rows.get("changes").copied().unwrap_or(0),
        ..Default::default()
    };
    super::merge::apply_job_stats(&job, &mut x, &mut record);
    m.bigquery = Some(record);
    m.merge = Some(MergeRecord {
        rows_written: x.num_rows_written,
        conflicts: x.num_conflicts,
        ..Default::default()
    });
    Ok(Some(format!("by BigQuery job {}", job.id)))
}

/// Load the changes and apply them in one MERGE; the manifest gets the jobs and the
/// merge record, and is saved as soon as the MERGE is known to have run.
pub async fn merge(
    w: &BigQueryWarehouse,
    m: &mut Manifest,
    dir: &RunDir,
    now: DateTime<Utc>,
) -> Result<MergeMetrics> {
    let num_changes = m.rows.get("changes").copied().unwrap_or(0);
    let mut record: BigQueryRun = m.bigquery.clone().unwrap_or_default();
    let x = super::merge::merge(
        w,
        &dir.changes(),
        num_changes,
        m.range,
        &m.run_id,
        now,
        &mut record,
    )
    .await;
    m.bigquery = Some(record);
    let x = x?;
    m.merge = Some(MergeRecord {
        rows_written: x.num_rows_written,
        conflicts: x.num_conflicts,
        conflict_keys: x.conflict_keys.clone(),
        ..Default::default()
    });
    m.save(&dir.manifest()).map_err(|e| m.after_commit(e))?;
    Ok(x)
}

/// The job that rolled the run back, if one did (BigQuery keeps no record of it in
/// the table; the manifest does).
pub fn rolled_back_in(m: &Manifest) -> Option<String> {
    let job = m.bigquery.as_ref()?.rollback_job.as_ref()?;
    Some(format!("BigQuery job {job}"))
}

/// The schedule's team games around the run (none without a schedule table).
pub async fn team_games(w: &BigQueryWarehouse, m: &Manifest) -> Result<Vec<RecordBatch>> {
    if w.client.table(&w.tables.schedule).await?.is_none() {
        return Ok(Vec::new());
    }
    let params = crate::warehouse::exported::team_games_params(m.range);
    super::checks::run(w, Query::TeamGames, &params).await
}

/// Delete the run's exported files from the bucket.
pub async fn drop_exports(w: &BigQueryWarehouse, m: &Manifest) -> Result<()> {
    match &m.bigquery {
        Some(b) => super::export::delete_exports(w, b).await,
        None => Ok(()),
    }
}
