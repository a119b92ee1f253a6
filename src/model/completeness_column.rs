//! Arrow encoding and decoding of the `historical_completeness` struct column.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Date32Builder, Int64Builder, ListBuilder, StructArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Date32Type, Int64Type};

use crate::error::{Error, Result};
use crate::model::{HistoricalCompleteness, completeness_fields, date_to_days, days_to_date};

/// Builds a struct column row by row; `None` appends a NULL struct.
pub struct CompletenessBuilder {
    found: Int64Builder,
    expected: Int64Builder,
    complete: BooleanBuilder,
    bootstrap: BooleanBuilder,
    dates: ListBuilder<Date32Builder>,
    validity: Vec<bool>,
}

impl CompletenessBuilder {
    pub fn with_capacity(rows: usize) -> CompletenessBuilder {
        let field = match &completeness_fields()[4].data_type() {
            DataType::List(f) => f.clone(),
            _ => unreachable!("contributing_game_dates is a list"),
        };
        CompletenessBuilder {
            found: Int64Builder::with_capacity(rows),
            expected: Int64Builder::with_capacity(rows),
            complete: BooleanBuilder::with_capacity(rows),
            bootstrap: BooleanBuilder::with_capacity(rows),
            dates: ListBuilder::with_capacity(Date32Builder::with_capacity(rows * 10), rows)
                .with_field(field),
            validity: Vec::with_capacity(rows),
        }
    }

    /// Append one struct from its parts; `dates_newest_first` as Date32 days.
    pub fn append_parts(
        &mut self,
        found: i64,
        expected: i64,
        dates_newest_first: impl IntoIterator<Item = i32>,
    ) {
        self.found.append_value(found);
        self.expected.append_value(expected);
        self.complete.append_value(found >= expected);
        self.bootstrap
            .append_value(expected < crate::model::WINDOW_GAMES as i64);
        self.dates
            .values()
            .extend(dates_newest_first.into_iter().map(Some));
        self.dates.append(true);
        self.validity.push(true);
    }

    /// Append a value as it is (its flags are not recomputed).
    pub fn append(&mut self, value: Option<&HistoricalCompleteness>) {
        match value {
            Some(v) => {
                self.found.append_value(v.games_found);
                self.expected.append_value(v.games_expected);
                self.complete.append_value(v.is_complete);
                self.bootstrap.append_value(v.is_bootstrap);
                let days = v
                    .contributing_game_dates
                    .iter()
                    .map(|d| Some(date_to_days(*d)));
                self.dates.values().extend(days);
                self.dates.append(true);
                self.validity.push(true);
            }
            None => {
                self.found.append_null();
                self.expected.append_null();
                self.complete.append_null();
                self.bootstrap.append_null();
                self.dates.append(false);
                self.validity.push(false);
            }
        }
    }

    pub fn finish(mut self) -> StructArray {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.found.finish()),
            Arc::new(self.expected.finish()),
            Arc::new(self.complete.finish()),
            Arc::new(self.bootstrap.finish()),
            Arc::new(self.dates.finish()),
        ];
        let nulls = NullBuffer::from(self.validity);
        let nulls = (nulls.null_count() > 0).then_some(nulls);
        StructArray::new(completeness_fields(), columns, nulls)
    }
}

/// Read access to a struct column, checked once against the expected shape.
pub struct CompletenessColumn<'a> {
    array: &'a StructArray,
}

