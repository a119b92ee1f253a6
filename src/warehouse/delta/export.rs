//! `export`: pin a consistent snapshot of the warehouse into a run directory.
//!
//! 1. Open the latest version of each table and record it (the pin).
//! 2. Check the feature table has the columns the run reads, with the right types.
//! 3. Write the feature records in range (keys, data_source, updated_at, the current
//!    struct) and the player_game_summary rows from `start - 365 days` to `end`.
//! 4. Read the season starts from the schedule (bootstrap dates).
//!
//! Nothing is written under the warehouse root.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema};
use chrono::NaiveDate;
use datafusion::prelude::{SessionContext, col, lit};
use datafusion::scalar::ScalarValue;

use crate::error::{Error, Result};
use crate::model::dates::DateRange;
use crate::model::{
    FEATURES_TABLE, GAME_DATE, GAMES_TABLE, HISTORICAL_COMPLETENESS, SCHEDULE_TABLE, UPDATED_AT,
    date_to_days,
};
use crate::queries::Query;
use crate::run::dir::RunDir;
use crate::run::manifest::Snapshot;
use crate::warehouse::ExportMetrics;
use crate::warehouse::LocalWarehouse;
use crate::warehouse::exported::{
    FEATURE_COLUMNS, GAME_COLUMNS, season_start_params, starts_from_rows,
};

/// Export `range` of `warehouse` into `run`.
pub async fn export(
    warehouse: &LocalWarehouse,
    range: DateRange,
    run: &RunDir,
) -> Result<ExportMetrics> {
    let ctx = crate::io::engine::session();
    let features = warehouse.open_table(FEATURES_TABLE).await?;
    let games = warehouse.open_table(GAMES_TABLE).await?;
    warehouse.register(&ctx, "features", &features).await?;
    warehouse.register(&ctx, "games", &games).await?;
    let features_location = warehouse.table_path(FEATURES_TABLE).display().to_string();
    let games_location = warehouse.table_path(GAMES_TABLE).display().to_string();

    let with_extended: Vec<&str> = FEATURE_COLUMNS
        .iter()
        .copied()
        .chain([crate::model::extended_column::EXTENDED_COLUMN])
        .collect();
    let feature_batches = select_range(
        &ctx,
        "features",
        &with_extended,
        &FEATURE_COLUMNS,
        range.start,
        range.end,
        &features_location,
    )
    .await?;
    let feature_schema = check_feature_types(&feature_batches, &features_location)?;
    let game_batches = select_range(
        &ctx,
        "games",
        &GAME_COLUMNS,
        &GAME_COLUMNS[..2],
        range.lookback_start(),
        range.end,
        &games_location,
    )
    .await?;
    let game_schema = game_batches[0].schema();
    check_date_type(&game_schema, &games_location)?;

    let num_feature_rows = crate::io::engine::write_parquet_grouped(
        &run.exported_features(),
        crate::io::engine::plain_schema(&feature_schema),
        &feature_batches,
    )? as u64;
    let num_game_rows = crate::io::engine::write_parquet_grouped(
        &run.exported_games(),
        crate::io::engine::plain_schema(&game_schema),
        &game_batches,
    )? as u64;

    let (season_starts, schedule_version) = season_starts(warehouse, range).await?;
    Ok(ExportMetrics {
        num_feature_rows,
        num_game_rows,
        snapshot: Snapshot {
            features_version: features.version().unwrap_or(0),
            games_version: games.version().unwrap_or(0),
            schedule_version,
        },
        schedule_missing: schedule_version.is_none(),
        season_starts,
    })
}

/// `SELECT <columns present> FROM table WHERE game_date BETWEEN lo AND hi`, requiring `required`.
async fn select_range(
    ctx: &SessionContext,
    table: &str,
    columns: &[&str],
    required: &[&str],
    lo: NaiveDate,
    hi: NaiveDate,
    location: &str,
) -> Result<Vec<RecordBatch>> {
    let df = ctx
        .table(table)
        .await
        .map_err(Error::datafusion(format!("reading {location}")))?;
    let schema = df.schema().as_arrow().clone();
    crate::io::engine::require_columns(&schema, required, location)?;
    check_date_type(&schema, location)?;
    let present: Vec<_> = columns
        .iter()
        .filter(|c| schema.field_with_name(c).is_ok())
        .map(|c| col(format!("\"{c}\"")))
        .collect();
    let date = |d: NaiveDate| lit(ScalarValue::Date32(Some(date_to_days(d))));
    let df = df
        .filter(col(GAME_DATE).between(date(lo), date(hi)))
        .and_then(|df| df.select(present))
        .map_err(Error::datafusion(format!(
            "planning the export of {location}"
        )))?;
    let out_schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df
        .collect()
        .await
        .map_err(Error::datafusion(format!("exporting {location}")))?;
    Ok(if batches.is_empty() {
        crate::io::engine::empty(&out_schema)
    } else {
        batches
    })
}

fn check_date_type(schema: &Schema, location: &str) -> Result<()> {
    let field = schema.field_with_name(GAME_DATE).expect("checked before");
    if field.data_type() != &DataType::Date32 {
        return Err(Error::input(format!(
            "{location}: column `game_date` has type {}, expected DATE (Date32)",
            field.data_type()
        )));
    }
    Ok(())
}

/// The struct column must have the five fields; updated_at must be a timestamp.
fn check_feature_types(
    batches: &[RecordBatch],
    location: &str,
) -> Result<arrow::datatypes::SchemaRef> {
    let schema = batches[0].schema();
    let hc = schema
        .field_with_name(HISTORICAL_COMPLETENESS)
        .expect("required");
    if !crate::model::completeness_column::same_type_ignoring_item_names(
        hc.data_type(),
        &crate::model::completeness_type(),
    ) {
        return Err(Error::input(format!(
            "{location}: column `historical_completeness` has type {}, expected {}",
            hc.data_type(),
            crate::model::completeness_type()
        )));
    }
    let updated = schema.field_with_name(UPDATED_AT).expect("required");
    if !matches!(updated.data_type(), DataType::Timestamp(_, _)) {
        return Err(Error::input(format!(
            "{location}: column `updated_at` has type {}, expected TIMESTAMP",
            updated.data_type()
        )));
    }
    Ok(schema)
}

/// First regular-season game date of each season `range` touches, from the schedule
/// (`queries/season_starts.sql`), with the schedule's version; none without a schedule.
async fn season_starts(
    warehouse: &LocalWarehouse,
    range: DateRange,
) -> Result<(BTreeMap<i32, NaiveDate>, Option<u64>)> {
    let path = warehouse.table_path(SCHEDULE_TABLE);
    if !path.join("_delta_log").is_dir() {
        return Ok((BTreeMap::new(), None));
    }
    let table = warehouse.open_table(SCHEDULE_TABLE).await?;
    let ctx = crate::io::engine::session();
    warehouse.register(&ctx, "schedule", &table).await?;
    let rows = Query::SeasonStarts
        .run(&ctx, &season_start_params(range))
        .await?;
    Ok((starts_from_rows(&rows)?, Some(table.version().unwrap_or(0))))
}
