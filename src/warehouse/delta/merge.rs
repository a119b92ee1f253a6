//! `merge`: write the changed rows back in one verified Delta commit.
//!
//! 1. Read `changes.parquet` (key, new struct, the `updated_at` seen at export).
//! 2. Rewrite the data files of the run's changed game dates
//!    ([`crate::warehouse::delta::rewrite`]): a change applies where every row of its key
//!    still carries the exported `updated_at` (a row rewritten or duplicated by someone
//!    else since the export is a conflict, left alone); `historical_completeness` and
//!    `updated_at` (set to the time of the merge) are replaced, and
//!    `historical_completeness_ext` in an extended run (after a schema change adding it
//!    if the table has none); nothing else.
//! 3. The new files are verified against the files they replace before anything enters
//!    the table, then committed as one transaction carrying the run id in its commit
//!    info and as an application transaction, by which a resumed run knows it merged.
//!
//! Nothing to write means no commit.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, TimestampMicrosecondArray};
use arrow::datatypes::{Field, Schema};
use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::changes::{EXPORTED_UPDATED_AT, changes_schema};
use crate::model::extended_column::EXTENDED_COLUMN;
use crate::model::{FEATURES_TABLE, UPDATED_AT};
use crate::warehouse::delta::log::merge_app_id;
use crate::warehouse::delta::rewrite::{GUARD, Tag, Updates, rewrite};
use crate::warehouse::{LocalWarehouse, MergeMetrics};

pub use crate::warehouse::delta::log::RUN_ID_KEY;

/// Merge `changes` into the feature table of `warehouse` as run `run_id`, stamping
/// `updated_at` with `now`; the new files are staged under `staging` first.
pub async fn merge(
    warehouse: &LocalWarehouse,
    changes: Vec<RecordBatch>,
    run_id: &str,
    now: DateTime<Utc>,
    staging: &Path,
) -> Result<MergeMetrics> {
    let clock = std::time::Instant::now();
    let extended = changes
        .first()
        .is_some_and(|b| b.schema().field_with_name(EXTENDED_COLUMN).is_ok());
    let mut table = warehouse.open_table(FEATURES_TABLE).await?;
    if extended {
        table = super::schema_change::add_column(table).await?;
    }
    let updates = Updates {
        batch: updates(changes, now)?,
        guarded: true,
    };
    let tag = Tag {
        key: RUN_ID_KEY,
        run_id: run_id.to_string(),
        app_id: merge_app_id(run_id),
    };
    let x = rewrite(&table, &updates, &tag, staging).await?;
    Ok(MergeMetrics {
        num_changes: x.num_updates,
        num_rows_written: x.num_rows_written,
        num_conflicts: x.num_conflicts,
        conflict_keys: x.conflict_keys,
        read_version: x.read_version,
        table_version: x.table_version,
        job_id: None,
        merge_time_ms: clock.elapsed().as_millis() as u64,
        steps_ms: x.steps_ms,
    })
}

/// What merging `changes` into `table` would write, refused where the merge would
/// refuse (a broken table rule above all), writing nothing. An extended column the
/// table does not have yet is left out (the merge adds it empty first).
pub async fn preview(
    table: &deltalake::DeltaTable,
    changes: Vec<RecordBatch>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut batch = updates(changes, now)?;
    let has_extended = table
        .snapshot()
        .map_err(Error::delta("reading the feature table's schema"))?
        .snapshot()
        .arrow_schema()
        .field_with_name(EXTENDED_COLUMN)
        .is_ok();
    if !has_extended && let Ok(i) = batch.schema().index_of(EXTENDED_COLUMN) {
        batch.remove_column(i);
    }
    let updates = Updates {
        batch,
        guarded: true,
    };
    crate::warehouse::delta::rewrite::preview(table, &updates).await?;
    Ok(())
}

/// The changes as rewrite updates: the new `updated_at` is `now`, the guard the
/// exported one.
fn updates(changes: Vec<RecordBatch>, now: DateTime<Utc>) -> Result<RecordBatch> {
    let Some(first) = changes.first() else {
        let schema = changes_schema();
        return with_stamps(RecordBatch::new_empty(schema), now);
    };
    let batch = arrow::compute::concat_batches(&first.schema(), &changes)
        .map_err(Error::arrow("reading changes"))?;
    with_stamps(batch, now)
}

fn with_stamps(batch: RecordBatch, now: DateTime<Utc>) -> Result<RecordBatch> {
    let stamp: ArrayRef = Arc::new(
        TimestampMicrosecondArray::from(vec![now.timestamp_micros(); batch.num_rows()])
            .with_timezone("UTC"),
    );
    let mut fields: Vec<Field> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let name = if field.name() == EXPORTED_UPDATED_AT {
            GUARD
        } else {
            field.name().as_str()
        };
        fields.push(field.as_ref().clone().with_name(name));
        columns.push(column.clone());
    }
    fields.push(Field::new(UPDATED_AT, stamp.data_type().clone(), true));
    columns.push(stamp);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(Error::arrow("building the merge's updates"))
}
