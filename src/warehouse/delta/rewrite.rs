//! The one way the tool writes to a Delta table: a verified rewrite of whole data files,
//! committed as one transaction.
//!
//! 1. Read the latest snapshot; refuse what a rewrite cannot honour (deletion vectors,
//!    column mapping, change data feed, writer features delta-rs lacks).
//! 2. Read every data file of the partitions (game dates) the updates touch.
//! 3. Apply each update to its key's rows when every row of that key still carries the
//!    `updated_at` the update was planned against (its guard); otherwise the key is a
//!    conflict: someone wrote it after the plan, and it is left alone. Only the columns
//!    the updates carry are replaced (the struct, `updated_at`, the extended struct).
//! 4. Write the files that have a replaced row again, into a staging directory outside
//!    the warehouse.
//! 5. Verify the staged files against the files they replace: the same rows, no column
//!    changed but the replaced ones, no more rows changed than updates applied.
//! 6. Move the staged files into the table and commit one transaction (remove, add, and
//!    the `txn` actions of [`super::log`]) through delta-rs's commit machinery, whose
//!    conflict checker guards the snapshot read in step 1. A failure before the commit
//!    lands deletes the moved files.
//!
//! Nothing enters the table before the verification passed and nothing unverified is
//! committed, so a crash at any instant leaves the table exactly before or after.
//! Reading only the touched partitions and skipping a MERGE's join is also the fast path.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Date32Type, SchemaRef, TimestampMicrosecondType};
use chrono::NaiveDate;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties, PROTOCOL};
use deltalake::kernel::{Action, Add, Transaction};
use deltalake::protocol::DeltaOperation;
use serde::Serialize;

use super::log::TOOL_APP_ID;
use crate::commit_rows::{self, DataFile};
use crate::error::{Error, Result};
use crate::failpoint;
use crate::model::{GAME_DATE, PLAYER_LOOKUP, UPDATED_AT, date_to_days, days_to_date};

/// The column of the updates holding the `updated_at` a row must still carry.
pub const GUARD: &str = "guard_updated_at";
/// Conflicting keys listed at most.
const MAX_CONFLICT_KEYS: usize = 100;

/// New values for some rows, by key: `player_lookup`, `game_date`, the columns to
/// replace (named as in the table), and [`GUARD`].
#[derive(Debug, Clone)]
pub struct Updates {
    pub batch: RecordBatch,
    /// Whether the guard is checked (a forced rollback does not).
    pub guarded: bool,
}

/// What a commit is tagged with: the commit-info key and the run id, and the `txn`
/// application id that records it for good.
#[derive(Debug, Clone)]
pub struct Tag {
    pub key: &'static str,
    pub run_id: String,
    pub app_id: String,
}

/// What a rewrite did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RewriteMetrics {
    pub num_updates: u64,
    /// Rows replaced in the table.
    pub num_rows_written: u64,
    /// Updates left alone: their rows were written by someone else since the plan, or
    /// are gone.
    pub num_conflicts: u64,
    /// First keys of the conflicts, by date and player.
    pub conflict_keys: Vec<(String, NaiveDate)>,
    pub num_files_removed: u64,
    pub num_files_added: u64,
    pub read_version: u64,
    /// The version committed; `None` when nothing was written.
    pub table_version: Option<u64>,
    /// Milliseconds per step: `read`, `write`, `verify`, `commit`.
    pub steps_ms: BTreeMap<String, u64>,
}

