//! Invariants of a merge commit, checked right after it (cheap, always on).
//!
//! delta-rs gives no hook between writing a MERGE's files and committing them, so the
//! check reads the commit back: the rows of the files it added are the rows of the files
//! it removed, partition by partition, with no column changed but the struct, the
//! extended struct and `updated_at` ([`crate::commit_rows`]); and the rows updated are no
//! more than the diff asked for. A violation is undone at once by a rollback of the
//! commit, and the run fails (exit 3) saying so.

use crate::error::{Error, Result};
use crate::extended::EXTENDED_COLUMN;
use crate::model::{FEATURES_TABLE, HISTORICAL_COMPLETENESS, UPDATED_AT};
use crate::warehouse::LocalWarehouse;

/// What the merge was supposed to do.
pub struct Expected {
    pub version: u64,
    /// Rows the diff sent (changes without conflicts).
    pub rows_to_write: u64,
    pub rows_written: u64,
}

/// `Ok(None)`, or the first violated invariant.
pub async fn verify(warehouse: &LocalWarehouse, e: &Expected) -> Result<Option<String>> {
    if e.rows_written > e.rows_to_write {
        return Ok(Some(format!(
            "{} rows updated, but the diff sent {}",
            e.rows_written, e.rows_to_write
        )));
    }
    let before = warehouse
        .open_table_at(FEATURES_TABLE, Some(e.version - 1))
        .await?;
    let after = warehouse
        .open_table_at(FEATURES_TABLE, Some(e.version))
        .await?;
    let written = [HISTORICAL_COMPLETENESS, UPDATED_AT, EXTENDED_COLUMN];
    let c =
        tokio::task::spawn_blocking(move || crate::commit_rows::compare(&before, &after, &written))
            .await
            .map_err(|e| Error::input(format!("checking the merge: {e}")))??;
    Ok(problem(&c))
}

/// The first invariant `c` breaks, in words.
fn problem(c: &crate::commit_rows::Comparison) -> Option<String> {
    if c.deletion_vectors > 0 {
        Some(format!(
            "{} files of the commit carry deletion vectors, which this check cannot read",
            c.deletion_vectors
        ))
    } else if c.rows_removed != c.rows_added {
        Some(format!(
            "the commit replaced {} rows with {}",
            c.rows_removed, c.rows_added
        ))
    } else if c.rows_changed > 0 {
        Some(format!(
            "{} records changed in columns other than historical_completeness and updated_at",
            c.rows_changed
        ))
    } else {
        None
    }
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
