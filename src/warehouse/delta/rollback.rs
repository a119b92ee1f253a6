//! `rollback RUN_ID`: undo a run's commit on a local warehouse, as a new commit.
//!
//! The run's commit is found in the table's log (numbered by its own file names) by the
//! run id in its commit info. The rows it changed are those whose struct or
//! `updated_at` differ between the version before the commit and the commit itself
//! (`queries/rollback_rows.sql`); they get their old struct and `updated_at` back
//! through one verified rewrite ([`crate::warehouse::delta::rewrite`]), guarded by the
//! run's `updated_at`. Rows that someone rewrote after the run are refused (listed,
//! nothing written) unless `--force`: a rollback must not lose a newer write by
//! accident. Other later commits are kept as they are, which a whole-table restore to
//! the old version would not do. The rollback is recorded as an application
//! transaction, so a second one is refused even after log cleanup.

use std::path::Path;

use chrono::NaiveDate;
use datafusion::prelude::{SessionContext, col, lit};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::hint::COMPLETENESS;
use crate::model::count::thousands;
use crate::model::extended_column::EXTENDED_COLUMN;
use crate::model::{FEATURES_TABLE, GAME_DATE, HISTORICAL_COMPLETENESS, PLAYER_LOOKUP, UPDATED_AT};
use crate::queries::Query;
use crate::run::dir::RunDir;
use crate::run::manifest::Manifest;
use crate::warehouse::LocalWarehouse;
use crate::warehouse::delta::log::{self, Commit, history};
use crate::warehouse::delta::rewrite::{GUARD, Tag, Updates, rewrite};

pub use crate::warehouse::delta::log::ROLLBACK_OF_KEY;
const MAX_KEYS: usize = 100;

#[derive(Debug, Clone, Copy, Default)]
pub struct RollbackOptions {
    /// Report what would be restored, write nothing.
    pub dry_run: bool,
    /// Also restore rows rewritten after the run (their newer write is lost).
    pub force: bool,
}

/// What a rollback did (or would do, with `dry_run`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RollbackReport {
    pub run_id: String,
    /// The version the run committed.
    pub run_version: u64,
    /// The version whose rows are restored (the one before the run's commit).
    pub restored_from_version: u64,
    /// Commits after the run's (kept).
    pub later_commits: u64,
    /// Rows the run's commit changed.
    pub rows_in_run: u64,
    /// Of those, rows rewritten after the run.
    pub rows_changed_since: u64,
    pub changed_since_keys: Vec<(String, NaiveDate)>,
    pub rows_restored: u64,
    /// Of the rows restored (or, on a dry run, to be restored): back to no struct ...
    pub rows_to_no_struct: u64,
    /// ... and to an older struct.
    pub rows_to_older_struct: u64,
    /// The version the rollback committed (`None` on a dry run).
    pub table_version: Option<u64>,
    pub dry_run: bool,
    pub forced: bool,
    /// Not done: rows were rewritten after the run and `--force` was not given; nothing
    /// was written (exit 1).
    pub refused: bool,
}

impl RollbackReport {
    /// The lines `rollback` prints.
    pub fn render(&self) -> String {
        let run = &self.run_id;
        let mut s = format!(
            "run {run} committed version {}, writing {} rows; a rollback gives them back what \
             they held in version {}\n",
            self.run_version,
            thousands(self.rows_in_run),
            self.restored_from_version
        );
        s += &self.rewritten_line();
        if self.later_commits > 0 {
            let except = match self.forced && self.rows_changed_since > 0 {
                true => ", except the rows of theirs overwritten above",
                false => "",
            };
            s += &format!("{} later commit(s) kept{except}\n", self.later_commits);
        }
        s += &self.outcome_line();
        s
    }

    /// What became (or becomes) of the rows rewritten after the run.
    fn rewritten_line(&self) -> String {
        if self.rows_changed_since == 0 {
            return String::new();
        }
        let keys: Vec<String> = self
            .changed_since_keys
            .iter()
            .take(3)
            .map(|(p, d)| format!("{p} {d}"))
            .collect();
        let fate = match (self.forced, self.dry_run) {
            (true, true) => "--force would restore them too, overwriting those later writes",
            (true, false) => "restored anyway (--force): those later writes are overwritten",
            (false, _) => "left alone",
        };
        format!(
            "{} of them were rewritten after the run (e.g. {}): {fate}\n",
            thousands(self.rows_changed_since),
            keys.join(", ")
        )
    }

