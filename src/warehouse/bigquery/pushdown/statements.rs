//! The statements of a run computed in BigQuery (`queries/bigquery/pushdown/`), filled
//! from typed values as [`super::super::statements`] fills the write path's.
//!
//! Into the text go only the validated, quoted table names, an empty typed table where
//! a table does not exist yet (the plan before the plan job ran, a missing schedule
//! view) and the staging expiration (an integer from the configuration: DDL options
//! take no parameters). Dates, flags and timestamps are query parameters.

use chrono::{DateTime, NaiveDate, Utc};

use crate::model::dates::{DateRange, season_year};

use super::super::client::Param;
use super::super::preflight::Statement;
use super::super::statements::fill;

const PLAN: &str = include_str!("../../../../queries/bigquery/pushdown/plan.sql");
const REPORT: &str = include_str!("../../../../queries/bigquery/pushdown/report.sql");
const MERGE: &str = include_str!("../../../../queries/bigquery/pushdown/merge.sql");
const CONFLICTS: &str = include_str!("../../../../queries/bigquery/pushdown/conflicts.sql");

/// The five fields, as the plan's `before` and `after` columns hold them.
const STRUCT_TYPE: &str = "STRUCT<games_found INT64, games_expected INT64, is_complete BOOL, \
     is_bootstrap BOOL, contributing_game_dates ARRAY<DATE>>";

/// The quoted names a run's statements read and write.
#[derive(Debug, Clone)]
pub struct Tables {
    pub features: String,
    pub games: String,
    /// `None` when the schedule view does not exist: the built-in season calendar
    /// decides, as in a local run without a schedule.
    pub schedule: Option<String>,
    /// The staging table of the plan; `None` before it exists (dry runs validate the
    /// report and the MERGE against an empty table of its type).
    pub plan: Option<String>,
}

/// `plan.sql`: the `CREATE OR REPLACE TABLE … AS` job that computes the run's plan.
pub fn plan(t: &Tables, plan_table: &str, expiration_hours: i64, run: &RunParams) -> Statement {
    let schedule = t.schedule.clone().unwrap_or_else(empty_schedule);
    let sql = fill(
        PLAN,
        &[
            ("plan", plan_table),
            ("features", &t.features),
            ("games", &t.games),
            ("schedule", &schedule),
            ("expiration_hours", &expiration_hours.to_string()),
        ],
    );
    Statement {
        what: "queries/bigquery/pushdown/plan.sql".into(),
        sql,
        params: run.plan_params(),
    }
}

/// `report.sql`: the report of the plan, one row.
pub fn report(t: &Tables) -> Statement {
    Statement {
        what: "queries/bigquery/pushdown/report.sql".into(),
        sql: fill(REPORT, &[("plan", &plan_or_empty(t))]),
        params: Vec::new(),
    }
}

/// `merge.sql`: the plan's changes applied, stamped `updated_at`.
pub fn merge(
    t: &Tables,
    run: &RunParams,
    updated_at: DateTime<Utc>,
    allow_stale: bool,
) -> Statement {
    let sql = fill(
        MERGE,
        &[
            ("features", &t.features),
            ("games", &t.games),
            ("plan", &plan_or_empty(t)),
        ],
    );
    Statement {
        what: "queries/bigquery/pushdown/merge.sql".into(),
        sql,
        params: vec![
            Param::date("start", run.range.start),
            Param::date("end", run.range.end),
            Param::date("games_start", run.range.lookback_start()),
            Param::timestamp("updated_at", updated_at),
            boolean("allow_stale", allow_stale),
        ],
    }
}

/// `conflicts.sql`: the first `limit` planned rows the MERGE stamped `updated_at` left alone.
pub fn conflicts(t: &Tables, range: DateRange, updated_at: DateTime<Utc>, limit: i64) -> Statement {
    Statement {
        what: "queries/bigquery/pushdown/conflicts.sql".into(),
        sql: fill(
            CONFLICTS,
            &[("plan", &plan_or_empty(t)), ("features", &t.features)],
        ),
        params: vec![
            Param::date("start", range.start),
            Param::date("end", range.end),
            Param::timestamp("updated_at", updated_at),
            Param::int("limit", limit),
        ],
    }
}

/// What a plan is computed for: the range and whether bootstrap dates are covered.
#[derive(Debug, Clone, Copy)]
pub struct RunParams {
    pub range: DateRange,
    pub include_bootstrap: bool,
}

impl RunParams {
    /// `@start`, `@end`, `@games_start` (the 365-day lookback), `@schedule_first` (July 1
    /// of the start's season, where the local path reads the schedule from too) and
    /// `@include_bootstrap`.
    fn plan_params(&self) -> Vec<Param> {
        vec![
            Param::date("start", self.range.start),
            Param::date("end", self.range.end),
            Param::date("games_start", self.range.lookback_start()),
            Param::date("schedule_first", schedule_first(self.range.start)),
            boolean("include_bootstrap", self.include_bootstrap),
        ]
    }
}

/// July 1 of the season of `start`: the schedule is read from there (local: the same
/// window, [`DateRange::season_starts_window`]).
fn schedule_first(start: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(season_year(start), 7, 1).expect("July 1 exists")
}

fn boolean(name: &'static str, value: bool) -> Param {
    Param {
        name,
        kind: "BOOL",
        value: value.to_string(),
    }
}

fn plan_or_empty(t: &Tables) -> String {
    t.plan.clone().unwrap_or_else(empty_plan)
}

