//! The one way the tool writes to a Delta table: a verified rewrite of whole data files,
//! committed as one transaction.
//!
//! 1. Read the latest snapshot; refuse what a rewrite cannot honour
//!    ([`super::writable`]: deletion vectors, column mapping, change data feed, writer
//!    features delta-rs lacks, generated columns computed from a written column, data
//!    files off the local disk).
//! 2. Read, from every data file of the partitions (game dates) the updates touch, the
//!    keys and the columns the updates carry (the struct, `updated_at`, the extended
//!    struct), row group by row group.
//! 3. Apply each update to its key's rows when every row of that key still carries the
//!    `updated_at` the update was planned against (its guard); otherwise the key is a
//!    conflict: someone wrote it after the plan, and it is left alone.
//! 4. Evaluate the table's rules ([`super::rules`]: CHECK constraints, invariants,
//!    generated columns, NOT NULL) on every replaced row; a broken rule refuses the
//!    write, naming it and a key that breaks it.
//! 5. Write the files that have a replaced row again, into a staging directory outside
//!    the warehouse: the same row groups, the replaced columns encoded anew, every other
//!    column chunk copied byte for byte ([`super::splice`]).
//! 6. Verify the staged files against the files they replace, read back from disk: the
//!    same row groups of the same rows, every other column chunk identical byte for byte,
//!    no more rows changed than updates applied.
//! 7. Move the staged files into the table, under its root with relative names
//!    ([`super::paths`]), and check before the commit that each add names the file that
//!    was verified and each remove names its file exactly as the log does. Commit one
//!    transaction (remove, add, and the `txn` actions of [`super::log`]) through
//!    delta-rs's commit machinery, whose conflict checker guards the snapshot read in
//!    step 1. A failure before the commit lands deletes the moved files.
//!
//! Steps 1–4 alone are [`preview`]: what a dry run asks before it plans a run.
//!
//! Nothing enters the table before the verification passed and nothing unverified is
//! committed, so a crash at any instant leaves the table exactly before or after.
//! Reading only the touched partitions and skipping a MERGE's join is also the fast path.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Date32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Date32Type, Field, Schema, TimestampMicrosecondType};
use chrono::NaiveDate;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, Transaction};
use deltalake::protocol::DeltaOperation;
use serde::Serialize;

use super::log::TOOL_APP_ID;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::model::{GAME_DATE, PLAYER_LOOKUP, UPDATED_AT, date_to_days, days_to_date};
use crate::warehouse::delta::commit_rows::{self, DataFile};
use crate::warehouse::delta::paths;
use crate::warehouse::delta::rules::{Rules, Violation};

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
    let Prepared {
        plan,
        files,
        mut metrics,
    } = prepare(table, updates, false).await?;
    lap.record(&mut metrics, "read");
    let Some(plan) = plan.filter(|_| !files.is_empty()) else {
        return Ok(metrics);
    };
    let rewritten: Vec<&OldFile> = files.iter().collect();
    let adds = plan.write(&rewritten, staging)?;
    lap.record(&mut metrics, "write");
    failpoint::hit("merge:files-written").await;
    let marks = plan.verify(&rewritten, &adds, staging, metrics.num_rows_written)?;
    lap.record(&mut metrics, "verify");
    failpoint::hit("merge:verified").await;
    let removes = plan.removes(table, &rewritten)?;
    let moved = move_into_table(&adds, staging, &plan.root)?;
    metrics.num_files_removed = rewritten.len() as u64;
    metrics.num_files_added = adds.len() as u64;
    let committed = match plan.check_adds(&adds, &marks) {
        Ok(()) => {
            let dates = rewritten.iter().map(|f| f.date);
            plan.commit(table, dates, adds, removes, tag, &metrics)
                .await
        }
        Err(e) => Err(e),
    };
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

/// What [`rewrite`] would write, refused where it would refuse, without writing: the
/// rows it would replace and the conflicts it would leave alone.
pub async fn preview(table: &DeltaTable, updates: &Updates) -> Result<RewriteMetrics> {
    Ok(prepare(table, updates, true).await?.metrics)
}

/// Steps 1–4: the plan, the files with a replaced row (their rows replaced), the counts.
struct Prepared {
    plan: Option<Plan>,
    files: Vec<OldFile>,
    metrics: RewriteMetrics,
}