/// Rewrite `updates` into `table` (at its latest version) as one verified commit;
/// `staging` is an empty directory outside the warehouse for the new files.
pub async fn rewrite(
    table: &DeltaTable,
    updates: &Updates,
    tag: &Tag,
    staging: &Path,
) -> Result<RewriteMetrics> {
    let mut lap = Lap::new();
    let context = format!("rewriting {}", table.table_url());
    let state = table.snapshot().map_err(Error::delta(context.clone()))?;
    let mut metrics = RewriteMetrics {
        num_updates: updates.batch.num_rows() as u64,
        read_version: state.version() as u64,
        ..Default::default()
    };
    if metrics.num_updates == 0 {
        return Ok(metrics);
    }
    refuse_unsupported(table)?;
    let plan = Plan::new(table, updates)?;
    let mut files = plan.read_files()?;
    let applied = plan.match_rows(&files)?;
    plan.replace_rows(&mut files, &applied)?;
    lap.record(&mut metrics, "read");
    metrics.num_rows_written = applied.rows;
    metrics.num_conflicts = metrics.num_updates - applied.updates;
    metrics.conflict_keys = plan.conflict_keys(&applied);
    let rewritten: Vec<&OldFile> = files.iter().filter(|f| f.replaced > 0).collect();
    if rewritten.is_empty() {
        return Ok(metrics);
    }
    let adds = plan.write(&rewritten, staging).await?;
    lap.record(&mut metrics, "write");
    failpoint::hit("merge:files-written").await;
    plan.verify(&rewritten, &adds, staging, applied.rows)?;
    lap.record(&mut metrics, "verify");
    failpoint::hit("merge:verified").await;
    let moved = move_into_table(&adds, staging, &plan.root)?;
    metrics.num_files_removed = rewritten.len() as u64;
    metrics.num_files_added = adds.len() as u64;
    let committed = plan.commit(table, &rewritten, adds, tag, &metrics).await;
    let version = match committed {
        Ok(v) => v,
        Err(e) => {
            for path in moved {
                let _ = std::fs::remove_file(path);
            }
            return Err(e);
        }
    };
    lap.record(&mut metrics, "commit");
    metrics.table_version = Some(version);
    Ok(metrics)
}

/// A table whose features a plain file rewrite would not honour is refused, before
/// anything is written.
fn refuse_unsupported(table: &DeltaTable) -> Result<()> {
    let context = format!("rewriting {}", table.table_url());
    let state = table.snapshot().map_err(Error::delta(context.clone()))?;
    PROTOCOL
        .can_write_to(state)
        .and_then(|()| PROTOCOL.check_append_only(state.snapshot()))
        .map_err(|e| Error::input(format!("{context}: {e}")))?;
    let config = state.snapshot().metadata().configuration();
    for (key, why) in [
        ("delta.enableChangeDataFeed", "change data feed"),
        ("delta.enableDeletionVectors", "deletion vectors"),
    ] {
        if config.get(key).is_some_and(|v| v == "true") {
            return Err(Error::input(format!(
                "{context}: the table has {why} enabled ({key}), which this tool does not write; \
                 nothing was written"
            )));
        }
    }
    if config
        .get("delta.columnMapping.mode")
        .is_some_and(|m| m != "none")
    {
        return Err(Error::input(format!(
            "{context}: the table uses column mapping, which this tool does not write; nothing was written"
        )));
    }
    Ok(())
}

/// Times consecutive steps.
struct Lap(std::time::Instant);

impl Lap {
    fn new() -> Lap {
        Lap(std::time::Instant::now())
    }

    fn record(&mut self, metrics: &mut RewriteMetrics, step: &str) {
        let ms = self.0.elapsed().as_millis() as u64;
        metrics.steps_ms.insert(step.to_string(), ms);
        self.0 = std::time::Instant::now();
    }
}

/// One data file of a touched partition, read whole into the table's schema.
struct OldFile {
    file: DataFile,
    /// The partition's game date.
    date: i32,
    batches: Vec<RecordBatch>,
    /// Rows replaced in it.
    replaced: u64,
}

/// Which updates apply, and the rows they replace.
#[derive(Default)]
struct Applied {
    /// Per update: whether it applies.
    applies: Vec<bool>,
    updates: u64,
    rows: u64,
}

/// The rewrite worked out against one snapshot.
struct Plan {
    root: PathBuf,
    schema: SchemaRef,
    partitions: Vec<String>,
    /// Names of the replaced columns.
    written: Vec<String>,
    /// The update columns, cast to the table's types, and the guard.
    columns: Vec<ArrayRef>,
    guard: ArrayRef,
    guarded: bool,
    keys: Vec<(String, i32)>,
    by_key: HashMap<(String, i32), usize>,
    files: Vec<(DataFile, i32)>,
    stats: deltalake::operations::write::WriterStatsConfig,
}

