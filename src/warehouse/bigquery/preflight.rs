//! Pre-flight: every statement a run will send, validated by BigQuery itself before the
//! first job runs.
//!
//! Each statement goes in as a dry-run job (`dryRun: true`: BigQuery parses and plans
//! it against the real tables, reads no data, writes nothing and charges nothing). The
//! first refusal stops the run in seconds with the statement and BigQuery's message,
//! instead of failing after the exports. The MERGE and the conflict query read a
//! staging table that exists only later, so their dry runs read an empty table of the
//! same type instead (`UNNEST` of a typed empty array): the target side, which is what
//! can be wrong, is exactly the run's.

use super::client::Param;
use super::plan::ExportPlan;
use super::{BigQueryWarehouse, checks, merge, schema};
use crate::error::Result;
use crate::model::changes::changes_schema_for;
use crate::queries::{self, Query};

/// One statement to validate.
#[derive(Debug, Clone)]
pub struct Statement {
    pub what: String,
    pub sql: String,
    pub params: Vec<Param>,
}

/// Dry-run each statement in turn; the first refusal is the error.
pub async fn check(w: &BigQueryWarehouse, statements: &[Statement]) -> Result<()> {
    for s in statements {
        w.client.dry_run(&s.sql, &s.params, &s.what).await?;
    }
    Ok(())
}

/// The statements of a backfill: the schedule's team games (extended runs), the MERGE,
/// the conflict query, and both exports (last: an emulator that writes files on a
/// dry-run export then writes them only if all else passed).
pub fn run_statements(w: &BigQueryWarehouse, plan: &ExportPlan) -> Result<Vec<Statement>> {
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    if plan.schedule && plan.extended {
        out.push(check_statement(
            w,
            Query::TeamGames,
            &crate::warehouse::exported::team_games_params(plan.range),
        )?);
    }
    let source = empty_changes(plan.extended)?;
    let target = w.sql_name(&w.tables.features);
    let [start, end, updated_at] = merge::merge_params(plan.range, now);
    out.push(Statement {
        what: "the MERGE into the feature table".into(),
        sql: super::statements::merge(&target, &source, plan.extended),
        params: vec![start.clone(), end.clone(), updated_at.clone()],
    });
    out.push(Statement {
        what: "the conflict query".into(),
        sql: super::statements::conflicts(&source, &target),
        params: vec![start, end, updated_at, Param::int("limit", 1)],
    });
    let (sql, params) = plan.features_sql(w)?;
    let what = match plan.schedule {
        true => "the export of the feature records with their season starts (schedule view)",
        false => "the export of the feature records",
    };
    out.push(Statement {
        what: what.into(),
        sql,
        params,
    });
    let (sql, params) = plan.games_sql(w, Some(now.timestamp_millis()));
    out.push(Statement {
        what: "the export of player_game_summary".into(),
        sql,
        params: params.to_vec(),
    });
    Ok(out)
}

/// A check query of `queries/bigquery/checks/` with its parameters.
pub fn check_statement(
    w: &BigQueryWarehouse,
    q: Query,
    params: &[queries::Param],
) -> Result<Statement> {
    Ok(Statement {
        what: format!("queries/bigquery/checks/{}.sql", q.name()),
        sql: checks::sql(w, q)?,
        params: checks::job_params(params)?,
    })
}

/// Every check query, with sample values for its parameters (dates `today`, a made-up
/// player): what `doctor` validates besides a run's statements.
pub fn check_statements(w: &BigQueryWarehouse, today: chrono::NaiveDate) -> Result<Vec<Statement>> {
    Query::ALL
        .into_iter()
        .filter(|q| q.bigquery_sql().is_some())
        .map(|q| check_statement(w, q, &sample_params(q, today)))
        .collect()
}

/// A value of the right type for each `@name` of `q`'s BigQuery text.
fn sample_params(q: Query, today: chrono::NaiveDate) -> Vec<queries::Param> {
    const TEXT: [&str; 1] = ["player"];
    const DATES: [&str; 9] = [
        "start",
        "end",
        "first",
        "last",
        "since",
        "until",
        "before",
        "game_date",
        "backfill_date",
    ];
    let text = q.bigquery_sql().unwrap_or_default();
    let mut out = Vec::new();
    for name in TEXT.iter().chain(&DATES) {
        let used = text.match_indices(&format!("@{name}")).any(|(i, m)| {
            !text[i + m.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        });
        if used {
            out.push(match TEXT.contains(name) {
                true => queries::Param::text(name, "doctor"),
                false => queries::Param::date(name, today),
            });
        }
    }
    out
}

/// An empty table of the staging table's type, as a subquery.
fn empty_changes(extended: bool) -> Result<String> {
    let row = schema::ddl_type(&arrow::datatypes::DataType::Struct(
        changes_schema_for(extended).fields().clone(),
    ))?;
    Ok(format!("(SELECT * FROM UNNEST(ARRAY<{row}>[]))"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `@name` of every check query gets a value (a dry run with one missing
    /// would be refused for the wrong reason).
    #[test]
    fn sample_params_cover_every_check_parameter() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 22).unwrap();
        for q in Query::ALL {
            let Some(text) = q.bigquery_sql() else {
                continue;
            };
            let given: Vec<&str> = sample_params(q, today).iter().map(|p| p.name).collect();
            for part in text.split('@').skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                assert!(given.contains(&name.as_str()), "{}: @{name}", q.name());
            }
        }
    }

    #[test]
    fn the_empty_source_has_the_staging_tables_columns() {
        let sql = empty_changes(false).unwrap();
        assert_eq!(
            sql,
            "(SELECT * FROM UNNEST(ARRAY<STRUCT<player_lookup STRING, game_date DATE, \
             historical_completeness STRUCT<games_found INT64, games_expected INT64, \
             is_complete BOOL, is_bootstrap BOOL, contributing_game_dates ARRAY<DATE>>, \
             exported_updated_at TIMESTAMP>>[]))"
        );
        assert!(
            empty_changes(true)
                .unwrap()
                .contains("historical_completeness_ext STRUCT<")
        );
    }
}
