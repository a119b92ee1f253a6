//! `diff`: compare recomputed structs with the stored ones.
//!
//! Every record in range is classified once: skipped (a bootstrap date, unless
//! bootstrap dates are included), added (stored struct NULL), changed (any field
//! differs; contributing dates compared in order), or unchanged. The changed and added
//! rows, with the `updated_at` the export saw, become `changes.parquet`: the only rows
//! the merge writes.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, StringBuilder, TimestampMicrosecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::model::changes::changes_schema_for;
use crate::model::completeness_column::{CompletenessBuilder, CompletenessColumn};
use crate::model::dates::SeasonCalendar;
use crate::model::extended_column::{
    EXTENDED_COLUMN, ExtendedBuilder, ExtendedColumn, ExtendedCompleteness,
};
use crate::model::{
    HISTORICAL_COMPLETENESS, HistoricalCompleteness, Label, UPDATED_AT, days_to_date,
};
use crate::pipeline::compute::keys::KeyArrays;
use crate::report::{DateRow, Example, ExtendedSummary, FieldCounts, Report};

const MAX_EXAMPLES: usize = 10;

/// Options of a diff.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    pub calendar: SeasonCalendar,
    pub include_bootstrap: bool,
    /// `backfill --extended`: the new extended struct per key (player, Date32 days).
    pub extended: Option<Arc<HashMap<(String, i32), ExtendedCompleteness>>>,
}

/// The report (without run metadata) and the rows to write.
pub struct DiffOutcome {
    pub report: Report,
    pub changes: RecordBatch,
    /// The INCOMPLETE records computed, whose reasons the report names.
    pub incomplete: Vec<(String, NaiveDate)>,
}

/// A stored record: where its struct is (batch and row of the export), its extended
/// struct and the updated_at the export saw.
struct Stored {
    batch: usize,
    row: usize,
    extended: Option<ExtendedCompleteness>,
    updated_at: Option<i64>,
}

/// The exported records by key (player, Date32 days).
type StoredIndex<'a> = HashMap<(&'a str, i32), Stored, BuildHasherDefault<ahash::AHasher>>;

/// Diff `results` (from compute) against `current` (the exported feature records).
pub fn diff(
    results: &[RecordBatch],
    current: &[RecordBatch],
    options: &DiffOptions,
    location: &str,
) -> Result<DiffOutcome> {
    let current_keys = crate::pipeline::compute::keys::keys_of_batches(current, location)?;
    let (stored, stored_structs) = index_current(current, &current_keys, location)?;
    let mut report = Report::default();
    let mut by_date: BTreeMap<NaiveDate, DateRow> = BTreeMap::new();
    let rows: usize = results.iter().map(RecordBatch::num_rows).sum();
    let mut changes = ChangeRows::with_capacity(rows, options.extended.is_some());
    if options.extended.is_some() {
        report.extended = Some(Default::default());
    }
    let mut incomplete = Vec::new();
    let result_keys = crate::pipeline::compute::keys::keys_of_batches(results, "results")?;
    for (batch, keys) in results.iter().zip(result_keys) {
        let column = batch
            .column_by_name(HISTORICAL_COMPLETENESS)
            .ok_or_else(|| Error::input("results: missing column `historical_completeness`"))?;
        let structs = CompletenessColumn::try_new(column.as_ref(), "results")?;
        for i in 0..batch.num_rows() {
            let player = keys.players.value(i);
            let day = keys.dates.value(i);
            let date = days_to_date(day);
            if structs.is_null(i) {
                continue;
            }
            let Some(before) = stored.get(&(player, day)) else {
                return Err(Error::input(format!(
                    "results: ({player}, {date}) has no feature record in {location}"
                )));
            };
            let row = by_date.entry(date).or_insert_with(|| empty_row(date));
            row.total += 1;
            report.records.in_range += 1;
            if !options.include_bootstrap && options.calendar.is_bootstrap_date(date) {
                row.skipped += 1;
                report.records.skipped_bootstrap += 1;
                continue;
            }
            let record = Record {
                player,
                date,
                before: (&stored_structs[before.batch], before.row),
                after: (&structs, i),
            };
            let changed = classify(&mut report, row, &record);
            if Label::of(structs.is_complete(i), structs.is_bootstrap(i)) == Label::Incomplete {
                incomplete.push((player.to_string(), date));
            }
            let new_ext = options
                .extended
                .as_ref()
                .map(|m| m.get(&(player.to_string(), day)));
            let ext_changed = match (&new_ext, report.extended.as_mut()) {
                (Some(new), Some(summary)) => note_extended(summary, before, *new),
                _ => false,
            };
            if changed || ext_changed {
                changes.push(&record, new_ext.flatten(), before.updated_at);
            }
        }
    }
    report.records.computed = report.records.in_range - report.records.skipped_bootstrap;
    report.by_date = by_date.into_values().rev().collect();
    Ok(DiffOutcome {
        report,
        changes: changes.finish()?,
        incomplete,
    })
}

