//! Export on BigQuery: one `EXPORT DATA … FORMAT PARQUET` job per table.
//!
//! The feature records in range (only the columns the run reads) go to
//! `<export_uri>/<run_id>/features/*.parquet`, player_game_summary from `start − 365`
//! to `end` to `…/games/*.parquet`, read `FOR SYSTEM_TIME AS OF` the moment the first
//! export started, so both come from one snapshot. Dates are query parameters; table
//! names are validated identifiers; the URI is checked when the configuration is opened.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::dates::DateRange;
use crate::error::{Error, Result};
use crate::export::{ExportMetrics, FEATURE_COLUMNS};
use crate::extended::EXTENDED_COLUMN;
use crate::identifiers::TableRef;
use crate::manifest::BigQueryRun;
use crate::model::{GAME_DATE, PLAYER_LOOKUP};
use crate::storage::Location;

use super::client::Param;
use super::{BigQueryWarehouse, job_safe, schema};

/// Columns of player_game_summary exported when present (the first two are required).
const GAME_COLUMNS: [&str; 4] = [PLAYER_LOOKUP, GAME_DATE, "game_id", "team_abbr"];

/// Export `range` for run `run_id` (with the extended column for an `extended` run);
/// `record` gets the URIs and job ids as they happen.
pub async fn export(
    w: &BigQueryWarehouse,
    range: DateRange,
    run_id: &str,
    extended: bool,
    record: &mut BigQueryRun,
) -> Result<ExportMetrics> {
    let features = w.client.table(&w.tables.features).await?;
    let features = features.ok_or_else(|| not_found(w, "features_table", &w.tables.features))?;
    refuse(
        schema::feature_table_problems(&features),
        "features_table",
        &w.tables.features,
    )?;
    let games = w.client.table(&w.tables.games).await?;
    let games = games.ok_or_else(|| not_found(w, "games_table", &w.tables.games))?;
    refuse(
        schema::games_table_problems(&games),
        "games_table",
        &w.tables.games,
    )?;

    let run = w.exports.child(run_id);
    record.features_uri = run.child("features").url();
    record.games_uri = run.child("games").url();
    let id = format!("completeness_{}_export_features", job_safe(run_id));
    record.jobs.push(id.clone());
    let mut columns = FEATURE_COLUMNS.to_vec();
    if extended {
        columns.extend(schema::present_columns(&features, &[EXTENDED_COLUMN]));
    }
    let sql = export_sql(
        &record.features_uri,
        &columns,
        &w.sql_name(&w.tables.features),
    );
    let params = [
        Param::date("start", range.start),
        Param::date("end", range.end),
    ];
    let job = w
        .client
        .query(&id, &sql, &params, "export of the feature records")
        .await?;
    record.snapshot_time_ms = job.start_time_ms();

    let id = format!("completeness_{}_export_games", job_safe(run_id));
    record.jobs.push(id.clone());
    let columns = schema::present_columns(&games, &GAME_COLUMNS);
    // The games as of the moment the feature export started: one snapshot for both.
    let games_table = match record.snapshot_time_ms {
        Some(ms) => format!(
            "{} FOR SYSTEM_TIME AS OF TIMESTAMP_MILLIS({ms})",
            w.sql_name(&w.tables.games)
        ),
        None => w.sql_name(&w.tables.games),
    };
    let sql = export_sql(&record.games_uri, &columns, &games_table);
    let params = [
        Param::date("start", range.lookback_start()),
        Param::date("end", range.end),
    ];
    w.client
        .query(&id, &sql, &params, "export of player_game_summary")
        .await?;

    let (season_starts, schedule_missing) = season_starts(w, run_id).await?;
    Ok(ExportMetrics {
        num_feature_rows: exported_rows(w, &record.features_uri, "exported features").await?,
        num_game_rows: exported_rows(w, &record.games_uri, "exported games").await?,
        snapshot: Default::default(),
        season_starts,
        schedule_missing,
    })
}

/// `EXPORT DATA` of `columns` of `table` with `game_date` between `@start` and `@end`.
pub fn export_sql(uri: &str, columns: &[&str], table: &str) -> String {
    format!(
        "EXPORT DATA OPTIONS(uri='{uri}/*.parquet', format='PARQUET', overwrite=true) AS\n\
         SELECT {} FROM {table}\n\
         WHERE {GAME_DATE} BETWEEN @start AND @end",
        columns.join(", ")
    )
}

async fn exported_rows(w: &BigQueryWarehouse, uri: &str, what: &str) -> Result<u64> {
    match w.stores.locate(uri)? {
        Location::Remote(remote) => crate::remote_parquet::check_footers(&remote, what).await,
        Location::Local(_) => unreachable!("exports are gs://"),
    }
}

/// First regular-season day per season from the schedule table (none if it is missing).
async fn season_starts(
    w: &BigQueryWarehouse,
    run_id: &str,
) -> Result<(BTreeMap<i32, NaiveDate>, bool)> {
    if w.client.table(&w.tables.schedule).await?.is_none() {
        return Ok((BTreeMap::new(), true));
    }
    let sql = format!(
        "SELECT CAST(season_year AS INT64) AS season_year, MIN(game_date) AS first_day\n\
         FROM {} WHERE season_type = 'Regular Season' GROUP BY season_year",
        w.sql_name(&w.tables.schedule)
    );
    let id = format!("completeness_{}_season_starts", job_safe(run_id));
    let job = w
        .client
        .query(&id, &sql, &[], "reading season starts")
        .await?;
    let rows = [w.client.rows(&job).await?.to_batch()?];
    let years = crate::columns::i64s(&rows, "season_year")?;
    let days = crate::columns::dates(&rows, "first_day")?;
    let starts = years
        .into_iter()
        .zip(days)
        .filter_map(|(y, d)| Some((i32::try_from(y?).ok()?, d?)))
        .collect();
    Ok((starts, false))
}

fn not_found(w: &BigQueryWarehouse, what: &str, table: &TableRef) -> Error {
    Error::input(format!(
        "{what} {table}: not found in project {} (check the name in completeness.toml, or run `completeness doctor`)",
        w.config.project
    ))
}

fn refuse(problems: Vec<String>, what: &str, table: &TableRef) -> Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::input(format!(
        "{what} {table}: {}",
        problems.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_statement_binds_dates_as_parameters() {
        let sql = export_sql(
            "gs://b/p/run/features",
            &["player_lookup", "game_date"],
            "`p.d.t`",
        );
        assert_eq!(
            sql,
            "EXPORT DATA OPTIONS(uri='gs://b/p/run/features/*.parquet', format='PARQUET', overwrite=true) AS\n\
             SELECT player_lookup, game_date FROM `p.d.t`\n\
             WHERE game_date BETWEEN @start AND @end"
        );
    }
}
