//! `merge`: write the changed rows back in one Delta commit.
//!
//! 1. Read `changes.parquet` (key, new struct, the `updated_at` seen at export).
//! 2. Look the keys up in the latest table version: a row whose `updated_at` differs
//!    from the exported one (or that is gone) was rewritten by someone else after the
//!    export; it is a conflict and is left alone.
//! 3. One Delta MERGE of the remaining rows, matched on the key within the run's date
//!    range (which prunes partitions), updating `historical_completeness` and
//!    `updated_at` only (and `historical_completeness_ext` in an extended run, after a
//!    schema change adding it if the table has none), and only where `updated_at` is
//!    still the exported one: a write that lands between step 2 and the commit is not
//!    overwritten either.
//! 4. The commit info carries the run id, so a resumed run can tell it already merged.
//!
//! Nothing to write means no commit.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::prelude::{SessionContext, lit};
use datafusion::scalar::ScalarValue;
use deltalake::kernel::transaction::CommitProperties;
use serde::Serialize;

use crate::dates::DateRange;
use crate::diff::EXPORTED_UPDATED_AT;
use crate::error::{Error, Result};
use crate::extended::EXTENDED_COLUMN;
use crate::model::{
    FEATURES_TABLE, GAME_DATE, HISTORICAL_COMPLETENESS, PLAYER_LOOKUP, UPDATED_AT, days_to_date,
};
use crate::warehouse::LocalWarehouse;

/// Commit-info key holding the run id.
pub const RUN_ID_KEY: &str = "completeness_run_id";
const MAX_CONFLICT_KEYS: usize = 100;

/// What a merge did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct MergeMetrics {
    /// Rows in changes.parquet.
    pub num_changes: u64,
    /// Rows updated in the table.
    pub num_rows_written: u64,
    /// Rows left alone because someone rewrote them after the export.
    pub num_conflicts: u64,
    /// First keys of the conflicting rows.
    pub conflict_keys: Vec<(String, NaiveDate)>,
    /// The table version the merge read.
    pub read_version: u64,
    /// The version committed; `None` when nothing was written.
    pub table_version: Option<u64>,
    pub merge_time_ms: u64,
    /// Milliseconds per step: `conflict_check`, `source`, `delta_merge`,
    /// `invariant_check`.
    pub steps_ms: BTreeMap<String, u64>,
}

/// Times consecutive steps.
struct Lap(std::time::Instant);

impl Lap {
    /// Record the time since the last step as `step`.
    fn record(&mut self, metrics: &mut MergeMetrics, step: &str) {
        let ms = self.0.elapsed().as_millis() as u64;
        metrics.steps_ms.insert(step.to_string(), ms);
        self.0 = std::time::Instant::now();
    }
}

/// Merge `changes` into the feature table of `warehouse`.
pub async fn merge(
    warehouse: &LocalWarehouse,
    changes: Vec<RecordBatch>,
    range: DateRange,
    run_id: &str,
    now: DateTime<Utc>,
) -> Result<MergeMetrics> {
    let clock = std::time::Instant::now();
    let extended = changes
        .first()
        .is_some_and(|b| b.schema().field_with_name(EXTENDED_COLUMN).is_ok());
    let mut table = warehouse.open_table(FEATURES_TABLE).await?;
    if extended {
        table = crate::extended::add_column(table).await?;
    }
    let mut metrics = MergeMetrics {
        num_changes: changes.iter().map(|b| b.num_rows() as u64).sum(),
        read_version: table.version().unwrap_or(0),
        ..Default::default()
    };
    if metrics.num_changes == 0 {
        return Ok(metrics);
    }
    let ctx = crate::engine::session();
    warehouse.register(&ctx, "target", &table).await?;
    let changes_df = ctx
        .read_batches(changes)
        .map_err(Error::datafusion("reading changes"))?;
    ctx.register_table("changes", changes_df.into_view())
        .map_err(Error::datafusion("reading changes"))?;

    let mut lap = Lap(std::time::Instant::now());
    let conflicts = find_conflicts(&ctx, range).await?;
    lap.record(&mut metrics, "conflict_check");
    metrics.num_conflicts = conflicts.len() as u64;
    metrics.conflict_keys = conflicts.iter().take(MAX_CONFLICT_KEYS).cloned().collect();
    let expected = metrics.num_changes - metrics.num_conflicts;
    if expected == 0 {
        return Ok(metrics);
    }
    let source = clean_source(&ctx, range, now).await?;
    lap.record(&mut metrics, "source");
    let predicate = format!(
        "target.{PLAYER_LOOKUP} = source.{PLAYER_LOOKUP} AND target.{GAME_DATE} = source.{GAME_DATE} \
         AND target.{GAME_DATE} >= '{}' AND target.{GAME_DATE} <= '{}'",
        range.start, range.end
    );
    let commit = CommitProperties::default().with_metadata([(
        RUN_ID_KEY.to_string(),
        serde_json::Value::String(run_id.to_string()),
    )]);
    let merge_builder = table
        .merge(source, predicate)
        .with_source_alias("source")
        .with_target_alias("target")
        .with_writer_properties(crate::engine::table_writer_properties())
        .with_commit_properties(commit)
        .when_matched_update(|u| {
            let u = u
                .predicate(format!(
                    "target.{UPDATED_AT} IS NOT DISTINCT FROM source.{EXPORTED_UPDATED_AT}"
                ))
                .update(
                    HISTORICAL_COMPLETENESS,
                    format!("source.{HISTORICAL_COMPLETENESS}"),
                )
                .update(UPDATED_AT, "source.new_updated_at");
            let u = if extended {
                u.update(EXTENDED_COLUMN, format!("source.{EXTENDED_COLUMN}"))
            } else {
                u
            };
            if crate::failpoint::injected("merge:touch-data-hash") {
                u.update("data_hash", "'0000000000000000'")
            } else {
                u
            }
        })
        .map_err(Error::delta("planning the merge"))?;
    crate::failpoint::hit("merge:before-commit").await;
    let (table, delta_metrics) = merge_builder.await.map_err(|e| commit_error(e, run_id))?;
    lap.record(&mut metrics, "delta_merge");
    if delta_metrics.num_target_rows_inserted != 0 || delta_metrics.num_target_rows_deleted != 0 {
        return Err(Error::input(format!(
            "merge invariant violated: {} rows inserted, {} deleted (expected none)",
            delta_metrics.num_target_rows_inserted, delta_metrics.num_target_rows_deleted
        )));
    }
    metrics.num_rows_written = delta_metrics.num_target_rows_updated as u64;
    metrics.table_version = table.version();
    if let Some(version) = metrics.table_version {
        let check = crate::merge_invariants::Expected {
            version,
            rows_to_write: expected,
            rows_written: metrics.num_rows_written,
        };
        let problem = crate::merge_invariants::verify(warehouse, &check).await?;
        lap.record(&mut metrics, "invariant_check");
        if let Some(problem) = problem {
            return Err(crate::merge_invariants::undo(warehouse, run_id, version, &problem).await);
        }
    }
    // Rows rewritten between the conflict check and the commit.
    metrics.num_conflicts += expected - metrics.num_rows_written;
    metrics.merge_time_ms = clock.elapsed().as_millis() as u64;
    Ok(metrics)
}

