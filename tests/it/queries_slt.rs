//! Golden tests of `queries/*.sql` in sqllogictest format (as DataFusion tests its SQL).
//!
//! Each `tests/queries/*.slt` file builds a tiny fixture with plain SQL and runs the
//! engine's queries on it. A record whose SQL is `@name key=value …` runs
//! `queries/<name>.sql` exactly as the binary embeds it, with the values bound to its
//! named parameters (`YYYY-MM-DD` → DATE, digits → BIGINT, anything else → text).
//! Expected rows are worked out by hand from the fixture, not captured from a run.

use std::path::Path;

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use completeness::queries::{Param, Query};
use datafusion::prelude::SessionContext;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

struct Db {
    ctx: SessionContext,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SltError(String);

#[async_trait::async_trait]
impl AsyncDB for Db {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let batches = match sql.trim().strip_prefix('@') {
            Some(call) => run_query_file(&self.ctx, call).await?,
            None => run_sql(&self.ctx, sql).await?,
        };
        Ok(to_output(&batches))
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "datafusion"
    }
}

async fn run_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>, SltError> {
    let df = ctx.sql(sql).await.map_err(|e| SltError(e.to_string()))?;
    df.collect().await.map_err(|e| SltError(e.to_string()))
}

/// `name key=value …` → run queries/<name>.sql with those parameters.
async fn run_query_file(ctx: &SessionContext, call: &str) -> Result<Vec<RecordBatch>, SltError> {
    let mut words = call.split_whitespace();
    let name = words.next().unwrap_or_default();
    let query = Query::by_name(name).ok_or_else(|| SltError(format!("no query {name}")))?;
    let params = words.map(parse_param).collect::<Result<Vec<_>, _>>()?;
    query
        .run(ctx, &params)
        .await
        .map_err(|e| SltError(e.to_string()))
}

fn parse_param(word: &str) -> Result<Param, SltError> {
    let (key, value) = word
        .split_once('=')
        .ok_or_else(|| SltError(format!("parameter {word}: expected key=value")))?;
    // Param names are &'static: the few test parameters are leaked once.
    let key: &'static str = Box::leak(key.to_string().into_boxed_str());
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(Param::date(key, d));
    }
    if let Ok(n) = value.parse::<i64>() {
        return Ok(Param::int(key, n));
    }
    Ok(Param::text(key, value))
}

fn to_output(batches: &[RecordBatch]) -> DBOutput<DefaultColumnType> {
    let Some(first) = batches.first() else {
        return DBOutput::StatementComplete(0);
    };
    let types = first
        .schema()
        .fields()
        .iter()
        .map(|f| column_type(f.data_type()))
        .collect();
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| cell(f.value(row).to_string()))
                    .collect(),
            );
        }
    }
    DBOutput::Rows { types, rows }
}

fn cell(text: String) -> String {
    if text.is_empty() {
        "(empty)".into()
    } else {
        text
    }
}

fn column_type(t: &arrow::datatypes::DataType) -> DefaultColumnType {
    if t.is_integer() {
        DefaultColumnType::Integer
    } else if t.is_floating() || matches!(t, arrow::datatypes::DataType::Decimal128(..)) {
        DefaultColumnType::FloatingPoint
    } else {
        DefaultColumnType::Text
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn query_files_match_their_golden_results() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/queries");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    let mut covered = std::collections::BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        covered.extend(
            Query::ALL
                .into_iter()
                .filter(|q| {
                    text.contains(&format!("@{} ", q.name()))
                        || text.contains(&format!("@{}\n", q.name()))
                })
                .map(|q| q.name()),
        );
        let mut runner = sqllogictest::Runner::new(|| async {
            Ok(Db {
                ctx: completeness::io::engine::session(),
            })
        });
        runner.with_column_validator(sqllogictest::strict_column_validator);
        if let Err(e) = runner.run_file_async(file).await {
            panic!("{}: {}", file.display(), e.display(true));
        }
    }
    let missing: Vec<_> = Query::ALL
        .into_iter()
        .map(|q| q.name())
        .filter(|n| !covered.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "queries without a golden test: {missing:?}"
    );
}