impl<'a> CompletenessColumn<'a> {
    /// Check that `array` has the five fields with the expected types.
    pub fn try_new(array: &'a dyn Array, location: &str) -> Result<CompletenessColumn<'a>> {
        let wrong = || {
            Error::input(format!(
                "{location}: column historical_completeness has type {}, expected {}",
                array.data_type(),
                crate::model::completeness_type()
            ))
        };
        let array = array.as_struct_opt().ok_or_else(wrong)?;
        let expected = completeness_fields();
        let fields = array.fields();
        let same_shape = fields.len() == expected.len()
            && fields.iter().zip(expected.iter()).all(|(a, b)| {
                a.name() == b.name() && same_type_ignoring_item_names(a.data_type(), b.data_type())
            });
        if !same_shape {
            return Err(wrong());
        }
        Ok(CompletenessColumn { array })
    }

    /// Every contributing date is supported (1900-01-01 to 2100-12-31), or the first
    /// that is not is an input error naming the row (numbered from `first_row`).
    pub fn check_dates(&self, location: &str, first_row: usize) -> Result<()> {
        use crate::model::dates::{FIRST_DAY, LAST_DAY};
        let list = self.array.column(4).as_list::<i32>();
        let values = list.values().as_primitive::<Date32Type>();
        let Some(at) = values
            .iter()
            .position(|d| d.is_some_and(|d| !(FIRST_DAY..=LAST_DAY).contains(&d)))
        else {
            return Ok(());
        };
        // The row whose list holds value `at`.
        let row = list.offsets().partition_point(|o| (*o as usize) <= at) - 1;
        Err(Error::input(format!(
            "{location}: column `historical_completeness.contributing_game_dates` at row {}: \
             {} is outside the supported dates (1900-01-01 to 2100-12-31)",
            first_row + row,
            days_to_date(values.value(at))
        )))
    }

    /// The value at row `i`, or `None` when the struct is NULL.
    pub fn get(&self, i: usize) -> Option<HistoricalCompleteness> {
        if self.array.is_null(i) {
            return None;
        }
        let c = self.array.columns();
        let int = |k: usize| {
            let a = c[k].as_primitive::<Int64Type>();
            (!a.is_null(i)).then(|| a.value(i))
        };
        let boolean = |k: usize| {
            let a = c[k].as_boolean();
            (!a.is_null(i)).then(|| a.value(i))
        };
        let list = c[4].as_list::<i32>();
        let dates = if list.is_null(i) {
            Vec::new()
        } else {
            let values = list.value(i);
            let values = values.as_primitive::<Date32Type>();
            values.iter().flatten().map(days_to_date).collect()
        };
        Some(HistoricalCompleteness {
            games_found: int(0).unwrap_or_default(),
            games_expected: int(1).unwrap_or_default(),
            is_complete: boolean(2).unwrap_or_default(),
            is_bootstrap: boolean(3).unwrap_or_default(),
            contributing_game_dates: dates,
        })
    }
}

/// Types equal up to the names of list items (`item` vs `element`) and nullability.
pub fn same_type_ignoring_item_names(a: &DataType, b: &DataType) -> bool {
    match (a, b) {
        (DataType::List(x), DataType::List(y))
        | (DataType::LargeList(x), DataType::LargeList(y)) => {
            same_type_ignoring_item_names(x.data_type(), y.data_type())
        }
        (DataType::Struct(x), DataType::Struct(y)) => {
            x.len() == y.len()
                && x.iter().zip(y.iter()).all(|(f, g)| {
                    f.name() == g.name()
                        && same_type_ignoring_item_names(f.data_type(), g.data_type())
                })
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn round_trips_values_nulls_and_empty_lists() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let full = HistoricalCompleteness {
            games_found: 2,
            games_expected: 3,
            is_complete: false,
            is_bootstrap: true,
            contributing_game_dates: vec![d("2025-01-03"), d("2025-01-03")],
        };
        let empty = HistoricalCompleteness {
            games_found: 0,
            games_expected: 0,
            is_complete: true,
            is_bootstrap: true,
            contributing_game_dates: vec![],
        };
        let mut b = CompletenessBuilder::with_capacity(3);
        b.append(Some(&full));
        b.append(None);
        b.append(Some(&empty));
        let array = b.finish();
        let col = CompletenessColumn::try_new(&array, "test").unwrap();
        assert_eq!(col.get(0), Some(full));
        assert_eq!(col.get(1), None);
        assert_eq!(col.get(2), Some(empty));
    }

    #[test]
    fn rejects_a_struct_of_another_shape() {
        let array = arrow::array::Int64Array::from(vec![1]);
        let err = CompletenessColumn::try_new(&array, "features.parquet")
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("features.parquet: column historical_completeness has type Int64")
        );
    }
}
