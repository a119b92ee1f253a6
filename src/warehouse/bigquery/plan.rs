//! What a BigQuery run will send, worked out from the tables before any job runs: the
//! columns each export reads and its `EXPORT DATA` statement. The pre-flight dry-runs
//! these statements; the export runs them.

use crate::error::{Error, Result};
use crate::model::dates::DateRange;
use crate::model::extended_column::EXTENDED_COLUMN;
use crate::model::identifiers::TableRef;
use crate::warehouse::exported::{FEATURE_COLUMNS, GAME_COLUMNS};

use super::client::Param;
use super::{BigQueryWarehouse, schema};
use crate::hint::COMPLETENESS;

/// The column the feature export adds: the first day of the record's season.
pub const SEASON_START: &str = "season_start";

/// What a run will send, worked out from the tables before any job runs.
pub struct ExportPlan {
    pub range: DateRange,
    pub run_id: String,
    /// Columns of the feature table exported (the extended column in an extended run).
    pub feature_columns: Vec<&'static str>,
    /// Columns of player_game_summary exported (those of [`GAME_COLUMNS`] it has).
    pub game_columns: Vec<&'static str>,
    /// Whether the schedule view exists (else the built-in season calendar is used).
    pub schedule: bool,
    pub extended: bool,
}

impl ExportPlan {
    /// Check the tables the run reads and plan its statements; a missing table or
    /// column is an input error (exit 2) before anything runs.
    pub async fn new(
        w: &BigQueryWarehouse,
        range: DateRange,
        run_id: &str,
        extended: bool,
    ) -> Result<ExportPlan> {
        let features = w.client.table(&w.tables.features).await?;
        let features =
            features.ok_or_else(|| not_found(w, "features_table", &w.tables.features))?;
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
        let mut feature_columns = FEATURE_COLUMNS.to_vec();
        if extended {
            feature_columns.extend(schema::present_columns(&features, &[EXTENDED_COLUMN]));
        }
        Ok(ExportPlan {
            range,
            run_id: run_id.to_string(),
            feature_columns,
            game_columns: schema::present_columns(&games, &GAME_COLUMNS),
            schedule: w.client.table(&w.tables.schedule).await?.is_some(),
            extended,
        })
    }

    /// `<export_uri>/<run_id>/features` and `…/games`.
    pub fn uris(&self, w: &BigQueryWarehouse) -> (String, String) {
        let run = w.exports.child(&self.run_id);
        (run.child("features").url(), run.child("games").url())
    }

    /// The export of the feature records in range, each with its season's first day
    /// when there is a schedule ([`SEASON_START`]).
    pub fn features_sql(&self, w: &BigQueryWarehouse) -> Result<(String, Vec<Param>)> {
        let (uri, table) = (self.uris(w).0, w.sql_name(&w.tables.features));
        let mut params = vec![
            Param::date("start", self.range.start),
            Param::date("end", self.range.end),
        ];
        if !self.schedule {
            let sql = super::statements::export(&uri, &self.feature_columns, &table);
            return Ok((sql, params));
        }
        let starts = super::checks::sql(w, crate::queries::Query::SeasonStarts)?;
        let sql = super::statements::export_features(&uri, &self.feature_columns, &table, &starts);
        params.extend(super::checks::job_params(
            &crate::warehouse::exported::season_start_params(self.range),
        )?);
        Ok((sql, params))
    }

    /// The export of player_game_summary, as of `snapshot_ms` (the start of the feature
    /// export: one snapshot for both).
    pub fn games_sql(
        &self,
        w: &BigQueryWarehouse,
        snapshot_ms: Option<i64>,
    ) -> (String, [Param; 2]) {
        let table = match snapshot_ms {
            Some(ms) => format!(
                "{} FOR SYSTEM_TIME AS OF TIMESTAMP_MILLIS({ms})",
                w.sql_name(&w.tables.games)
            ),
            None => w.sql_name(&w.tables.games),
        };
        let sql = super::statements::export(&self.uris(w).1, &self.game_columns, &table);
        let params = [
            Param::date("start", self.range.lookback_start()),
            Param::date("end", self.range.end),
        ];
        (sql, params)
    }
}

fn not_found(w: &BigQueryWarehouse, what: &str, table: &TableRef) -> Error {
    Error::input(format!(
        "{what} {table}: not found in project {} (check the name in completeness.toml, or run `{COMPLETENESS} doctor`)",
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
