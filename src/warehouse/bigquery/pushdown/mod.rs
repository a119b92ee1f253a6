//! A run computed in BigQuery (`--compute-in bigquery`, issue 26): no export, no
//! Parquet, no local compute. Three jobs at most:
//!
//! 1. **Pre-flight.** BigQuery validates the three statements as dry runs (no job, no
//!    cost): plan.sql as it will run, report.sql and merge.sql against an empty table of
//!    the plan's type (the plan does not exist yet). The bytes the plan would process
//!    are said before it runs.
//! 2. **Plan** (job 1). One `CREATE OR REPLACE TABLE … AS` computes every struct of the
//!    range and classifies it against the stored one, into a staging table named for
//!    the run that expires by itself (`staging_expiration_hours`).
//! 3. **Report** (job 2). One query reads the plan into the report's numbers (one row).
//! 4. **Merge** (job 3). One `MERGE` from the plan, guarded by `updated_at`, which
//!    refuses a stale plan itself (it recomputes the games' per-date fingerprints);
//!    skipped when the plan has nothing to write. The plan table is then deleted
//!    (`tables.delete`, not a job). Only when the MERGE left planned rows alone does a
//!    small fourth query name them.
//!
//! Job ids derive from the run id (`completeness_<run>_plan`, `…_report`, `…_merge`):
//! a resumed run asks for each by id before submitting anything, so no job runs twice
//! (an emulator re-runs a job inserted under an existing id; BigQuery answers 409).

pub mod refusals;
pub mod statements;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::job_cost::bytes;
use crate::run::manifest::{BigQueryRun, Manifest};
use crate::warehouse::MergeMetrics;

use super::client::Job;
use super::preflight::Statement;
use super::{BigQueryWarehouse, cost, job_safe};
use statements::{RunParams, Tables};

/// Conflict keys listed at most (as the export mode's MERGE lists them).
const MAX_CONFLICT_KEYS: i64 = 100;

/// Validate the run's statements with dry runs, then compute the plan (or find the plan
/// job of an earlier attempt of this run). The answer is the pre-flight's line.
pub async fn plan(w: &BigQueryWarehouse, m: &mut Manifest) -> Result<String> {
    let plan_table = w.plan_table(&m.run_id);
    let base = job_base(&m.run_id, "plan");
    let what = "the plan (queries/bigquery/pushdown/plan.sql)";
    let mut record = m.bigquery.clone().unwrap_or_default();
    record.plan_table = Some(plan_table.to_string());
    if let Some(job) = w.client.find_done(&base, what).await? {
        require_plan(w, m).await?;
        note(&mut record, &job, "plan");
        m.bigquery = Some(record);
        return Ok(format!("plan: found job {} of an earlier attempt", job.id));
    }
    // The tables are checked as the export checks them: missing ones and missing
    // columns are named before anything runs.
    let checked = super::plan::ExportPlan::new(w, m.range, &m.run_id, false).await?;
    w.client.ensure_dataset(&w.config.staging_dataset).await?;
    let run = run_params(m);
    let target = w.sql_name(&plan_table);
    let [plan, report, merge] = dry_run_statements(w, &target, run, checked.schedule);
    let line = preflight(w, &plan, &[report, merge]).await?;
    let job = w
        .client
        .query_once(&base, &plan.sql, &plan.params, what)
        .await
        .map_err(|e| refusals::plan_failure(e, &w.describe()))?;
    note(&mut record, &job, "plan");
    m.bigquery = Some(record);
    Ok(line)
}

/// The three statements of a run as the pre-flight and `doctor` validate them: the
/// plan into `target`, the report and the MERGE reading an empty table of the plan's
/// type (the plan does not exist yet).
pub fn dry_run_statements(
    w: &BigQueryWarehouse,
    target: &str,
    run: RunParams,
    schedule: bool,
) -> [Statement; 3] {
    let tables = tables(w, schedule, None);
    [
        statements::plan(&tables, target, w.config.staging_expiration_hours, &run),
        statements::report(&tables),
        statements::merge(&tables, &run, Utc::now(), false),
    ]
}

/// The dry runs of the plan and `others`; the line saying what the plan would process.
async fn preflight(
    w: &BigQueryWarehouse,
    plan: &Statement,
    others: &[Statement],
) -> Result<String> {
    let plan_bytes = w
        .client
        .dry_run(&plan.sql, &plan.params, &plan.what)
        .await?;
    for s in others {
        w.client.dry_run(&s.sql, &s.params, &s.what).await?;
    }
    Ok(format!(
        "pre-flight: BigQuery accepts plan.sql, report.sql and merge.sql (dry runs); the plan \
         would process {}",
        bytes(plan_bytes)
    ))
}

