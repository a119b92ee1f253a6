//! Merge on BigQuery: upload the changed rows, one load job, one `MERGE`.
//!
//! 1. `changes.parquet` (key, new struct, the `updated_at` seen at export) is uploaded
//!    to `<staging_uri>/<run_id>/changes.parquet`.
//! 2. One load job (explicit schema, WRITE_TRUNCATE, list inference) fills a staging
//!    table that expires by itself if the run dies before dropping it.
//! 3. One `MERGE` updates `historical_completeness` and `updated_at` only, on rows
//!    whose `updated_at` is still the exported one (a row rewritten since is a
//!    conflict, left alone), within the run's dates (partition pruning).
//! 4. The staging table and file are removed.
//!
//! Job ids derive from the run id: a resumed run finds a MERGE that already ran.

use chrono::{DateTime, Utc};
use object_store::ObjectStoreExt;
use serde_json::json;

use crate::dates::DateRange;
use crate::error::{Error, Result};
use crate::extended::EXTENDED_COLUMN;
use crate::manifest::BigQueryRun;
use crate::merge::MergeMetrics;
use crate::storage::store_error;

use super::client::{Job, Param};
use super::{BigQueryWarehouse, job_safe, schema};

/// MERGE attempts (a new job id each) on a transient job failure.
const MERGE_ATTEMPTS: usize = 3;
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
    let object = w.staging.child(run_id).child("changes.parquet");
    let bytes = std::fs::read(changes_file).map_err(Error::io("reading changes", changes_file))?;
    object
        .store
        .put(&object.prefix, bytes.into())
        .await
        .map_err(store_error(format!("uploading {}", object.url())))?;

    w.client.ensure_dataset(&w.config.staging_dataset).await?;
    let extended = writes_extended(changes_file)?;
    let fields = schema::fields_of(&crate::diff::changes_schema_for(extended))?;
    let expires = now.timestamp_millis() + w.config.staging_expiration_hours * 3_600_000;
    w.client
        .create_table(&staging, fields.clone(), Some(expires))
        .await?;
    let load_id = format!("completeness_{}_load", job_safe(run_id));
    record.jobs.push(load_id.clone());
    let load = w
        .client
        .run_job(
            &load_id,
            load_config(w, &staging, &object.url(), fields),
            "load of the changed rows",
        )
        .await?;
    if let Some(loaded) = load.output_rows().filter(|n| *n as u64 != num_changes) {
        return Err(Error::Remote {
            context: format!("BigQuery job {load_id} (load of the changed rows)"),
            message: format!("loaded {loaded} rows, expected {num_changes}; nothing was merged"),
        });
    }

    let job = run_merge(w, &staging, range, (run_id, extended), now, record).await?;
    apply_job_stats(&job, &mut metrics, record);
    metrics.conflict_keys = conflict_keys(w, &staging, range, run_id, now).await?;

    w.client.delete_table(&staging).await?;
    // The file is only an input of the load; a failure to delete it is not worth a failed run.
    let _ = object.store.delete(&object.prefix).await;
    Ok(metrics)
}