/// One record in range: its key, its stored struct and its recomputed one, each as a
/// row of a column (built into a value only where a report or example needs one).
struct Record<'a, 'c> {
    player: &'a str,
    date: NaiveDate,
    before: (&'c CompletenessColumn<'a>, usize),
    after: (&'c CompletenessColumn<'a>, usize),
}

impl Record<'_, '_> {
    fn before(&self) -> Option<HistoricalCompleteness> {
        self.before.0.get(self.before.1)
    }

    fn after(&self) -> HistoricalCompleteness {
        let (column, i) = self.after;
        column.get(i).expect("a recomputed record has a struct")
    }
}

/// Tally the new extended struct; whether it differs from the stored one.
fn note_extended(
    summary: &mut ExtendedSummary,
    before: &Stored,
    new: Option<&ExtendedCompleteness>,
) -> bool {
    if let Some(e) = new {
        let reason = e.incompleteness_reason.as_deref().unwrap_or("none");
        *summary.reasons.entry(reason.to_string()).or_default() += 1;
        summary.with_missing_games += u64::from(!e.missing_game_dates.is_empty());
    }
    let changed = before.extended.as_ref() != new;
    summary.changed += u64::from(changed);
    changed
}

/// Count the record in the report; whether its struct changes.
fn classify(report: &mut Report, row: &mut DateRow, record: &Record) -> bool {
    let (after, i) = record.after;
    let label = Label::of(after.is_complete(i), after.is_bootstrap(i));
    let (row_count, total) = match label {
        Label::Complete => (&mut row.complete, &mut report.after.complete),
        Label::Bootstrap => (&mut row.bootstrap, &mut report.after.bootstrap),
        Label::Incomplete => (&mut row.incomplete, &mut report.after.incomplete),
    };
    *row_count += 1;
    *total += 1;
    report.after_flags.is_bootstrap += u64::from(after.is_bootstrap(i));
    report.games_found_histogram[after.games_found(i).clamp(0, 10) as usize] += 1;
    let (before, j) = record.before;
    let (kind, fields) = if before.is_null(j) {
        ("added", Vec::new())
    } else if before.same_as(j, after, i) {
        report.records.unchanged += 1;
        return false;
    } else {
        let (b, a) = (record.before().expect("not NULL"), record.after());
        (
            "changed",
            changed_fields(&b, &a, &mut report.fields_changed),
        )
    };
    if kind == "added" {
        report.records.added += 1;
        row.added += 1;
    } else {
        report.records.changed += 1;
        row.changed += 1;
    }
    if report.examples.len() < MAX_EXAMPLES && (kind == "changed" || report.records.added <= 3) {
        report.examples.push(Example {
            player_lookup: record.player.to_string(),
            game_date: record.date,
            kind: kind.to_string(),
            fields,
            before: record.before(),
            after: record.after(),
        });
    }
    true
}

fn changed_fields(
    b: &HistoricalCompleteness,
    a: &HistoricalCompleteness,
    counts: &mut FieldCounts,
) -> Vec<String> {
    let mut fields = Vec::new();
    let mut note = |differs: bool, name: &str, counter: &mut u64| {
        if differs {
            *counter += 1;
            fields.push(name.to_string());
        }
    };
    note(
        b.games_found != a.games_found,
        "games_found",
        &mut counts.games_found,
    );
    note(
        b.games_expected != a.games_expected,
        "games_expected",
        &mut counts.games_expected,
    );
    note(
        b.is_complete != a.is_complete,
        "is_complete",
        &mut counts.is_complete,
    );
    note(
        b.is_bootstrap != a.is_bootstrap,
        "is_bootstrap",
        &mut counts.is_bootstrap,
    );
    note(
        b.contributing_game_dates != a.contributing_game_dates,
        "contributing_game_dates",
        &mut counts.contributing_game_dates,
    );
    fields
}

fn empty_row(game_date: NaiveDate) -> DateRow {
    DateRow {
        game_date,
        total: 0,
        added: 0,
        changed: 0,
        skipped: 0,
        complete: 0,
        incomplete: 0,
        bootstrap: 0,
        data_gaps: None,
    }
}

