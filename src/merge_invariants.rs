//! Invariants of a merge commit, checked right after it (cheap, always on).
//!
//! delta-rs gives no hook between writing a MERGE's files and committing them, so the
//! check reads the commit back: the row count is unchanged, no column but the struct,
//! the extended struct and `updated_at` differs on any record in range (`queries/merge_invariants.sql`), and the
//! rows updated are the rows the diff asked for. A violation is undone at once by a
//! rollback of the commit, and the run fails (exit 3) saying so.

use crate::dates::DateRange;
use crate::error::{Error, Result};
use crate::extended::EXTENDED_COLUMN;
use crate::model::FEATURES_TABLE;
use crate::queries::{Param, Query};
use crate::warehouse::LocalWarehouse;

/// What the merge was supposed to do.
pub struct Expected {
    pub version: u64,
    pub range: DateRange,
    /// Rows the diff sent (changes without conflicts).
    pub rows_to_write: u64,
    pub rows_written: u64,
}

/// `Ok(())`, or the first violated invariant.
pub async fn verify(warehouse: &LocalWarehouse, e: &Expected) -> Result<Option<String>> {
    if e.rows_written > e.rows_to_write {
        return Ok(Some(format!(
            "{} rows updated, but the diff sent {}",
            e.rows_written, e.rows_to_write
        )));
    }
    let ctx = crate::engine::session();
    for (name, version) in [("before", e.version - 1), ("after", e.version)] {
        let table = warehouse
            .open_table_at(FEATURES_TABLE, Some(version))
            .await?;
        let raw = format!("{name}_all_columns");
        warehouse.register(&ctx, &raw, &table).await?;
        // An extended run also writes historical_completeness_ext: not an "other" column.
        let view = ctx
            .table(raw.as_str())
            .await
            .and_then(|df| df.drop_columns(&[EXTENDED_COLUMN]))
            .map_err(Error::datafusion("checking the merge"))?;
        ctx.register_table(name, view.into_view())
            .map_err(Error::datafusion("checking the merge"))?;
    }
    let params = Param::range(&e.range);
    let rows = Query::MergeInvariants.run(&ctx, &params).await?;
    let get = |name| crate::columns::scalar_i64(&rows, name);
    let (before, after, other) = (
        get("rows_before")?,
        get("rows_after")?,
        get("rows_with_other_changes")?,
    );
    if before != after {
        return Ok(Some(format!(
            "the table had {before} rows before and {after} after"
        )));
    }
    if other > 0 {
        return Ok(Some(format!(
            "{other} records changed in columns other than historical_completeness and updated_at"
        )));
    }
    Ok(None)
}

/// Undo the commit `version` of `run_id` after a violation: restore the whole table to
/// the version before it (the broken commit may have touched any column), tagged as a
/// rollback of the run, unless someone committed on top of it meanwhile.
pub async fn undo(warehouse: &LocalWarehouse, run_id: &str, version: u64, problem: &str) -> Error {
    let outcome = match restore(warehouse, run_id, version).await {
        Ok(restored) => {
            format!("the commit (version {version}) was rolled back in version {restored}")
        }
        Err(e) => format!(
            "undoing version {version} failed ({e}); restore version {} by hand",
            version - 1
        ),
    };
    Error::Invariant(format!("merge invariant violated: {problem}; {outcome}"))
}

async fn restore(warehouse: &LocalWarehouse, run_id: &str, version: u64) -> Result<u64> {
    let table = warehouse.open_table(FEATURES_TABLE).await?;
    if table.version() != Some(version) {
        return Err(Error::input("another commit followed it"));
    }
    let commit = deltalake::kernel::transaction::CommitProperties::default().with_metadata([(
        crate::rollback::ROLLBACK_OF_KEY.to_string(),
        serde_json::Value::String(run_id.to_string()),
    )]);
    let (table, _) = table
        .restore()
        .with_version_to_restore(version - 1)
        .with_commit_properties(commit)
        .await
        .map_err(Error::delta("restoring the feature table"))?;
    Ok(table.version().unwrap_or(version + 1))
}
