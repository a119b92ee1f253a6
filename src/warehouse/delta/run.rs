//! A run's steps on a local Delta warehouse: what [`crate::warehouse::Warehouse`]
//! dispatches to when the tables are Delta tables.
//!
//! A run is recognised by the application transaction its merge commit carries
//! ([`super::log::merge_app_id`]), a rollback by its own; both survive log cleanup.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::{
    FEATURES_TABLE, GAMES_TABLE, HISTORICAL_COMPLETENESS, SCHEDULE_TABLE, UPDATED_AT,
};
use crate::queries::Query;
use crate::run::dir::RunDir;
use crate::run::manifest::{Manifest, MergeRecord};
use crate::warehouse::LocalWarehouse;
use crate::warehouse::MergeMetrics;

use super::log;

/// The version the run committed, when it did: the manifest's merge record is brought
/// up to date from the log (its commit file may be gone after log cleanup; the record
/// then keeps what it had). `None` when the run never committed.
pub async fn applied_merge(w: &LocalWarehouse, m: &mut Manifest) -> Result<Option<String>> {
    let table = w.open_table(FEATURES_TABLE).await?;
    if !log::has_transaction(&table, &log::merge_app_id(&m.run_id)).await? {
        return Ok(None);
    }
    let commit = log::history(&table)?
        .into_iter()
        .find(|c| c.run_id.as_deref() == Some(&m.run_id));
    let record = m.merge.get_or_insert_with(MergeRecord::default);
    if let Some(c) = &commit {
        record.table_version = Some(c.version);
        record.rows_written = c.rows_updated.unwrap_or(record.rows_written);
    }
    Ok(Some(commit.map_or("earlier".to_string(), |c| {
        format!("as version {}", c.version)
    })))
}

/// The run's changes written as one verified commit; the manifest gets the merge record.
pub async fn merge(
    w: &LocalWarehouse,
    m: &mut Manifest,
    dir: &RunDir,
    now: DateTime<Utc>,
) -> Result<MergeMetrics> {
    let changes = read_changes(m, dir).await?;
    let staging = dir.path.join("staged");
    if staging.exists() {
        // What an interrupted attempt staged: never committed, rewritten below.
        std::fs::remove_dir_all(&staging).map_err(Error::io("clearing staged files", &staging))?;
    }
    let x = crate::warehouse::delta::merge::merge(w, changes, &m.run_id, now, &staging).await;
    let _ = std::fs::remove_dir_all(&staging);
    let x = x?;
    m.merge = Some(MergeRecord {
        read_version: Some(x.read_version),
        table_version: x.table_version,
        rows_written: x.num_rows_written,
        conflicts: x.num_conflicts,
        conflict_keys: x.conflict_keys.clone(),
        steps_ms: x.steps_ms.clone(),
        runs_since_plan: match x.num_conflicts {
            0 => Vec::new(),
            _ => runs_between(w, m, x.read_version).await?,
        },
    });
    Ok(x)
}

/// The columns a merge writes.
fn written(extended: bool) -> Vec<&'static str> {
    let mut columns = vec![HISTORICAL_COMPLETENESS, UPDATED_AT];
    if extended {
        columns.push(crate::model::extended_column::EXTENDED_COLUMN);
    }
    columns
}

/// Refuse a feature table no merge could write, before a run is planned.
pub async fn require_writable(w: &LocalWarehouse, extended: bool) -> Result<()> {
    let table = w.open_table(FEATURES_TABLE).await?;
    super::writable::refuse(&table, &written(extended), true)
}

/// What the run's merge would write, checked against the table's rules (only a table
/// with rules needs the rows read).
pub async fn preview_merge(
    w: &LocalWarehouse,
    m: &Manifest,
    dir: &RunDir,
    now: DateTime<Utc>,
) -> Result<()> {
    let table = w.open_table(FEATURES_TABLE).await?;
    if super::rules::Rules::of(&table, &written(m.extended))?.is_empty() {
        return Ok(());
    }
    let changes = read_changes(m, dir).await?;
    crate::warehouse::delta::merge::preview(&table, changes, now).await
}