/// Index the exported records by key, with their struct columns (one per batch); a
/// duplicate key is an input error.
fn index_current<'a>(
    current: &'a [RecordBatch],
    keys: &'a [KeyArrays],
    location: &str,
) -> Result<(StoredIndex<'a>, Vec<CompletenessColumn<'a>>)> {
    let rows = current.iter().map(RecordBatch::num_rows).sum();
    let mut index = StoredIndex::with_capacity_and_hasher(rows, Default::default());
    let mut columns = Vec::with_capacity(current.len());
    let mut first_row = 0;
    for (b, (batch, keys)) in current.iter().zip(keys).enumerate() {
        let players = &keys.players;
        let column = batch
            .column_by_name(HISTORICAL_COMPLETENESS)
            .ok_or_else(|| {
                Error::input(format!(
                    "{location}: missing column `historical_completeness`"
                ))
            })?;
        let structs = CompletenessColumn::try_new(column.as_ref(), location)?;
        structs.check_dates(location, first_row)?;
        first_row += batch.num_rows();
        columns.push(structs);
        let extended = batch
            .column_by_name(EXTENDED_COLUMN)
            .map(|c| ExtendedColumn::try_new(c.as_ref(), location))
            .transpose()?;
        let updated = updated_at_micros(batch, location)?;
        for i in 0..batch.num_rows() {
            if players.is_null(i) || keys.dates.is_null(i) {
                return Err(Error::input(format!(
                    "{location}: NULL key in feature record at row {i}"
                )));
            }
            let key = (players.value(i), keys.dates.value(i));
            let stored = Stored {
                batch: b,
                row: i,
                extended: extended.as_ref().and_then(|e| e.get(i)),
                updated_at: (!updated.is_null(i)).then(|| updated.value(i)),
            };
            if index.insert(key, stored).is_some() {
                return Err(Error::input(format!(
                    "{location}: duplicate feature record for player_lookup {} on {}; the key (player_lookup, game_date) must be unique",
                    key.0,
                    days_to_date(key.1)
                )));
            }
        }
    }
    Ok((index, columns))
}

fn updated_at_micros(batch: &RecordBatch, location: &str) -> Result<TimestampMicrosecondArray> {
    let column = batch
        .column_by_name(UPDATED_AT)
        .ok_or_else(|| Error::input(format!("{location}: missing column `updated_at`")))?;
    let micros = cast(
        column,
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    )
    .map_err(|_| {
        Error::input(format!(
            "{location}: column `updated_at` has type {}, expected TIMESTAMP",
            column.data_type()
        ))
    })?;
    Ok(micros.as_primitive().clone())
}

/// Accumulates the rows of `changes.parquet`.
struct ChangeRows {
    players: StringBuilder,
    dates: Vec<i32>,
    structs: CompletenessBuilder,
    updated_at: Vec<Option<i64>>,
    /// The extended structs, when the run writes them.
    extended: Option<ExtendedBuilder>,
}

impl ChangeRows {
    fn with_capacity(rows: usize, extended: bool) -> ChangeRows {
        ChangeRows {
            players: StringBuilder::with_capacity(rows, rows * 16),
            dates: Vec::with_capacity(rows),
            structs: CompletenessBuilder::with_capacity(rows),
            updated_at: Vec::with_capacity(rows),
            extended: extended.then(ExtendedBuilder::default),
        }
    }

    fn push(
        &mut self,
        record: &Record,
        extended: Option<&ExtendedCompleteness>,
        updated_at: Option<i64>,
    ) {
        if let Some(builder) = &mut self.extended {
            builder.append(extended);
        }
        self.players.append_value(record.player);
        self.dates.push(crate::model::date_to_days(record.date));
        let (column, i) = record.after;
        self.structs.append_row(column, i);
        self.updated_at.push(updated_at);
    }

    fn finish(mut self) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.players.finish()),
            Arc::new(arrow::array::Date32Array::from(self.dates)),
            Arc::new(self.structs.finish()),
            Arc::new(TimestampMicrosecondArray::from(self.updated_at).with_timezone("UTC")),
        ];
        let extended = self.extended.is_some();
        if let Some(b) = self.extended {
            columns.push(Arc::new(b.finish()));
        }
        let schema = changes_schema_for(extended);
        RecordBatch::try_new(schema, columns).map_err(Error::arrow("building changes"))
    }
}
