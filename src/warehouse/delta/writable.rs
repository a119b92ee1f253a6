//! Whether the tool can write a Delta table at all, known from its log alone: asked
//! before a run is planned (a dry run, `export`, `doctor`) and again before every write.
//!
//! A rewrite replaces whole data files of a table partitioned by `game_date`, keeping
//! every row and every other column. It refuses a table that needs more of a writer
//! than that:
//! - writer features delta-rs's commit machinery does not implement (identity
//!   columns, row tracking, domain metadata, in-commit timestamps, type widening,
//!   liquid clustering, …), and append-only tables;
//! - features a file rewrite would silently break: change data feed (no CDC files are
//!   written), deletion vectors, column mapping (physical column names);
//! - another layout: not partitioned by `game_date` alone;
//! - generated columns computed from a column the tool writes (they would go stale);
//! - data files outside the local file system, with a deletion vector, or named in a
//!   percent-encoding a remove would not match ([`paths`]).

use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::kernel::transaction::PROTOCOL;

use crate::error::{Error, Result};
use crate::model::GAME_DATE;
use crate::warehouse::delta::paths;
use crate::warehouse::delta::rules::Rules;

/// Why a rewrite writing the columns `written` cannot write `table`; empty when it can.
pub fn refusals(table: &DeltaTable, written: &[&str]) -> Result<Vec<String>> {
    let context = format!("reading the log of {}", table.table_url());
    let state = table.snapshot().map_err(Error::delta(context))?;
    let snapshot = state.snapshot();
    let mut reasons = Vec::new();
    if let Err(e) = PROTOCOL.can_write_to(state) {
        reasons.push(protocol_reason(&e, "write"));
    }
    if PROTOCOL.check_append_only(snapshot).is_err() {
        reasons.push("it is append-only (delta.appendOnly)".into());
    }
    let config = snapshot.metadata().configuration();
    for (key, why) in [
        ("delta.enableChangeDataFeed", "change data feed"),
        ("delta.enableDeletionVectors", "deletion vectors"),
    ] {
        if config.get(key).is_some_and(|v| v == "true") {
            reasons.push(format!("it has {why} enabled ({key})"));
        }
    }
    if let Some(mode) = config
        .get("delta.columnMapping.mode")
        .filter(|m| *m != "none")
    {
        reasons.push(format!(
            "it uses column mapping (delta.columnMapping.mode = {mode})"
        ));
    }
    let partitions = snapshot.metadata().partition_columns();
    if partitions != [GAME_DATE] {
        reasons.push(format!(
            "it is partitioned by {partitions:?}, not by {GAME_DATE} alone"
        ));
    }
    let stale = Rules::of(table, written)?.stale_generated(written);
    if !stale.is_empty() {
        reasons.push(format!(
            "its generated column {} is computed from a column this tool writes, and would go \
             stale",
            stale.join(", ")
        ));
    }
    reasons.extend(file_reasons(table)?);
    Ok(reasons)
}

/// A protocol check's refusal in the protocol's own feature names (`typeWidening`).
pub fn protocol_reason(e: &deltalake::kernel::transaction::TransactionError, verb: &str) -> String {
    use deltalake::kernel::transaction::TransactionError as T;
    match e {
        T::UnsupportedTableFeatures(features) => {
            let names: Vec<String> = features.iter().map(|f| f.to_string()).collect();
            format!(
                "its protocol requires table features delta-rs cannot {verb}: {}",
                names.join(", ")
            )
        }
        other => format!("delta-rs cannot {verb} its protocol ({other})"),
    }
}

/// What the data files the log names stand in the way of: files off the local disk,
/// files with a deletion vector, paths a remove would not match.
fn file_reasons(table: &DeltaTable) -> Result<Vec<String>> {
    let context = format!("listing the files of {}", table.table_url());
    let state = table.snapshot().map_err(Error::delta(context))?;
    let root = std::path::PathBuf::from("/");
    let (mut remote, mut vectors, mut mismatched) = (Vec::new(), 0, Vec::new());
    let raw = paths::RawPaths::read(&log_dir(table)?)?;
    for f in state.snapshot().log_data().iter() {
        if paths::resolve(&root, &f.path()).is_err() {
            remote.push(f.path().into_owned());
        }
        vectors += usize::from(f.deletion_vector_descriptor().is_some());
        let logged = paths::logged_path(&Action::Remove(f.remove_action(true)));
        if !logged.is_some_and(|l| raw.contains(&l)) {
            mismatched.push(f.path().into_owned());
        }
    }
    let mut reasons = Vec::new();
    if let Some(first) = remote.first() {
        reasons.push(format!(
            "{} of its data files are not on the local file system (e.g. {first})",
            remote.len()
        ));
    }
    if vectors > 0 {
        reasons.push(format!(
            "{vectors} of its data files carry a deletion vector"
        ));
    }
    if let Some(first) = mismatched.first() {
        reasons.push(format!(
            "its log names {} data files in a percent-encoding delta-rs does not write back \
             (e.g. {first}): a remove would match no add and leave the old file in the table",
            mismatched.len()
        ));
    }
    Ok(reasons)
}

fn log_dir(table: &DeltaTable) -> Result<std::path::PathBuf> {
    let url = table.table_url();
    let root = url
        .to_file_path()
        .map_err(|()| Error::input(format!("{url}: not a local table")))?;
    Ok(root.join("_delta_log"))
}

/// An error for a refused table, or `Ok` when there is nothing to refuse. `when` says
/// what was asked: "a merge into … is refused", "would be refused".
pub fn refuse(table: &DeltaTable, written: &[&str], would: bool) -> Result<()> {
    let reasons = refusals(table, written)?;
    if reasons.is_empty() {
        return Ok(());
    }
    let verb = match would {
        true => "would be refused",
        false => "is refused",
    };
    Err(Error::input(format!(
        "{}: a merge into this table {verb}: {}; nothing was written",
        table_name(table),
        reasons.join("; ")
    )))
}

/// A table as messages name it: its directory.
pub fn table_name(table: &DeltaTable) -> String {
    let url = table.table_url();
    url.to_file_path()
        .map_or_else(|()| url.to_string(), |p| p.display().to_string())
}