impl Plan {
    fn new(table: &DeltaTable, updates: &Updates) -> Result<Plan> {
        let context = format!("rewriting {}", table.table_url());
        let state = table.snapshot().map_err(Error::delta(context.clone()))?;
        let snapshot = state.snapshot();
        let root = table
            .table_url()
            .to_file_path()
            .map_err(|()| Error::input(format!("{context}: not a local table")))?;
        let schema = snapshot.arrow_schema();
        let partitions = snapshot.metadata().partition_columns().to_vec();
        if partitions != [GAME_DATE] {
            return Err(Error::input(format!(
                "{context}: expected the table partitioned by {GAME_DATE}, it is partitioned by {partitions:?}"
            )));
        }
        let batch = &updates.batch;
        let written: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| ![PLAYER_LOOKUP, GAME_DATE, GUARD].contains(&n.as_str()))
            .collect();
        let columns = written
            .iter()
            .map(|name| {
                let field = schema.field_with_name(name).map_err(|_| {
                    Error::input(format!("{context}: the table has no column `{name}`"))
                })?;
                let values = batch.column_by_name(name).expect("named from the schema");
                arrow::compute::cast(values, field.data_type())
                    .map_err(Error::arrow(format!("{context}: casting `{name}`")))
            })
            .collect::<Result<Vec<_>>>()?;
        let guard = column_of(batch, GUARD, &context)?;
        let keys = keys_of(batch, &context)?;
        let mut by_key = HashMap::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            if by_key.insert(key.clone(), i).is_some() {
                return Err(Error::input(format!(
                    "{context}: two updates for {} on {}",
                    key.0,
                    days_to_date(key.1)
                )));
            }
        }
        let dates: BTreeSet<i32> = keys.iter().map(|k| k.1).collect();
        let files = snapshot
            .log_data()
            .iter()
            .filter_map(|f| {
                let values = f.partition_values_map();
                let day = values.get(GAME_DATE).cloned().flatten()?;
                let date = date_to_days(day.parse::<NaiveDate>().ok()?);
                dates.contains(&date).then(|| {
                    let file = DataFile {
                        path: commit_rows::local_path(&root, &f.path()),
                        partition: commit_rows::partition_key(values),
                        deletion_vector: f.deletion_vector_descriptor().is_some(),
                    };
                    (file, date)
                })
            })
            .collect::<Vec<_>>();
        if let Some((f, _)) = files.iter().find(|(f, _)| f.deletion_vector) {
            return Err(Error::input(format!(
                "{context}: {} carries a deletion vector, which this tool does not rewrite; nothing was written",
                f.path.display()
            )));
        }
        Ok(Plan {
            root,
            stats: deltalake::operations::write::WriterStatsConfig::from_config(
                snapshot.table_configuration(),
            ),
            schema,
            partitions,
            written,
            columns,
            guard,
            guarded: updates.guarded,
            keys,
            by_key,
            files,
        })
    }

    /// Every file of the touched partitions, in the table's schema (the partition column
    /// filled in from the file's partition value).
    fn read_files(&self) -> Result<Vec<OldFile>> {
        use rayon::prelude::*;
        let fields = commit_rows::data_columns(&self.schema, &self.partitions, &[]);
        let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
        self.files
            .par_iter()
            .map(|(file, date)| {
                let batches = crate::local_parquet::read_file(&file.path, None, &names)?
                    .map(|batch| self.full_batch(&batch?, *date, &file.path))
                    .collect::<Result<Vec<_>>>()?;
                Ok(OldFile {
                    file: file.clone(),
                    date: *date,
                    batches,
                    replaced: 0,
                })
            })
            .collect()
    }

    fn full_batch(&self, batch: &RecordBatch, date: i32, path: &Path) -> Result<RecordBatch> {
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                GAME_DATE => {
                    Ok(Arc::new(Date32Array::from(vec![date; batch.num_rows()])) as ArrayRef)
                }
                _ => commit_rows::column(batch, f, path),
            })
            .collect::<Result<Vec<_>>>()?;
        RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(Error::arrow(format!("reading {}", path.display())))
    }

    /// Which updates apply: every row of the key (another writer may have duplicated it)
    /// carries the guard, and there is at least one.
    fn match_rows(&self, files: &[OldFile]) -> Result<Applied> {
        let mut seen = vec![0u64; self.keys.len()];
        let mut guarded_ok = vec![0u64; self.keys.len()];
        for file in files {
            for batch in &file.batches {
                let players = strings(batch, PLAYER_LOOKUP)?;
                let stamps = batch
                    .column_by_name(UPDATED_AT)
                    .expect("the table has updated_at")
                    .as_primitive::<TimestampMicrosecondType>();
                for i in 0..batch.num_rows() {
                    if players.is_null(i) {
                        continue;
                    }
                    let key = (players.value(i).to_string(), file.date);
                    if let Some(&u) = self.by_key.get(&key) {
                        seen[u] += 1;
                        guarded_ok[u] += u64::from(self.guard_holds(stamps, i, u));
                    }
                }
            }
        }
        let applies: Vec<bool> = (0..self.keys.len())
            .map(|u| seen[u] > 0 && (!self.guarded || guarded_ok[u] == seen[u]))
            .collect();
        Ok(Applied {
            updates: applies.iter().filter(|a| **a).count() as u64,
            rows: (0..self.keys.len())
                .filter(|u| applies[*u])
                .map(|u| seen[u])
                .sum(),
            applies,
        })
    }

    /// Whether row `i`'s `updated_at` is update `u`'s guard (NULL equals NULL).
    fn guard_holds(
        &self,
        stamps: &arrow::array::PrimitiveArray<TimestampMicrosecondType>,
        i: usize,
        u: usize,
    ) -> bool {
        let guard = self.guard.as_primitive::<TimestampMicrosecondType>();
        match (stamps.is_null(i), guard.is_null(u)) {
            (true, true) => true,
            (false, false) => stamps.value(i) == guard.value(u),
            _ => false,
        }
    }

    /// Replace the written columns of the applying updates' rows, in place.
    fn replace_rows(&self, files: &mut [OldFile], applied: &Applied) -> Result<()> {
        for file in files.iter_mut() {
            for batch in &mut file.batches {
                let players = strings(batch, PLAYER_LOOKUP)?;
                let picks: Vec<Option<usize>> = (0..batch.num_rows())
                    .map(|i| {
                        if players.is_null(i) {
                            return None;
                        }
                        let key = (players.value(i).to_string(), file.date);
                        self.by_key
                            .get(&key)
                            .copied()
                            .filter(|u| applied.applies[*u])
                    })
                    .collect();
                let count = picks.iter().flatten().count() as u64;
                if count == 0 {
                    continue;
                }
                file.replaced += count;
                *batch = self.replaced(batch, &picks, &file.file.path)?;
            }
        }
        Ok(())
    }

    fn replaced(
        &self,
        batch: &RecordBatch,
        picks: &[Option<usize>],
        path: &Path,
    ) -> Result<RecordBatch> {
        let context = format!("rewriting {}", path.display());
        let indices: Vec<(usize, usize)> = picks
            .iter()
            .enumerate()
            .map(|(i, pick)| match pick {
                Some(u) => (1, *u),
                None => (0, i),
            })
            .collect();
        let mut columns = batch.columns().to_vec();
        for (name, values) in self.written.iter().zip(&self.columns) {
            let at = self.schema.index_of(name).expect("checked in Plan::new");
            columns[at] =
                arrow::compute::interleave(&[columns[at].as_ref(), values.as_ref()], &indices)
                    .map_err(Error::arrow(context.clone()))?;
        }
        if failpoint::injected("merge:touch-data-hash")
            && let Ok(at) = self.schema.index_of("data_hash")
        {
            let touched: StringArray = picks
                .iter()
                .enumerate()
                .map(|(i, p)| match p {
                    Some(_) => Some("0000000000000000".to_string()),
                    None => columns[at]
                        .as_string_opt::<i32>()
                        .map(|s| s.value(i).to_string()),
                })
                .collect();
            columns[at] = Arc::new(touched);
        }
        RecordBatch::try_new(self.schema.clone(), columns).map_err(Error::arrow(context))
    }

    /// Conflicting keys, by date and player, at most [`MAX_CONFLICT_KEYS`].
    fn conflict_keys(&self, applied: &Applied) -> Vec<(String, NaiveDate)> {
        let mut keys: Vec<(i32, &str)> = (0..self.keys.len())
            .filter(|u| !applied.applies[*u])
            .map(|u| (self.keys[u].1, self.keys[u].0.as_str()))
            .collect();
        keys.sort_unstable();
        keys.into_iter()
            .take(MAX_CONFLICT_KEYS)
            .map(|(d, p)| (p.to_string(), days_to_date(d)))
            .collect()
    }

    /// The rewritten files, written under `staging` with the table's writer settings.
    async fn write(&self, files: &[&OldFile], staging: &Path) -> Result<Vec<Add>> {
        use deltalake::datafile::writer::{DeltaWriter, WriterConfig};
        let context = format!("writing the rewritten files under {}", staging.display());
        std::fs::create_dir_all(staging)
            .map_err(Error::io("creating the staging directory", staging))?;
        let store =
            object_store::local::LocalFileSystem::new_with_prefix(staging).map_err(|e| {
                Error::Remote {
                    context: context.clone(),
                    message: e.to_string(),
                }
            })?;
        let config = WriterConfig::new(
            self.schema.clone(),
            self.partitions.clone(),
            Some(crate::engine::table_writer_properties()),
            None,
            None,
            self.stats.num_indexed_cols,
            self.stats.stats_columns.clone(),
        );
        let mut writer = DeltaWriter::new(Arc::new(store), config);
        for file in files {
            for batch in &file.batches {
                writer
                    .write(batch)
                    .await
                    .map_err(Error::delta(context.clone()))?;
            }
        }
        let adds = writer
            .close()
            .await
            .map_err(Error::delta(context.clone()))?;
        let dates: BTreeSet<String> = files
            .iter()
            .map(|f| days_to_date(f.date).to_string())
            .collect();
        for add in &adds {
            let value = add.partition_values.get(GAME_DATE).cloned().flatten();
            if !value.as_ref().is_some_and(|v| dates.contains(v)) {
                return Err(Error::Invariant(format!(
                    "{context}: a file landed in partition {GAME_DATE}={value:?}, not one of the rewritten dates"
                )));
            }
        }
        Ok(adds)
    }

    /// The staged files hold the replaced files' rows: the same count, no column
    /// changed but the written ones, and no more rows changed than updates applied.
    fn verify(&self, old: &[&OldFile], adds: &[Add], staging: &Path, rows: u64) -> Result<()> {
        let removed: Vec<&DataFile> = old.iter().map(|f| &f.file).collect();
        let staged: Vec<DataFile> = adds
            .iter()
            .map(|a| DataFile {
                path: staging.join(&a.path),
                partition: commit_rows::partition_key(a.partition_values.clone()),
                deletion_vector: false,
            })
            .collect();
        let added: Vec<&DataFile> = staged.iter().collect();
        let written: Vec<&str> = self.written.iter().map(String::as_str).collect();
        let kept = commit_rows::data_columns(&self.schema, &self.partitions, &written);
        let c = commit_rows::compare_files(&removed, &added, &kept)?;
        let all = commit_rows::data_columns(&self.schema, &self.partitions, &[]);
        let changed = commit_rows::compare_files(&removed, &added, &all)?.rows_changed as u64;
        let problem = if c.rows_removed != c.rows_added {
            Some(format!(
                "the rewrite replaced {} rows with {}",
                c.rows_removed, c.rows_added
            ))
        } else if c.rows_changed > 0 {
            Some(format!(
                "{} rows changed in columns other than {}",
                c.rows_changed,
                written.join(", ")
            ))
        } else if changed > rows {
            Some(format!(
                "{changed} rows changed, but only {rows} were to be updated"
            ))
        } else {
            None
        };
        match problem {
            Some(p) => Err(Error::Invariant(format!(
                "write invariant violated before the commit: {p}; nothing was committed"
            ))),
            None => Ok(()),
        }
    }

    /// One transaction: remove the old files, add the new ones, record the run.
    async fn commit(
        &self,
        table: &DeltaTable,
        old: &[&OldFile],
        adds: Vec<Add>,
        tag: &Tag,
        metrics: &RewriteMetrics,
    ) -> Result<u64> {
        let context = format!("committing to {}", table.table_url());
        let state = table.snapshot().map_err(Error::delta(context.clone()))?;
        let log_data = state.snapshot().log_data();
        let removes: Vec<Action> = log_data
            .iter()
            .filter(|f| {
                let path = commit_rows::local_path(&self.root, &f.path());
                old.iter().any(|o| o.file.path == path)
            })
            .map(|f| Action::Remove(f.remove_action(true)))
            .collect();
        let mut actions: Vec<Action> = adds.into_iter().map(Action::Add).collect();
        actions.extend(removes);
        let dates: Vec<String> = old
            .iter()
            .map(|f| format!("DATE '{}'", days_to_date(f.date)))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let predicate = format!("{GAME_DATE} IN ({})", dates.join(", "));
        let sequence = super::log::transaction_version(table, TOOL_APP_ID)
            .await?
            .unwrap_or(0)
            + 1;
        let properties = CommitProperties::default()
            .with_metadata([
                (tag.key.to_string(), serde_json::json!(tag.run_id)),
                (
                    "readVersion".to_string(),
                    serde_json::json!(metrics.read_version),
                ),
                (
                    "operationMetrics".to_string(),
                    serde_json::json!({
                        "num_target_rows_updated": metrics.num_rows_written,
                        "num_conflicts": metrics.num_conflicts,
                        "num_removed_files": old.len(),
                    }),
                ),
            ])
            .with_application_transaction(Transaction::new(TOOL_APP_ID, sequence))
            .with_application_transaction(Transaction::new(&tag.app_id, 1));
        let prepared = CommitBuilder::from(properties)
            .with_actions(actions)
            .build(
                Some(state),
                table.log_store(),
                DeltaOperation::Update {
                    predicate: Some(predicate),
                },
            )
            .into_prepared_commit_future()
            .await
            .map_err(|e| commit_error(e, tag))?;
        let post = prepared.await.map_err(|e| commit_error(e, tag))?;
        let version = post.version as u64;
        failpoint::hit("merge:after-commit").await;
        // Checkpoints and log cleanup: the commit stands whether or not they succeed.
        if let Err(e) = post.await {
            tracing::warn!("after commit {version}: {e}");
        }
        Ok(version)
    }
}