/// The run's `changes.parquet`, in the schema the merge expects.
async fn read_changes(m: &Manifest, dir: &RunDir) -> Result<Vec<RecordBatch>> {
    let schema = crate::model::changes::changes_schema_for(m.extended);
    let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let ctx = crate::io::engine::session();
    let changes =
        crate::io::engine::read_parquet(&ctx, &dir.changes(), &columns, "changes").await?;
    normalise_changes(changes, schema)
}

/// The runs of this tool that committed after the plan's snapshot, up to `read`.
async fn runs_between(w: &LocalWarehouse, m: &Manifest, read: u64) -> Result<Vec<(String, u64)>> {
    let Some(planned) = m.snapshot.as_ref().map(|s| s.features_version) else {
        return Ok(Vec::new());
    };
    let table = w.open_table(FEATURES_TABLE).await?;
    let mut runs: Vec<(String, u64)> = log::history(&table)?
        .into_iter()
        .filter(|c| c.version > planned && c.version <= read)
        .filter_map(|c| Some((c.run_id.or(c.rollback_of)?, c.version)))
        .collect();
    runs.sort_by_key(|r| r.1);
    Ok(runs)
}

/// Where run `run_id` was rolled back ("version N"), if it was.
pub async fn rolled_back_in(w: &LocalWarehouse, run_id: &str) -> Result<Option<String>> {
    let table = w.open_table(FEATURES_TABLE).await?;
    if !log::has_transaction(&table, &log::rollback_app_id(run_id)).await? {
        return Ok(None);
    }
    let version = log::history(&table)?
        .into_iter()
        .find(|c| c.rollback_of.as_deref() == Some(run_id))
        .map_or("an earlier version".to_string(), |c| {
            format!("version {}", c.version)
        });
    Ok(Some(version))
}

/// No commit to the games table since the export pinned it (then the games the run
/// was computed from are today's, without counting them).
pub async fn games_unchanged(w: &LocalWarehouse, m: &Manifest) -> Result<bool> {
    let Some(pinned) = &m.snapshot else {
        return Ok(false);
    };
    let games = w.open_table(GAMES_TABLE).await?;
    Ok(games.version() == Some(pinned.games_version))
}

/// The schedule's team games around the run, at the version the export pinned.
pub async fn team_games(w: &LocalWarehouse, m: &Manifest) -> Result<Vec<RecordBatch>> {
    match m.snapshot.as_ref().and_then(|s| s.schedule_version) {
        Some(v) => {
            let ctx = crate::io::engine::session();
            let table = w.open_table_at(SCHEDULE_TABLE, Some(v)).await?;
            w.register(&ctx, "schedule", &table).await?;
            let params = crate::warehouse::exported::team_games_params(m.range);
            Query::TeamGames.run(&ctx, &params).await
        }
        None => Ok(Vec::new()),
    }
}

/// Remove the run directory's exports.
pub fn drop_exports(dir: &RunDir) -> Result<()> {
    let path = dir.path.join("export");
    std::fs::remove_dir_all(&path)
        .or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        })
        .map_err(Error::io("removing the run's exports", &path))
}

/// Cast the changes read back from Parquet to the exact schema the merge expects.
fn normalise_changes(batches: Vec<RecordBatch>, schema: SchemaRef) -> Result<Vec<RecordBatch>> {
    batches
        .into_iter()
        .filter(|b| b.num_rows() > 0)
        .map(|b| {
            let columns = schema
                .fields()
                .iter()
                .zip(b.columns())
                .map(|(f, c)| arrow::compute::cast(c, f.data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(Error::arrow("reading changes"))?;
            RecordBatch::try_new(Arc::clone(&schema), columns)
                .map_err(Error::arrow("reading changes"))
        })
        .collect()
}
