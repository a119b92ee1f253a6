//! Merge on BigQuery: upload the changed rows, one load job, one `MERGE`.
//!
//! 1. `changes.parquet` (key, new struct, the `updated_at` seen at export) is uploaded
//!    to `<staging_uri>/<run_id>/changes.parquet`.
//! 2. One load job (explicit schema, WRITE_TRUNCATE, list inference) fills a staging
//!    table that expires by itself if the run dies before dropping it; a resumed run
//!    whose staging table expired creates and loads it again.
//! 3. One `MERGE` updates `historical_completeness` and `updated_at` only, on rows
//!    whose `updated_at` is still the exported one (a row rewritten since is a
//!    conflict, left alone), within the run's dates (partition pruning). A MERGE that
//!    meets another writer's concurrent DML is retried; one refused because rows are in
//!    the streaming buffer stops the run, resumable, saying when to retry.
//! 4. The staging table and file are removed.
//!
//! Job ids derive from the run id plus an attempt number: a resumed run finds a MERGE
//! that already ran, and resubmits one that failed.

use chrono::{DateTime, Utc};
use object_store::ObjectStoreExt;
use serde_json::json;

use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::io::storage::store_error;
use crate::model::dates::DateRange;
use crate::model::extended_column::EXTENDED_COLUMN;
use crate::run::manifest::BigQueryRun;
use crate::warehouse::MergeMetrics;

use super::client::{Job, Param};
use super::{BigQueryWarehouse, job_safe, schema};

const MAX_CONFLICT_KEYS: i64 = 100;

/// Apply the changes in `changes_file` (rows: `num_changes`) to the feature table.
pub async fn merge(
    w: &BigQueryWarehouse,
    changes_file: &std::path::Path,
    num_changes: u64,
    range: DateRange,
    run_id: &str,
    now: DateTime<Utc>,
    record: &mut BigQueryRun,
) -> Result<MergeMetrics> {
    let mut metrics = MergeMetrics {
        num_changes,
        ..Default::default()
    };
    if num_changes == 0 {
        return Ok(metrics);
    }
    let staging = w.staging_table(run_id);
    let extended = writes_extended(changes_file)?;
    stage(
        w,
        changes_file,
        num_changes,
        run_id,
        (now, extended),
        record,
    )
    .await?;
    let job = run_merge(w, &staging, range, (run_id, extended), now, record).await?;
    apply_job_stats(&job, &mut metrics, record);
    // The MERGE is committed: what follows only reports and tidies, and must not turn
    // the written run into a failed one. Conflicts are listed only when there are some
    // (a query job of its own).
    if metrics.num_conflicts > 0 {
        match conflict_keys(w, &staging, range, run_id, now).await {
            Ok(keys) => metrics.conflict_keys = keys,
            Err(e) => tracing::warn!("after the MERGE, listing its conflicts failed: {e}"),
        }
    }
    if let Err(e) = w.client.delete_table(&staging).await {
        tracing::warn!("after the MERGE, dropping {staging} failed (it expires by itself): {e}");
    }
    // The file is only an input of the load; a failure to delete it is not worth a failed run.
    let object = w.staging.child(run_id).child("changes.parquet");
    let _ = object.store.delete(&object.prefix).await;
    Ok(metrics)
}

/// The changes in the run's staging table: uploaded and loaded, unless a load of this
/// run already filled a table that still exists.
async fn stage(
    w: &BigQueryWarehouse,
    changes_file: &std::path::Path,
    num_changes: u64,
    run_id: &str,
    (now, extended): (DateTime<Utc>, bool),
    record: &mut BigQueryRun,
) -> Result<()> {
    let staging = w.staging_table(run_id);
    let load_base = format!("completeness_{}_load", job_safe(run_id));
    let what = "load of the changed rows";
    let present = w.client.table(&staging).await?.is_some();
    if present && w.client.find_done(&load_base, what).await?.is_some() {
        return Ok(());
    }
    let object = w.staging.child(run_id).child("changes.parquet");
    let bytes = std::fs::read(changes_file).map_err(Error::io("reading changes", changes_file))?;
    object
        .store
        .put(&object.prefix, bytes.into())
        .await
        .map_err(store_error(format!("uploading {}", object.url())))?;
    w.client.ensure_dataset(&w.config.staging_dataset).await?;
    let fields = schema::fields_of(&crate::model::changes::changes_schema_for(extended))?;
    let expires = now.timestamp_millis() + w.config.staging_expiration_hours * 3_600_000;
    w.client
        .create_table(&staging, fields.clone(), Some(expires))
        .await?;
    let config = load_config(w, &staging, &object.url(), fields);
    let load = w.client.run_fresh(&load_base, config, what).await?;
    record.jobs.push(load.id.clone());
    match load.output_rows() {
        Some(loaded) if loaded as u64 != num_changes => Err(Error::Remote {
            context: format!("BigQuery job {} ({what})", load.id),
            message: format!("loaded {loaded} rows, expected {num_changes}; nothing was merged"),
        }),
        _ => Ok(()),
    }
}

/// A load job replacing `table`'s rows with the Parquet at `uri` (explicit schema).
pub fn load_config(
    w: &BigQueryWarehouse,
    staging: &crate::model::identifiers::TableRef,
    uri: &str,
    fields: serde_json::Value,
) -> serde_json::Value {
    let project = staging.project.as_deref().unwrap_or(&w.config.project);
    json!({"load": {
        "sourceUris": [uri],
        "sourceFormat": "PARQUET",
        "destinationTable": {
            "projectId": project,
            "datasetId": staging.parts[0],
            "tableId": staging.parts[1],
        },
        "schema": {"fields": fields},
        "writeDisposition": "WRITE_TRUNCATE",
        "createDisposition": "CREATE_IF_NEEDED",
        "parquetOptions": {"enableListInference": true},
    }})
}

