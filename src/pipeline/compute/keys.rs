//! Extracting and validating the `(player_lookup, game_date)` keys of input batches.
//!
//! Player names are interned to dense `u32` ids so that the kernel works on integers.
//! Feature records must have both keys; game rows with a NULL key match nothing
//! (semantics.md) and are dropped here, as are games of players with no feature record.

use arrow::array::{Array, AsArray, RecordBatch, StringArray, StringViewArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Date32Type};

use crate::error::{Error, Result};
use crate::model::{GAME_DATE, PLAYER_LOOKUP};

/// The two key columns of one batch: names as read (see [`PlayerNames`]), dates as
/// `Date32`.
pub struct KeyArrays {
    pub players: PlayerNames,
    pub dates: arrow::array::Date32Array,
}

/// A `player_lookup` column, plain strings or string views, read in place: casting the
/// views of a Parquet file written by DataFusion copied every name (60 ms of a scale-30
/// compute).
pub enum PlayerNames {
    Plain(StringArray),
    View(StringViewArray),
}

impl PlayerNames {
    pub fn len(&self) -> usize {
        match self {
            PlayerNames::Plain(a) => a.len(),
            PlayerNames::View(a) => a.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_null(&self, i: usize) -> bool {
        match self {
            PlayerNames::Plain(a) => a.is_null(i),
            PlayerNames::View(a) => a.is_null(i),
        }
    }

    pub fn value(&self, i: usize) -> &str {
        match self {
            PlayerNames::Plain(a) => a.value(i),
            PlayerNames::View(a) => a.value(i),
        }
    }
}

/// Find and normalise the key columns of `batch`, whose first row is row `first_row` of
/// its input; `location` names the input in errors. Every date must be supported.
pub fn key_arrays(batch: &RecordBatch, location: &str, first_row: usize) -> Result<KeyArrays> {
    let players = column(batch, PLAYER_LOOKUP, location)?;
    let players = match players.data_type() {
        DataType::Utf8 => PlayerNames::Plain(players.as_string::<i32>().clone()),
        DataType::Utf8View => PlayerNames::View(players.as_string_view().clone()),
        DataType::LargeUtf8 => plain(cast_to(players, &DataType::Utf8)?),
        DataType::Dictionary(_, v)
            if matches!(
                v.as_ref(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            plain(cast_to(players, &DataType::Utf8)?)
        }
        other => return Err(wrong_type(location, PLAYER_LOOKUP, other, "STRING")),
    };
    let dates = column(batch, GAME_DATE, location)?;
    let dates = match dates.data_type() {
        DataType::Date32 => dates.clone(),
        DataType::Date64 => cast_to(dates, &DataType::Date32)?,
        other => return Err(wrong_type(location, GAME_DATE, other, "DATE (Date32)")),
    };
    let dates = dates.as_primitive::<Date32Type>().clone();
    check_dates(&dates, location, GAME_DATE, first_row)?;
    Ok(KeyArrays { players, dates })
}

/// Every date of `dates` is between 1900-01-01 and 2100-12-31, or the first one that is
/// not is an input error naming the input, the column and the row.
pub fn check_dates(
    dates: &arrow::array::Date32Array,
    location: &str,
    column: &str,
    first_row: usize,
) -> Result<()> {
    use crate::model::dates::{FIRST_DAY, LAST_DAY};
    let (Some(lo), Some(hi)) = (arrow::compute::min(dates), arrow::compute::max(dates)) else {
        return Ok(());
    };
    if lo >= FIRST_DAY && hi <= LAST_DAY {
        return Ok(());
    }
    let (i, day) = dates
        .iter()
        .enumerate()
        .find_map(|(i, d)| {
            d.filter(|d| !(FIRST_DAY..=LAST_DAY).contains(d))
                .map(|d| (i, d))
        })
        .expect("min or max is out of range");
    Err(Error::input(format!(
        "{location}: column `{column}` at row {}: {} is outside the supported dates (1900-01-01 to 2100-12-31)",
        first_row + i,
        describe_day(day)
    )))
}

/// A day number as a date where chrono can show one, else as the number.
fn describe_day(day: i32) -> String {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|e| e.checked_add_signed(chrono::Duration::days(day as i64)))
        .map_or(format!("day {day} since 1970-01-01"), |d| d.to_string())
}

fn column<'a>(
    batch: &'a RecordBatch,
    name: &str,
    location: &str,
) -> Result<&'a arrow::array::ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| {
        let names: Vec<_> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        Error::input(format!(
            "{location}: missing column `{name}` (columns present: {})",
            names.join(", ")
        ))
    })
}

fn plain(array: arrow::array::ArrayRef) -> PlayerNames {
    PlayerNames::Plain(array.as_string::<i32>().clone())
}

fn cast_to(array: &arrow::array::ArrayRef, to: &DataType) -> Result<arrow::array::ArrayRef> {
    cast(array, to).map_err(Error::arrow(format!("casting to {to}")))
}

fn wrong_type(location: &str, name: &str, found: &DataType, expected: &str) -> Error {
    Error::input(format!(
        "{location}: column `{name}` has type {found}, expected {expected}"
    ))
}

/// Dense ids for player names. The interner owns its (few thousand) distinct names, so
/// the input columns can be dropped as soon as their keys are read.
#[derive(Default)]
pub struct Interner {
    // aHash with fixed keys: names are not attacker-chosen hash floods here, and SipHash
    // was 8% of a scale-30 compute (callgrind).
    ids: crate::pipeline::FastMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    last: Option<u32>,
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> u32 {
        // Inputs are often sorted by player: a repeat of the last name skips the hash.
        if let Some(id) = self.last
            && *self.names[id as usize] == *name
        {
            return id;
        }
        let id = match self.ids.get(name) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.ids.insert(name.into(), id);
                self.names.push(name.into());
                id
            }
        };
        self.last = Some(id);
        id
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The names, indexed by id.
    pub fn into_names(self) -> Vec<Box<str>> {
        self.names
    }
}