/// A load job replacing `table`'s rows with the Parquet at `uri` (explicit schema).
pub fn load_config(
    w: &BigQueryWarehouse,
    staging: &crate::identifiers::TableRef,
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

/// The `MERGE`: guarded by `updated_at`, within the run's dates, the struct and
/// `updated_at` only (and the extended struct in an extended run).
pub fn merge_sql(target: &str, staging: &str, extended: bool) -> String {
    let ext = if extended {
        format!(", {EXTENDED_COLUMN} = s.{EXTENDED_COLUMN}")
    } else {
        String::new()
    };
    format!(
        "MERGE {target} AS t\n\
         USING {staging} AS s\n\
         ON t.player_lookup = s.player_lookup AND t.game_date = s.game_date\n\
         AND t.game_date BETWEEN @start AND @end\n\
         WHEN MATCHED AND (t.updated_at = s.exported_updated_at\n\
         OR (t.updated_at IS NULL AND s.exported_updated_at IS NULL)) THEN\n\
         UPDATE SET historical_completeness = s.historical_completeness, updated_at = @updated_at{ext}"
    )
}

async fn run_merge(
    w: &BigQueryWarehouse,
    staging: &crate::identifiers::TableRef,
    range: DateRange,
    (run_id, extended): (&str, bool),
    now: DateTime<Utc>,
    record: &mut BigQueryRun,
) -> Result<Job> {
    let sql = merge_sql(
        &w.sql_name(&w.tables.features),
        &w.sql_name(staging),
        extended,
    );
    let params = [
        Param::date("start", range.start),
        Param::date("end", range.end),
        Param::timestamp("updated_at", now),
    ];
    let mut last = None;
    for attempt in 1..=MERGE_ATTEMPTS {
        let id = merge_job_id(run_id, attempt);
        record.jobs.push(id.clone());
        match w
            .client
            .query(&id, &sql, &params, "MERGE into the feature table")
            .await
        {
            Ok(job) => return Ok(job),
            Err(e) if is_transient_job_error(&e) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("at least one attempt"))
}

fn merge_job_id(run_id: &str, attempt: usize) -> String {
    match attempt {
        1 => format!("completeness_{}_merge", job_safe(run_id)),
        n => format!("completeness_{}_merge_{n}", job_safe(run_id)),
    }
}

fn is_transient_job_error(e: &Error) -> bool {
    let text = e.to_string();
    ["backendError", "rateLimitExceeded", "internalError"]
        .iter()
        .any(|r| text.contains(r))
}

/// A MERGE of this run that already succeeded (found by its job id), if any.
pub async fn find_merge(w: &BigQueryWarehouse, run_id: &str) -> Result<Option<Job>> {
    for attempt in 1..=MERGE_ATTEMPTS {
        let Some(job) = w.client.job(&merge_job_id(run_id, attempt)).await? else {
            return Ok(None);
        };
        let state = &job.resource["status"];
        if state["state"] == "DONE" && !state["errorResult"].is_object() {
            return Ok(Some(job));
        }
    }
    Ok(None)
}

/// Rows written, the pre-merge time and the `updated_at` written, from a MERGE job.
pub fn apply_job_stats(job: &Job, metrics: &mut MergeMetrics, record: &mut BigQueryRun) {
    let written = job.dml_affected_rows().unwrap_or(0).max(0) as u64;
    metrics.num_rows_written = written;
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
    staging: &crate::identifiers::TableRef,
    range: DateRange,
    run_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(String, chrono::NaiveDate)>> {
    let sql = format!(
        "SELECT s.player_lookup, s.game_date FROM {} AS s\n\
         LEFT JOIN {} AS t\n\
         ON t.player_lookup = s.player_lookup AND t.game_date = s.game_date\n\
         AND t.game_date BETWEEN @start AND @end\n\
         WHERE t.updated_at IS NULL OR t.updated_at != @updated_at\n\
         ORDER BY s.game_date, s.player_lookup LIMIT @limit",
        w.sql_name(staging),
        w.sql_name(&w.tables.features)
    );
    let params = [
        Param::date("start", range.start),
        Param::date("end", range.end),
        Param::timestamp("updated_at", now),
        Param::int("limit", MAX_CONFLICT_KEYS),
    ];
    let id = format!("completeness_{}_conflicts", job_safe(run_id));
    let job = w
        .client
        .query(&id, &sql, &params, "listing conflicts")
        .await?;
    let rows = [w.client.rows(&job).await?.to_batch()?];
    let players = crate::columns::strings(&rows, "player_lookup")?;
    let dates = crate::columns::dates(&rows, "game_date")?;
    Ok(players
        .into_iter()
        .zip(dates)
        .filter_map(|(p, d)| Some((p?, d?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merge_touches_two_columns_and_is_guarded() {
        let sql = merge_sql("`p.d.t`", "`p.s.c`", false);
        let set = sql.split("UPDATE SET").nth(1).unwrap();
        assert_eq!(
            set.trim(),
            "historical_completeness = s.historical_completeness, updated_at = @updated_at"
        );
        assert!(sql.contains("t.updated_at = s.exported_updated_at"));
        assert!(sql.contains("t.game_date BETWEEN @start AND @end"));
        let extended = merge_sql("`p.d.t`", "`p.s.c`", true);
        assert!(extended.ends_with(
            "updated_at = @updated_at, historical_completeness_ext = s.historical_completeness_ext"
        ));
    }

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