/// A lost commit race gets a message that says what happened and what to do.
fn commit_error(e: deltalake::DeltaTableError, run_id: &str) -> Error {
    use deltalake::kernel::transaction::TransactionError as T;
    let lost_race = matches!(
        &e,
        deltalake::DeltaTableError::Transaction {
            source: T::CommitConflict(_) | T::VersionAlreadyExists(_) | T::MaxCommitAttempts(_)
        }
    );
    let context = if lost_race {
        format!(
            "another writer committed to the feature table during this run's MERGE (a concurrent \
             transaction conflict); nothing of run {run_id} was committed. Run \
             `completeness backfill --resume {run_id}`: it rechecks every row and leaves the \
             other writer's rows alone"
        )
    } else {
        "merging into the feature table".to_string()
    };
    Error::delta(context)(e)
}

/// Keys of changes whose target row is gone or has another `updated_at` than exported.
async fn find_conflicts(
    ctx: &SessionContext,
    range: DateRange,
) -> Result<Vec<(String, NaiveDate)>> {
    let sql = format!(
        "SELECT c.{PLAYER_LOOKUP}, c.{GAME_DATE} FROM changes c \
         LEFT JOIN (SELECT {PLAYER_LOOKUP}, {GAME_DATE}, {UPDATED_AT} FROM target \
                    WHERE {GAME_DATE} BETWEEN DATE '{}' AND DATE '{}') t \
           ON t.{PLAYER_LOOKUP} = c.{PLAYER_LOOKUP} AND t.{GAME_DATE} = c.{GAME_DATE} \
         WHERE t.{PLAYER_LOOKUP} IS NULL OR t.{UPDATED_AT} IS DISTINCT FROM c.{EXPORTED_UPDATED_AT} \
         ORDER BY c.{GAME_DATE}, c.{PLAYER_LOOKUP}",
        range.start, range.end
    );
    let batches = ctx
        .sql(&sql)
        .await
        .map_err(Error::datafusion("checking for concurrent writes"))?
        .collect()
        .await
        .map_err(Error::datafusion("checking for concurrent writes"))?;
    let mut keys = Vec::new();
    for b in &batches {
        let players = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)
            .map_err(Error::arrow("reading conflict keys"))?;
        let players = players.as_string::<i32>();
        let dates = b.column(1).as_primitive::<arrow::datatypes::Date32Type>();
        for i in 0..b.num_rows() {
            if !players.is_null(i) {
                keys.push((players.value(i).to_string(), days_to_date(dates.value(i))));
            }
        }
    }
    Ok(keys)
}

/// The merge source: changes without conflicts, with the new `updated_at`.
async fn clean_source(
    ctx: &SessionContext,
    range: DateRange,
    now: DateTime<Utc>,
) -> Result<datafusion::prelude::DataFrame> {
    let sql = format!(
        "SELECT c.* FROM changes c \
         JOIN (SELECT {PLAYER_LOOKUP}, {GAME_DATE}, {UPDATED_AT} FROM target \
               WHERE {GAME_DATE} BETWEEN DATE '{}' AND DATE '{}') t \
           ON t.{PLAYER_LOOKUP} = c.{PLAYER_LOOKUP} AND t.{GAME_DATE} = c.{GAME_DATE} \
         WHERE t.{UPDATED_AT} IS NOT DISTINCT FROM c.{EXPORTED_UPDATED_AT}",
        range.start, range.end
    );
    let micros = now.timestamp_micros();
    let stamp = lit(ScalarValue::TimestampMicrosecond(
        Some(micros),
        Some(Arc::from("UTC")),
    ));
    let df = ctx
        .sql(&sql)
        .await
        .map_err(Error::datafusion("building the merge source"))?;
    let batches = df
        .with_column("new_updated_at", stamp)
        .map_err(Error::datafusion("building the merge source"))?
        .collect()
        .await
        .map_err(Error::datafusion("building the merge source"))?;
    ctx.read_batches(batches)
        .map_err(Error::datafusion("building the merge source"))
}