/// An empty table with the plan's columns: dry runs of the report and the MERGE before
/// the plan exists validate everything else the statements read (the feature table,
/// player_game_summary, every column and type).
pub fn empty_plan() -> String {
    let run = "STRUCT<start_date DATE, end_date DATE, games_start DATE, schedule_first DATE, \
               include_bootstrap BOOL>";
    format!(
        "(SELECT * FROM UNNEST(ARRAY<STRUCT<row_kind STRING, player_lookup STRING, \
         game_date DATE, status STRING, fields_changed ARRAY<STRING>, before {STRUCT_TYPE}, \
         after {STRUCT_TYPE}, updated_at TIMESTAMP, game_rows INT64, game_players INT64, \
         games_fingerprint STRING, run {run}>>[]))"
    )
}

/// An empty schedule with the columns plan.sql reads from the view. Unlike the empty
/// plan (only ever dry-run), this one runs: `LIMIT 0` of typed NULLs, which bqemulator
/// executes (it cannot run `UNNEST` of an empty typed struct array).
fn empty_schedule() -> String {
    "(SELECT CAST(NULL AS STRING) AS game_id, CAST(NULL AS DATE) AS game_date, \
     CAST(NULL AS INT64) AS season_year, CAST(NULL AS INT64) AS game_status, \
     CAST(NULL AS BOOL) AS is_regular_season LIMIT 0)"
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn tables(plan: Option<&str>) -> Tables {
        Tables {
            features: "`p.d.ml_feature_store_v2`".into(),
            games: "`p.a.player_game_summary`".into(),
            schedule: Some("`p.r.nba_schedule`".into()),
            plan: plan.map(str::to_string),
        }
    }

    fn run() -> RunParams {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        RunParams {
            range: DateRange::new(d("2025-01-05"), d("2025-01-20")).unwrap(),
            include_bootstrap: false,
        }
    }

    fn all() -> Vec<Statement> {
        let t = tables(Some("`p.s.plan_r`"));
        let now = Utc::now();
        vec![
            plan(&t, "`p.s.plan_r`", 24, &run()),
            report(&t),
            merge(&t, &run(), now, false),
            conflicts(&t, run().range, now, 100),
            report(&tables(None)),
            merge(&tables(None), &run(), now, true),
        ]
    }

    /// `@name`s in `sql`.
    fn used(sql: &str) -> BTreeSet<String> {
        sql.split('@')
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect()
    }

    /// Every placeholder is filled, no comment is sent (bqemulator reads an `@` in one
    /// as a parameter), and the parameters given are exactly those the text uses.
    #[test]
    fn every_statement_is_filled_and_gets_exactly_its_parameters() {
        for s in all() {
            assert!(!s.sql.contains('{') && !s.sql.contains('}'), "{}", s.sql);
            assert!(!s.sql.contains("--"), "a comment is sent: {}", s.sql);
            let given: BTreeSet<String> = s.params.iter().map(|p| p.name.to_string()).collect();
            assert_eq!(used(&s.sql), given, "{}", s.what);
        }
    }

    #[test]
    fn the_plan_binds_its_dates_and_the_lookback() {
        let no_schedule = Tables {
            schedule: None,
            ..tables(None)
        };
        let s = plan(&no_schedule, "`p.s.plan_r`", 24, &run());
        let value = |n: &str| s.params.iter().find(|p| p.name == n).unwrap().value.clone();
        assert_eq!(value("games_start"), "2024-01-06", "start − 365 days");
        assert_eq!(value("schedule_first"), "2024-07-01");
        assert_eq!(value("include_bootstrap"), "false");
        assert!(s.sql.starts_with("CREATE OR REPLACE TABLE `p.s.plan_r`\nOPTIONS(expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 24 HOUR))"));
        assert!(
            s.sql
                .contains("FROM (SELECT CAST(NULL AS STRING) AS game_id"),
            "no schedule view: an empty one"
        );
    }

    /// The MERGE sets the struct and updated_at only, only on planned changes whose
    /// updated_at is the one the plan read, within the run's dates.
    #[test]
    fn the_merge_touches_two_columns_and_is_guarded() {
        let s = merge(&tables(Some("`p.s.plan_r`")), &run(), Utc::now(), false);
        let set = s.sql.split("UPDATE SET").nth(1).unwrap();
        assert_eq!(
            set.trim(),
            "historical_completeness = s.after, updated_at = @updated_at"
        );
        assert!(
            s.sql
                .contains("WHEN MATCHED AND s.status IN ('added', 'changed')")
        );
        assert!(s.sql.contains("t.updated_at = s.planned_updated_at"));
        assert!(s.sql.contains("AND t.game_date BETWEEN @start AND @end"));
        assert!(!s.sql.contains("WHEN NOT MATCHED"), "never an insert");
        assert!(!s.sql.contains("DELETE"), "never a delete");
    }

    #[test]
    fn the_empty_plan_has_the_plans_columns() {
        let plan_columns = [
            "row_kind",
            "player_lookup",
            "game_date",
            "status",
            "fields_changed",
            "before",
            "after",
            "updated_at",
            "game_rows",
            "game_players",
            "games_fingerprint",
            "run",
        ];
        let empty = empty_plan();
        for c in plan_columns {
            assert!(empty.contains(&format!("{c} ")), "{c}: {empty}");
        }
        // The plan's SELECT names the same columns, in the same order.
        let select = PLAN.split("SELECT 'record' AS row_kind").nth(1).unwrap();
        let mut at = 0;
        for c in &plan_columns[1..] {
            let i = select[at..].find(c).unwrap_or_else(|| panic!("{c}"));
            at += i;
        }
    }
}