    /// What the rollback did, or would do, and the command to go on with.
    fn outcome_line(&self) -> String {
        let run = &self.run_id;
        let split = format!(
            "{} back to no struct, {} to an older struct",
            thousands(self.rows_to_no_struct),
            thousands(self.rows_to_older_struct)
        );
        let restorable = self.rows_to_no_struct + self.rows_to_older_struct;
        if self.refused {
            return format!(
                "refusing to roll back run {run}: restoring the rewritten rows would lose those \
                 writes; nothing was written. See what would be restored: `{COMPLETENESS} rollback \
                 {run} --dry-run`; restore them anyway: `{COMPLETENESS} rollback {run} --force`\n"
            );
        }
        match self.table_version {
            Some(v) => format!(
                "restored {} rows ({split}) in version {v}\n",
                thousands(self.rows_restored)
            ),
            None if self.dry_run => {
                let force = if self.forced { " --force" } else { "" };
                let mut line = format!(
                    "dry run: would restore {} rows ({split}); nothing was written. Apply: \
                     `{COMPLETENESS} rollback {run}{force}`",
                    thousands(restorable)
                );
                if self.rows_changed_since > 0 && !self.forced {
                    line += &format!(
                        "; to restore the rewritten rows too: `{COMPLETENESS} rollback {run} --force`"
                    );
                }
                line + "\n"
            }
            None => "nothing to restore; no commit\n".to_string(),
        }
    }
}

/// Roll back `run_id` in `warehouse`; `run_root` is where run directories live.
pub async fn rollback(
    warehouse: &LocalWarehouse,
    run_root: &Path,
    run_id: &str,
    options: RollbackOptions,
) -> Result<RollbackReport> {
    crate::run::dir::validate_id(run_id)?;
    let table = warehouse.open_table(FEATURES_TABLE).await?;
    let commits = history(&table)?;
    if log::has_transaction(&table, &log::rollback_app_id(run_id)).await? {
        return Err(already_rolled_back(&commits, run_id));
    }
    let run_commit = find_commit(&commits, run_root, run_id)?;
    if run_commit.version == 0 {
        return Err(Error::input(format!(
            "run {run_id} created the table (version 0); there is no earlier version to restore"
        )));
    }
    let mut report = RollbackReport {
        run_id: run_id.to_string(),
        run_version: run_commit.version,
        restored_from_version: run_commit.version - 1,
        later_commits: table.version().unwrap_or(0) - run_commit.version,
        dry_run: options.dry_run,
        forced: options.force,
        ..Default::default()
    };
    let ctx = crate::io::engine::session();
    for (name, version) in [
        ("before", Some(report.restored_from_version)),
        ("after", Some(report.run_version)),
        ("current", None),
    ] {
        let t = warehouse.open_table_at(FEATURES_TABLE, version).await?;
        warehouse.register(&ctx, name, &t).await?;
    }
    let mut rows = Query::RollbackRows.run(&ctx, &[]).await?;
    let extended = has_extended(&ctx).await;
    if extended {
        rows = with_extended(&ctx, rows).await?;
    }
    count_rows(&ctx, &rows, &mut report).await?;
    if options.dry_run || report.rows_in_run == 0 {
        return Ok(report);
    }
    if report.rows_changed_since > 0 && !options.force {
        report.refused = true;
        return Ok(report);
    }
    let how = Apply {
        force: options.force,
        extended,
        staging: run_root.join(format!(".rollback-{run_id}-staged")),
    };
    apply(table, &ctx, rows, &mut report, how).await?;
    Ok(report)
}

/// Whether the version before the run has the extended column (then it is restored too).
async fn has_extended(ctx: &SessionContext) -> bool {
    match ctx.table("before").await {
        Ok(df) => df
            .schema()
            .as_arrow()
            .field_with_name(EXTENDED_COLUMN)
            .is_ok(),
        Err(_) => false,
    }
}

/// The rollback rows with the extended struct to restore (`restore_extended`).
async fn with_extended(
    ctx: &SessionContext,
    rows: Vec<arrow::array::RecordBatch>,
) -> Result<Vec<arrow::array::RecordBatch>> {
    let context = "reading the extended column to restore";
    let df = ctx.read_batches(rows).map_err(Error::datafusion(context))?;
    ctx.register_table("rollback_rows", df.into_view())
        .map_err(Error::datafusion(context))?;
    let sql = format!(
        "SELECT r.*, b.{EXTENDED_COLUMN} AS restore_extended FROM rollback_rows r \
         JOIN before b ON b.{PLAYER_LOOKUP} = r.{PLAYER_LOOKUP} AND b.{GAME_DATE} = r.{GAME_DATE}"
    );
    ctx.sql(&sql)
        .await
        .map_err(Error::datafusion(context))?
        .collect()
        .await
        .map_err(Error::datafusion(context))
}

/// How a rollback writes: guarded by the run's `updated_at` unless forced, and with the
/// extended column when the table has one.
struct Apply {
    force: bool,
    extended: bool,
    /// Where the rewritten files wait for their verification (outside the warehouse).
    staging: std::path::PathBuf,
}

