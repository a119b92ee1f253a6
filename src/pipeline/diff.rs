//! `diff`: compare recomputed structs with the stored ones.
//!
//! Every record in range is classified once: skipped (a bootstrap date, unless
//! bootstrap dates are included), added (stored struct NULL), changed (any field
//! differs; contributing dates compared in order), or unchanged. The changed and added
//! rows, with the `updated_at` the export saw, become `changes.parquet`: the only rows
//! the merge writes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::model::completeness_column::{CompletenessBuilder, CompletenessColumn};
use crate::model::dates::SeasonCalendar;
use crate::model::{
    GAME_DATE, HISTORICAL_COMPLETENESS, HistoricalCompleteness, Label, PLAYER_LOOKUP, UPDATED_AT,
    days_to_date,
};
use crate::pipeline::compute::keys::KeyArrays;
use crate::pipeline::extended::{
    EXTENDED_COLUMN, ExtendedBuilder, ExtendedColumn, ExtendedCompleteness, extended_type,
};
use crate::report::{DateRow, Example, ExtendedSummary, FieldCounts, Report};

/// The column of `changes.parquet` holding the `updated_at` seen at export.
pub const EXPORTED_UPDATED_AT: &str = "exported_updated_at";
const MAX_EXAMPLES: usize = 10;

/// Schema of `changes.parquet`.
pub fn changes_schema() -> SchemaRef {
    changes_schema_for(false)
}

/// Schema of `changes.parquet`, with `historical_completeness_ext` when `extended`.
pub fn changes_schema_for(extended: bool) -> SchemaRef {
    let mut fields = vec![
        Field::new(PLAYER_LOOKUP, DataType::Utf8, false),
        Field::new(GAME_DATE, DataType::Date32, false),
        Field::new(
            HISTORICAL_COMPLETENESS,
            crate::model::completeness_type(),
            true,
        ),
        Field::new(
            EXPORTED_UPDATED_AT,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
    ];
    if extended {
        fields.push(Field::new(EXTENDED_COLUMN, extended_type(), true));
    }
    Arc::new(Schema::new(fields))
}

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

/// A stored record: its struct, extended struct and the updated_at the export saw.
struct Stored {
    value: Option<HistoricalCompleteness>,
    extended: Option<ExtendedCompleteness>,
    updated_at: Option<i64>,
}

/// Diff `results` (from compute) against `current` (the exported feature records).
pub fn diff(
    results: &[RecordBatch],
    current: &[RecordBatch],
    options: &DiffOptions,
    location: &str,
) -> Result<DiffOutcome> {
    let current_keys = crate::pipeline::compute::keys::keys_of_batches(current, location)?;
    let stored = index_current(current, &current_keys, location)?;
    let mut report = Report::default();
    let mut by_date: BTreeMap<NaiveDate, DateRow> = BTreeMap::new();
    let mut changes = ChangeRows {
        extended: options.extended.as_ref().map(|_| Vec::new()),
        ..ChangeRows::default()
    };
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
            let date = days_to_date(keys.dates.value(i));
            let Some(after) = structs.get(i) else {
                continue;
            };
            let Some(before) = stored.get(&(player, keys.dates.value(i))) else {
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
            let changed = classify(&mut report, row, player, date, before, &after);
            if after.label() == Label::Incomplete {
                incomplete.push((player.to_string(), date));
            }
            let new_ext = options
                .extended
                .as_ref()
                .map(|m| m.get(&(player.to_string(), keys.dates.value(i))));
            let ext_changed = match (&new_ext, report.extended.as_mut()) {
                (Some(new), Some(summary)) => note_extended(summary, before, *new),
                _ => false,
            };
            if changed || ext_changed {
                changes.push(player, date, &after, new_ext.flatten(), before.updated_at);
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
fn classify(
    report: &mut Report,
    row: &mut DateRow,
    player: &str,
    date: NaiveDate,
    before: &Stored,
    after: &HistoricalCompleteness,
) -> bool {
    let (row_count, total) = match after.label() {
        Label::Complete => (&mut row.complete, &mut report.after.complete),
        Label::Bootstrap => (&mut row.bootstrap, &mut report.after.bootstrap),
        Label::Incomplete => (&mut row.incomplete, &mut report.after.incomplete),
    };
    *row_count += 1;
    *total += 1;
    report.games_found_histogram[after.games_found.clamp(0, 10) as usize] += 1;
    let (kind, fields) = match &before.value {
        None => ("added", Vec::new()),
        Some(b) if b == after => {
            report.records.unchanged += 1;
            return false;
        }
        Some(b) => (
            "changed",
            changed_fields(b, after, &mut report.fields_changed),
        ),
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
            player_lookup: player.to_string(),
            game_date: date,
            kind: kind.to_string(),
            fields,
            before: before.value.clone(),
            after: after.clone(),
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

/// Index the exported records by key; a duplicate key is an input error.
fn index_current<'a>(
    current: &[RecordBatch],
    keys: &'a [KeyArrays],
    location: &str,
) -> Result<HashMap<(&'a str, i32), Stored>> {
    let mut index = HashMap::new();
    let mut first_row = 0;
    for (batch, keys) in current.iter().zip(keys) {
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
                value: structs.get(i),
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
    Ok(index)
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
#[derive(Default)]
struct ChangeRows {
    players: Vec<String>,
    dates: Vec<i32>,
    values: Vec<HistoricalCompleteness>,
    updated_at: Vec<Option<i64>>,
    /// The extended structs, when the run writes them.
    extended: Option<Vec<Option<ExtendedCompleteness>>>,
}

impl ChangeRows {
    fn push(
        &mut self,
        player: &str,
        date: NaiveDate,
        value: &HistoricalCompleteness,
        extended: Option<&ExtendedCompleteness>,
        updated_at: Option<i64>,
    ) {
        if let Some(list) = &mut self.extended {
            list.push(extended.cloned());
        }
        self.players.push(player.to_string());
        self.dates.push(crate::model::date_to_days(date));
        self.values.push(value.clone());
        self.updated_at.push(updated_at);
    }

    fn finish(self) -> Result<RecordBatch> {
        let mut structs = CompletenessBuilder::with_capacity(self.values.len());
        self.values.iter().for_each(|v| structs.append(Some(v)));
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(self.players)),
            Arc::new(arrow::array::Date32Array::from(self.dates)),
            Arc::new(structs.finish()),
            Arc::new(TimestampMicrosecondArray::from(self.updated_at).with_timezone("UTC")),
        ];
        if let Some(list) = &self.extended {
            let mut b = ExtendedBuilder::default();
            list.iter().for_each(|v| b.append(v.as_ref()));
            columns.push(Arc::new(b.finish()));
        }
        let schema = changes_schema_for(self.extended.is_some());
        RecordBatch::try_new(schema, columns).map_err(Error::arrow("building changes"))
    }
}