/// Whether the changes carry `historical_completeness_ext` (an extended run).
fn writes_extended(changes_file: &std::path::Path) -> Result<bool> {
    let file =
        std::fs::File::open(changes_file).map_err(Error::io("reading changes", changes_file))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::CorruptParquet {
            path: changes_file.display().to_string(),
            reason: e.to_string(),
        })?;
    Ok(reader.schema().field_with_name(EXTENDED_COLUMN).is_ok())
}

async fn run_merge(
    w: &BigQueryWarehouse,
    staging: &crate::model::identifiers::TableRef,
    range: DateRange,
    (run_id, extended): (&str, bool),
    now: DateTime<Utc>,
    record: &mut BigQueryRun,
) -> Result<Job> {
    let target = w.sql_name(&w.tables.features);
    let sql = super::statements::merge(&target, &w.sql_name(staging), extended);
    let params = merge_params(range, now);
    let what = "MERGE into the feature table";
    match w.client.dml(&merge_base(run_id), &sql, &params, what).await {
        Ok(job) => {
            record.jobs.push(job.id.clone());
            Ok(job)
        }
        Err(e) => Err(streaming_buffer(w, e, run_id, "the staging table")),
    }
}

/// A MERGE refused because rows of the run's dates are in the streaming buffer: the
/// run stops, resumable, saying when; `kept` (the staging table, the plan) waits until
/// it expires. Any other error is returned as it is.
pub fn streaming_buffer(w: &BigQueryWarehouse, e: Error, run_id: &str, kept: &str) -> Error {
    if !super::client::is_streaming_buffer(&e) {
        return e;
    }
    Error::Remote {
        context: format!("BigQuery refused the MERGE into {}", w.tables.features),
        message: format!(
            "rows of the run's dates are still in the table's streaming buffer (a writer used \
             insertAll in the last ~90 minutes), and BigQuery allows no UPDATE or MERGE on them \
             until it flushes. Nothing was changed; {kept} is kept for {} h. Retry in about 90 \
             minutes: `{COMPLETENESS} backfill --resume {run_id}`\n  ({e})",
            w.config.staging_expiration_hours
        ),
    }
}

/// `@start`, `@end` and `@updated_at` of the MERGE.
pub fn merge_params(range: DateRange, now: DateTime<Utc>) -> [Param; 3] {
    [
        Param::date("start", range.start),
        Param::date("end", range.end),
        Param::timestamp("updated_at", now),
    ]
}

/// The attempt series of a run's MERGE (`…_merge`, `…_merge_2`, …).
pub(super) fn merge_base(run_id: &str) -> String {
    format!("completeness_{}_merge", job_safe(run_id))
}

/// A MERGE of this run that already succeeded (found by its job ids), if any.
pub async fn find_merge(w: &BigQueryWarehouse, run_id: &str) -> Result<Option<Job>> {
    w.client.find_done(&merge_base(run_id), "MERGE").await
}

/// Rows written, the pre-merge time and the `updated_at` written, from a MERGE job.
pub fn apply_job_stats(job: &Job, metrics: &mut MergeMetrics, record: &mut BigQueryRun) {
    let written = job.dml_affected_rows().unwrap_or(0).max(0) as u64;
    metrics.num_rows_written = written;
    metrics.job_id = Some(job.id.clone());
    metrics.num_conflicts = metrics.num_changes.saturating_sub(written);
    record.pre_merge_time_ms = job.start_time_ms();
    record.updated_at = job.resource["configuration"]["query"]["queryParameters"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "updated_at")
        .and_then(|p| p["parameterValue"]["value"].as_str())
        .and_then(parse_timestamp);
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Keys of staged rows the MERGE left alone (rewritten or deleted since the export).
async fn conflict_keys(
    w: &BigQueryWarehouse,
    staging: &crate::model::identifiers::TableRef,
    range: DateRange,
    run_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(String, chrono::NaiveDate)>> {
    let sql = super::statements::conflicts(&w.sql_name(staging), &w.sql_name(&w.tables.features));
    let [start, end, updated_at] = merge_params(range, now);
    let params = [
        start,
        end,
        updated_at,
        Param::int("limit", MAX_CONFLICT_KEYS),
    ];
    let base = format!("completeness_{}_conflicts", job_safe(run_id));
    let job = w
        .client
        .query_once(&base, &sql, &params, "listing conflicts")
        .await?;
    crate::io::columns::record_keys(&[w.client.rows(&job).await?.to_batch()?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_give_rows_written_conflicts_and_the_rollback_point() {
        let job = Job {
            id: "j".into(),
            resource: json!({
                "statistics": {"startTime": "1700000000123", "query": {"numDmlAffectedRows": "8"}},
                "configuration": {"query": {"queryParameters": [
                    {"name": "updated_at", "parameterValue": {"value": "2026-11-27 12:00:00.000000+00:00"}}
                ]}}
            }),
        };
        let mut m = MergeMetrics {
            num_changes: 10,
            ..Default::default()
        };
        let mut r = BigQueryRun::default();
        apply_job_stats(&job, &mut m, &mut r);
        assert_eq!((m.num_rows_written, m.num_conflicts), (8, 2));
        assert_eq!(r.pre_merge_time_ms, Some(1_700_000_000_123));
        assert_eq!(
            r.updated_at.unwrap().to_rfc3339(),
            "2026-11-27T12:00:00+00:00"
        );
    }
}