/// `(player id, date)` of every feature record; a NULL key is an input error.
pub fn feature_pairs(
    arrays: &[KeyArrays],
    interner: &mut Interner,
    location: &str,
) -> Result<Vec<(u32, i32)>> {
    let total = arrays.iter().map(|a| a.players.len()).sum();
    let mut pairs = Vec::with_capacity(total);
    let mut row = 0usize;
    for a in arrays {
        for i in 0..a.players.len() {
            if a.players.is_null(i) || a.dates.is_null(i) {
                let name = if a.players.is_null(i) {
                    PLAYER_LOOKUP
                } else {
                    GAME_DATE
                };
                let other = if a.players.is_null(i) {
                    format_date(&a.dates, i)
                } else {
                    a.players.value(i).to_string()
                };
                return Err(Error::input(format!(
                    "{location}: NULL {name} in feature record at row {} ({other}); every feature record needs player_lookup and game_date",
                    row + i
                )));
            }
            pairs.push((interner.intern(a.players.value(i)), a.dates.value(i)));
        }
        row += a.players.len();
    }
    Ok(pairs)
}

fn format_date(dates: &arrow::array::Date32Array, i: usize) -> String {
    if dates.is_null(i) {
        "game_date NULL".into()
    } else {
        format!("game_date {}", crate::model::days_to_date(dates.value(i)))
    }
}

/// `(player id, date)` of every game row that can match a feature record, in input
/// order. Batches are looked up in parallel (the interner is read-only by now).
pub fn game_pairs(arrays: &[KeyArrays], interner: &Interner) -> Vec<(u32, i32)> {
    use rayon::prelude::*;
    let per_batch: Vec<Vec<(u32, i32)>> = arrays
        .par_iter()
        .map(|a| batch_game_pairs(a, interner))
        .collect();
    per_batch.concat()
}

/// [`game_pairs`] of one batch of game rows (starting at row `first_row` of its input),
/// straight from the batch.
pub fn game_pairs_of(
    batch: &RecordBatch,
    interner: &Interner,
    location: &str,
    first_row: usize,
) -> Result<Vec<(u32, i32)>> {
    Ok(batch_game_pairs(
        &key_arrays(batch, location, first_row)?,
        interner,
    ))
}

/// The key arrays of consecutive batches of one input, each checked with its rows'
/// positions in the input.
pub fn keys_of_batches(batches: &[RecordBatch], location: &str) -> Result<Vec<KeyArrays>> {
    let mut first_row = 0;
    batches
        .iter()
        .map(|b| {
            let keys = key_arrays(b, location, first_row);
            first_row += b.num_rows();
            keys
        })
        .collect()
}

fn batch_game_pairs(a: &KeyArrays, interner: &Interner) -> Vec<(u32, i32)> {
    let mut pairs = Vec::with_capacity(a.players.len());
    let mut last: Option<(&str, Option<u32>)> = None;
    for i in 0..a.players.len() {
        if a.players.is_null(i) || a.dates.is_null(i) {
            continue;
        }
        let name = a.players.value(i);
        let id = match last {
            Some((previous, id)) if previous == name => id,
            _ => interner.get(name),
        };
        last = Some((name, id));
        if let Some(id) = id {
            pairs.push((id, a.dates.value(i)));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    #[test]
    fn a_date_beyond_the_supported_years_names_input_column_and_row() {
        use arrow::array::Date32Array;
        let dates = Date32Array::from(vec![Some(20_000), None, Some(i32::MIN), Some(i32::MAX)]);
        let e = super::check_dates(&dates, "games input g.parquet", "game_date", 10).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "games input g.parquet: column `game_date` at row 12: day -2147483648 since 1970-01-01 is outside the supported dates (1900-01-01 to 2100-12-31)"
        );
        let ok = Date32Array::from(vec![-25_567, 47_846]);
        assert!(super::check_dates(&ok, "x", "game_date", 0).is_ok());
    }

    use arrow::array::{ArrayRef, Date32Array};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(players: ArrayRef) -> RecordBatch {
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![Some(1), Some(2), Some(3)]));
        let schema = Schema::new(vec![
            Field::new(PLAYER_LOOKUP, players.data_type().clone(), true),
            Field::new(GAME_DATE, DataType::Date32, true),
        ]);
        RecordBatch::try_new(Arc::new(schema), vec![players, dates]).unwrap()
    }

    /// Views, plain, large and dictionary strings give the same names and NULLs.
    #[test]
    fn every_string_encoding_reads_the_same_names() {
        let names = vec![Some("ann"), None, Some("a-rather-long-name-over-12-bytes")];
        let plain: ArrayRef = Arc::new(StringArray::from(names.clone()));
        let encodings = [
            DataType::Utf8,
            DataType::Utf8View,
            DataType::LargeUtf8,
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        ];
        for to in encodings {
            let array = cast(&plain, &to).unwrap();
            let keys = key_arrays(&batch(array), "test", 0).unwrap();
            let read: Vec<Option<&str>> = (0..keys.players.len())
                .map(|i| (!keys.players.is_null(i)).then(|| keys.players.value(i)))
                .collect();
            assert_eq!(read, names, "{to}");
        }
    }
}
