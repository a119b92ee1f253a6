//! The operators' checks on BigQuery: the queries of `queries/bigquery/checks/`, with the
//! configured tables filled in, run as query jobs with named parameters and read back as
//! Arrow batches, so each check computes its totals exactly as it does locally.

use arrow::array::RecordBatch;
use datafusion::scalar::ScalarValue;

use super::BigQueryWarehouse;
use super::client::Param as JobParam;
use crate::error::{Error, Result};
use crate::model::days_to_date;
use crate::queries::{Param, Query};

/// The query's BigQuery text with the (validated, quoted) table names filled in.
pub fn sql(w: &BigQueryWarehouse, q: Query) -> Result<String> {
    let text = q.bigquery_sql().ok_or_else(|| {
        Error::input(format!(
            "queries/{}.sql runs on the local engine only",
            q.name()
        ))
    })?;
    Ok(text
        .replace("{features}", &w.sql_name(&w.tables.features))
        .replace("{games}", &w.sql_name(&w.tables.games))
        .replace("{schedule}", &w.sql_name(&w.tables.schedule)))
}

/// What `--sql` prints: the text with literals for the parameters, ready for `bq query`.
pub fn render(w: &BigQueryWarehouse, q: Query, params: &[Param]) -> Result<String> {
    let mut text = sql(w, q)?;
    let mut sorted: Vec<&Param> = params.iter().collect();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.name.len()));
    for p in sorted {
        text = text.replace(&format!("@{}", p.name), &p.literal());
    }
    Ok(format!(
        "-- queries/bigquery/checks/{}.sql\n{text}",
        q.name()
    ))
}

/// Run the query as one job and return its rows.
pub async fn run(w: &BigQueryWarehouse, q: Query, params: &[Param]) -> Result<Vec<RecordBatch>> {
    let text = sql(w, q)?;
    let params = job_params(params)?;
    let id = format!(
        "completeness_check_{}_{:016x}",
        q.name(),
        rand::random::<u64>()
    );
    let what = format!("queries/bigquery/checks/{}.sql", q.name());
    let job = w.client.query(&id, &text, &params, &what).await?;
    Ok(vec![w.client.rows(&job).await?.to_batch()?])
}

/// The parameters as BigQuery job parameters.
pub fn job_params(params: &[Param]) -> Result<Vec<JobParam>> {
    params.iter().map(job_param).collect()
}

fn job_param(p: &Param) -> Result<JobParam> {
    Ok(match &p.value {
        ScalarValue::Date32(Some(days)) => JobParam::date(p.name, days_to_date(*days)),
        ScalarValue::Int64(Some(v)) => JobParam::int(p.name, *v),
        ScalarValue::Utf8(Some(s)) => JobParam::string(p.name, s),
        other => {
            return Err(Error::input(format!(
                "parameter {}: {other:?} has no BigQuery type here",
                p.name
            )));
        }
    })
}