/// Move the staged files into the table directory (rename, or copy across devices);
/// the paths moved, so a failed commit can take them out again.
fn move_into_table(adds: &[Add], staging: &Path, root: &Path) -> Result<Vec<PathBuf>> {
    let mut moved = Vec::with_capacity(adds.len());
    for add in adds {
        let (from, to) = (staging.join(&add.path), root.join(&add.path));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io("creating a partition directory", parent))?;
        }
        if std::fs::rename(&from, &to).is_err() {
            std::fs::copy(&from, &to)
                .map_err(Error::io("copying a rewritten file into the table", &to))?;
            std::fs::File::open(&to)
                .and_then(|f| f.sync_all())
                .map_err(Error::io("syncing a rewritten file", &to))?;
        }
        moved.push(to);
    }
    Ok(moved)
}

/// A lost commit race says what happened and what to do.
fn commit_error(e: deltalake::DeltaTableError, tag: &Tag) -> Error {
    use deltalake::DeltaTableError as D;
    use deltalake::kernel::transaction::TransactionError as T;
    let lost_race = matches!(
        &e,
        D::VersionAlreadyExists(_)
            | D::Transaction {
                source: T::CommitConflict(_) | T::VersionAlreadyExists(_) | T::MaxCommitAttempts(_)
            }
    );
    let context = if lost_race {
        format!(
            "another writer committed to the table during this write (a concurrent transaction \
             conflict); nothing of run {} was committed. Run it again (`--resume {}` for a \
             backfill): it rechecks every row and leaves the other writer's rows alone",
            tag.run_id, tag.run_id
        )
    } else {
        "committing to the table".to_string()
    };
    Error::delta(context)(e)
}

