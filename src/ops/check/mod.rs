//! `check`: the operators' questions about the stored structs, answered with the SQL of
//! `queries/` (see "The operator queries it replaces" in semantics.md).
//!
//! Each check is a small value holding its parameters. [`Check::queries`] lists the SQL
//! it would run (what `--sql` prints); [`Check::run`] runs it on a [`Source`] (DataFusion
//! over the local tables, or BigQuery with the same questions in its dialect) and returns
//! a [`CheckOutput`]: the rows, typed totals, and warnings for the operator.

pub mod cascade;
pub mod gaps;
pub mod incomplete;
pub mod summary;
pub mod table;

use arrow::array::RecordBatch;
use chrono::NaiveDate;
use serde::Serialize;

use crate::error::Result;
use crate::io::columns::scalar_i64;
pub use crate::model::coverage::Coverage;
use crate::model::dates::DateRange;
use crate::queries::{Param, Query};
use crate::warehouse::BigQueryWarehouse;
pub use crate::warehouse::Source;

pub use cascade::Cascade;
pub use gaps::Gaps;
pub use incomplete::Incomplete;
pub use summary::Summary;

/// A check's parameters and how to answer it.
#[allow(async_fn_in_trait)]
pub trait Check {
    /// The name scripts see in the JSON (`"summary"`, …).
    fn name(&self) -> &'static str;
    /// The queries it runs, with their parameters, in order.
    fn queries(&self) -> Vec<(Query, Vec<Param>)>;
    async fn run(&self, source: &Source) -> Result<CheckOutput>;
}

impl Coverage {
    /// The records of `range` (`queries/missing_structs.sql`).
    pub async fn of(source: &Source, range: &DateRange) -> Result<Coverage> {
        let rows = source
            .run(Query::MissingStructs, &Param::range(range))
            .await?;
        let date = |name| -> Result<Option<NaiveDate>> {
            Ok(crate::io::columns::dates(&rows, name)?
                .into_iter()
                .flatten()
                .next())
        };
        Ok(Coverage {
            records: scalar_i64(&rows, "all_records")? as u64,
            without_struct: scalar_i64(&rows, "records")? as u64,
            dates_without_struct: scalar_i64(&rows, "dates")? as u64,
            first_date: date("first_date")?,
            last_date: date("last_date")?,
            start: range.start,
            end: range.end,
        })
    }

    /// The query [`Coverage::of`] runs.
    pub fn query(range: &DateRange) -> (Query, Vec<Param>) {
        (Query::MissingStructs, Param::range(range))
    }
}

/// What a check found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutput {
    pub check: &'static str,
    /// The check's parameters (dates as strings), for the record.
    pub params: serde_json::Value,
    /// The records of the check's window and how many have no struct (printed first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    pub totals: serde_json::Value,
    /// Lines printed under the table (e.g. backfill progress).
    pub notes: Vec<String>,
    /// Things the operator must know (printed on stderr, kept in the JSON).
    pub warnings: Vec<String>,
    /// Check-specific detail for scripts (JSON only), e.g. the what-if of a cascade.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    #[serde(skip)]
    pub rows: Vec<RecordBatch>,
    /// Columns a narrow terminal may leave out of the table, first to go first (what
    /// the others already say, e.g. shares beside their counts).
    #[serde(skip)]
    pub droppable: Vec<&'static str>,
}

impl CheckOutput {
    /// The output of a check over a date range, with no warnings or details.
    pub fn over_range(
        check: &'static str,
        range: &crate::model::dates::DateRange,
        totals: &impl Serialize,
        notes: Vec<String>,
        rows: Vec<RecordBatch>,
    ) -> CheckOutput {
        CheckOutput {
            check,
            params: serde_json::json!({
                "start": range.start.to_string(),
                "end": range.end.to_string(),
            }),
            coverage: None,
            totals: serde_json::to_value(totals).expect("check totals serialize"),
            notes,
            warnings: Vec::new(),
            details: serde_json::Value::Null,
            rows,
            droppable: Vec::new(),
        }
    }

    pub fn num_rows(&self) -> usize {
        crate::io::columns::num_rows(&self.rows)
    }

    /// The JSON document `--json` prints: the output plus the first `limit` rows.
    pub fn to_json(&self, limit: usize) -> Result<serde_json::Value> {
        let mut doc = serde_json::to_value(self).expect("check output serializes");
        let rows = table::json_rows(&self.rows, limit)?;
        doc["rows_total"] = self.num_rows().into();
        doc["rows"] = rows.into();
        Ok(doc)
    }
}

/// One statement of `--sql`: the query file it comes from and its text, literals
/// substituted.
#[derive(Debug, Clone, Serialize)]
pub struct SqlStatement {
    pub query: &'static str,
    pub sql: String,
}

/// What `--sql` prints (`--json`: this document): every statement a check would run,
/// in BigQuery's dialect when `bigquery` is given.
#[derive(Debug, Clone, Serialize)]
pub struct CheckSql {
    pub check: &'static str,
    /// `datafusion` (the local tables) or `bigquery`.
    pub dialect: &'static str,
    pub statements: Vec<SqlStatement>,
}

/// The statements a check would run, literals substituted.
pub fn sql(check: &impl Check, bigquery: Option<&BigQueryWarehouse>) -> Result<CheckSql> {
    let statements = check
        .queries()
        .into_iter()
        .map(|(q, params)| {
            let sql = match bigquery {
                Some(w) => crate::warehouse::bigquery::checks::render(w, q, &params)?,
                None => q.render(&params),
            };
            Ok(SqlStatement {
                query: q.name(),
                sql,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(CheckSql {
        check: check.name(),
        dialect: if bigquery.is_some() {
            "bigquery"
        } else {
            "datafusion"
        },
        statements,
    })
}

/// All the SQL a check would run, separated by blank lines.
pub fn render_sql(check: &impl Check, bigquery: Option<&BigQueryWarehouse>) -> Result<String> {
    let texts: Vec<String> = sql(check, bigquery)?
        .statements
        .into_iter()
        .map(|s| s.sql)
        .collect();
    Ok(texts.join("\n"))
}