/// The plan's report: one row, as JSON keyed by the report's keys (report.sql).
pub async fn report_row(w: &BigQueryWarehouse, m: &mut Manifest) -> Result<Value> {
    require_plan(w, m).await?;
    let tables = tables(w, false, Some(&m.run_id));
    let s = statements::report(&tables);
    let what = "the report (queries/bigquery/pushdown/report.sql)";
    let job = w
        .client
        .query_once(&job_base(&m.run_id, "report"), &s.sql, &s.params, what)
        .await?;
    let rows = w.client.rows(&job).await?;
    let mut record = m.bigquery.clone().unwrap_or_default();
    note(&mut record, &job, "report");
    m.bigquery = Some(record);
    let mut rows = super::results::json_rows(&rows.fields, &rows.rows);
    match rows.len() {
        1 => Ok(rows.remove(0)),
        n => Err(Error::Remote {
            context: format!("BigQuery job {} ({what})", job.id),
            message: format!("{n} rows instead of one"),
        }),
    }
}

/// Apply the run's plan in one MERGE stamped `now` (nothing, and no job, when it plans
/// no change). A stale plan is refused by the MERGE itself, unless `allow_stale`.
pub async fn merge(
    w: &BigQueryWarehouse,
    m: &mut Manifest,
    now: DateTime<Utc>,
    allow_stale: bool,
) -> Result<MergeMetrics> {
    let mut metrics = MergeMetrics {
        num_changes: m.rows.get("changes").copied().unwrap_or(0),
        ..Default::default()
    };
    if metrics.num_changes == 0 {
        return Ok(metrics);
    }
    require_plan(w, m).await?;
    let tables = tables(w, false, Some(&m.run_id));
    let s = statements::merge(&tables, &run_params(m), now, allow_stale);
    let what = "MERGE of the plan into the feature table";
    let job = w
        .client
        .dml(
            &super::merge::merge_base(&m.run_id),
            &s.sql,
            &s.params,
            what,
        )
        .await
        .map_err(|e| super::merge::streaming_buffer(w, e, &m.run_id, "the plan"))
        .map_err(|e| refusals::merge_failure(e, m))?;
    let mut record = m.bigquery.clone().unwrap_or_default();
    note(&mut record, &job, "merge");
    super::merge::apply_job_stats(&job, &mut metrics, &mut record);
    if metrics.num_conflicts > 0 {
        // The MERGE is committed: naming its conflicts is a report, never a failure.
        match conflict_keys(w, m, &tables, now, &mut record).await {
            Ok(keys) => metrics.conflict_keys = keys,
            Err(e) => tracing::warn!("after the MERGE, listing its conflicts failed: {e}"),
        }
    }
    m.bigquery = Some(record);
    Ok(metrics)
}

/// Delete the run's plan table (a merged run's; a dry run keeps its plan for `merge
/// --run` until it expires).
pub async fn drop_plan(w: &BigQueryWarehouse, m: &Manifest) -> Result<()> {
    w.client.delete_table(&w.plan_table(&m.run_id)).await
}

/// The keys of planned rows the MERGE stamped `now` left alone.
async fn conflict_keys(
    w: &BigQueryWarehouse,
    m: &Manifest,
    tables: &Tables,
    now: DateTime<Utc>,
    record: &mut BigQueryRun,
) -> Result<Vec<(String, chrono::NaiveDate)>> {
    let s = statements::conflicts(tables, m.range, now, MAX_CONFLICT_KEYS);
    let base = job_base(&m.run_id, "conflicts");
    let job = w
        .client
        .query_once(&base, &s.sql, &s.params, "listing conflicts")
        .await?;
    note(record, &job, "conflicts");
    crate::io::columns::record_keys(&[w.client.rows(&job).await?.to_batch()?])
}

/// The plan table must still exist: it expires after `staging_expiration_hours`, and a
/// plan is never silently recomputed (what was reviewed is what is applied).
async fn require_plan(w: &BigQueryWarehouse, m: &Manifest) -> Result<()> {
    let table = w.plan_table(&m.run_id);
    if w.client.table(&table).await?.is_some() {
        return Ok(());
    }
    Err(Error::input(format!(
        "run {}: its plan {table} no longer exists (staging tables expire after {} h, or it \
         was deleted); nothing was written. Compute a new plan: `{}`",
        m.run_id,
        w.config.staging_expiration_hours,
        m.backfill_command()
    )))
}

/// The names a run's statements use; `run_id`: the plan table exists.
fn tables(w: &BigQueryWarehouse, schedule: bool, run_id: Option<&str>) -> Tables {
    Tables {
        features: w.sql_name(&w.tables.features),
        games: w.sql_name(&w.tables.games),
        schedule: schedule.then(|| w.sql_name(&w.tables.schedule)),
        plan: run_id.map(|id| w.sql_name(&w.plan_table(id))),
    }
}

pub fn run_params(m: &Manifest) -> RunParams {
    RunParams {
        range: m.range,
        include_bootstrap: m.include_bootstrap,
    }
}

/// `completeness_<run>_<step>`: the first id of a step's attempt series.
fn job_base(run_id: &str, step: &str) -> String {
    format!("completeness_{}_{step}", job_safe(run_id))
}

/// Record a job once (a resumed run finds jobs it recorded before).
fn note(record: &mut BigQueryRun, job: &Job, step: &str) {
    if !record.jobs.contains(&job.id) {
        record.note_job(cost::of_job(&job.id, &job.resource, step));
    }
}