/// A string column as `Utf8` (whatever string type the table's schema uses).
fn strings(batch: &RecordBatch, name: &str) -> Result<StringArray> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::input(format!("no column `{name}`")))?;
    let cast = arrow::compute::cast(column, &DataType::Utf8)
        .map_err(Error::arrow(format!("reading `{name}`")))?;
    Ok(cast.as_string::<i32>().clone())
}

fn column_of(batch: &RecordBatch, name: &str, context: &str) -> Result<ArrayRef> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::input(format!("{context}: the updates have no `{name}`")))?;
    arrow::compute::cast(
        column,
        &DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, Some("UTC".into())),
    )
    .map_err(Error::arrow(format!("{context}: reading `{name}`")))
}

fn keys_of(batch: &RecordBatch, context: &str) -> Result<Vec<(String, i32)>> {
    let players = arrow::compute::cast(
        batch
            .column_by_name(PLAYER_LOOKUP)
            .ok_or_else(|| Error::input(format!("{context}: the updates have no player_lookup")))?,
        &DataType::Utf8,
    )
    .map_err(Error::arrow(context.to_string()))?;
    let players = players.as_string::<i32>();
    let dates = batch
        .column_by_name(GAME_DATE)
        .ok_or_else(|| Error::input(format!("{context}: the updates have no game_date")))?
        .as_primitive_opt::<Date32Type>()
        .ok_or_else(|| Error::input(format!("{context}: game_date is not a DATE")))?;
    (0..batch.num_rows())
        .map(|i| {
            if players.is_null(i) || dates.is_null(i) {
                return Err(Error::input(format!(
                    "{context}: an update with a NULL key"
                )));
            }
            Ok((players.value(i).to_string(), dates.value(i)))
        })
        .collect()
}