/// The run's commit, or a clear reason why there is none.
fn find_commit(commits: &[Commit], run_root: &Path, run_id: &str) -> Result<Commit> {
    if let Some(c) = commits.iter().find(|c| c.run_id.as_deref() == Some(run_id)) {
        return Ok(c.clone());
    }
    let manifest = RunDir::open(run_root, run_id)
        .ok()
        .and_then(|dir| Manifest::load(&dir.manifest()).ok());
    Err(Error::input(match manifest {
        Some(m) if m.dry_run => format!(
            "run {run_id} was a dry run: it wrote nothing to the feature table, so there is nothing to roll back"
        ),
        Some(_) => format!(
            "run {run_id} made no commit to the feature table (nothing changed, or it stopped before the merge); nothing to roll back"
        ),
        None => format!(
            "unknown run {run_id}: no run directory under {} and no commit of the feature table carries it (see `{COMPLETENESS} runs`)",
            run_root.display()
        ),
    }))
}

fn already_rolled_back(commits: &[Commit], run_id: &str) -> Error {
    let at = commits
        .iter()
        .find(|c| c.rollback_of.as_deref() == Some(run_id))
        .map_or(String::new(), |c| format!(" in version {}", c.version));
    Error::input(format!("run {run_id} was already rolled back{at}"))
}

/// Fill in the row counts and the keys rewritten since the run.
async fn count_rows(
    ctx: &SessionContext,
    rows: &[arrow::array::RecordBatch],
    report: &mut RollbackReport,
) -> Result<()> {
    report.rows_in_run = crate::io::columns::num_rows(rows) as u64;
    if report.rows_in_run == 0 {
        return Ok(());
    }
    let changed = ctx
        .read_batches(rows.to_vec())
        .and_then(|df| df.filter(col("unchanged_since").eq(lit(false))))
        .map_err(Error::datafusion("finding rows rewritten after the run"))?
        .collect()
        .await
        .map_err(Error::datafusion("finding rows rewritten after the run"))?;
    report.rows_changed_since = crate::io::columns::num_rows(&changed) as u64;
    let mut keys = crate::io::columns::record_keys(&changed)?;
    keys.truncate(MAX_KEYS);
    report.changed_since_keys = keys;
    // What the restored rows go back to: no struct, or an older one.
    let restored = ctx
        .read_batches(rows.to_vec())
        .and_then(|df| match report.forced {
            true => Ok(df),
            false => df.filter(col("unchanged_since").eq(lit(true))),
        })
        .and_then(|df| df.filter(col("restore_completeness").is_null()))
        .map_err(Error::datafusion("splitting the rows to restore"))?
        .collect()
        .await
        .map_err(Error::datafusion("splitting the rows to restore"))?;
    let restorable = match report.forced {
        true => report.rows_in_run,
        false => report.rows_in_run - report.rows_changed_since,
    };
    report.rows_to_no_struct = crate::io::columns::num_rows(&restored) as u64;
    report.rows_to_older_struct = restorable - report.rows_to_no_struct;
    Ok(())
}

/// One verified rewrite writing the old struct and `updated_at` back, guarded (unless
/// forced) by the run's `updated_at`, so a write landing during the rollback is not
/// overwritten either.
async fn apply(
    table: deltalake::DeltaTable,
    ctx: &SessionContext,
    rows: Vec<arrow::array::RecordBatch>,
    report: &mut RollbackReport,
    how: Apply,
) -> Result<()> {
    let Apply {
        force,
        extended,
        staging,
    } = how;
    let context = "building the rollback's updates";
    let mut columns = vec![
        col(PLAYER_LOOKUP),
        col(GAME_DATE),
        col("restore_completeness").alias(HISTORICAL_COMPLETENESS),
        col("restore_updated_at").alias(UPDATED_AT),
        col("run_updated_at").alias(GUARD),
    ];
    if extended {
        columns.push(col("restore_extended").alias(EXTENDED_COLUMN));
    }
    let batches = ctx
        .read_batches(rows)
        .and_then(|df| {
            let df = if force {
                df
            } else {
                df.filter(col("unchanged_since").eq(lit(true)))?
            };
            df.select(columns)
        })
        .map_err(Error::datafusion(context))?
        .collect()
        .await
        .map_err(Error::datafusion(context))?;
    let schema = batches
        .first()
        .map(|b| b.schema())
        .ok_or_else(|| Error::input(format!("run {}: no rows to restore", report.run_id)))?;
    let batch = arrow::compute::concat_batches(&schema, &batches).map_err(Error::arrow(context))?;
    let expected = batch.num_rows() as u64;
    let updates = Updates {
        batch,
        guarded: !force,
    };
    let tag = Tag {
        key: ROLLBACK_OF_KEY,
        run_id: report.run_id.clone(),
        app_id: log::rollback_app_id(&report.run_id),
    };
    let _ = std::fs::remove_dir_all(&staging);
    let x = rewrite(&table, &updates, &tag, &staging).await;
    let _ = std::fs::remove_dir_all(&staging);
    let x = x?;
    report.rows_restored = x.num_rows_written;
    // Rows rewritten between the check and the commit were left alone.
    report.rows_changed_since += expected.saturating_sub(x.num_updates - x.num_conflicts);
    report.table_version = x.table_version;
    Ok(())
}
