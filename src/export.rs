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
use serde::Serialize;

use crate::dates::DateRange;
use crate::error::{Error, Result};
use crate::manifest::Snapshot;
use crate::model::{
    DATA_SOURCE, FEATURES_TABLE, GAME_DATE, GAMES_TABLE, HISTORICAL_COMPLETENESS, PLAYER_LOOKUP,
    SCHEDULE_TABLE, UPDATED_AT, date_to_days,
};
use crate::queries::{Param, Query};
use crate::run_dir::RunDir;
use crate::warehouse::LocalWarehouse;

/// Columns of the feature table the run reads.
pub const FEATURE_COLUMNS: [&str; 5] = [
    PLAYER_LOOKUP,
    GAME_DATE,
    DATA_SOURCE,
    UPDATED_AT,
    HISTORICAL_COMPLETENESS,
];
/// Columns of player_game_summary the run reads (the first two are required; the rest,
/// exported when present, feed gap detection for `--extended`).
pub const GAME_COLUMNS: [&str; 7] = [
    PLAYER_LOOKUP,
    GAME_DATE,
    "game_id",
    "team_abbr",
    "is_active",
    "is_dnp",
    "primary_source_used",
];

/// What an export pinned and wrote.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ExportMetrics {
    pub num_feature_rows: u64,
    pub num_game_rows: u64,
    pub snapshot: Snapshot,
    pub season_starts: BTreeMap<i32, NaiveDate>,
    /// Set when there is no schedule table and the known season starts are used.
    pub schedule_missing: bool,
}

/// Export `range` of `warehouse` into `run`.
pub async fn export(
    warehouse: &LocalWarehouse,
    range: DateRange,
    run: &RunDir,
) -> Result<ExportMetrics> {
    let ctx = crate::engine::session();
    let features = warehouse.open_table(FEATURES_TABLE).await?;
    let games = warehouse.open_table(GAMES_TABLE).await?;
    warehouse.register(&ctx, "features", &features).await?;
    warehouse.register(&ctx, "games", &games).await?;
    let features_location = warehouse.table_path(FEATURES_TABLE).display().to_string();
    let games_location = warehouse.table_path(GAMES_TABLE).display().to_string();

    let with_extended: Vec<&str> = FEATURE_COLUMNS
        .iter()
        .copied()
        .chain([crate::extended::EXTENDED_COLUMN])
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

    let num_feature_rows =
        crate::engine::write_parquet(&run.exported_features(), feature_schema, &feature_batches)?
            as u64;
    let num_game_rows =
        crate::engine::write_parquet(&run.exported_games(), game_schema, &game_batches)? as u64;

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
    crate::engine::require_columns(&schema, required, location)?;
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
        crate::engine::empty(&out_schema)
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
    if !crate::completeness_column::same_type_ignoring_item_names(
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
    let ctx = crate::engine::session();
    warehouse.register(&ctx, "schedule", &table).await?;
    let rows = Query::SeasonStarts
        .run(&ctx, &season_start_params(range))
        .await?;
    Ok((starts_from_rows(&rows)?, Some(table.version().unwrap_or(0))))
}

/// `$first`/`$last` of `queries/season_starts.sql` for `range`.
pub fn season_start_params(range: DateRange) -> Vec<Param> {
    let (first, last) = range.season_starts_window();
    vec![Param::date("first", first), Param::date("last", last)]
}

/// `season_year → first_day` from the rows of `queries/season_starts.sql`.
pub fn starts_from_rows(rows: &[RecordBatch]) -> Result<BTreeMap<i32, NaiveDate>> {
    let years = crate::columns::i64s(rows, "season_year")?;
    let days = crate::columns::dates(rows, "first_day")?;
    Ok(years
        .into_iter()
        .zip(days)
        .filter_map(|(y, d)| Some((i32::try_from(y?).ok()?, d?)))
        .collect())
}