async fn prepare(table: &DeltaTable, updates: &Updates, dry: bool) -> Result<Prepared> {
    let context = format!("rewriting {}", table.table_url());
    let state = table.snapshot().map_err(Error::delta(context))?;
    let mut metrics = RewriteMetrics {
        num_updates: updates.batch.num_rows() as u64,
        read_version: state.version() as u64,
        ..Default::default()
    };
    if metrics.num_updates == 0 {
        return Ok(Prepared {
            plan: None,
            files: Vec::new(),
            metrics,
        });
    }
    let plan = Plan::new(table, updates, dry)?;
    let mut files = plan.read_files()?;
    let applied = plan.match_rows(&files);
    plan.replace_rows(&mut files, &applied)?;
    files.retain(|f| f.replaced > 0);
    metrics.num_rows_written = applied.rows;
    metrics.num_conflicts = metrics.num_updates - applied.updates;
    metrics.conflict_keys = plan.conflict_keys(&applied);
    if let Some(broken) = plan.first_violation(&files).await? {
        let verb = if dry {
            "would be refused"
        } else {
            "is refused"
        };
        return Err(Error::input(format!(
            "{}: a merge into this table {verb}: the table's {broken}; nothing was written",
            super::writable::table_name(table)
        )));
    }
    Ok(Prepared {
        plan: Some(plan),
        files,
        metrics,
    })
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

/// One data file of a touched partition: what the rewrite reads and replaces.
struct OldFile {
    file: DataFile,
    /// Its bytes.
    source: super::splice::Source,
    partition_values: HashMap<String, Option<String>>,
    /// Its statistics in the log.
    stats: Option<String>,
    /// The partition's game date.
    date: i32,
    /// Per row group: `player_lookup`, then the written columns, as read.
    groups: Vec<Vec<ArrayRef>>,
    /// Per row group: the written columns with the updates applied.
    replacements: Vec<Vec<ArrayRef>>,
    /// Per row group: which rows were replaced (`None`: none).
    picked: Vec<Option<BooleanArray>>,
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
    /// The written columns, as the table types them.
    written: Vec<Field>,
    /// Index of `updated_at` among them (the guard compares it).
    stamp: usize,
    /// The update columns, cast to the table's types, and the guard.
    columns: Vec<ArrayRef>,
    guard: ArrayRef,
    guarded: bool,
    keys: Vec<(String, i32)>,
    /// Update index by date, then player (looked up with borrowed names).
    by_key: HashMap<i32, HashMap<String, usize>>,
    /// `player_lookup` in the table's type.
    player: Field,
    files: Vec<FileEntry>,
    /// What the table demands of every row written.
    rules: Rules,
    /// The table's columns as stored in data files (every one nullable, to hold rows
    /// that break a rule), then `game_date`: the rows the rules are evaluated on.
    row_fields: Vec<Field>,
}

/// A data file of the snapshot in a touched partition.
struct FileEntry {
    file: DataFile,
    partition_values: HashMap<String, Option<String>>,
    stats: Option<String>,
    date: i32,
}

impl Plan {
    fn new(table: &DeltaTable, updates: &Updates, dry: bool) -> Result<Plan> {
        let context = format!("rewriting {}", table.table_url());
        let state = table.snapshot().map_err(Error::delta(context.clone()))?;
        let snapshot = state.snapshot();
        let root = table
            .table_url()
            .to_file_path()
            .map_err(|()| Error::input(format!("{context}: not a local table")))?;
        let schema = snapshot.arrow_schema();
        let field = |name: &str| -> Result<Field> {
            schema
                .field_with_name(name)
                .cloned()
                .map_err(|_| Error::input(format!("{context}: the table has no column `{name}`")))
        };
        let batch = &updates.batch;
        let batch_schema = batch.schema();
        let names: Vec<&str> = batch_schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .filter(|n| ![PLAYER_LOOKUP, GAME_DATE, GUARD].contains(n))
            .collect();
        super::writable::refuse(table, &names, dry)?;
        let written = names.iter().map(|n| field(n)).collect::<Result<Vec<_>>>()?;
        let stamp = written
            .iter()
            .position(|f| f.name() == UPDATED_AT)
            .ok_or_else(|| {
                Error::input(format!("{context}: the updates do not set {UPDATED_AT}"))
            })?;
        let columns = written
            .iter()
            .map(|f| {
                let values = batch
                    .column_by_name(f.name())
                    .expect("named from the schema");
                arrow::compute::cast(values, f.data_type())
                    .map_err(Error::arrow(format!("{context}: casting `{}`", f.name())))
            })
            .collect::<Result<Vec<_>>>()?;
        let guard = column_of(batch, GUARD, &context)?;
        let keys = keys_of(batch, &context)?;
        let mut by_key: HashMap<i32, HashMap<String, usize>> = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            if by_key
                .entry(key.1)
                .or_default()
                .insert(key.0.clone(), i)
                .is_some()
            {
                return Err(Error::input(format!(
                    "{context}: two updates for {} on {}",
                    key.0,
                    days_to_date(key.1)
                )));
            }
        }
        let files = touched_files(snapshot, &root, &keys)?;
        if let Some(f) = files.iter().find(|f| f.file.deletion_vector) {
            return Err(Error::input(format!(
                "{context}: {} carries a deletion vector, which this tool does not rewrite; nothing was written",
                f.file.path.display()
            )));
        }
        Ok(Plan {
            root,
            // Names are compared as plain strings whatever the table's string type.
            player: Field::new(PLAYER_LOOKUP, DataType::Utf8, true),
            written,
            stamp,
            columns,
            guard,
            guarded: updates.guarded,
            keys,
            by_key,
            files,
            rules: Rules::of(table, &names)?,
            row_fields: row_fields(&schema),
        })
    }

    /// From every file of the touched partitions, per row group: the keys and the
    /// written columns, in the table's types.
    fn read_files(&self) -> Result<Vec<OldFile>> {
        use rayon::prelude::*;
        let fields: Vec<Field> = std::iter::once(self.player.clone())
            .chain(self.written.iter().cloned())
            .collect();
        self.files
            .par_iter()
            .map(|f| {
                let source = super::splice::Source::read(&f.file.path)?;
                let groups = super::splice::read_columns(&source, &fields)?;
                Ok(OldFile {
                    file: f.file.clone(),
                    source,
                    partition_values: f.partition_values.clone(),
                    stats: f.stats.clone(),
                    date: f.date,
                    replacements: groups.iter().map(|g| g[1..].to_vec()).collect(),
                    picked: vec![None; groups.len()],
                    groups,
                    replaced: 0,
                })
            })
            .collect()
    }

    /// Which updates apply: every row of the key (another writer may have duplicated it)
    /// carries the guard, and there is at least one.
    fn match_rows(&self, files: &[OldFile]) -> Applied {
        let mut seen = vec![0u64; self.keys.len()];
        let mut guarded_ok = vec![0u64; self.keys.len()];
        for file in files {
            let Some(updates) = self.by_key.get(&file.date) else {
                continue;
            };
            for group in &file.groups {
                let players = group[0].as_string::<i32>();
                let stamps = group[1 + self.stamp].as_primitive::<TimestampMicrosecondType>();
                for i in 0..players.len() {
                    if players.is_null(i) {
                        continue;
                    }
                    if let Some(&u) = updates.get(players.value(i)) {
                        seen[u] += 1;
                        guarded_ok[u] += u64::from(self.guard_holds(stamps, i, u));
                    }
                }
            }
        }
        let applies: Vec<bool> = (0..self.keys.len())
            .map(|u| seen[u] > 0 && (!self.guarded || guarded_ok[u] == seen[u]))
            .collect();
        Applied {
            updates: applies.iter().filter(|a| **a).count() as u64,
            rows: (0..self.keys.len())
                .filter(|u| applies[*u])
                .map(|u| seen[u])
                .sum(),
            applies,
        }
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

    /// The written columns with the applying updates' rows replaced.
    fn replace_rows(&self, files: &mut [OldFile], applied: &Applied) -> Result<()> {
        for file in files.iter_mut() {
            let updates = self.by_key.get(&file.date);
            let groups = file.groups.iter().zip(&mut file.replacements);
            for ((group, replacement), picked) in groups.zip(&mut file.picked) {
                let players = group[0].as_string::<i32>();
                let picks: Vec<Option<usize>> = (0..players.len())
                    .map(|i| {
                        if players.is_null(i) {
                            return None;
                        }
                        let u = updates?.get(players.value(i)).copied()?;
                        applied.applies[u].then_some(u)
                    })
                    .collect();
                let count = picks.iter().flatten().count() as u64;
                if count == 0 {
                    continue;
                }
                file.replaced += count;
                *replacement = self.replaced(&group[1..], &picks, &file.file.path)?;
                *picked = Some(picks.iter().map(|p| Some(p.is_some())).collect());
            }
        }
        Ok(())
    }

    fn replaced(
        &self,
        old: &[ArrayRef],
        picks: &[Option<usize>],
        path: &Path,
    ) -> Result<Vec<ArrayRef>> {
        let context = format!("rewriting {}", path.display());
        let indices: Vec<(usize, usize)> = picks
            .iter()
            .enumerate()
            .map(|(i, pick)| match pick {
                Some(u) => (1, *u),
                None => (0, i),
            })
            .collect();
        old.iter()
            .zip(&self.columns)
            .map(|(old, new)| {
                arrow::compute::interleave(&[old.as_ref(), new.as_ref()], &indices)
                    .map_err(Error::arrow(context.clone()))
            })
            .collect()
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

    /// The rewritten files, written flat under `staging` ([`staged`]), each
    /// the old file with its written columns replaced; their add actions.
    fn write(&self, files: &[&OldFile], staging: &Path) -> Result<Vec<Add>> {
        use rayon::prelude::*;
        let now = chrono::Utc::now().timestamp_millis();
        files
            .par_iter()
            .map(|f| {
                let relative = paths::new_file(days_to_date(f.date));
                let (mut fields, mut values) = (self.written.clone(), f.replacements.clone());
                if failpoint::injected("merge:touch-data-hash") {
                    touch_data_hash(f, &mut fields, &mut values)?;
                }
                let size = super::splice::splice(
                    &f.source,
                    &staged(staging, &relative),
                    &fields,
                    &values,
                    crate::io::engine::table_writer_properties(),
                )?;
                Ok(Add {
                    path: relative,
                    partition_values: f.partition_values.clone(),
                    size: size as i64,
                    modification_time: now,
                    data_change: true,
                    stats: stats_without(f.stats.as_deref(), &self.written),
                    ..Default::default()
                })
            })
            .collect()
    }

    /// The staged files against the files they replace, read back from disk: the same
    /// row groups, every other column chunk byte-identical ([`super::splice::verify`]),
    /// and no more rows changed in the written columns than updates applied. Returns
    /// what identifies each verified file, to find it again in the table.
    fn verify(
        &self,
        old: &[&OldFile],
        adds: &[Add],
        staging: &Path,
        rows: u64,
    ) -> Result<Vec<paths::FileMark>> {
        use rayon::prelude::*;
        let checked = old
            .par_iter()
            .zip(adds)
            .map(|(f, add)| {
                let path = staged(staging, &add.path);
                let back = super::splice::verify(&f.source, &path, &self.written)?;
                let before: Vec<&[ArrayRef]> = f.groups.iter().map(|g| &g[1..]).collect();
                Ok((
                    changed_rows(&before, &back, &self.written)?,
                    paths::FileMark::of(&path)?,
                ))
            })
            .collect::<Result<Vec<(u64, paths::FileMark)>>>()?;
        let changed: u64 = checked.iter().map(|c| c.0).sum();
        if changed > rows {
            return Err(Error::Invariant(format!(
                "write invariant violated before the commit: {changed} rows changed, but only \
                 {rows} were to be updated; nothing was committed"
            )));
        }
        Ok(checked.into_iter().map(|c| c.1).collect())
    }

    /// The first rule of the table the replaced rows break.
    async fn first_violation(&self, files: &[OldFile]) -> Result<Option<Violation>> {
        if self.rules.is_empty() || files.is_empty() {
            return Ok(None);
        }
        let rows = files
            .iter()
            .map(|f| self.replaced_rows(f))
            .collect::<Result<Vec<_>>>()?;
        let schema = Arc::new(Schema::new(self.row_fields.clone()));
        let rows = arrow::compute::concat_batches(&schema, &rows)
            .map_err(Error::arrow("collecting the rows to write"))?;
        self.rules.first_violation(rows).await
    }

    /// The rows of `f` the rewrite replaces, whole, as they would be written.
    fn replaced_rows(&self, f: &OldFile) -> Result<RecordBatch> {
        let context = || format!("reading {}", f.file.path.display());
        let stored = &self.row_fields[..self.row_fields.len() - 1];
        let groups = super::splice::read_columns(&f.source, stored)?;
        let schema = Arc::new(Schema::new(self.row_fields.clone()));
        let mut out = Vec::new();
        for (g, mut columns) in groups.into_iter().enumerate() {
            let Some(picked) = &f.picked[g] else {
                continue;
            };
            for (field, values) in self.written.iter().zip(&f.replacements[g]) {
                let at = stored.iter().position(|s| s.name() == field.name());
                columns[at.expect("a written column is a stored column")] = values.clone();
            }
            columns.push(Arc::new(Date32Array::from(vec![f.date; picked.len()])));
            let rows =
                RecordBatch::try_new(schema.clone(), columns).map_err(Error::arrow(context()))?;
            out.push(
                arrow::compute::filter_record_batch(&rows, picked)
                    .map_err(Error::arrow(context()))?,
            );
        }
        arrow::compute::concat_batches(&schema, &out).map_err(Error::arrow(context()))
    }

    /// The remove actions of the replaced files, each checked to name its file exactly
    /// as the log's add did (else the old file would stay in the table).
    fn removes(&self, table: &DeltaTable, old: &[&OldFile]) -> Result<Vec<Action>> {
        let context = format!("committing to {}", table.table_url());
        let state = table.snapshot().map_err(Error::delta(context.clone()))?;
        let removes: Vec<(String, Action)> = state
            .snapshot()
            .log_data()
            .iter()
            .filter(|f| {
                let path = paths::resolve(&self.root, &f.path()).ok();
                old.iter().any(|o| Some(&o.file.path) == path.as_ref())
            })
            .map(|f| (f.path().into_owned(), Action::Remove(f.remove_action(true))))
            .collect();
        if removes.len() != old.len() {
            return Err(Error::Invariant(format!(
                "{context}: {} files to replace, but {} of them found in the log; nothing was \
                 committed",
                old.len(),
                removes.len()
            )));
        }
        let raw = paths::RawPaths::read(&self.root.join("_delta_log"))?;
        for (name, remove) in &removes {
            let logged = paths::logged_path(remove).unwrap_or_default();
            if !raw.contains(&logged) {
                return Err(Error::input(format!(
                    "{}: a merge into this table is refused: its log names the data file \
                     `{name}` in an encoding delta-rs does not write back (a remove would say \
                     `{logged}`, which matches no add, and leave the old file in the table); \
                     nothing was written",
                    super::writable::table_name(table)
                )));
            }
        }
        Ok(removes.into_iter().map(|r| r.1).collect())
    }

    /// Every add names, as a reader resolves it, the very file that was verified.
    fn check_adds(&self, adds: &[Add], marks: &[paths::FileMark]) -> Result<()> {
        for (add, mark) in adds.iter().zip(marks) {
            let logged = paths::logged_path(&Action::Add(add.clone())).unwrap_or_default();
            let path = paths::resolve(&self.root, &paths::decode(&logged))?;
            if paths::FileMark::of(&path).ok().as_ref() != Some(mark) {
                return Err(Error::Invariant(format!(
                    "write invariant violated before the commit: the add `{logged}` does not \
                     name the verified file {} (size and footer); nothing was committed",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// One transaction: remove the old files, add the new ones, record the run.
    async fn commit(
        &self,
        table: &DeltaTable,
        dates: impl Iterator<Item = i32>,
        adds: Vec<Add>,
        removes: Vec<Action>,
        tag: &Tag,
        metrics: &RewriteMetrics,
    ) -> Result<u64> {
        let context = format!("committing to {}", table.table_url());
        let state = table.snapshot().map_err(Error::delta(context.clone()))?;
        let num_removed = removes.len();
        let mut actions: Vec<Action> = adds.into_iter().map(Action::Add).collect();
        actions.extend(removes);
        let dates: Vec<String> = dates
            .map(|d| format!("DATE '{}'", days_to_date(d)))
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
                        "num_removed_files": num_removed,
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

/// The data files of `snapshot` in the partitions of `keys`' dates.
fn touched_files(
    snapshot: &deltalake::kernel::EagerSnapshot,
    root: &Path,
    keys: &[(String, i32)],
) -> Result<Vec<FileEntry>> {
    let dates: BTreeSet<i32> = keys.iter().map(|k| k.1).collect();
    let mut files = Vec::new();
    for f in snapshot.log_data().iter() {
        let values = f.partition_values_map();
        let Some(day) = values.get(GAME_DATE).cloned().flatten() else {
            continue;
        };
        let Some(date) = day.parse::<NaiveDate>().ok().map(date_to_days) else {
            continue;
        };
        if !dates.contains(&date) {
            continue;
        }
        files.push(FileEntry {
            file: DataFile {
                path: paths::resolve(root, &f.path())?,
                partition: commit_rows::partition_key(values.clone()),
                deletion_vector: f.deletion_vector_descriptor().is_some(),
            },
            partition_values: values,
            stats: f.stats(),
            date,
        });
    }
    Ok(files)
}

/// The table's columns as rows to check are built: the stored ones, nullable, then
/// `game_date`.
fn row_fields(schema: &arrow::datatypes::Schema) -> Vec<Field> {
    schema
        .fields()
        .iter()
        .filter(|f| f.name() != GAME_DATE)
        .map(|f| f.as_ref().clone().with_nullable(true))
        .chain(std::iter::once(Field::new(
            GAME_DATE,
            DataType::Date32,
            true,
        )))
        .collect()
}

/// Where a new file is staged: flat under `staging` by its file name (unique), so staging
/// creates and removes no partition directory per file (276 of each in a full backfill).
fn staged(staging: &Path, relative: &str) -> PathBuf {
    staging.join(relative.rsplit_once('/').map_or(relative, |(_, name)| name))
}

/// A file's statistics without the written columns (their old values no longer hold;
/// a column without statistics is read as unknown, never skipped wrongly).
fn stats_without(stats: Option<&str>, written: &[Field]) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(stats?).ok()?;
    for key in ["minValues", "maxValues", "nullCount"] {
        if let Some(map) = value.get_mut(key).and_then(|m| m.as_object_mut()) {
            for f in written {
                map.remove(f.name());
            }
        }
    }
    Some(value.to_string())
}

/// Rows whose written columns differ between `before` and `after`, row group by row
/// group (the rows of a group are in the same order in both files).
fn changed_rows(before: &[&[ArrayRef]], after: &[Vec<ArrayRef>], fields: &[Field]) -> Result<u64> {
    let converter = commit_rows::row_converter(fields)?;
    let mut changed = 0;
    for (a, b) in before.iter().zip(after) {
        let a = converter
            .convert_columns(a)
            .map_err(Error::arrow("comparing rewritten rows"))?;
        let b = converter
            .convert_columns(b)
            .map_err(Error::arrow("comparing rewritten rows"))?;
        changed += (0..a.num_rows()).filter(|&i| a.row(i) != b.row(i)).count() as u64;
    }
    Ok(changed)
}

/// Test fault: the rewrite also writes `data_hash`, a column it must never touch.
fn touch_data_hash(
    f: &OldFile,
    fields: &mut Vec<Field>,
    values: &mut [Vec<ArrayRef>],
) -> Result<()> {
    for (group, values) in f.groups.iter().zip(values.iter_mut()) {
        let touched: StringArray = (0..group[0].len())
            .map(|_| Some("0000000000000000"))
            .collect();
        values.push(Arc::new(touched));
    }
    fields.push(Field::new("data_hash", DataType::Utf8, true));
    Ok(())
}

/// Move the staged files into the table directory (rename, or copy across devices) and
/// flush them; the paths moved, so a failed commit can take them out again.
fn move_into_table(adds: &[Add], staging: &Path, root: &Path) -> Result<Vec<PathBuf>> {
    let mut moved = Vec::with_capacity(adds.len());
    for add in adds {
        let (from, to) = (staged(staging, &add.path), root.join(&add.path));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io("creating a partition directory", parent))?;
        }
        if std::fs::rename(&from, &to).is_err() {
            std::fs::copy(&from, &to)
                .map_err(Error::io("copying a rewritten file into the table", &to))?;
        }
        moved.push(to);
    }
    // The files and their directory entries are on disk before the log names them.
    crate::io::durable::sync_filesystem(root, "the rewritten files")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_staged_flat_by_their_unique_names() {
        let staging = Path::new("/runs/r1/staged");
        let first = paths::new_file(NaiveDate::from_ymd_opt(2026, 1, 20).unwrap());
        let second = paths::new_file(NaiveDate::from_ymd_opt(2026, 1, 21).unwrap());
        for relative in [&first, &second] {
            let path = staged(staging, relative);
            assert_eq!(
                path.parent(),
                Some(staging),
                "{relative} staged in a subdirectory"
            );
        }
        assert_ne!(staged(staging, &first), staged(staging, &second));
        assert_eq!(staged(staging, "top.parquet"), staging.join("top.parquet"));
    }
}
